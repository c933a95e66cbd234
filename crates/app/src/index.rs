//! In-memory spatial indexes (R-trees) per city: grids and division areas, rebuilt after imports.

use gongzhi_store::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use gongzhi_core::spatial::PolygonIndex;
use gongzhi_core::territory::Level;
use gongzhi_store::{Store, StoreError};

/// Point lookups for one city.
pub struct TerritoryIndex {
    pub grids: PolygonIndex<String>,
    /// Communities, streets and districts that have a boundary.
    pub divisions: PolygonIndex<String>,
}

impl TerritoryIndex {
    /// The codes of the grids containing the point, smallest (micro-grid) first.
    pub fn grids_at(&self, lng: f64, lat: f64) -> Vec<String> {
        self.grids.locate(lng, lat).into_iter().cloned().collect()
    }

    /// The smallest division with a boundary containing the point.
    pub fn division_at(&self, lng: f64, lat: f64) -> Option<String> {
        self.divisions.locate(lng, lat).into_iter().next().cloned()
    }
}

#[derive(Default)]
pub struct Indexes {
    by_city: RwLock<HashMap<CityCode, Arc<TerritoryIndex>>>,
}

impl Indexes {
    pub async fn rebuild(&self, store: &Store, city: CityCode) -> Result<Arc<TerritoryIndex>, StoreError> {
        let grids = store.grid_shapes(city).await?;
        let mut areas = Vec::new();
        for level in [Level::District, Level::Street, Level::Community] {
            areas.extend(store.division_boundaries(city, level).await?);
        }
        let index = Arc::new(TerritoryIndex {
            grids: PolygonIndex::new(grids),
            divisions: PolygonIndex::new(areas),
        });
        self.by_city.write().expect("index lock").insert(city, index.clone());
        Ok(index)
    }

    pub async fn get(&self, store: &Store, city: CityCode) -> Result<Arc<TerritoryIndex>, StoreError> {
        if let Some(i) = self.by_city.read().expect("index lock").get(&city) {
            return Ok(i.clone());
        }
        self.rebuild(store, city).await
    }
}
