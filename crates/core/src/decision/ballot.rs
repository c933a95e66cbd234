//! Ballots (选票): what a voter may put on one, checked against the vote's rules, and a ballot
//! box that takes one ballot per eligible voter.
//!
//! Kinds: a motion (yes / no / abstain), approval of projects (min and max number), a
//! within-budget selection (total cost within the budget and at least a share of it spent, as
//! Decidim's "vote within budget with a minimum"), and cumulative points. Projects in one
//! exclusive set (互斥) cannot be chosen together.

use std::collections::{HashMap, HashSet};

use num_bigint::BigInt;
use num_rational::BigRational;
use serde::{Deserialize, Serialize};

use super::pb::{self, Ballots, Election};
use crate::DomainError;

/// A voter's choice on a motion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    No,
    Abstain,
}

/// What a ballot may hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BallotRule {
    Motion,
    /// Approve between `min` and `max` projects.
    Approval {
        min: usize,
        max: usize,
    },
    /// Choose projects whose total cost is within the budget and at least `min_num/min_den` of it.
    WithinBudget {
        min_num: u32,
        min_den: u32,
    },
    /// Spread up to `points` points, at most `max_per_project` on one project (0: no limit).
    Cumulative {
        points: u32,
        max_per_project: u32,
    },
}

/// A project on the ballot with its cost (in whole yuan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotProject {
    pub id: String,
    pub cost: u64,
}

/// The ballot of one vote: its rule, projects, budget and exclusive sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotSpec {
    pub rule: BallotRule,
    #[serde(default)]
    pub projects: Vec<BallotProject>,
    #[serde(default)]
    pub budget: u64,
    /// Sets of project ids of which a ballot may choose at most one.
    #[serde(default)]
    pub exclusive: Vec<Vec<String>>,
}

/// A filled-in ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ballot {
    Motion { choice: Choice },
    Projects { projects: Vec<String> },
    Points { points: Vec<(String, u32)> },
}

impl BallotSpec {
    /// Checks the spec itself: known ids in exclusive sets, sane bounds.
    pub fn validate(&self) -> Result<(), DomainError> {
        let ids: HashSet<&str> = self.projects.iter().map(|p| p.id.as_str()).collect();
        if ids.len() != self.projects.len() {
            return Err(DomainError::invalid(
                "projects",
                "a project id appears twice on the ballot",
            ));
        }
        for set in &self.exclusive {
            for id in set {
                if !ids.contains(id.as_str()) {
                    return Err(DomainError::invalid(
                        "exclusive",
                        format!("project {id:?} is not on the ballot"),
                    ));
                }
            }
        }
        match &self.rule {
            BallotRule::Motion => {}
            BallotRule::Approval { min, max } => {
                if min > max || *max == 0 {
                    return Err(DomainError::invalid(
                        "rule",
                        format!("approval bounds {min}..{max}: need 0 ≤ min ≤ max, max ≥ 1"),
                    ));
                }
            }
            BallotRule::WithinBudget { min_num, min_den } => {
                if *min_den == 0 || min_num > min_den {
                    return Err(DomainError::invalid(
                        "rule",
                        "the minimum share of the budget must be a fraction between 0 and 1",
                    ));
                }
                if self.budget == 0 {
                    return Err(DomainError::invalid("budget", "a within-budget ballot needs a budget"));
                }
            }
            BallotRule::Cumulative { points, .. } => {
                if *points == 0 {
                    return Err(DomainError::invalid(
                        "rule",
                        "a cumulative ballot needs points to spread",
                    ));
                }
            }
        }
        Ok(())
    }

    fn project(&self, id: &str) -> Result<&BallotProject, DomainError> {
        self.projects
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| DomainError::invalid("ballot", format!("project {id:?} is not on this ballot")))
    }

    fn check_exclusive<'a>(&self, chosen: impl Iterator<Item = &'a str> + Clone) -> Result<(), DomainError> {
        for set in &self.exclusive {
            let hit: Vec<&str> = chosen.clone().filter(|c| set.iter().any(|s| s == c)).collect();
            if hit.len() > 1 {
                return Err(DomainError::invalid(
                    "ballot",
                    format!("projects {} exclude each other: choose at most one", hit.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Checks a filled-in ballot against the rule; the error says what to change.
    pub fn check(&self, b: &Ballot) -> Result<(), DomainError> {
        match (&self.rule, b) {
            (BallotRule::Motion, Ballot::Motion { .. }) => Ok(()),
            (BallotRule::Approval { min, max }, Ballot::Projects { projects }) => {
                self.distinct(projects.iter().map(String::as_str))?;
                if projects.len() < *min || projects.len() > *max {
                    return Err(DomainError::invalid(
                        "ballot",
                        format!(
                            "choose between {min} and {max} projects; this ballot has {}",
                            projects.len()
                        ),
                    ));
                }
                self.check_exclusive(projects.iter().map(String::as_str))
            }
            (BallotRule::WithinBudget { min_num, min_den }, Ballot::Projects { projects }) => {
                self.distinct(projects.iter().map(String::as_str))?;
                let mut total = 0u64;
                for id in projects {
                    total += self.project(id)?.cost;
                }
                if total > self.budget {
                    return Err(DomainError::invalid(
                        "ballot",
                        format!(
                            "the chosen projects cost {total}, more than the budget of {}",
                            self.budget
                        ),
                    ));
                }
                if (total as u128) * (*min_den as u128) < (self.budget as u128) * (*min_num as u128) {
                    let least = ((self.budget as u128) * (*min_num as u128)).div_ceil(*min_den as u128);
                    return Err(DomainError::invalid(
                        "ballot",
                        format!("the chosen projects cost {total}; choose projects worth at least {least} ({min_num}/{min_den} of the budget)"),
                    ));
                }
                self.check_exclusive(projects.iter().map(String::as_str))
            }
            (
                BallotRule::Cumulative {
                    points,
                    max_per_project,
                },
                Ballot::Points { points: given },
            ) => {
                self.distinct(given.iter().map(|(id, _)| id.as_str()))?;
                let mut total = 0u64;
                for (id, p) in given {
                    self.project(id)?;
                    if *p == 0 {
                        return Err(DomainError::invalid(
                            "ballot",
                            format!("project {id:?}: give at least one point or leave it out"),
                        ));
                    }
                    if *max_per_project > 0 && p > max_per_project {
                        return Err(DomainError::invalid(
                            "ballot",
                            format!("project {id:?} got {p} points; at most {max_per_project} on one project"),
                        ));
                    }
                    total += *p as u64;
                }
                if total > *points as u64 {
                    return Err(DomainError::invalid(
                        "ballot",
                        format!("{total} points given; at most {points}"),
                    ));
                }
                self.check_exclusive(given.iter().map(|(id, _)| id.as_str()))
            }
            _ => Err(DomainError::invalid(
                "ballot",
                "this kind of ballot does not fit the vote's rule",
            )),
        }
    }

    fn distinct<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Result<(), DomainError> {
        let mut seen = HashSet::new();
        for id in ids {
            self.project(id)?;
            if !seen.insert(id) {
                return Err(DomainError::invalid(
                    "ballot",
                    format!("project {id:?} is chosen twice"),
                ));
            }
        }
        Ok(())
    }
}

/// One ballot per eligible voter. Keeps who voted apart from what was voted: `cast` returns a
/// receipt number; `ballots()` gives the ballots in receipt order without voters.
#[derive(Debug, Clone)]
pub struct BallotBox {
    spec: BallotSpec,
    eligible: HashSet<String>,
    voted: HashMap<String, usize>,
    ballots: Vec<Ballot>,
}

impl BallotBox {
    pub fn new(spec: BallotSpec, eligible: impl IntoIterator<Item = String>) -> Result<Self, DomainError> {
        spec.validate()?;
        Ok(BallotBox {
            spec,
            eligible: eligible.into_iter().collect(),
            voted: HashMap::new(),
            ballots: Vec::new(),
        })
    }

    pub fn spec(&self) -> &BallotSpec {
        &self.spec
    }

    /// Casts a ballot; refused for a voter outside the electorate, a second ballot, or a ballot
    /// that breaks the rule. Returns the receipt (the ballot's position).
    pub fn cast(&mut self, voter: &str, ballot: Ballot) -> Result<usize, DomainError> {
        if !self.eligible.contains(voter) {
            return Err(DomainError::invalid(
                "voter",
                "this voter is not in the electorate of this vote",
            ));
        }
        if self.voted.contains_key(voter) {
            return Err(DomainError::invalid(
                "voter",
                "this voter has already voted: one ballot each",
            ));
        }
        self.spec.check(&ballot)?;
        let receipt = self.ballots.len();
        self.ballots.push(ballot);
        self.voted.insert(voter.to_string(), receipt);
        Ok(receipt)
    }

    pub fn has_voted(&self, voter: &str) -> bool {
        self.voted.contains_key(voter)
    }

    pub fn ballots(&self) -> &[Ballot] {
        &self.ballots
    }

    pub fn eligible_count(&self) -> usize {
        self.eligible.len()
    }

    /// The participatory-budgeting election of the ballots cast (approval, within-budget or
    /// cumulative); a motion has none.
    pub fn election(&self) -> Result<Election, DomainError> {
        let index: HashMap<&str, usize> = self
            .spec
            .projects
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let int = |n: u64| BigRational::from_integer(BigInt::from(n));
        let kind = match self.spec.rule {
            BallotRule::Motion => {
                return Err(DomainError::invalid(
                    "rule",
                    "a motion is tallied, not counted as a budget",
                ))
            }
            BallotRule::Cumulative { .. } => Ballots::Cumulative,
            _ => Ballots::Approval,
        };
        let ballots = self
            .ballots
            .iter()
            .map(|b| match b {
                Ballot::Projects { projects } => projects.iter().map(|p| (index[p.as_str()], int(1))).collect(),
                Ballot::Points { points } => points
                    .iter()
                    .map(|(p, x)| (index[p.as_str()], int(*x as u64)))
                    .collect(),
                Ballot::Motion { .. } => Vec::new(),
            })
            .collect();
        Ok(Election {
            budget: int(self.spec.budget),
            projects: self
                .spec
                .projects
                .iter()
                .map(|p| pb::Project {
                    id: p.id.clone(),
                    cost: int(p.cost),
                })
                .collect(),
            kind,
            ballots,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rule: BallotRule) -> BallotSpec {
        BallotSpec {
            rule,
            projects: [("a", 4000), ("b", 3000), ("c", 2000), ("d", 1000)]
                .iter()
                .map(|(id, cost)| BallotProject {
                    id: id.to_string(),
                    cost: *cost,
                })
                .collect(),
            budget: 6000,
            exclusive: vec![vec!["a".into(), "b".into()]],
        }
    }

    fn projects(ids: &[&str]) -> Ballot {
        Ballot::Projects {
            projects: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn approval_ballots_respect_bounds_and_exclusive_sets() {
        let s = spec(BallotRule::Approval { min: 1, max: 2 });
        s.check(&projects(&["a", "c"])).unwrap();
        assert!(s
            .check(&projects(&[]))
            .unwrap_err()
            .to_string()
            .contains("between 1 and 2"));
        assert!(s.check(&projects(&["a", "c", "d"])).is_err());
        assert!(s
            .check(&projects(&["a", "b"]))
            .unwrap_err()
            .to_string()
            .contains("exclude each other"));
        assert!(s
            .check(&projects(&["c", "c"]))
            .unwrap_err()
            .to_string()
            .contains("twice"));
        assert!(s
            .check(&projects(&["zz"]))
            .unwrap_err()
            .to_string()
            .contains("not on this ballot"));
        assert!(s.check(&Ballot::Motion { choice: Choice::Yes }).is_err());
    }

    #[test]
    fn within_budget_ballots_need_the_minimum_share() {
        // Budget 6000, at least 1/2 spent: 3000 exactly is fine, 2000 is not, 7000 is too much.
        let s = spec(BallotRule::WithinBudget { min_num: 1, min_den: 2 });
        s.check(&projects(&["b"])).unwrap();
        s.check(&projects(&["a", "c"])).unwrap();
        let e = s.check(&projects(&["c"])).unwrap_err().to_string();
        assert!(e.contains("at least 3000"), "{e}");
        assert!(s
            .check(&projects(&["a", "c", "d"]))
            .unwrap_err()
            .to_string()
            .contains("more than the budget"));
    }

    #[test]
    fn cumulative_ballots_spread_points() {
        let s = spec(BallotRule::Cumulative {
            points: 5,
            max_per_project: 3,
        });
        let pts = |v: &[(&str, u32)]| Ballot::Points {
            points: v.iter().map(|(a, b)| (a.to_string(), *b)).collect(),
        };
        s.check(&pts(&[("a", 3), ("c", 2)])).unwrap();
        assert!(s
            .check(&pts(&[("a", 4)]))
            .unwrap_err()
            .to_string()
            .contains("at most 3"));
        assert!(s
            .check(&pts(&[("c", 3), ("d", 3)]))
            .unwrap_err()
            .to_string()
            .contains("at most 5"));
        assert!(s.check(&pts(&[("a", 1), ("b", 1)])).is_err());
    }

    #[test]
    fn one_ballot_per_eligible_voter_and_counting() {
        let mut bx = BallotBox::new(
            spec(BallotRule::Approval { min: 1, max: 2 }),
            ["v1", "v2", "v3"].map(String::from),
        )
        .unwrap();
        assert_eq!(bx.cast("v1", projects(&["a", "c"])).unwrap(), 0);
        assert!(bx
            .cast("v1", projects(&["d"]))
            .unwrap_err()
            .to_string()
            .contains("already voted"));
        assert!(bx
            .cast("v9", projects(&["d"]))
            .unwrap_err()
            .to_string()
            .contains("not in the electorate"));
        assert!(bx.cast("v2", projects(&["a", "b"])).is_err());
        assert!(!bx.has_voted("v2"));
        bx.cast("v2", projects(&["c", "d"])).unwrap();
        bx.cast("v3", projects(&["a"])).unwrap();
        let e = bx.election().unwrap();
        // Greedy by votes: a 2, c 2 (a first by id): a (4000), c (2000) → 6000 spent.
        assert_eq!(e.count(pb::Rule::Greedy).unwrap().funded, ["a", "c"]);
    }
}
