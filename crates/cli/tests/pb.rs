//! `gongzhi pb`: counts print the funded ids only, sorted; explanations; a bad file is refused
//! with its line number; generated files round-trip through check and count; the benches run.

use std::process::Command;

fn gongzhi(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(args)
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

/// Budget 10; D 3, A 6, B 4, C 5 (in this order in the file); ballots {A,B} {A,B} {A,C} {C,D} {D}.
const FILE: &str = "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost;name\nD;3;Lights\nA;6;\"Park; north\"\nB;4;Road\nC;5;Bench\nVOTES\nvoter_id;vote\n1;A,B\n2;A,B\n3;A,C\n4;C,D\n5;D\n";

#[test]
fn count_prints_the_funded_ids_sorted_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("e.pb");
    std::fs::write(&f, FILE).unwrap();
    let f = f.to_str().unwrap();
    for (rule, want) in [
        ("greedy", "A\nB\n"),
        ("mes", "A\nD\n"),
        ("mes-add1", "A\nD\n"),
        ("phragmen", "A\nD\n"),
    ] {
        let (ok, out, err) = gongzhi(&["pb", "count", "--rule", rule, f]);
        assert!(ok, "{rule}: {err}");
        assert_eq!(out, want, "{rule}");
    }
    let (ok, out, _) = gongzhi(&["pb", "count", "--rule", "mes", "--explain", f]);
    assert!(ok);
    assert!(
        out.contains("C\tnot funded\tIts supporters had 2 left of the 5 it costs"),
        "{out}"
    );
    assert!(out.contains("其支持者只剩2"), "{out}");
    let (ok, _, err) = gongzhi(&["pb", "count", "--rule", "borda", f]);
    assert!(!ok && err.contains("unknown counting rule"), "{err}");
    let (ok, out, _) = gongzhi(&["pb", "check", f]);
    assert!(
        ok && out.contains("ok: 4 projects, 5 votes (approval), budget 10"),
        "{out}"
    );
}

#[test]
fn a_bad_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.pb");
    std::fs::write(&f, FILE.replace("4;C,D", "4;C,E")).unwrap();
    for args in [vec!["pb", "check"], vec!["pb", "count", "--rule", "greedy"]] {
        let mut a = args.clone();
        a.push(f.to_str().unwrap());
        let (ok, out, err) = gongzhi(&a);
        assert!(!ok && out.is_empty());
        assert!(
            err.contains("line 16: voter \"4\" voted for project \"E\", which is not in PROJECTS"),
            "{err}"
        );
    }
}

#[test]
fn generate_check_count_and_bench() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("g.pb");
    let f = f.to_str().unwrap();
    for kind in ["approval", "cumulative"] {
        let (ok, _, err) = gongzhi(&[
            "pb",
            "generate",
            "--projects",
            "12",
            "--voters",
            "300",
            "--vote-type",
            kind,
            "-o",
            f,
        ]);
        assert!(ok, "{err}");
        let (ok, out, _) = gongzhi(&["pb", "check", f]);
        assert!(ok && out.contains(&format!("12 projects, 300 votes ({kind})")), "{out}");
        // A file cut short still reads, but check says it is not whole (META declares 300 votes).
        let text = std::fs::read_to_string(f).unwrap();
        let cut = dir.path().join("cut.pb");
        std::fs::write(
            &cut,
            text.lines()
                .take(text.lines().count() - 100)
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .unwrap();
        let (ok, out, err) = gongzhi(&["pb", "check", cut.to_str().unwrap()]);
        assert!(
            !ok && err.contains("META says num_votes 300 but the file has 200 votes"),
            "{out}{err}"
        );
        let (ok, out, err) = gongzhi(&["pb", "count", "--rule", "mes", f]);
        assert!(ok, "{err}");
        let ids: Vec<&str> = out.lines().collect();
        assert!(!ids.is_empty() && ids.windows(2).all(|w| w[0] < w[1]), "{out}");
        let (ok, out, err) = gongzhi(&["bench", "pb", "--rules", "greedy,mes,phragmen", f]);
        assert!(ok, "{err}");
        let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert!(
            last["greedy_ms"].as_f64().is_some() && last["mes_ms"].as_f64().is_some(),
            "{out}"
        );
    }
    let (ok, out, err) = gongzhi(&["bench", "decision", "--holders", "300", "--runs", "2"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("cn-civil-code-278-major") && out.contains("\"bench\":\"decision\""),
        "{out}"
    );
}
