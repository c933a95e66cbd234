//! Indicators of the closed loop (考核指标), kept incrementally.
//!
//! Storage keeps [`Counters`] per (unit, area, category, day) and adds, in the same transaction
//! as each event, the change that event causes ([`Counters::from_event`]); any indicator of any
//! period is then a sum of counters, never a scan of events. The rates are exact fractions
//! ([`Ratio`]) shown as percentages rounded half-up to 2 decimals in integer arithmetic:
//!
//! - 结案率 = closed / due_to_close; 按期结案率 = closed_on_time / due_to_close;
//!   返工率 = reworked / closed; 退单率 = returned / dispatched;
//! - 响应率 = contacted / valid follow-ups; 解决率 = solved / valid follow-ups;
//!   满意率 = (satisfied + 0.9 × basically satisfied) / valid follow-ups;
//! - a composite of the three follow-up rates with configurable weights ([`Composite`]), and
//!   GB/T 30428.4-style scores per role ([`RoleScore`]), graded A ≥ 90, B ≥ 75, C ≥ 60, D.
//!
//! A case is due to close (应结案) once it is closed or its deadline passed while it was with
//! the unit (the escalation sweep records that as supervision at [`OVERDUE_LEVEL`]); it counts
//! once, on the first of the two.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::case::{Case, CaseEvent, CloseKind, Recorded, Satisfaction, OVERDUE_LEVEL};
use crate::ids::CaseId;
use crate::org::string_enum;
use crate::DomainError;

macro_rules! counters {
    ($($(#[$m:meta])* $field:ident => $zh:literal;)+) => {
        /// Counts of the closed loop for some slice of cases (a unit, an area, a category, a day …).
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Counters {
            $($(#[$m])* pub $field: u64,)+
        }

        impl Counters {
            /// The field names (as in JSON and storage columns) with their Chinese names.
            pub const FIELDS: &'static [(&'static str, &'static str)] = &[$((stringify!($field), $zh),)+];

            /// Adds `other` to these counters.
            pub fn add(&mut self, other: &Counters) {
                $(self.$field += other.$field;)+
            }

            /// The values in the order of [`Counters::FIELDS`].
            pub fn values(&self) -> Vec<u64> {
                vec![$(self.$field,)+]
            }
        }
    };
}

counters! {
    /// 信息收集数: reports.
    collected => "上报数";
    /// 立案数.
    registered => "立案数";
    /// 作废数.
    voided => "作废数";
    /// 派遣数: dispatches, re-dispatches included.
    dispatched => "派遣数";
    /// 应结案数: cases closed or overdue (counted once per case).
    due_to_close => "应结案数";
    /// 结案数.
    closed => "结案数";
    /// 按期结案数: closed normally (正常结案).
    closed_on_time => "按期结案数";
    /// 返工案件数: closed cases that were reworked at least once.
    reworked => "返工数";
    /// 退单数.
    returned => "退单数";
    /// 延期数: approved extensions.
    extensions => "延期数";
    /// 超期数: cases that went past their deadline (counted once per case).
    overdue => "超期数";
    /// 有效回访数: follow-ups in which the resident gave a verdict.
    followups_valid => "有效回访数";
    /// 响应数: valid follow-ups saying the unit contacted the resident.
    contacted => "响应数";
    /// 解决数: valid follow-ups saying the problem is solved.
    solved => "解决数";
    /// 满意数.
    satisfied => "满意数";
    /// 基本满意数.
    basically_satisfied => "基本满意数";
    /// 不满意数.
    dissatisfied => "不满意数";
}

impl std::ops::AddAssign<&Counters> for Counters {
    fn add_assign(&mut self, other: &Counters) {
        self.add(other);
    }
}

impl<'a> std::iter::Sum<&'a Counters> for Counters {
    fn sum<I: Iterator<Item = &'a Counters>>(iter: I) -> Self {
        let mut total = Counters::default();
        iter.for_each(|c| total.add(c));
        total
    }
}

impl Counters {
    /// The change one event causes, given the case before it.
    pub fn from_event(before: &Case, event: &CaseEvent) -> Counters {
        use CaseEvent as E;
        let mut c = Counters::default();
        match event {
            E::Collected(_) => c.collected = 1,
            E::Registered => c.registered = 1,
            E::Voided { .. } => c.voided = 1,
            E::Dispatched { .. } => c.dispatched = 1,
            E::Returned { .. } => c.returned = 1,
            E::ExtensionApproved { .. } => c.extensions = 1,
            E::Supervised { level, .. } if *level == OVERDUE_LEVEL && !before.overdue => {
                c.overdue = 1;
                c.due_to_close = 1;
            }
            E::Closed { kind, .. } => {
                c.closed = 1;
                c.closed_on_time = u64::from(*kind == CloseKind::Normal);
                c.due_to_close = u64::from(!before.overdue);
                c.overdue = u64::from(*kind == CloseKind::Overdue && !before.overdue);
                c.reworked = u64::from(before.reworks > 0);
            }
            E::FollowedUp {
                contacted,
                solved,
                satisfaction: Some(s),
            } => {
                c.followups_valid = 1;
                c.contacted = u64::from(*contacted);
                c.solved = u64::from(*solved);
                match s {
                    Satisfaction::Satisfied => c.satisfied = 1,
                    Satisfaction::BasicallySatisfied => c.basically_satisfied = 1,
                    Satisfaction::Dissatisfied => c.dissatisfied = 1,
                }
            }
            _ => {}
        }
        c
    }

    /// The counters of a whole history (what the increments of its events add up to).
    pub fn from_history(events: &[Recorded]) -> Counters {
        let mut case = Case::new(CaseId(0));
        let mut total = Counters::default();
        for r in events {
            total.add(&Counters::from_event(&case, &r.event));
            case.apply(&r.event, r.at_ms);
        }
        total
    }

    /// 结案率 = closed / due_to_close.
    pub fn closure_rate(&self) -> Option<Ratio> {
        Ratio::new(self.closed, self.due_to_close)
    }

    /// 按期结案率 = closed_on_time / due_to_close.
    pub fn on_time_closure_rate(&self) -> Option<Ratio> {
        Ratio::new(self.closed_on_time, self.due_to_close)
    }

    /// 返工率 = reworked / closed.
    pub fn rework_rate(&self) -> Option<Ratio> {
        Ratio::new(self.reworked, self.closed)
    }

    /// 退单率 = returned / dispatched.
    pub fn return_rate(&self) -> Option<Ratio> {
        Ratio::new(self.returned, self.dispatched)
    }

    /// 响应率 = contacted / valid follow-ups.
    pub fn response_rate(&self) -> Option<Ratio> {
        Ratio::new(self.contacted, self.followups_valid)
    }

    /// 解决率 = solved / valid follow-ups.
    pub fn solution_rate(&self) -> Option<Ratio> {
        Ratio::new(self.solved, self.followups_valid)
    }

    /// 满意率 = (satisfied + 0.9 × basically satisfied) / valid follow-ups.
    pub fn satisfaction_rate(&self) -> Option<Ratio> {
        Ratio::new_wide(
            10 * u128::from(self.satisfied) + 9 * u128::from(self.basically_satisfied),
            10 * u128::from(self.followups_valid),
        )
    }
}

/// The unit an event's counts belong to: the new unit for a dispatch, else the case's unit.
pub fn attributed_unit(before: &Case, event: &CaseEvent) -> Option<i64> {
    match event {
        CaseEvent::Dispatched { unit, .. } => Some(*unit),
        _ => before.unit,
    }
}

/// An exact non-negative fraction, kept reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: u128,
    den: u128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// `num / den`; `None` when `den` is 0 (no cases: the rate is undefined, shown as "—").
    pub fn new(num: u64, den: u64) -> Option<Ratio> {
        Self::new_wide(num.into(), den.into())
    }

    fn new_wide(num: u128, den: u128) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Ratio {
            num: num / g,
            den: den / g,
        })
    }

    pub fn num(&self) -> u128 {
        self.num
    }

    pub fn den(&self) -> u128 {
        self.den
    }

    /// `1 − self`, at least 0 (e.g. 1 − 返工率).
    pub fn complement(&self) -> Ratio {
        Ratio {
            num: self.den - self.num.min(self.den),
            den: self.den,
        }
        .reduced()
    }

    fn reduced(self) -> Ratio {
        Self::new_wide(self.num, self.den).expect("a ratio has a non-zero denominator")
    }

    /// The value times `10^decimals`, rounded half up.
    pub fn scaled(&self, decimals: u32) -> u128 {
        (self.num * 10u128.pow(decimals) * 2 + self.den) / (2 * self.den)
    }

    /// The value with 2 decimals, rounded half up: `87.50`.
    pub fn fixed2(&self) -> String {
        let v = self.scaled(2);
        format!("{}.{:02}", v / 100, v % 100)
    }

    /// The value as a percentage with 2 decimals, rounded half up: `93.72%`.
    pub fn percent(&self) -> String {
        let v = self.scaled(4);
        format!("{}.{:02}%", v / 100, v % 100)
    }

    /// Whether the value is at least `n`.
    pub fn at_least(&self, n: u128) -> bool {
        self.num >= n * self.den
    }

    /// Σ wᵢ·rᵢ / Σ wᵢ over the parts that are defined; `None` if none is.
    pub fn weighted(parts: &[(u32, Option<Ratio>)]) -> Option<Ratio> {
        let defined: Vec<(u128, Ratio)> = parts
            .iter()
            .filter_map(|(w, r)| r.map(|r| (u128::from(*w), r)))
            .filter(|(w, _)| *w > 0)
            .collect();
        let lcm = defined.iter().fold(1u128, |l, (_, r)| l / gcd(l, r.den) * r.den);
        let num: u128 = defined.iter().map(|(w, r)| w * r.num * (lcm / r.den)).sum();
        let weights: u128 = defined.iter().map(|(w, _)| w).sum();
        Self::new_wide(num, lcm * weights)
    }

    /// The value times 100: a rate as a score out of 100.
    pub fn points(&self) -> Ratio {
        Ratio {
            num: self.num * 100,
            den: self.den,
        }
        .reduced()
    }
}

/// A number written as text ("1234567.50", "-3120") with its whole part grouped by thousands
/// ("1,234,567.50", "-3,120"), as amounts of money are shown to people.
pub fn group_digits(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (whole, frac) = rest.split_once('.').map_or((rest, None), |(w, f)| (w, Some(f)));
    if !whole.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    let mut out = String::from(sign);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// `—` for an undefined rate, else its percentage.
pub fn percent_or_dash(r: Option<Ratio>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| r.percent())
}

string_enum! {
    /// The rates of the closed loop.
    Rate {
        /// 结案率.
        Closure => "closure_rate", "结案率", "Closure rate";
        /// 按期结案率.
        OnTimeClosure => "on_time_closure_rate", "按期结案率", "On-time closure rate";
        /// 返工率.
        Rework => "rework_rate", "返工率", "Rework rate";
        /// 退单率.
        Return => "return_rate", "退单率", "Return rate";
        /// 响应率.
        Response => "response_rate", "响应率", "Response rate";
        /// 解决率.
        Solution => "solution_rate", "解决率", "Solution rate";
        /// 满意率.
        Satisfaction => "satisfaction_rate", "满意率", "Satisfaction rate";
    }
}

impl Rate {
    pub fn of(self, c: &Counters) -> Option<Ratio> {
        match self {
            Rate::Closure => c.closure_rate(),
            Rate::OnTimeClosure => c.on_time_closure_rate(),
            Rate::Rework => c.rework_rate(),
            Rate::Return => c.return_rate(),
            Rate::Response => c.response_rate(),
            Rate::Solution => c.solution_rate(),
            Rate::Satisfaction => c.satisfaction_rate(),
        }
    }
}

/// A grade of a score out of 100: A ≥ 90, B ≥ 75, C ≥ 60, D below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    /// 优秀, 良好, 合格, 不合格.
    pub fn zh(self) -> &'static str {
        match self {
            Grade::A => "优秀",
            Grade::B => "良好",
            Grade::C => "合格",
            Grade::D => "不合格",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// The grade of a score out of 100 (exact comparison, no rounding).
pub fn grade(score: &Ratio) -> Grade {
    if score.at_least(90) {
        Grade::A
    } else if score.at_least(75) {
        Grade::B
    } else if score.at_least(60) {
        Grade::C
    } else {
        Grade::D
    }
}

/// The composite of the follow-up rates (综合评价): weights in basis points (1/10000) that sum
/// to 10000. The default is one published set: 响应率 10%, 解决率 50%, 满意率 40%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composite {
    pub response: u32,
    pub solution: u32,
    pub satisfaction: u32,
}

impl Default for Composite {
    fn default() -> Self {
        Composite {
            response: 1000,
            solution: 5000,
            satisfaction: 4000,
        }
    }
}

impl Composite {
    /// Weights in basis points; they must sum to 10000 (100%).
    pub fn new(response: u32, solution: u32, satisfaction: u32) -> Result<Self, DomainError> {
        let c = Composite {
            response,
            solution,
            satisfaction,
        };
        c.check()?;
        Ok(c)
    }

    pub fn check(&self) -> Result<(), DomainError> {
        let sum = u64::from(self.response) + u64::from(self.solution) + u64::from(self.satisfaction);
        if sum != 10_000 {
            return Err(DomainError::invalid(
                "weights",
                format!("weights sum to {}.{:02}%, not 100%", sum / 100, sum % 100),
            ));
        }
        Ok(())
    }

    /// The score out of 100; `None` without valid follow-ups.
    pub fn score(&self, c: &Counters) -> Option<Ratio> {
        if c.followups_valid == 0 {
            return None;
        }
        Ratio::weighted(&[
            (self.response, c.response_rate()),
            (self.solution, c.solution_rate()),
            (self.satisfaction, c.satisfaction_rate()),
        ])
        .map(|r| r.points())
    }
}

string_enum! {
    /// The roles and subjects scored in the GB/T 30428.4 manner.
    ScoredRole {
        /// 监督员 / 网格员: finds and reports problems.
        Inspector => "inspector", "监督员", "Inspector";
        /// 受理员: takes reports in and follows them up.
        Acceptor => "acceptor", "受理员", "Acceptor";
        /// 派遣员: sends cases to the right unit.
        Dispatcher => "dispatcher", "派遣员", "Dispatcher";
        /// 值班长: registers and closes cases.
        ShiftLeader => "shift_leader", "值班长", "Shift leader";
        /// 专业部门: handles cases.
        Department => "department", "专业部门", "Department";
        /// 区域: a grid, community, street or district.
        Region => "region", "区域", "Area";
    }
}

impl ScoredRole {
    /// The weighted parts of the role's score: (name, weight in basis points, rate). Rates
    /// without cases are left out and the other weights scaled up.
    ///
    /// - 监督员: 有效上报率 (collected − voided) / collected.
    /// - 受理员: 50% 有效受理率 (collected − voided) / collected + 50% 回访率 followups_valid / closed.
    /// - 派遣员: 派遣准确率 = 1 − 退单率.
    /// - 值班长: 50% 结案率 + 50% 按期结案率.
    /// - 专业部门: 50% 按期结案率 + 30% 结案率 + 20% (1 − 返工率).
    /// - 区域: 40% 按期结案率 + 20% 结案率 + 10% (1 − 返工率) + 30% 公众评价 (the default
    ///   [`Composite`], as a rate).
    pub fn parts(self, c: &Counters) -> Vec<(&'static str, u32, Option<Ratio>)> {
        let valid_reports = Ratio::new(c.collected.saturating_sub(c.voided), c.collected);
        let not_reworked = c.rework_rate().map(|r| r.complement());
        match self {
            ScoredRole::Inspector => vec![("有效上报率", 10_000, valid_reports)],
            ScoredRole::Acceptor => vec![
                ("有效受理率", 5_000, valid_reports),
                ("回访率", 5_000, Ratio::new(c.followups_valid.min(c.closed), c.closed)),
            ],
            ScoredRole::Dispatcher => vec![("派遣准确率", 10_000, c.return_rate().map(|r| r.complement()))],
            ScoredRole::ShiftLeader => {
                vec![
                    ("结案率", 5_000, c.closure_rate()),
                    ("按期结案率", 5_000, c.on_time_closure_rate()),
                ]
            }
            ScoredRole::Department => vec![
                ("按期结案率", 5_000, c.on_time_closure_rate()),
                ("结案率", 3_000, c.closure_rate()),
                ("1−返工率", 2_000, not_reworked),
            ],
            ScoredRole::Region => vec![
                ("按期结案率", 4_000, c.on_time_closure_rate()),
                ("结案率", 2_000, c.closure_rate()),
                ("1−返工率", 1_000, not_reworked),
                (
                    "公众评价",
                    3_000,
                    Composite::default().score(c).map(|s| {
                        Ratio {
                            num: s.num,
                            den: s.den * 100,
                        }
                        .reduced()
                    }),
                ),
            ],
        }
    }
}

/// A role's score out of 100 and its grade; both `None` when no part has cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleScore {
    pub role: ScoredRole,
    pub score: Option<Ratio>,
    pub grade: Option<Grade>,
}

impl RoleScore {
    pub fn compute(role: ScoredRole, c: &Counters) -> RoleScore {
        let parts: Vec<(u32, Option<Ratio>)> = role.parts(c).into_iter().map(|(_, w, r)| (w, r)).collect();
        let score = Ratio::weighted(&parts).map(|r| r.points());
        RoleScore {
            role,
            score,
            grade: score.as_ref().map(grade),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn digits_are_grouped_by_thousands() {
        assert_eq!(super::group_digits("3120"), "3,120");
        assert_eq!(super::group_digits("147088"), "147,088");
        assert_eq!(super::group_digits("1234567.50"), "1,234,567.50");
        assert_eq!(super::group_digits("-1000"), "-1,000");
        assert_eq!(super::group_digits("999"), "999");
        assert_eq!(super::group_digits("33.33"), "33.33");
        assert_eq!(super::group_digits("n/a"), "n/a");
    }

    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::case::{
        allowed, collect, decide, transition, Action, ActionKind, CaseSource, DecisionContext, Intake, Limit,
    };
    use crate::catalogue::Catalogue;
    use crate::ids::PersonId;
    use crate::org::Role;
    use crate::territory::Level;

    fn r(n: u64, d: u64) -> Ratio {
        Ratio::new(n, d).unwrap()
    }

    #[test]
    fn published_closure_rate() {
        let c = Counters {
            closed: 911,
            due_to_close: 972,
            ..Counters::default()
        };
        assert_eq!(c.closure_rate().unwrap().percent(), "93.72%");
        assert_eq!(percent_or_dash(Counters::default().closure_rate()), "—");
    }

    #[test]
    fn rounding_is_half_up_and_exact() {
        assert_eq!(r(1, 8).percent(), "12.50%");
        assert_eq!(r(1, 3).percent(), "33.33%");
        assert_eq!(r(2, 3).percent(), "66.67%");
        assert_eq!(r(1, 80_000).percent(), "0.00%");
        assert_eq!(r(1, 20_000).percent(), "0.01%"); // 0.005% rounds up
        assert_eq!(r(1, 1).percent(), "100.00%");
        assert_eq!(r(0, 5).percent(), "0.00%");
        assert_eq!(r(875, 10).fixed2(), "87.50");
        assert_eq!(r(3, 2), r(6, 4));
        assert_eq!(r(1, 4).complement(), r(3, 4));
        assert_eq!(r(5, 4).complement(), r(0, 1));
        // 0.1 + 0.2 in floats is 0.30000000000000004; here it is 3/10.
        assert_eq!(
            Ratio::weighted(&[(1, Some(r(1, 10))), (1, Some(r(2, 10)))]),
            Some(r(3, 20))
        );
        assert_eq!(Ratio::weighted(&[(1, None)]), None);
        assert_eq!(Ratio::weighted(&[(3, Some(r(1, 2))), (1, None)]), Some(r(1, 2)));
    }

    #[test]
    fn rates_and_composite() {
        let c = Counters {
            dispatched: 40,
            returned: 3,
            closed: 20,
            reworked: 2,
            followups_valid: 10,
            contacted: 10,
            solved: 8,
            satisfied: 6,
            basically_satisfied: 2,
            dissatisfied: 2,
            ..Counters::default()
        };
        assert_eq!(c.return_rate().unwrap().percent(), "7.50%");
        assert_eq!(c.rework_rate().unwrap().percent(), "10.00%");
        assert_eq!(c.response_rate().unwrap().percent(), "100.00%");
        assert_eq!(c.solution_rate().unwrap().percent(), "80.00%");
        assert_eq!(c.satisfaction_rate().unwrap().percent(), "78.00%");
        // 10% × 100 + 50% × 80 + 40% × 78 = 81.2
        let score = Composite::default().score(&c).unwrap();
        assert_eq!((score.fixed2(), grade(&score)), ("81.20".to_owned(), Grade::B));
        let heavy = Composite::new(0, 0, 10_000).unwrap();
        assert_eq!(heavy.score(&c).unwrap().fixed2(), "78.00");
        assert!(Composite::new(1000, 5000, 3000)
            .unwrap_err()
            .to_string()
            .contains("90.00%"));
        assert_eq!(Composite::default().score(&Counters::default()), None);
        for rate in Rate::ALL {
            assert_eq!(
                rate.of(&c).is_some(),
                rate != &Rate::Closure && rate != &Rate::OnTimeClosure,
                "{rate}"
            );
        }
        assert_eq!(Rate::Satisfaction.zh(), "满意率");
    }

    #[test]
    fn grades_at_the_boundaries() {
        let g = |n, d| grade(&r(n, d));
        assert_eq!(
            (g(90, 1), g(8999, 100), g(75, 1), g(7499, 100), g(60, 1), g(5999, 100)),
            (Grade::A, Grade::B, Grade::B, Grade::C, Grade::C, Grade::D)
        );
        assert_eq!((Grade::A.zh(), Grade::D.to_string()), ("优秀", "D".to_owned()));
        assert_eq!(serde_json::to_string(&Grade::B).unwrap(), "\"B\"");
    }

    #[test]
    fn role_scores() {
        let c = Counters {
            collected: 100,
            voided: 4,
            registered: 96,
            dispatched: 100,
            returned: 5,
            due_to_close: 90,
            closed: 88,
            closed_on_time: 80,
            reworked: 4,
            followups_valid: 44,
            contacted: 44,
            solved: 40,
            satisfied: 40,
            basically_satisfied: 4,
            ..Counters::default()
        };
        let score = |role| RoleScore::compute(role, &c);
        // 96 / 100
        assert_eq!(score(ScoredRole::Inspector).score.unwrap().fixed2(), "96.00");
        // 50% × 96 + 50% × 44/88
        assert_eq!(score(ScoredRole::Acceptor).score.unwrap().fixed2(), "73.00");
        assert_eq!(score(ScoredRole::Acceptor).grade, Some(Grade::C));
        assert_eq!(score(ScoredRole::Dispatcher).score.unwrap().fixed2(), "95.00");
        // 50% × 88/90 + 50% × 80/90 = 93.33…
        assert_eq!(score(ScoredRole::ShiftLeader).score.unwrap().fixed2(), "93.33");
        // 50% × 80/90 + 30% × 88/90 + 20% × 84/88 = 44.444 + 29.333 + 19.091 = 92.87
        let dept = score(ScoredRole::Department);
        assert_eq!(
            (dept.score.unwrap().fixed2(), dept.grade),
            ("92.87".to_owned(), Some(Grade::A))
        );
        // 40% × 80/90 + 20% × 88/90 + 10% × 84/88 + 30% × composite
        // composite = 10 × 1 + 50 × 40/44 + 40 × (400 + 36) / 440 = 10 + 45.4545 + 39.6364 = 95.0909
        // → 35.5556 + 19.5556 + 9.5455 + 28.5273 = 93.18
        assert_eq!(score(ScoredRole::Region).score.unwrap().fixed2(), "93.18");
        let none = RoleScore::compute(ScoredRole::Department, &Counters::default());
        assert_eq!((none.score, none.grade), (None, None));
        // Parts without cases are left out: a department that only has rework data.
        let only = Counters {
            closed: 2,
            reworked: 1,
            ..Counters::default()
        };
        assert_eq!(
            RoleScore::compute(ScoredRole::Department, &only)
                .score
                .unwrap()
                .fixed2(),
            "50.00"
        );
    }

    #[test]
    fn counters_add_and_serde() {
        let mut a = Counters {
            closed: 1,
            satisfied: 2,
            ..Counters::default()
        };
        let b = Counters {
            closed: 3,
            dissatisfied: 1,
            ..Counters::default()
        };
        a.add(&b);
        assert_eq!((a.closed, a.satisfied, a.dissatisfied), (4, 2, 1));
        let total: Counters = [a, b].iter().sum();
        assert_eq!(total.closed, 7);
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json["closed"], 4);
        assert_eq!(serde_json::from_str::<Counters>(r#"{"closed":4}"#).unwrap().closed, 4);
        assert_eq!(Counters::FIELDS.len(), a.values().len());
        assert_eq!(Counters::FIELDS[4], ("due_to_close", "应结案数"));
    }

    fn cal() -> &'static WorkCalendar {
        static CAL: OnceLock<WorkCalendar> = OnceLock::new();
        CAL.get_or_init(WorkCalendar::china_default)
    }

    fn catalogue() -> &'static Catalogue {
        static CAT: OnceLock<Catalogue> = OnceLock::new();
        CAT.get_or_init(Catalogue::default_cn)
    }

    /// Unix ms of Monday 3 March 2025, 10:00 China Standard Time.
    const T0: i64 = 1_740_967_200_000;
    const MIN: i64 = 60_000;

    fn intake() -> Intake {
        Intake {
            source: CaseSource::Hotline,
            category: String::new(),
            condition: "S0101-02".into(),
            description: "楼上夜间噪声".into(),
            lng: 104.0,
            lat: 30.6,
            grid: None,
            community: None,
        }
    }

    /// Drives a case through `steps` (each: action, role, minutes later), recording the events.
    fn drive(steps: &[(Action, Role, i64)]) -> (Case, Vec<Recorded>) {
        let first = collect(intake(), Role::Acceptor, catalogue()).unwrap();
        let mut case = Case::new(CaseId(1));
        case.apply(&first, T0);
        let mut log = vec![Recorded {
            event: first,
            at_ms: T0,
            actor: None,
            role: Role::Acceptor,
        }];
        let limit = Limit::from(catalogue().condition("S0101-02").unwrap().1);
        for (action, role, minutes) in steps {
            let now = T0 + minutes * MIN;
            let events = decide(&case, action, *role, &DecisionContext::new(now, cal(), limit)).unwrap();
            for e in events {
                case.apply(&e, now);
                log.push(Recorded {
                    event: e,
                    at_ms: now,
                    actor: Some(PersonId(1)),
                    role: *role,
                });
            }
        }
        (case, log)
    }

    fn dispatch(unit: i64) -> Action {
        Action::Dispatch {
            unit,
            unit_name: "社区".into(),
            level: Level::Community,
        }
    }

    #[test]
    fn a_path_counts_what_it_should() {
        use Role::*;
        let ext = || Action::RequestExtension {
            reason: "需协调".into(),
            extra_amount: 1,
        };
        let (case, log) = drive(&[
            (Action::Register, ShiftLeader, 1),
            (dispatch(1), Dispatcher, 2),
            (
                Action::Return {
                    reason: "不属于本社区".into(),
                },
                DepartmentHandler,
                3,
            ),
            (dispatch(2), Dispatcher, 4),
            (Action::Accept, DepartmentHandler, 5),
            (ext(), DepartmentHandler, 6),
            (Action::ApproveExtension, ShiftLeader, 7),
            (
                Action::ReportHandled {
                    note: "已协调".into()
                },
                DepartmentHandler,
                8,
            ),
            (
                Action::VerifyFail {
                    reason: "仍有噪声".into(),
                },
                GridWorker,
                9,
            ),
            (
                Action::Supervise {
                    level: OVERDUE_LEVEL,
                    note: "超期".into(),
                },
                Dispatcher,
                10 * 24 * 60,
            ),
            (
                Action::ReportHandled {
                    note: "已解决".into()
                },
                DepartmentHandler,
                10 * 24 * 60 + 1,
            ),
            (Action::VerifyPass, GridWorker, 10 * 24 * 60 + 2),
            (Action::Close { special_reason: None }, ShiftLeader, 10 * 24 * 60 + 3),
            (
                Action::FollowUp {
                    contacted: true,
                    solved: false,
                    satisfaction: Some(Satisfaction::BasicallySatisfied),
                },
                Acceptor,
                11 * 24 * 60,
            ),
        ]);
        assert_eq!(case.close_kind, Some(CloseKind::Overdue));
        let c = Counters::from_history(&log);
        let expected = Counters {
            collected: 1,
            registered: 1,
            dispatched: 2,
            returned: 1,
            extensions: 1,
            due_to_close: 1,
            overdue: 1,
            closed: 1,
            closed_on_time: 0,
            reworked: 1,
            followups_valid: 1,
            contacted: 1,
            solved: 0,
            basically_satisfied: 1,
            ..Counters::default()
        };
        assert_eq!(c, expected);
        assert_eq!(c.satisfaction_rate().unwrap().percent(), "90.00%");
        // The dispatch counts for the new unit, the return for the unit that returned it.
        let mut before = Case::new(CaseId(1));
        let mut units = Vec::new();
        for r in &log {
            units.push(attributed_unit(&before, &r.event));
            before.apply(&r.event, r.at_ms);
        }
        assert_eq!(&units[2..5], &[Some(1), Some(1), Some(2)]);

        let (on_time, log) = drive(&[
            (Action::Register, Acceptor, 1),
            (dispatch(3), ShiftLeader, 2),
            (Action::Accept, DepartmentHandler, 3),
            (
                Action::ReportHandled {
                    note: "已解决".into()
                },
                DepartmentHandler,
                4,
            ),
            (Action::VerifyPass, GridHead, 5),
            (Action::Close { special_reason: None }, ShiftLeader, 6),
            (
                Action::FollowUp {
                    contacted: false,
                    solved: false,
                    satisfaction: None,
                },
                Acceptor,
                7,
            ),
        ]);
        assert_eq!(on_time.close_kind, Some(CloseKind::Normal));
        let c = Counters::from_history(&log);
        assert_eq!(
            (c.due_to_close, c.closed, c.closed_on_time, c.overdue, c.reworked),
            (1, 1, 1, 0, 0)
        );
        assert_eq!(c.followups_valid, 0, "a follow-up without a verdict is not valid");
    }

    /// An action of `kind` for the random walk, its payload picked by `x`.
    fn walk_action(kind: ActionKind, x: u8) -> Action {
        match kind {
            ActionKind::Dispatch => dispatch(1 + i64::from(x % 3)),
            ActionKind::Whistle => Action::Whistle {
                lead: 1,
                lead_name: "a".into(),
                level: Level::District,
                co_units: vec![2],
            },
            ActionKind::Close => Action::Close {
                special_reason: matches!(x % 4, 0).then(|| "特殊".to_owned()),
            },
            ActionKind::Supervise => Action::Supervise {
                level: 1 + x % 3,
                note: "督办".into(),
            },
            ActionKind::FollowUp => Action::FollowUp {
                contacted: matches!(x % 2, 0),
                solved: matches!(x % 3, 0),
                satisfaction: [None, Some(Satisfaction::Satisfied), Some(Satisfaction::Dissatisfied)]
                    [usize::from(x % 3)],
            },
            ActionKind::RequestExtension => Action::RequestExtension {
                reason: "r".into(),
                extra_amount: 1,
            },
            ActionKind::Merge => Action::Merge { into: CaseId(9) },
            ActionKind::AbsorbDuplicate => Action::AbsorbDuplicate {
                case_id: CaseId(2 + i64::from(x)),
            },
            ActionKind::ReportToWhistle => Action::ReportToWhistle { unit: 2 },
            other => serde_json::from_value(serde_json::json!({"type": other.as_str(), "reason": "r", "note": "n"}))
                .expect("an action without other fields"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Along any path the per-event increments respect the definitions: each case is due,
        /// closed and overdue at most once, and the rates stay within 0–100%.
        #[test]
        fn increments_stay_consistent(
            steps in prop::collection::vec((any::<u8>(), any::<u8>(), 0i64..1200), 0..60)
        ) {
            let first = collect(intake(), Role::Acceptor, catalogue()).unwrap();
            let mut case = Case::new(CaseId(1));
            case.apply(&first, T0);
            let mut total = Counters::from_event(&Case::new(CaseId(1)), &first);
            let limit = Limit::from(catalogue().condition("S0101-02").unwrap().1);
            let mut now = T0;
            for (k, x, dt) in steps {
                now += dt * MIN;
                let options = allowed(case.state);
                if options.is_empty() {
                    break;
                }
                let kind = options[usize::from(k) % options.len()];
                let role = transition(case.state, kind).unwrap().roles[0];
                let action = walk_action(kind, x);
                if let Ok(events) = decide(&case, &action, role, &DecisionContext::new(now, cal(), limit)) {
                    for e in events {
                        total.add(&Counters::from_event(&case, &e));
                        case.apply(&e, now);
                    }
                }
            }
            prop_assert!(total.due_to_close <= 1 && total.closed <= 1 && total.overdue <= 1);
            prop_assert!(total.closed <= total.due_to_close);
            prop_assert!(total.closed_on_time + total.overdue <= total.due_to_close);
            prop_assert!(total.reworked <= total.closed);
            prop_assert!(total.returned <= total.dispatched);
            prop_assert_eq!(total.closed, u64::from(case.close_kind.is_some()));
            prop_assert_eq!(total.extensions, u64::from(case.extensions));
            prop_assert_eq!(total.overdue, u64::from(case.overdue));
            let verdicts = total.satisfied + total.basically_satisfied + total.dissatisfied;
            prop_assert_eq!(verdicts, total.followups_valid);
            for rate in Rate::ALL {
                if let Some(v) = rate.of(&total) {
                    prop_assert!(v.scaled(4) <= 10_000, "{} {}", rate, v.percent());
                }
            }
        }
    }
}
