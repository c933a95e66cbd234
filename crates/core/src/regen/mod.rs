//! Flexible coordination in urban regeneration (城市更新中的柔性协调): a regeneration project must
//! bring every property-rights holder — its coordination objects (协调对象) — to agreement.
//!
//! This module is the pure rule set:
//! - holders of a [`HolderKind`] with a degree of [`Organisation`] derived from kind and size
//!   ([`derive_organisation`], overridable with a reason), holdings of premises units, and
//!   sticking points (卡点) from a configurable [`Catalogue`] with a severity;
//! - the three coordination [`Scenario`]s (I formal resources lead, II informal lead, III both),
//!   chosen by a [`ScenarioRule`] that is data, every classification with its reason;
//! - governance resources (治理资源, [`Resource`]), formal or informal, with capacity and scarcity;
//!   matching and the project-wide plan live in [`matching`];
//! - contacts (走访/协调记录) with a pressure guard ([`PressureRule`]) and decisions (签约/表决:
//!   agree / oppose / abstain, withdrawal until a deadline) folded into positions, which feed the
//!   one decision module ([`crate::decision`]) for the consent thresholds;
//! - imports of holders and resources from CSV/XLSX ([`import`]).

pub mod import;
pub mod matching;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::decision::{self, Electorate, Position, Sentence};
use crate::premises::Area;
use crate::DomainError;

fn sentence(zh: impl Into<String>, en: impl Into<String>) -> Sentence {
    Sentence {
        zh: zh.into(),
        en: en.into(),
    }
}

crate::org::named_enum! {
    /// The kind of a rights holder (权利主体类型).
    HolderKind {
        /// 国家机关或国有单位 state organ or state-owned unit.
        StateUnit => "state_unit", "国有单位", "state unit";
        /// 企业 enterprise.
        Enterprise => "enterprise", "企业", "enterprise";
        /// 集体经济组织 collective economic organisation.
        Collective => "collective", "集体经济组织", "collective";
        /// 居民户 household.
        Household => "household", "居民户", "household";
        /// 混合产权 mixed ownership.
        Mixed => "mixed", "混合产权", "mixed";
    }
}

crate::org::named_enum! {
    /// Degree of organisation (组织化程度): how far a holder speaks with one voice.
    Organisation {
        High => "high", "高", "high";
        Medium => "medium", "中", "medium";
        Low => "low", "低", "low";
    }
}

crate::org::named_enum! {
    /// Formal (正式) or informal (非正式) governance resource.
    ResourceKind {
        /// 政策条款、补偿标准、审批、法律程序、公共空间置换、安置房源 …
        Formal => "formal", "正式资源", "formal";
        /// 关系与调解人、乡贤、党员与老邻居、社会组织、志愿者、习俗与活动 …
        Informal => "informal", "非正式资源", "informal";
    }
}

crate::org::named_enum! {
    /// A holder's stance as seen in a contact (态度), ordered from opposed to agreed.
    Stance {
        Opposed => "opposed", "反对", "opposed";
        Hesitant => "hesitant", "犹豫", "hesitant";
        Neutral => "neutral", "中立", "neutral";
        Leaning => "leaning", "倾向同意", "leaning";
        Agreed => "agreed", "同意", "agreed";
    }
}

crate::org::named_enum! {
    /// A recorded decision (表决/签约意见).
    Choice {
        Agree => "agree", "同意", "agree";
        Oppose => "oppose", "反对", "oppose";
        Abstain => "abstain", "弃权", "abstain";
    }
}

/// The three coordination scenarios (协调情境).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scenario {
    /// I: formal resources lead, informal ones help (正式资源主导、非正式资源辅助).
    I,
    /// II: informal resources lead, formal ones help (非正式资源主导、正式资源辅助).
    II,
    /// III: both together (正式与非正式资源并用).
    III,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::I, Scenario::II, Scenario::III];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::I => "I",
            Scenario::II => "II",
            Scenario::III => "III",
        }
    }

    /// Whether resources of `kind` lead in this scenario (both lead in III).
    pub fn led_by(self, kind: ResourceKind) -> bool {
        matches!(
            (self, kind),
            (Scenario::I, ResourceKind::Formal) | (Scenario::II, ResourceKind::Informal) | (Scenario::III, _)
        )
    }

    pub fn describe(self) -> Sentence {
        match self {
            Scenario::I => sentence(
                "情境I：正式资源主导，非正式资源辅助",
                "Scenario I: formal resources lead, informal ones help",
            ),
            Scenario::II => sentence(
                "情境II：非正式资源主导，正式资源辅助",
                "Scenario II: informal resources lead, formal ones help",
            ),
            Scenario::III => sentence(
                "情境III：正式与非正式资源并用",
                "Scenario III: formal and informal resources together",
            ),
        }
    }
}

impl FromStr for Scenario {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        match s.trim().to_uppercase().as_str() {
            "I" | "1" => Ok(Scenario::I),
            "II" | "2" => Ok(Scenario::II),
            "III" | "3" => Ok(Scenario::III),
            _ => Err(DomainError::invalid(
                "scenario",
                format!("'{s}' is not a scenario: use I, II or III"),
            )),
        }
    }
}

/// One kind of sticking point in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickingKind {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// The configurable catalogue of sticking points (卡点目录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue(pub Vec<StickingKind>);

impl Default for Catalogue {
    /// Compensation, relocation place, business continuity, heritage and attachment, disputes among
    /// heirs, title defects, distrust, elderly or special needs.
    fn default() -> Self {
        let k = |code: &str, zh: &str, en: &str| StickingKind {
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
        };
        Catalogue(vec![
            k("compensation", "补偿标准", "compensation"),
            k("relocation", "安置地点", "relocation place"),
            k("business_continuity", "经营延续", "business continuity"),
            k("heritage", "历史记忆与情感", "heritage and attachment"),
            k("heirs_dispute", "继承人纠纷", "disputes among heirs"),
            k("title_defect", "产权瑕疵", "title defects"),
            k("distrust", "不信任", "distrust"),
            k("special_needs", "老人或特殊需要", "elderly or special needs"),
        ])
    }
}

impl Catalogue {
    pub fn get(&self, code: &str) -> Option<&StickingKind> {
        self.0.iter().find(|k| k.code == code)
    }

    /// The catalogue's codes must be unique and non-empty.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut seen = std::collections::HashSet::new();
        for k in &self.0 {
            if k.code.trim().is_empty() || !seen.insert(k.code.as_str()) {
                return Err(DomainError::invalid(
                    "catalogue",
                    format!(
                        "sticking-point code '{}' is empty or repeated; give each a unique code",
                        k.code
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A holder's sticking point with its severity (1 mild … 3 severe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sticking {
    pub code: String,
    pub severity: u8,
}

/// A holding: a premises unit (or part of one) with its floor area and share of the common parts
/// (in millionths, 份额).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub unit: String,
    pub area: Area,
    pub common_share_ppm: u32,
}

/// An override of a derived value by staff, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override<T> {
    pub value: T,
    pub reason: String,
}

/// A rights holder (权利人), a coordination object of the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub code: String,
    pub name: String,
    pub kind: HolderKind,
    /// Size: people of the household, staff of the unit, members of the collective, co-owners.
    pub members: u32,
    /// Whether the holding is contested (disputed title, heirs disagreeing …).
    pub contested: bool,
    pub organisation_override: Option<Override<Organisation>>,
    pub scenario_override: Option<Override<Scenario>>,
    pub representatives: Vec<String>,
    pub sticking: Vec<Sticking>,
    pub holdings: Vec<Holding>,
}

impl Holder {
    /// Total floor area of the holdings.
    pub fn area(&self) -> Area {
        self.holdings.iter().map(|h| h.area).sum()
    }

    pub fn common_share_ppm(&self) -> u64 {
        self.holdings.iter().map(|h| h.common_share_ppm as u64).sum()
    }

    /// The degree of organisation with its reason (the override when staff set one).
    pub fn organisation(&self) -> (Organisation, Sentence) {
        match &self.organisation_override {
            Some(o) => (
                o.value,
                sentence(
                    format!("工作人员调整：{}", o.reason),
                    format!("set by staff: {}", o.reason),
                ),
            ),
            None => derive_organisation(self.kind, self.members),
        }
    }

    pub fn severity(&self) -> u32 {
        self.sticking.iter().map(|s| s.severity as u32).sum()
    }
}

/// Degree of organisation from kind and size: state units are highly organised; enterprises too,
/// except very small ones (under 5 staff: medium); a collective speaks through its committee
/// (high up to 300 members, medium above); mixed holdings are medium; households are low, a
/// household of many co-owners (8 or more) no better.
pub fn derive_organisation(kind: HolderKind, members: u32) -> (Organisation, Sentence) {
    use HolderKind::*;
    use Organisation::*;
    let (level, zh, en) = match kind {
        StateUnit => (
            High,
            "国有单位：科层组织，一个决策主体".to_string(),
            "state unit: one hierarchy decides".to_string(),
        ),
        Enterprise if members < 5 => (
            Medium,
            format!("企业，仅{members}人：组织化程度中等"),
            format!("enterprise of only {members} staff: medium"),
        ),
        Enterprise => (
            High,
            "企业：法人决策".into(),
            "enterprise: decides as a legal person".into(),
        ),
        Collective if members > 300 => (
            Medium,
            format!("集体经济组织，成员{members}人（>300）：中等"),
            format!("collective of {members} members (> 300): medium"),
        ),
        Collective => (
            High,
            "集体经济组织：经成员大会或代表决策".into(),
            "collective: decides through its assembly or representatives".into(),
        ),
        Mixed => (
            Medium,
            "混合产权：多方主体，需协商".into(),
            "mixed ownership: several parties must agree".into(),
        ),
        Household => (
            Low,
            "居民户：分散的个体".into(),
            "household: a scattered individual owner".into(),
        ),
    };
    (level, sentence(zh, en))
}

/// One clause of the scenario rule: all given tests must hold; empty lists match anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioClause {
    #[serde(default)]
    pub kinds: Vec<HolderKind>,
    #[serde(default)]
    pub organisation: Vec<Organisation>,
    #[serde(default)]
    pub contested: Option<bool>,
    pub scenario: Scenario,
    pub reason_zh: String,
    pub reason_en: String,
}

/// The scenario rule (configuration): the first matching clause decides, else `default`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioRule {
    pub clauses: Vec<ScenarioClause>,
    pub default: Scenario,
}

impl Default for ScenarioRule {
    /// Contested holdings and mixed ownership → III; highly organised → I; scattered (low) → II;
    /// otherwise (medium) → III.
    fn default() -> Self {
        let c =
            |kinds: Vec<HolderKind>, org: Vec<Organisation>, contested, scenario, zh: &str, en: &str| ScenarioClause {
                kinds,
                organisation: org,
                contested,
                scenario,
                reason_zh: zh.into(),
                reason_en: en.into(),
            };
        ScenarioRule {
            clauses: vec![
                c(
                    vec![],
                    vec![],
                    Some(true),
                    Scenario::III,
                    "产权有争议，正式与非正式资源需并用",
                    "the holding is contested: formal and informal resources together",
                ),
                c(
                    vec![HolderKind::Mixed],
                    vec![],
                    None,
                    Scenario::III,
                    "混合产权，多方主体并存",
                    "mixed ownership: several parties",
                ),
                c(
                    vec![],
                    vec![Organisation::High],
                    None,
                    Scenario::I,
                    "组织化程度高，以政策、标准、程序等正式资源为主",
                    "highly organised: formal resources (policy, standards, procedure) lead",
                ),
                c(
                    vec![],
                    vec![Organisation::Low],
                    None,
                    Scenario::II,
                    "分散的个体，以关系、乡贤、邻里等非正式资源为主",
                    "scattered individuals: informal resources (relationships, elders, neighbours) lead",
                ),
            ],
            default: Scenario::III,
        }
    }
}

/// A holder's scenario and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub scenario: Scenario,
    pub organisation: Organisation,
    pub organisation_reason: Sentence,
    pub reason: Sentence,
    /// Set by staff (the derived scenario is in `derived`).
    pub overridden: bool,
    pub derived: Scenario,
}

impl ScenarioRule {
    pub fn classify(&self, h: &Holder) -> Classification {
        let (organisation, organisation_reason) = h.organisation();
        let found = self.clauses.iter().find(|c| {
            (c.kinds.is_empty() || c.kinds.contains(&h.kind))
                && (c.organisation.is_empty() || c.organisation.contains(&organisation))
                && c.contested.is_none_or(|x| x == h.contested)
        });
        let (derived, reason) = match found {
            Some(c) => (c.scenario, sentence(c.reason_zh.clone(), c.reason_en.clone())),
            None => (
                self.default,
                sentence("无规则匹配，取默认情境", "no clause matched: the default scenario"),
            ),
        };
        match &h.scenario_override {
            Some(o) => Classification {
                scenario: o.value,
                organisation,
                organisation_reason,
                reason: sentence(
                    format!(
                        "工作人员改定为情境{}：{}（规则结果：情境{}，{}）",
                        o.value.as_str(),
                        o.reason,
                        derived.as_str(),
                        reason.zh
                    ),
                    format!(
                        "set to scenario {} by staff: {} (the rule gave {}: {})",
                        o.value.as_str(),
                        o.reason,
                        derived.as_str(),
                        reason.en
                    ),
                ),
                overridden: true,
                derived,
            },
            None => Classification {
                scenario: derived,
                organisation,
                organisation_reason,
                reason,
                overridden: false,
                derived,
            },
        }
    }
}

/// A governance resource (治理资源).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub code: String,
    pub name: String,
    pub kind: ResourceKind,
    /// What it is: policy article, subsidy, approval, legal procedure, space swap, housing option,
    /// mediator, respected elder (乡贤), party member, social organisation, volunteers, custom …
    pub category: String,
    /// Who holds or provides it.
    pub holder: String,
    /// How many times it can be used (`None`: no limit).
    pub capacity: Option<u32>,
    /// Cost per use in yuan.
    pub cost: i64,
    /// Sticking-point codes it addresses.
    pub addresses: Vec<String>,
    pub scarce: bool,
}

/// Pressure guard (防止施压): how often one holder may be contacted and at which hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PressureRule {
    /// At most this many contacts with one holder …
    pub max_contacts: u32,
    /// … within this many days.
    pub window_days: u32,
    /// Reasonable hours: from `earliest_hour` (inclusive) to `latest_hour` (exclusive).
    pub earliest_hour: u32,
    pub latest_hour: u32,
}

impl Default for PressureRule {
    fn default() -> Self {
        PressureRule {
            max_contacts: 3,
            window_days: 7,
            earliest_hour: 8,
            latest_hour: 20,
        }
    }
}

impl PressureRule {
    /// Warnings for a new contact at `at` with a holder already contacted at `previous`.
    pub fn warnings(&self, previous: &[NaiveDateTime], at: NaiveDateTime) -> Vec<Sentence> {
        let mut out = Vec::new();
        let from = at - chrono::Duration::days(self.window_days as i64);
        let recent = previous.iter().filter(|p| **p > from && **p <= at).count() as u32 + 1;
        if recent > self.max_contacts {
            out.push(sentence(
                format!(
                    "{}天内已联系该权利人{}次，超过上限{}次：请避免施压",
                    self.window_days, recent, self.max_contacts
                ),
                format!(
                    "{recent} contacts with this holder within {} days, more than the limit of {}: avoid pressure",
                    self.window_days, self.max_contacts
                ),
            ));
        }
        let hour = at.hour();
        if hour < self.earliest_hour || hour >= self.latest_hour {
            out.push(sentence(
                format!(
                    "联系时间{}不在合理时段（{}:00–{}:00）",
                    at.format("%H:%M"),
                    self.earliest_hour,
                    self.latest_hour
                ),
                format!(
                    "contact at {} is outside reasonable hours ({}:00–{}:00)",
                    at.format("%H:%M"),
                    self.earliest_hour,
                    self.latest_hour
                ),
            ));
        }
        out
    }
}

/// A recorded contact (协调记录): append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub holder: String,
    /// Local date and time of the contact.
    pub at: NaiveDateTime,
    /// Who made the contact.
    pub staff: String,
    pub resources: Vec<String>,
    pub before: Stance,
    pub after: Stance,
    pub next_step: String,
}

impl Contact {
    /// The contact moved the holder towards agreement.
    pub fn improved(&self) -> bool {
        self.after > self.before
    }
}

/// A recorded decision or its withdrawal (`choice: None`): an event, never edited in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub holder: String,
    pub choice: Option<Choice>,
    pub date: NaiveDate,
    pub evidence: String,
    pub recorder: String,
}

/// The current decision of every holder: the last record of each, a withdrawal clearing it.
pub fn positions(records: &[DecisionRecord]) -> BTreeMap<String, Choice> {
    let mut out = BTreeMap::new();
    for r in records {
        match r.choice {
            Some(c) => {
                out.insert(r.holder.clone(), c);
            }
            None => {
                out.remove(&r.holder);
            }
        }
    }
    out
}

/// Whether a new record may be appended: a withdrawal needs a standing decision, and after the
/// withdrawal deadline a standing decision can be neither withdrawn nor changed.
pub fn check_decision(
    records: &[DecisionRecord],
    new: &DecisionRecord,
    deadline: Option<NaiveDate>,
) -> Result<(), DomainError> {
    let current = positions(records).get(&new.holder).copied();
    if new.evidence.trim().is_empty() && new.choice.is_some() {
        return Err(DomainError::invalid(
            "evidence",
            "a decision needs its evidence (signed form number, meeting minutes …)",
        ));
    }
    match (current, new.choice) {
        (None, None) => Err(DomainError::invalid(
            "choice",
            format!("holder {} has no decision to withdraw", new.holder),
        )),
        (Some(c), _) if deadline.is_some_and(|d| new.date > d) => Err(DomainError::invalid(
            "date",
            format!(
                "holder {}'s decision ({}) can no longer be withdrawn or changed after the deadline {}",
                new.holder,
                c.as_str(),
                deadline.map(|d| d.to_string()).unwrap_or_default()
            ),
        )),
        (Some(c), Some(n)) if c == n => Err(DomainError::invalid(
            "choice",
            format!("holder {} has already decided '{}'", new.holder, c.as_str()),
        )),
        _ => Ok(()),
    }
}

/// The electorate of the project for the decision module: one head per holder, its area (premises
/// hundredths of m² → the decision module's 1/10,000 m²), its share of the common parts, and its
/// current decision (agree / oppose / abstain, or not yet).
pub fn electorate(holders: &[Holder], positions: &BTreeMap<String, Choice>) -> Result<Electorate, DomainError> {
    let list = holders
        .iter()
        .map(|h| {
            let area = decision::Area::from_units(h.area().hundredths().max(0) as u64 * 100);
            let position = match positions.get(&h.code) {
                Some(Choice::Agree) => Position::Agree,
                Some(Choice::Oppose) => Position::Oppose,
                Some(Choice::Abstain) => Position::Abstain,
                None => Position::NotYet,
            };
            decision::Holder::new(h.code.clone(), area)
                .with_share(h.common_share_ppm())
                .with_position(position)
        })
        .collect();
    Electorate::new(list)
}

/// The project's configuration (data): its sticking-point catalogue, scenario rule, pressure
/// guard, the consent rule sets it tracks (built-in ids or custom sets) and the withdrawal deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectConfig {
    #[serde(default)]
    pub catalogue: Catalogue,
    #[serde(default)]
    pub scenario_rule: ScenarioRule,
    #[serde(default)]
    pub pressure: PressureRule,
    #[serde(default = "default_rules")]
    pub rules: Vec<decision::RuleSet>,
    #[serde(default)]
    pub withdrawal_deadline: Option<NaiveDate>,
}

fn default_rules() -> Vec<decision::RuleSet> {
    decision::RuleSet::builtin()
}

impl Default for ProjectConfig {
    fn default() -> Self {
        ProjectConfig {
            catalogue: Catalogue::default(),
            scenario_rule: ScenarioRule::default(),
            pressure: PressureRule::default(),
            rules: default_rules(),
            withdrawal_deadline: None,
        }
    }
}

impl ProjectConfig {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.catalogue.validate()?;
        for r in &self.rules {
            r.validate()?;
        }
        if self.pressure.max_contacts == 0 || self.pressure.window_days == 0 {
            return Err(DomainError::invalid(
                "pressure",
                "max_contacts and window_days must be at least 1",
            ));
        }
        if self.pressure.earliest_hour >= self.pressure.latest_hour || self.pressure.latest_hour > 24 {
            return Err(DomainError::invalid(
                "pressure",
                "reasonable hours need earliest_hour < latest_hour ≤ 24",
            ));
        }
        Ok(())
    }
}

/// A regeneration project (城市更新项目).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub code: String,
    pub name: String,
    /// The community it lies in (its premises are that community's buildings).
    pub community: String,
    pub config: ProjectConfig,
}

impl Project {
    pub fn new(code: &str, name: &str, community: &str, config: ProjectConfig) -> Result<Project, DomainError> {
        let code = code.trim();
        if code.is_empty()
            || code.len() > 40
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::invalid(
                "code",
                format!("'{code}' is not a project code: 1 to 40 letters, digits, '-' or '_'"),
            ));
        }
        if name.trim().is_empty() {
            return Err(DomainError::invalid("name", "a project needs a name"));
        }
        config.validate()?;
        Ok(Project {
            code: code.into(),
            name: name.trim().into(),
            community: community.trim().into(),
            config,
        })
    }
}
