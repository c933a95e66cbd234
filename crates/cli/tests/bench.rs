//! A small run of `gongzhi bench cases`: it works end to end and ends with its JSON line. No
//! timing is asserted.

use std::process::Command;

#[test]
fn bench_cases_smoke() {
    let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args([
            "bench",
            "cases",
            "--cases",
            "2000",
            "--communities",
            "3",
            "--queries",
            "30",
        ])
        .env("GONGZHI_LOG", "warn")
        .output()
        .expect("run gongzhi");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().expect("output");
    let v: serde_json::Value = serde_json::from_str(last).expect("the last line is JSON");
    assert_eq!(v["backend"], "sqlite");
    assert_eq!(v["cases"], 2000);
    assert!(v["events"].as_u64().unwrap() > 2000 * 5);
    for k in ["import_cases_per_s", "indicator_p50_ms", "indicator_p99_ms"] {
        assert!(v[k].as_f64().is_some_and(|x| x >= 0.0), "{k}: {v}");
    }
    assert!(stdout.contains("indicator queries: 30"), "{stdout}");
}
