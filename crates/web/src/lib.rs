//! Gongzhi's HTTP layer: the JSON API (with its OpenAPI document) and the HTML pages, over the
//! same core calls and the same [`gongzhi_store::Store`].
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod bench;
pub mod error;
pub mod headers;
pub mod idempotency;
pub mod media;
pub mod open311;
pub mod pages;

use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use gongzhi_app::{AppState, TerritoryIndex};

/// The whole application: API, OpenAPI document, pages and assets.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    let api = api.layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::api));
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

/// Run the escalation sweep (督办: overdue marks) for the default city every `every`, for cases
/// and for the milestones of renewal delivery projects.
/// Between two runs it waits for its next tick or for `stop`, whichever comes first; a run in
/// progress is never cut.
pub fn spawn_sweeper(state: AppState, every: Duration, mut stop: StopToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.stopped() => break,
                _ = tick.tick() => {}
            }
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
            match gongzhi_app::idempotency::forget_old(&state, gongzhi_app::now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(forgotten = n, "sweep forgot old idempotency keys"),
                Err(e) => tracing::warn!(error = %e, "forgetting old idempotency keys failed"),
            }
        }
        tracing::info!("sweeper stopped");
    })
}

/// Back the database up into `dir` every `every`, keeping the newest `keep` backups
/// ([`gongzhi_app::operations::backup_rotation`]); the first one an interval after start. Stops
/// on `stop` between two backups, never during one.
pub fn spawn_backups(
    state: AppState,
    dir: std::path::PathBuf,
    every: Duration,
    keep: usize,
    mut stop: StopToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.stopped() => break,
                _ = tick.tick() => {}
            }
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
        tracing::info!("scheduled backups stopped");
    })
}

/// How long the requests in flight may take after SIGTERM or Ctrl-C when nothing else is said
/// (`gongzhi serve --grace-seconds`).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// How the server stops: the grace period for the requests in flight, and the background tasks
/// (sweeper, scheduled backups) to stop at a safe point and wait for.
pub struct Shutdown {
    grace: Duration,
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new(DEFAULT_GRACE)
    }
}

impl Shutdown {
    /// After the signal, the requests in flight get at most `grace`; then the server stops anyway.
    pub fn new(grace: Duration) -> Self {
        Shutdown {
            grace,
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// A token that a background loop waits on between its runs.
    pub fn token(&self) -> StopToken {
        StopToken(self.stop.subscribe())
    }

    /// Wait for `task` (named `what` in the log) before `serve` returns; it should stop when
    /// [`Shutdown::token`] says so.
    pub fn track(&mut self, what: &'static str, task: tokio::task::JoinHandle<()>) {
        self.tasks.push((what, task));
    }

    /// [`spawn_sweeper`], stopped and waited for by the server.
    pub fn spawn_sweeper(&mut self, state: AppState, every: Duration) {
        let task = spawn_sweeper(state, every, self.token());
        self.track("sweeper", task);
    }

    /// [`spawn_backups`], stopped and waited for by the server.
    pub fn spawn_backups(&mut self, state: AppState, dir: std::path::PathBuf, every: Duration, keep: usize) {
        let task = spawn_backups(state, dir, every, keep, self.token());
        self.track("scheduled backups", task);
    }

    /// Tell the background tasks to stop at their next safe point and wait for them.
    async fn stop_background(self) {
        self.stop.send_replace(true);
        for (what, task) in self.tasks {
            if !task.is_finished() {
                tracing::info!("waiting for the {what} to finish the current run");
            }
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the {what} ended abnormally");
            }
        }
    }
}

/// Raised when the server stops. Background loops wait on it only between runs (in a
/// `select!` with their timer), so a sweep or a backup is never cut in the middle.
#[derive(Clone)]
pub struct StopToken(watch::Receiver<bool>);

impl StopToken {
    /// Completes once the server is stopping (or its [`Shutdown`] is gone).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Serve on `addr` until Ctrl-C or SIGTERM. Returns the bound address through `on_bound` (port 0 allowed).
pub async fn serve(state: AppState, addr: SocketAddr, on_bound: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    serve_with(state, addr, Shutdown::default(), on_bound).await
}

/// [`serve`] with a chosen grace period and background tasks to stop with the server.
///
/// On SIGTERM or Ctrl-C: no new connections; the requests in flight get `shutdown.grace()` to
/// finish (a second signal cuts that short), then the server stops anyway, saying so in the log;
/// meanwhile the background tasks stop at their next safe point, and this returns once they have.
pub async fn serve_with(
    state: AppState,
    addr: SocketAddr,
    shutdown: Shutdown,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    // Listen for the signals before anyone can learn the address, so that an early SIGTERM is
    // a clean stop rather than the default kill.
    let signals = Signals::install()?;
    let listener = TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    run(listener, state, shutdown, signals.counter()).await
}

/// Serve on a bound listener until Ctrl-C or SIGTERM, with the default grace period.
pub async fn serve_on(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let signals = Signals::install()?;
    run(listener, state, Shutdown::default(), signals.counter()).await
}

/// Serve on a bound listener until `signal` completes, then stop as [`serve_with`] does (for
/// embedding and tests). Connections still open when the grace period ends are cut when the
/// runtime ends (at once in `gongzhi serve`, which exits).
pub async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: Shutdown,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = watch::channel(0u32);
    let waiter = tokio::spawn(async move {
        signal.await;
        tx.send_modify(|n| *n += 1);
        std::future::pending::<()>().await
    });
    let r = run(listener, state, shutdown, rx).await;
    waiter.abort();
    r
}

/// Completes once `n` stop signals have come (never, if nobody can send them any more).
async fn signalled(rx: &mut watch::Receiver<u32>, n: u32) {
    if rx.wait_for(|seen| *seen >= n).await.is_err() {
        std::future::pending::<()>().await
    }
}

async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: Shutdown,
    mut signals: watch::Receiver<u32>,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut first = signals.clone();
    let server = axum::serve(listener, service)
        .with_graceful_shutdown(async move { signalled(&mut first, 1).await })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => {
            // The server ended without a signal: an accept error.
            shutdown.stop_background().await;
            return r;
        }
        () = signalled(&mut signals, 1) => {}
    }
    let grace = shutdown.grace;
    tracing::info!(
        grace_seconds = grace.as_secs_f64(),
        "shutting down: no new connections, finishing the requests in flight"
    );
    // The background tasks stop at their next safe point while the requests finish.
    let background = tokio::spawn(shutdown.stop_background());
    let (drained, served) = tokio::select! {
        r = &mut server => (true, r),
        () = tokio::time::sleep(grace) => {
            tracing::warn!(
                grace_seconds = grace.as_secs_f64(),
                "the grace period is over: stopping with requests still in flight (they are cut)"
            );
            (false, Ok(()))
        }
        () = signalled(&mut signals, 2) => {
            tracing::warn!("a second signal: stopping now, with requests still in flight (they are cut)");
            (false, Ok(()))
        }
    };
    if let Err(e) = background.await {
        tracing::error!(error = %e, "stopping the background tasks failed");
    }
    served?;
    if drained {
        tracing::info!("stopped: every request in flight was answered");
    } else {
        tracing::warn!("stopped before every request in flight was answered");
    }
    Ok(())
}

/// SIGTERM (what `systemctl stop`, `docker stop` and Kubernetes send) and SIGINT (Ctrl-C),
/// listened for from creation on; [`Signals::counter`] counts them.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The number of signals received so far, as a channel (a task listens until nobody does).
    fn counter(mut self) -> watch::Receiver<u32> {
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = self.next() => {}
                    () = tx.closed() => break,
                }
                tx.send_modify(|n| *n += 1);
            }
        });
        rx
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => tracing::info!("SIGTERM received"),
                _ = self.int.recv() => tracing::info!("SIGINT received"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received");
        }
    }
}
