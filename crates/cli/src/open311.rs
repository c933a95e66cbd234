//! `gongzhi open311 …`: keys for Open311 GeoReport v2 client applications.

use anyhow::Result;
use clap::Subcommand;

use crate::Db;

#[derive(Subcommand)]
pub enum Open311Command {
    /// Create an API key for a client application. The client gets its own person ("Open311
    /// 客户端 LABEL") with the role resident in the whole city: it may report, nothing more; its
    /// requests enter the case loop with source `api`. Prints the key (only once) on stdout.
    Key {
        #[command(flatten)]
        db: Db,
        /// A name for the client application, e.g. the app or the partner it belongs to.
        #[arg(long)]
        label: String,
    },
}

pub async fn run(cmd: Open311Command) -> Result<()> {
    match cmd {
        Open311Command::Key { db, label } => {
            let store = crate::open(&db).await?;
            let state = gongzhi_app::AppState::lazy(store, db.city);
            let key = gongzhi_app::open311::create_key(&state, db.city, &label).await?;
            eprintln!(
                "Open311 key for '{}' in city {} (shown once; pass it as api_key to POST /open311/v2/requests.json):",
                label.trim(),
                db.city
            );
            println!("{key}");
            Ok(())
        }
    }
}
