//! Wicked-problem initiatives: a row per initiative (for lists and access) and its events in the
//! one event log (stream `initiative:ID`); the initiative is replayed from them. Each change is
//! checked by the core against the stage the actor works on, and stored at the version the actor
//! saw, or refused.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use gongzhi_core::wicked::{Entry, Initiative, InitiativeEvent, ProblemType, Side};
use std::future::Future;

use crate::premises::{write_premises, PremisesImported};
use crate::write::Write;
use crate::{events, now_ms, Store, StoreError};
use gongzhi_core::premises::Premises;

/// An initiative as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InitiativeRow {
    pub id: i64,
    pub name: String,
    pub problem: ProblemType,
    pub community: String,
    pub created_at: i64,
    pub version: i64,
}

type Row = (i64, String, String, String, i64, i64);

fn row((id, name, problem, community, created_at, version): Row) -> Result<InitiativeRow, StoreError> {
    Ok(InitiativeRow {
        id,
        name,
        problem: problem.parse()?,
        community,
        created_at,
        version,
    })
}

fn stream(id: i64) -> String {
    format!("initiative:{id}")
}

/// Owners' initiatives (Civil Code art. 278).
pub trait InitiativeStore {
    /// Open an initiative; the opener becomes its first back-stage member.
    fn create_initiative(
        &self,
        city: CityCode,
        opened: &InitiativeEvent,
        opener: (i64, &str),
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Record events on an initiative as a member of `side` who saw it at `expected_version`.
    /// Each event is checked by the core in order; any refusal stores nothing.
    fn record_initiative(
        &self,
        city: CityCode,
        id: i64,
        expected_version: i64,
        side: Side,
        actor: PersonId,
        new: &[InitiativeEvent],
    ) -> impl Future<Output = Result<Initiative, StoreError>> + Send;
    /// Register an initiative's units from a premises file in ONE transaction: the file's
    /// buildings and units into the premises register (unchanged ones left alone) and `new`
    /// (the units registration, when it adds or changes units) on the initiative, as
    /// [`InitiativeStore::record_initiative`] does; all or nothing.
    #[allow(clippy::too_many_arguments)]
    fn import_initiative_units(
        &self,
        city: CityCode,
        id: i64,
        expected_version: i64,
        side: Side,
        actor: PersonId,
        premises: &Premises,
        new: &[InitiativeEvent],
    ) -> impl Future<Output = Result<(Initiative, PremisesImported), StoreError>> + Send;
    /// An initiative replayed from its events, with its version.
    fn initiative(
        &self,
        city: CityCode,
        id: i64,
    ) -> impl Future<Output = Result<Option<(Initiative, i64)>, StoreError>> + Send;
    fn initiative_row(
        &self,
        city: CityCode,
        id: i64,
    ) -> impl Future<Output = Result<Option<InitiativeRow>, StoreError>> + Send;
    /// All initiatives of the city (their names and scopes are public), newest first.
    fn initiatives(&self, city: CityCode) -> impl Future<Output = Result<Vec<InitiativeRow>, StoreError>> + Send;
    /// The initiatives a person is a member of, with the side they work on.
    fn initiative_seats(
        &self,
        city: CityCode,
        person: PersonId,
    ) -> impl Future<Output = Result<Vec<(i64, Side)>, StoreError>> + Send;
}

impl InitiativeStore for Store {
    async fn create_initiative(
        &self,
        city: CityCode,
        opened: &InitiativeEvent,
        opener: (i64, &str),
    ) -> Result<i64, StoreError> {
        let InitiativeEvent::Opened {
            name,
            problem,
            community,
            ..
        } = opened
        else {
            return Err(gongzhi_core::DomainError::invalid("event", "an initiative starts with its opening").into());
        };
        let at = now_ms();
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO initiatives (city, name, problem, community, created_at, version)
             VALUES ($1, $2, $3, $4, $5, 2) RETURNING id",
        )
        .bind(city.as_str())
        .bind(name)
        .bind(problem.as_str())
        .bind(community)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let joined = InitiativeEvent::MemberJoined {
            person: opener.0,
            name: opener.1.to_owned(),
            side: Side::Back,
        };
        for e in [opened, &joined] {
            events::append(
                &mut tx,
                city,
                &stream(id),
                e.kind(),
                Some(PersonId(opener.0)),
                None,
                None,
                &serde_json::to_value(e).map_err(json)?,
            )
            .await?;
        }
        add_member(&mut tx, city, id, PersonId(opener.0), Side::Back).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn record_initiative(
        &self,
        city: CityCode,
        id: i64,
        expected_version: i64,
        side: Side,
        actor: PersonId,
        new: &[InitiativeEvent],
    ) -> Result<Initiative, StoreError> {
        let mut tx = self.write().await?;
        let initiative = record_in(&mut tx, city, id, expected_version, side, actor, new).await?;
        if new.is_empty() {
            // Nothing to record (a re-import that changes nothing).
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(initiative)
    }

    #[allow(clippy::too_many_arguments)]
    async fn import_initiative_units(
        &self,
        city: CityCode,
        id: i64,
        expected_version: i64,
        side: Side,
        actor: PersonId,
        premises: &Premises,
        new: &[InitiativeEvent],
    ) -> Result<(Initiative, PremisesImported), StoreError> {
        self.check_premises(city, premises).await?;
        let mut tx = self.write().await?;
        let initiative = record_in(&mut tx, city, id, expected_version, side, actor, new).await?;
        let report = write_premises(&mut tx, city, premises, Some(actor)).await?;
        if new.is_empty() && report.is_noop() {
            // The register and the initiative already hold the file as it is.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        let imported = PremisesImported {
            buildings: premises.buildings.len(),
            units: premises.units.len(),
            report,
        };
        Ok((initiative, imported))
    }

    async fn initiative(&self, city: CityCode, id: i64) -> Result<Option<(Initiative, i64)>, StoreError> {
        let Some(r) = self.initiative_row(city, id).await? else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        let entries = events::stream_in(&mut conn, city, &stream(id)).await?;
        Ok(Some((replay(id, entries)?, r.version)))
    }

    async fn initiative_row(&self, city: CityCode, id: i64) -> Result<Option<InitiativeRow>, StoreError> {
        let r: Option<Row> = sqlx::query_as(
            "SELECT id, name, problem, community, created_at, version FROM initiatives WHERE city = $1 AND id = $2",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        r.map(row).transpose()
    }

    async fn initiatives(&self, city: CityCode) -> Result<Vec<InitiativeRow>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, name, problem, community, created_at, version FROM initiatives WHERE city = $1 ORDER BY id DESC",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }

    async fn initiative_seats(&self, city: CityCode, person: PersonId) -> Result<Vec<(i64, Side)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT initiative, side FROM initiative_members WHERE city = $1 AND person = $2 ORDER BY initiative",
        )
        .bind(city.as_str())
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(i, s)| Ok((i, s.parse()?))).collect()
    }
}

/// Record events on an initiative in `tx` (see [`InitiativeStore::record_initiative`]).
async fn record_in(
    tx: &mut Write<'_>,
    city: CityCode,
    id: i64,
    expected_version: i64,
    side: Side,
    actor: PersonId,
    new: &[InitiativeEvent],
) -> Result<Initiative, StoreError> {
    sqlx::query("UPDATE initiatives SET version = version WHERE city = $1 AND id = $2")
        .bind(city.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM initiatives WHERE city = $1 AND id = $2")
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("initiative {id}")))?;
    if version != expected_version {
        return Err(StoreError::Conflict(format!(
            "initiative {id} was changed by someone else meanwhile (version {version} now, {expected_version} expected): reload it"
        )));
    }
    let mut initiative = replay(id, events::stream_in(tx, city, &stream(id)).await?)?;
    let at = now_ms();
    for e in new {
        initiative.check(side, e)?;
        events::append(
            tx,
            city,
            &stream(id),
            e.kind(),
            Some(actor),
            Some(side.as_str()),
            None,
            &serde_json::to_value(e).map_err(json)?,
        )
        .await?;
        if let InitiativeEvent::MemberJoined { person, side, .. } = e {
            add_member(tx, city, id, PersonId(*person), *side).await?;
        }
        initiative.apply(Entry {
            at,
            actor: Some(actor),
            event: e.clone(),
        });
        if let InitiativeEvent::CommitteeElected { candidates, .. } = e {
            // The elected join the front stage.
            for (person, _) in candidates {
                if initiative.side_of(*person) == Some(Side::Front) {
                    add_member(tx, city, id, PersonId(*person), Side::Front).await?;
                }
            }
        }
    }
    sqlx::query("UPDATE initiatives SET version = version + $1 WHERE city = $2 AND id = $3")
        .bind(new.len() as i64)
        .bind(city.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(initiative)
}

async fn add_member(
    tx: &mut Write<'_>,
    city: CityCode,
    initiative: i64,
    person: PersonId,
    side: Side,
) -> Result<(), StoreError> {
    // A person works on one side of an initiative: joining the other side is refused.
    let existing: Option<(String,)> =
        sqlx::query_as("SELECT side FROM initiative_members WHERE city = $1 AND initiative = $2 AND person = $3")
            .bind(city.as_str())
            .bind(initiative)
            .bind(person.0)
            .fetch_optional(&mut **tx)
            .await?;
    match existing {
        Some((s,)) if s == side.as_str() => Ok(()),
        Some((s,)) => Err(StoreError::Conflict(format!(
            "person {person} already works on the {s} stage of this initiative; the stages have different members"
        ))),
        None => {
            sqlx::query("INSERT INTO initiative_members (city, initiative, person, side) VALUES ($1, $2, $3, $4)")
                .bind(city.as_str())
                .bind(initiative)
                .bind(person.0)
                .bind(side.as_str())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
    }
}

fn json(e: serde_json::Error) -> StoreError {
    StoreError::Unavailable(format!("an initiative event does not encode: {e}"))
}

fn replay(id: i64, rows: Vec<events::Event>) -> Result<Initiative, StoreError> {
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        let event: InitiativeEvent = serde_json::from_value(r.payload)
            .map_err(|e| StoreError::Unavailable(format!("event {} of initiative {id} does not decode: {e}", r.id)))?;
        entries.push(Entry {
            at: r.at,
            actor: r.actor,
            event,
        });
    }

    Ok(Initiative::replay(id, entries))
}
