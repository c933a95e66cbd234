//! Wicked-problem initiatives (棘手问题专项): the front stage (residents' autonomous committee) and
//! the back stage (town or street government), separated and coordinated.
//!
//! Every answer is built by [`view`] from the viewer's [`Seat`]: the core decides what a seat sees
//! (timeline, progress) and back-stage content is `Internal`, which no view type can serialise.
//! A step is checked by the core against the stage the caller works on; a caller who is not a
//! member of an initiative gets its public view only, and "not found" for anything else.

use gongzhi_store::prelude::*;
use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use gongzhi_core::access::Principal;
use gongzhi_core::case::CaseState;
use gongzhi_core::decision::ballot::Choice;
use gongzhi_core::decision::tally::{CommitteeResult, MotionResult};
use gongzhi_core::premises::{self, UnitUse};
use gongzhi_core::table::Table;
use gongzhi_core::visibility::{Internal, Seat, Stage};
use gongzhi_core::wicked::{
    self, Hazard, Initiative, InitiativeEvent, Milestone, Party, PartyKind, Position, Progress, Side, Survey,
    TimelineEntry,
};
use gongzhi_store::{InitiativeRow, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_initiatives, create_initiative))
        .routes(routes!(get_initiative))
        .routes(routes!(timeline_csv))
        .routes(routes!(take_step))
        .routes(routes!(import_units))
        .routes(routes!(import_parties))
        .routes(routes!(add_survey_photo))
        .routes(routes!(survey_photo))
}

pub use gongzhi_app::initiatives::seat_of;

fn side_of(seat: Seat) -> Option<Side> {
    match seat {
        Seat::Front(_) => Some(Side::Front),
        Seat::Back(_) => Some(Side::Back),
        Seat::Public => None,
    }
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
}

/// Build the view of `i` for `seat`: the one place answers about an initiative are made.
pub async fn view(s: &AppState, city: &str, i: &Initiative, version: i64, seat: Seat) -> ApiResult<InitiativeView> {
    let front = seat.sees(i.id, Stage::Front);
    let closed = if seat.back_stage(i.id).is_some() {
        let mut closed = BTreeSet::new();
        for (case, _, _) in &i.tasks {
            if let Some(row) = s.store.case(city, *case).await? {
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
    })
}

/// The initiatives of the city: names, kinds and communities are public.
#[utoipa::path(get, path = "/api/initiatives", tag = "initiatives", responses((status = 200, body = Vec<Object>)))]
pub async fn list_initiatives(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
) -> ApiResult<Json<Vec<InitiativeRow>>> {
    let city = crate::api::territory::city_of(&s, p.as_ref());
    Ok(Json(s.store.initiatives(&city).await?))
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
#[utoipa::path(post, path = "/api/initiatives", tag = "initiatives", request_body = NewInitiative, security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_initiative(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(body): Json<NewInitiative>,
) -> ApiResult<Json<InitiativeView>> {
    let city = p.city.to_string();
    gongzhi_app::territory::require_manage(
        &p,
        &body.community,
        "opening an initiative needs an administrator of its community (the town or street government)",
    )?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name: give the initiative a name"));
    }
    let community = s
        .store
        .division(&city, &body.community)
        .await?
        .ok_or_else(|| ApiError::invalid(format!("community: {} is not in the register", body.community)))?;
    let opened = InitiativeEvent::Opened {
        name: body.name.trim().to_owned(),
        problem: body.problem.parse()?,
        community: community.code.to_string(),
        scope: body.scope.trim().to_owned(),
    };
    let id = s
        .store
        .create_initiative(&city, &opened, (p.person_id, &p.name))
        .await?;
    let (i, version) = s
        .store
        .initiative(&city, id)
        .await?
        .ok_or_else(|| ApiError::not_found("initiative"))?;
    Ok(Json(view(&s, &city, &i, version, Seat::Back(id)).await?))
}

/// One initiative as the caller's seat sees it (public, front or back).
#[utoipa::path(get, path = "/api/initiatives/{id}", tag = "initiatives", params(("id" = i64, Path)),
    responses((status = 200, body = InitiativeView), (status = 404, body = ErrorBody)))]
pub async fn get_initiative(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<InitiativeView>> {
    let city = crate::api::territory::city_of(&s, p.as_ref());
    let seat = seat_of(&s, p.as_ref(), id).await?;
    let (i, version) = s
        .store
        .initiative(&city, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("initiative {id}")))?;
    Ok(Json(view(&s, &city, &i, version, seat).await?))
}

/// The joint timeline as CSV (UTF-8 with BOM: time, stage, kind, summary), as the caller's seat
/// sees it: made from the same view as the JSON answer, so an export shows nothing the seat may
/// not read.
#[utoipa::path(get, path = "/api/initiatives/{id}/timeline.csv", tag = "initiatives", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn timeline_csv(s: State<AppState>, p: MaybeAuth, id: Path<i64>) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let Json(v) = get_initiative(s, p, id).await?;
    let mut w = gongzhi_core::table::CsvWriter::from_writer(b"\xEF\xBB\xBF".to_vec());
    let io = |e: csv::Error| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("timeline export: {e}"),
        )
    };
    w.write_record(["at", "stage", "kind", "summary"]).map_err(io)?;
    for e in &v.timeline {
        let at = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|t| t.with_timezone(&gongzhi_core::calendar::china_time()).to_rfc3339())
            .unwrap_or_default();
        w.write_record([at.as_str(), e.stage.as_str(), &e.kind, &e.summary])
            .map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("timeline export: {e}"),
        )
    })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"initiative-{}-timeline.csv\"", v.id),
            ),
        ],
        bytes,
    )
        .into_response())
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

async fn member(s: &AppState, p: &Principal, id: i64) -> ApiResult<(Initiative, i64, Seat, Side)> {
    let city = p.city.to_string();
    let seat = seat_of(s, Some(p), id).await?;
    let found = s.store.initiative(&city, id).await?;
    match (found, side_of(seat)) {
        (Some((i, v)), Some(side)) => Ok((i, v, seat, side)),
        (Some(_), None) => Err(ApiError::forbidden(format!(
            "you are not a member of initiative {id}; its public page is /initiatives/{id}/public"
        ))),
        (None, _) => Err(ApiError::not_found(format!("initiative {id}"))),
    }
}

/// Turn a request into the event the core checks; ids come from the initiative.
async fn event_of(s: &AppState, p: &Principal, i: &Initiative, step: Step) -> ApiResult<InitiativeEvent> {
    let internal = |t: String| Internal::new(i.id, t);
    Ok(match step {
        Step::AddMember { person, side } => {
            let who = s
                .store
                .person(&p.city.to_string(), person)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("person: there is no person {person}")))?;
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
            by: p.person_id,
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
                    .ok_or_else(|| ApiError::invalid(format!("actual_use: '{actual_use}' is not a use")))?,
                occupants,
                owner,
                hazards: hazards.iter().map(|h| h.parse::<Hazard>()).collect::<Result<_, _>>()?,
                note,
            },
        },
        Step::Notice { text } => InitiativeEvent::NoticePosted { text },
        Step::OpenHandoff { summary, limit_days } => InitiativeEvent::HandoffOpened {
            id: i.next_id(),
            from: i.side_of(p.person_id).unwrap_or(Side::Front),
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
                return Err(ApiError::invalid("department: name the department the task goes to"));
            }
            let city = p.city.to_string();
            let (lng, lat) = match (lng, lat) {
                (Some(lng), Some(lat)) => (lng, lat),
                (None, None) => {
                    let g = s
                        .store
                        .grids(&city, Some(&i.community), 1, 1)
                        .await?
                        .grids
                        .into_iter()
                        .next()
                        .and_then(|g| geo::InteriorPoint::interior_point(&g.geometry))
                        .ok_or_else(|| {
                            ApiError::invalid("lng, lat: the initiative's community has no grid; give the task's place")
                        })?;
                    (g.x(), g.y())
                }
                _ => return Err(ApiError::invalid("lng, lat: give both or neither")),
            };
            let report = gongzhi_app::cases::Report {
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
                gongzhi_app::cases::intake(s, p, &report, Some(gongzhi_core::case::CaseSource::Initiative)).await?;
            InitiativeEvent::TaskDispatched {
                case_id: row.case.id,
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
                    .person(&p.city.to_string(), person)
                    .await?
                    .ok_or_else(|| ApiError::invalid(format!("candidates: there is no person {person}")))?;
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
                        .map_err(|_| ApiError::invalid(format!("votes: '{c}' is not yes, no or abstain")))
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

/// Take a step on an initiative as a member of its front or back stage. The core refuses steps
/// that belong to the other stage or name what does not exist; nothing is stored then.
#[utoipa::path(post, path = "/api/initiatives/{id}/steps", tag = "initiatives", params(("id" = i64, Path)), request_body = StepRequest,
    security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn take_step(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(body): Json<StepRequest>,
) -> ApiResult<Json<InitiativeView>> {
    Ok(Json(apply_step(&s, &p, id, body.version, body.step).await?))
}

/// Take one step as `p` at the version they saw (the API and the pages both come here).
pub async fn apply_step(s: &AppState, p: &Principal, id: i64, version: i64, step: Step) -> ApiResult<InitiativeView> {
    let (i, _, seat, side) = member(s, p, id).await?;
    let event = event_of(s, p, &i, step).await?;
    let city = p.city.to_string();
    let i = s
        .store
        .record_initiative(&city, id, version, side, p.person_id, &[event])
        .await?;
    view(s, &city, &i, version + 1, seat).await
}

/// Register the initiative's units from a premises file (CSV or XLSX, the premises import's
/// columns): the buildings and units are stored in the premises register and become the
/// initiative's area. Back stage only; all or nothing, wrong lines listed.
#[utoipa::path(post, path = "/api/initiatives/{id}/units", tag = "initiatives", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_units(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<InitiativeView>> {
    let (i, version, seat, side) = member(&s, &p, id).await?;
    if side != Side::Back {
        return Err(ApiError::forbidden("the back stage registers the initiative's units"));
    }
    let table = Table::from_bytes(&body).map_err(|e| StoreError::Lines(vec![e]))?;
    let parsed = premises::parse_premises(&table).map_err(StoreError::Lines)?;
    let registered = wicked::units_from_premises(&parsed, &i.community).map_err(StoreError::Lines)?;
    let city = p.city.to_string();
    s.store.import_premises(&city, &parsed, Some(p.person_id)).await?;
    let i = s
        .store
        .record_initiative(&city, id, version, side, p.person_id, &[registered])
        .await?;
    Ok(Json(view(&s, &city, &i, version + 1, seat).await?))
}

/// Register parties from a CSV or XLSX file with columns `name, kind, units` (unit codes separated
/// by `;`). Either stage; all or nothing, wrong lines listed.
#[utoipa::path(post, path = "/api/initiatives/{id}/parties", tag = "initiatives", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = InitiativeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_parties(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<InitiativeView>> {
    let (i, version, seat, side) = member(&s, &p, id).await?;
    let table = Table::from_bytes(&body).map_err(|e| StoreError::Lines(vec![e]))?;
    let events = i.parties_from(&table).map_err(StoreError::Lines)?;
    let city = p.city.to_string();
    let n = events.len() as i64;
    let i = s
        .store
        .record_initiative(&city, id, version, side, p.person_id, &events)
        .await?;
    Ok(Json(view(&s, &city, &i, version + n, seat).await?))
}

/// The owner key of a unit's survey photos (`unit` empty: the prefix of all of them).
fn unit_photo_owner(initiative: i64, unit: &str) -> String {
    format!("initiative:{initiative}:unit:{unit}")
}

/// The most photos one unit's survey keeps.
pub const PHOTOS_PER_UNIT: usize = 10;

/// Store a survey photo of one unit as a member of either stage (the API and the pages).
pub async fn store_survey_photo(
    s: &AppState,
    p: &Principal,
    id: i64,
    unit: &str,
    content_type: &str,
    data: &[u8],
) -> ApiResult<i64> {
    let (i, _, _, _) = member(s, p, id).await?;
    if !i.units.contains_key(unit) {
        return Err(ApiError::invalid(format!(
            "unit: {unit} is not in this initiative's area; register it first"
        )));
    }
    let photo = crate::api::cases::check_photo_bytes(content_type, data)?;
    let city = p.city.to_string();
    let owner = unit_photo_owner(id, unit);
    if s.store
        .attachments(&city, &owner)
        .await?
        .iter()
        .filter(|a| a.owner == owner)
        .count()
        >= PHOTOS_PER_UNIT
    {
        return Err(ApiError::invalid(format!(
            "a unit's survey keeps at most {PHOTOS_PER_UNIT} photos"
        )));
    }
    Ok(s.store
        .add_attachment(&city, &owner, photo.content_type, &photo.data, Some(p.person_id))
        .await?)
}

pub use crate::api::cases::PhotoAdded;

/// Attach a survey photo (摸排照片) of one unit: the request body, with its Content-Type
/// (JPEG, PNG or WebP). Members of either stage; the photo is seen by this initiative's two
/// stages only.
#[utoipa::path(post, path = "/api/initiatives/{id}/units/{unit}/photos", tag = "initiatives",
    params(("id" = i64, Path), ("unit" = String, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PhotoAdded), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_survey_photo(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, unit)): Path<(i64, String)>,
    upload: crate::media::PhotoUpload,
) -> ApiResult<(axum::http::StatusCode, Json<PhotoAdded>)> {
    let photo = store_survey_photo(&s, &p, id, &unit, &upload.declared, &upload.bytes).await?;
    Ok((axum::http::StatusCode::CREATED, Json(PhotoAdded::new(photo))))
}

/// A survey photo, for the members of the initiative's two stages (anyone else gets 404): moved
/// to `/media/{id}` (permanent redirect).
#[utoipa::path(get, path = "/api/initiatives/{id}/photos/{photo}", tag = "initiatives",
    params(("id" = i64, Path), ("photo" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn survey_photo(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    Path((id, photo)): Path<(i64, i64)>,
) -> ApiResult<axum::response::Response> {
    let missing = || ApiError::not_found(format!("photo {photo} of initiative {id}"));
    let seat = seat_of(&s, p.as_ref(), id).await?;
    let (Some(p), true) = (p, seat.sees(id, Stage::Front)) else {
        return Err(missing());
    };
    let media = crate::media::resolve(
        &s,
        &p.city.to_string(),
        &format!("attachments:{photo}"),
        &unit_photo_owner(id, ""),
        photo,
    )
    .await?
    .ok_or_else(missing)?;
    Ok(crate::media::moved(media))
}
