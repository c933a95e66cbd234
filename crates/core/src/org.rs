//! Organisations, people and their roles.

use serde::{Deserialize, Serialize};

use crate::territory::DivisionCode;
use crate::DomainError;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal, $zh:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s,)+ } }
            /// The Chinese name shown in the UI.
            pub fn zh(self) -> &'static str { match self { $($name::$variant => $zh,)+ } }
        }

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

string_enum! {
    /// The kinds of organisation that govern a neighbourhood together.
    OrgKind {
        /// 职能部门 functional department (housing, urban management, market supervision …).
        FunctionalDepartment => "functional_department", "职能部门";
        /// 街道办事处 / 乡镇政府 street office or town government.
        StreetOffice => "street_office", "街道/乡镇";
        /// 居委会 / 村委会 community committee.
        CommunityCommittee => "community_committee", "社区居委会";
        /// 自治委员会 residents' autonomous committee (front stage of a wicked problem).
        ResidentsCommittee => "residents_committee", "居民自治委员会";
        /// 党组织 party organisation.
        PartyOrganisation => "party_organisation", "党组织";
        /// 社会组织 social organisation.
        SocialOrganisation => "social_organisation", "社会组织";
        /// 物业服务企业 property manager.
        PropertyManager => "property_manager", "物业公司";
        /// 企业 enterprise.
        Enterprise => "enterprise", "企业";
        /// 志愿服务队 volunteer team.
        VolunteerTeam => "volunteer_team", "志愿服务队";
        /// 城市运行管理中心 / 12345 centre: the city's command and dispatch centre.
        CommandCentre => "command_centre", "指挥中心";
    }
}

string_enum! {
    /// What a person does on the platform. A person may hold several roles, each with a scope.
    Role {
        /// 居民 resident: reports problems, follows their own reports.
        Resident => "resident", "居民";
        /// 网格员 grid worker: patrols, verifies, visits.
        GridWorker => "grid_worker", "网格员";
        /// 网格长 grid head.
        GridHead => "grid_head", "网格长";
        /// 受理员 acceptor: takes reports in.
        Acceptor => "acceptor", "受理员";
        /// 派遣员 dispatcher: sends cases to units.
        Dispatcher => "dispatcher", "派遣员";
        /// 值班长 shift leader: registers, voids, closes.
        ShiftLeader => "shift_leader", "值班长";
        /// 部门处置人员 department handler.
        DepartmentHandler => "department_handler", "部门处置人员";
        /// 社区规划师 community planner.
        CommunityPlanner => "community_planner", "社区规划师";
        /// 分析员 analyst: reads indicators.
        Analyst => "analyst", "分析员";
        /// 管理员 administrator.
        Admin => "admin", "管理员";
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
    pub id: i64,
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
