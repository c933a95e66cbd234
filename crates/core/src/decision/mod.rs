//! The one decision module (决策): electorates, consent thresholds, ballots, tallies and
//! participatory-budgeting counts, shared by the micro-renewal, wicked-problem and regeneration
//! features. Pure and exact: integers and `num` rationals, never floats.
//!
//! # API overview
//!
//! **Electorate** ([`electorate`]): a [`Holder`] has an `id`, a head-count weight `heads`
//! (default 1), an exact floor [`Area`] (`"85.37".parse()`, 1/10,000 m² units), a `share` value
//! (0 if unused), `eligible`, and a [`Position`] (`Agree`, `Oppose`, `Abstain` — takes part —,
//! `NotYet`). [`Electorate::new`] checks ids; `set_position` records a signature; `tally()`
//! sums members / participating / each position.
//!
//! **Thresholds** ([`threshold`]): a [`RuleSet`] is data: conditions
//! `{phase: participation|approval, measure: heads|area|share, cmp: at_least|more_than, num, den,
//! base: all|participating}`. Built-in ids (stable): [`threshold::CIVIL_CODE_278_MAJOR`]
//! (`cn-civil-code-278-major`), [`threshold::CIVIL_CODE_278_ORDINARY`],
//! [`threshold::SHANGHAI_OLD_AREA_90`], [`threshold::COLLECTIVE_SALE_80`],
//! [`threshold::COLLECTIVE_SALE_90`]; `RuleSet::by_id`, `RuleSet::builtin()`,
//! `RuleSet::from_json` for custom ones.
//!
//! ```
//! use gongzhi_core::decision::{standing, Area, Electorate, Holder, Position, RuleSet};
//! let holders = vec![
//!     Holder::new("101", "85.37".parse().unwrap()).with_position(Position::Agree),
//!     Holder::new("102", Area::from_m2(90)).with_position(Position::Abstain),
//!     Holder::new("103", Area::from_m2(60)),
//! ];
//! let e = Electorate::new(holders).unwrap();
//! let s = standing(&RuleSet::by_id("cn-civil-code-278-major").unwrap(), &e);
//! assert!(!s.met);
//! assert_eq!(s.smallest_set.unwrap().holders, vec!["102".to_string()]);
//! println!("{}", s.explanation.zh);
//! ```
//!
//! [`standing`] returns, per condition, value / base / percent / required / missing (in the
//! measure's units; area in 1/10,000 m², with a `missing_text` like "245.3 m²"); `abstention`
//! (per participation condition: whether those not taking part alone sink the quorum);
//! `smallest_set` (the fewest holders still to sign — tie rule: among the smallest sets, the one
//! of largest total area, then the one with fewer holders joining the vote, then holder ids in
//! order; for rules mixing two measures that rank holders differently the size is exact and
//! the area tie-break is best effort); `key_holdouts` (indispensable holders first — without
//! them the rule cannot be reached —, then the smallest set, largest area first); and an
//! `explanation` in Chinese and English.
//!
//! **Ballots, tallies and participatory budgeting** follow in the next commits (`ballot`,
//! `tally`, `pb`, `pabulib`).

pub mod electorate;
pub mod threshold;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use electorate::{Area, Electorate, Holder, Measure, Position, Tally, Weights};
pub use threshold::{standing, Base, Comparison, Condition, Phase, RuleSet, Standing};

/// A sentence in Simplified Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    pub zh: String,
    pub en: String,
}
