//! Co-produced micro-renewal storage (issue 11): [`works`] (department works, accepted bundles)
//! and [`delivery`] (delivery projects and their co-production).

pub mod delivery;
pub mod works;
