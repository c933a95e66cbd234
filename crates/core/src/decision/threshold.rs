//! Consent thresholds as data (表决规则): participation and approval conditions by head count,
//! area and share value, and the standing of a decision under a rule — each condition's value,
//! what is missing, whether non-participating owners alone sink it, the smallest set of holders
//! still to sign and the key holdouts.
//!
//! All arithmetic is on integers (areas in 1/10,000 m²): a condition `value ≥ p/q of base` is
//! checked as `q·value ≥ p·base` in `i128`, so boundaries are exact.

// Conditions are parallel arrays (need, coefficients, bounds): index loops read clearer here.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};

use super::electorate::{units_to_decimal, Electorate, Holder, Measure, Position, Tally, Weights};
use super::Sentence;
use crate::DomainError;

/// `≥` (以上, "at least") or `>` (过半数, "more than").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    MoreThan,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::MoreThan => ">",
        }
    }
}

/// What a condition's fraction is taken of: all (eligible) members, or those taking part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// 全体业主 / all eligible holders.
    All,
    /// 参与表决的业主 / the holders taking part (agree, oppose or abstain).
    Participating,
}

/// Participation (参与表决) counts holders who took part; approval (同意) counts those who agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Participation,
    Approval,
}

/// One condition: `phase`'s `measure` must be `cmp` `num/den` of the `base`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Condition {
    pub phase: Phase,
    pub measure: Measure,
    pub cmp: Comparison,
    pub num: u32,
    pub den: u32,
    pub base: Base,
}

impl Condition {
    pub fn new(phase: Phase, measure: Measure, cmp: Comparison, num: u32, den: u32, base: Base) -> Self {
        Condition {
            phase,
            measure,
            cmp,
            num,
            den,
            base,
        }
    }

    fn fraction_text(&self) -> String {
        format!("{} {}/{}", self.cmp.symbol(), self.num, self.den)
    }

    /// Whether `value` meets the condition against `base` (both in the measure's units).
    pub fn holds(&self, value: u128, base: u128) -> bool {
        let lhs = value * self.den as u128;
        let rhs = base * self.num as u128;
        match self.cmp {
            Comparison::AtLeast => lhs >= rhs,
            Comparison::MoreThan => lhs > rhs,
        }
    }

    /// The least value that meets the condition against `base`.
    pub fn least_value(&self, base: u128) -> u128 {
        let p = self.num as u128 * base;
        let q = self.den as u128;
        match self.cmp {
            Comparison::AtLeast => p.div_ceil(q),
            Comparison::MoreThan => p / q + 1,
        }
    }
}

/// A rule set: every condition must hold. Ids of the built-in sets are stable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub conditions: Vec<Condition>,
}

/// Civil Code art. 278 (民法典第二百七十八条), matters (a): rebuilding, maintenance funds, change
/// of use (筹集/使用维修资金、改建重建、改变共有部分用途 …).
pub const CIVIL_CODE_278_MAJOR: &str = "cn-civil-code-278-major";
/// Civil Code art. 278, other matters (其他事项).
pub const CIVIL_CODE_278_ORDINARY: &str = "cn-civil-code-278-ordinary";
/// Shanghai old-area renewal (旧区改造): at least 90 % of households signed.
pub const SHANGHAI_OLD_AREA_90: &str = "cn-shanghai-old-area-renewal-90";
/// Singapore-style collective sale, 80 % of share value and of area.
pub const COLLECTIVE_SALE_80: &str = "sg-collective-sale-80";
/// Singapore-style collective sale, 90 % of share value and of area.
pub const COLLECTIVE_SALE_90: &str = "sg-collective-sale-90";

impl RuleSet {
    /// The built-in rule sets, in a stable order.
    pub fn builtin() -> Vec<RuleSet> {
        use Base::*;
        use Comparison::*;
        use Measure::*;
        use Phase::*;
        let quorum = [
            Condition::new(Participation, Area, AtLeast, 2, 3, All),
            Condition::new(Participation, Heads, AtLeast, 2, 3, All),
        ];
        let both = |cmp, n, d| {
            let mut c = quorum.to_vec();
            c.push(Condition::new(Approval, Area, cmp, n, d, Participating));
            c.push(Condition::new(Approval, Heads, cmp, n, d, Participating));
            c
        };
        let sale = |n, d| {
            vec![
                Condition::new(Approval, Share, AtLeast, n, d, All),
                Condition::new(Approval, Area, AtLeast, n, d, All),
            ]
        };
        vec![
            RuleSet {
                id: CIVIL_CODE_278_MAJOR.into(),
                name_zh: "《民法典》第278条：改建重建、维修资金、改变用途（参与≥2/3，同意≥参与的3/4）".into(),
                name_en: "Civil Code art. 278: rebuilding, maintenance funds, change of use (participation ≥ 2/3, approval ≥ 3/4 of participants)".into(),
                conditions: both(AtLeast, 3, 4),
            },
            RuleSet {
                id: CIVIL_CODE_278_ORDINARY.into(),
                name_zh: "《民法典》第278条：其他事项（参与≥2/3，同意过参与的半数）".into(),
                name_en: "Civil Code art. 278: other matters (participation ≥ 2/3, approval more than half of participants)".into(),
                conditions: both(MoreThan, 1, 2),
            },
            RuleSet {
                id: SHANGHAI_OLD_AREA_90.into(),
                name_zh: "上海旧区改造：签约户数≥90%".into(),
                name_en: "Shanghai old-area renewal: at least 90 % of households signed".into(),
                conditions: vec![Condition::new(Approval, Heads, AtLeast, 9, 10, All)],
            },
            RuleSet {
                id: COLLECTIVE_SALE_80.into(),
                name_zh: "集体出售（新加坡式，80%）：份额值与面积均≥80%".into(),
                name_en: "Collective sale (Singapore-style, 80 %): at least 80 % of share value and of area".into(),
                conditions: sale(4, 5),
            },
            RuleSet {
                id: COLLECTIVE_SALE_90.into(),
                name_zh: "集体出售（新加坡式，90%）：份额值与面积均≥90%".into(),
                name_en: "Collective sale (Singapore-style, 90 %): at least 90 % of share value and of area".into(),
                conditions: sale(9, 10),
            },
        ]
    }

    /// A built-in rule set by id.
    pub fn by_id(id: &str) -> Option<RuleSet> {
        Self::builtin().into_iter().find(|r| r.id == id)
    }

    /// A custom rule set from JSON (the same shape as the built-in ones), validated.
    pub fn from_json(text: &str) -> Result<RuleSet, DomainError> {
        let r: RuleSet = serde_json::from_str(text).map_err(|e| {
            DomainError::invalid(
                "rule",
                format!("not a rule set: {e} (see RuleSet::builtin() for the shape)"),
            )
        })?;
        r.validate()?;
        Ok(r)
    }

    /// Fractions between 0 and 1 with a non-zero denominator; participation conditions are of all
    /// members; a condition of the participants needs a participation condition beside it (or
    /// an empty vote would pass).
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.id.trim().is_empty() {
            return Err(DomainError::invalid("rule.id", "a rule set needs an id"));
        }
        if self.conditions.is_empty() {
            return Err(DomainError::invalid(
                "rule.conditions",
                "a rule set needs at least one condition",
            ));
        }
        let has_quorum = self.conditions.iter().any(|c| c.phase == Phase::Participation);
        for (i, c) in self.conditions.iter().enumerate() {
            let f = format!("rule.conditions[{i}]");
            if c.den == 0 || c.num > c.den {
                return Err(DomainError::invalid(
                    f,
                    format!("{}/{} is not a fraction between 0 and 1", c.num, c.den),
                ));
            }
            if c.phase == Phase::Participation && c.base != Base::All {
                return Err(DomainError::invalid(
                    f,
                    "a participation condition is counted of all members (base: all)",
                ));
            }
            if c.base == Base::Participating && !has_quorum {
                return Err(DomainError::invalid(
                    f,
                    "a condition of the participants needs a participation condition in the same rule",
                ));
            }
        }
        Ok(())
    }
}

/// Where one condition stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionStanding {
    pub condition: Condition,
    /// Current value and base, in the measure's units (area: 1/10,000 m²).
    pub value: u128,
    pub base: u128,
    /// value/base as a percentage, rounded down, two decimals ("66.66").
    pub percent: String,
    pub met: bool,
    /// The least value that meets the condition with the base as it is.
    pub required: u128,
    /// required − value (0 when met), in the measure's units.
    pub missing: u128,
    /// The missing amount as text ("3", "245.3 m²").
    pub missing_text: String,
}

/// Whether holders not taking part could sink the participation quorum on their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbstentionRisk {
    pub measure: Measure,
    /// How much (in the measure) may stay away with the quorum still met.
    pub may_stay_away: u128,
    /// How much is not taking part now.
    pub staying_away: u128,
    /// If those not taking part now stay away, the quorum fails.
    pub sinks: bool,
}

/// The fewest holders still to sign (agree) for the rule to be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmallestSet {
    /// Holder ids, largest area first.
    pub holders: Vec<String>,
    pub heads: u64,
    pub area: String,
    /// False only when the exact search of a rule mixing measures ran out of its step budget
    /// and returned the best set found (never for rules of one varying measure).
    pub proven_minimal: bool,
}

/// A holder whose signature matters most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyHoldout {
    pub id: String,
    pub area: String,
    pub position: Position,
    /// Without this holder the rule cannot be reached even if everyone else signs.
    pub indispensable: bool,
}

/// The standing of a decision under a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub rule_id: String,
    pub met: bool,
    pub participation_met: bool,
    pub approval_met: bool,
    pub tally: Tally,
    pub conditions: Vec<ConditionStanding>,
    pub abstention: Vec<AbstentionRisk>,
    /// Whether the rule can still be reached if every holder not yet agreeing signs.
    pub reachable: bool,
    /// None when unreachable; empty when already met.
    pub smallest_set: Option<SmallestSet>,
    pub key_holdouts: Vec<KeyHoldout>,
    pub explanation: Sentence,
}

fn percent(value: u128, base: u128) -> String {
    if base == 0 {
        return "0.00".into();
    }
    let hundredths = value * 10_000 / base;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn value_of(c: &Condition, t: &Tally) -> (u128, u128) {
    let value = match c.phase {
        Phase::Participation => t.participating.get(c.measure),
        Phase::Approval => t.agree.get(c.measure),
    };
    let base = match c.base {
        Base::All => t.members.get(c.measure),
        Base::Participating => t.participating.get(c.measure),
    };
    (value, base)
}

/// A candidate signer: its coefficient in each condition's linear form.
struct Cand<'a> {
    holder: &'a Holder,
    coefs: Vec<i128>,
}

/// Each condition as `Σ_{i∈S} coef_i ≥ need`: signing turns a not-yet holder into a participant
/// who agrees, and an opposing or abstaining one into one who agrees.
fn linear_forms<'a>(rule: &RuleSet, e: &'a Electorate, t: &Tally) -> (Vec<Cand<'a>>, Vec<i128>) {
    let mut need = Vec::with_capacity(rule.conditions.len());
    for c in &rule.conditions {
        let (p, q) = (c.num as i128, c.den as i128);
        let m = c.measure;
        let r = match (c.phase, c.base) {
            (Phase::Participation, _) => p * t.members.get(m) as i128 - q * t.participating.get(m) as i128,
            (Phase::Approval, Base::All) => p * t.members.get(m) as i128 - q * t.agree.get(m) as i128,
            (Phase::Approval, Base::Participating) => p * t.participating.get(m) as i128 - q * t.agree.get(m) as i128,
        };
        need.push(if c.cmp == Comparison::MoreThan { r + 1 } else { r });
    }
    let cands = e
        .eligible()
        .filter(|h| h.position != Position::Agree)
        .map(|h| {
            let joins = h.position == Position::NotYet;
            let coefs = rule
                .conditions
                .iter()
                .map(|c| {
                    let (p, q) = (c.num as i128, c.den as i128);
                    let w = h.weight(c.measure) as i128;
                    match (c.phase, c.base) {
                        (Phase::Participation, _) => {
                            if joins {
                                q * w
                            } else {
                                0
                            }
                        }
                        (Phase::Approval, Base::All) => q * w,
                        (Phase::Approval, Base::Participating) => {
                            if joins {
                                (q - p) * w
                            } else {
                                q * w
                            }
                        }
                    }
                })
                .collect();
            Cand { holder: h, coefs }
        })
        .collect();
    (cands, need)
}

/// Steps the exact search of a mixed-measure rule may take before it settles for the best set
/// found.
const SEARCH_STEPS: u64 = 3_000_000;
/// Largest set size the exact search of a mixed-measure rule tries.
const MAX_SEARCH_DEPTH: usize = 128;

/// The smallest set of candidates (indices) whose signatures meet every `need`; among the
/// smallest, the one of largest area (see the module doc for the exact tie rule). None when even
/// all of them would not do.
fn smallest(cands: &[Cand], need: &[i128]) -> Option<(Vec<usize>, bool)> {
    let nc = need.len();
    let total: Vec<i128> = (0..nc).map(|c| cands.iter().map(|x| x.coefs[c]).sum()).collect();
    if (0..nc).any(|c| total[c] < need[c]) {
        return None;
    }
    if need.iter().all(|&n| n <= 0) {
        return Some((Vec::new(), true));
    }
    // Two groups: holders who would join the participants (their coefficients differ) and those
    // already taking part. Within a group, order by coefficients, then area, then id.
    let order = |group: &[usize]| -> (Vec<usize>, bool) {
        let mut g = group.to_vec();
        g.sort_by(|&a, &b| {
            cands[b]
                .coefs
                .cmp(&cands[a].coefs)
                .then(cands[b].holder.area.cmp(&cands[a].holder.area))
                .then(cands[a].holder.id.cmp(&cands[b].holder.id))
        });
        let monotone = g
            .windows(2)
            .all(|w| (0..nc).all(|c| cands[w[0]].coefs[c] >= cands[w[1]].coefs[c]));
        (g, monotone)
    };
    let joining: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].holder.position == Position::NotYet)
        .collect();
    let taking_part: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].holder.position != Position::NotYet)
        .collect();
    let (ga, ma) = order(&joining);
    let (gb, mb) = order(&taking_part);
    // Lower bound: for each condition, the fewest candidates with the largest coefficients.
    let mut k_lo = 0;
    for c in 0..nc {
        if need[c] <= 0 {
            continue;
        }
        let mut v: Vec<i128> = cands.iter().map(|x| x.coefs[c]).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        let mut acc = 0;
        for (k, x) in v.iter().enumerate() {
            acc += x;
            if acc >= need[c] {
                k_lo = k_lo.max(k + 1);
                break;
            }
        }
    }
    if ma && mb {
        return Some((split_search(cands, need, &ga, &gb, k_lo), true));
    }
    Some(branch_and_bound(cands, need, k_lo))
}

fn prefix(cands: &[Cand], g: &[usize], nc: usize) -> (Vec<Vec<i128>>, Vec<u128>) {
    let mut sums = vec![vec![0i128; nc]];
    let mut areas = vec![0u128];
    for &i in g {
        let mut next = sums.last().expect("non-empty").clone();
        for (s, x) in next.iter_mut().zip(&cands[i].coefs) {
            *s += x;
        }
        sums.push(next);
        areas.push(areas.last().expect("non-empty") + cands[i].holder.area.units() as u128);
    }
    (sums, areas)
}

/// When each group's order ranks every condition's coefficients alike, the best set of size k
/// takes the first j of one group and the first k − j of the other: try every k from the lower
/// bound up and every split, keeping the split of largest area (then fewer joining).
fn split_search(cands: &[Cand], need: &[i128], ga: &[usize], gb: &[usize], k_lo: usize) -> Vec<usize> {
    let nc = need.len();
    let (pa, aa) = prefix(cands, ga, nc);
    let (pb, ab) = prefix(cands, gb, nc);
    for k in k_lo..=cands.len() {
        let mut best: Option<(u128, usize)> = None;
        let lo = k.saturating_sub(gb.len());
        let hi = k.min(ga.len());
        for j in lo..=hi {
            if (0..nc).all(|c| pa[j][c] + pb[k - j][c] >= need[c]) {
                let area = aa[j] + ab[k - j];
                if best.is_none_or(|(a, _)| area > a) {
                    best = Some((area, j));
                }
            }
        }
        if let Some((_, j)) = best {
            return ga[..j].iter().chain(&gb[..k - j]).copied().collect();
        }
    }
    unreachable!("the caller checked that all candidates together suffice")
}

/// Exact search for rules whose measures rank holders differently (e.g. share value and area):
/// for k from the lower bound up, a depth-first search for a set of size k with bounds; at the
/// first k found, the set of largest area. Gives up after `SEARCH_STEPS` and returns the best
/// set of a greedy cover instead (flagged not proven).
fn branch_and_bound(cands: &[Cand], need: &[i128], k_lo: usize) -> (Vec<usize>, bool) {
    let nc = need.len();
    let n = cands.len();
    let mut items: Vec<usize> = (0..n).collect();
    items.sort_by(|&a, &b| {
        cands[b]
            .holder
            .area
            .cmp(&cands[a].holder.area)
            .then(cands[b].coefs.cmp(&cands[a].coefs))
            .then(cands[a].holder.id.cmp(&cands[b].holder.id))
    });
    // top[c][r]: the largest sum of r coefficients of condition c; sufmax[i][c]: the largest
    // coefficient of c among items[i..].
    let top: Vec<Vec<i128>> = (0..nc)
        .map(|c| {
            let mut v: Vec<i128> = cands.iter().map(|x| x.coefs[c]).collect();
            v.sort_unstable_by(|a, b| b.cmp(a));
            let mut s = vec![0];
            for x in v {
                s.push(s.last().copied().unwrap_or(0) + x);
            }
            s
        })
        .collect();
    let mut sufmax = vec![vec![0i128; nc]; n + 1];
    for i in (0..n).rev() {
        for c in 0..nc {
            sufmax[i][c] = sufmax[i + 1][c].max(cands[items[i]].coefs[c]);
        }
    }
    let mut area_desc: Vec<u128> = items.iter().map(|&i| cands[i].holder.area.units() as u128).collect();
    area_desc.sort_unstable_by(|a, b| b.cmp(a));
    let mut top_area = vec![0u128];
    for a in area_desc {
        top_area.push(top_area.last().copied().unwrap_or(0) + a);
    }

    struct Search<'s> {
        cands: &'s [Cand<'s>],
        items: &'s [usize],
        need: &'s [i128],
        top: &'s [Vec<i128>],
        sufmax: &'s [Vec<i128>],
        top_area: &'s [u128],
        steps: u64,
        best: Option<(u128, Vec<usize>)>,
        chosen: Vec<usize>,
    }
    impl Search<'_> {
        fn run(&mut self, from: usize, k: usize, acc: &mut Vec<i128>, area: u128) -> bool {
            self.steps += 1;
            if self.steps > SEARCH_STEPS {
                return false;
            }
            let left = k - self.chosen.len();
            if (0..acc.len()).all(|c| acc[c] >= self.need[c]) {
                if self.best.as_ref().is_none_or(|(a, _)| area > *a) {
                    self.best = Some((area, self.chosen.clone()));
                }
                // Adding more cannot keep the size minimal; area is compared among size-k sets
                // only when k is the minimum, which the caller guarantees by increasing k.
                if left == 0 {
                    return true;
                }
            }
            if left == 0 {
                return true;
            }
            for c in 0..acc.len() {
                let short = self.need[c] - acc[c];
                if short > 0 {
                    let bound = self.top[c][left].min(self.sufmax[from.min(self.items.len())][c] * left as i128);
                    if bound < short {
                        return true;
                    }
                }
            }
            if let Some((best_area, _)) = &self.best {
                if area + self.top_area[left] <= *best_area {
                    return true;
                }
            }
            let n = self.items.len();
            for pos in from..n {
                if n - pos < left {
                    break;
                }
                let i = self.items[pos];
                self.chosen.push(i);
                for (a, x) in acc.iter_mut().zip(&self.cands[i].coefs) {
                    *a += x;
                }
                let ok = self.run(pos + 1, k, acc, area + self.cands[i].holder.area.units() as u128);
                for (a, x) in acc.iter_mut().zip(&self.cands[i].coefs) {
                    *a -= x;
                }
                self.chosen.pop();
                if !ok {
                    return false;
                }
            }
            true
        }
    }
    let mut s = Search {
        cands,
        items: &items,
        need,
        top: &top,
        sufmax: &sufmax,
        top_area: &top_area,
        steps: 0,
        best: None,
        chosen: Vec::new(),
    };
    // Deeper searches than this are hopeless within the step budget (and would only use stack).
    for k in k_lo.max(1)..=n.min(MAX_SEARCH_DEPTH) {
        let mut acc = vec![0i128; nc];
        let finished = s.run(0, k, &mut acc, 0);
        if let Some((_, set)) = s.best.take() {
            // Every smaller size was searched to the end, so this size is the minimum (only the
            // largest-area choice among sets of this size may be cut short by the step budget).
            return (set, true);
        }
        if !finished {
            break;
        }
    }
    (greedy_cover(cands, need), false)
}

/// A greedy cover: repeatedly the candidate that covers the largest share of what is still
/// short (integer shares in millionths), ties by area then id.
fn greedy_cover(cands: &[Cand], need: &[i128]) -> Vec<usize> {
    let nc = need.len();
    let mut acc = vec![0i128; nc];
    let mut used = vec![false; cands.len()];
    let mut set = Vec::new();
    while (0..nc).any(|c| acc[c] < need[c]) {
        let mut best: Option<(i128, usize)> = None;
        for (i, x) in cands.iter().enumerate() {
            if used[i] {
                continue;
            }
            let score: i128 = (0..nc)
                .filter(|&c| acc[c] < need[c])
                .map(|c| {
                    let short = need[c] - acc[c];
                    x.coefs[c].min(short) * 1_000_000 / short
                })
                .sum();
            let better = match best {
                None => true,
                Some((s, j)) => {
                    score > s
                        || (score == s
                            && (x.holder.area > cands[j].holder.area
                                || (x.holder.area == cands[j].holder.area && x.holder.id < cands[j].holder.id)))
                }
            };
            if better {
                best = Some((score, i));
            }
        }
        let (_, i) = best.expect("the caller checked that all candidates together suffice");
        used[i] = true;
        set.push(i);
        for (a, x) in acc.iter_mut().zip(&cands[i].coefs) {
            *a += x;
        }
    }
    set
}

/// The standing of a decision of `electorate` under `rule`.
pub fn standing(rule: &RuleSet, electorate: &Electorate) -> Standing {
    let t = electorate.tally();
    let conditions: Vec<ConditionStanding> = rule
        .conditions
        .iter()
        .map(|c| {
            let (value, base) = value_of(c, &t);
            let met = c.holds(value, base);
            let required = c.least_value(base);
            let missing = required.saturating_sub(value);
            ConditionStanding {
                condition: *c,
                value,
                base,
                percent: percent(value, base),
                met,
                required,
                missing,
                missing_text: c.measure.show(missing),
            }
        })
        .collect();
    let phase_met = |p: Phase| conditions.iter().filter(|s| s.condition.phase == p).all(|s| s.met);
    let participation_met = phase_met(Phase::Participation);
    let approval_met = phase_met(Phase::Approval);
    let abstention = rule
        .conditions
        .iter()
        .filter(|c| c.phase == Phase::Participation)
        .map(|c| {
            let total = t.members.get(c.measure);
            let least = c.least_value(total);
            let may = total.saturating_sub(least);
            let away = t.not_yet.get(c.measure);
            AbstentionRisk {
                measure: c.measure,
                may_stay_away: if least > total { 0 } else { may },
                staying_away: away,
                sinks: least > total || away > may,
            }
        })
        .collect();

    let (cands, need) = linear_forms(rule, electorate, &t);
    let found = smallest(&cands, &need);
    let reachable = found.is_some();
    let mut key_holdouts = Vec::new();
    let smallest_set = found.map(|(set, proven)| {
        let mut hs: Vec<&Holder> = set.iter().map(|&i| cands[i].holder).collect();
        hs.sort_by(|a, b| b.area.cmp(&a.area).then(a.id.cmp(&b.id)));
        let mut w = Weights::default();
        for h in &hs {
            w.add(h);
        }
        SmallestSet {
            holders: hs.iter().map(|h| h.id.clone()).collect(),
            heads: w.heads,
            area: w.area.to_string(),
            proven_minimal: proven,
        }
    });
    if reachable {
        // Indispensable: everyone else signing is not enough without them.
        let total: Vec<i128> = (0..need.len())
            .map(|c| cands.iter().map(|x| x.coefs[c]).sum())
            .collect();
        let mut ind: Vec<&Holder> = cands
            .iter()
            .filter(|x| (0..need.len()).any(|c| total[c] - x.coefs[c] < need[c]))
            .map(|x| x.holder)
            .collect();
        ind.sort_by(|a, b| b.area.cmp(&a.area).then(a.id.cmp(&b.id)));
        for h in &ind {
            key_holdouts.push(KeyHoldout {
                id: h.id.clone(),
                area: h.area.to_string(),
                position: h.position,
                indispensable: true,
            });
        }
        if let Some(s) = &smallest_set {
            for id in &s.holders {
                if key_holdouts.iter().any(|k| &k.id == id) {
                    continue;
                }
                let h = electorate
                    .holders()
                    .iter()
                    .find(|h| &h.id == id)
                    .expect("from the electorate");
                key_holdouts.push(KeyHoldout {
                    id: h.id.clone(),
                    area: h.area.to_string(),
                    position: h.position,
                    indispensable: false,
                });
            }
        }
    }
    let met = participation_met && approval_met;
    let explanation = explain(rule, met, &conditions, reachable, smallest_set.as_ref(), &key_holdouts);
    Standing {
        rule_id: rule.id.clone(),
        met,
        participation_met,
        approval_met,
        tally: t,
        conditions,
        abstention,
        reachable,
        smallest_set,
        key_holdouts,
        explanation,
    }
}

fn explain(
    rule: &RuleSet,
    met: bool,
    conditions: &[ConditionStanding],
    reachable: bool,
    set: Option<&SmallestSet>,
    keys: &[KeyHoldout],
) -> Sentence {
    let mut zh = format!("{}：{}。", rule.name_zh, if met { "已达到" } else { "尚未达到" });
    let mut en = format!("{}: {}. ", rule.name_en, if met { "reached" } else { "not reached" });
    let mut zh_parts = Vec::new();
    let mut en_parts = Vec::new();
    for s in conditions {
        let c = &s.condition;
        let (pz, pe) = match c.phase {
            Phase::Participation => ("参与", "taking part"),
            Phase::Approval => ("同意", "agreeing"),
        };
        let (bz, be) = match c.base {
            Base::All => ("全体", "of all"),
            Base::Participating => ("参与者", "of participants"),
        };
        let mark = if s.met { "✓" } else { "✗" };
        zh_parts.push(format!(
            "{pz}{}{}%（需{}{}）{mark}{}",
            c.measure.name_zh(),
            s.percent,
            bz,
            c.fraction_text(),
            if s.met {
                String::new()
            } else {
                format!("，差{}", s.missing_text)
            }
        ));
        en_parts.push(format!(
            "{pe} by {} {} % (needs {} {be}) {mark}{}",
            c.measure.name_en(),
            s.percent,
            c.fraction_text(),
            if s.met {
                String::new()
            } else {
                format!(", {} short", s.missing_text)
            }
        ));
    }
    zh.push_str(&zh_parts.join("；"));
    zh.push('。');
    en.push_str(&en_parts.join("; "));
    en.push('.');
    if !met {
        match set {
            None if !reachable => {
                zh.push_str("即使所有未同意者都签字也无法达到。");
                en.push_str(" It cannot be reached even if every holder not yet agreeing signs.");
            }
            Some(s) => {
                zh.push_str(&format!("至少还需{}位签字（合计{} m²）", s.holders.len(), s.area));
                en.push_str(&format!(
                    " At least {} more signature(s) are needed (together {} m²)",
                    s.holders.len(),
                    s.area
                ));
                if !keys.is_empty() {
                    let ids: Vec<&str> = keys.iter().take(5).map(|k| k.id.as_str()).collect();
                    zh.push_str(&format!("，关键未签者：{}", ids.join("、")));
                    en.push_str(&format!("; key holdouts: {}", ids.join(", ")));
                }
                zh.push('。');
                en.push('.');
            }
            None => {}
        }
    }
    Sentence { zh, en }
}

/// The area of a set of units of 1/10,000 m² as text (for callers building their own sentences).
pub fn area_text(units: u128) -> String {
    format!("{} m²", units_to_decimal(units))
}
