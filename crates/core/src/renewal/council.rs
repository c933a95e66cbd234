//! The deliberation council (议事会): members by kind, meetings with an agenda of proposals,
//! attendance, positions and decisions, which stand only if the attendance quorum holds.
//!
//! The quorum is a [`Condition`] of the decision module (participation, heads, at least
//! `num/den` of all members).

use serde::{Deserialize, Serialize};

use crate::decision::{Base, Comparison, Condition, Measure, Phase, Sentence};
use crate::org::string_enum;
use crate::DomainError;

string_enum! {
    /// Who sits on the council.
    MemberKind {
        ResidentRepresentative => "resident_representative", "居民代表";
        Planner => "planner", "社区规划师";
        PropertyManager => "property_manager", "物业";
        CommunityCommittee => "community_committee", "社区居委会";
        DepartmentLiaison => "department_liaison", "部门联络员";
    }
}

string_enum! {
    /// A member's position on a proposal.
    Stance {
        Support => "support", "支持";
        Object => "object", "反对";
        Abstain => "abstain", "弃权";
    }
}

string_enum! {
    /// The council's decision on a proposal.
    Decision {
        ToVote => "to_vote", "提交表决";
        Revise => "revise", "退回修改";
        Rejected => "rejected", "否决";
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

#[cfg(test)]
mod tests {
    use super::*;

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
