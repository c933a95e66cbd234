//! Health, sign-in and the current user.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gongzhi_core::access::Grant;
use gongzhi_core::ids::PersonId;

use gongzhi_store::{StorageStatus, TokenKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, Auth};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(lockouts))
        .routes(routes!(lift_lockout))
}

/// The login lockouts in force (accounts and addresses locked after too many wrong passwords).
/// For administrators of the city's people.
#[utoipa::path(get, path = "/api/auth/lockouts", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = Vec<gongzhi_app::auth::Lockout>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn lockouts(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<gongzhi_app::auth::Lockout>>> {
    Ok(Json(gongzhi_app::auth::lockouts(&state, &p)?))
}

/// Lift a login lockout before it ends: `key` is a user name (or `user:NAME`) or `address:IP`.
/// For administrators of the city's people.
#[utoipa::path(delete, path = "/api/auth/lockouts/{key}", tag = "system", security(("bearer" = [])),
    params(("key" = String, Path, description = "a user name, or address:IP")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lift_lockout(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(key): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    gongzhi_app::auth::lift_lockout(&state, &p, &key)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database commits a write; `disk_full` when its disk is full (writes are
    /// refused, reads work) or `unavailable` (both with status 503).
    pub status: &'static str,
    pub backend: &'static str,
    pub version: &'static str,
    pub city: String,
    /// Free space on the SQLite database's disk, in bytes (absent for PostgreSQL).
    pub disk_free_bytes: Option<u64>,
    /// What is wrong, when the status is not `ok`.
    pub problem: Option<String>,
}

/// Liveness, and whether the database can commit a write: 200 with `ok`, else 503 with
/// `disk_full` or `unavailable` (and what is wrong), so that a monitor or a load balancer sees a
/// server that can no longer save.
#[utoipa::path(get, path = "/api/health", tag = "system", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let h = state.health().await;
    let code = if h.status == StorageStatus::Ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: h.status.as_str(),
        backend: state.backend_name(),
        version: env!("CARGO_PKG_VERSION"),
        city: state.default_city.to_string(),
        disk_free_bytes: h.disk_free_bytes,
        problem: h.problem,
    };
    (code, Json(body))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer TOKEN`.
    pub token: String,
    pub user: Me,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    pub name: String,
    pub username: String,
    pub city: String,
    /// Roles with their scopes, e.g. `{"role":"grid_worker","scope":{"kind":"grids","value":[…]}}`.
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<Grant>,
}

impl From<gongzhi_core::access::Principal> for Me {
    fn from(p: gongzhi_core::access::Principal) -> Self {
        Me {
            person_id: p.person_id,
            name: p.name,
            username: p.username,
            city: p.city.to_string(),
            grants: p.grants,
        }
    }
}

/// Exchange a user name and password for an API token (valid 12 hours). After
/// five wrong passwords for an account within 15 minutes (or twenty from one address) logging in is
/// locked for 15 minutes: 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/auth/login", tag = "system", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    auth::ClientIp(client): auth::ClientIp,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (token, account) = auth::login(&state, &req.username, &req.password, TokenKind::Api, client).await?;
    let principal = gongzhi_app::auth::principal_of(&state, &account).await?;
    Ok(Json(LoginResponse {
        token,
        user: principal.into(),
    }))
}

/// Revoke the token of this request.
#[utoipa::path(post, path = "/api/auth/logout", tag = "system", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    _auth: Auth,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::http::StatusCode> {
    if let Some(t) = auth::token_of(&headers) {
        gongzhi_app::auth::logout(&state, &t).await?;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The authenticated person and their roles.
#[utoipa::path(get, path = "/api/me", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Auth(p): Auth) -> Json<Me> {
    Json(p.into())
}
