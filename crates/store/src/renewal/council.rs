//! The deliberation council (议事会): members per community, meetings with agenda, attendance,
//! minutes, positions and decisions. A decision needs the meeting's attendance quorum and sets
//! the proposal's status. Streams `renewal-council:COMMUNITY` and `renewal-meeting:ID`.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use gongzhi_core::renewal::council::{
    self, quorum_standing, Decision, MeetingAction, MeetingState, MemberKind, Quorum, QuorumStanding, Stance,
};
use gongzhi_core::DomainError;
use serde::Serialize;

use super::proposals::set_status;
use super::{from_json, refused, to_json};
use crate::{events, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CouncilMember {
    pub id: i64,
    pub community: String,
    pub person: Option<i64>,
    pub name: String,
    pub kind: MemberKind,
}

#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub community: String,
    pub title: String,
    pub held_at: i64,
    pub quorum: Quorum,
    pub agenda: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionRow {
    pub member: i64,
    pub proposal: i64,
    pub stance: Stance,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRow {
    pub proposal: i64,
    pub decision: Decision,
    pub reason: String,
}

/// A meeting with everything recorded at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub community: String,
    pub title: String,
    pub held_at: i64,
    pub quorum: Quorum,
    pub agenda: Vec<i64>,
    pub attendance: Vec<i64>,
    pub minutes: String,
    pub positions: Vec<PositionRow>,
    pub decisions: Vec<DecisionRow>,
    pub standing: QuorumStanding,
}

impl Meeting {
    /// Where the meeting stands in its lifecycle (the quorum).
    pub fn state(&self) -> MeetingState {
        MeetingState::of(&self.standing)
    }

    /// Refused (409) when the meeting's lifecycle does not allow `action` now.
    fn check(&self, action: MeetingAction) -> Result<(), StoreError> {
        council::decide(self.state(), action)
            .map(|_| ())
            .map_err(|r| refused(format_args!("meeting {}", self.id), r))
    }
}

fn stream(id: i64) -> String {
    format!("renewal-meeting:{id}")
}

type MRow = (i64, String, String, i64, i64, i64, String, String, String);

/// Council meetings and their positions.
pub trait CouncilStore {
    fn add_council_member(
        &self,
        city: CityCode,
        community: &str,
        person: Option<i64>,
        name: &str,
        kind: MemberKind,
        actor: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn council_members(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<Vec<CouncilMember>, StoreError>> + Send;
    /// Call a meeting with an agenda of the community's proposals.
    fn create_meeting(
        &self,
        city: CityCode,
        m: &NewMeeting,
        actor: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn meeting(&self, city: CityCode, id: i64) -> impl Future<Output = Result<Option<Meeting>, StoreError>> + Send;
    fn meetings(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<Vec<Meeting>, StoreError>> + Send;
    /// Record who attended (council member ids) and, if given, the minutes.
    fn record_meeting(
        &self,
        city: CityCode,
        id: i64,
        attendance: Option<&[i64]>,
        minutes: Option<&str>,
        actor: PersonId,
    ) -> impl Future<Output = Result<Meeting, StoreError>> + Send;
    /// A present member's position on a proposal of the agenda.
    fn record_position(
        &self,
        city: CityCode,
        meeting: i64,
        p: &PositionRow,
        actor: PersonId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The council's decision on a proposal of the agenda; refused (409) below the quorum.
    fn decide_proposal(
        &self,
        city: CityCode,
        meeting: i64,
        d: &DecisionRow,
        actor: PersonId,
    ) -> impl Future<Output = Result<QuorumStanding, StoreError>> + Send;
}

impl CouncilStore for Store {
    async fn add_council_member(
        &self,
        city: CityCode,
        community: &str,
        person: Option<i64>,
        name: &str,
        kind: MemberKind,
        actor: PersonId,
    ) -> Result<i64, StoreError> {
        if name.trim().is_empty() {
            return Err(DomainError::invalid("name", "give the member's name").into());
        }
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_council_members (city, community, person, name, kind) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(city.as_str())
        .bind(community)
        .bind(person)
        .bind(name.trim())
        .bind(kind.as_str())
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &format!("renewal-council:{community}"),
            "council_member_added",
            Some(actor),
            None,
            None,
            &serde_json::json!({ "member": id, "person": person, "name": name.trim(), "kind": kind.as_str() }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn council_members(&self, city: CityCode, community: &str) -> Result<Vec<CouncilMember>, StoreError> {
        let rows: Vec<(i64, String, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT id, community, person, name, kind FROM renewal_council_members WHERE city = $1 AND community = $2 ORDER BY id",
        )
        .bind(city.as_str())
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(CouncilMember {
                    id: r.0,
                    community: r.1,
                    person: r.2,
                    name: r.3,
                    kind: r.4.parse()?,
                })
            })
            .collect()
    }

    async fn create_meeting(&self, city: CityCode, m: &NewMeeting, actor: PersonId) -> Result<i64, StoreError> {
        m.quorum.check()?;
        if m.title.trim().is_empty() {
            return Err(DomainError::invalid("title", "give the meeting a title").into());
        }
        if m.agenda.is_empty() {
            return Err(DomainError::invalid("agenda", "put at least one proposal on the agenda").into());
        }
        for p in &m.agenda {
            match self.proposal(city, *p).await? {
                Some(x) if x.community == m.community => {}
                _ => {
                    return Err(DomainError::invalid(
                        "agenda",
                        format!("proposal {p} is not a proposal of community {}", m.community),
                    )
                    .into())
                }
            }
        }
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_meetings (city, community, title, held_at, quorum_num, quorum_den, agenda, attendance, minutes, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', '', $8) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&m.community)
        .bind(m.title.trim())
        .bind(m.held_at)
        .bind(m.quorum.num as i64)
        .bind(m.quorum.den as i64)
        .bind(to_json(&m.agenda)?)
        .bind(actor.0)
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &stream(id),
            "meeting_called",
            Some(actor),
            None,
            None,
            &serde_json::json!({ "community": m.community, "title": m.title.trim(), "held_at": m.held_at, "quorum": m.quorum, "agenda": m.agenda }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn meeting(&self, city: CityCode, id: i64) -> Result<Option<Meeting>, StoreError> {
        let r: Option<MRow> = sqlx::query_as(
            "SELECT id, community, title, held_at, quorum_num, quorum_den, agenda, attendance, minutes FROM renewal_meetings WHERE city = $1 AND id = $2",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let positions: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT member, proposal, stance, reason FROM renewal_positions WHERE city = $1 AND meeting = $2 ORDER BY proposal, member",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let decisions: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT proposal, decision, reason FROM renewal_decisions WHERE city = $1 AND meeting = $2 ORDER BY proposal",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let quorum = Quorum {
            num: r.4 as u32,
            den: r.5 as u32,
        };
        let attendance: Vec<i64> = from_json(&r.7, "a meeting's attendance")?;
        let members = self.council_members(city, &r.1).await?.len() as u32;
        Ok(Some(Meeting {
            id: r.0,
            community: r.1,
            title: r.2,
            held_at: r.3,
            quorum,
            agenda: from_json(&r.6, "a meeting's agenda")?,
            standing: quorum_standing(quorum, attendance.len() as u32, members),
            attendance,
            minutes: r.8,
            positions: positions
                .into_iter()
                .map(|p| {
                    Ok(PositionRow {
                        member: p.0,
                        proposal: p.1,
                        stance: p.2.parse()?,
                        reason: p.3,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            decisions: decisions
                .into_iter()
                .map(|d| {
                    Ok(DecisionRow {
                        proposal: d.0,
                        decision: d.1.parse()?,
                        reason: d.2,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        }))
    }

    async fn meetings(&self, city: CityCode, community: &str) -> Result<Vec<Meeting>, StoreError> {
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM renewal_meetings WHERE city = $1 AND community = $2 ORDER BY held_at DESC, id DESC",
        )
        .bind(city.as_str())
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for (id,) in ids {
            out.extend(self.meeting(city, id).await?);
        }
        Ok(out)
    }

    async fn record_meeting(
        &self,
        city: CityCode,
        id: i64,
        attendance: Option<&[i64]>,
        minutes: Option<&str>,
        actor: PersonId,
    ) -> Result<Meeting, StoreError> {
        let m = self
            .meeting(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("meeting {id}")))?;
        if attendance.is_some() {
            m.check(MeetingAction::RecordAttendance)?;
        }
        if minutes.is_some() {
            m.check(MeetingAction::RecordMinutes)?;
        }
        let mut tx = self.write().await?;
        if let Some(att) = attendance {
            let members = self.council_members(city, &m.community).await?;
            for a in att {
                if !members.iter().any(|x| x.id == *a) {
                    return Err(DomainError::invalid(
                        "attendance",
                        format!("{a} is not a member of the council of {}", m.community),
                    )
                    .into());
                }
            }
            let mut att = att.to_vec();
            att.sort_unstable();
            att.dedup();
            sqlx::query("UPDATE renewal_meetings SET attendance = $1 WHERE city = $2 AND id = $3")
                .bind(to_json(&att)?)
                .bind(city.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            events::append(
                &mut tx,
                city,
                &stream(id),
                "attendance_recorded",
                Some(actor),
                None,
                None,
                &serde_json::json!({ "attendance": att }),
            )
            .await?;
        }
        if let Some(text) = minutes {
            sqlx::query("UPDATE renewal_meetings SET minutes = $1 WHERE city = $2 AND id = $3")
                .bind(text)
                .bind(city.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            events::append(
                &mut tx,
                city,
                &stream(id),
                "minutes_recorded",
                Some(actor),
                None,
                None,
                &serde_json::json!({ "minutes": text }),
            )
            .await?;
        }
        tx.commit().await?;
        self.meeting(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("meeting {id}")))
    }

    async fn record_position(
        &self,
        city: CityCode,
        meeting: i64,
        p: &PositionRow,
        actor: PersonId,
    ) -> Result<(), StoreError> {
        let m = self
            .meeting(city, meeting)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("meeting {meeting}")))?;
        if !m.agenda.contains(&p.proposal) {
            return Err(DomainError::invalid(
                "proposal",
                format!("proposal {} is not on this meeting's agenda", p.proposal),
            )
            .into());
        }
        if !m.attendance.contains(&p.member) {
            return Err(DomainError::invalid(
                "member",
                format!(
                    "member {} is not recorded as present; record the attendance first",
                    p.member
                ),
            )
            .into());
        }
        m.check(MeetingAction::RecordPosition)?;
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM renewal_positions WHERE city = $1 AND meeting = $2 AND member = $3 AND proposal = $4")
            .bind(city.as_str())
            .bind(meeting)
            .bind(p.member)
            .bind(p.proposal)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO renewal_positions (city, meeting, member, proposal, stance, reason) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(city.as_str())
            .bind(meeting)
            .bind(p.member)
            .bind(p.proposal)
            .bind(p.stance.as_str())
            .bind(p.reason.trim())
            .execute(&mut *tx)
            .await?;
        events::append(
            &mut tx,
            city,
            &stream(meeting),
            "position_recorded",
            Some(actor),
            None,
            None,
            &serde_json::to_value(p).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn decide_proposal(
        &self,
        city: CityCode,
        meeting: i64,
        d: &DecisionRow,
        actor: PersonId,
    ) -> Result<QuorumStanding, StoreError> {
        let m = self
            .meeting(city, meeting)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("meeting {meeting}")))?;
        if !m.agenda.contains(&d.proposal) {
            return Err(DomainError::invalid(
                "proposal",
                format!("proposal {} is not on this meeting's agenda", d.proposal),
            )
            .into());
        }
        council::decide(m.state(), MeetingAction::Decide).map_err(|r| refused(&m.standing.explanation.en, r))?;
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM renewal_decisions WHERE city = $1 AND meeting = $2 AND proposal = $3")
            .bind(city.as_str())
            .bind(meeting)
            .bind(d.proposal)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO renewal_decisions (city, meeting, proposal, decision, reason) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(city.as_str())
        .bind(meeting)
        .bind(d.proposal)
        .bind(d.decision.as_str())
        .bind(d.reason.trim())
        .execute(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &stream(meeting),
            "proposal_decided",
            Some(actor),
            None,
            Some(d.reason.trim()),
            &serde_json::to_value(d).unwrap_or_default(),
        )
        .await?;
        set_status(
            &mut tx,
            city,
            d.proposal,
            d.decision.action(),
            Some(actor),
            Some(d.reason.trim()),
        )
        .await?;
        tx.commit().await?;
        Ok(m.standing)
    }
}
