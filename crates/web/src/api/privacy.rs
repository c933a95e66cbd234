//! Personal information: the log of reads of personal data, for data-protection officers.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_app::privacy::{self as service, ReadView, ReadsQuery};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reads)).routes(routes!(reads_csv))
}

#[derive(Serialize, ToSchema)]
pub struct PersonalReads {
    pub items: Vec<ReadView>,
    pub total: i64,
}

/// Who was shown whose contact details or household register, when and where (个人信息保护法):
/// newest first, filtered by days, reader and record. For data-protection officers.
#[utoipa::path(get, path = "/api/privacy/reads", tag = "people", params(ReadsQuery), security(("bearer" = [])),
    responses((status = 200, body = PersonalReads), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reads(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ReadsQuery>,
) -> ApiResult<Json<PersonalReads>> {
    let (items, total) = service::reads(&s, &p, &q).await?;
    Ok(Json(PersonalReads { items, total }))
}

/// The same as CSV (safe to open in a spreadsheet).
#[utoipa::path(get, path = "/api/privacy/reads.csv", tag = "people", params(ReadsQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reads_csv(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<ReadsQuery>) -> ApiResult<Response> {
    let text = service::reads_csv(&s, &p, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"personal-data-reads.csv\"",
            ),
        ],
        text,
    )
        .into_response())
}
