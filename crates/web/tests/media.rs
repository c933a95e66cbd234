//! The one media store over HTTP (issue 17, item 3): every upload route — API, pages and
//! Open311 — decides a file's type from its bytes (an SVG with a script, or HTML sent as
//! image/png, is refused with 415), one size table sets each route's limit (413 in the JSON
//! error shape), photos lose their EXIF location, files are served at /media/{id} with nosniff
//! and old file URLs redirect there.

use gongzhi_demo::CITY;
use gongzhi_store::prelude::*;
use gongzhi_testkit::{small_demo, TestApp};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";
const SVG: &[u8] = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>"#;
const HTML: &[u8] = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// The two hostile files: an SVG with a script (as image/svg+xml) and HTML sent as image/png.
fn hostile() -> [(&'static str, &'static [u8], &'static str); 2] {
    [("svg", SVG, "image/svg+xml"), ("html as png", HTML, "image/png")]
}

/// A JPEG whose EXIF has a GPS IFD (latitude N 30° 39′): SOI, APP0, APP1 Exif, a scan, EOI.
fn jpeg_with_gps() -> Vec<u8> {
    let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0: one entry, GPSInfo (0x8825) → the GPS IFD at 26.
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    // GPS IFD: GPSLatitudeRef 'N', GPSLatitude 3 rationals at 56.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    for (n, d) in [(30u32, 1u32), (39, 1), (0, 1)] {
        tiff.extend_from_slice(&n.to_be_bytes());
        tiff.extend_from_slice(&d.to_be_bytes());
    }
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let body = [b"Exif\0\0".as_slice(), &tiff].concat();
    v.extend_from_slice(&[0xFF, 0xE1]);
    v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(&body);
    v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0, 0x12, 0x34, 0xFF, 0xD9]);
    v
}

fn has_gps(bytes: &[u8]) -> bool {
    bytes.windows(6).any(|w| w == b"Exif\0\0") || bytes.windows(2).any(|w| w == [0x88, 0x25])
}

fn point() -> (f64, f64) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0)
}

fn community() -> String {
    small_demo().grids[0].community.to_string()
}

/// POST a raw file with a bearer token: status and JSON body.
async fn post_file(app: &TestApp, path: &str, token: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn part(bytes: &[u8], ct: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name("upload").mime_str(ct).unwrap()
}

/// Everything the upload routes need: a case, a need, the demo initiative and one of its units,
/// the demo delivery and a milestone, a proposal.
struct Fixture {
    resident: String,
    planner: String,
    committee: String,
    case: i64,
    need: i64,
    initiative: i64,
    unit: String,
    delivery: i64,
    milestone: i64,
    delivery_community: String,
    proposal: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let resident = app.token("resident").await;
    let planner = app.token("planner").await;
    let committee = app.token("committee").await;
    let (lng, lat) = point();
    let (s, v) = app
        .send(
            "POST",
            "/api/cases",
            Some(&resident),
            json!({"condition": "C0105-02", "description": "井盖破损", "lng": lng, "lat": lat}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let case = v["case"]["case"]["id"].as_i64().unwrap();
    let (s, needs) = app
        .get(
            &format!("/api/renewal/communities/{}/needs", community()),
            Some(&planner),
        )
        .await;
    assert_eq!(s, 200, "{needs}");
    let need = needs[0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a demo need: {needs}"));
    let initiative = app.db.store.initiatives(CITY).await.unwrap()[0].id;
    let (i, _) = app.db.store.initiative(CITY, initiative).await.unwrap().unwrap();
    let unit = i.units.keys().next().unwrap().clone();
    let (_, list) = app.get("/api/renewal/deliveries", None).await;
    let d = &list[0];
    let (delivery, delivery_community) = (d["id"].as_i64().unwrap(), d["community"].as_str().unwrap().to_owned());
    let (_, v) = app.get(&format!("/api/renewal/deliveries/{delivery}"), None).await;
    let milestone = v["milestones"][0]["id"].as_i64().unwrap();
    let g = &small_demo().grids[0];
    let c = geo::Centroid::centroid(&g.geometry).unwrap();
    let (s, v) = app
        .send(
            "POST",
            "/api/renewal/proposals",
            Some(&planner),
            json!({"community": community(), "title": "小广场", "description": "一行",
                   "site": {"type": "Point", "coordinates": [c.x(), c.y()]}, "items": [{"item": "施工", "cents": 100000}],
                   "offers": []}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    Fixture {
        resident,
        planner,
        committee,
        case,
        need,
        initiative,
        unit,
        delivery,
        milestone,
        delivery_community,
        proposal: v["id"].as_i64().unwrap(),
    }
}

#[tokio::test]
async fn svg_and_html_are_refused_with_415_on_every_upload_route() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let api = [
        (format!("/api/cases/{}/photos", f.case), &f.resident),
        (format!("/api/renewal/needs/{}/photos", f.need), &f.planner),
        (
            format!("/api/initiatives/{}/units/{}/photos", f.initiative, f.unit),
            &f.committee,
        ),
        (
            format!(
                "/api/renewal/deliveries/{}/milestones/{}/photos",
                f.delivery, f.milestone
            ),
            &f.planner,
        ),
        (
            format!("/api/renewal/proposals/{}/attachments?name=plan.svg", f.proposal),
            &f.planner,
        ),
    ];
    for (path, token) in &api {
        for (what, bytes, ct) in hostile() {
            let (s, e) = post_file(&app, path, token, ct, bytes.to_vec()).await;
            assert_eq!(s, 415, "{what} on {path}: {e}");
            assert_eq!(e["code"], "unsupported_media", "{e}");
            let m = e["message"].as_str().unwrap();
            assert!(m.contains("image/jpeg") && m.contains("is not accepted"), "{m}");
            assert!(e["details"]["accepted"].is_array(), "{e}");
        }
    }
    let (_, e) = post_file(&app, &api[0].0, api[0].1, "image/svg+xml", SVG.to_vec()).await;
    assert!(e["message"].as_str().unwrap().contains("SVG"), "what was detected: {e}");
    let (_, e) = post_file(&app, &api[0].0, api[0].1, "image/png", HTML.to_vec()).await;
    assert!(e["details"]["detected"].as_str().unwrap().contains("text/html"), "{e}");

    // The pages: the page's error, with 415.
    let resident = app.browser("resident").await;
    let planner = app.browser("planner").await;
    let committee = app.browser("committee").await;
    for (what, bytes, ct) in hostile() {
        let pages = [
            (
                &resident,
                format!("/cases/{}/photo", f.case),
                Form::new().part("photo", part(bytes, ct)),
            ),
            (
                &committee,
                format!("/initiatives/{}/photo", f.initiative),
                Form::new().text("unit", f.unit.clone()).part("photo", part(bytes, ct)),
            ),
            (
                &planner,
                format!("/renewal/{}/needs", community()),
                Form::new()
                    .text("category", "charging")
                    .text("text", "充电桩")
                    .text("lng", point().0.to_string())
                    .text("lat", point().1.to_string())
                    .part("photo", part(bytes, ct)),
            ),
            (
                &planner,
                format!(
                    "/renewal/{}/deliveries/{}/milestones/{}/photos",
                    f.delivery_community, f.delivery, f.milestone
                ),
                Form::new().part("photo", part(bytes, ct)),
            ),
        ];
        for (client, path, form) in pages {
            let r = client.post(app.url(&path)).multipart(form).send().await.unwrap();
            let status = r.status().as_u16();
            let html = r.text().await.unwrap();
            assert_eq!(status, 415, "{what} on {path}: {html}");
            assert!(
                html.contains("is not accepted here"),
                "{what} on {path}: the page's error: {html}"
            );
            assert!(html.contains("<html"), "a page, not JSON");
        }
    }

    // Open311.
    let key = gongzhi_app::open311::create_key(&gongzhi_app::AppState::lazy(app.db.store.clone(), CITY), CITY, "test")
        .await
        .unwrap();
    let (lng, lat) = point();
    for (what, bytes, ct) in hostile() {
        let form = Form::new()
            .text("api_key", key.clone())
            .text("service_code", "C0105-02")
            .text("lat", lat.to_string())
            .text("long", lng.to_string())
            .text("description", "井盖")
            .text("attribute[hazard]", "low")
            .part("media", part(bytes, ct));
        let r = app
            .client
            .post(app.url("/open311/v2/requests.json"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 415, "{what} on Open311");
        let v: Value = r.json().await.unwrap();
        assert!(v[0]["description"].as_str().unwrap().contains("not accepted"), "{v}");
    }

    // Nothing was stored.
    assert!(app.db.store.media_of(CITY, "").await.unwrap().is_empty());
}

#[tokio::test]
async fn one_size_table_a_4_mb_photo_is_taken_and_an_over_limit_upload_is_413_json() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let path = format!("/api/cases/{}/photos", f.case);
    let mut big = PNG.to_vec();
    big.resize(4 * 1024 * 1024, 0);
    let (s, v) = post_file(&app, &path, &f.resident, "image/png", big.clone()).await;
    assert_eq!(s, 201, "a 4 MB photo: {v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["url"], format!("/media/{id}"));
    let got = app
        .client
        .get(app.url(&format!("/media/{id}")))
        .bearer_auth(&f.resident)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().len(), big.len());

    // Over the photo limit (5 MiB) but within the body limit, and over the body limit: both 413
    // in the JSON error shape.
    for size in [5 * 1024 * 1024 + 1, 8 * 1024 * 1024] {
        big.resize(size, 0);
        let (s, e) = post_file(&app, &path, &f.resident, "image/png", big.clone()).await;
        assert_eq!(s, 413, "{size} bytes: {e}");
        assert_eq!(e["code"], "too_large", "{e}");
        assert!(e["message"].as_str().unwrap().contains("5 MiB"), "{e}");
        assert!(e["details"].is_object(), "{e}");
    }
    // The same on the other API routes: a need's photo, a proposal's file (documents: 10 MiB).
    big.resize(12 * 1024 * 1024, 0);
    for (path, token) in [
        (format!("/api/renewal/needs/{}/photos", f.need), &f.planner),
        (
            format!("/api/renewal/proposals/{}/attachments?name=a.png", f.proposal),
            &f.planner,
        ),
    ] {
        let (s, e) = post_file(&app, &path, token, "image/png", big.clone()).await;
        assert_eq!((s, e["code"].as_str()), (413, Some("too_large")), "{path}: {e}");
    }
    // A page route over its limit shows a page with 413.
    let resident = app.browser("resident").await;
    let r = resident
        .post(app.url(&format!("/cases/{}/photo", f.case)))
        .multipart(Form::new().part("photo", part(&big, "image/png")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains("too large"));
}

#[tokio::test]
async fn public_photos_have_no_gps_and_files_are_served_safely() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let jpeg = jpeg_with_gps();
    assert!(has_gps(&jpeg));
    // A milestone photo (public) and an Open311 photo (public).
    let (s, v) = post_file(
        &app,
        &format!(
            "/api/renewal/deliveries/{}/milestones/{}/photos",
            f.delivery, f.milestone
        ),
        &f.planner,
        "image/jpeg",
        jpeg.clone(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let url = v["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/media/"), "{url}");
    let r = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), 200, "public, no login");
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["content-disposition"], "inline");
    let got = r.bytes().await.unwrap();
    assert!(!has_gps(&got), "no EXIF GPS in the public photo");
    assert!(got.ends_with(&[0x12, 0x34, 0xFF, 0xD9]), "the picture is kept");

    let key = gongzhi_app::open311::create_key(&gongzhi_app::AppState::lazy(app.db.store.clone(), CITY), CITY, "test")
        .await
        .unwrap();
    let (lng, lat) = point();
    let form = Form::new()
        .text("api_key", key)
        .text("service_code", "C0105-02")
        .text("lat", lat.to_string())
        .text("long", lng.to_string())
        .text("description", "井盖")
        .text("attribute[hazard]", "low")
        .part("media", part(&jpeg, "image/jpeg"));
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    let id = v[0]["service_request_id"].as_i64().unwrap();
    let (_, one) = app.get(&format!("/open311/v2/requests/{id}.json"), None).await;
    let media = one[0]["media_url"].as_str().unwrap();
    let r = app.client.get(media).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.url().path().split('/').nth(1),
        Some("media"),
        "redirected to /media/{{id}}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        !has_gps(&r.bytes().await.unwrap()),
        "no EXIF GPS through Open311 either"
    );

    // A document: its sniffed type, downloaded under a safe name.
    let (s, v) = post_file(
        &app,
        &format!("/api/renewal/proposals/{}/attachments?name=\"><script>.pdf", f.proposal),
        &f.planner,
        "application/octet-stream",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let r = app
        .client
        .get(app.url(&format!("/api/renewal/proposals/{}/attachments/0", f.proposal)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"media-") && disposition.ends_with(".pdf\""),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // A private photo is 404 to a visitor.
    let (_, v) = post_file(
        &app,
        &format!("/api/cases/{}/photos", f.case),
        &f.resident,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    let pid = v["id"].as_i64().unwrap();
    let r = app.client.get(app.url(&format!("/media/{pid}"))).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn old_photo_urls_redirect_to_the_one_url() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (_, v) = post_file(
        &app,
        &format!("/api/cases/{}/photos", f.case),
        &f.resident,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    let pid = v["id"].as_i64().unwrap();
    let (_, v) = post_file(
        &app,
        &format!("/api/renewal/needs/{}/photos", f.need),
        &f.planner,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    let need_photo = v["id"].as_i64().unwrap();
    let (_, v) = post_file(
        &app,
        &format!("/api/initiatives/{}/units/{}/photos", f.initiative, f.unit),
        &f.committee,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    let survey = v["id"].as_i64().unwrap();
    let (_, v) = post_file(
        &app,
        &format!(
            "/api/renewal/deliveries/{}/milestones/{}/photos",
            f.delivery, f.milestone
        ),
        &f.planner,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    let (name, milestone_media) = (v["photo"].as_str().unwrap().to_owned(), v["media"].as_i64().unwrap());
    for (old, token, id) in [
        (format!("/api/cases/{}/photos/{pid}", f.case), &f.resident, pid),
        (
            format!("/api/renewal/needs/{}/photos/{need_photo}", f.need),
            &f.planner,
            need_photo,
        ),
        (
            format!("/api/initiatives/{}/photos/{survey}", f.initiative),
            &f.committee,
            survey,
        ),
        (format!("/api/renewal/photos/{name}"), &f.planner, milestone_media),
    ] {
        let r = no_redirect.get(app.url(&old)).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 308, "{old}");
        assert_eq!(r.headers()["location"], format!("/media/{id}"), "{old}");
        let r = app.client.get(app.url(&old)).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200, "{old} → /media/{id}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().as_ref(), PNG, "{old}: the same bytes");
    }
    // The page's old need-photo URL too (cookie session).
    let planner = app.browser("planner").await;
    let r = planner
        .get(app.url(&format!("/renewal/needs/{}/photos/{need_photo}", f.need)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), format!("/media/{need_photo}"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
}
