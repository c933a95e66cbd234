//! A community's needs from and to files (the command line): an import is all rows or none, with
//! each wrong row's line; an export is one row per need.

use gongzhi_store::prelude::*;

use gongzhi_core::gridteam::{self, Need, NeedStatus};
use gongzhi_core::spatial::Crs;
use gongzhi_core::table::{LineError, Table};
use gongzhi_store::{GridList, NewRecord, RecordsImported, StoreError};

use crate::{AppResult, AppState};

/// The export's columns.
pub const EXPORT_COLUMNS: &[&str] = &[
    "id", "area", "status", "category", "text", "lng", "lat", "urgency", "source", "group", "cluster", "evidence",
];

/// Parse a needs file for a community: the grid needs parser's checks, then each point located
/// in the community (its grid, else the community itself). All rows or the errors of every
/// wrong row.
async fn parse(s: &AppState, city: CityCode, community: &str, table: &Table) -> Result<Vec<NewRecord>, Vec<LineError>> {
    let needs: Vec<Need> = gridteam::parse_needs(table, None)?;
    let mut out = Vec::with_capacity(needs.len());
    let mut errors = Vec::new();
    for (row, n) in table.rows.iter().zip(needs) {
        if n.source == gridteam::NeedSource::Resident {
            errors.push(row.error(
                "source",
                "residents raise their own needs; an import records needs from visits (visit) or meetings (meeting)",
            ));
            continue;
        }
        match crate::territory::locate(s, city, Crs::Wgs84, n.lng, n.lat).await {
            Ok(at) if at.community.as_ref().is_some_and(|c| c.code == community) => {
                let area = at
                    .grid
                    .as_ref()
                    .map_or_else(|| community.to_owned(), |g| g.code.clone());
                out.push(NewRecord {
                    list: GridList::Needs,
                    area,
                    status: NeedStatus::Open.as_str().into(),
                    person: None,
                    body: serde_json::to_value(&n).unwrap_or_default(),
                });
            }
            Ok(at) => errors.push(row.error(
                "lng",
                format!("the point lies outside community {community} ({})", at.message),
            )),
            Err(e) => errors.push(row.error("lng", e.message)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Import a community's needs from CSV (UTF-8) or XLSX, all rows or none: columns category,
/// text, lng, lat (WGS-84) and optionally urgency, source (meeting by default, or visit), group.
/// Each point must lie in the community; a refusal lists each wrong line in its `items`.
/// A need is keyed by its source id (the optional `ref` column) or else its category, text and
/// place: importing a file again updates or leaves alone the needs it stored, never adds them
/// twice, and a file naming one need twice is refused with both lines. Returns every row's need
/// id and what the import did.
pub async fn import_needs(s: &AppState, city: CityCode, community: &str, bytes: &[u8]) -> AppResult<RecordsImported> {
    let table = Table::from_bytes(bytes).map_err(|e| StoreError::Lines(vec![e]))?;
    let records = parse(s, city, community, &table).await.map_err(StoreError::Lines)?;
    let records = crate::gridteam::io::keyed(&table, records, gridteam::need_key)?;
    // Where stored needs of the community can be: the community itself and its grids.
    let mut areas: Vec<String> = s
        .store
        .community_needs(city, community)
        .await?
        .into_iter()
        .map(|r| r.area)
        .chain(records.iter().map(|r| r.area.clone()))
        .chain([community.to_owned()])
        .collect();
    areas.sort();
    areas.dedup();
    Ok(s.store
        .import_grid_records(
            city,
            GridList::Needs,
            &areas,
            &records,
            gridteam::need_key,
            gridteam::NEED_COLUMNS,
            None,
        )
        .await?)
}

/// A community's needs as rows of [`EXPORT_COLUMNS`].
pub async fn export_needs(s: &AppState, city: CityCode, community: &str) -> AppResult<Vec<Vec<String>>> {
    let assigned = s.store.cluster_assignments(city, community).await?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in s.store.community_needs(city, community).await? {
        let n: Need = r.body_as()?;
        rows.push(vec![
            r.id.to_string(),
            r.area.clone(),
            r.status.clone(),
            n.category.as_str().into(),
            n.text.clone(),
            format!("{:.6}", n.lng),
            format!("{:.6}", n.lat),
            n.urgency.as_str().into(),
            n.source.as_str().into(),
            n.group.clone().unwrap_or_default(),
            assigned.get(&r.id).map(i64::to_string).unwrap_or_default(),
            n.evidence.iter().map(i64::to_string).collect::<Vec<_>>().join(";"),
        ]);
    }
    Ok(rows)
}
