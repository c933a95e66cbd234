//! Micro-renewal needs and their integration (社区微更新 · 需求整合): who may see and keep a
//! community's needs and clusters, the city's parameters, and the clustering run.
//!
//! Who may do what: a **verified resident** of the community raises needs there and sees the
//! community's needs and clusters; **staff** of the community (ManageGrid on it) also run the
//! clustering, merge, split and rename clusters and link evidence cases.

use gongzhi_store::prelude::*;
use std::collections::HashMap;

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::gridteam::Need;
use gongzhi_core::renewal::cluster::{self, ClusterParams, NeedPoint};
use gongzhi_core::renewal::evidence::EvidenceRule;
use gongzhi_core::territory::Level;
use gongzhi_store::{GridList, GridRecord};
use serde::Serialize;
use utoipa::ToSchema;

use crate::people::is_resident_of;
use crate::{AppError, AppResult, AppState};

/// The settings holding the clustering parameters and the evidence rule (JSON).
pub const CLUSTER_PARAMS_SETTING: &str = "renewal_cluster_params";
pub const EVIDENCE_RULE_SETTING: &str = "renewal_evidence_rule";
pub const HOUR_VALUE_SETTING: &str = "renewal_hour_value_cents";
/// The community (a division of level 社区/村), or 404.
pub async fn community(s: &AppState, city: &str, code: &str) -> AppResult<gongzhi_core::territory::Division> {
    match s.store.division(city, code).await? {
        Some(d) if d.level == Level::Community => Ok(d),
        Some(d) => Err(AppError::invalid(format!(
            "community: {code} is a {} ({}), not a community; needs are raised in a community (社区)",
            d.level.as_str(),
            d.name
        ))),
        None => Err(AppError::not_found(format!("community {code}"))),
    }
}

/// Whether the principal is staff of the community (may cluster, link evidence …).
pub fn is_staff(p: &Principal, community: &str) -> bool {
    p.may(Permission::ManageGrid, community)
}

/// Whether the principal raises needs in the community as staff (on behalf of people met on
/// visits or at meetings): the grid team of the need's area (`area`, its grid or the community)
/// or renewal staff of the community.
pub fn raises_as_staff(p: &Principal, area: &str, community: &str) -> bool {
    p.may(Permission::ManageGrid, area) || is_staff(p, community)
}

/// Whether the principal sees every need of the community in full (raisers, households):
/// its staff and grid teams; others see their own needs in full and the rest anonymised.
pub fn sees_all_needs(p: &Principal, community: &str) -> bool {
    is_staff(p, community) || p.may(Permission::ViewGridDetails, community)
}

/// Refuse unless the principal changes the city's renewal settings: its administrators.
pub fn require_settings_admin(p: &Principal) -> AppResult<()> {
    if p.may(Permission::ManageCatalogue, p.city.as_str()) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the renewal settings are changed by the city's administrators",
        ))
    }
}

/// Refuse unless the principal may see the community's needs and clusters.
pub fn check_view(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) || p.may(Permission::ViewGridDetails, community) || is_resident_of(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "the needs of community {community} are seen by its verified residents and its staff"
        )))
    }
}

pub fn check_staff(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "clusters and evidence of community {community} are kept by its staff (community planners, grid heads, administrators)"
        )))
    }
}

/// The clustering parameters of a city (stored, else the defaults).
pub async fn cluster_params(s: &AppState, city: &str) -> AppResult<ClusterParams> {
    match s.store.setting(city, CLUSTER_PARAMS_SETTING).await? {
        Some(t) => Ok(serde_json::from_str(&t).map_err(|e| {
            AppError::invalid(format!(
                "the stored setting {CLUSTER_PARAMS_SETTING} is unreadable: {e}"
            ))
        })?),
        None => Ok(ClusterParams::default()),
    }
}

/// The evidence rule of a city (stored, else the defaults).
pub async fn evidence_rule(s: &AppState, city: &str) -> AppResult<EvidenceRule> {
    match s.store.setting(city, EVIDENCE_RULE_SETTING).await? {
        Some(t) => Ok(serde_json::from_str(&t).map_err(|e| {
            AppError::invalid(format!("the stored setting {EVIDENCE_RULE_SETTING} is unreadable: {e}"))
        })?),
        None => Ok(EvidenceRule::default()),
    }
}

/// What an hour of volunteer work is worth in the city's co-produced shares (stored, else the
/// default, 25 元).
pub async fn hour_value(s: &AppState, city: &str) -> AppResult<i64> {
    match s.store.setting(city, HOUR_VALUE_SETTING).await? {
        Some(t) => t
            .trim()
            .parse()
            .map_err(|e| AppError::invalid(format!("the stored setting {HOUR_VALUE_SETTING} is unreadable: {e}"))),
        None => Ok(gongzhi_core::renewal::indicators::HOUR_VALUE_CENTS),
    }
}

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
pub async fn run_clustering(s: &AppState, city: &str, community: &str, actor: Option<i64>) -> AppResult<Refreshed> {
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

/// A need of the list with its community (the first 12 digits of its area), or 404.
pub async fn need(s: &AppState, city: &str, id: i64) -> AppResult<(GridRecord, Need, String)> {
    let r = s
        .store
        .grid_record(city, GridList::Needs, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("need {id}")))?;
    let n: Need = r.body_as()?;
    let community = r.area.chars().take(12).collect();
    Ok((r, n, community))
}
