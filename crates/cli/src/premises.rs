//! `gongzhi premises …`: the buildings and units register, imported from and exported to CSV.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_app::AppState;
use gongzhi_core::premises::COLUMNS;

use crate::Db;

#[derive(Subcommand)]
pub enum PremisesCommand {
    /// Import buildings and units from a CSV (UTF-8) or XLSX file: one row per unit with the
    /// building's columns repeated (building, building_name, community, grid, address, lng, lat,
    /// floors, unit, label, floor, area_m2, use). All or nothing: wrong lines are listed.
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// Export the buildings and units of a community (or grid) as CSV, in the import's columns.
    Export {
        #[command(flatten)]
        db: Db,
        /// A community code (12 digits) or grid code.
        #[arg(long)]
        within: String,
        /// Output file; default standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

pub async fn run(cmd: PremisesCommand) -> Result<()> {
    match cmd {
        PremisesCommand::Import { db, file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let state = AppState::lazy(crate::open(&db).await?, db.city);
            match gongzhi_app::premises::import(&state, None, db.city, &bytes).await {
                Ok(n) => {
                    println!(
                        "imported {} buildings and {} units from {}",
                        n.buildings,
                        n.units,
                        file.display()
                    );
                    Ok(())
                }
                Err(e) if !e.items.is_empty() => crate::refused(&file, &e.items, "line(s) wrong"),
                Err(e) => Err(e.into()),
            }
        }
        PremisesCommand::Export { db, within, output } => {
            let state = AppState::lazy(crate::open(&db).await?, db.city);
            let buildings = gongzhi_app::premises::register_of(&state, db.city, &within).await?;
            if buildings.is_empty() {
                bail!("no buildings are registered in {within}");
            }
            let sink: Box<dyn std::io::Write> = match &output {
                Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut w = gongzhi_core::table::CsvWriter::from_writer(sink);
            w.write_record(COLUMNS)?;
            let mut units_written = 0;
            for (b, units) in &buildings {
                let head = [
                    b.code.clone(),
                    b.name.clone(),
                    b.community.to_string(),
                    b.grid.as_ref().map(|g| g.to_string()).unwrap_or_default(),
                    b.address.clone().unwrap_or_default(),
                    b.lng.map(|v| v.to_string()).unwrap_or_default(),
                    b.lat.map(|v| v.to_string()).unwrap_or_default(),
                    b.floors.map(|v| v.to_string()).unwrap_or_default(),
                ];
                if units.is_empty() {
                    w.write_record(head.iter().cloned().chain(std::iter::repeat_n(String::new(), 5)))?;
                }
                for u in units {
                    let tail = [
                        u.code.clone(),
                        u.label.clone(),
                        u.floor.to_string(),
                        u.area.to_string(),
                        u.use_.as_str().to_owned(),
                    ];
                    w.write_record(head.iter().cloned().chain(tail))?;
                    units_written += 1;
                }
            }
            w.flush()?;
            eprintln!(
                "exported {} buildings and {units_written} units of {within}",
                buildings.len()
            );
            Ok(())
        }
    }
}
