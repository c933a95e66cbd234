//! Micro-renewal needs pages (社区微更新 · 需求): the resident's phone page to raise a need on
//! the community's map (a click on the SVG map fills longitude and latitude) with a photo, their
//! own needs and the community's clusters; the staff page to run the clustering, rename, merge
//! and split clusters and link evidence cases. Both go through the JSON API's functions.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::renewal_needs::{self as app, ClusterEdit, ClusterView, NeedView};
use gongzhi_app::AppError;
use gongzhi_core::gridteam::Category;
use serde::Deserialize;

use super::{render, svg, Chrome, LoggedIn, PageError};
use crate::{ApiError, AppState};

/// This page's UI texts. Keep keys sorted; keys are unique across tables.
pub(crate) const TEXTS: super::i18n::Texts = &[
    ("rn_backing", "居民/户", "Residents / households"),
    ("rn_cluster_needs", "条需求", "needs"),
    ("rn_clusters", "社区需求整合", "The community's integrated needs"),
    ("rn_evidence", "佐证案件", "Evidence cases"),
    ("rn_evidence_link", "关联为佐证", "Link as evidence"),
    ("rn_history", "整合记录", "History"),
    ("rn_merge", "并入本组", "Merge into this one"),
    ("rn_merge_from", "要并入的组编号", "Cluster number to merge in"),
    ("rn_my_needs", "我提出的需求", "My needs"),
    ("rn_need_category", "类别", "Category"),
    ("rn_need_place", "位置：点击地图选点", "Place: click the map"),
    ("rn_need_text", "需求内容", "What is needed"),
    ("rn_new_name", "新组名称", "New cluster's name"),
    ("rn_no_clusters", "尚未整合", "Not integrated yet"),
    ("rn_photo", "照片（可选）", "Photo (optional)"),
    ("rn_raise", "提出需求", "Raise a need"),
    ("rn_raised", "已提交需求", "Need raised"),
    ("rn_refresh", "运行需求整合", "Run the integration"),
    ("rn_rename", "改名", "Rename"),
    ("rn_split", "拆出所选需求", "Split the selected needs off"),
    ("rn_staff_page", "需求整合管理", "Manage the integration"),
    ("rn_submit", "提交", "Submit"),
    ("rn_title", "社区微更新 · 需求", "Micro-renewal · needs"),
];

pub struct ClusterRow {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub needs: usize,
    pub residents: usize,
    pub households: usize,
    pub evidence: String,
    pub categories: String,
}

pub struct NeedRow {
    pub id: i64,
    pub category: String,
    pub text: String,
    pub status: String,
    pub photos: Vec<i64>,
    pub evidence: String,
    /// (cases joined by ",", label) offered as evidence and not linked yet.
    pub offers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "renewal_needs.html")]
pub struct NeedsPage {
    pub c: Chrome,
    pub code: String,
    pub name: String,
    pub map: String,
    pub categories: Vec<(&'static str, &'static str)>,
    pub mine: Vec<NeedRow>,
    pub clusters: Vec<ClusterRow>,
    pub staff: bool,
    pub error: Option<String>,
    pub raised: Option<i64>,
}

pub struct StaffCluster {
    pub row: ClusterRow,
    pub needs: Vec<NeedRow>,
    pub history: Vec<String>,
}

#[derive(Template)]
#[template(path = "renewal_clusters.html")]
pub struct ClustersPage {
    pub c: Chrome,
    pub code: String,
    pub name: String,
    pub clusters: Vec<StaffCluster>,
    pub unclustered: Vec<NeedRow>,
}

fn category_label(c: &Chrome, k: &str) -> String {
    super::word_label::<Category>(c.lang, k)
}

fn row(c: &Chrome, v: &ClusterView) -> ClusterRow {
    ClusterRow {
        id: v.id,
        name: v.name.clone(),
        version: v.version,
        needs: v.needs.len(),
        residents: v.residents,
        households: v.households,
        evidence: v.evidence.iter().map(|x| format!("#{x}")).collect::<Vec<_>>().join(" "),
        categories: v
            .categories
            .iter()
            .map(|k| category_label(c, k))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

fn need_row(c: &Chrome, n: &NeedView) -> NeedRow {
    NeedRow {
        id: n.id,
        category: category_label(c, &n.category),
        text: n.text.clone(),
        status: super::word_label::<gongzhi_core::gridteam::NeedStatus>(c.lang, &n.status),
        photos: n.photos.clone(),
        evidence: n.evidence.iter().map(|x| format!("#{x}")).collect::<Vec<_>>().join(" "),
        offers: Vec::new(),
    }
}

#[derive(Deserialize, Default)]
pub struct NeedsQuery {
    pub raised: Option<i64>,
}

async fn needs_page_with(
    s: &AppState,
    p: gongzhi_core::access::Principal,
    c: Chrome,
    code: &str,
    error: Option<String>,
    raised: Option<i64>,
) -> Result<Response, PageError> {
    let app::NeedsOverview {
        community: d,
        needs,
        clusters,
        grids,
        staff,
    } = app::needs_overview(s, &p, code).await?;
    let shapes: Vec<svg::Shape> = grids
        .iter()
        .map(|g| svg::Shape {
            href: String::new(),
            label: g.name.clone(),
            geometry: g.geometry.clone(),
            class: None,
        })
        .collect();
    let markers: Vec<svg::Marker> = clusters
        .iter()
        .map(|k| svg::Marker {
            lng: k.lng,
            lat: k.lat,
            href: String::new(),
            label: format!("{} ({})", k.name, k.needs.len()),
            class: "cluster".into(),
        })
        .collect();
    let page = NeedsPage {
        code: code.to_owned(),
        name: d.name.clone(),
        map: svg::map_with(&shapes, &markers, true),
        categories: Category::RENEWAL
            .iter()
            .map(|k| (k.as_str(), k.label(c.lang)))
            .collect(),
        mine: needs.iter().filter(|n| n.mine).map(|n| need_row(&c, n)).collect(),
        clusters: clusters.iter().map(|k| row(&c, k)).collect(),
        staff,
        error,
        raised,
        c,
    };
    render(&page.c, &page)
}

/// GET /renewal/{community}/needs
pub async fn needs_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(code): Path<String>,
    Query(q): Query<NeedsQuery>,
) -> Result<Response, PageError> {
    needs_page_with(&s, p, c, &code, None, q.raised).await
}

/// POST /renewal/{community}/needs (multipart: category, text, lng, lat, photo).
pub async fn raise_submit(
    State(s): State<AppState>,
    LoggedIn { p, mut c }: LoggedIn,
    Path(code): Path<String>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    c.path = format!("/renewal/{code}/needs");
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut photo: Option<(String, Bytes)> = None;
    let media = crate::media::PHOTO;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return needs_refused(&s, p, c, &code, crate::media::form_error(media, "form", e)).await,
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "photo" {
            let ct = field.content_type().unwrap_or("").to_owned();
            let data = match field.bytes().await {
                Ok(d) => d,
                Err(e) => return needs_refused(&s, p, c, &code, crate::media::form_error(media, "photo", e)).await,
            };
            if !data.is_empty() {
                photo = Some((ct, data));
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| ApiError::invalid(format!("{name}: {e}")))?;
            fields.insert(name, text);
        }
    }
    // A photo refused by the one media policy refuses the need before it is raised.
    if let Some((ct, data)) = &photo {
        if let Err(e) = crate::media::check(media, ct, data) {
            return needs_refused(&s, p, c, &code, e).await;
        }
    }
    let num = |k: &str| fields.get(k).and_then(|v| v.trim().parse::<f64>().ok());
    let (Some(lng), Some(lat)) = (num("lng"), num("lat")) else {
        let msg = c.t("rn_need_place").to_owned();
        return needs_page_with(&s, p, c, &code, Some(msg), None).await;
    };
    let r = app::RaiseNeed {
        category: fields.get("category").cloned().unwrap_or_default(),
        text: fields.get("text").cloned().unwrap_or_default(),
        lng,
        lat,
        crs: None,
        area: None,
        urgency: None,
        source: None,
        on_behalf_of: None,
        household: None,
        group: None,
    };
    let raised = match app::raise(&s, &p, &code, r).await.map_err(ApiError::from) {
        Ok(x) => x,
        Err(e) if e.status.as_u16() == 422 => {
            return needs_page_with(&s, p, c, &code, Some(e.body.message), None).await;
        }
        Err(e) => return Err(e.into()),
    };
    if let Some((ct, data)) = photo {
        if let Err(e) = app::add_photo(&s, &p, raised.id, &ct, &data).await {
            return needs_page_with(&s, p, c, &code, Some(e.message), Some(raised.id)).await;
        }
    }
    Ok(Redirect::to(&format!("/renewal/{code}/needs?raised={}", raised.id)).into_response())
}

/// The needs page with a refused upload's message, answered with the refusal's status.
async fn needs_refused(
    s: &AppState,
    p: gongzhi_core::access::Principal,
    c: Chrome,
    code: &str,
    e: ApiError,
) -> Result<Response, PageError> {
    let status = e.status;
    let mut r = needs_page_with(s, p, c, code, Some(e.body.message), None).await?;
    *r.status_mut() = status;
    Ok(r)
}

/// GET /renewal/{community}/clusters (staff).
pub async fn clusters_page(
    State(s): State<AppState>,
    LoggedIn { p, c }: LoggedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let app::StaffOverview {
        community: d,
        needs,
        offers,
        clusters: views,
    } = app::staff_overview(&s, &p, &code).await?;
    let rows: HashMap<i64, NeedRow> = needs
        .iter()
        .map(|n| {
            let mut r = need_row(&c, n);
            r.offers = offers
                .get(&n.id)
                .into_iter()
                .flatten()
                .map(|(x, dist)| {
                    (
                        x.cases.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                        format!(
                            "{} × {} ({:.0} m): {}",
                            x.subcategory,
                            x.cases.len(),
                            dist,
                            x.cases.iter().map(|k| format!("#{k}")).collect::<Vec<_>>().join(" ")
                        ),
                    )
                })
                .collect();
            (n.id, r)
        })
        .collect();
    let mut clustered: BTreeMap<i64, ()> = BTreeMap::new();
    let mut clusters = Vec::new();
    for (v, steps) in &views {
        let mut ns = Vec::new();
        for id in &v.needs {
            clustered.insert(*id, ());
            if let Some(r) = rows.get(id) {
                ns.push(NeedRow {
                    id: r.id,
                    category: r.category.clone(),
                    text: r.text.clone(),
                    status: r.status.clone(),
                    photos: r.photos.clone(),
                    evidence: r.evidence.clone(),
                    offers: r.offers.clone(),
                });
            }
        }
        let history = steps
            .iter()
            .map(|e| format!("{} {}", super::cases::local_time(e.at), e.kind))
            .collect();
        clusters.push(StaffCluster {
            row: row(&c, v),
            needs: ns,
            history,
        });
    }
    let unclustered = needs
        .iter()
        .filter(|n| !clustered.contains_key(&n.id))
        .filter_map(|n| {
            rows.get(&n.id).map(|r| {
                let mut x = need_row(&c, n);
                x.offers = r.offers.clone();
                x
            })
        })
        .collect();
    let page = ClustersPage {
        code: code.clone(),
        name: d.name.clone(),
        clusters,
        unclustered,
        c,
    };
    render(&page.c, &page)
}

/// The values of a url-encoded form body, repeated keys kept.
fn form_values(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn first(values: &[(String, String)], key: &str) -> Option<String> {
    values.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn ids(values: &[(String, String)], key: &str) -> Result<Vec<i64>, AppError> {
    values
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split([',', ' ', '，'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|v| {
            v.trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| AppError::invalid(format!("{key}: '{v}' is not a number")))
        })
        .collect()
}

/// POST /renewal/{community}/clusters/refresh
pub async fn refresh_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    app::refresh_from_page(&s, &p, &code).await?;
    Ok(Redirect::to(&format!("/renewal/{code}/clusters")).into_response())
}

/// POST /renewal/clusters/{id}/{action}: rename (name, version), merge (from), split (needs, name).
pub async fn cluster_step(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path((id, action)): Path<(i64, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let v = form_values(&body);
    let edit = match action.as_str() {
        "rename" => Ok(ClusterEdit::Rename(app::Rename {
            name: first(&v, "name").unwrap_or_default(),
            version: first(&v, "version").and_then(|x| x.parse().ok()),
        })),
        "merge" => ids(&v, "from").map(|from| ClusterEdit::Merge(app::Merge { from, reason: None })),
        "split" => ids(&v, "needs").map(|needs| {
            ClusterEdit::Split(app::Split {
                needs,
                name: first(&v, "name").unwrap_or_default(),
                reason: None,
            })
        }),
        other => Err(AppError::not_found(format!("cluster step '{other}'"))),
    };
    let community = app::edit_from_page(&s, &p, id, edit).await?;
    Ok(Redirect::to(&format!("/renewal/{community}/clusters")).into_response())
}

/// POST /renewal/needs/{id}/evidence (cases).
pub async fn evidence_submit(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let v = form_values(&body);
    let community = app::link_evidence_from_page(&s, &p, id, ids(&v, "cases")).await?;
    Ok(Redirect::to(&format!("/renewal/{community}/clusters")).into_response())
}

/// GET /renewal/needs/{id}/photos/{photo}: a need's photo for the pages (cookie session).
pub async fn photo(
    State(s): State<AppState>,
    LoggedIn { p, .. }: LoggedIn,
    Path((id, photo)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let media = app::photo_media(&s, &p, id, photo).await?;
    Ok(crate::media::moved(media))
}
