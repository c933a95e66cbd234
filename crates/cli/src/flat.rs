//! `gongzhi replay --hierarchy …` (the what-if replay) and `gongzhi flat …` (responsibility lists:
//! export, import, check).

use gongzhi_core::territory::CityCode;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use gongzhi_app::AppState;
use gongzhi_core::territory::Hierarchy;
use gongzhi_core::whatif::Assumptions;
use gongzhi_store::Store;

use crate::Db;

#[derive(Subcommand)]
pub enum FlatCommand {
    /// Write the responsibility lists (权责清单) to a CSV or XLSX file (by its extension).
    Export {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// Replace the responsibility lists from a CSV or XLSX file (all-or-nothing), then check.
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// Check the dispatch catalogue against the lists: conflicts, gaps, push-downs.
    Check {
        #[command(flatten)]
        db: Db,
    },
}

fn is_xlsx(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

pub async fn run(cmd: FlatCommand) -> Result<()> {
    use crate::open;
    match cmd {
        FlatCommand::Export { db, file } => {
            let state = AppState::lazy(open(&db).await?, db.city);
            let (_, list) = gongzhi_app::flat::responsibilities(&state, db.city).await?;
            let bytes = if is_xlsx(&file) {
                gongzhi_app::flat::list_xlsx(&list)?
            } else {
                list.to_csv().into_bytes()
            };
            std::fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
            println!("wrote {} matters to {}", list.len(), file.display());
            Ok(())
        }
        FlatCommand::Import { db, file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let state = AppState::lazy(open(&db).await?, db.city);
            let (v, list) = gongzhi_app::flat::save_list(&state, db.city, None, &bytes, is_xlsx(&file))
                .await
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            println!("stored {} matters (version {v})", list.len());
            print_check(&state, db.city).await
        }
        FlatCommand::Check { db } => {
            let state = AppState::lazy(open(&db).await?, db.city);
            print_check(&state, db.city).await
        }
    }
}

async fn print_check(state: &AppState, city: CityCode) -> Result<()> {
    let r = gongzhi_app::flat::check(state, city).await?;
    println!(
        "conflicts (职责交叉): {}, gaps (职责空白): {}, push-downs (部门事项派给基层): {}",
        r.conflicts.len(),
        r.gaps.len(),
        r.push_downs.len()
    );
    for c in r.conflicts.iter().take(20) {
        println!(
            "  conflict  {} {} @{}: {}",
            c.category,
            c.name,
            c.area,
            c.owners.join(" | ")
        );
    }
    for g in r.gaps.iter().take(20) {
        println!("  gap       {} {} @{}", g.category, g.name, g.area);
    }
    for p in r.push_downs.iter().take(20) {
        println!(
            "  push-down {} {} @{}: catalogue → {}, list → {}",
            p.condition, p.name, p.area, p.dispatched_to, p.owner
        );
    }
    Ok(())
}

/// `gongzhi replay --hierarchy flat|layered --from … --to …`.
pub async fn replay(
    store: Store,
    city: CityCode,
    hierarchy: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    a: Assumptions,
) -> Result<()> {
    let started = Instant::now();
    let h = Hierarchy::parse(hierarchy).map_err(|e| anyhow!("--hierarchy: {e}"))?;
    let (default_from, default_to) = crate::replay::last_year();
    let (from, to) = (from.unwrap_or(default_from), to.unwrap_or(default_to));
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let state = AppState::lazy(store, city);
    let r = gongzhi_app::flat::replay(&state, city, &h, from, to, &a).await?;
    println!(
        "what-if replay {from} … {to}: {} cases re-run ({} left out: never dispatched or outside every community); configured hierarchy: {}",
        r.cases, r.skipped, r.configured
    );
    let [(n1, o1), (n2, o2)] = [&r.columns[0], &r.columns[1]];
    let rows: [(&str, String, String); 7] = [
        ("hierarchy 层级", n1.clone(), n2.clone()),
        (
            "hops per case 转派层次/件",
            format!("{:.2}", o1.hops_per_case),
            format!("{:.2}", o2.hops_per_case),
        ),
        (
            "hours to acting unit 到达承办单位(小时)",
            format!("{:.2}", o1.hours_to_reach),
            format!("{:.2}", o2.hours_to_reach),
        ),
        (
            "hours to handled 处置完成(小时)",
            format!("{:.2}", o1.hours_to_handled),
            format!("{:.2}", o2.hours_to_handled),
        ),
        (
            "on-time rate 按期率",
            format!("{:.2} %", o1.on_time_rate * 100.0),
            format!("{:.2} %", o2.on_time_rate * 100.0),
        ),
        (
            "grassroots cases / workers 基层案件/人员",
            format!("{} / {}", o1.grassroots_cases, o1.grassroots_workers),
            format!("{} / {}", o2.grassroots_cases, o2.grassroots_workers),
        ),
        (
            "load per grassroots worker 基层人均",
            format!("{:.1}", o1.load_per_grassroots_worker),
            format!("{:.1}", o2.load_per_grassroots_worker),
        ),
    ];
    for (label, a, b) in rows {
        println!("  {label:<44} {a:>14} {b:>14}");
    }
    println!("assumptions (模型假设):");
    for line in &r.assumptions {
        println!("  - {line}");
    }
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
