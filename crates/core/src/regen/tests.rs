use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};

use super::import::{parse_holders, parse_resources};
use super::matching::{plan, rank, History};
use super::*;
use crate::decision::{standing, RuleSet};
use crate::table::Table;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn holder(code: &str, kind: HolderKind, members: u32, m2: i64, sticking: &[(&str, u8)]) -> Holder {
    Holder {
        code: code.into(),
        name: code.into(),
        kind,
        members,
        contested: false,
        organisation_override: None,
        scenario_override: None,
        representatives: vec![],
        sticking: sticking
            .iter()
            .map(|(c, s)| Sticking {
                code: (*c).into(),
                severity: *s,
            })
            .collect(),
        holdings: vec![Holding {
            unit: format!("{code}-U"),
            area: Area::from_hundredths(m2 * 100),
            // Share of the common parts in proportion to area: 25 ppm per m² of 40,000 m².
            common_share_ppm: (m2 * 25) as u32,
        }],
    }
}

fn resource(code: &str, kind: ResourceKind, addresses: &[&str], capacity: Option<u32>, scarce: bool) -> Resource {
    Resource {
        code: code.into(),
        name: code.into(),
        kind,
        category: String::new(),
        holder: String::new(),
        capacity,
        cost: 0,
        addresses: addresses.iter().map(|s| s.to_string()).collect(),
        scarce,
    }
}

fn resources() -> Vec<Resource> {
    use ResourceKind::*;
    vec![
        resource("policy-compensation", Formal, &["compensation"], None, false),
        resource("relocation-housing", Formal, &["relocation"], Some(5), true),
        resource("business-site", Formal, &["business_continuity"], Some(3), true),
        resource(
            "elder-mediator",
            Informal,
            &["heritage", "distrust", "heirs_dispute"],
            None,
            false,
        ),
        resource("legal-aid", Formal, &["heirs_dispute", "title_defect"], None, false),
        resource("old-neighbours", Informal, &["distrust", "compensation"], None, false),
    ]
}

#[test]
fn organisation_follows_kind_and_size_and_yields_to_an_override() {
    assert_eq!(derive_organisation(HolderKind::StateUnit, 1).0, Organisation::High);
    assert_eq!(derive_organisation(HolderKind::Enterprise, 4).0, Organisation::Medium);
    assert_eq!(derive_organisation(HolderKind::Enterprise, 5).0, Organisation::High);
    assert_eq!(derive_organisation(HolderKind::Collective, 300).0, Organisation::High);
    assert_eq!(derive_organisation(HolderKind::Collective, 301).0, Organisation::Medium);
    assert_eq!(derive_organisation(HolderKind::Household, 3).0, Organisation::Low);
    let mut h = holder("h", HolderKind::Household, 3, 50, &[]);
    h.organisation_override = Some(Override {
        value: Organisation::High,
        reason: "业委会代表全体签约".into(),
    });
    let c = ScenarioRule::default().classify(&h);
    assert_eq!((c.organisation, c.scenario), (Organisation::High, Scenario::I));
    assert!(c.organisation_reason.zh.contains("业委会"));
}

#[test]
fn scenario_rule_is_data_and_overrides_keep_the_derived_reason() {
    let rule = ScenarioRule::default();
    let mut h = holder("h", HolderKind::Household, 3, 50, &[]);
    assert_eq!(rule.classify(&h).scenario, Scenario::II);
    h.contested = true;
    let c = rule.classify(&h);
    assert_eq!(c.scenario, Scenario::III);
    assert!(c.reason.en.contains("contested"));
    h.scenario_override = Some(Override {
        value: Scenario::II,
        reason: "争议已由法院判决".into(),
    });
    let c = rule.classify(&h);
    assert_eq!(
        (c.scenario, c.derived, c.overridden),
        (Scenario::II, Scenario::III, true)
    );
    assert!(c.reason.zh.contains("法院") && c.reason.zh.contains("情境III"));
    // A custom rule read from JSON: every enterprise is scenario III.
    let custom: ScenarioRule = serde_json::from_str(
        r#"{"clauses":[{"kinds":["enterprise"],"scenario":"III","reason_zh":"企业","reason_en":"enterprises"}],"default":"II"}"#,
    )
    .unwrap();
    assert_eq!(
        custom
            .classify(&holder("e", HolderKind::Enterprise, 50, 500, &[]))
            .scenario,
        Scenario::III
    );
    assert_eq!(
        custom
            .classify(&holder("s", HolderKind::StateUnit, 50, 500, &[]))
            .scenario,
        Scenario::II
    );
}

#[test]
fn ranking_is_led_by_the_scenario_and_learns_from_outcomes() {
    let rule = ScenarioRule::default();
    let rs = resources();
    let household = holder(
        "h",
        HolderKind::Household,
        3,
        50,
        &[("compensation", 2), ("distrust", 2)],
    );
    let state = holder(
        "s",
        HolderKind::StateUnit,
        100,
        2000,
        &[("compensation", 2), ("distrust", 2)],
    );
    let none = History::default();
    let m = rank(&household, &rule.classify(&household), &rs, &none);
    // old-neighbours covers both points and is informal (leads in II).
    assert_eq!(m.ranked[0].resource, "old-neighbours");
    assert!(m.ranked[0].lead);
    let m = rank(&state, &rule.classify(&state), &rs, &none);
    // In I the formal policy leads (20 + 15 = 35) but old-neighbours covers twice the severity (40).
    assert_eq!(m.ranked[0].resource, "old-neighbours");
    assert_eq!(m.ranked[0].score, 40);
    assert_eq!(m.ranked[1].resource, "policy-compensation");
    assert_eq!(m.ranked[1].score, 35);
    // The elder mediator (informal, distrust) helps in I: 20.
    assert_eq!(
        m.ranked.iter().find(|x| x.resource == "elder-mediator").unwrap().score,
        20
    );
    // Past outcomes: the policy moved two state units forward, old-neighbours failed twice.
    let contacts = [
        ("policy-compensation", Stance::Hesitant, Stance::Agreed),
        ("policy-compensation", Stance::Opposed, Stance::Neutral),
        ("old-neighbours", Stance::Opposed, Stance::Opposed),
        ("old-neighbours", Stance::Neutral, Stance::Neutral),
    ]
    .map(|(r, b, a)| Contact {
        holder: "s2".into(),
        at: at("2026-05-01 10:00"),
        staff: "x".into(),
        resources: vec![r.into()],
        before: b,
        after: a,
        next_step: String::new(),
    });
    let history = History::from_contacts(&contacts, |_| Some(HolderKind::StateUnit));
    let m = rank(&state, &rule.classify(&state), &rs, &history);
    assert_eq!(m.ranked[0].resource, "policy-compensation");
    assert_eq!(m.ranked[0].score, 55);
    assert_eq!(m.ranked[1].score, 35);
    assert!(m.ranked[0]
        .reasons
        .iter()
        .any(|r| r.en.contains("2 moved towards agreement")));
    // A household's ranking does not learn from state units.
    let m = rank(&household, &rule.classify(&household), &rs, &history);
    assert_eq!(m.ranked[0].resource, "old-neighbours");
}

#[test]
fn exhausted_resources_are_not_offered_and_the_plan_spends_scarce_ones_where_they_unlock_most() {
    let rs = resources();
    let holders = vec![
        holder("a", HolderKind::Household, 3, 60, &[("relocation", 3)]),
        holder(
            "b",
            HolderKind::Household,
            3,
            90,
            &[("relocation", 3), ("business_continuity", 2)],
        ),
        holder("c", HolderKind::Household, 3, 80, &[("relocation", 2)]),
        holder("d", HolderKind::Household, 3, 70, &[("compensation", 2)]),
        holder("e", HolderKind::Household, 3, 75, &[("special_needs", 2)]),
    ];
    let mut history = History::default();
    // Three of the five relocation flats are already used: two left.
    history.used.insert("relocation-housing".into(), 3);
    let p = plan(&holders, &rs, &history, &BTreeSet::new());
    // d needs nothing scarce; a and c need one use each (c first? no: larger area first: c 80 > a 60);
    // b needs two and no relocation flat is left.
    assert_eq!(p.unlocked, vec!["d", "c", "a"]);
    assert_eq!(p.allocations.len(), 2);
    assert_eq!(p.unlocked_area, Area::from_hundredths(21_000));
    let blocked: Vec<&str> = p.blocked.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(blocked, vec!["e", "b"]);
    assert!(p.explanation.en.contains("2 use(s) of scarce resources unlock 2 more"));
    history.used.insert("relocation-housing".into(), 5);
    let m = rank(
        &holders[0],
        &ScenarioRule::default().classify(&holders[0]),
        &rs,
        &history,
    );
    assert!(m.ranked.is_empty());
    assert_eq!(m.exhausted, vec!["relocation-housing"]);
    assert_eq!(m.uncovered, vec!["relocation"]);
}

#[test]
fn pressure_guard_warns_on_frequency_and_hours() {
    let rule = PressureRule::default();
    let prev = [at("2026-05-01 10:00"), at("2026-05-03 10:00"), at("2026-05-05 10:00")];
    assert!(rule.warnings(&prev[..2], at("2026-05-06 10:00")).is_empty());
    let w = rule.warnings(&prev, at("2026-05-06 10:00"));
    assert_eq!(w.len(), 1);
    assert!(w[0].en.contains("4 contacts"));
    // Outside the 7-day window the first no longer counts.
    assert!(rule.warnings(&prev, at("2026-05-08 10:00")).is_empty());
    let w = rule.warnings(&[], at("2026-05-06 21:30"));
    assert!(w[0].en.contains("21:30"));
    assert_eq!(rule.warnings(&[], at("2026-05-06 07:59")).len(), 1);
    assert!(rule.warnings(&[], at("2026-05-06 08:00")).is_empty());
}

#[test]
fn decisions_are_folded_and_withdrawal_ends_at_the_deadline() {
    let d = |holder: &str, choice: Option<Choice>, date: &str| DecisionRecord {
        holder: holder.into(),
        choice,
        date: date.parse().unwrap(),
        evidence: "form".into(),
        recorder: "staff".into(),
    };
    let deadline: Option<NaiveDate> = Some("2026-06-30".parse().unwrap());
    let mut log = vec![d("a", Some(Choice::Agree), "2026-06-01")];
    assert!(check_decision(&log, &d("b", None, "2026-06-02"), deadline).is_err());
    assert!(check_decision(&log, &d("a", Some(Choice::Agree), "2026-06-02"), deadline).is_err());
    let w = d("a", None, "2026-06-30");
    check_decision(&log, &w, deadline).unwrap();
    log.push(w);
    assert!(positions(&log).is_empty());
    log.push(d("a", Some(Choice::Oppose), "2026-07-01"));
    assert_eq!(positions(&log)["a"], Choice::Oppose);
    let e = check_decision(&log, &d("a", None, "2026-07-01"), deadline).unwrap_err();
    assert!(e.to_string().contains("after the deadline 2026-06-30"));
    assert!(check_decision(&log, &d("a", Some(Choice::Agree), "2026-07-02"), deadline).is_err());
    let mut no_evidence = d("c", Some(Choice::Agree), "2026-06-01");
    no_evidence.evidence = " ".into();
    assert!(check_decision(&log, &no_evidence, deadline).is_err());
}

/// The Tianfu Cultural Park case: 3 state units (2,000 m² each), 12 enterprises (500 m² each),
/// one collective (8,000 m², abstaining) and 400 households (50 m² each): 416 holders, 40,000 m²,
/// shares of the common parts in proportion to area. They sign in that order.
fn tianfu() -> Vec<Holder> {
    let mut hs = Vec::new();
    for i in 1..=3 {
        hs.push(holder(
            &format!("S{i}"),
            HolderKind::StateUnit,
            200,
            2000,
            &[("compensation", 2)],
        ));
    }
    for i in 1..=12 {
        hs.push(holder(
            &format!("E{i:02}"),
            HolderKind::Enterprise,
            30,
            500,
            &[("business_continuity", 3), ("compensation", 2)],
        ));
    }
    hs.push(holder(
        "C1",
        HolderKind::Collective,
        120,
        8000,
        &[("compensation", 3), ("heritage", 2)],
    ));
    for i in 1..=400 {
        let points: &[(&str, u8)] = match i % 4 {
            0 => &[("heritage", 2)],
            1 => &[("compensation", 2), ("distrust", 1)],
            2 => &[("relocation", 3)],
            _ => &[("special_needs", 2), ("heritage", 1)],
        };
        let mut h = holder(&format!("H{i:03}"), HolderKind::Household, 3, 50, points);
        if i % 40 == 0 {
            h.contested = true;
            h.sticking.push(Sticking {
                code: "heirs_dispute".into(),
                severity: 3,
            });
        }
        hs.push(h);
    }
    hs
}

#[test]
fn tianfu_scenario_from_classification_to_each_threshold() {
    let holders = tianfu();
    assert_eq!(holders.len(), 416);
    let rule = ScenarioRule::default();
    let classes: Vec<Classification> = holders.iter().map(|h| rule.classify(h)).collect();
    let count = |s: Scenario| classes.iter().filter(|c| c.scenario == s).count();
    // State units, enterprises and the collective (120 members) are organised: I; households II,
    // the 10 contested ones III.
    assert_eq!(
        (count(Scenario::I), count(Scenario::II), count(Scenario::III)),
        (16, 390, 10)
    );

    // Matches: every holder gets a ranked list, led by its scenario's kind where coverage ties.
    let rs = resources();
    let mut contacts = Vec::new();
    for (h, c) in holders.iter().zip(&classes) {
        let m = rank(h, c, &rs, &History::default());
        assert!(!m.ranked.is_empty(), "{} has no match", h.code);
        if h.code == "S1" {
            assert_eq!(m.ranked[0].resource, "policy-compensation");
        }
        if h.code == "H004" {
            assert_eq!(m.ranked[0].resource, "elder-mediator");
        }
        // A contact with the best resource, recorded.
        contacts.push(Contact {
            holder: h.code.clone(),
            at: at("2026-05-04 15:00"),
            staff: "街道协调员".into(),
            resources: vec![m.ranked[0].resource.clone()],
            before: Stance::Hesitant,
            after: if h.kind == HolderKind::Collective {
                Stance::Neutral
            } else {
                Stance::Leaning
            },
            next_step: "签约".into(),
        });
    }
    let kinds: BTreeMap<String, HolderKind> = holders.iter().map(|h| (h.code.clone(), h.kind)).collect();
    let history = History::from_contacts(&contacts, |c| kinds.get(c).copied());
    assert_eq!(history.used["relocation-housing"], 100);
    let p = plan(&holders, &rs, &history, &BTreeSet::new());
    assert!(p.unlocked.len() < holders.len());

    // Decisions: all agree in order, except the collective, which abstains.
    let mut log: Vec<DecisionRecord> = Vec::new();
    let mut met_at: BTreeMap<String, usize> = BTreeMap::new();
    let rules = RuleSet::builtin();
    let expected = [
        // Participation ≥ 2/3 of 416 heads = 277.33 → 278; area reached at 150; approval by area
        // (12,000 + 50m)/(20,000 + 50m) ≥ 3/4 at m = 240 (signature 256).
        (crate::decision::threshold::CIVIL_CODE_278_MAJOR, Some(278)),
        (crate::decision::threshold::CIVIL_CODE_278_ORDINARY, Some(278)),
        // 90 % of 416 = 374.4 agreeing heads → 375 agree = signature 376 (one abstained).
        (crate::decision::threshold::SHANGHAI_OLD_AREA_90, Some(376)),
        // 80 % of 40,000 m² = 32,000 agreeing: 12,000 + 50m ≥ 32,000 → m = 400: the last.
        (crate::decision::threshold::COLLECTIVE_SALE_80, Some(416)),
        // 90 % = 36,000 m² cannot be reached while the collective abstains.
        (crate::decision::threshold::COLLECTIVE_SALE_90, None),
    ];
    let checkpoints: BTreeSet<usize> = expected.iter().filter_map(|e| e.1).flat_map(|k| [k - 1, k]).collect();
    for (i, h) in holders.iter().enumerate() {
        let choice = if h.kind == HolderKind::Collective {
            Choice::Abstain
        } else {
            Choice::Agree
        };
        let rec = DecisionRecord {
            holder: h.code.clone(),
            choice: Some(choice),
            date: "2026-06-01".parse().unwrap(),
            evidence: format!("签约单{}", i + 1),
            recorder: "staff".into(),
        };
        check_decision(&log, &rec, None).unwrap();
        log.push(rec);
        let signature = i + 1;
        if !checkpoints.contains(&signature) {
            continue;
        }
        let e = electorate(&holders, &positions(&log)).unwrap();
        for r in &rules {
            if standing(r, &e).met {
                met_at.entry(r.id.clone()).or_insert(signature);
            }
        }
    }
    for (id, at) in expected {
        assert_eq!(met_at.get(id).copied(), at, "rule {id}");
    }
    let e = electorate(&holders, &positions(&log)).unwrap();
    let s = standing(
        &RuleSet::by_id(crate::decision::threshold::COLLECTIVE_SALE_90).unwrap(),
        &e,
    );
    // Reachable only if the abstaining collective turns to agree: it is the one key holdout.
    assert!(!s.met);
    assert_eq!(s.smallest_set.unwrap().holders, vec!["C1".to_string()]);
    assert!(s.key_holdouts[0].id == "C1" && s.key_holdouts[0].indispensable);
}

#[test]
fn holder_files_are_all_or_nothing_with_line_errors() {
    let cat = Catalogue::default();
    let ok = "holder,name,kind,members,contested,representatives,sticking_points,unit,area_m2,common_share\n\
              H1,王家,household,3,no,王大;王二,compensation:3;heritage,U1,85.37,0.0125\n\
              H1,王家,household,3,no,王大;王二,compensation:3;heritage,U2,,0.01\n\
              E1,锦江公司,企业,40,,,business_continuity:2,U3,500,\n";
    let hs = parse_holders(&Table::from_csv(ok).unwrap(), &cat).unwrap();
    assert_eq!(hs.len(), 2);
    assert_eq!(hs[0].holder.holdings.len(), 2);
    assert_eq!(hs[0].area_given, vec![true, false]);
    assert_eq!(hs[0].holder.common_share_ppm(), 22_500);
    assert_eq!(hs[0].holder.sticking[1].severity, 2);
    assert_eq!(hs[1].holder.kind, HolderKind::Enterprise);
    let bad = "holder,name,kind,members,contested,representatives,sticking_points,unit,area_m2,common_share\n\
               H1,王家,household,3,no,,compensation:5,U1,85.37,\n\
               H2,李家,farmer,3,no,,,U2,85.37,\n\
               H3,张家,household,3,no,,graves,U3,85.377,\n\
               H4,赵家,household,3,no,,,U9,,1.5\n\
               H5,钱家,household,2,no,,,U9,40,\n";
    let errors = parse_holders(&Table::from_csv(bad).unwrap(), &cat).unwrap_err();
    let lines: Vec<(usize, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(
        lines,
        vec![
            (2, Some("sticking_points")),
            (3, Some("kind")),
            (4, Some("sticking_points")),
            (5, Some("common_share")),
            (6, Some("unit")),
        ]
    );
    assert!(errors[1].message.contains("household"));
}

#[test]
fn resource_files_check_kind_capacity_and_catalogue() {
    let cat = Catalogue::default();
    let ok = "code,name,kind,category,holder,capacity,cost,addresses,scarce\n\
              R1,安置房源,formal,housing,区住建局,20,300000,relocation,yes\n\
              R2,老街坊调解,非正式资源,mediator,社区,,0,distrust;heritage,no\n";
    let rs = parse_resources(&Table::from_csv(ok).unwrap(), &cat).unwrap();
    assert_eq!(rs[0].capacity, Some(20));
    assert!(rs[0].scarce);
    assert_eq!(rs[1].kind, ResourceKind::Informal);
    assert_eq!(rs[1].capacity, None);
    let bad = "code,name,kind,category,holder,capacity,cost,addresses,scarce\n\
               R1,安置房源,public,housing,,x,,relocation,maybe\n\
               R2,调解,informal,,,,,,\n";
    let errors = parse_resources(&Table::from_csv(bad).unwrap(), &cat).unwrap_err();
    let cols: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_deref().unwrap())).collect();
    assert_eq!(
        cols,
        vec![(2, "kind"), (2, "capacity"), (2, "scarce"), (3, "addresses")]
    );
}

/// The project-level figure for the smallest-set computation: a Tianfu-like project of 5,000
/// holders (state units, enterprises, a collective, households of varied areas), 60 % signed.
/// Run: `cargo test --release -p gongzhi-core regen_standing_on_5000_holders -- --ignored --nocapture`.
#[test]
#[ignore]
fn regen_standing_on_5000_holders() {
    let mut holders = Vec::new();
    for i in 0..5000u32 {
        let (kind, m2) = match i {
            0..=2 => (HolderKind::StateUnit, 2000),
            3..=14 => (HolderKind::Enterprise, 500),
            15 => (HolderKind::Collective, 8000),
            _ => (HolderKind::Household, 40 + (i as i64 * 7919) % 90),
        };
        let mut h = holder(&format!("X{i:04}"), kind, 3, m2, &[]);
        h.holdings[0].common_share_ppm = (m2 * 2) as u32;
        holders.push(h);
    }
    let mut log = BTreeMap::new();
    for (i, h) in holders.iter().enumerate() {
        match i % 10 {
            0..=5 => log.insert(h.code.clone(), Choice::Agree),
            6 => log.insert(h.code.clone(), Choice::Oppose),
            7 => log.insert(h.code.clone(), Choice::Abstain),
            _ => None,
        };
    }
    let e = electorate(&holders, &log).unwrap();
    for r in RuleSet::builtin() {
        let started = std::time::Instant::now();
        let s = standing(&r, &e);
        let took = started.elapsed();
        println!(
            "{}: met {}, smallest set {} holder(s), {:.2} ms",
            r.id,
            s.met,
            s.smallest_set.map(|x| x.holders.len()).unwrap_or(0),
            took.as_secs_f64() * 1000.0
        );
    }
}
