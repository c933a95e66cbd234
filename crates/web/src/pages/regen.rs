//! Urban regeneration pages: the staff dashboard (buildings on an SVG map coloured by consent,
//! every rule's standing with charts, the holders), a holder's page (sticking points, ranked
//! resources, contacts and decisions, with forms to record them), the resource registry, and the
//! public aggregates page (no names).

use gongzhi_core::territory::CityCode;
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_core::decision::Standing;
use gongzhi_core::regen::matching::{Matches, Plan};
use gongzhi_core::regen::Choice;
use serde::Deserialize;

use super::{render, svg, Chrome, Lang, LangQuery, LoggedIn, PageError};
use crate::auth::MaybeAuth;
use crate::AppState;
use gongzhi_app::regen::{
    self as service, ContactRecord, DecisionEntry, HolderRow, NewContact, NewDecision, Overview, PublicView,
    ResourceRow,
};

pub(crate) const TEXTS: super::i18n::Texts = &[
    (
        "regen_abstention_sinks",
        "仅未参与表决者即可使参与率不达标",
        "Those staying away alone can sink the participation quorum",
    ),
    ("regen_after", "之后态度", "Stance after"),
    ("regen_agree", "同意", "Agree"),
    ("regen_area", "面积", "Area"),
    ("regen_before", "之前态度", "Stance before"),
    ("regen_choice", "意见", "Decision"),
    (
        "regen_consent_legend",
        "按同意面积占比着色",
        "Coloured by the share of area agreeing",
    ),
    ("regen_contacts", "协调记录", "Contacts"),
    ("regen_date", "日期", "Date"),
    ("regen_decisions", "表决与签约记录", "Decisions"),
    ("regen_evidence", "凭证", "Evidence"),
    ("regen_holder", "权利人", "Holder"),
    ("regen_holders", "协调对象（权利人）", "Coordination objects (holders)"),
    ("regen_key_holdouts", "关键少数", "Key holdouts"),
    ("regen_kind", "类型", "Kind"),
    ("regen_map", "地块与楼栋", "Parcels and buildings"),
    ("regen_matches", "匹配的治理资源", "Matched governance resources"),
    ("regen_met", "已达到", "Reached"),
    ("regen_missing", "尚缺", "Missing"),
    ("regen_next_step", "下一步", "Next step"),
    ("regen_not_met", "未达到", "Not reached"),
    ("regen_not_yet", "未表态", "Not yet"),
    ("regen_organisation", "组织化程度", "Organisation"),
    ("regen_phase_approval", "同意", "approval"),
    ("regen_phase_participation", "参与表决", "participation"),
    ("regen_plan", "稀缺资源配置方案", "Plan for the scarce resources"),
    ("regen_public", "公开信息", "Public figures"),
    ("regen_record", "记录", "Record"),
    ("regen_record_contact", "记录一次协调", "Record a contact"),
    ("regen_record_decision", "记录意见", "Record a decision"),
    ("regen_remaining", "剩余", "Left"),
    ("regen_resources", "治理资源登记", "Governance resources"),
    ("regen_scarce", "稀缺", "Scarce"),
    ("regen_scenario", "情境", "Scenario"),
    ("regen_smallest_set", "最少还需签约", "Fewest holders still to sign"),
    ("regen_staff", "联系人", "Staff"),
    ("regen_sticking", "卡点", "Sticking points"),
    ("regen_thresholds", "表决门槛", "Consent thresholds"),
    ("regen_used", "已用", "Used"),
    ("regen_warnings", "防施压提示", "Pressure warnings"),
    ("regen_withdraw", "撤回", "Withdraw"),
];

fn choice_text(c: &Chrome, d: Option<Choice>) -> &'static str {
    match d {
        Some(x) => x.label(c.lang),
        None => c.t("regen_not_yet"),
    }
}

/// A decision's stored word (`agree`, `oppose`, `abstain`, `not_yet`) in the page's language.
fn choice_word(c: &Chrome, word: &str) -> String {
    match word.parse::<Choice>() {
        Ok(x) => choice_text(c, Some(x)).to_owned(),
        Err(_) => c.t("regen_not_yet").to_owned(),
    }
}

/// One rule's standing as the page shows it.
pub struct RuleView {
    pub name: String,
    pub met: bool,
    pub chart: String,
    pub lines: Vec<String>,
    pub explanation: String,
    pub smallest: String,
    pub holdouts: String,
    pub sinks: bool,
}

fn rule_view(c: &Chrome, s: &Standing, name: String) -> RuleView {
    let zh = c.lang == Lang::Zh;
    let rows: Vec<(String, f64)> = s
        .conditions
        .iter()
        .map(|k| {
            let label = format!(
                "{} {} ≥{}/{}",
                k.condition.measure.label(c.lang),
                c.t(match k.condition.phase {
                    gongzhi_core::decision::threshold::Phase::Participation => "regen_phase_participation",
                    gongzhi_core::decision::threshold::Phase::Approval => "regen_phase_approval",
                }),
                k.condition.num,
                k.condition.den
            );
            (label, k.percent.parse().unwrap_or(0.0))
        })
        .collect();
    let lines = s
        .conditions
        .iter()
        .filter(|k| !k.met)
        .map(|k| {
            format!(
                "{}: {} {}",
                c.t("regen_missing"),
                k.missing_text,
                k.condition.measure.label(c.lang)
            )
        })
        .collect();
    RuleView {
        name,
        met: s.met,
        chart: svg::bar_chart(&rows),
        lines,
        explanation: if zh {
            s.explanation.zh.clone()
        } else {
            s.explanation.en.clone()
        },
        smallest: s
            .smallest_set
            .as_ref()
            .map(|x| {
                let mut ids = x.holders.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
                if x.holders.len() > 20 {
                    ids.push_str(&format!(" … ({})", x.holders.len()));
                }
                ids
            })
            .unwrap_or_default(),
        holdouts: s
            .key_holdouts
            .iter()
            .take(10)
            .map(|k| k.id.clone())
            .collect::<Vec<_>>()
            .join(", "),
        sinks: s.abstention.iter().any(|a| a.sinks),
    }
}

#[derive(Template)]
#[template(path = "regen_dashboard.html")]
struct DashboardPage {
    c: Chrome,
    code: String,
    name: String,
    map: String,
    rules: Vec<RuleView>,
    holders: Vec<(HolderRow, String, String)>,
    plan: Plan,
    plan_text: String,
}

async fn overview(s: &AppState, p: &gongzhi_core::access::Principal, code: &str) -> Result<Overview, PageError> {
    Ok(service::overview(s, p, code).await?)
}

/// The map: the community's grids, and each held building as a dot coloured by the share of its
/// held area whose holders agree (q0 none … q4 all).
async fn consent_map(s: &AppState, city: CityCode, o: &Overview) -> Result<String, PageError> {
    let mut per_building: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut unit_building: BTreeMap<String, String> = BTreeMap::new();
    let places = service::map_places(s, city, &o.project.community).await?;
    for (b, units) in &places.buildings {
        for u in units {
            unit_building.insert(u.clone(), b.code.clone());
        }
    }
    for h in &o.holders {
        for g in &h.holder.holdings {
            if let Some(b) = unit_building.get(&g.unit) {
                let e = per_building.entry(b.clone()).or_default();
                e.0 += g.area.hundredths();
                if h.decision == Some(Choice::Agree) {
                    e.1 += g.area.hundredths();
                }
            }
        }
    }
    let mut grids = Vec::new();
    for g in &places.grids {
        grids.push(svg::Shape {
            href: String::new(),
            label: g.name.clone(),
            geometry: g.geometry.clone(),
            class: None,
        });
    }
    let markers = places
        .buildings
        .iter()
        .filter_map(|(b, _)| {
            let (held, agree) = per_building.get(&b.code)?;
            let q = if *held == 0 { 0 } else { (agree * 4 + held / 2) / held };
            Some(svg::Marker {
                lng: b.lng?,
                lat: b.lat?,
                href: String::new(),
                label: format!("{} {}%", b.name, if *held == 0 { 0 } else { agree * 100 / held }),
                class: format!("q{q}"),
            })
        })
        .collect::<Vec<_>>();
    Ok(svg::map_with(&grids, &markers, false))
}

pub async fn dashboard(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let o = overview(&s, &p, &code).await?;
    let map = consent_map(&s, p.city, &o).await?;
    let zh = c.lang == Lang::Zh;
    let rules = o
        .standings
        .iter()
        .zip(&o.project.config.rules)
        .map(|(st, r)| rule_view(&c, st, if zh { r.name_zh.clone() } else { r.name_en.clone() }))
        .collect();
    let plan = o.plan();
    let holders = o
        .holders
        .iter()
        .map(|h| {
            let sticking = h
                .holder
                .sticking
                .iter()
                .map(|x| {
                    let name = o
                        .project
                        .config
                        .catalogue
                        .get(&x.code)
                        .map(|k| if zh { k.name_zh.clone() } else { k.name_en.clone() })
                        .unwrap_or_else(|| x.code.clone());
                    format!("{name}({})", x.severity)
                })
                .collect::<Vec<_>>()
                .join(" ");
            (h.clone(), sticking, choice_text(&c, h.decision).to_owned())
        })
        .collect();
    let page = DashboardPage {
        code: o.project.code.clone(),
        name: o.project.name.clone(),
        map,
        rules,
        holders,
        plan_text: if zh {
            plan.explanation.zh.clone()
        } else {
            plan.explanation.en.clone()
        },
        plan,
        c,
    };
    render(&page.c, &page)
}

#[derive(Template)]
#[template(path = "regen_holder.html")]
struct HolderPage {
    c: Chrome,
    code: String,
    row: HolderRow,
    decision: String,
    scenario_reason: String,
    organisation_reason: String,
    sticking: Vec<(String, u8)>,
    matches: Matches,
    reasons: Vec<String>,
    contacts: Vec<ContactRecord>,
    warnings: Vec<String>,
    decisions: Vec<DecisionEntry>,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct HolderQuery {
    pub lang: Option<String>,
    pub error: Option<String>,
}

pub async fn holder_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path((code, holder)): Path<(String, String)>,
    Query(q): Query<HolderQuery>,
) -> Result<Response, PageError> {
    let o = overview(&s, &p, &code).await?;
    let d = service::holder_detail(&o, &holder)?;
    let zh = c.lang == Lang::Zh;
    let pick = |x: &gongzhi_core::decision::Sentence| if zh { x.zh.clone() } else { x.en.clone() };
    let page = HolderPage {
        code: code.clone(),
        decision: choice_text(&c, d.row.decision).to_owned(),
        scenario_reason: pick(&d.row.classification.reason),
        organisation_reason: pick(&d.row.classification.organisation_reason),
        sticking: d
            .row
            .holder
            .sticking
            .iter()
            .map(|x| {
                let name = o
                    .project
                    .config
                    .catalogue
                    .get(&x.code)
                    .map(|k| if zh { k.name_zh.clone() } else { k.name_en.clone() })
                    .unwrap_or_else(|| x.code.clone());
                (name, x.severity)
            })
            .collect(),
        reasons: d
            .matches
            .ranked
            .iter()
            .map(|m| m.reasons.iter().map(pick).collect::<Vec<_>>().join("；"))
            .collect(),
        warnings: d
            .contacts
            .iter()
            .map(|x| x.warnings.iter().map(pick).collect::<Vec<_>>().join("；"))
            .collect(),
        row: d.row,
        matches: d.matches,
        contacts: d.contacts,
        decisions: d.decisions,
        error: q.error.unwrap_or_default(),
        c,
    };
    render(&page.c, &page)
}

#[derive(Deserialize)]
pub struct DecisionForm {
    pub choice: String,
    pub date: String,
    #[serde(default)]
    pub evidence: String,
}

fn back(code: &str, holder: &str, error: Option<String>) -> Response {
    let mut to = format!("/regen/{code}/holders/{holder}");
    if let Some(e) = error {
        let e: String = e
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        to.push_str(&format!("?error={e}"));
    }
    Redirect::to(&to).into_response()
}

/// Record a decision from the holder's page; a refused step comes back with its message.
pub async fn decision_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path((code, holder)): Path<(String, String)>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, PageError> {
    service::coordinated(&s, &p, &code).await?;
    let decision = NewDecision {
        holder: holder.clone(),
        choice: f.choice,
        date: f.date,
        evidence: f.evidence,
    };
    let result = service::record_decision(&s, &p, &code, decision).await;
    Ok(back(&code, &holder, result.err().map(|e| e.message)))
}

#[derive(Deserialize)]
pub struct ContactForm {
    pub at: String,
    pub staff: String,
    #[serde(default)]
    pub resource: String,
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub next_step: String,
}

/// Record a contact from the holder's page.
pub async fn contact_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path((code, holder)): Path<(String, String)>,
    Form(f): Form<ContactForm>,
) -> Result<Response, PageError> {
    service::coordinated(&s, &p, &code).await?;
    let contact = NewContact {
        holder: holder.clone(),
        at: f.at,
        staff: f.staff,
        resources: if f.resource.is_empty() {
            vec![]
        } else {
            vec![f.resource]
        },
        before: f.before,
        after: f.after,
        next_step: f.next_step,
    };
    let result = service::add_contact(&s, &p, &code, contact).await;
    Ok(back(&code, &holder, result.err().map(|e| e.message)))
}

#[derive(Template)]
#[template(path = "regen_resources.html")]
struct ResourcesPage {
    c: Chrome,
    code: String,
    resources: Vec<ResourceRow>,
}

pub async fn resources_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let o = overview(&s, &p, &code).await?;
    let page = ResourcesPage {
        code,
        resources: o.resources,
        c,
    };
    render(&page.c, &page)
}

#[derive(Template)]
#[template(path = "regen_public.html")]
struct PublicPage {
    c: Chrome,
    view: PublicView,
    chart: String,
}

/// The public page: counts and areas per decision and each rule's percentages; no names.
pub async fn public_page(
    State(s): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&headers, &q, user, &format!("/regen/{code}/public"));
    let view = service::public_view(&s, &code).await?;
    let chart = svg::bar_chart(
        &view
            .decisions
            .iter()
            .map(|d| (choice_word(&c, &d.choice), d.holders as f64))
            .collect::<Vec<_>>(),
    );
    let page = PublicPage { c, view, chart };
    render(&page.c, &page)
}

impl PublicPage {
    fn choice_name(&self, word: &str) -> String {
        choice_word(&self.c, word)
    }
    /// A condition's phase (`participation`, `approval`) in the page's language.
    fn phase_name(&self, word: &str) -> String {
        match word {
            "participation" => self.c.t("regen_phase_participation").to_owned(),
            "approval" => self.c.t("regen_phase_approval").to_owned(),
            other => other.to_owned(),
        }
    }
    /// A condition's measure (its English name in the public view) in the page's language.
    fn measure_name(&self, word: &str) -> String {
        gongzhi_core::decision::electorate::Measure::ALL
            .iter()
            .find(|m| m.en() == word)
            .map_or_else(|| word.to_owned(), |m| m.label(self.c.lang).to_owned())
    }
}

impl HolderPage {
    fn choice_name(&self, word: &str) -> String {
        choice_word(&self.c, word)
    }
}
