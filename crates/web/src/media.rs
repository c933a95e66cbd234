//! The one media store over HTTP (issue 17, item 3): uploads are checked by the one policy
//! (`gongzhi_core::media`: the type from the bytes, one size table, photo metadata stripped),
//! over-limit bodies are answered 413 in the JSON error shape, and every stored file is served
//! at `/media/{id}` with its sniffed type and a safe `Content-Disposition` (`nosniff`, like every answer, from
//! `headers.rs`). The old
//! per-record file URLs redirect there.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use gongzhi_core::media::{self as policy, Checked, Kind, MediaError};
use gongzhi_core::territory::CityCode;

use crate::auth::MaybeAuth;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Routes that take photos only.
pub const PHOTO: &[Kind] = &[Kind::Photo];
/// Routes that take photos or documents.
pub const PHOTO_OR_DOCUMENT: &[Kind] = &[Kind::Photo, Kind::Document];

/// The one URL of a stored file.
pub fn url(id: i64) -> String {
    format!("/media/{id}")
}

/// The routes of the media store.
pub fn router() -> Router<AppState> {
    Router::new().route("/media/{id}", get(serve))
}

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> Self {
        gongzhi_app::AppError::from(e).into()
    }
}

/// Check an upload by the one policy: the checked file, or the refusal as an [`ApiError`]
/// (415 for a type not accepted, 413 for too large, 422 for empty or mislabelled).
pub fn check(accept: &[Kind], declared: &str, bytes: &[u8]) -> ApiResult<Checked> {
    Ok(policy::check(accept, declared, bytes)?)
}

/// The refusal of a body larger than a route's limit.
pub fn too_large(accept: &[Kind]) -> ApiError {
    let largest = accept.iter().map(|k| k.max_bytes()).max().unwrap_or(0);
    let what: Vec<String> = accept
        .iter()
        .map(|k| format!("a {} at most {} MiB", k.as_str(), k.max_bytes() / 1024 / 1024))
        .collect();
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the upload is too large: send {}", what.join(", or ")),
    )
    .with_details(serde_json::json!({ "max_bytes": largest, "body_limit": policy::body_limit(accept) }))
}

/// A multipart form's read error: 413 in the media shape when the body is over the route's
/// limit, else 422 naming the field.
pub fn form_error(accept: &[Kind], field: &str, e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(accept)
    } else {
        ApiError::invalid(format!("{field}: {e}"))
    }
}

/// The body of a raw upload (the file is the request body) with its declared Content-Type,
/// read up to the body limit of the one size table for the route's kinds (photos only, or
/// photos and documents when `DOCUMENTS`); a larger body is refused with 413 in the JSON error
/// shape before it is read.
pub struct Upload<const DOCUMENTS: bool> {
    pub declared: String,
    pub bytes: Bytes,
}

/// A raw photo upload.
pub type PhotoUpload = Upload<false>;
/// A raw photo-or-document upload.
pub type FileUpload = Upload<true>;

impl<const DOCUMENTS: bool> Upload<DOCUMENTS> {
    pub fn kinds() -> &'static [Kind] {
        if DOCUMENTS {
            PHOTO_OR_DOCUMENT
        } else {
            PHOTO
        }
    }

    /// Check this upload by the one policy.
    pub fn check(&self) -> ApiResult<Checked> {
        check(Self::kinds(), &self.declared, &self.bytes)
    }
}

impl<S: Send + Sync, const DOCUMENTS: bool> FromRequest<S> for Upload<DOCUMENTS> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let kinds = Self::kinds();
        let limit = policy::body_limit(kinds);
        let declared = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if length.is_some_and(|n| n > limit) {
            return Err(too_large(kinds));
        }
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| too_large(kinds))?;
        Ok(Upload { declared, bytes })
    }
}

#[derive(serde::Deserialize)]
struct CityQuery {
    /// The city of a public file, for a visitor of another city than the default one.
    city: Option<String>,
}

/// GET /media/{id}: a stored file, to whoever may read it (anyone else: 404).
async fn serve(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<String>,
    Query(q): Query<CityQuery>,
) -> ApiResult<Response> {
    let missing = || ApiError::not_found(format!("media {id}"));
    let n: i64 = id.split('.').next().unwrap_or("").parse().map_err(|_| missing())?;
    let city = match (&p, q.city) {
        (None, Some(c)) => CityCode::parse(&c).map_err(|_| missing())?,
        _ => crate::api::territory::city_of(&s, p.as_ref()),
    };
    let gongzhi_app::media::Media { info: m, bytes: data } = gongzhi_app::media::read(&s, p.as_ref(), city, n)
        .await?
        .ok_or_else(missing)?;
    let mut r = (StatusCode::OK, data).into_response();
    let h = r.headers_mut();
    let ct = HeaderValue::from_str(&m.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    if let Ok(v) = HeaderValue::from_str(&policy::disposition(&m.content_type, m.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if m.public {
            "public, max-age=86400"
        } else {
            "private, max-age=3600"
        }),
    );
    Ok(r)
}

/// The permanent redirect of an old file URL to the file's one URL.
pub fn moved(id: i64) -> Response {
    Redirect::permanent(&url(id)).into_response()
}

pub use gongzhi_app::media::resolve;
