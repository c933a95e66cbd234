//! Pages of the case closed loop: each role's work list, the report form, the case page with the
//! steps the viewer may take, all through the same calls as the JSON API.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::cases::{CaseQuery, CaseRow};
use gongzhi_core::access::Principal;
use gongzhi_core::case::{ActionKind, CaseState, Satisfaction};
use gongzhi_core::ids::CaseId;
use gongzhi_core::org::Role;
use gongzhi_core::territory::CityCode;
use serde::Deserialize;

use super::{render, svg, word_label, Chrome, Lang, LoggedIn, PageError};
use crate::{ApiError, AppState};
use gongzhi_app::cases::{self as loop_, Duplicate, Report};
use gongzhi_app::cases::{build_action, case_detail, event_zh, CaseDetail};

/// Pages that need a login redirect to it, and come back afterwards.
pub fn login_first(path: &str) -> Response {
    Redirect::to(&format!("/login?next={}", urlencode(path))).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A case in a list.
pub struct CaseItem {
    pub id: i64,
    pub state: String,
    pub description: String,
    pub category: String,
    pub unit: String,
    pub deadline: String,
    pub overdue: bool,
    pub created: String,
}

pub fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&gongzhi_core::calendar::china_time())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn state_name(lang: Lang, s: CaseState) -> String {
    s.label(lang).to_owned()
}

fn action_name(lang: Lang, a: ActionKind) -> String {
    a.label(lang).to_owned()
}

/// The English name of a timeline event (the Chinese: [`event_zh`]).
fn event_en(kind: &str) -> &'static str {
    match kind {
        "collected" => "Reported",
        "registered" => "Registered",
        "voided" => "Voided",
        "dispatched" => "Dispatched",
        "routed" => "Dispatched level by level",
        "forwarded" => "Forwarded",
        "accepted" => "Accepted",
        "returned" => "Returned",
        "return_rejected" => "Return refused",
        "extension_requested" => "Extension requested",
        "extension_approved" => "Extension approved",
        "extension_denied" => "Extension denied",
        "suspended" => "Suspended",
        "resumed" => "Handling resumed",
        "handling_reported" => "Handling reported",
        "verification_passed" => "Verification passed",
        "verification_failed" => "Verification failed (rework)",
        "closed" => "Closed",
        "followed_up" => "Followed up",
        "whistled" => "Whistle blown",
        "unit_reported" => "Reported in",
        "supervised" => "Supervised",
        "merged_into" => "Merged into",
        "duplicate_merged" => "Duplicate absorbed",
        _ => "",
    }
}

/// The name of a timeline event in `lang`; its stored word if it has no name.
fn event_name(lang: Lang, kind: &str) -> String {
    match lang.pick(event_zh(kind), event_en(kind)) {
        "" => kind.to_owned(),
        name => name.to_owned(),
    }
}

fn item(lang: Lang, cat: &gongzhi_core::catalogue::Catalogue, r: &CaseRow) -> CaseItem {
    let now = gongzhi_app::now_ms();
    CaseItem {
        id: r.case.id.0,
        state: state_name(lang, r.case.state),
        description: r.case.description.chars().take(60).collect(),
        category: cat
            .category(&r.case.category)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| r.case.category.clone()),
        unit: r.case.unit_name.clone().unwrap_or_default(),
        deadline: r.case.deadline_ms.map(local_time).unwrap_or_default(),
        overdue: r.case.state.is_open() && r.case.deadline_ms.is_some_and(|d| d < now),
        created: local_time(r.created_at),
    }
}

/// One section of a work list.
pub struct Section {
    pub title: String,
    pub items: Vec<CaseItem>,
    pub total: i64,
}

async fn section(
    s: &AppState,
    p: &Principal,
    c: &Chrome,
    cat: &gongzhi_core::catalogue::Catalogue,
    key: &str,
    states: &[CaseState],
    keep: impl Fn(&CaseRow) -> bool,
) -> Result<Section, ApiError> {
    let q = CaseQuery {
        states: states.to_vec(),
        page: 1,
        page_size: 50,
        ..Default::default()
    };
    let (rows, total) = loop_::list(s, p, q).await?;
    let items: Vec<CaseItem> = rows.iter().filter(|r| keep(r)).map(|r| item(c.lang, cat, r)).collect();
    Ok(Section {
        title: c.t(key).to_owned(),
        total: total.min(items.len() as i64).max(items.len() as i64),
        items,
    })
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    c: Chrome,
    sections: Vec<Section>,
    can_report: bool,
}

/// Each role's work: what waits for them.
pub async fn work(State(s): State<AppState>, LoggedIn { p, c }: LoggedIn) -> Result<Response, PageError> {
    let cat = loop_::catalogue(&s, p.city).await?;
    use CaseState as S;
    let mut sections = Vec::new();
    let roles: Vec<Role> = p.grants.iter().map(|g| g.role).collect();
    let me = p.person_id;
    for role in roles {
        let sec = match role {
            Role::Resident => section(&s, &p, &c, &cat, "my_reports", &[], |r| r.reporter == Some(me.0)).await?,
            Role::GridWorker | Role::GridHead => {
                section(&s, &p, &c, &cat, "to_verify", &[S::Reported], |_| true).await?
            }
            Role::Acceptor => section(&s, &p, &c, &cat, "to_follow_up", &[S::Closed], |_| true).await?,
            Role::Dispatcher => {
                section(&s, &p, &c, &cat, "to_dispatch", &[S::Registered, S::Returned], |_| true).await?
            }
            Role::ShiftLeader => {
                sections.push(section(&s, &p, &c, &cat, "to_register", &[S::Collected], |_| true).await?);
                sections.push(
                    section(&s, &p, &c, &cat, "extension_requests", &[S::Handling], |r| {
                        r.case.extension_pending.is_some()
                    })
                    .await?,
                );
                section(&s, &p, &c, &cat, "to_close", &[S::Verified], |_| true).await?
            }
            Role::DepartmentHandler => {
                sections.push(section(&s, &p, &c, &cat, "to_accept", &[S::Dispatched], |_| true).await?);
                section(&s, &p, &c, &cat, "in_hand", &[S::Handling], |_| true).await?
            }
            // The data-protection officer's work is the log of reads (in the navigation).
            Role::DataProtectionOfficer => continue,
            Role::Analyst | Role::Admin | Role::CommunityPlanner => {
                let q = CaseQuery {
                    overdue_at: Some(gongzhi_app::now_ms()),
                    page: 1,
                    page_size: 50,
                    ..Default::default()
                };
                let (rows, total) = loop_::list(&s, &p, q).await?;
                Section {
                    title: c.t("overdue_cases").to_owned(),
                    items: rows.iter().map(|r| item(c.lang, &cat, r)).collect(),
                    total,
                }
            }
        };
        sections.push(sec);
    }
    let can_report = loop_::may_report(&p);
    let page = WorkPage {
        c,
        sections,
        can_report,
    };
    render(&page.c, &page)
}

/// A group of filing conditions for the category picker.
pub struct ConditionGroup {
    pub label: String,
    pub options: Vec<(String, String)>,
}

fn condition_groups(cat: &gongzhi_core::catalogue::Catalogue, lang: Lang) -> Vec<ConditionGroup> {
    let mut groups: Vec<ConditionGroup> = Vec::new();
    for (category, cond) in cat.conditions() {
        let label = match lang {
            Lang::Zh | Lang::En => format!("{} · {}", category.kind.label(lang), category.major_name),
        };
        let option = (cond.code.clone(), format!("{}：{}", category.name, cond.text));
        match groups.last_mut() {
            Some(g) if g.label == label => g.options.push(option),
            _ => groups.push(ConditionGroup {
                label,
                options: vec![option],
            }),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewCasePage {
    c: Chrome,
    groups: Vec<ConditionGroup>,
    form: ReportForm,
    errors: Vec<(String, String)>,
    duplicates: Vec<Duplicate>,
    map: String,
    staff: bool,
}

impl NewCasePage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
    /// A duplicate's state (its stored word) in the page's language.
    fn state_label(&self, word: &str) -> String {
        word_label::<CaseState>(self.c.lang, word)
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ReportForm {
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub lng: String,
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub crs: String,
    /// A place name (grid, community or street) when no coordinates are given.
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub register: Option<String>,
    /// Set when the reporter saw the possible duplicates and still reports.
    #[serde(default)]
    pub confirm_new: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

async fn area_map(s: &AppState, p: &Principal) -> Result<String, ApiError> {
    // The reporter's own area: their first grid or community; the first demo community otherwise.
    let within = p.grants.iter().find_map(|g| match &g.scope {
        gongzhi_core::access::Scope::Grids(gs) => gs.first().map(|g| g[..12].to_owned()),
        gongzhi_core::access::Scope::Division(d) if d.as_str().len() >= 9 => Some(d.to_string()),
        _ => None,
    });
    let grids = gongzhi_app::territory::grids_within(s, p.city, within.as_deref(), 200).await?;
    let shapes: Vec<svg::Shape> = grids
        .iter()
        .map(|g| svg::Shape {
            href: String::new(),
            label: g.name.clone(),
            geometry: g.geometry.clone(),
            class: None,
        })
        .collect();
    Ok(svg::map_with(&shapes, &[], true))
}

pub async fn new_case_form(State(s): State<AppState>, LoggedIn { p, c }: LoggedIn) -> Result<Response, PageError> {
    let cat = loop_::catalogue(&s, p.city).await?;
    let page = NewCasePage {
        groups: condition_groups(&cat, c.lang),
        form: ReportForm::default(),
        errors: Vec::new(),
        duplicates: Vec::new(),
        map: area_map(&s, &p).await?,
        staff: loop_::reports_as_staff(&p),
        c,
    };
    render(&page.c, &page)
}

fn field_of(message: &str) -> String {
    for f in [
        "condition",
        "description",
        "lng",
        "lat",
        "coordinates",
        "contact_phone",
        "phone",
        "crs",
    ] {
        if message.starts_with(f) {
            return match f {
                "coordinates" => "lng".into(),
                "phone" => "contact_phone".into(),
                other => other.into(),
            };
        }
    }
    "form".into()
}

pub async fn new_case_submit(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Form(f): Form<ReportForm>,
) -> Result<Response, PageError> {
    let cat = loop_::catalogue(&s, p.city).await?;
    let mut errors = Vec::new();
    if f.condition.is_empty() {
        errors.push(("condition".to_owned(), c.t("err_condition").to_owned()));
    }
    if f.description.trim().is_empty() {
        errors.push(("description".to_owned(), c.t("err_description").to_owned()));
    }
    let mut f = f;
    if f.lng.trim().is_empty() && f.lat.trim().is_empty() && !f.address.trim().is_empty() {
        // Find the place by name: a grid, community or street of the city.
        match gongzhi_app::territory::find_places(&s, p.city, &f.address, 1)
            .await?
            .into_iter()
            .next()
        {
            Some(place) => {
                f.lng = format!("{:.6}", place.lng);
                f.lat = format!("{:.6}", place.lat);
                f.crs = "wgs84".into();
            }
            None => errors.push(("address".to_owned(), c.t("err_address").to_owned())),
        }
    }
    let lng = f.lng.trim().parse::<f64>();
    let lat = f.lat.trim().parse::<f64>();
    if (lng.is_err() || lat.is_err()) && !errors.iter().any(|(k, _)| k == "address") {
        errors.push(("lng".to_owned(), c.t("err_location").to_owned()));
    }
    let mut duplicates = Vec::new();
    if errors.is_empty() {
        let report = Report {
            condition: f.condition.clone(),
            category: None,
            description: f.description.clone(),
            lng: lng.clone().unwrap_or_default(),
            lat: lat.clone().unwrap_or_default(),
            crs: (!f.crs.is_empty()).then(|| f.crs.clone()),
            source: None,
            contact_name: (!f.contact_name.trim().is_empty()).then(|| f.contact_name.trim().to_owned()),
            contact_phone: (!f.contact_phone.trim().is_empty()).then(|| f.contact_phone.trim().to_owned()),
            register: f.register.is_some(),
        };
        // Offer possible duplicates before saving, unless the reporter confirmed a new problem.
        if f.confirm_new.is_none() {
            match preview_duplicates(&s, &p, &report, &cat).await {
                Ok(d) => duplicates = d,
                Err(e) => errors.push((field_of(&e.body.message), e.body.message)),
            }
        }
        if errors.is_empty() && duplicates.is_empty() {
            match loop_::intake(&s, &p, &report, None).await {
                Ok((row, _)) => return Ok(Redirect::to(&format!("/cases/{}", row.case.id)).into_response()),
                Err(e) if e.is_client_error() => {
                    let field = field_of(&e.message);
                    let message = if field == "contact_phone" {
                        c.t("err_phone").to_owned()
                    } else {
                        e.message
                    };
                    errors.push((field, message))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let page = NewCasePage {
        groups: condition_groups(&cat, c.lang),
        form: f,
        errors,
        duplicates,
        map: area_map(&s, &p).await?,
        staff: loop_::reports_as_staff(&p),
        c,
    };
    let mut resp = render(&page.c, &page)?;
    if !page.errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

async fn preview_duplicates(
    s: &AppState,
    p: &Principal,
    r: &Report,
    cat: &gongzhi_core::catalogue::Catalogue,
) -> Result<Vec<Duplicate>, ApiError> {
    let crs: gongzhi_core::spatial::Crs = r.crs.as_deref().unwrap_or("wgs84").parse()?;
    gongzhi_core::spatial::check_lng_lat(r.lng, r.lat)?;
    let (lng, lat) = gongzhi_core::spatial::to_wgs84(crs, r.lng, r.lat);
    let (category, _) = cat
        .condition(&r.condition)
        .ok_or_else(|| ApiError::invalid(format!("condition: '{}' is not in the catalogue", r.condition)))?;
    let mut probe = gongzhi_core::case::Case::new(CaseId(0));
    probe.category = category.code.clone();
    probe.description = r.description.clone();
    probe.lng = lng;
    probe.lat = lat;
    Ok(loop_::duplicates(s, p, &probe).await?)
}

/// A step form on the case page.
pub struct StepForm {
    pub kind: String,
    pub label: String,
    /// Which inputs the step needs.
    pub reason: bool,
    pub note: bool,
    pub unit: bool,
    pub co_units: bool,
    pub extra: bool,
    pub follow_up: bool,
    pub special: bool,
    pub level: bool,
    pub into: bool,
    pub whistle_unit: Option<i64>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    d: CaseDetail,
    state: String,
    steps: Vec<StepForm>,
    units: Vec<(i64, String)>,
    timeline: Vec<(String, String, String, String)>,
    deadline: String,
    remaining: String,
    map: String,
    error: Option<String>,
    duplicates: Vec<Duplicate>,
}

async fn units_for(s: &AppState, city: CityCode, area: &str) -> Result<Vec<(i64, String)>, ApiError> {
    Ok(loop_::units_serving(s, city, area).await?)
}

fn human_duration(lang: Lang, ms: i64) -> String {
    let (sign, ms) = if ms < 0 { ("-", -ms) } else { ("", ms) };
    let h = ms / 3_600_000;
    let m = (ms % 3_600_000) / 60_000;
    match lang {
        Lang::Zh => format!("{sign}{h}小时{m}分"),
        Lang::En => format!("{sign}{h} h {m} min"),
    }
}

async fn case_page_with(
    s: &AppState,
    p: Principal,
    c: Chrome,
    id: CaseId,
    error: Option<String>,
) -> Result<Response, PageError> {
    let d = case_detail(s, &p, id, "page.case").await?;
    let units = units_for(s, p.city, &d.view.area).await?;
    let own_unit = p.units().first().copied();
    let steps = d
        .allowed_actions
        .iter()
        .filter_map(|a| serde_json::from_value::<ActionKind>(serde_json::Value::String(a.clone())).ok())
        .filter(|a| *a != ActionKind::AbsorbDuplicate)
        .map(|a| StepForm {
            kind: a.as_str().to_owned(),
            label: action_name(c.lang, a),
            reason: matches!(
                a,
                ActionKind::Void
                    | ActionKind::Return
                    | ActionKind::RejectReturn
                    | ActionKind::DenyExtension
                    | ActionKind::Suspend
                    | ActionKind::VerifyFail
                    | ActionKind::RequestExtension
            ),
            note: matches!(a, ActionKind::ReportHandled | ActionKind::Supervise),
            unit: a == ActionKind::Dispatch,
            co_units: a == ActionKind::Whistle,
            extra: a == ActionKind::RequestExtension,
            follow_up: a == ActionKind::FollowUp,
            special: a == ActionKind::Close,
            level: a == ActionKind::Supervise,
            into: a == ActionKind::Merge,
            whistle_unit: (a == ActionKind::ReportToWhistle).then_some(own_unit).flatten(),
        })
        .collect();
    let timeline = d
        .timeline
        .iter()
        .map(|e| {
            let what = event_name(c.lang, &e.kind);
            let detail = event_detail(c.lang, &e.event);
            (local_time(e.at), what, word_label::<Role>(c.lang, &e.role), detail)
        })
        .collect();
    let (deadline, remaining) = match &d.deadline {
        Some(dl) => (local_time(dl.at), human_duration(c.lang, dl.remaining_ms)),
        None => (String::new(), String::new()),
    };
    let map = match gongzhi_app::territory::grids_within(s, p.city, Some(&d.view.area), 200).await {
        Ok(grids) => {
            let shapes: Vec<svg::Shape> = grids
                .iter()
                .map(|g| svg::Shape {
                    href: format!("/grids/{}", g.code),
                    label: g.name.clone(),
                    geometry: g.geometry.clone(),
                    class: None,
                })
                .collect();
            svg::map_with(
                &shapes,
                &[svg::Marker {
                    lng: d.view.case.lng,
                    lat: d.view.case.lat,
                    href: String::new(),
                    label: format!("#{}", d.view.case.id),
                    class: "here".into(),
                }],
                false,
            )
        }
        Err(_) => String::new(),
    };
    let duplicates = if d.view.case.state.is_open() && d.allowed_actions.iter().any(|a| a == "merge") {
        loop_::duplicates(s, &p, &d.view.case).await?
    } else {
        Vec::new()
    };
    let page = CasePage {
        state: state_name(c.lang, d.view.case.state),
        steps,
        units,
        timeline,
        deadline,
        remaining,
        map,
        error,
        duplicates,
        d,
        c,
    };
    let mut resp = render(&page.c, &page)?;
    if page.error.is_some() {
        *resp.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(resp)
}

fn event_detail(lang: Lang, e: &gongzhi_core::case::CaseEvent) -> String {
    use gongzhi_core::case::CaseEvent as E;
    match e {
        E::Dispatched {
            unit_name, deadline_ms, ..
        } => format!("{unit_name} · {}", local_time(*deadline_ms)),
        E::Voided { reason }
        | E::Returned { reason }
        | E::ReturnRejected { reason }
        | E::ExtensionDenied { reason }
        | E::Suspended { reason }
        | E::VerificationFailed { reason } => reason.clone(),
        E::ExtensionRequested { reason, extra_amount } => format!("{reason} (+{extra_amount})"),
        E::ExtensionApproved { new_deadline_ms } => local_time(*new_deadline_ms),
        E::HandlingReported { note } | E::Supervised { note, .. } => note.clone(),
        E::Closed { kind, reason } => format!(
            "{}{}",
            kind.label(lang),
            reason.as_ref().map(|r| format!(" · {r}")).unwrap_or_default()
        ),
        E::FollowedUp { satisfaction, .. } => satisfaction.map(|s| s.label(lang).to_owned()).unwrap_or_default(),
        E::Whistled { co_units, .. } => format!("{} {co_units:?}", super::text(lang, "co_units")),
        E::Routed { via } => via.iter().map(|h| h.unit_name.as_str()).collect::<Vec<_>>().join(" → "),
        E::Forwarded { to_name, .. } => format!("→ {to_name}"),
        E::MergedInto { case_id } | E::DuplicateMerged { case_id } => format!("#{case_id}"),
        E::Collected(i) => i.description.clone(),
        _ => String::new(),
    }
}

pub async fn case_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(id): Path<CaseId>,
) -> Result<Response, PageError> {
    case_page_with(&s, p, c, id, None).await
}

/// A step submitted from the case page: form fields → the API's action → back to the page.
pub async fn case_step(
    State(s): State<AppState>,
    LoggedIn { p, mut c }: LoggedIn,
    Path(id): Path<CaseId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    c.path = format!("/cases/{id}");
    let mut kind = String::new();
    let mut map = serde_json::Map::new();
    let mut co_units = Vec::new();
    for (k, v) in fields {
        let v = v.trim().to_owned();
        match k.as_str() {
            "type" => kind = v,
            "co_units" => co_units.push(serde_json::Value::from(v.parse::<i64>().unwrap_or(0))),
            "unit" | "lead" | "into" | "extra_amount" | "level" | "version" => {
                if let Ok(n) = v.parse::<i64>() {
                    map.insert(k, n.into());
                }
            }
            "contacted" | "solved" => {
                map.insert(k, (v == "on" || v == "true").into());
            }
            "special_reason" => {
                if !v.is_empty() {
                    map.insert(k, v.into());
                }
            }
            _ => {
                map.insert(k, v.into());
            }
        }
    }
    if kind == "whistle" {
        map.insert("co_units".into(), co_units.into());
        if let Some(u) = map.remove("unit") {
            map.insert("lead".into(), u);
        }
    }
    for flag in ["contacted", "solved"] {
        if kind == "follow_up" && !map.contains_key(flag) {
            map.insert(flag.into(), false.into());
        }
    }
    if kind == "follow_up"
        && map
            .get("satisfaction")
            .and_then(|v| v.as_str())
            .is_some_and(str::is_empty)
    {
        map.insert("satisfaction".into(), serde_json::Value::Null);
    }
    let version = map.remove("version").and_then(|v| v.as_u64());
    let result = match build_action(&s, &p, id, kind, map).await.map_err(ApiError::from) {
        Ok(action) => loop_::act(&s, &p, id, action, version)
            .await
            .map(|_| ())
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
            case_page_with(&s, p, c, id, Some(e.body.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The satisfaction choices of the follow-up form.
pub fn satisfactions(lang: &Lang) -> Vec<(&'static str, String)> {
    Satisfaction::ALL
        .iter()
        .map(|s| (s.as_str(), s.label(lang).to_owned()))
        .collect()
}

/// A photo added from the case page (multipart form, field `photo`). A refused photo shows the
/// case page with the error, answered with the refusal's status (415 for its type, 413 for its
/// size).
pub async fn case_photo(
    State(s): State<AppState>,
    LoggedIn { p, mut c }: LoggedIn,
    Path(id): Path<CaseId>,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    c.path = format!("/cases/{id}");
    loop_::viewable(&s, &p, id).await?;
    let media = crate::media::PHOTO;
    let mut added = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return case_photo_refused(&s, p, c, id, crate::media::form_error(media, "photo", e)).await,
        };
        if field.name() != Some("photo") {
            continue;
        }
        let ct = field.content_type().unwrap_or("").to_owned();
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) => return case_photo_refused(&s, p, c, id, crate::media::form_error(media, "photo", e)).await,
        };
        if data.is_empty() {
            continue;
        }
        match loop_::add_photo(&s, &p, id, &ct, &data).await {
            Ok(_) => added = true,
            Err(e) if e.is_client_error() => return case_photo_refused(&s, p, c, id, e.into()).await,
            Err(e) => return Err(e.into()),
        }
    }
    if !added {
        let message = c.t("err_photo").to_owned();
        return case_page_with(&s, p, c, id, Some(message)).await;
    }
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

/// The case page with a refused photo's message and status.
async fn case_photo_refused(
    s: &AppState,
    p: Principal,
    c: Chrome,
    id: CaseId,
    e: ApiError,
) -> Result<Response, PageError> {
    let status = e.status;
    let mut r = case_page_with(s, p, c, id, Some(e.body.message)).await?;
    if status.is_client_error() && status != axum::http::StatusCode::NOT_FOUND {
        *r.status_mut() = status;
    }
    Ok(r)
}
