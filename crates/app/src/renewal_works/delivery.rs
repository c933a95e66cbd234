//! Delivery projects (共建项目): starting them (by hand or from a vote's funded proposals),
//! milestones with photos and the supervision of late ones, spending, contributions, upkeep with
//! its check-ins, and the residents' acceptance survey.

use std::collections::HashMap;

use chrono::NaiveDate;
use gongzhi_core::access::Principal;
use gongzhi_core::case::Satisfaction;
use gongzhi_core::decision::Sentence;
use gongzhi_core::indicators::percent_or_dash;
use gongzhi_core::media::Checked;
use gongzhi_core::renewal::delivery::{
    acceptance_counters, co_production, parse_hours, progress_percent, Acceptance, Checkin, CoProduction, Contribution,
    ContributorKind, Milestone, MilestoneState, NewDelivery,
};
use gongzhi_core::renewal::proposal::ProposalStatus;
use gongzhi_core::renewal::works::{yuan_to_cents, Window, WorkKind};
use gongzhi_store::prelude::*;
use gongzhi_store::{DeliveryDetail, DeliveryRow, StoreError, SupervisedMilestone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    city_of, day_or_today, is_staff, is_staff_somewhere, parse_day, place_of, require_staff, require_take_part, today,
};
use crate::people::is_resident_of;
use crate::{AppError, AppResult, AppState};

/// The delivery projects of a community (or the reader's city). Public.
pub async fn deliveries(s: &AppState, p: Option<&Principal>, community: Option<&str>) -> AppResult<Vec<DeliveryRow>> {
    Ok(s.store.deliveries(city_of(s, p), community).await?)
}

/// A delivery project to start (renewal staff).
#[derive(Deserialize, ToSchema)]
pub struct NewDeliveryRequest {
    /// The funded proposal it delivers, if any.
    pub proposal: Option<i64>,
    pub community: String,
    pub title: String,
    /// Default `resident_project`.
    pub kind: Option<String>,
    /// GeoJSON geometry (WGS-84).
    #[schema(value_type = Object)]
    pub site: serde_json::Value,
    pub budget_cents: i64,
    pub from: String,
    pub to: String,
}

fn delivery_of(r: &NewDeliveryRequest) -> AppResult<NewDelivery> {
    let d = NewDelivery {
        proposal: r.proposal,
        community: r.community.trim().to_owned(),
        title: r.title.trim().to_owned(),
        kind: match r.kind.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(k) => k.parse()?,
            None => WorkKind::ResidentProject,
        },
        site: place_of(&r.site)?,
        budget_cents: r.budget_cents,
        window: Window::new(parse_day("from", &r.from)?, parse_day("to", &r.to)?)?,
    };
    d.check()?;
    Ok(d)
}

/// Start a delivery project (renewal staff of its community); one that delivers a proposal must
/// deliver a funded proposal of that community that no other project delivers yet.
pub async fn create_delivery(s: &AppState, p: &Principal, r: &NewDeliveryRequest) -> AppResult<DeliveryRow> {
    let d = delivery_of(r)?;
    require_staff(p, &d.community)?;
    let city = p.city;
    if let Some(pid) = d.proposal {
        let funded = s
            .store
            .proposal(city, pid)
            .await?
            .is_some_and(|x| x.status == ProposalStatus::Funded && x.community == d.community);
        if !funded {
            return Err(AppError::invalid(format!(
                "proposal: {pid} is not a funded proposal of community {}",
                d.community
            )));
        }
        if s.store
            .deliveries(city, Some(&d.community))
            .await?
            .iter()
            .any(|x| x.proposal == Some(pid))
        {
            return Err(AppError::from(StoreError::Conflict(format!(
                "proposal {pid} is being delivered already"
            ))));
        }
    }
    let id = s.store.start_delivery(city, &d, Some(p.person_id)).await?;
    Ok(s.store.delivery_row(city, id).await?)
}

/// The planned window of the deliveries started from a vote.
#[derive(Deserialize, ToSchema)]
pub struct DeliverFunded {
    /// First day, YYYY-MM-DD.
    pub from: String,
    /// Last day, YYYY-MM-DD.
    pub to: String,
}

/// Starts the deliveries of a closed vote's funded proposals that have none yet (renewal staff
/// of the vote's community; the API and the results page); the deliveries started.
pub async fn start_funded(s: &AppState, p: &Principal, vote: i64, r: &DeliverFunded) -> AppResult<Vec<DeliveryRow>> {
    let city = p.city;
    let v = s
        .store
        .vote(city, vote)
        .await?
        .ok_or_else(|| AppError::not_found(format!("vote {vote}")))?;
    require_staff(p, &v.community)?;
    let funded = s.store.funded_proposals(city, vote).await?;
    let window = Window::new(parse_day("from", &r.from)?, parse_day("to", &r.to)?)?;
    let mut started = Vec::new();
    for f in funded {
        require_staff(p, &f.community)?;
        if s.store
            .deliveries(city, Some(&f.community))
            .await?
            .iter()
            .any(|x| x.proposal == Some(f.proposal))
        {
            continue;
        }
        let d = NewDelivery {
            proposal: Some(f.proposal),
            community: f.community.clone(),
            title: f.title.clone(),
            kind: WorkKind::ResidentProject,
            site: place_of(&f.site)?,
            budget_cents: f.budget_cents,
            window,
        };
        let id = s.store.start_delivery(city, &d, Some(p.person_id)).await?;
        started.push(s.store.delivery_row(city, id).await?);
    }
    Ok(started)
}

/// A milestone with where it stands today.
#[derive(Serialize, ToSchema)]
pub struct MilestoneView {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub milestone: Milestone,
    #[schema(value_type = String)]
    pub state: MilestoneState,
    pub days_late: i64,
}

/// The acceptance survey's counts, as the case indicators count follow-ups.
#[derive(Serialize, ToSchema)]
pub struct AcceptanceView {
    pub answers: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub dissatisfied: u64,
    pub solved: u64,
    /// 满意率 = (satisfied + 0.9 × basically satisfied) / answers.
    pub satisfaction_rate: String,
    pub solution_rate: String,
    /// Comments, without names.
    pub comments: Vec<String>,
}

/// A delivery project as its page and the API show it.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    #[schema(value_type = Object)]
    pub detail: DeliveryDetail,
    pub milestones: Vec<MilestoneView>,
    pub progress_percent: u32,
    #[schema(value_type = Object)]
    pub co_production: CoProduction,
    pub acceptance: AcceptanceView,
    /// Warnings (预警/超期) about late or nearly late milestones and overdue upkeep check-ins,
    /// each in Chinese (`zh`) and English (`en`).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Sentence>,
}

async fn delivery_view(s: &AppState, city: CityCode, id: i64, today: NaiveDate) -> AppResult<DeliveryView> {
    let detail = s.store.delivery(city, id).await?;
    let milestones: Vec<MilestoneView> = detail
        .milestones
        .iter()
        .map(|m| MilestoneView {
            state: m.state(today),
            days_late: m.days_late(today),
            milestone: m.clone(),
        })
        .collect();
    let mut warnings = Vec::new();
    for m in &milestones {
        match m.state {
            MilestoneState::Late => warnings.push(Sentence {
                zh: format!(
                    "超期：「{}」应于{}完成，已逾期{}天",
                    m.milestone.title, m.milestone.due, m.days_late
                ),
                en: format!(
                    "Overdue: 「{}」 was due {} ({} days late)",
                    m.milestone.title, m.milestone.due, m.days_late
                ),
            }),
            MilestoneState::DueSoon => warnings.push(Sentence {
                zh: format!("预警：「{}」将于{}到期", m.milestone.title, m.milestone.due),
                en: format!("Due soon: 「{}」 is due {}", m.milestone.title, m.milestone.due),
            }),
            _ => {}
        }
    }
    for u in &detail.upkeep {
        if u.overdue(today) {
            warnings.push(Sentence {
                zh: format!("管护打卡逾期：{} · {}（应于{}打卡）", u.who, u.what, u.next_due()),
                en: format!("Upkeep check-in overdue: {} · {} (due {})", u.who, u.what, u.next_due()),
            });
        }
    }
    let contributions: Vec<Contribution> = detail.contributions.iter().map(|c| c.contribution.clone()).collect();
    let counters = acceptance_counters(&detail.acceptance);
    Ok(DeliveryView {
        progress_percent: progress_percent(&detail.milestones),
        co_production: co_production(&contributions, detail.delivery.budget_cents),
        acceptance: AcceptanceView {
            answers: counters.followups_valid,
            satisfied: counters.satisfied,
            basically_satisfied: counters.basically_satisfied,
            dissatisfied: counters.dissatisfied,
            solved: counters.solved,
            satisfaction_rate: percent_or_dash(counters.satisfaction_rate()),
            solution_rate: percent_or_dash(counters.solution_rate()),
            comments: detail
                .acceptance
                .iter()
                .map(|a| a.comment.clone())
                .filter(|c| !c.trim().is_empty())
                .collect(),
        },
        milestones,
        warnings,
        detail,
    })
}

/// A delivery project of the reader's city with milestones, progress, spending, contributions,
/// upkeep, acceptance and warnings as of today. Public (acceptance answers carry no names).
pub async fn delivery(s: &AppState, p: Option<&Principal>, id: i64) -> AppResult<DeliveryView> {
    delivery_view(s, city_of(s, p), id, today()).await
}

/// What a delivery project's page shows: the project as of `today`, its milestone photos' media
/// ids by name, and what the reader may do there.
pub struct DeliveryPageView {
    pub view: DeliveryView,
    pub today: NaiveDate,
    /// The milestone photos' media ids (their one URL), by photo name.
    pub photos: HashMap<String, i64>,
    /// The reader is renewal staff of the community.
    pub staff: bool,
    /// The reader is a verified resident of the community (takes the acceptance survey).
    pub resident: bool,
    /// The reader (a resident) has answered the acceptance survey.
    pub answered: bool,
}

/// A delivery project of `community` (else not found) as its page shows it to the reader.
pub async fn delivery_page(
    s: &AppState,
    p: Option<&Principal>,
    community: &str,
    id: i64,
) -> AppResult<DeliveryPageView> {
    let city = city_of(s, p);
    let now = today();
    let view = delivery_view(s, city, id, now).await?;
    // The milestone photos' one ids, by their names.
    let photos: HashMap<String, i64> = s
        .store
        .media_of(city, &format!("milestone:{id}:"))
        .await?
        .into_iter()
        .filter_map(|m| Some((m.legacy?.strip_prefix("documents:")?.to_owned(), m.id)))
        .collect();
    if view.detail.delivery.community != community {
        return Err(AppError::not_found(format!(
            "delivery project {id} in community {community}"
        )));
    }
    let staff = p.is_some_and(|p| is_staff(p, community));
    let resident = p.is_some_and(|p| is_resident_of(p, community));
    let answered = match p {
        Some(p) if resident => s.store.has_answered(city, id, p.person_id).await?,
        _ => false,
    };
    Ok(DeliveryPageView {
        view,
        today: now,
        photos,
        staff,
        resident,
        answered,
    })
}

async fn staff_of_delivery(s: &AppState, p: &Principal, id: i64) -> AppResult<DeliveryRow> {
    let d = s.store.delivery_row(p.city, id).await?;
    require_staff(p, &d.community)?;
    Ok(d)
}

/// The delivery project of the principal's city, which must be of `community` (the pages).
async fn delivery_in(s: &AppState, p: &Principal, community: &str, id: i64) -> AppResult<DeliveryRow> {
    let row = s.store.delivery_row(p.city, id).await?;
    if row.community != community {
        return Err(AppError::not_found(format!(
            "delivery project {id} in community {community}"
        )));
    }
    Ok(row)
}

/// Refuse unless the delivery project is of `community` (else not found) and `p` is renewal
/// staff there: asked by the delivery page before it reads an uploaded photo.
pub async fn require_staff_of_delivery_in(s: &AppState, p: &Principal, community: &str, id: i64) -> AppResult<()> {
    delivery_in(s, p, community, id).await?;
    require_staff(p, community)
}

#[derive(Deserialize, ToSchema)]
pub struct NewMilestone {
    pub title: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// Add a milestone (renewal staff); its id.
pub async fn add_milestone(s: &AppState, p: &Principal, id: i64, r: &NewMilestone) -> AppResult<i64> {
    staff_of_delivery(s, p, id).await?;
    let due = parse_day("due", &r.due)?;
    Ok(s.store
        .add_milestone(p.city, id, &r.title, due, Some(p.person_id))
        .await?)
}

#[derive(Deserialize, ToSchema)]
pub struct Done {
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
}

/// Mark a milestone done (renewal staff; once).
pub async fn complete_milestone(
    s: &AppState,
    p: &Principal,
    id: i64,
    milestone: i64,
    r: &Done,
) -> AppResult<Milestone> {
    staff_of_delivery(s, p, id).await?;
    let date = day_or_today("date", r.date.as_deref())?;
    Ok(s.store
        .complete_milestone(p.city, id, milestone, date, Some(p.person_id))
        .await?)
}

/// A stored milestone photo: its name and its media id (its one URL).
pub struct MilestonePhoto {
    pub name: String,
    pub media: i64,
}

/// Stores a milestone's photo (renewal staff; the API and the delivery page). `photo` checks the
/// upload by the one media policy; it is asked only once the principal may add the photo, and
/// its refusal is returned as it is.
pub async fn add_milestone_photo<E: From<AppError>>(
    s: &AppState,
    p: &Principal,
    id: i64,
    milestone: i64,
    photo: impl FnOnce() -> Result<Checked, E>,
) -> Result<MilestonePhoto, E> {
    staff_of_delivery(s, p, id).await?;
    let photo = photo()?;
    let city = p.city;
    let name = s
        .store
        .add_milestone_photo(city, id, milestone, photo.content_type, &photo.data, Some(p.person_id))
        .await
        .map_err(AppError::from)?;
    let media = s.store.milestone_photo_id(city, &name).await.map_err(AppError::from)?;
    Ok(MilestonePhoto { name, media })
}

/// The media id of a milestone photo of the reader's city, by its old name. Public.
pub async fn photo_media(s: &AppState, p: Option<&Principal>, name: &str) -> AppResult<i64> {
    Ok(s.store.milestone_photo_id(city_of(s, p), name).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct NewSpending {
    pub amount_cents: i64,
    #[serde(default)]
    pub note: String,
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
}

/// Record money spent (renewal staff); the spending's id.
pub async fn add_spending(s: &AppState, p: &Principal, id: i64, r: &NewSpending) -> AppResult<i64> {
    staff_of_delivery(s, p, id).await?;
    let date = day_or_today("date", r.date.as_deref())?;
    Ok(s.store
        .record_spending(p.city, id, r.amount_cents, &r.note, date, Some(p.person_id))
        .await?)
}

/// A contribution. Residents offer their own (name and person from the login); staff record
/// anyone's, organisations' included.
#[derive(Deserialize, ToSchema)]
pub struct NewContribution {
    /// Who contributes (staff only; a resident contributes as themself).
    pub contributor: Option<String>,
    /// resident or organisation (staff only).
    pub kind: Option<String>,
    pub organisation: Option<i64>,
    /// Volunteer hours, at most one decimal (`2.5`).
    pub hours: Option<String>,
    #[serde(default)]
    pub money_cents: i64,
    #[serde(default)]
    pub materials: String,
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
}

/// Record a contribution (residents of the community their own, renewal staff anyone's); its id.
pub async fn contribute(s: &AppState, p: &Principal, id: i64, r: NewContribution) -> AppResult<i64> {
    let city = p.city;
    let d = s.store.delivery_row(city, id).await?;
    let staff = is_staff(p, &d.community);
    require_take_part(p, &d.community, "record contributions")?;
    let hours_tenths = match r.hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => parse_hours(h)
            .ok_or_else(|| AppError::invalid(format!("hours: '{h}' is not a number of hours like 2 or 2.5")))?,
        None => 0,
    };
    let date = day_or_today("date", r.date.as_deref())?;
    let c = if staff {
        let kind = match r.kind.as_deref() {
            Some(k) => k.parse::<ContributorKind>()?,
            None if r.organisation.is_some() => ContributorKind::Organisation,
            None => ContributorKind::Resident,
        };
        Contribution {
            contributor: r.contributor.unwrap_or_default(),
            kind,
            person: None,
            organisation: r.organisation,
            hours_tenths,
            money_cents: r.money_cents,
            materials: r.materials,
            date,
        }
    } else {
        Contribution {
            contributor: p.name.clone(),
            kind: ContributorKind::Resident,
            person: Some(p.person_id.0),
            organisation: None,
            hours_tenths,
            money_cents: r.money_cents,
            materials: r.materials,
            date,
        }
    };
    Ok(s.store.add_contribution(city, id, &c, Some(p.person_id)).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct NewUpkeep {
    pub who: String,
    pub what: String,
    pub every_days: i64,
    /// `YYYY-MM-DD`; today when absent.
    pub from: Option<String>,
}

/// Record an upkeep commitment (renewal staff); its id.
pub async fn add_upkeep(s: &AppState, p: &Principal, id: i64, r: &NewUpkeep) -> AppResult<i64> {
    staff_of_delivery(s, p, id).await?;
    let from = day_or_today("from", r.from.as_deref())?;
    Ok(s.store
        .add_upkeep(p.city, id, &r.who, &r.what, r.every_days, from, Some(p.person_id))
        .await?)
}

#[derive(Deserialize, ToSchema)]
pub struct NewCheckin {
    /// `YYYY-MM-DD`; today when absent.
    pub date: Option<String>,
    pub ok: bool,
    #[serde(default)]
    pub note: String,
}

/// Check in on an upkeep commitment (renewal staff or residents of the community); its id.
pub async fn add_checkin(s: &AppState, p: &Principal, id: i64, upkeep: i64, r: NewCheckin) -> AppResult<i64> {
    let city = p.city;
    let d = s.store.delivery_row(city, id).await?;
    require_take_part(p, &d.community, "check in")?;
    let date = day_or_today("date", r.date.as_deref())?;
    let c = Checkin {
        date,
        ok: r.ok,
        note: r.note,
    };
    Ok(s.store.add_checkin(city, id, upkeep, &c, Some(p.person_id)).await?)
}

/// An acceptance answer (验收).
#[derive(Deserialize, ToSchema)]
pub struct AcceptanceAnswer {
    /// satisfied, basically_satisfied or dissatisfied.
    pub satisfaction: String,
    /// Whether the project meets the need it was for.
    pub solved: bool,
    #[serde(default)]
    pub comment: String,
}

/// Answer the acceptance survey (verified residents of the community; once each: conflict after).
pub async fn answer(s: &AppState, p: &Principal, id: i64, r: AcceptanceAnswer) -> AppResult<()> {
    let city = p.city;
    let d = s.store.delivery_row(city, id).await?;
    if !is_resident_of(p, &d.community) {
        return Err(AppError::forbidden(format!(
            "the acceptance survey is for verified residents of community {}",
            d.community
        )));
    }
    let a = Acceptance {
        satisfaction: r.satisfaction.trim().parse::<Satisfaction>()?,
        solved: r.solved,
        comment: r.comment,
    };
    s.store.answer_acceptance(city, id, p.person_id, &a).await?;
    Ok(())
}

/// The supervision list: open milestones that are late (超期) or due soon (预警), latest first
/// (renewal staff of the community, or of anywhere without one; each sees their communities').
pub async fn supervision(s: &AppState, p: &Principal, community: Option<&str>) -> AppResult<Vec<SupervisedMilestone>> {
    match community {
        Some(c) => require_staff(p, c)?,
        None if is_staff_somewhere(p) => {}
        None => return Err(AppError::forbidden("only renewal staff see the supervision list")),
    }
    let list = s.store.supervised_milestones(p.city, community, today()).await?;
    Ok(list.into_iter().filter(|m| is_staff(p, &m.community)).collect())
}

/// The forms of the delivery page, told apart by `action`: `milestone`, `done`, `spend`,
/// `contribute`, `upkeep`, `checkin`, `accept`.
#[derive(Deserialize)]
pub struct DeliveryForm {
    pub action: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub date: String,
    pub milestone: Option<i64>,
    #[serde(default)]
    pub amount_yuan: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub contributor: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub money_yuan: String,
    #[serde(default)]
    pub materials: String,
    #[serde(default)]
    pub who: String,
    #[serde(default)]
    pub what: String,
    pub every_days: Option<i64>,
    pub upkeep: Option<i64>,
    #[serde(default)]
    pub ok: String,
    #[serde(default)]
    pub satisfaction: String,
    #[serde(default)]
    pub solved: String,
    #[serde(default)]
    pub comment: String,
}

fn opt_day(s: &str) -> AppResult<NaiveDate> {
    if s.trim().is_empty() {
        Ok(today())
    } else {
        s.trim()
            .parse()
            .map_err(|_| AppError::invalid(format!("date: '{s}' is not a date like 2026-05-01")))
    }
}

fn money(s: &str, field: &str) -> AppResult<i64> {
    if s.trim().is_empty() {
        return Ok(0);
    }
    yuan_to_cents(s)
        .ok_or_else(|| AppError::invalid(format!("{field}: '{s}' is not an amount of yuan like 200 or 200.50")))
}

/// One step of the delivery page's forms on a project of `community` (else not found), with the
/// same rules as the JSON API: milestones, spending and upkeep by renewal staff, contributions and
/// check-ins by those who take part, the acceptance survey by residents.
pub async fn delivery_form(s: &AppState, p: &Principal, community: &str, id: i64, f: DeliveryForm) -> AppResult<()> {
    let city = p.city;
    let staff_only = || require_staff(p, community);
    delivery_in(s, p, community, id).await?;
    let actor = Some(p.person_id);
    match f.action.as_str() {
        "milestone" => {
            staff_only()?;
            let due: NaiveDate = f
                .date
                .trim()
                .parse()
                .map_err(|_| AppError::invalid("due: give a date like 2026-05-01"))?;
            s.store.add_milestone(city, id, &f.title, due, actor).await?;
        }
        "done" => {
            staff_only()?;
            let m = f.milestone.ok_or_else(|| AppError::invalid("milestone: which one?"))?;
            s.store
                .complete_milestone(city, id, m, opt_day(&f.date)?, actor)
                .await?;
        }
        "spend" => {
            staff_only()?;
            s.store
                .record_spending(
                    city,
                    id,
                    money(&f.amount_yuan, "amount")?,
                    &f.note,
                    opt_day(&f.date)?,
                    actor,
                )
                .await?;
        }
        "contribute" => {
            contribute(
                s,
                p,
                id,
                NewContribution {
                    contributor: Some(f.contributor.clone()).filter(|x| !x.trim().is_empty()),
                    kind: None,
                    organisation: None,
                    hours: Some(f.hours.clone()),
                    money_cents: money(&f.money_yuan, "money")?,
                    materials: f.materials.clone(),
                    date: Some(f.date.clone()),
                },
            )
            .await?;
        }
        "upkeep" => {
            staff_only()?;
            let every = f
                .every_days
                .ok_or_else(|| AppError::invalid("every_days: how often?"))?;
            s.store
                .add_upkeep(city, id, &f.who, &f.what, every, opt_day(&f.date)?, actor)
                .await?;
        }
        "checkin" => {
            require_take_part(p, community, "check in")?;
            let u = f.upkeep.ok_or_else(|| AppError::invalid("upkeep: which commitment?"))?;
            let c = Checkin {
                date: opt_day(&f.date)?,
                ok: !f.ok.is_empty(),
                note: f.note.clone(),
            };
            s.store.add_checkin(city, id, u, &c, actor).await?;
        }
        "accept" => {
            answer(
                s,
                p,
                id,
                AcceptanceAnswer {
                    satisfaction: f.satisfaction.clone(),
                    solved: !f.solved.is_empty(),
                    comment: f.comment.clone(),
                },
            )
            .await?;
        }
        other => {
            return Err(AppError::invalid(format!(
                "action: '{other}' is not a step of this page"
            )))
        }
    }
    Ok(())
}
