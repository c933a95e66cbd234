//! Co-produced micro-renewal (社区微更新) storage: [`proposals`], [`council`], [`votes`],
//! [`works`] (department works, accepted bundles) and [`delivery`] (delivery projects and their
//! co-production).

pub mod council;
pub mod delivery;
pub mod proposals;
pub mod votes;
pub mod works;

use crate::StoreError;

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Unavailable(format!("a renewal record does not encode: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Unavailable(format!("{what} does not decode: {e}")))
}
