//! The one media store's access rule: who may read which stored file (photos, attachments,
//! documents). Types and sizes are the core's (`gongzhi_core::media`); storage is the store's.

use gongzhi_core::access::Principal;
use gongzhi_core::ids::CaseId;
use gongzhi_core::visibility::Stage;
use gongzhi_store::prelude::*;
pub use gongzhi_store::{Media, MediaInfo};

use crate::{AppResult, AppState};

/// Whether `p` may read a file: a public one anyone; the others as their owner's module says
/// (case photos: who may see the case; need photos: who may see the community's needs; survey
/// photos: the initiative's two stages). Milestone photos and proposal attachments are public.
pub async fn may_read(s: &AppState, p: Option<&Principal>, city: CityCode, m: &MediaInfo) -> AppResult<bool> {
    if m.public {
        return Ok(true);
    }
    let mut parts = m.owner.split(':');
    let (kind, id) = (
        parts.next().unwrap_or(""),
        parts.next().and_then(|x| x.parse::<i64>().ok()),
    );
    let Some(id) = id else { return Ok(false) };
    Ok(match kind {
        "milestone" | "proposal" => true,
        "case" => match p {
            Some(p) => s
                .store
                .case(city, CaseId(id))
                .await?
                .is_some_and(|r| crate::cases::may_view(p, &r)),
            None => false,
        },
        "need" => match p {
            Some(p) => match crate::renewal_needs::need(s, city, id).await {
                Ok((_, _, community)) => crate::renewal_needs::check_view(p, &community).is_ok(),
                Err(_) => false,
            },
            None => false,
        },
        "initiative" => crate::initiatives::seat_of(s, p, id).await?.sees(id, Stage::Front),
        _ => false,
    })
}

/// A stored file with its bytes, when `p` (logged in or not) may read it; `None` both when there
/// is no such file and when `p` may not read it (a file one may not see does not exist for one).
pub async fn read(s: &AppState, p: Option<&Principal>, city: CityCode, id: i64) -> AppResult<Option<Media>> {
    let Some(media) = s.store.media(city, id).await? else {
        return Ok(None);
    };
    Ok(may_read(s, p, city, &media.info).await?.then_some(media))
}

/// The media id an old per-record URL names: its old key `legacy` (a row moved by migration
/// 0017) first, else a media id of that owner (`owner` ending in `:` names every owner of a kind).
pub async fn resolve(s: &AppState, city: CityCode, legacy: &str, owner: &str, id: i64) -> AppResult<Option<i64>> {
    let owned = |m: &MediaInfo| m.owner == owner || (owner.ends_with(':') && m.owner.starts_with(owner));
    if let Some(m) = s.store.media_by_legacy(city, legacy).await? {
        if owned(&m) {
            return Ok(Some(m.id));
        }
    }
    Ok(s.store.media_info(city, id).await?.filter(owned).map(|m| m.id))
}
