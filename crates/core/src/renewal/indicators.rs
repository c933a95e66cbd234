//! Micro-renewal indicators (微更新指标) of an area and period, folded from facts the store reads:
//! how far needs travelled (raised → clustered → in a proposal → delivered), who took part
//! (shares of the area's verified residents who raised, deliberated, voted, co-produced), how much
//! of the projects' value residents and organisations co-produced (money and volunteer hours), how
//! many separate interventions merging saved, and how long a need waited for its delivery.
//!
//! Definitions (docs/glossary.md repeats them):
//! - a **need** counts when it has a renewal category and was raised in the period; it is
//!   *clustered* when it sits in an active cluster, *in a proposal* when its cluster (after merges)
//!   is the cluster of a proposal, *delivered* when that proposal's delivery project has all its
//!   milestones (at least one) done; its delivery day is the last milestone's done day;
//! - **participation** counts distinct verified residents of the area; a share is that count over
//!   the area's verified residents;
//! - **co-production** values volunteer hours at the city's hour value (by default
//!   [`HOUR_VALUE_CENTS`]); over the projects' public
//!   budget plus what was co-produced, the money share is contributed money / that total, the
//!   hours share is the hours' value / that total, and the co-produced share is their sum;
//! - **interventions** are the before/after counts of [`super::works::place_report`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use super::works::PlaceReport;
use crate::indicators::{percent_or_dash, Ratio};

/// What an hour of volunteer work is worth in the co-produced share by default: 25 元,
/// Shanghai's hourly minimum wage for part-time work (2025). Cities set their own.
pub const HOUR_VALUE_CENTS: i64 = 2_500;

/// The highest hour value a city may set (1,000 元).
pub const MAX_HOUR_VALUE_CENTS: i64 = 100_000;

/// Checks a city's hour value.
pub fn check_hour_value(cents: i64) -> Result<(), crate::DomainError> {
    if (0..=MAX_HOUR_VALUE_CENTS).contains(&cents) {
        Ok(())
    } else {
        Err(crate::DomainError::invalid(
            "hour_value_cents",
            format!("value an hour of volunteer work at 0 to {MAX_HOUR_VALUE_CENTS} cents (1,000 元), not {cents}"),
        ))
    }
}

/// A renewal need raised in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedFact {
    pub id: i64,
    /// The day it was raised (China Standard Time).
    pub day: NaiveDate,
    /// The resident it was raised by or for.
    pub raiser: Option<i64>,
    /// Its active cluster, if clustered.
    pub cluster: Option<i64>,
}

/// What the store reads for an area and period.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub needs: Vec<NeedFact>,
    /// Merged clusters → the cluster they were merged into.
    pub merged_into: BTreeMap<i64, i64>,
    /// Cluster → the proposals made from it.
    pub proposals: BTreeMap<i64, Vec<i64>>,
    /// Proposal → the day its delivery project was delivered (all milestones done).
    pub delivered: BTreeMap<i64, NaiveDate>,
    /// The verified residents of the area.
    pub residents: BTreeSet<i64>,
    /// Wrote a proposal, an amendment or a comment, or attended a council meeting.
    pub deliberated: BTreeSet<i64>,
    pub voted: BTreeSet<i64>,
    pub co_produced: BTreeSet<i64>,
    /// The public budget of the area's delivery projects in the period.
    pub budget_cents: i64,
    /// What residents and organisations gave those projects.
    pub money_cents: i64,
    pub hours_tenths: i64,
    pub interventions: Option<PlaceReport>,
}

/// How far the period's needs travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct NeedFunnel {
    pub raised: usize,
    pub clustered: usize,
    pub in_proposals: usize,
    pub delivered: usize,
}

/// A number of residents and their share of the area's verified residents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share {
    pub count: usize,
    /// `12.50%`, or `—` when the area has no verified residents.
    pub share: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participation {
    pub raised: Share,
    pub deliberated: Share,
    pub voted: Share,
    pub co_produced: Share,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoProduced {
    pub budget_cents: i64,
    pub money_cents: i64,
    pub hours_tenths: i64,
    pub hour_value_cents: i64,
    pub money_share: String,
    pub hours_share: String,
    pub share: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Interventions {
    pub before: usize,
    pub after: usize,
    pub diggings_before: usize,
    pub diggings_after: usize,
}

/// Days from a need to its delivery, over the delivered needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiting {
    pub count: usize,
    /// One decimal; `None` without delivered needs.
    pub mean: Option<f64>,
    pub median: Option<f64>,
}

/// The indicators of an area and period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenewalIndicators {
    pub needs: NeedFunnel,
    pub residents: usize,
    pub participation: Participation,
    pub co_production: CoProduced,
    pub interventions: Interventions,
    pub days_to_delivery: Waiting,
}

/// The cluster a (possibly merged) cluster ended in. Merge chains are short; a cycle, which the
/// store never writes, stops after as many steps as there are merges.
fn final_cluster(merged_into: &BTreeMap<i64, i64>, mut c: i64) -> i64 {
    for _ in 0..=merged_into.len() {
        match merged_into.get(&c) {
            Some(&next) => c = next,
            None => break,
        }
    }
    c
}

fn share(set: &BTreeSet<i64>, residents: &BTreeSet<i64>) -> Share {
    let count = set.intersection(residents).count();
    Share {
        count,
        share: percent_or_dash(Ratio::new(count as u64, residents.len() as u64)),
    }
}

fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

/// Fold the facts into the indicators, an hour of volunteer work being worth `hour_value_cents`.
pub fn compute(f: &Facts, hour_value_cents: i64) -> RenewalIndicators {
    // Proposals by the cluster they now stand for (a merged cluster's proposals follow it).
    let mut proposals: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (cluster, ps) in &f.proposals {
        proposals
            .entry(final_cluster(&f.merged_into, *cluster))
            .or_default()
            .extend(ps);
    }
    let mut funnel = NeedFunnel {
        raised: f.needs.len(),
        ..NeedFunnel::default()
    };
    let mut waits = Vec::new();
    for n in &f.needs {
        let Some(cluster) = n.cluster else { continue };
        funnel.clustered += 1;
        let Some(ps) = proposals.get(&final_cluster(&f.merged_into, cluster)) else {
            continue;
        };
        funnel.in_proposals += 1;
        // The first delivery that answered it.
        if let Some(day) = ps.iter().filter_map(|p| f.delivered.get(p)).min() {
            funnel.delivered += 1;
            waits.push((*day - n.day).num_days().max(0));
        }
    }
    waits.sort_unstable();
    let raisers: BTreeSet<i64> = f.needs.iter().filter_map(|n| n.raiser).collect();
    let hours_value = f.hours_tenths.max(0) * hour_value_cents.max(0) / 10;
    let money = f.money_cents.max(0);
    let total = (f.budget_cents.max(0) + money + hours_value) as u64;
    let pct = |x: i64| percent_or_dash(Ratio::new(x as u64, total));
    RenewalIndicators {
        needs: funnel,
        residents: f.residents.len(),
        participation: Participation {
            raised: share(&raisers, &f.residents),
            deliberated: share(&f.deliberated, &f.residents),
            voted: share(&f.voted, &f.residents),
            co_produced: share(&f.co_produced, &f.residents),
        },
        co_production: CoProduced {
            budget_cents: f.budget_cents,
            money_cents: f.money_cents,
            hours_tenths: f.hours_tenths,
            hour_value_cents,
            money_share: pct(money),
            hours_share: pct(hours_value),
            share: pct(money + hours_value),
        },
        interventions: f
            .interventions
            .as_ref()
            .map(|r| Interventions {
                before: r.before,
                after: r.after,
                diggings_before: r.diggings_before,
                diggings_after: r.diggings_after,
            })
            .unwrap_or_default(),
        days_to_delivery: Waiting {
            count: waits.len(),
            mean: (!waits.is_empty())
                .then(|| (waits.iter().sum::<i64>() as f64 / waits.len() as f64 * 10.0).round() / 10.0),
            median: median(&waits),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn need(id: i64, day: &str, raiser: i64, cluster: Option<i64>) -> NeedFact {
        NeedFact {
            id,
            day: d(day),
            raiser: Some(raiser),
            cluster,
        }
    }

    #[test]
    fn the_funnel_follows_merges_and_deliveries() {
        let mut f = Facts {
            needs: vec![
                need(1, "2026-03-01", 10, Some(100)),
                need(2, "2026-03-05", 11, Some(100)),
                // Cluster 101 was merged into 100 after its need joined it.
                need(3, "2026-03-09", 11, Some(101)),
                need(4, "2026-03-02", 12, Some(200)),
                need(5, "2026-03-03", 99, None),
            ],
            merged_into: [(101, 100)].into(),
            // Proposal 7 from cluster 100, 8 from cluster 200 (not delivered).
            proposals: [(100, vec![7]), (200, vec![8])].into(),
            delivered: [(7, d("2026-06-01"))].into(),
            residents: [10, 11, 12, 13].into(),
            deliberated: [10, 13, 77].into(),
            voted: [10, 11, 12].into(),
            co_produced: [13].into(),
            budget_cents: 1_000_000,
            money_cents: 50_000,
            // 20 hours × 25 元 = 500 元.
            hours_tenths: 200,
            interventions: None,
        };
        let i = compute(&f, HOUR_VALUE_CENTS);
        assert_eq!(
            i.needs,
            NeedFunnel {
                raised: 5,
                clustered: 4,
                in_proposals: 4,
                delivered: 3
            }
        );
        // 92, 88 and 84 days: mean 88.0, median 88.
        assert_eq!(i.days_to_delivery.count, 3);
        assert_eq!(i.days_to_delivery.mean, Some(88.0));
        assert_eq!(i.days_to_delivery.median, Some(88.0));
        // Raisers 10, 11, 12 (99 is not a verified resident): 3 of 4.
        assert_eq!(i.participation.raised.share, "75.00%");
        // 77 is not a resident of the area: 2 of 4.
        assert_eq!(i.participation.deliberated.count, 2);
        assert_eq!(i.participation.co_produced.share, "25.00%");
        // 500 + 500 of 10,000 + 500 + 500 = 11,000 元.
        assert_eq!(i.co_production.money_share, "4.55%");
        assert_eq!(i.co_production.hours_share, "4.55%");
        assert_eq!(i.co_production.share, "9.09%");
        f.residents.clear();
        f.budget_cents = 0;
        f.money_cents = 0;
        f.hours_tenths = 0;
        let i = compute(&f, HOUR_VALUE_CENTS);
        assert_eq!(i.participation.voted.share, "—");
        assert_eq!(i.co_production.share, "—");
    }

    #[test]
    fn an_even_number_of_waits_has_a_middle_median() {
        let f = Facts {
            needs: vec![need(1, "2026-01-01", 1, Some(5)), need(2, "2026-01-04", 1, Some(6))],
            proposals: [(5, vec![1]), (6, vec![2])].into(),
            delivered: [(1, d("2026-01-11")), (2, d("2026-01-09"))].into(),
            ..Facts::default()
        };
        let w = compute(&f, HOUR_VALUE_CENTS).days_to_delivery;
        assert_eq!((w.count, w.mean, w.median), (2, Some(7.5), Some(7.5)));
        assert!(compute(&Facts::default(), HOUR_VALUE_CENTS)
            .days_to_delivery
            .mean
            .is_none());
        assert!(check_hour_value(0).is_ok() && check_hour_value(MAX_HOUR_VALUE_CENTS).is_ok());
        assert!(check_hour_value(-1).is_err() && check_hour_value(MAX_HOUR_VALUE_CENTS + 1).is_err());
    }
}
