//! Personal information (个人信息保护法): every time someone other than the person themselves is
//! shown a reporter's contact details or a grid's household register, the read is logged (who,
//! when, which record, where); data-protection officers read and export the log.

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::calendar;
use gongzhi_core::ids::PersonId;
use gongzhi_core::table::CsvWriter;
use gongzhi_store::prelude::*;
use gongzhi_store::{PersonalRead, ReadQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{AppError, AppResult, AppState};

/// What was read.
pub const CONTACT: &str = "contact";
pub const HOUSEHOLDS: &str = "households";

/// Log that `p` was shown personal data (`kind`) of `subject` through `purpose` (the route or
/// page). A log that cannot be written refuses the read: personal data is not shown unlogged.
pub async fn note_read(s: &AppState, p: &Principal, kind: &str, subject: &str, purpose: &str) -> AppResult<()> {
    Ok(s.store
        .note_personal_read(p.city, p.person_id, kind, subject, purpose)
        .await?)
}

/// Which reads to list (days in China time, inclusive).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct ReadsQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Only this reader (a person of the register).
    pub reader: Option<i64>,
    /// Only this record, e.g. `case:123`.
    pub subject: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// One read, as the log shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadView {
    pub id: i64,
    /// When, China time (`YYYY-MM-DD HH:MM:SS`).
    pub at: String,
    #[schema(value_type = i64)]
    pub reader: PersonId,
    pub reader_name: String,
    /// `contact` (a reporter's name and phone) or `households` (a grid's household register).
    pub kind: String,
    pub subject: String,
    /// The route or page that showed it.
    pub purpose: String,
}

impl From<PersonalRead> for ReadView {
    fn from(r: PersonalRead) -> Self {
        ReadView {
            id: r.id,
            at: chrono::DateTime::from_timestamp_millis(r.at)
                .unwrap_or_default()
                .with_timezone(&calendar::china_time())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            reader: r.reader,
            reader_name: r.reader_name,
            kind: r.kind,
            subject: r.subject,
            purpose: r.purpose,
        }
    }
}

fn require(p: &Principal) -> AppResult<()> {
    if p.may(Permission::AuditPersonalData, p.city.as_str()) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the log of reads of personal data is for the city's data-protection officers",
        ))
    }
}

fn day_ms(field: &str, day: &str, next: bool) -> AppResult<i64> {
    let d = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(format!("{field}: '{day}' is not a day: write it as 2026-12-08")))?;
    let d = if next { d.succ_opt().unwrap_or(d) } else { d };
    Ok(calendar::china_day_start_ms(d))
}

/// The reads matching `q`, newest first, and how many match in all.
pub async fn reads(s: &AppState, p: &Principal, q: &ReadsQuery) -> AppResult<(Vec<ReadView>, i64)> {
    require(p)?;
    let query = ReadQuery {
        from_ms: q
            .from
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| day_ms("from", d, false))
            .transpose()?,
        to_ms: q
            .to
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| day_ms("to", d, true))
            .transpose()?,
        reader: q.reader.map(PersonId),
        subject: q.subject.clone().filter(|x| !x.trim().is_empty()),
        page: q.page.unwrap_or(1),
        page_size: q.page_size.unwrap_or(100),
    };
    let (rows, total) = s.store.personal_reads(p.city, &query).await?;
    Ok((rows.into_iter().map(ReadView::from).collect(), total))
}

/// The matching reads as CSV (every cell guarded against formulas), at most 100,000 rows.
pub async fn reads_csv(s: &AppState, p: &Principal, q: &ReadsQuery) -> AppResult<String> {
    let q = ReadsQuery {
        page: Some(1),
        page_size: Some(1000),
        ..q.clone()
    };
    let mut w = CsvWriter::from_writer(Vec::new());
    let bad = |e: csv::Error| AppError::invalid(e.to_string());
    w.write_record(["id", "at", "reader", "reader_name", "kind", "subject", "purpose"])
        .map_err(bad)?;
    let mut page = 1;
    loop {
        let (rows, total) = reads(
            s,
            p,
            &ReadsQuery {
                page: Some(page),
                ..q.clone()
            },
        )
        .await?;
        for r in &rows {
            w.write_record([
                r.id.to_string(),
                r.at.clone(),
                r.reader.to_string(),
                r.reader_name.clone(),
                r.kind.clone(),
                r.subject.clone(),
                r.purpose.clone(),
            ])
            .map_err(bad)?;
        }
        if rows.is_empty() || i64::from(page) * 1000 >= total.min(100_000) {
            break;
        }
        page += 1;
    }
    let bytes = w.into_inner().map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
