//! Who may do what, where: authorisation by role AND jurisdiction.
//!
//! A [`Principal`] holds role grants, each limited to a [`Scope`]. A permission is allowed on a
//! target (a territory code: division or grid) only if some grant's role carries the permission
//! and its scope covers the target. The matrix of roles and permissions is one table below.

use crate::ids::PersonId;
use serde::{Deserialize, Serialize};

use crate::org::Role;
use crate::territory::{CityCode, DivisionCode};

/// Where a role grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Scope {
    /// A division and everything inside it (a whole city, district, street or community).
    Division(DivisionCode),
    /// Some grids (and their micro-grids), by code.
    Grids(Vec<String>),
    /// An organisation's own matters (a functional department's cases).
    Organisation(i64),
}

impl Scope {
    /// Whether a territory code (division or grid code) lies inside this scope.
    pub fn covers(&self, target: &str) -> bool {
        match self {
            Scope::Division(d) => d.contains(target),
            Scope::Grids(gs) => gs.iter().any(|g| target.starts_with(g.as_str())),
            Scope::Organisation(_) => false,
        }
    }

    /// A short text form: `division:510104`, `grids:510104001001001;…`, `organisation:12`.
    pub fn encode(&self) -> String {
        match self {
            Scope::Division(d) => format!("division:{d}"),
            Scope::Grids(gs) => format!("grids:{}", gs.join(";")),
            Scope::Organisation(id) => format!("organisation:{id}"),
        }
    }

    pub fn decode(s: &str) -> Result<Self, crate::DomainError> {
        let bad = || {
            crate::DomainError::invalid(
                "scope",
                format!("'{s}' is not a scope: use division:CODE, grids:CODE;CODE or organisation:ID"),
            )
        };
        let (kind, value) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "division" => Ok(Scope::Division(DivisionCode::parse(value)?)),
            "grids" => Ok(Scope::Grids(
                value.split(';').filter(|v| !v.is_empty()).map(str::to_owned).collect(),
            )),
            "organisation" => value.parse().map(Scope::Organisation).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// One role held within one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// Something a person may be allowed to do on a territory target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See a grid's households and population, and other non-public territory details.
    ViewGridDetails,
    /// Import, change or remove grids and divisions.
    ManageTerritory,
    /// Create and change organisations.
    ManageOrganisations,
    /// See people's records and contact details.
    ViewPeople,
    /// Create people and accounts, grant roles.
    ManagePeople,
    /// See the cases of an area, with reporters' contacts (staff of the closed loop).
    ViewCases,
    /// Edit the catalogue and the working calendar.
    ManageCatalogue,
    /// Coordinate urban regeneration projects (城市更新协调): holders, contacts, decisions.
    CoordinateRegeneration,
    /// Keep a grid's team, households and lists, confirm matches, record patrols, visits,
    /// activities and points (全科网格).
    ManageGrid,
    /// Write micro-renewal proposals, keep the council, set up participatory-budget votes and
    /// enter or confirm paper ballots (社区微更新).
    RunRenewal,
    /// Deliver micro-renewal: accept bundles of works, start and run delivery projects, register
    /// works for any department (项目整合与共建).
    DeliverRenewal,
    /// Read the log of reads of personal data (who read whose contact details or household
    /// data, when and where) and export it.
    AuditPersonalData,
}

/// The role × permission matrix.
pub fn role_has(role: Role, p: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match role {
        Admin => true,
        GridWorker | GridHead => {
            matches!(p, ViewGridDetails | ViewCases | ManageGrid) || (role == GridHead && p == ViewPeople)
        }
        CommunityPlanner => matches!(
            p,
            ViewGridDetails | ViewCases | ManageGrid | CoordinateRegeneration | RunRenewal | DeliverRenewal
        ),
        Acceptor | Dispatcher | ShiftLeader | Analyst => matches!(p, ViewGridDetails | ViewCases),
        DataProtectionOfficer => p == AuditPersonalData,
        Resident | DepartmentHandler => false,
    }
}

/// The authenticated person behind a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    pub person_id: PersonId,
    pub name: String,
    pub username: String,
    /// The tenant (city code) the person belongs to.
    pub city: CityCode,
    pub grants: Vec<Grant>,
}

impl Principal {
    /// Whether the principal may do `p` on the territory `target` (a division or grid code).
    pub fn may(&self, p: Permission, target: &str) -> bool {
        self.grants
            .iter()
            .any(|g| role_has(g.role, p) && g.scope.covers(target))
    }

    /// Whether the principal holds `p` anywhere at all (for listing pages).
    pub fn may_somewhere(&self, p: Permission) -> bool {
        self.grants.iter().any(|g| role_has(g.role, p))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// The organisations the principal acts for (a department handler's units).
    pub fn units(&self) -> Vec<i64> {
        self.grants
            .iter()
            .filter_map(|g| match g.scope {
                Scope::Organisation(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    /// The scopes in which the principal holds `p`, to narrow a listing.
    pub fn scopes_for(&self, p: Permission) -> impl Iterator<Item = &Scope> {
        self.grants
            .iter()
            .filter(move |g| role_has(g.role, p))
            .map(|g| &g.scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal {
            person_id: PersonId(1),
            name: "t".into(),
            username: "t".into(),
            city: CityCode::of("510100"),
            grants: vec![Grant { role, scope }],
        }
    }

    #[test]
    fn grid_worker_sees_only_their_grids() {
        let p = principal(Role::GridWorker, Scope::Grids(vec!["510104001001001".into()]));
        assert!(p.may(Permission::ViewGridDetails, "510104001001001"));
        assert!(p.may(Permission::ViewGridDetails, "510104001001001002"));
        assert!(!p.may(Permission::ViewGridDetails, "510104001001002"));
        assert!(!p.may(Permission::ManageTerritory, "510104001001001"));
        assert!(p.may(Permission::ManageGrid, "510104001001001"));
        assert!(!p.may(Permission::ManageGrid, "510104001001002"));
    }

    #[test]
    fn admin_is_bounded_by_scope_and_residents_get_nothing() {
        let a = principal(Role::Admin, Scope::Division(DivisionCode::parse("510104").unwrap()));
        assert!(a.may(Permission::ManageTerritory, "510104001001001"));
        assert!(!a.may(Permission::ManageTerritory, "510105001001001"));
        let r = principal(Role::Resident, Scope::Division(DivisionCode::parse("510100").unwrap()));
        for p in [
            Permission::ViewGridDetails,
            Permission::ManageTerritory,
            Permission::ViewPeople,
            Permission::ManagePeople,
            Permission::ManageGrid,
        ] {
            assert!(!r.may(p, "510104001001001"));
        }
    }

    #[test]
    fn regeneration_is_coordinated_by_planners_and_administrators_only() {
        let street = DivisionCode::parse("510104001").unwrap();
        let planner = principal(Role::CommunityPlanner, Scope::Division(street.clone()));
        assert!(planner.may(Permission::CoordinateRegeneration, "510104001001"));
        assert!(!planner.may(Permission::CoordinateRegeneration, "510104002001"));
        for role in [Role::GridWorker, Role::Dispatcher, Role::Analyst, Role::Resident] {
            assert!(!principal(role, Scope::Division(street.clone()))
                .may(Permission::CoordinateRegeneration, "510104001001"));
        }
    }

    #[test]
    fn scopes_encode_and_decode() {
        for s in [
            "division:510104",
            "grids:510104001001001;510104001001002",
            "organisation:7",
        ] {
            assert_eq!(Scope::decode(s).unwrap().encode(), s);
        }
        assert!(Scope::decode("street:1").is_err());
    }
}
