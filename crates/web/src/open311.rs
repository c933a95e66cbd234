//! Open311 GeoReport v2 under `/open311/v2`: discovery, services and their definitions,
//! requests (create, search, one), tokens and the public photos of requests; XML or JSON by the
//! extension of the last path segment.
//!
//! Services are the filing conditions of the catalogue; a request is an ordinary case, taken in by
//! [`gongzhi_app::cases::intake`] as the client's person with source `api`, so it enters the same closed
//! loop. The mapping itself (attributes, statuses, notes, what is public) is pure and lives in
//! [`gongzhi_core::open311`]; this module reads the HTTP request, calls [`gongzhi_app::open311`] and renders.
//!
//! Deliberate choices:
//! - `jurisdiction_id` is a city's code (`510100`) or name (`成都市`); absent: the default city.
//! - A POST needs `api_key`: an Open311 key (`gongzhi open311 key --label NAME`: the client's own
//!   person, role resident) or the bearer token of a normal login (also accepted in the
//!   Authorization header, never from the session cookie); the case is reported as that person.
//!   It answers 201 with both `service_request_id` and `token`. Public GETs need no key.
//! - `address_string` is not geocoded: it must contain a grid code or `lng,lat`; `address_id` is
//!   a grid code (its interior point is used). `crs` (wgs84, gcj02, bd09) is an extension.
//! - Every error is an Open311 `errors` document: 400 bad input, 403 missing or invalid
//!   api_key, 404 unknown jurisdiction, service, request, token or format (405 for a wrong method).
//! - Answers never carry reporter contacts. For 12345 service requests (诉求) the description is
//!   left out and the point rounded to ~100 m; contact-like text in descriptions is masked.
//! - `media_url` points to `/open311/v2/media/{id}`, which redirects to the photo's one URL
//!   `/media/{id}` for photos uploaded with an Open311 request only (or echoes the `media_url`
//!   the client sent). Uploaded photos are checked by the one media policy (415 for a type not
//!   accepted, read from the bytes; 413 over 5 MiB) and lose their EXIF.

use gongzhi_core::ids::CaseId;
use gongzhi_core::territory::CityCode;
use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, OriginalUri, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gongzhi_app::open311::Open311Query;
use gongzhi_core::access::Principal;
use gongzhi_core::case::CaseSource;
use gongzhi_core::open311::{self as o311, Format};
use gongzhi_core::DomainError;
use gongzhi_store::StoreError;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::api::cases::PHOTO_MAX_BYTES;
use gongzhi_app::cases::{self as loop_, Report};
use gongzhi_app::open311::{self as service, PublicRequest};
use gongzhi_app::AppError;

use crate::{ApiError, AppState};

/// When this endpoint's interface last changed (discovery's `changeset`).
pub const CHANGESET: &str = "2026-05-01T00:00:00+08:00";

/// The routes under `/open311/v2`.
pub fn router() -> Router<AppState> {
    let v2 = Router::new()
        .route("/", get(no_resource))
        .route("/{file}", get(get_root).post(post_root))
        .route("/services/{file}", get(get_definition))
        .route("/requests/{file}", get(get_request))
        .route("/tokens/{file}", get(get_token))
        .route("/media/{id}", get(get_media))
        .method_not_allowed_fallback(wrong_method)
        .fallback(no_resource)
        .layer(DefaultBodyLimit::max(gongzhi_core::media::body_limit(
            crate::media::PHOTO,
        )));
    Router::new().nest("/open311/v2", v2)
}

use gongzhi_app::auth::random_hex;
pub use gongzhi_app::open311::create_key;

/// A request token, shaped like a UUID.
fn new_token() -> String {
    let h = random_hex(16);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

// ---------------------------------------------------------------------------------------------
// Documents: one tree, rendered as XML or JSON.

/// A value of an answer. `List` carries the element name of its items in XML.
#[derive(Debug, Clone)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Obj(Vec<(&'static str, V)>),
    List(&'static str, Vec<V>),
}

impl V {
    fn opt(s: Option<String>) -> V {
        s.map_or(V::Null, V::Str)
    }

    fn text(&self) -> Option<String> {
        match self {
            V::Bool(b) => Some(b.to_string()),
            V::Int(i) => Some(i.to_string()),
            V::Num(n) => Some(n.to_string()),
            V::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl Serialize for V {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            V::Null => s.serialize_none(),
            V::Bool(b) => s.serialize_bool(*b),
            V::Int(i) => s.serialize_i64(*i),
            V::Num(n) => s.serialize_f64(*n),
            V::Str(t) => s.serialize_str(t),
            V::Obj(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            V::List(_, items) => {
                let mut q = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(v)?;
                }
                q.end()
            }
        }
    }
}

fn write_xml(w: &mut Writer<Vec<u8>>, name: &str, v: &V) -> std::io::Result<()> {
    match v {
        V::Null => w.write_event(Event::Empty(BytesStart::new(name))),
        V::Obj(fields) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            for (k, v) in fields {
                write_xml(w, k, v)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))
        }
        V::List(item, items) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            for v in items {
                write_xml(w, item, v)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))
        }
        scalar => {
            let text = scalar.text().unwrap_or_default();
            w.write_event(Event::Start(BytesStart::new(name)))?;
            w.write_event(Event::Text(BytesText::new(&text)))?;
            w.write_event(Event::End(BytesEnd::new(name)))
        }
    }
}

fn xml(root: &str, v: &V) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    let _ = write_xml(&mut w, root, v);
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

fn render(fmt: Format, status: StatusCode, root: &str, v: &V) -> Response {
    let (ct, body) = match fmt {
        Format::Xml => ("text/xml; charset=utf-8", xml(root, v)),
        Format::Json => (
            "application/json; charset=utf-8",
            serde_json::to_vec(v).unwrap_or_else(|_| b"[]".to_vec()),
        ),
    };
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response()
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// An Open311 error: rendered as an `errors` document in the request's format.
#[derive(Debug)]
struct Fail {
    status: StatusCode,
    description: String,
}

impl Fail {
    fn new(status: StatusCode, description: impl Into<String>) -> Fail {
        Fail {
            status,
            description: description.into(),
        }
    }
    fn bad(d: impl Into<String>) -> Fail {
        Fail::new(StatusCode::BAD_REQUEST, d)
    }
    fn not_found(d: impl Into<String>) -> Fail {
        Fail::new(StatusCode::NOT_FOUND, d)
    }

    fn render(&self, fmt: Format) -> Response {
        let doc = V::List(
            "error",
            vec![V::Obj(vec![
                ("code", V::Int(i64::from(self.status.as_u16()))),
                ("description", V::Str(self.description.clone())),
            ])],
        );
        render(fmt, self.status, "errors", &doc)
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Fail {
        let status = match e.status.as_u16() {
            401 | 403 => StatusCode::FORBIDDEN,
            404 => StatusCode::NOT_FOUND,
            s if s >= 500 => e.status,
            _ => StatusCode::BAD_REQUEST,
        };
        Fail::new(status, e.body.message)
    }
}

impl From<AppError> for Fail {
    fn from(e: AppError) -> Fail {
        ApiError::from(e).into()
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        ApiError::from(e).into()
    }
}

impl From<DomainError> for Fail {
    fn from(e: DomainError) -> Fail {
        Fail::bad(e.to_string())
    }
}

type Answer = Result<Response, Fail>;

/// The format a request asked for: its extension, else the Accept header (XML by default).
fn fallback_format(path: &str, headers: &HeaderMap) -> Format {
    if let (_, Some(f)) = o311::split_format(path.rsplit('/').next().unwrap_or("")) {
        return f;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("json") {
        Format::Json
    } else {
        Format::Xml
    }
}

/// Splits the last path segment into its name and format; an unknown or missing extension is a
/// 404, rendered in the format the Accept header asks for.
fn file_format(
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
) -> Result<(String, Format), (Fail, Format)> {
    let other = fallback_format("", headers);
    let Path(file) = path.map_err(|e| (Fail::bad(format!("the path is not readable: {e}")), other))?;
    match o311::split_format(&file) {
        (name, Some(f)) => Ok((name.to_owned(), f)),
        (_, None) => Err((
            Fail::not_found(format!("'{file}' has no known format: end it with .xml or .json")),
            other,
        )),
    }
}

async fn no_resource(OriginalUri(uri): OriginalUri, headers: HeaderMap) -> Response {
    Fail::not_found(format!(
        "{} is not an Open311 resource; see /open311/v2/discovery.xml or /open311/v2/discovery.json",
        uri.path()
    ))
    .render(fallback_format(uri.path(), &headers))
}

async fn wrong_method(method: axum::http::Method, OriginalUri(uri): OriginalUri, headers: HeaderMap) -> Response {
    Fail::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
    .render(fallback_format(uri.path(), &headers))
}

// ---------------------------------------------------------------------------------------------
// Parameters.

/// Query-string and form parameters in order, repeated keys kept.
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(text: &[u8]) -> Params {
        Params(form_urlencoded::parse(text).into_owned().collect())
    }

    /// The last non-empty value of a key (body parameters come after the query string's).
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// A comma-separated list, from every occurrence of the key.
    fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn attributes(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            if let Some((code, _)) = o311::attribute_key(k) {
                out.entry(code.to_owned()).or_default().push(v.clone());
            }
        }
        out
    }

    fn unknown_attribute_keys(&self) -> Option<&str> {
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| k.starts_with("attribute") && o311::attribute_key(k).is_none())
    }
}

fn query(q: &Option<String>) -> Params {
    Params::parse(q.as_deref().unwrap_or("").as_bytes())
}

/// The city a `jurisdiction_id` names (its code or name); the default city when absent.
async fn jurisdiction(s: &AppState, p: &Params) -> Result<CityCode, Fail> {
    Ok(service::jurisdiction(s, p.get("jurisdiction_id")).await?)
}

/// `http(s)://host` as the client reached us (behind a proxy: X-Forwarded-Proto/Host).
fn base_url(headers: &HeaderMap) -> String {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let proto = h("x-forwarded-proto")
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    let host = h("x-forwarded-host")
        .or_else(|| h("host"))
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    format!("{proto}://{host}")
}

fn page_params(p: &Params) -> Result<(u32, u32), Fail> {
    let num = |key: &str, default: u32, max: u32| -> Result<u32, Fail> {
        match p.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| Fail::bad(format!("{key}: '{v}' is not a whole number from 1 to {max}"))),
        }
    };
    Ok((
        num("page", 1, u32::MAX / 1000)?,
        num("page_size", o311::MAX_REQUESTS, o311::MAX_REQUESTS)?,
    ))
}

// ---------------------------------------------------------------------------------------------
// GET discovery, services, requests; POST requests.

async fn get_root(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (name, fmt) = match file_format(path, &headers) {
        Ok(v) => v,
        Err((e, f)) => return e.render(f),
    };
    let p = query(&q);
    let answer = match name.as_str() {
        "discovery" => discovery(&s, &p, &headers, fmt).await,
        "services" => services(&s, &p, fmt).await,
        "requests" => requests(&s, &p, &headers, fmt).await,
        _ => Err(Fail::not_found(format!(
            "/open311/v2/{name}.{fmt} is not an Open311 resource"
        ))),
    };
    answer.unwrap_or_else(|e| e.render(fmt))
}

async fn discovery(s: &AppState, p: &Params, headers: &HeaderMap, fmt: Format) -> Answer {
    let city = jurisdiction(s, p).await?;
    let setting = |v: Option<String>, default: &str| V::Str(v.unwrap_or_else(|| default.to_owned()));
    let service::Discovery { contact, key_service } = service::discovery(s, city).await?;
    let doc = V::Obj(vec![
        ("changeset", V::Str(CHANGESET.into())),
        (
            "contact",
            setting(contact, "12345 政务服务便民热线 (the city's 12345 service hotline)"),
        ),
        (
            "key_service",
            setting(
                key_service,
                "API keys are issued by the operator of this installation (gongzhi open311 key --label NAME)",
            ),
        ),
        (
            "endpoints",
            V::List(
                "endpoint",
                vec![V::Obj(vec![
                    ("specification", V::Str(o311::SPECIFICATION.into())),
                    ("url", V::Str(format!("{}/open311/v2", base_url(headers)))),
                    ("changeset", V::Str(CHANGESET.into())),
                    ("type", V::Str("production".into())),
                    (
                        "formats",
                        V::List(
                            "format",
                            vec![V::Str("text/xml".into()), V::Str("application/json".into())],
                        ),
                    ),
                ])],
            ),
        ),
    ]);
    Ok(render(fmt, StatusCode::OK, "discovery", &doc))
}

fn service_v(svc: o311::Service) -> V {
    V::Obj(vec![
        ("service_code", V::Str(svc.service_code)),
        ("service_name", V::Str(svc.service_name)),
        ("description", V::Str(svc.description)),
        ("metadata", V::Bool(svc.metadata)),
        ("type", V::Str(svc.kind)),
        ("keywords", V::Str(svc.keywords)),
        ("group", V::Str(svc.group)),
    ])
}

async fn services(s: &AppState, p: &Params, fmt: Format) -> Answer {
    let city = jurisdiction(s, p).await?;
    let cat = loop_::catalogue(s, city).await?;
    let list = o311::services(&cat).into_iter().map(service_v).collect();
    Ok(render(fmt, StatusCode::OK, "services", &V::List("service", list)))
}

async fn get_definition(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (code, fmt) = match file_format(path, &headers) {
        Ok(v) => v,
        Err((e, f)) => return e.render(f),
    };
    definition(&s, &query(&q), &code, fmt)
        .await
        .unwrap_or_else(|e| e.render(fmt))
}

async fn definition(s: &AppState, p: &Params, code: &str, fmt: Format) -> Answer {
    let city = jurisdiction(s, p).await?;
    let cat = loop_::catalogue(s, city).await?;
    let attrs = o311::definition(&cat, code)
        .ok_or_else(|| Fail::not_found(format!("service_code '{code}' is not a service; see services.{fmt}")))?;
    let attrs = attrs
        .into_iter()
        .map(|a| {
            V::Obj(vec![
                ("variable", V::Bool(a.variable)),
                ("code", V::Str(a.code)),
                ("datatype", V::Str(a.datatype.as_str().into())),
                ("required", V::Bool(a.required)),
                ("datatype_description", V::opt(a.datatype_description)),
                ("order", V::Int(i64::from(a.order))),
                ("description", V::Str(a.description)),
                (
                    "values",
                    V::List(
                        "value",
                        a.values
                            .into_iter()
                            .map(|v| V::Obj(vec![("key", V::Str(v.key)), ("name", V::Str(v.name))]))
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let doc = V::Obj(vec![
        ("service_code", V::Str(code.to_owned())),
        ("attributes", V::List("attribute", attrs)),
    ]);
    Ok(render(fmt, StatusCode::OK, "service_definition", &doc))
}

async fn requests(s: &AppState, p: &Params, headers: &HeaderMap, fmt: Format) -> Answer {
    let city = jurisdiction(s, p).await?;
    let (page, page_size) = page_params(p)?;
    let ids = p.list("service_request_id");
    let q = if !ids.is_empty() {
        // The specification: service_request_id overrides all other arguments.
        if ids.len() > o311::MAX_REQUESTS as usize {
            return Err(Fail::bad(format!(
                "service_request_id: at most {} ids at once",
                o311::MAX_REQUESTS
            )));
        }
        let ids = ids
            .iter()
            .map(|id| {
                id.parse::<CaseId>()
                    .map_err(|_| Fail::bad(format!("service_request_id: '{id}' is not a request id")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Open311Query {
            ids,
            page,
            page_size,
            ..Default::default()
        }
    } else {
        let states = match p.list("status") {
            list if list.is_empty() => Vec::new(),
            list => o311::states_for_status(&list.join(","))?,
        };
        let window = o311::search_window(p.get("start_date"), p.get("end_date"), gongzhi_app::now_ms())?;
        Open311Query {
            ids: Vec::new(),
            conditions: p.list("service_code"),
            states,
            window: Some(window),
            page,
            page_size,
        }
    };
    let (rows, total) = service::search(s, city, &q).await?;
    let list = public_requests(s, city, headers, rows);
    let mut r = render(fmt, StatusCode::OK, "service_requests", &V::List("request", list));
    r.headers_mut().insert("x-total-count", HeaderValue::from(total));
    Ok(r)
}

async fn get_request(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (id, fmt) = match file_format(path, &headers) {
        Ok(v) => v,
        Err((e, f)) => return e.render(f),
    };
    one_request(&s, &query(&q), &headers, &id)
        .await
        .map(|list| render(fmt, StatusCode::OK, "service_requests", &V::List("request", list)))
        .unwrap_or_else(|e| e.render(fmt))
}

async fn one_request(s: &AppState, p: &Params, headers: &HeaderMap, id: &str) -> Result<Vec<V>, Fail> {
    let city = jurisdiction(s, p).await?;
    let missing = || Fail::not_found(format!("service_request_id '{id}' not found"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    // An internal case answers as if it did not exist.
    let row = service::request(s, city, CaseId(id)).await?.ok_or_else(missing)?;
    Ok(public_requests(s, city, headers, vec![row]))
}

async fn get_token(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (token, fmt) = match file_format(path, &headers) {
        Ok(v) => v,
        Err((e, f)) => return e.render(f),
    };
    let answer = async {
        let city = jurisdiction(&s, &query(&q)).await?;
        let id = service::request_of_token(&s, city, &token)
            .await?
            .ok_or_else(|| Fail::not_found(format!("token '{token}' not found")))?;
        let doc = V::List(
            "request",
            vec![V::Obj(vec![
                ("service_request_id", V::Int(id.0)),
                ("token", V::Str(token.clone())),
            ])],
        );
        Ok(render(fmt, StatusCode::OK, "service_requests", &doc))
    };
    answer.await.unwrap_or_else(|e: Fail| e.render(fmt))
}

async fn get_media(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let fmt = fallback_format("", &headers);
    let Ok(Path(id)) = path else {
        return Fail::not_found("no such media").render(fmt);
    };
    let answer = async {
        let city = jurisdiction(&s, &query(&q)).await?;
        let missing = || Fail::not_found(format!("media '{id}' not found"));
        let photo: i64 = id.split('.').next().unwrap_or("").parse().map_err(|_| missing())?;
        // A photo moved by migration 0017 is named by its old id; then by its media id.
        let media = service::request_photo(&s, city, photo).await?.ok_or_else(missing)?;
        let mut to = crate::media::url(media);
        if city != s.default_city {
            to.push_str(&format!("?city={city}"));
        }
        Ok(axum::response::Redirect::permanent(&to).into_response())
    };
    answer.await.unwrap_or_else(|e: Fail| e.render(fmt))
}

/// The public view of cases as Open311 requests: no contacts; see the module notes.
fn public_requests(s: &AppState, city: CityCode, headers: &HeaderMap, rows: Vec<PublicRequest>) -> Vec<V> {
    let base = base_url(headers);
    let suffix = if city == s.default_city {
        String::new()
    } else {
        format!("?jurisdiction_id={city}")
    };
    rows.into_iter()
        .map(|r| {
            let media_url = match r.photo_id {
                Some(p) => Some(format!("{base}/open311/v2/media/{p}{suffix}")),
                None => r.media_url,
            };
            V::Obj(vec![
                ("service_request_id", V::Int(r.id)),
                ("status", V::Str(r.status.into())),
                ("status_notes", V::Str(r.status_notes)),
                ("service_name", V::Str(r.service_name)),
                ("service_code", V::Str(r.service_code)),
                ("description", V::opt(r.description)),
                ("agency_responsible", V::opt(r.agency_responsible)),
                ("service_notice", V::opt(r.service_notice)),
                ("requested_datetime", V::Str(o311::w3c(r.requested_at))),
                ("updated_datetime", V::Str(o311::w3c(r.updated_at))),
                ("expected_datetime", V::opt(r.expected_at.map(o311::w3c))),
                ("address", V::Str(r.address)),
                ("address_id", V::opt(r.address_id)),
                ("zipcode", V::Null),
                ("lat", V::Num(r.lat)),
                ("long", V::Num(r.lng)),
                ("media_url", V::opt(media_url)),
            ])
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// POST requests.

async fn post_root(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let (name, fmt) = match file_format(path, &headers) {
        Ok(v) => v,
        Err((e, f)) => return e.render(f),
    };
    if name != "requests" {
        return Fail::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("POST is only for requests.{fmt}"),
        )
        .render(fmt);
    }
    create(&s, q, &headers, req, fmt)
        .await
        .unwrap_or_else(|e| e.render(fmt))
}

/// An uploaded photo: content type and bytes.
type Media = (String, Bytes);

/// The parameters of a POST: the query string's, then the body's (form or multipart), and the
/// `media` file if one was uploaded.
async fn read_post(
    s: &AppState,
    q: Option<String>,
    headers: &HeaderMap,
    req: Request,
) -> Result<(Params, Option<Media>), Fail> {
    let mut p = query(&q);
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_big = || {
        Fail::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is too large (at most {} MiB of media)",
                PHOTO_MAX_BYTES / 1024 / 1024
            ),
        )
    };
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, s)
            .await
            .map_err(|e| Fail::bad(format!("the multipart body is not readable: {e}")))?;
        let mut media = None;
        let mut fields = 0;
        while let Some(field) = mp.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_big()
            } else {
                Fail::bad(format!("the multipart body is not readable: {e}"))
            }
        })? {
            fields += 1;
            if fields > 200 {
                return Err(Fail::bad("too many fields (at most 200)"));
            }
            let name = field.name().unwrap_or("").to_owned();
            if name == "media" {
                let ct = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                let data = field.bytes().await.map_err(|_| too_big())?;
                if media.is_some() {
                    return Err(Fail::bad("media: send one photo"));
                }
                media = Some((ct, data));
            } else {
                let text = field
                    .text()
                    .await
                    .map_err(|e| Fail::bad(format!("{name}: not readable as text: {e}")))?;
                p.0.push((name, text));
            }
        }
        Ok((p, media))
    } else {
        let body = axum::body::to_bytes(req.into_body(), gongzhi_core::media::body_limit(crate::media::PHOTO))
            .await
            .map_err(|_| too_big())?;
        if !body.is_empty() && !ct.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(Fail::bad(format!(
                "send the request as application/x-www-form-urlencoded or multipart/form-data, not '{ct}'"
            )));
        }
        p.0.extend(Params::parse(&body).0);
        Ok((p, None))
    }
}

/// A bearer token in the Authorization header (never a session cookie: a cross-site form must
/// not report as whoever is logged in).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The person an `api_key` (or a bearer token) stands for, in `city`.
async fn client(s: &AppState, city: CityCode, p: &Params, headers: &HeaderMap) -> Result<Principal, Fail> {
    let key = p.get("api_key").map(str::to_owned).or_else(|| bearer(headers));
    Ok(service::client(s, city, key.as_deref()).await?)
}

fn number(p: &Params, key: &str) -> Result<Option<f64>, Fail> {
    p.get(key)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| Fail::bad(format!("{key}: '{v}' is not a number")))
        })
        .transpose()
}

/// Where the request is: (lng, lat, crs).
async fn location(s: &AppState, city: CityCode, p: &Params) -> Result<(f64, f64, String), Fail> {
    let crs = p.get("crs").unwrap_or("wgs84").to_owned();
    match (number(p, "lat")?, number(p, "long")?) {
        (Some(lat), Some(lng)) => {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
                return Err(Fail::bad(format!("lat/long: ({lat}, {lng}) is not a place on earth")));
            }
            return Ok((lng, lat, crs));
        }
        (Some(_), None) => return Err(Fail::bad("long is required with lat")),
        (None, Some(_)) => return Err(Fail::bad("lat is required with long")),
        (None, None) => {}
    }
    let grid_point = |code: String| async move {
        let (lng, lat) = service::grid_point(s, city, &code).await.map_err(Fail::from)?;
        Ok::<_, Fail>((lng, lat, "wgs84".to_owned()))
    };
    if let Some(id) = p.get("address_id") {
        return grid_point(id.to_owned())
            .await
            .map_err(|e| Fail::bad(format!("address_id: {}", e.description)));
    }
    if let Some(text) = p.get("address_string") {
        return match o311::parse_address_string(text)? {
            o311::Address::Point { lng, lat } => Ok((lng, lat, crs)),
            o311::Address::Grid(code) => grid_point(code)
                .await
                .map_err(|e| Fail::bad(format!("address_string: {}", e.description))),
        };
    }
    Err(Fail::bad(
        "a location is required: lat and long, address_id (a grid code) or address_string \
         (containing a grid code or lng,lat)",
    ))
}

fn short(p: &Params, key: &str, max: usize) -> Result<Option<String>, Fail> {
    match p.get(key) {
        Some(v) if v.chars().count() > max || v.contains(['\n', '\r']) => {
            Err(Fail::bad(format!("{key}: at most {max} characters on one line")))
        }
        v => Ok(v.map(str::to_owned)),
    }
}

/// A mobile number from what a client sends (`+86 138-0000-1111` …).
fn mobile(phone: &str) -> Result<String, Fail> {
    let digits: String = phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits)
        .to_owned();
    gongzhi_core::org::check_phone(&digits).map_err(|_| {
        Fail::bad(format!(
            "phone: '{phone}' is not a mobile number (11 digits starting with 1, optionally +86)"
        ))
    })?;
    Ok(digits)
}

/// The reporter's name from first_name and last_name (姓 last_name before 名 first_name in Chinese).
fn person_name(first: Option<String>, last: Option<String>) -> Option<String> {
    let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    match (first, last) {
        (Some(f), Some(l)) if cjk(&f) || cjk(&l) => Some(format!("{l}{f}")),
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => f.or(l),
    }
}

async fn create(s: &AppState, q: Option<String>, headers: &HeaderMap, req: Request, fmt: Format) -> Answer {
    let (p, media) = read_post(s, q, headers, req).await?;
    let city = jurisdiction(s, &p).await?;
    let who = client(s, city, &p, headers).await?;
    let Some(raw) = headers.get(crate::idempotency::HEADER) else {
        return create_as(s, city, &who, p, media, fmt).await;
    };
    // Idempotency-Key, as on the JSON API: a retry with the same key and parameters is answered
    // what the first request was, and makes no second case.
    let raw = raw
        .to_str()
        .map_err(|_| Fail::bad("Idempotency-Key: use visible ASCII characters, e.g. a UUID"))?;
    let mut request = Vec::new();
    for (k, v) in &p.0 {
        request.extend_from_slice(k.as_bytes());
        request.push(0);
        request.extend_from_slice(v.as_bytes());
        request.push(0);
    }
    if let Some((ct, data)) = &media {
        request.extend_from_slice(ct.as_bytes());
        request.push(0);
        request.extend_from_slice(data);
    }
    let path = format!("/open311/v2/requests.{fmt:?}");
    let key = gongzhi_app::idempotency::key(&who, raw, "POST", &path, "open311", &request)?;
    let fail = |e: ApiError| Fail::new(e.status, e.body.message);
    match gongzhi_app::idempotency::recall(s, &key).await? {
        gongzhi_store::Recalled::New => {}
        other => return crate::idempotency::replay(other).map_err(fail),
    }
    let (answer, record) = gongzhi_app::idempotency::keyed(key.clone(), create_as(s, city, &who, p, media, fmt)).await;
    match record {
        Some(_) => Ok(crate::idempotency::keep(s, &key, answer?).await),
        None => answer,
    }
}

/// Take in a request's parameters as `who`.
async fn create_as(
    s: &AppState,
    city: CityCode,
    who: &Principal,
    p: Params,
    media: Option<Media>,
    fmt: Format,
) -> Answer {
    let code = p
        .get("service_code")
        .ok_or_else(|| Fail::bad("service_code is required; see services.xml"))?
        .to_owned();
    let cat = loop_::catalogue(s, city).await?;
    let (category, condition) = cat
        .condition(&code)
        .ok_or_else(|| Fail::not_found(format!("service_code '{code}' is not a service; see services.{fmt}")))?;
    let (lng, lat, crs) = location(s, city, &p).await?;
    if let Some(k) = p.unknown_attribute_keys() {
        return Err(Fail::bad(format!(
            "'{k}' is not an attribute key: use attribute[code] or attribute[code][]"
        )));
    }
    let defs = o311::attributes_for(category.kind, condition);
    let answers = o311::validate_attributes(&defs, &p.attributes(), gongzhi_app::now_ms())?;
    let mut description = p
        .get("description")
        .map(str::to_owned)
        .unwrap_or_else(|| o311::service_name(category, condition));
    if !answers.is_empty() {
        description = format!("{description}\n{}", o311::summary(&answers));
    }
    if description.chars().count() > o311::MAX_DESCRIPTION {
        return Err(Fail::bad(format!(
            "description: at most {} characters (attributes included)",
            o311::MAX_DESCRIPTION
        )));
    }
    let name = person_name(short(&p, "first_name", 50)?, short(&p, "last_name", 50)?);
    let phone = p.get("phone").map(mobile).transpose()?;
    let email = short(&p, "email", 254)?;
    if let Some(e) = &email {
        if !e.contains('@') || e.starts_with('@') || e.ends_with('@') {
            return Err(Fail::bad(format!("email: '{e}' is not an e-mail address")));
        }
    }
    let media_url = short(&p, "media_url", 2000)?;
    if let Some(u) = &media_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(Fail::bad("media_url: give an http:// or https:// URL"));
        }
    }
    // The one media policy: the type from the bytes (415 otherwise), 5 MiB, EXIF stripped.
    let media = match &media {
        Some((ct, data)) => Some(crate::media::check(crate::media::PHOTO, ct, data).map_err(|e| {
            let status = if e.status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::BAD_REQUEST
            } else {
                e.status
            };
            Fail::new(status, format!("media: {}", e.body.message))
        })?),
        None => None,
    };
    let device_id = short(&p, "device_id", 128)?;
    let account_id = short(&p, "account_id", 128)?;
    let report = Report {
        condition: code.clone(),
        category: None,
        description,
        lng,
        lat,
        crs: Some(crs),
        source: Some(CaseSource::Api.as_str().into()),
        contact_name: name,
        contact_phone: phone,
        register: false,
    };
    let token = new_token();
    let new = service::NewRequest {
        report,
        photo: media,
        request: service::Open311Request {
            token: token.clone(),
            service_code: code,
            attributes: o311::answers_json(&answers, &defs),
            email,
            device_id,
            account_id: account_id.clone(),
            media_url,
            photo_id: None,
        },
    };
    let (id, dups) = service::create(s, who, new).await?;
    let mut notice = o311::service_notice(condition);
    if !dups.is_empty() {
        let ids: Vec<String> = dups.iter().map(|d| d.id.to_string()).collect();
        notice = format!(
            "{notice}；附近有相似请求 {} (possible duplicates nearby)",
            ids.join(", ")
        );
    }
    let doc = V::List(
        "request",
        vec![V::Obj(vec![
            ("service_request_id", V::Int(id)),
            ("token", V::Str(token)),
            ("service_notice", V::Str(notice)),
            ("account_id", V::opt(account_id)),
        ])],
    );
    Ok(render(fmt, StatusCode::CREATED, "service_requests", &doc))
}
