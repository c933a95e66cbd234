//! Territory: administrative divisions with GB/T 2260 codes and the configurable hierarchy.
//!
//! Codes follow GB/T 2260 and the statistical extension for towns and villages:
//! province 2 digits, city 4 (stored padded to 6: `510100`), district/county 6, street/town 9,
//! community/village 12. A grid adds a 3-digit sequence to its community's code (15 digits).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A level of the territorial hierarchy, from the city down to the micro-grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 市 (prefecture-level city): the tenant of a deployment.
    City,
    /// 区/县 district or county.
    District,
    /// 街道/乡镇 street office or town.
    Street,
    /// 社区/村 community or village.
    Community,
    /// 网格 unit grid.
    Grid,
    /// 微网格 micro-grid inside a unit grid.
    MicroGrid,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
        Level::MicroGrid,
    ];

    /// Number of digits of a division code at this level (grids: 15).
    pub fn code_len(self) -> usize {
        match self {
            Level::City | Level::District => 6,
            Level::Street => 9,
            Level::Community => 12,
            Level::Grid => 15,
            Level::MicroGrid => 18,
        }
    }
}

crate::org::enum_labels!(Level {
    City => "city", "市", "City";
    District => "district", "区县", "District or county";
    Street => "street", "街道乡镇", "Street or town";
    Community => "community", "社区村", "Community or village";
    Grid => "grid", "网格", "Grid";
    MicroGrid => "micro_grid", "微网格", "Micro-grid";
});

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| {
            DomainError::invalid(
                "level",
                format!("unknown level '{s}'; use one of city, district, street, community, grid, micro_grid"),
            )
        })
    }
}

/// A GB/T 2260 division code (city, district, street or community), digits only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

impl DivisionCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if !matches!(s.len(), 6 | 9 | 12) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                "code",
                format!("'{s}' is not a division code: use 6 digits (city/district), 9 (street/town) or 12 (community/village)"),
            ));
        }
        Ok(DivisionCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's shape implies; a 6-digit code ending in `00` is a city.
    pub fn level(&self) -> Level {
        match self.0.len() {
            9 => Level::Street,
            12 => Level::Community,
            _ if self.0.ends_with("00") => Level::City,
            _ => Level::District,
        }
    }

    /// The code of the city (tenant) this division belongs to, e.g. `510100`.
    pub fn city(&self) -> CityCode {
        let b = self.0.as_bytes();
        CityCode([b[0], b[1], b[2], b[3], b'0', b'0'])
    }

    /// Whether `other` is this division or lies inside it, judged by the codes alone.
    pub fn contains(&self, other: &str) -> bool {
        match self.level() {
            Level::City => other.starts_with(&self.0[..4]),
            _ => other.starts_with(&self.0),
        }
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(c: DivisionCode) -> String {
        c.0
    }
}

/// The tenant key: the six-digit GB/T 2260 code of the city a record belongs to (`510100`).
///
/// Every table carries it and every storage call takes it; it is `Copy`, so it is passed by value.
/// `CityCode::of` builds constants (checked at compile time in a `const`), `parse` checks input.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CityCode([u8; 6]);

impl CityCode {
    /// A city code from a literal; panics (a compile error in a `const`) unless it is six digits.
    pub const fn of(code: &str) -> CityCode {
        match CityCode::digits(code.as_bytes()) {
            Some(c) => c,
            None => panic!("a city code is six digits, e.g. 510100"),
        }
    }

    const fn digits(b: &[u8]) -> Option<CityCode> {
        if b.len() != 6 {
            return None;
        }
        let mut out = [0u8; 6];
        let mut i = 0;
        while i < 6 {
            if !b[i].is_ascii_digit() {
                return None;
            }
            out[i] = b[i];
            i += 1;
        }
        Some(CityCode(out))
    }

    /// A city code from input (surrounding blanks ignored).
    pub fn parse(s: &str) -> Result<CityCode, DomainError> {
        CityCode::digits(s.trim().as_bytes()).ok_or_else(|| {
            DomainError::invalid(
                "city",
                format!("'{s}' is not a city code: use the city's six-digit division code, e.g. 510100"),
            )
        })
    }

    pub fn as_str(&self) -> &str {
        // Six ASCII digits by construction.
        std::str::from_utf8(&self.0).expect("a city code is ASCII digits")
    }

    /// The city as a division code (for the territory's own lookups).
    pub fn division(self) -> DivisionCode {
        DivisionCode(self.as_str().to_owned())
    }
}

impl fmt::Display for CityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CityCode({})", self.as_str())
    }
}

impl FromStr for CityCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CityCode::parse(s)
    }
}

impl TryFrom<String> for CityCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CityCode::parse(&s)
    }
}

impl From<CityCode> for String {
    fn from(c: CityCode) -> String {
        c.as_str().to_owned()
    }
}

impl PartialEq<str> for CityCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CityCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An administrative division of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Division {
    pub code: DivisionCode,
    pub name: String,
    pub level: Level,
    /// The parent in the full GB/T 2260 tree (none for the city).
    pub parent: Option<DivisionCode>,
}

impl Division {
    /// Build a division, checking that the code's shape fits the level and the parent.
    pub fn new(code: &str, name: &str, level: Level, parent: Option<&str>) -> Result<Self, DomainError> {
        let code = DivisionCode::parse(code)?;
        if code.level() != level {
            return Err(DomainError::invalid(
                "level",
                format!(
                    "code {code} has the shape of a {} but was given as a {level}",
                    code.level()
                ),
            ));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(DomainError::invalid(
                "name",
                format!("division {code} has an empty name"),
            ));
        }
        let parent = parent.filter(|p| !p.is_empty()).map(DivisionCode::parse).transpose()?;
        match (&parent, level) {
            (None, Level::City) => {}
            (None, _) => {
                return Err(DomainError::invalid(
                    "parent",
                    format!("division {code} ({level}) needs a parent"),
                ))
            }
            (Some(p), _) if !p.contains(code.as_str()) || p == &code => {
                return Err(DomainError::invalid(
                    "parent",
                    format!("{p} cannot be the parent of {code}: codes do not nest"),
                ));
            }
            _ => {}
        }
        Ok(Division {
            code,
            name: name.to_owned(),
            level,
            parent,
        })
    }
}

/// Parse a division CSV (`code,name,level,parent`, `#` comment lines allowed) as shipped in `data/`.
/// Read with the CSV reader, so a quoted name may hold a comma; errors name the file's line.
pub fn parse_division_csv(text: &str) -> Result<Vec<Division>, DomainError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| DomainError::invalid("csv", format!("not valid CSV: {e}")))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let f: Vec<&str> = record.iter().map(str::trim).collect();
        if f.iter().all(|c| c.is_empty()) || f.first() == Some(&"code") {
            continue;
        }
        if f.len() != 4 {
            return Err(DomainError::invalid(
                "csv",
                format!(
                    "line {line}: expected 4 fields code,name,level,parent, found {}",
                    f.len()
                ),
            ));
        }
        let level: Level = f[2]
            .parse()
            .map_err(|e| DomainError::invalid("csv", format!("line {line}: {e}")))?;
        let d = Division::new(f[0], f[1], level, Some(f[3]))
            .map_err(|e| DomainError::invalid("csv", format!("line {line}: {e}")))?;
        out.push(d);
    }
    Ok(out)
}

/// The levels a deployment governs through, top to bottom: data, not code.
///
/// A layered deployment uses city → district → street → community → grid; a flat one (Longgang)
/// city → community → grid. Units at levels outside the hierarchy still exist in the register
/// (their codes are official) but are skipped when a chain of command is drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hierarchy {
    levels: Vec<Level>,
}

impl Hierarchy {
    pub fn layered() -> Self {
        Hierarchy {
            levels: vec![
                Level::City,
                Level::District,
                Level::Street,
                Level::Community,
                Level::Grid,
            ],
        }
    }

    pub fn flat() -> Self {
        Hierarchy {
            levels: vec![Level::City, Level::Community, Level::Grid],
        }
    }

    /// A hierarchy from its levels: it must start at the city, end at the grid or micro-grid,
    /// go strictly downwards and include the community (grids belong to communities).
    pub fn new(levels: Vec<Level>) -> Result<Self, DomainError> {
        let bad = |m: &str| Err(DomainError::invalid("hierarchy", m.to_owned()));
        if levels.first() != Some(&Level::City) {
            return bad("the hierarchy must start at the city");
        }
        if !matches!(levels.last(), Some(Level::Grid | Level::MicroGrid)) {
            return bad("the hierarchy must end at the grid or micro_grid level");
        }
        if !levels.windows(2).all(|w| w[0] < w[1]) {
            return bad(
                "levels must go strictly downwards, each once: city, district, street, community, grid, micro_grid",
            );
        }
        if !levels.contains(&Level::Community) || !levels.contains(&Level::Grid) {
            return bad("the hierarchy must include the community and grid levels");
        }
        Ok(Hierarchy { levels })
    }

    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    pub fn includes(&self, level: Level) -> bool {
        self.levels.contains(&level)
    }

    pub fn is_flat(&self) -> bool {
        !self.includes(Level::District) && !self.includes(Level::Street)
    }

    /// Parse `city,district,street,community,grid` or the names `layered` / `flat`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "layered" => Ok(Self::layered()),
            "flat" => Ok(Self::flat()),
            other => Self::new(other.split(',').map(|p| p.trim().parse()).collect::<Result<_, _>>()?),
        }
    }

    /// Of a division's ancestors (top first, the division last), those the hierarchy governs through.
    pub fn chain<'a>(&self, ancestry: &'a [Division]) -> Vec<&'a Division> {
        ancestry.iter().filter(|d| self.includes(d.level)).collect()
    }
}

impl Default for Hierarchy {
    fn default() -> Self {
        Self::layered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_nest() {
        let c = DivisionCode::parse("510104001002").unwrap();
        assert_eq!(c.level(), Level::Community);
        assert_eq!(c.city().as_str(), "510100");
        assert!(DivisionCode::parse("510100").unwrap().contains("510104001"));
        assert!(!DivisionCode::parse("510104").unwrap().contains("510105001"));
        assert_eq!(DivisionCode::parse("510100").unwrap().level(), Level::City);
        assert!(DivisionCode::parse("51010").is_err());
        assert!(DivisionCode::parse("51010a001").is_err());
    }

    #[test]
    fn division_checks_level_and_parent() {
        assert!(Division::new("510104001", "春熙路街道", Level::Street, Some("510104")).is_ok());
        let e = Division::new("510104001", "x", Level::Community, Some("510104")).unwrap_err();
        assert!(e.to_string().contains("shape of a street"));
        assert!(Division::new("510104001", "x", Level::Street, Some("510105")).is_err());
        assert!(Division::new("510104001", " ", Level::Street, Some("510104")).is_err());
        assert!(Division::new("510104", "x", Level::District, None).is_err());
    }

    #[test]
    fn hierarchy_validation_and_chain() {
        assert!(Hierarchy::parse("city,community,grid").unwrap().is_flat());
        assert!(!Hierarchy::parse("layered").unwrap().is_flat());
        assert!(Hierarchy::parse("district,community,grid").is_err());
        assert!(Hierarchy::parse("city,street,district,community,grid").is_err());
        assert!(Hierarchy::parse("city,community").is_err());
        assert!(Hierarchy::parse("city,town,grid").is_err());
        let ancestry = vec![
            Division::new("510100", "成都市", Level::City, None).unwrap(),
            Division::new("510104", "锦江区", Level::District, Some("510100")).unwrap(),
            Division::new("510104001", "春熙路街道", Level::Street, Some("510104")).unwrap(),
            Division::new("510104001001", "和平社区", Level::Community, Some("510104001")).unwrap(),
        ];
        let flat: Vec<_> = Hierarchy::flat()
            .chain(&ancestry)
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        assert_eq!(flat, ["510100", "510104001001"]);
        assert_eq!(Hierarchy::layered().chain(&ancestry).len(), 4);
    }

    #[test]
    fn shipped_city_file_parses() {
        let text = include_str!("../../../data/divisions-510100.csv");
        let ds = parse_division_csv(text).unwrap();
        assert_eq!(ds.iter().filter(|d| d.level == Level::District).count(), 20);
        assert_eq!(ds.iter().filter(|d| d.level == Level::Street).count(), 261);
        assert_eq!(ds.iter().filter(|d| d.level == Level::Community).count(), 3047);
    }

    #[test]
    fn division_files_are_read_as_csv_with_quotes_and_line_numbers() {
        let text = "# a comment\ncode,name,level,parent\n510100,成都市,city,\n510104,\"锦江区, 东\",district,510100\n";
        let ds = parse_division_csv(text).unwrap();
        assert_eq!(ds[1].name, "锦江区, 东");
        let bad = "code,name,level,parent\n510100,成都市,city,\n510104,锦江区,district\n";
        let e = parse_division_csv(bad).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("found 3"), "{e}");
    }
}
