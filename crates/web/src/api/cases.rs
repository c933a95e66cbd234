//! Case API: intake, listing, one case with its timeline, actions through the state machine,
//! photos, the dispatch proposal, the catalogue and calendar documents, indicators.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_core::case::{Action, CaseState};
use gongzhi_core::indicators::{Composite, Counters, RoleScore, ScoredRole};
use gongzhi_store::prelude::*;
use gongzhi_store::CaseQuery;
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

/// A case as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = Object)]
    pub case: gongzhi_core::case::Case,
    /// The responsible division (community, or larger when in no grid).
    pub area: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Whether the deadline has passed while the case is open.
    pub overdue: bool,
}

impl From<gongzhi_store::CaseRow> for CaseView {
    fn from(r: gongzhi_store::CaseRow) -> Self {
        let overdue = r.case.state.is_open() && r.case.deadline_ms.is_some_and(|d| d < gongzhi_store::now_ms());
        CaseView {
            case: r.case,
            area: r.area,
            created_at: r.created_at,
            updated_at: r.updated_at,
            overdue,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub case: CaseView,
    /// Open cases of the same category nearby with similar text: offer to merge (action `merge`).
    pub possible_duplicates: Vec<Duplicate>,
}

/// Report a problem (信息收集). Residents report as themselves; staff may register at once.
#[utoipa::path(post, path = "/api/cases", tag = "cases", request_body = Report, security(("bearer" = [])),
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
        overdue_at: q.overdue.unwrap_or(false).then(gongzhi_store::now_ms),
        page,
        page_size,
    };
    let (rows, total) = s.store.list_cases(p.city.as_str(), &query).await?;
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

#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    /// The event's type, e.g. `dispatched`.
    pub kind: String,
    pub kind_zh: String,
    #[schema(value_type = Object)]
    pub event: gongzhi_core::case::CaseEvent,
    pub at: i64,
    pub actor: Option<i64>,
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct Deadline {
    pub at: i64,
    /// Working time left in the case's timer (negative: overdue by that much), milliseconds.
    pub remaining_ms: i64,
    pub timer: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub view: CaseView,
    pub timeline: Vec<TimelineEntry>,
    pub deadline: Option<Deadline>,
    /// The steps the caller may take now.
    pub allowed_actions: Vec<String>,
    /// Reporter's contact: staff and the case's units only.
    pub contact: Option<Contact>,
    /// Photo ids.
    pub photos: Vec<i64>,
    pub proposal: Option<Proposal>,
    pub category_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// One case with its full timeline, deadline and the steps the caller may take.
#[utoipa::path(get, path = "/api/cases/{id}", tag = "cases", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_case(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(case_detail(&s, &p, id).await?))
}

/// Everything the case page and the API show of a case.
pub async fn case_detail(s: &AppState, p: &gongzhi_core::access::Principal, id: i64) -> ApiResult<CaseDetail> {
    let city = p.city.to_string();
    let row = s
        .store
        .case(&city, id)
        .await?
        .filter(|r| loop_::may_view(p, r))
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    let history = s.store.case_history(&city, id).await?;
    let cat = loop_::catalogue(s, &city).await?;
    let cal = loop_::calendar(s, &city).await?;
    let cond = cat.condition(&row.case.condition);
    let deadline = match (row.case.deadline_ms, cond) {
        (Some(at), Some((_, c))) => {
            let now = gongzhi_store::now_ms();
            let left = if now <= at {
                cal.elapsed(instant(now), instant(at), c.timer)
            } else {
                -cal.elapsed(instant(at), instant(now), c.timer)
            };
            Some(Deadline {
                at,
                remaining_ms: left.num_milliseconds(),
                timer: c.timer.to_string(),
            })
        }
        _ => None,
    };
    let allowed: Vec<String> = loop_::allowed_actions(p, &row).iter().map(|a| a.to_string()).collect();
    let contact = if loop_::may_see_contact(p, &row) || row.reporter == Some(p.person_id) {
        s.store.case_contact(&city, id).await?.map(|c| Contact {
            name: c.name,
            phone: c.phone,
        })
    } else {
        None
    };
    let proposal = if matches!(row.case.state, CaseState::Registered | CaseState::Returned) {
        loop_::propose(s, &city, &row).await?
    } else {
        None
    };
    let photos = s.store.photos(&city, id).await?.into_iter().map(|m| m.id).collect();
    Ok(CaseDetail {
        timeline: history
            .into_iter()
            .map(|r| TimelineEntry {
                kind: r.event.name().to_owned(),
                kind_zh: event_zh(r.event.name()).to_owned(),
                event: r.event,
                at: r.at_ms,
                actor: r.actor,
                role: r.role.to_string(),
            })
            .collect(),
        deadline,
        allowed_actions: allowed,
        contact,
        photos,
        proposal,
        category_name: cond.map(|(c, _)| format!("{} / {}", c.major_name, c.name)),
        view: row.into(),
    })
}

fn instant(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The Chinese name of an event type.
pub fn event_zh(kind: &str) -> &'static str {
    match kind {
        "collected" => "信息收集",
        "registered" => "立案",
        "voided" => "作废",
        "dispatched" => "派遣",
        "routed" => "逐级派遣",
        "forwarded" => "转派",
        "accepted" => "签收",
        "returned" => "退单",
        "return_rejected" => "退单不予认可",
        "extension_requested" => "申请延期",
        "extension_approved" => "批准延期",
        "extension_denied" => "驳回延期",
        "suspended" => "挂账",
        "resumed" => "恢复处置",
        "handling_reported" => "处置反馈",
        "verification_passed" => "核查通过",
        "verification_failed" => "核查不通过（返工）",
        "closed" => "结案",
        "followed_up" => "回访评价",
        "whistled" => "吹哨",
        "unit_reported" => "报到",
        "supervised" => "督办",
        "merged_into" => "合并至",
        "duplicate_merged" => "并入重复件",
        _ => "",
    }
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
    Path(id): Path<i64>,
    Json(req): Json<ActionRequest>,
) -> ApiResult<Json<CaseView>> {
    let action = build_action(&s, &p, id, req.kind, req.fields).await?;
    let row = loop_::act(&s, &p, id, action, req.version).await?;
    Ok(Json(row.into()))
}

/// Turn a request into an [`Action`], filling unit names and levels from the register and a
/// missing dispatch unit from the catalogue's proposal.
pub async fn build_action(
    s: &AppState,
    p: &gongzhi_core::access::Principal,
    id: i64,
    kind: String,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<Action> {
    let city = p.city.to_string();
    let unit_info = |org: gongzhi_core::org::Organisation| (org.name.clone(), loop_::org_level(org.kind));
    match kind.as_str() {
        "dispatch" => {
            let unit = match fields.get("unit").and_then(|v| v.as_i64()) {
                Some(u) => u,
                None => {
                    let row = s
                        .store
                        .case(&city, id)
                        .await?
                        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
                    loop_::propose(s, &city, &row)
                        .await?
                        .ok_or_else(|| {
                            ApiError::invalid("unit: the dispatch catalogue has no unit for this case here; give one")
                        })?
                        .unit
                }
            };
            let org = s
                .store
                .organisation(&city, unit)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("unit: organisation {unit} does not exist")))?;
            let (name, level) = unit_info(org);
            fields.insert("unit".into(), unit.into());
            fields.insert("unit_name".into(), name.into());
            fields.insert("level".into(), serde_json::to_value(level).unwrap_or_default());
        }
        "whistle" => {
            let lead = fields
                .get("lead")
                .and_then(|v| v.as_i64())
                .ok_or_else(|| ApiError::invalid("lead: give the lead unit's id"))?;
            let org = s
                .store
                .organisation(&city, lead)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("lead: organisation {lead} does not exist")))?;
            for u in fields
                .get("co_units")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
            {
                let u = u.as_i64().ok_or_else(|| ApiError::invalid("co_units: give unit ids"))?;
                if s.store.organisation(&city, u).await?.is_none() {
                    return Err(ApiError::invalid(format!("co_units: organisation {u} does not exist")));
                }
            }
            let (name, level) = unit_info(org);
            fields.insert("lead_name".into(), name.into());
            fields.insert("level".into(), serde_json::to_value(level).unwrap_or_default());
        }
        _ => {}
    }
    fields.insert("type".into(), kind.clone().into());
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
        let all: Vec<&str> = gongzhi_core::case::ActionKind::ALL.iter().map(|a| a.as_str()).collect();
        ApiError::invalid(format!("action '{kind}': {e}; steps are {}", all.join(", ")))
    })
}

/// The unit the dispatch catalogue (派单目录) proposes for a case.
#[utoipa::path(get, path = "/api/cases/{id}/proposal", tag = "cases", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Proposal), (status = 404, body = ErrorBody)))]
pub async fn proposal(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Proposal>> {
    let city = p.city.to_string();
    let row = s
        .store
        .case(&city, id)
        .await?
        .filter(|r| loop_::may_view(&p, r))
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    loop_::propose(&s, &city, &row)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("a catalogue unit for this case"))
}

/// Photos: JPEG, PNG or WebP (read from the bytes), at most 5 MiB each (the one size table of
/// `gongzhi_core::media`) and 9 per case.
pub const PHOTO_MAX_BYTES: usize = gongzhi_core::media::PHOTO_MAX_BYTES;
pub const PHOTOS_PER_CASE: usize = 9;

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
    Path(id): Path<i64>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<(StatusCode, Json<PhotoAdded>)> {
    let city = p.city.to_string();
    let row = s
        .store
        .case(&city, id)
        .await?
        .filter(|r| loop_::may_view(&p, r))
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    let photo = check_photo(&s, &city, row.case.id, &upload.declared, &upload.bytes).await?;
    let pid = s
        .store
        .add_photo(&city, id, photo.content_type, &photo.data, Some(p.person_id))
        .await?;
    Ok((StatusCode::CREATED, Json(PhotoAdded::new(pid))))
}

/// Check a photo by the one media policy and the case's count: the checked photo back.
pub async fn check_photo(
    s: &AppState,
    city: &str,
    case_id: i64,
    content_type: &str,
    data: &[u8],
) -> ApiResult<gongzhi_core::media::Checked> {
    let photo = check_photo_bytes(content_type, data)?;
    if s.store.photos(city, case_id).await?.len() >= PHOTOS_PER_CASE {
        return Err(ApiError::invalid(format!(
            "a case has at most {PHOTOS_PER_CASE} photos"
        )));
    }
    Ok(photo)
}

/// Check a photo's type (from its bytes) and size, and strip its metadata (cases' and other
/// records' photos alike).
pub fn check_photo_bytes(content_type: &str, data: &[u8]) -> ApiResult<gongzhi_core::media::Checked> {
    crate::media::check(crate::media::PHOTO, content_type, data)
}

/// A photo of a case: moved to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/cases/{id}/photos/{photo}", tag = "cases", params(("id" = i64, Path), ("photo" = i64, Path)), security(("bearer" = [])),
    responses((status = 308, description = "the photo's one URL, /media/{id}"), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, photo)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let city = p.city.to_string();
    s.store
        .case(&city, id)
        .await?
        .filter(|r| loop_::may_view(&p, r))
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    let media = crate::media::resolve(&s, &city, &format!("photos:{photo}"), &format!("case:{id}"), photo)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("photo {photo}")))?;
    Ok(crate::media::moved(media))
}

/// The category and dispatch catalogue as CSV (public).
#[utoipa::path(get, path = "/api/catalogue", tag = "cases", responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn get_catalogue(
    State(s): State<AppState>,
    crate::auth::MaybeAuth(p): crate::auth::MaybeAuth,
) -> ApiResult<Response> {
    let city = crate::api::territory::city_of(&s, p.as_ref());
    let text = loop_::document_text(&s, &city, "catalogue").await?;
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
    let text = loop_::document_text(&s, &city, "calendar").await?;
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

#[derive(Serialize, ToSchema)]
pub struct Indicators {
    #[schema(value_type = Object)]
    pub counters: Counters,
    /// 结案率, 按期结案率, 返工率, 退单率, 响应率, 解决率, 满意率 as percentages with 2 decimals.
    pub rates: serde_json::Map<String, serde_json::Value>,
    /// The follow-up composite (response 10%, solution 50%, satisfaction 40%), 0–100.
    pub composite: Option<String>,
    /// GB/T 30428.4-style scores with grades A–D.
    pub role_scores: Vec<serde_json::Value>,
}

fn check_dim(dim: &str) -> ApiResult<()> {
    if matches!(dim, "unit" | "area" | "category" | "person") {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "dim: '{dim}' is not a dimension; use unit, area, category or person"
        )))
    }
}

fn check_day(field: &str, d: &str) -> ApiResult<()> {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| ApiError::invalid(format!("{field}: '{d}' is not a date YYYY-MM-DD")))
}

/// Build the indicator view of some counters.
pub fn indicator_view(c: Counters) -> Indicators {
    use gongzhi_core::indicators::percent_or_dash;
    let mut rates = serde_json::Map::new();
    for (name, r) in [
        ("closure_rate", c.closure_rate()),
        ("on_time_closure_rate", c.on_time_closure_rate()),
        ("rework_rate", c.rework_rate()),
        ("return_rate", c.return_rate()),
        ("response_rate", c.response_rate()),
        ("solution_rate", c.solution_rate()),
        ("satisfaction_rate", c.satisfaction_rate()),
    ] {
        rates.insert(name.into(), percent_or_dash(r).into());
    }
    let composite = Composite::default().score(&c).map(|r| r.fixed2());
    let role_scores = ScoredRole::ALL
        .iter()
        .map(|role| {
            let s = RoleScore::compute(*role, &c);
            serde_json::json!({
                "role": role.as_str(), "role_zh": role.zh(),
                "score": s.score.map(|r| r.fixed2()), "grade": s.grade.map(|g| g.to_string()),
            })
        })
        .collect();
    Indicators {
        counters: c,
        rates,
        composite,
        role_scores,
    }
}

/// Indicators of one unit, area, category or person over a period, from incrementally kept counters.
#[utoipa::path(get, path = "/api/indicators", tag = "cases", params(IndicatorQuery), security(("bearer" = [])),
    responses((status = 200, body = Indicators), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn indicators(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<IndicatorQuery>,
) -> ApiResult<Json<Indicators>> {
    check_dim(&q.dim)?;
    check_day("from", &q.from)?;
    check_day("to", &q.to)?;
    loop_::require_indicators(&p, &q.dim, Some(&q.key))?;
    let c = s
        .store
        .counters(p.city.as_str(), &q.dim, &q.key, &q.from, &q.to)
        .await?;
    Ok(Json(indicator_view(c)))
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

#[derive(Serialize, ToSchema)]
pub struct BreakdownRow {
    pub group: String,
    #[serde(flatten)]
    pub indicators: Indicators,
}

/// Indicators per key (e.g. every unit, ranked by key) or per day/month of one key (a trend).
#[utoipa::path(get, path = "/api/indicators/breakdown", tag = "cases", params(BreakdownQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<BreakdownRow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn indicator_breakdown(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<BreakdownQuery>,
) -> ApiResult<Json<Vec<BreakdownRow>>> {
    check_dim(&q.dim)?;
    check_day("from", &q.from)?;
    check_day("to", &q.to)?;
    let group = q.group.as_deref().unwrap_or("key");
    if !matches!(group, "key" | "day" | "month") {
        return Err(ApiError::invalid("group: use key, day or month"));
    }
    loop_::require_indicators(&p, &q.dim, q.key.as_deref())?;
    let rows = s
        .store
        .counters_grouped(p.city.as_str(), &q.dim, q.key.as_deref(), &q.from, &q.to, group)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(g, c)| BreakdownRow {
                group: g,
                indicators: indicator_view(c),
            })
            .collect(),
    ))
}
