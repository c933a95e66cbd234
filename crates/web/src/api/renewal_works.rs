//! Micro-renewal works and delivery (项目整合 · 共建): departments' planned works (JSON or a
//! CSV/XLSX file, all or nothing), bundles of works and delivery projects that meet in space and
//! time with their lead, schedule and savings, the before/after report, delivery projects with
//! milestones (photos, supervision of late ones), spending, contributions, upkeep and the
//! residents' acceptance survey.
//!
//! Who may do what: plans, bundles, delivery projects and their figures are public within the
//! city; departments' handlers register works for their own organisation, renewal staff (the
//! `deliver_renewal` permission in the community: planners, administrators) for any, and they
//! accept bundles and run delivery projects; verified residents of the community (a `resident`
//! grant covering it) offer contributions, check in on upkeep and answer the acceptance survey.

use gongzhi_store::prelude::*;
use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use gongzhi_core::access::Principal;
/// Today in Beijing time.
pub use gongzhi_core::calendar::china_today as today;
use gongzhi_core::case::Satisfaction;
use gongzhi_core::decision::Sentence;
use gongzhi_core::indicators::percent_or_dash;
use gongzhi_core::renewal::delivery::{
    acceptance_counters, co_production, parse_hours, progress_percent, Acceptance, Checkin, CoProduction, Contribution,
    ContributorKind, MilestoneState, NewDelivery,
};
use gongzhi_core::renewal::proposal::ProposalStatus;
use gongzhi_core::renewal::works::{
    find_bundles, parse_works, place_report, works_csv, Bundle, BundleParams, Item, ItemRef, NewWork, Place,
    PlaceReport, Window, WorkKind,
};
use gongzhi_core::table::Table;
use gongzhi_store::{BundleRow, DeliveryDetail, DeliveryRow, StoreError, SupervisedMilestone, WorkRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::is_resident_of;
use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_works, create_work))
        .routes(routes!(import_works))
        .routes(routes!(export_works))
        .routes(routes!(list_bundles, accept_bundle))
        .routes(routes!(get_bundle))
        .routes(routes!(list_deliveries, create_delivery))
        .routes(routes!(deliver_funded))
        .routes(routes!(get_delivery))
        .routes(routes!(add_milestone))
        .routes(routes!(complete_milestone))
        .routes(routes!(add_photo))
        .routes(routes!(get_photo))
        .routes(routes!(add_spending))
        .routes(routes!(add_contribution))
        .routes(routes!(add_upkeep))
        .routes(routes!(add_checkin))
        .routes(routes!(answer_acceptance))
        .routes(routes!(supervision))
}

fn city_of(s: &AppState, p: &Option<Principal>) -> String {
    p.as_ref()
        .map(|p| p.city.to_string())
        .unwrap_or_else(|| s.default_city.clone())
}

pub use gongzhi_app::renewal_works::{departments_for, require_staff};

fn parse_day(field: &str, s: &str) -> ApiResult<NaiveDate> {
    s.trim()
        .parse()
        .map_err(|_| ApiError::invalid(format!("{field}: '{s}' is not a date like 2026-05-01")))
}

fn place_of(v: &serde_json::Value) -> ApiResult<Place> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Place::from_geojson(&text)?)
}

#[derive(Deserialize, IntoParams)]
pub struct CommunityQuery {
    /// The community (12 digits); all of the city when absent.
    pub community: Option<String>,
}

/// The planned works of a community (or the city). Public.
#[utoipa::path(get, path = "/api/renewal/works", tag = "renewal", params(CommunityQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list_works(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<WorkRow>>> {
    Ok(Json(s.store.works(&city_of(&s, &p), q.community.as_deref()).await?))
}

/// A work to register.
#[derive(Deserialize, ToSchema)]
pub struct NewWorkRequest {
    /// The department's own reference, unique per department.
    pub reference: String,
    pub title: String,
    /// road_resurfacing, pipe_replacement, drainage, gas, cabling, lighting, greening, paving,
    /// facade_painting, roofing (or the Chinese name).
    pub kind: String,
    pub community: String,
    /// The department (organisation id).
    pub department: i64,
    /// `YYYY-MM-DD`, both ends included.
    pub from: String,
    pub to: String,
    pub budget_cents: i64,
    /// A GeoJSON geometry (Point, LineString, Polygon) in WGS-84, as an object or its text.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
}

pub(crate) fn work_of(r: &NewWorkRequest) -> ApiResult<NewWork> {
    if r.budget_cents < 0 {
        return Err(ApiError::invalid("budget_cents: a budget cannot be negative"));
    }
    let reference = r.reference.trim();
    let title = r.title.trim();
    if reference.is_empty() || title.is_empty() {
        return Err(ApiError::invalid("reference/title: give both"));
    }
    Ok(NewWork {
        reference: reference.to_owned(),
        title: title.to_owned(),
        kind: r.kind.parse::<WorkKind>()?,
        community: r.community.trim().to_owned(),
        department: r.department,
        place: place_of(&r.geometry)?,
        window: Window::new(parse_day("from", &r.from)?, parse_day("to", &r.to)?)?,
        budget_cents: r.budget_cents,
    })
}

/// Register one work (a department's handler for their department, renewal staff for any).
#[utoipa::path(post, path = "/api/renewal/works", tag = "renewal", security(("bearer" = [])), request_body = NewWorkRequest,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_work(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<NewWorkRequest>,
) -> ApiResult<Json<WorkRow>> {
    let work = work_of(&r)?;
    register(&s, &p, &[work], None)
        .await
        .map(|mut rows| Json(rows.remove(0)))
}

pub(crate) async fn register(
    s: &AppState,
    p: &Principal,
    works: &[NewWork],
    lines: Option<&[usize]>,
) -> ApiResult<Vec<WorkRow>> {
    for w in works {
        if let Some(allowed) = departments_for(p, &w.community) {
            if !allowed.contains(&w.department) {
                return Err(ApiError::forbidden(format!(
                    "you may register works for your own department only, not organisation {}",
                    w.department
                )));
            }
        }
    }
    let city = p.city.to_string();
    let ids = s.store.add_works(&city, works, lines, Some(p.person_id)).await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(s.store.work(&city, id).await?);
    }
    Ok(out)
}

/// How many works an import stored.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
    pub ids: Vec<i64>,
}

/// Import works from CSV or XLSX: `reference, title, kind, community, department, from, to,
/// budget_yuan, geometry` (GeoJSON). All or nothing; every wrong line is listed in `details`.
#[utoipa::path(post, path = "/api/renewal/works/import", tag = "renewal", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Imported), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_works(State(s): State<AppState>, Auth(p): Auth, body: Bytes) -> ApiResult<Json<Imported>> {
    let rows = import(&s, &p, &body).await?;
    Ok(Json(Imported {
        imported: rows.len(),
        ids: rows.iter().map(|r| r.id).collect(),
    }))
}

pub(crate) async fn import(s: &AppState, p: &Principal, body: &[u8]) -> ApiResult<Vec<WorkRow>> {
    let table = Table::from_bytes(body).map_err(|e| StoreError::Lines(vec![e]))?;
    // The departments allowed per line depend on the line's community; parse against the union
    // the principal may use, then check each work's community.
    let mut allowed: BTreeSet<i64> = p.units().into_iter().collect();
    let staff = gongzhi_app::renewal_works::is_staff_somewhere(p);
    if staff {
        allowed.extend(
            s.store
                .organisations(&p.city.to_string(), None)
                .await?
                .into_iter()
                .map(|o| o.id),
        );
    }
    let works = parse_works(&table, &allowed).map_err(StoreError::Lines)?;
    let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
    register(s, p, &works, Some(&lines)).await
}

/// The works as a CSV file in the import's columns. Public.
#[utoipa::path(get, path = "/api/renewal/works/export", tag = "renewal", params(CommunityQuery),
    responses((status = 200, body = String, content_type = "text/csv")))]
pub async fn export_works(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Response> {
    let works: Vec<NewWork> = s
        .store
        .works(&city_of(&s, &p), q.community.as_deref())
        .await?
        .into_iter()
        .map(|w| w.work)
        .collect();
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], works_csv(&works)).into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct BundleQuery {
    /// The community (12 digits); the whole city when absent (its bundles can only be accepted
    /// per community).
    pub community: Option<String>,
    /// Buffer distance in metres (default 50).
    pub buffer_m: Option<f64>,
    /// Largest gap between windows in days (default 30).
    pub gap_days: Option<i64>,
}

/// Proposed bundles (of items in no accepted bundle), accepted bundles and the report.
#[derive(Serialize, ToSchema)]
pub struct BundlesView {
    pub community: String,
    #[schema(value_type = Object)]
    pub params: BundleParams,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Item>,
    #[schema(value_type = Vec<Object>)]
    pub proposed: Vec<Bundle>,
    #[schema(value_type = Vec<Object>)]
    pub accepted: Vec<BundleRow>,
    pub report: Report,
}

/// Separate interventions before and after merging, per place.
#[derive(Serialize, ToSchema)]
pub struct Report {
    /// The community with the accepted bundles.
    #[schema(value_type = Object)]
    pub community: PlaceReport,
    /// The community if every proposed bundle were accepted too.
    #[schema(value_type = Object)]
    pub potential: PlaceReport,
    /// Each accepted bundle (`bundle N`) and proposed one (`proposed N`, from 1).
    #[schema(value_type = Vec<Object>)]
    pub bundles: Vec<PlaceReport>,
}

pub async fn bundles_view(
    s: &AppState,
    city: &str,
    community: Option<&str>,
    params: BundleParams,
) -> ApiResult<BundlesView> {
    let all: Vec<(Item, Option<i64>)> = match community {
        Some(c) => s.store.renewal_items(city, c).await?,
        None => {
            let mut all: Vec<(Item, Option<i64>)> = s
                .store
                .works(city, None)
                .await?
                .into_iter()
                .map(|w| (w.item(), w.bundle))
                .collect();
            all.extend(
                s.store
                    .deliveries(city, None)
                    .await?
                    .into_iter()
                    .map(|d| (d.item(), d.bundle)),
            );
            all
        }
    };
    let place = community.unwrap_or(city);
    let loose: Vec<Item> = all
        .iter()
        .filter(|(_, b)| b.is_none())
        .map(|(i, _)| i.clone())
        .collect();
    let items: Vec<Item> = all.into_iter().map(|(i, _)| i).collect();
    let proposed = find_bundles(&loose, &params);
    let accepted = s.store.bundles(city, community).await?;
    let accepted_bundles: Vec<Bundle> = accepted.iter().map(|b| b.bundle.clone()).collect();
    let both: Vec<Bundle> = accepted_bundles.iter().chain(&proposed).cloned().collect();
    let of = |b: &Bundle| -> Vec<Item> { items.iter().filter(|i| b.items.contains(&i.key)).cloned().collect() };
    let mut per_bundle: Vec<PlaceReport> = accepted
        .iter()
        .map(|b| {
            place_report(
                &format!("bundle {}", b.id),
                &of(&b.bundle),
                std::slice::from_ref(&b.bundle),
            )
        })
        .collect();
    per_bundle.extend(
        proposed
            .iter()
            .enumerate()
            .map(|(i, b)| place_report(&format!("proposed {}", i + 1), &of(b), std::slice::from_ref(b))),
    );
    Ok(BundlesView {
        community: place.to_owned(),
        params,
        report: Report {
            community: place_report(place, &items, &accepted_bundles),
            potential: place_report(place, &items, &both),
            bundles: per_bundle,
        },
        items,
        proposed,
        accepted,
    })
}

fn params_of(buffer_m: Option<f64>, gap_days: Option<i64>) -> ApiResult<BundleParams> {
    let d = BundleParams::default();
    Ok(BundleParams::new(
        buffer_m.unwrap_or(d.buffer_m),
        gap_days.unwrap_or(d.gap_days),
    )?)
}

/// Bundles of a community: the proposed ones with lead, schedule and savings, the accepted ones,
/// and the before/after report. Public.
#[utoipa::path(get, path = "/api/renewal/bundles", tag = "renewal", params(BundleQuery),
    responses((status = 200, body = BundlesView), (status = 422, body = ErrorBody)))]
pub async fn list_bundles(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<BundleQuery>,
) -> ApiResult<Json<BundlesView>> {
    let params = params_of(q.buffer_m, q.gap_days)?;
    Ok(Json(
        bundles_view(&s, &city_of(&s, &p), q.community.as_deref(), params).await?,
    ))
}

/// A proposed bundle to accept, named by its items.
#[derive(Deserialize, ToSchema)]
pub struct AcceptBundle {
    pub community: String,
    /// The items, as `work:ID` and `delivery:ID`.
    pub items: Vec<String>,
    pub buffer_m: Option<f64>,
    pub gap_days: Option<i64>,
}

/// Accept a proposed bundle: it becomes one tracked project (renewal staff). The items must be
/// exactly those of a bundle proposed with the same parameters.
#[utoipa::path(post, path = "/api/renewal/bundles", tag = "renewal", security(("bearer" = [])), request_body = AcceptBundle,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_bundle(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<AcceptBundle>,
) -> ApiResult<Json<BundleRow>> {
    Ok(Json(accept(&s, &p, &r).await?))
}

pub(crate) async fn accept(s: &AppState, p: &Principal, r: &AcceptBundle) -> ApiResult<BundleRow> {
    require_staff(p, &r.community)?;
    let params = params_of(r.buffer_m, r.gap_days)?;
    let mut wanted = r
        .items
        .iter()
        .map(|i| i.parse::<ItemRef>())
        .collect::<Result<Vec<_>, _>>()?;
    wanted.sort();
    wanted.dedup();
    let city = p.city.to_string();
    let view = bundles_view(s, &city, Some(&r.community), params).await?;
    let Some(bundle) = view.proposed.iter().find(|b| b.items == wanted) else {
        if view
            .accepted
            .iter()
            .any(|b| wanted.iter().any(|w| b.bundle.items.contains(w)))
        {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "some of these items are already in an accepted bundle",
            ));
        }
        return Err(ApiError::invalid(format!(
            "items: {} is not a proposed bundle with these parameters; proposed: {}",
            wanted.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", "),
            view.proposed
                .iter()
                .map(|b| format!(
                    "[{}]",
                    b.items.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ")
                ))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    };
    let id = s
        .store
        .accept_bundle(&city, &r.community, bundle, &params, Some(p.person_id))
        .await?;
    Ok(s.store.bundle(&city, id).await?)
}

/// An accepted bundle with its items and its before/after report.
#[derive(Serialize, ToSchema)]
pub struct BundleDetail {
    #[schema(value_type = Object)]
    pub bundle: BundleRow,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Item>,
    #[schema(value_type = Object)]
    pub report: PlaceReport,
}

pub async fn bundle_detail(s: &AppState, city: &str, id: i64) -> ApiResult<BundleDetail> {
    let bundle = s.store.bundle(city, id).await?;
    let items: Vec<Item> = s
        .store
        .renewal_items(city, &bundle.community)
        .await?
        .into_iter()
        .filter(|(_, b)| *b == Some(id))
        .map(|(i, _)| i)
        .collect();
    let report = place_report(&format!("bundle {id}"), &items, std::slice::from_ref(&bundle.bundle));
    Ok(BundleDetail { bundle, items, report })
}

#[utoipa::path(get, path = "/api/renewal/bundles/{id}", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = BundleDetail), (status = 404, body = ErrorBody)))]
pub async fn get_bundle(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<BundleDetail>> {
    Ok(Json(bundle_detail(&s, &city_of(&s, &p), id).await?))
}

/// The delivery projects of a community (or the city). Public.
#[utoipa::path(get, path = "/api/renewal/deliveries", tag = "renewal", params(CommunityQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<DeliveryRow>>> {
    Ok(Json(
        s.store.deliveries(&city_of(&s, &p), q.community.as_deref()).await?,
    ))
}

/// A delivery project to start (renewal staff).
#[derive(Deserialize, ToSchema)]
pub struct NewDeliveryRequest {
    /// The funded proposal it delivers, if any.
    pub proposal: Option<i64>,
    pub community: String,
    pub title: String,
    /// Default `resident_project`.
    pub kind: Option<String>,
    /// GeoJSON geometry (WGS-84).
    #[schema(value_type = Object)]
    pub site: serde_json::Value,
    pub budget_cents: i64,
    pub from: String,
    pub to: String,
}

pub(crate) fn delivery_of(r: &NewDeliveryRequest) -> ApiResult<NewDelivery> {
    let d = NewDelivery {
        proposal: r.proposal,
        community: r.community.trim().to_owned(),
        title: r.title.trim().to_owned(),
        kind: match r.kind.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(k) => k.parse()?,
            None => WorkKind::ResidentProject,
        },
        site: place_of(&r.site)?,
        budget_cents: r.budget_cents,
        window: Window::new(parse_day("from", &r.from)?, parse_day("to", &r.to)?)?,
    };
    d.check()?;
    Ok(d)
}

#[utoipa::path(post, path = "/api/renewal/deliveries", tag = "renewal", security(("bearer" = [])), request_body = NewDeliveryRequest,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_delivery(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<NewDeliveryRequest>,
) -> ApiResult<Json<DeliveryRow>> {
    let d = delivery_of(&r)?;
    require_staff(&p, &d.community)?;
    let city = p.city.to_string();
    if let Some(pid) = d.proposal {
        let funded = s
            .store
            .proposal(&city, pid)
            .await?
            .is_some_and(|x| x.status == ProposalStatus::Funded && x.community == d.community);
        if !funded {
            return Err(ApiError::invalid(format!(
                "proposal: {pid} is not a funded proposal of community {}",
                d.community
            )));
        }
        if s.store
            .deliveries(&city, Some(&d.community))
            .await?
            .iter()
            .any(|x| x.proposal == Some(pid))
        {
            return Err(ApiError::from(gongzhi_store::StoreError::Conflict(format!(
                "proposal {pid} is being delivered already"
            ))));
        }
    }
    let id = s.store.start_delivery(&city, &d, Some(p.person_id)).await?;
    Ok(Json(s.store.delivery_row(&city, id).await?))
}

/// The planned window of the deliveries started from a vote.
#[derive(Deserialize, ToSchema)]
pub struct DeliverFunded {
    /// First day, YYYY-MM-DD.
    pub from: String,
    /// Last day, YYYY-MM-DD.
    pub to: String,
}

/// Start a delivery project (共建项目) for every proposal a closed vote funded that has none yet,
/// with the proposal's title, site and budget and the given window (renewal staff). The answer
/// lists the deliveries started; doing it again starts none.
#[utoipa::path(post, path = "/api/renewal/votes/{id}/deliveries", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), request_body = DeliverFunded,
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deliver_funded(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(vote): Path<i64>,
    Json(r): Json<DeliverFunded>,
) -> ApiResult<Json<Vec<DeliveryRow>>> {
    Ok(Json(start_funded(&s, &p, vote, &r).await?))
}

/// Starts the deliveries of a closed vote's funded proposals that have none yet (renewal staff
/// of the vote's community; the API and the results page); the deliveries started.
pub async fn start_funded(s: &AppState, p: &Principal, vote: i64, r: &DeliverFunded) -> ApiResult<Vec<DeliveryRow>> {
    let city = p.city.to_string();
    let v = s
        .store
        .vote(&city, vote)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("vote {vote}")))?;
    require_staff(p, &v.community)?;
    let funded = s.store.funded_proposals(&city, vote).await?;
    let window = Window::new(parse_day("from", &r.from)?, parse_day("to", &r.to)?)?;
    let mut started = Vec::new();
    for f in funded {
        require_staff(p, &f.community)?;
        if s.store
            .deliveries(&city, Some(&f.community))
            .await?
            .iter()
            .any(|x| x.proposal == Some(f.proposal))
        {
            continue;
        }
        let d = NewDelivery {
            proposal: Some(f.proposal),
            community: f.community.clone(),
            title: f.title.clone(),
            kind: WorkKind::ResidentProject,
            site: place_of(&f.site)?,
            budget_cents: f.budget_cents,
            window,
        };
        let id = s.store.start_delivery(&city, &d, Some(p.person_id)).await?;
        started.push(s.store.delivery_row(&city, id).await?);
    }
    Ok(started)
}

/// A milestone with where it stands today.
#[derive(Serialize, ToSchema)]
pub struct MilestoneView {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub milestone: gongzhi_core::renewal::delivery::Milestone,
    #[schema(value_type = String)]
    pub state: MilestoneState,
    pub days_late: i64,
}

/// The acceptance survey's counts, as the case indicators count follow-ups.
#[derive(Serialize, ToSchema)]
pub struct AcceptanceView {
    pub answers: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub dissatisfied: u64,
    pub solved: u64,
    /// 满意率 = (satisfied + 0.9 × basically satisfied) / answers.
    pub satisfaction_rate: String,
    pub solution_rate: String,
    /// Comments, without names.
    pub comments: Vec<String>,
}

/// A delivery project as its page and the API show it.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    #[schema(value_type = Object)]
    pub detail: DeliveryDetail,
    pub milestones: Vec<MilestoneView>,
    pub progress_percent: u32,
    #[schema(value_type = Object)]
    pub co_production: CoProduction,
    pub acceptance: AcceptanceView,
    /// Warnings (预警/超期) about late or nearly late milestones and overdue upkeep check-ins,
    /// each in Chinese (`zh`) and English (`en`).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Sentence>,
}

pub async fn delivery_view(s: &AppState, city: &str, id: i64, today: NaiveDate) -> ApiResult<DeliveryView> {
    let detail = s.store.delivery(city, id).await?;
    let milestones: Vec<MilestoneView> = detail
        .milestones
        .iter()
        .map(|m| MilestoneView {
            state: m.state(today),
            days_late: m.days_late(today),
            milestone: m.clone(),
        })
        .collect();
    let mut warnings = Vec::new();
    for m in &milestones {
        match m.state {
            MilestoneState::Late => warnings.push(Sentence {
                zh: format!(
                    "超期：「{}」应于{}完成，已逾期{}天",
                    m.milestone.title, m.milestone.due, m.days_late
                ),
                en: format!(
                    "Overdue: 「{}」 was due {} ({} days late)",
                    m.milestone.title, m.milestone.due, m.days_late
                ),
            }),
            MilestoneState::DueSoon => warnings.push(Sentence {
                zh: format!("预警：「{}」将于{}到期", m.milestone.title, m.milestone.due),
                en: format!("Due soon: 「{}」 is due {}", m.milestone.title, m.milestone.due),
            }),
            _ => {}
        }
    }
    for u in &detail.upkeep {
        if u.overdue(today) {
            warnings.push(Sentence {
                zh: format!("管护打卡逾期：{} · {}（应于{}打卡）", u.who, u.what, u.next_due()),
                en: format!("Upkeep check-in overdue: {} · {} (due {})", u.who, u.what, u.next_due()),
            });
        }
    }
    let contributions: Vec<Contribution> = detail.contributions.iter().map(|c| c.contribution.clone()).collect();
    let counters = acceptance_counters(&detail.acceptance);
    Ok(DeliveryView {
        progress_percent: progress_percent(&detail.milestones),
        co_production: co_production(&contributions, detail.delivery.budget_cents),
        acceptance: AcceptanceView {
            answers: counters.followups_valid,
            satisfied: counters.satisfied,
            basically_satisfied: counters.basically_satisfied,
            dissatisfied: counters.dissatisfied,
            solved: counters.solved,
            satisfaction_rate: percent_or_dash(counters.satisfaction_rate()),
            solution_rate: percent_or_dash(counters.solution_rate()),
            comments: detail
                .acceptance
                .iter()
                .map(|a| a.comment.clone())
                .filter(|c| !c.trim().is_empty())
                .collect(),
        },
        milestones,
        warnings,
        detail,
    })
}

/// A delivery project with milestones, progress, spending, contributions, upkeep, acceptance and
/// warnings. Public (acceptance answers carry no names).
#[utoipa::path(get, path = "/api/renewal/deliveries/{id}", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody)))]
pub async fn get_delivery(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeliveryView>> {
    Ok(Json(delivery_view(&s, &city_of(&s, &p), id, today()).await?))
}

async fn staff_of_delivery(s: &AppState, p: &Principal, id: i64) -> ApiResult<DeliveryRow> {
    let d = s.store.delivery_row(&p.city.to_string(), id).await?;
    require_staff(p, &d.community)?;
    Ok(d)
}

#[derive(Deserialize, ToSchema)]
pub struct NewMilestone {
    pub title: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// Add a milestone (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/milestones", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewMilestone,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_milestone(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewMilestone>,
) -> ApiResult<Json<serde_json::Value>> {
    staff_of_delivery(&s, &p, id).await?;
    let due = parse_day("due", &r.due)?;
    let m = s
        .store
        .add_milestone(&p.city.to_string(), id, &r.title, due, Some(p.person_id))
        .await?;
    Ok(Json(serde_json::json!({ "id": m })))
}

#[derive(Deserialize, ToSchema)]
pub struct Done {
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
}

/// Mark a milestone done (renewal staff; once).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/milestones/{milestone}/done", tag = "renewal", params(("id" = i64, Path), ("milestone" = i64, Path)), security(("bearer" = [])), request_body = Done,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete_milestone(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, milestone)): Path<(i64, i64)>,
    Json(r): Json<Done>,
) -> ApiResult<Json<gongzhi_core::renewal::delivery::Milestone>> {
    staff_of_delivery(&s, &p, id).await?;
    let date = match r.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => parse_day("date", d)?,
        None => today(),
    };
    Ok(Json(
        s.store
            .complete_milestone(&p.city.to_string(), id, milestone, date, Some(p.person_id))
            .await?,
    ))
}

/// Attach a photo (the request body; its type is read from its bytes: JPEG, PNG or WebP) to a
/// milestone (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/milestones/{milestone}/photos", tag = "renewal", params(("id" = i64, Path), ("milestone" = i64, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, milestone)): Path<(i64, i64)>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<Json<serde_json::Value>> {
    let name = milestone_photo(&s, &p, id, milestone, &upload.declared, &upload.bytes).await?;
    let media = s.store.milestone_photo_id(&p.city.to_string(), &name).await?;
    Ok(Json(
        serde_json::json!({ "photo": name, "media": media, "url": crate::media::url(media) }),
    ))
}

/// Checks (the one media policy) and stores a milestone's photo (renewal staff; the API and
/// the delivery page). The stored photo's name.
pub async fn milestone_photo(
    s: &AppState,
    p: &Principal,
    id: i64,
    milestone: i64,
    content_type: &str,
    body: &[u8],
) -> ApiResult<String> {
    staff_of_delivery(s, p, id).await?;
    let photo = crate::media::check(crate::media::PHOTO, content_type, body)?;
    Ok(s.store
        .add_milestone_photo(
            &p.city.to_string(),
            id,
            milestone,
            photo.content_type,
            &photo.data,
            Some(p.person_id),
        )
        .await?)
}

/// A milestone photo: moved to `/media/{id}` (permanent redirect). Public.
#[utoipa::path(get, path = "/api/renewal/photos/{name}", tag = "renewal", params(("name" = String, Path)),
    responses((status = 308, description = "the photo's one URL, /media/{id}"), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let id = s.store.milestone_photo_id(&city_of(&s, &p), &name).await?;
    Ok(crate::media::moved(id))
}

#[derive(Deserialize, ToSchema)]
pub struct NewSpending {
    pub amount_cents: i64,
    #[serde(default)]
    pub note: String,
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
}

/// Record money spent (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/spending", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewSpending,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_spending(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewSpending>,
) -> ApiResult<Json<serde_json::Value>> {
    staff_of_delivery(&s, &p, id).await?;
    let date = match r.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => parse_day("date", d)?,
        None => today(),
    };
    let sid = s
        .store
        .record_spending(
            &p.city.to_string(),
            id,
            r.amount_cents,
            &r.note,
            date,
            Some(p.person_id),
        )
        .await?;
    Ok(Json(serde_json::json!({ "id": sid })))
}

/// A contribution. Residents offer their own (name and person from the login); staff record
/// anyone's, organisations' included.
#[derive(Deserialize, ToSchema)]
pub struct NewContribution {
    /// Who contributes (staff only; a resident contributes as themself).
    pub contributor: Option<String>,
    /// resident or organisation (staff only).
    pub kind: Option<String>,
    pub organisation: Option<i64>,
    /// Volunteer hours, at most one decimal (`2.5`).
    pub hours: Option<String>,
    #[serde(default)]
    pub money_cents: i64,
    #[serde(default)]
    pub materials: String,
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
}

pub(crate) async fn contribute(s: &AppState, p: &Principal, id: i64, r: NewContribution) -> ApiResult<i64> {
    let city = p.city.to_string();
    let d = s.store.delivery_row(&city, id).await?;
    let staff = gongzhi_app::renewal_works::is_staff(p, &d.community);
    gongzhi_app::renewal_works::require_take_part(p, &d.community, "record contributions")?;
    let hours_tenths = match r.hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => parse_hours(h)
            .ok_or_else(|| ApiError::invalid(format!("hours: '{h}' is not a number of hours like 2 or 2.5")))?,
        None => 0,
    };
    let date = match r.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(x) => parse_day("date", x)?,
        None => today(),
    };
    let c = if staff {
        let kind = match r.kind.as_deref() {
            Some(k) => k.parse::<ContributorKind>()?,
            None if r.organisation.is_some() => ContributorKind::Organisation,
            None => ContributorKind::Resident,
        };
        Contribution {
            contributor: r.contributor.unwrap_or_default(),
            kind,
            person: None,
            organisation: r.organisation,
            hours_tenths,
            money_cents: r.money_cents,
            materials: r.materials,
            date,
        }
    } else {
        Contribution {
            contributor: p.name.clone(),
            kind: ContributorKind::Resident,
            person: Some(p.person_id),
            organisation: None,
            hours_tenths,
            money_cents: r.money_cents,
            materials: r.materials,
            date,
        }
    };
    Ok(s.store.add_contribution(&city, id, &c, Some(p.person_id)).await?)
}

#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/contributions", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewContribution,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_contribution(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewContribution>,
) -> ApiResult<Json<serde_json::Value>> {
    let cid = contribute(&s, &p, id, r).await?;
    Ok(Json(serde_json::json!({ "id": cid })))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUpkeep {
    pub who: String,
    pub what: String,
    pub every_days: i64,
    /// `YYYY-MM-DD`; today when absent.
    pub from: Option<String>,
}

/// Record an upkeep commitment (renewal staff).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/upkeep", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = NewUpkeep,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_upkeep(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<NewUpkeep>,
) -> ApiResult<Json<serde_json::Value>> {
    staff_of_delivery(&s, &p, id).await?;
    let from = match r.from.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(x) => parse_day("from", x)?,
        None => today(),
    };
    let uid = s
        .store
        .add_upkeep(
            &p.city.to_string(),
            id,
            &r.who,
            &r.what,
            r.every_days,
            from,
            Some(p.person_id),
        )
        .await?;
    Ok(Json(serde_json::json!({ "id": uid })))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCheckin {
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
    pub ok: bool,
    #[serde(default)]
    pub note: String,
}

/// Check in on an upkeep commitment (renewal staff or residents of the community).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/upkeep/{upkeep}/checkins", tag = "renewal", params(("id" = i64, Path), ("upkeep" = i64, Path)), security(("bearer" = [])), request_body = NewCheckin,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_checkin(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, upkeep)): Path<(i64, i64)>,
    Json(r): Json<NewCheckin>,
) -> ApiResult<Json<serde_json::Value>> {
    let city = p.city.to_string();
    let d = s.store.delivery_row(&city, id).await?;
    gongzhi_app::renewal_works::require_take_part(&p, &d.community, "check in")?;
    let date = match r.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(x) => parse_day("date", x)?,
        None => today(),
    };
    let c = Checkin {
        date,
        ok: r.ok,
        note: r.note,
    };
    let cid = s.store.add_checkin(&city, id, upkeep, &c, Some(p.person_id)).await?;
    Ok(Json(serde_json::json!({ "id": cid })))
}

/// An acceptance answer (验收).
#[derive(Deserialize, ToSchema)]
pub struct AcceptanceAnswer {
    /// satisfied, basically_satisfied or dissatisfied.
    pub satisfaction: String,
    /// Whether the project meets the need it was for.
    pub solved: bool,
    #[serde(default)]
    pub comment: String,
}

pub(crate) async fn answer(s: &AppState, p: &Principal, id: i64, r: AcceptanceAnswer) -> ApiResult<()> {
    let city = p.city.to_string();
    let d = s.store.delivery_row(&city, id).await?;
    if !is_resident_of(p, &d.community) {
        return Err(ApiError::forbidden(format!(
            "the acceptance survey is for verified residents of community {}",
            d.community
        )));
    }
    let a = Acceptance {
        satisfaction: r.satisfaction.trim().parse::<Satisfaction>()?,
        solved: r.solved,
        comment: r.comment,
    };
    s.store.answer_acceptance(&city, id, p.person_id, &a).await?;
    Ok(())
}

/// Answer the acceptance survey (verified residents of the community; once each: 409 after).
#[utoipa::path(post, path = "/api/renewal/deliveries/{id}/acceptance", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])), request_body = AcceptanceAnswer,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer_acceptance(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<AcceptanceAnswer>,
) -> ApiResult<Json<serde_json::Value>> {
    answer(&s, &p, id, r).await?;
    Ok(Json(serde_json::json!({ "answered": true })))
}

/// The supervision list: open milestones that are late (超期) or due soon (预警), latest first
/// (renewal staff of the community, or of anywhere without one).
#[utoipa::path(get, path = "/api/renewal/supervision", tag = "renewal", params(CommunityQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn supervision(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<SupervisedMilestone>>> {
    match q.community.as_deref() {
        Some(c) => require_staff(&p, c)?,
        None if gongzhi_app::renewal_works::is_staff_somewhere(&p) => {}
        None => return Err(ApiError::forbidden("only renewal staff see the supervision list")),
    }
    let list = s
        .store
        .supervised_milestones(&p.city.to_string(), q.community.as_deref(), today())
        .await?;
    Ok(Json(
        list.into_iter()
            .filter(|m| gongzhi_app::renewal_works::is_staff(&p, &m.community))
            .collect(),
    ))
}
