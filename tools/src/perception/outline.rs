//! From a mapped outline (a classifier's traced cell edges, with hundreds of vertices and
//! holes) to one a model could draw as a mark: a simple ring of at most
//! [`MAX_VERTICES`](super::mark::MAX_VERTICES) vertices.
//!
//! Used by the reference policy, whose perception is the baseline classifier: it marks what
//! the classifier finds the way a model would. Holes are dropped (the mark covers them, the
//! cautious side), the ring is simplified with topology-preserving Visvalingam-Whyatt at a
//! growing tolerance, and when no simplification is simple and small enough the ring becomes
//! its convex hull, then its minimum rotated rectangle, both of which cover the outline.

use geo::{ConvexHull, MinimumRotatedRect, Polygon, SimplifyVwPreserve};

use super::mark::{MarkError, MarkInput, MarkShape, MAX_VERTICES};
use crate::geometry::Pt;

/// The exterior of `polygon` as at most [`MAX_VERTICES`] vertices that `validate` accepts
/// (checked with `validate` against `extent`), or `None` when even its covering rectangle is
/// not a valid mark (off the map, too small or too large).
#[must_use]
pub fn mark_ring(polygon: &Polygon<f64>, extent: (f64, f64, f64, f64)) -> Option<Vec<Pt>> {
    let ok = |p: &Polygon<f64>| -> Option<Vec<Pt>> {
        let ring: Vec<Pt> = p.exterior().points().map(|q| (q.x(), q.y())).collect();
        let open = &ring[..ring.len().saturating_sub(1)];
        if open.len() > MAX_VERTICES {
            return None;
        }
        let input = MarkInput {
            class: "unknown".into(),
            shape: MarkShape::Polygon(open.to_vec()),
            confidence: 1.0,
            reason: "outline".into(),
        };
        match super::mark::validate(&input, extent) {
            Ok(_) => Some(open.to_vec()),
            Err(MarkError::UnknownClass { .. }) => unreachable!("unknown is a class"),
            Err(_) => None,
        }
    };
    let shell = Polygon::new(polygon.exterior().clone(), vec![]);
    if let Some(r) = ok(&shell) {
        return Some(r);
    }
    let mut eps = 0.25;
    for _ in 0..16 {
        let s = shell.simplify_vw_preserve(&eps);
        if s.exterior().0.len() <= MAX_VERTICES + 1 {
            if let Some(r) = ok(&s) {
                return Some(r);
            }
        }
        eps *= 2.0;
    }
    let hull = shell.convex_hull();
    if let Some(r) = ok(&hull) {
        return Some(r);
    }
    shell.minimum_rotated_rect().and_then(|rect| ok(&rect))
}

#[cfg(test)]
mod tests {
    use geo::{Area, Contains, LineString};

    use super::*;

    const EXTENT: (f64, f64, f64, f64) = (-1000.0, -1000.0, 1000.0, 1000.0);

    /// A staircase outline of `n` steps (as traced cell edges are), with a hole.
    fn staircase(n: usize) -> Polygon<f64> {
        let mut pts = vec![(0.0, 0.0)];
        for i in 0..n {
            let (x, y) = (i as f64, i as f64);
            pts.push((x + 1.0, y));
            pts.push((x + 1.0, y + 1.0));
        }
        pts.push((0.0, n as f64));
        pts.push((0.0, 0.0));
        let hole = LineString::from(vec![(0.2, 0.5), (0.6, 0.5), (0.6, 0.9), (0.2, 0.5)]);
        Polygon::new(LineString::from(pts), vec![hole])
    }

    #[test]
    fn a_small_outline_is_kept_and_a_large_one_reduced_to_a_valid_mark() {
        let small = staircase(5);
        let r = mark_ring(&small, EXTENT).unwrap();
        assert_eq!(r.len(), 12);
        let big = staircase(200);
        let r = mark_ring(&big, EXTENT).unwrap();
        assert!(r.len() <= MAX_VERTICES && r.len() >= 3, "{}", r.len());
        let mut closed = r.clone();
        closed.push(r[0]);
        let p = Polygon::new(LineString::from(closed), vec![]);
        let (a, b) =
            (p.unsigned_area(), Polygon::new(big.exterior().clone(), vec![]).unsigned_area());
        assert!((a - b).abs() / b < 0.1, "area {a} against {b}");
    }

    #[test]
    fn outlines_that_cannot_be_marks_give_none() {
        let far = Polygon::new(
            LineString::from(vec![(5000.0, 0.0), (5010.0, 0.0), (5010.0, 10.0), (5000.0, 0.0)]),
            vec![],
        );
        assert!(mark_ring(&far, EXTENT).is_none());
        let tiny = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.0)]),
            vec![],
        );
        assert!(mark_ring(&tiny, EXTENT).is_none());
        let square = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]),
            vec![],
        );
        let r = mark_ring(&square, EXTENT).unwrap();
        let mut closed = r.clone();
        closed.push(r[0]);
        assert!(Polygon::new(LineString::from(closed), vec![]).contains(&geo::Point::new(5.0, 5.0)));
    }
}
