//! Open311 GeoReport v2 mapping: how the catalogue and the case loop look to an Open311 client.
//!
//! A *service* is a filing condition (立案条件) of the [`Catalogue`]: `service_code` is the
//! condition code (`E0401-01`), `group` the major class (大类). Each service has a *definition*:
//! attributes chosen by the case kind ([`attributes_for`]), validated by [`validate_attributes`].
//! Case states map onto the two Open311 statuses ([`status_of`]); [`status_note`] picks the
//! latest public note from a case's events. What a public GET may show of a case is decided here
//! too ([`public_description`], [`public_point`]): never the reporter's contacts, and for 12345
//! service requests (诉求, which concern homes and people) neither the text nor the exact place.
//!
//! Everything is pure; the HTTP layer renders it as XML or JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::case::{CaseEvent, CaseState};
use crate::catalogue::{CaseKind, Catalogue, Category, FilingCondition};
use crate::org::string_enum;
use crate::DomainError;

/// The specification the endpoint implements, as discovery names it.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// At most this many requests in one answer (the specification's default limit).
pub const MAX_REQUESTS: u32 = 1000;

/// The default and largest span of a request search, in days.
pub const SEARCH_DAYS: i64 = 90;

/// The longest description a request may have (the case loop's limit; Open311 allows 4000).
pub const MAX_DESCRIPTION: usize = 2000;

string_enum! {
    /// The datatype of a service attribute.
    Datatype {
        String => "string", "短文本", "Short text";
        Number => "number", "数值", "Number";
        Datetime => "datetime", "日期时间", "Date and time";
        Text => "text", "长文本", "Long text";
        SingleValueList => "singlevaluelist", "单选", "Single choice";
        MultiValueList => "multivaluelist", "多选", "Multiple choice";
    }
}

/// One allowed value of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// An attribute of a service definition, as Open311 describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// `false`: information for the user only, not to be answered.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: u32,
    pub description: String,
    /// Only for the list datatypes.
    pub values: Vec<AttributeValue>,
    /// Bounds of a number, inclusive.
    #[serde(skip)]
    pub range: Option<(f64, f64)>,
}

impl Attribute {
    /// The short (Chinese) label: the description up to its English gloss.
    pub fn label(&self) -> &str {
        self.description.split(" (").next().unwrap_or(&self.description)
    }

    fn value_name(&self, key: &str) -> Option<&str> {
        self.values.iter().find(|v| v.key == key).map(|v| v.name.as_str())
    }
}

/// A service of the catalogue as Open311 lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Whether the service has a definition with attributes (always, here).
    pub metadata: bool,
    /// `realtime`: requests are taken into the case loop at once.
    #[serde(rename = "type")]
    pub kind: String,
    /// Comma-separated.
    pub keywords: String,
    /// The major class (大类).
    pub group: String,
}

/// The name of a service: the subcategory, with the condition when it says more.
pub fn service_name(category: &Category, condition: &FilingCondition) -> String {
    if condition.text == category.name {
        category.name.clone()
    } else {
        format!("{}：{}", category.name, condition.text)
    }
}

/// What the city will do with a request of this condition: the time limit and the unit.
pub fn service_notice(condition: &FilingCondition) -> String {
    format!(
        "处置时限 {} {}，派往 {} (handled within {} {} by the unit the dispatch catalogue names)",
        condition.time_limit,
        condition.timer.zh(),
        condition.dispatch,
        condition.time_limit,
        condition.timer.as_str().replace('_', " ")
    )
}

fn service_of(category: &Category, condition: &FilingCondition) -> Service {
    Service {
        service_code: condition.code.clone(),
        service_name: service_name(category, condition),
        description: format!(
            "{} · {} · {}：{}。{}",
            category.kind.zh(),
            category.major_name,
            category.name,
            condition.text,
            service_notice(condition)
        ),
        metadata: true,
        kind: "realtime".into(),
        keywords: [
            category.kind.zh(),
            category.kind.as_str(),
            &category.major_name,
            &category.name,
            &category.code,
        ]
        .join(", "),
        group: category.major_name.clone(),
    }
}

/// Every service of the catalogue, in catalogue order.
pub fn services(catalogue: &Catalogue) -> Vec<Service> {
    catalogue.conditions().map(|(c, k)| service_of(c, k)).collect()
}

/// One service by its code (a condition code).
pub fn service(catalogue: &Catalogue, code: &str) -> Option<Service> {
    catalogue.condition(code).map(|(c, k)| service_of(c, k))
}

/// The attributes of a service, if the code is a condition of the catalogue.
pub fn definition(catalogue: &Catalogue, code: &str) -> Option<Vec<Attribute>> {
    catalogue.condition(code).map(|(c, k)| attributes_for(c.kind, k))
}

fn values(pairs: &[(&str, &str)]) -> Vec<AttributeValue> {
    pairs
        .iter()
        .map(|(key, name)| AttributeValue {
            key: (*key).to_owned(),
            name: (*name).to_owned(),
        })
        .collect()
}

fn attr(code: &str, datatype: Datatype, required: bool, description: &str) -> Attribute {
    Attribute {
        variable: true,
        code: code.to_owned(),
        datatype,
        required,
        datatype_description: None,
        order: 0,
        description: description.to_owned(),
        values: Vec::new(),
        range: None,
    }
}

fn hazard(required: bool) -> Attribute {
    Attribute {
        values: values(&[
            ("none", "无隐患 none"),
            ("low", "低 low"),
            ("medium", "中 medium"),
            ("high", "高，危及人身安全 high"),
        ]),
        ..attr("hazard", Datatype::SingleValueList, required, "危险程度 (hazard level)")
    }
}

fn affected(description: &str) -> Attribute {
    Attribute {
        values: values(&[
            ("pedestrians", "行人 pedestrians"),
            ("vehicles", "机动车 vehicles"),
            ("cyclists", "非机动车 cyclists"),
            ("children", "儿童 children"),
            ("elderly", "老人 elderly"),
            ("residents", "周边住户 residents"),
            ("businesses", "商户 businesses"),
        ]),
        ..attr("affected", Datatype::MultiValueList, false, description)
    }
}

fn number(code: &str, description: &str, min: f64, max: f64) -> Attribute {
    Attribute {
        datatype_description: Some(format!("{min}–{max}")),
        range: Some((min, max)),
        ..attr(code, Datatype::Number, false, description)
    }
}

/// The attributes of a service of `kind`: first those of the kind, then the common ones
/// (`observed_at`, `note`, `reference`), then an informational `time_limit`.
pub fn attributes_for(kind: CaseKind, condition: &FilingCondition) -> Vec<Attribute> {
    let mut list = match kind {
        CaseKind::Component => vec![
            hazard(true),
            Attribute {
                values: values(&[
                    ("missing", "丢失 missing"),
                    ("broken", "破损 broken"),
                    ("displaced", "移位、倾斜 displaced"),
                    ("blocked", "堵塞、被占 blocked"),
                    ("not_working", "不能使用 not working"),
                    ("other", "其他 other"),
                ]),
                ..attr("damage", Datatype::SingleValueList, false, "损坏情况 (kind of damage)")
            },
            affected("影响对象 (who is affected)"),
            number("count", "涉及设施数量 (number of items)", 1.0, 1000.0),
        ],
        CaseKind::Event => vec![
            hazard(true),
            Attribute {
                values: values(&[("yes", "是 yes"), ("no", "否 no")]),
                ..attr(
                    "ongoing",
                    Datatype::SingleValueList,
                    false,
                    "是否仍在持续 (still going on)",
                )
            },
            affected("影响对象 (who is affected)"),
            number("count", "涉及人数或数量 (people or items involved)", 0.0, 100000.0),
        ],
        CaseKind::ServiceRequest => vec![
            Attribute {
                values: values(&[
                    ("once", "偶发 once"),
                    ("daily", "每天 daily"),
                    ("nightly", "夜间 at night"),
                    ("continuous", "持续 continuous"),
                ]),
                ..attr("frequency", Datatype::SingleValueList, false, "发生频率 (how often)")
            },
            hazard(false),
            affected("影响对象 (who is affected)"),
            number("households", "受影响户数 (households affected)", 1.0, 100000.0),
        ],
    };
    list.push(Attribute {
        datatype_description: Some("ISO 8601, e.g. 2026-03-01T08:30:00+08:00".into()),
        ..attr(
            "observed_at",
            Datatype::Datetime,
            false,
            "发现时间 (when it was observed)",
        )
    });
    list.push(Attribute {
        datatype_description: Some("at most 1000 characters".into()),
        ..attr("note", Datatype::Text, false, "补充说明 (further details)")
    });
    list.push(Attribute {
        datatype_description: Some("at most 64 characters".into()),
        ..attr(
            "reference",
            Datatype::String,
            false,
            "外部编号 (your own reference, e.g. the app's ticket number)",
        )
    });
    list.push(Attribute {
        variable: false,
        ..attr(
            "time_limit",
            Datatype::Text,
            false,
            &format!("处置时限 (time limit): {}", service_notice(condition)),
        )
    });
    for (i, a) in list.iter_mut().enumerate() {
        a.order = i as u32 + 1;
    }
    list
}

/// An answered attribute: its code, label and the values as given and as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub code: String,
    pub label: String,
    /// The keys (lists) or the normalised value.
    pub values: Vec<String>,
    /// For people: the value names or the value.
    pub shown: String,
}

/// The answers as stored: code → value (lists: an array).
pub fn answers_json(answers: &[Answer], defs: &[Attribute]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for a in answers {
        let list = defs
            .iter()
            .any(|d| d.code == a.code && d.datatype == Datatype::MultiValueList);
        let v = if list {
            serde_json::Value::from(a.values.clone())
        } else {
            serde_json::Value::from(a.values.first().cloned().unwrap_or_default())
        };
        map.insert(a.code.clone(), v);
    }
    serde_json::Value::Object(map)
}

/// The form key of an attribute: `attribute[code]` → (`code`, false), `attribute[code][]` →
/// (`code`, true). Other keys are not attributes.
pub fn attribute_key(key: &str) -> Option<(&str, bool)> {
    let inner = key.strip_prefix("attribute[")?;
    let (code, list) = match inner.strip_suffix("][]") {
        Some(c) => (c, true),
        None => (inner.strip_suffix(']')?, false),
    };
    (!code.is_empty() && !code.contains(['[', ']'])).then_some((code, list))
}

fn bad(code: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(format!("attribute[{code}]"), message)
}

/// Checks the answers of a request against the service's attributes: known and variable codes,
/// required ones present, one value for all but multivaluelist, list keys among the values,
/// numbers in range, datetimes in ISO 8601 (not in the future), text lengths. `given` maps each
/// code to the values sent (in order). Answers come back in definition order.
pub fn validate_attributes(
    defs: &[Attribute],
    given: &BTreeMap<String, Vec<String>>,
    now_ms: i64,
) -> Result<Vec<Answer>, DomainError> {
    for code in given.keys() {
        match defs.iter().find(|d| &d.code == code) {
            None => {
                let known: Vec<&str> = defs.iter().filter(|d| d.variable).map(|d| d.code.as_str()).collect();
                return Err(bad(
                    code,
                    format!("not an attribute of this service; use {}", known.join(", ")),
                ));
            }
            Some(d) if !d.variable => return Err(bad(code, "is information only and takes no answer")),
            Some(_) => {}
        }
    }
    let mut out = Vec::new();
    for d in defs.iter().filter(|d| d.variable) {
        let mut vals: Vec<String> = given
            .get(&d.code)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if d.datatype == Datatype::MultiValueList {
            vals = vals
                .iter()
                .flat_map(|v| v.split([',', '，']))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            let mut seen = std::collections::HashSet::new();
            vals.retain(|v| seen.insert(v.clone()));
        }
        if vals.is_empty() {
            if d.required {
                return Err(bad(&d.code, format!("is required ({})", d.description)));
            }
            continue;
        }
        if d.datatype != Datatype::MultiValueList && vals.len() > 1 {
            return Err(bad(&d.code, format!("takes one value, got {}", vals.len())));
        }
        let one = vals[0].clone();
        let (values, shown) = match d.datatype {
            Datatype::SingleValueList | Datatype::MultiValueList => {
                let mut names = Vec::new();
                for v in &vals {
                    match d.value_name(v) {
                        Some(n) => names.push(n.to_owned()),
                        None => {
                            let keys: Vec<&str> = d.values.iter().map(|v| v.key.as_str()).collect();
                            return Err(bad(&d.code, format!("'{v}' is not one of {}", keys.join(", "))));
                        }
                    }
                }
                (vals, names.join("、"))
            }
            Datatype::Number => {
                let n: f64 = one
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| bad(&d.code, format!("'{one}' is not a number")))?;
                if let Some((lo, hi)) = d.range {
                    if n < lo || n > hi {
                        return Err(bad(&d.code, format!("{n} is not between {lo} and {hi}")));
                    }
                }
                (vec![one.clone()], one)
            }
            Datatype::Datetime => {
                let t = parse_datetime(&one).map_err(|_| {
                    bad(
                        &d.code,
                        format!("'{one}' is not an ISO 8601 date and time such as 2026-03-01T08:30:00+08:00"),
                    )
                })?;
                if t.timestamp_millis() > now_ms + 3_600_000 {
                    return Err(bad(&d.code, format!("{one} is in the future")));
                }
                let w = w3c(t.timestamp_millis());
                (vec![w.clone()], w)
            }
            Datatype::String | Datatype::Text => {
                let max = if d.datatype == Datatype::String { 64 } else { 1000 };
                if one.chars().count() > max {
                    return Err(bad(&d.code, format!("is longer than {max} characters")));
                }
                if d.datatype == Datatype::String && one.contains(['\n', '\r']) {
                    return Err(bad(&d.code, "must be one line"));
                }
                (vec![one.clone()], one)
            }
        };
        out.push(Answer {
            code: d.code.clone(),
            label: d.label().to_owned(),
            values,
            shown,
        });
    }
    Ok(out)
}

/// The answers as one line for the case's description, so that the staff of the loop see them.
pub fn summary(answers: &[Answer]) -> String {
    let parts: Vec<String> = answers
        .iter()
        .map(|a| format!("{}：{}", a.label, a.shown.replace(['\n', '\r'], " ")))
        .collect();
    format!("〔Open311〕{}", parts.join("；"))
}

/// The Open311 status of a case state: `closed` once closed, evaluated, voided or merged.
pub fn status_of(state: CaseState) -> &'static str {
    if state.is_open() {
        "open"
    } else {
        "closed"
    }
}

/// The case states of a comma-separated Open311 status filter (`open`, `closed`).
pub fn states_for_status(list: &str) -> Result<Vec<CaseState>, DomainError> {
    let mut out = Vec::new();
    for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let open = match s.to_ascii_lowercase().as_str() {
            "open" => true,
            "closed" => false,
            _ => {
                return Err(DomainError::invalid(
                    "status",
                    format!("'{s}' is not a status: use open, closed or both"),
                ))
            }
        };
        out.extend(CaseState::ALL.iter().copied().filter(|st| st.is_open() == open));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The event kinds whose facts may appear as public status notes.
pub const NOTE_EVENTS: &[&str] = &[
    "registered",
    "voided",
    "dispatched",
    "accepted",
    "suspended",
    "resumed",
    "handling_reported",
    "verification_passed",
    "verification_failed",
    "closed",
    "followed_up",
    "merged_into",
];

/// The public note of one event, if it has one. Internal steps (returns between units,
/// extensions, supervision, whistles) have none; reasons of a rework stay internal.
pub fn public_note(event: &CaseEvent) -> Option<String> {
    use CaseEvent as E;
    Some(match event {
        E::Registered => "已立案 (registered)".into(),
        E::Voided { reason } => format!("不予立案：{reason} (not accepted)"),
        E::Dispatched { unit_name, .. } => format!("已派遣至 {unit_name} (dispatched)"),
        E::Accepted => "处置单位已签收，处置中 (being handled)".into(),
        E::Suspended { reason } => format!("暂缓处置：{reason} (suspended)"),
        E::Resumed => "恢复处置 (handling resumed)".into(),
        E::HandlingReported { note } => format!("处置反馈：{note}"),
        E::VerificationPassed => "现场核查通过 (verified on site)".into(),
        E::VerificationFailed { .. } => "现场核查未通过，返工处置 (rework after the on-site check)".into(),
        E::Closed { reason: Some(r), .. } => format!("已结案：{r} (closed)"),
        E::Closed { reason: None, .. } => "已结案 (closed)".into(),
        E::FollowedUp { .. } => "已回访 (followed up)".into(),
        E::MergedInto { case_id } => format!("与请求 {case_id} 重复，已合并 (duplicate of request {case_id})"),
        _ => return None,
    })
}

/// The latest public note of a case's events (in order), or the note of a fresh report.
pub fn status_note<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> String {
    events
        .into_iter()
        .filter_map(public_note)
        .last()
        .unwrap_or_else(|| "已收到，待立案 (received, awaiting registration)".into())
}

/// The kind of a category (component, event, 12345 service request): the catalogue's, else by
/// the code's first letter (C, E; anything else a service request, the most guarded).
pub fn case_kind(cat: &Catalogue, category: &str) -> CaseKind {
    match cat.category(category) {
        Some(c) => c.kind,
        None => match category.chars().next() {
            Some('C') => CaseKind::Component,
            Some('E') => CaseKind::Event,
            _ => CaseKind::ServiceRequest,
        },
    }
}

/// The description a public GET shows: contacts masked; none for 12345 service requests (诉求),
/// which are about people's homes and lives.
pub fn public_description(kind: CaseKind, description: &str) -> Option<String> {
    (kind != CaseKind::ServiceRequest).then(|| redact_contacts(description))
}

/// The location a public GET shows: exact for components and events in public space, rounded to
/// about 100 m for 12345 service requests.
pub fn public_point(kind: CaseKind, lng: f64, lat: f64) -> (f64, f64) {
    match kind {
        CaseKind::ServiceRequest => ((lng * 1000.0).round() / 1000.0, (lat * 1000.0).round() / 1000.0),
        _ => ((lng * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6),
    }
}

/// Masks what looks like a contact in free text: mobile numbers (11 digits from 1), landlines
/// (area code, hyphen, 7–8 digits) and e-mail addresses.
pub fn redact_contacts(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '-') {
                j += 1;
            }
            let run: String = chars[i..j].iter().collect();
            let digits = run.chars().filter(char::is_ascii_digit).count();
            let mobile = run.len() == 11 && run.starts_with('1') && digits == 11;
            let landline = run.split_once('-').is_some_and(|(a, b)| {
                (3..=4).contains(&a.len())
                    && a.starts_with('0')
                    && (7..=8).contains(&b.len())
                    && b.chars().all(|c| c.is_ascii_digit())
            });
            if mobile || landline {
                out.push_str("***");
            } else {
                out.push_str(&run);
            }
            i = j;
            continue;
        }
        if c == '@' {
            let is_word = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
            let mut start = out.len();
            while let Some(prev) = out[..start].chars().next_back().filter(|p| is_word(*p)) {
                start -= prev.len_utf8();
            }
            let mut j = i + 1;
            while j < chars.len() && is_word(chars[j]) {
                j += 1;
            }
            let domain: String = chars[i + 1..j].iter().collect();
            if start < out.len() && domain.contains('.') {
                out.truncate(start);
                out.push_str("***");
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A place named by `address_string`.
#[derive(Debug, Clone, PartialEq)]
pub enum Address {
    /// A grid code (15 digits, or 18 for a micro-grid) found in the text.
    Grid(String),
    /// `lng,lat` (WGS-84 unless the request says otherwise).
    Point { lng: f64, lat: f64 },
}

/// Reads `address_string`. Gongzhi does not geocode street addresses: the text must contain a
/// grid code (e.g. `510104001001001`) or a point as `lng,lat` with decimals (e.g.
/// `104.0657,30.6595`; `3, 2` as in "building 3, unit 2" is not a point).
pub fn parse_address_string(text: &str) -> Result<Address, DomainError> {
    let chars: Vec<char> = text.chars().collect();
    let numeric = |c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+';
    for (i, c) in chars.iter().enumerate() {
        if *c != ',' && *c != '，' {
            continue;
        }
        let mut a = i;
        while a > 0 && chars[a - 1] == ' ' {
            a -= 1;
        }
        let end_a = a;
        while a > 0 && numeric(chars[a - 1]) {
            a -= 1;
        }
        let mut b = i + 1;
        while b < chars.len() && chars[b] == ' ' {
            b += 1;
        }
        let start_b = b;
        while b < chars.len() && numeric(chars[b]) {
            b += 1;
        }
        let first: String = chars[a..end_a].iter().collect();
        let second: String = chars[start_b..b].iter().collect();
        if !(first.contains('.') && second.contains('.')) {
            continue;
        }
        if let (Ok(lng), Ok(lat)) = (first.parse::<f64>(), second.parse::<f64>()) {
            if !((-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat)) {
                return Err(DomainError::invalid(
                    "address_string",
                    format!("'{first},{second}' is not a point: give longitude first, then latitude (lng,lat)"),
                ));
            }
            return Ok(Address::Point { lng, lat });
        }
    }
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == 15 || run.len() == 18 {
                return Ok(Address::Grid(run));
            }
            run.clear();
        }
    }
    Err(DomainError::invalid(
        "address_string",
        "Gongzhi does not geocode street addresses: include a grid code (15 digits, e.g. 510104001001001) \
         or a point as lng,lat (e.g. 104.0657,30.6595), or send lat and long",
    ))
}

/// China Standard Time, the zone of every Open311 datetime here.
pub fn cst() -> FixedOffset {
    crate::calendar::china_time()
}

/// An instant as a W3C / ISO 8601 datetime in China Standard Time: `2026-03-01T08:30:00+08:00`.
pub fn w3c(ms: i64) -> String {
    let t = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    t.with_timezone(&cst()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Reads a W3C / ISO 8601 datetime: with a zone (`Z`, `+08:00`), or without one (China Standard
/// Time), or a date alone (its midnight, CST).
pub fn parse_datetime(s: &str) -> Result<DateTime<FixedOffset>, DomainError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            if let Some(t) = cst().from_local_datetime(&t).single() {
                return Ok(t);
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| cst().from_local_datetime(&t).single())
        {
            return Ok(t);
        }
    }
    Err(DomainError::invalid(
        "datetime",
        format!("'{s}' is not a W3C datetime such as 2026-03-01T00:00:00+08:00 or 2026-03-01T00:00:00Z"),
    ))
}

/// The search window of `GET requests`: (from, to) in ms, inclusive. Without dates the last
/// [`SEARCH_DAYS`] days; with one date, [`SEARCH_DAYS`] days from or to it; never more.
pub fn search_window(start: Option<&str>, end: Option<&str>, now_ms: i64) -> Result<(i64, i64), DomainError> {
    let span = SEARCH_DAYS * 86_400_000;
    let read = |field: &str, v: Option<&str>| -> Result<Option<i64>, DomainError> {
        v.filter(|v| !v.trim().is_empty())
            .map(|v| {
                parse_datetime(v)
                    .map(|t| t.timestamp_millis())
                    .map_err(|e| DomainError::invalid(field, e.to_string().replacen("datetime: ", "", 1)))
            })
            .transpose()
    };
    let (from, to) = match (read("start_date", start)?, read("end_date", end)?) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + span),
        (None, Some(b)) => (b - span, b),
        (None, None) => (now_ms - span, now_ms),
    };
    if from > to {
        return Err(DomainError::invalid("start_date", "is after end_date"));
    }
    if to - from > span {
        return Err(DomainError::invalid(
            "end_date",
            format!("a search may not span more than {SEARCH_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// Which city a `jurisdiction_id` names: its code or its name.
pub fn matches_jurisdiction(id: &str, city_code: &str, city_name: &str) -> bool {
    let id = id.trim();
    id == city_code || id == city_name || city_name.strip_suffix('市') == Some(id)
}

/// An Open311 output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl FromStr for Format {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        match s {
            "xml" => Ok(Format::Xml),
            "json" => Ok(Format::Json),
            _ => Err(DomainError::invalid(
                "format",
                format!("'{s}' is not a format: use .xml or .json"),
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Xml => "xml",
            Format::Json => "json",
        })
    }
}

/// Splits `name.fmt` into the name and the format (`None`: no or an unknown extension).
pub fn split_format(file: &str) -> (&str, Option<Format>) {
    match file.rsplit_once('.') {
        Some((name, ext)) => (name, ext.parse().ok()),
        None => (file, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    const NOW: i64 = 1_772_000_000_000;

    #[test]
    fn every_condition_is_a_service_with_a_definition() {
        let cat = Catalogue::default_cn();
        let all = services(&cat);
        assert_eq!(all.len(), cat.conditions().count());
        let s = service(&cat, "C0101-01").unwrap();
        assert_eq!(s.service_name, "上水井盖：井盖丢失、塌陷，存在安全隐患");
        assert_eq!(s.group, "公用设施");
        assert!(s.keywords.contains("部件") && s.keywords.contains("C0101"));
        assert!(s.description.contains("2 紧急工作时"), "{}", s.description);
        assert!(service(&cat, "C0101").is_none());
        for (c, k) in cat.conditions() {
            let defs = definition(&cat, &k.code).unwrap();
            let codes: Vec<&str> = defs.iter().map(|d| d.code.as_str()).collect();
            let unique: std::collections::HashSet<_> = codes.iter().collect();
            assert_eq!(unique.len(), codes.len(), "{}", k.code);
            assert!(defs.iter().enumerate().all(|(i, d)| d.order == i as u32 + 1));
            assert_eq!(defs.iter().any(|d| d.required), c.kind != CaseKind::ServiceRequest);
            for d in &defs {
                let lists = matches!(d.datatype, Datatype::SingleValueList | Datatype::MultiValueList);
                assert_eq!(lists, !d.values.is_empty(), "{}", d.code);
            }
        }
        let kinds: std::collections::HashSet<Datatype> = cat
            .conditions()
            .flat_map(|(_, k)| definition(&cat, &k.code).unwrap())
            .map(|d| d.datatype)
            .collect();
        assert_eq!(kinds.len(), Datatype::ALL.len(), "every datatype is used");
    }

    #[test]
    fn attributes_are_validated() {
        let cat = Catalogue::default_cn();
        let defs = definition(&cat, "C0101-01").unwrap();
        let ok = validate_attributes(
            &defs,
            &given(&[
                ("hazard", &["high"]),
                ("affected", &["pedestrians", "vehicles,children", "vehicles"]),
                ("count", &["2"]),
                ("observed_at", &["2026-01-05T08:00:00Z"]),
                ("note", &["夜间无照明"]),
                ("reference", &["APP-17"]),
            ]),
            NOW,
        )
        .unwrap();
        assert_eq!(ok.len(), 6);
        assert_eq!(ok[1].values, ["pedestrians", "vehicles", "children"]);
        assert_eq!(ok[3].values, ["2026-01-05T16:00:00+08:00"]);
        let line = summary(&ok);
        assert!(
            line.contains("危险程度：高") && line.contains("行人 pedestrians、机动车"),
            "{line}"
        );
        let json = answers_json(&ok, &defs);
        assert_eq!(json["affected"][2], "children");
        assert_eq!(json["hazard"], "high");

        let err = |pairs: &[(&str, &[&str])]| validate_attributes(&defs, &given(pairs), NOW).unwrap_err().to_string();
        assert!(err(&[]).contains("attribute[hazard]: is required"));
        assert!(err(&[("hazard", &["extreme"])]).contains("not one of none, low, medium, high"));
        assert!(err(&[("hazard", &["low", "high"])]).contains("takes one value"));
        assert!(err(&[("hazard", &["low"]), ("colour", &["red"])]).contains("attribute[colour]: not an attribute"));
        assert!(err(&[("hazard", &["low"]), ("count", &["many"])]).contains("not a number"));
        assert!(err(&[("hazard", &["low"]), ("count", &["0"])]).contains("between 1 and 1000"));
        assert!(err(&[("hazard", &["low"]), ("observed_at", &["yesterday"])]).contains("ISO 8601"));
        assert!(err(&[("hazard", &["low"]), ("observed_at", &["2099-01-01"])]).contains("future"));
        assert!(err(&[("hazard", &["low"]), ("reference", &["a\nb"])]).contains("one line"));
        assert!(err(&[("hazard", &["low"]), ("time_limit", &["x"])]).contains("information only"));
        assert!(err(&[("hazard", &["low"]), ("affected", &["dogs"])]).contains("'dogs'"));
        // Empty optional answers are no answers.
        assert_eq!(
            validate_attributes(&defs, &given(&[("hazard", &["low"]), ("note", &[" "])]), NOW)
                .unwrap()
                .len(),
            1
        );
        // 诉求 have no required attribute.
        let s = definition(&cat, "S0101-02").unwrap();
        assert!(validate_attributes(&s, &BTreeMap::new(), NOW).unwrap().is_empty());
    }

    #[test]
    fn attribute_keys() {
        assert_eq!(attribute_key("attribute[hazard]"), Some(("hazard", false)));
        assert_eq!(attribute_key("attribute[affected][]"), Some(("affected", true)));
        assert_eq!(attribute_key("attribute[]"), None);
        assert_eq!(attribute_key("attribute[a][b]"), None);
        assert_eq!(attribute_key("lat"), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(status_of(CaseState::Collected), "open");
        assert_eq!(status_of(CaseState::Verified), "open");
        for s in [
            CaseState::Closed,
            CaseState::Evaluated,
            CaseState::Voided,
            CaseState::Merged,
        ] {
            assert_eq!(status_of(s), "closed");
        }
        let closed = states_for_status("closed").unwrap();
        assert_eq!(closed.len(), 4);
        assert_eq!(states_for_status("open, closed").unwrap().len(), CaseState::ALL.len());
        assert!(states_for_status("pending").is_err());
    }

    #[test]
    fn notes_are_public_only() {
        let events = [
            CaseEvent::Registered,
            CaseEvent::Dispatched {
                unit: 3,
                unit_name: "锦江区水务局".into(),
                deadline_ms: 0,
                level: crate::territory::Level::District,
            },
            CaseEvent::Returned {
                reason: "内部争议".into(),
            },
            CaseEvent::Supervised {
                level: 2,
                note: "超期".into(),
            },
        ];
        let note = status_note(&events);
        assert!(note.contains("锦江区水务局"), "{note}");
        assert!(status_note(&[]).contains("awaiting registration"));
        assert!(public_note(&CaseEvent::ExtensionRequested {
            reason: "x".into(),
            extra_amount: 1
        })
        .is_none());
        for k in NOTE_EVENTS {
            assert!(!k.is_empty());
        }
    }

    #[test]
    fn privacy_of_public_views() {
        assert_eq!(
            redact_contacts("联系13800001111或028-86001234，邮件 li.si@example.com 谢谢"),
            "联系***或***，邮件 *** 谢谢"
        );
        assert_eq!(
            redact_contacts("网格510104001001001附近2处"),
            "网格510104001001001附近2处"
        );
        assert_eq!(redact_contacts("a@b 不是邮件"), "a@b 不是邮件");
        assert_eq!(public_description(CaseKind::ServiceRequest, "隔壁 13800001111"), None);
        assert_eq!(
            public_description(CaseKind::Event, "电话13800001111").as_deref(),
            Some("电话***")
        );
        assert_eq!(
            public_point(CaseKind::ServiceRequest, 104.065_749, 30.659_461),
            (104.066, 30.659)
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address_string("104.0657, 30.6595").unwrap(),
            Address::Point {
                lng: 104.0657,
                lat: 30.6595
            }
        );
        assert_eq!(
            parse_address_string("春熙路口 104.0657,30.6595 东侧").unwrap(),
            Address::Point {
                lng: 104.0657,
                lat: 30.6595
            }
        );
        assert_eq!(
            parse_address_string("网格 510104001001001 3栋").unwrap(),
            Address::Grid("510104001001001".into())
        );
        assert!(parse_address_string("30.66,104.06")
            .unwrap_err()
            .to_string()
            .contains("lng,lat"));
        assert!(parse_address_string("3栋 3, 2单元").is_err());
        assert!(parse_address_string("春熙路 12 号")
            .unwrap_err()
            .to_string()
            .contains("does not geocode"));
    }

    #[test]
    fn datetimes() {
        assert_eq!(w3c(0), "1970-01-01T08:00:00+08:00");
        let z = parse_datetime("2026-01-01T00:00:00Z").unwrap().timestamp_millis();
        assert_eq!(
            parse_datetime("2026-01-01T08:00:00+08:00").unwrap().timestamp_millis(),
            z
        );
        assert_eq!(parse_datetime("2026-01-01T08:00:00").unwrap().timestamp_millis(), z);
        assert_eq!(
            parse_datetime("2026-01-01").unwrap().timestamp_millis(),
            z - 8 * 3_600_000
        );
        assert!(parse_datetime("01/01/2026").is_err());
        let day = 86_400_000;
        assert_eq!(search_window(None, None, NOW).unwrap(), (NOW - 90 * day, NOW));
        let (a, b) = search_window(Some("2026-01-01T00:00:00Z"), None, NOW).unwrap();
        assert_eq!((a, b), (z, z + 90 * day));
        assert!(search_window(Some("2026-01-01"), Some("2025-01-01"), NOW).is_err());
        assert!(search_window(Some("2025-01-01"), Some("2026-01-01"), NOW)
            .unwrap_err()
            .to_string()
            .contains("90 days"));
        assert!(search_window(Some("soon"), None, NOW)
            .unwrap_err()
            .to_string()
            .starts_with("start_date:"));
    }

    #[test]
    fn jurisdictions_and_formats() {
        assert!(matches_jurisdiction("510100", "510100", "成都市"));
        assert!(matches_jurisdiction("成都市", "510100", "成都市"));
        assert!(matches_jurisdiction("成都", "510100", "成都市"));
        assert!(!matches_jurisdiction("510000", "510100", "成都市"));
        assert_eq!(split_format("services.json"), ("services", Some(Format::Json)));
        assert_eq!(split_format("E0401-01.xml"), ("E0401-01", Some(Format::Xml)));
        assert_eq!(split_format("services.html"), ("services", None));
        assert_eq!(split_format("services"), ("services", None));
    }
}
