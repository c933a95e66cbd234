//! Flat governance over the store: the city's responsibility lists and their check, workload and
//! push-downs per grassroots unit, the early warning, and the what-if replay's input. The rules
//! are in `gongzhi_core::flat` and `gongzhi_core::whatif`; this module gathers the data. Shared
//! by the JSON API, the pages and the CLI.

use gongzhi_store::prelude::*;
pub use gongzhi_store::StoredDemand;
use gongzhi_store::{Committee, CommitteeMember};
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::calendar::TimerKind;
use gongzhi_core::catalogue::Catalogue;
use gongzhi_core::flat::{
    self, early_warnings, CheckReport, LoadPeriod, LoadWarning, ResponsibilityList, UnitLoad, WarningRule,
};
use gongzhi_core::territory::{DivisionCode, Hierarchy, Level};
use gongzhi_core::whatif::{self, Assumptions, Outcome};
use gongzhi_store::CaseRow;
use serde::Serialize;

use crate::cases::{calendar, catalogue};
use crate::{AppError, AppResult, AppState};

/// The name of the responsibility lists' document.
pub const LIST_DOCUMENT: &str = "responsibilities";

/// The city's responsibility lists: the stored ones, else derived from its catalogue (one
/// owner per subcategory, the target of its first condition).
pub async fn responsibilities(s: &AppState, city: CityCode) -> AppResult<(i64, ResponsibilityList)> {
    match s.store.document(city, LIST_DOCUMENT).await? {
        Some(d) => Ok((d.version, ResponsibilityList::parse_csv(&d.body)?)),
        None => {
            let cat = catalogue(s, city).await?;
            Ok((
                0,
                flat::derive_from_catalogue(&cat, &DivisionCode::parse(city.as_str())?),
            ))
        }
    }
}

/// The check of the catalogue against the lists in each district of the city.
pub async fn check(s: &AppState, city: CityCode) -> AppResult<CheckReport> {
    let (_, list) = responsibilities(s, city).await?;
    let cat = catalogue(s, city).await?;
    let districts: Vec<String> = s
        .store
        .child_divisions(city, Some(city.as_str()), Some(Level::District))
        .await?
        .into_iter()
        .map(|d| d.code.to_string())
        .collect();
    let areas = if districts.is_empty() {
        vec![city.to_string()]
    } else {
        districts
    };
    Ok(list.check(&cat, &areas))
}

/// Unix ms of a Beijing day's start.
pub use gongzhi_core::calendar::china_day_start_ms as day_start_ms;

/// Parse a `YYYY-MM-DD` query value.
pub fn parse_day(field: &str, v: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(format!("{field}: '{v}' is not a date; use YYYY-MM-DD")))
}

/// The cases reported in `[from, to]` (Beijing days) inside `within` (a code prefix).
pub async fn period_cases(
    s: &AppState,
    city: CityCode,
    from: NaiveDate,
    to: NaiveDate,
    within: &str,
) -> AppResult<Vec<CaseRow>> {
    let range = (day_start_ms(from), day_start_ms(to) + 86_400_000);
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        // A replay reads a period's cases: analytic connections (see Store::analytic).
        let page = s.store.analytic().cases_after(city, after, 5000, Some(range)).await?;
        let Some(last) = page.last() else { break };
        after = last.case.id.0;
        out.extend(page.into_iter().filter(|r| r.area.starts_with(within)));
    }
    Ok(out)
}

/// The month (`2025-03`) of a unix ms instant in Beijing.
fn month_of(ms: i64) -> String {
    gongzhi_store::cases::day_of(ms).get(..7).unwrap_or_default().to_owned()
}

/// A case pushed down to a grassroots unit although the lists give it to a department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PushDown {
    pub case_id: i64,
    pub category: String,
    pub category_name: String,
    pub community: String,
    pub unit_name: String,
    /// The owner the lists name, e.g. `区县/城市管理和综合执法局`.
    pub owner: String,
    pub created_at: i64,
}

/// One community's load in the period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommunityLoad {
    pub community: String,
    pub name: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub load: UnitLoad,
    pub per_worker: Option<f64>,
    pub hours_per_worker: Option<f64>,
    /// Cases and staff per month, for the ratios and the early warning.
    #[schema(value_type = Vec<Object>)]
    pub months: Vec<LoadPeriod>,
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<LoadWarning>,
    /// Per worker of the community: steps taken on cases (accept, forward, handling report,
    /// verification) in the period, busiest first.
    pub workers: Vec<WorkerLoad>,
}

/// One grassroots worker's steps in the period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerLoad {
    pub person: i64,
    pub name: String,
    pub steps: u64,
}

/// The workload report of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workload {
    pub from: String,
    pub to: String,
    #[schema(value_type = Object)]
    pub rule: WarningRule,
    pub communities: Vec<CommunityLoad>,
    pub push_downs: Vec<PushDown>,
    /// Street offices' cases (grassroots too), by street code.
    pub street_cases: BTreeMap<String, u64>,
}

/// The early-warning rule of a city: settings `flat_max_per_worker` and `flat_max_growth_gap`.
pub async fn warning_rule(s: &AppState, city: CityCode) -> AppResult<WarningRule> {
    let mut rule = WarningRule::default();
    if let Some(v) = s.store.setting(city, "flat_max_per_worker").await? {
        rule.max_per_worker = v.parse().unwrap_or(rule.max_per_worker);
    }
    if let Some(v) = s.store.setting(city, "flat_max_growth_gap").await? {
        rule.max_growth_gap = v.parse().unwrap_or(rule.max_growth_gap);
    }
    Ok(rule)
}

/// Workers of each community on `day` (YYYY-MM-DD): its staffing record then, else the people
/// of its committee.
fn workers_on(
    staffing: &HashMap<String, Vec<(String, u32)>>,
    people: &HashMap<String, Committee>,
    community: &str,
    day: &str,
) -> u32 {
    staffing
        .get(community)
        .and_then(|recs| recs.iter().rev().find(|(from, _)| from.as_str() <= day).map(|r| r.1))
        .or_else(|| people.get(community).map(|p| p.people))
        .unwrap_or(0)
}

/// Workload and push-downs per community in `[from, to]` inside `within`.
pub async fn workload(
    s: &AppState,
    city: CityCode,
    from: NaiveDate,
    to: NaiveDate,
    within: &str,
) -> AppResult<Workload> {
    let (_, list) = responsibilities(s, city).await?;
    let cat = catalogue(s, city).await?;
    let cal = calendar(s, city).await?;
    let rule = warning_rule(s, city).await?;
    let staffing = s.store.staffing(city).await?;
    let people = s.store.community_staff(city).await?;
    let cases = period_cases(s, city, from, to, within).await?;
    let mut loads: BTreeMap<String, (UnitLoad, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut push_downs = Vec::new();
    let mut street_cases: BTreeMap<String, u64> = BTreeMap::new();
    for r in &cases {
        let c = &r.case;
        let level = match c.unit_level {
            Some(l @ (Level::Street | Level::Community)) if c.dispatches > 0 => l,
            _ => continue,
        };
        // A street office or community committee acts (departments are at the district level).
        if level == Level::Street {
            *street_cases
                .entry(r.area[..9.min(r.area.len())].to_owned())
                .or_default() += 1;
            if let Some(m) = list.push_down(&c.category, &r.area, level, false) {
                push_downs.push(push_down(r, &cat, m));
            }
            continue;
        }
        let community = r.area[..12.min(r.area.len())].to_owned();
        let (load, months) = loads.entry(community).or_default();
        load.cases += 1;
        *months.entry(month_of(r.created_at)).or_default() += 1;
        if let (Some(a), Some(done)) = (
            c.reached_at_ms.or(c.dispatched_at_ms),
            c.reported_at_ms.or(c.closed_at_ms),
        ) {
            if done > a {
                let d = cal.elapsed(instant(a), instant(done), TimerKind::WorkHours);
                load.hours += d.num_minutes() as f64 / 60.0;
            }
        }
        load.returns += u64::from(c.returns);
        load.disputes += u64::from(c.first_responsible);
        load.extensions += u64::from(c.extensions);
        if let Some(m) = list.push_down(&c.category, &r.area, level, false) {
            load.push_downs += 1;
            push_downs.push(push_down(r, &cat, m));
        }
    }
    let demands = s
        .store
        .demands(city, within, day_start_ms(from), day_start_ms(to) + 86_400_000)
        .await?;
    for d in &demands {
        if d.demand.unit_area.level() == Level::Community {
            let (load, _) = loads.entry(d.demand.unit_area.to_string()).or_default();
            load.demands += 1;
            load.demand_hours += d.demand.hours_spent;
        }
    }
    let steps = s
        .store
        .steps_by_person(city, day_start_ms(from), day_start_ms(to) + 86_400_000)
        .await?;
    let mut workers: HashMap<String, Vec<WorkerLoad>> = HashMap::new();
    for (person, CommitteeMember { community, name }) in s.store.community_people(city).await? {
        if let Some(n) = steps.get(&person) {
            workers.entry(community).or_default().push(WorkerLoad {
                person,
                name,
                steps: *n,
            });
        }
    }
    let end_day = to.format("%Y-%m-%d").to_string();
    let mut communities = Vec::new();
    for (code, (mut load, months)) in loads {
        load.staff = workers_on(&staffing, &people, &code, &end_day);
        let series: Vec<LoadPeriod> = months
            .into_iter()
            .map(|(m, n)| LoadPeriod {
                staff: workers_on(&staffing, &people, &code, &format!("{m}-31")),
                period: m,
                cases: n,
            })
            .collect();
        let warnings = early_warnings(&series, &rule);
        let mut people_steps = workers.remove(&code).unwrap_or_default();
        people_steps.sort_by(|a, b| b.steps.cmp(&a.steps).then(a.person.cmp(&b.person)));
        communities.push(CommunityLoad {
            workers: people_steps,
            name: people
                .get(&code)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| code.clone()),
            community: code,
            per_worker: load.per_worker(),
            hours_per_worker: load.hours_per_worker(),
            load,
            months: series,
            warnings,
        });
    }
    communities.sort_by(|a, b| {
        b.per_worker
            .unwrap_or(f64::INFINITY)
            .total_cmp(&a.per_worker.unwrap_or(f64::INFINITY))
            .then(a.community.cmp(&b.community))
    });
    push_downs.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    Ok(Workload {
        from: from.to_string(),
        to: to.to_string(),
        rule,
        communities,
        push_downs,
        street_cases,
    })
}

fn push_down(r: &CaseRow, cat: &Catalogue, m: &flat::Matter) -> PushDown {
    PushDown {
        case_id: r.case.id.0,
        category: r.case.category.clone(),
        category_name: cat
            .category(&r.case.category)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        community: r.area.clone(),
        unit_name: r.case.unit_name.clone().unwrap_or_default(),
        owner: m.owner_label(),
        created_at: r.created_at,
    }
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The replay's result: the model's assumptions and one column per hierarchy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    pub from: String,
    pub to: String,
    /// The hierarchy configured (the one the history was recorded under).
    pub configured: String,
    /// Cases of the period that were dispatched and are placed in a community.
    pub cases: usize,
    /// Cases left out (never dispatched, or placed outside every community).
    pub skipped: usize,
    pub assumptions: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub columns: Vec<(String, Outcome)>,
}

/// The name of a hierarchy: `flat`, `layered` or its levels.
pub fn hierarchy_name(h: &Hierarchy) -> String {
    if *h == Hierarchy::flat() {
        "flat".into()
    } else if *h == Hierarchy::layered() {
        "layered".into()
    } else {
        h.levels().iter().map(|l| l.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// The recorded intake of a period as the model's input, and how many cases were left out.
pub fn intake_of(cases: &[CaseRow], cat: &Catalogue) -> (Vec<whatif::Intake>, usize) {
    let mut out = Vec::with_capacity(cases.len());
    for r in cases {
        let c = &r.case;
        let (Some(at), Some(deadline)) = (c.dispatched_at_ms, c.deadline_ms) else {
            continue;
        };
        if r.area.len() < 12 {
            continue;
        }
        let (target, department) = match cat.condition(&c.condition) {
            Some((_, k)) => (k.dispatch.level, k.dispatch.department.clone()),
            None => (c.unit_level.unwrap_or(Level::Community), None),
        };
        out.push(whatif::Intake {
            at_ms: at,
            limit_ms: (deadline - at).max(0),
            target,
            department,
            community: r.area[..12].to_owned(),
        });
    }
    let skipped = cases.len() - out.len();
    (out, skipped)
}

/// Re-run the intake of `[from, to]` through the configured hierarchy and `what_if` side by side
/// (when they are the same, the other of flat/layered is the first column).
pub async fn replay(
    s: &AppState,
    city: CityCode,
    what_if: &Hierarchy,
    from: NaiveDate,
    to: NaiveDate,
    a: &Assumptions,
) -> AppResult<ReplayReport> {
    let configured = s.store.hierarchy(city).await?;
    let cat = catalogue(s, city).await?;
    let cases = period_cases(s, city, from, to, "").await?;
    let (intake, skipped) = intake_of(&cases, &cat);
    let staffing = s.store.staffing(city).await?;
    let people = s.store.community_staff(city).await?;
    let end_day = to.format("%Y-%m-%d").to_string();
    let staff: HashMap<String, u32> = people
        .keys()
        .map(|c| (c.clone(), workers_on(&staffing, &people, c, &end_day)))
        .filter(|(_, w)| *w > 0)
        .collect();
    let base = if configured == *what_if {
        if what_if.is_flat() {
            Hierarchy::layered()
        } else {
            Hierarchy::flat()
        }
    } else {
        configured.clone()
    };
    let columns = [base, what_if.clone()]
        .into_iter()
        .map(|h| (hierarchy_name(&h), whatif::simulate(&intake, &h, &staff, a)))
        .collect();
    Ok(ReplayReport {
        from: from.to_string(),
        to: to.to_string(),
        configured: hierarchy_name(&configured),
        cases: intake.len(),
        skipped,
        assumptions: a.describe(),
        columns,
    })
}

/// The lists as an XLSX workbook (one sheet, the CSV's columns).
pub fn list_xlsx(list: &ResponsibilityList) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("权责清单 responsibilities")?;
    for (r, row) in list.to_rows().iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, cell)?;
        }
    }
    book.save_to_buffer()
}

/// Parse lists from CSV text or XLSX bytes (first sheet); errors name the line or row.
pub fn parse_list(bytes: &[u8], xlsx: bool) -> AppResult<ResponsibilityList> {
    if !xlsx {
        let text = std::str::from_utf8(bytes).map_err(|_| AppError::invalid("the CSV is not UTF-8 text"))?;
        return Ok(ResponsibilityList::parse_csv(text)?);
    }
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| AppError::invalid(format!("not an XLSX workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| AppError::invalid("the workbook has no sheet"))?
        .map_err(|e| AppError::invalid(format!("cannot read the first sheet: {e}")))?;
    let first = range.start().map_or(0, |(r, _)| r as usize);
    let rows: Vec<(usize, Vec<String>)> = range
        .rows()
        .enumerate()
        .map(|(i, r)| {
            let cells = r
                .iter()
                .map(|c| match c {
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string(),
                })
                .collect();
            (first + i + 1, cells)
        })
        .collect();
    Ok(ResponsibilityList::from_rows(&rows)?)
}

/// Whether the principal may see the flat-governance figures of an area (workload, push-downs,
/// demands, the replay): staff whose jurisdiction covers it.
pub fn may_view(p: &Principal, area: &str) -> bool {
    p.may(Permission::ViewCases, area)
}

/// Whether the principal may open flat governance at all (the lists, the check report, the
/// pages): staff who see cases somewhere.
pub fn may_open(p: &Principal) -> bool {
    p.may_somewhere(Permission::ViewCases)
}

/// Refuse unless [`may_open`]; `what` names what was asked for.
pub fn require_open(p: &Principal, what: &str) -> AppResult<()> {
    if may_open(p) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!("{what} are for staff")))
    }
}

/// Refuse unless [`may_view`].
pub fn require_view(p: &Principal, area: &str) -> AppResult<()> {
    if may_view(p, area) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "the flat-governance figures of {area} need a staff role (analyst, dispatcher, shift leader, grid head …) covering it"
        )))
    }
}

/// Replace a city's responsibility lists, all or nothing: by an administrator of the whole city
/// (`by`), or by the operator at the command line (`None`). Returns the new version and the lists.
pub async fn save_list(
    s: &AppState,
    city: CityCode,
    by: Option<&Principal>,
    bytes: &[u8],
    xlsx: bool,
) -> AppResult<(i64, ResponsibilityList)> {
    if let Some(p) = by {
        if p.city != city || !p.may(Permission::ManageCatalogue, city.as_str()) {
            return Err(AppError::forbidden(
                "changing the responsibility lists needs an administrator of the whole city",
            ));
        }
    }
    let list = parse_list(bytes, xlsx)?;
    let version = s
        .store
        .put_document(city, LIST_DOCUMENT, &list.to_csv(), None, by.map(|p| p.person_id))
        .await?;
    Ok((version, list))
}

/// Record a form or report demanded from above (填表报数), by someone who sees its unit's area.
pub async fn add_demand(s: &AppState, p: &Principal, d: &gongzhi_core::flat::Demand) -> AppResult<i64> {
    require_view(p, d.unit_area.as_str())?;
    Ok(s.store.add_demand(p.city, d, Some(p.person_id)).await?)
}

/// The forms and reports demanded of units inside `within` (all of the city when it is the
/// city), due in `from ..= to`, for those who see the area.
pub async fn demands(
    s: &AppState,
    p: &Principal,
    within: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<StoredDemand>> {
    let city = p.city;
    require_view(p, within)?;
    let within = if within == city.as_str() { "" } else { within };
    Ok(s.store
        .demands(city, within, day_start_ms(from), day_start_ms(to) + 86_400_000)
        .await?)
}

/// The boundaries of the city's communities named in `communities`.
pub async fn community_shapes(
    s: &AppState,
    city: CityCode,
    communities: &[&str],
) -> AppResult<std::collections::HashMap<String, geo::MultiPolygon<f64>>> {
    Ok(s.store
        .division_boundaries(city, gongzhi_core::territory::Level::Community)
        .await?
        .into_iter()
        .filter(|(code, _)| communities.contains(&code.as_str()))
        .collect())
}
