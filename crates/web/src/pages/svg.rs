//! SVG maps and charts drawn on the server from WGS-84 polygons: no tile server, works offline.

use geo::{BoundingRect, Centroid};

pub struct Shape {
    /// Link target when clicked (empty: no link).
    pub href: String,
    pub label: String,
    pub geometry: geo::MultiPolygon<f64>,
    /// A CSS class for the fill (e.g. a colour class `q3` of an indicator); `None`: cycle.
    pub class: Option<String>,
}

/// A point on the map (a case).
pub struct Marker {
    pub lng: f64,
    pub lat: f64,
    pub href: String,
    pub label: String,
    pub class: String,
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Choropleth classes `q0`–`q4` of an indicator's values, and the legend that matches them.
///
/// The breaks are the values' quintiles with equal breaks merged (many parts at 0 give one
/// break, not four); a value takes the highest break it reaches. The breaks spread over the five
/// colours, so the lowest value is always `q0` and the highest `q4` (a single value: `q2`).
/// `None` (no value) gets no class. The legend lists each break's class and lowest value.
pub fn quintiles(values: &[Option<f64>]) -> (Vec<Option<String>>, Vec<(String, f64)>) {
    let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mut breaks: Vec<f64> = (0..5)
        .filter_map(|q| sorted.get((q * n / 5).min(n.saturating_sub(1))).copied())
        .collect();
    breaks.dedup();
    let colour = |j: usize| match breaks.len() {
        1 => "q2".to_string(),
        k => format!("q{}", j * 4 / (k - 1)),
    };
    let classes = values
        .iter()
        .map(|v| {
            let v = (*v)?;
            let j = breaks.iter().rposition(|b| *b <= v).unwrap_or(0);
            Some(colour(j))
        })
        .collect();
    let legend = breaks.iter().enumerate().map(|(j, b)| (colour(j), *b)).collect();
    (classes, legend)
}

/// An SVG map of the shapes, scaled to fit an 800-wide view box (longitude scaled by cos(latitude)).
pub fn map(shapes: &[Shape]) -> String {
    map_with(shapes, &[], false)
}

/// A map with markers; `pick` makes a click set the report form's longitude and latitude
/// (the view box's geography is in data attributes for `assets/app.js`).
pub fn map_with(shapes: &[Shape], markers: &[Marker], pick: bool) -> String {
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
    let scale: f64 = (800.0 / w).min(1200.0 / h);
    let px = |x: f64| (x - x0) * kx * scale;
    let py = |y: f64| (y1 - y) * scale;
    let pick_attrs = if pick {
        format!(r#" data-pick="1" data-x0="{x0}" data-y1="{y1}" data-kx="{kx}" data-scale="{scale}""#)
    } else {
        String::new()
    };
    let mut out = format!(
        r#"<svg class="map" viewBox="-4 -4 {:.0} {:.0}" xmlns="http://www.w3.org/2000/svg" role="img"{pick_attrs}>"#,
        w * scale + 8.0,
        h * scale + 8.0
    );
    let mut labels = String::new();
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
        let class = s.class.clone().unwrap_or_else(|| format!("c{}", i % 6));
        let shape = format!(r#"<path class="area {class}" d="{d}"><title>{label}</title></path>"#);
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
                labels.push_str(&format!(
                    r#"<text x="{:.1}" y="{:.1}" class="label">{label}</text>"#,
                    px(c.x()),
                    py(c.y())
                ));
            }
        }
    }
    // The parts' names go on top of the markers (with a white halo), else a dense
    // community's cases hide them.
    let mut dots = String::new();
    for m in markers {
        let dot = format!(
            r#"<circle class="marker {}" cx="{:.1}" cy="{:.1}" r="6"><title>{}</title></circle>"#,
            esc(&m.class),
            px(m.lng),
            py(m.lat),
            esc(&m.label)
        );
        if m.href.is_empty() {
            dots.push_str(&dot);
        } else {
            dots.push_str(&format!(
                r#"<a href="{}" aria-label="{}">{dot}</a>"#,
                esc(&m.href),
                esc(&m.label)
            ));
        }
    }
    out.push_str(&dots);
    out.push_str(&labels);
    if pick {
        out.push_str(r#"<circle id="pick" class="marker here" cx="-100" cy="-100" r="7"/>"#);
    }
    out.push_str("</svg>");
    out
}

/// A line chart of one or more series over labelled points (e.g. months), 640 × 220.
pub fn line_chart(labels: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    let (w, h, pad) = (640.0, 220.0, 36.0);
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let n = labels.len().max(2) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (n - 1.0);
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / max;
    let mut out = format!(r#"<svg class="chart" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img">"#);
    out.push_str(&format!(
        r#"<line class="axis" x1="{pad}" y1="{}" x2="{}" y2="{}"/>"#,
        h - pad,
        w - pad,
        h - pad
    ));
    out.push_str(&format!(r#"<text class="tick" x="4" y="{}">{max:.0}</text>"#, pad));
    for (i, l) in labels.iter().enumerate() {
        if labels.len() <= 13 || i % (labels.len() / 12 + 1) == 0 {
            out.push_str(&format!(
                r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x(i),
                h - 12.0,
                esc(l)
            ));
        }
    }
    for (k, (name, class, values)) in series.iter().enumerate() {
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        out.push_str(&format!(
            r#"<polyline class="series {class}" points="{}"><title>{}</title></polyline>"#,
            pts.join(" "),
            esc(name)
        ));
        out.push_str(&format!(
            r#"<text class="legend {class}" x="{}" y="{}">{}</text>"#,
            w - pad - 120.0,
            16.0 + 16.0 * k as f64,
            esc(name)
        ));
    }
    out.push_str("</svg>");
    out
}

/// A horizontal bar chart of labelled values.
pub fn bar_chart(rows: &[(String, f64)]) -> String {
    // Narrow enough that a phone shows the labels at a readable size (the chart is at most
    // 640 px wide, see `svg.chart.bars`); a long label is cut to 12 characters, whole in its title.
    let (w, bar, gap, left) = (420.0, 18.0, 6.0, 150.0);
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1.0);
    let h = (bar + gap) * rows.len() as f64 + gap;
    let mut out =
        format!(r#"<svg class="chart bars" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img">"#);
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = gap + (bar + gap) * i as f64;
        let bw = (w - left - 60.0) * v / max;
        let short: String = if label.chars().count() > 12 {
            label.chars().take(11).chain(['…']).collect()
        } else {
            label.clone()
        };
        out.push_str(&format!(
            r#"<text class="tick" x="{}" y="{:.1}" text-anchor="end">{}<title>{}</title></text>"#,
            left - 6.0,
            y + 13.0,
            esc(&short),
            esc(label)
        ));
        out.push_str(&format!(
            r#"<rect class="bar" x="{left}" y="{y:.1}" width="{bw:.1}" height="{bar}"><title>{v}</title></rect>"#
        ));
        out.push_str(&format!(
            r#"<text class="tick" x="{:.1}" y="{:.1}">{v}</text>"#,
            left + bw + 4.0,
            y + 13.0
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::quintiles;

    fn classes(values: &[Option<f64>]) -> Vec<Option<&'static str>> {
        let names = ["q0", "q1", "q2", "q3", "q4"];
        quintiles(values)
            .0
            .iter()
            .map(|c| c.as_deref().map(|c| *names.iter().find(|n| **n == c).expect("a class")))
            .collect()
    }

    #[test]
    fn equal_breaks_merge_and_the_legend_matches_the_classes() {
        // Two parts at 0, one at 71.4 and one without a value: 0 is the lowest colour, 71.4 the
        // highest, and the legend has one line per break (it used to print "≥ 0" four times
        // and give 71.4 the colour of a lower line).
        let values = [Some(0.0), Some(0.0), Some(71.4), None];
        assert_eq!(classes(&values), [Some("q0"), Some("q0"), Some("q4"), None]);
        let legend = quintiles(&values).1;
        assert_eq!(legend, vec![("q0".to_string(), 0.0), ("q4".to_string(), 71.4)]);
    }

    #[test]
    fn five_distinct_values_take_the_five_colours() {
        let values: Vec<Option<f64>> = [5.0, 1.0, 4.0, 2.0, 3.0].map(Some).to_vec();
        assert_eq!(
            classes(&values),
            [Some("q4"), Some("q0"), Some("q3"), Some("q1"), Some("q2")]
        );
        assert_eq!(classes(&[Some(7.0)]), [Some("q2")]);
        assert_eq!(quintiles(&[None]), (vec![None], vec![]));
    }
}
