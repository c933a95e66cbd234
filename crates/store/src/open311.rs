//! Open311 GeoReport v2 storage: API keys of client applications (each reports as its own
//! "API client" person), the tokens of requests, the private part of requests (attribute
//! answers, e-mail, device and account ids), the request search and the public photo.

use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::collections::HashMap;
use std::future::Future;

use crate::prelude::*;

use crate::sha256_hex;
use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::case::{Case, CaseEvent, CaseState};
use gongzhi_core::org::Role;

use crate::sql::{Arg, Sql};
use crate::{events, now_ms, CaseRow, Store, StoreError};

/// An API key as stored: the city it is valid in and the person it reports as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Key {
    pub city: CityCode,
    pub person_id: PersonId,
    pub label: String,
}

/// What an Open311 request brought besides the case itself.
#[derive(Debug, Clone, Default)]
pub struct Open311Request {
    pub token: String,
    pub service_code: String,
    /// The attribute answers (code → value or array).
    pub attributes: serde_json::Value,
    /// Private: never in public responses.
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    /// A media URL the client sent (public).
    pub media_url: Option<String>,
    /// The photo uploaded as `media` (public, served by the Open311 media route).
    pub photo_id: Option<i64>,
}

/// What a public answer may show of a request taken through Open311.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Open311Media {
    pub photo_id: Option<i64>,
    pub media_url: Option<String>,
}

/// A search of `GET requests`.
#[derive(Debug, Clone, Default)]
pub struct Open311Query {
    /// These cases only (then the other filters are not applied by the caller).
    pub ids: Vec<CaseId>,
    /// Filing condition codes (service codes).
    pub conditions: Vec<String>,
    pub states: Vec<CaseState>,
    /// requested_datetime within [from, to] (ms), inclusive.
    pub window: Option<(i64, i64)>,
    pub page: u32,
    pub page_size: u32,
}

type CaseTuple = (String, String, Option<i64>, i64, i64);

fn row_of((snapshot, area, reporter, created_at, updated_at): CaseTuple) -> Result<CaseRow, StoreError> {
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

/// What an Open311 request brought that only staff may see.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Private {
    pub service_code: String,
    /// The request's attributes, as JSON.
    pub attributes: String,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
}

/// Open311 GeoReport v2 keys and requests.
pub trait Open311Store {
    /// Create an Open311 client: a person named after `label` with the role resident in the
    /// whole city, and its API key (only the hash is kept), in one transaction. Returns the
    /// person's id.
    fn create_open311_client(
        &self,
        city: CityCode,
        label: &str,
        key: &str,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The Open311 key with this text, in whatever city it was made.
    fn open311_key(&self, key: &str) -> impl Future<Output = Result<Option<Open311Key>, StoreError>> + Send;
    /// Record a new case from an Open311 request with its photo (public), its token and what the
    /// request brought beside the case, all in one transaction: a crash leaves either all of it
    /// or nothing. The case and the photo's media id.
    fn create_open311_request(
        &self,
        city: CityCode,
        new: &crate::NewCase,
        photo: Option<(&str, &[u8])>,
        r: &Open311Request,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(CaseRow, Option<i64>), StoreError>> + Send;
    /// The case a request token stands for.
    fn open311_token(
        &self,
        city: CityCode,
        token: &str,
    ) -> impl Future<Output = Result<Option<CaseId>, StoreError>> + Send;
    /// The private part of an Open311 request. For staff and tests; never for public answers.
    fn open311_private(
        &self,
        city: CityCode,
        case_id: CaseId,
    ) -> impl Future<Output = Result<Option<Open311Private>, StoreError>> + Send;
    /// Cases for `GET requests`, newest first, and how many match in all.
    /// Internal cases (an initiative's back-stage tasks) are neither listed nor counted.
    fn open311_requests(
        &self,
        city: CityCode,
        q: &Open311Query,
    ) -> impl Future<Output = Result<(Vec<CaseRow>, i64), StoreError>> + Send;
    /// The events of these kinds of some cases, oldest first, with their case ids.
    fn case_events_of_kinds(
        &self,
        city: CityCode,
        ids: &[CaseId],
        kinds: &[&str],
    ) -> impl Future<Output = Result<Vec<(CaseId, CaseEvent)>, StoreError>> + Send;
    /// The public media of those cases that came through Open311.
    fn open311_media(
        &self,
        city: CityCode,
        ids: &[CaseId],
    ) -> impl Future<Output = Result<HashMap<CaseId, Open311Media>, StoreError>> + Send;
    /// A photo uploaded with an Open311 request (the only case photos served publicly), by its
    /// media id.
    fn open311_photo(
        &self,
        city: CityCode,
        photo_id: i64,
    ) -> impl Future<Output = Result<Option<crate::Media>, StoreError>> + Send;
}

impl Open311Store for Store {
    async fn create_open311_client(
        &self,
        city: CityCode,
        label: &str,
        key: &str,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(StoreError::Invalid(gongzhi_core::DomainError::invalid(
                "label",
                "give the client a name of 1 to 100 characters",
            )));
        }
        let scope = Scope::Division(city.division());
        let name = format!("Open311 客户端 {label}");
        let mut tx = self.write().await?;
        let known: Option<(String,)> = sqlx::query_as("SELECT code FROM divisions WHERE city = $1 AND code = $1")
            .bind(city.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("city {city}")));
        }
        let taken: Option<(i64,)> = sqlx::query_as("SELECT person_id FROM open311_keys WHERE city = $1 AND label = $2")
            .bind(city.as_str())
            .bind(label)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "an Open311 client named '{label}' exists already; choose another label"
            )));
        }
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO people (city, name, phone, org_id) VALUES ($1, $2, NULL, NULL) RETURNING id")
                .bind(city.as_str())
                .bind(&name)
                .fetch_one(&mut *tx)
                .await?;
        let grant = Grant {
            role: Role::Resident,
            scope,
        };
        sqlx::query("INSERT INTO grants (city, person_id, role, scope) VALUES ($1, $2, $3, $4)")
            .bind(city.as_str())
            .bind(id)
            .bind(grant.role.as_str())
            .bind(grant.scope.encode())
            .execute(&mut *tx)
            .await?;
        events::append(
            &mut tx,
            city,
            &format!("person:{id}"),
            "person_created",
            actor,
            None,
            None,
            &serde_json::json!({ "name": name, "org": null, "grants": [format!("{}@{}", grant.role, grant.scope.encode())], "login": null }),
        )
        .await?;
        sqlx::query(
            "INSERT INTO open311_keys (city, key_hash, person_id, label, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(city.as_str())
        .bind(sha256_hex(key))
        .bind(id)
        .bind(label)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_insert(e, || "the key exists already".into()))?;
        events::append(
            &mut tx,
            city,
            &format!("person:{id}"),
            "open311_key_created",
            actor,
            None,
            None,
            &serde_json::json!({ "label": label }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn open311_key(&self, key: &str) -> Result<Option<Open311Key>, StoreError> {
        let row: Option<(String, i64, String)> =
            sqlx::query_as("SELECT city, person_id, label FROM open311_keys WHERE key_hash = $1")
                .bind(sha256_hex(key))
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((city, person_id, label)) => Some(Open311Key {
                city: CityCode::parse(&city)?,
                person_id: PersonId(person_id),
                label,
            }),
            None => None,
        })
    }

    async fn create_open311_request(
        &self,
        city: CityCode,
        new: &crate::NewCase,
        photo: Option<(&str, &[u8])>,
        r: &Open311Request,
        actor: Option<PersonId>,
    ) -> Result<(CaseRow, Option<i64>), StoreError> {
        let mut tx = self.write().await?;
        let row = crate::cases::insert_case(&mut tx, city, new).await?;
        let case_id = row.case.id;
        let photo_id = match photo {
            Some((content_type, data)) => {
                Some(crate::cases::insert_case_photo(&mut tx, city, case_id, content_type, data, actor, true).await?)
            }
            None => None,
        };
        let r = &Open311Request { photo_id, ..r.clone() };
        sqlx::query("INSERT INTO open311_tokens (city, token, case_id) VALUES ($1, $2, $3)")
            .bind(city.as_str())
            .bind(&r.token)
            .bind(case_id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_insert(e, || "the token exists already".into()))?;
        sqlx::query(
            "INSERT INTO open311_requests (city, case_id, service_code, attributes, email, device_id, account_id, media_url, photo_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(city.as_str())
        .bind(case_id.0)
        .bind(&r.service_code)
        .bind(r.attributes.to_string())
        .bind(r.email.as_deref())
        .bind(r.device_id.as_deref())
        .bind(r.account_id.as_deref())
        .bind(r.media_url.as_deref())
        .bind(r.photo_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        // The event says what came in, not who: contacts stay in their private columns.
        events::append(
            &mut tx,
            city,
            &format!("case:{case_id}:open311"),
            "open311_request",
            actor,
            Some(Role::Resident.as_str()),
            None,
            &serde_json::json!({
                "service_code": r.service_code,
                "attributes": r.attributes,
                "photo": r.photo_id,
                "media_url": r.media_url,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok((row, photo_id))
    }

    async fn open311_token(&self, city: CityCode, token: &str) -> Result<Option<CaseId>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT case_id FROM open311_tokens WHERE city = $1 AND token = $2")
            .bind(city.as_str())
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| CaseId(r.0)))
    }

    #[allow(clippy::type_complexity)]
    async fn open311_private(&self, city: CityCode, case_id: CaseId) -> Result<Option<Open311Private>, StoreError> {
        let row: Option<(String, String, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT service_code, attributes, email, device_id, account_id FROM open311_requests WHERE city = $1 AND case_id = $2",
        )
        .bind(city.as_str())
        .bind(case_id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(service_code, attributes, email, device_id, account_id)| Open311Private {
                service_code,
                attributes,
                email,
                device_id,
                account_id,
            },
        ))
    }

    async fn open311_requests(&self, city: CityCode, q: &Open311Query) -> Result<(Vec<CaseRow>, i64), StoreError> {
        let mut w = Sql::new("WHERE city = ");
        w.arg(Arg::Text(city.to_string()));
        w.push(" AND source <> 'initiative'");
        if !q.ids.is_empty() {
            let ps: Vec<String> = q.ids.iter().map(|id| w.param(Arg::Int(id.0))).collect();
            w.push(&format!(" AND id IN ({})", ps.join(", ")));
        }
        if !q.conditions.is_empty() {
            let ps: Vec<String> = q.conditions.iter().map(|c| w.param(Arg::Text(c.clone()))).collect();
            w.push(&format!(" AND condition IN ({})", ps.join(", ")));
        }
        if !q.states.is_empty() {
            let ps: Vec<String> = q
                .states
                .iter()
                .map(|s| w.param(Arg::Text(s.as_str().to_owned())))
                .collect();
            w.push(&format!(" AND state IN ({})", ps.join(", ")));
        }
        if let Some((from, to)) = q.window {
            let a = w.param(Arg::Int(from));
            let b = w.param(Arg::Int(to));
            w.push(&format!(" AND created_at BETWEEN {a} AND {b}"));
        }
        let total: (i64,) = w
            .query_as(&format!("SELECT COUNT(*) FROM cases {}", w.text()))
            .fetch_one(&self.pool)
            .await?;
        let size = q.page_size.clamp(1, 1000);
        let offset = i64::from(q.page.max(1) - 1) * i64::from(size);
        let sql = format!(
            "SELECT snapshot, area, reporter_id, created_at, updated_at FROM cases {}
             ORDER BY created_at DESC, id DESC LIMIT {size} OFFSET {offset}",
            w.text()
        );
        let rows: Vec<CaseTuple> = w.query_as(&sql).fetch_all(&self.pool).await?;
        Ok((rows.into_iter().map(row_of).collect::<Result<_, _>>()?, total.0))
    }

    async fn case_events_of_kinds(
        &self,
        city: CityCode,
        ids: &[CaseId],
        kinds: &[&str],
    ) -> Result<Vec<(CaseId, CaseEvent)>, StoreError> {
        if ids.is_empty() || kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = Sql::new("WHERE city = ");
        w.arg(Arg::Text(city.to_string()));
        let ps: Vec<String> = ids.iter().map(|id| w.param(Arg::Text(format!("case:{id}")))).collect();
        w.push(&format!(" AND stream IN ({})", ps.join(", ")));
        let ks: Vec<String> = kinds.iter().map(|k| w.param(Arg::Text((*k).to_owned()))).collect();
        w.push(&format!(" AND kind IN ({})", ks.join(", ")));
        let sql = format!("SELECT stream, payload FROM events {} ORDER BY id", w.text());
        let rows: Vec<(String, String)> = w.query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(stream, payload)| {
                let id = stream
                    .strip_prefix("case:")
                    .and_then(|s| s.parse::<CaseId>().ok())
                    .ok_or_else(|| StoreError::Conflict(format!("event stream {stream} is not a case")))?;
                let event = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Conflict(format!("stored event of case {id} is unreadable: {e}")))?;
                Ok((id, event))
            })
            .collect()
    }

    async fn open311_media(&self, city: CityCode, ids: &[CaseId]) -> Result<HashMap<CaseId, Open311Media>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut w = Sql::new("WHERE city = ");
        w.arg(Arg::Text(city.to_string()));
        let ps: Vec<String> = ids.iter().map(|id| w.param(Arg::Int(id.0))).collect();
        w.push(&format!(" AND case_id IN ({})", ps.join(", ")));
        let sql = format!("SELECT case_id, photo_id, media_url FROM open311_requests {}", w.text());
        let rows: Vec<(i64, Option<i64>, Option<String>)> = w.query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(id, photo_id, media_url)| (CaseId(id), Open311Media { photo_id, media_url }))
            .collect())
    }

    async fn open311_photo(&self, city: CityCode, photo_id: i64) -> Result<Option<crate::Media>, StoreError> {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT p.id FROM open311_requests r
               JOIN media p ON p.city = r.city AND p.owner = 'case:' || r.case_id AND p.id = r.photo_id
             WHERE r.city = $1 AND r.photo_id = $2",
        )
        .bind(city.as_str())
        .bind(photo_id)
        .fetch_optional(&self.pool)
        .await?;
        match found {
            Some((id,)) => self.media(city, id).await,
            None => Ok(None),
        }
    }
}
