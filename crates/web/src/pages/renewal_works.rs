//! Micro-renewal works and delivery pages: the department page of a community (planned works,
//! registering one, proposed and accepted bundles, the before/after report, delivery projects),
//! a bundle's page with a server-drawn SVG map of its geometries and its schedule, and a delivery
//! project's page (milestones with warnings, contributions, upkeep, and the acceptance survey a
//! resident answers on a phone). Every form goes through the same calls as the JSON API.

use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use geo::{BoundingRect, Geometry};
use gongzhi_app::renewal_works::{self as app, AcceptBundle, DeliveryForm, NewDeliveryRequest, NewWorkRequest};
use gongzhi_core::access::Principal;
use gongzhi_core::renewal::delivery::MilestoneState;
use gongzhi_core::renewal::works::{cents_to_yuan, yuan_to_cents, Item, ItemRef, Phase, WorkKind};
use serde::Deserialize;

use super::{render, svg, Chrome, Lang, PageError};
use crate::auth::MaybeAuth;
use crate::{ApiError, AppState};

pub(crate) const TEXTS: super::i18n::Texts = &[
    ("rw_accept", "确认整合", "Accept the bundle"),
    ("rw_acceptance", "验收评价", "Acceptance"),
    ("rw_accepted", "已整合项目", "Accepted bundles"),
    ("rw_add", "添加", "Add"),
    ("rw_after", "整合后", "After merging"),
    ("rw_answer", "提交评价", "Send my answer"),
    (
        "rw_answered",
        "您已提交验收评价，谢谢！",
        "You have answered the acceptance survey. Thank you!",
    ),
    ("rw_basically", "基本满意", "Basically satisfied"),
    ("rw_before", "整合前", "Before merging"),
    ("rw_budget", "预算（元）", "Budget (yuan)"),
    ("rw_buffer", "缓冲距离（米）", "Buffer (metres)"),
    ("rw_bundle", "整合项目", "Bundle"),
    ("rw_checkin", "管护打卡", "Check in"),
    ("rw_comment", "意见", "Comment"),
    ("rw_contribute", "我要出力", "Offer help"),
    ("rw_contributions", "共建贡献", "Contributions"),
    ("rw_contributor", "贡献者", "Contributor"),
    ("rw_days", "扰民天数", "Days of disturbance"),
    ("rw_days_after", "整合后工期（天）", "Days after"),
    ("rw_days_separate", "分别施工合计（天）", "Days, separately"),
    ("rw_days_union", "原计划覆盖天数", "Days covered as planned"),
    ("rw_deliveries", "共建项目", "Delivery projects"),
    ("rw_delivery", "共建项目", "Delivery project"),
    ("rw_department", "部门", "Department"),
    (
        "rw_department_page",
        "项目整合（部门工程）",
        "Department works and bundles",
    ),
    ("rw_diggings", "开挖次数", "Diggings"),
    ("rw_dissatisfied", "不满意", "Dissatisfied"),
    ("rw_done", "完成", "Done"),
    ("rw_due", "期限", "Due"),
    ("rw_from", "开始", "From"),
    ("rw_gap", "时间间隔（天）", "Gap (days)"),
    (
        "rw_geometry",
        "位置（GeoJSON，或下面的经纬度）",
        "Place (GeoJSON, or the longitude/latitude below)",
    ),
    ("rw_hours", "志愿服务（小时）", "Volunteer hours"),
    ("rw_interventions", "施工次数", "Interventions"),
    ("rw_items", "工程与项目", "Works and projects"),
    ("rw_kind", "类型", "Kind"),
    ("rw_lat", "纬度", "Latitude"),
    ("rw_lead", "牵头单位", "Lead"),
    ("rw_lng", "经度", "Longitude"),
    ("rw_map", "位置图", "Map"),
    ("rw_mark_done", "标记完成", "Mark done"),
    ("rw_materials", "物资", "Materials"),
    ("rw_milestone", "里程碑", "Milestone"),
    ("rw_milestones", "里程碑", "Milestones"),
    ("rw_money", "出资（元）", "Money (yuan)"),
    ("rw_new_delivery", "新建共建项目", "New delivery project"),
    ("rw_no_bundles", "暂无可整合的工程", "No works to merge"),
    ("rw_none", "暂无", "None yet"),
    ("rw_note", "说明", "Note"),
    ("rw_ok", "状况良好", "In good order"),
    ("rw_phase", "阶段", "Phase"),
    ("rw_photo", "现场照片", "Site photo"),
    (
        "rw_photo_pick",
        "请选择一张照片（JPEG 或 PNG）",
        "Choose a photo (JPEG or PNG)",
    ),
    ("rw_place", "地点", "Place"),
    ("rw_progress", "进度", "Progress"),
    ("rw_proposed", "建议整合", "Proposed bundles"),
    ("rw_reason", "理由", "Reason"),
    ("rw_reference", "编号", "Reference"),
    ("rw_register", "登记工程", "Register a work"),
    ("rw_report", "整合前后对比", "Before and after merging"),
    ("rw_satisfaction", "满意度", "Satisfaction"),
    ("rw_satisfaction_rate", "满意率", "Satisfaction rate"),
    ("rw_satisfied", "满意", "Satisfied"),
    ("rw_schedule", "统一工期", "One schedule"),
    ("rw_solved", "解决了需求", "It meets the need"),
    ("rw_spend", "记录支出", "Record spending"),
    ("rw_spent", "已支出（元）", "Spent (yuan)"),
    ("rw_state", "状态", "State"),
    ("rw_supervision", "督办", "Supervision"),
    (
        "rw_surfaces_redone",
        "路面返工（将被重新开挖）",
        "Surfaces that would be dug up again",
    ),
    ("rw_title", "名称", "Title"),
    ("rw_to", "结束", "To"),
    ("rw_upkeep", "后续管护", "Upkeep"),
    ("rw_upkeep_every", "每隔（天）", "Every (days)"),
    ("rw_upload_photo", "上传照片", "Upload a photo"),
    ("rw_warnings", "预警", "Warnings"),
    ("rw_what", "管护内容", "What"),
    ("rw_who", "责任人", "Who"),
    ("rw_window", "工期", "Window"),
    ("rw_works", "部门计划工程", "Planned works"),
];

fn kind_name(c: &Chrome, k: WorkKind) -> &'static str {
    k.label(c.lang)
}

fn phase_name(c: &Chrome, p: Phase) -> &'static str {
    p.label(c.lang)
}

fn state_name(c: &Chrome, s: MilestoneState) -> &'static str {
    s.label(c.lang)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn back(to: &str, error: Option<String>) -> Response {
    let mut to = to.to_owned();
    if let Some(e) = error {
        to.push_str(if to.contains('?') { "&" } else { "?" });
        to.push_str(&format!("error={}", urlencode(&e)));
    }
    Redirect::to(&to).into_response()
}

fn chrome(headers: &HeaderMap, lang: Option<String>, user: Option<Principal>, path: &str) -> Chrome {
    Chrome::new(headers, &super::LangQuery { lang }, user, path)
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    pub lang: Option<String>,
    pub error: Option<String>,
    pub buffer_m: Option<f64>,
    pub gap_days: Option<i64>,
}

/// One row of a works or items table.
pub struct ItemLine {
    pub key: String,
    pub href: String,
    pub title: String,
    pub kind: String,
    pub window: String,
    pub budget: String,
    pub lead: bool,
}

fn item_line(c: &Chrome, community: &str, i: &Item, lead: Option<ItemRef>) -> ItemLine {
    ItemLine {
        key: i.key.to_string(),
        href: match i.key {
            ItemRef::Delivery(id) => format!("/renewal/{community}/deliveries/{id}"),
            ItemRef::Work(_) => String::new(),
        },
        title: i.title.clone(),
        kind: kind_name(c, i.kind).to_owned(),
        window: format!("{} – {}", i.window.from, i.window.to),
        budget: yuan(i.budget_cents),
        lead: Some(i.key) == lead,
    }
}

/// A bundle as the department page lists it.
pub struct BundleLine {
    pub id: Option<i64>,
    pub items: Vec<ItemLine>,
    pub item_keys: String,
    pub lead: String,
    pub reason: String,
    pub window: String,
    pub savings: String,
}

fn savings_text(c: &Chrome, s: &gongzhi_core::renewal::works::Savings) -> String {
    if c.lang == Lang::Zh {
        format!(
            "施工次数 {} → {}；开挖 {} → {}；避免路面返工 {} 处；扰民天数 {} → {}",
            s.interventions_before,
            s.interventions_after,
            s.diggings_before,
            s.diggings_after,
            s.surfaces_redone_before,
            s.days_separate,
            s.days_after
        )
    } else {
        format!(
            "interventions {} → {}; diggings {} → {}; {} surface(s) not dug up again; days of disturbance {} → {}",
            s.interventions_before,
            s.interventions_after,
            s.diggings_before,
            s.diggings_after,
            s.surfaces_redone_before,
            s.days_separate,
            s.days_after
        )
    }
}

fn bundle_line(
    c: &Chrome,
    community: &str,
    id: Option<i64>,
    b: &gongzhi_core::renewal::works::Bundle,
    items: &[Item],
) -> BundleLine {
    let members: Vec<&Item> = items.iter().filter(|i| b.items.contains(&i.key)).collect();
    let lead = members
        .iter()
        .find(|i| i.key == b.lead)
        .map(|i| format!("{} ({})", i.title, kind_name(c, i.kind)))
        .unwrap_or_else(|| b.lead.to_string());
    BundleLine {
        id,
        items: members
            .iter()
            .map(|i| item_line(c, community, i, Some(b.lead)))
            .collect(),
        item_keys: b.items.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(","),
        lead,
        reason: b.lead_reason.clone(),
        window: format!("{} – {}", b.window.from, b.window.to),
        savings: savings_text(c, &b.savings),
    }
}

/// One line of the before/after report.
pub struct ReportLine {
    pub place: String,
    pub before: usize,
    pub after: usize,
    pub diggings_before: usize,
    pub diggings_after: usize,
    pub days_separate: i64,
    pub days_after: i64,
}

fn report_line(r: &gongzhi_core::renewal::works::PlaceReport) -> ReportLine {
    ReportLine {
        place: r.place.clone(),
        before: r.before,
        after: r.after,
        diggings_before: r.diggings_before,
        diggings_after: r.diggings_after,
        days_separate: r.days_separate,
        days_after: r.days_after,
    }
}

#[derive(Template)]
#[template(path = "renewal_works.html")]
struct WorksPage {
    c: Chrome,
    community: String,
    error: String,
    works: Vec<ItemLine>,
    deliveries: Vec<ItemLine>,
    proposed: Vec<BundleLine>,
    accepted: Vec<BundleLine>,
    report: Vec<ReportLine>,
    chart: String,
    buffer_m: f64,
    gap_days: i64,
    staff: bool,
    may_register: bool,
    departments: Vec<(i64, String)>,
    kinds: Vec<(&'static str, &'static str)>,
}

/// The department page of a community: works, bundles, report, delivery projects.
pub async fn works_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(community): Path<String>,
) -> Result<Response, PageError> {
    let c = chrome(
        &headers,
        q.lang.clone(),
        user.clone(),
        &format!("/renewal/{community}/works"),
    );
    let app::WorksOverview {
        view,
        params,
        staff,
        departments,
    } = app::overview(&s, user.as_ref(), &community, q.buffer_m, q.gap_days).await?;
    let works = view
        .items
        .iter()
        .filter(|i| matches!(i.key, ItemRef::Work(_)))
        .map(|i| item_line(&c, &community, i, None))
        .collect();
    let deliveries = view
        .items
        .iter()
        .filter(|i| matches!(i.key, ItemRef::Delivery(_)))
        .map(|i| item_line(&c, &community, i, None))
        .collect();
    let proposed = view
        .proposed
        .iter()
        .map(|b| bundle_line(&c, &community, None, b, &view.items))
        .collect();
    let accepted = view
        .accepted
        .iter()
        .map(|b| bundle_line(&c, &community, Some(b.id), &b.bundle, &view.items))
        .collect();
    let mut report = vec![report_line(&view.report.community), report_line(&view.report.potential)];
    report[0].place = format!("{community} · {}", c.t("rw_accepted"));
    report[1].place = format!("{community} · {}", c.t("rw_proposed"));
    report.extend(view.report.bundles.iter().map(report_line));
    let chart = svg::bar_chart(&[
        (c.t("rw_before").to_owned(), view.report.community.before as f64),
        (c.t("rw_after").to_owned(), view.report.community.after as f64),
        (
            format!("{} ({})", c.t("rw_after"), c.t("rw_proposed")),
            view.report.potential.after as f64,
        ),
    ]);
    let page = WorksPage {
        community,
        error: q.error.unwrap_or_default(),
        works,
        deliveries,
        proposed,
        accepted,
        report,
        chart,
        buffer_m: params.buffer_m,
        gap_days: params.gap_days,
        staff,
        may_register: !departments.is_empty(),
        departments,
        kinds: WorkKind::ALL
            .iter()
            .filter(|k| **k != WorkKind::ResidentProject)
            .map(|k| (k.as_str(), k.label(c.lang)))
            .collect(),
        c,
    };
    render(&page.c, &page)
}

/// The forms of the department page, told apart by `action`: `register` (a work), `accept`
/// (a proposed bundle), `deliver` (a new delivery project).
#[derive(Deserialize)]
pub struct WorksForm {
    pub action: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub kind: String,
    pub department: Option<i64>,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub budget_yuan: String,
    #[serde(default)]
    pub geometry: String,
    #[serde(default)]
    pub lng: String,
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub items: String,
    pub buffer_m: Option<f64>,
    pub gap_days: Option<i64>,
}

fn geometry_of(f: &WorksForm) -> Result<serde_json::Value, ApiError> {
    if !f.geometry.trim().is_empty() {
        return Ok(serde_json::Value::String(f.geometry.clone()));
    }
    let lng: f64 = f
        .lng
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("geometry: give GeoJSON, or a longitude and a latitude"))?;
    let lat: f64 = f
        .lat
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("lat: give a latitude like 30.66"))?;
    Ok(serde_json::json!({ "type": "Point", "coordinates": [lng, lat] }))
}

fn budget_of(f: &WorksForm) -> Result<i64, ApiError> {
    yuan_to_cents(&f.budget_yuan).ok_or_else(|| {
        ApiError::invalid(format!(
            "budget: '{}' is not an amount of yuan like 125000 or 125000.50",
            f.budget_yuan
        ))
    })
}

pub async fn works_submit(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    Path(community): Path<String>,
    Form(f): Form<WorksForm>,
) -> Result<Response, PageError> {
    let Some(p) = user else {
        return Ok(Redirect::to("/login").into_response());
    };
    let here = format!("/renewal/{community}/works");
    let result: Result<String, ApiError> = async {
        match f.action.as_str() {
            "register" => {
                let r = NewWorkRequest {
                    reference: f.reference.clone(),
                    title: f.title.clone(),
                    kind: f.kind.clone(),
                    community: community.clone(),
                    department: f
                        .department
                        .ok_or_else(|| ApiError::invalid("department: choose one"))?,
                    from: f.from.clone(),
                    to: f.to.clone(),
                    budget_cents: budget_of(&f)?,
                    geometry: geometry_of(&f)?,
                };
                app::create_work(&s, &p, &r).await?;
                Ok(here.clone())
            }
            "accept" => {
                let r = AcceptBundle {
                    community: community.clone(),
                    items: f
                        .items
                        .split(',')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty())
                        .collect(),
                    buffer_m: f.buffer_m,
                    gap_days: f.gap_days,
                };
                let b = app::accept_bundle(&s, &p, &r).await?;
                Ok(format!("/renewal/{community}/bundles/{}", b.id))
            }
            "deliver" => {
                let r = NewDeliveryRequest {
                    proposal: None,
                    community: community.clone(),
                    title: f.title.clone(),
                    kind: None,
                    site: geometry_of(&f)?,
                    budget_cents: budget_of(&f)?,
                    from: f.from.clone(),
                    to: f.to.clone(),
                };
                let d = app::create_delivery(&s, &p, &r).await?;
                Ok(format!("/renewal/{community}/deliveries/{}", d.id))
            }
            other => Err(ApiError::invalid(format!(
                "action: '{other}' is not register, accept or deliver"
            ))),
        }
    }
    .await;
    Ok(match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => back(&here, Some(e.body.message)),
    })
}

/// An SVG map of places (points, lines, polygons) in WGS-84, scaled to an 800-wide view box;
/// each shape gets the class of its phase and a label.
pub fn places_map(shapes: &[(String, String, &Geometry<f64>)]) -> String {
    let rects: Vec<geo::Rect<f64>> = shapes.iter().filter_map(|(_, _, g)| g.bounding_rect()).collect();
    let Some(first) = rects.first() else {
        return String::new();
    };
    let (mut x0, mut y0, mut x1, mut y1) = (first.min().x, first.min().y, first.max().x, first.max().y);
    for r in &rects {
        x0 = x0.min(r.min().x);
        y0 = y0.min(r.min().y);
        x1 = x1.max(r.max().x);
        y1 = y1.max(r.max().y);
    }
    // A margin of a fifth, at least about 20 m, so that points and lines are not on the edge.
    let mx = ((x1 - x0) * 0.2).max(0.0002);
    let my = ((y1 - y0) * 0.2).max(0.0002);
    let (x0, x1, y0, y1) = (x0 - mx, x1 + mx, y0 - my, y1 + my);
    let kx = ((y0 + y1) / 2.0).to_radians().cos();
    let w = (x1 - x0) * kx;
    let h = y1 - y0;
    let scale = (800.0 / w).min(800.0 / h);
    let px = |x: f64| (x - x0) * kx * scale;
    let py = |y: f64| (y1 - y) * scale;
    let mut out = format!(
        r#"<svg class="map places" viewBox="0 0 {:.0} {:.0}" xmlns="http://www.w3.org/2000/svg" role="img">"#,
        w * scale,
        h * scale
    );
    let path = |coords: &mut dyn Iterator<Item = geo::Coord<f64>>, close: bool| {
        let mut d = String::new();
        for (j, c) in coords.enumerate() {
            d.push_str(&format!(
                "{}{:.1},{:.1}",
                if j == 0 { "M" } else { "L" },
                px(c.x),
                py(c.y)
            ));
        }
        if close {
            d.push('Z');
        }
        d
    };
    for (class, label, g) in shapes {
        let label = svg::esc(label);
        let class = svg::esc(class);
        let mut parts: Vec<String> = Vec::new();
        let mut draw = |g: &Geometry<f64>| match g {
            Geometry::Point(p) => parts.push(format!(
                r#"<circle class="place {class}" cx="{:.1}" cy="{:.1}" r="9"><title>{label}</title></circle>"#,
                px(p.x()),
                py(p.y())
            )),
            Geometry::LineString(l) => parts.push(format!(
                r#"<path class="place line {class}" d="{}" fill="none" stroke-width="8"><title>{label}</title></path>"#,
                path(&mut l.coords().copied(), false)
            )),
            Geometry::Polygon(poly) => parts.push(format!(
                r#"<path class="place area {class}" d="{}"><title>{label}</title></path>"#,
                path(&mut poly.exterior().coords().copied(), true)
            )),
            _ => {}
        };
        match g {
            Geometry::MultiPoint(m) => m.0.iter().for_each(|p| draw(&Geometry::Point(*p))),
            Geometry::MultiLineString(m) => m.0.iter().for_each(|l| draw(&Geometry::LineString(l.clone()))),
            Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| draw(&Geometry::Polygon(p.clone()))),
            other => draw(other),
        }
        out.push_str(&parts.join(""));
        if let Some(r) = g.bounding_rect() {
            let c = r.center();
            out.push_str(&format!(
                r#"<text x="{:.1}" y="{:.1}" class="label">{label}</text>"#,
                px(c.x),
                py(c.y) - 12.0
            ));
        }
    }
    out.push_str("</svg>");
    out
}

/// One slot of the merged schedule as the bundle page shows it.
pub struct SlotLine {
    pub title: String,
    pub phase: String,
    pub planned: String,
    pub scheduled: String,
}

#[derive(Template)]
#[template(path = "renewal_bundle.html")]
struct BundlePage {
    c: Chrome,
    community: String,
    line: BundleLine,
    map: String,
    slots: Vec<SlotLine>,
    report: ReportLine,
    days_union: i64,
}

/// A bundle's page: map of its geometries, items with the lead, the schedule and the savings.
pub async fn bundle_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path((community, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let c = chrome(
        &headers,
        q.lang.clone(),
        user.clone(),
        &format!("/renewal/{community}/bundles/{id}"),
    );
    let d = app::bundle_in(&s, user.as_ref(), &community, id).await?;
    let shapes: Vec<(String, String, &Geometry<f64>)> = d
        .items
        .iter()
        .map(|i| {
            (
                format!(
                    "{}{}",
                    i.kind.phase().as_str(),
                    if i.key == d.bundle.bundle.lead { " lead" } else { "" }
                ),
                format!("{} ({})", i.title, kind_name(&c, i.kind)),
                i.place.geometry(),
            )
        })
        .collect();
    let map = places_map(&shapes);
    let slots = d
        .bundle
        .bundle
        .schedule
        .iter()
        .filter_map(|sl| {
            let i = d.items.iter().find(|i| i.key == sl.key)?;
            Some(SlotLine {
                title: i.title.clone(),
                phase: phase_name(&c, sl.phase).to_owned(),
                planned: format!("{} – {}", i.window.from, i.window.to),
                scheduled: format!("{} – {}", sl.window.from, sl.window.to),
            })
        })
        .collect();
    let page = BundlePage {
        line: bundle_line(&c, &community, Some(id), &d.bundle.bundle, &d.items),
        days_union: d.bundle.bundle.savings.days_union_before,
        report: report_line(&d.report),
        community,
        map,
        slots,
        c,
    };
    render(&page.c, &page)
}

/// A milestone line of the delivery page.
pub struct MilestoneLine {
    pub id: i64,
    pub title: String,
    pub due: String,
    pub done: String,
    pub state: String,
    pub late: bool,
    pub photos: Vec<String>,
}

/// A contribution line.
pub struct ContributionLine {
    pub contributor: String,
    pub hours: String,
    pub money: String,
    pub materials: String,
    pub date: String,
}

/// An upkeep line.
pub struct UpkeepLine {
    pub id: i64,
    pub who: String,
    pub what: String,
    pub every_days: i64,
    pub next_due: String,
    pub overdue: bool,
    pub checkins: usize,
}

#[derive(Template)]
#[template(path = "renewal_delivery.html")]
struct DeliveryPage {
    c: Chrome,
    community: String,
    id: i64,
    title: String,
    error: String,
    window: String,
    budget: String,
    spent: String,
    progress: u32,
    bundle: Option<i64>,
    map: String,
    warnings: Vec<gongzhi_core::decision::Sentence>,
    milestones: Vec<MilestoneLine>,
    contributions: Vec<ContributionLine>,
    hours_total: String,
    money_total: String,
    money_share: String,
    upkeep: Vec<UpkeepLine>,
    answers: u64,
    satisfaction_rate: String,
    solution_rate: String,
    staff: bool,
    resident: bool,
    answered: bool,
}

/// A delivery project's page.
pub async fn delivery_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path((community, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let c = chrome(
        &headers,
        q.lang.clone(),
        user.clone(),
        &format!("/renewal/{community}/deliveries/{id}"),
    );
    let app::DeliveryPageView {
        view: v,
        today: now,
        photos,
        staff,
        resident,
        answered,
    } = app::delivery_page(&s, user.as_ref(), &community, id).await?;
    let row = &v.detail.delivery;
    let map = places_map(&[("surface lead".into(), row.title.clone(), row.site.geometry())]);
    let page = DeliveryPage {
        id,
        community: community.clone(),
        title: row.title.clone(),
        error: q.error.unwrap_or_default(),
        window: format!("{} – {}", row.window.from, row.window.to),
        budget: yuan(row.budget_cents),
        spent: yuan(row.spent_cents),
        progress: v.progress_percent,
        bundle: row.bundle,
        map,
        warnings: v.warnings.clone(),
        milestones: v
            .milestones
            .iter()
            .map(|m| MilestoneLine {
                id: m.milestone.id,
                title: m.milestone.title.clone(),
                due: m.milestone.due.to_string(),
                done: m.milestone.done.map(|d| d.to_string()).unwrap_or_default(),
                state: state_name(&c, m.state).to_owned(),
                late: matches!(m.state, MilestoneState::Late | MilestoneState::DoneLate),
                photos: m
                    .milestone
                    .photos
                    .iter()
                    .map(|p| {
                        photos
                            .get(p)
                            .map(|m| crate::media::url(*m))
                            .unwrap_or_else(|| format!("/api/renewal/photos/{}", urlencode(p)))
                    })
                    .collect(),
            })
            .collect(),
        contributions: v
            .detail
            .contributions
            .iter()
            .map(|x| ContributionLine {
                contributor: x.contribution.contributor.clone(),
                hours: gongzhi_core::renewal::delivery::hours_text(x.contribution.hours_tenths),
                money: yuan(x.contribution.money_cents),
                materials: x.contribution.materials.clone(),
                date: x.contribution.date.to_string(),
            })
            .collect(),
        hours_total: gongzhi_core::renewal::delivery::hours_text(v.co_production.hours_tenths),
        money_total: yuan(v.co_production.money_cents),
        money_share: v.co_production.money_share.clone(),
        upkeep: v
            .detail
            .upkeep
            .iter()
            .map(|u| UpkeepLine {
                id: u.id,
                who: u.who.clone(),
                what: u.what.clone(),
                every_days: u.every_days,
                next_due: u.next_due().to_string(),
                overdue: u.overdue(now),
                checkins: u.checkins.len(),
            })
            .collect(),
        answers: v.acceptance.answers,
        satisfaction_rate: v.acceptance.satisfaction_rate.clone(),
        solution_rate: v.acceptance.solution_rate.clone(),
        staff,
        resident,
        answered,
        c,
    };
    render(&page.c, &page)
}

/// Cents as yuan for people to read ("120,000.00").
fn yuan(cents: i64) -> String {
    gongzhi_core::indicators::group_digits(&cents_to_yuan(cents))
}

pub async fn delivery_submit(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
    Form(f): Form<DeliveryForm>,
) -> Result<Response, PageError> {
    let Some(p) = user else {
        return Ok(Redirect::to("/login").into_response());
    };
    let here = format!("/renewal/{community}/deliveries/{id}");
    let result = app::delivery_form(&s, &p, &community, id, f).await;
    Ok(back(&here, result.err().map(|e| e.message)))
}

/// A milestone's photo from the delivery page (multipart, field `photo`; renewal staff): the
/// same checks as `POST /api/renewal/deliveries/{id}/milestones/{milestone}/photos`. A file
/// refused for its type (415) or size (413) shows the delivery page with the error and that
/// status; other errors come back on the page as before.
pub async fn photo_submit(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Path((community, id, milestone)): Path<(String, i64, i64)>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let Some(p) = user else {
        return Ok(Redirect::to("/login").into_response());
    };
    let here = format!("/renewal/{community}/deliveries/{id}");
    let c = chrome(&headers, None, None, &here);
    let result: Result<(), ApiError> = async {
        app::require_staff_of_delivery_in(&s, &p, &community, id).await?;
        let mut photo = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| crate::media::form_error(crate::media::PHOTO, "photo: the form is not readable", e))?
        {
            if field.name() != Some("photo") {
                continue;
            }
            let ct = field.content_type().unwrap_or("").to_owned();
            let data = field
                .bytes()
                .await
                .map_err(|e| crate::media::form_error(crate::media::PHOTO, "photo: the file is not readable", e))?;
            if !data.is_empty() {
                photo = Some((ct, data));
            }
        }
        let (ct, data) = photo.ok_or_else(|| ApiError::invalid(c.t("rw_photo_pick")))?;
        app::add_milestone_photo(&s, &p, id, milestone, || {
            crate::media::check(crate::media::PHOTO, &ct, &data)
        })
        .await?;
        Ok(())
    }
    .await;
    Ok(match result {
        Ok(()) => Redirect::to(&format!("{here}#milestone-{milestone}")).into_response(),
        Err(e) if matches!(e.status.as_u16(), 413 | 415) => {
            let q = PageQuery {
                error: Some(e.body.message),
                ..PageQuery::default()
            };
            let mut r = delivery_page(State(s), MaybeAuth(Some(p)), headers, Query(q), Path((community, id))).await?;
            *r.status_mut() = e.status;
            r
        }
        Err(e) => back(&here, Some(e.body.message)),
    })
}
