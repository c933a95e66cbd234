//! Server-rendered HTML pages (askama templates), Simplified Chinese by default, English on request
//! (`?lang=en`, remembered in a cookie). Maps are SVG drawn here; no external tiles or scripts.

pub mod cases;
pub mod dashboard;
pub mod flat;
pub mod gridteam;
mod i18n;
pub mod initiatives;
pub mod privacy;
pub mod regen;
pub mod renewal_needs;
pub mod renewal_votes;
pub mod renewal_works;
mod svg;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{self, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_app::ErrorKind;
use gongzhi_core::access::Principal;
use gongzhi_core::territory::Level;

use gongzhi_store::TokenKind;
use serde::Deserialize;

pub use i18n::Lang;

/// Every table of UI texts: the shared one, then one per feature, kept beside its pages (each
/// sorted by key; a key lives in one table only). Handed to [`i18n::lookup`] from here, so the
/// feature modules and `i18n` do not import each other in a circle.
const TEXT_TABLES: &[i18n::Texts] = &[
    i18n::TEXTS,
    initiatives::TEXTS,
    flat::TEXTS,
    regen::TEXTS,
    gridteam::TEXTS,
    renewal_needs::TEXTS,
    renewal_votes::TEXTS,
    renewal_works::TEXTS,
    dashboard::TEXTS,
    privacy::TEXTS,
];

use crate::api::territory::{city_of, DivisionView};
use crate::auth::{self, MaybeAuth, SESSION_COOKIE};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/divisions/{code}", get(division_page))
        .route("/grids/{code}", get(grid_page))
        .route("/privacy/reads", get(privacy::reads))
        .route("/grids/{code}/team", get(gridteam::team_page))
        .route("/grids/{code}/team/needs", post(gridteam::need_submit))
        .route("/grids/{code}/team/confirm", post(gridteam::confirm_submit))
        .route("/grids/{code}/team/patrols", post(gridteam::patrol_submit))
        .route("/work", get(cases::work))
        .route("/cases/new", get(cases::new_case_form).post(cases::new_case_submit))
        .route("/cases/{id}", get(cases::case_page))
        .route("/cases/{id}/step", post(cases::case_step))
        .route("/cases/{id}/photo", post(cases::case_photo).layer(photo_body_limit()))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard.csv", get(dashboard::dashboard_csv))
        .route("/dashboard.xlsx", get(dashboard::dashboard_xlsx))
        .route("/map", get(dashboard::map_page))
        .route("/initiatives", get(initiatives::list))
        .route("/initiatives/{id}", get(initiatives::workspace))
        .route("/initiatives/{id}/public", get(initiatives::public))
        .route("/initiatives/{id}/step", post(initiatives::step))
        .route(
            "/initiatives/{id}/photo",
            post(initiatives::photo).layer(photo_body_limit()),
        )
        .route("/flat", get(flat::workload_page))
        .route("/flat/lists", get(flat::lists_page))
        .route("/flat/replay", get(flat::replay_page))
        .route("/regen/{code}", get(regen::dashboard))
        .route("/regen/{code}/public", get(regen::public_page))
        .route("/regen/{code}/resources", get(regen::resources_page))
        .route("/regen/{code}/holders/{holder}", get(regen::holder_page))
        .route("/regen/{code}/holders/{holder}/decision", post(regen::decision_submit))
        .route("/regen/{code}/holders/{holder}/contact", post(regen::contact_submit))
        .route(
            "/renewal/{community}/proposals",
            get(renewal_votes::hub).post(renewal_votes::create_submit),
        )
        .route("/renewal/{community}/proposals/{id}", get(renewal_votes::proposal_page))
        .route(
            "/renewal/{community}/proposals/{id}/amend",
            post(renewal_votes::amend_submit),
        )
        .route(
            "/renewal/{community}/proposals/{id}/comments",
            post(renewal_votes::comment_submit),
        )
        .route(
            "/renewal/{community}/proposals/{id}/amendments/{amendment}/answer",
            post(renewal_votes::answer_submit),
        )
        .route(
            "/renewal/{community}/council",
            get(renewal_votes::council_page).post(renewal_votes::council_submit),
        )
        .route("/renewal/{community}/votes", post(renewal_votes::setup_submit))
        .route("/renewal/{community}/votes/{id}", get(renewal_votes::vote_page))
        .route(
            "/renewal/{community}/votes/{id}/ballot",
            post(renewal_votes::ballot_submit),
        )
        .route(
            "/renewal/{community}/votes/{id}/paper",
            post(renewal_votes::paper_submit),
        )
        .route(
            "/renewal/{community}/votes/{id}/paper/{receipt}/confirm",
            post(renewal_votes::confirm_submit),
        )
        .route(
            "/renewal/{community}/votes/{id}/close",
            post(renewal_votes::close_submit),
        )
        .route(
            "/renewal/{community}/votes/{id}/results",
            get(renewal_votes::results_page),
        )
        .route(
            "/renewal/{community}/votes/{id}/deliveries",
            post(renewal_votes::deliver_submit),
        )
        .route(
            "/renewal/{community}/works",
            get(renewal_works::works_page).post(renewal_works::works_submit),
        )
        .route("/renewal/{community}/bundles/{id}", get(renewal_works::bundle_page))
        .route(
            "/renewal/{community}/deliveries/{id}",
            get(renewal_works::delivery_page).post(renewal_works::delivery_submit),
        )
        .route(
            "/renewal/{community}/deliveries/{id}/milestones/{milestone}/photos",
            post(renewal_works::photo_submit).layer(photo_body_limit()),
        )
        .route(
            "/renewal/{community}/needs",
            get(renewal_needs::needs_page)
                .post(renewal_needs::raise_submit)
                .layer(photo_body_limit()),
        )
        .route("/renewal/{community}/clusters", get(renewal_needs::clusters_page))
        .route(
            "/renewal/{community}/clusters/refresh",
            post(renewal_needs::refresh_submit),
        )
        .route("/renewal/clusters/{id}/{action}", post(renewal_needs::cluster_step))
        .route("/renewal/needs/{id}/evidence", post(renewal_needs::evidence_submit))
        .route("/renewal/needs/{id}/photos/{photo}", get(renewal_needs::photo))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
}

/// The body limit of a page form that uploads a photo: the one size table's (photo 5 MiB) plus
/// the form's overhead.
fn photo_body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(gongzhi_core::media::body_limit(crate::media::PHOTO))
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../assets/style.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../assets/app.js"),
    )
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// An error on a page: the API's error, shown as a small HTML page (in both languages) with the
/// same status, never as JSON.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (zh, en) = match self.0.status.as_u16() {
            401 => ("请先登录", "Please log in"),
            403 => ("无权查看", "Not allowed"),
            404 => ("找不到页面", "Not found"),
            409 => ("操作冲突", "Conflict"),
            422 => ("输入有误", "Invalid input"),
            _ => ("出错了", "Something went wrong"),
        };
        let body = format!(
            r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{zh} · 共治</title><link rel="stylesheet" href="/assets/style.css"></head><body><main><h1>{zh} <small>{en}</small></h1><p class="error" role="alert">{}</p><p><a href="/">首页 Home</a> · <a href="/work">工作台 My work</a></p></main></body></html>"#,
            svg::esc(&self.0.body.message)
        );
        (self.0.status, Html(body)).into_response()
    }
}

/// A page for logged-in people: the principal and the page chrome, or a redirect to the login
/// page that comes back here afterwards.
pub struct LoggedIn {
    pub p: Principal,
    pub c: Chrome,
}

impl axum::extract::FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let MaybeAuth(user) = MaybeAuth::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let path = parts.uri.path().to_owned();
        let Some(p) = user.clone() else {
            return Err(cases::login_first(&path));
        };
        let lang = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
            .map(str::to_owned);
        let c = Chrome::new(&parts.headers, &LangQuery { lang }, user, &path);
        Ok(LoggedIn { p, c })
    }
}

/// What every page's layout needs.
pub struct Chrome {
    pub lang: Lang,
    pub user: Option<Principal>,
    /// Path of this page, for the language switch.
    pub path: String,
    set_lang_cookie: bool,
}

impl Chrome {
    pub fn new(headers: &HeaderMap, q: &LangQuery, user: Option<Principal>, path: &str) -> Chrome {
        let (lang, set) = i18n::negotiate(headers, q.lang.as_deref());
        Chrome {
            lang,
            user,
            path: path.to_owned(),
            set_lang_cookie: set,
        }
    }
    pub fn t(&self, key: &str) -> &'static str {
        text(self.lang, key)
    }
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }
    /// The dashboard this user may open: the city's for staff, their unit's for departments.
    pub fn dashboard_link(&self) -> Option<String> {
        Some(match gongzhi_app::cases::home_indicators(self.user.as_ref()?)? {
            ("area", Some(key)) => format!("/dashboard?key={key}"),
            ("area", None) => "/dashboard".to_owned(),
            (dim, key) => format!("/dashboard?dim={dim}&key={}", key.unwrap_or_default()),
        })
    }

    /// Whether to show the log of reads of personal data (data-protection officers).
    pub fn privacy_link(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.may(gongzhi_core::access::Permission::AuditPersonalData, u.city.as_str()))
    }

    /// Whether to show the flat-governance pages (staff of the closed loop).
    pub fn flat_link(&self) -> bool {
        self.user.as_ref().is_some_and(gongzhi_app::flat::may_open)
    }

    pub fn user_name(&self) -> &str {
        self.user.as_ref().map(|u| u.name.as_str()).unwrap_or("")
    }
    pub fn roles(&self) -> String {
        let Some(u) = &self.user else { return String::new() };
        let mut rs: Vec<&str> = u.grants.iter().map(|g| g.role.label(self.lang)).collect();
        rs.dedup();
        rs.join(" · ")
    }
}

/// A stored word read back as text (a role, a state kept as a string): its label in `lang`, or
/// the word itself when it is not one of the enum's words.
pub(crate) fn word_label<T: gongzhi_core::lang::Labelled + std::str::FromStr>(lang: Lang, word: &str) -> String {
    word.parse::<T>()
        .map(|v| v.label(lang).to_owned())
        .unwrap_or_else(|_| word.to_owned())
}

/// The UI text of `key` in `lang`.
pub fn text(lang: Lang, key: &str) -> &'static str {
    i18n::lookup(TEXT_TABLES, lang, key)
}

fn render(chrome: &Chrome, t: &impl Template) -> Result<Response, PageError> {
    let body = t.render().map_err(|e| {
        tracing::error!(error = %e, "template failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "page rendering failed",
        )
    })?;
    let mut resp = Html(body).into_response();
    if chrome.set_lang_cookie {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", chrome.lang.code());
        resp.headers_mut()
            .append(header::SET_COOKIE, cookie.parse().expect("valid cookie"));
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    city: Option<DivisionView>,
    counts: Vec<(String, i64)>,
    grids: i64,
    districts: Vec<DivisionView>,
    hierarchy: String,
}

async fn home(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &q, user, "/");
    let city = city_of(&s, c.user.as_ref());
    let summary = gongzhi_app::territory::city_summary(&s, city).await?;
    let h = summary.hierarchy;
    let page = HomePage {
        city: summary.city.as_ref().map(DivisionView::from),
        counts: summary
            .counts
            .into_iter()
            .map(|(l, n)| (level_name(&c, l), n))
            .collect(),
        grids: summary.grids,
        districts: summary.districts.iter().map(DivisionView::from).collect(),
        hierarchy: h
            .levels()
            .iter()
            .map(|l| level_name(&c, *l))
            .collect::<Vec<_>>()
            .join(" → "),
        c,
    };
    render(&page.c, &page)
}

fn level_name(c: &Chrome, l: Level) -> String {
    l.label(c.lang).to_owned()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    username: String,
    error: Option<&'static str>,
    next: String,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    lang: Option<String>,
    next: Option<String>,
}

async fn login_form(
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &LangQuery { lang: q.lang }, user, "/login");
    let page = LoginPage {
        c,
        username: String::new(),
        error: None,
        next: next_path(q.next.as_deref()),
    };
    render(&page.c, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Where to go after logging in: a path on this site only, never another site. Browsers read a
/// backslash as a slash and skip tabs and newlines, so `/\\evil.example/` or `/\t/evil.example`
/// would lead away as `//evil.example` does: anything but a plain local path goes to the work list.
fn next_path(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            n.to_owned()
        }
        _ => "/work".to_owned(),
    }
}

#[cfg(test)]
mod next_path_tests {
    use super::next_path;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        for ok in ["/work", "/cases/12?lang=en", "/grids/510104017001001/team"] {
            assert_eq!(next_path(Some(ok)), ok);
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "/\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " /evil",
            "https://evil.example/",
            "evil.example",
            "",
        ] {
            assert_eq!(next_path(Some(bad)), "/work", "{bad:?}");
        }
        assert_eq!(next_path(None), "/work");
    }
}

/// `; Secure` when the person reached us over HTTPS (see [`crate::headers::over_https`]): the
/// session cookie then never travels in clear text.
fn secure_attribute(headers: &HeaderMap) -> &'static str {
    if crate::headers::over_https(headers) {
        "; Secure"
    } else {
        ""
    }
}

async fn login_submit(
    State(s): State<AppState>,
    auth::ClientIp(client): auth::ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    match auth::login(&s, &f.username, &f.password, TokenKind::Session, client).await {
        Ok((token, _)) => {
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
                auth::TOKEN_TTL_MS / 1000,
                secure_attribute(&headers)
            );
            let mut resp = Redirect::to(&next_path(f.next.as_deref())).into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, cookie.parse().expect("valid cookie"));
            Ok(resp)
        }
        Err(e) if matches!(e.kind, ErrorKind::Unauthorized | ErrorKind::TooManyRequests) => {
            let locked = e.kind == ErrorKind::TooManyRequests;
            let c = Chrome::new(&headers, &LangQuery::default(), None, "/login");
            let page = LoginPage {
                error: Some(c.t(if locked { "login_locked" } else { "bad_credentials" })),
                username: f.username,
                next: next_path(f.next.as_deref()),
                c,
            };
            let mut resp = render(&page.c, &page)?;
            *resp.status_mut() = if locked {
                axum::http::StatusCode::TOO_MANY_REQUESTS
            } else {
                axum::http::StatusCode::UNAUTHORIZED
            };
            if let Some(secs) = e.retry_after.filter(|_| locked) {
                resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    if let Some(token) = auth::token_of(&headers) {
        gongzhi_app::auth::logout(&s, &token).await?;
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            secure_attribute(&headers)
        )
        .parse()
        .expect("valid cookie"),
    );
    Ok(resp)
}

/// A grid in a community's table; counts only for those who may see them.
struct GridRow {
    code: String,
    name: String,
    counts: Option<(u32, u32)>,
}

#[derive(Template)]
#[template(path = "division.html")]
struct DivisionPage {
    c: Chrome,
    division: DivisionView,
    level: String,
    ancestry: Vec<DivisionView>,
    children: Vec<DivisionView>,
    grids: Vec<GridRow>,
    map: String,
}

async fn division_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &q, user, &format!("/divisions/{code}"));
    let city = city_of(&s, c.user.as_ref());
    let d = gongzhi_app::territory::division(&s, city, &code).await?;
    let ancestry = gongzhi_app::territory::ancestry(&s, city, &code).await?;
    let children = gongzhi_app::territory::children(&s, city, Some(&code)).await?;
    let (grid_rows, map) = if d.level == Level::Community {
        let grids = gongzhi_app::territory::grids_within(&s, city, Some(&code), 1000).await?;
        let rows = grids
            .iter()
            .map(|g| {
                let detail = gongzhi_app::territory::may_see_grid_details(c.user.as_ref(), g.code.as_str());
                GridRow {
                    code: g.code.to_string(),
                    name: g.name.clone(),
                    counts: detail.then_some((g.households, g.population)),
                }
            })
            .collect();
        let shapes: Vec<svg::Shape> = grids
            .iter()
            .map(|g| svg::Shape {
                href: format!("/grids/{}", g.code),
                label: g.name.clone(),
                geometry: g.geometry.clone(),
                class: None,
            })
            .collect();
        (rows, svg::map(&shapes))
    } else {
        let shapes: Vec<svg::Shape> = gongzhi_app::territory::map_parts(&s, city, &d)
            .await?
            .into_iter()
            .map(|part| svg::Shape {
                href: format!("/divisions/{}", part.code),
                label: part.name,
                geometry: part.geometry,
                class: None,
            })
            .collect();
        (Vec::new(), svg::map(&shapes))
    };
    let page = DivisionPage {
        level: level_name(&c, d.level),
        division: (&d).into(),
        ancestry: ancestry
            .iter()
            .filter(|a| a.code != d.code)
            .map(DivisionView::from)
            .collect(),
        children: children.iter().map(DivisionView::from).collect(),
        grids: grid_rows,
        map,
        c,
    };
    render(&page.c, &page)
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    c: Chrome,
    code: String,
    name: String,
    kind: String,
    ancestry: Vec<DivisionView>,
    detail: Option<(u32, u32)>,
    map: String,
}

async fn grid_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &q, user, &format!("/grids/{code}"));
    let city = city_of(&s, c.user.as_ref());
    let g = gongzhi_app::territory::grid(&s, city, &code).await?;
    let detail = gongzhi_app::territory::may_see_grid_details(c.user.as_ref(), g.code.as_str());
    let page = GridPage {
        code: g.code.to_string(),
        name: g.name.clone(),
        kind: c
            .t(if g.code.is_micro() { "micro_grid" } else { "unit_grid" })
            .to_owned(),
        ancestry: gongzhi_app::territory::ancestry(&s, city, g.community.as_str())
            .await?
            .iter()
            .map(DivisionView::from)
            .collect(),
        detail: detail.then_some((g.households, g.population)),
        map: svg::map(&[svg::Shape {
            href: String::new(),
            label: g.name.clone(),
            geometry: g.geometry.clone(),
            class: None,
        }]),
        c,
    };
    render(&page.c, &page)
}

#[cfg(test)]
mod text_tests {
    use super::*;

    /// Every text looked up with a literal key (`c.t(` and the key in quotes) in the templates
    /// and the page modules, with where it is used.
    fn keys_used() -> Vec<(String, String)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![
            std::path::PathBuf::from(format!("{root}/templates")),
            std::path::PathBuf::from(format!("{root}/src/pages")),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable directory") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "html" || e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut used = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("readable file");
            for (at, _) in text.match_indices("t(\"") {
                // `t("` as a call (`c.t(`, `lang.t(`, a bare `t(`), not the end of another name.
                if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + 3..];
                let Some(end) = rest.find('"') else { continue };
                let key = &rest[..end];
                if !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    used.push((key.to_owned(), path.display().to_string()));
                }
            }
        }
        used
    }

    #[test]
    fn text_tables_are_sorted_and_keys_unique() {
        for table in TEXT_TABLES {
            assert!(
                table.windows(2).all(|w| w[0].0 < w[1].0),
                "keep each text table sorted by key (near '{}')",
                table
                    .windows(2)
                    .find(|w| w[0].0 >= w[1].0)
                    .map(|w| w[1].0)
                    .unwrap_or_default()
            );
        }
        let mut keys: Vec<&str> = TEXT_TABLES.iter().flat_map(|t| t.iter().map(|(k, _, _)| *k)).collect();
        let all = keys.len();
        keys.sort_unstable();
        let mut dup = keys.clone();
        dup.dedup();
        let twice: Vec<&&str> = keys.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
        assert_eq!(dup.len(), all, "text keys defined in two tables: {twice:?}");
        for (key, zh, en) in TEXT_TABLES.iter().flat_map(|t| t.iter()) {
            assert!(
                !zh.trim().is_empty() && !en.trim().is_empty(),
                "'{key}' lacks a language"
            );
        }
        assert_eq!(text(Lang::Zh, "login"), "登录");
        assert_eq!(text(Lang::En, "login"), "Log in");
    }

    #[test]
    fn every_text_key_used_exists_in_both_languages() {
        let used = keys_used();
        assert!(used.len() > 300, "the scan found only {} uses", used.len());
        let missing: Vec<String> = used
            .iter()
            .filter(|(key, _)| {
                !TEXT_TABLES
                    .iter()
                    .any(|t| t.iter().any(|(k, zh, en)| k == key && !zh.is_empty() && !en.is_empty()))
            })
            .map(|(key, file)| format!("{key} ({file})"))
            .collect();
        assert!(missing.is_empty(), "text keys used but not defined: {missing:#?}");
    }

    /// Every value of every enum has a Chinese and an English label, and the English ones are
    /// English (the core checks more; this is the web's side of the contract).
    #[test]
    fn every_enum_label_has_english() {
        for (name, rows) in gongzhi_core::lang::every_label() {
            for (word, zh, en) in rows {
                assert!(!zh.is_empty() && !en.is_empty(), "{name}::{word}");
                assert!(en.is_ascii() && !en.contains('_'), "{name}::{word}: '{en}'");
            }
        }
    }
}
