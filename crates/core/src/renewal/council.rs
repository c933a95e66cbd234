//! The deliberation council (议事会): members by kind, meetings with an agenda of proposals,
//! attendance, positions and decisions, which stand only if the attendance quorum holds.
//!
//! The quorum is a [`Condition`] of the decision module (participation, heads, at least
//! `num/den` of all members).

use serde::{Deserialize, Serialize};

use super::lifecycle::{self, named, row, Party, Refusal, Target, Transition};
use super::proposal::ProposalAction;
use crate::decision::{Base, Comparison, Condition, Measure, Phase, Sentence};
use crate::org::string_enum;
use crate::DomainError;

string_enum! {
    /// Who sits on the council.
    MemberKind {
        ResidentRepresentative => "resident_representative", "居民代表", "Resident representative";
        Planner => "planner", "社区规划师", "Community planner";
        PropertyManager => "property_manager", "物业", "Property manager";
        CommunityCommittee => "community_committee", "社区居委会", "Community committee";
        DepartmentLiaison => "department_liaison", "部门联络员", "Department liaison";
    }
}

string_enum! {
    /// A member's position on a proposal.
    Stance {
        Support => "support", "支持", "Support";
        Object => "object", "反对", "Object";
        Abstain => "abstain", "弃权", "Abstain";
    }
}

string_enum! {
    /// The council's decision on a proposal.
    Decision {
        ToVote => "to_vote", "提交表决", "Send to the vote";
        Revise => "revise", "退回修改", "Send back for revision";
        Rejected => "rejected", "否决", "Rejected";
    }
}

impl Decision {
    /// The proposal status a decision leads to.
    pub fn status(self) -> super::proposal::ProposalStatus {
        use super::proposal::ProposalStatus as S;
        match self {
            Decision::ToVote => S::ToVote,
            Decision::Revise => S::Revise,
            Decision::Rejected => S::Rejected,
        }
    }

    /// The step of the proposal's lifecycle the decision takes.
    pub fn action(self) -> ProposalAction {
        match self {
            Decision::ToVote => ProposalAction::SendToVote,
            Decision::Revise => ProposalAction::SendBack,
            Decision::Rejected => ProposalAction::Reject,
        }
    }
}

/// A council's attendance quorum: at least `num/den` of its members present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quorum {
    pub num: u32,
    pub den: u32,
}

impl Default for Quorum {
    /// At least half of the members.
    fn default() -> Self {
        Quorum { num: 1, den: 2 }
    }
}

impl Quorum {
    pub fn check(&self) -> Result<(), DomainError> {
        if self.den == 0 || self.num == 0 || self.num > self.den {
            return Err(DomainError::invalid(
                "quorum",
                "the quorum is a fraction of members, e.g. {\"num\": 2, \"den\": 3}",
            ));
        }
        Ok(())
    }

    pub fn condition(&self) -> Condition {
        Condition::new(
            Phase::Participation,
            Measure::Heads,
            Comparison::AtLeast,
            self.num,
            self.den,
            Base::All,
        )
    }
}

/// Whether a meeting's attendance meets the quorum, with a sentence saying so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumStanding {
    pub present: u32,
    pub members: u32,
    pub required: u32,
    pub met: bool,
    pub explanation: Sentence,
}

pub fn quorum_standing(q: Quorum, present: u32, members: u32) -> QuorumStanding {
    let c = q.condition();
    let met = members > 0 && c.holds(present as u128, members as u128);
    let required = c.least_value(members as u128) as u32;
    let explanation = if met {
        Sentence {
            zh: format!(
                "出席 {present}/{members} 人，达到法定人数（至少 {}/{}，{required} 人）",
                q.num, q.den
            ),
            en: format!(
                "{present} of {members} members present: the quorum (at least {}/{}, {required}) holds",
                q.num, q.den
            ),
        }
    } else {
        Sentence {
            zh: format!(
                "出席 {present}/{members} 人，未达法定人数（至少 {}/{}，需 {required} 人），不能作出决定",
                q.num, q.den
            ),
            en: format!(
                "{present} of {members} members present: below the quorum (at least {}/{}, {required} needed); no decision can be taken",
                q.num, q.den
            ),
        }
    };
    QuorumStanding {
        present,
        members,
        required,
        met,
        explanation,
    }
}

string_enum! {
    /// Where a council meeting stands: whether the members recorded present make the quorum.
    MeetingState {
        /// 未达法定人数: too few present (so far) to decide.
        Inquorate => "inquorate", "未达法定人数", "Inquorate";
        /// 达到法定人数: the council may decide.
        Quorate => "quorate", "达到法定人数", "Quorate";
    }
}

string_enum! {
    /// The steps of a meeting, recorded by staff.
    MeetingAction {
        /// 记录出席: who is present; the count against the quorum gives the state.
        RecordAttendance => "record_attendance", "记录出席", "Record attendance";
        /// 记录纪要: the minutes.
        RecordMinutes => "record_minutes", "记录纪要", "Record the minutes";
        /// 记录委员意见: a present member's position on a proposal of the agenda.
        RecordPosition => "record_position", "记录委员意见", "Record a member's position";
        /// 作出决定: the council's decision on a proposal of the agenda.
        Decide => "decide", "作出决定", "Decide";
    }
}

named!(MeetingState, MeetingAction);

impl MeetingState {
    pub fn of(standing: &QuorumStanding) -> Self {
        if standing.met {
            MeetingState::Quorate
        } else {
            MeetingState::Inquorate
        }
    }
}

use MeetingAction as MA;
use MeetingState as MS;

const BOTH: &[MeetingState] = &[MS::Inquorate, MS::Quorate];
const STAFF: &[Party] = &[Party::Staff];

/// A meeting's lifecycle: attendance, minutes and positions are recorded at any time; the
/// council decides only while the quorum holds. A meeting is never closed: attendance may be
/// corrected, and with it the state.
pub const TRANSITIONS: &[Transition<MeetingState, MeetingAction>] = &[
    row(BOTH, MA::RecordAttendance, Target::ByCount(BOTH), STAFF),
    row(BOTH, MA::RecordMinutes, Target::Stay, STAFF),
    row(BOTH, MA::RecordPosition, Target::Stay, STAFF),
    row(&[MS::Quorate], MA::Decide, Target::Stay, STAFF),
];

pub fn transition(
    state: MeetingState,
    action: MeetingAction,
) -> Option<&'static Transition<MeetingState, MeetingAction>> {
    lifecycle::transition(TRANSITIONS, state, action)
}

pub fn allowed(state: MeetingState) -> Vec<MeetingAction> {
    lifecycle::allowed(TRANSITIONS, state)
}

/// Where `action` leads from `state` (attendance: the count decides), or the refusal naming the
/// state and the steps allowed from it.
pub fn decide(
    state: MeetingState,
    action: MeetingAction,
) -> Result<Target<MeetingState>, Refusal<MeetingState, MeetingAction>> {
    lifecycle::decide(TRANSITIONS, state, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::lifecycle::check;

    #[test]
    fn meeting_table_is_well_formed() {
        check::well_formed(
            TRANSITIONS,
            MeetingState::ALL,
            MeetingAction::ALL,
            MS::Inquorate,
            |_| false,
        );
        let q = Quorum { num: 1, den: 2 };
        assert_eq!(MeetingState::of(&quorum_standing(q, 1, 4)), MS::Inquorate);
        assert_eq!(MeetingState::of(&quorum_standing(q, 2, 4)), MS::Quorate);
    }

    #[test]
    fn every_meeting_state_and_step_follows_the_table() {
        let ok = check::follows_the_table(TRANSITIONS, MeetingState::ALL, MeetingAction::ALL, decide);
        assert_eq!(ok, 7);
        let r = decide(MS::Inquorate, MA::Decide).unwrap_err();
        assert_eq!(
            r.to_string(),
            "it is inquorate (未达法定人数), which does not allow decide (作出决定); allowed: \
             record_attendance (记录出席), record_minutes (记录纪要), record_position (记录委员意见)"
        );
        for d in Decision::ALL {
            assert_eq!(
                super::super::proposal::decide(super::super::proposal::ProposalStatus::Open, d.action()),
                Ok(d.status())
            );
        }
    }

    #[test]
    fn quorum_of_attendance() {
        let q = Quorum { num: 2, den: 3 };
        assert!(quorum_standing(q, 6, 9).met);
        let s = quorum_standing(q, 5, 9);
        assert!(!s.met);
        assert_eq!(s.required, 6);
        assert!(s.explanation.en.contains("below the quorum"));
        assert!(!quorum_standing(q, 0, 0).met);
        assert!(Quorum { num: 3, den: 2 }.check().is_err());
    }
}
