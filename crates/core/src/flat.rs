//! Flat governance (扁平化): responsibility lists (权责清单) and their check against the dispatch
//! catalogue, routing hops by hierarchy, push-down detection (职能部门事项不得派给基层) and the
//! early warning on grassroots workload (基层减负).
//!
//! All pure: the store gives the lists, cases and staff; this module says what they mean.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::calendar::TimerKind;
use crate::catalogue::Catalogue;
use crate::org::string_enum;
use crate::territory::{DivisionCode, Hierarchy, Level};
use crate::DomainError;

string_enum! {
    /// Who owns a matter of a responsibility list.
    OwnerKind {
        /// 职能部门: a functional department (城管局, 住建局 …).
        Department => "department", "职能部门", "Functional department";
        /// 基层: a street office or a community committee.
        Grassroots => "grassroots", "基层", "Grassroots";
    }
}

/// One matter (事项) of a unit's responsibility list (权责清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matter {
    /// The level the owner acts at: district (区县部门), street or community.
    pub level: Level,
    /// The owner: a department's name suffix (e.g. `城市管理和综合执法局`), or for grassroots
    /// owners the kind of unit (`街道办事处`, `社区居委会`).
    pub owner: String,
    pub owner_kind: OwnerKind,
    /// A catalogue code prefix: a major class (`E01`) or a subcategory (`E0102`).
    pub category: String,
    /// Where the matter is owned: the city, a district or a street (division code).
    pub area: DivisionCode,
    /// What the matter is, in words.
    pub matter: String,
    /// The time limit the owner must keep.
    pub time_limit: u32,
    pub timer: TimerKind,
    /// The owner may delegate (委托) the matter to a lower unit.
    pub may_delegate: bool,
}

impl Matter {
    /// The owner as one label, e.g. `区县/城市管理和综合执法局`.
    pub fn owner_label(&self) -> String {
        format!("{}/{}", self.level.zh(), self.owner)
    }

    fn same_owner(&self, other: &Matter) -> bool {
        self.level == other.level && self.owner == other.owner
    }
}

/// The columns of a responsibility list in CSV (and in the first sheet of an XLSX file).
pub const LIST_HEADER: [&str; 9] = [
    "level",
    "owner",
    "owner_kind",
    "category",
    "area",
    "matter",
    "time_limit",
    "timer",
    "may_delegate",
];

/// The responsibility lists (权责清单) of a city: every unit's matters, as one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibilityList {
    items: Vec<Matter>,
}

/// Who owns a subcategory in an area, as the lists say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership<'a> {
    /// Exactly one owner (several matters of one owner count once).
    Owned(&'a Matter),
    /// Two or more owners with equally specific matters (职责交叉).
    Conflict(Vec<&'a Matter>),
    /// No matter covers it (职责空白).
    Gap,
}

impl ResponsibilityList {
    pub fn new(items: Vec<Matter>) -> Self {
        ResponsibilityList { items }
    }

    pub fn items(&self) -> &[Matter] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Parse numbered rows of cells (line or sheet-row number, cells), the header row first as
    /// [`LIST_HEADER`]. All-or-nothing: the first bad row fails, naming its line.
    pub fn from_rows(rows: &[(usize, Vec<String>)]) -> Result<Self, DomainError> {
        let Some(((first, header), body)) = rows.split_first() else {
            return Err(DomainError::invalid(
                "list",
                "the file is empty: give a header and matters",
            ));
        };
        let header: Vec<&str> = header.iter().map(|h| h.trim().trim_start_matches('\u{feff}')).collect();
        if header != LIST_HEADER {
            return Err(DomainError::invalid(
                format!("line {first}"),
                format!("the header must be {}", LIST_HEADER.join(",")),
            ));
        }
        let mut items = Vec::new();
        for (line, row) in body {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            items.push(parse_row(row, *line)?);
        }
        if items.is_empty() {
            return Err(DomainError::invalid("list", "the file has a header but no matters"));
        }
        Ok(ResponsibilityList { items })
    }

    /// Parse a CSV text (header [`LIST_HEADER`]; `#` comment lines allowed).
    pub fn parse_csv(text: &str) -> Result<Self, DomainError> {
        let mut rows = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_start_matches('\u{feff}').trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cells = split_csv(line).map_err(|m| DomainError::invalid(format!("line {}", n + 1), m))?;
            rows.push((n + 1, cells));
        }
        Self::from_rows(&rows)
    }

    /// The rows of the list, header first (for CSV and XLSX export).
    pub fn to_rows(&self) -> Vec<Vec<String>> {
        let mut rows = vec![LIST_HEADER.iter().map(|s| (*s).to_owned()).collect()];
        for m in &self.items {
            rows.push(vec![
                m.level.as_str().to_owned(),
                m.owner.clone(),
                m.owner_kind.as_str().to_owned(),
                m.category.clone(),
                m.area.to_string(),
                m.matter.clone(),
                m.time_limit.to_string(),
                m.timer.as_str().to_owned(),
                if m.may_delegate { "yes" } else { "no" }.to_owned(),
            ]);
        }
        rows
    }

    /// The list as CSV, header included; [`ResponsibilityList::parse_csv`] reads it back.
    pub fn to_csv(&self) -> String {
        let mut w = crate::table::CsvWriter::from_writer(Vec::new());
        for row in self.to_rows() {
            w.write_record(&row).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8")
    }

    /// Who owns subcategory `category` at `area` (a community, street or district code).
    ///
    /// The matters that apply are those whose category is a prefix of it and whose area
    /// contains `area`. The most specific category wins (a subcategory over its major class),
    /// then the most specific area (a street over its district over the city); if several
    /// owners remain, it is a conflict.
    pub fn ownership(&self, category: &str, area: &str) -> Ownership<'_> {
        let applying: Vec<&Matter> = self
            .items
            .iter()
            .filter(|m| category.starts_with(m.category.as_str()) && m.area.contains(area))
            .collect();
        let Some(best_cat) = applying.iter().map(|m| m.category.len()).max() else {
            return Ownership::Gap;
        };
        let by_cat: Vec<&Matter> = applying.into_iter().filter(|m| m.category.len() == best_cat).collect();
        let best_area = by_cat.iter().map(|m| m.area.level()).max().unwrap_or(Level::City);
        let top: Vec<&Matter> = by_cat.into_iter().filter(|m| m.area.level() == best_area).collect();
        let mut owners: Vec<&Matter> = Vec::new();
        for m in top {
            if !owners.iter().any(|o| o.same_owner(m)) {
                owners.push(m);
            }
        }
        if owners.len() == 1 {
            Ownership::Owned(owners[0])
        } else {
            Ownership::Conflict(owners)
        }
    }

    /// The department matter a case was pushed down against: the case went to a grassroots unit
    /// (a street office or community committee: `handled_level` street/community, not a
    /// department) although the lists give its subcategory in its area to a department.
    pub fn push_down(&self, category: &str, area: &str, handled_level: Level, by_department: bool) -> Option<&Matter> {
        if by_department || !matches!(handled_level, Level::Street | Level::Community) {
            return None;
        }
        match self.ownership(category, area) {
            Ownership::Owned(m) if m.owner_kind == OwnerKind::Department => Some(m),
            _ => None,
        }
    }

    /// Check the dispatch catalogue against the lists in each of `areas` (e.g. the districts).
    pub fn check(&self, catalogue: &Catalogue, areas: &[String]) -> CheckReport {
        let mut report = CheckReport::default();
        for c in catalogue.iter() {
            for area in areas {
                match self.ownership(&c.code, area) {
                    Ownership::Gap => report.gaps.push(Gap {
                        category: c.code.clone(),
                        name: c.name.clone(),
                        area: area.clone(),
                    }),
                    Ownership::Conflict(ms) => report.conflicts.push(Conflict {
                        category: c.code.clone(),
                        name: c.name.clone(),
                        area: area.clone(),
                        owners: ms.iter().map(|m| m.owner_label()).collect(),
                    }),
                    Ownership::Owned(m) if m.owner_kind == OwnerKind::Department => {
                        for k in &c.conditions {
                            let t = &k.dispatch;
                            if t.department.is_none() && matches!(t.level, Level::Street | Level::Community) {
                                report.push_downs.push(CataloguePushDown {
                                    condition: k.code.clone(),
                                    name: format!("{} / {}", c.name, k.text),
                                    area: area.clone(),
                                    dispatched_to: t.to_string(),
                                    owner: m.owner_label(),
                                });
                            }
                        }
                    }
                    Ownership::Owned(_) => {}
                }
            }
        }
        report
    }
}

fn parse_row(row: &[String], line: usize) -> Result<Matter, DomainError> {
    let field = format!("line {line}");
    let bad = |m: String| DomainError::invalid(&field, m);
    let cells: [&str; 9] = row
        .iter()
        .map(|c| c.trim())
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|c: Vec<&str>| bad(format!("{} columns instead of 9 ({})", c.len(), LIST_HEADER.join(","))))?;
    let [level, owner, kind, category, area, matter, limit, timer, delegate] = cells;
    let level: Level = level.parse().map_err(|e: DomainError| bad(e.to_string()))?;
    if !matches!(level, Level::District | Level::Street | Level::Community) {
        return Err(bad(format!(
            "level {level} cannot own matters: use district, street or community"
        )));
    }
    if owner.is_empty() || owner.chars().count() > 100 {
        return Err(bad("owner must be a name of 1 to 100 characters".into()));
    }
    let owner_kind = OwnerKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == kind || k.zh() == kind)
        .ok_or_else(|| {
            bad(format!(
                "owner_kind {kind:?} is not department (职能部门) or grassroots (基层)"
            ))
        })?;
    if owner_kind == OwnerKind::Grassroots && level == Level::District {
        return Err(bad(
            "a grassroots owner acts at the street or community level, not the district".into(),
        ));
    }
    let cat_ok = matches!(category.len(), 3 | 5)
        && category.starts_with(['C', 'E', 'S'])
        && category[1..].bytes().all(|b| b.is_ascii_digit());
    if !cat_ok {
        return Err(bad(format!(
            "category {category:?} is not a catalogue code: use a major class like E01 or a subcategory like E0102"
        )));
    }
    let area = DivisionCode::parse(area).map_err(|e| bad(e.to_string()))?;
    if area.level() == Level::Community {
        return Err(bad(
            "area must be the city, a district or a street, not a community".into()
        ));
    }
    if matter.is_empty() {
        return Err(bad("matter must describe the matter".into()));
    }
    let time_limit: u32 = limit
        .parse()
        .ok()
        .filter(|n| (1..=crate::catalogue::MAX_TIME_LIMIT).contains(n))
        .ok_or_else(|| bad(format!("time_limit {limit:?} is not a whole number from 1 to 1000")))?;
    let timer = TimerKind::ALL
        .into_iter()
        .find(|t| t.as_str() == timer || t.zh() == timer)
        .ok_or_else(|| {
            bad(format!(
                "timer {timer:?} is not emergency_hours, work_hours or work_days"
            ))
        })?;
    let may_delegate = match delegate {
        "yes" | "true" | "1" | "是" => true,
        "no" | "false" | "0" | "否" | "" => false,
        other => return Err(bad(format!("may_delegate {other:?} is not yes or no"))),
    };
    Ok(Matter {
        level,
        owner: owner.to_owned(),
        owner_kind,
        category: category.to_owned(),
        area,
        matter: matter.to_owned(),
        time_limit,
        timer,
        may_delegate,
    })
}

fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    out.push(cur);
    Ok(out)
}

/// A subcategory with two or more owners in an area (职责交叉).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub category: String,
    pub name: String,
    pub area: String,
    pub owners: Vec<String>,
}

/// A subcategory nobody owns in an area (职责空白).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub category: String,
    pub name: String,
    pub area: String,
}

/// A catalogue condition that dispatches a department's matter to a grassroots unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CataloguePushDown {
    pub condition: String,
    pub name: String,
    pub area: String,
    /// The catalogue's target, e.g. `社区村`.
    pub dispatched_to: String,
    /// The owner the lists name, e.g. `区县/城市管理和综合执法局`.
    pub owner: String,
}

/// The check of the dispatch catalogue against the responsibility lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub conflicts: Vec<Conflict>,
    pub gaps: Vec<Gap>,
    pub push_downs: Vec<CataloguePushDown>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty() && self.gaps.is_empty() && self.push_downs.is_empty()
    }
}

/// The levels a case dispatched from the city centre to a unit at `acting` must pass, each of
/// which forwards it (逐级转派): the levels the hierarchy governs through strictly between the
/// city and the acting level. A flat hierarchy has none (直达).
pub fn forwarding_levels(hierarchy: &Hierarchy, acting: Level) -> Vec<Level> {
    hierarchy
        .levels()
        .iter()
        .copied()
        .filter(|l| *l > Level::City && *l < acting)
        .collect()
}

/// The level a matter lands at under a hierarchy: the catalogue's level when the hierarchy
/// governs through it (or a department acts there), else the next governed level below it
/// (a street's matter goes to the community when the street level is removed).
pub fn acting_level(hierarchy: &Hierarchy, target: Level, department: bool) -> Level {
    if department || hierarchy.includes(target) {
        return target;
    }
    hierarchy
        .levels()
        .iter()
        .copied()
        .find(|l| *l > target)
        .unwrap_or(Level::Community)
}

/// Cases and staff of one grassroots unit in one period, for the early warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadPeriod {
    /// The period, e.g. `2025-03`.
    pub period: String,
    /// Matters handled (cases that reached the unit) in the period.
    pub cases: u64,
    /// Workers of the unit in the period.
    pub staff: u32,
}

impl LoadPeriod {
    /// Cases per worker; infinite without staff.
    pub fn per_worker(&self) -> f64 {
        if self.staff == 0 {
            f64::INFINITY
        } else {
            self.cases as f64 / f64::from(self.staff)
        }
    }
}

/// The configurable early warning (预警) on grassroots load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WarningRule {
    /// Warn when cases per worker in a period exceed this.
    pub max_per_worker: f64,
    /// Warn when the load grows faster than the staff by more than this fraction from one
    /// period to the next (0.2: load +30 % with staff +5 % is a gap of 0.25 > 0.2).
    pub max_growth_gap: f64,
}

impl Default for WarningRule {
    fn default() -> Self {
        WarningRule {
            max_per_worker: 30.0,
            max_growth_gap: 0.2,
        }
    }
}

string_enum! {
    /// Why a unit was warned.
    WarningKind {
        /// 人均负荷超过阈值.
        OverThreshold => "over_threshold", "人均负荷超阈值", "Workload per person over the threshold";
        /// 负荷增长快于人员增长.
        OutgrowingStaff => "outgrowing_staff", "负荷增长快于人员", "Workload growing faster than staff";
    }
}

/// An early warning for one unit and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadWarning {
    pub period: String,
    pub kind: WarningKind,
    pub per_worker: f64,
    /// Growth of cases since the previous period (fraction), for [`WarningKind::OutgrowingStaff`].
    pub load_growth: Option<f64>,
    pub staff_growth: Option<f64>,
}

/// The warnings of one unit's load series (periods in time order).
pub fn early_warnings(series: &[LoadPeriod], rule: &WarningRule) -> Vec<LoadWarning> {
    let mut out = Vec::new();
    for (i, p) in series.iter().enumerate() {
        let per_worker = p.per_worker();
        if per_worker > rule.max_per_worker {
            out.push(LoadWarning {
                period: p.period.clone(),
                kind: WarningKind::OverThreshold,
                per_worker,
                load_growth: None,
                staff_growth: None,
            });
        }
        let Some(prev) = i.checked_sub(1).map(|j| &series[j]) else {
            continue;
        };
        if prev.cases == 0 || prev.staff == 0 {
            continue;
        }
        let load = p.cases as f64 / prev.cases as f64 - 1.0;
        let staff = f64::from(p.staff) / f64::from(prev.staff) - 1.0;
        if load - staff > rule.max_growth_gap + 1e-12 {
            out.push(LoadWarning {
                period: p.period.clone(),
                kind: WarningKind::OutgrowingStaff,
                per_worker,
                load_growth: Some(load),
                staff_growth: Some(staff),
            });
        }
    }
    out
}

/// What one grassroots unit carried in a period (基层负担).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitLoad {
    /// Cases that reached the unit.
    pub cases: u64,
    /// Working hours between reaching the unit and its handling report, in the calendar.
    pub hours: f64,
    /// Cases pushed down to it although the lists give them to a department.
    pub push_downs: u64,
    /// Returns (退单) it made.
    pub returns: u64,
    /// Returns refused on review (退单争议: the unit disputed the matter and lost).
    pub disputes: u64,
    /// Extensions (延期) approved.
    pub extensions: u64,
    /// Forms and reports demanded from above, and the hours they took.
    pub demands: u64,
    pub demand_hours: f64,
    pub staff: u32,
}

impl UnitLoad {
    /// Cases per worker; `None` without staff.
    pub fn per_worker(&self) -> Option<f64> {
        (self.staff > 0).then(|| self.cases as f64 / f64::from(self.staff))
    }

    /// Working hours (cases and demands) per worker.
    pub fn hours_per_worker(&self) -> Option<f64> {
        (self.staff > 0).then(|| (self.hours + self.demand_hours) / f64::from(self.staff))
    }
}

/// A form or report demanded from a grassroots unit by a higher one (填表报数).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    /// Who demanded it, e.g. `区民政局`.
    pub demanded_by: String,
    /// The unit (division code of the community or street) it was demanded from.
    pub unit_area: DivisionCode,
    pub title: String,
    /// When it was due (unix ms).
    pub due_ms: i64,
    /// Hours the unit spent on it.
    pub hours_spent: f64,
}

impl Demand {
    pub fn new(
        demanded_by: &str,
        unit_area: &str,
        title: &str,
        due_ms: i64,
        hours_spent: f64,
    ) -> Result<Self, DomainError> {
        let demanded_by = demanded_by.trim();
        if demanded_by.is_empty() || demanded_by.chars().count() > 100 {
            return Err(DomainError::invalid(
                "demanded_by",
                "name the demanding unit (1 to 100 characters)",
            ));
        }
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(DomainError::invalid(
                "title",
                "give the form's title (1 to 200 characters)",
            ));
        }
        let unit_area = DivisionCode::parse(unit_area)?;
        if !matches!(unit_area.level(), Level::Street | Level::Community) {
            return Err(DomainError::invalid(
                "unit_area",
                "forms are tracked for grassroots units: give a street (9 digits) or community (12 digits) code",
            ));
        }
        if !(hours_spent.is_finite() && (0.0..=1000.0).contains(&hours_spent)) {
            return Err(DomainError::invalid(
                "hours_spent",
                format!("{hours_spent} is not between 0 and 1000 hours"),
            ));
        }
        Ok(Demand {
            demanded_by: demanded_by.to_owned(),
            unit_area,
            title: title.to_owned(),
            due_ms,
            hours_spent,
        })
    }
}

/// Staff-to-matter ratios over time: for each period, workers per 100 matters (`None` without
/// matters), from cases and staff per period.
pub fn staff_ratios(series: &[LoadPeriod]) -> BTreeMap<String, Option<f64>> {
    series
        .iter()
        .map(|p| {
            let r = (p.cases > 0).then(|| f64::from(p.staff) * 100.0 / p.cases as f64);
            (p.period.clone(), r)
        })
        .collect()
}

/// A plausible responsibility list derived from a catalogue, for a city: each department target
/// becomes a department matter city-wide, each street or community target a grassroots matter.
pub fn derive_from_catalogue(catalogue: &Catalogue, city: &DivisionCode) -> ResponsibilityList {
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for (c, k) in catalogue.conditions() {
        let t = &k.dispatch;
        let (owner, kind) = match (&t.department, t.level) {
            (Some(d), _) => (d.clone(), OwnerKind::Department),
            (None, Level::Street) => ("街道办事处".to_owned(), OwnerKind::Grassroots),
            (None, _) => ("社区居委会".to_owned(), OwnerKind::Grassroots),
        };
        // One owner per subcategory: the target of its first condition.
        if !seen.insert(c.code.clone()) {
            continue;
        }
        items.push(Matter {
            level: t.level,
            owner,
            owner_kind: kind,
            category: c.code.clone(),
            area: city.clone(),
            matter: c.name.clone(),
            time_limit: k.time_limit,
            timer: k.timer,
            may_delegate: kind == OwnerKind::Department && t.level == Level::District,
        });
    }
    ResponsibilityList { items }
}

impl fmt::Display for Matter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} @{}: {}",
            self.owner_label(),
            self.category,
            self.area,
            self.matter
        )
    }
}

impl FromStr for ResponsibilityList {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        Self::parse_csv(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "level,owner,owner_kind,category,area,matter,time_limit,timer,may_delegate\n";

    fn list(body: &str) -> ResponsibilityList {
        ResponsibilityList::parse_csv(&format!("{HEAD}{body}")).unwrap()
    }

    /// Three subcategories of the default catalogue: E0102 (暴露垃圾, street), C0101 (上水井盖,
    /// district 水务局) and E0201 … we pick by code below.
    fn catalogue() -> Catalogue {
        Catalogue::default_cn()
    }

    #[test]
    fn csv_round_trip_and_line_numbers() {
        let l = list(
            "district,城市管理和综合执法局,department,E01,510100,市容环境,3,work_days,yes\n\
             street,街道办事处,基层,E0102,510104,\"暴露垃圾，清运\",4,work_hours,no\n",
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l.items()[1].owner_kind, OwnerKind::Grassroots);
        assert_eq!(ResponsibilityList::parse_csv(&l.to_csv()).unwrap(), l);
        let e = ResponsibilityList::parse_csv(&format!(
            "# comment\n{HEAD}district,城管局,department,E01,510100,x,3,work_days,yes\n\nstreet,街道办事处,grassroots,E9,510104,y,4,work_hours,no\n"
        ))
        .unwrap_err();
        assert!(e.to_string().starts_with("line 5: category \"E9\""), "{e}");
        let e = ResponsibilityList::parse_csv(&format!("{HEAD}district,x,grassroots,E01,510100,x,3,work_days,no\n"))
            .unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("grassroots"),
            "{e}"
        );
        assert!(ResponsibilityList::parse_csv("level,owner\n")
            .unwrap_err()
            .to_string()
            .contains("header"));
        assert!(ResponsibilityList::parse_csv(HEAD)
            .unwrap_err()
            .to_string()
            .contains("no matters"));
    }

    #[test]
    fn ownership_prefers_specific_category_then_area() {
        let l = list(
            "district,城市管理和综合执法局,department,E01,510100,市容环境,3,work_days,yes\n\
             street,街道办事处,grassroots,E0102,510100,暴露垃圾,4,work_hours,no\n\
             district,生态环境局,department,E0102,510104,锦江区暴露垃圾,4,work_hours,no\n",
        );
        let owner = |cat, area| match l.ownership(cat, area) {
            Ownership::Owned(m) => m.owner.clone(),
            other => format!("{other:?}"),
        };
        // E0103 only matches the major class E01.
        assert_eq!(owner("E0103", "510105001001"), "城市管理和综合执法局");
        // E0102: the subcategory beats the major class; in 锦江区 the district-scoped one wins.
        assert_eq!(owner("E0102", "510105001001"), "街道办事处");
        assert_eq!(owner("E0102", "510104001001"), "生态环境局");
        assert_eq!(l.ownership("C0101", "510104001001"), Ownership::Gap);
    }

    /// Hand-checked: a list over two districts of the default catalogue.
    #[test]
    fn check_reports_conflicts_gaps_and_push_downs() {
        let cat = catalogue();
        // E0102 is dispatched to the street by the catalogue.
        let e0102 = cat.category("E0102").unwrap();
        assert!(e0102
            .conditions
            .iter()
            .all(|k| k.dispatch.level == Level::Street && k.dispatch.department.is_none()));
        let mut l = derive_from_catalogue(&cat, &DivisionCode::parse("510100").unwrap());
        let base = l.check(&cat, &["510104".into(), "510105".into()]);
        assert!(base.conflicts.is_empty() && base.gaps.is_empty());
        // Two subcategories send one condition to a department (the owner) and another to the
        // grassroots: 公共厕所 C0112-02 to the street, 噪音扰民 S0101-02 to the community.
        let pd: Vec<(&str, &str)> = base
            .push_downs
            .iter()
            .map(|p| (p.condition.as_str(), p.area.as_str()))
            .collect();
        assert_eq!(
            pd,
            [
                ("C0112-02", "510104"),
                ("C0112-02", "510105"),
                ("S0101-02", "510104"),
                ("S0101-02", "510105")
            ]
        );
        let n = cat.len();
        let mut items = l.items().to_vec();
        // Conflict in 510104 only: two departments own C0101 there.
        items.push(Matter {
            area: DivisionCode::parse("510104").unwrap(),
            ..items.iter().find(|m| m.category == "C0101").unwrap().clone()
        });
        items.push(Matter {
            owner: "住房和城乡建设局".into(),
            area: DivisionCode::parse("510104").unwrap(),
            ..items.iter().find(|m| m.category == "C0101").unwrap().clone()
        });
        // Gap: nobody owns E0103 any more.
        items.retain(|m| m.category != "E0103");
        // Push-down: the lists give E0102 to a department in 510105 but the catalogue sends it to the street.
        items.push(Matter {
            level: Level::District,
            owner: "城市管理和综合执法局".into(),
            owner_kind: OwnerKind::Department,
            area: DivisionCode::parse("510105").unwrap(),
            ..items.iter().find(|m| m.category == "E0102").unwrap().clone()
        });
        l = ResponsibilityList::new(items);
        let r = l.check(&cat, &["510104".into(), "510105".into()]);
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].category, "C0101");
        assert_eq!(r.conflicts[0].area, "510104");
        assert_eq!(r.conflicts[0].owners.len(), 2);
        let gaps: Vec<(&str, &str)> = r.gaps.iter().map(|g| (g.category.as_str(), g.area.as_str())).collect();
        assert_eq!(gaps, [("E0103", "510104"), ("E0103", "510105")]);
        let new: Vec<&CataloguePushDown> = r.push_downs.iter().filter(|p| !base.push_downs.contains(p)).collect();
        assert_eq!(new.len(), e0102.conditions.len());
        assert!(new
            .iter()
            .all(|p| p.area == "510105" && p.owner == "区县/城市管理和综合执法局"));
        assert_eq!(r.push_downs.len(), 4 + e0102.conditions.len());
        assert!(n > 100);
    }

    #[test]
    fn push_down_detector() {
        let l = list(
            "district,城市管理和综合执法局,department,E01,510100,市容环境,3,work_days,yes\n\
             community,社区居委会,grassroots,E0105,510100,楼道堆物,2,work_days,no\n\
             district,水务局,department,C01,510100,井盖,2,work_days,no\n\
             district,住房和城乡建设局,department,C01,510100,井盖,2,work_days,no\n",
        );
        // A department matter handled by a community committee: pushed down.
        assert_eq!(
            l.push_down("E0102", "510104001001", Level::Community, false)
                .map(|m| m.owner.as_str()),
            Some("城市管理和综合执法局")
        );
        // Also at the street office.
        assert!(l.push_down("E0102", "510104001001", Level::Street, false).is_some());
        // Handled by the department itself: not a push-down.
        assert!(l.push_down("E0102", "510104001001", Level::District, true).is_none());
        // A grassroots matter at the community: fine.
        assert!(l.push_down("E0105", "510104001001", Level::Community, false).is_none());
        // Ownership in conflict (水务局 vs 住建局): not reported as a push-down but as a conflict.
        assert!(l.push_down("C0101", "510104001001", Level::Community, false).is_none());
        // Nobody owns S01: not a push-down (a gap).
        assert!(l.push_down("S0101", "510104001001", Level::Community, false).is_none());
    }

    #[test]
    fn routing_levels_in_both_modes() {
        let layered = Hierarchy::layered();
        let flat = Hierarchy::flat();
        assert_eq!(
            forwarding_levels(&layered, Level::Community),
            [Level::District, Level::Street]
        );
        assert_eq!(forwarding_levels(&layered, Level::Street), [Level::District]);
        assert!(forwarding_levels(&layered, Level::District).is_empty());
        assert!(forwarding_levels(&flat, Level::Community).is_empty());
        let no_street = Hierarchy::parse("city,district,community,grid").unwrap();
        assert_eq!(forwarding_levels(&no_street, Level::Community), [Level::District]);
        assert_eq!(acting_level(&flat, Level::Street, false), Level::Community);
        assert_eq!(acting_level(&flat, Level::District, true), Level::District);
        assert_eq!(acting_level(&layered, Level::Street, false), Level::Street);
    }

    /// Hand-checked: 4 workers with 100 → 130 cases, then 5 workers with 140.
    #[test]
    fn early_warning_threshold_and_growth() {
        let p = |period: &str, cases, staff| LoadPeriod {
            period: period.into(),
            cases,
            staff,
        };
        let series = [
            p("2025-01", 100, 4),
            p("2025-02", 130, 4),
            p("2025-03", 140, 5),
            p("2025-04", 200, 5),
        ];
        let rule = WarningRule {
            max_per_worker: 30.0,
            max_growth_gap: 0.2,
        };
        let w = early_warnings(&series, &rule);
        let got: Vec<(&str, WarningKind)> = w.iter().map(|w| (w.period.as_str(), w.kind)).collect();
        // Jan 25/worker; Feb 32.5 > 30 and +30 % load vs +0 % staff (gap 0.30 > 0.2);
        // Mar 28/worker, +7.7 % load vs +25 % staff; Apr 40 > 30 and +42.9 % vs 0 %.
        assert_eq!(
            got,
            [
                ("2025-02", WarningKind::OverThreshold),
                ("2025-02", WarningKind::OutgrowingStaff),
                ("2025-04", WarningKind::OverThreshold),
                ("2025-04", WarningKind::OutgrowingStaff),
            ]
        );
        assert_eq!(w[0].per_worker, 32.5);
        assert!((w[1].load_growth.unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(w[1].staff_growth, Some(0.0));
        // Exactly at the limits: 120 cases / 4 workers = 30 per worker, load +20 % vs staff
        // -20 %: a gap of 0.4.
        let edge = [p("a", 100, 5), p("b", 120, 4)];
        let at = |gap| {
            early_warnings(
                &edge,
                &WarningRule {
                    max_per_worker: 30.0,
                    max_growth_gap: gap,
                },
            )
        };
        assert!(at(0.4).is_empty());
        assert_eq!(
            at(0.39).iter().map(|w| (w.period.as_str(), w.kind)).collect::<Vec<_>>(),
            [("b", WarningKind::OutgrowingStaff)]
        );
        let ratios = staff_ratios(&series);
        assert_eq!(ratios["2025-01"], Some(4.0));
        assert_eq!(ratios["2025-03"], Some(5.0 * 100.0 / 140.0));
    }

    #[test]
    fn demands_are_checked() {
        assert!(Demand::new("区民政局", "510104001001", "低保复核表", 0, 3.5).is_ok());
        assert!(Demand::new("区民政局", "510104", "x", 0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("grassroots"));
        assert!(Demand::new(" ", "510104001001", "x", 0, 1.0).is_err());
        assert!(Demand::new("a", "510104001001", "x", 0, -1.0).is_err());
    }
}
