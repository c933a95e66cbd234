//! `gongzhi regen …`: urban regeneration projects — create one, import its holders and governance
//! resources (CSV/XLSX, all or nothing), export its holders with their scenario and decision, and
//! print every consent rule's standing.

use gongzhi_store::prelude::*;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_core::decision::standing;
use gongzhi_core::regen::import::{parse_holders, parse_resources};
use gongzhi_core::regen::{electorate, positions, Project, ProjectConfig};
use gongzhi_core::table::{LineError, Table};
use gongzhi_store::{Store, StoreError};

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

fn refused<T>(file: &Path, errors: &[LineError]) -> Result<T> {
    eprintln!("{}: refused, nothing was imported:", file.display());
    for e in errors {
        eprintln!("  {e}");
    }
    bail!("{} line(s) wrong", errors.len())
}

fn table(file: &Path) -> Result<std::result::Result<Table, LineError>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(Table::from_bytes(&bytes))
}

async fn project(store: &Store, city: &str, code: &str) -> Result<Project> {
    Ok(store.regen_project_or_404(city, code).await?)
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
            let store = crate::open(&db).await?;
            store.create_regen_project(&db.city, &p, None).await?;
            println!("created project {code} in community {community}");
            Ok(())
        }
        RegenCommand::Holders {
            db,
            project: code,
            file,
        } => {
            let store = crate::open(&db).await?;
            let p = project(&store, &db.city, &code).await?;
            let t = match table(&file)? {
                Ok(t) => t,
                Err(e) => return refused(&file, &[e]),
            };
            let holders = match parse_holders(&t, &p.config.catalogue) {
                Ok(h) => h,
                Err(errors) => return refused(&file, &errors),
            };
            match store.import_regen_holders(&db.city, &code, &holders, None).await {
                Ok(n) => {
                    println!("imported {n} holders into {code} from {}", file.display());
                    Ok(())
                }
                Err(StoreError::Lines(errors)) => refused(&file, &errors),
                Err(e) => Err(e.into()),
            }
        }
        RegenCommand::Resources {
            db,
            project: code,
            file,
        } => {
            let store = crate::open(&db).await?;
            let p = project(&store, &db.city, &code).await?;
            let t = match table(&file)? {
                Ok(t) => t,
                Err(e) => return refused(&file, &[e]),
            };
            let resources = match parse_resources(&t, &p.config.catalogue) {
                Ok(r) => r,
                Err(errors) => return refused(&file, &errors),
            };
            let n = store.import_regen_resources(&db.city, &code, &resources, None).await?;
            println!("imported {n} resources into {code} from {}", file.display());
            Ok(())
        }
        RegenCommand::Export {
            db,
            project: code,
            output,
        } => {
            let store = crate::open(&db).await?;
            let p = project(&store, &db.city, &code).await?;
            let holders = store.regen_holders(&db.city, &code).await?;
            let records: Vec<_> = store
                .regen_decisions(&db.city, &code)
                .await?
                .into_iter()
                .map(|d| d.record)
                .collect();
            let current = positions(&records);
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
            for h in &holders {
                let c = p.config.scenario_rule.classify(h);
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
                        current.get(&h.code).map(|d| d.as_str()).unwrap_or("").to_owned(),
                    ])?;
                }
            }
            w.flush()?;
            eprintln!("exported {} holders of {code}", holders.len());
            Ok(())
        }
        RegenCommand::Standing { db, project: code } => {
            let store = crate::open(&db).await?;
            let p = project(&store, &db.city, &code).await?;
            let holders = store.regen_holders(&db.city, &code).await?;
            let records: Vec<_> = store
                .regen_decisions(&db.city, &code)
                .await?
                .into_iter()
                .map(|d| d.record)
                .collect();
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
