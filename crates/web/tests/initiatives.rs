//! Wicked-problem initiatives over HTTP: a Q-town scenario (a park of 200 units), a canary crawl
//! that back-stage content never reaches the front stage or the public, and a refused units file.

use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

/// A park of 4 buildings × 10 floors × 5 units in the first grid of the demo's first community.
fn park_csv() -> String {
    let grid = &small_demo().grids[0];
    let mut csv = String::from("building,building_name,community,grid,floors,unit,floor,area_m2,use\n");
    for b in 1..=4 {
        for floor in 1..=10 {
            for n in 1..=5 {
                let area = 40 + n * 10; // 50, 60, 70, 80, 90 m²: 350 m² a floor
                csv += &format!(
                    "P{b},园区{b}号楼,{},{},10,P{b}-{floor:02}{n:02},{floor},{area},industrial\n",
                    grid.community, grid.code
                );
            }
        }
    }
    csv
}

async fn post_bytes(app: &TestApp, token: &str, path: &str, body: String) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn step(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    let (_, now) = app.get(&format!("/api/initiatives/{id}"), Some(token)).await;
    let mut body = body;
    body["version"] = now["version"].clone();
    app.send("POST", &format!("/api/initiatives/{id}/steps"), Some(token), body)
        .await
}

async fn ok(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    let (s, v) = step(app, token, id, body.clone()).await;
    assert_eq!(s, 200, "{body} → {v}");
    v
}

async fn person_id(app: &TestApp, token: &str) -> i64 {
    let (_, me) = app.get("/api/me", Some(token)).await;
    me["person_id"].as_i64().unwrap_or_else(|| panic!("{me}"))
}

/// Open the park's initiative as the street office, with its units, 50 parties of 4 units each
/// and the committee member on the front stage.
async fn open_park(app: &TestApp, back: &str, front_person: i64) -> i64 {
    let community = small_demo().grids[0].community.to_string();
    let (s, v) = app
        .send(
            "POST",
            "/api/initiatives",
            Some(back),
            json!({"name": "Q镇产业园类住宅整治", "problem": "quasi_residential", "community": community, "scope": "产业园 P1–P4 号楼"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["seat"], "back");
    let (s, v) = post_bytes(app, back, &format!("/api/initiatives/{id}/units"), park_csv()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["progress"]["units"], 200);
    let mut parties = String::from("name,kind,units\n");
    // Party p holds units 4p … 4p+3 in the order building, floor, unit (some span two buildings).
    for p in 0..50 {
        let units: Vec<String> = (4 * p..4 * p + 4)
            .map(|i| {
                let idx = i % 50;
                format!("P{}-{:02}{:02}", i / 50 + 1, idx / 5 + 1, idx % 5 + 1)
            })
            .collect();
        parties += &format!("业主{p},owner,{}\n", units.join(";"));
    }
    let (s, v) = post_bytes(app, back, &format!("/api/initiatives/{id}/parties"), parties).await;
    assert_eq!(s, 200, "{v}");
    // The committee: nomination and election among the parties, paper ballots entered by the
    // back stage; the committee member is elected (more than half of the ballots), the other not.
    let (s, e) = step(
        app,
        back,
        id,
        json!({"step": "elect_committee", "seats": 1, "candidates": [front_person], "ballots": vec![vec![front_person]; 51]}),
    )
    .await;
    assert_eq!(s, 422, "one ballot per party: {e}");
    let v = ok(
        app,
        back,
        id,
        json!({"step": "elect_committee", "seats": 1, "candidates": [front_person, 1],
               "ballots": [[front_person], [front_person], [1], [front_person], []]}),
    )
    .await;
    assert_eq!(v["election"]["elected"], json!([front_person.to_string()]), "{v}");
    id
}

/// The case ids of the department tasks on a back-stage timeline (summaries "部门 #id").
fn task_cases(v: &Value) -> Vec<i64> {
    v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "task_dispatched")
        .filter_map(|e| e["summary"].as_str()?.rsplit('#').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_q_town_park_from_survey_to_rectification() {
    let app = TestApp::spawn().await;
    let back = app.token("street.admin").await;
    let front = app.token("committee").await;
    let committee = person_id(&app, &front).await;
    let id = open_park(&app, &back, committee).await;

    // The front stage surveys every unit: 200 of 200, with hazards in the first building.
    let (_, v) = app.get(&format!("/api/initiatives/{id}"), Some(&front)).await;
    assert_eq!(v["seat"], "front");
    assert_eq!(v["parties"].as_array().unwrap().len(), 50);
    for b in 1..=4 {
        for floor in 1..=10 {
            for n in 1..=5 {
                let hazards = if b == 1 && n == 1 {
                    json!(["partitions", "gas"])
                } else {
                    json!([])
                };
                ok(
                    &app,
                    &front,
                    id,
                    json!({"step": "survey", "unit": format!("P{b}-{floor:02}{n:02}"), "actual_use": "quasi_residential",
                           "occupants": 2, "owner": "业主", "hazards": hazards, "note": ""}),
                )
                .await;
            }
        }
    }
    // Contacts: the first 40 parties support, 6 oppose, 4 are not reached.
    for party in 1..=46 {
        let position = if party <= 40 { "support" } else { "oppose" };
        ok(
            &app,
            &front,
            id,
            json!({"step": "contact", "party": party, "position": position, "concerns": "补偿标准"}),
        )
        .await;
    }
    // Two hand-offs from the front, answered by the back; one opened by the back, answered by the front.
    let v = ok(
        &app,
        &front,
        id,
        json!({"step": "open_handoff", "summary": "改变用途的法律依据", "limit_days": 5}),
    )
    .await;
    let h1 = v["handoffs"][0]["id"].as_u64().unwrap();
    let v = ok(
        &app,
        &front,
        id,
        json!({"step": "open_handoff", "summary": "3号楼消防检查", "limit_days": 3}),
    )
    .await;
    let h2 = v["handoffs"][1]["id"].as_u64().unwrap();
    assert_eq!(v["progress"]["open_handoffs"].as_array().unwrap().len(), 2);
    let (s, e) = step(
        &app,
        &front,
        id,
        json!({"step": "answer_handoff", "id": h1, "answer": "自己答"}),
    )
    .await;
    assert_eq!(s, 422, "a hand-off is answered by the other stage: {e}");
    ok(
        &app,
        &back,
        id,
        json!({"step": "work_handoff", "id": h1, "payload": "法制办意见：依据民法典第279条"}),
    )
    .await;
    ok(&app, &back, id, json!({"step": "answer_handoff", "id": h1, "answer": "依据《民法典》第279条，改变用途须经有利害关系的业主一致同意", "rationale": "内部研判"})).await;
    ok(
        &app,
        &back,
        id,
        json!({"step": "answer_handoff", "id": h2, "answer": "消防大队将于周五检查3号楼"}),
    )
    .await;
    let (s, e) = step(
        &app,
        &back,
        id,
        json!({"step": "answer_handoff", "id": h2, "answer": "again"}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("answered already"), "{e}");

    // Department tasks through the closed loop: the task step makes two internal cases, one
    // closed below, the other late.
    let past = gongzhi_store::now_ms() - 86_400_000;
    let mut v = Value::Null;
    for (what, dept) in [("拆除违规隔断", "住建局"), ("燃气安全检查", "燃气公司")] {
        v = ok(
            &app,
            &back,
            id,
            json!({"step": "task", "department": dept, "condition": "C0105-02", "instructions": what, "due": past}),
        )
        .await;
    }
    let cases = task_cases(&v);
    assert_eq!(cases.len(), 2, "{v}");
    let (s, e) = step(
        &app,
        &back,
        id,
        json!({"step": "task", "department": " ", "condition": "C0105-02", "instructions": "x", "due": past}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("department"), "{e}");
    let acceptor = app.token("acceptor").await;
    let (s, e) = app
        .send(
            "POST",
            "/api/cases",
            Some(&acceptor),
            json!({"condition": "C0105-02", "description": "冒充专项", "lng": 104.06, "lat": 30.66, "source": "initiative"}),
        )
        .await;
    assert_eq!(s, 422, "only the task step makes internal cases: {e}");
    let dispatcher = app.token("dispatcher").await;
    let dept = app.token("department").await;
    let leader = app.token("shiftleader").await;
    let worker = app.token("gridworker").await;
    let case = cases[0];
    for (token, body) in [
        (&leader, json!({"type": "register"})),
        (&dispatcher, json!({"type": "dispatch"})),
        (&dept, json!({"type": "accept"})),
        (&dept, json!({"type": "report_handled", "note": "已拆除"})),
        (&worker, json!({"type": "verify_pass"})),
        (&leader, json!({"type": "close"})),
    ] {
        let (s, v) = app
            .send("POST", &format!("/api/cases/{case}/actions"), Some(token), body.clone())
            .await;
        assert_eq!(s, 200, "{body} → {v}");
    }

    // A consultation vote on the plan: 30 yes, 10 no, 5 abstain of 50 parties → adopted.
    let votes: Vec<Value> = (1..=45)
        .map(|p| {
            json!([
                p,
                if p <= 30 {
                    "yes"
                } else if p <= 40 {
                    "no"
                } else {
                    "abstain"
                }
            ])
        })
        .collect();
    let (s, e) = step(
        &app,
        &back,
        id,
        json!({"step": "vote_plan", "title": "整治方案（一）", "votes": votes}),
    )
    .await;
    assert_eq!(s, 422, "the front stage holds consultation votes: {e}");
    let v = ok(
        &app,
        &front,
        id,
        json!({"step": "vote_plan", "title": "整治方案（一）", "votes": votes}),
    )
    .await;
    assert_eq!(
        (v["votes"][0][1]["yes"].as_u64(), v["votes"][0][1]["passed"].as_bool()),
        (Some(30), Some(true)),
        "{}",
        v["votes"]
    );

    // Milestones, a published statement drawn from an internal note.
    ok(
        &app,
        &front,
        id,
        json!({"step": "milestone", "milestone": "survey_complete"}),
    )
    .await;
    let v = ok(
        &app,
        &back,
        id,
        json!({"step": "note", "text": "风险评估：部分业主可能上访"}),
    )
    .await;
    let note = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note_added")
        .count();
    assert_eq!(note, 1);
    // Ids: hand-offs 1 and 2, the note 3.
    ok(
        &app,
        &back,
        id,
        json!({"step": "publish", "from_note": 3, "stage": "public", "text": "政府将为租户提供过渡安置"}),
    )
    .await;
    ok(
        &app,
        &back,
        id,
        json!({"step": "plan_phase", "title": "第一阶段：消除消防隐患", "detail": "联合执法安排"}),
    )
    .await;
    ok(
        &app,
        &back,
        id,
        json!({"step": "milestone", "milestone": "rectification_done"}),
    )
    .await;

    // Every progress figure, as the back stage sees it.
    let (_, v) = app.get(&format!("/api/initiatives/{id}"), Some(&back)).await;
    let p = &v["progress"];
    assert_eq!(
        (p["units"].as_u64(), p["surveyed_units"].as_u64()),
        (Some(200), Some(200))
    );
    assert_eq!(
        (p["area"].as_i64(), p["surveyed_area"].as_i64()),
        (Some(1_400_000), Some(1_400_000)),
        "14,000 m² in hundredths"
    );
    assert_eq!(
        (p["parties"].as_u64(), p["parties_reached"].as_u64()),
        (Some(50), Some(46))
    );
    assert_eq!(
        p["hazards"], 20,
        "two hazards in unit 1 of each of building P1's 10 floors"
    );
    assert_eq!(p["open_handoffs"].as_array().unwrap().len(), 0);
    assert_eq!(
        p["late_tasks"], 1,
        "one task's case is closed, the other is past its deadline"
    );
    let b1 = &p["buildings"][0];
    // Building P1: parties 1–13 (13 holds two units here) all support: all of its 3,500 m².
    assert_eq!(
        (b1["parties"].as_u64(), b1["supporting_parties"].as_u64()),
        (Some(13), Some(13))
    );
    assert_eq!(
        (b1["area"].as_i64(), b1["supporting_area"].as_i64()),
        (Some(350_000), Some(350_000))
    );
    let b4 = &p["buildings"][3];
    // Building P4: parties 38–50; 38–40 support (units 150–159: 2 × (50+60+70+80+90) = 700 m²),
    // 41–46 oppose, 47–50 were not reached.
    assert_eq!(
        (b4["parties"].as_u64(), b4["supporting_parties"].as_u64()),
        (Some(13), Some(3))
    );
    assert_eq!(b4["supporting_area"].as_i64(), Some(70_000));
    // The decision module: P1 has its consensus; P4 needs 7 of 13 parties, 4 more.
    assert_eq!(
        (b1["consensus"].as_bool(), b4["consensus"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(b4["still_needed"], 4, "{b4}");
    let reached: Vec<&str> = p["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m[1].is_null())
        .map(|m| m[0].as_str().unwrap())
        .collect();
    assert_eq!(
        reached,
        [
            "committee_elected",
            "survey_complete",
            "plan_adopted",
            "rectification_done"
        ]
    );

    // The front sees the answers and the statement, not the note or the rationale.
    let (_, f) = app.get(&format!("/api/initiatives/{id}"), Some(&front)).await;
    let shown = f.to_string();
    assert!(shown.contains("改变用途须经有利害关系的业主一致同意"));
    assert!(shown.contains("政府将为租户提供过渡安置"));
    for secret in ["内部研判", "法制办意见", "风险评估", "联合执法安排", "住建局"] {
        assert!(!shown.contains(secret), "the front sees back-stage content '{secret}'");
    }
    assert!(f["progress"]["late_tasks"].is_null());
}

/// Unique strings in every kind of back-stage record; none may reach a front-stage member of
/// this initiative, a front-stage member of another, a resident or a visitor, on any route.
#[tokio::test]
async fn back_stage_canaries_never_reach_the_front_or_the_public() {
    let app = TestApp::spawn().await;
    let back = app.token("street.admin").await;
    let front = app.token("committee").await;
    let committee = person_id(&app, &front).await;
    let id = open_park(&app, &back, committee).await;
    let v = ok(
        &app,
        &front,
        id,
        json!({"step": "open_handoff", "summary": "请明确过渡安置政策", "limit_days": 5}),
    )
    .await;
    let h = v["handoffs"][0]["id"].as_u64().unwrap();
    ok(
        &app,
        &back,
        id,
        json!({"step": "work_handoff", "id": h, "payload": "CANARY-handoff-payload"}),
    )
    .await;
    ok(
        &app,
        &back,
        id,
        json!({"step": "answer_handoff", "id": h, "answer": "将提供过渡安置", "rationale": "CANARY-rationale"}),
    )
    .await;
    let v = ok(&app, &back, id, json!({"step": "note", "text": "CANARY-note"})).await;
    let note = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note_added")
        .count();
    assert_eq!(note, 1);
    ok(
        &app,
        &back,
        id,
        json!({"step": "plan_phase", "title": "CANARY-plan-title", "detail": "CANARY-plan-detail"}),
    )
    .await;
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    let (lng, lat) = ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0);
    let v = ok(
        &app,
        &back,
        id,
        json!({"step": "task", "department": "CANARY-department", "condition": "C0105-02",
               "instructions": "CANARY-task-instructions 联合检查", "lng": lng, "lat": lat, "due": 0}),
    )
    .await;
    let task_case = *task_cases(&v).last().unwrap();
    // The publishing step makes a new public record; the note (id 2, after hand-off 1) stays internal.
    ok(
        &app,
        &back,
        id,
        json!({"step": "publish", "from_note": 2, "stage": "public", "text": "整治方案已报区政府"}),
    )
    .await;
    // A second initiative, whose front-stage member is the resident account.
    let resident = app.token("resident").await;
    let other_front = person_id(&app, &resident).await;
    let community = small_demo().grids[0].community.to_string();
    let (_, other) = app
        .send(
            "POST",
            "/api/initiatives",
            Some(&back),
            json!({"name": "另一专项", "problem": "parking", "community": community, "scope": "停车"}),
        )
        .await;
    let other = other["id"].as_i64().unwrap();
    ok(
        &app,
        &back,
        other,
        json!({"step": "add_member", "person": other_front, "side": "front"}),
    )
    .await;
    // The back stage itself reads its canaries (the test would pass vacuously otherwise).
    let (_, b) = app.get(&format!("/api/initiatives/{id}"), Some(&back)).await;
    for c in [
        "CANARY-handoff-payload",
        "CANARY-rationale",
        "CANARY-note",
        "CANARY-plan-detail",
        "CANARY-department",
    ] {
        assert!(b.to_string().contains(c), "the back stage must see {c}");
    }
    // The back stage's own export has them; the same export is crawled below for the others.
    let csv = app
        .client
        .get(app.url(&format!("/api/initiatives/{id}/timeline.csv")))
        .bearer_auth(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("CANARY-note") && csv.contains("CANARY-department"),
        "{csv}"
    );
    // The task's case runs through the closed loop: staff see its instructions.
    let dispatcher = app.token("dispatcher").await;
    let (s, c) = app.get(&format!("/api/cases/{task_case}"), Some(&dispatcher)).await;
    assert_eq!(s, 200, "{c}");
    assert!(c.to_string().contains("CANARY-task-instructions"), "{c}");
    assert_eq!(c["case"]["source"], "initiative", "{c}");

    let routes = [
        "/api/initiatives".to_owned(),
        format!("/api/initiatives/{id}"),
        format!("/api/initiatives/{other}"),
        "/initiatives".to_owned(),
        format!("/initiatives/{id}"),
        format!("/initiatives/{id}?lang=en"),
        format!("/initiatives/{id}/public"),
        format!("/initiatives/{other}"),
        format!("/api/initiatives/{id}/timeline.csv"),
        "/work".to_owned(),
        "/api/openapi.json".to_owned(),
        // Open311 neither lists the internal task case nor answers for it.
        "/open311/v2/requests.json".to_owned(),
        "/open311/v2/requests.xml".to_owned(),
        format!("/open311/v2/requests/{task_case}.json"),
        format!("/open311/v2/requests.json?service_request_id={task_case}"),
    ];
    let front_page = app.browser("committee").await;
    let resident_page = app.browser("resident").await;
    let anonymous = reqwest::Client::new();
    for (who, client, token) in [
        ("front member", &front_page, Some(&front)),
        ("other initiative's front member", &resident_page, Some(&resident)),
        ("visitor", &anonymous, None),
    ] {
        for r in &routes {
            let mut req = client.get(app.url(r));
            if let (Some(t), true) = (token, r.starts_with("/api/")) {
                req = req.bearer_auth(t);
            }
            let body = req.send().await.unwrap().text().await.unwrap();
            assert!(!body.contains("CANARY"), "{who} sees a canary on {r}: {body}");
        }
        // Refused steps and their error messages do not reveal back-stage content either.
        if let Some(t) = token {
            for probe in [
                json!({"step": "work_handoff", "id": h, "payload": "x"}),
                json!({"step": "publish", "from_note": 2, "stage": "public", "text": "x"}),
                json!({"step": "answer_handoff", "id": h, "answer": "x"}),
            ] {
                let (s, e) = step(&app, t, id, probe).await;
                assert!(s >= 400, "{who}: {e}");
                assert!(!e.to_string().contains("CANARY"), "{who}: {e}");
            }
        }
    }
    // A resident reporting the same thing at the same place gets no hint of the internal case.
    let (s, v) = app
        .send(
            "POST",
            "/api/cases",
            Some(&resident),
            json!({"condition": "C0105-02", "description": "联合检查", "lng": lng, "lat": lat}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert!(!v.to_string().contains("CANARY"), "{v}");
    assert!(
        v["duplicates"]
            .as_array()
            .is_none_or(|d| d.iter().all(|x| x["id"] != task_case)),
        "{v}"
    );
    // Survey photos: a front member attaches one to a unit; the two stages see it, nobody else.
    let png = b"\x89PNG\r\n\x1a\nCANARY-photo-bytes".to_vec();
    let upload = |token: String, unit: &str, ct: &str, body: Vec<u8>| {
        app.client
            .post(app.url(&format!("/api/initiatives/{id}/units/{unit}/photos")))
            .bearer_auth(token)
            .header("content-type", ct.to_owned())
            .body(body)
            .send()
    };
    let r = upload(front.clone(), "P1-0101", "image/png", png.clone())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let photo = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = upload(front.clone(), "P9-9999", "image/png", png.clone())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422, "an unknown unit is refused");
    let r = upload(front.clone(), "P1-0101", "text/plain", png.clone())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415, "not a photo");
    let r = upload(resident.clone(), "P1-0101", "image/png", png.clone())
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        403,
        "another initiative's member may not add photos"
    );
    let (_, f) = app.get(&format!("/api/initiatives/{id}"), Some(&front)).await;
    assert_eq!(f["survey_photos"], json!([["P1-0101", photo]]), "{f}");
    let fetch = |token: Option<String>| {
        let mut req = app
            .client
            .get(app.url(&format!("/api/initiatives/{id}/photos/{photo}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    for (who, token, status) in [
        ("front", Some(front.clone()), 200),
        ("back", Some(back.clone()), 200),
        ("other initiative's member", Some(resident.clone()), 404),
        ("visitor", None, 404),
    ] {
        let r = fetch(token).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{who}");
        if status == 200 {
            assert_eq!(r.bytes().await.unwrap().to_vec(), png, "{who}");
        }
    }
    let r = app
        .client
        .get(app.url(&format!("/api/initiatives/{other}/photos/{photo}")))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        404,
        "a photo is reached only through its own initiative"
    );
    let (_, o) = app.get(&format!("/api/initiatives/{id}"), Some(&resident)).await;
    assert_eq!(o["survey_photos"], json!([]), "{o}");

    // Counts do not leak either: the front's timeline has no back-stage entries at all.
    let (_, f) = app.get(&format!("/api/initiatives/{id}"), Some(&front)).await;
    assert!(
        f["timeline"].as_array().unwrap().iter().all(|e| e["stage"] != "back"),
        "{f}"
    );
    assert!(f["members"].as_array().unwrap().iter().all(|m| m[1] == "front"), "{f}");
    let (_, o) = app.get(&format!("/api/initiatives/{id}"), Some(&resident)).await;
    assert_eq!(o["seat"], "public");
    assert!(
        o["parties"].as_array().unwrap().is_empty(),
        "another initiative's member sees no parties: {o}"
    );
    // Nor does the version, which counts every step, back-stage ones too.
    assert!(o.get("version").is_none(), "the public sees no version: {o}");
    let (_, anon) = app.get(&format!("/api/initiatives/{id}"), None).await;
    assert!(anon.get("version").is_none(), "{anon}");
    assert!(f["version"].as_i64().is_some(), "members see the version they step at");
}

#[tokio::test]
async fn a_units_file_with_errors_is_refused_with_its_lines() {
    let app = TestApp::spawn().await;
    let back = app.token("street.admin").await;
    let front = app.token("committee").await;
    let community = small_demo().grids[0].community.to_string();
    let (_, v) = app
        .send(
            "POST",
            "/api/initiatives",
            Some(&back),
            json!({"name": "测试", "problem": "group_renting", "community": community, "scope": "x"}),
        )
        .await;
    let id = v["id"].as_i64().unwrap();
    let mut lines: Vec<String> = park_csv().lines().map(str::to_owned).collect();
    lines[3] = lines[3].replace(",industrial", ",castle");
    lines[7] = lines[7].replace(",2,60,", ",12,60,"); // P1-0202 on floor 12 of a 10-floor building
    lines[9] = lines[9].replacen(&community, "510104017999", 1);
    let (s, e) = post_bytes(&app, &back, &format!("/api/initiatives/{id}/units"), lines.join("\n")).await;
    assert_eq!(s, 422, "{e}");
    let details = e["details"].as_array().unwrap();
    assert!(details.iter().any(|d| d["line"] == 4 && d["column"] == "use"), "{e}");
    assert!(details.iter().any(|d| d["line"] == 8 && d["column"] == "floor"), "{e}");
    assert!(details.iter().any(|d| d["line"] == 10 && d["column"] == "grid"), "{e}");
    let (_, v) = app.get(&format!("/api/initiatives/{id}"), Some(&back)).await;
    assert_eq!(v["progress"]["units"], 0, "nothing of a refused file is stored");
    let (s, _) = app.get("/api/premises/P1", Some(&back)).await;
    assert_eq!(s, 404);
    let (s, e) = post_bytes(&app, &front, &format!("/api/initiatives/{id}/units"), park_csv()).await;
    assert_eq!(s, 403, "a non-member cannot import: {e}");
}

/// Issue 20: importing the same units and parties files twice leaves the initiative as after one
/// import (no party registered twice: parties are the quorum base of votes); a changed kind is
/// one `party_changed` event; a file naming a unit or a party twice is refused with both lines.
#[tokio::test]
async fn units_and_parties_imported_twice_are_stored_once() {
    use gongzhi_store::prelude::*;
    let app = TestApp::spawn().await;
    let back = app.token("street.admin").await;
    let community = small_demo().grids[0].community.to_string();
    let (_, v) = app
        .send(
            "POST",
            "/api/initiatives",
            Some(&back),
            json!({"name": "重复导入", "problem": "quasi_residential", "community": community, "scope": "x"}),
        )
        .await;
    let id = v["id"].as_i64().unwrap();
    let city = gongzhi_demo::CITY;
    let events = |stream: String| {
        let store = app.db.store.clone();
        async move { store.events(city, &stream).await.unwrap().len() }
    };
    let units_path = format!("/api/initiatives/{id}/units");
    let (s, first) = post_bytes(&app, &back, &units_path, park_csv()).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        first["import"]["added"].as_array().unwrap().len(),
        200,
        "{}",
        first["import"]
    );
    let (version, stream_len, building_len) = (
        first["version"].as_i64().unwrap(),
        events(format!("initiative:{id}")).await,
        events("building:P1".into()).await,
    );
    assert_eq!(building_len, 1);
    let (s, again) = post_bytes(&app, &back, &units_path, park_csv()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["import"]["added"], json!([]), "{}", again["import"]);
    assert_eq!(again["import"]["updated"], json!([]));
    assert_eq!(again["import"]["unchanged"].as_array().unwrap().len(), 200);
    assert_eq!(
        again["version"].as_i64().unwrap(),
        version,
        "a re-import records nothing"
    );
    assert_eq!(again["progress"]["units"], 200);
    assert_eq!(events(format!("initiative:{id}")).await, stream_len);
    assert_eq!(
        events("building:P1".into()).await,
        1,
        "an unchanged building writes no event"
    );

    // One unit's area changed: that unit is updated (one event on the initiative, one on its
    // building), the others left alone.
    let changed = park_csv().replacen("P1-0101,1,50,", "P1-0101,1,55,", 1);
    let (s, v) = post_bytes(&app, &back, &units_path, changed).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["import"]["updated"], json!(["P1-0101"]), "{}", v["import"]);
    assert_eq!(v["import"]["unchanged"].as_array().unwrap().len(), 199);
    assert_eq!(events(format!("initiative:{id}")).await, stream_len + 1);
    assert_eq!(events("building:P1".into()).await, 2);
    assert_eq!(events("building:P2".into()).await, 1);

    let parties_path = format!("/api/initiatives/{id}/parties");
    let parties = "name,kind,units\n业主甲,owner,P1-0101;P1-0102\n业主乙,owner,P2-0101\n租户丙,tenant,P1-0101\n";
    let (s, v) = post_bytes(&app, &back, &parties_path, parties.into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["parties"].as_array().unwrap().len(), 3);
    assert_eq!(v["import"]["added"].as_array().unwrap().len(), 3);
    let stream_len = events(format!("initiative:{id}")).await;
    // The same parties again, spelled with other spacing and units in another order.
    let again = "name,kind,units\n业主甲 ,owner, P1-0102;P1-0101\n业主乙,owner,P2-0101\n租户丙,tenant,P1-0101\n";
    for _ in 0..2 {
        let (s, v) = post_bytes(&app, &back, &parties_path, again.into()).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["parties"].as_array().unwrap().len(),
            3,
            "no party registered twice: {v}"
        );
        assert_eq!(v["import"]["unchanged"].as_array().unwrap().len(), 3, "{}", v["import"]);
        assert_eq!(events(format!("initiative:{id}")).await, stream_len);
    }
    // A changed kind is an update of the same party; a new party is added after the others.
    let changed = "name,kind,units\n业主甲,operator,P1-0101;P1-0102\n业主丁,owner,P2-0102\n";
    let (s, v) = post_bytes(&app, &back, &parties_path, changed.into()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["import"]["updated"],
        json!(["业主甲 (P1-0101;P1-0102)"]),
        "{}",
        v["import"]
    );
    assert_eq!(v["import"]["added"], json!(["业主丁 (P2-0102)"]));
    let parties = v["parties"].as_array().unwrap();
    assert_eq!(parties.len(), 4);
    assert_eq!(parties[0]["kind"], "operator", "{}", parties[0]);
    let log = app.db.store.events(city, &format!("initiative:{id}")).await.unwrap();
    assert_eq!(log.len(), stream_len + 2);
    assert_eq!(log[log.len() - 2].kind, "party_changed");

    // Duplicate keys inside one file: refused naming both lines, nothing stored.
    let twice = "name,kind,units\n业主戊,owner,P3-0101\n业主己,owner,P3-0102\n业主戊,tenant,P3-0101\n";
    let (s, e) = post_bytes(&app, &back, &parties_path, twice.into()).await;
    assert_eq!(s, 422, "{e}");
    let d = &e["details"][0];
    assert_eq!(d["line"], 4, "{e}");
    assert!(d["message"].as_str().unwrap().contains("as line 2"), "{e}");
    let mut lines: Vec<String> = park_csv().lines().map(str::to_owned).collect();
    lines.push(lines[3].clone());
    let (s, e) = post_bytes(&app, &back, &units_path, lines.join("\n")).await;
    assert_eq!(s, 422, "{e}");
    let d = &e["details"][0];
    assert_eq!(
        (d["line"].as_i64(), d["column"].as_str()),
        (Some(202), Some("unit")),
        "{e}"
    );
    assert!(
        d["message"].as_str().unwrap().contains("same unit code as line 4"),
        "{e}"
    );
    let (_, v) = app.get(&format!("/api/initiatives/{id}"), Some(&back)).await;
    assert_eq!(
        v["parties"].as_array().unwrap().len(),
        4,
        "nothing of a refused file is stored"
    );
    assert_eq!(
        app.db
            .store
            .events(city, &format!("initiative:{id}"))
            .await
            .unwrap()
            .len(),
        stream_len + 2
    );
}
