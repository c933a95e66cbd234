//! Tallies with explanations: motions of councils and committees (quorum, simple or qualified
//! majority) and committee elections by approval for N seats (自治委员会选举).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::ballot::Choice;
use super::threshold::Comparison;
use super::Sentence;
use crate::DomainError;

/// What a qualified majority is counted of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MajorityBase {
    /// Yes and no votes (abstentions left out).
    YesAndNo,
    /// Every ballot cast, abstentions included.
    Cast,
    /// All members entitled to vote.
    Members,
}

/// A motion's rule: a quorum of members casting a ballot (abstaining counts as present), and
/// yes votes `cmp` `num/den` of the base. Simple majority = more than 1/2 of yes and no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionRule {
    pub quorum_num: u32,
    pub quorum_den: u32,
    pub cmp: Comparison,
    pub num: u32,
    pub den: u32,
    pub base: MajorityBase,
}

impl MotionRule {
    /// Quorum of more than half the members … as data: ≥ `qn/qd` present, yes > half of yes+no.
    pub fn simple(quorum_num: u32, quorum_den: u32) -> Self {
        MotionRule {
            quorum_num,
            quorum_den,
            cmp: Comparison::MoreThan,
            num: 1,
            den: 2,
            base: MajorityBase::YesAndNo,
        }
    }

    /// Yes ≥ `num/den` of the ballots cast, with a quorum.
    pub fn qualified(quorum_num: u32, quorum_den: u32, num: u32, den: u32) -> Self {
        MotionRule {
            quorum_num,
            quorum_den,
            cmp: Comparison::AtLeast,
            num,
            den,
            base: MajorityBase::Cast,
        }
    }
}

/// The result of a motion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MotionResult {
    pub members: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub quorum_met: bool,
    pub passed: bool,
    pub explanation: Sentence,
}

/// Tallies a motion of `members` members from the choices cast (one per voter, checked by the
/// ballot box).
pub fn motion(rule: &MotionRule, members: u64, choices: &[Choice]) -> Result<MotionResult, DomainError> {
    if rule.quorum_den == 0 || rule.den == 0 || rule.quorum_num > rule.quorum_den || rule.num > rule.den {
        return Err(DomainError::invalid(
            "rule",
            "quorum and majority must be fractions between 0 and 1",
        ));
    }
    let cast = choices.len() as u64;
    if cast > members {
        return Err(DomainError::invalid(
            "ballots",
            format!("{cast} ballots from {members} members"),
        ));
    }
    let count = |c: Choice| choices.iter().filter(|x| **x == c).count() as u64;
    let (yes, no, abstain) = (count(Choice::Yes), count(Choice::No), count(Choice::Abstain));
    let quorum_met = cast as u128 * rule.quorum_den as u128 >= members as u128 * rule.quorum_num as u128;
    let base = match rule.base {
        MajorityBase::YesAndNo => yes + no,
        MajorityBase::Cast => cast,
        MajorityBase::Members => members,
    };
    let (l, r) = (yes as u128 * rule.den as u128, base as u128 * rule.num as u128);
    let majority = match rule.cmp {
        Comparison::AtLeast => l >= r && yes > 0,
        Comparison::MoreThan => l > r,
    };
    let passed = quorum_met && majority;
    let sym = match rule.cmp {
        Comparison::AtLeast => "≥",
        Comparison::MoreThan => ">",
    };
    let (bz, be) = match rule.base {
        MajorityBase::YesAndNo => ("赞成与反对票", "yes and no votes"),
        MajorityBase::Cast => ("所投票数", "ballots cast"),
        MajorityBase::Members => ("全体成员", "members"),
    };
    let explanation = Sentence {
        zh: format!(
            "应到{members}人，实到{cast}人（法定人数{}/{}，{}）；赞成{yes}、反对{no}、弃权{abstain}；需赞成{sym}{bz}的{}/{}：{}。",
            rule.quorum_num,
            rule.quorum_den,
            if quorum_met { "已达到" } else { "未达到" },
            rule.num,
            rule.den,
            if passed { "通过" } else { "未通过" }
        ),
        en: format!(
            "{cast} of {members} members voted (quorum {}/{}: {}); {yes} yes, {no} no, {abstain} abstaining; yes must be {sym} {}/{} of {be}: {}.",
            rule.quorum_num,
            rule.quorum_den,
            if quorum_met { "met" } else { "not met" },
            rule.num,
            rule.den,
            if passed { "passed" } else { "not passed" }
        ),
    };
    Ok(MotionResult {
        members,
        yes,
        no,
        abstain,
        quorum_met,
        passed,
        explanation,
    })
}

/// A committee election by approval: each ballot approves at most `seats` candidates; the
/// candidates with the most approvals take the seats, provided they have at least
/// `min_num/min_den` of the ballots (e.g. more than half: 1/2 with `MoreThan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeRule {
    pub seats: usize,
    pub min_cmp: Comparison,
    pub min_num: u32,
    pub min_den: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateResult {
    pub id: String,
    pub approvals: u64,
    pub elected: bool,
    /// 1-based rank (ties share nothing: the tie rule orders them).
    pub rank: usize,
    pub explanation: Sentence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitteeResult {
    pub ballots: u64,
    pub elected: Vec<String>,
    /// Seats left empty for want of candidates reaching the minimum.
    pub vacant: usize,
    /// A tie for the last seat was broken by the tie rule (organisers may prefer a run-off).
    pub tie_at_cut: bool,
    pub candidates: Vec<CandidateResult>,
}

/// Elects a committee. Ties are broken by candidate id in code-point order (the same rule as
/// the budget counts); `tie_at_cut` says when that decided a seat.
pub fn committee(
    rule: &CommitteeRule,
    candidates: &[String],
    ballots: &[Vec<String>],
) -> Result<CommitteeResult, DomainError> {
    if rule.seats == 0 || rule.min_den == 0 || rule.min_num > rule.min_den {
        return Err(DomainError::invalid(
            "rule",
            "seats ≥ 1 and a minimum share between 0 and 1",
        ));
    }
    let known: HashSet<&str> = candidates.iter().map(String::as_str).collect();
    if known.len() != candidates.len() {
        return Err(DomainError::invalid("candidates", "a candidate appears twice"));
    }
    let mut approvals: HashMap<&str, u64> = candidates.iter().map(|c| (c.as_str(), 0)).collect();
    for (i, b) in ballots.iter().enumerate() {
        let mut seen = HashSet::new();
        if b.len() > rule.seats {
            return Err(DomainError::invalid(
                format!("ballots[{i}]"),
                format!(
                    "{} candidates approved; at most {} (the number of seats)",
                    b.len(),
                    rule.seats
                ),
            ));
        }
        for c in b {
            if !known.contains(c.as_str()) || !seen.insert(c.as_str()) {
                return Err(DomainError::invalid(
                    format!("ballots[{i}]"),
                    format!("{c:?} is not a candidate or is approved twice"),
                ));
            }
            *approvals.get_mut(c.as_str()).expect("known") += 1;
        }
    }
    let n = ballots.len() as u64;
    let mut order: Vec<&String> = candidates.iter().collect();
    order.sort_by(|a, b| approvals[b.as_str()].cmp(&approvals[a.as_str()]).then(a.cmp(b)));
    let reaches = |a: u64| {
        let (l, r) = (a as u128 * rule.min_den as u128, n as u128 * rule.min_num as u128);
        match rule.min_cmp {
            Comparison::AtLeast => l >= r && a > 0,
            Comparison::MoreThan => l > r,
        }
    };
    let mut elected = Vec::new();
    let mut out = Vec::new();
    for (i, c) in order.iter().enumerate() {
        let a = approvals[c.as_str()];
        let ok = elected.len() < rule.seats && reaches(a);
        if ok {
            elected.push((*c).clone());
        }
        let why_en = if ok {
            format!(
                "{a} of {n} ballots approved; rank {} of {} seats: elected",
                i + 1,
                rule.seats
            )
        } else if !reaches(a) {
            format!(
                "{a} of {n} ballots approved, below the minimum of {}/{}: not elected",
                rule.min_num, rule.min_den
            )
        } else {
            format!(
                "{a} of {n} ballots approved; rank {}, after the {} seats were filled: not elected",
                i + 1,
                rule.seats
            )
        };
        let why_zh = if ok {
            format!("{n}张选票中{a}张赞成，排名第{}（共{}席）：当选", i + 1, rule.seats)
        } else if !reaches(a) {
            format!(
                "{n}张选票中{a}张赞成，未达最低{}/{}：未当选",
                rule.min_num, rule.min_den
            )
        } else {
            format!("{n}张选票中{a}张赞成，排名第{}，席位已满：未当选", i + 1)
        };
        out.push(CandidateResult {
            id: (*c).clone(),
            approvals: a,
            elected: ok,
            rank: i + 1,
            explanation: Sentence { zh: why_zh, en: why_en },
        });
    }
    let tie_at_cut = order.len() > rule.seats
        && elected.len() == rule.seats
        && approvals[order[rule.seats - 1].as_str()] == approvals[order[rule.seats].as_str()];
    if tie_at_cut {
        for c in out
            .iter_mut()
            .filter(|c| c.approvals == approvals[order[rule.seats].as_str()])
        {
            c.explanation.zh.push_str("（票数相同，按编号先后决定）");
            c.explanation.en.push_str(" (tied; decided by candidate id order)");
        }
    }
    Ok(CommitteeResult {
        ballots: n,
        vacant: rule.seats - elected.len(),
        elected,
        tie_at_cut,
        candidates: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Choice::*;

    #[test]
    fn simple_majority_with_quorum() {
        // 9 members, quorum more than half present (≥ 5/9 … as 1/2 with ≥: 4.5 → 5).
        let rule = MotionRule::simple(1, 2);
        let r = motion(&rule, 9, &[Yes, Yes, Yes, No, Abstain]).unwrap();
        assert!(r.quorum_met && r.passed, "{}", r.explanation.en);
        // 2 yes, 2 no: exactly half is not more than half.
        let r = motion(&rule, 9, &[Yes, Yes, No, No, Abstain]).unwrap();
        assert!(!r.passed);
        // 4 of 9 present: quorum missed however they vote.
        let r = motion(&rule, 9, &[Yes, Yes, Yes, Yes]).unwrap();
        assert!(!r.quorum_met && !r.passed);
        assert!(r.explanation.zh.contains("未达到"));
        assert!(motion(&rule, 2, &[Yes, Yes, Yes]).is_err());
    }

    #[test]
    fn qualified_majority_of_ballots_cast() {
        // Two thirds of the 6 ballots cast (abstentions count): 4 yes passes, 3 does not.
        let rule = MotionRule::qualified(2, 3, 2, 3);
        assert!(motion(&rule, 9, &[Yes, Yes, Yes, Yes, No, Abstain]).unwrap().passed);
        assert!(!motion(&rule, 9, &[Yes, Yes, Yes, Abstain, No, Abstain]).unwrap().passed);
        // Of all members: 6 of 9 is 2/3.
        let members = MotionRule {
            base: MajorityBase::Members,
            ..rule
        };
        assert!(motion(&members, 9, &[Yes; 6]).unwrap().passed);
        assert!(!motion(&members, 9, &[Yes, Yes, Yes, Yes, Yes, No]).unwrap().passed);
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn committee_by_approval_with_a_tie_at_the_last_seat() {
        let rule = CommitteeRule {
            seats: 2,
            min_cmp: Comparison::MoreThan,
            min_num: 1,
            min_den: 4,
        };
        let cands = ids(&["wang", "li", "zhang", "zhao"]);
        // wang 4, li 2, zhang 2, zhao 1 of 5 ballots: wang, then li and zhang tie → "li" < "zhang".
        let ballots = vec![
            ids(&["wang", "li"]),
            ids(&["wang", "zhang"]),
            ids(&["wang"]),
            ids(&["wang", "li"]),
            ids(&["zhang", "zhao"]),
        ];
        let r = committee(&rule, &cands, &ballots).unwrap();
        assert_eq!(r.elected, ids(&["wang", "li"]));
        assert!(r.tie_at_cut);
        let zhang = r.candidates.iter().find(|c| c.id == "zhang").unwrap();
        assert!(zhang.explanation.en.contains("tied"), "{}", zhang.explanation.en);
        // zhao: 1 of 5 is not more than 1/4.
        let zhao = r.candidates.iter().find(|c| c.id == "zhao").unwrap();
        assert!(zhao.explanation.en.contains("below the minimum"));
        // A seat stays vacant when too few reach the minimum.
        let strict = CommitteeRule {
            seats: 3,
            min_num: 1,
            min_den: 2,
            ..rule
        };
        let r = committee(&strict, &cands, &ballots).unwrap();
        assert_eq!((r.elected.clone(), r.vacant), (ids(&["wang"]), 2));
        // Too many approvals on one ballot, or an unknown candidate, are refused.
        assert!(committee(&rule, &cands, &[ids(&["wang", "li", "zhao"])]).is_err());
        assert!(committee(&rule, &cands, &[ids(&["nobody"])]).is_err());
    }
}
