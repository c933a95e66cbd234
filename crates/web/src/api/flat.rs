//! Flat governance API (扁平化): responsibility lists (CSV/XLSX) and their check, workload and
//! push-downs per grassroots unit with the early warning, forms demanded from above, and the
//! what-if replay of a period under another hierarchy.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_core::flat::{CheckReport, Demand};
use gongzhi_core::territory::Hierarchy;
use gongzhi_core::whatif::Assumptions;

use gongzhi_app::flat::StoredDemand;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use gongzhi_app::flat::{self as service, parse_day, ReplayReport, Workload};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_responsibilities, put_responsibilities))
        .routes(routes!(check))
        .routes(routes!(workload))
        .routes(routes!(list_demands, add_demand))
        .routes(routes!(replay))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Deserialize, IntoParams)]
pub struct ListFormat {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The responsibility lists (权责清单) as CSV or XLSX: `level,owner,owner_kind,category,area,
/// matter,time_limit,timer,may_delegate`. Without stored lists, the ones derived from the catalogue.
#[utoipa::path(get, path = "/api/flat/responsibilities", tag = "flat", params(ListFormat), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
pub async fn get_responsibilities(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ListFormat>,
) -> ApiResult<Response> {
    let city = p.city;
    service::require_open(&p, "the responsibility lists")?;
    let (_, list) = service::responsibilities(&s, city).await?;
    match q.format.as_deref().unwrap_or("csv") {
        "csv" => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], list.to_csv()).into_response()),
        "xlsx" => {
            let bytes = service::list_xlsx(&list)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("xlsx: {e}")))?;
            Ok((
                [
                    (header::CONTENT_TYPE, XLSX),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"responsibilities.xlsx\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(ApiError::invalid(format!("format: '{other}' is not csv or xlsx"))),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ListStored {
    pub version: i64,
    pub matters: usize,
    /// The check of the catalogue against the new lists.
    #[schema(value_type = Object)]
    pub check: CheckReport,
}

/// Replace the responsibility lists (administrators of the city): a CSV body, or an XLSX one
/// with its content type. All-or-nothing; a bad row is a 422 naming its line.
#[utoipa::path(put, path = "/api/flat/responsibilities", tag = "flat", request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = ListStored), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_responsibilities(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ListStored>> {
    let city = p.city;
    let xlsx = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(XLSX));
    let (version, list) = service::save_list(&s, city, Some(&p), &body, xlsx).await?;
    let check = service::check(&s, city).await?;
    Ok(Json(ListStored {
        version,
        matters: list.len(),
        check,
    }))
}

/// The check of the dispatch catalogue against the lists in every district: conflicts (two
/// owners), gaps (no owner), departmental matters the catalogue sends to grassroots units.
#[utoipa::path(get, path = "/api/flat/check", tag = "flat", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn check(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<CheckReport>> {
    service::require_open(&p, "the check report and its findings")?;
    Ok(Json(service::check(&s, p.city).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// First day, YYYY-MM-DD (Beijing); default 90 days before `to`.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD; default yesterday.
    pub to: Option<String>,
    /// Only units inside this division (code); default the whole city.
    pub within: Option<String>,
}

/// The period of a query, checked: at most 3 years.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    default_days: i64,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    let today = gongzhi_core::calendar::china_today();
    let to = match to {
        Some(t) => parse_day("to", t)?,
        None => today.pred_opt().unwrap_or(today),
    };
    let from = match from {
        Some(f) => parse_day("from", f)?,
        None => to - chrono::Duration::days(default_days - 1),
    };
    if from > to {
        return Err(ApiError::invalid("from: the period starts after it ends"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(ApiError::invalid("to: a period is at most 3 years"));
    }
    Ok((from, to))
}

/// Workload per community (cases, working hours, push-downs, returns, disputes, extensions,
/// forms demanded), cases and staff per month with the early warnings, and the push-down list.
#[utoipa::path(get, path = "/api/flat/workload", tag = "flat", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = Workload), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn workload(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Workload>> {
    let city = p.city;
    let within = q.within.clone().unwrap_or_else(|| city.to_string());
    service::require_view(&p, &within)?;
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), 90)?;
    let within = if within == city.as_str() { String::new() } else { within };
    Ok(Json(service::workload(&s, city, from, to, &within).await?))
}

/// A form or report demanded from a grassroots unit.
#[derive(Deserialize, ToSchema)]
pub struct NewDemand {
    /// Who demanded it, e.g. `区民政局`.
    pub demanded_by: String,
    /// The street (9 digits) or community (12 digits) it was demanded from.
    pub unit_area: String,
    pub title: String,
    /// Due day, YYYY-MM-DD.
    pub due: String,
    pub hours_spent: f64,
}

#[derive(Serialize, ToSchema)]
pub struct DemandCreated {
    pub id: i64,
}

/// Record a form or report demanded from above (填表报数), with the hours it took.
#[utoipa::path(post, path = "/api/flat/demands", tag = "flat", request_body = NewDemand, security(("bearer" = [])),
    responses((status = 201, body = DemandCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_demand(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(b): Json<NewDemand>,
) -> ApiResult<(StatusCode, Json<DemandCreated>)> {
    let due = service::day_start_ms(parse_day("due", &b.due)?);
    let d = Demand::new(&b.demanded_by, &b.unit_area, &b.title, due, b.hours_spent)?;
    let id = service::add_demand(&s, &p, &d).await?;
    Ok((StatusCode::CREATED, Json(DemandCreated { id })))
}

/// Forms and reports demanded, due in the period.
#[utoipa::path(get, path = "/api/flat/demands", tag = "flat", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn list_demands(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Vec<StoredDemand>>> {
    let city = p.city;
    let within = q.within.clone().unwrap_or_else(|| city.to_string());
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), 90)?;
    Ok(Json(service::demands(&s, &p, &within, from, to).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ReplayQuery {
    /// The hierarchy to replay through: `flat`, `layered` or levels like `city,district,community,grid`.
    pub hierarchy: String,
    /// First day, YYYY-MM-DD; default 365 days before `to`.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD; default yesterday.
    pub to: Option<String>,
    /// Minutes per forwarding hop (default 30).
    pub forward_minutes: Option<f64>,
    /// Worker-hours per case (default 2).
    pub handling_hours: Option<f64>,
}

/// What-if replay: the recorded intake of the period through the configured hierarchy and
/// another one, with a queueing model of each unit; the model's assumptions come with it.
#[utoipa::path(get, path = "/api/flat/replay", tag = "flat", params(ReplayQuery), security(("bearer" = [])),
    responses((status = 200, body = ReplayReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replay(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ReplayQuery>,
) -> ApiResult<Json<ReplayReport>> {
    let city = p.city;
    service::require_view(&p, city.as_str())?;
    let h = Hierarchy::parse(&q.hierarchy)?;
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), 365)?;
    let mut a = Assumptions::default();
    if let Some(m) = q.forward_minutes {
        if !(0.0..=10_000.0).contains(&m) {
            return Err(ApiError::invalid("forward_minutes: use 0 to 10000"));
        }
        a.forward_minutes = m;
    }
    if let Some(hh) = q.handling_hours {
        if !(0.0..=1000.0).contains(&hh) {
            return Err(ApiError::invalid("handling_hours: use 0 to 1000"));
        }
        a.handling_hours = hh;
    }
    Ok(Json(service::replay(&s, city, &h, from, to, &a).await?))
}
