//! Premises API: buildings and units (the territory register's smallest parts), read by the grid
//! teams and staff of the area, imported from CSV or XLSX by its administrators.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
pub use gongzhi_app::premises::BuildingDetail;
use gongzhi_app::premises::{self as service, PremisesImported};
use gongzhi_core::premises::Building;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
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

/// The buildings of a grid or community that the caller may see (grid teams and staff above).
#[utoipa::path(get, path = "/api/premises", tag = "territory", params(BuildingQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_buildings(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<BuildingQuery>,
) -> ApiResult<Json<Vec<Building>>> {
    Ok(Json(
        service::buildings(&s, &p, q.community.as_deref(), q.grid.as_deref()).await?,
    ))
}

/// One building with its units, floor by floor.
#[utoipa::path(get, path = "/api/premises/{building}", tag = "territory", params(("building" = String, Path, description = "building code")),
    security(("bearer" = [])), responses((status = 200, body = BuildingDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_building(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<BuildingDetail>> {
    Ok(Json(service::building(&s, &p, &code).await?))
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
    let city = p.city;
    Ok(Json(service::import(&s, Some(&p), city, &body).await?))
}
