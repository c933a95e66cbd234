//! The API suite, against the real server on a loopback port over a fresh database (SQLite, or
//! PostgreSQL when GONGZHI_TEST_DATABASE is set).

use gongzhi_core::spatial;
use gongzhi_testkit::{small_demo, TestApp};
use serde_json::json;

fn centre_of_first_grid() -> (f64, f64, String, String) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    (
        (r.min().x + r.max().x) / 2.0,
        (r.min().y + r.max().y) / 2.0,
        g.code.to_string(),
        g.community.to_string(),
    )
}

#[tokio::test]
async fn health_and_openapi_match_the_routes() {
    let app = TestApp::spawn().await;
    let (s, h) = app.get("/api/health", None).await;
    assert_eq!((s, h["status"].as_str()), (200, Some("ok")));
    let (s, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/grids",
        "/api/grids/lookup",
        "/api/grids/{code}",
        "/api/grids/import",
        "/api/divisions",
        "/api/people",
        "/api/auth/login",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    // Every documented GET without path parameters answers (no 404/405: the document is true).
    for (p, item) in paths {
        if item.get("get").is_some() && !p.contains('{') && p != "/api/grids/lookup" {
            let (s, _) = app.get(p, None).await;
            assert!(s == 200 || s == 401, "{p} answered {s}");
        }
    }
}

#[tokio::test]
async fn lookup_names_the_grid_and_its_divisions() {
    let app = TestApp::spawn().await;
    let (lng, lat, code, community) = centre_of_first_grid();
    let (s, r) = app.get(&format!("/api/grids/lookup?lng={lng}&lat={lat}"), None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["grid"]["code"], code);
    assert_eq!(r["community"]["code"], community);
    assert_eq!(r["district"]["name"], "锦江区");
    assert!(r["street"]["name"].as_str().unwrap().ends_with("街道"));
    assert_eq!(r["city"]["name"], "成都市");
    assert_eq!(r["fallback"], false);
    // The same place as a Chinese map app gives it (GCJ-02, BD-09) lands in the same grid.
    let (gl, ga) = spatial::wgs84_to_gcj02(lng, lat);
    let (_, r) = app
        .get(&format!("/api/grids/lookup?lng={gl}&lat={ga}&crs=gcj02"), None)
        .await;
    assert_eq!(r["grid"]["code"], code);
    let (bl, ba) = spatial::wgs84_to_bd09(lng, lat);
    let (_, r) = app
        .get(&format!("/api/grids/lookup?lng={bl}&lat={ba}&crs=bd09"), None)
        .await;
    assert_eq!(r["grid"]["code"], code);
    // Without conversion the GCJ-02 point is taken as WGS-84: hundreds of metres off.
    let (_, r) = app.get(&format!("/api/grids/lookup?lng={gl}&lat={ga}"), None).await;
    let off = ((r["lng"].as_f64().unwrap() - lng).powi(2) + (r["lat"].as_f64().unwrap() - lat).powi(2)).sqrt();
    assert!(off > 0.002, "GCJ-02 differs from WGS-84 by {off} degrees here");
}

#[tokio::test]
async fn a_point_in_no_grid_falls_to_its_territorial_unit() {
    let app = TestApp::spawn().await;
    // The demo gives grids to the first three communities only; the city's south-east corner is
    // inside some other community's laid-out area.
    let (s, r) = app.get("/api/grids/lookup?lng=104.5&lat=30.37", None).await;
    assert_eq!(s, 200);
    assert_eq!(r["fallback"], true);
    assert!(r["grid"].is_null());
    assert_eq!(r["responsible"], r["community"]["code"]);
    assert!(r["message"].as_str().unwrap().contains("属地兜底"));
    // Outside the city entirely: the city itself.
    let (_, r) = app.get("/api/grids/lookup?lng=116.4&lat=39.9", None).await;
    assert_eq!(
        (r["fallback"].as_bool(), r["responsible"].as_str()),
        (Some(true), Some("510100"))
    );
    let (s, e) = app.get("/api/grids/lookup?lng=200&lat=30", None).await;
    assert_eq!(s, 422);
    assert_eq!(e["code"], "invalid");
    let (s, e) = app.get("/api/grids/lookup?lng=104&lat=30&crs=mars", None).await;
    assert_eq!(s, 422);
    assert!(e["message"].as_str().unwrap().contains("wgs84"));
}

#[tokio::test]
async fn grids_are_public_but_household_counts_are_not() {
    let app = TestApp::spawn().await;
    let (_, _, code, community) = centre_of_first_grid();
    let (s, fc) = app
        .get(&format!("/api/grids?community={community}&page_size=2"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["features"].as_array().unwrap().len(), 2);
    assert!(fc["total"].as_i64().unwrap() >= 3);
    let f = &fc["features"][0];
    assert_eq!(f["properties"]["code"], code);
    assert!(f["properties"].get("households").is_none(), "no counts for the public");
    let worker = app.token("gridworker").await;
    let (_, fc) = app
        .get(&format!("/api/grids?community={community}&page_size=2"), Some(&worker))
        .await;
    assert!(
        fc["features"][0]["properties"]["households"].as_u64().is_some(),
        "the worker's own grid"
    );
    assert!(
        fc["features"][1]["properties"].get("households").is_none(),
        "another grid"
    );
    let (s, _) = app.get(&format!("/api/grids/{code}"), None).await;
    assert_eq!(s, 200);
    let (s, _) = app.get("/api/grids/510104999999001", None).await;
    assert_eq!(s, 404);
    let (s, e) = app.get("/api/grids?page_size=5000", None).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("invalid")));
}

#[tokio::test]
async fn login_me_logout() {
    let app = TestApp::spawn().await;
    let (s, e) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": "wrong-password"}),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (401, Some("bad_credentials")));
    let t = app.token("admin").await;
    let (s, me) = app.get("/api/me", Some(&t)).await;
    assert_eq!(s, 200);
    assert_eq!(me["grants"][0]["role"], "admin");
    let (s, _) = app.send("POST", "/api/auth/logout", Some(&t), json!({})).await;
    assert_eq!(s, 204);
    let (s, e) = app.get("/api/me", Some(&t)).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("token_invalid")));
}

/// Each role tries to read and change what it may not: 403; without credentials: 401.
#[tokio::test]
async fn authorisation_by_role_and_jurisdiction() {
    let app = TestApp::spawn().await;
    let (_, _, code, community) = centre_of_first_grid();
    let district = &community[..6];
    let other_district = if district == "510105" { "510104" } else { "510105" };
    let grid_file = json!({"type": "FeatureCollection", "features": []}).to_string();
    let org = |j: &str| json!({"name": "测试社会组织", "kind": "social_organisation", "jurisdiction": [j]});
    let person = |scope: &str| json!({"name": "李明", "grants": [{"role": "grid_worker", "scope": scope}]});

    // No credentials: 401 on everything that needs a login.
    for (m, p, b) in [
        ("GET", "/api/me", json!(null)),
        ("GET", "/api/people", json!(null)),
        ("POST", "/api/organisations", org(district)),
        ("POST", "/api/people", person(&format!("division:{community}"))),
        (
            "PUT",
            "/api/hierarchy",
            json!({"levels": ["city", "community", "grid"], "flat": true}),
        ),
    ] {
        let (s, e) = app.send(m, p, None, b).await;
        assert_eq!((s, e["code"].as_str()), (401, Some("unauthorized")), "{m} {p}");
    }
    let r = app
        .client
        .post(app.url("/api/grids/import"))
        .body(grid_file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    for user in [
        "resident",
        "gridworker",
        "department",
        "acceptor",
        "dispatcher",
        "analyst",
        "planner",
    ] {
        let t = app.token(user).await;
        let (s, _) = app.get("/api/people", Some(&t)).await;
        assert_eq!(s, 403, "{user} lists people");
        let (s, _) = app.send("POST", "/api/organisations", Some(&t), org(district)).await;
        assert_eq!(s, 403, "{user} registers an organisation");
        let (s, _) = app
            .send(
                "POST",
                "/api/people",
                Some(&t),
                person(&format!("division:{community}")),
            )
            .await;
        assert_eq!(s, 403, "{user} registers a person");
        let (s, _) = app
            .send(
                "PUT",
                "/api/hierarchy",
                Some(&t),
                json!({"levels": ["city", "community", "grid"], "flat": true}),
            )
            .await;
        assert_eq!(s, 403, "{user} changes the hierarchy");
        let r = app
            .client
            .post(app.url("/api/grids/import"))
            .bearer_auth(&t)
            .body(grid_file.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{user} imports grids");
    }
    // A resident sees public data only: grid shapes without counts, and themself.
    let t = app.token("resident").await;
    let (_, g) = app.get(&format!("/api/grids/{code}"), Some(&t)).await;
    assert!(g["properties"].get("households").is_none());
    let (s, me) = app.get("/api/me", Some(&t)).await;
    assert_eq!(s, 200);
    let (s, _) = app.get(&format!("/api/people/{}", me["person_id"]), Some(&t)).await;
    assert_eq!(s, 200, "one's own record");
    let (s, _) = app
        .get(
            &format!("/api/people/{}", me["person_id"].as_i64().unwrap() - 1),
            Some(&t),
        )
        .await;
    assert_eq!(s, 403, "someone else's record");

    // A district administrator is bounded by the district.
    let t = app.token("district.admin").await;
    let (s, _) = app.send("POST", "/api/organisations", Some(&t), org(district)).await;
    assert_eq!(s, 201);
    let (s, e) = app
        .send("POST", "/api/organisations", Some(&t), org(other_district))
        .await;
    assert_eq!((s, e["code"].as_str()), (403, Some("forbidden")));
    let (s, _) = app
        .send(
            "POST",
            "/api/people",
            Some(&t),
            person(&format!("division:{other_district}")),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .send(
            "PUT",
            "/api/hierarchy",
            Some(&t),
            json!({"levels": ["city", "community", "grid"], "flat": true}),
        )
        .await;
    assert_eq!(s, 403, "only a city administrator changes the hierarchy");

    // The grid head sees people of their community (with contacts), not of others.
    let t = app.token("gridhead").await;
    let (s, people) = app.get("/api/people?limit=1000", Some(&t)).await;
    assert_eq!(s, 200);
    let people = people.as_array().unwrap();
    assert!(!people.is_empty());
    assert!(people.iter().all(|p| p["grants"].as_array().unwrap().iter().all(|g| {
        let scope = serde_json::to_string(&g["scope"]).unwrap();
        scope.contains(&community) || p["grants"].as_array().unwrap().is_empty()
    })));

    // The city administrator may do all of it.
    let t = app.token("admin").await;
    let (s, created) = app
        .send("POST", "/api/people", Some(&t), json!({"name": "李明", "phone": "19912345678", "grants": [{"role": "grid_worker", "scope": format!("grids:{code}")}], "username": "li.ming", "password": "a-long-password"}))
        .await;
    assert_eq!(s, 201, "{created}");
    let (s, e) = app
        .send(
            "POST",
            "/api/people",
            Some(&t),
            json!({"name": "李明", "grants": [], "username": "li.ming", "password": "a-long-password"}),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("conflict")));
    let (s, e) = app
        .send(
            "POST",
            "/api/people",
            Some(&t),
            json!({"name": "李明", "phone": "123", "grants": []}),
        )
        .await;
    assert_eq!(s, 422);
    assert!(e["message"].as_str().unwrap().contains("11 digits"));
    let (s, h) = app
        .send(
            "PUT",
            "/api/hierarchy",
            Some(&t),
            json!({"levels": ["city", "community", "grid"], "flat": true}),
        )
        .await;
    assert_eq!((s, h["flat"].as_bool()), (200, Some(true)));
    let (s, e) = app
        .send(
            "PUT",
            "/api/hierarchy",
            Some(&t),
            json!({"levels": ["district", "grid"], "flat": true}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, login) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": "li.ming", "password": "a-long-password"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, g) = app.get(&format!("/api/grids/{code}"), login["token"].as_str()).await;
    assert!(
        g["properties"]["households"].as_u64().is_some(),
        "the new grid worker sees their grid's counts"
    );
}

#[tokio::test]
async fn a_bad_geojson_import_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, _, _, community) = centre_of_first_grid();
    let admin = app.token("admin").await;
    let (_, before) = app.get("/api/grids?page_size=1", None).await;
    let bad = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": format!("{community}050"), "name": "好网格"},
         "geometry": {"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.001, 30.0], [104.001, 30.001], [104.0, 30.001], [104.0, 30.0]]]}},
        {"type": "Feature", "properties": {"code": format!("{community}051"), "name": "未闭合"},
         "geometry": {"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.001, 30.0], [104.001, 30.001], [104.0, 30.001]]]}},
        {"type": "Feature", "properties": {"code": format!("{community}052"), "name": "自相交"},
         "geometry": {"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.001, 30.001], [104.001, 30.0], [104.0, 30.001], [104.0, 30.0]]]}},
        {"type": "Feature", "properties": {"code": "12345", "name": "坏代码"},
         "geometry": {"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.001, 30.0], [104.001, 30.001], [104.0, 30.0]]]}}
    ]});
    let r = app
        .client
        .post(app.url("/api/grids/import"))
        .bearer_auth(&admin)
        .body(bad.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid");
    let indexes: Vec<u64> = e["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["index"].as_u64().unwrap())
        .collect();
    assert!(
        indexes.contains(&1) && indexes.contains(&2) && indexes.contains(&3),
        "{e}"
    );
    let text = e.to_string();
    assert!(text.contains("not closed"), "{text}");
    assert!(text.contains("self-intersect") || text.contains("intersect"), "{text}");
    // The valid feature 0 lies outside its community: refused at the second stage, with index 0.
    let only_first = json!({"type": "FeatureCollection", "features": [bad["features"][0].clone()]});
    let r = app
        .client
        .post(app.url("/api/grids/import"))
        .bearer_auth(&admin)
        .body(only_first.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["details"][0]["index"], 0);
    assert!(e["details"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("outside its community"));
    let (_, after) = app.get("/api/grids?page_size=1", None).await;
    assert_eq!(before["total"], after["total"], "nothing stored");
    let r = app
        .client
        .post(app.url("/api/grids/import"))
        .bearer_auth(&admin)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn importing_a_grid_makes_it_locatable() {
    let app = TestApp::spawn().await;
    let demo = small_demo();
    // A community without grids in the small demo.
    let with: std::collections::HashSet<_> = demo.grids.iter().map(|g| g.community.clone()).collect();
    let (community, area) = demo
        .boundaries
        .iter()
        .find(|(c, _)| c.as_str().len() == 12 && !with.contains(c))
        .unwrap();
    let r = geo::BoundingRect::bounding_rect(area).unwrap();
    let (x, y, w, h) = (r.min().x, r.min().y, r.width(), r.height());
    let fc = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"code": format!("{community}001"), "name": "新网格", "households": 420, "population": 1100},
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + w / 2.0, y], [x + w / 2.0, y + h / 2.0], [x, y + h / 2.0], [x, y]]]}}]});
    let admin = app.token("admin").await;
    let r = app
        .client
        .post(app.url("/api/grids/import"))
        .bearer_auth(&admin)
        .body(fc.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, found) = app
        .get(
            &format!("/api/grids/lookup?lng={}&lat={}", x + w / 4.0, y + h / 4.0),
            None,
        )
        .await;
    assert_eq!(found["grid"]["code"], format!("{community}001"));
}

#[tokio::test]
async fn pages_speak_chinese_by_default_and_english_on_request() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .unwrap();
    let home = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("成都市") && home.contains("登录"));
    let en = client
        .get(app.url("/?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Log in"));
    let still_en = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(still_en.contains("Log in"), "the language is remembered");
    let bad = client
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(
        bad.text().await.unwrap().contains("value=\"admin\""),
        "what was typed is kept"
    );
    let ok = client
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", gongzhi_demo::DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    let page = ok.text().await.unwrap();
    assert!(page.contains("Log out"), "logged in: {page}");
    let (_, _, code, community) = centre_of_first_grid();
    let c = client
        .get(app.url(&format!("/divisions/{community}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(c.contains("<svg") && c.contains(&code));
    let g = client
        .get(app.url(&format!("/grids/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(g.contains("Households"), "an administrator sees the counts");
}

#[tokio::test]
async fn premises_are_seen_by_the_grid_team_and_imported_by_administrators() {
    let app = TestApp::spawn().await;
    let (_, _, grid, community) = centre_of_first_grid();
    let worker = app.token("gridworker").await;
    let resident = app.token("resident").await;
    let admin = app.token("district.admin").await;

    let (s, list) = app.get(&format!("/api/premises?grid={grid}"), Some(&worker)).await;
    assert_eq!(s, 200, "{list}");
    let first = list[0]["code"].as_str().unwrap().to_owned();
    assert_eq!(list.as_array().unwrap().len(), 6);
    let (s, detail) = app.get(&format!("/api/premises/{first}"), Some(&worker)).await;
    assert_eq!(s, 200, "{detail}");
    assert!(detail["units"].as_array().unwrap().len() >= 8, "{detail}");
    assert_eq!(detail["units"][0]["use"], "commercial");
    let (s, _) = app.get(&format!("/api/premises?grid={grid}"), Some(&resident)).await;
    assert_eq!(s, 403, "residents do not see the premises register");
    let (s, _) = app.get(&format!("/api/premises/{first}"), Some(&resident)).await;
    assert_eq!(s, 404, "a building the caller may not see is not found");

    let import = |token: String, body: String| {
        let req = app
            .client
            .post(app.url("/api/premises/import"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let header = "building,building_name,community,grid,unit,floor,area_m2,use\n";
    let bad =
        format!("{header}N1,新楼,{community},{grid},N1-101,1,85.5,住宅\nN1,新楼,{community},{grid},N1-102,x,0,\n");
    let (s, e) = import(admin.clone(), bad).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["details"][0]["line"], 3, "{e}");
    assert_eq!(e["details"][0]["column"], "floor", "{e}");
    assert_eq!(e["details"][1]["column"], "area_m2", "{e}");
    let (s, _) = app.get("/api/premises/N1", Some(&admin)).await;
    assert_eq!(s, 404, "nothing of a refused file is stored");
    let good =
        format!("{header}N1,新楼,{community},{grid},N1-101,1,85.5,住宅\nN1,新楼,{community},{grid},N1-102,2,60,\n");
    let (s, _) = import(worker.clone(), good.clone()).await;
    assert_eq!(s, 403, "grid workers do not import premises");
    let (s, n) = import(admin.clone(), good).await;
    assert_eq!(
        (s, n["buildings"].as_i64(), n["units"].as_i64()),
        (200, Some(1), Some(2)),
        "{n}"
    );
    let (_, detail) = app.get("/api/premises/N1", Some(&worker)).await;
    assert_eq!(detail["total_area_m2"], "145.50", "{detail}");
}

/// The old paths of the generalist grid and of renewal needs answer 308 to their place in the one
/// path scheme, with the query kept; a client that follows redirects gets the same answer.
#[tokio::test]
async fn old_api_paths_redirect_permanently_to_the_one_scheme() {
    let app = TestApp::spawn().await;
    let (_, _, grid, community) = centre_of_first_grid();
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, old, new) in [
        (
            reqwest::Method::GET,
            format!("/api/grid/{grid}/lists/needs?page=1"),
            format!("/api/grids/{grid}/lists/needs?page=1"),
        ),
        (
            reqwest::Method::POST,
            "/api/grid/projects".to_owned(),
            "/api/grid-projects".to_owned(),
        ),
        (
            reqwest::Method::POST,
            format!("/api/renewal/{community}/needs"),
            format!("/api/renewal/communities/{community}/needs"),
        ),
    ] {
        let r = no_follow.request(method, app.url(&old)).send().await.unwrap();
        assert_eq!(r.status(), 308, "{old}");
        assert_eq!(r.headers()["location"].to_str().unwrap(), new, "{old}");
    }
    let worker = app.token("gridworker").await;
    let new = app
        .client
        .get(app.url(&format!("/api/grids/{grid}/lists/needs")))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap();
    let followed = app
        .client
        .get(app.url(&format!("/api/grid/{grid}/lists/needs")))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), new.status());
    assert_eq!(followed.text().await.unwrap(), new.text().await.unwrap());
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_private_pages_are_not_cached() {
    let app = TestApp::spawn().await;
    let public = app.client.get(app.url("/login")).send().await.unwrap();
    let h = public.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "no inline script may run: {csp}");
    assert!(csp.contains("style-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    // The pages have nothing inline that the policy would block.
    let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    for inline in [
        "<script>",
        "<style",
        " style=\"",
        " onclick=",
        " onload=",
        " onchange=",
        " onsubmit=",
    ] {
        assert!(!page.contains(inline), "{inline} on /");
    }
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert!(h.get("cache-control").is_none(), "a public page may be cached");

    let worker = app.browser("dispatcher").await;
    let private = worker.get(app.url("/work")).send().await.unwrap();
    assert_eq!(private.status(), 200);
    assert_eq!(private.headers()["cache-control"], "private, no-store");
    assert_eq!(private.headers()["x-frame-options"], "DENY");
    let token = app.token("dispatcher").await;
    let api = app
        .client
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["cache-control"], "private, no-store");
}

#[tokio::test]
async fn login_never_sends_anyone_to_another_site_and_its_cookie_is_secure_behind_tls() {
    let app = TestApp::spawn().await;
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (next, to) in [
        ("/cases?state=registered", "/cases?state=registered"),
        ("/\\evil.example/", "/work"),
        ("//evil.example/", "/work"),
        ("/\t/evil.example/", "/work"),
        ("https://evil.example/", "/work"),
    ] {
        let r = no_follow
            .post(app.url("/login"))
            .form(&[
                ("username", "dispatcher"),
                ("password", gongzhi_demo::DEMO_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{next:?}: {}", r.status());
        assert_eq!(r.headers()["location"], to, "{next:?}");
    }
    // Behind a TLS proxy the session cookie is Secure; on plain HTTP (a laptop demo) it cannot be.
    for (proto, secure) in [(None, false), (Some("https"), true), (Some("http"), false)] {
        let mut req = no_follow
            .post(app.url("/login"))
            .form(&[("username", "dispatcher"), ("password", gongzhi_demo::DEMO_PASSWORD)]);
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        let r = req.send().await.unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert_eq!(cookie.contains("; Secure"), secure, "{proto:?}: {cookie}");
        assert_eq!(
            r.headers().contains_key("strict-transport-security"),
            secure,
            "{proto:?}"
        );
    }
}

/// Password guessing: five wrong passwords lock the account (429 with Retry-After, even for the
/// right password); an unknown user name answers exactly as a wrong password; an administrator
/// sees the lockout and lifts it; the page login says so in the page's language.
#[tokio::test]
async fn wrong_passwords_lock_the_account_until_an_administrator_lifts_it() {
    let app = TestApp::spawn().await;
    let login = |username: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    let unknown = login("nobody-here", "whatever").await.unwrap();
    assert_eq!(unknown.status(), 401);
    let unknown: serde_json::Value = unknown.json().await.unwrap();
    for n in 0..5 {
        let r = login("resident", "wrong-password").await.unwrap();
        assert_eq!(r.status(), 401, "wrong password {n}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body, unknown, "an unknown user and a wrong password answer alike");
    }
    let r = login("resident", gongzhi_demo::DEMO_PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429, "locked, even with the right password");
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    // Another account is not locked.
    let admin = app.token("admin").await;
    // The page login shows the lockout in Chinese.
    let page = app
        .client
        .post(app.url("/login"))
        .form(&[("username", "resident"), ("password", gongzhi_demo::DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("登录已暂时锁定"));

    let resident_token_holder = app.token("gridworker").await;
    let (s, _) = app.get("/api/auth/lockouts", Some(&resident_token_holder)).await;
    assert_eq!(s, 403, "a grid worker may not see lockouts");
    let (s, list) = app.get("/api/auth/lockouts", Some(&admin)).await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["key"], "user:resident", "{list}");
    let (s, _) = app
        .send("DELETE", "/api/auth/lockouts/resident", Some(&admin), json!(null))
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send("DELETE", "/api/auth/lockouts/resident", Some(&admin), json!(null))
        .await;
    assert_eq!(s, 404, "no lockout left to lift");
    let r = login("resident", gongzhi_demo::DEMO_PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200, "the lifted account logs in");
}

/// Cross-site request forgery: a state change sent with the session cookie from another origin
/// (even another origin of the same site, which SameSite=Lax lets through) is refused; the same
/// change from our own pages, or with a bearer token, goes through.
#[tokio::test]
async fn cookie_writes_from_another_origin_are_refused() {
    let app = TestApp::spawn().await;
    let browser = app.browser("resident").await;
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    let body = json!({"condition": "C0105-02", "description": "井盖破损 CSRF 测试", "lng": (r.min().x + r.max().x) / 2.0, "lat": (r.min().y + r.max().y) / 2.0});
    let own = format!("http://{}", app.addr);
    for (origin, site, status) in [
        (Some("https://other.example.gov.cn"), None, 403),
        (None, Some("same-site"), 403),
        (None, Some("cross-site"), 403),
        (Some("null"), None, 403),
        (Some(own.as_str()), None, 201),
        (None, Some("same-origin"), 201),
        (None, None, 201),
    ] {
        let mut req = browser.post(app.url("/api/cases")).json(&body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "origin {origin:?}, sec-fetch-site {site:?}");
        if status == 403 {
            let e: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(e["code"], "cross_origin");
        }
    }
    // A page form from another origin is refused the same way.
    let resp = browser
        .post(app.url("/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // A bearer token is no ambient credential: another origin's page may use one it was given.
    let token = app.token("resident").await;
    let resp = app
        .client
        .post(app.url("/api/cases"))
        .bearer_auth(&token)
        .header("origin", "https://other.example.gov.cn")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

/// Every read of a reporter's contact details by someone else, and of a grid's household
/// register, is logged (who, when, which record, where); the data-protection officer reads the
/// log on the API, as CSV and on a page, and nobody else may.
#[tokio::test]
async fn reads_of_personal_data_are_logged_for_the_data_protection_officer() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let acceptor = app.token("acceptor").await;
    let admin = app.token("admin").await;
    let g = &small_demo().grids[0];
    let p = geo::InteriorPoint::interior_point(&g.geometry).unwrap();
    let (s, v) = app
        .send(
            "POST",
            "/api/cases",
            Some(&resident),
            json!({"condition": "C0105-02", "description": "井盖破损 联系我", "lng": p.x(), "lat": p.y(), "contact_name": "王女士", "contact_phone": "13800138000"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["case"]["case"]["id"].as_i64().unwrap();

    // The reporter sees their own contact: not logged. Staff see it: logged, by route.
    let (s, mine) = app.get(&format!("/api/cases/{id}"), Some(&resident)).await;
    assert_eq!(s, 200, "{mine}");
    let (s, seen) = app.get(&format!("/api/cases/{id}"), Some(&acceptor)).await;
    assert_eq!(s, 200);
    assert_eq!(seen["contact"]["phone"], "13800138000", "{seen}");
    let staff = app.browser("acceptor").await;
    let page = staff.get(app.url(&format!("/cases/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let worker = app.token("gridworker").await;
    let (s, hh) = app
        .get(&format!("/api/grids/{}/lists/households", g.code), Some(&worker))
        .await;
    assert_eq!(s, 200, "{hh}");

    // A data-protection officer of the city.
    let (s, v) = app
        .send(
            "POST",
            "/api/people",
            Some(&admin),
            json!({"name": "个保专员", "grants": [{"role": "data_protection_officer", "scope": "division:510100"}], "username": "dpo", "password": "privacy-password-1"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (_, login) = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            json!({"username": "dpo", "password": "privacy-password-1"}),
        )
        .await;
    let dpo = login["token"].as_str().unwrap().to_owned();
    let (s, log) = app
        .get(&format!("/api/privacy/reads?subject=case:{id}"), Some(&dpo))
        .await;
    assert_eq!(s, 200, "{log}");
    assert_eq!(log["total"], 2, "the reporter's own read is not logged: {log}");
    let purposes: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["purpose"].as_str().unwrap())
        .collect();
    assert!(
        purposes.contains(&"api.case") && purposes.contains(&"page.case"),
        "{log}"
    );
    assert!(log["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["kind"] == "contact" && r["reader_name"].as_str().is_some_and(|n| !n.is_empty())));
    let (_, all) = app.get("/api/privacy/reads", Some(&dpo)).await;
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["kind"] == "households" && r["subject"] == format!("grid:{}", g.code)));

    let csv = app
        .client
        .get(app.url(&format!("/api/privacy/reads.csv?subject=case:{id}")))
        .bearer_auth(&dpo)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("id,at,reader,reader_name,kind,subject,purpose"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3, "{text}");

    // The page, in Chinese labels.
    let page = app
        .client
        .get(app.url("/privacy/reads"))
        .header("cookie", format!("gongzhi_session={dpo}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("报告人联系方式") && page.contains("页面：案件"), "{page}");

    // Nobody else reads the log.
    let (s, _) = app.get("/api/privacy/reads", Some(&acceptor)).await;
    assert_eq!(s, 403);
    let (s, _) = app.get("/api/privacy/reads", Some(&worker)).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn grids_imported_twice_are_stored_once() {
    use gongzhi_store::events::EventLog;
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let demo = small_demo();
    let (g0, g1) = (&demo.grids[0], &demo.grids[1]);
    let import = |file: serde_json::Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let r = app
                .client
                .post(app.url("/api/grids/import"))
                .bearer_auth(&admin)
                .body(file.to_string())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let events = |code: String| {
        let store = app.db.store.clone();
        async move { store.events(gongzhi_demo::CITY, &format!("grid:{code}")).await.unwrap() }
    };
    let count = || async {
        app.get("/api/grids?page_size=1", None).await.1["total"]
            .as_i64()
            .unwrap()
    };
    let grids_before = count().await;
    let before = events(g0.code.to_string()).await.len();

    // The grids the demo stored, imported again: nothing written, no event.
    let mut renamed = g0.clone();
    renamed.name = format!("{}（改）", g0.name);
    let file = json!({"type": "FeatureCollection", "features": [g0.to_feature(true), g1.to_feature(true)]});
    for _ in 0..2 {
        let (s, r) = import(file.clone()).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["imported"], 2, "{r}");
        assert_eq!(
            (r["added"].clone(), r["updated"].clone()),
            (json!([]), json!([])),
            "{r}"
        );
        assert_eq!(r["unchanged"], json!([g0.code.to_string(), g1.code.to_string()]));
    }
    assert_eq!(
        events(g0.code.to_string()).await.len(),
        before,
        "no event for an unchanged grid"
    );

    // A changed name: one update, one event; the same file again: unchanged.
    let file = json!({"type": "FeatureCollection", "features": [renamed.to_feature(true), g1.to_feature(true)]});
    let (s, r) = import(file.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["updated"], json!([g0.code.to_string()]), "{r}");
    let (s, r) = import(file).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["updated"], json!([]), "{r}");
    let ev = events(g0.code.to_string()).await;
    assert_eq!(ev.len(), before + 1, "one event for the one change");
    assert_eq!(count().await, grids_before, "no grid doubled");
    let (_, g) = app.get(&format!("/api/grids/{}", g0.code), None).await;
    assert_eq!(g["properties"]["name"], renamed.name.as_str());

    // One code twice in a file: refused naming both features; nothing stored.
    let dup = json!({"type": "FeatureCollection", "features": [g0.to_feature(true), g1.to_feature(true), g0.to_feature(true)]});
    let (s, e) = import(dup).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["details"][0]["index"], 2, "{e}");
    assert!(e.to_string().contains("feature 0 has the same code"), "{e}");
    assert_eq!(events(g0.code.to_string()).await.len(), before + 1);
}
