//! Wicked-problem initiatives (前台/后台协同): the front stage (residents' autonomous committee) and
//! the back stage (town or street government), separated and coordinated.
//!
//! The seat a person holds in an initiative decides every answer about it: [`view`] builds it
//! from the viewer's [`Seat`]; the core decides what a seat sees (timeline, progress) and
//! back-stage content is `Internal`, which no view type can serialise. A step is checked by the
//! core against the stage the caller works on; a caller who is not a member of an initiative gets
//! its public view only, and "not found" for anything else.

use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use std::collections::BTreeSet;

use gongzhi_core::access::Principal;
use gongzhi_core::case::CaseState;
use gongzhi_core::decision::ballot::Choice;
use gongzhi_core::decision::tally::{CommitteeResult, MotionResult};
use gongzhi_core::import::ImportReport;
use gongzhi_core::premises::{self, UnitUse};
use gongzhi_core::table::Table;
use gongzhi_core::visibility::{Internal, Seat, Stage};
use gongzhi_core::wicked::{
    self, Hazard, Initiative, InitiativeEvent, Milestone, Party, PartyKind, Position, Progress, Side, Survey,
    TimelineEntry,
};
use gongzhi_store::prelude::*;
use gongzhi_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use gongzhi_store::InitiativeRow;

use crate::{AppError, AppResult, AppState, ErrorKind};

/// The seat of a (maybe anonymous) viewer in one initiative.
pub async fn seat_of(s: &AppState, p: Option<&Principal>, id: i64) -> AppResult<Seat> {
    let Some(p) = p else { return Ok(Seat::Public) };
    let seats = s.store.initiative_seats(p.city, p.person_id).await?;
    Ok(match seats.iter().find(|(i, _)| *i == id) {
        Some((_, Side::Front)) => Seat::Front(id),
        Some((_, Side::Back)) => Seat::Back(id),
        None => Seat::Public,
    })
}

fn side_of(seat: Seat) -> Option<Side> {
    match seat {
        Seat::Front(_) => Some(Side::Front),
        Seat::Back(_) => Some(Side::Back),
        Seat::Public => None,
    }
}

/// The city a (maybe anonymous) viewer reads: their own, else the city served to visitors.
fn city_of(s: &AppState, p: Option<&Principal>) -> CityCode {
    p.map_or(s.default_city, |p| p.city)
}

/// A party as the front and back stages see it.
#[derive(Serialize, ToSchema)]
pub struct PartyView {
    pub id: u32,
    pub name: String,
    pub kind: String,
    pub units: Vec<String>,
    pub position: Option<String>,
    pub contacts: u32,
}

/// An open or answered hand-off (joint).
#[derive(Serialize, ToSchema)]
pub struct HandoffView {
    pub id: u32,
    pub from: String,
    pub summary: String,
    pub opened_at: i64,
    pub limit_days: u32,
    pub answer: Option<String>,
}

/// An initiative as one seat sees it.
#[derive(Serialize, ToSchema)]
pub struct InitiativeView {
    pub id: i64,
    pub name: String,
    pub problem: String,
    pub community: String,
    pub scope: String,
    /// public, front or back.
    pub seat: String,
    /// The version to send with a step (members only: it counts every step, back-stage ones
    /// too, so the public does not see it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[schema(value_type = Object)]
    pub progress: Progress,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<TimelineEntry>,
    /// Front and back stages only.
    pub parties: Vec<PartyView>,
    pub handoffs: Vec<HandoffView>,
    #[schema(value_type = Vec<Object>)]
    pub surveys: Vec<Survey>,
    /// The survey's photos (front and back stages): unit code and photo id, served by
    /// `GET /api/initiatives/{id}/photos/{photo}`.
    pub survey_photos: Vec<(String, i64)>,
    /// Members of the stages this seat sees (the back stage's members only to the back stage).
    pub members: Vec<(String, String)>,
    /// The committee election's result (public), once held.
    #[schema(value_type = Object)]
    pub election: Option<CommitteeResult>,
    /// Plan votes and their results (front and back stages).
    #[schema(value_type = Vec<Object>)]
    pub votes: Vec<(String, MotionResult)>,
    /// After an import of units or parties: what it did, each row by its natural key (a unit's
    /// code; a party's "name (units)"): `added`, `updated` (one event each), `unchanged`
    /// (nothing written). A re-import of the same file adds nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ImportReportSchema>)]
    pub import: Option<ImportReport>,
}

/// What an import did, each row named by its natural key (the schema of
/// [`gongzhi_core::import::ImportReport`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportReportSchema {
    /// Rows whose key was new: stored.
    pub added: Vec<String>,
    /// Rows whose key was stored with other values: changed, one event each.
    pub updated: Vec<String>,
    /// Rows already stored as the file has them: nothing written.
    pub unchanged: Vec<String>,
}

/// Build the view of `i` for `seat`: the one place answers about an initiative are made.
pub async fn view(s: &AppState, city: CityCode, i: &Initiative, version: i64, seat: Seat) -> AppResult<InitiativeView> {
    let front = seat.sees(i.id, Stage::Front);
    let closed = if seat.back_stage(i.id).is_some() {
        let mut closed = BTreeSet::new();
        for (case, _, _) in &i.tasks {
            if let Some(row) = s.store.case(city, CaseId(*case)).await? {
                if row.case.state == CaseState::Closed {
                    closed.insert(*case);
                }
            }
        }
        closed
    } else {
        BTreeSet::new()
    };
    Ok(InitiativeView {
        id: i.id,
        name: i.name.clone(),
        problem: i.problem.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        community: i.community.clone(),
        scope: i.scope.clone(),
        seat: match seat {
            Seat::Public => "public",
            Seat::Front(_) => "front",
            Seat::Back(_) => "back",
        }
        .to_owned(),
        version: (!matches!(seat, Seat::Public)).then_some(version),
        progress: i.progress(seat, gongzhi_store::now_ms(), &closed),
        timeline: i.timeline(seat),
        parties: if front {
            i.parties
                .values()
                .map(|p| PartyView {
                    id: p.id,
                    name: p.name.clone(),
                    kind: p.kind.as_str().to_owned(),
                    units: p.units.clone(),
                    position: i.positions.get(&p.id).map(|x| x.as_str().to_owned()),
                    contacts: i.contacts.get(&p.id).copied().unwrap_or(0),
                })
                .collect()
        } else {
            Vec::new()
        },
        handoffs: if seat.sees(i.id, Stage::Joint) {
            i.handoffs
                .values()
                .map(|h| HandoffView {
                    id: h.id,
                    from: h.from.as_str().to_owned(),
                    summary: h.summary.clone(),
                    opened_at: h.opened_at,
                    limit_days: h.limit_days,
                    answer: h.answer.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        surveys: if front {
            i.surveys.values().cloned().collect()
        } else {
            Vec::new()
        },
        survey_photos: if front {
            let prefix = unit_photo_owner(i.id, "");
            s.store
                .attachments(city, &prefix)
                .await?
                .into_iter()
                .map(|a| (a.owner[prefix.len()..].to_owned(), a.id))
                .collect()
        } else {
            Vec::new()
        },
        members: i
            .members
            .values()
            .filter(|(_, side)| match side {
                Side::Front => front,
                Side::Back => seat.back_stage(i.id).is_some(),
            })
            .map(|(name, side)| (name.clone(), side.as_str().to_owned()))
            .collect(),
        election: i.election.clone(),
        votes: if front { i.votes.clone() } else { Vec::new() },
        import: None,
    })
}

/// The initiatives of the city: names, kinds and communities are public.
pub async fn list(s: &AppState, p: Option<&Principal>) -> AppResult<Vec<InitiativeRow>> {
    let city = city_of(s, p);
    Ok(s.store.initiatives(city).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct NewInitiative {
    pub name: String,
    /// quasi_residential, group_renting, illegal_structures, parking, property_dispute, other.
    pub problem: String,
    /// The community code (12 digits) the initiative works in.
    pub community: String,
    /// The area in words: an industrial park, a compound, some buildings.
    pub scope: String,
}

/// Open an initiative (staff who administer the community: the town or street government). The
/// opener works on its back stage.
pub async fn open(s: &AppState, p: &Principal, body: NewInitiative) -> AppResult<InitiativeView> {
    let city = p.city;
    crate::territory::require_manage(
        p,
        &body.community,
        "opening an initiative needs an administrator of its community (the town or street government)",
    )?;
    if body.name.trim().is_empty() {
        return Err(AppError::invalid("name: give the initiative a name"));
    }
    let community = s
        .store
        .division(city, &body.community)
        .await?
        .ok_or_else(|| AppError::invalid(format!("community: {} is not in the register", body.community)))?;
    let opened = InitiativeEvent::Opened {
        name: body.name.trim().to_owned(),
        problem: body.problem.parse()?,
        community: community.code.to_string(),
        scope: body.scope.trim().to_owned(),
    };
    let id = s
        .store
        .create_initiative(city, &opened, (p.person_id.0, &p.name))
        .await?;
    let (i, version) = s
        .store
        .initiative(city, id)
        .await?
        .ok_or_else(|| AppError::not_found("initiative"))?;
    view(s, city, &i, version, Seat::Back(id)).await
}

/// One initiative as the viewer's seat sees it (public, front or back); `public`: as the public
/// sees it, whatever the viewer's seat (the public progress page).
pub async fn view_of(s: &AppState, p: Option<&Principal>, id: i64, public: bool) -> AppResult<InitiativeView> {
    let city = city_of(s, p);
    let seat = if public { Seat::Public } else { seat_of(s, p, id).await? };
    let (i, version) = s
        .store
        .initiative(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("initiative {id}")))?;
    view(s, city, &i, version, seat).await
}

/// The joint timeline as CSV (UTF-8 with BOM: time, stage, kind, summary), as the viewer's seat
/// sees it: made from the same view as the JSON answer, so an export shows nothing the seat may
/// not read. Returns the initiative's id and the file.
pub async fn timeline_csv(s: &AppState, p: Option<&Principal>, id: i64) -> AppResult<(i64, Vec<u8>)> {
    let v = view_of(s, p, id, false).await?;
    let mut w = gongzhi_core::table::CsvWriter::from_writer(b"\xEF\xBB\xBF".to_vec());
    let io = |e: csv::Error| AppError::new(ErrorKind::Internal, "internal", format!("timeline export: {e}"));
    w.write_record(["at", "stage", "kind", "summary"]).map_err(io)?;
    for e in &v.timeline {
        let at = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|t| t.with_timezone(&gongzhi_core::calendar::china_time()).to_rfc3339())
            .unwrap_or_default();
        w.write_record([at.as_str(), e.stage.as_str(), &e.kind, &e.summary])
            .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::new(ErrorKind::Internal, "internal", format!("timeline export: {e}")))?;
    Ok((v.id, bytes))
}

/// A step on an initiative. Internal texts (`payload`, `rationale`, `text` of a note, `detail`)
/// are stored as back-stage content.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Back: add a member to a stage (a person works on one stage only).
    AddMember { person: i64, side: String },
    /// Front or back: a party with the units it holds.
    AddParty {
        name: String,
        kind: String,
        units: Vec<String>,
    },
    /// Front: a contact with a party and the position they took.
    Contact {
        party: u32,
        position: String,
        concerns: String,
    },
    /// Front: what the survey found in a unit.
    Survey {
        unit: String,
        actual_use: String,
        occupants: u32,
        owner: String,
        hazards: Vec<String>,
        note: String,
    },
    /// Either stage: a public notice to residents.
    Notice { text: String },
    /// Either stage: ask the other stage.
    OpenHandoff { summary: String, limit_days: u32 },
    /// Back: internal work on a hand-off.
    WorkHandoff { id: u32, payload: String },
    /// The other stage: the answer (joint) and, from the back, an internal rationale.
    AnswerHandoff {
        id: u32,
        answer: String,
        rationale: Option<String>,
    },
    /// Either stage: a shared milestone reached.
    Milestone { milestone: String },
    /// Back: an internal note, risk assessment or decision record.
    Note { text: String },
    /// Back: a phase of the plan with internal detail.
    PlanPhase { title: String, detail: String },
    /// Back: a department's task, dispatched through the closed loop as a new internal case
    /// (source `initiative`: staff work it like any case; Open311 and residents never see it).
    /// `instructions` become the case's description; the place defaults to the initiative's
    /// community; `due` is the deadline (Unix ms).
    Task {
        department: String,
        /// The filing condition (立案条件) of the catalogue, e.g. C0105-02.
        condition: String,
        instructions: String,
        #[serde(default)]
        lng: Option<f64>,
        #[serde(default)]
        lat: Option<f64>,
        due: i64,
    },
    /// Back: the committee election's paper ballots (approval for `seats` seats, person ids); the
    /// elected join the front stage.
    ElectCommittee {
        seats: usize,
        candidates: Vec<i64>,
        ballots: Vec<Vec<i64>>,
    },
    /// Front: a consultation vote on a plan, one choice (yes / no / abstain) per party.
    VotePlan { title: String, votes: Vec<(u32, String)> },
    /// Back: publish a statement as joint or public (an explicit, recorded step); from a note or not.
    Publish {
        from_note: Option<u32>,
        stage: String,
        text: String,
    },
}

#[derive(Deserialize, ToSchema)]
pub struct StepRequest {
    /// The version of the initiative the caller saw.
    pub version: i64,
    #[serde(flatten)]
    pub step: Step,
}

/// A member of an initiative about to act: the initiative at its version, the seat they see it
/// from and the side they work on.
pub struct Member {
    city: CityCode,
    person: i64,
    /// The account named on the command line (refusals name it); none for the API and pages.
    account: Option<String>,
    initiative: Initiative,
    version: i64,
    seat: Seat,
    side: Side,
}

impl Member {
    /// Refuse unless the member registers the initiative's units: the back stage does.
    pub fn require_registers_units(&self) -> AppResult<()> {
        if self.side == Side::Back {
            return Ok(());
        }
        let base = "the back stage registers the initiative's units";
        Err(AppError::forbidden(match &self.account {
            Some(user) => format!("{base}; {user} works on the front stage"),
            None => base.to_owned(),
        }))
    }
}

/// The member `p` of initiative `id`, or 403 (not a member) or 404.
async fn member(s: &AppState, p: &Principal, id: i64) -> AppResult<Member> {
    let city = p.city;
    let seat = seat_of(s, Some(p), id).await?;
    let found = s.store.initiative(city, id).await?;
    match (found, side_of(seat)) {
        (Some((initiative, version)), Some(side)) => Ok(Member {
            city,
            person: p.person_id.0,
            account: None,
            initiative,
            version,
            seat,
            side,
        }),
        (Some(_), None) => Err(AppError::forbidden(format!(
            "you are not a member of initiative {id}; its public page is /initiatives/{id}/public"
        ))),
        (None, _) => Err(AppError::not_found(format!("initiative {id}"))),
    }
}

/// The member of initiative `id` in `city` who logs in as `user` (the command line).
pub async fn member_by_account(s: &AppState, city: CityCode, id: i64, user: &str) -> AppResult<Member> {
    let account = s
        .store
        .account(user)
        .await?
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, "not_found", format!("there is no account {user}")))?;
    let (initiative, version) = s.store.initiative(city, id).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("there is no initiative {id} in city {city}"),
        )
    })?;
    let side = initiative
        .side_of(account.person_id.0)
        .ok_or_else(|| AppError::forbidden(format!("{user} is not a member of initiative {id}")))?;
    Ok(Member {
        city,
        person: account.person_id.0,
        account: Some(user.to_owned()),
        initiative,
        version,
        seat: match side {
            Side::Front => Seat::Front(id),
            Side::Back => Seat::Back(id),
        },
        side,
    })
}

/// Turn a request into the event the core checks; ids come from the initiative.
async fn event_of(s: &AppState, p: &Principal, i: &Initiative, step: Step) -> AppResult<InitiativeEvent> {
    let internal = |t: String| Internal::new(i.id, t);
    Ok(match step {
        Step::AddMember { person, side } => {
            let who = s
                .store
                .person(p.city, PersonId(person))
                .await?
                .ok_or_else(|| AppError::invalid(format!("person: there is no person {person}")))?;
            InitiativeEvent::MemberJoined {
                person,
                name: who.name,
                side: side.parse()?,
            }
        }
        Step::AddParty { name, kind, units } => InitiativeEvent::PartyAdded {
            party: Party {
                id: i.parties.keys().max().map_or(1, |m| m + 1),
                name,
                kind: kind.parse::<PartyKind>()?,
                units,
            },
        },
        Step::Contact {
            party,
            position,
            concerns,
        } => InitiativeEvent::ContactLogged {
            party,
            by: p.person_id.0,
            position: position.parse::<Position>()?,
            concerns,
        },
        Step::Survey {
            unit,
            actual_use,
            occupants,
            owner,
            hazards,
            note,
        } => InitiativeEvent::UnitSurveyed {
            survey: Survey {
                unit,
                actual_use: UnitUse::parse_any(&actual_use)
                    .ok_or_else(|| AppError::invalid(format!("actual_use: '{actual_use}' is not a use")))?,
                occupants,
                owner,
                hazards: hazards.iter().map(|h| h.parse::<Hazard>()).collect::<Result<_, _>>()?,
                note,
            },
        },
        Step::Notice { text } => InitiativeEvent::NoticePosted { text },
        Step::OpenHandoff { summary, limit_days } => InitiativeEvent::HandoffOpened {
            id: i.next_id(),
            from: i.side_of(p.person_id.0).unwrap_or(Side::Front),
            summary,
            limit_days,
        },
        Step::WorkHandoff { id, payload } => InitiativeEvent::HandoffWorked {
            id,
            payload: internal(payload),
        },
        Step::AnswerHandoff { id, answer, rationale } => InitiativeEvent::HandoffAnswered {
            id,
            answer,
            rationale: internal(rationale.unwrap_or_default()),
        },
        Step::Milestone { milestone } => InitiativeEvent::MilestoneReached {
            milestone: milestone.parse::<Milestone>()?,
        },
        Step::Note { text } => InitiativeEvent::NoteAdded {
            id: i.next_id(),
            text: internal(text),
        },
        Step::PlanPhase { title, detail } => InitiativeEvent::PlanPhase {
            id: i.next_id(),
            title,
            detail: internal(detail),
        },
        Step::Task {
            department,
            condition,
            instructions,
            lng,
            lat,
            due,
        } => {
            if department.trim().is_empty() {
                return Err(AppError::invalid("department: name the department the task goes to"));
            }
            let city = p.city;
            let (lng, lat) = match (lng, lat) {
                (Some(lng), Some(lat)) => (lng, lat),
                (None, None) => {
                    let g = s
                        .store
                        .grids(city, Some(&i.community), 1, 1)
                        .await?
                        .grids
                        .into_iter()
                        .next()
                        .and_then(|g| geo::InteriorPoint::interior_point(&g.geometry))
                        .ok_or_else(|| {
                            AppError::invalid("lng, lat: the initiative's community has no grid; give the task's place")
                        })?;
                    (g.x(), g.y())
                }
                _ => return Err(AppError::invalid("lng, lat: give both or neither")),
            };
            let report = crate::cases::Report {
                condition,
                category: None,
                description: instructions,
                lng,
                lat,
                crs: None,
                source: None,
                contact_name: None,
                contact_phone: None,
                // Collected (上报); the centre registers and dispatches it like any case.
                register: false,
            };
            let (row, _) =
                crate::cases::intake(s, p, &report, Some(gongzhi_core::case::CaseSource::Initiative)).await?;
            InitiativeEvent::TaskDispatched {
                case_id: row.case.id.0,
                department,
                due,
            }
        }
        Step::ElectCommittee {
            seats,
            candidates,
            ballots,
        } => {
            let mut named = Vec::new();
            for person in candidates {
                let who = s
                    .store
                    .person(p.city, PersonId(person))
                    .await?
                    .ok_or_else(|| AppError::invalid(format!("candidates: there is no person {person}")))?;
                named.push((person, who.name));
            }
            InitiativeEvent::CommitteeElected {
                seats,
                candidates: named,
                ballots,
            }
        }
        Step::VotePlan { title, votes } => InitiativeEvent::PlanVoted {
            title,
            votes: votes
                .into_iter()
                .map(|(party, c)| {
                    serde_json::from_value::<Choice>(serde_json::Value::String(c.clone()))
                        .map(|c| (party, c))
                        .map_err(|_| AppError::invalid(format!("votes: '{c}' is not yes, no or abstain")))
                })
                .collect::<Result<_, _>>()?,
        },
        Step::Publish { from_note, stage, text } => InitiativeEvent::StatementPublished {
            id: i.next_id(),
            from_note,
            stage: stage.parse::<Stage>()?,
            text,
        },
    })
}

/// Take one step as `p` at the version they saw (the API and the pages both come here). The core
/// refuses steps that belong to the other stage or name what does not exist; nothing is stored
/// then.
pub async fn take_step(s: &AppState, p: &Principal, id: i64, version: i64, step: Step) -> AppResult<InitiativeView> {
    let m = member(s, p, id).await?;
    let event = event_of(s, p, &m.initiative, step).await?;
    let i = s
        .store
        .record_initiative(m.city, id, version, m.side, p.person_id, &[event])
        .await?;
    view(s, m.city, &i, version + 1, m.seat).await
}

/// An initiative after a registration: the initiative, its new version and the member's seat.
pub struct Registered {
    pub initiative: Initiative,
    pub version: i64,
    pub seat: Seat,
    /// What the import did, by natural key (units by code; parties by name and units).
    pub report: ImportReport,
}

/// Register the member's initiative's units from a premises file (CSV or XLSX, the premises
/// import's columns): the buildings and units are stored in the premises register and become the
/// initiative's area. Back stage only; all or nothing, wrong lines listed (the error's items).
pub async fn register_units(s: &AppState, m: Member, bytes: &[u8]) -> AppResult<Registered> {
    m.require_registers_units()?;
    let table = Table::from_bytes(bytes).map_err(|e| StoreError::Lines(vec![e]))?;
    let parsed = premises::parse_premises(&table).map_err(StoreError::Lines)?;
    let registered = wicked::units_from_premises(&parsed, &m.initiative.community).map_err(StoreError::Lines)?;
    let units = m.initiative.units_import(registered);
    let events: Vec<_> = units.event.into_iter().collect();
    // One transaction: the premises register and the initiative's area together.
    let (initiative, _) = s
        .store
        .import_initiative_units(
            m.city,
            m.initiative.id,
            m.version,
            m.side,
            PersonId(m.person),
            &parsed,
            &events,
        )
        .await?;
    Ok(Registered {
        initiative,
        version: m.version + events.len() as i64,
        seat: m.seat,
        report: units.report,
    })
}

/// Register parties from a CSV or XLSX file with columns `name, kind, units` (unit codes separated
/// by `;`), as a member of either stage; all or nothing, wrong lines listed (the error's items).
/// A party is keyed by its name and units: a re-import adds none twice (a changed kind is
/// recorded as `party_changed`), and a file naming one party twice is refused with both lines.
pub async fn register_parties(s: &AppState, m: Member, bytes: &[u8]) -> AppResult<Registered> {
    let table = Table::from_bytes(bytes).map_err(|e| StoreError::Lines(vec![e]))?;
    let parties = m.initiative.parties_from(&table).map_err(StoreError::Lines)?;
    let n = parties.events.len() as i64;
    let initiative = s
        .store
        .record_initiative(
            m.city,
            m.initiative.id,
            m.version,
            m.side,
            PersonId(m.person),
            &parties.events,
        )
        .await?;
    Ok(Registered {
        initiative,
        version: m.version + n,
        seat: m.seat,
        report: parties.report,
    })
}

/// Register the initiative's units from a premises file as `p` (back stage only).
pub async fn import_units(s: &AppState, p: &Principal, id: i64, bytes: &[u8]) -> AppResult<InitiativeView> {
    let m = member(s, p, id).await?;
    let city = m.city;
    let r = register_units(s, m, bytes).await?;
    let mut v = view(s, city, &r.initiative, r.version, r.seat).await?;
    v.import = Some(r.report);
    Ok(v)
}

/// Register parties from a file as `p` (either stage).
pub async fn import_parties(s: &AppState, p: &Principal, id: i64, bytes: &[u8]) -> AppResult<InitiativeView> {
    let m = member(s, p, id).await?;
    let city = m.city;
    let r = register_parties(s, m, bytes).await?;
    let mut v = view(s, city, &r.initiative, r.version, r.seat).await?;
    v.import = Some(r.report);
    Ok(v)
}

/// The owner key of a unit's survey photos (`unit` empty: the prefix of all of them).
fn unit_photo_owner(initiative: i64, unit: &str) -> String {
    format!("initiative:{initiative}:unit:{unit}")
}

/// The most photos one unit's survey keeps.
pub const PHOTOS_PER_UNIT: usize = 10;

/// Store a survey photo of one unit as a member of either stage (the API and the pages): its
/// type decided from its bytes (JPEG, PNG or WebP).
pub async fn add_survey_photo(
    s: &AppState,
    p: &Principal,
    id: i64,
    unit: &str,
    content_type: &str,
    data: &[u8],
) -> AppResult<i64> {
    let m = member(s, p, id).await?;
    if !m.initiative.units.contains_key(unit) {
        return Err(AppError::invalid(format!(
            "unit: {unit} is not in this initiative's area; register it first"
        )));
    }
    let photo = crate::cases::check_photo_bytes(content_type, data)?;
    let owner = unit_photo_owner(id, unit);
    if s.store
        .attachments(m.city, &owner)
        .await?
        .iter()
        .filter(|a| a.owner == owner)
        .count()
        >= PHOTOS_PER_UNIT
    {
        return Err(AppError::invalid(format!(
            "a unit's survey keeps at most {PHOTOS_PER_UNIT} photos"
        )));
    }
    Ok(s.store
        .add_attachment(m.city, &owner, photo.content_type, &photo.data, Some(p.person_id))
        .await?)
}

/// The media id of a survey photo by its id in an old URL, for the members of the initiative's
/// two stages (anyone else gets 404).
pub async fn survey_photo_media(s: &AppState, p: Option<&Principal>, id: i64, photo: i64) -> AppResult<i64> {
    let missing = || AppError::not_found(format!("photo {photo} of initiative {id}"));
    let seat = seat_of(s, p, id).await?;
    let (Some(p), true) = (p, seat.sees(id, Stage::Front)) else {
        return Err(missing());
    };
    crate::media::resolve(
        s,
        p.city,
        &format!("attachments:{photo}"),
        &unit_photo_owner(id, ""),
        photo,
    )
    .await?
    .ok_or_else(missing)
}
