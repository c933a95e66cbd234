//! The one write helper. Every change to stored records goes through a [`Write`]: it opens the
//! transaction, appends the change's events in it, and commits them together, so that a change
//! and its events are never apart. A write dropped without `commit` rolls back. It is also the
//! one place where a failed commit is to be dealt with (issue 20: after a full disk SQLite can
//! leave the pooled connection inside its transaction).
//!
//! ```ignore
//! let mut tx = self.write().await?;
//! sqlx::query("UPDATE …").execute(&mut *tx).await?;
//! events::append(&mut tx, city, &stream, "changed", actor, None, None, &payload).await?;
//! tx.commit().await?;
//! ```

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};

#[cfg(doc)]
use crate::events;
use crate::{Store, StoreError};

/// An open write: a transaction that counts the events appended in it.
pub(crate) struct Write<'c> {
    tx: Transaction<'c, Any>,
    events: usize,
}

impl Store {
    /// Begin a write on a pooled connection.
    pub(crate) async fn write(&self) -> Result<Write<'static>, StoreError> {
        Ok(Write {
            tx: self.pool.begin().await?,
            events: 0,
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
    })
}

impl Write<'_> {
    /// Count events appended in this write ([`events::append`] counts each; the bulk importer
    /// counts the many it inserts at once).
    pub(crate) fn appended(&mut self, n: usize) {
        self.events += n;
    }

    /// Commit the change with its events. A change that wrote no event is a bug (every change to
    /// a record is an event); in debug builds it panics so that tests find it.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        debug_assert!(
            self.events > 0,
            "a write committed without an event: use commit_unlogged for data that is not a record"
        );
        self.finish().await
    }

    /// Commit a write that is not a change to a record (moving stored files into the media table):
    /// no event is expected.
    pub(crate) async fn commit_unlogged(self) -> Result<(), StoreError> {
        self.finish().await
    }

    async fn finish(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
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
