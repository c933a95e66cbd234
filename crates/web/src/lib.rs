//! Gongzhi's HTTP layer: the JSON API (with its OpenAPI document) and the HTML pages, over the
//! same core calls and the same [`gongzhi_store::Store`].
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod bench;
pub mod error;
pub mod headers;
pub mod media;
pub mod open311;
pub mod pages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use gongzhi_app::{AppState, TerritoryIndex};

/// The whole application: API, OpenAPI document, pages and assets.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(api::legacy::router())
        .merge(pages::router())
        .merge(open311::router())
        .merge(media::router())
        .layer(axum::middleware::from_fn(headers::same_origin_writes))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve on `addr` until Ctrl-C or SIGTERM. Returns the bound address through `on_bound` (port 0 allowed).
pub async fn serve(state: AppState, addr: SocketAddr, on_bound: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    serve_on(listener, state).await
}

/// Run the escalation sweep (督办: overdue marks) for the default city every `every`, for cases
/// and for the milestones of renewal delivery projects.
pub fn spawn_sweeper(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match gongzhi_app::cases::sweep(&state, state.default_city, gongzhi_app::now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(marked = n, "sweep marked overdue cases"),
                Err(e) => tracing::warn!(error = %e, "sweep failed"),
            }
            let today = gongzhi_app::renewal_works::today();
            match gongzhi_app::renewal_works::supervise(&state, state.default_city, today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(marked = n, "sweep marked late renewal milestones"),
                Err(e) => tracing::warn!(error = %e, "milestone sweep failed"),
            }
        }
    })
}

/// Back the database up into `dir` every `every`, keeping the newest `keep` backups
/// ([`gongzhi_app::operations::backup_rotation`]); the first one an interval after start.
pub fn spawn_backups(
    state: AppState,
    dir: std::path::PathBuf,
    every: std::time::Duration,
    keep: usize,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match gongzhi_app::operations::backup_rotation(&state, &dir, keep).await {
                Ok((b, removed)) => tracing::info!(
                    file = %b.file.display(),
                    bytes = b.bytes,
                    rows = b.rows(),
                    removed = removed.len(),
                    "scheduled backup written"
                ),
                Err(e) => tracing::error!(error = %e, dir = %dir.display(), "scheduled backup failed"),
            }
        }
    })
}

/// Serve on a bound listener until Ctrl-C.
pub async fn serve_on(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped: every request in flight was answered");
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `systemctl stop`, `docker stop` and Kubernetes send): stop taking new
/// connections and let the requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM ({e}); Ctrl-C still stops the server");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: no new connections, finishing the requests in flight");
}
