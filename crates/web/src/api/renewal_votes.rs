//! Micro-renewal proposals, council and participatory-budget votes (社区微更新: 方案、议事会、
//! 参与式预算), under `/api/renewal/...`.
//!
//! Who may do what: proposals and votes are public to read; residents of the community
//! (a Resident grant covering it) write proposals, suggest amendments and vote; staff with
//! `RunRenewal` on the community (community planners, administrators) write and revise
//! proposals, keep the council, set up and close votes and enter paper ballots. Council
//! meetings and minutes are shown to the community's residents and staff.
//!
//! Secrecy: no answer here carries a voter with a ballot. Ballots are shown only under their
//! receipt (the receipt check, the `.pb` export, whose voter ids are receipts).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_core::access::Principal;
use gongzhi_core::decision::ballot::{Ballot, BallotRule};
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::renewal::council::{Decision, MemberKind, Quorum, Stance};
use gongzhi_core::renewal::proposal::{self, Attachment, Content, LineItem, Offer, Patch, ProposalStatus};
use gongzhi_core::renewal::vote::{AreaShare, Count, VoteProject, VoteSetup};
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::council::{CouncilMember, DecisionRow, Meeting, NewMeeting, PositionRow};
use gongzhi_store::renewal::proposals::{AmendmentRow, CommentRow, NewProposal, ProposalRow, VersionRow};
use gongzhi_store::renewal::votes::{FundedProposal, PendingPaper, ReceiptView, Turnout, VoteRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::territory::city_of;
use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use gongzhi_app::people::is_resident_of;
use gongzhi_app::renewal_votes::{
    self as service, check_community, count_of, export_pb, need_resident_or_staff, need_staff, results_csv_text,
    results_xlsx_bytes, vote_row,
};

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_proposals))
        .routes(routes!(create_proposal))
        .routes(routes!(get_proposal, revise_proposal))
        .routes(routes!(diff))
        .routes(routes!(suggest_amendment))
        .routes(routes!(add_comment))
        .routes(routes!(answer_amendment))
        .routes(routes!(add_attachment))
        .routes(routes!(get_attachment))
        .routes(routes!(council))
        .routes(routes!(add_member))
        .routes(routes!(create_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(record_meeting))
        .routes(routes!(add_position))
        .routes(routes!(decide))
        .routes(routes!(list_votes))
        .routes(routes!(create_vote))
        .routes(routes!(get_vote))
        .routes(routes!(cast))
        .routes(routes!(enter_paper, pending_paper))
        .routes(routes!(confirm_paper))
        .routes(routes!(check_receipt))
        .routes(routes!(close))
        .routes(routes!(results))
        .routes(routes!(results_csv))
        .routes(routes!(results_xlsx))
        .routes(routes!(import_pb))
        .routes(routes!(funded))
}

// ---------------------------------------------------------------- access

fn now() -> i64 {
    gongzhi_store::now_ms()
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created(id: i64) -> (StatusCode, Json<Created>) {
    (StatusCode::CREATED, Json(Created { id }))
}

// ---------------------------------------------------------------- proposals

#[derive(Deserialize, ToSchema)]
pub struct ProposalInput {
    pub community: String,
    #[serde(default)]
    pub cluster: Option<i64>,
    pub title: String,
    pub description: String,
    /// GeoJSON Point or Polygon.
    #[schema(value_type = Object)]
    pub site: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<LineItem>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub offers: Vec<Offer>,
}

/// The proposals of a community (public).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/proposals", tag = "renewal",
    params(("community" = String, Path)), responses((status = 200, body = Vec<Object>)))]
pub async fn list_proposals(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
) -> ApiResult<Json<Vec<ProposalRow>>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(s.store.proposals(&city, &community).await?))
}

/// Write a proposal (a resident of the community or its planner).
#[utoipa::path(post, path = "/api/renewal/proposals", tag = "renewal", request_body = ProposalInput,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_proposal(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<ProposalInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    check_community(&r.community)?;
    need_resident_or_staff(&p, &r.community, "writing a proposal")?;
    let content = Content {
        title: r.title.trim().to_owned(),
        description: r.description,
        site: r.site,
        items: r.items,
        offers: r.offers,
        attachments: Vec::new(),
    };
    let id = s
        .store
        .create_proposal(
            &p.city.to_string(),
            &NewProposal {
                community: r.community,
                cluster: r.cluster,
                content,
            },
            p.person_id,
        )
        .await?;
    Ok(created(id))
}

/// A proposal with its versions and amendments.
#[derive(Serialize, ToSchema)]
pub struct ProposalView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub proposal: ProposalRow,
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<VersionRow>,
    #[schema(value_type = Vec<Object>)]
    pub amendments: Vec<AmendmentRow>,
    /// The discussion (讨论), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub comments: Vec<CommentRow>,
}

/// A proposal of the city, or 404.
pub async fn proposal_row(s: &AppState, city: &str, id: i64) -> Result<ProposalRow, ApiError> {
    s.store
        .proposal(city, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("proposal {id}")))
}

pub async fn proposal_view(s: &AppState, city: &str, id: i64) -> Result<ProposalView, ApiError> {
    let proposal = proposal_row(s, city, id).await?;
    Ok(ProposalView {
        versions: s.store.proposal_versions(city, id).await?,
        amendments: s.store.amendments(city, id).await?,
        comments: s.store.comments(city, id).await?,
        proposal,
    })
}

/// A proposal, every version and every amendment with its answer (public).
#[utoipa::path(get, path = "/api/renewal/proposals/{id}", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = ProposalView), (status = 404, body = ErrorBody)))]
pub async fn get_proposal(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProposalView>> {
    Ok(Json(proposal_view(&s, &city_of(&s, p.as_ref()), id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Revision {
    /// The version edited.
    pub version: i64,
    pub title: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub site: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<LineItem>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub offers: Vec<Offer>,
}

async fn proposal_for_author(s: &AppState, p: &Principal, id: i64) -> Result<ProposalRow, ApiError> {
    let row = proposal_row(s, &p.city.to_string(), id).await?;
    if !gongzhi_app::renewal_votes::may_edit_proposal(p, row.author, &row.community) {
        return Err(ApiError::forbidden(
            "only the proposal's author or the community's planner may change it or answer amendments",
        ));
    }
    Ok(row)
}

/// Write a new version (the author or the planner), over the version seen.
#[utoipa::path(put, path = "/api/renewal/proposals/{id}", tag = "renewal", params(("id" = i64, Path)), request_body = Revision,
    security(("bearer" = [])), responses((status = 200, body = ProposalView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revise_proposal(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<Revision>,
) -> ApiResult<Json<ProposalView>> {
    let row = proposal_for_author(&s, &p, id).await?;
    let content = Content {
        title: r.title.trim().to_owned(),
        description: r.description,
        site: r.site,
        items: r.items,
        offers: r.offers,
        attachments: row.content.attachments,
    };
    let city = p.city.to_string();
    s.store
        .revise_proposal(&city, id, r.version, &content, p.person_id)
        .await?;
    Ok(Json(proposal_view(&s, &city, id).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct DiffQuery {
    pub from: i64,
    pub to: i64,
}

/// What changed between two versions, field by field (text fields line by line).
#[utoipa::path(get, path = "/api/renewal/proposals/{id}/diff", tag = "renewal", params(("id" = i64, Path), DiffQuery),
    responses((status = 200, body = Vec<Object>), (status = 422, body = ErrorBody)))]
pub async fn diff(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<Vec<proposal::FieldChange>>> {
    let city = city_of(&s, p.as_ref());
    proposal_row(&s, &city, id).await?;
    Ok(Json(s.store.proposal_diff(&city, id, q.from, q.to).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AmendmentInput {
    /// The version the amendment was written against.
    pub base_version: i64,
    /// The fields to replace: title, description, site, items, offers.
    #[schema(value_type = Object)]
    pub changes: Patch,
    pub reason: String,
}

/// A resident of the community suggests an amendment (修改建议).
#[utoipa::path(post, path = "/api/renewal/proposals/{id}/amendments", tag = "renewal", params(("id" = i64, Path)),
    request_body = AmendmentInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn suggest_amendment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<AmendmentInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let city = p.city.to_string();
    let row = proposal_row(&s, &city, id).await?;
    need_resident_or_staff(&p, &row.community, "suggesting an amendment")?;
    let a = s
        .store
        .suggest_amendment(&city, id, r.base_version, &r.changes, &r.reason, p.person_id)
        .await?;
    Ok(created(a))
}

#[derive(Deserialize, ToSchema)]
pub struct CommentInput {
    /// 1 to 1,000 characters.
    pub body: String,
}

/// Check and store a comment on a proposal: verified residents of its community and its staff.
pub async fn comment(s: &AppState, p: &Principal, id: i64, body: &str) -> ApiResult<i64> {
    let city = p.city.to_string();
    let row = proposal_row(s, &city, id).await?;
    need_resident_or_staff(p, &row.community, "commenting on a proposal")?;
    Ok(s.store.add_comment(&city, id, body, p.person_id).await?)
}

/// Comment on a proposal (讨论): verified residents of its community and its staff. Comments
/// are public with the proposal.
#[utoipa::path(post, path = "/api/renewal/proposals/{id}/comments", tag = "renewal", params(("id" = i64, Path)),
    request_body = CommentInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_comment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<CommentInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(comment(&s, &p, id, &r.body).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerInput {
    pub accept: bool,
    /// Required when rejecting: why.
    #[serde(default)]
    pub answer: String,
}

/// The author accepts an amendment (a new version) or rejects it with a reason.
#[utoipa::path(post, path = "/api/renewal/amendments/{id}/answer", tag = "renewal", params(("id" = i64, Path)),
    request_body = AnswerInput, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer_amendment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<AnswerInput>,
) -> ApiResult<Json<AmendmentRow>> {
    let city = p.city.to_string();
    let a = s
        .store
        .amendment(&city, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("amendment {id}")))?;
    proposal_for_author(&s, &p, a.proposal).await?;
    Ok(Json(
        s.store
            .answer_amendment(&city, id, r.accept, &r.answer, p.person_id)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct AttachmentQuery {
    /// The file name shown, e.g. 平面图.pdf.
    pub name: String,
}

/// Attach a design file (PNG, JPEG or WebP at most 5 MiB, or PDF at most 10 MiB; the body is
/// the file, its type read from its bytes): a new version.
#[utoipa::path(post, path = "/api/renewal/proposals/{id}/attachments", tag = "renewal", params(("id" = i64, Path), AttachmentQuery),
    request_body(content = Vec<u8>, content_type = "application/pdf"), security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_attachment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Query(q): Query<AttachmentQuery>,
    upload: crate::media::FileUpload,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let row = proposal_for_author(&s, &p, id).await?;
    let file = upload.check()?;
    if q.name.trim().is_empty() {
        return Err(ApiError::invalid("name: give the file's name"));
    }
    let city = p.city.to_string();
    let n = row.content.attachments.len();
    let document = s
        .store
        .add_proposal_file(&city, id, n, &file, Some(p.person_id))
        .await?;
    let mut content = row.content.clone();
    content.attachments.push(Attachment {
        name: q.name.trim().to_owned(),
        media_type: file.content_type.to_owned(),
        document,
        bytes: file.data.len() as u64,
    });
    s.store
        .revise_proposal(&city, id, row.version, &content, p.person_id)
        .await?;
    Ok(created(n as i64))
}

/// A design attachment's file (public): moved to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/renewal/proposals/{id}/attachments/{n}", tag = "renewal",
    params(("id" = i64, Path), ("n" = usize, Path)), responses((status = 308, description = "the file's one URL, /media/{id}"), (status = 404, body = ErrorBody)))]
pub async fn get_attachment(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((id, n)): Path<(i64, usize)>,
) -> ApiResult<Response> {
    let city = city_of(&s, p.as_ref());
    let row = proposal_row(&s, &city, id).await?;
    let missing = || ApiError::not_found(format!("attachment {n} of proposal {id}"));
    let a = row.content.attachments.get(n).ok_or_else(missing)?;
    let m = s
        .store
        .media_by_legacy(&city, &format!("documents:{}", a.document))
        .await?
        .ok_or_else(missing)?;
    Ok(crate::media::moved(m.id))
}

// ---------------------------------------------------------------- council

#[derive(Serialize, ToSchema)]
pub struct CouncilView {
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<CouncilMember>,
    #[schema(value_type = Vec<Object>)]
    pub meetings: Vec<Meeting>,
}

/// The council of a community: members and meetings with minutes (residents and staff).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/council", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = CouncilView), (status = 403, body = ErrorBody)))]
pub async fn council(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(community): Path<String>,
) -> ApiResult<Json<CouncilView>> {
    need_resident_or_staff(&p, &community, "the council's minutes")?;
    let city = p.city.to_string();
    Ok(Json(CouncilView {
        members: s.store.council_members(&city, &community).await?,
        meetings: s.store.meetings(&city, &community).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct MemberInput {
    #[serde(default)]
    pub person: Option<i64>,
    pub name: String,
    /// resident_representative, planner, property_manager, community_committee, department_liaison.
    pub kind: String,
}

/// Add a council member (staff).
#[utoipa::path(post, path = "/api/renewal/communities/{community}/council/members", tag = "renewal", params(("community" = String, Path)),
    request_body = MemberInput, security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(community): Path<String>,
    Json(r): Json<MemberInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    check_community(&community)?;
    need_staff(&p, &community)?;
    let kind: MemberKind = r.kind.parse()?;
    let city = p.city.to_string();
    if let Some(person) = r.person {
        if s.store.person(&city, person).await?.is_none() {
            return Err(ApiError::invalid(format!("person: {person} is not in the register")));
        }
    }
    Ok(created(
        s.store
            .add_council_member(&city, &community, r.person, &r.name, kind, p.person_id)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct MeetingInput {
    pub community: String,
    pub title: String,
    /// Unix milliseconds; default now.
    #[serde(default)]
    pub held_at: Option<i64>,
    /// Attendance quorum as a fraction of members; default 1/2.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub quorum: Option<Quorum>,
    /// Proposal ids.
    pub agenda: Vec<i64>,
}

/// Call a council meeting with an agenda of proposals (staff).
#[utoipa::path(post, path = "/api/renewal/meetings", tag = "renewal", request_body = MeetingInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_meeting(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<MeetingInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    check_community(&r.community)?;
    need_staff(&p, &r.community)?;
    let m = NewMeeting {
        community: r.community,
        title: r.title,
        held_at: r.held_at.unwrap_or_else(now),
        quorum: r.quorum.unwrap_or_default(),
        agenda: r.agenda,
    };
    Ok(created(
        s.store.create_meeting(&p.city.to_string(), &m, p.person_id).await?,
    ))
}

async fn meeting_for(s: &AppState, p: &Principal, id: i64, staff: bool) -> Result<Meeting, ApiError> {
    let m = s
        .store
        .meeting(&p.city.to_string(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("meeting {id}")))?;
    if staff {
        need_staff(p, &m.community)?;
    } else {
        need_resident_or_staff(p, &m.community, "the council's minutes")?;
    }
    Ok(m)
}

/// A meeting: agenda, attendance, quorum standing, positions, decisions, minutes.
#[utoipa::path(get, path = "/api/renewal/meetings/{id}", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_meeting(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Meeting>> {
    Ok(Json(meeting_for(&s, &p, id, false).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RecordInput {
    /// Council member ids present.
    #[serde(default)]
    pub attendance: Option<Vec<i64>>,
    #[serde(default)]
    pub minutes: Option<String>,
}

/// Record attendance and/or minutes (staff).
#[utoipa::path(post, path = "/api/renewal/meetings/{id}/record", tag = "renewal", params(("id" = i64, Path)), request_body = RecordInput,
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_meeting(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<RecordInput>,
) -> ApiResult<Json<Meeting>> {
    meeting_for(&s, &p, id, true).await?;
    Ok(Json(
        s.store
            .record_meeting(
                &p.city.to_string(),
                id,
                r.attendance.as_deref(),
                r.minutes.as_deref(),
                p.person_id,
            )
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PositionInput {
    pub member: i64,
    pub proposal: i64,
    /// support, object or abstain.
    pub stance: String,
    #[serde(default)]
    pub reason: String,
}

/// Record a present member's position on a proposal (staff).
#[utoipa::path(post, path = "/api/renewal/meetings/{id}/positions", tag = "renewal", params(("id" = i64, Path)), request_body = PositionInput,
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_position(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<PositionInput>,
) -> ApiResult<Json<Meeting>> {
    meeting_for(&s, &p, id, true).await?;
    let stance: Stance = r.stance.parse()?;
    let city = p.city.to_string();
    s.store
        .record_position(
            &city,
            id,
            &PositionRow {
                member: r.member,
                proposal: r.proposal,
                stance,
                reason: r.reason,
            },
            p.person_id,
        )
        .await?;
    Ok(Json(meeting_for(&s, &p, id, true).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionInput {
    pub proposal: i64,
    /// to_vote, revise or rejected.
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// The council's decision on a proposal; refused with 409 when attendance is below the quorum.
#[utoipa::path(post, path = "/api/renewal/meetings/{id}/decisions", tag = "renewal", params(("id" = i64, Path)), request_body = DecisionInput,
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<DecisionInput>,
) -> ApiResult<Json<Meeting>> {
    meeting_for(&s, &p, id, true).await?;
    let decision: Decision = r.decision.parse()?;
    s.store
        .decide_proposal(
            &p.city.to_string(),
            id,
            &DecisionRow {
                proposal: r.proposal,
                decision,
                reason: r.reason,
            },
            p.person_id,
        )
        .await?;
    Ok(Json(meeting_for(&s, &p, id, true).await?))
}

// ---------------------------------------------------------------- votes

/// A vote as listed and shown.
#[derive(Serialize, ToSchema)]
pub struct VoteView {
    pub id: i64,
    pub community: String,
    #[schema(value_type = Object)]
    pub setup: VoteSetup,
    /// upcoming, open or closed.
    pub phase: &'static str,
    pub finalised: bool,
    #[schema(value_type = Object)]
    pub turnout: Turnout,
    /// For a logged-in person: whether they may vote and whether they already did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_voted: Option<bool>,
}

pub async fn vote_view(s: &AppState, city: &str, v: VoteRow, p: Option<&Principal>) -> Result<VoteView, ApiError> {
    let turnout = s.store.turnout(city, v.id).await?;
    let (eligible, has_voted) = match p {
        Some(p) => (
            Some(is_resident_of(p, &v.community)),
            Some(s.store.has_voted(city, v.id, p.person_id).await?),
        ),
        None => (None, None),
    };
    Ok(VoteView {
        id: v.id,
        phase: v.phase(now()).as_str(),
        community: v.community,
        setup: v.setup,
        finalised: v.finalised,
        turnout,
        eligible,
        has_voted,
    })
}

/// The votes of a community (public).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/votes", tag = "renewal", params(("community" = String, Path)),
    responses((status = 200, body = Vec<VoteView>)))]
pub async fn list_votes(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
) -> ApiResult<Json<Vec<VoteView>>> {
    let city = city_of(&s, p.as_ref());
    let mut out = Vec::new();
    for v in s.store.votes(&city, &community).await? {
        out.push(vote_view(&s, &city, v, p.as_ref()).await?);
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
pub struct OnBallot {
    pub proposal: i64,
    /// The sub-area (grid code) the project lies in, for minimum shares.
    #[serde(default)]
    pub area: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct VoteInput {
    pub community: String,
    pub title: String,
    pub budget_cents: i64,
    /// Unix milliseconds.
    pub opens_at: i64,
    pub closes_at: i64,
    /// {"kind":"approval","min":1,"max":3} | {"kind":"within_budget","min_num":1,"min_den":2} |
    /// {"kind":"cumulative","points":10,"max_per_project":5}
    #[schema(value_type = Object)]
    pub ballot: BallotRule,
    /// greedy, mes, mes-add1 or phragmen.
    pub counting: String,
    pub proposals: Vec<OnBallot>,
    /// Sets of proposal ids of which a ballot may choose at most one.
    #[serde(default)]
    pub exclusive: Vec<Vec<i64>>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub area_shares: Vec<AreaShare>,
}

/// Set up a participatory-budget vote over proposals the council sent to the vote (staff).
#[utoipa::path(post, path = "/api/renewal/votes", tag = "renewal", request_body = VoteInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_vote(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<VoteInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(setup_vote(&s, &p, r).await?))
}

/// Checks and stores a vote's setup (staff of the community); the API and the votes hub page.
pub async fn setup_vote(s: &AppState, p: &Principal, r: VoteInput) -> Result<i64, ApiError> {
    check_community(&r.community)?;
    need_staff(p, &r.community)?;
    let city = p.city.to_string();
    let counting: Rule = r.counting.parse()?;
    let mut projects = Vec::new();
    for b in &r.proposals {
        let row = s
            .store
            .proposal(&city, b.proposal)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("proposals: proposal {} does not exist", b.proposal)))?;
        projects.push(VoteProject {
            id: b.proposal.to_string(),
            proposal: Some(b.proposal),
            title: row.content.title.clone(),
            cost_cents: row.budget_cents,
            area: b.area.clone(),
        });
    }
    let setup = VoteSetup {
        title: r.title.trim().to_owned(),
        community: r.community,
        budget_cents: r.budget_cents,
        opens_at: r.opens_at,
        closes_at: r.closes_at,
        ballot: r.ballot,
        counting,
        projects,
        exclusive: r
            .exclusive
            .iter()
            .map(|set| set.iter().map(|x| x.to_string()).collect())
            .collect(),
        area_shares: r.area_shares,
    };
    Ok(s.store.create_vote(&city, &setup, p.person_id).await?)
}

/// A vote: its setup, phase and turnout; `GET /api/renewal/votes/{id}.pb` gives its ballots as
/// a pabulib file once it is closed (voter ids are receipts).
#[utoipa::path(get, path = "/api/renewal/votes/{id}", tag = "renewal", params(("id" = String, Path, description = "vote id, or id.pb for the pabulib export")),
    responses((status = 200, body = VoteView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn get_vote(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let city = city_of(&s, p.as_ref());
    if let Some(n) = id.strip_suffix(".pb") {
        let n: i64 = n.parse().map_err(|_| ApiError::not_found(format!("vote {id}")))?;
        let text = export_pb(&s, &city, n).await?;
        let file = format!("attachment; filename=\"vote-{n}.pb\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, file),
            ],
            text,
        )
            .into_response());
    }
    let n: i64 = id.parse().map_err(|_| ApiError::not_found(format!("vote {id}")))?;
    let v = vote_row(&s, &city, n).await?;
    Ok(Json(vote_view(&s, &city, v, p.as_ref()).await?).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct BallotInput {
    /// {"kind":"projects","projects":["12","13"]} or {"kind":"points","points":[["12",3]]}
    #[schema(value_type = Object)]
    pub ballot: Ballot,
}

#[derive(Serialize, ToSchema)]
pub struct Receipt {
    /// Keep it: it shows that the ballot was counted, and finds it in the published `.pb`.
    pub receipt: String,
}

/// A verified resident casts their ballot; the answer is the receipt, never stored with the voter.
#[utoipa::path(post, path = "/api/renewal/votes/{id}/ballot", tag = "renewal", params(("id" = i64, Path)), request_body = BallotInput,
    security(("bearer" = [])), responses((status = 201, body = Receipt), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cast(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<BallotInput>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let receipt = s
        .store
        .cast_ballot(&p.city.to_string(), id, p.person_id, &r.ballot)
        .await?;
    Ok((StatusCode::CREATED, Json(Receipt { receipt })))
}

#[derive(Deserialize, ToSchema)]
pub struct PaperInput {
    /// The resident who handed in the paper ballot (checked and marked as having voted).
    pub voter: i64,
    #[schema(value_type = Object)]
    pub ballot: Ballot,
}

/// Staff enter a paper ballot (first entry); it counts after a second staff member's entry.
#[utoipa::path(post, path = "/api/renewal/votes/{id}/paper", tag = "renewal", params(("id" = i64, Path)), request_body = PaperInput,
    security(("bearer" = [])), responses((status = 201, body = Receipt), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn enter_paper(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<PaperInput>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let receipt = enter_paper_ballot(&s, &p, id, r.voter, &r.ballot).await?;
    Ok((StatusCode::CREATED, Json(Receipt { receipt })))
}

/// A staff member's first entry of a paper ballot (the API and the vote page); the receipt.
pub async fn enter_paper_ballot(
    s: &AppState,
    p: &Principal,
    id: i64,
    voter: i64,
    ballot: &Ballot,
) -> Result<String, ApiError> {
    let city = p.city.to_string();
    let v = vote_row(s, &city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store
        .enter_paper_ballot(&city, id, voter, ballot, p.person_id)
        .await?)
}

/// Another staff member's second entry of a paper ballot (the API and the vote page).
pub async fn confirm_paper_ballot(
    s: &AppState,
    p: &Principal,
    id: i64,
    receipt: &str,
    ballot: &Ballot,
) -> Result<(), ApiError> {
    let city = p.city.to_string();
    let v = vote_row(s, &city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store
        .confirm_paper_ballot(&city, id, receipt, ballot, p.person_id)
        .await?)
}

/// Close and count a vote (staff; the API and the vote page).
pub async fn close_vote(s: &AppState, p: &Principal, id: i64) -> Result<Count, ApiError> {
    let city = p.city.to_string();
    let v = vote_row(s, &city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store.close_vote(&city, id, p.person_id).await?)
}

/// Paper ballots awaiting their second entry (staff).
#[utoipa::path(get, path = "/api/renewal/votes/{id}/paper", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn pending_paper(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<PendingPaper>>> {
    let city = p.city.to_string();
    let v = vote_row(&s, &city, id).await?;
    need_staff(&p, &v.community)?;
    Ok(Json(s.store.pending_paper(&city, id).await?))
}

/// A second staff member enters the paper ballot again; it counts if both entries agree.
#[utoipa::path(post, path = "/api/renewal/votes/{id}/paper/{receipt}/confirm", tag = "renewal",
    params(("id" = i64, Path), ("receipt" = String, Path)), request_body = BallotInput, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn confirm_paper(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, receipt)): Path<(i64, String)>,
    Json(r): Json<BallotInput>,
) -> ApiResult<Json<serde_json::Value>> {
    confirm_paper_ballot(&s, &p, id, &receipt, &r.ballot).await?;
    Ok(Json(serde_json::json!({ "receipt": receipt, "status": "counted" })))
}

/// Check a receipt: the ballot under it and whether it is counted (no voter is ever shown).
#[utoipa::path(get, path = "/api/renewal/votes/{id}/receipts/{code}", tag = "renewal",
    params(("id" = i64, Path), ("code" = String, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn check_receipt(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((id, code)): Path<(i64, String)>,
) -> ApiResult<Json<ReceiptView>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(s.store.receipt(&city, id, &code).await?.ok_or_else(|| {
        ApiError::not_found(format!("receipt {code} in vote {id}"))
    })?))
}

/// Close the vote (now, if still open), count it and mark its proposals funded or not (staff).
#[utoipa::path(post, path = "/api/renewal/votes/{id}/close", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Count>> {
    Ok(Json(close_vote(&s, &p, id).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct RuleQuery {
    /// Count under another rule than the vote's (greedy, mes, mes-add1, phragmen).
    pub rule: Option<String>,
}

/// Results of a closed vote (public): funded projects and an explanation per project.
#[utoipa::path(get, path = "/api/renewal/votes/{id}/results", tag = "renewal", params(("id" = i64, Path), RuleQuery),
    responses((status = 200, body = Object), (status = 409, body = ErrorBody)))]
pub async fn results(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
    Query(q): Query<RuleQuery>,
) -> ApiResult<Json<Count>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(count_of(&s, &city, id, q.rule.as_deref()).await?))
}

/// Results of a closed vote as CSV.
#[utoipa::path(get, path = "/api/renewal/votes/{id}/results.csv", tag = "renewal", params(("id" = i64, Path), RuleQuery),
    responses((status = 200, content_type = "text/csv"), (status = 409, body = ErrorBody)))]
pub async fn results_csv(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
    Query(q): Query<RuleQuery>,
) -> ApiResult<Response> {
    let c = count_of(&s, &city_of(&s, p.as_ref()), id, q.rule.as_deref()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"vote-{id}-results.csv\""),
            ),
        ],
        results_csv_text(&c),
    )
        .into_response())
}

/// Results of a closed vote as XLSX.
#[utoipa::path(get, path = "/api/renewal/votes/{id}/results.xlsx", tag = "renewal", params(("id" = i64, Path), RuleQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 409, body = ErrorBody)))]
pub async fn results_xlsx(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
    Query(q): Query<RuleQuery>,
) -> ApiResult<Response> {
    let c = count_of(&s, &city_of(&s, p.as_ref()), id, q.rule.as_deref()).await?;
    let bytes = results_xlsx_bytes(&c).map_err(|e| ApiError::invalid(format!("xlsx: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"vote-{id}-results.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Import the ballots of a pabulib `.pb` file into a vote (staff); all or nothing.
#[utoipa::path(post, path = "/api/renewal/votes/{id}/import", tag = "renewal", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/plain"), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_pb(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("file: a .pb file is UTF-8 text"))?;
    let n = service::import_pb(&s, &p, id, text).await?;
    Ok(Json(serde_json::json!({ "imported": n })))
}

/// The proposals a closed vote funded (for delivery).
#[utoipa::path(get, path = "/api/renewal/votes/{id}/funded", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Object>), (status = 409, body = ErrorBody)))]
pub async fn funded(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<FundedProposal>>> {
    let city = city_of(&s, p.as_ref());
    vote_row(&s, &city, id).await?;
    Ok(Json(s.store.funded_proposals(&city, id).await?))
}

/// The status names (for pages).
pub fn status_name(s: ProposalStatus) -> &'static str {
    s.zh()
}
