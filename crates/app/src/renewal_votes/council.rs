//! The community's council (议事会): its members, meetings with an agenda of proposals,
//! attendance and the quorum, members' positions, the council's decisions and the minutes.
//! Residents of the community and its staff read it; staff keep it.

use gongzhi_core::access::Principal;
use gongzhi_core::ids::PersonId;
use gongzhi_core::renewal::council::{Decision, MemberKind, Quorum, Stance};
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::council::{CouncilMember, DecisionRow, Meeting, NewMeeting, PositionRow};
use gongzhi_store::renewal::proposals::ProposalRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check_community, is_staff, need_council_reader, need_resident_or_staff, need_staff, now};
use crate::{AppError, AppResult, AppState};

#[derive(Serialize, ToSchema)]
pub struct CouncilView {
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<CouncilMember>,
    #[schema(value_type = Vec<Object>)]
    pub meetings: Vec<Meeting>,
}

/// The council of a community: members and meetings with minutes (residents and staff).
pub async fn council_of(s: &AppState, p: &Principal, community: &str) -> AppResult<CouncilView> {
    need_resident_or_staff(p, community, "the council's minutes")?;
    let city = p.city;
    Ok(CouncilView {
        members: s.store.council_members(city, community).await?,
        meetings: s.store.meetings(city, community).await?,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct MemberInput {
    #[serde(default)]
    pub person: Option<i64>,
    pub name: String,
    /// resident_representative, planner, property_manager, community_committee, department_liaison.
    pub kind: String,
}

/// Add a council member (staff); its id.
pub async fn add_member(s: &AppState, p: &Principal, community: &str, r: &MemberInput) -> AppResult<i64> {
    check_community(community)?;
    need_staff(p, community)?;
    let kind: MemberKind = r.kind.parse()?;
    let city = p.city;
    if let Some(person) = r.person {
        if s.store.person(city, PersonId(person)).await?.is_none() {
            return Err(AppError::invalid(format!("person: {person} is not in the register")));
        }
    }
    Ok(s.store
        .add_council_member(city, community, r.person, &r.name, kind, p.person_id)
        .await?)
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

/// Call a council meeting with an agenda of proposals (staff); its id.
pub async fn create_meeting(s: &AppState, p: &Principal, r: MeetingInput) -> AppResult<i64> {
    check_community(&r.community)?;
    need_staff(p, &r.community)?;
    let m = NewMeeting {
        community: r.community,
        title: r.title,
        held_at: r.held_at.unwrap_or_else(now),
        quorum: r.quorum.unwrap_or_default(),
        agenda: r.agenda,
    };
    Ok(s.store.create_meeting(p.city, &m, p.person_id).await?)
}

/// The meeting, if the principal may read it (`staff`: keep it).
async fn meeting_for(s: &AppState, p: &Principal, id: i64, staff: bool) -> AppResult<Meeting> {
    let m = s
        .store
        .meeting(p.city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("meeting {id}")))?;
    if staff {
        need_staff(p, &m.community)?;
    } else {
        need_resident_or_staff(p, &m.community, "the council's minutes")?;
    }
    Ok(m)
}

/// A meeting: agenda, attendance, quorum standing, positions, decisions, minutes (residents of
/// its community and its staff).
pub async fn meeting(s: &AppState, p: &Principal, id: i64) -> AppResult<Meeting> {
    meeting_for(s, p, id, false).await
}

#[derive(Deserialize, ToSchema)]
pub struct RecordInput {
    /// Council member ids present.
    #[serde(default)]
    pub attendance: Option<Vec<i64>>,
    #[serde(default)]
    pub minutes: Option<String>,
}

/// Record attendance and/or minutes (staff of the meeting's community); the meeting.
pub async fn record_meeting(s: &AppState, p: &Principal, id: i64, r: &RecordInput) -> AppResult<Meeting> {
    meeting_for(s, p, id, true).await?;
    Ok(s.store
        .record_meeting(p.city, id, r.attendance.as_deref(), r.minutes.as_deref(), p.person_id)
        .await?)
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

/// Record a present member's position on a proposal (staff of the meeting's community); the
/// meeting.
pub async fn add_position(s: &AppState, p: &Principal, id: i64, r: PositionInput) -> AppResult<Meeting> {
    meeting_for(s, p, id, true).await?;
    let stance: Stance = r.stance.parse()?;
    let city = p.city;
    s.store
        .record_position(
            city,
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
    meeting_for(s, p, id, true).await
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionInput {
    pub proposal: i64,
    /// to_vote, revise or rejected.
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// The council's decision on a proposal (staff of the meeting's community); refused (conflict)
/// when attendance is below the quorum. The meeting.
pub async fn decide(s: &AppState, p: &Principal, id: i64, r: DecisionInput) -> AppResult<Meeting> {
    meeting_for(s, p, id, true).await?;
    let decision: Decision = r.decision.parse()?;
    s.store
        .decide_proposal(
            p.city,
            id,
            &DecisionRow {
                proposal: r.proposal,
                decision,
                reason: r.reason,
            },
            p.person_id,
        )
        .await?;
    meeting_for(s, p, id, true).await
}

// ---------------------------------------------------------------- the council page

/// What the council page shows.
pub struct CouncilPage {
    pub members: Vec<CouncilMember>,
    pub meetings: Vec<Meeting>,
    /// The community's proposals (the agendas' titles).
    pub proposals: Vec<ProposalRow>,
    /// The viewer keeps the council (staff of the community): the forms.
    pub staff: bool,
}

/// The council page of a community: residents of the community read it, its staff keep it.
pub async fn council_page(s: &AppState, p: &Principal, community: &str) -> AppResult<CouncilPage> {
    need_council_reader(p, community)?;
    let city = p.city;
    Ok(CouncilPage {
        members: s.store.council_members(city, community).await?,
        meetings: s.store.meetings(city, community).await?,
        proposals: s.store.proposals(city, community).await?,
        staff: is_staff(p, community),
    })
}
