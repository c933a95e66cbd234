//! `gongzhi renewal vote …`: a participatory-budget vote's ballots as a pabulib `.pb` file
//! (export, import) and its results as CSV or XLSX, with the same checks as the API.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;

use crate::Db;

#[derive(Subcommand)]
pub enum VoteCommand {
    /// Write a closed vote's ballots as a pabulib `.pb` file (voter ids are receipts).
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        vote: i64,
        /// Output file; `-` for standard output.
        #[arg(long, default_value = "-")]
        out: String,
    },
    /// Import the ballots of a `.pb` file into a vote, as a staff account; all or nothing.
    Import {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        vote: i64,
        /// The account of the staff member who imports (a planner or administrator of the community).
        #[arg(long = "as")]
        user: String,
        file: PathBuf,
    },
    /// Write a closed vote's results (each project, funded or not, and why) as CSV or XLSX.
    Results {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        vote: i64,
        /// Count under another rule than the vote's: greedy, mes, mes-add1, phragmen.
        #[arg(long)]
        rule: Option<String>,
        /// csv or xlsx.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file; `-` for standard output (CSV only).
        #[arg(long, default_value = "-")]
        out: String,
    },
}

fn write_out(out: &str, bytes: &[u8]) -> Result<()> {
    if out == "-" {
        use std::io::Write;
        std::io::stdout().write_all(bytes)?;
    } else {
        std::fs::write(out, bytes).with_context(|| format!("cannot write {out}"))?;
    }
    Ok(())
}

pub async fn run(cmd: VoteCommand) -> Result<()> {
    match cmd {
        VoteCommand::Export { db, vote, out } => {
            let state = gongzhi_app::AppState::lazy(crate::open(&db).await?, db.city);
            let text = gongzhi_app::renewal_votes::export_pb(&state, db.city, vote).await?;
            write_out(&out, text.as_bytes())
        }
        VoteCommand::Import { db, vote, user, file } => {
            let state = gongzhi_app::AppState::lazy(crate::open(&db).await?, db.city);
            let principal = gongzhi_app::renewal_votes::account_principal(&state, db.city, &user).await?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let n = gongzhi_app::renewal_votes::import_pb(&state, &principal, vote, &text)
                .await
                .map_err(|e| anyhow::anyhow!("{}: refused, nothing was imported: {e}", file.display()))?;
            println!(
                "vote {vote}: {} ballots imported ({})",
                n.added.len() + n.updated.len() + n.unchanged.len(),
                n.summary()
            );
            Ok(())
        }
        VoteCommand::Results {
            db,
            vote,
            rule,
            format,
            out,
        } => {
            let state = gongzhi_app::AppState::lazy(crate::open(&db).await?, db.city);
            let count = gongzhi_app::renewal_votes::count_of(&state, db.city, vote, rule.as_deref()).await?;
            match format.as_str() {
                "csv" => write_out(&out, gongzhi_app::renewal_votes::results_csv_text(&count).as_bytes()),
                "xlsx" => {
                    if out == "-" {
                        bail!("give --out FILE.xlsx for an XLSX workbook");
                    }
                    let bytes = gongzhi_app::renewal_votes::results_xlsx_bytes(&count)?;
                    write_out(&out, &bytes)
                }
                other => bail!("--format {other}: use csv or xlsx"),
            }
        }
    }
}
