//! The whole micro-renewal chain (社区微更新全流程) in one community over the real HTTP API, the
//! acceptance of issue 11: 30 residents raise 60+ needs (seven problems, each phrased several
//! ways a few metres apart, and a few others) → staff cluster them, rename one cluster and merge
//! a stray need's cluster → three proposals from clusters, one amended (one amendment accepted,
//! one rejected) → a council meeting sends them to the vote → 50 residents vote online and one
//! on paper → the winners under each counting rule → the funded proposals become delivery
//! projects, one merged with a department's road works → contributions, milestones, upkeep and
//! acceptance → the community's indicators.
//!
//! It runs in the demo's last community, which holds no demo renewal data, so every list and
//! every indicator is checked against numbers computed by hand here.

use gongzhi_store::prelude::*;
use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use geo::{BoundingRect, Contains};
use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::org::Role;
use gongzhi_core::territory::DivisionCode;
use gongzhi_store::{NewPerson, TokenKind};
use gongzhi_testkit::{demo_hash, small_demo, TestApp};
use serde_json::{json, Value};

/// Residents who raise needs (R0–R29); R30–R49 vote too; R50 votes on paper.
const RAISERS: usize = 30;
const ONLINE_VOTERS: usize = 50;

/// A problem at one place: its category, where it is (an offset in degrees from the grid's
/// centre) and the ways residents put it.
struct Problem {
    category: &'static str,
    place: (f64, f64),
    texts: &'static [&'static str],
}

// The places lie about 250 m apart: far beyond the clustering radius (150 m) and the bundles'
// buffer (50 m).
const LAMP: (f64, f64) = (0.0, 0.0);
const GATE: (f64, f64) = (0.0, 0.0025);
const RAMP: (f64, f64) = (0.0025, 0.0);
const GARDEN: (f64, f64) = (-0.0025, 0.0);
const CHARGING: (f64, f64) = (0.0, -0.0025);
const BINS: (f64, f64) = (0.0025, 0.0025);
const LANE: (f64, f64) = (-0.0025, -0.0025);
const SOUTH_EAST: (f64, f64) = (0.0025, -0.0025);
const NORTH_WEST: (f64, f64) = (-0.0025, 0.0025);

const LIGHTS: usize = 0;
const FLOODING: usize = 1;
const RAMPS: usize = 2;

const PROBLEMS: [Problem; 7] = [
    Problem {
        category: "lighting",
        place: LAMP,
        texts: &[
            "3号楼前路灯坏了，晚上一片漆黑",
            "3号楼前的照明灯不亮，夜里走路看不见",
            "晚上3号楼前太黑了，路灯一直不亮",
            "路灯不亮，3号楼前晚上很黑",
            "希望修一下3号楼前的路灯，晚上不亮",
            "3号楼前街灯损坏好几天了，夜间很暗",
            "3号楼门口路灯坏掉了，晚上回家看不清路",
            "3号楼前面的路灯不亮，老人晚上出门怕摔",
            "请尽快修理3号楼前的路灯",
            "3号楼前路边灯一直不亮，黑漆漆的",
        ],
    },
    Problem {
        category: "drainage",
        place: GATE,
        texts: &[
            "北门一下雨就积水，出行困难",
            "下雨天北门内涝严重",
            "北门路面积水排不出去",
            "北门雨水口堵塞，雨后水淹路面",
            "雨后北门积水很深，需要疏通",
            "北门每次下大雨都淹水",
            "北门下水道堵了，一下雨就积水",
            "北门积水严重，雨后出行困难",
            "希望解决北门雨后积水问题",
            "北门排水沟太小，雨天路面积水",
        ],
    },
    Problem {
        category: "accessibility",
        place: RAMP,
        texts: &[
            "5号楼单元门口台阶太高，轮椅上不去，需要坡道",
            "5号楼缺少无障碍坡道",
            "老人坐轮椅出门难，5号楼建个坡道",
            "5号楼门口加装无障碍通道",
            "5号楼台阶没有坡道，推轮椅很难",
            "希望5号楼修无障碍坡道",
            "5号楼单元门前需要坡道，婴儿车推不上去",
            "5号楼入口只有台阶，建议加坡道",
            "5号楼轮椅进出不便，请修坡道",
        ],
    },
    Problem {
        category: "play_space",
        place: GARDEN,
        texts: &[
            "中心花园缺少儿童游乐设施，孩子没地方玩",
            "孩子放学没地方玩，中心花园建个游乐场吧",
            "中心花园希望增加滑梯秋千等儿童游乐设施",
            "中心花园儿童游乐区太小，孩子玩不开",
            "给中心花园的小朋友建游乐设施",
            "中心花园需要儿童游乐场地",
            "中心花园的滑滑梯坏了，孩子没地方玩",
            "希望在中心花园添置儿童游乐设施",
            "中心花园没有给孩子玩的地方",
        ],
    },
    Problem {
        category: "charging",
        place: CHARGING,
        texts: &[
            "7号楼电动车没有地方充电，只能飞线",
            "7号楼需要安装电瓶车充电桩",
            "希望在7号楼建充电站，电动车充电难",
            "7号楼充电设施不够，大家私拉电线给电动车充电",
            "电动车充电桩太少，7号楼排队充电",
            "7号楼增设电动车充电桩",
            "7号楼楼下电单车充电难",
            "7号楼飞线充电很危险，需要充电桩",
            "7号楼电动车充电插座不够用",
        ],
    },
    Problem {
        category: "waste_point",
        place: BINS,
        texts: &[
            "2号楼垃圾桶太少，垃圾经常满出来",
            "2号楼的垃圾箱天天爆满",
            "垃圾桶不够用，2号楼垃圾堆在地上",
            "2号楼需要增加垃圾桶",
            "2号楼垃圾桶满溢没人清理",
            "希望2号楼多放几个垃圾桶",
            "2号楼垃圾箱太少，夏天满出来很臭",
            "2号楼垃圾桶每天都满溢",
        ],
    },
    Problem {
        category: "parking",
        place: LANE,
        texts: &[
            "西侧车辆乱停放，消防通道被堵",
            "西侧汽车乱停堵住消防通道",
            "消防通道经常被西侧乱停的私家车占用",
            "西侧乱停车，车堵在消防通道上",
            "西侧乱停车问题严重，消防通道不通",
            "西侧车辆乱停，消防车进不来",
            "西侧消防通道被乱停车占满",
        ],
    },
];

struct Chain {
    app: TestApp,
    community: String,
    /// The last grid's code and the centre of its bounding box.
    grid: String,
    centre: (f64, f64),
    /// Demo staff: the community planner, the administrator (the second staff account for
    /// paper ballots), the department's handler and its organisation.
    planner: String,
    admin: String,
    department: String,
    org: i64,
    /// A verified resident of another community (the demo's `resident`).
    outsider: String,
    /// R0–R50: verified residents of the community (person id, API token).
    people: Vec<(i64, String)>,
    /// Verified residents of the community before the test added its own.
    residents_before: usize,
}

impl Chain {
    async fn start() -> Chain {
        let app = TestApp::spawn().await;
        let g = small_demo().grids.last().expect("the demo has grids");
        let r = g.geometry.bounding_rect().expect("a grid has an extent");
        let community = g.community.to_string();
        let planner = app.token("planner").await;
        let admin = app.token("admin").await;
        let department = app.token("department").await;
        let outsider = app.token("resident").await;
        let (_, me) = app.get("/api/me", Some(&department)).await;
        let org = me["grants"][0]["scope"]["value"]
            .as_i64()
            .expect("the handler's organisation");
        let residents_before = app
            .db
            .store
            .electorate(gongzhi_demo::CITY, &community)
            .await
            .unwrap()
            .len();
        let mut chain = Chain {
            app,
            community,
            grid: g.code.to_string(),
            centre: ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0),
            planner,
            admin,
            department,
            org,
            outsider,
            people: Vec::new(),
            residents_before,
        };
        chain.people = chain.residents(ONLINE_VOTERS + 1).await;
        chain
    }

    /// `n` verified residents of the community (a Resident grant on it) with API tokens.
    async fn residents(&self, n: usize) -> Vec<(i64, String)> {
        let store = &self.app.db.store;
        let scope = Scope::Division(DivisionCode::parse(&self.community).unwrap());
        let mut out = Vec::new();
        for i in 0..n {
            let username = format!("chain{i}");
            let id = store
                .create_person(
                    gongzhi_demo::CITY,
                    &NewPerson {
                        name: format!("链居民{i:02}"),
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
            let account = store.account(&username).await.unwrap().unwrap();
            let token = store
                .issue_token(&account, TokenKind::Api, &format!("chain-secret-{i}"), 3_600_000)
                .await
                .unwrap();
            out.push((id.0, token));
        }
        out
    }

    fn r(&self, i: usize) -> &str {
        &self.people[i].1
    }

    fn id(&self, i: usize) -> i64 {
        self.people[i].0
    }

    /// A point at `place`, moved `j` steps of about 3 m so that paraphrases are not on one spot.
    fn at(&self, place: (f64, f64), j: usize) -> (f64, f64) {
        let step = 0.00003;
        let p = (
            self.centre.0 + place.0 + (j % 4) as f64 * step,
            self.centre.1 + place.1 + (j / 4) as f64 * step,
        );
        let g = small_demo().grids.last().unwrap();
        assert!(
            g.geometry.contains(&geo::Point::new(p.0, p.1)),
            "the test's place {place:?} lies outside grid {}: move it closer to the centre",
            g.code
        );
        p
    }

    fn site(&self, place: (f64, f64)) -> Value {
        let (x, y) = self.at(place, 0);
        json!({"type": "Point", "coordinates": [x, y]})
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let (s, v) = self.app.get(path, Some(token)).await;
        assert_eq!(s, 200, "GET {path} → {v}");
        v
    }

    /// A call expected to succeed with `status`.
    async fn ok(&self, status: u16, method: &str, path: &str, token: &str, body: Value) -> Value {
        let (s, v) = self.app.send(method, path, Some(token), body.clone()).await;
        assert_eq!(s, status, "{method} {path} {body} → {v}");
        v
    }

    /// A call expected to be refused with `status`, its message containing `words`.
    async fn refused(&self, status: u16, method: &str, path: &str, token: &str, body: Value, words: &str) {
        let (s, v) = self.app.send(method, path, Some(token), body.clone()).await;
        assert_eq!(s, status, "{method} {path} {body} → {v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{method} {path}: «{message}» lacks «{words}»");
    }

    async fn raise(&self, token: &str, category: &str, text: &str, (lng, lat): (f64, f64)) -> i64 {
        let path = format!("/api/renewal/communities/{}/needs", self.community);
        let v = self
            .ok(
                201,
                "POST",
                &path,
                token,
                json!({"category": category, "text": text, "lng": lng, "lat": lat}),
            )
            .await;
        v["id"].as_i64().unwrap()
    }
}

/// Today in Beijing, moved by `days`.
fn day(days: i64) -> NaiveDate {
    let t = gongzhi_web::api::renewal_works::today();
    if days >= 0 {
        t + Days::new(days as u64)
    } else {
        t - Days::new(days.unsigned_abs())
    }
}

/// num / den as the indicators write it: a percentage with two decimals, rounded half up.
fn percent(num: u128, den: u128) -> String {
    let v = (num * 10_000 * 2 + den) / (2 * den);
    format!("{}.{:02}%", v / 100, v % 100)
}

fn ids(v: &Value) -> BTreeSet<i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| match x {
            Value::String(s) => s.parse().unwrap(),
            other => other.as_i64().unwrap(),
        })
        .collect()
}

fn set(xs: &[i64]) -> BTreeSet<i64> {
    xs.iter().copied().collect()
}

fn kinds(history: &Value) -> Vec<String> {
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The needs raised in step 1.
struct Needs {
    /// Per problem, its needs (all raised by residents themselves).
    groups: Vec<Vec<i64>>,
    /// Per problem, the residents (indexes into `people`) who raised them.
    raisers: Vec<Vec<usize>>,
    /// The waterlogging at the north gate, filed under public space by R2.
    stray: i64,
    /// Two needs elsewhere (greening, facade).
    others: Vec<i64>,
    /// R45's need outside the renewal categories (elderly care).
    elderly: i64,
    /// Raised by staff at a visit on behalf of R6, for a registered household (a ramp).
    visit: i64,
}

/// Step 1: 30 residents raise 60+ needs; staff raise one at a visit for a household.
async fn raise_needs(c: &Chain) -> Needs {
    let mut groups = Vec::new();
    let mut raisers = Vec::new();
    let mut k = 0;
    for p in &PROBLEMS {
        let (mut g, mut who) = (Vec::new(), Vec::new());
        for (j, text) in p.texts.iter().enumerate() {
            // Need k is raised by resident k mod 30: nobody raises twice about one problem.
            let r = k % RAISERS;
            g.push(c.raise(c.r(r), p.category, text, c.at(p.place, j)).await);
            who.push(r);
            k += 1;
        }
        groups.push(g);
        raisers.push(who);
    }
    assert!(k >= 60, "{k} needs");
    let stray = c
        .raise(
            c.r(2),
            "public_space",
            "北门下雨积水，整个出入口都被水淹",
            c.at(GATE, 10),
        )
        .await;
    let others = vec![
        c.raise(c.r(3), "greening", "东南角的大树遮光，低楼层很暗", c.at(SOUTH_EAST, 0))
            .await,
        c.raise(
            c.r(4),
            "facade",
            "西北角外墙瓷砖脱落，砸到人很危险",
            c.at(NORTH_WEST, 0),
        )
        .await,
    ];
    let elderly = c
        .raise(c.r(45), "elderly_care", "独居老人希望每天有人送餐上门", c.at(LAMP, 12))
        .await;

    // A resident of another community is refused; so is a point outside this one.
    let path = format!("/api/renewal/communities/{}/needs", c.community);
    let (x, y) = c.at(LAMP, 0);
    let need = json!({"category": "lighting", "text": "3号楼前路灯不亮", "lng": x, "lat": y});
    c.refused(403, "POST", &path, &c.outsider, need, "verified residents")
        .await;
    let far = json!({"category": "lighting", "text": "3号楼前路灯不亮", "lng": x + 1.0, "lat": y});
    c.refused(422, "POST", &path, c.r(0), far, "outside community").await;

    // Staff meet R6 at a visit: the need is for a household registered in the grid.
    let g = small_demo().grids.last().unwrap();
    let unit = small_demo()
        .premises
        .units
        .iter()
        .find(|u| {
            small_demo()
                .premises
                .buildings
                .iter()
                .any(|b| b.code == u.building && b.grid.as_ref() == Some(&g.code))
        })
        .expect("the last grid has units")
        .code
        .clone();
    let household = c
        .ok(
            201,
            "POST",
            &format!("/api/grids/{}/households", c.grid),
            &c.planner,
            json!({"unit": unit, "head": "周桂兰", "size": 1, "key_groups": ["elderly_alone"]}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let (x, y) = c.at(RAMP, 9);
    let visit = c
        .ok(
            201,
            "POST",
            &path,
            &c.planner,
            json!({"category": "accessibility", "text": "5号楼独居老人坐轮椅，门口台阶上不去，需要坡道",
                   "lng": x, "lat": y, "source": "visit", "on_behalf_of": c.id(6), "household": household}),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // The needs list: staff see every need and its raiser; a resident sees who raised only
    // their own.
    let all = c.get(&path, &c.planner).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), k + 5, "every need of the community");
    let first = all.iter().find(|n| n["id"] == groups[LIGHTS][0]).unwrap();
    assert_eq!(first["raised_by"], c.id(0));
    assert_eq!(first["source"], "resident");
    let v = all.iter().find(|n| n["id"] == visit).unwrap();
    assert_eq!(
        (v["source"].as_str(), v["raised_by"].as_i64()),
        (Some("visit"), Some(c.id(6)))
    );
    let seen = c.get(&path, c.r(1)).await;
    for n in seen.as_array().unwrap() {
        let own = n["mine"] == true;
        assert_eq!(n["raised_by"] != Value::Null, own, "{n}");
    }
    assert_eq!(
        seen.as_array().unwrap().iter().filter(|n| n["mine"] == true).count(),
        3,
        "R1 raised three needs: a lamp, a play space and a parking one"
    );
    Needs {
        groups,
        raisers,
        stray,
        others,
        elderly,
        visit,
    }
}

/// The clusters after step 2: by problem, and the stray need's, merged into the flooding.
struct Clusters {
    of: Vec<i64>,
    stray: i64,
}

/// Step 2: staff cluster the needs; each problem is one cluster with the right backing; a
/// rename and a merge.
async fn integrate(c: &Chain, n: &Needs) -> Clusters {
    let refresh = format!("/api/renewal/communities/{}/clusters/refresh", c.community);
    c.refused(403, "POST", &refresh, c.r(0), json!({}), "staff").await;
    let run = c.ok(200, "POST", &refresh, &c.planner, json!({})).await;
    let list_path = format!("/api/renewal/communities/{}/clusters", c.community);
    let list = c.get(&list_path, c.r(20)).await;
    let list = list.as_array().unwrap().clone();
    let texts = c
        .get(&format!("/api/renewal/communities/{}/needs", c.community), &c.planner)
        .await;
    let text = |id: &Value| {
        texts.as_array().unwrap().iter().find(|n| n["id"] == *id).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let shown: Vec<Vec<String>> = list
        .iter()
        .map(|x| x["needs"].as_array().unwrap().iter().map(text).collect())
        .collect();
    // Seven problems; the stray need, the two others and the elderly-care one each alone.
    assert_eq!(list.len(), 11, "{shown:#?}");
    assert_eq!(run["created"].as_array().unwrap().len(), 11, "{run}");
    assert_eq!(run["clusters"], 11);
    let holding = |need: i64| {
        list.iter()
            .find(|x| x["needs"].as_array().unwrap().contains(&json!(need)))
            .unwrap_or_else(|| panic!("need {need} is in no cluster"))
            .clone()
    };
    let mut of = Vec::new();
    for (p, group) in n.groups.iter().enumerate() {
        let cl = holding(group[0]);
        let mut want = group.clone();
        if p == RAMPS {
            want.push(n.visit);
        }
        assert_eq!(
            ids(&cl["needs"]),
            set(&want),
            "problem {p} ({}) is one cluster of its paraphrases",
            PROBLEMS[p].category
        );
        let residents = n.raisers[p].iter().collect::<BTreeSet<_>>().len();
        // The visit's need is not a resident's own: it adds its household, not a resident.
        let households = residents + usize::from(p == RAMPS);
        assert_eq!(
            (cl["residents"].as_u64(), cl["households"].as_u64()),
            (Some(residents as u64), Some(households as u64)),
            "backing of problem {p}: {cl}"
        );
        assert_eq!(cl["categories"], json!([PROBLEMS[p].category]));
        of.push(cl["id"].as_i64().unwrap());
    }
    for single in [n.stray, n.others[0], n.others[1], n.elderly] {
        assert_eq!(holding(single)["needs"], json!([single]));
    }
    // Largest first.
    let sizes: Vec<usize> = list.iter().map(|x| x["needs"].as_array().unwrap().len()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");

    // A rename, with the version seen; the history and the list show it.
    let lights = of[LIGHTS];
    let detail = c.get(&format!("/api/renewal/clusters/{lights}"), &c.planner).await;
    let version = detail["cluster"]["version"].as_i64().unwrap();
    c.ok(
        204,
        "POST",
        &format!("/api/renewal/clusters/{lights}/rename"),
        &c.planner,
        json!({"name": "3号楼前路灯不亮", "version": version}),
    )
    .await;
    let detail = c.get(&format!("/api/renewal/clusters/{lights}"), c.r(0)).await;
    assert_eq!(kinds(&detail["history"]), ["cluster_created", "cluster_renamed"]);
    assert!(
        detail["history"][1]["payload"].to_string().contains("3号楼前路灯不亮"),
        "{detail}"
    );
    assert_eq!(detail["cluster"]["version"], version + 1);
    assert_eq!(detail["needs"].as_array().unwrap().len(), n.groups[LIGHTS].len());
    let list = c.get(&list_path, c.r(20)).await;
    let renamed = list.as_array().unwrap().iter().find(|x| x["id"] == lights).unwrap();
    assert_eq!(renamed["name"], "3号楼前路灯不亮");

    // The stray need (the same waterlogging, filed under public space) joins the flooding.
    let stray = holding(n.stray)["id"].as_i64().unwrap();
    let flooding = of[FLOODING];
    c.ok(
        204,
        "POST",
        &format!("/api/renewal/clusters/{flooding}/merge"),
        &c.planner,
        json!({"from": [stray], "reason": "同一处积水，居民选了公共空间类别"}),
    )
    .await;
    let list = c.get(&list_path, c.r(20)).await;
    assert_eq!(list.as_array().unwrap().len(), 10);
    let merged = list.as_array().unwrap().iter().find(|x| x["id"] == flooding).unwrap();
    let mut want = n.groups[FLOODING].clone();
    want.push(n.stray);
    assert_eq!(ids(&merged["needs"]), set(&want));
    assert_eq!(merged["residents"], n.groups[FLOODING].len() + 1, "R2 is a new backer");
    assert_eq!(merged["categories"], json!(["drainage", "public_space"]));
    let gone = c.get(&format!("/api/renewal/clusters/{stray}"), &c.planner).await;
    assert_eq!(gone["cluster"]["status"], "merged");
    assert_eq!(gone["cluster"]["merged_into"], flooding);
    Clusters { of, stray }
}

/// The three proposals (A funded by equal shares; B amended; C funded too).
struct Proposals {
    a: i64,
    b: i64,
    c: i64,
}

/// Step 3: proposals from clusters; B by a resident, amended once and an amendment rejected.
async fn propose(c: &Chain, cl: &Clusters) -> Proposals {
    let new = |title: &str, cluster: i64, place: (f64, f64), description: &str, items: Value| {
        json!({"community": c.community, "cluster": cluster, "title": title, "description": description,
               "site": c.site(place), "items": items})
    };
    let a = c
        .ok(
            201,
            "POST",
            "/api/renewal/proposals",
            &c.planner,
            new(
                "北门排水改造",
                cl.of[FLOODING],
                GATE,
                "疏通并扩容北门雨水管\n北门入口铺设透水铺装",
                json!([{"item": "雨水管扩容", "cents": 3_200_000}, {"item": "透水铺装", "cents": 1_800_000}]),
            ),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let mut b_input = new(
        "3号楼前路灯更新",
        cl.of[LIGHTS],
        LAMP,
        "更换3号楼前老旧路灯\n线路改造",
        json!([{"item": "路灯更换", "cents": 2_400_000}, {"item": "线路改造", "cents": 1_200_000}]),
    );
    b_input["offers"] = json!([{"who": "3号楼居民", "kind": "labour", "gives": "协助施工期间疏导行人", "hours": 20}]);
    let b = c.ok(201, "POST", "/api/renewal/proposals", c.r(0), b_input).await["id"]
        .as_i64()
        .unwrap();
    let cp = c
        .ok(
            201,
            "POST",
            "/api/renewal/proposals",
            &c.planner,
            new(
                "5号楼无障碍坡道",
                cl.of[RAMPS],
                RAMP,
                "5号楼单元门口加设坡道\n坡道两侧安装扶手",
                json!([{"item": "坡道", "cents": 2_200_000}, {"item": "扶手", "cents": 800_000}]),
            ),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    // A proposal answers an active cluster of its own community: not one that does not exist,
    // not the stray need's (merged), not one of the demo's first community.
    let first = small_demo().grids[0].community.to_string();
    let elsewhere = c
        .get(&format!("/api/renewal/communities/{first}/clusters"), &c.planner)
        .await[0]["id"]
        .as_i64()
        .expect("the demo's first community has clusters");
    for (cluster, words) in [
        (987_654_321, "does not exist".to_owned()),
        (cl.stray, format!("merged into cluster {}", cl.of[FLOODING])),
        (elsewhere, format!("community {first}")),
    ] {
        let wrong = new("x", cluster, RAMP, "x", json!([{"item": "x", "cents": 1}]));
        c.refused(422, "POST", "/api/renewal/proposals", &c.planner, wrong, &words)
            .await;
    }

    // R5 suggests two solar lamps; the author (R0) accepts: version 2.
    let amend = format!("/api/renewal/proposals/{b}/amendments");
    let a1 = c
        .ok(
            201,
            "POST",
            &amend,
            c.r(5),
            json!({"base_version": 1, "reason": "楼后小路也很黑",
                   "changes": {"description": "更换3号楼前老旧路灯\n线路改造\n增加两盏太阳能草坪灯",
                               "items": [{"item": "路灯更换", "cents": 2_400_000}, {"item": "线路改造", "cents": 1_200_000},
                                         {"item": "太阳能草坪灯", "cents": 400_000}]}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    c.refused(
        403,
        "POST",
        &format!("/api/renewal/amendments/{a1}/answer"),
        c.r(5),
        json!({"accept": true}),
        "author",
    )
    .await;
    let answered = c
        .ok(
            200,
            "POST",
            &format!("/api/renewal/amendments/{a1}/answer"),
            c.r(0),
            json!({"accept": true, "answer": "采纳"}),
        )
        .await;
    assert_eq!(
        (answered["status"].as_str(), answered["new_version"].as_i64()),
        (Some("accepted"), Some(2))
    );
    // R31 wants landscape lamps everywhere; the author rejects it, with a reason.
    let a2 = c
        .ok(
            201,
            "POST",
            &amend,
            c.r(31),
            json!({"base_version": 2, "reason": "更美观", "changes": {"title": "3号楼前路灯全部换成景观灯"}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let answer = format!("/api/renewal/amendments/{a2}/answer");
    c.refused(422, "POST", &answer, c.r(0), json!({"accept": false}), "answer")
        .await;
    let rejected = c
        .ok(
            200,
            "POST",
            &answer,
            c.r(0),
            json!({"accept": false, "answer": "景观灯超出预算"}),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");

    let (_, pb) = c.app.get(&format!("/api/renewal/proposals/{b}"), None).await;
    assert_eq!(
        (pb["version"].as_i64(), pb["budget_cents"].as_i64()),
        (Some(2), Some(4_000_000))
    );
    assert_eq!(
        pb["content"]["title"], "3号楼前路灯更新",
        "the rejected amendment changed nothing"
    );
    assert_eq!(pb["versions"][1]["amendment"], a1);
    assert_eq!(pb["amendments"][1]["answer"], "景观灯超出预算");
    let (s, diff) = c
        .app
        .get(&format!("/api/renewal/proposals/{b}/diff?from=1&to=2"), None)
        .await;
    assert_eq!(s, 200, "{diff}");
    let fields: Vec<&str> = diff
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["description", "items", "budget_cents"]);
    assert_eq!(
        diff[0]["lines"][2],
        json!({"op": "added", "text": "增加两盏太阳能草坪灯"})
    );
    assert_eq!(
        (diff[2]["before"].as_i64(), diff[2]["after"].as_i64()),
        (Some(3_600_000), Some(4_000_000))
    );

    // The community's proposals, each from its cluster.
    let (_, list) = c
        .app
        .get(&format!("/api/renewal/communities/{}/proposals", c.community), None)
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    let row = |id: i64| list.iter().find(|p| p["id"] == id).unwrap();
    for (id, cluster, version, budget) in [
        (a, cl.of[FLOODING], 1, 5_000_000),
        (b, cl.of[LIGHTS], 2, 4_000_000),
        (cp, cl.of[RAMPS], 1, 3_000_000),
    ] {
        let p = row(id);
        assert_eq!(
            (
                p["cluster"].as_i64(),
                p["version"].as_i64(),
                p["budget_cents"].as_i64(),
                p["status"].as_str()
            ),
            (Some(cluster), Some(version), Some(budget), Some("open")),
            "{p}"
        );
    }
    assert_eq!(row(b)["author"], c.id(0));
    Proposals { a, b, c: cp }
}

/// Step 4: a council of five (three linked to residents) meets with the three proposals on the
/// agenda, four attend, positions, all three sent to the vote; a resident reads the minutes.
async fn deliberate(c: &Chain, p: &Proposals) -> i64 {
    let members = format!("/api/renewal/communities/{}/council/members", c.community);
    let mut seats = Vec::new();
    for (name, kind, person) in [
        ("链居民02", "resident_representative", Some(c.id(2))),
        ("链居民35", "resident_representative", Some(c.id(35))),
        ("链居民03", "resident_representative", Some(c.id(3))),
        ("规划师", "planner", None),
        ("物业经理", "property_manager", None),
    ] {
        let v = c
            .ok(
                201,
                "POST",
                &members,
                &c.planner,
                json!({"name": name, "kind": kind, "person": person}),
            )
            .await;
        seats.push(v["id"].as_i64().unwrap());
    }
    c.refused(
        403,
        "POST",
        &members,
        c.r(2),
        json!({"name": "x", "kind": "planner"}),
        "planner",
    )
    .await;
    let meeting = c
        .ok(
            201,
            "POST",
            "/api/renewal/meetings",
            &c.planner,
            json!({"community": c.community, "title": "社区议事会：三个微更新方案", "agenda": [p.a, p.b, p.c]}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let minutes = "议事会讨论了北门排水、3号楼路灯和5号楼坡道三个方案，一致同意提交居民投票。";
    let present = [seats[0], seats[1], seats[3], seats[4]];
    let m = c
        .ok(
            200,
            "POST",
            &format!("/api/renewal/meetings/{meeting}/record"),
            &c.planner,
            json!({"attendance": present, "minutes": minutes}),
        )
        .await;
    assert_eq!(
        (
            m["standing"]["present"].as_u64(),
            m["standing"]["members"].as_u64(),
            m["standing"]["met"].as_bool()
        ),
        (Some(4), Some(5), Some(true)),
        "{m}"
    );
    let positions = format!("/api/renewal/meetings/{meeting}/positions");
    for (member, proposal, stance, reason) in [
        (seats[0], p.a, "support", "北门积水影响全体居民"),
        (seats[0], p.b, "support", "夜间安全"),
        (seats[1], p.b, "object", "路灯应由市政负责"),
        (seats[1], p.c, "support", "老人出行"),
        (seats[3], p.c, "abstain", "待设计深化"),
    ] {
        c.ok(
            200,
            "POST",
            &positions,
            &c.planner,
            json!({"member": member, "proposal": proposal, "stance": stance, "reason": reason}),
        )
        .await;
    }
    // The absent member takes no position.
    c.refused(
        422,
        "POST",
        &positions,
        &c.planner,
        json!({"member": seats[2], "proposal": p.a, "stance": "support"}),
        "not recorded as present",
    )
    .await;
    for proposal in [p.a, p.b, p.c] {
        c.ok(
            200,
            "POST",
            &format!("/api/renewal/meetings/{meeting}/decisions"),
            &c.planner,
            json!({"proposal": proposal, "decision": "to_vote", "reason": "多数委员支持"}),
        )
        .await;
    }
    for proposal in [p.a, p.b, p.c] {
        let (_, v) = c.app.get(&format!("/api/renewal/proposals/{proposal}"), None).await;
        assert_eq!(v["status"], "to_vote");
    }
    // Minutes: a resident of the community reads them; the department's handler does not.
    let seen = c.get(&format!("/api/renewal/meetings/{meeting}"), c.r(20)).await;
    assert_eq!(seen["minutes"], minutes);
    assert_eq!(ids(&seen["attendance"]), set(&present));
    assert_eq!(seen["positions"].as_array().unwrap().len(), 5);
    assert_eq!(seen["decisions"].as_array().unwrap().len(), 3);
    assert!(seen["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["decision"] == "to_vote"));
    let (s, _) = c
        .app
        .get(&format!("/api/renewal/meetings/{meeting}"), Some(&c.department))
        .await;
    assert_eq!(s, 403);
    let council = c
        .get(&format!("/api/renewal/communities/{}/council", c.community), c.r(20))
        .await;
    assert_eq!(council["members"].as_array().unwrap().len(), 5);
    assert_eq!(council["meetings"].as_array().unwrap().len(), 1);
    meeting
}

fn projects(xs: &[i64]) -> Value {
    json!({"ballot": {"kind": "projects", "projects": xs.iter().map(|x| x.to_string()).collect::<Vec<_>>()}})
}

/// Step 5: the vote. Budget 90 000 yuan for A 50 000, B 40 000 and C 30 000 yuan (all three
/// cost 120 000). Ballots: 28 residents approve A and B, 3 approve A, 20 approve C (19 online
/// and R50 on paper): A 31 votes, B 28, C 20, 51 voters.
/// - greedy: A (31) fits, B (28) fits exactly the 40 000 left, C does not: {A, B};
/// - equal shares: each voter has 90 000/51 ≈ 1 764.71; A is bought first (31 supporters, each
///   paying 1 612.90, the lowest share per unit), its supporters keep ≈ 151.81 each, so B's 28
///   have ≈ 4 250 of its 40 000 and drop out; C's 20 pay 1 500 each: {A, C} (with add-one too:
///   B no longer fits, the outcome is exhaustive);
/// - Phragmén: loads A 50 000/31 ≈ 1 612.90, B 40 000/28 ≈ 1 428.57, C 30 000/20 = 1 500: B
///   first, then C (1 500 against A's (28·1 428.57 + 50 000)/31 ≈ 2 903.23), then A no longer
///   fits (70 000 + 50 000 > 90 000): {B, C}.
async fn vote(c: &Chain, p: &Proposals) -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    let v = c
        .ok(
            201,
            "POST",
            "/api/renewal/votes",
            &c.planner,
            json!({"community": c.community, "title": "社区微更新参与式预算", "budget_cents": 9_000_000,
                   "opens_at": now - 1_000, "closes_at": now + 3_600_000,
                   "ballot": {"kind": "approval", "min": 1, "max": 2}, "counting": "mes",
                   "proposals": [{"proposal": p.a}, {"proposal": p.b}, {"proposal": p.c}]}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let cast = format!("/api/renewal/votes/{v}/ballot");
    let mut receipts = Vec::new();
    for i in 0..ONLINE_VOTERS {
        let choice: &[i64] = match i {
            0..=27 => &[p.a, p.b],
            28..=30 => &[p.a],
            _ => &[p.c],
        };
        let r = c.ok(201, "POST", &cast, c.r(i), projects(choice)).await;
        receipts.push((r["receipt"].as_str().unwrap().to_owned(), choice.to_vec()));
    }
    // Refused: twice, a resident of another community, a department's handler, three choices.
    c.refused(409, "POST", &cast, c.r(0), projects(&[p.c]), "already voted")
        .await;
    c.refused(422, "POST", &cast, &c.outsider, projects(&[p.c]), "verified residents")
        .await;
    c.refused(
        422,
        "POST",
        &cast,
        &c.department,
        projects(&[p.c]),
        "verified residents",
    )
    .await;
    c.refused(
        422,
        "POST",
        &cast,
        c.r(50),
        projects(&[p.a, p.b, p.c]),
        "between 1 and 2",
    )
    .await;

    // R50's paper ballot: entered by the planner, confirmed by the administrator.
    let paper = c
        .ok(
            201,
            "POST",
            &format!("/api/renewal/votes/{v}/paper"),
            &c.planner,
            json!({"voter": c.id(50), "ballot": {"kind": "projects", "projects": [p.c.to_string()]}}),
        )
        .await["receipt"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = c.get(&format!("/api/renewal/votes/{v}/paper"), &c.admin).await;
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    let confirm = format!("/api/renewal/votes/{v}/paper/{paper}/confirm");
    c.refused(
        409,
        "POST",
        &confirm,
        &c.planner,
        projects(&[p.c]),
        "another staff member",
    )
    .await;
    c.ok(200, "POST", &confirm, &c.admin, projects(&[p.c])).await;
    c.refused(409, "POST", &cast, c.r(50), projects(&[p.c]), "already voted")
        .await;
    receipts.push((paper, vec![p.c]));

    let (_, listed) = c
        .app
        .get(&format!("/api/renewal/communities/{}/votes", c.community), Some(c.r(0)))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            listed[0]["phase"].as_str(),
            listed[0]["has_voted"].as_bool(),
            listed[0]["eligible"].as_bool()
        ),
        (Some("open"), Some(true), Some(true))
    );
    assert_eq!(listed[0]["turnout"]["voted"], 51);
    assert_eq!(listed[0]["turnout"]["counted"], 51);
    let (s, _) = c.app.get(&format!("/api/renewal/votes/{v}/results"), None).await;
    assert_eq!(s, 409, "no results before the close");

    c.refused(
        403,
        "POST",
        &format!("/api/renewal/votes/{v}/close"),
        c.r(0),
        json!({}),
        "planner",
    )
    .await;
    let count = c
        .ok(
            200,
            "POST",
            &format!("/api/renewal/votes/{v}/close"),
            &c.planner,
            json!({}),
        )
        .await;
    assert_eq!(
        (count["ballots"].as_u64(), count["rule"].as_str()),
        (Some(51), Some("mes"))
    );
    assert_eq!(ids(&count["funded"]), set(&[p.a, p.c]));
    let votes = |count: &Value, id: i64| {
        count["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["proposal"] == id)
            .unwrap()["votes"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (votes(&count, p.a), votes(&count, p.b), votes(&count, p.c)),
        (31, 28, 20)
    );
    for (rule, funded, spent) in [
        ("greedy", [p.a, p.b], "90000"),
        ("mes", [p.a, p.c], "80000"),
        ("mes-add1", [p.a, p.c], "80000"),
        ("phragmen", [p.b, p.c], "70000"),
    ] {
        let (s, r) = c
            .app
            .get(&format!("/api/renewal/votes/{v}/results?rule={rule}"), None)
            .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["rule"], rule);
        assert_eq!(ids(&r["funded"]), set(&funded), "{rule}: {r}");
        assert_eq!(r["spent"], spent, "{rule}");
        assert_eq!(r["ballots"], 51);
    }
    let (s, e) = c
        .app
        .get(&format!("/api/renewal/votes/{v}/results?rule=borda"), None)
        .await;
    assert_eq!(s, 422, "{e}");
    for (proposal, status) in [(p.a, "funded"), (p.b, "not_funded"), (p.c, "funded")] {
        let (_, x) = c.app.get(&format!("/api/renewal/proposals/{proposal}"), None).await;
        assert_eq!(x["status"], status, "proposal {proposal}");
    }
    // Each voter finds their ballot, counted, under their receipt.
    for (code, choice) in [&receipts[0], &receipts[29], &receipts[40], &receipts[50]] {
        let (s, r) = c
            .app
            .get(&format!("/api/renewal/votes/{v}/receipts/{code}"), Some(c.r(0)))
            .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["status"], "counted");
        assert_eq!(ids(&r["ballot"]["projects"]), set(choice));
    }
    let (_, paper) = c
        .app
        .get(&format!("/api/renewal/votes/{v}/receipts/{}", receipts[50].0), None)
        .await;
    assert_eq!(paper["channel"], "paper");
    let (_, funded) = c.app.get(&format!("/api/renewal/votes/{v}/funded"), None).await;
    let funded: BTreeSet<i64> = funded
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["proposal"].as_i64().unwrap())
        .collect();
    assert_eq!(funded, set(&[p.a, p.c]));
    v
}

/// The delivery projects and the bundle of step 6.
struct Delivery {
    /// A's project (merged with the road works) and C's.
    a: i64,
    c: i64,
    bundle: i64,
}

/// Step 6: the funded proposals become delivery projects; the department's road resurfacing at
/// the north gate meets A's project and is merged with it.
async fn deliver(c: &Chain, p: &Proposals, vote: i64) -> Delivery {
    let started = c
        .ok(
            200,
            "POST",
            &format!("/api/renewal/votes/{vote}/deliveries"),
            &c.planner,
            json!({"from": day(1).to_string(), "to": day(60).to_string()}),
        )
        .await;
    let started = started.as_array().unwrap();
    assert_eq!(started.len(), 2, "{started:?}");
    let of = |proposal: i64| {
        let d = started.iter().find(|d| d["proposal"] == proposal).unwrap();
        d["id"].as_i64().unwrap()
    };
    let (da, dc) = (of(p.a), of(p.c));
    let again = c
        .ok(
            200,
            "POST",
            &format!("/api/renewal/votes/{vote}/deliveries"),
            &c.planner,
            json!({"from": day(1).to_string(), "to": day(60).to_string()}),
        )
        .await;
    assert_eq!(again, json!([]));

    // The department's works: resurfacing the road past the north gate (about 11 m from A's
    // site, within the project's window), and street lights far from everything.
    let (gx, gy) = c.at(GATE, 0);
    let road = json!({"type": "LineString", "coordinates": [[gx - 0.001, gy + 0.0001], [gx + 0.001, gy + 0.0001]]});
    let (lx, ly) = c.at(SOUTH_EAST, 6);
    let works = [
        (
            "CHAIN-RD-1",
            "北门外道路沥青翻修",
            "road_resurfacing",
            day(10),
            day(25),
            60_000_000,
            road,
        ),
        (
            "CHAIN-LD-1",
            "东南角路灯更新",
            "lighting",
            day(5),
            day(15),
            8_000_000,
            json!({"type": "Point", "coordinates": [lx, ly]}),
        ),
    ];
    let mut work_ids = Vec::new();
    for (reference, title, kind, from, to, budget, geometry) in works {
        let w = c
            .ok(
                200,
                "POST",
                "/api/renewal/works",
                &c.department,
                json!({"reference": reference, "title": title, "kind": kind, "community": c.community,
                       "department": c.org, "from": from.to_string(), "to": to.to_string(),
                       "budget_cents": budget, "geometry": geometry}),
            )
            .await;
        work_ids.push(w["id"].as_i64().unwrap());
    }
    let road = work_ids[0];
    let (_, works) = c
        .app
        .get(&format!("/api/renewal/works?community={}", c.community), None)
        .await;
    assert_eq!(
        ids(&json!(works
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].clone())
            .collect::<Vec<_>>())),
        set(&work_ids)
    );

    // The one proposed bundle: the road and A's project; nothing digs, the road (the larger
    // budget) leads.
    let (s, view) = c
        .app
        .get(&format!("/api/renewal/bundles?community={}", c.community), None)
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["items"].as_array().unwrap().len(), 4);
    let proposed = view["proposed"].as_array().unwrap();
    assert_eq!(proposed.len(), 1, "{proposed:?}");
    assert_eq!(
        proposed[0]["items"],
        json!([{"type": "work", "id": road}, {"type": "delivery", "id": da}])
    );
    assert_eq!(proposed[0]["lead"], json!({"type": "work", "id": road}));
    assert_eq!(proposed[0]["savings"]["interventions_before"], 2);
    assert_eq!(view["report"]["community"]["before"], 4);
    assert_eq!(view["report"]["community"]["after"], 4, "nothing accepted yet");
    assert_eq!(view["report"]["potential"]["after"], 3);

    let items = json!({"community": c.community, "items": [format!("work:{road}"), format!("delivery:{da}")]});
    c.refused(
        403,
        "POST",
        "/api/renewal/bundles",
        &c.department,
        items.clone(),
        "staff",
    )
    .await;
    let b = c
        .ok(200, "POST", "/api/renewal/bundles", &c.planner, items.clone())
        .await;
    let bundle = b["id"].as_i64().unwrap();
    c.refused(409, "POST", "/api/renewal/bundles", &c.planner, items, "already")
        .await;
    let (_, detail) = c.app.get(&format!("/api/renewal/bundles/{bundle}"), None).await;
    assert_eq!(
        (detail["report"]["before"].as_u64(), detail["report"]["after"].as_u64()),
        (Some(2), Some(1)),
        "{detail}"
    );
    let (_, view) = c
        .app
        .get(&format!("/api/renewal/bundles?community={}", c.community), None)
        .await;
    let report = &view["report"]["community"];
    assert_eq!(
        [
            &report["before"],
            &report["after"],
            &report["diggings_before"],
            &report["diggings_after"]
        ],
        [&json!(4), &json!(3), &json!(1), &json!(1)],
        "{report}"
    );
    assert_eq!(view["proposed"], json!([]));
    let (_, list) = c
        .app
        .get(&format!("/api/renewal/deliveries?community={}", c.community), None)
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let row = list.iter().find(|d| d["id"] == da).unwrap();
    assert_eq!(
        (row["bundle"].as_i64(), row["budget_cents"].as_i64()),
        (Some(bundle), Some(5_000_000))
    );
    assert_eq!(row["title"], "北门排水改造");
    let row = list.iter().find(|d| d["id"] == dc).unwrap();
    assert_eq!(
        (row["bundle"].as_i64(), row["budget_cents"].as_i64()),
        (None, Some(3_000_000))
    );
    Delivery { a: da, c: dc, bundle }
}

/// Step 7: contributions, milestones (all of A's done, one of C's), upkeep with a check-in and
/// the acceptance survey of residents who raised the flooding.
async fn co_produce(c: &Chain, p: &Proposals, d: &Delivery) {
    let base = format!("/api/renewal/deliveries/{}", d.a);
    for (who, hours) in [(7, "4"), (8, "2.5"), (40, "3")] {
        c.ok(
            200,
            "POST",
            &format!("{base}/contributions"),
            c.r(who),
            json!({"hours": hours}),
        )
        .await;
    }
    c.ok(
        200,
        "POST",
        &format!("{base}/contributions"),
        &c.planner,
        json!({"contributor": "北门沿街商户联合会", "kind": "organisation", "money_cents": 600_000, "materials": "透水砖200块"}),
    )
    .await;
    c.refused(
        403,
        "POST",
        &format!("{base}/contributions"),
        &c.outsider,
        json!({"hours": "1"}),
        "residents",
    )
    .await;

    let mut milestones = Vec::new();
    for (title, due) in [("管网疏通", 10), ("道路与排水同步施工", 25), ("透水铺装完工", 40)] {
        let m = c
            .ok(
                200,
                "POST",
                &format!("{base}/milestones"),
                &c.planner,
                json!({"title": title, "due": day(due).to_string()}),
            )
            .await;
        milestones.push(m["id"].as_i64().unwrap());
    }
    let before = c.get(&base, &c.planner).await;
    assert_eq!(before["progress_percent"], 0);
    for m in &milestones {
        let done = c
            .ok(
                200,
                "POST",
                &format!("{base}/milestones/{m}/done"),
                &c.planner,
                json!({}),
            )
            .await;
        assert_eq!(done["done"], day(0).to_string());
    }
    let cbase = format!("/api/renewal/deliveries/{}", d.c);
    let mut cm = Vec::new();
    for (title, due) in [("坡道设计公示", 7), ("坡道与扶手施工", 30)] {
        let m = c
            .ok(
                200,
                "POST",
                &format!("{cbase}/milestones"),
                &c.planner,
                json!({"title": title, "due": day(due).to_string()}),
            )
            .await;
        cm.push(m["id"].as_i64().unwrap());
    }
    c.ok(
        200,
        "POST",
        &format!("{cbase}/milestones/{}/done", cm[0]),
        &c.planner,
        json!({}),
    )
    .await;

    let upkeep = c
        .ok(
            200,
            "POST",
            &format!("{base}/upkeep"),
            &c.planner,
            json!({"who": "北门楼栋志愿队", "what": "雨季前清理雨水口", "every_days": 30}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    c.ok(
        200,
        "POST",
        &format!("{base}/upkeep/{upkeep}/checkins"),
        c.r(10),
        json!({"ok": true, "note": "雨水口已清理"}),
    )
    .await;

    // Residents who raised the flooding answer: 2 satisfied, 1 basically, 1 dissatisfied.
    for (who, satisfaction, solved) in [
        (10, "satisfied", true),
        (11, "satisfied", true),
        (12, "basically_satisfied", true),
        (13, "dissatisfied", false),
    ] {
        c.ok(
            200,
            "POST",
            &format!("{base}/acceptance"),
            c.r(who),
            json!({"satisfaction": satisfaction, "solved": solved, "comment": "北门不再积水"}),
        )
        .await;
    }
    c.refused(
        409,
        "POST",
        &format!("{base}/acceptance"),
        c.r(10),
        json!({"satisfaction": "satisfied", "solved": true}),
        "already answered",
    )
    .await;

    let (_, v) = c.app.get(&base, None).await;
    assert_eq!(v["progress_percent"], 100, "{v}");
    let states: Vec<&str> = v["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "done", "done"]);
    assert_eq!(v["detail"]["delivery"]["bundle"], d.bundle);
    assert_eq!(v["detail"]["delivery"]["proposal"], p.a);
    let co = &v["co_production"];
    assert_eq!(
        (
            co["contributions"].as_u64(),
            co["residents"].as_u64(),
            co["organisations"].as_u64(),
            co["hours_tenths"].as_i64(),
            co["money_cents"].as_i64(),
            co["with_materials"].as_u64()
        ),
        (Some(4), Some(3), Some(1), Some(95), Some(600_000), Some(1)),
        "{co}"
    );
    assert_eq!(co["money_share"], percent(600_000, 5_000_000));
    let acc = &v["acceptance"];
    assert_eq!(
        (
            acc["answers"].as_u64(),
            acc["satisfied"].as_u64(),
            acc["basically_satisfied"].as_u64(),
            acc["dissatisfied"].as_u64(),
            acc["solved"].as_u64()
        ),
        (Some(4), Some(2), Some(1), Some(1), Some(3)),
        "{acc}"
    );
    // 满意率 (2 + 0.9 × 1) / 4, 解决率 3 / 4.
    assert_eq!(acc["satisfaction_rate"], "72.50%");
    assert_eq!(acc["solution_rate"], percent(3, 4));
    assert_eq!(v["detail"]["upkeep"][0]["checkins"].as_array().unwrap().len(), 1);
    assert_eq!(v["warnings"], json!([]));
    let (_, vc) = c.app.get(&cbase, None).await;
    assert_eq!(vc["progress_percent"], 50);
}

// ------------------------------------------------------------------ step 8: the indicators

/// Step 8: the community's indicators over the fortnight around today, each figure computed by
/// hand from the steps above; a period before all of it counts nothing; only staff see them.
async fn indicators(c: &Chain, n: &Needs) {
    let path =
        |from: NaiveDate, to: NaiveDate| format!("/api/renewal/indicators?within={}&from={from}&to={to}", c.community);
    let v = c.get(&path(day(-7), day(7)), &c.planner).await;
    assert_eq!(
        (v["within"].as_str(), v["from"].as_str(), v["to"].as_str()),
        (
            Some(c.community.as_str()),
            Some(day(-7).to_string().as_str()),
            Some(day(7).to_string().as_str())
        )
    );

    // Needs: every renewal need (not the elderly-care one); all but the late one clustered; the
    // lamp, flooding (with the merged stray need) and ramp (with the visit's need) clusters
    // have proposals; the flooding's project has all its milestones done.
    let grouped: usize = n.groups.iter().map(Vec::len).sum();
    let raised = grouped + 1 + n.others.len() + 1 + 1;
    let in_proposals = n.groups[LIGHTS].len() + (n.groups[FLOODING].len() + 1) + (n.groups[RAMPS].len() + 1);
    let delivered = n.groups[FLOODING].len() + 1;
    assert_eq!(
        v["needs"],
        json!({"raised": raised, "clustered": raised - 1, "in_proposals": in_proposals, "delivered": delivered}),
        "{v}"
    );
    assert_eq!((raised, in_proposals, delivered), (67, 31, 11));

    // Participation among the community's verified residents (the demo's and R0–R50).
    let residents = c.residents_before + c.people.len();
    assert_eq!(v["residents"], residents);
    let share = |count: usize| json!({"count": count, "share": percent(count as u128, residents as u128)});
    assert_eq!(
        v["participation"],
        json!({
            // R0–R29 raised every renewal need (the visit's for R6); R45's was elderly care.
            "raised": share(RAISERS),
            // R0 wrote B, R5 and R31 amendments, R2 and R35 sat on the council (R3 was absent,
            // the planner is no resident).
            "deliberated": share(5),
            "voted": share(ONLINE_VOTERS + 1),
            // R7, R8 and R40 gave hours; the organisation's gift names no resident.
            "co_produced": share(3),
        }),
        "{v}"
    );

    // Co-production over A's and C's projects: 80 000 yuan of public money, 6 000 yuan given,
    // 9.5 volunteer hours at the indicators' hourly value.
    let co = &v["co_production"];
    let hour = co["hour_value_cents"].as_i64().expect("an hour's value");
    assert!(hour > 0, "{co}");
    let (budget, money, tenths) = (8_000_000i64, 600_000i64, 95i64);
    let hours = tenths * hour / 10;
    let total = (budget + money + hours) as u128;
    assert_eq!(
        *co,
        json!({"budget_cents": budget, "money_cents": money, "hours_tenths": tenths, "hour_value_cents": hour,
               "money_share": percent(money as u128, total), "hours_share": percent(hours as u128, total),
               "share": percent((money + hours) as u128, total)})
    );

    // Interventions: the road and A's project are one; C's project and the street lights alone.
    assert_eq!(
        v["interventions"],
        json!({"before": 4, "after": 3, "diggings_before": 1, "diggings_after": 1})
    );
    // Raised today, delivered today.
    assert_eq!(
        v["days_to_delivery"],
        json!({"count": delivered, "mean": 0.0, "median": 0.0})
    );

    // A year before any of it: the same residents, nothing else.
    let past = c
        .get(
            &path("2020-01-01".parse().unwrap(), "2020-12-31".parse().unwrap()),
            &c.planner,
        )
        .await;
    assert_eq!(
        past["needs"],
        json!({"raised": 0, "clustered": 0, "in_proposals": 0, "delivered": 0})
    );
    assert_eq!(past["residents"], residents);
    for part in ["raised", "deliberated", "voted", "co_produced"] {
        assert_eq!(past["participation"][part], share(0), "{part}");
    }
    assert_eq!(
        (
            past["co_production"]["budget_cents"].as_i64(),
            past["co_production"]["share"].as_str()
        ),
        (Some(0), Some("—"))
    );
    assert_eq!(
        past["interventions"],
        json!({"before": 0, "after": 0, "diggings_before": 0, "diggings_after": 0})
    );
    assert_eq!(
        past["days_to_delivery"],
        json!({"count": 0, "mean": null, "median": null})
    );

    // Staff only; a period that ends before it starts is refused.
    let (s, _) = c.app.get(&path(day(-7), day(7)), Some(c.r(0))).await;
    assert_eq!(s, 403);
    let (s, e) = c.app.get(&path(day(7), day(-7)), Some(&c.planner)).await;
    assert_eq!(s, 422, "{e}");
}

#[tokio::test]
async fn the_whole_micro_renewal_chain_in_one_community() {
    let c = Chain::start().await;
    let needs = raise_needs(&c).await;
    let clusters = integrate(&c, &needs).await;
    let proposals = propose(&c, &clusters).await;
    // A need raised after the clustering run is in no cluster yet.
    let late = c
        .raise(
            c.r(5),
            "charging",
            "7号楼电动车充电桩不够，晚上充不上电",
            c.at(CHARGING, 9),
        )
        .await;
    let listed = c
        .get(&format!("/api/renewal/communities/{}/needs", c.community), c.r(5))
        .await;
    let late_row = listed.as_array().unwrap().iter().find(|n| n["id"] == late).unwrap();
    assert_eq!(
        (late_row["cluster"].clone(), late_row["mine"].clone()),
        (Value::Null, json!(true))
    );
    let _meeting = deliberate(&c, &proposals).await;
    let vote = vote(&c, &proposals).await;
    let delivery = deliver(&c, &proposals, vote).await;
    co_produce(&c, &proposals, &delivery).await;
    indicators(&c, &needs).await;
}
