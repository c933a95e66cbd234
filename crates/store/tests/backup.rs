//! Backup while writes run, check and restore (SQLite; PostgreSQL is backed up with pg_dump).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gongzhi_store::backup::{check_backup, restore};
use gongzhi_store::prelude::*;
use gongzhi_store::{NewPerson, Store};
use gongzhi_testkit::{demo_db_in, fresh_db, postgres_url};
use sqlx::any::AnyPoolOptions;

const CITY: CityCode = CityCode::of("510100");

fn person(n: u64) -> NewPerson {
    NewPerson {
        name: format!("备份测试 {n}"),
        phone: None,
        org: None,
        grants: vec![],
        account: None,
    }
}

async fn scalar(store_url: &str, sql: &str) -> i64 {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(store_url)
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn a_backup_during_writes_is_one_instant_and_a_quiet_one_equals_the_database_table_by_table() {
    let dir = tempfile::tempdir().unwrap();
    if postgres_url().is_some() {
        let db = fresh_db().await;
        let e = db.store.backup_to(&dir.path().join("pg.db")).await.unwrap_err();
        assert!(e.to_string().contains("pg_dump"), "{e}");
        return;
    }
    let db = demo_db_in(dir.path()).await;
    let people_before = scalar(&db.url, "SELECT COUNT(*) FROM people").await;

    // Writes go on while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (db.store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                store.create_person(CITY, &person(n), None).await.unwrap();
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let during = db.store.backup_to(&dir.path().join("during.db")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 0);

    // One instant: every person in the copy has their creation event, and no event lacks its person.
    let url = format!("sqlite://{}", during.file.display());
    let people = scalar(&url, "SELECT COUNT(*) FROM people").await;
    let created = scalar(&url, "SELECT COUNT(*) FROM events WHERE kind = 'person_created'").await;
    assert_eq!(people, created, "the backup holds whole transactions only");
    assert!(people >= people_before);
    assert!(!dir
        .path()
        .read_dir()
        .unwrap()
        .any(|f| f.unwrap().file_name().to_string_lossy().contains(".partial-")));

    // A quiet backup equals the live database, row for row, in every table.
    let quiet = db.store.backup_to(&dir.path().join("quiet.db")).await.unwrap();
    assert!(quiet.tables.iter().any(|t| t.0 == "cases") && quiet.tables.iter().any(|t| t.0 == "events"));
    let pool = AnyPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    sqlx::query("ATTACH DATABASE $1 AS copy")
        .bind(quiet.file.to_str().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    for (table, rows) in &quiet.tables {
        let (live,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM main.\"{table}\""))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(live, *rows, "{table}: rows");
        for (a, b) in [("main", "copy"), ("copy", "main")] {
            let (differ,): (i64,) = sqlx::query_as(&format!(
                "SELECT COUNT(*) FROM (SELECT * FROM {a}.\"{table}\" EXCEPT SELECT * FROM {b}.\"{table}\")"
            ))
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(differ, 0, "{table}: rows of {a} missing from {b}");
        }
    }
    pool.close().await;

    // A backup never overwrites.
    let e = db.store.backup_to(&quiet.file).await.unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");

    // Restore into a new place, and over an existing database (which is kept).
    let target = format!("sqlite://{}", dir.path().join("restored.db").display());
    let r = restore(&quiet.file, &target).await.unwrap();
    assert!(r.previous.is_none());
    let restored = Store::connect(&target).await.unwrap();
    assert_eq!(
        restored.people(CITY, 0, 1_000_000).await.unwrap().len() as i64,
        people_before + written as i64
    );
    restored.create_person(CITY, &person(0), None).await.unwrap();
    drop(restored);
    let r = restore(&quiet.file, &target).await.unwrap();
    let kept = r.previous.expect("the replaced database is kept");
    let kept_people = scalar(&format!("sqlite://{}", kept.display()), "SELECT COUNT(*) FROM people").await;
    assert_eq!(kept_people, people_before + written as i64 + 1);

    // Not a backup: refused, and the database in place is untouched.
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, b"SQLite format 3\0 but not really").unwrap();
    assert!(check_backup(&bad).await.is_err());
    assert!(restore(&bad, &target).await.is_err());
    assert_eq!(
        check_backup(&dir.path().join("restored.db")).await.unwrap().rows(),
        quiet.rows()
    );
}
