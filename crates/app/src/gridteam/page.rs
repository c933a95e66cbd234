//! What the grid team's page (我的网格) shows, gathered in one query: the team and alliance,
//! households (team only), the needs with the proposed resources, resources, projects, patrols
//! and routes, the grid's indicators (team only) and the viewer's points.

use gongzhi_core::ids::PersonId;
use std::collections::HashMap;

use gongzhi_core::access::Principal;
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam::{Alliance, Household, Member, Need, PatrolRoute, Project, Proposal, Resource, Usage};
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, GridRecord};

use super::{check_read, grid, indicators_of, is_team, ledger_of, may_manage, proposals_for_all, Indicators};
use crate::{AppResult, AppState};

/// A record with its body read as `T`.
pub struct Entry<T> {
    pub record: GridRecord,
    pub body: T,
}

/// A member of the grid team with their person's name (the id when the name cannot be read).
pub struct TeamMember {
    pub record: GridRecord,
    pub member: Member,
    pub name: String,
}

/// An alliance with the name of each member organisation, in the order of its members (the id
/// when the organisation is not in the register).
pub struct TeamAlliance {
    pub record: GridRecord,
    pub alliance: Alliance,
    pub organisations: Vec<String>,
}

/// A need; an open one with its best resources (at most 3), each with the resource's title.
pub struct TeamNeed {
    pub record: GridRecord,
    pub need: Need,
    pub open: bool,
    pub proposals: Vec<(Proposal, String)>,
}

/// A resource with what its projects have used of it.
pub struct TeamResource {
    pub record: GridRecord,
    pub resource: Resource,
    pub usage: Usage,
}

/// An active patrol route with how often it was walked in the last seven days.
pub struct TeamRoute {
    pub record: GridRecord,
    pub route: PatrolRoute,
    pub walked_week: usize,
}

/// Everything the grid team's page shows of a grid, as far as the viewer may see it.
pub struct TeamView {
    pub grid: Grid,
    /// The viewer keeps the grid's lists (the page shows its forms).
    pub manage: bool,
    pub members: Vec<TeamMember>,
    pub alliances: Vec<TeamAlliance>,
    /// Only for the grid team and staff above.
    pub households: Option<Vec<Entry<Household>>>,
    pub needs: Vec<TeamNeed>,
    pub resources: Vec<TeamResource>,
    pub projects: Vec<Entry<Project>>,
    pub patrols: Vec<GridRecord>,
    pub routes: Vec<TeamRoute>,
    /// Only for the grid team and staff above.
    pub indicators: Option<Indicators>,
    /// The viewer's own points balance.
    pub points: i64,
}

/// The name of a person of the register, or their id when it cannot be read.
async fn person_name(s: &AppState, city: CityCode, id: i64) -> String {
    s.store
        .person(city, PersonId(id))
        .await
        .ok()
        .flatten()
        .map_or_else(|| id.to_string(), |p| p.name)
}

/// The grid team's page of a grid, for those who may read its lists.
pub async fn team_view(s: &AppState, p: &Principal, code: &str) -> AppResult<TeamView> {
    let g = grid(s, p, code).await?;
    check_read(s, p, &g, GridList::Needs).await?;
    let city = p.city;
    let areas = [g.code.as_str(), g.community.as_str()];
    let list = |l: GridList| s.store.grid_records(city, l, &areas, None);
    let mut members = Vec::new();
    for r in list(GridList::Members).await? {
        let member: Member = r.body_as()?;
        let name = person_name(s, city, member.person).await;
        members.push(TeamMember {
            record: r,
            member,
            name,
        });
    }
    let mut alliances = Vec::new();
    for r in list(GridList::Alliances).await? {
        let alliance: Alliance = r.body_as()?;
        let mut organisations = Vec::new();
        for m in &alliance.members {
            organisations.push(
                s.store
                    .organisation(city, m.organisation)
                    .await?
                    .map_or_else(|| m.organisation.to_string(), |o| o.name),
            );
        }
        alliances.push(TeamAlliance {
            record: r,
            alliance,
            organisations,
        });
    }
    let team = is_team(p, &g);
    let households = if team {
        crate::privacy::note_read(
            s,
            p,
            crate::privacy::HOUSEHOLDS,
            &format!("grid:{}", g.code),
            "page.grid_team",
        )
        .await?;
        let mut v = Vec::new();
        for r in list(GridList::Households).await? {
            let body: Household = r.body_as()?;
            v.push(Entry { record: r, body });
        }
        Some(v)
    } else {
        None
    };
    let today = gongzhi_core::calendar::china_today();
    let resources_list = list(GridList::Resources).await?;
    let all_needs = list(GridList::Needs).await?;
    // The open needs are ranked together: the city's resources are read once.
    let open_needs: Vec<GridRecord> = all_needs.iter().filter(|r| r.status == "open").cloned().collect();
    let (ranked, city_resources) = proposals_for_all(s, city, &open_needs, today, 3).await?;
    let mut ranked = open_needs.iter().map(|r| r.id).zip(ranked).collect::<HashMap<_, _>>();
    let titles: HashMap<i64, String> = city_resources
        .iter()
        .map(|x| (x.id, x.body["title"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let mut needs = Vec::new();
    for r in all_needs {
        let need: Need = r.body_as()?;
        let proposals = ranked
            .remove(&r.id)
            .unwrap_or_default()
            .into_iter()
            .map(|pr| {
                let title = titles.get(&pr.resource).cloned().unwrap_or_default();
                (pr, title)
            })
            .collect();
        needs.push(TeamNeed {
            open: r.status == "open",
            record: r,
            need,
            proposals,
        });
    }
    let mut resources = Vec::new();
    for r in resources_list {
        let resource: Resource = r.body_as()?;
        let usage: Usage = serde_json::from_value(r.body["usage"].clone()).unwrap_or_default();
        resources.push(TeamResource {
            record: r,
            resource,
            usage,
        });
    }
    let mut projects = Vec::new();
    for r in list(GridList::Projects).await? {
        let body: Project = r.body_as()?;
        projects.push(Entry { record: r, body });
    }
    let patrols = list(GridList::Patrols).await?;
    let week_ago = gongzhi_store::now_ms() - 7 * 86_400_000;
    let mut routes = Vec::new();
    for r in list(GridList::Routes).await? {
        if r.status != "active" {
            continue;
        }
        let route: PatrolRoute = r.body_as()?;
        let walked_week = patrols
            .iter()
            .filter(|x| x.created_at >= week_ago && x.body["planned_route"].as_i64() == Some(r.id))
            .count();
        routes.push(TeamRoute {
            record: r,
            route,
            walked_week,
        });
    }
    let indicators = if team {
        Some(indicators_of(s, city, &g).await?)
    } else {
        None
    };
    let points = ledger_of(s, city, p.person_id.0).await?.balance;
    Ok(TeamView {
        manage: may_manage(p, &g),
        grid: g,
        members,
        alliances,
        households,
        needs,
        resources,
        projects,
        patrols,
        routes,
        indicators,
        points,
    })
}
