//! Participatory-budget votes (参与式预算投票) with secret ballots.
//!
//! Secrecy: `renewal_voted` records who voted and by which channel, never what; a ballot is
//! stored in `renewal_ballots` under a random receipt code with no voter, no time and no
//! sequence number. The event of a vote cast names the voter and carries no ballot and no
//! receipt. Paper ballots are entered by one staff member and count only once a second staff
//! member (another account) has entered the same ballot again.

use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

use crate::prelude::*;
use crate::write::Write;
use gongzhi_core::decision::ballot::Ballot;
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::import::ImportReport;
use gongzhi_core::renewal::proposal::{self, ProposalAction};
use gongzhi_core::renewal::vote::{
    decide as decide_vote, decide_paper, resident_of, Count, PaperAction, PaperStatus, Phase, VoteAction, VoteSetup,
    VoteState,
};
use gongzhi_core::DomainError;
use rand::Rng;
use serde::Serialize;

use super::proposals::set_status;
use super::{from_json, refused, to_json};
use crate::{events, now_ms, Store, StoreError};

/// A stored vote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoteRow {
    pub id: i64,
    pub community: String,
    pub setup: VoteSetup,
    /// Whether it was closed and its proposals marked funded / not funded.
    pub finalised: bool,
    pub created_at: i64,
}

impl VoteRow {
    pub fn phase(&self, now: i64) -> Phase {
        self.setup.phase(now)
    }

    /// Where the vote stands in its lifecycle at `now`.
    pub fn state(&self, now: i64) -> VoteState {
        VoteState::of(self.phase(now), self.finalised)
    }
}

/// What a receipt shows its holder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceiptView {
    pub receipt: String,
    /// `counted`, or `pending` for a paper ballot awaiting its second entry.
    pub status: String,
    pub channel: String,
    pub ballot: Ballot,
}

/// A paper ballot awaiting its second entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingPaper {
    pub receipt: String,
    pub entered_by: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turnout {
    pub eligible: usize,
    pub voted: i64,
    pub counted: i64,
    pub pending_paper: i64,
}

/// A proposal funded by a closed vote, for delivery (`Store::start_delivery`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FundedProposal {
    pub proposal: i64,
    pub community: String,
    pub cluster: Option<i64>,
    pub title: String,
    /// GeoJSON geometry.
    pub site: serde_json::Value,
    pub budget_cents: i64,
}

pub(crate) fn stream(id: i64) -> String {
    format!("renewal-vote:{id}")
}

/// A random receipt code: 12 characters without look-alikes, grouped 4-4-4.
fn receipt_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let s: String = (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
}

/// A ballot in a canonical order, to compare two entries of one paper ballot.
fn canonical(b: &Ballot) -> Ballot {
    match b {
        Ballot::Projects { projects } => {
            let mut p = projects.clone();
            p.sort();
            Ballot::Projects { projects: p }
        }
        Ballot::Points { points } => {
            let mut p = points.clone();
            p.sort();
            Ballot::Points { points: p }
        }
        other => other.clone(),
    }
}

type VRow = (i64, String, String, i64, i64);

fn vrow(r: VRow) -> Result<VoteRow, StoreError> {
    Ok(VoteRow {
        id: r.0,
        community: r.1,
        setup: from_json(&r.2, "a vote's setup")?,
        finalised: r.3 != 0,
        created_at: r.4,
    })
}

async fn insert_ballot(
    tx: &mut Write<'_>,
    city: CityCode,
    vote: i64,
    ballot: &Ballot,
    channel: &str,
    status: &str,
    entered_by: Option<i64>,
) -> Result<String, StoreError> {
    loop {
        let code = receipt_code();
        let r = sqlx::query(
            "INSERT INTO renewal_ballots (city, vote, receipt, ballot, channel, status, entered_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(city.as_str())
        .bind(vote)
        .bind(&code)
        .bind(to_json(ballot)?)
        .bind(channel)
        .bind(status)
        .bind(entered_by)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() == 1 {
            return Ok(code);
        }
    }
}

/// Participatory-budget votes and ballots.
pub trait VoteStore {
    /// Set up a vote. Projects taken from proposals must be the community's and sent to the
    /// vote by the council.
    fn create_vote(
        &self,
        city: CityCode,
        setup: &VoteSetup,
        actor: PersonId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn vote(&self, city: CityCode, id: i64) -> impl Future<Output = Result<Option<VoteRow>, StoreError>> + Send;
    /// The votes of a community, newest first.
    fn votes(&self, city: CityCode, community: &str) -> impl Future<Output = Result<Vec<VoteRow>, StoreError>> + Send;
    /// The verified residents of a community: people with a Resident grant covering it.
    fn electorate(&self, city: CityCode, community: &str) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// The verified residents of a vote's community who have not voted in it yet (id, name), in
    /// id order: whose paper ballot staff may still enter. Never what anyone voted.
    fn not_voted(
        &self,
        city: CityCode,
        vote: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, StoreError>> + Send;
    /// A resident casts their ballot online; returns the receipt code.
    fn cast_ballot(
        &self,
        city: CityCode,
        vote: i64,
        person: PersonId,
        ballot: &Ballot,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// Staff enter a paper ballot of an eligible resident (marked as having voted); it counts
    /// once another staff member confirms it. Returns the receipt for the voter.
    fn enter_paper_ballot(
        &self,
        city: CityCode,
        vote: i64,
        voter: PersonId,
        ballot: &Ballot,
        staff: PersonId,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// A second staff member enters the same paper ballot again; it counts if both entries agree.
    fn confirm_paper_ballot(
        &self,
        city: CityCode,
        vote: i64,
        receipt: &str,
        ballot: &Ballot,
        staff: PersonId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn pending_paper(
        &self,
        city: CityCode,
        vote: i64,
    ) -> impl Future<Output = Result<Vec<PendingPaper>, StoreError>> + Send;
    /// What a receipt shows: the ballot and whether it is counted.
    fn receipt(
        &self,
        city: CityCode,
        vote: i64,
        code: &str,
    ) -> impl Future<Output = Result<Option<ReceiptView>, StoreError>> + Send;
    /// The counted ballots of a vote under their receipts, in receipt order.
    fn ballots(
        &self,
        city: CityCode,
        vote: i64,
    ) -> impl Future<Output = Result<Vec<(String, Ballot)>, StoreError>> + Send;
    /// Import ballots (from a `.pb` file) into a vote, all or nothing; each gets a receipt.
    /// Keyed by the file's voter id within the vote (issue 20): the `ballots_imported` events
    /// of the vote's stream keep a hash of the receipt each imported voter id got (never a
    /// person, never a receipt: a receipt still shows its ballot only to whoever holds it), so a
    /// re-import leaves a ballot stored as the file has it alone, replaces one that differs and
    /// adds the new voters; one event per import that changed anything. A voter id twice is
    /// refused.
    fn import_ballots(
        &self,
        city: CityCode,
        vote: i64,
        ballots: &[(String, Ballot)],
        actor: PersonId,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;
    fn turnout(&self, city: CityCode, vote: i64) -> impl Future<Output = Result<Turnout, StoreError>> + Send;
    /// Whether `person` has voted in `vote` (never what).
    fn has_voted(
        &self,
        city: CityCode,
        vote: i64,
        person: PersonId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Counts a vote's counted ballots under `rule` (the vote's own rule if None).
    fn vote_count(
        &self,
        city: CityCode,
        vote: i64,
        rule: Option<Rule>,
    ) -> impl Future<Output = Result<Count, StoreError>> + Send;
    /// Close a vote (now, if still open) and mark its proposals funded or not funded.
    fn close_vote(
        &self,
        city: CityCode,
        vote: i64,
        actor: PersonId,
    ) -> impl Future<Output = Result<Count, StoreError>> + Send;
    /// The proposals a closed vote funded, for the delivery part.
    fn funded_proposals(
        &self,
        city: CityCode,
        vote: i64,
    ) -> impl Future<Output = Result<Vec<FundedProposal>, StoreError>> + Send;
}

impl VoteStore for Store {
    async fn create_vote(&self, city: CityCode, setup: &VoteSetup, actor: PersonId) -> Result<i64, StoreError> {
        setup.check()?;
        for p in &setup.projects {
            if let Some(id) = p.proposal {
                let row = self
                    .proposal(city, id)
                    .await?
                    .ok_or_else(|| DomainError::invalid("projects", format!("proposal {id} does not exist")))?;
                if row.community != setup.community {
                    return Err(DomainError::invalid(
                        "projects",
                        format!(
                            "proposal {id} belongs to community {}, not {}",
                            row.community, setup.community
                        ),
                    )
                    .into());
                }
                if let Err(r) = proposal::decide(row.status, ProposalAction::PutOnBallot) {
                    return Err(DomainError::invalid(
                        "projects",
                        format!("proposal {id}: only proposals the council sent to the vote go on a ballot; {r}"),
                    )
                    .into());
                }
            }
        }
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO renewal_votes (city, community, setup, opens_at, closes_at, finalised, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&setup.community)
        .bind(to_json(setup)?)
        .bind(setup.opens_at)
        .bind(setup.closes_at)
        .bind(actor.0)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &stream(id),
            "vote_created",
            Some(actor),
            None,
            None,
            &serde_json::to_value(setup).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn vote(&self, city: CityCode, id: i64) -> Result<Option<VoteRow>, StoreError> {
        let r: Option<VRow> = sqlx::query_as(
            "SELECT id, community, setup, finalised, created_at FROM renewal_votes WHERE city = $1 AND id = $2",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        r.map(vrow).transpose()
    }

    async fn votes(&self, city: CityCode, community: &str) -> Result<Vec<VoteRow>, StoreError> {
        let rows: Vec<VRow> = sqlx::query_as(
            "SELECT id, community, setup, finalised, created_at FROM renewal_votes WHERE city = $1 AND community = $2 ORDER BY id DESC",
        )
        .bind(city.as_str())
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(vrow).collect()
    }

    async fn electorate(&self, city: CityCode, community: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT person_id, scope FROM grants WHERE city = $1 AND role = 'resident' ORDER BY person_id",
        )
        .bind(city.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<i64> = Vec::new();
        for (person, scope) in rows {
            let Ok(scope) = gongzhi_core::access::Scope::decode(&scope) else {
                continue;
            };
            let g = gongzhi_core::access::Grant {
                role: gongzhi_core::org::Role::Resident,
                scope,
            };
            if resident_of(&[g], community) && out.last() != Some(&person) {
                out.push(person);
            }
        }
        Ok(out)
    }

    async fn not_voted(&self, city: CityCode, vote: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        let voted: Vec<(i64,)> = sqlx::query_as("SELECT person FROM renewal_voted WHERE city = $1 AND vote = $2")
            .bind(city.as_str())
            .bind(vote)
            .fetch_all(&self.pool)
            .await?;
        let voted: std::collections::HashSet<i64> = voted.into_iter().map(|(p,)| p).collect();
        let mut out = Vec::new();
        for person in self.electorate(city, &v.community).await? {
            if voted.contains(&person) {
                continue;
            }
            if let Some(p) = self.person(city, PersonId(person)).await? {
                out.push((person, p.name));
            }
        }
        Ok(out)
    }

    async fn cast_ballot(
        &self,
        city: CityCode,
        vote: i64,
        person: PersonId,
        ballot: &Ballot,
    ) -> Result<String, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        self.check_voter(city, &v, VoteAction::Cast, person).await?;
        v.setup.spec().check(ballot)?;
        let mut tx = self.write().await?;
        Self::mark_voted(&mut tx, city, vote, person, "online").await?;
        let code = insert_ballot(&mut tx, city, vote, ballot, "online", "counted", None).await?;
        events::append(
            &mut tx,
            city,
            &stream(vote),
            "ballot_cast",
            Some(person),
            None,
            None,
            &serde_json::json!({ "channel": "online" }),
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    async fn enter_paper_ballot(
        &self,
        city: CityCode,
        vote: i64,
        voter: PersonId,
        ballot: &Ballot,
        staff: PersonId,
    ) -> Result<String, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        self.check_voter(city, &v, VoteAction::EnterPaper, voter).await?;
        v.setup.spec().check(ballot)?;
        let mut tx = self.write().await?;
        Self::mark_voted(&mut tx, city, vote, voter, "paper").await?;
        let code = insert_ballot(&mut tx, city, vote, ballot, "paper", "pending", Some(staff.0)).await?;
        events::append(
            &mut tx,
            city,
            &stream(vote),
            "paper_ballot_entered",
            Some(staff),
            None,
            None,
            &serde_json::json!({ "voter": voter }),
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    async fn confirm_paper_ballot(
        &self,
        city: CityCode,
        vote: i64,
        receipt: &str,
        ballot: &Ballot,
        staff: PersonId,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let r: Option<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT ballot, status, entered_by FROM renewal_ballots WHERE city = $1 AND vote = $2 AND receipt = $3 AND channel = 'paper'",
        )
        .bind(city.as_str())
        .bind(vote)
        .bind(receipt)
        .fetch_optional(&mut *tx)
        .await?;
        let (first, status, entered_by) =
            r.ok_or_else(|| StoreError::NotFound(format!("paper ballot {receipt} of vote {vote}")))?;
        decide_paper(status.parse::<PaperStatus>()?, PaperAction::Confirm)
            .map_err(|r| refused(format_args!("paper ballot {receipt} is already confirmed"), r))?;
        if entered_by == Some(staff.0) {
            return Err(StoreError::Conflict(
                "the second entry of a paper ballot must be made by another staff member".into(),
            ));
        }
        let first: Ballot = from_json(&first, "a ballot")?;
        if canonical(&first) != canonical(ballot) {
            return Err(StoreError::Conflict(format!(
                "the second entry of paper ballot {receipt} differs from the first: check the paper and enter it again"
            )));
        }
        sqlx::query("UPDATE renewal_ballots SET status = 'counted', confirmed_by = $1 WHERE city = $2 AND vote = $3 AND receipt = $4")
            .bind(staff.0)
            .bind(city.as_str())
            .bind(vote)
            .bind(receipt)
            .execute(&mut *tx)
            .await?;
        events::append(
            &mut tx,
            city,
            &stream(vote),
            "paper_ballot_confirmed",
            Some(staff),
            None,
            None,
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pending_paper(&self, city: CityCode, vote: i64) -> Result<Vec<PendingPaper>, StoreError> {
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT receipt, entered_by FROM renewal_ballots WHERE city = $1 AND vote = $2 AND status = 'pending' ORDER BY receipt",
        )
        .bind(city.as_str())
        .bind(vote)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(receipt, e)| PendingPaper {
                receipt,
                entered_by: e.unwrap_or(0),
            })
            .collect())
    }

    async fn receipt(&self, city: CityCode, vote: i64, code: &str) -> Result<Option<ReceiptView>, StoreError> {
        let r: Option<(String, String, String)> = sqlx::query_as(
            "SELECT ballot, status, channel FROM renewal_ballots WHERE city = $1 AND vote = $2 AND receipt = $3",
        )
        .bind(city.as_str())
        .bind(vote)
        .bind(code.trim().to_uppercase())
        .fetch_optional(&self.pool)
        .await?;
        r.map(|(b, status, channel)| {
            Ok(ReceiptView {
                receipt: code.trim().to_uppercase(),
                status,
                channel,
                ballot: from_json(&b, "a ballot")?,
            })
        })
        .transpose()
    }

    async fn ballots(&self, city: CityCode, vote: i64) -> Result<Vec<(String, Ballot)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT receipt, ballot FROM renewal_ballots WHERE city = $1 AND vote = $2 AND status = 'counted' ORDER BY receipt",
        )
        .bind(city.as_str())
        .bind(vote)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(r, b)| Ok((r, from_json(&b, "a ballot")?)))
            .collect()
    }

    async fn import_ballots(
        &self,
        city: CityCode,
        vote: i64,
        ballots: &[(String, Ballot)],
        actor: PersonId,
    ) -> Result<ImportReport, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        decide_vote(v.state(now_ms()), VoteAction::Import).map_err(|r| {
            refused(
                format_args!("vote {vote} is finalised: its ballots can no longer change"),
                r,
            )
        })?;
        let spec = v.setup.spec();
        let mut seen = std::collections::HashSet::new();
        for (i, (voter, b)) in ballots.iter().enumerate() {
            spec.check(b)
                .map_err(|e| DomainError::invalid("ballots", format!("ballot {}: {e}", i + 1)))?;
            if !seen.insert(voter.as_str()) {
                return Err(DomainError::invalid("ballots", format!("voter {voter} is named twice")).into());
            }
        }
        // The receipts earlier imports gave each voter id of the file: the events keep their
        // hashes, the ballots table the receipts.
        let mut hashes: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for e in self.events(city, &stream(vote)).await? {
            if e.kind != "ballots_imported" {
                continue;
            }
            if let Some(voters) = e.payload.get("voters").and_then(|v| v.as_object()) {
                for (voter, hash) in voters {
                    if let Some(h) = hash.as_str() {
                        hashes.insert(voter.clone(), h.to_owned());
                    }
                }
            }
        }
        let mut receipts: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        if !hashes.is_empty() {
            let by_hash: std::collections::HashMap<String, String> =
                sqlx::query_as::<_, (String,)>("SELECT receipt FROM renewal_ballots WHERE city = $1 AND vote = $2")
                    .bind(city.as_str())
                    .bind(vote)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(r,)| (crate::sha256_hex(&r), r))
                    .collect();
            for (voter, h) in hashes {
                if let Some(r) = by_hash.get(&h) {
                    receipts.insert(voter, r.clone());
                }
            }
        }
        let mut report = ImportReport::default();
        let mut written = serde_json::Map::new();
        let mut tx = self.write().await?;
        for (voter, b) in ballots {
            let stored = match receipts.get(voter) {
                Some(receipt) => sqlx::query_as::<_, (String,)>(
                    "SELECT ballot FROM renewal_ballots WHERE city = $1 AND vote = $2 AND receipt = $3",
                )
                .bind(city.as_str())
                .bind(vote)
                .bind(receipt)
                .fetch_optional(&mut *tx)
                .await?
                .map(|(text,)| (receipt.clone(), text)),
                None => None,
            };
            match stored {
                Some((receipt, text)) => {
                    let old: Ballot = from_json(&text, "ballot")?;
                    if &old == b {
                        report.unchanged.push(voter.clone());
                        continue;
                    }
                    sqlx::query(
                        "UPDATE renewal_ballots SET ballot = $1 WHERE city = $2 AND vote = $3 AND receipt = $4",
                    )
                    .bind(to_json(b)?)
                    .bind(city.as_str())
                    .bind(vote)
                    .bind(&receipt)
                    .execute(&mut *tx)
                    .await?;
                    written.insert(voter.clone(), crate::sha256_hex(&receipt).into());
                    report.updated.push(voter.clone());
                }
                None => {
                    let receipt = insert_ballot(&mut tx, city, vote, b, "import", "counted", Some(actor.0)).await?;
                    written.insert(voter.clone(), crate::sha256_hex(&receipt).into());
                    report.added.push(voter.clone());
                }
            }
        }
        if report.is_noop() {
            // Every ballot is stored as the file has it: nothing was written.
            tx.commit_unlogged().await?;
            return Ok(report);
        }
        events::append(
            &mut tx,
            city,
            &stream(vote),
            "ballots_imported",
            Some(actor),
            None,
            None,
            &serde_json::json!({
                "ballots": report.added.len() + report.updated.len(),
                "added": report.added.len(),
                "updated": report.updated.len(),
                "unchanged": report.unchanged.len(),
                "voters": written,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn turnout(&self, city: CityCode, vote: i64) -> Result<Turnout, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        let (voted,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM renewal_voted WHERE city = $1 AND vote = $2")
            .bind(city.as_str())
            .bind(vote)
            .fetch_one(&self.pool)
            .await?;
        let (counted,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM renewal_ballots WHERE city = $1 AND vote = $2 AND status = 'counted'")
                .bind(city.as_str())
                .bind(vote)
                .fetch_one(&self.pool)
                .await?;
        let (pending,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM renewal_ballots WHERE city = $1 AND vote = $2 AND status = 'pending'")
                .bind(city.as_str())
                .bind(vote)
                .fetch_one(&self.pool)
                .await?;
        Ok(Turnout {
            eligible: self.electorate(city, &v.community).await?.len(),
            voted,
            counted,
            pending_paper: pending,
        })
    }

    async fn has_voted(&self, city: CityCode, vote: i64, person: PersonId) -> Result<bool, StoreError> {
        let r: Option<(i64,)> =
            sqlx::query_as("SELECT person FROM renewal_voted WHERE city = $1 AND vote = $2 AND person = $3")
                .bind(city.as_str())
                .bind(vote)
                .bind(person.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(r.is_some())
    }

    async fn vote_count(&self, city: CityCode, vote: i64, rule: Option<Rule>) -> Result<Count, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        let ballots: Vec<Ballot> = self.ballots(city, vote).await?.into_iter().map(|(_, b)| b).collect();
        Ok(v.setup.count(&ballots, rule.unwrap_or(v.setup.counting))?)
    }

    async fn close_vote(&self, city: CityCode, vote: i64, actor: PersonId) -> Result<Count, StoreError> {
        let mut v = self.vote_or_404(city, vote).await?;
        let now = now_ms();
        let state = v.state(now);
        decide_vote(state, VoteAction::Close).map_err(|r| match r.state {
            VoteState::Upcoming => refused(format_args!("vote {vote} has not opened yet"), r),
            _ => refused(format_args!("vote {vote} is already closed and counted"), r),
        })?;
        if state == VoteState::Open {
            v.setup.closes_at = now;
        }
        let count = self.vote_count(city, vote, None).await?;
        let mut tx = self.write().await?;
        sqlx::query("UPDATE renewal_votes SET setup = $1, closes_at = $2, finalised = 1 WHERE city = $3 AND id = $4")
            .bind(to_json(&v.setup)?)
            .bind(v.setup.closes_at)
            .bind(city.as_str())
            .bind(vote)
            .execute(&mut *tx)
            .await?;
        for p in &count.projects {
            if let Some(id) = p.proposal {
                let step = ProposalAction::counted(p.result.funded);
                set_status(&mut tx, city, id, step, Some(actor), Some(&format!("vote {vote}"))).await?;
            }
        }
        events::append(
            &mut tx,
            city,
            &stream(vote),
            "vote_closed",
            Some(actor),
            None,
            None,
            &serde_json::json!({ "rule": count.rule, "funded": count.funded, "spent": count.spent, "ballots": count.ballots }),
        )
        .await?;
        tx.commit().await?;
        Ok(count)
    }

    async fn funded_proposals(&self, city: CityCode, vote: i64) -> Result<Vec<FundedProposal>, StoreError> {
        let v = self.vote_or_404(city, vote).await?;
        if v.phase(now_ms()) != Phase::Closed {
            return Err(StoreError::Conflict(format!("vote {vote} is not closed yet")));
        }
        let count = self.vote_count(city, vote, None).await?;
        let mut out = Vec::new();
        for p in count.projects.iter().filter(|p| p.result.funded) {
            let Some(id) = p.proposal else { continue };
            if let Some(row) = self.proposal(city, id).await? {
                out.push(FundedProposal {
                    proposal: id,
                    community: row.community,
                    cluster: row.cluster,
                    title: row.content.title.clone(),
                    site: row.content.site.clone(),
                    budget_cents: p.cost_cents,
                });
            }
        }
        Ok(out)
    }
}

impl Store {
    async fn vote_or_404(&self, city: CityCode, id: i64) -> Result<VoteRow, StoreError> {
        self.vote(city, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("vote {id}")))
    }

    /// Checks that the vote takes `action` (a ballot, online or on paper) now and that `person`
    /// may vote in it.
    async fn check_voter(
        &self,
        city: CityCode,
        v: &VoteRow,
        action: VoteAction,
        person: PersonId,
    ) -> Result<(), StoreError> {
        decide_vote(v.state(now_ms()), action).map_err(|r| match r.state {
            VoteState::Upcoming => refused(
                format_args!(
                    "vote {} has not opened yet (ballots are taken from {}, Unix ms)",
                    v.id, v.setup.opens_at
                ),
                r,
            ),
            _ => refused(format_args!("vote {} is closed: no more ballots", v.id), r),
        })?;
        let grants = self.grants(city, person).await?;
        if !resident_of(&grants, &v.community) {
            return Err(DomainError::invalid(
                "voter",
                format!(
                    "only verified residents of community {} may vote (a resident grant covering it)",
                    v.community
                ),
            )
            .into());
        }
        Ok(())
    }

    async fn mark_voted(
        tx: &mut Write<'_>,
        city: CityCode,
        vote: i64,
        person: PersonId,
        channel: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO renewal_voted (city, vote, person, channel) VALUES ($1, $2, $3, $4)")
            .bind(city.as_str())
            .bind(vote)
            .bind(person.0)
            .bind(channel)
            .execute(&mut **tx)
            .await
            .map_err(|e| {
                StoreError::from_insert(e, || {
                    "this resident has already voted in this vote: one ballot each".into()
                })
            })?;
        Ok(())
    }
}
