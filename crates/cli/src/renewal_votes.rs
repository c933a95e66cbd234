//! `gongzhi renewal vote …`: a participatory-budget vote's ballots as a pabulib `.pb` file
//! (export, import) and its results as CSV or XLSX, with the same checks as the API.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_core::decision::pabulib;
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::renewal::vote::Phase;
use gongzhi_store::{now_ms, Store};

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

async fn closed(store: &Store, city: &str, vote: i64) -> Result<gongzhi_store::renewal::votes::VoteRow> {
    let v = store
        .vote(city, vote)
        .await?
        .with_context(|| format!("there is no vote {vote} in city {city}"))?;
    if v.phase(now_ms()) != Phase::Closed {
        bail!(
            "vote {vote} is still {}: ballots and results are published once it closes",
            v.phase(now_ms()).as_str()
        );
    }
    Ok(v)
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
            let store = crate::open(&db).await?;
            let v = closed(&store, &db.city, vote).await?;
            let ballots = store.ballots(&db.city, vote).await?;
            write_out(&out, pabulib::write(&v.setup.to_pb(&ballots)).as_bytes())
        }
        VoteCommand::Import { db, vote, user, file } => {
            let store = crate::open(&db).await?;
            let account = store
                .account(&user)
                .await?
                .with_context(|| format!("there is no account {user}"))?;
            let principal = store
                .principal(&db.city, account.person_id)
                .await?
                .with_context(|| format!("{user} is not a person of city {}", db.city))?;
            let v = store
                .vote(&db.city, vote)
                .await?
                .with_context(|| format!("there is no vote {vote} in city {}", db.city))?;
            if !gongzhi_web::api::renewal_votes::is_staff(&principal, &v.community) {
                bail!("{user} is not a planner or administrator of community {}", v.community);
            }
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let parsed = pabulib::parse(&text).and_then(|f| v.setup.ballots_from_pb(&text, &f));
            let ballots = match parsed {
                Ok(b) => b,
                Err(e) => bail!(
                    "{}: refused, nothing was imported: line {}: {}",
                    file.display(),
                    e.line,
                    e.message
                ),
            };
            let n = store
                .import_ballots(&db.city, vote, &ballots, account.person_id)
                .await?;
            println!("vote {vote}: {n} ballots imported");
            Ok(())
        }
        VoteCommand::Results {
            db,
            vote,
            rule,
            format,
            out,
        } => {
            let store = crate::open(&db).await?;
            closed(&store, &db.city, vote).await?;
            let rule = rule.map(|r| r.parse::<Rule>()).transpose()?;
            let count = store.vote_count(&db.city, vote, rule).await?;
            match format.as_str() {
                "csv" => write_out(
                    &out,
                    gongzhi_web::api::renewal_votes::results_csv_text(&count).as_bytes(),
                ),
                "xlsx" => {
                    if out == "-" {
                        bail!("give --out FILE.xlsx for an XLSX workbook");
                    }
                    let bytes = gongzhi_web::api::renewal_votes::results_xlsx_bytes(&count)?;
                    write_out(&out, &bytes)
                }
                other => bail!("--format {other}: use csv or xlsx"),
            }
        }
    }
}
