//! People and their standing in a place.

use gongzhi_core::access::{Grant, Permission, Principal, Scope};
use gongzhi_core::ids::PersonId;
use gongzhi_core::org::{self, NewOrganisation, OrgKind, Organisation, Person};
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::prelude::*;
use gongzhi_store::NewPerson;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppError, AppResult, AppState};

/// Whether the principal is a verified resident (认证居民) of a community: a Resident grant whose
/// scope covers the community, or lies inside it (grids of the community). The one test of
/// residency for needs, proposals, votes, delivery and the grid.
pub fn is_resident_of(p: &Principal, community: &str) -> bool {
    gongzhi_core::renewal::vote::resident_of(&p.grants, community)
}

/// The territory codes a grant applies to, for checking the viewer's reach over it.
pub async fn grant_targets(s: &AppState, city: CityCode, g: &Grant) -> AppResult<Vec<String>> {
    Ok(match &g.scope {
        Scope::Division(d) => vec![d.to_string()],
        Scope::Grids(gs) => gs.clone(),
        Scope::Organisation(id) => {
            let o = s
                .store
                .organisation(city, *id)
                .await?
                .ok_or_else(|| AppError::invalid(format!("organisation {id} does not exist")))?;
            o.jurisdiction.iter().map(|d| d.to_string()).collect()
        }
    })
}

/// Whether `viewer` may see `person`'s record: themselves, or every grant's area in reach.
pub async fn may_view(s: &AppState, viewer: &Principal, person: &Person, grants: &[Grant]) -> AppResult<bool> {
    if viewer.person_id == person.id {
        return Ok(true);
    }
    if grants.is_empty() {
        return Ok(viewer.may(Permission::ViewPeople, viewer.city.as_str()));
    }
    for g in grants {
        for t in grant_targets(s, viewer.city, g).await? {
            if !viewer.may(Permission::ViewPeople, &t) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Refuse unless the principal may list people: grid heads and administrators.
pub fn require_list(p: &Principal) -> AppResult<()> {
    if p.may_somewhere(Permission::ViewPeople) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "listing people needs a grid head or administrator role",
        ))
    }
}

/// Refuse unless the principal may give every one of `grants`: an administrator whose reach
/// over people covers each grant's area.
pub async fn require_may_grant(s: &AppState, p: &Principal, grants: &[Grant]) -> AppResult<()> {
    if !p.may_somewhere(Permission::ManagePeople) {
        return Err(AppError::forbidden("registering people needs an administrator"));
    }
    for g in grants {
        for t in grant_targets(s, p.city, g).await? {
            if !p.may(Permission::ManagePeople, &t) {
                return Err(AppError::forbidden(format!("you may not grant roles in {t}")));
            }
        }
    }
    Ok(())
}

/// Refuse unless the principal's scope covers the organisation's whole jurisdiction.
pub fn require_may_register_organisation(p: &Principal, new: &NewOrganisation) -> AppResult<()> {
    match new
        .jurisdiction
        .iter()
        .find(|d| !p.may(Permission::ManageOrganisations, d.as_str()))
    {
        Some(d) => Err(AppError::forbidden(format!(
            "you may not register organisations serving {d}"
        ))),
        None => Ok(()),
    }
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

/// The organisations of a city, of one kind (as typed, e.g. `functional_department`) or all.
pub async fn organisations(s: &AppState, city: CityCode, kind: Option<&str>) -> AppResult<Vec<OrganisationView>> {
    let kind = kind.map(str::parse::<OrgKind>).transpose()?;
    let orgs = s.store.organisations(city, kind).await?;
    Ok(orgs.into_iter().map(Into::into).collect())
}

/// One organisation of a city, or not found.
pub async fn organisation(s: &AppState, city: CityCode, id: i64) -> AppResult<OrganisationView> {
    let o = s
        .store
        .organisation(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("organisation {id}")))?;
    Ok(o.into())
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
pub async fn create_organisation(
    s: &AppState,
    p: &Principal,
    req: NewOrganisationRequest,
) -> AppResult<OrganisationView> {
    let jurisdiction = req
        .jurisdiction
        .iter()
        .map(|c| DivisionCode::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewOrganisation::new(&req.name, req.kind.parse()?, req.parent, jurisdiction)?;
    require_may_register_organisation(p, &new)?;
    let city = p.city;
    let id = s.store.create_organisation(city, &new, Some(p.person_id)).await?;
    organisation(s, city, id).await
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

/// People within the viewer's jurisdiction (grid heads, administrators), by id after `after`
/// (keyset paging), at most `limit` (1–1000).
pub async fn people(s: &AppState, p: &Principal, after: i64, limit: u32) -> AppResult<Vec<PersonView>> {
    require_list(p)?;
    let limit = limit.clamp(1, 1000) as usize;
    let mut out = Vec::new();
    let mut after = after;
    // Scan forward in batches until the page is full of people the viewer may see.
    while out.len() < limit {
        let batch = s.store.people(p.city, after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = last.0.id.0;
        for (person, grants) in batch {
            if out.len() < limit && may_view(s, p, &person, &grants).await? {
                out.push(PersonView {
                    id: person.id.0,
                    name: person.name,
                    phone: person.phone,
                    org: person.org,
                    grants,
                });
            }
        }
    }
    Ok(out)
}

/// One person: themselves, or within the viewer's jurisdiction.
pub async fn person(s: &AppState, p: &Principal, id: i64) -> AppResult<PersonView> {
    let city = p.city;
    let person = s
        .store
        .person(city, PersonId(id))
        .await?
        .ok_or_else(|| AppError::not_found(format!("person {id}")))?;
    let grants = s.store.grants(city, PersonId(id)).await?;
    if !may_view(s, p, &person, &grants).await? {
        return Err(AppError::forbidden("this person is outside your jurisdiction"));
    }
    Ok(PersonView {
        id: person.id.0,
        name: person.name,
        phone: person.phone,
        org: person.org,
        grants,
    })
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

/// Register a person with roles and an optional login (administrators whose scope covers every
/// grant).
pub async fn create_person(s: &AppState, p: &Principal, req: NewPersonRequest) -> AppResult<PersonView> {
    let city = p.city;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name: give the person's name"));
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
    require_may_grant(s, p, &grants).await?;
    let account = match (&req.username, &req.password) {
        (Some(u), Some(pw)) => {
            org::check_username(u)?;
            org::check_password(pw)?;
            Some((u.clone(), crate::auth::hash_password(pw)))
        }
        (None, None) => None,
        _ => {
            return Err(AppError::invalid(
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
    let id = s.store.create_person(city, &new, Some(p.person_id)).await?;
    Ok(PersonView {
        id: id.0,
        name: new.name,
        phone: new.phone,
        org: new.org,
        grants,
    })
}
