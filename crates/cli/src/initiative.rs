//! `gongzhi initiative …`: register a wicked-problem initiative's units and parties from files,
//! as a member of its back stage (units) or of either stage (parties), with the same checks as
//! the API: all or nothing, wrong lines listed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_app::initiatives::{self as app, Member};
use gongzhi_app::{AppError, AppState};

use crate::Db;

#[derive(Subcommand)]
pub enum InitiativeCommand {
    /// Register the initiative's units from a premises file (CSV or XLSX, the premises columns);
    /// they are stored in the premises register too. Back stage only.
    Units {
        #[command(flatten)]
        db: Db,
        /// The initiative's id.
        #[arg(long)]
        id: i64,
        /// The account of the member who records it (a back-stage member).
        #[arg(long = "as")]
        user: String,
        file: PathBuf,
    },
    /// Register parties from a CSV or XLSX file with columns name, kind, units (codes split by `;`).
    Parties {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        id: i64,
        #[arg(long = "as")]
        user: String,
        file: PathBuf,
    },
}

fn refused<T>(file: &Path, errors: &[String]) -> Result<T> {
    eprintln!("{}: refused, nothing was imported:", file.display());
    for e in errors {
        eprintln!("  {e}");
    }
    bail!("{} line(s) wrong", errors.len())
}

/// The member who logs in as `user`.
async fn member(db: &Db, id: i64, user: &str) -> Result<(AppState, Member)> {
    let s = AppState::lazy(crate::open(db).await?, db.city);
    let m = app::member_by_account(&s, db.city, id, user).await?;
    Ok((s, m))
}

fn read(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// A refusal: each wrong line of the file, or the message.
fn failed<T>(file: &Path, e: AppError) -> Result<T> {
    if e.items.is_empty() {
        Err(e.into())
    } else {
        refused(file, &e.items)
    }
}

pub async fn run(cmd: InitiativeCommand) -> Result<()> {
    match cmd {
        InitiativeCommand::Units { db, id, user, file } => {
            let (s, m) = member(&db, id, &user).await?;
            m.require_registers_units()?;
            let bytes = read(&file)?;
            let r = match app::register_units(&s, m, &bytes).await {
                Ok(r) => r,
                Err(e) => return failed(&file, e),
            };
            println!(
                "initiative {id}: {} units registered ({})",
                r.initiative.units.len(),
                r.report.summary()
            );
            Ok(())
        }
        InitiativeCommand::Parties { db, id, user, file } => {
            let (s, m) = member(&db, id, &user).await?;
            let bytes = read(&file)?;
            let r = match app::register_parties(&s, m, &bytes).await {
                Ok(r) => r,
                Err(e) => return failed(&file, e),
            };
            println!(
                "initiative {id}: {} parties registered ({})",
                r.initiative.parties.len(),
                r.report.summary()
            );
            Ok(())
        }
    }
}
