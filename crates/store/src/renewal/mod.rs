//! Co-produced micro-renewal's records (see `gongzhi_core::renewal`). Needs are rows of the one
//! needs list (`grid_needs`, see [`crate::gridteam`]); [`needs`] adds their photos, the
//! community's needs, evidence cases; [`clusters`] keeps the clusters as event streams;
//! [`proposals`], [`council`], [`votes`]; [`works`] (department works, accepted bundles) and
//! [`delivery`] (delivery projects and their co-production); [`indicators`] reads the facts of
//! the indicators of an area and period.
//!
//! Which step a record may take in which state is the core's lifecycle tables'
//! (`gongzhi_core::renewal::lifecycle`): the store asks them and records what they allow.

pub mod clusters;
pub mod council;
pub mod delivery;
pub mod indicators;
pub mod needs;
pub mod proposals;
pub mod votes;
pub mod works;

pub use clusters::StoredCluster;

use gongzhi_core::renewal::lifecycle::{Named, Refusal};

use crate::StoreError;

/// A step a lifecycle table refuses, as a conflict (409): what cannot happen, then the state and
/// the steps allowed from it.
pub(crate) fn refused<S: Named, A: Named>(what: impl std::fmt::Display, r: Refusal<S, A>) -> StoreError {
    StoreError::Conflict(format!("{what}: {r}"))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Unavailable(format!("a renewal record does not encode: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Unavailable(format!("{what} does not decode: {e}")))
}
