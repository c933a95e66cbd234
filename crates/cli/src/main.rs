//! `gongzhi`: the one binary. Subcommands only wire the library crates together.
#![forbid(unsafe_code)]

mod bench;
mod cases_io;
mod flat;
mod gridteam;
mod initiative;
mod open311;
mod pb;
mod premises;
mod regen;
mod renewal_needs;
mod renewal_votes;
mod renewal_works;
mod replay;

use gongzhi_core::territory::CityCode;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use gongzhi_app::AppState;
use gongzhi_core::grid::{self, GridCodePattern};
use gongzhi_core::spatial::Crs;
use gongzhi_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "gongzhi",
    version,
    about = "Gongzhi (共治): grassroots co-governance platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Db {
    /// Database URL: sqlite://PATH (created if absent) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "GONGZHI_DATABASE", default_value = "sqlite://./gongzhi.db")]
    database: String,
    /// The city (tenant) to work in, as its 6-digit code.
    #[arg(long, env = "GONGZHI_CITY", default_value = gongzhi_demo::CITY.as_str())]
    city: CityCode,
}

/// `gongzhi renewal …`
#[derive(Subcommand)]
enum RenewalCommand {
    /// Participatory-budget votes: `.pb` export and import, results as CSV or XLSX.
    #[command(subcommand)]
    Vote(renewal_votes::VoteCommand),
    /// Needs of a community: import, export, cluster (需求整合).
    #[command(flatten)]
    Needs(renewal_needs::RenewalCommand),
    /// Departments' works (项目整合) and bundles.
    #[command(flatten)]
    Works(renewal_works::RenewalCommand),
}

#[derive(Subcommand)]
enum Command {
    /// Serve the JSON API and the web pages.
    Serve {
        #[command(flatten)]
        db: Db,
        /// Port to listen on.
        #[arg(long, env = "GONGZHI_PORT", default_value_t = 8080)]
        port: u16,
        /// Address to listen on.
        #[arg(long, env = "GONGZHI_HOST", default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Load the demo city first if the database does not have it.
        #[arg(long)]
        demo: bool,
        /// Cases a day in the demo's year of cases (0: none).
        #[arg(long, default_value_t = 100)]
        cases_per_day: u64,
        /// Back the (SQLite) database up into this directory on a schedule, as `gongzhi backup` does.
        #[arg(long, env = "GONGZHI_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// Hours between scheduled backups.
        #[arg(long, env = "GONGZHI_BACKUP_EVERY_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..))]
        backup_every_hours: u64,
        /// Scheduled backups to keep (the oldest are removed).
        #[arg(long, env = "GONGZHI_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..))]
        backup_keep: u64,
        /// Seconds the requests in flight get to finish after SIGTERM or Ctrl-C; then the server
        /// stops anyway (a second signal stops it at once).
        #[arg(long, env = "GONGZHI_GRACE_SECONDS", default_value_t = gongzhi_web::DEFAULT_GRACE.as_secs())]
        grace_seconds: u64,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Write a consistent copy of the whole SQLite database to a new file, safe while `serve`
    /// runs (PostgreSQL: use pg_dump, see docs/operations.md).
    Backup {
        #[command(flatten)]
        db: Db,
        /// The backup file to create (it must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Check a backup file without restoring it: sound, made by Gongzhi, and what it holds.
    CheckBackup {
        /// The backup file.
        file: PathBuf,
    },
    /// Replace the SQLite database by a backup (stop `serve` first); the replaced database is
    /// kept beside it as NAME.before-restore-<time>.
    Restore {
        #[command(flatten)]
        db: Db,
        /// The backup file (from `gongzhi backup`).
        #[arg(long)]
        from: PathBuf,
    },
    /// Load the deterministic demo city (Chengdu) into the database.
    Demo {
        #[command(flatten)]
        db: Db,
        /// Give grids and staff to the first N communities (more than the city has adds synthetic ones).
        #[arg(long)]
        communities: Option<usize>,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Cases a day in the year of cases the demo starts with (0: none).
        #[arg(long, default_value_t = 100)]
        cases_per_day: u64,
    },
    /// Generate a period of realistic cases for the demo city (through the case state machine)
    /// and import them.
    DemoCases {
        #[command(flatten)]
        db: Db,
        /// First day (Beijing date); default: 365 days before --to.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day; default: yesterday.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Cases a day on average.
        #[arg(long, default_value_t = 100)]
        per_day: u64,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// What-if replay (推演): the recorded intake of a period re-run through the routing of a
    /// hierarchy and a queueing model of each unit, side by side with the configured one.
    Replay {
        #[command(flatten)]
        db: Db,
        /// flat, layered, or levels such as city,district,community,grid.
        #[arg(long)]
        hierarchy: String,
        /// First day (Beijing date); default: 365 days before --to.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day; default: yesterday.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Minutes of a desk's work per forwarding hop.
        #[arg(long, default_value_t = 30.0)]
        forward_minutes: f64,
        /// Worker-hours to handle one case.
        #[arg(long, default_value_t = 2.0)]
        handling_hours: f64,
    },
    /// Flat governance: responsibility lists (权责清单) export, import, check.
    #[command(subcommand)]
    Flat(flat::FlatCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Cases: export and import (CSV, XLSX).
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Grids: import, export, locate a point.
    #[command(subcommand)]
    Grid(GridCommand),
    /// Wicked-problem initiatives: register units and parties from files.
    #[command(subcommand)]
    Initiative(initiative::InitiativeCommand),
    /// Premises: buildings and units (import from CSV/XLSX, export to CSV).
    #[command(subcommand)]
    Premises(premises::PremisesCommand),
    /// Co-produced micro-renewal (社区微更新).
    #[command(subcommand)]
    Renewal(RenewalCommand),
    /// Urban regeneration: create a project, import holders and resources, export, standings.
    #[command(subcommand)]
    Regen(regen::RegenCommand),
    /// The generalist grid's lists: needs and resources import (CSV/XLSX), needs, resources
    /// and projects export (CSV).
    #[command(subcommand)]
    #[command(alias = "lists")]
    Gridteam(gridteam::GridteamCommand),
    /// Load a division file (CSV code,name,level,parent, as in data/) into the register.
    Divisions {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// Open311 GeoReport v2: keys for client applications.
    #[command(subcommand)]
    Open311(open311::Open311Command),
    /// Participatory budgeting: count, check and generate pabulib .pb files.
    #[command(subcommand)]
    Pb(pb::PbCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Count .pb files under every rule, timed (milliseconds per rule, then a JSON line per file).
    Pb {
        files: Vec<PathBuf>,
        #[arg(long, value_delimiter = ',', default_value = "greedy,mes,phragmen,mes-add1")]
        rules: Vec<String>,
    },
    /// Standing and smallest set of every built-in consent rule on generated holders, timed.
    Decision {
        #[arg(long, default_value_t = 5000)]
        holders: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Bulk import of N generated cases into a fresh database, then indicator query latency.
    /// The last line printed is one JSON object with the figures.
    Cases {
        #[arg(long, default_value_t = 1_000_000)]
        cases: u64,
        /// Database: postgres://… (a fresh schema is made and dropped) or sqlite://PATH (a new
        /// file); default: a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        /// Communities of the demo city that get grids and staff.
        #[arg(long, default_value_t = 40)]
        communities: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Indicator queries to time.
        #[arg(long, default_value_t = 300)]
        queries: usize,
    },
    /// Interactive latency under analytic load: HEAVY users reload the city dashboard while a
    /// dispatcher opens cases and a resident reports (in process), first with analytic reads on
    /// the interactive connections (as before they had their own pool), then on their own pool.
    /// Prints one JSON object per arrangement and one with the ratios.
    Mixed {
        #[command(flatten)]
        db: Db,
        /// Users reloading the dashboard at once.
        #[arg(long, default_value_t = 8)]
        heavy: usize,
        /// Seconds per arrangement.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
    },
    /// Server time of the main pages (in process, no network) on a loaded database, per demo
    /// role. The last line printed is one JSON object with the slowest page.
    Pages {
        #[command(flatten)]
        db: Db,
        /// Requests per page and user.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Demo users to time the pages as.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "admin,dispatcher,department,gridworker,resident"
        )]
        users: Vec<String>,
    },
    /// `/api/health` latency idle and under concurrent password guessing (in process). The last
    /// line printed is one JSON object with both latencies and their ratio (target: at most 2).
    Login {
        #[command(flatten)]
        db: Db,
        /// Concurrent guessers.
        #[arg(long, default_value_t = 8)]
        guessers: usize,
        /// Health requests timed, idle and loaded.
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// Refusing import files as they grow (CSV with a bad last line) and hostile spreadsheets
    /// (a far cell, a zip bomb). The last line printed is one JSON object with the figures.
    Tables {
        /// CSV sizes, MiB.
        #[arg(long, value_delimiter = ',', default_value = "10,50,100")]
        mib: Vec<u64>,
    },
    /// One case step (督办, through the application layer) with the catalogue and calendar
    /// parsed on every step and from the per-city context. The last line printed is one JSON
    /// object with both latencies and their ratio.
    CaseStep {
        #[arg(long, default_value_t = 300)]
        steps: usize,
        /// Database: postgres://… (a fresh schema is made and dropped); default: a temporary
        /// SQLite file.
        #[arg(long)]
        database: Option<String>,
    },
    /// The renewal needs' clustering (需求整合) on generated needs spread over a city. The last
    /// line printed is one JSON object with the figures.
    RenewalCluster {
        #[arg(long, default_value_t = 10_000)]
        needs: usize,
        /// The side of the square the needs are spread over, km.
        #[arg(long, default_value_t = 20.0)]
        side_km: f64,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// The generalist grid's matching engine on a whole demo city's needs and resources,
    /// generated in memory. The last line printed is one JSON object with the figures.
    Grid {
        /// Needs and resources generated per grid.
        #[arg(long, default_value_t = 3)]
        per_grid: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Export cases, one row per case (to stdout as CSV, or to a file).
    Export {
        #[command(flatten)]
        db: Db,
        /// csv or xlsx; default: from the file's extension, else csv.
        #[arg(long)]
        format: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Only cases reported from this day (Beijing date) …
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// … to this day, inclusive.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
    /// Import reports from a CSV or XLSX file (columns condition, description, lng, lat, and
    /// optionally source, reported_at, contact_name, contact_phone, crs). All rows or none.
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
        /// Register (立案) each case at once.
        #[arg(long)]
        register: bool,
    },
}

#[derive(Subcommand)]
enum GridCommand {
    /// Import a GeoJSON FeatureCollection of grids (one transaction: all or nothing).
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
        /// Datum of the coordinates: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84")]
        crs: String,
    },
    /// Export grids as GeoJSON (to stdout or a file).
    Export {
        #[command(flatten)]
        db: Db,
        /// Only grids inside this division.
        #[arg(long)]
        within: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Which grid contains a point.
    Locate {
        #[command(flatten)]
        db: Db,
        #[arg(long, allow_hyphen_values = true)]
        lng: f64,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Datum of the point: wgs84, gcj02 (AMap, Tencent) or bd09 (Baidu).
        #[arg(long, default_value = "wgs84")]
        crs: String,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GONGZHI_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            db,
            port,
            host,
            demo,
            cases_per_day,
            backup_dir,
            backup_every_hours,
            backup_keep,
            grace_seconds,
        } => {
            let backups = backup_dir.map(|d| (d, backup_every_hours, backup_keep as usize));
            let grace = std::time::Duration::from_secs(grace_seconds);
            serve(db, SocketAddr::new(host, port), demo, cases_per_day, backups, grace).await
        }
        Command::Backup { db, to } => {
            let state = AppState::lazy(open(&db).await?, db.city);
            let b = gongzhi_app::operations::backup(&state, None, &to).await?;
            println!("{}", backup_summary("backed up to", &b));
            Ok(())
        }
        Command::CheckBackup { file } => {
            let b = gongzhi_app::operations::check(&file).await?;
            println!("{}", backup_summary("sound backup", &b));
            Ok(())
        }
        Command::Restore { db, from } => {
            let r = gongzhi_app::operations::restore(&from, &db.database).await?;
            println!(
                "{}",
                backup_summary(&format!("restored {} from", db.database), &r.backup)
            );
            if let Some(previous) = r.previous {
                println!("the replaced database is kept as {}", previous.display());
            }
            Ok(())
        }
        Command::Migrate { db } => {
            open(&db).await?;
            println!("migrated {}", db.database);
            Ok(())
        }
        Command::Demo {
            db,
            communities,
            seed,
            cases_per_day,
        } => {
            let store = open(&db).await?;
            if gongzhi_demo::is_loaded(&store).await? {
                println!("the demo city is already in {}", db.database);
                return Ok(());
            }
            load_demo(&store, gongzhi_demo::Options { communities, seed }, cases_per_day).await
        }
        Command::DemoCases {
            db,
            from,
            to,
            per_day,
            seed,
        } => {
            let store = open(&db).await?;
            replay::demo_cases(&store, db.city, from, to, per_day, seed).await
        }
        Command::Replay {
            db,
            hierarchy,
            from,
            to,
            forward_minutes,
            handling_hours,
        } => {
            let a = gongzhi_core::whatif::Assumptions {
                forward_minutes,
                handling_hours,
                ..Default::default()
            };
            flat::replay(open(&db).await?, db.city, &hierarchy, from, to, a).await
        }
        Command::Flat(cmd) => flat::run(cmd).await,
        Command::Bench(BenchCommand::Grid { per_grid, seed }) => gridteam::bench(per_grid, seed),
        Command::Gridteam(cmd) => gridteam::run(cmd).await,
        Command::Renewal(RenewalCommand::Needs(cmd)) => renewal_needs::run(cmd).await,
        Command::Bench(BenchCommand::RenewalCluster { needs, side_km, seed }) => {
            renewal_needs::bench(needs, side_km, seed)
        }
        Command::Bench(BenchCommand::Mixed { db, heavy, seconds }) => {
            let store = open(&db).await?;
            let shared = AppState::new(store.without_analytic_pool(), db.city).await?;
            let before = gongzhi_web::bench::MixedLoad {
                pools: "shared",
                ..gongzhi_web::bench::mixed(&shared, heavy, seconds).await?
            };
            println!("{}", serde_json::to_string(&before)?);
            let separate = AppState::new(store, db.city).await?;
            let after = gongzhi_web::bench::MixedLoad {
                pools: "separate",
                ..gongzhi_web::bench::mixed(&separate, heavy, seconds).await?
            };
            println!("{}", serde_json::to_string(&after)?);
            let ratio = |a: f64, b: f64| if b > 0.0 { (a / b * 100.0).round() / 100.0 } else { 0.0 };
            println!(
                "{}",
                serde_json::json!({
                    "bench": "mixed", "backend": separate.backend_name(), "heavy_users": heavy,
                    "lookup_p99_shared_over_separate": ratio(before.lookup_p99_ms, after.lookup_p99_ms),
                    "write_p99_shared_over_separate": ratio(before.write_p99_ms, after.write_p99_ms),
                    "dashboards_separate_over_shared": ratio(after.dashboards as f64, before.dashboards as f64),
                })
            );
            Ok(())
        }
        Command::Bench(BenchCommand::Pages { db, runs, users }) => {
            let store = open(&db).await?;
            let state = AppState::new(store, db.city).await?;
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            let timings = gongzhi_web::bench::pages(&state, &users, &[], runs).await?;
            println!(
                "{:<14} {:<34} {:>6} {:>9} {:>9} {:>9}",
                "user", "page", "status", "p50 ms", "p99 ms", "max ms"
            );
            for t in &timings {
                println!(
                    "{:<14} {:<34} {:>6} {:>9.1} {:>9.1} {:>9.1}",
                    t.user, t.page, t.status, t.p50_ms, t.p99_ms, t.max_ms
                );
            }
            let worst = timings.iter().max_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms));
            let over = timings.iter().filter(|t| t.p99_ms > 200.0).count();
            println!(
                "{}",
                serde_json::json!({
                    "bench": "pages", "backend": state.backend_name(), "pages": timings.len(),
                    "over_200ms_p99": over, "worst_page": worst.map(|w| &w.page), "worst_user": worst.map(|w| &w.user),
                    "worst_p99_ms": worst.map(|w| (w.p99_ms * 10.0).round() / 10.0),
                })
            );
            Ok(())
        }
        Command::Bench(BenchCommand::Cases {
            cases,
            database,
            communities,
            seed,
            queries,
        }) => {
            bench::run(bench::BenchCases {
                cases,
                database,
                communities,
                seed,
                queries,
            })
            .await
        }
        Command::Cases(CasesCommand::Export {
            db,
            format,
            output,
            from,
            to,
        }) => {
            let format = cases_io::Format::choose(format.as_deref(), output.as_deref())?;
            let state = AppState::lazy(open(&db).await?, db.city);
            cases_io::export(&state, db.city, format, output.as_deref(), from, to).await
        }
        Command::Cases(CasesCommand::Import { db, file, register }) => {
            let state = AppState::lazy(open(&db).await?, db.city);
            cases_io::import(&state, db.city, &file, register).await
        }
        Command::Grid(g) => grid_command(g).await,
        Command::Open311(c) => open311::run(c).await,
        Command::Premises(c) => premises::run(c).await,
        Command::Initiative(c) => initiative::run(c).await,
        Command::Renewal(RenewalCommand::Vote(c)) => renewal_votes::run(c).await,
        Command::Renewal(RenewalCommand::Works(c)) => renewal_works::run(c).await,
        Command::Pb(c) => pb::run(c),
        Command::Bench(BenchCommand::Tables { mib }) => bench::tables(&mib),
        Command::Bench(BenchCommand::Login { db, guessers, runs }) => {
            let store = open(&db).await?;
            let state = AppState::new(store, db.city).await?;
            let load = gongzhi_web::bench::login_load(&state, guessers, runs).await;
            let mut figures = serde_json::to_value(&load)?;
            figures["bench"] = "login".into();
            println!("{figures}");
            Ok(())
        }
        Command::Bench(BenchCommand::CaseStep { steps, database }) => {
            bench::case_step(steps, database.as_deref()).await
        }
        Command::Bench(BenchCommand::Pb { files, rules }) => pb::bench_pb(&files, &rules),
        Command::Bench(BenchCommand::Decision { holders, runs, seed }) => pb::bench_decision(holders, runs, seed),
        Command::Regen(c) => regen::run(c).await,
        Command::Divisions { db, file } => {
            let state = AppState::lazy(open(&db).await?, db.city);
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let ds = gongzhi_core::territory::parse_division_csv(&text)?;
            let (city, n) = gongzhi_app::territory::load_divisions(&state, &ds).await?;
            println!("loaded {n} divisions of city {city}");
            Ok(())
        }
    }
}

/// One line on a backup file: where, how big, how many tables and rows.
fn backup_summary(what: &str, b: &gongzhi_app::operations::BackupInfo) -> String {
    format!(
        "{what} {}: {} bytes, {} tables, {} rows",
        b.file.display(),
        b.bytes,
        b.tables.len(),
        b.rows()
    )
}

async fn open(db: &Db) -> Result<Store> {
    Ok(Store::connect(&db.database).await?)
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

async fn load_demo(store: &Store, opts: gongzhi_demo::Options, cases_per_day: u64) -> Result<()> {
    let demo = gongzhi_demo::build(&opts);
    let pb = ProgressBar::new_spinner();
    gongzhi_demo::load(store, &demo, &gongzhi_app::auth::hash_password, |step| {
        pb.set_message(format!("loading demo city: {step}"))
    })
    .await?;
    pb.finish_and_clear();
    println!(
        "demo city loaded: {} divisions, {} grids, {} organisations, {} people",
        demo.divisions.len(),
        demo.grids.len(),
        demo.orgs.len(),
        demo.people.len()
    );
    replay::demo_year(store, gongzhi_demo::CITY, cases_per_day, opts.seed).await?;
    let (cat, _) = replay::rules(store, gongzhi_demo::CITY).await?;
    let mut communities: Vec<String> = demo.grids.iter().map(|g| g.community.to_string()).collect();
    communities.dedup();
    let (_, to) = replay::last_year();
    gongzhi_demo::flat::load(store, &cat, &communities, to).await?;
    println!(
        "flat governance: responsibility lists, staffing and forms demanded for {} communities",
        communities.len()
    );
    Ok(())
}

async fn serve(
    db: Db,
    addr: SocketAddr,
    demo: bool,
    cases_per_day: u64,
    backups: Option<(PathBuf, u64, usize)>,
    grace: std::time::Duration,
) -> Result<()> {
    let store = open(&db).await?;
    if demo && !gongzhi_demo::is_loaded(&store).await? {
        println!(
            "loading the demo city (Chengdu, every district, street and community) into {} …",
            db.database
        );
        load_demo(&store, gongzhi_demo::Options::default(), cases_per_day).await?;
    }
    let state = AppState::new(store, db.city).await?;
    if backups.is_some() && !db.database.starts_with("sqlite:") {
        bail!("--backup-dir works for SQLite databases; back PostgreSQL up with pg_dump (docs/operations.md)");
    }
    // The sweeper and the scheduled backups stop with the server, between two runs.
    let mut shutdown = gongzhi_web::Shutdown::new(grace);
    shutdown.spawn_sweeper(state.clone(), std::time::Duration::from_secs(60));
    if let Some((dir, hours, keep)) = backups {
        println!("backing up into {} every {hours} h, keeping {keep}", dir.display());
        shutdown.spawn_backups(state.clone(), dir, std::time::Duration::from_secs(hours * 3600), keep);
    }
    gongzhi_web::serve_with(state, addr, shutdown, |bound| {
        println!(
            "Gongzhi (共治) is serving on http://{bound}  (database: {})",
            db.database
        );
        if demo {
            println!("demo accounts (password for all: {}):", gongzhi_demo::DEMO_PASSWORD);
            for a in gongzhi_demo::build(&gongzhi_demo::Options {
                communities: Some(1),
                seed: 2026,
            })
            .accounts
            {
                println!("  {:<16} {}", a.username, a.what);
            }
        }
    })
    .await
    .with_context(|| format!("cannot serve on {addr}"))
}

async fn grid_command(g: GridCommand) -> Result<()> {
    match g {
        GridCommand::Import { db, file, crs } => {
            let crs: Crs = crs.parse()?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let grids = match grid::parse_grid_collection(&text, crs, &GridCodePattern::default()) {
                Ok(g) => g,
                Err(errors) => report_refused(&file, &errors)?,
            };
            let state = AppState::lazy(open(&db).await?, db.city);
            let pb = bar(grids.len() as u64, "importing grids");
            let mut progress = |done: usize, _all: usize| pb.set_position(done as u64);
            match gongzhi_app::territory::store_grids(&state, db.city, &grids, Some(&mut progress)).await {
                Ok(n) => {
                    pb.finish_and_clear();
                    println!("imported {n} grids from {}", file.display());
                    Ok(())
                }
                Err(e) if !e.items.is_empty() => {
                    pb.abandon();
                    refused(&file, &e.items, "feature(s) refused")
                }
                Err(e) => Err(e.into()),
            }
        }
        GridCommand::Export { db, within, output } => {
            let state = AppState::lazy(open(&db).await?, db.city);
            let fc = gongzhi_app::territory::export_grids(&state, db.city, within.as_deref()).await?;
            let text = fc.to_string();
            match output {
                Some(p) => {
                    std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
                    println!("exported {} grids to {}", fc.features.len(), p.display());
                }
                None => println!("{text}"),
            }
            Ok(())
        }
        GridCommand::Locate { db, lng, lat, crs } => {
            let store = open(&db).await?;
            let state = AppState::lazy(store, db.city);
            let r = gongzhi_app::territory::locate(&state, db.city, crs.parse()?, lng, lat).await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
    }
}

fn report_refused<T>(file: &std::path::Path, errors: &[grid::FeatureError]) -> Result<T> {
    let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    refused(file, &lines, "feature(s) refused")
}

/// Refuse a file: each wrong item on its own line, nothing imported.
pub(crate) fn refused<T>(file: &std::path::Path, items: &[String], what: &str) -> Result<T> {
    eprintln!("{}: refused, nothing was imported:", file.display());
    for e in items {
        eprintln!("  {e}");
    }
    bail!("{} {what}", items.len())
}
