//! pabulib `.pb` files (Stolicki, Szufa, Talmon, *Pabulib*, arXiv:2012.06539): a META section of
//! `key;value` rows, a PROJECTS section (`project_id;cost;…`) and a VOTES section
//! (`voter_id;vote;…`, with `points` for cumulative and scoring ballots), `;`-separated with
//! `"`-quoted fields. [`parse`] refuses a bad file with its line number and the reason; [`write`]
//! gives a file that parses back to the same [`PbFile`].

use std::collections::{HashMap, HashSet};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use super::pb::{self, Ballots, Election};

/// A refused `.pb` file: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PbError {
    pub line: usize,
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, PbError> {
    Err(PbError {
        line,
        message: message.into(),
    })
}

/// The vote types of pabulib.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteType {
    Approval,
    Choose1,
    Cumulative,
    Scoring,
    Ordinal,
}

impl VoteType {
    pub fn name(self) -> &'static str {
        match self {
            VoteType::Approval => "approval",
            VoteType::Choose1 => "choose-1",
            VoteType::Cumulative => "cumulative",
            VoteType::Scoring => "scoring",
            VoteType::Ordinal => "ordinal",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            VoteType::Approval,
            VoteType::Choose1,
            VoteType::Cumulative,
            VoteType::Scoring,
            VoteType::Ordinal,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }

    fn has_points(self) -> bool {
        matches!(self, VoteType::Cumulative | VoteType::Scoring)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbProject {
    pub id: String,
    pub cost: BigRational,
    /// The other columns, in the file's order (`None` where the file says "None" or nothing).
    pub extra: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbVote {
    pub voter_id: String,
    /// Project ids in the file's order (ranked for ordinal ballots).
    pub vote: Vec<String>,
    /// Points per project, for cumulative and scoring ballots.
    pub points: Option<Vec<BigRational>>,
    pub extra: Vec<Option<String>>,
}

/// A parsed `.pb` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbFile {
    /// META rows in the file's order.
    pub meta: Vec<(String, String)>,
    pub vote_type: VoteType,
    pub budget: BigRational,
    /// Names of the PROJECTS columns after `project_id` and `cost`.
    pub project_columns: Vec<String>,
    pub projects: Vec<PbProject>,
    /// Names of the VOTES columns after `voter_id`, `vote` (and `points`).
    pub vote_columns: Vec<String>,
    pub votes: Vec<PbVote>,
}

/// A decimal number as pabulib writes them ("4000", "1500.50", "1500,50"), exactly.
pub fn parse_number(s: &str) -> Option<BigRational> {
    let t = s.trim().replace(',', ".");
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t),
    };
    let (w, f) = t.split_once('.').unwrap_or((&t, ""));
    if w.is_empty() && f.is_empty() {
        return None;
    }
    if !w.bytes().all(|b| b.is_ascii_digit()) || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{w}{f}");
    let n: BigInt = if digits.is_empty() {
        BigInt::zero()
    } else {
        digits.parse().ok()?
    };
    let r = BigRational::new(n, BigInt::from(10).pow(f.len() as u32));
    Some(if neg { -r } else { r })
}

fn number_text(r: &BigRational) -> String {
    if r.is_integer() {
        return r.to_integer().to_string();
    }
    // Exact decimal when the denominator divides a power of ten; otherwise a fraction that
    // parse_number would refuse, so write enough decimals … only decimals reach here from files.
    let mut d = r.denom().clone();
    let mut places = 0u32;
    for f in [2u32, 5] {
        while (&d % f).is_zero() {
            d /= f;
        }
    }
    if d != BigInt::from(1) {
        return pb::money(r);
    }
    let mut scaled = r.clone();
    while !scaled.is_integer() {
        scaled *= BigInt::from(10);
        places += 1;
    }
    let n = scaled.to_integer();
    let neg = n.is_negative();
    let digits = n.abs().to_string();
    let digits = format!("{:0>width$}", digits, width = places as usize + 1);
    let (w, f) = digits.split_at(digits.len() - places as usize);
    format!("{}{w}.{f}", if neg { "-" } else { "" })
}

fn cell(v: &str) -> Option<String> {
    let t = v.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        None
    } else {
        Some(t.to_string())
    }
}

#[derive(PartialEq)]
enum Section {
    None,
    Meta,
    Projects,
    Votes,
}

/// Parses a `.pb` file; the first problem found is returned with its line.
pub fn parse(text: &str) -> Result<PbFile, PbError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut section = Section::None;
    let mut header: Vec<String> = Vec::new();
    let mut expect_header = false;
    let mut meta: Vec<(String, String)> = Vec::new();
    let mut projects: Vec<PbProject> = Vec::new();
    let mut project_line: HashMap<String, usize> = HashMap::new();
    let mut project_columns = Vec::new();
    let mut vote_columns = Vec::new();
    let mut raw_votes: Vec<(usize, Vec<String>)> = Vec::new();
    let mut seen_sections = HashSet::new();
    let mut vote_header: Vec<String> = Vec::new();
    let mut project_cols = (0usize, 1usize);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| PbError {
            line: e.position().map(|p| p.line() as usize).unwrap_or(0),
            message: format!("not readable as ;-separated values: {e}"),
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let row: Vec<&str> = rec.iter().collect();
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let first = row[0].trim().to_ascii_lowercase();
        if row.len() == 1 && matches!(first.as_str(), "meta" | "projects" | "votes") {
            if !seen_sections.insert(first.clone()) {
                return err(line, format!("section {} appears twice", first.to_uppercase()));
            }
            section = match first.as_str() {
                "meta" => Section::Meta,
                "projects" => Section::Projects,
                _ => Section::Votes,
            };
            expect_header = true;
            continue;
        }
        if expect_header {
            header = row.iter().map(|c| c.trim().to_string()).collect();
            expect_header = false;
            let need: &[&str] = match section {
                Section::Meta => &["key", "value"],
                Section::Projects => &["project_id", "cost"],
                Section::Votes => &["voter_id", "vote"],
                Section::None => &[],
            };
            if section == Section::Meta {
                if header.first().map(String::as_str) != Some("key") {
                    return err(
                        line,
                        format!("the META header must be key;value; found {:?}", header.join(";")),
                    );
                }
            } else {
                for n in need {
                    if !header.iter().any(|h| h == n) {
                        return err(
                            line,
                            format!(
                                "the header of this section needs the columns {}; found {:?}",
                                need.join(", "),
                                header.join(";")
                            ),
                        );
                    }
                }
            }
            let col = |n: &str| header.iter().position(|h| h == n).expect("checked above");
            match section {
                Section::Projects => {
                    project_cols = (col("project_id"), col("cost"));
                    project_columns = header
                        .iter()
                        .filter(|h| *h != "project_id" && *h != "cost")
                        .cloned()
                        .collect();
                }
                Section::Votes => vote_header = header.clone(),
                _ => {}
            }
            continue;
        }
        if row.len() != header.len() && section != Section::None {
            return err(
                line,
                format!("{} fields where the header has {}", row.len(), header.len()),
            );
        }
        match section {
            Section::None => return err(line, "data before the first section (META, PROJECTS or VOTES)"),
            Section::Meta => {
                let key = row[0].trim().to_string();
                if meta.iter().any(|(k, _)| *k == key) {
                    return err(line, format!("META key {key:?} appears twice"));
                }
                meta.push((key, row[1].trim().to_string()));
            }
            Section::Projects => {
                let (id_col, cost_col) = project_cols;
                let id = row[id_col].trim().to_string();
                if id.is_empty() {
                    return err(line, "a project needs a project_id");
                }
                if let Some(first) = project_line.get(&id) {
                    return err(line, format!("project {id:?} was already defined on line {first}"));
                }
                let cost = match parse_number(row[cost_col]) {
                    Some(c) if !c.is_negative() => c,
                    _ => {
                        return err(
                            line,
                            format!(
                                "project {id:?}: cost {:?} is not a non-negative number",
                                row[cost_col].trim()
                            ),
                        )
                    }
                };
                project_line.insert(id.clone(), line);
                projects.push(PbProject {
                    id,
                    cost,
                    extra: (0..row.len())
                        .filter(|&i| i != id_col && i != cost_col)
                        .map(|i| cell(row[i]))
                        .collect(),
                });
            }
            Section::Votes => raw_votes.push((line, row.iter().map(|c| c.to_string()).collect())),
        }
    }
    for s in ["meta", "projects", "votes"] {
        if !seen_sections.contains(s) {
            return err(
                text.lines().count().max(1),
                format!("the file has no {} section", s.to_uppercase()),
            );
        }
    }
    let meta_line = 2;
    let get = |k: &str| meta.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let vote_type = match get("vote_type") {
        None => {
            return err(
                meta_line,
                "META has no vote_type (approval, cumulative, scoring, ordinal or choose-1)",
            )
        }
        Some(v) => match VoteType::parse(v) {
            Some(t) => t,
            None => {
                return err(
                    meta_line,
                    format!("unknown vote_type {v:?}; use approval, cumulative, scoring, ordinal or choose-1"),
                )
            }
        },
    };
    let budget = match get("budget").map(|b| (b, parse_number(b))) {
        None => return err(meta_line, "META has no budget"),
        Some((_, Some(b))) if !b.is_negative() => b,
        Some((b, _)) => return err(meta_line, format!("budget {b:?} is not a non-negative number")),
    };
    let points_col = vote_header.iter().position(|c| c == "points");
    let voter_col = vote_header.iter().position(|c| c == "voter_id").unwrap_or(0);
    let vote_col = vote_header.iter().position(|c| c == "vote").unwrap_or(1);
    if vote_type.has_points() && points_col.is_none() && !raw_votes.is_empty() {
        return err(
            raw_votes[0].0,
            format!("{} ballots need a points column in VOTES", vote_type.name()),
        );
    }
    let extra_cols: Vec<usize> = (0..vote_header.len())
        .filter(|&i| i != voter_col && i != vote_col && Some(i) != points_col)
        .collect();
    vote_columns.extend(extra_cols.iter().map(|&i| vote_header[i].clone()));
    let mut voters: HashMap<String, usize> = HashMap::new();
    let mut votes = Vec::with_capacity(raw_votes.len());
    for (line, row) in raw_votes {
        let voter_id = row[voter_col].trim().to_string();
        if let Some(first) = voters.insert(voter_id.clone(), line) {
            return err(
                line,
                format!("voter {voter_id:?} voted twice: same voter as line {first}"),
            );
        }
        let vote: Vec<String> = row[vote_col]
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut in_ballot = HashSet::new();
        for p in &vote {
            if !project_line.contains_key(p) {
                return err(
                    line,
                    format!("voter {voter_id:?} voted for project {p:?}, which is not in PROJECTS"),
                );
            }
            if !in_ballot.insert(p) {
                return err(line, format!("voter {voter_id:?} lists project {p:?} twice"));
            }
        }
        let points = match (vote_type.has_points(), points_col) {
            (true, Some(c)) => {
                let pts: Vec<&str> = match cell(&row[c]) {
                    None => Vec::new(),
                    Some(_) => row[c].split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
                };
                if pts.len() != vote.len() {
                    return err(
                        line,
                        format!("voter {voter_id:?}: {} projects but {} points", vote.len(), pts.len()),
                    );
                }
                let mut out = Vec::with_capacity(pts.len());
                for p in pts {
                    match parse_number(p) {
                        Some(x) if x.is_positive() => out.push(x),
                        _ => {
                            return err(
                                line,
                                format!("voter {voter_id:?}: points {p:?} are not a positive number"),
                            )
                        }
                    }
                }
                Some(out)
            }
            _ => None,
        };
        votes.push(PbVote {
            voter_id,
            vote,
            points,
            extra: extra_cols.iter().map(|&i| cell(&row[i])).collect(),
        });
    }
    Ok(PbFile {
        meta,
        vote_type,
        budget,
        project_columns,
        projects,
        vote_columns,
        votes,
    })
}

impl PbFile {
    /// Where META's declared counts (`num_projects`, `num_votes`) differ from the rows the file
    /// has: the sign of a truncated or hand-cut file, which reads (pabutools reads it too) but
    /// would be counted on part of the ballots. Empty when they agree or are not declared.
    pub fn count_mismatches(&self) -> Vec<String> {
        let declared = |k: &str| {
            self.meta
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        };
        [
            ("num_projects", "projects", self.projects.len()),
            ("num_votes", "votes", self.votes.len()),
        ]
        .into_iter()
        .filter_map(|(key, what, found)| {
            let said = declared(key)?;
            (said != found).then(|| format!("META says {key} {said} but the file has {found} {what}"))
        })
        .collect()
    }

    /// The election to count: approval and choose-1 ballots as approval, cumulative and scoring
    /// ones with their points. Ordinal ballots are refused (no counting rule here ranks).
    pub fn election(&self) -> Result<Election, crate::DomainError> {
        let kind = match self.vote_type {
            VoteType::Approval | VoteType::Choose1 => Ballots::Approval,
            VoteType::Cumulative | VoteType::Scoring => Ballots::Cumulative,
            VoteType::Ordinal => {
                return Err(crate::DomainError::invalid(
                    "vote_type",
                    "ordinal ballots can be read and written but not counted by greedy, mes or phragmen",
                ))
            }
        };
        let index: HashMap<&str, usize> = self
            .projects
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let one = BigRational::from_integer(BigInt::from(1));
        let ballots = self
            .votes
            .iter()
            .map(|v| {
                v.vote
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        let pts = v
                            .points
                            .as_ref()
                            .map(|pts| pts[k].clone())
                            .unwrap_or_else(|| one.clone());
                        (index[p.as_str()], pts)
                    })
                    .collect()
            })
            .collect();
        Ok(Election {
            budget: self.budget.clone(),
            projects: self
                .projects
                .iter()
                .map(|p| pb::Project {
                    id: p.id.clone(),
                    cost: p.cost.clone(),
                })
                .collect(),
            kind,
            ballots,
        })
    }
}

/// Writes a `.pb` file. META's num_projects, num_votes, budget and vote_type follow the data.
pub fn write(f: &PbFile) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(Vec::new());
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "None".into());
    let mut meta = f.meta.clone();
    let set = |meta: &mut Vec<(String, String)>, k: &str, v: String| match meta.iter_mut().find(|(key, _)| key == k) {
        Some(e) => e.1 = v,
        None => meta.push((k.to_string(), v)),
    };
    set(&mut meta, "num_projects", f.projects.len().to_string());
    set(&mut meta, "num_votes", f.votes.len().to_string());
    set(&mut meta, "budget", number_text(&f.budget));
    set(&mut meta, "vote_type", f.vote_type.name().to_string());
    let rows = |w: &mut csv::Writer<Vec<u8>>, r: Vec<String>| w.write_record(&r).expect("writing to memory");
    rows(&mut w, vec!["META".into()]);
    rows(&mut w, vec!["key".into(), "value".into()]);
    for (k, v) in meta {
        rows(&mut w, vec![k, v]);
    }
    rows(&mut w, vec!["PROJECTS".into()]);
    let mut h = vec!["project_id".to_string(), "cost".to_string()];
    h.extend(f.project_columns.iter().cloned());
    rows(&mut w, h);
    for p in &f.projects {
        let mut r = vec![p.id.clone(), number_text(&p.cost)];
        r.extend(p.extra.iter().map(opt));
        rows(&mut w, r);
    }
    rows(&mut w, vec!["VOTES".into()]);
    let mut h = vec!["voter_id".to_string(), "vote".to_string()];
    if f.vote_type.has_points() {
        h.push("points".into());
    }
    h.extend(f.vote_columns.iter().cloned());
    rows(&mut w, h);
    for v in &f.votes {
        let mut r = vec![v.voter_id.clone(), v.vote.join(",")];
        if f.vote_type.has_points() {
            r.push(
                v.points
                    .as_ref()
                    .map(|p| p.iter().map(number_text).collect::<Vec<_>>().join(","))
                    .unwrap_or_default(),
            );
        }
        r.extend(v.extra.iter().map(opt));
        rows(&mut w, r);
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
}

/// A `.pb` file for an election (project and voter ids as given), e.g. to export a count.
pub fn from_election(e: &Election, meta: Vec<(String, String)>, voter_ids: &[String]) -> PbFile {
    let cumulative = e.kind == Ballots::Cumulative;
    PbFile {
        meta,
        vote_type: if cumulative {
            VoteType::Cumulative
        } else {
            VoteType::Approval
        },
        budget: e.budget.clone(),
        project_columns: Vec::new(),
        projects: e
            .projects
            .iter()
            .map(|p| PbProject {
                id: p.id.clone(),
                cost: p.cost.clone(),
                extra: Vec::new(),
            })
            .collect(),
        vote_columns: Vec::new(),
        votes: e
            .ballots
            .iter()
            .zip(voter_ids)
            .map(|(b, id)| PbVote {
                voter_id: id.clone(),
                vote: b.iter().map(|(p, _)| e.projects[*p].id.clone()).collect(),
                points: cumulative.then(|| b.iter().map(|(_, x)| x.clone()).collect()),
                extra: Vec::new(),
            })
            .collect(),
    }
}
