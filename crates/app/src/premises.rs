//! Premises: buildings and units (the territory register's smallest parts), read by the grid
//! teams and staff of the area, imported from CSV or XLSX by its administrators.

use gongzhi_core::access::Principal;
use gongzhi_core::premises::{self, Building, Unit};
use gongzhi_core::table::Table;
use gongzhi_store::prelude::*;
pub use gongzhi_store::PremisesImported;
use gongzhi_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::territory::{may_see_grid_details, require_manage_all, require_premises_reader};
use crate::{AppError, AppResult, AppState};

/// Where a building lies, for access checks: its grid, else its community.
fn scope_of(b: &Building) -> &str {
    b.grid.as_ref().map(|g| g.as_str()).unwrap_or(b.community.as_str())
}

/// Whether the principal may see a building: its grid team and the staff above it.
pub fn may_view(p: &Principal, b: &Building) -> bool {
    may_see_grid_details(Some(p), scope_of(b))
}

/// The buildings of a grid (when given) or community that the principal may see.
pub async fn buildings(
    s: &AppState,
    p: &Principal,
    community: Option<&str>,
    grid: Option<&str>,
) -> AppResult<Vec<Building>> {
    if grid.is_none() && community.is_none() {
        return Err(AppError::invalid("give ?community=CODE or ?grid=CODE"));
    }
    require_premises_reader(p)?;
    let found = s.store.buildings(p.city, community, grid).await?;
    Ok(found.into_iter().filter(|b| may_view(p, b)).collect())
}

#[derive(Serialize, ToSchema)]
pub struct BuildingDetail {
    #[schema(value_type = Object)]
    pub building: Building,
    #[schema(value_type = Vec<Object>)]
    pub units: Vec<Unit>,
    /// Total floor area of the units, m² with two decimals.
    pub total_area_m2: String,
}

/// One building with its units, floor by floor; a building the principal may not see is "not
/// found", so that codes cannot be probed.
pub async fn building(s: &AppState, p: &Principal, code: &str) -> AppResult<BuildingDetail> {
    let city = p.city;
    let building = s
        .store
        .building(city, code)
        .await?
        .filter(|b| may_view(p, b))
        .ok_or_else(|| AppError::not_found(format!("building {code}")))?;
    let units = s.store.units(city, code).await?;
    let total: premises::Area = units.iter().map(|u| u.area).sum();
    Ok(BuildingDetail {
        building,
        units,
        total_area_m2: total.to_string(),
    })
}

/// Import buildings and units from a CSV (UTF-8) or XLSX file: by `by`, an administrator of
/// every building's community, or (`None`) by the operator at the command line. All or nothing:
/// each wrong line is in the error's items.
pub async fn import(s: &AppState, by: Option<&Principal>, city: CityCode, file: &[u8]) -> AppResult<PremisesImported> {
    if let Some(p) = by {
        require_manage_all(p, [], "premises")?;
    }
    let table = Table::from_bytes(file).map_err(|e| StoreError::Lines(vec![e]))?;
    let parsed = premises::parse_premises(&table).map_err(StoreError::Lines)?;
    if let Some(p) = by {
        require_manage_all(
            p,
            parsed.buildings.iter().map(|b| (b.code.as_str(), b.community.as_str())),
            "building(s)",
        )?;
    }
    Ok(s.store.import_premises(city, &parsed, by.map(|p| p.person_id)).await?)
}

/// Every building inside `within` (a community, or a grid when longer than 12 digits) with its
/// units, for the operator's export at the command line.
pub async fn register_of(s: &AppState, city: CityCode, within: &str) -> AppResult<Vec<(Building, Vec<Unit>)>> {
    let (community, grid) = if within.len() > 12 {
        (None, Some(within))
    } else {
        (Some(within), None)
    };
    let mut out = Vec::new();
    for b in s.store.buildings(city, community, grid).await? {
        let units = s.store.units(city, &b.code).await?;
        out.push((b, units));
    }
    Ok(out)
}
