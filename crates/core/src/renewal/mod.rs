//! Co-produced micro-renewal (社区微更新), issue 11.
//!
//! - [`works`]: department works, bundles of works and delivery projects that meet in space and
//!   time (项目整合), lead unit, schedule, savings, the before/after report;
//! - [`delivery`]: delivery projects' milestones, contributions, upkeep and acceptance (共建).

pub mod delivery;
pub mod works;
