//! Territory API: divisions, hierarchy, grids, point → grid lookup, GeoJSON import and export.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_app::territory as service;
use gongzhi_core::spatial::Crs;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Paging;
use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiResult, ErrorBody};
pub use gongzhi_app::territory::{city_of, locate, DivisionDetail, DivisionView, GridRef, HierarchyView, LookupResult};

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_divisions))
        .routes(routes!(get_division))
        .routes(routes!(get_hierarchy, put_hierarchy))
        .routes(routes!(list_grids))
        .routes(routes!(lookup))
        .routes(routes!(get_grid))
        .routes(routes!(import_grids))
}

#[derive(Deserialize, IntoParams)]
pub struct DivisionQuery {
    /// Children of this division; without it, the top of the city.
    pub parent: Option<String>,
    /// Only this level (city, district, street, community).
    pub level: Option<String>,
}

/// Divisions of the city (public): children of a parent, or all of one level.
#[utoipa::path(get, path = "/api/divisions", tag = "territory", params(DivisionQuery),
    responses((status = 200, body = Vec<DivisionView>), (status = 422, body = ErrorBody)))]
pub async fn list_divisions(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<DivisionQuery>,
) -> ApiResult<Json<Vec<DivisionView>>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(
        service::divisions(&s, city, q.parent.as_deref(), q.level.as_deref()).await?,
    ))
}

/// One division with its ancestry, its governance chain and its children (public).
#[utoipa::path(get, path = "/api/divisions/{code}", tag = "territory", params(("code" = String, Path, description = "GB/T 2260 code")),
    responses((status = 200, body = DivisionDetail), (status = 404, body = ErrorBody)))]
pub async fn get_division(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(code): Path<String>,
) -> ApiResult<Json<DivisionDetail>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(service::division_detail(&s, city, &code).await?))
}

/// The levels this city governs through (public).
#[utoipa::path(get, path = "/api/hierarchy", tag = "territory", responses((status = 200, body = HierarchyView)))]
pub async fn get_hierarchy(State(s): State<AppState>, MaybeAuth(p): MaybeAuth) -> ApiResult<Json<HierarchyView>> {
    Ok(Json(service::hierarchy(&s, city_of(&s, p.as_ref())).await?))
}

/// Change the hierarchy (administrators of the whole city). History is not rewritten.
#[utoipa::path(put, path = "/api/hierarchy", tag = "territory", request_body = HierarchyView, security(("bearer" = [])),
    responses((status = 200, body = HierarchyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_hierarchy(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(body): Json<HierarchyView>,
) -> ApiResult<Json<HierarchyView>> {
    Ok(Json(service::set_hierarchy(&s, &p, &body.levels).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct GridQuery {
    /// Only grids of this community (12-digit code).
    pub community: Option<String>,
    /// Only grids inside this division (any level).
    pub within: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Grids per page (default 100, at most 1000).
    pub page_size: Option<u32>,
}

/// Grids as a GeoJSON FeatureCollection (public boundaries and codes; households and population
/// only for staff whose jurisdiction covers the grid). Paged; `total`, `page`, `page_size` are
/// foreign members of the collection.
#[utoipa::path(get, path = "/api/grids", tag = "territory", params(GridQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection; properties.code is the grid code", body = Object), (status = 422, body = ErrorBody)))]
pub async fn list_grids(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<GridQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let (page, size) = Paging {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let within = q.community.as_deref().or(q.within.as_deref());
    let fc = service::grid_collection(&s, p.as_ref(), within, page, size).await?;
    Ok(Json(serde_json::to_value(fc).unwrap_or_default()))
}

/// One grid as a GeoJSON Feature.
#[utoipa::path(get, path = "/api/grids/{code}", tag = "territory", params(("code" = String, Path, description = "grid code")),
    responses((status = 200, description = "GeoJSON Feature", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_grid(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(code): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let feature = service::grid_feature(&s, p.as_ref(), &code).await?;
    Ok(Json(serde_json::to_value(feature).unwrap_or_default()))
}

#[derive(Deserialize, IntoParams)]
pub struct LookupQuery {
    /// Longitude.
    pub lng: f64,
    /// Latitude.
    pub lat: f64,
    /// Datum of the input: wgs84 (default), gcj02 (AMap, Tencent) or bd09 (Baidu).
    pub crs: Option<String>,
}

/// Which grid (and community, street, district) contains a point. A point in no grid falls to
/// its territorial unit (属地兜底): the smallest division whose area contains it, else the city.
#[utoipa::path(get, path = "/api/grids/lookup", tag = "territory", params(LookupQuery),
    responses((status = 200, body = LookupResult), (status = 422, body = ErrorBody)))]
pub async fn lookup(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<LookupResult>> {
    let city = city_of(&s, p.as_ref());
    let crs: Crs = q.crs.as_deref().unwrap_or("wgs84").parse()?;
    Ok(Json(locate(&s, city, crs, q.lng, q.lat).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Datum of the file's coordinates: wgs84 (default, as RFC 7946 says), gcj02 or bd09.
    pub crs: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    /// Grids in the file (added, updated or unchanged).
    pub imported: usize,
    /// Codes of the grids the import added.
    pub added: Vec<String>,
    /// Codes of the stored grids it changed (one event each).
    pub updated: Vec<String>,
    /// Codes of the grids already stored as the file has them (nothing written).
    pub unchanged: Vec<String>,
}

/// Import grids from a GeoJSON FeatureCollection (administrators of the grids' areas). One
/// transaction: any refused feature (reported with its index and reason) leaves nothing stored.
#[utoipa::path(post, path = "/api/grids/import", tag = "territory", params(ImportQuery), security(("bearer" = [])),
    request_body(content = Object, content_type = "application/geo+json"),
    responses((status = 200, body = ImportResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_grids(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ImportQuery>,
    body: String,
) -> ApiResult<(StatusCode, Json<ImportResult>)> {
    let crs: Crs = q.crs.as_deref().unwrap_or("wgs84").parse()?;
    let r = service::import_grids(&s, &p, &body, crs).await?;
    Ok((
        StatusCode::OK,
        Json(ImportResult {
            imported: r.added.len() + r.updated.len() + r.unchanged.len(),
            added: r.added,
            updated: r.updated,
            unchanged: r.unchanged,
        }),
    ))
}
