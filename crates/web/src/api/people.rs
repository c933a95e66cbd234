//! Organisations and people API. Organisations are public; people and their contact details are
//! visible only within the viewer's jurisdiction.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::org::{self, NewOrganisation, OrgKind, Organisation};
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::prelude::*;
use gongzhi_store::NewPerson;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::territory::city_of;
use crate::auth::{hash_password, Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person))
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub kind_zh: String,
    pub parent: Option<i64>,
    pub jurisdiction: Vec<String>,
}

impl From<Organisation> for OrganisationView {
    fn from(o: Organisation) -> Self {
        OrganisationView {
            id: o.id,
            name: o.name,
            kind: o.kind.to_string(),
            kind_zh: o.kind.zh().to_owned(),
            parent: o.parent,
            jurisdiction: o.jurisdiction.iter().map(|d| d.to_string()).collect(),
        }
    }
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
    let kind = q.kind.as_deref().map(str::parse::<OrgKind>).transpose()?;
    let orgs = s.store.organisations(&city_of(&s, p.as_ref()), kind).await?;
    Ok(Json(orgs.into_iter().map(Into::into).collect()))
}

/// One organisation (public).
#[utoipa::path(get, path = "/api/organisations/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = OrganisationView), (status = 404, body = ErrorBody)))]
pub async fn get_organisation(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<OrganisationView>> {
    let o = s
        .store
        .organisation(&city_of(&s, p.as_ref()), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {id}")))?;
    Ok(Json(o.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrganisationRequest {
    pub name: String,
    pub kind: String,
    pub parent: Option<i64>,
    /// Division codes the organisation serves.
    pub jurisdiction: Vec<String>,
}

/// Register an organisation (administrators whose scope covers its whole jurisdiction).
#[utoipa::path(post, path = "/api/organisations", tag = "people", request_body = NewOrganisationRequest, security(("bearer" = [])),
    responses((status = 201, body = OrganisationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_organisation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(req): Json<NewOrganisationRequest>,
) -> ApiResult<(StatusCode, Json<OrganisationView>)> {
    let jurisdiction = req
        .jurisdiction
        .iter()
        .map(|c| DivisionCode::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewOrganisation::new(&req.name, req.kind.parse()?, req.parent, jurisdiction)?;
    gongzhi_app::people::require_may_register_organisation(&p, &new)?;
    let city = p.city.to_string();
    let id = s.store.create_organisation(&city, &new, Some(p.person_id)).await?;
    let o = s
        .store
        .organisation(&city, id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    Ok((StatusCode::CREATED, Json(o.into())))
}

#[derive(Serialize, ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
    /// Contact: shown only to those who may view people in this person's area.
    pub phone: Option<String>,
    pub org: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<Grant>,
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
    gongzhi_app::people::require_list(&p)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut out = Vec::new();
    let mut after = q.after.unwrap_or(0);
    // Scan forward in batches until the page is full of people the viewer may see.
    while out.len() < limit as usize {
        let batch = s.store.people(p.city.as_str(), after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = last.0.id;
        for (person, grants) in batch {
            if out.len() < limit as usize && gongzhi_app::people::may_view(&s, &p, &person, &grants).await? {
                out.push(PersonView {
                    id: person.id,
                    name: person.name,
                    phone: person.phone,
                    org: person.org,
                    grants,
                });
            }
        }
    }
    Ok(Json(out))
}

/// One person (themselves, or within the viewer's jurisdiction).
#[utoipa::path(get, path = "/api/people/{id}", tag = "people", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = PersonView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_person(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<PersonView>> {
    let city = p.city.to_string();
    let person = s
        .store
        .person(&city, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("person {id}")))?;
    let grants = s.store.grants(&city, id).await?;
    if !gongzhi_app::people::may_view(&s, &p, &person, &grants).await? {
        return Err(ApiError::forbidden("this person is outside your jurisdiction"));
    }
    Ok(Json(PersonView {
        id: person.id,
        name: person.name,
        phone: person.phone,
        org: person.org,
        grants,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPersonRequest {
    pub name: String,
    pub phone: Option<String>,
    pub org: Option<i64>,
    /// Roles with scopes, e.g. `{"role":"grid_worker","scope":"grids:510104001001001"}`.
    pub grants: Vec<GrantRequest>,
    /// A login, when the person may sign in.
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct GrantRequest {
    pub role: String,
    /// `division:CODE`, `grids:CODE;CODE` or `organisation:ID`.
    pub scope: String,
}

/// Register a person with roles and an optional login (administrators whose scope covers every grant).
#[utoipa::path(post, path = "/api/people", tag = "people", request_body = NewPersonRequest, security(("bearer" = [])),
    responses((status = 201, body = PersonView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_person(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(req): Json<NewPersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let city = p.city.to_string();
    let name = req.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name: give the person's name"));
    }
    if let Some(phone) = &req.phone {
        org::check_phone(phone)?;
    }
    let mut grants = Vec::new();
    for g in &req.grants {
        grants.push(Grant {
            role: g.role.parse()?,
            scope: Scope::decode(&g.scope)?,
        });
    }
    gongzhi_app::people::require_may_grant(&s, &p, &grants).await?;
    let account = match (&req.username, &req.password) {
        (Some(u), Some(pw)) => {
            org::check_username(u)?;
            org::check_password(pw)?;
            Some((u.clone(), hash_password(pw)))
        }
        (None, None) => None,
        _ => {
            return Err(ApiError::invalid(
                "username and password: give both for a login, or neither",
            ))
        }
    };
    let new = NewPerson {
        name: name.to_owned(),
        phone: req.phone.clone(),
        org: req.org,
        grants: grants.clone(),
        account,
    };
    let id = s.store.create_person(&city, &new, Some(p.person_id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(PersonView {
            id,
            name: new.name,
            phone: new.phone,
            org: new.org,
            grants,
        }),
    ))
}
