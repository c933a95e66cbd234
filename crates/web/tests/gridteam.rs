//! The generalist grid over HTTP: a grid's alliance, needs and resources, a proposed match
//! confirmed into a project and completed, points, patrols, visits, indicators, import/export,
//! and who may see what.

use gongzhi_store::prelude::*;
use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

/// The last grid of the small demo (in its third community: the demo's own grid-team data is in
/// the first), so that every count below is the test's own.
fn test_grid() -> (String, String, f64, f64) {
    let g = small_demo().grids.last().unwrap();
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    (
        g.code.to_string(),
        g.community.to_string(),
        (r.min().x + r.max().x) / 2.0,
        (r.min().y + r.max().y) / 2.0,
    )
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> i64 {
    let (s, v) = app.send("POST", path, Some(token), body.clone()).await;
    assert_eq!(s, 201, "{path} {body} → {v}");
    v["id"].as_i64().unwrap()
}

async fn me(app: &TestApp, token: &str) -> i64 {
    app.get("/api/me", Some(token)).await.1["person_id"].as_i64().unwrap()
}

async fn org(app: &TestApp, admin: &str, name: &str, kind: &str, community: &str) -> i64 {
    let (s, v) = app
        .send(
            "POST",
            "/api/organisations",
            Some(admin),
            json!({"name": name, "kind": kind, "jurisdiction": [community]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// A person of an organisation with a resident's login.
async fn org_person(app: &TestApp, admin: &str, org: i64, community: &str, username: &str) -> (i64, String) {
    account(
        app,
        admin,
        Some(org),
        "resident",
        &format!("division:{community}"),
        username,
    )
    .await
}

/// A person with one role and a login, made by the administrator.
async fn account(
    app: &TestApp,
    admin: &str,
    org: Option<i64>,
    role: &str,
    scope: &str,
    username: &str,
) -> (i64, String) {
    let (s, v) = app
        .send("POST", "/api/people", Some(admin), json!({"name": "王志愿", "org": org, "grants": [{"role": role, "scope": scope}], "username": username, "password": "volunteer-password"}))
        .await;
    assert_eq!(s, 201, "{v}");
    let (_, login) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": username, "password": "volunteer-password"}),
        )
        .await;
    (v["id"].as_i64().unwrap(), login["token"].as_str().unwrap().to_owned())
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_grid_alliance_matches_a_need_to_a_resource_and_earns_points() {
    let app = TestApp::spawn().await;
    let (grid, community, lng, lat) = test_grid();
    let admin = app.token("admin").await;
    let (_, worker) = account(&app, &admin, None, "grid_worker", &format!("grids:{grid}"), "gw.test").await;
    let leader = app.token("shiftleader").await;
    let (_, resident) = account(
        &app,
        &admin,
        None,
        "resident",
        &format!("division:{community}"),
        "res.test",
    )
    .await;
    let other_resident = app.token("resident").await;
    let department = app.token("department").await;
    let worker_id = me(&app, &worker).await;

    // The alliance's organisations, and a volunteer of the social organisation.
    let party = org(&app, &admin, "社区党委", "party_organisation", &community).await;
    let social = org(&app, &admin, "阳光社工", "social_organisation", &community).await;
    let property = org(&app, &admin, "安居物业", "property_manager", &community).await;
    let outsider = org(&app, &admin, "别处物业", "property_manager", &community).await;
    let (vol, vol_token) = org_person(&app, &admin, social, &community, "vol.wang").await;
    let (_, outsider_token) = org_person(&app, &admin, outsider, &community, "out.li").await;
    let lists = format!("/api/grids/{grid}/lists");

    // Before the alliance, the volunteer's organisation is outside the grid.
    assert_eq!(app.get(&format!("{lists}/needs"), Some(&vol_token)).await.0, 403);

    created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/members"),
        json!({"person": worker_id, "role": "grid_worker", "commitment": "每周巡查三次"}),
    )
    .await;
    created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/members"),
        json!({"person": vol, "role": "volunteer", "commitment": "每月助老4小时"}),
    )
    .await;
    let (s, e) = app
        .send(
            "POST",
            &format!("/api/grids/{grid}/alliances"),
            Some(&worker),
            json!({"name": "一核多元", "members": [{"organisation": social, "role": "participant"}]}),
        )
        .await;
    assert_eq!(s, 422, "an alliance without a core is refused: {e}");
    created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/alliances"),
        json!({"name": "网格党建联盟", "members": [
        {"organisation": party, "role": "lead", "commitment": "统筹"},
        {"organisation": social, "role": "participant", "commitment": "助老服务"},
        {"organisation": property, "role": "participant", "commitment": "维修"}]}),
    )
    .await;
    let (s, team) = app.get(&format!("{lists}/members"), Some(&vol_token)).await;
    assert_eq!((s, team.as_array().unwrap().len()), (200, 2), "{team}");

    // A household in a unit of the grid: private to the grid team.
    let (_, buildings) = app.get(&format!("/api/premises?grid={grid}"), Some(&worker)).await;
    let building = buildings[0]["code"].as_str().unwrap().to_owned();
    let (_, detail) = app.get(&format!("/api/premises/{building}"), Some(&worker)).await;
    let unit = detail["units"][0]["code"].as_str().unwrap().to_owned();
    let household = created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/households"),
        json!({"unit": unit, "head": "李奶奶", "size": 1, "key_groups": ["elderly_alone"]}),
    )
    .await;
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/grids/{grid}/households"),
            Some(&worker),
            json!({"unit": "NO-SUCH-UNIT", "head": "x", "size": 1}),
        )
        .await;
    assert_eq!(s, 422);
    for t in [&resident, &other_resident, &vol_token, &outsider_token, &department] {
        assert_eq!(app.get(&format!("{lists}/households"), Some(t)).await.0, 403);
    }
    for t in [&resident, &outsider_token, &department] {
        assert_eq!(app.get(&format!("{lists}/needs"), Some(t)).await.0, 403);
        assert_eq!(app.get(&format!("{lists}/resources"), Some(t)).await.0, 403);
    }
    let (s, hh) = app.get(&format!("{lists}/households"), Some(&worker)).await;
    assert_eq!((s, ids(&hh)), (200, vec![household]));

    // Needs and resources.
    let need = created(&app, &worker, &format!("/api/grids/{grid}/needs"), json!({"category": "elderly_care", "text": "独居老人每日助餐", "lng": lng, "lat": lat, "urgency": "high", "source": "visit", "household": household, "quantity": 2})).await;
    let other_need = created(&app, &resident, &format!("/api/grids/{grid}/needs"), json!({"category": "lighting", "text": "3号楼前路灯太暗", "lng": lng, "lat": lat, "urgency": "normal", "source": "meeting", "quantity": 1})).await;
    let resource = |title: &str, capacity: i64, dlat: f64, reach: f64, windows: Value| json!({"title": title, "kind": "services", "categories": ["elderly_care"], "organisation": social, "lng": lng, "lat": lat + dlat, "reach_m": reach, "capacity": capacity, "windows": windows});
    let res_path = format!("/api/grids/{grid}/resources");
    let good = created(
        &app,
        &worker,
        &res_path,
        resource("社区食堂送餐", 4, 0.002, 2000.0, json!([])),
    )
    .await;
    let small = created(
        &app,
        &worker,
        &res_path,
        resource("邻里帮厨", 1, 0.0, 2000.0, json!([])),
    )
    .await;
    let december = created(
        &app,
        &worker,
        &res_path,
        resource(
            "冬季助餐",
            10,
            0.0,
            2000.0,
            json!([{"from": "2026-12-01", "to": "2026-12-31"}]),
        ),
    )
    .await;
    let far = created(
        &app,
        &worker,
        &res_path,
        resource("远处养老院", 10, 0.01, 300.0, json!([])),
    )
    .await;
    let (s, e) = app
        .send(
            "POST",
            &res_path,
            Some(&worker),
            json!({"title": "无主资源", "kind": "funds", "lng": lng, "lat": lat, "reach_m": 100.0, "capacity": 5}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("who offers"), "{e}");

    // Proposals: only the resource that fits, with its reason.
    let (s, props) = app
        .get(
            &format!("/api/grid-needs/{need}/proposals?on=2026-11-24"),
            Some(&vol_token),
        )
        .await;
    assert_eq!(s, 200, "{props}");
    let proposed: Vec<i64> = props
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["resource"].as_i64().unwrap())
        .collect();
    assert_eq!(
        proposed,
        [good],
        "capacity exhausted ({small}), unavailable ({december}) and too far ({far}) are left out"
    );
    assert!(
        props[0]["reason"].as_str().unwrap().contains("serves elderly_care"),
        "{props}"
    );
    let (_, dec) = app
        .get(
            &format!("/api/grid-needs/{need}/proposals?on=2026-12-10"),
            Some(&worker),
        )
        .await;
    assert!(dec.as_array().unwrap().iter().any(|p| p["resource"] == december));

    // Confirm: a misfit is refused, the fit becomes a project and takes the capacity.
    let (s, e) = app
        .send(
            "POST",
            "/api/grid-projects",
            Some(&worker),
            json!({"need": need, "resource": small, "title": "助餐", "on": "2026-11-24"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(e["message"].as_str().unwrap().contains("capacity exhausted"), "{e}");
    let (s, _) = app
        .send(
            "POST",
            "/api/grid-projects",
            Some(&vol_token),
            json!({"need": need, "resource": good, "title": "助餐", "on": "2026-11-24"}),
        )
        .await;
    assert_eq!(s, 403, "alliance members see the lists, the grid team confirms");
    let project = created(
        &app,
        &worker,
        "/api/grid-projects",
        json!({"need": need, "resource": good, "title": "独居老人助餐", "on": "2026-11-24"}),
    )
    .await;
    let (s, _) = app
        .send(
            "POST",
            "/api/grid-projects",
            Some(&worker),
            json!({"need": need, "resource": good, "title": "again", "on": "2026-11-24"}),
        )
        .await;
    assert_eq!(s, 409, "a matched need is not matched twice");
    let (_, needs) = app.get(&format!("{lists}/needs"), Some(&worker)).await;
    let status = |v: &Value, id: i64| {
        v.as_array().unwrap().iter().find(|x| x["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status(&needs, need), "matched");
    assert_eq!(status(&needs, other_need), "open");
    let (_, resources) = app.get(&format!("{lists}/resources"), Some(&worker)).await;
    let r = resources.as_array().unwrap().iter().find(|x| x["id"] == good).unwrap();
    assert_eq!(r["body"]["usage"]["used"], 2);

    let (_, un) = app
        .get(&format!("/api/grids/{grid}/unmatched?on=2026-11-24"), Some(&worker))
        .await;
    assert_eq!(un["needs"].as_array().unwrap().len(), 1, "{un}");
    assert_eq!(un["needs"][0][0]["id"], other_need);
    assert_eq!(un["needs"][0][1], 0, "no lighting resource: nothing proposed");
    let mut idle = ids(&un["idle_resources"]);
    idle.sort_unstable();
    assert_eq!(idle, [small, december, far]);

    // Complete the project: the need is met, participants earn points.
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/grid-projects/{project}/finish"),
            Some(&worker),
            json!({"outcome": "completed", "note": "每日送餐已落实", "participants": [vol, worker_id]}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/grid-projects/{project}/finish"),
            Some(&worker),
            json!({"outcome": "failed"}),
        )
        .await;
    assert_eq!(s, 409, "a finished project stays finished");
    let (_, needs) = app.get(&format!("{lists}/needs"), Some(&worker)).await;
    assert_eq!(status(&needs, need), "met");
    let (_, projects) = app.get(&format!("{lists}/projects"), Some(&worker)).await;
    assert_eq!(status(&projects, project), "completed");

    // Interaction: an activity, volunteer service, a visit with a follow-up, a patrol.
    let activity = created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/activities"),
        json!({"kind": "meeting", "title": "楼栋议事会", "date": "2026-11-20"}),
    )
    .await;
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/grid-activities/{activity}/attendance"),
            Some(&worker),
            json!({"people": [vol, vol]}),
        )
        .await;
    assert_eq!((s, v["awarded"].clone()), (200, json!([vol])), "{v}");
    created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/volunteering"),
        json!({"person": vol, "hours": 3, "date": "2026-11-21", "note": "助老"}),
    )
    .await;
    let visit = created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/visits"),
        json!({"household": household, "note": "身体尚可", "follow_up": "联系助餐"}),
    )
    .await;
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/grid-visits/{visit}/follow-ups"),
            Some(&worker),
            json!({"note": "已落实助餐", "done": true}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/grid-visits/{visit}/follow-ups"),
            Some(&worker),
            json!({"note": "again"}),
        )
        .await;
    assert_eq!(s, 409);
    // A planned route; a patrol names it. Bad routes and unknown routes are refused.
    let path = json!({"type": "LineString", "coordinates": [[lng, lat], [lng + 0.0005, lat]]});
    let (s, e) = app
        .send(
            "POST",
            &format!("/api/grids/{grid}/routes"),
            Some(&worker),
            json!({"name": "东环线", "path": {"type": "Point", "coordinates": [lng, lat]}, "per_week": 3}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("path"), "{e}");
    let route = created(
        &app,
        &worker,
        &format!("/api/grids/{grid}/routes"),
        json!({"name": "东环线", "path": path, "per_week": 3, "worker": worker_id}),
    )
    .await;
    let (s, e) = app
        .send(
            "POST",
            &format!("/api/grids/{grid}/patrols"),
            Some(&worker),
            json!({"planned_route": route + 1000, "note": "x"}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("planned_route"), "{e}");
    let (s, logged) = app
        .send(
            "POST",
            &format!("/api/grids/{grid}/patrols"),
            Some(&worker),
            json!({
            "planned_route": route,
            "route": path,
            "note": "例行巡查",
            "findings": [{"condition": "C0105-02", "description": "电力井盖破损", "lng": lng, "lat": lat}]}),
        )
        .await;
    assert_eq!(s, 201, "{logged}");
    let patrol_case = logged["cases"][0].as_i64().unwrap();
    let (_, c) = app.get(&format!("/api/cases/{patrol_case}"), Some(&worker)).await;
    assert_eq!(c["case"]["source"], "patrol", "{c}");
    let (s, v) = app
        .send(
            "POST",
            "/api/cases",
            Some(&resident),
            json!({"condition": "C0105-02", "description": "井盖坏了", "lng": lng, "lat": lat + 0.0002}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let resident_case = v["case"]["case"]["id"].as_i64().unwrap();
    for id in [patrol_case, resident_case] {
        let (s, v) = app
            .send(
                "POST",
                &format!("/api/cases/{id}/actions"),
                Some(&leader),
                json!({"type": "register"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }

    // The ledger: every line explained, and no redemption below zero.
    let (s, l) = app.get(&format!("/api/points/{vol}"), Some(&vol_token)).await;
    assert_eq!(s, 200);
    let balances: Vec<i64> = l["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["balance"].as_i64().unwrap())
        .collect();
    let actions: Vec<&str> = l["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["project_completed", "activity_attended", "volunteer_hour"]);
    assert_eq!(balances, [10, 12, 27]);
    assert_eq!(l["balance"], 27);
    assert_eq!(
        app.get(&format!("/api/points/{vol}"), Some(&outsider_token)).await.0,
        403
    );
    let (s, e) = app
        .send(
            "POST",
            &format!("/api/points/{vol}/redeem"),
            Some(&worker),
            json!({"amount": 30, "what": "米一袋"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, l) = app
        .send(
            "POST",
            &format!("/api/points/{vol}/redeem"),
            Some(&worker),
            json!({"amount": 20, "what": "米一袋"}),
        )
        .await;
    assert_eq!((s, l["balance"].clone()), (200, json!(7)), "{l}");
    let (_, w) = app.get(&format!("/api/points/{worker_id}"), Some(&worker)).await;
    assert_eq!(w["balance"], 10, "{w}");
    // A grid team of another community neither reads these points (with the participation
    // history they tell) nor redeems them.
    let far = small_demo()
        .grids
        .iter()
        .find(|g| g.community.to_string() != community)
        .expect("a grid of another community")
        .code
        .to_string();
    let (_, far_worker) = account(&app, &admin, None, "grid_worker", &format!("grids:{far}"), "gw.far").await;
    assert_eq!(app.get(&format!("/api/points/{vol}"), Some(&far_worker)).await.0, 403);
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/points/{vol}/redeem"),
            Some(&far_worker),
            json!({"amount": 1, "what": "米一袋"}),
        )
        .await;
    assert_eq!(s, 403, "a far grid team redeems nothing");
    // The city's points rules are set by the city's administrator, not a district's.
    let rules = gongzhi_core::gridteam::DEFAULT_RULES_CSV;
    for (who, status) in [("district.admin", 403), ("admin", 200)] {
        let token = app.token(who).await;
        let r = app
            .client
            .put(app.url("/api/points/rules"))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(rules)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{who}");
    }
    let (_, r) = app
        .get(&format!("/api/points/{}", me(&app, &resident).await), Some(&resident))
        .await;
    assert_eq!(r["balance"], 1, "a need raised by a resident earns need_raised: {r}");

    // Indicators.
    let (s, ind) = app.get(&format!("/api/grids/{grid}/indicators"), Some(&worker)).await;
    assert_eq!(s, 200, "{ind}");
    let c = &ind["counts"];
    assert_eq!(c["cases_by_patrol"], 1, "{ind}");
    assert_eq!(c["cases_by_residents"], 1);
    assert_eq!(c["cases_registered"], 2);
    assert_eq!(ind["missed_report_rate"], 0.5);
    assert_eq!((c["needs_met"].clone(), c["needs_open"].clone()), (json!(1), json!(1)));
    assert_eq!(
        (c["resources"].clone(), c["resources_used"].clone()),
        (json!(4), json!(1))
    );
    assert_eq!(c["projects_completed"], 1);
    assert_eq!((c["patrols"].clone(), c["visits"].clone()), (json!(1), json!(1)));
    assert_eq!(
        (c["attendances"].clone(), c["volunteer_hours"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(ind["months"].as_array().unwrap().len(), 6);
    assert_eq!(ind["months"][5][1]["needs_met"], 1, "this month's column: {ind}");
    assert_eq!(
        app.get(&format!("/api/grids/{grid}/indicators"), Some(&resident))
            .await
            .0,
        403
    );

    // The same figures added up over the community (the dashboard's and the map's), with the
    // grid as its one part; residents may not read them.
    let (s, area) = app
        .get(&format!("/api/grid-indicators?within={community}"), Some(&leader))
        .await;
    assert_eq!(s, 200, "{area}");
    assert_eq!(area["counts"], ind["counts"], "{area}");
    assert_eq!(area["missed_report_rate"], 0.5);
    assert_eq!(area["parts"][0][0], grid.as_str());
    let (s, e) = app
        .get(
            &format!("/api/grid-indicators?within={community}&from=2026-13-01"),
            Some(&leader),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        app.get(&format!("/api/grid-indicators?within={community}"), Some(&resident))
            .await
            .0,
        403
    );

    // The event log holds every change of the need.
    let events = app
        .db
        .store
        .events(gongzhi_demo::CITY, &format!("grid_needs:{need}"))
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["needs_recorded", "need_matched", "need_project_finished"]);
}

#[tokio::test]
async fn lists_import_all_or_nothing_and_export() {
    let app = TestApp::spawn().await;
    let (grid, _, lng, lat) = test_grid();
    let admin = app.token("admin").await;
    let (_, worker) = account(&app, &admin, None, "grid_worker", &format!("grids:{grid}"), "gw.test").await;
    let url = app.url(&format!("/api/grids/{grid}/import/needs"));
    let bad = format!("category,text,lng,lat\nrepair,修水管,{lng},{lat}\nplumbing,修水管,{lng},{lat}\n");
    let r = app
        .client
        .post(&url)
        .bearer_auth(&worker)
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["details"][0]["line"], 3, "{e}");
    assert_eq!(
        app.get(&format!("/api/grids/{grid}/lists/needs"), Some(&worker))
            .await
            .1,
        json!([])
    );
    let good = format!(
        "category,text,lng,lat,urgency\nrepair,修水管,{lng},{lat},high\nculture,=1+1 广场舞场地,{lng},{lat},\n"
    );
    let r = app
        .client
        .post(&url)
        .bearer_auth(&worker)
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csv: String = app
        .client
        .get(app.url(&format!("/api/grids/{grid}/export/needs")))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,status,category,text,lng,lat,urgency,source,quantity,group,ref"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(",open,repair,修水管,") && lines[1].contains(",high,meeting,1,"),
        "{csv}"
    );
    // The export reads back in: as the needs it holds, which are stored already (issue 20).
    let again = app
        .client
        .post(&url)
        .bearer_auth(&worker)
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["added"], json!([]), "{again}");
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 2, "{again}");
    // A text that a spreadsheet would run as a formula goes out guarded and reads back unchanged.
    assert!(csv.contains(",'=1+1 广场舞场地,"), "{csv}");
    let needs = app
        .get(&format!("/api/grids/{grid}/lists/needs"), Some(&worker))
        .await
        .1;
    let texts: Vec<&str> = needs
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts.iter().filter(|t| **t == "=1+1 广场舞场地").count(),
        1,
        "{texts:?}"
    );

    let r = app
        .client
        .post(&url)
        .bearer_auth(app.token("resident").await)
        .body("category,text,lng,lat\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, doc) = app.get("/api/openapi.json", None).await;
    for path in [
        "/api/grid-needs/{id}/proposals",
        "/api/grid-projects",
        "/api/points/{person}",
        "/api/grids/{code}/indicators",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn the_grid_team_page_shows_the_demo_grid_and_takes_a_need_a_match_and_a_patrol() {
    let app = TestApp::spawn().await;
    let grid = small_demo().grids[0].code.to_string();
    let page = format!("/grids/{grid}/team");
    let worker = app.browser("gridworker").await;
    let html = worker.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
    for text in [
        "需求清单",
        "社区长者食堂",
        "独居老人助餐",
        "党员维修志愿队",
        "张秀英",
        "漏报率",
    ] {
        assert!(html.contains(text), "{text} missing from the grid team page");
    }
    assert!(
        html.contains("服务「维修服务」"),
        "the repair need's proposal shows its reason in Chinese"
    );
    assert!(
        html.contains("楼道—消防通道—井盖环线"),
        "the demo's patrol route is listed"
    );
    assert!(html.contains("已满足"), "need statuses read in Chinese");
    let en = worker
        .get(app.url(&format!("{page}?lang=en")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Needs list") && en.contains("Missed-report rate"));
    assert!(en.contains("serves repair"), "the reason in English");

    let r = worker
        .post(app.url(&format!("{page}/needs")))
        .form(&[("category", "legal"), ("text", "租房合同纠纷咨询"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(r.text().await.unwrap().contains("租房合同纠纷咨询"));

    let token = app.token("gridworker").await;
    let (_, needs) = app.get(&format!("/api/grids/{grid}/lists/needs"), Some(&token)).await;
    let repair = needs
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["body"]["category"] == "repair")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, props) = app
        .get(&format!("/api/grid-needs/{repair}/proposals"), Some(&token))
        .await;
    let resource = props[0]["resource"].as_i64().unwrap().to_string();
    let r = worker
        .post(app.url(&format!("{page}/confirm")))
        .form(&[
            ("need", repair.to_string().as_str()),
            ("resource", resource.as_str()),
            ("title", "楼道扶手维修"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(r.text().await.unwrap().contains("楼道扶手维修"));

    let (_, routes) = app.get(&format!("/api/grids/{grid}/lists/routes"), Some(&token)).await;
    let route = routes[0]["id"].as_i64().unwrap().to_string();
    let r = worker
        .post(app.url(&format!("{page}/patrols")))
        .form(&[
            ("planned_route", route.as_str()),
            ("note", "傍晚巡查"),
            ("condition", "C0105-02"),
            ("description", "井盖松动"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let html = r.text().await.unwrap();
    assert!(html.contains("傍晚巡查"), "the patrol is in the log");
    // (The page is in English now: the ?lang=en visit above set the language cookie.)
    let at = html
        .find("Walked in the last 7 days")
        .unwrap_or_else(|| panic!("the routes section: {html}"));
    assert!(
        html[at..].starts_with("Walked in the last 7 days 2 "),
        "the route counts both walks this week: {}",
        &html[at..at + 40]
    );

    // The dashboard and the map show the grid indicators of the demo's area.
    let community = small_demo().grids[0].community.to_string();
    let analyst = app.browser("analyst").await;
    let dash = analyst
        .get(app.url(&format!("/dashboard?key={community}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dash.contains("id=\"grid-work\"") && dash.contains("全科网格工作"),
        "grid work on the dashboard: {dash}"
    );
    assert!(dash.contains(&grid), "the demo grid has its row");
    let map = analyst
        .get(app.url(&format!("/map?within={community}&indicator=patrols")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(map.contains("value=\"patrols\" selected"), "the map colours by patrols");
    assert!(map.contains("class=\"area q"), "the grids are coloured");

    let resident = app.browser("resident").await;
    assert_eq!(resident.get(app.url(&page)).send().await.unwrap().status(), 403);
}

/// A verified resident of a community raises needs in any grid of it, whichever grid their own
/// grant names; a resident of another community is refused.
#[tokio::test]
async fn residents_of_the_community_raise_needs_in_any_of_its_grids() {
    let app = TestApp::spawn().await;
    let (grid, community, lng, lat) = test_grid();
    let admin = app.token("admin").await;
    let neighbour_grid = small_demo()
        .grids
        .iter()
        .find(|g| g.community.as_str() == community && g.code.as_str() != grid)
        .expect("the community has more than one grid")
        .code
        .to_string();
    let elsewhere = small_demo().grids[0].community.to_string();
    assert_ne!(elsewhere, community);
    let (of_community, of_community_token) = account(
        &app,
        &admin,
        None,
        "resident",
        &format!("division:{community}"),
        "res.community",
    )
    .await;
    let (of_neighbour, of_neighbour_token) = account(
        &app,
        &admin,
        None,
        "resident",
        &format!("grids:{neighbour_grid}"),
        "res.neighbour",
    )
    .await;
    let (_, outsider) = account(
        &app,
        &admin,
        None,
        "resident",
        &format!("division:{elsewhere}"),
        "res.elsewhere",
    )
    .await;
    let need = |text: &str| json!({"category": "lighting", "text": text, "lng": lng, "lat": lat, "urgency": "normal", "source": "visit", "quantity": 1});
    let path = format!("/api/grids/{grid}/needs");
    let a = created(&app, &of_community_token, &path, need("路灯不亮")).await;
    let b = created(&app, &of_neighbour_token, &path, need("楼道灯坏了")).await;
    let (s, v) = app.send("POST", &path, Some(&outsider), need("别处的需求")).await;
    assert_eq!(s, 403, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains(&community) && message.contains("residents"), "{v}");

    // Both needs are the residents' own (source resident, raised by them), and only those two.
    let records = app
        .db
        .store
        .grid_records(gongzhi_demo::CITY, gongzhi_store::GridList::Needs, &[&grid], None)
        .await
        .unwrap();
    let mut raised: Vec<(i64, Option<i64>, String)> = records
        .iter()
        .map(|r| (r.id, r.person, r.body["source"].as_str().unwrap_or("").to_owned()))
        .collect();
    raised.sort();
    assert_eq!(
        raised,
        vec![
            (a, Some(of_community), "resident".to_owned()),
            (b, Some(of_neighbour), "resident".to_owned())
        ]
    );
}

/// Issue 20: a needs or resources file imported twice leaves the lists as after one import; a
/// row keyed by its `ref` is updated in place (one event); rows without `ref` are keyed by their
/// content; a file naming one key twice is refused naming both lines, storing nothing.
#[tokio::test]
async fn lists_imported_twice_are_stored_once() {
    let app = TestApp::spawn().await;
    let (grid, _, lng, lat) = test_grid();
    let admin = app.token("admin").await;
    let (pid, worker) = account(&app, &admin, None, "grid_worker", &format!("grids:{grid}"), "gw.twice").await;
    let post = |list: &'static str, body: String| {
        let (app, worker, grid) = (&app, worker.clone(), grid.clone());
        async move {
            let r = app
                .client
                .post(app.url(&format!("/api/grids/{grid}/import/{list}")))
                .bearer_auth(&worker)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let list = |list: &'static str| {
        let (app, worker, grid) = (&app, worker.clone(), grid.clone());
        async move {
            let v = app
                .get(&format!("/api/grids/{grid}/lists/{list}"), Some(&worker))
                .await
                .1;
            v.as_array().unwrap().clone()
        }
    };
    let events = |stream: String| {
        let store = app.db.store.clone();
        async move { store.events(gongzhi_demo::CITY, &stream).await.unwrap() }
    };

    let needs = format!(
        "category,text,lng,lat,urgency,ref\nrepair,修水管,{lng},{lat},high,12345-0001\nculture,广场舞 场地,{lng},{lat},,\n"
    );
    let (s, first) = post("needs", needs.clone()).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["added"].as_array().unwrap().len(), 2, "{first}");
    let before = list("needs").await;
    assert_eq!(before.len(), 2);
    let (s, again) = post("needs", needs.clone()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (again["imported"].as_i64(), again["added"].clone()),
        (Some(2), json!([])),
        "{again}"
    );
    assert_eq!(
        again["ids"], first["ids"],
        "the rows are the records stored by the first import"
    );
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 2);
    assert_eq!(list("needs").await, before, "a re-import changes nothing");
    for n in &before {
        assert_eq!(
            events(format!("grid_needs:{}", n["id"])).await.len(),
            1,
            "no event for an unchanged row"
        );
    }
    // The source's need changed its text: updated in place with one event; the other row, keyed
    // by its content, is left alone.
    let changed = format!(
        "category,text,lng,lat,urgency,ref\nrepair,修水管（三楼）,{lng},{lat},high,12345-0001\nculture,广场舞 场地,{lng},{lat},,\n"
    );
    let (s, v) = post("needs", changed).await;
    assert_eq!(s, 200, "{v}");
    let id = first["ids"][0].clone();
    assert_eq!(v["updated"], json!([id.to_string()]), "{v}");
    let after = list("needs").await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["body"]["text"], "修水管（三楼）");
    assert_eq!(after[0]["body"]["ref"], "12345-0001");
    let log = events(format!("grid_needs:{id}")).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].kind, "needs_reimported");

    let resources = format!(
        "title,kind,categories,person,lng,lat,capacity\n党员维修队,skills,repair,{pid},{lng},{lat},3\n法律顾问,services,legal,{pid},{lng},{lat},1\n"
    );
    let (s, first) = post("resources", resources.clone()).await;
    assert_eq!(s, 200, "{first}");
    let before = list("resources").await;
    let (s, again) = post("resources", resources).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["added"], json!([]), "{again}");
    assert_eq!(list("resources").await, before);

    // One key twice in a file: refused with both lines, nothing stored.
    let twice = format!(
        "category,text,lng,lat,ref\nrepair,修门,{lng},{lat},A-1\nelderly_care,助餐,{lng},{lat},\nrepair,修窗,{lng},{lat},A-1\n"
    );
    let (s, e) = post("needs", twice).await;
    assert_eq!(s, 422, "{e}");
    let d = &e["details"][0];
    assert_eq!(
        (d["line"].as_i64(), d["column"].as_str()),
        (Some(4), Some("ref")),
        "{e}"
    );
    assert!(d["message"].as_str().unwrap().contains("as line 2"), "{e}");
    let twice = format!(
        "title,kind,person,lng,lat,capacity\n车位,space,{pid},{lng},{lat},1\n车位 ,space,{pid},{lng},{lat},2\n"
    );
    let (s, e) = post("resources", twice).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["details"][0]["line"], 3, "{e}");
    assert!(
        e["details"][0]["message"].as_str().unwrap().contains("as line 2"),
        "{e}"
    );
    assert_eq!(list("needs").await, after, "nothing of a refused file is stored");
    assert_eq!(list("resources").await.len(), 2);
}
