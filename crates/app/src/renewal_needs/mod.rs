//! Micro-renewal needs and their integration (社区微更新 · 需求整合): who may see and keep a
//! community's needs and clusters, the city's parameters, and the clustering run.
//!
//! Needs are the one needs list of the generalist grid (`grid_needs`): a need raised here is a
//! grid need in the grid at its point (or the community's, in no grid). Who may do what:
//! - a **verified resident** of the community (a Resident grant whose scope covers it) raises
//!   needs there (source `resident`) and sees the community's needs and clusters; anyone else
//!   without staff rights is refused;
//! - **staff** of the community (ManageGrid on it: grid heads and workers of its grids for needs
//!   in their grids, community planners, administrators) raise needs on behalf of people met on
//!   visits (source `visit`) or at meetings (`meeting`), run the clustering, merge, split and
//!   rename clusters and link evidence cases.
//!
//! Parameters are data, per city: the settings `renewal_cluster_params`
//! ([`ClusterParams`] as JSON) and `renewal_evidence_rule` ([`EvidenceRule`]).
//!
//! Clusters and their views are in [`clusters`]; the command line's files in [`table`].

mod clusters;
mod table;

pub use clusters::*;
pub use table::*;

use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::gridteam::{Category, Need, NeedSource, NeedStatus, Urgency};
use gongzhi_core::renewal::cluster::ClusterParams;
use gongzhi_core::renewal::evidence::{self, EvidenceRule};
use gongzhi_core::spatial::Crs;
use gongzhi_core::territory::{Division, Level};
use gongzhi_store::{GridList, GridRecord, NewRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::people::is_resident_of;
use crate::{AppError, AppResult, AppState};

/// The settings holding the clustering parameters and the evidence rule (JSON).
pub const CLUSTER_PARAMS_SETTING: &str = "renewal_cluster_params";
pub const EVIDENCE_RULE_SETTING: &str = "renewal_evidence_rule";
pub const HOUR_VALUE_SETTING: &str = "renewal_hour_value_cents";

/// A need has at most this many photos.
pub const PHOTOS_PER_NEED: usize = 9;

/// The community (a division of level 社区/村), or 404.
pub async fn community(s: &AppState, city: CityCode, code: &str) -> AppResult<Division> {
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

/// Refuse unless the principal is staff of the community, with `refusal` as the message (the
/// pages say it in their own words).
fn require_staff(p: &Principal, community: &str, refusal: impl FnOnce() -> String) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(refusal()))
    }
}

/// The clustering parameters of a city (stored, else the defaults).
pub async fn cluster_params(s: &AppState, city: CityCode) -> AppResult<ClusterParams> {
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
pub async fn evidence_rule(s: &AppState, city: CityCode) -> AppResult<EvidenceRule> {
    match s.store.setting(city, EVIDENCE_RULE_SETTING).await? {
        Some(t) => Ok(serde_json::from_str(&t).map_err(|e| {
            AppError::invalid(format!("the stored setting {EVIDENCE_RULE_SETTING} is unreadable: {e}"))
        })?),
        None => Ok(EvidenceRule::default()),
    }
}

/// What an hour of volunteer work is worth in the city's co-produced shares (stored, else the
/// default, 25 元).
pub async fn hour_value(s: &AppState, city: CityCode) -> AppResult<i64> {
    match s.store.setting(city, HOUR_VALUE_SETTING).await? {
        Some(t) => t
            .trim()
            .parse()
            .map_err(|e| AppError::invalid(format!("the stored setting {HOUR_VALUE_SETTING} is unreadable: {e}"))),
        None => Ok(gongzhi_core::renewal::indicators::HOUR_VALUE_CENTS),
    }
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

/// The clustering parameters, the evidence rule and the hour value of the principal's city
/// (anyone logged in).
pub async fn settings(s: &AppState, p: &Principal) -> AppResult<RenewalSettings> {
    let city = p.city;
    Ok(RenewalSettings {
        cluster: cluster_params(s, city).await?,
        evidence: evidence_rule(s, city).await?,
        hour_value_cents: Some(hour_value(s, city).await?),
    })
}

/// Replace the clustering parameters, the evidence rule and (when given) the hour value (city
/// administrators).
pub async fn set_settings(s: &AppState, p: &Principal, x: RenewalSettings) -> AppResult<RenewalSettings> {
    let city = p.city;
    require_settings_admin(p)?;
    x.cluster.check()?;
    x.evidence.check()?;
    if let Some(v) = x.hour_value_cents {
        gongzhi_core::renewal::indicators::check_hour_value(v)?;
    }
    let who = Some(p.person_id);
    if let Some(v) = x.hour_value_cents {
        s.store
            .set_setting(city, HOUR_VALUE_SETTING, &v.to_string(), who)
            .await?;
    }
    s.store
        .set_setting(
            city,
            CLUSTER_PARAMS_SETTING,
            &serde_json::to_string(&x.cluster).unwrap_or_default(),
            who,
        )
        .await?;
    s.store
        .set_setting(
            city,
            EVIDENCE_RULE_SETTING,
            &serde_json::to_string(&x.evidence).unwrap_or_default(),
            who,
        )
        .await?;
    Ok(RenewalSettings {
        hour_value_cents: Some(hour_value(s, city).await?),
        ..x
    })
}

/// A need of the list with its community (the first 12 digits of its area), or 404.
pub async fn need(s: &AppState, city: CityCode, id: i64) -> AppResult<(GridRecord, Need, String)> {
    let r = s
        .store
        .grid_record(city, GridList::Needs, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("need {id}")))?;
    let n: Need = r.body_as()?;
    let community = r.area.chars().take(12).collect();
    Ok((r, n, community))
}

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

/// Check a need and store it in the one needs list (the API and the pages): a verified resident
/// raises their own; staff raise needs met on visits or at meetings on behalf of people. The
/// point must lie in the community.
pub async fn raise(s: &AppState, p: &Principal, community_code: &str, r: RaiseNeed) -> AppResult<Raised> {
    let city = p.city;
    let c = community(s, city, community_code).await?;
    let code = c.code.to_string();
    let crs: Crs = r.crs.as_deref().unwrap_or("wgs84").parse()?;
    let at = crate::territory::locate(s, city, crs, r.lng, r.lat).await?;
    if at.community.as_ref().map(|d| d.code.as_str()) != Some(code.as_str()) {
        return Err(AppError::invalid(format!(
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
    let staff = raises_as_staff(p, &area, &code);
    let (source, raised_by, household) = if staff {
        let source: NeedSource = match r.source.as_deref() {
            Some(x) if !x.is_empty() => x.parse()?,
            _ => NeedSource::Visit,
        };
        if source == NeedSource::Resident && r.on_behalf_of.is_none() {
            return Err(AppError::invalid(
                "source: staff raise needs met on visits (visit) or at meetings (meeting); a resident raises their own",
            ));
        }
        if let Some(person) = r.on_behalf_of {
            if s.store.person(city, PersonId(person)).await?.is_none() {
                return Err(AppError::invalid(format!(
                    "on_behalf_of: person {person} is not in the register"
                )));
            }
        }
        (source, r.on_behalf_of.or(Some(p.person_id.0)), r.household)
    } else {
        if !is_resident_of(p, &code) {
            return Err(AppError::forbidden(format!(
                "only verified residents of community {code} {} raise its needs: your resident registration does not cover it (ask the community committee to verify you)",
                c.name
            )));
        }
        (NeedSource::Resident, Some(p.person_id.0), None)
    };
    if let Some(h) = household {
        let hh = s.store.grid_record(city, GridList::Households, h).await?;
        if hh.is_none_or(|x| !x.area.starts_with(&code)) {
            return Err(AppError::invalid(format!(
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
    let id = s.store.add_grid_record(city, &rec, Some(p.person_id)).await?;
    if source == NeedSource::Resident {
        let rules = crate::gridteam::rules(s, city).await?;
        if rules.iter().any(|x| x.action == "need_raised") {
            s.store
                .award_points(
                    city,
                    &[p.person_id.0],
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
pub async fn needs_view(s: &AppState, p: &Principal, community: &str) -> AppResult<Vec<NeedView>> {
    let city = p.city;
    let staff = sees_all_needs(p, community);
    let assigned = s.store.cluster_assignments(city, community).await?;
    let mut out = Vec::new();
    for r in s.store.community_needs(city, community).await? {
        let n: Need = r.body_as()?;
        let mine = n.raised_by == Some(p.person_id.0);
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
                .need_photos(city, r.id)
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
pub async fn list_needs(s: &AppState, p: &Principal, code: &str) -> AppResult<Vec<NeedView>> {
    let city = p.city;
    community(s, city, code).await?;
    check_view(p, code)?;
    needs_view(s, p, code).await
}

/// Check (the one media policy) and store a need's photo (the API and the pages): its raiser or
/// staff.
pub async fn add_photo(s: &AppState, p: &Principal, id: i64, ct: &str, body: &[u8]) -> AppResult<i64> {
    let city = p.city;
    let (_, n, community) = need(s, city, id).await?;
    if n.raised_by != Some(p.person_id.0) && !is_staff(p, &community) {
        return Err(AppError::forbidden(format!(
            "photos of need {id} are added by whoever raised it or by the community's staff"
        )));
    }
    let checked = crate::cases::check_photo_bytes(ct, body)?;
    if s.store.need_photos(city, id).await?.len() >= PHOTOS_PER_NEED {
        return Err(AppError::invalid(format!(
            "a need has at most {PHOTOS_PER_NEED} photos"
        )));
    }
    Ok(s.store
        .add_need_photo(city, id, checked.content_type, &checked.data, Some(p.person_id))
        .await?)
}

/// The media id of a need's photo by its id in an old URL (who may see the community's needs).
pub async fn photo_media(s: &AppState, p: &Principal, id: i64, photo: i64) -> AppResult<i64> {
    let city = p.city;
    let (_, _, community) = need(s, city, id).await?;
    check_view(p, &community)?;
    crate::media::resolve(
        s,
        city,
        &format!("renewal_need_photos:{photo}"),
        &format!("need:{id}"),
        photo,
    )
    .await?
    .ok_or_else(|| AppError::not_found(format!("photo {photo}")))
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

/// The offers for a need.
async fn offers(s: &AppState, city: CityCode, id: i64) -> AppResult<EvidenceView> {
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
pub async fn evidence(s: &AppState, p: &Principal, id: i64) -> AppResult<EvidenceView> {
    let city = p.city;
    let (_, _, community) = need(s, city, id).await?;
    check_staff(p, &community)?;
    offers(s, city, id).await
}

#[derive(Deserialize, ToSchema)]
pub struct LinkEvidence {
    pub cases: Vec<i64>,
}

/// Link cases to a need as evidence (staff; an event on the need): the cases linked now.
pub async fn link_evidence(s: &AppState, p: &Principal, id: i64, l: LinkEvidence) -> AppResult<Vec<i64>> {
    let city = p.city;
    let (_, _, community) = need(s, city, id).await?;
    check_staff(p, &community)?;
    Ok(s.store.link_evidence(city, id, &l.cases, Some(p.person_id)).await?)
}

/// Link cases to a need as evidence from the staff page (`cases`: the form's cases, or what was
/// wrong with them, told once the principal is known to be staff). Returns the need's community.
pub async fn link_evidence_from_page(
    s: &AppState,
    p: &Principal,
    id: i64,
    cases: AppResult<Vec<i64>>,
) -> AppResult<String> {
    let city = p.city;
    let (_, _, community) = need(s, city, id).await?;
    require_staff(p, &community, || {
        format!("evidence of community {community} is linked by its staff")
    })?;
    s.store.link_evidence(city, id, &cases?, Some(p.person_id)).await?;
    Ok(community)
}
