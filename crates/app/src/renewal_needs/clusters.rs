//! A community's clusters of needs: the clustering run, the views with who stands behind each
//! cluster, staff's renames, merges and splits, and what the needs and staff pages show.

use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;
use std::collections::{BTreeSet, HashMap};

use gongzhi_core::access::Principal;
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam::{Category, Need, NeedSource};
use gongzhi_core::renewal::cluster::{self, Backing, NeedPoint};
use gongzhi_core::renewal::evidence::{self, Recurrence};
use gongzhi_core::territory::Division;
use gongzhi_store::StoredCluster;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    check_staff, check_view, cluster_params, community, evidence_rule, is_staff, needs_view, require_staff, NeedView,
};
use crate::{AppError, AppResult, AppState};

#[derive(Serialize, ToSchema)]
pub struct Refreshed {
    /// New clusters.
    pub created: Vec<i64>,
    /// Needs added to existing clusters: (cluster, needs).
    pub added: Vec<(i64, Vec<i64>)>,
    /// Active clusters after the run.
    pub clusters: usize,
}

/// Run the clustering over a community's needs and apply it (shared with the pages, CLI, demo):
/// needs already in a cluster stay where staff left them.
pub async fn run_clustering(
    s: &AppState,
    city: CityCode,
    community: &str,
    actor: Option<PersonId>,
) -> AppResult<Refreshed> {
    let params = cluster_params(s, city).await?;
    let recs = s.store.community_needs(city, community).await?;
    let mut points = Vec::with_capacity(recs.len());
    for r in &recs {
        let n: Need = r.body_as()?;
        points.push(NeedPoint {
            id: r.id,
            category: n.category,
            lng: n.lng,
            lat: n.lat,
            text: n.text,
        });
    }
    let groups = cluster::cluster(&points, &params);
    let assigned = s.store.cluster_assignments(city, community).await?;
    let plan = cluster::refresh_plan(&groups, &assigned);
    let by_id: HashMap<i64, &NeedPoint> = points.iter().map(|p| (p.id, p)).collect();
    let create: Vec<(String, Vec<i64>)> = plan
        .create
        .iter()
        .map(|g| {
            let members: Vec<NeedPoint> = g.iter().filter_map(|id| by_id.get(id).map(|p| (*p).clone())).collect();
            (cluster::suggest_name(&members), g.clone())
        })
        .collect();
    let created = s
        .store
        .refresh_clusters(city, community, &plan.add, &create, actor)
        .await?;
    let clusters = s.store.renewal_clusters(city, community, false).await?.len();
    Ok(Refreshed {
        created,
        added: plan.add,
        clusters,
    })
}

/// Run or refresh the clustering of a community's needs (staff). New needs join the cluster
/// holding their look-alikes or form new clusters; staff's merges and splits stay.
pub async fn refresh(s: &AppState, p: &Principal, code: &str) -> AppResult<Refreshed> {
    let city = p.city;
    community(s, city, code).await?;
    check_staff(p, code)?;
    run_clustering(s, city, code, Some(p.person_id)).await
}

/// The same run from the staff page.
pub async fn refresh_from_page(s: &AppState, p: &Principal, code: &str) -> AppResult<Refreshed> {
    let city = p.city;
    community(s, city, code).await?;
    require_staff(p, code, || {
        format!("clusters of community {code} are managed by its staff")
    })?;
    run_clustering(s, city, code, Some(p.person_id)).await
}

/// A cluster with who stands behind it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClusterView {
    pub id: i64,
    pub community: String,
    pub name: String,
    pub status: String,
    pub merged_into: Option<i64>,
    pub version: i64,
    pub needs: Vec<i64>,
    /// Distinct residents who raised its needs themselves.
    pub residents: usize,
    /// Distinct households behind it (a need's household, else its resident raiser's own).
    pub households: usize,
    /// Cases linked as evidence to its needs.
    pub evidence: Vec<i64>,
    /// Its needs' categories (most frequent first).
    pub categories: Vec<String>,
    /// The mean point of its needs.
    pub lng: f64,
    pub lat: f64,
}

/// Views of clusters, with their backing computed from the needs.
pub async fn cluster_views(
    s: &AppState,
    city: CityCode,
    community: &str,
    clusters: Vec<StoredCluster>,
) -> AppResult<Vec<ClusterView>> {
    let needs: HashMap<i64, Need> = s
        .store
        .community_needs(city, community)
        .await?
        .into_iter()
        .filter_map(|r| r.body_as::<Need>().ok().map(|n| (r.id, n)))
        .collect();
    Ok(clusters
        .into_iter()
        .map(|c| {
            let members: Vec<&Need> = c.needs.iter().filter_map(|id| needs.get(id)).collect();
            let Backing {
                residents, households, ..
            } = cluster::backing(
                &members
                    .iter()
                    .map(|n| (n.raised_by, n.source == NeedSource::Resident, n.household))
                    .collect::<Vec<_>>(),
            );
            let evidence: BTreeSet<i64> = members.iter().flat_map(|n| n.evidence.iter().copied()).collect();
            let mut cats: HashMap<Category, usize> = HashMap::new();
            for n in &members {
                *cats.entry(n.category).or_default() += 1;
            }
            let mut cats: Vec<(Category, usize)> = cats.into_iter().collect();
            cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let k = members.len().max(1) as f64;
            ClusterView {
                id: c.id,
                community: c.community,
                name: c.name,
                status: c.status,
                merged_into: c.merged_into,
                version: c.version,
                residents,
                households,
                evidence: evidence.into_iter().collect(),
                categories: cats.into_iter().map(|(c, _)| c.as_str().to_owned()).collect(),
                lng: members.iter().map(|n| n.lng).sum::<f64>() / k,
                lat: members.iter().map(|n| n.lat).sum::<f64>() / k,
                needs: c.needs,
            }
        })
        .collect())
}

/// The active clusters of a community, largest first.
async fn sorted_clusters(s: &AppState, city: CityCode, code: &str) -> AppResult<Vec<ClusterView>> {
    let stored = s.store.renewal_clusters(city, code, false).await?;
    let mut v = cluster_views(s, city, code, stored).await?;
    v.sort_by(|a, b| b.needs.len().cmp(&a.needs.len()).then(a.id.cmp(&b.id)));
    Ok(v)
}

/// The clusters of a community with their counts, largest first (residents and staff).
pub async fn list_clusters(s: &AppState, p: &Principal, code: &str) -> AppResult<Vec<ClusterView>> {
    let city = p.city;
    community(s, city, code).await?;
    check_view(p, code)?;
    sorted_clusters(s, city, code).await
}

/// One step of a cluster's history.
#[derive(Serialize, ToSchema)]
pub struct ClusterStep {
    pub kind: String,
    #[schema(value_type = Option<i64>)]
    pub actor: Option<PersonId>,
    pub at: i64,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct ClusterDetail {
    pub cluster: ClusterView,
    pub needs: Vec<NeedView>,
    pub history: Vec<ClusterStep>,
}

async fn stored_cluster(s: &AppState, city: CityCode, id: i64) -> AppResult<StoredCluster> {
    s.store
        .renewal_cluster(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("cluster {id}")))
}

/// A cluster's history of events, oldest first.
async fn history(s: &AppState, city: CityCode, id: i64) -> AppResult<Vec<ClusterStep>> {
    Ok(s.store
        .events(city, &format!("renewal_cluster:{id}"))
        .await?
        .into_iter()
        .map(|e| ClusterStep {
            kind: e.kind,
            actor: e.actor,
            at: e.at,
            reason: e.reason,
            payload: e.payload,
        })
        .collect())
}

/// A cluster with its needs and its history of events (who may see the community's needs).
pub async fn cluster_detail(s: &AppState, p: &Principal, id: i64) -> AppResult<ClusterDetail> {
    let city = p.city;
    let c = stored_cluster(s, city, id).await?;
    check_view(p, &c.community)?;
    let community = c.community.clone();
    let ids: BTreeSet<i64> = c.needs.iter().copied().collect();
    let cluster = cluster_views(s, city, &community, vec![c])
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found(format!("cluster {id}")))?;
    let needs = needs_view(s, p, &community)
        .await?
        .into_iter()
        .filter(|n| ids.contains(&n.id))
        .collect();
    let history = history(s, city, id).await?;
    Ok(ClusterDetail {
        cluster,
        needs,
        history,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct Rename {
    pub name: String,
    /// The version the caller saw (409 if it changed meanwhile).
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct Merge {
    /// The clusters merged into this one.
    pub from: Vec<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct Split {
    /// The needs split off into a new cluster.
    pub needs: Vec<i64>,
    /// The new cluster's name.
    pub name: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Split needs off a cluster into a new one (staff).
/// The cluster a split made.
#[derive(Serialize, ToSchema)]
pub struct NewCluster {
    pub id: i64,
}

/// What staff do to a cluster.
pub enum ClusterEdit {
    Rename(Rename),
    Merge(Merge),
    Split(Split),
}

/// Apply an edit to cluster `id` as `who`: the new cluster of a split.
async fn apply_edit(
    s: &AppState,
    city: CityCode,
    id: i64,
    edit: ClusterEdit,
    who: Option<i64>,
) -> AppResult<Option<i64>> {
    Ok(match edit {
        ClusterEdit::Rename(r) => {
            s.store
                .rename_cluster(city, id, &r.name, r.version, who.map(PersonId))
                .await?;
            None
        }
        ClusterEdit::Merge(m) => {
            s.store
                .merge_clusters(city, id, &m.from, who.map(PersonId), m.reason.as_deref())
                .await?;
            None
        }
        ClusterEdit::Split(x) => Some(
            s.store
                .split_cluster(city, id, &x.needs, &x.name, who.map(PersonId), x.reason.as_deref())
                .await?,
        ),
    })
}

/// Edit a cluster as its community's staff.
async fn edit(s: &AppState, p: &Principal, id: i64, edit: ClusterEdit) -> AppResult<Option<i64>> {
    let city = p.city;
    let c = stored_cluster(s, city, id).await?;
    check_staff(p, &c.community)?;
    apply_edit(s, city, id, edit, Some(p.person_id.0)).await
}

/// Rename a cluster (staff).
pub async fn rename(s: &AppState, p: &Principal, id: i64, r: Rename) -> AppResult<()> {
    edit(s, p, id, ClusterEdit::Rename(r)).await.map(|_| ())
}

/// Merge other clusters of the community into this one (staff).
pub async fn merge(s: &AppState, p: &Principal, id: i64, m: Merge) -> AppResult<()> {
    edit(s, p, id, ClusterEdit::Merge(m)).await.map(|_| ())
}

/// Split needs off a cluster into a new one (staff).
pub async fn split(s: &AppState, p: &Principal, id: i64, x: Split) -> AppResult<NewCluster> {
    let id = edit(s, p, id, ClusterEdit::Split(x))
        .await?
        .ok_or_else(AppError::internal)?;
    Ok(NewCluster { id })
}

/// Edit a cluster from the staff page (`edit`: the form's edit, or what was wrong with the form,
/// told once the principal is known to be staff). Returns the cluster's community.
pub async fn edit_from_page(s: &AppState, p: &Principal, id: i64, edit: AppResult<ClusterEdit>) -> AppResult<String> {
    let city = p.city;
    let c = stored_cluster(s, city, id).await?;
    require_staff(p, &c.community, || {
        format!("clusters of community {} are managed by its staff", c.community)
    })?;
    apply_edit(s, city, id, edit?, Some(p.person_id.0)).await?;
    Ok(c.community)
}

/// What a community's needs page shows: the community, the viewer's view of its needs, its
/// clusters (largest first), its grids (for the map) and whether the viewer is its staff.
pub struct NeedsOverview {
    pub community: Division,
    pub needs: Vec<NeedView>,
    pub clusters: Vec<ClusterView>,
    pub grids: Vec<Grid>,
    pub staff: bool,
}

/// The needs page of a community (its verified residents and staff).
pub async fn needs_overview(s: &AppState, p: &Principal, code: &str) -> AppResult<NeedsOverview> {
    let city = p.city;
    let d = community(s, city, code).await?;
    check_view(p, code)?;
    let needs = needs_view(s, p, code).await?;
    let clusters = sorted_clusters(s, city, code).await?;
    let grids = s.store.grids(city, Some(code), 1, 200).await?.grids;
    Ok(NeedsOverview {
        community: d,
        needs,
        clusters,
        grids,
        staff: is_staff(p, code),
    })
}

/// What the staff page of a community's clusters shows.
pub struct StaffOverview {
    pub community: Division,
    pub needs: Vec<NeedView>,
    /// Per need: the recurring cases near it (with their distance in metres) offered as evidence
    /// and not all linked yet.
    pub offers: HashMap<i64, Vec<(Recurrence, f64)>>,
    /// The clusters (largest first) with their history.
    pub clusters: Vec<(ClusterView, Vec<ClusterStep>)>,
}

/// The staff page of a community's clusters (its staff).
pub async fn staff_overview(s: &AppState, p: &Principal, code: &str) -> AppResult<StaffOverview> {
    let city = p.city;
    let d = community(s, city, code).await?;
    require_staff(p, code, || {
        format!(
            "clusters of community {code} are managed by its staff (community planners, grid heads, administrators)"
        )
    })?;
    let needs = needs_view(s, p, code).await?;
    let rule = evidence_rule(s, city).await?;
    let now = gongzhi_store::now_ms();
    let cases = s
        .store
        .community_case_facts(city, code, now - rule.window_days * 86_400_000)
        .await?;
    let recs = evidence::recurrences(&cases, &rule, now);
    let offers = needs
        .iter()
        .map(|n| {
            let offered = evidence::offers_for(n.lng, n.lat, &recs, &rule)
                .into_iter()
                .filter(|(x, _)| !x.cases.iter().all(|k| n.evidence.contains(k)))
                .collect();
            (n.id, offered)
        })
        .collect();
    let mut clusters = Vec::new();
    for v in sorted_clusters(s, city, code).await? {
        let h = history(s, city, v.id).await?;
        clusters.push((v, h));
    }
    Ok(StaffOverview {
        community: d,
        needs,
        offers,
        clusters,
    })
}
