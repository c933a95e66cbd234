//! `gongzhi renewal works import|export` and `gongzhi renewal bundles`: departments' planned
//! works from and to CSV/XLSX (all or nothing, wrong lines listed), and the bundles of a
//! community (works and delivery projects that meet in space and time) with the report of
//! separate interventions before and after merging.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_app::renewal_works as app;
use gongzhi_app::AppState;
use gongzhi_core::renewal::works::{cents_to_yuan, Bundle, BundleParams, Item};
use gongzhi_core::table::Table;

use crate::Db;

#[derive(Subcommand)]
pub enum RenewalCommand {
    /// Departments' planned works (项目整合).
    #[command(subcommand)]
    Works(WorksCommand),
    /// Print a community's bundles (proposed and accepted) and the before/after report.
    Bundles {
        #[command(flatten)]
        db: Db,
        /// The community (12 digits).
        #[arg(long)]
        community: String,
        /// Buffer distance in metres.
        #[arg(long, default_value_t = 50.0)]
        buffer_m: f64,
        /// Largest gap between two works' windows, in days.
        #[arg(long, default_value_t = 30)]
        gap_days: i64,
    },
}

#[derive(Subcommand)]
pub enum WorksCommand {
    /// Import works: reference, title, kind, community, department (organisation id), from, to,
    /// budget_yuan, geometry (GeoJSON, WGS-84). All or nothing.
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// Export works in the import's columns (CSV; stdout without -o).
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        community: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn refused<T>(file: &Path, errors: &[impl std::fmt::Display]) -> Result<T> {
    eprintln!("{}: refused, nothing was imported:", file.display());
    for e in errors {
        eprintln!("  {e}");
    }
    bail!("{} line(s) wrong", errors.len())
}

fn describe(b: &Bundle, items: &[Item]) -> String {
    let title = |k| {
        items
            .iter()
            .find(|i| i.key == k)
            .map(|i| format!("{k} {} ({})", i.title, i.kind.name_zh()))
            .unwrap_or_else(|| k.to_string())
    };
    let mut out = String::new();
    out.push_str(&format!("  lead: {} — {}\n", title(b.lead), b.lead_reason));
    for s in &b.schedule {
        out.push_str(&format!(
            "    {} – {}  {:<11} {}\n",
            s.window.from,
            s.window.to,
            s.phase.as_str(),
            title(s.key)
        ));
    }
    let v = &b.savings;
    out.push_str(&format!(
        "  window {} – {}, budget {} yuan; interventions {} → {}, diggings {} → {}, surfaces dug up again avoided {}, days {} (union {}) → {}\n",
        b.window.from,
        b.window.to,
        cents_to_yuan(b.budget_cents),
        v.interventions_before,
        v.interventions_after,
        v.diggings_before,
        v.diggings_after,
        v.surfaces_redone_before,
        v.days_separate,
        v.days_union_before,
        v.days_after
    ));
    out
}

pub async fn run(cmd: RenewalCommand) -> Result<()> {
    match cmd {
        RenewalCommand::Works(WorksCommand::Import { db, file }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let table = match Table::from_bytes(&bytes) {
                Ok(t) => t,
                Err(e) => return refused(&file, &[e]),
            };
            let state = AppState::lazy(crate::open(&db).await?, db.city);
            match app::import_table(&state, db.city, &table).await {
                Ok(r) => {
                    println!(
                        "imported {} works from {} ({})",
                        r.ids.len(),
                        file.display(),
                        r.report.summary()
                    );
                    Ok(())
                }
                // The wrong lines, each as the error's item.
                Err(e) if !e.items.is_empty() => refused(&file, &e.items),
                Err(e) => Err(e.into()),
            }
        }
        RenewalCommand::Works(WorksCommand::Export { db, community, output }) => {
            let state = AppState::lazy(crate::open(&db).await?, db.city);
            let app::WorksCsv { count, csv } = app::export(&state, None, community.as_deref()).await?;
            match output {
                Some(p) => {
                    std::fs::write(&p, csv).with_context(|| format!("cannot write {}", p.display()))?;
                    eprintln!("wrote {count} works to {}", p.display());
                }
                None => print!("{csv}"),
            }
            Ok(())
        }
        RenewalCommand::Bundles {
            db,
            community,
            buffer_m,
            gap_days,
        } => {
            let params = BundleParams::new(buffer_m, gap_days)?;
            let state = AppState::lazy(crate::open(&db).await?, db.city);
            let view = app::community_bundles(&state, None, &community, params).await?;
            let (items, accepted, proposed) = (&view.items, &view.accepted, &view.proposed);
            println!(
                "community {community}: {} works and projects; buffer {buffer_m} m, gap {gap_days} days",
                items.len()
            );
            for b in accepted {
                println!("accepted bundle {}:", b.id);
                print!("{}", describe(&b.bundle, items));
            }
            for (i, b) in proposed.iter().enumerate() {
                println!("proposed bundle {}:", i + 1);
                print!("{}", describe(b, items));
            }
            println!("report (separate interventions before → after merging):");
            for (label, r) in [
                ("accepted", &view.report.community),
                ("if all proposed are accepted", &view.report.potential),
            ] {
                println!(
                    "  {} ({label}): interventions {} → {}, diggings {} → {}, days {} → {}",
                    r.place, r.before, r.after, r.diggings_before, r.diggings_after, r.days_separate, r.days_after
                );
            }
            Ok(())
        }
    }
}
