//! Territory: divisions, grids and the point lookup (which grid and which divisions contain a
//! point), over the in-memory spatial index of each city.

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::grid::{self, Grid, GridCodePattern};
use gongzhi_core::spatial::{self, Crs};
use gongzhi_core::territory::{Division, DivisionCode, Hierarchy, Level};
use gongzhi_store::prelude::*;
pub use gongzhi_store::{ImportProgress, Place};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppError, AppResult, AppState};

/// A division as the API shows it.
#[derive(Serialize, ToSchema, Clone)]
pub struct DivisionView {
    pub code: String,
    pub name: String,
    /// city, district, street, community
    pub level: String,
    pub parent: Option<String>,
}

impl From<&Division> for DivisionView {
    fn from(d: &Division) -> Self {
        DivisionView {
            code: d.code.to_string(),
            name: d.name.clone(),
            level: d.level.to_string(),
            parent: d.parent.as_ref().map(|p| p.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema, Clone)]
pub struct GridRef {
    pub code: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct LookupResult {
    /// The point in WGS-84.
    pub lng: f64,
    pub lat: f64,
    /// The unit grid containing the point, if any.
    pub grid: Option<GridRef>,
    /// The micro-grid containing the point, if any.
    pub micro_grid: Option<GridRef>,
    pub community: Option<DivisionView>,
    pub street: Option<DivisionView>,
    pub district: Option<DivisionView>,
    pub city: Option<DivisionView>,
    /// The governing chain in the configured hierarchy, top first.
    pub chain: Vec<DivisionView>,
    /// True when the point is in no grid and falls to its territorial unit (属地兜底).
    pub fallback: bool,
    /// Whether the point lies inside the city's territory: in one of its grids or divisions with
    /// a boundary (true for a city that has no boundary yet). Intake refuses a point outside
    /// ([`locate_for_intake`]).
    pub inside: bool,
    /// The unit responsible for the point: the grid, else the smallest division that contains it.
    pub responsible: String,
    pub message: String,
}

/// Which grid (and community, street, district) contains a point. A point in no grid falls to
/// its territorial unit (属地兜底): the smallest division whose area contains it, else the city.
pub async fn locate(s: &AppState, city: CityCode, crs: Crs, lng: f64, lat: f64) -> AppResult<LookupResult> {
    spatial::check_lng_lat(lng, lat)?;
    let (lng, lat) = spatial::to_wgs84(crs, lng, lat);
    let index = s.index.get(&s.store, city).await?;
    let hits = index.grids_at(lng, lat);
    let mut grid = None;
    let mut micro = None;
    for code in &hits {
        if let Some(g) = s.store.grid(city, code).await? {
            let r = GridRef {
                code: g.code.to_string(),
                name: g.name.clone(),
            };
            if g.code.is_micro() {
                micro.get_or_insert(r);
            } else {
                grid.get_or_insert(r);
            }
        }
    }
    let fallback = grid.is_none();
    let anchor = match &grid {
        Some(g) => Some(g.code[..12].to_owned()),
        None => index.division_at(lng, lat),
    };
    let inside = anchor.is_some() || !hits.is_empty() || (index.grids.is_empty() && index.divisions.is_empty());
    let ancestry = match &anchor {
        Some(code) => s.store.ancestry(city, code).await?,
        None => s.store.ancestry(city, city.as_str()).await?,
    };
    let at = |l: Level| ancestry.iter().find(|d| d.level == l).map(DivisionView::from);
    let hierarchy = s.store.hierarchy(city).await?;
    let responsible = match (&grid, ancestry.last()) {
        (Some(g), _) => g.code.clone(),
        (None, Some(d)) => d.code.to_string(),
        (None, None) => city.to_string(),
    };
    let message = match (&grid, ancestry.last()) {
        (Some(g), _) => format!("in grid {} {}", g.code, g.name),
        (None, Some(d)) => format!(
            "in no grid: falls to its territorial unit (属地兜底) {} {}",
            d.code, d.name
        ),
        (None, None) => format!("in no grid and no known area: falls to the city {city}"),
    };
    Ok(LookupResult {
        lng,
        lat,
        grid,
        micro_grid: micro,
        community: at(Level::Community),
        street: at(Level::Street),
        district: at(Level::District),
        city: at(Level::City),
        chain: hierarchy.chain(&ancestry).into_iter().map(DivisionView::from).collect(),
        fallback,
        inside,
        responsible,
        message,
    })
}

/// [`locate`] for a new case or need: a point outside the city's territory is refused with the
/// reason. The one geographic check of every intake path (form, API, Open311, CSV import).
pub async fn locate_for_intake(s: &AppState, city: CityCode, crs: Crs, lng: f64, lat: f64) -> AppResult<LookupResult> {
    let place = locate(s, city, crs, lng, lat).await?;
    if !place.inside {
        let name = s
            .store
            .division(city, city.as_str())
            .await?
            .map(|d| d.name)
            .unwrap_or_else(|| city.to_string());
        return Err(AppError::invalid(format!(
            "lng/lat: ({:.6}, {:.6}) (WGS-84) lies outside {name}: choose a place inside the city's grids and divisions              (check longitude and latitude are not swapped and the coordinate system is the one the device uses)",
            place.lng, place.lat
        )));
    }
    Ok(place)
}

/// Whether the viewer (logged in or not) may see a grid's details (households, population,
/// contacts): its grid team and the staff above it.
pub fn may_see_grid_details(viewer: Option<&Principal>, grid: &str) -> bool {
    viewer.is_some_and(|p| p.may(Permission::ViewGridDetails, grid))
}

/// Refuse unless the principal belongs to a grid team or staff somewhere (the premises register).
pub fn require_premises_reader(p: &Principal) -> AppResult<()> {
    if p.may_somewhere(Permission::ViewGridDetails) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the premises register is seen by grid teams and staff of the area",
        ))
    }
}

/// Refuse unless the principal administers the territory of `code` (a division, a grid, or the
/// city for city-wide settings such as the hierarchy); `what` says what was asked.
pub fn require_manage(p: &Principal, code: &str, what: &str) -> AppResult<()> {
    if p.may(Permission::ManageTerritory, code) {
        Ok(())
    } else {
        Err(AppError::forbidden(what.to_owned()))
    }
}

/// Refuse an import unless the principal administers somewhere and every item's place lies in
/// their jurisdiction; nothing is imported otherwise. `items` are (the item's code, the place
/// it lies in); `what` names the items (grid(s), building(s)).
pub fn require_manage_all<'a>(
    p: &Principal,
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
    what: &str,
) -> AppResult<()> {
    if !p.may_somewhere(Permission::ManageTerritory) {
        return Err(AppError::forbidden(format!(
            "importing {what} needs an administrator of the area"
        )));
    }
    let outside: Vec<&str> = items
        .into_iter()
        .filter(|(_, place)| !p.may(Permission::ManageTerritory, place))
        .map(|(code, _)| code)
        .collect();
    match outside.first() {
        None => Ok(()),
        Some(first) => Err(AppError::forbidden(format!(
            "{} {what} lie outside your jurisdiction, e.g. {first}; nothing was imported",
            outside.len()
        ))),
    }
}

/// The city a request works in: the principal's, else the deployment's default.
pub fn city_of(state: &AppState, p: Option<&Principal>) -> CityCode {
    p.map_or(state.default_city, |p| p.city)
}

/// Divisions of the city: children of a parent (the top of the city without one), or all of one
/// level (`level` as typed: city, district, street, community).
pub async fn divisions(
    s: &AppState,
    city: CityCode,
    parent: Option<&str>,
    level: Option<&str>,
) -> AppResult<Vec<DivisionView>> {
    let level = level.map(str::parse::<Level>).transpose()?;
    let ds = s.store.child_divisions(city, parent, level).await?;
    Ok(ds.iter().map(DivisionView::from).collect())
}

#[derive(Serialize, ToSchema)]
pub struct DivisionDetail {
    pub division: DivisionView,
    /// From the city down to this division (the full GB/T 2260 chain).
    pub ancestry: Vec<DivisionView>,
    /// The part of the ancestry the configured hierarchy governs through.
    pub chain: Vec<DivisionView>,
    pub children: Vec<DivisionView>,
}

/// One division with its ancestry, its governance chain and its children, or not found.
pub async fn division_detail(s: &AppState, city: CityCode, code: &str) -> AppResult<DivisionDetail> {
    let d = s
        .store
        .division(city, code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("division {code}")))?;
    let ancestry = s.store.ancestry(city, code).await?;
    let hierarchy = s.store.hierarchy(city).await?;
    let children = s.store.child_divisions(city, Some(code), None).await?;
    Ok(DivisionDetail {
        division: (&d).into(),
        chain: hierarchy.chain(&ancestry).into_iter().map(DivisionView::from).collect(),
        ancestry: ancestry.iter().map(DivisionView::from).collect(),
        children: children.iter().map(DivisionView::from).collect(),
    })
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HierarchyView {
    /// Levels top to bottom, e.g. ["city","district","street","community","grid"].
    pub levels: Vec<String>,
    pub flat: bool,
}

impl From<&Hierarchy> for HierarchyView {
    fn from(h: &Hierarchy) -> Self {
        HierarchyView {
            levels: h.levels().iter().map(|l| l.to_string()).collect(),
            flat: h.is_flat(),
        }
    }
}

/// The levels a city governs through.
pub async fn hierarchy(s: &AppState, city: CityCode) -> AppResult<HierarchyView> {
    Ok((&s.store.hierarchy(city).await?).into())
}

/// Change the principal's city's hierarchy (administrators of the whole city). History is not
/// rewritten.
pub async fn set_hierarchy(s: &AppState, p: &Principal, levels: &[String]) -> AppResult<HierarchyView> {
    let city = p.city;
    require_manage(
        p,
        city.as_str(),
        "changing the hierarchy needs an administrator of the whole city",
    )?;
    let h = Hierarchy::new(levels.iter().map(|l| l.parse()).collect::<Result<_, _>>()?)?;
    s.store.set_hierarchy(city, &h, Some(p.person_id)).await?;
    Ok((&h).into())
}

/// Grids as GeoJSON features, with households and population only where the viewer may see them.
fn features(grids: &[Grid], viewer: Option<&Principal>) -> Vec<geojson::Feature> {
    grids
        .iter()
        .map(|g| g.to_feature(may_see_grid_details(viewer, g.code.as_str())))
        .collect()
}

/// One page of the grids inside `within` (any division; all without it) as a GeoJSON
/// FeatureCollection with `total`, `page` and `page_size` as foreign members.
pub async fn grid_collection(
    s: &AppState,
    viewer: Option<&Principal>,
    within: Option<&str>,
    page: u32,
    size: u32,
) -> AppResult<geojson::FeatureCollection> {
    let city = city_of(s, viewer);
    if let Some(w) = within {
        DivisionCode::parse(w)?;
    }
    let found = s.store.grids(city, within, page, size).await?;
    let mut extra = serde_json::Map::new();
    extra.insert("total".into(), found.total.into());
    extra.insert("page".into(), page.into());
    extra.insert("page_size".into(), size.into());
    Ok(geojson::FeatureCollection {
        bbox: None,
        features: features(&found.grids, viewer),
        foreign_members: Some(extra),
    })
}

/// One grid as a GeoJSON feature, or not found.
pub async fn grid_feature(s: &AppState, viewer: Option<&Principal>, code: &str) -> AppResult<geojson::Feature> {
    let city = city_of(s, viewer);
    let g = s
        .store
        .grid(city, code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("grid {code}")))?;
    Ok(g.to_feature(may_see_grid_details(viewer, g.code.as_str())))
}

/// Import grids from a GeoJSON FeatureCollection whose coordinates are in `crs` (administrators
/// of every grid's area). One transaction: any refused feature leaves nothing stored. The city's
/// spatial index is rebuilt. Keyed by grid code: a re-import updates the grids that differ and
/// leaves the others alone; returns what it did, by code.
pub async fn import_grids(
    s: &AppState,
    p: &Principal,
    geojson: &str,
    crs: Crs,
) -> AppResult<gongzhi_core::import::ImportReport> {
    let city = p.city;
    require_manage_all(p, [], "grids")?;
    let grids = grid::parse_grid_collection(geojson, crs, &GridCodePattern::default())
        .map_err(gongzhi_store::StoreError::Rejected)?;
    require_manage_all(p, grids.iter().map(|g| (g.code.as_str(), g.code.as_str())), "grid(s)")?;
    let report = s.store.import_grids(city, &grids, Some(p.person_id), None).await?;
    if !report.is_noop() {
        s.index.rebuild(&s.store, city).await?;
    }
    Ok(report)
}

/// Up to `limit` grids inside `within` (any division; the whole city without it), for drawing a
/// map: codes, names and boundaries are public.
pub async fn grids_within(s: &AppState, city: CityCode, within: Option<&str>, limit: u32) -> AppResult<Vec<Grid>> {
    Ok(s.store.grids(city, within, 1, limit).await?.grids)
}

/// A division's ancestry, from the city down to the division itself.
pub async fn ancestry(s: &AppState, city: CityCode, code: &str) -> AppResult<Vec<Division>> {
    Ok(s.store.ancestry(city, code).await?)
}

/// A part of an area on the map: its code, name, boundary, and whether it is a grid.
pub struct MapPart {
    pub code: String,
    pub name: String,
    pub geometry: geo::MultiPolygon<f64>,
    pub grid: bool,
}

/// A division of `city` (the whole city when `code` is the city's), or not found.
pub async fn division(s: &AppState, city: CityCode, code: &str) -> AppResult<Division> {
    s.store
        .division(city, code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("division {code}")))
}

/// The parts of an area to draw: the grids of a community, else the subdivisions that have a
/// boundary. Boundaries and names are public.
pub async fn map_parts(s: &AppState, city: CityCode, area: &Division) -> AppResult<Vec<MapPart>> {
    let mut parts = Vec::new();
    if area.level == Level::Community {
        for g in s.store.grids(city, Some(area.code.as_str()), 1, 1000).await?.grids {
            parts.push(MapPart {
                code: g.code.to_string(),
                name: g.name.clone(),
                geometry: g.geometry.clone(),
                grid: true,
            });
        }
    } else {
        for ch in s.store.child_divisions(city, Some(area.code.as_str()), None).await? {
            if let Some(b) = s.store.division_boundary(city, ch.code.as_str()).await? {
                parts.push(MapPart {
                    code: ch.code.to_string(),
                    name: ch.name.clone(),
                    geometry: b,
                    grid: false,
                });
            }
        }
    }
    Ok(parts)
}

/// What the home page tells of a city: the city, how many divisions of each level and grids it
/// has, its districts and the levels it governs through.
pub struct CitySummary {
    pub city: Option<Division>,
    pub counts: Vec<(Level, i64)>,
    pub grids: i64,
    pub districts: Vec<Division>,
    pub hierarchy: Hierarchy,
}

pub async fn city_summary(s: &AppState, city: CityCode) -> AppResult<CitySummary> {
    Ok(CitySummary {
        city: s.store.division(city, city.as_str()).await?,
        counts: s.store.division_counts(city).await?,
        grids: s.store.grid_count(city).await?,
        districts: s.store.child_divisions(city, Some(city.as_str()), None).await?,
        hierarchy: s.store.hierarchy(city).await?,
    })
}

/// The children of a division (the top of the city without one).
pub async fn children(s: &AppState, city: CityCode, code: Option<&str>) -> AppResult<Vec<Division>> {
    Ok(s.store.child_divisions(city, code, None).await?)
}

/// Store grids already parsed, for the operator at the command line (`progress` is told how many
/// are done); one transaction: a refused grid (in the error's items) leaves nothing stored.
pub async fn store_grids(
    s: &AppState,
    city: CityCode,
    grids: &[Grid],
    progress: Option<ImportProgress<'_>>,
) -> AppResult<usize> {
    s.store.import_grids(city, grids, None, progress).await?;
    Ok(grids.len())
}

/// Every grid inside `within` (the whole city without it) as a GeoJSON FeatureCollection with
/// every detail, for the operator's export at the command line.
pub async fn export_grids(s: &AppState, city: CityCode, within: Option<&str>) -> AppResult<geojson::FeatureCollection> {
    let mut features = Vec::new();
    let mut page = 1;
    loop {
        let found = s.store.grids(city, within, page, 1000).await?;
        features.extend(found.grids.iter().map(|g| g.to_feature(true)));
        if (page as i64) * 1000 >= found.total {
            break;
        }
        page += 1;
    }
    Ok(geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    })
}

/// Load a city's divisions (GB/T 2260 codes and names, as parsed from a CSV), for the operator
/// at the command line; the city is that of the first division. Returns (city, how many).
pub async fn load_divisions(s: &AppState, divisions: &[Division]) -> AppResult<(CityCode, usize)> {
    let city = divisions
        .first()
        .map(|d| d.code.city())
        .ok_or_else(|| AppError::invalid("the file has no divisions"))?;
    let n = s.store.put_divisions(city, divisions, None).await?;
    Ok((city, n))
}

/// Places whose name contains `text` (grids first, then communities and streets), at most
/// `limit`: code, name and the centre of their shape, for finding a location by address.
pub async fn find_places(s: &AppState, city: CityCode, text: &str, limit: u32) -> AppResult<Vec<Place>> {
    Ok(s.store.find_places(city, text, limit).await?)
}

/// A grid of `city`, or not found (its details are for [`may_see_grid_details`]).
pub async fn grid(s: &AppState, city: CityCode, code: &str) -> AppResult<Grid> {
    s.store
        .grid(city, code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("grid {code}")))
}
