//! Participatory-budget votes of micro-renewal (参与式预算投票): a vote's setup (budget in cents,
//! period, ballot rule, counting rule, exclusive sets, minimum shares per sub-area), who may vote
//! (verified residents of the community), counting through [`crate::decision::pb`], and the
//! pabulib `.pb` form of a vote's ballots.
//!
//! The election counts in yuan (cents / 100, exact rationals), so explanations read in yuan.
//! Ballots carry no voter: a vote's ballots are `(receipt, Ballot)` pairs.
//!
//! Minimum shares per sub-area (a grid): for each sub-area with a share, the rule first counts
//! that sub-area's projects alone with `share × budget`; then the rule counts the remaining
//! projects with what is left of the whole budget. Each stage is explained.

use std::collections::{HashMap, HashSet};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;
use serde::{Deserialize, Serialize};

use super::lifecycle::{self, named, row, Party, Refusal, Transition};
use crate::access::{Grant, Scope};
use crate::decision::ballot::{Ballot, BallotProject, BallotRule, BallotSpec};
use crate::decision::pabulib::{self, PbFile, VoteType};
use crate::decision::pb::{self, Ballots, Election, ProjectResult, Rule};
use crate::decision::Sentence;
use crate::org::{string_enum, Role};
use crate::DomainError;

/// A project on a vote's ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteProject {
    /// The id on the ballot and in `.pb` files (the proposal id as text for proposals).
    pub id: String,
    #[serde(default)]
    pub proposal: Option<i64>,
    pub title: String,
    pub cost_cents: i64,
    /// The sub-area (grid code) the project lies in, for minimum shares.
    #[serde(default)]
    pub area: Option<String>,
}

/// A minimum share of the budget for the projects of one sub-area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaShare {
    pub area: String,
    pub num: u32,
    pub den: u32,
}

/// How a vote is set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteSetup {
    pub title: String,
    pub community: String,
    pub budget_cents: i64,
    /// Unix milliseconds.
    pub opens_at: i64,
    pub closes_at: i64,
    /// approval {min, max} / within_budget {min_num, min_den} / cumulative {points, max_per_project}.
    pub ballot: BallotRule,
    /// greedy, mes, mes-add1 or phragmen.
    pub counting: Rule,
    pub projects: Vec<VoteProject>,
    #[serde(default)]
    pub exclusive: Vec<Vec<String>>,
    #[serde(default)]
    pub area_shares: Vec<AreaShare>,
}

/// Where a vote is in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Upcoming,
    Open,
    Closed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Upcoming => "upcoming",
            Phase::Open => "open",
            Phase::Closed => "closed",
        }
    }
}

/// Whether the grants make a person a verified resident of `community`: a Resident grant whose
/// scope covers the community (a division containing it) or lies in it (its grids).
pub fn resident_of(grants: &[Grant], community: &str) -> bool {
    grants.iter().any(|g| {
        g.role == Role::Resident
            && (g.scope.covers(community)
                || matches!(&g.scope, Scope::Grids(gs) if !gs.is_empty() && gs.iter().all(|x| x.starts_with(community))))
    })
}

fn yuan(cents: i64) -> BigRational {
    BigRational::new(BigInt::from(cents), BigInt::from(100))
}

impl VoteSetup {
    pub fn phase(&self, now: i64) -> Phase {
        if now < self.opens_at {
            Phase::Upcoming
        } else if now < self.closes_at {
            Phase::Open
        } else {
            Phase::Closed
        }
    }

    /// The ballot as the decision module checks it (costs in cents).
    pub fn spec(&self) -> BallotSpec {
        BallotSpec {
            rule: self.ballot.clone(),
            projects: self
                .projects
                .iter()
                .map(|p| BallotProject {
                    id: p.id.clone(),
                    cost: p.cost_cents.max(0) as u64,
                })
                .collect(),
            budget: self.budget_cents.max(0) as u64,
            exclusive: self.exclusive.clone(),
        }
    }

    pub fn check(&self) -> Result<(), DomainError> {
        if self.title.trim().is_empty() {
            return Err(DomainError::invalid("title", "give the vote a title"));
        }
        if self.budget_cents <= 0 {
            return Err(DomainError::invalid(
                "budget_cents",
                "the budget is a positive number of cents",
            ));
        }
        if self.opens_at >= self.closes_at {
            return Err(DomainError::invalid("closes_at", "the vote must close after it opens"));
        }
        if self.projects.is_empty() {
            return Err(DomainError::invalid(
                "projects",
                "put at least one project on the ballot",
            ));
        }
        for p in &self.projects {
            if p.cost_cents <= 0 {
                return Err(DomainError::invalid(
                    "projects",
                    format!("project {}: the cost must be positive", p.id),
                ));
            }
            if p.id.is_empty() || p.id.contains([';', ',', '\n']) {
                return Err(DomainError::invalid(
                    "projects",
                    format!("project id {:?}: use letters and digits (no ; or ,)", p.id),
                ));
            }
        }
        if matches!(self.ballot, BallotRule::Motion) {
            return Err(DomainError::invalid(
                "ballot",
                "a budget vote uses approval, within_budget or cumulative ballots",
            ));
        }
        if self.counting == Rule::Phragmen && matches!(self.ballot, BallotRule::Cumulative { .. }) {
            return Err(DomainError::invalid(
                "counting",
                "sequential Phragmén counts approval ballots only; use greedy or mes with cumulative ballots",
            ));
        }
        self.spec().validate()?;
        let mut total = BigRational::zero();
        for s in &self.area_shares {
            if s.den == 0 || s.num == 0 || s.num > s.den {
                return Err(DomainError::invalid(
                    "area_shares",
                    format!("area {}: the share is a fraction between 0 and 1", s.area),
                ));
            }
            if !self.projects.iter().any(|p| p.area.as_deref() == Some(s.area.as_str())) {
                return Err(DomainError::invalid(
                    "area_shares",
                    format!("area {}: no project on the ballot lies in it", s.area),
                ));
            }
            total += BigRational::new(BigInt::from(s.num), BigInt::from(s.den));
        }
        if total > BigRational::from_integer(BigInt::from(1)) {
            return Err(DomainError::invalid(
                "area_shares",
                "the minimum shares add up to more than the budget",
            ));
        }
        Ok(())
    }

    /// The election of some ballots over some projects (all when `only` is None), in yuan.
    fn election(&self, ballots: &[Ballot], budget: BigRational, only: Option<&HashSet<String>>) -> Election {
        let projects: Vec<&VoteProject> = self
            .projects
            .iter()
            .filter(|p| only.is_none_or(|o| o.contains(&p.id)))
            .collect();
        let index: HashMap<&str, usize> = projects.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
        let one = BigRational::from_integer(BigInt::from(1));
        let ballots = ballots
            .iter()
            .map(|b| match b {
                Ballot::Projects { projects } => projects
                    .iter()
                    .filter_map(|p| index.get(p.as_str()).map(|&i| (i, one.clone())))
                    .collect(),
                Ballot::Points { points } => points
                    .iter()
                    .filter_map(|(p, x)| {
                        index
                            .get(p.as_str())
                            .map(|&i| (i, BigRational::from_integer(BigInt::from(*x))))
                    })
                    .collect(),
                Ballot::Motion { .. } => Vec::new(),
            })
            .collect();
        Election {
            budget,
            projects: projects
                .iter()
                .map(|p| pb::Project {
                    id: p.id.clone(),
                    cost: yuan(p.cost_cents),
                })
                .collect(),
            kind: self.kind(),
            ballots,
        }
    }

    fn kind(&self) -> Ballots {
        match self.ballot {
            BallotRule::Cumulative { .. } => Ballots::Cumulative,
            _ => Ballots::Approval,
        }
    }

    /// Counts the ballots under `rule` (the vote's own rule unless another is asked for).
    pub fn count(&self, ballots: &[Ballot], rule: Rule) -> Result<Count, DomainError> {
        let budget = yuan(self.budget_cents);
        let mut stages = Vec::new();
        let mut results: HashMap<String, ProjectResult> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut spent = BigRational::zero();
        for s in &self.area_shares {
            let ids: HashSet<String> = self
                .projects
                .iter()
                .filter(|p| p.area.as_deref() == Some(s.area.as_str()))
                .map(|p| p.id.clone())
                .collect();
            let share = &budget * BigRational::new(BigInt::from(s.num), BigInt::from(s.den));
            let out = self.election(ballots, share.clone(), Some(&ids)).count(rule)?;
            for id in &out.order {
                let cost = self
                    .projects
                    .iter()
                    .find(|p| &p.id == id)
                    .map(|p| yuan(p.cost_cents))
                    .unwrap_or_default();
                spent += cost;
                order.push(id.clone());
            }
            for mut r in out.projects.into_iter().filter(|r| r.funded) {
                r.explanation = Sentence {
                    zh: format!(
                        "片区 {} 保底份额（{}/{}，{} 元）内：{}",
                        s.area,
                        s.num,
                        s.den,
                        pb::money(&share),
                        r.explanation.zh
                    ),
                    en: format!(
                        "within the minimum share of area {} ({}/{}, {}): {}",
                        s.area,
                        s.num,
                        s.den,
                        pb::money(&share),
                        r.explanation.en
                    ),
                };
                results.insert(r.id.clone(), r);
            }
            stages.push(Sentence {
                zh: format!(
                    "第一阶段：片区 {} 的项目在 {} 元保底份额内计票，资助 {}",
                    s.area,
                    pb::money(&share),
                    out.funded.join("、")
                ),
                en: format!(
                    "stage 1: the projects of area {} counted within its minimum share of {}; funded {}",
                    s.area,
                    pb::money(&share),
                    out.funded.join(", ")
                ),
            });
        }
        let rest: HashSet<String> = self
            .projects
            .iter()
            .filter(|p| !results.contains_key(&p.id))
            .map(|p| p.id.clone())
            .collect();
        let left = &budget - &spent;
        let out = self.election(ballots, left.clone(), Some(&rest)).count(rule)?;
        for id in &out.order {
            order.push(id.clone());
        }
        if !self.area_shares.is_empty() {
            stages.push(Sentence {
                zh: format!("第二阶段：其余项目在剩余 {} 元内计票", pb::money(&left)),
                en: format!(
                    "stage 2: the other projects counted within the {} left",
                    pb::money(&left)
                ),
            });
        }
        for r in out.projects {
            results.insert(r.id.clone(), r);
        }
        let mut total = BigRational::zero();
        for id in &order {
            if let Some(p) = self.projects.iter().find(|p| &p.id == id) {
                total += yuan(p.cost_cents);
            }
        }
        let mut funded = order.clone();
        funded.sort();
        // Votes and points over all ballots, not only a stage's.
        let all = self.election(ballots, budget.clone(), None);
        let mut votes = vec![0u64; all.projects.len()];
        let mut points = vec![BigRational::zero(); all.projects.len()];
        for b in &all.ballots {
            for (i, x) in b {
                votes[*i] += 1;
                points[*i] += x;
            }
        }
        let projects = self
            .projects
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut r = results.remove(&p.id).expect("every project is counted in one stage");
                r.votes = votes[i];
                r.points = pb::money(&points[i]);
                r.round = order.iter().position(|x| x == &p.id).map(|k| k + 1);
                ProjectView {
                    id: p.id.clone(),
                    proposal: p.proposal,
                    title: p.title.clone(),
                    cost_cents: p.cost_cents,
                    area: p.area.clone(),
                    result: r,
                }
            })
            .collect();
        Ok(Count {
            rule,
            ballots: ballots.len(),
            funded,
            order,
            spent: pb::money(&total),
            budget: pb::money(&budget),
            stages,
            projects,
        })
    }

    /// The vote as a pabulib file: each ballot under its receipt as voter id.
    pub fn to_pb(&self, ballots: &[(String, Ballot)]) -> PbFile {
        let only: Vec<Ballot> = ballots.iter().map(|(_, b)| b.clone()).collect();
        let e = self.election(&only, yuan(self.budget_cents), None);
        let mut meta = vec![
            ("description".to_string(), self.title.clone()),
            ("country".to_string(), "China".to_string()),
            ("unit".to_string(), self.community.clone()),
            ("instance".to_string(), self.title.clone()),
            ("currency".to_string(), "CNY".to_string()),
            ("rule".to_string(), self.counting.id().to_string()),
        ];
        match self.ballot {
            BallotRule::Approval { min, max } => {
                meta.push(("min_length".into(), min.to_string()));
                meta.push(("max_length".into(), max.to_string()));
            }
            BallotRule::Cumulative {
                points,
                max_per_project,
            } => {
                meta.push(("max_sum_points".into(), points.to_string()));
                if max_per_project > 0 {
                    meta.push(("max_points".into(), max_per_project.to_string()));
                }
            }
            _ => {}
        }
        let receipts: Vec<String> = ballots.iter().map(|(r, _)| r.clone()).collect();
        let mut f = pabulib::from_election(&e, meta, &receipts);
        f.project_columns = vec!["name".into()];
        for (p, v) in f.projects.iter_mut().zip(&self.projects) {
            p.extra = vec![Some(v.title.replace(';', ","))];
        }
        f
    }

    /// The ballots of a `.pb` file for this vote: its projects must be the vote's, at the same
    /// costs, and each ballot must follow the vote's rule. Errors name the line.
    pub fn ballots_from_pb(&self, text: &str, file: &PbFile) -> Result<Vec<Ballot>, pabulib::PbError> {
        let line_of = |section: &str, k: usize| -> usize {
            text.lines()
                .position(|l| l.trim().trim_matches('"') == section)
                .map(|i| i + 3 + k)
                .unwrap_or(0)
        };
        let err = |line: usize, message: String| pabulib::PbError { line, message };
        let cumulative = matches!(self.ballot, BallotRule::Cumulative { .. });
        match (file.vote_type, cumulative) {
            (VoteType::Approval | VoteType::Choose1, false) | (VoteType::Cumulative, true) => {}
            (t, _) => {
                return Err(err(
                    0,
                    format!(
                        "vote_type {} does not fit this vote's {} ballots",
                        t.name(),
                        if cumulative { "cumulative" } else { "approval" }
                    ),
                ))
            }
        }
        for (k, p) in file.projects.iter().enumerate() {
            match self.projects.iter().find(|v| v.id == p.id) {
                None => {
                    return Err(err(
                        line_of("PROJECTS", k),
                        format!("project {} is not on this vote's ballot", p.id),
                    ))
                }
                Some(v) if yuan(v.cost_cents) != p.cost => {
                    return Err(err(
                        line_of("PROJECTS", k),
                        format!(
                            "project {}: cost {} differs from the ballot's {}",
                            p.id,
                            pb::money(&p.cost),
                            pb::money(&yuan(v.cost_cents))
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let spec = self.spec();
        let mut out = Vec::with_capacity(file.votes.len());
        for (k, v) in file.votes.iter().enumerate() {
            let b = if cumulative {
                let pts = v.points.clone().unwrap_or_default();
                let mut given = Vec::new();
                for (p, x) in v.vote.iter().zip(pts) {
                    if !x.is_integer() || x.to_integer() < BigInt::zero() || x.to_integer() > BigInt::from(u32::MAX) {
                        return Err(err(
                            line_of("VOTES", k),
                            format!("voter {}: points must be whole numbers", v.voter_id),
                        ));
                    }
                    let n: u32 = x.to_integer().try_into().unwrap_or(0);
                    given.push((p.clone(), n));
                }
                Ballot::Points { points: given }
            } else {
                Ballot::Projects {
                    projects: v.vote.clone(),
                }
            };
            spec.check(&b)
                .map_err(|e| err(line_of("VOTES", k), format!("voter {}: {e}", v.voter_id)))?;
            out.push(b);
        }
        Ok(out)
    }
}

/// One project of a count, with what the vote knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectView {
    pub id: String,
    pub proposal: Option<i64>,
    pub title: String,
    pub cost_cents: i64,
    pub area: Option<String>,
    #[serde(flatten)]
    pub result: ProjectResult,
}

/// The result of counting a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub rule: Rule,
    pub ballots: usize,
    /// Funded project ids, sorted.
    pub funded: Vec<String>,
    /// In the order funded.
    pub order: Vec<String>,
    /// In yuan.
    pub spent: String,
    pub budget: String,
    /// The stages of a count with minimum shares per area (empty otherwise).
    pub stages: Vec<Sentence>,
    pub projects: Vec<ProjectView>,
}

string_enum! {
    /// Where a vote stands: its phase in time, and whether it was closed and counted.
    VoteState {
        /// 未开始: before it opens.
        Upcoming => "upcoming", "未开始", "Not yet open";
        /// 投票中: ballots are taken.
        Open => "open", "投票中", "Voting open";
        /// 已截止: its period is over, not yet counted.
        Closed => "closed", "已截止", "Closed";
        /// 已计票: closed and counted, its proposals marked funded or not funded (terminal).
        Counted => "counted", "已计票", "Counted";
    }
}

string_enum! {
    /// The steps of a vote.
    VoteAction {
        /// 开始投票: the opening time comes (the clock).
        Opens => "opens", "开始投票", "Voting opens";
        /// 投票截止: the closing time comes (the clock).
        Lapses => "lapses", "投票截止", "Voting closes";
        /// 投票: a verified resident casts a ballot online.
        Cast => "cast", "投票", "Cast a ballot";
        /// 录入纸质选票: staff enter a resident's paper ballot (first entry).
        EnterPaper => "enter_paper", "录入纸质选票", "Enter a paper ballot";
        /// 导入选票: staff import ballots from a `.pb` file.
        Import => "import", "导入选票", "Import ballots";
        /// 截止计票: staff close the vote (now, if still open) and count it.
        Close => "close", "截止计票", "Close and count";
    }
}

string_enum! {
    /// Where a paper ballot stands (stored as the ballot's status).
    PaperStatus {
        /// 待复核: entered once, not counted yet.
        Pending => "pending", "待复核", "Awaiting a second entry";
        /// 已计入: entered again alike by another staff member, counted (terminal).
        Counted => "counted", "已计入", "Counted";
    }
}

string_enum! {
    /// The steps of a paper ballot.
    PaperAction {
        /// 复核录入: another staff member enters the same ballot again.
        Confirm => "confirm", "复核录入", "Confirm by a second entry";
    }
}

named!(VoteState, VoteAction, PaperStatus, PaperAction);

impl VoteState {
    /// The state of a vote in `phase`, `finalised` once closed and counted.
    pub fn of(phase: Phase, finalised: bool) -> Self {
        match phase {
            _ if finalised => VoteState::Counted,
            Phase::Upcoming => VoteState::Upcoming,
            Phase::Open => VoteState::Open,
            Phase::Closed => VoteState::Closed,
        }
    }

    pub fn is_terminal(self) -> bool {
        self == VoteState::Counted
    }
}

impl PaperStatus {
    pub fn is_terminal(self) -> bool {
        self == PaperStatus::Counted
    }
}

use lifecycle::Target::{Stay, To};
use VoteAction as VA;
use VoteState as VS;

const STAFF: &[Party] = &[Party::Staff];

/// A vote's lifecycle: ballots while it is open; imports until it is counted; closing (and
/// counting) once it has opened, once. The clock opens it and lets it lapse.
pub const TRANSITIONS: &[Transition<VoteState, VoteAction>] = &[
    row(&[VS::Upcoming], VA::Opens, To(VS::Open), &[Party::System]),
    row(&[VS::Open], VA::Lapses, To(VS::Closed), &[Party::System]),
    row(&[VS::Open], VA::Cast, Stay, &[Party::Resident]),
    row(&[VS::Open], VA::EnterPaper, Stay, STAFF),
    row(&[VS::Upcoming, VS::Open, VS::Closed], VA::Import, Stay, STAFF),
    row(&[VS::Open, VS::Closed], VA::Close, To(VS::Counted), STAFF),
];

/// A paper ballot's lifecycle: counted once confirmed (the rules of the second entry, another
/// staff member and the same ballot, are the store's).
pub const PAPER_TRANSITIONS: &[Transition<PaperStatus, PaperAction>] = &[row(
    &[PaperStatus::Pending],
    PaperAction::Confirm,
    To(PaperStatus::Counted),
    STAFF,
)];

pub fn transition(state: VoteState, action: VoteAction) -> Option<&'static Transition<VoteState, VoteAction>> {
    lifecycle::transition(TRANSITIONS, state, action)
}

pub fn allowed(state: VoteState) -> Vec<VoteAction> {
    lifecycle::allowed(TRANSITIONS, state)
}

/// The state `action` leads to from `state`, or the refusal naming the state and the steps
/// allowed from it.
pub fn decide(state: VoteState, action: VoteAction) -> Result<VoteState, Refusal<VoteState, VoteAction>> {
    lifecycle::decide(TRANSITIONS, state, action).map(|t| t.resolve(state).unwrap_or(state))
}

/// The status confirming a paper ballot in `status` gives, or the refusal.
pub fn decide_paper(
    status: PaperStatus,
    action: PaperAction,
) -> Result<PaperStatus, Refusal<PaperStatus, PaperAction>> {
    lifecycle::decide(PAPER_TRANSITIONS, status, action).map(|t| t.resolve(status).unwrap_or(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::DivisionCode;

    fn setup() -> VoteSetup {
        VoteSetup {
            title: "2026 微更新".into(),
            community: "510104001001".into(),
            budget_cents: 600_000,
            opens_at: 0,
            closes_at: 100,
            ballot: BallotRule::Approval { min: 1, max: 2 },
            counting: Rule::Greedy,
            projects: [("1", 400_000, "g1"), ("2", 300_000, "g2"), ("3", 200_000, "g2")]
                .iter()
                .map(|(id, c, a)| VoteProject {
                    id: id.to_string(),
                    proposal: id.parse().ok(),
                    title: format!("P{id}"),
                    cost_cents: *c,
                    area: Some(a.to_string()),
                })
                .collect(),
            exclusive: vec![],
            area_shares: vec![],
        }
    }

    use super::super::lifecycle::check;

    #[test]
    fn vote_table_is_well_formed() {
        check::well_formed(
            TRANSITIONS,
            VoteState::ALL,
            VoteAction::ALL,
            VS::Upcoming,
            VoteState::is_terminal,
        );
        let s = setup();
        assert_eq!(VoteState::of(s.phase(-1), false), VS::Upcoming);
        assert_eq!(VoteState::of(s.phase(50), false), VS::Open);
        assert_eq!(VoteState::of(s.phase(100), false), VS::Closed);
        assert_eq!(VoteState::of(s.phase(100), true), VS::Counted);
    }

    #[test]
    fn every_vote_state_and_step_follows_the_table() {
        let ok = check::follows_the_table(TRANSITIONS, VoteState::ALL, VoteAction::ALL, |s, a| {
            lifecycle::decide(TRANSITIONS, s, a)
        });
        assert_eq!(ok, 1 + 1 + 1 + 1 + 3 + 2);
        for s in VoteState::ALL {
            for a in VoteAction::ALL {
                match (transition(*s, *a), decide(*s, *a)) {
                    (Some(t), Ok(to)) => assert_eq!(Some(to), t.to.resolve(*s)),
                    (None, Err(r)) => assert_eq!(r.allowed, allowed(*s)),
                    other => panic!("{s} {a}: {other:?}"),
                }
            }
        }
        assert_eq!(decide(VS::Open, VA::Close), Ok(VS::Counted));
        let r = decide(VS::Upcoming, VA::Cast).unwrap_err();
        assert_eq!(
            r.to_string(),
            "it is upcoming (未开始), which does not allow cast (投票); allowed: opens (开始投票), import (导入选票)"
        );
    }

    #[test]
    fn paper_ballot_table_is_well_formed_and_followed() {
        check::well_formed(
            PAPER_TRANSITIONS,
            PaperStatus::ALL,
            PaperAction::ALL,
            PaperStatus::Pending,
            PaperStatus::is_terminal,
        );
        let ok = check::follows_the_table(PAPER_TRANSITIONS, PaperStatus::ALL, PaperAction::ALL, |s, a| {
            lifecycle::decide(PAPER_TRANSITIONS, s, a)
        });
        assert_eq!(ok, 1);
        assert_eq!(
            decide_paper(PaperStatus::Pending, PaperAction::Confirm),
            Ok(PaperStatus::Counted)
        );
        assert!(decide_paper(PaperStatus::Counted, PaperAction::Confirm).is_err());
        assert_eq!("pending".parse::<PaperStatus>().unwrap(), PaperStatus::Pending);
    }

    fn b(ids: &[&str]) -> Ballot {
        Ballot::Projects {
            projects: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn counts_in_yuan_with_explanations() {
        let s = setup();
        s.check().unwrap();
        let ballots = vec![b(&["1"]), b(&["1", "3"]), b(&["2"])];
        let c = s.count(&ballots, Rule::Greedy).unwrap();
        assert_eq!(c.funded, ["1", "3"]);
        assert_eq!(c.spent, "6000");
        assert_eq!(c.projects[0].result.votes, 2);
        assert!(!c.projects[1].result.funded);
    }

    #[test]
    fn minimum_share_per_area_is_counted_first() {
        let mut s = setup();
        s.area_shares = vec![AreaShare {
            area: "g2".into(),
            num: 1,
            den: 2,
        }];
        s.check().unwrap();
        let ballots = vec![b(&["1"]), b(&["1", "3"]), b(&["2"])];
        let c = s.count(&ballots, Rule::Greedy).unwrap();
        // g2 gets 3000 first: project 2 (1 vote, 3000) ties project 3 (1 vote) → "2" by id;
        // then 3000 is left for 1 (4000, too dear) and 3 (2000).
        assert_eq!(c.funded, ["2", "3"]);
        assert_eq!(c.order, ["2", "3"]);
        assert_eq!(c.stages.len(), 2);
        assert!(c.projects[1].result.explanation.en.contains("minimum share of area g2"));
    }

    #[test]
    fn pb_round_trip_and_refusals() {
        let s = setup();
        let ballots = vec![("r1".to_string(), b(&["1"])), ("r2".to_string(), b(&["2", "3"]))];
        let text = pabulib::write(&s.to_pb(&ballots));
        let f = pabulib::parse(&text).unwrap();
        let back = s.ballots_from_pb(&text, &f).unwrap();
        assert_eq!(back, vec![b(&["1"]), b(&["2", "3"])]);
        let bad = text.replace("2,3", "1,2,3");
        let f = pabulib::parse(&bad).unwrap();
        let e = s.ballots_from_pb(&bad, &f).unwrap_err();
        assert!(e.message.contains("between 1 and 2"), "{e:?}");
        let line = bad.lines().position(|l| l.contains("1,2,3")).unwrap() + 1;
        assert_eq!(e.line, line);
    }

    #[test]
    fn residents_by_grant() {
        let c = "510104001001";
        let g = |role, scope| Grant { role, scope };
        let d = |s: &str| Scope::Division(DivisionCode::parse(s).unwrap());
        assert!(resident_of(&[g(Role::Resident, d(c))], c));
        assert!(resident_of(
            &[g(Role::Resident, Scope::Grids(vec![format!("{c}001")]))],
            c
        ));
        assert!(!resident_of(&[g(Role::Resident, d("510104001002"))], c));
        assert!(!resident_of(&[g(Role::CommunityPlanner, d(c))], c));
    }
}
