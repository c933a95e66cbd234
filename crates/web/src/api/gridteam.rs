//! The generalist grid API (全科网格): the grid team and alliance, households (private to the
//! team), the three lists with the matching engine, patrols (findings become cases through the
//! closed loop), visits, activities, volunteer service, the points ledger and the indicators.
//!
//! Who sees what: households and visits only the grid team and staff above (ViewGridDetails on
//! the grid); the other lists also the people of the organisations in the grid's alliance; any
//! other organisation or resident gets 403. Changes need ManageGrid on the grid.

use gongzhi_store::prelude::*;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{Datelike, NaiveDate};
use gongzhi_core::access::Principal;
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam::{
    self, ActivityKind, Alliance, Household, Member, Need, NeedSource, PointRule, Project, ProjectStatus, Resource,
};
use gongzhi_store::gridteam::{need_facts, resource_facts};
use gongzhi_store::{GridCounts, GridList, GridRecord, NewRecord, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use gongzhi_app::cases::Report;
use gongzhi_app::gridteam::{self as service, areas, check_manage, check_read, grid, is_team, json};

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

/// The setting that holds a city's points rules (CSV `action,points,description`).
pub const RULES_SETTING: &str = "point_rules";

/// A city's points rules: the configured ones, else the defaults.
pub async fn rules(s: &AppState, city: &str) -> Result<Vec<PointRule>, ApiError> {
    let text = s.store.setting(city, RULES_SETTING).await?;
    Ok(gridteam::parse_rules(
        text.as_deref().unwrap_or(gridteam::DEFAULT_RULES_CSV),
    )?)
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created(id: i64) -> (StatusCode, Json<Created>) {
    (StatusCode::CREATED, Json(Created { id }))
}

async fn record_in_grid(s: &AppState, p: &Principal, list: GridList, id: i64) -> Result<(GridRecord, Grid), ApiError> {
    let city = p.city.to_string();
    let rec = s
        .store
        .grid_record(&city, list, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{} {id}", list.as_str())))?;
    let g = grid(s, p, &rec.area).await?;
    Ok((rec, g))
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
    let list = GridList::parse(&list).ok_or_else(|| ApiError::not_found(format!("list {list}")))?;
    let g = grid(&s, &p, &code).await?;
    check_read(&s, &p, &g, list).await?;
    Ok(Json(
        s.store
            .grid_records(&p.city.to_string(), list, &areas(&g), None)
            .await?,
    ))
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    let city = p.city.to_string();
    if s.store.person(&city, m.person).await?.is_none() {
        return Err(ApiError::invalid(format!(
            "person: {} is not in the register",
            m.person
        )));
    }
    let r = NewRecord {
        list: GridList::Members,
        area: g.code.to_string(),
        status: m.role.as_str().into(),
        person: Some(m.person),
        body: json(&m),
    };
    Ok(created(s.store.add_grid_record(&city, &r, Some(p.person_id)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AllianceInput {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub alliance: Alliance,
    /// The alliance covers the grid's whole community rather than the grid.
    #[serde(default)]
    pub community_wide: bool,
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    a.alliance.check()?;
    let city = p.city.to_string();
    for m in &a.alliance.members {
        if s.store.organisation(&city, m.organisation).await?.is_none() {
            return Err(ApiError::invalid(format!(
                "members: organisation {} is not in the register",
                m.organisation
            )));
        }
    }
    let r = NewRecord {
        list: GridList::Alliances,
        area: if a.community_wide {
            g.community.to_string()
        } else {
            g.code.to_string()
        },
        status: "active".into(),
        person: None,
        body: json(&a.alliance),
    };
    Ok(created(s.store.add_grid_record(&city, &r, Some(p.person_id)).await?))
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    let city = p.city.to_string();
    let unit = s
        .store
        .unit(&city, &h.unit)
        .await?
        .ok_or_else(|| ApiError::invalid(format!("unit: {} is not in the premises register", h.unit)))?;
    let building = s.store.building(&city, &unit.building).await?;
    if building.and_then(|b| b.grid).map(|x| x.to_string()) != Some(g.code.to_string()) {
        return Err(ApiError::invalid(format!(
            "unit: {} lies outside grid {}; register the household in its own grid",
            h.unit, g.code
        )));
    }
    if h.head.trim().is_empty() || h.size == 0 {
        return Err(ApiError::invalid(
            "head, size: give the household's head and its size (at least 1)",
        ));
    }
    let r = NewRecord {
        list: GridList::Households,
        area: g.code.to_string(),
        status: "registered".into(),
        person: None,
        body: json(&h),
    };
    Ok(created(s.store.add_grid_record(&city, &r, Some(p.person_id)).await?))
}

/// Record a need. The grid team records needs from visits and meetings; a resident of the
/// community raises their own (source `resident`).
#[utoipa::path(post, path = "/api/grids/{code}/needs", tag = "grid", params(("code" = String, Path)),
    request_body = Object, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_need(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(mut n): Json<Need>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let g = grid(&s, &p, &code).await?;
    // A verified resident of the grid's community raises needs in any grid of it.
    let resident = service::may_raise_as_resident(&p, &g);
    if !service::may_manage(&p, &g) {
        if !resident {
            return Err(ApiError::forbidden(format!(
                "needs of grid {} are raised by verified residents of its community {} and recorded by its grid team",
                g.code, g.community
            )));
        }
        n.source = NeedSource::Resident;
        n.raised_by = Some(p.person_id);
        n.household = None;
    }
    n.raised_by = n.raised_by.or(Some(p.person_id));
    n.check()?;
    let city = p.city.to_string();
    if let Some(h) = n.household {
        let hh = s.store.grid_record(&city, GridList::Households, h).await?;
        if hh.is_none_or(|r| r.area != g.code.as_str()) {
            return Err(ApiError::invalid(format!(
                "household: {h} is not a household of grid {}",
                g.code
            )));
        }
    }
    let r = NewRecord {
        list: GridList::Needs,
        area: g.code.to_string(),
        status: gridteam::NeedStatus::Open.as_str().into(),
        person: n.raised_by,
        body: json(&n),
    };
    let id = s.store.add_grid_record(&city, &r, Some(p.person_id)).await?;
    // A resident who raises a need earns the `need_raised` points; staff recording needs do not.
    if let (Some(raiser), NeedSource::Resident) = (n.raised_by, n.source) {
        let rules = rules(&s, &city).await?;
        if rules.iter().any(|r| r.action == "need_raised") {
            s.store
                .award_points(
                    &city,
                    &[raiser],
                    "need_raised",
                    1,
                    &format!("need:{id}"),
                    &rules,
                    Some(p.person_id),
                )
                .await?;
        }
    }
    Ok(created(id))
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    r.check()?;
    let city = p.city.to_string();
    if let Some(o) = r.organisation {
        if s.store.organisation(&city, o).await?.is_none() {
            return Err(ApiError::invalid(format!("organisation: {o} is not in the register")));
        }
    }
    let rec = NewRecord {
        list: GridList::Resources,
        area: g.code.to_string(),
        status: "available".into(),
        person: r.person,
        body: json(&r),
    };
    Ok(created(s.store.add_grid_record(&city, &rec, Some(p.person_id)).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct OnDate {
    /// The date the resource is wanted on (YYYY-MM-DD); today when absent.
    pub on: Option<String>,
}

fn day(on: Option<&str>) -> Result<NaiveDate, ApiError> {
    match on {
        None => Ok(gongzhi_core::calendar::china_today()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid(format!("on: '{d}' is not a date; write YYYY-MM-DD"))),
    }
}

/// The proposals for one need, best first, among the city's available resources.
pub async fn proposals_for(
    s: &AppState,
    city: &str,
    need: &GridRecord,
    on: NaiveDate,
) -> Result<Vec<gridteam::Proposal>, ApiError> {
    let (mut ranked, _) = proposals_for_all(s, city, std::slice::from_ref(need), on, 10).await?;
    Ok(ranked.pop().unwrap_or_default())
}

/// The ranked resources (at most `limit`) for each of `needs`, reading the city's available
/// resources once and ranking through the matching index; with those resources, for their titles.
pub async fn proposals_for_all(
    s: &AppState,
    city: &str,
    needs: &[GridRecord],
    on: NaiveDate,
    limit: usize,
) -> Result<(Vec<Vec<gridteam::Proposal>>, Vec<GridRecord>), ApiError> {
    if needs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let records = s
        .store
        .grid_records_in_city(city, GridList::Resources, "available")
        .await?;
    let resources = records
        .iter()
        .map(resource_facts)
        .collect::<Result<Vec<_>, StoreError>>()?;
    let needs = needs.iter().map(need_facts).collect::<Result<Vec<_>, StoreError>>()?;
    Ok((gridteam::propose_all(&needs, &resources, on, limit), records))
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
    let (need, g) = record_in_grid(&s, &p, GridList::Needs, id).await?;
    check_read(&s, &p, &g, GridList::Needs).await?;
    let on = day(q.on.as_deref())?;
    Ok(Json(proposals_for(&s, &p.city.to_string(), &need, on).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmInput {
    pub need: i64,
    pub resource: i64,
    pub title: String,
    /// The date the project uses the resource (YYYY-MM-DD); today when absent.
    pub on: Option<String>,
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
    let (need, g) = record_in_grid(&s, &p, GridList::Needs, c.need).await?;
    check_manage(&p, &g)?;
    if c.title.trim().is_empty() {
        return Err(ApiError::invalid("title: name the project"));
    }
    let city = p.city.to_string();
    let res = s
        .store
        .grid_record(&city, GridList::Resources, c.resource)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("resource {}", c.resource)))?;
    let on = day(c.on.as_deref())?;
    let facts = need_facts(&need)?;
    let fit = gridteam::assess(&facts, &resource_facts(&res)?, on).map_err(|m| {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("resource {} does not fit need {}: {m}", c.resource, c.need),
        )
    })?;
    let project = Project {
        title: c.title.trim().to_owned(),
        need: c.need,
        resource: c.resource,
        quantity: facts.quantity,
        reason: fit.reason(),
        reason_zh: Some(fit.reason_zh()),
        outcome: None,
        participants: Vec::new(),
    };
    Ok(created(
        s.store.confirm_match(&city, &project, Some(p.person_id)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct FinishInput {
    /// completed or failed.
    pub outcome: String,
    #[serde(default)]
    pub note: String,
    /// People who took part; on completion each earns the `project_completed` points.
    #[serde(default)]
    pub participants: Vec<i64>,
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
    let (_, g) = record_in_grid(&s, &p, GridList::Projects, id).await?;
    check_manage(&p, &g)?;
    let outcome: ProjectStatus = f.outcome.parse()?;
    let city = p.city.to_string();
    for person in &f.participants {
        if s.store.person(&city, *person).await?.is_none() {
            return Err(ApiError::invalid(format!(
                "participants: person {person} is not in the register"
            )));
        }
    }
    let rules = rules(&s, &city).await?;
    s.store
        .finish_project(&city, id, outcome, &f.note, &f.participants, &rules, Some(p.person_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Unmatched {
    /// Open needs with how many resources could answer them today.
    #[schema(value_type = Vec<Object>)]
    pub needs: Vec<(GridRecord, usize)>,
    /// Resources no project has used.
    #[schema(value_type = Vec<Object>)]
    pub idle_resources: Vec<GridRecord>,
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
    let g = grid(&s, &p, &code).await?;
    check_read(&s, &p, &g, GridList::Needs).await?;
    Ok(Json(
        unmatched_of(&s, &p.city.to_string(), &g, day(q.on.as_deref())?).await?,
    ))
}

pub async fn unmatched_of(s: &AppState, city: &str, g: &Grid, on: NaiveDate) -> Result<Unmatched, ApiError> {
    let open = s
        .store
        .grid_records(city, GridList::Needs, &areas(g), Some("open"))
        .await?;
    let (ranked, _) = proposals_for_all(s, city, &open, on, 10).await?;
    let needs = open.into_iter().zip(ranked.iter().map(Vec::len)).collect();
    let idle_resources = s
        .store
        .grid_records(city, GridList::Resources, &areas(g), None)
        .await?
        .into_iter()
        .filter(|r| {
            let u: gridteam::Usage = serde_json::from_value(r.body["usage"].clone()).unwrap_or_default();
            u.used == 0 && u.completed == 0 && u.failed == 0
        })
        .collect();
    Ok(Unmatched { needs, idle_resources })
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    r.check()?;
    let city = p.city.to_string();
    if let Some(w) = r.worker {
        if s.store.person(&city, w).await?.is_none() {
            return Err(ApiError::invalid(format!("worker: person {w} is not in the register")));
        }
    }
    let rec = NewRecord {
        list: GridList::Routes,
        area: g.code.to_string(),
        status: "active".into(),
        person: r.worker,
        body: json(&r),
    };
    Ok(created(s.store.add_grid_record(&city, &rec, Some(p.person_id)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PatrolInput {
    /// The planned route followed (id in the grid's routes list), if any.
    #[serde(default)]
    pub planned_route: Option<i64>,
    /// The way actually walked: a GeoJSON LineString (WGS-84); the planned route's path when
    /// absent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub route: Option<serde_json::Value>,
    #[serde(default)]
    pub note: String,
    /// Problems found: each becomes a case of the closed loop (source patrol).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Report>,
}

#[derive(Serialize, ToSchema)]
pub struct PatrolLogged {
    pub id: i64,
    pub cases: Vec<i64>,
}

/// Log a patrol (巡查日志); each finding is reported through the case intake (source patrol)
/// and linked to the log.
#[utoipa::path(post, path = "/api/grids/{code}/patrols", tag = "grid", params(("code" = String, Path)), request_body = PatrolInput,
    security(("bearer" = [])), responses((status = 201, body = PatrolLogged), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patrol(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(mut input): Json<PatrolInput>,
) -> ApiResult<(StatusCode, Json<PatrolLogged>)> {
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    if let Some(r) = &input.route {
        gridteam::check_line(r, "route")?;
    }
    if let Some(id) = input.planned_route {
        let planned = s
            .store
            .grid_record(&p.city.to_string(), GridList::Routes, id)
            .await?
            .filter(|r| r.area == g.code.as_str() && r.status == "active")
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "planned_route: {id} is not an active patrol route of grid {}; plan it first (POST /api/grids/{}/routes)",
                    g.code, g.code
                ))
            })?;
        if input.route.is_none() {
            input.route = Some(planned.body["path"].clone());
        }
    }
    let mut cases = Vec::new();
    for f in &mut input.findings {
        f.source = Some("patrol".into());
        let (row, _) = gongzhi_app::cases::intake(&s, &p, f, None).await?;
        cases.push(row.case.id);
    }
    let r = NewRecord {
        list: GridList::Patrols,
        area: g.code.to_string(),
        status: "logged".into(),
        person: Some(p.person_id),
        body: serde_json::json!({ "planned_route": input.planned_route, "route": input.route, "note": input.note, "cases": cases }),
    };
    let id = s
        .store
        .add_grid_record(&p.city.to_string(), &r, Some(p.person_id))
        .await?;
    Ok((StatusCode::CREATED, Json(PatrolLogged { id, cases })))
}

#[derive(Deserialize, ToSchema)]
pub struct VisitInput {
    pub household: i64,
    pub note: String,
    /// Something to do after the visit (跟进事项); the visit stays open until it is done.
    #[serde(default)]
    pub follow_up: Option<String>,
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    let city = p.city.to_string();
    let hh = s.store.grid_record(&city, GridList::Households, v.household).await?;
    if hh.is_none_or(|r| r.area != g.code.as_str()) {
        return Err(ApiError::invalid(format!(
            "household: {} is not a household of grid {}",
            v.household, g.code
        )));
    }
    if v.note.trim().is_empty() {
        return Err(ApiError::invalid("note: say what the visit found"));
    }
    let r = NewRecord {
        list: GridList::Visits,
        area: g.code.to_string(),
        status: if v.follow_up.is_some() { "follow_up" } else { "done" }.into(),
        person: Some(p.person_id),
        body: serde_json::json!({ "household": v.household, "note": v.note, "follow_up": v.follow_up, "follow_ups": [] }),
    };
    Ok(created(s.store.add_grid_record(&city, &r, Some(p.person_id)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct FollowUpInput {
    pub note: String,
    /// The follow-up is finished.
    #[serde(default)]
    pub done: bool,
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
    let (rec, g) = record_in_grid(&s, &p, GridList::Visits, id).await?;
    check_manage(&p, &g)?;
    if rec.status != "follow_up" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("visit {id} has no open follow-up"),
        ));
    }
    let mut body = rec.body.clone();
    if let Some(list) = body["follow_ups"].as_array_mut() {
        list.push(serde_json::json!({ "note": f.note, "by": p.person_id, "at": gongzhi_store::now_ms() }));
    }
    let status = if f.done { "done" } else { "follow_up" };
    s.store
        .change_grid_record(
            &p.city.to_string(),
            GridList::Visits,
            id,
            status,
            &body,
            "visit_followed_up",
            Some(p.person_id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ActivityInput {
    /// meeting or activity.
    pub kind: String,
    pub title: String,
    /// YYYY-MM-DD.
    pub date: String,
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    let kind: ActivityKind = a.kind.parse()?;
    let date = day(Some(&a.date))?;
    if a.title.trim().is_empty() {
        return Err(ApiError::invalid("title: name the meeting or activity"));
    }
    let r = NewRecord {
        list: GridList::Activities,
        area: g.code.to_string(),
        status: kind.as_str().into(),
        person: Some(p.person_id),
        body: serde_json::json!({ "kind": kind, "title": a.title.trim(), "date": date, "attendance": [] }),
    };
    Ok(created(
        s.store
            .add_grid_record(&p.city.to_string(), &r, Some(p.person_id))
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AttendanceInput {
    pub people: Vec<i64>,
}

/// Record who attended; each new attendee earns the `activity_attended` points.
#[utoipa::path(post, path = "/api/grid-activities/{id}/attendance", tag = "grid", params(("id" = i64, Path)), request_body = AttendanceInput,
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attend(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(a): Json<AttendanceInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let (rec, g) = record_in_grid(&s, &p, GridList::Activities, id).await?;
    check_manage(&p, &g)?;
    let city = p.city.to_string();
    let mut body = rec.body.clone();
    let mut present: Vec<i64> = body["attendance"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_i64()).collect())
        .unwrap_or_default();
    let mut new = Vec::new();
    for person in &a.people {
        if s.store.person(&city, *person).await?.is_none() {
            return Err(ApiError::invalid(format!(
                "people: person {person} is not in the register"
            )));
        }
        if !present.contains(person) {
            present.push(*person);
            new.push(*person);
        }
    }
    body["attendance"] = json(&present);
    s.store
        .change_grid_record(
            &city,
            GridList::Activities,
            id,
            &rec.status,
            &body,
            "attendance_recorded",
            Some(p.person_id),
        )
        .await?;
    let rules = rules(&s, &city).await?;
    let points = s
        .store
        .award_points(
            &city,
            &new,
            "activity_attended",
            1,
            &format!("activity:{id}"),
            &rules,
            Some(p.person_id),
        )
        .await?;
    Ok(Json(
        serde_json::json!({ "attendance": present, "awarded": new, "points_each": points }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct VolunteerInput {
    pub person: i64,
    pub hours: i64,
    /// YYYY-MM-DD.
    pub date: String,
    #[serde(default)]
    pub note: String,
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
    let g = grid(&s, &p, &code).await?;
    check_manage(&p, &g)?;
    let city = p.city.to_string();
    if !(1..=24).contains(&v.hours) {
        return Err(ApiError::invalid("hours: record 1 to 24 hours of service a day"));
    }
    let date = day(Some(&v.date))?;
    if s.store.person(&city, v.person).await?.is_none() {
        return Err(ApiError::invalid(format!(
            "person: {} is not in the register",
            v.person
        )));
    }
    let r = NewRecord {
        list: GridList::Volunteering,
        area: g.code.to_string(),
        status: "recorded".into(),
        person: Some(v.person),
        body: serde_json::json!({ "person": v.person, "hours": v.hours, "date": date, "note": v.note }),
    };
    let id = s.store.add_grid_record(&city, &r, Some(p.person_id)).await?;
    let rules = rules(&s, &city).await?;
    s.store
        .award_points(
            &city,
            &[v.person],
            "volunteer_hour",
            v.hours,
            &format!("volunteering:{id}"),
            &rules,
            Some(p.person_id),
        )
        .await?;
    Ok(created(id))
}

#[derive(Serialize, ToSchema)]
pub struct Ledger {
    pub person: i64,
    pub balance: i64,
    /// Every line with the balance after it.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<gridteam::Explained>,
}

/// A person's points: the balance and every line that explains it. Seen by the person and by
/// the grid teams serving their community.
#[utoipa::path(get, path = "/api/points/{person}", tag = "grid", params(("person" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Ledger), (status = 403, body = ErrorBody)))]
pub async fn ledger(State(s): State<AppState>, Auth(p): Auth, Path(person): Path<i64>) -> ApiResult<Json<Ledger>> {
    service::require_see_points(&s, &p, person).await?;
    Ok(Json(ledger_of(&s, &p.city.to_string(), person).await?))
}

pub async fn ledger_of(s: &AppState, city: &str, person: i64) -> Result<Ledger, ApiError> {
    let lines = gridteam::explain(&s.store.points_ledger(city, person).await?);
    Ok(Ledger {
        person,
        balance: lines.last().map_or(0, |l| l.balance),
        lines,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct RedeemInput {
    pub amount: i64,
    /// What the points are exchanged for.
    pub what: String,
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
    service::require_redeem_points(&s, &p, person).await?;
    if r.what.trim().is_empty() {
        return Err(ApiError::invalid("what: say what the points are exchanged for"));
    }
    gridteam::check_redeem(i64::MAX, r.amount)?;
    let city = p.city.to_string();
    s.store
        .redeem_points(&city, person, r.amount, r.what.trim(), Some(p.person_id))
        .await?;
    Ok(Json(ledger_of(&s, &city, person).await?))
}

/// The points rules (CSV `action,points,description`).
#[utoipa::path(get, path = "/api/points/rules", tag = "grid", security(("bearer" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn get_rules(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<PointRule>>> {
    Ok(Json(rules(&s, &p.city.to_string()).await?))
}

/// Replace the points rules (CSV body); administrators only.
#[utoipa::path(put, path = "/api/points/rules", tag = "grid", request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_rules(State(s): State<AppState>, Auth(p): Auth, body: String) -> ApiResult<Json<Vec<PointRule>>> {
    service::require_rules_admin(&p)?;
    let parsed = gridteam::parse_rules(&body)?;
    s.store
        .set_setting(&p.city.to_string(), RULES_SETTING, &body, Some(p.person_id))
        .await?;
    Ok(Json(parsed))
}

#[derive(Serialize, ToSchema)]
pub struct Indicators {
    pub grid: String,
    #[schema(value_type = Object)]
    pub counts: GridCounts,
    /// 漏报率: resident reports / registered cases.
    pub missed_report_rate: Option<f64>,
    /// The same, month by month (the last 6 months).
    #[schema(value_type = Vec<Object>)]
    pub months: Vec<(String, GridCounts, Option<f64>)>,
}

/// The grid indicators of an area (a division or a grid) over [from_ms, to_ms): its grids'
/// counts added up, and the same per part of it (each child division, or each grid of a
/// community), keyed by code.
pub async fn area_grid_counts(
    s: &AppState,
    city: &str,
    within: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<(GridCounts, HashMap<String, GridCounts>), ApiError> {
    let (per_grid, parents) = tokio::try_join!(
        s.store.grid_counts_by_grid(city, None, from_ms, to_ms),
        s.store.territory_parents(city),
    )?;
    let mut total = GridCounts::default();
    let mut parts: HashMap<String, GridCounts> = HashMap::new();
    for (grid, c) in &per_grid {
        // Walk up from the grid; the node just below `within` is the part it counts for.
        let (mut node, mut below) = (grid.as_str(), None);
        loop {
            if node == within {
                total.add(c);
                if let Some(b) = below {
                    parts.entry(String::from(b)).or_default().add(c);
                }
                break;
            }
            let Some(parent) = parents.get(node) else { break };
            below = Some(node);
            node = parent;
        }
    }
    Ok((total, parts))
}

#[derive(Deserialize, IntoParams)]
pub struct AreaQuery {
    /// A division or grid code.
    pub within: String,
    /// First day, YYYY-MM-DD (default: a year before `to`).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
}

impl AreaQuery {
    /// The period's first and last day: by default the year up to today.
    pub fn days(&self) -> ApiResult<(NaiveDate, NaiveDate)> {
        let parse = |field: &str, v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| ApiError::invalid(format!("{field}: '{v}' is not a date; write YYYY-MM-DD")))
        };
        let to = match self.to.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => parse("to", t)?,
            None => gongzhi_core::calendar::china_today(),
        };
        let from = match self.from.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => parse("from", f)?,
            None => to - chrono::Duration::days(364),
        };
        if from > to {
            return Err(ApiError::invalid("from: the first day comes before the last (to)"));
        }
        Ok((from, to))
    }
}

#[derive(Serialize, ToSchema)]
pub struct AreaIndicators {
    pub within: String,
    pub from: String,
    pub to: String,
    #[schema(value_type = Object)]
    pub counts: GridCounts,
    /// 漏报率 over the area: resident reports / registered cases.
    pub missed_report_rate: Option<f64>,
    /// Per part (child division, or grid of a community): code, counts, 漏报率.
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<(String, GridCounts, Option<f64>)>,
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
    service::require_area_indicators(&p, &q.within)?;
    let (from, to) = q.days()?;
    let (from_ms, to_ms) = day_range_ms(from, to);
    let city = p.city.to_string();
    let (counts, parts) = area_grid_counts(&s, &city, &q.within, from_ms, to_ms).await?;
    let mut parts: Vec<_> = parts
        .into_iter()
        .map(|(code, c)| {
            let rate = gridteam::missed_report_rate(c.cases_by_residents, c.cases_registered);
            (code, c, rate)
        })
        .collect();
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Json(AreaIndicators {
        within: q.within,
        from: from.to_string(),
        to: to.to_string(),
        missed_report_rate: gridteam::missed_report_rate(counts.cases_by_residents, counts.cases_registered),
        counts,
        parts,
    }))
}

/// Milliseconds from the start of `from` to the end of `to`, in China Standard Time.
pub fn day_range_ms(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    use gongzhi_core::calendar::china_day_start_ms as start;
    (start(from), start(to + chrono::Duration::days(1)))
}

/// Unix ms at which a month begins in China.
fn month_start_ms(y: i32, m: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, 1).map_or(0, gongzhi_core::calendar::china_day_start_ms)
}

/// A grid's indicators, in all and month by month.
pub async fn indicators_of(s: &AppState, city: &str, g: &Grid) -> Result<Indicators, ApiError> {
    let counts = s.store.grid_counts(city, g.code.as_str(), 0, i64::MAX).await?;
    let today = gongzhi_core::calendar::china_today();
    let mut months = Vec::new();
    let (mut y, mut m) = (today.year(), today.month());
    for _ in 0..6 {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let c = s
            .store
            .grid_counts(city, g.code.as_str(), month_start_ms(y, m), month_start_ms(ny, nm))
            .await?;
        let rate = gridteam::missed_report_rate(c.cases_by_residents, c.cases_registered);
        months.push((format!("{y}-{m:02}"), c, rate));
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    }
    months.reverse();
    Ok(Indicators {
        grid: g.code.to_string(),
        missed_report_rate: gridteam::missed_report_rate(counts.cases_by_residents, counts.cases_registered),
        counts,
        months,
    })
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
    let g = grid(&s, &p, &code).await?;
    if !is_team(&p, &g) {
        return Err(ApiError::forbidden(
            "grid indicators are seen by the grid team and staff above",
        ));
    }
    Ok(Json(indicators_of(&s, &p.city.to_string(), &g).await?))
}

/// Import needs or resources from a CSV (UTF-8) or XLSX file into a grid, all or nothing;
/// columns as in the export. A wrong line is reported with its number and nothing is stored.
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
    let g = grid(&s, &p, &code).await?;
    let ids = service::import(&s, &p.city.to_string(), &g, &list, &body, Some(&p)).await?;
    Ok(Json(serde_json::json!({ "imported": ids.len(), "ids": ids })))
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
    let g = grid(&s, &p, &code).await?;
    let text = service::export(&s, &p.city.to_string(), &g, &list, Some(&p)).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text))
}
