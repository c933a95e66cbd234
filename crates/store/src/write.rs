//! The one write helper. Every change to stored records goes through a [`Write`]: it opens the
//! transaction, appends the change's events in it, and commits them together, so that a change
//! and its events are never apart. A write dropped without `commit` rolls back.
//!
//! A connection whose transaction did not end cleanly is never reused ([`reusable`], run by the
//! pool on every release): after a full disk SQLite may fail a COMMIT or roll the transaction
//! back by itself so that sqlx's ROLLBACK fails; the connection would then go back to the pool
//! still inside a transaction (or believing so), and every later write on it would be answered
//! as committed while nothing was (issue 20). Such a connection is closed instead, and the pool
//! opens a fresh one, so the server recovers by itself once space returns.
//!
//! ```ignore
//! let mut tx = self.write().await?;
//! sqlx::query("UPDATE …").execute(&mut *tx).await?;
//! events::append(&mut tx, city, &stream, "changed", actor, None, None, &payload).await?;
//! tx.commit().await?;
//! ```

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Connection, Database, Transaction, TransactionManager};

#[cfg(doc)]
use crate::events;
use crate::{idempotency, Store, StoreError};

/// Whether a connection given back to the pool may serve again: a queued rollback has run (the
/// ping follows it) and no transaction is left open. Called by the pool's `after_release`.
pub(crate) async fn reusable(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    conn.ping().await?;
    let depth = <Any as Database>::TransactionManager::get_transaction_depth(conn);
    if depth != 0 {
        tracing::warn!(depth, "a connection left inside a transaction is closed, not reused");
    }
    Ok(depth == 0)
}

/// Free bytes on the disk holding `file` (for the health check).
pub(crate) fn free_bytes(file: &std::path::Path) -> Option<u64> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

/// An open write: a transaction that counts the events appended in it.
pub(crate) struct Write<'c> {
    tx: Transaction<'c, Any>,
    events: usize,
    /// The stream of the first event appended: the record this write makes or changes.
    first_stream: Option<String>,
}

impl Store {
    /// Begin a write on a pooled connection.
    pub(crate) async fn write(&self) -> Result<Write<'static>, StoreError> {
        Ok(Write {
            tx: self.pool.begin().await?,
            events: 0,
            first_stream: None,
        })
    }
}

/// Begin a write on a connection the caller already holds (the bulk importer keeps one for all
/// its batches).
pub(crate) async fn write_on(conn: &mut sqlx::pool::PoolConnection<Any>) -> Result<Write<'_>, StoreError> {
    use sqlx::Connection;
    Ok(Write {
        tx: conn.begin().await?,
        events: 0,
        first_stream: None,
    })
}

impl Write<'_> {
    /// Count events appended in this write ([`events::append`] counts each; the bulk importer
    /// counts the many it inserts at once).
    pub(crate) fn appended(&mut self, n: usize) {
        self.events += n;
    }

    /// Note the stream of an event appended in this write (the first one names the record an
    /// idempotency key stands for).
    pub(crate) fn names(&mut self, stream: &str) {
        if self.first_stream.is_none() {
            self.first_stream = Some(stream.to_owned());
        }
    }

    /// Commit the change with its events. A change that wrote no event is a bug (every change to
    /// a record is an event); in debug builds it panics so that tests find it.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        debug_assert!(
            self.events > 0,
            "a write committed without an event: use commit_unlogged for data that is not a record"
        );
        // The first write of a request sent with an Idempotency-Key stores the key with it.
        let keyed = match (idempotency::pending_key(), self.first_stream.take()) {
            (Some(key), Some(record)) => {
                idempotency::insert(&mut self.tx, &key, &record).await?;
                Some(record)
            }
            _ => None,
        };
        self.finish().await?;
        if let Some(record) = keyed {
            idempotency::key_taken(&record);
        }
        Ok(())
    }

    /// Commit a write that is not a change to a record (moving stored files into the media table):
    /// no event is expected.
    pub(crate) async fn commit_unlogged(self) -> Result<(), StoreError> {
        self.finish().await
    }

    async fn finish(self) -> Result<(), StoreError> {
        // On failure the transaction is dropped: its rollback is queued, and the pool's release
        // check closes the connection if the transaction did not end.
        self.tx.commit().await.map_err(|e| {
            tracing::warn!(error = %e, "a commit failed; the write was not stored");
            StoreError::from(e)
        })
    }
}

/// A write is used as the connection its statements run on.
impl Deref for Write<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for Write<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
