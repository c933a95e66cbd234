//! `gongzhi bench cases`: bulk import of N realistic case histories (generated through the state
//! machine, routed by the dispatch catalogue) into a fresh database, then the latency of
//! indicator queries at that size. The last line printed is one JSON object with the figures.

use gongzhi_store::prelude::*;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use gongzhi_demo::cases::ReplayOptions;
use gongzhi_store::{Backend, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use sqlx::Connection;

use crate::replay::{describe, generate_and_import};

/// What to run.
pub struct BenchCases {
    pub cases: u64,
    pub database: Option<String>,
    pub communities: usize,
    pub seed: u64,
    pub queries: usize,
}

/// A database made for the benchmark, and how to get rid of it.
struct Fresh {
    url: String,
    schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

async fn fresh(database: Option<&str>) -> Result<Fresh> {
    match database {
        None => {
            let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            Ok(Fresh {
                url,
                schema: None,
                _dir: Some(dir),
            })
        }
        Some(url) if Backend::from_url(url)? == Backend::Postgres => {
            sqlx::any::install_default_drivers();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            let schema = format!("bench_{}_{}", std::process::id(), nanos % 1_000_000_000);
            let mut conn = sqlx::AnyConnection::connect(url)
                .await
                .with_context(|| format!("cannot connect to {}", Backend::Postgres.redacted(url)))?;
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await?;
            conn.close().await.ok();
            let sep = if url.contains('?') { '&' } else { '?' };
            Ok(Fresh {
                url: format!("{url}{sep}options=-c%20search_path%3D{schema}"),
                schema: Some((url.to_owned(), schema)),
                _dir: None,
            })
        }
        Some(url) => Ok(Fresh {
            url: url.to_owned(),
            schema: None,
            _dir: None,
        }),
    }
}

impl Fresh {
    async fn drop_schema(&self) {
        if let Some((base, schema)) = &self.schema {
            if let Ok(mut conn) = sqlx::AnyConnection::connect(base).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
        }
    }
}

/// Run the benchmark; the database it made is dropped whatever happens.
pub async fn run(b: BenchCases) -> Result<()> {
    let db = fresh(b.database.as_deref()).await?;
    let result = run_on(&b, &db.url).await;
    db.drop_schema().await;
    result
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn run_on(b: &BenchCases, url: &str) -> Result<()> {
    let city = gongzhi_demo::CITY;
    let store = Store::connect(url).await?;
    let backend = store.backend();
    if gongzhi_demo::is_loaded(&store).await? || store.case_count(city, None).await? > 0 {
        bail!("the benchmark needs a fresh database; {url} already has a city in it");
    }
    println!(
        "bench cases: {} cases on {} ({} communities with grids)",
        b.cases,
        backend.name(),
        b.communities
    );
    let t = Instant::now();
    let demo = gongzhi_demo::build(&gongzhi_demo::Options {
        communities: Some(b.communities),
        seed: b.seed,
    });
    gongzhi_demo::load(&store, &demo, &gongzhi_app::auth::hash_password, |_| {}).await?;
    println!(
        "demo city: {} grids, {} organisations, {} people, loaded in {:.1} s",
        demo.grids.len(),
        demo.orgs.len(),
        demo.people.len(),
        t.elapsed().as_secs_f64()
    );

    // A year of cases, generated day by day and imported in chunks.
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    let to = NaiveDate::from_ymd_opt(2025, 12, 31).expect("a date");
    let horizon = NaiveDate::from_ymd_opt(2026, 2, 1)
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis()
        - 8 * 3_600_000;
    let opts = ReplayOptions {
        from,
        to,
        total: b.cases,
        seed: b.seed,
        horizon_ms: horizon,
    };
    let pb = indicatif::ProgressBar::new(b.cases);
    pb.set_style(
        indicatif::ProgressStyle::with_template("importing [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let t = Instant::now();
    let (stats, timing) = generate_and_import(&store, city, opts, &pb).await?;
    let wall = t.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let generate = timing.generate.as_secs_f64();
    let import = timing.import.as_secs_f64();
    let per_s = |n: u64, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    println!("{}", describe(&stats));
    println!(
        "generate: {:.1} s ({:.0} cases/s); import: {:.1} s ({:.0} cases/s, {:.0} events/s); total {:.1} s",
        generate,
        per_s(stats.cases, generate),
        import,
        per_s(stats.cases, import),
        per_s(stats.events, import),
        wall
    );
    let import_cases_per_s = per_s(stats.cases, generate + import);

    // Indicator queries over the whole year: units, districts, streets, categories, and one
    // district per month.
    let (y0, y1) = ("2025-01-01", "2025-12-31");
    let units: Vec<String> = store
        .counters_grouped(city, "unit", None, y0, "2026-12-31", "key")
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut districts: Vec<String> = demo
        .grids
        .iter()
        .map(|g| g.community.as_str()[..6].to_owned())
        .collect();
    let mut streets: Vec<String> = demo
        .grids
        .iter()
        .map(|g| g.community.as_str()[..9].to_owned())
        .collect();
    districts.sort();
    districts.dedup();
    streets.sort();
    streets.dedup();
    let (cat, _) = crate::replay::rules(&store, city).await?;
    let categories: Vec<String> = cat.iter().map(|c| c.code.clone()).collect();
    let mut rng = StdRng::seed_from_u64(b.seed);
    let mut ms = Vec::with_capacity(b.queries);
    let mut checksum = 0u64;
    for i in 0..b.queries {
        let t = Instant::now();
        let c = match i % 5 {
            0 if !units.is_empty() => {
                store
                    .counters(city, "unit", units.choose(&mut rng).expect("units"), y0, y1)
                    .await?
            }
            1 => {
                store
                    .counters(city, "area", districts.choose(&mut rng).expect("a district"), y0, y1)
                    .await?
            }
            2 => {
                store
                    .counters(city, "area", streets.choose(&mut rng).expect("a street"), y0, y1)
                    .await?
            }
            3 => {
                store
                    .counters(
                        city,
                        "category",
                        categories.choose(&mut rng).expect("a category"),
                        y0,
                        y1,
                    )
                    .await?
            }
            _ => {
                let d = districts.choose(&mut rng).expect("a district");
                let months = store.counters_grouped(city, "area", Some(d), y0, y1, "month").await?;
                months.iter().map(|(_, c)| c).sum()
            }
        };
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        checksum += c.collected;
    }
    ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&ms, 0.50), percentile(&ms, 0.99));
    println!(
        "indicator queries: {} over a year (units, districts, streets, categories, months of a district): p50 {:.2} ms, p99 {:.2} ms (reports summed: {checksum})",
        ms.len(),
        p50,
        p99
    );
    store.close().await;
    let json = serde_json::json!({
        "backend": backend.name(),
        "cases": stats.cases,
        "import_cases_per_s": import_cases_per_s.round(),
        "indicator_p50_ms": (p50 * 1000.0).round() / 1000.0,
        "indicator_p99_ms": (p99 * 1000.0).round() / 1000.0,
        "events": stats.events,
        "generate_s": (generate * 10.0).round() / 10.0,
        "import_s": (import * 10.0).round() / 10.0,
    });
    println!("{json}");
    Ok(())
}

/// `gongzhi bench case-step`: the latency of one case step (督办 supervise, through the
/// application layer, as the shift leader) when the catalogue and calendar are parsed on every
/// step (as before the per-city context) and when they come from the per-city context. The last
/// line printed is one JSON object with both and their ratio.
pub async fn case_step(steps: usize, database: Option<&str>) -> Result<()> {
    let db = fresh(database).await?;
    let result = case_step_on(steps.max(1), &db.url).await;
    db.drop_schema().await;
    result
}

async fn case_step_on(steps: usize, url: &str) -> Result<()> {
    use gongzhi_app::cases::{act, intake, Report};
    use gongzhi_core::case::Action;

    let city = gongzhi_demo::CITY;
    let store = Store::connect(url).await?;
    let demo = gongzhi_demo::build(&gongzhi_demo::Options {
        communities: Some(3),
        seed: 2026,
    });
    gongzhi_demo::load(&store, &demo, &gongzhi_app::auth::hash_password, |_| {}).await?;
    let state = gongzhi_app::AppState::new(store.clone(), city).await?;
    let principal = |user: &'static str| {
        let store = store.clone();
        async move {
            let account = store
                .account(user)
                .await?
                .with_context(|| format!("no demo account {user}"))?;
            store
                .principal(city, account.person_id)
                .await?
                .with_context(|| format!("{user} is not a person of the demo city"))
        }
    };
    let acceptor = principal("acceptor").await?;
    let leader = principal("shiftleader").await?;
    let r = geo::BoundingRect::bounding_rect(&demo.grids[0].geometry).context("the first grid has no area")?;
    let report = Report {
        condition: "C0105-02".into(),
        category: None,
        description: "电力井盖破损 (benchmark)".into(),
        lng: (r.min().x + r.max().x) / 2.0,
        lat: (r.min().y + r.max().y) / 2.0,
        crs: None,
        source: None,
        contact_name: None,
        contact_phone: None,
        register: true,
    };
    let (row, _) = intake(&state, &acceptor, &report, None).await?;
    let mut figures = serde_json::Map::new();
    let mut p50s = Vec::new();
    for (name, parse_every_step) in [("parse_every_step", true), ("per_city_context", false)] {
        let mut ms = Vec::with_capacity(steps);
        for _ in 0..steps {
            if parse_every_step {
                state.contexts.invalidate(city);
            }
            let action = Action::Supervise {
                level: 1,
                note: "督办 (benchmark)".into(),
            };
            let t = Instant::now();
            act(&state, &leader, row.case.id, action, None).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let mean = ms.iter().sum::<f64>() / ms.len() as f64;
        ms.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&ms, 0.5), percentile(&ms, 0.99));
        println!("{name:<18} p50 {p50:>8.3} ms  p99 {p99:>8.3} ms  mean {mean:>8.3} ms");
        p50s.push(p50);
        figures.insert(
            name.into(),
            serde_json::json!({ "p50_ms": round3(p50), "p99_ms": round3(p99), "mean_ms": round3(mean) }),
        );
    }
    figures.insert("bench".into(), "case_step".into());
    figures.insert("backend".into(), store.backend().name().into());
    figures.insert("steps".into(), steps.into());
    figures.insert("speedup_p50".into(), round3(p50s[0] / p50s[1].max(1e-9)).into());
    println!("{}", serde_json::Value::Object(figures));
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `gongzhi bench tables`: how long refusing an import file takes as it grows. For each size, a
/// CSV of that many MiB whose last line is wrong is read and checked row by row (as every
/// import does before it stores anything); then two hostile spreadsheets are refused: one naming
/// a cell at XFD1048576, one unpacking to a gigabyte. The last line printed is one JSON object
/// with the seconds per size and the ratio of the largest to the smallest per MiB (1 when linear).
pub fn tables(sizes_mib: &[u64]) -> Result<()> {
    use gongzhi_core::table::Table;
    if sizes_mib.is_empty() {
        bail!("give at least one size");
    }
    let mut figures = serde_json::Map::new();
    let mut per_mib = Vec::new();
    for &mib in sizes_mib {
        let mut text = String::from("code,building,floor,area,use\n");
        let mut i = 0u64;
        while (text.len() as u64) < mib << 20 {
            text.push_str(&format!(
                "B{}-{}-{:03},B{},{},{}.{:02},residential\n",
                i / 600,
                i % 30,
                i % 600,
                i / 600,
                i % 30,
                40 + i % 90,
                i % 100
            ));
            i += 1;
        }
        text.push_str("BAD,B0,1,not-an-area,residential\n");
        let started = Instant::now();
        let table = Table::from_bytes(text.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut first_error = None;
        for row in &table.rows {
            if let Err(e) = row.parse_opt("area", "an area in square metres", |s| s.parse::<f64>().ok()) {
                first_error.get_or_insert(e);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let e = first_error.context("the bad last line was not found")?;
        println!("{mib} MiB ({} rows): refused in {seconds:.3} s: {e}", table.rows.len());
        figures.insert(format!("csv_{mib}mib_s"), round3(seconds).into());
        per_mib.push(seconds / mib as f64);
    }
    let ratio = per_mib.last().copied().unwrap_or(0.0) / per_mib[0].max(1e-9);
    figures.insert("csv_per_mib_ratio_largest_to_smallest".into(), round3(ratio).into());

    // A cell at the sheet's far corner.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write(0, 0, "code")?;
    sheet.write(1_048_575, 16_383, "x")?;
    let bytes = book.save_to_buffer()?;
    let started = Instant::now();
    let refused = Table::from_bytes(&bytes).is_err();
    figures.insert("xlsx_far_cell_bytes".into(), bytes.len().into());
    figures.insert("xlsx_far_cell_refused".into(), refused.into());
    figures.insert(
        "xlsx_far_cell_ms".into(),
        round3(started.elapsed().as_secs_f64() * 1000.0).into(),
    );

    // A part that unpacks to 1 GiB.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", deflate)?;
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        std::io::Write::write_all(&mut zip, &chunk)?;
    }
    let bytes = zip.finish()?.into_inner();
    let started = Instant::now();
    let refused = Table::from_bytes(&bytes).is_err();
    figures.insert("zip_bomb_bytes".into(), bytes.len().into());
    figures.insert("zip_bomb_refused".into(), refused.into());
    figures.insert(
        "zip_bomb_ms".into(),
        round3(started.elapsed().as_secs_f64() * 1000.0).into(),
    );
    figures.insert("bench".into(), "tables".into());
    println!("{}", serde_json::Value::Object(figures));
    Ok(())
}
