//! Bulk writes of whole case histories (replays of a year, imports, benchmarks), and the
//! id-ordered reads that exports page through.
//!
//! [`Store::import_case_histories`] writes what the one-case path ([`Store::create_case`] and
//! [`Store::change_cases`]) would have written for the same events — the `cases` row with its
//! folded snapshot, the `events` rows of the `case:ID` stream, the co-units of a whistle and the
//! indicator counters per (dimension, key, day) — but per batch of cases in one transaction, with
//! multi-row `INSERT` statements, and with the counters summed in memory first. Counter rows and
//! their dimension keys come from the same functions as the one-case path.

use gongzhi_core::ids::CaseId;
use gongzhi_core::territory::CityCode;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;

use crate::write::Write;
use gongzhi_core::case::{Case, CaseEvent, Recorded};
use gongzhi_core::indicators::Counters;
use gongzhi_core::DomainError;
use sqlx::pool::PoolConnection;
use sqlx::Any;

use crate::cases::{
    case_from_row, counter_keys, day_of, insert_case, reason_of, CaseRow, CaseTuple, NewCase, CASE_COLUMNS,
};
use crate::events;
use crate::{Backend, ImportProgress, Store, StoreError};

/// A case's whole history, to import in bulk.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseHistory {
    /// The id the events use for this case when they name a case (a merge: `MergedInto`,
    /// `DuplicateMerged`). Any positive number unique within one import: the stored case gets a
    /// new id and references to keys are rewritten to it.
    pub key: i64,
    /// The events, oldest first; the first is the report (`Collected`).
    pub events: Vec<Recorded>,
    /// The smallest division responsible for the location (see [`crate::CaseRow::area`]).
    pub area: String,
    /// The person who reported it, when known.
    pub reporter: Option<i64>,
}

/// What a bulk import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkImported {
    pub cases: u64,
    pub events: u64,
    /// Counter rows inserted or added to (after summing per dimension, key and day in memory).
    pub counter_rows: u64,
    /// The ids given to the first and last case (ids are consecutive within a batch).
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
}

/// Cases per transaction (a batch grows past it only to keep merged cases together).
pub const BATCH_CASES: usize = 2_000;

/// Bind parameters per statement: SQLite's limit (32,766); PostgreSQL allows 65,535.
const MAX_PARAMS: usize = 32_766;

/// One bound value of a multi-row statement.
enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Real(f64),
    Text(String),
    OptText(Option<String>),
}

/// Insert `rows` (each `cols.len()` values) with as few statements as the parameter limit
/// allows; `suffix` follows the VALUES list (e.g. an ON CONFLICT clause).
///
/// SQLite gets positional `?` parameters: it takes `$N` for a named parameter and looks each
/// name up among the previous ones, which is quadratic in a statement of thousands.
async fn insert_rows(
    tx: &mut Write<'_>,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Val>>,
    suffix: &str,
) -> Result<(), StoreError> {
    let per = (MAX_PARAMS / cols.len()).max(1);
    let positional = tx.backend_name() == "SQLite";
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..cols.len() {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                if positional {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push(')');
        }
        sql.push_str(suffix);
        let mut q = sqlx::query(&sql);
        for v in chunk.into_iter().flatten() {
            q = match v {
                Val::Int(i) => q.bind(i),
                Val::OptInt(i) => q.bind(i),
                Val::Real(f) => q.bind(f),
                Val::Text(s) => q.bind(s),
                Val::OptText(s) => q.bind(s),
            };
        }
        q.execute(&mut **tx).await?;
    }

    Ok(())
}

/// Add counters to many (dimension, key, day) rows with multi-row upserts. Rows naming the same
/// (dimension, key, day) are summed first (one statement may not update a row twice), and rows
/// go in key order so that concurrent writers take row locks in the same order.
pub(crate) async fn upsert_counters(
    tx: &mut Write<'_>,
    city: CityCode,
    rows: impl IntoIterator<Item = (&str, String, String, Counters)>,
) -> Result<usize, StoreError> {
    let mut summed: BTreeMap<(String, String, String), Counters> = BTreeMap::new();
    for (dim, key, day, c) in rows {
        if c != Counters::default() {
            summed.entry((dim.to_owned(), key, day)).or_default().add(&c);
        }
    }

    if summed.is_empty() {
        return Ok(0);
    }

    let names: Vec<&str> = Counters::FIELDS.iter().map(|(n, _)| *n).collect();
    let mut cols = vec!["city", "dim", "key", "day"];
    cols.extend(&names);
    let updates: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = counters.{n} + excluded.{n}"))
        .collect();
    let suffix = format!(
        " ON CONFLICT (city, dim, key, day) DO UPDATE SET {}",
        updates.join(", ")
    );
    let n = summed.len();
    let values: Vec<Vec<Val>> = summed
        .into_iter()
        .map(|((dim, key, day), c)| {
            let mut row = vec![
                Val::Text(city.to_string()),
                Val::Text(dim),
                Val::Text(key),
                Val::Text(day),
            ];
            row.extend(c.values().into_iter().map(|v| Val::Int(v as i64)));
            row
        })
        .collect();
    insert_rows(tx, "counters", &cols, values, &suffix).await?;
    Ok(n)
}

/// The local (Beijing) day number of an instant, to cache [`day_of`] per day.
fn day_number(ms: i64) -> i64 {
    (ms + 8 * 3_600_000).div_euclid(86_400_000)
}

fn invalid(field: &str, message: String) -> StoreError {
    StoreError::Invalid(DomainError::invalid(field, message))
}

/// The events with case references rewritten from keys to ids.
fn resolve<'a>(h: &'a CaseHistory, id_of: &dyn Fn(i64) -> Option<i64>) -> Result<Cow<'a, [Recorded]>, StoreError> {
    let refers = |e: &CaseEvent| matches!(e, CaseEvent::MergedInto { .. } | CaseEvent::DuplicateMerged { .. });
    if !h.events.iter().any(|r| refers(&r.event)) {
        return Ok(Cow::Borrowed(&h.events));
    }

    let mut out = h.events.clone();
    for r in &mut out {
        if let CaseEvent::MergedInto { case_id } | CaseEvent::DuplicateMerged { case_id } = &mut r.event {
            *case_id = CaseId(id_of(case_id.0).ok_or_else(|| {
                invalid(
                    "events",
                    format!("case {} names case {case_id}, which is not in the import", h.key),
                )
            })?);
        }
    }

    Ok(Cow::Owned(out))
}

/// The keys a history names in its events.
fn references(h: &CaseHistory) -> impl Iterator<Item = i64> + '_ {
    h.events.iter().filter_map(|r| match r.event {
        CaseEvent::MergedInto { case_id } | CaseEvent::DuplicateMerged { case_id } => Some(case_id.0),
        _ => None,
    })
}

fn check(h: &CaseHistory) -> Result<(), StoreError> {
    if h.key <= 0 {
        return Err(invalid("key", format!("{} is not a positive case key", h.key)));
    }

    if !matches!(h.events.first().map(|r| &r.event), Some(CaseEvent::Collected(_))) {
        return Err(invalid(
            "events",
            format!("case {} does not start with its report (collected)", h.key),
        ));
    }

    if h.area.is_empty() {
        return Err(invalid("area", format!("case {} has no area", h.key)));
    }

    Ok(())
}

/// What an import of cases did: every row's case id, in the file's order, and the report by key
/// (`added`: created now; `unchanged`: imported before, left alone; a case is never updated by
/// a re-import).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CasesImported {
    pub ids: Vec<CaseId>,
    #[serde(flatten)]
    pub report: gongzhi_core::import::ImportReport,
}

/// Cases in bulk: importing case histories and reading them back in order.
pub trait CaseImportStore {
    /// Import whole case histories: per batch of about [`BATCH_CASES`] cases, one transaction
    /// writes the case rows (the snapshot folded by [`Case::replay`], version = number of events),
    /// the event rows, the co-units of whistles and the indicator counters, summed in memory per
    /// (dimension, key, day). Cases get consecutive new ids after the largest id in the table;
    /// events naming another case by its [`CaseHistory::key`] are rewritten to its id (a batch is
    /// extended so that a case and the later cases it names are written together).
    ///
    /// Each batch is all or nothing; a failure leaves the batches before it stored.
    /// `progress` is called after each batch with (cases stored, cases in all).
    fn import_case_histories(
        &self,
        city: CityCode,
        histories: &[CaseHistory],
        progress: Option<ImportProgress<'_>>,
    ) -> impl Future<Output = Result<BulkImported, StoreError>> + Send;
    /// Cases in id order after `after_id` (at most `limit`), optionally only those reported in
    /// `[from_ms, to_ms)`: for exports that page through every case.
    fn cases_after(
        &self,
        city: CityCode,
        after_id: i64,
        limit: u32,
        created: Option<(i64, i64)>,
    ) -> impl Future<Output = Result<Vec<CaseRow>, StoreError>> + Send;
    /// Create cases keyed by their natural key (an external id, or the row's content), in ONE
    /// transaction: a key already imported is left alone (the case it made lives on through its
    /// closed loop and is not rewritten), a new one creates its case as `create_cases` does and
    /// records the key (event `case_imported`). The answer gives every row's case id, in order.
    fn import_keyed_cases(
        &self,
        city: CityCode,
        cases: &[(String, NewCase)],
    ) -> impl Future<Output = Result<CasesImported, StoreError>> + Send;
    /// How many cases a city has, optionally only those reported in `[from_ms, to_ms)`.
    fn case_count(
        &self,
        city: CityCode,
        created: Option<(i64, i64)>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

impl CaseImportStore for Store {
    async fn import_keyed_cases(
        &self,
        city: CityCode,
        cases: &[(String, NewCase)],
    ) -> Result<CasesImported, StoreError> {
        let mut tx = self.write().await?;
        let mut out = CasesImported::default();
        for (key, new) in cases {
            let known: Option<(i64,)> =
                sqlx::query_as("SELECT case_id FROM case_external_ids WHERE city = $1 AND external_id = $2")
                    .bind(city.as_str())
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id,)) = known {
                out.ids.push(CaseId(id));
                out.report.unchanged.push(key.clone());
                continue;
            }
            let id = insert_case(&mut tx, city, new).await?.case.id;
            sqlx::query("INSERT INTO case_external_ids (city, external_id, case_id) VALUES ($1, $2, $3)")
                .bind(city.as_str())
                .bind(key)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            events::append(
                &mut tx,
                city,
                "case_imports",
                "case_imported",
                None,
                None,
                None,
                &serde_json::json!({ "key": key, "case": id.0 }),
            )
            .await?;
            out.ids.push(id);
            out.report.added.push(key.clone());
        }
        if out.report.is_noop() {
            // Every row's case was imported before: nothing was written.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(out)
    }

    async fn import_case_histories(
        &self,
        city: CityCode,
        histories: &[CaseHistory],
        progress: Option<ImportProgress<'_>>,
    ) -> Result<BulkImported, StoreError> {
        let mut position: HashMap<i64, usize> = HashMap::new();
        let mut keys = HashSet::with_capacity(histories.len());
        for h in histories {
            check(h)?;
            if !keys.insert(h.key) {
                return Err(invalid("key", format!("case key {} appears twice", h.key)));
            }
            for k in references(h) {
                position.insert(k, usize::MAX);
            }
        }
        drop(keys);
        for (i, h) in histories.iter().enumerate() {
            if let Some(p) = position.get_mut(&h.key) {
                *p = i;
            }
        }
        // The furthest later case each prefix of the histories names: a batch may end after
        // case i only if no case up to i names a case after i.
        let mut reach = Vec::with_capacity(histories.len());
        let mut furthest = 0usize;
        for (i, h) in histories.iter().enumerate() {
            for k in references(h) {
                match position.get(&k) {
                    Some(&p) if p != usize::MAX => furthest = furthest.max(p),
                    _ => {
                        return Err(invalid(
                            "events",
                            format!("case {} names case {k}, which is not in the import", h.key),
                        ))
                    }
                }
            }
            reach.push(furthest.max(i));
        }
        // One connection for the whole import. On SQLite it gets a page cache that holds the
        // working set of the case indexes (random inserts; the default cache is 2 MB), and
        // checkpoints the WAL every 64 MB rather than every 4 MB (each checkpoint syncs the
        // database file); both are put back afterwards.
        let mut conn = self.pool.acquire().await?;
        let sqlite = self.backend == Backend::Sqlite;
        let mut saved = None;
        if sqlite {
            let (cache,): (i64,) = sqlx::query_as("PRAGMA cache_size").fetch_one(&mut *conn).await?;
            let (wal,): (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint")
                .fetch_one(&mut *conn)
                .await?;
            saved = Some((cache, wal));
            sqlx::query("PRAGMA cache_size = -65536").execute(&mut *conn).await?;
            sqlx::query("PRAGMA wal_autocheckpoint = 16384")
                .execute(&mut *conn)
                .await?;
        }
        let result = self
            .import_batches(&mut conn, city, histories, &reach, &position, progress)
            .await;
        if let Some((cache, wal)) = saved {
            let _ = sqlx::query(&format!("PRAGMA cache_size = {cache}"))
                .execute(&mut *conn)
                .await;
            let _ = sqlx::query(&format!("PRAGMA wal_autocheckpoint = {wal}"))
                .execute(&mut *conn)
                .await;
        }
        result
    }

    async fn cases_after(
        &self,
        city: CityCode,
        after_id: i64,
        limit: u32,
        created: Option<(i64, i64)>,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let (from, to) = created.unwrap_or((i64::MIN, i64::MAX));
        let rows: Vec<CaseTuple> = sqlx::query_as(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE city = $1 AND id > $2 AND created_at >= $3 AND created_at < $4
             ORDER BY id LIMIT $5"
        ))
        .bind(city.as_str())
        .bind(after_id)
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(case_from_row).collect()
    }

    async fn case_count(&self, city: CityCode, created: Option<(i64, i64)>) -> Result<i64, StoreError> {
        let (from, to) = created.unwrap_or((i64::MIN, i64::MAX));
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM cases WHERE city = $1 AND created_at >= $2 AND created_at < $3")
                .bind(city.as_str())
                .bind(from)
                .bind(to)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }
}

impl Store {
    async fn import_batches(
        &self,
        conn: &mut PoolConnection<Any>,
        city: CityCode,
        histories: &[CaseHistory],
        reach: &[usize],
        position: &HashMap<i64, usize>,
        mut progress: Option<ImportProgress<'_>>,
    ) -> Result<BulkImported, StoreError> {
        let mut ids: Vec<i64> = vec![0; histories.len()];
        let mut total = BulkImported::default();
        let mut start = 0;
        while start < histories.len() {
            let mut end = (start + BATCH_CASES).min(histories.len());
            while reach[end - 1] >= end {
                end = reach[end - 1] + 1;
            }
            let done = self
                .import_batch(conn, city, histories, start..end, &mut ids, position)
                .await?;
            total.cases += done.cases;
            total.events += done.events;
            total.counter_rows += done.counter_rows;
            total.first_id = total.first_id.or(done.first_id);
            total.last_id = done.last_id.or(total.last_id);
            start = end;
            if let Some(p) = progress.as_mut() {
                p(start, histories.len());
            }
        }
        Ok(total)
    }

    async fn import_batch(
        &self,
        conn: &mut PoolConnection<Any>,
        city: CityCode,
        histories: &[CaseHistory],
        range: std::ops::Range<usize>,
        ids: &mut [i64],
        position: &HashMap<i64, usize>,
    ) -> Result<BulkImported, StoreError> {
        let mut tx = crate::write::write_on(conn).await?;
        // Take the write lock before choosing ids, so that no one takes them meanwhile.
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("UPDATE cases SET version = version WHERE id < 0")
                    .execute(&mut *tx)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::query("LOCK TABLE cases IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let (max,): (i64,) = sqlx::query_as("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM cases")
            .fetch_one(&mut *tx)
            .await?;
        for (n, i) in range.clone().enumerate() {
            ids[i] = max + 1 + n as i64;
        }
        let id_of = |key: i64| position.get(&key).map(|&p| ids[p]).filter(|&id| id > 0);

        let mut case_rows = Vec::with_capacity(range.len());
        let mut event_rows = Vec::new();
        let mut unit_rows: BTreeMap<(i64, i64), &'static str> = BTreeMap::new();
        let mut counters: HashMap<(&'static str, String, i64), Counters> = HashMap::new();
        let mut days: HashMap<i64, String> = HashMap::new();
        for i in range.clone() {
            let h = &histories[i];
            let id = ids[i];
            let events = resolve(h, &id_of)?;
            let stream = format!("case:{id}");
            let mut case = Case::new(CaseId(id));
            for r in events.iter() {
                let before = case.clone();
                case.apply(&r.event, r.at_ms);
                let delta = Counters::from_event(&before, &r.event);
                if delta != Counters::default() {
                    let day = day_number(r.at_ms);
                    for (dim, key) in counter_keys(&before, &case, &h.area, &r.event, r.actor) {
                        counters.entry((dim, key, day)).or_default().add(&delta);
                    }
                    days.entry(day).or_insert_with(|| day_of(r.at_ms));
                }
                if let CaseEvent::Whistled { lead, co_units, .. } = &r.event {
                    unit_rows.entry((id, *lead)).or_insert("lead");
                    for u in co_units {
                        unit_rows.entry((id, *u)).or_insert("co");
                    }
                }
                if let CaseEvent::Routed { via } = &r.event {
                    for h in via {
                        unit_rows.entry((id, h.unit)).or_insert("hop");
                    }
                }
                event_rows.push(vec![
                    Val::Text(city.to_string()),
                    Val::Text(stream.clone()),
                    Val::Text(r.event.name().to_owned()),
                    Val::OptInt(r.actor.map(|id| id.0)),
                    Val::Text(r.role.as_str().to_owned()),
                    Val::Int(r.at_ms),
                    Val::OptText(reason_of(&r.event).map(str::to_owned)),
                    Val::Text(serde_json::to_string(&r.event).expect("events serialise")),
                ]);
            }
            let first = events.first().expect("checked: a history has its report");
            let last = events.last().expect("checked: a history has its report");
            let CaseEvent::Collected(intake) = &first.event else {
                unreachable!("checked: a history starts with its report")
            };
            case_rows.push(vec![
                Val::Int(id),
                Val::Text(city.to_string()),
                Val::Text(case.state.as_str().to_owned()),
                Val::Text(intake.source.as_str().to_owned()),
                Val::Text(case.category.clone()),
                Val::Text(case.condition.clone()),
                Val::OptText(case.grid.clone()),
                Val::Text(h.area.clone()),
                Val::Real(case.lng),
                Val::Real(case.lat),
                Val::Text(case.description.clone()),
                Val::OptInt(case.unit),
                Val::OptInt(case.deadline_ms),
                Val::OptInt(h.reporter),
                Val::Int(first.at_ms),
                Val::Int(last.at_ms),
                Val::Int(case.version as i64),
                Val::Text(serde_json::to_string(&case).expect("cases serialise")),
            ]);
        }
        let done = BulkImported {
            cases: case_rows.len() as u64,
            events: event_rows.len() as u64,
            counter_rows: 0,
            first_id: ids.get(range.start).copied(),
            last_id: ids.get(range.end.wrapping_sub(1)).copied(),
        };
        insert_rows(
            &mut tx,
            "cases",
            &[
                "id",
                "city",
                "state",
                "source",
                "category",
                "condition",
                "grid",
                "area",
                "lng",
                "lat",
                "description",
                "unit_id",
                "deadline_at",
                "reporter_id",
                "created_at",
                "updated_at",
                "version",
                "snapshot",
            ],
            case_rows,
            "",
        )
        .await?;
        insert_rows(
            &mut tx,
            "events",
            &["city", "stream", "kind", "actor", "role", "at", "reason", "payload"],
            event_rows,
            "",
        )
        .await?;
        let units: Vec<Vec<Val>> = unit_rows
            .into_iter()
            .map(|((case, unit), role)| {
                vec![
                    Val::Text(city.to_string()),
                    Val::Int(case),
                    Val::Int(unit),
                    Val::Text(role.to_owned()),
                ]
            })
            .collect();
        insert_rows(
            &mut tx,
            "case_units",
            &["city", "case_id", "unit_id", "role"],
            units,
            " ON CONFLICT (city, case_id, unit_id) DO NOTHING",
        )
        .await?;
        let counter_rows = upsert_counters(
            &mut tx,
            city,
            counters
                .into_iter()
                .map(|((dim, key, day), c)| (dim, key, days[&day].clone(), c)),
        )
        .await?;
        if self.backend == Backend::Postgres {
            if let Some(last) = done.last_id {
                // Explicit ids do not move the identity sequence: later single inserts must
                // start after them.
                sqlx::query("SELECT setval(pg_get_serial_sequence('cases', 'id'), $1)")
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.appended(done.events as usize);
        tx.commit().await?;
        Ok(BulkImported {
            counter_rows: counter_rows as u64,
            ..done
        })
    }
}
