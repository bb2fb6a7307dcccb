//! Cutting a strategic route into sols: positions along a polyline, the stretch a sol drives,
//! and the corridor (keep-in) it may use.

use geo::{ConvexHull, MultiPoint, Point};

use crate::checker::Pt;

/// The point at arc length `s` metres along `route` (clamped to its ends).
#[must_use]
pub fn point_at(route: &[Pt], s: f64) -> Pt {
    let Some(&first) = route.first() else { return (f64::NAN, f64::NAN) };
    if s <= 0.0 {
        return first;
    }
    let mut left = s;
    for w in route.windows(2) {
        let d = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        if left <= d && d > 0.0 {
            let f = left / d;
            return (w[0].0 + f * (w[1].0 - w[0].0), w[0].1 + f * (w[1].1 - w[0].1));
        }
        left -= d;
    }
    route[route.len() - 1]
}

/// The arc length along `route` of the point of `route` nearest `p` (the first such point).
#[must_use]
pub fn project(route: &[Pt], p: Pt) -> f64 {
    let (mut best_d, mut best_s, mut s) = (f64::INFINITY, 0.0, 0.0);
    if route.len() == 1 {
        return 0.0;
    }
    for w in route.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (vx, vy) = (b.0 - a.0, b.1 - a.1);
        let len2 = vx * vx + vy * vy;
        let t = if len2 > 0.0 {
            (((p.0 - a.0) * vx + (p.1 - a.1) * vy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let q = (a.0 + t * vx, a.1 + t * vy);
        let d = (p.0 - q.0).hypot(p.1 - q.1);
        if d < best_d - 1e-9 {
            best_d = d;
            best_s = s + t * len2.sqrt();
        }
        s += len2.sqrt();
    }
    best_s
}

/// The stretch of `route` between arc lengths `s0` and `s1` (both ends included).
#[must_use]
pub fn slice(route: &[Pt], s0: f64, s1: f64) -> Vec<Pt> {
    let mut out = vec![point_at(route, s0)];
    let mut s = 0.0;
    for w in route.windows(2) {
        let d = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        s += d;
        if s > s0 && s < s1 {
            out.push(w[1]);
        }
    }
    out.push(point_at(route, s1));
    out
}

/// The convex hull of every point within `half_width_m` of `points` (each point taken as a
/// 16-gon of that radius, so the hull holds the true buffer): a sol's keep-in. A ring in map
/// metres, counter-clockwise, closed.
#[must_use]
pub fn corridor(points: &[Pt], half_width_m: f64) -> Vec<[f64; 2]> {
    let mut all = Vec::with_capacity(points.len() * 16);
    // A 16-gon circumscribing the circle: its vertices lie at r / cos(pi / 16).
    let r = half_width_m / (std::f64::consts::PI / 16.0).cos();
    for p in points {
        for k in 0..16 {
            let a = f64::from(k) * std::f64::consts::TAU / 16.0;
            all.push(Point::new(p.0 + r * a.cos(), p.1 + r * a.sin()));
        }
    }
    let hull = MultiPoint::new(all).convex_hull();
    hull.exterior().coords().map(|c| [c.x, c.y]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_along_a_polyline() {
        let r = vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)];
        assert_eq!(point_at(&r, 5.0), (5.0, 0.0));
        assert_eq!(point_at(&r, 15.0), (10.0, 5.0));
        assert_eq!(point_at(&r, 99.0), (10.0, 10.0));
        assert_eq!(point_at(&r, -1.0), (0.0, 0.0));
        assert!((project(&r, (12.0, 4.0)) - 14.0).abs() < 1e-12);
        assert!((project(&r, (3.0, -2.0)) - 3.0).abs() < 1e-12);
        assert_eq!(slice(&r, 5.0, 15.0), vec![(5.0, 0.0), (10.0, 0.0), (10.0, 5.0)]);
    }

    #[test]
    fn the_corridor_holds_the_buffer() {
        use geo::{Contains, LineString, Polygon};
        let pts = vec![(0.0, 0.0), (100.0, 0.0), (100.0, 50.0)];
        let ring = corridor(&pts, 20.0);
        let poly = Polygon::new(
            LineString::from(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()),
            vec![],
        );
        for p in [(0.0, 19.9), (-19.9, 0.0), (100.0, 69.9), (120.0, 25.0), (50.0, -19.9)] {
            assert!(poly.contains(&Point::new(p.0, p.1)), "{p:?}");
        }
        assert!(!poly.contains(&Point::new(50.0, -21.0)));
    }
}
