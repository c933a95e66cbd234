//! The demo's micro-renewal works and delivery, in the first community: the department's road
//! resurfacing and the pipe replacement under the same road, lighting elsewhere, facade painting,
//! and the residents' pocket park beside the road (a delivery project); the bundle that merges
//! the road works with the park is accepted; the park has milestones (one done, one late, one
//! due soon, one ahead), spending, contributions of residents and organisations, and an upkeep
//! commitment. Dates are relative to today so that the late milestone stays late.

use chrono::{Days, NaiveDate};
use gongzhi_core::access::Scope;
use gongzhi_core::renewal::delivery::{Contribution, ContributorKind, NewDelivery};
use gongzhi_core::renewal::proposal::ProposalStatus;
use gongzhi_core::renewal::works::{find_bundles, BundleParams, ItemRef, NewWork, Place, Window, WorkKind};
use gongzhi_store::prelude::*;
use gongzhi_store::{Store, StoreError};

use crate::{Demo, CITY};

fn today() -> NaiveDate {
    gongzhi_core::calendar::china_today()
}

fn day(offset: i64) -> NaiveDate {
    let t = today();
    if offset >= 0 {
        t + Days::new(offset as u64)
    } else {
        t - Days::new(offset.unsigned_abs())
    }
}

fn window(from: i64, to: i64) -> Window {
    Window {
        from: day(from),
        to: day(to),
    }
}

fn place(json: serde_json::Value) -> Result<Place, StoreError> {
    Ok(Place::from_geojson(&json.to_string())?)
}

pub async fn load(store: &Store, demo: &Demo) -> Result<(), StoreError> {
    let (Some(planner), Some(department), Some(resident)) = (
        store.account("planner").await?,
        store.account("department").await?,
        store.account("resident").await?,
    ) else {
        return Ok(());
    };
    let Some(building) = demo.premises.buildings.first() else {
        return Ok(());
    };
    let (Some(lng), Some(lat)) = (building.lng, building.lat) else {
        return Ok(());
    };
    let community = building.community.to_string();
    let dept = store
        .grants(CITY, department.person_id)
        .await?
        .into_iter()
        .find_map(|g| match g.scope {
            Scope::Organisation(o) => Some(o),
            _ => None,
        });
    let Some(dept) = dept else { return Ok(()) };
    let actor = Some(planner.person_id);
    let road = serde_json::json!({ "type": "LineString", "coordinates": [[lng - 0.0012, lat - 0.0003], [lng + 0.0012, lat - 0.0003]] });
    let pipe = serde_json::json!({ "type": "LineString", "coordinates": [[lng - 0.0008, lat - 0.00025], [lng + 0.0010, lat - 0.00025]] });
    let works = vec![
        NewWork {
            reference: "DL-2026-031".into(),
            title: "社区主路沥青翻修".into(),
            kind: WorkKind::RoadResurfacing,
            community: community.clone(),
            department: dept,
            place: place(road)?,
            window: window(-10, 20),
            budget_cents: 86_000_000,
        },
        NewWork {
            reference: "GW-2026-007".into(),
            title: "主路下供水管网更换".into(),
            kind: WorkKind::PipeReplacement,
            community: community.clone(),
            department: dept,
            place: place(pipe)?,
            window: window(25, 55),
            budget_cents: 42_000_000,
        },
        NewWork {
            reference: "LD-2026-112".into(),
            title: "背街小巷路灯更新".into(),
            kind: WorkKind::Lighting,
            community: community.clone(),
            department: dept,
            place: place(serde_json::json!({ "type": "Point", "coordinates": [lng + 0.012, lat + 0.006] }))?,
            window: window(5, 15),
            budget_cents: 9_500_000,
        },
        NewWork {
            reference: "WL-2026-019".into(),
            title: "沿街外立面粉刷".into(),
            kind: WorkKind::FacadePainting,
            community: community.clone(),
            department: dept,
            place: place(serde_json::json!({ "type": "Point", "coordinates": [lng - 0.004, lat + 0.004] }))?,
            window: window(60, 90),
            budget_cents: 15_000_000,
        },
    ];
    store.add_works(CITY, &works, None, actor).await?;
    // The pocket park delivers the vote's proposal of that name when the vote funded it.
    let funded = store
        .proposals(CITY, &community)
        .await?
        .into_iter()
        .find(|p| p.status == ProposalStatus::Funded && p.content.title == "口袋公园改造")
        .map(|p| p.id);
    let park = NewDelivery {
        proposal: funded,
        community: community.clone(),
        title: "口袋公园与休憩座椅".into(),
        kind: WorkKind::ResidentProject,
        site: place(serde_json::json!({ "type": "Polygon", "coordinates": [[
            [lng - 0.0003, lat - 0.0002], [lng + 0.0002, lat - 0.0002], [lng + 0.0002, lat + 0.0001],
            [lng - 0.0003, lat + 0.0001], [lng - 0.0003, lat - 0.0002]
        ]] }))?,
        budget_cents: 12_000_000,
        window: window(-30, 40),
    };
    let delivery = store.start_delivery(CITY, &park, actor).await?;
    let params = BundleParams::default();
    let items: Vec<_> = store
        .renewal_items(CITY, &community)
        .await?
        .into_iter()
        .filter(|(_, b)| b.is_none())
        .map(|(i, _)| i)
        .collect();
    if let Some(bundle) = find_bundles(&items, &params)
        .into_iter()
        .find(|b| b.items.contains(&ItemRef::Delivery(delivery)))
    {
        store.accept_bundle(CITY, &community, &bundle, &params, actor).await?;
    }
    let design = store
        .add_milestone(CITY, delivery, "设计方案公示", day(-20), actor)
        .await?;
    store
        .complete_milestone(CITY, delivery, design, day(-21), actor)
        .await?;
    store
        .add_milestone(CITY, delivery, "场地清理与平整", day(-3), actor)
        .await?;
    store
        .add_milestone(CITY, delivery, "绿化种植与座椅安装", day(2), actor)
        .await?;
    store.add_milestone(CITY, delivery, "居民验收", day(40), actor).await?;
    store
        .record_spending(CITY, delivery, 3_000_000, "设计与场地清理", day(-15), actor)
        .await?;
    let name = store
        .person(CITY, resident.person_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_else(|| "居民".into());
    let contributions = [
        Contribution {
            contributor: name,
            kind: ContributorKind::Resident,
            person: Some(resident.person_id.0),
            organisation: None,
            hours_tenths: 60,
            money_cents: 0,
            materials: String::new(),
            date: day(-12),
        },
        Contribution {
            contributor: "楼栋志愿服务队".into(),
            kind: ContributorKind::Organisation,
            person: None,
            organisation: None,
            hours_tenths: 240,
            money_cents: 0,
            materials: String::new(),
            date: day(-10),
        },
        Contribution {
            contributor: "沿街商户联合会".into(),
            kind: ContributorKind::Organisation,
            person: None,
            organisation: None,
            hours_tenths: 0,
            money_cents: 500_000,
            materials: "花苗 200 株".into(),
            date: day(-8),
        },
    ];
    for c in &contributions {
        store.add_contribution(CITY, delivery, c, actor).await?;
    }
    store
        .add_upkeep(
            CITY,
            delivery,
            "楼栋志愿服务队",
            "口袋公园绿化浇水与座椅清洁",
            30,
            day(-1),
            actor,
        )
        .await?;
    store.supervise_milestones(CITY, today()).await?;
    Ok(())
}
