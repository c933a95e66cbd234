//! `gongzhi pb`: count, check and generate pabulib `.pb` files; `gongzhi bench pb` and
//! `gongzhi bench decision`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gongzhi_core::decision::pabulib::{self, PbFile, PbProject, PbVote, VoteType};
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::decision::{standing, Area, Electorate, Holder, Position, RuleSet};
use num_bigint::BigInt;
use num_rational::BigRational;
use rand::{Rng, SeedableRng};

#[derive(Subcommand)]
pub enum PbCommand {
    /// Count a .pb file: the funded project ids, one per line, sorted.
    Count {
        /// greedy, mes (Method of Equal Shares, no completion), mes-add1 (with the add-one
        /// completion) or phragmen.
        #[arg(long)]
        rule: String,
        /// Print each project's explanation (tab-separated: id, funded, English, Chinese) instead.
        #[arg(long)]
        explain: bool,
        file: PathBuf,
    },
    /// Check a .pb file: refused with its line number and reason, or a short summary.
    Check { file: PathBuf },
    /// Write a random .pb file (approval or cumulative), e.g. for benchmarks and cross-checks.
    Generate {
        #[arg(long, default_value_t = 100)]
        projects: usize,
        #[arg(long, default_value_t = 100_000)]
        voters: usize,
        /// approval or cumulative
        #[arg(long, default_value = "approval")]
        vote_type: String,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long, short)]
        output: PathBuf,
    },
}

fn read(file: &Path) -> Result<PbFile> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    pabulib::parse(&text).map_err(|e| anyhow::anyhow!("{}: refused: {e}", file.display()))
}

pub fn run(c: PbCommand) -> Result<()> {
    match c {
        PbCommand::Count { rule, explain, file } => {
            let rule: Rule = rule.parse()?;
            let f = read(&file)?;
            let outcome = f.election()?.count(rule)?;
            if explain {
                for p in &outcome.projects {
                    println!(
                        "{}\t{}\t{}\t{}",
                        p.id,
                        if p.funded { "funded" } else { "not funded" },
                        p.explanation.en,
                        p.explanation.zh
                    );
                }
            } else {
                for id in &outcome.funded {
                    println!("{id}");
                }
            }
            Ok(())
        }
        PbCommand::Check { file } => {
            let f = read(&file)?;
            let kind = f.vote_type.name();
            let mismatches = f.count_mismatches();
            if !mismatches.is_empty() {
                bail!(
                    "{}: not whole: {} (truncated or cut by hand? fetch the file again)",
                    file.display(),
                    mismatches.join("; ")
                );
            }
            match f.election() {
                Ok(_) => println!(
                    "{}: ok: {} projects, {} votes ({kind}), budget {}",
                    file.display(),
                    f.projects.len(),
                    f.votes.len(),
                    gongzhi_core::decision::pb::money(&f.budget)
                ),
                Err(e) => println!(
                    "{}: readable ({} projects, {} votes, {kind}) but not countable: {e}",
                    file.display(),
                    f.projects.len(),
                    f.votes.len()
                ),
            }
            Ok(())
        }
        PbCommand::Generate {
            projects,
            voters,
            vote_type,
            seed,
            output,
        } => {
            let f = generate(projects, voters, &vote_type, seed)?;
            std::fs::write(&output, pabulib::write(&f))
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!("wrote {} ({projects} projects, {voters} voters)", output.display());
            Ok(())
        }
    }
}

/// Random instance: costs 10,000–500,000 in steps of 1,000, a budget of a quarter of the total,
/// ballots of 1–5 projects drawn with popularity skew; cumulative ballots spread 1–10 points.
pub fn generate(projects: usize, voters: usize, vote_type: &str, seed: u64) -> Result<PbFile> {
    let cumulative = match vote_type {
        "approval" => false,
        "cumulative" => true,
        other => bail!("vote type {other:?}: use approval or cumulative"),
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let ps: Vec<PbProject> = (0..projects)
        .map(|i| PbProject {
            id: format!("P{i:03}"),
            cost: BigRational::from_integer(BigInt::from(rng.gen_range(10..=500u64) * 1000)),
            extra: Vec::new(),
        })
        .collect();
    let total: BigRational = ps.iter().map(|p| p.cost.clone()).sum();
    let budget = (total / BigInt::from(4)).floor();
    let weights: Vec<f64> = (0..projects).map(|_| rng.gen_range(0.05f64..1.0).powi(2)).collect();
    let wsum: f64 = weights.iter().sum();
    let votes = (0..voters)
        .map(|v| {
            let k = rng.gen_range(1..=5usize.min(projects.max(1)));
            let mut chosen: Vec<usize> = Vec::new();
            while chosen.len() < k {
                let mut x = rng.gen_range(0.0..wsum);
                let mut pick = projects - 1;
                for (i, w) in weights.iter().enumerate() {
                    if x < *w {
                        pick = i;
                        break;
                    }
                    x -= w;
                }
                if !chosen.contains(&pick) {
                    chosen.push(pick);
                }
            }
            let points = cumulative.then(|| {
                chosen
                    .iter()
                    .map(|_| BigRational::from_integer(BigInt::from(rng.gen_range(1..=10u32))))
                    .collect()
            });
            PbVote {
                voter_id: v.to_string(),
                vote: chosen.iter().map(|&i| ps[i].id.clone()).collect(),
                points,
                extra: Vec::new(),
            }
        })
        .collect();
    Ok(PbFile {
        meta: vec![(
            "description".into(),
            format!("generated by gongzhi pb generate, seed {seed}"),
        )],
        vote_type: if cumulative {
            VoteType::Cumulative
        } else {
            VoteType::Approval
        },
        budget,
        project_columns: Vec::new(),
        projects: ps,
        vote_columns: Vec::new(),
        votes,
    })
}

/// `gongzhi bench pb FILE…`: parse and count every rule on each file; one line per rule with
/// milliseconds, then a JSON line per file.
pub fn bench_pb(files: &[PathBuf], rules: &[String]) -> Result<()> {
    let rules: Vec<Rule> = rules.iter().map(|r| r.parse()).collect::<Result<_, _>>()?;
    for file in files {
        let t = Instant::now();
        let f = read(file)?;
        let e = f.election()?;
        let parse_ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "{}: {} projects × {} voters, parsed in {parse_ms:.0} ms",
            file.display(),
            e.projects.len(),
            e.ballots.len()
        );
        let mut figures = serde_json::Map::new();
        figures.insert("file".into(), file.display().to_string().into());
        figures.insert("parse_ms".into(), ((parse_ms * 10.0).round() / 10.0).into());
        for &rule in &rules {
            let t = Instant::now();
            match e.count(rule) {
                Ok(o) => {
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    println!(
                        "  {:<9} {:>10.1} ms  {} funded, spent {}",
                        rule.id(),
                        ms,
                        o.funded.len(),
                        o.spent
                    );
                    figures.insert(format!("{}_ms", rule.id()), ((ms * 10.0).round() / 10.0).into());
                }
                Err(err) => println!("  {:<9} not applicable: {err}", rule.id()),
            }
        }
        println!("{}", serde_json::Value::Object(figures));
    }
    Ok(())
}

/// `gongzhi bench decision`: the standing (with the smallest set) of every built-in rule on
/// `holders` generated holders, timed.
pub fn bench_decision(holders: usize, runs: usize, seed: u64) -> Result<()> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let hs: Vec<Holder> = (0..holders)
        .map(|i| {
            let area = Area::from_units(rng.gen_range(300_000..=1_800_000u64));
            let position = match rng.gen_range(0..10) {
                0..=3 => Position::Agree,
                4 => Position::Oppose,
                5 => Position::Abstain,
                _ => Position::NotYet,
            };
            Holder::new(format!("h{i:05}"), area)
                .with_share(1 + area.units() / 100_000)
                .with_position(position)
        })
        .collect();
    let e = Electorate::new(hs)?;
    let mut worst = 0.0f64;
    println!("{holders} holders, {runs} runs per rule");
    for rule in RuleSet::builtin() {
        let mut times = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            last = Some(standing(&rule, &e));
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let s = last.expect("at least one run");
        let set = s.smallest_set.as_ref();
        let median = times[times.len() / 2];
        let max = *times.last().expect("at least one run");
        worst = worst.max(max);
        println!(
            "  {:<34} median {:>7.2} ms  max {:>7.2} ms  smallest set {} (proven {})",
            rule.id,
            median,
            max,
            set.map(|s| s.holders.len().to_string()).unwrap_or_else(|| "-".into()),
            set.map(|s| s.proven_minimal).unwrap_or(false)
        );
    }
    println!(
        "{}",
        serde_json::json!({"bench": "decision", "holders": holders, "worst_ms": (worst * 100.0).round() / 100.0})
    );
    Ok(())
}
