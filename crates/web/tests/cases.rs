//! The case closed loop over HTTP: one case through every path, a whistle with three
//! departments, two dispatchers at once, duplicates, photos, indicators.

use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

fn point_in_first_grid() -> (f64, f64) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0)
}

/// 电力井盖破损: 3 working days, dispatched to the district's urban management bureau.
const CONDITION: &str = "C0105-02";

async fn report(app: &TestApp, token: &str, description: &str, register: bool) -> Value {
    let (lng, lat) = point_in_first_grid();
    let (s, v) = app
        .send("POST", "/api/cases", Some(token), json!({"condition": CONDITION, "description": description, "lng": lng, "lat": lat, "register": register, "contact_phone": "19900001111"}))
        .await;
    assert_eq!(s, 201, "{v}");
    v
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

async fn org_id(app: &TestApp, suffix: &str, district: &str) -> i64 {
    let (_, orgs) = app.get("/api/organisations?kind=functional_department", None).await;
    orgs.as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"].as_str().unwrap().ends_with(suffix) && o["jurisdiction"][0] == district)
        .unwrap_or_else(|| panic!("no {suffix} in {district}"))["id"]
        .as_i64()
        .unwrap()
}

/// A handler account for a unit, created through the API by the administrator.
async fn handler(app: &TestApp, admin: &str, unit: i64, username: &str) -> String {
    let (s, v) = app
        .send("POST", "/api/people", Some(admin), json!({"name": "处置员", "grants": [{"role": "department_handler", "scope": format!("organisation:{unit}")}], "username": username, "password": "handler-password"}))
        .await;
    assert_eq!(s, 201, "{v}");
    let (_, login) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": username, "password": "handler-password"}),
        )
        .await;
    login["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn one_case_through_every_path() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let acceptor = app.token("acceptor").await;
    let dispatcher = app.token("dispatcher").await;
    let leader = app.token("shiftleader").await;
    let dept = app.token("department").await;
    let worker = app.token("gridworker").await;

    let created = report(&app, &resident, "人民路电力井盖破损，车辆经过有响声", false).await;
    let id = created["case"]["case"]["id"].as_i64().unwrap();
    assert_eq!(created["case"]["case"]["state"], "collected");
    assert_eq!(created["case"]["case"]["grid"], small_demo().grids[0].code.as_str());

    // Illegal step: 409 with the state and the steps allowed from there.
    let (s, e) = step(&app, &dispatcher, id, json!({"type": "accept"})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("illegal_step")), "{e}");
    assert_eq!(e["details"]["state"], "collected");
    assert!(e["details"]["allowed"].as_array().unwrap().contains(&json!("register")));
    // A role the table does not allow: 403.
    let (s, _) = step(&app, &resident, id, json!({"type": "register"})).await;
    assert_eq!(s, 403);

    ok(&app, &leader, id, json!({"type": "register"})).await;
    let (_, detail) = app.get(&format!("/api/cases/{id}"), Some(&dispatcher)).await;
    let proposal = &detail["proposal"];
    assert!(
        proposal["unit_name"]
            .as_str()
            .unwrap()
            .ends_with("城市管理和综合执法局"),
        "{detail}"
    );
    let unit = proposal["unit"].as_i64().unwrap();
    assert_eq!(detail["contact"]["phone"], "19900001111", "staff see the contact");
    let (_, mine) = app.get(&format!("/api/cases/{id}"), Some(&resident)).await;
    assert_eq!(
        mine["contact"]["phone"], "19900001111",
        "the reporter sees their own contact"
    );

    // Dispatch by the catalogue's proposal, return within the window, re-dispatch.
    let v = ok(&app, &dispatcher, id, json!({"type": "dispatch"})).await;
    assert_eq!(v["case"]["unit"], unit);
    let (s, _) = step(&app, &worker, id, json!({"type": "return", "reason": "不归我管"})).await;
    assert_eq!(s, 403, "a grid worker cannot return a department's case");
    ok(&app, &dept, id, json!({"type": "return", "reason": "不属于本单位职责"})).await;
    ok(&app, &dispatcher, id, json!({"type": "dispatch", "unit": unit})).await;
    // Returned again: the street blows the whistle (吹哨), the unit leads and three departments report.
    ok(&app, &dept, id, json!({"type": "return", "reason": "需多部门联合处置"})).await;
    let admin = app.token("admin").await;
    let district = &small_demo().grids[0].community.as_str()[..6];
    let co = futures_join(&app, district).await;
    let v = ok(
        &app,
        &leader,
        id,
        json!({"type": "whistle", "lead": unit, "co_units": co}),
    )
    .await;
    assert_eq!(v["case"]["whistle"]["co_units"].as_array().unwrap().len(), 3);
    for (i, u) in co.iter().enumerate() {
        let t = handler(&app, &admin, *u, &format!("path.handler{i}")).await;
        ok(&app, &t, id, json!({"type": "report_to_whistle", "unit": u})).await;
    }
    ok(&app, &dept, id, json!({"type": "accept"})).await;

    // Three extensions approved, the fourth request refused.
    for i in 0..3 {
        ok(
            &app,
            &dept,
            id,
            json!({"type": "request_extension", "reason": format!("等待配件 {i}"), "extra_amount": 1}),
        )
        .await;
        ok(&app, &leader, id, json!({"type": "approve_extension"})).await;
    }
    let (s, e) = step(
        &app,
        &dept,
        id,
        json!({"type": "request_extension", "reason": "还要等", "extra_amount": 1}),
    )
    .await;
    assert_eq!(s, 409, "{e}");

    // Handled, verification fails (rework), handled again, verified.
    ok(&app, &dept, id, json!({"type": "report_handled", "note": "已更换井盖"})).await;
    ok(
        &app,
        &worker,
        id,
        json!({"type": "verify_fail", "reason": "井盖仍松动"}),
    )
    .await;
    // The deadline passes while the unit reworks: the sweep marks it overdue.
    let state = gongzhi_web::AppState::new(app.db.store.clone(), gongzhi_demo::CITY)
        .await
        .unwrap();
    let later = gongzhi_store::now_ms() + 60 * 24 * 3600 * 1000;
    assert_eq!(
        gongzhi_app::cases::sweep(&state, gongzhi_demo::CITY, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        gongzhi_app::cases::sweep(&state, gongzhi_demo::CITY, later)
            .await
            .unwrap(),
        0,
        "marked once"
    );
    ok(&app, &dept, id, json!({"type": "report_handled", "note": "已加固"})).await;
    ok(&app, &worker, id, json!({"type": "verify_pass"})).await;
    let v = ok(&app, &leader, id, json!({"type": "close"})).await;
    assert_eq!(v["case"]["close_kind"], "overdue");
    ok(
        &app,
        &acceptor,
        id,
        json!({"type": "follow_up", "contacted": true, "solved": true, "satisfaction": "basically_satisfied"}),
    )
    .await;
    let (s, e) = step(&app, &leader, id, json!({"type": "close"})).await;
    assert_eq!((s, e["details"]["state"].as_str()), (409, Some("evaluated")));

    let (_, detail) = app.get(&format!("/api/cases/{id}"), Some(&leader)).await;
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "collected",
            "registered",
            "dispatched",
            "returned",
            "dispatched",
            "returned",
            "whistled",
            "dispatched",
            "unit_reported",
            "unit_reported",
            "unit_reported",
            "accepted",
            "extension_requested",
            "extension_approved",
            "extension_requested",
            "extension_approved",
            "extension_requested",
            "extension_approved",
            "handling_reported",
            "verification_failed",
            "supervised",
            "handling_reported",
            "verification_passed",
            "closed",
            "followed_up"
        ]
    );
    assert_eq!(detail["case"]["reworks"], 1);
    assert_eq!(detail["case"]["returns"], 2);
    assert_eq!(detail["case"]["extensions"], 3);

    // Indicators of the unit and of the grid, kept incrementally.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    // The sweep recorded the overdue mark 60 days ahead, on that day.
    let until = (chrono::Utc::now() + chrono::Duration::days(70))
        .format("%Y-%m-%d")
        .to_string();
    let (s, ind) = app
        .get(
            &format!("/api/indicators?dim=unit&key={unit}&from={today}&to={until}"),
            Some(&leader),
        )
        .await;
    assert_eq!(s, 200, "{ind}");
    let c = &ind["counters"];
    assert_eq!(
        (c["dispatched"].as_u64(), c["returned"].as_u64(), c["closed"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        (
            c["closed_on_time"].as_u64(),
            c["due_to_close"].as_u64(),
            c["overdue"].as_u64()
        ),
        (Some(0), Some(1), Some(1))
    );
    assert_eq!(ind["rates"]["closure_rate"], "100.00%");
    assert_eq!(ind["rates"]["on_time_closure_rate"], "0.00%");
    assert_eq!(ind["rates"]["rework_rate"], "100.00%");
    assert_eq!(ind["rates"]["return_rate"], "66.67%");
    assert_eq!(ind["rates"]["satisfaction_rate"], "90.00%");
    let grid = small_demo().grids[0].code.as_str();
    let (_, by_grid) = app
        .get(
            &format!("/api/indicators?dim=area&key={grid}&from={today}&to={today}"),
            Some(&leader),
        )
        .await;
    assert_eq!(by_grid["counters"]["collected"], 1);
    let (s, _) = app
        .get(
            &format!("/api/indicators?dim=area&key={grid}&from={today}&to={today}"),
            Some(&resident),
        )
        .await;
    assert_eq!(s, 403);
    let (s, rank) = app
        .get(
            &format!("/api/indicators/breakdown?dim=unit&from={today}&to={today}"),
            Some(&leader),
        )
        .await;
    assert_eq!(s, 200);
    assert!(rank
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["group"].as_str() == Some(unit.to_string().as_str())));
}

#[tokio::test]
async fn whistle_with_three_departments() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let leader = app.token("shiftleader").await;
    let dept = app.token("department").await;
    let district = &small_demo().grids[0].community.as_str()[..6];
    let lead = org_id(&app, "城市管理和综合执法局", district).await;
    let co: Vec<i64> = futures_join(&app, district).await;
    let mut co_tokens = Vec::new();
    for (i, u) in co.iter().enumerate() {
        co_tokens.push(handler(&app, &admin, *u, &format!("co.handler{i}")).await);
    }
    let created = report(&app, &leader, "小区外墙脱落，多部门联合处置", true).await;
    let id = created["case"]["case"]["id"].as_i64().unwrap();
    let v = ok(
        &app,
        &leader,
        id,
        json!({"type": "whistle", "lead": lead, "co_units": co}),
    )
    .await;
    assert_eq!(v["case"]["state"], "dispatched");
    assert_eq!(v["case"]["whistle"]["co_units"].as_array().unwrap().len(), 3);
    // Each co-unit reports (报到); one that is not a member cannot.
    for (u, t) in co.iter().zip(&co_tokens) {
        ok(&app, t, id, json!({"type": "report_to_whistle", "unit": u})).await;
    }
    let (s, _) = step(
        &app,
        &dept,
        id,
        json!({"type": "report_to_whistle", "unit": lead + 1000}),
    )
    .await;
    assert!(s == 403 || s == 409 || s == 422, "{s}");
    ok(&app, &dept, id, json!({"type": "accept"})).await;
    // Co-units see the joint case in their inbox.
    let (_, list) = app.get("/api/cases", Some(&co_tokens[0])).await;
    assert!(list["cases"].as_array().unwrap().iter().any(|c| c["case"]["id"] == id));
    let (_, detail) = app.get(&format!("/api/cases/{id}"), Some(&leader)).await;
    let reported = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "unit_reported")
        .count();
    assert_eq!(reported, 3);
}

async fn futures_join(app: &TestApp, district: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for suffix in ["住房和城乡建设局", "市场监督管理局", "生态环境局"] {
        out.push(org_id(app, suffix, district).await);
    }
    out
}

#[tokio::test]
async fn two_dispatchers_at_once_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let leader = app.token("shiftleader").await;
    let dispatcher = app.token("dispatcher").await;
    let district = &small_demo().grids[0].community.as_str()[..6];
    let a = org_id(&app, "城市管理和综合执法局", district).await;
    let b = org_id(&app, "住房和城乡建设局", district).await;
    for round in 0..5 {
        let created = report(&app, &leader, &format!("并发派遣测试 {round}"), true).await;
        let id = created["case"]["case"]["id"].as_i64().unwrap();
        let version = created["case"]["case"]["version"].as_u64().unwrap();
        let (r1, r2) = tokio::join!(
            step(
                &app,
                &dispatcher,
                id,
                json!({"type": "dispatch", "unit": a, "version": version})
            ),
            step(
                &app,
                &leader,
                id,
                json!({"type": "dispatch", "unit": b, "version": version})
            ),
        );
        let mut statuses = [r1.0, r2.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{r1:?} {r2:?}");
        let (_, detail) = app.get(&format!("/api/cases/{id}"), Some(&leader)).await;
        let dispatched = detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "dispatched")
            .count();
        assert_eq!(dispatched, 1, "nothing lost, nothing doubled");
        let winner = if r1.0 == 200 { a } else { b };
        assert_eq!(detail["case"]["unit"], winner);
    }
}

#[tokio::test]
async fn duplicates_are_offered_and_merged() {
    let app = TestApp::spawn().await;
    let acceptor = app.token("acceptor").await;
    let first = report(&app, &acceptor, "人民路12号电力井盖破损", false).await;
    let first_id = first["case"]["case"]["id"].as_i64().unwrap();
    assert!(first["possible_duplicates"].as_array().unwrap().is_empty());
    let second = report(&app, &acceptor, "人民路12号电力井盖破损了", false).await;
    let dups = second["possible_duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0]["id"], first_id);
    let other = report(&app, &acceptor, "路灯不亮", false).await;
    assert!(
        other["possible_duplicates"].as_array().unwrap().is_empty(),
        "different text is not a duplicate"
    );
    let second_id = second["case"]["case"]["id"].as_i64().unwrap();
    let v = ok(&app, &acceptor, second_id, json!({"type": "merge", "into": first_id})).await;
    assert_eq!(v["case"]["state"], "merged");
    let (_, survivor) = app.get(&format!("/api/cases/{first_id}"), Some(&acceptor)).await;
    assert_eq!(survivor["case"]["duplicates"], json!([second_id]));
}

/// A resident's duplicate hints show other people's reports as the public sees them: contacts
/// masked and the distance to 10 m; staff see the text as reported.
#[tokio::test]
async fn duplicate_hints_to_residents_mask_what_open311_masks() {
    let app = TestApp::spawn().await;
    let acceptor = app.token("acceptor").await;
    let resident = app.token("resident").await;
    let first = report(&app, &acceptor, "人民路12号电力井盖破损，王先生13800138000", false).await;
    let first_id = first["case"]["case"]["id"].as_i64().unwrap();
    let seen = report(&app, &resident, "人民路12号电力井盖破损了", false).await;
    let hint = &seen["possible_duplicates"][0];
    assert_eq!(hint["id"], first_id, "{seen}");
    let text = hint["description"].as_str().unwrap();
    assert!(!text.contains("13800138000") && text.contains("***"), "{text}");
    let d = hint["distance_m"].as_f64().unwrap();
    assert_eq!(d % 10.0, 0.0, "a resident sees the distance to 10 m: {d}");
    let staff = report(&app, &acceptor, "人民路12号电力井盖破损啦", false).await;
    let full = staff["possible_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == first_id)
        .expect("the first report is a hint for staff too");
    assert!(full["description"].as_str().unwrap().contains("13800138000"));
}

#[tokio::test]
async fn photos_and_visibility() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let created = report(&app, &resident, "垃圾桶破损", false).await;
    let id = created["case"]["case"]["id"].as_i64().unwrap();
    let png = [0x89u8, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];
    let r = app
        .client
        .post(app.url(&format!("/api/cases/{id}/photos")))
        .bearer_auth(&resident)
        .header("content-type", "image/png")
        .body(png.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let pid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/cases/{id}/photos")))
        .bearer_auth(&resident)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let got = app
        .client
        .get(app.url(&format!("/api/cases/{id}/photos/{pid}")))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), png);
    // Another resident's or a department's view: not theirs.
    let dept = app.token("department").await;
    let (s, _) = app.get(&format!("/api/cases/{id}"), Some(&dept)).await;
    assert_eq!(s, 404, "a department sees only its own cases");
    let (_, list) = app.get("/api/cases", Some(&resident)).await;
    assert_eq!(list["total"], 1);
    let (s, _) = app.get("/api/cases", None).await;
    assert_eq!(s, 401);
    let (s, e) = app
        .send(
            "POST",
            "/api/cases",
            Some(&resident),
            json!({"condition": "X9999-01", "description": "x", "lng": 104.0, "lat": 30.6}),
        )
        .await;
    assert_eq!(s, 422);
    assert!(e["message"].as_str().unwrap().contains("condition"), "{e}");
}

#[tokio::test]
async fn the_catalogue_and_calendar_are_editable_data() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/api/catalogue")).send().await.unwrap();
    let csv = r.text().await.unwrap();
    assert!(csv.contains("电力井盖"));
    let admin = app.token("admin").await;
    let edited = csv.replace(
        "电力井盖,02,井盖破损、移位,3,work_days",
        "电力井盖,02,井盖破损、移位,5,work_days",
    );
    let r = app
        .client
        .put(app.url("/api/catalogue"))
        .bearer_auth(&admin)
        .body(edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .put(app.url("/api/catalogue"))
        .bearer_auth(&admin)
        .body("kind,nonsense\n1,2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let now = app
        .client
        .get(app.url("/api/catalogue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        now.contains("井盖破损、移位,5,work_days"),
        "the bad edit changed nothing"
    );
    let dispatcher = app.token("dispatcher").await;
    let r = app
        .client
        .put(app.url("/api/calendar"))
        .bearer_auth(&dispatcher)
        .body("date,kind,name_en,name_zh\n2027-01-01,holiday,New Year,元旦\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .put(app.url("/api/calendar"))
        .bearer_auth(&admin)
        .body("date,kind,name_en,name_zh\n2027-01-01,holiday,New Year,元旦\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// The per-city context caches the parsed catalogue; saving a catalogue drops it, so the next
/// report already follows the new one.
#[tokio::test]
async fn a_saved_catalogue_applies_to_the_next_report_at_once() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    report(&app, &resident, "电力井盖破损，井盖翘起", false).await;
    let csv = app
        .client
        .get(app.url("/api/catalogue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let without: String = csv
        .lines()
        .filter(|l| !l.contains("电力井盖,02,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(without.len() < csv.len(), "the condition is in the shipped catalogue");
    let admin = app.token("admin").await;
    let r = app
        .client
        .put(app.url("/api/catalogue"))
        .bearer_auth(&admin)
        .body(without)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (lng, lat) = point_in_first_grid();
    let (s, e) = app
        .send(
            "POST",
            "/api/cases",
            Some(&resident),
            json!({"condition": CONDITION, "description": "电力井盖破损，又一处", "lng": lng, "lat": lat}),
        )
        .await;
    assert_eq!(s, 422, "the removed condition is refused at once: {e}");
}

#[tokio::test]
async fn the_sweep_warns_near_the_deadline_and_marks_overdue_once() {
    let app = TestApp::spawn().await;
    let leader = app.token("shiftleader").await;
    let dispatcher = app.token("dispatcher").await;
    let created = report(&app, &leader, "预警测试", true).await;
    let id = created["case"]["case"]["id"].as_i64().unwrap();
    let v = ok(&app, &dispatcher, id, json!({"type": "dispatch"})).await;
    let deadline = v["case"]["deadline_ms"].as_i64().unwrap();
    let state = gongzhi_web::AppState::new(app.db.store.clone(), gongzhi_demo::CITY)
        .await
        .unwrap();
    let sweep = |at: i64| {
        let state = state.clone();
        async move { gongzhi_app::cases::sweep(&state, gongzhi_demo::CITY, at).await.unwrap() }
    };
    assert_eq!(
        sweep(deadline - 30 * 60 * 1000).await,
        1,
        "a warning half an hour before"
    );
    assert_eq!(sweep(deadline - 20 * 60 * 1000).await, 0, "warned once");
    assert_eq!(sweep(deadline + 60 * 1000).await, 1, "overdue after the deadline");
    assert_eq!(sweep(deadline + 120 * 1000).await, 0, "marked once");
    let (_, detail) = app.get(&format!("/api/cases/{id}"), Some(&leader)).await;
    let levels: Vec<u64> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "supervised")
        .map(|e| e["event"]["level"].as_u64().unwrap())
        .collect();
    assert_eq!(levels, [1, 2]);
    assert_eq!(detail["case"]["overdue"], true);
}

#[tokio::test]
async fn the_report_page_finds_a_place_by_name_and_takes_photos() {
    let app = TestApp::spawn().await;
    let client = app.browser("resident").await;
    let grid = &small_demo().grids[1];
    let form = [
        ("condition", CONDITION),
        ("description", "按地址上报的问题"),
        ("address", grid.name.as_str()),
        ("lng", ""),
        ("lat", ""),
    ];
    let r = client.post(app.url("/cases/new")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let url = r.url().to_string();
    assert!(url.contains("/cases/"), "{url}");
    let page = r.text().await.unwrap();
    assert!(page.contains(grid.code.as_str()), "placed in the named grid");
    let bad = [
        ("condition", CONDITION),
        ("description", "x"),
        ("address", "没有这个地方"),
        ("lng", ""),
        ("lat", ""),
    ];
    let r = client.post(app.url("/cases/new")).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("address-error") && page.contains("没有这个地方"),
        "error beside the field, input kept"
    );
    let png = vec![0x89u8, b'P', b'N', b'G', 13, 10, 26, 10];
    let part = reqwest::multipart::Part::bytes(png)
        .file_name("p.png")
        .mime_str("image/png")
        .unwrap();
    let r = client
        .post(format!("{url}/photo"))
        .multipart(reqwest::multipart::Form::new().part("photo", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text().await.unwrap().contains("/media/"),
        "the photo shows on the case page"
    );
}

#[tokio::test]
async fn indicators_stay_correct_under_concurrent_work() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let acceptor = app.token("acceptor").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (app, token) = (app.clone(), acceptor.clone());
        tasks.spawn(async move { report(&app, &token, &format!("并发上报 {i} 号"), i % 2 == 0).await });
    }
    let mut ids = Vec::new();
    while let Some(r) = tasks.join_next().await {
        ids.push(r.unwrap()["case"]["case"]["id"].as_i64().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24);
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    let (_, ind) = app
        .get(
            &format!("/api/indicators?dim=area&key=510100&from={today}&to={today}"),
            Some(&acceptor),
        )
        .await;
    assert_eq!(ind["counters"]["collected"], 24);
    assert_eq!(ind["counters"]["registered"], 12);
}

#[tokio::test]
async fn the_dashboard_exports_csv_and_xlsx_and_refuses_residents() {
    let app = TestApp::spawn().await;
    let acceptor = app.token("acceptor").await;
    report(&app, &acceptor, "导出测试", true).await;
    let admin = app.browser("admin").await;
    let page = admin
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("kpi-collected") && page.contains("<svg"));
    let csv = admin.get(app.url("/dashboard.csv")).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}') && text.contains("锦江区"), "{text}");
    let xlsx = admin.get(app.url("/dashboard.xlsx")).send().await.unwrap();
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"), "a zip container");
    let resident = app.browser("resident").await;
    let r = resident.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text().await.unwrap().contains("<html"),
        "an HTML error page, not JSON"
    );
}

/// A client that retries a report after a cut connection, with the same `Idempotency-Key`, gets
/// the first case back and makes nothing twice, also when the retries race; the same key with
/// another report is refused; keys are per person.
#[tokio::test]
async fn a_retried_report_with_the_same_idempotency_key_makes_one_case() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let acceptor = app.token("acceptor").await;
    let (lng, lat) = point_in_first_grid();
    let body = json!({"condition": CONDITION, "description": "井盖松动 retry", "lng": lng, "lat": lat});
    let post = |token: String, key: &'static str, body: Value| {
        let (client, url) = (app.client.clone(), app.url("/api/cases"));
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (r.status().as_u16(), replayed, r.json::<Value>().await.unwrap())
        }
    };
    let count = || async {
        app.get("/api/cases?page_size=1", Some(&acceptor)).await.1["total"]
            .as_i64()
            .unwrap()
    };
    let before = count().await;

    let (s1, r1, first) = post(resident.clone(), "k-0001", body.clone()).await;
    assert_eq!((s1, r1), (201, false), "{first}");
    assert!(first["case"]["case"]["id"].as_i64().is_some(), "{first}");
    let (s2, r2, again) = post(resident.clone(), "k-0001", body.clone()).await;
    assert_eq!((s2, r2), (201, true), "{again}");
    assert_eq!(again["case"]["case"]["id"], first["case"]["case"]["id"]);
    assert_eq!(count().await, before + 1);

    // Eight retries at once with a fresh key: one case.
    let racing: Vec<_> = (0..8)
        .map(|_| tokio::spawn(post(resident.clone(), "k-0002", body.clone())))
        .collect();
    let mut answers = Vec::new();
    for r in racing {
        answers.push(r.await.unwrap());
    }
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(s, _, v)| {
            assert_eq!(*s, 201, "{v}");
            v["case"]["case"]["id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| !a.1).count(), 1, "exactly one made the case");
    assert_eq!(count().await, before + 2);

    // The same key with another report: refused, nothing made.
    let other = json!({"condition": CONDITION, "description": "另一个问题", "lng": lng, "lat": lat});
    let (s, _, refused) = post(resident.clone(), "k-0001", other.clone()).await;
    assert_eq!(s, 422, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("different request"),
        "{refused}"
    );
    // Keys belong to their sender: another person's k-0001 is a new report.
    let (s, replayed, theirs) = post(acceptor.clone(), "k-0001", other).await;
    assert_eq!((s, replayed), (201, false), "{theirs}");
    assert_ne!(theirs["case"]["case"]["id"], first["case"]["case"]["id"]);
    // A bad key is refused with what to send.
    let (s, _, bad) = post(resident.clone(), "key with spaces", body).await;
    assert_eq!(s, 422, "{bad}");
    assert_eq!(count().await, before + 3);
}

/// A point outside the city's territory is not a case of the city: (0, 0), San Francisco and
/// Beijing are refused with the reason on the API and in Open311's error format, and nothing is
/// stored; a lookup there says it is outside.
#[tokio::test]
async fn points_outside_the_city_are_refused_on_every_intake_path() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let acceptor = app.token("acceptor").await;
    let count = || async {
        app.get("/api/cases?page_size=1", Some(&acceptor)).await.1["total"]
            .as_i64()
            .unwrap()
    };
    let before = count().await;
    for (lng, lat) in [(0.0, 0.0), (-122.4194, 37.7749), (116.397, 39.909)] {
        let (s, v) = app
            .send(
                "POST",
                "/api/cases",
                Some(&resident),
                json!({"condition": CONDITION, "description": "远方的井盖", "lng": lng, "lat": lat}),
            )
            .await;
        assert_eq!(s, 422, "({lng}, {lat}): {v}");
        assert!(v["message"].as_str().unwrap().contains("outside"), "{v}");
        let (s, v) = app
            .get(&format!("/api/grids/lookup?lng={lng}&lat={lat}"), Some(&acceptor))
            .await;
        if s == 200 {
            assert_eq!(v["inside"], json!(false), "{v}");
        }
    }
    let state = gongzhi_app::AppState::lazy(app.db.store.clone(), gongzhi_demo::CITY);
    let key = gongzhi_app::open311::create_key(&state, gongzhi_demo::CITY, "far away")
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", CONDITION),
            ("lat", "39.909"),
            ("long", "116.397"),
            ("description", "北京的井盖"),
            ("attribute[hazard]", "medium"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body[0]["description"].as_str().unwrap().contains("outside"), "{body}");
    assert_eq!(count().await, before);
}
