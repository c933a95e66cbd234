//! Micro-renewal pages for proposals, the council and votes, under `/renewal/{community}/...`:
//! the residents' phone pages (proposals, amendments, voting, the receipt check), the planner's
//! (writing proposals, answering amendments), the council's (attendance, positions, decisions,
//! minutes) and the public results page with a server-drawn SVG bar chart. Every page and form
//! calls `gongzhi_app::renewal_votes`, like the API, with the same checks; a refusal comes back
//! on the page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_core::access::Principal;
use gongzhi_core::decision::ballot::{Ballot, BallotRule};
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::renewal::council::{Decision, MemberKind, Stance};
use gongzhi_core::renewal::proposal::{FieldChange, LineItem, Patch};
use gongzhi_core::renewal::vote::{AreaShare, Count};
use serde::Deserialize;

use super::{render, svg, Chrome, LangQuery, PageError};
use crate::api::territory::city_of;
use crate::auth::MaybeAuth;
use crate::{ApiError, AppState};
use gongzhi_app::renewal_votes::{
    self as service, AmendmentInput, AnswerInput, CouncilMember, DecisionInput, Meeting, MemberInput, OnBallot,
    PendingLine, PositionInput, ProposalInput, ProposalRow, ProposalView, ReceiptView, RecordInput, VoteInput,
    VoteView,
};

/// (key, 中文, English), sorted by key.
pub(crate) const TEXTS: super::i18n::Texts = &[
    ("rv_accept", "采纳", "Accept"),
    (
        "rv_add_item",
        "预算明细（每行：项目,金额元）",
        "Budget lines (one per line: item,amount in yuan)",
    ),
    ("rv_amend", "提出修改建议", "Suggest an amendment"),
    ("rv_amendments", "修改建议", "Amendments"),
    ("rv_answer", "答复", "Answer"),
    ("rv_area", "所在网格", "Sub-area (grid)"),
    (
        "rv_area_shares",
        "各网格最低预算份额（%，可不填）",
        "Minimum share of the budget per grid (%, optional)",
    ),
    ("rv_attendance", "出席", "Attendance"),
    ("rv_ballot", "投票", "Ballot"),
    ("rv_ballot_rule", "投票规则", "Ballot rule"),
    ("rv_budget", "预算", "Budget"),
    ("rv_budget_yuan", "预算（元）", "Budget (yuan)"),
    ("rv_changes", "版本差异", "What changed"),
    ("rv_channel_import", "导入", "imported"),
    ("rv_channel_online", "线上", "online"),
    ("rv_channel_paper", "纸质", "paper"),
    ("rv_check_receipt", "查验回执", "Check a receipt"),
    ("rv_choose", "选择项目", "Choose projects"),
    ("rv_close", "结束投票并计票", "Close the vote and count"),
    ("rv_closed", "已结束", "Closed"),
    ("rv_closes", "截止时间", "Closes"),
    ("rv_comment", "发表意见", "Comment"),
    ("rv_comments", "讨论", "Discussion"),
    ("rv_confirm", "核对并计入", "Confirm and count"),
    (
        "rv_confirm_hint",
        "请另一名工作人员对照纸质选票再次录入；两次录入一致才计入",
        "Another staff member enters the paper ballot again; it counts when both entries agree",
    ),
    ("rv_council", "议事会", "Council"),
    ("rv_counting", "计票规则", "Counting rule"),
    (
        "rv_counting_greedy",
        "按得票多少依次资助（贪心法）",
        "Greedy: most votes first",
    ),
    ("rv_counting_mes", "等额份额法（MES）", "Method of equal shares (MES)"),
    (
        "rv_counting_mes_add1",
        "等额份额法（补足预算）",
        "Method of equal shares, completed (MES add1)",
    ),
    ("rv_counting_phragmen", "Phragmén 序贯法", "Sequential Phragmén"),
    ("rv_create_vote", "发起投票", "Set up the vote"),
    ("rv_decide", "作出决定", "Decide"),
    ("rv_decisions", "决定", "Decisions"),
    ("rv_deliver", "启动共建项目", "Start delivery projects"),
    (
        "rv_deliver_hint",
        "为每个获得资助、尚未启动的方案建立共建项目",
        "One delivery project for each funded proposal that has none yet",
    ),
    ("rv_delivery", "共建项目", "Delivery project"),
    ("rv_description", "说明", "Description"),
    (
        "rv_eligible_only",
        "仅本社区认证居民可以投票",
        "Only verified residents of this community may vote",
    ),
    ("rv_entered_by", "录入人", "Entered by"),
    (
        "rv_entered_by_you",
        "由您录入，须由另一名工作人员核对",
        "Entered by you: another staff member confirms it",
    ),
    (
        "rv_exclusive",
        "互斥方案（每组至多选一个；组间用分号，如 12,13; 14,15）",
        "Exclusive sets: a ballot chooses at most one of each (e.g. 12,13; 14,15)",
    ),
    ("rv_explanation", "说明", "Explanation"),
    ("rv_field_attachments", "设计附件", "Design attachments"),
    ("rv_field_items", "预算明细", "Budget lines"),
    ("rv_field_site", "位置", "Site"),
    ("rv_from", "开工日期", "From"),
    ("rv_funded", "获得资助", "Funded"),
    ("rv_kind", "类别", "Kind"),
    (
        "rv_max_per_project",
        "单个项目至多（分，0 为不限）",
        "At most on one project (points, 0: no limit)",
    ),
    ("rv_max_projects", "至多选择（个）", "At most (projects)"),
    ("rv_meetings", "会议", "Meetings"),
    ("rv_members", "成员", "Members"),
    ("rv_min_projects", "至少选择（个）", "At least (projects)"),
    (
        "rv_min_share",
        "至少用去预算（%）",
        "At least this share of the budget (%)",
    ),
    ("rv_minutes", "会议纪要", "Minutes"),
    ("rv_new_proposal", "新建方案", "New proposal"),
    (
        "rv_no_to_vote",
        "暂无议事会提交投票的方案",
        "No proposal has been sent to the vote by the council",
    ),
    (
        "rv_no_voters",
        "本社区认证居民均已投票",
        "Every verified resident of the community has voted",
    ),
    ("rv_none", "暂无", "None yet"),
    ("rv_not_funded", "未获资助", "Not funded"),
    ("rv_offers", "共建承诺", "Co-production offers"),
    (
        "rv_on_ballot",
        "上票方案（议事会已提交投票）",
        "Proposals on the ballot (sent to the vote by the council)",
    ),
    ("rv_open", "投票中", "Open"),
    ("rv_opens", "开始时间", "Opens"),
    ("rv_paper", "纸质选票", "Paper ballots"),
    ("rv_paper_enter", "录入纸质选票", "Enter a paper ballot"),
    (
        "rv_paper_entered",
        "纸质选票已录入，回执码",
        "Paper ballot entered; receipt",
    ),
    (
        "rv_paper_pending",
        "待核对的纸质选票",
        "Paper ballots awaiting confirmation",
    ),
    ("rv_phase", "状态", "Phase"),
    ("rv_points", "总分", "Points"),
    ("rv_positions", "委员意见", "Positions"),
    ("rv_proposals", "更新方案", "Proposals"),
    ("rv_quorum", "法定人数", "Quorum"),
    ("rv_reason", "理由", "Reason"),
    ("rv_receipt", "投票回执", "Receipt"),
    (
        "rv_receipt_keep",
        "请保存回执码，可用来查验您的选票已被计入",
        "Keep this code: it shows that your ballot was counted",
    ),
    ("rv_reject", "不采纳", "Reject"),
    ("rv_results", "投票结果", "Results"),
    (
        "rv_rule_approval",
        "赞成投票：选择若干项目",
        "Approval: choose some projects",
    ),
    ("rv_rule_cumulative", "累积计分：分配分数", "Cumulative: spread points"),
    (
        "rv_rule_within",
        "预算内选择：所选项目合计不超过预算",
        "Within the budget: the chosen projects fit the budget",
    ),
    ("rv_setup", "发起参与式预算投票", "Set up a participatory-budget vote"),
    ("rv_site_lat", "纬度", "Latitude"),
    ("rv_site_lon", "经度", "Longitude"),
    ("rv_started", "已启动的共建项目数", "Delivery projects started"),
    ("rv_status", "状态", "Status"),
    ("rv_submit", "提交", "Submit"),
    ("rv_time_hint", "时间为北京时间", "Times are Beijing time"),
    ("rv_title", "社区微更新", "Micro-renewal"),
    ("rv_title_field", "标题", "Title"),
    ("rv_to", "竣工日期", "To"),
    ("rv_upcoming", "未开始", "Upcoming"),
    ("rv_version", "版本", "Version"),
    ("rv_voted", "您已投票", "You have voted"),
    ("rv_voter", "投票居民", "Voter"),
    ("rv_votes", "参与式预算投票", "Participatory-budget votes"),
    ("rv_votes_count", "票数", "Votes"),
];

/// Cents as yuan text.
pub fn yuan_text(cents: &i64) -> String {
    yuan(*cents)
}

/// Cents as yuan for people to read: "180,000", "2,357.14".
fn yuan(cents: i64) -> String {
    gongzhi_core::indicators::group_digits(&plain_yuan(cents))
}

/// Cents as yuan for a form to read back: "180000", "2357.14".
fn plain_yuan(cents: i64) -> String {
    if cents % 100 == 0 {
        format!("{}", cents / 100)
    } else {
        format!("{}.{:02}", cents / 100, (cents % 100).abs())
    }
}

/// The text key of a vote's phase.
pub fn phase_label(phase: &str) -> &'static str {
    match phase {
        "upcoming" => "rv_upcoming",
        "open" => "rv_open",
        _ => "rv_closed",
    }
}

fn back(to: &str, error: Option<String>) -> Response {
    match error {
        None => Redirect::to(to).into_response(),
        Some(e) => {
            // The error goes in the query, before any `#fragment`.
            let (path, fragment) = to.split_once('#').map_or((to, ""), |(p, f)| (p, f));
            let sep = if path.contains('?') { '&' } else { '?' };
            let q: String = form_urlencoded::byte_serialize(e.as_bytes()).collect();
            let hash = if fragment.is_empty() {
                String::new()
            } else {
                format!("#{fragment}")
            };
            Redirect::to(&format!("{path}{sep}error={q}{hash}")).into_response()
        }
    }
}

fn form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field(f: &[(String, String)], k: &str) -> String {
    f.iter()
        .find(|(a, _)| a == k)
        .map(|(_, b)| b.clone())
        .unwrap_or_default()
}

fn logged_in(p: Option<Principal>) -> Result<Principal, PageError> {
    p.ok_or_else(|| PageError(ApiError::unauthorized()))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    pub lang: Option<String>,
    pub error: Option<String>,
    pub receipt: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The receipt of a paper ballot just entered.
    pub paper: Option<String>,
    /// How many delivery projects were just started from a vote's results.
    pub started: Option<usize>,
}

fn chrome(headers: &HeaderMap, q: &PageQuery, p: Option<Principal>, path: &str) -> Chrome {
    Chrome::new(headers, &LangQuery { lang: q.lang.clone() }, p, path)
}

// ---------------------------------------------------------------- hub

#[derive(Template)]
#[template(path = "renewal_votes_hub.html")]
struct HubPage {
    c: Chrome,
    community: String,
    proposals: Vec<ProposalRow>,
    votes: Vec<VoteView>,
    can_write: bool,
    error: Option<String>,
    /// Staff of the community (RunRenewal): the vote set-up form.
    staff: bool,
    /// The proposals the council sent to the vote, for the set-up form.
    to_vote: Vec<ProposalRow>,
    /// The community's grids (code, name): sub-areas of projects and their minimum shares.
    grids: Vec<(String, String)>,
    /// The counting rules (id, text key).
    rules: Vec<(&'static str, &'static str)>,
    opens_default: String,
    closes_default: String,
}

/// A community's proposals and votes; residents and planners write proposals here.
pub async fn hub(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Path(community): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let city = city_of(&s, p.as_ref());
    let hub = service::hub(&s, p.as_ref(), city, &community).await?;
    let now = service::now();
    let path = format!("/renewal/{community}/proposals");
    let page = HubPage {
        c: chrome(&headers, &q, p, &path),
        community,
        proposals: hub.proposals,
        votes: hub.votes,
        can_write: hub.can_write,
        error: q.error,
        staff: hub.staff,
        to_vote: hub.to_vote,
        grids: hub.grids,
        rules: Rule::ALL.iter().map(|r| (r.id(), counting_label(*r))).collect(),
        opens_default: local_text(now),
        closes_default: local_text(now + 14 * 86_400_000),
    };
    render(&page.c, &page)
}

// ---------------------------------------------------------------- vote set-up (staff)

/// The text key of a counting rule.
fn counting_label(r: Rule) -> &'static str {
    match r {
        Rule::Greedy => "rv_counting_greedy",
        Rule::Mes => "rv_counting_mes",
        Rule::MesAdd1 => "rv_counting_mes_add1",
        Rule::Phragmen => "rv_counting_phragmen",
    }
}

/// Beijing time (UTC+8): the forms' dates and times are read and shown in it.
fn beijing() -> chrono::FixedOffset {
    gongzhi_core::calendar::china_time()
}

/// Unix milliseconds as a `datetime-local` value in Beijing time.
fn local_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&beijing()).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A `datetime-local` value (Beijing time) as Unix milliseconds.
fn when_of(name: &str, text: &str) -> Result<i64, ApiError> {
    let t = text.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
        .and_then(|n| n.and_local_timezone(beijing()).single())
        .map(|d| d.timestamp_millis())
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "{name}: {t:?} is not a date and time like 2026-05-01T09:00 (Beijing time)"
            ))
        })
}

/// A whole number field of a form.
fn number_of(f: &[(String, String)], name: &str) -> Result<u32, ApiError> {
    let v = field(f, name);
    v.trim()
        .parse()
        .map_err(|_| ApiError::invalid(format!("{name}: {v:?} is not a whole number (e.g. 3)")))
}

/// A percentage (0 to 100) as a fraction in lowest terms.
fn percent_fraction(name: &str, text: &str) -> Result<(u32, u32), ApiError> {
    let pct: u32 = text
        .trim()
        .parse()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| ApiError::invalid(format!("{name}: {text:?} is not a percentage from 0 to 100")))?;
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = gcd(pct, 100);
    Ok((pct / g, 100 / g))
}

/// The ballot rule of the set-up form: `rule` and the chosen rule's fields.
fn ballot_rule_of(f: &[(String, String)]) -> Result<BallotRule, ApiError> {
    match field(f, "rule").as_str() {
        "approval" => Ok(BallotRule::Approval {
            min: number_of(f, "min")? as usize,
            max: number_of(f, "max")? as usize,
        }),
        "within_budget" => {
            let share = field(f, "min_share");
            let (min_num, min_den) = if share.trim().is_empty() {
                (0, 1)
            } else {
                percent_fraction("min_share", &share)?
            };
            Ok(BallotRule::WithinBudget { min_num, min_den })
        }
        "cumulative" => Ok(BallotRule::Cumulative {
            points: number_of(f, "points")?,
            max_per_project: number_of(f, "max_per_project")?,
        }),
        other => Err(ApiError::invalid(format!(
            "rule: {other:?} is not a ballot rule; choose approval, within the budget or cumulative points"
        ))),
    }
}

/// Exclusive sets written as `12,13; 14,15` (sets by `;` or a new line, proposals by `,`).
fn exclusive_of(text: &str) -> Result<Vec<Vec<i64>>, ApiError> {
    let mut out = Vec::new();
    for set in text.split([';', '；', '\n']).map(str::trim).filter(|x| !x.is_empty()) {
        let ids = set
            .split([',', '，', '、', ' '])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| {
                x.parse::<i64>().map_err(|_| {
                    ApiError::invalid(format!(
                        "exclusive: {x:?} is not a proposal number; write sets like 12,13; 14,15"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if ids.len() < 2 {
            return Err(ApiError::invalid(format!(
                "exclusive: the set {set:?} has one proposal; a set names two or more that exclude each other"
            )));
        }
        out.push(ids);
    }
    Ok(out)
}

/// The vote set-up form of the votes hub (staff): the same checks as `POST /api/renewal/votes`.
pub async fn setup_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    service::need_vote_organiser(&p, &community)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/proposals");
    let result = async {
        let budget = field(&f, "budget");
        let budget_cents = cents_of(&budget).ok_or_else(|| {
            ApiError::invalid(format!(
                "budget: {budget:?} is not an amount in yuan (e.g. 250000 or 250000.50)"
            ))
        })?;
        let mut proposals = Vec::new();
        for (_, v) in f.iter().filter(|(k, _)| k == "proposal") {
            let id: i64 = v
                .trim()
                .parse()
                .map_err(|_| ApiError::invalid(format!("proposals: {v:?} is not a proposal number")))?;
            let area = field(&f, &format!("area_{id}"));
            proposals.push(OnBallot {
                proposal: id,
                area: Some(area.trim().to_owned()).filter(|a| !a.is_empty()),
            });
        }
        if proposals.is_empty() {
            return Err(ApiError::invalid(
                "proposals: tick at least one proposal the council sent to the vote",
            ));
        }
        let mut area_shares = Vec::new();
        for (k, v) in &f {
            let Some(area) = k.strip_prefix("share_") else { continue };
            if v.trim().is_empty() {
                continue;
            }
            let (num, den) = percent_fraction(&format!("minimum share of grid {area}"), v)?;
            if num > 0 {
                area_shares.push(AreaShare {
                    area: area.to_owned(),
                    num,
                    den,
                });
            }
        }
        let r = VoteInput {
            community: community.clone(),
            title: field(&f, "title"),
            budget_cents,
            opens_at: when_of("opens_at", &field(&f, "opens_at"))?,
            closes_at: when_of("closes_at", &field(&f, "closes_at"))?,
            ballot: ballot_rule_of(&f)?,
            counting: field(&f, "counting"),
            proposals,
            exclusive: exclusive_of(&field(&f, "exclusive"))?,
            area_shares,
        };
        Ok::<_, ApiError>(service::setup_vote(&s, &p, r).await?)
    }
    .await;
    Ok(match result {
        Ok(id) => back(&format!("/renewal/{community}/votes/{id}"), None),
        Err(e) => back(&to, Some(e.body.message)),
    })
}

/// Parses "item,amount in yuan" lines into line items.
fn items_of(text: &str) -> Result<Vec<LineItem>, ApiError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (item, amount) = line
            .rsplit_once([',', '，'])
            .ok_or_else(|| ApiError::invalid(format!("items: line {}: write item,amount", i + 1)))?;
        let cents = cents_of(amount).ok_or_else(|| {
            ApiError::invalid(format!(
                "items: line {}: {amount:?} is not an amount in yuan (e.g. 1200 or 1200.50)",
                i + 1
            ))
        })?;
        out.push(LineItem {
            item: item.trim().to_owned(),
            cents,
        });
    }
    Ok(out)
}

/// "1200" or "1200.5" yuan in cents.
fn cents_of(s: &str) -> Option<i64> {
    let s = s.trim();
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    if w.is_empty() || f.len() > 2 || !w.bytes().all(|b| b.is_ascii_digit()) || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let f = format!("{f:0<2}");
    w.parse::<i64>().ok()?.checked_mul(100)?.checked_add(f.parse().ok()?)
}

fn site_of(f: &[(String, String)]) -> serde_json::Value {
    let lon: f64 = field(f, "lon").trim().parse().unwrap_or(f64::NAN);
    let lat: f64 = field(f, "lat").trim().parse().unwrap_or(f64::NAN);
    if lon.is_finite() && lat.is_finite() {
        serde_json::json!({"type": "Point", "coordinates": [lon, lat]})
    } else {
        serde_json::json!({"type": "Point"})
    }
}

/// The new-proposal form.
pub async fn create_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/proposals");
    service::need_proposal_writer(&p, &community)?;
    let result = async {
        let r = ProposalInput {
            community: community.clone(),
            cluster: None,
            title: field(&f, "title"),
            description: field(&f, "description"),
            site: site_of(&f),
            items: items_of(&field(&f, "items"))?,
            offers: Vec::new(),
        };
        Ok::<_, ApiError>(service::create_proposal(&s, &p, r).await?)
    }
    .await;
    Ok(match result {
        Ok(id) => back(&format!("/renewal/{community}/proposals/{id}"), None),
        Err(e) => back(&to, Some(e.body.message)),
    })
}

// ---------------------------------------------------------------- proposal

#[derive(Template)]
#[template(path = "renewal_votes_proposal.html")]
struct ProposalPage {
    c: Chrome,
    community: String,
    v: ProposalView,
    changes: Vec<FieldChange>,
    from: i64,
    to: i64,
    can_amend: bool,
    can_answer: bool,
    error: Option<String>,
}

impl ProposalPage {
    fn money(&self, cents: &i64) -> String {
        yuan(*cents)
    }
    /// The name of a proposal field in a diff, in the page's language.
    fn field_name(&self, field: &str) -> String {
        let key = match field {
            "title" => "rv_title_field",
            "description" => "rv_description",
            "site" => "rv_field_site",
            "items" => "rv_field_items",
            "budget_cents" => "rv_budget",
            "offers" => "rv_offers",
            "attachments" => "rv_field_attachments",
            other => return other.to_owned(),
        };
        self.c.t(key).to_owned()
    }
    fn when(&self, ms: &i64) -> String {
        super::cases::local_time(*ms)
    }
    fn items_text(&self) -> String {
        self.v
            .proposal
            .content
            .items
            .iter()
            .map(|i| format!("{},{}", i.item, plain_yuan(i.cents)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A proposal: current version, versions and the diff between two, amendments and answers.
pub async fn proposal_page(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Path((community, id)): Path<(String, i64)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let city = city_of(&s, p.as_ref());
    let d = service::proposal_page(&s, p.as_ref(), city, &community, id, q.from, q.to).await?;
    let path = format!("/renewal/{community}/proposals/{id}");
    let page = ProposalPage {
        c: chrome(&headers, &q, p, &path),
        community,
        v: d.view,
        changes: d.changes,
        from: d.from,
        to: d.to,
        can_amend: d.can_amend,
        can_answer: d.can_answer,
        error: q.error,
    };
    render(&page.c, &page)
}

/// A resident's amendment from the proposal page (title, description, budget lines).
pub async fn amend_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/proposals/{id}");
    service::need_amender(&p, &community)?;
    let result = async {
        let row = service::proposal_row(&s, p.city, id).await?;
        let text = |k: &str, now: &str| {
            let v = field(&f, k);
            (!v.trim().is_empty() && v.trim() != now.trim()).then(|| v.replace("\r\n", "\n"))
        };
        let items = {
            let v = field(&f, "items");
            let parsed = items_of(&v)?;
            (!parsed.is_empty() && parsed != row.content.items).then_some(parsed)
        };
        let patch = Patch {
            title: text("title", &row.content.title),
            description: text("description", &row.content.description),
            items,
            ..Patch::default()
        };
        let r = AmendmentInput {
            base_version: row.version,
            changes: patch,
            reason: field(&f, "reason"),
        };
        service::suggest_amendment(&s, &p, id, &r).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    Ok(back(&to, result.err().map(|e| e.body.message)))
}

/// A comment from the proposal page (residents of the community and its staff).
pub async fn comment_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/proposals/{id}");
    let result = service::comment(&s, &p, id, &field(&f, "body")).await;
    Ok(back(&format!("{to}#comments"), result.err().map(|e| e.message)))
}

/// The author's answer to an amendment.
pub async fn answer_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id, amendment)): Path<(String, i64, i64)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/proposals/{id}");
    let r = AnswerInput {
        accept: field(&f, "accept") == "yes",
        answer: field(&f, "answer"),
    };
    let result = service::answer_amendment_of(&s, &p, id, amendment, &r).await;
    Ok(back(&to, result.err().map(|e| e.message)))
}

// ---------------------------------------------------------------- council

#[derive(Template)]
#[template(path = "renewal_votes_council.html")]
struct CouncilPage {
    c: Chrome,
    community: String,
    members: Vec<CouncilMember>,
    meetings: Vec<Meeting>,
    proposals: Vec<ProposalRow>,
    staff: bool,
    stances: Vec<(&'static str, &'static str)>,
    decisions: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

impl CouncilPage {
    fn member_name(&self, id: &i64) -> String {
        self.members
            .iter()
            .find(|m| m.id == *id)
            .map(|m| format!("{}（{}）", m.name, m.kind.label(self.c.lang)))
            .unwrap_or_else(|| id.to_string())
    }
    fn proposal_title(&self, id: &i64) -> String {
        self.proposals
            .iter()
            .find(|p| p.id == *id)
            .map(|p| p.content.title.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// The council: members, meetings with attendance, positions, decisions and minutes
/// (residents of the community read it; staff record it).
pub async fn council_page(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Path(community): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let p = match p {
        Some(p) => p,
        None => return Ok(super::cases::login_first(&format!("/renewal/{community}/council"))),
    };
    let d = service::council_page(&s, &p, &community).await?;
    let path = format!("/renewal/{community}/council");
    let c = chrome(&headers, &q, Some(p), &path);
    let lang = c.lang;
    let page = CouncilPage {
        members: d.members,
        meetings: d.meetings,
        proposals: d.proposals,
        community,
        staff: d.staff,
        stances: Stance::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
        decisions: Decision::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
        kinds: MemberKind::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
        c,
        error: q.error,
    };
    render(&page.c, &page)
}

/// Staff forms of the council page: `action` = member, attendance, position, decision.
pub async fn council_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    service::need_council_keeper(&p, &community)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/council");
    let num = |k: &str| -> Result<i64, ApiError> {
        field(&f, k)
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid(format!("{k}: choose one")))
    };
    let result = async {
        match field(&f, "action").as_str() {
            "member" => {
                let r = MemberInput {
                    person: None,
                    name: field(&f, "name"),
                    kind: field(&f, "kind"),
                };
                service::add_member(&s, &p, &community, &r).await?;
            }
            "attendance" => {
                let present: Vec<i64> = f
                    .iter()
                    .filter(|(k, _)| k == "present")
                    .filter_map(|(_, v)| v.parse().ok())
                    .collect();
                let r = RecordInput {
                    attendance: Some(present),
                    minutes: Some(field(&f, "minutes")),
                };
                service::record_meeting(&s, &p, num("meeting")?, &r).await?;
            }
            "position" => {
                let meeting = num("meeting")?;
                let r = PositionInput {
                    member: num("member")?,
                    proposal: num("proposal")?,
                    stance: field(&f, "stance"),
                    reason: field(&f, "reason"),
                };
                service::add_position(&s, &p, meeting, r).await?;
            }
            "decision" => {
                let meeting = num("meeting")?;
                let r = DecisionInput {
                    proposal: num("proposal")?,
                    decision: field(&f, "decision"),
                    reason: field(&f, "reason"),
                };
                service::decide(&s, &p, meeting, r).await?;
            }
            other => return Err(ApiError::invalid(format!("action: unknown form {other:?}"))),
        }
        Ok::<_, ApiError>(())
    }
    .await;
    Ok(back(&to, result.err().map(|e| e.body.message)))
}

// ---------------------------------------------------------------- votes

#[derive(Template)]
#[template(path = "renewal_votes_vote.html")]
struct VotePage {
    c: Chrome,
    community: String,
    v: VoteView,
    receipt: Option<ReceiptView>,
    new_receipt: Option<String>,
    can_vote: bool,
    points: bool,
    error: Option<String>,
    /// Staff of the community: paper ballots and closing.
    staff: bool,
    /// The receipt of a paper ballot this staff member just entered.
    paper_receipt: Option<String>,
    /// Residents who may still hand in a paper ballot (id, name), while the vote is open.
    voters: Vec<(i64, String)>,
    /// Paper ballots entered once, awaiting another staff member's entry.
    pending: Vec<PendingLine>,
    can_close: bool,
}

impl VotePage {
    /// A ballot's status (its stored word) in the page's language.
    fn ballot_status(&self, word: &str) -> String {
        super::word_label::<gongzhi_core::renewal::vote::PaperStatus>(self.c.lang, word)
    }
    /// How a ballot came in (`online`, `paper`, `import`) in the page's language.
    fn channel_name(&self, word: &str) -> String {
        match word {
            "online" => self.c.t("rv_channel_online").to_owned(),
            "paper" => self.c.t("rv_channel_paper").to_owned(),
            "import" => self.c.t("rv_channel_import").to_owned(),
            other => other.to_owned(),
        }
    }
    fn money(&self, cents: &i64) -> String {
        yuan(*cents)
    }
    fn rule_text(&self) -> String {
        let en = self.c.lang == super::Lang::En;
        match self.v.setup.ballot {
            BallotRule::Approval { min, max } => {
                if en {
                    format!("choose {min} to {max} projects")
                } else {
                    format!("选择 {min} 至 {max} 个项目")
                }
            }
            BallotRule::WithinBudget { min_num, min_den } => {
                if en {
                    format!("choose projects within the budget, at least {min_num}/{min_den} of it")
                } else {
                    format!("在预算内选择项目，至少用去预算的 {min_num}/{min_den}")
                }
            }
            BallotRule::Cumulative {
                points,
                max_per_project,
            } => {
                if en {
                    format!("spread up to {points} points (at most {max_per_project} on one project; 0: no limit)")
                } else {
                    format!("分配至多 {points} 分（单个项目至多 {max_per_project} 分，0 为不限）")
                }
            }
            BallotRule::Motion => String::new(),
        }
    }
}

/// A vote on a phone: the projects, the ballot for an eligible resident, the receipt check.
pub async fn vote_page(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Path((community, id)): Path<(String, i64)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let city = city_of(&s, p.as_ref());
    let d = service::vote_page(&s, p.as_ref(), city, &community, id, q.receipt.as_deref()).await?;
    let path = format!("/renewal/{community}/votes/{id}");
    let page = VotePage {
        c: chrome(&headers, &q, p, &path),
        community,
        new_receipt: q.receipt.clone().filter(|_| d.receipt.is_some() && q.error.is_none()),
        receipt: d.receipt,
        v: d.vote,
        can_vote: d.can_vote,
        points: d.points,
        error: q.error,
        staff: d.staff,
        paper_receipt: q.paper.filter(|r| !r.trim().is_empty()),
        voters: d.voters,
        pending: d.pending,
        can_close: d.can_close,
    };
    render(&page.c, &page)
}

/// The ballot of a form: checkboxes `project`, or point fields `points_ID` for cumulative votes.
fn ballot_of(rule: &BallotRule, f: &[(String, String)]) -> Ballot {
    if matches!(rule, BallotRule::Cumulative { .. }) {
        let mut points = Vec::new();
        for (k, v) in f {
            if let Some(pid) = k.strip_prefix("points_") {
                let n: u32 = v.trim().parse().unwrap_or(0);
                if n > 0 {
                    points.push((pid.to_owned(), n));
                }
            }
        }
        Ballot::Points { points }
    } else {
        Ballot::Projects {
            projects: f
                .iter()
                .filter(|(k, _)| k == "project")
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }
}

/// A staff member enters a paper ballot (纸质选票) for a resident: the first entry.
pub async fn paper_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    service::need_ballot_staff(&p, &community)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/votes/{id}");
    let result = async {
        let row = service::vote_in(&s, p.city, &community, id).await?;
        let voter = field(&f, "voter");
        let voter: i64 = voter
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid("voter: choose the resident who handed in the paper ballot"))?;
        Ok::<_, ApiError>(service::enter_paper_ballot(&s, &p, id, voter, &ballot_of(&row.setup.ballot, &f)).await?)
    }
    .await;
    Ok(match result {
        Ok(receipt) => back(&format!("{to}?paper={receipt}"), None),
        Err(e) => back(&to, Some(e.body.message)),
    })
}

/// Another staff member enters the same paper ballot again; it counts if both entries agree.
pub async fn confirm_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id, receipt)): Path<(String, i64, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    service::need_ballot_staff(&p, &community)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/votes/{id}");
    let result = async {
        let row = service::vote_in(&s, p.city, &community, id).await?;
        service::confirm_paper_ballot(&s, &p, id, &receipt, &ballot_of(&row.setup.ballot, &f)).await
    }
    .await;
    Ok(match result {
        Ok(()) => back(&format!("{to}?receipt={receipt}"), None),
        Err(e) => back(&to, Some(e.message)),
    })
}

/// Staff close the vote now and count it; the results page follows.
pub async fn close_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    service::need_ballot_staff(&p, &community)?;
    let to = format!("/renewal/{community}/votes/{id}");
    let result = async {
        service::vote_in(&s, p.city, &community, id).await?;
        service::close_vote(&s, &p, id).await
    }
    .await;
    Ok(match result {
        Ok(_) => back(&format!("{to}/results"), None),
        Err(e) => back(&to, Some(e.message)),
    })
}

/// From the results: start a delivery project for every funded proposal that has none yet.
pub async fn deliver_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/votes/{id}/results");
    let result = async {
        service::vote_in(&s, p.city, &community, id).await?;
        let window = gongzhi_app::renewal_works::DeliverFunded {
            from: field(&f, "from"),
            to: field(&f, "to"),
        };
        Ok::<_, crate::ApiError>(gongzhi_app::renewal_works::start_funded(&s, &p, id, &window).await?)
    }
    .await;
    Ok(match result {
        Ok(started) => back(&format!("{to}?started={}", started.len()), None),
        Err(e) => back(&to, Some(e.body.message)),
    })
}

/// The ballot form: checkboxes `project` or point fields `points_ID`.
pub async fn ballot_submit(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((community, id)): Path<(String, i64)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let p = logged_in(p)?;
    let f = form(&body);
    let to = format!("/renewal/{community}/votes/{id}");
    let city = p.city;
    let result = async {
        let row = service::vote_row(&s, city, id).await?;
        let ballot = ballot_of(&row.setup.ballot, &f);
        service::cast_ballot(&s, &p, id, &ballot).await
    }
    .await;
    Ok(match result {
        Ok(receipt) => back(&format!("{to}?receipt={receipt}"), None),
        Err(e) => back(&to, Some(e.message)),
    })
}

#[derive(Template)]
#[template(path = "renewal_votes_results.html")]
struct ResultsPage {
    c: Chrome,
    community: String,
    v: VoteView,
    count: Count,
    chart: String,
    error: Option<String>,
    /// Renewal staff of the community: start the funded proposals' delivery projects.
    staff: bool,
    /// How many delivery projects were just started.
    started: Option<usize>,
    /// The delivery projects of the funded proposals (proposal, delivery id).
    deliveries: Vec<(i64, i64)>,
}

impl ResultsPage {
    fn money(&self, cents: &i64) -> String {
        yuan(*cents)
    }
    /// An amount of the count ("156000") grouped by thousands for reading.
    fn grouped(&self, amount: &str) -> String {
        gongzhi_core::indicators::group_digits(amount)
    }
    /// The delivery project of a funded proposal, if started.
    fn delivery_of(&self, proposal: &Option<i64>) -> Option<i64> {
        let proposal = (*proposal)?;
        self.deliveries.iter().find(|(p, _)| *p == proposal).map(|(_, d)| *d)
    }
}

/// The public results page: a bar chart of votes, funded projects and why.
pub async fn results_page(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Path((community, id)): Path<(String, i64)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let city = city_of(&s, p.as_ref());
    let d = service::results_page(&s, p.as_ref(), city, &community, id).await?;
    let chart = svg::bar_chart(
        &d.count
            .projects
            .iter()
            .map(|x| {
                let mark = if x.result.funded { "✓ " } else { "" };
                (
                    format!("{mark}{}", x.title),
                    x.result.points.parse::<f64>().unwrap_or(0.0),
                )
            })
            .collect::<Vec<_>>(),
    );
    let path = format!("/renewal/{community}/votes/{id}/results");
    let page = ResultsPage {
        c: chrome(&headers, &q, p, &path),
        community,
        v: d.vote,
        count: d.count,
        chart,
        error: q.error,
        staff: d.staff,
        started: q.started,
        deliveries: d.deliveries,
    };
    render(&page.c, &page)
}
