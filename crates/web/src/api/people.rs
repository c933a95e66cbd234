//! Organisations and people API. Organisations are public; people and their contact details are
//! visible only within the viewer's jurisdiction.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_app::people as service;
pub use gongzhi_app::people::{GrantRequest, NewOrganisationRequest, NewPersonRequest, OrganisationView, PersonView};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::territory::city_of;
use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person))
}

#[derive(Deserialize, IntoParams)]
pub struct OrgQuery {
    /// Only this kind, e.g. functional_department, community_committee.
    pub kind: Option<String>,
}

/// Organisations of the city (public).
#[utoipa::path(get, path = "/api/organisations", tag = "people", params(OrgQuery),
    responses((status = 200, body = Vec<OrganisationView>), (status = 422, body = ErrorBody)))]
pub async fn list_organisations(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<OrgQuery>,
) -> ApiResult<Json<Vec<OrganisationView>>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(service::organisations(&s, city, q.kind.as_deref()).await?))
}

/// One organisation (public).
#[utoipa::path(get, path = "/api/organisations/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = OrganisationView), (status = 404, body = ErrorBody)))]
pub async fn get_organisation(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<OrganisationView>> {
    Ok(Json(service::organisation(&s, city_of(&s, p.as_ref()), id).await?))
}

/// Register an organisation (administrators whose scope covers its whole jurisdiction).
#[utoipa::path(post, path = "/api/organisations", tag = "people", request_body = NewOrganisationRequest, security(("bearer" = [])),
    responses((status = 201, body = OrganisationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_organisation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(req): Json<NewOrganisationRequest>,
) -> ApiResult<(StatusCode, Json<OrganisationView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_organisation(&s, &p, req).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// Return people with an id greater than this (keyset paging).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// People within the viewer's jurisdiction (grid heads, administrators).
#[utoipa::path(get, path = "/api/people", tag = "people", params(PeopleQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<PersonView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_people(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<PeopleQuery>,
) -> ApiResult<Json<Vec<PersonView>>> {
    let limit = q.limit.unwrap_or(100);
    Ok(Json(service::people(&s, &p, q.after.unwrap_or(0), limit).await?))
}

/// One person (themselves, or within the viewer's jurisdiction).
#[utoipa::path(get, path = "/api/people/{id}", tag = "people", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = PersonView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_person(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<PersonView>> {
    Ok(Json(service::person(&s, &p, id).await?))
}

/// Register a person with roles and an optional login (administrators whose scope covers every grant).
#[utoipa::path(post, path = "/api/people", tag = "people", request_body = NewPersonRequest, security(("bearer" = [])),
    responses((status = 201, body = PersonView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_person(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(req): Json<NewPersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    Ok((StatusCode::CREATED, Json(service::create_person(&s, &p, req).await?)))
}
