//! The case closed loop (案件闭环) of 数字城管 (GB/T 30428) and the 12345 hotline, as an explicit,
//! event-sourced state machine.
//!
//! A case is the fold of its immutable events ([`CaseEvent`]): [`Case::replay`] rebuilds it,
//! [`Case::apply`] adds one event. What may happen next is decided by [`decide`], which checks
//! the one transition table [`TRANSITIONS`] (state × action → state, and the roles allowed),
//! then the rules that depend on the case (return window, extension count, whistle members …),
//! and returns the events to record. Handlers never decide; they record what [`decide`] returns.
//!
//! The loop: 信息收集 collect → 立案 register (or 作废 void) → 派遣 dispatch (by the 派单目录) →
//! 签收 accept, or 退单 return within the return window (reviewed: re-dispatched, or rejected and
//! the unit becomes 首办责任单位) → 处置 handle (延期 extension at most 3 times, 挂账 suspension) →
//! 处置反馈 report → 核查 verify on site (fail → 返工 rework) → 结案 close (normal, overdue,
//! special) → 回访评价 follow-up. 吹哨报到: a joint case with a lead unit and co-units that must
//! report (报到). 督办 supervision and warnings at any open step; duplicates are merged.
//!
//! Times are unix milliseconds (UTC); deadlines are computed on the [`WorkCalendar`].

use crate::ids::PersonId;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{TimerKind, WorkCalendar};
use crate::catalogue::{Catalogue, FilingCondition, MAX_TIME_LIMIT};
use crate::ids::CaseId;
use crate::org::{string_enum, Role};
use crate::territory::Level;
use crate::DomainError;

string_enum! {
    /// Where a case is in the closed loop.
    CaseState {
        /// 信息收集: reported, awaiting registration.
        Collected => "collected", "信息收集", "Reported";
        /// 立案: registered, awaiting dispatch.
        Registered => "registered", "立案", "Registered";
        /// 作废: not a case (terminal).
        Voided => "voided", "作废", "Voided";
        /// 派遣: sent to a unit, awaiting 签收 (accept) or 退单 (return).
        Dispatched => "dispatched", "派遣", "Dispatched";
        /// 退单: returned by the unit, awaiting review.
        Returned => "returned", "退单", "Returned";
        /// 处置: accepted by the unit and being handled.
        Handling => "handling", "处置中", "Being handled";
        /// 挂账: suspended (cannot be handled for now).
        Suspended => "suspended", "挂账", "Suspended";
        /// 处置反馈: handled as the unit reports, awaiting on-site verification (核查).
        Reported => "reported", "处置反馈", "Handling reported";
        /// 核查通过: verified on site, awaiting closing.
        Verified => "verified", "核查通过", "Verified";
        /// 结案: closed, awaiting follow-up.
        Closed => "closed", "结案", "Closed";
        /// 回访评价: followed up and evaluated (terminal).
        Evaluated => "evaluated", "回访评价", "Followed up";
        /// 合并: merged into another case (terminal).
        Merged => "merged", "已合并", "Merged";
    }
}

impl CaseState {
    /// No action leads out of it.
    pub fn is_terminal(self) -> bool {
        matches!(self, CaseState::Voided | CaseState::Evaluated | CaseState::Merged)
    }

    /// Not yet closed, voided or merged: supervision and merging of duplicates apply.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseState::Voided | CaseState::Closed | CaseState::Evaluated | CaseState::Merged
        )
    }

    /// The case is with a unit and its deadline (处置时限) runs.
    pub fn with_unit(self) -> bool {
        matches!(self, CaseState::Dispatched | CaseState::Handling | CaseState::Suspended)
    }
}

string_enum! {
    /// Where a report came from.
    CaseSource {
        /// 市民上报 a resident's report (app, mini-program).
        Resident => "resident", "市民上报", "Resident report";
        /// 热线 a hotline call taken by an acceptor (12345).
        Hotline => "hotline", "热线受理", "Hotline";
        /// 网格巡查 a grid worker's patrol.
        Patrol => "patrol", "网格巡查", "Grid patrol";
        /// 视频发现 video surveillance.
        Video => "video", "视频发现", "Video surveillance";
        /// 上级交办 assigned by a superior.
        Superior => "superior", "上级交办", "Assigned from above";
        /// 接口 an API client (Open311 …).
        Api => "api", "接口接入", "API";
        /// 专项交办 a department task from a wicked-problem initiative's back stage: an internal
        /// case, never shown to the public (see [`Case::is_internal`]).
        Initiative => "initiative", "专项交办", "Special initiative";
    }
}

string_enum! {
    /// How a case was closed.
    CloseKind {
        /// 正常结案: handled within its deadline.
        Normal => "normal", "正常结案", "Closed on time";
        /// 超期结案: handled after its deadline.
        Overdue => "overdue", "超期结案", "Closed overdue";
        /// 特殊结案: closed without regular handling, with a reason.
        Special => "special", "特殊结案", "Special close";
    }
}

string_enum! {
    /// The resident's verdict at follow-up (回访).
    Satisfaction {
        Satisfied => "satisfied", "满意", "Satisfied";
        BasicallySatisfied => "basically_satisfied", "基本满意", "Basically satisfied";
        Dissatisfied => "dissatisfied", "不满意", "Dissatisfied";
    }
}

string_enum! {
    /// The kinds of step a user asks for; the payloads are in [`Action`].
    ActionKind {
        Collect => "collect", "信息收集", "Report";
        Register => "register", "立案", "Register";
        Void => "void", "作废", "Void";
        /// 派遣, and re-dispatch (改派) of a dispatched or returned case.
        Dispatch => "dispatch", "派遣", "Dispatch";
        /// 吹哨: a joint case with a lead unit and co-units.
        Whistle => "whistle", "吹哨", "Blow the whistle";
        /// 逐级转派: a level on the way (district, street) passes the case on to the next one.
        Forward => "forward", "转派", "Forward";
        Accept => "accept", "签收", "Accept";
        Return => "return", "退单", "Return";
        /// Review of a return that refuses it: the unit must handle the case (首办责任).
        RejectReturn => "reject_return", "退单驳回", "Refuse the return";
        RequestExtension => "request_extension", "申请延期", "Request an extension";
        ApproveExtension => "approve_extension", "批准延期", "Approve the extension";
        DenyExtension => "deny_extension", "驳回延期", "Deny the extension";
        Suspend => "suspend", "挂账", "Suspend";
        Resume => "resume", "恢复处置", "Resume handling";
        ReportHandled => "report_handled", "处置反馈", "Report handling";
        /// 报到: a co-unit of a whistle acknowledges.
        ReportToWhistle => "report_to_whistle", "报到", "Report in";
        VerifyPass => "verify_pass", "核查通过", "Pass verification";
        VerifyFail => "verify_fail", "核查不通过", "Fail verification";
        Close => "close", "结案", "Close";
        FollowUp => "follow_up", "回访", "Follow up";
        Supervise => "supervise", "督办", "Supervise";
        /// Merge this case into another (it is a duplicate).
        Merge => "merge", "合并", "Merge";
        /// Record that a duplicate was merged into this case.
        AbsorbDuplicate => "absorb_duplicate", "并入重复件", "Absorb a duplicate";
    }
}

/// Supervision level 1: 预警, the deadline is near.
pub const WARNING_LEVEL: u8 = 1;
/// Supervision level 2: 超期, the deadline has passed while the case is with the unit. Recording
/// it makes the case count as due and overdue (see `indicators`).
pub const OVERDUE_LEVEL: u8 = 2;
/// Supervision level 3: 挂牌督办, supervision by a leader.
pub const LEADER_LEVEL: u8 = 3;

/// The most extensions (延期) a case may get.
pub const MAX_EXTENSIONS: u8 = 3;

/// What a report says: the payload of [`CaseEvent::Collected`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    pub source: CaseSource,
    /// Category (小类) code, e.g. `E0102`.
    pub category: String,
    /// Filing condition (立案条件) code, e.g. `E0102-01`.
    pub condition: String,
    pub description: String,
    pub lng: f64,
    pub lat: f64,
    /// The grid the location falls in, if any.
    pub grid: Option<String>,
    /// The community (社区) division code of the location, if known.
    pub community: Option<String>,
}

/// An immutable fact of a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEvent {
    /// 信息收集: the report.
    Collected(Intake),
    /// 立案.
    Registered,
    /// 作废.
    Voided {
        reason: String,
    },
    /// 派遣 to a unit with its deadline (处置时限).
    Dispatched {
        unit: i64,
        unit_name: String,
        deadline_ms: i64,
        level: Level,
    },
    /// 逐级派遣: in a layered deployment the case just dispatched to its acting unit first
    /// passes these levels, each of which must forward it ([`CaseEvent::Forwarded`]).
    Routed {
        via: Vec<Hop>,
    },
    /// 转派: the unit at one level passed the case on to the next (a hop, with its own time).
    Forwarded {
        by: i64,
        to: i64,
        to_name: String,
        to_level: Level,
    },
    /// 签收.
    Accepted,
    /// 退单.
    Returned {
        reason: String,
    },
    /// The return was refused on review: the unit must handle the case (首办责任单位).
    ReturnRejected {
        reason: String,
    },
    /// 申请延期 by `extra_amount` units of the case's timer.
    ExtensionRequested {
        reason: String,
        extra_amount: u32,
    },
    ExtensionApproved {
        new_deadline_ms: i64,
    },
    ExtensionDenied {
        reason: String,
    },
    /// 挂账.
    Suspended {
        reason: String,
    },
    Resumed,
    /// 处置反馈.
    HandlingReported {
        note: String,
    },
    /// 核查通过.
    VerificationPassed,
    /// 核查不通过: back to the unit (返工).
    VerificationFailed {
        reason: String,
    },
    /// 结案.
    Closed {
        kind: CloseKind,
        reason: Option<String>,
    },
    /// 回访评价.
    FollowedUp {
        contacted: bool,
        solved: bool,
        satisfaction: Option<Satisfaction>,
    },
    /// 吹哨: the lead unit is dispatched (a [`CaseEvent::Dispatched`] follows); the co-units must
    /// report by `report_deadline_ms`.
    Whistled {
        lead: i64,
        co_units: Vec<i64>,
        report_deadline_ms: i64,
    },
    /// 报到 of a co-unit.
    UnitReported {
        unit: i64,
    },
    /// 督办 / 预警 at a level ([`WARNING_LEVEL`], [`OVERDUE_LEVEL`], [`LEADER_LEVEL`]).
    Supervised {
        level: u8,
        note: String,
    },
    /// This case was merged into `case_id`.
    MergedInto {
        case_id: CaseId,
    },
    /// Case `case_id` was merged into this one.
    DuplicateMerged {
        case_id: CaseId,
    },
}

impl CaseEvent {
    /// The `type` tag, e.g. `dispatched`.
    pub fn name(&self) -> &'static str {
        use CaseEvent as E;
        match self {
            E::Collected(_) => "collected",
            E::Registered => "registered",
            E::Voided { .. } => "voided",
            E::Dispatched { .. } => "dispatched",
            E::Routed { .. } => "routed",
            E::Forwarded { .. } => "forwarded",
            E::Accepted => "accepted",
            E::Returned { .. } => "returned",
            E::ReturnRejected { .. } => "return_rejected",
            E::ExtensionRequested { .. } => "extension_requested",
            E::ExtensionApproved { .. } => "extension_approved",
            E::ExtensionDenied { .. } => "extension_denied",
            E::Suspended { .. } => "suspended",
            E::Resumed => "resumed",
            E::HandlingReported { .. } => "handling_reported",
            E::VerificationPassed => "verification_passed",
            E::VerificationFailed { .. } => "verification_failed",
            E::Closed { .. } => "closed",
            E::FollowedUp { .. } => "followed_up",
            E::Whistled { .. } => "whistled",
            E::UnitReported { .. } => "unit_reported",
            E::Supervised { .. } => "supervised",
            E::MergedInto { .. } => "merged_into",
            E::DuplicateMerged { .. } => "duplicate_merged",
        }
    }
}

/// An event as stored: when, by whom (`None`: the system) and in which role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub event: CaseEvent,
    pub at_ms: i64,
    pub actor: Option<PersonId>,
    pub role: Role,
}

/// What a user asks for; [`decide`] turns it into events or refuses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Only for a new case, through [`collect`]; on an existing case it is never allowed.
    Collect(Intake),
    Register,
    Void {
        reason: String,
    },
    Dispatch {
        unit: i64,
        unit_name: String,
        level: Level,
    },
    Whistle {
        lead: i64,
        lead_name: String,
        level: Level,
        co_units: Vec<i64>,
    },
    /// The unit holding a case on its way passes it on (逐级转派).
    Forward,
    Accept,
    Return {
        reason: String,
    },
    RejectReturn {
        reason: String,
    },
    RequestExtension {
        reason: String,
        extra_amount: u32,
    },
    ApproveExtension,
    DenyExtension {
        reason: String,
    },
    Suspend {
        reason: String,
    },
    Resume,
    ReportHandled {
        note: String,
    },
    ReportToWhistle {
        unit: i64,
    },
    VerifyPass,
    VerifyFail {
        reason: String,
    },
    /// `special_reason` makes it a 特殊结案; otherwise normal or overdue is derived.
    Close {
        special_reason: Option<String>,
    },
    FollowUp {
        contacted: bool,
        solved: bool,
        satisfaction: Option<Satisfaction>,
    },
    Supervise {
        level: u8,
        note: String,
    },
    Merge {
        into: CaseId,
    },
    AbsorbDuplicate {
        case_id: CaseId,
    },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        use Action as A;
        use ActionKind as K;
        match self {
            A::Collect(_) => K::Collect,
            A::Register => K::Register,
            A::Void { .. } => K::Void,
            A::Dispatch { .. } => K::Dispatch,
            A::Whistle { .. } => K::Whistle,
            A::Forward => K::Forward,
            A::Accept => K::Accept,
            A::Return { .. } => K::Return,
            A::RejectReturn { .. } => K::RejectReturn,
            A::RequestExtension { .. } => K::RequestExtension,
            A::ApproveExtension => K::ApproveExtension,
            A::DenyExtension { .. } => K::DenyExtension,
            A::Suspend { .. } => K::Suspend,
            A::Resume => K::Resume,
            A::ReportHandled { .. } => K::ReportHandled,
            A::ReportToWhistle { .. } => K::ReportToWhistle,
            A::VerifyPass => K::VerifyPass,
            A::VerifyFail { .. } => K::VerifyFail,
            A::Close { .. } => K::Close,
            A::FollowUp { .. } => K::FollowUp,
            A::Supervise { .. } => K::Supervise,
            A::Merge { .. } => K::Merge,
            A::AbsorbDuplicate { .. } => K::AbsorbDuplicate,
        }
    }
}

/// Where an action leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    To(CaseState),
    /// The state does not change (a fact is added: extension, report, supervision …).
    Stay,
}

impl Target {
    pub fn resolve(self, from: CaseState) -> CaseState {
        match self {
            Target::To(s) => s,
            Target::Stay => from,
        }
    }
}

/// One row of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: &'static [CaseState],
    pub action: ActionKind,
    pub to: Target,
    /// The roles that may take the action.
    pub roles: &'static [Role],
}

const fn row(from: &'static [CaseState], action: ActionKind, to: Target, roles: &'static [Role]) -> Transition {
    Transition {
        from,
        action,
        to,
        roles,
    }
}

use ActionKind as A;
use CaseState as S;
use Role as R;
use Target::{Stay, To};

const OPEN: &[CaseState] = &[
    S::Collected,
    S::Registered,
    S::Dispatched,
    S::Returned,
    S::Handling,
    S::Suspended,
    S::Reported,
    S::Verified,
];
const REGISTRARS: &[Role] = &[R::ShiftLeader, R::Acceptor];
const LEADERS: &[Role] = &[R::ShiftLeader];
const DISPATCHERS: &[Role] = &[R::Dispatcher, R::ShiftLeader];
const WHISTLERS: &[Role] = &[R::Dispatcher, R::ShiftLeader, R::Admin];
const HANDLERS: &[Role] = &[R::DepartmentHandler];
const FORWARDERS: &[Role] = &[R::DepartmentHandler, R::Dispatcher];
const VERIFIERS: &[Role] = &[R::GridWorker, R::GridHead];
const FOLLOWERS: &[Role] = &[R::Acceptor];
const SUPERVISORS: &[Role] = &[R::ShiftLeader, R::Dispatcher];
const MERGERS: &[Role] = &[R::Acceptor, R::Dispatcher, R::ShiftLeader];

/// The transition table: the only place that says which step is allowed from which state, by
/// whom, and where it leads. Each (state, action) pair appears at most once.
pub const TRANSITIONS: &[Transition] = &[
    row(&[S::Collected], A::Register, To(S::Registered), REGISTRARS),
    row(&[S::Collected, S::Registered], A::Void, To(S::Voided), LEADERS),
    row(
        &[S::Registered, S::Dispatched, S::Returned],
        A::Dispatch,
        To(S::Dispatched),
        DISPATCHERS,
    ),
    row(&[S::Registered, S::Returned], A::Whistle, To(S::Dispatched), WHISTLERS),
    row(&[S::Dispatched], A::Forward, Stay, FORWARDERS),
    row(&[S::Dispatched], A::Accept, To(S::Handling), HANDLERS),
    row(&[S::Dispatched], A::Return, To(S::Returned), HANDLERS),
    row(&[S::Returned], A::RejectReturn, To(S::Handling), DISPATCHERS),
    row(&[S::Handling], A::RequestExtension, Stay, HANDLERS),
    row(&[S::Handling], A::ApproveExtension, Stay, LEADERS),
    row(&[S::Handling], A::DenyExtension, Stay, LEADERS),
    row(&[S::Handling], A::Suspend, To(S::Suspended), LEADERS),
    row(&[S::Suspended], A::Resume, To(S::Handling), LEADERS),
    row(&[S::Handling], A::ReportHandled, To(S::Reported), HANDLERS),
    row(&[S::Dispatched, S::Handling], A::ReportToWhistle, Stay, HANDLERS),
    row(&[S::Reported], A::VerifyPass, To(S::Verified), VERIFIERS),
    row(&[S::Reported], A::VerifyFail, To(S::Handling), VERIFIERS),
    row(&[S::Verified, S::Suspended], A::Close, To(S::Closed), LEADERS),
    row(&[S::Closed], A::FollowUp, To(S::Evaluated), FOLLOWERS),
    row(OPEN, A::Supervise, Stay, SUPERVISORS),
    row(&[S::Collected, S::Registered], A::Merge, To(S::Merged), MERGERS),
    row(OPEN, A::AbsorbDuplicate, Stay, MERGERS),
];

/// The roles that may report a new case (信息收集).
pub const COLLECTORS: &[Role] = &[
    R::Resident,
    R::GridWorker,
    R::GridHead,
    R::Acceptor,
    R::Dispatcher,
    R::ShiftLeader,
    R::Admin,
];

/// The table row for `action` from `state`, if the step exists.
pub fn transition(state: CaseState, action: ActionKind) -> Option<&'static Transition> {
    TRANSITIONS
        .iter()
        .find(|t| t.action == action && t.from.contains(&state))
}

/// The actions the table allows from `state`, whatever the role, in table order.
pub fn allowed(state: CaseState) -> Vec<ActionKind> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from.contains(&state))
        .map(|t| t.action)
        .collect()
}

/// The actions the table allows from `state` to `role`.
pub fn allowed_for(state: CaseState, role: Role) -> Vec<ActionKind> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from.contains(&state) && t.roles.contains(&role))
        .map(|t| t.action)
        .collect()
}

/// A time limit: an amount of a timer's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub timer: TimerKind,
    pub amount: u32,
}

impl Limit {
    pub const fn new(timer: TimerKind, amount: u32) -> Self {
        Limit { timer, amount }
    }

    /// When the limit started at `start_ms` runs out on `calendar`.
    pub fn end(self, calendar: &WorkCalendar, start_ms: i64) -> i64 {
        calendar
            .deadline(instant(start_ms), self.timer, self.amount)
            .timestamp_millis()
    }
}

impl From<&FilingCondition> for Limit {
    fn from(c: &FilingCondition) -> Self {
        Limit::new(c.timer, c.time_limit)
    }
}

/// A unit a case passes on its way to the acting unit (a level that must forward it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub unit: i64,
    pub unit_name: String,
    pub level: Level,
}

/// What [`decide`] needs beyond the case: the time, the calendar and the limits that apply.
#[derive(Debug, Clone, Copy)]
pub struct DecisionContext<'a> {
    pub now_ms: i64,
    pub calendar: &'a WorkCalendar,
    /// The case's time limit (处置时限), from its filing condition.
    pub limit: Limit,
    /// How long after dispatch a unit may return the case (退单时限).
    pub return_window: Limit,
    /// How long a co-unit of a whistle has to report (报到时限).
    pub whistle_report: Limit,
    /// The unit the actor works for, when the caller knows it: unit actions (accept, return,
    /// extension, report, 报到) are then only allowed for that unit.
    pub actor_unit: Option<i64>,
    /// The levels a dispatch must pass before the acting unit, top first (a layered
    /// deployment's routing, see `flat::forwarding_levels`); empty: straight to the unit.
    pub via: &'a [Hop],
}

impl<'a> DecisionContext<'a> {
    /// The default return window: 2 working hours.
    pub const RETURN_WINDOW: Limit = Limit::new(TimerKind::WorkHours, 2);
    /// The default time to report to a whistle: 2 working hours.
    pub const WHISTLE_REPORT: Limit = Limit::new(TimerKind::WorkHours, 2);

    pub fn new(now_ms: i64, calendar: &'a WorkCalendar, limit: Limit) -> Self {
        DecisionContext {
            now_ms,
            calendar,
            limit,
            return_window: Self::RETURN_WINDOW,
            whistle_report: Self::WHISTLE_REPORT,
            actor_unit: None,
            via: &[],
        }
    }

    /// Dispatches pass these units first (layered routing).
    pub fn with_route(self, via: &'a [Hop]) -> Self {
        DecisionContext { via, ..self }
    }

    pub fn with_actor_unit(self, unit: i64) -> Self {
        DecisionContext {
            actor_unit: Some(unit),
            ..self
        }
    }
}

/// A joint case (吹哨报到).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whistle {
    pub lead: i64,
    pub co_units: Vec<i64>,
    pub report_deadline_ms: i64,
    /// Co-units that reported (报到), with when.
    pub reported: BTreeMap<i64, i64>,
}

impl Whistle {
    /// Co-units that have not reported yet.
    pub fn pending(&self) -> Vec<i64> {
        self.co_units
            .iter()
            .copied()
            .filter(|u| !self.reported.contains_key(u))
            .collect()
    }

    /// Co-units late at `now_ms`: reported after the deadline, or not yet and it has passed.
    pub fn late(&self, now_ms: i64) -> Vec<i64> {
        let d = self.report_deadline_ms;
        self.co_units
            .iter()
            .copied()
            .filter(|u| self.reported.get(u).map_or(now_ms > d, |&at| at > d))
            .collect()
    }
}

/// The follow-up (回访) answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The unit contacted the resident (响应).
    pub contacted: bool,
    /// The problem is solved (解决).
    pub solved: bool,
    /// `None`: the resident gave no verdict (not a valid follow-up, 无效回访).
    pub satisfaction: Option<Satisfaction>,
}

/// A case: the fold of its events. Every field is derived; nothing is stored apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub state: CaseState,
    /// Number of events applied (for optimistic concurrency).
    pub version: u64,
    pub source: Option<CaseSource>,
    pub category: String,
    pub condition: String,
    pub description: String,
    pub lng: f64,
    pub lat: f64,
    pub grid: Option<String>,
    pub community: Option<String>,
    /// The unit the case is (or was last) dispatched to.
    pub unit: Option<i64>,
    pub unit_name: Option<String>,
    pub unit_level: Option<Level>,
    /// The current deadline (处置时限), extensions included.
    pub deadline_ms: Option<i64>,
    /// Approved extensions (延期).
    pub extensions: u8,
    /// The extra amount of a pending extension request.
    pub extension_pending: Option<u32>,
    /// Failed verifications (返工).
    pub reworks: u32,
    /// Returns (退单).
    pub returns: u32,
    /// Dispatches, re-dispatches included.
    pub dispatches: u32,
    /// The current unit is the first responsible unit (首办责任单位): it may not return the case.
    pub first_responsible: bool,
    pub whistle: Option<Whistle>,
    /// The levels the last dispatch passes before its unit (empty: it went straight).
    #[serde(default)]
    pub route: Vec<Hop>,
    /// How many of them have forwarded it.
    #[serde(default)]
    pub hops_done: u32,
    /// When the acting unit got the case: the dispatch, or the last forwarding hop.
    #[serde(default)]
    pub reached_at_ms: Option<i64>,
    /// Highest supervision level recorded, 0 for none.
    pub supervision: u8,
    /// The deadline passed while the case was with the unit ([`OVERDUE_LEVEL`] recorded), or it
    /// was closed overdue.
    pub overdue: bool,
    pub close_kind: Option<CloseKind>,
    pub evaluation: Option<Evaluation>,
    pub merged_into: Option<CaseId>,
    pub duplicates: Vec<CaseId>,
    pub collected_at_ms: Option<i64>,
    pub registered_at_ms: Option<i64>,
    /// The last dispatch.
    pub dispatched_at_ms: Option<i64>,
    pub accepted_at_ms: Option<i64>,
    /// The last handling report (处置反馈).
    pub reported_at_ms: Option<i64>,
    pub closed_at_ms: Option<i64>,
}

impl Case {
    /// Whether the case is internal: an initiative's back-stage task. Internal cases run through
    /// the closed loop like any other, for staff, but never reach the public (Open311, residents'
    /// duplicate hints): those paths take a [`crate::case::PublicCase`], which an internal case
    /// cannot become.
    pub fn is_internal(&self) -> bool {
        self.source == Some(CaseSource::Initiative)
    }

    /// A case before its first event.
    pub fn new(id: CaseId) -> Self {
        Case {
            id,
            state: CaseState::Collected,
            version: 0,
            source: None,
            category: String::new(),
            condition: String::new(),
            description: String::new(),
            lng: 0.0,
            lat: 0.0,
            grid: None,
            community: None,
            unit: None,
            unit_name: None,
            unit_level: None,
            deadline_ms: None,
            extensions: 0,
            extension_pending: None,
            reworks: 0,
            returns: 0,
            dispatches: 0,
            first_responsible: false,
            whistle: None,
            route: Vec::new(),
            hops_done: 0,
            reached_at_ms: None,
            supervision: 0,
            overdue: false,
            close_kind: None,
            evaluation: None,
            merged_into: None,
            duplicates: Vec::new(),
            collected_at_ms: None,
            registered_at_ms: None,
            dispatched_at_ms: None,
            accepted_at_ms: None,
            reported_at_ms: None,
            closed_at_ms: None,
        }
    }

    /// Rebuilds a case from its history.
    pub fn replay(id: i64, events: &[Recorded]) -> Self {
        let mut case = Case::new(CaseId(id));
        for r in events {
            case.apply(&r.event, r.at_ms);
        }
        case
    }

    /// Adds one event that happened at `at_ms`. Events are facts: they are not checked here
    /// ([`decide`] checked them before they were recorded).
    pub fn apply(&mut self, event: &CaseEvent, at_ms: i64) {
        use CaseEvent as E;
        self.version += 1;
        match event {
            E::Collected(i) => {
                self.state = S::Collected;
                self.source = Some(i.source);
                self.category.clone_from(&i.category);
                self.condition.clone_from(&i.condition);
                self.description.clone_from(&i.description);
                (self.lng, self.lat) = (i.lng, i.lat);
                self.grid.clone_from(&i.grid);
                self.community.clone_from(&i.community);
                self.collected_at_ms = Some(at_ms);
            }
            E::Registered => {
                self.state = S::Registered;
                self.registered_at_ms = Some(at_ms);
            }
            E::Voided { .. } => self.state = S::Voided,
            E::Dispatched {
                unit,
                unit_name,
                deadline_ms,
                level,
            } => {
                self.state = S::Dispatched;
                self.unit = Some(*unit);
                self.unit_name = Some(unit_name.clone());
                self.unit_level = Some(*level);
                self.deadline_ms = Some(*deadline_ms);
                self.dispatched_at_ms = Some(at_ms);
                self.accepted_at_ms = None;
                self.first_responsible = false;
                self.extension_pending = None;
                self.dispatches += 1;
                self.route.clear();
                self.hops_done = 0;
                self.reached_at_ms = Some(at_ms);
            }
            E::Routed { via } => {
                self.route.clone_from(via);
                self.hops_done = 0;
                self.reached_at_ms = None;
            }
            E::Forwarded { .. } => {
                self.hops_done += 1;
                if self.hops_done as usize >= self.route.len() {
                    self.reached_at_ms = Some(at_ms);
                }
            }
            E::Accepted => {
                self.state = S::Handling;
                self.accepted_at_ms = Some(at_ms);
            }
            E::Returned { .. } => {
                self.state = S::Returned;
                self.returns += 1;
            }
            E::ReturnRejected { .. } => {
                self.state = S::Handling;
                self.first_responsible = true;
                self.accepted_at_ms = Some(at_ms);
            }
            E::ExtensionRequested { extra_amount, .. } => self.extension_pending = Some(*extra_amount),
            E::ExtensionApproved { new_deadline_ms } => {
                self.deadline_ms = Some(*new_deadline_ms);
                self.extensions = self.extensions.saturating_add(1);
                self.extension_pending = None;
            }
            E::ExtensionDenied { .. } => self.extension_pending = None,
            E::Suspended { .. } => self.state = S::Suspended,
            E::Resumed => self.state = S::Handling,
            E::HandlingReported { .. } => {
                self.state = S::Reported;
                self.reported_at_ms = Some(at_ms);
            }
            E::VerificationPassed => self.state = S::Verified,
            E::VerificationFailed { .. } => {
                self.state = S::Handling;
                self.reworks += 1;
            }
            E::Closed { kind, .. } => {
                self.state = S::Closed;
                self.close_kind = Some(*kind);
                self.closed_at_ms = Some(at_ms);
                self.overdue |= *kind == CloseKind::Overdue;
            }
            E::FollowedUp {
                contacted,
                solved,
                satisfaction,
            } => {
                self.state = S::Evaluated;
                self.evaluation = Some(Evaluation {
                    contacted: *contacted,
                    solved: *solved,
                    satisfaction: *satisfaction,
                });
            }
            E::Whistled {
                lead,
                co_units,
                report_deadline_ms,
            } => {
                self.whistle = Some(Whistle {
                    lead: *lead,
                    co_units: co_units.clone(),
                    report_deadline_ms: *report_deadline_ms,
                    reported: BTreeMap::new(),
                });
            }
            E::UnitReported { unit } => {
                if let Some(w) = &mut self.whistle {
                    w.reported.entry(*unit).or_insert(at_ms);
                }
            }
            E::Supervised { level, .. } => {
                self.supervision = self.supervision.max(*level);
                self.overdue |= *level == OVERDUE_LEVEL;
            }
            E::MergedInto { case_id } => {
                self.state = S::Merged;
                self.merged_into = Some(*case_id);
            }
            E::DuplicateMerged { case_id } => self.duplicates.push(*case_id),
        }
    }

    /// Counts as handled late: marked overdue, or the last handling report came after the
    /// deadline. This is what makes a close 超期结案 rather than 正常结案.
    pub fn is_late(&self) -> bool {
        self.overdue || matches!((self.reported_at_ms, self.deadline_ms), (Some(r), Some(d)) if r > d)
    }

    /// With its unit and past its deadline at `now_ms` (the condition for [`OVERDUE_LEVEL`]).
    pub fn is_overdue_at(&self, now_ms: i64) -> bool {
        self.state.with_unit() && self.deadline_ms.is_some_and(|d| now_ms > d)
    }

    /// When the current unit's return window ends (after it, the unit may not return the case):
    /// the window starts when the case reached the unit.
    pub fn return_window_end(&self, ctx: &DecisionContext<'_>) -> Option<i64> {
        self.reached_at_ms
            .or(self.dispatched_at_ms)
            .map(|d| ctx.return_window.end(ctx.calendar, d))
    }

    /// The unit holding a case that is still on its way (逐级转派中), if it is.
    pub fn in_transit(&self) -> Option<&Hop> {
        if self.state == S::Dispatched {
            self.route.get(self.hops_done as usize)
        } else {
            None
        }
    }

    /// The actions `role` may ask for now, as the table says (rules may still refuse one).
    pub fn allowed_actions(&self, role: Role) -> Vec<ActionKind> {
        allowed_for(self.state, role)
    }
}

/// Why a step was not taken. [`TransitionError::status`] gives the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The table has no such step from the case's state (409).
    #[error("cannot {action} ({}) a case that is {state} ({}); allowed: {}", action.zh(), state.zh(), join(.allowed))]
    NotAllowed {
        state: CaseState,
        action: ActionKind,
        allowed: Vec<ActionKind>,
    },
    /// The step exists, but a rule of the case refuses it now (409).
    #[error("cannot {action} ({}) now: {reason}", action.zh())]
    Refused {
        state: CaseState,
        action: ActionKind,
        reason: String,
        allowed: Vec<ActionKind>,
    },
    /// The role (or the actor's unit) may not take this step (403).
    #[error("{role} may not {action}: {reason}")]
    Forbidden {
        action: ActionKind,
        role: Role,
        reason: String,
    },
    /// The input is invalid (422).
    #[error(transparent)]
    Invalid(#[from] DomainError),
}

impl TransitionError {
    /// The HTTP status: 409 conflict, 403 forbidden or 422 unprocessable.
    pub fn status(&self) -> u16 {
        match self {
            TransitionError::NotAllowed { .. } | TransitionError::Refused { .. } => 409,
            TransitionError::Forbidden { .. } => 403,
            TransitionError::Invalid(_) => 422,
        }
    }

    /// The actions allowed from the case's state, for a 409.
    pub fn allowed(&self) -> &[ActionKind] {
        match self {
            TransitionError::NotAllowed { allowed, .. } | TransitionError::Refused { allowed, .. } => allowed,
            _ => &[],
        }
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "nothing".into();
    }
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A time in China Standard Time for messages.
fn local(ms: i64) -> String {
    instant(ms)
        .with_timezone(&crate::calendar::china_time())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn text(field: &str, value: &str) -> Result<(), TransitionError> {
    if value.trim().is_empty() {
        Err(DomainError::invalid(field, "must not be empty").into())
    } else if value.chars().count() > 2000 {
        Err(DomainError::invalid(field, "is longer than 2000 characters").into())
    } else {
        Ok(())
    }
}

fn check_unit(unit: i64, name: &str, level: Level) -> Result<(), TransitionError> {
    if unit <= 0 {
        return Err(DomainError::invalid("unit", format!("{unit} is not a unit id")).into());
    }
    text("unit_name", name)?;
    if !matches!(level, Level::District | Level::Street | Level::Community) {
        return Err(DomainError::invalid("level", format!("cannot dispatch to a {level} unit")).into());
    }
    Ok(())
}

/// Checks a new report and turns it into its first event. The condition must be in the
/// catalogue; an empty category is filled from it.
pub fn collect(mut intake: Intake, role: Role, catalogue: &Catalogue) -> Result<CaseEvent, TransitionError> {
    if !COLLECTORS.contains(&role) {
        return Err(TransitionError::Forbidden {
            action: ActionKind::Collect,
            role,
            reason: format!("only {} may report a case", join(COLLECTORS)),
        });
    }
    text("description", &intake.description)?;
    if !(intake.lng.is_finite() && (-180.0..=180.0).contains(&intake.lng)) {
        return Err(DomainError::invalid("lng", format!("{} is not a longitude", intake.lng)).into());
    }
    if !(intake.lat.is_finite() && (-90.0..=90.0).contains(&intake.lat)) {
        return Err(DomainError::invalid("lat", format!("{} is not a latitude", intake.lat)).into());
    }
    let (category, _) = catalogue.condition(&intake.condition).ok_or_else(|| {
        DomainError::invalid(
            "condition",
            format!("{:?} is not a filing condition of the catalogue", intake.condition),
        )
    })?;
    if intake.category.is_empty() {
        intake.category.clone_from(&category.code);
    } else if intake.category != category.code {
        return Err(DomainError::invalid(
            "category",
            format!(
                "condition {} belongs to category {}, not {}",
                intake.condition, category.code, intake.category
            ),
        )
        .into());
    }
    Ok(CaseEvent::Collected(intake))
}

/// Decides whether `role` may take `action` on `case` now, and if so which events record it.
///
/// Checks, in order: the table has the step from the case's state ([`TransitionError::NotAllowed`]),
/// the role may take it ([`TransitionError::Forbidden`]), the input ([`TransitionError::Invalid`])
/// and the rules of the case ([`TransitionError::Refused`]): the return window and 首办责任, at
/// most [`MAX_EXTENSIONS`] extensions, a pending extension to approve or deny, whistle members,
/// special close of a suspended case, overdue supervision only past the deadline.
pub fn decide(
    case: &Case,
    action: &Action,
    role: Role,
    ctx: &DecisionContext<'_>,
) -> Result<Vec<CaseEvent>, TransitionError> {
    use CaseEvent as E;
    let kind = action.kind();
    let state = case.state;
    let Some(t) = transition(state, kind) else {
        return Err(TransitionError::NotAllowed {
            state,
            action: kind,
            allowed: allowed(state),
        });
    };
    if !t.roles.contains(&role) {
        return Err(TransitionError::Forbidden {
            action: kind,
            role,
            reason: format!("only {} may {kind} a case that is {state}", join(t.roles)),
        });
    }
    let refuse = |reason: String| {
        Err(TransitionError::Refused {
            state,
            action: kind,
            reason,
            allowed: allowed(state),
        })
    };
    let own_unit = || match (ctx.actor_unit, case.unit) {
        (Some(a), Some(u)) if a != u => Err(TransitionError::Forbidden {
            action: kind,
            role,
            reason: format!("the case is with unit {u}, not with unit {a}"),
        }),
        _ => Ok(()),
    };
    let not_in_transit = || match case.in_transit() {
        Some(h) => Err(TransitionError::Refused {
            state,
            action: kind,
            reason: format!(
                "the case is still on its way (逐级转派中): {} must forward it first",
                h.unit_name
            ),
            allowed: allowed(state),
        }),
        None => Ok(()),
    };
    let now = ctx.now_ms;
    Ok(match action {
        Action::Collect(_) => unreachable!("the table has no collect step"),
        Action::Register => vec![E::Registered],
        Action::Void { reason } => {
            text("reason", reason)?;
            vec![E::Voided { reason: reason.clone() }]
        }
        Action::Dispatch { unit, unit_name, level } => {
            check_unit(*unit, unit_name, *level)?;
            if state == S::Dispatched && case.unit == Some(*unit) {
                return refuse(format!("the case is already dispatched to {unit_name}"));
            }
            let deadline_ms = ctx.limit.end(ctx.calendar, now);
            let mut events = vec![E::Dispatched {
                unit: *unit,
                unit_name: unit_name.clone(),
                deadline_ms,
                level: *level,
            }];
            if !ctx.via.is_empty() {
                if let Some(h) = ctx.via.iter().find(|h| h.unit == *unit || h.level >= *level) {
                    return Err(DomainError::invalid(
                        "via",
                        format!(
                            "{} ({}) cannot forward to a unit at its own level or above",
                            h.unit_name, h.level
                        ),
                    )
                    .into());
                }
                events.push(E::Routed { via: ctx.via.to_vec() });
            }
            events
        }
        Action::Whistle {
            lead,
            lead_name,
            level,
            co_units,
        } => {
            check_unit(*lead, lead_name, *level)?;
            if co_units.is_empty() {
                return Err(DomainError::invalid("co_units", "a whistle summons at least one co-unit").into());
            }
            let mut seen = std::collections::BTreeSet::from([*lead]);
            if let Some(u) = co_units.iter().find(|u| **u <= 0 || !seen.insert(**u)) {
                return Err(DomainError::invalid("co_units", format!("unit {u} is invalid or named twice")).into());
            }
            let report_deadline_ms = ctx.whistle_report.end(ctx.calendar, now);
            let deadline_ms = ctx.limit.end(ctx.calendar, now);
            vec![
                E::Whistled {
                    lead: *lead,
                    co_units: co_units.clone(),
                    report_deadline_ms,
                },
                E::Dispatched {
                    unit: *lead,
                    unit_name: lead_name.clone(),
                    deadline_ms,
                    level: *level,
                },
            ]
        }
        Action::Forward => {
            let Some(hop) = case.in_transit() else {
                return refuse(format!(
                    "the case is not on its way: it is with {}",
                    case.unit_name.as_deref().unwrap_or("its unit")
                ));
            };
            if ctx.actor_unit.is_some_and(|a| a != hop.unit) {
                return Err(TransitionError::Forbidden {
                    action: kind,
                    role,
                    reason: format!("the case is at {} ({}), not with your unit", hop.unit_name, hop.unit),
                });
            }
            let next = case.route.get(case.hops_done as usize + 1);
            let (to, to_name, to_level) = match next {
                Some(n) => (n.unit, n.unit_name.clone(), n.level),
                None => (
                    case.unit.unwrap_or_default(),
                    case.unit_name.clone().unwrap_or_default(),
                    case.unit_level.unwrap_or(Level::Community),
                ),
            };
            vec![E::Forwarded {
                by: hop.unit,
                to,
                to_name,
                to_level,
            }]
        }
        Action::Accept => {
            not_in_transit()?;
            own_unit()?;
            vec![E::Accepted]
        }
        Action::Return { reason } => {
            not_in_transit()?;
            own_unit()?;
            text("reason", reason)?;
            if case.first_responsible {
                return refuse("the unit is the first responsible unit (首办责任单位) and must handle the case".into());
            }
            if let Some(end) = case.return_window_end(ctx).filter(|&end| now > end) {
                return refuse(format!(
                    "the return window (退单时限) ended at {}; the unit is now the first responsible unit (首办责任单位) and must handle the case",
                    local(end)
                ));
            }
            vec![E::Returned { reason: reason.clone() }]
        }
        Action::RejectReturn { reason } => {
            text("reason", reason)?;
            vec![E::ReturnRejected { reason: reason.clone() }]
        }
        Action::RequestExtension { reason, extra_amount } => {
            own_unit()?;
            text("reason", reason)?;
            if !(1..=MAX_TIME_LIMIT).contains(extra_amount) {
                return Err(DomainError::invalid(
                    "extra_amount",
                    format!(
                        "{extra_amount} is not between 1 and {MAX_TIME_LIMIT} {}",
                        ctx.limit.timer.zh()
                    ),
                )
                .into());
            }
            if case.extension_pending.is_some() {
                return refuse("an extension request is already pending".into());
            }
            if case.extensions >= MAX_EXTENSIONS {
                return refuse(format!(
                    "a case may be extended (延期) at most {MAX_EXTENSIONS} times and this one already was"
                ));
            }
            vec![E::ExtensionRequested {
                reason: reason.clone(),
                extra_amount: *extra_amount,
            }]
        }
        Action::ApproveExtension => {
            let Some(extra) = case.extension_pending else {
                return refuse("no extension request is pending".into());
            };
            let from = case.deadline_ms.unwrap_or(now);
            let new_deadline_ms = Limit::new(ctx.limit.timer, extra).end(ctx.calendar, from);
            vec![E::ExtensionApproved { new_deadline_ms }]
        }
        Action::DenyExtension { reason } => {
            text("reason", reason)?;
            if case.extension_pending.is_none() {
                return refuse("no extension request is pending".into());
            }
            vec![E::ExtensionDenied { reason: reason.clone() }]
        }
        Action::Suspend { reason } => {
            text("reason", reason)?;
            vec![E::Suspended { reason: reason.clone() }]
        }
        Action::Resume => vec![E::Resumed],
        Action::ReportHandled { note } => {
            own_unit()?;
            text("note", note)?;
            vec![E::HandlingReported { note: note.clone() }]
        }
        Action::ReportToWhistle { unit } => {
            if ctx.actor_unit.is_some_and(|a| a != *unit) {
                return Err(TransitionError::Forbidden {
                    action: kind,
                    role,
                    reason: format!("an actor of another unit cannot report for unit {unit}"),
                });
            }
            let Some(w) = &case.whistle else {
                return refuse("the case is not a joint case (吹哨报到)".into());
            };
            if w.lead == *unit {
                return refuse("the lead unit signs for the case (签收) instead of reporting".into());
            }
            if !w.co_units.contains(unit) {
                return refuse(format!("unit {unit} was not summoned by the whistle"));
            }
            if w.reported.contains_key(unit) {
                return refuse(format!("unit {unit} has already reported"));
            }
            vec![E::UnitReported { unit: *unit }]
        }
        Action::VerifyPass => vec![E::VerificationPassed],
        Action::VerifyFail { reason } => {
            text("reason", reason)?;
            vec![E::VerificationFailed { reason: reason.clone() }]
        }
        Action::Close {
            special_reason: Some(reason),
        } => {
            text("special_reason", reason)?;
            vec![E::Closed {
                kind: CloseKind::Special,
                reason: Some(reason.clone()),
            }]
        }
        Action::Close { special_reason: None } => {
            if state == S::Suspended {
                return refuse(
                    "a suspended case (挂账) can only be closed as special (特殊结案), with a reason".into(),
                );
            }
            let kind = if case.is_late() {
                CloseKind::Overdue
            } else {
                CloseKind::Normal
            };
            vec![E::Closed { kind, reason: None }]
        }
        Action::FollowUp {
            contacted,
            solved,
            satisfaction,
        } => {
            vec![E::FollowedUp {
                contacted: *contacted,
                solved: *solved,
                satisfaction: *satisfaction,
            }]
        }
        Action::Supervise { level, note } => {
            if !(WARNING_LEVEL..=LEADER_LEVEL).contains(level) {
                return Err(DomainError::invalid("level", format!("{level} is not a supervision level (1–3)")).into());
            }
            text("note", note)?;
            if *level == OVERDUE_LEVEL {
                if case.overdue {
                    return refuse("the case is already marked overdue".into());
                }
                if !case.is_overdue_at(now) {
                    return refuse("the case is not with a unit past its deadline".into());
                }
            }
            vec![E::Supervised {
                level: *level,
                note: note.clone(),
            }]
        }
        Action::Merge { into } => {
            if *into <= CaseId(0) || *into == case.id {
                return Err(DomainError::invalid("into", format!("cannot merge case {} into {into}", case.id)).into());
            }
            vec![E::MergedInto { case_id: *into }]
        }
        Action::AbsorbDuplicate { case_id } => {
            if *case_id <= CaseId(0) || *case_id == case.id {
                return Err(
                    DomainError::invalid("case_id", format!("{case_id} cannot be a duplicate of this case")).into(),
                );
            }
            if case.duplicates.contains(case_id) {
                return refuse(format!("case {case_id} is already merged into this one"));
            }
            vec![E::DuplicateMerged { case_id: *case_id }]
        }
    })
}

/// A case that may be shown to the public. The only way to make one is [`PublicCase::of`],
/// which refuses internal cases, so a path that renders `PublicCase`s cannot show an
/// initiative's back-stage task whatever its query returned.
#[derive(Debug, Clone)]
pub struct PublicCase<T>(T);

impl<T: std::borrow::Borrow<Case>> PublicCase<T> {
    /// `x` (a case, or a stored row of one) when its case is not internal.
    pub fn of(x: T) -> Option<PublicCase<T>> {
        (!x.borrow().is_internal()).then_some(PublicCase(x))
    }

    pub fn case(&self) -> &Case {
        self.0.borrow()
    }

    pub fn inner(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet, VecDeque};
    use std::sync::OnceLock;

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn cal() -> &'static WorkCalendar {
        static CAL: OnceLock<WorkCalendar> = OnceLock::new();
        CAL.get_or_init(WorkCalendar::china_default)
    }

    fn catalogue() -> &'static Catalogue {
        static CAT: OnceLock<Catalogue> = OnceLock::new();
        CAT.get_or_init(Catalogue::default_cn)
    }

    /// Unix ms of a China Standard Time wall-clock time.
    fn cst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        crate::calendar::china_time()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .timestamp_millis()
    }

    /// Monday 3 March 2025, 10:00, an ordinary working day.
    fn t0() -> i64 {
        cst(2025, 3, 3, 10, 0)
    }

    const MIN: i64 = 60_000;

    /// 暴露垃圾, 4 work-hours, street.
    fn limit() -> Limit {
        Limit::from(catalogue().condition("E0102-01").unwrap().1)
    }

    fn ctx(now_ms: i64) -> DecisionContext<'static> {
        DecisionContext::new(now_ms, cal(), limit())
    }

    fn intake() -> Intake {
        Intake {
            source: CaseSource::Patrol,
            category: "E0102".into(),
            condition: "E0102-01".into(),
            description: "春熙路口绿化带内暴露垃圾约半立方米".into(),
            lng: 104.08,
            lat: 30.66,
            grid: Some("510104020001001".into()),
            community: Some("510104020001".into()),
        }
    }

    fn dispatched(unit: i64) -> CaseEvent {
        CaseEvent::Dispatched {
            unit,
            unit_name: format!("单位{unit}"),
            deadline_ms: t0() + 3 * 24 * 60 * MIN,
            level: Level::Street,
        }
    }

    /// A district command centre and a street office that forward a case to a community.
    fn via() -> Vec<Hop> {
        vec![
            Hop {
                unit: 10,
                unit_name: "锦江区指挥中心".into(),
                level: Level::District,
            },
            Hop {
                unit: 20,
                unit_name: "春熙路街道办事处".into(),
                level: Level::Street,
            },
        ]
    }

    /// A case built from events one minute apart from t0.
    fn build(events: &[CaseEvent]) -> Case {
        let mut case = Case::new(CaseId(1));
        for (i, e) in events.iter().enumerate() {
            case.apply(e, t0() + i as i64 * MIN);
        }
        case
    }

    /// Cases in every state, several for the states where the rules depend on the case.
    fn fixtures() -> Vec<Case> {
        use CaseEvent as E;
        let c = E::Collected(intake());
        let reg = [c.clone(), E::Registered];
        let disp = [&reg[..], &[dispatched(100)]].concat();
        let whistled = [
            &reg[..],
            &[
                E::Whistled {
                    lead: 100,
                    co_units: vec![102, 103],
                    report_deadline_ms: t0() + 120 * MIN,
                },
                dispatched(100),
            ],
        ]
        .concat();
        let routed = [&disp[..], &[E::Routed { via: via() }]].concat();
        let handling = [&disp[..], &[E::Accepted]].concat();
        let reported = [
            &handling[..],
            &[E::HandlingReported {
                note: "已清运".into()
            }],
        ]
        .concat();
        let verified = [&reported[..], &[E::VerificationPassed]].concat();
        let closed = [
            &verified[..],
            &[E::Closed {
                kind: CloseKind::Normal,
                reason: None,
            }],
        ]
        .concat();
        let ev = |base: &[E], more: &[E]| build(&[base, more].concat());
        vec![
            build(std::slice::from_ref(&c)),
            build(&reg),
            ev(
                std::slice::from_ref(&c),
                &[E::Voided {
                    reason: "重复上报".into(),
                }],
            ),
            build(&disp),
            build(&routed),
            build(&whistled),
            ev(
                &disp,
                &[E::Returned {
                    reason: "不属于本单位职责".into(),
                }],
            ),
            build(&handling),
            ev(
                &handling,
                &[E::ExtensionRequested {
                    reason: "需采购设备".into(),
                    extra_amount: 2,
                }],
            ),
            ev(&whistled, &[E::Accepted]),
            ev(
                &handling,
                &[E::Suspended {
                    reason: "涉及产权争议".into(),
                }],
            ),
            build(&reported),
            build(&verified),
            build(&closed),
            ev(
                &closed,
                &[E::FollowedUp {
                    contacted: true,
                    solved: true,
                    satisfaction: Some(Satisfaction::Satisfied),
                }],
            ),
            ev(&reg, &[E::MergedInto { case_id: CaseId(7) }]),
        ]
    }

    /// A valid action of every kind (two for close).
    fn samples() -> Vec<Action> {
        vec![
            Action::Collect(intake()),
            Action::Register,
            Action::Void {
                reason: "误报".into()
            },
            Action::Dispatch {
                unit: 200,
                unit_name: "春熙路街道办事处".into(),
                level: Level::Street,
            },
            Action::Whistle {
                lead: 200,
                lead_name: "城管局".into(),
                level: Level::District,
                co_units: vec![201, 202],
            },
            Action::Forward,
            Action::Accept,
            Action::Return {
                reason: "不属于本单位职责".into(),
            },
            Action::RejectReturn {
                reason: "属于本单位职责".into(),
            },
            Action::RequestExtension {
                reason: "需采购设备".into(),
                extra_amount: 2,
            },
            Action::ApproveExtension,
            Action::DenyExtension {
                reason: "理由不充分".into(),
            },
            Action::Suspend {
                reason: "涉及产权争议".into(),
            },
            Action::Resume,
            Action::ReportHandled {
                note: "已清运".into()
            },
            Action::ReportToWhistle { unit: 102 },
            Action::VerifyPass,
            Action::VerifyFail {
                reason: "仍有垃圾".into(),
            },
            Action::Close { special_reason: None },
            Action::Close {
                special_reason: Some("长期挂账，纳入改造计划".into()),
            },
            Action::FollowUp {
                contacted: true,
                solved: true,
                satisfaction: Some(Satisfaction::BasicallySatisfied),
            },
            Action::Supervise {
                level: WARNING_LEVEL,
                note: "临近时限".into(),
            },
            Action::Merge { into: CaseId(999) },
            Action::AbsorbDuplicate { case_id: CaseId(998) },
        ]
    }

    #[test]
    fn table_is_well_formed() {
        let mut seen = HashSet::new();
        for t in TRANSITIONS {
            assert!(!t.roles.is_empty());
            for s in t.from {
                assert!(seen.insert((*s, t.action)), "{s} × {} appears twice", t.action);
                assert!(!s.is_terminal(), "{s} is terminal");
            }
        }
        assert!(transition(S::Collected, A::Collect).is_none() && ActionKind::ALL.contains(&A::Collect));
        let kinds: Vec<ActionKind> = samples().iter().map(Action::kind).collect();
        assert!(
            ActionKind::ALL.iter().all(|k| kinds.contains(k)),
            "a sample for every action kind"
        );
        for s in CaseState::ALL {
            assert_eq!(allowed(*s).is_empty(), s.is_terminal(), "{s}");
        }
        // Every state is reachable from collection.
        let mut reached = BTreeSet::from([S::Collected]);
        let mut queue = VecDeque::from([S::Collected]);
        while let Some(s) = queue.pop_front() {
            for k in allowed(s) {
                let to = transition(s, k).unwrap().to.resolve(s);
                if reached.insert(to) {
                    queue.push_back(to);
                }
            }
        }
        assert_eq!(reached.len(), CaseState::ALL.len());
    }

    /// Every state × every action × every role against the table.
    #[test]
    fn every_state_and_action_follows_the_table() {
        let mut succeeded = HashSet::new();
        let fixtures = fixtures();
        let states: BTreeSet<CaseState> = fixtures.iter().map(|c| c.state).collect();
        assert_eq!(states.len(), CaseState::ALL.len(), "a fixture in every state");
        for case in &fixtures {
            let ctx = ctx(t0() + 30 * MIN);
            for action in samples() {
                let kind = action.kind();
                let s = case.state;
                match transition(s, kind) {
                    None => {
                        for role in Role::ALL {
                            let err = decide(case, &action, *role, &ctx).unwrap_err();
                            assert_eq!(
                                err,
                                TransitionError::NotAllowed {
                                    state: s,
                                    action: kind,
                                    allowed: allowed(s)
                                }
                            );
                            assert_eq!(err.status(), 409);
                        }
                    }
                    Some(t) => {
                        for role in Role::ALL.iter().filter(|r| !t.roles.contains(r)) {
                            let err = decide(case, &action, *role, &ctx).unwrap_err();
                            assert!(
                                matches!(err, TransitionError::Forbidden { .. }),
                                "{s} {kind} {role}: {err}"
                            );
                            assert_eq!(err.status(), 403);
                        }
                        for role in t.roles {
                            match decide(case, &action, *role, &ctx) {
                                Ok(events) => {
                                    let mut after = case.clone();
                                    events.iter().for_each(|e| after.apply(e, ctx.now_ms));
                                    assert_eq!(after.state, t.to.resolve(s), "{s} {kind}");
                                    succeeded.insert((s, kind));
                                }
                                Err(TransitionError::Refused { state, allowed: a, .. }) => {
                                    assert_eq!((state, a), (s, allowed(s)));
                                }
                                Err(e) => panic!("{s} {kind} {role}: {e}"),
                            }
                        }
                    }
                }
            }
        }
        for t in TRANSITIONS {
            for s in t.from {
                assert!(succeeded.contains(&(*s, t.action)), "{s} {} never succeeded", t.action);
            }
        }
    }

    /// Takes a step at `now`, records it and returns the events.
    fn step(
        case: &mut Case,
        log: &mut Vec<Recorded>,
        action: Action,
        role: Role,
        now: i64,
    ) -> Result<Vec<CaseEvent>, TransitionError> {
        let events = decide(case, &action, role, &ctx(now))?;
        for e in &events {
            case.apply(e, now);
            log.push(Recorded {
                event: e.clone(),
                at_ms: now,
                actor: Some(PersonId(42)),
                role,
            });
        }
        Ok(events)
    }

    #[test]
    fn full_path_with_return_extensions_rework_and_overdue_close() {
        let mut log = Vec::new();
        let mut case = Case::new(CaseId(1));
        let mon = |h, m| cst(2025, 3, 3, h, m);
        let tue = |h, m| cst(2025, 3, 4, h, m);
        let first = collect(
            Intake {
                category: String::new(),
                ..intake()
            },
            Role::GridWorker,
            catalogue(),
        )
        .unwrap();
        case.apply(&first, mon(10, 0));
        log.push(Recorded {
            event: first,
            at_ms: mon(10, 0),
            actor: Some(PersonId(7)),
            role: Role::GridWorker,
        });
        assert_eq!(case.category, "E0102");
        step(&mut case, &mut log, Action::Register, Role::ShiftLeader, mon(10, 5)).unwrap();
        let a = Action::Dispatch {
            unit: 11,
            unit_name: "锦江区水务局".into(),
            level: Level::District,
        };
        step(&mut case, &mut log, a, Role::Dispatcher, mon(10, 10)).unwrap();
        // 4 work-hours from 10:10: 1h50 before lunch, 2h10 after 13:30.
        assert_eq!(case.deadline_ms, Some(mon(15, 40)));
        assert_eq!(case.return_window_end(&ctx(0)), Some(mon(13, 40)));
        step(
            &mut case,
            &mut log,
            Action::Return {
                reason: "非本单位职责".into(),
            },
            Role::DepartmentHandler,
            mon(10, 30),
        )
        .unwrap();
        assert_eq!((case.state, case.returns), (S::Returned, 1));
        let b = Action::Dispatch {
            unit: 12,
            unit_name: "春熙路街道办事处".into(),
            level: Level::Street,
        };
        step(&mut case, &mut log, b, Role::Dispatcher, mon(10, 40)).unwrap();
        assert_eq!(
            (case.unit, case.deadline_ms, case.dispatches),
            (Some(12), Some(mon(16, 10)), 2)
        );
        step(&mut case, &mut log, Action::Accept, Role::DepartmentHandler, mon(11, 0)).unwrap();
        let ask = || Action::RequestExtension {
            reason: "垃圾量大，需调配车辆".into(),
            extra_amount: 2,
        };
        let deadlines = [tue(9, 40), tue(11, 40), tue(15, 10)];
        for (i, expected) in deadlines.into_iter().enumerate() {
            let now = mon(11, 10 + i as u32 * 10);
            step(&mut case, &mut log, ask(), Role::DepartmentHandler, now).unwrap();
            step(
                &mut case,
                &mut log,
                Action::ApproveExtension,
                Role::ShiftLeader,
                now + MIN,
            )
            .unwrap();
            assert_eq!((case.extensions, case.deadline_ms), (i as u8 + 1, Some(expected)));
        }
        let err = step(&mut case, &mut log, ask(), Role::DepartmentHandler, mon(11, 50)).unwrap_err();
        assert!(
            matches!(&err, TransitionError::Refused { reason, .. } if reason.contains("at most 3")),
            "{err}"
        );
        step(
            &mut case,
            &mut log,
            Action::ReportHandled {
                note: "已清运".into()
            },
            Role::DepartmentHandler,
            mon(14, 0),
        )
        .unwrap();
        step(
            &mut case,
            &mut log,
            Action::VerifyFail {
                reason: "仍有残留".into(),
            },
            Role::GridWorker,
            mon(14, 30),
        )
        .unwrap();
        assert_eq!((case.state, case.reworks), (S::Handling, 1));
        step(
            &mut case,
            &mut log,
            Action::ReportHandled {
                note: "已彻底清理".into(),
            },
            Role::DepartmentHandler,
            tue(16, 0),
        )
        .unwrap();
        step(&mut case, &mut log, Action::VerifyPass, Role::GridHead, tue(16, 30)).unwrap();
        let closed = step(
            &mut case,
            &mut log,
            Action::Close { special_reason: None },
            Role::ShiftLeader,
            tue(17, 0),
        );
        assert_eq!(
            closed.unwrap(),
            vec![CaseEvent::Closed {
                kind: CloseKind::Overdue,
                reason: None
            }]
        );
        assert!(case.overdue);
        let f = Action::FollowUp {
            contacted: true,
            solved: true,
            satisfaction: Some(Satisfaction::BasicallySatisfied),
        };
        step(&mut case, &mut log, f, Role::Acceptor, cst(2025, 3, 5, 10, 0)).unwrap();
        assert_eq!(case.state, S::Evaluated);
        assert_eq!(allowed(case.state), vec![]);

        let names: Vec<&str> = log.iter().map(|r| r.event.name()).collect();
        assert_eq!(
            names,
            [
                "collected",
                "registered",
                "dispatched",
                "returned",
                "dispatched",
                "accepted",
                "extension_requested",
                "extension_approved",
                "extension_requested",
                "extension_approved",
                "extension_requested",
                "extension_approved",
                "handling_reported",
                "verification_failed",
                "handling_reported",
                "verification_passed",
                "closed",
                "followed_up",
            ]
        );
        assert_eq!(Case::replay(1, &log), case);
        assert_eq!(case.version, log.len() as u64);
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Recorded>>(&json).unwrap(), log);
    }

    #[test]
    fn on_time_close_is_normal_and_late_feedback_is_overdue() {
        let mut log = Vec::new();
        let mut case = build(&[CaseEvent::Collected(intake()), CaseEvent::Registered]);
        let d = Action::Dispatch {
            unit: 5,
            unit_name: "街道".into(),
            level: Level::Street,
        };
        step(&mut case, &mut log, d, Role::ShiftLeader, t0()).unwrap();
        step(&mut case, &mut log, Action::Accept, Role::DepartmentHandler, t0() + MIN).unwrap();
        let mut late = case.clone();
        step(
            &mut case,
            &mut log,
            Action::ReportHandled { note: "ok".into() },
            Role::DepartmentHandler,
            t0() + 60 * MIN,
        )
        .unwrap();
        step(
            &mut case,
            &mut log,
            Action::VerifyPass,
            Role::GridWorker,
            t0() + 61 * MIN,
        )
        .unwrap();
        // Verified and closed much later: the unit's handling was on time.
        let ev = decide(
            &case,
            &Action::Close { special_reason: None },
            Role::ShiftLeader,
            &ctx(t0() + 9_000 * MIN),
        );
        assert_eq!(
            ev.unwrap(),
            vec![CaseEvent::Closed {
                kind: CloseKind::Normal,
                reason: None
            }]
        );
        // Overdue marking by supervision: only once, only past the deadline.
        let mark = Action::Supervise {
            level: OVERDUE_LEVEL,
            note: "已超期".into(),
        };
        let err = decide(&late, &mark, Role::Dispatcher, &ctx(t0() + 2 * MIN)).unwrap_err();
        assert!(matches!(err, TransitionError::Refused { .. }), "{err}");
        let past = late.deadline_ms.unwrap() + MIN;
        step(&mut late, &mut log, mark.clone(), Role::Dispatcher, past).unwrap();
        assert!(late.overdue && late.supervision == OVERDUE_LEVEL);
        assert!(decide(&late, &mark, Role::Dispatcher, &ctx(past)).is_err());
        step(
            &mut late,
            &mut log,
            Action::Supervise {
                level: LEADER_LEVEL,
                note: "挂牌督办".into(),
            },
            Role::ShiftLeader,
            past,
        )
        .unwrap();
        assert_eq!(late.supervision, LEADER_LEVEL);
        let bad = Action::Supervise {
            level: 4,
            note: "x".into(),
        };
        assert_eq!(
            decide(&late, &bad, Role::Dispatcher, &ctx(past)).unwrap_err().status(),
            422
        );
    }

    #[test]
    fn return_window_and_first_responsible_unit() {
        let mut log = Vec::new();
        let base = build(&[CaseEvent::Collected(intake()), CaseEvent::Registered]);
        let mut case = base.clone();
        let d = Action::Dispatch {
            unit: 5,
            unit_name: "街道".into(),
            level: Level::Street,
        };
        let at = cst(2025, 3, 3, 10, 10);
        step(&mut case, &mut log, d, Role::Dispatcher, at).unwrap();
        let ret = Action::Return {
            reason: "非本单位职责".into(),
        };
        let err = decide(&case, &ret, Role::DepartmentHandler, &ctx(cst(2025, 3, 3, 13, 41))).unwrap_err();
        assert_eq!(err.status(), 409);
        assert!(
            err.to_string().contains("2025-03-03 13:40") && err.to_string().contains("首办责任单位"),
            "{err}"
        );
        assert!(decide(&case, &ret, Role::DepartmentHandler, &ctx(cst(2025, 3, 3, 13, 40))).is_ok());
        // Another unit's handler may not return it; nor may an empty reason.
        let other = ctx(at).with_actor_unit(6);
        assert_eq!(
            decide(&case, &ret, Role::DepartmentHandler, &other)
                .unwrap_err()
                .status(),
            403
        );
        assert!(decide(&case, &ret, Role::DepartmentHandler, &ctx(at).with_actor_unit(5)).is_ok());
        let empty = Action::Return { reason: " ".into() };
        assert_eq!(
            decide(&case, &empty, Role::DepartmentHandler, &ctx(at))
                .unwrap_err()
                .status(),
            422
        );
        // Returned, reviewed and rejected: the unit must handle it and can never return it again.
        step(&mut case, &mut log, ret.clone(), Role::DepartmentHandler, at + MIN).unwrap();
        step(
            &mut case,
            &mut log,
            Action::RejectReturn {
                reason: "属于街道职责".into(),
            },
            Role::ShiftLeader,
            at + 2 * MIN,
        )
        .unwrap();
        assert!(case.first_responsible && case.state == S::Handling);
        // Re-dispatching a dispatched case to the same unit is refused; to another it works.
        let mut fresh = base.clone();
        let same = Action::Dispatch {
            unit: 5,
            unit_name: "街道".into(),
            level: Level::Street,
        };
        step(&mut fresh, &mut log, same.clone(), Role::Dispatcher, at).unwrap();
        assert!(matches!(
            decide(&fresh, &same, Role::Dispatcher, &ctx(at)),
            Err(TransitionError::Refused { .. })
        ));
        let city = Action::Dispatch {
            unit: 9,
            unit_name: "市局".into(),
            level: Level::City,
        };
        assert_eq!(
            decide(&fresh, &city, Role::Dispatcher, &ctx(at)).unwrap_err().status(),
            422
        );
    }

    #[test]
    fn whistle_with_three_departments() {
        let mut log: Vec<Recorded> = [CaseEvent::Collected(intake()), CaseEvent::Registered]
            .into_iter()
            .map(|event| Recorded {
                event,
                at_ms: t0(),
                actor: Some(PersonId(3)),
                role: Role::Acceptor,
            })
            .collect();
        let mut case = Case::replay(1, &log);
        let at = cst(2025, 3, 3, 10, 0);
        let w = Action::Whistle {
            lead: 11,
            lead_name: "锦江区城市管理和综合执法局".into(),
            level: Level::District,
            co_units: vec![12, 13],
        };
        assert_eq!(
            decide(&case, &w, Role::DepartmentHandler, &ctx(at))
                .unwrap_err()
                .status(),
            403
        );
        let events = step(&mut case, &mut log, w, Role::Admin, at).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!((case.state, case.unit), (S::Dispatched, Some(11)));
        let whistle = case.whistle.clone().unwrap();
        assert_eq!(whistle.report_deadline_ms, cst(2025, 3, 3, 12, 0));
        assert_eq!(whistle.pending(), vec![12, 13]);
        let report = |u| Action::ReportToWhistle { unit: u };
        step(&mut case, &mut log, report(12), Role::DepartmentHandler, at + 30 * MIN).unwrap();
        for u in [12, 11, 99] {
            let err = decide(&case, &report(u), Role::DepartmentHandler, &ctx(at)).unwrap_err();
            assert!(matches!(err, TransitionError::Refused { .. }), "{u}: {err}");
        }
        let foreign = ctx(at).with_actor_unit(12);
        assert_eq!(
            decide(&case, &report(13), Role::DepartmentHandler, &foreign)
                .unwrap_err()
                .status(),
            403
        );
        assert_eq!(case.whistle.as_ref().unwrap().late(cst(2025, 3, 3, 12, 1)), vec![13]);
        step(
            &mut case,
            &mut log,
            Action::Accept,
            Role::DepartmentHandler,
            at + 40 * MIN,
        )
        .unwrap();
        step(
            &mut case,
            &mut log,
            report(13),
            Role::DepartmentHandler,
            cst(2025, 3, 3, 14, 0),
        )
        .unwrap();
        let w = case.whistle.as_ref().unwrap();
        assert!(w.pending().is_empty());
        assert_eq!(w.late(i64::MAX), vec![13]);
        assert_eq!(Case::replay(1, &log), case);
        // Co-units must be distinct, valid and not the lead.
        let fresh = build(&[CaseEvent::Collected(intake()), CaseEvent::Registered]);
        for co in [vec![], vec![12, 12], vec![11], vec![0]] {
            let w = Action::Whistle {
                lead: 11,
                lead_name: "x".into(),
                level: Level::District,
                co_units: co,
            };
            assert_eq!(
                decide(&fresh, &w, Role::Dispatcher, &ctx(at)).unwrap_err().status(),
                422
            );
        }
    }

    #[test]
    fn suspension_special_close_merge_and_void() {
        let mut log = Vec::new();
        let mut case = fixtures().into_iter().find(|c| c.state == S::Handling).unwrap();
        let now = t0() + 30 * MIN;
        step(
            &mut case,
            &mut log,
            Action::Suspend {
                reason: "产权争议".into(),
            },
            Role::ShiftLeader,
            now,
        )
        .unwrap();
        let err = decide(
            &case,
            &Action::Close { special_reason: None },
            Role::ShiftLeader,
            &ctx(now),
        )
        .unwrap_err();
        assert!(err.to_string().contains("特殊结案"), "{err}");
        let special = Action::Close {
            special_reason: Some("纳入旧改计划".into()),
        };
        step(&mut case, &mut log, special, Role::ShiftLeader, now).unwrap();
        assert_eq!(case.close_kind, Some(CloseKind::Special));

        let mut dup = build(&[CaseEvent::Collected(intake())]);
        assert_eq!(
            decide(&dup, &Action::Merge { into: CaseId(1) }, Role::Acceptor, &ctx(now))
                .unwrap_err()
                .status(),
            422
        );
        step(
            &mut dup,
            &mut log,
            Action::Merge { into: CaseId(5) },
            Role::Acceptor,
            now,
        )
        .unwrap();
        assert_eq!((dup.state, dup.merged_into), (S::Merged, Some(CaseId(5))));
        let mut survivor = build(&[CaseEvent::Collected(intake())]);
        step(
            &mut survivor,
            &mut log,
            Action::AbsorbDuplicate { case_id: CaseId(3) },
            Role::Dispatcher,
            now,
        )
        .unwrap();
        let again = decide(
            &survivor,
            &Action::AbsorbDuplicate { case_id: CaseId(3) },
            Role::Dispatcher,
            &ctx(now),
        );
        assert!(matches!(again, Err(TransitionError::Refused { .. })));
        assert_eq!(survivor.duplicates, vec![3]);
        let void = Action::Void {
            reason: "非城市管理问题".into(),
        };
        assert_eq!(
            decide(&survivor, &void, Role::Acceptor, &ctx(now))
                .unwrap_err()
                .status(),
            403
        );
        step(&mut survivor, &mut log, void, Role::ShiftLeader, now).unwrap();
        let err = decide(&survivor, &Action::Register, Role::ShiftLeader, &ctx(now)).unwrap_err();
        assert_eq!(err.allowed(), &[] as &[ActionKind]);
        assert!(
            err.to_string().contains("voided (作废)") && err.to_string().contains("allowed: nothing"),
            "{err}"
        );
    }

    #[test]
    fn collect_checks_role_and_input() {
        let c = catalogue();
        assert!(collect(intake(), Role::Resident, c).is_ok());
        assert_eq!(collect(intake(), Role::Analyst, c).unwrap_err().status(), 403);
        for bad in [
            Intake {
                description: "".into(),
                ..intake()
            },
            Intake { lng: 200.0, ..intake() },
            Intake {
                lat: f64::NAN,
                ..intake()
            },
            Intake {
                condition: "E9999-01".into(),
                ..intake()
            },
            Intake {
                category: "E0101".into(),
                ..intake()
            },
        ] {
            assert_eq!(collect(bad, Role::Acceptor, c).unwrap_err().status(), 422);
        }
    }

    #[test]
    fn extension_requests_need_a_pending_request_and_valid_amounts() {
        let handling = fixtures().into_iter().find(|c| c.state == S::Handling).unwrap();
        let now = t0() + 30 * MIN;
        let approve = decide(&handling, &Action::ApproveExtension, Role::ShiftLeader, &ctx(now));
        assert!(matches!(approve, Err(TransitionError::Refused { .. })));
        let zero = Action::RequestExtension {
            reason: "x".into(),
            extra_amount: 0,
        };
        assert_eq!(
            decide(&handling, &zero, Role::DepartmentHandler, &ctx(now))
                .unwrap_err()
                .status(),
            422
        );
        let mut case = handling.clone();
        let mut log = Vec::new();
        let ask = Action::RequestExtension {
            reason: "x".into(),
            extra_amount: 1,
        };
        step(&mut case, &mut log, ask.clone(), Role::DepartmentHandler, now).unwrap();
        assert!(matches!(
            decide(&case, &ask, Role::DepartmentHandler, &ctx(now)),
            Err(TransitionError::Refused { .. })
        ));
        step(
            &mut case,
            &mut log,
            Action::DenyExtension {
                reason: "不同意".into(),
            },
            Role::ShiftLeader,
            now,
        )
        .unwrap();
        assert_eq!(
            (case.extensions, case.extension_pending, case.deadline_ms),
            (0, None, handling.deadline_ms)
        );
        // A denied request does not count: three more may still be approved.
        for _ in 0..3 {
            step(&mut case, &mut log, ask.clone(), Role::DepartmentHandler, now).unwrap();
            step(&mut case, &mut log, Action::ApproveExtension, Role::ShiftLeader, now).unwrap();
        }
        assert!(decide(&case, &ask, Role::DepartmentHandler, &ctx(now)).is_err());
    }

    /// Layered: city → district centre (hop 1) → street office (hop 2) → community, each hop an
    /// event at its own time; the deadline runs from the city's dispatch, the return window from
    /// the arrival. Flat: the same dispatch goes straight.
    #[test]
    fn routing_hops_in_layered_and_flat_mode() {
        use crate::flat::forwarding_levels;
        use crate::territory::Hierarchy;
        let mon = |h, m| cst(2025, 3, 3, h, m);
        let community = Action::Dispatch {
            unit: 300,
            unit_name: "和平社区居委会".into(),
            level: Level::Community,
        };
        let registered = || {
            let mut c = Case::new(CaseId(1));
            c.apply(&CaseEvent::Collected(intake()), mon(9, 0));
            c.apply(&CaseEvent::Registered, mon(9, 5));
            c
        };
        // The units for the levels the hierarchy says must forward.
        let hops_for = |h: &Hierarchy| -> Vec<Hop> {
            let levels = forwarding_levels(h, Level::Community);
            via().into_iter().filter(|hop| levels.contains(&hop.level)).collect()
        };

        // Layered.
        let route = hops_for(&Hierarchy::layered());
        assert_eq!(route.len(), 2);
        let mut case = registered();
        let mut log = Vec::new();
        let at = mon(9, 10);
        let events = decide(&case, &community, Role::Dispatcher, &ctx(at).with_route(&route)).unwrap();
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[1], CaseEvent::Routed { via } if via.len() == 2));
        for e in &events {
            case.apply(e, at);
            log.push(e.clone());
        }
        // 4 work-hours from 09:10 → 13:10 (lunch 12:00–13:30 is not working time) = 14:40.
        let deadline = case.deadline_ms.unwrap();
        assert_eq!(deadline, limit().end(cal(), at));
        assert_eq!(case.in_transit().map(|h| h.unit), Some(10));
        // The community cannot accept or return yet.
        for a in [Action::Accept, Action::Return { reason: "x".into() }] {
            let e = decide(&case, &a, Role::DepartmentHandler, &ctx(mon(9, 20))).unwrap_err();
            assert!(e.to_string().contains("锦江区指挥中心 must forward it first"), "{e}");
        }
        // The street office cannot forward before the district did.
        let e = decide(
            &case,
            &Action::Forward,
            Role::DepartmentHandler,
            &ctx(mon(9, 30)).with_actor_unit(20),
        )
        .unwrap_err();
        assert_eq!(e.status(), 403);
        // Hop 1 at 09:40 by the district centre, hop 2 at 10:25 by the street office.
        for (unit, time, to) in [(10, mon(9, 40), 20), (20, mon(10, 25), 300)] {
            let ev = decide(
                &case,
                &Action::Forward,
                Role::DepartmentHandler,
                &ctx(time).with_actor_unit(unit),
            )
            .unwrap();
            assert_eq!(
                ev,
                [CaseEvent::Forwarded {
                    by: unit,
                    to,
                    to_name: if to == 20 {
                        "春熙路街道办事处".into()
                    } else {
                        "和平社区居委会".into()
                    },
                    to_level: if to == 20 { Level::Street } else { Level::Community },
                }]
            );
            case.apply(&ev[0], time);
            log.push(ev[0].clone());
        }
        assert_eq!(case.hops_done, 2);
        assert_eq!(case.in_transit(), None);
        assert_eq!(case.reached_at_ms, Some(mon(10, 25)));
        // 75 minutes on the way; the deadline did not move.
        assert_eq!(case.reached_at_ms.unwrap() - case.dispatched_at_ms.unwrap(), 75 * MIN);
        assert_eq!(case.deadline_ms, Some(deadline));
        // Nothing more to forward; the community accepts.
        assert!(matches!(
            decide(&case, &Action::Forward, Role::Dispatcher, &ctx(mon(10, 30))),
            Err(TransitionError::Refused { .. })
        ));
        // The return window (2 work-hours) runs from the arrival at 10:25: until 13:55.
        assert_eq!(case.return_window_end(&ctx(0)), Some(mon(13, 55)));
        decide(
            &case,
            &Action::Accept,
            Role::DepartmentHandler,
            &ctx(mon(10, 30)).with_actor_unit(300),
        )
        .unwrap();
        let names: Vec<&str> = log.iter().map(CaseEvent::name).collect();
        assert_eq!(names, ["dispatched", "routed", "forwarded", "forwarded"]);

        // Flat: no level forwards; the dispatch alone reaches the community.
        let route = hops_for(&Hierarchy::flat());
        assert!(route.is_empty());
        let mut flat = registered();
        let events = decide(&flat, &community, Role::Dispatcher, &ctx(at).with_route(&route)).unwrap();
        assert_eq!(events.iter().map(CaseEvent::name).collect::<Vec<_>>(), ["dispatched"]);
        events.iter().for_each(|e| flat.apply(e, at));
        assert_eq!((flat.hops_done, flat.reached_at_ms), (0, Some(at)));
        assert!(decide(&flat, &Action::Accept, Role::DepartmentHandler, &ctx(mon(9, 15))).is_ok());

        // A route may not contain the acting level itself.
        let bad = [Hop {
            unit: 7,
            unit_name: "x".into(),
            level: Level::Community,
        }];
        let e = decide(&registered(), &community, Role::Dispatcher, &ctx(at).with_route(&bad)).unwrap_err();
        assert_eq!(e.status(), 422);
        // Re-dispatch while on the way starts over.
        let again = decide(
            &case_with_route(),
            &Action::Dispatch {
                unit: 301,
                unit_name: "另一社区".into(),
                level: Level::Community,
            },
            Role::Dispatcher,
            &ctx(at),
        )
        .unwrap();
        let mut c = case_with_route();
        again.iter().for_each(|e| c.apply(e, at));
        assert!(c.route.is_empty() && c.in_transit().is_none());
    }

    fn case_with_route() -> Case {
        build(&[
            CaseEvent::Collected(intake()),
            CaseEvent::Registered,
            dispatched(100),
            CaseEvent::Routed { via: via() },
        ])
    }

    #[test]
    fn names_and_serde() {
        assert_eq!(S::Suspended.zh(), "挂账");
        assert_eq!(serde_json::to_string(&S::Handling).unwrap(), "\"handling\"");
        let e = CaseEvent::Dispatched {
            unit: 3,
            unit_name: "水务局".into(),
            deadline_ms: 5,
            level: Level::District,
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], "dispatched");
        assert_eq!(json["level"], "district");
        assert_eq!(serde_json::from_value::<CaseEvent>(json).unwrap(), e);
        let c = serde_json::to_value(CaseEvent::Collected(intake())).unwrap();
        assert_eq!(
            (c["type"].as_str(), c["source"].as_str()),
            (Some("collected"), Some("patrol"))
        );
        for e in [
            CaseEvent::Registered,
            CaseEvent::UnitReported { unit: 1 },
            CaseEvent::Collected(intake()),
        ] {
            assert_eq!(serde_json::to_value(&e).unwrap()["type"], e.name());
        }
        for a in samples() {
            assert_eq!(serde_json::to_value(&a).unwrap()["type"], a.kind().as_str());
        }
        let a: Action = serde_json::from_str(r#"{"type":"close","special_reason":null}"#).unwrap();
        assert_eq!(a, Action::Close { special_reason: None });
    }

    /// An action of `kind` with payload picked by `x`.
    fn action_of(kind: ActionKind, x: u8) -> Action {
        let unit = 100 + i64::from(x % 4);
        let reason = || ["原因", " "][usize::from(matches!(x % 13, 0))].to_string();
        match kind {
            A::Collect => Action::Collect(intake()),
            A::Register => Action::Register,
            A::Void => Action::Void { reason: reason() },
            A::Dispatch => Action::Dispatch {
                unit,
                unit_name: "单位".into(),
                level: Level::Street,
            },
            A::Whistle => Action::Whistle {
                lead: unit,
                lead_name: "牵头单位".into(),
                level: Level::District,
                co_units: vec![unit + 10, unit + 11],
            },
            A::Forward => Action::Forward,
            A::Accept => Action::Accept,
            A::Return => Action::Return { reason: reason() },
            A::RejectReturn => Action::RejectReturn { reason: reason() },
            A::RequestExtension => Action::RequestExtension {
                reason: reason(),
                extra_amount: u32::from(x % 4),
            },
            A::ApproveExtension => Action::ApproveExtension,
            A::DenyExtension => Action::DenyExtension { reason: reason() },
            A::Suspend => Action::Suspend { reason: reason() },
            A::Resume => Action::Resume,
            A::ReportHandled => Action::ReportHandled { note: reason() },
            A::ReportToWhistle => Action::ReportToWhistle {
                unit: unit + 10 * i64::from(x % 2),
            },
            A::VerifyPass => Action::VerifyPass,
            A::VerifyFail => Action::VerifyFail { reason: reason() },
            A::Close => Action::Close {
                special_reason: matches!(x % 3, 0).then(reason),
            },
            A::FollowUp => Action::FollowUp {
                contacted: matches!(x % 2, 0),
                solved: matches!(x % 3, 0),
                satisfaction: [
                    None,
                    Some(Satisfaction::Satisfied),
                    Some(Satisfaction::BasicallySatisfied),
                    Some(Satisfaction::Dissatisfied),
                ][usize::from(x % 4)],
            },
            A::Supervise => Action::Supervise {
                level: x % 4,
                note: "督办".into(),
            },
            A::Merge => Action::Merge {
                into: CaseId(i64::from(x % 3)),
            },
            A::AbsorbDuplicate => Action::AbsorbDuplicate {
                case_id: CaseId(i64::from(x % 3)),
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random walks: every step's outcome agrees with the table, states stay inside it, the
        /// rules hold, and replaying the recorded events gives the case built step by step.
        #[test]
        fn random_walks_follow_the_table_and_replay(
            steps in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>(), 0i64..900), 0..80)
        ) {
            let mut now = t0();
            let first = collect(intake(), Role::Resident, catalogue()).unwrap();
            let mut case = Case::new(CaseId(1));
            case.apply(&first, now);
            let mut log = vec![Recorded { event: first, at_ms: now, actor: None, role: Role::Resident }];
            let targets: BTreeSet<CaseState> =
                TRANSITIONS.iter().flat_map(|t| t.from.iter().map(move |s| t.to.resolve(*s))).collect();
            for (k, r, x, follow, dt) in steps {
                now += dt * MIN;
                let before = case.state;
                let options = allowed(before);
                let kind = if follow && !options.is_empty() {
                    options[usize::from(k) % options.len()]
                } else {
                    ActionKind::ALL[usize::from(k) % ActionKind::ALL.len()]
                };
                let row = transition(before, kind);
                let role = match row {
                    Some(t) if follow => t.roles[usize::from(r) % t.roles.len()],
                    _ => Role::ALL[usize::from(r) % Role::ALL.len()],
                };
                match decide(&case, &action_of(kind, x), role, &ctx(now)) {
                    Ok(events) => {
                        let t = row.expect("a step outside the table succeeded");
                        prop_assert!(t.roles.contains(&role));
                        for e in events {
                            case.apply(&e, now);
                            log.push(Recorded { event: e, at_ms: now, actor: Some(PersonId(9)), role });
                        }
                        prop_assert_eq!(case.state, t.to.resolve(before));
                    }
                    Err(TransitionError::NotAllowed { state, allowed: a, .. }) => {
                        prop_assert!(row.is_none());
                        prop_assert_eq!((state, a), (before, allowed(before)));
                    }
                    Err(TransitionError::Forbidden { .. }) => {
                        prop_assert!(row.is_some());
                    }
                    Err(TransitionError::Refused { .. } | TransitionError::Invalid(_)) => {
                        prop_assert!(row.is_some_and(|t| t.roles.contains(&role)));
                    }
                }
                prop_assert!(case.state == S::Collected || targets.contains(&case.state));
                prop_assert!(case.extensions <= MAX_EXTENSIONS);
                prop_assert!(!case.first_responsible || case.state != S::Returned);
            }
            prop_assert_eq!(Case::replay(1, &log), case);
        }
    }
}
