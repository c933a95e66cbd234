//! The command centre's figures (指挥中心): the indicators of an area or unit over a period, its
//! monthly trend, the categories, the overdue cases and the breakdown into parts; and the map's
//! parts with their figures. Everything comes from the incrementally kept counters.

use gongzhi_core::access::Principal;
use gongzhi_core::indicators::Counters;
use gongzhi_store::prelude::*;
use gongzhi_store::{CaseQuery, CaseRow};

use crate::{AppError, AppResult, AppState};

/// A period of one area (`dim` area, `key` a division or grid code) or unit (`dim` unit, `key`
/// its id), days `YYYY-MM-DD` (China time).
pub struct Period {
    pub dim: String,
    pub key: String,
    pub from: String,
    pub to: String,
}

/// What the dashboard shows of a period.
pub struct Figures {
    pub counters: Counters,
    /// Per month of the period.
    pub months: Vec<(String, Counters)>,
    /// Per category of the whole city.
    pub by_category: Vec<(String, Counters)>,
    /// The first overdue open cases (and how many there are).
    pub overdue: (Vec<CaseRow>, i64),
    /// The parts of the area (or every unit), each with its name and counters.
    pub parts: Vec<(String, String, Counters)>,
}

fn require(p: &Principal, period: &Period) -> AppResult<()> {
    if super::may_read_indicators(p, &period.dim, Some(&period.key)) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "the indicators of {} {} are for its staff",
            period.dim, period.key
        )))
    }
}

/// The dashboard's figures, for those who may read the period's indicators.
pub async fn figures(s: &AppState, p: &Principal, period: &Period, overdue_page: u32) -> AppResult<Figures> {
    require(p, period)?;
    let city = p.city;
    let q_overdue = CaseQuery {
        visibility: super::visibility(p),
        overdue_at: Some(gongzhi_store::now_ms()),
        within: (period.dim == "area").then(|| period.key.clone()),
        unit: (period.dim == "unit").then(|| period.key.parse().ok()).flatten(),
        page: 1,
        page_size: overdue_page,
        ..Default::default()
    };
    let a = s.store.analytic();
    // The parts of the page are independent reads: run them at once (the analytic pool has
    // several connections; interactive requests keep the main one), so the page takes about as long as its slowest part.
    let (counters, months, by_category, overdue, parts) = tokio::try_join!(
        a.counters(city, &period.dim, &period.key, &period.from, &period.to),
        a.counters_grouped(city, &period.dim, Some(&period.key), &period.from, &period.to, "month"),
        a.counters_grouped(city, "category", None, &period.from, &period.to, "key"),
        a.list_cases(city, &q_overdue),
        parts(&a, city, period),
    )?;
    Ok(Figures {
        counters,
        months,
        by_category,
        overdue,
        parts,
    })
}

/// The breakdown: every unit (by collected, then dispatched, descending) when the period is a
/// unit's, else the parts of the area (the grids of a community, the subdivisions otherwise).
async fn parts(
    a: &gongzhi_store::Store,
    city: CityCode,
    p: &Period,
) -> Result<Vec<(String, String, Counters)>, gongzhi_store::StoreError> {
    let mut out = Vec::new();
    if p.dim == "unit" {
        let names: std::collections::HashMap<String, String> = a
            .organisations(city, None)
            .await?
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect();
        for (k, c) in a.counters_grouped(city, "unit", None, &p.from, &p.to, "key").await? {
            let name = names.get(&k).cloned().unwrap_or_default();
            out.push((k, name, c));
        }
        out.sort_by(|a, b| {
            b.2.collected
                .cmp(&a.2.collected)
                .then(b.2.dispatched.cmp(&a.2.dispatched))
        });
        return Ok(out);
    }
    let children: Vec<(String, String)> = if p.key.len() == 12 {
        a.grids(city, Some(&p.key), 1, 1000)
            .await?
            .grids
            .into_iter()
            .map(|g| (g.code.to_string(), g.name))
            .collect()
    } else {
        a.child_divisions(city, Some(&p.key), None)
            .await?
            .into_iter()
            .map(|d| (d.code.to_string(), d.name))
            .collect()
    };
    for (code, name) in children {
        let c = a.counters(city, "area", &code, &p.from, &p.to).await?;
        out.push((code, name, c));
    }
    Ok(out)
}

/// The case counters of each area over a period, for those who may read the indicators of
/// every one of them.
pub async fn area_counters(
    s: &AppState,
    p: &Principal,
    codes: &[&str],
    from: &str,
    to: &str,
) -> AppResult<Vec<Counters>> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        super::require_indicators(p, "area", Some(code))?;
        out.push(s.store.counters(p.city, "area", code, from, to).await?);
    }
    Ok(out)
}

/// The name of a period's key: the unit's, the grid's or the division's (the key itself when
/// there is none).
pub async fn name_of(s: &AppState, city: CityCode, period: &Period) -> AppResult<String> {
    let name = if period.dim == "unit" {
        s.store
            .organisation(city, period.key.parse().unwrap_or(0))
            .await?
            .map(|o| o.name)
    } else if period.key.len() == 15 {
        s.store.grid(city, &period.key).await?.map(|g| g.name)
    } else {
        s.store.division(city, &period.key).await?.map(|d| d.name)
    };
    Ok(name.unwrap_or_else(|| period.key.clone()))
}

/// The breakdown alone (for exports), for those who may read the period's indicators.
pub async fn breakdown(s: &AppState, p: &Principal, period: &Period) -> AppResult<Vec<(String, String, Counters)>> {
    require(p, period)?;
    Ok(parts(&s.store.analytic(), p.city, period).await?)
}
