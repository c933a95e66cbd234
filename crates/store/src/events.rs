//! The one event log. Every change to a record appends an immutable event in the transaction that
//! makes the change; nothing is updated without its event.

use crate::write::Write;
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use serde::Serialize;
use std::future::Future;

use crate::{now_ms, Store, StoreError};

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub stream: String,
    pub kind: String,
    pub actor: Option<PersonId>,
    pub role: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    pub reason: Option<String>,
    pub payload: serde_json::Value,
}

/// Append one event to the change `tx` writes.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn append(
    tx: &mut Write<'_>,
    city: CityCode,
    stream: &str,
    kind: &str,
    actor: Option<PersonId>,
    role: Option<&str>,
    reason: Option<&str>,
    payload: &serde_json::Value,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO events (city, stream, kind, actor, role, at, reason, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(city.as_str())
    .bind(stream)
    .bind(kind)
    .bind(actor.map(|id| id.0))
    .bind(role)
    .bind(now_ms())
    .bind(reason)
    .bind(payload.to_string())
    .fetch_one(&mut **tx)
    .await?;
    tx.appended(1);
    tx.names(stream);
    Ok(id)
}

type EventRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
    String,
);

/// Reading the one event log.
pub trait EventLog {
    /// The events of one stream, oldest first.
    fn events(&self, city: CityCode, stream: &str) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
    /// How many events a city has (all streams).
    fn event_count(&self, city: CityCode) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

impl EventLog for Store {
    async fn events(&self, city: CityCode, stream: &str) -> Result<Vec<Event>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        stream_in(&mut conn, city, stream).await
    }

    async fn event_count(&self, city: CityCode) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE city = $1")
            .bind(city.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

/// The events of one stream, oldest first, read on `conn` (a pooled connection or a transaction).
pub async fn stream_in(conn: &mut sqlx::AnyConnection, city: CityCode, stream: &str) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, stream, kind, actor, role, at, reason, payload FROM events
         WHERE city = $1 AND stream = $2 ORDER BY id",
    )
    .bind(city.as_str())
    .bind(stream)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, stream, kind, actor, role, at, reason, payload)| Event {
            id,
            stream,
            kind,
            actor: actor.map(PersonId),
            role,
            at,
            reason,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}
