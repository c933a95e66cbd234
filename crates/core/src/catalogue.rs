//! The category catalogue (案件分类目录) and the dispatch catalogue (派单目录).
//!
//! Cases are classified in two levels, 大类 (major class) and 小类 (subcategory), as in
//! GB/T 30428.2: components (部件), events (事件), and for the 12345 hotline service requests
//! (诉求). Each subcategory has one or more filing conditions (立案条件); each condition carries
//! its time limit (处置时限) on one of the three clocks of [`TimerKind`], and where the case goes
//! (派单目录): a department at district level, or the street office or community committee.
//!
//! Codes: a category is the kind prefix (`C` 部件, `E` 事件, `S` 诉求) followed by the 2-digit
//! major code and the 2-digit sub code (`E0401` 路面塌陷); a condition appends `-` and its 2-digit
//! code (`E0401-01`). The default catalogue is `data/catalogue.csv`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::calendar::TimerKind;
use crate::org::string_enum;
use crate::territory::Level;
use crate::DomainError;

string_enum! {
    /// What a case is about.
    CaseKind {
        /// 部件: a piece of public infrastructure (a manhole cover, a street light …).
        Component => "component", "部件", "Component";
        /// 事件: something happening in public space (rubbish, street vending, a burst pipe …).
        Event => "event", "事件", "Event";
        /// 诉求: a 12345 hotline service request (noise, property management, utilities …).
        ServiceRequest => "service_request", "诉求", "Service request";
    }
}

impl CaseKind {
    /// The letter that starts the codes of this kind: `C`, `E` or `S`.
    pub fn prefix(self) -> char {
        match self {
            CaseKind::Component => 'C',
            CaseKind::Event => 'E',
            CaseKind::ServiceRequest => 'S',
        }
    }

    fn parse_any(s: &str) -> Option<Self> {
        CaseKind::ALL.iter().copied().find(|k| k.as_str() == s || k.zh() == s)
    }
}

/// Where a case of a condition goes (派单目录 entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DispatchTarget {
    /// District (区县职能部门), street (街道) or community (社区).
    pub level: Level,
    /// The suffix of a department's name at that level (e.g. `城市管理和综合执法局`), matched
    /// against the organisations of the case's area; `None` is the street office or community
    /// committee itself.
    pub department: Option<String>,
}

impl DispatchTarget {
    /// Whether an organisation at `level` named `name` is this target.
    pub fn matches(&self, level: Level, name: &str) -> bool {
        level == self.level && self.department.as_deref().is_none_or(|d| name.ends_with(d))
    }
}

impl fmt::Display for DispatchTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.department {
            Some(d) => write!(f, "{}/{d}", self.level.zh()),
            None => f.write_str(self.level.zh()),
        }
    }
}

/// A filing condition (立案条件) of a subcategory, with its time limit and dispatch target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingCondition {
    /// Full code, e.g. `E0401-01`.
    pub code: String,
    /// The condition as the standard words it, e.g. `路面塌陷、出现空洞`.
    pub text: String,
    /// The time limit (处置时限), in units of `timer`; at least 1.
    pub time_limit: u32,
    pub timer: TimerKind,
    pub dispatch: DispatchTarget,
}

/// A subcategory (小类) with its major class (大类) and filing conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Full code, e.g. `E0401`.
    pub code: String,
    pub kind: CaseKind,
    /// 大类 code, 2 digits.
    pub major_code: String,
    /// 大类 name, e.g. `突发事件`.
    pub major_name: String,
    /// 小类 code within the major class, 2 digits.
    pub sub_code: String,
    /// 小类 name, e.g. `路面塌陷`.
    pub name: String,
    /// At least one.
    pub conditions: Vec<FilingCondition>,
}

/// The whole catalogue: categories in file order, with indexes by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Category>", into = "Vec<Category>")]
pub struct Catalogue {
    categories: Vec<Category>,
    by_category: HashMap<String, usize>,
    by_condition: HashMap<String, (usize, usize)>,
}

/// The CSV header of [`Catalogue::parse_csv`] and [`Catalogue::to_csv`].
pub const CSV_HEADER: &str = "kind,major_code,major_name,sub_code,sub_name,condition_code,condition_text,time_limit,timer,dispatch_level,dispatch_department";

/// The largest time limit accepted, in any unit (limits are walked day by day).
pub const MAX_TIME_LIMIT: u32 = 1000;

impl Catalogue {
    /// Builds and checks a catalogue: codes well formed, consistent with kind and major/sub
    /// codes and unique, names non-empty, every category with a condition, limits 1..=1000,
    /// dispatch at district, street or community level.
    pub fn new(categories: Vec<Category>) -> Result<Self, DomainError> {
        let mut by_category = HashMap::new();
        let mut by_condition = HashMap::new();
        let mut majors: HashMap<(CaseKind, &str), &str> = HashMap::new();
        for (i, c) in categories.iter().enumerate() {
            let field = format!("category {}", c.code);
            check_digits(&field, "major code", &c.major_code)?;
            check_digits(&field, "sub code", &c.sub_code)?;
            let expected = format!("{}{}{}", c.kind.prefix(), c.major_code, c.sub_code);
            if c.code != expected {
                return Err(DomainError::invalid(field, format!("the code should be {expected}")));
            }
            check_text(&field, "major name", &c.major_name)?;
            check_text(&field, "name", &c.name)?;
            if let Some(prev) = majors.insert((c.kind, &c.major_code), &c.major_name) {
                if prev != c.major_name {
                    return Err(DomainError::invalid(
                        field,
                        format!("major class {} is named both {prev} and {}", c.major_code, c.major_name),
                    ));
                }
            }
            if by_category.insert(c.code.clone(), i).is_some() {
                return Err(DomainError::invalid(field, "duplicate category code"));
            }
            if c.conditions.is_empty() {
                return Err(DomainError::invalid(
                    field,
                    "a category needs at least one filing condition",
                ));
            }
            for (j, k) in c.conditions.iter().enumerate() {
                let field = format!("condition {}", k.code);
                check_condition(&field, &c.code, k)?;
                if by_condition.insert(k.code.clone(), (i, j)).is_some() {
                    return Err(DomainError::invalid(field, "duplicate condition code"));
                }
            }
        }
        Ok(Catalogue {
            categories,
            by_category,
            by_condition,
        })
    }

    /// Reads the CSV format of `data/catalogue.csv`: one line per filing condition with the
    /// columns of [`CSV_HEADER`]. Lines of one subcategory share its kind, codes and names and
    /// need not be adjacent. Blank lines, `#` comments and the header are skipped; fields may be
    /// quoted (`"…"`, with `""` for a quote). Errors name the line.
    pub fn parse_csv(text: &str) -> Result<Self, DomainError> {
        let mut categories: Vec<Category> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut lines: HashMap<String, usize> = HashMap::new();
        let mut majors: HashMap<(CaseKind, String), (String, usize)> = HashMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_start_matches('\u{feff}').trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("kind,") {
                continue;
            }
            let field = format!("catalogue line {}", n + 1);
            let bad = |m: String| DomainError::invalid(&field, m);
            let cols = split_csv_line(line).map_err(&bad)?;
            let cols: [String; 11] = cols
                .try_into()
                .map_err(|c: Vec<String>| bad(format!("{} columns instead of 11 ({CSV_HEADER})", c.len())))?;
            let [kind, major_code, major_name, sub_code, sub_name, cond_code, cond_text, limit, timer, level, dept] =
                cols;
            let kind = CaseKind::parse_any(&kind).ok_or_else(|| {
                bad(format!(
                    "kind {kind:?} is not component (部件), event (事件) or service_request (诉求)"
                ))
            })?;
            for (name, v) in [
                ("major_code", &major_code),
                ("sub_code", &sub_code),
                ("condition_code", &cond_code),
            ] {
                check_digits(&field, name, v)?;
            }
            let time_limit: u32 = limit
                .parse()
                .map_err(|_| bad(format!("time_limit {limit:?} is not a whole number")))?;
            let timer = TimerKind::from_str(&timer).map_err(|e| bad(e.to_string()))?;
            let level = Level::ALL
                .into_iter()
                .find(|l| l.as_str() == level || l.zh() == level)
                .ok_or_else(|| bad(format!("dispatch_level {level:?} is not district, street or community")))?;
            let code = format!("{}{major_code}{sub_code}", kind.prefix());
            let condition = FilingCondition {
                code: format!("{code}-{cond_code}"),
                text: cond_text,
                time_limit,
                timer,
                dispatch: DispatchTarget {
                    level,
                    department: Some(dept).filter(|d| !d.is_empty()),
                },
            };
            check_text(&field, "major_name", &major_name)?;
            check_text(&field, "sub_name", &sub_name)?;
            check_condition(&field, &code, &condition)?;
            if let Some(first) = lines.insert(condition.code.clone(), n + 1) {
                return Err(bad(format!(
                    "duplicate condition code {} (first on line {first})",
                    condition.code
                )));
            }
            let (name, first) = majors
                .entry((kind, major_code.clone()))
                .or_insert((major_name.clone(), n + 1));
            if *name != major_name {
                return Err(bad(format!(
                    "major class {major_code} is named both {name} (line {first}) and {major_name}"
                )));
            }
            match index.get(&code) {
                Some(&i) => {
                    let c = &mut categories[i];
                    if c.major_name != major_name || c.name != sub_name {
                        return Err(bad(format!(
                            "category {code} was {} / {} on an earlier line, not {major_name} / {sub_name}",
                            c.major_name, c.name
                        )));
                    }
                    c.conditions.push(condition);
                }
                None => {
                    index.insert(code.clone(), categories.len());
                    categories.push(Category {
                        code,
                        kind,
                        major_code,
                        major_name,
                        sub_code,
                        name: sub_name,
                        conditions: vec![condition],
                    });
                }
            }
        }
        Self::new(categories)
    }

    /// The default catalogue shipped in `data/catalogue.csv`.
    pub fn default_cn() -> Self {
        Self::parse_csv(include_str!("../../../data/catalogue.csv")).expect("data/catalogue.csv parses")
    }

    /// Writes the catalogue in the format [`Catalogue::parse_csv`] reads (header included).
    pub fn to_csv(&self) -> String {
        let mut out = format!("{CSV_HEADER}\n");
        for (c, k) in self.conditions() {
            let own = &k.code[c.code.len() + 1..];
            let limit = k.time_limit.to_string();
            let fields = [
                c.kind.as_str(),
                &c.major_code,
                &c.major_name,
                &c.sub_code,
                &c.name,
                own,
                &k.text,
                &limit,
                k.timer.as_str(),
                k.dispatch.level.as_str(),
                k.dispatch.department.as_deref().unwrap_or(""),
            ];
            let fields: Vec<String> = fields.iter().map(|f| quote_csv(f)).collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
    }

    /// The category (小类) with this code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.by_category.get(code).map(|&i| &self.categories[i])
    }

    /// The filing condition with this code, with its category.
    pub fn condition(&self, code: &str) -> Option<(&Category, &FilingCondition)> {
        self.by_condition
            .get(code)
            .map(|&(i, j)| (&self.categories[i], &self.categories[i].conditions[j]))
    }

    /// All categories in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Category> {
        self.categories.iter()
    }

    /// The categories of one kind.
    pub fn of_kind(&self, kind: CaseKind) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.kind == kind)
    }

    /// All filing conditions with their categories.
    pub fn conditions(&self) -> impl Iterator<Item = (&Category, &FilingCondition)> {
        self.categories
            .iter()
            .flat_map(|c| c.conditions.iter().map(move |k| (c, k)))
    }

    /// Number of categories (小类).
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }
}

impl<'a> IntoIterator for &'a Catalogue {
    type Item = &'a Category;
    type IntoIter = std::slice::Iter<'a, Category>;
    fn into_iter(self) -> Self::IntoIter {
        self.categories.iter()
    }
}

impl TryFrom<Vec<Category>> for Catalogue {
    type Error = DomainError;
    fn try_from(categories: Vec<Category>) -> Result<Self, DomainError> {
        Self::new(categories)
    }
}

impl From<Catalogue> for Vec<Category> {
    fn from(c: Catalogue) -> Self {
        c.categories
    }
}

fn check_digits(field: &str, name: &str, v: &str) -> Result<(), DomainError> {
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DomainError::invalid(field, format!("{name} {v:?} is not 2 digits")))
    }
}

/// Checks one filing condition of category `category`.
fn check_condition(field: &str, category: &str, k: &FilingCondition) -> Result<(), DomainError> {
    match k.code.strip_prefix(category).and_then(|s| s.strip_prefix('-')) {
        Some(own) => check_digits(field, "condition code", own)?,
        None => {
            return Err(DomainError::invalid(
                field,
                format!("the code should start with {category}-"),
            ))
        }
    }
    check_text(field, "text", &k.text)?;
    if !(1..=MAX_TIME_LIMIT).contains(&k.time_limit) {
        return Err(DomainError::invalid(
            field,
            format!("time limit {} is not between 1 and {MAX_TIME_LIMIT}", k.time_limit),
        ));
    }
    if !matches!(k.dispatch.level, Level::District | Level::Street | Level::Community) {
        return Err(DomainError::invalid(
            field,
            format!(
                "dispatch level {} is not district, street or community",
                k.dispatch.level
            ),
        ));
    }
    if let Some(d) = &k.dispatch.department {
        check_text(field, "dispatch department", d)?;
    }
    Ok(())
}

fn check_text(field: &str, name: &str, v: &str) -> Result<(), DomainError> {
    if v.trim().is_empty() {
        Err(DomainError::invalid(field, format!("{name} is empty")))
    } else if v.contains(['\n', '\r']) {
        Err(DomainError::invalid(field, format!("{name} contains a line break")))
    } else {
        Ok(())
    }
}

/// Splits one CSV line; fields are trimmed, and may be quoted with `""` for a quote.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("field {} has an unclosed quote", fields.len() + 1)),
                }
            }
            while chars.peek().is_some_and(|c| *c != ',') {
                if !chars.next().is_some_and(char::is_whitespace) {
                    return Err(format!("text after the closing quote of field {}", fields.len() + 1));
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
            field = field.trim().to_owned();
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

fn quote_csv(s: &str) -> String {
    if s.contains([',', '"']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The district departments the demo city creates.
    const DEPARTMENTS: [&str; 6] = [
        "城市管理和综合执法局",
        "住房和城乡建设局",
        "市场监督管理局",
        "生态环境局",
        "交通运输局",
        "水务局",
    ];

    const SAMPLE: &str = "\
# a comment
kind,major_code,major_name,sub_code,sub_name,condition_code,condition_text,time_limit,timer,dispatch_level,dispatch_department
部件,01,公用设施,01,上水井盖,01,井盖丢失,2,紧急工作时,district,水务局

event,04,突发事件,01,路面塌陷,01,\"路面塌陷, 出现空洞\",2,emergency_hours,district,住房和城乡建设局
component,01,公用设施,01,上水井盖,02,井盖破损,16,work_hours,district,水务局
event,01,市容环境,02,暴露垃圾,01,暴露垃圾,4,work_hours,street,
";

    #[test]
    fn parses_sample_and_groups_conditions() {
        let c = Catalogue::parse_csv(SAMPLE).unwrap();
        assert_eq!(c.len(), 3);
        let cover = c.category("C0101").unwrap();
        assert_eq!(
            (cover.kind, cover.major_name.as_str(), cover.name.as_str()),
            (CaseKind::Component, "公用设施", "上水井盖")
        );
        assert_eq!(cover.conditions.len(), 2);
        assert_eq!(cover.conditions[1].code, "C0101-02");
        assert_eq!(cover.conditions[1].timer, TimerKind::WorkHours);
        let (cat, cond) = c.condition("E0401-01").unwrap();
        assert_eq!(cat.code, "E0401");
        assert_eq!(cond.text, "路面塌陷, 出现空洞");
        assert_eq!(cond.timer, TimerKind::EmergencyHours);
        assert_eq!(cond.dispatch.department.as_deref(), Some("住房和城乡建设局"));
        let (_, rubbish) = c.condition("E0102-01").unwrap();
        assert_eq!(
            rubbish.dispatch,
            DispatchTarget {
                level: Level::Street,
                department: None
            }
        );
        assert!(c.condition("E0401-02").is_none());
        assert!(c.category("E9999").is_none());
        assert_eq!(c.of_kind(CaseKind::Event).count(), 2);
        assert_eq!(c.conditions().count(), 4);
        assert_eq!((&c).into_iter().count(), 3);
    }

    #[test]
    fn csv_and_serde_round_trip() {
        let c = Catalogue::default_cn();
        assert_eq!(Catalogue::parse_csv(&c.to_csv()).unwrap(), c);
        let sample = Catalogue::parse_csv(SAMPLE).unwrap();
        assert_eq!(Catalogue::parse_csv(&sample.to_csv()).unwrap(), sample);
        let json = serde_json::to_string(&c).unwrap();
        let back: Catalogue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.condition("E0401-01").unwrap().1.time_limit, 2);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "component,01,公用设施,01,上水井盖,01,丢失,0,work_days,district,水务局",
                "line 1",
                "between 1 and",
            ),
            (
                "component,01,公用设施,01,上水井盖,01,丢失,2,hours,district,水务局",
                "line 1",
                "timer kind",
            ),
            (
                "component,1,公用设施,01,上水井盖,01,丢失,2,work_days,district,水务局",
                "line 1",
                "2 digits",
            ),
            (
                "widget,01,公用设施,01,上水井盖,01,丢失,2,work_days,district,水务局",
                "line 1",
                "kind",
            ),
            (
                "component,01,公用设施,01,上水井盖,01,丢失,2,work_days,city,水务局",
                "line 1",
                "dispatch level",
            ),
            (
                "component,01,公用设施,01,上水井盖,01,丢失,x,work_days,district,水务局",
                "line 1",
                "whole number",
            ),
            (
                "component,01,公用设施,01,上水井盖,01,丢失,2,work_days",
                "line 1",
                "9 columns",
            ),
            (
                "component,01,公用设施,01,上水井盖,01,\"丢失,2,work_days",
                "line 1",
                "unclosed quote",
            ),
            (
                "component,01,公用设施,01,上水井盖,01,,2,work_days,district,",
                "line 1",
                "text is empty",
            ),
        ];
        for (text, place, msg) in cases {
            let e = Catalogue::parse_csv(text).unwrap_err().to_string();
            assert!(e.contains(place) && e.contains(msg), "{text}: {e}");
        }
        let two = "component,01,公用设施,01,上水井盖,01,丢失,2,work_days,district,水务局\n\
                   component,01,公用设施,01,上水井盖,01,破损,2,work_days,district,水务局";
        assert!(Catalogue::parse_csv(two)
            .unwrap_err()
            .to_string()
            .contains("duplicate condition code"));
        let renamed = "component,01,公用设施,01,上水井盖,01,丢失,2,work_days,district,水务局\n\
                       component,01,公用设施,01,污水井盖,02,破损,2,work_days,district,水务局";
        assert!(Catalogue::parse_csv(renamed)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        let majors = "component,01,公用设施,01,上水井盖,01,丢失,2,work_days,district,水务局\n\
                      component,01,公共设施,02,污水井盖,01,丢失,2,work_days,district,水务局";
        assert!(Catalogue::parse_csv(majors)
            .unwrap_err()
            .to_string()
            .contains("named both"));
    }

    #[test]
    fn new_checks_codes() {
        let mut c: Vec<Category> = Catalogue::parse_csv(SAMPLE).unwrap().into();
        c[0].code = "C0102".into();
        assert!(Catalogue::new(c.clone())
            .unwrap_err()
            .to_string()
            .contains("should be C0101"));
        c[0].code = "C0101".into();
        c[0].conditions[0].code = "C0102-01".into();
        assert!(Catalogue::new(c.clone())
            .unwrap_err()
            .to_string()
            .contains("should start with C0101-"));
        c[0].conditions.clear();
        assert!(Catalogue::new(c).unwrap_err().to_string().contains("at least one"));
        let empty = r#"[{"code":"C0101","kind":"component","major_code":"01","major_name":"x",
                         "sub_code":"01","name":"y","conditions":[]}]"#;
        assert!(serde_json::from_str::<Catalogue>(empty).is_err());
    }

    #[test]
    fn default_catalogue_is_realistic() {
        let c = Catalogue::default_cn();
        assert!((80..=120).contains(&c.len()), "{} subcategories", c.len());
        let majors = |kind| {
            let mut m: Vec<&str> = c.of_kind(kind).map(|c| c.major_name.as_str()).collect();
            m.dedup();
            m
        };
        assert_eq!(
            majors(CaseKind::Component),
            [
                "公用设施",
                "道路交通设施",
                "市容环境设施",
                "园林绿化设施",
                "房屋土地",
                "其他设施"
            ]
        );
        assert_eq!(
            majors(CaseKind::Event),
            ["市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "其他事件"]
        );
        assert!(c.of_kind(CaseKind::ServiceRequest).count() >= 10);
        for name in ["噪音扰民", "物业服务", "供水", "供电", "供气", "养老服务", "群租"] {
            assert!(c.of_kind(CaseKind::ServiceRequest).any(|c| c.name == name), "{name}");
        }
        for (cat, k) in c.conditions() {
            match &k.dispatch.department {
                Some(d) => {
                    assert_eq!(k.dispatch.level, Level::District, "{}", k.code);
                    assert!(DEPARTMENTS.contains(&d.as_str()), "{}: {d}", k.code);
                }
                None => assert_ne!(k.dispatch.level, Level::District, "{}", k.code),
            }
            let plausible = match k.timer {
                TimerKind::EmergencyHours => (2..=4).contains(&k.time_limit),
                TimerKind::WorkHours => (2..=24).contains(&k.time_limit),
                TimerKind::WorkDays => (1..=5).contains(&k.time_limit),
            };
            assert!(plausible, "{}: {} {}", k.code, k.time_limit, k.timer);
            if cat.major_name == "突发事件" {
                assert_eq!((k.timer, k.time_limit), (TimerKind::EmergencyHours, 2), "{}", k.code);
            }
        }
        for d in DEPARTMENTS {
            assert!(
                c.conditions().any(|(_, k)| k.dispatch.department.as_deref() == Some(d)),
                "{d} unused"
            );
        }
        for level in [Level::Street, Level::Community] {
            assert!(c.conditions().any(|(_, k)| k.dispatch.level == level));
        }
    }

    #[test]
    fn dispatch_target_matches_by_level_and_suffix() {
        let t = DispatchTarget {
            level: Level::District,
            department: Some("水务局".into()),
        };
        assert!(t.matches(Level::District, "锦江区水务局"));
        assert!(!t.matches(Level::Street, "锦江区水务局"));
        assert!(!t.matches(Level::District, "锦江区生态环境局"));
        let street = DispatchTarget {
            level: Level::Street,
            department: None,
        };
        assert!(street.matches(Level::Street, "春熙路街道办事处"));
        assert_eq!(t.to_string(), "区县/水务局");
        assert_eq!(street.to_string(), "街道乡镇");
    }

    #[test]
    fn kind_names() {
        assert_eq!(CaseKind::ServiceRequest.zh(), "诉求");
        assert_eq!("event".parse::<CaseKind>().unwrap(), CaseKind::Event);
        assert_eq!(
            serde_json::to_string(&CaseKind::ServiceRequest).unwrap(),
            "\"service_request\""
        );
        assert_eq!(CaseKind::parse_any("部件"), Some(CaseKind::Component));
    }
}
