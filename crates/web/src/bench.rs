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

/// A session of a demo user for an hour (None when the account does not exist), made directly
/// in the store with a random token; the benchmarks revoke it when done.
async fn session(state: &AppState, user: &str) -> Result<Option<String>, StoreError> {
    let Some(account) = state.store.account(user).await? else {
        return Ok(None);
    };
    let secret = gongzhi_app::auth::random_hex(24);
    Ok(Some(
        state
            .store
            .issue_token(&account, TokenKind::Session, &secret, 3_600_000)
            .await?,
    ))
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
        let Some(token) = session(state, user).await? else {
            continue;
        };
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

/// What `gongzhi bench mixed` measured in one arrangement of the connections.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MixedLoad {
    /// `shared`: analytic reads on the interactive connections (as before they had their own);
    /// `separate`: on their own pool ([`gongzhi_store::Store::analytic`]).
    pub pools: &'static str,
    pub heavy_users: usize,
    pub seconds: f64,
    pub dashboards: usize,
    pub dashboard_p50_ms: f64,
    pub dashboard_p99_ms: f64,
    pub lookups: usize,
    pub lookup_p50_ms: f64,
    pub lookup_p99_ms: f64,
    pub writes: usize,
    pub write_p50_ms: f64,
    pub write_p99_ms: f64,
}

/// `heavy` users reload the city dashboard as fast as they can while one dispatcher opens cases
/// one after another and one resident reports; for `seconds`, in process through the router.
/// The lookups' and reports' latency is the figure: interactive requests must not wait behind
/// the analytic ones.
pub async fn mixed(state: &AppState, heavy: usize, seconds: f64) -> Result<MixedLoad, StoreError> {
    let city = state.default_city;
    let app = crate::app(state.clone());
    let login = |user: &'static str| async move {
        session(state, user)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account {user} (load the demo)")))
    };
    let (analyst, dispatcher, resident) = (
        login("admin").await?,
        login("dispatcher").await?,
        login("resident").await?,
    );
    let cases: Vec<i64> = state
        .store
        .list_cases(
            city,
            &gongzhi_store::CaseQuery {
                visibility: gongzhi_store::CaseVisibility {
                    all: true,
                    ..Default::default()
                },
                page: 1,
                page_size: 200,
                ..Default::default()
            },
        )
        .await?
        .0
        .iter()
        .map(|r| r.case.id.0)
        .collect();
    let grid = state
        .store
        .grids(city, None, 1, 1)
        .await?
        .grids
        .first()
        .map(|g| g.code.to_string())
        .ok_or_else(|| StoreError::NotFound("a grid (load the demo)".into()))?;
    let (lng, lat) = gongzhi_app::open311::grid_point(state, city, &grid)
        .await
        .map_err(|e| StoreError::NotFound(e.to_string()))?;
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let call = |app: axum::Router, req: Request<Body>| async move {
        let t = Instant::now();
        let resp = app.oneshot(req).await.expect("infallible");
        let ok = resp.status().is_success();
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
        (ok, t.elapsed().as_secs_f64() * 1000.0)
    };
    let mut heavy_tasks = Vec::new();
    for _ in 0..heavy {
        let (app, token) = (app.clone(), analyst.clone());
        heavy_tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let req = Request::get("/dashboard")
                    .header(header::COOKIE, format!("gongzhi_session={token}"))
                    .body(Body::empty())
                    .expect("request");
                let (ok, ms) = call(app.clone(), req).await;
                if ok {
                    times.push(ms);
                }
            }
            times
        }));
    }
    let lookups = {
        let (app, token) = (app.clone(), dispatcher.clone());
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline && !cases.is_empty() {
                let req = Request::get(format!("/api/cases/{}", cases[i % cases.len()]))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .expect("request");
                let (ok, ms) = call(app.clone(), req).await;
                if ok {
                    times.push(ms);
                }
                i += 1;
            }
            times
        })
    };
    let writes = {
        let (app, token) = (app.clone(), resident.clone());
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let body = serde_json::json!({"condition": "C0105-02", "description": format!("压测 井盖破损 {i}"), "lng": lng, "lat": lat});
                let req = Request::post("/api/cases")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request");
                let (ok, ms) = call(app.clone(), req).await;
                if ok {
                    times.push(ms);
                }
                i += 1;
            }
            times
        })
    };
    let mut dashboards = Vec::new();
    for t in heavy_tasks {
        dashboards.extend(t.await.unwrap_or_default());
    }
    let mut lookups = lookups.await.unwrap_or_default();
    let mut writes = writes.await.unwrap_or_default();
    for token in [&analyst, &dispatcher, &resident] {
        state.store.revoke_token(token).await?;
    }
    for v in [&mut dashboards, &mut lookups, &mut writes] {
        v.sort_by(f64::total_cmp);
    }
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Ok(MixedLoad {
        pools: "",
        heavy_users: heavy,
        seconds,
        dashboards: dashboards.len(),
        dashboard_p50_ms: round(quantile(&dashboards, 0.5)),
        dashboard_p99_ms: round(quantile(&dashboards, 0.99)),
        lookups: lookups.len(),
        lookup_p50_ms: round(quantile(&lookups, 0.5)),
        lookup_p99_ms: round(quantile(&lookups, 0.99)),
        writes: writes.len(),
        write_p50_ms: round(quantile(&writes, 0.5)),
        write_p99_ms: round(quantile(&writes, 0.99)),
    })
}
