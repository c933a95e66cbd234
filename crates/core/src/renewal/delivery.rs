//! Co-production and delivery (共建共治共享) of a renewal project: milestones with due and done
//! dates and photos, progress, money spent, contributions of residents and organisations
//! (volunteer hours, money, materials), upkeep commitments with periodic check-ins, and the
//! acceptance survey (验收) of the affected residents.
//!
//! Late milestones are supervised like late cases: [`supervision_due`] gives the level to record
//! with the closed loop's own levels ([`WARNING_LEVEL`] 预警 when the due date is within
//! [`WARNING_DAYS`], [`OVERDUE_LEVEL`] 超期 once it has passed), each recorded once, as the case
//! sweep does. Acceptance answers are counted into the closed loop's [`Counters`], so that the
//! satisfaction rate is the indicators' own 满意率 = (satisfied + 0.9 × basically satisfied) /
//! valid answers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::lifecycle::{self, named, row, Party, Refusal, Transition};
use super::works::{Place, Window, WorkKind};
use crate::case::{Satisfaction, OVERDUE_LEVEL, WARNING_LEVEL};
use crate::indicators::{Counters, Ratio};
use crate::org::string_enum;
use crate::DomainError;

/// A delivery project (共建项目) to start: a funded proposal's or one staff create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewDelivery {
    /// The funded proposal it delivers, if it comes from a vote.
    pub proposal: Option<i64>,
    /// The community (12-digit division code).
    pub community: String,
    pub title: String,
    /// What it does, for bundling with department works (usually a residents' project).
    pub kind: WorkKind,
    pub site: Place,
    pub budget_cents: i64,
    /// The planned window.
    pub window: Window,
}

impl NewDelivery {
    /// Check the title, community and budget.
    pub fn check(&self) -> Result<(), DomainError> {
        let n = self.title.trim().chars().count();
        if n == 0 || n > 200 {
            return Err(DomainError::invalid("title", "give a title of 1 to 200 characters"));
        }
        if self.community.len() != 12 || !self.community.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                "community",
                format!("'{}' is not a community code (12 digits)", self.community),
            ));
        }
        if self.budget_cents < 0 {
            return Err(DomainError::invalid("budget_cents", "a budget cannot be negative"));
        }
        Ok(())
    }
}

/// Days before its due date that an open milestone gets a warning (预警).
pub const WARNING_DAYS: i64 = 3;

/// A milestone of a delivery project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: i64,
    pub title: String,
    pub due: NaiveDate,
    pub done: Option<NaiveDate>,
    /// Names of the stored photos (documents).
    pub photos: Vec<String>,
    /// The highest supervision level recorded (0 none, 1 预警, 2 超期).
    pub supervision: u8,
}

crate::org::named_enum! {
    /// Where a milestone stands on a day.
    MilestoneState {
        Open => "open", "进行中", "open";
        DueSoon => "due_soon", "临近到期", "due soon";
        Late => "late", "已超期", "late";
        Done => "done", "按期完成", "done";
        DoneLate => "done_late", "超期完成", "done late";
    }
}

impl Milestone {
    pub fn state(&self, today: NaiveDate) -> MilestoneState {
        match self.done {
            Some(d) if d <= self.due => MilestoneState::Done,
            Some(_) => MilestoneState::DoneLate,
            None if today > self.due => MilestoneState::Late,
            None if (self.due - today).num_days() <= WARNING_DAYS => MilestoneState::DueSoon,
            None => MilestoneState::Open,
        }
    }

    /// Days past the due date (0 if not late).
    pub fn days_late(&self, today: NaiveDate) -> i64 {
        let end = self.done.unwrap_or(today);
        (end - self.due).num_days().max(0)
    }
}

string_enum! {
    /// A milestone's lifecycle state (its standing on a day is [`MilestoneState`]).
    MilestoneProgress {
        /// 未完成: not done yet; supervised when late or due soon.
        Open => "open", "未完成", "Not done";
        /// 已完成: done on its date (terminal; photos may still be added: a record, not a step).
        Done => "done", "已完成", "Done";
    }
}

string_enum! {
    /// The steps of a milestone.
    MilestoneAction {
        /// 完成: staff mark it done on the day it was done.
        Complete => "complete", "完成", "Complete";
        /// 督办: the sweep records a warning (预警) or overdue mark (超期).
        Supervise => "supervise", "督办", "Supervise";
    }
}

named!(MilestoneProgress, MilestoneAction);

impl MilestoneProgress {
    pub fn is_terminal(self) -> bool {
        self == MilestoneProgress::Done
    }
}

/// A milestone's lifecycle: done once; supervised until then.
pub const TRANSITIONS: &[Transition<MilestoneProgress, MilestoneAction>] = &[
    row(
        &[MilestoneProgress::Open],
        MilestoneAction::Complete,
        lifecycle::Target::To(MilestoneProgress::Done),
        &[Party::Staff],
    ),
    row(
        &[MilestoneProgress::Open],
        MilestoneAction::Supervise,
        lifecycle::Target::Stay,
        &[Party::System],
    ),
];

pub fn transition(
    state: MilestoneProgress,
    action: MilestoneAction,
) -> Option<&'static Transition<MilestoneProgress, MilestoneAction>> {
    lifecycle::transition(TRANSITIONS, state, action)
}

pub fn allowed(state: MilestoneProgress) -> Vec<MilestoneAction> {
    lifecycle::allowed(TRANSITIONS, state)
}

/// The state `action` leads to from `state`, or the refusal naming the state and the steps
/// allowed from it.
pub fn decide(
    state: MilestoneProgress,
    action: MilestoneAction,
) -> Result<MilestoneProgress, Refusal<MilestoneProgress, MilestoneAction>> {
    lifecycle::decide(TRANSITIONS, state, action).map(|t| t.resolve(state).unwrap_or(state))
}

impl Milestone {
    pub fn progress(&self) -> MilestoneProgress {
        if self.done.is_some() {
            MilestoneProgress::Done
        } else {
            MilestoneProgress::Open
        }
    }
}

/// The supervision level to record for a milestone on `today`, with its note, or `None` when
/// nothing new is due (each level once, as the case sweep records them; only while the table
/// allows supervising it).
pub fn supervision_due(m: &Milestone, today: NaiveDate) -> Option<(u8, &'static str)> {
    decide(m.progress(), MilestoneAction::Supervise).ok()?;
    match m.state(today) {
        MilestoneState::Late if m.supervision < OVERDUE_LEVEL => {
            Some((OVERDUE_LEVEL, "超期：里程碑已过期限 (milestone past its due date)"))
        }
        MilestoneState::DueSoon if m.supervision < WARNING_LEVEL => {
            Some((WARNING_LEVEL, "预警：里程碑临近期限 (milestone due soon)"))
        }
        _ => None,
    }
}

/// Progress as a whole percentage of milestones done (0 without milestones).
pub fn progress_percent(milestones: &[Milestone]) -> u32 {
    if milestones.is_empty() {
        return 0;
    }
    let done = milestones.iter().filter(|m| m.done.is_some()).count();
    (done * 100 / milestones.len()) as u32
}

crate::org::named_enum! {
    /// Who contributes.
    ContributorKind {
        Resident => "resident", "居民", "resident";
        Organisation => "organisation", "组织", "organisation";
    }
}

/// A contribution to a delivery project (共建): volunteer hours, money, materials, or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub contributor: String,
    pub kind: ContributorKind,
    /// The resident's person id, when a signed-in resident offers it.
    pub person: Option<i64>,
    /// The organisation's id, for an organisation of the register.
    pub organisation: Option<i64>,
    /// Volunteer hours in tenths of an hour.
    pub hours_tenths: i64,
    pub money_cents: i64,
    pub materials: String,
    pub date: NaiveDate,
}

impl Contribution {
    pub fn check(&self) -> Result<(), DomainError> {
        if self.contributor.trim().is_empty() || self.contributor.chars().count() > 100 {
            return Err(DomainError::invalid(
                "contributor",
                "give who contributes (1 to 100 characters)",
            ));
        }
        if self.hours_tenths < 0 || self.money_cents < 0 {
            return Err(DomainError::invalid(
                "hours/money",
                "hours and money cannot be negative",
            ));
        }
        if self.hours_tenths == 0 && self.money_cents == 0 && self.materials.trim().is_empty() {
            return Err(DomainError::invalid(
                "contribution",
                "give volunteer hours, money or materials (at least one)",
            ));
        }
        Ok(())
    }
}

/// Hours with at most one decimal (`2.5`) → tenths of an hour.
pub fn parse_hours(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 1
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    whole.checked_mul(10)?.checked_add(frac)
}

/// Tenths of an hour as text (`25` → `2.5`).
pub fn hours_text(tenths: i64) -> String {
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// The sums of a project's contributions and the co-produced share of its cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoProduction {
    pub contributions: usize,
    pub residents: usize,
    pub organisations: usize,
    pub hours_tenths: i64,
    pub money_cents: i64,
    pub with_materials: usize,
    /// Money contributed / budget, as a percentage text (`—` without a budget).
    pub money_share: String,
}

pub fn co_production(contributions: &[Contribution], budget_cents: i64) -> CoProduction {
    let money: i64 = contributions.iter().map(|c| c.money_cents).sum();
    let share = Ratio::new(money.max(0) as u64, budget_cents.max(0) as u64);
    CoProduction {
        contributions: contributions.len(),
        residents: contributions
            .iter()
            .filter(|c| c.kind == ContributorKind::Resident)
            .count(),
        organisations: contributions
            .iter()
            .filter(|c| c.kind == ContributorKind::Organisation)
            .count(),
        hours_tenths: contributions.iter().map(|c| c.hours_tenths).sum(),
        money_cents: money,
        with_materials: contributions.iter().filter(|c| !c.materials.trim().is_empty()).count(),
        money_share: crate::indicators::percent_or_dash(share),
    }
}

/// An upkeep commitment (后续管护): who looks after what, checking in every `every_days`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upkeep {
    pub id: i64,
    pub who: String,
    pub what: String,
    pub every_days: i64,
    pub from: NaiveDate,
    pub checkins: Vec<Checkin>,
}

/// One check-in of an upkeep commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkin {
    pub date: NaiveDate,
    /// Whether what is looked after is in good order.
    pub ok: bool,
    pub note: String,
}

impl Upkeep {
    /// Check a new commitment's fields.
    pub fn check_new(who: &str, what: &str, every_days: i64) -> Result<(), DomainError> {
        if who.trim().is_empty() || what.trim().is_empty() {
            return Err(DomainError::invalid("who/what", "say who looks after what"));
        }
        if !(1..=366).contains(&every_days) {
            return Err(DomainError::invalid("every_days", "check in every 1 to 366 days"));
        }
        Ok(())
    }

    /// When the next check-in is due: `every_days` after the last one (or after the start).
    pub fn next_due(&self) -> NaiveDate {
        let last = self.checkins.iter().map(|c| c.date).max().unwrap_or(self.from);
        last + chrono::Days::new(self.every_days as u64)
    }

    pub fn overdue(&self, today: NaiveDate) -> bool {
        today > self.next_due()
    }
}

/// One resident's acceptance answer (验收问卷).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub satisfaction: Satisfaction,
    /// Whether the project meets the need it was for.
    pub solved: bool,
    pub comment: String,
}

/// Acceptance answers counted as the closed loop counts follow-ups: each answer is a valid
/// follow-up with contact made, solved or not, and its verdict.
pub fn acceptance_counters(answers: &[Acceptance]) -> Counters {
    let mut c = Counters::default();
    for a in answers {
        c.followups_valid += 1;
        c.contacted += 1;
        c.solved += u64::from(a.solved);
        match a.satisfaction {
            Satisfaction::Satisfied => c.satisfied += 1,
            Satisfaction::BasicallySatisfied => c.basically_satisfied += 1,
            Satisfaction::Dissatisfied => c.dissatisfied += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::lifecycle::check;

    #[test]
    fn milestone_table_is_well_formed() {
        check::well_formed(
            TRANSITIONS,
            MilestoneProgress::ALL,
            MilestoneAction::ALL,
            MilestoneProgress::Open,
            MilestoneProgress::is_terminal,
        );
    }

    #[test]
    fn every_milestone_state_and_step_follows_the_table() {
        let ok = check::follows_the_table(TRANSITIONS, MilestoneProgress::ALL, MilestoneAction::ALL, |s, a| {
            lifecycle::decide(TRANSITIONS, s, a)
        });
        assert_eq!(ok, 2);
        let mut m = Milestone {
            id: 1,
            title: "铺装".into(),
            due: d("2026-05-10"),
            done: None,
            photos: vec![],
            supervision: 0,
        };
        assert_eq!(
            decide(m.progress(), MilestoneAction::Complete),
            Ok(MilestoneProgress::Done)
        );
        assert!(supervision_due(&m, d("2026-05-11")).is_some());
        m.done = Some(d("2026-05-12"));
        let r = decide(m.progress(), MilestoneAction::Complete).unwrap_err();
        assert_eq!(
            r.to_string(),
            "it is done (已完成), which does not allow complete (完成); allowed: nothing"
        );
        assert_eq!(supervision_due(&m, d("2026-05-20")), None);
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn m(due: &str, done: Option<&str>, supervision: u8) -> Milestone {
        Milestone {
            id: 1,
            title: "x".into(),
            due: d(due),
            done: done.map(d),
            photos: vec![],
            supervision,
        }
    }

    #[test]
    fn milestones_are_supervised_like_late_cases() {
        let today = d("2026-05-10");
        assert_eq!(m("2026-05-20", None, 0).state(today), MilestoneState::Open);
        assert_eq!(supervision_due(&m("2026-05-20", None, 0), today), None);
        let soon = m("2026-05-13", None, 0);
        assert_eq!(soon.state(today), MilestoneState::DueSoon);
        assert_eq!(supervision_due(&soon, today).unwrap().0, WARNING_LEVEL);
        assert_eq!(supervision_due(&m("2026-05-13", None, WARNING_LEVEL), today), None);
        let late = m("2026-05-01", None, WARNING_LEVEL);
        assert_eq!(late.state(today), MilestoneState::Late);
        assert_eq!(late.days_late(today), 9);
        assert_eq!(supervision_due(&late, today).unwrap().0, OVERDUE_LEVEL);
        assert_eq!(supervision_due(&m("2026-05-01", None, OVERDUE_LEVEL), today), None);
        assert_eq!(
            m("2026-05-01", Some("2026-05-01"), 0).state(today),
            MilestoneState::Done
        );
        assert_eq!(
            m("2026-05-01", Some("2026-05-04"), 0).state(today),
            MilestoneState::DoneLate
        );
        assert_eq!(supervision_due(&m("2026-05-01", Some("2026-05-04"), 0), today), None);
        let all = [m("2026-05-01", Some("2026-05-01"), 0), late.clone(), soon];
        assert_eq!(progress_percent(&all), 33);
        assert_eq!(progress_percent(&[]), 0);
    }

    #[test]
    fn acceptance_counts_like_the_indicators() {
        let a = |s, solved| Acceptance {
            satisfaction: s,
            solved,
            comment: String::new(),
        };
        let answers = [
            a(Satisfaction::Satisfied, true),
            a(Satisfaction::Satisfied, true),
            a(Satisfaction::BasicallySatisfied, true),
            a(Satisfaction::Dissatisfied, false),
        ];
        let c = acceptance_counters(&answers);
        assert_eq!(c.followups_valid, 4);
        // (2 + 0.9) / 4 = 72.5 %
        assert_eq!(c.satisfaction_rate().unwrap().percent(), "72.50%");
        assert_eq!(c.solution_rate().unwrap().percent(), "75.00%");
        assert!(acceptance_counters(&[]).satisfaction_rate().is_none());
    }

    #[test]
    fn contributions_and_upkeep() {
        assert_eq!(parse_hours("2.5"), Some(25));
        assert_eq!(parse_hours("3"), Some(30));
        assert_eq!(parse_hours("2.55"), None);
        assert_eq!(hours_text(25), "2.5");
        let c = |kind, hours, money, materials: &str| Contribution {
            contributor: "王".into(),
            kind,
            person: None,
            organisation: None,
            hours_tenths: hours,
            money_cents: money,
            materials: materials.into(),
            date: d("2026-05-01"),
        };
        assert!(c(ContributorKind::Resident, 0, 0, " ").check().is_err());
        assert!(c(ContributorKind::Resident, -1, 0, "").check().is_err());
        let all = [
            c(ContributorKind::Resident, 40, 0, ""),
            c(ContributorKind::Organisation, 0, 50_000, "花苗 200 株"),
            c(ContributorKind::Resident, 25, 10_000, ""),
        ];
        let p = co_production(&all, 1_200_000);
        assert_eq!(
            (p.residents, p.organisations, p.hours_tenths, p.money_cents),
            (2, 1, 65, 60_000)
        );
        assert_eq!(p.money_share, "5.00%");
        assert_eq!(p.with_materials, 1);
        let mut u = Upkeep {
            id: 1,
            who: "楼栋长".into(),
            what: "口袋公园".into(),
            every_days: 30,
            from: d("2026-06-01"),
            checkins: vec![],
        };
        assert_eq!(u.next_due(), d("2026-07-01"));
        assert!(u.overdue(d("2026-07-02")));
        u.checkins.push(Checkin {
            date: d("2026-06-28"),
            ok: true,
            note: String::new(),
        });
        assert_eq!(u.next_due(), d("2026-07-28"));
        assert!(!u.overdue(d("2026-07-02")));
        assert!(Upkeep::check_new("a", "b", 0).is_err());
    }
}
