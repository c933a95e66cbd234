//! The per-city context: the parsed catalogue (派单目录) and working calendar of each city, read
//! and parsed once, not on every case step, and dropped when either document changes.
//!
//! Changes made through this layer invalidate at once ([`Contexts::invalidate`]); a context is
//! also re-read after [`MAX_AGE`], so that a change made by another process (a second server on
//! the same PostgreSQL database) is seen within that time.

use gongzhi_store::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use gongzhi_core::calendar::WorkCalendar;
use gongzhi_core::catalogue::Catalogue;
use gongzhi_store::Store;

use crate::AppResult;

/// How long a context is trusted without re-reading it.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// A city's catalogue and working calendar, parsed.
pub struct CityContext {
    pub catalogue: Catalogue,
    pub calendar: WorkCalendar,
    loaded: Instant,
}

impl CityContext {
    /// Read and parse a city's documents: the edited ones, else the shipped defaults.
    pub async fn load(store: &Store, city: CityCode) -> AppResult<CityContext> {
        let catalogue = match store.document(city, "catalogue").await? {
            Some(d) => Catalogue::parse_csv(&d.body)?,
            None => Catalogue::default_cn(),
        };
        let calendar = match store.document(city, "calendar").await? {
            Some(d) => WorkCalendar::parse_csv(&d.body)?,
            None => WorkCalendar::china_default(),
        };
        Ok(CityContext {
            catalogue,
            calendar,
            loaded: Instant::now(),
        })
    }
}

/// The contexts of the cities served, by city code.
#[derive(Default)]
pub struct Contexts {
    by_city: RwLock<HashMap<CityCode, Arc<CityContext>>>,
}

impl Contexts {
    /// The city's context, read from the store when absent or older than [`MAX_AGE`].
    pub async fn get(&self, store: &Store, city: CityCode) -> AppResult<Arc<CityContext>> {
        if let Some(c) = self.by_city.read().expect("context lock").get(&city) {
            if c.loaded.elapsed() < MAX_AGE {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(CityContext::load(store, city).await?);
        self.by_city.write().expect("context lock").insert(city, c.clone());
        Ok(c)
    }

    /// Forget a city's context: its catalogue or calendar changed.
    pub fn invalidate(&self, city: CityCode) {
        self.by_city.write().expect("context lock").remove(&city);
    }
}
