//! Cases in and out of the binary: a replayed period exported as CSV and XLSX, both re-imported,
//! and a bad file refused with its row numbers and nothing stored.

use std::process::Command;

fn gongzhi(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(args)
        .env("GONGZHI_DATABASE", db)
        .env("GONGZHI_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run gongzhi");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The rows of an exported CSV (header first).
fn csv_rows(path: &std::path::Path) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    r.records().map(Result::unwrap).collect()
}

#[test]
fn export_reimport_and_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();

    let (ok, out, err) = gongzhi(&db, &["demo", "--communities", "2", "--cases-per-day", "0"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = gongzhi(
        &db,
        &[
            "demo-cases",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-10",
            "--per-day",
            "12",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("120 cases") && out.contains("returns"), "{out}");

    // The what-if replay of that period: both hierarchies side by side, with the assumptions.
    let (ok, out, err) = gongzhi(
        &db,
        &[
            "replay",
            "--hierarchy",
            "flat",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-10",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("configured hierarchy: layered"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("hierarchy 层级"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("layered") && row.contains("flat"), "{row}");
    assert!(
        out.contains("hops per case") && out.contains("on-time rate") && out.contains("assumptions"),
        "{out}"
    );
    let (ok, out, err) = gongzhi(&db, &["flat", "check"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("conflicts (职责交叉): ") && out.contains("push-down"),
        "{out}"
    );

    // CSV: one row per case of the period asked for, the columns staff need.
    let (ok, out, err) = gongzhi(
        &db,
        &[
            "cases",
            "export",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-04",
            "-o",
            &path("part.csv"),
        ],
    );
    assert!(ok, "{err}");
    let rows = csv_rows(dir.path().join("part.csv").as_path());
    let head: Vec<&str> = rows[0].iter().map(|h| h.trim_start_matches('\u{feff}')).collect();
    assert_eq!(
        head,
        [
            "id",
            "state",
            "source",
            "category",
            "category_name",
            "condition",
            "description",
            "grid",
            "area",
            "lng",
            "lat",
            "unit",
            "deadline",
            "created",
            "closed",
            "close_kind",
            "reworks",
            "returns",
            "extensions",
            "satisfaction"
        ]
    );
    let part = rows.len() - 1;
    assert!(part > 20 && part < 120, "{part} rows");
    assert!(out.contains(&format!("exported {part} cases")), "{out}");
    assert!(rows[1..]
        .iter()
        .all(|r| r[13] >= *"2025-03-01" && r[13] < *"2025-03-05"));
    assert!(rows[1..].iter().any(|r| &r[1] == "evaluated" && !r[19].is_empty()));

    let (ok, _, err) = gongzhi(&db, &["cases", "export", "-o", &path("all.xlsx")]);
    assert!(ok, "{err}");
    let (ok, _, err) = gongzhi(&db, &["cases", "export", "-o", &path("all.csv")]);
    assert!(ok, "{err}");
    assert_eq!(csv_rows(dir.path().join("all.csv").as_path()).len(), 121);

    // Both re-import: new cases at the same places and report times. Rows are keyed by their
    // content (these files have no external_id): the cases of part.csv, in all.xlsx too, are
    // not created a second time (issue 20).
    let (ok, out, err) = gongzhi(&db, &["cases", "import", &path("part.csv")]);
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("imported {part} cases")), "{out}");
    assert!(out.contains(&format!("{part} added, 0 updated, 0 unchanged")), "{out}");
    let (ok, out, err) = gongzhi(&db, &["cases", "import", &path("all.xlsx"), "--register"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("imported 120 cases"), "{out}");
    assert!(
        out.contains(&format!("{} added, 0 updated, {part} unchanged", 120 - part)),
        "{out}"
    );
    let (ok, _, err) = gongzhi(&db, &["cases", "export", "-o", &path("after.csv")]);
    assert!(ok, "{err}");
    let after = csv_rows(dir.path().join("after.csv").as_path());
    assert_eq!(after.len(), 1 + 120 + 120);
    // Imported twice: nothing more.
    let (ok, out, err) = gongzhi(&db, &["cases", "import", &path("all.xlsx"), "--register"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("0 added, 0 updated, 120 unchanged"), "{out}");
    let (ok, _, err) = gongzhi(&db, &["cases", "export", "-o", &path("twice.csv")]);
    assert!(ok, "{err}");
    assert_eq!(csv_rows(dir.path().join("twice.csv").as_path()), after);
    let original = &rows[1];
    let copy = after[121..]
        .iter()
        .find(|r| r[6] == original[6] && r[13] == original[13])
        .expect("the re-imported copy");
    assert_eq!(
        (&copy[2], &copy[3], &copy[5], &copy[7], &copy[9], &copy[10]),
        (
            &original[2],
            &original[3],
            &original[5],
            &original[7],
            &original[9],
            &original[10]
        )
    );
    assert_eq!(&copy[1], "collected");
    assert!(after[121 + part..].iter().all(|r| &r[1] == "registered"));

    // A hotline export keyed by its case numbers: imported twice, each case once; the same
    // number twice in one file is refused naming both rows, storing nothing.
    let hotline = path("hotline.csv");
    std::fs::write(
        &hotline,
        "external_id,condition,description,lng,lat,reported_at\n\
         12345-0001,E0102-01,路边垃圾,103.634,31.0139,2025-03-04 10:00\n\
         12345-0002,E0102-01,路边垃圾,103.634,31.0139,2025-03-04 10:00\n",
    )
    .unwrap();
    let (ok, out, err) = gongzhi(&db, &["cases", "import", &hotline]);
    assert!(ok && out.contains("2 added, 0 updated, 0 unchanged"), "{out}{err}");
    let (ok, out, err) = gongzhi(&db, &["cases", "import", &hotline]);
    assert!(ok && out.contains("0 added, 0 updated, 2 unchanged"), "{out}{err}");
    let twice = path("twice-in-one.csv");
    std::fs::write(
        &twice,
        "external_id,condition,description,lng,lat\n\
         12345-0003,E0102-01,井盖缺失,103.634,31.0139\n\
         12345-0004,E0102-01,井盖缺失,103.634,31.0139\n\
         12345-0003,E0102-01,井盖松动,103.634,31.0139\n",
    )
    .unwrap();
    let (ok, _, err) = gongzhi(&db, &["cases", "import", &twice]);
    assert!(!ok);
    assert!(
        err.lines()
            .any(|l| l.contains("row 4:") && l.contains("same case as row 2")),
        "{err}"
    );
    let (ok, _, err) = gongzhi(&db, &["cases", "export", "-o", &path("hotline-after.csv")]);
    assert!(ok, "{err}");
    let after = csv_rows(dir.path().join("hotline-after.csv").as_path());
    assert_eq!(after.len(), 1 + 120 + 120 + 2, "nothing of the refused file is stored");

    // A bad file: every bad row named, nothing stored.
    let bad = path("bad.csv");
    std::fs::write(
        &bad,
        "condition,description,lng,lat,source,reported_at,contact_name,contact_phone\n\
         E0102-01,路边垃圾,103.634,31.0139,hotline,2025-03-04 10:00,张三,13800138000\n\
         X9999-01,不存在的条件,103.634,31.0139,,,,\n\
         E0102-01,坐标错误,103.634,95,,,,\n\
         E0102-01,电话错误,103.634,31.0139,,,李四,12345\n\
         E0102-01,,103.634,31.0139,,,,\n",
    )
    .unwrap();
    let (ok, _, err) = gongzhi(&db, &["cases", "import", &bad]);
    assert!(!ok);
    assert!(err.contains("nothing was imported"), "{err}");
    for (row, what) in [(3, "condition"), (4, "latitude"), (5, "phone"), (6, "description")] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("row {row}:")) && l.contains(what)),
            "row {row}: {err}"
        );
    }
    assert!(!err.contains("row 2:"), "{err}");
    let (ok, _, err) = gongzhi(&db, &["cases", "export", "-o", &path("final.csv")]);
    assert!(ok, "{err}");
    assert_eq!(csv_rows(dir.path().join("final.csv").as_path()).len(), after.len());

    // Columns missing: refused as a whole.
    let cols = path("cols.csv");
    std::fs::write(&cols, "description,lng\nx,1\n").unwrap();
    let (ok, _, err) = gongzhi(&db, &["cases", "import", &cols]);
    assert!(!ok && err.contains("missing: condition, lat"), "{err}");
}
