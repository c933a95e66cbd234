//! Points (积分): the city's rules, volunteer service that earns them, a person's ledger and
//! redeeming points.

use gongzhi_core::access::Principal;
use gongzhi_core::gridteam::{self, PointRule};
use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, NewRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check_manage, day, grid, require_redeem_points, require_rules_admin, require_see_points};
use crate::{AppError, AppResult, AppState};

/// The setting that holds a city's points rules (CSV `action,points,description`).
pub const RULES_SETTING: &str = "point_rules";

/// A city's points rules: the configured ones, else the defaults.
pub async fn rules(s: &AppState, city: CityCode) -> AppResult<Vec<PointRule>> {
    let text = s.store.setting(city, RULES_SETTING).await?;
    Ok(gridteam::parse_rules(
        text.as_deref().unwrap_or(gridteam::DEFAULT_RULES_CSV),
    )?)
}

/// Replace the city's points rules (CSV `action,points,description`): a city-wide
/// administrator only. Answers the parsed rules.
pub async fn set_rules(s: &AppState, p: &Principal, csv_text: &str) -> AppResult<Vec<PointRule>> {
    require_rules_admin(p)?;
    let parsed = gridteam::parse_rules(csv_text)?;
    s.store
        .set_setting(p.city, RULES_SETTING, csv_text, Some(p.person_id))
        .await?;
    Ok(parsed)
}

#[derive(Deserialize, ToSchema)]
pub struct VolunteerInput {
    pub person: i64,
    pub hours: i64,
    /// YYYY-MM-DD.
    pub date: String,
    #[serde(default)]
    pub note: String,
}

/// Record volunteer service (志愿服务); the volunteer earns `volunteer_hour` points per hour.
pub async fn volunteer(s: &AppState, p: &Principal, code: &str, v: VolunteerInput) -> AppResult<i64> {
    let g = grid(s, p, code).await?;
    check_manage(p, &g)?;
    let city = p.city;
    if !(1..=24).contains(&v.hours) {
        return Err(AppError::invalid("hours: record 1 to 24 hours of service a day"));
    }
    let date = day(Some(&v.date))?;
    if s.store.person(city, PersonId(v.person)).await?.is_none() {
        return Err(AppError::invalid(format!(
            "person: {} is not in the register",
            v.person
        )));
    }
    let r = NewRecord {
        list: GridList::Volunteering,
        area: g.code.to_string(),
        status: "recorded".into(),
        person: Some(v.person),
        body: serde_json::json!({ "person": v.person, "hours": v.hours, "date": date, "note": v.note }),
    };
    let id = s.store.add_grid_record(city, &r, Some(p.person_id)).await?;
    let rules = rules(s, city).await?;
    s.store
        .award_points(
            city,
            &[v.person],
            "volunteer_hour",
            v.hours,
            &format!("volunteering:{id}"),
            &rules,
            Some(p.person_id),
        )
        .await?;
    Ok(id)
}

#[derive(Serialize, ToSchema)]
pub struct Ledger {
    pub person: i64,
    pub balance: i64,
    /// Every line with the balance after it.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<gridteam::Explained>,
}

/// A person's points: the balance and every line that explains it. Seen by the person and by
/// the grid teams serving their community.
pub async fn ledger(s: &AppState, p: &Principal, person: i64) -> AppResult<Ledger> {
    require_see_points(s, p, person).await?;
    ledger_of(s, p.city, person).await
}

/// A person's ledger, whoever asks (callers decide who may see it; the principal's own is
/// always theirs to see).
pub async fn ledger_of(s: &AppState, city: CityCode, person: i64) -> AppResult<Ledger> {
    let lines = gridteam::explain(&s.store.points_ledger(city, PersonId(person)).await?);
    Ok(Ledger {
        person,
        balance: lines.last().map_or(0, |l| l.balance),
        lines,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct RedeemInput {
    pub amount: i64,
    /// What the points are exchanged for.
    pub what: String,
}

/// Redeem points (兑换); refused (conflict) when the balance would go below zero. Answers the
/// ledger after it.
pub async fn redeem(s: &AppState, p: &Principal, person: i64, r: RedeemInput) -> AppResult<Ledger> {
    require_redeem_points(s, p, person).await?;
    if r.what.trim().is_empty() {
        return Err(AppError::invalid("what: say what the points are exchanged for"));
    }
    gridteam::check_redeem(i64::MAX, r.amount)?;
    let city = p.city;
    s.store
        .redeem_points(city, PersonId(person), r.amount, r.what.trim(), Some(p.person_id))
        .await?;
    ledger_of(s, city, person).await
}
