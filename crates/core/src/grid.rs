//! Grids (网格) and micro-grids (微网格): their codes, and their shapes as GeoJSON (RFC 7946).
//!
//! A street divides each community into unit grids; a unit grid may be divided into
//! micro-grids. By default a unit grid's code is the community's 12-digit GB/T 2260 code
//! followed by a 3-digit sequence (15 digits), and a micro-grid's code is its unit grid's code
//! followed by 3 more digits (18 digits). A deployment may configure a different pattern
//! (see [`GridCodePattern`]).
//!
//! Shapes are stored in WGS-84. [`parse_grid_collection`] reads a FeatureCollection drawn in
//! WGS-84, GCJ-02 or BD-09 and reports every problem it finds, feature by feature.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use geo::algorithm::orient::Direction;
use geo::algorithm::validation::InvalidMultiPolygon;
use geo::{
    Area, BooleanOps, CoordsIter, Distance, Euclidean, Intersects, LineString, MultiPolygon, Orient, Point, Polygon,
    Validation,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spatial::{check_lng_lat, to_wgs84, Crs};
use crate::territory::DivisionCode;
use crate::DomainError;

/// Digits in a community (居委会/村委会) code.
const COMMUNITY_LEN: usize = 12;
/// Widest sequence a pattern may ask for.
const MAX_SEQ_WIDTH: usize = 6;
/// Longest separator a pattern may put between its parts.
const MAX_SEP_LEN: usize = 3;
/// How far (degrees, ≈ 1 cm) a grid may stray over its area's boundary, for shared edges
/// digitised twice.
const WITHIN_TOLERANCE: f64 = 1e-7;

const CODE_SHAPE_HELP: &str = "a grid code is the community's 12-digit code followed by a \
3-digit sequence (15 digits; a micro-grid adds 3 more: 18 digits), or, with a configured \
pattern, the community code, a separator such as '-' and the sequence";

fn is_sep_char(c: char) -> bool {
    c.is_ascii_punctuation() && c != '{' && c != '}'
}

/// The parts of a grid code: community digits, separator (may be empty) and 1 or 2 sequences.
struct CodeParts<'a> {
    sep: &'a str,
    seqs: Vec<&'a str>,
}

fn split_code(s: &str) -> Result<CodeParts<'_>, String> {
    let bad = || format!("'{s}' is not a grid code: {CODE_SHAPE_HELP}");
    if s.len() < COMMUNITY_LEN + 1 || !s.as_bytes()[..COMMUNITY_LEN].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let rest = &s[COMMUNITY_LEN..];
    let parts = if rest.bytes().all(|b| b.is_ascii_digit()) {
        match rest.len() {
            3 => CodeParts {
                sep: "",
                seqs: vec![rest],
            },
            6 => CodeParts {
                sep: "",
                seqs: vec![&rest[..3], &rest[3..]],
            },
            _ => return Err(bad()),
        }
    } else {
        let sep_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let sep = &rest[..sep_len];
        if sep.is_empty() || sep.len() > MAX_SEP_LEN || !sep.chars().all(is_sep_char) {
            return Err(bad());
        }
        let seqs: Vec<&str> = rest[sep_len..].split(sep).collect();
        // `rest` starts with `sep`, so splitting `rest[sep_len..]` yields the sequences.
        let well_formed = matches!(seqs.len(), 1 | 2)
            && seqs
                .iter()
                .all(|q| (1..=MAX_SEQ_WIDTH).contains(&q.len()) && q.bytes().all(|b| b.is_ascii_digit()))
            && seqs.iter().all(|q| q.len() == seqs[0].len());
        if !well_formed {
            return Err(bad());
        }
        CodeParts { sep, seqs }
    };
    if let Some(zero) = parts.seqs.iter().find(|q| q.bytes().all(|b| b == b'0')) {
        return Err(format!(
            "'{s}' is not a grid code: sequence {zero} is not allowed, sequences start at 1"
        ));
    }
    Ok(parts)
}

/// The code of a unit grid or micro-grid. Always valid once built; the community it belongs
/// to, and for a micro-grid its unit grid, are read from the code itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GridCode(String);

impl GridCode {
    /// Parses a code of any pattern [`GridCodePattern`] can describe: 15 or 18 digits, or
    /// community + separator + sequence (+ separator + sequence for a micro-grid).
    /// Use [`GridCodePattern::parse_code`] to also hold a code to a deployment's pattern.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        split_code(s).map_err(|m| DomainError::invalid("code", m))?;
        Ok(GridCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The community (居委会/村委会) the grid belongs to.
    pub fn community(&self) -> DivisionCode {
        DivisionCode::parse(&self.0[..COMMUNITY_LEN]).expect("a grid code starts with 12 digits")
    }

    fn parts(&self) -> CodeParts<'_> {
        split_code(&self.0).expect("a grid code is valid once built")
    }

    /// Whether this is a micro-grid's code (unit grid code + one more sequence).
    pub fn is_micro(&self) -> bool {
        self.parts().seqs.len() == 2
    }

    /// The kind of grid the code's shape implies.
    pub fn kind(&self) -> GridKind {
        if self.is_micro() {
            GridKind::Micro
        } else {
            GridKind::Unit
        }
    }

    /// For a micro-grid, the code of the unit grid it divides; `None` for a unit grid.
    pub fn unit_grid(&self) -> Option<GridCode> {
        let parts = self.parts();
        if parts.seqs.len() != 2 {
            return None;
        }
        let cut = self.0.len() - parts.sep.len() - parts.seqs[1].len();
        Some(GridCode(self.0[..cut].to_owned()))
    }

    /// The grid's own sequence number within its community (unit) or unit grid (micro).
    pub fn sequence(&self) -> u32 {
        let parts = self.parts();
        parts.seqs[parts.seqs.len() - 1].parse().expect("sequence digits")
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for GridCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GridCode::parse(s)
    }
}

impl TryFrom<String> for GridCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        GridCode::parse(&s)
    }
}

impl From<GridCode> for String {
    fn from(c: GridCode) -> String {
        c.0
    }
}

/// The grid-code pattern a deployment uses: `{community}`, an optional separator, then
/// `{seq:N}`. The default `{community}{seq:3}` gives 15-digit unit grids and 18-digit
/// micro-grids; `{community}-{seq:4}` gives `510104001001-0001` and `510104001001-0001-0002`.
/// A micro-grid's code always repeats the separator and the sequence width.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GridCodePattern {
    sep: String,
    width: usize,
}

impl Default for GridCodePattern {
    fn default() -> Self {
        GridCodePattern {
            sep: String::new(),
            width: 3,
        }
    }
}

impl GridCodePattern {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let err = |m: &str| {
            DomainError::invalid(
                "grid_code_pattern",
                format!(
                    "'{s}' is not a grid code pattern: {m} (e.g. {{community}}{{seq:3}} or {{community}}-{{seq:4}})"
                ),
            )
        };
        let rest = s
            .strip_prefix("{community}")
            .ok_or_else(|| err("it must start with {community}"))?;
        let seq_at = rest.find("{seq:").ok_or_else(|| err("it must end with {seq:N}"))?;
        let sep = &rest[..seq_at];
        let width = rest[seq_at..]
            .strip_prefix("{seq:")
            .and_then(|w| w.strip_suffix('}'))
            .ok_or_else(|| err("it must end with {seq:N}"))?;
        let width: usize = match width.parse() {
            Ok(w) if (1..=MAX_SEQ_WIDTH).contains(&w) => w,
            _ => return Err(err("N in {seq:N} must be a number from 1 to 6")),
        };
        if sep.len() > MAX_SEP_LEN || !sep.chars().all(is_sep_char) {
            return Err(err("the separator must be 1 to 3 punctuation characters such as '-'"));
        }
        if sep.is_empty() && width != 3 {
            return Err(err(
                "without a separator the sequence must be 3 digits, so that codes keep the 15/18-digit shape; put a separator such as '-' before a wider sequence",
            ));
        }
        Ok(GridCodePattern {
            sep: sep.to_owned(),
            width,
        })
    }

    /// The number of digits in each sequence.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Parses a unit-grid or micro-grid code and checks it follows this pattern.
    pub fn parse_code(&self, s: &str) -> Result<GridCode, DomainError> {
        let code = GridCode::parse(s)?;
        let parts = code.parts();
        if parts.sep != self.sep || parts.seqs.iter().any(|q| q.len() != self.width) {
            let example = self.unit_code_str("510104001001", 1);
            return Err(DomainError::invalid(
                "code",
                format!("'{code}' does not follow the grid code pattern {self} (e.g. {example})"),
            ));
        }
        Ok(code)
    }

    fn unit_code_str(&self, community: &str, seq: u32) -> String {
        format!("{community}{}{seq:0w$}", self.sep, w = self.width)
    }

    fn check_seq(&self, seq: u32) -> Result<(), DomainError> {
        let max = 10u64.pow(self.width as u32) - 1;
        if seq == 0 || u64::from(seq) > max {
            return Err(DomainError::invalid(
                "sequence",
                format!("sequence {seq} is out of range: use 1 to {max}"),
            ));
        }
        Ok(())
    }

    /// The code of unit grid number `seq` of a community.
    pub fn unit_code(&self, community: &DivisionCode, seq: u32) -> Result<GridCode, DomainError> {
        if community.as_str().len() != COMMUNITY_LEN {
            return Err(DomainError::invalid(
                "community",
                format!("{community} is not a community code: grids belong to 12-digit community/village codes"),
            ));
        }
        self.check_seq(seq)?;
        Ok(GridCode(self.unit_code_str(community.as_str(), seq)))
    }

    /// The code of micro-grid number `seq` of a unit grid.
    pub fn micro_code(&self, unit: &GridCode, seq: u32) -> Result<GridCode, DomainError> {
        let unit = self.parse_code(unit.as_str())?;
        if unit.is_micro() {
            return Err(DomainError::invalid(
                "unit_grid",
                format!("{unit} is a micro-grid: micro-grids divide unit grids only"),
            ));
        }
        self.check_seq(seq)?;
        Ok(GridCode(format!("{unit}{}{seq:0w$}", self.sep, w = self.width)))
    }
}

impl fmt::Display for GridCodePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{community}}{}{{seq:{}}}", self.sep, self.width)
    }
}

impl FromStr for GridCodePattern {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GridCodePattern::parse(s)
    }
}

impl TryFrom<String> for GridCodePattern {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        GridCodePattern::parse(&s)
    }
}

impl From<GridCodePattern> for String {
    fn from(p: GridCodePattern) -> String {
        p.to_string()
    }
}

/// A unit grid (单元网格) or a micro-grid (微网格) inside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GridKind {
    Unit,
    Micro,
}

impl GridKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GridKind::Unit => "unit",
            GridKind::Micro => "micro",
        }
    }
}

impl fmt::Display for GridKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GridKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "unit" => Ok(GridKind::Unit),
            "micro" => Ok(GridKind::Micro),
            _ => Err(DomainError::invalid(
                "kind",
                format!("'{s}' is not a grid kind: use unit or micro"),
            )),
        }
    }
}

/// A grid with its shape (WGS-84). Serializing a `Grid` leaves the geometry out; use
/// [`Grid::to_feature`] or [`Grid::geometry_geojson`] for the shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    pub code: GridCode,
    pub name: String,
    pub community: DivisionCode,
    pub kind: GridKind,
    pub households: u32,
    pub population: u32,
    #[serde(skip)]
    pub geometry: MultiPolygon<f64>,
}

impl Grid {
    /// The grid as a GeoJSON Feature: id and `code`, `name`, `community`, `kind`, and
    /// `households`/`population` only when `with_counts` (counts are not public everywhere).
    pub fn to_feature(&self, with_counts: bool) -> geojson::Feature {
        let mut props = geojson::JsonObject::new();
        props.insert("code".into(), Value::from(self.code.as_str()));
        props.insert("name".into(), Value::from(self.name.as_str()));
        props.insert("community".into(), Value::from(self.community.as_str()));
        props.insert("kind".into(), Value::from(self.kind.as_str()));
        if with_counts {
            props.insert("households".into(), Value::from(self.households));
            props.insert("population".into(), Value::from(self.population));
        }
        geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::Value::from(&self.geometry))),
            id: Some(geojson::feature::Id::String(self.code.to_string())),
            properties: Some(props),
            foreign_members: None,
        }
    }

    /// The shape as a GeoJSON MultiPolygon geometry, for storage.
    pub fn geometry_geojson(&self) -> String {
        geojson::Geometry::new(geojson::Value::from(&self.geometry)).to_string()
    }

    /// Reads a stored shape back: a GeoJSON Polygon or MultiPolygon geometry in WGS-84,
    /// checked like an uploaded one.
    pub fn geometry_from_geojson(text: &str) -> Result<MultiPolygon<f64>, DomainError> {
        geometry_from_geojson(text)
    }
}

/// Reads a GeoJSON Polygon or MultiPolygon geometry in WGS-84 (e.g. one stored by
/// [`Grid::geometry_geojson`]), with the same checks as [`parse_grid_collection`].
pub fn geometry_from_geojson(text: &str) -> Result<MultiPolygon<f64>, DomainError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| DomainError::invalid("geometry", format!("not valid JSON: {e}")))?;
    parse_geometry(&value, Crs::Wgs84).map_err(|reasons| DomainError::invalid("geometry", reasons.join("; ")))
}

/// Grids as one FeatureCollection.
pub fn to_feature_collection<'a>(
    grids: impl IntoIterator<Item = &'a Grid>,
    with_counts: bool,
) -> geojson::FeatureCollection {
    geojson::FeatureCollection {
        bbox: None,
        features: grids.into_iter().map(|g| g.to_feature(with_counts)).collect(),
        foreign_members: None,
    }
}

/// One problem with one feature of an uploaded FeatureCollection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureError {
    /// Position of the feature in `features`, from 0.
    pub index: usize,
    /// The feature's `properties.code`, when it had one.
    pub code: Option<String>,
    pub reason: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "feature {} (code {}): {}", self.index, code, self.reason),
            None => write!(f, "feature {}: {}", self.index, self.reason),
        }
    }
}

impl std::error::Error for FeatureError {}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads one ring's positions, checking count, closure and range in the source CRS
/// (before geo would silently close it).
fn parse_ring(value: &Value, label: &str, reasons: &mut Vec<String>) -> Option<Vec<(f64, f64)>> {
    let Some(positions) = value.as_array() else {
        reasons.push(format!(
            "{label} must be an array of positions, found {}",
            type_of(value)
        ));
        return None;
    };
    let mut coords = Vec::with_capacity(positions.len());
    for (i, pos) in positions.iter().enumerate() {
        let pair = pos
            .as_array()
            .filter(|p| p.len() >= 2)
            .and_then(|p| Some((p[0].as_f64()?, p[1].as_f64()?)));
        let Some((lng, lat)) = pair else {
            reasons.push(format!(
                "{label} position {i} must be [longitude, latitude] numbers, found {pos}"
            ));
            return None;
        };
        if let Err(e) = check_lng_lat(lng, lat) {
            let DomainError::Invalid { message, .. } = e;
            reasons.push(format!("{label} position {i}: {message}"));
            return None;
        }
        coords.push((lng, lat));
    }
    if coords.len() < 4 {
        reasons.push(format!(
            "{label} has {} positions: a ring needs at least 4, the last repeating the first",
            coords.len()
        ));
        return None;
    }
    if coords.first() != coords.last() {
        reasons.push(format!("{label} is not closed: first and last positions differ"));
        return None;
    }
    Some(coords)
}

fn parse_polygon(value: &Value, prefix: &str, crs: Crs, reasons: &mut Vec<String>) -> Option<Polygon<f64>> {
    let Some(rings) = value.as_array() else {
        reasons.push(format!(
            "{prefix}coordinates must be an array of rings, found {}",
            type_of(value)
        ));
        return None;
    };
    if rings.is_empty() {
        reasons.push(format!("{prefix}has no rings"));
        return None;
    }
    let before = reasons.len();
    let rings: Vec<Option<Vec<(f64, f64)>>> = rings
        .iter()
        .enumerate()
        .map(|(i, ring)| parse_ring(ring, &format!("{prefix}ring {i}"), reasons))
        .collect();
    if reasons.len() > before {
        return None;
    }
    let mut rings = rings.into_iter().flatten().map(|ring| {
        LineString::from(
            ring.into_iter()
                .map(|(lng, lat)| to_wgs84(crs, lng, lat))
                .collect::<Vec<_>>(),
        )
    });
    let exterior = rings.next()?;
    Some(Polygon::new(exterior, rings.collect()))
}

/// Reads a Polygon or MultiPolygon GeoJSON geometry given in `crs` into WGS-84, or says
/// everything that is wrong with it.
fn parse_geometry(value: &Value, crs: Crs) -> Result<MultiPolygon<f64>, Vec<String>> {
    let mut reasons = Vec::new();
    let kind = value.get("type").and_then(Value::as_str);
    let coords = value.get("coordinates").unwrap_or(&Value::Null);
    let shape = match kind {
        Some("Polygon") => parse_polygon(coords, "", crs, &mut reasons).map(|p| MultiPolygon::new(vec![p])),
        Some("MultiPolygon") => match coords.as_array() {
            Some(polys) if polys.is_empty() => {
                reasons.push("MultiPolygon has no polygons".to_owned());
                None
            }
            Some(polys) => {
                let polys: Vec<_> = polys
                    .iter()
                    .enumerate()
                    .map(|(i, p)| parse_polygon(p, &format!("polygon {i} "), crs, &mut reasons))
                    .collect();
                polys.into_iter().collect::<Option<Vec<_>>>().map(MultiPolygon::new)
            }
            None => {
                reasons.push(format!(
                    "coordinates must be an array of polygons, found {}",
                    type_of(coords)
                ));
                None
            }
        },
        Some(other) => {
            reasons.push(format!(
                "geometry type {other} is not allowed: a grid needs a Polygon or MultiPolygon"
            ));
            None
        }
        None if value.is_null() => {
            reasons.push("geometry is missing: a grid needs a Polygon or MultiPolygon".to_owned());
            None
        }
        None => {
            reasons.push("geometry has no type: a grid needs a Polygon or MultiPolygon".to_owned());
            None
        }
    };
    let Some(shape) = shape else {
        return Err(reasons);
    };
    let single = kind == Some("Polygon");
    let invalid: Vec<String> = shape
        .validation_errors()
        .into_iter()
        .map(|e| match e {
            InvalidMultiPolygon::InvalidPolygon(_, e) if single => e.to_string(),
            InvalidMultiPolygon::InvalidPolygon(idx, e) => {
                format!("polygon {}: {e}", idx.0)
            }
            other => other.to_string(),
        })
        .collect();
    if !invalid.is_empty() {
        return Err(invalid);
    }
    // RFC 7946 §3.1.6: exteriors counter-clockwise, holes clockwise.
    Ok(shape.orient(Direction::Default))
}

/// Reads a code-like property: a string, or a whole number (spreadsheets turn codes into numbers).
fn code_like(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

fn count_property(props: &serde_json::Map<String, Value>, field: &str, reasons: &mut Vec<String>) -> u32 {
    let value = match props.get(field) {
        None | Some(Value::Null) => return 0,
        Some(v) => v,
    };
    let n = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)
    });
    match n.and_then(|n| u32::try_from(n).ok()) {
        Some(n) => n,
        None => {
            reasons.push(format!(
                "properties.{field} must be a non-negative whole number, found {value}"
            ));
            0
        }
    }
}

fn parse_feature(value: &Value, crs: Crs, pattern: &GridCodePattern) -> (Option<String>, Result<Grid, Vec<String>>) {
    let mut reasons = Vec::new();
    if value.get("type").and_then(Value::as_str) != Some("Feature") {
        let found = value
            .get("type")
            .map_or_else(|| type_of(value).to_owned(), |t| t.to_string());
        return (None, Err(vec![format!("expected a GeoJSON Feature, found {found}")]));
    }
    let empty = serde_json::Map::new();
    let has_props = matches!(value.get("properties"), Some(Value::Object(_)));
    let props = match value.get("properties") {
        Some(Value::Object(props)) => props,
        Some(Value::Null) | None => {
            reasons.push("properties are missing: a grid needs at least code and name".to_owned());
            &empty
        }
        Some(other) => {
            reasons.push(format!("properties must be an object, found {}", type_of(other)));
            &empty
        }
    };

    // Code.
    let raw_code = props.get("code").and_then(code_like);
    let code = match (props.get("code"), &raw_code) {
        (_, Some(raw)) => match pattern.parse_code(raw) {
            Ok(code) => Some(code),
            Err(DomainError::Invalid { message, .. }) => {
                reasons.push(format!("properties.code: {message}"));
                None
            }
        },
        (None | Some(Value::Null), None) => {
            if has_props {
                reasons.push("properties.code is missing: every grid needs a code".to_owned());
            }
            None
        }
        (Some(other), None) => {
            reasons.push(format!("properties.code must be a string, found {other}"));
            None
        }
    };

    // Name.
    let name = match props.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => {
            if has_props {
                reasons.push("properties.name is missing or empty: every grid needs a name".to_owned());
            }
            String::new()
        }
    };

    let households = count_property(props, "households", &mut reasons);
    let population = count_property(props, "population", &mut reasons);

    // Community: optional, but must agree with the code.
    let mut community = code.as_ref().map(GridCode::community);
    match props.get("community") {
        None | Some(Value::Null) => {}
        Some(v) => match code_like(v).map(|s| DivisionCode::parse(&s)) {
            Some(Ok(given)) => match &community {
                Some(derived) if *derived != given => reasons.push(format!(
                    "properties.community {given} does not match the code's community {derived}"
                )),
                Some(_) => {}
                None => community = Some(given),
            },
            Some(Err(DomainError::Invalid { message, .. })) => reasons.push(format!("properties.community: {message}")),
            None => reasons.push(format!("properties.community must be a string, found {v}")),
        },
    }

    // Kind: optional, but must agree with the code.
    let derived_kind = code.as_ref().map(GridCode::kind).unwrap_or(GridKind::Unit);
    let kind = match props.get("kind") {
        None | Some(Value::Null) => derived_kind,
        Some(Value::String(s)) => match s.parse::<GridKind>() {
            Ok(kind) => {
                if let Some(code) = code.as_ref().filter(|_| kind != derived_kind) {
                    reasons.push(format!(
                        "properties.kind is '{kind}' but {code} is a {derived_kind} grid code"
                    ));
                }
                kind
            }
            Err(DomainError::Invalid { message, .. }) => {
                reasons.push(format!("properties.kind: {message}"));
                derived_kind
            }
        },
        Some(other) => {
            reasons.push(format!("properties.kind must be \"unit\" or \"micro\", found {other}"));
            derived_kind
        }
    };

    let geometry = match parse_geometry(value.get("geometry").unwrap_or(&Value::Null), crs) {
        Ok(g) => Some(g),
        Err(mut r) => {
            reasons.append(&mut r);
            None
        }
    };

    let grid = match (code, community, geometry) {
        (Some(code), Some(community), Some(geometry)) if reasons.is_empty() => Ok(Grid {
            code,
            name,
            community,
            kind,
            households,
            population,
            geometry,
        }),
        _ => Err(reasons),
    };
    (raw_code, grid)
}

/// Reads grids from a GeoJSON FeatureCollection whose coordinates are in `crs`, converting
/// them to WGS-84. On failure returns every problem found, each with its feature's index
/// (and code, when it had one), in feature order.
pub fn parse_grid_collection(text: &str, crs: Crs, pattern: &GridCodePattern) -> Result<Vec<Grid>, Vec<FeatureError>> {
    let whole = |reason: String| {
        vec![FeatureError {
            index: 0,
            code: None,
            reason,
        }]
    };
    let root: Value = serde_json::from_str(text).map_err(|e| whole(format!("the file is not valid JSON: {e}")))?;
    match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(whole(format!(
                "expected a GeoJSON FeatureCollection, found type {other}"
            )));
        }
        None => {
            return Err(whole(format!(
                "expected a GeoJSON FeatureCollection, found {}",
                type_of(&root)
            )));
        }
    }
    let Some(features) = root.get("features").and_then(Value::as_array) else {
        return Err(whole("the FeatureCollection has no \"features\" array".to_owned()));
    };

    let mut grids = Vec::with_capacity(features.len());
    let mut errors = Vec::new();
    let mut seen: HashMap<GridCode, usize> = HashMap::new();
    for (index, feature) in features.iter().enumerate() {
        let (raw_code, result) = parse_feature(feature, crs, pattern);
        let mut reasons = match result {
            Ok(grid) => {
                if let Some(first) = seen.get(&grid.code) {
                    vec![format!("duplicate code: feature {first} has the same code")]
                } else {
                    seen.insert(grid.code.clone(), index);
                    grids.push(grid);
                    continue;
                }
            }
            Err(reasons) => reasons,
        };
        // Still remember the code, so a later duplicate of a broken feature is reported too.
        if let Some(code) = raw_code.as_deref().and_then(|c| pattern.parse_code(c).ok()) {
            if let Some(first) = seen.get(&code) {
                if !reasons.iter().any(|r| r.starts_with("duplicate code")) {
                    reasons.push(format!("duplicate code: feature {first} has the same code"));
                }
            } else {
                seen.insert(code, index);
            }
        }
        errors.extend(reasons.into_iter().map(|reason| FeatureError {
            index,
            code: raw_code.clone(),
            reason,
        }));
    }
    if errors.is_empty() {
        Ok(grids)
    } else {
        Err(errors)
    }
}

fn perimeter(shape: &MultiPolygon<f64>) -> f64 {
    shape
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.lines())
        .map(|l| l.dx().hypot(l.dy()))
        .sum()
}

/// Checks that a grid lies within `area` (its community's, or its unit grid's, shape), up
/// to ≈ 1e-7 degrees along shared boundaries that were digitised twice.
pub fn check_within(grid: &Grid, area: &MultiPolygon<f64>) -> Result<(), String> {
    if area.0.is_empty() {
        return Err(format!("grid {}: the area to lie within has no shape", grid.code));
    }
    // Every vertex must be inside the area or within the tolerance of it…
    for c in grid.geometry.coords_iter() {
        let p = Point::from(c);
        if area.intersects(&p) {
            continue;
        }
        let d = Euclidean.distance(area, &p);
        if d > WITHIN_TOLERANCE {
            return Err(format!(
                "grid {} reaches outside its area: vertex ({:.7}, {:.7}) is {d:.7}° outside",
                grid.code, c.x, c.y
            ));
        }
    }
    // …and, since edges may still cut across a concave area, what lies outside may be no more
    // than a sliver of tolerance width along the grid's boundary.
    let outside = grid.geometry.difference(area).unsigned_area();
    let allowed = WITHIN_TOLERANCE * perimeter(&grid.geometry) + 1e-15;
    if outside > allowed {
        let total = grid.geometry.unsigned_area();
        let share = if total > 0.0 { outside / total * 100.0 } else { 100.0 };
        return Err(format!(
            "grid {} lies partly outside its area: {share:.2}% of it is outside",
            grid.code
        ));
    }
    Ok(())
}

/// Checks that a micro-grid belongs to `unit` by its code and lies within its shape.
pub fn check_micro_within(micro: &Grid, unit: &Grid) -> Result<(), String> {
    if micro.code.unit_grid().as_ref() != Some(&unit.code) {
        return Err(format!("{} is not a micro-grid of unit grid {}", micro.code, unit.code));
    }
    check_within(micro, &unit.geometry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::{gcj02_to_bd09, wgs84_to_gcj02};
    use geo::{polygon, Contains, Winding};
    use serde_json::json;

    const COMMUNITY: &str = "510104001001";
    const UNIT: &str = "510104001001002";

    fn square(x: f64, y: f64, size: f64) -> Value {
        json!([[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]])
    }

    fn feature(code: &str, geometry: Value) -> Value {
        json!({
            "type": "Feature",
            "properties": { "code": code, "name": "东华门网格" },
            "geometry": { "type": "Polygon", "coordinates": geometry },
        })
    }

    fn collection(features: Vec<Value>) -> String {
        json!({ "type": "FeatureCollection", "features": features }).to_string()
    }

    fn parse(features: Vec<Value>) -> Result<Vec<Grid>, Vec<FeatureError>> {
        parse_grid_collection(&collection(features), Crs::Wgs84, &GridCodePattern::default())
    }

    fn errors(features: Vec<Value>) -> Vec<FeatureError> {
        parse(features).expect_err("expected errors")
    }

    fn mp(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0),
        ]])
    }

    fn grid(code: &str, shape: MultiPolygon<f64>) -> Grid {
        let code = GridCode::parse(code).unwrap();
        Grid {
            community: code.community(),
            kind: code.kind(),
            code,
            name: "g".into(),
            households: 0,
            population: 0,
            geometry: shape,
        }
    }

    // ---- codes ---------------------------------------------------------------------------

    #[test]
    fn default_codes() {
        let unit = GridCode::parse(UNIT).unwrap();
        assert!(!unit.is_micro());
        assert_eq!(unit.kind(), GridKind::Unit);
        assert_eq!(unit.community().as_str(), COMMUNITY);
        assert_eq!(unit.unit_grid(), None);
        assert_eq!(unit.sequence(), 2);
        let micro = GridCode::parse(" 510104001001002015 ").unwrap();
        assert!(micro.is_micro());
        assert_eq!(micro.as_str(), "510104001001002015");
        assert_eq!(micro.unit_grid(), Some(unit.clone()));
        assert_eq!(micro.community().as_str(), COMMUNITY);
        assert_eq!(micro.sequence(), 15);
        assert_eq!(micro.to_string(), "510104001001002015");
    }

    #[test]
    fn bad_codes() {
        for bad in [
            "",
            "5101040010010",
            "510104001001000",    // sequence 000
            "510104001001002000", // micro sequence 000
            "51010400100100",     // 14 digits
            "5101040010010021",   // 16 digits
            "51010400100A002",
            "510104001001-",
            "510104001001-01-002", // widths differ
            "510104001001-01_02",  // separators differ
            "510104001001-01-02-03",
            "510104001001 002",
            "510104001001{002",
        ] {
            assert!(GridCode::parse(bad).is_err(), "{bad} should be rejected");
        }
        let err = GridCode::parse("510104001001000").unwrap_err().to_string();
        assert!(err.contains("sequence 000"), "{err}");
    }

    #[test]
    fn code_serde_round_trip() {
        let code = GridCode::parse("510104001001-0003-0001").unwrap();
        let text = serde_json::to_string(&code).unwrap();
        assert_eq!(text, "\"510104001001-0003-0001\"");
        assert_eq!(serde_json::from_str::<GridCode>(&text).unwrap(), code);
        assert!(serde_json::from_str::<GridCode>("\"510104001001000\"").is_err());
        assert_eq!("510104001001001".parse::<GridCode>().unwrap().sequence(), 1);
    }

    #[test]
    fn patterns() {
        let default = GridCodePattern::default();
        assert_eq!(default.to_string(), "{community}{seq:3}");
        assert_eq!("{community}{seq:3}".parse::<GridCodePattern>().unwrap(), default);
        assert_eq!(default.width(), 3);
        assert!(default.parse_code(UNIT).is_ok());
        assert!(default.parse_code("510104001001-002").is_err());

        let dashed = GridCodePattern::parse("{community}-{seq:4}").unwrap();
        assert_eq!(dashed.to_string(), "{community}-{seq:4}");
        let unit = dashed.parse_code("510104001001-0007").unwrap();
        assert_eq!(unit.community().as_str(), COMMUNITY);
        let micro = dashed.parse_code("510104001001-0007-0002").unwrap();
        assert_eq!(micro.unit_grid(), Some(unit.clone()));
        assert!(micro.is_micro());
        let err = dashed.parse_code(UNIT).unwrap_err().to_string();
        assert!(err.contains("510104001001-0001"), "{err}");
        assert!(dashed.parse_code("510104001001-007").is_err());
        assert!(dashed.parse_code("510104001001_0007").is_err());

        let community = DivisionCode::parse(COMMUNITY).unwrap();
        assert_eq!(dashed.unit_code(&community, 7).unwrap(), unit);
        assert_eq!(dashed.micro_code(&unit, 2).unwrap(), micro);
        assert!(dashed.micro_code(&micro, 1).is_err());
        assert!(dashed.unit_code(&community, 0).is_err());
        assert!(dashed.unit_code(&community, 10_000).is_err());
        assert!(dashed.unit_code(&DivisionCode::parse("510104001").unwrap(), 1).is_err());
        assert_eq!(default.unit_code(&community, 2).unwrap().as_str(), UNIT);
        assert_eq!(
            default
                .micro_code(&GridCode::parse(UNIT).unwrap(), 15)
                .unwrap()
                .as_str(),
            "510104001001002015"
        );

        for bad in [
            "",
            "{seq:3}",
            "{community}{seq:4}",
            "{community}-{seq:0}",
            "{community}-{seq:7}",
            "{community}x{seq:3}",
            "{community}-{seq:3}-",
            "{community}----{seq:3}",
            "{community}-{seq:a}",
        ] {
            assert!(GridCodePattern::parse(bad).is_err(), "{bad} should be rejected");
        }
        let err = GridCodePattern::parse("{community}{seq:4}").unwrap_err().to_string();
        assert!(err.contains("separator"), "{err}");
        let json = serde_json::to_string(&dashed).unwrap();
        assert_eq!(serde_json::from_str::<GridCodePattern>(&json).unwrap(), dashed);
    }

    #[test]
    fn kinds() {
        assert_eq!(serde_json::to_string(&GridKind::Micro).unwrap(), "\"micro\"");
        assert_eq!(serde_json::from_str::<GridKind>("\"unit\"").unwrap(), GridKind::Unit);
        assert_eq!("Micro".parse::<GridKind>().unwrap(), GridKind::Micro);
        assert!("cell".parse::<GridKind>().is_err());
    }

    // ---- collections ---------------------------------------------------------------------

    #[test]
    fn valid_square() {
        let grids = parse(vec![json!({
            "type": "Feature",
            "properties": {
                "code": UNIT, "name": " 东华门网格 ", "community": COMMUNITY,
                "households": 420, "population": 1180, "kind": "unit",
            },
            "geometry": { "type": "Polygon", "coordinates": square(104.06, 30.66, 0.01) },
        })])
        .unwrap();
        assert_eq!(grids.len(), 1);
        let g = &grids[0];
        assert_eq!(g.code.as_str(), UNIT);
        assert_eq!(g.name, "东华门网格");
        assert_eq!(g.community.as_str(), COMMUNITY);
        assert_eq!(g.kind, GridKind::Unit);
        assert_eq!((g.households, g.population), (420, 1180));
        assert!((g.geometry.unsigned_area() - 1e-4).abs() < 1e-12);
        assert!(g.geometry.contains(&Point::new(104.065, 30.665)));
    }

    #[test]
    fn defaults_micro_kind_and_multipolygon() {
        let grids = parse(vec![json!({
            "type": "Feature",
            "properties": { "code": 510104001001002015u64, "name": "微网格", "households": null },
            "geometry": { "type": "MultiPolygon", "coordinates": [
                square(104.0, 30.0, 0.001), square(104.01, 30.0, 0.001)
            ]},
        })])
        .unwrap();
        assert_eq!(grids[0].kind, GridKind::Micro);
        assert_eq!(grids[0].households, 0);
        assert_eq!(grids[0].geometry.0.len(), 2);
    }

    #[test]
    fn clockwise_input_is_oriented_for_rfc7946() {
        let cw = json!([[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]]);
        let grids = parse(vec![feature(UNIT, cw)]).unwrap();
        assert!(grids[0].geometry.0[0].exterior().is_ccw());
    }

    #[test]
    fn unclosed_ring() {
        let open = json!([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.5]]]);
        let errs = errors(vec![feature(UNIT, open)]);
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            "feature 0 (code 510104001001002): ring 0 is not closed: first and last positions differ"
        );
    }

    #[test]
    fn too_few_positions() {
        let errs = errors(vec![feature(UNIT, json!([[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]))]);
        assert!(errs[0].reason.contains("at least 4"), "{}", errs[0]);
    }

    #[test]
    fn bow_tie() {
        let bow = json!([[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]);
        let errs = errors(vec![feature(UNIT, bow)]);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].reason.contains("self-intersection"), "{}", errs[0]);
    }

    #[test]
    fn hole_outside_shell() {
        let geom = json!([
            [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]],
            [[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 3.0], [2.0, 2.0]],
        ]);
        let errs = errors(vec![feature(UNIT, geom)]);
        assert!(errs.iter().any(|e| e.reason.contains("not contained")), "{errs:?}");
    }

    #[test]
    fn overlapping_holes() {
        let geom = json!([
            [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            [[1.0, 1.0], [2.5, 1.0], [2.5, 2.5], [1.0, 2.5], [1.0, 1.0]],
            [[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 3.0], [2.0, 2.0]],
        ]);
        let errs = errors(vec![feature(UNIT, geom)]);
        assert!(
            errs.iter().any(|e| e
                .reason
                .contains("interior ring at index 0 and interior ring at index 1")),
            "{errs:?}"
        );
    }

    #[test]
    fn valid_hole() {
        let geom = json!([
            [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]],
        ]);
        let grids = parse(vec![feature(UNIT, geom)]).unwrap();
        assert!(!grids[0].geometry.contains(&Point::new(1.5, 1.5)));
        assert!((grids[0].geometry.unsigned_area() - 15.0).abs() < 1e-12);
    }

    #[test]
    fn overlapping_multipolygon_parts() {
        let f = json!({
            "type": "Feature",
            "properties": { "code": UNIT, "name": "x" },
            "geometry": { "type": "MultiPolygon", "coordinates": [square(0.0, 0.0, 2.0), square(1.0, 1.0, 2.0)] },
        });
        let errs = errors(vec![f]);
        assert!(errs[0].reason.contains("overlap"), "{errs:?}");
    }

    #[test]
    fn coordinates_out_of_range_or_not_numbers() {
        let far = json!([[[190.0, 0.0], [191.0, 0.0], [191.0, 1.0], [190.0, 0.0]]]);
        let swapped = json!([[[30.0, 104.0], [30.1, 104.0], [30.1, 104.1], [30.0, 104.0]]]);
        let nan = json!([[["NaN", 0.0], [1.0, 0.0], [1.0, 1.0], ["NaN", 0.0]]]);
        let short = json!([[[1.0], [1.0, 0.0], [1.0, 1.0], [1.0]]]);
        let errs = errors(vec![
            feature(UNIT, far),
            feature("510104001001003", swapped),
            feature("510104001001004", nan),
            feature("510104001001005", short),
        ]);
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].reason.contains("longitude 190"), "{}", errs[0]);
        assert!(errs[1].reason.contains("latitude 104"), "{}", errs[1]);
        assert!(errs[2].reason.contains("\"NaN\""), "{}", errs[2]);
        assert!(errs[3].reason.contains("position 0"), "{}", errs[3]);
        assert_eq!(errs.iter().map(|e| e.index).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn bad_geometry_types() {
        let point = json!({
            "type": "Feature",
            "properties": { "code": UNIT, "name": "x" },
            "geometry": { "type": "Point", "coordinates": [104.0, 30.0] },
        });
        let none = json!({
            "type": "Feature",
            "properties": { "code": "510104001001003", "name": "x" },
            "geometry": null,
        });
        let errs = errors(vec![point, none]);
        assert!(errs[0].reason.contains("Point is not allowed"), "{errs:?}");
        assert!(errs[1].reason.contains("geometry is missing"), "{errs:?}");
    }

    #[test]
    fn bad_code_and_missing_properties() {
        let errs = errors(vec![
            feature("5101040010010", square(0.0, 0.0, 1.0)),
            feature("510104001001000", square(0.0, 0.0, 1.0)),
            json!({ "type": "Feature", "properties": { "name": "x" }, "geometry": { "type": "Polygon", "coordinates": square(0.0, 0.0, 1.0) } }),
            json!({ "type": "Feature", "properties": { "code": UNIT, "name": "  " }, "geometry": { "type": "Polygon", "coordinates": square(0.0, 0.0, 1.0) } }),
            json!({ "type": "Feature", "geometry": { "type": "Polygon", "coordinates": square(0.0, 0.0, 1.0) } }),
            json!({ "type": "Feature", "properties": { "code": true, "name": "x" }, "geometry": { "type": "Polygon", "coordinates": square(0.0, 0.0, 1.0) } }),
        ]);
        let by_index = |i: usize| {
            errs.iter()
                .filter(|e| e.index == i)
                .map(|e| e.reason.as_str())
                .collect::<Vec<_>>()
        };
        assert!(by_index(0)[0].contains("is not a grid code"), "{errs:?}");
        assert_eq!(
            errs.iter().find(|e| e.index == 0).unwrap().code.as_deref(),
            Some("5101040010010")
        );
        assert!(by_index(1)[0].contains("sequence 000"), "{errs:?}");
        assert!(by_index(2)[0].contains("code is missing"), "{errs:?}");
        assert!(by_index(3)[0].contains("name is missing"), "{errs:?}");
        assert!(by_index(4)[0].contains("properties are missing"), "{errs:?}");
        assert!(by_index(5)[0].contains("code must be a string"), "{errs:?}");
        assert_eq!(
            errs.iter().find(|e| e.index == 2).unwrap().to_string(),
            "feature 2: properties.code is missing: every grid needs a code"
        );
    }

    #[test]
    fn code_must_follow_configured_pattern() {
        let dashed = GridCodePattern::parse("{community}-{seq:4}").unwrap();
        let text = collection(vec![
            feature("510104001001-0001", square(0.0, 0.0, 1.0)),
            feature(UNIT, square(2.0, 0.0, 1.0)),
        ]);
        let errs = parse_grid_collection(&text, Crs::Wgs84, &dashed).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, 1);
        assert!(errs[0].reason.contains("{community}-{seq:4}"), "{}", errs[0]);
    }

    #[test]
    fn counts_must_be_non_negative_integers() {
        let f = |h: Value| {
            json!({
                "type": "Feature",
                "properties": { "code": UNIT, "name": "x", "households": h },
                "geometry": { "type": "Polygon", "coordinates": square(0.0, 0.0, 1.0) },
            })
        };
        for bad in [json!(-3), json!(2.5), json!("12"), json!(5_000_000_000u64)] {
            let errs = errors(vec![f(bad.clone())]);
            assert!(
                errs[0]
                    .reason
                    .contains("households must be a non-negative whole number"),
                "{bad}: {errs:?}"
            );
        }
        assert_eq!(parse(vec![f(json!(12.0))]).unwrap()[0].households, 12);
    }

    #[test]
    fn duplicate_code() {
        let errs = errors(vec![
            feature(UNIT, square(0.0, 0.0, 1.0)),
            feature("510104001001003", square(1.0, 0.0, 1.0)),
            feature(UNIT, square(2.0, 0.0, 1.0)),
            // A broken feature with the same code is reported as a duplicate too.
            feature(
                UNIT,
                json!([[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]),
            ),
        ]);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert_eq!(errs[0].index, 2);
        assert_eq!(errs[0].reason, "duplicate code: feature 0 has the same code");
        assert_eq!(errs[1].index, 3);
        assert!(errs[1].reason.contains("self-intersection"));
        assert_eq!(errs[2].reason, "duplicate code: feature 0 has the same code");
    }

    #[test]
    fn community_and_kind_mismatch() {
        let f = |props: Value| {
            json!({
                "type": "Feature", "properties": props,
                "geometry": { "type": "Polygon", "coordinates": square(0.0, 0.0, 1.0) },
            })
        };
        let errs = errors(vec![
            f(json!({ "code": UNIT, "name": "x", "community": "510104001002" })),
            f(json!({ "code": "510104001001003", "name": "x", "community": "5101" })),
            f(json!({ "code": "510104001001004", "name": "x", "kind": "micro" })),
            f(json!({ "code": "510104001001004001", "name": "x", "kind": "unit" })),
            f(json!({ "code": "510104001001005", "name": "x", "kind": "cell" })),
            f(json!({ "code": "510104001001006", "name": "x", "community": 510104001001u64, "kind": "UNIT" })),
        ]);
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert_eq!(
            errs[0].reason,
            "properties.community 510104001002 does not match the code's community 510104001001"
        );
        assert!(errs[1].reason.starts_with("properties.community:"), "{}", errs[1]);
        assert!(errs[2].reason.contains("is a unit grid code"), "{}", errs[2]);
        assert!(errs[3].reason.contains("is a micro grid code"), "{}", errs[3]);
        assert!(errs[4].reason.contains("use unit or micro"), "{}", errs[4]);
    }

    #[test]
    fn multiple_errors_with_indexes() {
        let errs = errors(vec![
            feature(UNIT, square(0.0, 0.0, 1.0)),
            feature("bad", json!([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])),
            json!({ "type": "Point", "coordinates": [0, 0] }),
            feature("510104001001004", square(5.0, 5.0, 1.0)),
            json!({ "type": "Feature", "properties": { "code": "510104001001005" }, "geometry": { "type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]] } }),
        ]);
        let summary: Vec<(usize, &str)> = errs.iter().map(|e| (e.index, e.reason.as_str())).collect();
        assert_eq!(summary.len(), 5, "{summary:?}");
        assert_eq!(summary[0].0, 1);
        assert!(summary[0].1.starts_with("properties.code:"));
        assert_eq!(summary[1].0, 1);
        assert!(summary[1].1.contains("not closed"));
        assert_eq!(summary[2], (2, "expected a GeoJSON Feature, found \"Point\""));
        assert_eq!(summary[3].0, 4);
        assert!(summary[3].1.contains("name is missing"));
        assert_eq!(summary[4].0, 4);
        assert!(summary[4].1.contains("self-intersection"));
        let json = serde_json::to_value(&errs[0]).unwrap();
        assert_eq!(json["index"], 1);
        assert_eq!(json["code"], "bad");
    }

    #[test]
    fn not_a_feature_collection() {
        let p = GridCodePattern::default();
        for (text, want) in [
            ("{not json", "not valid JSON"),
            (
                r#"{"type":"Feature","properties":{},"geometry":null}"#,
                "found type Feature",
            ),
            ("[1,2]", "found an array"),
            (r#"{"type":"FeatureCollection"}"#, "no \"features\" array"),
        ] {
            let errs = parse_grid_collection(text, Crs::Wgs84, &p).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].index, 0);
            assert_eq!(errs[0].code, None);
            assert!(errs[0].reason.contains(want), "{}: {}", want, errs[0]);
        }
        assert!(parse(vec![]).unwrap().is_empty());
    }

    #[test]
    fn gcj02_and_bd09_input_converted() {
        // A square drawn on WGS-84, as AMap (GCJ-02) and Baidu (BD-09) would hand it out.
        let wgs = [
            (104.06, 30.66),
            (104.07, 30.66),
            (104.07, 30.67),
            (104.06, 30.67),
            (104.06, 30.66),
        ];
        let gcj: Vec<[f64; 2]> = wgs
            .iter()
            .map(|&(x, y)| {
                let (a, b) = wgs84_to_gcj02(x, y);
                [a, b]
            })
            .collect();
        let bd: Vec<[f64; 2]> = gcj
            .iter()
            .map(|p| {
                let (a, b) = gcj02_to_bd09(p[0], p[1]);
                [a, b]
            })
            .collect();
        let p = GridCodePattern::default();
        for (crs, ring) in [(Crs::Gcj02, gcj), (Crs::Bd09, bd)] {
            let text = collection(vec![feature(UNIT, json!([ring]))]);
            let raw = parse_grid_collection(&text, Crs::Wgs84, &p).unwrap();
            let grids = parse_grid_collection(&text, crs, &p).unwrap();
            let got: Vec<_> = grids[0].geometry.0[0].exterior().coords().map(|c| (c.x, c.y)).collect();
            for (g, w) in got.iter().zip(wgs.iter()) {
                assert!(
                    (g.0 - w.0).abs() < 1e-7 && (g.1 - w.1).abs() < 1e-7,
                    "{crs}: {g:?} vs {w:?}"
                );
            }
            // Read as if it were WGS-84, the same shape sits hundreds of metres away.
            let shifted = raw[0].geometry.0[0].exterior().0[0];
            assert!((shifted.x - 104.06).abs() > 1e-3, "{crs}");
        }
    }

    // ---- features and storage ------------------------------------------------------------

    #[test]
    fn feature_output() {
        let mut g = grid(UNIT, mp(104.0, 30.0, 104.01, 30.01));
        g.households = 7;
        g.population = 19;
        let f = g.to_feature(false);
        let props = f.properties.as_ref().unwrap();
        assert_eq!(props["code"], UNIT);
        assert_eq!(props["community"], COMMUNITY);
        assert_eq!(props["kind"], "unit");
        assert!(!props.contains_key("households") && !props.contains_key("population"));
        assert_eq!(f.id, Some(geojson::feature::Id::String(UNIT.into())));
        let f = g.to_feature(true);
        assert_eq!(f.properties.as_ref().unwrap()["households"], 7);
        assert_eq!(f.properties.as_ref().unwrap()["population"], 19);

        // What we write, we read back.
        let fc = to_feature_collection([&g], true);
        let back = parse_grid_collection(&fc.to_string(), Crs::Wgs84, &GridCodePattern::default()).unwrap();
        assert_eq!(back[0].code, g.code);
        assert_eq!(back[0].households, 7);
        assert_eq!(back[0].geometry.unsigned_area(), g.geometry.unsigned_area());

        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["code"], UNIT);
        assert!(json.get("geometry").is_none());
    }

    #[test]
    fn geometry_storage_round_trip() {
        let g = grid(UNIT, mp(104.0, 30.0, 104.01, 30.01));
        let text = g.geometry_geojson();
        assert!(text.contains("MultiPolygon"), "{text}");
        assert_eq!(Grid::geometry_from_geojson(&text).unwrap(), g.geometry);
        let poly = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#;
        assert_eq!(geometry_from_geojson(poly).unwrap().0.len(), 1);
        let err = geometry_from_geojson(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#).unwrap_err();
        assert!(err.to_string().contains("not closed"), "{err}");
        assert!(geometry_from_geojson("nope").is_err());
    }

    // ---- containment ---------------------------------------------------------------------

    #[test]
    fn within_community() {
        let community = mp(104.0, 30.0, 104.1, 30.1);
        // Inside, and sharing two edges with the community.
        assert_eq!(
            check_within(&grid(UNIT, mp(104.0, 30.0, 104.05, 30.05)), &community),
            Ok(())
        );
        assert_eq!(check_within(&grid(UNIT, community.clone()), &community), Ok(()));
        // A shared edge digitised twice, 5e-8° apart.
        assert_eq!(
            check_within(&grid(UNIT, mp(103.99999995, 30.0, 104.05, 30.05)), &community),
            Ok(())
        );
        // Outside.
        let err = check_within(&grid(UNIT, mp(104.2, 30.0, 104.3, 30.1)), &community).unwrap_err();
        assert!(err.contains("reaches outside"), "{err}");
        let err = check_within(&grid(UNIT, mp(104.05, 30.05, 104.15, 30.15)), &community).unwrap_err();
        assert!(err.contains("510104001001002"), "{err}");
        // Slightly too far over the edge.
        assert!(check_within(&grid(UNIT, mp(103.99999, 30.0, 104.05, 30.05)), &community).is_err());
        assert!(check_within(&grid(UNIT, mp(104.0, 30.0, 104.05, 30.05)), &MultiPolygon::new(vec![])).is_err());
    }

    #[test]
    fn within_concave_community_checks_edges_not_just_vertices() {
        // A U-shaped community; the grid's vertices are all inside it but it spans the notch.
        let u = MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 3.0), (x: 2.0, y: 3.0),
            (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 3.0), (x: 0.0, y: 3.0), (x: 0.0, y: 0.0),
        ]]);
        let g = grid(UNIT, mp(0.5, 0.5, 2.5, 2.5));
        let err = check_within(&g, &u).unwrap_err();
        assert!(err.contains("partly outside"), "{err}");
        assert!(check_within(&grid(UNIT, mp(0.0, 0.0, 3.0, 1.0)), &u).is_ok());
    }

    #[test]
    fn micro_within_unit() {
        let unit = grid(UNIT, mp(0.0, 0.0, 1.0, 1.0));
        let micro = grid("510104001001002001", mp(0.0, 0.0, 0.5, 0.5));
        assert_eq!(check_micro_within(&micro, &unit), Ok(()));
        let stray = grid("510104001001002002", mp(0.9, 0.9, 1.5, 1.5));
        assert!(check_micro_within(&stray, &unit).is_err());
        let other = grid("510104001001003001", mp(0.0, 0.0, 0.5, 0.5));
        let err = check_micro_within(&other, &unit).unwrap_err();
        assert!(err.contains("is not a micro-grid of"), "{err}");
    }
}
