//! Co-produced micro-renewal (社区微更新): needs → clusters → proposals → council → votes →
//! works → delivery.
//!
//! - [`proposal`], [`council`], [`vote`]: proposals with amendments, the deliberation council,
//!   participatory-budget votes (counted by [`crate::decision`]);
//! - [`works`]: department works, bundles of works and delivery projects that meet in space and
//!   time (项目整合), lead unit, schedule, savings, the before/after report;
//! - [`delivery`]: delivery projects' milestones, contributions, upkeep and acceptance (共建).

pub mod council;
pub mod delivery;
pub mod proposal;
pub mod vote;
pub mod works;
