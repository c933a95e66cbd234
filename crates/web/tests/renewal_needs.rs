//! Micro-renewal needs over HTTP: residents raise needs only in their own community, staff raise
//! on behalf of people met, the clustering groups look-alikes, staff rename, merge and split
//! clusters (each an event of the cluster's stream), recurring cases are offered and linked as
//! evidence, photos, and the pages.

use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

/// A point inside the last grid of the small demo (its third community: the demo's own renewal
/// data is in the first), with the grid's community; and another community's code.
fn place() -> (String, f64, f64, String) {
    let demo = small_demo();
    let g = demo.grids.last().unwrap();
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    let other = demo
        .grids
        .iter()
        .map(|x| x.community.to_string())
        .find(|c| *c != g.community.to_string())
        .unwrap();
    (
        g.community.to_string(),
        (r.min().x + r.max().x) / 2.0,
        (r.min().y + r.max().y) / 2.0,
        other,
    )
}

async fn account(app: &TestApp, admin: &str, role: &str, scope: &str, username: &str) -> (i64, String) {
    let (s, v) = app
        .send("POST", "/api/people", Some(admin), json!({"name": format!("测试{username}"), "grants": [{"role": role, "scope": scope}], "username": username, "password": "renewal-password"}))
        .await;
    assert_eq!(s, 201, "{v}");
    let (_, login) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": username, "password": "renewal-password"}),
        )
        .await;
    (v["id"].as_i64().unwrap(), login["token"].as_str().unwrap().to_owned())
}

async fn raise(app: &TestApp, token: &str, community: &str, body: Value) -> (u16, Value) {
    app.send(
        "POST",
        &format!("/api/renewal/communities/{community}/needs"),
        Some(token),
        body,
    )
    .await
}

async fn raised(app: &TestApp, token: &str, community: &str, body: Value) -> i64 {
    let (s, v) = raise(app, token, community, body.clone()).await;
    assert_eq!(s, 201, "{body} → {v}");
    v["id"].as_i64().unwrap()
}

fn kinds(detail: &Value) -> Vec<String> {
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn residents_raise_needs_staff_integrate_them_into_clusters_with_evidence() {
    let app = TestApp::spawn().await;
    let (community, lng, lat, other) = place();
    let admin = app.token("admin").await;
    let (a_id, a) = account(&app, &admin, "resident", &format!("division:{community}"), "rn.a").await;
    let (_, b) = account(&app, &admin, "resident", &format!("division:{community}"), "rn.b").await;
    let (_, outsider) = account(&app, &admin, "resident", &format!("division:{other}"), "rn.out").await;
    let (_, planner) = account(
        &app,
        &admin,
        "community_planner",
        &format!("division:{community}"),
        "rn.planner",
    )
    .await;
    let need = |cat: &str, text: &str, dx: f64| json!({"category": cat, "text": text, "lng": lng + dx, "lat": lat});

    // Eligibility: a resident of another community is refused, a point outside is refused.
    let (s, e) = raise(&app, &outsider, &community, need("lighting", "路灯不亮", 0.0)).await;
    assert_eq!(s, 403, "{e}");
    assert!(e["message"].as_str().unwrap().contains("verified residents"), "{e}");
    let (s, e) = raise(
        &app,
        &a,
        &community,
        json!({"category": "lighting", "text": "路灯不亮", "lng": lng + 1.0, "lat": lat}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = raise(&app, &a, &community, need("rocket", "路灯不亮", 0.0)).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = raise(&app, &a, &community, need("lighting", "  ", 0.0)).await;
    assert_eq!((s, e["message"].as_str().unwrap().contains("text")), (422, true), "{e}");
    let (s, _) = raise(&app, &a, &other, need("lighting", "路灯不亮", 0.0)).await;
    assert_eq!(s, 422, "the point is not in the other community");

    // Residents raise; staff raise on behalf (visit, meeting).
    let l1 = raised(
        &app,
        &a,
        &community,
        need("lighting", "3号楼前路灯坏了，晚上一片漆黑", 0.0),
    )
    .await;
    let l2 = raised(
        &app,
        &b,
        &community,
        need("lighting", "晚上3号楼前太黑了，照明灯一直不亮", 0.0001),
    )
    .await;
    let l3 = raised(
        &app,
        &planner,
        &community,
        json!({"category": "lighting", "text": "路灯不亮，3号楼前晚上很黑", "lng": lng, "lat": lat + 0.0001, "source": "visit", "on_behalf_of": a_id}),
    )
    .await;
    let w1 = raised(
        &app,
        &a,
        &community,
        need("waste_point", "3号楼前垃圾桶太少，垃圾经常满出来", 0.0),
    )
    .await;
    let w2 = raised(&app, &planner, &community, json!({"category": "waste_point", "text": "3号楼前的垃圾箱天天爆满", "lng": lng, "lat": lat, "source": "meeting"})).await;
    let (s, e) = raise(
        &app,
        &planner,
        &community,
        json!({"category": "parking", "text": "车位不足", "lng": lng, "lat": lat, "source": "resident"}),
    )
    .await;
    assert_eq!(s, 422, "staff do not raise as a resident without one: {e}");

    let (s, list) = app
        .get(&format!("/api/renewal/communities/{community}/needs"), Some(&b))
        .await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 5), "{list}");
    let first = list.as_array().unwrap().iter().find(|n| n["id"] == l1).unwrap();
    assert_eq!(
        first["raised_by"],
        Value::Null,
        "a resident does not see who raised another's need"
    );
    assert_eq!(first["source"], "resident");
    assert_eq!(
        app.get(&format!("/api/renewal/communities/{community}/needs"), Some(&outsider))
            .await
            .0,
        403
    );

    // The needs are the one needs list: the grid team sees them in its grid's list.
    let grid = first["area"].as_str().unwrap().to_owned();
    let (_, grid_needs) = app.get(&format!("/api/grids/{grid}/lists/needs"), Some(&admin)).await;
    assert!(
        grid_needs.as_array().unwrap().iter().any(|n| n["id"] == l1),
        "{grid_needs}"
    );

    // A photo.
    let png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];
    let r = app
        .client
        .post(app.url(&format!("/api/renewal/needs/{l1}/photos")))
        .bearer_auth(&a)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let photo = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/renewal/needs/{l1}/photos")))
        .bearer_auth(&b)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another resident does not add photos to my need");
    let r = app
        .client
        .get(app.url(&format!("/api/renewal/needs/{l1}/photos/{photo}")))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);

    // Clustering: staff only.
    let refresh = format!("/api/renewal/communities/{community}/clusters/refresh");
    assert_eq!(app.send("POST", &refresh, Some(&a), json!({})).await.0, 403);
    let (s, run) = app.send("POST", &refresh, Some(&planner), json!({})).await;
    assert_eq!(s, 200, "{run}");
    let (s, clusters) = app
        .get(&format!("/api/renewal/communities/{community}/clusters"), Some(&a))
        .await;
    assert_eq!(s, 200);
    let clusters = clusters.as_array().unwrap().clone();
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    let lights = clusters
        .iter()
        .find(|c| c["needs"].as_array().unwrap().contains(&json!(l1)))
        .unwrap();
    let waste = clusters
        .iter()
        .find(|c| c["needs"].as_array().unwrap().contains(&json!(w1)))
        .unwrap();
    assert_eq!(lights["needs"], json!([l1, l2, l3]));
    assert_eq!(waste["needs"], json!([w1, w2]));
    // Residents a and b raised their own; the planner's visit is on behalf of a: 2 residents, 2 households.
    assert_eq!(
        (lights["residents"].as_i64(), lights["households"].as_i64()),
        (Some(2), Some(2))
    );
    let (lc, wc) = (lights["id"].as_i64().unwrap(), waste["id"].as_i64().unwrap());
    assert_eq!(
        app.get(
            &format!("/api/renewal/communities/{community}/clusters"),
            Some(&outsider)
        )
        .await
        .0,
        403
    );

    // A second run changes nothing; a new look-alike joins its cluster.
    let (_, again) = app.send("POST", &refresh, Some(&planner), json!({})).await;
    assert_eq!(
        (again["created"].as_array().unwrap().len(), again["clusters"].as_i64()),
        (0, Some(2))
    );
    let l4 = raised(
        &app,
        &b,
        &community,
        need("lighting", "希望修一下3号楼前的路灯，晚上不亮", 0.0),
    )
    .await;
    let (_, again) = app.send("POST", &refresh, Some(&planner), json!({})).await;
    assert_eq!(again["added"], json!([[lc, [l4]]]), "{again}");

    // Rename (with the version seen), merge, split: each an event of the cluster's stream.
    let rename = format!("/api/renewal/clusters/{lc}/rename");
    let (_, d) = app.get(&format!("/api/renewal/clusters/{lc}"), Some(&planner)).await;
    let version = d["cluster"]["version"].as_i64().unwrap();
    assert_eq!(app.send("POST", &rename, Some(&a), json!({"name": "x"})).await.0, 403);
    let (s, _) = app
        .send(
            "POST",
            &rename,
            Some(&planner),
            json!({"name": "3号楼前路灯", "version": version}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = app
        .send(
            "POST",
            &rename,
            Some(&planner),
            json!({"name": "又改", "version": version}),
        )
        .await;
    assert_eq!(s, 409, "a stale version is refused: {e}");
    let (s, e) = app.send("POST", &rename, Some(&planner), json!({"name": ""})).await;
    assert_eq!(s, 422, "{e}");

    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/clusters/{lc}/merge"),
            Some(&planner),
            json!({"from": [wc], "reason": "同一地点一起改造"}),
        )
        .await;
    assert_eq!(s, 204);
    let (_, clusters) = app
        .get(&format!("/api/renewal/communities/{community}/clusters"), Some(&a))
        .await;
    assert_eq!(clusters.as_array().unwrap().len(), 1);
    assert_eq!(clusters[0]["needs"], json!([l1, l2, l3, w1, w2, l4]));
    let (s, e) = app
        .send(
            "POST",
            &format!("/api/renewal/clusters/{wc}/rename"),
            Some(&planner),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(s, 422, "a merged cluster takes no more steps: {e}");

    let split = format!("/api/renewal/clusters/{lc}/split");
    let (s, e) = app
        .send("POST", &split, Some(&planner), json!({"needs": [999999], "name": "x"}))
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, v) = app
        .send(
            "POST",
            &split,
            Some(&planner),
            json!({"needs": [w1, w2], "name": "3号楼垃圾桶"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let wc2 = v["id"].as_i64().unwrap();
    let (_, d) = app.get(&format!("/api/renewal/clusters/{lc}"), Some(&a)).await;
    assert_eq!(
        kinds(&d),
        [
            "cluster_created",
            "cluster_needs_added",
            "cluster_renamed",
            "cluster_absorbed",
            "cluster_split"
        ]
    );
    assert_eq!(d["cluster"]["name"], "3号楼前路灯");
    assert_eq!(d["cluster"]["needs"], json!([l1, l2, l3, l4]));
    let (_, d2) = app.get(&format!("/api/renewal/clusters/{wc2}"), Some(&a)).await;
    assert_eq!(
        (kinds(&d2), d2["cluster"]["needs"].clone()),
        (vec!["cluster_created".to_owned()], json!([w1, w2]))
    );
    let (_, dw) = app.get(&format!("/api/renewal/clusters/{wc}"), Some(&a)).await;
    assert_eq!(kinds(&dw), ["cluster_created", "cluster_merged_into"]);
    assert_eq!(dw["cluster"]["status"], "merged");

    // Evidence: three reports of one condition at the place within the window recur.
    for k in 0..3 {
        let (s, v) = app
            .send(
                "POST",
                "/api/cases",
                Some(&a),
                json!({"condition": "C0105-02", "description": format!("井盖又坏了 {k}"), "lng": lng, "lat": lat}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let evidence = format!("/api/renewal/needs/{l1}/evidence");
    assert_eq!(app.get(&evidence, Some(&a)).await.0, 403);
    let (s, offers) = app.get(&evidence, Some(&planner)).await;
    assert_eq!(s, 200, "{offers}");
    let offer = offers["offers"].as_array().unwrap();
    assert_eq!(offer.len(), 1, "{offers}");
    let cases = offer[0]["cases"].clone();
    assert_eq!(cases.as_array().unwrap().len(), 3);
    let (s, e) = app
        .send("POST", &evidence, Some(&planner), json!({"cases": [987654321]}))
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, linked) = app
        .send("POST", &evidence, Some(&planner), json!({"cases": cases}))
        .await;
    assert_eq!((s, linked.clone()), (200, cases.clone()));
    let (_, offers) = app.get(&evidence, Some(&planner)).await;
    assert_eq!(offers["offers"][0]["linked"], true);
    let (_, d) = app.get(&format!("/api/renewal/clusters/{lc}"), Some(&a)).await;
    assert_eq!(d["cluster"]["evidence"], cases);

    // Settings are data.
    let (_, settings) = app.get("/api/renewal/settings", Some(&a)).await;
    assert_eq!(settings["evidence"]["min_reports"], 3);
    let mut stricter = settings.clone();
    stricter["evidence"]["min_reports"] = json!(4);
    assert_eq!(
        app.send("PUT", "/api/renewal/settings", Some(&planner), stricter.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        app.send("PUT", "/api/renewal/settings", Some(&admin), stricter).await.0,
        200
    );
    let (_, offers) = app.get(&evidence, Some(&planner)).await;
    assert!(offers["offers"].as_array().unwrap().is_empty(), "{offers}");
    let mut bad = settings.clone();
    bad["cluster"]["radius_m"] = json!(-1);
    assert_eq!(app.send("PUT", "/api/renewal/settings", Some(&admin), bad).await.0, 422);
    // The hour value of the co-produced shares: 25 元 by default, set by the city, checked, and
    // used by the indicators; a PUT without it leaves it as it is.
    assert_eq!(settings["hour_value_cents"], 2_500);
    let mut dearer = settings.clone();
    dearer["hour_value_cents"] = json!(3_000);
    assert_eq!(
        app.send("PUT", "/api/renewal/settings", Some(&admin), dearer).await.0,
        200
    );
    let mut unchanged = settings.clone();
    unchanged.as_object_mut().unwrap().remove("hour_value_cents");
    let (s, after) = app.send("PUT", "/api/renewal/settings", Some(&admin), unchanged).await;
    assert_eq!((s, &after["hour_value_cents"]), (200, &json!(3_000)));
    let mut negative = settings.clone();
    negative["hour_value_cents"] = json!(-1);
    let (s, e) = app.send("PUT", "/api/renewal/settings", Some(&admin), negative).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("hour_value_cents"), "{e}");
    let (s, ind) = app
        .get(&format!("/api/renewal/indicators?within={community}"), Some(&admin))
        .await;
    assert_eq!(s, 200, "{ind}");
    assert_eq!(ind["co_production"]["hour_value_cents"], 3_000);

    // The OpenAPI document lists the routes under the tag renewal.
    let (_, doc) = app.get("/api/openapi.json", None).await;
    assert!(doc["paths"]["/api/renewal/communities/{community}/clusters"].is_object());

    // Pages: the resident's phone page and the staff page.
    let browser = |user: &'static str| {
        let app = &app;
        async move {
            let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
            let r = client
                .post(app.url("/login"))
                .form(&[("username", user), ("password", "renewal-password")])
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            client
        }
    };
    let res = browser("rn.a").await;
    let html = res
        .get(app.url(&format!("/renewal/{community}/needs")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in ["提出需求", "3号楼前路灯", "3号楼垃圾桶", "data-pick"] {
        assert!(html.contains(text), "{text} missing");
    }
    assert_eq!(
        res.get(app.url(&format!("/renewal/{community}/clusters")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let form = reqwest::multipart::Form::new()
        .text("category", "charging")
        .text("text", "5栋需要安装电动车充电桩")
        .text("lng", lng.to_string())
        .text("lat", lat.to_string())
        .part(
            "photo",
            reqwest::multipart::Part::bytes(png.clone())
                .mime_str("image/png")
                .unwrap()
                .file_name("a.png"),
        );
    let r = res
        .post(app.url(&format!("/renewal/{community}/needs")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("5栋需要安装电动车充电桩") && html.contains("id=\"raised\""),
        "{html}"
    );
    let staff = browser("rn.planner").await;
    let r = staff
        .get(app.url(&format!("/renewal/{community}/clusters?lang=en")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Run the integration") && html.contains("3号楼前路灯"),
        "{html}"
    );
    let r = staff
        .post(app.url(&format!("/renewal/{community}/clusters/refresh")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let html = r.text().await.unwrap();
    assert!(!html.contains("id=\"unclustered\""), "the run clusters the new need");
    let r = staff
        .post(app.url(&format!("/renewal/clusters/{wc2}/rename")))
        .form(&[("name", "垃圾桶增设")])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("垃圾桶增设"));
}

/// Every create of the API takes an `Idempotency-Key`, not only reports: a need and an account
/// sent twice with the same key are made once, and the retry is answered the first answer.
#[tokio::test]
async fn every_create_takes_an_idempotency_key() {
    let app = TestApp::spawn().await;
    let (community, lng, lat, _) = place();
    let admin = app.token("admin").await;
    let post = |token: String, path: String, key: &'static str, body: Value| {
        let (client, url) = (app.client.clone(), app.url(&path));
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
    let person = json!({"name": "测试幂等", "grants": [{"role": "resident", "scope": format!("division:{community}")}], "username": "rn.idem", "password": "renewal-password"});
    let (s1, r1, first) = post(admin.clone(), "/api/people".into(), "p-1", person.clone()).await;
    assert_eq!((s1, r1), (201, false), "{first}");
    // Without the key the same account again would be refused (the user name is taken); with
    // it the retry is the first answer.
    let (s2, r2, again) = post(admin.clone(), "/api/people".into(), "p-1", person).await;
    assert_eq!((s2, r2), (201, true), "{again}");
    assert_eq!(first, again);

    let (_, login) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": "rn.idem", "password": "renewal-password"}),
        )
        .await;
    let resident = login["token"].as_str().unwrap().to_owned();
    let path = format!("/api/renewal/communities/{community}/needs");
    let need = json!({"category": "lighting", "text": "楼道灯坏了 幂等", "lng": lng, "lat": lat});
    let (s1, r1, first) = post(resident.clone(), path.clone(), "n-1", need.clone()).await;
    assert_eq!((s1, r1), (201, false), "{first}");
    let (s2, r2, again) = post(resident.clone(), path.clone(), "n-1", need).await;
    assert_eq!((s2, r2), (201, true), "{again}");
    assert_eq!(first["id"], again["id"]);
    let (_, list) = app.get(&path, Some(&admin)).await;
    let same = list
        .as_array()
        .or_else(|| list["needs"].as_array())
        .unwrap()
        .iter()
        .filter(|n| n.to_string().contains("楼道灯坏了 幂等"))
        .count();
    assert_eq!(same, 1, "{list}");
}
