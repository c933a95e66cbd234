//! Needs generated from templates, with their true grouping: the labelled set of the clustering
//! quality test, the benchmark's city and the demo community. Each *topic* is one problem kind
//! at one place; its needs are paraphrases (synonyms, reordered words, added politeness) at
//! points scattered around the place. Places carry several kinds of the same category (nearby
//! but different problems), and some places share a name far apart (the same text elsewhere).

use crate::gridteam::Category;

use super::cluster::NeedPoint;

/// A problem kind: its category, a short name and paraphrases (`{p}` is the place).
pub struct Kind {
    pub category: Category,
    pub name: &'static str,
    pub texts: &'static [&'static str],
}

pub const KINDS: &[Kind] = &[
    Kind {
        category: Category::Lighting,
        name: "路灯不亮",
        texts: &[
            "{p}路灯坏了，晚上一片漆黑",
            "{p}的照明灯不亮，夜里走路看不见",
            "晚上{p}太黑了，路灯一直不亮",
            "路灯不亮，{p}晚上很黑",
            "希望修一下{p}的路灯，晚上不亮",
            "{p}街灯损坏好几天了，夜间很暗",
        ],
    },
    Kind {
        category: Category::Lighting,
        name: "楼道灯损坏",
        texts: &[
            "{p}楼道灯坏了，上下楼梯看不清",
            "{p}楼梯间的声控灯不亮",
            "楼道里声控灯失灵，{p}上楼很危险",
            "{p}楼道灯需要维修，楼梯太暗",
            "{p}楼梯灯一直不亮，老人上下楼不方便",
            "楼道声控灯坏了，在{p}",
        ],
    },
    Kind {
        category: Category::Drainage,
        name: "雨后积水",
        texts: &[
            "{p}一下雨就积水，出行困难",
            "下雨天{p}内涝严重",
            "{p}路面积水排不出去",
            "{p}雨水口堵塞，雨后水淹路面",
            "雨后{p}积水很深，需要疏通",
            "{p}每次下大雨都淹水",
        ],
    },
    Kind {
        category: Category::Drainage,
        name: "污水外溢",
        texts: &[
            "{p}污水管道堵塞，污水冒出来很臭",
            "{p}污水外溢，气味难闻",
            "{p}生活污水漫出来了",
            "污水井冒水，{p}臭气熏天",
            "{p}污水管老化经常堵，污水溢出",
            "{p}污水溢出影响出行",
        ],
    },
    Kind {
        category: Category::WastePoint,
        name: "垃圾桶满溢",
        texts: &[
            "{p}垃圾桶太少，垃圾经常满出来",
            "{p}的垃圾箱天天爆满",
            "垃圾桶不够用，{p}垃圾堆在地上",
            "{p}需要增加垃圾桶",
            "{p}垃圾桶满溢没人清理",
            "希望{p}多放几个垃圾桶",
        ],
    },
    Kind {
        category: Category::WastePoint,
        name: "垃圾房异味",
        texts: &[
            "{p}垃圾房离窗户太近，夏天很臭",
            "{p}垃圾站臭味熏人，希望挪个位置",
            "垃圾点设在{p}楼下，异味太大",
            "{p}垃圾房气味难闻，建议迁移",
            "希望把{p}的垃圾站搬远一点，太臭",
            "{p}垃圾点臭气影响居民开窗",
        ],
    },
    Kind {
        category: Category::Charging,
        name: "电动车充电难",
        texts: &[
            "{p}电动车没有地方充电，只能飞线",
            "{p}需要安装电瓶车充电桩",
            "希望在{p}建充电站，电动车充电难",
            "{p}充电设施不够，大家私拉电线给电动车充电",
            "电动车充电桩太少，{p}排队充电",
            "{p}增设电动车充电桩",
        ],
    },
    Kind {
        category: Category::PlaySpace,
        name: "儿童游乐设施",
        texts: &[
            "{p}缺少儿童游乐设施，孩子没地方玩",
            "孩子放学没地方玩，{p}建个游乐场吧",
            "{p}希望增加滑梯秋千等儿童游乐设施",
            "{p}儿童游乐区太小，孩子玩不开",
            "给{p}的小朋友建游乐设施",
            "{p}需要儿童游乐场地",
        ],
    },
    Kind {
        category: Category::Accessibility,
        name: "无障碍坡道",
        texts: &[
            "{p}单元门口台阶太高，轮椅上不去，需要坡道",
            "{p}缺少无障碍坡道",
            "老人坐轮椅出门难，{p}建个坡道",
            "{p}门口加装无障碍通道",
            "{p}台阶没有坡道，推轮椅很难",
            "希望{p}修无障碍坡道",
        ],
    },
    Kind {
        category: Category::Accessibility,
        name: "楼梯扶手",
        texts: &[
            "{p}楼梯没有扶手，老人上下楼容易摔",
            "{p}楼梯加装扶手",
            "老人爬楼梯困难，{p}需要安装扶手",
            "{p}楼梯扶手缺失",
            "{p}给楼梯装个扶手方便老人",
            "楼梯两边没扶手，{p}老人害怕",
        ],
    },
    Kind {
        category: Category::Parking,
        name: "乱停占消防通道",
        texts: &[
            "{p}车辆乱停放，消防通道被堵",
            "{p}汽车乱停堵住消防通道",
            "消防通道经常被{p}乱停的私家车占用",
            "{p}乱停车，车堵在消防通道上",
            "{p}乱停车问题严重，消防通道不通",
            "{p}车辆乱停，消防车进不来",
        ],
    },
    Kind {
        category: Category::Parking,
        name: "车位不足",
        texts: &[
            "{p}车位太少，晚上回来找不到停车位",
            "{p}停车难，需要增加车位",
            "希望{p}规划更多停车位",
            "{p}停车位严重不足",
            "下班回来{p}车位不够没地方停",
            "{p}增加划线车位",
        ],
    },
    Kind {
        category: Category::Facade,
        name: "外墙瓷砖脱落",
        texts: &[
            "{p}外墙瓷砖脱落，砸到人很危险",
            "{p}墙皮掉落，存在安全隐患",
            "{p}外立面破损，瓷砖往下掉",
            "{p}外墙剥落需要修缮",
            "{p}楼外墙面砖松动掉落",
            "担心{p}外墙瓷砖脱落砸人",
        ],
    },
    Kind {
        category: Category::Greening,
        name: "树木遮光",
        texts: &[
            "{p}树木太高挡住阳光，需要修剪",
            "{p}的大树遮光，低楼层很暗",
            "希望修剪{p}的树枝，挡住窗户了",
            "{p}树枝伸进阳台，请修剪",
            "{p}绿化树太茂密挡光",
            "{p}树需要修剪，挡住采光",
        ],
    },
    Kind {
        category: Category::Greening,
        name: "绿地裸露",
        texts: &[
            "{p}绿化带光秃秃的，希望补种花草",
            "{p}草坪被踩坏，需要补种",
            "{p}的绿地黄土裸露",
            "希望{p}绿地多种些花草",
            "{p}绿化带荒了没人管，黄土裸露",
            "{p}绿地裸土扬尘，建议补种草",
        ],
    },
    Kind {
        category: Category::PublicSpace,
        name: "缺少座椅",
        texts: &[
            "{p}没有休息的座椅，老人走累了没地方坐",
            "希望在{p}增加长椅",
            "{p}缺少座椅",
            "{p}放几张休息椅",
            "{p}老人散步没有凳子坐",
            "{p}增设公共座椅",
        ],
    },
];

/// Place names (a place's name is part of most of its needs' texts).
pub const PLACES: &[&str] = &[
    "3号楼前",
    "东门口",
    "中心花园",
    "5栋",
    "北区",
    "12号楼",
    "西门",
    "幼儿园旁",
    "菜市场边",
    "老年活动室",
    "南区车库",
    "8栋后面",
    "健身广场",
    "小学门口",
    "2单元",
    "物业楼旁",
];

const PREFIXES: &[&str] = &["", "", "", "居民反映：", "我们小区", "强烈建议：", "麻烦", ""];
const SUFFIXES: &[&str] = &["", "", "。", "，谢谢", "，请尽快处理", "！", "，已经很久了", ""];

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// One need's text for a kind at a place.
pub fn text(kind: &Kind, place: &str, rng: &mut Rng) -> String {
    let t = kind.texts[rng.below(kind.texts.len())];
    let p = PREFIXES[rng.below(PREFIXES.len())];
    let s = SUFFIXES[rng.below(SUFFIXES.len())];
    format!("{p}{}{s}", t.replace("{p}", place))
}

/// A topic: a kind at a place.
#[derive(Debug, Clone)]
pub struct Topic {
    pub kind: usize,
    pub place: &'static str,
    pub lng: f64,
    pub lat: f64,
}

/// Needs of the topics: `per_topic` each, scattered up to `scatter_m` around the topic's point;
/// ids from `first_id`; each with its topic's index as the true label.
pub fn needs_of(
    topics: &[Topic],
    per_topic: usize,
    scatter_m: f64,
    first_id: i64,
    rng: &mut Rng,
) -> Vec<(NeedPoint, u32)> {
    let mut out = Vec::with_capacity(topics.len() * per_topic);
    let mut id = first_id;
    for _ in 0..per_topic {
        for (t, topic) in topics.iter().enumerate() {
            let kind = &KINDS[topic.kind];
            let dlat = rng.unit() * scatter_m / 111_320.0;
            let dlng = rng.unit() * scatter_m / (111_320.0 * topic.lat.to_radians().cos());
            out.push((
                NeedPoint {
                    id,
                    category: kind.category,
                    lng: topic.lng + dlng,
                    lat: topic.lat + dlat,
                    text: text(kind, topic.place, rng),
                },
                t as u32,
            ));
            id += 1;
        }
    }
    out
}

/// Offsets of `i` places laid out 400 m apart around a centre, in degrees.
fn offset(i: usize, lat: f64, spacing_m: f64) -> (f64, f64) {
    let (col, row) = ((i % 4) as f64, (i / 4) as f64);
    (
        col * spacing_m / (111_320.0 * lat.to_radians().cos()),
        row * spacing_m / 111_320.0,
    )
}

/// The labelled set of the quality test: 8 places, 5 kinds at each (pairs of kinds of the same
/// category at the same place), 8 needs per topic: 320 needs. Places are 400 m apart; places 0
/// and 4 carry the same name and kinds (the same texts 400 m away).
pub fn labelled_set(seed: u64) -> Vec<(NeedPoint, u32)> {
    let mut rng = Rng::new(seed);
    let (lng0, lat0): (f64, f64) = (104.06, 30.66);
    // kinds per place: same-category pairs (0/1 lighting, 2/3 drainage, 4/5 waste, 10/11
    // parking, 13/14 greening, 8/9 accessibility) side by side.
    let plan: [(&str, [usize; 5]); 8] = [
        ("3号楼前", [0, 1, 4, 5, 10]),
        ("东门口", [2, 3, 6, 11, 15]),
        ("中心花园", [7, 13, 14, 15, 0]),
        ("5栋", [8, 9, 12, 1, 6]),
        ("3号楼前", [0, 1, 4, 5, 10]),
        ("北区", [10, 11, 2, 3, 12]),
        ("12号楼", [13, 14, 8, 9, 4]),
        ("西门", [5, 6, 7, 0, 11]),
    ];
    let mut topics = Vec::new();
    for (i, (place, kinds)) in plan.iter().enumerate() {
        let (dx, dy) = offset(i, lat0, 400.0);
        for &k in kinds {
            topics.push(Topic {
                kind: k,
                place,
                lng: lng0 + dx,
                lat: lat0 + dy,
            });
        }
    }
    needs_of(&topics, 8, 40.0, 1, &mut rng)
}

/// A city's needs for the benchmark: `n` needs on topics spread over a square of `side_km`
/// (about 6 needs per topic).
pub fn city(n: usize, side_km: f64, seed: u64) -> Vec<NeedPoint> {
    let mut rng = Rng::new(seed);
    let (lng0, lat0): (f64, f64) = (104.06, 30.66);
    let topics: Vec<Topic> = (0..n.div_ceil(6).max(1))
        .map(|_| {
            let dx = rng.unit() * side_km * 500.0;
            let dy = rng.unit() * side_km * 500.0;
            Topic {
                kind: rng.below(KINDS.len()),
                place: PLACES[rng.below(PLACES.len())],
                lng: lng0 + dx / (111_320.0 * lat0.to_radians().cos()),
                lat: lat0 + dy / 111_320.0,
            }
        })
        .collect();
    let mut v: Vec<NeedPoint> = needs_of(&topics, 6, 40.0, 1, &mut rng)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    v.truncate(n);
    v
}

/// The demo community's needs: 12 topics of 5 needs around `(lng, lat)` (60 needs), places
/// 150 m apart, with their topic index.
pub fn community(lng: f64, lat: f64, seed: u64) -> Vec<(NeedPoint, u32)> {
    let mut rng = Rng::new(seed);
    let plan: [(usize, usize); 12] = [
        (0, 0),
        (1, 0),
        (4, 0),
        (2, 1),
        (6, 1),
        (7, 2),
        (15, 2),
        (8, 3),
        (12, 3),
        (13, 4),
        (11, 5),
        (5, 5),
    ];
    let topics: Vec<Topic> = plan
        .iter()
        .map(|&(k, place)| {
            let (dx, dy) = offset(place, lat, 150.0);
            Topic {
                kind: k,
                place: PLACES[place],
                lng: lng + dx,
                lat: lat + dy,
            }
        })
        .collect();
    needs_of(&topics, 5, 25.0, 1, &mut rng)
}
