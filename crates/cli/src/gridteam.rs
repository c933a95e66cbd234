//! `gongzhi lists …`: the generalist grid's needs and resources lists imported from CSV/XLSX and
//! the three lists exported to CSV; `gongzhi bench grid`: the matching engine on a whole demo
//! city's lists, generated in memory.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use geo::InteriorPoint;
use gongzhi_app::AppState;
use gongzhi_core::gridteam::{self, Category, NeedFacts, ResourceFacts, ResourceKind, Urgency, Window};
use rand::{Rng, SeedableRng};

use crate::Db;

#[derive(Subcommand)]
pub enum GridteamCommand {
    /// Import a grid's needs or resources from a CSV (UTF-8) or XLSX file, all or nothing
    /// (needs: category, text, lng, lat, urgency, source, quantity, group; resources: title,
    /// kind, categories, organisation, person, lng, lat, reach_m, capacity, windows).
    Import {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        grid: String,
        /// needs or resources.
        #[arg(long)]
        list: String,
        file: PathBuf,
    },
    /// Export a grid's needs, resources or projects as CSV.
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        grid: String,
        /// needs, resources or projects.
        #[arg(long)]
        list: String,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

async fn state_and_grid(db: &Db, code: &str) -> Result<(AppState, gongzhi_core::grid::Grid)> {
    let state = AppState::lazy(crate::open(db).await?, db.city);
    let grid = gongzhi_app::gridteam::grid_in(&state, db.city, code)
        .await?
        .with_context(|| format!("grid {code} is not stored in city {}", db.city))?;
    Ok((state, grid))
}

pub async fn run(cmd: GridteamCommand) -> Result<()> {
    match cmd {
        GridteamCommand::Import { db, grid, list, file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (state, g) = state_and_grid(&db, &grid).await?;
            let r = gongzhi_app::gridteam::import(&state, db.city, &g, &list, &bytes, None).await?;
            println!(
                "imported {} {list} into grid {grid} from {} ({})",
                r.ids.len(),
                file.display(),
                r.report.summary()
            );
            Ok(())
        }
        GridteamCommand::Export { db, grid, list, output } => {
            let (state, g) = state_and_grid(&db, &grid).await?;
            let text = gongzhi_app::gridteam::export(&state, db.city, &g, &list, None).await?;
            match output {
                Some(p) => std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?,
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}

/// The matching engine on city-scale lists: `per_grid` needs and resources in every grid of the
/// whole demo city. Prints a JSON line with the sizes and the time.
pub fn bench(per_grid: usize, seed: u64) -> Result<()> {
    let demo = gongzhi_demo::build(&gongzhi_demo::Options {
        communities: None,
        seed,
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cats = Category::ALL;
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).context("date")?;
    let mut needs = Vec::new();
    let mut resources = Vec::new();
    for g in &demo.grids {
        let Some(c) = g.geometry.interior_point() else { continue };
        for _ in 0..per_grid {
            let id = needs.len() as i64;
            needs.push(NeedFacts {
                id,
                category: cats[rng.gen_range(0..cats.len())],
                lng: c.x() + rng.gen_range(-0.003..0.003),
                lat: c.y() + rng.gen_range(-0.003..0.003),
                urgency: Urgency::Normal,
                quantity: rng.gen_range(1..4),
            });
            let id = resources.len() as i64;
            let kind = ResourceKind::ALL[rng.gen_range(0..ResourceKind::ALL.len())];
            let capacity = rng.gen_range(1..20);
            resources.push(ResourceFacts {
                id,
                kind,
                categories: if kind == ResourceKind::Funds && rng.gen_bool(0.5) {
                    vec![]
                } else {
                    vec![cats[rng.gen_range(0..cats.len())], cats[rng.gen_range(0..cats.len())]]
                },
                lng: c.x() + rng.gen_range(-0.003..0.003),
                lat: c.y() + rng.gen_range(-0.003..0.003),
                reach_m: rng.gen_range(300.0..5000.0),
                capacity,
                used: rng.gen_range(0..=capacity),
                windows: if rng.gen_bool(0.3) {
                    vec![Window::new(day, day + chrono::Duration::days(30))?]
                } else {
                    vec![]
                },
                completed: rng.gen_range(0..5),
                failed: rng.gen_range(0..2),
            });
        }
    }
    let start = Instant::now();
    let out = gridteam::propose_all(&needs, &resources, day, 10);
    let secs = start.elapsed().as_secs_f64();
    let proposals: usize = out.iter().map(Vec::len).sum();
    let unmatched = out.iter().filter(|p| p.is_empty()).count();
    println!(
        "{}",
        serde_json::json!({
            "bench": "grid", "grids": demo.grids.len(), "needs": needs.len(), "resources": resources.len(),
            "proposals": proposals, "unmatched_needs": unmatched, "seconds": (secs * 1000.0).round() / 1000.0,
            "under_one_second": secs < 1.0,
        })
    );
    Ok(())
}
