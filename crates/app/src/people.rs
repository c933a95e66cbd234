//! People and their standing in a place.

use gongzhi_core::access::Principal;

/// Whether the principal is a verified resident (认证居民) of a community: a Resident grant whose
/// scope covers the community, or lies inside it (grids of the community). The one test of
/// residency for needs, proposals, votes, delivery and the grid.
pub fn is_resident_of(p: &Principal, community: &str) -> bool {
    gongzhi_core::renewal::vote::resident_of(&p.grants, community)
}
