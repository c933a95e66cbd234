//! The grid indicators: cases found by patrol vs reported by residents (漏报率), needs met,
//! resources used, participation; of one grid month by month, and added up over an area.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use gongzhi_core::access::Principal;
use gongzhi_core::grid::Grid;
use gongzhi_core::gridteam;
use gongzhi_store::prelude::*;
use gongzhi_store::GridCounts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{grid, is_team, require_area_indicators};
use crate::{AppError, AppResult, AppState};

#[derive(Serialize, ToSchema)]
pub struct Indicators {
    pub grid: String,
    #[schema(value_type = Object)]
    pub counts: GridCounts,
    /// 漏报率: resident reports / registered cases.
    pub missed_report_rate: Option<f64>,
    /// The same, month by month (the last 6 months).
    #[schema(value_type = Vec<Object>)]
    pub months: Vec<(String, GridCounts, Option<f64>)>,
}

/// The grid indicators of an area (a division or a grid) over [from_ms, to_ms): its grids'
/// counts added up, and the same per part of it (each child division, or each grid of a
/// community), keyed by code.
pub async fn area_grid_counts(
    s: &AppState,
    city: CityCode,
    within: &str,
    from_ms: i64,
    to_ms: i64,
) -> AppResult<(GridCounts, HashMap<String, GridCounts>)> {
    let analytic = s.store.analytic();
    let (per_grid, parents) = tokio::try_join!(
        analytic.grid_counts_by_grid(city, None, from_ms, to_ms),
        s.store.territory_parents(city),
    )?;
    let mut total = GridCounts::default();
    let mut parts: HashMap<String, GridCounts> = HashMap::new();
    for (grid, c) in &per_grid {
        // Walk up from the grid; the node just below `within` is the part it counts for.
        let (mut node, mut below) = (grid.as_str(), None);
        loop {
            if node == within {
                total.add(c);
                if let Some(b) = below {
                    parts.entry(String::from(b)).or_default().add(c);
                }
                break;
            }
            let Some(parent) = parents.get(node) else { break };
            below = Some(node);
            node = parent;
        }
    }
    Ok((total, parts))
}

#[derive(Deserialize, IntoParams)]
pub struct AreaQuery {
    /// A division or grid code.
    pub within: String,
    /// First day, YYYY-MM-DD (default: a year before `to`).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
}

impl AreaQuery {
    /// The period's first and last day: by default the year up to today.
    pub fn days(&self) -> AppResult<(NaiveDate, NaiveDate)> {
        let parse = |field: &str, v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| AppError::invalid(format!("{field}: '{v}' is not a date; write YYYY-MM-DD")))
        };
        let to = match self.to.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => parse("to", t)?,
            None => gongzhi_core::calendar::china_today(),
        };
        let from = match self.from.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => parse("from", f)?,
            None => to - chrono::Duration::days(364),
        };
        if from > to {
            return Err(AppError::invalid("from: the first day comes before the last (to)"));
        }
        Ok((from, to))
    }
}

#[derive(Serialize, ToSchema)]
pub struct AreaIndicators {
    pub within: String,
    pub from: String,
    pub to: String,
    #[schema(value_type = Object)]
    pub counts: GridCounts,
    /// 漏报率 over the area: resident reports / registered cases.
    pub missed_report_rate: Option<f64>,
    /// Per part (child division, or grid of a community): code, counts, 漏报率.
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<(String, GridCounts, Option<f64>)>,
}

/// Grid indicators added up over an area (the dashboard's and the map's): cases found by
/// patrol vs reported by residents and 漏报率, needs, resources used, participation, per part;
/// for staff whose jurisdiction covers the area.
pub async fn area_indicators(s: &AppState, p: &Principal, q: AreaQuery) -> AppResult<AreaIndicators> {
    require_area_indicators(p, &q.within)?;
    let (from, to) = q.days()?;
    let (from_ms, to_ms) = day_range_ms(from, to);
    let city = p.city;
    let (counts, parts) = area_grid_counts(s, city, &q.within, from_ms, to_ms).await?;
    let mut parts: Vec<_> = parts
        .into_iter()
        .map(|(code, c)| {
            let rate = gridteam::missed_report_rate(c.cases_by_residents, c.cases_registered);
            (code, c, rate)
        })
        .collect();
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(AreaIndicators {
        within: q.within,
        from: from.to_string(),
        to: to.to_string(),
        missed_report_rate: gridteam::missed_report_rate(counts.cases_by_residents, counts.cases_registered),
        counts,
        parts,
    })
}

/// Milliseconds from the start of `from` to the end of `to`, in China Standard Time.
pub fn day_range_ms(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    use gongzhi_core::calendar::china_day_start_ms as start;
    (start(from), start(to + chrono::Duration::days(1)))
}

/// Unix ms at which a month begins in China.
fn month_start_ms(y: i32, m: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, 1).map_or(0, gongzhi_core::calendar::china_day_start_ms)
}

/// A grid's indicators, in all and month by month.
pub async fn indicators_of(s: &AppState, city: CityCode, g: &Grid) -> AppResult<Indicators> {
    let counts = s.store.grid_counts(city, g.code.as_str(), 0, i64::MAX).await?;
    let today = gongzhi_core::calendar::china_today();
    let mut months = Vec::new();
    let (mut y, mut m) = (today.year(), today.month());
    for _ in 0..6 {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let c = s
            .store
            .grid_counts(city, g.code.as_str(), month_start_ms(y, m), month_start_ms(ny, nm))
            .await?;
        let rate = gridteam::missed_report_rate(c.cases_by_residents, c.cases_registered);
        months.push((format!("{y}-{m:02}"), c, rate));
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    }
    months.reverse();
    Ok(Indicators {
        grid: g.code.to_string(),
        missed_report_rate: gridteam::missed_report_rate(counts.cases_by_residents, counts.cases_registered),
        counts,
        months,
    })
}

/// Grid indicators: cases found by patrol vs reported by residents (漏报率), needs met,
/// resources used, participation; in all and month by month. Seen by the grid team and staff
/// above.
pub async fn grid_indicators(s: &AppState, p: &Principal, code: &str) -> AppResult<Indicators> {
    let g = grid(s, p, code).await?;
    if !is_team(p, &g) {
        return Err(AppError::forbidden(
            "grid indicators are seen by the grid team and staff above",
        ));
    }
    indicators_of(s, p.city, &g).await
}
