//! What the API and the pages show of cases: the case as listed, one case with its timeline,
//! deadline and the steps the viewer may take, the dispatch proposal, photos, and indicators.

use gongzhi_core::access::Principal;
use gongzhi_core::case::{Action, CaseState};
use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use gongzhi_core::indicators::{Composite, Counters, RoleScore, ScoredRole};
use gongzhi_store::prelude::*;
use gongzhi_store::{CaseQuery, CaseRow, NewCase};
use serde::Serialize;
use utoipa::ToSchema;

use super::Proposal;
use crate::{AppError, AppResult, AppState};

/// A case as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = Object)]
    pub case: gongzhi_core::case::Case,
    /// The responsible division (community, or larger when in no grid).
    pub area: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Whether the deadline has passed while the case is open.
    pub overdue: bool,
}

impl From<CaseRow> for CaseView {
    fn from(r: CaseRow) -> Self {
        let overdue = r.case.state.is_open() && r.case.deadline_ms.is_some_and(|d| d < gongzhi_store::now_ms());
        CaseView {
            case: r.case,
            area: r.area,
            created_at: r.created_at,
            updated_at: r.updated_at,
            overdue,
        }
    }
}

/// Cases the principal may see (their area's for staff, their unit's for departments, their own
/// for residents) that match `q`; its visibility is decided here, whatever the caller set.
pub async fn list(s: &AppState, p: &Principal, mut q: CaseQuery) -> AppResult<(Vec<CaseRow>, i64)> {
    q.visibility = super::visibility(p);
    Ok(s.store.list_cases(p.city, &q).await?)
}

/// A case the principal may see, or not found (a case they may not see does not exist for them).
pub async fn viewable(s: &AppState, p: &Principal, id: CaseId) -> AppResult<CaseRow> {
    s.store
        .case(p.city, id)
        .await?
        .filter(|r| super::may_view(p, r))
        .ok_or_else(|| AppError::not_found(format!("case {id}")))
}

/// The unit the dispatch catalogue (派单目录) proposes for a case the principal may see.
pub async fn proposal(s: &AppState, p: &Principal, id: CaseId) -> AppResult<Proposal> {
    let row = viewable(s, p, id).await?;
    super::propose(s, p.city, &row)
        .await?
        .ok_or_else(|| AppError::not_found("a catalogue unit for this case"))
}

#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    /// The event's type, e.g. `dispatched`.
    pub kind: String,
    pub kind_zh: String,
    #[schema(value_type = Object)]
    pub event: gongzhi_core::case::CaseEvent,
    pub at: i64,
    #[schema(value_type = Option<i64>)]
    pub actor: Option<PersonId>,
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct Deadline {
    pub at: i64,
    /// Working time left in the case's timer (negative: overdue by that much), milliseconds.
    pub remaining_ms: i64,
    pub timer: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub view: CaseView,
    pub timeline: Vec<TimelineEntry>,
    pub deadline: Option<Deadline>,
    /// The steps the caller may take now.
    pub allowed_actions: Vec<String>,
    /// Reporter's contact: staff and the case's units only.
    pub contact: Option<Contact>,
    /// Photo ids.
    pub photos: Vec<i64>,
    pub proposal: Option<Proposal>,
    pub category_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// Everything the case page and the API show of a case.
/// `purpose` names the route or page that shows it: a reporter's contact details shown to anyone
/// but the reporter are logged there ([`crate::privacy`]).
pub async fn case_detail(s: &AppState, p: &Principal, id: CaseId, purpose: &str) -> AppResult<CaseDetail> {
    let city = p.city;
    let row = viewable(s, p, id).await?;
    let history = s.store.case_history(city, id).await?;
    let cat = super::catalogue(s, city).await?;
    let cal = super::calendar(s, city).await?;
    let cond = cat.condition(&row.case.condition);
    let deadline = match (row.case.deadline_ms, cond) {
        (Some(at), Some((_, c))) => {
            let now = gongzhi_store::now_ms();
            let left = if now <= at {
                cal.elapsed(instant(now), instant(at), c.timer)
            } else {
                -cal.elapsed(instant(at), instant(now), c.timer)
            };
            Some(Deadline {
                at,
                remaining_ms: left.num_milliseconds(),
                timer: c.timer.to_string(),
            })
        }
        _ => None,
    };
    let allowed: Vec<String> = super::allowed_actions(p, &row).iter().map(|a| a.to_string()).collect();
    let contact = if super::may_see_contact(p, &row) || row.reporter == Some(p.person_id.0) {
        let contact = s.store.case_contact(city, id).await?;
        if contact.is_some() && row.reporter != Some(p.person_id.0) {
            crate::privacy::note_read(s, p, crate::privacy::CONTACT, &format!("case:{id}"), purpose).await?;
        }
        contact.map(|c| Contact {
            name: c.name,
            phone: c.phone,
        })
    } else {
        None
    };
    let proposal = if matches!(row.case.state, CaseState::Registered | CaseState::Returned) {
        super::propose(s, city, &row).await?
    } else {
        None
    };
    let photos = s.store.photos(city, id).await?.into_iter().map(|m| m.id).collect();
    Ok(CaseDetail {
        timeline: history
            .into_iter()
            .map(|r| TimelineEntry {
                kind: r.event.name().to_owned(),
                kind_zh: event_zh(r.event.name()).to_owned(),
                event: r.event,
                at: r.at_ms,
                actor: r.actor,
                role: r.role.to_string(),
            })
            .collect(),
        deadline,
        allowed_actions: allowed,
        contact,
        photos,
        proposal,
        category_name: cond.map(|(c, _)| format!("{} / {}", c.major_name, c.name)),
        view: row.into(),
    })
}

fn instant(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The Chinese name of an event type.
pub fn event_zh(kind: &str) -> &'static str {
    match kind {
        "collected" => "信息收集",
        "registered" => "立案",
        "voided" => "作废",
        "dispatched" => "派遣",
        "routed" => "逐级派遣",
        "forwarded" => "转派",
        "accepted" => "签收",
        "returned" => "退单",
        "return_rejected" => "退单不予认可",
        "extension_requested" => "申请延期",
        "extension_approved" => "批准延期",
        "extension_denied" => "驳回延期",
        "suspended" => "挂账",
        "resumed" => "恢复处置",
        "handling_reported" => "处置反馈",
        "verification_passed" => "核查通过",
        "verification_failed" => "核查不通过（返工）",
        "closed" => "结案",
        "followed_up" => "回访评价",
        "whistled" => "吹哨",
        "unit_reported" => "报到",
        "supervised" => "督办",
        "merged_into" => "合并至",
        "duplicate_merged" => "并入重复件",
        _ => "",
    }
}

/// Turn a request into an [`Action`], filling unit names and levels from the register and a
/// missing dispatch unit from the catalogue's proposal.
pub async fn build_action(
    s: &AppState,
    p: &Principal,
    id: CaseId,
    kind: String,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> AppResult<Action> {
    let city = p.city;
    let unit_info = |org: gongzhi_core::org::Organisation| (org.name.clone(), super::org_level(org.kind));
    match kind.as_str() {
        "dispatch" => {
            let unit = match fields.get("unit").and_then(|v| v.as_i64()) {
                Some(u) => u,
                None => {
                    let row = s
                        .store
                        .case(city, id)
                        .await?
                        .ok_or_else(|| AppError::not_found(format!("case {id}")))?;
                    super::propose(s, city, &row)
                        .await?
                        .ok_or_else(|| {
                            AppError::invalid("unit: the dispatch catalogue has no unit for this case here; give one")
                        })?
                        .unit
                }
            };
            let org = s
                .store
                .organisation(city, unit)
                .await?
                .ok_or_else(|| AppError::invalid(format!("unit: organisation {unit} does not exist")))?;
            let (name, level) = unit_info(org);
            fields.insert("unit".into(), unit.into());
            fields.insert("unit_name".into(), name.into());
            fields.insert("level".into(), serde_json::to_value(level).unwrap_or_default());
        }
        "whistle" => {
            let lead = fields
                .get("lead")
                .and_then(|v| v.as_i64())
                .ok_or_else(|| AppError::invalid("lead: give the lead unit's id"))?;
            let org = s
                .store
                .organisation(city, lead)
                .await?
                .ok_or_else(|| AppError::invalid(format!("lead: organisation {lead} does not exist")))?;
            for u in fields
                .get("co_units")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
            {
                let u = u.as_i64().ok_or_else(|| AppError::invalid("co_units: give unit ids"))?;
                if s.store.organisation(city, u).await?.is_none() {
                    return Err(AppError::invalid(format!("co_units: organisation {u} does not exist")));
                }
            }
            let (name, level) = unit_info(org);
            fields.insert("lead_name".into(), name.into());
            fields.insert("level".into(), serde_json::to_value(level).unwrap_or_default());
        }
        _ => {}
    }
    fields.insert("type".into(), kind.clone().into());
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
        let all: Vec<&str> = gongzhi_core::case::ActionKind::ALL.iter().map(|a| a.as_str()).collect();
        AppError::invalid(format!("action '{kind}': {e}; steps are {}", all.join(", ")))
    })
}

/// Photos: JPEG, PNG or WebP (read from the bytes), at most 5 MiB each (the one size table of
/// `gongzhi_core::media`) and 9 per case.
pub const PHOTO_MAX_BYTES: usize = gongzhi_core::media::PHOTO_MAX_BYTES;
pub const PHOTOS_PER_CASE: usize = 9;

/// Attach a photo to a case the principal may see (its type read from its bytes: JPEG, PNG or
/// WebP; its metadata stripped); the photo's media id.
pub async fn add_photo(s: &AppState, p: &Principal, id: CaseId, declared: &str, bytes: &[u8]) -> AppResult<i64> {
    let city = p.city;
    let row = viewable(s, p, id).await?;
    let photo = check_photo(s, city, row.case.id, declared, bytes).await?;
    Ok(s.store
        .add_photo(city, id, photo.content_type, &photo.data, Some(p.person_id))
        .await?)
}

/// Check a photo by the one media policy and the case's count: the checked photo back.
pub async fn check_photo(
    s: &AppState,
    city: CityCode,
    case_id: CaseId,
    content_type: &str,
    data: &[u8],
) -> AppResult<gongzhi_core::media::Checked> {
    let photo = check_photo_bytes(content_type, data)?;
    if s.store.photos(city, case_id).await?.len() >= PHOTOS_PER_CASE {
        return Err(AppError::invalid(format!(
            "a case has at most {PHOTOS_PER_CASE} photos"
        )));
    }
    Ok(photo)
}

/// Check a photo's type (from its bytes) and size, and strip its metadata (cases' and other
/// records' photos alike).
pub fn check_photo_bytes(content_type: &str, data: &[u8]) -> AppResult<gongzhi_core::media::Checked> {
    Ok(gongzhi_core::media::check(
        &[gongzhi_core::media::Kind::Photo],
        content_type,
        data,
    )?)
}

/// The media id of a photo of a case the principal may see, named by its old or its media id.
pub async fn photo(s: &AppState, p: &Principal, id: CaseId, photo: i64) -> AppResult<i64> {
    viewable(s, p, id).await?;
    crate::media::resolve(s, p.city, &format!("photos:{photo}"), &format!("case:{id}"), photo)
        .await?
        .ok_or_else(|| AppError::not_found(format!("photo {photo}")))
}

#[derive(Serialize, ToSchema)]
pub struct Indicators {
    #[schema(value_type = Object)]
    pub counters: Counters,
    /// 结案率, 按期结案率, 返工率, 退单率, 响应率, 解决率, 满意率 as percentages with 2 decimals.
    pub rates: serde_json::Map<String, serde_json::Value>,
    /// The follow-up composite (response 10%, solution 50%, satisfaction 40%), 0–100.
    pub composite: Option<String>,
    /// GB/T 30428.4-style scores with grades A–D.
    pub role_scores: Vec<serde_json::Value>,
}

fn check_dim(dim: &str) -> AppResult<()> {
    if matches!(dim, "unit" | "area" | "category" | "person") {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "dim: '{dim}' is not a dimension; use unit, area, category or person"
        )))
    }
}

fn check_day(field: &str, d: &str) -> AppResult<()> {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| AppError::invalid(format!("{field}: '{d}' is not a date YYYY-MM-DD")))
}

/// Build the indicator view of some counters.
pub fn indicator_view(c: Counters) -> Indicators {
    use gongzhi_core::indicators::percent_or_dash;
    let mut rates = serde_json::Map::new();
    for (name, r) in [
        ("closure_rate", c.closure_rate()),
        ("on_time_closure_rate", c.on_time_closure_rate()),
        ("rework_rate", c.rework_rate()),
        ("return_rate", c.return_rate()),
        ("response_rate", c.response_rate()),
        ("solution_rate", c.solution_rate()),
        ("satisfaction_rate", c.satisfaction_rate()),
    ] {
        rates.insert(name.into(), percent_or_dash(r).into());
    }
    let composite = Composite::default().score(&c).map(|r| r.fixed2());
    let role_scores = ScoredRole::ALL
        .iter()
        .map(|role| {
            let s = RoleScore::compute(*role, &c);
            serde_json::json!({
                "role": role.as_str(), "role_zh": role.zh(),
                "score": s.score.map(|r| r.fixed2()), "grade": s.grade.map(|g| g.to_string()),
            })
        })
        .collect();
    Indicators {
        counters: c,
        rates,
        composite,
        role_scores,
    }
}

/// Indicators of one unit, area, category or person over a period (days `YYYY-MM-DD`), from
/// incrementally kept counters.
pub async fn indicators(
    s: &AppState,
    p: &Principal,
    dim: &str,
    key: &str,
    from: &str,
    to: &str,
) -> AppResult<Indicators> {
    check_dim(dim)?;
    check_day("from", from)?;
    check_day("to", to)?;
    super::require_indicators(p, dim, Some(key))?;
    let c = s.store.counters(p.city, dim, key, from, to).await?;
    Ok(indicator_view(c))
}

#[derive(Serialize, ToSchema)]
pub struct BreakdownRow {
    pub group: String,
    #[serde(flatten)]
    pub indicators: Indicators,
}

/// Indicators per key (`key` none: every key, ranked by key; `group` key) or per day/month of one
/// key (a trend; `group` day or month).
pub async fn indicator_breakdown(
    s: &AppState,
    p: &Principal,
    dim: &str,
    key: Option<&str>,
    from: &str,
    to: &str,
    group: Option<&str>,
) -> AppResult<Vec<BreakdownRow>> {
    check_dim(dim)?;
    check_day("from", from)?;
    check_day("to", to)?;
    let group = group.unwrap_or("key");
    if !matches!(group, "key" | "day" | "month") {
        return Err(AppError::invalid("group: use key, day or month"));
    }
    super::require_indicators(p, dim, key)?;
    let rows = s
        .store
        .analytic()
        .counters_grouped(p.city, dim, key, from, to, group)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(g, c)| BreakdownRow {
            group: g,
            indicators: indicator_view(c),
        })
        .collect())
}

/// The units a case in `area` may be dispatched to: the functional departments of its district,
/// its street office and its community committee, as (id, name).
pub async fn units_serving(s: &AppState, city: CityCode, area: &str) -> AppResult<Vec<(i64, String)>> {
    use gongzhi_core::org::OrgKind;
    let mut out = Vec::new();
    for (kind, len) in [
        (OrgKind::FunctionalDepartment, 6),
        (OrgKind::StreetOffice, 9),
        (OrgKind::CommunityCommittee, 12),
    ] {
        if area.len() >= len {
            for o in s.store.organisations_serving(city, kind, &area[..len]).await? {
                out.push((o.id, o.name));
            }
        }
    }
    Ok(out)
}

/// How many cases of a city were reported in `range` (epoch ms, `[from, to)`; all without it),
/// for the operator's export at the command line.
pub async fn count_cases(s: &AppState, city: CityCode, range: Option<(i64, i64)>) -> AppResult<i64> {
    Ok(s.store.case_count(city, range).await?)
}

/// The next `limit` cases after id `after` reported in `range`, by id, for the operator's
/// export at the command line.
pub async fn cases_after(
    s: &AppState,
    city: CityCode,
    after: i64,
    limit: u32,
    range: Option<(i64, i64)>,
) -> AppResult<Vec<CaseRow>> {
    Ok(s.store.cases_after(city, after, limit, range).await?)
}

/// Store checked cases in one transaction (the operator's import at the command line); their
/// ids in order.
pub async fn import_cases(s: &AppState, city: CityCode, cases: &[NewCase]) -> AppResult<Vec<CaseId>> {
    Ok(s.store.create_cases(city, cases).await?)
}

/// Store checked cases keyed by their natural key (the file's external id, else the row's
/// content) in one transaction: a key imported before is left alone, so importing a file twice
/// creates each case once. Every row's case id and the report by key.
pub async fn import_keyed_cases(
    s: &AppState,
    city: CityCode,
    cases: &[(String, NewCase)],
) -> AppResult<gongzhi_store::CasesImported> {
    Ok(s.store.import_keyed_cases(city, cases).await?)
}
