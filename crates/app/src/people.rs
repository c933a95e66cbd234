//! People and their standing in a place.

use gongzhi_core::access::{Grant, Permission, Principal, Scope};
use gongzhi_core::org::{NewOrganisation, Person};
use gongzhi_store::prelude::*;

use crate::{AppError, AppResult, AppState};

/// Whether the principal is a verified resident (认证居民) of a community: a Resident grant whose
/// scope covers the community, or lies inside it (grids of the community). The one test of
/// residency for needs, proposals, votes, delivery and the grid.
pub fn is_resident_of(p: &Principal, community: &str) -> bool {
    gongzhi_core::renewal::vote::resident_of(&p.grants, community)
}

/// The territory codes a grant applies to, for checking the viewer's reach over it.
pub async fn grant_targets(s: &AppState, city: &str, g: &Grant) -> AppResult<Vec<String>> {
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
        for t in grant_targets(s, viewer.city.as_str(), g).await? {
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
        for t in grant_targets(s, p.city.as_str(), g).await? {
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
