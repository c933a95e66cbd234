//! The grid team's field work: patrol routes and patrol logs (findings become cases through the
//! closed loop), household visits and their follow-ups, meetings and activities with attendance.

use gongzhi_core::access::Principal;
use gongzhi_core::gridteam::{self, ActivityKind};
use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, NewRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check_manage, day, grid, json, record_in_grid, rules};
use crate::cases::Report;
use crate::{AppError, AppResult, AppState};

/// Plan a patrol route (巡查路线) of the grid: a GeoJSON LineString, how often a week it is
/// walked and by whom. Patrol logs then name it.
pub async fn add_route(s: &AppState, p: &Principal, code: &str, r: gridteam::PatrolRoute) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    r.check()?;
    let city = p.city;
    if let Some(w) = r.worker {
        if s.store.person(city, PersonId(w)).await?.is_none() {
            return Err(AppError::invalid(format!("worker: person {w} is not in the register")));
        }
    }
    let rec = NewRecord {
        list: GridList::Routes,
        area: g.code.to_string(),
        status: "active".into(),
        person: r.worker,
        body: json(&r),
    };
    Ok(s.store.add_grid_record(city, &rec, Some(p.person_id)).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct PatrolInput {
    /// The planned route followed (id in the grid's routes list), if any.
    #[serde(default)]
    pub planned_route: Option<i64>,
    /// The way actually walked: a GeoJSON LineString (WGS-84); the planned route's path when
    /// absent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub route: Option<serde_json::Value>,
    #[serde(default)]
    pub note: String,
    /// Problems found: each becomes a case of the closed loop (source patrol).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Report>,
}

#[derive(Serialize, ToSchema)]
pub struct PatrolLogged {
    pub id: i64,
    #[schema(value_type = Vec<i64>)]
    pub cases: Vec<CaseId>,
}

/// Log a patrol (巡查日志); each finding is reported through the case intake (source patrol)
/// and linked to the log.
pub async fn patrol(s: &AppState, p: &Principal, code: &str, mut input: PatrolInput) -> AppResult<PatrolLogged> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    if let Some(r) = &input.route {
        gridteam::check_line(r, "route")?;
    }
    if let Some(id) = input.planned_route {
        let planned = s
            .store
            .grid_record(p.city, GridList::Routes, id)
            .await?
            .filter(|r| r.area == g.code.as_str() && r.status == "active")
            .ok_or_else(|| {
                AppError::invalid(format!(
                    "planned_route: {id} is not an active patrol route of grid {}; plan it first (POST /api/grids/{}/routes)",
                    g.code, g.code
                ))
            })?;
        if input.route.is_none() {
            input.route = Some(planned.body["path"].clone());
        }
    }
    let mut cases = Vec::new();
    for f in &mut input.findings {
        f.source = Some("patrol".into());
        let (row, _) = crate::cases::intake(s, p, f, None).await?;
        cases.push(row.case.id);
    }
    let r = NewRecord {
        list: GridList::Patrols,
        area: g.code.to_string(),
        status: "logged".into(),
        person: Some(p.person_id.0),
        body: serde_json::json!({ "planned_route": input.planned_route, "route": input.route, "note": input.note, "cases": cases }),
    };
    let id = s.store.add_grid_record(p.city, &r, Some(p.person_id)).await?;
    Ok(PatrolLogged { id, cases })
}

#[derive(Deserialize, ToSchema)]
pub struct VisitInput {
    pub household: i64,
    pub note: String,
    /// Something to do after the visit (跟进事项); the visit stays open until it is done.
    #[serde(default)]
    pub follow_up: Option<String>,
}

/// Record a household visit (走访).
pub async fn add_visit(s: &AppState, p: &Principal, code: &str, v: VisitInput) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    let city = p.city;
    let hh = s.store.grid_record(city, GridList::Households, v.household).await?;
    if hh.is_none_or(|r| r.area != g.code.as_str()) {
        return Err(AppError::invalid(format!(
            "household: {} is not a household of grid {}",
            v.household, g.code
        )));
    }
    if v.note.trim().is_empty() {
        return Err(AppError::invalid("note: say what the visit found"));
    }
    let r = NewRecord {
        list: GridList::Visits,
        area: g.code.to_string(),
        status: if v.follow_up.is_some() { "follow_up" } else { "done" }.into(),
        person: Some(p.person_id.0),
        body: serde_json::json!({ "household": v.household, "note": v.note, "follow_up": v.follow_up, "follow_ups": [] }),
    };
    Ok(s.store.add_grid_record(city, &r, Some(p.person_id)).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct FollowUpInput {
    pub note: String,
    /// The follow-up is finished.
    #[serde(default)]
    pub done: bool,
}

/// Record a follow-up of a visit; refused (conflict) when the visit has no open follow-up.
pub async fn follow_up(s: &AppState, p: &Principal, id: i64, f: FollowUpInput) -> AppResult<()> {
    let (rec, g) = record_in_grid(s, p, GridList::Visits, id).await?;
    check_manage(p, &g)?;
    if rec.status != "follow_up" {
        return Err(AppError::conflict(format!("visit {id} has no open follow-up")));
    }
    let mut body = rec.body.clone();
    if let Some(list) = body["follow_ups"].as_array_mut() {
        list.push(serde_json::json!({ "note": f.note, "by": p.person_id, "at": gongzhi_store::now_ms() }));
    }
    let status = if f.done { "done" } else { "follow_up" };
    s.store
        .change_grid_record(
            p.city,
            GridList::Visits,
            id,
            status,
            &body,
            "visit_followed_up",
            Some(p.person_id),
        )
        .await?;
    Ok(())
}

#[derive(Deserialize, ToSchema)]
pub struct ActivityInput {
    /// meeting or activity.
    pub kind: String,
    pub title: String,
    /// YYYY-MM-DD.
    pub date: String,
}

/// Record a meeting or activity of the grid.
pub async fn add_activity(s: &AppState, p: &Principal, code: &str, a: ActivityInput) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    let kind: ActivityKind = a.kind.parse()?;
    let date = day(Some(&a.date))?;
    if a.title.trim().is_empty() {
        return Err(AppError::invalid("title: name the meeting or activity"));
    }
    let r = NewRecord {
        list: GridList::Activities,
        area: g.code.to_string(),
        status: kind.as_str().into(),
        person: Some(p.person_id.0),
        body: serde_json::json!({ "kind": kind, "title": a.title.trim(), "date": date, "attendance": [] }),
    };
    Ok(s.store.add_grid_record(p.city, &r, Some(p.person_id)).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct AttendanceInput {
    pub people: Vec<i64>,
}

/// The attendance of an activity after recording who attended.
#[derive(Debug, Serialize)]
pub struct Attendance {
    /// Everyone recorded as present.
    pub attendance: Vec<i64>,
    /// The attendees new in this recording, who earned points.
    pub awarded: Vec<i64>,
    /// The points each new attendee earned.
    pub points_each: i64,
}

/// Record who attended; each new attendee earns the `activity_attended` points.
pub async fn attend(s: &AppState, p: &Principal, id: i64, a: AttendanceInput) -> AppResult<Attendance> {
    let (rec, g) = record_in_grid(s, p, GridList::Activities, id).await?;
    check_manage(p, &g)?;
    let city = p.city;
    let mut body = rec.body.clone();
    let mut present: Vec<i64> = body["attendance"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_i64()).collect())
        .unwrap_or_default();
    let mut new = Vec::new();
    for person in &a.people {
        if s.store.person(city, PersonId(*person)).await?.is_none() {
            return Err(AppError::invalid(format!(
                "people: person {person} is not in the register"
            )));
        }
        if !present.contains(person) {
            present.push(*person);
            new.push(*person);
        }
    }
    body["attendance"] = json(&present);
    s.store
        .change_grid_record(
            city,
            GridList::Activities,
            id,
            &rec.status,
            &body,
            "attendance_recorded",
            Some(p.person_id),
        )
        .await?;
    let rules = rules(s, city).await?;
    let points = s
        .store
        .award_points(
            city,
            &new,
            "activity_attended",
            1,
            &format!("activity:{id}"),
            &rules,
            Some(p.person_id),
        )
        .await?;
    Ok(Attendance {
        attendance: present,
        awarded: new,
        points_each: points,
    })
}
