//! Urban regeneration API (城市更新·柔性协调): projects, holders and their scenarios, resources,
//! matching and the plan, contacts with the pressure guard, decisions, consent thresholds.
//! Regeneration staff (the `coordinate_regeneration` permission in the project's community) see
//! everything; anyone sees a project's public aggregates, never a named holder's position.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use gongzhi_core::decision::Standing;
use gongzhi_core::regen::matching::Plan;
use gongzhi_core::regen::{Project, ProjectConfig};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;
use gongzhi_app::regen::{self as service, HolderRow, PublicView, ResourceRow};
pub use gongzhi_app::regen::{
    ContactRecord, DecisionResult, HolderDetail, NewContact, NewDecision, OverrideRequest, ProjectSummary,
};

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

/// The projects of the caller's city in areas the caller coordinates.
#[utoipa::path(get, path = "/api/regen/projects", tag = "regeneration", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProjectSummary>), (status = 401, body = ErrorBody)))]
pub async fn list_projects(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<ProjectSummary>>> {
    Ok(Json(service::projects(&s, &p).await?))
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
    let city = p.city;
    Ok(Json(service::create_project(&s, Some(&p), city, project).await?))
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
    let o = service::overview(&s, &p, &code).await?;
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
    Ok(Json(service::public_view(&s, &code).await?))
}

/// What an import did: how many rows the file had (holders or resources), and each by its
/// natural key (holder or resource code): `added`, `updated` (one event each), `unchanged`
/// (nothing written). A re-import of the same file adds nothing.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

impl From<gongzhi_core::import::ImportReport> for Imported {
    fn from(r: gongzhi_core::import::ImportReport) -> Imported {
        Imported {
            imported: r.added.len() + r.updated.len() + r.unchanged.len(),
            added: r.added,
            updated: r.updated,
            unchanged: r.unchanged,
        }
    }
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
    let city = p.city;
    Ok(Json(
        service::import_holders(&s, Some(&p), city, &code, &body).await?.into(),
    ))
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
    let city = p.city;
    Ok(Json(
        service::import_resources(&s, Some(&p), city, &code, &body)
            .await?
            .into(),
    ))
}

/// The resource registry with each resource's use counted against its capacity.
#[utoipa::path(get, path = "/api/regen/projects/{code}/resources", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ResourceRow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_resources(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<ResourceRow>>> {
    Ok(Json(service::overview(&s, &p, &code).await?.resources))
}

#[utoipa::path(get, path = "/api/regen/projects/{code}/holders/{holder}", tag = "regeneration", params(("code" = String, Path), ("holder" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = HolderDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_holder(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((code, holder)): Path<(String, String)>,
) -> ApiResult<Json<HolderDetail>> {
    let o = service::overview(&s, &p, &code).await?;
    Ok(Json(service::holder_detail(&o, &holder)?))
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
    Ok(Json(service::override_holder(&s, &p, &code, &holder, r).await?))
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
    Ok(Json(service::add_contact(&s, &p, &code, n).await?))
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
    Ok(Json(service::record_decision(&s, &p, &code, n).await?))
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
    Ok(Json(service::overview(&s, &p, &code).await?.standings))
}

/// The project-wide plan for the scarce resources, explained.
#[utoipa::path(get, path = "/api/regen/projects/{code}/plan", tag = "regeneration", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_plan(State(s): State<AppState>, Auth(p): Auth, Path(code): Path<String>) -> ApiResult<Json<Plan>> {
    Ok(Json(service::overview(&s, &p, &code).await?.plan()))
}
