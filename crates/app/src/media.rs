//! The one media store's access rule: who may read which stored file (photos, attachments,
//! documents). Types and sizes are the core's (`gongzhi_core::media`); storage is the store's.

use gongzhi_core::access::Principal;
use gongzhi_core::visibility::Stage;
use gongzhi_store::prelude::*;
use gongzhi_store::MediaInfo;

use crate::{AppResult, AppState};

/// Whether `p` may read a file: a public one anyone; the others as their owner's module says
/// (case photos: who may see the case; need photos: who may see the community's needs; survey
/// photos: the initiative's two stages). Milestone photos and proposal attachments are public.
pub async fn may_read(s: &AppState, p: Option<&Principal>, city: &str, m: &MediaInfo) -> AppResult<bool> {
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
                .case(city, id)
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
