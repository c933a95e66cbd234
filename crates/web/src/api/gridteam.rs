//! The generalist grid API (全科网格): the grid team and alliance, households (private to the
//! team), the three lists with the matching engine, patrols (findings become cases through the
//! closed loop), visits, activities, volunteer service, the points ledger and the indicators.
//!
//! Who sees what: households and visits only the grid team and staff above (ViewGridDetails on
//! the grid); the other lists also the people of the organisations in the grid's alliance; any
//! other organisation or resident gets 403. Changes need ManageGrid on the grid.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use gongzhi_app::gridteam::{
    self as service, ActivityInput, AllianceInput, AreaIndicators, AreaQuery, Attendance, AttendanceInput,
    ConfirmInput, FinishInput, FollowUpInput, GridRecord, Indicators, Ledger, OnDate, PatrolInput, PatrolLogged,
    RedeemInput, Unmatched, VisitInput, VolunteerInput,
};
use gongzhi_core::gridteam::{self, Household, Member, Need, PointRule, Resource};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(add_member))
        .routes(routes!(add_alliance))
        .routes(routes!(add_household))
        .routes(routes!(add_need))
        .routes(routes!(add_resource))
        .routes(routes!(proposals))
        .routes(routes!(confirm))
        .routes(routes!(finish))
        .routes(routes!(unmatched))
        .routes(routes!(add_route))
        .routes(routes!(patrol))
        .routes(routes!(add_visit))
        .routes(routes!(follow_up))
        .routes(routes!(add_activity))
        .routes(routes!(attend))
        .routes(routes!(volunteer))
        .routes(routes!(ledger))
        .routes(routes!(redeem))
        .routes(routes!(get_rules, put_rules))
        .routes(routes!(indicators))
        .routes(routes!(area_indicators))
        .routes(routes!(import_list))
        .routes(routes!(export_list))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created(id: i64) -> (StatusCode, Json<Created>) {
    (StatusCode::CREATED, Json(Created { id }))
}

/// The records of one list of a grid (with the community-wide ones): members, alliances,
/// households, needs, resources, projects, patrols, visits, activities, volunteering.
#[utoipa::path(get, path = "/api/grids/{code}/lists/{list}", tag = "grid",
    params(("code" = String, Path, description = "grid code"), ("list" = String, Path, description = "members, alliances, households, needs, resources, projects, patrols, visits, activities or volunteering")),
    security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((code, list)): Path<(String, String)>,
) -> ApiResult<Json<Vec<GridRecord>>> {
    Ok(Json(service::list(&s, &p, &code, &list).await?))
}

/// Add a member to the grid team (linked to a person of the register).
#[utoipa::path(post, path = "/api/grids/{code}/members", tag = "grid", params(("code" = String, Path)),
    request_body = Object, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(m): Json<Member>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_member(&s, &p, &code, m).await?))
}

/// Record an alliance (一核多元): one lead organisation and participants, each with a commitment.
#[utoipa::path(post, path = "/api/grids/{code}/alliances", tag = "grid", params(("code" = String, Path)),
    request_body = AllianceInput, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_alliance(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(a): Json<AllianceInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_alliance(&s, &p, &code, a).await?))
}

/// Register a household in a unit of the premises register; the unit's building must lie in the grid.
#[utoipa::path(post, path = "/api/grids/{code}/households", tag = "grid", params(("code" = String, Path)),
    request_body = Object, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_household(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(h): Json<Household>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_household(&s, &p, &code, h).await?))
}

/// Record a need. The grid team records needs from visits and meetings; a resident of the
/// community raises their own (source `resident`).
#[utoipa::path(post, path = "/api/grids/{code}/needs", tag = "grid", params(("code" = String, Path)),
    request_body = Object, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_need(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(n): Json<Need>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_need(&s, &p, &code, n).await?))
}

/// Record a resource offered by a member organisation or person.
#[utoipa::path(post, path = "/api/grids/{code}/resources", tag = "grid", params(("code" = String, Path)),
    request_body = Object, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_resource(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(r): Json<Resource>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_resource(&s, &p, &code, r).await?))
}

/// The resources that fit an open need, ranked, each with the reason (category, distance,
/// remaining capacity, availability on the date, past reliability).
#[utoipa::path(get, path = "/api/grid-needs/{id}/proposals", tag = "grid", params(("id" = i64, Path), OnDate),
    security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn proposals(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Query(q): Query<OnDate>,
) -> ApiResult<Json<Vec<gridteam::Proposal>>> {
    Ok(Json(service::proposals(&s, &p, id, &q).await?))
}

/// Confirm a proposed match into a project (立项): the resource must still fit the need on the
/// date; its capacity is taken.
#[utoipa::path(post, path = "/api/grid-projects", tag = "grid", request_body = ConfirmInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn confirm(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(c): Json<ConfirmInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::confirm(&s, &p, c).await?))
}

/// Finish a project: completed (the need is met, participants earn points) or failed (the
/// need opens again, the capacity returns).
#[utoipa::path(post, path = "/api/grid-projects/{id}/finish", tag = "grid", params(("id" = i64, Path)), request_body = FinishInput,
    security(("bearer" = [])), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn finish(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(f): Json<FinishInput>,
) -> ApiResult<StatusCode> {
    service::finish(&s, &p, id, f).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unmatched needs and idle resources of a grid.
#[utoipa::path(get, path = "/api/grids/{code}/unmatched", tag = "grid", params(("code" = String, Path), OnDate),
    security(("bearer" = [])), responses((status = 200, body = Unmatched), (status = 403, body = ErrorBody)))]
pub async fn unmatched(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Query(q): Query<OnDate>,
) -> ApiResult<Json<Unmatched>> {
    Ok(Json(service::unmatched(&s, &p, &code, &q).await?))
}

/// Plan a patrol route (巡查路线) of the grid: a GeoJSON LineString, how often a week it is
/// walked and by whom. Patrol logs then name it.
#[utoipa::path(post, path = "/api/grids/{code}/routes", tag = "grid", params(("code" = String, Path)),
    request_body = Object, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_route(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(r): Json<gridteam::PatrolRoute>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_route(&s, &p, &code, r).await?))
}

/// Log a patrol (巡查日志); each finding is reported through the case intake (source patrol)
/// and linked to the log.
#[utoipa::path(post, path = "/api/grids/{code}/patrols", tag = "grid", params(("code" = String, Path)), request_body = PatrolInput,
    security(("bearer" = [])), responses((status = 201, body = PatrolLogged), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patrol(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(input): Json<PatrolInput>,
) -> ApiResult<(StatusCode, Json<PatrolLogged>)> {
    Ok((StatusCode::CREATED, Json(service::patrol(&s, &p, &code, input).await?)))
}

/// Record a household visit (走访).
#[utoipa::path(post, path = "/api/grids/{code}/visits", tag = "grid", params(("code" = String, Path)), request_body = VisitInput,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_visit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(v): Json<VisitInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_visit(&s, &p, &code, v).await?))
}

/// Record a follow-up of a visit.
#[utoipa::path(post, path = "/api/grid-visits/{id}/follow-ups", tag = "grid", params(("id" = i64, Path)), request_body = FollowUpInput,
    security(("bearer" = [])), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn follow_up(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(f): Json<FollowUpInput>,
) -> ApiResult<StatusCode> {
    service::follow_up(&s, &p, id, f).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a meeting or activity of the grid.
#[utoipa::path(post, path = "/api/grids/{code}/activities", tag = "grid", params(("code" = String, Path)), request_body = ActivityInput,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_activity(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(a): Json<ActivityInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::add_activity(&s, &p, &code, a).await?))
}

/// Record who attended; each new attendee earns the `activity_attended` points.
#[utoipa::path(post, path = "/api/grid-activities/{id}/attendance", tag = "grid", params(("id" = i64, Path)), request_body = AttendanceInput,
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attend(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(a): Json<AttendanceInput>,
) -> ApiResult<Json<Attendance>> {
    Ok(Json(service::attend(&s, &p, id, a).await?))
}

/// Record volunteer service (志愿服务); the volunteer earns `volunteer_hour` points per hour.
#[utoipa::path(post, path = "/api/grids/{code}/volunteering", tag = "grid", params(("code" = String, Path)), request_body = VolunteerInput,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn volunteer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(v): Json<VolunteerInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::volunteer(&s, &p, &code, v).await?))
}

/// A person's points: the balance and every line that explains it. Seen by the person and by
/// the grid teams serving their community.
#[utoipa::path(get, path = "/api/points/{person}", tag = "grid", params(("person" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Ledger), (status = 403, body = ErrorBody)))]
pub async fn ledger(State(s): State<AppState>, Auth(p): Auth, Path(person): Path<i64>) -> ApiResult<Json<Ledger>> {
    Ok(Json(service::ledger(&s, &p, person).await?))
}

/// Redeem points (兑换); refused (409) when the balance would go below zero.
#[utoipa::path(post, path = "/api/points/{person}/redeem", tag = "grid", params(("person" = i64, Path)), request_body = RedeemInput,
    security(("bearer" = [])), responses((status = 200, body = Ledger), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redeem(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(person): Path<i64>,
    Json(r): Json<RedeemInput>,
) -> ApiResult<Json<Ledger>> {
    Ok(Json(service::redeem(&s, &p, person, r).await?))
}

/// The points rules (CSV `action,points,description`).
#[utoipa::path(get, path = "/api/points/rules", tag = "grid", security(("bearer" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn get_rules(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<PointRule>>> {
    Ok(Json(service::rules(&s, p.city).await?))
}

/// Replace the points rules (CSV body); administrators only.
#[utoipa::path(put, path = "/api/points/rules", tag = "grid", request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_rules(State(s): State<AppState>, Auth(p): Auth, body: String) -> ApiResult<Json<Vec<PointRule>>> {
    Ok(Json(service::set_rules(&s, &p, &body).await?))
}

/// Grid indicators added up over an area (the dashboard's and the map's): cases found by
/// patrol vs reported by residents and 漏报率, needs, resources used, participation, per part.
#[utoipa::path(get, path = "/api/grid-indicators", tag = "grid", params(AreaQuery),
    security(("bearer" = [])), responses((status = 200, body = AreaIndicators), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn area_indicators(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Json<AreaIndicators>> {
    Ok(Json(service::area_indicators(&s, &p, q).await?))
}

/// Grid indicators: cases found by patrol vs reported by residents (漏报率), needs met,
/// resources used, participation; in all and month by month.
#[utoipa::path(get, path = "/api/grids/{code}/indicators", tag = "grid", params(("code" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Indicators), (status = 403, body = ErrorBody)))]
pub async fn indicators(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Indicators>> {
    Ok(Json(service::grid_indicators(&s, &p, &code).await?))
}

/// Import needs or resources from a CSV (UTF-8) or XLSX file into a grid, all or nothing;
/// columns as in the export. A wrong line is reported with its number and nothing is stored.
/// Rows are keyed by their optional `ref` column (the source id), else by their content
/// (category or kind, text or title, place): importing a file again updates or leaves alone the
/// records it stored, never adds them twice; a file naming one key twice is refused with both
/// lines. The answer: `imported` (rows), `ids` (every row's record, in order), and the record
/// ids `added`, `updated` and `unchanged`.
#[utoipa::path(post, path = "/api/grids/{code}/import/{list}", tag = "grid",
    params(("code" = String, Path), ("list" = String, Path, description = "needs or resources")),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((code, list)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let r = service::import_into(&s, &p, &code, &list, &body).await?;
    Ok(Json(serde_json::json!({
        "imported": r.ids.len(),
        "ids": r.ids,
        "added": r.report.added,
        "updated": r.report.updated,
        "unchanged": r.report.unchanged,
    })))
}

/// Export a grid's needs, resources or projects as CSV (the import's columns, with id and status).
#[utoipa::path(get, path = "/api/grids/{code}/export/{list}", tag = "grid",
    params(("code" = String, Path), ("list" = String, Path, description = "needs, resources or projects")),
    security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
pub async fn export_list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((code, list)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let text = service::export_from(&s, &p, &code, &list).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text))
}
