//! Holder and resource files (CSV or XLSX), all or nothing with line errors.
//!
//! Holders: one row per holding, the holder's columns repeated on each of its rows:
//! `holder, name, kind, members, contested, representatives, sticking_points, unit, area_m2,
//! common_share` — `representatives` separated by `;`, `sticking_points` as `code:severity;…`
//! (severity 1–3, default 2), `common_share` a decimal fraction of the common parts (`0.0125`),
//! `area_m2` optional (the unit's area in the premises register when empty).
//!
//! Resources: `code, name, kind (formal/informal), category, holder, capacity (empty: no
//! limit), cost, addresses (codes separated by ;), scarce (yes/no)`.

use std::collections::BTreeMap;

use super::{Catalogue, Holder, HolderKind, Holding, Resource, ResourceKind, Sticking};
use crate::premises::Area;
use crate::table::{LineError, Row, Table};

/// A holder read from a file, with the line of each holding (for the store's unit checks) and
/// whether the holding's area was given.
#[derive(Debug, Clone)]
pub struct ImportedHolder {
    pub holder: Holder,
    pub lines: Vec<usize>,
    pub area_given: Vec<bool>,
}

fn flag(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "是" => Some(true),
        "no" | "n" | "false" | "0" | "否" => Some(false),
        _ => None,
    }
}

/// A share of the common parts as a decimal fraction (at most 6 decimals) → millionths.
fn share_ppm(s: &str) -> Option<u32> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if frac.len() > 6 || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: u64 = format!("{frac:0<6}").parse().ok()?;
    let v = whole * 1_000_000 + frac;
    (v <= 1_000_000).then_some(v as u32)
}

fn list(s: Option<&str>) -> Vec<String> {
    s.map(|s| {
        s.split([';', '；'])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

fn sticking(row: &Row, catalogue: &Catalogue) -> Result<Vec<Sticking>, LineError> {
    let mut out: Vec<Sticking> = Vec::new();
    for item in list(row.get("sticking_points")) {
        let (code, severity) = match item.split_once(':') {
            Some((c, s)) => (
                c.trim().to_owned(),
                s.trim().parse::<u8>().ok().filter(|s| (1..=3).contains(s)),
            ),
            None => (item.clone(), Some(2)),
        };
        let Some(severity) = severity else {
            return Err(row.error(
                "sticking_points",
                format!("'{item}': the severity after ':' must be 1, 2 or 3"),
            ));
        };
        if catalogue.get(&code).is_none() {
            return Err(row.error(
                "sticking_points",
                format!(
                    "'{code}' is not in the project's sticking-point catalogue ({})",
                    catalogue
                        .0
                        .iter()
                        .map(|k| k.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if out.iter().any(|s| s.code == code) {
            return Err(row.error("sticking_points", format!("'{code}' is given twice")));
        }
        out.push(Sticking { code, severity });
    }
    Ok(out)
}

fn holder_of(row: &Row, catalogue: &Catalogue) -> Result<Holder, Vec<LineError>> {
    let mut errors = Vec::new();
    let code = row.required("holder").map_err(|e| errors.push(e)).ok();
    let name = row.required("name").map_err(|e| errors.push(e)).ok();
    let kind = row
        .required("kind")
        .and_then(|k| k.parse::<HolderKind>().map_err(|e| row.error("kind", e.to_string())))
        .map_err(|e| errors.push(e))
        .ok();
    let members = row
        .parse_opt("members", "a whole number of people", |s| s.parse::<u32>().ok())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .unwrap_or(1);
    let contested = row
        .parse_opt("contested", "yes or no", flag)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .unwrap_or(false);
    let sticking = sticking(row, catalogue).map_err(|e| errors.push(e)).ok();
    match (code, name, kind, sticking) {
        (Some(code), Some(name), Some(kind), Some(sticking)) if errors.is_empty() => Ok(Holder {
            code: code.into(),
            name: name.into(),
            kind,
            members,
            contested,
            organisation_override: None,
            scenario_override: None,
            representatives: list(row.get("representatives")),
            sticking,
            holdings: Vec::new(),
        }),
        _ => Err(errors),
    }
}

/// Read a holders file against the project's catalogue. Every wrong line is reported.
pub fn parse_holders(table: &Table, catalogue: &Catalogue) -> Result<Vec<ImportedHolder>, Vec<LineError>> {
    table
        .require_columns(&["holder", "name", "kind", "unit"])
        .map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out: Vec<ImportedHolder> = Vec::new();
    let mut index: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut units: BTreeMap<String, usize> = BTreeMap::new();
    for row in &table.rows {
        let holder = match holder_of(row, catalogue) {
            Ok(h) => h,
            Err(e) => {
                errors.extend(e);
                continue;
            }
        };
        let unit = match row.required("unit") {
            Ok(u) => u.to_owned(),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(first) = units.insert(unit.clone(), row.line) {
            errors.push(row.error(
                "unit",
                format!("unit {unit} is already held on line {first}; give each holding its own row once"),
            ));
            continue;
        }
        let area = match row.parse_opt("area_m2", "an area in m² (e.g. 85.37)", |s| s.parse::<Area>().ok()) {
            Ok(a) => a,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let share = match row.parse_opt("common_share", "a fraction between 0 and 1 (e.g. 0.0125)", share_ppm) {
            Ok(s) => s.unwrap_or(0),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let holding = Holding {
            unit,
            area: area.unwrap_or(Area::ZERO),
            common_share_ppm: share,
        };
        match index.get(&holder.code) {
            Some(&(i, first)) => {
                let mut same = out[i].holder.clone();
                same.holdings.clear();
                if same != holder {
                    errors.push(row.error(
                        "holder",
                        format!(
                            "holder {} is described differently on line {first}; repeat the same values",
                            holder.code
                        ),
                    ));
                    continue;
                }
                out[i].holder.holdings.push(holding);
                out[i].lines.push(row.line);
                out[i].area_given.push(area.is_some());
            }
            None => {
                index.insert(holder.code.clone(), (out.len(), row.line));
                let mut holder = holder;
                holder.holdings.push(holding);
                out.push(ImportedHolder {
                    holder,
                    lines: vec![row.line],
                    area_given: vec![area.is_some()],
                });
            }
        }
    }
    if out.is_empty() && errors.is_empty() {
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

fn resource_of(row: &Row, catalogue: &Catalogue) -> Result<Resource, Vec<LineError>> {
    let mut errors = Vec::new();
    fn keep<T>(errors: &mut Vec<LineError>, r: Result<T, LineError>) -> Option<T> {
        r.map_err(|e| errors.push(e)).ok()
    }
    let code = keep(&mut errors, row.required("code").map(str::to_owned));
    let name = keep(&mut errors, row.required("name").map(str::to_owned));
    let kind = keep(
        &mut errors,
        row.required("kind")
            .and_then(|k| k.parse::<ResourceKind>().map_err(|e| row.error("kind", e.to_string()))),
    );
    let capacity = keep(
        &mut errors,
        row.parse_opt("capacity", "a whole number of uses (empty: no limit)", |s| {
            s.parse::<u32>().ok()
        }),
    );
    let cost = keep(
        &mut errors,
        row.parse_opt("cost", "a whole number of yuan", |s| {
            s.parse::<i64>().ok().filter(|c| *c >= 0)
        }),
    );
    let scarce = keep(&mut errors, row.parse_opt("scarce", "yes or no", flag));
    let addresses = list(row.get("addresses"));
    for a in &addresses {
        if catalogue.get(a).is_none() {
            errors.push(row.error(
                "addresses",
                format!("'{a}' is not in the project's sticking-point catalogue"),
            ));
        }
    }
    if addresses.is_empty() {
        errors.push(row.error(
            "addresses",
            "name the sticking points it addresses (codes separated by ;)",
        ));
    }
    match (code, name, kind, capacity, cost, scarce) {
        (Some(code), Some(name), Some(kind), Some(capacity), Some(cost), Some(scarce)) if errors.is_empty() => {
            Ok(Resource {
                code,
                name,
                kind,
                category: row.get("category").unwrap_or("").into(),
                holder: row.get("holder").unwrap_or("").into(),
                capacity,
                cost: cost.unwrap_or(0),
                addresses,
                scarce: scarce.unwrap_or(false),
            })
        }
        _ => Err(errors),
    }
}

/// Read a resources file against the project's catalogue.
pub fn parse_resources(table: &Table, catalogue: &Catalogue) -> Result<Vec<Resource>, Vec<LineError>> {
    table
        .require_columns(&["code", "name", "kind", "addresses"])
        .map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out: Vec<Resource> = Vec::new();
    let mut lines: BTreeMap<String, usize> = BTreeMap::new();
    for row in &table.rows {
        match resource_of(row, catalogue) {
            Ok(r) => {
                if let Some(first) = lines.insert(r.code.clone(), row.line) {
                    errors.push(row.error("code", format!("resource {} is already on line {first}", r.code)));
                } else {
                    out.push(r);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    if out.is_empty() && errors.is_empty() {
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
