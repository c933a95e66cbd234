//! The dashboard (indicators per area or unit and period, as tables and SVG charts, with CSV
//! export) and the map (an area's grids or subdivisions coloured by an indicator, with cases).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use gongzhi_app::cases::{CaseQuery, Period};
use gongzhi_core::ids::CaseId;
use gongzhi_core::indicators::Counters;
use gongzhi_core::territory::CityCode;
use gongzhi_core::territory::Level;
use serde::Deserialize;

use super::cases::local_time;
use super::{render, svg, Chrome, LangQuery, LoggedIn, PageError};
use crate::api::cases::{indicator_view, Indicators};
use crate::auth::MaybeAuth;
use crate::{ApiError, AppState};
use gongzhi_app::cases as loop_;

/// The dashboard's and the map's micro-renewal texts (key, 中文, English), sorted by key.
pub(crate) const TEXTS: super::i18n::Texts = &[
    ("renewal_work", "社区微更新", "Community micro-renewal"),
    ("ri_co_produced", "参与共建的居民", "Residents who co-produced"),
    (
        "ri_co_share",
        "共建占项目价值（资金／工时）",
        "Co-produced share of value (money / hours)",
    ),
    (
        "ri_days",
        "需求到交付天数（中位／平均）",
        "Days from need to delivery (median / mean)",
    ),
    ("ri_deliberated", "参与议事的居民", "Residents who deliberated"),
    ("ri_delivered", "已交付需求", "Needs delivered"),
    (
        "ri_interventions",
        "施工干预（合并前→后）",
        "Interventions (before → after merging)",
    ),
    (
        "ri_needs",
        "需求：提出／整合／入方案／交付",
        "Needs: raised / clustered / in proposals / delivered",
    ),
    ("ri_needs_raised", "提出的更新需求", "Renewal needs raised"),
    ("ri_raised", "提出需求的居民", "Residents who raised needs"),
    ("ri_residents", "认证居民", "Verified residents"),
    ("ri_voted", "参与投票的居民", "Residents who voted"),
    ("ri_voted_share", "投票参与率", "Share of residents who voted"),
];

#[derive(Deserialize, Default)]
pub struct DashQuery {
    /// area (default) or unit.
    pub dim: Option<String>,
    /// A division or grid code (area) or a unit id; default the city.
    pub key: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub lang: Option<String>,
}

/// One row of the breakdown table.
pub struct Row {
    pub key: String,
    pub name: String,
    pub href: String,
    pub c: Counters,
    pub closure: String,
    pub on_time: String,
    pub satisfaction: String,
}

fn period(q: &DashQuery, city: CityCode) -> Result<Period, ApiError> {
    let today = gongzhi_core::calendar::china_today();
    let parse =
        |field: &str, v: &Option<String>, default: chrono::NaiveDate| match v.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ApiError::invalid(format!("{field}: '{s}' is not a date YYYY-MM-DD"))),
            None => Ok(default),
        };
    let to = parse("to", &q.to, today)?;
    let from = parse("from", &q.from, to - chrono::Duration::days(364))?;
    let dim = q.dim.clone().filter(|d| d == "unit").unwrap_or_else(|| "area".into());
    let key = q
        .key
        .clone()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| city.to_string());
    Ok(Period {
        dim,
        key,
        from: from.to_string(),
        to: to.to_string(),
    })
}

/// The breakdown table's rows: every unit when the period is a unit's, else the parts of the area.
fn breakdown(p: &Period, parts: Vec<(String, String, Counters)>) -> Vec<Row> {
    let row = |key: String, name: String, href: String, c: Counters| {
        use gongzhi_core::indicators::percent_or_dash;
        Row {
            closure: percent_or_dash(c.closure_rate()),
            on_time: percent_or_dash(c.on_time_closure_rate()),
            satisfaction: percent_or_dash(c.satisfaction_rate()),
            key,
            name,
            href,
            c,
        }
    };
    parts
        .into_iter()
        .map(|(code, name, c)| {
            let href = if p.dim == "unit" {
                format!("/dashboard?dim=unit&key={code}&from={}&to={}", p.from, p.to)
            } else {
                format!("/dashboard?key={code}&from={}&to={}", p.from, p.to)
            };
            row(code, name, href, c)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    dim: String,
    key: String,
    title: String,
    from: String,
    to: String,
    ind: Indicators,
    rows: Vec<Row>,
    trend: String,
    categories: String,
    overdue: Vec<(CaseId, String, String, String)>,
    export: String,
    /// The grid indicators (全科网格) of the area: KPIs and one row per part.
    grid_kpis: Vec<(&'static str, String)>,
    grid_rows: Vec<GridRow>,
    /// The micro-renewal indicators (社区微更新) of the area: KPIs and one row per part.
    renewal_kpis: Vec<(&'static str, String)>,
    renewal_rows: Vec<RenewalRow>,
}

/// One part's micro-renewal indicators on the dashboard.
struct RenewalRow {
    name: String,
    key: String,
    href: String,
    needs: String,
    voted: String,
    co_produced: String,
    co_share: String,
    interventions: String,
    days: String,
}

/// One part's grid indicators on the dashboard.
struct GridRow {
    name: String,
    key: String,
    href: String,
    by_patrol: i64,
    by_residents: i64,
    missed: String,
    needs_open: i64,
    needs_met: i64,
    resources: String,
    patrols: i64,
    visits: i64,
    attendances: i64,
    volunteer_hours: i64,
}

fn rate_or_dash(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |r| format!("{:.1}%", r * 100.0))
}

/// The grid indicators of an area over the period, with one row per breakdown row's part.
async fn grid_work(
    s: &AppState,
    city: CityCode,
    p: &Period,
    rows: &[Row],
) -> Result<(Vec<(&'static str, String)>, Vec<GridRow>), ApiError> {
    use gongzhi_core::gridteam::missed_report_rate;
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| ApiError::invalid("date"));
    let (from_ms, to_ms) = gongzhi_app::gridteam::day_range_ms(day(&p.from)?, day(&p.to)?);
    let (total, parts) = gongzhi_app::gridteam::area_grid_counts(s, city, &p.key, from_ms, to_ms).await?;
    let kpis = vec![
        ("grid_by_patrol", total.cases_by_patrol.to_string()),
        ("grid_by_residents", total.cases_by_residents.to_string()),
        (
            "grid_missed_rate",
            rate_or_dash(missed_report_rate(total.cases_by_residents, total.cases_registered)),
        ),
        (
            "grid_needs_met",
            format!(
                "{} / {}",
                total.needs_met,
                total.needs_open + total.needs_matched + total.needs_met
            ),
        ),
        (
            "grid_resources_used",
            format!("{} / {}", total.resources_used, total.resources),
        ),
        ("grid_patrols", total.patrols.to_string()),
        ("grid_attendances", total.attendances.to_string()),
        ("grid_volunteer_hours", total.volunteer_hours.to_string()),
    ];
    let grid_rows = rows
        .iter()
        .filter_map(|r| {
            let c = parts.get(&r.key)?;
            Some(GridRow {
                name: r.name.clone(),
                key: r.key.clone(),
                href: r.href.clone(),
                by_patrol: c.cases_by_patrol,
                by_residents: c.cases_by_residents,
                missed: rate_or_dash(missed_report_rate(c.cases_by_residents, c.cases_registered)),
                needs_open: c.needs_open,
                needs_met: c.needs_met,
                resources: format!("{} / {}", c.resources_used, c.resources),
                patrols: c.patrols,
                visits: c.visits,
                attendances: c.attendances,
                volunteer_hours: c.volunteer_hours,
            })
        })
        .collect();
    Ok((kpis, grid_rows))
}

/// `12 (25.00%)`: a count of residents and their share.
fn share_text(x: &gongzhi_core::renewal::indicators::Share) -> String {
    format!("{} ({})", x.count, x.share)
}

fn days_text(w: &gongzhi_core::renewal::indicators::Waiting) -> String {
    let f = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"));
    format!("{} / {}", f(w.median), f(w.mean))
}

/// The micro-renewal indicators of an area over the period, with one row per breakdown row's
/// part (the same figures as `GET /api/renewal/indicators`).
async fn renewal_work(
    s: &AppState,
    city: CityCode,
    p: &Period,
    rows: &[Row],
) -> Result<(Vec<(&'static str, String)>, Vec<RenewalRow>), ApiError> {
    use crate::api::renewal_indicators::of_area;
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| ApiError::invalid("date"));
    let (from, to) = (day(&p.from)?, day(&p.to)?);
    let i = of_area(s, city, &p.key, from, to).await?;
    let n = &i.needs;
    let co = &i.co_production;
    let kpis = vec![
        (
            "ri_needs",
            format!("{} / {} / {} / {}", n.raised, n.clustered, n.in_proposals, n.delivered),
        ),
        ("ri_residents", i.residents.to_string()),
        ("ri_raised", share_text(&i.participation.raised)),
        ("ri_deliberated", share_text(&i.participation.deliberated)),
        ("ri_voted", share_text(&i.participation.voted)),
        ("ri_co_produced", share_text(&i.participation.co_produced)),
        (
            "ri_co_share",
            format!("{} ({} / {})", co.share, co.money_share, co.hours_share),
        ),
        (
            "ri_interventions",
            format!("{} → {}", i.interventions.before, i.interventions.after),
        ),
        ("ri_days", days_text(&i.days_to_delivery)),
    ];
    let mut out = Vec::new();
    // Parts are divisions (grids of a community have no residents or votes of their own).
    for r in rows.iter().filter(|r| r.key.len() <= 12).take(100) {
        let i = of_area(s, city, &r.key, from, to).await?;
        out.push(RenewalRow {
            name: r.name.clone(),
            key: r.key.clone(),
            href: r.href.clone(),
            needs: format!(
                "{} / {} / {} / {}",
                i.needs.raised, i.needs.clustered, i.needs.in_proposals, i.needs.delivered
            ),
            voted: share_text(&i.participation.voted),
            co_produced: share_text(&i.participation.co_produced),
            co_share: i.co_production.share,
            interventions: format!("{} → {}", i.interventions.before, i.interventions.after),
            days: days_text(&i.days_to_delivery),
        });
    }
    Ok((kpis, out))
}

pub async fn dashboard(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Query(q): Query<DashQuery>,
) -> Result<Response, PageError> {
    let city = p.city;
    let period = period(&q, city)?;
    if !loop_::may_read_indicators(&p, &period.dim, Some(&period.key)) {
        return Err(ApiError::forbidden(c.t("not_yours")).into());
    }
    let f = loop_::figures(&s, &p, &period, 20).await?;
    let (counters, months, by_category, overdue_rows) = (f.counters, f.months, f.by_category, f.overdue);
    let rows = breakdown(&period, f.parts);
    let labels: Vec<String> = months.iter().map(|(m, _)| m.clone()).collect();
    let trend = svg::line_chart(
        &labels,
        &[
            (
                c.t("collected"),
                "s1",
                months.iter().map(|(_, c)| c.collected as f64).collect(),
            ),
            (
                c.t("closed"),
                "s2",
                months.iter().map(|(_, c)| c.closed as f64).collect(),
            ),
            (
                c.t("overdue"),
                "s3",
                months.iter().map(|(_, c)| c.overdue as f64).collect(),
            ),
        ],
    );
    let cat = loop_::catalogue(&s, city).await?;
    let mut by_cat: Vec<(String, f64)> = by_category
        .into_iter()
        .map(|(k, c)| {
            (
                cat.category(&k).map(|c| c.name.clone()).unwrap_or(k),
                c.collected as f64,
            )
        })
        .collect();
    by_cat.sort_by(|a, b| b.1.total_cmp(&a.1));
    by_cat.truncate(10);
    let categories = svg::bar_chart(&by_cat);
    let overdue = overdue_rows
        .0
        .into_iter()
        .map(|r| {
            (
                r.case.id,
                r.case.description.chars().take(40).collect(),
                r.case.unit_name.unwrap_or_default(),
                r.case.deadline_ms.map(local_time).unwrap_or_default(),
            )
        })
        .collect();
    let title = loop_::name_of(&s, city, &period).await?;
    let export = format!(
        "/dashboard.csv?dim={}&key={}&from={}&to={}",
        period.dim, period.key, period.from, period.to
    );
    let (grid_kpis, grid_rows) = if period.dim == "area" {
        grid_work(&s, city, &period, &rows).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let (renewal_kpis, renewal_rows) = if period.dim == "area" && period.key.len() <= 12 {
        renewal_work(&s, city, &period, &rows).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let page = DashboardPage {
        renewal_kpis,
        renewal_rows,
        grid_kpis,
        grid_rows,
        // The page shows the 100 busiest units (the exports have them all).
        rows: rows.into_iter().take(100).collect(),
        ind: indicator_view(counters),
        dim: period.dim,
        key: period.key,
        title,
        from: period.from,
        to: period.to,
        trend,
        categories,
        overdue,
        export,
        c,
    };
    render(&page.c, &page)
}

/// The dashboard's breakdown table as CSV (UTF-8 with BOM, so spreadsheets read the Chinese).
pub async fn dashboard_csv(s: State<AppState>, user: MaybeAuth, q: Query<DashQuery>) -> Result<Response, PageError> {
    dashboard_export(s, user, q, false).await
}

/// The dashboard's breakdown table as an XLSX workbook.
pub async fn dashboard_xlsx(s: State<AppState>, user: MaybeAuth, q: Query<DashQuery>) -> Result<Response, PageError> {
    dashboard_export(s, user, q, true).await
}

async fn dashboard_export(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    Query(q): Query<DashQuery>,
    xlsx: bool,
) -> Result<Response, PageError> {
    let Some(p) = user else {
        return Err(ApiError::unauthorized().into());
    };
    let city = p.city;
    let period = period(&q, city)?;
    if !loop_::may_read_indicators(&p, &period.dim, Some(&period.key)) {
        return Err(ApiError::forbidden("these indicators are outside your jurisdiction").into());
    }
    let rows = breakdown(&period, loop_::breakdown(&s, &p, &period).await?);
    let mut header_row = vec!["code".to_owned(), "name 名称".to_owned()];
    header_row.extend(Counters::FIELDS.iter().map(|(name, zh)| format!("{name} {zh}")));
    header_row.extend(
        [
            "closure_rate 结案率",
            "on_time_rate 按期结案率",
            "satisfaction_rate 满意率",
        ]
        .map(str::to_owned),
    );
    let stem = format!("indicators-{}-{}-{}", period.key, period.from, period.to);
    if xlsx {
        let bytes = xlsx_table(&header_row, &rows).map_err(|e| ApiError::invalid(format!("xlsx: {e}")))?;
        let file = format!("attachment; filename=\"{stem}.xlsx\"");
        let ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned();
        return Ok(([(header::CONTENT_TYPE, ct), (header::CONTENT_DISPOSITION, file)], bytes).into_response());
    }
    let mut w = gongzhi_core::table::CsvWriter::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_err = |e: csv::Error| ApiError::invalid(format!("csv: {e}"));
    w.write_record(&header_row).map_err(csv_err)?;
    for r in rows {
        let mut cells = vec![r.key.clone(), r.name.clone()];
        cells.extend(r.c.values().into_iter().map(|v| v.to_string()));
        cells.extend([r.closure.to_string(), r.on_time.to_string(), r.satisfaction.to_string()]);
        w.write_record(&cells).map_err(csv_err)?;
    }
    let out = String::from_utf8(w.into_inner().map_err(|e| ApiError::invalid(format!("csv: {e}")))?)
        .map_err(|e| ApiError::invalid(format!("csv: {e}")))?;
    let file = format!("attachment; filename=\"{stem}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        out,
    )
        .into_response())
}

fn xlsx_table(header_row: &[String], rows: &[Row]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("指标 indicators")?;
    for (col, h) in header_row.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, h, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, &r.key)?;
        sheet.write_string(row, 1, &r.name)?;
        for (j, v) in r.c.values().into_iter().enumerate() {
            sheet.write_number(row, j as u16 + 2, v as f64)?;
        }
        let base = Counters::FIELDS.len() as u16 + 2;
        for (j, text) in [&r.closure, &r.on_time, &r.satisfaction].into_iter().enumerate() {
            sheet.write_string(row, base + j as u16, text)?;
        }
    }
    sheet.set_freeze_panes(1, 2)?;
    book.save_to_buffer()
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    /// The area to draw (a division code); default the city.
    pub within: Option<String>,
    /// collected (default), closure_rate, or a grid indicator: missed_report_rate (漏报率),
    /// needs_met, patrols, renewal_needs, renewal_delivered, renewal_voted.
    pub indicator: Option<String>,
    pub lang: Option<String>,
}

/// What the map can colour its parts by: case indicators, grid indicators, then micro-renewal
/// indicators.
const MAP_INDICATORS: [&str; 8] = [
    "collected",
    "closure_rate",
    "missed_report_rate",
    "needs_met",
    "patrols",
    "renewal_needs",
    "renewal_delivered",
    "renewal_voted",
];

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    c: Chrome,
    within: String,
    title: String,
    indicator: String,
    map: String,
    /// (value, label key, selected)
    indicators: Vec<(&'static str, &'static str, bool)>,
    legend: Vec<(String, String)>,
    ancestry: Vec<(String, String)>,
}

pub async fn map_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<MapQuery>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &LangQuery { lang: q.lang.clone() }, user, "/map");
    let city = crate::api::territory::city_of(&s, c.user.as_ref());
    let within = q
        .within
        .clone()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| city.to_string());
    let d = gongzhi_app::territory::division(&s, city, &within).await?;
    let indicator = q
        .indicator
        .clone()
        .filter(|i| MAP_INDICATORS.contains(&i.as_str()))
        .unwrap_or_else(|| "collected".into());
    let staff = c
        .user
        .as_ref()
        .is_some_and(|u| loop_::may_read_indicators(u, "area", Some(&within)));
    let to = gongzhi_core::calendar::china_today();
    let from = (to - chrono::Duration::days(364)).to_string();
    let to = to.to_string();
    // The parts of the area: grids of a community, else the subdivisions that have a boundary.
    let parts: Vec<(String, String, geo::MultiPolygon<f64>, String)> = gongzhi_app::territory::map_parts(&s, city, &d)
        .await?
        .into_iter()
        .map(|part| {
            let href = if part.grid {
                format!("/grids/{}", part.code)
            } else {
                format!("/map?within={}&indicator={indicator}", part.code)
            };
            (part.code, part.name, part.geometry, href)
        })
        .collect();
    let mut values = Vec::new();
    if staff && matches!(indicator.as_str(), "collected" | "closure_rate") {
        let codes: Vec<&str> = parts.iter().map(|(code, ..)| code.as_str()).collect();
        let user = c.user.as_ref().expect("staff");
        for cnt in loop_::area_counters(&s, user, &codes, &from, &to).await? {
            values.push(match indicator.as_str() {
                // In percent, one decimal, as the other rates of the map.
                "closure_rate" => cnt.closure_rate().map(|r| r.scaled(3) as f64 / 10.0),
                _ => Some(cnt.collected as f64),
            });
        }
    } else if staff && indicator.starts_with("renewal_") {
        let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a date we wrote");
        for (code, ..) in &parts {
            let i = crate::api::renewal_indicators::of_area(&s, city, code, day(&from), day(&to)).await?;
            values.push(match indicator.as_str() {
                "renewal_needs" => Some(i.needs.raised as f64),
                "renewal_delivered" => Some(i.needs.delivered as f64),
                // The voters' share in percent, one decimal (none without residents).
                _ => gongzhi_core::indicators::Ratio::new(i.participation.voted.count as u64, i.residents as u64)
                    .map(|r| r.scaled(3) as f64 / 10.0),
            });
        }
    } else if staff {
        let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a date we wrote");
        let (from_ms, to_ms) = gongzhi_app::gridteam::day_range_ms(day(&from), day(&to));
        let (_, by_part) = gongzhi_app::gridteam::area_grid_counts(&s, city, &within, from_ms, to_ms).await?;
        for (code, ..) in &parts {
            let g = by_part.get(code).cloned().unwrap_or_default();
            values.push(match indicator.as_str() {
                "missed_report_rate" => {
                    gongzhi_core::gridteam::missed_report_rate(g.cases_by_residents, g.cases_registered)
                        .map(|r| (r * 1000.0).round() / 10.0)
                }
                "needs_met" => Some(g.needs_met as f64),
                _ => Some(g.patrols as f64),
            });
        }
    }
    let (classes, breaks) = svg::quintiles(&values);
    // Rates are shown in percent.
    let unit = if matches!(
        indicator.as_str(),
        "closure_rate" | "missed_report_rate" | "renewal_voted"
    ) {
        "%"
    } else {
        ""
    };
    let shapes: Vec<svg::Shape> = parts
        .iter()
        .enumerate()
        .map(|(i, (_, name, geom, href))| {
            let v = values.get(i).copied().flatten();
            let label = match v {
                Some(v) => format!("{name}: {v}{unit}"),
                None => name.clone(),
            };
            svg::Shape {
                href: href.clone(),
                label,
                geometry: geom.clone(),
                // Staff see the indicator's colours; a part without a value is grey, not a colour
                // of the plain map.
                class: staff.then(|| classes[i].clone().unwrap_or_else(|| "nodata".into())),
            }
        })
        .collect();
    let mut markers = Vec::new();
    if staff && d.level >= Level::Street {
        let q = CaseQuery {
            within: Some(within.clone()),
            states: gongzhi_core::case::CaseState::ALL
                .iter()
                .copied()
                .filter(|s| s.is_open())
                .collect(),
            page: 1,
            page_size: 300,
            ..Default::default()
        };
        for r in loop_::list(&s, c.user.as_ref().expect("staff"), q).await?.0 {
            let overdue = r.case.deadline_ms.is_some_and(|d| d < gongzhi_app::now_ms());
            markers.push(svg::Marker {
                lng: r.case.lng,
                lat: r.case.lat,
                href: format!("/cases/{}", r.case.id),
                label: format!(
                    "#{} {}",
                    r.case.id,
                    r.case.description.chars().take(20).collect::<String>()
                ),
                class: if overdue { "late".into() } else { "open".into() },
            });
        }
    }
    let mut legend: Vec<(String, String)> = Vec::new();
    if staff {
        legend = breaks
            .into_iter()
            .map(|(class, lo)| (class, format!("≥ {lo}{unit}")))
            .collect();
        if values.iter().any(Option::is_none) {
            legend.push(("nodata".into(), c.t("map_no_data").into()));
        }
    }
    let ancestry = gongzhi_app::territory::ancestry(&s, city, &within)
        .await?
        .into_iter()
        .map(|a| (a.code.to_string(), a.name))
        .collect();
    let page = MapPage {
        within,
        title: d.name,
        indicators: MAP_INDICATORS
            .iter()
            .map(|i| {
                (
                    *i,
                    match *i {
                        "missed_report_rate" => "grid_missed_rate",
                        "needs_met" => "grid_needs_met",
                        "patrols" => "grid_patrols",
                        "renewal_needs" => "ri_needs_raised",
                        "renewal_delivered" => "ri_delivered",
                        "renewal_voted" => "ri_voted_share",
                        other => other,
                    },
                    *i == indicator,
                )
            })
            .collect(),
        indicator,
        map: svg::map_with(&shapes, &markers, false),

        legend,
        ancestry,
        c,
    };
    render(&page.c, &page)
}

impl DashboardPage {
    /// A role score's role (the API's stored word) in the page's language.
    fn role_name(&self, score: &serde_json::Value) -> String {
        super::word_label::<gongzhi_core::indicators::ScoredRole>(self.c.lang, score["role"].as_str().unwrap_or(""))
    }
}
