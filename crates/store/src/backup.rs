//! Backup and restore of a whole SQLite database, safe while the server runs.
//!
//! A backup is `VACUUM INTO` a temporary file beside the target (one read transaction, so the copy
//! is the database as of one instant while writes go on), checked with `PRAGMA integrity_check`,
//! then renamed into place: a backup file either is complete and sound or does not exist. A plain
//! copy of the live file is not a backup (WAL pages may not be in it yet).
//!
//! PostgreSQL databases are backed up with its own tools (`pg_dump -Fc`, `pg_restore`), see
//! `docs/operations.md`; [`Store::backup_to`] refuses them with that advice.

use std::path::{Path, PathBuf};

use sqlx::any::AnyPoolOptions;
use sqlx::Row;

use crate::backend::Backend;
use crate::{Store, StoreError};

/// What a backup file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub file: PathBuf,
    pub bytes: u64,
    /// Rows per table, by table name (SQLite's own tables left out).
    pub tables: Vec<(String, i64)>,
}

impl BackupInfo {
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

const PG_ADVICE: &str =
    "PostgreSQL databases are backed up with pg_dump -Fc and restored with pg_restore (docs/operations.md)";

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

/// A temporary name beside `to`, on the same file system (so the final rename is atomic).
fn partial(to: &Path) -> PathBuf {
    let mut name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".partial-{}", std::process::id()));
    to.with_file_name(name)
}

impl Store {
    /// Write a consistent copy of the whole database to `to` while it serves. `to` must not exist.
    pub async fn backup_to(&self, to: &Path) -> Result<BackupInfo, StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
                "database", PG_ADVICE,
            )));
        }
        if to.exists() {
            return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
                "to",
                format!(
                    "{} exists: choose a new file name (a backup never overwrites)",
                    to.display()
                ),
            )));
        }
        let tmp = partial(to);
        let _ = std::fs::remove_file(&tmp);
        let path = tmp
            .to_str()
            .ok_or_else(|| StoreError::Invalid(gongzhi_core::DomainError::invalid("to", "the path is not UTF-8")))?;
        let written = sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await;
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::Unavailable(format!(
                "backup to {} failed: {e}",
                to.display()
            )));
        }
        let info = match check_backup(&tmp).await {
            Ok(info) => info,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, to).map_err(|e| io("cannot move the backup to", to, e))?;
        Ok(BackupInfo {
            file: to.to_path_buf(),
            ..info
        })
    }
}

async fn open_file(file: &Path, read_only: bool) -> Result<sqlx::AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    let mode = if read_only { "ro" } else { "rw" };
    let url = format!("sqlite://{}?mode={mode}", file.display());
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", file.display())))
}

/// Check a backup file: an SQLite database that passes `PRAGMA integrity_check` and was made by
/// Gongzhi (it has the migrations table); its tables and their row counts.
pub async fn check_backup(file: &Path) -> Result<BackupInfo, StoreError> {
    let meta = std::fs::metadata(file).map_err(|e| io("cannot read", file, e))?;
    let pool = open_file(file, true).await?;
    let result = async {
        let bad = |why: String| {
            StoreError::Invalid(gongzhi_core::DomainError::invalid(
                "backup",
                format!("{} is not a sound Gongzhi backup: {why}", file.display()),
            ))
        };
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .map_err(|e| bad(e.to_string()))?
            .try_get(0)?;
        if check != "ok" {
            return Err(bad(check));
        }
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .map_err(|e| bad(e.to_string()))?;
        if !names.iter().any(|n| n.0 == "_sqlx_migrations") {
            return Err(bad("it has no migrations table".into()));
        }
        let mut tables = Vec::with_capacity(names.len());
        for (name,) in names {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM \"{}\"", name.replace('"', "\"\"")))
                .fetch_one(&pool)
                .await?;
            tables.push((name, n));
        }
        Ok(BackupInfo {
            file: file.to_path_buf(),
            bytes: meta.len(),
            tables,
        })
    }
    .await;
    pool.close().await;
    result
}

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub backup: BackupInfo,
    /// Where the database that was replaced now is (none when there was none).
    pub previous: Option<PathBuf>,
}

/// Replace the SQLite database of `url` by the backup `from` (checked first). The server must be
/// stopped. The replaced database is kept beside it as `NAME.before-restore-<unix ms>`; the caller
/// then opens the database with [`Store::connect`], which brings an older backup's schema up to date.
pub async fn restore(from: &Path, url: &str) -> Result<Restored, StoreError> {
    let backend = Backend::from_url(url)?;
    let target = match backend.file(url) {
        Some(f) if backend == Backend::Sqlite => f,
        _ if backend == Backend::Postgres => {
            return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
                "database", PG_ADVICE,
            )))
        }
        _ => {
            return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
                "database",
                "restore needs a database file (sqlite://PATH)",
            )))
        }
    };
    let backup = check_backup(from).await?;
    let tmp = partial(&target);
    std::fs::copy(from, &tmp).map_err(|e| io("cannot copy the backup to", &tmp, e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot flush", &tmp, e))?;
    let previous = if target.exists() {
        let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".before-restore-{}", crate::now_ms()));
        let kept = target.with_file_name(name);
        // Fold the write-ahead log into the old file first, so that the kept copy is whole.
        if let Ok(pool) = open_file(&target, false).await {
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await;
            pool.close().await;
        }
        std::fs::rename(&target, &kept).map_err(|e| io("cannot keep the old database as", &kept, e))?;
        Some(kept)
    } else {
        None
    };
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&tmp, &target).map_err(|e| io("cannot put the backup in place at", &target, e))?;
    Ok(Restored { backup, previous })
}
