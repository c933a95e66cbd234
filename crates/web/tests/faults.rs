//! Faults an operator meets: the disk fills up under the running server; the server stops
//! while a scheduled backup is being written. (The `gongzhi` process killed, stopped and backed
//! up under load: crates/cli/tests/process_faults.rs.)
//!
//! These tests mount a small tmpfs (they need root, as CI has) and run only when
//! `GONGZHI_FAULTS=1` (`tests/faults/run.sh`, called by `.ci/run`); a plain `cargo test` skips
//! them with a notice.

use gongzhi_core::ids::CaseId;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use gongzhi_store::prelude::*;
use gongzhi_testkit::{demo_db_in, postgres_url, small_demo, TestApp};
use serde_json::{json, Value};

fn enabled(test: &str) -> bool {
    if std::env::var("GONGZHI_FAULTS").as_deref() != Ok("1") {
        eprintln!("{test}: skipped (set GONGZHI_FAULTS=1 and run as root: tests/faults/run.sh)");
        return false;
    }
    if postgres_url().is_some() {
        eprintln!("{test}: skipped on PostgreSQL (a round on the SQLite file: its disk, its scheduled backups)");
        return false;
    }
    true
}

/// A tmpfs of `mib` MiB mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> SmallDisk {
        let dir = tempfile::tempdir().expect("temp dir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(ok.success(), "mounting a tmpfs needs root (GONGZHI_FAULTS=1 is set)");
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill the disk with a file until no byte is left; the file's path back.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let mut small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        small.truncate(1);
        while f.write_all(&small).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn point_in_first_grid() -> (f64, f64) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0)
}

async fn report(app: &TestApp, token: &str, n: usize) -> (u16, Value) {
    let (lng, lat) = point_in_first_grid();
    app.send(
        "POST",
        "/api/cases",
        Some(token),
        json!({"condition": "C0105-02", "description": format!("磁盘测试 第{n}件 井盖破损"), "lng": lng, "lat": lat, "register": false}),
    )
    .await
}

/// A full disk never turns into a lost write: every case answered 201 is stored, a write that
/// cannot be stored is answered 503 with a clear message (never 2xx), reads keep working, the
/// health check says the disk is full, and once space returns the server takes writes again
/// by itself, on every pooled connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_loses_no_acknowledged_write_and_service_resumes_by_itself() {
    if !enabled("a_full_disk_loses_no_acknowledged_write_and_service_resumes_by_itself") {
        return;
    }
    let disk = SmallDisk::mount(48);
    let db = demo_db_in(disk.path()).await;
    let url = db.url.clone();
    let app = TestApp::spawn_on(db).await;
    let resident = app.token("resident").await;
    let (s, v) = app.get("/api/health", None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")), "{v}");
    assert!(v["disk_free_bytes"].as_u64().unwrap_or(0) > 1_000_000, "{v}");

    let filler = disk.fill();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    // Four at a time, so that every pooled connection meets the full disk.
    for round in 0..40 {
        let n = round * 4;
        let (a, b, c, d) = tokio::join!(
            report(&app, &resident, n),
            report(&app, &resident, n + 1),
            report(&app, &resident, n + 2),
            report(&app, &resident, n + 3)
        );
        for (s, v) in [a, b, c, d] {
            match s {
                201 => acknowledged.push(v["case"]["case"]["id"].as_i64().expect("id")),
                503 => {
                    refused += 1;
                    assert_eq!(v["code"], "unavailable", "{v}");
                    assert!(v["message"].as_str().unwrap_or("").contains("disk"), "{v}");
                }
                other => panic!("a write on a full disk must be 201 or 503, got {other}: {v}"),
            }
        }
    }
    eprintln!(
        "disk full: {} cases acknowledged, {refused} refused with 503",
        acknowledged.len()
    );
    assert!(refused > 0, "the disk never filled up");
    let (s, v) = app.get("/api/health", None).await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["status"], "disk_full", "{v}");
    // Reads keep working while the disk is full.
    let (s, _) = app.get("/api/cases", Some(&resident)).await;
    assert_eq!(s, 200);

    // Space returns: every pooled connection writes again, without a restart.
    std::fs::remove_file(filler).expect("remove filler");
    let mut after = Vec::new();
    for n in 0..12 {
        let (s, v) = report(&app, &resident, 1000 + n).await;
        assert_eq!(s, 201, "writes resume once space returns: {v}");
        after.push(v["case"]["case"]["id"].as_i64().expect("id"));
    }
    let (s, v) = app.get("/api/health", None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")), "{v}");

    // Every acknowledged case is stored, as a second process opening the file sees it.
    let other = gongzhi_store::Store::connect(&url).await.expect("reopen");
    for id in acknowledged.iter().chain(&after) {
        assert!(
            other
                .case(gongzhi_demo::CITY, CaseId(*id))
                .await
                .expect("read")
                .is_some(),
            "case {id} was answered 201 but is not stored"
        );
    }
    other.close().await;
}

/// Stopping the server while a scheduled backup is being written waits for that backup: it
/// ends whole and sound under its name, no partial file is left, and no new one starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_waits_for_the_scheduled_backup_in_progress() {
    if !enabled("stopping_the_server_waits_for_the_scheduled_backup_in_progress") {
        return;
    }
    let db = gongzhi_testkit::demo_db().await;
    let state = gongzhi_web::AppState::new(db.store.clone(), gongzhi_demo::CITY)
        .await
        .expect("state");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut shutdown = gongzhi_web::Shutdown::new(std::time::Duration::from_secs(5));
    shutdown.spawn_backups(
        state.clone(),
        dir.path().to_owned(),
        std::time::Duration::from_millis(100),
        1000,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gongzhi_web::serve_until(listener, state, shutdown, async move {
        let _ = stopped.await;
    }));
    // Stop the moment a backup is being written (its partial file is there).
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default()
    };
    let started = std::time::Instant::now();
    let in_progress = loop {
        if let Some(p) = names(dir.path()).into_iter().find(|n| n.contains(".partial-")) {
            break p;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no backup was seen in progress"
        );
        tokio::time::sleep(std::time::Duration::from_micros(500)).await;
    };
    stop.send(()).expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .expect("the server stopped")
        .expect("no panic")
        .expect("served");
    let after = names(dir.path());
    assert!(
        after.iter().all(|n| !n.contains(".partial-")),
        "a partial backup was left: {after:?}"
    );
    let finished = in_progress.split(".partial-").next().unwrap().to_owned();
    assert!(
        after.contains(&finished),
        "the backup in progress ({in_progress}) was not finished: {after:?}"
    );
    for name in &after {
        gongzhi_app::operations::check(&dir.path().join(name))
            .await
            .unwrap_or_else(|e| panic!("{name} is not a sound backup: {e}"));
    }
    // Nothing more is written after the server stopped.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(names(dir.path()).len(), after.len(), "a backup started after the stop");
    eprintln!(
        "stopped during backup {in_progress}: it finished whole; {} sound backups, none partial",
        after.len()
    );
}
