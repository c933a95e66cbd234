//! The demo's generalist grid (全科网格): the first community's grids get a team, a
//! community-wide alliance (the party committee as core, the community committee taking part),
//! households in their units, needs, resources, and in the first grid a completed project, a
//! patrol, a visit, a meeting, volunteer service and points, so the pages have data.

use gongzhi_store::prelude::*;
use std::collections::HashMap;

use geo::InteriorPoint;
use gongzhi_core::gridteam::{
    self, Alliance, AllianceMember, AllianceRole, Category, Household, KeyGroup, Member, MemberRole, Need, NeedSource,
    Project, ProjectStatus, Resource, ResourceKind, Urgency,
};
use gongzhi_store::{GridList, NewRecord, Store, StoreError};

use crate::{Demo, CITY};

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn record(list: GridList, area: &str, status: &str, person: Option<i64>, body: serde_json::Value) -> NewRecord {
    NewRecord {
        list,
        area: area.to_owned(),
        status: status.to_owned(),
        person,
        body,
    }
}

/// Write the first community's grid-team data. `orgs` maps the demo's organisation keys to ids.
pub async fn load(store: &Store, demo: &Demo, orgs: &HashMap<String, i64>) -> Result<(), StoreError> {
    let Some(first) = demo.grids.first() else { return Ok(()) };
    let community = first.community.to_string();
    let person = |u: &'static str| async move { Ok::<_, StoreError>(store.account(u).await?.map(|a| a.person_id)) };
    let (Some(worker), Some(head), Some(resident)) = (
        person("gridworker").await?,
        person("gridhead").await?,
        person("resident").await?,
    ) else {
        return Ok(());
    };
    let party = orgs[&format!("party:{community}")];
    let committee = orgs[&format!("community:{community}")];
    let rules = gridteam::parse_rules(gridteam::DEFAULT_RULES_CSV)?;
    let alliance = Alliance {
        name: "社区党建联盟 (一核多元)".into(),
        members: vec![
            AllianceMember {
                organisation: party,
                role: AllianceRole::Lead,
                commitment: "统筹网格治理".into(),
            },
            AllianceMember {
                organisation: committee,
                role: AllianceRole::Participant,
                commitment: "提供活动场地与助餐".into(),
            },
        ],
    };
    let mut rs = vec![record(GridList::Alliances, &community, "active", None, json(&alliance))];
    let mut first_need = None;
    let mut first_resource = None;
    for (i, g) in demo.grids.iter().filter(|g| g.community == first.community).enumerate() {
        let code = g.code.to_string();
        let Some(c) = g.geometry.interior_point() else { continue };
        let mut team = vec![Member {
            person: head.0,
            role: MemberRole::GridHead,
            commitment: "每月召开网格议事会".into(),
        }];
        if i == 0 {
            team.push(Member {
                person: worker.0,
                role: MemberRole::GridWorker,
                commitment: "每周巡查三次、走访重点人群".into(),
            });
            team.push(Member {
                person: resident.0,
                role: MemberRole::Volunteer,
                commitment: "每月助老服务4小时".into(),
            });
        }
        for m in &team {
            rs.push(record(
                GridList::Members,
                &code,
                m.role.as_str(),
                Some(m.person),
                json(m),
            ));
        }
        let units: Vec<String> = demo
            .premises
            .units
            .iter()
            .filter(|u| {
                demo.premises
                    .buildings
                    .iter()
                    .any(|b| b.code == u.building && b.grid.as_ref().is_some_and(|x| x.as_str() == code))
            })
            .take(2)
            .map(|u| u.code.clone())
            .collect();
        for (k, unit) in units.iter().enumerate() {
            let h = Household {
                unit: unit.clone(),
                head: ["张秀英", "刘建国"][k % 2].into(),
                size: [1, 3][k % 2],
                key_groups: if k == 0 { vec![KeyGroup::ElderlyAlone] } else { vec![] },
            };
            rs.push(record(GridList::Households, &code, "registered", None, json(&h)));
        }
        let needs = [
            (
                Category::ElderlyCare,
                "独居老人每日助餐",
                Urgency::High,
                NeedSource::Visit,
                2,
            ),
            (
                Category::Repair,
                "老旧楼道扶手松动需维修",
                Urgency::Normal,
                NeedSource::Resident,
                1,
            ),
            (
                Category::Lighting,
                "小区后门路灯不亮",
                Urgency::Normal,
                NeedSource::Meeting,
                1,
            ),
        ];
        for (k, (category, text, urgency, source, quantity)) in needs.into_iter().enumerate() {
            let n = Need {
                category,
                text: text.into(),
                lng: c.x() + 0.0004 * k as f64,
                lat: c.y(),
                area: None,
                urgency,
                source,
                raised_by: Some(if source == NeedSource::Resident {
                    resident.0
                } else {
                    worker.0
                }),
                household: None,
                group: None,
                quantity,
                evidence: Vec::new(),
            };
            rs.push(record(GridList::Needs, &code, "open", n.raised_by, json(&n)));
            if i == 0 && k == 0 {
                first_need = Some(rs.len() - 1);
            }
        }
        let resources = [
            (
                "社区长者食堂",
                ResourceKind::Services,
                vec![Category::ElderlyCare],
                committee,
                20,
            ),
            (
                "党员维修志愿队",
                ResourceKind::VolunteerHours,
                vec![Category::Repair],
                party,
                40,
            ),
        ];
        for (k, (title, kind, categories, org, capacity)) in resources.into_iter().enumerate() {
            let r = Resource {
                title: title.into(),
                kind,
                categories,
                organisation: Some(org),
                person: None,
                lng: c.x() - 0.0005,
                lat: c.y() + 0.0003 * k as f64,
                reach_m: 1500.0,
                capacity,
                windows: vec![],
            };
            rs.push(record(GridList::Resources, &code, "available", None, json(&r)));
            if i == 0 && k == 0 {
                first_resource = Some(rs.len() - 1);
            }
        }
    }
    let ids = store.add_grid_records(CITY, &rs, None).await?;
    let (Some(n), Some(r)) = (first_need, first_resource) else {
        return Ok(());
    };
    let grid = first.code.to_string();
    // The demo's first project is the engine's own proposal, with its reason in both languages.
    let record_of = |list, id| async move {
        store
            .grid_record(CITY, list, id)
            .await?
            .ok_or_else(|| StoreError::Unavailable(format!("demo {list:?} {id} vanished")))
    };
    let need = gongzhi_store::gridteam::need_facts(&record_of(GridList::Needs, ids[n]).await?)?;
    let resource = gongzhi_store::gridteam::resource_facts(&record_of(GridList::Resources, ids[r]).await?)?;
    let fit = gridteam::assess(&need, &resource, gongzhi_core::calendar::china_today())
        .map_err(|m| StoreError::Unavailable(format!("the demo's first match does not fit: {m}")))?;
    let project = Project {
        title: "独居老人助餐".into(),
        need: ids[n],
        resource: ids[r],
        quantity: need.quantity,
        reason: fit.reason(),
        reason_zh: Some(fit.reason_zh()),
        outcome: None,
        participants: vec![],
    };
    let p = store.confirm_match(CITY, &project, Some(worker)).await?;
    store
        .finish_project(
            CITY,
            p,
            ProjectStatus::Completed,
            "每日送餐已落实",
            &[resident.0, worker.0],
            &rules,
            Some(worker),
        )
        .await?;
    let household = rs
        .iter()
        .zip(&ids)
        .find(|(x, _)| x.list == GridList::Households && x.area == grid)
        .map(|(_, id)| *id);
    // A planned patrol route round the grid's centre, walked once so far.
    let (x, y) = first.geometry.interior_point().map_or((0.0, 0.0), |p| (p.x(), p.y()));
    let route = gridteam::PatrolRoute {
        name: "楼道—消防通道—井盖环线".into(),
        path: serde_json::json!({ "type": "LineString", "coordinates": [
            [x - 0.0008, y - 0.0005], [x + 0.0008, y - 0.0005], [x + 0.0008, y + 0.0005], [x - 0.0008, y + 0.0005]
        ] }),
        per_week: 3,
        worker: Some(worker.0),
    };
    let route_id = store
        .add_grid_record(
            CITY,
            &record(GridList::Routes, &grid, "active", Some(worker.0), json(&route)),
            None,
        )
        .await?;
    let mut more = vec![
        record(
            GridList::Patrols,
            &grid,
            "logged",
            Some(worker.0),
            serde_json::json!({ "planned_route": route_id, "route": route.path, "note": "例行巡查：楼道、消防通道、井盖", "cases": [] }),
        ),
        record(
            GridList::Activities,
            &grid,
            "meeting",
            Some(head.0),
            serde_json::json!({ "kind": "meeting", "title": "网格议事会：助餐与路灯", "date": "2026-11-20", "attendance": [resident, worker] }),
        ),
        record(
            GridList::Volunteering,
            &grid,
            "recorded",
            Some(resident.0),
            serde_json::json!({ "person": resident, "hours": 2, "date": "2026-11-21", "note": "陪同独居老人就医" }),
        ),
    ];
    if let Some(h) = household {
        more.push(record(GridList::Visits, &grid, "follow_up", Some(worker.0), serde_json::json!({ "household": h, "note": "老人行动不便，希望有人送餐", "follow_up": "对接长者食堂", "follow_ups": [] })));
    }
    let more_ids = store.add_grid_records(CITY, &more, Some(worker)).await?;
    let activity = format!("activity:{}", more_ids[1]);
    store
        .award_points(
            CITY,
            &[resident.0, worker.0],
            "activity_attended",
            1,
            &activity,
            &rules,
            Some(head),
        )
        .await?;
    store
        .award_points(
            CITY,
            &[resident.0],
            "volunteer_hour",
            2,
            &format!("volunteering:{}", more_ids[2]),
            &rules,
            Some(worker),
        )
        .await?;
    Ok(())
}
