//! The facts behind the micro-renewal indicators of an area and period (see
//! `gongzhi_core::renewal::indicators`, which folds them): a handful of grouped reads, each
//! bounded by the city and the area's code prefix.

use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use gongzhi_core::access::Scope;
use gongzhi_core::gridteam::{Category, Need};
use gongzhi_core::renewal::indicators::{Facts, NeedFact};
use gongzhi_core::renewal::works::{place_report, Bundle, Item, PlaceReport, Window};
use gongzhi_core::territory::{DivisionCode, Level};

use super::from_json;
use super::works::day;
use crate::{Store, StoreError};

// The days of the period are days in China.
use gongzhi_core::calendar::{china_date_of_ms as local_day, china_day_start_ms as day_start_ms};

/// The prefix every code inside `area` starts with (a city's codes share its first four digits).
pub fn area_prefix(area: &str) -> String {
    match DivisionCode::parse(area) {
        Ok(d) if d.level() == Level::City => area[..4].to_owned(),
        _ => area.to_owned(),
    }
}

/// Whether a resident grant's scope lies inside the area (a community resident is a resident of
/// its street, district and city, not of one of its grids).
fn lives_in(scope: &Scope, prefix: &str) -> bool {
    match scope {
        Scope::Division(d) => d.as_str().starts_with(prefix),
        Scope::Grids(gs) => !gs.is_empty() && gs.iter().all(|g| g.starts_with(prefix)),
        Scope::Organisation(_) => false,
    }
}

/// Whether a window overlaps the period's days.
fn overlaps(w: &Window, from: NaiveDate, to: NaiveDate) -> bool {
    w.from <= to && w.to >= from
}

/// Micro-renewal indicators.
pub trait RenewalIndicatorStore {
    /// The facts of the micro-renewal indicators of `area` (a division code) over the local days
    /// `from ..= to`.
    fn renewal_facts(
        &self,
        city: CityCode,
        area: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<Facts, StoreError>> + Send;
}

impl RenewalIndicatorStore for Store {
    async fn renewal_facts(
        &self,
        city: CityCode,
        area: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Facts, StoreError> {
        let prefix = area_prefix(area);
        let like = format!("{prefix}%");
        // Community records (clusters, proposals, votes, deliveries) of the area, or of the
        // community of a grid.
        let community_like = format!("{}%", &prefix[..prefix.len().min(12)]);
        let (from_ms, to_ms) = (day_start_ms(from), day_start_ms(to + chrono::Days::new(1)));
        let mut f = Facts::default();

        let needs: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT n.id, n.created_at, n.body, cn.cluster_id FROM grid_needs n
             LEFT JOIN renewal_cluster_needs cn ON cn.city = n.city AND cn.need_id = n.id
             WHERE n.city = $1 AND n.area LIKE $2 AND n.created_at >= $3 AND n.created_at < $4 ORDER BY n.id",
        )
        .bind(city.as_str())
        .bind(&like)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        for (id, created_at, body, cluster) in needs {
            let need: Need = from_json(&body, "a need")?;
            if Category::RENEWAL.contains(&need.category) {
                f.needs.push(NeedFact {
                    id,
                    day: local_day(created_at),
                    raiser: need.raised_by,
                    cluster,
                });
            }
        }

        let merged: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, merged_into FROM renewal_clusters WHERE city = $1 AND community LIKE $2 AND merged_into IS NOT NULL",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .fetch_all(&self.pool)
        .await?;
        f.merged_into = merged.into_iter().collect();

        let proposals: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, cluster FROM renewal_proposals WHERE city = $1 AND community LIKE $2 AND cluster IS NOT NULL ORDER BY id",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .fetch_all(&self.pool)
        .await?;
        for (id, cluster) in proposals {
            f.proposals.entry(cluster).or_default().push(id);
        }

        // A proposal's project is delivered when all its milestones (one at least) are done.
        let milestones: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT d.proposal, m.done FROM renewal_deliveries d
             JOIN renewal_milestones m ON m.city = d.city AND m.delivery = d.id
             WHERE d.city = $1 AND d.community LIKE $2 AND d.proposal IS NOT NULL",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .fetch_all(&self.pool)
        .await?;
        let mut last_done: BTreeMap<i64, Option<NaiveDate>> = BTreeMap::new();
        for (proposal, done) in milestones {
            let done = done.as_deref().map(day).transpose()?;
            let e = last_done.entry(proposal).or_insert(done);
            *e = match (*e, done) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        f.delivered = last_done.into_iter().filter_map(|(p, d)| Some((p, d?))).collect();

        // Only grants whose encoded scope starts inside the area (`division:CODE…`,
        // `grids:CODE…`) can lie in it; `lives_in` then checks every grid of a grids scope.
        let grants: Vec<(i64, String)> = sqlx::query_as(
            "SELECT person_id, scope FROM grants WHERE city = $1 AND role = 'resident' AND (scope LIKE $2 OR scope LIKE $3)",
        )
        .bind(city.as_str())
        .bind(format!("division:{prefix}%"))
        .bind(format!("grids:{prefix}%"))
        .fetch_all(&self.pool)
        .await?;
        f.residents = grants
            .into_iter()
            .filter(|(_, scope)| Scope::decode(scope).is_ok_and(|s| lives_in(&s, &prefix)))
            .map(|(p, _)| p)
            .collect();

        // Deliberation: proposals, amendments and comments written in the period, council meetings
        // attended.
        let writers: Vec<(i64,)> = sqlx::query_as(
            "SELECT author FROM renewal_proposals WHERE city = $1 AND community LIKE $2 AND created_at >= $3 AND created_at < $4
             UNION
             SELECT a.author FROM renewal_amendments a JOIN renewal_proposals p ON p.city = a.city AND p.id = a.proposal
             WHERE a.city = $1 AND p.community LIKE $2 AND a.created_at >= $3 AND a.created_at < $4
             UNION
             SELECT c.author FROM renewal_comments c JOIN renewal_proposals p ON p.city = c.city AND p.id = c.proposal
             WHERE c.city = $1 AND p.community LIKE $2 AND c.created_at >= $3 AND c.created_at < $4",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        f.deliberated = writers.into_iter().map(|(p,)| p).collect();
        let meetings: Vec<(String,)> = sqlx::query_as(
            "SELECT attendance FROM renewal_meetings WHERE city = $1 AND community LIKE $2 AND held_at >= $3 AND held_at < $4",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut attended: BTreeSet<i64> = BTreeSet::new();
        for (a,) in meetings {
            attended.extend(from_json::<Vec<i64>>(&a, "a meeting's attendance")?);
        }
        if !attended.is_empty() {
            let members: Vec<(i64, Option<i64>)> =
                sqlx::query_as("SELECT id, person FROM renewal_council_members WHERE city = $1 AND community LIKE $2")
                    .bind(city.as_str())
                    .bind(&community_like)
                    .fetch_all(&self.pool)
                    .await?;
            f.deliberated.extend(
                members
                    .into_iter()
                    .filter(|(id, _)| attended.contains(id))
                    .filter_map(|(_, person)| person),
            );
        }

        let voters: Vec<(i64,)> = sqlx::query_as(
            "SELECT DISTINCT v.person FROM renewal_voted v JOIN renewal_votes w ON w.city = v.city AND w.id = v.vote
             WHERE v.city = $1 AND w.community LIKE $2 AND w.opens_at < $4 AND w.closes_at >= $3",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        f.voted = voters.into_iter().map(|(p,)| p).collect();

        // Co-production over the delivery projects whose window overlaps the period (ISO days
        // compare as text).
        let (from_s, to_s) = (from.to_string(), to.to_string());
        let budget: (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(SUM(budget_cents) AS BIGINT) FROM renewal_deliveries
             WHERE city = $1 AND community LIKE $2 AND date_from <= $4 AND date_to >= $3",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .bind(&from_s)
        .bind(&to_s)
        .fetch_one(&self.pool)
        .await?;
        f.budget_cents = budget.0.unwrap_or(0);
        let gifts: Vec<(Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT c.person, c.hours_tenths, c.money_cents FROM renewal_contributions c
             JOIN renewal_deliveries d ON d.city = c.city AND d.id = c.delivery
             WHERE c.city = $1 AND d.community LIKE $2 AND d.date_from <= $4 AND d.date_to >= $3",
        )
        .bind(city.as_str())
        .bind(&community_like)
        .bind(&from_s)
        .bind(&to_s)
        .fetch_all(&self.pool)
        .await?;
        for (person, hours, money) in gifts {
            f.hours_tenths += hours;
            f.money_cents += money;
            f.co_produced.extend(person);
        }

        f.interventions = Some(self.interventions(city, area, &community_like, from, to).await?);
        Ok(f)
    }
}

impl Store {
    /// The before/after report over the communities of the area, for the works and delivery
    /// projects whose window overlaps the period, and the accepted bundles whose merged window does
    /// (with all their items).
    async fn interventions(
        &self,
        city: CityCode,
        area: &str,
        community_like: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<PlaceReport, StoreError> {
        let communities: Vec<(String,)> = sqlx::query_as(
            "SELECT community FROM renewal_works WHERE city = $1 AND community LIKE $2
             UNION SELECT community FROM renewal_deliveries WHERE city = $1 AND community LIKE $2",
        )
        .bind(city.as_str())
        .bind(community_like)
        .fetch_all(&self.pool)
        .await?;
        let mut total = place_report(area, &[], &[]);
        for (community,) in communities {
            // A bundle counts whole when its merged window overlaps the period.
            let bundles: Vec<Bundle> = self
                .bundles(city, Some(&community))
                .await?
                .into_iter()
                .map(|b| b.bundle)
                .filter(|b| overlaps(&b.window, from, to))
                .collect();
            let items: Vec<Item> = self
                .renewal_items(city, &community)
                .await?
                .into_iter()
                .map(|(i, _)| i)
                .filter(|i| overlaps(&i.window, from, to) || bundles.iter().any(|b| b.items.contains(&i.key)))
                .collect();
            let r = place_report(&community, &items, &bundles);
            total.items += r.items;
            total.bundles += r.bundles;
            total.before += r.before;
            total.after += r.after;
            total.diggings_before += r.diggings_before;
            total.diggings_after += r.diggings_after;
            total.days_separate += r.days_separate;
            total.days_after += r.days_after;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_and_residents() {
        assert_eq!(area_prefix("510100"), "5101");
        assert_eq!(area_prefix("510104001001"), "510104001001");
        let community = Scope::Division(DivisionCode::parse("510104001001").unwrap());
        assert!(lives_in(&community, "510104"));
        assert!(lives_in(&community, "510104001001"));
        assert!(!lives_in(&community, "510104001001001"));
        assert!(!lives_in(&community, "510104001002"));
        assert!(lives_in(&Scope::Grids(vec!["510104001001001".into()]), "510104001001"));
        assert!(!lives_in(&Scope::Organisation(3), "5101"));
        assert_eq!(
            local_day(day_start_ms("2026-03-01".parse().unwrap())),
            "2026-03-01".parse().unwrap()
        );
    }
}
