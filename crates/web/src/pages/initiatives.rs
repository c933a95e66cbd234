//! Pages of wicked-problem initiatives: the list, the member's workspace (front stage on a phone,
//! back stage at a desk) and the public progress page. Each page renders the API's
//! [`InitiativeView`], which the core built for the viewer's seat.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::{render, word_label, Chrome, Lang, LangQuery, LoggedIn, PageError};
use crate::auth::MaybeAuth;
use crate::{ApiError, AppState};
use gongzhi_app::initiatives::{self as app, HandoffView, InitiativeRow, InitiativeView, Step};
use gongzhi_core::premises::UnitUse;
use gongzhi_core::visibility::Seat;
use gongzhi_core::wicked::{Hazard, Milestone, PartyKind, Position, ProblemType, Side};

/// (key, 中文, English), sorted by key.
pub(crate) const TEXTS: super::i18n::Texts = &[
    ("ini_add_member", "添加成员", "Add a member"),
    ("ini_answer", "答复", "Answer"),
    ("ini_answered", "已答复", "Answered"),
    ("ini_area", "面积（㎡）", "Area (m²)"),
    ("ini_back", "后台", "Back stage"),
    ("ini_building", "楼栋", "Building"),
    ("ini_by_area", "按面积", "By area"),
    ("ini_by_head", "按人数", "By head count"),
    ("ini_concerns", "诉求与顾虑", "Concerns"),
    ("ini_consensus", "各楼栋共识", "Consensus per building"),
    ("ini_consensus_met", "过半数（人数与面积）", "Majority (heads and area)"),
    ("ini_contact", "记录走访联系", "Record a contact"),
    ("ini_days", "天", "days"),
    ("ini_detail", "内部内容", "Internal detail"),
    ("ini_due", "期限", "Deadline"),
    ("ini_election", "自治委员会选举", "Committee election"),
    ("ini_front", "前台", "Front stage"),
    ("ini_handoff_new", "提请对方协同", "Ask the other stage"),
    ("ini_handoffs", "协同事项", "Hand-offs"),
    ("ini_hazards", "隐患", "Hazards"),
    (
        "ini_internal_note",
        "内部记录（仅后台可见）",
        "Internal note (back stage only)",
    ),
    ("ini_joint", "联合", "Joint"),
    ("ini_limit_days", "答复时限（天）", "Answer within (days)"),
    ("ini_members", "成员", "Members"),
    ("ini_milestone", "标记里程碑", "Mark a milestone"),
    ("ini_milestones", "里程碑", "Milestones"),
    ("ini_none", "暂无", "None yet"),
    ("ini_note", "内部记录", "Note"),
    ("ini_notice", "发布居民公告", "Post a notice to residents"),
    ("ini_occupants", "居住人数", "Occupants"),
    ("ini_open_handoffs", "待答复协同事项", "Open hand-offs"),
    ("ini_overdue", "已超时", "Overdue"),
    ("ini_owner", "产权人", "Owner"),
    ("ini_parties", "相关方", "Parties"),
    ("ini_parties_reached", "已联系相关方", "Parties reached"),
    ("ini_person_id", "人员编号", "Person id"),
    ("ini_plan_phase", "整治方案阶段", "Plan phase"),
    ("ini_position", "态度", "Position"),
    ("ini_problem", "问题类型", "Problem type"),
    ("ini_progress", "进展", "Progress"),
    ("ini_public", "公开", "Public"),
    ("ini_public_page", "公开进展页", "Public progress page"),
    ("ini_publish", "发布声明", "Publish a statement"),
    (
        "ini_rationale",
        "内部依据（仅后台可见）",
        "Internal rationale (back stage only)",
    ),
    ("ini_scope", "范围", "Scope"),
    ("ini_side", "工作台", "Stage"),
    ("ini_stage", "可见范围", "Visibility"),
    ("ini_still_needed", "尚需争取", "Still to win"),
    ("ini_submit", "提交", "Submit"),
    ("ini_summary", "事项（双方可见）", "Summary (both stages see it)"),
    ("ini_survey", "逐户摸排", "Unit survey"),
    ("ini_survey_coverage", "摸排覆盖", "Survey coverage"),
    ("ini_survey_photo", "摸排照片", "Survey photo"),
    ("ini_surveyed", "已摸排", "Surveyed"),
    (
        "ini_task",
        "部门任务（内部案件，走闭环派遣）",
        "Department task (an internal case, dispatched through the closed loop)",
    ),
    ("ini_task_condition", "立案条件", "Filing condition"),
    ("ini_text", "内容", "Text"),
    ("ini_timeline", "联合时间线", "Joint timeline"),
    ("ini_title", "棘手问题专项", "Wicked-problem initiatives"),
    ("ini_unit", "房屋单元", "Unit"),
    ("ini_units", "房屋单元", "Units"),
    ("ini_use", "实际用途", "Actual use"),
    ("ini_votes", "方案表决", "Plan votes"),
    ("ini_waiting", "等待天数", "Days waiting"),
    (
        "ini_work_handoff",
        "内部办理（仅后台可见）",
        "Internal work (back stage only)",
    ),
];

#[derive(Template)]
#[template(path = "initiatives.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<InitiativeRow>,
}

/// The list of initiatives (public: names, kinds, communities).
pub async fn list(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, PageError> {
    let rows = app::list(&s, p.as_ref()).await?;
    let page = ListPage {
        c: Chrome::new(&headers, &q, p, "/initiatives"),
        rows,
    };
    render(&page.c, &page)
}

#[derive(Template)]
#[template(path = "initiative.html")]
struct InitiativePage {
    c: Chrome,
    v: InitiativeView,
    error: Option<String>,
    positions: Vec<(&'static str, &'static str)>,
    hazards: Vec<(&'static str, &'static str)>,
    milestones: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    uses: Vec<(&'static str, &'static str)>,
}

impl InitiativePage {
    fn new(c: Chrome, v: InitiativeView, error: Option<String>) -> InitiativePage {
        let lang = c.lang;
        InitiativePage {
            c,
            v,
            error,
            positions: Position::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
            hazards: Hazard::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
            milestones: Milestone::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
            kinds: PartyKind::ALL.iter().map(|x| (x.as_str(), x.label(lang))).collect(),
            // The survey's uses, the problem's own first.
            uses: [
                UnitUse::QuasiResidential,
                UnitUse::Residential,
                UnitUse::Commercial,
                UnitUse::Office,
                UnitUse::Industrial,
                UnitUse::Vacant,
                UnitUse::Other,
            ]
            .iter()
            .map(|x| (x.as_str(), x.label(lang)))
            .collect(),
        }
    }
    fn front(&self) -> bool {
        self.v.seat == "front"
    }
    fn back(&self) -> bool {
        self.v.seat == "back"
    }
    fn stage_key(&self, stage: &gongzhi_core::visibility::Stage) -> &'static str {
        match stage {
            gongzhi_core::visibility::Stage::Front => "ini_front",
            gongzhi_core::visibility::Stage::Back => "ini_back",
            gongzhi_core::visibility::Stage::Joint => "ini_joint",
            gongzhi_core::visibility::Stage::Public => "ini_public",
        }
    }
    fn when(&self, ms: &i64) -> String {
        chrono::DateTime::from_timestamp_millis(*ms + 8 * 3_600_000)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    }
    fn milestone_name(&self, m: &Milestone) -> &'static str {
        m.label(self.c.lang)
    }
    /// The view's stored words in the page's language.
    fn problem_name(&self, word: &str) -> String {
        word_label::<ProblemType>(self.c.lang, word)
    }
    fn party_kind_name(&self, word: &str) -> String {
        word_label::<PartyKind>(self.c.lang, word)
    }
    fn position_name(&self, word: &str) -> String {
        word_label::<Position>(self.c.lang, word)
    }
    fn side_name(&self, word: &str) -> String {
        word_label::<Side>(self.c.lang, word)
    }
    fn percent(&self, part: &usize, whole: &usize) -> String {
        if *whole == 0 {
            "—".into()
        } else {
            format!("{:.1}%", *part as f64 * 100.0 / *whole as f64)
        }
    }
    /// Hand-offs this seat may answer (opened by the other stage, not yet answered).
    fn answerable(&self) -> Vec<&HandoffView> {
        self.v
            .handoffs
            .iter()
            .filter(|h| h.answer.is_none() && h.from != self.v.seat)
            .collect()
    }
}

async fn page(
    s: &AppState,
    c: Chrome,
    p: Option<&gongzhi_core::access::Principal>,
    id: i64,
    public: bool,
    error: Option<String>,
) -> Result<Response, PageError> {
    let v = app::view_of(s, p, id, public).await?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = InitiativePage::new(c, v, error);
    let mut resp = render(&page.c, &page)?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// A member's workspace; a visitor who is not a member is sent to the public page.
pub async fn workspace(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    if app::seat_of(&s, Some(&p), id).await? == Seat::Public {
        return Ok(Redirect::to(&format!("/initiatives/{id}/public")).into_response());
    }
    page(&s, c, Some(&p), id, false, None).await
}

/// The public progress page: aggregates and public records only.
pub async fn public(
    State(s): State<AppState>,
    MaybeAuth(p): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &q, p.clone(), &format!("/initiatives/{id}/public"));
    page(&s, c, p.as_ref(), id, true, None).await
}

/// A step from a workspace form: the same path as the API's steps.
pub async fn step(
    State(s): State<AppState>,
    LoggedIn { p, mut c }: LoggedIn,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    c.path = format!("/initiatives/{id}");
    let mut map = serde_json::Map::new();
    let mut hazards = Vec::new();
    let mut version = 0;
    for (k, v) in fields {
        let v = v.trim().to_owned();
        match k.as_str() {
            "version" => version = v.parse().unwrap_or(0),
            "hazards" => hazards.push(serde_json::Value::from(v)),
            "party" | "occupants" | "limit_days" | "id" | "person" | "case_id" => {
                map.insert(
                    k,
                    v.parse::<i64>().map(Into::into).unwrap_or(serde_json::Value::from(v)),
                );
            }
            "from_note" => {
                map.insert(k, v.parse::<i64>().map(Into::into).unwrap_or(serde_json::Value::Null));
            }
            "due_date" => {
                let due = chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(18, 0, 0))
                    .map(|t| t.and_utc().timestamp_millis() - 8 * 3_600_000);
                map.insert("due".into(), due.map(Into::into).unwrap_or(serde_json::Value::Null));
            }
            "units" => {
                let units: Vec<serde_json::Value> = v
                    .split([',', ';', ' '])
                    .filter(|u| !u.is_empty())
                    .map(Into::into)
                    .collect();
                map.insert(k, units.into());
            }
            _ => {
                map.insert(k, v.into());
            }
        }
    }
    if map.get("step").and_then(|s| s.as_str()) == Some("survey") {
        map.insert("hazards".into(), hazards.into());
    }
    let result = match serde_json::from_value::<Step>(map.into()) {
        Ok(step) => app::take_step(&s, &p, id, version, step)
            .await
            .map(|_| ())
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::invalid(format!("the form is incomplete: {e}"))),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/initiatives/{id}")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
            page(&s, c, Some(&p), id, false, Some(e.body.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A survey photo from the workspace (multipart: `unit`, `photo`), through the API's path. A
/// refused photo shows the page with the error and the refusal's status (415, 413, 422).
pub async fn photo(
    State(s): State<AppState>,
    LoggedIn { p, mut c }: LoggedIn,
    Path(id): Path<i64>,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    c.path = format!("/initiatives/{id}");
    let media = crate::media::PHOTO;
    let read = async {
        let (mut unit, mut photo) = (String::new(), None);
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| crate::media::form_error(media, "photo", e))?
        {
            match field.name() {
                Some("unit") => {
                    unit = field
                        .text()
                        .await
                        .map_err(|e| crate::media::form_error(media, "unit", e))?
                }
                Some("photo") => {
                    let ct = field.content_type().unwrap_or("").to_owned();
                    let data = field
                        .bytes()
                        .await
                        .map_err(|e| crate::media::form_error(media, "photo", e))?;
                    photo = Some((ct, data));
                }
                _ => {}
            }
        }
        Ok::<_, ApiError>((unit, photo))
    };
    let result = match read.await {
        Ok((unit, photo)) => match photo.filter(|(_, d)| !d.is_empty()) {
            Some((ct, data)) => app::add_survey_photo(&s, &p, id, unit.trim(), &ct, &data)
                .await
                .map(|_| ())
                .map_err(ApiError::from),
            None => Err(ApiError::invalid(c.t("err_photo"))),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/initiatives/{id}")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
            let status = e.status;
            let mut r = page(&s, c, Some(&p), id, false, Some(e.body.message)).await?;
            if matches!(status.as_u16(), 413 | 415) {
                *r.status_mut() = status;
            }
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
