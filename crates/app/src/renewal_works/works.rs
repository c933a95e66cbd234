//! Departments' planned works (JSON or a CSV/XLSX file, all or nothing) and the bundles of works
//! and delivery projects that meet in space and time, with their lead, schedule and savings and
//! the before/after report.

use std::collections::BTreeSet;

use gongzhi_core::access::Principal;
use gongzhi_core::import::ImportReport;
use gongzhi_core::org::OrgKind;
use gongzhi_core::renewal::works::{
    find_bundles, parse_works, place_report, works_csv, Bundle, BundleParams, Item, ItemRef, NewWork, PlaceReport,
    Window, WorkKind,
};
use gongzhi_core::table::Table;
use gongzhi_store::prelude::*;
use gongzhi_store::{BundleRow, StoreError, WorkRow, WorksImported};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{city_of, departments_for, is_staff, is_staff_somewhere, parse_day, place_of, require_staff};
use crate::{AppError, AppResult, AppState};

#[derive(Deserialize, IntoParams)]
pub struct CommunityQuery {
    /// The community (12 digits); all of the city when absent.
    pub community: Option<String>,
}

/// The planned works of a community (or the city) in the reader's city. Public.
pub async fn works(s: &AppState, p: Option<&Principal>, community: Option<&str>) -> AppResult<Vec<WorkRow>> {
    Ok(s.store.works(city_of(s, p), community).await?)
}

/// The works as a CSV file in the import's columns, and how many there are.
pub struct WorksCsv {
    pub count: usize,
    pub csv: String,
}

/// The planned works of a community (or the city) as a CSV file in the import's columns. Public.
pub async fn export(s: &AppState, p: Option<&Principal>, community: Option<&str>) -> AppResult<WorksCsv> {
    let works: Vec<NewWork> = works(s, p, community).await?.into_iter().map(|w| w.work).collect();
    Ok(WorksCsv {
        count: works.len(),
        csv: works_csv(&works),
    })
}

/// A work to register.
#[derive(Deserialize, ToSchema)]
pub struct NewWorkRequest {
    /// The department's own reference, unique per department.
    pub reference: String,
    pub title: String,
    /// road_resurfacing, pipe_replacement, drainage, gas, cabling, lighting, greening, paving,
    /// facade_painting, roofing (or the Chinese name).
    pub kind: String,
    pub community: String,
    /// The department (organisation id).
    pub department: i64,
    /// `YYYY-MM-DD`, both ends included.
    pub from: String,
    pub to: String,
    pub budget_cents: i64,
    /// A GeoJSON geometry (Point, LineString, Polygon) in WGS-84, as an object or its text.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
}

fn work_of(r: &NewWorkRequest) -> AppResult<NewWork> {
    if r.budget_cents < 0 {
        return Err(AppError::invalid("budget_cents: a budget cannot be negative"));
    }
    let reference = r.reference.trim();
    let title = r.title.trim();
    if reference.is_empty() || title.is_empty() {
        return Err(AppError::invalid("reference/title: give both"));
    }
    Ok(NewWork {
        reference: reference.to_owned(),
        title: title.to_owned(),
        kind: r.kind.parse::<WorkKind>()?,
        community: r.community.trim().to_owned(),
        department: r.department,
        place: place_of(&r.geometry)?,
        window: Window::new(parse_day("from", &r.from)?, parse_day("to", &r.to)?)?,
        budget_cents: r.budget_cents,
    })
}

/// Register one work (a department's handler for their department, renewal staff for any).
pub async fn create_work(s: &AppState, p: &Principal, r: &NewWorkRequest) -> AppResult<WorkRow> {
    let work = work_of(r)?;
    register(s, p, &[work], None, false)
        .await
        .map(|mut imported| imported.rows.remove(0))
}

/// The works an import names, in the file's order, and what it did (works by id).
pub struct ImportedWorks {
    pub rows: Vec<WorkRow>,
    pub report: ImportReport,
}

async fn register(
    s: &AppState,
    p: &Principal,
    works: &[NewWork],
    lines: Option<&[usize]>,
    reimport: bool,
) -> AppResult<ImportedWorks> {
    for w in works {
        if let Some(allowed) = departments_for(p, &w.community) {
            if !allowed.contains(&w.department) {
                return Err(AppError::forbidden(format!(
                    "you may register works for your own department only, not organisation {}",
                    w.department
                )));
            }
        }
    }
    let city = p.city;
    let imported = if reimport {
        s.store.import_works(city, works, lines, Some(p.person_id)).await?
    } else {
        WorksImported {
            ids: s.store.add_works(city, works, lines, Some(p.person_id)).await?,
            ..WorksImported::default()
        }
    };
    let mut rows = Vec::new();
    for id in imported.ids {
        rows.push(s.store.work(city, id).await?);
    }
    Ok(ImportedWorks {
        rows,
        report: imported.report,
    })
}

/// Import works from CSV or XLSX: `reference, title, kind, community, department, from, to,
/// budget_yuan, geometry` (GeoJSON). All or nothing; every wrong line is listed in the error's
/// details. A department's handler imports for their department, renewal staff for any. Keyed by
/// (department, reference): a re-import updates the works that differ and leaves the others
/// alone.
pub async fn import(s: &AppState, p: &Principal, body: &[u8]) -> AppResult<ImportedWorks> {
    let table = Table::from_bytes(body).map_err(|e| StoreError::Lines(vec![e]))?;
    // The departments allowed per line depend on the line's community; parse against the union
    // the principal may use, then check each work's community.
    let mut allowed: BTreeSet<i64> = p.units().into_iter().collect();
    let staff = is_staff_somewhere(p);
    if staff {
        allowed.extend(s.store.organisations(p.city, None).await?.into_iter().map(|o| o.id));
    }
    let works = parse_works(&table, &allowed).map_err(StoreError::Lines)?;
    let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
    register(s, p, &works, Some(&lines), true).await
}

/// An operator's import (the command line): works of any department of the city, all or
/// nothing (every wrong line in the error's items), keyed as [`import`]; the ids stored and the
/// report.
pub async fn import_table(s: &AppState, city: CityCode, table: &Table) -> AppResult<WorksImported> {
    let departments: BTreeSet<i64> = s
        .store
        .organisations(city, None)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let works = parse_works(table, &departments).map_err(StoreError::Lines)?;
    let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
    Ok(s.store.import_works(city, &works, Some(&lines), None).await?)
}

#[derive(Deserialize, IntoParams)]
pub struct BundleQuery {
    /// The community (12 digits); the whole city when absent (its bundles can only be accepted
    /// per community).
    pub community: Option<String>,
    /// Buffer distance in metres (default 50).
    pub buffer_m: Option<f64>,
    /// Largest gap between windows in days (default 30).
    pub gap_days: Option<i64>,
}

/// Proposed bundles (of items in no accepted bundle), accepted bundles and the report.
#[derive(Serialize, ToSchema)]
pub struct BundlesView {
    pub community: String,
    #[schema(value_type = Object)]
    pub params: BundleParams,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Item>,
    #[schema(value_type = Vec<Object>)]
    pub proposed: Vec<Bundle>,
    #[schema(value_type = Vec<Object>)]
    pub accepted: Vec<BundleRow>,
    pub report: Report,
}

/// Separate interventions before and after merging, per place.
#[derive(Serialize, ToSchema)]
pub struct Report {
    /// The community with the accepted bundles.
    #[schema(value_type = Object)]
    pub community: PlaceReport,
    /// The community if every proposed bundle were accepted too.
    #[schema(value_type = Object)]
    pub potential: PlaceReport,
    /// Each accepted bundle (`bundle N`) and proposed one (`proposed N`, from 1).
    #[schema(value_type = Vec<Object>)]
    pub bundles: Vec<PlaceReport>,
}

async fn bundles_view(
    s: &AppState,
    city: CityCode,
    community: Option<&str>,
    params: BundleParams,
) -> AppResult<BundlesView> {
    let all: Vec<(Item, Option<i64>)> = match community {
        Some(c) => s.store.renewal_items(city, c).await?,
        None => {
            let mut all: Vec<(Item, Option<i64>)> = s
                .store
                .works(city, None)
                .await?
                .into_iter()
                .map(|w| (w.item(), w.bundle))
                .collect();
            all.extend(
                s.store
                    .deliveries(city, None)
                    .await?
                    .into_iter()
                    .map(|d| (d.item(), d.bundle)),
            );
            all
        }
    };
    let place = community.unwrap_or(city.as_str());
    let loose: Vec<Item> = all
        .iter()
        .filter(|(_, b)| b.is_none())
        .map(|(i, _)| i.clone())
        .collect();
    let items: Vec<Item> = all.into_iter().map(|(i, _)| i).collect();
    let proposed = find_bundles(&loose, &params);
    let accepted = s.store.bundles(city, community).await?;
    let accepted_bundles: Vec<Bundle> = accepted.iter().map(|b| b.bundle.clone()).collect();
    let both: Vec<Bundle> = accepted_bundles.iter().chain(&proposed).cloned().collect();
    let of = |b: &Bundle| -> Vec<Item> { items.iter().filter(|i| b.items.contains(&i.key)).cloned().collect() };
    let mut per_bundle: Vec<PlaceReport> = accepted
        .iter()
        .map(|b| {
            place_report(
                &format!("bundle {}", b.id),
                &of(&b.bundle),
                std::slice::from_ref(&b.bundle),
            )
        })
        .collect();
    per_bundle.extend(
        proposed
            .iter()
            .enumerate()
            .map(|(i, b)| place_report(&format!("proposed {}", i + 1), &of(b), std::slice::from_ref(b))),
    );
    Ok(BundlesView {
        community: place.to_owned(),
        params,
        report: Report {
            community: place_report(place, &items, &accepted_bundles),
            potential: place_report(place, &items, &both),
            bundles: per_bundle,
        },
        items,
        proposed,
        accepted,
    })
}

fn params_of(buffer_m: Option<f64>, gap_days: Option<i64>) -> AppResult<BundleParams> {
    let d = BundleParams::default();
    Ok(BundleParams::new(
        buffer_m.unwrap_or(d.buffer_m),
        gap_days.unwrap_or(d.gap_days),
    )?)
}

/// Bundles of a community (or the reader's city): the proposed ones with lead, schedule and
/// savings, the accepted ones, and the before/after report. Public.
pub async fn bundles(s: &AppState, p: Option<&Principal>, q: &BundleQuery) -> AppResult<BundlesView> {
    let params = params_of(q.buffer_m, q.gap_days)?;
    bundles_view(s, city_of(s, p), q.community.as_deref(), params).await
}

/// The bundles of one community that must exist (the department page, the command line).
pub async fn community_bundles(
    s: &AppState,
    p: Option<&Principal>,
    community: &str,
    params: BundleParams,
) -> AppResult<BundlesView> {
    let city = city_of(s, p);
    s.store.require_community(city, community).await?;
    bundles_view(s, city, Some(community), params).await
}

/// What the department page of a community shows: its bundles, whether the reader is renewal
/// staff there, and the departments the reader may register works for.
pub struct WorksOverview {
    pub view: BundlesView,
    pub params: BundleParams,
    pub staff: bool,
    /// The functional departments (id, name) the reader may register works for: all for staff,
    /// else their own.
    pub departments: Vec<(i64, String)>,
}

/// The department page of a community (which must exist): works, bundles with the given (or
/// default) parameters, report, delivery projects, and what the reader may do there.
pub async fn overview(
    s: &AppState,
    p: Option<&Principal>,
    community: &str,
    buffer_m: Option<f64>,
    gap_days: Option<i64>,
) -> AppResult<WorksOverview> {
    let city = city_of(s, p);
    s.store.require_community(city, community).await?;
    let params = params_of(buffer_m, gap_days)?;
    let view = bundles_view(s, city, Some(community), params).await?;
    let staff = p.is_some_and(|p| is_staff(p, community));
    let units = p.map(|p| p.units()).unwrap_or_default();
    let orgs = s.store.organisations(city, Some(OrgKind::FunctionalDepartment)).await?;
    let departments: Vec<(i64, String)> = orgs
        .into_iter()
        .filter(|o| staff || units.contains(&o.id))
        .map(|o| (o.id, o.name))
        .collect();
    Ok(WorksOverview {
        view,
        params,
        staff,
        departments,
    })
}

/// A proposed bundle to accept, named by its items.
#[derive(Deserialize, ToSchema)]
pub struct AcceptBundle {
    pub community: String,
    /// The items, as `work:ID` and `delivery:ID`.
    pub items: Vec<String>,
    pub buffer_m: Option<f64>,
    pub gap_days: Option<i64>,
}

/// Accept a proposed bundle: it becomes one tracked project (renewal staff). The items must be
/// exactly those of a bundle proposed with the same parameters.
pub async fn accept_bundle(s: &AppState, p: &Principal, r: &AcceptBundle) -> AppResult<BundleRow> {
    require_staff(p, &r.community)?;
    let params = params_of(r.buffer_m, r.gap_days)?;
    let mut wanted = r
        .items
        .iter()
        .map(|i| i.parse::<ItemRef>())
        .collect::<Result<Vec<_>, _>>()?;
    wanted.sort();
    wanted.dedup();
    let city = p.city;
    let view = bundles_view(s, city, Some(&r.community), params).await?;
    let Some(bundle) = view.proposed.iter().find(|b| b.items == wanted) else {
        if view
            .accepted
            .iter()
            .any(|b| wanted.iter().any(|w| b.bundle.items.contains(w)))
        {
            return Err(AppError::conflict(
                "some of these items are already in an accepted bundle",
            ));
        }
        return Err(AppError::invalid(format!(
            "items: {} is not a proposed bundle with these parameters; proposed: {}",
            wanted.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", "),
            view.proposed
                .iter()
                .map(|b| format!(
                    "[{}]",
                    b.items.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ")
                ))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    };
    let id = s
        .store
        .accept_bundle(city, &r.community, bundle, &params, Some(p.person_id))
        .await?;
    Ok(s.store.bundle(city, id).await?)
}

/// An accepted bundle with its items and its before/after report.
#[derive(Serialize, ToSchema)]
pub struct BundleDetail {
    #[schema(value_type = Object)]
    pub bundle: BundleRow,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Item>,
    #[schema(value_type = Object)]
    pub report: PlaceReport,
}

/// An accepted bundle of the reader's city with its items and report. Public.
pub async fn bundle(s: &AppState, p: Option<&Principal>, id: i64) -> AppResult<BundleDetail> {
    let city = city_of(s, p);
    let bundle = s.store.bundle(city, id).await?;
    let items: Vec<Item> = s
        .store
        .renewal_items(city, &bundle.community)
        .await?
        .into_iter()
        .filter(|(_, b)| *b == Some(id))
        .map(|(i, _)| i)
        .collect();
    let report = place_report(&format!("bundle {id}"), &items, std::slice::from_ref(&bundle.bundle));
    Ok(BundleDetail { bundle, items, report })
}

/// [`bundle`], which must be of `community` (the bundle's page), else not found.
pub async fn bundle_in(s: &AppState, p: Option<&Principal>, community: &str, id: i64) -> AppResult<BundleDetail> {
    let d = bundle(s, p, id).await?;
    if d.bundle.community != community {
        return Err(AppError::not_found(format!("bundle {id} in community {community}")));
    }
    Ok(d)
}
