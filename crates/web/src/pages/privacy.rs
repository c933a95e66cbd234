//! The log of reads of personal data, for data-protection officers (个人信息保护法): filters by
//! days, links to each record, a CSV download.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use gongzhi_app::privacy::{self as service, ReadsQuery};

use super::{render, Chrome, LoggedIn, PageError};
use crate::AppState;

/// The texts of these pages (key, 中文, English), sorted by key.
pub(crate) const TEXTS: super::i18n::Texts = &[
    ("pd_at", "时间", "When"),
    ("pd_csv", "下载 CSV", "Download CSV"),
    ("pd_filter", "筛选", "Filter"),
    ("pd_from", "起始日期", "From"),
    ("pd_intro", "除本人外，每次查看报告人联系方式或网格住户信息都记录在此：谁、何时、哪条记录、在哪里查看。", "Every time someone other than the person themselves was shown a reporter's contact details or a grid's household register: who, when, which record, and where."),
    ("pd_kind", "内容", "What"),
    ("pd_kind_contact", "报告人联系方式", "Reporter's contact details"),
    ("pd_kind_households", "网格住户信息", "Grid household register"),
    ("pd_next", "下一页", "Next page"),
    ("pd_none", "没有符合条件的记录。", "No reads match."),
    ("pd_prev", "上一页", "Previous page"),
    ("pd_purpose", "查看途径", "Where"),
    ("pd_purpose_api.case", "接口：案件详情", "API: case detail"),
    ("pd_purpose_api.households", "接口：网格住户名单", "API: grid households list"),
    ("pd_purpose_page.case", "页面：案件", "Page: case"),
    ("pd_purpose_page.grid_team", "页面：网格工作", "Page: grid team"),
    ("pd_reader", "查看人", "Reader"),
    ("pd_record", "记录", "Record"),
    ("pd_record_case", "案件", "Case"),
    ("pd_record_grid", "网格", "Grid"),
    ("pd_title", "个人信息查看记录", "Reads of personal data"),
    ("pd_to", "截止日期", "To"),
    ("pd_total", "共", "Total"),
];

pub struct Row {
    pub at: String,
    pub reader: String,
    pub reader_href: String,
    pub kind: &'static str,
    pub record: String,
    pub record_href: String,
    pub filter_href: String,
    pub purpose: String,
}

#[derive(Template)]
#[template(path = "privacy_reads.html")]
struct ReadsPage {
    c: Chrome,
    rows: Vec<Row>,
    total: i64,
    from: String,
    to: String,
    csv_href: String,
    prev_href: Option<String>,
    next_href: Option<String>,
}

fn query_string(q: &ReadsQuery, page: Option<u32>) -> String {
    let mut parts = form_urlencoded::Serializer::new(String::new());
    if let Some(v) = q.from.as_deref().filter(|v| !v.is_empty()) {
        parts.append_pair("from", v);
    }
    if let Some(v) = q.to.as_deref().filter(|v| !v.is_empty()) {
        parts.append_pair("to", v);
    }
    if let Some(v) = q.reader {
        parts.append_pair("reader", &v.to_string());
    }
    if let Some(v) = q.subject.as_deref().filter(|v| !v.is_empty()) {
        parts.append_pair("subject", v);
    }
    if let Some(p) = page {
        parts.append_pair("page", &p.to_string());
    }
    parts.finish()
}

pub async fn reads(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Query(q): Query<ReadsQuery>,
) -> Result<Response, PageError> {
    let page = q.page.unwrap_or(1).max(1);
    let q = ReadsQuery {
        page: Some(page),
        page_size: Some(100),
        ..q
    };
    let (items, total) = service::reads(&s, &p, &q).await?;
    let rows = items
        .into_iter()
        .map(|r| {
            let (record, record_href) = match r.subject.split_once(':') {
                Some(("case", id)) => (format!("{} {id}", c.t("pd_record_case")), format!("/cases/{id}")),
                Some(("grid", code)) => (
                    format!("{} {code}", c.t("pd_record_grid")),
                    format!("/grids/{code}/team"),
                ),
                _ => (r.subject.clone(), String::new()),
            };
            let filter = ReadsQuery {
                subject: Some(r.subject.clone()),
                ..Default::default()
            };
            let by_reader = ReadsQuery {
                reader: Some(r.reader.0),
                ..Default::default()
            };
            Row {
                at: r.at,
                reader: r.reader_name,
                reader_href: format!("/privacy/reads?{}", query_string(&by_reader, None)),
                kind: c.t(&format!("pd_kind_{}", r.kind)),
                record,
                record_href,
                filter_href: format!("/privacy/reads?{}", query_string(&filter, None)),
                purpose: c.t(&format!("pd_purpose_{}", r.purpose)).to_owned(),
            }
        })
        .collect();
    let pages = (total + 99) / 100;
    let page_view = ReadsPage {
        rows,
        total,
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        csv_href: format!("/api/privacy/reads.csv?{}", query_string(&q, None)),
        prev_href: (page > 1).then(|| format!("/privacy/reads?{}", query_string(&q, Some(page - 1)))),
        next_href: (i64::from(page) < pages).then(|| format!("/privacy/reads?{}", query_string(&q, Some(page + 1)))),
        c,
    };
    render(&page_view.c, &page_view)
}
