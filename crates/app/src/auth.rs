//! People's credentials: argon2 password hashes and login tokens (bearer for the API, a cookie
//! for pages). The edge turns a token back into a principal; this module issues them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use gongzhi_store::prelude::*;
use gongzhi_store::{Account, TokenKind};
use rand::RngCore;

use crate::{AppError, AppResult, AppState, ErrorKind};

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

/// `bytes` random bytes as lower-case hex (keys, secrets, request tokens).
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn new_secret() -> String {
    random_hex(32)
}

/// Check a user name and password and issue a token. The same answer for an unknown user and a
/// wrong password, so that user names cannot be probed.
pub async fn login(state: &AppState, username: &str, password: &str, kind: TokenKind) -> AppResult<(String, Account)> {
    let account = state.store.account(username.trim()).await?;
    let account = match account {
        Some(a) if verify_password(password, &a.password_hash) => a,
        _ => {
            return Err(AppError::new(
                ErrorKind::Unauthorized,
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
