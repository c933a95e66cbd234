//! Micro-renewal pages for proposals, the council and votes, under `/renewal/{community}/...`:
//! the residents' phone pages (proposals, amendments, voting, the receipt check), the planner's
//! (writing proposals, answering amendments), the council's (attendance, positions, decisions,
//! minutes) and the public results page with a server-drawn SVG bar chart. Every form calls the
//! same store functions as the API, with the same checks; a refusal comes back on the page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_core::access::Principal;
use gongzhi_core::decision::ballot::{Ballot, BallotRule};
use gongzhi_core::renewal::council::{Decision, MemberKind, Stance};
use gongzhi_core::renewal::proposal::{Content, FieldChange, LineItem, Patch};
use gongzhi_core::renewal::vote::{Count, Phase};
use gongzhi_store::renewal::council::{CouncilMember, DecisionRow, Meeting, PositionRow};
use gongzhi_store::renewal::proposals::{NewProposal, ProposalRow};
use gongzhi_store::renewal::votes::ReceiptView;
use serde::Deserialize;

use super::{render, svg, Chrome, LangQuery, PageError};
use crate::api::renewal_votes::{self as api, is_resident, is_staff, ProposalView, VoteView};
use crate::api::territory::city_of;
use crate::auth::MaybeAuth;
use crate::{ApiError, AppState};

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
    ("rv_attendance", "出席", "Attendance"),
    ("rv_ballot", "投票", "Ballot"),
    ("rv_budget", "预算", "Budget"),
    ("rv_changes", "版本差异", "What changed"),
    ("rv_check_receipt", "查验回执", "Check a receipt"),
    ("rv_choose", "选择项目", "Choose projects"),
    ("rv_closed", "已结束", "Closed"),
    ("rv_council", "议事会", "Council"),
    ("rv_decide", "作出决定", "Decide"),
    ("rv_decisions", "决定", "Decisions"),
    ("rv_description", "说明", "Description"),
    (
        "rv_eligible_only",
        "仅本社区认证居民可以投票",
        "Only verified residents of this community may vote",
    ),
    ("rv_explanation", "说明", "Explanation"),
    ("rv_funded", "获得资助", "Funded"),
    ("rv_kind", "类别", "Kind"),
    ("rv_meetings", "会议", "Meetings"),
    ("rv_members", "成员", "Members"),
    ("rv_minutes", "会议纪要", "Minutes"),
    ("rv_new_proposal", "新建方案", "New proposal"),
    ("rv_none", "暂无", "None yet"),
    ("rv_not_funded", "未获资助", "Not funded"),
    ("rv_offers", "共建承诺", "Co-production offers"),
    ("rv_open", "投票中", "Open"),
    ("rv_phase", "状态", "Phase"),
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
    ("rv_site_lat", "纬度", "Latitude"),
    ("rv_site_lon", "经度", "Longitude"),
    ("rv_status", "状态", "Status"),
    ("rv_submit", "提交", "Submit"),
    ("rv_title", "社区微更新", "Micro-renewal"),
    ("rv_title_field", "标题", "Title"),
    ("rv_upcoming", "未开始", "Upcoming"),
    ("rv_version", "版本", "Version"),
    ("rv_voted", "您已投票", "You have voted"),
    ("rv_votes", "参与式预算投票", "Participatory-budget votes"),
    ("rv_votes_count", "票数", "Votes"),
];

/// Cents as yuan text.
pub fn yuan_text(cents: &i64) -> String {
    yuan(*cents)
}

fn yuan(cents: i64) -> String {
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
            let sep = if to.contains('?') { '&' } else { '?' };
            let q: String = form_urlencoded::byte_serialize(e.as_bytes()).collect();
            Redirect::to(&format!("{to}{sep}error={q}")).into_response()
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
    let proposals = s.store.proposals(&city, &community).await?;
    let mut votes = Vec::new();
    for v in s.store.votes(&city, &community).await? {
        votes.push(api::vote_view(&s, &city, v, p.as_ref()).await?);
    }
    let can_write = p
        .as_ref()
        .is_some_and(|p| is_resident(p, &community) || is_staff(p, &community));
    let path = format!("/renewal/{community}/proposals");
    let page = HubPage {
        c: chrome(&headers, &q, p, &path),
        community,
        proposals,
        votes,
        can_write,
        error: q.error,
    };
    render(&page.c, &page)
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
    if !is_resident(&p, &community) && !is_staff(&p, &community) {
        return Err(ApiError::forbidden("proposals are written by the community's residents and planners").into());
    }
    let result = async {
        let content = Content {
            title: field(&f, "title").trim().to_owned(),
            description: field(&f, "description"),
            site: site_of(&f),
            items: items_of(&field(&f, "items"))?,
            offers: Vec::new(),
            attachments: Vec::new(),
        };
        let id = s
            .store
            .create_proposal(
                &p.city.to_string(),
                &NewProposal {
                    community: community.clone(),
                    cluster: None,
                    content,
                },
                p.person_id,
            )
            .await?;
        Ok::<_, ApiError>(id)
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
    fn items_text(&self) -> String {
        self.v
            .proposal
            .content
            .items
            .iter()
            .map(|i| format!("{},{}", i.item, yuan(i.cents)))
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
    let v = api::proposal_view(&s, &city, id).await?;
    if v.proposal.community != community {
        return Err(ApiError::not_found(format!("proposal {id} in community {community}")).into());
    }
    let to = q.to.unwrap_or(v.proposal.version);
    let from = q.from.unwrap_or((to - 1).max(1));
    let changes = if from != to {
        s.store.proposal_diff(&city, id, from, to).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let can_amend = p
        .as_ref()
        .is_some_and(|p| is_resident(p, &community) || is_staff(p, &community));
    let can_answer = p
        .as_ref()
        .is_some_and(|p| p.person_id == v.proposal.author || is_staff(p, &community));
    let path = format!("/renewal/{community}/proposals/{id}");
    let page = ProposalPage {
        c: chrome(&headers, &q, p, &path),
        community,
        v,
        changes,
        from,
        to,
        can_amend,
        can_answer,
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
    if !is_resident(&p, &community) && !is_staff(&p, &community) {
        return Err(ApiError::forbidden("amendments are suggested by the community's residents").into());
    }
    let result = async {
        let row = s
            .store
            .proposal(&p.city.to_string(), id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("proposal {id}")))?;
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
        s.store
            .suggest_amendment(
                &p.city.to_string(),
                id,
                row.version,
                &patch,
                &field(&f, "reason"),
                p.person_id,
            )
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    Ok(back(&to, result.err().map(|e| e.body.message)))
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
    let result = async {
        let row = s
            .store
            .proposal(&p.city.to_string(), id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("proposal {id}")))?;
        if row.author != p.person_id && !is_staff(&p, &community) {
            return Err(ApiError::forbidden("only the author or the planner answers amendments"));
        }
        let a = s
            .store
            .amendment(&p.city.to_string(), amendment)
            .await?
            .filter(|a| a.proposal == id)
            .ok_or_else(|| ApiError::not_found(format!("amendment {amendment}")))?;
        s.store
            .answer_amendment(
                &p.city.to_string(),
                a.id,
                field(&f, "accept") == "yes",
                &field(&f, "answer"),
                p.person_id,
            )
            .await?;
        Ok(())
    }
    .await;
    Ok(back(&to, result.err().map(|e| e.body.message)))
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
            .map(|m| format!("{}（{}）", m.name, m.kind.zh()))
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
    if !is_resident(&p, &community) && !is_staff(&p, &community) {
        return Err(ApiError::forbidden(format!(
            "the council's minutes are for residents of community {community} and its staff"
        ))
        .into());
    }
    let city = p.city.to_string();
    let staff = is_staff(&p, &community);
    let path = format!("/renewal/{community}/council");
    let page = CouncilPage {
        members: s.store.council_members(&city, &community).await?,
        meetings: s.store.meetings(&city, &community).await?,
        proposals: s.store.proposals(&city, &community).await?,
        c: chrome(&headers, &q, Some(p), &path),
        community,
        staff,
        stances: Stance::ALL.iter().map(|x| (x.as_str(), x.zh())).collect(),
        decisions: Decision::ALL.iter().map(|x| (x.as_str(), x.zh())).collect(),
        kinds: MemberKind::ALL.iter().map(|x| (x.as_str(), x.zh())).collect(),
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
    if !is_staff(&p, &community) {
        return Err(ApiError::forbidden("the council is kept by the community's planner or administrator").into());
    }
    let f = form(&body);
    let to = format!("/renewal/{community}/council");
    let city = p.city.to_string();
    let num = |k: &str| -> Result<i64, ApiError> {
        field(&f, k)
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid(format!("{k}: choose one")))
    };
    let result = async {
        match field(&f, "action").as_str() {
            "member" => {
                let kind: MemberKind = field(&f, "kind").parse()?;
                s.store
                    .add_council_member(&city, &community, None, &field(&f, "name"), kind, p.person_id)
                    .await?;
            }
            "attendance" => {
                let present: Vec<i64> = f
                    .iter()
                    .filter(|(k, _)| k == "present")
                    .filter_map(|(_, v)| v.parse().ok())
                    .collect();
                let minutes = field(&f, "minutes");
                s.store
                    .record_meeting(
                        &city,
                        num("meeting")?,
                        Some(&present),
                        Some(minutes.as_str()),
                        p.person_id,
                    )
                    .await?;
            }
            "position" => {
                s.store
                    .record_position(
                        &city,
                        num("meeting")?,
                        &PositionRow {
                            member: num("member")?,
                            proposal: num("proposal")?,
                            stance: field(&f, "stance").parse()?,
                            reason: field(&f, "reason"),
                        },
                        p.person_id,
                    )
                    .await?;
            }
            "decision" => {
                s.store
                    .decide_proposal(
                        &city,
                        num("meeting")?,
                        &DecisionRow {
                            proposal: num("proposal")?,
                            decision: field(&f, "decision").parse()?,
                            reason: field(&f, "reason"),
                        },
                        p.person_id,
                    )
                    .await?;
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
}

impl VotePage {
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
    let row = s
        .store
        .vote(&city, id)
        .await?
        .filter(|v| v.community == community)
        .ok_or_else(|| ApiError::not_found(format!("vote {id} in community {community}")))?;
    let points = matches!(row.setup.ballot, BallotRule::Cumulative { .. });
    let v = api::vote_view(&s, &city, row, p.as_ref()).await?;
    let can_vote = v.phase == "open" && v.eligible == Some(true) && v.has_voted == Some(false);
    let receipt = match q.receipt.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(code) => s.store.receipt(&city, id, code).await?,
        None => None,
    };
    let path = format!("/renewal/{community}/votes/{id}");
    let page = VotePage {
        c: chrome(&headers, &q, p, &path),
        community,
        new_receipt: q.receipt.clone().filter(|_| receipt.is_some() && q.error.is_none()),
        receipt,
        v,
        can_vote,
        points,
        error: q.error,
    };
    render(&page.c, &page)
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
    let city = p.city.to_string();
    let result = async {
        let row = s
            .store
            .vote(&city, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("vote {id}")))?;
        let ballot = if matches!(row.setup.ballot, BallotRule::Cumulative { .. }) {
            let mut points = Vec::new();
            for (k, v) in &f {
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
        };
        Ok::<_, ApiError>(s.store.cast_ballot(&city, id, p.person_id, &ballot).await?)
    }
    .await;
    Ok(match result {
        Ok(receipt) => back(&format!("{to}?receipt={receipt}"), None),
        Err(e) => back(&to, Some(e.body.message)),
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
}

impl ResultsPage {
    fn money(&self, cents: &i64) -> String {
        yuan(*cents)
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
    let row = s
        .store
        .vote(&city, id)
        .await?
        .filter(|v| v.community == community)
        .ok_or_else(|| ApiError::not_found(format!("vote {id} in community {community}")))?;
    if row.phase(gongzhi_store::now_ms()) != Phase::Closed {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            "the results are published when the vote closes",
        )
        .into());
    }
    let count = s.store.vote_count(&city, id, None).await?;
    let v = api::vote_view(&s, &city, row, p.as_ref()).await?;
    let chart = svg::bar_chart(
        &count
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
        v,
        count,
        chart,
    };
    render(&page.c, &page)
}
