//! Organisations, people and their roles.

use crate::ids::PersonId;
use serde::{Deserialize, Serialize};

use crate::territory::DivisionCode;
use crate::DomainError;

/// An enum of stored words with a name in each language. Each variant reads
/// `Variant => "stored_word", "中文", "English";`; the enum gets `ALL`, `as_str()`, `zh()`, `en()`,
/// `label(lang)` (see [`enum_labels`]), serde as the stored word, `Display` as the stored word and
/// `FromStr` from it.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
        }

        $crate::org::enum_labels!($name { $($variant => $s, $zh, $en;)+ });

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, $crate::DomainError> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let all: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::DomainError::invalid(stringify!($name), format!("unknown value '{s}'; use one of {}", all.join(", ")))
                })
            }
        }
    };
}
pub(crate) use string_enum;

/// The names of an enum's values (the part of [`string_enum`] that enums with their own `ALL`,
/// parsing or `Display` use too): `as_str()` the stored word, `zh()` and `en()` the names shown
/// in the UI, `label(lang)` the name in a page's language, and [`crate::lang::Labelled`]. Each
/// variant reads `Variant => "stored_word", "中文", "English";`. The enum must have an `ALL`
/// constant (a slice or an array).
macro_rules! enum_labels {
    ($name:ident { $($variant:ident => $s:literal, $zh:literal, $en:literal;)+ }) => {
        impl $name {
            /// The stored word (JSON, database, command line, CSV machine columns).
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s,)+ } }
            /// The Chinese name shown in the UI.
            pub fn zh(self) -> &'static str { match self { $($name::$variant => $zh,)+ } }
            /// The English name shown in the UI.
            pub fn en(self) -> &'static str { match self { $($name::$variant => $en,)+ } }
            /// The name shown in the UI in `lang` (a `Lang` or, as templates pass it, a `&Lang`).
            pub fn label(self, lang: impl std::borrow::Borrow<$crate::lang::Lang>) -> &'static str {
                lang.borrow().pick(self.zh(), self.en())
            }
        }

        impl $crate::lang::Labelled for $name {
            fn all() -> &'static [$name] { &$name::ALL }
            fn as_str(self) -> &'static str { $name::as_str(self) }
            fn zh(self) -> &'static str { $name::zh(self) }
            fn en(self) -> &'static str { $name::en(self) }
        }
    };
}
pub(crate) use enum_labels;

/// A [`string_enum`] whose parsing also accepts the Chinese or the English name (the English
/// case-insensitively): for values read from tables people fill in (CSV, spreadsheets). Its
/// English names are lower case, as they also stand inside sentences.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $code:literal, $zh:literal, $en:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// The Chinese name (as `zh()`).
            pub fn name_zh(self) -> &'static str { self.zh() }
            /// The English name (as `en()`).
            pub fn name_en(self) -> &'static str { self.en() }
        }

        $crate::org::enum_labels!($name { $($v => $code, $zh, $en;)* });

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            /// The code, the Chinese or the English name (case-insensitive).
            fn from_str(s: &str) -> Result<Self, $crate::DomainError> {
                let t = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == t.to_lowercase() || v.zh() == t || v.en().eq_ignore_ascii_case(t))
                    .ok_or_else(|| $crate::DomainError::invalid(
                        stringify!($name),
                        format!("'{t}' is not one of: {}", $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")),
                    ))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use named_enum;

string_enum! {
    /// The kinds of organisation that govern a neighbourhood together.
    OrgKind {
        /// 职能部门 functional department (housing, urban management, market supervision …).
        FunctionalDepartment => "functional_department", "职能部门", "Functional department";
        /// 街道办事处 / 乡镇政府 street office or town government.
        StreetOffice => "street_office", "街道/乡镇", "Street office or town";
        /// 居委会 / 村委会 community committee.
        CommunityCommittee => "community_committee", "社区居委会", "Community committee";
        /// 自治委员会 residents' autonomous committee (front stage of a wicked problem).
        ResidentsCommittee => "residents_committee", "居民自治委员会", "Residents' autonomous committee";
        /// 党组织 party organisation.
        PartyOrganisation => "party_organisation", "党组织", "Party organisation";
        /// 社会组织 social organisation.
        SocialOrganisation => "social_organisation", "社会组织", "Social organisation";
        /// 物业服务企业 property manager.
        PropertyManager => "property_manager", "物业公司", "Property manager";
        /// 企业 enterprise.
        Enterprise => "enterprise", "企业", "Enterprise";
        /// 志愿服务队 volunteer team.
        VolunteerTeam => "volunteer_team", "志愿服务队", "Volunteer team";
        /// 城市运行管理中心 / 12345 centre: the city's command and dispatch centre.
        CommandCentre => "command_centre", "指挥中心", "Command centre";
    }
}

string_enum! {
    /// What a person does on the platform. A person may hold several roles, each with a scope.
    Role {
        /// 居民 resident: reports problems, follows their own reports.
        Resident => "resident", "居民", "Resident";
        /// 网格员 grid worker: patrols, verifies, visits.
        GridWorker => "grid_worker", "网格员", "Grid worker";
        /// 网格长 grid head.
        GridHead => "grid_head", "网格长", "Grid head";
        /// 受理员 acceptor: takes reports in.
        Acceptor => "acceptor", "受理员", "Acceptor";
        /// 派遣员 dispatcher: sends cases to units.
        Dispatcher => "dispatcher", "派遣员", "Dispatcher";
        /// 值班长 shift leader: registers, voids, closes.
        ShiftLeader => "shift_leader", "值班长", "Shift leader";
        /// 部门处置人员 department handler.
        DepartmentHandler => "department_handler", "部门处置人员", "Department handler";
        /// 社区规划师 community planner.
        CommunityPlanner => "community_planner", "社区规划师", "Community planner";
        /// 分析员 analyst: reads indicators.
        Analyst => "analyst", "分析员", "Analyst";
        /// 管理员 administrator.
        Admin => "admin", "管理员", "Administrator";
        /// 个人信息保护负责人 data-protection officer (个人信息保护法 art. 52): reads the log of
        /// who read people's contact details and household data.
        DataProtectionOfficer => "data_protection_officer", "个人信息保护负责人", "Data-protection officer";
    }
}

/// An organisation of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub parent: Option<i64>,
    /// The areas it is responsible for (its jurisdiction).
    pub jurisdiction: Vec<DivisionCode>,
}

/// A new organisation, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrganisation {
    pub name: String,
    pub kind: OrgKind,
    pub parent: Option<i64>,
    pub jurisdiction: Vec<DivisionCode>,
}

impl NewOrganisation {
    pub fn new(
        name: &str,
        kind: OrgKind,
        parent: Option<i64>,
        jurisdiction: Vec<DivisionCode>,
    ) -> Result<Self, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::invalid(
                "name",
                "an organisation needs a name of 1 to 100 characters",
            ));
        }
        if jurisdiction.is_empty() {
            return Err(DomainError::invalid(
                "jurisdiction",
                "give at least one division code the organisation serves",
            ));
        }
        Ok(NewOrganisation {
            name: name.to_owned(),
            kind,
            parent,
            jurisdiction,
        })
    }
}

/// A person known to the platform. Contact details are private: see [`crate::access`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub phone: Option<String>,
    pub org: Option<i64>,
}

/// A mainland mobile number: 11 digits starting with 1.
pub fn check_phone(phone: &str) -> Result<(), DomainError> {
    let ok = phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "phone",
            format!("'{phone}' is not a mobile number: give 11 digits starting with 1"),
        ))
    }
}

/// A user name for logging in: 3–32 characters of a–z, 0–9, `.`, `_`, `-`.
pub fn check_username(name: &str) -> Result<(), DomainError> {
    let ok = (3..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "username",
            "use 3 to 32 characters: lower-case letters, digits, '.', '_' or '-'",
        ))
    }
}

/// A password must have at least 8 characters.
pub fn check_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() >= 8 {
        Ok(())
    } else {
        Err(DomainError::invalid("password", "use at least 8 characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_explain() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let e = "mayor".parse::<Role>().unwrap_err().to_string();
        assert!(e.contains("grid_worker"), "{e}");
        assert_eq!(OrgKind::CommunityCommittee.zh(), "社区居委会");
    }

    #[test]
    fn checks() {
        assert!(check_phone("13800138000").is_ok());
        assert!(check_phone("2380013800").is_err());
        assert!(check_username("gw.jinjiang_01").is_ok());
        assert!(check_username("Ab").is_err());
        assert!(check_password("short").is_err());
        let d = DivisionCode::parse("510104").unwrap();
        assert!(NewOrganisation::new("  ", OrgKind::Enterprise, None, vec![d.clone()]).is_err());
        assert!(NewOrganisation::new("锦江区住建局", OrgKind::FunctionalDepartment, None, vec![]).is_err());
        assert!(NewOrganisation::new("锦江区住建局", OrgKind::FunctionalDepartment, None, vec![d]).is_ok());
    }
}
