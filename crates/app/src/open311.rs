//! Open311 GeoReport v2: which city a `jurisdiction_id` names, the public view of cases as
//! service requests, the clients (each a person, role resident in the whole city, with a key
//! shown once) and the creation of a request as an ordinary case. The web crate's `/open311/v2`
//! reads the HTTP request, calls these and renders XML or JSON.

use gongzhi_core::ids::CaseId;
use std::collections::HashMap;

use gongzhi_core::access::Principal;
use gongzhi_core::case::{CaseEvent, CaseSource, PublicCase};
use gongzhi_core::catalogue::CaseKind;
use gongzhi_core::media::Checked;
use gongzhi_core::open311 as o311;
use gongzhi_store::prelude::*;
use gongzhi_store::{CaseRow, Store};
pub use gongzhi_store::{Open311Query, Open311Request};

use crate::auth::random_hex;
use crate::cases::{self as loop_, Duplicate, Report};
use crate::{AppError, AppResult, AppState, ErrorKind};

/// Make an Open311 client with its key (shown once) for `city`: a person with role resident in
/// the whole city, as whom the client's requests are reported.
pub async fn create_key(s: &AppState, city: CityCode, label: &str) -> AppResult<String> {
    let key = format!("o311_{}", random_hex(24));
    s.store.create_open311_client(city, label, &key, None).await?;
    Ok(key)
}

/// The city a `jurisdiction_id` names (its code or name); the default city when absent.
pub async fn jurisdiction(s: &AppState, id: Option<&str>) -> AppResult<CityCode> {
    let Some(id) = id else {
        return Ok(s.default_city);
    };
    for code in s.store.cities().await? {
        let name = s
            .store
            .division(code, code.as_str())
            .await?
            .map(|d| d.name)
            .unwrap_or_default();
        if o311::matches_jurisdiction(id, code.as_str(), &name) {
            return Ok(code);
        }
    }
    Err(AppError::new(
        ErrorKind::NotFound,
        "not_found",
        format!(
            "jurisdiction_id '{id}' is not a city served here; use its code (e.g. {}) or its name",
            s.default_city
        ),
    ))
}

/// What discovery tells about a city: its contact and how keys are issued, as the operator set
/// them (`open311_contact`, `open311_key_service`); `None` where unset.
pub struct Discovery {
    pub contact: Option<String>,
    pub key_service: Option<String>,
}

pub async fn discovery(s: &AppState, city: CityCode) -> AppResult<Discovery> {
    Ok(Discovery {
        contact: s.store.setting(city, "open311_contact").await?,
        key_service: s.store.setting(city, "open311_key_service").await?,
    })
}

/// A case as the public sees it through Open311: no contacts; for 12345 service requests no
/// description, no grid and a rounded point.
pub struct PublicRequest {
    pub id: i64,
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_at: i64,
    pub updated_at: i64,
    pub expected_at: Option<i64>,
    pub address: String,
    /// The grid, where the public may see it.
    pub address_id: Option<String>,
    pub lng: f64,
    pub lat: f64,
    /// A photo uploaded with the request (its media id).
    pub photo_id: Option<i64>,
    /// The media URL the client sent.
    pub media_url: Option<String>,
}

/// One page of a search of requests, and the total found.
pub async fn search(s: &AppState, city: CityCode, q: &Open311Query) -> AppResult<(Vec<PublicRequest>, i64)> {
    let (rows, total) = s.store.open311_requests(city, q).await?;
    let list = public_requests(s, city, rows.into_iter().filter_map(PublicCase::of).collect()).await?;
    Ok((list, total))
}

/// One request; an internal case answers as if it did not exist.
pub async fn request(s: &AppState, city: CityCode, id: CaseId) -> AppResult<Option<PublicRequest>> {
    let Some(row) = s.store.case(city, id).await?.and_then(PublicCase::of) else {
        return Ok(None);
    };
    Ok(public_requests(s, city, vec![row]).await?.pop())
}

/// The request a token was given for.
pub async fn request_of_token(s: &AppState, city: CityCode, token: &str) -> AppResult<Option<CaseId>> {
    Ok(s.store.open311_token(city, token).await?)
}

/// The media id of a photo uploaded with an Open311 request, named by its media id or by its
/// id before migration 0017 moved it; `None` for any other photo.
pub async fn request_photo(s: &AppState, city: CityCode, photo: i64) -> AppResult<Option<i64>> {
    let moved = s.store.media_by_legacy(city, &format!("photos:{photo}")).await?;
    for candidate in moved.map(|m| m.id).into_iter().chain([photo]) {
        if s.store.open311_photo(city, candidate).await?.is_some() {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

async fn public_requests(
    s: &AppState,
    city: CityCode,
    rows: Vec<PublicCase<CaseRow>>,
) -> AppResult<Vec<PublicRequest>> {
    let cat = loop_::catalogue(s, city).await?;
    let ids: Vec<CaseId> = rows.iter().map(|r| r.case().id).collect();
    let mut notes: HashMap<CaseId, Vec<CaseEvent>> = HashMap::new();
    for (id, e) in s.store.case_events_of_kinds(city, &ids, o311::NOTE_EVENTS).await? {
        notes.entry(id).or_default().push(e);
    }
    let mut media = s.store.open311_media(city, &ids).await?;
    let mut places = Places::default();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (c, row) = (row.case(), row.inner());
        let kind = o311::case_kind(&cat, &c.category);
        let (service_name, notice) = match cat.condition(&c.condition) {
            Some((cat_, cond)) => (o311::service_name(cat_, cond), Some(o311::service_notice(cond))),
            None => (c.condition.clone(), None),
        };
        let public_grid = (kind != CaseKind::ServiceRequest).then(|| c.grid.clone()).flatten();
        let address = places
            .address(&s.store, city, &row.area, public_grid.as_deref())
            .await?;
        let (lng, lat) = o311::public_point(kind, c.lng, c.lat);
        let m = media.remove(&c.id).unwrap_or_default();
        out.push(PublicRequest {
            id: c.id.0,
            status: o311::status_of(c.state),
            status_notes: o311::status_note(notes.get(&c.id).into_iter().flatten()),
            service_name,
            service_code: c.condition.clone(),
            description: o311::public_description(kind, &c.description),
            agency_responsible: c.unit_name.clone(),
            service_notice: notice,
            requested_at: row.created_at,
            updated_at: row.updated_at,
            expected_at: c.deadline_ms,
            address,
            address_id: public_grid,
            lng,
            lat,
            photo_id: m.photo_id,
            media_url: if m.photo_id.is_some() { None } else { m.media_url },
        });
    }
    Ok(out)
}

/// Addresses of areas and grids, looked up once per answer.
#[derive(Default)]
struct Places {
    areas: HashMap<String, String>,
    grids: HashMap<String, Option<String>>,
}

impl Places {
    async fn address(&mut self, store: &Store, city: CityCode, area: &str, grid: Option<&str>) -> AppResult<String> {
        if !self.areas.contains_key(area) {
            let names: Vec<String> = store
                .ancestry(city, area)
                .await?
                .into_iter()
                .filter(|d| d.code.as_str() != city.as_str())
                .map(|d| d.name)
                .collect();
            self.areas.insert(area.to_owned(), names.join(""));
        }
        let mut text = self.areas[area].clone();
        if let Some(g) = grid {
            if !self.grids.contains_key(g) {
                let name = store.grid(city, g).await?.map(|g| g.name);
                self.grids.insert(g.to_owned(), name);
            }
            if let Some(name) = &self.grids[g] {
                text = format!("{text} {name}");
            }
        }
        Ok(text.trim().to_owned())
    }
}

/// The person an `api_key` (an Open311 key, or the bearer token of a login) stands for in `city`.
pub async fn client(s: &AppState, city: CityCode, key: Option<&str>) -> AppResult<Principal> {
    let key = key.ok_or_else(|| AppError::forbidden("api_key is required to create a request"))?;
    let invalid = || AppError::forbidden("api_key is not valid: ask the operator for a key");
    let elsewhere = || AppError::forbidden(format!("api_key is not valid for jurisdiction {city}"));
    if let Some(k) = s.store.open311_key(key).await? {
        if k.city != city {
            return Err(elsewhere());
        }
        return s.store.principal(city, k.person_id).await?.ok_or_else(invalid);
    }
    match s.store.principal_for_token(key).await? {
        Some(pr) if pr.city == city => Ok(pr),
        Some(_) => Err(elsewhere()),
        None => Err(invalid()),
    }
}

/// A point inside the grid `code` (its interior point, WGS-84), for a request located by grid.
pub async fn grid_point(s: &AppState, city: CityCode, code: &str) -> AppResult<(f64, f64)> {
    let g = s
        .store
        .grid(city, code)
        .await?
        .ok_or_else(|| AppError::invalid(format!("no grid has the code {code}")))?;
    let pt = geo::InteriorPoint::interior_point(&g.geometry)
        .ok_or_else(|| AppError::invalid(format!("grid {code} has no area")))?;
    Ok((pt.x(), pt.y()))
}

/// A new request: the report (as the client's person, source `api`), the photo uploaded with it
/// (already checked by the media policy) and what Open311 keeps beside the case (its `photo_id`
/// is set here).
pub struct NewRequest {
    pub report: Report,
    pub photo: Option<Checked>,
    pub request: Open311Request,
}

/// Take in a request as an ordinary case reported by `who`; returns the case id and the
/// possible duplicates nearby.
pub async fn create(s: &AppState, who: &Principal, new: NewRequest) -> AppResult<(i64, Vec<Duplicate>)> {
    let case = loop_::prepare(s, who, &new.report, Some(CaseSource::Api)).await?;
    let photo = new.photo.as_ref().map(|p| (p.content_type, p.data.as_slice()));
    let (row, _) = s
        .store
        .create_open311_request(who.city, &case, photo, &new.request, Some(who.person_id))
        .await?;
    let dups = loop_::duplicates(s, who, &row.case).await?;
    Ok((row.case.id.0, dups))
}
