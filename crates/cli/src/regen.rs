//! `gongzhi regen …`: urban regeneration projects — create one, import its holders and governance
//! resources (CSV/XLSX, all or nothing), export its holders with their scenario and decision, and
//! print every consent rule's standing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use gongzhi_app::regen as service;
use gongzhi_app::{AppError, AppState};
use gongzhi_core::decision::standing;
use gongzhi_core::regen::{electorate, positions, Project, ProjectConfig};

use crate::Db;

#[derive(Subcommand)]
pub enum RegenCommand {
    /// Create a project in a community; `--config` a JSON file (catalogue, scenario_rule,
    /// pressure, rules, withdrawal_deadline), defaults otherwise.
    Create {
        #[command(flatten)]
        db: Db,
        code: String,
        name: String,
        /// The community (12 digits).
        #[arg(long)]
        community: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Import holders: one row per holding (holder, name, kind, members, contested,
    /// representatives, sticking_points, unit, area_m2, common_share).
    Holders {
        #[command(flatten)]
        db: Db,
        project: String,
        file: PathBuf,
    },
    /// Import governance resources (code, name, kind, category, holder, capacity, cost,
    /// addresses, scarce).
    Resources {
        #[command(flatten)]
        db: Db,
        project: String,
        file: PathBuf,
    },
    /// Export the holders (one row per holding, the import's columns plus scenario and decision).
    Export {
        #[command(flatten)]
        db: Db,
        project: String,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print every consent rule's standing, the smallest set still to sign and the key holdouts.
    Standing {
        #[command(flatten)]
        db: Db,
        project: String,
    },
}

/// An import's answer: how many rows, or each wrong line of the file (nothing was imported).
fn imported(
    file: &Path,
    what: &str,
    code: &str,
    r: std::result::Result<gongzhi_core::import::ImportReport, AppError>,
) -> Result<()> {
    match r {
        Ok(report) => {
            let n = report.added.len() + report.updated.len() + report.unchanged.len();
            println!(
                "imported {n} {what} into {code} from {} ({})",
                file.display(),
                report.summary()
            );
            Ok(())
        }
        Err(e) if !e.items.is_empty() => crate::refused(file, &e.items, "line(s) wrong"),
        Err(e) => Err(e.into()),
    }
}

fn read(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

async fn state(db: &Db) -> Result<AppState> {
    Ok(AppState::lazy(crate::open(db).await?, db.city))
}

pub async fn run(cmd: RegenCommand) -> Result<()> {
    match cmd {
        RegenCommand::Create {
            db,
            code,
            name,
            community,
            config,
        } => {
            let config: ProjectConfig = match config {
                Some(p) => serde_json::from_str(
                    &std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?,
                )
                .with_context(|| format!("{} is not a project configuration", p.display()))?,
                None => ProjectConfig::default(),
            };
            let p = Project::new(&code, &name, &community, config)?;
            service::create_project(&state(&db).await?, None, db.city, p).await?;
            println!("created project {code} in community {community}");
            Ok(())
        }
        RegenCommand::Holders {
            db,
            project: code,
            file,
        } => {
            let bytes = read(&file)?;
            let r = service::import_holders(&state(&db).await?, None, db.city, &code, &bytes).await;
            imported(&file, "holders", &code, r)
        }
        RegenCommand::Resources {
            db,
            project: code,
            file,
        } => {
            let bytes = read(&file)?;
            let r = service::import_resources(&state(&db).await?, None, db.city, &code, &bytes).await;
            imported(&file, "resources", &code, r)
        }
        RegenCommand::Export {
            db,
            project: code,
            output,
        } => {
            let o = service::overview_of(&state(&db).await?, db.city, &code).await?;
            let sink: Box<dyn std::io::Write> = match &output {
                Some(o) => Box::new(std::fs::File::create(o).with_context(|| format!("cannot write {}", o.display()))?),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut w = gongzhi_core::table::CsvWriter::from_writer(sink);
            w.write_record([
                "holder",
                "name",
                "kind",
                "members",
                "contested",
                "representatives",
                "sticking_points",
                "unit",
                "area_m2",
                "common_share",
                "scenario",
                "decision",
            ])?;
            for row in &o.holders {
                let (h, c) = (&row.holder, &row.classification);
                let sticking = h
                    .sticking
                    .iter()
                    .map(|s| format!("{}:{}", s.code, s.severity))
                    .collect::<Vec<_>>()
                    .join(";");
                for g in &h.holdings {
                    w.write_record([
                        h.code.clone(),
                        h.name.clone(),
                        h.kind.as_str().to_owned(),
                        h.members.to_string(),
                        if h.contested { "yes" } else { "no" }.to_owned(),
                        h.representatives.join(";"),
                        sticking.clone(),
                        g.unit.clone(),
                        g.area.to_string(),
                        format!(
                            "{}.{:06}",
                            g.common_share_ppm / 1_000_000,
                            g.common_share_ppm % 1_000_000
                        ),
                        c.scenario.as_str().to_owned(),
                        row.decision.map(|d| d.as_str()).unwrap_or("").to_owned(),
                    ])?;
                }
            }
            w.flush()?;
            eprintln!("exported {} holders of {code}", o.holders.len());
            Ok(())
        }
        RegenCommand::Standing { db, project: code } => {
            let o = service::overview_of(&state(&db).await?, db.city, &code).await?;
            let p = &o.project;
            let holders: Vec<_> = o.holders.iter().map(|h| h.holder.clone()).collect();
            let records: Vec<_> = o.decisions.iter().map(|d| d.record.clone()).collect();
            let e = electorate(&holders, &positions(&records))?;
            for r in &p.config.rules {
                let started = std::time::Instant::now();
                let s = standing(r, &e);
                let took = started.elapsed();
                println!("{} — {}", r.id, if s.met { "met" } else { "not met" });
                println!("  {}", s.explanation.en);
                if let Some(set) = &s.smallest_set {
                    println!(
                        "  smallest set still to sign: {} holder(s), {} m²",
                        set.holders.len(),
                        set.area
                    );
                }
                let holdouts: Vec<&str> = s.key_holdouts.iter().take(10).map(|k| k.id.as_str()).collect();
                if !holdouts.is_empty() {
                    println!("  key holdouts: {}", holdouts.join(", "));
                }
                println!(
                    "  computed in {:.1} ms for {} holders",
                    took.as_secs_f64() * 1000.0,
                    holders.len()
                );
            }
            Ok(())
        }
    }
}
