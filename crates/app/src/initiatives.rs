//! Wicked-problem initiatives (前台/后台协同): the seat a person holds in an initiative, from which
//! every answer about it is built (the back stage's content reaches back-stage seats only).

use gongzhi_core::access::Principal;
use gongzhi_core::visibility::Seat;
use gongzhi_core::wicked::Side;
use gongzhi_store::prelude::*;

use crate::{AppResult, AppState};

/// The seat of a (maybe anonymous) viewer in one initiative.
pub async fn seat_of(s: &AppState, p: Option<&Principal>, id: i64) -> AppResult<Seat> {
    let Some(p) = p else { return Ok(Seat::Public) };
    let seats = s.store.initiative_seats(&p.city.to_string(), p.person_id).await?;
    Ok(match seats.iter().find(|(i, _)| *i == id) {
        Some((_, Side::Front)) => Seat::Front(id),
        Some((_, Side::Back)) => Seat::Back(id),
        None => Seat::Public,
    })
}
