//! Renewal needs: a community's needs of the one needs list, their photos (kept as case photos
//! are) and the closed-loop cases linked to them as evidence.

use gongzhi_core::gridteam::Need;
use gongzhi_core::ids::PersonId;
use gongzhi_core::renewal::evidence::CaseFact;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;

use crate::gridteam::{GridList, GridRecord};
use crate::{events, Store, StoreError};

type NeedRow = (i64, String, String, Option<i64>, i64, String);

fn record(r: NeedRow) -> GridRecord {
    GridRecord {
        id: r.0,
        list: GridList::Needs,
        area: r.1,
        status: r.2,
        person: r.3,
        created_at: r.4,
        body: serde_json::from_str(&r.5).unwrap_or(serde_json::Value::Null),
    }
}

/// Residents' renewal needs.
pub trait NeedStore {
    /// The needs of a community: recorded for the community itself or any of its grids (grid
    /// codes start with the community's code), oldest first.
    fn community_needs(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<Vec<GridRecord>, StoreError>> + Send;
    /// Every need of the city (the clustering benchmark, city-wide clustering).
    fn city_needs(&self, city: CityCode) -> impl Future<Output = Result<Vec<GridRecord>, StoreError>> + Send;
    /// Store a photo of a need (its event goes to the `grid_needs:ID:photos` stream), in the
    /// media store as `need:ID`.
    fn add_need_photo(
        &self,
        city: CityCode,
        need_id: i64,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The photos of a need: (media id, content type, size).
    fn need_photos(
        &self,
        city: CityCode,
        need_id: i64,
    ) -> impl Future<Output = Result<Vec<crate::MediaInfo>, StoreError>> + Send;
    /// The closed-loop cases of a community reported since `from_ms` (voided and merged ones
    /// left out), as the evidence rule sees them.
    fn community_case_facts(
        &self,
        city: CityCode,
        community: &str,
        from_ms: i64,
    ) -> impl Future<Output = Result<Vec<CaseFact>, StoreError>> + Send;
    /// Link cases to a need as its evidence (a staff step; the event `need_evidence_linked` on
    /// the need's stream). Every case must exist in the city; cases already linked stay once.
    fn link_evidence(
        &self,
        city: CityCode,
        need_id: i64,
        cases: &[i64],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
}

impl NeedStore for Store {
    async fn community_needs(&self, city: CityCode, community: &str) -> Result<Vec<GridRecord>, StoreError> {
        let rows: Vec<NeedRow> = sqlx::query_as(
            "SELECT id, area, status, person_id, created_at, body FROM grid_needs
             WHERE city = $1 AND (area = $2 OR area LIKE $3) ORDER BY id",
        )
        .bind(city.as_str())
        .bind(community)
        .bind(format!("{community}%"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(record).collect())
    }

    async fn city_needs(&self, city: CityCode) -> Result<Vec<GridRecord>, StoreError> {
        let rows: Vec<NeedRow> = sqlx::query_as(
            "SELECT id, area, status, person_id, created_at, body FROM grid_needs WHERE city = $1 ORDER BY id",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(record).collect())
    }

    async fn add_need_photo(
        &self,
        city: CityCode,
        need_id: i64,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let m = crate::media::NewMedia {
            kind: gongzhi_core::media::Kind::Photo,
            content_type,
            data,
            owner: &format!("need:{need_id}"),
            public: false,
            legacy: None,
        };
        let mut tx = self.write().await?;
        let id = crate::media::insert(&mut tx, city, &m, actor).await?;
        crate::events::append(
            &mut tx,
            city,
            &format!("grid_needs:{need_id}:photos"),
            "need_photo_added",
            actor,
            None,
            None,
            &serde_json::json!({ "photo": id, "media": id, "content_type": content_type, "size": data.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn need_photos(&self, city: CityCode, need_id: i64) -> Result<Vec<crate::MediaInfo>, StoreError> {
        self.media_owned_by(city, &format!("need:{need_id}")).await
    }

    async fn community_case_facts(
        &self,
        city: CityCode,
        community: &str,
        from_ms: i64,
    ) -> Result<Vec<CaseFact>, StoreError> {
        let rows: Vec<(i64, String, f64, f64, i64)> = sqlx::query_as(
            "SELECT id, category, lng, lat, created_at FROM cases
             WHERE city = $1 AND (area = $2 OR grid LIKE $3) AND created_at >= $4
             AND state NOT IN ('voided', 'merged') ORDER BY id",
        )
        .bind(city.as_str())
        .bind(community)
        .bind(format!("{community}%"))
        .bind(from_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, subcategory, lng, lat, at_ms)| CaseFact {
                id,
                subcategory,
                lng,
                lat,
                at_ms,
            })
            .collect())
    }

    async fn link_evidence(
        &self,
        city: CityCode,
        need_id: i64,
        cases: &[i64],
        actor: Option<PersonId>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let row: Option<NeedRow> = sqlx::query_as(
            "SELECT id, area, status, person_id, created_at, body FROM grid_needs WHERE city = $1 AND id = $2",
        )
        .bind(city.as_str())
        .bind(need_id)
        .fetch_optional(&mut *tx)
        .await?;
        let rec = record(row.ok_or_else(|| StoreError::NotFound(format!("need {need_id}")))?);
        let mut need: Need = rec.body_as()?;
        if cases.is_empty() {
            return Err(gongzhi_core::DomainError::invalid("cases", "name at least one case to link").into());
        }
        for c in cases {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM cases WHERE city = $1 AND id = $2")
                .bind(city.as_str())
                .bind(*c)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(gongzhi_core::DomainError::invalid("cases", format!("case {c} does not exist")).into());
            }
        }
        let added: Vec<i64> = cases.iter().copied().filter(|c| !need.evidence.contains(c)).collect();
        need.evidence.extend(added.iter().copied());
        need.evidence.sort_unstable();
        need.evidence.dedup();
        let mut body = rec.body.clone();
        body["evidence"] = serde_json::json!(need.evidence);
        sqlx::query("UPDATE grid_needs SET body = $1 WHERE city = $2 AND id = $3")
            .bind(body.to_string())
            .bind(city.as_str())
            .bind(need_id)
            .execute(&mut *tx)
            .await?;
        events::append(
            &mut tx,
            city,
            &format!("grid_needs:{need_id}"),
            "need_evidence_linked",
            actor,
            None,
            None,
            &serde_json::json!({ "cases": added, "evidence": need.evidence }),
        )
        .await?;
        tx.commit().await?;
        Ok(need.evidence)
    }
}
