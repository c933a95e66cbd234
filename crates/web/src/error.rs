//! The one error type of the HTTP layer: a status, a stable code and a human message, as JSON.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_core::DomainError;
use gongzhi_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid`, `not_found`, `forbidden`.
    pub code: &'static str,
    /// What was wrong and how to fix it.
    pub message: String,
    /// Per-item problems (e.g. each refused GeoJSON feature with its index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                details: None,
            },
        }
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first: send 'Authorization: Bearer TOKEN' (POST /api/auth/login gives one)",
        )
    }
    pub fn forbidden(what: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", what)
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{} not found", what.into()))
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.body.details = Some(details);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(d) => d.into(),
            StoreError::Rejected(errors) => {
                let n = errors.len();
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                ApiError::invalid(format!("nothing was imported: {n} feature(s) refused; first: {first}"))
                    .with_details(serde_json::to_value(&errors).unwrap_or_default())
            }
            StoreError::Lines(errors) => {
                let n = errors.len();
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                ApiError::invalid(format!("nothing was imported: {n} line(s) wrong; first: {first}"))
                    .with_details(serde_json::to_value(&errors).unwrap_or_default())
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
