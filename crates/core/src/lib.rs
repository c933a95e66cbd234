//! Gongzhi domain core: the types and rules of grassroots co-governance, free of I/O.
//!
//! Everything here is plain data and pure functions; storage, HTTP and the CLI build on it.
#![forbid(unsafe_code)]

pub mod access;
pub mod calendar;
pub mod case;
pub mod catalogue;
pub mod decision;
pub mod error;
pub mod flat;
pub mod grid;
pub mod gridteam;
pub mod ids;
pub mod import;
pub mod indicators;
pub mod lang;
pub mod media;
pub mod open311;
pub mod org;
pub mod premises;
pub mod regen;
pub mod renewal;
pub mod spatial;
pub mod table;
pub mod territory;
pub mod text;
pub mod visibility;
pub mod whatif;
pub mod wicked;

pub use error::DomainError;
