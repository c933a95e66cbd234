//! Matching holders with governance resources (资源匹配), and the project-wide plan that spends
//! scarce resources where they unlock the most holders and area.
//!
//! A resource matches a holder when it addresses one of the holder's sticking points. Its score,
//! every part of which is given as a reason:
//! - coverage: 10 × the severity it covers;
//! - lead: +15 when its kind leads in the holder's scenario (formal in I, informal in II, both in III);
//! - past outcomes with similar holders (same kind): + up to 20 for the share of contacts that
//!   moved such holders towards agreement, − 5 when it was tried at least twice and never helped;
//! - scarcity: − 5 for a scarce resource (kept for where nothing else helps), and a resource whose
//!   capacity is used up is not offered at all (listed as exhausted).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::{sentence, Classification, Contact, Holder, HolderKind, Resource, Scenario};
use crate::decision::Sentence;
use crate::premises::Area;

/// What the ranking knows of the past: uses per resource and outcomes per (resource, holder kind).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub used: HashMap<String, u32>,
    /// (resource, kind) → (contacts, of which improved).
    pub outcomes: HashMap<(String, HolderKind), (u32, u32)>,
}

impl History {
    /// From the project's contacts; `kind_of` gives each contacted holder's kind.
    pub fn from_contacts<'a>(
        contacts: impl IntoIterator<Item = &'a Contact>,
        kind_of: impl Fn(&str) -> Option<HolderKind>,
    ) -> History {
        let mut h = History::default();
        for c in contacts {
            let kind = kind_of(&c.holder);
            for r in &c.resources {
                *h.used.entry(r.clone()).or_default() += 1;
                if let Some(k) = kind {
                    let e = h.outcomes.entry((r.clone(), k)).or_default();
                    e.0 += 1;
                    e.1 += c.improved() as u32;
                }
            }
        }
        h
    }

    pub fn remaining(&self, r: &Resource) -> Option<u32> {
        r.capacity
            .map(|c| c.saturating_sub(self.used.get(&r.code).copied().unwrap_or(0)))
    }
}

/// One resource offered to a holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub resource: String,
    pub name: String,
    pub kind: super::ResourceKind,
    pub score: i64,
    /// The holder's sticking points it addresses.
    pub covers: Vec<String>,
    pub lead: bool,
    pub scarce: bool,
    pub remaining: Option<u32>,
    pub reasons: Vec<Sentence>,
}

/// The resources for one holder, best first; resources used up are listed apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matches {
    pub holder: String,
    pub scenario: Scenario,
    pub ranked: Vec<Match>,
    pub exhausted: Vec<String>,
    /// Sticking points no resource addresses.
    pub uncovered: Vec<String>,
}

/// Rank the resources that address `holder`'s sticking points.
pub fn rank(holder: &Holder, class: &Classification, resources: &[Resource], history: &History) -> Matches {
    let mut ranked = Vec::new();
    let mut exhausted = Vec::new();
    let mut covered = BTreeSet::new();
    for r in resources {
        let covers: Vec<&super::Sticking> = holder
            .sticking
            .iter()
            .filter(|s| r.addresses.contains(&s.code))
            .collect();
        if covers.is_empty() {
            continue;
        }
        let remaining = history.remaining(r);
        if remaining == Some(0) {
            exhausted.push(r.code.clone());
            continue;
        }
        covered.extend(covers.iter().map(|s| s.code.clone()));
        let severity: i64 = covers.iter().map(|s| s.severity as i64).sum();
        let codes: Vec<String> = covers.iter().map(|s| s.code.clone()).collect();
        let mut score = 10 * severity;
        let mut reasons = vec![sentence(
            format!("针对卡点：{}（严重度合计{severity}）", codes.join("、")),
            format!("addresses {} (severity {severity})", codes.join(", ")),
        )];
        let lead = class.scenario.led_by(r.kind);
        if lead {
            score += 15;
            reasons.push(sentence(
                format!("情境{}中{}为主导", class.scenario.as_str(), r.kind.name_zh()),
                format!(
                    "{} resources lead in scenario {}",
                    r.kind.name_en(),
                    class.scenario.as_str()
                ),
            ));
        } else {
            reasons.push(sentence(
                format!("情境{}中{}为辅助", class.scenario.as_str(), r.kind.name_zh()),
                format!(
                    "{} resources help in scenario {}",
                    r.kind.name_en(),
                    class.scenario.as_str()
                ),
            ));
        }
        if let Some(&(tried, helped)) = history.outcomes.get(&(r.code.clone(), holder.kind)) {
            if tried > 0 {
                let bonus = (20 * helped as i64) / tried as i64;
                score += bonus;
                reasons.push(sentence(
                    format!(
                        "对同类权利人（{}）使用{tried}次，{helped}次态度好转",
                        holder.kind.name_zh()
                    ),
                    format!(
                        "used {tried} time(s) with similar holders ({}), {helped} moved towards agreement",
                        holder.kind.name_en()
                    ),
                ));
                if tried >= 2 && helped == 0 {
                    score -= 5;
                }
            }
        }
        if r.scarce {
            score -= 5;
            reasons.push(sentence(
                format!(
                    "稀缺资源，剩余{}",
                    remaining.map(|n| n.to_string()).unwrap_or("不限".into())
                ),
                format!(
                    "scarce, {} left",
                    remaining.map(|n| n.to_string()).unwrap_or("unlimited".into())
                ),
            ));
        } else if let Some(n) = remaining {
            reasons.push(sentence(format!("剩余容量{n}"), format!("{n} use(s) left")));
        }
        ranked.push(Match {
            resource: r.code.clone(),
            name: r.name.clone(),
            kind: r.kind,
            score,
            covers: codes,
            lead,
            scarce: r.scarce,
            remaining,
            reasons,
        });
    }
    ranked.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.resource.cmp(&b.resource)));
    let uncovered = holder
        .sticking
        .iter()
        .filter(|s| !covered.contains(&s.code))
        .map(|s| s.code.clone())
        .collect();
    Matches {
        holder: holder.code.clone(),
        scenario: class.scenario,
        ranked,
        exhausted,
        uncovered,
    }
}

/// One use of a scarce resource in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub resource: String,
    pub holder: String,
    pub covers: Vec<String>,
}

/// The project-wide plan for the scarce resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub allocations: Vec<Allocation>,
    /// Holders whose every sticking point is then addressed.
    pub unlocked: Vec<String>,
    pub unlocked_area: Area,
    /// Holders still blocked, with why.
    pub blocked: Vec<(String, Sentence)>,
    pub explanation: Sentence,
}

/// Spend the scarce resources' remaining capacity where they unlock the most holders and area.
///
/// Holders already agreed (`done`) need nothing. For every other holder, the sticking points that
/// the plentiful (non-scarce, not exhausted) resources cannot address are what scarce resources
/// must cover; a holder with none is unlocked without them. The others are served greedily: first
/// those needing the fewest scarce uses (more holders per use), then the largest area; each takes
/// for each of its remaining points the scarce resource with the most capacity left.
pub fn plan(holders: &[Holder], resources: &[Resource], history: &History, done: &BTreeSet<String>) -> Plan {
    let mut left: BTreeMap<&str, u32> = resources
        .iter()
        .filter(|r| r.scarce)
        .map(|r| (r.code.as_str(), history.remaining(r).unwrap_or(u32::MAX)))
        .collect();
    let plentiful: BTreeSet<&str> = resources
        .iter()
        .filter(|r| !r.scarce && history.remaining(r) != Some(0))
        .flat_map(|r| r.addresses.iter().map(String::as_str))
        .collect();
    let mut unlocked = Vec::new();
    let mut unlocked_area = Area::ZERO;
    let mut blocked = Vec::new();
    let mut needing: Vec<(&Holder, Vec<&str>)> = Vec::new();
    for h in holders.iter().filter(|h| !done.contains(&h.code)) {
        let need: Vec<&str> = h
            .sticking
            .iter()
            .map(|s| s.code.as_str())
            .filter(|c| !plentiful.contains(c))
            .collect();
        if need.is_empty() {
            unlocked.push(h.code.clone());
            unlocked_area = unlocked_area + h.area();
        } else {
            needing.push((h, need));
        }
    }
    let without_scarce = unlocked.len();
    needing.sort_by(|a, b| {
        a.1.len()
            .cmp(&b.1.len())
            .then_with(|| b.0.area().cmp(&a.0.area()))
            .then_with(|| a.0.code.cmp(&b.0.code))
    });
    let mut allocations = Vec::new();
    for (h, need) in needing {
        let mut picks: Vec<(&str, &str)> = Vec::new();
        let mut missing = None;
        for point in &need {
            let best = resources
                .iter()
                .filter(|r| r.scarce && r.addresses.iter().any(|a| a == point))
                .filter(|r| {
                    let used_here = picks.iter().filter(|p| p.0 == r.code).count() as u32;
                    left.get(r.code.as_str()).copied().unwrap_or(0) > used_here
                })
                .max_by(|a, b| {
                    left[a.code.as_str()]
                        .cmp(&left[b.code.as_str()])
                        .then_with(|| b.code.cmp(&a.code))
                });
            // One use of a resource covers every point of this holder it addresses.
            if picks.iter().any(|p| {
                resources
                    .iter()
                    .any(|r| r.code == p.0 && r.addresses.iter().any(|a| a == point))
            }) {
                continue;
            }
            match best {
                Some(r) => picks.push((r.code.as_str(), point)),
                None => {
                    missing = Some(*point);
                    break;
                }
            }
        }
        match missing {
            Some(point) => blocked.push((
                h.code.clone(),
                sentence(
                    format!("卡点“{point}”无剩余可用的稀缺资源"),
                    format!("no scarce resource with capacity left addresses '{point}'"),
                ),
            )),
            None => {
                for (r, _) in &picks {
                    if let Some(n) = left.get_mut(r) {
                        *n = n.saturating_sub(1);
                    }
                    let r = resources.iter().find(|x| x.code == *r).expect("picked from resources");
                    allocations.push(Allocation {
                        resource: r.code.clone(),
                        holder: h.code.clone(),
                        covers: h
                            .sticking
                            .iter()
                            .filter(|s| r.addresses.contains(&s.code))
                            .map(|s| s.code.clone())
                            .collect(),
                    });
                }
                unlocked.push(h.code.clone());
                unlocked_area = unlocked_area + h.area();
            }
        }
    }
    let with_scarce = unlocked.len() - without_scarce;
    let explanation = sentence(
        format!(
            "{without_scarce}个权利人的卡点可由非稀缺资源化解；稀缺资源{}次使用另外化解{with_scarce}个权利人（优先所需稀缺资源最少者，其次面积最大者），共{}个、{} m²；{}个仍受阻",
            allocations.len(),
            unlocked.len(),
            unlocked_area,
            blocked.len()
        ),
        format!(
            "{without_scarce} holder(s) can be unlocked with plentiful resources; {} use(s) of scarce resources unlock {with_scarce} more (fewest scarce uses first, then largest area): {} holder(s), {} m² in all; {} still blocked",
            allocations.len(),
            unlocked.len(),
            unlocked_area,
            blocked.len()
        ),
    );
    Plan {
        allocations,
        unlocked,
        unlocked_area,
        blocked,
        explanation,
    }
}
