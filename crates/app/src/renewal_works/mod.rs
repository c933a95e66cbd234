//! Micro-renewal works and their co-produced delivery (社区微更新 · 共建): who runs delivery in a
//! community (renewal staff: planners, administrators), who takes part (its verified residents),
//! and which departments a principal may register works for; the commands and queries of
//! departments' planned works and their bundles ([`works`]) and of delivery projects with their
//! milestones, spending, contributions, upkeep and acceptance survey ([`delivery`]), for the JSON
//! API, the pages and the CLI alike.
//!
//! Who may do what: plans, bundles, delivery projects and their figures are public within the
//! city; departments' handlers register works for their own organisation, renewal staff (the
//! `deliver_renewal` permission in the community: planners, administrators) for any, and they
//! accept bundles and run delivery projects; verified residents of the community (a `resident`
//! grant covering it) offer contributions, check in on upkeep and answer the acceptance survey.

use gongzhi_core::territory::CityCode;
use std::collections::BTreeSet;

use chrono::NaiveDate;
use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::renewal::works::Place;

use crate::people::is_resident_of;
use crate::{AppError, AppResult, AppState};

pub mod delivery;
pub mod works;

pub use delivery::*;
pub use works::*;

/// Today in Beijing time.
pub use gongzhi_core::calendar::china_today as today;
/// The rows and views of the store that this feature answers with.
pub use gongzhi_store::{BundleRow, DeliveryDetail, DeliveryRow, SupervisedMilestone, WorkRow};

/// Whether the principal runs delivery in the community (community planners, administrators).
pub fn is_staff(p: &Principal, community: &str) -> bool {
    p.may(Permission::DeliverRenewal, community)
}

/// Whether the principal runs delivery anywhere (lists across communities).
pub fn is_staff_somewhere(p: &Principal) -> bool {
    p.may_somewhere(Permission::DeliverRenewal)
}

/// Renewal staff of the community, or forbidden.
pub fn require_staff(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "only renewal staff of community {community} (community planners, administrators) may do this"
        )))
    }
}

/// Whether the principal takes part in the community's delivery (contributions, check-ins):
/// its verified residents and its renewal staff.
pub fn may_take_part(p: &Principal, community: &str) -> bool {
    is_staff(p, community) || is_resident_of(p, community)
}

/// Refuse unless [`may_take_part`]; `what` says what was asked.
pub fn require_take_part(p: &Principal, community: &str, what: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "only residents of community {community} and renewal staff may {what}"
        )))
    }
}

/// The departments `p` may register works for in `community`: any (None) for staff, else the
/// principal's own organisations.
pub fn departments_for(p: &Principal, community: &str) -> Option<BTreeSet<i64>> {
    if is_staff(p, community) {
        None
    } else {
        Some(p.units().into_iter().collect())
    }
}

/// The city a reader sees: a logged-in principal's, else the one served to visitors.
pub fn city_of(s: &AppState, p: Option<&Principal>) -> CityCode {
    p.map_or(s.default_city, |p| p.city)
}

fn parse_day(field: &str, s: &str) -> AppResult<NaiveDate> {
    s.trim()
        .parse()
        .map_err(|_| AppError::invalid(format!("{field}: '{s}' is not a date like 2026-05-01")))
}

/// A given day, or today when absent or blank.
fn day_or_today(field: &str, s: Option<&str>) -> AppResult<NaiveDate> {
    match s.filter(|d| !d.trim().is_empty()) {
        Some(d) => parse_day(field, d),
        None => Ok(today()),
    }
}

fn place_of(v: &serde_json::Value) -> AppResult<Place> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Place::from_geojson(&text)?)
}

/// Mark the milestones of the city that are late on `today` (督办), for the background sweep;
/// how many were marked.
pub async fn supervise(s: &AppState, city: CityCode, today: NaiveDate) -> AppResult<usize> {
    use gongzhi_store::prelude::DeliveryStore;
    Ok(s.store.supervise_milestones(city, today).await?)
}
