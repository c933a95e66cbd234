//! Department works and accepted bundles (see `gongzhi_core::renewal::works`). A work's changes
//! go to the stream `renewal_work:ID`, a bundle's to `renewal_bundle:ID`; accepting a bundle marks
//! its items (works and delivery projects) in the same transaction, each with an event.

use gongzhi_core::ids::PersonId;
use gongzhi_core::import::ImportReport;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use std::collections::BTreeSet;

use crate::write::Write;
use chrono::NaiveDate;
use gongzhi_core::renewal::works::{
    self as works_core, Bundle, BundleParams, Item, ItemRef, Membership, MembershipAction, NewWork, Place, Window,
    WorkKind,
};
use gongzhi_core::table::LineError;
use gongzhi_core::territory::Level;
use gongzhi_core::DomainError;
use serde::Serialize;

use super::refused;
use crate::{events, now_ms, Store, StoreError};

/// What an import of works did: the id of each row's work, in the file's order, and the report
/// (works named by id).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorksImported {
    pub ids: Vec<i64>,
    pub report: ImportReport,
}

/// A stored work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkRow {
    pub id: i64,
    #[serde(flatten)]
    pub work: NewWork,
    /// The accepted bundle it belongs to.
    pub bundle: Option<i64>,
}

impl WorkRow {
    pub fn item(&self) -> Item {
        Item {
            key: ItemRef::Work(self.id),
            title: self.work.title.clone(),
            kind: self.work.kind,
            place: self.work.place.clone(),
            window: self.work.window,
            budget_cents: self.work.budget_cents,
            department: Some(self.work.department),
        }
    }
}

/// An accepted bundle, tracked as one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleRow {
    pub id: i64,
    pub community: String,
    #[serde(flatten)]
    pub bundle: Bundle,
    pub params: BundleParams,
    /// Unix milliseconds.
    pub accepted_at: i64,
}

pub(crate) fn bad_stored(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(DomainError::invalid(what, format!("stored value unreadable: {e}")))
}

pub(crate) fn day(s: &str) -> Result<NaiveDate, StoreError> {
    s.parse().map_err(|e| bad_stored("date", e))
}

pub(crate) fn window(from: &str, to: &str) -> Result<Window, StoreError> {
    Ok(Window {
        from: day(from)?,
        to: day(to)?,
    })
}

type WorkTuple = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

fn work_of(r: WorkTuple) -> Result<WorkRow, StoreError> {
    let (id, community, department, reference, title, kind, geometry, from, to, budget_cents, bundle) = r;
    Ok(WorkRow {
        id,
        work: NewWork {
            reference,
            title,
            kind: kind.parse::<WorkKind>()?,
            community,
            department,
            place: Place::from_geojson(&geometry)?,
            window: window(&from, &to)?,
            budget_cents,
        },
        bundle,
    })
}

const WORK_COLUMNS: &str =
    "id, community, department, reference, title, kind, geometry, date_from, date_to, budget_cents, bundle";

/// Renewal works and bundles.
pub trait WorkStore {
    /// Refuse a community code that is not a community of the register.
    fn require_community(&self, city: CityCode, community: &str)
        -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Register works, all or nothing. `lines` gives each work's line in its file (for errors);
    /// without it works are numbered from 1. Unknown communities and departments, and references
    /// a department already used, are refused with their line.
    fn add_works(
        &self,
        city: CityCode,
        works: &[NewWork],
        lines: Option<&[usize]>,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Import works keyed by (department, reference) (issue 20), all or nothing: a new key is
    /// registered as [`WorkStore::add_works`] does; a stored work is updated when the file
    /// differs (one `work_reimported` event naming the changed fields) and left alone when not
    /// (no write, no event). A key twice in `works` is refused with both lines; a work in an
    /// accepted bundle cannot move to another community.
    fn import_works(
        &self,
        city: CityCode,
        works: &[NewWork],
        lines: Option<&[usize]>,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<WorksImported, StoreError>> + Send;
    /// The works of a community (all the city's without one), by id.
    fn works(
        &self,
        city: CityCode,
        community: Option<&str>,
    ) -> impl Future<Output = Result<Vec<WorkRow>, StoreError>> + Send;
    fn work(&self, city: CityCode, id: i64) -> impl Future<Output = Result<WorkRow, StoreError>> + Send;
    /// Every work and delivery project of a community as bundling sees them, with the accepted
    /// bundle each belongs to.
    fn renewal_items(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<Vec<(Item, Option<i64>)>, StoreError>> + Send;
    /// Accept a bundle: it is stored and its items are marked as one project, in one transaction.
    /// An item already in an accepted bundle, or not of this community, is a conflict (409).
    fn accept_bundle(
        &self,
        city: CityCode,
        community: &str,
        bundle: &Bundle,
        params: &BundleParams,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The accepted bundles of a community (all the city's without one).
    fn bundles(
        &self,
        city: CityCode,
        community: Option<&str>,
    ) -> impl Future<Output = Result<Vec<BundleRow>, StoreError>> + Send;
    fn bundle(&self, city: CityCode, id: i64) -> impl Future<Output = Result<BundleRow, StoreError>> + Send;
}

/// Register works (`reimport`: update or skip those whose (department, reference) is stored).
async fn put_works(
    store: &Store,
    city: CityCode,
    works: &[NewWork],
    lines: Option<&[usize]>,
    actor: Option<PersonId>,
    reimport: bool,
) -> Result<WorksImported, StoreError> {
    let line = |i: usize| lines.and_then(|l| l.get(i).copied()).unwrap_or(i + 1);
    let mut errors = Vec::new();
    let communities: BTreeSet<&str> = works.iter().map(|w| w.community.as_str()).collect();
    let mut bad_communities = BTreeSet::new();
    for c in communities {
        if store.require_community(city, c).await.is_err() {
            bad_communities.insert(c.to_owned());
        }
    }
    let departments: BTreeSet<i64> = works.iter().map(|w| w.department).collect();
    let mut bad_departments = BTreeSet::new();
    for d in departments {
        if store.organisation(city, d).await?.is_none() {
            bad_departments.insert(d);
        }
    }
    let mut tx = store.write().await?;
    let mut keys: std::collections::HashMap<(i64, &str), usize> = std::collections::HashMap::new();
    let mut stored: std::collections::HashMap<usize, WorkRow> = std::collections::HashMap::new();
    let mut report = ImportReport::default();
    for (i, w) in works.iter().enumerate() {
        let err = |column: &str, message: String| LineError {
            line: line(i),
            column: Some(column.to_owned()),
            message,
        };
        if bad_communities.contains(&w.community) {
            errors.push(err(
                "community",
                format!("{} is not a community of the register", w.community),
            ));
        }
        if bad_departments.contains(&w.department) {
            errors.push(err(
                "department",
                format!("organisation {} does not exist", w.department),
            ));
        }
        let taken: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM renewal_works WHERE city = $1 AND department = $2 AND reference = $3")
                .bind(city.as_str())
                .bind(w.department)
                .bind(&w.reference)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(&first) = keys.get(&(w.department, w.reference.as_str())) {
            errors.push(err(
                "reference",
                format!(
                    "{} is already given on line {}; each work once",
                    w.reference,
                    line(first)
                ),
            ));
            continue;
        }
        keys.insert((w.department, w.reference.as_str()), i);
        match taken {
            Some((id,)) if !reimport => errors.push(err(
                "reference",
                format!(
                    "the department already registered {} (work {id}); give a new reference",
                    w.reference
                ),
            )),
            Some((id,)) => {
                let old: WorkTuple = sqlx::query_as(&format!(
                    "SELECT {WORK_COLUMNS} FROM renewal_works WHERE city = $1 AND id = $2"
                ))
                .bind(city.as_str())
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let old = work_of(old)?;
                if old.bundle.is_some() && old.work.community != w.community {
                    errors.push(err(
                        "community",
                        format!(
                            "work {id} is in an accepted bundle of {}; it cannot move",
                            old.work.community
                        ),
                    ));
                }
                stored.insert(i, old);
            }
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Lines(errors));
    }
    let mut ids = Vec::with_capacity(works.len());
    for (i, w) in works.iter().enumerate() {
        if let Some(old) = stored.get(&i) {
            ids.push(old.id);
            let o = &old.work;
            let mut changed = Vec::new();
            for (field, differs) in [
                ("title", o.title != w.title),
                ("kind", o.kind != w.kind),
                ("community", o.community != w.community),
                ("geometry", o.place.to_geojson() != w.place.to_geojson()),
                ("from", o.window.from != w.window.from),
                ("to", o.window.to != w.window.to),
                ("budget", o.budget_cents != w.budget_cents),
            ] {
                if differs {
                    changed.push(field);
                }
            }
            if changed.is_empty() {
                report.unchanged.push(old.id.to_string());
                continue;
            }
            sqlx::query(
                "UPDATE renewal_works SET community = $1, title = $2, kind = $3, geometry = $4, date_from = $5, date_to = $6,
                   budget_cents = $7 WHERE city = $8 AND id = $9",
            )
            .bind(&w.community)
            .bind(&w.title)
            .bind(w.kind.as_str())
            .bind(w.place.to_geojson())
            .bind(w.window.from.to_string())
            .bind(w.window.to.to_string())
            .bind(w.budget_cents)
            .bind(city.as_str())
            .bind(old.id)
            .execute(&mut *tx)
            .await?;
            events::append(
                &mut tx,
                city,
                &format!("renewal_work:{}", old.id),
                "work_reimported",
                actor,
                None,
                None,
                &serde_json::json!({ "changed": changed, "work": w }),
            )
            .await?;
            report.updated.push(old.id.to_string());
            continue;
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_works (city, community, department, reference, title, kind, geometry, date_from, date_to, budget_cents, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&w.community)
        .bind(w.department)
        .bind(&w.reference)
        .bind(&w.title)
        .bind(w.kind.as_str())
        .bind(w.place.to_geojson())
        .bind(w.window.from.to_string())
        .bind(w.window.to.to_string())
        .bind(w.budget_cents)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_insert(e, || format!("work {} exists already", w.reference)))?;
        events::append(
            &mut tx,
            city,
            &format!("renewal_work:{id}"),
            "work_registered",
            actor,
            None,
            None,
            &serde_json::to_value(w).unwrap_or_default(),
        )
        .await?;
        ids.push(id);
        report.added.push(id.to_string());
    }
    if report.is_noop() {
        // Every work is stored as the file has it: nothing was written.
        tx.commit_unlogged().await?;
    } else {
        tx.commit().await?;
    }
    Ok(WorksImported { ids, report })
}

impl WorkStore for Store {
    async fn require_community(&self, city: CityCode, community: &str) -> Result<(), StoreError> {
        let known = self
            .division(city, community)
            .await?
            .is_some_and(|d| d.level == Level::Community);
        if known {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "community",
                format!("{community} is not a community of the division register of {city}"),
            )
            .into())
        }
    }

    async fn add_works(
        &self,
        city: CityCode,
        works: &[NewWork],
        lines: Option<&[usize]>,
        actor: Option<PersonId>,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(put_works(self, city, works, lines, actor, false).await?.ids)
    }

    async fn import_works(
        &self,
        city: CityCode,
        works: &[NewWork],
        lines: Option<&[usize]>,
        actor: Option<PersonId>,
    ) -> Result<WorksImported, StoreError> {
        put_works(self, city, works, lines, actor, true).await
    }

    async fn works(&self, city: CityCode, community: Option<&str>) -> Result<Vec<WorkRow>, StoreError> {
        let rows: Vec<WorkTuple> = match community {
            Some(c) => {
                sqlx::query_as(&format!(
                    "SELECT {WORK_COLUMNS} FROM renewal_works WHERE city = $1 AND community = $2 ORDER BY id"
                ))
                .bind(city.as_str())
                .bind(c)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {WORK_COLUMNS} FROM renewal_works WHERE city = $1 ORDER BY id"
                ))
                .bind(city.as_str())
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(work_of).collect()
    }

    async fn work(&self, city: CityCode, id: i64) -> Result<WorkRow, StoreError> {
        let row: Option<WorkTuple> = sqlx::query_as(&format!(
            "SELECT {WORK_COLUMNS} FROM renewal_works WHERE city = $1 AND id = $2"
        ))
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        work_of(row.ok_or_else(|| StoreError::NotFound(format!("work {id}")))?)
    }

    async fn renewal_items(&self, city: CityCode, community: &str) -> Result<Vec<(Item, Option<i64>)>, StoreError> {
        let mut out: Vec<(Item, Option<i64>)> = self
            .works(city, Some(community))
            .await?
            .into_iter()
            .map(|w| (w.item(), w.bundle))
            .collect();
        for d in self.deliveries(city, Some(community)).await? {
            out.push((d.item(), d.bundle));
        }
        Ok(out)
    }

    async fn accept_bundle(
        &self,
        city: CityCode,
        community: &str,
        bundle: &Bundle,
        params: &BundleParams,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        for item in &bundle.items {
            let (table, id) = table_of(item);
            let row: Option<(String, Option<i64>)> = sqlx::query_as(&format!(
                "SELECT community, bundle FROM {table} WHERE city = $1 AND id = $2"
            ))
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                None => return Err(StoreError::NotFound(item.to_string())),
                Some((c, _)) if c != community => {
                    return Err(StoreError::Conflict(format!(
                        "{item} is in community {c}, not {community}"
                    )))
                }
                Some((_, bundled)) => {
                    works_core::decide(Membership::of(bundled), MembershipAction::Merge).map_err(|r| {
                        let b = bundled.map_or_else(String::new, |b| format!(" {b}"));
                        refused(
                            format_args!("{item} is already in accepted bundle{b}; a work is merged once"),
                            r,
                        )
                    })?;
                }
            }
        }
        let body = serde_json::to_string(bundle).map_err(|e| bad_stored("bundle", e))?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_bundles (city, community, lead, lead_department, body, params, accepted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(city.as_str())
        .bind(community)
        .bind(bundle.lead.to_string())
        .bind(bundle.lead_department)
        .bind(body)
        .bind(serde_json::to_string(params).map_err(|e| bad_stored("params", e))?)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        for item in &bundle.items {
            let (table, item_id) = table_of(item);
            sqlx::query(&format!("UPDATE {table} SET bundle = $1 WHERE city = $2 AND id = $3"))
                .bind(id)
                .bind(city.as_str())
                .bind(item_id)
                .execute(&mut *tx)
                .await?;
            append_item(
                &mut tx,
                city,
                item,
                "merged_into_bundle",
                actor,
                &serde_json::json!({ "bundle": id }),
            )
            .await?;
        }
        events::append(
            &mut tx,
            city,
            &format!("renewal_bundle:{id}"),
            "bundle_accepted",
            actor,
            None,
            None,
            &serde_json::json!({ "community": community, "items": bundle.items, "lead": bundle.lead, "window": bundle.window, "savings": bundle.savings, "params": params }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn bundles(&self, city: CityCode, community: Option<&str>) -> Result<Vec<BundleRow>, StoreError> {
        let rows: Vec<(i64, String, String, String, i64)> = match community {
            Some(c) => sqlx::query_as(
                "SELECT id, community, body, params, accepted_at FROM renewal_bundles WHERE city = $1 AND community = $2 ORDER BY id",
            )
            .bind(city.as_str())
            .bind(c)
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query_as(
                "SELECT id, community, body, params, accepted_at FROM renewal_bundles WHERE city = $1 ORDER BY id",
            )
            .bind(city.as_str())
            .fetch_all(&self.pool)
            .await?,
        };
        rows.into_iter()
            .map(|(id, community, body, params, accepted_at)| {
                Ok(BundleRow {
                    id,
                    community,
                    bundle: serde_json::from_str(&body).map_err(|e| bad_stored("bundle", e))?,
                    params: serde_json::from_str(&params).map_err(|e| bad_stored("params", e))?,
                    accepted_at,
                })
            })
            .collect()
    }

    async fn bundle(&self, city: CityCode, id: i64) -> Result<BundleRow, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT community FROM renewal_bundles WHERE city = $1 AND id = $2")
                .bind(city.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let (community,) = row.ok_or_else(|| StoreError::NotFound(format!("bundle {id}")))?;
        self.bundles(city, Some(&community))
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("bundle {id}")))
    }
}

fn table_of(item: &ItemRef) -> (&'static str, i64) {
    match item {
        ItemRef::Work(id) => ("renewal_works", *id),
        ItemRef::Delivery(id) => ("renewal_deliveries", *id),
    }
}

async fn append_item(
    tx: &mut Write<'_>,
    city: CityCode,
    item: &ItemRef,
    kind: &str,
    actor: Option<PersonId>,
    payload: &serde_json::Value,
) -> Result<i64, StoreError> {
    let stream = match item {
        ItemRef::Work(id) => format!("renewal_work:{id}"),
        ItemRef::Delivery(id) => format!("renewal_delivery:{id}"),
    };
    events::append(tx, city, &stream, kind, actor, None, None, payload).await
}
