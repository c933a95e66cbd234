//! The one media store (table `media`, migration 0017): every stored file with its kind, its
//! type (decided from its bytes by `gongzhi_core::media`), its size, hash and owner key. Each
//! write appends its owner's event in the same transaction; who may read a file is decided by
//! its owner's module (a `public` file is anyone's).
//!
//! Files moved by migration 0017 keep their old key in `legacy` (`photos:17`,
//! `renewal_need_photos:4`, `attachments:8`, `documents:NAME`) so that old URLs and past events
//! resolve. Milestone photos and proposal attachments are also known by their document name
//! (`documents:renewal_photo:3:7:1`, `documents:renewal-proposal/9/0`), old and new alike.

use crate::write::Write;
use gongzhi_core::ids::PersonId;
use gongzhi_core::media::{self as policy, Kind};
use gongzhi_core::territory::CityCode;
use sha2::{Digest, Sha256};
use std::future::Future;

use crate::{events, now_ms, Store, StoreError};

/// A stored file's facts, without its bytes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaInfo {
    pub id: i64,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: Option<String>,
    pub owner: String,
    pub public: bool,
    pub legacy: Option<String>,
    pub created_at: i64,
    pub created_by: Option<i64>,
}

/// A file to store: its bytes as checked by `gongzhi_core::media::check`.
#[derive(Debug, Clone)]
pub struct NewMedia<'a> {
    pub kind: Kind,
    pub content_type: &'a str,
    pub data: &'a [u8],
    pub owner: &'a str,
    pub public: bool,
    /// The other key the file is known by (a document name: `documents:NAME`).
    pub legacy: Option<String>,
}

type InfoRow = (
    i64,
    String,
    String,
    i64,
    Option<String>,
    String,
    i64,
    Option<String>,
    i64,
    Option<i64>,
);

const INFO: &str = "id, kind, content_type, size, sha256, owner, public, legacy, created_at, created_by";

fn info((id, kind, content_type, size, sha256, owner, public, legacy, created_at, created_by): InfoRow) -> MediaInfo {
    MediaInfo {
        id,
        kind,
        content_type,
        size,
        sha256,
        owner,
        public: public != 0,
        legacy,
        created_at,
        created_by,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A stored file: its facts and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub info: MediaInfo,
    pub bytes: Vec<u8>,
}

/// Store a file inside `tx` (its owner's event goes in the same transaction); its id back.
pub(crate) async fn insert(
    tx: &mut Write<'_>,
    city: CityCode,
    m: &NewMedia<'_>,
    actor: Option<PersonId>,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO media (city, kind, content_type, size, sha256, data, owner, public, legacy, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(city.as_str())
    .bind(m.kind.as_str())
    .bind(m.content_type)
    .bind(m.data.len() as i64)
    .bind(sha256_hex(m.data))
    .bind(m.data.to_vec())
    .bind(m.owner)
    .bind(i64::from(m.public))
    .bind(m.legacy.clone())
    .bind(now_ms())
    .bind(actor.map(|id| id.0))
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// The one media store.
pub trait MediaStore {
    /// A file's facts.
    fn media_info(&self, city: CityCode, id: i64)
        -> impl Future<Output = Result<Option<MediaInfo>, StoreError>> + Send;
    /// A file's facts and bytes.
    fn media(&self, city: CityCode, id: i64) -> impl Future<Output = Result<Option<Media>, StoreError>> + Send;
    /// The files of one owner (`case:12`, `need:3`, …), oldest first.
    fn media_owned_by(
        &self,
        city: CityCode,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<MediaInfo>, StoreError>> + Send;
    /// The file known by an old key (`photos:17`, `documents:NAME`, …).
    fn media_by_legacy(
        &self,
        city: CityCode,
        legacy: &str,
    ) -> impl Future<Output = Result<Option<MediaInfo>, StoreError>> + Send;
    /// The files whose owner key starts with `prefix`, oldest first.
    fn media_of(&self, city: CityCode, prefix: &str)
        -> impl Future<Output = Result<Vec<MediaInfo>, StoreError>> + Send;
    /// Store a file and append `event_kind` on `stream` with `payload` (to which the file's id is
    /// added as `media`) in the same transaction; the id back.
    fn add_media(
        &self,
        city: CityCode,
        m: &NewMedia<'_>,
        actor: Option<PersonId>,
        stream: &str,
        event_kind: &str,
        payload: serde_json::Value,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Store a design attachment of a proposal (public; also known by its document name
    /// `renewal-proposal/ID/N`, whose `document_changed` event it appends as when attachments were
    /// documents). Returns the document name.
    fn add_proposal_file(
        &self,
        city: CityCode,
        proposal: i64,
        n: usize,
        file: &policy::Checked,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

impl MediaStore for Store {
    async fn media_info(&self, city: CityCode, id: i64) -> Result<Option<MediaInfo>, StoreError> {
        let row: Option<InfoRow> = sqlx::query_as(&format!("SELECT {INFO} FROM media WHERE city = $1 AND id = $2"))
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(info))
    }

    async fn media(&self, city: CityCode, id: i64) -> Result<Option<Media>, StoreError> {
        let Some(i) = self.media_info(city, id).await? else {
            return Ok(None);
        };
        let data: Option<(Vec<u8>,)> = sqlx::query_as("SELECT data FROM media WHERE city = $1 AND id = $2")
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(data.map(|(bytes,)| Media { info: i, bytes }))
    }

    async fn media_owned_by(&self, city: CityCode, owner: &str) -> Result<Vec<MediaInfo>, StoreError> {
        let rows: Vec<InfoRow> = sqlx::query_as(&format!(
            "SELECT {INFO} FROM media WHERE city = $1 AND owner = $2 ORDER BY id"
        ))
        .bind(city.as_str())
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(info).collect())
    }

    async fn media_by_legacy(&self, city: CityCode, legacy: &str) -> Result<Option<MediaInfo>, StoreError> {
        let row: Option<InfoRow> = sqlx::query_as(&format!(
            "SELECT {INFO} FROM media WHERE city = $1 AND legacy = $2 ORDER BY id LIMIT 1"
        ))
        .bind(city.as_str())
        .bind(legacy)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(info))
    }

    async fn media_of(&self, city: CityCode, prefix: &str) -> Result<Vec<MediaInfo>, StoreError> {
        let rows: Vec<InfoRow> = sqlx::query_as(&format!(
            "SELECT {INFO} FROM media WHERE city = $1 AND substr(owner, 1, $3) = $2 ORDER BY id"
        ))
        .bind(city.as_str())
        .bind(prefix)
        .bind(prefix.chars().count() as i32)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(info).collect())
    }

    async fn add_media(
        &self,
        city: CityCode,
        m: &NewMedia<'_>,
        actor: Option<PersonId>,
        stream: &str,
        event_kind: &str,
        mut payload: serde_json::Value,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert(&mut tx, city, m, actor).await?;
        if let Some(o) = payload.as_object_mut() {
            o.insert("media".into(), id.into());
        }
        events::append(&mut tx, city, stream, event_kind, actor, None, None, &payload).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn add_proposal_file(
        &self,
        city: CityCode,
        proposal: i64,
        n: usize,
        file: &policy::Checked,
        actor: Option<PersonId>,
    ) -> Result<String, StoreError> {
        let (kind, content_type, data) = (file.kind, file.content_type, file.data.as_slice());
        let name = format!("renewal-proposal/{proposal}/{n}");
        let m = NewMedia {
            kind,
            content_type,
            data,
            owner: &format!("proposal:{proposal}"),
            public: true,
            legacy: Some(format!("documents:{name}")),
        };
        self.add_media(
            city,
            &m,
            actor,
            &format!("document:{name}"),
            "document_changed",
            serde_json::json!({ "version": 1, "bytes": data.len() }),
        )
        .await?;
        Ok(name)
    }
}

impl Store {
    /// Finish migration 0017 (run at each start; does nothing once done): move the files kept as
    /// base64 documents (milestone photos, proposal attachments) into `media`, then give every
    /// moved row its type from its bytes (a file of no accepted type becomes a download as
    /// `application/octet-stream`), strip its photo metadata, and hash it.
    pub(crate) async fn finish_media_move(&self) -> Result<(), StoreError> {
        let docs: Vec<(String, String)> = sqlx::query_as(
            "SELECT city, name FROM documents
              WHERE substr(name, 1, 17) = 'renewal-proposal/' OR substr(name, 1, 14) = 'renewal_photo:'",
        )
        .fetch_all(&self.pool)
        .await?;
        for (city, name) in docs {
            self.move_document(CityCode::parse(&city)?, &name).await?;
        }
        let pending: Vec<(String, i64)> = sqlx::query_as("SELECT city, id FROM media WHERE sha256 IS NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        for (city, id) in pending {
            let Some(Media { info: i, bytes: data }) = self.media(CityCode::parse(&city)?, id).await? else {
                continue;
            };
            let (kind, content_type, data) = match policy::sniff(&data) {
                Some(ct) => {
                    let kind = Kind::of_type(ct).unwrap_or(Kind::Document);
                    let data = match kind {
                        Kind::Photo => policy::strip_metadata(ct, &data),
                        Kind::Document => data,
                    };
                    (kind, ct.to_owned(), data)
                }
                None => {
                    tracing::warn!(city, id, declared = %i.content_type, "a moved file is of no accepted type: served as a download");
                    (Kind::Document, "application/octet-stream".to_owned(), data)
                }
            };
            sqlx::query(
                "UPDATE media SET kind = $1, content_type = $2, size = $3, sha256 = $4, data = $5 WHERE city = $6 AND id = $7",
            )
            .bind(kind.as_str())
            .bind(content_type)
            .bind(data.len() as i64)
            .bind(sha256_hex(&data))
            .bind(data)
            .bind(&city)
            .bind(id)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn move_document(&self, city: CityCode, name: &str) -> Result<(), StoreError> {
        use base64::Engine as _;
        let mut tx = self.write().await?;
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT body, updated_at FROM documents WHERE city = $1 AND name = $2")
                .bind(city.as_str())
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((body, updated_at)) = row else {
            return Ok(());
        };
        // renewal_photo:D:M:N holds a data: URL; renewal-proposal/P/N plain base64.
        let (owner, b64, declared) = if let Some(rest) = name.strip_prefix("renewal_photo:") {
            let mut parts = rest.split(':');
            let (d, m) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (ct, b64) = body
                .strip_prefix("data:")
                .and_then(|r| r.split_once(";base64,"))
                .unwrap_or(("", body.as_str()));
            (format!("milestone:{d}:{m}"), b64, ct.to_owned())
        } else {
            let p = name
                .strip_prefix("renewal-proposal/")
                .and_then(|r| r.split('/').next())
                .unwrap_or("");
            (format!("proposal:{p}"), body.as_str(), String::new())
        };
        let Ok(data) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            tracing::warn!(
                city = city.as_str(),
                name,
                "a stored document is not base64: left where it is"
            );
            return Ok(());
        };
        let kind = if declared.starts_with("image/") || owner.starts_with("milestone:") {
            Kind::Photo
        } else {
            Kind::Document
        };
        sqlx::query(
            "INSERT INTO media (city, kind, content_type, size, sha256, data, owner, public, legacy, created_at, created_by)
             VALUES ($1, $2, $3, $4, NULL, $5, $6, 1, $7, $8, NULL)",
        )
        .bind(city.as_str())
        .bind(kind.as_str())
        .bind(if declared.is_empty() { "application/octet-stream".to_owned() } else { declared })
        .bind(data.len() as i64)
        .bind(data)
        .bind(owner)
        .bind(format!("documents:{name}"))
        .bind(updated_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM documents WHERE city = $1 AND name = $2")
            .bind(city.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        // A change of storage format, not of the record: its events stay as they were.
        tx.commit_unlogged().await?;
        Ok(())
    }
}
