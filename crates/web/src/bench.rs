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
    let city = state.default_city.clone();
    let some_case = state
        .store
        .list_cases(
            &city,
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
        .child_divisions(&city, Some(&city), None)
        .await?
        .first()
        .map(|d| d.code.to_string())
        .unwrap_or_default();
    let grid = state
        .store
        .grids(&city, None, 1, 1)
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
