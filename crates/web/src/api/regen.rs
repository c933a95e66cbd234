//! Urban regeneration API (城市更新·柔性协调): projects, holders and their scenarios, resources,
//! matching and the plan, contacts with the pressure guard, decisions, consent thresholds.
//! Regeneration staff (the `coordinate_regeneration` permission in the project's community) see
//! everything; anyone sees a project's public aggregates, never a named holder's position.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{NaiveDate, NaiveDateTime};
use gongzhi_core::decision::Standing;
use gongzhi_core::regen::import::{parse_holders, parse_resources};
use gongzhi_core::regen::matching::{Matches, Plan};
use gongzhi_core::regen::{
    Choice, Contact, DecisionRecord, Organisation, Override, Project, ProjectConfig, Scenario, Stance,
};
use gongzhi_core::table::Table;
use gongzhi_store::prelude::*;
use gongzhi_store::{ContactRecord, DecisionEntry, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use gongzhi_app::regen::{require_coordinator, HolderRow, Overview, PublicView, ResourceRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(public_view))
        .routes(routes!(import_holders))
        .routes(routes!(import_resources))
        .routes(routes!(list_resources))
        .routes(routes!(get_holder))
        .routes(routes!(override_holder))
        .routes(routes!(add_contact))
        .routes(routes!(record_decision))
        .routes(routes!(thresholds))
        .routes(routes!(get_plan))
}

/// A project in a listing.
#[derive(Serialize, ToSchema)]
pub struct ProjectSummary {
    pub code: String,
    pub name: String,
    pub community: String,
}

/// The projects of the caller's city in areas the caller coordinates.
#[utoipa::path(get, path = "/api/regen/projects", tag = "regeneration", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProjectSummary>), (status = 401, body = ErrorBody)))]
pub async fn list_projects(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<ProjectSummary>>> {
    let projects = s.store.regen_projects(&p.city.to_string()).await?;
    Ok(Json(
        projects
            .into_iter()
            .filter(|x| gongzhi_app::regen::may_coordinate_in(&p, &x.community))
            .map(|x| ProjectSummary {
                code: x.code,
                name: x.name,
                community: x.community,
            })
            .collect(),
    ))
}

/// A new project.
#[derive(Deserialize, ToSchema)]
pub struct NewProject {
    pub code: String,
    pub name: String,
    /// The community (12 digits) whose premises it covers.
    pub community: String,
    /// Catalogue, scenario rule, pressure guard, consent rule sets, withdrawal deadline; defaults
    /// when absent (the built-in catalogue and rules).
    #[schema(value_type = Option<Object>)]
    pub config: Option<ProjectConfig>,
}

/// Create a regeneration project in a community the caller coordinates.
#[utoipa::path(post, path = "/api/regen/projects", tag = "regeneration", security(("bearer" = [])), request_body = NewProject,
    responses((status = 200, body = ProjectSummary), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(n): Json<NewProject>,
) -> ApiResult<Json<ProjectSummary>> {
    let project = Project::new(&n.code, &n.name, &n.community, n.config.unwrap_or_default())?;
    require_coordinator(&p, &project)?;
    s.store
        .create_regen_project(&p.city.to_string(), &project, Some(p.person_id))
        .await?;
    Ok(Json(ProjectSummary {
        code: project.code,
        name: project.name,
        community: project.community,
    }))
}

async fn overview_for(s: &AppState, p: &gongzhi_core::access::Principal, code: &str) -> ApiResult<Overview> {
    let o = Overview::load(&s.store, &p.city.to_string(), code).await?;
    require_coordinator(p, &o.project)?;
    Ok(o)
}

/// The project with every holder's scenario, organisation and decision, and the consent standings.
#[derive(Serialize, ToSchema)]
pub struct ProjectDetail {
    #[schema(value_type = Object)]
    pub project: Project,
    pub holders: Vec<HolderRow>,
    #[schema(value_type = Vec<Object>)]
    pub standings: Vec<Standing>,
}

#[utoipa::path(get, path = "/api/regen/projects/{code}", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProjectDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<ProjectDetail>> {
    let o = overview_for(&s, &p, &code).await?;
    Ok(Json(ProjectDetail {
        project: o.project,
        holders: o.holders,
        standings: o.standings,
    }))
}

/// Public aggregates: holders and area per decision, each rule's percentages; no names.
#[utoipa::path(get, path = "/api/regen/projects/{code}/public", tag = "regeneration", params(("code" = String, Path)),
    responses((status = 200, body = PublicView), (status = 404, body = ErrorBody)))]
pub async fn public_view(State(s): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<PublicView>> {
    Ok(Json(Overview::load(&s.store, &s.default_city, &code).await?.public()))
}

/// How many rows an import stored.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
}

/// Import holders from CSV or XLSX, one row per holding: `holder, name, kind, members, contested,
/// representatives, sticking_points (code:severity;…), unit, area_m2, common_share`. All or nothing.
#[utoipa::path(post, path = "/api/regen/projects/{code}/holders/import", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Imported), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_holders(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Imported>> {
    let city = p.city.to_string();
    let project = s.store.regen_project_or_404(&city, &code).await?;
    require_coordinator(&p, &project)?;
    let table = Table::from_bytes(&body).map_err(|e| StoreError::Lines(vec![e]))?;
    let holders = parse_holders(&table, &project.config.catalogue).map_err(StoreError::Lines)?;
    let imported = s
        .store
        .import_regen_holders(&city, &code, &holders, Some(p.person_id))
        .await?;
    Ok(Json(Imported { imported }))
}

/// Import governance resources from CSV or XLSX: `code, name, kind (formal/informal), category,
/// holder, capacity, cost, addresses (codes;…), scarce (yes/no)`. All or nothing.
#[utoipa::path(post, path = "/api/regen/projects/{code}/resources/import", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Imported), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_resources(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Imported>> {
    let city = p.city.to_string();
    let project = s.store.regen_project_or_404(&city, &code).await?;
    require_coordinator(&p, &project)?;
    let table = Table::from_bytes(&body).map_err(|e| StoreError::Lines(vec![e]))?;
    let resources = parse_resources(&table, &project.config.catalogue).map_err(StoreError::Lines)?;
    let imported = s
        .store
        .import_regen_resources(&city, &code, &resources, Some(p.person_id))
        .await?;
    Ok(Json(Imported { imported }))
}

/// The resource registry with each resource's use counted against its capacity.
#[utoipa::path(get, path = "/api/regen/projects/{code}/resources", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ResourceRow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_resources(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<ResourceRow>>> {
    Ok(Json(overview_for(&s, &p, &code).await?.resources))
}

/// One holder: classification, ranked resources with reasons, contacts and decision records.
#[derive(Serialize, ToSchema)]
pub struct HolderDetail {
    pub row: HolderRow,
    #[schema(value_type = Object)]
    pub matches: Matches,
    #[schema(value_type = Vec<Object>)]
    pub contacts: Vec<ContactRecord>,
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<DecisionEntry>,
}

#[utoipa::path(get, path = "/api/regen/projects/{code}/holders/{holder}", tag = "regeneration", params(("code" = String, Path), ("holder" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = HolderDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_holder(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((code, holder)): Path<(String, String)>,
) -> ApiResult<Json<HolderDetail>> {
    let o = overview_for(&s, &p, &code).await?;
    Ok(Json(holder_detail(&o, &holder)?))
}

pub(crate) fn holder_detail(o: &Overview, holder: &str) -> ApiResult<HolderDetail> {
    let row = o.holder(holder)?.clone();
    Ok(HolderDetail {
        matches: o.matches(&row),
        contacts: o
            .contacts
            .iter()
            .filter(|c| c.contact.holder == holder)
            .cloned()
            .collect(),
        decisions: o
            .decisions
            .iter()
            .filter(|d| d.record.holder == holder)
            .cloned()
            .collect(),
        row,
    })
}

/// A staff override: a scenario and/or a degree of organisation with the reason, or `clear` to
/// return to the rule's result.
#[derive(Deserialize, ToSchema)]
pub struct OverrideRequest {
    /// I, II or III.
    pub scenario: Option<String>,
    /// high, medium or low.
    pub organisation: Option<String>,
    pub reason: Option<String>,
    #[serde(default)]
    pub clear: bool,
}

#[utoipa::path(post, path = "/api/regen/projects/{code}/holders/{holder}/override", tag = "regeneration", params(("code" = String, Path), ("holder" = String, Path)), security(("bearer" = [])),
    request_body = OverrideRequest,
    responses((status = 200, body = HolderRow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn override_holder(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((code, holder)): Path<(String, String)>,
    Json(r): Json<OverrideRequest>,
) -> ApiResult<Json<HolderRow>> {
    let city = p.city.to_string();
    let project = s.store.regen_project_or_404(&city, &code).await?;
    require_coordinator(&p, &project)?;
    let reason = r.reason.unwrap_or_default();
    let (scenario, organisation) = if r.clear {
        (Some(None), Some(None))
    } else {
        if r.scenario.is_none() && r.organisation.is_none() {
            return Err(ApiError::invalid(
                "give a scenario (I, II, III), an organisation (high, medium, low), or clear: true",
            ));
        }
        if reason.trim().is_empty() {
            return Err(ApiError::invalid("reason: an override needs its reason"));
        }
        let scenario = r.scenario.as_deref().map(str::parse::<Scenario>).transpose()?;
        let organisation = r.organisation.as_deref().map(str::parse::<Organisation>).transpose()?;
        (
            scenario.map(|value| {
                Some(Override {
                    value,
                    reason: reason.clone(),
                })
            }),
            organisation.map(|value| {
                Some(Override {
                    value,
                    reason: reason.clone(),
                })
            }),
        )
    };
    s.store
        .override_regen_holder(&city, &code, &holder, scenario, organisation, Some(p.person_id))
        .await?;
    let o = Overview::load(&s.store, &city, &code).await?;
    Ok(Json(o.holder(&holder)?.clone()))
}

/// A contact to record.
#[derive(Deserialize, ToSchema)]
pub struct NewContact {
    pub holder: String,
    /// Local date and time, `YYYY-MM-DDTHH:MM`.
    pub at: String,
    /// Who made the contact.
    pub staff: String,
    #[serde(default)]
    pub resources: Vec<String>,
    /// opposed, hesitant, neutral, leaning or agreed.
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub next_step: String,
}

pub(crate) fn contact_of(n: NewContact) -> ApiResult<Contact> {
    let at = NaiveDateTime::parse_from_str(n.at.trim(), "%Y-%m-%dT%H:%M").map_err(|_| {
        ApiError::invalid(format!(
            "at: '{}' is not a local date and time like 2026-05-04T15:30",
            n.at
        ))
    })?;
    Ok(Contact {
        holder: n.holder,
        at,
        staff: n.staff,
        resources: n.resources,
        before: n.before.parse::<Stance>()?,
        after: n.after.parse::<Stance>()?,
        next_step: n.next_step,
    })
}

/// Record a contact (append-only). The answer carries the pressure guard's warnings.
#[utoipa::path(post, path = "/api/regen/projects/{code}/contacts", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    request_body = NewContact,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_contact(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(n): Json<NewContact>,
) -> ApiResult<Json<ContactRecord>> {
    let city = p.city.to_string();
    let project = s.store.regen_project_or_404(&city, &code).await?;
    require_coordinator(&p, &project)?;
    let contact = contact_of(n)?;
    Ok(Json(
        s.store
            .add_regen_contact(&city, &code, &contact, Some(p.person_id))
            .await?,
    ))
}

/// A decision to record (`choice`: agree, oppose, abstain) or a withdrawal (`choice: "withdraw"`).
#[derive(Deserialize, ToSchema)]
pub struct NewDecision {
    pub holder: String,
    pub choice: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub evidence: String,
}

/// The decision as recorded and every rule's standing after it.
#[derive(Serialize, ToSchema)]
pub struct DecisionResult {
    #[schema(value_type = Object)]
    pub entry: DecisionEntry,
    #[schema(value_type = Vec<Object>)]
    pub standings: Vec<Standing>,
}

pub(crate) fn decision_of(n: NewDecision, recorder: &str) -> ApiResult<DecisionRecord> {
    let choice = match n.choice.trim() {
        "withdraw" | "撤回" => None,
        c => Some(c.parse::<Choice>()?),
    };
    let date: NaiveDate = n
        .date
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid(format!("date: '{}' is not a date like 2026-06-01", n.date)))?;
    Ok(DecisionRecord {
        holder: n.holder,
        choice,
        date,
        evidence: n.evidence,
        recorder: recorder.to_owned(),
    })
}

/// Record a holder's decision or its withdrawal (an event; refused with 409 after the deadline).
#[utoipa::path(post, path = "/api/regen/projects/{code}/decisions", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    request_body = NewDecision,
    responses((status = 200, body = DecisionResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_decision(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(n): Json<NewDecision>,
) -> ApiResult<Json<DecisionResult>> {
    let city = p.city.to_string();
    let project = s.store.regen_project_or_404(&city, &code).await?;
    require_coordinator(&p, &project)?;
    let record = decision_of(n, &p.name)?;
    let entry = s
        .store
        .record_regen_decision(&city, &code, &record, Some(p.person_id))
        .await?;
    let o = Overview::load(&s.store, &city, &code).await?;
    Ok(Json(DecisionResult {
        entry,
        standings: o.standings,
    }))
}

/// Every consent rule's standing: by head count and by area, what is missing, the smallest set
/// still to sign, key holdouts, and whether abstaining owners alone sink the participation quorum.
#[utoipa::path(get, path = "/api/regen/projects/{code}/thresholds", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn thresholds(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<Standing>>> {
    Ok(Json(overview_for(&s, &p, &code).await?.standings))
}

/// The project-wide plan for the scarce resources, explained.
#[utoipa::path(get, path = "/api/regen/projects/{code}/plan", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_plan(State(s): State<AppState>, Auth(p): Auth, Path(code): Path<String>) -> ApiResult<Json<Plan>> {
    Ok(Json(overview_for(&s, &p, &code).await?.plan()))
}
