//! Proposals (更新方案): writing and revising them, their versions and the diff between two,
//! residents' amendments (修改建议) and the author's answers, the discussion (讨论) and design
//! attachments.

use gongzhi_core::access::Principal;
use gongzhi_core::media::Checked;
use gongzhi_core::renewal::proposal::{self, Attachment, Content, LineItem, Offer, Patch};
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::proposals::{AmendmentRow, CommentRow, NewProposal, ProposalRow, VersionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{check_community, may_edit_proposal, may_take_part, need_resident_or_staff};
use crate::{AppError, AppResult, AppState};

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
pub async fn list_proposals(s: &AppState, city: CityCode, community: &str) -> AppResult<Vec<ProposalRow>> {
    Ok(s.store.proposals(city, community).await?)
}

/// Write a proposal (a resident of the community or its planner); its id.
pub async fn create_proposal(s: &AppState, p: &Principal, r: ProposalInput) -> AppResult<i64> {
    check_community(&r.community)?;
    need_resident_or_staff(p, &r.community, "writing a proposal")?;
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
            p.city,
            &NewProposal {
                community: r.community,
                cluster: r.cluster,
                content,
            },
            p.person_id,
        )
        .await?;
    Ok(id)
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
pub async fn proposal_row(s: &AppState, city: CityCode, id: i64) -> AppResult<ProposalRow> {
    s.store
        .proposal(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("proposal {id}")))
}

/// A proposal, every version, every amendment with its answer and the discussion (public).
pub async fn proposal_view(s: &AppState, city: CityCode, id: i64) -> AppResult<ProposalView> {
    let proposal = proposal_row(s, city, id).await?;
    Ok(ProposalView {
        versions: s.store.proposal_versions(city, id).await?,
        amendments: s.store.amendments(city, id).await?,
        comments: s.store.comments(city, id).await?,
        proposal,
    })
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

/// A proposal the principal may change: only [`proposal_for_author`] makes one.
pub struct EditableProposal(ProposalRow);

impl EditableProposal {
    pub fn row(&self) -> &ProposalRow {
        &self.0
    }
}

/// The proposal, if the principal may change it or answer its amendments: its author or the
/// planner of its community.
pub async fn proposal_for_author(s: &AppState, p: &Principal, id: i64) -> AppResult<EditableProposal> {
    let row = proposal_row(s, p.city, id).await?;
    if !may_edit_proposal(p, row.author, &row.community) {
        return Err(AppError::forbidden(
            "only the proposal's author or the community's planner may change it or answer amendments",
        ));
    }
    Ok(EditableProposal(row))
}

/// Write a new version (the author or the planner), over the version seen; the proposal as it
/// now is.
pub async fn revise_proposal(s: &AppState, p: &Principal, id: i64, r: Revision) -> AppResult<ProposalView> {
    let row = proposal_for_author(s, p, id).await?.0;
    let content = Content {
        title: r.title.trim().to_owned(),
        description: r.description,
        site: r.site,
        items: r.items,
        offers: r.offers,
        attachments: row.content.attachments,
    };
    let city = p.city;
    s.store
        .revise_proposal(city, id, r.version, &content, p.person_id)
        .await?;
    proposal_view(s, city, id).await
}

#[derive(Deserialize, IntoParams)]
pub struct DiffQuery {
    pub from: i64,
    pub to: i64,
}

/// What changed between two versions, field by field (text fields line by line).
pub async fn proposal_diff(
    s: &AppState,
    city: CityCode,
    id: i64,
    q: &DiffQuery,
) -> AppResult<Vec<proposal::FieldChange>> {
    proposal_row(s, city, id).await?;
    Ok(s.store.proposal_diff(city, id, q.from, q.to).await?)
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

/// A resident of the community suggests an amendment (修改建议); its id.
pub async fn suggest_amendment(s: &AppState, p: &Principal, id: i64, r: &AmendmentInput) -> AppResult<i64> {
    let city = p.city;
    let row = proposal_row(s, city, id).await?;
    need_resident_or_staff(p, &row.community, "suggesting an amendment")?;
    Ok(s.store
        .suggest_amendment(city, id, r.base_version, &r.changes, &r.reason, p.person_id)
        .await?)
}

#[derive(Deserialize, ToSchema)]
pub struct CommentInput {
    /// 1 to 1,000 characters.
    pub body: String,
}

/// Check and store a comment on a proposal: verified residents of its community and its staff.
pub async fn comment(s: &AppState, p: &Principal, id: i64, body: &str) -> AppResult<i64> {
    let city = p.city;
    let row = proposal_row(s, city, id).await?;
    need_resident_or_staff(p, &row.community, "commenting on a proposal")?;
    Ok(s.store.add_comment(city, id, body, p.person_id).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerInput {
    pub accept: bool,
    /// Required when rejecting: why.
    #[serde(default)]
    pub answer: String,
}

/// The author accepts an amendment (a new version) or rejects it with a reason.
pub async fn answer_amendment(s: &AppState, p: &Principal, id: i64, r: &AnswerInput) -> AppResult<AmendmentRow> {
    let city = p.city;
    let a = s
        .store
        .amendment(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("amendment {id}")))?;
    proposal_for_author(s, p, a.proposal).await?;
    Ok(s.store
        .answer_amendment(city, id, r.accept, &r.answer, p.person_id)
        .await?)
}

/// The proposal page's answer to an amendment of the proposal: the author or the planner of
/// the proposal's community.
pub async fn answer_amendment_of(
    s: &AppState,
    p: &Principal,
    proposal: i64,
    amendment: i64,
    r: &AnswerInput,
) -> AppResult<AmendmentRow> {
    let city = p.city;
    let row = proposal_row(s, city, proposal).await?;
    if !may_edit_proposal(p, row.author, &row.community) {
        return Err(AppError::forbidden("only the author or the planner answers amendments"));
    }
    let a = s
        .store
        .amendment(city, amendment)
        .await?
        .filter(|a| a.proposal == proposal)
        .ok_or_else(|| AppError::not_found(format!("amendment {amendment}")))?;
    Ok(s.store
        .answer_amendment(city, a.id, r.accept, &r.answer, p.person_id)
        .await?)
}

#[derive(Deserialize, IntoParams)]
pub struct AttachmentQuery {
    /// The file name shown, e.g. 平面图.pdf.
    pub name: String,
}

/// Attach a checked design file to a proposal the principal may change (see
/// [`proposal_for_author`]): a new version. Returns the attachment's number.
pub async fn add_attachment(
    s: &AppState,
    p: &Principal,
    target: EditableProposal,
    name: &str,
    file: &Checked,
) -> AppResult<usize> {
    let row = target.0;
    if name.trim().is_empty() {
        return Err(AppError::invalid("name: give the file's name"));
    }
    let city = p.city;
    let id = row.id;
    let n = row.content.attachments.len();
    let document = s.store.add_proposal_file(city, id, n, file, Some(p.person_id)).await?;
    let mut content = row.content.clone();
    content.attachments.push(Attachment {
        name: name.trim().to_owned(),
        media_type: file.content_type.to_owned(),
        document,
        bytes: file.data.len() as u64,
    });
    s.store
        .revise_proposal(city, id, row.version, &content, p.person_id)
        .await?;
    Ok(n)
}

/// The media id of a proposal's design attachment `n` (public), or 404.
pub async fn attachment_media(s: &AppState, city: CityCode, id: i64, n: usize) -> AppResult<i64> {
    let row = proposal_row(s, city, id).await?;
    let missing = || AppError::not_found(format!("attachment {n} of proposal {id}"));
    let a = row.content.attachments.get(n).ok_or_else(missing)?;
    let m = s
        .store
        .media_by_legacy(city, &format!("documents:{}", a.document))
        .await?
        .ok_or_else(missing)?;
    Ok(m.id)
}

// ---------------------------------------------------------------- the proposal page

/// What the proposal page shows.
pub struct ProposalPage {
    pub view: ProposalView,
    /// The changes between versions `from` and `to` (none when they are the same).
    pub changes: Vec<proposal::FieldChange>,
    pub from: i64,
    pub to: i64,
    /// The viewer may suggest amendments (residents of the community and its staff).
    pub can_amend: bool,
    /// The viewer may answer amendments (the author, the community's planner).
    pub can_answer: bool,
}

/// A proposal of the community with the diff between versions `from` (default: the one before
/// `to`) and `to` (default: the current one), and what the viewer may do.
pub async fn proposal_page(
    s: &AppState,
    p: Option<&Principal>,
    city: CityCode,
    community: &str,
    id: i64,
    from: Option<i64>,
    to: Option<i64>,
) -> AppResult<ProposalPage> {
    let view = proposal_view(s, city, id).await?;
    if view.proposal.community != community {
        return Err(AppError::not_found(format!("proposal {id} in community {community}")));
    }
    let to = to.unwrap_or(view.proposal.version);
    let from = from.unwrap_or((to - 1).max(1));
    let changes = if from != to {
        s.store.proposal_diff(city, id, from, to).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let can_amend = p.is_some_and(|p| may_take_part(p, community));
    let can_answer = p.is_some_and(|p| may_edit_proposal(p, view.proposal.author, community));
    Ok(ProposalPage {
        view,
        changes,
        from,
        to,
        can_amend,
        can_answer,
    })
}
