//! Micro-renewal works and their co-produced delivery (社区微更新 · 共建): who runs delivery in a
//! community (renewal staff: planners, administrators), who takes part (its verified residents),
//! and which departments a principal may register works for.

use std::collections::BTreeSet;

use gongzhi_core::access::{Permission, Principal};

use crate::people::is_resident_of;
use crate::{AppError, AppResult};

/// Whether the principal runs delivery in the community (community planners, administrators).
pub fn is_staff(p: &Principal, community: &str) -> bool {
    p.may(Permission::DeliverRenewal, community)
}

/// Whether the principal runs delivery anywhere (lists across communities).
pub fn is_staff_somewhere(p: &Principal) -> bool {
    p.may_somewhere(Permission::DeliverRenewal)
}

/// Renewal staff of the community, or forbidden.
pub fn require_staff(p: &Principal, community: &str) -> AppResult<()> {
    if is_staff(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "only renewal staff of community {community} (community planners, administrators) may do this"
        )))
    }
}

/// Whether the principal takes part in the community's delivery (contributions, check-ins):
/// its verified residents and its renewal staff.
pub fn may_take_part(p: &Principal, community: &str) -> bool {
    is_staff(p, community) || is_resident_of(p, community)
}

/// Refuse unless [`may_take_part`]; `what` says what was asked.
pub fn require_take_part(p: &Principal, community: &str, what: &str) -> AppResult<()> {
    if may_take_part(p, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "only residents of community {community} and renewal staff may {what}"
        )))
    }
}

/// The departments `p` may register works for in `community`: any (None) for staff, else the
/// principal's own organisations.
pub fn departments_for(p: &Principal, community: &str) -> Option<BTreeSet<i64>> {
    if is_staff(p, community) {
        None
    } else {
        Some(p.units().into_iter().collect())
    }
}
