//! Coordinates and places: the coordinate systems Chinese map apps use, and a fast
//! point-in-polygon index for grids.
//!
//! Everything is stored in WGS-84 (RFC 7946). Chinese map apps hand out GCJ-02 (AMap/Gaode,
//! Tencent, Google China) or BD-09 (Baidu); [`to_wgs84`] takes a point back to WGS-84.
//! The forward formulas are the widely published ones; the inverses are solved by iteration
//! to well under 1e-6 degrees.

use std::fmt;
use std::str::FromStr;

use geo::{Area, BoundingRect, Intersects, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A coordinate reference system a point may arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS-84 longitude/latitude (GPS, RFC 7946 GeoJSON). What Gongzhi stores.
    #[default]
    Wgs84,
    /// GCJ-02, the "Mars" datum of AMap/Gaode, Tencent and other Chinese maps.
    Gcj02,
    /// BD-09, Baidu's further offset of GCJ-02.
    Bd09,
}

impl Crs {
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Crs {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" => Ok(Crs::Wgs84),
            "gcj02" => Ok(Crs::Gcj02),
            "bd09" => Ok(Crs::Bd09),
            _ => Err(DomainError::invalid(
                "crs",
                format!("'{s}' is not a known coordinate system: use wgs84, gcj02 or bd09"),
            )),
        }
    }
}

/// Checks that a longitude/latitude pair is finite and within [-180, 180] × [-90, 90].
pub fn check_lng_lat(lng: f64, lat: f64) -> Result<(), DomainError> {
    if !lng.is_finite() || !lat.is_finite() {
        return Err(DomainError::invalid(
            "coordinates",
            format!("({lng}, {lat}) is not a pair of finite numbers"),
        ));
    }
    if !(-180.0..=180.0).contains(&lng) {
        return Err(DomainError::invalid(
            "coordinates",
            format!("longitude {lng} is out of range: use a value in [-180, 180] (longitude comes first)"),
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(DomainError::invalid(
            "coordinates",
            format!("latitude {lat} is out of range: use a value in [-90, 90] (latitude comes second)"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GCJ-02 / BD-09

/// Semi-major axis of the Krasovsky 1940 ellipsoid, used by GCJ-02.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// The angle factor of BD-09.
const BD_X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
/// The inverses iterate until the forward image is this close (degrees) to the target.
const INVERSE_EPS: f64 = 1e-10;
const INVERSE_MAX_STEPS: usize = 30;

/// The standard rough "is this in China" box: GCJ-02 leaves points outside it unchanged.
pub fn out_of_china(lng: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lng(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// WGS-84 → GCJ-02. Points outside China are returned unchanged.
pub fn wgs84_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if out_of_china(lng, lat) {
        return (lng, lat);
    }
    let dlat = transform_lat(lng - 105.0, lat - 35.0);
    let dlng = transform_lng(lng - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * radlat.sin() * radlat.sin();
    let sqrtmagic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic) * PI);
    let dlng = (dlng * 180.0) / (KRASOVSKY_A / sqrtmagic * radlat.cos() * PI);
    (lng + dlng, lat + dlat)
}

/// Solves `forward(x) = target` for `x` by fixed-point iteration, starting from `start`.
/// The offsets are small and smooth, so each step gains several digits.
fn invert(forward: impl Fn(f64, f64) -> (f64, f64), target: (f64, f64), start: (f64, f64)) -> (f64, f64) {
    let (mut lng, mut lat) = start;
    for _ in 0..INVERSE_MAX_STEPS {
        let (flng, flat) = forward(lng, lat);
        let (dlng, dlat) = (flng - target.0, flat - target.1);
        if dlng.abs() < INVERSE_EPS && dlat.abs() < INVERSE_EPS {
            break;
        }
        lng -= dlng;
        lat -= dlat;
    }
    (lng, lat)
}

/// GCJ-02 → WGS-84, exact to well under 1e-6 degrees (iterated inverse of [`wgs84_to_gcj02`]).
/// Points outside China are returned unchanged.
pub fn gcj02_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    if !lng.is_finite() || !lat.is_finite() || out_of_china(lng, lat) {
        return (lng, lat);
    }
    invert(wgs84_to_gcj02, (lng, lat), (lng, lat))
}

/// GCJ-02 → BD-09 (Baidu).
pub fn gcj02_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lng, lat);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * BD_X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02: the published approximate inverse, then refined by iteration.
pub fn bd09_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if !lng.is_finite() || !lat.is_finite() {
        return (lng, lat);
    }
    let (x, y) = (lng - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD_X_PI).cos();
    let start = (z * theta.cos(), z * theta.sin());
    invert(gcj02_to_bd09, (lng, lat), start)
}

/// WGS-84 → BD-09.
pub fn wgs84_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let (lng, lat) = wgs84_to_gcj02(lng, lat);
    gcj02_to_bd09(lng, lat)
}

/// Takes a point given in `crs` to WGS-84.
pub fn to_wgs84(crs: Crs, lng: f64, lat: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (lng, lat),
        Crs::Gcj02 => gcj02_to_wgs84(lng, lat),
        Crs::Bd09 => {
            let (lng, lat) = bd09_to_gcj02(lng, lat);
            gcj02_to_wgs84(lng, lat)
        }
    }
}

/// Takes a WGS-84 point to `crs` (for showing on a Chinese base map).
pub fn from_wgs84(crs: Crs, lng: f64, lat: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (lng, lat),
        Crs::Gcj02 => wgs84_to_gcj02(lng, lat),
        Crs::Bd09 => wgs84_to_bd09(lng, lat),
    }
}

// ---------------------------------------------------------------------------------------------
// Point-in-polygon index

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

struct Indexed<K> {
    key: K,
    shape: MultiPolygon<f64>,
    area: f64,
}

/// Finds the polygons (grids, micro-grids, divisions) that contain a point.
///
/// An R-tree over bounding boxes narrows the candidates; each candidate is then tested
/// exactly. Built once (bulk-loaded), then read-only.
pub struct PolygonIndex<K> {
    items: Vec<Indexed<K>>,
    tree: RTree<Entry>,
}

impl<K> PolygonIndex<K> {
    /// Builds the index. Empty multipolygons are kept (they count in [`len`](Self::len)) but
    /// never contain a point.
    pub fn new(polygons: Vec<(K, MultiPolygon<f64>)>) -> Self {
        let mut items = Vec::with_capacity(polygons.len());
        let mut entries = Vec::with_capacity(polygons.len());
        for (i, (key, shape)) in polygons.into_iter().enumerate() {
            if let Some(rect) = shape.bounding_rect() {
                let (min, max) = (rect.min(), rect.max());
                entries.push(GeomWithData::new(
                    Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                    i,
                ));
            }
            let area = shape.unsigned_area();
            items.push(Indexed { key, shape, area });
        }
        PolygonIndex {
            items,
            tree: RTree::bulk_load(entries),
        }
    }

    /// Every polygon containing the WGS-84 point (a point on a boundary counts as inside),
    /// smallest area first, so a micro-grid comes before its unit grid. Ties keep the order
    /// the polygons were given in.
    pub fn locate(&self, lng: f64, lat: f64) -> Vec<&K> {
        if !lng.is_finite() || !lat.is_finite() {
            return Vec::new();
        }
        let point = Point::new(lng, lat);
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[lng, lat])
            .map(|entry| entry.data)
            .filter(|&i| self.items[i].shape.intersects(&point))
            .collect();
        hits.sort_by(|&a, &b| self.items[a].area.total_cmp(&self.items[b].area).then(a.cmp(&b)));
        hits.into_iter().map(|i| &self.items[i].key).collect()
    }

    /// The smallest polygon containing the point, if any.
    pub fn locate_smallest(&self, lng: f64, lat: f64) -> Option<&K> {
        self.locate(lng, lat).into_iter().next()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<K> FromIterator<(K, MultiPolygon<f64>)> for PolygonIndex<K> {
    fn from_iter<I: IntoIterator<Item = (K, MultiPolygon<f64>)>>(iter: I) -> Self {
        PolygonIndex::new(iter.into_iter().collect())
    }
}

impl<K> fmt::Debug for PolygonIndex<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolygonIndex").field("len", &self.items.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains};
    use proptest::prelude::*;

    fn close(a: (f64, f64), b: (f64, f64), eps: f64) -> bool {
        (a.0 - b.0).abs() < eps && (a.1 - b.1).abs() < eps
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: x0, y: y0),
            (x: x1, y: y0),
            (x: x1, y: y1),
            (x: x0, y: y1),
            (x: x0, y: y0),
        ]])
    }

    #[test]
    fn crs_parses_case_insensitively_and_serdes_lowercase() {
        assert_eq!("WGS84".parse::<Crs>().unwrap(), Crs::Wgs84);
        assert_eq!("gcj02".parse::<Crs>().unwrap(), Crs::Gcj02);
        assert_eq!(" Bd09 ".parse::<Crs>().unwrap(), Crs::Bd09);
        let err = "epsg:4326".parse::<Crs>().unwrap_err().to_string();
        assert!(err.contains("wgs84, gcj02 or bd09"), "{err}");
        assert_eq!(serde_json::to_string(&Crs::Gcj02).unwrap(), "\"gcj02\"");
        assert_eq!(serde_json::from_str::<Crs>("\"bd09\"").unwrap(), Crs::Bd09);
        assert!(serde_json::from_str::<Crs>("\"BD-09\"").is_err());
        assert_eq!(Crs::default(), Crs::Wgs84);
        assert_eq!(Crs::Bd09.to_string(), "bd09");
    }

    #[test]
    fn check_lng_lat_rejects_bad_values() {
        assert!(check_lng_lat(104.06, 30.67).is_ok());
        assert!(check_lng_lat(180.0, -90.0).is_ok());
        assert!(check_lng_lat(f64::NAN, 30.0).is_err());
        assert!(check_lng_lat(104.0, f64::INFINITY).is_err());
        assert!(check_lng_lat(180.0001, 0.0).is_err());
        let err = check_lng_lat(30.67, 104.06).unwrap_err().to_string();
        assert!(err.contains("latitude 104.06"), "{err}");
    }

    #[test]
    fn published_reference_values() {
        // Reference values of the widely used coordtransform libraries.
        let gcj = wgs84_to_gcj02(116.404, 39.915);
        assert!(close(gcj, (116.41024449916938, 39.91640428150164), 1e-9), "{gcj:?}");
        let bd = gcj02_to_bd09(116.404, 39.915);
        assert!(close(bd, (116.41036949371029, 39.92133699351022), 1e-9), "{bd:?}");
        // The one-step approximate inverse lands within ~1e-5 of the exact one.
        let wgs = gcj02_to_wgs84(116.404, 39.915);
        assert!(close(wgs, (116.39775550083061, 39.91359571849836), 1e-4), "{wgs:?}");
        let gcj = bd09_to_gcj02(116.404, 39.915);
        assert!(close(gcj, (116.39762729119315, 39.90865673957631), 1e-4), "{gcj:?}");
    }

    #[test]
    fn inverse_is_exact() {
        let p = (104.0657, 30.6595); // Chengdu
        let g = wgs84_to_gcj02(p.0, p.1);
        assert!(!close(g, p, 1e-4), "GCJ-02 must move points in China");
        assert!(close(gcj02_to_wgs84(g.0, g.1), p, 1e-9));
        let b = wgs84_to_bd09(p.0, p.1);
        assert!(close(to_wgs84(Crs::Bd09, b.0, b.1), p, 1e-9));
        assert!(close(to_wgs84(Crs::Gcj02, g.0, g.1), p, 1e-9));
        assert_eq!(to_wgs84(Crs::Wgs84, p.0, p.1), p);
        assert_eq!(from_wgs84(Crs::Gcj02, p.0, p.1), g);
        assert_eq!(from_wgs84(Crs::Bd09, p.0, p.1), b);
    }

    #[test]
    fn outside_china_is_unchanged_by_gcj02() {
        for p in [(2.35, 48.86), (-74.0, 40.7), (139.7, 35.7), (100.0, -10.0)] {
            assert_eq!(wgs84_to_gcj02(p.0, p.1), p);
            assert_eq!(gcj02_to_wgs84(p.0, p.1), p);
            assert_eq!(to_wgs84(Crs::Gcj02, p.0, p.1), p);
        }
        assert!(out_of_china(2.35, 48.86));
        assert!(!out_of_china(116.4, 39.9));
    }

    #[test]
    fn non_finite_input_does_not_loop() {
        let (x, y) = to_wgs84(Crs::Bd09, f64::NAN, 30.0);
        assert!(x.is_nan() && y == 30.0);
    }

    #[test]
    fn index_locates_nested_polygons_smallest_first() {
        let index = PolygonIndex::new(vec![
            ("unit", rect(0.0, 0.0, 2.0, 2.0)),
            ("micro", rect(0.0, 0.0, 1.0, 1.0)),
            ("other", rect(2.0, 0.0, 4.0, 2.0)),
            ("empty", MultiPolygon::new(vec![])),
        ]);
        assert_eq!(index.len(), 4);
        assert!(!index.is_empty());
        assert_eq!(index.locate(0.5, 0.5), vec![&"micro", &"unit"]);
        assert_eq!(index.locate(1.5, 0.5), vec![&"unit"]);
        // On the shared edge both grids contain the point.
        assert_eq!(index.locate(2.0, 1.0), vec![&"unit", &"other"]);
        // A corner vertex counts too.
        assert_eq!(index.locate(0.0, 0.0), vec![&"micro", &"unit"]);
        assert!(index.locate(5.0, 5.0).is_empty());
        assert!(index.locate(f64::NAN, 1.0).is_empty());
        assert_eq!(index.locate_smallest(0.5, 0.5), Some(&"micro"));
        assert_eq!(index.locate_smallest(9.0, 9.0), None);
    }

    #[test]
    fn index_respects_holes_and_concave_shapes() {
        // An L-shape whose bbox covers (1.5, 1.5) but whose area does not.
        let l_shape = MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0),
            (x: 1.0, y: 1.0), (x: 1.0, y: 2.0), (x: 0.0, y: 2.0), (x: 0.0, y: 0.0),
        ]]);
        let ring = MultiPolygon::new(vec![polygon!(
            exterior: [(x: 10.0, y: 10.0), (x: 14.0, y: 10.0), (x: 14.0, y: 14.0), (x: 10.0, y: 14.0), (x: 10.0, y: 10.0)],
            interiors: [[(x: 11.0, y: 11.0), (x: 13.0, y: 11.0), (x: 13.0, y: 13.0), (x: 11.0, y: 13.0), (x: 11.0, y: 11.0)]],
        )]);
        let index: PolygonIndex<u32> = vec![(1, l_shape), (2, ring)].into_iter().collect();
        assert!(index.locate(1.5, 1.5).is_empty());
        assert_eq!(index.locate(0.5, 1.5), vec![&1]);
        assert!(index.locate(12.0, 12.0).is_empty());
        assert_eq!(index.locate(10.5, 12.0), vec![&2]);
        assert_eq!(
            index.locate(11.0, 12.0),
            vec![&2],
            "hole boundary is the polygon's boundary"
        );
    }

    #[test]
    fn empty_index() {
        let index: PolygonIndex<u8> = PolygonIndex::new(vec![]);
        assert!(index.is_empty());
        assert_eq!(index.len(), 0);
        assert!(index.locate(0.0, 0.0).is_empty());
        assert_eq!(format!("{index:?}"), "PolygonIndex { len: 0 }");
    }

    #[test]
    fn index_handles_many_polygons() {
        // 200 × 200 unit grids, each split into 4 micro-grids: 200,000 polygons.
        let mut polys = Vec::new();
        for i in 0..200 {
            for j in 0..200 {
                let (x, y) = (i as f64 * 0.01, j as f64 * 0.01);
                polys.push(((i, j, 9), rect(x, y, x + 0.01, y + 0.01)));
                for q in 0..4 {
                    let (dx, dy) = ((q % 2) as f64 * 0.005, (q / 2) as f64 * 0.005);
                    polys.push(((i, j, q), rect(x + dx, y + dy, x + dx + 0.005, y + dy + 0.005)));
                }
            }
        }
        let index = PolygonIndex::new(polys);
        assert_eq!(index.len(), 200_000);
        for k in 0..10_000 {
            let (i, j) = ((k * 7) % 200, (k * 13) % 200);
            let (lng, lat) = (i as f64 * 0.01 + 0.007, j as f64 * 0.01 + 0.002);
            assert_eq!(index.locate(lng, lat), vec![&(i, j, 1), &(i, j, 9)]);
        }
    }

    proptest! {
        #[test]
        fn gcj02_round_trip_inside_china(lng in 73.0f64..135.0, lat in 3.0f64..53.0) {
            let (gl, ga) = wgs84_to_gcj02(lng, lat);
            let back = gcj02_to_wgs84(gl, ga);
            prop_assert!(close(back, (lng, lat), 1e-7), "{:?} vs {:?}", back, (lng, lat));
        }

        #[test]
        fn bd09_round_trip(lng in 73.0f64..135.0, lat in 3.0f64..53.0) {
            let (bl, ba) = wgs84_to_bd09(lng, lat);
            let back = to_wgs84(Crs::Bd09, bl, ba);
            prop_assert!(close(back, (lng, lat), 1e-7), "{:?} vs {:?}", back, (lng, lat));
            let (gl, ga) = gcj02_to_bd09(lng, lat);
            prop_assert!(close(bd09_to_gcj02(gl, ga), (lng, lat), 1e-7));
        }

        #[test]
        fn gcj02_identity_outside_china(lng in -180.0f64..180.0, lat in -90.0f64..90.0) {
            prop_assume!(out_of_china(lng, lat));
            prop_assert_eq!(wgs84_to_gcj02(lng, lat), (lng, lat));
            prop_assert_eq!(to_wgs84(Crs::Gcj02, lng, lat), (lng, lat));
        }

        #[test]
        fn index_agrees_with_brute_force(
            shapes in prop::collection::vec(
                (0.0f64..10.0, 0.0f64..10.0, 0.1f64..5.0, 0.1f64..5.0, any::<bool>()), 1..40),
            points in prop::collection::vec((-1.0f64..16.0, -1.0f64..16.0), 1..40),
        ) {
            // Rectangles and right triangles (so bbox hits are not always real hits).
            let polys: Vec<(usize, MultiPolygon<f64>)> = shapes
                .iter()
                .enumerate()
                .map(|(i, &(x, y, w, h, tri))| {
                    let mp = if tri {
                        MultiPolygon::new(vec![polygon![
                            (x: x, y: y), (x: x + w, y: y), (x: x, y: y + h), (x: x, y: y),
                        ]])
                    } else {
                        rect(x, y, x + w, y + h)
                    };
                    (i, mp)
                })
                .collect();
            let index = PolygonIndex::new(polys.clone());
            for (lng, lat) in points {
                let p = Point::new(lng, lat);
                let mut expected: Vec<(f64, usize)> = polys
                    .iter()
                    .filter(|(_, mp)| mp.intersects(&p))
                    .map(|(i, mp)| (mp.unsigned_area(), *i))
                    .collect();
                expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let expected: Vec<usize> = expected.into_iter().map(|(_, i)| i).collect();
                let got: Vec<usize> = index.locate(lng, lat).into_iter().copied().collect();
                prop_assert_eq!(&got, &expected);
                // Strict interior points are a subset of what is found.
                for (i, mp) in &polys {
                    if mp.contains(&p) {
                        prop_assert!(got.contains(i));
                    }
                }
            }
        }
    }
}
