//! What the micro-renewal lifecycles share, in the style of the case loop ([`crate::case`]):
//! each lifecycle has one transition table (state × step → state, and who may take the step),
//! and [`transition`], [`allowed`] and [`decide`] read it. [`decide`] gives where the step
//! leads, or a [`Refusal`] naming the state and the steps allowed from it; the store records
//! what the table allows and refuses the rest with 409.
//!
//! The tables: the proposal (方案, [`super::proposal::TRANSITIONS`]) and its amendments (修改建议,
//! [`super::proposal::AMENDMENT_TRANSITIONS`]), the council meeting (议事会会议,
//! [`super::council::TRANSITIONS`]), the vote (投票, [`super::vote::TRANSITIONS`]) and its paper
//! ballots (纸质选票, [`super::vote::PAPER_TRANSITIONS`]), the delivery project's milestones
//! (里程碑, [`super::delivery::TRANSITIONS`]) and a work's bundling (项目整合,
//! [`super::works::TRANSITIONS`]).
//!
//! What is only recorded (comments, photos, spending, contributions, upkeep, acceptance answers)
//! is not a step of a lifecycle: it is taken in any state.

use std::fmt;

use crate::org::string_enum;

string_enum! {
    /// Who takes a step, as the web layer checks it today.
    Party {
        /// 提案人: the proposal's author.
        Author => "author", "提案人", "Author";
        /// 社区规划师、管理员: who runs micro-renewal in the community; records the council's
        /// decisions, runs the votes and the delivery.
        Staff => "staff", "社区工作人员", "Community staff";
        /// 本社区居民: a verified resident of the community.
        Resident => "resident", "本社区居民", "Resident of the community";
        /// 时钟与督办: nobody asks; the step comes with time (a vote opens and closes) or with
        /// the supervision sweep.
        System => "system", "系统", "System";
    }
}

/// A state or a step of a lifecycle: its code (`Display`) and its Chinese name.
pub trait Named: Copy + PartialEq + fmt::Display + 'static {
    fn zh(self) -> &'static str;
}

/// Implements [`Named`] for string enums (their inherent `zh`).
macro_rules! named {
    ($($t:ty),+) => {
        $(impl $crate::renewal::lifecycle::Named for $t {
            fn zh(self) -> &'static str {
                <$t>::zh(self)
            }
        })+
    };
}
pub(crate) use named;

named!(Party);

/// Where a step leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<S: 'static> {
    To(S),
    /// The state does not change (a fact is added: a version, a ballot, a position …).
    Stay,
    /// One of these, as a count decides (attendance against the quorum).
    ByCount(&'static [S]),
}

impl<S: Copy + PartialEq> Target<S> {
    /// The states the step may lead to from `from`.
    pub fn targets(self, from: S) -> Vec<S> {
        match self {
            Target::To(s) => vec![s],
            Target::Stay => vec![from],
            Target::ByCount(s) => s.to_vec(),
        }
    }

    /// The one state the step leads to from `from`; `None` when a count decides.
    pub fn resolve(self, from: S) -> Option<S> {
        match self {
            Target::To(s) => Some(s),
            Target::Stay => Some(from),
            Target::ByCount(_) => None,
        }
    }
}

/// One row of a transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<S: 'static, A: 'static> {
    pub from: &'static [S],
    pub action: A,
    pub to: Target<S>,
    /// Who may take the step.
    pub who: &'static [Party],
}

pub(crate) const fn row<S, A>(from: &'static [S], action: A, to: Target<S>, who: &'static [Party]) -> Transition<S, A> {
    Transition { from, action, to, who }
}

/// The row of `table` for `action` from `state`, if the step exists.
pub fn transition<S: PartialEq, A: PartialEq>(
    table: &'static [Transition<S, A>],
    state: S,
    action: A,
) -> Option<&'static Transition<S, A>> {
    table.iter().find(|t| t.action == action && t.from.contains(&state))
}

/// The steps `table` allows from `state`, whoever asks, in table order.
pub fn allowed<S: PartialEq, A: Copy>(table: &'static [Transition<S, A>], state: S) -> Vec<A> {
    table
        .iter()
        .filter(|t| t.from.contains(&state))
        .map(|t| t.action)
        .collect()
}

/// The steps `table` allows from `state` to `party`.
pub fn allowed_for<S: PartialEq, A: Copy>(table: &'static [Transition<S, A>], state: S, party: Party) -> Vec<A> {
    table
        .iter()
        .filter(|t| t.from.contains(&state) && t.who.contains(&party))
        .map(|t| t.action)
        .collect()
}

/// Where `action` leads from `state`, or why not.
pub fn decide<S: Named, A: Named>(
    table: &'static [Transition<S, A>],
    state: S,
    action: A,
) -> Result<Target<S>, Refusal<S, A>> {
    match transition(table, state, action) {
        Some(t) => Ok(t.to),
        None => Err(Refusal {
            state,
            action,
            allowed: allowed(table, state),
        }),
    }
}

/// A step the table does not have from the state (409): the state, the step, and the steps
/// allowed from the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal<S, A> {
    pub state: S,
    pub action: A,
    pub allowed: Vec<A>,
}

impl<S: Named, A: Named> fmt::Display for Refusal<S, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "it is {} ({}), which does not allow {} ({}); allowed: {}",
            self.state,
            self.state.zh(),
            self.action,
            self.action.zh(),
            join(&self.allowed)
        )
    }
}

impl<S: Named + fmt::Debug, A: Named + fmt::Debug> std::error::Error for Refusal<S, A> {}

/// `a (中文), b (中文)`, or `nothing`.
pub fn join<A: Named>(items: &[A]) -> String {
    if items.is_empty() {
        return "nothing".into();
    }
    items
        .iter()
        .map(|a| format!("{a} ({})", a.zh()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The checks every lifecycle's tests run on its table, as the case loop's
/// `table_is_well_formed` and `every_state_and_action_follows_the_table` do.
#[cfg(test)]
pub(crate) mod check {
    use std::collections::{HashSet, VecDeque};
    use std::fmt::Debug;
    use std::hash::Hash;

    use super::*;

    /// Each (state, step) at most once, someone may take each step, terminal states allow
    /// nothing and the others something, every step appears, and every state is reachable from
    /// `initial`.
    pub(crate) fn well_formed<S, A>(
        table: &'static [Transition<S, A>],
        states: &[S],
        actions: &[A],
        initial: S,
        terminal: impl Fn(S) -> bool,
    ) where
        S: Named + Eq + Hash + Debug,
        A: Named + Eq + Hash + Debug,
    {
        let mut seen = HashSet::new();
        for t in table {
            assert!(!t.who.is_empty(), "nobody may {}", t.action);
            assert!(!t.from.is_empty(), "{} from nowhere", t.action);
            for s in t.from {
                assert!(seen.insert((*s, t.action)), "{s} × {} appears twice", t.action);
                assert!(!terminal(*s), "{s} is terminal but allows {}", t.action);
            }
            for to in t.to.targets(t.from[0]) {
                assert!(states.contains(&to), "{to} is not a state");
            }
        }
        for a in actions {
            assert!(table.iter().any(|t| t.action == *a), "{a} is in no row");
        }
        for s in states {
            assert_eq!(allowed(table, *s).is_empty(), terminal(*s), "{s}");
        }
        let mut reached = HashSet::from([initial]);
        let mut queue = VecDeque::from([initial]);
        while let Some(s) = queue.pop_front() {
            for a in allowed(table, s) {
                for to in transition(table, s, a).unwrap().to.targets(s) {
                    if reached.insert(to) {
                        queue.push_back(to);
                    }
                }
            }
        }
        for s in states {
            assert!(reached.contains(s), "{s} is not reachable from {initial}");
        }
    }

    /// Every state × every step: allowed as the table says (to the table's target, for the
    /// table's parties) or refused with the state and the steps allowed from it. Returns the
    /// number of allowed pairs.
    pub(crate) fn follows_the_table<S, A>(
        table: &'static [Transition<S, A>],
        states: &[S],
        actions: &[A],
        decide: impl Fn(S, A) -> Result<Target<S>, Refusal<S, A>>,
    ) -> usize
    where
        S: Named + Debug,
        A: Named + Debug,
    {
        let mut ok = 0;
        for s in states {
            for a in actions {
                match (transition(table, *s, *a), decide(*s, *a)) {
                    (Some(t), Ok(to)) => {
                        assert_eq!(to, t.to, "{s} {a}");
                        assert!(t.to.targets(*s).iter().all(|x| states.contains(x)));
                        for p in t.who {
                            assert!(allowed_for(table, *s, *p).contains(a), "{s} {a} {p}");
                        }
                        for p in Party::ALL.iter().filter(|p| !t.who.contains(p)) {
                            assert!(!allowed_for(table, *s, *p).contains(a), "{s} {a} {p}");
                        }
                        ok += 1;
                    }
                    (None, Err(r)) => {
                        assert_eq!(
                            r,
                            Refusal {
                                state: *s,
                                action: *a,
                                allowed: allowed(table, *s)
                            }
                        );
                        let text = r.to_string();
                        assert!(text.contains(&format!("it is {s} ({})", s.zh())), "{text}");
                        assert!(text.contains(&join(&r.allowed)), "{text}");
                    }
                    (t, d) => panic!("{s} {a}: table {t:?}, decide {d:?}"),
                }
            }
        }
        ok
    }
}
