//! Plane geometry in map metres that every floor shares: the map point, the length of a
//! polyline, the distance from a point to a segment, the exact segment-to-polygon distances of
//! the zone rules ([`polygon`]) and an R-tree index of zones ([`zones`]).
//!
//! One copy of each: the checker, the planner, the model-facing tools, site authoring and the
//! eval scores all measure with these, so a route is the same length to all of them.

pub mod polygon;
pub mod zones;

pub use polygon::{
    bounds, polygon_from_ring, segment_inside_clearance, segment_to_polygon, Nearest,
};
pub use zones::{Zone, ZoneHit, ZoneIndex};

/// A map point `(x, y)`, metres.
pub type Pt = (f64, f64);

/// Distance between two points, metres.
#[must_use]
pub fn distance(a: Pt, b: Pt) -> f64 {
    (b.0 - a.0).hypot(b.1 - a.1)
}

/// Length of a polyline (0 for fewer than two points), metres. Takes `(x, y)` tuples or the
/// `[x, y]` arrays sols and GeoJSON routes are read into.
#[must_use]
pub fn polyline_length<P: Copy + Into<Pt>>(points: &[P]) -> f64 {
    points.windows(2).map(|w| distance(w[0].into(), w[1].into())).sum()
}

/// The point of segment `a -> b` closest to `p`: `(t, distance)`, `t` in `[0, 1]` from `a`
/// (0 for a degenerate segment). Computed relative to `a`, so map coordinates of millions of
/// metres lose no precision.
#[must_use]
pub fn closest_on_segment(p: Pt, a: Pt, b: Pt) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (qx, qy) = (p.0 - a.0, p.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { ((qx * dx + qy * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    (t, (qx - t * dx).hypot(qy - t * dy))
}

/// Distance from `p` to segment `a -> b`, metres.
#[must_use]
pub fn point_segment_distance(p: Pt, a: Pt, b: Pt) -> f64 {
    closest_on_segment(p, a, b).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_length_sums_the_segments() {
        assert_eq!(polyline_length::<Pt>(&[]), 0.0);
        assert_eq!(polyline_length(&[(1.0, 1.0)]), 0.0);
        assert_eq!(polyline_length(&[(0.0, 0.0), (3.0, 4.0), (3.0, 10.0)]), 11.0);
        assert_eq!(polyline_length(&[[0.0, 0.0], [3.0, 4.0], [3.0, 10.0]]), 11.0);
    }

    #[test]
    fn point_to_segment_distance_is_to_the_nearest_point_of_the_segment() {
        // Beside the segment, beyond each end, on it, and to a degenerate segment.
        assert_eq!(closest_on_segment((5.0, 2.0), (0.0, 0.0), (10.0, 0.0)), (0.5, 2.0));
        assert_eq!(closest_on_segment((13.0, 4.0), (0.0, 0.0), (10.0, 0.0)), (1.0, 5.0));
        assert_eq!(closest_on_segment((-3.0, -4.0), (0.0, 0.0), (10.0, 0.0)), (0.0, 5.0));
        assert_eq!(point_segment_distance((4.0, 0.0), (0.0, 0.0), (10.0, 0.0)), 0.0);
        assert_eq!(point_segment_distance((3.0, 4.0), (0.0, 0.0), (0.0, 0.0)), 5.0);
        // Large map coordinates keep their precision.
        let d = point_segment_distance(
            (8_142_407.35, -276_700.0),
            (8_142_406.0, -276_800.0),
            (8_142_406.0, -276_600.0),
        );
        assert!((d - 1.35).abs() < 1e-9, "{d}");
    }
}
