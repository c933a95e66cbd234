//! `Idempotency-Key` on every create of the JSON API (and Open311's POST): a request sent again
//! with the same key by the same account is answered what the first one was answered
//! (`Idempotent-Replayed: true`) and makes nothing, also when the first one was cut off, the
//! server was restarted in between, or both race. The key is stored in the transaction of the
//! request's first write ([`gongzhi_app::idempotency`]), its answer right after.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gongzhi_app::idempotency as keys;
use gongzhi_app::AppState;
use gongzhi_core::access::Principal;
use gongzhi_store::{IdempotencyKey, Recalled};

use crate::ApiError;

/// The header a client sends (a new UUID per create, the same one on a retry).
pub const HEADER: &str = "idempotency-key";
/// The header on an answer given again.
pub const REPLAYED: &str = "idempotent-replayed";

/// The largest request body a keyed request may carry (the largest upload and its framing).
fn body_limit() -> usize {
    gongzhi_core::media::body_limit(&gongzhi_core::media::Kind::ALL)
}

/// Middleware for the JSON API: keyed POSTs of an authenticated account run through the key.
pub async fn api(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let principal = match crate::auth::token_of(req.headers()) {
        Some(token) => gongzhi_app::auth::principal_for_token(&s, &token).await.ok().flatten(),
        None => None,
    };
    // Without an account the handler answers 401 (or serves a request that stores nothing).
    let Some(p) = principal else {
        return next.run(req).await;
    };
    run(&s, &p, req, next).await
}

/// Run `req` for `p` under its `Idempotency-Key` header.
pub async fn run(s: &AppState, p: &Principal, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, body_limit()).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request is larger than {} bytes", body_limit()),
            )
            .into_response()
        }
    };
    let raw = parts.headers.get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let key = match keys::key(p, raw, parts.method.as_str(), path, content_type, &bytes) {
        Ok(k) => k,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match keys::recall(s, &key).await {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Recalled::New) => {}
        Ok(other) => return replay(other).unwrap_or_else(IntoResponse::into_response),
    }
    let req = Request::from_parts(parts, Body::from(bytes));
    let (answer, record) = keys::keyed(key.clone(), next.run(req)).await;
    match record {
        Some(_) => keep(s, &key, answer).await,
        // A request with the same key that committed first made this one's write roll back
        // (409): answer what it answered.
        None if answer.status() == StatusCode::CONFLICT => match keys::recall(s, &key).await {
            Ok(Recalled::New) | Err(_) => answer,
            Ok(other) => replay(other).unwrap_or_else(IntoResponse::into_response),
        },
        None => answer,
    }
}

/// Keep the answer of a request that stored its record, and give it.
pub(crate) async fn keep(s: &AppState, key: &IdempotencyKey, answer: Response) -> Response {
    let (parts, body) = answer.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let text = String::from_utf8_lossy(&bytes);
    if let Err(e) = keys::keep_answer(s, key, parts.status.as_u16(), content_type, &text).await {
        // The record is stored; a retry is told so (409 with the record) rather than served twice.
        tracing::warn!(error = %e, "the answer to a keyed request was not kept");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The answer to a key used before for the same request (an error when it cannot be given).
pub(crate) fn replay(r: Recalled) -> Result<Response, ApiError> {
    match r {
        Recalled::Answered {
            status,
            content_type,
            body,
            ..
        } => {
            let mut answer = Response::new(Body::from(body));
            *answer.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                answer.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            answer.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
            Ok(answer)
        }
        Recalled::Unanswered { record } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_unanswered",
            format!(
                "a request with this Idempotency-Key stored its record ({record}) but its answer was not kept \
                 (the server stopped in between): nothing was made twice; look the record up instead of retrying"
            ),
        )
        .with_details(serde_json::json!({ "record": record }))),
        Recalled::OtherRequest | Recalled::New => Err(ApiError::invalid(
            "Idempotency-Key: this key was sent before with a different request; use a new key for a new request",
        )),
    }
}
