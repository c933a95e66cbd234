//! `gongzhi demo-cases`, and the year of cases the demo starts with: realistic cases generated
//! through the case state machine (`gongzhi_demo::cases`) and written with the store's bulk
//! import, with a progress bar.

use gongzhi_core::territory::CityCode;
use gongzhi_store::prelude::*;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use chrono::NaiveDate;
use gongzhi_core::calendar::WorkCalendar;
use gongzhi_core::catalogue::Catalogue;
use gongzhi_demo::cases::{city_model, Replay, ReplayOptions, ReplayStats};
use gongzhi_store::{CaseHistory, Store};
use indicatif::ProgressBar;

/// Histories handed to the store at once (it writes them in transactions of 2,000).
pub const CHUNK: usize = 20_000;

/// Today in Beijing.
pub fn today() -> NaiveDate {
    gongzhi_core::calendar::china_today()
}

/// The 365 days up to yesterday (Beijing): the default period of the demo, `demo-cases` and `replay`.
pub fn last_year() -> (NaiveDate, NaiveDate) {
    let to = today().pred_opt().expect("a day before today");
    (to - chrono::Duration::days(364), to)
}

/// The catalogue and calendar the city uses (its edited documents, else the defaults).
pub async fn rules(store: &Store, city: CityCode) -> Result<(Catalogue, WorkCalendar)> {
    let state = gongzhi_app::AppState::lazy(store.clone(), city);
    let cat = gongzhi_app::cases::catalogue(&state, city).await?;
    let cal = gongzhi_app::cases::calendar(&state, city).await?;
    Ok((cat, cal))
}

/// What a generation and import took.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timing {
    pub generate: Duration,
    pub import: Duration,
}

/// Generate the cases of `opts` for the city in `store` and import them, chunk by chunk.
pub async fn generate_and_import(
    store: &Store,
    city: CityCode,
    opts: ReplayOptions,
    pb: &ProgressBar,
) -> Result<(ReplayStats, Timing)> {
    let model = city_model(store, city).await?;
    if model.places.is_empty() && model.fallback.is_empty() {
        bail!("city {city} has no grids or areas to place cases in: load the demo first (gongzhi demo)");
    }
    let (cat, cal) = rules(store, city).await?;
    let replay = Replay::new(&model, &cat, &cal, opts);
    let volumes = replay.volumes();
    pb.set_length(volumes.iter().map(|v| u64::from(v.1)).sum());
    let mut stats = ReplayStats::default();
    let mut timing = Timing::default();
    let mut buffer: Vec<CaseHistory> = Vec::with_capacity(CHUNK + 4_000);
    let mut stored = 0u64;
    let mut refused = Vec::new();
    for (i, (day, n)) in volumes.iter().enumerate() {
        let t = Instant::now();
        let d = replay.day(*day, *n);
        timing.generate += t.elapsed();
        refused.extend(d.refused);
        buffer.extend(d.histories);
        if buffer.len() >= CHUNK || i + 1 == volumes.len() {
            stats.add_all(&buffer);
            let t = Instant::now();
            let bar = pb.clone();
            let mut progress = move |done: usize, _all: usize| bar.set_position(stored + done as u64);
            let done = store.import_case_histories(city, &buffer, Some(&mut progress)).await?;
            timing.import += t.elapsed();
            stored += done.cases;
            pb.set_position(stored);
            buffer.clear();
        }
    }
    if !refused.is_empty() {
        eprintln!(
            "warning: the state machine refused {} generated step(s), e.g. {}",
            refused.len(),
            refused[0]
        );
    }
    Ok((stats, timing))
}

/// One line per figure, for people.
pub fn describe(stats: &ReplayStats) -> String {
    format!(
        "{} cases, {} events: {} returns (退单), {} reworks (返工), {} overdue (超期), {} whistles (吹哨), \
         {} extensions (延期), {} voided, {} merged, {} closed, {} followed up, {} still open",
        stats.cases,
        stats.events,
        stats.returns,
        stats.reworks,
        stats.overdue,
        stats.whistles,
        stats.extensions,
        stats.voided,
        stats.merged,
        stats.closed,
        stats.followed_up,
        stats.open
    )
}

fn bar() -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb
}

/// `gongzhi demo-cases`: a period of cases for the demo city already in the database.
pub async fn demo_cases(
    store: &Store,
    city: CityCode,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    per_day: u64,
    seed: u64,
) -> Result<()> {
    if !gongzhi_demo::is_loaded(store).await? {
        bail!("the demo city is not in this database: load it first with `gongzhi demo`");
    }
    let (default_from, default_to) = last_year();
    let (from, to) = (from.unwrap_or(default_from), to.unwrap_or(default_to));
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let opts = ReplayOptions::per_day(from, to, per_day, seed, gongzhi_store::now_ms());
    let pb = bar();
    pb.set_message(format!("replaying {from} … {to}"));
    let started = Instant::now();
    let (stats, _) = generate_and_import(store, city, opts, &pb).await?;
    pb.finish_and_clear();
    println!(
        "replayed {from} … {to} in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        describe(&stats)
    );
    Ok(())
}

/// The year of cases a new demo city starts with.
pub async fn demo_year(store: &Store, city: CityCode, per_day: u64, seed: u64) -> Result<()> {
    if per_day == 0 {
        return Ok(());
    }
    let (from, to) = last_year();
    let opts = ReplayOptions::per_day(from, to, per_day, seed, gongzhi_store::now_ms());
    let pb = bar();
    pb.set_message("a year of cases");
    let (stats, _) = generate_and_import(store, city, opts, &pb).await?;
    pb.finish_and_clear();
    println!("a year of cases ({from} … {to}): {}", describe(&stats));
    Ok(())
}
