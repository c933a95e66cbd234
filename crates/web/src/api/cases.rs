//! Case API: intake, listing, one case with its timeline, actions through the state machine,
//! photos, the dispatch proposal, the catalogue and calendar documents, indicators.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_app::cases::CaseQuery;
use gongzhi_core::case::CaseState;
use gongzhi_core::ids::CaseId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use gongzhi_app::cases::{self as loop_, Duplicate, Proposal, Report};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, create_case))
        .routes(routes!(get_case))
        .routes(routes!(case_action))
        .routes(routes!(proposal))
        .routes(routes!(add_photo))
        .routes(routes!(get_photo))
        .routes(routes!(get_catalogue, put_catalogue))
        .routes(routes!(get_calendar, put_calendar))
        .routes(routes!(indicators))
        .routes(routes!(indicator_breakdown))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub case: CaseView,
    /// Open cases of the same category nearby with similar text: offer to merge (action `merge`).
    pub possible_duplicates: Vec<Duplicate>,
}

/// Report a problem (信息收集). Residents report as themselves; staff may register at once.
/// With an `Idempotency-Key` header (e.g. a UUID per report; every create takes one), sending the
/// same report again with the same key answers what the first one was answered
/// (`Idempotent-Replayed: true`) and makes nothing: a client may retry after a cut connection
/// without reporting twice.
#[utoipa::path(post, path = "/api/cases", tag = "cases", request_body = Report, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A new key per report; a retry with the same key and report returns the first case")),
    responses((status = 201, body = Created), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_case(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<Report>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let (row, dups) = loop_::intake(&s, &p, &r, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            case: row.into(),
            possible_duplicates: dups,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct CaseListQuery {
    /// Comma-separated states, e.g. `dispatched,handling`.
    pub state: Option<String>,
    pub unit: Option<i64>,
    /// Inside this division or grid.
    pub within: Option<String>,
    pub category: Option<String>,
    /// Only open cases past their deadline.
    pub overdue: Option<bool>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

/// Cases the caller may see: their area's (staff), their unit's (departments), their own (residents).
#[utoipa::path(get, path = "/api/cases", tag = "cases", params(CaseListQuery), security(("bearer" = [])),
    responses((status = 200, body = CaseList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_cases(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<CaseListQuery>,
) -> ApiResult<Json<CaseList>> {
    let (page, page_size) = super::Paging {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let states = match &q.state {
        Some(list) => list
            .split(',')
            .map(|s| parse_state(s.trim()))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let query = CaseQuery {
        visibility: loop_::visibility(&p),
        states,
        unit: q.unit,
        within: q.within.clone(),
        category: q.category.clone(),
        overdue_at: q.overdue.unwrap_or(false).then(gongzhi_app::now_ms),
        page,
        page_size,
    };
    let (rows, total) = loop_::list(&s, &p, query).await?;
    Ok(Json(CaseList {
        cases: rows.into_iter().map(Into::into).collect(),
        total,
        page,
        page_size,
    }))
}

fn parse_state(s: &str) -> Result<CaseState, ApiError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        let all: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::invalid(format!("state: unknown state '{s}'; use one of {}", all.join(", ")))
    })
}

/// One case with its full timeline, deadline and the steps the caller may take.
#[utoipa::path(get, path = "/api/cases/{id}", tag = "cases", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_case(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<CaseId>) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(loop_::case_detail(&s, &p, id, "api.case").await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ActionRequest {
    /// The step, e.g. `register`, `dispatch`, `accept`, `return`, `request_extension`,
    /// `approve_extension`, `report_handled`, `verify_pass`, `verify_fail`, `close`, `follow_up`,
    /// `whistle`, `report_to_whistle`, `supervise`, `merge`. For `dispatch` the unit may be left
    /// out: the dispatch catalogue's proposal is used.
    #[serde(rename = "type")]
    pub kind: String,
    /// The version of the case the caller saw; a different current version is a 409.
    pub version: Option<u64>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Take a step of the closed loop. An illegal step is a 409 with the state and allowed steps.
#[utoipa::path(post, path = "/api/cases/{id}/actions", tag = "cases", params(("id" = i64, Path)), request_body = ActionRequest,
    security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn case_action(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<CaseId>,
    Json(req): Json<ActionRequest>,
) -> ApiResult<Json<CaseView>> {
    let action = loop_::build_action(&s, &p, id, req.kind, req.fields).await?;
    let row = loop_::act(&s, &p, id, action, req.version).await?;
    Ok(Json(row.into()))
}

/// The unit the dispatch catalogue (派单目录) proposes for a case.
#[utoipa::path(get, path = "/api/cases/{id}/proposal", tag = "cases", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Proposal), (status = 404, body = ErrorBody)))]
pub async fn proposal(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<CaseId>) -> ApiResult<Json<Proposal>> {
    Ok(Json(loop_::proposal(&s, &p, id).await?))
}

pub use gongzhi_app::cases::{
    indicator_view, BreakdownRow, CaseDetail, CaseView, Contact, Deadline, Indicators, TimelineEntry, PHOTO_MAX_BYTES,
};

#[derive(Serialize, ToSchema)]
pub struct PhotoAdded {
    pub id: i64,
    /// The photo's one URL, `/media/{id}`.
    pub url: String,
}

impl PhotoAdded {
    pub fn new(id: i64) -> Self {
        PhotoAdded {
            id,
            url: crate::media::url(id),
        }
    }
}

/// Attach a photo (the request body; its type is read from its bytes: JPEG, PNG or WebP).
#[utoipa::path(post, path = "/api/cases/{id}/photos", tag = "cases", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PhotoAdded), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn add_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<CaseId>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<(StatusCode, Json<PhotoAdded>)> {
    let pid = loop_::add_photo(&s, &p, id, &upload.declared, &upload.bytes).await?;
    Ok((StatusCode::CREATED, Json(PhotoAdded::new(pid))))
}

/// A photo of a case: moved to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/cases/{id}/photos/{photo}", tag = "cases", params(("id" = i64, Path), ("photo" = i64, Path)), security(("bearer" = [])),
    responses((status = 308, description = "the photo's one URL, /media/{id}"), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, photo)): Path<(CaseId, i64)>,
) -> ApiResult<Response> {
    let media = loop_::photo(&s, &p, id, photo).await?;
    Ok(crate::media::moved(media))
}

/// The category and dispatch catalogue as CSV (public).
#[utoipa::path(get, path = "/api/catalogue", tag = "cases", responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn get_catalogue(
    State(s): State<AppState>,
    crate::auth::MaybeAuth(p): crate::auth::MaybeAuth,
) -> ApiResult<Response> {
    let city = crate::api::territory::city_of(&s, p.as_ref());
    let text = loop_::document_text(&s, city, "catalogue").await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// Replace the catalogue (CSV; administrators of the city). Invalid CSV is refused with the line.
#[utoipa::path(put, path = "/api/catalogue", tag = "cases", request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = DocumentVersion), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_catalogue(State(s): State<AppState>, Auth(p): Auth, body: String) -> ApiResult<Json<DocumentVersion>> {
    put_document(&s, &p, "catalogue", &body).await
}

#[derive(Serialize, ToSchema)]
pub struct DocumentVersion {
    pub version: i64,
}

async fn put_document(
    s: &AppState,
    p: &gongzhi_core::access::Principal,
    name: &str,
    body: &str,
) -> ApiResult<Json<DocumentVersion>> {
    let version = loop_::save_document(s, p, name, body).await?;
    Ok(Json(DocumentVersion { version }))
}

/// The working calendar's holidays and make-up working days as CSV (public).
#[utoipa::path(get, path = "/api/calendar", tag = "cases", responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn get_calendar(
    State(s): State<AppState>,
    crate::auth::MaybeAuth(p): crate::auth::MaybeAuth,
) -> ApiResult<Response> {
    let city = crate::api::territory::city_of(&s, p.as_ref());
    let text = loop_::document_text(&s, city, "calendar").await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// Replace the calendar (CSV `date,kind,name_en,name_zh`; administrators of the city).
#[utoipa::path(put, path = "/api/calendar", tag = "cases", request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = DocumentVersion), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_calendar(State(s): State<AppState>, Auth(p): Auth, body: String) -> ApiResult<Json<DocumentVersion>> {
    put_document(&s, &p, "calendar", &body).await
}

#[derive(Deserialize, IntoParams)]
pub struct IndicatorQuery {
    /// unit, area, category or person.
    pub dim: String,
    /// The unit id, division/grid code, category code or person id.
    pub key: String,
    /// First day, YYYY-MM-DD (Beijing time).
    pub from: String,
    /// Last day, YYYY-MM-DD.
    pub to: String,
}

/// Indicators of one unit, area, category or person over a period, from incrementally kept counters.
#[utoipa::path(get, path = "/api/indicators", tag = "cases", params(IndicatorQuery), security(("bearer" = [])),
    responses((status = 200, body = Indicators), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn indicators(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<IndicatorQuery>,
) -> ApiResult<Json<Indicators>> {
    Ok(Json(loop_::indicators(&s, &p, &q.dim, &q.key, &q.from, &q.to).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct BreakdownQuery {
    pub dim: String,
    /// One key for a trend (group=day|month); none to rank every key (group=key).
    pub key: Option<String>,
    pub from: String,
    pub to: String,
    /// key (default), day or month.
    pub group: Option<String>,
}

/// Indicators per key (e.g. every unit, ranked by key) or per day/month of one key (a trend).
#[utoipa::path(get, path = "/api/indicators/breakdown", tag = "cases", params(BreakdownQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<BreakdownRow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn indicator_breakdown(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<BreakdownQuery>,
) -> ApiResult<Json<Vec<BreakdownRow>>> {
    let rows = loop_::indicator_breakdown(&s, &p, &q.dim, q.key.as_deref(), &q.from, &q.to, q.group.as_deref()).await?;
    Ok(Json(rows))
}
