//! Attachments (photos, documents) of records other than cases, by owner key (e.g.
//! `initiative:5:unit:A-1-101`). The owner's module decides who may read them; adding one
//! appends its event on the `<owner>:attachments` stream in the same transaction.

use crate::{events, now_ms, Store, StoreError};

/// An attachment's facts, without its bytes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attachment {
    pub id: i64,
    pub owner: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

impl Store {
    /// Store an attachment of `owner`; its id back.
    pub async fn add_attachment(
        &self,
        city: &str,
        owner: &str,
        content_type: &str,
        data: &[u8],
        actor: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO attachments (city, owner, content_type, size, data, person_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(city)
        .bind(owner)
        .bind(content_type)
        .bind(data.len() as i64)
        .bind(data.to_vec())
        .bind(actor)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &format!("{owner}:attachments"),
            "attachment_added",
            actor,
            None,
            None,
            &serde_json::json!({ "attachment": id, "content_type": content_type, "size": data.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The attachments whose owner key starts with `prefix`, oldest first.
    pub async fn attachments(&self, city: &str, prefix: &str) -> Result<Vec<Attachment>, StoreError> {
        let rows: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, owner, content_type, size, created_at FROM attachments
             WHERE city = $1 AND substr(owner, 1, $3) = $2 ORDER BY id",
        )
        .bind(city)
        .bind(prefix)
        .bind(prefix.chars().count() as i32)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, owner, content_type, size, created_at)| Attachment {
                id,
                owner,
                content_type,
                size,
                created_at,
            })
            .collect())
    }

    /// One attachment's owner, content type and bytes.
    pub async fn attachment(&self, city: &str, id: i64) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT owner, content_type, data FROM attachments WHERE city = $1 AND id = $2")
                .bind(city)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
