//! Delivery projects (共建项目, see `gongzhi_core::renewal::delivery`): milestones with photos
//! (stored as documents), spending, contributions, upkeep with check-ins, acceptance answers and
//! the supervision of late milestones. Every change appends to the stream `renewal_delivery:ID`.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use crate::write::Write;
use chrono::NaiveDate;
use gongzhi_core::case::Satisfaction;
use gongzhi_core::renewal::delivery::{
    self, supervision_due, Acceptance, Checkin, Contribution, ContributorKind, Milestone, MilestoneAction,
    MilestoneState, NewDelivery, Upkeep,
};
use gongzhi_core::renewal::works::{Item, ItemRef, Place, Window, WorkKind};
use gongzhi_core::DomainError;
use serde::Serialize;

use super::refused;
use super::works::{bad_stored, day, window};
use crate::{events, now_ms, Store, StoreError};

/// The largest milestone photo stored: the one size table's photo limit.
pub const MILESTONE_PHOTO_MAX_BYTES: usize = gongzhi_core::media::PHOTO_MAX_BYTES;

/// A stored delivery project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub proposal: Option<i64>,
    pub community: String,
    pub title: String,
    pub kind: WorkKind,
    pub site: Place,
    pub budget_cents: i64,
    pub window: Window,
    pub bundle: Option<i64>,
    pub spent_cents: i64,
}

impl DeliveryRow {
    pub fn item(&self) -> Item {
        Item {
            key: ItemRef::Delivery(self.id),
            title: self.title.clone(),
            kind: self.kind,
            place: self.site.clone(),
            window: self.window,
            budget_cents: self.budget_cents,
            department: None,
        }
    }
}

/// Money spent on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spending {
    pub id: i64,
    pub amount_cents: i64,
    pub note: String,
    pub date: NaiveDate,
}

/// A stored contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContributionRow {
    pub id: i64,
    #[serde(flatten)]
    pub contribution: Contribution,
}

/// Everything about one delivery project. Acceptance answers carry no names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryDetail {
    pub delivery: DeliveryRow,
    pub milestones: Vec<Milestone>,
    pub spending: Vec<Spending>,
    pub contributions: Vec<ContributionRow>,
    pub upkeep: Vec<Upkeep>,
    pub acceptance: Vec<Acceptance>,
}

/// A milestone that is late or due soon, for the supervision list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupervisedMilestone {
    pub delivery: i64,
    pub delivery_title: String,
    pub community: String,
    pub milestone: Milestone,
    pub state: MilestoneState,
    pub days_late: i64,
}

type DeliveryTuple = (
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
);

const DELIVERY_SELECT: &str = "SELECT d.id, d.proposal, d.community, d.title, d.kind, d.geometry, d.date_from, d.date_to, d.budget_cents, d.bundle,
        CAST(COALESCE((SELECT SUM(s.amount_cents) FROM renewal_spending s WHERE s.city = d.city AND s.delivery = d.id), 0) AS BIGINT)
    FROM renewal_deliveries d";

fn delivery_of(r: DeliveryTuple) -> Result<DeliveryRow, StoreError> {
    let (id, proposal, community, title, kind, geometry, from, to, budget_cents, bundle, spent_cents) = r;
    Ok(DeliveryRow {
        id,
        proposal,
        community,
        title,
        kind: kind.parse()?,
        site: Place::from_geojson(&geometry)?,
        budget_cents,
        window: window(&from, &to)?,
        bundle,
        spent_cents,
    })
}

fn stream(id: i64) -> String {
    format!("renewal_delivery:{id}")
}

async fn append(
    tx: &mut Write<'_>,
    city: CityCode,
    delivery: i64,
    kind: &str,
    actor: Option<PersonId>,
    payload: &serde_json::Value,
) -> Result<i64, StoreError> {
    events::append(tx, city, &stream(delivery), kind, actor, None, None, payload).await
}

type MilestoneTuple = (i64, String, String, Option<String>, String, i64);

fn milestone_of(r: MilestoneTuple) -> Result<Milestone, StoreError> {
    let (id, title, due, done, photos, supervision) = r;
    Ok(Milestone {
        id,
        title,
        due: day(&due)?,
        done: done.as_deref().map(day).transpose()?,
        photos: serde_json::from_str(&photos).map_err(|e| bad_stored("photos", e))?,
        supervision: supervision.clamp(0, 3) as u8,
    })
}

/// The document name of a milestone photo.
pub fn photo_name(delivery: i64, milestone: i64, n: usize) -> String {
    format!("renewal_photo:{delivery}:{milestone}:{n}")
}

/// Delivery of works: milestones, contributions, acceptance.
pub trait DeliveryStore {
    /// Start a delivery project (a funded proposal's, or one that staff create). Its event
    /// `delivery_started` carries the proposal it delivers.
    fn start_delivery(
        &self,
        city: CityCode,
        d: &NewDelivery,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The delivery projects of a community (all the city's without one).
    fn deliveries(
        &self,
        city: CityCode,
        community: Option<&str>,
    ) -> impl Future<Output = Result<Vec<DeliveryRow>, StoreError>> + Send;
    fn delivery_row(&self, city: CityCode, id: i64) -> impl Future<Output = Result<DeliveryRow, StoreError>> + Send;
    /// A delivery project with its milestones, spending, contributions, upkeep and acceptance.
    fn delivery(&self, city: CityCode, id: i64) -> impl Future<Output = Result<DeliveryDetail, StoreError>> + Send;
    fn add_milestone(
        &self,
        city: CityCode,
        delivery: i64,
        title: &str,
        due: NaiveDate,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Mark a milestone done on `date` (once: 409 if it is done already).
    fn complete_milestone(
        &self,
        city: CityCode,
        delivery: i64,
        milestone: i64,
        date: NaiveDate,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Milestone, StoreError>> + Send;
    /// Attach a photo to a milestone: stored in the media store (owner `milestone:D:M`, public,
    /// also known by its document name `renewal_photo:D:M:N`) in the same transaction as the
    /// milestone's change and its events (`document_changed` on the name's stream, as when photos
    /// were documents, and `milestone_photo_added`). Returns the photo's name.
    fn add_milestone_photo(
        &self,
        city: CityCode,
        delivery: i64,
        milestone: i64,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// A milestone photo's media id, by its name.
    fn milestone_photo_id(&self, city: CityCode, name: &str) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Record money spent (cents > 0).
    fn record_spending(
        &self,
        city: CityCode,
        delivery: i64,
        amount_cents: i64,
        note: &str,
        date: NaiveDate,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn add_contribution(
        &self,
        city: CityCode,
        delivery: i64,
        c: &Contribution,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    #[allow(clippy::too_many_arguments)]
    fn add_upkeep(
        &self,
        city: CityCode,
        delivery: i64,
        who: &str,
        what: &str,
        every_days: i64,
        from: NaiveDate,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn add_checkin(
        &self,
        city: CityCode,
        delivery: i64,
        upkeep: i64,
        c: &Checkin,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A resident's acceptance answer (once per person and project: 409 the second time). The
    /// event records that an answer came, not who gave which verdict.
    fn answer_acceptance(
        &self,
        city: CityCode,
        delivery: i64,
        person: PersonId,
        a: &Acceptance,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Whether `person` has answered a project's acceptance survey.
    fn has_answered(
        &self,
        city: CityCode,
        delivery: i64,
        person: PersonId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The milestones that are late or due soon on `today` (open ones, and in a community when
    /// given), latest first: the supervision list.
    fn supervised_milestones(
        &self,
        city: CityCode,
        community: Option<&str>,
        today: NaiveDate,
    ) -> impl Future<Output = Result<Vec<SupervisedMilestone>, StoreError>> + Send;
    /// The supervision sweep for milestones, as the case sweep does for cases: a warning (预警)
    /// when the due date is near, an overdue mark (超期) once it has passed, each recorded once
    /// as an event `milestone_supervised`. Returns how many milestones were marked.
    fn supervise_milestones(
        &self,
        city: CityCode,
        today: NaiveDate,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

impl DeliveryStore for Store {
    async fn start_delivery(
        &self,
        city: CityCode,
        d: &NewDelivery,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        d.check()?;
        self.require_community(city, &d.community).await?;
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_deliveries (city, community, proposal, title, kind, geometry, date_from, date_to, budget_cents, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&d.community)
        .bind(d.proposal)
        .bind(d.title.trim())
        .bind(d.kind.as_str())
        .bind(d.site.to_geojson())
        .bind(d.window.from.to_string())
        .bind(d.window.to.to_string())
        .bind(d.budget_cents)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            city,
            id,
            "delivery_started",
            actor,
            &serde_json::to_value(d).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn deliveries(&self, city: CityCode, community: Option<&str>) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows: Vec<DeliveryTuple> = match community {
            Some(c) => {
                sqlx::query_as(&format!(
                    "{DELIVERY_SELECT} WHERE d.city = $1 AND d.community = $2 ORDER BY d.id"
                ))
                .bind(city.as_str())
                .bind(c)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE d.city = $1 ORDER BY d.id"))
                    .bind(city.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(delivery_of).collect()
    }

    async fn delivery_row(&self, city: CityCode, id: i64) -> Result<DeliveryRow, StoreError> {
        let row: Option<DeliveryTuple> = sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE d.city = $1 AND d.id = $2"))
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        delivery_of(row.ok_or_else(|| StoreError::NotFound(format!("delivery project {id}")))?)
    }

    async fn delivery(&self, city: CityCode, id: i64) -> Result<DeliveryDetail, StoreError> {
        let delivery = self.delivery_row(city, id).await?;
        let milestones = self
            .milestones(city, Some(id))
            .await?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        let spending: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT id, amount_cents, note, day FROM renewal_spending WHERE city = $1 AND delivery = $2 ORDER BY id",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let spending = spending
            .into_iter()
            .map(|(id, amount_cents, note, d)| {
                Ok(Spending {
                    id,
                    amount_cents,
                    note,
                    date: day(&d)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        type C = (i64, String, String, Option<i64>, Option<i64>, i64, i64, String, String);
        let contributions: Vec<C> = sqlx::query_as(
            "SELECT id, contributor, kind, person, organisation, hours_tenths, money_cents, materials, day
             FROM renewal_contributions WHERE city = $1 AND delivery = $2 ORDER BY id",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let contributions = contributions
            .into_iter()
            .map(
                |(id, contributor, kind, person, organisation, hours_tenths, money_cents, materials, d)| {
                    Ok(ContributionRow {
                        id,
                        contribution: Contribution {
                            contributor,
                            kind: kind.parse::<ContributorKind>()?,
                            person,
                            organisation,
                            hours_tenths,
                            money_cents,
                            materials,
                            date: day(&d)?,
                        },
                    })
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        let upkeep_rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT id, who, what, every_days, date_from FROM renewal_upkeep WHERE city = $1 AND delivery = $2 ORDER BY id",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut upkeep = Vec::new();
        for (uid, who, what, every_days, from) in upkeep_rows {
            let checkins: Vec<(String, i64, String)> = sqlx::query_as(
                "SELECT day, ok, note FROM renewal_checkins WHERE city = $1 AND upkeep = $2 ORDER BY id",
            )
            .bind(city.as_str())
            .bind(uid)
            .fetch_all(&self.pool)
            .await?;
            upkeep.push(Upkeep {
                id: uid,
                who,
                what,
                every_days,
                from: day(&from)?,
                checkins: checkins
                    .into_iter()
                    .map(|(d, ok, note)| {
                        Ok(Checkin {
                            date: day(&d)?,
                            ok: ok != 0,
                            note,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?,
            });
        }
        let answers: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT satisfaction, solved, comment FROM renewal_acceptance WHERE city = $1 AND delivery = $2 ORDER BY at, person",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let acceptance = answers
            .into_iter()
            .map(|(s, solved, comment)| {
                Ok(Acceptance {
                    satisfaction: s.parse::<Satisfaction>()?,
                    solved: solved != 0,
                    comment,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(DeliveryDetail {
            delivery,
            milestones,
            spending,
            contributions,
            upkeep,
            acceptance,
        })
    }

    async fn add_milestone(
        &self,
        city: CityCode,
        delivery: i64,
        title: &str,
        due: NaiveDate,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(DomainError::invalid("title", "give the milestone a title of 1 to 200 characters").into());
        }
        let mut tx = self.write().await?;
        self.lock_delivery(&mut tx, city, delivery).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_milestones (city, delivery, title, due, photos, supervision) VALUES ($1, $2, $3, $4, '[]', 0) RETURNING id",
        )
        .bind(city.as_str())
        .bind(delivery)
        .bind(title)
        .bind(due.to_string())
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            city,
            delivery,
            "milestone_added",
            actor,
            &serde_json::json!({ "milestone": id, "title": title, "due": due }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn complete_milestone(
        &self,
        city: CityCode,
        delivery: i64,
        milestone: i64,
        date: NaiveDate,
        actor: Option<PersonId>,
    ) -> Result<Milestone, StoreError> {
        // Beijing time's today: a milestone cannot be done on a day still to come.
        let today = gongzhi_core::calendar::china_date_of_ms(now_ms());
        if date > today {
            return Err(DomainError::invalid(
                "date",
                format!(
                    "{date} is still to come: mark a milestone done on the day it was done (today {today} or before)"
                ),
            )
            .into());
        }
        let mut tx = self.write().await?;
        let mut m = self.milestone_in(&mut tx, city, delivery, milestone).await?;
        delivery::decide(m.progress(), MilestoneAction::Complete).map_err(|r| {
            let done = m.done.map_or_else(String::new, |d| format!(" on {d}"));
            refused(format_args!("milestone {milestone} was done{done} already"), r)
        })?;
        sqlx::query("UPDATE renewal_milestones SET done = $1 WHERE city = $2 AND id = $3")
            .bind(date.to_string())
            .bind(city.as_str())
            .bind(milestone)
            .execute(&mut *tx)
            .await?;
        let late = (date - m.due).num_days().max(0);
        append(
            &mut tx,
            city,
            delivery,
            "milestone_done",
            actor,
            &serde_json::json!({ "milestone": milestone, "done": date, "days_late": late }),
        )
        .await?;
        tx.commit().await?;
        m.done = Some(date);
        Ok(m)
    }

    async fn add_milestone_photo(
        &self,
        city: CityCode,
        delivery: i64,
        milestone: i64,
        content_type: &str,
        data: &[u8],
        actor: Option<PersonId>,
    ) -> Result<String, StoreError> {
        if !content_type.starts_with("image/") {
            return Err(DomainError::invalid(
                "photo",
                format!("'{content_type}' is not an image type: send a JPEG or PNG"),
            )
            .into());
        }
        if data.is_empty() || data.len() > MILESTONE_PHOTO_MAX_BYTES {
            return Err(DomainError::invalid(
                "photo",
                format!(
                    "send an image of 1 byte to {} MiB",
                    MILESTONE_PHOTO_MAX_BYTES / 1024 / 1024
                ),
            )
            .into());
        }
        let mut tx = self.write().await?;
        let mut m = self.milestone_in(&mut tx, city, delivery, milestone).await?;
        let name = photo_name(delivery, milestone, m.photos.len() + 1);
        let media = crate::media::NewMedia {
            kind: gongzhi_core::media::Kind::Photo,
            content_type,
            data,
            owner: &format!("milestone:{delivery}:{milestone}"),
            public: true,
            legacy: Some(format!("documents:{name}")),
        };
        let id = crate::media::insert(&mut tx, city, &media, actor).await?;
        events::append(
            &mut tx,
            city,
            &format!("document:{name}"),
            "document_changed",
            actor,
            None,
            None,
            &serde_json::json!({ "version": 1, "bytes": data.len(), "media": id }),
        )
        .await?;
        m.photos.push(name.clone());
        sqlx::query("UPDATE renewal_milestones SET photos = $1 WHERE city = $2 AND id = $3")
            .bind(serde_json::to_string(&m.photos).map_err(|e| bad_stored("photos", e))?)
            .bind(city.as_str())
            .bind(milestone)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            city,
            delivery,
            "milestone_photo_added",
            actor,
            &serde_json::json!({ "milestone": milestone, "photo": name, "size": data.len(), "media": id }),
        )
        .await?;
        tx.commit().await?;
        Ok(name)
    }

    async fn milestone_photo_id(&self, city: CityCode, name: &str) -> Result<i64, StoreError> {
        if !name.starts_with("renewal_photo:") {
            return Err(StoreError::NotFound(format!("photo {name}")));
        }
        self.media_by_legacy(city, &format!("documents:{name}"))
            .await?
            .map(|m| m.id)
            .ok_or_else(|| StoreError::NotFound(format!("photo {name}")))
    }

    async fn record_spending(
        &self,
        city: CityCode,
        delivery: i64,
        amount_cents: i64,
        note: &str,
        date: NaiveDate,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        if amount_cents <= 0 {
            return Err(DomainError::invalid("amount", "an amount spent must be more than 0").into());
        }
        let mut tx = self.write().await?;
        self.lock_delivery(&mut tx, city, delivery).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_spending (city, delivery, amount_cents, note, day) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(city.as_str())
        .bind(delivery)
        .bind(amount_cents)
        .bind(note.trim())
        .bind(date.to_string())
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            city,
            delivery,
            "spending_recorded",
            actor,
            &serde_json::json!({ "amount_cents": amount_cents, "note": note.trim(), "date": date }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn add_contribution(
        &self,
        city: CityCode,
        delivery: i64,
        c: &Contribution,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        c.check()?;
        if let Some(o) = c.organisation {
            if self.organisation(city, o).await?.is_none() {
                return Err(DomainError::invalid("organisation", format!("organisation {o} does not exist")).into());
            }
        }
        let mut tx = self.write().await?;
        self.lock_delivery(&mut tx, city, delivery).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_contributions (city, delivery, contributor, kind, person, organisation, hours_tenths, money_cents, materials, day)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(city.as_str())
        .bind(delivery)
        .bind(c.contributor.trim())
        .bind(c.kind.as_str())
        .bind(c.person)
        .bind(c.organisation)
        .bind(c.hours_tenths)
        .bind(c.money_cents)
        .bind(c.materials.trim())
        .bind(c.date.to_string())
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            city,
            delivery,
            "contribution_added",
            actor,
            &serde_json::to_value(c).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_upkeep(
        &self,
        city: CityCode,
        delivery: i64,
        who: &str,
        what: &str,
        every_days: i64,
        from: NaiveDate,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        Upkeep::check_new(who, what, every_days)?;
        let mut tx = self.write().await?;
        self.lock_delivery(&mut tx, city, delivery).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_upkeep (city, delivery, who, what, every_days, date_from) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(city.as_str())
        .bind(delivery)
        .bind(who.trim())
        .bind(what.trim())
        .bind(every_days)
        .bind(from.to_string())
        .fetch_one(&mut *tx)
        .await?;
        append(&mut tx, city, delivery, "upkeep_committed", actor, &serde_json::json!({ "upkeep": id, "who": who.trim(), "what": what.trim(), "every_days": every_days, "from": from })).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn add_checkin(
        &self,
        city: CityCode,
        delivery: i64,
        upkeep: i64,
        c: &Checkin,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let known: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM renewal_upkeep WHERE city = $1 AND delivery = $2 AND id = $3")
                .bind(city.as_str())
                .bind(delivery)
                .bind(upkeep)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!(
                "upkeep commitment {upkeep} of delivery project {delivery}"
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_checkins (city, upkeep, day, ok, note) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(city.as_str())
        .bind(upkeep)
        .bind(c.date.to_string())
        .bind(i64::from(c.ok))
        .bind(c.note.trim())
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            city,
            delivery,
            "upkeep_checked",
            actor,
            &serde_json::json!({ "upkeep": upkeep, "date": c.date, "ok": c.ok, "note": c.note.trim() }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn answer_acceptance(
        &self,
        city: CityCode,
        delivery: i64,
        person: PersonId,
        a: &Acceptance,
    ) -> Result<(), StoreError> {
        if a.comment.chars().count() > 500 {
            return Err(DomainError::invalid("comment", "keep the comment under 500 characters").into());
        }
        let mut tx = self.write().await?;
        self.lock_delivery(&mut tx, city, delivery).await?;
        sqlx::query(
            "INSERT INTO renewal_acceptance (city, delivery, person, satisfaction, solved, comment, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(city.as_str())
        .bind(delivery)
        .bind(person.0)
        .bind(a.satisfaction.as_str())
        .bind(i64::from(a.solved))
        .bind(a.comment.trim())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_insert(e, || "you have already answered this project's acceptance survey".into()))?;
        append(
            &mut tx,
            city,
            delivery,
            "acceptance_answered",
            None,
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn has_answered(&self, city: CityCode, delivery: i64, person: PersonId) -> Result<bool, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT person FROM renewal_acceptance WHERE city = $1 AND delivery = $2 AND person = $3")
                .bind(city.as_str())
                .bind(delivery)
                .bind(person.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    async fn supervised_milestones(
        &self,
        city: CityCode,
        community: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<SupervisedMilestone>, StoreError> {
        let deliveries = self.deliveries(city, community).await?;
        let mut out = Vec::new();
        for (d, m) in self.milestones(city, None).await? {
            let Some(row) = deliveries.iter().find(|r| r.id == d) else {
                continue;
            };
            let state = m.state(today);
            if matches!(state, MilestoneState::Late | MilestoneState::DueSoon) {
                out.push(SupervisedMilestone {
                    delivery: d,
                    delivery_title: row.title.clone(),
                    community: row.community.clone(),
                    days_late: m.days_late(today),
                    milestone: m,
                    state,
                });
            }
        }
        out.sort_by(|a, b| {
            b.days_late
                .cmp(&a.days_late)
                .then(a.milestone.due.cmp(&b.milestone.due))
        });
        Ok(out)
    }

    async fn supervise_milestones(&self, city: CityCode, today: NaiveDate) -> Result<usize, StoreError> {
        let mut marked = 0;
        for (delivery, m) in self.milestones(city, None).await? {
            let Some((level, note)) = supervision_due(&m, today) else {
                continue;
            };
            let mut tx = self.write().await?;
            let n = sqlx::query(
                "UPDATE renewal_milestones SET supervision = $1 WHERE city = $2 AND id = $3 AND supervision < $1",
            )
            .bind(i64::from(level))
            .bind(city.as_str())
            .bind(m.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                continue;
            }
            append(
                &mut tx,
                city,
                delivery,
                "milestone_supervised",
                None,
                &serde_json::json!({ "milestone": m.id, "level": level, "note": note, "due": m.due, "on": today }),
            )
            .await?;
            tx.commit().await?;
            marked += 1;
        }
        Ok(marked)
    }
}

impl Store {
    /// Milestones of one project, or of every project of the city, with their project id.
    async fn milestones(&self, city: CityCode, delivery: Option<i64>) -> Result<Vec<(i64, Milestone)>, StoreError> {
        let sql = "SELECT delivery, id, title, due, done, photos, supervision FROM renewal_milestones WHERE city = $1";
        type Row = (i64, i64, String, String, Option<String>, String, i64);
        let rows: Vec<Row> = match delivery {
            Some(d) => {
                sqlx::query_as(&format!("{sql} AND delivery = $2 ORDER BY due, id"))
                    .bind(city.as_str())
                    .bind(d)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as(&format!("{sql} ORDER BY delivery, due, id"))
                    .bind(city.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(d, id, title, due, done, photos, sup)| Ok((d, milestone_of((id, title, due, done, photos, sup))?)))
            .collect()
    }

    async fn lock_delivery(&self, tx: &mut Write<'_>, city: CityCode, id: i64) -> Result<(), StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM renewal_deliveries WHERE city = $1 AND id = $2")
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|_| ())
            .ok_or_else(|| StoreError::NotFound(format!("delivery project {id}")))
    }

    async fn milestone_in(
        &self,
        tx: &mut Write<'_>,
        city: CityCode,
        delivery: i64,
        id: i64,
    ) -> Result<Milestone, StoreError> {
        let row: Option<MilestoneTuple> = sqlx::query_as(
            "SELECT id, title, due, done, photos, supervision FROM renewal_milestones WHERE city = $1 AND delivery = $2 AND id = $3",
        )
        .bind(city.as_str())
        .bind(delivery)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        milestone_of(row.ok_or_else(|| StoreError::NotFound(format!("milestone {id} of delivery project {delivery}")))?)
    }
}
