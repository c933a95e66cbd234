//! The UI's two languages. Simplified Chinese is the default; English on request.

use axum::http::header::{self, HeaderMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// (key, 中文, English). Keep keys sorted.
const TEXTS: &[(&str, &str, &str)] = &[
    ("app_name", "共治", "Gongzhi"),
    (
        "bad_credentials",
        "用户名或密码错误",
        "The user name or password is wrong",
    ),
    ("children", "下辖区划", "Subdivisions"),
    ("city_overview", "全市概况", "City overview"),
    ("code", "代码", "Code"),
    ("count", "数量", "Count"),
    ("districts", "区县", "Districts and counties"),
    ("grids", "网格", "Grids"),
    ("hierarchy", "治理层级", "Governance hierarchy"),
    ("home", "首页", "Home"),
    ("households", "户数", "Households"),
    ("kind", "类型", "Kind"),
    ("level", "层级", "Level"),
    ("login", "登录", "Log in"),
    ("logout", "退出", "Log out"),
    ("map", "地图", "Map"),
    ("micro_grid", "微网格", "Micro-grid"),
    ("name", "名称", "Name"),
    ("no_map", "暂无边界数据", "No boundary data yet"),
    ("password", "密码", "Password"),
    ("population", "人口", "Population"),
    (
        "private_hint",
        "户数和人口仅网格团队及上级可见",
        "Households and population are shown to the grid team and above only",
    ),
    ("switch_lang", "English", "中文"),
    ("tagline", "基层共治平台", "Grassroots co-governance platform"),
    ("unit_grid", "单元网格", "Unit grid"),
    ("username", "用户名", "User name"),
];

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn t(self, key: &str) -> &'static str {
        match TEXTS.binary_search_by(|(k, _, _)| (*k).cmp(key)) {
            Ok(i) => match self {
                Lang::Zh => TEXTS[i].1,
                Lang::En => TEXTS[i].2,
            },
            Err(_) => {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_sorted_and_complete() {
        assert!(TEXTS.windows(2).all(|w| w[0].0 < w[1].0), "keep TEXTS sorted by key");
        assert_eq!(Lang::Zh.t("login"), "登录");
        assert_eq!(Lang::En.t("login"), "Log in");
    }
}
