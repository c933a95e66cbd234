//! The grid team's phone-sized page (我的网格): team and alliance, households (team only), the
//! needs with the proposed resources and their reasons, resources, projects, patrols, the grid's
//! indicators and the viewer's points; forms to record a need, confirm a match and log a patrol
//! finding. The work goes through the same calls as the JSON API.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use geo::InteriorPoint;
use gongzhi_app::gridteam::{self as service, ConfirmInput, PatrolInput};
use gongzhi_core::gridteam::{Category, Need, NeedSource, NeedStatus, ProjectStatus, Urgency};
use serde::Deserialize;

use super::{render, Chrome, LoggedIn, PageError};
use crate::{ApiError, AppState};
use gongzhi_app::cases::Report;

/// This page's UI texts. Keep keys sorted; keys are unique across tables.
pub(crate) const TEXTS: super::i18n::Texts = &[
    (
        "grid_alliance",
        "一核多元联盟",
        "Alliance (one core, many participants)",
    ),
    ("grid_attendances", "参会人次", "Attendances"),
    ("grid_by_patrol", "巡查发现", "Found by patrol"),
    ("grid_by_residents", "居民上报", "Reported by residents"),
    ("grid_capacity", "剩余/容量", "Left / capacity"),
    ("grid_confirm", "确认立项", "Confirm as project"),
    ("grid_finding", "巡查发现的问题", "Problem found on patrol"),
    (
        "grid_households",
        "住户（仅网格队伍可见）",
        "Households (grid team only)",
    ),
    ("grid_indicators", "网格指标", "Grid indicators"),
    ("grid_log_patrol", "记录巡查", "Log a patrol"),
    ("grid_missed_rate", "漏报率", "Missed-report rate"),
    ("grid_my_points", "我的积分", "My points"),
    ("grid_needs", "需求清单", "Needs list"),
    ("grid_needs_met", "已满足需求", "Needs met"),
    ("grid_needs_open", "待对接需求", "Needs open"),
    ("grid_new_need", "登记需求", "Record a need"),
    ("grid_no_proposal", "暂无可对接资源", "No fitting resource"),
    ("grid_note", "巡查记录", "Patrol note"),
    ("grid_patrols", "巡查日志", "Patrol log"),
    ("grid_per_week", "次/周", "a week"),
    ("grid_projects", "项目清单", "Projects list"),
    ("grid_quantity", "需要数量", "Quantity"),
    ("grid_resources", "资源清单", "Resources list"),
    ("grid_resources_used", "已使用资源", "Resources used"),
    ("grid_route", "巡查路线", "Route"),
    ("grid_route_none", "不按路线", "No planned route"),
    ("grid_routes", "巡查路线", "Patrol routes"),
    ("grid_save", "保存", "Save"),
    ("grid_team", "网格队伍", "Grid team"),
    ("grid_team_page", "我的网格", "My grid"),
    ("grid_text", "需求内容", "What is needed"),
    ("grid_urgency", "紧急程度", "Urgency"),
    ("grid_visits", "走访", "Visits"),
    ("grid_volunteer_hours", "志愿时长", "Volunteer hours"),
    ("grid_walked_week", "近七天已巡", "Walked in the last 7 days"),
    ("grid_work", "全科网格工作", "Generalist grid work"),
];

pub struct Row {
    pub id: i64,
    pub status: String,
    pub title: String,
    pub detail: String,
}

pub struct NeedRow {
    pub id: i64,
    pub status: String,
    pub category: String,
    pub text: String,
    pub urgency: String,
    pub open: bool,
    /// (resource id, resource title, score, reason)
    pub proposals: Vec<(i64, String, String, String)>,
}

#[derive(Template)]
#[template(path = "gridteam_page.html")]
pub struct TeamPage {
    pub c: Chrome,
    pub code: String,
    pub name: String,
    pub manage: bool,
    pub team: Vec<Row>,
    pub alliances: Vec<Row>,
    pub households: Option<Vec<Row>>,
    pub needs: Vec<NeedRow>,
    pub resources: Vec<Row>,
    pub projects: Vec<Row>,
    pub patrols: Vec<Row>,
    /// The grid's patrol routes: name, times a week, walked in the last seven days.
    pub routes: Vec<Row>,
    pub indicators: Option<Vec<(&'static str, String)>>,
    pub points: i64,
    pub categories: Vec<(&'static str, &'static str)>,
}

fn zh_or_en<'a>(c: &Chrome, zh: &'a str, en: &'a str) -> &'a str {
    if c.lang == super::Lang::Zh {
        zh
    } else {
        en
    }
}

/// GET /grids/{code}/team
pub async fn team_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let v = service::team_view(&s, &p, &code).await?;
    let team = v
        .members
        .into_iter()
        .map(|m| Row {
            id: m.record.id,
            status: m.member.role.label(c.lang).to_owned(),
            title: m.name,
            detail: m.member.commitment,
        })
        .collect();
    let alliances = v
        .alliances
        .into_iter()
        .map(|a| {
            let parts: Vec<String> = a
                .alliance
                .members
                .iter()
                .zip(&a.organisations)
                .map(|(m, name)| format!("{}（{}）{}", name, m.role.label(c.lang), m.commitment))
                .collect();
            Row {
                id: a.record.id,
                status: a.record.status.clone(),
                title: a.alliance.name,
                detail: parts.join("；"),
            }
        })
        .collect();
    let households = v.households.map(|hs| {
        hs.into_iter()
            .map(|e| {
                let h = e.body;
                let groups: Vec<&str> = h.key_groups.iter().map(|k| k.label(c.lang)).collect();
                Row {
                    id: e.record.id,
                    status: h.unit,
                    title: h.head,
                    detail: format!("{} · {}", h.size, groups.join("、")),
                }
            })
            .collect()
    });
    let needs = v
        .needs
        .into_iter()
        .map(|n| NeedRow {
            id: n.record.id,
            status: super::word_label::<NeedStatus>(c.lang, &n.record.status),
            category: n.need.category.label(c.lang).to_owned(),
            text: n.need.text,
            urgency: n.need.urgency.label(c.lang).to_owned(),
            open: n.open,
            proposals: n
                .proposals
                .into_iter()
                .map(|(pr, title)| {
                    (
                        pr.resource,
                        title,
                        format!("{:.2}", pr.score),
                        zh_or_en(&c, &pr.reason_zh(), &pr.reason()).to_owned(),
                    )
                })
                .collect(),
        })
        .collect();
    let resources = v
        .resources
        .into_iter()
        .map(|r| Row {
            id: r.record.id,
            status: r.resource.kind.label(c.lang).to_owned(),
            title: r.resource.title,
            detail: format!("{} / {}", r.resource.capacity - r.usage.used, r.resource.capacity),
        })
        .collect();
    let projects = v
        .projects
        .into_iter()
        .map(|e| {
            let pr = e.body;
            Row {
                id: e.record.id,
                status: super::word_label::<ProjectStatus>(c.lang, &e.record.status),
                title: pr.title,
                detail: match &pr.reason_zh {
                    Some(zh) => zh_or_en(&c, zh, &pr.reason).to_owned(),
                    None => pr.reason,
                },
            }
        })
        .collect();
    let routes = v
        .routes
        .into_iter()
        .map(|r| Row {
            id: r.record.id,
            status: format!("{} {}", r.route.per_week, c.t("grid_per_week")),
            title: r.route.name,
            detail: format!("{} {} / {}", c.t("grid_walked_week"), r.walked_week, r.route.per_week),
        })
        .collect();
    let patrols = v
        .patrols
        .iter()
        .map(|r| Row {
            id: r.id,
            status: chrono::DateTime::from_timestamp_millis(r.created_at)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            title: match r.body["planned_route"].as_i64() {
                Some(route) => format!(
                    "[{} #{route}] {}",
                    c.t("grid_route"),
                    r.body["note"].as_str().unwrap_or("")
                ),
                None => r.body["note"].as_str().unwrap_or("").to_owned(),
            },
            detail: r.body["cases"]
                .as_array()
                .map(|v| v.iter().map(|x| format!("#{x}")).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        })
        .collect();
    let indicators = v.indicators.map(|i| {
        let k = &i.counts;
        vec![
            ("grid_by_patrol", k.cases_by_patrol.to_string()),
            ("grid_by_residents", k.cases_by_residents.to_string()),
            (
                "grid_missed_rate",
                i.missed_report_rate
                    .map_or("—".into(), |r| format!("{:.0}%", r * 100.0)),
            ),
            ("grid_needs_met", k.needs_met.to_string()),
            ("grid_resources_used", format!("{} / {}", k.resources_used, k.resources)),
            ("grid_attendances", k.attendances.to_string()),
            ("grid_volunteer_hours", k.volunteer_hours.to_string()),
        ]
    });
    let page = TeamPage {
        code: v.grid.code.to_string(),
        name: v.grid.name.clone(),
        manage: v.manage,
        team,
        alliances,
        households,
        needs,
        resources,
        projects,
        patrols,
        routes,
        indicators,
        points: v.points,
        categories: Category::ALL.iter().map(|k| (k.as_str(), k.label(c.lang))).collect(),
        c,
    };
    render(&page.c, &page)
}

#[derive(Deserialize)]
pub struct NeedForm {
    pub category: String,
    pub text: String,
    #[serde(default)]
    pub quantity: Option<i64>,
}

/// POST /grids/{code}/team/needs: record a need at the grid's centre.
pub async fn need_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path(code): Path<String>,
    Form(f): Form<NeedForm>,
) -> Result<Response, PageError> {
    let g = service::grid(&s, &p, &code).await?;
    let centre = g.geometry.interior_point();
    let need = Need {
        category: f.category.parse()?,
        text: f.text,
        lng: centre.map_or(0.0, |c| c.x()),
        lat: centre.map_or(0.0, |c| c.y()),
        area: None,
        urgency: Urgency::Normal,
        source: NeedSource::Visit,
        raised_by: None,
        household: None,
        group: None,
        quantity: f.quantity.unwrap_or(1),
        evidence: Vec::new(),
    };
    service::add_need(&s, &p, &code, need).await?;
    Ok(Redirect::to(&format!("/grids/{code}/team")).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    pub need: i64,
    pub resource: i64,
    pub title: String,
}

/// POST /grids/{code}/team/confirm: confirm a proposal into a project.
pub async fn confirm_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path(code): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let input = ConfirmInput {
        need: f.need,
        resource: f.resource,
        title: f.title,
        on: None,
    };
    service::confirm(&s, &p, input).await?;
    Ok(Redirect::to(&format!("/grids/{code}/team")).into_response())
}

#[derive(Deserialize)]
pub struct PatrolForm {
    pub note: String,
    /// The planned route followed ("" for none).
    #[serde(default)]
    pub planned_route: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub description: String,
}

/// POST /grids/{code}/team/patrols: log a patrol, with a finding reported as a case.
pub async fn patrol_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path(code): Path<String>,
    Form(f): Form<PatrolForm>,
) -> Result<Response, PageError> {
    let g = service::grid(&s, &p, &code).await?;
    let centre = g.geometry.interior_point();
    let findings = if f.condition.trim().is_empty() {
        Vec::new()
    } else {
        vec![Report {
            condition: f.condition.trim().to_owned(),
            category: None,
            description: f.description,
            lng: centre.map_or(0.0, |c| c.x()),
            lat: centre.map_or(0.0, |c| c.y()),
            crs: None,
            source: None,
            contact_name: None,
            contact_phone: None,
            register: false,
        }]
    };
    let planned_route = match f.planned_route.trim() {
        "" => None,
        id => Some(
            id.parse()
                .map_err(|_| ApiError::invalid(format!("planned_route: '{id}' is not a route id")))?,
        ),
    };
    let input = PatrolInput {
        planned_route,
        route: None,
        note: f.note,
        findings,
    };
    service::patrol(&s, &p, &code, input).await?;
    Ok(Redirect::to(&format!("/grids/{code}/team")).into_response())
}
