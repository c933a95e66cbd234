//! The generalist grid (全科网格): the grid team's lists (needs, resources, projects, households,
//! visits), who may read and keep them, and their import and export.
//!
//! Who sees what: households and visits only the grid team and staff above (ViewGridDetails on
//! the grid); the other lists also the people of the organisations in the grid's alliance; any
//! other organisation or resident is refused. Changes need ManageGrid on the grid.
//!
//! The commands and queries are in submodules, all re-exported here: [`records`] (team,
//! alliance, households, needs, resources), [`matching`] (proposals, projects, unmatched),
//! [`field`] (patrol routes and logs, visits, activities), [`points`] (rules, volunteering,
//! ledger), [`indicators`] (per grid and over an area), [`io`] (import, export) and [`page`]
//! (what the grid team's page shows).

pub mod field;
pub mod indicators;
pub mod io;
pub mod matching;
pub mod page;
pub mod points;
pub mod records;

pub use field::*;
pub use indicators::*;
pub use io::*;
pub use matching::*;
pub use page::*;
pub use points::*;
pub use records::*;

/// The store's record types, for the front ends.
pub use gongzhi_store::{GridCounts, GridList, GridRecord};

use chrono::NaiveDate;
use gongzhi_core::access::{role_has, Permission, Principal, Scope};
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam::Alliance;
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::prelude::*;
use serde::Serialize;

use crate::{AppError, AppResult, AppState};

/// The grid, or not found.
pub async fn grid(s: &AppState, p: &Principal, code: &str) -> AppResult<Grid> {
    grid_in(s, p.city, code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("grid {code}")))
}

/// The grid of a city, if it is stored (for the command line, which acts for the operator).
pub async fn grid_in(s: &AppState, city: CityCode, code: &str) -> AppResult<Option<Grid>> {
    Ok(s.store.grid(city, code).await?)
}

/// A record of `list` and the grid it belongs to, or not found.
async fn record_in_grid(s: &AppState, p: &Principal, list: GridList, id: i64) -> AppResult<(GridRecord, Grid)> {
    let city = p.city;
    let rec = s
        .store
        .grid_record(city, list, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("{} {id}", list.as_str())))?;
    let g = grid(s, p, &rec.area).await?;
    Ok((rec, g))
}

/// A day written YYYY-MM-DD; today (in China) when absent.
pub fn day(on: Option<&str>) -> AppResult<NaiveDate> {
    match on {
        None => Ok(gongzhi_core::calendar::china_today()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::invalid(format!("on: '{d}' is not a date; write YYYY-MM-DD"))),
    }
}

/// Whether the principal is of the grid team or staff above it.
pub fn is_team(p: &Principal, g: &Grid) -> bool {
    p.may(Permission::ViewGridDetails, g.code.as_str())
}

/// Whether the principal keeps the grid's lists: its grid team (grid worker, grid head) or a
/// community planner or administrator above it.
pub fn may_manage(p: &Principal, g: &Grid) -> bool {
    p.may(Permission::ManageGrid, g.code.as_str())
}

/// Whether the principal may raise a need in the grid as a resident: a verified resident of
/// the grid's community raises needs in any grid of it.
pub fn may_raise_as_resident(p: &Principal, g: &Grid) -> bool {
    crate::people::is_resident_of(p, g.community.as_str())
}

/// Refuse unless the principal may see the grid indicators of an area: staff whose
/// jurisdiction covers it.
pub fn require_area_indicators(p: &Principal, within: &str) -> AppResult<()> {
    if p.may(Permission::ViewCases, within) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "the grid indicators of {within} are seen by staff whose jurisdiction covers it"
        )))
    }
}

/// The places a person belongs to, as far as grid teams are concerned: the areas of their grants
/// (a resident's community, a worker's grids), organisations' scopes left out.
async fn places_of(s: &AppState, city: CityCode, person: i64) -> AppResult<Vec<String>> {
    Ok(s.store
        .grants(city, PersonId(person))
        .await?
        .into_iter()
        .flat_map(|g| match g.scope {
            Scope::Division(d) => vec![d.to_string()],
            Scope::Grids(gs) => gs,
            Scope::Organisation(_) => Vec::new(),
        })
        .collect())
}

/// Whether the principal keeps a grid team (全科网格) that serves one of `places`: its scope
/// covers the place, or lies inside it (a grid worker's grids inside a resident's community).
fn serves(p: &Principal, places: &[String]) -> bool {
    p.grants.iter().any(|g| {
        role_has(g.role, Permission::ManageGrid)
            && places.iter().any(|place| {
                g.scope.covers(place)
                    || DivisionCode::parse(place).is_ok_and(|d| match &g.scope {
                        Scope::Division(inner) => d.contains(inner.as_str()),
                        Scope::Grids(gs) => gs.iter().any(|x| d.contains(x)),
                        Scope::Organisation(_) => false,
                    })
            })
    })
}

/// Refuse unless the principal may see a person's points ledger (积分) — with it, their
/// participation history: the holder, and the grid teams that serve the holder's community or
/// grids (a city-wide grid manager serves everyone).
pub async fn require_see_points(s: &AppState, p: &Principal, person: i64) -> AppResult<()> {
    if p.person_id == person || serves(p, &places_of(s, p.city, person).await?) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "a person's points are seen by their holder and by the grid teams serving the holder's community",
        ))
    }
}

/// Refuse unless the principal may redeem a person's points: a grid team serving the holder's
/// community, at its service point (not the holder alone).
pub async fn require_redeem_points(s: &AppState, p: &Principal, person: i64) -> AppResult<()> {
    if serves(p, &places_of(s, p.city, person).await?) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "points are redeemed by a grid team serving the holder's community, at its service point",
        ))
    }
}

/// Refuse unless the principal sets the city's points rules: a city-wide grid manager (the
/// city's administrator), not an administrator of one district or street.
pub fn require_rules_admin(p: &Principal) -> AppResult<()> {
    if p.may(Permission::ManageGrid, p.city.as_str()) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the city's points rules are set by a city-wide administrator",
        ))
    }
}

/// Whether the principal's organisation is in an alliance of the grid or its community.
pub async fn in_alliance(s: &AppState, p: &Principal, g: &Grid) -> AppResult<bool> {
    let city = p.city;
    let Some(org) = s.store.person(city, p.person_id).await?.and_then(|x| x.org) else {
        return Ok(false);
    };
    let alliances = s
        .store
        .grid_records(
            city,
            GridList::Alliances,
            &[g.code.as_str(), g.community.as_str()],
            None,
        )
        .await?;
    Ok(alliances.iter().any(|a| {
        a.body_as::<Alliance>()
            .is_ok_and(|a| a.members.iter().any(|m| m.organisation == org))
    }))
}

/// Refuse unless the principal may read `list` of the grid.
pub async fn check_read(s: &AppState, p: &Principal, g: &Grid, list: GridList) -> AppResult<()> {
    if is_team(p, g) {
        return Ok(());
    }
    let private = matches!(list, GridList::Households | GridList::Visits);
    if !private && in_alliance(s, p, g).await? {
        return Ok(());
    }
    Err(AppError::forbidden(if private {
        format!(
            "the {} of grid {} are seen only by its grid team and staff above",
            list.as_str(),
            g.code
        )
    } else {
        format!(
            "the lists of grid {} are seen by its grid team, staff above and the organisations of its alliance",
            g.code
        )
    }))
}

pub fn check_manage(p: &Principal, g: &Grid) -> AppResult<()> {
    if may_manage(p, g) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "keeping grid {}'s lists needs its grid team (grid worker, grid head) or a community planner",
            g.code
        )))
    }
}

pub fn areas(g: &Grid) -> [&str; 2] {
    [g.code.as_str(), g.community.as_str()]
}

pub fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
