//! Gongzhi storage: one interface ([`Store`]) over two backends, embedded SQLite and PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver; what differs between them
//! (connection set-up, migrations, identity columns) lives in [`backend`] and in
//! `migrations/{sqlite,postgres}` with matching version numbers. Every method takes the tenant
//! (city) key, and every change writes its event in the same transaction (see [`events`]).
#![forbid(unsafe_code)]

pub mod attachments;
mod backend;
mod bulk;
pub mod cases;
mod documents;
mod error;
pub mod events;
mod flat;
pub mod gridteam;
mod initiatives;
pub mod media;
mod open311;
mod people;
mod premises;
mod regen;
pub mod renewal;
mod sql;
mod territory;
mod write;

pub use backend::Backend;
pub use bulk::{BulkImported, CaseHistory, BATCH_CASES};
pub use cases::{CaseQuery, CaseRow, CaseVisibility, Change, NewCase};
pub use error::StoreError;
pub use flat::StoredDemand;
pub use gridteam::{GridCounts, GridList, GridRecord, NewRecord};
pub use initiatives::InitiativeRow;
pub use media::{MediaInfo, NewMedia};
pub use open311::{Open311Key, Open311Media, Open311Query, Open311Request};
pub use people::{Account, NewPerson, TokenKind};
pub use premises::PremisesImported;
pub use regen::{ContactRecord, DecisionEntry};
pub use renewal::delivery::{ContributionRow, DeliveryDetail, DeliveryRow, Spending, SupervisedMilestone};
pub use renewal::works::{BundleRow, WorkRow};
pub use renewal::StoredCluster;
pub use territory::{GridPage, ImportProgress};

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

/// The database behind Gongzhi. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
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
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open database {}: {e}", backend.redacted(&url))))?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Apply the pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        self.finish_media_move().await
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

    /// A trivial round trip, for the health endpoint.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A deployment setting (per city), such as the hierarchy.
    pub async fn setting(&self, city: &str, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE city = $1 AND key = $2")
            .bind(city)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.map(|v| v.0))
    }

    pub async fn set_setting(&self, city: &str, key: &str, value: &str, actor: Option<i64>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO settings (city, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (city, key) DO UPDATE SET value = excluded.value",
        )
        .bind(city)
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &format!("setting:{key}"),
            "setting_changed",
            actor,
            None,
            None,
            &serde_json::json!({ "value": value }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The cities (tenants) that have divisions in this database.
    pub async fn cities(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT code FROM divisions WHERE level = 'city' ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
