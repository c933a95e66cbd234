//! Flat governance storage: forms demanded from grassroots units, staffing over time, staff
//! counts and the period's cases for workload and replay. Each change appends its event.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::collections::HashMap;
use std::future::Future;

use gongzhi_core::flat::Demand;

use crate::{events, now_ms, Store, StoreError};

/// A community committee: its organisation id, name and how many people it has.
#[derive(Debug, Clone, PartialEq)]
pub struct Committee {
    pub id: i64,
    pub name: String,
    pub people: u32,
}

/// A person of a community committee: the community's code and the person's name.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeMember {
    pub community: String,
    pub name: String,
}

/// A stored demand (填表报数).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredDemand {
    pub id: i64,
    #[serde(flatten)]
    pub demand: Demand,
    pub created_at: i64,
}

/// Flat governance: demands and staffing.
pub trait FlatStore {
    /// Record a form or report demanded from a grassroots unit.
    fn add_demand(
        &self,
        city: CityCode,
        d: &Demand,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Record several demands in one transaction (all or none), each with its event.
    fn add_demands(
        &self,
        city: CityCode,
        ds: &[Demand],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Demands on units inside `within` (a code prefix; empty: all) due in `[from_ms, to_ms)`.
    fn demands(
        &self,
        city: CityCode,
        within: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Future<Output = Result<Vec<StoredDemand>, StoreError>> + Send;
    /// Record that a community has `workers` from `from_day` (YYYY-MM-DD) on.
    fn set_staffing(
        &self,
        city: CityCode,
        community: &str,
        from_day: &str,
        workers: u32,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Several staffing records `(community, from_day, workers)` in one transaction.
    fn set_staffings(
        &self,
        city: CityCode,
        records: &[(String, String, u32)],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Staffing records: community → [(from_day, workers)] in day order.
    fn staffing(
        &self,
        city: CityCode,
    ) -> impl Future<Output = Result<HashMap<String, Vec<(String, u32)>>, StoreError>> + Send;
    /// The committee of each community, by community code.
    fn community_staff(
        &self,
        city: CityCode,
    ) -> impl Future<Output = Result<HashMap<String, Committee>, StoreError>> + Send;
    /// Steps each person took in `[from_ms, to_ms)` on cases (accept, forward, handling report,
    /// verification): person → steps.
    fn steps_by_person(
        &self,
        city: CityCode,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Future<Output = Result<HashMap<i64, u64>, StoreError>> + Send;
    /// The people of community committees, by person id.
    fn community_people(
        &self,
        city: CityCode,
    ) -> impl Future<Output = Result<HashMap<i64, CommitteeMember>, StoreError>> + Send;
}

impl FlatStore for Store {
    async fn add_demand(&self, city: CityCode, d: &Demand, actor: Option<PersonId>) -> Result<i64, StoreError> {
        Ok(self.add_demands(city, std::slice::from_ref(d), actor).await?[0])
    }

    async fn add_demands(
        &self,
        city: CityCode,
        ds: &[Demand],
        actor: Option<PersonId>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(ds.len());
        for d in ds {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO flat_demands (city, unit_area, demanded_by, title, due_at, hours_spent, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(city.as_str())
            .bind(d.unit_area.as_str())
            .bind(&d.demanded_by)
            .bind(&d.title)
            .bind(d.due_ms)
            .bind(d.hours_spent)
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?;
            events::append(
                &mut tx,
                city,
                &format!("demand:{id}"),
                "demand_recorded",
                actor,
                None,
                None,
                &serde_json::to_value(d).unwrap_or_default(),
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn demands(
        &self,
        city: CityCode,
        within: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredDemand>, StoreError> {
        let rows: Vec<(i64, String, String, String, i64, f64, i64)> = sqlx::query_as(
            "SELECT id, unit_area, demanded_by, title, due_at, hours_spent, created_at FROM flat_demands
             WHERE city = $1 AND unit_area LIKE $2 AND due_at >= $3 AND due_at < $4 ORDER BY due_at, id",
        )
        .bind(city.as_str())
        .bind(format!("{within}%"))
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, area, by, title, due, hours, created_at)| {
                Ok(StoredDemand {
                    id,
                    demand: Demand::new(&by, &area, &title, due, hours)?,
                    created_at,
                })
            })
            .collect()
    }

    async fn set_staffing(
        &self,
        city: CityCode,
        community: &str,
        from_day: &str,
        workers: u32,
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        self.set_staffings(city, &[(community.to_owned(), from_day.to_owned(), workers)], actor)
            .await
    }

    async fn set_staffings(
        &self,
        city: CityCode,
        records: &[(String, String, u32)],
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for (community, from_day, workers) in records {
            let workers = *workers;
            sqlx::query(
                "INSERT INTO flat_staffing (city, community, from_day, workers) VALUES ($1, $2, $3, $4)
             ON CONFLICT (city, community, from_day) DO UPDATE SET workers = excluded.workers",
            )
            .bind(city.as_str())
            .bind(community)
            .bind(from_day)
            .bind(i64::from(workers))
            .execute(&mut *tx)
            .await?;
            events::append(
                &mut tx,
                city,
                &format!("staffing:{community}"),
                "staffing_recorded",
                actor,
                None,
                None,
                &serde_json::json!({ "from_day": from_day, "workers": workers }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn staffing(&self, city: CityCode) -> Result<HashMap<String, Vec<(String, u32)>>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT community, from_day, workers FROM flat_staffing WHERE city = $1 ORDER BY community, from_day",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, Vec<(String, u32)>> = HashMap::new();
        for (c, day, w) in rows {
            out.entry(c).or_default().push((day, u32::try_from(w).unwrap_or(0)));
        }
        Ok(out)
    }

    async fn community_staff(&self, city: CityCode) -> Result<HashMap<String, Committee>, StoreError> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT o.id, o.name, o.jurisdiction, COUNT(p.id) FROM organisations o
             LEFT JOIN people p ON p.city = o.city AND p.org_id = o.id
             WHERE o.city = $1 AND o.kind = 'community_committee'
             GROUP BY o.id, o.name, o.jurisdiction",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, juris, n)| {
                let code = juris.split(';').next().unwrap_or_default().to_owned();
                (
                    code,
                    Committee {
                        id,
                        name,
                        people: u32::try_from(n).unwrap_or(0),
                    },
                )
            })
            .collect())
    }

    async fn steps_by_person(&self, city: CityCode, from_ms: i64, to_ms: i64) -> Result<HashMap<i64, u64>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT actor, COUNT(*) FROM events
             WHERE city = $1 AND kind IN ('accepted', 'forwarded', 'handling_reported', 'verification_passed', 'verification_failed')
               AND at >= $2 AND at < $3 AND actor IS NOT NULL
             GROUP BY actor",
        )
        .bind(city.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(a, n)| (a, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn community_people(&self, city: CityCode) -> Result<HashMap<i64, CommitteeMember>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT p.id, p.name, o.jurisdiction FROM people p
             JOIN organisations o ON o.city = p.city AND o.id = p.org_id
             WHERE p.city = $1 AND o.kind = 'community_committee'",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, juris)| {
                let community = juris.split(';').next().unwrap_or_default().to_owned();
                (id, CommitteeMember { community, name })
            })
            .collect())
    }
}
