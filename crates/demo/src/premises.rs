//! The demo's premises: buildings with units in the grids of the first few communities (enough
//! for the grid team's households, surveys and regeneration holdings to have real floors and
//! areas), placed inside their grids.

use geo::{BoundingRect, Contains, InteriorPoint, Point};
use gongzhi_core::grid::Grid;
use gongzhi_core::premises::{Area, Building, Premises, Unit, UnitUse};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Communities (the first in code order) whose grids get premises.
pub const COMMUNITIES: usize = 3;

/// Buildings per grid.
const BUILDINGS_PER_GRID: usize = 6;

/// Buildings and units for `grids` (those of the first [`COMMUNITIES`] communities).
pub fn build(rng: &mut ChaCha8Rng, grids: &[Grid]) -> Premises {
    let mut communities: Vec<&str> = grids.iter().map(|g| g.community.as_str()).collect();
    communities.sort_unstable();
    communities.dedup();
    communities.truncate(COMMUNITIES);
    let mut out = Premises::default();
    let mut line = 1;
    for grid in grids.iter().filter(|g| communities.contains(&g.community.as_str())) {
        let rect = grid.geometry.bounding_rect();
        let centre = grid.geometry.interior_point();
        for b in 0..BUILDINGS_PER_GRID {
            let point = rect
                .and_then(|r| {
                    (0..20).find_map(|_| {
                        let p = Point::new(
                            rng.gen_range(r.min().x..=r.max().x),
                            rng.gen_range(r.min().y..=r.max().y),
                        );
                        grid.geometry.contains(&p).then_some(p)
                    })
                })
                .or(centre);
            let floors: i32 = rng.gen_range(4..=18);
            let per_floor: i32 = rng.gen_range(2..=4);
            let code = format!("{}-B{:02}", grid.code, b + 1);
            let mixed = b == 0;
            line += 1;
            out.buildings.push(Building {
                code: code.clone(),
                name: format!("{}{}栋", grid.name.trim_end_matches("网格"), b + 1),
                community: grid.community.clone(),
                grid: Some(grid.code.clone()),
                address: Some(format!("{}{}栋", grid.name, b + 1)),
                lng: point.map(|p| (p.x() * 1e6).round() / 1e6),
                lat: point.map(|p| (p.y() * 1e6).round() / 1e6),
                floors: Some(floors),
            });
            out.building_lines.push(line);
            for floor in 1..=floors {
                for n in 1..=per_floor {
                    let use_ = match (mixed, floor) {
                        (true, 1) => UnitUse::Commercial,
                        _ if rng.gen_bool(0.03) => UnitUse::Vacant,
                        _ => UnitUse::Residential,
                    };
                    line += 1;
                    out.units.push(Unit {
                        code: format!("{code}-{floor:02}{n:02}"),
                        building: code.clone(),
                        label: format!("{}-{}{:02}", b + 1, floor, n),
                        floor,
                        area: Area::from_hundredths(rng.gen_range(5_500..=14_000)),
                        use_,
                    });
                    out.unit_lines.push(line);
                }
            }
        }
    }
    out
}
