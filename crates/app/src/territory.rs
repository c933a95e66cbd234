//! Territory: divisions, grids and the point lookup (which grid and which divisions contain a
//! point), over the in-memory spatial index of each city.

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::spatial::{self, Crs};
use gongzhi_core::territory::{Division, Level};
use gongzhi_store::prelude::*;
use serde::Serialize;
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
    /// The unit responsible for the point: the grid, else the smallest division that contains it.
    pub responsible: String,
    pub message: String,
}

/// Which grid (and community, street, district) contains a point. A point in no grid falls to
/// its territorial unit (属地兜底): the smallest division whose area contains it, else the city.
pub async fn locate(s: &AppState, city: &str, crs: Crs, lng: f64, lat: f64) -> AppResult<LookupResult> {
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
    let ancestry = match &anchor {
        Some(code) => s.store.ancestry(city, code).await?,
        None => s.store.ancestry(city, city).await?,
    };
    let at = |l: Level| ancestry.iter().find(|d| d.level == l).map(DivisionView::from);
    let hierarchy = s.store.hierarchy(city).await?;
    let responsible = match (&grid, ancestry.last()) {
        (Some(g), _) => g.code.clone(),
        (None, Some(d)) => d.code.to_string(),
        (None, None) => city.to_owned(),
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
        responsible,
        message,
    })
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
