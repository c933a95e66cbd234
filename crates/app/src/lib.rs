//! Gongzhi's application layer: one module per feature, each with its commands and queries
//! (typed inputs, domain outputs), its authorisation policy (the one place that decides who may
//! do what to which target) and [`AppError`] as its error. The JSON API, the pages, Open311 and
//! the CLI call this layer and nothing below it.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cases;
pub mod context;
pub mod error;
pub mod flat;
pub mod gridteam;
pub mod idempotency;
pub mod index;
pub mod initiatives;
pub mod media;
pub mod open311;
pub mod operations;
pub mod people;
pub mod premises;
pub mod privacy;
pub mod regen;
pub mod renewal_indicators;
pub mod renewal_needs;
pub mod renewal_votes;
pub mod renewal_works;
pub mod territory;

use gongzhi_core::territory::CityCode;
use std::sync::Arc;

use gongzhi_store::Store;

pub use context::CityContext;
pub use error::{AppError, AppResult, ErrorKind};
pub use gongzhi_store::now_ms;
pub use index::TerritoryIndex;

/// What every command and query shares: the store, the city served to visitors who are not
/// logged in, the spatial indexes and the per-city context (parsed catalogue, calendar).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The city (tenant) served to visitors who are not logged in.
    pub default_city: CityCode,
    pub index: Arc<index::Indexes>,
    pub contexts: Arc<context::Contexts>,
    /// Login throttling (wrong passwords per account and per address).
    pub throttle: Arc<auth::Throttle>,
}

impl AppState {
    /// State for a store whose default city is `city`; the spatial index is built from the store.
    pub async fn new(store: Store, city: CityCode) -> Result<AppState, gongzhi_store::StoreError> {
        let state = AppState {
            store,
            default_city: city,
            index: Arc::default(),
            contexts: Arc::default(),
            throttle: Arc::default(),
        };
        state.index.rebuild(&state.store, city).await?;
        Ok(state)
    }

    /// The database's kind (`sqlite` or `postgres`).
    pub fn backend_name(&self) -> &'static str {
        self.store.backend().name()
    }

    /// Whether the database takes writes now, and the free space of its disk (for `/api/health`).
    pub async fn health(&self) -> gongzhi_store::StorageHealth {
        self.store.health(self.default_city).await
    }

    /// State for a command-line run: the spatial index is built when first needed.
    pub fn lazy(store: Store, city: CityCode) -> AppState {
        AppState {
            store,
            default_city: city,
            index: Arc::default(),
            contexts: Arc::default(),
            throttle: Arc::default(),
        }
    }

    /// The parsed catalogue, calendar and settings of a city, read once and kept until they change.
    pub async fn context(&self, city: CityCode) -> AppResult<Arc<CityContext>> {
        self.contexts.get(&self.store, city).await
    }
}
