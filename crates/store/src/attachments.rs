//! Attachments (photos, documents) of records other than cases, by owner key (e.g.
//! `initiative:5:unit:A-1-101`). The owner's module decides who may read them; adding one
//! appends its event on the `<owner>:attachments` stream in the same transaction.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use crate::{Store, StoreError};

/// An attachment's facts, without its bytes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attachment {
    pub id: i64,
    pub owner: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// Attachments of records other than cases, kept in the media store.
pub trait AttachmentStore {
    /// Store an attachment of `owner` in the media store; its id back.
    fn add_attachment(
        &self,
        city: CityCode,
        owner: &str,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The attachments whose owner key starts with `prefix`, oldest first.
    fn attachments(
        &self,
        city: CityCode,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<Attachment>, StoreError>> + Send;
}

impl AttachmentStore for Store {
    async fn add_attachment(
        &self,
        city: CityCode,
        owner: &str,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let m = crate::media::NewMedia {
            kind: gongzhi_core::media::Kind::of_type(content_type).unwrap_or(gongzhi_core::media::Kind::Document),
            content_type,
            data,
            owner,
            public: false,
            legacy: None,
        };
        let mut tx = self.write().await?;
        let id = crate::media::insert(&mut tx, city, &m, actor).await?;
        crate::events::append(
            &mut tx,
            city,
            &format!("{owner}:attachments"),
            "attachment_added",
            actor,
            None,
            None,
            &serde_json::json!({ "attachment": id, "media": id, "content_type": content_type, "size": data.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn attachments(&self, city: CityCode, prefix: &str) -> Result<Vec<Attachment>, StoreError> {
        Ok(self
            .media_of(city, prefix)
            .await?
            .into_iter()
            .map(|m| Attachment {
                id: m.id,
                owner: m.owner,
                content_type: m.content_type,
                size: m.size,
                created_at: m.created_at,
            })
            .collect())
    }
}
