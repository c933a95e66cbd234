//! SVG maps drawn on the server from WGS-84 polygons: no tile server, works offline.

use geo::{BoundingRect, Centroid};

pub struct Shape {
    /// Link target when clicked (empty: no link).
    pub href: String,
    pub label: String,
    pub geometry: geo::MultiPolygon<f64>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG map of the shapes, scaled to fit a 800-wide view box (longitude scaled by cos(latitude)).
pub fn map(shapes: &[Shape]) -> String {
    let rects: Vec<geo::Rect<f64>> = shapes.iter().filter_map(|s| s.geometry.bounding_rect()).collect();
    let Some(first) = rects.first() else {
        return String::new();
    };
    let (mut x0, mut y0, mut x1, mut y1) = (first.min().x, first.min().y, first.max().x, first.max().y);
    for r in &rects {
        x0 = x0.min(r.min().x);
        y0 = y0.min(r.min().y);
        x1 = x1.max(r.max().x);
        y1 = y1.max(r.max().y);
    }
    let kx = ((y0 + y1) / 2.0).to_radians().cos();
    let w = ((x1 - x0) * kx).max(1e-9);
    let h = (y1 - y0).max(1e-9);
    let scale: f64 = 800.0 / w;
    let height = (h * scale).clamp(100.0, 1600.0);
    let scale = scale.min(height / h);
    let px = |x: f64| (x - x0) * kx * scale;
    let py = |y: f64| (y1 - y) * scale;
    let mut out = format!(
        r#"<svg class="map" viewBox="-4 -4 {:.0} {:.0}" xmlns="http://www.w3.org/2000/svg" role="img">"#,
        w * scale + 8.0,
        h * scale + 8.0
    );
    for (i, s) in shapes.iter().enumerate() {
        let mut d = String::new();
        for poly in &s.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (j, c) in ring.coords().enumerate() {
                    d.push_str(&format!(
                        "{}{:.1},{:.1}",
                        if j == 0 { "M" } else { "L" },
                        px(c.x),
                        py(c.y)
                    ));
                }
                d.push('Z');
            }
        }
        let label = esc(&s.label);
        let shape = format!(r#"<path class="area c{}" d="{d}"><title>{label}</title></path>"#, i % 6);
        if s.href.is_empty() {
            out.push_str(&shape);
        } else {
            out.push_str(&format!(
                r#"<a href="{}" aria-label="{label}">{shape}</a>"#,
                esc(&s.href)
            ));
        }
        if shapes.len() <= 60 {
            if let Some(c) = s.geometry.centroid() {
                out.push_str(&format!(
                    r#"<text x="{:.1}" y="{:.1}" class="label">{label}</text>"#,
                    px(c.x()),
                    py(c.y())
                ));
            }
        }
    }
    out.push_str("</svg>");
    out
}
