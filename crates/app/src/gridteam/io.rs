//! Import and export of a grid's lists (CSV/XLSX in, CSV out).

use gongzhi_core::access::Principal;
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam;
use gongzhi_core::import::SeenKeys;
use gongzhi_core::table::Table;
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, NewRecord, RecordsImported, StoreError};

use super::{areas, check_manage, check_read, json};
use crate::{AppError, AppResult, AppState};

/// Parse and store a needs or resources file for a grid, all or nothing: by its grid team or a
/// community planner (`by`), or by the operator at the command line (`None`). Each row is keyed
/// by its source id (the optional `ref` column) or else its content (see
/// [`gridteam::need_key`], [`gridteam::resource_key`]): a re-import updates or leaves alone the
/// records it stored before, never adds them twice; a file naming one key twice is refused
/// with both lines.
pub async fn import(
    s: &AppState,
    city: CityCode,
    g: &Grid,
    list: &str,
    bytes: &[u8],
    by: Option<&Principal>,
) -> AppResult<RecordsImported> {
    if let Some(p) = by {
        check_manage(p, g)?;
    }
    let actor = by.map(|p| p.person_id);
    let table = Table::from_bytes(bytes).map_err(|e| StoreError::Lines(vec![e]))?;
    let records: Vec<NewRecord> = match list {
        "needs" => gridteam::parse_needs(&table, actor.map(|id| id.0))
            .map_err(StoreError::Lines)?
            .into_iter()
            .map(|n| NewRecord {
                list: GridList::Needs,
                area: g.code.to_string(),
                status: "open".into(),
                person: n.raised_by,
                body: json(&n),
            })
            .collect(),
        "resources" => gridteam::parse_resources(&table)
            .map_err(StoreError::Lines)?
            .into_iter()
            .map(|r| NewRecord {
                list: GridList::Resources,
                area: g.code.to_string(),
                status: "available".into(),
                person: r.person,
                body: json(&r),
            })
            .collect(),
        other => {
            return Err(AppError::invalid(format!(
                "list: '{other}' cannot be imported; import needs or resources (projects come from confirmed matches)"
            )))
        }
    };
    let (l, key, fields): (GridList, fn(&serde_json::Value) -> String, &[&str]) = if list == "needs" {
        (GridList::Needs, gridteam::need_key, gridteam::NEED_COLUMNS)
    } else {
        (GridList::Resources, gridteam::resource_key, gridteam::RESOURCE_COLUMNS)
    };
    let records = keyed(&table, records, key)?;
    Ok(s.store
        .import_grid_records(city, l, &[g.code.to_string()], &records, key, fields, actor)
        .await?)
}

/// The records of a file's rows (one each, in order) with their source ids (`ref`) in their
/// bodies, or the lines whose natural key an earlier line of the file has (naming both).
pub(crate) fn keyed(
    table: &Table,
    mut records: Vec<NewRecord>,
    key: fn(&serde_json::Value) -> String,
) -> Result<Vec<NewRecord>, StoreError> {
    let mut seen = SeenKeys::new("need or resource (its ref, or else its kind, text and place)", "ref");
    let mut errors = Vec::new();
    for (row, r) in table.rows.iter().zip(records.iter_mut()) {
        let column = match row.get("ref") {
            Some(reference) => {
                r.body["ref"] = reference.into();
                "ref"
            }
            None if r.list == GridList::Needs => "text",
            None => "title",
        };
        if let Err(e) = seen.check_on(key(&r.body), row.line, column) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(StoreError::Lines(errors))
    }
}

/// The CSV of a grid's needs, resources or projects (with id and status), for those who may
/// read the grid's lists (`by`), or for the operator at the command line (`None`).
pub async fn export(s: &AppState, city: CityCode, g: &Grid, list: &str, by: Option<&Principal>) -> AppResult<String> {
    if let Some(p) = by {
        check_read(s, p, g, GridList::Needs).await?;
    }
    let (l, columns): (GridList, Vec<&str>) = match list {
        "needs" => (GridList::Needs, gridteam::NEED_COLUMNS.to_vec()),
        "resources" => (GridList::Resources, gridteam::RESOURCE_COLUMNS.to_vec()),
        "projects" => (
            GridList::Projects,
            vec!["title", "need", "resource", "quantity", "reason", "outcome"],
        ),
        other => {
            return Err(AppError::invalid(format!(
                "list: '{other}' is not one of needs, resources, projects"
            )))
        }
    };
    let mut w = gongzhi_core::table::CsvWriter::from_writer(Vec::new());
    let header: Vec<&str> = ["id", "status"].into_iter().chain(columns.iter().copied()).collect();
    w.write_record(&header).map_err(|e| AppError::invalid(e.to_string()))?;
    for r in s.store.grid_records(city, l, &areas(g), None).await? {
        let mut row = vec![r.id.to_string(), r.status.clone()];
        for c in &columns {
            let v = &r.body[*c];
            row.push(match (c, v) {
                (_, serde_json::Value::Null) => String::new(),
                (_, serde_json::Value::String(x)) => x.clone(),
                (&"categories", serde_json::Value::Array(a)) => {
                    a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(";")
                }
                (&"windows", _) => {
                    let ws: Vec<gridteam::Window> = serde_json::from_value(v.clone()).unwrap_or_default();
                    gridteam::Window::format_list(&ws)
                }
                _ => v.to_string(),
            });
        }
        w.write_record(&row).map_err(|e| AppError::invalid(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Import a needs or resources file into a grid, for its grid team or a community planner.
pub async fn import_into(
    s: &AppState,
    p: &Principal,
    code: &str,
    list: &str,
    bytes: &[u8],
) -> AppResult<RecordsImported> {
    let g = super::grid(s, p, code).await?;
    import(s, p.city, &g, list, bytes, Some(p)).await
}

/// The CSV of a grid's needs, resources or projects, for those who may read the grid's lists.
pub async fn export_from(s: &AppState, p: &Principal, code: &str, list: &str) -> AppResult<String> {
    let g = super::grid(s, p, code).await?;
    export(s, p.city, &g, list, Some(p)).await
}
