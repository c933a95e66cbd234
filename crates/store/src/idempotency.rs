//! Idempotency keys: a create sent again with the same `Idempotency-Key` by the same person
//! answers what the first one answered and makes nothing (a client retrying after a cut
//! connection, a crash or a restart reports nothing twice).
//!
//! The key is stored by the write helper in the transaction that makes the record, so a key is
//! stored exactly when its record is: while a request runs inside [`Store::keyed`], the first
//! write that appends events also inserts the key, naming the stream of its first event (the
//! record it made). A second request with the same key that races the first fails that insert,
//! rolls its whole transaction back and is answered the first one's answer. After the request
//! the front end keeps its answer ([`Store::keep_answer`]) so that a retry can be answered alike.

use std::cell::RefCell;
use std::future::Future;

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;

use crate::{now_ms, Store, StoreError};

/// A client's key for one request: scoped to the city and the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub city: CityCode,
    pub person: PersonId,
    pub key: String,
    /// A hash of the request (method, path, body), so that a key sent again with a different
    /// request is refused rather than answered with the first one's answer.
    pub request_hash: String,
}

/// What a key was used for before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recalled {
    /// Never: run the request.
    New,
    /// Used for this request, which made `record` and was answered `status` with `body`.
    Answered {
        record: String,
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
    /// Used for this request, which made `record`, but its answer is not kept (yet): it is still
    /// running, or the server stopped between storing the record and answering.
    Unanswered { record: String },
    /// Used for a different request.
    OtherRequest,
}

/// The key of the request running on this task, and the record it made once its write commits.
struct Pending {
    key: IdempotencyKey,
    record: Option<String>,
}

tokio::task_local! {
    static PENDING: RefCell<Pending>;
}

/// Whether a write that names `stream` first takes the running request's key: the key (if one
/// is pending and not taken yet) to insert in that write's transaction.
pub(crate) fn pending_key() -> Option<IdempotencyKey> {
    PENDING
        .try_with(|p| {
            let p = p.borrow();
            p.record.is_none().then(|| p.key.clone())
        })
        .ok()
        .flatten()
}

/// Note that the write which stored the key committed, making `record`.
pub(crate) fn key_taken(record: &str) {
    let _ = PENDING.try_with(|p| p.borrow_mut().record = Some(record.to_owned()));
}

/// Insert `key` for `record` in the transaction `tx` (by the write helper, before it commits).
/// A key stored by a concurrent request first is a conflict: the transaction must roll back.
pub(crate) async fn insert(tx: &mut sqlx::AnyConnection, key: &IdempotencyKey, record: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO idempotency_keys (city, person_id, key, request_hash, record, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.city.as_str())
    .bind(key.person.0)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(record)
    .bind(now_ms())
    .execute(tx)
    .await
    .map_err(|e| {
        StoreError::from_insert(e, || {
            "a request with the same Idempotency-Key finished first: its answer is the answer".into()
        })
    })?;
    Ok(())
}

type KeyRow = (String, String, Option<i64>, Option<String>, Option<String>);

impl Store {
    /// What `key` was used for before.
    pub async fn recall(&self, key: &IdempotencyKey) -> Result<Recalled, StoreError> {
        let found: Option<KeyRow> = sqlx::query_as(
            "SELECT request_hash, record, status, content_type, response FROM idempotency_keys
             WHERE city = $1 AND person_id = $2 AND key = $3",
        )
        .bind(key.city.as_str())
        .bind(key.person.0)
        .bind(&key.key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match found {
            None => Recalled::New,
            Some((hash, _, _, _, _)) if hash != key.request_hash => Recalled::OtherRequest,
            Some((_, record, Some(status), content_type, Some(body))) => Recalled::Answered {
                record,
                status: u16::try_from(status).unwrap_or(500),
                content_type: content_type.unwrap_or_else(|| "application/json".into()),
                body: body.into_bytes(),
            },
            Some((_, record, _, _, _)) => Recalled::Unanswered { record },
        })
    }

    /// Run `request` with `key` pending: the first write in it that appends events stores the
    /// key in its transaction. The answer, and the record the write made (None when nothing
    /// was stored, e.g. the request was refused: then the key stays unused).
    pub async fn keyed<F: Future>(key: IdempotencyKey, request: F) -> (F::Output, Option<String>) {
        let pending = RefCell::new(Pending { key, record: None });
        PENDING
            .scope(pending, async move {
                let out = request.await;
                let record = PENDING.with(|p| p.borrow_mut().record.take());
                (out, record)
            })
            .await
    }

    /// Keep the answer to a keyed request that stored its record (only the body's text: JSON,
    /// CSV or XML answers).
    pub async fn keep_answer(
        &self,
        key: &IdempotencyKey,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $4, content_type = $5, response = $6
             WHERE city = $1 AND person_id = $2 AND key = $3",
        )
        .bind(key.city.as_str())
        .bind(key.person.0)
        .bind(&key.key)
        .bind(i64::from(status))
        .bind(content_type)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forget keys used before `before_ms` (a retry comes within minutes; keys are kept for days).
    pub async fn forget_keys(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
