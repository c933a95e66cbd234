//! The binary, end to end: demo, grid locate, export, a refused import.

use std::process::Command;

fn gongzhi(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(args)
        .env("GONGZHI_DATABASE", db)
        .env("GONGZHI_LOG", "warn")
        .output()
        .expect("run gongzhi");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_locate_export_and_a_refused_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let (ok, out, err) = gongzhi(&db, &["demo", "--communities", "2"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("demo city loaded"));

    let export = dir.path().join("grids.geojson");
    let (ok, out, _) = gongzhi(
        &db,
        &["grid", "export", "--within", "510104", "-o", export.to_str().unwrap()],
    );
    assert!(ok);
    assert!(out.contains("exported"));
    let fc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    let first = &fc["features"][0];
    let code = first["properties"]["code"].as_str().unwrap().to_owned();
    let ring = first["geometry"]["coordinates"][0][0].as_array().unwrap();
    let (x0, y0) = (ring[0][0].as_f64().unwrap(), ring[0][1].as_f64().unwrap());
    let (x2, y2) = (ring[2][0].as_f64().unwrap(), ring[2][1].as_f64().unwrap());
    let (lng, lat) = (format!("{}", (x0 + x2) / 2.0), format!("{}", (y0 + y2) / 2.0));
    let (ok, out, err) = gongzhi(&db, &["grid", "locate", "--lng", &lng, "--lat", &lat]);
    assert!(ok, "{err}");
    let found: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(found["grid"]["code"], code);
    assert_eq!(found["district"]["name"], "锦江区");

    // The generalist grid's lists, under the feature's one name and under the old one.
    let (ok, out, err) = gongzhi(&db, &["gridteam", "export", "--grid", &code, "--list", "needs"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("id,status,category,text,"), "{out}");
    let (ok, old, err) = gongzhi(&db, &["lists", "export", "--grid", &code, "--list", "needs"]);
    assert!(ok, "{err}");
    assert_eq!(old, out);

    // Re-importing the export works (all grids replaced in one transaction).
    let (ok, out, err) = gongzhi(&db, &["grid", "import", export.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("imported"));

    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"510104017001001","name":"x"},"geometry":{"type":"Polygon","coordinates":[[[104,30],[104.1,30],[104.1,30.1],[104,30.1]]]}}]}"#).unwrap();
    let (ok, _, err) = gongzhi(&db, &["grid", "import", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("feature 0") && err.contains("nothing was imported"),
        "{err}"
    );
    let (_, out, _) = gongzhi(
        &db,
        &[
            "grid",
            "export",
            "--within",
            "510104",
            "-o",
            dir.path().join("again.geojson").to_str().unwrap(),
        ],
    );
    assert!(out.contains(&format!("exported {} grids", fc["features"].as_array().unwrap().len())));
    let again = std::fs::read_to_string(dir.path().join("again.geojson")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again).unwrap(),
        fc,
        "the database is unchanged"
    );

    let (ok, _, err) = gongzhi("mysql://nope", &["migrate"]);
    assert!(!ok);
    assert!(err.contains("sqlite://"), "{err}");
}

#[test]
fn premises_export_reimport_and_a_refused_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    let (ok, out, err) = gongzhi(&db, &["demo", "--communities", "1", "--cases-per-day", "0"]);
    assert!(ok, "{out}{err}");
    let file = dir.path().join("premises.csv");
    let (ok, _, err) = gongzhi(
        &db,
        &[
            "premises",
            "export",
            "--within",
            "510104017001",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    let rows = text.lines().count() - 1;
    assert!(err.contains(&format!("and {rows} units")), "{err}");
    // The export is the import's format: importing it again replaces the same records.
    let (ok, out, err) = gongzhi(&db, &["premises", "import", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("and {rows} units")), "{out}");
    // Break two lines: both are reported with their numbers, and nothing is stored.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2]
        .replacen(",residential", ",castle", 1)
        .replacen(",commercial", ",castle", 1);
    lines[5] = lines[5].replace("510104017001,", "510104017,");
    lines.push(lines[1].replace("-B01", "-B99").replace("-0101", "-0199"));
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let (ok, _, err) = gongzhi(&db, &["premises", "import", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("refused, nothing was imported"), "{err}");
    assert!(err.contains("line 3, column use: 'castle' is not a use"), "{err}");
    assert!(err.contains("line 6, column community:"), "{err}");
    let (ok, out, _) = gongzhi(
        &db,
        &[
            "premises",
            "export",
            "--within",
            "510104017001",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
    assert!(
        !std::fs::read_to_string(&file).unwrap().contains("-B99"),
        "the refused file stored nothing"
    );
}

#[test]
fn initiative_units_and_parties_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    let (ok, out, err) = gongzhi(&db, &["demo", "--communities", "1", "--cases-per-day", "0"]);
    assert!(ok, "{out}{err}");
    let units = dir.path().join("units.csv");
    std::fs::write(
        &units,
        "building,building_name,community,floors,unit,floor,area_m2,use\n\
         Q1,园区1号楼,510104017001,3,Q1-101,1,120,industrial\n\
         Q1,园区1号楼,510104017001,3,Q1-201,2,120,quasi_residential\n",
    )
    .unwrap();
    let run = |who: &str, what: &str, file: &std::path::Path| {
        gongzhi(
            &db,
            &["initiative", what, "--id", "1", "--as", who, file.to_str().unwrap()],
        )
    };
    let (ok, _, err) = run("committee", "units", &units);
    assert!(!ok && err.contains("back stage registers"), "{err}");
    let (ok, out, err) = run("street.admin", "units", &units);
    assert!(ok, "{err}");
    assert!(out.contains("units registered"), "{out}");
    let parties = dir.path().join("parties.csv");
    std::fs::write(
        &parties,
        "name,kind,units\n甲公司,operator,Q1-101\n乙,landlord,Q1-999\n",
    )
    .unwrap();
    let (ok, _, err) = run("committee", "parties", &parties);
    assert!(!ok, "a wrong file is refused");
    assert!(err.contains("line 3, column kind"), "{err}");
    assert!(
        err.contains("line 3, column units: unit Q1-999 is not in this initiative's area"),
        "{err}"
    );
    std::fs::write(&parties, "name,kind,units\n甲公司,operator,Q1-101\n乙,owner,Q1-201\n").unwrap();
    let (ok, out, err) = run("committee", "parties", &parties);
    assert!(ok, "{err}");
    assert!(
        out.contains("10 parties registered"),
        "8 demo parties and 2 more: {out}"
    );
}

/// `systemctl stop` and container stops send SIGTERM: the server answers what is in flight and
/// exits cleanly (it used to stop only on Ctrl-C and be killed mid-request otherwise).
#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["serve", "--port", "0"])
        .env("GONGZHI_DATABASE", &db)
        .env("GONGZHI_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gongzhi serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("serving on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(std::net::TcpStream::connect(&addr).is_err(), "still listening");
}

/// The operator's backup, check and restore, through the binary.
#[test]
fn backup_check_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let (ok, out, err) = gongzhi(&db, &["demo", "--communities", "1", "--cases-per-day", "0"]);
    assert!(ok, "{out}{err}");
    let file = dir.path().join("backup.db");
    let (ok, out, err) = gongzhi(&db, &["backup", "--to", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("backed up to") && out.contains("rows"), "{out}");
    let (ok, again, err) = gongzhi(&db, &["backup", "--to", file.to_str().unwrap()]);
    assert!(!ok && err.contains("exists"), "a backup never overwrites: {again}{err}");
    let (ok, out, err) = gongzhi(&db, &["check-backup", file.to_str().unwrap()]);
    assert!(ok && out.contains("sound backup"), "{out}{err}");

    // Restore into another database and read the demo's people back.
    let other = format!("sqlite://{}", dir.path().join("other.db").display());
    let (ok, out, err) = gongzhi(&other, &["restore", "--from", file.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("restored"), "{out}");
    let export = dir.path().join("grids.geojson");
    let (ok, _, err) = gongzhi(&other, &["grid", "export", "-o", export.to_str().unwrap()]);
    assert!(ok, "{err}");
    let fc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    assert!(
        !fc["features"].as_array().unwrap().is_empty(),
        "the restored database has the demo's grids"
    );
    let (ok, again, err) = gongzhi(&other, &["restore", "--from", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(again.contains("kept as"), "{again}");

    // Not a backup: refused with the reason.
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, "id,name\n1,x\n").unwrap();
    let (ok, _, err) = gongzhi(&other, &["restore", "--from", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("not a sound Gongzhi backup"), "{err}");
}
