//! Open311 GeoReport v2 over plain HTTP: discovery, services and definitions, POST (form and
//! multipart with media), tokens, the request search with every filter and paging, one request,
//! JSON and XML, every error case, and that reporter contacts never reach a GET.

use geo::InteriorPoint;
use gongzhi_core::catalogue::Catalogue;
use gongzhi_core::ids::CaseId;
use gongzhi_store::prelude::*;
use gongzhi_testkit::{small_demo, TestApp};
use quick_xml::events::Event;
use serde_json::{json, Value};

const CITY: CityCode = gongzhi_demo::CITY;
/// 电力井盖破损 (a component): dispatched to the district's urban management bureau.
const COVER: &str = "C0105-02";
/// 暴露垃圾 (an event): to the street office.
const RUBBISH: &str = "E0102-01";
/// 邻里生活噪声扰民 (a 12345 service request): to the community.
const NOISE: &str = "S0101-02";

/// Elements of the request answers, in the order of the specification.
const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

/// A parsed XML element: name, text and children.
#[derive(Debug, Clone, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>: {self:?}", self.name))
    }
    fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
    fn text_of(&self, name: &str) -> &str {
        &self.child(name).text
    }
}

/// Parses a whole document, failing the test if it is not well-formed.
fn parse_xml(text: &str) -> Node {
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "{text}");
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed: {e}: {text}"))
        {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                ..Default::default()
            }),
            Event::Empty(e) => {
                let n = Node {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    ..Default::default()
                };
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let name = String::from_utf8(r.to_vec()).unwrap();
                let c = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                stack.last_mut().unwrap().text.push_str(c);
            }
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut doc = stack.pop().unwrap();
    assert!(stack.is_empty(), "unclosed elements");
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

/// A GET: status, content type and body.
async fn fetch(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn json_get(app: &TestApp, path: &str) -> (u16, Value) {
    let (s, ct, body) = fetch(app, path).await;
    assert!(ct.starts_with("application/json"), "{path}: {ct}: {body}");
    (
        s,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

async fn xml_get(app: &TestApp, path: &str) -> (u16, Node) {
    let (s, ct, body) = fetch(app, path).await;
    assert!(ct.starts_with("text/xml"), "{path}: {ct}: {body}");
    (s, parse_xml(&body))
}

/// Asserts a JSON errors document with one error of `code`; returns its description.
fn json_error(v: &Value, code: u16) -> String {
    let errors = v.as_array().unwrap_or_else(|| panic!("not an errors array: {v}"));
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["code"], code, "{v}");
    errors[0]["description"].as_str().unwrap().to_owned()
}

fn xml_error(n: &Node, code: u16) -> String {
    assert_eq!(n.name, "errors", "{n:?}");
    let e = n.all("error");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].text_of("code"), code.to_string());
    e[0].text_of("description").to_owned()
}

fn point_in_grid(i: usize) -> (f64, f64) {
    let p = small_demo().grids[i].geometry.interior_point().unwrap();
    (p.x(), p.y())
}

fn is_w3c(s: &str) -> bool {
    s.len() == 25 && s.ends_with("+08:00") && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

async fn key(app: &TestApp) -> String {
    let state = gongzhi_app::AppState::lazy(app.db.store.clone(), CITY);
    gongzhi_app::open311::create_key(&state, CITY, "测试应用 test app")
        .await
        .unwrap()
}

/// POST requests.{fmt} form-encoded: status and body text.
async fn post_form(app: &TestApp, fmt: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .client
        .post(app.url(&format!("/open311/v2/requests.{fmt}")))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post_json(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let (s, body) = post_form(app, "json", form).await;
    (s, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
}

/// A request for the cover condition at a point of grid `i`; returns its id.
async fn report_cover(app: &TestApp, key: &str, i: usize, description: &str) -> i64 {
    let (lng, lat) = point_in_grid(i);
    let (lat, lng) = (lat.to_string(), lng.to_string());
    let (s, v) = post_json(
        app,
        &[
            ("api_key", key),
            ("service_code", COVER),
            ("lat", &lat),
            ("long", &lng),
            ("description", description),
            ("attribute[hazard]", "medium"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v[0]["service_request_id"].as_i64().unwrap()
}

/// The multipart body of a POST with a photo as `media`.
fn multipart(fields: &[(&str, &str)], media: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "gongzhi-open311-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some((ct, data)) = media {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"photo\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A PNG header and some bytes: enough for a stored photo.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

#[tokio::test]
async fn discovery_services_and_definitions() {
    let app = TestApp::spawn().await;
    let cat = Catalogue::default_cn();

    let (s, d) = json_get(&app, "/open311/v2/discovery.json").await;
    assert_eq!(s, 200);
    let ep = &d["endpoints"][0];
    assert_eq!(ep["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(ep["url"], app.url("/open311/v2"));
    assert_eq!(ep["formats"], json!(["text/xml", "application/json"]));
    assert!(is_w3c(d["changeset"].as_str().unwrap()));
    let (s, d) = xml_get(&app, "/open311/v2/discovery.xml").await;
    assert_eq!((s, d.name.as_str()), (200, "discovery"));
    assert_eq!(d.names(), ["changeset", "contact", "key_service", "endpoints"]);
    let ep = d.child("endpoints").child("endpoint");
    assert_eq!(ep.child("formats").all("format").len(), 2);
    assert_eq!(ep.text_of("type"), "production");

    // Services: every filing condition, by code or by the city's name.
    for path in [
        "/open311/v2/services.json",
        "/open311/v2/services.json?jurisdiction_id=510100",
        "/open311/v2/services.json?jurisdiction_id=%E6%88%90%E9%83%BD%E5%B8%82",
    ] {
        let (s, list) = json_get(&app, path).await;
        assert_eq!(s, 200, "{path}");
        assert_eq!(list.as_array().unwrap().len(), cat.conditions().count());
    }
    let (_, list) = json_get(&app, "/open311/v2/services.json").await;
    let cover = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == COVER)
        .unwrap();
    assert_eq!(cover["service_name"], "电力井盖：井盖破损、移位");
    assert_eq!(cover["group"], "公用设施");
    assert_eq!(cover["metadata"], true);
    assert_eq!(cover["type"], "realtime");
    assert!(cover["keywords"].as_str().unwrap().contains("部件"));
    let (_, x) = xml_get(&app, "/open311/v2/services.xml").await;
    assert_eq!(x.name, "services");
    let services = x.all("service");
    assert_eq!(services.len(), cat.conditions().count());
    assert_eq!(
        services[0].names(),
        [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group"
        ]
    );
    assert_eq!(services[0].text_of("metadata"), "true");

    // Definitions: attributes with datatypes, order and values.
    let (s, def) = json_get(&app, &format!("/open311/v2/services/{COVER}.json")).await;
    assert_eq!(s, 200);
    assert_eq!(def["service_code"], COVER);
    let attrs = def["attributes"].as_array().unwrap();
    let hazard = attrs.iter().find(|a| a["code"] == "hazard").unwrap();
    assert_eq!(
        (
            hazard["datatype"].as_str(),
            hazard["required"].as_bool(),
            hazard["variable"].as_bool()
        ),
        (Some("singlevaluelist"), Some(true), Some(true))
    );
    assert_eq!(hazard["values"][3]["key"], "high");
    let datatypes: Vec<&str> = attrs.iter().map(|a| a["datatype"].as_str().unwrap()).collect();
    for t in [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ] {
        assert!(datatypes.contains(&t), "{t} in {datatypes:?}");
    }
    let orders: Vec<i64> = attrs.iter().map(|a| a["order"].as_i64().unwrap()).collect();
    assert_eq!(orders, (1..=attrs.len() as i64).collect::<Vec<_>>());
    assert!(
        attrs.iter().any(|a| a["variable"] == false),
        "an informational attribute"
    );
    let (_, def) = xml_get(&app, &format!("/open311/v2/services/{NOISE}.xml")).await;
    assert_eq!(def.name, "service_definition");
    assert_eq!(def.text_of("service_code"), NOISE);
    let attrs = def.child("attributes").all("attribute");
    assert!(
        attrs.iter().all(|a| a.text_of("required") == "false"),
        "诉求 need no attribute"
    );
    assert_eq!(
        attrs[0].names(),
        [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values"
        ]
    );
    assert!(attrs[0].child("values").all("value").len() >= 2);

    // 404: unknown service, jurisdiction, format, resource; in the format asked for.
    let (s, e) = json_get(&app, "/open311/v2/services/X9999-01.json").await;
    assert!(json_error(&e, 404).contains("X9999-01"));
    assert_eq!(s, 404);
    let (s, e) = xml_get(&app, "/open311/v2/services/C0105.xml").await;
    assert_eq!(s, 404);
    xml_error(&e, 404);
    let (s, e) = json_get(&app, "/open311/v2/services.json?jurisdiction_id=310100").await;
    assert_eq!(s, 404);
    assert!(json_error(&e, 404).contains("jurisdiction_id"));
    let (s, e) = xml_get(&app, "/open311/v2/discovery.xml?jurisdiction_id=Springfield").await;
    assert_eq!(s, 404);
    xml_error(&e, 404);
    let (s, e) = xml_get(&app, "/open311/v2/services.html").await;
    assert_eq!(s, 404, "unknown format");
    assert!(xml_error(&e, 404).contains(".xml or .json"));
    let r = app
        .client
        .get(app.url("/open311/v2/services.yaml"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    json_error(&r.json().await.unwrap(), 404);
    for path in [
        "/open311/v2/services",
        "/open311/v2/widgets.json",
        "/open311/v2/requests/1/notes.json",
        "/open311/v2",
    ] {
        let (s, ct, body) = fetch(&app, path).await;
        assert_eq!(s, 404, "{path}");
        assert!(!ct.starts_with("text/html"), "{path}: never HTML");
        if path.ends_with(".json") {
            json_error(&serde_json::from_str(&body).unwrap(), 404);
        } else {
            xml_error(&parse_xml(&body), 404);
        }
    }
    let r = app
        .client
        .delete(app.url("/open311/v2/services.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    json_error(&r.json().await.unwrap(), 405);
    let r = app
        .client
        .post(app.url("/open311/v2/services.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn post_form_and_multipart_then_read_back() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let (lng, lat) = point_in_grid(0);
    let (lat_s, lng_s) = (lat.to_string(), lng.to_string());
    let contacts = [
        ("first_name", "小明"),
        ("last_name", "王"),
        ("phone", "+86 138-0013-8000"),
        ("email", "wang.xiaoming@example.com"),
        ("device_id", "device-xyz-123"),
        ("account_id", "acct-777"),
    ];
    let mut form: Vec<(&str, &str)> = vec![
        ("api_key", &key),
        ("service_code", COVER),
        ("lat", &lat_s),
        ("long", &lng_s),
        ("description", "人民路电力井盖破损，车辆经过有响声"),
        ("attribute[hazard]", "high"),
        ("attribute[affected][]", "pedestrians"),
        ("attribute[affected][]", "vehicles"),
        ("attribute[count]", "2"),
        ("attribute[observed_at]", "2026-01-05T08:00:00+08:00"),
        ("attribute[note]", "夜间无照明"),
        ("attribute[reference]", "APP-17"),
    ];
    form.extend(contacts);
    let (s, created) = post_json(&app, &form).await;
    assert_eq!(s, 201, "{created}");
    let id = created[0]["service_request_id"].as_i64().unwrap();
    let token = created[0]["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 36);
    assert!(created[0]["service_notice"].as_str().unwrap().contains("3 工作日"));

    // The token leads to the request, in both formats.
    let (s, t) = json_get(&app, &format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(s, 200);
    assert_eq!(t, json!([{"service_request_id": id, "token": token}]));
    let (_, t) = xml_get(&app, &format!("/open311/v2/tokens/{token}.xml")).await;
    assert_eq!(t.name, "service_requests");
    assert_eq!(t.child("request").text_of("service_request_id"), id.to_string());
    let (s, e) = json_get(&app, "/open311/v2/tokens/no-such-token.json").await;
    assert_eq!(s, 404);
    json_error(&e, 404);

    // One request: a one-element list with the public fields.
    let (s, one) = json_get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(s, 200);
    let r = &one.as_array().unwrap()[0];
    assert_eq!(one.as_array().unwrap().len(), 1);
    for f in REQUEST_FIELDS {
        assert!(r.get(f).is_some(), "{f} in {r}");
    }
    assert_eq!(r["service_request_id"], id);
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], COVER);
    assert!(r["description"].as_str().unwrap().starts_with("人民路电力井盖破损"));
    assert!(r["description"].as_str().unwrap().contains("危险程度：高"), "{r}");
    assert!(r["status_notes"].as_str().unwrap().contains("待立案"));
    assert!(is_w3c(r["requested_datetime"].as_str().unwrap()));
    assert!(is_w3c(r["updated_datetime"].as_str().unwrap()));
    assert_eq!(r["expected_datetime"], Value::Null, "no deadline before dispatch");
    assert_eq!(r["address_id"], small_demo().grids[0].code.as_str());
    assert!(r["address"].as_str().unwrap().contains(&small_demo().grids[0].name));
    assert!((r["lat"].as_f64().unwrap() - lat).abs() < 1e-5);
    assert!((r["long"].as_f64().unwrap() - lng).abs() < 1e-5);
    assert_eq!(r["media_url"], Value::Null);
    let (_, x) = xml_get(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    assert_eq!(x.name, "service_requests");
    let req = x.all("request");
    assert_eq!(req.len(), 1);
    assert_eq!(req[0].names(), REQUEST_FIELDS);
    assert_eq!(req[0].text_of("status"), "open");

    // It is an ordinary case (source api, reported by the client's person) in the loop.
    let acceptor = app.token("acceptor").await;
    let dispatcher = app.token("dispatcher").await;
    let (_, case) = app.get(&format!("/api/cases/{id}"), Some(&acceptor)).await;
    assert_eq!(case["case"]["source"], "api", "{case}");
    assert_eq!(case["case"]["state"], "collected");
    assert_eq!(case["contact"]["name"], "王小明", "staff see the contact");
    assert_eq!(case["contact"]["phone"], "13800138000");
    let private = app.db.store.open311_private(CITY, CaseId(id)).await.unwrap().unwrap();
    assert_eq!(private.service_code, COVER);
    let attrs: Value = serde_json::from_str(&private.attributes).unwrap();
    assert_eq!(attrs["affected"], json!(["pedestrians", "vehicles"]));
    assert_eq!(attrs["count"], "2");
    assert_eq!(
        (
            private.email.as_deref(),
            private.device_id.as_deref(),
            private.account_id.as_deref()
        ),
        (
            Some("wang.xiaoming@example.com"),
            Some("device-xyz-123"),
            Some("acct-777")
        )
    );
    for (who, body) in [
        (&acceptor, json!({"type": "register"})),
        (&dispatcher, json!({"type": "dispatch"})),
    ] {
        let (s, v) = app
            .send("POST", &format!("/api/cases/{id}/actions"), Some(who), body)
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (_, one) = json_get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    let r = &one[0];
    assert_eq!(r["status"], "open");
    assert!(
        r["agency_responsible"]
            .as_str()
            .unwrap()
            .ends_with("城市管理和综合执法局"),
        "{r}"
    );
    assert!(r["status_notes"].as_str().unwrap().contains("已派遣"), "{r}");
    assert!(is_w3c(r["expected_datetime"].as_str().unwrap()), "{r}");

    // Multipart with a photo: media_url serves it, publicly.
    let (ct, body) = multipart(
        &[
            ("api_key", &key),
            ("service_code", RUBBISH),
            ("address_id", small_demo().grids[1].code.as_str()),
            ("description", "路边暴露垃圾，联系13911112222"),
            ("attribute[hazard]", "low"),
            ("attribute[affected][]", "pedestrians"),
            ("attribute[affected][]", "residents"),
            ("phone", "13800138000"),
        ],
        Some(("image/png", PNG)),
    );
    let r = app
        .client
        .post(app.url("/open311/v2/requests.xml"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let x = parse_xml(&r.text().await.unwrap());
    let with_photo: i64 = x.child("request").text_of("service_request_id").parse().unwrap();
    assert!(!x.child("request").text_of("token").is_empty());
    let (_, one) = json_get(&app, &format!("/open311/v2/requests/{with_photo}.json")).await;
    let r = &one[0];
    assert_eq!(
        r["address_id"],
        small_demo().grids[1].code.as_str(),
        "address_id: the grid's centre"
    );
    assert_eq!(
        r["description"].as_str().unwrap().lines().next(),
        Some("路边暴露垃圾，联系***"),
        "contact-like text is masked"
    );
    let media = r["media_url"].as_str().unwrap();
    assert!(media.starts_with(&app.url("/open311/v2/media/")), "{media}");
    let photo = app.client.get(media).send().await.unwrap();
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert_eq!(photo.bytes().await.unwrap().as_ref(), PNG);
    // Photos of other cases are not served there.
    let (_, case) = app.get(&format!("/api/cases/{id}"), Some(&acceptor)).await;
    assert_eq!(case["photos"], json!([]));
    let other = app
        .client
        .post(app.url(&format!("/api/cases/{id}/photos")))
        .bearer_auth(&acceptor)
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);
    let pid = other.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (s, _, body) = fetch(&app, &format!("/open311/v2/media/{pid}")).await;
    assert_eq!(s, 404, "{body}");
    xml_error(&parse_xml(&body), 404);

    // A 12345 request through address_string (lng,lat) with a bearer token as api_key: its
    // text is not public and its point is rounded.
    let resident = app.token("resident").await;
    let (lng2, lat2) = point_in_grid(0);
    let (s, v) = post_json(
        &app,
        &[
            ("api_key", &resident),
            ("service_code", NOISE),
            ("address_string", &format!("3栋 {lng2:.6},{lat2:.6}")),
            ("description", "楼上每晚装修噪音"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let noise = v[0]["service_request_id"].as_i64().unwrap();
    let (_, one) = json_get(&app, &format!("/open311/v2/requests/{noise}.json")).await;
    let r = &one[0];
    assert_eq!(r["description"], Value::Null, "诉求 text is not public");
    assert_eq!(r["address_id"], Value::Null);
    let rounded = (r["lat"].as_f64().unwrap() * 1000.0).round() / 1000.0;
    assert_eq!(r["lat"].as_f64().unwrap(), rounded);
    let (_, case) = app.get(&format!("/api/cases/{noise}"), Some(&resident)).await;
    assert_eq!(case["case"]["source"], "api");

    // No GET answer ever carries a contact.
    let paths = [
        "/open311/v2/requests.json".to_owned(),
        "/open311/v2/requests.xml".to_owned(),
        format!("/open311/v2/requests/{id}.json"),
        format!("/open311/v2/requests/{id}.xml"),
        format!("/open311/v2/requests/{with_photo}.xml"),
        format!("/open311/v2/tokens/{token}.json"),
        format!("/open311/v2/tokens/{token}.xml"),
    ];
    for p in paths {
        let (s, _, body) = fetch(&app, &p).await;
        assert_eq!(s, 200, "{p}");
        for secret in [
            "王小明",
            "小明",
            "13800138000",
            "138-0013-8000",
            "13911112222",
            "wang.xiaoming@example.com",
            "device-xyz-123",
            "acct-777",
        ] {
            assert!(!body.contains(secret), "{p} shows {secret}: {body}");
        }
    }
}

#[tokio::test]
async fn request_search_filters_and_paging() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let a = report_cover(&app, &key, 0, "井盖一").await;
    let b = report_cover(&app, &key, 1, "井盖二").await;
    let (s, v) = post_json(
        &app,
        &[
            ("api_key", &key),
            ("service_code", RUBBISH),
            ("address_string", &format!("网格 {} 南门", small_demo().grids[2].code)),
            ("attribute[hazard]", "none"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let c = v[0]["service_request_id"].as_i64().unwrap();
    // Void one: closed, with its reason as the note.
    let leader = app.token("shiftleader").await;
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/cases/{b}/actions"),
            Some(&leader),
            json!({"type": "void", "reason": "重复上报"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Other cases of the city (a demo's, say) may be listed too: the checks look at ours and at
    // whether every answer meets the filter.
    let ids = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_i64().unwrap())
            .collect()
    };
    let ours = |v: &Value| -> Vec<i64> { ids(v).into_iter().filter(|i| [a, b, c].contains(i)).collect() };
    let (s, all) = json_get(&app, "/open311/v2/requests.json").await;
    assert_eq!(s, 200);
    assert_eq!(ours(&all), [c, b, a], "newest first, last 90 days by default");
    let times: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requested_datetime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let voided = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == b)
        .unwrap();
    assert_eq!(voided["status"], "closed");
    assert!(voided["status_notes"].as_str().unwrap().contains("重复上报"));

    type Check = Box<dyn Fn(&Value) -> bool>;
    let any = || -> Check { Box::new(|_| true) };
    let codes = |list: &'static [&'static str]| -> Check {
        Box::new(move |r: &Value| list.contains(&r["service_code"].as_str().unwrap()))
    };
    let status = |st: &'static str| -> Check { Box::new(move |r: &Value| r["status"] == st) };
    let among = |list: Vec<i64>| -> Check {
        Box::new(move |r: &Value| list.contains(&r["service_request_id"].as_i64().unwrap()))
    };
    let cases: Vec<(String, Vec<i64>, Check)> = vec![
        (format!("service_request_id={a},{c}"), vec![c, a], among(vec![a, c])),
        (
            format!("service_request_id={a}&service_code={RUBBISH}"),
            vec![a],
            among(vec![a]),
        ),
        (format!("service_code={COVER}"), vec![b, a], codes(&[COVER])),
        (
            format!("service_code={COVER},{RUBBISH}"),
            vec![c, b, a],
            codes(&[COVER, RUBBISH]),
        ),
        ("status=open".into(), vec![c, a], status("open")),
        ("status=closed".into(), vec![b], status("closed")),
        ("status=open,closed".into(), vec![c, b, a], any()),
        ("status=closed&status=open".into(), vec![c, b, a], any()),
        (format!("status=open&service_code={COVER}"), vec![a], {
            let (st, co) = (status("open"), codes(&[COVER]));
            Box::new(move |r: &Value| st(r) && co(r))
        }),
        ("jurisdiction_id=510100&status=closed".into(), vec![b], status("closed")),
    ];
    for (q, want, check) in cases {
        let (s, v) = json_get(&app, &format!("/open311/v2/requests.json?{q}")).await;
        assert_eq!(s, 200, "{q}: {v}");
        assert_eq!(ours(&v), want, "{q}");
        assert!(v.as_array().unwrap().iter().all(check), "{q}: {v}");
    }
    for q in [
        "start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z",
        "end_date=2000-02-01T00:00:00Z",
        "start_date=2000-01-01T00:00:00Z",
    ] {
        let (s, v) = json_get(&app, &format!("/open311/v2/requests.json?{q}")).await;
        assert_eq!((s, v), (200, json!([])), "{q}");
    }
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let end = (now + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%S%%2B08:00");
    let (_, v) = json_get(
        &app,
        &format!("/open311/v2/requests.json?start_date={start}&end_date={end}"),
    )
    .await;
    assert_eq!(ours(&v), [c, b, a]);

    // Paging: pages of the same list, and the total in a header.
    let full = ids(&all);
    let r = app
        .client
        .get(app.url("/open311/v2/requests.json?page_size=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-count"], full.len().to_string().as_str());
    assert_eq!(ids(&r.json().await.unwrap()), full[..1]);
    let (_, p1) = json_get(&app, "/open311/v2/requests.json?page_size=2").await;
    assert_eq!(ids(&p1), full[..2]);
    let (_, p2) = json_get(&app, "/open311/v2/requests.json?page_size=2&page=2").await;
    assert_eq!(ids(&p2), full[2..full.len().min(4)]);
    let beyond = full.len() / 2 + 2;
    let (_, none) = json_get(&app, &format!("/open311/v2/requests.json?page_size=2&page={beyond}")).await;
    assert_eq!(none, json!([]));

    // XML with filters.
    let (s, x) = xml_get(
        &app,
        &format!("/open311/v2/requests.xml?service_code={COVER}&status=open"),
    )
    .await;
    assert_eq!((s, x.name.as_str()), (200, "service_requests"));
    let reqs = x.all("request");
    assert!(reqs
        .iter()
        .all(|r| r.text_of("service_code") == COVER && r.text_of("status") == "open"));
    let mine: Vec<&&Node> = reqs
        .iter()
        .filter(|r| {
            [a, b, c]
                .iter()
                .any(|i| r.text_of("service_request_id") == i.to_string())
        })
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].text_of("service_request_id"), a.to_string());
    assert!(is_w3c(mine[0].text_of("requested_datetime")));
    let (_, x) = xml_get(&app, "/open311/v2/requests.xml?status=closed&service_code=none").await;
    assert!(x.all("request").is_empty());

    // Bad filters: 400, in the format asked for.
    for q in [
        "status=pending",
        "start_date=yesterday",
        "start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z",
        "start_date=2025-02-01&end_date=2025-01-01",
        "service_request_id=abc",
        "page=0",
        "page_size=1001",
    ] {
        let (s, e) = json_get(&app, &format!("/open311/v2/requests.json?{q}")).await;
        assert_eq!(s, 400, "{q}: {e}");
        json_error(&e, 400);
        let (s, e) = xml_get(&app, &format!("/open311/v2/requests.xml?{q}")).await;
        assert_eq!(s, 400, "{q}");
        xml_error(&e, 400);
    }
    for path in [
        "/open311/v2/requests/999999.json",
        "/open311/v2/requests/abc.json",
        "/open311/v2/requests.json?jurisdiction_id=999999",
    ] {
        let (s, e) = json_get(&app, path).await;
        assert_eq!(s, 404, "{path}");
        json_error(&e, 404);
    }
    let (s, e) = xml_get(&app, "/open311/v2/requests/999999.xml").await;
    assert_eq!(s, 404);
    assert!(xml_error(&e, 404).contains("999999"));
}

#[tokio::test]
async fn post_errors() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let (lng, lat) = point_in_grid(0);
    let (lat, lng) = (lat.to_string(), lng.to_string());
    let grid = small_demo().grids[0].code.to_string();
    let total = || async {
        let r = app
            .client
            .get(app.url("/open311/v2/requests.json"))
            .send()
            .await
            .unwrap();
        r.headers()["x-total-count"].to_str().unwrap().parse::<i64>().unwrap()
    };
    let before = total().await;
    let base = |k: &'static str, v: &'static str| -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("service_code", COVER.to_owned()),
            ("attribute[hazard]", "low".to_owned()),
        ];
        f.retain(|(x, _)| *x != k);
        if !v.is_empty() {
            f.push((k, v.to_owned()));
        }
        f
    };
    type Form = Vec<(&'static str, String)>;
    let with_key = |mut f: Form, k: &str| {
        f.push(("api_key", k.to_owned()));
        f
    };
    let at_point = |mut f: Form| {
        f.push(("lat", lat.clone()));
        f.push(("long", lng.clone()));
        f
    };
    let cases: Vec<(u16, Form, &str)> = vec![
        (403, at_point(base("", "")), "api_key is required"),
        (403, with_key(at_point(base("", "")), "o311_not-a-key"), "not valid"),
        (403, with_key(at_point(base("", "")), "510100.forged"), "not valid"),
        (
            400,
            with_key(at_point(base("service_code", "")), &key),
            "service_code is required",
        ),
        (
            404,
            with_key(at_point(base("service_code", "Z0101-01")), &key),
            "Z0101-01",
        ),
        (400, with_key(base("", ""), &key), "a location is required"),
        (
            400,
            with_key(
                {
                    let mut f = base("", "");
                    f.push(("lat", lat.clone()));
                    f
                },
                &key,
            ),
            "long is required",
        ),
        (
            400,
            with_key(
                {
                    let mut f = base("", "");
                    f.push(("lat", "95".into()));
                    f.push(("long", lng.clone()));
                    f
                },
                &key,
            ),
            "not a place",
        ),
        (
            400,
            with_key(
                {
                    let mut f = base("", "");
                    f.push(("lat", "north".into()));
                    f.push(("long", lng.clone()));
                    f
                },
                &key,
            ),
            "not a number",
        ),
        (
            400,
            with_key(
                {
                    let mut f = base("", "");
                    f.push(("address_string", "春熙路 12 号".into()));
                    f
                },
                &key,
            ),
            "does not geocode",
        ),
        (
            400,
            with_key(
                {
                    let mut f = base("", "");
                    f.push(("address_id", "510104999999999".into()));
                    f
                },
                &key,
            ),
            "address_id: no grid",
        ),
        (
            400,
            with_key(at_point(base("attribute[hazard]", "")), &key),
            "attribute[hazard]: is required",
        ),
        (
            400,
            with_key(at_point(base("attribute[hazard]", "extreme")), &key),
            "'extreme'",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("attribute[hazard]", "high".into()));
                    f
                },
                &key,
            ),
            "takes one value",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("attribute[colour]", "red".into()));
                    f
                },
                &key,
            ),
            "attribute[colour]",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("attribute[count]", "many".into()));
                    f
                },
                &key,
            ),
            "not a number",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("attribute[observed_at]", "last week".into()));
                    f
                },
                &key,
            ),
            "ISO 8601",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("attribute", "x".into()));
                    f
                },
                &key,
            ),
            "not an attribute key",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("phone", "12345".into()));
                    f
                },
                &key,
            ),
            "phone",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("email", "nobody".into()));
                    f
                },
                &key,
            ),
            "email",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("media_url", "javascript:alert(1)".into()));
                    f
                },
                &key,
            ),
            "media_url",
        ),
        (
            400,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("description", "长".repeat(2001)));
                    f
                },
                &key,
            ),
            "description",
        ),
        (
            404,
            with_key(
                {
                    let mut f = at_point(base("", ""));
                    f.push(("jurisdiction_id", "北京市".into()));
                    f
                },
                &key,
            ),
            "jurisdiction_id",
        ),
    ];
    for (status, form, needle) in &cases {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, body) = post_form(&app, "json", &pairs).await;
        assert_eq!(s, *status, "{form:?}: {body}");
        let d = json_error(&serde_json::from_str(&body).unwrap(), *status);
        assert!(d.contains(needle), "{needle} in {d}");
        let (s, body) = post_form(&app, "xml", &pairs).await;
        assert_eq!(s, *status, "{form:?}: {body}");
        xml_error(&parse_xml(&body), *status);
    }
    // A department handler's token may not report: 403.
    let dept = app.token("department").await;
    let f = with_key(at_point(base("", "")), &dept);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, body) = post_form(&app, "json", &pairs).await;
    assert_eq!(s, 403, "{body}");
    // Multipart: a media that is no photo, a body of another type, an unknown format.
    let (ct, body) = multipart(
        &[
            ("api_key", &key),
            ("service_code", COVER),
            ("address_id", &grid),
            ("attribute[hazard]", "low"),
        ],
        Some(("text/plain", b"hello")),
    );
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415, "the one media policy: a type not accepted is 415");
    assert!(json_error(&r.json().await.unwrap(), 415).contains("media"));
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .json(&json!({"api_key": key, "service_code": COVER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    json_error(&r.json().await.unwrap(), 400);
    let r = app
        .client
        .post(app.url("/open311/v2/requests.csv"))
        .form(&[("api_key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    xml_error(&parse_xml(&r.text().await.unwrap()), 404);
    assert_eq!(total().await, before, "no refused request left a case behind");

    // The key may also come in the query string; address_id and address_string with a grid code.
    let r = app
        .client
        .post(app.url(&format!("/open311/v2/requests.json?api_key={key}")))
        .form(&[
            ("service_code", COVER),
            ("address_id", &grid),
            ("attribute[hazard]", "low"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let addr = format!("网格{grid}内");
    let (s, v) = post_json(
        &app,
        &[
            ("api_key", &key),
            ("service_code", COVER),
            ("address_string", &addr),
            ("attribute[hazard]", "low"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(total().await, before + 2);

    // A login's token counts in the Authorization header, never as a session cookie (a
    // cross-site form must not report as whoever is logged in).
    let resident = app.token("resident").await;
    let form = [
        ("service_code", COVER),
        ("address_id", grid.as_str()),
        ("attribute[hazard]", "low"),
    ];
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .header("cookie", format!("gongzhi_session={resident}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(json_error(&r.json().await.unwrap(), 403).contains("api_key is required"));
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .bearer_auth(&resident)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(total().await, before + 3);
}

/// A client that retries a POST with the same `Idempotency-Key` (after a cut connection, say)
/// makes one case with one token and one photo, and is answered the first answer; the photo,
/// the token and the case are stored in one transaction.
#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_makes_one_request() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let (lng, lat) = point_in_grid(1);
    let (lat, lng) = (lat.to_string(), lng.to_string());
    let fields = [
        ("api_key", key.as_str()),
        ("service_code", COVER),
        ("lat", &lat),
        ("long", &lng),
        ("description", "井盖缺失 retried"),
        ("attribute[hazard]", "medium"),
    ];
    let send = |boundary: &'static str, idem: &'static str, description: &'static str| {
        let (ct, body) = multipart(
            &fields
                .iter()
                .map(|(k, v)| (*k, if *k == "description" { description } else { *v }))
                .collect::<Vec<_>>(),
            Some(("image/png", PNG)),
        );
        let (ct, body) = (
            ct.replace("gongzhi-open311-test-boundary", boundary),
            replace_bytes(&body, b"gongzhi-open311-test-boundary", boundary.as_bytes()),
        );
        let (client, url) = (app.client.clone(), app.url("/open311/v2/requests.json"));
        async move {
            let r = client
                .post(url)
                .header("content-type", ct)
                .header("Idempotency-Key", idem)
                .body(body)
                .send()
                .await
                .unwrap();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (r.status().as_u16(), replayed, r.text().await.unwrap())
        }
    };
    let (s1, r1, first) = send("b-one", "o311-0001", "井盖缺失 retried").await;
    assert_eq!((s1, r1), (201, false), "{first}");
    // The retry comes with a new multipart boundary, as most clients make one per try.
    let (s2, r2, again) = send("b-two", "o311-0001", "井盖缺失 retried").await;
    assert_eq!((s2, r2), (201, true), "{again}");
    assert_eq!(first, again);
    let first: Value = serde_json::from_str(&first).unwrap();
    let id = first[0]["service_request_id"].as_i64().unwrap();
    let (s, found) = json_get(&app, "/open311/v2/requests.json?service_code=C0105-02").await;
    assert_eq!(s, 200);
    let mine: Vec<&Value> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["description"].as_str().unwrap_or_default().contains("retried"))
        .collect();
    assert_eq!(mine.len(), 1, "{found}");
    assert_eq!(mine[0]["service_request_id"].as_i64(), Some(id));
    assert!(
        mine[0]["media_url"].as_str().is_some(),
        "the photo is stored with the case: {found}"
    );
    // The same key with another description: refused in Open311's error format, nothing made.
    let (s, _, refused) = send("b-three", "o311-0001", "另一个问题").await;
    assert_eq!(s, 400, "{refused}");
    assert!(refused.contains("different request"), "{refused}");
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}
