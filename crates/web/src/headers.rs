//! The security headers every answer carries, set in one place: no sniffing of types, no
//! framing by other sites (clickjacking), no full URLs leaked to other sites, and nothing private
//! kept in shared or browser caches.

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
};

/// Add the security headers to a response (answers that set their own keep them).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let signed_in = crate::auth::token_of(req.headers()).is_some();
    let https = over_https(req.headers());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
        ));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    if https {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    // What a signed-in person sees is theirs: never store it (a shared computer at a street
    // office, a proxy). Public answers and assets keep the caching they chose.
    if signed_in {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("private, no-store"));
    }
    resp
}

/// Whether the person reached us over HTTPS: through the TLS-terminating proxy a deployment puts in
/// front (docs/operations.md), which says so in `X-Forwarded-Proto` or `Forwarded`. A client that
/// sends these itself only makes its own cookie stricter.
pub fn over_https(headers: &HeaderMap) -> bool {
    let first = |v: &HeaderValue| {
        v.to_str()
            .ok()
            .map(|s| s.split(',').next().unwrap_or("").trim().to_ascii_lowercase())
    };
    headers
        .get("x-forwarded-proto")
        .and_then(first)
        .is_some_and(|p| p == "https")
        || headers
            .get(header::FORWARDED)
            .and_then(first)
            .is_some_and(|f| f.split(';').any(|kv| kv.trim() == "proto=https"))
}
