//! Micro-renewal needs and their integration (社区微更新 · 需求整合), under `/api/renewal/...`.
//!
//! Needs are the one needs list of the generalist grid (`grid_needs`): a need raised here is a
//! grid need in the grid at its point (or the community's, in no grid). Who may do what:
//! - a **verified resident** of the community (a Resident grant whose scope covers it) raises
//!   needs there (source `resident`) and sees the community's needs and clusters; anyone else
//!   without staff rights gets 403;
//! - **staff** of the community (ManageGrid on it: grid heads and workers of its grids for needs
//!   in their grids, community planners, administrators) raise needs on behalf of people met on
//!   visits (source `visit`) or at meetings (`meeting`), run the clustering, merge, split and
//!   rename clusters and link evidence cases.
//!
//! Parameters are data, per city: the settings `renewal_cluster_params`
//! ([`ClusterParams`] as JSON) and `renewal_evidence_rule` ([`EvidenceRule`]).

use gongzhi_store::prelude::*;
use std::collections::{BTreeSet, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gongzhi_core::access::Principal;
use gongzhi_core::gridteam::{Category, Need, NeedSource, NeedStatus, Urgency};
use gongzhi_core::renewal::cluster::{self, Backing, ClusterParams};
use gongzhi_core::renewal::evidence::{self, EvidenceRule};
use gongzhi_core::spatial::Crs;
use gongzhi_store::{GridList, NewRecord, StoredCluster};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::cases::PhotoAdded;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use gongzhi_app::people::is_resident_of;
pub use gongzhi_app::renewal_needs::{
    check_staff, check_view, cluster_params, community, evidence_rule, hour_value, is_staff, need, run_clustering,
    Refreshed, CLUSTER_PARAMS_SETTING, EVIDENCE_RULE_SETTING, HOUR_VALUE_SETTING,
};

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(raise_need, list_needs))
        .routes(routes!(add_photo))
        .routes(routes!(get_photo))
        .routes(routes!(evidence_offers, link_evidence))
        .routes(routes!(refresh))
        .routes(routes!(list_clusters))
        .routes(routes!(get_cluster))
        .routes(routes!(rename))
        .routes(routes!(merge))
        .routes(routes!(split))
        .routes(routes!(get_settings, put_settings))
}

/// A need has at most this many photos.
pub const PHOTOS_PER_NEED: usize = 9;

/// A need to raise.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RaiseNeed {
    /// A category of the needs list (renewal ones: public_space, greening, lighting,
    /// accessibility, parking, play_space, facade, drainage, waste_point, charging …).
    pub category: String,
    pub text: String,
    pub lng: f64,
    pub lat: f64,
    /// wgs84 (default), gcj02 or bd09.
    #[serde(default)]
    pub crs: Option<String>,
    /// A drawn area (GeoJSON Polygon or MultiPolygon), besides the point.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub area: Option<serde_json::Value>,
    #[serde(default)]
    pub urgency: Option<String>,
    /// Staff only: visit (default) or meeting.
    #[serde(default)]
    pub source: Option<String>,
    /// Staff only: the person met (their id), when known.
    #[serde(default)]
    pub on_behalf_of: Option<i64>,
    /// Staff only: the household it is raised for (households list id).
    #[serde(default)]
    pub household: Option<i64>,
    /// A group it is raised for, e.g. "3号楼老人".
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Raised {
    pub id: i64,
    /// The grid it lies in (its area in the needs list), else the community.
    pub area: String,
}

/// Check a need and store it in the one needs list (shared with the pages and the CLI import).
pub async fn raise(s: &AppState, p: &Principal, community_code: &str, r: RaiseNeed) -> ApiResult<Raised> {
    let city = p.city.to_string();
    let c = community(s, &city, community_code).await?;
    let code = c.code.to_string();
    let crs: Crs = r.crs.as_deref().unwrap_or("wgs84").parse()?;
    let at = crate::api::territory::locate(s, &city, crs, r.lng, r.lat).await?;
    if at.community.as_ref().map(|d| d.code.as_str()) != Some(code.as_str()) {
        return Err(ApiError::invalid(format!(
            "lng, lat: the point lies outside community {code} {} ({}); put the need where it is, in its own community",
            c.name, at.message
        )));
    }
    let area = at.grid.as_ref().map_or_else(|| code.clone(), |g| g.code.clone());
    let category: Category = r.category.parse()?;
    let urgency: Urgency = match r.urgency.as_deref() {
        Some(u) if !u.is_empty() => u.parse()?,
        _ => Urgency::Normal,
    };
    let staff = gongzhi_app::renewal_needs::raises_as_staff(p, &area, &code);
    let (source, raised_by, household) = if staff {
        let source: NeedSource = match r.source.as_deref() {
            Some(x) if !x.is_empty() => x.parse()?,
            _ => NeedSource::Visit,
        };
        if source == NeedSource::Resident && r.on_behalf_of.is_none() {
            return Err(ApiError::invalid(
                "source: staff raise needs met on visits (visit) or at meetings (meeting); a resident raises their own",
            ));
        }
        if let Some(person) = r.on_behalf_of {
            if s.store.person(&city, person).await?.is_none() {
                return Err(ApiError::invalid(format!(
                    "on_behalf_of: person {person} is not in the register"
                )));
            }
        }
        (source, r.on_behalf_of.or(Some(p.person_id)), r.household)
    } else {
        if !is_resident_of(p, &code) {
            return Err(ApiError::forbidden(format!(
                "only verified residents of community {code} {} raise its needs: your resident registration does not cover it (ask the community committee to verify you)",
                c.name
            )));
        }
        (NeedSource::Resident, Some(p.person_id), None)
    };
    if let Some(h) = household {
        let hh = s.store.grid_record(&city, GridList::Households, h).await?;
        if hh.is_none_or(|x| !x.area.starts_with(&code)) {
            return Err(ApiError::invalid(format!(
                "household: {h} is not a household of community {code}"
            )));
        }
    }
    let need = Need {
        category,
        text: r.text.trim().to_owned(),
        lng: at.lng,
        lat: at.lat,
        area: r.area,
        urgency,
        source,
        raised_by,
        household,
        group: r.group.filter(|g| !g.trim().is_empty()),
        quantity: 1,
        evidence: Vec::new(),
    };
    need.check()?;
    let rec = NewRecord {
        list: GridList::Needs,
        area: area.clone(),
        status: NeedStatus::Open.as_str().into(),
        person: need.raised_by,
        body: serde_json::to_value(&need).unwrap_or_default(),
    };
    let id = s.store.add_grid_record(&city, &rec, Some(p.person_id)).await?;
    if source == NeedSource::Resident {
        let rules = gongzhi_app::gridteam::rules(s, &city).await?;
        if rules.iter().any(|x| x.action == "need_raised") {
            s.store
                .award_points(
                    &city,
                    &[p.person_id],
                    "need_raised",
                    1,
                    &format!("need:{id}"),
                    &rules,
                    Some(p.person_id),
                )
                .await?;
        }
    }
    Ok(Raised { id, area })
}

/// Raise a need in a community: a verified resident raises their own; staff raise needs met on
/// visits or at meetings on behalf of people. The point must lie in the community.
#[utoipa::path(post, path = "/api/renewal/communities/{community}/needs", tag = "renewal", params(("community" = String, Path)),
    request_body = RaiseNeed, security(("bearer" = [])),
    responses((status = 201, body = Raised), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn raise_need(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(r): Json<RaiseNeed>,
) -> ApiResult<(StatusCode, Json<Raised>)> {
    Ok((StatusCode::CREATED, Json(raise(&s, &p, &code, r).await?)))
}

/// A need as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NeedView {
    pub id: i64,
    /// The grid (or community) it is recorded in.
    pub area: String,
    pub status: String,
    pub category: String,
    pub category_zh: String,
    pub text: String,
    pub lng: f64,
    pub lat: f64,
    pub source: String,
    pub urgency: String,
    /// The raiser (staff see it; residents only for their own needs).
    pub raised_by: Option<i64>,
    /// Whether the viewer raised it.
    pub mine: bool,
    pub photos: Vec<i64>,
    /// Cases linked as evidence.
    pub evidence: Vec<i64>,
    pub cluster: Option<i64>,
    pub created_at: i64,
}

/// The community's needs as the viewer may see them.
pub async fn needs_view(s: &AppState, p: &Principal, community: &str) -> ApiResult<Vec<NeedView>> {
    let city = p.city.to_string();
    let staff = gongzhi_app::renewal_needs::sees_all_needs(p, community);
    let assigned = s.store.cluster_assignments(&city, community).await?;
    let mut out = Vec::new();
    for r in s.store.community_needs(&city, community).await? {
        let n: Need = r.body_as()?;
        let mine = n.raised_by == Some(p.person_id);
        out.push(NeedView {
            id: r.id,
            area: r.area.clone(),
            status: r.status.clone(),
            category: n.category.as_str().into(),
            category_zh: n.category.zh().into(),
            text: n.text,
            lng: n.lng,
            lat: n.lat,
            source: n.source.as_str().into(),
            urgency: n.urgency.as_str().into(),
            raised_by: if staff || mine { n.raised_by } else { None },
            mine,
            photos: s
                .store
                .need_photos(&city, r.id)
                .await?
                .into_iter()
                .map(|m| m.id)
                .collect(),
            evidence: n.evidence,
            cluster: assigned.get(&r.id).copied(),
            created_at: r.created_at,
        });
    }
    Ok(out)
}

/// The needs of a community (its verified residents and staff).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/needs", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<NeedView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_needs(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<NeedView>>> {
    let city = p.city.to_string();
    community(&s, &city, &code).await?;
    check_view(&p, &code)?;
    Ok(Json(needs_view(&s, &p, &code).await?))
}

/// Attach a photo to a need (the request body; its type is read from its bytes): its raiser or
/// staff.
#[utoipa::path(post, path = "/api/renewal/needs/{id}/photos", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PhotoAdded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn add_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<(StatusCode, Json<PhotoAdded>)> {
    let city = p.city.to_string();
    let pid = photo(&s, &p, &city, id, &upload.declared, &upload.bytes).await?;
    Ok((StatusCode::CREATED, Json(PhotoAdded::new(pid))))
}

/// Check (the one media policy) and store a need's photo (shared with the pages).
pub async fn photo(s: &AppState, p: &Principal, city: &str, id: i64, ct: &str, body: &[u8]) -> ApiResult<i64> {
    let (_, n, community) = need(s, city, id).await?;
    if n.raised_by != Some(p.person_id) && !is_staff(p, &community) {
        return Err(ApiError::forbidden(format!(
            "photos of need {id} are added by whoever raised it or by the community's staff"
        )));
    }
    let checked = crate::media::check(crate::media::PHOTO, ct, body)?;
    if s.store.need_photos(city, id).await?.len() >= PHOTOS_PER_NEED {
        return Err(ApiError::invalid(format!(
            "a need has at most {PHOTOS_PER_NEED} photos"
        )));
    }
    Ok(s.store
        .add_need_photo(city, id, checked.content_type, &checked.data, Some(p.person_id))
        .await?)
}

/// A photo of a need: moved to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/renewal/needs/{id}/photos/{photo}", tag = "renewal", params(("id" = i64, Path), ("photo" = i64, Path)),
    security(("bearer" = [])), responses((status = 308, description = "the photo's one URL, /media/{id}"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, photo)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let city = p.city.to_string();
    let (_, _, community) = need(&s, &city, id).await?;
    check_view(&p, &community)?;
    Ok(crate::media::moved(photo_media(&s, &city, id, photo).await?))
}

/// The media id of a need's photo by its id in an old URL.
pub async fn photo_media(s: &AppState, city: &str, id: i64, photo: i64) -> ApiResult<i64> {
    crate::media::resolve(
        s,
        city,
        &format!("renewal_need_photos:{photo}"),
        &format!("need:{id}"),
        photo,
    )
    .await?
    .ok_or_else(|| ApiError::not_found(format!("photo {photo}")))
}

/// Cases recurring near a need, offered as its evidence.
#[derive(Serialize, ToSchema)]
pub struct EvidenceOffer {
    /// The catalogue subcategory (小类) code.
    pub subcategory: String,
    pub cases: Vec<i64>,
    pub distance_m: f64,
    pub first_ms: i64,
    pub last_ms: i64,
    /// Whether all its cases are linked already.
    pub linked: bool,
}

#[derive(Serialize, ToSchema)]
pub struct EvidenceView {
    pub need: i64,
    pub linked: Vec<i64>,
    pub offers: Vec<EvidenceOffer>,
    #[schema(value_type = Object)]
    pub rule: EvidenceRule,
}

/// The offers for a need (shared with the pages).
pub async fn offers(s: &AppState, city: &str, id: i64) -> ApiResult<EvidenceView> {
    let (_, n, community) = need(s, city, id).await?;
    let rule = evidence_rule(s, city).await?;
    let now = gongzhi_store::now_ms();
    let cases = s
        .store
        .community_case_facts(city, &community, now - rule.window_days * 86_400_000)
        .await?;
    let recs = evidence::recurrences(&cases, &rule, now);
    let offers = evidence::offers_for(n.lng, n.lat, &recs, &rule)
        .into_iter()
        .map(|(r, d)| EvidenceOffer {
            linked: r.cases.iter().all(|c| n.evidence.contains(c)),
            subcategory: r.subcategory,
            cases: r.cases,
            distance_m: d.round(),
            first_ms: r.first_ms,
            last_ms: r.last_ms,
        })
        .collect();
    Ok(EvidenceView {
        need: id,
        linked: n.evidence,
        offers,
        rule,
    })
}

/// The closed-loop cases that keep coming back near a need (the city's evidence rule), and the
/// cases linked to it (staff).
#[utoipa::path(get, path = "/api/renewal/needs/{id}/evidence", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = EvidenceView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence_offers(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<EvidenceView>> {
    let city = p.city.to_string();
    let (_, _, community) = need(&s, &city, id).await?;
    check_staff(&p, &community)?;
    Ok(Json(offers(&s, &city, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct LinkEvidence {
    pub cases: Vec<i64>,
}

/// Link cases to a need as evidence (staff; an event on the need).
#[utoipa::path(post, path = "/api/renewal/needs/{id}/evidence", tag = "renewal", params(("id" = i64, Path)),
    request_body = LinkEvidence, security(("bearer" = [])),
    responses((status = 200, body = Vec<i64>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link_evidence(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(l): Json<LinkEvidence>,
) -> ApiResult<Json<Vec<i64>>> {
    let city = p.city.to_string();
    let (_, _, community) = need(&s, &city, id).await?;
    check_staff(&p, &community)?;
    Ok(Json(
        s.store.link_evidence(&city, id, &l.cases, Some(p.person_id)).await?,
    ))
}

/// Run or refresh the clustering of a community's needs (staff). New needs join the cluster
/// holding their look-alikes or form new clusters; staff's merges and splits stay.
#[utoipa::path(post, path = "/api/renewal/communities/{community}/clusters/refresh", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Refreshed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refresh(State(s): State<AppState>, Auth(p): Auth, Path(code): Path<String>) -> ApiResult<Json<Refreshed>> {
    let city = p.city.to_string();
    community(&s, &city, &code).await?;
    check_staff(&p, &code)?;
    Ok(Json(run_clustering(&s, &city, &code, Some(p.person_id)).await?))
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
    city: &str,
    community: &str,
    clusters: Vec<StoredCluster>,
) -> ApiResult<Vec<ClusterView>> {
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

/// The clusters of a community with their counts, largest first (residents and staff).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/clusters", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<ClusterView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_clusters(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<ClusterView>>> {
    let city = p.city.to_string();
    community(&s, &city, &code).await?;
    check_view(&p, &code)?;
    let stored = s.store.renewal_clusters(&city, &code, false).await?;
    let mut v = cluster_views(&s, &city, &code, stored).await?;
    v.sort_by(|a, b| b.needs.len().cmp(&a.needs.len()).then(a.id.cmp(&b.id)));
    Ok(Json(v))
}

/// One step of a cluster's history.
#[derive(Serialize, ToSchema)]
pub struct ClusterStep {
    pub kind: String,
    pub actor: Option<i64>,
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

async fn stored_cluster(s: &AppState, city: &str, id: i64) -> ApiResult<StoredCluster> {
    s.store
        .renewal_cluster(city, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("cluster {id}")))
}

/// A cluster with its needs and its history of events.
#[utoipa::path(get, path = "/api/renewal/clusters/{id}", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = ClusterDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_cluster(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ClusterDetail>> {
    let city = p.city.to_string();
    let c = stored_cluster(&s, &city, id).await?;
    check_view(&p, &c.community)?;
    let community = c.community.clone();
    let ids: BTreeSet<i64> = c.needs.iter().copied().collect();
    let cluster = cluster_views(&s, &city, &community, vec![c])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found(format!("cluster {id}")))?;
    let needs = needs_view(&s, &p, &community)
        .await?
        .into_iter()
        .filter(|n| ids.contains(&n.id))
        .collect();
    let history = s
        .store
        .events(&city, &format!("renewal_cluster:{id}"))
        .await?
        .into_iter()
        .map(|e| ClusterStep {
            kind: e.kind,
            actor: e.actor,
            at: e.at,
            reason: e.reason,
            payload: e.payload,
        })
        .collect();
    Ok(Json(ClusterDetail {
        cluster,
        needs,
        history,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Rename {
    pub name: String,
    /// The version the caller saw (409 if it changed meanwhile).
    #[serde(default)]
    pub version: Option<i64>,
}

/// Rename a cluster (staff).
#[utoipa::path(post, path = "/api/renewal/clusters/{id}/rename", tag = "renewal", params(("id" = i64, Path)),
    request_body = Rename, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rename(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<Rename>,
) -> ApiResult<StatusCode> {
    let city = p.city.to_string();
    let c = stored_cluster(&s, &city, id).await?;
    check_staff(&p, &c.community)?;
    s.store
        .rename_cluster(&city, id, &r.name, r.version, Some(p.person_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Merge {
    /// The clusters merged into this one.
    pub from: Vec<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Merge other clusters of the community into this one (staff).
#[utoipa::path(post, path = "/api/renewal/clusters/{id}/merge", tag = "renewal", params(("id" = i64, Path)),
    request_body = Merge, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(m): Json<Merge>,
) -> ApiResult<StatusCode> {
    let city = p.city.to_string();
    let c = stored_cluster(&s, &city, id).await?;
    check_staff(&p, &c.community)?;
    s.store
        .merge_clusters(&city, id, &m.from, Some(p.person_id), m.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
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

#[utoipa::path(post, path = "/api/renewal/clusters/{id}/split", tag = "renewal", params(("id" = i64, Path)),
    request_body = Split, security(("bearer" = [])),
    responses((status = 201, body = NewCluster), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn split(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(x): Json<Split>,
) -> ApiResult<(StatusCode, Json<NewCluster>)> {
    let city = p.city.to_string();
    let c = stored_cluster(&s, &city, id).await?;
    check_staff(&p, &c.community)?;
    let new_id = s
        .store
        .split_cluster(&city, id, &x.needs, &x.name, Some(p.person_id), x.reason.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(NewCluster { id: new_id })))
}

/// The clustering parameters and the evidence rule of the city.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenewalSettings {
    #[schema(value_type = Object)]
    pub cluster: ClusterParams,
    #[schema(value_type = Object)]
    pub evidence: EvidenceRule,
    /// What an hour of volunteer work is worth in the co-produced shares, cents (default 2,500:
    /// 25 元; omitted in a PUT: unchanged).
    #[serde(default)]
    pub hour_value_cents: Option<i64>,
}

/// The clustering parameters, the evidence rule and the hour value (anyone logged in).
#[utoipa::path(get, path = "/api/renewal/settings", tag = "renewal", security(("bearer" = [])),
    responses((status = 200, body = RenewalSettings)))]
pub async fn get_settings(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<RenewalSettings>> {
    let city = p.city.to_string();
    Ok(Json(RenewalSettings {
        cluster: cluster_params(&s, &city).await?,
        evidence: evidence_rule(&s, &city).await?,
        hour_value_cents: Some(hour_value(&s, &city).await?),
    }))
}

/// Replace the clustering parameters, the evidence rule and (when given) the hour value (city
/// administrators).
#[utoipa::path(put, path = "/api/renewal/settings", tag = "renewal", request_body = RenewalSettings, security(("bearer" = [])),
    responses((status = 200, body = RenewalSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(x): Json<RenewalSettings>,
) -> ApiResult<Json<RenewalSettings>> {
    let city = p.city.to_string();
    gongzhi_app::renewal_needs::require_settings_admin(&p)?;
    x.cluster.check()?;
    x.evidence.check()?;
    if let Some(v) = x.hour_value_cents {
        gongzhi_core::renewal::indicators::check_hour_value(v)?;
    }
    let who = Some(p.person_id);
    if let Some(v) = x.hour_value_cents {
        s.store
            .set_setting(&city, HOUR_VALUE_SETTING, &v.to_string(), who)
            .await?;
    }
    s.store
        .set_setting(
            &city,
            CLUSTER_PARAMS_SETTING,
            &serde_json::to_string(&x.cluster).unwrap_or_default(),
            who,
        )
        .await?;
    s.store
        .set_setting(
            &city,
            EVIDENCE_RULE_SETTING,
            &serde_json::to_string(&x.evidence).unwrap_or_default(),
            who,
        )
        .await?;
    Ok(Json(RenewalSettings {
        hour_value_cents: Some(hour_value(&s, &city).await?),
        ..x
    }))
}
