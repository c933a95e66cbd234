//! The generalist grid's records (see `gongzhi_core::gridteam`): one table per list with the
//! columns records are found by and the body as JSON, one event per change in the same
//! transaction. Confirming a match and completing a project change the need, the resource and
//! the project (and the points ledger) together or not at all.

use gongzhi_core::gridteam::{self, LedgerEntry, Need, NeedStatus, PointRule, Project, ProjectStatus, Resource, Usage};
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::collections::HashMap;
use std::future::Future;

use crate::write::Write;
use gongzhi_core::import::ImportReport;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{events, now_ms, Store, StoreError};

/// The lists of the generalist grid, each its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridList {
    Members,
    Alliances,
    Households,
    Needs,
    Resources,
    Projects,
    Patrols,
    Visits,
    Activities,
    Volunteering,
    Routes,
}

impl GridList {
    pub const ALL: &'static [GridList] = &[
        GridList::Members,
        GridList::Alliances,
        GridList::Households,
        GridList::Needs,
        GridList::Resources,
        GridList::Projects,
        GridList::Patrols,
        GridList::Visits,
        GridList::Activities,
        GridList::Volunteering,
        GridList::Routes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GridList::Members => "members",
            GridList::Alliances => "alliances",
            GridList::Households => "households",
            GridList::Needs => "needs",
            GridList::Resources => "resources",
            GridList::Projects => "projects",
            GridList::Patrols => "patrols",
            GridList::Visits => "visits",
            GridList::Activities => "activities",
            GridList::Volunteering => "volunteering",
            GridList::Routes => "routes",
        }
    }

    pub fn parse(s: &str) -> Option<GridList> {
        GridList::ALL.iter().copied().find(|l| l.as_str() == s)
    }

    fn table(self) -> String {
        format!("grid_{}", self.as_str())
    }
}

/// A stored record: where it is, its status and its body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRecord {
    pub id: i64,
    pub list: GridList,
    pub area: String,
    pub status: String,
    pub person: Option<i64>,
    pub created_at: i64,
    pub body: serde_json::Value,
}

impl GridRecord {
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(self.body.clone()).map_err(|e| {
            StoreError::Unavailable(format!("stored {} {} is unreadable: {e}", self.list.as_str(), self.id))
        })
    }
}

type RecordRow = (i64, String, String, Option<i64>, i64, String);

fn record(list: GridList, r: RecordRow) -> GridRecord {
    GridRecord {
        id: r.0,
        list,
        area: r.1,
        status: r.2,
        person: r.3,
        created_at: r.4,
        body: serde_json::from_str(&r.5).unwrap_or(serde_json::Value::Null),
    }
}

/// What an import of records did: every row's record id, in the file's order, and the report by
/// record id (added, updated, unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordsImported {
    pub ids: Vec<i64>,
    #[serde(flatten)]
    pub report: ImportReport,
}

/// A new record of a list.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub list: GridList,
    pub area: String,
    pub status: String,
    pub person: Option<i64>,
    pub body: serde_json::Value,
}

/// Counts behind a grid's indicators (or, added up, an area's).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GridCounts {
    pub cases_by_patrol: i64,
    pub cases_by_residents: i64,
    pub cases_registered: i64,
    pub needs_open: i64,
    pub needs_matched: i64,
    pub needs_met: i64,
    pub resources: i64,
    pub resources_used: i64,
    pub projects_completed: i64,
    pub patrols: i64,
    pub visits: i64,
    pub attendances: i64,
    pub volunteer_hours: i64,
}

impl GridCounts {
    /// Adds another grid's counts (an area's counts are its grids' added up).
    pub fn add(&mut self, o: &GridCounts) {
        self.cases_by_patrol += o.cases_by_patrol;
        self.cases_by_residents += o.cases_by_residents;
        self.cases_registered += o.cases_registered;
        self.needs_open += o.needs_open;
        self.needs_matched += o.needs_matched;
        self.needs_met += o.needs_met;
        self.resources += o.resources;
        self.resources_used += o.resources_used;
        self.projects_completed += o.projects_completed;
        self.patrols += o.patrols;
        self.visits += o.visits;
        self.attendances += o.attendances;
        self.volunteer_hours += o.volunteer_hours;
    }
}

async fn insert(tx: &mut Write<'_>, city: CityCode, r: &NewRecord, actor: Option<PersonId>) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(&format!(
        "INSERT INTO {} (city, area, status, person_id, created_at, body) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        r.list.table()
    ))
    .bind(city.as_str())
    .bind(&r.area)
    .bind(&r.status)
    .bind(r.person)
    .bind(now_ms())
    .bind(r.body.to_string())
    .fetch_one(&mut **tx)
    .await?;
    events::append(
        tx,
        city,
        &format!("{}:{id}", r.list.table()),
        &format!("{}_recorded", r.list.as_str()),
        actor,
        None,
        None,
        &serde_json::json!({ "area": r.area, "status": r.status, "person": r.person, "body": r.body }),
    )
    .await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn update(
    tx: &mut Write<'_>,
    city: CityCode,
    list: GridList,
    id: i64,
    status: &str,
    body: &serde_json::Value,
    kind: &str,
    actor: Option<PersonId>,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE {} SET status = $1, body = $2 WHERE city = $3 AND id = $4",
        list.table()
    ))
    .bind(status)
    .bind(body.to_string())
    .bind(city.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    events::append(
        tx,
        city,
        &format!("{}:{id}", list.table()),
        kind,
        actor,
        None,
        None,
        &serde_json::json!({ "status": status, "body": body }),
    )
    .await?;
    Ok(())
}

async fn get_in(tx: &mut Write<'_>, city: CityCode, list: GridList, id: i64) -> Result<GridRecord, StoreError> {
    let row: Option<RecordRow> = sqlx::query_as(&format!(
        "SELECT id, area, status, person_id, created_at, body FROM {} WHERE city = $1 AND id = $2",
        list.table()
    ))
    .bind(city.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| record(list, r))
        .ok_or_else(|| StoreError::NotFound(format!("{} {id}", list.as_str())))
}

async fn credit(
    tx: &mut Write<'_>,
    city: CityCode,
    person: PersonId,
    delta: i64,
    action: &str,
    reference: &str,
    actor: Option<PersonId>,
) -> Result<(), StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO points_ledger (city, person_id, delta, action, reference, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(city.as_str())
    .bind(person.0)
    .bind(delta)
    .bind(action)
    .bind(reference)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?;
    events::append(
        tx,
        city,
        &format!("points:{person}"),
        if delta < 0 { "points_redeemed" } else { "points_awarded" },
        actor,
        None,
        None,
        &serde_json::json!({ "line": id, "delta": delta, "action": action, "reference": reference }),
    )
    .await?;
    Ok(())
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The generalist grid's lists, projects and points.
pub trait GridTeamStore {
    /// Record one item of a list.
    fn add_grid_record(
        &self,
        city: CityCode,
        r: &NewRecord,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Record many items, all or nothing (imports).
    fn add_grid_records(
        &self,
        city: CityCode,
        rs: &[NewRecord],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Import records keyed by their natural key (`key` of a body), all or nothing: a record
    /// whose key is not stored in `areas` is added; a stored one gets the file's `fields` (and
    /// its area) over its body, written with a `{list}_reimported` event when that changes it,
    /// left alone otherwise. The answer gives every row's record id, in order.
    #[allow(clippy::too_many_arguments)]
    fn import_grid_records(
        &self,
        city: CityCode,
        list: GridList,
        areas: &[String],
        rs: &[NewRecord],
        key: fn(&serde_json::Value) -> String,
        fields: &[&str],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<RecordsImported, StoreError>> + Send;
    /// Change a record's status and body, with the event `kind`.
    #[allow(clippy::too_many_arguments)]
    fn change_grid_record(
        &self,
        city: CityCode,
        list: GridList,
        id: i64,
        status: &str,
        body: &serde_json::Value,
        kind: &str,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn grid_record(
        &self,
        city: CityCode,
        list: GridList,
        id: i64,
    ) -> impl Future<Output = Result<Option<GridRecord>, StoreError>> + Send;
    /// The records of a list in the given areas (grid and community codes), oldest first;
    /// `status` narrows them.
    fn grid_records(
        &self,
        city: CityCode,
        list: GridList,
        areas: &[&str],
        status: Option<&str>,
    ) -> impl Future<Output = Result<Vec<GridRecord>, StoreError>> + Send;
    /// Every record of a list in the city whose status is `status` (for city-wide matching).
    fn grid_records_in_city(
        &self,
        city: CityCode,
        list: GridList,
        status: &str,
    ) -> impl Future<Output = Result<Vec<GridRecord>, StoreError>> + Send;
    /// Confirm a match into a project: the need must be open and the resource must have the
    /// capacity left; the need becomes matched and the capacity is taken, in one transaction.
    fn confirm_match(
        &self,
        city: CityCode,
        project: &Project,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Finish a project: completed (the need is met, the participants earn the
    /// `project_completed` points) or failed (the need opens again and the capacity returns);
    /// the resource's record of reliability counts it either way.
    #[allow(clippy::too_many_arguments)]
    fn finish_project(
        &self,
        city: CityCode,
        id: i64,
        outcome: ProjectStatus,
        note: &str,
        participants: &[i64],
        rules: &[PointRule],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Append award lines for an action (points from the rules × times).
    #[allow(clippy::too_many_arguments)]
    fn award_points(
        &self,
        city: CityCode,
        people: &[i64],
        action: &str,
        times: i64,
        reference: &str,
        rules: &[PointRule],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Redeem points: refused when the balance would go below zero. The balance is read in the
    /// same transaction as the line is written.
    fn redeem_points(
        &self,
        city: CityCode,
        person: PersonId,
        amount: i64,
        what: &str,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A person's ledger, oldest first.
    fn points_ledger(
        &self,
        city: CityCode,
        person: PersonId,
    ) -> impl Future<Output = Result<Vec<LedgerEntry>, StoreError>> + Send;
    /// The counts behind one grid's indicators over [from_ms, to_ms).
    fn grid_counts(
        &self,
        city: CityCode,
        grid: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Future<Output = Result<GridCounts, StoreError>> + Send;
    /// The counts behind the grid indicators over [from_ms, to_ms), per grid code: of one grid,
    /// or of every grid of the city (for the dashboard and the map, which add them up by
    /// division). A handful of grouped queries, whatever the number of grids.
    fn grid_counts_by_grid(
        &self,
        city: CityCode,
        grid: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Future<Output = Result<HashMap<String, GridCounts>, StoreError>> + Send;
}

impl GridTeamStore for Store {
    async fn add_grid_record(&self, city: CityCode, r: &NewRecord, actor: Option<PersonId>) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert(&mut tx, city, r, actor).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn add_grid_records(
        &self,
        city: CityCode,
        rs: &[NewRecord],
        actor: Option<PersonId>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(rs.len());
        for r in rs {
            ids.push(insert(&mut tx, city, r, actor).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    #[allow(clippy::too_many_arguments)]
    async fn import_grid_records(
        &self,
        city: CityCode,
        list: GridList,
        areas: &[String],
        rs: &[NewRecord],
        key: fn(&serde_json::Value) -> String,
        fields: &[&str],
        actor: Option<PersonId>,
    ) -> Result<RecordsImported, StoreError> {
        let mut tx = self.write().await?;
        // The stored records by key (the oldest when earlier imports stored copies).
        let mut stored: HashMap<String, GridRecord> = HashMap::new();
        for area in areas {
            let rows: Vec<RecordRow> = sqlx::query_as(&format!(
                "SELECT id, area, status, person_id, created_at, body FROM {} WHERE city = $1 AND area = $2 ORDER BY id",
                list.table()
            ))
            .bind(city.as_str())
            .bind(area)
            .fetch_all(&mut *tx)
            .await?;
            for r in rows.into_iter().map(|r| record(list, r)) {
                stored.entry(key(&r.body)).or_insert(r);
            }
        }
        let mut out = RecordsImported::default();
        for r in rs {
            let Some(old) = stored.get(&key(&r.body)) else {
                let id = insert(&mut tx, city, r, actor).await?;
                out.ids.push(id);
                out.report.added.push(id.to_string());
                continue;
            };
            out.ids.push(old.id);
            let mut body = old.body.clone();
            let mut changed = Vec::new();
            for f in fields {
                let new = r.body.get(*f).cloned().unwrap_or(serde_json::Value::Null);
                if body.get(*f).unwrap_or(&serde_json::Value::Null) != &new {
                    changed.push(*f);
                    body[*f] = new;
                }
            }
            if old.area != r.area {
                changed.push("area");
            }
            if changed.is_empty() {
                out.report.unchanged.push(old.id.to_string());
                continue;
            }
            sqlx::query(&format!(
                "UPDATE {} SET area = $1, body = $2 WHERE city = $3 AND id = $4",
                list.table()
            ))
            .bind(&r.area)
            .bind(body.to_string())
            .bind(city.as_str())
            .bind(old.id)
            .execute(&mut *tx)
            .await?;
            events::append(
                &mut tx,
                city,
                &format!("{}:{}", list.table(), old.id),
                &format!("{}_reimported", list.as_str()),
                actor,
                None,
                None,
                &serde_json::json!({ "area": r.area, "changed": changed, "body": body }),
            )
            .await?;
            out.report.updated.push(old.id.to_string());
        }
        if out.report.is_noop() {
            // Every row is stored as the file has it: nothing was written.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn change_grid_record(
        &self,
        city: CityCode,
        list: GridList,
        id: i64,
        status: &str,
        body: &serde_json::Value,
        kind: &str,
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        get_in(&mut tx, city, list, id).await?;
        update(&mut tx, city, list, id, status, body, kind, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn grid_record(&self, city: CityCode, list: GridList, id: i64) -> Result<Option<GridRecord>, StoreError> {
        let row: Option<RecordRow> = sqlx::query_as(&format!(
            "SELECT id, area, status, person_id, created_at, body FROM {} WHERE city = $1 AND id = $2",
            list.table()
        ))
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| record(list, r)))
    }

    async fn grid_records(
        &self,
        city: CityCode,
        list: GridList,
        areas: &[&str],
        status: Option<&str>,
    ) -> Result<Vec<GridRecord>, StoreError> {
        let mut out = Vec::new();
        for area in areas {
            let rows: Vec<RecordRow> = sqlx::query_as(&format!(
                "SELECT id, area, status, person_id, created_at, body FROM {} WHERE city = $1 AND area = $2
                 AND ($3 = '' OR status = $3) ORDER BY id",
                list.table()
            ))
            .bind(city.as_str())
            .bind(*area)
            .bind(status.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows.into_iter().map(|r| record(list, r)));
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    async fn grid_records_in_city(
        &self,
        city: CityCode,
        list: GridList,
        status: &str,
    ) -> Result<Vec<GridRecord>, StoreError> {
        let rows: Vec<RecordRow> = sqlx::query_as(&format!(
            "SELECT id, area, status, person_id, created_at, body FROM {} WHERE city = $1 AND status = $2 ORDER BY id",
            list.table()
        ))
        .bind(city.as_str())
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| record(list, r)).collect())
    }

    async fn confirm_match(
        &self,
        city: CityCode,
        project: &Project,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let need = get_in(&mut tx, city, GridList::Needs, project.need).await?;
        if need.status != NeedStatus::Open.as_str() {
            return Err(StoreError::Conflict(format!(
                "need {} is {}, not open: it already has a project",
                need.id, need.status
            )));
        }
        let res = get_in(&mut tx, city, GridList::Resources, project.resource).await?;
        let offer: Resource = res.body_as()?;
        let mut usage: Usage = serde_json::from_value(res.body["usage"].clone()).unwrap_or_default();
        let left = offer.capacity - usage.used;
        if left < project.quantity {
            return Err(StoreError::Conflict(format!(
                "resource {} has {left} of {} left; the project needs {}",
                res.id, offer.capacity, project.quantity
            )));
        }
        usage.used += project.quantity;
        let id = insert(
            &mut tx,
            city,
            &NewRecord {
                list: GridList::Projects,
                area: need.area.clone(),
                status: ProjectStatus::Active.as_str().into(),
                person: need.person,
                body: json(project),
            },
            actor,
        )
        .await?;
        let mut need_body = need.body.clone();
        need_body["project"] = id.into();
        update(
            &mut tx,
            city,
            GridList::Needs,
            need.id,
            NeedStatus::Matched.as_str(),
            &need_body,
            "need_matched",
            actor,
        )
        .await?;
        let mut res_body = res.body.clone();
        res_body["usage"] = json(&usage);
        let status = if usage.used >= offer.capacity {
            "exhausted"
        } else {
            "available"
        };
        update(
            &mut tx,
            city,
            GridList::Resources,
            res.id,
            status,
            &res_body,
            "resource_committed",
            actor,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_project(
        &self,
        city: CityCode,
        id: i64,
        outcome: ProjectStatus,
        note: &str,
        participants: &[i64],
        rules: &[PointRule],
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let rec = get_in(&mut tx, city, GridList::Projects, id).await?;
        if rec.status != ProjectStatus::Active.as_str() {
            return Err(StoreError::Conflict(format!("project {id} is already {}", rec.status)));
        }
        if outcome == ProjectStatus::Active {
            return Err(
                gongzhi_core::DomainError::invalid("outcome", "finish a project as completed or failed").into(),
            );
        }
        let mut project: Project = rec.body_as()?;
        project.outcome = Some(note.to_owned());
        project.participants = participants.to_vec();
        update(
            &mut tx,
            city,
            GridList::Projects,
            id,
            outcome.as_str(),
            &json(&project),
            "project_finished",
            actor,
        )
        .await?;
        let need = get_in(&mut tx, city, GridList::Needs, project.need).await?;
        let res = get_in(&mut tx, city, GridList::Resources, project.resource).await?;
        let offer: Resource = res.body_as()?;
        let mut usage: Usage = serde_json::from_value(res.body["usage"].clone()).unwrap_or_default();
        let need_status = if outcome == ProjectStatus::Completed {
            usage.completed += 1;
            NeedStatus::Met
        } else {
            usage.failed += 1;
            usage.used -= project.quantity;
            NeedStatus::Open
        };
        let mut res_body = res.body.clone();
        res_body["usage"] = json(&usage);
        let status = if usage.used >= offer.capacity {
            "exhausted"
        } else {
            "available"
        };
        update(
            &mut tx,
            city,
            GridList::Resources,
            res.id,
            status,
            &res_body,
            "resource_project_finished",
            actor,
        )
        .await?;
        let mut need_body = need.body.clone();
        if need_status == NeedStatus::Open {
            need_body["project"] = serde_json::Value::Null;
        }
        update(
            &mut tx,
            city,
            GridList::Needs,
            need.id,
            need_status.as_str(),
            &need_body,
            "need_project_finished",
            actor,
        )
        .await?;
        if outcome == ProjectStatus::Completed {
            let points = gridteam::award(rules, "project_completed", 1)?;
            let mut people = participants.to_vec();
            people.sort_unstable();
            people.dedup();
            for p in people {
                credit(
                    &mut tx,
                    city,
                    PersonId(p),
                    points,
                    "project_completed",
                    &format!("project:{id}"),
                    actor,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn award_points(
        &self,
        city: CityCode,
        people: &[i64],
        action: &str,
        times: i64,
        reference: &str,
        rules: &[PointRule],
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let points = gridteam::award(rules, action, times)?;
        let mut tx = self.write().await?;
        for p in people {
            credit(&mut tx, city, PersonId(*p), points, action, reference, actor).await?;
        }
        tx.commit().await?;
        Ok(points)
    }

    async fn redeem_points(
        &self,
        city: CityCode,
        person: PersonId,
        amount: i64,
        what: &str,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let (balance,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger WHERE city = $1 AND person_id = $2",
        )
        .bind(city.as_str())
        .bind(person.0)
        .fetch_one(&mut *tx)
        .await?;
        gridteam::check_redeem(balance, amount).map_err(|e| StoreError::Conflict(e.to_string()))?;
        credit(&mut tx, city, person, -amount, "redeem", what, actor).await?;
        tx.commit().await?;
        Ok(balance - amount)
    }

    async fn points_ledger(&self, city: CityCode, person: PersonId) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows: Vec<(i64, i64, i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, person_id, delta, action, reference, at FROM points_ledger
             WHERE city = $1 AND person_id = $2 ORDER BY id",
        )
        .bind(city.as_str())
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, person, delta, action, reference, at_ms)| LedgerEntry {
                id,
                person,
                delta,
                action,
                reference,
                at_ms,
            })
            .collect())
    }

    async fn grid_counts(
        &self,
        city: CityCode,
        grid: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<GridCounts, StoreError> {
        Ok(self
            .grid_counts_by_grid(city, Some(grid), from_ms, to_ms)
            .await?
            .remove(grid)
            .unwrap_or_default())
    }

    async fn grid_counts_by_grid(
        &self,
        city: CityCode,
        grid: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<HashMap<String, GridCounts>, StoreError> {
        let mut out: HashMap<String, GridCounts> = HashMap::new();
        // With no grid given, `$5 IS NULL` lets every row through.
        let cases: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT grid, source, state, COUNT(*) FROM cases WHERE city = $1 AND grid IS NOT NULL
             AND created_at >= $2 AND created_at < $3 AND (CAST($4 AS TEXT) IS NULL OR grid = $4)
             GROUP BY grid, source, state",
        )
        .bind(city.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .bind(grid)
        .fetch_all(&self.pool)
        .await?;
        for (g, source, state, n) in cases {
            let c = out.entry(g).or_default();
            match source.as_str() {
                "patrol" => c.cases_by_patrol += n,
                "resident" => c.cases_by_residents += n,
                _ => {}
            }
            if !matches!(state.as_str(), "collected" | "voided" | "merged") {
                c.cases_registered += n;
            }
        }
        let counts = |list: GridList| async move {
            let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
                "SELECT area, status, COUNT(*) FROM {} WHERE city = $1 AND created_at >= $2
                 AND created_at < $3 AND (CAST($4 AS TEXT) IS NULL OR area = $4) GROUP BY area, status",
                list.table()
            ))
            .bind(city.as_str())
            .bind(from_ms)
            .bind(to_ms)
            .bind(grid)
            .fetch_all(&self.pool)
            .await?;
            Ok::<_, StoreError>(rows)
        };
        let bodies = |list: GridList| async move {
            let rows: Vec<(String, i64, String)> = sqlx::query_as(&format!(
                "SELECT area, created_at, body FROM {} WHERE city = $1 AND (CAST($2 AS TEXT) IS NULL OR area = $2)",
                list.table()
            ))
            .bind(city.as_str())
            .bind(grid)
            .fetch_all(&self.pool)
            .await?;
            Ok::<_, StoreError>(
                rows.into_iter()
                    .map(|(a, t, b)| (a, t, serde_json::from_str(&b).unwrap_or(serde_json::Value::Null))),
            )
        };
        for (g, status, n) in counts(GridList::Needs).await? {
            let c = out.entry(g).or_default();
            match status.as_str() {
                "open" => c.needs_open += n,
                "matched" => c.needs_matched += n,
                "met" => c.needs_met += n,
                _ => {}
            }
        }
        // Resources count whatever their age: the list as it stands.
        for (g, _, body) in bodies(GridList::Resources).await? {
            let c = out.entry(g).or_default();
            c.resources += 1;
            let usage: Usage = serde_json::from_value(body["usage"].clone()).unwrap_or_default();
            if usage.used > 0 || usage.completed > 0 {
                c.resources_used += 1;
            }
        }
        for (g, status, n) in counts(GridList::Projects).await? {
            if status == "completed" {
                out.entry(g).or_default().projects_completed += n;
            }
        }
        for (g, _, n) in counts(GridList::Patrols).await? {
            out.entry(g).or_default().patrols += n;
        }
        for (g, _, n) in counts(GridList::Visits).await? {
            out.entry(g).or_default().visits += n;
        }
        for (g, at, body) in bodies(GridList::Activities).await? {
            if (from_ms..to_ms).contains(&at) {
                out.entry(g).or_default().attendances += body["attendance"].as_array().map_or(0, |v| v.len() as i64);
            }
        }
        for (g, at, body) in bodies(GridList::Volunteering).await? {
            if (from_ms..to_ms).contains(&at) {
                out.entry(g).or_default().volunteer_hours += body["hours"].as_i64().unwrap_or(0);
            }
        }
        Ok(out)
    }
}

/// The matching facts of a stored need.
pub fn need_facts(r: &GridRecord) -> Result<gridteam::NeedFacts, StoreError> {
    let n: Need = r.body_as()?;
    Ok(gridteam::NeedFacts {
        id: r.id,
        category: n.category,
        lng: n.lng,
        lat: n.lat,
        urgency: n.urgency,
        quantity: n.quantity,
    })
}

/// The matching facts of a stored resource.
pub fn resource_facts(r: &GridRecord) -> Result<gridteam::ResourceFacts, StoreError> {
    let o: Resource = r.body_as()?;
    let usage: Usage = serde_json::from_value(r.body["usage"].clone()).unwrap_or_default();
    Ok(gridteam::ResourceFacts {
        id: r.id,
        kind: o.kind,
        categories: o.categories,
        lng: o.lng,
        lat: o.lat,
        reach_m: o.reach_m,
        capacity: o.capacity,
        used: usage.used,
        windows: o.windows,
        completed: usage.completed,
        failed: usage.failed,
    })
}
