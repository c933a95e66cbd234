//! The count of a closed vote, each project with why it was or was not funded; its ballots as a
//! pabulib `.pb` file (export, and import into a vote); its results as CSV and XLSX; the public
//! results page. The JSON API, the pages and the CLI share these.

use gongzhi_core::access::Principal;
use gongzhi_core::decision::ballot::Ballot;
use gongzhi_core::decision::pabulib;
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::renewal::vote::{Count, Phase};
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::votes::VoteRow;
use gongzhi_store::StoreError;

use super::votes::{vote_in, vote_row, vote_view, VoteView};
use super::{need_staff, now};
use crate::{AppError, AppResult, AppState};

/// The `.pb` text of a closed vote.
pub async fn export_pb(s: &AppState, city: CityCode, id: i64) -> AppResult<String> {
    let v = vote_row(s, city, id).await?;
    if v.phase(now()) != Phase::Closed {
        return Err(AppError::from(StoreError::Conflict(format!(
            "vote {id} is still {}: its ballots are published once it is closed",
            v.phase(now()).as_str()
        ))));
    }
    let ballots = s.store.ballots(city, id).await?;
    Ok(pabulib::write(&v.setup.to_pb(&ballots)))
}

/// The count of a closed vote, each project with why it was or was not funded.
pub async fn count_of(s: &AppState, city: CityCode, id: i64, rule: Option<&str>) -> AppResult<Count> {
    let v = vote_row(s, city, id).await?;
    if v.phase(now()) != Phase::Closed {
        return Err(AppError::from(StoreError::Conflict(format!(
            "vote {id} is still {}: results come when it closes",
            v.phase(now()).as_str()
        ))));
    }
    let rule = rule.map(str::parse::<Rule>).transpose()?;
    Ok(s.store.vote_count(city, id, rule).await?)
}

const HEADER: [&str; 10] = [
    "project 项目",
    "proposal 方案",
    "title 名称",
    "cost_yuan 费用（元）",
    "area 片区",
    "votes 票数",
    "points 分数",
    "funded 获得资助",
    "round 轮次",
    "explanation 说明",
];

fn cells(c: &Count) -> Vec<[String; 10]> {
    c.projects
        .iter()
        .map(|p| {
            [
                p.id.clone(),
                p.proposal.map(|x| x.to_string()).unwrap_or_default(),
                p.title.clone(),
                p.result.cost.clone(),
                p.area.clone().unwrap_or_default(),
                p.result.votes.to_string(),
                p.result.points.clone(),
                if p.result.funded { "yes 是" } else { "no 否" }.to_owned(),
                p.result.round.map(|r| r.to_string()).unwrap_or_default(),
                format!("{} / {}", p.result.explanation.zh, p.result.explanation.en),
            ]
        })
        .collect()
}

/// The results as CSV (UTF-8 with BOM, for spreadsheet programs).
pub fn results_csv_text(c: &Count) -> String {
    let mut w = gongzhi_core::table::CsvWriter::from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for row in cells(c) {
        w.write_record(&row).expect("writing to memory");
    }
    let body = String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8");
    format!("\u{feff}{body}")
}

/// The results as an XLSX workbook.
pub fn results_xlsx_bytes(c: &Count) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("结果 results")?;
    for (col, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    for (i, row) in cells(c).iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            sheet.write_string(i as u32 + 1, j as u16, v)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The ballots of a `.pb` file for a vote, or a 422 naming the line.
pub fn parse_pb_for(v: &VoteRow, text: &str) -> AppResult<Vec<Ballot>> {
    Ok(parse_pb_voters(v, text)?.into_iter().map(|(_, b)| b).collect())
}

/// The ballots of a `.pb` file for a vote with each one's voter id, or a 422 naming the line.
pub fn parse_pb_voters(v: &VoteRow, text: &str) -> AppResult<Vec<(String, Ballot)>> {
    let refused = |e: pabulib::PbError| {
        AppError::invalid(format!("line {}: {}", e.line, e.message))
            .with_details(serde_json::json!([{ "line": e.line, "message": e.message }]))
    };
    let file = pabulib::parse(text).map_err(refused)?;
    let ballots = v.setup.ballots_from_pb(text, &file).map_err(refused)?;
    Ok(file.votes.iter().map(|x| x.voter_id.clone()).zip(ballots).collect())
}

/// Import the ballots of a pabulib `.pb` file into a vote: staff of its community only; all or
/// nothing (a wrong line refuses the file and names the line; a voter id twice names both
/// lines). Keyed by the file's voter id: a re-import adds the new voters, replaces the ballots
/// that differ and leaves the others alone; the report names the voter ids.
pub async fn import_pb(
    s: &AppState,
    p: &Principal,
    id: i64,
    text: &str,
) -> AppResult<gongzhi_core::import::ImportReport> {
    let city = p.city;
    let v = vote_row(s, city, id).await?;
    need_staff(p, &v.community)?;
    let ballots = parse_pb_voters(&v, text)?;
    Ok(s.store.import_ballots(city, id, &ballots, p.person_id).await?)
}

/// The results of a closed vote as CSV, counted under `rule` (the vote's own rule if none).
pub async fn results_csv(s: &AppState, city: CityCode, id: i64, rule: Option<&str>) -> AppResult<String> {
    let c = count_of(s, city, id, rule).await?;
    Ok(results_csv_text(&c))
}

/// The results of a closed vote as an XLSX workbook, counted under `rule` (the vote's own rule
/// if none).
pub async fn results_xlsx(s: &AppState, city: CityCode, id: i64, rule: Option<&str>) -> AppResult<Vec<u8>> {
    let c = count_of(s, city, id, rule).await?;
    results_xlsx_bytes(&c).map_err(|e| AppError::invalid(format!("xlsx: {e}")))
}

/// What the public results page of a vote shows.
pub struct ResultsPage {
    pub vote: VoteView,
    pub count: Count,
    /// Renewal staff of the community (of its works and delivery): they start the funded
    /// proposals' delivery projects.
    pub staff: bool,
    /// The delivery projects of the funded proposals (proposal, delivery id).
    pub deliveries: Vec<(i64, i64)>,
}

/// The public results page of a vote of the community: refused (409) until the vote closes.
pub async fn results_page(
    s: &AppState,
    p: Option<&Principal>,
    city: CityCode,
    community: &str,
    id: i64,
) -> AppResult<ResultsPage> {
    let row = vote_in(s, city, community, id).await?;
    if row.phase(now()) != Phase::Closed {
        return Err(AppError::conflict("the results are published when the vote closes"));
    }
    let count = s.store.vote_count(city, id, None).await?;
    let vote = vote_view(s, city, row, p).await?;
    let staff = p.is_some_and(|p| crate::renewal_works::is_staff(p, community));
    let deliveries = s
        .store
        .deliveries(city, Some(community))
        .await?
        .into_iter()
        .filter_map(|d| Some((d.proposal?, d.id)))
        .filter(|(p, _)| count.projects.iter().any(|x| x.result.funded && x.proposal == Some(*p)))
        .collect();
    Ok(ResultsPage {
        vote,
        count,
        staff,
        deliveries,
    })
}

/// The principal of an account of the city, for a command-line import (`--as USER`).
pub async fn account_principal(s: &AppState, city: CityCode, user: &str) -> AppResult<Principal> {
    let account = s.store.account(user).await?.ok_or_else(|| {
        AppError::new(
            crate::ErrorKind::NotFound,
            "not_found",
            format!("there is no account {user}"),
        )
    })?;
    s.store.principal(city, account.person_id).await?.ok_or_else(|| {
        AppError::new(
            crate::ErrorKind::NotFound,
            "not_found",
            format!("{user} is not a person of city {city}"),
        )
    })
}
