//! The log of reads of personal data (个人信息保护法): who was shown whose contact details or
//! household data, when, and where. Append-only; not a change to a record, so no event.

use std::future::Future;

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;

use crate::{now_ms, Store, StoreError};

/// One read of personal data.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PersonalRead {
    pub id: i64,
    pub at: i64,
    pub reader: PersonId,
    pub reader_name: String,
    /// What was read: `contact` (a reporter's name and phone) or `households` (a grid's register).
    pub kind: String,
    /// Which record: `case:123`, `grid:510104…`.
    pub subject: String,
    /// Where: the route or page that showed it.
    pub purpose: String,
}

/// Which reads to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReadQuery {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub reader: Option<PersonId>,
    pub subject: Option<String>,
    pub page: u32,
    pub page_size: u32,
}

pub trait PrivacyStore {
    /// Note that `reader` was shown personal data of `subject`.
    fn note_personal_read(
        &self,
        city: CityCode,
        reader: PersonId,
        kind: &str,
        subject: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The reads matching `q`, newest first, and how many match in all.
    fn personal_reads(
        &self,
        city: CityCode,
        q: &ReadQuery,
    ) -> impl Future<Output = Result<(Vec<PersonalRead>, i64), StoreError>> + Send;
}

const FILTER: &str = "r.city = $1
    AND (CAST($2 AS BIGINT) IS NULL OR r.at >= $2)
    AND (CAST($3 AS BIGINT) IS NULL OR r.at < $3)
    AND (CAST($4 AS BIGINT) IS NULL OR r.reader = $4)
    AND (CAST($5 AS TEXT) IS NULL OR r.subject = $5)";

type ReadRow = (i64, i64, i64, Option<String>, String, String, String);

impl PrivacyStore for Store {
    async fn note_personal_read(
        &self,
        city: CityCode,
        reader: PersonId,
        kind: &str,
        subject: &str,
        purpose: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO personal_data_reads (city, at, reader, kind, subject, purpose) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(city.as_str())
        .bind(now_ms())
        .bind(reader.0)
        .bind(kind)
        .bind(subject)
        .bind(purpose)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn personal_reads(&self, city: CityCode, q: &ReadQuery) -> Result<(Vec<PersonalRead>, i64), StoreError> {
        let size = q.page_size.clamp(1, 1000);
        let offset = i64::from(q.page.max(1) - 1) * i64::from(size);
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM personal_data_reads r WHERE {FILTER}"))
            .bind(city.as_str())
            .bind(q.from_ms)
            .bind(q.to_ms)
            .bind(q.reader.map(|p| p.0))
            .bind(q.subject.as_deref())
            .fetch_one(&self.pool)
            .await?;
        let rows: Vec<ReadRow> = sqlx::query_as(&format!(
            "SELECT r.id, r.at, r.reader, p.name, r.kind, r.subject, r.purpose
             FROM personal_data_reads r LEFT JOIN people p ON p.city = r.city AND p.id = r.reader
             WHERE {FILTER} ORDER BY r.at DESC, r.id DESC LIMIT {size} OFFSET {offset}"
        ))
        .bind(city.as_str())
        .bind(q.from_ms)
        .bind(q.to_ms)
        .bind(q.reader.map(|p| p.0))
        .bind(q.subject.as_deref())
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.into_iter()
                .map(|(id, at, reader, name, kind, subject, purpose)| PersonalRead {
                    id,
                    at,
                    reader: PersonId(reader),
                    reader_name: name.unwrap_or_default(),
                    kind,
                    subject,
                    purpose,
                })
                .collect(),
            total,
        ))
    }
}
