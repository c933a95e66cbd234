//! Micro-renewal indicators (微更新指标) of an area and period: who may see them and the query
//! (definitions in `gongzhi_core::renewal::indicators`). The API, the dashboard and the map
//! show the same figures.

use chrono::NaiveDate;
use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::renewal::indicators::{compute, RenewalIndicators};
use gongzhi_store::prelude::*;

use crate::{AppError, AppResult, AppState};

/// Whether `p` may see the renewal indicators of `area`: staff of its cases, its grids or its
/// renewal.
pub fn may_see(p: &Principal, area: &str) -> bool {
    [
        Permission::ViewCases,
        Permission::ViewGridDetails,
        Permission::RunRenewal,
    ]
    .into_iter()
    .any(|x| p.may(x, area))
}

/// The indicators of an area (a division code) over the local days `from ..= to`.
pub async fn of_area(
    s: &AppState,
    city: CityCode,
    area: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<RenewalIndicators> {
    let facts = s.store.analytic().renewal_facts(city, area, from, to).await?;
    Ok(compute(&facts, crate::renewal_needs::hour_value(s, city).await?))
}

/// Refuse unless [`may_see`].
pub fn require(p: &Principal, area: &str) -> AppResult<()> {
    if may_see(p, area) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "the renewal indicators of {area} are seen by staff whose jurisdiction covers it"
        )))
    }
}

/// The indicators of a division over the local days `from ..= to`, with the division, for staff
/// whose jurisdiction covers it.
pub async fn of_division(
    s: &AppState,
    p: &Principal,
    within: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<(gongzhi_core::territory::Division, RenewalIndicators)> {
    let city = p.city;
    let division = s
        .store
        .division(city, within)
        .await?
        .ok_or_else(|| AppError::not_found(format!("division {within} (give a division code as within)")))?;
    require(p, within)?;
    Ok((division, of_area(s, city, within, from, to).await?))
}
