//! Storage of renewal works and delivery, on SQLite and (with GONGZHI_TEST_DATABASE) PostgreSQL:
//! works all or nothing with line errors, bundles accepted once, delivery projects with
//! milestones, photos as documents, supervision marks once, acceptance once per person, tenants
//! apart.

use chrono::NaiveDate;
use gongzhi_core::case::Satisfaction;
use gongzhi_core::ids::PersonId;
use gongzhi_core::org::{NewOrganisation, OrgKind};
use gongzhi_core::renewal::delivery::{Acceptance, Contribution, ContributorKind, NewDelivery};
use gongzhi_core::renewal::works::{find_bundles, BundleParams, ItemRef, NewWork, Place, Window, WorkKind};
use gongzhi_core::territory::{Division, DivisionCode, Level};
use gongzhi_store::prelude::*;
use gongzhi_store::StoreError;
use gongzhi_testkit::fresh_db;

const CITY: CityCode = CityCode::of("510100");
const COMMUNITY: &str = "510104017001";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn work(reference: &str, kind: WorkKind, dept: i64, dy: f64, from: &str, to: &str) -> NewWork {
    NewWork {
        reference: reference.into(),
        title: reference.into(),
        kind,
        community: COMMUNITY.into(),
        department: dept,
        place: Place::from_geojson(&format!(
            r#"{{"type":"LineString","coordinates":[[104.06,{}],[104.062,{}]]}}"#,
            30.66 + dy,
            30.66 + dy
        ))
        .unwrap(),
        window: Window::new(d(from), d(to)).unwrap(),
        budget_cents: 1_000_000,
    }
}

#[tokio::test]
async fn works_bundles_and_delivery_are_stored_with_their_events() {
    let db = fresh_db().await;
    let s = &db.store;
    s.put_divisions(
        CITY,
        &[
            Division::new("510100", "成都市", Level::City, None).unwrap(),
            Division::new("510104", "锦江区", Level::District, Some("510100")).unwrap(),
            Division::new("510104017", "锦官驿街道", Level::Street, Some("510104")).unwrap(),
            Division::new(COMMUNITY, "水井坊社区居委会", Level::Community, Some("510104017")).unwrap(),
        ],
        None,
    )
    .await
    .unwrap();
    let dept = s
        .create_organisation(
            CITY,
            &NewOrganisation::new(
                "区住建局",
                OrgKind::FunctionalDepartment,
                None,
                vec![DivisionCode::parse("510104").unwrap()],
            )
            .unwrap(),
            None,
        )
        .await
        .unwrap();

    // All or nothing: an unknown department refuses the whole batch with its line.
    let bad = vec![
        work("R1", WorkKind::RoadResurfacing, dept, 0.0, "2026-05-01", "2026-05-20"),
        work(
            "P1",
            WorkKind::PipeReplacement,
            dept + 99,
            0.0001,
            "2026-05-25",
            "2026-06-20",
        ),
    ];
    match s.add_works(CITY, &bad, Some(&[2, 3]), None).await {
        Err(StoreError::Lines(e)) => assert_eq!((e[0].line, e[0].column.as_deref()), (3, Some("department"))),
        other => panic!("{other:?}"),
    }
    assert!(s.works(CITY, None).await.unwrap().is_empty());
    let ids = s
        .add_works(
            CITY,
            &[
                work("R1", WorkKind::RoadResurfacing, dept, 0.0, "2026-05-01", "2026-05-20"),
                work(
                    "P1",
                    WorkKind::PipeReplacement,
                    dept,
                    0.0001,
                    "2026-05-25",
                    "2026-06-20",
                ),
            ],
            None,
            Some(PersonId(1)),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.add_works(
            CITY,
            &[work("R1", WorkKind::Gas, dept, 0.0, "2026-05-01", "2026-05-02")],
            None,
            None
        )
        .await,
        Err(StoreError::Lines(_))
    ));
    let delivery = s
        .start_delivery(
            CITY,
            &NewDelivery {
                proposal: Some(7),
                community: COMMUNITY.into(),
                title: "口袋公园".into(),
                kind: WorkKind::ResidentProject,
                site: Place::point(104.061, 30.6602).unwrap(),
                budget_cents: 5_000_000,
                window: Window::new(d("2026-05-10"), d("2026-05-30")).unwrap(),
            },
            Some(PersonId(1)),
        )
        .await
        .unwrap();
    assert_eq!(s.delivery_row(CITY, delivery).await.unwrap().proposal, Some(7));
    assert_eq!(
        s.events(CITY, &format!("renewal_delivery:{delivery}")).await.unwrap()[0].kind,
        "delivery_started"
    );

    // One bundle of the three; accepted once.
    let items: Vec<_> = s
        .renewal_items(CITY, COMMUNITY)
        .await
        .unwrap()
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let params = BundleParams::default();
    let bundles = find_bundles(&items, &params);
    assert_eq!(bundles.len(), 1);
    assert_eq!(
        bundles[0].items,
        vec![
            ItemRef::Work(ids[0]),
            ItemRef::Work(ids[1]),
            ItemRef::Delivery(delivery)
        ]
    );
    let b = s
        .accept_bundle(CITY, COMMUNITY, &bundles[0], &params, Some(PersonId(1)))
        .await
        .unwrap();
    assert!(matches!(
        s.accept_bundle(CITY, COMMUNITY, &bundles[0], &params, Some(PersonId(1)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let stored = s.bundle(CITY, b).await.unwrap();
    assert_eq!(stored.bundle, bundles[0]);
    assert!(s
        .works(CITY, Some(COMMUNITY))
        .await
        .unwrap()
        .iter()
        .all(|w| w.bundle == Some(b)));
    assert_eq!(
        s.events(CITY, &format!("renewal_work:{}", ids[0])).await.unwrap().len(),
        2
    );

    // Milestones, a photo, supervision once, spending, contributions, upkeep, acceptance.
    let m = s
        .add_milestone(CITY, delivery, "场地平整", d("2026-05-15"), None)
        .await
        .unwrap();
    let name = s
        .add_milestone_photo(CITY, delivery, m, "image/jpeg", &[1, 2, 3], None)
        .await
        .unwrap();
    let photo = s.milestone_photo_id(CITY, &name).await.unwrap();
    let stored = s.media(CITY, photo).await.unwrap().unwrap();
    assert_eq!(
        (stored.info.content_type, stored.bytes),
        ("image/jpeg".to_owned(), vec![1, 2, 3])
    );
    assert_eq!(s.events(CITY, &format!("document:{name}")).await.unwrap().len(), 1);
    assert_eq!(s.supervise_milestones(CITY, d("2026-05-13")).await.unwrap(), 1);
    assert_eq!(s.supervise_milestones(CITY, d("2026-05-14")).await.unwrap(), 0);
    assert_eq!(s.supervise_milestones(CITY, d("2026-05-16")).await.unwrap(), 1);
    assert_eq!(
        s.supervised_milestones(CITY, Some(COMMUNITY), d("2026-05-16"))
            .await
            .unwrap()
            .len(),
        1
    );
    s.complete_milestone(CITY, delivery, m, d("2026-05-17"), None)
        .await
        .unwrap();
    assert!(s
        .supervised_milestones(CITY, None, d("2026-05-18"))
        .await
        .unwrap()
        .is_empty());
    s.record_spending(CITY, delivery, 120_000, "", d("2026-05-17"), None)
        .await
        .unwrap();
    assert!(s
        .record_spending(CITY, delivery, 0, "", d("2026-05-17"), None)
        .await
        .is_err());
    s.add_contribution(
        CITY,
        delivery,
        &Contribution {
            contributor: "王".into(),
            kind: ContributorKind::Resident,
            person: Some(3),
            organisation: None,
            hours_tenths: 15,
            money_cents: 0,
            materials: String::new(),
            date: d("2026-05-12"),
        },
        None,
    )
    .await
    .unwrap();
    let u = s
        .add_upkeep(CITY, delivery, "楼栋长", "座椅", 30, d("2026-06-01"), None)
        .await
        .unwrap();
    s.add_checkin(
        CITY,
        delivery,
        u,
        &gongzhi_core::renewal::delivery::Checkin {
            date: d("2026-06-20"),
            ok: true,
            note: String::new(),
        },
        None,
    )
    .await
    .unwrap();
    let a = Acceptance {
        satisfaction: Satisfaction::Satisfied,
        solved: true,
        comment: String::new(),
    };
    s.answer_acceptance(CITY, delivery, PersonId(3), &a).await.unwrap();
    assert!(matches!(
        s.answer_acceptance(CITY, delivery, PersonId(3), &a).await,
        Err(StoreError::Conflict(_))
    ));
    let detail = s.delivery(CITY, delivery).await.unwrap();
    assert_eq!(detail.delivery.spent_cents, 120_000);
    assert_eq!(detail.milestones[0].done, Some(d("2026-05-17")));
    assert_eq!(detail.milestones[0].supervision, 2);
    assert_eq!(detail.contributions[0].contribution.hours_tenths, 15);
    assert_eq!(detail.upkeep[0].checkins.len(), 1);
    assert_eq!(detail.acceptance, vec![a]);

    // Another tenant sees none of it.
    assert!(s.works(CityCode::of("110100"), None).await.unwrap().is_empty());
    assert!(matches!(
        s.delivery(CityCode::of("110100"), delivery).await,
        Err(StoreError::NotFound(_))
    ));
}
