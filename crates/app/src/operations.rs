//! Operations: backup and restore of the whole database (the operator's commands).
//!
//! A backup holds every city's records and personal data, so only the operator makes one, at the
//! command line (`by: None`); no role of any city may. Restoring replaces the database and needs
//! the server stopped, so it takes no running state at all.

use std::path::Path;

use gongzhi_core::access::Principal;
pub use gongzhi_store::backup::{BackupInfo, Restored};

use crate::{AppError, AppResult, AppState};

/// A consistent copy of the database in `to` (a new file), made while the server runs.
pub async fn backup(s: &AppState, by: Option<&Principal>, to: &Path) -> AppResult<BackupInfo> {
    if by.is_some() {
        return Err(AppError::forbidden(
            "a backup holds every city's data: only the operator makes one, at the command line (gongzhi backup --to FILE)",
        ));
    }
    Ok(s.store.backup_to(to).await?)
}

/// Whether `file` is a sound backup, and what it holds.
pub async fn check(file: &Path) -> AppResult<BackupInfo> {
    Ok(gongzhi_store::backup::check_backup(file).await?)
}

/// Replace the database of `url` (an SQLite file; the server stopped) by the backup `from`, then
/// bring its schema up to date. The replaced database is kept beside it.
pub async fn restore(from: &Path, url: &str) -> AppResult<Restored> {
    let restored = gongzhi_store::backup::restore(from, url).await?;
    gongzhi_store::Store::connect(url).await?;
    Ok(restored)
}
