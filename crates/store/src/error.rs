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
    /// The database's disk is full (SQLite's SQLITE_FULL or an I/O error writing, PostgreSQL's
    /// `disk_full`): nothing of the write was stored; reads still work.
    #[error("the database's disk is full: {0}")]
    DiskFull(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if is_disk_full(&e) {
            StoreError::DiskFull(e.to_string())
        } else {
            StoreError::Database(e)
        }
    }
}

/// Whether an error says that the database could not write for lack of space: SQLite's
/// SQLITE_FULL (13) or SQLITE_IOERR (10, a write that failed), PostgreSQL's class 53
/// (insufficient resources: disk_full 53100), an I/O error "no space left".
pub(crate) fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let sqlite_full = code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 10 | 13));
            sqlite_full || code == "53100" || db.message().contains("No space left on device")
        }
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    }
}

impl StoreError {
    /// Unique-constraint violations become conflicts.
    pub(crate) fn from_insert(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
            _ => e.into(),
        }
    }
}
