//! Participatory budgeting counts (参与式预算计票) on exact rationals: greedy by votes, the
//! Method of Equal Shares (with and without the add-one completion) and sequential Phragmén.
//!
//! Each rule computes what pabutools 1.2.3 computes with its default lexicographic tie-breaking:
//! **ties go to the project whose id comes first in code-point (byte) order** ("10" < "2" <
//! "A1"). The cross-check in `tests/pb/run.sh` compares the funded sets.
//!
//! - [`Rule::Greedy`]: in order of votes (approval) or points (cumulative), most first, ties by
//!   id; fund a project if it fits in what is left, skip it otherwise and go on (CONSUL's count;
//!   pabutools' `greedy_utilitarian_welfare` with `Cost_Sat`, which orders by votes). Projects
//!   nobody voted for come last and are funded only if money is left, as in both.
//! - [`Rule::Mes`]: the Method of Equal Shares as pabutools' `method_of_equal_shares` computes it
//!   by default (no completion): every voter gets budget/voters; with approval ballots the
//!   utility of a project is its cost (`Cost_Sat`), with cumulative ballots the points given
//!   (`Additive_Cardinal_Sat`). In each round the project whose supporters can pay for it at the
//!   lowest price per unit of utility is bought; projects whose supporters together have less
//!   left than the cost drop out.
//! - [`Rule::MesAdd1`]: the same with pabutools' `voter_budget_increment=1` (the add-one
//!   completion of equalshares.net): rerun with one more unit per voter while the outcome stays
//!   within the real budget and is not exhaustive; return the last outcome within budget.
//! - [`Rule::Phragmen`]: sequential Phragmén (approval only), as pabutools'
//!   `sequential_phragmen`: voters earn load continuously; the project whose supporters' load
//!   after buying it would be lowest is bought; the count stops at the first such project that no
//!   longer fits in the budget.

use std::collections::HashMap;
use std::fmt;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

use super::Sentence;
use crate::DomainError;

/// A counting rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Greedy,
    Mes,
    MesAdd1,
    Phragmen,
}

impl Rule {
    pub const ALL: [Rule; 4] = [Rule::Greedy, Rule::Mes, Rule::MesAdd1, Rule::Phragmen];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Greedy => "greedy",
            Rule::Mes => "mes",
            Rule::MesAdd1 => "mes-add1",
            Rule::Phragmen => "phragmen",
        }
    }
}

impl std::str::FromStr for Rule {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL.into_iter().find(|r| r.id() == s).ok_or_else(|| {
            DomainError::invalid(
                "rule",
                format!("unknown counting rule {s:?}; use greedy, mes, mes-add1 or phragmen"),
            )
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How voters voted: approval (a set of projects) or cumulative points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ballots {
    Approval,
    Cumulative,
}

/// A project on the ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub cost: BigRational,
}

/// An election ready to count: budget, projects, and each voter's ballot as (project index,
/// points) pairs (points 1 for approval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    pub budget: BigRational,
    pub projects: Vec<Project>,
    pub kind: Ballots,
    pub ballots: Vec<Vec<(usize, BigRational)>>,
}

/// What happened to one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectResult {
    pub id: String,
    pub cost: String,
    /// Voters who voted for it.
    pub votes: u64,
    /// Points given to it (= votes for approval).
    pub points: String,
    pub funded: bool,
    /// 1-based order of funding.
    pub round: Option<usize>,
    pub explanation: Sentence,
}

/// The result of a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub rule: Rule,
    /// Funded project ids, sorted.
    pub funded: Vec<String>,
    /// Funded project ids in the order they were funded.
    pub order: Vec<String>,
    pub spent: String,
    pub budget: String,
    /// Per project, in the election's order.
    pub projects: Vec<ProjectResult>,
}

/// An exact amount as text: integers as they are, others with two decimals rounded down
/// ("3120", "33.33").
pub fn money(r: &BigRational) -> String {
    if r.is_integer() {
        return r.to_integer().to_string();
    }
    let neg = r.is_negative();
    let hundredths: BigInt = (r.abs() * BigInt::from(100)).floor().to_integer();
    let hundred = BigInt::from(100);
    let (w, f): (BigInt, BigInt) = (&hundredths / &hundred, &hundredths % &hundred);
    format!("{}{w}.{:02}", if neg { "-" } else { "" }, f.to_u32().unwrap_or(0))
}

/// An amount for people to read, in the explanations: [`money`] grouped by thousands ("3,120").
pub fn amount(r: &BigRational) -> String {
    crate::indicators::group_digits(&money(r))
}

fn int(n: u64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

impl Election {
    /// Checks ballots: project indices in range, points positive, no project twice.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.budget.is_negative() {
            return Err(DomainError::invalid("budget", "the budget cannot be negative"));
        }
        for p in &self.projects {
            if p.cost.is_negative() {
                return Err(DomainError::invalid(
                    "cost",
                    format!("project {}: a cost cannot be negative", p.id),
                ));
            }
        }
        for (v, b) in self.ballots.iter().enumerate() {
            let mut seen = std::collections::HashSet::new();
            for (p, pts) in b {
                if *p >= self.projects.len() || !seen.insert(*p) {
                    return Err(DomainError::invalid(
                        "ballot",
                        format!("ballot {v}: project {p} is unknown or appears twice"),
                    ));
                }
                if !pts.is_positive() {
                    return Err(DomainError::invalid(
                        "ballot",
                        format!("ballot {v}: points must be positive"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Counts under `rule`.
    pub fn count(&self, rule: Rule) -> Result<Outcome, DomainError> {
        self.validate()?;
        let stats = Stats::of(self);
        let (order, notes) = match rule {
            Rule::Greedy => greedy(self, &stats),
            Rule::Mes => {
                let (order, notes) = mes(self, &stats, &(self.budget.clone() / per_voter_divisor(self)));
                (order, notes)
            }
            Rule::MesAdd1 => mes_add1(self, &stats),
            Rule::Phragmen => {
                if self.kind != Ballots::Approval {
                    return Err(DomainError::invalid(
                        "rule",
                        "sequential Phragmén counts approval ballots only; use greedy or mes for cumulative ballots",
                    ));
                }
                phragmen(self, &stats)
            }
        };
        let mut spent = BigRational::zero();
        let mut funded_round = vec![None; self.projects.len()];
        for (r, &p) in order.iter().enumerate() {
            spent += &self.projects[p].cost;
            funded_round[p] = Some(r + 1);
        }
        let mut funded: Vec<String> = order.iter().map(|&p| self.projects[p].id.clone()).collect();
        let order_ids = funded.clone();
        funded.sort();
        let projects = self
            .projects
            .iter()
            .enumerate()
            .map(|(i, p)| ProjectResult {
                id: p.id.clone(),
                cost: money(&p.cost),
                votes: stats.votes[i],
                points: money(&stats.points[i]),
                funded: funded_round[i].is_some(),
                round: funded_round[i],
                explanation: notes[i].clone(),
            })
            .collect();
        Ok(Outcome {
            rule,
            funded,
            order: order_ids,
            spent: money(&spent),
            budget: money(&self.budget),
            projects,
        })
    }
}

fn per_voter_divisor(e: &Election) -> BigRational {
    int(e.ballots.len().max(1) as u64)
}

struct Stats {
    votes: Vec<u64>,
    points: Vec<BigRational>,
}

impl Stats {
    fn of(e: &Election) -> Self {
        let mut votes = vec![0u64; e.projects.len()];
        let mut points = vec![BigRational::zero(); e.projects.len()];
        for b in &e.ballots {
            for (p, pts) in b {
                votes[*p] += 1;
                points[*p] += pts;
            }
        }
        Stats { votes, points }
    }
}

/// Ties: the project whose id comes first.
fn id_order(e: &Election) -> Vec<usize> {
    let mut ix: Vec<usize> = (0..e.projects.len()).collect();
    ix.sort_by(|&a, &b| e.projects[a].id.cmp(&e.projects[b].id));
    ix
}

fn sentence(zh: String, en: String) -> Sentence {
    Sentence { zh, en }
}

fn greedy(e: &Election, s: &Stats) -> (Vec<usize>, Vec<Sentence>) {
    // Cost_Sat density: points·cost/cost = points for a project that costs something; a free
    // project's total satisfaction is 0 (it is funded anyway, costing nothing).
    let key = |p: usize| {
        if e.projects[p].cost.is_zero() {
            BigRational::zero()
        } else {
            s.points[p].clone()
        }
    };
    let mut ordered = id_order(e);
    ordered.sort_by_key(|&p| std::cmp::Reverse(key(p)));
    let mut left = e.budget.clone();
    let mut order = Vec::new();
    let mut notes = vec![sentence(String::new(), String::new()); e.projects.len()];
    let what = |p: usize| match e.kind {
        Ballots::Approval => (format!("{}票", s.votes[p]), format!("{} votes", s.votes[p])),
        Ballots::Cumulative => (
            format!("{}分", amount(&s.points[p])),
            format!("{} points", amount(&s.points[p])),
        ),
    };
    for (rank, &p) in ordered.iter().enumerate() {
        let cost = &e.projects[p].cost;
        let (wz, we) = what(p);
        if cost <= &left {
            notes[p] = sentence(
                format!(
                    "按得票排第{}（{wz}），造价{}不超过剩余预算{}，获得资助。",
                    rank + 1,
                    amount(cost),
                    amount(&left)
                ),
                format!(
                    "Ranked {} by votes ({we}); its cost {} fitted in the {} left, so it was funded.",
                    rank + 1,
                    amount(cost),
                    amount(&left)
                ),
            );
            left -= cost;
            order.push(p);
        } else {
            notes[p] = sentence(
                format!(
                    "按得票排第{}（{wz}），造价{}超过剩余预算{}，未获资助。",
                    rank + 1,
                    amount(cost),
                    amount(&left)
                ),
                format!(
                    "Ranked {} by votes ({we}); its cost {} exceeded the {} left, so it was skipped.",
                    rank + 1,
                    amount(cost),
                    amount(&left)
                ),
            );
        }
    }
    (order, notes)
}

/// A project in a run of MES: its supporting groups with their (integer) utilities, and its
/// last computed price per unit of utility as an unreduced fraction (a lower bound later on).
struct MesProject {
    supporters: Vec<(usize, BigInt)>,
    total_sat: BigInt,
    afford: (BigInt, BigInt),
}

/// Voters with the same ballot keep the same budget throughout: count them as one group.
fn groups(e: &Election) -> (Vec<Vec<(usize, BigRational)>>, Vec<u64>) {
    let mut index: HashMap<Vec<(usize, BigRational)>, usize> = HashMap::new();
    let mut ballots = Vec::new();
    let mut mult = Vec::new();
    for b in &e.ballots {
        let mut b = b.clone();
        b.sort_by_key(|x| x.0);
        match index.get(&b) {
            Some(&g) => mult[g] += 1,
            None => {
                index.insert(b.clone(), ballots.len());
                ballots.push(b);
                mult.push(1);
            }
        }
    }
    (ballots, mult)
}

fn lcm_of_denominators<'a>(xs: impl Iterator<Item = &'a BigRational>) -> BigInt {
    xs.fold(BigInt::one(), |l, x| l.lcm(x.denom()))
}

fn to_int(x: &BigRational, scale: &BigInt) -> BigInt {
    (x * scale).to_integer()
}

/// One run of MES with `per_voter` each; returns the funding order and the notes.
///
/// Exact and fast: money is scaled to integers (by the common denominator of costs and budget),
/// utilities too (approval: the scaled cost; cumulative: points scaled by their common
/// denominator — a common factor changes no comparison), and all voters' budgets are integers
/// over one shared denominator `d`, so sums and comparisons need no fraction reduction.
fn mes(e: &Election, s: &Stats, per_voter: &BigRational) -> (Vec<usize>, Vec<Sentence>) {
    let (ballots, mult) = groups(e);
    let mult: Vec<BigInt> = mult.into_iter().map(BigInt::from).collect();
    let money_scale = lcm_of_denominators(e.projects.iter().map(|p| &p.cost).chain([&e.budget, per_voter]));
    let point_scale = lcm_of_denominators(e.ballots.iter().flatten().map(|(_, x)| x));
    let cost: Vec<BigInt> = e.projects.iter().map(|p| to_int(&p.cost, &money_scale)).collect();
    let start = per_voter * &money_scale;
    let mut d: BigInt = start.denom().clone();
    let mut budget: Vec<BigInt> = vec![start.numer().clone(); ballots.len()];
    let show = |x: &BigInt, d: &BigInt| amount(&BigRational::new(x.clone(), d * &money_scale));
    let mut notes = vec![sentence(String::new(), String::new()); e.projects.len()];
    let mut projects: Vec<Option<MesProject>> = (0..e.projects.len()).map(|_| None).collect();
    let mut order = Vec::new();
    for (g, b) in ballots.iter().enumerate() {
        for (p, pts) in b {
            let u = match e.kind {
                Ballots::Approval => cost[*p].clone(),
                Ballots::Cumulative => to_int(pts, &point_scale),
            };
            let mp = projects[*p].get_or_insert_with(|| MesProject {
                supporters: Vec::new(),
                total_sat: BigInt::zero(),
                afford: (BigInt::zero(), BigInt::one()),
            });
            mp.total_sat += &mult[g] * &u;
            mp.supporters.push((g, u));
        }
    }
    let nobody = || {
        sentence(
            "没有人投票支持，未获资助。".into(),
            "Nobody voted for it, so it was not funded.".into(),
        )
    };
    let mut remaining: Vec<usize> = Vec::new();
    for p in id_order(e) {
        match &mut projects[p] {
            None => notes[p] = nobody(),
            Some(mp) if mp.total_sat.is_zero() => notes[p] = nobody(),
            Some(mp) => {
                if cost[p].is_zero() {
                    // Free projects with support are funded before the rounds (as pabutools).
                    order.push(p);
                    notes[p] = sentence(
                        "造价为零且有人支持，直接入选。".into(),
                        "It costs nothing and has supporters, so it was funded first.".into(),
                    );
                } else {
                    mp.afford = (cost[p].clone(), mp.total_sat.clone());
                    remaining.push(p);
                }
            }
        }
    }
    let less = |a: &(BigInt, BigInt), b: &(BigInt, BigInt)| (&a.0 * &b.1).cmp(&(&b.0 * &a.1));
    let mut round = order.len();
    loop {
        // Lazily: a project's price only grows, so the previous value is a lower bound.
        remaining.sort_by(|&a, &b| {
            let pa = projects[a].as_ref().expect("remaining");
            let pb = projects[b].as_ref().expect("remaining");
            less(&pa.afford, &pb.afford).then(e.projects[a].id.cmp(&e.projects[b].id))
        });
        let mut best: Option<(BigInt, BigInt)> = None;
        let mut tied: Vec<usize> = Vec::new();
        let mut dropped: Vec<usize> = Vec::new();
        for &p in &remaining {
            let mp = projects[p].as_mut().expect("remaining");
            if let Some(b) = &best {
                if less(&mp.afford, b) == std::cmp::Ordering::Greater {
                    break;
                }
            }
            let need = &cost[p] * &d;
            let available: BigInt = mp.supporters.iter().map(|(g, _)| &mult[*g] * &budget[*g]).sum();
            if available < need {
                let (have, c) = (show(&available, &d), amount(&e.projects[p].cost));
                notes[p] = sentence(
                    format!("其支持者只剩{have}，不够支付造价{c}，未获资助。"),
                    format!("Its supporters had {have} left of the {c} it costs, so it was not funded."),
                );
                dropped.push(p);
                continue;
            }
            // Poorest first, by budget per unit of utility.
            let mut sup: Vec<&(usize, BigInt)> = mp.supporters.iter().collect();
            if e.kind == Ballots::Approval {
                sup.sort_by(|x, y| budget[x.0].cmp(&budget[y.0]));
            } else {
                sup.sort_by(|x, y| (&budget[x.0] * &y.1).cmp(&(&budget[y.0] * &x.1)));
            }
            let mut poor = BigInt::zero();
            let mut sat = mp.total_sat.clone();
            for (g, u) in sup {
                let num = &need - &poor;
                // price·u ≤ budget, with price = num / (d·sat) and budget = budget[g] / d.
                if &num * u <= &budget[*g] * &sat {
                    let price = (num, &d * &sat);
                    mp.afford = price.clone();
                    match &best {
                        Some(x) if less(&price, x) == std::cmp::Ordering::Greater => {}
                        Some(x) if less(&price, x) == std::cmp::Ordering::Equal => tied.push(p),
                        _ => {
                            best = Some(price);
                            tied = vec![p];
                        }
                    }
                    break;
                }
                poor += &mult[*g] * &budget[*g];
                sat -= &mult[*g] * u;
            }
        }
        remaining.retain(|p| !dropped.contains(p));
        let Some((num, den)) = best else { break };
        let chosen = *tied
            .iter()
            .min_by(|&&a, &&b| e.projects[a].id.cmp(&e.projects[b].id))
            .expect("a best project");
        round += 1;
        // New common denominator d·k with k = den/d: every budget is rescaled by k, supporters
        // pay min(budget, price·u) in the new units (price·u = num·u / (d·k)).
        let k = &den / &d;
        let mut most = BigInt::zero();
        let mp = projects[chosen].as_ref().expect("remaining");
        let mut is_supporter = vec![false; budget.len()];
        for (g, u) in &mp.supporters {
            is_supporter[*g] = true;
            let have = &budget[*g] * &k;
            let pay = std::cmp::min(have.clone(), &num * u);
            if pay > most {
                most = pay.clone();
            }
            budget[*g] = have - pay;
        }
        for (g, b) in budget.iter_mut().enumerate() {
            if !is_supporter[g] {
                *b *= &k;
            }
        }
        d = den;
        let top = show(&most, &d);
        // Keep the numbers small: divide out what all budgets and d share.
        let mut common = d.clone();
        for b in &budget {
            if common.is_one() {
                break;
            }
            common = common.gcd(b);
        }
        if !common.is_one() {
            for b in budget.iter_mut() {
                *b /= &common;
            }
            d /= &common;
        }
        let n = s.votes[chosen];
        let c = amount(&e.projects[chosen].cost);
        let tie_zh = if tied.len() > 1 {
            "（与其他项目并列，按编号先后）"
        } else {
            ""
        };
        let tie_en = if tied.len() > 1 {
            " (tied with another project; the first id won)"
        } else {
            ""
        };
        notes[chosen] = sentence(
            format!("第{round}轮入选：{n}位支持者分摊造价{c}，每人最多付{top}{tie_zh}。"),
            format!("Funded in round {round}: its {n} supporters shared its cost of {c}, none paying more than {top}{tie_en}."),
        );
        order.push(chosen);
        remaining.retain(|&p| p != chosen);
    }
    (order, notes)
}

fn mes_add1(e: &Election, s: &Stats) -> (Vec<usize>, Vec<Sentence>) {
    let n = per_voter_divisor(e);
    let mut per_voter = e.budget.clone() / &n;
    let mut previous: Option<(Vec<usize>, Vec<Sentence>)> = None;
    let supported: Vec<usize> = (0..e.projects.len())
        .filter(|&p| s.points[p].is_positive() && e.projects[p].cost.is_positive())
        .collect();
    loop {
        let (order, notes) = mes(e, s, &per_voter);
        let spent: BigRational = order.iter().map(|&p| e.projects[p].cost.clone()).sum();
        if spent > e.budget {
            return match previous {
                Some(prev) => add1_notes(e, prev, &per_voter - BigRational::one()),
                // The first run spends at most the budget: each voter has budget/voters.
                None => unreachable!("MES never overspends its starting budget"),
            };
        }
        let exhaustive = supported
            .iter()
            .all(|p| order.contains(p) || &spent + &e.projects[*p].cost > e.budget);
        if exhaustive {
            return add1_notes(e, (order, notes), per_voter);
        }
        previous = Some((order, notes));
        per_voter += BigRational::one();
    }
}

fn add1_notes(
    e: &Election,
    (order, mut notes): (Vec<usize>, Vec<Sentence>),
    per_voter: BigRational,
) -> (Vec<usize>, Vec<Sentence>) {
    let start = e.budget.clone() / per_voter_divisor(e);
    if per_voter != start {
        for n in &mut notes {
            n.zh.push_str(&format!(
                "（加一补全：每位选民的预算由{}增至{}）",
                amount(&start),
                amount(&per_voter)
            ));
            n.en.push_str(&format!(
                " (add-one completion: each voter's budget raised from {} to {})",
                amount(&start),
                amount(&per_voter)
            ));
        }
    }
    (order, notes)
}

fn phragmen(e: &Election, s: &Stats) -> (Vec<usize>, Vec<Sentence>) {
    let (ballots, mult) = groups(e);
    let np = e.projects.len();
    // Load classes: a group's load is 0 (class 0) or the load of the round that last bought a
    // project it approves (class = that round); moves are summed per (project, class) in
    // integers before the few rational updates.
    let mut class_load: Vec<BigRational> = vec![BigRational::zero()];
    let mut class_of = vec![0usize; ballots.len()];
    let mut supporters: Vec<Vec<usize>> = vec![Vec::new(); np];
    for (g, b) in ballots.iter().enumerate() {
        for (p, _) in b {
            supporters[*p].push(g);
        }
    }
    // Σ of the supporters' loads per project, kept up to date.
    let mut load_sum = vec![BigRational::zero(); np];
    let mut notes = vec![sentence(String::new(), String::new()); np];
    let mut remaining: Vec<usize> = Vec::new();
    for p in id_order(e) {
        if e.projects[p].cost > e.budget {
            notes[p] = sentence(
                format!(
                    "造价{}超过总预算{}，不参与计票。",
                    amount(&e.projects[p].cost),
                    amount(&e.budget)
                ),
                format!(
                    "Its cost {} exceeds the whole budget of {}, so it was not considered.",
                    amount(&e.projects[p].cost),
                    amount(&e.budget)
                ),
            );
        } else {
            remaining.push(p);
        }
    }
    let mut spent = BigRational::zero();
    let mut order = Vec::new();
    let mut stopped_by: Option<usize> = None;
    while !remaining.is_empty() {
        // None stands for an infinite load (a project nobody approved).
        let new_load = |p: usize| -> Option<BigRational> {
            if s.votes[p] == 0 {
                None
            } else {
                Some((&load_sum[p] + &e.projects[p].cost) / int(s.votes[p]))
            }
        };
        let mut best: Option<Option<BigRational>> = None;
        let mut tied: Vec<usize> = Vec::new();
        for &p in &remaining {
            let l = new_load(p);
            let better = match &best {
                None => true,
                Some(b) => match (&l, b) {
                    (Some(x), Some(y)) => x < y,
                    (Some(_), None) => true,
                    _ => false,
                },
            };
            if better {
                best = Some(l);
                tied = vec![p];
            } else if best.as_ref() == Some(&l) {
                tied.push(p);
            }
        }
        let best = best.expect("remaining is not empty");
        if let Some(&p) = tied.iter().find(|&&p| &spent + &e.projects[p].cost > e.budget) {
            stopped_by = Some(p);
            break;
        }
        let chosen = *tied
            .iter()
            .min_by(|&&a, &&b| e.projects[a].id.cmp(&e.projects[b].id))
            .expect("tied is not empty");
        if let Some(l) = &best {
            let class = class_load.len();
            class_load.push(l.clone());
            let mut moved: HashMap<(usize, usize), u64> = HashMap::new();
            for &g in &supporters[chosen] {
                let old = class_of[g];
                for (q, _) in &ballots[g] {
                    *moved.entry((*q, old)).or_insert(0) += mult[g];
                }
                class_of[g] = class;
            }
            let mut delta_by_class: HashMap<usize, BigRational> = HashMap::new();
            for ((q, old), m) in moved {
                let delta = delta_by_class.entry(old).or_insert_with(|| l - &class_load[old]);
                if !delta.is_zero() {
                    load_sum[q] += &*delta * int(m);
                }
            }
        }
        spent += &e.projects[chosen].cost;
        order.push(chosen);
        let round = order.len();
        notes[chosen] = match &best {
            Some(l) => sentence(
                format!(
                    "第{round}轮入选：{}位支持者的负担升至每人{}，为当时最低。",
                    s.votes[chosen],
                    amount(l)
                ),
                format!(
                    "Funded in round {round}: it raised its {} supporters' load to {} each, the lowest at that point.",
                    s.votes[chosen],
                    amount(l)
                ),
            ),
            None => sentence(
                format!("第{round}轮入选：无人支持，但预算尚有余额。"),
                format!("Funded in round {round}: nobody approved it, but money was left."),
            ),
        };
        remaining.retain(|&p| p != chosen);
    }
    for &p in &remaining {
        let cost = &e.projects[p].cost;
        let left = &e.budget - &spent;
        notes[p] = if Some(p) == stopped_by {
            sentence(
                format!(
                    "轮到它时（负担最低），造价{}超过剩余预算{}，计票到此结束。",
                    amount(cost),
                    amount(&left)
                ),
                format!(
                    "When its turn came (lowest load), its cost {} exceeded the {} left, which ended the count.",
                    amount(cost),
                    amount(&left)
                ),
            )
        } else {
            sentence(
                format!(
                    "计票结束前未轮到它（支持者负担较高），未获资助。剩余预算{}。",
                    amount(&left)
                ),
                format!(
                    "The count ended before its turn (its supporters' load would have been higher); {} was left.",
                    amount(&left)
                ),
            )
        };
    }
    (order, notes)
}
