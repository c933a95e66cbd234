//! Case storage. Cases are event-sourced: each change appends its events to the `case:ID` stream,
//! folds them into the aggregate ([`Case::apply`]) and writes the folded row and the indicator
//! counters in the same transaction. Concurrent changes to one case: the first wins, the others
//! get a conflict (optimistic concurrency on the case's version).

use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use crate::write::Write;
use chrono::TimeZone;
use gongzhi_core::case::{Case, CaseEvent, CaseState, Recorded};
use gongzhi_core::indicators::{attributed_unit, Counters};
use gongzhi_core::org::Role;
use serde::Serialize;

use crate::sql::{Arg, Sql};
use crate::{now_ms, Store, StoreError};

/// A case as stored: the aggregate and what is kept beside it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub case: Case,
    /// The smallest division responsible for the location (the community, or a larger unit
    /// when the place is in no grid: 属地兜底).
    pub area: String,
    /// The person who reported it, when known.
    pub reporter: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::borrow::Borrow<Case> for CaseRow {
    fn borrow(&self) -> &Case {
        &self.case
    }
}

/// A new case: its first event and where it belongs.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The `Collected` event (from [`gongzhi_core::case::collect`]).
    pub collected: CaseEvent,
    /// Events to record right after, in the same transaction (e.g. registration by an acceptor).
    pub then: Vec<CaseEvent>,
    pub area: String,
    pub reporter: Option<i64>,
    /// Reporter's name and phone: private.
    pub contact: Option<(Option<String>, Option<String>)>,
    pub actor: Option<PersonId>,
    pub role: Role,
    /// When the report happened (defaults to now), for imports and replays.
    pub at_ms: Option<i64>,
}

/// Events to add to one case, which must still be at `expected_version`.
#[derive(Debug, Clone)]
pub struct Change {
    pub case_id: CaseId,
    pub expected_version: u64,
    pub events: Vec<CaseEvent>,
}

/// Who may see which cases, as a storage filter (built from a principal by the caller).
#[derive(Debug, Clone, Default)]
pub struct CaseVisibility {
    /// Everything in the city.
    pub all: bool,
    /// Cases whose area lies inside one of these division codes.
    pub areas: Vec<String>,
    /// Cases in these grids (and their micro-grids).
    pub grids: Vec<String>,
    /// Cases with or involving these units.
    pub units: Vec<i64>,
    /// Cases this person reported.
    pub reporter: Option<i64>,
}

/// A listing query.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub visibility: CaseVisibility,
    pub states: Vec<CaseState>,
    pub unit: Option<i64>,
    /// Only cases inside this division or grid (code prefix).
    pub within: Option<String>,
    pub category: Option<String>,
    /// Only cases past their deadline that are still open.
    pub overdue_at: Option<i64>,
    pub page: u32,
    pub page_size: u32,
}

pub(crate) const CASE_COLUMNS: &str = "snapshot, area, reporter_id, created_at, updated_at";
pub(crate) type CaseTuple = (String, String, Option<i64>, i64, i64);

pub(crate) fn case_from_row(
    (snapshot, area, reporter, created_at, updated_at): CaseTuple,
) -> Result<CaseRow, StoreError> {
    let case: Case = serde_json::from_str(&snapshot)
        .map_err(|e| StoreError::Conflict(format!("stored case snapshot is unreadable: {e}")))?;
    Ok(CaseRow {
        case,
        area,
        reporter,
        created_at,
        updated_at,
    })
}

/// The Beijing date of an instant, the day key of counters.
pub fn day_of(ms: i64) -> String {
    gongzhi_core::calendar::china_time()
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The (dimension, key) rows an event's counters go to.
pub(crate) fn counter_keys(
    before: &Case,
    after: &Case,
    area: &str,
    event: &CaseEvent,
    actor: Option<PersonId>,
) -> Vec<(&'static str, String)> {
    let mut keys = vec![("category", after.category.clone())];
    if let Some(u) = attributed_unit(before, event) {
        keys.push(("unit", u.to_string()));
    }

    let city = format!("{}00", &area[..4.min(area.len())]);
    for len in [6, 9, 12] {
        // A case that fell to the city itself (属地兜底 outside every district) has the city
        // code as its area: count it once.
        if area.len() >= len && area[..len] != city {
            keys.push(("area", area[..len].to_owned()));
        }
    }

    keys.push(("area", city));
    if let Some(g) = &after.grid {
        keys.push(("area", g.clone()));
    }

    if let Some(a) = actor {
        keys.push(("person", a.to_string()));
    }

    keys
}

/// Add counters to each (dim, key) row of a day (one multi-row upsert).
pub(crate) async fn bump(
    tx: &mut Write<'_>,
    city: CityCode,
    keys: &[(&str, String)],
    day: &str,
    c: &Counters,
) -> Result<(), StoreError> {
    if *c == Counters::default() {
        return Ok(());
    }

    let rows = keys.iter().map(|(dim, key)| (*dim, key.clone(), day.to_owned(), *c));
    crate::bulk::upsert_counters(tx, city, rows).await?;
    Ok(())
}

/// Append events to a case inside `tx`: the event rows, the fold, the counters. Returns the
/// case after the events.
#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut Write<'_>,
    city: CityCode,
    mut case: Case,
    area: &str,
    events: &[CaseEvent],
    actor: Option<PersonId>,
    role: Role,
    at_ms: i64,
) -> Result<Case, StoreError> {
    let day = day_of(at_ms);
    let stream = format!("case:{}", case.id);
    for event in events {
        let before = case.clone();
        case.apply(event, at_ms);
        sqlx::query(
            "INSERT INTO events (city, stream, kind, actor, role, at, reason, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(city.as_str())
        .bind(&stream)
        .bind(event.name())
        .bind(actor.map(|id| id.0))
        .bind(role.as_str())
        .bind(at_ms)
        .bind(reason_of(event))
        .bind(serde_json::to_string(event).expect("events serialise"))
        .execute(&mut **tx)
        .await?;
        tx.appended(1);
        tx.names(&stream);
        let delta = Counters::from_event(&before, event);
        bump(
            tx,
            city,
            &counter_keys(&before, &case, area, event, actor),
            &day,
            &delta,
        )
        .await?;
        let involved: Vec<(i64, &str)> = match event {
            CaseEvent::Whistled { lead, co_units, .. } => std::iter::once((*lead, "lead"))
                .chain(co_units.iter().map(|u| (*u, "co")))
                .collect(),
            // Units on the way (逐级转派) see the case in their inbox.
            CaseEvent::Routed { via } => via.iter().map(|h| (h.unit, "hop")).collect(),
            _ => Vec::new(),
        };
        {
            for (unit, r) in involved {
                sqlx::query(
                    "INSERT INTO case_units (city, case_id, unit_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT (city, case_id, unit_id) DO NOTHING",
                )
                .bind(city.as_str())
                .bind(case.id.0)
                .bind(unit)
                .bind(r)
                .execute(&mut **tx)
                .await?;
            }
        }
    }

    Ok(case)
}

pub(crate) fn reason_of(e: &CaseEvent) -> Option<&str> {
    use CaseEvent as E;
    match e {
        E::Voided { reason }
        | E::Returned { reason }
        | E::ReturnRejected { reason }
        | E::ExtensionRequested { reason, .. }
        | E::ExtensionDenied { reason }
        | E::Suspended { reason }
        | E::VerificationFailed { reason } => Some(reason),
        E::Closed { reason, .. } => reason.as_deref(),
        E::HandlingReported { note } | E::Supervised { note, .. } => Some(note),
        _ => None,
    }
}

async fn write_row(tx: &mut Write<'_>, city: CityCode, case: &Case, expected: u64) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE cases SET state = $1, unit_id = $2, deadline_at = $3, updated_at = $4, version = $5, snapshot = $6
         WHERE city = $7 AND id = $8 AND version = $9",
    )
    .bind(case.state.as_str())
    .bind(case.unit)
    .bind(case.deadline_ms)
    .bind(now_ms())
    .bind(case.version as i64)
    .bind(serde_json::to_string(case).expect("cases serialise"))
    .bind(city.as_str())
    .bind(case.id.0)
    .bind(expected as i64)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "case {} was changed by someone else meanwhile: reload it",
            case.id
        )));
    }

    Ok(())
}

/// A reporter's private contact details, shown only to those who handle the case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// Cases, their steps and the closed loop's counters.
pub trait CaseStore {
    /// Record a new case (its `Collected` event and any follow-on events) in one transaction.
    fn create_case(&self, city: CityCode, new: &NewCase) -> impl Future<Output = Result<CaseRow, StoreError>> + Send;
    /// Record many new cases in one transaction (imports, replays, benchmarks).
    fn create_cases(
        &self,
        city: CityCode,
        cases: &[NewCase],
    ) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send;
    /// Add events to one or more cases in one transaction (a merge touches two). Each case must
    /// still be at its expected version, else nothing is stored and the answer is a conflict.
    fn change_cases(
        &self,
        city: CityCode,
        changes: &[Change],
        actor: Option<PersonId>,
        role: Role,
        at_ms: Option<i64>,
    ) -> impl Future<Output = Result<Vec<CaseRow>, StoreError>> + Send;
    fn case(&self, city: CityCode, id: CaseId) -> impl Future<Output = Result<Option<CaseRow>, StoreError>> + Send;
    /// The case's events, oldest first.
    fn case_history(
        &self,
        city: CityCode,
        id: CaseId,
    ) -> impl Future<Output = Result<Vec<Recorded>, StoreError>> + Send;
    /// The reporter's private contact details.
    fn case_contact(
        &self,
        city: CityCode,
        id: CaseId,
    ) -> impl Future<Output = Result<Option<Contact>, StoreError>> + Send;
    /// Cases matching a query, newest first, and how many match in all.
    fn list_cases(
        &self,
        city: CityCode,
        q: &CaseQuery,
    ) -> impl Future<Output = Result<(Vec<CaseRow>, i64), StoreError>> + Send;
    /// Open cases of a category near a point (a box of `d_lng` × `d_lat` degrees around it),
    /// to offer as possible duplicates.
    fn open_cases_near(
        &self,
        city: CityCode,
        category: &str,
        lng: f64,
        lat: f64,
        d_lng: f64,
        d_lat: f64,
    ) -> impl Future<Output = Result<Vec<CaseRow>, StoreError>> + Send;
    /// Open cases with a unit whose deadline is before `before_ms`, with ids above `after_id`,
    /// in id order (for the escalation sweep).
    fn cases_due_before(
        &self,
        city: CityCode,
        before_ms: i64,
        after_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CaseRow>, StoreError>> + Send;
    /// Sum of one dimension's counters for one key over days `from..=to` (YYYY-MM-DD).
    fn counters(
        &self,
        city: CityCode,
        dim: &str,
        key: &str,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<Counters, StoreError>> + Send;
    /// One dimension's counters over a period, per key (e.g. every unit), or per day / month of
    /// one key: `group` is `key`, `day` or `month`.
    fn counters_grouped(
        &self,
        city: CityCode,
        dim: &str,
        key: Option<&str>,
        from: &str,
        to: &str,
        group: &str,
    ) -> impl Future<Output = Result<Vec<(String, Counters)>, StoreError>> + Send;
    /// Store a photo of a case (its event goes to the `case:ID:photos` stream), in the media
    /// store as `case:ID`; `content_type` and `data` as `gongzhi_core::media::check` gave them.
    fn add_photo(
        &self,
        city: CityCode,
        case_id: CaseId,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// [`Store::add_photo`], `public` for a photo anyone may see (an Open311 request's).
    fn add_case_photo(
        &self,
        city: CityCode,
        case_id: CaseId,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
        public: bool,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The photos of a case, oldest first.
    fn photos(
        &self,
        city: CityCode,
        case_id: CaseId,
    ) -> impl Future<Output = Result<Vec<crate::MediaInfo>, StoreError>> + Send;
    /// Organisations of a kind whose jurisdiction includes `code` exactly.
    fn organisations_serving(
        &self,
        city: CityCode,
        kind: gongzhi_core::org::OrgKind,
        code: &str,
    ) -> impl Future<Output = Result<Vec<gongzhi_core::org::Organisation>, StoreError>> + Send;
}

impl CaseStore for Store {
    async fn create_case(&self, city: CityCode, new: &NewCase) -> Result<CaseRow, StoreError> {
        let mut tx = self.write().await?;
        let row = insert_case(&mut tx, city, new).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn create_cases(&self, city: CityCode, cases: &[NewCase]) -> Result<Vec<CaseId>, StoreError> {
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(cases.len());
        for new in cases {
            ids.push(insert_case(&mut tx, city, new).await?.case.id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn change_cases(
        &self,
        city: CityCode,
        changes: &[Change],
        actor: Option<PersonId>,
        role: Role,
        at_ms: Option<i64>,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let at = at_ms.unwrap_or_else(now_ms);
        let mut order: Vec<&Change> = changes.iter().collect();
        order.sort_by_key(|c| c.case_id);
        let mut tx = self.write().await?;
        let mut out = Vec::new();
        for ch in order {
            // Take the row's write lock first (both backends), then read and check the version.
            sqlx::query("UPDATE cases SET version = version WHERE city = $1 AND id = $2")
                .bind(city.as_str())
                .bind(ch.case_id.0)
                .execute(&mut *tx)
                .await?;
            let row: Option<CaseTuple> =
                sqlx::query_as(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE city = $1 AND id = $2"))
                    .bind(city.as_str())
                    .bind(ch.case_id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let row = case_from_row(row.ok_or_else(|| StoreError::NotFound(format!("case {}", ch.case_id)))?)?;
            if row.case.version != ch.expected_version {
                return Err(StoreError::Conflict(format!(
                    "case {} was changed by someone else meanwhile (version {} now, {} expected): reload it",
                    ch.case_id, row.case.version, ch.expected_version
                )));
            }
            let case = record(&mut tx, city, row.case, &row.area, &ch.events, actor, role, at).await?;
            write_row(&mut tx, city, &case, ch.expected_version).await?;
            out.push(CaseRow {
                case,
                updated_at: at,
                ..row
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn case(&self, city: CityCode, id: CaseId) -> Result<Option<CaseRow>, StoreError> {
        let row: Option<CaseTuple> =
            sqlx::query_as(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE city = $1 AND id = $2"))
                .bind(city.as_str())
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(case_from_row).transpose()
    }

    async fn case_history(&self, city: CityCode, id: CaseId) -> Result<Vec<Recorded>, StoreError> {
        let rows: Vec<(String, Option<i64>, Option<String>, i64)> =
            sqlx::query_as("SELECT payload, actor, role, at FROM events WHERE city = $1 AND stream = $2 ORDER BY id")
                .bind(city.as_str())
                .bind(format!("case:{id}"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(payload, actor, role, at_ms)| {
                let event = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Conflict(format!("stored event of case {id} is unreadable: {e}")))?;
                let role = role.as_deref().unwrap_or("shift_leader").parse()?;
                Ok(Recorded {
                    event,
                    at_ms,
                    actor: actor.map(PersonId),
                    role,
                })
            })
            .collect()
    }

    async fn case_contact(&self, city: CityCode, id: CaseId) -> Result<Option<Contact>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT name, phone FROM case_contacts WHERE city = $1 AND case_id = $2")
                .bind(city.as_str())
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(name, phone)| Contact { name, phone }))
    }

    async fn list_cases(&self, city: CityCode, q: &CaseQuery) -> Result<(Vec<CaseRow>, i64), StoreError> {
        let mut w = Sql::new("WHERE city = ");
        w.arg(Arg::Text(city.to_string()));
        let v = &q.visibility;
        if !v.all {
            let mut any = Vec::new();
            for a in &v.areas {
                let p = w.param(Arg::Text(format!("{a}%")));
                any.push(format!("area LIKE {p}"));
            }
            for g in &v.grids {
                let p = w.param(Arg::Text(format!("{g}%")));
                any.push(format!("grid LIKE {p}"));
            }
            for u in &v.units {
                let p = w.param(Arg::Int(*u));
                let p2 = w.param(Arg::Int(*u));
                let p3 = w.param(Arg::Text(city.to_string()));
                any.push(format!(
                    "(unit_id = {p} OR id IN (SELECT case_id FROM case_units WHERE unit_id = {p2} AND city = {p3}))"
                ));
            }
            if let Some(r) = v.reporter {
                let p = w.param(Arg::Int(r));
                any.push(format!("reporter_id = {p}"));
            }
            if any.is_empty() {
                return Ok((Vec::new(), 0));
            }
            w.push(&format!(" AND ({})", any.join(" OR ")));
        }
        if !q.states.is_empty() {
            let ps: Vec<String> = q
                .states
                .iter()
                .map(|s| w.param(Arg::Text(s.as_str().to_owned())))
                .collect();
            w.push(&format!(" AND state IN ({})", ps.join(", ")));
        }
        if let Some(u) = q.unit {
            let p = w.param(Arg::Int(u));
            w.push(&format!(" AND unit_id = {p}"));
        }
        if let Some(within) = &q.within {
            let p = w.param(Arg::Text(format!("{within}%")));
            let p2 = w.param(Arg::Text(format!("{within}%")));
            w.push(&format!(" AND (area LIKE {p} OR grid LIKE {p2})"));
        }
        if let Some(c) = &q.category {
            let p = w.param(Arg::Text(c.clone()));
            w.push(&format!(" AND category = {p}"));
        }
        if let Some(now) = q.overdue_at {
            let p = w.param(Arg::Int(now));
            w.push(&format!(
                " AND deadline_at < {p} AND state IN ('dispatched', 'handling', 'returned', 'suspended', 'reported')"
            ));
        }
        let total: (i64,) = w
            .query_as(&format!("SELECT COUNT(*) FROM cases {}", w.text()))
            .fetch_one(&self.pool)
            .await?;
        let size = q.page_size.clamp(1, 1000);
        let offset = i64::from(q.page.max(1) - 1) * i64::from(size);
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases {} ORDER BY id DESC LIMIT {size} OFFSET {offset}",
            w.text()
        );
        let rows: Vec<CaseTuple> = w.query_as(&sql).fetch_all(&self.pool).await?;
        Ok((rows.into_iter().map(case_from_row).collect::<Result<_, _>>()?, total.0))
    }

    async fn open_cases_near(
        &self,
        city: CityCode,
        category: &str,
        lng: f64,
        lat: f64,
        d_lng: f64,
        d_lat: f64,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let rows: Vec<CaseTuple> = sqlx::query_as(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE city = $1 AND category = $2
               AND state NOT IN ('voided', 'closed', 'evaluated', 'merged')
               AND lng BETWEEN $3 AND $4 AND lat BETWEEN $5 AND $6
             ORDER BY id DESC LIMIT 50"
        ))
        .bind(city.as_str())
        .bind(category)
        .bind(lng - d_lng)
        .bind(lng + d_lng)
        .bind(lat - d_lat)
        .bind(lat + d_lat)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(case_from_row).collect()
    }

    async fn cases_due_before(
        &self,
        city: CityCode,
        before_ms: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let rows: Vec<CaseTuple> = sqlx::query_as(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE city = $1 AND deadline_at < $2 AND id > $3
               AND state IN ('dispatched', 'handling', 'returned')
             ORDER BY id LIMIT $4"
        ))
        .bind(city.as_str())
        .bind(before_ms)
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(case_from_row).collect()
    }

    async fn counters(
        &self,
        city: CityCode,
        dim: &str,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<Counters, StoreError> {
        Ok(self
            .counters_grouped(city, dim, Some(key), from, to, "dim")
            .await?
            .into_iter()
            .next()
            .map(|r| r.1)
            .unwrap_or_default())
    }

    async fn counters_grouped(
        &self,
        city: CityCode,
        dim: &str,
        key: Option<&str>,
        from: &str,
        to: &str,
        group: &str,
    ) -> Result<Vec<(String, Counters)>, StoreError> {
        let group_expr = match group {
            "key" => "key",
            "day" => "day",
            "month" => "SUBSTR(day, 1, 7)",
            _ => "dim",
        };
        let sums: Vec<String> = Counters::FIELDS
            .iter()
            .map(|(n, _)| format!("CAST(SUM({n}) AS BIGINT)"))
            .collect();
        let mut w = Sql::new("WHERE city = ");
        w.arg(Arg::Text(city.to_string()));
        let p = w.param(Arg::Text(dim.to_owned()));
        w.push(&format!(" AND dim = {p}"));
        if let Some(k) = key {
            let p = w.param(Arg::Text(k.to_owned()));
            w.push(&format!(" AND key = {p}"));
        }
        let p1 = w.param(Arg::Text(from.to_owned()));
        let p2 = w.param(Arg::Text(to.to_owned()));
        w.push(&format!(" AND day BETWEEN {p1} AND {p2}"));
        let sql = format!(
            "SELECT {group_expr} AS g, {} FROM counters {} GROUP BY {group_expr} ORDER BY g",
            sums.join(", "),
            w.text()
        );
        let rows = w.query(&sql).fetch_all(&self.pool).await?;
        use sqlx::Row;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let g: String = r.try_get(0)?;
            let mut vals = Vec::with_capacity(Counters::FIELDS.len());
            for i in 0..Counters::FIELDS.len() {
                vals.push(r.try_get::<i64, _>(i + 1)?.max(0) as u64);
            }
            out.push((g, counters_from(&vals)));
        }
        Ok(out)
    }

    async fn add_photo(
        &self,
        city: CityCode,
        case_id: CaseId,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        self.add_case_photo(city, case_id, content_type, data, actor, false)
            .await
    }

    async fn add_case_photo(
        &self,
        city: CityCode,
        case_id: CaseId,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
        public: bool,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_case_photo(&mut tx, city, case_id, content_type, data, actor, public).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn photos(&self, city: CityCode, case_id: CaseId) -> Result<Vec<crate::MediaInfo>, StoreError> {
        self.media_owned_by(city, &format!("case:{case_id}")).await
    }

    async fn organisations_serving(
        &self,
        city: CityCode,
        kind: gongzhi_core::org::OrgKind,
        code: &str,
    ) -> Result<Vec<gongzhi_core::org::Organisation>, StoreError> {
        let all = self.organisations(city, Some(kind)).await?;
        Ok(all
            .into_iter()
            .filter(|o| o.jurisdiction.iter().any(|d| d.as_str() == code))
            .collect())
    }
}

fn counters_from(vals: &[u64]) -> Counters {
    let mut map = serde_json::Map::new();
    for ((name, _), v) in Counters::FIELDS.iter().zip(vals) {
        map.insert((*name).to_owned(), (*v).into());
    }

    serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
}

/// Store a photo of a case in an open write, with its event.
pub(crate) async fn insert_case_photo(
    tx: &mut Write<'_>,
    city: CityCode,
    case_id: CaseId,
    content_type: &str,
    data: &[u8],
    actor: Option<PersonId>,
    public: bool,
) -> Result<i64, StoreError> {
    let m = crate::media::NewMedia {
        kind: gongzhi_core::media::Kind::of_type(content_type).unwrap_or(gongzhi_core::media::Kind::Photo),
        content_type,
        data,
        owner: &format!("case:{case_id}"),
        public,
        legacy: None,
    };
    let id = crate::media::insert(tx, city, &m, actor).await?;
    crate::events::append(
        tx,
        city,
        &format!("case:{case_id}:photos"),
        "photo_added",
        actor,
        None,
        None,
        &serde_json::json!({ "photo": id, "media": id, "content_type": content_type, "size": data.len() }),
    )
    .await?;
    Ok(id)
}

pub(crate) async fn insert_case(tx: &mut Write<'_>, city: CityCode, new: &NewCase) -> Result<CaseRow, StoreError> {
    let CaseEvent::Collected(intake) = &new.collected else {
        return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
            "event",
            "a new case starts with its report",
        )));
    };
    let at = new.at_ms.unwrap_or_else(now_ms);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO cases (city, state, source, category, condition, grid, area, lng, lat, description, reporter_id, created_at, updated_at, version, snapshot)
         VALUES ($1, 'collected', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, '{}') RETURNING id",
    )
    .bind(city.as_str())
    .bind(intake.source.as_str())
    .bind(&intake.category)
    .bind(&intake.condition)
    .bind(intake.grid.as_deref())
    .bind(&new.area)
    .bind(intake.lng)
    .bind(intake.lat)
    .bind(&intake.description)
    .bind(new.reporter)
    .bind(at)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    if let Some((name, phone)) = &new.contact {
        sqlx::query("INSERT INTO case_contacts (city, case_id, name, phone) VALUES ($1, $2, $3, $4)")
            .bind(city.as_str())
            .bind(id)
            .bind(name.as_deref())
            .bind(phone.as_deref())
            .execute(&mut **tx)
            .await?;
    }

    let mut events = vec![new.collected.clone()];
    events.extend(new.then.iter().cloned());
    let case = record(
        tx,
        city,
        Case::new(CaseId(id)),
        &new.area,
        &events,
        new.actor,
        new.role,
        at,
    )
    .await?;
    write_row(tx, city, &case, 0).await?;
    Ok(CaseRow {
        case,
        area: new.area.clone(),
        reporter: new.reporter,
        created_at: at,
        updated_at: at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_area_level_is_counted_once() {
        let mut case = Case::new(CaseId(1));
        case.category = "C0101".into();
        let ev = CaseEvent::Registered;
        let areas = |area: &str| -> Vec<String> {
            counter_keys(&case, &case, area, &ev, None)
                .into_iter()
                .filter(|(d, _)| *d == "area")
                .map(|(_, k)| k)
                .collect()
        };
        assert_eq!(areas("510100"), ["510100"], "a case at the city itself");
        assert_eq!(areas("510104017001"), ["510104", "510104017", "510104017001", "510100"]);
    }
}
