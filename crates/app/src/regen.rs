//! What the regeneration API and pages show, gathered in one place from the store and computed by
//! the core: each holder's classification and position, the resources with their remaining
//! capacity, and the standing of every consent rule (recomputed on every read, so on every
//! signature).

use gongzhi_store::prelude::*;
use std::collections::BTreeMap;

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::decision::{standing, Standing};
use gongzhi_core::regen::matching::{plan, rank, History, Matches, Plan};
use gongzhi_core::regen::{electorate, positions, Choice, Classification, Holder, Project, Resource};
use gongzhi_store::{ContactRecord, DecisionEntry, Store};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{AppError, AppResult};

/// Only regeneration staff of the project's area (coordinators: administrators and community
/// planners) see named holders, contacts and decisions.
pub fn may_coordinate(p: &Principal, project: &Project) -> bool {
    may_coordinate_in(p, &project.community)
}

/// Whether the principal coordinates regeneration in a community (lists its projects).
pub fn may_coordinate_in(p: &Principal, community: &str) -> bool {
    p.may(Permission::CoordinateRegeneration, community)
}

pub fn require_coordinator(p: &Principal, project: &Project) -> AppResult<()> {
    if may_coordinate(p, project) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "project {} is coordinated by regeneration staff of community {}; the public sees its aggregates at /api/regen/projects/{}/public",
            project.code, project.community, project.code
        )))
    }
}

/// A holder as the dashboard lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolderRow {
    #[schema(value_type = Object)]
    pub holder: Holder,
    #[schema(value_type = Object)]
    pub classification: Classification,
    /// Total floor area, m².
    pub area_m2: String,
    /// The current decision (`null`: not yet, or withdrawn).
    #[schema(value_type = Option<String>)]
    pub decision: Option<Choice>,
}

/// A resource with its use counted against capacity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceRow {
    #[schema(value_type = Object)]
    pub resource: Resource,
    pub used: u32,
    /// `null`: no limit.
    pub remaining: Option<u32>,
}

/// Everything about one project.
pub struct Overview {
    pub project: Project,
    pub holders: Vec<HolderRow>,
    pub resources: Vec<ResourceRow>,
    pub contacts: Vec<ContactRecord>,
    pub decisions: Vec<DecisionEntry>,
    pub standings: Vec<Standing>,
    pub history: History,
}

impl Overview {
    pub async fn load(store: &Store, city: &str, code: &str) -> AppResult<Overview> {
        let project = store.regen_project_or_404(city, code).await?;
        let holders = store.regen_holders(city, code).await?;
        let resources = store.regen_resources(city, code).await?;
        let contacts = store.regen_contacts(city, code, None).await?;
        let decisions = store.regen_decisions(city, code).await?;
        let records: Vec<_> = decisions.iter().map(|d| d.record.clone()).collect();
        let current = positions(&records);
        let e = electorate(&holders, &current)?;
        let standings = project.config.rules.iter().map(|r| standing(r, &e)).collect();
        let kinds: BTreeMap<&str, _> = holders.iter().map(|h| (h.code.as_str(), h.kind)).collect();
        let history = History::from_contacts(contacts.iter().map(|c| &c.contact), |c| kinds.get(c).copied());
        let rows = holders
            .into_iter()
            .map(|h| HolderRow {
                classification: project.config.scenario_rule.classify(&h),
                area_m2: h.area().to_string(),
                decision: current.get(&h.code).copied(),
                holder: h,
            })
            .collect();
        let resources = resources
            .into_iter()
            .map(|r| ResourceRow {
                used: history.used.get(&r.code).copied().unwrap_or(0),
                remaining: history.remaining(&r),
                resource: r,
            })
            .collect();
        Ok(Overview {
            project,
            holders: rows,
            resources,
            contacts,
            decisions,
            standings,
            history,
        })
    }

    pub fn holder(&self, code: &str) -> AppResult<&HolderRow> {
        self.holders
            .iter()
            .find(|h| h.holder.code == code)
            .ok_or_else(|| AppError::not_found(format!("holder {code} of project {}", self.project.code)))
    }

    fn resource_list(&self) -> Vec<Resource> {
        self.resources.iter().map(|r| r.resource.clone()).collect()
    }

    /// The ranked resources for one holder.
    pub fn matches(&self, row: &HolderRow) -> Matches {
        rank(&row.holder, &row.classification, &self.resource_list(), &self.history)
    }

    /// The project-wide plan for the scarce resources (holders who agreed need nothing).
    pub fn plan(&self) -> Plan {
        let holders: Vec<Holder> = self.holders.iter().map(|h| h.holder.clone()).collect();
        let done = self
            .holders
            .iter()
            .filter(|h| h.decision == Some(Choice::Agree))
            .map(|h| h.holder.code.clone())
            .collect();
        plan(&holders, &self.resource_list(), &self.history, &done)
    }

    /// Aggregates for the public: counts and areas per decision, and per rule whether it is met
    /// with the percentages — never a name.
    pub fn public(&self) -> PublicView {
        let mut by_choice: BTreeMap<String, (u64, i64)> = BTreeMap::new();
        for h in &self.holders {
            let key = h.decision.map(|c| c.as_str()).unwrap_or("not_yet").to_owned();
            let e = by_choice.entry(key).or_default();
            e.0 += 1;
            e.1 += h.holder.area().hundredths();
        }
        PublicView {
            project: self.project.code.clone(),
            name: self.project.name.clone(),
            holders: self.holders.len() as u64,
            decisions: by_choice
                .into_iter()
                .map(|(choice, (holders, area))| PublicCount {
                    choice,
                    holders,
                    area_m2: gongzhi_core::premises::Area::from_hundredths(area).to_string(),
                })
                .collect(),
            rules: self
                .standings
                .iter()
                .zip(&self.project.config.rules)
                .map(|(s, r)| PublicRule {
                    rule: r.id.clone(),
                    name_zh: r.name_zh.clone(),
                    name_en: r.name_en.clone(),
                    met: s.met,
                    conditions: s
                        .conditions
                        .iter()
                        .map(|c| PublicCondition {
                            measure: c.condition.measure.name_en().to_owned(),
                            phase: format!("{:?}", c.condition.phase).to_lowercase(),
                            percent: c.percent.clone(),
                            required: format!("{}/{}", c.condition.num, c.condition.den),
                            met: c.met,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The public aggregates of a project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicView {
    pub project: String,
    pub name: String,
    pub holders: u64,
    pub decisions: Vec<PublicCount>,
    pub rules: Vec<PublicRule>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicCount {
    /// agree, oppose, abstain or not_yet.
    pub choice: String,
    pub holders: u64,
    pub area_m2: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicRule {
    pub rule: String,
    pub name_zh: String,
    pub name_en: String,
    pub met: bool,
    pub conditions: Vec<PublicCondition>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicCondition {
    pub phase: String,
    pub measure: String,
    pub percent: String,
    pub required: String,
    pub met: bool,
}
