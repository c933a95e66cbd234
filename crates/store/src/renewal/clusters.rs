//! Clusters of a community's needs as event streams (`renewal_cluster:ID`). Each step folds the
//! stream's events read in the transaction, applies the new event with the core's rules
//! ([`gongzhi_core::renewal::cluster::ClusterState::apply`]), appends it and rewrites the
//! cluster's row and membership from the folded state: the membership derives from the events.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::collections::HashMap;
use std::future::Future;

use crate::write::Write;
use gongzhi_core::renewal::cluster::{fold, ClusterEvent, ClusterState, Origin};
use gongzhi_core::DomainError;
use serde::Serialize;

use crate::{events, now_ms, Store, StoreError};

/// A cluster as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCluster {
    pub id: i64,
    pub community: String,
    pub name: String,
    /// `active` or `merged`.
    pub status: String,
    pub merged_into: Option<i64>,
    pub needs: Vec<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

type ClusterRow = (i64, String, String, String, Option<i64>, String, i64, i64, i64);

fn cluster(r: ClusterRow) -> StoredCluster {
    StoredCluster {
        id: r.0,
        community: r.1,
        name: r.2,
        status: r.3,
        merged_into: r.4,
        needs: serde_json::from_str(&r.5).unwrap_or_default(),
        version: r.6,
        created_at: r.7,
        updated_at: r.8,
    }
}

const COLUMNS: &str = "id, community, name, status, merged_into, needs, version, created_at, updated_at";

fn stream(id: i64) -> String {
    format!("renewal_cluster:{id}")
}

/// The state of a cluster folded from its events, read on `conn`.
async fn state_in(conn: &mut sqlx::AnyConnection, city: CityCode, id: i64) -> Result<ClusterState, StoreError> {
    let evs = events::stream_in(conn, city, &stream(id)).await?;
    if evs.is_empty() {
        return Err(StoreError::NotFound(format!("cluster {id}")));
    }

    let parsed: Vec<ClusterEvent> = evs
        .iter()
        .map(|e| {
            serde_json::from_value(e.payload.clone())
                .map_err(|err| StoreError::Unavailable(format!("event {} of cluster {id} is unreadable: {err}", e.id)))
        })
        .collect::<Result<_, _>>()?;
    Ok(fold(&parsed)?)
}

async fn community_of(tx: &mut Write<'_>, city: CityCode, id: i64) -> Result<String, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT community FROM renewal_clusters WHERE city = $1 AND id = $2")
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.0)
        .ok_or_else(|| StoreError::NotFound(format!("cluster {id}")))
}

/// Refuse needs that are not needs of the community or already in another cluster.
async fn check_free(
    tx: &mut Write<'_>,
    city: CityCode,
    community: &str,
    needs: &[i64],
    except: Option<i64>,
) -> Result<(), StoreError> {
    for n in needs {
        let row: Option<(String,)> = sqlx::query_as("SELECT area FROM grid_needs WHERE city = $1 AND id = $2")
            .bind(city.as_str())
            .bind(*n)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some((area,)) if area.starts_with(community) => {}
            _ => {
                return Err(
                    DomainError::invalid("needs", format!("need {n} is not a need of community {community}")).into(),
                )
            }
        }
        let held: Option<(i64,)> =
            sqlx::query_as("SELECT cluster_id FROM renewal_cluster_needs WHERE city = $1 AND need_id = $2")
                .bind(city.as_str())
                .bind(*n)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some((c,)) = held {
            if Some(c) != except {
                return Err(StoreError::Conflict(format!("need {n} is already in cluster {c}")));
            }
        }
    }

    Ok(())
}

/// Append one event to a cluster's stream (a new cluster when `id` is None) and rewrite its
/// row and membership from the folded state. Returns the cluster's id.
async fn step(
    tx: &mut Write<'_>,
    city: CityCode,
    community: &str,
    id: Option<i64>,
    e: &ClusterEvent,
    actor: Option<PersonId>,
    reason: Option<&str>,
) -> Result<i64, StoreError> {
    let now = now_ms();
    let (id, mut state) = match id {
        Some(id) => (id, state_in(tx, city, id).await?),
        None => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO renewal_clusters (city, community, name, status, merged_into, needs, version, created_at, updated_at)
                 VALUES ($1, $2, '', 'active', NULL, '[]', 0, $3, $3) RETURNING id",
            )
            .bind(city.as_str())
            .bind(community)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            (id, ClusterState::default())
        }
    };
    state.apply(e)?;
    events::append(
        tx,
        city,
        &stream(id),
        e.kind(),
        actor,
        None,
        reason,
        &serde_json::to_value(e).unwrap_or_default(),
    )
    .await?;
    let needs: Vec<i64> = state.needs.iter().copied().collect();
    sqlx::query(
        "UPDATE renewal_clusters SET name = $1, status = $2, merged_into = $3, needs = $4, version = $5, updated_at = $6
         WHERE city = $7 AND id = $8",
    )
    .bind(&state.name)
    .bind(if state.active() { "active" } else { "merged" })
    .bind(state.merged_into)
    .bind(serde_json::to_string(&needs).unwrap_or_default())
    .bind(state.version)
    .bind(now)
    .bind(city.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM renewal_cluster_needs WHERE city = $1 AND cluster_id = $2")
        .bind(city.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for n in &needs {
        sqlx::query("INSERT INTO renewal_cluster_needs (city, need_id, cluster_id, community) VALUES ($1, $2, $3, $4)")
            .bind(city.as_str())
            .bind(*n)
            .bind(id)
            .bind(community)
            .execute(&mut **tx)
            .await?;
    }

    Ok(id)
}

fn check_version(c: &StoredCluster, expected: Option<i64>) -> Result<(), StoreError> {
    match expected {
        Some(v) if v != c.version => Err(StoreError::Conflict(format!(
            "cluster {} was changed meanwhile (version {}, you saw {v}): reload and try again",
            c.id, c.version
        ))),
        _ => Ok(()),
    }
}

/// Clusters of renewal needs.
pub trait ClusterStore {
    /// The clusters of a community (`all`: merged ones too), by id.
    fn renewal_clusters(
        &self,
        city: CityCode,
        community: &str,
        all: bool,
    ) -> impl Future<Output = Result<Vec<StoredCluster>, StoreError>> + Send;
    fn renewal_cluster(
        &self,
        city: CityCode,
        id: i64,
    ) -> impl Future<Output = Result<Option<StoredCluster>, StoreError>> + Send;
    /// The cluster of each clustered need of a community.
    fn cluster_assignments(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<HashMap<i64, i64>, StoreError>> + Send;
    /// A cluster's state replayed from its events alone (to check the stored row against).
    fn replay_cluster(&self, city: CityCode, id: i64) -> impl Future<Output = Result<ClusterState, StoreError>> + Send;
    /// Apply a clustering run in one transaction: needs added to existing clusters, new
    /// clusters (name, needs). Returns the new clusters' ids.
    fn refresh_clusters(
        &self,
        city: CityCode,
        community: &str,
        add: &[(i64, Vec<i64>)],
        create: &[(String, Vec<i64>)],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// Rename a cluster.
    fn rename_cluster(
        &self,
        city: CityCode,
        id: i64,
        name: &str,
        expected_version: Option<i64>,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Merge clusters of the same community into `into`: each source gets `merged_into`, the
    /// target `absorbed` with the source's needs, all in one transaction.
    fn merge_clusters(
        &self,
        city: CityCode,
        into: i64,
        from: &[i64],
        actor: Option<PersonId>,
        reason: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Split needs off a cluster into a new one named `name`. Returns the new cluster's id.
    fn split_cluster(
        &self,
        city: CityCode,
        id: i64,
        needs: &[i64],
        name: &str,
        actor: Option<PersonId>,
        reason: Option<&str>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

impl ClusterStore for Store {
    async fn renewal_clusters(
        &self,
        city: CityCode,
        community: &str,
        all: bool,
    ) -> Result<Vec<StoredCluster>, StoreError> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM renewal_clusters WHERE city = $1 AND community = $2 AND ($3 = 1 OR status = 'active') ORDER BY id"
        ))
        .bind(city.as_str())
        .bind(community)
        .bind(i64::from(all))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(cluster).collect())
    }

    async fn renewal_cluster(&self, city: CityCode, id: i64) -> Result<Option<StoredCluster>, StoreError> {
        let row: Option<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM renewal_clusters WHERE city = $1 AND id = $2"
        ))
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(cluster))
    }

    async fn cluster_assignments(&self, city: CityCode, community: &str) -> Result<HashMap<i64, i64>, StoreError> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT need_id, cluster_id FROM renewal_cluster_needs WHERE city = $1 AND community = $2")
                .bind(city.as_str())
                .bind(community)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    async fn replay_cluster(&self, city: CityCode, id: i64) -> Result<ClusterState, StoreError> {
        let mut conn = self.pool.acquire().await?;
        state_in(&mut conn, city, id).await
    }

    async fn refresh_clusters(
        &self,
        city: CityCode,
        community: &str,
        add: &[(i64, Vec<i64>)],
        create: &[(String, Vec<i64>)],
        actor: Option<PersonId>,
    ) -> Result<Vec<i64>, StoreError> {
        if add.is_empty() && create.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        for (c, needs) in add {
            if community_of(&mut tx, city, *c).await? != community {
                return Err(StoreError::NotFound(format!("cluster {c} in community {community}")));
            }
            check_free(&mut tx, city, community, needs, None).await?;
            step(
                &mut tx,
                city,
                community,
                Some(*c),
                &ClusterEvent::NeedsAdded { needs: needs.clone() },
                actor,
                None,
            )
            .await?;
        }
        let mut ids = Vec::new();
        for (name, needs) in create {
            check_free(&mut tx, city, community, needs, None).await?;
            let e = ClusterEvent::Created {
                name: name.clone(),
                needs: needs.clone(),
                origin: Origin::Clustering,
                from: None,
            };
            ids.push(step(&mut tx, city, community, None, &e, actor, None).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn rename_cluster(
        &self,
        city: CityCode,
        id: i64,
        name: &str,
        expected_version: Option<i64>,
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let name = gongzhi_core::renewal::cluster::check_name(name)?;
        let c = self
            .renewal_cluster(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("cluster {id}")))?;
        check_version(&c, expected_version)?;
        let mut tx = self.write().await?;
        step(
            &mut tx,
            city,
            &c.community,
            Some(id),
            &ClusterEvent::Renamed { name },
            actor,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn merge_clusters(
        &self,
        city: CityCode,
        into: i64,
        from: &[i64],
        actor: Option<PersonId>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let target = self
            .renewal_cluster(city, into)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("cluster {into}")))?;
        if from.is_empty() {
            return Err(DomainError::invalid("from", "name the clusters to merge into this one").into());
        }
        let mut tx = self.write().await?;
        for f in from {
            if *f == into {
                return Err(DomainError::invalid("from", "a cluster cannot be merged into itself").into());
            }
            if community_of(&mut tx, city, *f).await? != target.community {
                return Err(DomainError::invalid(
                    "from",
                    format!("cluster {f} is not in community {}", target.community),
                )
                .into());
            }
            let source = state_in(&mut tx, city, *f).await?;
            if !source.active() {
                return Err(StoreError::Conflict(format!("cluster {f} was merged already")));
            }
            let needs: Vec<i64> = source.needs.iter().copied().collect();
            step(
                &mut tx,
                city,
                &target.community,
                Some(*f),
                &ClusterEvent::MergedInto { into },
                actor,
                reason,
            )
            .await?;
            step(
                &mut tx,
                city,
                &target.community,
                Some(into),
                &ClusterEvent::Absorbed { from: *f, needs },
                actor,
                reason,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn split_cluster(
        &self,
        city: CityCode,
        id: i64,
        needs: &[i64],
        name: &str,
        actor: Option<PersonId>,
        reason: Option<&str>,
    ) -> Result<i64, StoreError> {
        let name = gongzhi_core::renewal::cluster::check_name(name)?;
        let c = self
            .renewal_cluster(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("cluster {id}")))?;
        let mut tx = self.write().await?;
        let state = state_in(&mut tx, city, id).await?;
        if !state.active() {
            return Err(StoreError::Conflict(format!(
                "cluster {id} was merged into another one"
            )));
        }
        let needs = gongzhi_core::renewal::cluster::check_split(&state, needs)?;
        // The split-off cluster's id is known only once its row exists: insert the row first,
        // then record both events (split off here, created there) in the same transaction.
        let (new_id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_clusters (city, community, name, status, merged_into, needs, version, created_at, updated_at)
             VALUES ($1, $2, '', 'active', NULL, '[]', 0, $3, $3) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&c.community)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        step(
            &mut tx,
            city,
            &c.community,
            Some(id),
            &ClusterEvent::SplitOff {
                needs: needs.clone(),
                into: new_id,
            },
            actor,
            reason,
        )
        .await?;
        create_in(
            &mut tx,
            city,
            &c.community,
            new_id,
            &ClusterEvent::Created {
                name,
                needs,
                origin: Origin::Split,
                from: Some(id),
            },
            actor,
            reason,
        )
        .await?;
        tx.commit().await?;
        Ok(new_id)
    }
}

/// The first event of a cluster whose row was inserted already.
async fn create_in(
    tx: &mut Write<'_>,
    city: CityCode,
    community: &str,
    id: i64,
    e: &ClusterEvent,
    actor: Option<PersonId>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let mut state = ClusterState::default();
    state.apply(e)?;
    events::append(
        tx,
        city,
        &stream(id),
        e.kind(),
        actor,
        None,
        reason,
        &serde_json::to_value(e).unwrap_or_default(),
    )
    .await?;
    let needs: Vec<i64> = state.needs.iter().copied().collect();
    sqlx::query("UPDATE renewal_clusters SET name = $1, needs = $2, version = $3 WHERE city = $4 AND id = $5")
        .bind(&state.name)
        .bind(serde_json::to_string(&needs).unwrap_or_default())
        .bind(state.version)
        .bind(city.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for n in &needs {
        sqlx::query("INSERT INTO renewal_cluster_needs (city, need_id, cluster_id, community) VALUES ($1, $2, $3, $4)")
            .bind(city.as_str())
            .bind(*n)
            .bind(id)
            .bind(community)
            .execute(&mut **tx)
            .await?;
    }

    Ok(())
}
