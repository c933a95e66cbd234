//! Authentication: argon2 password hashes, login tokens (bearer for the API, a cookie for pages),
//! and the extractors that turn a request into a [`Principal`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use gongzhi_core::access::Principal;
use gongzhi_store::{Account, TokenKind};
use rand::RngCore;

use crate::{ApiError, AppState};

/// The cookie that carries a web session.
pub const SESSION_COOKIE: &str = "gongzhi_session";
/// How long a session or API token lives: 12 hours (a working shift and some).
pub const TOKEN_TTL_MS: i64 = 12 * 3600 * 1000;

/// Hash a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail on valid input")
        .to_string()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Check a user name and password and issue a token. The same answer for an unknown user and a
/// wrong password, so that user names cannot be probed.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    kind: TokenKind,
) -> Result<(String, Account), ApiError> {
    let account = state.store.account(username.trim()).await?;
    let account = match account {
        Some(a) if verify_password(password, &a.password_hash) => a,
        _ => {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "the user name or password is wrong",
            ))
        }
    };
    let token = state
        .store
        .issue_token(&account, kind, &new_secret(), TOKEN_TTL_MS)
        .await?;
    Ok((token, account))
}

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
        match state.store.principal_for_token(&token).await? {
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
