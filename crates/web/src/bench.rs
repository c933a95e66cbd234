//! Page timing: the server time of the main pages on a loaded database, measured in process
//! through the router (no network), as `gongzhi bench pages` prints it. Nothing here asserts.

use gongzhi_store::prelude::*;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request};
use gongzhi_store::{StoreError, TokenKind};
use tower::ServiceExt;

use crate::AppState;

/// One page's timings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageTiming {
    pub page: String,
    pub user: String,
    pub status: u16,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// Time each page `runs` times as the given demo users (sessions made directly in the store).
pub async fn pages(
    state: &AppState,
    users: &[&str],
    extra: &[String],
    runs: usize,
) -> Result<Vec<PageTiming>, StoreError> {
    let app = crate::app(state.clone());
    let city = state.default_city;
    let some_case = state
        .store
        .list_cases(
            city,
            &gongzhi_store::CaseQuery {
                visibility: gongzhi_store::CaseVisibility {
                    all: true,
                    ..Default::default()
                },
                page: 1,
                page_size: 1,
                ..Default::default()
            },
        )
        .await?
        .0
        .first()
        .map(|r| r.case.id);
    let district = state
        .store
        .child_divisions(city, Some(city.as_str()), None)
        .await?
        .first()
        .map(|d| d.code.to_string())
        .unwrap_or_default();
    let grid = state
        .store
        .grids(city, None, 1, 1)
        .await?
        .grids
        .first()
        .map(|g| g.code.to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    for user in users {
        let Some(account) = state.store.account(user).await? else {
            continue;
        };
        let token = state
            .store
            .issue_token(&account, TokenKind::Session, "bench-pages", 3_600_000)
            .await?;
        let mut paths = vec![
            "/".to_owned(),
            "/work".to_owned(),
            "/cases/new".to_owned(),
            "/dashboard".to_owned(),
            "/dashboard?dim=unit".to_owned(),
            "/map".to_owned(),
            format!("/map?within={district}"),
            format!("/divisions/{district}"),
            format!("/grids/{grid}"),
            "/api/grids?page_size=100".to_owned(),
        ];
        if let Some(id) = some_case {
            paths.push(format!("/cases/{id}"));
        }
        paths.extend(extra.iter().cloned());
        for path in paths {
            let mut times = Vec::with_capacity(runs);
            let mut status = 0;
            for _ in 0..runs {
                let req = Request::get(&path)
                    .header(header::COOKIE, format!("gongzhi_session={token}"))
                    .body(Body::empty())
                    .expect("request");
                let t = Instant::now();
                let resp = app.clone().oneshot(req).await.expect("infallible");
                status = resp.status().as_u16();
                let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            out.push(PageTiming {
                page: path,
                user: (*user).to_owned(),
                status,
                p50_ms: quantile(&times, 0.5),
                p99_ms: quantile(&times, 0.99),
                max_ms: times.last().copied().unwrap_or_default(),
            });
        }
        state.store.revoke_token(&token).await?;
    }
    Ok(out)
}

/// What `gongzhi bench login` measured: `/api/health` latency idle and while `guessers` clients
/// send wrong passwords as fast as they can (unknown user names from many addresses, so that no
/// lockout cuts the guessing short).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoginLoad {
    pub guessers: usize,
    pub idle_p50_ms: f64,
    pub idle_p99_ms: f64,
    pub loaded_p50_ms: f64,
    pub loaded_p99_ms: f64,
    /// Loaded p50 over idle p50 (the target: at most 2).
    pub ratio_p50: f64,
    pub guesses: u64,
    pub guesses_per_s: f64,
}

/// Time `/api/health` `runs` times idle, then again under `guessers` concurrent password guessers
/// (in process, through the router).
pub async fn login_load(state: &AppState, guessers: usize, runs: usize) -> LoginLoad {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let app = crate::app(state.clone());
    let health = |app: axum::Router| async move {
        let started = Instant::now();
        let req = Request::get("/api/health").body(Body::empty()).expect("request");
        let _ = app.oneshot(req).await;
        started.elapsed().as_secs_f64() * 1000.0
    };
    let mut idle = Vec::with_capacity(runs);
    for _ in 0..runs {
        idle.push(health(app.clone()).await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let guesses = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for g in 0..guessers {
        let (app, stop, guesses) = (app.clone(), stop.clone(), guesses.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = serde_json::json!({ "username": format!("guess-{g}-{n}"), "password": "123456" });
                let req = Request::post("/api/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request");
                let _ = app.clone().oneshot(req).await;
                guesses.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut loaded = Vec::with_capacity(runs);
    for _ in 0..runs {
        loaded.push(health(app.clone()).await);
    }
    let seconds = started.elapsed().as_secs_f64();
    let during = guesses.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    for v in [&mut idle, &mut loaded] {
        v.sort_by(f64::total_cmp);
    }
    let idle_p50 = quantile(&idle, 0.5);
    let loaded_p50 = quantile(&loaded, 0.5);
    LoginLoad {
        guessers,
        idle_p50_ms: idle_p50,
        idle_p99_ms: quantile(&idle, 0.99),
        loaded_p50_ms: loaded_p50,
        loaded_p99_ms: quantile(&loaded, 0.99),
        ratio_p50: loaded_p50 / idle_p50.max(1e-9),
        guesses: during,
        guesses_per_s: during as f64 / seconds.max(1e-9),
    }
}
