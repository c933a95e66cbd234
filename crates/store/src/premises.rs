//! Premises: buildings and units (see `gongzhi_core::premises`). An import checks the file's
//! communities and grids against the register and stores everything or nothing, with one event per
//! building.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use std::collections::{HashMap, HashSet};

use gongzhi_core::grid::GridCode;
use gongzhi_core::premises::{Area, Building, Premises, Unit, UnitUse};
use gongzhi_core::table::LineError;
use gongzhi_core::territory::{DivisionCode, Level};

use crate::write::Write;
use crate::{events, Store, StoreError};
use gongzhi_core::import::ImportReport;

/// How many units of one use a community has, and their floor area.
#[derive(Debug, Clone, PartialEq)]
pub struct UseSummary {
    pub unit_use: UnitUse,
    pub units: i64,
    pub area: Area,
}

/// How many buildings and units the file had, and what the import did by building code: a
/// building is added, updated (it or one of its units differs from what is stored: one event)
/// or unchanged (nothing written).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PremisesImported {
    pub buildings: usize,
    pub units: usize,
    #[serde(flatten)]
    pub report: ImportReport,
}

type BuildingRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<i32>,
);
type UnitRow = (String, String, String, i32, i64, String);

const BUILDING_COLUMNS: &str = "code, name, community, grid, address, lng, lat, floors";
const UNIT_COLUMNS: &str = "code, building, label, floor, area, unit_use";

fn building(r: BuildingRow) -> Result<Building, StoreError> {
    Ok(Building {
        code: r.0,
        name: r.1,
        community: DivisionCode::parse(&r.2)?,
        grid: r.3.as_deref().map(GridCode::parse).transpose()?,
        address: r.4,
        lng: r.5,
        lat: r.6,
        floors: r.7,
    })
}

fn unit(r: UnitRow) -> Result<Unit, StoreError> {
    Ok(Unit {
        code: r.0,
        building: r.1,
        label: r.2,
        floor: r.3,
        area: Area::from_hundredths(r.4),
        use_: r.5.parse()?,
    })
}

/// Premises (units, owners, areas).
pub trait PremisesStore {
    /// Store the buildings and units of a checked file (replacing those with the same codes), or
    /// nothing: a community outside the register, a grid not stored, or a unit that would move to
    /// another building is refused with its line.
    fn import_premises(
        &self,
        city: CityCode,
        premises: &Premises,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<PremisesImported, StoreError>> + Send;
    /// The buildings of a grid when `grid` is given, else of a community, else of the city, by code.
    fn buildings(
        &self,
        city: CityCode,
        community: Option<&str>,
        grid: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Building>, StoreError>> + Send;
    /// One building.
    fn building(&self, city: CityCode, code: &str)
        -> impl Future<Output = Result<Option<Building>, StoreError>> + Send;
    /// The units of a building, by floor then code.
    fn units(&self, city: CityCode, building: &str) -> impl Future<Output = Result<Vec<Unit>, StoreError>> + Send;
    /// One unit.
    fn unit(&self, city: CityCode, code: &str) -> impl Future<Output = Result<Option<Unit>, StoreError>> + Send;
    /// Units and total floor area per use in a community (for the community's page and checks).
    fn premises_summary(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<Vec<UseSummary>, StoreError>> + Send;
}

impl PremisesStore for Store {
    async fn import_premises(
        &self,
        city: CityCode,
        premises: &Premises,
        actor: Option<PersonId>,
    ) -> Result<PremisesImported, StoreError> {
        self.check_premises(city, premises).await?;
        let mut tx = self.write().await?;
        let report = write_premises(&mut tx, city, premises, actor).await?;
        if report.is_noop() {
            // Every building is stored as the file has it: nothing was written.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(PremisesImported {
            buildings: premises.buildings.len(),
            units: premises.units.len(),
            report,
        })
    }

    async fn buildings(
        &self,
        city: CityCode,
        community: Option<&str>,
        grid: Option<&str>,
    ) -> Result<Vec<Building>, StoreError> {
        let (column, value) = match (grid, community) {
            (Some(g), _) => ("grid", g),
            (None, Some(c)) => ("community", c),
            (None, None) => ("city", city.as_str()),
        };
        let rows: Vec<BuildingRow> = sqlx::query_as(&format!(
            "SELECT {BUILDING_COLUMNS} FROM buildings WHERE city = $1 AND {column} = $2 ORDER BY code"
        ))
        .bind(city.as_str())
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(building).collect()
    }

    async fn building(&self, city: CityCode, code: &str) -> Result<Option<Building>, StoreError> {
        let row: Option<BuildingRow> = sqlx::query_as(&format!(
            "SELECT {BUILDING_COLUMNS} FROM buildings WHERE city = $1 AND code = $2"
        ))
        .bind(city.as_str())
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.map(building).transpose()
    }

    async fn units(&self, city: CityCode, building: &str) -> Result<Vec<Unit>, StoreError> {
        let rows: Vec<UnitRow> = sqlx::query_as(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE city = $1 AND building = $2 ORDER BY floor, code"
        ))
        .bind(city.as_str())
        .bind(building)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(unit).collect()
    }

    async fn unit(&self, city: CityCode, code: &str) -> Result<Option<Unit>, StoreError> {
        let row: Option<UnitRow> = sqlx::query_as(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE city = $1 AND code = $2"
        ))
        .bind(city.as_str())
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.map(unit).transpose()
    }

    async fn premises_summary(&self, city: CityCode, community: &str) -> Result<Vec<UseSummary>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT u.unit_use, COUNT(*), CAST(SUM(u.area) AS BIGINT) FROM units u
             JOIN buildings b ON b.city = u.city AND b.code = u.building
             WHERE u.city = $1 AND b.community = $2 GROUP BY u.unit_use ORDER BY u.unit_use",
        )
        .bind(city.as_str())
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(u, n, a)| {
                Ok(UseSummary {
                    unit_use: u.parse()?,
                    units: n,
                    area: Area::from_hundredths(a),
                })
            })
            .collect()
    }
}

impl Store {
    /// The building each of `codes` is stored in (codes not stored are absent).
    async fn unit_buildings(&self, city: CityCode, codes: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for code in codes.iter().copied().collect::<HashSet<_>>() {
            if let Some(u) = self.unit(city, code).await? {
                out.insert(u.code, u.building);
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Check a premises file against the register: its communities and grids known, no unit
    /// moving to another building; every wrong line, or nothing.
    pub(crate) async fn check_premises(&self, city: CityCode, premises: &Premises) -> Result<(), StoreError> {
        let mut errors = Vec::new();
        let mut communities: HashMap<String, bool> = HashMap::new();
        let mut grids: HashMap<String, bool> = HashMap::new();
        for (b, &line) in premises.buildings.iter().zip(&premises.building_lines) {
            let error = |column: &str, message: String| LineError {
                line,
                column: Some(column.into()),
                message,
            };
            let code = b.community.as_str().to_owned();
            if !communities.contains_key(&code) {
                let known = b.community.city() == city
                    && self
                        .division(city, &code)
                        .await?
                        .is_some_and(|d| d.level == Level::Community);
                communities.insert(code.clone(), known);
            }
            if !communities[&code] {
                errors.push(error(
                    "community",
                    format!("community {code} is not in the division register of {city}"),
                ));
            }
            if let Some(g) = &b.grid {
                let g = g.as_str().to_owned();
                if !grids.contains_key(&g) {
                    let known = self.grid(city, &g).await?.is_some();
                    grids.insert(g.clone(), known);
                }
                if !grids[&g] {
                    errors.push(error("grid", format!("grid {g} is not stored; import the grids first")));
                }
            }
        }
        let codes: Vec<&str> = premises.units.iter().map(|u| u.code.as_str()).collect();
        let stored = self.unit_buildings(city, &codes).await?;
        for (u, &line) in premises.units.iter().zip(&premises.unit_lines) {
            if let Some(old) = stored.get(&u.code).filter(|b| **b != u.building) {
                errors.push(LineError {
                    line,
                    column: Some("unit".into()),
                    message: format!(
                        "unit {} is stored in building {old}; a unit cannot move to {} (give it a new code)",
                        u.code, u.building
                    ),
                });
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Lines(errors));
        }
        Ok(())
    }
}

/// Store a checked premises file in `tx`, building by building (keyed by code, units by code): a
/// building new or differing from what is stored (itself or one of the file's units) is written
/// with one `premises_imported` event; one stored as the file has it is left alone.
pub(crate) async fn write_premises(
    tx: &mut Write<'_>,
    city: CityCode,
    premises: &Premises,
    actor: Option<PersonId>,
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();

    for b in &premises.buildings {
        let units: Vec<&Unit> = premises.units.iter().filter(|u| u.building == b.code).collect();
        let stored = stored_building(tx, city, &b.code).await?;
        match &stored {
            Some((old, old_units)) if old == b && units.iter().all(|u| old_units.get(&u.code) == Some(*u)) => {
                report.unchanged.push(b.code.clone());
                continue;
            }
            Some(_) => report.updated.push(b.code.clone()),
            None => report.added.push(b.code.clone()),
        }
        sqlx::query(
            "INSERT INTO buildings (city, code, name, community, grid, address, lng, lat, floors)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (city, code) DO UPDATE SET name = excluded.name, community = excluded.community,
               grid = excluded.grid, address = excluded.address, lng = excluded.lng, lat = excluded.lat,
               floors = excluded.floors",
        )
        .bind(city.as_str())
        .bind(&b.code)
        .bind(&b.name)
        .bind(b.community.as_str())
        .bind(b.grid.as_ref().map(|g| g.as_str()))
        .bind(b.address.as_deref())
        .bind(b.lng)
        .bind(b.lat)
        .bind(b.floors)
        .execute(&mut **tx)
        .await?;
        for u in &units {
            sqlx::query(
                "INSERT INTO units (city, code, building, label, floor, area, unit_use)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (city, code) DO UPDATE SET label = excluded.label, floor = excluded.floor,
                   area = excluded.area, unit_use = excluded.unit_use",
            )
            .bind(city.as_str())
            .bind(&u.code)
            .bind(&u.building)
            .bind(&u.label)
            .bind(u.floor)
            .bind(u.area.hundredths())
            .bind(u.use_.as_str())
            .execute(&mut **tx)
            .await?;
        }
        events::append(
            tx,
            city,
            &format!("building:{}", b.code),
            "premises_imported",
            actor,
            None,
            None,
            &serde_json::json!({ "building": b, "units": units }),
        )
        .await?;
    }
    Ok(report)
}

/// A stored building and its units by code.
async fn stored_building(
    tx: &mut Write<'_>,
    city: CityCode,
    code: &str,
) -> Result<Option<(Building, HashMap<String, Unit>)>, StoreError> {
    let row: Option<BuildingRow> = sqlx::query_as(&format!(
        "SELECT {BUILDING_COLUMNS} FROM buildings WHERE city = $1 AND code = $2"
    ))
    .bind(city.as_str())
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let rows: Vec<UnitRow> = sqlx::query_as(&format!(
        "SELECT {UNIT_COLUMNS} FROM units WHERE city = $1 AND building = $2"
    ))
    .bind(city.as_str())
    .bind(code)
    .fetch_all(&mut **tx)
    .await?;
    let units = rows
        .into_iter()
        .map(|r| unit(r).map(|u| (u.code.clone(), u)))
        .collect::<Result<_, _>>()?;
    Ok(Some((building(row)?, units)))
}
