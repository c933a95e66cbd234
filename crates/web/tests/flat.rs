//! Flat governance over HTTP: layered routing with forwarding hops and flat direct dispatch,
//! responsibility lists and their check, push-downs, the workload early warning, forms demanded
//! from above, and the what-if replay.

use gongzhi_store::prelude::*;
use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

/// 邻里生活噪声扰民: the catalogue sends it to the community (the lists give 噪音扰民 to 生态环境局).
const NOISE: &str = "S0101-02";
/// 暴露垃圾: the catalogue sends it to the street office.
const RUBBISH: &str = "E0102-01";

fn point_in_first_grid() -> (f64, f64) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0)
}

fn community() -> String {
    small_demo().grids[0].community.to_string()
}

async fn new_case(app: &TestApp, token: &str, condition: &str, text: &str) -> i64 {
    let (lng, lat) = point_in_first_grid();
    let (s, v) = app
        .send(
            "POST",
            "/api/cases",
            Some(token),
            json!({"condition": condition, "description": text, "lng": lng, "lat": lat, "register": true}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["case"]["case"]["id"].as_i64().unwrap()
}

async fn step(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    app.send("POST", &format!("/api/cases/{id}/actions"), Some(token), body)
        .await
}

async fn ok(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    let (s, v) = step(app, token, id, body.clone()).await;
    assert_eq!(s, 200, "{body} → {v}");
    v
}

async fn login(app: &TestApp, username: &str, password: &str) -> String {
    let (_, v) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await;
    v["token"].as_str().unwrap().to_owned()
}

/// A handler account for a unit, created through the API by the administrator.
async fn handler(app: &TestApp, admin: &str, unit: i64, username: &str) -> String {
    let (s, v) = app
        .send("POST", "/api/people", Some(admin), json!({"name": "工作人员", "grants": [{"role": "department_handler", "scope": format!("organisation:{unit}")}], "username": username, "password": "handler-password"}))
        .await;
    assert_eq!(s, 201, "{v}");
    login(app, username, "handler-password").await
}

async fn org(app: &TestApp, kind: &str, code: &str) -> i64 {
    let (_, orgs) = app.get(&format!("/api/organisations?kind={kind}"), None).await;
    orgs.as_array()
        .unwrap()
        .iter()
        .find(|o| o["jurisdiction"][0] == code)
        .unwrap_or_else(|| panic!("no {kind} for {code}"))["id"]
        .as_i64()
        .unwrap()
}

async fn history(app: &TestApp, token: &str, id: i64) -> Vec<String> {
    let (_, v) = app.get(&format!("/api/cases/{id}"), Some(token)).await;
    v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn routing_hops_in_layered_and_flat_mode() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let leader = app.token("shiftleader").await;
    let dispatcher = app.token("dispatcher").await;
    let c = community();
    let (district, street) = (&c[..6], &c[..9]);

    // The district's command centre forwards at the district level.
    let (s, centre) = app
        .send(
            "POST",
            "/api/organisations",
            Some(&admin),
            json!({"name": "锦江区网格化服务管理中心", "kind": "command_centre", "jurisdiction": [district]}),
        )
        .await;
    assert_eq!(s, 201, "{centre}");
    let centre = centre["id"].as_i64().unwrap();
    let street_office = org(&app, "street_office", street).await;
    let committee = org(&app, "community_committee", &c).await;
    let centre_t = handler(&app, &admin, centre, "centre1").await;
    let street_t = handler(&app, &admin, street_office, "street1").await;
    let community_t = handler(&app, &admin, committee, "community1").await;

    // Layered (the default): city → district centre → street office → community.
    let (_, h) = app.get("/api/hierarchy", None).await;
    assert_eq!(h["levels"], json!(["city", "district", "street", "community", "grid"]));
    let id = new_case(&app, &leader, NOISE, "楼上住户深夜装修噪声扰民").await;
    let v = ok(&app, &dispatcher, id, json!({"type": "dispatch"})).await;
    let case = &v["case"];
    assert_eq!(case["unit"], committee);
    let route: Vec<i64> = case["route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["unit"].as_i64().unwrap())
        .collect();
    assert_eq!(route, [centre, street_office]);
    assert_eq!(case["hops_done"], 0);
    // The community cannot sign for it before the levels on the way forwarded it.
    let (s, e) = step(&app, &community_t, id, json!({"type": "accept"})).await;
    assert_eq!(s, 409, "{e}");
    assert!(e["message"].as_str().unwrap().contains("must forward it first"), "{e}");
    // The street office cannot forward before the district did.
    let (s, _) = step(&app, &street_t, id, json!({"type": "forward"})).await;
    assert_eq!(s, 403);
    // The units on the way see it in their inbox.
    let (_, mine) = app.get("/api/cases", Some(&street_t)).await;
    assert!(
        mine["cases"].as_array().unwrap().iter().any(|i| i["case"]["id"] == id),
        "{mine}"
    );
    let v = ok(&app, &centre_t, id, json!({"type": "forward"})).await;
    assert_eq!(v["case"]["hops_done"], 1);
    let v = ok(&app, &street_t, id, json!({"type": "forward"})).await;
    assert_eq!(v["case"]["hops_done"], 2);
    let reached = v["case"]["reached_at_ms"].as_i64().unwrap_or_else(|| panic!("{v}"));
    assert!(reached >= v["case"]["dispatched_at_ms"].as_i64().unwrap());
    let (s, _) = step(&app, &street_t, id, json!({"type": "forward"})).await;
    assert_eq!(s, 409, "nothing left to forward");
    ok(&app, &community_t, id, json!({"type": "accept"})).await;
    let layered_history = history(&app, &leader, id).await;
    assert_eq!(
        layered_history,
        [
            "collected",
            "registered",
            "dispatched",
            "routed",
            "forwarded",
            "forwarded",
            "accepted"
        ]
    );
    // Each hop is its own event with its own time and actor.
    let (_, v) = app.get(&format!("/api/cases/{id}"), Some(&leader)).await;
    let hops: Vec<&Value> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "forwarded")
        .collect();
    assert_eq!(hops.len(), 2);
    assert!(hops[0]["at"].as_i64() <= hops[1]["at"].as_i64());
    assert_ne!(hops[0]["actor"], hops[1]["actor"]);

    // Switch to flat: the next dispatch goes straight; the first case's history stays.
    let (s, v) = app
        .send(
            "PUT",
            "/api/hierarchy",
            Some(&admin),
            json!({"levels": ["city", "community", "grid"], "flat": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let id2 = new_case(&app, &leader, NOISE, "广场舞音响声音过大").await;
    let v = ok(&app, &dispatcher, id2, json!({"type": "dispatch"})).await;
    assert_eq!(v["case"]["route"], json!([]));
    assert_eq!(v["case"]["reached_at_ms"], v["case"]["dispatched_at_ms"]);
    ok(&app, &community_t, id2, json!({"type": "accept"})).await;
    assert_eq!(
        history(&app, &leader, id2).await,
        ["collected", "registered", "dispatched", "accepted"]
    );
    assert_eq!(
        history(&app, &leader, id).await,
        layered_history,
        "history is not rewritten"
    );
}

#[tokio::test]
async fn lists_check_push_downs_warning_demands_and_replay() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let leader = app.token("shiftleader").await;
    let dispatcher = app.token("dispatcher").await;
    let resident = app.token("resident").await;
    let c = community();

    // Lists: derived from the catalogue until some are stored.
    let r = app
        .client
        .get(app.url("/api/flat/responsibilities"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let derived = r.text().await.unwrap();
    assert!(derived.starts_with("level,owner,owner_kind,category,area,matter,time_limit,timer,may_delegate\n"));
    // A bad row is refused with its line; nothing is stored.
    let bad = format!("{derived}district,水务局,department,X01,510100,坏行,2,work_days,no\n");
    let line = bad.lines().count();
    let r = app
        .client
        .put(app.url("/api/flat/responsibilities"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains(&format!("line {line}")), "{e}");
    // Residents may not change them.
    let r = app
        .client
        .put(app.url("/api/flat/responsibilities"))
        .bearer_auth(&resident)
        .body(derived.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The demo lists, as XLSX: one conflict (路灯), one gap, the push-downs.
    let list = gongzhi_demo::flat::responsibility_list(&gongzhi_core::catalogue::Catalogue::default_cn());
    let xlsx = gongzhi_app::flat::list_xlsx(&list).unwrap();
    let r = app
        .client
        .put(app.url("/api/flat/responsibilities"))
        .bearer_auth(&admin)
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(xlsx)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["matters"], list.len());
    let (_, check) = app.get("/api/flat/check", Some(&leader)).await;
    let districts = small_demo()
        .divisions
        .iter()
        .filter(|d| d.level == gongzhi_core::territory::Level::District)
        .count();
    assert_eq!(
        check["conflicts"].as_array().unwrap().len(),
        districts,
        "路灯 in every district"
    );
    assert_eq!(check["gaps"].as_array().unwrap().len(), districts);
    assert!(check["push_downs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["condition"] == RUBBISH));

    // Two community cases and one street case, dispatched directly (flat).
    let (s, v) = app
        .send(
            "PUT",
            "/api/hierarchy",
            Some(&admin),
            json!({"levels": ["city", "community", "grid"], "flat": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let noise = new_case(&app, &leader, NOISE, "邻居深夜噪声扰民").await;
    ok(&app, &dispatcher, noise, json!({"type": "dispatch"})).await;
    let noise2 = new_case(&app, &leader, NOISE, "楼下商铺音响扰民").await;
    ok(&app, &dispatcher, noise2, json!({"type": "dispatch"})).await;
    let rubbish = new_case(&app, &leader, RUBBISH, "路口暴露垃圾").await;
    let v = ok(&app, &dispatcher, rubbish, json!({"type": "dispatch"})).await;
    assert_eq!(v["case"]["unit_level"], "street");

    // A worker of the community committee signs for one of them: a step in the period.
    let committee = org(&app, "community_committee", &c).await;
    let (s, worker) = app
        .send("POST", "/api/people", Some(&admin), json!({"name": "社区专干", "org": committee, "grants": [{"role": "department_handler", "scope": format!("organisation:{committee}")}], "username": "sqzg1", "password": "handler-password"}))
        .await;
    assert_eq!(s, 201, "{worker}");
    let worker_t = login(&app, "sqzg1", "handler-password").await;
    ok(&app, &worker_t, noise, json!({"type": "accept"})).await;

    // Staffing: one worker; warning threshold 1.5 cases per worker; a form demanded.
    app.db
        .store
        .set_setting(CityCode::of("510100"), "flat_max_per_worker", "1.5", None)
        .await
        .unwrap();
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    app.db
        .store
        .set_staffing(
            CityCode::of("510100"),
            &c,
            &today.format("%Y-%m-01").to_string(),
            1,
            None,
        )
        .await
        .unwrap();
    let (s, v) = app
        .send("POST", "/api/flat/demands", Some(&leader), json!({"demanded_by": "区民政局", "unit_area": c, "title": "低保复核表", "due": today.to_string(), "hours_spent": 3.5}))
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .send("POST", "/api/flat/demands", Some(&leader), json!({"demanded_by": "区民政局", "unit_area": "510104", "title": "x", "due": today.to_string(), "hours_spent": 1}))
        .await;
    assert_eq!(s, 422, "{v}");

    let (s, w) = app
        .get(&format!("/api/flat/workload?from={today}&to={today}"), Some(&leader))
        .await;
    assert_eq!(s, 200, "{w}");
    let row = w["communities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["community"] == c.as_str())
        .unwrap_or_else(|| panic!("{w}"));
    // 2 cases, both pushed down (噪音扰民 belongs to 生态环境局), 1 worker → 2 per worker.
    assert_eq!(row["cases"], 2);
    assert_eq!(row["push_downs"], 2);
    assert_eq!(row["staff"], 1);
    assert_eq!(row["per_worker"], 2.0);
    assert_eq!(
        (row["demands"].as_u64(), row["demand_hours"].as_f64()),
        (Some(1), Some(3.5))
    );
    assert_eq!(
        row["workers"],
        json!([{"person": worker["id"], "name": "社区专干", "steps": 1}])
    );
    let warnings: Vec<&str> = row["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, ["over_threshold"]);
    let pushed: Vec<i64> = w["push_downs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["case_id"].as_i64().unwrap())
        .collect();
    for id in [noise, noise2, rubbish] {
        assert!(pushed.contains(&id), "{id} in {pushed:?}");
    }
    assert!(w["push_downs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["owner"].as_str().unwrap().starts_with("区县/")));
    assert_eq!(w["street_cases"][&c[..9]], 1);

    // What-if: the recorded (flat) intake under the layered hierarchy.
    let (s, r) = app
        .get(
            &format!("/api/flat/replay?hierarchy=layered&from={today}&to={today}"),
            Some(&leader),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["configured"], "flat");
    assert_eq!(r["cases"], 3);
    assert_eq!(r["columns"][0][0], "flat");
    assert_eq!(r["columns"][1][0], "layered");
    assert_eq!(r["columns"][0][1]["hops_per_case"], 0.0);
    // Layered: the community matters pass district and street (2 hops), the street one the district (1).
    assert_eq!(r["columns"][1][1]["hops_per_case"], 5.0 / 3.0);
    assert!(r["assumptions"].as_array().unwrap().len() >= 5);
    let (s, _) = app.get("/api/flat/replay?hierarchy=sideways", Some(&leader)).await;
    assert_eq!(s, 422);
    let (s, _) = app.get("/api/flat/workload", Some(&resident)).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn pages_in_both_languages() {
    let app = TestApp::spawn().await;
    let leader = app.token("shiftleader").await;
    let dispatcher = app.token("dispatcher").await;
    let id = new_case(&app, &leader, NOISE, "夜间噪声扰民").await;
    ok(&app, &dispatcher, id, json!({"type": "dispatch"})).await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let browser = app.browser("shiftleader").await;
    let page = |path: String| {
        let b = browser.clone();
        let url = app.url(&path);
        async move {
            let r = b.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(format!("/flat?from={today}&to={today}")).await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("基层负担热力图") && html.contains("<svg class=\"map\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("/cases/{id}")),
        "the push-down list links the case"
    );
    let (_, html) = page(format!("/flat?from={today}&to={today}&lang=en")).await;
    assert!(html.contains("Workload heat map") && html.contains("Department matters pushed down"));
    let (s, html) = page("/flat/lists?lang=zh".into()).await;
    assert_eq!(s, 200);
    // The lists derived from the catalogue: no conflict or gap; in every district the two
    // conditions that send a department's matter to the grassroots (公共厕所保洁, 邻里噪声).
    let districts = small_demo()
        .divisions
        .iter()
        .filter(|d| d.level == gongzhi_core::territory::Level::District)
        .count();
    assert!(
        html.contains("职责交叉") && html.contains("id=\"conflict-count\">0<"),
        "{html}"
    );
    assert!(html.contains(&format!("id=\"push-down-count\">{}<", 2 * districts)));
    let (s, html) = page(format!("/flat/replay?hierarchy=flat&from={today}&to={today}&lang=en")).await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"replay-chart\"") && html.contains("Model assumptions") && html.contains("layered"));
    let resident = app.browser("resident").await;
    let r = resident.get(app.url("/flat")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
