//! The UI's two languages: Simplified Chinese is the default; English on request. The language
//! itself is [`gongzhi_core::lang::Lang`] (the core's enums name their values in it); here are the
//! UI texts, looked up by key in tables that `pages/mod.rs` hands over (the shared table here,
//! one per feature beside its pages), and the language negotiation.
//!
//! This module imports no page module, so every page module may import it.

use axum::http::header::{self, HeaderMap};

pub use gongzhi_core::lang::Lang;

/// One table of UI texts: (key, 中文, English), sorted by key.
pub(crate) type Texts = &'static [(&'static str, &'static str, &'static str)];

/// The shared texts (the closed loop, the dashboard, the chrome). Keep keys sorted.
pub(crate) const TEXTS: Texts = &[
    ("add_photo", "添加照片", "Add a photo"),
    (
        "address",
        "地址（网格、社区或街道名称）",
        "Address (grid, community or street name)",
    ),
    ("app_name", "共治", "Gongzhi"),
    (
        "bad_credentials",
        "用户名或密码错误",
        "The user name or password is wrong",
    ),
    ("breakdown", "分项统计", "Breakdown"),
    ("by_area", "按区域", "By area"),
    ("by_category", "案件类别分布（全市）", "Cases by category (city-wide)"),
    ("by_unit", "按单位", "By unit"),
    ("category", "问题类别", "Category"),
    ("children", "下辖区划", "Subdivisions"),
    ("choose", "请选择", "Choose"),
    ("city_overview", "全市概况", "City overview"),
    ("closed", "结案数", "Closed"),
    ("closure_rate", "结案率", "Closure rate"),
    ("co_units", "协办单位", "Co-units"),
    ("code", "代码", "Code"),
    ("collected", "上报数", "Reported"),
    ("colour_by", "着色指标", "Colour by"),
    ("composite", "综合评分", "Composite score"),
    (
        "confirm_new",
        "这是一个新问题，仍然提交",
        "This is a new problem: report it anyway",
    ),
    ("contact_name", "联系人", "Contact name"),
    ("contact_phone", "联系电话", "Contact phone"),
    (
        "contact_private",
        "联系方式仅工作人员可见，不会公开",
        "Contact details are seen by staff only, never published",
    ),
    ("contacted", "已联系", "Contacted"),
    ("count", "数量", "Count"),
    ("counts", "统计", "Counts"),
    ("dashboard", "数据看板", "Dashboard"),
    ("datum", "坐标系", "Datum"),
    ("deadline", "处置时限", "Deadline"),
    ("description", "问题描述", "Description"),
    ("dimension", "维度", "Dimension"),
    ("dispatched", "派遣数", "Dispatched"),
    ("districts", "区县", "Districts and counties"),
    (
        "err_address",
        "找不到这个地点：请输入网格、社区或街道名称，或在地图上点选",
        "No such place: enter a grid, community or street name, or pick on the map",
    ),
    ("err_condition", "请选择问题类别", "Choose a category"),
    ("err_description", "请描述问题", "Describe the problem"),
    (
        "err_location",
        "请在地图上点选位置，或填写经纬度",
        "Pick the place on the map or enter longitude and latitude",
    ),
    ("err_phone", "请填写11位手机号码", "Enter an 11-digit mobile number"),
    ("err_photo", "请选择一张照片", "Choose a photo"),
    ("export_csv", "导出 CSV", "Export CSV"),
    ("export_xlsx", "导出 Excel", "Export XLSX"),
    ("extension_requests", "延期申请", "Extension requests"),
    ("extensions", "延期", "Extensions"),
    ("extra_amount", "延长时限", "Extra time"),
    ("first_responsible", "首办责任单位", "first responsible unit"),
    ("from", "起", "From"),
    ("grade", "等级", "Grade"),
    ("grids", "网格", "Grids"),
    ("hierarchy", "治理层级", "Governance hierarchy"),
    ("home", "首页", "Home"),
    ("households", "户数", "Households"),
    ("in_hand", "处置中", "In hand"),
    ("kind", "类型", "Kind"),
    ("lat", "纬度", "Latitude"),
    ("lead_unit", "主办单位", "Lead unit"),
    ("level", "层级", "Level"),
    ("lng", "经度", "Longitude"),
    ("location", "位置", "Location"),
    (
        "location_hint",
        "在地图上点击问题所在位置",
        "Click where the problem is on the map",
    ),
    ("login", "登录", "Log in"),
    (
        "login_locked",
        "密码错误次数过多，登录已暂时锁定。请稍后再试，或请管理员解除锁定。",
        "Too many wrong passwords: logging in is locked for a while. Try again later, or ask an administrator to lift the lock.",
    ),
    ("logout", "退出", "Log out"),
    ("map", "地图", "Map"),
    ("map_no_data", "无数据", "No data"),
    ("merge_into", "合并到案件", "Merge into case"),
    ("micro_grid", "微网格", "Micro-grid"),
    ("my_reports", "我的上报", "My reports"),
    ("name", "名称", "Name"),
    (
        "no_grid",
        "不在任何网格内（属地兜底）",
        "In no grid (territorial fallback)",
    ),
    ("no_map", "暂无边界数据", "No boundary data yet"),
    (
        "no_steps",
        "您当前没有可执行的操作",
        "Nothing for you to do on this case now",
    ),
    ("no_verdict", "未评价", "No verdict"),
    (
        "not_yours",
        "这些数据不在您的管辖范围内",
        "These figures are outside your jurisdiction",
    ),
    ("note", "说明", "Note"),
    ("nothing_waiting", "暂无", "Nothing waiting"),
    ("on_time_closure_rate", "按期结案率", "On-time closure rate"),
    ("open_in_my_grids", "网格内在办案件", "Open cases in my grids"),
    ("overdue", "超期数", "Overdue"),
    ("overdue_cases", "超期案件", "Overdue cases"),
    ("password", "密码", "Password"),
    ("place", "地点", "Place"),
    ("population", "人口", "Population"),
    (
        "possible_duplicates",
        "附近有相似的未办结问题：",
        "Similar open problems nearby:",
    ),
    (
        "private_hint",
        "户数和人口仅网格团队及上级可见",
        "Households and population are shown to the grid team and above only",
    ),
    ("proposed_unit", "派单目录建议", "Proposed by the catalogue"),
    ("reason", "原因", "Reason"),
    ("register_now", "直接立案", "Register at once"),
    ("remaining", "剩余", "left"),
    ("report_problem", "上报问题", "Report a problem"),
    ("response_rate", "响应率", "Response rate"),
    ("return_rate", "退单率", "Return rate"),
    ("returns", "退单", "Returns"),
    ("rework_rate", "返工率", "Rework rate"),
    ("reworks", "返工", "Reworks"),
    ("role", "角色", "Role"),
    ("role_scores", "岗位考核（GB/T 30428.4）", "Role scores (GB/T 30428.4)"),
    ("satisfaction", "满意度", "Satisfaction"),
    ("satisfaction_rate", "满意率", "Satisfaction rate"),
    ("score", "得分", "Score"),
    ("show", "查看", "Show"),
    ("solution_rate", "解决率", "Solution rate"),
    ("solved", "已解决", "Solved"),
    (
        "special_reason",
        "特殊结案原因（可选）",
        "Special close reason (optional)",
    ),
    ("state", "状态", "State"),
    ("steps", "办理", "Steps"),
    ("submit", "提交", "Submit"),
    ("supervise_listed", "挂牌督办", "Listed for supervision"),
    ("supervise_warning", "预警", "Warning"),
    ("switch_lang", "English", "中文"),
    ("tagline", "基层共治平台", "Grassroots co-governance platform"),
    ("timeline", "办理过程", "Timeline"),
    ("to", "止", "To"),
    ("to_accept", "待签收", "To accept"),
    ("to_close", "待结案", "To close"),
    ("to_dispatch", "待派遣", "To dispatch"),
    ("to_follow_up", "待回访", "To follow up"),
    ("to_register", "待立案", "To register"),
    ("to_verify", "待核查", "To verify"),
    ("trend", "月度趋势", "Monthly trend"),
    ("unit", "责任单位", "Responsible unit"),
    ("unit_grid", "单元网格", "Unit grid"),
    ("use_my_location", "使用我的位置", "Use my location"),
    ("username", "用户名", "User name"),
    ("work", "工作台", "My work"),
];

/// The text of `key` in `lang`, from the first of `tables` that has it (each sorted by key).
pub(crate) fn lookup(tables: &[Texts], lang: Lang, key: &str) -> &'static str {
    let found = tables.iter().find_map(|table| {
        let i = table.binary_search_by(|(k, _, _)| (*k).cmp(key)).ok()?;
        Some(table[i])
    });
    match found {
        Some((_, zh, en)) => lang.pick(zh, en),
        None => {
            debug_assert!(false, "missing UI text '{key}'");
            "?"
        }
    }
}

/// The language from `?lang=` (then remembered: second value true) or the `lang` cookie.
pub fn negotiate(headers: &HeaderMap, query: Option<&str>) -> (Lang, bool) {
    let parse = |s: &str| match s {
        "en" => Some(Lang::En),
        "zh" | "zh-CN" => Some(Lang::Zh),
        _ => None,
    };
    if let Some(l) = query.and_then(parse) {
        return (l, true);
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| parse(v));
    (cookie.unwrap_or(Lang::Zh), false)
}
