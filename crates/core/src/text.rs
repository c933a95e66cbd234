//! Text likeness for duplicate detection: Jaccard similarity of character bigrams, which works for
//! Chinese without word segmentation ("井盖丢失" and "丢失井盖" share most bigrams).

use std::collections::HashSet;

fn bigrams(s: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = s
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    match chars.len() {
        0 => HashSet::new(),
        1 => HashSet::from([(chars[0], ' ')]),
        _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
    }
}

/// Similarity in [0, 1]: 1 for the same text (ignoring punctuation and case), 0 for nothing shared.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (bigrams(a), bigrams(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.intersection(&b).count() as f64;
    shared / (a.len() + b.len()) as f64 * 2.0
}

/// Distance in metres between two WGS-84 points (haversine).
pub fn distance_m(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    let r = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_reports() {
        assert!(similarity("人民路12号井盖丢失", "人民路12号井盖丢失了") > 0.8);
        assert!(similarity("井盖丢失，很危险", "丢失井盖 很危险") > 0.5);
        assert!(similarity("井盖丢失", "路灯不亮") < 0.1);
        assert_eq!(similarity("", ""), 1.0);
    }

    #[test]
    fn distances() {
        // One thousandth of a degree of latitude is about 111 m.
        let d = distance_m(104.0, 30.0, 104.0, 30.001);
        assert!((d - 111.2).abs() < 0.5, "{d}");
    }
}
