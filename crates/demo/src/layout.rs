//! Lay the city out: each division gets a rectangle inside its parent's, in code order.

use gongzhi_core::territory::{Division, DivisionCode, Level};

/// An axis-aligned rectangle in WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn to_multipolygon(self) -> geo::MultiPolygon<f64> {
        let ring = vec![
            (self.x0, self.y0),
            (self.x1, self.y0),
            (self.x1, self.y1),
            (self.x0, self.y1),
            (self.x0, self.y0),
        ];
        geo::MultiPolygon(vec![geo::Polygon::new(geo::LineString::from(ring), vec![])])
    }

    pub fn centre(self) -> (f64, f64) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
}

/// Split `r` into `n` cells of equal area, in rows as square as the shape allows; the last row's
/// cells are widened to fill it. Cells share edges exactly, so they tile `r`.
pub fn tile(r: Rect, n: usize) -> Vec<Rect> {
    if n == 0 {
        return Vec::new();
    }
    let k = ((r.y0 + r.y1) / 2.0).to_radians().cos();
    let aspect = (r.x1 - r.x0) * k / (r.y1 - r.y0);
    let cols = ((n as f64 * aspect).sqrt().round() as usize).clamp(1, n);
    let rows = n.div_ceil(cols);
    let mut out = Vec::with_capacity(n);
    for row in 0..rows {
        let in_row = if row + 1 == rows { n - cols * (rows - 1) } else { cols };
        let y1 = r.y1 - (r.y1 - r.y0) * row as f64 / rows as f64;
        let y0 = if row + 1 == rows {
            r.y0
        } else {
            r.y1 - (r.y1 - r.y0) * (row + 1) as f64 / rows as f64
        };
        for c in 0..in_row {
            let x0 = r.x0 + (r.x1 - r.x0) * c as f64 / in_row as f64;
            let x1 = if c + 1 == in_row {
                r.x1
            } else {
                r.x0 + (r.x1 - r.x0) * (c + 1) as f64 / in_row as f64
            };
            out.push(Rect { x0, y0, x1, y1 });
        }
    }
    out
}

/// Rectangles for every district, street and community, nested as their codes nest.
pub fn lay_out(divisions: &[Division], city: Rect) -> Vec<(DivisionCode, Rect)> {
    let mut out = Vec::new();
    let children = |parent: &DivisionCode, level: Level| -> Vec<&Division> {
        divisions
            .iter()
            .filter(|d| d.level == level && d.parent.as_ref() == Some(parent))
            .collect()
    };
    let Some(top) = divisions.iter().find(|d| d.level == Level::City) else {
        return out;
    };
    let districts = children(&top.code, Level::District);
    for (d, dr) in districts.iter().zip(tile(city, districts.len())) {
        out.push((d.code.clone(), dr));
        let streets = children(&d.code, Level::Street);
        for (s, sr) in streets.iter().zip(tile(dr, streets.len())) {
            out.push((s.code.clone(), sr));
            let communities = children(&s.code, Level::Community);
            for (c, cr) in communities.iter().zip(tile(sr, communities.len())) {
                out.push((c.code.clone(), cr));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_rectangle() {
        let r = Rect {
            x0: 104.0,
            y0: 30.0,
            x1: 104.1,
            y1: 30.05,
        };
        for n in [1, 2, 3, 7, 10, 13] {
            let cells = tile(r, n);
            assert_eq!(cells.len(), n);
            let area: f64 = cells.iter().map(|c| (c.x1 - c.x0) * (c.y1 - c.y0)).sum();
            assert!((area - 0.1 * 0.05).abs() < 1e-12, "n={n}");
            assert!(cells
                .iter()
                .all(|c| c.x0 >= r.x0 && c.x1 <= r.x1 && c.y0 >= r.y0 && c.y1 <= r.y1));
        }
    }
}
