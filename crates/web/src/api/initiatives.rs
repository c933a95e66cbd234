//! Wicked-problem initiatives (棘手问题专项): the front stage (residents' autonomous committee) and
//! the back stage (town or street government), separated and coordinated.
//!
//! Every answer is built by [`view`] from the viewer's [`Seat`](gongzhi_core::visibility::Seat):
//! the core decides what a seat sees (timeline, progress) and back-stage content is `Internal`,
//! which no view type can serialise. A step is checked by the core against the stage the caller
//! works on; a caller who is not a member of an initiative gets its public view only, and "not
//! found" for anything else. The handlers call `gongzhi_app::initiatives`, which decides.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use gongzhi_app::initiatives as app;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

pub use gongzhi_app::initiatives::{
    seat_of, view, HandoffView, InitiativeRow, InitiativeView, NewInitiative, PartyView, Step, StepRequest,
    PHOTOS_PER_UNIT,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_initiatives, create_initiative))
        .routes(routes!(get_initiative))
        .routes(routes!(timeline_csv))
        .routes(routes!(take_step))
        .routes(routes!(import_units))
        .routes(routes!(import_parties))
        .routes(routes!(add_survey_photo))
        .routes(routes!(survey_photo))
}

/// The initiatives of the city: names, kinds and communities are public.
#[utoipa::path(get, path = "/api/initiatives", tag = "initiatives", responses((status = 200, body = Vec<Object>)))]
pub async fn list_initiatives(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
) -> ApiResult<Json<Vec<InitiativeRow>>> {
    Ok(Json(app::list(&s, p.as_ref()).await?))
}

/// Open an initiative (staff who administer the community: the town or street government). The
/// opener works on its back stage.
#[utoipa::path(post, path = "/api/initiatives", tag = "initiatives", request_body = NewInitiative, security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_initiative(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(body): Json<NewInitiative>,
) -> ApiResult<Json<InitiativeView>> {
    Ok(Json(app::open(&s, &p, body).await?))
}

/// One initiative as the caller's seat sees it (public, front or back).
#[utoipa::path(get, path = "/api/initiatives/{id}", tag = "initiatives", params(("id" = i64, Path)),
    responses((status = 200, body = InitiativeView), (status = 404, body = ErrorBody)))]
pub async fn get_initiative(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<InitiativeView>> {
    Ok(Json(app::view_of(&s, p.as_ref(), id, false).await?))
}

/// The joint timeline as CSV (UTF-8 with BOM: time, stage, kind, summary), as the caller's seat
/// sees it: made from the same view as the JSON answer, so an export shows nothing the seat may
/// not read.
#[utoipa::path(get, path = "/api/initiatives/{id}/timeline.csv", tag = "initiatives", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn timeline_csv(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (id, bytes) = app::timeline_csv(&s, p.as_ref(), id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"initiative-{id}-timeline.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Take a step on an initiative as a member of its front or back stage. The core refuses steps
/// that belong to the other stage or name what does not exist; nothing is stored then.
#[utoipa::path(post, path = "/api/initiatives/{id}/steps", tag = "initiatives", params(("id" = i64, Path)), request_body = StepRequest,
    security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn take_step(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(body): Json<StepRequest>,
) -> ApiResult<Json<InitiativeView>> {
    Ok(Json(app::take_step(&s, &p, id, body.version, body.step).await?))
}

/// Register the initiative's units from a premises file (CSV or XLSX, the premises import's
/// columns): the buildings and units are stored in the premises register and become the
/// initiative's area. Back stage only; all or nothing, wrong lines listed.
#[utoipa::path(post, path = "/api/initiatives/{id}/units", tag = "initiatives", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_units(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<InitiativeView>> {
    Ok(Json(app::import_units(&s, &p, id, &body).await?))
}

/// Register parties from a CSV or XLSX file with columns `name, kind, units` (unit codes separated
/// by `;`). Either stage; all or nothing, wrong lines listed.
#[utoipa::path(post, path = "/api/initiatives/{id}/parties", tag = "initiatives", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_parties(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<InitiativeView>> {
    Ok(Json(app::import_parties(&s, &p, id, &body).await?))
}

pub use crate::api::cases::PhotoAdded;

/// Attach a survey photo (摸排照片) of one unit: the request body, with its Content-Type
/// (JPEG, PNG or WebP). Members of either stage; the photo is seen by this initiative's two
/// stages only.
#[utoipa::path(post, path = "/api/initiatives/{id}/units/{unit}/photos", tag = "initiatives",
    params(("id" = i64, Path), ("unit" = String, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PhotoAdded), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_survey_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, unit)): Path<(i64, String)>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<(axum::http::StatusCode, Json<PhotoAdded>)> {
    let photo = app::add_survey_photo(&s, &p, id, &unit, &upload.declared, &upload.bytes).await?;
    Ok((axum::http::StatusCode::CREATED, Json(PhotoAdded::new(photo))))
}

/// A survey photo, for the members of the initiative's two stages (anyone else gets 404): moved
/// to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/initiatives/{id}/photos/{photo}", tag = "initiatives",
    params(("id" = i64, Path), ("photo" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn survey_photo(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((id, photo)): Path<(i64, i64)>,
) -> ApiResult<axum::response::Response> {
    let media = app::survey_photo_media(&s, p.as_ref(), id, photo).await?;
    Ok(crate::media::moved(media))
}
