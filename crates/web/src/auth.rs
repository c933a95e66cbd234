//! Authentication at the edge: the extractors that turn a bearer token or the session cookie
//! into a [`Principal`]. Passwords and tokens are the application layer's (`gongzhi_app::auth`).

pub use gongzhi_app::auth::{hash_password, login, verify_password, TOKEN_TTL_MS};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use gongzhi_core::access::Principal;

use crate::{ApiError, AppState};

/// The cookie that carries a web session.
pub const SESSION_COOKIE: &str = "gongzhi_session";

/// The token a request carries: `Authorization: Bearer …` first, else the session cookie.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    let cookies = headers.get_all(header::COOKIE);
    cookies
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The address of the client: the connection's peer, or, when the peer is this machine (the
/// reverse proxy the operations guide recommends), the address the proxy put last in
/// `X-Forwarded-For`. `None` when the server runs without connection information (in process).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = || {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
                .next_back()
        };
        Ok(ClientIp(match peer {
            Some(ip) if ip.is_loopback() => forwarded().or(Some(ip)),
            other => other,
        }))
    }
}

/// A request that may or may not be authenticated. A token that is present but unknown or
/// expired is refused with 401 rather than silently treated as anonymous.
pub struct MaybeAuth(pub Option<Principal>);

/// A request that must be authenticated (401 otherwise).
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = token_of(&parts.headers) else {
            return Ok(MaybeAuth(None));
        };
        match gongzhi_app::auth::principal_for_token(state, &token).await? {
            Some(p) => Ok(MaybeAuth(Some(p))),
            None => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "token_invalid",
                "the token is unknown or has expired: log in again",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match MaybeAuth::from_request_parts(parts, state).await?.0 {
            Some(p) => Ok(Auth(p)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
