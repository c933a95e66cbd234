//! De-fragmentation (项目整合): departments' planned works and residents' delivery projects that
//! meet in space and time are grouped into bundles, each with a proposed lead unit, one schedule
//! and an estimate of what merging saves.
//!
//! - A [`Place`] is a WGS-84 GeoJSON geometry (point, line or polygon). Distances are measured in
//!   metres on a local plane (equirectangular around the items' mean latitude), which is exact
//!   enough at neighbourhood scale; `geo`'s Euclidean distance does the geometry.
//! - Two items *meet* when the distance between their places is at most the buffer distance
//!   (`buffer_m`: the same as buffering one by that distance and intersecting the other) AND their
//!   windows overlap or are at most `gap_days` apart. Bundles are the connected components of
//!   "meets" with two items or more ([`find_bundles`]), so chains A–B–C form one bundle.
//! - Lead unit ([`lead_of`]): the item that digs (its [`Phase`] is underground) with the largest
//!   budget, because its trench fixes the schedule of everything above it; when nothing digs, the
//!   item with the largest budget. Ties: the earlier start, then the smaller reference.
//! - Schedule ([`schedule_of`]): phases in order underground → surface → building (digging
//!   precedes the surface it would destroy); within a phase the items work at the same time from
//!   the phase's start; each phase starts the day after the previous one ends; the first phase
//!   starts on the bundle's earliest planned start.
//! - Savings ([`Savings`]): diggings — every digging item opens the ground separately before,
//!   one shared trench after; surfaces redone — a surface item planned to end before a digging
//!   item of the bundle starts would be dug up again, after merging none is; days of disturbance —
//!   the sum of the separate windows and the calendar days their union covers before, the merged
//!   schedule's span after.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use geo::{BoundingRect, Distance, Euclidean, Geometry, MapCoords};
use serde::{Deserialize, Serialize};

use super::lifecycle::{self, named, row, Party, Refusal, Transition};
use crate::org::string_enum;
use crate::spatial::check_lng_lat;
use crate::table::{LineError, Row, Table};
use crate::DomainError;

crate::org::named_enum! {
    /// What a planned work does (工程类型).
    WorkKind {
        RoadResurfacing => "road_resurfacing", "道路翻修", "road resurfacing";
        PipeReplacement => "pipe_replacement", "管网更换", "pipe replacement";
        Drainage => "drainage", "雨污分流/排水", "drainage";
        Gas => "gas", "燃气管道", "gas mains";
        Cabling => "cabling", "电力通信管线", "cabling";
        Lighting => "lighting", "路灯照明", "lighting";
        Greening => "greening", "绿化", "greening";
        Paving => "paving", "人行道铺装", "paving";
        FacadePainting => "facade_painting", "外立面粉刷", "facade painting";
        Roofing => "roofing", "屋面修缮", "roofing";
        /// A residents' micro-renewal project (a delivery project).
        ResidentProject => "resident_project", "居民共建项目", "residents' project";
    }
}

crate::org::named_enum! {
    /// Where a work acts, in the order a merged schedule runs them.
    Phase {
        /// Opens the ground (开挖).
        Underground => "underground", "地下开挖", "underground";
        /// On the ground's surface.
        Surface => "surface", "地面", "surface";
        /// On buildings, not on the ground.
        Building => "building", "建筑立面", "building";
    }
}

impl WorkKind {
    /// The phase of this kind of work. Lighting digs (cable trenches and pole foundations).
    pub fn phase(self) -> Phase {
        use WorkKind::*;
        match self {
            PipeReplacement | Drainage | Gas | Cabling | Lighting => Phase::Underground,
            RoadResurfacing | Greening | Paving | ResidentProject => Phase::Surface,
            FacadePainting | Roofing => Phase::Building,
        }
    }

    pub fn digs(self) -> bool {
        self.phase() == Phase::Underground
    }
}

/// A place: a WGS-84 GeoJSON geometry (Point, LineString, Polygon or their Multi forms).
#[derive(Debug, Clone, PartialEq)]
pub struct Place(Geometry<f64>);

impl Place {
    /// Parse a GeoJSON geometry (the object itself, not a Feature), checking every coordinate.
    pub fn from_geojson(text: &str) -> Result<Place, DomainError> {
        let bad = |m: String| DomainError::invalid("place", m);
        let g: geojson::Geometry = text
            .trim()
            .parse::<geojson::GeoJson>()
            .map_err(|e| {
                bad(format!(
                    "not a GeoJSON geometry ({e}); give e.g. {{\"type\":\"Point\",\"coordinates\":[104.06,30.66]}}"
                ))
            })
            .and_then(|j| match j {
                geojson::GeoJson::Geometry(g) => Ok(g),
                geojson::GeoJson::Feature(f) => f.geometry.ok_or_else(|| bad("the feature has no geometry".into())),
                geojson::GeoJson::FeatureCollection(_) => Err(bad("give one geometry, not a FeatureCollection".into())),
            })?;
        let geometry: Geometry<f64> = g
            .try_into()
            .map_err(|e: geojson::Error| bad(format!("unusable geometry: {e}")))?;
        match &geometry {
            Geometry::Point(_)
            | Geometry::LineString(_)
            | Geometry::Polygon(_)
            | Geometry::MultiPoint(_)
            | Geometry::MultiLineString(_)
            | Geometry::MultiPolygon(_) => {}
            _ => return Err(bad("use a Point, LineString or Polygon (or a Multi- of them)".into())),
        }
        let mut n = 0usize;
        for c in geo::CoordsIter::coords_iter(&geometry) {
            check_lng_lat(c.x, c.y).map_err(|e| bad(e.to_string()))?;
            n += 1;
        }
        if n == 0 {
            return Err(bad("the geometry has no coordinates".into()));
        }
        Ok(Place(geometry))
    }

    /// A point place.
    pub fn point(lng: f64, lat: f64) -> Result<Place, DomainError> {
        check_lng_lat(lng, lat).map_err(|e| DomainError::invalid("place", e.to_string()))?;
        Ok(Place(Geometry::Point(geo::Point::new(lng, lat))))
    }

    pub fn geometry(&self) -> &Geometry<f64> {
        &self.0
    }

    /// The GeoJSON text of the geometry.
    pub fn to_geojson(&self) -> String {
        geojson::Geometry::new(geojson::Value::from(&self.0)).to_string()
    }

    /// The geometry's kind as GeoJSON names it.
    pub fn kind(&self) -> &'static str {
        match self.0 {
            Geometry::Point(_) => "Point",
            Geometry::LineString(_) => "LineString",
            Geometry::Polygon(_) => "Polygon",
            Geometry::MultiPoint(_) => "MultiPoint",
            Geometry::MultiLineString(_) => "MultiLineString",
            _ => "MultiPolygon",
        }
    }

    fn mean_lat(&self) -> f64 {
        self.0
            .bounding_rect()
            .map(|r| (r.min().y + r.max().y) / 2.0)
            .unwrap_or(0.0)
    }
}

impl Serialize for Place {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        geojson::Geometry::new(geojson::Value::from(&self.0)).serialize(s)
    }
}

/// Metres per degree of latitude (mean).
const M_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
const M_PER_DEG_LNG: f64 = 111_320.0;

/// A local plane in metres around a latitude.
#[derive(Debug, Clone, Copy)]
struct LocalPlane {
    lat0: f64,
    cos: f64,
}

impl LocalPlane {
    fn around(lat0: f64) -> LocalPlane {
        LocalPlane {
            lat0,
            cos: lat0.to_radians().cos(),
        }
    }

    fn project(&self, p: &Place) -> Geometry<f64> {
        let (lat0, cos) = (self.lat0, self.cos);
        p.0.map_coords(|c| geo::coord! { x: c.x * M_PER_DEG_LNG * cos, y: (c.y - lat0) * M_PER_DEG_LAT })
    }
}

/// The distance in metres between two places (0 when they touch or overlap).
pub fn distance_m(a: &Place, b: &Place) -> f64 {
    let plane = LocalPlane::around((a.mean_lat() + b.mean_lat()) / 2.0);
    Euclidean.distance(&plane.project(a), &plane.project(b))
}

/// A time window of whole days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Window, DomainError> {
        if to < from {
            return Err(DomainError::invalid(
                "window",
                format!("the end {to} is before the start {from}: give the start first"),
            ));
        }
        Ok(Window { from, to })
    }

    /// How many days it covers.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Days between the two windows: 0 when they overlap or touch end to start.
    pub fn gap_days(&self, other: &Window) -> i64 {
        if self.to < other.from {
            (other.from - self.to).num_days() - 1
        } else if other.to < self.from {
            (self.from - other.to).num_days() - 1
        } else {
            0
        }
    }
}

/// How many calendar days a set of windows covers together.
pub fn union_days(windows: &[Window]) -> i64 {
    let mut sorted: Vec<Window> = windows.to_vec();
    sorted.sort();
    let mut total = 0;
    let mut current: Option<Window> = None;
    for w in sorted {
        current = match current {
            Some(c) if w.from <= c.to + chrono::Days::new(1) => Some(Window {
                from: c.from,
                to: c.to.max(w.to),
            }),
            Some(c) => {
                total += c.days();
                Some(w)
            }
            None => Some(w),
        };
    }
    total + current.map(|c| c.days()).unwrap_or(0)
}

string_enum! {
    /// Whether an item (a work or a delivery project) is merged into a project (项目整合).
    Membership {
        /// 未整合: on its own, may go into an accepted bundle.
        Unbundled => "unbundled", "未整合", "Not bundled";
        /// 已整合: in an accepted bundle, delivered as one project with the others (terminal).
        Bundled => "bundled", "已整合", "Bundled";
    }
}

string_enum! {
    /// The step of an item's bundling.
    MembershipAction {
        /// 并入项目: staff accept a bundle holding the item.
        Merge => "merge", "并入项目", "Merge into a project";
    }
}

named!(Membership, MembershipAction);

impl Membership {
    /// The membership of an item in accepted bundle `bundle`, if any.
    pub fn of(bundle: Option<i64>) -> Self {
        if bundle.is_some() {
            Membership::Bundled
        } else {
            Membership::Unbundled
        }
    }

    pub fn is_terminal(self) -> bool {
        self == Membership::Bundled
    }
}

/// An item's bundling: merged once.
pub const TRANSITIONS: &[Transition<Membership, MembershipAction>] = &[row(
    &[Membership::Unbundled],
    MembershipAction::Merge,
    lifecycle::Target::To(Membership::Bundled),
    &[Party::Staff],
)];

/// The membership merging gives, or the refusal naming the membership and what it allows.
pub fn decide(
    state: Membership,
    action: MembershipAction,
) -> Result<Membership, Refusal<Membership, MembershipAction>> {
    lifecycle::decide(TRANSITIONS, state, action).map(|t| t.resolve(state).unwrap_or(state))
}

/// What a bundle item is: a department's work or a delivery project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum ItemRef {
    Work(i64),
    Delivery(i64),
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemRef::Work(id) => write!(f, "work:{id}"),
            ItemRef::Delivery(id) => write!(f, "delivery:{id}"),
        }
    }
}

impl FromStr for ItemRef {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("item", format!("'{s}' is not an item: use work:ID or delivery:ID"));
        let (kind, id) = s.trim().split_once(':').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        match kind {
            "work" => Ok(ItemRef::Work(id)),
            "delivery" => Ok(ItemRef::Delivery(id)),
            _ => Err(bad()),
        }
    }
}

/// A work or delivery project as bundling sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub key: ItemRef,
    pub title: String,
    pub kind: WorkKind,
    pub place: Place,
    pub window: Window,
    pub budget_cents: i64,
    /// The department (organisation id) that carries it out; `None` for a residents' project,
    /// led by the community.
    pub department: Option<i64>,
}

/// The parameters of bundling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BundleParams {
    /// Items whose places are at most this many metres apart meet in space.
    pub buffer_m: f64,
    /// Items whose windows are at most this many days apart meet in time (0: they must overlap
    /// or touch).
    pub gap_days: i64,
}

impl Default for BundleParams {
    fn default() -> Self {
        BundleParams {
            buffer_m: 50.0,
            gap_days: 30,
        }
    }
}

impl BundleParams {
    pub fn new(buffer_m: f64, gap_days: i64) -> Result<BundleParams, DomainError> {
        if !buffer_m.is_finite() || !(0.0..=5000.0).contains(&buffer_m) {
            return Err(DomainError::invalid("buffer_m", "use a distance of 0 to 5000 metres"));
        }
        if !(0..=365).contains(&gap_days) {
            return Err(DomainError::invalid("gap_days", "use 0 to 365 days"));
        }
        Ok(BundleParams { buffer_m, gap_days })
    }

    /// Whether two items meet in space and time.
    pub fn meet(&self, a: &Item, b: &Item) -> bool {
        a.window.gap_days(&b.window) <= self.gap_days && distance_m(&a.place, &b.place) <= self.buffer_m
    }
}

/// One item's slot in the merged schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub key: ItemRef,
    pub phase: Phase,
    pub window: Window,
}

/// What merging a bundle saves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Savings {
    /// Separate interventions before (the items) and after (one project).
    pub interventions_before: usize,
    pub interventions_after: usize,
    /// Times the ground is opened: each digging item before, one shared trench after.
    pub diggings_before: usize,
    pub diggings_after: usize,
    /// Surface items planned to end before a digging item starts (they would be dug up again).
    pub surfaces_redone_before: usize,
    /// The sum of the separate windows' days.
    pub days_separate: i64,
    /// The calendar days the separate windows cover together.
    pub days_union_before: i64,
    /// The merged schedule's span.
    pub days_after: i64,
}

impl Savings {
    pub fn diggings_avoided(&self) -> usize {
        self.diggings_before - self.diggings_after
    }

    /// Days of disturbance saved against the separate windows' sum.
    pub fn days_saved(&self) -> i64 {
        self.days_separate - self.days_after
    }
}

/// A group of items that meet, with its lead, schedule and savings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// The items, sorted by reference.
    pub items: Vec<ItemRef>,
    pub lead: ItemRef,
    /// The department that leads (`None`: the community leads, the lead being a residents' project).
    pub lead_department: Option<i64>,
    pub lead_reason: String,
    pub schedule: Vec<Slot>,
    pub window: Window,
    pub savings: Savings,
    pub budget_cents: i64,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut i = i;
        while self.0[i] != r {
            let next = self.0[i];
            self.0[i] = r;
            i = next;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// The bundles among `items`: connected components of "meets in space and time" with two items
/// or more, sorted by their first item. Items are compared pairwise after a cheap bounding-box
/// test (a community holds tens to hundreds of works).
pub fn find_bundles(items: &[Item], params: &BundleParams) -> Vec<Bundle> {
    let mut uf = UnionFind((0..items.len()).collect());
    // Bounding boxes in degrees widened by the buffer, to skip far pairs quickly.
    let lat_margin = params.buffer_m / M_PER_DEG_LAT;
    let boxes: Vec<Option<geo::Rect<f64>>> = items
        .iter()
        .map(|i| {
            i.place.0.bounding_rect().map(|r| {
                let lng_margin = params.buffer_m / (M_PER_DEG_LNG * r.min().y.to_radians().cos().max(0.01));
                geo::Rect::new(
                    geo::coord! { x: r.min().x - lng_margin, y: r.min().y - lat_margin },
                    geo::coord! { x: r.max().x + lng_margin, y: r.max().y + lat_margin },
                )
            })
        })
        .collect();
    for a in 0..items.len() {
        for b in a + 1..items.len() {
            if let (Some(ra), Some(rb)) = (boxes[a], boxes[b]) {
                let apart = ra.max().x < rb.min().x
                    || rb.max().x < ra.min().x
                    || ra.max().y < rb.min().y
                    || rb.max().y < ra.min().y;
                if apart {
                    continue;
                }
            }
            if params.meet(&items[a], &items[b]) {
                uf.union(a, b);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..items.len() {
        let root = uf.find(i);
        groups.entry(root).or_default().push(i);
    }
    let mut bundles: Vec<Bundle> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|g| bundle_of(&g.iter().map(|&i| &items[i]).collect::<Vec<_>>()))
        .collect();
    bundles.sort_by_key(|b| b.items[0]);
    bundles
}

/// The lead of a group and why (see the module documentation for the rule).
pub fn lead_of(items: &[&Item]) -> (ItemRef, String) {
    let diggers: Vec<&&Item> = items.iter().filter(|i| i.kind.digs()).collect();
    let pool: Vec<&&Item> = if diggers.is_empty() {
        items.iter().collect()
    } else {
        diggers
    };
    let best = pool
        .iter()
        .min_by(|a, b| {
            b.budget_cents
                .cmp(&a.budget_cents)
                .then(a.window.from.cmp(&b.window.from))
                .then(a.key.cmp(&b.key))
        })
        .expect("a bundle has items");
    let reason = if best.kind.digs() {
        format!(
            "开挖工程中预算最大（{}），先行施工，其沟槽决定整体工期 / the digging work with the largest budget: it digs first and its trench sets the schedule",
            best.kind.name_zh()
        )
    } else {
        "无开挖工程，预算最大者牵头 / nothing digs: the item with the largest budget leads".to_owned()
    };
    (best.key, reason)
}

/// The merged schedule (see the module documentation) and its overall window.
pub fn schedule_of(items: &[&Item]) -> (Vec<Slot>, Window) {
    let start = items.iter().map(|i| i.window.from).min().expect("a bundle has items");
    let mut by_phase: BTreeMap<Phase, Vec<&&Item>> = BTreeMap::new();
    for i in items {
        by_phase.entry(i.kind.phase()).or_default().push(i);
    }
    let mut slots = Vec::new();
    let mut phase_start = start;
    let mut end = start;
    for (phase, mut group) in by_phase {
        group.sort_by_key(|i| (i.window.from, i.key));
        let mut phase_end = phase_start;
        for i in group {
            let to = phase_start + chrono::Days::new((i.window.days() - 1) as u64);
            phase_end = phase_end.max(to);
            slots.push(Slot {
                key: i.key,
                phase,
                window: Window { from: phase_start, to },
            });
        }
        end = phase_end;
        phase_start = phase_end + chrono::Days::new(1);
    }
    (slots, Window { from: start, to: end })
}

/// What merging `items` into one project saves.
pub fn savings_of(items: &[&Item], merged: &Window) -> Savings {
    let diggers: Vec<&&Item> = items.iter().filter(|i| i.kind.digs()).collect();
    let surfaces_redone = items
        .iter()
        .filter(|i| i.kind.phase() == Phase::Surface)
        .filter(|s| diggers.iter().any(|d| s.window.to < d.window.from))
        .count();
    let windows: Vec<Window> = items.iter().map(|i| i.window).collect();
    Savings {
        interventions_before: items.len(),
        interventions_after: 1,
        diggings_before: diggers.len(),
        diggings_after: usize::from(!diggers.is_empty()),
        surfaces_redone_before: surfaces_redone,
        days_separate: windows.iter().map(Window::days).sum(),
        days_union_before: union_days(&windows),
        days_after: merged.days(),
    }
}

/// A bundle of `items` (at least one).
pub fn bundle_of(items: &[&Item]) -> Bundle {
    let (lead, lead_reason) = lead_of(items);
    let lead_department = items.iter().find(|i| i.key == lead).and_then(|i| i.department);
    let (schedule, window) = schedule_of(items);
    let savings = savings_of(items, &window);
    let mut keys: Vec<ItemRef> = items.iter().map(|i| i.key).collect();
    keys.sort();
    Bundle {
        items: keys,
        lead,
        lead_department,
        lead_reason,
        schedule,
        window,
        savings,
        budget_cents: items.iter().map(|i| i.budget_cents).sum(),
    }
}

/// Interventions at one place before and after merging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceReport {
    /// A community code, or `bundle N`.
    pub place: String,
    pub items: usize,
    pub bundles: usize,
    /// Separate interventions as planned.
    pub before: usize,
    /// Interventions after merging: one per bundle plus the items in no bundle.
    pub after: usize,
    pub diggings_before: usize,
    pub diggings_after: usize,
    pub days_separate: i64,
    pub days_after: i64,
}

/// The before/after report of a place holding `items`, merged into `bundles`.
pub fn place_report(place: &str, items: &[Item], bundles: &[Bundle]) -> PlaceReport {
    let bundled: BTreeSet<ItemRef> = bundles.iter().flat_map(|b| b.items.iter().copied()).collect();
    let loose: Vec<&Item> = items.iter().filter(|i| !bundled.contains(&i.key)).collect();
    let loose_digs = loose.iter().filter(|i| i.kind.digs()).count();
    let loose_days: i64 = loose.iter().map(|i| i.window.days()).sum();
    PlaceReport {
        place: place.to_owned(),
        items: items.len(),
        bundles: bundles.len(),
        before: items.len(),
        after: loose.len() + bundles.len(),
        diggings_before: items.iter().filter(|i| i.kind.digs()).count(),
        diggings_after: loose_digs + bundles.iter().map(|b| b.savings.diggings_after).sum::<usize>(),
        days_separate: items.iter().map(|i| i.window.days()).sum(),
        days_after: loose_days + bundles.iter().map(|b| b.savings.days_after).sum::<i64>(),
    }
}

/// A department's planned work, as registered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewWork {
    /// The department's own reference (unique per department), e.g. `RD-2026-014`.
    pub reference: String,
    pub title: String,
    pub kind: WorkKind,
    pub community: String,
    pub department: i64,
    pub place: Place,
    pub window: Window,
    pub budget_cents: i64,
}

/// Parse an amount of yuan with at most two decimals into cents (`12500.5` → 1 250 050).
pub fn yuan_to_cents(s: &str) -> Option<i64> {
    let s = s.trim().replace([',', '，'], "");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// Cents as yuan with two decimals.
pub fn cents_to_yuan(c: i64) -> String {
    format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100)
}

fn date(row: &Row, column: &str) -> Result<NaiveDate, LineError> {
    let s = row.required(column)?;
    s.parse::<NaiveDate>()
        .map_err(|_| row.error(column, format!("'{s}' is not a date like 2026-05-01")))
}

/// The columns of a works file.
pub const WORK_COLUMNS: &[&str] = &[
    "reference",
    "title",
    "kind",
    "community",
    "department",
    "from",
    "to",
    "budget_yuan",
    "geometry",
];

fn work_of(row: &Row, departments: &BTreeSet<i64>) -> Result<NewWork, Vec<LineError>> {
    let mut errors = Vec::new();
    fn keep<T>(errors: &mut Vec<LineError>, r: Result<T, LineError>) -> Option<T> {
        r.map_err(|e| errors.push(e)).ok()
    }
    macro_rules! take {
        ($e:expr $(,)?) => {
            keep(&mut errors, $e)
        };
    }
    let reference = take!(row.required("reference").map(str::to_owned));
    let title = take!(row.required("title").map(str::to_owned));
    let kind = take!(row
        .required("kind")
        .and_then(|k| k.parse::<WorkKind>().map_err(|e| row.error("kind", e.to_string()))),);
    let community = take!(row.required("community").and_then(|c| {
        crate::territory::DivisionCode::parse(c)
            .ok()
            .filter(|d| d.as_str().len() == 12)
            .map(|d| d.to_string())
            .ok_or_else(|| row.error("community", format!("'{c}' is not a community code (12 digits)")))
    }));
    let department = take!(row.required("department").and_then(|d| {
        d.parse::<i64>()
            .ok()
            .filter(|d| departments.contains(d))
            .ok_or_else(|| {
                row.error(
                    "department",
                    format!("'{d}' is not the id of a department you may register works for"),
                )
            })
    }));
    let from = take!(date(row, "from"));
    let to = take!(date(row, "to"));
    let budget = take!(row.required("budget_yuan").and_then(|b| {
        yuan_to_cents(b).ok_or_else(|| {
            row.error(
                "budget_yuan",
                format!("'{b}' is not an amount of yuan like 125000 or 125000.50"),
            )
        })
    }));
    let place = take!(row
        .required("geometry")
        .and_then(|g| Place::from_geojson(g).map_err(|e| row.error("geometry", e.to_string()))),);
    let window = match (from, to) {
        (Some(f), Some(t)) => take!(Window::new(f, t).map_err(|e| row.error("to", e.to_string()))),
        _ => None,
    };
    match (reference, title, kind, community, department, window, budget, place) {
        (
            Some(reference),
            Some(title),
            Some(kind),
            Some(community),
            Some(department),
            Some(window),
            Some(budget_cents),
            Some(place),
        ) if errors.is_empty() => Ok(NewWork {
            reference,
            title,
            kind,
            community,
            department,
            place,
            window,
            budget_cents,
        }),
        _ => Err(errors),
    }
}

/// Read a works file (CSV or XLSX, columns [`WORK_COLUMNS`], `geometry` a GeoJSON geometry in
/// WGS-84), all or nothing: every wrong line is reported. `departments` are the organisation ids
/// the importer may register works for.
pub fn parse_works(table: &Table, departments: &BTreeSet<i64>) -> Result<Vec<NewWork>, Vec<LineError>> {
    table.require_columns(WORK_COLUMNS).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out: Vec<NewWork> = Vec::new();
    let mut seen: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for row in &table.rows {
        match work_of(row, departments) {
            Ok(w) => {
                if let Some(first) = seen.insert((w.department, w.reference.clone()), row.line) {
                    errors.push(row.error(
                        "reference",
                        format!("{} is already given on line {first}; each work once", w.reference),
                    ));
                } else {
                    out.push(w);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A works file's text (CSV) for `works` given as (new work) rows.
pub fn works_csv(works: &[NewWork]) -> String {
    let mut w = crate::table::CsvWriter::from_writer(Vec::new());
    let _ = w.write_record(WORK_COLUMNS);
    for x in works {
        let _ = w.write_record([
            x.reference.clone(),
            x.title.clone(),
            x.kind.as_str().to_owned(),
            x.community.clone(),
            x.department.to_string(),
            x.window.from.to_string(),
            x.window.to.to_string(),
            cents_to_yuan(x.budget_cents),
            x.place.to_geojson(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::lifecycle::check;

    #[test]
    fn membership_table_is_well_formed_and_followed() {
        check::well_formed(
            TRANSITIONS,
            Membership::ALL,
            MembershipAction::ALL,
            Membership::Unbundled,
            Membership::is_terminal,
        );
        let ok = check::follows_the_table(TRANSITIONS, Membership::ALL, MembershipAction::ALL, |s, a| {
            lifecycle::decide(TRANSITIONS, s, a)
        });
        assert_eq!(ok, 1);
        assert_eq!(
            decide(Membership::of(None), MembershipAction::Merge),
            Ok(Membership::Bundled)
        );
        assert_eq!(
            decide(Membership::of(Some(3)), MembershipAction::Merge)
                .unwrap_err()
                .to_string(),
            "it is bundled (已整合), which does not allow merge (并入项目); allowed: nothing"
        );
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn item(key: ItemRef, kind: WorkKind, place: &str, from: &str, to: &str, budget: i64) -> Item {
        Item {
            key,
            title: format!("{key}"),
            kind,
            place: Place::from_geojson(place).unwrap(),
            window: Window::new(d(from), d(to)).unwrap(),
            budget_cents: budget,
            department: match key {
                ItemRef::Work(id) => Some(100 + id),
                ItemRef::Delivery(_) => None,
            },
        }
    }

    // Around 30.66 N one metre of longitude is about 1/95 800 of a degree.
    const ROAD: &str = r#"{"type":"LineString","coordinates":[[104.0600,30.6600],[104.0620,30.6600]]}"#;
    const PIPE_UNDER_ROAD: &str = r#"{"type":"LineString","coordinates":[[104.0605,30.6601],[104.0615,30.6601]]}"#;
    const SQUARE_BY_ROAD: &str = r#"{"type":"Polygon","coordinates":[[[104.0610,30.6602],[104.0612,30.6602],[104.0612,30.6604],[104.0610,30.6604],[104.0610,30.6602]]]}"#;
    const FAR_POINT: &str = r#"{"type":"Point","coordinates":[104.0700,30.6700]}"#;

    #[test]
    fn distances_are_in_metres() {
        let a = Place::point(104.06, 30.66).unwrap();
        let b = Place::point(104.061, 30.66).unwrap();
        let m = distance_m(&a, &b);
        assert!((m - 95.8).abs() < 1.0, "{m}");
        let road = Place::from_geojson(ROAD).unwrap();
        let pipe = Place::from_geojson(PIPE_UNDER_ROAD).unwrap();
        let dm = distance_m(&road, &pipe);
        assert!((dm - 11.06).abs() < 0.5, "{dm}");
        let inside = Place::point(104.0611, 30.6603).unwrap();
        assert_eq!(distance_m(&Place::from_geojson(SQUARE_BY_ROAD).unwrap(), &inside), 0.0);
    }

    #[test]
    fn places_are_checked() {
        assert!(Place::from_geojson(r#"{"type":"Point","coordinates":[200,30]}"#).is_err());
        assert!(Place::from_geojson("nonsense").is_err());
        assert!(Place::from_geojson(r#"{"type":"FeatureCollection","features":[]}"#).is_err());
        let p = Place::from_geojson(ROAD).unwrap();
        assert_eq!(p.kind(), "LineString");
        assert_eq!(Place::from_geojson(&p.to_geojson()).unwrap(), p);
    }

    #[test]
    fn windows_gap_and_union() {
        let a = Window::new(d("2026-03-01"), d("2026-03-10")).unwrap();
        let b = Window::new(d("2026-03-11"), d("2026-03-20")).unwrap();
        let c = Window::new(d("2026-04-01"), d("2026-04-05")).unwrap();
        assert_eq!(a.days(), 10);
        assert_eq!(a.gap_days(&b), 0);
        assert_eq!(b.gap_days(&c), 11);
        assert_eq!(c.gap_days(&b), 11);
        assert_eq!(union_days(&[a, b, c]), 25);
        assert_eq!(union_days(&[a, a]), 10);
        assert!(Window::new(d("2026-03-02"), d("2026-03-01")).is_err());
    }

    #[test]
    fn overlap_in_space_and_time_bundles_and_either_alone_does_not() {
        let p = BundleParams::new(50.0, 0).unwrap();
        let road = item(
            ItemRef::Work(1),
            WorkKind::RoadResurfacing,
            ROAD,
            "2026-05-01",
            "2026-05-20",
            80_000_000,
        );
        let pipe = item(
            ItemRef::Work(2),
            WorkKind::PipeReplacement,
            PIPE_UNDER_ROAD,
            "2026-05-10",
            "2026-06-10",
            30_000_000,
        );
        let far_same_time = item(
            ItemRef::Work(3),
            WorkKind::Greening,
            FAR_POINT,
            "2026-05-01",
            "2026-05-20",
            1,
        );
        let near_other_time = item(
            ItemRef::Work(4),
            WorkKind::Lighting,
            ROAD,
            "2026-09-01",
            "2026-09-05",
            1,
        );
        let b = find_bundles(
            &[road.clone(), pipe.clone(), far_same_time, near_other_time.clone()],
            &p,
        );
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].items, vec![ItemRef::Work(1), ItemRef::Work(2)]);
        // A gap parameter bridges the months between.
        let wide = BundleParams::new(50.0, 90).unwrap();
        let b = find_bundles(&[road, pipe, near_other_time], &wide);
        assert_eq!(b[0].items.len(), 3);
        // Nothing meets: no bundle.
        assert!(find_bundles(&[], &p).is_empty());
    }

    #[test]
    fn chains_join_into_one_bundle() {
        // A meets B, B meets C, A does not meet C: one bundle of three.
        let p = BundleParams::new(20.0, 0).unwrap();
        let a = item(
            ItemRef::Work(1),
            WorkKind::Paving,
            r#"{"type":"Point","coordinates":[104.0600,30.66]}"#,
            "2026-05-01",
            "2026-05-10",
            5,
        );
        let b = item(
            ItemRef::Work(2),
            WorkKind::Paving,
            r#"{"type":"Point","coordinates":[104.06015,30.66]}"#,
            "2026-05-01",
            "2026-05-10",
            5,
        );
        let c = item(
            ItemRef::Delivery(1),
            WorkKind::ResidentProject,
            r#"{"type":"Point","coordinates":[104.0603,30.66]}"#,
            "2026-05-05",
            "2026-05-30",
            5,
        );
        assert!(!p.meet(&a, &c));
        let bundles = find_bundles(&[c, a, b], &p);
        assert_eq!(bundles.len(), 1);
        assert_eq!(
            bundles[0].items,
            vec![ItemRef::Work(1), ItemRef::Work(2), ItemRef::Delivery(1)]
        );
    }

    #[test]
    fn lead_schedule_and_savings() {
        let p = BundleParams::default();
        // The road is resurfaced in May; the pipe under it is replaced in June; residents'
        // pocket park beside it in May too; a facade in April.
        let road = item(
            ItemRef::Work(1),
            WorkKind::RoadResurfacing,
            ROAD,
            "2026-05-01",
            "2026-05-20",
            80_000_000,
        );
        let pipe = item(
            ItemRef::Work(2),
            WorkKind::PipeReplacement,
            PIPE_UNDER_ROAD,
            "2026-06-01",
            "2026-06-30",
            30_000_000,
        );
        let cable = item(
            ItemRef::Work(3),
            WorkKind::Cabling,
            PIPE_UNDER_ROAD,
            "2026-06-05",
            "2026-06-14",
            5_000_000,
        );
        let park = item(
            ItemRef::Delivery(7),
            WorkKind::ResidentProject,
            SQUARE_BY_ROAD,
            "2026-05-10",
            "2026-05-24",
            1_200_000,
        );
        let b = find_bundles(&[road, pipe, cable, park], &p);
        assert_eq!(b.len(), 1);
        let b = &b[0];
        // The pipe digs and is the largest digging budget, though the road's budget is larger.
        assert_eq!(b.lead, ItemRef::Work(2));
        assert_eq!(b.lead_department, Some(102));
        // Underground first (pipe 30 days, cable 10, together from 1 May), then the surface
        // (road 20 days, park 15) from 31 May.
        let slot = |k| b.schedule.iter().find(|s| s.key == k).unwrap().clone();
        assert_eq!(
            slot(ItemRef::Work(2)).window,
            Window::new(d("2026-05-01"), d("2026-05-30")).unwrap()
        );
        assert_eq!(
            slot(ItemRef::Work(3)).window,
            Window::new(d("2026-05-01"), d("2026-05-10")).unwrap()
        );
        assert_eq!(
            slot(ItemRef::Work(1)).window,
            Window::new(d("2026-05-31"), d("2026-06-19")).unwrap()
        );
        assert_eq!(
            slot(ItemRef::Delivery(7)).window,
            Window::new(d("2026-05-31"), d("2026-06-14")).unwrap()
        );
        assert_eq!(b.window, Window::new(d("2026-05-01"), d("2026-06-19")).unwrap());
        assert_eq!(b.schedule[0].phase, Phase::Underground);
        let s = &b.savings;
        assert_eq!((s.interventions_before, s.interventions_after), (4, 1));
        assert_eq!((s.diggings_before, s.diggings_after, s.diggings_avoided()), (2, 1, 1));
        // The road and the park would be finished before the pipe digs them up.
        assert_eq!(s.surfaces_redone_before, 2);
        assert_eq!(s.days_separate, 20 + 30 + 10 + 15);
        assert_eq!(s.days_union_before, 24 + 30);
        assert_eq!(s.days_after, 50);
        assert_eq!(s.days_saved(), 25);
        assert_eq!(b.budget_cents, 116_200_000);
    }

    #[test]
    fn without_digging_the_largest_budget_leads_ties_by_start() {
        let a = item(
            ItemRef::Work(1),
            WorkKind::FacadePainting,
            ROAD,
            "2026-05-02",
            "2026-05-03",
            10,
        );
        let b = item(
            ItemRef::Work(2),
            WorkKind::Greening,
            ROAD,
            "2026-05-01",
            "2026-05-03",
            10,
        );
        let (lead, why) = lead_of(&[&a, &b]);
        assert_eq!(lead, ItemRef::Work(2));
        assert!(why.contains("largest budget"));
        let bundle = bundle_of(&[&a, &b]);
        assert_eq!(bundle.savings.diggings_before, 0);
        assert_eq!(bundle.savings.diggings_after, 0);
        // Surface (greening) before building (facade).
        assert_eq!(bundle.schedule[0].key, ItemRef::Work(2));
    }

    #[test]
    fn place_report_counts_interventions_before_and_after() {
        let p = BundleParams::default();
        let items = vec![
            item(
                ItemRef::Work(1),
                WorkKind::RoadResurfacing,
                ROAD,
                "2026-05-01",
                "2026-05-20",
                1,
            ),
            item(
                ItemRef::Work(2),
                WorkKind::PipeReplacement,
                PIPE_UNDER_ROAD,
                "2026-05-01",
                "2026-05-20",
                2,
            ),
            item(
                ItemRef::Work(3),
                WorkKind::Drainage,
                FAR_POINT,
                "2026-05-01",
                "2026-05-20",
                3,
            ),
        ];
        let bundles = find_bundles(&items, &p);
        let r = place_report("510104001001", &items, &bundles);
        assert_eq!((r.before, r.after, r.bundles), (3, 2, 1));
        assert_eq!((r.diggings_before, r.diggings_after), (2, 2));
        assert_eq!(r.days_separate, 60);
        assert_eq!(r.days_after, 60);
    }

    #[test]
    fn works_import_is_all_or_nothing_with_line_numbers() {
        let deps: BTreeSet<i64> = [5].into();
        let good = format!(
            "reference,title,kind,community,department,from,to,budget_yuan,geometry\n\
             RD-1,翻修,road_resurfacing,510104001001,5,2026-05-01,2026-05-20,800000,\"{}\"\n\
             PP-1,管网,管网更换,510104001001,5,2026-06-01,2026-06-30,300000.50,\"{}\"\n",
            ROAD.replace('"', "\"\""),
            PIPE_UNDER_ROAD.replace('"', "\"\"")
        );
        let works = parse_works(&Table::from_csv(&good).unwrap(), &deps).unwrap();
        assert_eq!(works.len(), 2);
        assert_eq!(works[1].kind, WorkKind::PipeReplacement);
        assert_eq!(works[1].budget_cents, 30_000_050);
        // Round trip through the export.
        let again = parse_works(&Table::from_csv(&works_csv(&works)).unwrap(), &deps).unwrap();
        assert_eq!(again, works);
        let bad = "reference,title,kind,community,department,from,to,budget_yuan,geometry\n\
                   RD-1,a,paving,510104001001,5,2026-05-01,2026-05-20,1,\"{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[104,30]}\"\n\
                   RD-2,b,digging,510104001001,9,2026-05-20,2026-05-01,1.234,nope\n\
                   RD-1,c,paving,510104001001,5,2026-05-01,2026-05-20,1,\"{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[104,30]}\"\n";
        let errors = parse_works(&Table::from_csv(bad).unwrap(), &deps).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|e| e.starts_with("line 3, column kind")), "{text:?}");
        assert!(
            text.iter().any(|e| e.starts_with("line 3, column department")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|e| e.starts_with("line 3, column budget_yuan")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|e| e.starts_with("line 3, column geometry")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|e| e.starts_with("line 4, column reference")),
            "{text:?}"
        );
        let missing = parse_works(&Table::from_csv("reference,title\nA,b\n").unwrap(), &deps).unwrap_err();
        assert!(missing[0].message.contains("lacks the column(s)"));
    }

    #[test]
    fn money_in_cents() {
        assert_eq!(yuan_to_cents("12500"), Some(1_250_000));
        assert_eq!(yuan_to_cents("12,500.5"), Some(1_250_050));
        assert_eq!(yuan_to_cents("1.234"), None);
        assert_eq!(yuan_to_cents("-1"), None);
        assert_eq!(cents_to_yuan(1_250_050), "12500.50");
    }
}
