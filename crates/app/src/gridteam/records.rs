//! The grid's records: its lists, the team (members), the alliance, households, needs and
//! resources.

use gongzhi_core::access::Principal;
use gongzhi_core::gridteam::{self, Alliance, Household, Member, Need, NeedSource, Resource};
use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, GridRecord, NewRecord};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{areas, check_manage, check_read, grid, json, may_manage, may_raise_as_resident, rules};
use crate::{AppError, AppResult, AppState};

/// The records of one list of a grid (with the community-wide ones), for those who may read it;
/// a list that does not exist is not found.
pub async fn list(s: &AppState, p: &Principal, code: &str, list: &str) -> AppResult<Vec<GridRecord>> {
    let list = GridList::parse(list).ok_or_else(|| AppError::not_found(format!("list {list}")))?;
    let g = grid(s, p, code).await?;
    check_read(s, p, &g, list).await?;
    if list == GridList::Households {
        let subject = format!("grid:{}", g.code);
        crate::privacy::note_read(s, p, crate::privacy::HOUSEHOLDS, &subject, "api.households").await?;
    }
    Ok(s.store.grid_records(p.city, list, &areas(&g), None).await?)
}

/// Add a member to the grid team (linked to a person of the register).
pub async fn add_member(s: &AppState, p: &Principal, code: &str, m: Member) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    let city = p.city;
    if s.store.person(city, PersonId(m.person)).await?.is_none() {
        return Err(AppError::invalid(format!(
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
    Ok(s.store.add_grid_record(city, &r, Some(p.person_id)).await?)
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
pub async fn add_alliance(s: &AppState, p: &Principal, code: &str, a: AllianceInput) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    a.alliance.check()?;
    let city = p.city;
    for m in &a.alliance.members {
        if s.store.organisation(city, m.organisation).await?.is_none() {
            return Err(AppError::invalid(format!(
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
    Ok(s.store.add_grid_record(city, &r, Some(p.person_id)).await?)
}

/// Register a household in a unit of the premises register; the unit's building must lie in the grid.
pub async fn add_household(s: &AppState, p: &Principal, code: &str, h: Household) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    let city = p.city;
    let unit = s
        .store
        .unit(city, &h.unit)
        .await?
        .ok_or_else(|| AppError::invalid(format!("unit: {} is not in the premises register", h.unit)))?;
    let building = s.store.building(city, &unit.building).await?;
    if building.and_then(|b| b.grid).map(|x| x.to_string()) != Some(g.code.to_string()) {
        return Err(AppError::invalid(format!(
            "unit: {} lies outside grid {}; register the household in its own grid",
            h.unit, g.code
        )));
    }
    if h.head.trim().is_empty() || h.size == 0 {
        return Err(AppError::invalid(
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
    Ok(s.store.add_grid_record(city, &r, Some(p.person_id)).await?)
}

/// Record a need. The grid team records needs from visits and meetings; a resident of the
/// community raises their own (source `resident`), and earns the `need_raised` points.
pub async fn add_need(s: &AppState, p: &Principal, code: &str, mut n: Need) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    // A verified resident of the grid's community raises needs in any grid of it.
    let resident = may_raise_as_resident(p, &g);
    if !may_manage(p, &g) {
        if !resident {
            return Err(AppError::forbidden(format!(
                "needs of grid {} are raised by verified residents of its community {} and recorded by its grid team",
                g.code, g.community
            )));
        }
        n.source = NeedSource::Resident;
        n.raised_by = Some(p.person_id.0);
        n.household = None;
    }
    n.raised_by = n.raised_by.or(Some(p.person_id.0));
    n.check()?;
    let city = p.city;
    if let Some(h) = n.household {
        let hh = s.store.grid_record(city, GridList::Households, h).await?;
        if hh.is_none_or(|r| r.area != g.code.as_str()) {
            return Err(AppError::invalid(format!(
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
    let id = s.store.add_grid_record(city, &r, Some(p.person_id)).await?;
    // A resident who raises a need earns the `need_raised` points; staff recording needs do not.
    if let (Some(raiser), NeedSource::Resident) = (n.raised_by, n.source) {
        let rules = rules(s, city).await?;
        if rules.iter().any(|r| r.action == "need_raised") {
            s.store
                .award_points(
                    city,
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
    Ok(id)
}

/// Record a resource offered by a member organisation or person.
pub async fn add_resource(s: &AppState, p: &Principal, code: &str, r: Resource) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    r.check()?;
    let city = p.city;
    if let Some(o) = r.organisation {
        if s.store.organisation(city, o).await?.is_none() {
            return Err(AppError::invalid(format!("organisation: {o} is not in the register")));
        }
    }
    let rec = NewRecord {
        list: GridList::Resources,
        area: g.code.to_string(),
        status: "available".into(),
        person: r.person,
        body: json(&r),
    };
    Ok(s.store.add_grid_record(city, &rec, Some(p.person_id)).await?)
}
