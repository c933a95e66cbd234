//! `gongzhi renewal needs import|export|cluster`: a community's micro-renewal needs (the one
//! needs list) from and to CSV/XLSX, all or nothing with line numbers, and the clustering run;
//! `gongzhi bench renewal-cluster`: the clustering on a generated city of needs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_app::renewal_needs::EXPORT_COLUMNS;
use gongzhi_app::AppState;
use gongzhi_core::renewal::cluster::{self, ClusterParams};
use gongzhi_core::renewal::synth;

use crate::Db;

#[derive(Subcommand)]
pub enum RenewalCommand {
    /// Micro-renewal needs of a community: import, export, cluster.
    #[command(subcommand)]
    Needs(NeedsCommand),
}

#[derive(Subcommand)]
pub enum NeedsCommand {
    /// Import a community's needs from CSV (UTF-8) or XLSX, all rows or none: columns category,
    /// text, lng, lat (WGS-84) and optionally urgency, source (meeting by default, or visit),
    /// group. Each point must lie in the community; wrong lines are listed with their number.
    Import {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        community: String,
        file: PathBuf,
        /// Run the clustering afterwards.
        #[arg(long)]
        cluster: bool,
    },
    /// Export a community's needs (id, area, status, category, text, lng, lat, urgency, source,
    /// group, cluster, evidence) as CSV (stdout without -o) or XLSX (-o FILE.xlsx).
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        community: String,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Run the clustering over a community's needs (new needs join clusters or form new ones).
    Cluster {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        community: String,
    },
}

async fn state(db: &Db, community: &str) -> Result<AppState> {
    let store = crate::open(db).await?;
    let state = AppState::lazy(store, db.city);
    gongzhi_app::renewal_needs::community(&state, db.city, community).await?;
    Ok(state)
}

fn refused(file: &std::path::Path, errors: &[String]) -> anyhow::Error {
    let mut msg = format!("{} refused, nothing stored:", file.display());
    for e in errors {
        msg.push_str(&format!("\n  {e}"));
    }
    anyhow::anyhow!(msg)
}

pub async fn run(cmd: RenewalCommand) -> Result<()> {
    let RenewalCommand::Needs(cmd) = cmd;
    match cmd {
        NeedsCommand::Import {
            db,
            community,
            file,
            cluster,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let s = state(&db, &community).await?;
            let r = gongzhi_app::renewal_needs::import_needs(&s, db.city, &community, &bytes)
                .await
                .map_err(|e| {
                    if e.items.is_empty() {
                        e.into()
                    } else {
                        refused(&file, &e.items)
                    }
                })?;
            println!(
                "imported {} needs into community {community} from {} ({})",
                r.ids.len(),
                file.display(),
                r.report.summary()
            );
            if cluster {
                let r = gongzhi_app::renewal_needs::run_clustering(&s, db.city, &community, None).await?;
                println!("clustering: {} new clusters, {} active", r.created.len(), r.clusters);
            }
            Ok(())
        }
        NeedsCommand::Export { db, community, output } => {
            let s = state(&db, &community).await?;
            let rows = gongzhi_app::renewal_needs::export_needs(&s, db.city, &community).await?;
            write(&rows, output.as_deref())?;
            Ok(())
        }
        NeedsCommand::Cluster { db, community } => {
            let s = state(&db, &community).await?;
            let r = gongzhi_app::renewal_needs::run_clustering(&s, db.city, &community, None).await?;
            println!(
                "{} new clusters, {} groups of new needs added to clusters, {} active clusters",
                r.created.len(),
                r.added.len(),
                r.clusters
            );
            Ok(())
        }
    }
}

fn write(rows: &[Vec<String>], output: Option<&std::path::Path>) -> Result<()> {
    let xlsx = output.is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")));
    if xlsx {
        let path = output.context("an XLSX export needs a file")?;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("needs")?;
        for (i, h) in EXPORT_COLUMNS.iter().enumerate() {
            sheet.write_string(0, i as u16, *h)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, i as u16, v)?;
            }
        }
        book.save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(());
    }
    let mut w = gongzhi_core::table::CsvWriter::from_writer(Vec::new());
    w.write_record(EXPORT_COLUMNS)?;
    for row in rows {
        w.write_record(row)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    match output {
        Some(p) => std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?,
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}

/// The clustering on `n` generated needs spread over a city (the block index keeps it near
/// linear). Prints the time, needs per second and the clusters; the last line is JSON.
pub fn bench(n: usize, side_km: f64, seed: u64) -> Result<()> {
    if n == 0 {
        bail!("--needs: give at least 1 need");
    }
    let needs = synth::city(n, side_km, seed);
    let params = ClusterParams::default();
    // Warm the segmenter's dictionary outside the timing.
    let _ = cluster::words("路灯");
    let t = Instant::now();
    let groups = cluster::cluster(&needs, &params);
    let secs = t.elapsed().as_secs_f64();
    let per_s = needs.len() as f64 / secs.max(1e-9);
    println!(
        "clustered {} needs over {side_km} km × {side_km} km into {} clusters in {:.3} s ({:.0} needs/s)",
        needs.len(),
        groups.len(),
        secs,
        per_s
    );
    println!(
        "{}",
        serde_json::json!({ "needs": needs.len(), "clusters": groups.len(), "seconds": secs, "needs_per_s": per_s.round() })
    );
    Ok(())
}
