//! The generalist grid (全科网格): the grid team's lists (needs, resources, projects, households,
//! visits), who may read and keep them, and their import and export.

use gongzhi_core::access::{role_has, Permission, Principal, Scope};
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam::{self, Alliance};
use gongzhi_core::table::Table;
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, NewRecord, StoreError};
use serde::Serialize;

use crate::{AppError, AppResult, AppState};

/// The grid, or not found.
pub async fn grid(s: &AppState, p: &Principal, code: &str) -> AppResult<Grid> {
    s.store
        .grid(&p.city.to_string(), code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("grid {code}")))
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
async fn places_of(s: &AppState, city: &str, person: i64) -> AppResult<Vec<String>> {
    Ok(s.store
        .grants(city, person)
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
    if p.person_id == person || serves(p, &places_of(s, p.city.as_str(), person).await?) {
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
    if serves(p, &places_of(s, p.city.as_str(), person).await?) {
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
    let city = p.city.to_string();
    let Some(org) = s.store.person(&city, p.person_id).await?.and_then(|x| x.org) else {
        return Ok(false);
    };
    let alliances = s
        .store
        .grid_records(
            &city,
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

/// Parse and store a needs or resources file for a grid, all or nothing: by its grid team or a
/// community planner (`by`), or by the operator at the command line (`None`).
pub async fn import(
    s: &AppState,
    city: &str,
    g: &Grid,
    list: &str,
    bytes: &[u8],
    by: Option<&Principal>,
) -> AppResult<Vec<i64>> {
    if let Some(p) = by {
        check_manage(p, g)?;
    }
    let actor = by.map(|p| p.person_id);
    let table = Table::from_bytes(bytes).map_err(|e| StoreError::Lines(vec![e]))?;
    let records: Vec<NewRecord> = match list {
        "needs" => gridteam::parse_needs(&table, actor)
            .map_err(StoreError::Lines)?
            .into_iter()
            .map(|n| NewRecord {
                list: GridList::Needs,
                area: g.code.to_string(),
                status: "open".into(),
                person: n.raised_by,
                body: json(&n),
            })
            .collect(),
        "resources" => gridteam::parse_resources(&table)
            .map_err(StoreError::Lines)?
            .into_iter()
            .map(|r| NewRecord {
                list: GridList::Resources,
                area: g.code.to_string(),
                status: "available".into(),
                person: r.person,
                body: json(&r),
            })
            .collect(),
        other => {
            return Err(AppError::invalid(format!(
                "list: '{other}' cannot be imported; import needs or resources (projects come from confirmed matches)"
            )))
        }
    };
    Ok(s.store.add_grid_records(city, &records, actor).await?)
}

/// The CSV of a grid's needs, resources or projects (with id and status), for those who may
/// read the grid's lists (`by`), or for the operator at the command line (`None`).
pub async fn export(s: &AppState, city: &str, g: &Grid, list: &str, by: Option<&Principal>) -> AppResult<String> {
    if let Some(p) = by {
        check_read(s, p, g, GridList::Needs).await?;
    }
    let (l, columns): (GridList, Vec<&str>) = match list {
        "needs" => (GridList::Needs, gridteam::NEED_COLUMNS.to_vec()),
        "resources" => (GridList::Resources, gridteam::RESOURCE_COLUMNS.to_vec()),
        "projects" => (
            GridList::Projects,
            vec!["title", "need", "resource", "quantity", "reason", "outcome"],
        ),
        other => {
            return Err(AppError::invalid(format!(
                "list: '{other}' is not one of needs, resources, projects"
            )))
        }
    };
    let mut w = gongzhi_core::table::CsvWriter::from_writer(Vec::new());
    let header: Vec<&str> = ["id", "status"].into_iter().chain(columns.iter().copied()).collect();
    w.write_record(&header).map_err(|e| AppError::invalid(e.to_string()))?;
    for r in s.store.grid_records(city, l, &areas(g), None).await? {
        let mut row = vec![r.id.to_string(), r.status.clone()];
        for c in &columns {
            let v = &r.body[*c];
            row.push(match (c, v) {
                (_, serde_json::Value::Null) => String::new(),
                (_, serde_json::Value::String(x)) => x.clone(),
                (&"categories", serde_json::Value::Array(a)) => {
                    a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(";")
                }
                (&"windows", _) => {
                    let ws: Vec<gridteam::Window> = serde_json::from_value(v.clone()).unwrap_or_default();
                    gridteam::Window::format_list(&ws)
                }
                _ => v.to_string(),
            });
        }
        w.write_record(&row).map_err(|e| AppError::invalid(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
