//! `gongzhi initiative …`: register a wicked-problem initiative's units and parties from files,
//! as a member of its back stage (units) or of either stage (parties), with the same checks as
//! the API: all or nothing, wrong lines listed.

use gongzhi_store::prelude::*;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_core::premises;
use gongzhi_core::table::{LineError, Table};
use gongzhi_core::wicked::{self, Side};
use gongzhi_store::{Store, StoreError};

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

fn refused<T>(file: &Path, errors: &[LineError]) -> Result<T> {
    eprintln!("{}: refused, nothing was imported:", file.display());
    for e in errors {
        eprintln!("  {e}");
    }
    bail!("{} line(s) wrong", errors.len())
}

/// The member, their side and the initiative at its version.
async fn member(store: &Store, city: &str, id: i64, user: &str) -> Result<(i64, Side, wicked::Initiative, i64)> {
    let account = store
        .account(user)
        .await?
        .with_context(|| format!("there is no account {user}"))?;
    let (i, version) = store
        .initiative(city, id)
        .await?
        .with_context(|| format!("there is no initiative {id} in city {city}"))?;
    let side = i
        .side_of(account.person_id)
        .with_context(|| format!("{user} is not a member of initiative {id}"))?;
    Ok((account.person_id, side, i, version))
}

fn table(file: &Path) -> Result<std::result::Result<Table, LineError>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(Table::from_bytes(&bytes))
}

pub async fn run(cmd: InitiativeCommand) -> Result<()> {
    match cmd {
        InitiativeCommand::Units { db, id, user, file } => {
            let store = crate::open(&db).await?;
            let (person, side, i, version) = member(&store, &db.city, id, &user).await?;
            if side != Side::Back {
                bail!("the back stage registers the initiative's units; {user} works on the front stage");
            }
            let t = match table(&file)? {
                Ok(t) => t,
                Err(e) => return refused(&file, &[e]),
            };
            let parsed = match premises::parse_premises(&t) {
                Ok(p) => p,
                Err(errors) => return refused(&file, &errors),
            };
            let event = match wicked::units_from_premises(&parsed, &i.community) {
                Ok(e) => e,
                Err(errors) => return refused(&file, &errors),
            };
            match store.import_premises(&db.city, &parsed, Some(person)).await {
                Ok(_) => {}
                Err(StoreError::Lines(errors)) => return refused(&file, &errors),
                Err(e) => return Err(e.into()),
            }
            let i = store
                .record_initiative(&db.city, id, version, side, person, &[event])
                .await?;
            println!("initiative {id}: {} units registered", i.units.len());
            Ok(())
        }
        InitiativeCommand::Parties { db, id, user, file } => {
            let store = crate::open(&db).await?;
            let (person, side, i, version) = member(&store, &db.city, id, &user).await?;
            let t = match table(&file)? {
                Ok(t) => t,
                Err(e) => return refused(&file, &[e]),
            };
            let events = match i.parties_from(&t) {
                Ok(e) => e,
                Err(errors) => return refused(&file, &errors),
            };
            let i = store
                .record_initiative(&db.city, id, version, side, person, &events)
                .await?;
            println!("initiative {id}: {} parties registered", i.parties.len());
            Ok(())
        }
    }
}
