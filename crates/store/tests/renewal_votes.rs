//! Storage of micro-renewal proposals, the council and votes, on SQLite (and PostgreSQL when
//! GONGZHI_TEST_DATABASE is set): versions and amendments, the quorum, secret ballots with
//! receipts, paper ballots entered twice, and the funded proposals of a closed vote.

use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::decision::ballot::{Ballot, BallotRule};
use gongzhi_core::decision::pb::Rule;
use gongzhi_core::gridteam::{Category, Need, NeedSource, Urgency};
use gongzhi_core::ids::PersonId;
use gongzhi_core::org::Role;
use gongzhi_core::renewal::council::{Decision, MemberKind, Quorum};
use gongzhi_core::renewal::proposal::{Content, LineItem, Patch, ProposalStatus};
use gongzhi_core::renewal::vote::{VoteProject, VoteSetup};
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::prelude::*;
use gongzhi_store::renewal::council::{DecisionRow, NewMeeting};
use gongzhi_store::renewal::proposals::NewProposal;
use gongzhi_store::{now_ms, GridList, NewPerson, NewRecord, Store, StoreError};
use gongzhi_testkit::fresh_db;

const CITY: CityCode = CityCode::of("510100");
const COMMUNITY: &str = "510104017001";

fn content(title: &str, cents: i64) -> Content {
    Content {
        title: title.into(),
        description: "一\n二".into(),
        site: serde_json::json!({"type": "Point", "coordinates": [104.08, 30.66]}),
        items: vec![LineItem {
            item: "施工".into(),
            cents,
        }],
        offers: vec![],
        attachments: vec![],
    }
}

async fn person(s: &Store, role: Role, community: &str) -> PersonId {
    s.create_person(
        CITY,
        &NewPerson {
            name: "某人".into(),
            phone: None,
            org: None,
            grants: vec![Grant {
                role,
                scope: Scope::Division(DivisionCode::parse(community).unwrap()),
            }],
            account: None,
        },
        None,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn proposals_council_and_secret_votes() {
    let db = fresh_db().await;
    let s = &db.store;
    let planner = person(s, Role::CommunityPlanner, COMMUNITY).await;
    let residents = [
        person(s, Role::Resident, COMMUNITY).await,
        person(s, Role::Resident, COMMUNITY).await,
        person(s, Role::Resident, COMMUNITY).await,
    ];
    let outsider = person(s, Role::Resident, "510104017002").await;
    assert_eq!(
        s.electorate(CITY, COMMUNITY).await.unwrap(),
        residents.iter().map(|r| r.0).collect::<Vec<_>>()
    );

    // A proposal answers a cluster of its community's needs.
    let need = Need {
        category: Category::Lighting,
        text: "路灯不亮".into(),
        lng: 104.08,
        lat: 30.66,
        area: None,
        urgency: Urgency::Normal,
        source: NeedSource::Resident,
        raised_by: Some(residents[0].0),
        household: None,
        group: None,
        quantity: 1,
        evidence: Vec::new(),
    };
    let need = s
        .add_grid_record(
            CITY,
            &NewRecord {
                list: GridList::Needs,
                area: format!("{COMMUNITY}001"),
                status: "open".into(),
                person: Some(residents[0].0),
                body: serde_json::to_value(&need).unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    let cluster = s
        .refresh_clusters(CITY, COMMUNITY, &[], &[("路灯不亮".into(), vec![need])], None)
        .await
        .unwrap()[0];
    for (community, cluster) in [(COMMUNITY, cluster + 1000), ("510104017002", cluster)] {
        let refused = s
            .create_proposal(
                CITY,
                &NewProposal {
                    community: community.into(),
                    cluster: Some(cluster),
                    content: content("A", 400_000),
                },
                planner,
            )
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Invalid(e)) if e.to_string().contains("cluster")),
            "{refused:?}"
        );
    }
    let a = s
        .create_proposal(
            CITY,
            &NewProposal {
                community: COMMUNITY.into(),
                cluster: Some(cluster),
                content: content("A", 400_000),
            },
            planner,
        )
        .await
        .unwrap();
    let b = s
        .create_proposal(
            CITY,
            &NewProposal {
                community: COMMUNITY.into(),
                cluster: None,
                content: content("B", 300_000),
            },
            planner,
        )
        .await
        .unwrap();
    // An amendment against version 1, accepted: version 2.
    let am = s
        .suggest_amendment(
            CITY,
            a,
            1,
            &Patch {
                title: Some("A+".into()),
                ..Patch::default()
            },
            "更清楚",
            residents[0],
        )
        .await
        .unwrap();
    let answered = s.answer_amendment(CITY, am, true, "好", planner).await.unwrap();
    assert_eq!(answered.new_version, Some(2));
    assert!(matches!(
        s.answer_amendment(CITY, am, false, "x", planner).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.proposal(CITY, a).await.unwrap().unwrap().content.title, "A+");
    assert_eq!(s.proposal_diff(CITY, a, 1, 2).await.unwrap()[0].field, "title");
    assert!(matches!(
        s.revise_proposal(CITY, a, 1, &content("stale", 1), planner).await,
        Err(StoreError::Conflict(_))
    ));

    // The council: 3 members, 1 present of quorum 2/3 refuses; 2 present decides.
    let mut members = Vec::new();
    for k in [
        MemberKind::ResidentRepresentative,
        MemberKind::Planner,
        MemberKind::PropertyManager,
    ] {
        members.push(
            s.add_council_member(CITY, COMMUNITY, None, "委员", k, planner)
                .await
                .unwrap(),
        );
    }
    let m = s
        .create_meeting(
            CITY,
            &NewMeeting {
                community: COMMUNITY.into(),
                title: "议事会".into(),
                held_at: now_ms(),
                quorum: Quorum { num: 2, den: 3 },
                agenda: vec![a, b],
            },
            planner,
        )
        .await
        .unwrap();
    s.record_meeting(CITY, m, Some(&members[..1]), Some("纪要"), planner)
        .await
        .unwrap();
    let d = |p| DecisionRow {
        proposal: p,
        decision: Decision::ToVote,
        reason: "同意".into(),
    };
    assert!(matches!(
        s.decide_proposal(CITY, m, &d(a), planner).await,
        Err(StoreError::Conflict(_))
    ));
    s.record_meeting(CITY, m, Some(&members[..2]), None, planner)
        .await
        .unwrap();
    for p in [a, b] {
        assert!(s.decide_proposal(CITY, m, &d(p), planner).await.unwrap().met);
    }
    assert_eq!(
        s.proposal(CITY, b).await.unwrap().unwrap().status,
        ProposalStatus::ToVote
    );

    // A vote: one ballot each, secret, paper entered twice.
    let project = |id: i64, cents| VoteProject {
        id: id.to_string(),
        proposal: Some(id),
        title: id.to_string(),
        cost_cents: cents,
        area: None,
    };
    let setup = VoteSetup {
        title: "投票".into(),
        community: COMMUNITY.into(),
        budget_cents: 500_000,
        opens_at: now_ms() - 1000,
        closes_at: now_ms() + 3_600_000,
        ballot: BallotRule::Approval { min: 1, max: 1 },
        counting: Rule::Greedy,
        projects: vec![project(a, 400_000), project(b, 300_000)],
        exclusive: vec![],
        area_shares: vec![],
    };
    let v = s.create_vote(CITY, &setup, planner).await.unwrap();
    let choose = |p: i64| Ballot::Projects {
        projects: vec![p.to_string()],
    };
    let r0 = s.cast_ballot(CITY, v, residents[0], &choose(b)).await.unwrap();
    s.cast_ballot(CITY, v, residents[1], &choose(b)).await.unwrap();
    assert!(matches!(
        s.cast_ballot(CITY, v, residents[0], &choose(a)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.cast_ballot(CITY, v, outsider, &choose(a)).await,
        Err(StoreError::Invalid(_))
    ));
    let paper = s
        .enter_paper_ballot(CITY, v, residents[2], &choose(a), planner)
        .await
        .unwrap();
    assert!(matches!(
        s.confirm_paper_ballot(CITY, v, &paper, &choose(a), planner).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.turnout(CITY, v).await.unwrap().counted, 2);
    s.confirm_paper_ballot(CITY, v, &paper, &choose(a), residents[0])
        .await
        .unwrap();
    assert_eq!(s.receipt(CITY, v, &r0).await.unwrap().unwrap().status, "counted");
    let ballots = s.ballots(CITY, v).await.unwrap();
    assert_eq!(ballots.len(), 3);
    assert!(ballots.iter().all(|(r, _)| r.len() == 14));

    assert!(matches!(
        s.funded_proposals(CITY, v).await,
        Err(StoreError::Conflict(_))
    ));
    let count = s.close_vote(CITY, v, planner).await.unwrap();
    // Greedy: B has 2 votes (3000 of 5000), A 1 vote (4000 no longer fits).
    assert_eq!(count.funded, [b.to_string()]);
    let funded = s.funded_proposals(CITY, v).await.unwrap();
    assert_eq!(funded.len(), 1);
    assert_eq!((funded[0].proposal, funded[0].budget_cents), (b, 300_000));
    assert_eq!(
        s.proposal(CITY, a).await.unwrap().unwrap().status,
        ProposalStatus::NotFunded
    );
    // Every change is an event; the ballot events carry no ballot.
    let events = s.events(CITY, &format!("renewal-vote:{v}")).await.unwrap();
    let cast: Vec<_> = events.iter().filter(|e| e.kind == "ballot_cast").collect();
    assert_eq!(cast.len(), 2);
    assert!(cast
        .iter()
        .all(|e| e.payload == serde_json::json!({"channel": "online"})));
}
