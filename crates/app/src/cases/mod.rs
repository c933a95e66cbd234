//! The case closed loop over the store: the rules come from `gongzhi_core::case`, this module
//! only gathers what a decision needs (catalogue, calendar, the acting role and unit), applies
//! the decision through the store, and answers who may see what. Shared by the JSON API, the
//! pages, the CLI and the sweep.

use gongzhi_core::access::{Grant, Permission, Principal, Scope};
use gongzhi_core::calendar::WorkCalendar;
use gongzhi_core::case::{
    self, Action, ActionKind, Case, CaseEvent, CaseSource, DecisionContext, Hop, Intake, Limit, PublicCase,
    TransitionError,
};
use gongzhi_core::catalogue::Catalogue;
use gongzhi_core::ids::CaseId;
use gongzhi_core::open311;
use gongzhi_core::org::{OrgKind, Role};
use gongzhi_core::spatial::Crs;
use gongzhi_core::territory::Level;
use gongzhi_core::text;
use gongzhi_store::prelude::*;
use gongzhi_store::{Change, StoreError};
use serde::Serialize;

use crate::{AppError, AppResult, AppState, ErrorKind};

mod dashboard;
mod view;
pub use dashboard::{area_counters, breakdown, figures, name_of, Figures, Period};
pub use gongzhi_store::{CaseQuery, CaseRow, CaseVisibility, NewCase};
pub use view::*;

/// The text of a city's editable document (`catalogue` or `calendar`), else the shipped default.
pub async fn document_text(s: &AppState, city: CityCode, name: &str) -> AppResult<String> {
    Ok(match s.store.document(city, name).await? {
        Some(d) => d.body,
        None if name == "catalogue" => Catalogue::default_cn().to_csv(),
        None => gongzhi_core::calendar::CHINA_HOLIDAYS_CSV.to_owned(),
    })
}

/// The catalogue of a city: the edited one, else the shipped default (from the city's context).
pub async fn catalogue(s: &AppState, city: CityCode) -> AppResult<Catalogue> {
    Ok(s.context(city).await?.catalogue.clone())
}

/// The working calendar of a city: the edited one, else the shipped default.
pub async fn calendar(s: &AppState, city: CityCode) -> AppResult<WorkCalendar> {
    Ok(s.context(city).await?.calendar.clone())
}

/// The documents a city may edit: the catalogue (派单目录) and the working calendar.
pub const DOCUMENTS: [&str; 2] = ["catalogue", "calendar"];

/// Replace a city's catalogue or calendar (administrators of the whole city). The text is parsed
/// first, so invalid CSV is refused with its line and nothing is stored; the city's context is
/// dropped so that the next case step reads the new one. Returns the new version.
pub async fn save_document(s: &AppState, p: &Principal, name: &str, body: &str) -> AppResult<i64> {
    match name {
        "catalogue" => drop(Catalogue::parse_csv(body)?),
        "calendar" => drop(WorkCalendar::parse_csv(body)?),
        other => return Err(AppError::not_found(format!("document {other}"))),
    }
    if !p.may(Permission::ManageCatalogue, p.city.as_str()) {
        return Err(AppError::forbidden(format!(
            "changing the {name} needs an administrator of the whole city"
        )));
    }
    let version = s
        .store
        .put_document(p.city, name, body, None, Some(p.person_id))
        .await?;
    s.contexts.invalidate(p.city);
    Ok(version)
}

fn covers(g: &Grant, row: &CaseRow) -> bool {
    match &g.scope {
        Scope::Division(_) | Scope::Grids(_) => {
            g.scope.covers(&row.area) || row.case.grid.as_deref().is_some_and(|grid| g.scope.covers(grid))
        }
        Scope::Organisation(o) => {
            row.case.unit == Some(*o)
                || row.case.whistle.as_ref().is_some_and(|w| w.co_units.contains(o))
                || row.case.route.iter().any(|h| h.unit == *o)
        }
    }
}

/// Whether the principal may see the case: staff of its area, its units, or its reporter.
pub fn may_view(p: &Principal, row: &CaseRow) -> bool {
    row.reporter == Some(p.person_id.0)
        || p.grants.iter().any(|g| {
            (gongzhi_core::access::role_has(g.role, Permission::ViewCases) || g.role == Role::DepartmentHandler)
                && covers(g, row)
        })
}

/// Whether the principal may see the reporter's contact: staff and the case's units, not the public.
pub fn may_see_contact(p: &Principal, row: &CaseRow) -> bool {
    may_view(p, row) && p.grants.iter().any(|g| g.role != Role::Resident && covers(g, row))
}

/// Whether the principal may read the indicators of `key` along `dim` (area, unit, category,
/// person); without a key, the whole city's. Staff read their jurisdiction's areas, any unit's
/// figures (and a unit its own), a person their own figures (and those who oversee people).
pub fn may_read_indicators(p: &Principal, dim: &str, key: Option<&str>) -> bool {
    let Some(key) = key else {
        return p.may(Permission::ViewCases, p.city.as_str());
    };
    match dim {
        "area" => p.may(Permission::ViewCases, key),
        "unit" => p.may_somewhere(Permission::ViewCases) || p.units().iter().any(|u| u.to_string() == key),
        "person" => {
            p.person_id.to_string() == key
                || p.may(Permission::ViewPeople, p.city.as_str())
                || p.may(Permission::ViewCases, p.city.as_str())
        }
        _ => p.may_somewhere(Permission::ViewCases),
    }
}

/// The indicators the principal opens first, as (dimension, key): staff their jurisdiction's
/// area (`None` for the whole city), a department its own unit; `None` for residents.
pub fn home_indicators(p: &Principal) -> Option<(&'static str, Option<String>)> {
    if p.may_somewhere(Permission::ViewCases) {
        let scope = p.scopes_for(Permission::ViewCases).find_map(|s| match s {
            Scope::Division(d) => Some(d.to_string()),
            Scope::Grids(g) => g.first().cloned(),
            _ => None,
        });
        return Some(("area", scope.filter(|key| key != p.city.as_str())));
    }
    p.units().first().map(|unit| ("unit", Some(unit.to_string())))
}

/// Refuse unless [`may_read_indicators`].
pub fn require_indicators(p: &Principal, dim: &str, key: Option<&str>) -> AppResult<()> {
    if may_read_indicators(p, dim, key) {
        Ok(())
    } else {
        Err(AppError::forbidden("these indicators are outside your jurisdiction"))
    }
}

/// The storage filter of what the principal may see.
pub fn visibility(p: &Principal) -> CaseVisibility {
    let mut v = CaseVisibility::default();
    for g in &p.grants {
        let staff = gongzhi_core::access::role_has(g.role, Permission::ViewCases);
        match &g.scope {
            Scope::Division(d) if staff => v.areas.push(d.to_string()),
            Scope::Grids(gs) if staff => v.grids.extend(gs.iter().cloned()),
            Scope::Organisation(o) if g.role == Role::DepartmentHandler => v.units.push(*o),
            _ => {}
        }
    }
    v.all = v.areas.iter().any(|a| a.as_str() == p.city.as_str());
    v.reporter = Some(p.person_id.0);
    v
}

/// The role in which the principal takes `kind` on the case: a grant whose role the transition
/// table allows and whose scope covers the case. Errors say which is missing.
pub fn acting_grant(p: &Principal, row: &CaseRow, kind: ActionKind) -> AppResult<Grant> {
    let roles: &[Role] = match case::transition(row.case.state, kind) {
        Some(t) => t.roles,
        None => &[],
    };
    if let Some(g) = p.grants.iter().find(|g| roles.contains(&g.role) && covers(g, row)) {
        return Ok(g.clone());
    }
    if roles.is_empty() {
        // The step does not exist from this state: let the core say so (409), in any role.
        return p
            .grants
            .first()
            .cloned()
            .ok_or_else(|| AppError::forbidden("you hold no role"));
    }
    if p.grants.iter().any(|g| roles.contains(&g.role)) {
        return Err(AppError::forbidden(format!(
            "case {} is outside your jurisdiction",
            row.case.id
        )));
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(AppError::forbidden(format!(
        "only {} may {} a case that is {}",
        names.join(", "),
        kind,
        row.case.state
    )))
}

/// The steps the principal may take on the case now, in any of their roles (each checked as
/// [`acting_grant`] would check it).
pub fn allowed_actions(p: &Principal, row: &CaseRow) -> Vec<ActionKind> {
    let mut allowed: Vec<ActionKind> = Vec::new();
    for g in &p.grants {
        for a in row.case.allowed_actions(g.role) {
            if !allowed.contains(&a) && acting_grant(p, row, a).is_ok() {
                allowed.push(a);
            }
        }
    }
    allowed
}

/// Whether the principal may report cases (a role that collects: residents, grid workers,
/// acceptors …).
pub fn may_report(p: &Principal) -> bool {
    p.grants.iter().any(|g| case::COLLECTORS.contains(&g.role))
}

/// Whether the principal reports as staff (source, contact of the caller, registering at once)
/// rather than as a resident reporting for themselves.
pub fn reports_as_staff(p: &Principal) -> bool {
    !p.has_role(Role::Resident)
}

/// A refused step as an error: a conflict with the state and the allowed steps, forbidden or invalid.
pub fn transition_error(e: TransitionError) -> AppError {
    let (kind, code) = match &e {
        TransitionError::NotAllowed { .. } | TransitionError::Refused { .. } => (ErrorKind::Conflict, "illegal_step"),
        TransitionError::Forbidden { .. } => (ErrorKind::Forbidden, "forbidden"),
        TransitionError::Invalid(_) => (ErrorKind::Invalid, "invalid"),
    };
    let details = match &e {
        TransitionError::NotAllowed { state, allowed, .. } | TransitionError::Refused { state, allowed, .. } => {
            Some(serde_json::json!({ "state": state, "allowed": allowed }))
        }
        _ => None,
    };
    let err = AppError::new(kind, code, e.to_string());
    match details {
        Some(d) => err.with_details(d),
        None => err,
    }
}

/// A case's time limit from its filing condition; 5 working days for a condition the catalogue
/// no longer has (it was edited after the case came in).
pub fn limit_of(cat: &Catalogue, c: &Case) -> Limit {
    cat.condition(&c.condition)
        .map(|(_, cond)| Limit::from(cond))
        .unwrap_or(Limit::new(gongzhi_core::calendar::TimerKind::WorkDays, 5))
}

/// The unit the dispatch catalogue proposes for a case: (unit id, name, level).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub unit: i64,
    pub unit_name: String,
    /// district, street or community
    #[schema(value_type = String)]
    pub level: Level,
    /// The catalogue entry that chose it, e.g. `区县/城市管理和综合执法局`.
    pub rule: String,
}

pub async fn propose(s: &AppState, city: CityCode, row: &CaseRow) -> AppResult<Option<Proposal>> {
    let context = s.context(city).await?;
    let cat = &context.catalogue;
    let Some((_, cond)) = cat.condition(&row.case.condition) else {
        return Ok(None);
    };
    let target = &cond.dispatch;
    let (kind, len) = match target.level {
        Level::District => (OrgKind::FunctionalDepartment, 6),
        Level::Street => (OrgKind::StreetOffice, 9),
        _ => (OrgKind::CommunityCommittee, 12),
    };
    if row.area.len() < len {
        return Ok(None);
    }
    let orgs = s.store.organisations_serving(city, kind, &row.area[..len]).await?;
    let kind = if target.level == Level::District && target.department.is_none() {
        OrgKind::StreetOffice
    } else {
        kind
    };
    Ok(orgs
        .into_iter()
        .find(|o| o.kind == kind && target.matches(target.level, &o.name))
        .map(|o| Proposal {
            unit: o.id,
            unit_name: o.name,
            level: target.level,
            rule: target.to_string(),
        }))
}

/// The units a dispatch to a unit at `level` must pass in the city's configured hierarchy
/// (逐级转派): for each forwarding level, the district's command centre or the street office
/// serving the case's area. A level without such a unit is not a hop. Flat: none.
pub async fn route_for(s: &AppState, city: CityCode, area: &str, level: Level) -> AppResult<Vec<Hop>> {
    let hierarchy = s.store.hierarchy(city).await?;
    let mut via = Vec::new();
    for l in gongzhi_core::flat::forwarding_levels(&hierarchy, level) {
        let (kind, len) = match l {
            Level::District => (OrgKind::CommandCentre, 6),
            Level::Street => (OrgKind::StreetOffice, 9),
            _ => continue,
        };
        if area.len() < len {
            continue;
        }
        if let Some(o) = s
            .store
            .organisations_serving(city, kind, &area[..len])
            .await?
            .into_iter()
            .next()
        {
            via.push(Hop {
                unit: o.id,
                unit_name: o.name,
                level: l,
            });
        }
    }
    Ok(via)
}

/// The level an organisation acts at, from its kind.
pub fn org_level(kind: OrgKind) -> Level {
    match kind {
        OrgKind::FunctionalDepartment | OrgKind::CommandCentre => Level::District,
        OrgKind::StreetOffice => Level::Street,
        _ => Level::Community,
    }
}

/// A report as received at the edge.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Filing condition code (立案条件), e.g. `C0101-01`; see GET /api/catalogue.
    pub condition: String,
    /// Category code (小类); optional, derived from the condition.
    #[serde(default)]
    pub category: Option<String>,
    pub description: String,
    pub lng: f64,
    pub lat: f64,
    /// Datum of lng/lat: wgs84 (default), gcj02 or bd09.
    #[serde(default)]
    pub crs: Option<String>,
    /// resident, hotline, patrol, video, superior, api; derived from the role when absent.
    #[serde(default)]
    pub source: Option<String>,
    /// Reporter's name and phone: kept private.
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// Register (立案) at once, for the roles that may.
    #[serde(default)]
    pub register: bool,
}

/// A possible duplicate of a new report. Staff of the duplicate's area see its text and exact
/// distance; anyone else sees it as Open311 shows it to the public: contacts masked, a 12345
/// service request's text withheld, the distance from its public (for service requests rounded)
/// point, to 10 m.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    pub id: i64,
    pub distance_m: f64,
    pub similarity: f64,
    pub description: String,
    pub state: String,
}

/// What a reporter who may not read a 12345 service request sees in its place.
pub const WITHHELD: &str = "（12345 诉求，内容不公开 · a 12345 service request, not public）";

/// The setting `duplicate_radius_m` (default 50 m) and the text likeness needed (0.3).
pub const DUPLICATE_RADIUS_M: f64 = 50.0;
pub const DUPLICATE_SIMILARITY: f64 = 0.3;

/// Take a report in: check it, place it (grid or territorial fallback), record it, and find
/// possible duplicates. Returns the case and the duplicates.
pub async fn intake(
    s: &AppState,
    p: &Principal,
    r: &Report,
    source_default: Option<CaseSource>,
) -> AppResult<(CaseRow, Vec<Duplicate>)> {
    let new = prepare(s, p, r, source_default).await?;
    let row = s.store.create_case(p.city, &new).await?;
    let dups = duplicates(s, p, &row.case).await?;
    Ok((row, dups))
}

/// Check a report and turn it into the case to record, placed and with its first events.
pub(crate) async fn prepare(
    s: &AppState,
    p: &Principal,
    r: &Report,
    source_default: Option<CaseSource>,
) -> AppResult<NewCase> {
    let city = p.city;
    let role = p
        .grants
        .iter()
        .map(|g| g.role)
        .find(|r| case::COLLECTORS.contains(r))
        .ok_or_else(|| AppError::forbidden("your roles may not report cases"))?;
    let source = match &r.source {
        Some(s) => s.parse::<CaseSource>()?,
        None => source_default.unwrap_or(match role {
            Role::Resident => CaseSource::Resident,
            Role::GridWorker | Role::GridHead => CaseSource::Patrol,
            _ => CaseSource::Hotline,
        }),
    };
    if source == CaseSource::Initiative && source_default != Some(CaseSource::Initiative) {
        return Err(AppError::invalid(
            "source: 'initiative' cases are made by an initiative's task step (POST /api/initiatives/{id}/steps)",
        ));
    }
    if role == Role::Resident && source != CaseSource::Resident && source != CaseSource::Api {
        return Err(AppError::invalid("source: residents report as 'resident'"));
    }
    if let Some(phone) = &r.contact_phone {
        gongzhi_core::org::check_phone(phone)?;
    }
    let crs: Crs = r.crs.as_deref().unwrap_or("wgs84").parse()?;
    let place = crate::territory::locate_for_intake(s, city, crs, r.lng, r.lat).await?;
    let intake = Intake {
        source,
        category: r.category.clone().unwrap_or_default(),
        condition: r.condition.trim().to_owned(),
        description: r.description.trim().to_owned(),
        lng: place.lng,
        lat: place.lat,
        grid: place.grid.as_ref().map(|g| g.code.clone()),
        community: place.community.as_ref().map(|c| c.code.clone()),
    };
    let context = s.context(city).await?;
    let collected = case::collect(intake, role, &context.catalogue).map_err(transition_error)?;
    let then = if r.register {
        let t = case::transition(case::CaseState::Collected, ActionKind::Register).expect("register is in the table");
        if !t.roles.contains(&role) {
            return Err(AppError::forbidden(format!("{role} may not register (立案) a case")));
        }
        vec![CaseEvent::Registered]
    } else {
        Vec::new()
    };
    let new = NewCase {
        collected,
        then,
        area: place.responsible[..place.responsible.len().min(12)].to_owned(),
        reporter: Some(p.person_id.0),
        contact: (r.contact_name.is_some() || r.contact_phone.is_some())
            .then(|| (r.contact_name.clone(), r.contact_phone.clone())),
        actor: Some(p.person_id),
        role,
        at_ms: None,
    };
    Ok(new)
}

/// Open cases of the same category near `c` with similar text, as `viewer` may see them.
pub async fn duplicates(s: &AppState, viewer: &Principal, c: &Case) -> AppResult<Vec<Duplicate>> {
    let city = viewer.city;
    let radius = match s.store.setting(city, "duplicate_radius_m").await? {
        Some(v) => v.parse().unwrap_or(DUPLICATE_RADIUS_M),
        None => DUPLICATE_RADIUS_M,
    };
    let catalogue = &s.context(city).await?.catalogue;
    let d_lat = radius / 111_000.0;
    let d_lng = d_lat / c.lat.to_radians().cos().max(0.1);
    let mut out: Vec<Duplicate> = s
        .store
        .open_cases_near(city, &c.category, c.lng, c.lat, d_lng, d_lat)
        .await?
        .into_iter()
        .filter(|o| o.case.id != c.id)
        // Hints go to whoever reports, residents too: never an internal case.
        .filter_map(PublicCase::of)
        .map(|o| o.inner().clone())
        .filter_map(|o| {
            let distance = text::distance_m(c.lng, c.lat, o.case.lng, o.case.lat);
            let similarity = (text::similarity(&c.description, &o.case.description) * 100.0).round() / 100.0;
            if distance > radius || similarity < DUPLICATE_SIMILARITY {
                return None;
            }
            let (description, distance_m) = if may_see_contact(viewer, &o) {
                (o.case.description.clone(), (distance * 10.0).round() / 10.0)
            } else {
                let kind = open311::case_kind(catalogue, &o.case.category);
                let (lng, lat) = open311::public_point(kind, o.case.lng, o.case.lat);
                let shown = open311::public_description(kind, &o.case.description).unwrap_or_else(|| WITHHELD.into());
                (shown, (text::distance_m(c.lng, c.lat, lng, lat) / 10.0).round() * 10.0)
            };
            Some(Duplicate {
                id: o.case.id.0,
                distance_m,
                similarity,
                description,
                state: o.case.state.to_string(),
            })
        })
        .collect();
    out.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    Ok(out)
}

/// Apply an action to a case for a principal. `expected_version`, when given, must match.
pub async fn act(
    s: &AppState,
    p: &Principal,
    id: CaseId,
    action: Action,
    expected_version: Option<u64>,
) -> AppResult<CaseRow> {
    let city = p.city;
    let row = s
        .store
        .case(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("case {id}")))?;
    if !may_view(p, &row) {
        return Err(AppError::not_found(format!("case {id}")));
    }
    if let Some(v) = expected_version {
        if v != row.case.version {
            return Err(AppError::conflict(format!(
                "case {id} was changed meanwhile (version {} now, you saw {v}): reload it",
                row.case.version
            )));
        }
    }
    let grant = acting_grant(p, &row, action.kind())?;
    let context = s.context(city).await?;
    let (cat, cal) = (&context.catalogue, &context.calendar);
    let limit = limit_of(cat, &row.case);
    let via = match &action {
        Action::Dispatch { level, .. } => route_for(s, city, &row.area, *level).await?,
        _ => Vec::new(),
    };
    let mut ctx = DecisionContext::new(gongzhi_store::now_ms(), cal, limit).with_route(&via);
    if let Scope::Organisation(o) = grant.scope {
        ctx = ctx.with_actor_unit(o);
    }
    let events = case::decide(&row.case, &action, grant.role, &ctx).map_err(transition_error)?;
    let mut changes = vec![Change {
        case_id: id,
        expected_version: row.case.version,
        events,
    }];
    if let Action::Merge { into } = action {
        let other = s
            .store
            .case(city, into)
            .await?
            .ok_or_else(|| AppError::invalid(format!("into: case {into} does not exist")))?;
        if other.case.category != row.case.category {
            return Err(AppError::invalid(format!(
                "into: case {into} is of another category; only duplicates are merged"
            )));
        }
        let absorb = case::decide(&other.case, &Action::AbsorbDuplicate { case_id: id }, grant.role, &ctx)
            .map_err(transition_error)?;
        changes.push(Change {
            case_id: into,
            expected_version: other.case.version,
            events: absorb,
        });
    }
    let rows = s
        .store
        .change_cases(city, &changes, Some(p.person_id), grant.role, None)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::conflict(m),
            other => other.into(),
        })?;
    Ok(rows
        .into_iter()
        .find(|r| r.case.id == id)
        .expect("the changed case is returned"))
}

/// How close to its deadline a case gets a warning (预警): 2 working hours.
pub const WARNING_AHEAD: Limit = Limit::new(gongzhi_core::calendar::TimerKind::WorkHours, 2);

/// The escalation sweep (督办): a case with a unit within [`WARNING_AHEAD`] of its deadline gets
/// a warning (预警, level 1), one past its deadline an overdue mark (超期, level 2); each once.
/// Returns how many cases were marked.
pub async fn sweep(s: &AppState, city: CityCode, now_ms: i64) -> AppResult<usize> {
    let context = s.context(city).await?;
    let (cal, cat) = (&context.calendar, &context.catalogue);
    let horizon = WARNING_AHEAD.end(cal, now_ms);
    let mut marked = 0;
    let mut after = 0;
    loop {
        let due = s.store.cases_due_before(city, horizon, after, 500).await?;
        let Some(last) = due.last() else { return Ok(marked) };
        after = last.case.id.0;
        for row in due {
            let past = row.case.deadline_ms.is_some_and(|d| d < now_ms);
            let (level, note) = if past {
                (case::OVERDUE_LEVEL, "超期：已过处置时限 (deadline passed)")
            } else {
                (case::WARNING_LEVEL, "预警：临近处置时限 (deadline near)")
            };
            if (past && row.case.overdue) || (!past && row.case.supervision >= level) {
                continue;
            }
            let limit = limit_of(cat, &row.case);
            let ctx = DecisionContext::new(now_ms, cal, limit);
            let action = Action::Supervise {
                level,
                note: note.into(),
            };
            match case::decide(&row.case, &action, Role::ShiftLeader, &ctx) {
                Ok(events) => {
                    let change = Change {
                        case_id: row.case.id,
                        expected_version: row.case.version,
                        events,
                    };
                    match s
                        .store
                        .change_cases(city, &[change], None, Role::ShiftLeader, Some(now_ms))
                        .await
                    {
                        Ok(_) => marked += 1,
                        Err(StoreError::Conflict(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => tracing::warn!(case = row.case.id.0, error = %e, "sweep could not mark a case"),
            }
        }
    }
}
