//! Micro-renewal needs and their integration (社区微更新 · 需求整合), under `/api/renewal/...`.
//!
//! Needs are the one needs list of the generalist grid (`grid_needs`): a need raised here is a
//! grid need in the grid at its point (or the community's, in no grid). Who may do what:
//! - a **verified resident** of the community (a Resident grant whose scope covers it) raises
//!   needs there (source `resident`) and sees the community's needs and clusters; anyone else
//!   without staff rights gets 403;
//! - **staff** of the community (ManageGrid on it: grid heads and workers of its grids for needs
//!   in their grids, community planners, administrators) raise needs on behalf of people met on
//!   visits (source `visit`) or at meetings (`meeting`), run the clustering, merge, split and
//!   rename clusters and link evidence cases.
//!
//! Parameters are data, per city: the settings `renewal_cluster_params`
//! ([`ClusterParams`](gongzhi_core::renewal::cluster::ClusterParams) as JSON) and
//! `renewal_evidence_rule` ([`EvidenceRule`](gongzhi_core::renewal::evidence::EvidenceRule)).
//! The handlers call `gongzhi_app::renewal_needs`, which decides.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gongzhi_app::renewal_needs as app;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::cases::PhotoAdded;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
pub use gongzhi_app::renewal_needs::{
    check_staff, check_view, cluster_params, cluster_views, community, evidence_rule, hour_value, is_staff, need,
    needs_view, run_clustering, ClusterDetail, ClusterStep, ClusterView, EvidenceOffer, EvidenceView, LinkEvidence,
    Merge, NeedView, NewCluster, RaiseNeed, Raised, Refreshed, Rename, RenewalSettings, Split, CLUSTER_PARAMS_SETTING,
    EVIDENCE_RULE_SETTING, HOUR_VALUE_SETTING, PHOTOS_PER_NEED,
};

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(raise_need, list_needs))
        .routes(routes!(add_photo))
        .routes(routes!(get_photo))
        .routes(routes!(evidence_offers, link_evidence))
        .routes(routes!(refresh))
        .routes(routes!(list_clusters))
        .routes(routes!(get_cluster))
        .routes(routes!(rename))
        .routes(routes!(merge))
        .routes(routes!(split))
        .routes(routes!(get_settings, put_settings))
}

/// Raise a need in a community: a verified resident raises their own; staff raise needs met on
/// visits or at meetings on behalf of people. The point must lie in the community.
#[utoipa::path(post, path = "/api/renewal/communities/{community}/needs", tag = "renewal", params(("community" = String, Path)),
    request_body = RaiseNeed, security(("bearer" = [])),
    responses((status = 201, body = Raised), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn raise_need(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(r): Json<RaiseNeed>,
) -> ApiResult<(StatusCode, Json<Raised>)> {
    Ok((StatusCode::CREATED, Json(app::raise(&s, &p, &code, r).await?)))
}

/// The needs of a community (its verified residents and staff).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/needs", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<NeedView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_needs(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<NeedView>>> {
    Ok(Json(app::list_needs(&s, &p, &code).await?))
}

/// Attach a photo to a need (the request body; its type is read from its bytes): its raiser or
/// staff.
#[utoipa::path(post, path = "/api/renewal/needs/{id}/photos", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PhotoAdded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn add_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<(StatusCode, Json<PhotoAdded>)> {
    let pid = app::add_photo(&s, &p, id, &upload.declared, &upload.bytes).await?;
    Ok((StatusCode::CREATED, Json(PhotoAdded::new(pid))))
}

/// A photo of a need: moved to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/renewal/needs/{id}/photos/{photo}", tag = "renewal", params(("id" = i64, Path), ("photo" = i64, Path)),
    security(("bearer" = [])), responses((status = 308, description = "the photo's one URL, /media/{id}"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, photo)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    Ok(crate::media::moved(app::photo_media(&s, &p, id, photo).await?))
}

/// The closed-loop cases that keep coming back near a need (the city's evidence rule), and the
/// cases linked to it (staff).
#[utoipa::path(get, path = "/api/renewal/needs/{id}/evidence", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = EvidenceView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence_offers(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<EvidenceView>> {
    Ok(Json(app::evidence(&s, &p, id).await?))
}

/// Link cases to a need as evidence (staff; an event on the need).
#[utoipa::path(post, path = "/api/renewal/needs/{id}/evidence", tag = "renewal", params(("id" = i64, Path)),
    request_body = LinkEvidence, security(("bearer" = [])),
    responses((status = 200, body = Vec<i64>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link_evidence(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(l): Json<LinkEvidence>,
) -> ApiResult<Json<Vec<i64>>> {
    Ok(Json(app::link_evidence(&s, &p, id, l).await?))
}

/// Run or refresh the clustering of a community's needs (staff). New needs join the cluster
/// holding their look-alikes or form new clusters; staff's merges and splits stay.
#[utoipa::path(post, path = "/api/renewal/communities/{community}/clusters/refresh", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Refreshed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refresh(State(s): State<AppState>, Auth(p): Auth, Path(code): Path<String>) -> ApiResult<Json<Refreshed>> {
    Ok(Json(app::refresh(&s, &p, &code).await?))
}

/// The clusters of a community with their counts, largest first (residents and staff).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/clusters", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<ClusterView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_clusters(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<ClusterView>>> {
    Ok(Json(app::list_clusters(&s, &p, &code).await?))
}

/// A cluster with its needs and its history of events.
#[utoipa::path(get, path = "/api/renewal/clusters/{id}", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = ClusterDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_cluster(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ClusterDetail>> {
    Ok(Json(app::cluster_detail(&s, &p, id).await?))
}

/// Rename a cluster (staff).
#[utoipa::path(post, path = "/api/renewal/clusters/{id}/rename", tag = "renewal", params(("id" = i64, Path)),
    request_body = Rename, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rename(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<Rename>,
) -> ApiResult<StatusCode> {
    app::rename(&s, &p, id, r).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Merge other clusters of the community into this one (staff).
#[utoipa::path(post, path = "/api/renewal/clusters/{id}/merge", tag = "renewal", params(("id" = i64, Path)),
    request_body = Merge, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(m): Json<Merge>,
) -> ApiResult<StatusCode> {
    app::merge(&s, &p, id, m).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/renewal/clusters/{id}/split", tag = "renewal", params(("id" = i64, Path)),
    request_body = Split, security(("bearer" = [])),
    responses((status = 201, body = NewCluster), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn split(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(x): Json<Split>,
) -> ApiResult<(StatusCode, Json<NewCluster>)> {
    Ok((StatusCode::CREATED, Json(app::split(&s, &p, id, x).await?)))
}

/// The clustering parameters, the evidence rule and the hour value (anyone logged in).
#[utoipa::path(get, path = "/api/renewal/settings", tag = "renewal", security(("bearer" = [])),
    responses((status = 200, body = RenewalSettings)))]
pub async fn get_settings(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<RenewalSettings>> {
    Ok(Json(app::settings(&s, &p).await?))
}

/// Replace the clustering parameters, the evidence rule and (when given) the hour value (city
/// administrators).
#[utoipa::path(put, path = "/api/renewal/settings", tag = "renewal", request_body = RenewalSettings, security(("bearer" = [])),
    responses((status = 200, body = RenewalSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(x): Json<RenewalSettings>,
) -> ApiResult<Json<RenewalSettings>> {
    Ok(Json(app::set_settings(&s, &p, x).await?))
}
