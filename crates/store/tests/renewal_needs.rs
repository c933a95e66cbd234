//! Renewal needs and clusters in storage (SQLite, and PostgreSQL when GONGZHI_TEST_DATABASE is
//! set): a community's needs of the one needs list, photos, clusters whose row and membership
//! are folded from their event streams, merge / split / rename, and what is refused.

use gongzhi_core::gridteam::{Category, Need, NeedSource, Urgency};
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::{Division, Level};
use gongzhi_store::prelude::*;
use gongzhi_store::{GridList, NewRecord, StoreError};
use gongzhi_testkit::fresh_db;

const CITY: CityCode = CityCode::of("510100");
const COMMUNITY: &str = "510104017001";

fn need(text: &str) -> NewRecord {
    let n = Need {
        category: Category::Lighting,
        text: text.into(),
        lng: 104.08,
        lat: 30.65,
        area: None,
        urgency: Urgency::Normal,
        source: NeedSource::Resident,
        raised_by: Some(7),
        household: None,
        group: None,
        quantity: 1,
        evidence: Vec::new(),
    };
    NewRecord {
        list: GridList::Needs,
        area: format!("{COMMUNITY}001"),
        status: "open".into(),
        person: Some(7),
        body: serde_json::to_value(&n).unwrap(),
    }
}

#[tokio::test]
async fn clusters_are_folded_from_their_events() {
    let db = fresh_db().await;
    let s = &db.store;
    let ds = vec![
        Division::new("510100", "成都市", Level::City, None).unwrap(),
        Division::new("510104", "锦江区", Level::District, Some("510100")).unwrap(),
        Division::new("510104017", "锦官驿街道", Level::Street, Some("510104")).unwrap(),
        Division::new(COMMUNITY, "水井坊社区居委会", Level::Community, Some("510104017")).unwrap(),
    ];
    s.put_divisions(CITY, &ds, None).await.unwrap();
    let ids = s
        .add_grid_records(
            CITY,
            &(0..6).map(|i| need(&format!("路灯不亮 {i}"))).collect::<Vec<_>>(),
            None,
        )
        .await
        .unwrap();
    let mut elsewhere = need("别的社区");
    elsewhere.area = "510104017002001".into();
    let other = s.add_grid_record(CITY, &elsewhere, None).await.unwrap();
    let listed: Vec<i64> = s
        .community_needs(CITY, COMMUNITY)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ids);
    assert!(
        s.community_needs(CityCode::of("440300"), COMMUNITY)
            .await
            .unwrap()
            .is_empty(),
        "tenants are apart"
    );

    // Photos.
    let photo = s
        .add_need_photo(CITY, ids[0], "image/png", b"png", Some(PersonId(1)))
        .await
        .unwrap();
    let photos = s.need_photos(CITY, ids[0]).await.unwrap();
    assert_eq!(
        photos
            .iter()
            .map(|m| (m.id, m.content_type.as_str(), m.size))
            .collect::<Vec<_>>(),
        vec![(photo, "image/png", 3)]
    );
    let stored = s.media(CITY, photo).await.unwrap().unwrap();
    assert_eq!(
        (stored.info.owner, stored.info.content_type, stored.bytes),
        (format!("need:{}", ids[0]), "image/png".to_owned(), b"png".to_vec())
    );

    // A run creates two clusters; a need of another community or one already clustered is refused.
    let created = s
        .refresh_clusters(
            CITY,
            COMMUNITY,
            &[],
            &[("路灯".into(), ids[0..3].to_vec()), ("灯".into(), ids[3..5].to_vec())],
            Some(PersonId(1)),
        )
        .await
        .unwrap();
    let (a, b) = (created[0], created[1]);
    let err = s
        .refresh_clusters(CITY, COMMUNITY, &[], &[("x".into(), vec![other])], None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let err = s
        .refresh_clusters(CITY, COMMUNITY, &[], &[("x".into(), vec![ids[0], ids[5]])], None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        s.cluster_assignments(CITY, COMMUNITY).await.unwrap().len(),
        5,
        "nothing of a refused run stays"
    );
    s.refresh_clusters(CITY, COMMUNITY, &[(a, vec![ids[5]])], &[], None)
        .await
        .unwrap();

    // Rename with the version seen; a stale one is refused.
    let seen = s.renewal_cluster(CITY, a).await.unwrap().unwrap().version;
    s.rename_cluster(CITY, a, "3号楼路灯", Some(seen), Some(PersonId(1)))
        .await
        .unwrap();
    assert!(matches!(
        s.rename_cluster(CITY, a, "again", Some(seen), None).await,
        Err(StoreError::Conflict(_))
    ));

    // Merge b into a, split two needs off a.
    s.merge_clusters(CITY, a, &[b], Some(PersonId(1)), Some("same lamp"))
        .await
        .unwrap();
    assert!(matches!(
        s.merge_clusters(CITY, a, &[b], None, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.merge_clusters(CITY, a, &[a], None, None).await,
        Err(StoreError::Invalid(_))
    ));
    let c = s
        .split_cluster(CITY, a, &[ids[3], ids[4]], "楼道灯", Some(PersonId(1)), None)
        .await
        .unwrap();
    assert!(matches!(
        s.split_cluster(CITY, a, &[other], "x", None, None).await,
        Err(StoreError::Invalid(_))
    ));

    let active = s.renewal_clusters(CITY, COMMUNITY, false).await.unwrap();
    assert_eq!(active.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a, c]);
    assert_eq!(active[0].needs, vec![ids[0], ids[1], ids[2], ids[5]]);
    assert_eq!(active[0].name, "3号楼路灯");
    assert_eq!(active[1].needs, vec![ids[3], ids[4]]);
    let all = s.renewal_clusters(CITY, COMMUNITY, true).await.unwrap();
    let merged = all.iter().find(|x| x.id == b).unwrap();
    assert_eq!(
        (merged.status.as_str(), merged.merged_into, merged.needs.len()),
        ("merged", Some(a), 0)
    );

    // Every stored row equals its events replayed.
    for x in &all {
        let replayed = s.replay_cluster(CITY, x.id).await.unwrap();
        assert_eq!(replayed.needs.iter().copied().collect::<Vec<_>>(), x.needs);
        assert_eq!(
            (replayed.name.as_str(), replayed.version, replayed.merged_into),
            (x.name.as_str(), x.version, x.merged_into)
        );
    }
    let kinds: Vec<String> = s
        .events(CITY, &format!("renewal_cluster:{a}"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "cluster_created",
            "cluster_needs_added",
            "cluster_renamed",
            "cluster_absorbed",
            "cluster_split"
        ]
    );
    let assigned = s.cluster_assignments(CITY, COMMUNITY).await.unwrap();
    assert_eq!((assigned[&ids[3]], assigned[&ids[0]], assigned.len()), (c, a, 6));

    // Evidence: unknown cases are refused and nothing changes.
    assert!(matches!(
        s.link_evidence(CITY, ids[0], &[424242], None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.link_evidence(CITY, 999_999, &[1], None).await,
        Err(StoreError::NotFound(_))
    ));
}
