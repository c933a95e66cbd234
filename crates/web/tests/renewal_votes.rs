//! Micro-renewal proposals, council and participatory-budget votes over HTTP: the amendment
//! flow and the diff, a meeting with and without quorum, votes (twice, outside the period,
//! ineligible, rule violations refused), paper ballots entered twice, receipts, secrecy, and the
//! `.pb` round trip with a bad file refused by line.

use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::org::Role;
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::prelude::*;
use gongzhi_store::{NewPerson, TokenKind};
use gongzhi_testkit::{demo_hash, small_demo, TestApp};
use serde_json::{json, Value};

fn community() -> String {
    small_demo().grids[0].community.to_string()
}

/// `n` verified residents of the demo's first community with API tokens.
async fn residents(app: &TestApp, prefix: &str, n: usize) -> Vec<(i64, String)> {
    let city = gongzhi_demo::CITY;
    let scope = Scope::Division(DivisionCode::parse(&community()).unwrap());
    let mut out = Vec::new();
    for i in 0..n {
        let username = format!("{prefix}{i}");
        let id = app
            .db
            .store
            .create_person(
                city,
                &NewPerson {
                    name: format!("居民{i}"),
                    phone: None,
                    org: None,
                    grants: vec![Grant {
                        role: Role::Resident,
                        scope: scope.clone(),
                    }],
                    account: Some((username.clone(), demo_hash(gongzhi_demo::DEMO_PASSWORD))),
                },
                None,
            )
            .await
            .unwrap();
        let account = app.db.store.account(&username).await.unwrap().unwrap();
        let token = app
            .db
            .store
            .issue_token(&account, TokenKind::Api, &format!("secret-{username}"), 3_600_000)
            .await
            .unwrap();
        out.push((id.0, token));
    }
    out
}

fn site() -> Value {
    let g = &small_demo().grids[0];
    let c = geo::Centroid::centroid(&g.geometry).unwrap();
    json!({"type": "Point", "coordinates": [c.x(), c.y()]})
}

async fn proposal(app: &TestApp, token: &str, title: &str, cents: i64) -> i64 {
    let (s, v) = app
        .send(
            "POST",
            "/api/renewal/proposals",
            Some(token),
            json!({"community": community(), "title": title, "description": "第一行\n第二行\n第三行",
                   "site": site(), "items": [{"item": "施工", "cents": cents}],
                   "offers": [{"who": "3号楼居民", "kind": "labour", "gives": "周末义务劳动", "hours": 40}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// A council of `n` members and a meeting with `agenda`, attended by `present` of them.
async fn meeting(app: &TestApp, staff: &str, agenda: &[i64], n: usize, present: usize) -> i64 {
    let c = community();
    let kinds = [
        "resident_representative",
        "planner",
        "property_manager",
        "community_committee",
        "department_liaison",
    ];
    let mut members = Vec::new();
    let (_, now) = app
        .get(&format!("/api/renewal/communities/{c}/council"), Some(staff))
        .await;
    let existing = now["members"].as_array().map(|a| a.len()).unwrap_or(0);
    for i in existing..n {
        let (s, v) = app
            .send(
                "POST",
                &format!("/api/renewal/communities/{c}/council/members"),
                Some(staff),
                json!({"name": format!("委员{i}"), "kind": kinds[i % kinds.len()]}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let (_, now) = app
        .get(&format!("/api/renewal/communities/{c}/council"), Some(staff))
        .await;
    for m in now["members"].as_array().unwrap() {
        members.push(m["id"].as_i64().unwrap());
    }
    let (s, v) = app
        .send(
            "POST",
            "/api/renewal/meetings",
            Some(staff),
            json!({"community": c, "title": "议事会第一次会议", "quorum": {"num": 1, "den": 2}, "agenda": agenda}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/meetings/{id}/record"),
            Some(staff),
            json!({"attendance": members[..present], "minutes": "会议讨论了议程上的方案。"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    id
}

async fn to_vote(app: &TestApp, staff: &str, proposals: &[i64]) {
    let m = meeting(app, staff, proposals, 5, 4).await;
    for p in proposals {
        let (s, v) = app
            .send(
                "POST",
                &format!("/api/renewal/meetings/{m}/decisions"),
                Some(staff),
                json!({"proposal": p, "decision": "to_vote", "reason": "多数支持"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn vote(app: &TestApp, staff: &str, proposals: &[i64], opens_in: i64, budget: i64) -> i64 {
    let (s, v) = app
        .send(
            "POST",
            "/api/renewal/votes",
            Some(staff),
            json!({"community": community(), "title": "2026 年微更新投票", "budget_cents": budget,
                   "opens_at": now_ms() + opens_in, "closes_at": now_ms() + opens_in + 3_600_000,
                   "ballot": {"kind": "approval", "min": 1, "max": 2}, "counting": "mes-add1",
                   "proposals": proposals.iter().map(|p| json!({"proposal": p})).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

fn projects(ids: &[i64]) -> Value {
    json!({"ballot": {"kind": "projects", "projects": ids.iter().map(|i| i.to_string()).collect::<Vec<_>>()}})
}

#[tokio::test]
async fn amendments_versions_and_diff() {
    let app = TestApp::spawn().await;
    let planner = app.token("planner").await;
    let people = residents(&app, "amender", 1).await;
    let resident = &people[0].1;
    let department = app.token("department").await;
    let id = proposal(&app, &planner, "口袋公园", 3_000_000).await;

    // A resident suggests adding a line and raising the budget.
    let changes = json!({"description": "第一行\n第二行\n增加无障碍坡道\n第三行",
                         "items": [{"item": "施工", "cents": 3_000_000}, {"item": "坡道", "cents": 400_000}]});
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/proposals/{id}/amendments"),
            Some(resident),
            json!({"base_version": 1, "changes": changes, "reason": "老人推车不便"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let a1 = v["id"].as_i64().unwrap();
    // Residents and staff discuss it (讨论); the comments are public with the proposal, each
    // also an event of its stream (checked below); an outsider, an empty or an overlong comment
    // is refused.
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/proposals/{id}/comments"),
            Some(resident),
            json!({"body": "座椅请做成有靠背的"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/proposals/{id}/comments"),
            Some(&planner),
            json!({"body": "好的，会在下一版加上"}),
        )
        .await;
    assert_eq!(s, 201);
    for (token, body, status) in [
        (&department, "路过看看", 403),
        (resident, "   ", 422),
        (resident, &"长".repeat(1001), 422),
    ] {
        let (s, v) = app
            .send(
                "POST",
                &format!("/api/renewal/proposals/{id}/comments"),
                Some(token),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(s, status, "{v}");
    }
    let (_, view) = app.get(&format!("/api/renewal/proposals/{id}"), None).await;
    let comments: Vec<&str> = view["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(comments, ["座椅请做成有靠背的", "好的，会在下一版加上"]);
    assert_eq!(view["comments"][0]["author"], people[0].0);

    // A department handler is not a resident of the community.
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/proposals/{id}/amendments"),
            Some(&department),
            json!({"base_version": 1, "changes": {"title": "x"}, "reason": "x"}),
        )
        .await;
    assert_eq!(s, 403);
    // A bad amendment (an empty title) is refused, naming the field.
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/proposals/{id}/amendments"),
            Some(resident),
            json!({"base_version": 1, "changes": {"title": ""}, "reason": "x"}),
        )
        .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().starts_with("title"), "{v}");
    // Only the author or the planner answers.
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/amendments/{a1}/answer"),
            Some(resident),
            json!({"accept": true}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/amendments/{a1}/answer"),
            Some(&planner),
            json!({"accept": true, "answer": "采纳"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new_version"], 2);
    // A second amendment rejected: the reason is required.
    let (_, v) = app
        .send(
            "POST",
            &format!("/api/renewal/proposals/{id}/amendments"),
            Some(resident),
            json!({"base_version": 2, "changes": {"title": "口袋公园（豪华版）"}, "reason": "更好看"}),
        )
        .await;
    let a2 = v["id"].as_i64().unwrap();
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/amendments/{a2}/answer"),
            Some(&planner),
            json!({"accept": false}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("answer"));
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/amendments/{a2}/answer"),
            Some(&planner),
            json!({"accept": false, "answer": "超出预算"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "rejected");

    let (s, v) = app.get(&format!("/api/renewal/proposals/{id}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["version"], 2);
    assert_eq!(v["budget_cents"], 3_400_000);
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    assert_eq!(v["versions"][1]["amendment"], a1);
    assert_eq!(v["amendments"][1]["answer"], "超出预算");

    let (s, d) = app
        .get(&format!("/api/renewal/proposals/{id}/diff?from=1&to=2"), None)
        .await;
    assert_eq!(s, 200);
    let fields: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["description", "items", "budget_cents"]);
    assert_eq!(d[0]["lines"][2], json!({"op": "added", "text": "增加无障碍坡道"}));
    assert_eq!(d[2]["before"], 3_000_000);
    assert_eq!(d[2]["after"], 3_400_000);

    // A design attachment: a new version; its bytes come back.
    let pdf = b"%PDF-1.4 design".to_vec();
    let r = app
        .client
        .post(app.url(&format!("/api/renewal/proposals/{id}/attachments?name=平面图.pdf")))
        .bearer_auth(&planner)
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .client
        .post(app.url(&format!("/api/renewal/proposals/{id}/attachments?name=x.png")))
        .bearer_auth(&planner)
        .header("content-type", "image/png")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .client
        .get(app.url(&format!("/api/renewal/proposals/{id}/attachments/0")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    let events = app
        .db
        .store
        .events(gongzhi_demo::CITY, &format!("renewal-proposal:{id}"))
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "proposal_created",
            "amendment_suggested",
            "comment_added",
            "comment_added",
            "amendment_accepted",
            "amendment_suggested",
            "amendment_rejected",
            "proposal_revised"
        ]
    );
}

#[tokio::test]
async fn council_decides_only_with_quorum() {
    let app = TestApp::spawn().await;
    let planner = app.token("planner").await;
    let resident = app.token("resident").await;
    let p = proposal(&app, &planner, "路灯", 500_000).await;
    // 1 of 4 present, quorum 1/2: no decision.
    let m = meeting(&app, &planner, &[p], 4, 1).await;
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/meetings/{m}/decisions"),
            Some(&planner),
            json!({"proposal": p, "decision": "to_vote"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("below the quorum"), "{v}");
    // 3 present (of 4, or 5 with the demo council): the quorum holds.
    let (_, council) = app
        .get(
            &format!("/api/renewal/communities/{}/council", community()),
            Some(&planner),
        )
        .await;
    let ids: Vec<i64> = council["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/meetings/{m}/record"),
            Some(&planner),
            json!({"attendance": ids[..3]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["standing"]["met"], true);
    // Positions only of present members.
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/meetings/{m}/positions"),
            Some(&planner),
            json!({"member": ids[3], "proposal": p, "stance": "object", "reason": "x"}),
        )
        .await;
    assert_eq!(s, 422);
    for (i, stance) in [(0, "support"), (1, "abstain")] {
        let (s, v) = app
            .send(
                "POST",
                &format!("/api/renewal/meetings/{m}/positions"),
                Some(&planner),
                json!({"member": ids[i], "proposal": p, "stance": stance, "reason": "理由"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/meetings/{m}/decisions"),
            Some(&planner),
            json!({"proposal": p, "decision": "to_vote", "reason": "支持多数"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["decisions"][0]["decision"], "to_vote");
    let (_, pv) = app.get(&format!("/api/renewal/proposals/{p}"), None).await;
    assert_eq!(pv["status"], "to_vote");
    // Minutes: the community's residents see them, others do not.
    let (s, v) = app.get(&format!("/api/renewal/meetings/{m}"), Some(&resident)).await;
    assert_eq!(s, 200);
    assert_eq!(v["minutes"], "会议讨论了议程上的方案。");
    assert_eq!(v["positions"].as_array().unwrap().len(), 2);
    let department = app.token("department").await;
    let (s, _) = app.get(&format!("/api/renewal/meetings/{m}"), Some(&department)).await;
    assert_eq!(s, 403);
    // A resident cannot call meetings.
    let (s, _) = app
        .send(
            "POST",
            "/api/renewal/meetings",
            Some(&resident),
            json!({"community": community(), "title": "x", "agenda": [p]}),
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn votes_paper_ballots_receipts_secrecy_and_pb() {
    let app = TestApp::spawn().await;
    let planner = app.token("planner").await;
    let admin = app.token("admin").await;
    let department = app.token("department").await;
    let p1 = proposal(&app, &planner, "口袋公园", 400_000).await;
    let p2 = proposal(&app, &planner, "路灯", 300_000).await;
    let p3 = proposal(&app, &planner, "座椅", 200_000).await;
    // Not yet sent to the vote: refused.
    let (s, v) = app
        .send(
            "POST",
            "/api/renewal/votes",
            Some(&planner),
            json!({"community": community(), "title": "t", "budget_cents": 600_000, "opens_at": 0, "closes_at": 1,
                   "ballot": {"kind": "approval", "min": 1, "max": 2}, "counting": "greedy", "proposals": [{"proposal": p1}]}),
        )
        .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("council"), "{v}");
    to_vote(&app, &planner, &[p1, p2, p3]).await;
    let open = vote(&app, &planner, &[p1, p2, p3], -1_000, 600_000).await;
    let later = vote(&app, &planner, &[p1, p2, p3], 3_600_000, 600_000).await;
    let copy = vote(&app, &planner, &[p1, p2, p3], -1_000, 600_000).await;

    let voters = residents(&app, "voter", 9).await;
    let mut receipts = Vec::new();
    let choices: [&[i64]; 7] = [&[p1], &[p1, p3], &[p2], &[p1, p2], &[p3], &[p1], &[p2, p3]];
    for ((_, t), c) in voters.iter().zip(choices) {
        let (s, v) = app
            .send(
                "POST",
                &format!("/api/renewal/votes/{open}/ballot"),
                Some(t),
                projects(c),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        receipts.push(v["receipt"].as_str().unwrap().to_owned());
    }
    // Twice: refused.
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/ballot"),
            Some(&voters[0].1),
            projects(&[p2]),
        )
        .await;
    assert_eq!(s, 409);
    assert!(v["message"].as_str().unwrap().contains("already voted"), "{v}");
    // Outside the period: refused.
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{later}/ballot"),
            Some(&voters[0].1),
            projects(&[p2]),
        )
        .await;
    assert_eq!(s, 409);
    assert!(v["message"].as_str().unwrap().contains("not opened"), "{v}");
    // Not eligible: refused.
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/ballot"),
            Some(&department),
            projects(&[p2]),
        )
        .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("verified residents"), "{v}");
    // Rule violations: refused, nothing stored.
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/ballot"),
            Some(&voters[7].1),
            projects(&[p1, p2, p3]),
        )
        .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("between 1 and 2"), "{v}");
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/ballot"),
            Some(&voters[7].1),
            projects(&[]),
        )
        .await;
    assert_eq!(s, 422);

    // Paper ballot: entered by the planner, confirmed by another staff account.
    let voter8 = voters[8].0;
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/paper"),
            Some(&voters[7].1),
            json!({"voter": voter8, "ballot": {"kind": "projects", "projects": [p3.to_string()]}}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/paper"),
            Some(&planner),
            json!({"voter": voter8, "ballot": {"kind": "projects", "projects": [p3.to_string(), p2.to_string()]}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let paper = v["receipt"].as_str().unwrap().to_owned();
    let (_, r) = app
        .get(&format!("/api/renewal/votes/{open}/receipts/{paper}"), None)
        .await;
    assert_eq!(r["status"], "pending");
    // The voter cannot vote again online.
    let (s, _) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/ballot"),
            Some(&voters[8].1),
            projects(&[p1]),
        )
        .await;
    assert_eq!(s, 409);
    let confirm = format!("/api/renewal/votes/{open}/paper/{paper}/confirm");
    let (s, v) = app.send("POST", &confirm, Some(&planner), projects(&[p2, p3])).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("another staff member"));
    let (s, v) = app.send("POST", &confirm, Some(&admin), projects(&[p2])).await;
    assert_eq!(s, 409);
    assert!(v["message"].as_str().unwrap().contains("differs"), "{v}");
    let (s, v) = app.send("POST", &confirm, Some(&admin), projects(&[p2, p3])).await;
    assert_eq!(s, 200, "{v}");
    receipts.push(paper.clone());

    // Receipts: each shows its ballot, counted; an unknown one is 404.
    let (s, r) = app
        .get(&format!("/api/renewal/votes/{open}/receipts/{}", receipts[1]), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["status"], "counted");
    assert_eq!(r["ballot"]["projects"], json!([p1.to_string(), p3.to_string()]));
    let mut keys: Vec<&String> = r.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["ballot", "channel", "receipt", "status"]);
    let (s, _) = app
        .get(&format!("/api/renewal/votes/{open}/receipts/AAAA-BBBB-CCCC"), None)
        .await;
    assert_eq!(s, 404);

    // No results, no ballots before the close.
    let (s, _) = app.get(&format!("/api/renewal/votes/{open}/results"), None).await;
    assert_eq!(s, 409);
    let (s, _) = app.get(&format!("/api/renewal/votes/{open}.pb"), None).await;
    assert_eq!(s, 409);
    let (s, v) = app.get(&format!("/api/renewal/votes/{open}"), Some(&voters[0].1)).await;
    assert_eq!(s, 200);
    assert_eq!(v["turnout"]["voted"], 8);
    assert_eq!(v["turnout"]["counted"], 8);
    assert_eq!(v["has_voted"], true);

    let (s, count) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{open}/close"),
            Some(&planner),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{count}");
    assert_eq!(count["ballots"], 8);
    let funded: Vec<String> = count["funded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    for p in count["projects"].as_array().unwrap() {
        assert!(!p["explanation"]["en"].as_str().unwrap().is_empty());
    }
    let (s, results) = app
        .get(&format!("/api/renewal/votes/{open}/results?rule=greedy"), None)
        .await;
    assert_eq!(s, 200);
    // Greedy: p1 4 votes (4000), p2 4 votes (3000), p3 4 votes (2000): all tie, by id p1 then p2
    // does not fit (7000 > 6000), p3 fits.
    assert_eq!(results["funded"], json!([p1.to_string(), p3.to_string()]));
    let (_, f) = app.get(&format!("/api/renewal/votes/{open}/funded"), None).await;
    let fp: Vec<String> = f
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["proposal"].to_string())
        .collect();
    assert_eq!(fp, funded);
    let (_, pv) = app.get(&format!("/api/renewal/proposals/{}", funded[0]), None).await;
    assert_eq!(pv["status"], "funded");
    let csv = app
        .client
        .get(app.url(&format!("/api/renewal/votes/{open}/results.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("口袋公园") && csv.lines().count() == 4, "{csv}");
    let xlsx = app
        .client
        .get(app.url(&format!("/api/renewal/votes/{open}/results.xlsx")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(xlsx.starts_with(b"PK"));

    // The .pb export: voter ids are receipts; it imports into another vote and counts the same.
    let pb = app
        .client
        .get(app.url(&format!("/api/renewal/votes/{open}.pb")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let votes_at = pb.lines().position(|l| l == "VOTES").unwrap();
    let mut ids: Vec<String> = pb
        .lines()
        .skip(votes_at + 2)
        .map(|l| l.split(';').next().unwrap().to_owned())
        .collect();
    ids.sort();
    receipts.sort();
    assert_eq!(ids, receipts);
    for (person, _) in &voters {
        assert!(!ids.contains(&person.to_string()));
    }
    let import = |body: String| {
        app.client
            .post(app.url(&format!("/api/renewal/votes/{copy}/import")))
            .bearer_auth(&planner)
            .body(body)
            .send()
    };
    // A bad file: a ballot with three projects, refused with its line; nothing stored.
    let bad = pb.replacen(&format!(";{p1}\n"), &format!(";{p1},{p2},{p3}\n"), 1);
    let bad_line = bad
        .lines()
        .position(|l| l.ends_with(&format!(";{p1},{p2},{p3}")))
        .unwrap()
        + 1;
    let r = import(bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["details"][0]["line"], bad_line, "{v}");
    assert!(
        v["message"].as_str().unwrap().starts_with(&format!("line {bad_line}:")),
        "{v}"
    );
    let r = import("META\nkey;value\nbudget;x\n".into()).await.unwrap();
    assert_eq!(r.status(), 422);
    let (_, cv) = app.get(&format!("/api/renewal/votes/{copy}"), None).await;
    assert_eq!(cv["turnout"]["counted"], 0);
    let r = import(pb.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["added"].as_array().unwrap().len(), ids.len(), "{first}");
    // Issue 20: the same file again is keyed by voter id: nothing doubled, no event.
    let (_, cv) = app.get(&format!("/api/renewal/votes/{copy}"), None).await;
    let counted = cv["turnout"]["counted"].clone();
    let stream_events = || async {
        app.db
            .store
            .events(gongzhi_demo::CITY, &format!("renewal-vote:{copy}"))
            .await
            .unwrap()
            .len()
    };
    let events_before = stream_events().await;
    let r = import(pb.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(
        (
            again["added"].clone(),
            again["updated"].clone(),
            again["unchanged"].as_array().unwrap().len()
        ),
        (json!([]), json!([]), ids.len()),
        "{again}"
    );
    let (_, cv) = app.get(&format!("/api/renewal/votes/{copy}"), None).await;
    assert_eq!(cv["turnout"]["counted"], counted, "no ballot doubled");
    assert_eq!(stream_events().await, events_before, "no event for an unchanged import");
    // A voter id twice in one file: refused naming both lines; nothing stored.
    let votes_line = pb.lines().position(|l| l == "VOTES").unwrap() + 1;
    let first_voter = pb.lines().nth(votes_line + 1).unwrap().to_owned();
    let dup = format!(
        "{}{first_voter}\n",
        if pb.ends_with('\n') {
            pb.clone()
        } else {
            format!("{pb}\n")
        }
    );
    let dup_line = dup.lines().count();
    let r = import(dup).await.unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["details"][0]["line"], dup_line, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains(&format!("line {}", votes_line + 2)),
        "{v}"
    );
    let (_, cv) = app.get(&format!("/api/renewal/votes/{copy}"), None).await;
    assert_eq!(cv["turnout"]["counted"], counted);
    assert_eq!(stream_events().await, events_before);
    let (s, c2) = app
        .send(
            "POST",
            &format!("/api/renewal/votes/{copy}/close"),
            Some(&planner),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{c2}");
    assert_eq!(c2["funded"], count["funded"]);
    assert_eq!(c2["ballots"], 8);

    // Secrecy: no answer about the vote names a voter with a ballot.
    let voter_ids: Vec<i64> = voters.iter().map(|v| v.0).collect();
    for path in [
        format!("/api/renewal/votes/{open}"),
        format!("/api/renewal/votes/{open}/results"),
        format!("/api/renewal/votes/{open}/funded"),
        format!("/api/renewal/votes/{open}/receipts/{}", receipts[0]),
        format!("/api/renewal/communities/{}/votes", community()),
    ] {
        let (s, v) = app.get(&path, Some(&admin)).await;
        assert_eq!(s, 200, "{path}");
        let text = v.to_string();
        for key in ["\"voter\"", "\"person\"", "\"person_id\""] {
            assert!(!text.contains(key), "{path} carries {key}: {text}");
        }
        let _ = &voter_ids;
    }
    let (_, pending) = app
        .get(&format!("/api/renewal/votes/{open}/paper"), Some(&planner))
        .await;
    assert_eq!(pending, json!([]));
}

#[tokio::test]
async fn pages_in_both_languages_and_forms() {
    let app = TestApp::spawn().await;
    let c = community();
    let page = |client: reqwest::Client, path: String| async move {
        let r = client.get(format!("http://{}{path}", app.addr)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    // The demo's hub: three proposals and a closed vote; the results page draws the chart.
    let (s, hub) = page(app.client.clone(), format!("/renewal/{c}/proposals")).await;
    assert_eq!(s, 200);
    assert!(
        hub.contains("口袋公园改造") && hub.contains("无障碍坡道与扶手"),
        "{hub}"
    );
    let (_, votes) = app.get(&format!("/api/renewal/communities/{c}/votes"), None).await;
    let vote = votes[0]["id"].as_i64().unwrap();
    assert_eq!(votes[0]["phase"], "closed");
    assert_eq!(votes[0]["turnout"]["counted"], 50);
    let (s, results) = page(app.client.clone(), format!("/renewal/{c}/votes/{vote}/results?lang=en")).await;
    assert_eq!(s, 200);
    assert!(
        results.contains("<svg class=\"chart bars\"") && results.contains("Funded"),
        "{results}"
    );
    let (_, proposals) = app.get(&format!("/api/renewal/communities/{c}/proposals"), None).await;
    let amended = proposals[1]["id"].as_i64().unwrap();
    assert_eq!(proposals[1]["version"], 2);
    let (s, p) = page(app.client.clone(), format!("/renewal/{c}/proposals/{amended}")).await;
    assert_eq!(s, 200);
    assert!(p.contains("+ 坡道旁设置休息座椅"), "{p}");

    // A resident amends through the form; the council page shows the minutes.
    let browser = app.browser("resident").await;
    let r = browser
        .post(app.url(&format!("/renewal/{c}/proposals")))
        .form(&[
            ("title", "垃圾分类亭"),
            ("description", "新建"),
            ("lon", "104.08"),
            ("lat", "30.66"),
            ("items", "亭子,12000.50"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let url = r.url().path().to_owned();
    assert!(url.starts_with(&format!("/renewal/{c}/proposals/")), "{url}");
    let body = r.text().await.unwrap();
    assert!(body.contains("12000.50"), "{body}");
    let r = browser
        .post(app.url(&format!("{url}/amend")))
        .form(&[
            ("title", "垃圾分类亭"),
            ("description", "新建\n加洗手池"),
            ("items", "亭子,12000.50"),
            ("reason", "方便清洗"),
        ])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("方便清洗") && body.contains("待答复"), "{body}");
    // A comment through the form shows in the discussion; an empty one comes back refused.
    let r = browser
        .post(app.url(&format!("{url}/comments")))
        .form(&[("body", "建议亭子朝南，避开风口")])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("建议亭子朝南，避开风口"), "{body}");
    let r = browser
        .post(app.url(&format!("{url}/comments")))
        .form(&[("body", "  ")])
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("write a comment of 1 to 1000 characters"));
    // A bad form comes back with the message on the page, nothing stored.
    let r = browser
        .post(app.url(&format!("/renewal/{c}/proposals")))
        .form(&[
            ("title", "x"),
            ("description", "x"),
            ("lon", "x"),
            ("lat", "30"),
            ("items", "亭子,abc"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("is not an amount in yuan"));
    let (_, after) = app.get(&format!("/api/renewal/communities/{c}/proposals"), None).await;
    assert_eq!(after.as_array().unwrap().len(), 4);
    let (s, council) = page(browser.clone(), format!("/renewal/{c}/council")).await;
    assert_eq!(s, 200);
    assert!(council.contains("议事会讨论了三个微更新方案"), "{council}");
    let department = app.browser("department").await;
    let (s, _) = page(department, format!("/renewal/{c}/council")).await;
    assert_eq!(s, 403);
    // The closed vote's page: no ballot form, the receipt check finds nothing for a wrong code.
    let (s, v) = page(
        browser.clone(),
        format!("/renewal/{c}/votes/{vote}?receipt=AAAA-BBBB-CCCC"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!v.contains("id=\"ballot\"") && !v.contains("receipt-status"), "{v}");
}

/// A `datetime-local` value in Beijing time, `hours` from now.
fn beijing_local(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8 + hours))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Staff forms on the pages: a vote set up on the hub (a bad form comes back with its message,
/// nothing stored), a paper ballot entered on the vote page and confirmed by another staff member
/// (the same account is refused, on the page), the vote closed, and the funded proposal's
/// delivery project started from the results page.
#[tokio::test]
async fn staff_set_up_a_vote_take_paper_ballots_close_and_deliver_on_the_pages() {
    let app = TestApp::spawn().await;
    let c = community();
    let grid = small_demo().grids[0].code.to_string();
    let planner_token = app.token("planner").await;
    let p1 = proposal(&app, &planner_token, "健身角", 400_000).await;
    let p2 = proposal(&app, &planner_token, "自行车棚", 300_000).await;
    let p3 = proposal(&app, &planner_token, "未上会的方案", 100_000).await;
    to_vote(&app, &planner_token, &[p1, p2]).await;
    let voter = residents(&app, "paper", 1).await[0].0;
    let planner = app.browser("planner").await;
    let street = app.browser("street.admin").await;
    let resident = app.browser("resident").await;
    let text = |r: reqwest::Response| async move { (r.url().clone(), r.text().await.unwrap()) };

    // The hub: the set-up form for staff, with the proposals sent to the vote only.
    let (_, hub) = text(
        planner
            .get(app.url(&format!("/renewal/{c}/proposals")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(hub.contains("id=\"vote-setup\""), "{hub}");
    assert!(hub.contains(&format!("name=\"proposal\" value=\"{p1}\"")));
    assert!(!hub.contains(&format!("name=\"proposal\" value=\"{p3}\"")));
    assert!(hub.contains(&format!("name=\"share_{grid}\"")));
    let (_, hub) = text(
        resident
            .get(app.url(&format!("/renewal/{c}/proposals")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!hub.contains("id=\"vote-setup\""));

    let (opens, closes) = (beijing_local(-1), beijing_local(48));
    let area = format!("area_{p1}");
    let share = format!("share_{grid}");
    let (p1s, p2s) = (p1.to_string(), p2.to_string());
    let setup = |closes_at: &str, budget: &str| {
        vec![
            ("title", "健身与停车投票".to_owned()),
            ("budget", budget.to_owned()),
            ("opens_at", opens.clone()),
            ("closes_at", closes_at.to_owned()),
            ("proposal", p1s.clone()),
            ("proposal", p2s.clone()),
            (area.as_str(), grid.clone()),
            ("rule", "approval".to_owned()),
            ("min", "1".to_owned()),
            ("max", "2".to_owned()),
            ("counting", "greedy".to_owned()),
            ("exclusive", format!("{p1}，{p2}")),
            (share.as_str(), "50".to_owned()),
        ]
    };
    let votes_now = || async {
        let (_, v) = app.get(&format!("/api/renewal/communities/{c}/votes"), None).await;
        v.as_array().unwrap().len()
    };
    let before = votes_now().await;
    // Bad forms come back to the hub with the message; nothing is stored.
    for (form, message) in [
        (setup(&opens, "5000"), "closes_at"),
        (setup(&closes, "五千"), "is not an amount in yuan"),
    ] {
        let r = planner
            .post(app.url(&format!("/renewal/{c}/votes")))
            .form(&form)
            .send()
            .await
            .unwrap();
        let (url, html) = text(r).await;
        assert!(
            url.path().ends_with("/proposals") && html.contains(message),
            "{url} {html}"
        );
    }
    assert_eq!(votes_now().await, before);
    // A resident may not set up a vote.
    let r = resident
        .post(app.url(&format!("/renewal/{c}/votes")))
        .form(&setup(&closes, "5000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = planner
        .post(app.url(&format!("/renewal/{c}/votes")))
        .form(&setup(&closes, "5000"))
        .send()
        .await
        .unwrap();
    let (url, page) = text(r).await;
    let vote: i64 = url
        .path()
        .strip_prefix(&format!("/renewal/{c}/votes/"))
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("{url}: {page}"));
    let (_, v) = app.get(&format!("/api/renewal/votes/{vote}"), None).await;
    assert_eq!(v["phase"], "open", "{v}");
    assert_eq!(v["setup"]["budget_cents"], 500_000);
    assert_eq!(v["setup"]["ballot"], json!({"kind": "approval", "min": 1, "max": 2}));
    assert_eq!(v["setup"]["counting"], "greedy");
    assert_eq!(v["setup"]["projects"][0]["area"], grid.as_str());
    assert_eq!(v["setup"]["projects"][1]["area"], Value::Null);
    assert_eq!(v["setup"]["exclusive"], json!([[p1s, p2s]]));
    assert_eq!(v["setup"]["area_shares"], json!([{"area": grid, "num": 1, "den": 2}]));
    let closes_ms = v["setup"]["closes_at"].as_i64().unwrap();
    assert!(
        (closes_ms - now_ms() - 48 * 3_600_000).abs() < 120_000,
        "Beijing time: {v}"
    );

    // A paper ballot entered by the planner: a receipt, pending until confirmed.
    assert!(
        page.contains("id=\"paper-form\"") && page.contains(&format!("value=\"{voter}\"")),
        "{page}"
    );
    let vote_path = format!("/renewal/{c}/votes/{vote}");
    let r = resident
        .post(app.url(&format!("{vote_path}/paper")))
        .form(&[("voter", voter.to_string()), ("project", p1s.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = planner
        .post(app.url(&format!("{vote_path}/paper")))
        .form(&[
            ("voter", voter.to_string()),
            ("project", p1s.clone()),
            ("project", p2s.clone()),
        ])
        .send()
        .await
        .unwrap();
    let (url, html) = text(r).await;
    assert!(
        html.contains("exclude each other"),
        "the exclusive set holds: {url} {html}"
    );
    let r = planner
        .post(app.url(&format!("{vote_path}/paper")))
        .form(&[("voter", voter.to_string()), ("project", p1s.clone())])
        .send()
        .await
        .unwrap();
    let (url, html) = text(r).await;
    let receipt = url
        .query_pairs()
        .find(|(k, _)| k == "paper")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{url}: {html}"));
    assert!(html.contains("id=\"paper-receipt\"") && html.contains(&receipt));
    assert!(html.contains("id=\"pending-paper\"") && html.contains(&format!("/paper/{receipt}/confirm")));
    assert!(!html.contains(&format!("value=\"{voter}\"")), "the voter has voted now");
    let (_, r) = app
        .get(&format!("/api/renewal/votes/{vote}/receipts/{receipt}"), None)
        .await;
    assert_eq!(r["status"], "pending");

    // The same account may not confirm; a different entry is refused; the same entry counts.
    let confirm = app.url(&format!("{vote_path}/paper/{receipt}/confirm"));
    let (url, html) = text(
        planner
            .post(&confirm)
            .form(&[("project", p1s.clone())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        html.contains("another staff member") && html.contains("class=\"error\""),
        "{url} {html}"
    );
    let (_, html) = text(
        street
            .post(&confirm)
            .form(&[("project", p2s.clone())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(html.contains("differs from the first"), "{html}");
    let (_, html) = text(
        street
            .post(&confirm)
            .form(&[("project", p1s.clone())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        html.contains("id=\"receipt-status\"") && html.contains("已计入"),
        "{html}"
    );
    assert!(!html.contains("id=\"pending-paper\""), "{html}");
    let (_, r) = app
        .get(&format!("/api/renewal/votes/{vote}/receipts/{receipt}"), None)
        .await;
    assert_eq!(r["status"], "counted");

    // Close from the page: the results; then the funded proposal's delivery from the results.
    let (url, html) = text(
        planner
            .post(app.url(&format!("{vote_path}/close")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(url.path().ends_with("/results"), "{url} {html}");
    assert!(html.contains("id=\"deliver-form\""), "{html}");
    let (_, pv) = app.get(&format!("/api/renewal/proposals/{p1}"), None).await;
    assert_eq!(pv["status"], "funded");
    let (_, html) = text(planner.get(app.url(&vote_path)).send().await.unwrap()).await;
    assert!(!html.contains("id=\"paper-form\"") && !html.contains("id=\"close-form\""));
    let deliver = app.url(&format!("{vote_path}/deliveries"));
    let window = [("from", "2027-03-01"), ("to", "2027-06-30")];
    let (url, html) = text(resident.post(&deliver).form(&window).send().await.unwrap()).await;
    assert!(url.query().unwrap_or("").contains("error="), "{url} {html}");
    let (url, html) = text(planner.post(&deliver).form(&window).send().await.unwrap()).await;
    assert!(
        url.query() == Some("started=1") && html.contains("id=\"started\""),
        "{url} {html}"
    );
    let (_, deliveries) = app.get(&format!("/api/renewal/deliveries?community={c}"), None).await;
    let ours: Vec<&Value> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["proposal"] == p1)
        .collect();
    assert_eq!(ours.len(), 1, "{deliveries}");
    assert_eq!(ours[0]["window"]["from"], "2027-03-01");
    let link = format!("/renewal/{c}/deliveries/{}", ours[0]["id"]);
    assert!(html.contains(&link), "the results link the delivery: {html}");
    let (url, _) = text(planner.post(&deliver).form(&window).send().await.unwrap()).await;
    assert_eq!(url.query(), Some("started=0"), "nothing is started twice");
}
