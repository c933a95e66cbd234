//! Integration of needs (需求整合): near-duplicate needs clustered by place, category and Chinese
//! text, and the staff's steps on clusters as events.
//!
//! **Clustering** ([`cluster`]) is a pure, deterministic function of the needs and
//! [`ClusterParams`]:
//! 1. each text is normalised (lower case, half-width, synonyms mapped to one word:
//!    照明灯/街灯 → 路灯, 垃圾箱 → 垃圾桶, 内涝/水淹 → 积水 …), segmented into words with
//!    jieba (stop words dropped), and cut into character bigrams;
//! 2. every word and bigram is weighted by its inverse document frequency over the needs being
//!    clustered, so that words every need near a place shares (the place's name) count less
//!    than the words of the problem;
//! 3. two needs are linked when they have the same category, lie within `radius_m` of each
//!    other and their text similarity (the mean of the weighted Jaccard similarities of words
//!    and of bigrams) reaches `threshold`, raised with the distance (`distance_penalty` ×
//!    distance / radius);
//! 4. clusters are the connected components of the links (single linkage).
//!
//! Only needs of the same category in neighbouring cells of a `radius_m` grid are compared (a
//! block index), so the work grows with the needs near each need, not with the city squared.
//!
//! **Staff steps** ([`ClusterEvent`]) — created, needs added, renamed, merged, split — are the
//! events of one stream per cluster; [`fold`] derives the current name and membership from
//! them.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::gridteam::Category;
use crate::text::distance_m;
use crate::DomainError;

/// The parameters of the clustering (data: stored per city, defaults here).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterParams {
    /// Needs farther apart than this (metres) are never linked.
    pub radius_m: f64,
    /// The text similarity (0–1) two needs at the same point need to be linked.
    pub threshold: f64,
    /// How much the required similarity rises at `radius_m` (linearly with the distance).
    pub distance_penalty: f64,
    /// The mean similarity two groups of linked needs need to stay one cluster.
    pub linkage: f64,
}

impl Default for ClusterParams {
    fn default() -> Self {
        ClusterParams {
            radius_m: 150.0,
            threshold: 0.05,
            distance_penalty: 0.02,
            linkage: 0.05,
        }
    }
}

impl ClusterParams {
    pub fn check(&self) -> Result<(), DomainError> {
        if !(self.radius_m.is_finite() && self.radius_m > 0.0 && self.radius_m <= 5000.0) {
            return Err(DomainError::invalid(
                "radius_m",
                "the clustering radius is a distance in metres above 0 and at most 5000",
            ));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(DomainError::invalid(
                "threshold",
                "the threshold is a similarity from 0 to 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.linkage) {
            return Err(DomainError::invalid(
                "linkage",
                "the linkage is a similarity from 0 to 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.distance_penalty) {
            return Err(DomainError::invalid(
                "distance_penalty",
                "the distance penalty is from 0 to 1",
            ));
        }
        Ok(())
    }
}

/// What the clustering needs to know of a need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeedPoint {
    pub id: i64,
    pub category: Category,
    pub lng: f64,
    pub lat: f64,
    pub text: String,
}

/// Words written differently for the same thing, mapped to one (longest match first).
const SYNONYMS: &[(&str, &str)] = &[
    ("照明灯", "路灯"),
    ("街灯", "路灯"),
    ("路边灯", "路灯"),
    ("声控灯", "楼道灯"),
    ("楼梯灯", "楼道灯"),
    ("一片漆黑", "太暗"),
    ("黑漆漆", "太暗"),
    ("很黑", "太暗"),
    ("太黑", "太暗"),
    ("昏暗", "太暗"),
    ("很暗", "太暗"),
    ("坏掉", "损坏"),
    ("坏了", "损坏"),
    ("破损", "损坏"),
    ("失灵", "损坏"),
    ("垃圾箱", "垃圾桶"),
    ("垃圾站", "垃圾房"),
    ("垃圾点", "垃圾房"),
    ("垃圾堆放点", "垃圾房"),
    ("爆满", "满溢"),
    ("满出来", "满溢"),
    ("下水道", "排水管"),
    ("排水沟", "排水管"),
    ("下水管", "排水管"),
    ("雨水口", "排水管"),
    ("内涝", "积水"),
    ("水淹", "积水"),
    ("淹水", "积水"),
    ("污水井", "污水管"),
    ("污水管道", "污水管"),
    ("充电桩", "充电"),
    ("充电站", "充电"),
    ("充电设施", "充电"),
    ("充电插座", "充电"),
    ("电瓶车", "电动车"),
    ("电单车", "电动车"),
    ("墙皮", "外墙"),
    ("墙面", "外墙"),
    ("外立面", "外墙"),
    ("面砖", "瓷砖"),
    ("掉落", "脱落"),
    ("剥落", "脱落"),
    ("往下掉", "脱落"),
    ("无障碍坡道", "坡道"),
    ("无障碍通道", "坡道"),
    ("停车位", "车位"),
    ("乱停放", "乱停"),
    ("乱停车", "乱停"),
    ("儿童游乐设施", "游乐设施"),
    ("游乐场", "游乐设施"),
    ("游乐区", "游乐设施"),
    ("滑滑梯", "滑梯"),
    ("健身器材", "健身设施"),
    ("绿化带", "绿地"),
    ("草坪", "绿地"),
    ("草地", "绿地"),
    ("树木", "树"),
    ("大树", "树"),
    ("树枝", "树"),
    ("长椅", "座椅"),
    ("休息椅", "座椅"),
    ("凳子", "座椅"),
];

/// Words that carry no meaning of their own in a need.
const STOP_WORDS: &[&str] = &[
    "的", "了", "是", "在", "有", "太", "很", "也", "都", "还", "就", "和", "与", "及", "把", "被", "给", "让", "这",
    "那", "这里", "那里", "我们", "我", "你", "他", "大家", "小区", "请", "希望", "建议", "需要", "能", "能够", "一下",
    "一些", "一直", "经常", "每次", "好", "个", "吧", "啊", "呢", "吗", "谢谢", "尽快", "处理", "问题", "居民", "反映",
    "强烈", "麻烦", "解决", "现在", "已经", "非常", "比较", "特别", "没", "不", "多", "点", "下", "上", "里", "前",
    "后",
];

/// Synonyms by their first character: (the written form, the one word), longest first.
type SynonymTable = HashMap<char, Vec<(Vec<char>, &'static str)>>;

fn synonyms() -> &'static SynonymTable {
    static S: OnceLock<SynonymTable> = OnceLock::new();
    S.get_or_init(|| {
        let mut m: HashMap<char, Vec<(Vec<char>, &'static str)>> = HashMap::new();
        for (from, to) in SYNONYMS {
            let cs: Vec<char> = from.chars().collect();
            m.entry(cs[0]).or_default().push((cs, to));
        }
        for v in m.values_mut() {
            v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        }
        m
    })
}

fn jieba() -> &'static jieba_rs::Jieba {
    static J: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = jieba_rs::Jieba::new();
        for (_, to) in SYNONYMS {
            j.add_word(to, Some(100_000), None);
        }
        j
    })
}

/// The text with full-width forms made half-width, lower case, and synonyms mapped to one word
/// (one pass, longest match first).
pub fn normalise(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let table = synonyms();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let hit = table.get(&chars[i]).and_then(|cands| {
            cands
                .iter()
                .find(|(from, _)| chars[i..].starts_with(from))
                .map(|(from, to)| (from.len(), *to))
        });
        match hit {
            Some((n, to)) => {
                out.push_str(to);
                i += n;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// The meaningful words of a text (normalised, segmented with jieba, stop words and
/// punctuation dropped), in order.
pub fn words(text: &str) -> Vec<String> {
    let norm = normalise(text);
    jieba()
        .cut(&norm, false)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphanumeric) && !STOP_WORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The character bigrams of the normalised text (letters and digits only).
pub fn bigrams(text: &str) -> Vec<String> {
    let chars: Vec<char> = normalise(text).chars().filter(|c| c.is_alphanumeric()).collect();
    match chars.len() {
        0 => Vec::new(),
        1 => vec![chars[0].to_string()],
        _ => chars.windows(2).map(|w| w.iter().collect()).collect(),
    }
}

/// The needs' words and bigrams as sorted, deduplicated token ids.
struct Tokens {
    words: Vec<Vec<u32>>,
    grams: Vec<Vec<u32>>,
}

fn tokens(needs: &[NeedPoint]) -> Tokens {
    fn index(docs: Vec<Vec<String>>) -> Vec<Vec<u32>> {
        let mut ids: HashMap<String, u32> = HashMap::new();
        docs.into_iter()
            .map(|d| {
                let mut v: Vec<u32> = d
                    .into_iter()
                    .map(|t| {
                        let next = ids.len() as u32;
                        *ids.entry(t).or_insert(next)
                    })
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect()
    }
    Tokens {
        words: index(needs.iter().map(|n| words(&n.text)).collect()),
        grams: index(needs.iter().map(|n| bigrams(&n.text)).collect()),
    }
}

/// Inverse document frequencies of tokens among a set of needs (a need's neighbourhood):
/// `ln((n + BACKGROUND + 1) / (df + 0.5))`, at least 0.05, so that what every need around shares
/// (the place's name) weighs little and what sets a problem apart weighs much.
///
/// The neighbourhood counts [`BACKGROUND`] more needs that share none of its words: where every
/// need around is about one problem (a broken lamp reported ten times and nothing else nearby),
/// the problem's own words are in every need too, and without them they would weigh as little
/// as the place's name, leaving the paraphrases linked only by their incidental words.
#[derive(Default)]
struct Idf {
    words: HashMap<u32, f64>,
    grams: HashMap<u32, f64>,
}

/// Needs added to every neighbourhood's count as sharing none of its tokens (see [`Idf`]).
const BACKGROUND: f64 = 5.0;

impl Idf {
    fn of(t: &Tokens, members: &[usize]) -> Idf {
        let count = |docs: &Vec<Vec<u32>>| {
            let mut df: HashMap<u32, u32> = HashMap::new();
            for &m in members {
                for &tok in &docs[m] {
                    *df.entry(tok).or_default() += 1;
                }
            }
            let n = members.len() as f64 + BACKGROUND;
            df.into_iter()
                .map(|(tok, d)| (tok, ((n + 1.0) / (f64::from(d) + 0.5)).ln().max(0.05)))
                .collect()
        };
        Idf {
            words: count(&t.words),
            grams: count(&t.grams),
        }
    }
}

/// Weighted Jaccard similarity of two sorted id lists.
fn weighted_jaccard(a: &[u32], b: &[u32], w: impl Fn(u32) -> f64) -> f64 {
    let (mut i, mut j) = (0, 0);
    let (mut inter, mut union) = (0.0, 0.0);
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i] < b[j]) {
            union += w(a[i]);
            i += 1;
        } else if i == a.len() || b[j] < a[i] {
            union += w(b[j]);
            j += 1;
        } else {
            inter += w(a[i]);
            union += w(a[i]);
            i += 1;
            j += 1;
        }
    }
    if union == 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// The text similarity of needs i and j, with token weights the mean of their neighbourhoods'.
fn similarity(t: &Tokens, idf: &[Idf], i: usize, j: usize) -> f64 {
    let w = |m: &HashMap<u32, f64>, n: &HashMap<u32, f64>, tok: u32| {
        (m.get(&tok).copied().unwrap_or(1.0) + n.get(&tok).copied().unwrap_or(1.0)) / 2.0
    };
    let a = weighted_jaccard(&t.words[i], &t.words[j], |tok| w(&idf[i].words, &idf[j].words, tok));
    let b = weighted_jaccard(&t.grams[i], &t.grams[j], |tok| w(&idf[i].grams, &idf[j].grams, tok));
    (a + b) / 2.0
}

/// The text similarity (0–1) of two texts on their own (every token weighing the same).
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let pts: Vec<NeedPoint> = [a, b]
        .iter()
        .enumerate()
        .map(|(i, t)| NeedPoint {
            id: i as i64,
            category: Category::Other,
            lng: 0.0,
            lat: 0.0,
            text: (*t).to_owned(),
        })
        .collect();
    let t = tokens(&pts);
    let idf = [Idf::default(), Idf::default()];
    similarity(&t, &idf, 0, 1)
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Groups larger than this are left as the links made them (average linkage is cubic).
const MAX_AVERAGE_LINKAGE: usize = 400;

/// The clusters of the needs: groups of need ids, each sorted, groups in order of their
/// smallest id. Every need is in exactly one group (a need alone is a group of one).
/// Deterministic: the same needs in any order give the same groups.
///
/// Needs of one category within the radius whose similarity reaches the threshold (raised with
/// distance) are linked; each connected group is then split by average linkage: groups are
/// joined while the mean similarity of all their pairs (pairs never compared count 0) reaches
/// the threshold, so that a chain of look-alikes does not glue different problems together.
pub fn cluster(needs: &[NeedPoint], p: &ClusterParams) -> Vec<Vec<i64>> {
    let mut needs: Vec<&NeedPoint> = needs.iter().collect();
    needs.sort_by_key(|n| n.id);
    needs.dedup_by_key(|n| n.id);
    let owned: Vec<NeedPoint> = needs.iter().map(|n| (*n).clone()).collect();
    let n = owned.len();
    if n == 0 {
        return Vec::new();
    }
    let t = tokens(&owned);
    // The block index: cells of radius_m; neighbours are in the 3×3 cells around.
    let mean_lat = owned.iter().map(|x| x.lat).sum::<f64>() / n as f64;
    let dlat = p.radius_m / 111_320.0;
    let dlng = p.radius_m / (111_320.0 * mean_lat.to_radians().cos().max(0.01));
    let cell = |x: &NeedPoint| ((x.lng / dlng).floor() as i64, (x.lat / dlat).floor() as i64);
    let mut blocks: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, x) in owned.iter().enumerate() {
        blocks.entry(cell(x)).or_default().push(i);
    }
    let neighbours = |i: usize| {
        let a = &owned[i];
        let (cx, cy) = cell(a);
        let mut v = Vec::new();
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(b) = blocks.get(&(cx + dx, cy + dy)) {
                    for &j in b {
                        let d = distance_m(a.lng, a.lat, owned[j].lng, owned[j].lat);
                        if d <= p.radius_m {
                            v.push((j, d));
                        }
                    }
                }
            }
        }
        v.sort_by_key(|x| x.0);
        v
    };
    let near: Vec<Vec<(usize, f64)>> = (0..n).map(neighbours).collect();
    let idf: Vec<Idf> = near
        .iter()
        .map(|v| Idf::of(&t, &v.iter().map(|x| x.0).collect::<Vec<_>>()))
        .collect();
    // Links between needs of one category.
    let mut parent: Vec<usize> = (0..n).collect();
    let mut sims: HashMap<(usize, usize), f64> = HashMap::new();
    for i in 0..n {
        for &(j, d) in &near[i] {
            if j <= i || owned[j].category != owned[i].category {
                continue;
            }
            let s = similarity(&t, &idf, i, j) - p.distance_penalty * d / p.radius_m;
            sims.insert((i, j), s);
            if s >= p.threshold {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    let (lo, hi) = if ri < rj { (ri, rj) } else { (rj, ri) };
                    parent[hi] = lo;
                }
            }
        }
    }
    let mut components: Vec<Vec<usize>> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        let k = *slot.entry(r).or_insert_with(|| {
            components.push(Vec::new());
            components.len() - 1
        });
        components[k].push(i);
    }
    let sim = |a: usize, b: usize| {
        let key = if a < b { (a, b) } else { (b, a) };
        sims.get(&key).copied().unwrap_or(0.0)
    };
    let mut groups: Vec<Vec<i64>> = Vec::new();
    for comp in components {
        if comp.len() <= 2 || comp.len() > MAX_AVERAGE_LINKAGE {
            groups.push(comp.iter().map(|&i| owned[i].id).collect());
            continue;
        }
        // Average linkage: total similarity between groups, joined best first.
        let mut parts: Vec<Vec<usize>> = comp.iter().map(|&i| vec![i]).collect();
        let k = parts.len();
        let mut total: Vec<Vec<f64>> = vec![vec![0.0; k]; k];
        for a in 0..k {
            for b in a + 1..k {
                let s = sim(comp[a], comp[b]);
                total[a][b] = s;
                total[b][a] = s;
            }
        }
        let mut alive: Vec<bool> = vec![true; k];
        loop {
            let mut best: Option<(f64, usize, usize)> = None;
            for a in 0..k {
                if !alive[a] {
                    continue;
                }
                for b in a + 1..k {
                    if !alive[b] {
                        continue;
                    }
                    let avg = total[a][b] / (parts[a].len() * parts[b].len()) as f64;
                    if avg >= p.linkage && best.is_none_or(|(s, _, _)| avg > s + 1e-12) {
                        best = Some((avg, a, b));
                    }
                }
            }
            let Some((_, a, b)) = best else { break };
            let moved = std::mem::take(&mut parts[b]);
            parts[a].extend(moved);
            alive[b] = false;
            for c in 0..k {
                if c != a && alive[c] {
                    let s = total[a][c] + total[b][c];
                    total[a][c] = s;
                    total[c][a] = s;
                }
            }
        }
        for (a, part) in parts.into_iter().enumerate() {
            if alive[a] {
                let mut ids: Vec<i64> = part.iter().map(|&i| owned[i].id).collect();
                ids.sort_unstable();
                groups.push(ids);
            }
        }
    }
    groups.sort_by_key(|g| g[0]);
    groups
}

/// A name for a cluster: the text of its most central need (highest total similarity to the
/// others; ties: lowest id), cut to 30 characters.
pub fn suggest_name(needs: &[NeedPoint]) -> String {
    let mut sorted: Vec<NeedPoint> = needs.to_vec();
    sorted.sort_by_key(|n| n.id);
    sorted.truncate(60);
    if sorted.is_empty() {
        return String::new();
    }
    let t = tokens(&sorted);
    let all: Vec<usize> = (0..sorted.len()).collect();
    let idf: Vec<Idf> = all.iter().map(|_| Idf::of(&t, &all)).collect();
    let mut best = (f64::MIN, 0);
    for i in 0..sorted.len() {
        let s: f64 = (0..sorted.len())
            .filter(|&j| j != i)
            .map(|j| similarity(&t, &idf, i, j))
            .sum();
        if s > best.0 + 1e-12 {
            best = (s, i);
        }
    }
    sorted[best.1].text.trim().chars().take(30).collect()
}

/// Pairwise precision, recall and F1 of a clustering against the true grouping (pairs of items
/// put together).
pub fn pairwise_f1(predicted: &[Vec<i64>], truth: &HashMap<i64, u32>) -> (f64, f64, f64) {
    let mut label_of_pred: HashMap<i64, usize> = HashMap::new();
    for (k, g) in predicted.iter().enumerate() {
        for &id in g {
            label_of_pred.insert(id, k);
        }
    }
    let ids: Vec<i64> = {
        let mut v: Vec<i64> = truth.keys().copied().collect();
        v.sort_unstable();
        v
    };
    let (mut tp, mut fp, mut fneg) = (0u64, 0u64, 0u64);
    for (a, &x) in ids.iter().enumerate() {
        for &y in &ids[a + 1..] {
            let same_pred = label_of_pred.contains_key(&x) && label_of_pred.get(&x) == label_of_pred.get(&y);
            let same_true = truth[&x] == truth[&y];
            match (same_pred, same_true) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fneg += 1,
                _ => {}
            }
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if tp + fneg == 0 {
        1.0
    } else {
        tp as f64 / (tp + fneg) as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    (precision, recall, f1)
}

/// Where a cluster came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Made by a clustering run.
    Clustering,
    /// Split off another cluster by staff.
    Split,
}

/// A step on a cluster: the events of its stream, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClusterEvent {
    /// The cluster is made with its first needs.
    Created {
        name: String,
        needs: Vec<i64>,
        origin: Origin,
        /// The cluster it was split from.
        #[serde(default)]
        from: Option<i64>,
    },
    /// A clustering run added new needs that belong here.
    NeedsAdded { needs: Vec<i64> },
    /// Staff renamed it.
    Renamed { name: String },
    /// Staff merged other clusters into it; their needs are now here.
    Absorbed { from: i64, needs: Vec<i64> },
    /// Staff merged it into another cluster; it has no needs left.
    MergedInto { into: i64 },
    /// Staff split these needs off into a new cluster.
    SplitOff { needs: Vec<i64>, into: i64 },
}

impl ClusterEvent {
    /// The event's kind as stored (`cluster_created` …).
    pub fn kind(&self) -> &'static str {
        match self {
            ClusterEvent::Created { .. } => "cluster_created",
            ClusterEvent::NeedsAdded { .. } => "cluster_needs_added",
            ClusterEvent::Renamed { .. } => "cluster_renamed",
            ClusterEvent::Absorbed { .. } => "cluster_absorbed",
            ClusterEvent::MergedInto { .. } => "cluster_merged_into",
            ClusterEvent::SplitOff { .. } => "cluster_split",
        }
    }
}

/// A cluster as its events leave it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClusterState {
    pub name: String,
    pub needs: BTreeSet<i64>,
    /// Set once it was merged into another cluster.
    pub merged_into: Option<i64>,
    pub version: i64,
}

impl ClusterState {
    pub fn active(&self) -> bool {
        self.merged_into.is_none()
    }

    /// Apply one event; refuses one that does not fit the state.
    pub fn apply(&mut self, e: &ClusterEvent) -> Result<(), DomainError> {
        let created = self.version > 0;
        if !created && !matches!(e, ClusterEvent::Created { .. }) {
            return Err(DomainError::invalid("cluster", "a cluster's first event creates it"));
        }
        if !self.active() {
            return Err(DomainError::invalid(
                "cluster",
                "the cluster was merged into another one: work on that one",
            ));
        }
        match e {
            ClusterEvent::Created { name, needs, .. } => {
                if created {
                    return Err(DomainError::invalid("cluster", "the cluster exists already"));
                }
                if needs.is_empty() {
                    return Err(DomainError::invalid("needs", "a cluster starts with at least one need"));
                }
                self.name = name.clone();
                self.needs = needs.iter().copied().collect();
            }
            ClusterEvent::NeedsAdded { needs } | ClusterEvent::Absorbed { needs, .. } => {
                self.needs.extend(needs.iter().copied());
            }
            ClusterEvent::Renamed { name } => self.name = name.clone(),
            ClusterEvent::MergedInto { into } => {
                self.merged_into = Some(*into);
                self.needs.clear();
            }
            ClusterEvent::SplitOff { needs, .. } => {
                for n in needs {
                    if !self.needs.remove(n) {
                        return Err(DomainError::invalid(
                            "needs",
                            format!("need {n} is not in this cluster"),
                        ));
                    }
                }
            }
        }
        self.version += 1;
        Ok(())
    }
}

/// The state a cluster's events leave it in.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a ClusterEvent>) -> Result<ClusterState, DomainError> {
    let mut s = ClusterState::default();
    for e in events {
        s.apply(e)?;
    }
    Ok(s)
}

/// A cluster's name as staff give it: 1 to 60 characters.
pub fn check_name(name: &str) -> Result<String, DomainError> {
    let t = name.trim();
    let n = t.chars().count();
    if n == 0 || n > 60 {
        return Err(DomainError::invalid("name", "name the cluster in 1 to 60 characters"));
    }
    Ok(t.to_owned())
}

/// Check a split: the needs are members, at least one, and not all of them.
pub fn check_split(state: &ClusterState, needs: &[i64]) -> Result<Vec<i64>, DomainError> {
    let mut v = needs.to_vec();
    v.sort_unstable();
    v.dedup();
    if v.is_empty() {
        return Err(DomainError::invalid("needs", "name the needs to split off"));
    }
    if let Some(n) = v.iter().find(|n| !state.needs.contains(n)) {
        return Err(DomainError::invalid(
            "needs",
            format!("need {n} is not in this cluster"),
        ));
    }
    if v.len() == state.needs.len() {
        return Err(DomainError::invalid(
            "needs",
            "splitting off every need leaves nothing behind: rename the cluster instead",
        ));
    }
    Ok(v)
}

/// What a clustering run changes, given the current clusters: new needs that belong with
/// needs already in a cluster join it (the cluster holding most of their group; ties: lowest
/// cluster id); groups of only new needs become new clusters. Needs already in a cluster stay
/// where staff left them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RefreshPlan {
    pub add: Vec<(i64, Vec<i64>)>,
    pub create: Vec<Vec<i64>>,
}

pub fn refresh_plan(groups: &[Vec<i64>], assigned: &HashMap<i64, i64>) -> RefreshPlan {
    let mut add: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    let mut create = Vec::new();
    for g in groups {
        let new: Vec<i64> = g.iter().copied().filter(|n| !assigned.contains_key(n)).collect();
        if new.is_empty() {
            continue;
        }
        let mut votes: std::collections::BTreeMap<i64, usize> = Default::default();
        for n in g {
            if let Some(c) = assigned.get(n) {
                *votes.entry(*c).or_default() += 1;
            }
        }
        let best = votes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| *c);
        match best {
            Some(c) => add.entry(c).or_default().extend(new),
            None => create.push(new),
        }
    }
    RefreshPlan {
        add: add.into_iter().collect(),
        create,
    }
}

/// Who stands behind a cluster: distinct residents who raised its needs and distinct
/// households (a need's household, else the raiser's own: a resident without a registered
/// household counts as one household).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backing {
    pub needs: usize,
    pub residents: usize,
    pub households: usize,
}

/// One need's people: (raised by, raised by a resident themself, household).
pub fn backing(needs: &[(Option<i64>, bool, Option<i64>)]) -> Backing {
    let mut residents = BTreeSet::new();
    let mut households = BTreeSet::new();
    for &(by, by_resident, household) in needs {
        if let (Some(p), true) = (by, by_resident) {
            residents.insert(p);
        }
        match (household, by, by_resident) {
            (Some(h), _, _) => {
                households.insert((0, h));
            }
            (None, Some(p), true) => {
                households.insert((1, p));
            }
            _ => {}
        }
    }
    Backing {
        needs: needs.len(),
        residents: residents.len(),
        households: households.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn np(id: i64, category: Category, lng: f64, lat: f64, text: &str) -> NeedPoint {
        NeedPoint {
            id,
            category,
            lng,
            lat,
            text: text.into(),
        }
    }

    #[test]
    fn synonyms_map_to_one_word_and_stop_words_drop() {
        assert_eq!(normalise("照明灯坏了"), "路灯损坏");
        assert_eq!(normalise("ＡＢ垃圾箱"), "ab垃圾桶");
        let w = words("希望修一下3号楼前的照明灯");
        assert!(w.contains(&"路灯".to_owned()), "{w:?}");
        assert!(
            !w.contains(&"的".to_owned()) && !w.contains(&"希望".to_owned()),
            "{w:?}"
        );
    }

    #[test]
    fn paraphrases_are_similar_and_other_problems_are_not() {
        let a = "3号楼前路灯不亮，晚上很黑";
        let b = "晚上3号楼前一片漆黑，照明灯不亮";
        let c = "3号楼前垃圾桶满了没人清";
        assert!(
            text_similarity(a, b) > text_similarity(a, c),
            "{} {}",
            text_similarity(a, b),
            text_similarity(a, c)
        );
        assert!((text_similarity(a, a) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn clusters_by_text_place_and_category_deterministically() {
        let (lng, lat) = (104.06, 30.66);
        let far = lat + 0.01; // about 1.1 km north
        let needs = vec![
            np(1, Category::Lighting, lng, lat, "3号楼前路灯不亮，晚上很黑"),
            np(
                2,
                Category::Lighting,
                lng + 0.0002,
                lat,
                "晚上3号楼前一片漆黑，照明灯不亮",
            ),
            np(3, Category::Lighting, lng, far, "3号楼前路灯不亮，晚上很黑"),
            np(4, Category::WastePoint, lng, lat, "3号楼前路灯旁垃圾桶满溢"),
            np(5, Category::Lighting, lng + 0.0001, lat, "路灯不亮 3号楼前晚上太黑了"),
        ];
        let p = ClusterParams::default();
        let g = cluster(&needs, &p);
        assert_eq!(g, vec![vec![1, 2, 5], vec![3], vec![4]]);
        let mut rev = needs.clone();
        rev.reverse();
        assert_eq!(cluster(&rev, &p), g);
    }

    #[test]
    fn one_problem_alone_at_its_spot_is_one_cluster() {
        // Ten ways to report one lamp, a few metres apart, nothing else within the radius:
        // the words they share are the problem's, not only the place's.
        let texts = [
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
        ];
        let needs: Vec<NeedPoint> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (dx, dy) = ((i % 4) as f64 * 0.00003, (i / 4) as f64 * 0.00003);
                np(i as i64 + 1, Category::Lighting, 104.06 + dx, 30.66 + dy, t)
            })
            .collect();
        assert_eq!(
            cluster(&needs, &ClusterParams::default()),
            vec![(1..=10).collect::<Vec<i64>>()]
        );
    }

    #[test]
    fn events_fold_into_membership_and_refuse_what_does_not_fit() {
        let evs = vec![
            ClusterEvent::Created {
                name: "路灯".into(),
                needs: vec![1, 2],
                origin: Origin::Clustering,
                from: None,
            },
            ClusterEvent::NeedsAdded { needs: vec![5] },
            ClusterEvent::Absorbed {
                from: 9,
                needs: vec![7],
            },
            ClusterEvent::SplitOff {
                needs: vec![2],
                into: 10,
            },
            ClusterEvent::Renamed {
                name: "3号楼路灯".into(),
            },
        ];
        let s = fold(&evs).unwrap();
        assert_eq!(s.needs.iter().copied().collect::<Vec<_>>(), vec![1, 5, 7]);
        assert_eq!((s.name.as_str(), s.version), ("3号楼路灯", 5));
        assert!(check_split(&s, &[1, 5, 7]).is_err());
        assert!(check_split(&s, &[3]).is_err());
        assert_eq!(check_split(&s, &[7, 7]).unwrap(), vec![7]);
        let mut merged = s.clone();
        merged.apply(&ClusterEvent::MergedInto { into: 3 }).unwrap();
        assert!(merged.needs.is_empty() && !merged.active());
        assert!(merged.apply(&ClusterEvent::Renamed { name: "x".into() }).is_err());
        assert!(fold(&[ClusterEvent::Renamed { name: "x".into() }]).is_err());
    }

    #[test]
    fn a_refresh_adds_new_needs_to_the_cluster_holding_their_group() {
        let assigned = HashMap::from([(1, 100), (2, 100), (3, 200)]);
        let groups = vec![vec![1, 2, 3, 4], vec![5, 6], vec![7], vec![3]];
        let plan = refresh_plan(&groups, &assigned);
        assert_eq!(plan.add, vec![(100, vec![4])]);
        assert_eq!(plan.create, vec![vec![5, 6], vec![7]]);
    }

    #[test]
    fn backing_counts_distinct_residents_and_households() {
        let b = backing(&[
            (Some(1), true, None),
            (Some(1), true, None),
            (Some(2), true, Some(50)),
            (Some(9), false, Some(50)),
            (Some(9), false, None),
        ]);
        assert_eq!((b.needs, b.residents, b.households), (5, 2, 2));
    }

    #[test]
    fn pairwise_f1_counts_pairs() {
        let truth = HashMap::from([(1, 0), (2, 0), (3, 1), (4, 1)]);
        let (p, r, f) = pairwise_f1(&[vec![1, 2, 3], vec![4]], &truth);
        assert!((p - 1.0 / 3.0).abs() < 1e-9 && (r - 0.5).abs() < 1e-9, "{p} {r} {f}");
    }
}
