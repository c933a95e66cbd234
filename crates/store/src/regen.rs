//! Urban regeneration (see `gongzhi_core::regen`): projects, holders with holdings of premises
//! units, governance resources, append-only contacts and decisions. Every change appends its event
//! to the stream `regen:<project>` in the same transaction; contacts and decisions are only ever
//! appended, so a holder's position is the fold of its decision records.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use std::collections::{BTreeMap, HashMap};

use crate::write::Write;
use chrono::NaiveDateTime;
use gongzhi_core::decision::Sentence;
use gongzhi_core::import::ImportReport;
use gongzhi_core::premises::Area;
use gongzhi_core::regen::import::ImportedHolder;
use gongzhi_core::regen::matching::History;
use gongzhi_core::regen::{
    check_decision, Contact, DecisionRecord, Holder, Holding, Organisation, Override, Project, Resource, Scenario,
};
use gongzhi_core::table::LineError;
use gongzhi_core::territory::Level;
use gongzhi_core::DomainError;
use serde::Serialize;

use crate::{events, now_ms, Store, StoreError};

/// A stored contact with its sequence number and the pressure warnings it raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub contact: Contact,
    pub warnings: Vec<Sentence>,
}

/// A stored decision record with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub record: DecisionRecord,
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Invalid(DomainError::invalid(what, format!("stored value unreadable: {e}"))))
}

fn stream(project: &str) -> String {
    format!("regen:{project}")
}

async fn append(
    tx: &mut Write<'_>,
    city: CityCode,
    project: &str,
    kind: &str,
    actor: Option<PersonId>,
    reason: Option<&str>,
    payload: &serde_json::Value,
) -> Result<i64, StoreError> {
    events::append(tx, city, &stream(project), kind, actor, None, reason, payload).await
}

/// Insert a new holder's row and holdings.
async fn insert_holder(tx: &mut Write<'_>, city: CityCode, project: &str, h: &Holder) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO regen_holders (city, project, code, name, kind, members, contested, representatives, sticking,
           organisation_override, scenario_override) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL)",
    )
    .bind(city.as_str())
    .bind(project)
    .bind(&h.code)
    .bind(&h.name)
    .bind(h.kind.as_str())
    .bind(h.members as i64)
    .bind(h.contested as i64)
    .bind(json(&h.representatives))
    .bind(json(&h.sticking))
    .execute(&mut **tx)
    .await?;
    insert_holdings(tx, city, project, h).await
}

async fn insert_holdings(tx: &mut Write<'_>, city: CityCode, project: &str, h: &Holder) -> Result<(), StoreError> {
    for g in &h.holdings {
        sqlx::query(
            "INSERT INTO regen_holdings (city, project, holder, unit, area, common_share) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(city.as_str())
        .bind(project)
        .bind(&h.code)
        .bind(&g.unit)
        .bind(g.area.hundredths())
        .bind(g.common_share_ppm as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn next_seq(tx: &mut Write<'_>, table: &str, city: CityCode, project: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(&format!(
        "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM {table} WHERE city = $1 AND project = $2"
    ))
    .bind(city.as_str())
    .bind(project)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n + 1)
}

type HolderRow = (
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
);
type ResourceRow = (String, String, String, String, String, Option<i64>, i64, String, i64);
type ContactRow = (i64, String, String, String, String, String, String, String, String);

/// Urban regeneration projects and their decisions.
pub trait RegenStore {
    /// Create a regeneration project in a community of the register.
    fn create_regen_project(
        &self,
        city: CityCode,
        project: &Project,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// One project.
    fn regen_project(
        &self,
        city: CityCode,
        code: &str,
    ) -> impl Future<Output = Result<Option<Project>, StoreError>> + Send;
    /// A project or `NotFound`.
    fn regen_project_or_404(
        &self,
        city: CityCode,
        code: &str,
    ) -> impl Future<Output = Result<Project, StoreError>> + Send;
    /// The city's projects, by code.
    fn regen_projects(&self, city: CityCode) -> impl Future<Output = Result<Vec<Project>, StoreError>> + Send;
    /// Store the holders of a checked file or nothing: every holding must be a unit of the
    /// premises register, not held by another holder of the project; an empty area takes the
    /// unit's area. Keyed by holder code (issue 20): a stored holder is updated when the file
    /// describes it or its holdings otherwise (its holdings replaced, staff overrides kept, one
    /// `regen_holder_reimported` event) and left alone when not (no write, no event).
    fn import_regen_holders(
        &self,
        city: CityCode,
        project: &str,
        holders: &[ImportedHolder],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;
    /// The project's holders with their holdings, by code.
    fn regen_holders(
        &self,
        city: CityCode,
        project: &str,
    ) -> impl Future<Output = Result<Vec<Holder>, StoreError>> + Send;
    /// One holder or `NotFound`.
    fn regen_holder(
        &self,
        city: CityCode,
        project: &str,
        code: &str,
    ) -> impl Future<Output = Result<Holder, StoreError>> + Send;
    /// Staff override of a holder's scenario or degree of organisation (with the reason), or its
    /// removal (`None`): an event, and the holder's row.
    fn override_regen_holder(
        &self,
        city: CityCode,
        project: &str,
        holder: &str,
        scenario: Option<Option<Override<Scenario>>>,
        organisation: Option<Option<Override<Organisation>>>,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Store the resources of a checked file, keyed by resource code (issue 20): a stored
    /// resource is updated when the file differs (one `regen_resource_reimported` event naming
    /// the changed fields) and left alone when not; a code twice in `resources` is refused.
    fn import_regen_resources(
        &self,
        city: CityCode,
        project: &str,
        resources: &[Resource],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;
    /// The project's resources, by code.
    fn regen_resources(
        &self,
        city: CityCode,
        project: &str,
    ) -> impl Future<Output = Result<Vec<Resource>, StoreError>> + Send;
    /// Append a contact. Unknown holders or resources are refused, a resource whose capacity is
    /// used up is a conflict; the pressure guard's warnings are returned and stored with it.
    fn add_regen_contact(
        &self,
        city: CityCode,
        project: &str,
        contact: &Contact,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<ContactRecord, StoreError>> + Send;
    /// The project's contacts (of one holder when given), oldest first.
    fn regen_contacts(
        &self,
        city: CityCode,
        project: &str,
        holder: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ContactRecord>, StoreError>> + Send;
    /// Append a decision or a withdrawal, checked against the holder's records and the project's
    /// withdrawal deadline.
    fn record_regen_decision(
        &self,
        city: CityCode,
        project: &str,
        record: &DecisionRecord,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<DecisionEntry, StoreError>> + Send;
    /// The project's decision records, oldest first.
    fn regen_decisions(
        &self,
        city: CityCode,
        project: &str,
    ) -> impl Future<Output = Result<Vec<DecisionEntry>, StoreError>> + Send;
}

impl RegenStore for Store {
    async fn create_regen_project(
        &self,
        city: CityCode,
        project: &Project,
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let known = self
            .division(city, &project.community)
            .await?
            .is_some_and(|d| d.level == Level::Community);
        if !known {
            return Err(DomainError::invalid(
                "community",
                format!(
                    "{} is not a community of the division register of {city}",
                    project.community
                ),
            )
            .into());
        }
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO regen_projects (city, code, name, community, config, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(city.as_str())
            .bind(&project.code)
            .bind(&project.name)
            .bind(&project.community)
            .bind(json(&project.config))
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_insert(e, || format!("project {} already exists", project.code)))?;
        append(
            &mut tx,
            city,
            &project.code,
            "regen_project_created",
            actor,
            None,
            &serde_json::to_value(project).expect("json"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn regen_project(&self, city: CityCode, code: &str) -> Result<Option<Project>, StoreError> {
        let row: Option<(String, String, String, String)> =
            sqlx::query_as("SELECT code, name, community, config FROM regen_projects WHERE city = $1 AND code = $2")
                .bind(city.as_str())
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(code, name, community, config)| {
            Ok(Project {
                code,
                name,
                community,
                config: parse_json(&config, "config")?,
            })
        })
        .transpose()
    }

    async fn regen_project_or_404(&self, city: CityCode, code: &str) -> Result<Project, StoreError> {
        self.regen_project(city, code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("regeneration project {code}")))
    }

    async fn regen_projects(&self, city: CityCode) -> Result<Vec<Project>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT code FROM regen_projects WHERE city = $1 ORDER BY code")
            .bind(city.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for (code,) in rows {
            out.extend(self.regen_project(city, &code).await?);
        }
        Ok(out)
    }

    async fn import_regen_holders(
        &self,
        city: CityCode,
        project: &str,
        holders: &[ImportedHolder],
        actor: Option<PersonId>,
    ) -> Result<ImportReport, StoreError> {
        self.regen_project_or_404(city, project).await?;
        let mut seen = gongzhi_core::import::SeenKeys::new("holder", "holder");
        let mut dups = Vec::new();
        for ih in holders {
            if let Err(e) = seen.check(ih.holder.code.clone(), ih.lines.first().copied().unwrap_or(0)) {
                dups.push(e);
            }
        }
        if !dups.is_empty() {
            return Err(StoreError::Lines(dups));
        }
        let held: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
            "SELECT unit, holder FROM regen_holdings WHERE city = $1 AND project = $2",
        )
        .bind(city.as_str())
        .bind(project)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let mut errors = Vec::new();
        let mut checked = Vec::new();
        for ih in holders {
            let mut h = ih.holder.clone();
            for (i, holding) in h.holdings.iter_mut().enumerate() {
                let line = ih.lines[i];
                let error = |message: String| LineError {
                    line,
                    column: Some("unit".into()),
                    message,
                };
                match self.unit(city, &holding.unit).await? {
                    None => errors.push(error(format!(
                        "unit {} is not in the premises register; import the buildings and units first",
                        holding.unit
                    ))),
                    Some(u) => {
                        if !ih.area_given[i] {
                            holding.area = u.area;
                        }
                    }
                }
                if let Some(other) = held.get(&holding.unit).filter(|o| **o != h.code) {
                    errors.push(error(format!(
                        "unit {} is already held by {other} in this project",
                        holding.unit
                    )));
                }
            }
            checked.push(h);
        }
        if !errors.is_empty() {
            return Err(StoreError::Lines(errors));
        }
        let stored: HashMap<String, Holder> = self
            .regen_holders(city, project)
            .await?
            .into_iter()
            .map(|h| (h.code.clone(), h))
            .collect();
        let mut report = ImportReport::default();
        let mut tx = self.write().await?;
        for h in &checked {
            let mut h = h.clone();
            h.holdings.sort_by(|a, b| a.unit.cmp(&b.unit));
            let Some(old) = stored.get(&h.code) else {
                insert_holder(&mut tx, city, project, &h).await?;
                append(
                    &mut tx,
                    city,
                    project,
                    "regen_holder_imported",
                    actor,
                    None,
                    &serde_json::to_value(&h).expect("json"),
                )
                .await?;
                report.added.push(h.code.clone());
                continue;
            };
            let mut changed = Vec::new();
            if old.name != h.name {
                changed.push("name");
            }
            if old.kind != h.kind {
                changed.push("kind");
            }
            if old.members != h.members {
                changed.push("members");
            }
            if old.contested != h.contested {
                changed.push("contested");
            }
            if old.representatives != h.representatives {
                changed.push("representatives");
            }
            if old.sticking != h.sticking {
                changed.push("sticking_points");
            }
            if old.holdings != h.holdings {
                changed.push("holdings");
            }
            if changed.is_empty() {
                report.unchanged.push(h.code.clone());
                continue;
            }
            // The staff's overrides stay: the file does not carry them.
            h.organisation_override = old.organisation_override.clone();
            h.scenario_override = old.scenario_override.clone();
            sqlx::query(
                "UPDATE regen_holders SET name = $1, kind = $2, members = $3, contested = $4, representatives = $5, sticking = $6
                 WHERE city = $7 AND project = $8 AND code = $9",
            )
            .bind(&h.name)
            .bind(h.kind.as_str())
            .bind(h.members as i64)
            .bind(h.contested as i64)
            .bind(json(&h.representatives))
            .bind(json(&h.sticking))
            .bind(city.as_str())
            .bind(project)
            .bind(&h.code)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM regen_holdings WHERE city = $1 AND project = $2 AND holder = $3")
                .bind(city.as_str())
                .bind(project)
                .bind(&h.code)
                .execute(&mut *tx)
                .await?;
            insert_holdings(&mut tx, city, project, &h).await?;
            append(
                &mut tx,
                city,
                project,
                "regen_holder_reimported",
                actor,
                None,
                &serde_json::json!({ "code": h.code, "changed": changed, "holder": h }),
            )
            .await?;
            report.updated.push(h.code.clone());
        }
        if report.is_noop() {
            // Every holder is stored as the file has it: nothing was written.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(report)
    }

    async fn regen_holders(&self, city: CityCode, project: &str) -> Result<Vec<Holder>, StoreError> {
        let rows: Vec<HolderRow> = sqlx::query_as(
            "SELECT code, name, kind, members, contested, representatives, sticking, organisation_override, scenario_override
             FROM regen_holders WHERE city = $1 AND project = $2 ORDER BY code",
        )
        .bind(city.as_str())
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        let holdings: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT holder, unit, area, common_share FROM regen_holdings WHERE city = $1 AND project = $2 ORDER BY holder, unit",
        )
        .bind(city.as_str())
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        let mut by_holder: BTreeMap<String, Vec<Holding>> = BTreeMap::new();
        for (holder, unit, area, share) in holdings {
            by_holder.entry(holder).or_default().push(Holding {
                unit,
                area: Area::from_hundredths(area),
                common_share_ppm: share as u32,
            });
        }
        rows.into_iter()
            .map(|r| {
                Ok(Holder {
                    holdings: by_holder.remove(&r.0).unwrap_or_default(),
                    code: r.0,
                    name: r.1,
                    kind: r.2.parse()?,
                    members: r.3 as u32,
                    contested: r.4 != 0,
                    representatives: parse_json(&r.5, "representatives")?,
                    sticking: parse_json(&r.6, "sticking")?,
                    organisation_override: r
                        .7
                        .as_deref()
                        .map(|s| parse_json(s, "organisation_override"))
                        .transpose()?,
                    scenario_override: r.8.as_deref().map(|s| parse_json(s, "scenario_override")).transpose()?,
                })
            })
            .collect()
    }

    async fn regen_holder(&self, city: CityCode, project: &str, code: &str) -> Result<Holder, StoreError> {
        self.regen_holders(city, project)
            .await?
            .into_iter()
            .find(|h| h.code == code)
            .ok_or_else(|| StoreError::NotFound(format!("holder {code} of project {project}")))
    }

    async fn override_regen_holder(
        &self,
        city: CityCode,
        project: &str,
        holder: &str,
        scenario: Option<Option<Override<Scenario>>>,
        organisation: Option<Option<Override<Organisation>>>,
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        self.regen_holder(city, project, holder).await?;
        for o in [
            scenario.as_ref().and_then(|o| o.as_ref()).map(|o| &o.reason),
            organisation.as_ref().and_then(|o| o.as_ref()).map(|o| &o.reason),
        ]
        .into_iter()
        .flatten()
        {
            if o.trim().is_empty() {
                return Err(DomainError::invalid("reason", "an override needs its reason").into());
            }
        }
        let mut tx = self.write().await?;
        if let Some(s) = &scenario {
            sqlx::query(
                "UPDATE regen_holders SET scenario_override = $4 WHERE city = $1 AND project = $2 AND code = $3",
            )
            .bind(city.as_str())
            .bind(project)
            .bind(holder)
            .bind(s.as_ref().map(json))
            .execute(&mut *tx)
            .await?;
        }
        if let Some(o) = &organisation {
            sqlx::query(
                "UPDATE regen_holders SET organisation_override = $4 WHERE city = $1 AND project = $2 AND code = $3",
            )
            .bind(city.as_str())
            .bind(project)
            .bind(holder)
            .bind(o.as_ref().map(json))
            .execute(&mut *tx)
            .await?;
        }
        let reason = scenario
            .as_ref()
            .and_then(|o| o.as_ref())
            .map(|o| o.reason.clone())
            .or_else(|| organisation.as_ref().and_then(|o| o.as_ref()).map(|o| o.reason.clone()));
        append(
            &mut tx,
            city,
            project,
            "regen_holder_overridden",
            actor,
            reason.as_deref(),
            &serde_json::json!({ "holder": holder, "scenario": scenario, "organisation": organisation }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn import_regen_resources(
        &self,
        city: CityCode,
        project: &str,
        resources: &[Resource],
        actor: Option<PersonId>,
    ) -> Result<ImportReport, StoreError> {
        self.regen_project_or_404(city, project).await?;
        let mut codes = std::collections::HashSet::new();
        if let Some(r) = resources.iter().find(|r| !codes.insert(r.code.as_str())) {
            return Err(DomainError::invalid("code", format!("resource {} is named twice", r.code)).into());
        }
        let stored: HashMap<String, Resource> = self
            .regen_resources(city, project)
            .await?
            .into_iter()
            .map(|r| (r.code.clone(), r))
            .collect();
        let mut report = ImportReport::default();
        let mut tx = self.write().await?;
        for r in resources {
            if let Some(old) = stored.get(&r.code) {
                let mut changed = Vec::new();
                for (field, differs) in [
                    ("name", old.name != r.name),
                    ("kind", old.kind != r.kind),
                    ("category", old.category != r.category),
                    ("holder", old.holder != r.holder),
                    ("capacity", old.capacity != r.capacity),
                    ("cost", old.cost != r.cost),
                    ("addresses", old.addresses != r.addresses),
                    ("scarce", old.scarce != r.scarce),
                ] {
                    if differs {
                        changed.push(field);
                    }
                }
                if changed.is_empty() {
                    report.unchanged.push(r.code.clone());
                    continue;
                }
                sqlx::query(
                    "UPDATE regen_resources SET name = $1, kind = $2, category = $3, holder = $4, capacity = $5, cost = $6,
                       addresses = $7, scarce = $8 WHERE city = $9 AND project = $10 AND code = $11",
                )
                .bind(&r.name)
                .bind(r.kind.as_str())
                .bind(&r.category)
                .bind(&r.holder)
                .bind(r.capacity.map(|c| c as i64))
                .bind(r.cost)
                .bind(json(&r.addresses))
                .bind(r.scarce as i64)
                .bind(city.as_str())
                .bind(project)
                .bind(&r.code)
                .execute(&mut *tx)
                .await?;
                append(
                    &mut tx,
                    city,
                    project,
                    "regen_resource_reimported",
                    actor,
                    None,
                    &serde_json::json!({ "code": r.code, "changed": changed, "resource": r }),
                )
                .await?;
                report.updated.push(r.code.clone());
                continue;
            }
            report.added.push(r.code.clone());
            sqlx::query(
                "INSERT INTO regen_resources (city, project, code, name, kind, category, holder, capacity, cost, addresses, scarce)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(city.as_str())
            .bind(project)
            .bind(&r.code)
            .bind(&r.name)
            .bind(r.kind.as_str())
            .bind(&r.category)
            .bind(&r.holder)
            .bind(r.capacity.map(|c| c as i64))
            .bind(r.cost)
            .bind(json(&r.addresses))
            .bind(r.scarce as i64)
            .execute(&mut *tx)
            .await?;
            append(
                &mut tx,
                city,
                project,
                "regen_resource_imported",
                actor,
                None,
                &serde_json::to_value(r).expect("json"),
            )
            .await?;
        }
        if report.is_noop() {
            // Every resource is stored as the file has it: nothing was written.
            tx.commit_unlogged().await?;
        } else {
            tx.commit().await?;
        }
        Ok(report)
    }

    async fn regen_resources(&self, city: CityCode, project: &str) -> Result<Vec<Resource>, StoreError> {
        let rows: Vec<ResourceRow> = sqlx::query_as(
            "SELECT code, name, kind, category, holder, capacity, cost, addresses, scarce FROM regen_resources
             WHERE city = $1 AND project = $2 ORDER BY code",
        )
        .bind(city.as_str())
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Resource {
                    code: r.0,
                    name: r.1,
                    kind: r.2.parse()?,
                    category: r.3,
                    holder: r.4,
                    capacity: r.5.map(|c| c as u32),
                    cost: r.6,
                    addresses: parse_json(&r.7, "addresses")?,
                    scarce: r.8 != 0,
                })
            })
            .collect()
    }

    async fn add_regen_contact(
        &self,
        city: CityCode,
        project: &str,
        contact: &Contact,
        actor: Option<PersonId>,
    ) -> Result<ContactRecord, StoreError> {
        let p = self.regen_project_or_404(city, project).await?;
        let holders = self.regen_holders(city, project).await?;
        if !holders.iter().any(|h| h.code == contact.holder) {
            return Err(StoreError::NotFound(format!(
                "holder {} of project {project}",
                contact.holder
            )));
        }
        if contact.staff.trim().is_empty() {
            return Err(DomainError::invalid("staff", "name who made the contact").into());
        }
        let resources = self.regen_resources(city, project).await?;
        let previous = self.regen_contacts(city, project, None).await?;
        let kinds: HashMap<&str, _> = holders.iter().map(|h| (h.code.as_str(), h.kind)).collect();
        let history = History::from_contacts(previous.iter().map(|c| &c.contact), |c| kinds.get(c).copied());
        for code in &contact.resources {
            let r = resources.iter().find(|r| &r.code == code).ok_or_else(|| {
                DomainError::invalid("resources", format!("resource {code} is not in the project's registry"))
            })?;
            if history.remaining(r) == Some(0) {
                return Err(StoreError::Conflict(format!(
                    "resource {code} has no capacity left ({} use(s) recorded); choose another or raise its capacity",
                    r.capacity.unwrap_or(0)
                )));
            }
        }
        let times: Vec<NaiveDateTime> = previous
            .iter()
            .filter(|c| c.contact.holder == contact.holder)
            .map(|c| c.contact.at)
            .collect();
        let warnings = p.config.pressure.warnings(&times, contact.at);
        let mut tx = self.write().await?;
        let seq = next_seq(&mut tx, "regen_contacts", city, project).await?;
        sqlx::query(
            "INSERT INTO regen_contacts (city, project, seq, holder, at, staff, resources, stance_before, stance_after, next_step, warnings, recorder)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(city.as_str())
        .bind(project)
        .bind(seq)
        .bind(&contact.holder)
        .bind(contact.at.format("%Y-%m-%dT%H:%M").to_string())
        .bind(&contact.staff)
        .bind(json(&contact.resources))
        .bind(contact.before.as_str())
        .bind(contact.after.as_str())
        .bind(&contact.next_step)
        .bind(json(&warnings))
        .bind(actor.map(|id| id.0))
        .execute(&mut *tx)
        .await?;
        let record = ContactRecord {
            seq,
            contact: contact.clone(),
            warnings,
        };
        append(
            &mut tx,
            city,
            project,
            "regen_contact_recorded",
            actor,
            None,
            &serde_json::to_value(&record).expect("json"),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn regen_contacts(
        &self,
        city: CityCode,
        project: &str,
        holder: Option<&str>,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        let rows: Vec<ContactRow> = sqlx::query_as(
            "SELECT seq, holder, at, staff, resources, stance_before, stance_after, next_step, warnings FROM regen_contacts
             WHERE city = $1 AND project = $2 AND ($3 = '' OR holder = $3) ORDER BY seq",
        )
        .bind(city.as_str())
        .bind(project)
        .bind(holder.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ContactRecord {
                    seq: r.0,
                    contact: Contact {
                        holder: r.1,
                        at: NaiveDateTime::parse_from_str(&r.2, "%Y-%m-%dT%H:%M")
                            .map_err(|e| DomainError::invalid("at", e.to_string()))?,
                        staff: r.3,
                        resources: parse_json(&r.4, "resources")?,
                        before: r.5.parse()?,
                        after: r.6.parse()?,
                        next_step: r.7,
                    },
                    warnings: parse_json(&r.8, "warnings")?,
                })
            })
            .collect()
    }

    async fn record_regen_decision(
        &self,
        city: CityCode,
        project: &str,
        record: &DecisionRecord,
        actor: Option<PersonId>,
    ) -> Result<DecisionEntry, StoreError> {
        let p = self.regen_project_or_404(city, project).await?;
        self.regen_holder(city, project, &record.holder).await?;
        let mut tx = self.write().await?;
        let log = decisions_in(&mut tx, city, project).await?;
        let records: Vec<DecisionRecord> = log.into_iter().map(|e| e.record).collect();
        if let Err(e) = check_decision(&records, record, p.config.withdrawal_deadline) {
            let DomainError::Invalid { field, .. } = &e;
            // Too late to withdraw or change, or nothing to withdraw: a refused workflow step.
            return Err(if field == "evidence" {
                e.into()
            } else {
                StoreError::Conflict(e.to_string())
            });
        }
        let seq = next_seq(&mut tx, "regen_decisions", city, project).await?;
        sqlx::query(
            "INSERT INTO regen_decisions (city, project, seq, holder, choice, date, evidence, recorder) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(city.as_str())
        .bind(project)
        .bind(seq)
        .bind(&record.holder)
        .bind(record.choice.map(|c| c.as_str()))
        .bind(record.date.to_string())
        .bind(&record.evidence)
        .bind(&record.recorder)
        .execute(&mut *tx)
        .await?;
        let kind = if record.choice.is_some() {
            "regen_decision_recorded"
        } else {
            "regen_decision_withdrawn"
        };
        append(
            &mut tx,
            city,
            project,
            kind,
            actor,
            None,
            &serde_json::to_value(record).expect("json"),
        )
        .await?;
        tx.commit().await?;
        Ok(DecisionEntry {
            seq,
            record: record.clone(),
        })
    }

    async fn regen_decisions(&self, city: CityCode, project: &str) -> Result<Vec<DecisionEntry>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        decisions_in(&mut conn, city, project).await
    }
}

async fn decisions_in(
    conn: &mut sqlx::AnyConnection,
    city: CityCode,
    project: &str,
) -> Result<Vec<DecisionEntry>, StoreError> {
    let rows: Vec<(i64, String, Option<String>, String, String, String)> = sqlx::query_as(
        "SELECT seq, holder, choice, date, evidence, recorder FROM regen_decisions WHERE city = $1 AND project = $2 ORDER BY seq",
    )
    .bind(city.as_str())
    .bind(project)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(DecisionEntry {
                seq: r.0,
                record: DecisionRecord {
                    holder: r.1,
                    choice: r.2.as_deref().map(str::parse).transpose()?,
                    date: r
                        .3
                        .parse()
                        .map_err(|_| DomainError::invalid("date", "stored date unreadable"))?,
                    evidence: r.4,
                    recorder: r.5,
                },
            })
        })
        .collect()
}
