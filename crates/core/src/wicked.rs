//! Wicked problems (棘手问题): an initiative (专项) worked by a residents' autonomous committee in
//! front (前台) and the town or street government behind (后台), separated and coordinated.
//!
//! An initiative is a fold of [`InitiativeEvent`]s (the one event log holds them). Each event has a
//! [`Stage`]; back-stage content is [`Internal`] and can only be read with a back-stage pass (see
//! [`crate::visibility`]). What a seat may see is built here, once: [`Initiative::timeline`] and
//! [`Initiative::progress`] take the [`Seat`], and the front-stage and public views are made of
//! types that cannot hold internal content.

use crate::ids::PersonId;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::decision::ballot::Choice;
use crate::decision::tally::{CommitteeResult, MotionResult, MotionRule};
use crate::decision::{self, RuleSet};
use crate::import::{ImportReport, SeenKeys};
use crate::premises::{Area, Premises, UnitUse};
use crate::table::{LineError, Table};
use crate::visibility::{stored, BackStagePass, Internal, Seat, Stage};
use crate::DomainError;

crate::org::string_enum! {
    /// The kind of wicked problem.
    ProblemType {
        /// 类住宅: commercial or industrial buildings lived in as housing.
        QuasiResidential => "quasi_residential", "类住宅", "Quasi-residential housing";
        /// 群租: group renting.
        GroupRenting => "group_renting", "群租", "Group renting";
        /// 违法建设: illegal structures.
        IllegalStructures => "illegal_structures", "违法建设", "Illegal structures";
        /// 停车: parking.
        Parking => "parking", "停车", "Parking";
        /// 物业纠纷: property-management disputes.
        PropertyDispute => "property_dispute", "物业纠纷", "Property-management dispute";
        Other => "other", "其他", "Other";
    }
}

crate::org::string_enum! {
    /// The kind of party to an initiative.
    PartyKind {
        Owner => "owner", "业主", "Owner";
        Tenant => "tenant", "租户", "Tenant";
        Operator => "operator", "经营者", "Business operator";
        Developer => "developer", "开发商", "Developer";
        PropertyManager => "property_manager", "物业", "Property manager";
        Department => "department", "职能部门", "Functional department";
        Other => "other", "其他", "Other";
    }
}

crate::org::string_enum! {
    /// A party's position on the rectification, as last recorded by a contact.
    Position {
        Support => "support", "支持", "Support";
        Oppose => "oppose", "反对", "Oppose";
        Conditional => "conditional", "有条件支持", "Support with conditions";
    }
}

crate::org::string_enum! {
    /// A hazard found in a unit by the survey (摸排).
    Hazard {
        BlockedExit => "blocked_exit", "疏散通道堵塞", "Blocked escape route";
        Partitions => "partitions", "违规隔断", "Illegal partitions";
        Gas => "gas", "燃气隐患", "Gas hazard";
        Electrical => "electrical", "电气隐患", "Electrical hazard";
        Overcrowding => "overcrowding", "居住拥挤", "Overcrowding";
        Other => "other", "其他隐患", "Other hazard";
    }
}

crate::org::string_enum! {
    /// The shared milestones both stages see.
    Milestone {
        CommitteeElected => "committee_elected", "自治委员会选出", "Committee elected";
        SurveyComplete => "survey_complete", "摸排完成", "Survey complete";
        ConsensusReached => "consensus_reached", "达成共识", "Consensus reached";
        PlanAdopted => "plan_adopted", "方案通过", "Plan adopted";
        RectificationDone => "rectification_done", "整治完成", "Rectification done";
    }
}

crate::org::string_enum! {
    /// Which side a member works on.
    Side {
        Front => "front", "前台", "Front stage";
        Back => "back", "后台", "Back stage";
    }
}

/// A unit of the initiative's area (from the premises register).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    pub code: String,
    pub building: String,
    pub floor: i32,
    pub area: Area,
}

/// A party: an owner, tenant, operator … with the units they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub id: u32,
    pub name: String,
    pub kind: PartyKind,
    /// Unit codes the party owns or occupies.
    pub units: Vec<String>,
}

/// What a member of the front found in one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub unit: String,
    pub actual_use: UnitUse,
    pub occupants: u32,
    pub owner: String,
    pub hazards: Vec<Hazard>,
    pub note: String,
}

/// One entry of the event log of an initiative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InitiativeEvent {
    /// Front: the scope, public; set up by the back stage.
    Opened {
        name: String,
        problem: ProblemType,
        community: String,
        scope: String,
    },
    UnitsRegistered {
        units: Vec<UnitRef>,
    },
    PartyAdded {
        party: Party,
    },
    /// A registered party re-imported with other values (its kind): the party as it is now.
    PartyChanged {
        party: Party,
    },
    MemberJoined {
        person: i64,
        name: String,
        side: Side,
    },
    ContactLogged {
        party: u32,
        by: i64,
        position: Position,
        concerns: String,
    },
    UnitSurveyed {
        survey: Survey,
    },
    NoticePosted {
        text: String,
    },
    /// A hand-off opened by one stage to the other: its summary is joint.
    HandoffOpened {
        id: u32,
        from: Side,
        summary: String,
        limit_days: u32,
    },
    /// Back-stage work on a hand-off (internal payload).
    HandoffWorked {
        id: u32,
        #[serde(with = "stored")]
        payload: Internal<String>,
    },
    /// The answer the other stage sees (joint), with an internal rationale.
    HandoffAnswered {
        id: u32,
        answer: String,
        #[serde(with = "stored")]
        rationale: Internal<String>,
    },
    MilestoneReached {
        milestone: Milestone,
    },
    /// Back: an internal note, risk assessment or decision record.
    NoteAdded {
        id: u32,
        #[serde(with = "stored")]
        text: Internal<String>,
    },
    /// Back: a phase of the plan (options, legal basis, incentives, enforcement).
    PlanPhase {
        id: u32,
        title: String,
        #[serde(with = "stored")]
        detail: Internal<String>,
    },
    /// Back: a department task dispatched through the closed loop as a case.
    TaskDispatched {
        case_id: i64,
        department: String,
        due: i64,
    },
    /// Back: the result of the committee's nomination-and-election meeting, paper ballots entered
    /// (each ballot approves up to `seats` candidates, by person id); the electorate is the
    /// initiative's parties (from the units register). The elected join the front stage.
    CommitteeElected {
        seats: usize,
        candidates: Vec<(i64, String)>,
        ballots: Vec<Vec<i64>>,
    },
    /// Front: a consultation vote on a rectification plan, one choice per party; passed by more
    /// than half of yes and no with a quorum of half the parties ([`plan_rule`]). A plan that
    /// passes reaches the milestone "plan adopted".
    PlanVoted {
        title: String,
        votes: Vec<(u32, Choice)>,
    },
    /// An explicit, recorded step that makes a statement joint or public; when drawn from a note,
    /// the note itself stays internal.
    StatementPublished {
        id: u32,
        from_note: Option<u32>,
        stage: Stage,
        text: String,
    },
}

impl InitiativeEvent {
    /// Who may see this entry.
    pub fn stage(&self) -> Stage {
        use InitiativeEvent::*;
        match self {
            Opened { .. } | NoticePosted { .. } | MilestoneReached { .. } | CommitteeElected { .. } => Stage::Public,
            PlanVoted { .. } => Stage::Front,
            UnitsRegistered { .. }
            | PartyAdded { .. }
            | PartyChanged { .. }
            | ContactLogged { .. }
            | UnitSurveyed { .. }
            | MemberJoined { side: Side::Front, .. } => Stage::Front,
            HandoffOpened { .. } | HandoffAnswered { .. } => Stage::Joint,
            MemberJoined { side: Side::Back, .. }
            | HandoffWorked { .. }
            | NoteAdded { .. }
            | PlanPhase { .. }
            | TaskDispatched { .. } => Stage::Back,
            StatementPublished { stage, .. } => *stage,
        }
    }

    /// A one-line summary made of the entry's visible fields (never of internal content).
    fn summary(&self, pass: Option<BackStagePass>) -> String {
        use InitiativeEvent::*;
        let internal = |t: &Internal<String>| pass.and_then(|p| t.reveal(p).cloned()).unwrap_or_default();
        match self {
            Opened { name, problem, .. } => format!("{name}（{}）", problem.zh()),
            UnitsRegistered { units } => format!("{} units", units.len()),
            PartyAdded { party } | PartyChanged { party } => format!("{}（{}）", party.name, party.kind.zh()),
            MemberJoined { name, side, .. } => format!("{name}（{}）", side.zh()),
            ContactLogged { position, concerns, .. } => format!("{}：{concerns}", position.zh()),
            UnitSurveyed { survey } => format!("{}：{}", survey.unit, survey.actual_use.zh()),
            NoticePosted { text } => text.clone(),
            HandoffOpened { summary, .. } => summary.clone(),
            HandoffWorked { payload, .. } => internal(payload),
            HandoffAnswered { answer, rationale, .. } => match internal(rationale) {
                r if r.is_empty() => answer.clone(),
                r => format!("{answer}（{r}）"),
            },
            MilestoneReached { milestone } => milestone.zh().to_owned(),
            NoteAdded { text, .. } => internal(text),
            PlanPhase { title, detail, .. } => format!("{title}：{}", internal(detail)),
            TaskDispatched {
                case_id, department, ..
            } => format!("{department} #{case_id}"),
            StatementPublished { text, .. } => text.clone(),
            CommitteeElected { .. } | PlanVoted { .. } => String::new(),
        }
    }
}

/// The event that registers a premises file's units as an initiative's area; every building must
/// lie in the initiative's community (errors name the file's lines).
pub fn units_from_premises(premises: &Premises, community: &str) -> Result<InitiativeEvent, Vec<LineError>> {
    let outside: Vec<LineError> = premises
        .buildings
        .iter()
        .zip(&premises.building_lines)
        .filter(|(b, _)| b.community.as_str() != community)
        .map(|(b, line)| LineError {
            line: *line,
            column: Some("community".into()),
            message: format!("building {} is not in the initiative's community {community}", b.code),
        })
        .collect();
    if !outside.is_empty() {
        return Err(outside);
    }
    Ok(InitiativeEvent::UnitsRegistered {
        units: premises
            .units
            .iter()
            .map(|u| UnitRef {
                code: u.code.clone(),
                building: u.building.clone(),
                floor: u.floor,
                area: u.area,
            })
            .collect(),
    })
}

/// The columns of a parties file: `name, kind, units` (unit codes separated by `;`).
pub const PARTY_COLUMNS: &[&str] = &["name", "kind", "units"];

/// A party's natural key: its name (white space and case aside) and the set of its units. The
/// same name with other units is another party (two owners can share a name).
fn party_key(name: &str, units: &[String]) -> (String, Vec<String>) {
    let mut units = units.to_vec();
    units.sort();
    units.dedup();
    (crate::import::normalise(name), units)
}

/// How a party is named in an import's report: "name (unit;unit)".
fn party_label(p: &Party) -> String {
    format!("{} ({})", p.name, p.units.join(";"))
}

/// A parties file checked against an initiative: the events to record (new parties, parties
/// whose kind changed) and the report of every row.
#[derive(Debug, Clone, PartialEq)]
pub struct PartiesImport {
    pub events: Vec<InitiativeEvent>,
    pub report: ImportReport,
}

/// A units registration checked against an initiative: the event to record (the units that are
/// new or changed; none when the file adds nothing) and the report by unit code.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitsImport {
    pub event: Option<InitiativeEvent>,
    pub report: ImportReport,
}

impl Initiative {
    /// Parties from a file, numbered after those registered; every wrong line is reported. A
    /// party is keyed by its name and units: one already registered is left alone, or changed
    /// (a `PartyChanged` event) when its kind differs; a file naming one party twice is refused
    /// with both lines.
    pub fn parties_from(&self, table: &Table) -> Result<PartiesImport, Vec<LineError>> {
        table.require_columns(PARTY_COLUMNS).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let mut events = Vec::new();
        let mut report = ImportReport::default();
        let mut seen = SeenKeys::new("party (name and units)", "name");
        // The registered parties by key; the first one when earlier imports registered copies.
        let mut registered: BTreeMap<(String, Vec<String>), &Party> = BTreeMap::new();
        for p in self.parties.values() {
            registered.entry(party_key(&p.name, &p.units)).or_insert(p);
        }
        let mut next = self.parties.keys().max().copied().unwrap_or(0);
        for row in &table.rows {
            let name = row.required("name");
            let kind = row
                .required("kind")
                .and_then(|k| k.parse::<PartyKind>().map_err(|e| row.error("kind", e.to_string())));
            let units: Vec<String> = row
                .get("units")
                .unwrap_or("")
                .split(';')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect();
            if let Some(u) = units.iter().find(|u| !self.units.contains_key(*u)) {
                errors.push(row.error("units", format!("unit {u} is not in this initiative's area")));
            }
            match (name, kind) {
                (Ok(name), Ok(kind)) => {
                    let key = party_key(name, &units);
                    if let Err(e) = seen.check(key.clone(), row.line) {
                        errors.push(e);
                        continue;
                    }
                    match registered.get(&key) {
                        Some(p) if p.kind == kind => report.unchanged.push(party_label(p)),
                        Some(p) => {
                            let party = Party { kind, ..(*p).clone() };
                            report.updated.push(party_label(&party));
                            events.push(InitiativeEvent::PartyChanged { party });
                        }
                        None => {
                            next += 1;
                            let party = Party {
                                id: next,
                                name: name.to_owned(),
                                kind,
                                units,
                            };
                            report.added.push(party_label(&party));
                            events.push(InitiativeEvent::PartyAdded { party });
                        }
                    }
                }
                (n, k) => errors.extend([n.err(), k.err()].into_iter().flatten()),
            }
        }
        if errors.is_empty() {
            Ok(PartiesImport { events, report })
        } else {
            Err(errors)
        }
    }

    /// The part of a units registration (from [`units_from_premises`]) that changes this
    /// initiative: units keyed by code, new ones added, registered ones with another building,
    /// floor or area updated, the others left alone.
    pub fn units_import(&self, registered: InitiativeEvent) -> UnitsImport {
        let InitiativeEvent::UnitsRegistered { units } = registered else {
            return UnitsImport {
                event: Some(registered),
                report: ImportReport::default(),
            };
        };
        let mut report = ImportReport::default();
        let mut changed = Vec::new();
        for u in units {
            match self.units.get(&u.code) {
                Some(old) if *old == u => report.unchanged.push(u.code),
                Some(_) => {
                    report.updated.push(u.code.clone());
                    changed.push(u);
                }
                None => {
                    report.added.push(u.code.clone());
                    changed.push(u);
                }
            }
        }
        UnitsImport {
            event: (!changed.is_empty()).then_some(InitiativeEvent::UnitsRegistered { units: changed }),
            report,
        }
    }
}

/// A recorded event: when, by whom, what.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub at: i64,
    pub actor: Option<PersonId>,
    pub event: InitiativeEvent,
}

/// A hand-off's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handoff {
    pub id: u32,
    pub from: Side,
    pub summary: String,
    pub opened_at: i64,
    pub limit_days: u32,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
}

/// An initiative: the fold of its entries.
#[derive(Debug, Clone, Default)]
pub struct Initiative {
    pub id: i64,
    pub name: String,
    pub problem: Option<ProblemType>,
    pub community: String,
    pub scope: String,
    pub units: BTreeMap<String, UnitRef>,
    pub parties: BTreeMap<u32, Party>,
    /// Members by person id.
    pub members: BTreeMap<i64, (String, Side)>,
    /// Latest position per party, and how many contacts each had.
    pub positions: BTreeMap<u32, Position>,
    pub contacts: BTreeMap<u32, u32>,
    pub surveys: BTreeMap<String, Survey>,
    pub handoffs: BTreeMap<u32, Handoff>,
    pub milestones: BTreeMap<Milestone, i64>,
    pub tasks: Vec<(i64, String, i64)>,
    /// The committee election's result, once held.
    pub election: Option<CommitteeResult>,
    /// Plan votes and their results, in order.
    pub votes: Vec<(String, MotionResult)>,
    pub entries: Vec<Entry>,
}

/// Day length in milliseconds.
const DAY_MS: i64 = 86_400_000;

impl Initiative {
    /// Replay an initiative from its entries, oldest first.
    pub fn replay(id: i64, entries: Vec<Entry>) -> Initiative {
        let mut i = Initiative {
            id,
            ..Initiative::default()
        };
        for e in entries {
            i.apply(e);
        }
        i
    }

    pub fn apply(&mut self, e: Entry) {
        use InitiativeEvent::*;
        match &e.event {
            Opened {
                name,
                problem,
                community,
                scope,
            } => {
                self.name = name.clone();
                self.problem = Some(*problem);
                self.community = community.clone();
                self.scope = scope.clone();
            }
            UnitsRegistered { units } => {
                for u in units {
                    self.units.insert(u.code.clone(), u.clone());
                }
            }
            PartyAdded { party } | PartyChanged { party } => {
                self.parties.insert(party.id, party.clone());
            }
            MemberJoined { person, name, side } => {
                self.members.insert(*person, (name.clone(), *side));
            }
            ContactLogged { party, position, .. } => {
                self.positions.insert(*party, *position);
                *self.contacts.entry(*party).or_default() += 1;
            }
            UnitSurveyed { survey } => {
                self.surveys.insert(survey.unit.clone(), survey.clone());
            }
            HandoffOpened {
                id,
                from,
                summary,
                limit_days,
            } => {
                self.handoffs.insert(
                    *id,
                    Handoff {
                        id: *id,
                        from: *from,
                        summary: summary.clone(),
                        opened_at: e.at,
                        limit_days: *limit_days,
                        answer: None,
                        answered_at: None,
                    },
                );
            }
            HandoffAnswered { id, answer, .. } => {
                if let Some(h) = self.handoffs.get_mut(id) {
                    h.answer = Some(answer.clone());
                    h.answered_at = Some(e.at);
                }
            }
            MilestoneReached { milestone } => {
                self.milestones.entry(*milestone).or_insert(e.at);
            }
            TaskDispatched {
                case_id,
                department,
                due,
            } => self.tasks.push((*case_id, department.clone(), *due)),
            CommitteeElected {
                seats,
                candidates,
                ballots,
            } => {
                if let Ok(result) = elect(*seats, candidates, ballots) {
                    for id in &result.elected {
                        if let Some((person, name)) = candidates.iter().find(|(p, _)| p.to_string() == *id) {
                            self.members.insert(*person, (name.clone(), Side::Front));
                        }
                    }
                    self.milestones.entry(Milestone::CommitteeElected).or_insert(e.at);
                    self.election = Some(result);
                }
            }
            PlanVoted { title, votes } => {
                let choices: Vec<Choice> = votes.iter().map(|(_, c)| *c).collect();
                if let Ok(result) = decision::tally::motion(&plan_rule(), self.parties.len() as u64, &choices) {
                    if result.passed {
                        self.milestones.entry(Milestone::PlanAdopted).or_insert(e.at);
                    }
                    self.votes.push((title.clone(), result));
                }
            }
            NoticePosted { .. }
            | HandoffWorked { .. }
            | NoteAdded { .. }
            | PlanPhase { .. }
            | StatementPublished { .. } => {}
        }
        self.entries.push(e);
    }

    /// Check that a member working on `side` may record `event` now: the stage that owns the work,
    /// the objects it names, and the order of steps. Refused steps say why.
    pub fn check(&self, side: Side, event: &InitiativeEvent) -> Result<(), DomainError> {
        use InitiativeEvent::*;
        let only = |wanted: Side, what: &str| {
            if side == wanted {
                Ok(())
            } else {
                Err(DomainError::invalid(
                    "side",
                    format!(
                        "{what} is {} work; you work on the {} stage",
                        wanted.as_str(),
                        side.as_str()
                    ),
                ))
            }
        };
        let handoff = |id: &u32| {
            self.handoffs
                .get(id)
                .ok_or_else(|| DomainError::invalid("handoff", format!("there is no hand-off {id} in this initiative")))
        };
        match event {
            Opened { .. } => Err(DomainError::invalid(
                "event",
                "an initiative is opened once, when it is created",
            )),
            UnitsRegistered { .. }
            | MemberJoined { .. }
            | NoteAdded { .. }
            | PlanPhase { .. }
            | TaskDispatched { .. } => only(Side::Back, "this step"),
            PartyChanged { party } if !self.parties.contains_key(&party.id) => Err(DomainError::invalid(
                "party",
                format!("there is no party {} in this initiative", party.id),
            )),
            PartyAdded { party } | PartyChanged { party } => {
                only(Side::Front, "registering parties").or_else(|_| only(Side::Back, "registering parties"))?;
                if let Some(u) = party.units.iter().find(|u| !self.units.contains_key(*u)) {
                    return Err(DomainError::invalid(
                        "units",
                        format!("unit {u} is not in this initiative's area"),
                    ));
                }
                Ok(())
            }
            ContactLogged { party, .. } => {
                only(Side::Front, "contacting parties")?;
                if !self.parties.contains_key(party) {
                    return Err(DomainError::invalid(
                        "party",
                        format!("there is no party {party} in this initiative"),
                    ));
                }
                Ok(())
            }
            UnitSurveyed { survey } => {
                only(Side::Front, "the unit-by-unit survey")?;
                if !self.units.contains_key(&survey.unit) {
                    return Err(DomainError::invalid(
                        "unit",
                        format!("unit {} is not in this initiative's area", survey.unit),
                    ));
                }
                Ok(())
            }
            NoticePosted { text } | HandoffOpened { summary: text, .. } if text.trim().is_empty() => {
                Err(DomainError::invalid("text", "write the text"))
            }
            NoticePosted { .. } => Ok(()),
            HandoffOpened { from, limit_days, .. } => {
                if *from != side {
                    return Err(DomainError::invalid(
                        "from",
                        "a hand-off is opened by the stage you work on",
                    ));
                }
                if !(1..=90).contains(limit_days) {
                    return Err(DomainError::invalid("limit_days", "give a limit of 1 to 90 days"));
                }
                Ok(())
            }
            HandoffWorked { id, .. } => {
                only(Side::Back, "internal work on a hand-off")?;
                handoff(id).map(|_| ())
            }
            HandoffAnswered { id, answer, .. } => {
                let h = handoff(id)?;
                if h.from == side {
                    return Err(DomainError::invalid(
                        "side",
                        "a hand-off is answered by the other stage",
                    ));
                }
                if h.answer.is_some() {
                    return Err(DomainError::invalid(
                        "handoff",
                        format!("hand-off {id} is answered already"),
                    ));
                }
                if answer.trim().is_empty() {
                    return Err(DomainError::invalid(
                        "answer",
                        "write the answer the other stage will see",
                    ));
                }
                Ok(())
            }
            MilestoneReached { milestone } => match self.milestones.contains_key(milestone) {
                true => Err(DomainError::invalid(
                    "milestone",
                    format!("'{}' was reached already", milestone.as_str()),
                )),
                false => Ok(()),
            },
            CommitteeElected {
                seats,
                candidates,
                ballots,
            } => {
                only(Side::Back, "entering the committee election")?;
                if self.election.is_some() {
                    return Err(DomainError::invalid("election", "the committee was elected already"));
                }
                if self.parties.is_empty() {
                    return Err(DomainError::invalid(
                        "ballots",
                        "register the parties first: the electorate comes from the units register",
                    ));
                }
                if ballots.len() > self.parties.len() {
                    return Err(DomainError::invalid(
                        "ballots",
                        format!(
                            "{} ballots for an electorate of {} parties: one ballot each",
                            ballots.len(),
                            self.parties.len()
                        ),
                    ));
                }
                if let Some((p, _)) = candidates.iter().find(|(p, _)| self.side_of(*p) == Some(Side::Back)) {
                    return Err(DomainError::invalid(
                        "candidates",
                        format!("person {p} works on the back stage; the stages have different members"),
                    ));
                }
                elect(*seats, candidates, ballots).map(|_| ())
            }
            PlanVoted { title, votes } => {
                only(Side::Front, "a consultation vote")?;
                if title.trim().is_empty() || votes.is_empty() {
                    return Err(DomainError::invalid(
                        "votes",
                        "give the plan's title and the parties' votes",
                    ));
                }
                let mut seen = BTreeSet::new();
                for (party, _) in votes {
                    if !self.parties.contains_key(party) {
                        return Err(DomainError::invalid(
                            "votes",
                            format!("there is no party {party} in this initiative"),
                        ));
                    }
                    if !seen.insert(*party) {
                        return Err(DomainError::invalid(
                            "votes",
                            format!("party {party} voted twice; one vote each"),
                        ));
                    }
                }
                Ok(())
            }
            StatementPublished {
                from_note, stage, text, ..
            } => {
                only(Side::Back, "publishing a statement")?;
                if !matches!(stage, Stage::Joint | Stage::Public) {
                    return Err(DomainError::invalid(
                        "stage",
                        "a statement is published as joint or public",
                    ));
                }
                if text.trim().is_empty() {
                    return Err(DomainError::invalid("text", "write the statement to publish"));
                }
                match from_note {
                    Some(n) if !self.has_note(*n) => Err(DomainError::invalid(
                        "from_note",
                        format!("there is no internal note {n}"),
                    )),
                    _ => Ok(()),
                }
            }
        }
    }

    /// The side a person works on in this initiative, if a member.
    pub fn side_of(&self, person: i64) -> Option<Side> {
        self.members.get(&person).map(|(_, s)| *s)
    }

    /// The next free id for hand-offs, notes, plan phases and statements (one sequence).
    pub fn next_id(&self) -> u32 {
        use InitiativeEvent::*;
        self.entries
            .iter()
            .filter_map(|e| match &e.event {
                HandoffOpened { id, .. }
                | NoteAdded { id, .. }
                | PlanPhase { id, .. }
                | StatementPublished { id, .. } => Some(*id),
                _ => None,
            })
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Whether a back-stage note with this id exists.
    pub fn has_note(&self, note: u32) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(&e.event, InitiativeEvent::NoteAdded { id, .. } if *id == note))
    }

    /// The joint timeline as `seat` may see it: each entry with its stage and a summary made of
    /// what that seat may read.
    pub fn timeline(&self, seat: Seat) -> Vec<TimelineEntry> {
        let pass = seat.back_stage(self.id);
        let mut votes = self.votes.iter();
        self.entries
            .iter()
            .filter_map(|e| {
                // Results are summarised from the fold (the decision module's tallies).
                let summary = match &e.event {
                    InitiativeEvent::CommitteeElected { candidates, .. } => {
                        let elected: Vec<&str> = self
                            .election
                            .iter()
                            .flat_map(|r| &r.elected)
                            .filter_map(|id| candidates.iter().find(|(p, _)| p.to_string() == *id))
                            .map(|(_, n)| n.as_str())
                            .collect();
                        format!("当选 elected: {}", elected.join("、"))
                    }
                    InitiativeEvent::PlanVoted { title, .. } => match votes.next() {
                        Some((_, r)) => format!("{title}：{}", r.explanation.zh),
                        None => title.clone(),
                    },
                    other => other.summary(pass),
                };
                seat.sees(self.id, e.event.stage()).then(|| TimelineEntry {
                    at: e.at,
                    stage: e.event.stage(),
                    kind: e.event.kind().to_owned(),
                    summary,
                })
            })
            .collect()
    }

    /// Where the initiative stands, as `seat` may see it. Public seats get aggregates only.
    /// `closed` lists the task cases the closed loop has closed (a task is late when its case is
    /// still open after its deadline).
    pub fn progress(&self, seat: Seat, now: i64, closed: &BTreeSet<i64>) -> Progress {
        let surveyed: Vec<&UnitRef> = self
            .units
            .values()
            .filter(|u| self.surveys.contains_key(&u.code))
            .collect();
        let reached = self.parties.keys().filter(|p| self.contacts.contains_key(p)).count();
        let mut buildings: BTreeMap<&str, BuildingConsensus> = BTreeMap::new();
        for u in self.units.values() {
            let b = buildings.entry(&u.building).or_insert_with(|| BuildingConsensus {
                building: u.building.clone(),
                ..BuildingConsensus::default()
            });
            b.units += 1;
            b.area = b.area + u.area;
        }
        for party in self.parties.values() {
            let supports = self.positions.get(&party.id) == Some(&Position::Support);
            let mut counted = BTreeSet::new();
            for code in &party.units {
                let Some(u) = self.units.get(code) else { continue };
                let b = buildings
                    .get_mut(u.building.as_str())
                    .expect("every unit's building is listed");
                if counted.insert(u.building.as_str()) {
                    b.parties += 1;
                    if supports {
                        b.supporting_parties += 1;
                    }
                }
                if supports {
                    b.supporting_area = b.supporting_area + u.area;
                }
            }
        }
        let rule = consensus_rule();
        for b in buildings.values_mut() {
            let holders: Vec<decision::Holder> = self
                .parties
                .values()
                .filter_map(|party| {
                    let area: Area = party
                        .units
                        .iter()
                        .filter_map(|c| self.units.get(c))
                        .filter(|u| u.building == b.building)
                        .map(|u| u.area)
                        .sum();
                    (area > Area::ZERO).then(|| {
                        let position = match self.positions.get(&party.id) {
                            Some(Position::Support) => decision::Position::Agree,
                            Some(Position::Oppose) => decision::Position::Oppose,
                            Some(Position::Conditional) => decision::Position::Abstain,
                            None => decision::Position::NotYet,
                        };
                        decision::Holder::new(party.id.to_string(), area.into()).with_position(position)
                    })
                })
                .collect();
            if holders.is_empty() {
                continue;
            }
            if let Ok(electorate) = decision::Electorate::new(holders) {
                let standing = decision::standing(&rule, &electorate);
                b.consensus = standing.met;
                b.still_needed = standing
                    .smallest_set
                    .as_ref()
                    .filter(|_| !standing.met)
                    .map(|s| s.holders.len());
                b.explanation = Some(standing.explanation);
            }
        }
        let sees_joint = seat.sees(self.id, Stage::Joint);
        let handoffs: Vec<HandoffStatus> = if sees_joint {
            self.handoffs
                .values()
                .filter(|h| h.answer.is_none())
                .map(|h| {
                    let age_days = (now - h.opened_at).max(0) / DAY_MS;
                    HandoffStatus {
                        id: h.id,
                        summary: h.summary.clone(),
                        age_days,
                        overdue: age_days > i64::from(h.limit_days),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Progress {
            units: self.units.len(),
            surveyed_units: surveyed.len(),
            area: self.units.values().map(|u| u.area).sum(),
            surveyed_area: surveyed.iter().map(|u| u.area).sum(),
            parties: self.parties.len(),
            parties_reached: reached,
            hazards: self.surveys.values().map(|s| s.hazards.len()).sum(),
            buildings: buildings.into_values().collect(),
            open_handoffs: handoffs,
            milestones: Milestone::ALL
                .iter()
                .map(|m| (*m, self.milestones.get(m).copied()))
                .collect(),
            late_tasks: if seat.back_stage(self.id).is_some() {
                Some(
                    self.tasks
                        .iter()
                        .filter(|(case, _, due)| *due < now && !closed.contains(case))
                        .count(),
                )
            } else {
                None
            },
        }
    }
}

impl InitiativeEvent {
    /// The event's kind, as stored in the log.
    pub fn kind(&self) -> &'static str {
        use InitiativeEvent::*;
        match self {
            Opened { .. } => "opened",
            UnitsRegistered { .. } => "units_registered",
            PartyAdded { .. } => "party_added",
            PartyChanged { .. } => "party_changed",
            MemberJoined { .. } => "member_joined",
            ContactLogged { .. } => "contact_logged",
            UnitSurveyed { .. } => "unit_surveyed",
            NoticePosted { .. } => "notice_posted",
            HandoffOpened { .. } => "handoff_opened",
            HandoffWorked { .. } => "handoff_worked",
            HandoffAnswered { .. } => "handoff_answered",
            MilestoneReached { .. } => "milestone_reached",
            NoteAdded { .. } => "note_added",
            PlanPhase { .. } => "plan_phase",
            TaskDispatched { .. } => "task_dispatched",
            StatementPublished { .. } => "statement_published",
            CommitteeElected { .. } => "committee_elected",
            PlanVoted { .. } => "plan_voted",
        }
    }
}

/// One line of the timeline for a seat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub stage: Stage,
    pub kind: String,
    pub summary: String,
}

/// Consent in one building: by head count (parties) and by floor area, and the standing of the
/// consensus rule ([`consensus_rule`]) from the decision module.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BuildingConsensus {
    pub building: String,
    pub units: usize,
    pub area: Area,
    pub parties: usize,
    pub supporting_parties: usize,
    pub supporting_area: Area,
    /// Whether the consensus rule is met in this building.
    pub consensus: bool,
    /// The fewest parties still to win over, when it is not met (and can be).
    pub still_needed: Option<usize>,
    /// The decision module's explanation (zh, en).
    pub explanation: Option<crate::decision::Sentence>,
}

/// The rule of a consultation vote on a plan: a quorum of half the parties, then more than half
/// of the yes and no votes.
pub fn plan_rule() -> MotionRule {
    MotionRule::simple(1, 2)
}

/// The committee election by approval for `seats` seats (a candidate needs more than half of
/// the ballots), through the decision module.
fn elect(seats: usize, candidates: &[(i64, String)], ballots: &[Vec<i64>]) -> Result<CommitteeResult, DomainError> {
    let rule = decision::tally::CommitteeRule {
        seats,
        min_cmp: decision::Comparison::MoreThan,
        min_num: 1,
        min_den: 2,
    };
    let ids: Vec<String> = candidates.iter().map(|(p, _)| p.to_string()).collect();
    let ballots: Vec<Vec<String>> = ballots
        .iter()
        .map(|b| b.iter().map(|p| p.to_string()).collect())
        .collect();
    decision::tally::committee(&rule, &ids, &ballots)
}

/// Consensus in a building of a wicked-problem initiative: more than half of the parties and
/// more than half of the floor area support the rectification (conditional supporters take part
/// without agreeing; parties not yet reached do not take part).
pub fn consensus_rule() -> RuleSet {
    use crate::decision::{Base, Comparison, Condition, Measure, Phase};
    RuleSet {
        id: "wicked-building-consensus".into(),
        name_zh: "楼栋共识：过半数相关方且过半数面积支持".into(),
        name_en: "Building consensus: more than half of the parties and of the area support".into(),
        conditions: [Measure::Heads, Measure::Area]
            .into_iter()
            .map(|m| Condition::new(Phase::Approval, m, Comparison::MoreThan, 1, 2, Base::All))
            .collect(),
    }
}

/// An open hand-off and its age.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffStatus {
    pub id: u32,
    pub summary: String,
    pub age_days: i64,
    /// Waiting beyond its limit: a warning.
    pub overdue: bool,
}

/// Where the initiative is stuck.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub units: usize,
    pub surveyed_units: usize,
    pub area: Area,
    pub surveyed_area: Area,
    pub parties: usize,
    pub parties_reached: usize,
    pub hazards: usize,
    pub buildings: Vec<BuildingConsensus>,
    /// Joint and back seats only.
    pub open_handoffs: Vec<HandoffStatus>,
    pub milestones: Vec<(Milestone, Option<i64>)>,
    /// Back seats only: department tasks past their deadline.
    pub late_tasks: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, building: &str, area: i64) -> UnitRef {
        UnitRef {
            code: code.into(),
            building: building.into(),
            floor: 1,
            area: Area::from_hundredths(area * 100),
        }
    }

    fn at(day: i64, event: InitiativeEvent) -> Entry {
        Entry {
            at: day * DAY_MS,
            actor: Some(PersonId(1)),
            event,
        }
    }

    fn sample() -> Initiative {
        use InitiativeEvent::*;
        let internal = |s: &str| Internal::new(7, s.to_owned());
        Initiative::replay(
            7,
            vec![
                at(
                    0,
                    Opened {
                        name: "产业园类住宅整治".into(),
                        problem: ProblemType::QuasiResidential,
                        community: "510104017001".into(),
                        scope: "A、B 两栋".into(),
                    },
                ),
                at(
                    0,
                    UnitsRegistered {
                        units: vec![unit("A-1", "A", 50), unit("A-2", "A", 30), unit("B-1", "B", 100)],
                    },
                ),
                at(
                    0,
                    PartyAdded {
                        party: Party {
                            id: 1,
                            name: "甲".into(),
                            kind: PartyKind::Owner,
                            units: vec!["A-1".into(), "B-1".into()],
                        },
                    },
                ),
                at(
                    0,
                    PartyAdded {
                        party: Party {
                            id: 2,
                            name: "乙".into(),
                            kind: PartyKind::Owner,
                            units: vec!["A-2".into()],
                        },
                    },
                ),
                at(
                    1,
                    ContactLogged {
                        party: 1,
                        by: 3,
                        position: Position::Oppose,
                        concerns: "补偿".into(),
                    },
                ),
                at(
                    2,
                    ContactLogged {
                        party: 1,
                        by: 3,
                        position: Position::Support,
                        concerns: "".into(),
                    },
                ),
                at(
                    2,
                    UnitSurveyed {
                        survey: Survey {
                            unit: "A-1".into(),
                            actual_use: UnitUse::QuasiResidential,
                            occupants: 4,
                            owner: "甲".into(),
                            hazards: vec![Hazard::Partitions, Hazard::Gas],
                            note: "".into(),
                        },
                    },
                ),
                at(
                    3,
                    HandoffOpened {
                        id: 1,
                        from: Side::Front,
                        summary: "变更用途的法律依据".into(),
                        limit_days: 5,
                    },
                ),
                at(
                    4,
                    HandoffWorked {
                        id: 1,
                        payload: internal("CANARY-payload"),
                    },
                ),
                at(
                    3,
                    HandoffOpened {
                        id: 2,
                        from: Side::Front,
                        summary: "3号楼消防检查".into(),
                        limit_days: 3,
                    },
                ),
                at(
                    5,
                    HandoffAnswered {
                        id: 1,
                        answer: "依据《民法典》第279条".into(),
                        rationale: internal("CANARY-rationale"),
                    },
                ),
                at(
                    6,
                    NoteAdded {
                        id: 3,
                        text: internal("CANARY-note"),
                    },
                ),
                at(
                    6,
                    TaskDispatched {
                        case_id: 99,
                        department: "消防救援大队".into(),
                        due: 7 * DAY_MS,
                    },
                ),
                at(
                    7,
                    StatementPublished {
                        id: 4,
                        from_note: Some(3),
                        stage: Stage::Joint,
                        text: "政府将提供过渡安置".into(),
                    },
                ),
                at(
                    8,
                    MilestoneReached {
                        milestone: Milestone::SurveyComplete,
                    },
                ),
            ],
        )
    }

    #[test]
    fn progress_counts_by_head_and_by_area() {
        let i = sample();
        let p = i.progress(Seat::Back(7), 10 * DAY_MS, &BTreeSet::new());
        assert_eq!((p.units, p.surveyed_units), (3, 1));
        assert_eq!(
            (p.area.to_string(), p.surveyed_area.to_string()),
            ("180.00".into(), "50.00".into())
        );
        assert_eq!((p.parties, p.parties_reached), (2, 1));
        assert_eq!(p.hazards, 2);
        // Building A: parties 甲 (supports, 50 m²) and 乙 (not reached, 30 m²); B: 甲 (100 m²).
        let a = &p.buildings[0];
        assert_eq!((a.parties, a.supporting_parties), (2, 1));
        assert_eq!(
            (a.area.to_string(), a.supporting_area.to_string()),
            ("80.00".into(), "50.00".into())
        );
        let b = &p.buildings[1];
        assert_eq!(
            (b.parties, b.supporting_parties, b.supporting_area.to_string()),
            (1, 1, "100.00".into())
        );
        // Hand-off 2 opened on day 3 with a 3-day limit: 7 days old on day 10, overdue.
        assert_eq!(p.open_handoffs.len(), 1);
        assert_eq!(
            (
                p.open_handoffs[0].id,
                p.open_handoffs[0].age_days,
                p.open_handoffs[0].overdue
            ),
            (2, 7, true)
        );
        assert_eq!(p.late_tasks, Some(1));
        let closed = BTreeSet::from([99]);
        assert_eq!(
            i.progress(Seat::Back(7), 10 * DAY_MS, &closed).late_tasks,
            Some(0),
            "a closed task is not late"
        );
        assert_eq!(p.milestones[1], (Milestone::SurveyComplete, Some(8 * DAY_MS)));
        assert_eq!(i.next_id(), 5);
    }

    #[test]
    fn each_seat_sees_its_stages_and_never_internal_content() {
        let i = sample();
        let text = |seat: Seat| {
            serde_json::to_string(&(i.timeline(seat), i.progress(seat, 10 * DAY_MS, &BTreeSet::new()))).unwrap()
        };
        for seat in [Seat::Public, Seat::Front(7), Seat::Back(8), Seat::Front(8)] {
            let shown = text(seat);
            assert!(!shown.contains("CANARY"), "{seat:?}: {shown}");
            assert!(
                !shown.contains("消防救援大队"),
                "{seat:?} sees a back-stage task: {shown}"
            );
        }
        let front = i.timeline(Seat::Front(7));
        assert!(front.iter().all(|e| e.stage != Stage::Back));
        assert!(
            front.iter().any(|e| e.summary == "依据《民法典》第279条"),
            "the front sees the answer"
        );
        assert!(
            front.iter().any(|e| e.summary == "政府将提供过渡安置"),
            "and the published statement"
        );
        assert_eq!(
            i.progress(Seat::Front(7), 10 * DAY_MS, &BTreeSet::new()).late_tasks,
            None
        );
        let public = i.timeline(Seat::Public);
        assert_eq!(
            public.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["opened", "milestone_reached"]
        );
        assert!(i
            .progress(Seat::Public, 10 * DAY_MS, &BTreeSet::new())
            .open_handoffs
            .is_empty());
        assert!(i.timeline(Seat::Front(8)).iter().all(|e| e.stage == Stage::Public));
        let back = text(Seat::Back(7));
        for canary in ["CANARY-payload", "CANARY-rationale", "CANARY-note"] {
            assert!(back.contains(canary), "the back stage reads its own notes: {canary}");
        }
    }

    #[test]
    fn steps_are_checked_against_the_stage_that_owns_them() {
        use InitiativeEvent::*;
        let i = sample();
        let note = NoteAdded {
            id: 9,
            text: Internal::new(7, "x".into()),
        };
        assert!(i.check(Side::Back, &note).is_ok());
        assert!(i
            .check(Side::Front, &note)
            .unwrap_err()
            .to_string()
            .contains("back work"));
        let contact = |party| ContactLogged {
            party,
            by: 1,
            position: Position::Support,
            concerns: "".into(),
        };
        assert!(i.check(Side::Front, &contact(2)).is_ok());
        assert!(
            i.check(Side::Back, &contact(2)).is_err(),
            "back-stage staff read the front stage, they do not work it"
        );
        assert!(i
            .check(Side::Front, &contact(5))
            .unwrap_err()
            .to_string()
            .contains("no party 5"));
        let answer = |id| HandoffAnswered {
            id,
            answer: "好".into(),
            rationale: Internal::new(7, String::new()),
        };
        assert!(i.check(Side::Back, &answer(2)).is_ok());
        assert!(i
            .check(Side::Front, &answer(2))
            .unwrap_err()
            .to_string()
            .contains("other stage"));
        assert!(i
            .check(Side::Back, &answer(1))
            .unwrap_err()
            .to_string()
            .contains("answered already"));
        let publish = |from_note| StatementPublished {
            id: 9,
            from_note,
            stage: Stage::Public,
            text: "公告".into(),
        };
        assert!(i.check(Side::Back, &publish(Some(3))).is_ok());
        assert!(i
            .check(Side::Back, &publish(Some(4)))
            .unwrap_err()
            .to_string()
            .contains("no internal note 4"));
        assert!(i.check(Side::Front, &publish(None)).is_err());
        let reached = MilestoneReached {
            milestone: Milestone::SurveyComplete,
        };
        assert!(i
            .check(Side::Front, &reached)
            .unwrap_err()
            .to_string()
            .contains("reached already"));
    }

    #[test]
    fn the_committee_is_elected_and_plans_voted_through_the_decision_module() {
        use InitiativeEvent::*;
        let mut i = sample();
        let election = CommitteeElected {
            seats: 1,
            candidates: vec![(11, "张".into()), (12, "李".into())],
            ballots: vec![vec![11], vec![11]],
        };
        assert!(
            i.check(Side::Front, &election).is_err(),
            "the back stage enters the election"
        );
        let too_many = CommitteeElected {
            seats: 1,
            candidates: vec![(11, "张".into())],
            ballots: vec![vec![11]; 3],
        };
        assert!(i
            .check(Side::Back, &too_many)
            .unwrap_err()
            .to_string()
            .contains("electorate of 2 parties"));
        i.check(Side::Back, &election).unwrap();
        i.apply(at(9, election));
        assert_eq!(i.side_of(11), Some(Side::Front), "the elected join the front stage");
        assert_eq!(i.side_of(12), None);
        assert_eq!(i.milestones.get(&Milestone::CommitteeElected), Some(&(9 * DAY_MS)));
        // Plan votes: 2 parties, a quorum of half; 1 yes 1 no does not pass, 2 yes passes.
        let vote = |votes| PlanVoted {
            title: "方案一".into(),
            votes,
        };
        assert!(i.check(Side::Back, &vote(vec![(1, Choice::Yes)])).is_err());
        assert!(i
            .check(Side::Front, &vote(vec![(1, Choice::Yes), (1, Choice::No)]))
            .unwrap_err()
            .to_string()
            .contains("twice"));
        i.apply(at(10, vote(vec![(1, Choice::Yes), (2, Choice::No)])));
        assert!(!i.votes[0].1.passed);
        assert!(!i.milestones.contains_key(&Milestone::PlanAdopted));
        i.apply(at(11, vote(vec![(1, Choice::Yes), (2, Choice::Yes)])));
        assert!(i.votes[1].1.passed);
        assert_eq!(i.milestones.get(&Milestone::PlanAdopted), Some(&(11 * DAY_MS)));
        let public = i.timeline(Seat::Public);
        assert!(
            public.iter().any(|e| e.summary.contains("张")),
            "the election result is public"
        );
        assert!(
            public.iter().all(|e| e.kind != "plan_voted"),
            "votes by party are front-stage records"
        );
    }

    #[test]
    fn events_round_trip_through_the_log_format() {
        for e in sample().entries {
            let json = serde_json::to_value(&e.event).unwrap();
            let back: InitiativeEvent = serde_json::from_value(json).unwrap();
            assert_eq!(back, e.event);
        }
    }
}
