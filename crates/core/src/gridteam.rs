//! The generalist grid (全科网格): the grid team (identity), the three lists (connection: 需求清单
//! needs, 资源清单 resources, 项目清单 projects) with the matching engine, the points ledger (积分制,
//! interaction) and the grid indicators. Pure: the store keeps the records, this module decides.
//!
//! The needs list is the one list of needs of the platform: the micro-renewal (社区微更新) extends
//! it with its renewal categories and clusters rather than keeping a second one.

use std::str::FromStr;

use chrono::NaiveDate;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::org::string_enum;
use crate::table::{LineError, Row, Table};
use crate::text::distance_m;
use crate::DomainError;

string_enum! {
    /// A place in a grid team (网格队伍). Grid head and workers are staff; the others are members
    /// from the governance community.
    MemberRole {
        /// 网格长.
        GridHead => "grid_head", "网格长", "Grid head";
        /// 网格员.
        GridWorker => "grid_worker", "网格员", "Grid worker";
        /// 党员.
        PartyMember => "party_member", "党员", "Party member";
        /// 楼栋长 building leader.
        BuildingLeader => "building_leader", "楼栋长", "Building leader";
        /// 物业人员 property manager staff.
        PropertyStaff => "property_staff", "物业人员", "Property staff";
        /// 商户 merchant.
        Merchant => "merchant", "商户", "Merchant";
        /// 志愿者 volunteer.
        Volunteer => "volunteer", "志愿者", "Volunteer";
        /// 社工 social organisation worker.
        SocialWorker => "social_worker", "社会组织工作者", "Social worker";
    }
}

string_enum! {
    /// An organisation's place in an alliance (一核多元): the core or a participant.
    AllianceRole {
        /// 核心 the lead organisation (usually the party organisation).
        Lead => "lead", "核心单位", "Lead organisation";
        /// 参与 a participant organisation.
        Participant => "participant", "参与单位", "Participant organisation";
    }
}

string_enum! {
    /// Key groups (重点人群) of a household, for visits and care.
    KeyGroup {
        /// 独居老人 elderly living alone.
        ElderlyAlone => "elderly_alone", "独居老人", "Elderly living alone";
        /// 高龄老人 elderly over 80.
        Elderly80 => "elderly_80", "高龄老人", "Elderly over 80";
        /// 残疾人 people with disabilities.
        Disabled => "disabled", "残疾人", "People with disabilities";
        /// 低保 households on minimum living allowance.
        LowIncome => "low_income", "低保户", "Minimum-allowance household";
        /// 留守儿童 children left behind.
        ChildLeftBehind => "child_left_behind", "留守儿童", "Left-behind child";
        /// 退役军人 veterans.
        Veteran => "veteran", "退役军人", "Veteran";
    }
}

string_enum! {
    /// What a need asks for and what a resource serves. Micro-renewal adds its renewal
    /// categories (greening, lighting, accessibility …) to the same list.
    Category {
        /// 养老助餐 elderly care and meals.
        ElderlyCare => "elderly_care", "养老助老", "Elderly care";
        /// 托育 childcare and after-school care.
        Childcare => "childcare", "托育托管", "Childcare";
        /// 维修 household repairs.
        Repair => "repair", "维修服务", "Repairs";
        /// 医疗健康 health.
        Health => "health", "医疗健康", "Health";
        /// 法律 legal advice.
        Legal => "legal", "法律咨询", "Legal advice";
        /// 就业 jobs and training.
        Employment => "employment", "就业培训", "Jobs and training";
        /// 文体 culture and sports.
        Culture => "culture", "文体活动", "Culture and sports";
        /// 环境卫生 cleaning and environment.
        Environment => "environment", "环境卫生", "Cleaning and environment";
        /// 公共空间 public space.
        PublicSpace => "public_space", "公共空间", "Public space";
        /// 绿化 greening.
        Greening => "greening", "绿化", "Greening";
        /// 照明 lighting.
        Lighting => "lighting", "照明", "Lighting";
        /// 无障碍与适老化 accessibility and elderly-friendly.
        Accessibility => "accessibility", "无障碍适老化", "Accessibility and age-friendliness";
        /// 停车 parking.
        Parking => "parking", "停车", "Parking";
        /// 立面 facades (walls, balconies, signs).
        Facade => "facade", "立面", "Facades";
        /// 排水 drainage (waterlogging, drains, sewers).
        Drainage => "drainage", "排水", "Drainage";
        /// 垃圾点位 waste collection points.
        WastePoint => "waste_point", "垃圾点位", "Waste collection point";
        /// 儿童游憩 children's play space.
        PlaySpace => "play_space", "儿童游憩", "Children's play space";
        /// 充电设施 charging for e-bikes and cars.
        Charging => "charging", "充电设施", "Charging points";
        /// 其他 other.
        Other => "other", "其他", "Other";
    }
}

impl Category {
    /// The renewal categories (社区微更新) of the one needs list.
    pub const RENEWAL: &'static [Category] = &[
        Category::PublicSpace,
        Category::Greening,
        Category::Lighting,
        Category::Accessibility,
        Category::Parking,
        Category::PlaySpace,
        Category::Facade,
        Category::Drainage,
        Category::WastePoint,
        Category::Charging,
        Category::Environment,
        Category::Other,
    ];
}

string_enum! {
    /// Where a need came from.
    NeedSource {
        /// 居民提出 raised by a resident.
        Resident => "resident", "居民提出", "Raised by a resident";
        /// 走访收集 met on a grid worker's visit.
        Visit => "visit", "走访收集", "Met on a visit";
        /// 会议收集 raised at a meeting.
        Meeting => "meeting", "会议收集", "Raised at a meeting";
    }
}

string_enum! {
    /// How pressing a need is.
    Urgency {
        Low => "low", "一般", "Routine";
        Normal => "normal", "较急", "Fairly urgent";
        High => "high", "紧急", "Urgent";
    }
}

string_enum! {
    /// Where a need stands.
    NeedStatus {
        /// 待对接 open.
        Open => "open", "待对接", "Open";
        /// 已立项 a project answers it.
        Matched => "matched", "已立项", "Project under way";
        /// 已满足 met.
        Met => "met", "已满足", "Met";
    }
}

string_enum! {
    /// What a resource is.
    ResourceKind {
        /// 场地 space.
        Space => "space", "场地", "Space";
        /// 资金 funds (yuan).
        Funds => "funds", "资金", "Funds";
        /// 技能 skills.
        Skills => "skills", "技能", "Skills";
        /// 志愿时长 volunteer hours.
        VolunteerHours => "volunteer_hours", "志愿时长", "Volunteer hours";
        /// 服务 services.
        Services => "services", "服务", "Services";
    }
}

string_enum! {
    /// Where a project stands.
    ProjectStatus {
        /// 实施中 under way.
        Active => "active", "实施中", "Under way";
        /// 已完成 completed.
        Completed => "completed", "已完成", "Completed";
        /// 未完成 failed (counts against the resource's reliability).
        Failed => "failed", "未完成", "Not completed";
    }
}

string_enum! {
    /// Meetings and activities of a grid or community.
    ActivityKind {
        /// 议事会议 meeting.
        Meeting => "meeting", "议事会议", "Council meeting";
        /// 社区活动 activity.
        Activity => "activity", "社区活动", "Community activity";
    }
}

/// A period (inclusive) in which a resource can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Window, DomainError> {
        if to < from {
            return Err(DomainError::invalid(
                "windows",
                format!("the window {from}..{to} ends before it starts"),
            ));
        }
        Ok(Window { from, to })
    }

    /// Parse `2026-11-01..2026-12-31` windows separated by `;` (empty: always available).
    pub fn parse_list(s: &str) -> Result<Vec<Window>, DomainError> {
        s.split(';')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| {
                let bad = || {
                    DomainError::invalid(
                        "windows",
                        format!("'{w}' is not a window: write FROM..TO as dates, e.g. 2026-11-01..2026-12-31"),
                    )
                };
                let (a, b) = w.split_once("..").ok_or_else(bad)?;
                let a = NaiveDate::parse_from_str(a.trim(), "%Y-%m-%d").map_err(|_| bad())?;
                let b = NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d").map_err(|_| bad())?;
                Window::new(a, b)
            })
            .collect()
    }

    pub fn format_list(ws: &[Window]) -> String {
        ws.iter()
            .map(|w| format!("{}..{}", w.from, w.to))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// How far (metres) a resource serves when it does not say.
pub const DEFAULT_REACH_M: f64 = 2000.0;
/// The farthest reach a resource may claim (metres); the matching index relies on it.
pub const MAX_REACH_M: f64 = 20_000.0;

/// What the matching engine needs to know of an open need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeedFacts {
    pub id: i64,
    pub category: Category,
    pub lng: f64,
    pub lat: f64,
    pub urgency: Urgency,
    /// How much of a resource's capacity answering it takes (hours, yuan, places …).
    pub quantity: i64,
}

/// What the matching engine needs to know of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceFacts {
    pub id: i64,
    pub kind: ResourceKind,
    /// The categories it serves; funds with no category serve any need (at a lower fit).
    pub categories: Vec<Category>,
    pub lng: f64,
    pub lat: f64,
    /// How far it serves, metres.
    pub reach_m: f64,
    pub capacity: i64,
    /// Capacity taken by projects so far.
    pub used: i64,
    /// When it is available; empty: always.
    pub windows: Vec<Window>,
    /// Past projects on this resource completed and failed.
    pub completed: u32,
    pub failed: u32,
}

impl ResourceFacts {
    pub fn remaining(&self) -> i64 {
        (self.capacity - self.used).max(0)
    }

    pub fn available_on(&self, day: NaiveDate) -> bool {
        self.windows.is_empty() || self.windows.iter().any(|w| w.from <= day && day <= w.to)
    }

    /// Past reliability with a prior of one success and one failure: (completed+1)/(all+2).
    pub fn reliability(&self) -> f64 {
        (f64::from(self.completed) + 1.0) / (f64::from(self.completed + self.failed) + 2.0)
    }

    /// How well the resource's categories fit: 1 for a named category, ½ for general funds.
    pub fn category_fit(&self, c: Category) -> f64 {
        if self.categories.contains(&c) {
            1.0
        } else if self.categories.is_empty() && self.kind == ResourceKind::Funds {
            0.5
        } else {
            0.0
        }
    }
}

/// Why a resource does not fit a need.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Misfit {
    Category,
    CapacityExhausted { remaining: i64, needed: i64 },
    Unavailable { on: NaiveDate },
    TooFar { distance_m: f64, reach_m: f64 },
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Misfit::Category => f.write_str("serves other categories"),
            Misfit::CapacityExhausted { remaining, needed } => {
                write!(f, "capacity exhausted: {remaining} left, {needed} needed")
            }
            Misfit::Unavailable { on } => write!(f, "not available on {on}"),
            Misfit::TooFar { distance_m, reach_m } => {
                write!(f, "too far: {distance_m:.0} m away, serves within {reach_m:.0} m")
            }
        }
    }
}

/// A resource proposed for a need, with its score and the parts of its reason. The reason's
/// words are drawn from the parts when asked for ([`Proposal::reason`], [`Proposal::reason_zh`])
/// or when the proposal is serialised, so ranking a whole city's lists formats nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub need: i64,
    pub resource: i64,
    /// In [0, 1]; higher is better.
    pub score: f64,
    pub category_fit: f64,
    /// The need's category (what a category fit of 1 serves).
    pub category: Category,
    pub distance_m: f64,
    /// How far the resource serves, metres.
    pub reach_m: f64,
    pub remaining: i64,
    pub capacity: i64,
    pub reliability: f64,
    /// The date the fit was assessed on.
    pub on: NaiveDate,
    pub completed: u32,
    pub failed: u32,
}

impl Proposal {
    /// The reason in English.
    pub fn reason(&self) -> String {
        format!(
            "{}; {:.0} m away (serves within {:.0} m); {} of {} left; available on {}; {} of {} past projects completed",
            if self.category_fit == 1.0 {
                format!("serves {}", self.category)
            } else {
                "general funds".to_owned()
            },
            self.distance_m,
            self.reach_m,
            self.remaining,
            self.capacity,
            self.on,
            self.completed,
            self.completed + self.failed
        )
    }

    /// The reason in Chinese (理由).
    pub fn reason_zh(&self) -> String {
        format!(
            "{}；相距 {:.0} 米（服务半径 {:.0} 米）；剩余 {}/{}；{} 可用；以往 {} 个项目完成 {} 个",
            if self.category_fit == 1.0 {
                format!("服务「{}」", self.category.zh())
            } else {
                "通用资金".to_owned()
            },
            self.distance_m,
            self.reach_m,
            self.remaining,
            self.capacity,
            self.on,
            self.completed + self.failed,
            self.completed
        )
    }
}

impl Serialize for Proposal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Proposal", 13)?;
        st.serialize_field("need", &self.need)?;
        st.serialize_field("resource", &self.resource)?;
        st.serialize_field("score", &self.score)?;
        st.serialize_field("category_fit", &self.category_fit)?;
        st.serialize_field("category", &self.category)?;
        st.serialize_field("distance_m", &self.distance_m)?;
        st.serialize_field("reach_m", &self.reach_m)?;
        st.serialize_field("remaining", &self.remaining)?;
        st.serialize_field("capacity", &self.capacity)?;
        st.serialize_field("reliability", &self.reliability)?;
        st.serialize_field("on", &self.on)?;
        st.serialize_field("reason", &self.reason())?;
        st.serialize_field("reason_zh", &self.reason_zh())?;
        st.end()
    }
}

/// Weights of the score's parts: category, nearness, remaining capacity, reliability.
const WEIGHTS: [f64; 4] = [0.4, 0.25, 0.15, 0.2];

/// Metres per degree of latitude, a little under the haversine's 111.19 km so that the cheap
/// bound below never rejects a resource the exact distance would accept.
const M_PER_DEG_LAT: f64 = 110_000.0;

/// Whether `r` fits `n` on `day` apart from distance (category, capacity, availability), and the
/// category fit when it does.
fn fits_apart_from_distance(n: &NeedFacts, r: &ResourceFacts, day: NaiveDate) -> Result<f64, Misfit> {
    let fit = r.category_fit(n.category);
    if fit == 0.0 {
        return Err(Misfit::Category);
    }
    let needed = n.quantity.max(1);
    if r.remaining() < needed {
        return Err(Misfit::CapacityExhausted {
            remaining: r.remaining(),
            needed,
        });
    }
    if !r.available_on(day) {
        return Err(Misfit::Unavailable { on: day });
    }
    Ok(fit)
}

/// The proposal of `r` for `n`, once it is known to fit (`fit`) and lie `d` metres away.
fn scored(n: &NeedFacts, r: &ResourceFacts, day: NaiveDate, fit: f64, d: f64, reach: f64) -> Proposal {
    let near = 1.0 - d / reach;
    let cap = if r.capacity > 0 {
        r.remaining() as f64 / r.capacity as f64
    } else {
        0.0
    };
    let rel = r.reliability();
    let score = WEIGHTS[0] * fit + WEIGHTS[1] * near + WEIGHTS[2] * cap + WEIGHTS[3] * rel;
    Proposal {
        need: n.id,
        resource: r.id,
        score: (score * 1000.0).round() / 1000.0,
        category_fit: fit,
        category: n.category,
        distance_m: d.round(),
        reach_m: reach,
        remaining: r.remaining(),
        capacity: r.capacity,
        reliability: (rel * 1000.0).round() / 1000.0,
        on: day,
        completed: r.completed,
        failed: r.failed,
    }
}

/// Whether and how well `r` fits `n` on `day`.
pub fn assess(n: &NeedFacts, r: &ResourceFacts, day: NaiveDate) -> Result<Proposal, Misfit> {
    let fit = fits_apart_from_distance(n, r, day)?;
    let d = distance_m(n.lng, n.lat, r.lng, r.lat);
    let reach = r.reach_m.clamp(1.0, MAX_REACH_M);
    if d > reach {
        return Err(Misfit::TooFar {
            distance_m: d,
            reach_m: reach,
        });
    }
    Ok(scored(n, r, day, fit, d, reach))
}

fn rank(mut v: Vec<Proposal>, limit: usize) -> Vec<Proposal> {
    let by_score = |a: &Proposal, b: &Proposal| b.score.total_cmp(&a.score).then(a.resource.cmp(&b.resource));
    if v.len() > limit && limit > 0 {
        v.select_nth_unstable_by(limit - 1, by_score);
    }
    v.truncate(limit);
    v.sort_by(by_score);
    v
}

/// The fitting resources for one need, best first (ties: lower resource id), at most `limit`.
pub fn propose(n: &NeedFacts, resources: &[ResourceFacts], day: NaiveDate, limit: usize) -> Vec<Proposal> {
    rank(resources.iter().filter_map(|r| assess(n, r, day).ok()).collect(), limit)
}

/// The reach bands of the matching index, metres: a resource sits in the first band at least
/// as wide as its reach, so cells stay close to the reach of the resources in them.
const BANDS_M: [f64; 7] = [250.0, 500.0, 1_000.0, 2_000.0, 4_000.0, 8_000.0, MAX_REACH_M];

/// One band's cells: as wide as the band, so a need finds every resource of the band that can
/// reach it in its own cell and the eight around it.
#[derive(Debug, Clone, Copy)]
struct Cells {
    lng_deg: f64,
    lat_deg: f64,
}

impl Cells {
    fn new(band_m: f64, max_lat: f64) -> Cells {
        // Longitude shrinks with the cosine of the latitude, taken at the highest latitude (the
        // narrowest degrees), so cells err on the wide side.
        let lat_deg = band_m / M_PER_DEG_LAT;
        Cells {
            lng_deg: lat_deg / max_lat.to_radians().cos(),
            lat_deg,
        }
    }

    fn cell(self, lng: f64, lat: f64) -> (i64, i64) {
        ((lng / self.lng_deg).floor() as i64, (lat / self.lat_deg).floor() as i64)
    }
}

/// A band, a category (None: general funds) and a cell.
type IndexKey = (u8, Option<Category>, (i64, i64));

/// A resource as the index keeps it: what the distance test reads, next to its position.
#[derive(Debug, Clone, Copy)]
struct Indexed {
    at: usize,
    lng: f64,
    lat: f64,
    reach: f64,
}

/// Proposals for many needs at once (a whole city's lists). Resources that cannot serve on the
/// day (no capacity left, not available) are left out once; the others are indexed by reach
/// band, category and cell, so each need looks only at resources that might reach it, and a
/// cheap flat-earth bound rejects most of those before the exact distance. Returns, per need
/// in order, its ranked proposals — the same as [`propose`] need by need.
pub fn propose_all(
    needs: &[NeedFacts],
    resources: &[ResourceFacts],
    day: NaiveDate,
    limit: usize,
) -> Vec<Vec<Proposal>> {
    // The highest latitude of all (needs' too): the narrowest degrees of longitude.
    let max_lat = resources
        .iter()
        .map(|r| r.lat)
        .chain(needs.iter().map(|n| n.lat))
        .fold(0.0, |m: f64, l| m.max(l.abs()))
        .min(85.0);
    let cos_max = max_lat.to_radians().cos();
    let cells: Vec<Cells> = BANDS_M.iter().map(|b| Cells::new(*b, max_lat)).collect();
    let mut index: FxHashMap<IndexKey, Vec<Indexed>> = FxHashMap::default();
    let mut bands_used = [false; BANDS_M.len()];
    for (at, r) in resources.iter().enumerate() {
        if r.remaining() <= 0 || !r.available_on(day) {
            continue;
        }
        let reach = r.reach_m.clamp(1.0, MAX_REACH_M);
        let band = BANDS_M.iter().position(|b| reach <= *b).unwrap_or(BANDS_M.len() - 1);
        bands_used[band] = true;
        let c = cells[band].cell(r.lng, r.lat);
        let entry = Indexed {
            at,
            lng: r.lng,
            lat: r.lat,
            reach,
        };
        if r.categories.is_empty() && r.kind == ResourceKind::Funds {
            index.entry((band as u8, None, c)).or_default().push(entry);
        }
        for cat in &r.categories {
            index.entry((band as u8, Some(*cat), c)).or_default().push(entry);
        }
    }
    // Needs are independent of each other: ranked on all cores, each in its own buffer.
    needs
        .par_iter()
        .map_init(Vec::new, |found, n| {
            found.clear();
            for (band, cells) in cells.iter().enumerate().filter(|(b, _)| bands_used[*b]) {
                let (cx, cy) = cells.cell(n.lng, n.lat);
                for key in [Some(n.category), None] {
                    for dx in -1..=1 {
                        for dy in -1..=1 {
                            let Some(list) = index.get(&(band as u8, key, (cx + dx, cy + dy))) else {
                                continue;
                            };
                            for e in list {
                                // A lower bound of the distance: the north-south part alone, and
                                // the east-west part at the narrowest degrees.
                                let dy_m = (e.lat - n.lat).abs() * M_PER_DEG_LAT;
                                let dx_m = (e.lng - n.lng).abs() * M_PER_DEG_LAT * cos_max;
                                if dy_m * dy_m + dx_m * dx_m > e.reach * e.reach {
                                    continue;
                                }
                                let r = &resources[e.at];
                                let Ok(fit) = fits_apart_from_distance(n, r, day) else {
                                    continue;
                                };
                                let d = distance_m(n.lng, n.lat, r.lng, r.lat);
                                if d <= e.reach {
                                    found.push(scored(n, r, day, fit, d, e.reach));
                                }
                            }
                        }
                    }
                }
            }
            rank(std::mem::take(found), limit)
        })
        .collect()
}

/// A points rule (积分规则): an action and the points it earns. Rules are data, per city.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointRule {
    pub action: String,
    pub points: i64,
    pub description: String,
}

/// The rules a city starts with (CSV `action,points,description`).
pub const DEFAULT_RULES_CSV: &str = "action,points,description
activity_attended,2,attended a meeting or activity 参加会议活动
need_raised,1,raised a need 提出需求
project_completed,10,took part in a completed project 参与项目完成
visit_received,1,received a grid worker's visit 接受走访
volunteer_hour,5,per hour of volunteer service 志愿服务每小时
";

/// Parse rules `action,points,description`; actions are unique and points positive.
pub fn parse_rules(csv_text: &str) -> Result<Vec<PointRule>, DomainError> {
    let mut out: Vec<PointRule> = Vec::new();
    for (i, line) in csv_text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, ',');
        let action = parts.next().unwrap_or("").trim();
        let bad = |m: &str| DomainError::invalid("rules", format!("line {}: {m}", i + 1));
        if action.is_empty() || !action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(bad("the action is a name of a-z and '_'"));
        }
        let points: i64 = parts
            .next()
            .unwrap_or("")
            .trim()
            .parse()
            .map_err(|_| bad("points is a whole number"))?;
        if points <= 0 {
            return Err(bad("points must be positive (redemptions are not rules)"));
        }
        if out.iter().any(|r| r.action == action) {
            return Err(bad(&format!("the action {action} appears twice")));
        }
        out.push(PointRule {
            action: action.to_owned(),
            points,
            description: parts.next().unwrap_or("").trim().to_owned(),
        });
    }
    Ok(out)
}

/// One line of a person's points ledger: append-only; a redemption is a negative line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub person: i64,
    pub delta: i64,
    /// The rule's action, or `redeem`.
    pub action: String,
    /// What the points are for: `project:3`, `activity:7`, the redeemed item …
    pub reference: String,
    pub at_ms: i64,
}

/// A ledger line with the balance after it: the explanation of a balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    #[serde(flatten)]
    pub entry: LedgerEntry,
    pub balance: i64,
}

/// The award for `action` × `times` under `rules` (hours of service count each hour).
pub fn award(rules: &[PointRule], action: &str, times: i64) -> Result<i64, DomainError> {
    let rule = rules.iter().find(|r| r.action == action).ok_or_else(|| {
        let all: Vec<&str> = rules.iter().map(|r| r.action.as_str()).collect();
        DomainError::invalid(
            "action",
            format!("no points rule for '{action}'; the rules are: {}", all.join(", ")),
        )
    })?;
    if times <= 0 {
        return Err(DomainError::invalid("times", "award at least once"));
    }
    Ok(rule.points * times)
}

/// Every line with its running balance, oldest first.
pub fn explain(entries: &[LedgerEntry]) -> Vec<Explained> {
    let mut balance = 0;
    entries
        .iter()
        .map(|e| {
            balance += e.delta;
            Explained {
                entry: e.clone(),
                balance,
            }
        })
        .collect()
}

/// Whether `amount` points may be redeemed from `balance`: never below zero.
pub fn check_redeem(balance: i64, amount: i64) -> Result<(), DomainError> {
    if amount <= 0 {
        return Err(DomainError::invalid("amount", "redeem a positive number of points"));
    }
    if amount > balance {
        return Err(DomainError::invalid(
            "amount",
            format!("the balance is {balance}; {amount} cannot be redeemed (a balance never goes below zero)"),
        ));
    }
    Ok(())
}

/// 漏报率 (missed-report rate): cases reported by residents over cases registered, the share
/// the grid team did not find first. `None` when nothing was registered.
pub fn missed_report_rate(resident_reports: i64, registered: i64) -> Option<f64> {
    (registered > 0).then(|| resident_reports as f64 / registered as f64)
}

/// A member of a grid's team (网格队伍), linked to a person of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub person: i64,
    pub role: MemberRole,
    /// What the member commits to (承诺), e.g. "每周巡查两次".
    #[serde(default)]
    pub commitment: String,
}

/// An organisation in an alliance with its commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllianceMember {
    pub organisation: i64,
    pub role: AllianceRole,
    #[serde(default)]
    pub commitment: String,
}

/// An alliance (一核多元) of a grid or community: exactly one lead organisation and participants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alliance {
    pub name: String,
    pub members: Vec<AllianceMember>,
}

impl Alliance {
    pub fn check(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::invalid("name", "an alliance needs a name"));
        }
        let leads = self.members.iter().filter(|m| m.role == AllianceRole::Lead).count();
        if leads != 1 {
            return Err(DomainError::invalid(
                "members",
                format!("an alliance has exactly one lead organisation (一核); this one has {leads}"),
            ));
        }
        let mut orgs: Vec<i64> = self.members.iter().map(|m| m.organisation).collect();
        orgs.sort_unstable();
        if orgs.windows(2).any(|w| w[0] == w[1]) {
            return Err(DomainError::invalid(
                "members",
                "an organisation appears twice in the alliance",
            ));
        }
        Ok(())
    }
}

/// A household registered in a unit of the premises register. Private to the grid team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    /// The unit's code (premises register).
    pub unit: String,
    pub head: String,
    pub size: u32,
    #[serde(default)]
    pub key_groups: Vec<KeyGroup>,
}

/// A need of the needs list (需求清单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Need {
    pub category: Category,
    pub text: String,
    pub lng: f64,
    pub lat: f64,
    /// A drawn area (GeoJSON geometry), when the need is about more than a point.
    #[serde(default)]
    pub area: Option<serde_json::Value>,
    pub urgency: Urgency,
    pub source: NeedSource,
    /// The person who raised it.
    #[serde(default)]
    pub raised_by: Option<i64>,
    /// The household it is raised for (id in the households list).
    #[serde(default)]
    pub household: Option<i64>,
    /// A group it is raised for, e.g. "3号楼老人".
    #[serde(default)]
    pub group: Option<String>,
    /// How much of a resource answering it takes.
    pub quantity: i64,
    /// Closed-loop cases linked by staff as evidence (recurring reports at its place).
    #[serde(default)]
    pub evidence: Vec<i64>,
}

impl Need {
    pub fn check(&self) -> Result<(), DomainError> {
        let n = self.text.trim().chars().count();
        if n == 0 || n > 500 {
            return Err(DomainError::invalid("text", "describe the need in 1 to 500 characters"));
        }
        crate::spatial::check_lng_lat(self.lng, self.lat)?;
        if self.quantity <= 0 {
            return Err(DomainError::invalid(
                "quantity",
                "a need takes a positive quantity (default 1)",
            ));
        }
        if let Some(a) = &self.area {
            if !matches!(a.get("type").and_then(|t| t.as_str()), Some("Polygon" | "MultiPolygon")) {
                return Err(DomainError::invalid(
                    "area",
                    "a drawn area is a GeoJSON Polygon or MultiPolygon",
                ));
            }
        }
        Ok(())
    }
}

/// A patrol route (巡查路线) of a grid: planned once, walked again and again; each patrol log
/// names the route it followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolRoute {
    pub name: String,
    /// The path, a GeoJSON LineString (WGS-84).
    pub path: serde_json::Value,
    /// How many times a week it is to be walked.
    pub per_week: u32,
    /// The grid worker who walks it.
    #[serde(default)]
    pub worker: Option<i64>,
}

impl PatrolRoute {
    pub fn check(&self) -> Result<(), DomainError> {
        let n = self.name.trim().chars().count();
        if n == 0 || n > 60 {
            return Err(DomainError::invalid("name", "name the route in 1 to 60 characters"));
        }
        check_line(&self.path, "path")?;
        if !(1..=21).contains(&self.per_week) {
            return Err(DomainError::invalid(
                "per_week",
                "a route is walked 1 to 21 times a week",
            ));
        }
        Ok(())
    }
}

/// Checks that `v` is a GeoJSON LineString of at least two valid positions (parsed as every
/// place is, by [`crate::renewal::works::Place`]).
pub fn check_line(v: &serde_json::Value, field: &'static str) -> Result<(), DomainError> {
    let why = "give a GeoJSON LineString of at least two [lng, lat] positions";
    let place = crate::renewal::works::Place::from_geojson(&v.to_string()).map_err(|e| match e {
        DomainError::Invalid { message, .. } => DomainError::invalid(field, format!("{message}; {why}")),
    })?;
    match place.geometry() {
        geo::Geometry::LineString(l) if l.0.len() >= 2 => Ok(()),
        _ => Err(DomainError::invalid(field, why)),
    }
}

/// A resource of the resource list (资源清单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub title: String,
    pub kind: ResourceKind,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// The member organisation or person offering it.
    #[serde(default)]
    pub organisation: Option<i64>,
    #[serde(default)]
    pub person: Option<i64>,
    pub lng: f64,
    pub lat: f64,
    pub reach_m: f64,
    pub capacity: i64,
    #[serde(default)]
    pub windows: Vec<Window>,
}

impl Resource {
    pub fn check(&self) -> Result<(), DomainError> {
        if self.title.trim().is_empty() {
            return Err(DomainError::invalid("title", "a resource needs a title"));
        }
        if self.organisation.is_none() && self.person.is_none() {
            return Err(DomainError::invalid(
                "organisation",
                "say who offers the resource: an organisation or a person",
            ));
        }
        crate::spatial::check_lng_lat(self.lng, self.lat)?;
        if !(1.0..=MAX_REACH_M).contains(&self.reach_m) {
            return Err(DomainError::invalid(
                "reach_m",
                format!("give 1 to {MAX_REACH_M} metres"),
            ));
        }
        if self.capacity <= 0 {
            return Err(DomainError::invalid("capacity", "a resource has a positive capacity"));
        }
        Ok(())
    }
}

/// What a resource's record holds besides its offer: derived from its projects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub used: i64,
    pub completed: u32,
    pub failed: u32,
}

/// A project of the project list (项目清单): a need answered with a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub title: String,
    pub need: i64,
    pub resource: i64,
    /// Capacity of the resource it takes.
    pub quantity: i64,
    /// The proposal's reason when it was confirmed.
    pub reason: String,
    /// The same reason in Chinese (absent in projects confirmed before it was kept).
    #[serde(default)]
    pub reason_zh: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    /// People who took part (they earn points on completion).
    #[serde(default)]
    pub participants: Vec<i64>,
}

/// The columns of the needs list's file (import and export).
pub const NEED_COLUMNS: &[&str] = &[
    "category", "text", "lng", "lat", "urgency", "source", "quantity", "group", "ref",
];
/// The columns of the resource list's file (import and export).
pub const RESOURCE_COLUMNS: &[&str] = &[
    "title",
    "kind",
    "categories",
    "organisation",
    "person",
    "lng",
    "lat",
    "reach_m",
    "capacity",
    "windows",
    "ref",
];

/// The natural key of an imported need (a stored record's body, or a file row's): its source id
/// (`ref`, the id the need has where it came from) when it has one, else its content: category,
/// text (white space and case aside) and place (to about a metre). A re-import finds the stored
/// need by this key and updates it or leaves it alone instead of adding it twice.
pub fn need_key(body: &serde_json::Value) -> String {
    record_key(body, "category", "text")
}

/// The natural key of an imported resource: its `ref` when it has one, else its kind, title
/// (white space and case aside) and place.
pub fn resource_key(body: &serde_json::Value) -> String {
    record_key(body, "kind", "title")
}

fn record_key(body: &serde_json::Value, class: &str, text: &str) -> String {
    let s = |c: &str| body[c].as_str().unwrap_or("").trim().to_owned();
    let reference = s("ref");
    if !reference.is_empty() {
        return format!("ref:{reference}");
    }
    let place = match (body["lng"].as_f64(), body["lat"].as_f64()) {
        (Some(lng), Some(lat)) => crate::import::place(lng, lat),
        _ => String::new(),
    };
    format!("{}|{}|{place}", s(class), crate::import::normalise(&s(text)))
}

fn parse_enum<T: FromStr<Err = DomainError>>(row: &Row, column: &str) -> Result<T, LineError> {
    let v = row.required(column)?;
    v.parse().map_err(|e: DomainError| row.error(column, e.to_string()))
}

fn parse_num<T: FromStr>(row: &Row, column: &str, what: &str) -> Result<Option<T>, LineError> {
    row.parse_opt(column, what, |s| s.parse().ok())
}

fn checked<T>(row: &Row, v: T, check: impl Fn(&T) -> Result<(), DomainError>) -> Result<T, LineError> {
    check(&v).map_err(|e| match e {
        DomainError::Invalid { field, message } => row.error(&field, message),
    })?;
    Ok(v)
}

/// Needs from a file (`category, text, lng, lat, urgency, source, quantity, group`): every
/// wrong line is reported, and none is taken if one is wrong.
pub fn parse_needs(t: &Table, raised_by: Option<i64>) -> Result<Vec<Need>, Vec<LineError>> {
    t.require_columns(&["category", "text", "lng", "lat"])
        .map_err(|e| vec![e])?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in &t.rows {
        let need = (|| {
            let n = Need {
                category: parse_enum(row, "category")?,
                text: row.required("text")?.to_owned(),
                lng: parse_num(row, "lng", "a longitude")?.ok_or_else(|| row.error("lng", "is empty"))?,
                lat: parse_num(row, "lat", "a latitude")?.ok_or_else(|| row.error("lat", "is empty"))?,
                area: None,
                urgency: match row.get("urgency") {
                    Some(_) => parse_enum(row, "urgency")?,
                    None => Urgency::Normal,
                },
                source: match row.get("source") {
                    Some(_) => parse_enum(row, "source")?,
                    None => NeedSource::Meeting,
                },
                raised_by,
                household: None,
                group: row.get("group").map(str::to_owned),
                quantity: parse_num(row, "quantity", "a whole number")?.unwrap_or(1),
                evidence: Vec::new(),
            };
            checked(row, n, Need::check)
        })();
        match need {
            Ok(n) => out.push(n),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Resources from a file (see [`RESOURCE_COLUMNS`]; categories separated by `;`, windows as
/// `FROM..TO;FROM..TO`): all or nothing.
pub fn parse_resources(t: &Table) -> Result<Vec<Resource>, Vec<LineError>> {
    t.require_columns(&["title", "kind", "lng", "lat", "capacity"])
        .map_err(|e| vec![e])?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in &t.rows {
        let res = (|| {
            let categories = row
                .get("categories")
                .unwrap_or("")
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    c.parse::<Category>()
                        .map_err(|e| row.error("categories", e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let r = Resource {
                title: row.required("title")?.to_owned(),
                kind: parse_enum(row, "kind")?,
                categories,
                organisation: parse_num(row, "organisation", "an organisation id")?,
                person: parse_num(row, "person", "a person id")?,
                lng: parse_num(row, "lng", "a longitude")?.ok_or_else(|| row.error("lng", "is empty"))?,
                lat: parse_num(row, "lat", "a latitude")?.ok_or_else(|| row.error("lat", "is empty"))?,
                reach_m: parse_num(row, "reach_m", "metres")?.unwrap_or(DEFAULT_REACH_M),
                capacity: parse_num(row, "capacity", "a whole number")?.unwrap_or(0),
                windows: Window::parse_list(row.get("windows").unwrap_or(""))
                    .map_err(|e| row.error("windows", e.to_string()))?,
            };
            checked(row, r, Resource::check)
        })();
        match res {
            Ok(r) => out.push(r),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn need() -> NeedFacts {
        NeedFacts {
            id: 1,
            category: Category::ElderlyCare,
            lng: 104.06,
            lat: 30.66,
            urgency: Urgency::Normal,
            quantity: 2,
        }
    }

    fn res(id: i64, dlat: f64) -> ResourceFacts {
        ResourceFacts {
            id,
            kind: ResourceKind::Services,
            categories: vec![Category::ElderlyCare],
            lng: 104.06,
            lat: 30.66 + dlat,
            reach_m: 2000.0,
            capacity: 10,
            used: 0,
            windows: vec![],
            completed: 0,
            failed: 0,
        }
    }

    #[test]
    fn nearer_ranks_first_and_reason_says_why() {
        let rs = [res(1, 0.01), res(2, 0.001)];
        let p = propose(&need(), &rs, day("2026-11-24"), 5);
        assert_eq!(p.iter().map(|p| p.resource).collect::<Vec<_>>(), [2, 1]);
        assert!(p[0].reason().contains("serves elderly_care"), "{}", p[0].reason());
        assert!(p[0].reason().contains("10 of 10 left"), "{}", p[0].reason());
    }

    #[test]
    fn exhausted_capacity_is_not_proposed_even_when_nearest() {
        let mut near = res(1, 0.0);
        near.used = 9; // 1 left, 2 needed
        let far = res(2, 0.005);
        let p = propose(&need(), &[near.clone(), far], day("2026-11-24"), 5);
        assert_eq!(p.iter().map(|p| p.resource).collect::<Vec<_>>(), [2]);
        assert_eq!(
            assess(&need(), &near, day("2026-11-24")).unwrap_err(),
            Misfit::CapacityExhausted {
                remaining: 1,
                needed: 2
            }
        );
    }

    #[test]
    fn unavailable_on_the_date_is_not_proposed() {
        let mut r = res(1, 0.0);
        r.windows = Window::parse_list("2026-12-01..2026-12-31").unwrap();
        assert_eq!(
            assess(&need(), &r, day("2026-11-24")).unwrap_err(),
            Misfit::Unavailable { on: day("2026-11-24") }
        );
        assert!(assess(&need(), &r, day("2026-12-05")).is_ok());
        let p = propose(&need(), &[r, res(2, 0.01)], day("2026-11-24"), 5);
        assert_eq!(p.iter().map(|p| p.resource).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn too_far_is_not_proposed() {
        let r = res(1, 0.05); // ≈ 5.5 km, reach 2 km
        assert!(matches!(
            assess(&need(), &r, day("2026-11-24")),
            Err(Misfit::TooFar { .. })
        ));
        assert!(propose(&need(), &[r], day("2026-11-24"), 5).is_empty());
    }

    #[test]
    fn category_then_reliability_decide() {
        let mut wrong = res(1, 0.0);
        wrong.categories = vec![Category::Legal];
        let mut funds = res(2, 0.0);
        funds.kind = ResourceKind::Funds;
        funds.categories = vec![];
        let exact = res(3, 0.0);
        let mut reliable = res(4, 0.0);
        reliable.completed = 8;
        let p = propose(&need(), &[wrong, funds, exact, reliable], day("2026-11-24"), 5);
        assert_eq!(p.iter().map(|p| p.resource).collect::<Vec<_>>(), [4, 3, 2]);
        assert_eq!(p[2].category_fit, 0.5);
    }

    #[test]
    fn the_index_finds_what_the_plain_search_finds() {
        let mut rs = Vec::new();
        for i in 0..200 {
            let mut r = res(i, (i as f64 - 100.0) * 0.0003);
            r.lng += ((i * 7) % 13) as f64 * 0.001;
            r.reach_m = 500.0 + (i % 5) as f64 * 800.0;
            if i % 3 == 0 {
                r.categories = vec![Category::Repair];
            }
            rs.push(r);
        }
        let needs: Vec<NeedFacts> = (0..20)
            .map(|i| NeedFacts {
                id: i,
                lat: 30.66 + i as f64 * 0.001,
                ..need()
            })
            .collect();
        let all = propose_all(&needs, &rs, day("2026-11-24"), 10);
        for (n, got) in needs.iter().zip(all) {
            assert_eq!(got, propose(n, &rs, day("2026-11-24"), 10));
        }
    }

    #[test]
    fn route_lines_are_checked_as_places() {
        let line = serde_json::json!({"type": "LineString", "coordinates": [[104.06, 30.66], [104.07, 30.67]]});
        assert!(check_line(&line, "path").is_ok());
        let short = serde_json::json!({"type": "LineString", "coordinates": [[104.06, 30.66]]});
        assert!(check_line(&short, "path").is_err());
        let point = serde_json::json!({"type": "Point", "coordinates": [104.06, 30.66]});
        assert!(check_line(&point, "path")
            .unwrap_err()
            .to_string()
            .starts_with("path: give a GeoJSON LineString"));
        let far = serde_json::json!({"type": "LineString", "coordinates": [[104.06, 30.66], [200.0, 30.67]]});
        let e = check_line(&far, "path").unwrap_err().to_string();
        assert!(e.starts_with("path: ") && e.contains("LineString"), "{e}");
        assert!(check_line(&serde_json::json!("nonsense"), "path").is_err());
    }

    #[test]
    fn windows_parse_and_refuse() {
        let w = Window::parse_list("2026-01-01..2026-01-31; 2026-03-01..2026-03-02").unwrap();
        assert_eq!(Window::format_list(&w), "2026-01-01..2026-01-31;2026-03-01..2026-03-02");
        assert!(Window::parse_list("2026-02-01..2026-01-01").is_err());
        assert!(Window::parse_list("soon").unwrap_err().to_string().contains("FROM..TO"));
    }

    #[test]
    fn ledger_explains_and_never_goes_below_zero() {
        let rules = parse_rules(DEFAULT_RULES_CSV).unwrap();
        assert_eq!(award(&rules, "volunteer_hour", 3).unwrap(), 15);
        assert!(award(&rules, "sleeping", 1)
            .unwrap_err()
            .to_string()
            .contains("volunteer_hour"));
        let e = |id, delta, action: &str| LedgerEntry {
            id,
            person: 9,
            delta,
            action: action.into(),
            reference: String::new(),
            at_ms: id,
        };
        let lines = explain(&[
            e(1, 15, "volunteer_hour"),
            e(2, 2, "activity_attended"),
            e(3, -10, "redeem"),
        ]);
        assert_eq!(lines.iter().map(|l| l.balance).collect::<Vec<_>>(), [15, 17, 7]);
        assert!(check_redeem(7, 7).is_ok());
        assert!(check_redeem(7, 8).unwrap_err().to_string().contains("below zero"));
        assert!(check_redeem(7, 0).is_err());
    }

    #[test]
    fn an_alliance_has_one_core() {
        let m = |organisation, role| AllianceMember {
            organisation,
            role,
            commitment: String::new(),
        };
        let mut a = Alliance {
            name: "一核多元".into(),
            members: vec![m(1, AllianceRole::Participant)],
        };
        assert!(a.check().unwrap_err().to_string().contains("exactly one lead"));
        a.members.push(m(2, AllianceRole::Lead));
        assert!(a.check().is_ok());
        a.members.push(m(2, AllianceRole::Participant));
        assert!(a.check().is_err());
    }

    #[test]
    fn lists_import_all_or_nothing_with_lines() {
        let t = Table::from_csv(
            "category,text,lng,lat,urgency\nelderly_care,助餐,104.06,30.66,high\nmeals,x,104.06,30.66,\nrepair,,104.0,30.6,\n",
        )
        .unwrap();
        let e = parse_needs(&t, None).unwrap_err();
        assert_eq!(e.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
        assert!(e[0].to_string().contains("column category"), "{}", e[0]);
        let t = Table::from_csv("title,kind,categories,organisation,lng,lat,capacity,windows\n活动室,space,culture;elderly_care,3,104.06,30.66,20,2026-11-01..2026-12-31\n").unwrap();
        let r = parse_resources(&t).unwrap();
        assert_eq!(r[0].categories, [Category::Culture, Category::ElderlyCare]);
        assert_eq!(r[0].reach_m, DEFAULT_REACH_M);
        let t = Table::from_csv("title,kind,lng,lat,capacity\n钱,funds,104.06,30.66,100\n").unwrap();
        assert!(parse_resources(&t).unwrap_err()[0].to_string().contains("who offers"));
    }

    #[test]
    fn rules_are_checked() {
        assert!(parse_rules("action,points\nx,0\n").is_err());
        assert!(parse_rules("action,points\nx,1\nx,2\n").is_err());
        assert!(parse_rules("action,points\nX y,1\n").is_err());
    }

    #[test]
    fn missed_report_rate_is_resident_over_registered() {
        assert_eq!(missed_report_rate(3, 12), Some(0.25));
        assert_eq!(missed_report_rate(0, 0), None);
    }
}
