//! Proposals (方案) with their versions and residents' amendments (修改建议). Every change
//! appends an event to stream `renewal-proposal:ID` in the same transaction.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use crate::write::Write;
use gongzhi_core::renewal::proposal::{
    self, AmendmentAction, AmendmentStatus, Content, Patch, ProposalAction, ProposalStatus,
};
use gongzhi_core::DomainError;
use serde::Serialize;

use super::{from_json, refused, to_json};
use crate::{events, now_ms, Store, StoreError};

/// A new proposal.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub community: String,
    /// The needs cluster it answers (the needs part's cluster id), if any.
    pub cluster: Option<i64>,
    pub content: Content,
}

/// A proposal at its current version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalRow {
    pub id: i64,
    pub community: String,
    pub cluster: Option<i64>,
    pub author: i64,
    pub status: ProposalStatus,
    pub version: i64,
    pub budget_cents: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub content: Content,
}

/// One version of a proposal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionRow {
    pub version: i64,
    pub author: Option<i64>,
    /// The amendment accepted to make it, if any.
    pub amendment: Option<i64>,
    pub created_at: i64,
    pub content: Content,
}

/// A resident's amendment and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmendmentRow {
    pub id: i64,
    pub proposal: i64,
    pub base_version: i64,
    pub author: i64,
    pub changes: Patch,
    pub reason: String,
    pub status: AmendmentStatus,
    pub answer: Option<String>,
    pub answered_by: Option<i64>,
    pub new_version: Option<i64>,
    pub created_at: i64,
}

/// A comment (讨论) on a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentRow {
    pub id: i64,
    pub author: i64,
    pub body: String,
    pub created_at: i64,
}

/// The longest comment, in characters.
pub const COMMENT_MAX_CHARS: usize = 1_000;

pub(crate) fn stream(id: i64) -> String {
    format!("renewal-proposal:{id}")
}

type Row = (i64, String, Option<i64>, i64, String, i64, i64, i64, i64, String);

const SELECT: &str = "SELECT p.id, p.community, p.cluster, p.author, p.status, p.version, p.budget_cents, p.created_at, p.updated_at, v.content
     FROM renewal_proposals p JOIN renewal_proposal_versions v ON v.city = p.city AND v.proposal = p.id AND v.version = p.version";

fn row(r: Row) -> Result<ProposalRow, StoreError> {
    Ok(ProposalRow {
        id: r.0,
        community: r.1,
        cluster: r.2,
        author: r.3,
        status: r.4.parse()?,
        version: r.5,
        budget_cents: r.6,
        created_at: r.7,
        updated_at: r.8,
        content: from_json(&r.9, "a proposal version")?,
    })
}

type VersionTuple = (i64, Option<i64>, Option<i64>, i64, String);

type ARow = (
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
);

const ASELECT: &str = "SELECT id, proposal, base_version, author, patch, reason, status, answer, answered_by, new_version, created_at FROM renewal_amendments";

fn arow(r: ARow) -> Result<AmendmentRow, StoreError> {
    Ok(AmendmentRow {
        id: r.0,
        proposal: r.1,
        base_version: r.2,
        author: r.3,
        changes: from_json(&r.4, "an amendment")?,
        reason: r.5,
        status: r.6.parse()?,
        answer: r.7,
        answered_by: r.8,
        new_version: r.9,
        created_at: r.10,
    })
}

async fn write_version(
    tx: &mut Write<'_>,
    city: CityCode,
    id: i64,
    version: i64,
    content: &Content,
    author: Option<i64>,
    amendment: Option<i64>,
) -> Result<(), StoreError> {
    let at = now_ms();
    sqlx::query(
        "INSERT INTO renewal_proposal_versions (city, proposal, version, content, author, amendment, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(city.as_str())
    .bind(id)
    .bind(version)
    .bind(to_json(content)?)
    .bind(author)
    .bind(amendment)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE renewal_proposals SET version = $1, title = $2, budget_cents = $3, updated_at = $4 WHERE city = $5 AND id = $6",
    )
    .bind(version)
    .bind(&content.title)
    .bind(content.budget_cents())
    .bind(at)
    .bind(city.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes a step of the proposal's lifecycle that sets its status (the council's decision, a
/// vote's count), with its event, inside `tx`; refused (409) when the table does not allow it.
pub(crate) async fn set_status(
    tx: &mut Write<'_>,
    city: CityCode,
    id: i64,
    action: ProposalAction,
    actor: Option<PersonId>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let (current, _) = lock(tx, city, id).await?;
    let status = proposal::decide(current, action)
        .map_err(|r| refused(format_args!("proposal {id} cannot take this step"), r))?;
    sqlx::query("UPDATE renewal_proposals SET status = $1, updated_at = $2 WHERE city = $3 AND id = $4")
        .bind(status.as_str())
        .bind(now_ms())
        .bind(city.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    events::append(
        tx,
        city,
        &stream(id),
        "proposal_status",
        actor,
        None,
        reason,
        &serde_json::json!({ "status": status.as_str() }),
    )
    .await?;
    Ok(())
}

/// Micro-renewal proposals and amendments.
pub trait ProposalStore {
    /// Create a proposal at version 1 (status open).
    fn create_proposal(
        &self,
        city: CityCode,
        p: &NewProposal,
        author: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn proposal(&self, city: CityCode, id: i64)
        -> impl Future<Output = Result<Option<ProposalRow>, StoreError>> + Send;
    /// The proposals of a community, oldest first.
    fn proposals(
        &self,
        city: CityCode,
        community: &str,
    ) -> impl Future<Output = Result<Vec<ProposalRow>, StoreError>> + Send;
    fn proposal_versions(
        &self,
        city: CityCode,
        id: i64,
    ) -> impl Future<Output = Result<Vec<VersionRow>, StoreError>> + Send;
    /// The author (or staff) writes a new version over the one they saw.
    fn revise_proposal(
        &self,
        city: CityCode,
        id: i64,
        expected_version: i64,
        content: &Content,
        actor: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A resident suggests an amendment to the version they saw.
    fn suggest_amendment(
        &self,
        city: CityCode,
        proposal: i64,
        base_version: i64,
        changes: &Patch,
        reason: &str,
        author: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A resident or staff member comments on a proposal (any status: the discussion goes on
    /// through the vote and the delivery).
    fn add_comment(
        &self,
        city: CityCode,
        proposal: i64,
        body: &str,
        author: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// A proposal's comments, oldest first.
    fn comments(
        &self,
        city: CityCode,
        proposal: i64,
    ) -> impl Future<Output = Result<Vec<CommentRow>, StoreError>> + Send;
    fn amendment(
        &self,
        city: CityCode,
        id: i64,
    ) -> impl Future<Output = Result<Option<AmendmentRow>, StoreError>> + Send;
    fn amendments(
        &self,
        city: CityCode,
        proposal: i64,
    ) -> impl Future<Output = Result<Vec<AmendmentRow>, StoreError>> + Send;
    /// The author answers an amendment: accepted (its changes applied to the current version
    /// make a new one) or rejected with a reason.
    fn answer_amendment(
        &self,
        city: CityCode,
        id: i64,
        accept: bool,
        answer: &str,
        actor: PersonId,
    ) -> impl Future<Output = Result<AmendmentRow, StoreError>> + Send;
    /// The changes between two versions of a proposal.
    fn proposal_diff(
        &self,
        city: CityCode,
        id: i64,
        from: i64,
        to: i64,
    ) -> impl Future<Output = Result<Vec<proposal::FieldChange>, StoreError>> + Send;
}

impl ProposalStore for Store {
    async fn create_proposal(&self, city: CityCode, p: &NewProposal, author: PersonId) -> Result<i64, StoreError> {
        p.content.check()?;
        if let Some(c) = p.cluster {
            let refuse = |why: String| StoreError::from(DomainError::invalid("cluster", why));
            match self.renewal_cluster(city, c).await? {
                None => return Err(refuse(format!("cluster {c} does not exist"))),
                Some(x) if x.community != p.community => {
                    return Err(refuse(format!(
                        "cluster {c} holds needs of community {}, not of {}: answer a cluster of the proposal's own community",
                        x.community, p.community
                    )))
                }
                Some(x) if x.status != "active" => {
                    return Err(refuse(format!(
                        "cluster {c} was merged into cluster {}: answer that one",
                        x.merged_into.map_or_else(|| "another".to_owned(), |m| m.to_string())
                    )))
                }
                Some(_) => {}
            }
        }
        let at = now_ms();
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_proposals (city, community, cluster, author, status, version, title, budget_cents, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6, 0, $7, $7) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&p.community)
        .bind(p.cluster)
        .bind(author.0)
        .bind(ProposalStatus::Open.as_str())
        .bind(&p.content.title)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        write_version(&mut tx, city, id, 1, &p.content, Some(author.0), None).await?;
        events::append(
            &mut tx,
            city,
            &stream(id),
            "proposal_created",
            Some(author),
            None,
            None,
            &serde_json::json!({ "community": p.community, "cluster": p.cluster, "version": 1, "content": p.content }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn proposal(&self, city: CityCode, id: i64) -> Result<Option<ProposalRow>, StoreError> {
        let r: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE p.city = $1 AND p.id = $2"))
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        r.map(row).transpose()
    }

    async fn proposals(&self, city: CityCode, community: &str) -> Result<Vec<ProposalRow>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "{SELECT} WHERE p.city = $1 AND p.community = $2 ORDER BY p.id"
        ))
        .bind(city.as_str())
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }

    async fn proposal_versions(&self, city: CityCode, id: i64) -> Result<Vec<VersionRow>, StoreError> {
        let rows: Vec<VersionTuple> = sqlx::query_as(
            "SELECT version, author, amendment, created_at, content FROM renewal_proposal_versions
             WHERE city = $1 AND proposal = $2 ORDER BY version",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(VersionRow {
                    version: r.0,
                    author: r.1,
                    amendment: r.2,
                    created_at: r.3,
                    content: from_json(&r.4, "a proposal version")?,
                })
            })
            .collect()
    }

    async fn revise_proposal(
        &self,
        city: CityCode,
        id: i64,
        expected_version: i64,
        content: &Content,
        actor: PersonId,
    ) -> Result<i64, StoreError> {
        content.check()?;
        let mut tx = self.write().await?;
        let current = lock(&mut tx, city, id).await?;
        if current.1 != expected_version {
            return Err(StoreError::Conflict(format!(
                "proposal {id} is at version {} now, you edited version {expected_version}: reload it",
                current.1
            )));
        }
        proposal::decide(current.0, ProposalAction::Edit)
            .map_err(|r| refused(format_args!("proposal {id} can no longer change"), r))?;
        let version = current.1 + 1;
        write_version(&mut tx, city, id, version, content, Some(actor.0), None).await?;
        events::append(
            &mut tx,
            city,
            &stream(id),
            "proposal_revised",
            Some(actor),
            None,
            None,
            &serde_json::json!({ "version": version, "content": content }),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn suggest_amendment(
        &self,
        city: CityCode,
        proposal: i64,
        base_version: i64,
        changes: &Patch,
        reason: &str,
        author: PersonId,
    ) -> Result<i64, StoreError> {
        if reason.trim().is_empty() {
            return Err(DomainError::invalid("reason", "say why the proposal should change").into());
        }
        let mut tx = self.write().await?;
        let (status, _) = lock(&mut tx, city, proposal).await?;
        proposal::decide(status, ProposalAction::Amend).map_err(|r| {
            refused(
                format_args!(
                    "proposal {proposal} takes no amendments now (only while it is open or back for revision)"
                ),
                r,
            )
        })?;
        let base: Option<(String,)> = sqlx::query_as(
            "SELECT content FROM renewal_proposal_versions WHERE city = $1 AND proposal = $2 AND version = $3",
        )
        .bind(city.as_str())
        .bind(proposal)
        .bind(base_version)
        .fetch_optional(&mut *tx)
        .await?;
        let base: Content = from_json(
            &base
                .ok_or_else(|| {
                    DomainError::invalid(
                        "base_version",
                        format!("proposal {proposal} has no version {base_version}"),
                    )
                })?
                .0,
            "a proposal version",
        )?;
        changes.apply(&base)?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_amendments (city, proposal, base_version, author, patch, reason, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(city.as_str())
        .bind(proposal)
        .bind(base_version)
        .bind(author.0)
        .bind(to_json(changes)?)
        .bind(reason.trim())
        .bind(AmendmentStatus::Pending.as_str())
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &stream(proposal),
            "amendment_suggested",
            Some(author),
            None,
            Some(reason.trim()),
            &serde_json::json!({ "amendment": id, "base_version": base_version, "changes": changes }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn add_comment(
        &self,
        city: CityCode,
        proposal: i64,
        body: &str,
        author: PersonId,
    ) -> Result<i64, StoreError> {
        let body = body.trim();
        let n = body.chars().count();
        if n == 0 || n > COMMENT_MAX_CHARS {
            return Err(DomainError::invalid(
                "body",
                format!("write a comment of 1 to {COMMENT_MAX_CHARS} characters (this one has {n})"),
            )
            .into());
        }
        let mut tx = self.write().await?;
        lock(&mut tx, city, proposal).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_comments (city, proposal, author, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(city.as_str())
        .bind(proposal)
        .bind(author.0)
        .bind(body)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &stream(proposal),
            "comment_added",
            Some(author),
            None,
            None,
            &serde_json::json!({ "comment": id, "body": body }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn comments(&self, city: CityCode, proposal: i64) -> Result<Vec<CommentRow>, StoreError> {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, author, body, created_at FROM renewal_comments WHERE city = $1 AND proposal = $2 ORDER BY id",
        )
        .bind(city.as_str())
        .bind(proposal)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, author, body, created_at)| CommentRow {
                id,
                author,
                body,
                created_at,
            })
            .collect())
    }

    async fn amendment(&self, city: CityCode, id: i64) -> Result<Option<AmendmentRow>, StoreError> {
        let r: Option<ARow> = sqlx::query_as(&format!("{ASELECT} WHERE city = $1 AND id = $2"))
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        r.map(arow).transpose()
    }

    async fn amendments(&self, city: CityCode, proposal: i64) -> Result<Vec<AmendmentRow>, StoreError> {
        let rows: Vec<ARow> = sqlx::query_as(&format!("{ASELECT} WHERE city = $1 AND proposal = $2 ORDER BY id"))
            .bind(city.as_str())
            .bind(proposal)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(arow).collect()
    }

    async fn answer_amendment(
        &self,
        city: CityCode,
        id: i64,
        accept: bool,
        answer: &str,
        actor: PersonId,
    ) -> Result<AmendmentRow, StoreError> {
        let a = self
            .amendment(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("amendment {id}")))?;
        let status = proposal::decide_amendment(a.status, AmendmentAction::of(accept))
            .map_err(|r| refused(format_args!("amendment {id} was already answered"), r))?;
        if !accept && answer.trim().is_empty() {
            return Err(DomainError::invalid("answer", "give the reason for not taking the amendment").into());
        }
        let mut tx = self.write().await?;
        let (_, current) = lock(&mut tx, city, a.proposal).await?;
        let mut new_version = None;
        if accept {
            let (content,): (String,) = sqlx::query_as(
                "SELECT content FROM renewal_proposal_versions WHERE city = $1 AND proposal = $2 AND version = $3",
            )
            .bind(city.as_str())
            .bind(a.proposal)
            .bind(current)
            .fetch_one(&mut *tx)
            .await?;
            let content: Content = from_json(&content, "a proposal version")?;
            let next = a.changes.apply(&content)?;
            write_version(&mut tx, city, a.proposal, current + 1, &next, Some(actor.0), Some(id)).await?;
            new_version = Some(current + 1);
        }
        sqlx::query(
            "UPDATE renewal_amendments SET status = $1, answer = $2, answered_by = $3, new_version = $4 WHERE city = $5 AND id = $6",
        )
        .bind(status.as_str())
        .bind(answer.trim())
        .bind(actor.0)
        .bind(new_version)
        .bind(city.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &stream(a.proposal),
            if accept {
                "amendment_accepted"
            } else {
                "amendment_rejected"
            },
            Some(actor),
            None,
            Some(answer.trim()),
            &serde_json::json!({ "amendment": id, "new_version": new_version }),
        )
        .await?;
        tx.commit().await?;
        self.amendment(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("amendment {id}")))
    }

    async fn proposal_diff(
        &self,
        city: CityCode,
        id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<proposal::FieldChange>, StoreError> {
        let versions = self.proposal_versions(city, id).await?;
        let get = |v: i64| {
            versions
                .iter()
                .find(|x| x.version == v)
                .map(|x| &x.content)
                .ok_or_else(|| {
                    StoreError::from(DomainError::invalid(
                        "version",
                        format!("proposal {id} has no version {v}"),
                    ))
                })
        };
        Ok(proposal::diff(get(from)?, get(to)?))
    }
}

/// Locks a proposal row for the transaction and returns its status and version.
async fn lock(tx: &mut Write<'_>, city: CityCode, id: i64) -> Result<(ProposalStatus, i64), StoreError> {
    sqlx::query("UPDATE renewal_proposals SET version = version WHERE city = $1 AND id = $2")
        .bind(city.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let r: Option<(String, i64)> =
        sqlx::query_as("SELECT status, version FROM renewal_proposals WHERE city = $1 AND id = $2")
            .bind(city.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let (s, v) = r.ok_or_else(|| StoreError::NotFound(format!("proposal {id}")))?;
    Ok((s.parse()?, v))
}
