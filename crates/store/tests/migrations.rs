//! Released migrations never change (`migrations/released.sha384`, the SHA-384 that sqlx stores
//! for each file), and a database that applied the earlier version of an edited migration
//! still opens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gongzhi_store::{Backend, Store};
use sha2::{Digest, Sha384};
use sqlx::Connection;

const BACKENDS: [&str; 2] = ["sqlite", "postgres"];

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// `backend/file` → hex SHA-384, from `released.sha384`.
fn released() -> BTreeMap<String, String> {
    let path = migrations_dir().join("released.sha384");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut list = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (hash, name) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("released.sha384 line {}: expected '<sha384>  <backend>/<file>'", n + 1));
        assert!(
            hash.len() == 96 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "released.sha384 line {}: '{hash}' is not a SHA-384 in hex",
            n + 1
        );
        let previous = list.insert(name.to_owned(), hash.to_ascii_lowercase());
        assert!(previous.is_none(), "released.sha384 lists {name} twice");
    }
    list
}

/// `backend/file` → hex SHA-384 of the migration files present.
fn present() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for backend in BACKENDS {
        let dir = migrations_dir().join(backend);
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("sql") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read migration");
            let name = format!("{backend}/{}", path.file_name().unwrap().to_string_lossy());
            files.insert(name, hex::encode(Sha384::digest(&bytes)));
        }
    }
    files
}

#[test]
fn released_migrations_are_unchanged() {
    let released = released();
    let present = present();
    let mut problems = Vec::new();
    for (name, hash) in &present {
        match released.get(name) {
            None => problems.push(format!(
                "{name} is not in migrations/released.sha384: a new migration must be appended to the list \
                 (`cd crates/store/migrations && sha384sum {name} >> released.sha384`)"
            )),
            Some(listed) if listed != hash => problems.push(format!(
                "{name} was changed after its release (SHA-384 {hash}, released as {listed}): never edit a \
                 released migration, add a new one (databases that applied it would refuse to open)"
            )),
            Some(_) => {}
        }
    }
    for name in released.keys().filter(|n| !present.contains_key(*n)) {
        problems.push(format!(
            "{name} is listed in migrations/released.sha384 but missing: a released migration must stay"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The list holds the checksums sqlx stores (its migrator hashes the same bytes).
#[test]
fn the_list_is_what_sqlx_stores() {
    let released = released();
    for (backend, migrator) in [
        ("sqlite", sqlx::migrate!("./migrations/sqlite")),
        ("postgres", sqlx::migrate!("./migrations/postgres")),
    ] {
        for m in migrator.iter() {
            let listed = released
                .iter()
                .find(|(name, _)| {
                    name.strip_prefix(backend)
                        .and_then(|rest| rest.strip_prefix('/'))
                        .and_then(|file| file.split_once('_'))
                        .and_then(|(v, _)| v.parse::<i64>().ok())
                        == Some(m.version)
                })
                .map(|(_, hash)| hash.as_str());
            assert_eq!(
                listed,
                Some(hex::encode(&m.checksum).as_str()),
                "{backend} migration {}",
                m.version
            );
        }
    }
}

/// The earlier 0006_flat.sql (commit 7d0ada6, before 140d194 appended the index events_kind_at).
const OLD_0006_SQLITE: &str =
    "3fc109008e8e9c640279540aea440524ace2cc10a67b0d97661793c3348a2145e957c217079e302f7c673fb9ab4f2130";
const OLD_0006_POSTGRES: &str =
    "be60223595312139e5670c6d43737b28956222bd4f534a6935f5cf4f1e843e3d75bfda59c642f1812038ae419a23f037";

async fn stored_checksum(conn: &mut sqlx::AnyConnection, version: i64) -> Vec<u8> {
    sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = $1")
        .bind(version)
        .fetch_one(conn)
        .await
        .expect("stored checksum")
}

async fn has_index(conn: &mut sqlx::AnyConnection, backend: Backend) -> bool {
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_kind_at'",
        Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'events_kind_at'"
        }
    };
    let n: i64 = sqlx::query_scalar(sql).fetch_one(conn).await.expect("count index");
    n == 1
}

#[tokio::test]
async fn a_database_made_before_0006_was_edited_opens() {
    let (url, _dir) = gongzhi_testkit::fresh_url().await;
    let backend = Backend::from_url(&url).expect("backend");
    let (migrator, old) = match backend {
        Backend::Sqlite => (sqlx::migrate!("./migrations/sqlite"), OLD_0006_SQLITE),
        Backend::Postgres => (sqlx::migrate!("./migrations/postgres"), OLD_0006_POSTGRES),
    };
    let current = migrator
        .iter()
        .find(|m| m.version == 6)
        .expect("migration 0006")
        .checksum
        .to_vec();
    let old = hex::decode(old).expect("hex");
    assert_ne!(old, current);

    // A database as commits 7d0ada6..79fb035 made it: the earlier checksum, no events_kind_at.
    Store::connect_before(&url, 100).await.expect("migrate");
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 6")
        .bind(old.clone())
        .execute(&mut conn)
        .await
        .expect("set the old checksum");
    sqlx::query("DROP INDEX events_kind_at")
        .execute(&mut conn)
        .await
        .expect("drop the index");
    assert!(!has_index(&mut conn, backend).await);

    // sqlx alone refuses it.
    let err = migrator
        .run(&mut conn)
        .await
        .expect_err("sqlx refuses an edited migration");
    assert!(
        matches!(err, sqlx::migrate::MigrateError::VersionMismatch(6)),
        "unexpected error: {err}"
    );
    assert_eq!(stored_checksum(&mut conn, 6).await, old);
    conn.close().await.ok();

    // The store repairs it: the missing index, then the current checksum.
    let store = Store::connect(&url).await.expect("the store opens the database");
    store.ping().await.expect("ping");
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    assert_eq!(stored_checksum(&mut conn, 6).await, current);
    assert!(has_index(&mut conn, backend).await, "the repair creates events_kind_at");
    conn.close().await.ok();

    // And again: nothing left to repair.
    drop(store);
    Store::connect(&url).await.expect("opens again");
}

#[tokio::test]
async fn an_unknown_checksum_is_still_refused() {
    let (url, _dir) = gongzhi_testkit::fresh_url().await;
    Store::connect_before(&url, 100).await.expect("migrate");
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 6")
        .bind(vec![0u8; 48])
        .execute(&mut conn)
        .await
        .expect("set a checksum");
    conn.close().await.ok();
    let err = Store::connect(&url).await.expect_err("an unknown edit is refused");
    assert!(err.to_string().contains("modified"), "{err}");
}
