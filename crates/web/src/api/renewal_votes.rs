//! Micro-renewal proposals, council and participatory-budget votes (社区微更新: 方案、议事会、
//! 参与式预算), under `/api/renewal/...`.
//!
//! Who may do what: proposals and votes are public to read; residents of the community
//! (a Resident grant covering it) write proposals, suggest amendments and vote; staff with
//! `RunRenewal` on the community (community planners, administrators) write and revise
//! proposals, keep the council, set up and close votes and enter paper ballots. Council
//! meetings and minutes are shown to the community's residents and staff. All of it is decided
//! in `gongzhi_app::renewal_votes`; the handlers here only extract, call it and answer.
//!
//! Secrecy: no answer here carries a voter with a ballot. Ballots are shown only under their
//! receipt (the receipt check, the `.pb` export, whose voter ids are receipts).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_core::renewal::proposal::{self, ProposalStatus};
use gongzhi_core::renewal::vote::Count;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::territory::city_of;
use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use gongzhi_app::renewal_votes::{
    self as service, AmendmentInput, AmendmentRow, AnswerInput, AttachmentQuery, BallotInput, CommentInput,
    CouncilView, DecisionInput, DiffQuery, FundedProposal, Meeting, MeetingInput, MemberInput, PaperInput,
    PendingPaper, PositionInput, ProposalInput, ProposalRow, ProposalView, ReceiptView, RecordInput, Revision,
    RuleQuery, VoteInput, VoteView,
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

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created(id: i64) -> (StatusCode, Json<Created>) {
    (StatusCode::CREATED, Json(Created { id }))
}

// ---------------------------------------------------------------- proposals

/// The proposals of a community (public).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/proposals", tag = "renewal",
    params(("community" = String, Path)), responses((status = 200, body = Vec<Object>)))]
pub async fn list_proposals(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
) -> ApiResult<Json<Vec<ProposalRow>>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(service::list_proposals(&s, city, &community).await?))
}

/// Write a proposal (a resident of the community or its planner).
#[utoipa::path(post, path = "/api/renewal/proposals", tag = "renewal", request_body = ProposalInput,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_proposal(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<ProposalInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::create_proposal(&s, &p, r).await?))
}

/// A proposal, every version and every amendment with its answer (public).
#[utoipa::path(get, path = "/api/renewal/proposals/{id}", tag = "renewal", params(("id" = i64, Path)),
    responses((status = 200, body = ProposalView), (status = 404, body = ErrorBody)))]
pub async fn get_proposal(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProposalView>> {
    Ok(Json(service::proposal_view(&s, city_of(&s, p.as_ref()), id).await?))
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
    Ok(Json(service::revise_proposal(&s, &p, id, r).await?))
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
    Ok(Json(service::proposal_diff(&s, city, id, &q).await?))
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
    Ok(created(service::suggest_amendment(&s, &p, id, &r).await?))
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
    Ok(created(service::comment(&s, &p, id, &r.body).await?))
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
    Ok(Json(service::answer_amendment(&s, &p, id, &r).await?))
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
    let target = service::proposal_for_author(&s, &p, id).await?;
    let file = upload.check()?;
    let n = service::add_attachment(&s, &p, target, &q.name, &file).await?;
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
    Ok(crate::media::moved(service::attachment_media(&s, city, id, n).await?))
}

// ---------------------------------------------------------------- council

/// The council of a community: members and meetings with minutes (residents and staff).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/council", tag = "renewal", params(("community" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = CouncilView), (status = 403, body = ErrorBody)))]
pub async fn council(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(community): Path<String>,
) -> ApiResult<Json<CouncilView>> {
    Ok(Json(service::council_of(&s, &p, &community).await?))
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
    Ok(created(service::add_member(&s, &p, &community, &r).await?))
}

/// Call a council meeting with an agenda of proposals (staff).
#[utoipa::path(post, path = "/api/renewal/meetings", tag = "renewal", request_body = MeetingInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_meeting(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<MeetingInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::create_meeting(&s, &p, r).await?))
}

/// A meeting: agenda, attendance, quorum standing, positions, decisions, minutes.
#[utoipa::path(get, path = "/api/renewal/meetings/{id}", tag = "renewal", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_meeting(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Meeting>> {
    Ok(Json(service::meeting(&s, &p, id).await?))
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
    Ok(Json(service::record_meeting(&s, &p, id, &r).await?))
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
    Ok(Json(service::add_position(&s, &p, id, r).await?))
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
    Ok(Json(service::decide(&s, &p, id, r).await?))
}

// ---------------------------------------------------------------- votes

/// The votes of a community (public).
#[utoipa::path(get, path = "/api/renewal/communities/{community}/votes", tag = "renewal", params(("community" = String, Path)),
    responses((status = 200, body = Vec<VoteView>)))]
pub async fn list_votes(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(community): Path<String>,
) -> ApiResult<Json<Vec<VoteView>>> {
    let city = city_of(&s, p.as_ref());
    Ok(Json(service::list_votes(&s, p.as_ref(), city, &community).await?))
}

/// Set up a participatory-budget vote over proposals the council sent to the vote (staff).
#[utoipa::path(post, path = "/api/renewal/votes", tag = "renewal", request_body = VoteInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_vote(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<VoteInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok(created(service::setup_vote(&s, &p, r).await?))
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
        let text = service::export_pb(&s, city, n).await?;
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
    Ok(Json(service::get_vote(&s, p.as_ref(), city, n).await?).into_response())
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
    let receipt = service::cast_ballot(&s, &p, id, &r.ballot).await?;
    Ok((StatusCode::CREATED, Json(Receipt { receipt })))
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
    let receipt = service::enter_paper_ballot(&s, &p, id, r.voter, &r.ballot).await?;
    Ok((StatusCode::CREATED, Json(Receipt { receipt })))
}

/// Paper ballots awaiting their second entry (staff).
#[utoipa::path(get, path = "/api/renewal/votes/{id}/paper", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn pending_paper(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<PendingPaper>>> {
    Ok(Json(service::pending_paper(&s, &p, id).await?))
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
    service::confirm_paper_ballot(&s, &p, id, &receipt, &r.ballot).await?;
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
    Ok(Json(service::check_receipt(&s, city, id, &code).await?))
}

/// Close the vote (now, if still open), count it and mark its proposals funded or not (staff).
#[utoipa::path(post, path = "/api/renewal/votes/{id}/close", tag = "renewal", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Count>> {
    Ok(Json(service::close_vote(&s, &p, id).await?))
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
    Ok(Json(service::count_of(&s, city, id, q.rule.as_deref()).await?))
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
    let text = service::results_csv(&s, city_of(&s, p.as_ref()), id, q.rule.as_deref()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"vote-{id}-results.csv\""),
            ),
        ],
        text,
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
    let bytes = service::results_xlsx(&s, city_of(&s, p.as_ref()), id, q.rule.as_deref()).await?;
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

/// Import the ballots of a pabulib `.pb` file into a vote (staff); all or nothing. Keyed by the
/// file's voter id: the answer lists the voter ids `added`, `updated`, `unchanged`.
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
    let r = service::import_pb(&s, &p, id, text).await?;
    Ok(Json(serde_json::json!({
        "imported": r.added.len() + r.updated.len() + r.unchanged.len(),
        "added": r.added,
        "updated": r.updated,
        "unchanged": r.unchanged,
    })))
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
    Ok(Json(service::funded(&s, city, id).await?))
}

/// The status names (for pages).
pub fn status_name(s: ProposalStatus) -> &'static str {
    s.zh()
}
