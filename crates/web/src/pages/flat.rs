//! Flat governance pages: the workload heat map by community with early warnings and the
//! push-down list (/flat), the responsibility lists with their check report (/flat/lists), and
//! the what-if replay comparison chart (/flat/replay).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use gongzhi_core::access::Principal;
use gongzhi_core::flat::{CheckReport, Matter};
use gongzhi_core::territory::Hierarchy;
use gongzhi_core::whatif::Assumptions;

use serde::Deserialize;

use super::{render, svg, Chrome, LoggedIn, PageError};
use crate::api::flat::period;
use crate::{ApiError, AppState};
use gongzhi_app::flat::{self as service, CommunityLoad, PushDown, ReplayReport};

/// The texts of the flat-governance pages. Keep keys sorted.
pub(crate) const TEXTS: super::i18n::Texts = &[
    ("flat_assumptions", "模型假设", "Model assumptions"),
    ("flat_busiest", "最忙人员（步骤数）", "Busiest worker (steps)"),
    (
        "flat_catalogue_push_downs",
        "派单目录把部门事项派给基层",
        "Catalogue sends department matters to grassroots",
    ),
    ("flat_check", "派单目录核对", "Check against the dispatch catalogue"),
    ("flat_conflicts", "职责交叉（多个主体）", "Conflicts (two owners)"),
    ("flat_delegate", "可委托", "May delegate"),
    ("flat_demands", "填表报数", "Forms demanded"),
    ("flat_disputes", "争议", "Disputes"),
    ("flat_extensions", "延期", "Extensions"),
    ("flat_gaps", "职责空白（无主体）", "Gaps (no owner)"),
    (
        "flat_heat",
        "基层负担热力图（人均案件）",
        "Workload heat map (cases per worker)",
    ),
    ("flat_hierarchy", "层级模式", "Hierarchy"),
    ("flat_hops", "转派层次/件", "Hops per case"),
    ("flat_hours", "工时", "Working hours"),
    ("flat_lists", "权责清单", "Responsibility lists"),
    ("flat_load", "基层人均负荷", "Load per grassroots worker"),
    ("flat_matter", "事项", "Matter"),
    ("flat_none", "无", "None"),
    ("flat_on_time", "按期率", "On-time rate"),
    ("flat_owner", "权责清单归属", "Owner by the lists"),
    ("flat_per_worker", "人均案件", "Cases per worker"),
    (
        "flat_push_down_list",
        "职能部门事项派给基层（下推）",
        "Department matters pushed down to grassroots",
    ),
    ("flat_push_downs", "下推", "Push-downs"),
    ("flat_reach", "到达承办单位（小时）", "Hours to the acting unit"),
    ("flat_replay", "层级推演", "What-if replay"),
    ("flat_returns", "退单", "Returns"),
    ("flat_staff", "人员", "Staff"),
    ("flat_time_limit", "时限", "Time limit"),
    ("flat_title", "扁平化治理", "Flat governance"),
    ("flat_warnings", "负荷预警", "Early warnings"),
    ("flat_workload", "基层负担", "Grassroots workload"),
];

fn staff_only(p: &Principal, c: &Chrome, area: &str) -> Result<(), PageError> {
    if service::may_view(p, area) {
        Ok(())
    } else {
        Err(ApiError::forbidden(c.t("not_yours")).into())
    }
}

#[derive(Deserialize, Default)]
pub struct FlatQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub within: Option<String>,
    pub hierarchy: Option<String>,
    pub lang: Option<String>,
}

/// A table row of the workload page.
pub struct LoadRow {
    pub l: CommunityLoad,
    pub per_worker: String,
    pub hours: String,
    pub warnings: String,
}

#[derive(Template)]
#[template(path = "flat_workload.html")]
struct WorkloadPage {
    c: Chrome,
    from: String,
    to: String,
    within: String,
    map: String,
    rows: Vec<LoadRow>,
    push_downs: Vec<PushDown>,
    /// All push-downs of the period (the page lists the latest 100).
    push_down_total: usize,
    max_per_worker: f64,
}

fn one(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into())
}

/// /flat: workload per community as a heat map and a table, warnings, push-downs.
pub async fn workload_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Query(q): Query<FlatQuery>,
) -> Result<Response, PageError> {
    let city = p.city;
    let within = q
        .within
        .clone()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| city.to_string());
    staff_only(&p, &c, &within)?;
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), 90)?;
    let prefix = if within == city.as_str() { "" } else { within.as_str() };
    let w = service::workload(&s, city, from, to, prefix).await?;
    let named: Vec<&str> = w.communities.iter().map(|r| r.community.as_str()).collect();
    let shapes_of = service::community_shapes(&s, city, &named).await?;
    let values: Vec<Option<f64>> = w.communities.iter().map(|r| r.per_worker).collect();
    let (classes, _) = svg::quintiles(&values);
    let shapes: Vec<svg::Shape> = w
        .communities
        .iter()
        .zip(classes)
        .filter_map(|(r, class)| {
            let geometry = shapes_of.get(&r.community)?.clone();
            Some(svg::Shape {
                href: format!("/dashboard?key={}", r.community),
                label: format!("{} {}", r.name, one(r.per_worker)),
                geometry,
                // A community without grid workers is the most loaded of all.
                class: class.or_else(|| Some("q4".into())),
            })
        })
        .collect();
    let rows = w
        .communities
        .into_iter()
        .map(|l| LoadRow {
            per_worker: one(l.per_worker),
            hours: format!("{:.1}", l.load.hours + l.load.demand_hours),
            warnings: l
                .warnings
                .iter()
                .map(|x| {
                    let kind = x.kind.label(c.lang);
                    format!("{} {kind} ({:.1})", x.period, x.per_worker)
                })
                .collect::<Vec<_>>()
                .join("; "),
            l,
        })
        .collect();
    let page = WorkloadPage {
        map: svg::map(&shapes),
        from: from.to_string(),
        to: to.to_string(),
        within: if prefix.is_empty() { String::new() } else { within },
        rows,
        push_down_total: w.push_downs.len(),
        push_downs: w.push_downs.into_iter().take(100).collect(),
        max_per_worker: w.rule.max_per_worker,
        c,
    };
    render(&page.c, &page)
}

#[derive(Template)]
#[template(path = "flat_lists.html")]
struct ListsPage {
    c: Chrome,
    version: i64,
    items: Vec<Matter>,
    check: CheckReport,
}

/// /flat/lists: the responsibility lists and the check report.
pub async fn lists_page(State(s): State<AppState>, LoggedIn { p, c }: LoggedIn) -> Result<Response, PageError> {
    if !service::may_open(&p) {
        return Err(ApiError::forbidden(c.t("not_yours")).into());
    }
    let city = p.city;
    let (version, list) = service::responsibilities(&s, city).await?;
    let check = service::check(&s, city).await?;
    let page = ListsPage {
        c,
        version,
        items: list.items().to_vec(),
        check,
    };
    render(&page.c, &page)
}

#[derive(Template)]
#[template(path = "flat_replay.html")]
struct ReplayPage {
    c: Chrome,
    hierarchy: String,
    from: String,
    to: String,
    r: ReplayReport,
    chart: String,
    rows: Vec<(String, String, String)>,
}

/// Grouped bars: each metric as two bars (one per hierarchy), scaled to the metric's larger value.
fn compare_chart(names: (&str, &str), metrics: &[(String, f64, f64, String, String)]) -> String {
    let (w, bar, left) = (640.0, 16.0, 190.0);
    let group = 2.0 * bar + 14.0;
    let h = group * metrics.len() as f64 + 30.0;
    let mut out = format!(
        r#"<svg class="chart" id="replay-chart" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img">"#
    );
    out.push_str(&format!(
        r#"<rect class="bar" x="{left}" y="4" width="12" height="12"/><text class="tick" x="{}" y="14">{}</text><rect class="bar alt" x="{}" y="4" width="12" height="12"/><text class="tick" x="{}" y="14">{}</text>"#,
        left + 16.0,
        svg::esc(names.0),
        left + 160.0,
        left + 176.0,
        svg::esc(names.1)
    ));
    for (i, (label, a, b, ta, tb)) in metrics.iter().enumerate() {
        let y = 26.0 + group * i as f64;
        let max = a.max(*b).max(1e-9);
        out.push_str(&format!(
            r#"<text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + bar + 4.0,
            svg::esc(label)
        ));
        for (k, (v, t)) in [(a, ta), (b, tb)].into_iter().enumerate() {
            let by = y + bar * k as f64;
            let bw = (w - left - 80.0) * v / max;
            let class = if k == 0 { "bar" } else { "bar alt" };
            out.push_str(&format!(
                r#"<rect class="{class}" x="{left}" y="{by:.1}" width="{bw:.1}" height="{:.1}"><title>{}</title></rect><text class="tick" x="{:.1}" y="{:.1}">{}</text>"#,
                bar - 2.0,
                svg::esc(t),
                left + bw + 4.0,
                by + 12.0,
                svg::esc(t)
            ));
        }
    }
    out.push_str("</svg>");
    out
}

/// /flat/replay: the what-if replay of a period as a comparison chart and table.
pub async fn replay_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Query(q): Query<FlatQuery>,
) -> Result<Response, PageError> {
    let city = p.city;
    staff_only(&p, &c, city.as_str())?;
    let hierarchy = q
        .hierarchy
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "flat".into());
    let h = Hierarchy::parse(&hierarchy)?;
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), 30)?;
    let r = service::replay(&s, city, &h, from, to, &Assumptions::default()).await?;
    let (n1, o1) = &r.columns[0];
    let (n2, o2) = &r.columns[1];
    let metrics = vec![
        (
            c.t("flat_hops").to_owned(),
            o1.hops_per_case,
            o2.hops_per_case,
            format!("{:.2}", o1.hops_per_case),
            format!("{:.2}", o2.hops_per_case),
        ),
        (
            c.t("flat_reach").to_owned(),
            o1.hours_to_reach,
            o2.hours_to_reach,
            format!("{:.2}", o1.hours_to_reach),
            format!("{:.2}", o2.hours_to_reach),
        ),
        (
            c.t("flat_on_time").to_owned(),
            o1.on_time_rate * 100.0,
            o2.on_time_rate * 100.0,
            format!("{:.1}%", o1.on_time_rate * 100.0),
            format!("{:.1}%", o2.on_time_rate * 100.0),
        ),
        (
            c.t("flat_load").to_owned(),
            o1.load_per_grassroots_worker,
            o2.load_per_grassroots_worker,
            format!("{:.1}", o1.load_per_grassroots_worker),
            format!("{:.1}", o2.load_per_grassroots_worker),
        ),
    ];
    let chart = compare_chart((n1, n2), &metrics);
    let rows = metrics.into_iter().map(|(l, _, _, a, b)| (l, a, b)).collect();
    let page = ReplayPage {
        c,
        hierarchy,
        from: from.to_string(),
        to: to.to_string(),
        chart,
        rows,
        r,
    };
    render(&page.c, &page)
}
