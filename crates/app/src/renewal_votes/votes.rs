//! Participatory-budget votes (参与式预算投票): setting one up over the proposals the council
//! sent to the vote, residents' online ballots, paper ballots entered twice by two staff
//! members, receipts, closing and counting; the votes hub and the vote page.

use gongzhi_core::access::Principal;
use gongzhi_core::decision::ballot::{Ballot, BallotRule};
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::ids::PersonId;
use gongzhi_core::renewal::proposal::ProposalStatus;
use gongzhi_core::renewal::vote::{AreaShare, Count, VoteProject, VoteSetup};
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::proposals::ProposalRow;
use gongzhi_store::renewal::votes::{FundedProposal, PendingPaper, ReceiptView, Turnout, VoteRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{check_community, is_staff, may_take_part, need_staff, now};
use crate::people::is_resident_of;
use crate::{AppError, AppResult, AppState};

/// The vote, or not found.
pub async fn vote_row(s: &AppState, city: CityCode, id: i64) -> AppResult<VoteRow> {
    s.store
        .vote(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("vote {id}")))
}

/// The vote of the community, or not found.
pub async fn vote_in(s: &AppState, city: CityCode, community: &str, id: i64) -> AppResult<VoteRow> {
    s.store
        .vote(city, id)
        .await?
        .filter(|v| v.community == community)
        .ok_or_else(|| AppError::not_found(format!("vote {id} in community {community}")))
}

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

/// A vote with its phase and turnout, and for a logged-in person whether they may vote and
/// whether they already did (never what).
pub async fn vote_view(s: &AppState, city: CityCode, v: VoteRow, p: Option<&Principal>) -> AppResult<VoteView> {
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

/// The votes of a community, newest first (public).
pub async fn list_votes(
    s: &AppState,
    p: Option<&Principal>,
    city: CityCode,
    community: &str,
) -> AppResult<Vec<VoteView>> {
    let mut out = Vec::new();
    for v in s.store.votes(city, community).await? {
        out.push(vote_view(s, city, v, p).await?);
    }
    Ok(out)
}

/// A vote: its setup, phase and turnout (public).
pub async fn get_vote(s: &AppState, p: Option<&Principal>, city: CityCode, id: i64) -> AppResult<VoteView> {
    let v = vote_row(s, city, id).await?;
    vote_view(s, city, v, p).await
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

/// Checks and stores a vote's setup (staff of the community); the API and the votes hub page.
pub async fn setup_vote(s: &AppState, p: &Principal, r: VoteInput) -> AppResult<i64> {
    check_community(&r.community)?;
    need_staff(p, &r.community)?;
    let city = p.city;
    let counting: Rule = r.counting.parse()?;
    let mut projects = Vec::new();
    for b in &r.proposals {
        let row = s
            .store
            .proposal(city, b.proposal)
            .await?
            .ok_or_else(|| AppError::invalid(format!("proposals: proposal {} does not exist", b.proposal)))?;
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
    Ok(s.store.create_vote(city, &setup, p.person_id).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct BallotInput {
    /// {"kind":"projects","projects":["12","13"]} or {"kind":"points","points":[["12",3]]}
    #[schema(value_type = Object)]
    pub ballot: Ballot,
}

/// A verified resident casts their ballot; the receipt, never stored with the voter.
pub async fn cast_ballot(s: &AppState, p: &Principal, id: i64, ballot: &Ballot) -> AppResult<String> {
    Ok(s.store.cast_ballot(p.city, id, p.person_id, ballot).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct PaperInput {
    /// The resident who handed in the paper ballot (checked and marked as having voted).
    pub voter: i64,
    #[schema(value_type = Object)]
    pub ballot: Ballot,
}

/// A staff member's first entry of a paper ballot (the API and the vote page); the receipt.
pub async fn enter_paper_ballot(
    s: &AppState,
    p: &Principal,
    id: i64,
    voter: i64,
    ballot: &Ballot,
) -> AppResult<String> {
    let city = p.city;
    let v = vote_row(s, city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store
        .enter_paper_ballot(city, id, PersonId(voter), ballot, p.person_id)
        .await?)
}

/// Another staff member's second entry of a paper ballot (the API and the vote page).
pub async fn confirm_paper_ballot(
    s: &AppState,
    p: &Principal,
    id: i64,
    receipt: &str,
    ballot: &Ballot,
) -> AppResult<()> {
    let city = p.city;
    let v = vote_row(s, city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store
        .confirm_paper_ballot(city, id, receipt, ballot, p.person_id)
        .await?)
}

/// Paper ballots awaiting their second entry (staff of the vote's community).
pub async fn pending_paper(s: &AppState, p: &Principal, id: i64) -> AppResult<Vec<PendingPaper>> {
    let city = p.city;
    let v = vote_row(s, city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store.pending_paper(city, id).await?)
}

/// Close and count a vote (staff; the API and the vote page).
pub async fn close_vote(s: &AppState, p: &Principal, id: i64) -> AppResult<Count> {
    let city = p.city;
    let v = vote_row(s, city, id).await?;
    need_staff(p, &v.community)?;
    Ok(s.store.close_vote(city, id, p.person_id).await?)
}

/// What a receipt shows: the ballot under it and whether it is counted (no voter is ever
/// shown); public.
pub async fn check_receipt(s: &AppState, city: CityCode, id: i64, code: &str) -> AppResult<ReceiptView> {
    s.store
        .receipt(city, id, code)
        .await?
        .ok_or_else(|| AppError::not_found(format!("receipt {code} in vote {id}")))
}

#[derive(Deserialize, IntoParams)]
pub struct RuleQuery {
    /// Count under another rule than the vote's (greedy, mes, mes-add1, phragmen).
    pub rule: Option<String>,
}

/// The proposals a closed vote funded (for delivery); public.
pub async fn funded(s: &AppState, city: CityCode, id: i64) -> AppResult<Vec<FundedProposal>> {
    vote_row(s, city, id).await?;
    Ok(s.store.funded_proposals(city, id).await?)
}

// ---------------------------------------------------------------- the pages

/// What the hub of a community's proposals and votes shows.
pub struct Hub {
    pub proposals: Vec<ProposalRow>,
    pub votes: Vec<VoteView>,
    /// The viewer writes proposals (residents of the community and its staff).
    pub can_write: bool,
    /// Staff of the community: the vote set-up form.
    pub staff: bool,
    /// The proposals the council sent to the vote, for the set-up form.
    pub to_vote: Vec<ProposalRow>,
    /// The community's grids (code, name), for staff: sub-areas of projects and their minimum
    /// shares.
    pub grids: Vec<(String, String)>,
}

/// A community's proposals and votes, and what the viewer may do there.
pub async fn hub(s: &AppState, p: Option<&Principal>, city: CityCode, community: &str) -> AppResult<Hub> {
    let proposals = s.store.proposals(city, community).await?;
    let votes = list_votes(s, p, city, community).await?;
    let can_write = p.is_some_and(|p| may_take_part(p, community));
    let staff = p.is_some_and(|p| is_staff(p, community));
    let grids = if staff {
        s.store
            .grids(city, Some(community), 1, 1000)
            .await?
            .grids
            .into_iter()
            .filter(|g| g.community.as_str() == community)
            .map(|g| (g.code.to_string(), g.name))
            .collect()
    } else {
        Vec::new()
    };
    let to_vote = proposals
        .iter()
        .filter(|x| x.status == ProposalStatus::ToVote)
        .cloned()
        .collect();
    Ok(Hub {
        proposals,
        votes,
        can_write,
        staff,
        to_vote,
        grids,
    })
}

/// A paper ballot awaiting its second entry, as the vote page lists it (never its voter).
pub struct PendingLine {
    pub receipt: String,
    pub entered_by: String,
    /// Entered by the one viewing: another staff member must confirm it.
    pub mine: bool,
}

/// What the vote page shows.
pub struct VotePage {
    pub vote: VoteView,
    /// The ballot spreads points (cumulative) rather than choosing projects.
    pub points: bool,
    /// The viewer may vote now: an eligible resident who has not voted, while the vote is open.
    pub can_vote: bool,
    /// The receipt asked about, if it exists.
    pub receipt: Option<ReceiptView>,
    /// Staff of the community: paper ballots and closing.
    pub staff: bool,
    /// Residents who may still hand in a paper ballot (id, name), while the vote is open.
    pub voters: Vec<(i64, String)>,
    /// Paper ballots entered once, awaiting another staff member's entry.
    pub pending: Vec<PendingLine>,
    pub can_close: bool,
}

/// A vote of the community with the receipt asked about, and for its staff the paper ballots.
pub async fn vote_page(
    s: &AppState,
    p: Option<&Principal>,
    city: CityCode,
    community: &str,
    id: i64,
    receipt: Option<&str>,
) -> AppResult<VotePage> {
    let row = vote_in(s, city, community, id).await?;
    let points = matches!(row.setup.ballot, BallotRule::Cumulative { .. });
    let v = vote_view(s, city, row, p).await?;
    let can_vote = v.phase == "open" && v.eligible == Some(true) && v.has_voted == Some(false);
    let receipt = match receipt.filter(|r| !r.trim().is_empty()) {
        Some(code) => s.store.receipt(city, id, code).await?,
        None => None,
    };
    let staff = p.is_some_and(|p| is_staff(p, community));
    let (mut voters, mut pending) = (Vec::new(), Vec::new());
    if let Some(me) = p.filter(|_| staff) {
        if v.phase == "open" {
            voters = s.store.not_voted(city, id).await?;
        }
        for x in s.store.pending_paper(city, id).await? {
            let entered_by = match s.store.person(city, PersonId(x.entered_by)).await? {
                Some(person) => person.name,
                None => x.entered_by.to_string(),
            };
            pending.push(PendingLine {
                mine: me.person_id == x.entered_by,
                receipt: x.receipt,
                entered_by,
            });
        }
    }
    let can_close = staff && !v.finalised && v.phase != "upcoming";
    Ok(VotePage {
        vote: v,
        points,
        can_vote,
        receipt,
        staff,
        voters,
        pending,
        can_close,
    })
}
