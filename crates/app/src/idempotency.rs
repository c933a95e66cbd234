//! Idempotency keys for every create (`Idempotency-Key` on the JSON API and Open311): a request
//! sent again with the same key by the same person is answered what the first one was answered
//! and makes nothing. The key is stored in the transaction of the request's first write (see
//! [`gongzhi_store::idempotency`]); the front end runs the request through [`keyed`] and keeps
//! the answer with [`keep_answer`].

use std::future::Future;

use gongzhi_core::access::Principal;
use gongzhi_store::{IdempotencyKey, Recalled};
use sha2::{Digest, Sha256};

use crate::{AppError, AppResult, AppState};

/// Longest key taken (a UUID is 36 characters).
pub const MAX_KEY: usize = 200;

/// How long a key is remembered: a client retries within minutes, an offline phone within days.
pub const KEPT_DAYS: i64 = 7;

/// The key `key` of `p` for a request: its method, path (with query), media type and body. A
/// multipart body's boundary (chosen anew by many clients on every try) is left out of the hash.
pub fn key(
    p: &Principal,
    key: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> AppResult<IdempotencyKey> {
    let key = key.trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(format!(
            "Idempotency-Key: use 1 to {MAX_KEY} visible ASCII characters, e.g. a UUID, new for each request"
        )));
    }
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    match multipart_boundary(content_type) {
        Some(boundary) => {
            h.update(b"multipart/form-data");
            h.update([0]);
            let boundary = boundary.as_bytes();
            let mut rest = body;
            while let Some(at) = find(rest, boundary) {
                h.update(&rest[..at]);
                h.update(b"BOUNDARY");
                rest = &rest[at + boundary.len()..];
            }
            h.update(rest);
        }
        None => {
            h.update(content_type.as_bytes());
            h.update([0]);
            h.update(body);
        }
    }
    Ok(IdempotencyKey {
        city: p.city,
        person: p.person_id,
        key: key.to_owned(),
        request_hash: format!("{:x}", h.finalize()),
    })
}

fn multipart_boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"'))
            .filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What the key was used for before. A request with the same key still running is waited for
/// (up to two seconds) so that its answer can be given.
pub async fn recall(s: &AppState, key: &IdempotencyKey) -> AppResult<Recalled> {
    let mut waited = 0;
    loop {
        let r = s.store.recall(key).await?;
        match r {
            Recalled::Unanswered { .. } if waited < 40 => {
                waited += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Recalled::OtherRequest => return Err(AppError::invalid(
                "Idempotency-Key: this key was sent before with a different request; use a new key for a new request",
            )),
            r => return Ok(r),
        }
    }
}

/// Run `request` under `key`: its first write stores the key. The answer, and the record made
/// (None when the request stored nothing, so the key stays unused).
pub async fn keyed<F: Future>(key: IdempotencyKey, request: F) -> (F::Output, Option<String>) {
    gongzhi_store::Store::keyed(key, request).await
}

/// Keep the answer given to a keyed request that stored its record.
pub async fn keep_answer(
    s: &AppState,
    key: &IdempotencyKey,
    status: u16,
    content_type: &str,
    body: &str,
) -> AppResult<()> {
    Ok(s.store.keep_answer(key, status, content_type, body).await?)
}

/// Forget keys older than [`KEPT_DAYS`] (run by the sweeper).
pub async fn forget_old(s: &AppState, now_ms: i64) -> AppResult<u64> {
    Ok(s.store.forget_keys(now_ms - KEPT_DAYS * 86_400_000).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_boundary_does_not_change_the_hash() {
        let p = Principal {
            person_id: gongzhi_core::ids::PersonId(1),
            name: String::new(),
            username: String::new(),
            city: gongzhi_core::territory::CityCode::of("510100"),
            grants: vec![],
        };
        let one = key(
            &p,
            "k1",
            "POST",
            "/x",
            "multipart/form-data; boundary=aaa",
            b"--aaa\r\nX\r\n--aaa--",
        )
        .unwrap();
        let two = key(
            &p,
            "k1",
            "POST",
            "/x",
            "multipart/form-data; boundary=\"bbb\"",
            b"--bbb\r\nX\r\n--bbb--",
        )
        .unwrap();
        let other = key(
            &p,
            "k1",
            "POST",
            "/x",
            "multipart/form-data; boundary=bbb",
            b"--bbb\r\nY\r\n--bbb--",
        )
        .unwrap();
        assert_eq!(one.request_hash, two.request_hash);
        assert_ne!(one.request_hash, other.request_hash);
        assert!(key(&p, "", "POST", "/x", "", b"").is_err());
        assert!(key(&p, "a b", "POST", "/x", "", b"").is_err());
    }
}
