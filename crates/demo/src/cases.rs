//! A period of realistic cases for the demo city (by default a year), driven through the same
//! state machine as live cases.
//!
//! The generator is pure: given a [`CityModel`] (places, organisations, people), the catalogue,
//! the working calendar and [`ReplayOptions`] (period, volume, seed, horizon) it gives the same
//! [`CaseHistory`]s every time, day by day ([`Replay::day`]), and writes nothing; the store's
//! bulk import ([`gongzhi_store::Store::import_case_histories`]) writes them.
//!
//! What it models:
//! - **Volume**: a daily count with a seasonal curve (summer peak), fewer reports on days off
//!   except around public holidays (festival peaks), and day-to-day noise, apportioned exactly to
//!   the total asked for ([`Replay::volumes`]).
//! - **Sources**: grid patrols on working days, hotline calls and resident reports (more on days
//!   off), video; each at its own hours of the day.
//! - **Category mix** over the whole catalogue, weighted by class and source, with seasons:
//!   greening in spring and summer, drainage (雨水井盖, 道路积水 …) in the rainy season, road ice
//!   in winter, barbecues and noise on summer evenings, street order and litter on holidays.
//! - **Places**: inside the city's grids (by population), and a few in no grid (属地兜底).
//! - **Paths**, each step taken through [`gongzhi_core::case::decide`] at its simulated time:
//!   most cases run the normal loop; some are voided, merged as duplicates, returned (re-dispatched
//!   or the return refused: 首办责任), extended (approved or denied), reworked after a failed
//!   verification, handled late (the sweep's overdue supervision is recorded when the simulated
//!   deadline passes, as the live sweep would), whistled to several departments (吹哨报到, some
//!   co-units late), suspended and closed as special; follow-ups of hotline and resident reports
//!   with a satisfaction mix that is worse after rework or delay.
//! - Units come from the dispatch catalogue's target matched against the organisations, by the
//!   rule of the web's dispatch proposal ([`Units::route`]).
//!
//! Nothing happens after [`ReplayOptions::horizon_ms`]: the cases of the last days are left open
//! where they are, as in a live city.

use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;
use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use geo::BoundingRect;
use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::calendar::{TimerKind, WorkCalendar};
use gongzhi_core::case::{
    self, Action, Case, CaseEvent, CaseSource, CaseState, CloseKind, DecisionContext, Intake, Limit, Recorded,
    Satisfaction, LEADER_LEVEL, OVERDUE_LEVEL,
};
use gongzhi_core::catalogue::{CaseKind, Catalogue, Category, DispatchTarget, FilingCondition};
use gongzhi_core::org::{OrgKind, Organisation, Role};
use gongzhi_core::territory::Level;
use gongzhi_store::{CaseHistory, Store, StoreError};
use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Demo, DemoScope};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// The live sweep runs every minute: an overdue case is marked a minute after its deadline.
const SWEEP_DELAY: i64 = MIN;
/// Case keys of one day: `day number × KEYS_PER_DAY + n`.
const KEYS_PER_DAY: i64 = 1_000_000;

/// A place where cases are reported: a grid, or a community in no grid (属地兜底).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The grid code; `None` for a place in no grid.
    pub grid: Option<String>,
    pub name: String,
    /// The community (社区) division code.
    pub community: String,
    /// Bounding box `[x0, y0, x1, y1]` in WGS-84 degrees; points are drawn inside it.
    pub bbox: [f64; 4],
    /// How many reports it draws, relative to other places (its population).
    pub weight: f64,
}

/// What the generator needs of a city.
#[derive(Debug, Clone)]
pub struct CityModel {
    pub city: CityCode,
    /// Grids, where almost every case is reported.
    pub places: Vec<Place>,
    /// Communities with an area but no grids: the few cases in no grid (属地兜底).
    pub fallback: Vec<Place>,
    /// Organisations in id order (dispatch targets).
    pub orgs: Vec<Organisation>,
    /// People (id) and their grants: acceptors, dispatchers, grid workers, residents …
    pub people: Vec<(PersonId, Vec<Grant>)>,
}

fn bbox(g: &geo::MultiPolygon<f64>) -> Option<[f64; 4]> {
    g.bounding_rect().map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

impl CityModel {
    /// The model of a built demo with the ids a fresh database gives (1, 2, … in creation
    /// order, as [`crate::load`] creates them): for tests and previews. A loaded city is read
    /// with [`city_model`].
    pub fn from_demo(demo: &Demo) -> CityModel {
        let mut ids = HashMap::new();
        let orgs: Vec<Organisation> = demo
            .orgs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let id = i as i64 + 1;
                ids.insert(o.key.clone(), id);
                Organisation {
                    id,
                    name: o.org.name.clone(),
                    kind: o.org.kind,
                    parent: o.parent_key.as_ref().and_then(|k| ids.get(k).copied()),
                    jurisdiction: o.org.jurisdiction.clone(),
                }
            })
            .collect();
        let people = demo
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let grants = p
                    .grants
                    .iter()
                    .map(|(role, s)| Grant {
                        role: *role,
                        scope: match s {
                            DemoScope::Scope(s) => s.clone(),
                            DemoScope::Org(k) => Scope::Organisation(ids[k]),
                        },
                    })
                    .collect();
                (PersonId(i as i64 + 1), grants)
            })
            .collect();
        let places = demo
            .grids
            .iter()
            .filter_map(|g| {
                Some(Place {
                    grid: Some(g.code.to_string()),
                    name: g.name.clone(),
                    community: g.community.to_string(),
                    bbox: bbox(&g.geometry)?,
                    weight: f64::from(g.population.max(1)),
                })
            })
            .collect();
        let with_grids: std::collections::HashSet<&str> = demo.grids.iter().map(|g| g.community.as_str()).collect();
        let fallback = demo
            .divisions
            .iter()
            .filter(|d| d.level == Level::Community && !with_grids.contains(d.code.as_str()))
            .filter_map(|d| {
                let (_, area) = demo.boundaries.iter().find(|(c, _)| *c == d.code)?;
                Some(Place {
                    grid: None,
                    name: d.name.clone(),
                    community: d.code.to_string(),
                    bbox: bbox(area)?,
                    weight: 1.0,
                })
            })
            .collect();
        CityModel {
            city: crate::CITY,
            places,
            fallback,
            orgs,
            people,
        }
    }
}

/// Read the model of a city from the store: its unit grids, the communities that have an area
/// but no grids, the organisations and the people with their grants.
pub async fn city_model(store: &Store, city: CityCode) -> Result<CityModel, StoreError> {
    let mut places = Vec::new();
    let mut page = 1;
    loop {
        let found = store.grids(city, None, page, 2000).await?;
        for g in &found.grids {
            if g.code.is_micro() {
                continue;
            }
            if let Some(b) = bbox(&g.geometry) {
                places.push(Place {
                    grid: Some(g.code.to_string()),
                    name: g.name.clone(),
                    community: g.community.to_string(),
                    bbox: b,
                    weight: f64::from(g.population.max(1)),
                });
            }
        }
        if i64::from(page) * 2000 >= found.total {
            break;
        }
        page += 1;
    }
    let with_grids: std::collections::HashSet<String> = places.iter().map(|p| p.community.clone()).collect();
    let names: HashMap<String, String> = store
        .child_divisions(city, None, Some(Level::Community))
        .await?
        .into_iter()
        .map(|d| (d.code.to_string(), d.name))
        .collect();
    let fallback = store
        .division_boundaries(city, Level::Community)
        .await?
        .into_iter()
        .filter(|(code, _)| !with_grids.contains(code))
        .filter_map(|(code, area)| {
            Some(Place {
                grid: None,
                name: names.get(&code).cloned().unwrap_or_else(|| code.clone()),
                community: code,
                bbox: bbox(&area)?,
                weight: 1.0,
            })
        })
        .collect();
    let orgs = store.organisations(city, None).await?;
    let mut people = Vec::new();
    let mut after = 0;
    loop {
        let found = store.people(city, after, 2000).await?;
        let Some((last, _)) = found.last() else { break };
        after = last.id.0;
        people.extend(found.into_iter().map(|(p, g)| (p.id, g)));
    }
    Ok(CityModel {
        city,
        places,
        fallback,
        orgs,
        people,
    })
}

/// The organisations cases are dispatched to, indexed by the division codes they serve.
#[derive(Debug, Clone)]
pub struct Units<'a> {
    orgs: &'a [Organisation],
    by_code: HashMap<&'a str, Vec<usize>>,
}

/// The level an organisation acts at, from its kind (as the web's `org_level`).
pub fn org_level(kind: OrgKind) -> Level {
    match kind {
        OrgKind::FunctionalDepartment | OrgKind::CommandCentre => Level::District,
        OrgKind::StreetOffice => Level::Street,
        _ => Level::Community,
    }
}

impl<'a> Units<'a> {
    pub fn new(orgs: &'a [Organisation]) -> Self {
        let mut by_code: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, o) in orgs.iter().enumerate() {
            for d in &o.jurisdiction {
                by_code.entry(d.as_str()).or_default().push(i);
            }
        }
        Units { orgs, by_code }
    }

    fn serving(&self, kind: OrgKind, code: &str) -> impl Iterator<Item = &'a Organisation> + '_ {
        let orgs = self.orgs;
        self.by_code
            .get(code)
            .into_iter()
            .flatten()
            .map(move |&i| &orgs[i])
            .filter(move |o| o.kind == kind)
    }

    /// The unit the dispatch catalogue names for a case in `area`: the rule of the web's
    /// dispatch proposal (`gongzhi_web::cases::propose`) over this list. A district target is
    /// the department of the area's district whose name ends with the target's department; a
    /// street or community target is the street office or community committee of the area.
    pub fn route(&self, target: &DispatchTarget, area: &str) -> Option<&'a Organisation> {
        let (kind, len) = match target.level {
            Level::District => (OrgKind::FunctionalDepartment, 6),
            Level::Street => (OrgKind::StreetOffice, 9),
            _ => (OrgKind::CommunityCommittee, 12),
        };
        if area.len() < len {
            return None;
        }
        let wanted = if target.level == Level::District && target.department.is_none() {
            OrgKind::StreetOffice
        } else {
            kind
        };
        self.serving(kind, &area[..len])
            .find(|o| o.kind == wanted && target.matches(target.level, &o.name))
    }

    /// Where a dispatcher sends a case the catalogue has no unit for: the street office, else
    /// the district's urban management bureau.
    fn route_or_fallback(&self, target: &DispatchTarget, area: &str) -> Option<&'a Organisation> {
        self.route(target, area)
            .or_else(|| self.serving(OrgKind::StreetOffice, area.get(..9)?).next())
            .or_else(|| {
                self.departments(area)
                    .find(|o| o.name.ends_with("城市管理和综合执法局"))
            })
            .or_else(|| self.departments(area).next())
    }

    /// The functional departments of the area's district.
    fn departments(&self, area: &str) -> impl Iterator<Item = &'a Organisation> + '_ {
        let code = area.get(..6).unwrap_or("");
        self.serving(OrgKind::FunctionalDepartment, code)
    }

    /// Another unit a returned case may go to: for a department, the street office or another
    /// department; for a street office, the district's departments or the community committee;
    /// for a community committee, the street office.
    fn alternatives(&self, current: i64, area: &str) -> Vec<&'a Organisation> {
        let street = area
            .get(..9)
            .map(|s| self.serving(OrgKind::StreetOffice, s).collect::<Vec<_>>());
        let community = area
            .get(..12)
            .map(|c| self.serving(OrgKind::CommunityCommittee, c).collect::<Vec<_>>());
        let departments: Vec<&Organisation> = self.departments(area).collect();
        let kind = self.orgs.iter().find(|o| o.id == current).map(|o| o.kind);
        let mut out: Vec<&Organisation> = match kind {
            Some(OrgKind::FunctionalDepartment) => street.into_iter().flatten().chain(departments).collect(),
            Some(OrgKind::StreetOffice) => departments.into_iter().chain(community.into_iter().flatten()).collect(),
            _ => street.into_iter().flatten().collect(),
        };
        out.retain(|o| o.id != current);
        out
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// First and last day of the period (Beijing dates).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Cases reported over the whole period.
    pub total: u64,
    pub seed: u64,
    /// Nothing happens after this instant (unix ms): steps that would come later are not
    /// recorded and their cases stay where they are.
    pub horizon_ms: i64,
}

impl ReplayOptions {
    /// `per_day` cases a day on average from `from` to `to`, with every step recorded up to
    /// `horizon_ms`.
    pub fn per_day(from: NaiveDate, to: NaiveDate, per_day: u64, seed: u64, horizon_ms: i64) -> Self {
        let days = (to - from).num_days().max(0) as u64 + 1;
        ReplayOptions {
            from,
            to,
            total: per_day * days,
            seed,
            horizon_ms,
        }
    }
}

/// One day's cases, and any step the state machine refused (a generator bug: none expected).
#[derive(Debug, Clone, Default)]
pub struct DayCases {
    pub histories: Vec<CaseHistory>,
    pub refused: Vec<String>,
}

/// Counts over generated histories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub cases: u64,
    pub events: u64,
    pub voided: u64,
    pub merged: u64,
    pub dispatched: u64,
    /// 退单 (events).
    pub returns: u64,
    /// 返工: failed verifications (events).
    pub reworks: u64,
    /// Approved extensions (events).
    pub extensions: u64,
    /// Cases marked overdue or closed overdue.
    pub overdue: u64,
    /// 吹哨 (cases).
    pub whistles: u64,
    pub closed: u64,
    /// Of which 特殊结案.
    pub special: u64,
    pub followed_up: u64,
    /// Not yet closed, voided or merged at the horizon.
    pub open: u64,
}

impl ReplayStats {
    pub fn add(&mut self, h: &CaseHistory) {
        self.cases += 1;
        self.events += h.events.len() as u64;
        let mut overdue = false;
        for r in &h.events {
            match &r.event {
                CaseEvent::Voided { .. } => self.voided += 1,
                CaseEvent::MergedInto { .. } => self.merged += 1,
                CaseEvent::Dispatched { .. } => self.dispatched += 1,
                CaseEvent::Returned { .. } => self.returns += 1,
                CaseEvent::VerificationFailed { .. } => self.reworks += 1,
                CaseEvent::ExtensionApproved { .. } => self.extensions += 1,
                CaseEvent::Whistled { .. } => self.whistles += 1,
                CaseEvent::Supervised { level, .. } if *level == OVERDUE_LEVEL => overdue = true,
                CaseEvent::Closed { kind, .. } => {
                    self.closed += 1;
                    overdue |= *kind == CloseKind::Overdue;
                    self.special += u64::from(*kind == CloseKind::Special);
                }
                CaseEvent::FollowedUp { .. } => self.followed_up += 1,
                _ => {}
            }
        }
        self.overdue += u64::from(overdue);
        let last_state = Case::replay(0, &h.events).state;
        self.open += u64::from(last_state.is_open());
    }

    pub fn add_all<'a>(&mut self, hs: impl IntoIterator<Item = &'a CaseHistory>) {
        hs.into_iter().for_each(|h| self.add(h));
    }
}

/// Monthly volume relative to the mean (Chengdu: summer rains and outdoor life peak).
const MONTH_VOLUME: [f64; 12] = [0.86, 0.82, 0.95, 1.0, 1.04, 1.12, 1.22, 1.2, 1.06, 1.0, 0.94, 0.88];

const ROADS: &[&str] = &[
    "人民南路",
    "东大街",
    "红星路",
    "蜀都大道",
    "建设路",
    "玉林北路",
    "新南路",
    "一环路东段",
    "天府大道",
    "府青路",
    "青龙街",
    "光华大道",
    "锦华路",
    "双林路",
    "文庙前街",
    "二环路南段",
];
const SPOTS: &[&str] = &[
    "路口",
    "小区门口",
    "公交站旁",
    "菜市场旁",
    "学校门口",
    "商铺门前",
    "人行道上",
    "绿化带内",
    "停车场内",
    "河边步道",
    "背街小巷",
    "广场一侧",
];

/// The generator of one period.
pub struct Replay<'a> {
    opts: ReplayOptions,
    catalogue: &'a Catalogue,
    calendar: &'a WorkCalendar,
    conds: Vec<(&'a Category, &'a FilingCondition)>,
    places: &'a [Place],
    place_pick: Option<WeightedIndex<f64>>,
    fallback: &'a [Place],
    units: Units<'a>,
    acceptors: Vec<PersonId>,
    dispatchers: Vec<PersonId>,
    leaders: Vec<PersonId>,
    grid_workers: HashMap<&'a str, Vec<PersonId>>,
    grid_heads: HashMap<&'a str, Vec<PersonId>>,
    residents: HashMap<&'a str, Vec<PersonId>>,
    any_residents: Vec<PersonId>,
    handlers: HashMap<i64, Vec<PersonId>>,
}

/// A case about to be simulated.
struct Draft<'a> {
    key: i64,
    source: CaseSource,
    cond: usize,
    place: &'a Place,
    lng: f64,
    lat: f64,
    description: String,
    at: i64,
    role: Role,
    actor: Option<PersonId>,
}

/// One case being driven through the state machine.
struct Sim<'r, 'a> {
    r: &'r Replay<'a>,
    case: Case,
    log: Vec<Recorded>,
    now: i64,
    limit: Limit,
    stopped: bool,
    refused: Vec<String>,
    /// A duplicate to absorb at a time: (at, its key).
    absorb: Option<(i64, i64)>,
    absorbed: bool,
}

impl<'r, 'a> Sim<'r, 'a> {
    fn ctx(&self, at: i64) -> DecisionContext<'a> {
        DecisionContext::new(at, self.r.calendar, self.limit)
    }

    /// Take a step at `at` (or now, if that is later), after what the sweep and the pending
    /// merge did before it. False when it was not taken (past the horizon, or refused).
    fn act(&mut self, at: i64, action: Action, role: Role, actor: Option<PersonId>) -> bool {
        if self.stopped {
            return false;
        }
        let at = at.max(self.now);
        self.catch_up(at);
        if at > self.r.opts.horizon_ms {
            self.stopped = true;
            return false;
        }
        self.apply(at, action, role, actor)
    }

    fn apply(&mut self, at: i64, action: Action, role: Role, actor: Option<PersonId>) -> bool {
        match case::decide(&self.case, &action, role, &self.ctx(at)) {
            Ok(events) => {
                for event in events {
                    self.case.apply(&event, at);
                    self.log.push(Recorded {
                        event,
                        at_ms: at,
                        actor,
                        role,
                    });
                }
                self.now = at;
                true
            }
            Err(e) => {
                self.refused
                    .push(format!("case {}: {:?} as {role}: {e}", self.case.id, action.kind()));
                self.stopped = true;
                false
            }
        }
    }

    /// What happens by itself up to `until`: the sweep marks the case overdue a minute after
    /// its deadline while the unit has it; a pending duplicate is absorbed.
    fn catch_up(&mut self, until: i64) {
        let until = until.min(self.r.opts.horizon_ms);
        loop {
            let sweep = (matches!(self.case.state, CaseState::Dispatched | CaseState::Handling)
                && !self.case.overdue
                && self.case.supervision < OVERDUE_LEVEL)
                .then_some(self.case.deadline_ms)
                .flatten()
                .map(|d| d + SWEEP_DELAY)
                .filter(|&t| t <= until);
            let absorb = self.absorb.filter(|&(t, _)| t <= until);
            match (sweep, absorb) {
                (Some(s), a) if a.is_none_or(|(t, _)| s <= t) => {
                    let note = "超期：已过处置时限 (deadline passed)".to_owned();
                    let action = Action::Supervise {
                        level: OVERDUE_LEVEL,
                        note,
                    };
                    if !self.apply(s.max(self.now), action, Role::ShiftLeader, None) {
                        return;
                    }
                }
                (_, Some((t, dup))) => {
                    self.absorb = None;
                    if self.case.state.is_open() {
                        let actor = self.r.pick_id(&self.r.acceptors, dup);
                        let action = Action::AbsorbDuplicate { case_id: CaseId(dup) };
                        self.absorbed = self.apply(t.max(self.now), action, Role::Acceptor, actor);
                    }
                }
                _ => return,
            }
        }
    }

    fn finish(mut self) -> (Vec<Recorded>, Vec<String>, bool) {
        if self.refused.is_empty() && !self.log.is_empty() {
            self.catch_up(self.r.opts.horizon_ms);
        }
        (self.log, self.refused, self.absorbed)
    }
}

fn pick<'x, T>(rng: &mut ChaCha8Rng, items: &'x [T]) -> &'x T {
    items.choose(rng).expect("a non-empty list")
}

fn minutes(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    rng.gen_range(lo..=hi) * MIN
}

/// A coordinate rounded to 6 decimals (about 0.1 m), as reports give them; such values come
/// back unchanged from their JSON text.
fn micro_degrees(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Unix ms of `minute` minutes after Beijing midnight of `date`.
fn local_ms(date: NaiveDate, minute: i64) -> i64 {
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis();
    midnight - 8 * HOUR + minute * MIN
}

/// Hourly weights of reports of a source (Beijing time).
fn hours_of(source: CaseSource) -> [f64; 24] {
    match source {
        CaseSource::Patrol => [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.8, 1.0, 1.0, 0.9, 0.2, 0.3, 0.9, 1.0, 1.0, 0.6, 0.1, 0.0, 0.0,
            0.0, 0.0, 0.0,
        ],
        CaseSource::Hotline => [
            0.08, 0.05, 0.03, 0.03, 0.03, 0.05, 0.15, 0.4, 0.8, 1.0, 1.0, 0.9, 0.6, 0.7, 0.9, 0.95, 0.9, 0.8, 0.7,
            0.75, 0.8, 0.6, 0.35, 0.15,
        ],
        CaseSource::Resident => [
            0.05, 0.02, 0.01, 0.01, 0.01, 0.03, 0.2, 0.5, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 0.7, 0.9, 1.0,
            1.0, 0.9, 0.6, 0.25,
        ],
        _ => [
            0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0, 1.0, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7,
            0.6, 0.4, 0.3,
        ],
    }
}

impl<'a> Replay<'a> {
    pub fn new(
        model: &'a CityModel,
        catalogue: &'a Catalogue,
        calendar: &'a WorkCalendar,
        opts: ReplayOptions,
    ) -> Self {
        let mut acceptors = Vec::new();
        let mut dispatchers = Vec::new();
        let mut leaders = Vec::new();
        let mut grid_workers: HashMap<&str, Vec<PersonId>> = HashMap::new();
        let mut grid_heads: HashMap<&str, Vec<PersonId>> = HashMap::new();
        let mut residents: HashMap<&str, Vec<PersonId>> = HashMap::new();
        let mut any_residents = Vec::new();
        let mut handlers: HashMap<i64, Vec<PersonId>> = HashMap::new();
        for (id, grants) in &model.people {
            for g in grants {
                match (g.role, &g.scope) {
                    (Role::Acceptor, _) => acceptors.push(*id),
                    (Role::Dispatcher, _) => dispatchers.push(*id),
                    (Role::ShiftLeader, _) => leaders.push(*id),
                    (Role::GridWorker, Scope::Grids(gs)) => {
                        for code in gs {
                            grid_workers.entry(code.as_str()).or_default().push(*id);
                        }
                    }
                    (Role::GridHead, Scope::Division(d)) => grid_heads.entry(d.as_str()).or_default().push(*id),
                    (Role::Resident, Scope::Division(d)) => {
                        residents.entry(d.as_str()).or_default().push(*id);
                        any_residents.push(*id);
                    }
                    (Role::DepartmentHandler, Scope::Organisation(o)) => handlers.entry(*o).or_default().push(*id),
                    _ => {}
                }
            }
        }
        let place_pick = WeightedIndex::new(model.places.iter().map(|p| p.weight.max(0.01))).ok();
        Replay {
            opts,
            catalogue,
            calendar,
            conds: catalogue.conditions().collect(),
            places: &model.places,
            place_pick,
            fallback: &model.fallback,
            units: Units::new(&model.orgs),
            acceptors,
            dispatchers,
            leaders,
            grid_workers,
            grid_heads,
            residents,
            any_residents,
            handlers,
        }
    }

    pub fn options(&self) -> &ReplayOptions {
        &self.opts
    }

    /// A person of a list, chosen by `n` (deterministic), or none if the list is empty.
    fn pick_id(&self, ids: &[PersonId], n: i64) -> Option<PersonId> {
        (!ids.is_empty()).then(|| ids[n.unsigned_abs() as usize % ids.len()])
    }

    /// A public holiday (a day off that is not a plain weekend), or a day off next to one.
    fn festive(&self, d: NaiveDate) -> bool {
        let holiday =
            |d: NaiveDate| !self.calendar.is_working_day(d) && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        !self.calendar.is_working_day(d) && (-2..=2).any(|k| holiday(d + chrono::Duration::days(k)))
    }

    /// The number of cases of each day of the period, adding up to the total exactly.
    pub fn volumes(&self) -> Vec<(NaiveDate, u32)> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.opts.seed ^ 0x766f_6c75_6d65);
        let mut days = Vec::new();
        let mut d = self.opts.from;
        while d <= self.opts.to {
            let base = MONTH_VOLUME[d.month0() as usize];
            let kind = if self.festive(d) {
                1.08
            } else if self.calendar.is_working_day(d) {
                1.0
            } else {
                0.78
            };
            days.push((d, base * kind * rng.gen_range(0.88..1.12)));
            d = match d.succ_opt() {
                Some(n) => n,
                None => break,
            };
        }
        let sum: f64 = days.iter().map(|(_, w)| w).sum();
        let total = self.opts.total;
        let mut counts: Vec<(NaiveDate, u64, f64)> = days
            .iter()
            .map(|(d, w)| {
                let exact = total as f64 * w / sum;
                (*d, exact.floor() as u64, exact - exact.floor())
            })
            .collect();
        let given: u64 = counts.iter().map(|c| c.1).sum();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| counts[b].2.total_cmp(&counts[a].2).then(a.cmp(&b)));
        for &i in order.iter().cycle().take(total.saturating_sub(given) as usize) {
            counts[i].1 += 1;
        }
        counts.into_iter().map(|(d, n, _)| (d, n as u32)).collect()
    }

    /// The weight of each filing condition for reports of `source` on `date`.
    fn condition_weights(&self, source: CaseSource, date: NaiveDate, festive: bool) -> Vec<f64> {
        let m = date.month();
        let summer = (6..=8).contains(&m);
        let rainy = match m {
            7 | 8 => 3.0,
            6 | 9 => 2.0,
            5 => 1.3,
            _ => 0.7,
        };
        self.conds
            .iter()
            .map(|(cat, cond)| {
                let major = match (cat.kind, cat.major_code.as_str()) {
                    (CaseKind::Component, "01") => 1.0,
                    (CaseKind::Component, "02") => 0.9,
                    (CaseKind::Component, "03") => 0.8,
                    (CaseKind::Component, "04") => 0.6,
                    (CaseKind::Component, _) => 0.3,
                    (CaseKind::Event, "01") => 2.2,
                    (CaseKind::Event, "02") => 1.4,
                    (CaseKind::Event, "03") => 0.8,
                    (CaseKind::Event, "04") => 0.3,
                    (CaseKind::Event, "05") => 2.2,
                    (CaseKind::Event, _) => 0.4,
                    (CaseKind::ServiceRequest, "01") => 1.3,
                    (CaseKind::ServiceRequest, "02") => 1.1,
                    (CaseKind::ServiceRequest, "03") => 0.8,
                    (CaseKind::ServiceRequest, "04") => 0.5,
                    (CaseKind::ServiceRequest, _) => 0.35,
                };
                let by_source = match (source, cat.kind) {
                    (CaseSource::Patrol, CaseKind::ServiceRequest) => 0.03,
                    (CaseSource::Patrol, _) => 1.0,
                    (CaseSource::Video, CaseKind::Component) => 0.3,
                    (CaseSource::Video, CaseKind::Event) if matches!(cat.major_code.as_str(), "01" | "05") => 2.0,
                    (CaseSource::Video, CaseKind::Event) => 0.6,
                    (CaseSource::Video, CaseKind::ServiceRequest) => 0.0,
                    (CaseSource::Hotline, CaseKind::Component) => 0.35,
                    (CaseSource::Hotline, CaseKind::Event) => 0.8,
                    (CaseSource::Hotline, CaseKind::ServiceRequest) => 2.4,
                    (_, CaseKind::Component) => 0.6,
                    (_, CaseKind::Event) => 1.0,
                    (_, CaseKind::ServiceRequest) => 1.6,
                };
                let code = cat.code.as_str();
                let season = match code {
                    // Greening: growth, pruning and storms in spring and summer.
                    c if c.starts_with("C04") || c == "E0407" => match m {
                        4 | 5 => 1.4,
                        6..=8 => 2.0,
                        _ => 0.7,
                    },
                    // Drainage: the rainy season.
                    "C0103" | "C0104" | "C0207" | "E0404" | "E0405" | "C0602" => rainy,
                    "E0406" => {
                        if matches!(m, 12 | 1 | 2) {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    "E0506" | "E0109" | "S0101" | "S0102" | "E0305" => {
                        if summer {
                            1.7
                        } else {
                            0.8
                        }
                    }
                    "E0108" => {
                        if matches!(m, 10..=12 | 1 | 2) {
                            1.8
                        } else {
                            0.5
                        }
                    }
                    "S0301" | "S0302" => {
                        if summer {
                            1.6
                        } else {
                            0.9
                        }
                    }
                    _ => 1.0,
                };
                let festival = if festive {
                    match (cat.kind, cat.major_code.as_str()) {
                        (CaseKind::Event, "01" | "05") => 1.7,
                        (CaseKind::Event, "02") | (CaseKind::ServiceRequest, "04") => 1.4,
                        _ => 1.0,
                    }
                } else {
                    1.0
                };
                let secondary = if cond.code.ends_with("-01") { 1.0 } else { 0.6 };
                major * by_source * season * festival * secondary
            })
            .collect()
    }

    /// The cases reported on `date`: `count` of them (fewer on the day of the horizon: none is
    /// reported after it), with keys `day number × 1,000,000 + n`.
    pub fn day(&self, date: NaiveDate, count: u32) -> DayCases {
        let mut out = DayCases::default();
        if count == 0 || self.conds.is_empty() || (self.places.is_empty() && self.fallback.is_empty()) {
            return out;
        }
        let day_no = i64::from(date.num_days_from_ce());
        let mut rng = ChaCha8Rng::seed_from_u64(self.opts.seed ^ (day_no as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let working = self.calendar.is_working_day(date);
        let festive = self.festive(date);
        let sources = [
            CaseSource::Patrol,
            CaseSource::Hotline,
            CaseSource::Resident,
            CaseSource::Video,
        ];
        let source_pick = WeightedIndex::new(if working {
            [0.45, 0.28, 0.15, 0.12]
        } else {
            [0.2, 0.42, 0.25, 0.13]
        })
        .expect("positive weights");
        let cond_picks: Vec<Option<WeightedIndex<f64>>> = sources
            .iter()
            .map(|s| WeightedIndex::new(self.condition_weights(*s, date, festive)).ok())
            .collect();
        let hour_picks: Vec<WeightedIndex<f64>> = sources
            .iter()
            .map(|s| WeightedIndex::new(hours_of(*s)).expect("positive weights"))
            .collect();
        let count = i64::from(count);
        let horizon = self.opts.horizon_ms;
        let mut n = 0;
        while n < count {
            let key = day_no * KEYS_PER_DAY + n + 1;
            n += 1;
            let si = source_pick.sample(&mut rng);
            let Some(cond_pick) = cond_picks[si].as_ref().or(cond_picks[0].as_ref()) else {
                return out;
            };
            let cond = cond_pick.sample(&mut rng);
            let at = local_ms(date, hour_picks[si].sample(&mut rng) as i64 * 60 + rng.gen_range(0..60));
            let draft = self.draft(&mut rng, key, sources[si], cond, at);
            let dup = (n < count && rng.gen_bool(0.02)).then(|| {
                n += 1;
                let at = draft.at + minutes(&mut rng, 10, 120);
                let source = if draft.source == CaseSource::Hotline {
                    CaseSource::Resident
                } else {
                    CaseSource::Hotline
                };
                let mut d = self.draft(&mut rng, key + 1, source, cond, at);
                d.place = draft.place;
                d.lng = micro_degrees(draft.lng + rng.gen_range(-0.00008..0.00008));
                d.lat = micro_degrees(draft.lat + rng.gen_range(-0.00008..0.00008));
                d.description = format!("{}（再次反映）", draft.description);
                let merge_at = at + minutes(&mut rng, 5, 40);
                (d, merge_at)
            });
            if draft.at > horizon {
                // Not reported yet at the horizon.
                continue;
            }
            let (survivor, refused, absorbed) = self.run(&mut rng, &draft, dup.as_ref().map(|(d, t)| (*t, d.key)));
            out.refused.extend(refused);
            out.histories.push(survivor);
            if let Some((d, merge_at)) = dup.filter(|(d, _)| d.at <= horizon) {
                let (h, refused) = self.run_duplicate(&d, draft.key, merge_at, absorbed);
                out.refused.extend(refused);
                out.histories.push(h);
            }
        }
        out
    }

    fn draft<'p>(&'p self, rng: &mut ChaCha8Rng, key: i64, source: CaseSource, cond: usize, at: i64) -> Draft<'p> {
        let place = match (&self.place_pick, self.fallback.is_empty()) {
            (Some(_), false) if rng.gen_bool(0.02) => pick(rng, self.fallback),
            (Some(w), _) => &self.places[w.sample(rng)],
            (None, _) => pick(rng, self.fallback),
        };
        let [x0, y0, x1, y1] = place.bbox;
        let lng = micro_degrees(x0 + (x1 - x0) * rng.gen_range(0.1..0.9));
        let lat = micro_degrees(y0 + (y1 - y0) * rng.gen_range(0.1..0.9));
        let (role, actor) = match source {
            CaseSource::Patrol => match &place.grid {
                Some(g) => (
                    Role::GridWorker,
                    self.grid_workers.get(g.as_str()).map(|v| *pick(rng, v)),
                ),
                None => (
                    Role::GridHead,
                    self.grid_heads.get(place.community.as_str()).map(|v| *pick(rng, v)),
                ),
            },
            CaseSource::Resident => {
                let local = self.residents.get(place.community.as_str()).filter(|v| !v.is_empty());
                let list = local.map_or(self.any_residents.as_slice(), Vec::as_slice);
                (Role::Resident, (!list.is_empty()).then(|| *pick(rng, list)))
            }
            _ => (Role::Acceptor, self.pick_id(&self.acceptors, key)),
        };
        let text = &self.conds[cond].1.text;
        let road = pick(rng, ROADS);
        let spot = pick(rng, SPOTS);
        let description = match source {
            CaseSource::Patrol => format!("巡查发现：{road}{spot}{text}"),
            CaseSource::Hotline => format!("市民来电反映：{road}{spot}{text}，希望尽快处理"),
            CaseSource::Resident => format!("{road}{spot}{text}，请相关部门处理"),
            _ => format!("视频监控发现：{road}{spot}{text}"),
        };
        Draft {
            key,
            source,
            cond,
            place,
            lng,
            lat,
            description,
            at,
            role,
            actor,
        }
    }

    fn start<'r>(&'r self, d: &Draft<'_>) -> Sim<'r, 'a> {
        let (cat, cond) = self.conds[d.cond];
        Sim {
            r: self,
            case: Case::new(CaseId(d.key)),
            log: Vec::new(),
            now: d.at,
            limit: Limit::from(cond),
            stopped: d.at > self.opts.horizon_ms,
            refused: Vec::new(),
            absorb: None,
            absorbed: false,
        }
        .collect(d, cat)
    }

    fn history(&self, d: &Draft<'_>, events: Vec<Recorded>) -> CaseHistory {
        CaseHistory {
            key: d.key,
            events,
            area: d.place.community.clone(),
            reporter: d.actor.map(|id| id.0),
        }
    }

    /// A duplicate report: merged into its survivor if that was still open, else voided.
    fn run_duplicate(&self, d: &Draft<'_>, survivor: i64, merge_at: i64, absorbed: bool) -> (CaseHistory, Vec<String>) {
        let mut sim = self.start(d);
        if absorbed {
            let actor = self.pick_id(&self.acceptors, survivor);
            sim.act(
                merge_at,
                Action::Merge { into: CaseId(survivor) },
                Role::Acceptor,
                actor,
            );
        } else {
            let reason = "重复上报，原案件已在处置或已结案".to_owned();
            let actor = self.pick_id(&self.leaders, d.key);
            sim.act(merge_at, Action::Void { reason }, Role::ShiftLeader, actor);
        }
        let (log, refused, _) = sim.finish();
        (self.history(d, log), refused)
    }

    /// Drive one case from its report along a path drawn for it.
    fn run(&self, rng: &mut ChaCha8Rng, d: &Draft<'_>, absorb: Option<(i64, i64)>) -> (CaseHistory, Vec<String>, bool) {
        let mut sim = self.start(d);
        sim.absorb = absorb;
        self.drive(rng, d, &mut sim);
        let (log, refused, absorbed) = sim.finish();
        (self.history(d, log), refused, absorbed)
    }

    fn work_hours(&self, from: i64, hours: u32) -> i64 {
        Limit::new(TimerKind::WorkHours, hours).end(self.calendar, from)
    }

    fn drive(&self, rng: &mut ChaCha8Rng, d: &Draft<'_>, sim: &mut Sim<'_, 'a>) {
        let (cat, cond) = self.conds[d.cond];
        let key = d.key;
        let acceptor = self.pick_id(&self.acceptors, key);
        let dispatcher = self.pick_id(&self.dispatchers, key);
        let leader = self.pick_id(&self.leaders, key);
        let emergency = cond.timer == TimerKind::EmergencyHours;
        let mut t = sim.now;

        // 立案 or 作废.
        if rng.gen_bool(0.03) {
            let reason = pick(
                rng,
                &[
                    "非城市管理问题，已告知诉求人相关渠道",
                    "信息不全，无法核实",
                    "现场核实无此问题",
                    "属于民事纠纷，已引导通过调解途径解决",
                ],
            )
            .to_string();
            sim.act(
                t + minutes(rng, 5, 90),
                Action::Void { reason },
                Role::ShiftLeader,
                leader,
            );
            return;
        }
        if d.source != CaseSource::Hotline {
            t += if emergency {
                minutes(rng, 2, 15)
            } else {
                minutes(rng, 3, 45)
            };
            if !sim.act(t, Action::Register, Role::Acceptor, acceptor) {
                return;
            }
        }

        // 派遣, or 吹哨 for a hard case.
        let area = d.place.community.as_str();
        let Some(unit) = self.units.route_or_fallback(&cond.dispatch, area) else {
            return;
        };
        let whistle_p = if cat.code.starts_with("E04") { 0.1 } else { 0.008 };
        let whistle = rng.gen_bool(whistle_p);
        t = sim.now
            + if emergency {
                minutes(rng, 3, 20)
            } else {
                minutes(rng, 5, 60)
            };
        let mut co_reports = Vec::new();
        let mut unit = unit;
        if whistle {
            let lead = if unit.kind == OrgKind::FunctionalDepartment {
                unit
            } else {
                self.units
                    .departments(area)
                    .find(|o| o.name.ends_with("城市管理和综合执法局"))
                    .unwrap_or(unit)
            };
            let mut co: Vec<&Organisation> = self.units.departments(area).filter(|o| o.id != lead.id).collect();
            if let Some(street) = area
                .get(..9)
                .and_then(|s| self.units.serving(OrgKind::StreetOffice, s).next())
            {
                co.push(street);
            }
            co.shuffle(rng);
            co.truncate(rng.gen_range(2..=3));
            if !co.is_empty() {
                let action = Action::Whistle {
                    lead: lead.id,
                    lead_name: lead.name.clone(),
                    level: org_level(lead.kind),
                    co_units: co.iter().map(|o| o.id).collect(),
                };
                if !sim.act(t, action, Role::Dispatcher, dispatcher) {
                    return;
                }
                unit = lead;
                let window = self.work_hours(sim.now, 2);
                for o in co {
                    let at = if rng.gen_bool(0.85) {
                        sim.now + (window - sim.now) * rng.gen_range(10..95) / 100
                    } else {
                        window + minutes(rng, 20, 600)
                    };
                    co_reports.push((at, o.id));
                }
                co_reports.sort();
            }
        }
        if sim.case.state == CaseState::Registered {
            let action = Action::Dispatch {
                unit: unit.id,
                unit_name: unit.name.clone(),
                level: org_level(unit.kind),
            };
            if !sim.act(t, action, Role::Dispatcher, dispatcher) {
                return;
            }
        }
        let handler = |u: i64| self.handlers.get(&u).and_then(|v| v.first().copied());

        // 退单 within the return window, then re-dispatch or refuse the return (首办责任).
        if !whistle && rng.gen_bool(0.06) {
            // Within one working hour: well inside the return window (2 working hours).
            let at = (self.work_hours(sim.now, 1) - minutes(rng, 0, 50)).max(sim.now + 5 * MIN);
            let reason = pick(
                rng,
                &["非本单位职责范围", "属地不符，应由所在街道处置", "权属不清，请重新派遣"],
            )
            .to_string();
            if !sim.act(at, Action::Return { reason }, Role::DepartmentHandler, handler(unit.id)) {
                return;
            }
            let review = sim.now + minutes(rng, 15, 150);
            let others = self.units.alternatives(unit.id, area);
            if !others.is_empty() && rng.gen_bool(0.7) {
                let next = *pick(rng, &others);
                let action = Action::Dispatch {
                    unit: next.id,
                    unit_name: next.name.clone(),
                    level: org_level(next.kind),
                };
                if !sim.act(review, action, Role::Dispatcher, dispatcher) {
                    return;
                }
                unit = next;
            } else {
                let reason = "经核实属该单位职责，请予处置".to_owned();
                if !sim.act(review, Action::RejectReturn { reason }, Role::Dispatcher, dispatcher) {
                    return;
                }
            }
        }
        let worker = handler(unit.id);

        // 签收, and the co-units' 报到 around it.
        let mut pending = co_reports.into_iter().peekable();
        if sim.case.state == CaseState::Dispatched {
            let at = if emergency {
                sim.now + minutes(rng, 5, 40)
            } else {
                (self.work_hours(sim.now, 1) - minutes(rng, 0, 50)).max(sim.now + 5 * MIN)
            };
            while let Some((t, u)) = pending.next_if(|(t, _)| *t <= at) {
                if !sim.act(
                    t,
                    Action::ReportToWhistle { unit: u },
                    Role::DepartmentHandler,
                    handler(u),
                ) {
                    return;
                }
            }
            if !sim.act(at, Action::Accept, Role::DepartmentHandler, worker) {
                return;
            }
        }
        let mut co_left: Vec<(i64, i64)> = pending.collect();

        // 挂账 and 特殊结案.
        if rng.gen_bool(0.005) {
            let reason = pick(rng, &["涉及产权争议，暂无法处置", "纳入片区改造计划统一解决"]).to_string();
            for (t, u) in co_left.drain(..) {
                if !sim.act(
                    t,
                    Action::ReportToWhistle { unit: u },
                    Role::DepartmentHandler,
                    handler(u),
                ) {
                    return;
                }
            }
            if !sim.act(
                sim.now + minutes(rng, 600, 4000),
                Action::Suspend { reason },
                Role::ShiftLeader,
                leader,
            ) {
                return;
            }
            let special = Some("已纳入旧改计划，作特殊结案处理".to_owned());
            let at = sim.now + minutes(rng, 5 * 1440, 40 * 1440);
            if sim.act(
                at,
                Action::Close {
                    special_reason: special,
                },
                Role::ShiftLeader,
                leader,
            ) {
                self.follow_up(rng, d, sim, acceptor.map(|id| id.0));
            }
            return;
        }

        // 延期: requested before the deadline, mostly approved.
        let accepted = sim.now;
        if rng.gen_bool(0.05) {
            let deadline = sim.case.deadline_ms.unwrap_or(accepted + DAY);
            let at = accepted + ((deadline - accepted).max(MIN) * rng.gen_range(40..85) / 100);
            let extra = match cond.timer {
                TimerKind::WorkDays => rng.gen_range(1..=3),
                TimerKind::WorkHours => rng.gen_range(2..=8),
                TimerKind::EmergencyHours => rng.gen_range(2..=12),
            };
            let reason = pick(
                rng,
                &["需协调多部门联合处置", "维修材料采购周期较长", "需等待天气条件允许施工"],
            )
            .to_string();
            let action = Action::RequestExtension {
                reason,
                extra_amount: extra,
            };
            if !sim.act(at, action, Role::DepartmentHandler, worker) {
                return;
            }
            let at = sim.now + minutes(rng, 10, 120);
            let decision = if rng.gen_bool(0.85) {
                Action::ApproveExtension
            } else {
                Action::DenyExtension {
                    reason: "理由不充分，请按期处置".into(),
                }
            };
            if !sim.act(at, decision, Role::ShiftLeader, leader) {
                return;
            }
        }

        // 处置: on time, or late (the sweep marks it overdue when the deadline passes).
        let late = rng.gen_bool(if emergency { 0.08 } else { 0.05 });
        let mut report_at = self.handled_at(rng, sim, cond, late);
        if let Some(&(t, _)) = co_left.last() {
            report_at = report_at.max(t + minutes(rng, 10, 60));
        }
        for (t, u) in co_left {
            if !sim.act(
                t,
                Action::ReportToWhistle { unit: u },
                Role::DepartmentHandler,
                handler(u),
            ) {
                return;
            }
        }
        sim.catch_up(report_at);
        if sim.case.overdue && rng.gen_bool(0.2) && report_at > sim.now + 2 * HOUR {
            let at = sim.now + (report_at - sim.now) / 3;
            let action = Action::Supervise {
                level: LEADER_LEVEL,
                note: "挂牌督办：请加快处置".into(),
            };
            if !sim.act(at, action, Role::ShiftLeader, leader) {
                return;
            }
        }
        let notes = [
            "已处置完毕",
            "已修复",
            "已安排人员清理完毕",
            "已责令整改到位",
            "已更换",
            "已劝离并宣传教育",
        ];
        let note = pick(rng, &notes).to_string();
        if !sim.act(
            report_at,
            Action::ReportHandled { note },
            Role::DepartmentHandler,
            worker,
        ) {
            return;
        }

        // 核查 on site by the grid worker; a failed check sends the case back (返工).
        let (verifier_role, verifier) = match &d.place.grid {
            Some(g) => (
                Role::GridWorker,
                self.grid_workers.get(g.as_str()).and_then(|v| v.first().copied()),
            ),
            None => (
                Role::GridHead,
                self.grid_heads
                    .get(d.place.community.as_str())
                    .and_then(|v| v.first().copied()),
            ),
        };
        let verify_at =
            |rng: &mut ChaCha8Rng, from: i64| (self.work_hours(from, 1) - minutes(rng, 0, 50)).max(from + 5 * MIN);
        if rng.gen_bool(0.04) {
            let reason = pick(rng, &["现场核查问题仍存在", "处置不彻底，需返工"]).to_string();
            let at = verify_at(rng, sim.now);
            if !sim.act(at, Action::VerifyFail { reason }, verifier_role, verifier) {
                return;
            }
            let at = self.work_hours(sim.now, rng.gen_range(1..=6)) - minutes(rng, 0, 30);
            let note = "已返工处置完毕".to_owned();
            if !sim.act(at, Action::ReportHandled { note }, Role::DepartmentHandler, worker) {
                return;
            }
        }
        let at = verify_at(rng, sim.now);
        if !sim.act(at, Action::VerifyPass, verifier_role, verifier) {
            return;
        }

        // 结案 and 回访.
        let at = sim.now + minutes(rng, 10, 180);
        if sim.act(at, Action::Close { special_reason: None }, Role::ShiftLeader, leader) {
            self.follow_up(rng, d, sim, acceptor.map(|id| id.0));
        }
    }

    /// When the unit reports the case handled: inside the (extended) deadline, on the clock of
    /// the condition, or after it.
    fn handled_at(&self, rng: &mut ChaCha8Rng, sim: &Sim<'_, 'a>, cond: &FilingCondition, late: bool) -> i64 {
        let now = sim.now;
        let deadline = sim.case.deadline_ms.unwrap_or(now + DAY);
        if late {
            let at = match cond.timer {
                TimerKind::EmergencyHours => deadline.max(now) + minutes(rng, 30, 720),
                _ => self.work_hours(deadline.max(now), rng.gen_range(1..=14)) - minutes(rng, 0, 40),
            };
            return at.max(deadline + 10 * MIN);
        }
        if deadline <= now + 10 * MIN {
            return now + 10 * MIN;
        }
        let instant = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        let left = match cond.timer {
            TimerKind::EmergencyHours => deadline - now,
            _ => self
                .calendar
                .elapsed(instant(now), instant(deadline), TimerKind::WorkHours)
                .num_milliseconds(),
        };
        if cond.timer == TimerKind::EmergencyHours || left < 2 * HOUR {
            return now + (deadline - now) * rng.gen_range(20..90) / 100;
        }
        let hours = ((left as f64 / HOUR as f64) * rng.gen_range(0.2..0.9)).round().max(1.0) as u32;
        (self.work_hours(now, hours) - minutes(rng, 0, 40))
            .max(now + 10 * MIN)
            .min(deadline)
    }

    /// 回访 of hotline and resident reports: satisfaction worse after rework, return or delay.
    fn follow_up(&self, rng: &mut ChaCha8Rng, d: &Draft<'_>, sim: &mut Sim<'_, 'a>, acceptor: Option<i64>) {
        if !matches!(d.source, CaseSource::Hotline | CaseSource::Resident) || !rng.gen_bool(0.95) {
            return;
        }
        let c = &sim.case;
        let troubled = c.reworks > 0 || c.overdue || c.returns > 0 || c.close_kind == Some(CloseKind::Special);
        let solved = rng.gen_bool(if troubled { 0.72 } else { 0.93 });
        let contacted = rng.gen_bool(0.96);
        let satisfaction = rng.gen_bool(0.9).then(|| {
            let (sat, basic) = match (solved, troubled) {
                (true, false) => (0.8, 0.16),
                (true, true) => (0.6, 0.25),
                (false, false) => (0.2, 0.3),
                (false, true) => (0.1, 0.25),
            };
            let x: f64 = rng.gen();
            if x < sat {
                Satisfaction::Satisfied
            } else if x < sat + basic {
                Satisfaction::BasicallySatisfied
            } else {
                Satisfaction::Dissatisfied
            }
        });
        let at = sim.now + minutes(rng, 20 * 60, 72 * 60);
        let action = Action::FollowUp {
            contacted,
            solved,
            satisfaction,
        };
        sim.act(at, action, Role::Acceptor, acceptor.map(PersonId));
    }
}

impl<'r, 'a> Sim<'r, 'a> {
    /// The report itself (信息收集), registered at once when a hotline acceptor takes it.
    fn collect(mut self, d: &Draft<'_>, cat: &Category) -> Self {
        if self.stopped {
            return self;
        }
        let intake = Intake {
            source: d.source,
            category: cat.code.clone(),
            condition: self.r.conds[d.cond].1.code.clone(),
            description: d.description.clone(),
            lng: d.lng,
            lat: d.lat,
            grid: d.place.grid.clone(),
            community: Some(d.place.community.clone()),
        };
        match case::collect(intake, d.role, self.r.catalogue) {
            Ok(event) => {
                self.case.apply(&event, d.at);
                self.log.push(Recorded {
                    event,
                    at_ms: d.at,
                    actor: d.actor,
                    role: d.role,
                });
                if d.source == CaseSource::Hotline {
                    self.apply(d.at, Action::Register, d.role, d.actor);
                }
            }
            Err(e) => {
                self.refused.push(format!("case {}: collect: {e}", d.key));
                self.stopped = true;
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_core::indicators::Counters;

    fn demo() -> Demo {
        crate::build(&crate::Options {
            communities: Some(12),
            seed: 3,
        })
    }

    fn ms(y: i32, m: u32, d: u32) -> i64 {
        local_ms(NaiveDate::from_ymd_opt(y, m, d).unwrap(), 0)
    }

    #[test]
    fn a_year_is_deterministic_realistic_and_legal() {
        let demo = demo();
        let model = CityModel::from_demo(&demo);
        assert!(!model.fallback.is_empty(), "a small demo has communities in no grid");
        let cat = Catalogue::default_cn();
        let cal = WorkCalendar::china_default();
        let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let opts = ReplayOptions::per_day(from, to, 30, 11, ms(2026, 1, 1));
        let replay = Replay::new(&model, &cat, &cal, opts);
        let volumes = replay.volumes();
        assert_eq!(volumes.len(), 365);
        assert_eq!(volumes.iter().map(|v| u64::from(v.1)).sum::<u64>(), 30 * 365);
        let month = |m: u32| -> u32 { volumes.iter().filter(|v| v.0.month() == m).map(|v| v.1).sum() };
        assert!(month(7) > month(2), "summer has more cases than winter");

        let mut stats = ReplayStats::default();
        let mut by_month: HashMap<(u32, String), u32> = HashMap::new();
        let mut fallback = 0;
        for (date, n) in &volumes {
            let day = replay.day(*date, *n);
            assert!(day.refused.is_empty(), "{:?}", day.refused);
            assert_eq!(day.histories.len(), *n as usize);
            for h in &day.histories {
                let case = Case::replay(h.key, &h.events);
                assert!(
                    h.events.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
                    "events in time order"
                );
                assert!(h.events.last().unwrap().at_ms <= ms(2026, 1, 1));
                *by_month
                    .entry((date.month(), case.category[..3].to_owned()))
                    .or_default() += 1;
                fallback += usize::from(case.grid.is_none());
                assert_eq!(Some(h.area.as_str()), case.community.as_deref());
            }
            stats.add_all(&day.histories);
        }
        assert_eq!(stats.cases, 30 * 365);
        // Every path shows up, in plausible proportions.
        let share = |n: u64| n as f64 / stats.cases as f64;
        assert!((0.015..0.06).contains(&share(stats.voided)), "{stats:?}");
        assert!(stats.merged > 20, "{stats:?}");
        assert!((0.03..0.1).contains(&share(stats.returns)), "{stats:?}");
        assert!((0.02..0.08).contains(&share(stats.reworks)), "{stats:?}");
        assert!((0.02..0.12).contains(&share(stats.overdue)), "{stats:?}");
        assert!(
            stats.whistles > 20 && stats.extensions > 100 && stats.special > 5,
            "{stats:?}"
        );
        assert!(share(stats.closed) > 0.85 && stats.followed_up > 2000, "{stats:?}");
        assert!(fallback > 50, "some cases are in no grid: {fallback}");
        // Seasons: greening in summer, road ice only in winter.
        let greening = |m: u32| by_month.get(&(m, "C04".to_owned())).copied().unwrap_or(0);
        assert!(greening(7) > 2 * greening(1), "{} vs {}", greening(7), greening(1));

        // Same seed, same cases; another seed, other cases.
        let day = NaiveDate::from_ymd_opt(2025, 7, 14).unwrap();
        let a = replay.day(day, 40).histories;
        assert_eq!(a, replay.day(day, 40).histories);
        let other = Replay::new(
            &model,
            &cat,
            &cal,
            ReplayOptions::per_day(from, to, 30, 12, ms(2026, 1, 1)),
        );
        assert_ne!(a, other.day(day, 40).histories);
    }

    #[test]
    fn merges_name_their_partner_and_the_horizon_leaves_cases_open() {
        let demo = demo();
        let model = CityModel::from_demo(&demo);
        let cat = Catalogue::default_cn();
        let cal = WorkCalendar::china_default();
        let from = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
        let horizon = ms(2025, 3, 31) + 12 * HOUR;
        let replay = Replay::new(&model, &cat, &cal, ReplayOptions::per_day(from, to, 80, 5, horizon));
        let mut all = Vec::new();
        for (d, n) in replay.volumes() {
            all.extend(replay.day(d, n).histories);
        }
        let keys: HashMap<i64, &CaseHistory> = all.iter().map(|h| (h.key, h)).collect();
        let mut merges = 0;
        for h in &all {
            for r in &h.events {
                if let CaseEvent::MergedInto { case_id } = r.event {
                    merges += 1;
                    let survivor = keys[&case_id.0];
                    assert!(survivor
                        .events
                        .iter()
                        .any(|s| s.event == CaseEvent::DuplicateMerged { case_id: CaseId(h.key) }));
                }
            }
        }
        assert!(merges > 5);
        let stats = {
            let mut s = ReplayStats::default();
            s.add_all(&all);
            s
        };
        assert!(stats.open > 50, "the last day's cases are still open: {stats:?}");
        assert!(all.iter().all(|h| h.events.iter().all(|r| r.at_ms <= horizon)));
        // The counters of a history add up like the store's increments.
        let total: Counters =
            all.iter()
                .map(|h| Counters::from_history(&h.events))
                .fold(Counters::default(), |mut a, c| {
                    a.add(&c);
                    a
                });
        assert_eq!(total.collected, all.len() as u64);
        assert!(total.due_to_close >= total.closed);
    }

    #[test]
    fn routing_follows_the_dispatch_catalogue() {
        let demo = demo();
        let model = CityModel::from_demo(&demo);
        let units = Units::new(&model.orgs);
        let area = model.places[0].community.clone();
        let cat = Catalogue::default_cn();
        let (_, cond) = cat.condition("C0101-01").unwrap();
        let dept = units.route(&cond.dispatch, &area).unwrap();
        assert_eq!(dept.kind, OrgKind::FunctionalDepartment);
        assert!(dept.name.starts_with("锦江区") && dept.name.ends_with(cond.dispatch.department.as_deref().unwrap()));
        let street = DispatchTarget {
            level: Level::Street,
            department: None,
        };
        let office = units.route(&street, &area).unwrap();
        assert_eq!(office.kind, OrgKind::StreetOffice);
        assert!(office.jurisdiction.iter().any(|d| d.as_str() == &area[..9]));
        let community = DispatchTarget {
            level: Level::Community,
            department: None,
        };
        assert_eq!(units.route(&community, &area).unwrap().jurisdiction[0].as_str(), area);
        // A district target without a department names no unit (as the web's proposal).
        let bare = DispatchTarget {
            level: Level::District,
            department: None,
        };
        assert!(units.route(&bare, &area).is_none());
        assert!(units.route(&cond.dispatch, "5101").is_none());
    }
}
