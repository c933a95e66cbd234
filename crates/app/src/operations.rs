//! Operations: backup and restore of the whole database (the operator's commands).
//!
//! A backup holds every city's records and personal data, so only the operator makes one, at the
//! command line (`by: None`); no role of any city may. Restoring replaces the database and needs
//! the server stopped, so it takes no running state at all.

use std::path::{Path, PathBuf};

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

/// The prefix of the files [`backup_rotation`] writes (`gongzhi-20261207-183000-123.db`).
pub const ROTATION_PREFIX: &str = "gongzhi-";

/// One round of scheduled backups: a backup into `dir` named by the China time, then the oldest of
/// the rotation's files removed so that `keep` remain (other files in `dir` are never touched).
/// Returns the new backup and the files removed.
pub async fn backup_rotation(s: &AppState, dir: &Path, keep: usize) -> AppResult<(BackupInfo, Vec<PathBuf>)> {
    let keep = keep.max(1);
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::unavailable(format!("cannot create the backup directory {}: {e}", dir.display())))?;
    let now = chrono::Utc::now().with_timezone(&gongzhi_core::calendar::china_time());
    let name = format!("{ROTATION_PREFIX}{}.db", now.format("%Y%m%d-%H%M%S-%3f"));
    let made = backup(s, None, &dir.join(name)).await?;
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| AppError::unavailable(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(ROTATION_PREFIX) && n.ends_with(".db") && !n.contains(".partial-"))
        })
        .collect();
    // The names sort by time.
    ours.sort();
    let surplus = ours.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for old in ours.into_iter().take(surplus) {
        match std::fs::remove_file(&old) {
            Ok(()) => removed.push(old),
            Err(e) => tracing::warn!(file = %old.display(), error = %e, "an old backup could not be removed"),
        }
    }
    Ok((made, removed))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rotation_keeps_the_newest_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("live.db").display());
        let store = gongzhi_store::Store::connect(&url).await.unwrap();
        let state = AppState::lazy(store, gongzhi_core::territory::CityCode::of("510100"));
        let backups = dir.path().join("backups");
        std::fs::create_dir_all(&backups).unwrap();
        std::fs::write(backups.join("notes.txt"), "mine").unwrap();
        let mut made = Vec::new();
        for _ in 0..3 {
            let (b, _) = backup_rotation(&state, &backups, 2).await.unwrap();
            made.push(b.file);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut left: Vec<_> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        left.sort();
        assert_eq!(left, vec![made[1].clone(), made[2].clone(), backups.join("notes.txt")]);
        assert!(check(&made[2]).await.is_ok());
    }
}
