//! Pages name enum values in the page's language, never by their stored words: a case's page
//! with its timeline, the work lists, the initiatives, the council and the proposals, fetched over
//! HTTP in English (`?lang=en`) and in the default Chinese.

use gongzhi_testkit::{small_demo, TestApp};
use serde_json::{json, Value};

fn point_in_first_grid() -> (f64, f64) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0)
}

/// 电力井盖破损, dispatched to the district's urban management bureau.
const CONDITION: &str = "C0105-02";

async fn report(app: &TestApp, token: &str, description: &str) -> i64 {
    let (lng, lat) = point_in_first_grid();
    let (s, v) = app
        .send(
            "POST",
            "/api/cases",
            Some(token),
            json!({"condition": CONDITION, "description": description, "lng": lng, "lat": lat}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["case"]["case"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"))
}

async fn ok(app: &TestApp, token: &str, id: i64, body: Value) {
    let (s, v) = app
        .send("POST", &format!("/api/cases/{id}/actions"), Some(token), body.clone())
        .await;
    assert_eq!(s, 200, "{body} → {v}");
}

/// The text a person sees: the page without its tags, scripts and styles (attribute values, such
/// as form values and `data-*`, are machine words and are left out with the tags).
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let tag = &rest[start..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|t| tag.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        rest = match skip_to {
            Some(close) => tag.find(&close).map_or("", |i| &tag[i + close.len()..]),
            None => tag.find('>').map_or("", |i| &tag[i + 1..]),
        };
    }
    out.push_str(rest);
    out
}

/// Words of the visible text (letters, digits and `_`).
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Stored words that must not be shown: every stored word with an underscore (no English word
/// has one), and the lower-case stored words of the states, roles and kinds these pages show that
/// English prose here does not use (not `planner` nor `funded`:
/// "Community planner" and "Not funded" are labels).
fn forbidden() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = gongzhi_core::lang::every_label()
        .into_iter()
        .flat_map(|(_, rows)| rows.into_iter().map(|(w, _, _)| w))
        .filter(|w| w.contains('_'))
        .collect();
    words.extend([
        "collected",
        "registered",
        "dispatched",
        "handling",
        "resident",
        "dispatcher",
        "acceptor",
        "admin",
        "quasi_residential",
        "support",
        "object",
        "abstain",
    ]);
    words
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

fn assert_no_stored_words(path: &str, html: &str) {
    let text = visible(html);
    let forbidden = forbidden();
    let shown: Vec<&str> = words(&text).into_iter().filter(|w| forbidden.contains(w)).collect();
    assert!(
        shown.is_empty(),
        "{path} shows stored words {shown:?}:\n{}",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

#[tokio::test]
async fn english_pages_show_labels_and_chinese_pages_chinese_labels() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let leader = app.token("shiftleader").await;
    let dispatcher = app.token("dispatcher").await;

    // One case through registration and dispatch (timeline roles: resident, shift leader,
    // dispatcher), one left registered (the dispatcher's list), one left reported (the shift
    // leader's list).
    let dispatched = report(&app, &resident, "标签测试：已派遣").await;
    ok(&app, &leader, dispatched, json!({"type": "register"})).await;
    ok(&app, &dispatcher, dispatched, json!({"type": "dispatch"})).await;
    let registered = report(&app, &resident, "标签测试：已立案").await;
    ok(&app, &leader, registered, json!({"type": "register"})).await;
    report(&app, &resident, "标签测试：待立案").await;

    let en_dispatcher = app.browser("dispatcher").await;
    let case_en = page(&en_dispatcher, &app, &format!("/cases/{dispatched}?lang=en")).await;
    assert_no_stored_words("case page", &case_en);
    for label in ["Dispatched", "Registered", "Shift leader", "Resident", "Dispatcher"] {
        assert!(
            visible(&case_en).contains(label),
            "the English case page names '{label}'"
        );
    }
    // The language is remembered: the work list is English too.
    let work_en = page(&en_dispatcher, &app, "/work").await;
    assert_no_stored_words("dispatcher's work", &work_en);
    assert!(visible(&work_en).contains("Registered"));

    let en_leader = app.browser("shiftleader").await;
    let work_en = page(&en_leader, &app, "/work?lang=en").await;
    assert_no_stored_words("shift leader's work", &work_en);
    assert!(visible(&work_en).contains("Shift leader"), "the chrome names the role");

    let zh_dispatcher = app.browser("dispatcher").await;
    let case_zh = visible(&page(&zh_dispatcher, &app, &format!("/cases/{dispatched}")).await);
    for label in ["派遣", "立案", "值班长", "居民", "派遣员"] {
        assert!(case_zh.contains(label), "the Chinese case page names '{label}'");
    }
    assert_no_stored_words("Chinese case page", &case_zh);
    let work_zh = visible(&page(&zh_dispatcher, &app, "/work").await);
    assert!(work_zh.contains("立案") && work_zh.contains("待派遣"));

    // Initiatives: the demo's quasi-residential one, listed and on its public page.
    let visitor = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let list_en = page(&visitor, &app, "/initiatives?lang=en").await;
    assert_no_stored_words("initiatives", &list_en);
    assert!(visible(&list_en).contains("Quasi-residential housing"));
    let list_zh = page(&visitor, &app, "/initiatives?lang=zh").await;
    assert!(visible(&list_zh).contains("类住宅"));
    let id = list_en
        .split("href=\"/initiatives/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an initiative in the list")
        .to_owned();
    let public_en = page(&visitor, &app, &format!("/initiatives/{id}/public?lang=en")).await;
    assert_no_stored_words("initiative's public page", &public_en);

    // Micro-renewal: the council (member kinds, stances, decisions) and the proposals (statuses).
    let community = small_demo().grids[0].community.to_string();
    let planner = app.browser("planner").await;
    let council_en = page(&planner, &app, &format!("/renewal/{community}/council?lang=en")).await;
    assert_no_stored_words("council", &council_en);
    assert!(visible(&council_en).contains("Resident representative"));
    let hub_en = page(&planner, &app, &format!("/renewal/{community}/proposals?lang=en")).await;
    assert_no_stored_words("proposals", &hub_en);
    let council_zh = visible(&page(&planner, &app, &format!("/renewal/{community}/council?lang=zh")).await);
    assert!(council_zh.contains("居民代表"));
}
