//! Premises API: buildings and units (the territory register's smallest parts), read by the grid
//! teams and staff of the area, imported from CSV or XLSX by its administrators.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use gongzhi_core::access::Principal;
use gongzhi_core::premises::{self, Building, Unit};
use gongzhi_core::table::Table;
use gongzhi_store::prelude::*;
use gongzhi_store::{PremisesImported, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_buildings))
        .routes(routes!(get_building))
        .routes(routes!(import_premises))
}

#[derive(Deserialize, IntoParams)]
pub struct BuildingQuery {
    /// A community code (12 digits).
    pub community: Option<String>,
    /// A grid code; takes precedence over `community`.
    pub grid: Option<String>,
}

/// Where a building lies, for access checks: its grid, else its community.
fn scope_of(b: &Building) -> &str {
    b.grid.as_ref().map(|g| g.as_str()).unwrap_or(b.community.as_str())
}

fn may_view(p: &Principal, b: &Building) -> bool {
    gongzhi_app::territory::may_see_grid_details(Some(p), scope_of(b))
}

/// The buildings of a grid or community that the caller may see (grid teams and staff above).
#[utoipa::path(get, path = "/api/premises", tag = "territory", params(BuildingQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_buildings(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<BuildingQuery>,
) -> ApiResult<Json<Vec<Building>>> {
    if q.grid.is_none() && q.community.is_none() {
        return Err(ApiError::invalid("give ?community=CODE or ?grid=CODE"));
    }
    gongzhi_app::territory::require_premises_reader(&p)?;
    let city = p.city.to_string();
    let found = s
        .store
        .buildings(&city, q.community.as_deref(), q.grid.as_deref())
        .await?;
    Ok(Json(found.into_iter().filter(|b| may_view(&p, b)).collect()))
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

/// One building with its units, floor by floor.
#[utoipa::path(get, path = "/api/premises/{building}", tag = "territory", params(("building" = String, Path, description = "building code")),
    security(("bearer" = [])), responses((status = 200, body = BuildingDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_building(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<BuildingDetail>> {
    let city = p.city.to_string();
    // A building the caller may not see is "not found", so that codes cannot be probed.
    let building = s
        .store
        .building(&city, &code)
        .await?
        .filter(|b| may_view(&p, b))
        .ok_or_else(|| ApiError::not_found(format!("building {code}")))?;
    let units = s.store.units(&city, &code).await?;
    let total: premises::Area = units.iter().map(|u| u.area).sum();
    Ok(Json(BuildingDetail {
        building,
        units,
        total_area_m2: total.to_string(),
    }))
}

/// Import buildings and units from a CSV (UTF-8) or XLSX file, one row per unit with the
/// building's columns repeated: `building, building_name, community, grid, address, lng, lat,
/// floors, unit, label, floor, area_m2, use`. All or nothing: a wrong line is reported with its
/// number and reason, and nothing of the file is stored.
#[utoipa::path(post, path = "/api/premises/import", tag = "territory", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_premises(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> ApiResult<Json<PremisesImported>> {
    gongzhi_app::territory::require_manage_all(&p, [], "premises")?;
    let table = Table::from_bytes(&body).map_err(|e| StoreError::Lines(vec![e]))?;
    let parsed = premises::parse_premises(&table).map_err(StoreError::Lines)?;
    gongzhi_app::territory::require_manage_all(
        &p,
        parsed.buildings.iter().map(|b| (b.code.as_str(), b.community.as_str())),
        "building(s)",
    )?;
    Ok(Json(
        s.store
            .import_premises(&p.city.to_string(), &parsed, Some(p.person_id))
            .await?,
    ))
}
