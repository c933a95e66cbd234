//! Premises (房屋): the buildings of a community and their units (building → floor → unit), the
//! part of the territory register that the generalist grid (households), the wicked-problem
//! initiatives (unit-by-unit surveys) and urban regeneration (holdings, consent by floor area)
//! share. Floor areas are exact: hundredths of a square metre, never floats.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::grid::GridCode;
use crate::table::{LineError, Row, Table};
use crate::territory::DivisionCode;

/// A floor area in hundredths of a square metre (exact; "85.37" m² is 8537).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Area(i64);

impl Area {
    pub const ZERO: Area = Area(0);

    pub fn from_hundredths(h: i64) -> Area {
        Area(h)
    }

    /// Hundredths of a square metre.
    pub fn hundredths(self) -> i64 {
        self.0
    }
}

impl From<Area> for crate::decision::Area {
    /// The decision module counts area in 1/10,000 m²; premises keep hundredths.
    fn from(a: Area) -> Self {
        crate::decision::Area::from_units(a.0.max(0) as u64 * 100)
    }
}

impl std::ops::Add for Area {
    type Output = Area;
    fn add(self, o: Area) -> Area {
        Area(self.0 + o.0)
    }
}

impl std::iter::Sum for Area {
    fn sum<I: Iterator<Item = Area>>(iter: I) -> Area {
        Area(iter.map(|a| a.0).sum())
    }
}

impl FromStr for Area {
    type Err = String;

    /// Square metres with at most two decimals ("85", "85.3", "85.37"); never negative.
    fn from_str(s: &str) -> Result<Area, String> {
        let s = s.trim().trim_end_matches("m²").trim_end_matches("㎡").trim();
        let bad = || format!("'{s}' is not an area in m² with at most two decimals (e.g. 85.37)");
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
            return Err(bad());
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .map(Area)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

crate::org::string_enum! {
    /// What a unit is used for (actual or registered use).
    UnitUse {
        Residential => "residential", "住宅", "Residential";
        Commercial => "commercial", "商业", "Commercial";
        Office => "office", "办公", "Office";
        Industrial => "industrial", "工业", "Industrial";
        /// 类住宅: commercial or industrial space lived in as housing.
        QuasiResidential => "quasi_residential", "类住宅", "Quasi-residential";
        Public => "public", "公共服务", "Public service";
        Vacant => "vacant", "空置", "Vacant";
        Other => "other", "其他", "Other";
    }
}

impl UnitUse {
    /// From the English id or the Chinese name.
    pub fn parse_any(s: &str) -> Option<UnitUse> {
        s.parse()
            .ok()
            .or_else(|| UnitUse::ALL.iter().copied().find(|u| u.zh() == s))
    }
}

/// A building (楼栋) in a community, optionally placed in a grid and on the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Unique in the city, e.g. `510104017001-B03`.
    pub code: String,
    pub name: String,
    pub community: DivisionCode,
    pub grid: Option<GridCode>,
    pub address: Option<String>,
    /// WGS-84 longitude and latitude of the entrance.
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    /// Floors above ground.
    pub floors: Option<i32>,
}

/// A unit (单元/户/间) of a building: the smallest piece of premises that has an owner and a use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Unique in the city, e.g. `510104017001-B03-0301`.
    pub code: String,
    pub building: String,
    /// As written on the door, e.g. `3-301`.
    pub label: String,
    /// Floor number; negative for basements.
    pub floor: i32,
    /// Floor area (专有部分面积), exact.
    pub area: Area,
    #[serde(rename = "use")]
    pub use_: UnitUse,
}

/// The buildings and units of one import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Premises {
    pub buildings: Vec<Building>,
    pub units: Vec<Unit>,
    /// The file line each building and unit came from (for errors found later, e.g. by the store).
    #[serde(skip)]
    pub building_lines: Vec<usize>,
    #[serde(skip)]
    pub unit_lines: Vec<usize>,
}

/// The columns of a premises file: one row per unit, the building's columns repeated (a row with an
/// empty `unit` registers a building without units).
pub const COLUMNS: &[&str] = &[
    "building",
    "building_name",
    "community",
    "grid",
    "address",
    "lng",
    "lat",
    "floors",
    "unit",
    "label",
    "floor",
    "area_m2",
    "use",
];

/// Read and check a premises file. Every wrong line is reported (line, column, why); nothing is
/// returned unless the whole file is right.
pub fn parse_premises(table: &Table) -> Result<Premises, Vec<LineError>> {
    table
        .require_columns(&["building", "building_name", "community"])
        .map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out = Premises::default();
    let mut buildings: BTreeMap<String, usize> = BTreeMap::new();
    let mut unit_codes = crate::import::SeenKeys::new("unit code", "unit");
    for row in &table.rows {
        let building = match building_of(row) {
            Ok(b) => b,
            Err(e) => {
                errors.extend(e);
                continue;
            }
        };
        match buildings.get(&building.code) {
            Some(&i) if out.buildings[i] != building => errors.push(row.error(
                "building",
                format!(
                    "building {} is described differently on line {}; give its columns the same values on every row",
                    building.code, out.building_lines[i]
                ),
            )),
            Some(_) => {}
            None => {
                buildings.insert(building.code.clone(), out.buildings.len());
                out.buildings.push(building.clone());
                out.building_lines.push(row.line);
            }
        }
        if let Some(code) = row.get("unit") {
            if let Err(e) = unit_codes.check(code.to_owned(), row.line) {
                errors.push(e);
                continue;
            }
        }
        match unit_of(row, &building) {
            Ok(None) => {}
            Ok(Some(unit)) => {
                out.units.push(unit);
                out.unit_lines.push(row.line);
            }
            Err(e) => errors.extend(e),
        }
    }
    if out.buildings.is_empty() && errors.is_empty() {
        errors.push(LineError {
            line: 1,
            column: None,
            message: "the file has no rows under its header".into(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The value, or `None` with its error noted.
fn keep<T>(errors: &mut Vec<LineError>, r: Result<T, LineError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn building_of(row: &Row) -> Result<Building, Vec<LineError>> {
    let mut errors = Vec::new();
    let code = keep(&mut errors, row.required("building").map(str::to_owned));
    let name = keep(&mut errors, row.required("building_name").map(str::to_owned));
    let community = keep(
        &mut errors,
        row.required("community").and_then(|c| {
            DivisionCode::parse(c)
                .ok()
                .filter(|d| d.level() == crate::territory::Level::Community)
                .ok_or_else(|| row.error("community", format!("'{c}' is not a 12-digit community code")))
        }),
    );
    let grid = keep(
        &mut errors,
        row.parse_opt("grid", "a grid code", |g| GridCode::parse(g).ok()),
    );
    let lng = keep(
        &mut errors,
        row.parse_opt("lng", "a longitude (-180 to 180)", |s| {
            s.parse::<f64>().ok().filter(|v| (-180.0..=180.0).contains(v))
        }),
    );
    let lat = keep(
        &mut errors,
        row.parse_opt("lat", "a latitude (-90 to 90)", |s| {
            s.parse::<f64>().ok().filter(|v| (-90.0..=90.0).contains(v))
        }),
    );
    let floors = keep(
        &mut errors,
        row.parse_opt("floors", "a number of floors (1 to 200)", |s| {
            s.parse::<i32>().ok().filter(|f| (1..=200).contains(f))
        }),
    );
    if let (Some(Some(g)), Some(c)) = (&grid, &community) {
        if &g.community() != c {
            errors.push(row.error("grid", format!("grid {g} is not in community {c}")));
        }
    }
    if let (Some(lng), Some(lat)) = (&lng, &lat) {
        if lng.is_some() != lat.is_some() {
            errors.push(row.error("lat", "give both lng and lat, or neither"));
        }
    }
    match (code, name, community, grid, lng, lat, floors) {
        (Some(code), Some(name), Some(community), Some(grid), Some(lng), Some(lat), Some(floors))
            if errors.is_empty() =>
        {
            Ok(Building {
                code,
                name,
                community,
                grid,
                address: row.get("address").map(str::to_owned),
                lng,
                lat,
                floors,
            })
        }
        _ => Err(errors),
    }
}

fn unit_of(row: &Row, building: &Building) -> Result<Option<Unit>, Vec<LineError>> {
    let Some(code) = row.get("unit") else {
        return Ok(None);
    };
    let mut errors = Vec::new();
    let floor = keep(
        &mut errors,
        row.required("floor").and_then(|f| {
            f.parse::<i32>()
                .ok()
                .filter(|f| *f != 0 && (-10..=200).contains(f))
                .ok_or_else(|| {
                    row.error(
                        "floor",
                        format!("'{f}' is not a floor number (1, 2 … or -1 for a basement)"),
                    )
                })
        }),
    );
    let area = keep(
        &mut errors,
        row.required("area_m2").and_then(|a| {
            a.parse::<Area>().map_err(|e| row.error("area_m2", e)).and_then(|a| {
                if a == Area::ZERO {
                    Err(row.error("area_m2", "a unit's area must be above 0"))
                } else {
                    Ok(a)
                }
            })
        }),
    );
    let use_ = keep(&mut errors, row.parse_opt("use", "a use (residential/住宅, commercial/商业, office/办公, industrial/工业, quasi_residential/类住宅, public/公共服务, vacant/空置, other/其他)", UnitUse::parse_any));
    if let (Some(f), Some(max)) = (floor, building.floors) {
        if f > max {
            errors.push(row.error("floor", format!("floor {f} is above the building's {max} floors")));
        }
    }
    match (floor, area, use_) {
        (Some(floor), Some(area), Some(use_)) if errors.is_empty() => Ok(Some(Unit {
            code: code.to_owned(),
            building: building.code.clone(),
            label: row.get("label").unwrap_or(code).to_owned(),
            floor,
            area,
            use_: use_.unwrap_or(UnitUse::Residential),
        })),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "building,building_name,community,grid,address,lng,lat,floors,unit,label,floor,area_m2,use\n";

    #[test]
    fn areas_are_exact() {
        assert_eq!("85.37".parse::<Area>().unwrap().hundredths(), 8537);
        assert_eq!("85.3".parse::<Area>().unwrap().hundredths(), 8530);
        assert_eq!("120㎡".parse::<Area>().unwrap().to_string(), "120.00");
        for bad in ["", "-3", "1.234", "1,5", "abc", ".5"] {
            assert!(bad.parse::<Area>().is_err(), "{bad}");
        }
        let sum: Area = ["0.10", "0.20"].iter().map(|s| s.parse::<Area>().unwrap()).sum();
        assert_eq!(sum.to_string(), "0.30");
    }

    #[test]
    fn a_good_file_gives_buildings_and_units() {
        let text = format!(
            "{HEADER}B1,1号楼,510104017001,510104017001001,水井坊街1号,104.08,30.65,6,B1-101,1-101,1,85.37,住宅\n\
             B1,1号楼,510104017001,510104017001001,水井坊街1号,104.08,30.65,6,B1-102,1-102,1,60,commercial\n\
             B2,2号楼,510104017001,,,,,,,,,,\n"
        );
        let p = parse_premises(&Table::from_csv(&text).unwrap()).unwrap();
        assert_eq!(p.buildings.len(), 2);
        assert_eq!(p.units.len(), 2);
        assert_eq!(p.units[0].use_, UnitUse::Residential);
        assert_eq!(p.units[1].use_, UnitUse::Commercial);
        assert_eq!(p.units.iter().map(|u| u.area).sum::<Area>().to_string(), "145.37");
        assert_eq!(p.unit_lines, [2, 3]);
    }

    #[test]
    fn every_wrong_line_is_reported() {
        let text = format!(
            "{HEADER}B1,1号楼,510104017001,,,,,6,B1-101,,7,85.37,住宅\n\
             B1,一号楼,510104017001,,,,,6,B1-102,,1,60,\n\
             B2,2号楼,5101040170,,,,,,,,,,\n\
             B3,3号楼,510104017001,510104018001001,,,,,,,,,\n\
             B4,4号楼,510104017001,,,,,,B4-1,,1,0,shop\n\
             B1,1号楼,510104017001,,,,,6,B1-101,,2,85.37,住宅\n"
        );
        let errors = parse_premises(&Table::from_csv(&text).unwrap()).unwrap_err();
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            shown.contains(&"line 2, column floor: floor 7 is above the building's 6 floors".into()),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.starts_with("line 3, column building: building B1 is described differently on line")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|e| e.starts_with("line 4, column community:")),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"line 5, column grid: grid 510104018001001 is not in community 510104017001".into()),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"line 6, column area_m2: a unit's area must be above 0".into()),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.starts_with("line 6, column use: 'shop' is not a use")),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"line 7, column unit: same unit code as line 2; a file names each once".into()),
            "{shown:?}"
        );
        let e = parse_premises(&Table::from_csv("building,name\n").unwrap()).unwrap_err();
        assert!(e[0].message.contains("building_name, community"), "{e:?}");
    }
}
