use gongzhi_core::grid::FeatureError;
use gongzhi_core::table::LineError;
use gongzhi_core::DomainError;

/// What can go wrong in storage, in terms the HTTP layer maps to statuses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// An import was refused; nothing of it was stored.
    #[error("import refused: {} problem(s), first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
    Rejected(Vec<FeatureError>),
    /// A tabular import (CSV/XLSX) was refused; nothing of it was stored.
    #[error("import refused: {} line(s) wrong, first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
    Lines(Vec<LineError>),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Unique-constraint violations become conflicts.
    pub(crate) fn from_insert(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
            _ => StoreError::Database(e),
        }
    }
}
