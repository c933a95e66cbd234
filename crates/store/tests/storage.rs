//! The storage suite: one suite, run against SQLite by default and against PostgreSQL when
//! GONGZHI_TEST_DATABASE is a postgres:// URL (as .ci/run does).

use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::grid::{parse_grid_collection, GridCodePattern};
use gongzhi_core::ids::PersonId;
use gongzhi_core::org::{NewOrganisation, OrgKind, Role};
use gongzhi_core::spatial::Crs;
use gongzhi_core::territory::{Division, DivisionCode, Hierarchy, Level};
use gongzhi_store::prelude::*;
use gongzhi_store::{NewPerson, StoreError, TokenKind};
use gongzhi_testkit::{demo_db, fresh_db};

const CITY: CityCode = CityCode::of("510100");

fn square(code: &str, x: f64, y: f64, d: f64) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature",
        "properties": { "code": code, "name": format!("网格{code}"), "households": 400, "population": 1000 },
        "geometry": { "type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] }
    })
}

fn collection(features: Vec<serde_json::Value>) -> String {
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

#[tokio::test]
async fn divisions_nest_and_the_hierarchy_is_data() {
    let db = fresh_db().await;
    let s = &db.store;
    let ds = vec![
        Division::new("510100", "成都市", Level::City, None).unwrap(),
        Division::new("510104", "锦江区", Level::District, Some("510100")).unwrap(),
        Division::new("510104017", "锦官驿街道", Level::Street, Some("510104")).unwrap(),
        Division::new("510104017001", "水井坊社区居委会", Level::Community, Some("510104017")).unwrap(),
    ];
    assert_eq!(s.put_divisions(CITY, &ds, None).await.unwrap(), 4);
    let chain = s.ancestry(CITY, "510104017001").await.unwrap();
    assert_eq!(
        chain.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["成都市", "锦江区", "锦官驿街道", "水井坊社区居委会"]
    );
    assert_eq!(s.child_divisions(CITY, Some("510104"), None).await.unwrap().len(), 1);
    assert_eq!(
        s.child_divisions(CITY, None, Some(Level::Community))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.hierarchy(CITY).await.unwrap(), Hierarchy::layered());
    s.set_hierarchy(CITY, &Hierarchy::flat(), Some(PersonId(1)))
        .await
        .unwrap();
    assert!(s.hierarchy(CITY).await.unwrap().is_flat());
    assert_eq!(s.events(CITY, "setting:hierarchy").await.unwrap().len(), 1);
    // Another city's division is refused in this tenant.
    let beijing = Division::new("110100", "北京市", Level::City, None).unwrap();
    assert!(matches!(
        s.put_divisions(CITY, &[beijing], None).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn tenants_are_isolated() {
    let db = fresh_db().await;
    let s = &db.store;
    s.put_divisions(
        CITY,
        &[Division::new("510100", "成都市", Level::City, None).unwrap()],
        None,
    )
    .await
    .unwrap();
    s.put_divisions(
        CityCode::of("110100"),
        &[Division::new("110100", "北京市", Level::City, None).unwrap()],
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.division(CITY, "110100").await.unwrap(), None);
    assert_eq!(
        s.division(CityCode::of("110100"), "110100")
            .await
            .unwrap()
            .unwrap()
            .name,
        "北京市"
    );
    assert_eq!(s.cities().await.unwrap(), ["110100", "510100"]);
}

#[tokio::test]
async fn grids_import_page_and_stay_inside_their_communities() {
    let db = demo_db().await;
    let s = &db.store;
    let demo = gongzhi_testkit::small_demo();
    let total = s.grid_count(CITY).await.unwrap();
    assert_eq!(total as usize, demo.grids.len());
    let first = &demo.grids[0];
    let page = s.grids(CITY, Some(first.community.as_str()), 1, 2).await.unwrap();
    assert_eq!(page.grids.len(), 2);
    assert!(page.total >= 3);
    assert_eq!(page.grids[0].code, first.code);
    let again = s.grid(CITY, first.code.as_str()).await.unwrap().unwrap();
    assert_eq!(again.households, first.households);
    assert_eq!(again.geometry, first.geometry);
    assert_eq!(
        s.events(CITY, &format!("grid:{}", first.code)).await.unwrap()[0].kind,
        "grid_imported"
    );
    assert_eq!(s.grid_shapes(CITY).await.unwrap().len() as i64, total);
    assert!(s
        .division_boundary(CITY, first.community.as_str())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_refused_import_stores_nothing() {
    let db = demo_db().await;
    let s = &db.store;
    let demo = gongzhi_testkit::small_demo();
    let community = demo.grids[0].community.clone();
    let (_, area) = demo.boundaries.iter().find(|(c, _)| *c == community).unwrap();
    let r = geo::BoundingRect::bounding_rect(area).unwrap();
    let before = (s.grid_count(CITY).await.unwrap(), s.event_count(CITY).await.unwrap());
    // Feature 0 is fine (replaces a grid), feature 1 lies far outside its community,
    // feature 2 names a community the city does not have.
    let text = collection(vec![
        square(&format!("{community}001"), r.min().x, r.min().y, 1e-4),
        square(&format!("{community}090"), r.min().x + 1.0, r.min().y, 1e-4),
        square("510104999999001", r.min().x, r.min().y, 1e-4),
    ]);
    let grids = parse_grid_collection(&text, Crs::Wgs84, &GridCodePattern::default()).unwrap();
    let Err(StoreError::Rejected(errors)) = s.import_grids(CITY, &grids, None, None).await else {
        panic!("must be refused")
    };
    assert_eq!(errors.iter().map(|e| e.index).collect::<Vec<_>>(), [1, 2]);
    assert!(
        errors[0].reason.contains("outside its community"),
        "{}",
        errors[0].reason
    );
    assert!(
        errors[1].reason.contains("not in the division register"),
        "{}",
        errors[1].reason
    );
    let after = (s.grid_count(CITY).await.unwrap(), s.event_count(CITY).await.unwrap());
    assert_eq!(before, after, "nothing of a refused import is stored");
    let kept = s.grid(CITY, &format!("{community}001")).await.unwrap().unwrap();
    assert_eq!(kept.geometry, demo.grids[0].geometry);
}

#[tokio::test]
async fn organisations_people_accounts_and_tokens() {
    let db = fresh_db().await;
    let s = &db.store;
    let d = DivisionCode::parse("510104").unwrap();
    let org = NewOrganisation::new(
        "锦江区住房和城乡建设局",
        OrgKind::FunctionalDepartment,
        None,
        vec![d.clone()],
    )
    .unwrap();
    let id = s.create_organisation(CITY, &org, Some(PersonId(9))).await.unwrap();
    let bad = NewOrganisation {
        parent: Some(id + 1000),
        ..org.clone()
    };
    assert!(matches!(
        s.create_organisation(CITY, &bad, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.organisations(CITY, Some(OrgKind::FunctionalDepartment))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.organisations(CITY, Some(OrgKind::Enterprise)).await.unwrap().len(), 0);
    assert_eq!(
        s.organisation(CITY, id).await.unwrap().unwrap().jurisdiction,
        vec![d.clone()]
    );

    let p = NewPerson {
        name: "王芳".into(),
        phone: Some("19900000001".into()),
        org: Some(id),
        grants: vec![Grant {
            role: Role::DepartmentHandler,
            scope: Scope::Organisation(id),
        }],
        account: Some(("wang.fang".into(), "$argon2id$fake".into())),
    };
    let pid = s.create_person(CITY, &p, None).await.unwrap();
    let count_before = s.people(CITY, 0, 100).await.unwrap().len();
    // The same user name again is a conflict, and the second person is not stored either.
    assert!(matches!(
        s.create_person(CITY, &p, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.people(CITY, 0, 100).await.unwrap().len(), count_before);

    let account = s.account("wang.fang").await.unwrap().unwrap();
    assert_eq!(account.person_id, pid);
    let token = s.issue_token(&account, TokenKind::Api, "secret", 60_000).await.unwrap();
    assert!(token.starts_with("510100."));
    let who = s.principal_for_token(&token).await.unwrap().unwrap();
    assert_eq!(who.name, "王芳");
    assert_eq!(who.grants, p.grants);
    assert!(s.principal_for_token("510100.other").await.unwrap().is_none());
    s.revoke_token(&token).await.unwrap();
    assert!(s.principal_for_token(&token).await.unwrap().is_none());
    let expired = s.issue_token(&account, TokenKind::Session, "old", -1).await.unwrap();
    assert!(s.principal_for_token(&expired).await.unwrap().is_none());
    let kinds: Vec<String> = s
        .events(CITY, &format!("person:{pid}"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["person_created", "logged_in", "logged_in"]);
}

#[tokio::test]
async fn premises_import_all_or_nothing_and_read_back() {
    use gongzhi_core::premises::{parse_premises, Area, UnitUse};
    use gongzhi_core::table::Table;
    let db = demo_db().await;
    let s = &db.store;
    let demo = gongzhi_testkit::small_demo();
    // The demo loader stored its premises: every unit of the first community's first grid.
    let grid = demo.grids[0].code.to_string();
    let buildings = s.buildings(CITY, None, Some(&grid)).await.unwrap();
    assert_eq!(buildings.len(), 6);
    let units = s.units(CITY, &buildings[0].code).await.unwrap();
    let in_demo = demo
        .premises
        .units
        .iter()
        .filter(|u| u.building == buildings[0].code)
        .count();
    assert_eq!(units.len(), in_demo);
    assert_eq!(
        units[0].use_,
        UnitUse::Commercial,
        "the first building has shops on its ground floor"
    );

    let community = demo.grids[0].community.to_string();
    let header = "building,building_name,community,grid,unit,floor,area_m2,use\n";
    let good = format!(
        "{header}T1,测试楼,{community},{grid},T1-101,1,85.37,住宅\nT1,测试楼,{community},{grid},T1-102,1,60.5,\n"
    );
    let p = parse_premises(&Table::from_csv(&good).unwrap()).unwrap();
    let n = s.import_premises(CITY, &p, None).await.unwrap();
    assert_eq!((n.buildings, n.units), (1, 2));
    let t1 = s.unit(CITY, "T1-101").await.unwrap().unwrap();
    assert_eq!(t1.area, Area::from_hundredths(8537));
    let events = s.events(CITY, "building:T1").await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "premises_imported");

    // A file whose lines are right but whose places are not: refused with the lines, nothing stored.
    let bad = format!(
        "{header}T2,二号楼,{community},{grid},T2-101,1,70,\nT3,三号楼,510104017999,,T3-101,1,70,\nT4,四号楼,{community},{community}099,T1-101,1,70,\n"
    );
    let p = parse_premises(&Table::from_csv(&bad).unwrap()).unwrap();
    let Err(StoreError::Lines(errors)) = s.import_premises(CITY, &p, None).await else {
        panic!("a file naming unknown places must be refused");
    };
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert!(
        shown[0].starts_with("line 3, column community: community 510104017999 is not in the division register"),
        "{shown:?}"
    );
    assert!(
        shown[1].starts_with(&format!("line 4, column grid: grid {community}099 is not stored")),
        "{shown:?}"
    );
    assert!(
        shown[2].starts_with("line 4, column unit: unit T1-101 is stored in building T1"),
        "{shown:?}"
    );
    assert!(
        s.building(CITY, "T2").await.unwrap().is_none(),
        "nothing of a refused file is stored"
    );
    assert_eq!(s.units(CITY, "T1").await.unwrap().len(), 2);
    let summary = s.premises_summary(CITY, &community).await.unwrap();
    assert!(
        summary
            .iter()
            .any(|u| u.unit_use == UnitUse::Residential && u.units > 100),
        "{summary:?}"
    );
}
