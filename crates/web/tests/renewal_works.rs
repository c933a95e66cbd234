//! Micro-renewal works and delivery through the real server: a department registers works (JSON
//! and a file, a bad file refused with its line numbers and nothing stored), staff start a
//! delivery project, the bundle of the road works and the project is proposed with its lead,
//! schedule and savings and accepted once, the report counts interventions before and after;
//! the project gets milestones (one late: supervised and listed), a photo, spending,
//! contributions, upkeep with a check-in and the residents' acceptance survey; the pages show it
//! all in both languages.

use gongzhi_store::prelude::*;
use gongzhi_testkit::TestApp;
use serde_json::{json, Value};

/// The first community (the demo residents') and the department's organisation id.
async fn setup(app: &TestApp) -> (String, i64) {
    let resident = app.token("resident").await;
    let (_, me) = app.get("/api/me", Some(&resident)).await;
    let community = me["grants"][0]["scope"]["value"].as_str().unwrap().to_owned();
    let department = app.token("department").await;
    let (_, me) = app.get("/api/me", Some(&department)).await;
    let org = me["grants"][0]["scope"]["value"].as_i64().unwrap();
    (community, org)
}

// Far from the demo's own works in the same community (about 3 km east).
const X: f64 = 104.2;
const Y: f64 = 30.5;

fn line(dy: f64) -> Value {
    json!({ "type": "LineString", "coordinates": [[X, Y + dy], [X + 0.002, Y + dy]] })
}

async fn post_body(app: &TestApp, path: &str, token: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn works_bundles_and_delivery_over_http() {
    let app = TestApp::spawn().await;
    let (community, org) = setup(&app).await;
    let dept = app.token("department").await;
    let planner = app.token("planner").await;
    let resident = app.token("resident").await;
    let committee = app.token("committee").await;

    // A department registers its road resurfacing; not for another organisation.
    let road = json!({
        "reference": "T-RD-1", "title": "主路翻修", "kind": "road_resurfacing", "community": community,
        "department": org, "from": "2026-05-01", "to": "2026-05-20", "budget_cents": 80_000_000, "geometry": line(0.0)
    });
    let (st, w) = app.send("POST", "/api/renewal/works", Some(&dept), road.clone()).await;
    assert_eq!(st, 200, "{w}");
    let road_id = w["id"].as_i64().unwrap();
    assert_eq!(w["kind"], "road_resurfacing");
    let mut other = road.clone();
    other["department"] = json!(org + 1000);
    other["reference"] = json!("T-RD-2");
    let (st, e) = app.send("POST", "/api/renewal/works", Some(&dept), other).await;
    assert_eq!(st, 403, "{e}");
    // The same reference twice is refused.
    let (st, e) = app.send("POST", "/api/renewal/works", Some(&dept), road).await;
    assert_eq!(st, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("T-RD-1"), "{e}");
    // Residents register nothing.
    let (st, _) = app
        .send("POST", "/api/renewal/works", Some(&resident), json!({ "reference": "x", "title": "x", "kind": "gas", "community": community, "department": org, "from": "2026-05-01", "to": "2026-05-02", "budget_cents": 1, "geometry": line(0.0) }))
        .await;
    assert_eq!(st, 403);

    // A bad file: every wrong line reported, nothing stored.
    let geo = |dy: f64| line(dy).to_string().replace('"', "\"\"");
    let bad = format!(
        "reference,title,kind,community,department,from,to,budget_yuan,geometry\n\
         T-PP-1,管网更换,pipe_replacement,{community},{org},2026-05-25,2026-06-20,300000,\"{}\"\n\
         T-XX-1,挖坑,digging,{community},{org},2026-05-25,2026-05-20,3.141,\"{}\"\n\
         T-LT-1,路灯,lighting,{community},{org},2026-05-01,2026-05-10,1000,not geojson\n",
        geo(0.0001),
        geo(0.0001)
    );
    let (st, e) = post_body(&app, "/api/renewal/works/import", &dept, "text/csv", bad.into_bytes()).await;
    assert_eq!(st, 422, "{e}");
    let details = e["details"].as_array().unwrap();
    let at = |line: i64, column: &str| details.iter().any(|d| d["line"] == line && d["column"] == column);
    assert!(
        at(3, "kind") && at(3, "to") && at(3, "budget_yuan") && at(4, "geometry"),
        "{e}"
    );
    let (_, works) = app
        .get(&format!("/api/renewal/works?community={community}"), None)
        .await;
    assert!(!works.as_array().unwrap().iter().any(|w| w["reference"] == "T-PP-1"));
    // The good file imports.
    let good = format!(
        "reference,title,kind,community,department,from,to,budget_yuan,geometry\n\
         T-PP-1,管网更换,管网更换,{community},{org},2026-05-25,2026-06-20,300000,\"{}\"\n\
         T-FP-1,外立面,facade_painting,{community},{org},2026-05-01,2026-05-10,1000.5,\"{}\"\n",
        geo(0.0001),
        json!({ "type": "Point", "coordinates": [X + 0.05, Y] })
            .to_string()
            .replace('"', "\"\"")
    );
    let (st, imported) = post_body(&app, "/api/renewal/works/import", &dept, "text/csv", good.into_bytes()).await;
    assert_eq!(st, 200, "{imported}");
    assert_eq!(imported["imported"], 2);
    let pipe_id = imported["ids"][0].as_i64().unwrap();
    // The export gives the import's columns back.
    let csv = app
        .client
        .get(app.url(&format!("/api/renewal/works/export?community={community}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("reference,title,kind,community,department,from,to,budget_yuan,geometry"));
    assert!(csv.contains("T-FP-1") && csv.contains("1000.50"), "{csv}");

    // Staff start a delivery project beside the road; residents may not.
    let park = json!({
        "community": community, "title": "口袋公园", "budget_cents": 12_000_000, "from": "2026-05-10", "to": "2026-05-24",
        "site": { "type": "Polygon", "coordinates": [[[X + 0.001, Y + 0.0002], [X + 0.0012, Y + 0.0002], [X + 0.0012, Y + 0.0004], [X + 0.001, Y + 0.0004], [X + 0.001, Y + 0.0002]]] }
    });
    let (st, _) = app
        .send("POST", "/api/renewal/deliveries", Some(&resident), park.clone())
        .await;
    assert_eq!(st, 403);
    let (st, d) = app.send("POST", "/api/renewal/deliveries", Some(&planner), park).await;
    assert_eq!(st, 200, "{d}");
    let delivery = d["id"].as_i64().unwrap();

    // The proposed bundle: road, pipe and park; the pipe digs, so it leads; digging first.
    let (st, view) = app
        .get(&format!("/api/renewal/bundles?community={community}"), None)
        .await;
    assert_eq!(st, 200, "{view}");
    let mine = view["proposed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["items"]
                .as_array()
                .unwrap()
                .contains(&json!({ "type": "work", "id": road_id }))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no bundle with the road: {view}"));
    let items: Vec<Value> = mine["items"].as_array().unwrap().clone();
    assert_eq!(
        items,
        vec![
            json!({ "type": "work", "id": road_id }),
            json!({ "type": "work", "id": pipe_id }),
            json!({ "type": "delivery", "id": delivery })
        ]
    );
    assert_eq!(mine["lead"], json!({ "type": "work", "id": pipe_id }));
    assert_eq!(mine["lead_department"], org);
    assert_eq!(mine["schedule"][0]["phase"], "underground");
    assert_eq!(mine["savings"]["interventions_before"], 3);
    assert_eq!(mine["savings"]["diggings_before"], 1);
    assert_eq!(mine["savings"]["surfaces_redone_before"], 2);
    // Separately 20 + 27 + 15 days; merged: the pipe's 27 days, then the road's 20.
    assert_eq!(mine["savings"]["days_separate"], 62);
    assert_eq!(mine["savings"]["days_after"], 47);
    // A buffer of 0 metres and no gap: the pipe is 11 m from the road and weeks later.
    let (_, narrow) = app
        .get(
            &format!("/api/renewal/bundles?community={community}&buffer_m=0&gap_days=0"),
            None,
        )
        .await;
    assert!(!narrow["proposed"].as_array().unwrap().iter().any(|b| b["items"]
        .as_array()
        .unwrap()
        .contains(&json!({ "type": "work", "id": pipe_id }))));
    let (st, e) = app
        .get(&format!("/api/renewal/bundles?community={community}&buffer_m=-1"), None)
        .await;
    assert_eq!(st, 422, "{e}");

    // Accepting: only staff, only a proposed bundle, once.
    let keys = vec![
        format!("work:{road_id}"),
        format!("work:{pipe_id}"),
        format!("delivery:{delivery}"),
    ];
    let accept = json!({ "community": community, "items": keys });
    let (st, _) = app
        .send("POST", "/api/renewal/bundles", Some(&dept), accept.clone())
        .await;
    assert_eq!(st, 403);
    let (st, e) = app
        .send(
            "POST",
            "/api/renewal/bundles",
            Some(&planner),
            json!({ "community": community, "items": [format!("work:{road_id}")] }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    let (st, b) = app
        .send("POST", "/api/renewal/bundles", Some(&planner), accept.clone())
        .await;
    assert_eq!(st, 200, "{b}");
    let bundle_id = b["id"].as_i64().unwrap();
    let (st, e) = app.send("POST", "/api/renewal/bundles", Some(&planner), accept).await;
    assert_eq!(st, 409, "{e}");
    let (st, detail) = app.get(&format!("/api/renewal/bundles/{bundle_id}"), None).await;
    assert_eq!(st, 200);
    assert_eq!(detail["items"].as_array().unwrap().len(), 3);
    assert_eq!(detail["report"]["before"], 3);
    assert_eq!(detail["report"]["after"], 1);
    let events = app
        .db
        .store
        .events(gongzhi_demo::CITY, &format!("renewal_bundle:{bundle_id}"))
        .await
        .unwrap();
    assert_eq!(events[0].kind, "bundle_accepted");
    // The community's report: our three are one intervention now.
    let (_, view2) = app
        .get(&format!("/api/renewal/bundles?community={community}"), None)
        .await;
    let before = view2["report"]["community"]["before"].as_i64().unwrap();
    let after = view2["report"]["community"]["after"].as_i64().unwrap();
    assert_eq!(
        before - after,
        view2["accepted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["items"].as_array().unwrap().len() as i64 - 1)
            .sum::<i64>()
    );
    assert!(view2["report"]["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["place"] == format!("bundle {bundle_id}")));

    // Delivery: milestones (one long late), a photo, spending.
    let base = format!("/api/renewal/deliveries/{delivery}");
    let (st, m1) = app
        .send(
            "POST",
            &format!("{base}/milestones"),
            Some(&planner),
            json!({ "title": "设计公示", "due": "2026-01-10" }),
        )
        .await;
    assert_eq!(st, 200, "{m1}");
    let m1 = m1["id"].as_i64().unwrap();
    let (_, m2) = app
        .send(
            "POST",
            &format!("{base}/milestones"),
            Some(&planner),
            json!({ "title": "场地平整", "due": "2026-01-20" }),
        )
        .await;
    let m2 = m2["id"].as_i64().unwrap();
    let (_, _) = app
        .send(
            "POST",
            &format!("{base}/milestones"),
            Some(&planner),
            json!({ "title": "验收", "due": "2099-12-31" }),
        )
        .await;
    let (st, e) = app
        .send(
            "POST",
            &format!("{base}/milestones"),
            Some(&planner),
            json!({ "title": "x", "due": "tomorrow" }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("due"));
    // A day still to come is refused, and the milestone stays open.
    let (st, e) = app
        .send(
            "POST",
            &format!("{base}/milestones/{m1}/done"),
            Some(&planner),
            json!({ "date": "2999-01-01" }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("still to come"), "{e}");
    let (st, done) = app
        .send(
            "POST",
            &format!("{base}/milestones/{m1}/done"),
            Some(&planner),
            json!({ "date": "2026-01-09" }),
        )
        .await;
    assert_eq!(st, 200, "{done}");
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/milestones/{m1}/done"),
            Some(&planner),
            json!({ "date": "2026-01-09" }),
        )
        .await;
    assert_eq!(st, 409);
    let png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 1, 2, 3];
    let (st, photo) = post_body(
        &app,
        &format!("{base}/milestones/{m1}/photos"),
        &planner,
        "image/png",
        png.clone(),
    )
    .await;
    assert_eq!(st, 200, "{photo}");
    let got = app
        .client
        .get(app.url(photo["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    let (st, _) = post_body(
        &app,
        &format!("{base}/milestones/{m1}/photos"),
        &planner,
        "text/plain",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(st, 415);
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/spending"),
            Some(&planner),
            json!({ "amount_cents": 2_500_000, "note": "设计费", "date": "2026-01-05" }),
        )
        .await;
    assert_eq!(st, 200);

    // Contributions: a resident offers their own hours; staff record an organisation's money.
    let (st, e) = app
        .send(
            "POST",
            &format!("{base}/contributions"),
            Some(&resident),
            json!({ "hours": "2.55" }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/contributions"),
            Some(&resident),
            json!({ "hours": "3.5", "contributor": "someone else" }),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/contributions"),
            Some(&planner),
            json!({ "contributor": "商户联合会", "kind": "organisation", "money_cents": 600_000, "materials": "花苗" }),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/contributions"),
            Some(&dept),
            json!({ "hours": "1" }),
        )
        .await;
    assert_eq!(st, 403);

    // Upkeep and a resident's check-in.
    let (st, u) = app
        .send(
            "POST",
            &format!("{base}/upkeep"),
            Some(&planner),
            json!({ "who": "楼栋长", "what": "座椅清洁", "every_days": 14, "from": "2026-06-01" }),
        )
        .await;
    assert_eq!(st, 200, "{u}");
    let u = u["id"].as_i64().unwrap();
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/upkeep/{u}/checkins"),
            Some(&resident),
            json!({ "date": "2026-06-10", "ok": true, "note": "干净" }),
        )
        .await;
    assert_eq!(st, 200);

    // Acceptance: residents once each; not a department.
    for (token, sat, solved) in [
        (&resident, "satisfied", true),
        (&committee, "basically_satisfied", false),
    ] {
        let (st, e) = app
            .send(
                "POST",
                &format!("{base}/acceptance"),
                Some(token),
                json!({ "satisfaction": sat, "solved": solved, "comment": "好" }),
            )
            .await;
        assert_eq!(st, 200, "{e}");
    }
    let (st, e) = app
        .send(
            "POST",
            &format!("{base}/acceptance"),
            Some(&resident),
            json!({ "satisfaction": "satisfied", "solved": true }),
        )
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, _) = app
        .send(
            "POST",
            &format!("{base}/acceptance"),
            Some(&dept),
            json!({ "satisfaction": "satisfied", "solved": true }),
        )
        .await;
    assert_eq!(st, 403);
    let (st, e) = app
        .send(
            "POST",
            &format!("{base}/acceptance"),
            Some(&resident),
            json!({ "satisfaction": "happy", "solved": true }),
        )
        .await;
    assert!(st == 422 || st == 409, "{e}");

    // The project as everyone sees it.
    let (st, v) = app.get(&base, None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["progress_percent"], 33);
    assert_eq!(v["detail"]["delivery"]["spent_cents"], 2_500_000);
    assert_eq!(v["detail"]["delivery"]["bundle"], bundle_id);
    assert_eq!(v["co_production"]["hours_tenths"], 35);
    assert_eq!(v["co_production"]["money_cents"], 600_000);
    assert_eq!(v["co_production"]["money_share"], "5.00%");
    assert_eq!(v["co_production"]["residents"], 1);
    assert_ne!(v["detail"]["contributions"][0]["contributor"], "someone else");
    assert_eq!(v["acceptance"]["answers"], 2);
    // (1 + 0.9) / 2 = 95 %
    assert_eq!(v["acceptance"]["satisfaction_rate"], "95.00%");
    assert_eq!(v["acceptance"]["solution_rate"], "50.00%");
    assert!(
        v["detail"]["acceptance"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.get("person").is_none()),
        "answers carry no person: {v}"
    );
    let states: Vec<&str> = v["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "late", "open"]);
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["zh"].as_str().unwrap().contains("场地平整") && w["en"].as_str().unwrap().contains("days late")));

    // The late milestone is supervised like a late case: listed, and marked once by the sweep.
    let (st, list) = app
        .get(
            &format!("/api/renewal/supervision?community={community}"),
            Some(&planner),
        )
        .await;
    assert_eq!(st, 200, "{list}");
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["milestone"]["id"] == m2 && m["state"] == "late"));
    let (st, _) = app
        .get(
            &format!("/api/renewal/supervision?community={community}"),
            Some(&resident),
        )
        .await;
    assert_eq!(st, 403);
    let store = &app.db.store;
    let today = gongzhi_web::api::renewal_works::today();
    assert!(store.supervise_milestones(gongzhi_demo::CITY, today).await.unwrap() >= 1);
    assert_eq!(store.supervise_milestones(gongzhi_demo::CITY, today).await.unwrap(), 0);
    let supervised: Vec<_> = store
        .events(gongzhi_demo::CITY, &format!("renewal_delivery:{delivery}"))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "milestone_supervised")
        .collect();
    assert_eq!(supervised.len(), 1);
    assert_eq!(supervised[0].payload["milestone"], m2);
    assert_eq!(supervised[0].payload["level"], 2);

    // Pages: the department page, the bundle with its SVG map, the delivery page in English.
    let page = |path: String| {
        let app = &app;
        async move {
            let r = app.client.get(app.url(&path)).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (st, html) = page(format!("/renewal/{community}/works")).await;
    assert_eq!(st, 200);
    assert!(
        html.contains("项目整合")
            && html.contains("主路翻修")
            && html.contains(&format!("/renewal/{community}/bundles/{bundle_id}"))
    );
    let (st, html) = page(format!("/renewal/{community}/bundles/{bundle_id}?lang=en")).await;
    assert_eq!(st, 200);
    assert!(
        html.contains("<svg") && html.contains("class=\"place line underground") && html.contains("One schedule"),
        "{html}"
    );
    let (st, html) = page(format!("/renewal/{community}/deliveries/{delivery}?lang=en")).await;
    assert_eq!(st, 200);
    assert!(html.contains("Milestones") && html.contains("95.00%") && html.contains("场地平整"));
    let (st, _) = page(format!("/renewal/{community}/deliveries/999999")).await;
    assert_eq!(st, 404);

    // A resident answers on the page: the form goes through the same call (here: already answered).
    let browser = app.browser("resident").await;
    let r = browser
        .post(app.url(&format!("/renewal/{community}/deliveries/{delivery}")))
        .form(&[("action", "accept"), ("satisfaction", "satisfied"), ("solved", "1")])
        .send()
        .await
        .unwrap();
    assert!(r.url().as_str().contains("error="), "{}", r.url());
    let html = r.text().await.unwrap();
    assert!(html.contains("already answered") || html.contains("已"), "{html}");
}

/// The seam from votes to delivery: the demo's closed vote funded some proposals; staff start
/// their delivery projects in one step (again: none more), and a delivery cannot claim a
/// proposal that was not funded.
#[tokio::test]
async fn a_closed_vote_s_funded_proposals_become_delivery_projects() {
    let app = TestApp::spawn().await;
    let (community, _) = setup(&app).await;
    let admin = app.token("admin").await;
    let (s, votes) = app
        .get(&format!("/api/renewal/communities/{community}/votes"), None)
        .await;
    assert_eq!(s, 200, "{votes}");
    let vote = votes[0]["id"].as_i64().unwrap();
    let (s, funded) = app.get(&format!("/api/renewal/votes/{vote}/funded"), None).await;
    assert_eq!(s, 200, "{funded}");
    let funded: Vec<i64> = funded
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["proposal"].as_i64().unwrap())
        .collect();
    assert!(!funded.is_empty(), "the demo vote funds something");
    let path = format!("/api/renewal/votes/{vote}/deliveries");
    let window = json!({"from": "2027-03-01", "to": "2027-06-30"});
    let resident = app.token("resident").await;
    let (s, e) = app.send("POST", &path, Some(&resident), window.clone()).await;
    assert_eq!(s, 403, "{e}");
    let (s, started) = app.send("POST", &path, Some(&admin), window.clone()).await;
    assert_eq!(s, 200, "{started}");
    let mut got: Vec<i64> = started
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["proposal"].as_i64().unwrap())
        .collect();
    got.sort();
    let mut want = funded.clone();
    want.sort();
    assert_eq!(got, want, "one delivery per funded proposal: {started}");
    assert_eq!(started[0]["window"]["from"], "2027-03-01", "{started}");
    let (s, again) = app.send("POST", &path, Some(&admin), window).await;
    assert_eq!((s, again), (200, json!([])), "nothing is started twice");

    // A delivery may not claim a proposal that was not funded, nor one delivered already.
    let (_, proposals) = app
        .get(&format!("/api/renewal/communities/{community}/proposals"), None)
        .await;
    let unfunded = proposals
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .find(|id| !funded.contains(id));
    let site = json!({"type": "Point", "coordinates": [X, Y]});
    for (proposal, status) in [(unfunded, 422), (Some(funded[0]), 409)] {
        let Some(proposal) = proposal else { continue };
        let (s, e) = app
            .send(
                "POST",
                "/api/renewal/deliveries",
                Some(&admin),
                json!({"proposal": proposal, "community": community, "title": "x", "site": site,
                       "budget_cents": 100, "from": "2027-01-01", "to": "2027-02-01"}),
            )
            .await;
        assert_eq!(s, status, "{e}");
    }
}

/// The delivery page's photo form: renewal staff upload a milestone photo (multipart, larger than
/// a plain form's limit too) and its thumbnail shows; a file that is not an image, an empty form
/// and a resident are refused on the page, and nothing is stored for them.
#[tokio::test]
async fn milestone_photos_are_uploaded_on_the_delivery_page() {
    let app = TestApp::spawn().await;
    let (_, list) = app.get("/api/renewal/deliveries", None).await;
    let park = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"].as_str().unwrap().contains("口袋公园"))
        .expect("the demo's pocket park");
    let (community, delivery) = (park["community"].as_str().unwrap(), park["id"].as_i64().unwrap());
    let photos_of = |m: i64| {
        let app = &app;
        async move {
            let (_, v) = app.get(&format!("/api/renewal/deliveries/{delivery}"), None).await;
            v["milestones"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == m)
                .unwrap()["photos"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let (_, v) = app.get(&format!("/api/renewal/deliveries/{delivery}"), None).await;
    let milestone = v["milestones"][0]["id"].as_i64().unwrap();
    let before = photos_of(milestone).await;
    let action = app.url(&format!(
        "/renewal/{community}/deliveries/{delivery}/milestones/{milestone}/photos"
    ));
    let upload = |client: reqwest::Client, bytes: Vec<u8>, mime: &'static str| {
        let action = action.clone();
        async move {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name("site.png")
                .mime_str(mime)
                .unwrap();
            let r = client
                .post(action)
                .multipart(reqwest::multipart::Form::new().part("photo", part))
                .send()
                .await
                .unwrap();
            let url = r.url().clone();
            (url, r.text().await.unwrap())
        }
    };
    let mut png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10];
    png.resize(3 * 1024 * 1024, 7);

    let planner = app.browser("planner").await;
    let (url, html) = upload(planner.clone(), png.clone(), "image/png").await;
    assert!(url.query().is_none(), "{url}: {html}");
    assert!(html.contains("class=\"inline photo-form\""), "the staff form: {html}");
    let row = html
        .split(&format!("<tr id=\"milestone-{milestone}\""))
        .nth(1)
        .and_then(|x| x.split("</tr>").next())
        .unwrap_or_else(|| panic!("the milestone's row: {html}"));
    let src = row
        .split("<img src=\"")
        .nth(before + 1)
        .and_then(|x| x.split('"').next())
        .unwrap_or_else(|| panic!("the new thumbnail: {row}"));
    assert!(src.starts_with("/media/"), "{src}");
    let got = app.client.get(app.url(src)).send().await.unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    assert_eq!(photos_of(milestone).await, before + 1);

    // Refused on the page, nothing stored: not an image, no file, not staff.
    let (url, html) = upload(planner.clone(), b"hello".to_vec(), "text/plain").await;
    // (The one media policy: the delivery page itself answers 415 with the error; tests/media.rs.)
    let _ = url;
    assert!(
        html.contains("is not accepted here") && html.contains("id=\"error\""),
        "{html}"
    );
    let r = planner
        .post(&action)
        .multipart(reqwest::multipart::Form::new().text("note", "x"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("请选择一张照片"), "{html}");
    let resident = app.browser("resident").await;
    let (url, html) = upload(resident, png[..64].to_vec(), "image/png").await;
    assert!(
        url.query().unwrap_or("").contains("error=") && html.contains("renewal staff"),
        "{html}"
    );
    assert!(!html.contains("photo-form"), "no upload form for residents");
    assert_eq!(photos_of(milestone).await, before + 1);
}

#[tokio::test]
async fn works_imported_twice_are_stored_once() {
    let app = TestApp::spawn().await;
    let (community, org) = setup(&app).await;
    let dept = app.token("department").await;
    let geo = |dy: f64| line(dy).to_string().replace('"', "\"\"");
    let file = |budget: &str| {
        format!(
            "reference,title,kind,community,department,from,to,budget_yuan,geometry\n\
             T-PP-1,管网更换,pipe_replacement,{community},{org},2026-05-25,2026-06-20,300000,\"{}\"\n\
             T-FP-1,外立面,facade_painting,{community},{org},2026-05-01,2026-05-10,{budget},\"{}\"\n",
            geo(0.0001),
            geo(0.0003)
        )
    };
    let works = || async {
        let (_, w) = app
            .get(&format!("/api/renewal/works?community={community}"), None)
            .await;
        w.as_array().unwrap().clone()
    };
    let events = |id: i64| {
        let store = app.db.store.clone();
        async move {
            store
                .events(gongzhi_demo::CITY, &format!("renewal_work:{id}"))
                .await
                .unwrap()
        }
    };
    let (st, first) = post_body(
        &app,
        "/api/renewal/works/import",
        &dept,
        "text/csv",
        file("1000.5").into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["added"].as_array().unwrap().len(), 2, "{first}");
    let before = works().await;
    let ids: Vec<i64> = first["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_i64().unwrap())
        .collect();

    // The same file again: the same works, nothing written, no event.
    let (st, again) = post_body(
        &app,
        "/api/renewal/works/import",
        &dept,
        "text/csv",
        file("1000.5").into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(
        (
            again["imported"].as_i64(),
            again["added"].clone(),
            again["updated"].clone()
        ),
        (Some(2), json!([]), json!([])),
        "{again}"
    );
    assert_eq!(again["ids"], first["ids"]);
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 2);
    assert_eq!(works().await, before, "a re-import changes nothing");
    for id in &ids {
        assert_eq!(events(*id).await.len(), 1, "no event for an unchanged work");
    }

    // A changed budget: one update with its event; the same file again changes nothing.
    let (st, r) = post_body(
        &app,
        "/api/renewal/works/import",
        &dept,
        "text/csv",
        file("2000").into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["updated"], json!([ids[1].to_string()]), "{r}");
    let (st, r) = post_body(
        &app,
        "/api/renewal/works/import",
        &dept,
        "text/csv",
        file("2000").into_bytes(),
    )
    .await;
    assert_eq!((st, r["updated"].clone()), (200, json!([])), "{r}");
    let ev = events(ids[1]).await;
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1].kind, "work_reimported");
    assert_eq!(works().await.len(), before.len(), "no work doubled");

    // One reference twice in a file: refused with both lines, nothing stored.
    let dup = format!(
        "{}T-PP-1,管网更换二,pipe_replacement,{community},{org},2026-07-01,2026-07-20,100,\"{}\"\n",
        file("2000"),
        geo(0.0005)
    );
    let (st, e) = post_body(&app, "/api/renewal/works/import", &dept, "text/csv", dup.into_bytes()).await;
    assert_eq!(st, 422, "{e}");
    assert_eq!(e["details"][0]["line"], 4, "{e}");
    assert!(e["details"][0]["message"].as_str().unwrap().contains("line 2"), "{e}");
    assert_eq!(works().await.len(), before.len());
    assert_eq!(events(ids[0]).await.len(), 1);
}
