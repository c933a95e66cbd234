//! Gongzhi storage: one interface ([`Store`]) over two backends, embedded SQLite and PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver; what differs between them
//! (connection set-up, migrations, identity columns) lives in [`backend`] and in
//! `migrations/{sqlite,postgres}` with matching version numbers. Every method takes the tenant
//! (city) key, and every change writes its event in the same transaction (see [`events`]).
#![forbid(unsafe_code)]

pub mod attachments;
mod backend;
pub mod backup;
mod bulk;
pub mod cases;
mod documents;
mod error;
pub mod events;
mod flat;
pub mod gridteam;
pub mod idempotency;
mod initiatives;
pub mod media;
mod open311;
mod people;
mod premises;
pub mod privacy;
mod regen;
pub mod renewal;
mod settings;
mod sql;
mod territory;
mod write;

pub use backend::Backend;

/// The storage traits, one per aggregate, all implemented by [`Store`] for SQLite and PostgreSQL.
/// `use gongzhi_store::prelude::*;` brings them into scope.
pub mod prelude {
    pub use crate::attachments::AttachmentStore;
    pub use crate::bulk::CaseImportStore;
    pub use crate::cases::CaseStore;
    pub use crate::documents::DocumentStore;
    pub use crate::events::EventLog;
    pub use crate::flat::FlatStore;
    pub use crate::gridteam::GridTeamStore;
    pub use crate::initiatives::InitiativeStore;
    pub use crate::media::MediaStore;
    pub use crate::open311::Open311Store;
    pub use crate::people::PeopleStore;
    pub use crate::premises::PremisesStore;
    pub use crate::privacy::PrivacyStore;
    pub use crate::regen::RegenStore;
    pub use crate::renewal::clusters::ClusterStore;
    pub use crate::renewal::council::CouncilStore;
    pub use crate::renewal::delivery::DeliveryStore;
    pub use crate::renewal::indicators::RenewalIndicatorStore;
    pub use crate::renewal::needs::NeedStore;
    pub use crate::renewal::proposals::ProposalStore;
    pub use crate::renewal::votes::VoteStore;
    pub use crate::renewal::works::WorkStore;
    pub use crate::settings::SettingStore;
    pub use crate::territory::TerritoryStore;
    pub use gongzhi_core::territory::CityCode;
}
pub use bulk::{BulkImported, CaseHistory, CasesImported, BATCH_CASES};
pub use cases::{CaseQuery, CaseRow, CaseVisibility, Change, Contact, NewCase};
pub use documents::Document;
pub use error::StoreError;
pub use flat::{Committee, CommitteeMember, StoredDemand};
pub use gridteam::{GridCounts, GridList, GridRecord, NewRecord, RecordsImported};
pub use idempotency::{IdempotencyKey, Recalled};
pub use initiatives::InitiativeRow;
pub use media::{Media, MediaInfo, NewMedia};
pub use open311::{Open311Key, Open311Media, Open311Private, Open311Query, Open311Request};
pub use people::{Account, NewPerson, TokenKind};
pub use prelude::*;
pub use premises::{PremisesImported, UseSummary};
pub use privacy::{PersonalRead, ReadQuery};
pub use regen::{ContactRecord, DecisionEntry};
pub use renewal::delivery::{ContributionRow, DeliveryDetail, DeliveryRow, Spending, SupervisedMilestone};
pub use renewal::works::{BundleRow, WorkRow, WorksImported};
pub use renewal::StoredCluster;
pub use territory::{GridPage, ImportProgress, Place};

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

/// A released migration whose file was edited afterwards, and how a database that applied an
/// earlier version is brought to the current one before sqlx checks the checksums.
struct EditedMigration {
    backend: Backend,
    version: i64,
    /// The commits behind the earlier versions, for the log.
    history: &'static str,
    /// SHA-384 (hex, as sqlx stores it) of each earlier version of the file.
    old_checksums: &'static [&'static str],
    /// What the edit added to the schema, idempotent; run in the transaction that updates the
    /// checksum.
    catch_up: &'static [&'static str],
}

/// Never edit a released migration: add a new one (`tests/migrations.rs` checks the files against
/// `migrations/released.sha384`). The edits made before that check:
///
/// - `0006_flat.sql` (both backends) was added by 7d0ada6 ("Flat governance store (migration
///   0006 …)") and edited by 140d194 ("Workload per worker …"), which appended
///   `CREATE INDEX events_kind_at ON events (city, kind, at)`. Databases made by 7d0ada6 up to
///   79fb035 (the flat branch before its merge 4224977) hold the earlier checksum. The edit
///   changed the schema (a new index), so updating the checksum is not enough: the repair first
///   creates the missing index (`IF NOT EXISTS`), in the same transaction, so that such
///   databases end with the schema a fresh one has.
const EDITED_MIGRATIONS: &[EditedMigration] = &[
    EditedMigration {
        backend: Backend::Sqlite,
        version: 6,
        history: "0006_flat.sql of commit 7d0ada6, edited by 140d194",
        old_checksums: &[
            "3fc109008e8e9c640279540aea440524ace2cc10a67b0d97661793c3348a2145e957c217079e302f7c673fb9ab4f2130",
        ],
        catch_up: &["CREATE INDEX IF NOT EXISTS events_kind_at ON events (city, kind, at)"],
    },
    EditedMigration {
        backend: Backend::Postgres,
        version: 6,
        history: "0006_flat.sql of commit 7d0ada6, edited by 140d194",
        old_checksums: &[
            "be60223595312139e5670c6d43737b28956222bd4f534a6935f5cf4f1e843e3d75bfda59c642f1812038ae419a23f037",
        ],
        catch_up: &["CREATE INDEX IF NOT EXISTS events_kind_at ON events (city, kind, at)"],
    },
];

/// The database behind Gongzhi. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Connections for analytic reads (dashboards, indicators, replays, exports), kept apart so
    /// that a burst of heavy queries never makes an interactive request wait for a connection
    /// ([`Store::analytic`]). Read-only; on PostgreSQL with a longer statement timeout.
    analytic: AnyPool,
    backend: Backend,
    /// The SQLite file, for the free space of its disk.
    file: Option<std::path::PathBuf>,
}

/// Below this much free space on the database's disk, [`Store::health`] says the disk is full.
pub const MIN_FREE_BYTES: u64 = 1 << 20;

/// What [`Store::health`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageHealth {
    pub status: StorageStatus,
    /// Free space on the SQLite file's disk (unknown for PostgreSQL: its server's disk).
    pub disk_free_bytes: Option<u64>,
    /// What went wrong, for the operator.
    pub problem: Option<String>,
}

/// Whether the database takes writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageStatus {
    /// A write commits.
    Ok,
    /// The disk is full (or almost): writes are refused with 503, reads work.
    DiskFull,
    /// The database does not answer or cannot commit for another reason.
    Unavailable,
}

impl StorageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageStatus::Ok => "ok",
            StorageStatus::DiskFull => "disk_full",
            StorageStatus::Unavailable => "unavailable",
        }
    }
}

/// SHA-256 of a text, in hex (tokens and keys are stored only as this).
pub(crate) fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Connect to `sqlite://path` (created if absent, WAL mode) or `postgres://…`, and migrate.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let url = backend.normalise_url(url);
        let pool = AnyPoolOptions::new()
            .max_connections(backend.max_connections())
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    for stmt in backend.session_setup() {
                        sqlx::query(stmt).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .after_release(|conn, _meta| Box::pin(write::reusable(conn)))
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open database {}: {e}", backend.redacted(&url))))?;
        let file = backend.file(&url);
        // An in-memory SQLite database exists only on its own connections: no second pool.
        let analytic = if backend == Backend::Sqlite && file.is_none() {
            pool.clone()
        } else {
            AnyPoolOptions::new()
                .max_connections(backend.analytic_connections())
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        for stmt in backend.analytic_setup() {
                            sqlx::query(stmt).execute(&mut *conn).await?;
                        }
                        Ok(())
                    })
                })
                .connect_lazy(&url)
                .map_err(|e| StoreError::Unavailable(format!("cannot open database {}: {e}", backend.redacted(&url))))?
        };
        let store = Store {
            pool,
            analytic,
            backend,
            file,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The same database through the analytic connections: for the heavy reads of dashboards,
    /// indicators, replays and exports. Interactive requests keep the main connections, so they
    /// never wait behind analytic ones. Read-only: a write through it fails.
    pub fn analytic(&self) -> Store {
        Store {
            pool: self.analytic.clone(),
            analytic: self.analytic.clone(),
            backend: self.backend,
            file: self.file.clone(),
        }
    }

    /// The same database with analytic reads on the main connections, as before they had their
    /// own (for `gongzhi bench mixed`, which measures both).
    pub fn without_analytic_pool(&self) -> Store {
        Store {
            analytic: self.pool.clone(),
            ..self.clone()
        }
    }

    /// Apply the pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        self.repair_edited_migrations(&migrator).await?;
        // A migration may build an index over millions of rows: no statement timeout for it.
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET statement_timeout = 0").execute(&mut *conn).await?;
        }
        let migrated = migrator
            .run(&mut *conn)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")));
        if self.backend == Backend::Postgres {
            for stmt in self.backend.session_setup() {
                sqlx::query(stmt).execute(&mut *conn).await?;
            }
        }
        drop(conn);
        migrated?;
        self.finish_media_move().await
    }

    /// Bring a database that applied an earlier version of an edited migration (see
    /// [`EDITED_MIGRATIONS`]) to the current one, so that sqlx does not refuse it as "previously
    /// applied but has been modified": apply what the edit added, then store the current checksum.
    async fn repair_edited_migrations(&self, migrator: &sqlx::migrate::Migrator) -> Result<(), StoreError> {
        let exists_sql = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(&self.pool).await?;
        if exists == 0 {
            return Ok(());
        }
        for edited in EDITED_MIGRATIONS.iter().filter(|e| e.backend == self.backend) {
            let Some(current) = migrator.iter().find(|m| m.version == edited.version) else {
                continue;
            };
            let stored: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = $1")
                    .bind(edited.version)
                    .fetch_optional(&self.pool)
                    .await?;
            let Some(stored) = stored else { continue };
            let stored_hex = hex::encode(&stored);
            if !edited.old_checksums.contains(&stored_hex.as_str()) {
                continue;
            }
            // A schema repair, not a change to a record: no event.
            let mut tx = self.write().await?;
            for stmt in edited.catch_up {
                sqlx::query(stmt).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2 AND checksum = $3")
                .bind(current.checksum.to_vec())
                .bind(edited.version)
                .bind(stored)
                .execute(&mut *tx)
                .await?;
            tx.commit_unlogged().await?;
            tracing::warn!(
                backend = self.backend.name(),
                version = edited.version,
                old_checksum = %stored_hex,
                "migration {} had been applied from an earlier version of its file ({}); \
                 its missing change was applied and its checksum updated",
                current.description,
                edited.history,
            );
        }
        Ok(())
    }

    /// Connect and apply only the migrations numbered below `version` (for tests of a
    /// migration: fill the old tables, then [`Store::connect`] runs the rest).
    #[doc(hidden)]
    pub async fn connect_before(url: &str, version: i64) -> Result<(), StoreError> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let url = backend.normalise_url(url);
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open database: {e}")))?;
        let mut migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.migrations = migrator
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        migrator
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        pool.close().await;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A trivial round trip.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the database can commit a write now (a probe row of `city` is rewritten), and the
    /// free space of its disk.
    pub async fn health(&self, city: CityCode) -> StorageHealth {
        let disk_free_bytes = self.file.as_deref().and_then(write::free_bytes);
        let probe = async {
            let mut tx = self.write().await?;
            sqlx::query(
                "INSERT INTO health_probe (city, checked_at) VALUES ($1, $2)
                 ON CONFLICT (city) DO UPDATE SET checked_at = excluded.checked_at",
            )
            .bind(city.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit_unlogged().await
        };
        let (status, problem) = match probe.await {
            Err(e @ StoreError::DiskFull(_)) => (StorageStatus::DiskFull, Some(e.to_string())),
            Err(e) => (StorageStatus::Unavailable, Some(e.to_string())),
            Ok(()) if disk_free_bytes.is_some_and(|b| b < MIN_FREE_BYTES) => (
                StorageStatus::DiskFull,
                Some("the database's disk has less than 1 MiB free".to_owned()),
            ),
            Ok(()) => (StorageStatus::Ok, None),
        };
        StorageHealth {
            status,
            disk_free_bytes,
            problem,
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
