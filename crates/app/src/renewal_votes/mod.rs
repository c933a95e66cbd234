//! Micro-renewal proposals, council and participatory-budget votes (社区微更新: 方案、议事会、
//! 参与式预算): the commands and queries of the JSON API, the pages and the CLI, and the one
//! policy deciding who may do what.
//!
//! Who may do what: proposals and votes are public to read; residents of the community
//! (a Resident grant covering it) write proposals, suggest amendments, comment and vote; staff
//! with `RunRenewal` on the community (community planners, administrators) write and revise
//! proposals, keep the council, set up and close votes and enter paper ballots. Council
//! meetings and minutes are shown to the community's residents and staff.
//!
//! Secrecy: no answer here carries a voter with a ballot. Ballots are shown only under their
//! receipt (the receipt check, the `.pb` export, whose voter ids are receipts).
//!
//! - [`proposals`]: proposals, versions, amendments, comments, design attachments;
//! - [`council`]: members, meetings, attendance, positions, decisions;
//! - [`votes`]: setting up a vote, ballots (online, paper, imported), receipts, closing;
//! - [`results`]: the count of a closed vote, its `.pb` export and import, CSV and XLSX.

use gongzhi_core::access::{Permission, Principal};

use crate::people::is_resident_of;
use crate::{AppError, AppResult};

pub mod council;
pub mod proposals;
pub mod results;
pub mod votes;

pub use council::*;
pub use proposals::*;
pub use results::*;
pub use votes::*;

pub use gongzhi_store::renewal::council::{CouncilMember, Meeting};
pub use gongzhi_store::renewal::proposals::{AmendmentRow, CommentRow, ProposalRow, VersionRow};
pub use gongzhi_store::renewal::votes::{FundedProposal, PendingPaper, ReceiptView, Turnout, VoteRow};

/// Now, in Unix milliseconds (a vote's phase, the forms' default times).
pub fn now() -> i64 {
    gongzhi_store::now_ms()
}

// ---------------------------------------------------------------- policy

/// Whether the principal runs micro-renewal in the community (planner, administrator).
pub fn is_staff(p: &Principal, community: &str) -> bool {
    p.may(Permission::RunRenewal, community)
}

/// Whether the principal takes part in the community's micro-renewal (proposes, discusses,
/// amends, sees drafts): its verified residents and its staff.
pub fn may_take_part(p: &Principal, community: &str) -> bool {
    is_staff(p, community) || is_resident_of(p, community)
}

/// Whether the principal may edit a proposal: its author, or staff of its community.
pub fn may_edit_proposal(p: &Principal, author: i64, community: &str) -> bool {
    p.person_id == author || is_staff(p, community)
}

pub fn need_staff(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "this needs a community planner or administrator of community {community}"
        )))
    }
}

pub fn need_resident_or_staff(p: &Principal, community: &str, what: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "{what} is for verified residents of community {community} and its staff"
        )))
    }
}

/// The pages' proposal form: the community's residents and planners write proposals.
pub fn need_proposal_writer(p: &Principal, community: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "proposals are written by the community's residents and planners",
        ))
    }
}

/// The pages' amendment form: the community's residents (and staff) suggest amendments.
pub fn need_amender(p: &Principal, community: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "amendments are suggested by the community's residents",
        ))
    }
}

/// The council page: its residents and staff read the council's minutes.
pub fn need_council_reader(p: &Principal, community: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "the council's minutes are for residents of community {community} and its staff"
        )))
    }
}

/// The council page's forms: the community's staff keep the council.
pub fn need_council_keeper(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the council is kept by the community's planner or administrator",
        ))
    }
}

/// The votes hub's set-up form: the community's staff set up votes.
pub fn need_vote_organiser(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "votes are set up by the community's planner or administrator",
        ))
    }
}

/// The vote page's staff forms: paper ballots and closing the vote.
pub fn need_ballot_staff(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "paper ballots and closing a vote are for the planner or administrator of community {community}"
        )))
    }
}

pub fn check_community(c: &str) -> AppResult<()> {
    let d =
        gongzhi_core::territory::DivisionCode::parse(c).map_err(|e| AppError::invalid(format!("community: {e}")))?;
    if d.level() != gongzhi_core::territory::Level::Community {
        return Err(AppError::invalid(format!(
            "community: {c} is not a community (社区) code; give the 12-digit code of a community"
        )));
    }
    Ok(())
}
