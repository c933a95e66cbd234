//! Territory storage: divisions, the hierarchy setting, grids.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use std::collections::HashMap;

use geo::BoundingRect;
use gongzhi_core::grid::{self, FeatureError, Grid, GridCode, GridKind};
use gongzhi_core::import::ImportReport;
use gongzhi_core::territory::{Division, DivisionCode, Hierarchy, Level};

use crate::{events, Store, StoreError};

/// A named place found by its name: a grid, community or street, with the centre of its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub lng: f64,
    pub lat: f64,
}

/// One page of grids and the total matching.
#[derive(Debug, Clone)]
pub struct GridPage {
    pub grids: Vec<Grid>,
    pub total: i64,
}

/// Called as an import goes: (features stored so far, features in all).
pub type ImportProgress<'a> = &'a mut (dyn FnMut(usize, usize) + Send);

type DivisionRow = (String, String, String, Option<String>);
type GridRow = (String, String, String, String, i64, i64, String);

fn division_from_row((code, name, level, parent): DivisionRow) -> Result<Division, StoreError> {
    let level: Level = level.parse()?;
    Ok(Division::new(&code, &name, level, parent.as_deref())?)
}

fn grid_from_row((code, name, community, kind, households, population, geometry): GridRow) -> Result<Grid, StoreError> {
    Ok(Grid {
        code: GridCode::parse(&code)?,
        name,
        community: DivisionCode::parse(&community)?,
        kind: if kind == "micro" {
            GridKind::Micro
        } else {
            GridKind::Unit
        },
        households: households.try_into().unwrap_or(0),
        population: population.try_into().unwrap_or(0),
        geometry: grid::geometry_from_geojson(&geometry)?,
    })
}

const GRID_COLUMNS: &str = "code, name, community, kind, households, population, geometry";

/// The one territory: divisions, grids, boundaries and places.
pub trait TerritoryStore {
    /// Insert or update divisions (e.g. from the shipped city file). One transaction, one event.
    fn put_divisions(
        &self,
        city: CityCode,
        divisions: &[Division],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Set the boundaries of divisions (GeoJSON geometries, WGS-84). One transaction, one event.
    fn set_division_boundaries(
        &self,
        city: CityCode,
        boundaries: &[(DivisionCode, geo::MultiPolygon<f64>)],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn division(&self, city: CityCode, code: &str)
        -> impl Future<Output = Result<Option<Division>, StoreError>> + Send;
    /// A division's boundary, when one has been set.
    fn division_boundary(
        &self,
        city: CityCode,
        code: &str,
    ) -> impl Future<Output = Result<Option<geo::MultiPolygon<f64>>, StoreError>> + Send;
    /// Every division of one level that has a boundary, with that boundary.
    fn division_boundaries(
        &self,
        city: CityCode,
        level: Level,
    ) -> impl Future<Output = Result<Vec<(String, geo::MultiPolygon<f64>)>, StoreError>> + Send;
    /// The division and its ancestors, top (city) first. Codes nest, so one query finds them all.
    fn ancestry(&self, city: CityCode, code: &str) -> impl Future<Output = Result<Vec<Division>, StoreError>> + Send;
    /// Divisions under `parent` (or the city's top when none), optionally of one level.
    fn child_divisions(
        &self,
        city: CityCode,
        parent: Option<&str>,
        level: Option<Level>,
    ) -> impl Future<Output = Result<Vec<Division>, StoreError>> + Send;
    /// Count of divisions per level, for the health/overview pages.
    fn division_counts(&self, city: CityCode) -> impl Future<Output = Result<Vec<(Level, i64)>, StoreError>> + Send;
    /// The hierarchy this city governs through (layered unless configured otherwise).
    fn hierarchy(&self, city: CityCode) -> impl Future<Output = Result<Hierarchy, StoreError>> + Send;
    fn set_hierarchy(
        &self,
        city: CityCode,
        h: &Hierarchy,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Import grids in one transaction: every grid's community must exist in this city and, when
    /// the community has a boundary, the grid must lie within it; a micro-grid must lie within its
    /// unit grid. Any problem refuses the whole import (nothing stored) with each feature's index.
    /// Keyed by grid code (issue 20): a code named twice in `grids` is refused naming both
    /// features; a stored grid with the same code is updated when the file differs (one
    /// `grid_reimported` event naming the changed fields) and left alone when it does not (no
    /// write, no event); a new code is added (`grid_imported`). The report names the codes.
    fn import_grids(
        &self,
        city: CityCode,
        grids: &[Grid],
        actor: Option<PersonId>,
        progress: Option<ImportProgress<'_>>,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;
    fn grid(&self, city: CityCode, code: &str) -> impl Future<Output = Result<Option<Grid>, StoreError>> + Send;
    /// Grids of a city, optionally inside one division (by code prefix), paged, ordered by code.
    fn grids(
        &self,
        city: CityCode,
        within: Option<&str>,
        page: u32,
        page_size: u32,
    ) -> impl Future<Output = Result<GridPage, StoreError>> + Send;
    /// Every grid's code and shape, to build the point-in-grid index.
    fn grid_shapes(
        &self,
        city: CityCode,
    ) -> impl Future<Output = Result<Vec<(String, geo::MultiPolygon<f64>)>, StoreError>> + Send;
    /// Places whose name contains `text` (grids first, then communities and streets): code,
    /// name and the centre of their shape, for finding a location by address.
    fn find_places(
        &self,
        city: CityCode,
        text: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Place>, StoreError>> + Send;
    /// The parent of every division and grid of the city (a grid's is its community), for
    /// adding figures kept per grid up the tree.
    fn territory_parents(
        &self,
        city: CityCode,
    ) -> impl Future<Output = Result<std::collections::HashMap<String, String>, StoreError>> + Send;
    fn grid_count(&self, city: CityCode) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

impl TerritoryStore for Store {
    async fn put_divisions(
        &self,
        city: CityCode,
        divisions: &[Division],
        actor: Option<PersonId>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        for d in divisions {
            if d.code.city() != city {
                return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
                    "code",
                    format!("division {} belongs to city {}, not {city}", d.code, d.code.city()),
                )));
            }
            sqlx::query(
                "INSERT INTO divisions (city, code, name, level, parent) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (city, code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent",
            )
            .bind(city.as_str())
            .bind(d.code.as_str())
            .bind(&d.name)
            .bind(d.level.as_str())
            .bind(d.parent.as_ref().map(|p| p.as_str()))
            .execute(&mut *tx)
            .await?;
        }
        events::append(
            &mut tx,
            city,
            &format!("divisions:{city}"),
            "divisions_loaded",
            actor,
            None,
            None,
            &serde_json::json!({ "count": divisions.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(divisions.len())
    }

    async fn set_division_boundaries(
        &self,
        city: CityCode,
        boundaries: &[(DivisionCode, geo::MultiPolygon<f64>)],
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for (code, shape) in boundaries {
            let geometry = geojson::Geometry::new(geojson::Value::from(shape)).to_string();
            let done = sqlx::query("UPDATE divisions SET boundary = $1 WHERE city = $2 AND code = $3")
                .bind(geometry)
                .bind(city.as_str())
                .bind(code.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("division {code}")));
            }
        }
        events::append(
            &mut tx,
            city,
            &format!("divisions:{city}"),
            "boundaries_set",
            actor,
            None,
            None,
            &serde_json::json!({ "count": boundaries.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn division(&self, city: CityCode, code: &str) -> Result<Option<Division>, StoreError> {
        let row: Option<DivisionRow> =
            sqlx::query_as("SELECT code, name, level, parent FROM divisions WHERE city = $1 AND code = $2")
                .bind(city.as_str())
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        row.map(division_from_row).transpose()
    }

    async fn division_boundary(
        &self,
        city: CityCode,
        code: &str,
    ) -> Result<Option<geo::MultiPolygon<f64>>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT boundary FROM divisions WHERE city = $1 AND code = $2")
                .bind(city.as_str())
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        match row.and_then(|r| r.0) {
            Some(text) => Ok(Some(grid::geometry_from_geojson(&text)?)),
            None => Ok(None),
        }
    }

    async fn division_boundaries(
        &self,
        city: CityCode,
        level: Level,
    ) -> Result<Vec<(String, geo::MultiPolygon<f64>)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT code, boundary FROM divisions WHERE city = $1 AND level = $2 AND boundary IS NOT NULL ORDER BY code",
        )
        .bind(city.as_str())
        .bind(level.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(code, b)| Ok((code, grid::geometry_from_geojson(&b)?)))
            .collect()
    }

    async fn ancestry(&self, city: CityCode, code: &str) -> Result<Vec<Division>, StoreError> {
        let mut codes = vec![city.to_string()];
        for len in [6, 9, 12] {
            if code.len() >= len && code[..len] != *city.as_str() {
                codes.push(code[..len].to_owned());
            }
        }
        let mut out = Vec::new();
        for c in codes {
            if let Some(d) = self.division(city, &c).await? {
                out.push(d);
            }
        }
        Ok(out)
    }

    async fn child_divisions(
        &self,
        city: CityCode,
        parent: Option<&str>,
        level: Option<Level>,
    ) -> Result<Vec<Division>, StoreError> {
        let rows: Vec<DivisionRow> =
            match (parent, level) {
                (Some(p), _) => {
                    sqlx::query_as(
                        "SELECT code, name, level, parent FROM divisions WHERE city = $1 AND parent = $2 ORDER BY code",
                    )
                    .bind(city.as_str())
                    .bind(p)
                    .fetch_all(&self.pool)
                    .await?
                }
                (None, Some(l)) => {
                    sqlx::query_as(
                        "SELECT code, name, level, parent FROM divisions WHERE city = $1 AND level = $2 ORDER BY code",
                    )
                    .bind(city.as_str())
                    .bind(l.as_str())
                    .fetch_all(&self.pool)
                    .await?
                }
                (None, None) => sqlx::query_as(
                    "SELECT code, name, level, parent FROM divisions WHERE city = $1 AND parent IS NULL ORDER BY code",
                )
                .bind(city.as_str())
                .fetch_all(&self.pool)
                .await?,
            };
        let divisions = rows.into_iter().map(division_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(match (parent, level) {
            (Some(_), Some(l)) => divisions.into_iter().filter(|d| d.level == l).collect(),
            _ => divisions,
        })
    }

    async fn division_counts(&self, city: CityCode) -> Result<Vec<(Level, i64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT level, COUNT(*) FROM divisions WHERE city = $1 GROUP BY level")
                .bind(city.as_str())
                .fetch_all(&self.pool)
                .await?;
        let mut out: Vec<(Level, i64)> = rows
            .into_iter()
            .filter_map(|(l, n)| l.parse().ok().map(|l| (l, n)))
            .collect();
        out.sort();
        Ok(out)
    }

    async fn hierarchy(&self, city: CityCode) -> Result<Hierarchy, StoreError> {
        match self.setting(city, "hierarchy").await? {
            Some(text) => Ok(serde_json::from_str(&text)
                .map_err(|e| StoreError::Conflict(format!("stored hierarchy is unreadable: {e}")))?),
            None => Ok(Hierarchy::default()),
        }
    }

    async fn set_hierarchy(&self, city: CityCode, h: &Hierarchy, actor: Option<PersonId>) -> Result<(), StoreError> {
        let text = serde_json::to_string(h).expect("hierarchy serialises");
        self.set_setting(city, "hierarchy", &text, actor).await
    }

    async fn import_grids(
        &self,
        city: CityCode,
        grids: &[Grid],
        actor: Option<PersonId>,
        progress: Option<ImportProgress<'_>>,
    ) -> Result<ImportReport, StoreError> {
        let mut errors = Vec::new();
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        for (index, g) in grids.iter().enumerate() {
            if let Some(first) = first_of.get(g.code.as_str()) {
                errors.push(FeatureError {
                    index,
                    code: Some(g.code.to_string()),
                    reason: format!("duplicate code: feature {first} has the same code; a file names each grid once"),
                });
            } else {
                first_of.insert(g.code.as_str(), index);
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Rejected(errors));
        }
        let mut areas: HashMap<String, Option<geo::MultiPolygon<f64>>> = HashMap::new();
        let in_file: HashMap<&str, &Grid> = grids.iter().map(|g| (g.code.as_str(), g)).collect();
        for (index, g) in grids.iter().enumerate() {
            let fail = |reason: String| FeatureError {
                index,
                code: Some(g.code.to_string()),
                reason,
            };
            if g.community.city() != city {
                errors.push(fail(format!("community {} is not in city {city}", g.community)));
                continue;
            }
            let community = g.community.as_str().to_owned();
            if !areas.contains_key(&community) {
                let known = self
                    .division(city, &community)
                    .await?
                    .filter(|d| d.level == Level::Community);
                let area = match known {
                    Some(_) => Some(self.division_boundary(city, &community).await?),
                    None => None,
                };
                areas.insert(
                    community.clone(),
                    area.map(|a| a.unwrap_or_else(|| geo::MultiPolygon(vec![]))),
                );
            }
            match &areas[&community] {
                None => errors.push(fail(format!(
                    "community {community} is not in the division register of {city}"
                ))),
                Some(area) if !area.0.is_empty() => {
                    if let Err(reason) = grid::check_within(g, area) {
                        errors.push(fail(format!("grid lies outside its community {community}: {reason}")));
                    }
                }
                Some(_) => {}
            }
            if let Some(unit) = g.code.unit_grid() {
                let parent = match in_file.get(unit.as_str()) {
                    Some(p) => Some((*p).clone()),
                    None => self.grid(city, unit.as_str()).await?,
                };
                match parent {
                    None => errors.push(fail(format!(
                        "micro-grid's unit grid {unit} is neither in the file nor stored"
                    ))),
                    Some(p) => {
                        if let Err(reason) = grid::check_within(g, &p.geometry) {
                            errors.push(fail(format!("micro-grid lies outside its unit grid {unit}: {reason}")));
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Rejected(errors));
        }
        let mut progress = progress;
        let mut report = ImportReport::default();
        let mut tx = self.write().await?;
        for (i, g) in grids.iter().enumerate() {
            let stored: Option<GridRow> = sqlx::query_as(&format!(
                "SELECT {GRID_COLUMNS} FROM grids WHERE city = $1 AND code = $2"
            ))
            .bind(city.as_str())
            .bind(g.code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let stored = stored.map(grid_from_row).transpose()?;
            let mut changed = Vec::new();
            if let Some(old) = &stored {
                if old.name != g.name {
                    changed.push("name");
                }
                if old.community != g.community {
                    changed.push("community");
                }
                if old.kind != g.kind {
                    changed.push("kind");
                }
                if old.households != g.households {
                    changed.push("households");
                }
                if old.population != g.population {
                    changed.push("population");
                }
                if old.geometry != g.geometry && old.geometry_geojson() != g.geometry_geojson() {
                    changed.push("geometry");
                }
                if changed.is_empty() {
                    report.unchanged.push(g.code.to_string());
                    if let Some(p) = progress.as_mut() {
                        if i % 256 == 255 || i + 1 == grids.len() {
                            p(i + 1, grids.len());
                        }
                    }
                    continue;
                }
            }
            let rect = g.geometry.bounding_rect().ok_or_else(|| {
                StoreError::Rejected(vec![FeatureError {
                    index: i,
                    code: Some(g.code.to_string()),
                    reason: "empty geometry".into(),
                }])
            })?;
            sqlx::query(
                "INSERT INTO grids (city, code, name, community, kind, households, population, geometry, min_lng, min_lat, max_lng, max_lat)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (city, code) DO UPDATE SET name = excluded.name, community = excluded.community,
                   kind = excluded.kind, households = excluded.households, population = excluded.population,
                   geometry = excluded.geometry, min_lng = excluded.min_lng, min_lat = excluded.min_lat,
                   max_lng = excluded.max_lng, max_lat = excluded.max_lat",
            )
            .bind(city.as_str())
            .bind(g.code.as_str())
            .bind(&g.name)
            .bind(g.community.as_str())
            .bind(if g.kind == GridKind::Micro { "micro" } else { "unit" })
            .bind(i64::from(g.households))
            .bind(i64::from(g.population))
            .bind(g.geometry_geojson())
            .bind(rect.min().x)
            .bind(rect.min().y)
            .bind(rect.max().x)
            .bind(rect.max().y)
            .execute(&mut *tx)
            .await?;
            let (kind, data) = if stored.is_some() {
                report.updated.push(g.code.to_string());
                (
                    "grid_reimported",
                    serde_json::json!({ "name": g.name, "households": g.households, "population": g.population, "changed": changed }),
                )
            } else {
                report.added.push(g.code.to_string());
                (
                    "grid_imported",
                    serde_json::json!({ "name": g.name, "households": g.households, "population": g.population }),
                )
            };
            events::append(
                &mut tx,
                city,
                &format!("grid:{}", g.code),
                kind,
                actor,
                None,
                None,
                &data,
            )
            .await?;
            if let Some(p) = progress.as_mut() {
                if i % 256 == 255 || i + 1 == grids.len() {
                    p(i + 1, grids.len());
                }
            }
        }
        if report.is_noop() {
            // Every grid is stored as the file has it: nothing was written.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(report)
    }

    async fn grid(&self, city: CityCode, code: &str) -> Result<Option<Grid>, StoreError> {
        let row: Option<GridRow> = sqlx::query_as(&format!(
            "SELECT {GRID_COLUMNS} FROM grids WHERE city = $1 AND code = $2"
        ))
        .bind(city.as_str())
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.map(grid_from_row).transpose()
    }

    async fn grids(
        &self,
        city: CityCode,
        within: Option<&str>,
        page: u32,
        page_size: u32,
    ) -> Result<GridPage, StoreError> {
        let prefix = format!("{}%", within.unwrap_or(""));
        let offset = i64::from(page.saturating_sub(1)) * i64::from(page_size);
        let rows: Vec<GridRow> = sqlx::query_as(&format!(
            "SELECT {GRID_COLUMNS} FROM grids WHERE city = $1 AND code LIKE $2 ORDER BY code LIMIT $3 OFFSET $4"
        ))
        .bind(city.as_str())
        .bind(&prefix)
        .bind(i64::from(page_size))
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM grids WHERE city = $1 AND code LIKE $2")
            .bind(city.as_str())
            .bind(&prefix)
            .fetch_one(&self.pool)
            .await?;
        Ok(GridPage {
            grids: rows.into_iter().map(grid_from_row).collect::<Result<_, _>>()?,
            total,
        })
    }

    async fn grid_shapes(&self, city: CityCode) -> Result<Vec<(String, geo::MultiPolygon<f64>)>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, geometry FROM grids WHERE city = $1 ORDER BY code")
                .bind(city.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(code, g)| Ok((code, grid::geometry_from_geojson(&g)?)))
            .collect()
    }

    async fn find_places(&self, city: CityCode, text: &str, limit: u32) -> Result<Vec<Place>, StoreError> {
        let pattern = format!("%{}%", text.trim());
        let grids: Vec<(String, String, f64, f64, f64, f64)> = sqlx::query_as(
            "SELECT code, name, min_lng, min_lat, max_lng, max_lat FROM grids WHERE city = $1 AND name LIKE $2 ORDER BY code LIMIT $3",
        )
        .bind(city.as_str())
        .bind(&pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Place> = grids
            .into_iter()
            .map(|(code, name, x0, y0, x1, y1)| Place {
                code,
                name,
                lng: (x0 + x1) / 2.0,
                lat: (y0 + y1) / 2.0,
            })
            .collect();
        if out.len() < limit as usize {
            let divisions: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT code, name, boundary FROM divisions WHERE city = $1 AND name LIKE $2 AND boundary IS NOT NULL
                 AND level IN ('community', 'street') ORDER BY level, code LIMIT $3",
            )
            .bind(city.as_str())
            .bind(&pattern)
            .bind(i64::from(limit) - out.len() as i64)
            .fetch_all(&self.pool)
            .await?;
            for (code, name, boundary) in divisions {
                let shape = grid::geometry_from_geojson(&boundary)?;
                if let Some(c) = geo::Centroid::centroid(&shape) {
                    out.push(Place {
                        code,
                        name,
                        lng: c.x(),
                        lat: c.y(),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn territory_parents(&self, city: CityCode) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT code, parent FROM divisions WHERE city = $1 AND parent IS NOT NULL
             UNION ALL SELECT code, community FROM grids WHERE city = $1",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    async fn grid_count(&self, city: CityCode) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM grids WHERE city = $1")
            .bind(city.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
