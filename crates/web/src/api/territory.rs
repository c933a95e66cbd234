//! Territory API: divisions, hierarchy, grids, point → grid lookup, GeoJSON import and export.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_core::access::Principal;
use gongzhi_core::grid::{self, Grid, GridCodePattern};
use gongzhi_core::spatial::Crs;
use gongzhi_core::territory::{Hierarchy, Level};
use gongzhi_store::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Paging;
use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
pub use gongzhi_app::territory::{locate, DivisionView, GridRef, LookupResult};

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

/// The city a request works in: the principal's, else the deployment's default.
pub fn city_of(state: &AppState, p: Option<&Principal>) -> String {
    p.map(|p| p.city.to_string())
        .unwrap_or_else(|| state.default_city.clone())
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
    let level = q.level.as_deref().map(str::parse::<Level>).transpose()?;
    let ds = s.store.child_divisions(&city, q.parent.as_deref(), level).await?;
    Ok(Json(ds.iter().map(DivisionView::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct DivisionDetail {
    pub division: DivisionView,
    /// From the city down to this division (the full GB/T 2260 chain).
    pub ancestry: Vec<DivisionView>,
    /// The part of the ancestry the configured hierarchy governs through.
    pub chain: Vec<DivisionView>,
    pub children: Vec<DivisionView>,
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
    let d = s
        .store
        .division(&city, &code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("division {code}")))?;
    let ancestry = s.store.ancestry(&city, &code).await?;
    let hierarchy = s.store.hierarchy(&city).await?;
    let children = s.store.child_divisions(&city, Some(&code), None).await?;
    Ok(Json(DivisionDetail {
        division: (&d).into(),
        chain: hierarchy.chain(&ancestry).into_iter().map(DivisionView::from).collect(),
        ancestry: ancestry.iter().map(DivisionView::from).collect(),
        children: children.iter().map(DivisionView::from).collect(),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HierarchyView {
    /// Levels top to bottom, e.g. ["city","district","street","community","grid"].
    pub levels: Vec<String>,
    pub flat: bool,
}

/// The levels this city governs through (public).
#[utoipa::path(get, path = "/api/hierarchy", tag = "territory", responses((status = 200, body = HierarchyView)))]
pub async fn get_hierarchy(State(s): State<AppState>, MaybeAuth(p): MaybeAuth) -> ApiResult<Json<HierarchyView>> {
    let h = s.store.hierarchy(&city_of(&s, p.as_ref())).await?;
    Ok(Json(HierarchyView {
        levels: h.levels().iter().map(|l| l.to_string()).collect(),
        flat: h.is_flat(),
    }))
}

/// Change the hierarchy (administrators of the whole city). History is not rewritten.
#[utoipa::path(put, path = "/api/hierarchy", tag = "territory", request_body = HierarchyView, security(("bearer" = [])),
    responses((status = 200, body = HierarchyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_hierarchy(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(body): Json<HierarchyView>,
) -> ApiResult<Json<HierarchyView>> {
    let city = p.city.to_string();
    gongzhi_app::territory::require_manage(
        &p,
        &city,
        "changing the hierarchy needs an administrator of the whole city",
    )?;
    let h = Hierarchy::new(body.levels.iter().map(|l| l.parse()).collect::<Result<_, _>>()?)?;
    s.store.set_hierarchy(&city, &h, Some(p.person_id)).await?;
    Ok(Json(HierarchyView {
        levels: h.levels().iter().map(|l| l.to_string()).collect(),
        flat: h.is_flat(),
    }))
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

fn feature_collection(
    grids: &[Grid],
    p: Option<&Principal>,
    extra: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    let features: Vec<geojson::Feature> = grids
        .iter()
        .map(|g| g.to_feature(gongzhi_app::territory::may_see_grid_details(p, g.code.as_str())))
        .collect();
    let fc = geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(extra),
    };
    serde_json::to_value(fc).unwrap_or_default()
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
    let city = city_of(&s, p.as_ref());
    let within = q.community.as_deref().or(q.within.as_deref());
    if let Some(w) = within {
        gongzhi_core::territory::DivisionCode::parse(w)?;
    }
    let found = s.store.grids(&city, within, page, size).await?;
    let mut extra = serde_json::Map::new();
    extra.insert("total".into(), found.total.into());
    extra.insert("page".into(), page.into());
    extra.insert("page_size".into(), size.into());
    Ok(Json(feature_collection(&found.grids, p.as_ref(), extra)))
}

/// One grid as a GeoJSON Feature.
#[utoipa::path(get, path = "/api/grids/{code}", tag = "territory", params(("code" = String, Path, description = "grid code")),
    responses((status = 200, description = "GeoJSON Feature", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_grid(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(code): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let city = city_of(&s, p.as_ref());
    let g = s
        .store
        .grid(&city, &code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("grid {code}")))?;
    let detail = gongzhi_app::territory::may_see_grid_details(p.as_ref(), g.code.as_str());
    Ok(Json(serde_json::to_value(g.to_feature(detail)).unwrap_or_default()))
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
    Ok(Json(locate(&s, &city, crs, q.lng, q.lat).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Datum of the file's coordinates: wgs84 (default, as RFC 7946 says), gcj02 or bd09.
    pub crs: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub imported: usize,
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
    let city = p.city.to_string();
    gongzhi_app::territory::require_manage_all(&p, [], "grids")?;
    let grids = grid::parse_grid_collection(&body, crs, &GridCodePattern::default())
        .map_err(gongzhi_store::StoreError::Rejected)?;
    gongzhi_app::territory::require_manage_all(
        &p,
        grids.iter().map(|g| (g.code.as_str(), g.code.as_str())),
        "grid(s)",
    )?;
    let n = s.store.import_grids(&city, &grids, Some(p.person_id), None).await?;
    s.index.rebuild(&s.store, &city).await?;
    Ok((StatusCode::OK, Json(ImportResult { imported: n })))
}
