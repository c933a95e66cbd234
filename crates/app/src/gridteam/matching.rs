//! The matching engine over the lists: proposals for needs, confirming a match into a project,
//! finishing it, and what is left unmatched.

use chrono::NaiveDate;
use gongzhi_core::access::Principal;
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam::{self, Project, ProjectStatus};
use gongzhi_core::ids::PersonId;
use gongzhi_store::gridteam::{need_facts, resource_facts};
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, GridRecord, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{areas, check_manage, check_read, day, grid, record_in_grid, rules};
use crate::{AppError, AppResult, AppState};

#[derive(Deserialize, IntoParams)]
pub struct OnDate {
    /// The date the resource is wanted on (YYYY-MM-DD); today when absent.
    pub on: Option<String>,
}

/// The proposals for one need, best first, among the city's available resources.
pub async fn proposals_for(
    s: &AppState,
    city: CityCode,
    need: &GridRecord,
    on: NaiveDate,
) -> AppResult<Vec<gridteam::Proposal>> {
    let (mut ranked, _) = proposals_for_all(s, city, std::slice::from_ref(need), on, 10).await?;
    Ok(ranked.pop().unwrap_or_default())
}

/// The ranked resources (at most `limit`) for each of `needs`, reading the city's available
/// resources once and ranking through the matching index; with those resources, for their titles.
pub async fn proposals_for_all(
    s: &AppState,
    city: CityCode,
    needs: &[GridRecord],
    on: NaiveDate,
    limit: usize,
) -> AppResult<(Vec<Vec<gridteam::Proposal>>, Vec<GridRecord>)> {
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
/// remaining capacity, availability on the date, past reliability); for those who may read the
/// need's grid.
pub async fn proposals(s: &AppState, p: &Principal, id: i64, q: &OnDate) -> AppResult<Vec<gridteam::Proposal>> {
    let (need, g) = record_in_grid(s, p, GridList::Needs, id).await?;
    check_read(s, p, &g, GridList::Needs).await?;
    let on = day(q.on.as_deref())?;
    proposals_for(s, p.city, &need, on).await
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
pub async fn confirm(s: &AppState, p: &Principal, c: ConfirmInput) -> AppResult<i64> {
    let (need, g) = record_in_grid(s, p, GridList::Needs, c.need).await?;
    check_manage(p, &g)?;
    if c.title.trim().is_empty() {
        return Err(AppError::invalid("title: name the project"));
    }
    let city = p.city;
    let res = s
        .store
        .grid_record(city, GridList::Resources, c.resource)
        .await?
        .ok_or_else(|| AppError::not_found(format!("resource {}", c.resource)))?;
    let on = day(c.on.as_deref())?;
    let facts = need_facts(&need)?;
    let fit = gridteam::assess(&facts, &resource_facts(&res)?, on)
        .map_err(|m| AppError::conflict(format!("resource {} does not fit need {}: {m}", c.resource, c.need)))?;
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
    Ok(s.store.confirm_match(city, &project, Some(p.person_id)).await?)
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
pub async fn finish(s: &AppState, p: &Principal, id: i64, f: FinishInput) -> AppResult<()> {
    let (_, g) = record_in_grid(s, p, GridList::Projects, id).await?;
    check_manage(p, &g)?;
    let outcome: ProjectStatus = f.outcome.parse()?;
    let city = p.city;
    for person in &f.participants {
        if s.store.person(city, PersonId(*person)).await?.is_none() {
            return Err(AppError::invalid(format!(
                "participants: person {person} is not in the register"
            )));
        }
    }
    let rules = rules(s, city).await?;
    s.store
        .finish_project(city, id, outcome, &f.note, &f.participants, &rules, Some(p.person_id))
        .await?;
    Ok(())
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

/// Unmatched needs and idle resources of a grid, for those who may read its lists.
pub async fn unmatched(s: &AppState, p: &Principal, code: &str, q: &OnDate) -> AppResult<Unmatched> {
    let g = grid(s, p, code).await?;
    check_read(s, p, &g, GridList::Needs).await?;
    unmatched_of(s, p.city, &g, day(q.on.as_deref())?).await
}

pub async fn unmatched_of(s: &AppState, city: CityCode, g: &Grid, on: NaiveDate) -> AppResult<Unmatched> {
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
