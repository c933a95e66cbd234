//! Co-produced micro-renewal's records (see `gongzhi_core::renewal`). Needs are rows of the one
//! needs list (`grid_needs`, see [`crate::gridteam`]); [`needs`] adds their photos, the
//! community's needs, evidence cases; [`clusters`] keeps the clusters as event streams.

pub mod clusters;
pub mod needs;

pub use clusters::StoredCluster;
