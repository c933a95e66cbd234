//! Co-produced micro-renewal (社区微更新): needs → clusters → proposals → council → votes →
//! works → delivery.

pub mod council;
pub mod proposal;
pub mod vote;
