//! Participatory budgeting votes of micro-renewal (社区微更新 · 投票): who runs a community's
//! votes, the count of a closed vote, its ballots as a pabulib `.pb` file, and its results as
//! CSV and XLSX. The JSON API, the pages and the CLI share these.

use gongzhi_core::access::{Permission, Principal};
use gongzhi_core::decision::ballot::Ballot;
use gongzhi_core::decision::pabulib;
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::renewal::vote::Count;
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::votes::VoteRow;
use gongzhi_store::StoreError;

use crate::people::is_resident_of;
use crate::{AppError, AppResult, AppState};

fn now() -> i64 {
    gongzhi_store::now_ms()
}

/// Whether the principal runs micro-renewal in the community (planner, administrator).
pub fn is_staff(p: &Principal, community: &str) -> bool {
    p.may(Permission::RunRenewal, community)
}

/// Whether the principal takes part in the community's micro-renewal (proposes, discusses,
/// amends, sees drafts): its verified residents and its staff.
pub fn may_take_part(p: &Principal, community: &str) -> bool {
    is_staff(p, community) || is_resident_of(p, community)
}

/// Whether the principal may edit a proposal: its author, or staff of its community.
pub fn may_edit_proposal(p: &Principal, author: i64, community: &str) -> bool {
    p.person_id == author || is_staff(p, community)
}

pub fn need_staff(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "this needs a community planner or administrator of community {community}"
        )))
    }
}

pub fn need_resident_or_staff(p: &Principal, community: &str, what: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "{what} is for verified residents of community {community} and its staff"
        )))
    }
}

pub fn check_community(c: &str) -> AppResult<()> {
    let d =
        gongzhi_core::territory::DivisionCode::parse(c).map_err(|e| AppError::invalid(format!("community: {e}")))?;
    if d.level() != gongzhi_core::territory::Level::Community {
        return Err(AppError::invalid(format!(
            "community: {c} is not a community (社区) code; give the 12-digit code of a community"
        )));
    }
    Ok(())
}

/// The vote, or not found.
pub async fn vote_row(s: &AppState, city: &str, id: i64) -> AppResult<VoteRow> {
    s.store
        .vote(city, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("vote {id}")))
}

/// The `.pb` text of a closed vote.
pub async fn export_pb(s: &AppState, city: &str, id: i64) -> AppResult<String> {
    let v = vote_row(s, city, id).await?;
    if v.phase(now()) != gongzhi_core::renewal::vote::Phase::Closed {
        return Err(AppError::from(StoreError::Conflict(format!(
            "vote {id} is still {}: its ballots are published once it is closed",
            v.phase(now()).as_str()
        ))));
    }
    let ballots = s.store.ballots(city, id).await?;
    Ok(pabulib::write(&v.setup.to_pb(&ballots)))
}

/// The count of a closed vote, each project with why it was or was not funded.
pub async fn count_of(s: &AppState, city: &str, id: i64, rule: Option<&str>) -> AppResult<Count> {
    let v = vote_row(s, city, id).await?;
    if v.phase(now()) != gongzhi_core::renewal::vote::Phase::Closed {
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
    let refused = |e: pabulib::PbError| {
        AppError::invalid(format!("line {}: {}", e.line, e.message))
            .with_details(serde_json::json!([{ "line": e.line, "message": e.message }]))
    };
    let file = pabulib::parse(text).map_err(refused)?;
    v.setup.ballots_from_pb(text, &file).map_err(refused)
}

/// Import the ballots of a pabulib `.pb` file into a vote: staff of its community only; all or
/// nothing (a wrong line refuses the file and names the line). Returns how many were imported.
pub async fn import_pb(s: &AppState, p: &Principal, id: i64, text: &str) -> AppResult<usize> {
    let city = p.city.to_string();
    let v = vote_row(s, &city, id).await?;
    need_staff(p, &v.community)?;
    let ballots = parse_pb_for(&v, text)?;
    Ok(s.store.import_ballots(&city, id, &ballots, p.person_id).await?)
}
