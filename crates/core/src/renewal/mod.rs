//! Co-produced micro-renewal (社区微更新): residents' needs integrated into clusters, proposals,
//! the deliberation council, participatory budgeting, merged department works and co-produced
//! delivery. Pure: the store keeps the records, these modules decide.
//!
//! Needs are the one needs list of the generalist grid ([`crate::gridteam::Need`]) with its
//! renewal categories; this part adds their integration (需求整合):
//! - [`cluster`]: near-duplicate needs grouped by place, category and Chinese text (jieba words
//!   and character bigrams), the staff's merge / split / rename steps as events and the
//!   membership folded from them;
//! - [`evidence`]: closed-loop cases that keep coming back at one place, offered as evidence;
//! - [`synth`]: generated needs from templates (quality test, benchmark, demo).

pub mod cluster;
pub mod evidence;
pub mod synth;
