//! People's credentials: argon2 password hashes and login tokens (bearer for the API, a cookie
//! for pages). The edge turns a token back into a principal; this module issues them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use gongzhi_store::prelude::*;
use gongzhi_store::{Account, TokenKind};
use rand::RngCore;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use gongzhi_core::access::{Permission, Principal};

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

/// Wrong passwords for one account, within [`WINDOW`], that lock it for [`LOCKOUT`].
pub const ACCOUNT_FAILURES: usize = 5;
/// Wrong passwords from one address, within [`WINDOW`], that lock that address for [`LOCKOUT`]
/// (many accounts guessed from one place).
pub const ADDRESS_FAILURES: usize = 20;
/// The window in which wrong passwords are counted.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a lockout lasts (an administrator may lift it sooner).
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// Login throttling: wrong passwords counted per account and per client address; past the
/// limit, the account (or the address) is locked for [`LOCKOUT`] and every attempt, right or
/// wrong, is answered 429 with the seconds to wait. Kept in memory by the serving process.
#[derive(Default)]
pub struct Throttle {
    keys: Mutex<HashMap<String, Failures>>,
}

#[derive(Default)]
struct Failures {
    at: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

/// A lockout in force: the account or address, and the seconds left.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Lockout {
    /// `user:NAME` or `address:IP`.
    pub key: String,
    pub seconds_left: u64,
}

fn user_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

fn address_key(ip: IpAddr) -> String {
    format!("address:{ip}")
}

impl Throttle {
    fn locked(&self, key: &str, now: Instant) -> Option<Duration> {
        let keys = self.keys.lock().expect("throttle lock");
        keys.get(key)
            .and_then(|f| f.locked_until)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    fn failed(&self, key: String, limit: usize, now: Instant) {
        let mut keys = self.keys.lock().expect("throttle lock");
        // Forget what is over, so that the table stays as small as the current guessing.
        if keys.len() > 10_000 {
            keys.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || f.at.back().is_some_and(|t| now - *t < WINDOW)
            });
        }
        let f = keys.entry(key).or_default();
        while f.at.front().is_some_and(|t| now - *t >= WINDOW) {
            f.at.pop_front();
        }
        f.at.push_back(now);
        if f.at.len() >= limit {
            f.locked_until = Some(now + LOCKOUT);
            f.at.clear();
        }
    }

    fn succeeded(&self, key: &str) {
        self.keys.lock().expect("throttle lock").remove(key);
    }

    /// The lockouts in force now.
    pub fn lockouts(&self) -> Vec<Lockout> {
        let now = Instant::now();
        let keys = self.keys.lock().expect("throttle lock");
        let mut out: Vec<Lockout> = keys
            .iter()
            .filter_map(|(k, f)| {
                let left = f.locked_until?.checked_duration_since(now)?;
                (!left.is_zero()).then(|| Lockout {
                    key: k.clone(),
                    seconds_left: left.as_secs().max(1),
                })
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Lift a lockout (and forget the wrong passwords counted); whether there was one.
    pub fn lift(&self, key: &str) -> bool {
        self.keys
            .lock()
            .expect("throttle lock")
            .remove(key)
            .is_some_and(|f| f.locked_until.is_some())
    }
}

fn too_many(wait: Duration) -> AppError {
    let secs = wait.as_secs().max(1);
    let mut e = AppError::new(
        ErrorKind::TooManyRequests,
        "too_many_attempts",
        format!(
            "too many wrong passwords: logging in is locked for {} more minute(s); an administrator can lift the lock sooner",
            secs.div_ceil(60)
        ),
    );
    e.retry_after = Some(secs);
    e
}

/// A hash that no password matches, verified for unknown user names so that they take as long
/// as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_hex(16)))
}

/// Check a user name and password and issue a token. The same answer, after the same work, for
/// an unknown user and a wrong password, so that user names cannot be probed; the password is
/// checked on the blocking pool, so guessing does not slow the server's other requests; wrong
/// passwords are throttled per account and per `client` address ([`Throttle`]).
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    kind: TokenKind,
    client: Option<IpAddr>,
) -> AppResult<(String, Account)> {
    let now = Instant::now();
    let user = user_key(username);
    let address = client.map(address_key);
    for key in std::iter::once(&user).chain(address.as_ref()) {
        if let Some(wait) = state.throttle.locked(key, now) {
            return Err(too_many(wait));
        }
    }
    let account = state.store.account(username.trim()).await?;
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password check failed to run");
            AppError::internal()
        })?;
    let account = match account {
        Some(a) if matches => a,
        _ => {
            state.throttle.failed(user, ACCOUNT_FAILURES, now);
            if let Some(a) = address {
                state.throttle.failed(a, ADDRESS_FAILURES, now);
            }
            return Err(AppError::new(
                ErrorKind::Unauthorized,
                "bad_credentials",
                "the user name or password is wrong",
            ));
        }
    };
    state.throttle.succeeded(&user);
    let token = state
        .store
        .issue_token(&account, kind, &new_secret(), TOKEN_TTL_MS)
        .await?;
    Ok((token, account))
}

/// The lockouts in force, for administrators of the city's people.
pub fn lockouts(state: &AppState, p: &Principal) -> AppResult<Vec<Lockout>> {
    require_may_lift(p)?;
    Ok(state.throttle.lockouts())
}

/// Lift the lockout of an account (by user name) or of an address, for administrators of the
/// city's people.
pub fn lift_lockout(state: &AppState, p: &Principal, key: &str) -> AppResult<()> {
    require_may_lift(p)?;
    let key = match key.trim() {
        k if k.starts_with("address:") => k.to_owned(),
        k => user_key(k.strip_prefix("user:").unwrap_or(k)),
    };
    if state.throttle.lift(&key) {
        tracing::info!(by = p.person_id.0, %key, "login lockout lifted");
        Ok(())
    } else {
        Err(AppError::not_found(format!("lockout of {key}")))
    }
}

fn require_may_lift(p: &Principal) -> AppResult<()> {
    if p.may(Permission::ManagePeople, p.city.as_str()) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only an administrator of the city's people (人员管理) may see or lift login lockouts",
        ))
    }
}

/// End a session: its token no longer authenticates.
pub async fn logout(s: &AppState, token: &str) -> AppResult<()> {
    Ok(s.store.revoke_token(token).await?)
}

/// The person a session token stands for, if it is known and not expired.
pub async fn principal_for_token(s: &AppState, token: &str) -> AppResult<Option<Principal>> {
    Ok(s.store.principal_for_token(token).await?)
}

/// The person an account stands for, as a principal (after [`login`]).
pub async fn principal_of(s: &AppState, account: &Account) -> AppResult<Principal> {
    s.store
        .principal(account.city, account.person_id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))
}
