//! Co-produced micro-renewal (社区微更新): needs → clusters → proposals → council → votes →
//! works → delivery. Pure: the store keeps the records, these modules decide.
//!
//! Needs are the one needs list of the generalist grid ([`crate::gridteam::Need`]) with its
//! renewal categories; this part adds:
//! - [`cluster`]: their integration (需求整合): near-duplicate needs grouped by place, category and
//!   Chinese text (jieba words and character bigrams), the staff's merge / split / rename steps as
//!   events and the membership folded from them;
//! - [`evidence`]: closed-loop cases that keep coming back at one place, offered as evidence;
//! - [`synth`]: generated needs from templates (quality test, benchmark, demo);
//! - [`proposal`], [`council`], [`vote`]: proposals with amendments, the deliberation council,
//!   participatory-budget votes (counted by [`crate::decision`]);
//! - [`works`]: department works, bundles of works and delivery projects that meet in space and
//!   time (项目整合), lead unit, schedule, savings, the before/after report;
//! - [`delivery`]: delivery projects' milestones, contributions, upkeep and acceptance (共建);
//! - [`indicators`]: the indicators of an area and period, folded from what the store reads;
//! - [`lifecycle`]: the transition tables of the proposal, amendment, council meeting, vote,
//!   paper ballot, milestone and bundling lifecycles, which the store follows.

pub mod cluster;
pub mod council;
pub mod delivery;
pub mod evidence;
pub mod indicators;
pub mod lifecycle;
pub mod proposal;
pub mod synth;
pub mod vote;
pub mod works;
