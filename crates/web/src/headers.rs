//! The security headers every answer carries, set in one place: no sniffing of types, no
//! framing by other sites (clickjacking), no full URLs leaked to other sites, and nothing private
//! kept in shared or browser caches.

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The content security policy of every answer: scripts, styles and everything else only from
/// Gongzhi itself (the pages have no inline script, style or event handler: `assets/app.js` does
/// what they need), photos also as `data:`/`blob:` previews, no plugins, no framing, forms post
/// only to Gongzhi. An injected `<script>` or `onerror=` would not run.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

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
        .or_insert(HeaderValue::from_static(CSP));
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

/// Refuse a state change that a browser sent from another origin with our session cookie
/// (cross-site request forgery), as Go's `CrossOriginProtection` decides it: safe methods pass;
/// with `Sec-Fetch-Site`, only `same-origin` and `none` (typed by the person) pass; without it,
/// an `Origin` must name this host; a request with neither (not a browser) passes. Only requests
/// that the session cookie authenticates are checked: a bearer token is no ambient credential,
/// and a request without credentials cannot act for anyone. Another origin of the same site
/// (`https://other.example.gov.cn` beside us) counts as foreign, which the cookie's
/// `SameSite=Lax` alone does not stop.
pub async fn same_origin_writes(req: Request, next: Next) -> Response {
    if !req.method().is_safe() && cookie_authenticated(req.headers()) && !same_origin(req.headers()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-origin write refused");
        return crate::ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "cross_origin",
            "this change came from another site's page and was refused (cross-site request forgery protection); make it from Gongzhi's own pages",
        )
        .into_response();
    }
    next.run(req).await
}

/// The session cookie, and no bearer token, authenticates the request.
fn cookie_authenticated(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::AUTHORIZATION) && crate::auth::token_of(headers).is_some()
}

fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = get("origin") else {
        return true;
    };
    let host = get("host").unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority.eq_ignore_ascii_case(host))
}
