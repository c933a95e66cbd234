//! Evidence cases: closed-loop cases that keep coming back at one place (the same broken thing
//! reported again and again) are offered as evidence for a need near them; staff link them.
//!
//! The rule is data ([`EvidenceRule`], stored per city as the setting `renewal_evidence_rule`):
//! cases of the same catalogue subcategory (小类) within `radius_m` of a seed case, at least
//! `min_reports` of them in the last `window_days`, make a recurrence; a recurrence within
//! `near_need_m` of a need is offered for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::text::distance_m;
use crate::DomainError;

/// When cases count as recurring at one place.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvidenceRule {
    /// Cases within this distance (metres) of the seed case are at the same place.
    pub radius_m: f64,
    /// At least this many reports make a recurrence.
    pub min_reports: usize,
    /// Reports older than this many days before now do not count.
    pub window_days: i64,
    /// A recurrence whose centre lies within this distance (metres) of a need is offered for it.
    pub near_need_m: f64,
}

impl Default for EvidenceRule {
    fn default() -> Self {
        EvidenceRule {
            radius_m: 50.0,
            min_reports: 3,
            window_days: 180,
            near_need_m: 100.0,
        }
    }
}

impl EvidenceRule {
    pub fn check(&self) -> Result<(), DomainError> {
        if !(self.radius_m.is_finite() && self.radius_m > 0.0 && self.radius_m <= 1000.0) {
            return Err(DomainError::invalid(
                "radius_m",
                "the radius is in metres, above 0 and at most 1000",
            ));
        }
        if self.min_reports < 2 {
            return Err(DomainError::invalid(
                "min_reports",
                "a recurrence takes at least 2 reports",
            ));
        }
        if !(1..=3650).contains(&self.window_days) {
            return Err(DomainError::invalid("window_days", "the window is 1 to 3650 days"));
        }
        if !(self.near_need_m.is_finite() && self.near_need_m > 0.0 && self.near_need_m <= 5000.0) {
            return Err(DomainError::invalid(
                "near_need_m",
                "the distance to a need is above 0 and at most 5000 m",
            ));
        }
        Ok(())
    }
}

/// What the rule needs to know of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFact {
    pub id: i64,
    /// The catalogue subcategory code (小类).
    pub subcategory: String,
    pub lng: f64,
    pub lat: f64,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// Cases of one subcategory that keep coming back at one place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recurrence {
    pub subcategory: String,
    /// The centre (mean point) of its cases.
    pub lng: f64,
    pub lat: f64,
    /// Its cases, by id.
    pub cases: Vec<i64>,
    pub first_ms: i64,
    pub last_ms: i64,
}

const DAY_MS: i64 = 86_400_000;

/// The recurrences among the cases as of `now_ms`. Deterministic: within a subcategory, the
/// case with the most neighbours (ties: lowest id) seeds a recurrence of itself and its
/// neighbours not yet taken, then the next, as long as a seed gathers `min_reports`.
pub fn recurrences(cases: &[CaseFact], rule: &EvidenceRule, now_ms: i64) -> Vec<Recurrence> {
    let from = now_ms - rule.window_days * DAY_MS;
    let mut by_sub: BTreeMap<&str, Vec<&CaseFact>> = BTreeMap::new();
    for c in cases.iter().filter(|c| c.at_ms >= from && c.at_ms <= now_ms) {
        by_sub.entry(c.subcategory.as_str()).or_default().push(c);
    }
    let mut out = Vec::new();
    for (sub, mut cs) in by_sub {
        cs.sort_by_key(|c| c.id);
        let near: Vec<Vec<usize>> = (0..cs.len())
            .map(|i| {
                (0..cs.len())
                    .filter(|&j| distance_m(cs[i].lng, cs[i].lat, cs[j].lng, cs[j].lat) <= rule.radius_m)
                    .collect()
            })
            .collect();
        let mut order: Vec<usize> = (0..cs.len()).collect();
        order.sort_by(|&a, &b| near[b].len().cmp(&near[a].len()).then(cs[a].id.cmp(&cs[b].id)));
        let mut taken = vec![false; cs.len()];
        for i in order {
            if taken[i] {
                continue;
            }
            let members: Vec<usize> = near[i].iter().copied().filter(|&j| !taken[j]).collect();
            if members.len() < rule.min_reports {
                continue;
            }
            for &j in &members {
                taken[j] = true;
            }
            let k = members.len() as f64;
            let mut ids: Vec<i64> = members.iter().map(|&j| cs[j].id).collect();
            ids.sort_unstable();
            out.push(Recurrence {
                subcategory: sub.to_owned(),
                lng: members.iter().map(|&j| cs[j].lng).sum::<f64>() / k,
                lat: members.iter().map(|&j| cs[j].lat).sum::<f64>() / k,
                cases: ids,
                first_ms: members.iter().map(|&j| cs[j].at_ms).min().unwrap_or(0),
                last_ms: members.iter().map(|&j| cs[j].at_ms).max().unwrap_or(0),
            });
        }
    }
    out
}

/// The recurrences offered for a need at (lng, lat), nearest first, with their distance.
pub fn offers_for(lng: f64, lat: f64, recs: &[Recurrence], rule: &EvidenceRule) -> Vec<(Recurrence, f64)> {
    let mut v: Vec<(Recurrence, f64)> = recs
        .iter()
        .map(|r| (r.clone(), distance_m(lng, lat, r.lng, r.lat)))
        .filter(|(_, d)| *d <= rule.near_need_m)
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cases.cmp(&b.0.cases)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: i64, sub: &str, dlat_m: f64, days_ago: i64) -> CaseFact {
        CaseFact {
            id,
            subcategory: sub.into(),
            lng: 104.06,
            lat: 30.66 + dlat_m / 111_320.0,
            at_ms: 1_000 * DAY_MS - days_ago * DAY_MS,
        }
    }

    #[test]
    fn three_reports_near_one_place_within_the_window_recur() {
        let now = 1_000 * DAY_MS;
        let rule = EvidenceRule::default();
        let cases = vec![
            case(1, "0101", 0.0, 10),
            case(2, "0101", 20.0, 40),
            case(3, "0101", 40.0, 100),
            case(4, "0101", 400.0, 5), // elsewhere
            case(5, "0102", 0.0, 5),   // another subcategory
            case(6, "0102", 5.0, 6),
            case(7, "0101", 10.0, 300), // too old
        ];
        let r = recurrences(&cases, &rule, now);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].cases, vec![1, 2, 3]);
        let strict = EvidenceRule { min_reports: 4, ..rule };
        assert!(recurrences(&cases, &strict, now).is_empty());
        assert_eq!(offers_for(104.06, 30.66, &r, &rule).len(), 1);
        assert!(offers_for(104.07, 30.66, &r, &rule).is_empty());
        assert!(EvidenceRule { min_reports: 1, ..rule }.check().is_err());
    }
}
