//! Micro-renewal works and delivery (项目整合 · 共建): departments' planned works (JSON or a
//! CSV/XLSX file, all or nothing), bundles of works and delivery projects that meet in space and
//! time with their lead, schedule and savings, the before/after report, delivery projects with
//! milestones (photos, supervision of late ones), spending, contributions, upkeep and the
//! residents' acceptance survey.
//!
//! Who may do what: plans, bundles, delivery projects and their figures are public within the
//! city; departments' handlers register works for their own organisation, renewal staff (the
//! `deliver_renewal` permission in the community: planners, administrators) for any, and they
//! accept bundles and run delivery projects; verified residents of the community (a `resident`
//! grant covering it) offer contributions, check in on upkeep and answer the acceptance survey.
//! All of it is decided in `gongzhi_app::renewal_works`; these handlers only extract and answer.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_app::renewal_works as app;
/// Today in Beijing time.
pub use gongzhi_app::renewal_works::today;
/// The window of the deliveries started from a vote (the vote results page builds one).
pub use gongzhi_app::renewal_works::DeliverFunded;
use gongzhi_app::renewal_works::{
    AcceptBundle, AcceptanceAnswer, BundleDetail, BundleQuery, BundleRow, BundlesView, CommunityQuery, DeliveryRow,
    DeliveryView, Done, NewCheckin, NewContribution, NewDeliveryRequest, NewMilestone, NewSpending, NewUpkeep,
    NewWorkRequest, SupervisedMilestone, WorkRow,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_works, create_work))
        .routes(routes!(import_works))
        .routes(routes!(export_works))
        .routes(routes!(list_bundles, accept_bundle))
        .routes(routes!(get_bundle))
        .routes(routes!(list_deliveries, create_delivery))
        .routes(routes!(deliver_funded))
        .routes(routes!(get_delivery))
        .routes(routes!(add_milestone))
        .routes(routes!(complete_milestone))
        .routes(routes!(add_photo))
        .routes(routes!(get_photo))
        .routes(routes!(add_spending))
        .routes(routes!(add_contribution))
        .routes(routes!(add_upkeep))
        .routes(routes!(add_checkin))
        .routes(routes!(answer_acceptance))
        .routes(routes!(supervision))
}

/// The planned works of a community (or the city). Public.
#[utoipa::path(get, path = "/api/renewal/works", tag = "renewal", params(CommunityQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list_works(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<WorkRow>>> {
    Ok(Json(app::works(&s, p.as_ref(), q.community.as_deref()).await?))
}

/// Register one work (a department's handler for their department, renewal staff for any).
#[utoipa::path(post, path = "/api/renewal/works", tag = "renewal", security(("bearer" = [])), request_body = NewWorkRequest,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_work(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<NewWorkRequest>,
) -> ApiResult<Json<WorkRow>> {
    Ok(Json(app::create_work(&s, &p, &r).await?))
}

/// What an import did: how many rows the file had, each row's work id, and the works (by id)
/// it `added`, `updated` (one event each) and left `unchanged` (nothing written). Works are keyed
/// by (department, reference): a re-import of the same file adds nothing.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
    pub ids: Vec<i64>,
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Import works from CSV or XLSX: `reference, title, kind, community, department, from, to,
/// budget_yuan, geometry` (GeoJSON). All or nothing; every wrong line is listed in `details`.
#[utoipa::path(post, path = "/api/renewal/works/import", tag = "renewal", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Imported), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_works(State(s): State<AppState>, Auth(p): Auth, body: Bytes) -> ApiResult<Json<Imported>> {
    let r = app::import(&s, &p, &body).await?;
    Ok(Json(Imported {
        imported: r.rows.len(),
        ids: r.rows.iter().map(|r| r.id).collect(),
        added: r.report.added,
        updated: r.report.updated,
        unchanged: r.report.unchanged,
    }))
}

/// The works as a CSV file in the import's columns. Public.
#[utoipa::path(get, path = "/api/renewal/works/export", tag = "renewal", params(CommunityQuery),
    responses((status = 200, body = String, content_type = "text/csv")))]
pub async fn export_works(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Response> {
    let csv = app::export(&s, p.as_ref(), q.community.as_deref()).await?.csv;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// Bundles of a community: the proposed ones with lead, schedule and savings, the accepted ones,
/// and the before/after report. Public.
#[utoipa::path(get, path = "/api/renewal/bundles", tag = "renewal", params(BundleQuery),
    responses((status = 200, body = BundlesView), (status = 422, body = ErrorBody)))]
pub async fn list_bundles(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<BundleQuery>,
) -> ApiResult<Json<BundlesView>> {
    Ok(Json(app::bundles(&s, p.as_ref(), &q).await?))
}

/// Accept a proposed bundle: it becomes one tracked project (renewal staff). The items must be
/// exactly those of a bundle proposed with the same parameters.
#[utoipa::path(post, path = "/api/renewal/bundles", tag = "renewal", security(("bearer" = [])), request_body = AcceptBundle,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_bundle(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<AcceptBundle>,
) -> ApiResult<Json<BundleRow>> {
    Ok(Json(app::accept_bundle(&s, &p, &r).await?))
}

#[utoipa::path(get, path = "/api/renewal/bundles/{id}", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = BundleDetail), (status = 404, body = ErrorBody)))]
pub async fn get_bundle(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<BundleDetail>> {
    Ok(Json(app::bundle(&s, p.as_ref(), id).await?))
}

/// The delivery projects of a community (or the city). Public.
#[utoipa::path(get, path = "/api/renewal/deliveries", tag = "renewal", params(CommunityQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<DeliveryRow>>> {
    Ok(Json(app::deliveries(&s, p.as_ref(), q.community.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/renewal/deliveries", tag = "renewal", security(("bearer" = [])), request_body = NewDeliveryRequest,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_delivery(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<NewDeliveryRequest>,
) -> ApiResult<Json<DeliveryRow>> {
    Ok(Json(app::create_delivery(&s, &p, &r).await?))
}

/// Start a delivery project (共建项目) for every proposal a closed vote funded that has none yet,
/// with the proposal's title, site and budget and the given window (renewal staff). The answer
/// lists the deliveries started; doing it again starts none.
#[utoipa::path(post, path = "/api/renewal/votes/{id}/deliveries", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), request_body = DeliverFunded,
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deliver_funded(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(vote): Path<i64>,
    Json(r): Json<DeliverFunded>,
) -> ApiResult<Json<Vec<DeliveryRow>>> {
    Ok(Json(app::start_funded(&s, &p, vote, &r).await?))
}

/// A delivery project with milestones, progress, spending, contributions, upkeep, acceptance and
/// warnings. Public (acceptance answers carry no names).
#[utoipa::path(get, path = "/api/renewal/deliveries/{id}", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody)))]
pub async fn get_delivery(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeliveryView>> {
    Ok(Json(app::delivery(&s, p.as_ref(), id).await?))
}

/// Add a milestone (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/milestones", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewMilestone,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_milestone(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewMilestone>,
) -> ApiResult<Json<serde_json::Value>> {
    let m = app::add_milestone(&s, &p, id, &r).await?;
    Ok(Json(serde_json::json!({ "id": m })))
}

/// Mark a milestone done (renewal staff; once).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/milestones/{milestone}/done", tag = "renewal", params(("id" = i64, Path), ("milestone" = i64, Path)), security(("bearer" = [])), request_body = Done,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete_milestone(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, milestone)): Path<(i64, i64)>,
    Json(r): Json<Done>,
) -> ApiResult<Json<gongzhi_core::renewal::delivery::Milestone>> {
    Ok(Json(app::complete_milestone(&s, &p, id, milestone, &r).await?))
}

/// Attach a photo (the request body; its type is read from its bytes: JPEG, PNG or WebP) to a
/// milestone (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/milestones/{milestone}/photos", tag = "renewal", params(("id" = i64, Path), ("milestone" = i64, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, milestone)): Path<(i64, i64)>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<Json<serde_json::Value>> {
    let photo = app::add_milestone_photo(&s, &p, id, milestone, || {
        crate::media::check(crate::media::PHOTO, &upload.declared, &upload.bytes)
    })
    .await?;
    Ok(Json(
        serde_json::json!({ "photo": photo.name, "media": photo.media, "url": crate::media::url(photo.media) }),
    ))
}

/// A milestone photo: moved to `/media/{id}` (permanent redirect). Public.
#[utoipa::path(get, path = "/api/renewal/photos/{name}", tag = "renewal", params(("name" = String, Path)),
    responses((status = 308, description = "the photo's one URL, /media/{id}"), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let id = app::photo_media(&s, p.as_ref(), &name).await?;
    Ok(crate::media::moved(id))
}

/// Record money spent (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/spending", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewSpending,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_spending(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewSpending>,
) -> ApiResult<Json<serde_json::Value>> {
    let sid = app::add_spending(&s, &p, id, &r).await?;
    Ok(Json(serde_json::json!({ "id": sid })))
}

#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/contributions", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewContribution,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_contribution(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewContribution>,
) -> ApiResult<Json<serde_json::Value>> {
    let cid = app::contribute(&s, &p, id, r).await?;
    Ok(Json(serde_json::json!({ "id": cid })))
}

/// Record an upkeep commitment (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/upkeep", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewUpkeep,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_upkeep(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewUpkeep>,
) -> ApiResult<Json<serde_json::Value>> {
    let uid = app::add_upkeep(&s, &p, id, &r).await?;
    Ok(Json(serde_json::json!({ "id": uid })))
}

/// Check in on an upkeep commitment (renewal staff or residents of the community).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/upkeep/{upkeep}/checkins", tag = "renewal", params(("id" = i64, Path), ("upkeep" = i64, Path)), security(("bearer" = [])), request_body = NewCheckin,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_checkin(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, upkeep)): Path<(i64, i64)>,
    Json(r): Json<NewCheckin>,
) -> ApiResult<Json<serde_json::Value>> {
    let cid = app::add_checkin(&s, &p, id, upkeep, r).await?;
    Ok(Json(serde_json::json!({ "id": cid })))
}

/// Answer the acceptance survey (verified residents of the community; once each: 409 after).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/acceptance", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = AcceptanceAnswer,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer_acceptance(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<AcceptanceAnswer>,
) -> ApiResult<Json<serde_json::Value>> {
    app::answer(&s, &p, id, r).await?;
    Ok(Json(serde_json::json!({ "answered": true })))
}

/// The supervision list: open milestones that are late (超期) or due soon (预警), latest first
/// (renewal staff of the community, or of anywhere without one).
#[utoipa::path(get, path = "/api/renewal/supervision", tag = "renewal", params(CommunityQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn supervision(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<SupervisedMilestone>>> {
    Ok(Json(app::supervision(&s, &p, q.community.as_deref()).await?))
}
