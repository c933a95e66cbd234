//! The demo's micro-renewal proposals, council and vote in the first community: three
//! proposals by the community planner (one amended by a resident), a council of five that sends
//! them to the vote, and a closed participatory-budget vote with 50 residents' ballots.

use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::decision::ballot::{Ballot, BallotRule};
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::gridteam::{Category, Need};
use gongzhi_core::org::Role;
use gongzhi_core::renewal::council::{Decision, MemberKind, Quorum, Stance};
use gongzhi_core::renewal::proposal::{Content, LineItem, Offer, OfferKind, Patch};
use gongzhi_core::renewal::vote::{VoteProject, VoteSetup};
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::council::{DecisionRow, NewMeeting, PositionRow};
use gongzhi_store::renewal::proposals::NewProposal;
use gongzhi_store::{now_ms, NewPerson, Store, StoreError};

use crate::{Demo, CITY};

/// Residents who vote in the demo's vote.
pub const VOTERS: usize = 50;

/// Title, description, budget lines and offers of a demo proposal.
type Spec = (&'static str, &'static str, Vec<(&'static str, i64)>, Vec<Offer>);

pub async fn load(store: &Store, demo: &Demo) -> Result<(), StoreError> {
    let (Some(planner), Some(resident)) = (store.account("planner").await?, store.account("resident").await?) else {
        return Ok(());
    };
    let Some(grid) = demo.grids.first() else {
        return Ok(());
    };
    let community = grid.community.to_string();
    let centre = geo::Centroid::centroid(&grid.geometry)
        .map(|c| (c.x(), c.y()))
        .unwrap_or((104.08, 30.66));
    let point = |dx: f64, dy: f64| serde_json::json!({"type": "Point", "coordinates": [centre.0 + dx, centre.1 + dy]});
    let specs: [Spec; 3] = [
        (
            "口袋公园改造",
            "拆除废弃车棚\n铺设透水铺装\n种植乡土树种\n增设座椅",
            vec![
                ("拆除与清运", 3_000_000),
                ("透水铺装", 8_000_000),
                ("绿化种植", 4_000_000),
                ("座椅", 3_000_000),
            ],
            vec![Offer {
                who: "3号楼居民志愿队".into(),
                kind: OfferKind::Labour,
                gives: "周末参与种植与日常浇水".into(),
                hours: Some(120),
                cents: None,
            }],
        ),
        (
            "无障碍坡道与扶手",
            "单元门口加设坡道\n楼梯加装扶手",
            vec![("坡道", 3_500_000), ("扶手", 2_500_000)],
            vec![],
        ),
        (
            "夜间照明提升",
            "更换老旧路灯\n背街小巷增设太阳能灯",
            vec![("路灯更换", 5_000_000), ("太阳能灯", 4_000_000)],
            vec![Offer {
                who: "物业公司".into(),
                kind: OfferKind::Upkeep,
                gives: "灯具日常维护三年".into(),
                hours: None,
                cents: None,
            }],
        ),
    ];
    // Each proposal answers the community's biggest cluster of its category.
    let needs: std::collections::HashMap<i64, Category> = store
        .community_needs(CITY, &community)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.id, r.body_as::<Need>().ok()?.category)))
        .collect();
    let clusters = store.renewal_clusters(CITY, &community, false).await?;
    let cluster_of = |category: Category| {
        clusters
            .iter()
            .max_by_key(|c| {
                (
                    c.needs.iter().filter(|n| needs.get(n) == Some(&category)).count(),
                    -c.id,
                )
            })
            .filter(|c| c.needs.iter().any(|n| needs.get(n) == Some(&category)))
            .map(|c| c.id)
    };
    let categories = [Category::PublicSpace, Category::Accessibility, Category::Lighting];
    let mut ids = Vec::new();
    for (i, (title, description, items, offers)) in specs.into_iter().enumerate() {
        let content = Content {
            title: title.into(),
            description: description.into(),
            site: point(0.0005 * i as f64, 0.0003 * i as f64),
            items: items
                .into_iter()
                .map(|(item, cents)| LineItem {
                    item: item.into(),
                    cents,
                })
                .collect(),
            offers,
            attachments: vec![],
        };
        ids.push(
            store
                .create_proposal(
                    CITY,
                    &NewProposal {
                        community: community.clone(),
                        cluster: cluster_of(categories[i]),
                        content,
                    },
                    planner.person_id,
                )
                .await?,
        );
    }
    // A resident's amendment to the ramps, accepted by the planner.
    let amendment = store
        .suggest_amendment(
            CITY,
            ids[1],
            1,
            &Patch {
                description: Some("单元门口加设坡道\n楼梯加装扶手\n坡道旁设置休息座椅".into()),
                items: Some(vec![
                    LineItem {
                        item: "坡道".into(),
                        cents: 3_500_000,
                    },
                    LineItem {
                        item: "扶手".into(),
                        cents: 2_500_000,
                    },
                    LineItem {
                        item: "休息座椅".into(),
                        cents: 600_000,
                    },
                ]),
                ..Patch::default()
            },
            "老人上坡后需要歇脚",
            resident.person_id,
        )
        .await?;
    store
        .answer_amendment(CITY, amendment, true, "采纳，增加休息座椅", planner.person_id)
        .await?;

    // The council sends all three to the vote.
    let kinds = [
        ("王秀英", MemberKind::ResidentRepresentative),
        ("李建国", MemberKind::ResidentRepresentative),
        ("张规划", MemberKind::Planner),
        ("物业赵经理", MemberKind::PropertyManager),
        ("居委会刘主任", MemberKind::CommunityCommittee),
    ];
    let mut members = Vec::new();
    for (name, kind) in kinds {
        members.push(
            store
                .add_council_member(CITY, &community, None, name, kind, planner.person_id)
                .await?,
        );
    }
    let meeting = store
        .create_meeting(
            CITY,
            &NewMeeting {
                community: community.clone(),
                title: "2026 年第一次社区议事会".into(),
                held_at: now_ms() - 10 * 86_400_000,
                quorum: Quorum { num: 2, den: 3 },
                agenda: ids.clone(),
            },
            planner.person_id,
        )
        .await?;
    store
        .record_meeting(
            CITY,
            meeting,
            Some(&members[..4]),
            Some("议事会讨论了三个微更新方案：口袋公园、无障碍坡道与扶手、夜间照明。与会委员一致同意提交居民投票。"),
            planner.person_id,
        )
        .await?;
    for (k, &p) in ids.iter().enumerate() {
        for (j, &m) in members[..4].iter().enumerate() {
            let stance = if (j + k) % 4 == 3 {
                Stance::Abstain
            } else {
                Stance::Support
            };
            store
                .record_position(
                    CITY,
                    meeting,
                    &PositionRow {
                        member: m,
                        proposal: p,
                        stance,
                        reason: "惠及居民多".into(),
                    },
                    planner.person_id,
                )
                .await?;
        }
        store
            .decide_proposal(
                CITY,
                meeting,
                &DecisionRow {
                    proposal: p,
                    decision: Decision::ToVote,
                    reason: "多数支持".into(),
                },
                planner.person_id,
            )
            .await?;
    }

    // 50 verified residents vote, then the vote is closed.
    let scope = Scope::Division(grid.community.clone());
    let people: Vec<NewPerson> = (0..VOTERS)
        .map(|i| NewPerson {
            name: format!("投票居民{:02}", i + 1),
            phone: None,
            org: None,
            grants: vec![Grant {
                role: Role::Resident,
                scope: scope.clone(),
            }],
            account: None,
        })
        .collect();
    let voters = store.create_people(CITY, &people, None).await?;
    let mut projects = Vec::new();
    for &id in &ids {
        let p = store.proposal(CITY, id).await?.expect("just created");
        projects.push(VoteProject {
            id: id.to_string(),
            proposal: Some(id),
            title: p.content.title.clone(),
            cost_cents: p.budget_cents,
            area: Some(grid.code.to_string()),
        });
    }
    let now = now_ms();
    let vote = store
        .create_vote(
            CITY,
            &VoteSetup {
                title: "2026 年社区微更新参与式预算".into(),
                community: community.clone(),
                budget_cents: 25_000_000,
                opens_at: now - 7 * 86_400_000,
                closes_at: now + 86_400_000,
                ballot: BallotRule::Approval { min: 1, max: 2 },
                counting: Rule::MesAdd1,
                projects,
                exclusive: vec![],
                area_shares: vec![],
            },
            planner.person_id,
        )
        .await?;
    let patterns: [&[usize]; 7] = [&[0], &[0, 1], &[1, 2], &[2], &[0, 2], &[1], &[0, 1]];
    for (i, &v) in voters.iter().enumerate() {
        let ballot = Ballot::Projects {
            projects: patterns[i % patterns.len()]
                .iter()
                .map(|&k| ids[k].to_string())
                .collect(),
        };
        store.cast_ballot(CITY, vote, v, &ballot).await?;
    }
    store.close_vote(CITY, vote, planner.person_id).await?;
    Ok(())
}
