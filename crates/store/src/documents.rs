//! Editable documents per city (the catalogue, the working calendar): whole texts with a version,
//! each change an event.

use crate::write::Write;
use crate::{events, now_ms, Store, StoreError};
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

/// A stored document: its text and its version (1 for the first, +1 for each change).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub version: i64,
    pub body: String,
}

/// A city's editable documents (catalogue, calendar).
pub trait DocumentStore {
    /// A document, if it has been stored.
    fn document(&self, city: CityCode, name: &str)
        -> impl Future<Output = Result<Option<Document>, StoreError>> + Send;
    /// Replace a document. With `expected_version`, refuse (409) if someone changed it meanwhile.
    fn put_document(
        &self,
        city: CityCode,
        name: &str,
        body: &str,
        expected_version: Option<i64>,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

impl DocumentStore for Store {
    async fn document(&self, city: CityCode, name: &str) -> Result<Option<Document>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT version, body FROM documents WHERE city = $1 AND name = $2")
                .bind(city.as_str())
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(version, body)| Document { version, body }))
    }

    async fn put_document(
        &self,
        city: CityCode,
        name: &str,
        body: &str,
        expected_version: Option<i64>,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let version = put_document_in(&mut tx, city, name, body, expected_version, actor).await?;
        tx.commit().await?;
        Ok(version)
    }
}

/// Replace a document inside `tx` (so that a record and its attachment change together); the
/// same checks and event as [`Store::put_document`]. Returns the new version.
pub(crate) async fn put_document_in(
    tx: &mut Write<'_>,
    city: CityCode,
    name: &str,
    body: &str,
    expected_version: Option<i64>,
    actor: Option<PersonId>,
) -> Result<i64, StoreError> {
    let current: Option<(i64,)> = sqlx::query_as("SELECT version FROM documents WHERE city = $1 AND name = $2")
        .bind(city.as_str())
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    let current = current.map(|c| c.0);
    if let (Some(expected), Some(now)) = (expected_version, current) {
        if expected != now {
            return Err(StoreError::Conflict(format!(
                "the {name} was changed meanwhile (version {now}, you edited {expected}): reload and edit again"
            )));
        }
    }

    let version = current.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO documents (city, name, version, body, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (city, name) DO UPDATE SET version = excluded.version, body = excluded.body, updated_at = excluded.updated_at",
    )
    .bind(city.as_str())
    .bind(name)
    .bind(version)
    .bind(body)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    events::append(
        tx,
        city,
        &format!("document:{name}"),
        "document_changed",
        actor,
        None,
        None,
        &serde_json::json!({ "version": version, "bytes": body.len() }),
    )
    .await?;
    Ok(version)
}
