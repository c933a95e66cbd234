//! Urban regeneration through the real server: a project on the demo premises, holders and
//! resources imported, scenarios and overrides, matching, contacts with the pressure guard,
//! decisions with withdrawal, and the consent thresholds exactly at and one unit below their
//! boundaries (by head count and by area), recomputed on every signature.

use gongzhi_store::prelude::*;
use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

/// Twelve units of the first community's premises, and that community.
fn units() -> (String, Vec<String>) {
    let p = &small_demo().premises;
    let community = p.buildings[0].community.to_string();
    let codes = p
        .units
        .iter()
        .filter(|u| {
            p.buildings
                .iter()
                .any(|b| b.code == u.building && b.community.as_str() == community)
        })
        .take(12)
        .map(|u| u.code.clone())
        .collect();
    (community, codes)
}

/// The holders file: H01…H12, households of 100 m² each unless `areas` says otherwise.
fn holders_csv(units: &[String], areas: &[(&str, &str)]) -> String {
    let mut csv =
        "holder,name,kind,members,contested,representatives,sticking_points,unit,area_m2,common_share\n".to_string();
    for (i, u) in units.iter().enumerate() {
        let code = format!("H{:02}", i + 1);
        let area = areas.iter().find(|a| a.0 == code).map(|a| a.1).unwrap_or("100");
        let (kind, members, points) = match i {
            0 => ("state_unit", 80, "compensation:2"),
            1 => ("enterprise", 40, "business_continuity:3;compensation:1"),
            2 => ("household", 3, "relocation:3"),
            _ => ("household", 3, "heritage:2;distrust:1"),
        };
        csv.push_str(&format!(
            "{code},权利人{code},{kind},{members},no,代表{code},{points},{u},{area},\n"
        ));
    }
    csv
}

const RESOURCES: &str = "code,name,kind,category,holder,capacity,cost,addresses,scarce\n\
    policy,补偿标准第5条,formal,policy,区住建局,,0,compensation,no\n\
    flats,安置房源,formal,housing,区住建局,1,300000,relocation,yes\n\
    shopfront,临时经营场地,formal,space swap,街道,2,0,business_continuity,yes\n\
    elder,乡贤调解,informal,respected elder,社区,,0,heritage;distrust,no\n";

async fn post_csv(app: &TestApp, path: &str, token: &str, body: String) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Whether `rule`'s condition of `phase` by `measure` is met in a list of standings.
fn met(standings: &Value, rule: &str, phase: &str, measure: &str) -> bool {
    let s = standings
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rule_id"] == rule)
        .unwrap();
    let c = s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["condition"]["phase"] == phase && c["condition"]["measure"] == measure)
        .unwrap_or_else(|| panic!("{rule} has no {phase} condition by {measure}: {s}"));
    c["met"].as_bool().unwrap()
}

struct Project<'a> {
    app: &'a TestApp,
    token: String,
    units: Vec<String>,
}

impl Project<'_> {
    async fn decide(&self, holder: &str, choice: &str) -> Value {
        let (s, r) = self
            .app
            .send(
                "POST",
                "/api/regen/projects/T1/decisions",
                Some(&self.token),
                json!({ "holder": holder, "choice": choice, "date": "2026-06-01", "evidence": format!("签约单 {holder}") }),
            )
            .await;
        assert_eq!(s, 200, "{holder} {choice}: {r}");
        r["standings"].clone()
    }

    async fn areas(&self, areas: &[(&str, &str)]) -> Value {
        let (s, r) = post_csv(
            self.app,
            "/api/regen/projects/T1/holders/import",
            &self.token,
            holders_csv(&self.units, areas),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let (s, t) = self
            .app
            .get("/api/regen/projects/T1/thresholds", Some(&self.token))
            .await;
        assert_eq!(s, 200);
        t
    }
}

const MAJOR: &str = "cn-civil-code-278-major";
const ORDINARY: &str = "cn-civil-code-278-ordinary";
const SHANGHAI: &str = "cn-shanghai-old-area-renewal-90";

#[tokio::test]
async fn a_project_from_import_to_each_threshold() {
    let app = TestApp::spawn().await;
    let (community, units) = units();
    let token = app.token("planner").await;
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects",
            Some(&token),
            json!({ "code": "T1", "name": "测试更新项目", "community": community,
                    "config": { "withdrawal_deadline": "2026-06-30" } }),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // Someone else's area, or not staff: refused; the public sees aggregates only.
    let resident = app.token("resident").await;
    let (s, _) = app.get("/api/regen/projects/T1", Some(&resident)).await;
    assert_eq!(s, 403);

    // A wrong file is refused whole, with its lines.
    let mut bad = holders_csv(&units, &[]);
    bad.push_str("H13,权利人,farmer,1,no,,graves,NO-SUCH-UNIT,10,\n");
    let (s, r) = post_csv(&app, "/api/regen/projects/T1/holders/import", &token, bad).await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(r["details"][0]["line"], 14);
    let (s, r) = app.get("/api/regen/projects/T1", Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(r["holders"].as_array().unwrap().len(), 0);
    // A unit outside the premises register is refused with its line.
    let mut unknown = holders_csv(&units[..2], &[]);
    unknown.push_str("H13,权利人,household,1,no,,,NO-SUCH-UNIT,10,\n");
    let (s, r) = post_csv(&app, "/api/regen/projects/T1/holders/import", &token, unknown).await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(r["details"][0]["line"], 4);
    assert!(r["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("premises register"));

    let p = Project {
        app: &app,
        token: token.clone(),
        units: units.clone(),
    };
    let t = p.areas(&[]).await;
    assert!(!met(&t, MAJOR, "participation", "heads"));
    let (s, r) = post_csv(
        &app,
        "/api/regen/projects/T1/resources/import",
        &token,
        RESOURCES.into(),
    )
    .await;
    assert_eq!(s, 200, "{r}");

    // Scenarios: the state unit and the enterprise I, households II; an override with its reason.
    let (_, r) = app.get("/api/regen/projects/T1", Some(&token)).await;
    let scenarios: Vec<&str> = r["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["classification"]["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(&scenarios[..4], &["I", "I", "II", "II"]);
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/holders/H04/override",
            Some(&token),
            json!({ "scenario": "III" }),
        )
        .await;
    assert_eq!(s, 422, "a reason is required: {r}");
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/holders/H04/override",
            Some(&token),
            json!({ "scenario": "III", "reason": "继承人之间有争议" }),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["classification"]["scenario"], "III");
    assert_eq!(r["classification"]["derived"], "II");
    assert!(r["classification"]["reason"]["zh"].as_str().unwrap().contains("继承人"));

    // Matching: the state unit is offered the policy first, a household the elder.
    let (_, h) = app.get("/api/regen/projects/T1/holders/H01", Some(&token)).await;
    assert_eq!(h["matches"]["ranked"][0]["resource"], "policy");
    let (_, h) = app.get("/api/regen/projects/T1/holders/H05", Some(&token)).await;
    assert_eq!(h["matches"]["ranked"][0]["resource"], "elder");
    assert!(!h["matches"]["ranked"][0]["reasons"].as_array().unwrap().is_empty());

    // Contacts: the pressure guard warns on the 4th contact within 7 days and at night; the one
    // relocation flat, once used, is not offered again and cannot be used twice.
    let contact = |at: &str, holder: &str, resources: Vec<&str>| {
        json!({ "holder": holder, "at": at, "staff": "协调员甲", "resources": resources,
                "before": "hesitant", "after": "leaning", "next_step": "再访" })
    };
    for (i, at) in ["2026-05-01T10:00", "2026-05-02T10:00", "2026-05-03T10:00"]
        .iter()
        .enumerate()
    {
        let (s, r) = app
            .send(
                "POST",
                "/api/regen/projects/T1/contacts",
                Some(&token),
                contact(at, "H05", vec!["elder"]),
            )
            .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["warnings"].as_array().unwrap().len(), 0, "contact {i}");
    }
    let (_, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/contacts",
            Some(&token),
            contact("2026-05-04T22:10", "H05", vec!["elder"]),
        )
        .await;
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["en"].as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let (s, _) = app
        .send(
            "POST",
            "/api/regen/projects/T1/contacts",
            Some(&token),
            contact("2026-05-04T10:00", "H03", vec!["flats"]),
        )
        .await;
    assert_eq!(s, 200);
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/contacts",
            Some(&token),
            contact("2026-05-05T10:00", "H03", vec!["flats"]),
        )
        .await;
    assert_eq!(s, 409, "{r}");
    let (_, h) = app.get("/api/regen/projects/T1/holders/H03", Some(&token)).await;
    assert_eq!(h["matches"]["exhausted"][0], "flats");
    assert_eq!(h["contacts"].as_array().unwrap().len(), 1);
    let (_, res) = app.get("/api/regen/projects/T1/resources", Some(&token)).await;
    let flats = res
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"]["code"] == "flats")
        .unwrap();
    assert_eq!(
        (flats["used"].as_u64(), flats["remaining"].as_u64()),
        (Some(1), Some(0))
    );
    // Outcomes feed the ranking: the elder moved a household forward four times.
    let (_, h) = app.get("/api/regen/projects/T1/holders/H06", Some(&token)).await;
    assert_eq!(h["matches"]["ranked"][0]["score"], 30 + 15 + 20);

    // Decisions. 12 holders of 100 m²: participation needs 8 holders and 800 m² (2/3).
    let mut t = Value::Null;
    for i in 1..=7 {
        t = p.decide(&format!("H{i:02}"), "agree").await;
    }
    assert!(!met(&t, MAJOR, "participation", "heads"), "7 of 12 is below 2/3");
    assert!(!met(&t, MAJOR, "participation", "area"), "700 of 1200 m² is below 2/3");
    let t = p.decide("H08", "abstain").await;
    assert!(met(&t, MAJOR, "participation", "heads"), "8 of 12 is exactly 2/3");
    assert!(met(&t, MAJOR, "participation", "area"), "800 of 1200 m² is exactly 2/3");
    assert!(met(&t, MAJOR, "approval", "heads"), "7 of 8 ≥ 3/4");
    // One unit (0.01 m²) below 2/3 of the area: the abstaining H08 holds 799.99 m² of participation.
    let t = p.areas(&[("H08", "99.99"), ("H12", "100.01")]).await;
    assert!(
        !met(&t, MAJOR, "participation", "area"),
        "799.99 of 1200 m² is one unit below 2/3"
    );
    assert!(met(&t, MAJOR, "participation", "heads"));
    let t = p.areas(&[]).await;
    assert!(met(&t, MAJOR, "participation", "area"));

    // Approval ≥ 3/4 of the participants: 7 of 10 no, 8 of 11 no, 9 of 12 exactly.
    p.decide("H09", "oppose").await;
    let t = p.decide("H10", "oppose").await;
    assert!(!met(&t, MAJOR, "approval", "heads"));
    let t = p.decide("H11", "agree").await;
    assert!(!met(&t, MAJOR, "approval", "heads"), "8 of 11 is below 3/4");
    assert!(!met(&t, MAJOR, "approval", "area"), "800 of 1100 m² is below 3/4");
    let t = p.decide("H12", "agree").await;
    assert!(met(&t, MAJOR, "approval", "heads"), "9 of 12 is exactly 3/4");
    assert!(met(&t, MAJOR, "approval", "area"), "900 of 1200 m² is exactly 3/4");
    // One unit below 3/4 of the participating area: an agreeing holder 0.01 m² smaller.
    let t = p.areas(&[("H12", "99.99"), ("H10", "100.01")]).await;
    assert!(
        !met(&t, MAJOR, "approval", "area"),
        "899.99 of 1200 m² is one unit below 3/4"
    );
    assert!(met(&t, MAJOR, "approval", "heads"));
    p.areas(&[]).await;

    // More than half: 6 agreeing of 12 participants is exactly half (not more), 7 is more.
    for h in ["H01", "H02", "H03"] {
        p.decide(h, "oppose").await;
    }
    let (_, t) = app.get("/api/regen/projects/T1/thresholds", Some(&token)).await;
    assert!(!met(&t, ORDINARY, "approval", "heads"), "6 of 12 is not more than half");
    assert!(
        !met(&t, ORDINARY, "approval", "area"),
        "600 of 1200 m² is not more than half"
    );
    // 0.01 m² more agreeing area is more than half by area, still not by head count.
    let t = p.areas(&[("H04", "100.01"), ("H01", "99.99")]).await;
    assert!(met(&t, ORDINARY, "approval", "area"));
    assert!(!met(&t, ORDINARY, "approval", "heads"));
    p.areas(&[]).await;
    let t = p.decide("H03", "agree").await;
    assert!(met(&t, ORDINARY, "approval", "heads"), "7 of 12 is more than half");

    // Shanghai 90 % of households: 10 of 12 no, 11 yes (10.8 needed).
    for h in ["H01", "H02"] {
        p.decide(h, "agree").await;
    }
    let t = p.decide("H08", "agree").await;
    assert!(!met(&t, SHANGHAI, "approval", "heads"), "10 of 12 is below 90 %");
    let t = p.decide("H09", "agree").await;
    assert!(met(&t, SHANGHAI, "approval", "heads"), "11 of 12 reaches 90 %");
    let major = t.as_array().unwrap().iter().find(|s| s["rule_id"] == MAJOR).unwrap();
    assert_eq!(major["met"], true);

    // Withdrawal until the deadline; after it, refused as a conflict.
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/decisions",
            Some(&token),
            json!({ "holder": "H09", "choice": "withdraw", "date": "2026-06-30" }),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(!met(&r["standings"], SHANGHAI, "approval", "heads"));
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/decisions",
            Some(&token),
            json!({ "holder": "H10", "choice": "withdraw", "date": "2026-07-01" }),
        )
        .await;
    assert_eq!(s, 409, "{r}");
    assert!(r["message"].as_str().unwrap().contains("deadline"));

    // Every decision is an event in the project's stream; nothing was edited in place.
    let events = app.db.store.events(gongzhi_demo::CITY, "regen:T1").await.unwrap();
    let decisions = events.iter().filter(|e| e.kind.starts_with("regen_decision")).count();
    assert_eq!(decisions, 7 + 1 + 2 + 2 + 3 + 1 + 3 + 1 + 1);

    // The public sees counts and percentages, never a name.
    let (s, pv) = app.get("/api/regen/projects/T1/public", None).await;
    assert_eq!(s, 200);
    let text = pv.to_string();
    assert!(!text.contains("H0") && !text.contains("权利人"), "{text}");
    let agree = pv["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["choice"] == "agree")
        .unwrap();
    assert_eq!(agree["holders"], 10);

    // The plan is explained.
    let (s, plan) = app.get("/api/regen/projects/T1/plan", Some(&token)).await;
    assert_eq!(s, 200);
    assert!(plan["explanation"]["en"].as_str().unwrap().contains("holder"));
}

#[tokio::test]
async fn pages_for_staff_and_aggregates_for_the_public() {
    let app = TestApp::spawn().await;
    let planner = app.browser("planner").await;
    let page = |client: &reqwest::Client, path: &str| {
        let req = client.get(app.url(path));
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(&planner, "/regen/TF-DEMO").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("表决门槛") && html.contains("<svg class=\"map\"") && html.contains("S01"));
    let (s, html) = page(&planner, "/regen/TF-DEMO?lang=en").await;
    assert_eq!(s, 200);
    assert!(html.contains("Consent thresholds") && html.contains("Plan for the scarce resources"));
    let (s, html) = page(&planner, "/regen/TF-DEMO/holders/H003?lang=zh").await;
    assert_eq!(s, 200);
    assert!(html.contains("卡点") && html.contains("R-"), "{html}");
    let (s, html) = page(&planner, "/regen/TF-DEMO/resources").await;
    assert_eq!(s, 200);
    assert!(html.contains("就近安置房源"));
    // A resident may not open the staff pages; anyone sees the public page, without names.
    let resident = app.browser("resident").await;
    let (s, _) = page(&resident, "/regen/TF-DEMO").await;
    assert_eq!(s, 403);
    let (s, html) = page(&reqwest::Client::new(), "/regen/TF-DEMO/public").await;
    assert_eq!(s, 200);
    assert!(html.contains("天府文创") && !html.contains("住户") && !html.contains("S01"));
}

#[tokio::test]
async fn holders_and_resources_imported_twice_are_stored_once() {
    let app = TestApp::spawn().await;
    let (community, units) = units();
    let token = app.token("planner").await;
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects",
            Some(&token),
            json!({ "code": "T1", "name": "测试更新项目", "community": community }),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let events = || async { app.db.store.events(gongzhi_demo::CITY, "regen:T1").await.unwrap() };
    let holders = || async {
        let (s, r) = app.get("/api/regen/projects/T1", Some(&token)).await;
        assert_eq!(s, 200);
        r["holders"].as_array().unwrap().clone()
    };
    let resources = || async {
        let (s, r) = app.get("/api/regen/projects/T1/resources", Some(&token)).await;
        assert_eq!(s, 200, "{r}");
        r
    };
    let holders_file = holders_csv(&units[..4], &[]);
    let (s, first) = post_csv(
        &app,
        "/api/regen/projects/T1/holders/import",
        &token,
        holders_file.clone(),
    )
    .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        (first["imported"].as_i64(), first["added"].as_array().unwrap().len()),
        (Some(4), 4)
    );
    let (s, first) = post_csv(
        &app,
        "/api/regen/projects/T1/resources/import",
        &token,
        RESOURCES.into(),
    )
    .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["added"].as_array().unwrap().len(), 4, "{first}");
    let (h0, r0, e0) = (holders().await, resources().await, events().await.len());

    // The same files again: everything unchanged, nothing written.
    let (s, again) = post_csv(
        &app,
        "/api/regen/projects/T1/holders/import",
        &token,
        holders_file.clone(),
    )
    .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (
            again["imported"].as_i64(),
            again["added"].clone(),
            again["updated"].clone()
        ),
        (Some(4), json!([]), json!([])),
        "{again}"
    );
    assert_eq!(again["unchanged"], json!(["H01", "H02", "H03", "H04"]));
    let (s, again) = post_csv(
        &app,
        "/api/regen/projects/T1/resources/import",
        &token,
        RESOURCES.into(),
    )
    .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (again["added"].clone(), again["updated"].clone()),
        (json!([]), json!([])),
        "{again}"
    );
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 4);
    assert_eq!(holders().await, h0, "a re-import changes no holder");
    assert_eq!(resources().await, r0, "a re-import changes no resource");
    assert_eq!(events().await.len(), e0, "no event for unchanged rows");

    // A staff override survives a re-import that changes the holder: one update, one event.
    let (s, r) = app
        .send(
            "POST",
            "/api/regen/projects/T1/holders/H04/override",
            Some(&token),
            json!({ "scenario": "III", "reason": "继承人之间有争议" }),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let e1 = events().await.len();
    let changed = holders_csv(&units[..4], &[("H04", "120")]);
    let (s, r) = post_csv(&app, "/api/regen/projects/T1/holders/import", &token, changed.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["updated"], json!(["H04"]), "{r}");
    let (s, r) = post_csv(&app, "/api/regen/projects/T1/holders/import", &token, changed).await;
    assert_eq!((s, r["updated"].clone()), (200, json!([])), "{r}");
    let ev = events().await;
    assert_eq!(ev.len(), e1 + 1);
    assert_eq!(ev.last().unwrap().kind, "regen_holder_reimported");
    let (_, h) = app.get("/api/regen/projects/T1/holders/H04", Some(&token)).await;
    assert_eq!(
        h["row"]["classification"]["scenario"], "III",
        "the override is kept: {h}"
    );
    assert_eq!(holders().await.len(), 4);

    // Duplicate keys in one file: refused naming both lines, nothing stored.
    let mut dup = holders_csv(&units[..4], &[]);
    dup.push_str(&format!("H05,权利人H05,household,3,no,,,{},100,\n", units[1]));
    let (s, r) = post_csv(&app, "/api/regen/projects/T1/holders/import", &token, dup).await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(r["details"][0]["line"], 6, "{r}");
    assert!(r["details"][0]["message"].as_str().unwrap().contains("line 3"), "{r}");
    let dup = format!("{RESOURCES}policy,另一条,formal,policy,区住建局,,0,compensation,no\n");
    let (s, r) = post_csv(&app, "/api/regen/projects/T1/resources/import", &token, dup).await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(r["details"][0]["line"], 6, "{r}");
    assert!(r["details"][0]["message"].as_str().unwrap().contains("line 2"), "{r}");
    assert_eq!(events().await.len(), e1 + 1, "a refused file stores nothing");
    assert_eq!(holders().await.len(), 4);
}
