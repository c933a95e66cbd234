//! What the regeneration API and pages show, gathered in one place from the store and computed by
//! the core: each holder's classification and position, the resources with their remaining
//! capacity, and the standing of every consent rule (recomputed on every read, so on every
//! signature).

use gongzhi_store::prelude::*;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::decision::{standing, Standing};
use gongzhi_core::import::ImportReport;
use gongzhi_core::regen::import::{parse_holders, parse_resources};
use gongzhi_core::regen::matching::{plan, rank, History, Matches, Plan};
use gongzhi_core::regen::{
    electorate, positions, Choice, Classification, Contact, DecisionRecord, Holder, Organisation, Override, Project,
    Resource, Scenario, Stance,
};
use gongzhi_core::table::Table;
use gongzhi_store::Store;
use gongzhi_store::StoreError;
pub use gongzhi_store::{ContactRecord, DecisionEntry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppError, AppResult, AppState};

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
    pub async fn load(store: &Store, city: CityCode, code: &str) -> AppResult<Overview> {
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

/// A project in a listing.
#[derive(Serialize, ToSchema)]
pub struct ProjectSummary {
    pub code: String,
    pub name: String,
    pub community: String,
}

impl From<Project> for ProjectSummary {
    fn from(x: Project) -> Self {
        ProjectSummary {
            code: x.code,
            name: x.name,
            community: x.community,
        }
    }
}

/// The projects of the principal's city in areas the principal coordinates.
pub async fn projects(s: &AppState, p: &Principal) -> AppResult<Vec<ProjectSummary>> {
    let projects = s.store.regen_projects(p.city).await?;
    Ok(projects
        .into_iter()
        .filter(|x| may_coordinate_in(p, &x.community))
        .map(ProjectSummary::from)
        .collect())
}

/// Create a project: as `by` in a community they coordinate, or (`None`) by the operator at the
/// command line.
pub async fn create_project(
    s: &AppState,
    by: Option<&Principal>,
    city: CityCode,
    project: Project,
) -> AppResult<ProjectSummary> {
    if let Some(p) = by {
        require_coordinator(p, &project)?;
    }
    s.store
        .create_regen_project(city, &project, by.map(|p| p.person_id))
        .await?;
    Ok(project.into())
}

/// A project of `city`, or not found.
pub async fn project(s: &AppState, city: CityCode, code: &str) -> AppResult<Project> {
    Ok(s.store.regen_project_or_404(city, code).await?)
}

/// A project of the principal's city that the principal coordinates.
pub async fn coordinated(s: &AppState, p: &Principal, code: &str) -> AppResult<Project> {
    let project = project(s, p.city, code).await?;
    require_coordinator(p, &project)?;
    Ok(project)
}

/// Everything about a project the principal coordinates.
pub async fn overview(s: &AppState, p: &Principal, code: &str) -> AppResult<Overview> {
    let o = Overview::load(&s.store, p.city, code).await?;
    require_coordinator(p, &o.project)?;
    Ok(o)
}

/// Everything about a project of `city`, for the operator at the command line.
pub async fn overview_of(s: &AppState, city: CityCode, code: &str) -> AppResult<Overview> {
    Overview::load(&s.store, city, code).await
}

/// A project's public aggregates (the default city's): no names.
pub async fn public_view(s: &AppState, code: &str) -> AppResult<PublicView> {
    Ok(Overview::load(&s.store, s.default_city, code).await?.public())
}

/// The project, for `by` when they coordinate it, or for the operator (`None`) in `city`.
async fn project_for(s: &AppState, by: Option<&Principal>, city: CityCode, code: &str) -> AppResult<Project> {
    match by {
        Some(p) => coordinated(s, p, code).await,
        None => project(s, city, code).await,
    }
}

/// Read a CSV or XLSX file and parse its rows; every wrong line is in the error's items.
fn parse_file<T>(
    file: &[u8],
    parse: impl FnOnce(&Table) -> Result<T, Vec<gongzhi_core::table::LineError>>,
) -> AppResult<T> {
    let table = Table::from_bytes(file).map_err(|e| StoreError::Lines(vec![e]))?;
    Ok(parse(&table).map_err(StoreError::Lines)?)
}

/// Import holders from a CSV or XLSX file, one row per holding: `holder, name, kind, members,
/// contested, representatives, sticking_points (code:severity;…), unit, area_m2, common_share`.
/// All or nothing; each wrong line is in the error's items. Keyed by holder code (a holder's rows
/// share it; a unit appears once): a re-import updates the holders that differ and leaves the
/// others alone; the report names the holder codes.
pub async fn import_holders(
    s: &AppState,
    by: Option<&Principal>,
    city: CityCode,
    code: &str,
    file: &[u8],
) -> AppResult<ImportReport> {
    let project = project_for(s, by, city, code).await?;
    let holders = parse_file(file, |t| parse_holders(t, &project.config.catalogue))?;
    Ok(s.store
        .import_regen_holders(city, code, &holders, by.map(|p| p.person_id))
        .await?)
}

/// Import governance resources from a CSV or XLSX file: `code, name, kind (formal/informal),
/// category, holder, capacity, cost, addresses (codes;…), scarce (yes/no)`. All or nothing. Keyed
/// by resource code: a re-import updates the resources that differ and leaves the others alone.
pub async fn import_resources(
    s: &AppState,
    by: Option<&Principal>,
    city: CityCode,
    code: &str,
    file: &[u8],
) -> AppResult<ImportReport> {
    let project = project_for(s, by, city, code).await?;
    let resources = parse_file(file, |t| parse_resources(t, &project.config.catalogue))?;
    Ok(s.store
        .import_regen_resources(city, code, &resources, by.map(|p| p.person_id))
        .await?)
}

/// One holder: classification, ranked resources with reasons, contacts and decision records.
#[derive(Serialize, ToSchema)]
pub struct HolderDetail {
    pub row: HolderRow,
    #[schema(value_type = Object)]
    pub matches: Matches,
    #[schema(value_type = Vec<Object>)]
    pub contacts: Vec<ContactRecord>,
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<DecisionEntry>,
}

pub fn holder_detail(o: &Overview, holder: &str) -> AppResult<HolderDetail> {
    let row = o.holder(holder)?.clone();
    Ok(HolderDetail {
        matches: o.matches(&row),
        contacts: o
            .contacts
            .iter()
            .filter(|c| c.contact.holder == holder)
            .cloned()
            .collect(),
        decisions: o
            .decisions
            .iter()
            .filter(|d| d.record.holder == holder)
            .cloned()
            .collect(),
        row,
    })
}

/// A staff override: a scenario and/or a degree of organisation with the reason, or `clear` to
/// return to the rule's result.
#[derive(Deserialize, ToSchema)]
pub struct OverrideRequest {
    /// I, II or III.
    pub scenario: Option<String>,
    /// high, medium or low.
    pub organisation: Option<String>,
    pub reason: Option<String>,
    #[serde(default)]
    pub clear: bool,
}

/// Override (or clear the override of) a holder's scenario and/or organisation; the holder as
/// it stands after.
pub async fn override_holder(
    s: &AppState,
    p: &Principal,
    code: &str,
    holder: &str,
    r: OverrideRequest,
) -> AppResult<HolderRow> {
    let city = p.city;
    coordinated(s, p, code).await?;
    let reason = r.reason.unwrap_or_default();
    let (scenario, organisation) = if r.clear {
        (Some(None), Some(None))
    } else {
        if r.scenario.is_none() && r.organisation.is_none() {
            return Err(AppError::invalid(
                "give a scenario (I, II, III), an organisation (high, medium, low), or clear: true",
            ));
        }
        if reason.trim().is_empty() {
            return Err(AppError::invalid("reason: an override needs its reason"));
        }
        let scenario = r.scenario.as_deref().map(str::parse::<Scenario>).transpose()?;
        let organisation = r.organisation.as_deref().map(str::parse::<Organisation>).transpose()?;
        (
            scenario.map(|value| {
                Some(Override {
                    value,
                    reason: reason.clone(),
                })
            }),
            organisation.map(|value| {
                Some(Override {
                    value,
                    reason: reason.clone(),
                })
            }),
        )
    };
    s.store
        .override_regen_holder(city, code, holder, scenario, organisation, Some(p.person_id))
        .await?;
    let o = Overview::load(&s.store, city, code).await?;
    Ok(o.holder(holder)?.clone())
}

/// A contact to record.
#[derive(Deserialize, ToSchema)]
pub struct NewContact {
    pub holder: String,
    /// Local date and time, `YYYY-MM-DDTHH:MM`.
    pub at: String,
    /// Who made the contact.
    pub staff: String,
    #[serde(default)]
    pub resources: Vec<String>,
    /// opposed, hesitant, neutral, leaning or agreed.
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub next_step: String,
}

fn contact_of(n: NewContact) -> AppResult<Contact> {
    let at = NaiveDateTime::parse_from_str(n.at.trim(), "%Y-%m-%dT%H:%M").map_err(|_| {
        AppError::invalid(format!(
            "at: '{}' is not a local date and time like 2026-05-04T15:30",
            n.at
        ))
    })?;
    Ok(Contact {
        holder: n.holder,
        at,
        staff: n.staff,
        resources: n.resources,
        before: n.before.parse::<Stance>()?,
        after: n.after.parse::<Stance>()?,
        next_step: n.next_step,
    })
}

/// Record a contact (append-only); the record carries the pressure guard's warnings.
pub async fn add_contact(s: &AppState, p: &Principal, code: &str, n: NewContact) -> AppResult<ContactRecord> {
    coordinated(s, p, code).await?;
    let contact = contact_of(n)?;
    Ok(s.store
        .add_regen_contact(p.city, code, &contact, Some(p.person_id))
        .await?)
}

/// A decision to record (`choice`: agree, oppose, abstain) or a withdrawal (`choice: "withdraw"`).
#[derive(Deserialize, ToSchema)]
pub struct NewDecision {
    pub holder: String,
    pub choice: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub evidence: String,
}

/// The decision as recorded and every rule's standing after it.
#[derive(Serialize, ToSchema)]
pub struct DecisionResult {
    #[schema(value_type = Object)]
    pub entry: DecisionEntry,
    #[schema(value_type = Vec<Object>)]
    pub standings: Vec<Standing>,
}

fn decision_of(n: NewDecision, recorder: &str) -> AppResult<DecisionRecord> {
    let choice = match n.choice.trim() {
        "withdraw" | "撤回" => None,
        c => Some(c.parse::<Choice>()?),
    };
    let date: NaiveDate = n
        .date
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(format!("date: '{}' is not a date like 2026-06-01", n.date)))?;
    Ok(DecisionRecord {
        holder: n.holder,
        choice,
        date,
        evidence: n.evidence,
        recorder: recorder.to_owned(),
    })
}

/// Record a holder's decision or its withdrawal (refused as a conflict after the deadline).
pub async fn record_decision(s: &AppState, p: &Principal, code: &str, n: NewDecision) -> AppResult<DecisionResult> {
    let city = p.city;
    coordinated(s, p, code).await?;
    let record = decision_of(n, &p.name)?;
    let entry = s
        .store
        .record_regen_decision(city, code, &record, Some(p.person_id))
        .await?;
    let o = Overview::load(&s.store, city, code).await?;
    Ok(DecisionResult {
        entry,
        standings: o.standings,
    })
}

/// What the consent map draws: the community's grids and its buildings, each with the units in it.
pub struct MapPlaces {
    pub grids: Vec<gongzhi_core::grid::Grid>,
    pub buildings: Vec<(gongzhi_core::premises::Building, Vec<String>)>,
}

/// The grids and buildings (with their unit codes) of a project's community.
pub async fn map_places(s: &AppState, city: CityCode, community: &str) -> AppResult<MapPlaces> {
    let mut buildings = Vec::new();
    for b in s.store.buildings(city, Some(community), None).await? {
        let units = s
            .store
            .units(city, &b.code)
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect();
        buildings.push((b, units));
    }
    let grids = s.store.grids(city, Some(community), 1, 1000).await?.grids;
    Ok(MapPlaces { grids, buildings })
}
