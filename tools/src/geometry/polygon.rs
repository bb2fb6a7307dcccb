//! Exact planar geometry for the zone rules: distance from a route segment to a polygon (or to
//! its boundary) and the point of the segment where that distance is reached.
//!
//! Written out rather than taken from `geo` so that every function is total (degenerate
//! segments, points on edges, holes) and returns the *location* a verdict needs, and so that
//! map coordinates of millions of metres lose no precision: everything is computed relative to
//! the segment's first point.

use geo::{LineString, Polygon};

use super::{closest_on_segment, Pt};

/// Where along a segment `a -> b` something happens: `t` in `[0, 1]` and the distance found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Distance, metres (0 when touching or inside).
    pub distance: f64,
    /// Parameter along the segment, 0 at `a`, 1 at `b`.
    pub t: f64,
}

impl Nearest {
    /// The map point at `t` on `a -> b`.
    #[must_use]
    pub fn point(&self, a: Pt, b: Pt) -> Pt {
        (a.0 + self.t * (b.0 - a.0), a.1 + self.t * (b.1 - a.1))
    }

    fn better(self, other: Nearest) -> Nearest {
        // Smaller distance wins; on a tie the earlier point along the segment.
        if other.distance < self.distance || (other.distance == self.distance && other.t < self.t) {
            other
        } else {
            self
        }
    }
}

fn sub(p: Pt, o: Pt) -> Pt {
    (p.0 - o.0, p.1 - o.1)
}

fn cross(a: Pt, b: Pt) -> f64 {
    a.0 * b.1 - a.1 * b.0
}

/// Smallest parameter `t` on `0 -> d` where it meets segment `c -> e` (relative coordinates),
/// or `None` when they do not meet.
fn first_meet(d: Pt, c: Pt, e: Pt) -> Option<f64> {
    let f = sub(e, c);
    let denom = cross(d, f);
    if denom != 0.0 {
        let t = cross(c, f) / denom;
        let u = cross(c, d) / denom;
        if (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u) {
            return Some(t);
        }
        return None;
    }
    // Parallel: they meet only if collinear and overlapping.
    if cross(c, d) != 0.0 {
        return None;
    }
    let len2 = d.0 * d.0 + d.1 * d.1;
    if len2 == 0.0 {
        // The route "segment" is a point: on c -> e?
        let (_, dist) = closest_on_segment((0.0, 0.0), c, e);
        return (dist == 0.0).then_some(0.0);
    }
    let tc = (c.0 * d.0 + c.1 * d.1) / len2;
    let te = (e.0 * d.0 + e.1 * d.1) / len2;
    let (lo, hi) = (tc.min(te), tc.max(te));
    (hi >= 0.0 && lo <= 1.0).then_some(lo.max(0.0))
}

/// Even-odd point-in-ring test (relative coordinates).
fn in_ring(p: Pt, ring: &[Pt]) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (pi, pj) = (ring[i], ring[j]);
        if (pi.1 > p.1) != (pj.1 > p.1) {
            let x = pj.0 + (p.1 - pj.1) * (pi.0 - pj.0) / (pi.1 - pj.1);
            if p.0 < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// A polygon's rings relative to an origin.
struct Rel {
    rings: Vec<Vec<Pt>>,
}

impl Rel {
    fn new(poly: &Polygon<f64>, origin: Pt) -> Self {
        let ring = |ls: &LineString<f64>| -> Vec<Pt> {
            ls.coords().map(|c| (c.x - origin.0, c.y - origin.1)).collect()
        };
        let mut rings = vec![ring(poly.exterior())];
        rings.extend(poly.interiors().iter().map(ring));
        Rel { rings }
    }

    fn contains(&self, p: Pt) -> bool {
        in_ring(p, &self.rings[0]) && !self.rings[1..].iter().any(|h| in_ring(p, h))
    }

    fn edges(&self) -> impl Iterator<Item = (Pt, Pt)> + '_ {
        self.rings.iter().flat_map(|r| {
            let n = r.len();
            (0..n).map(move |i| (r[i], r[(i + 1) % n]))
        })
    }

    /// Distance from segment `0 -> d` to the rings' edges, and where on the segment.
    fn boundary(&self, d: Pt) -> Nearest {
        let mut best = Nearest { distance: f64::INFINITY, t: 0.0 };
        for (c, e) in self.edges() {
            if let Some(t) = first_meet(d, c, e) {
                best = best.better(Nearest { distance: 0.0, t });
                continue;
            }
            // Disjoint segments: the minimum is at one of the four endpoints.
            let (_, da) = closest_on_segment((0.0, 0.0), c, e);
            best = best.better(Nearest { distance: da, t: 0.0 });
            let (_, db) = closest_on_segment(d, c, e);
            best = best.better(Nearest { distance: db, t: 1.0 });
            let (tc, dc) = closest_on_segment(c, (0.0, 0.0), d);
            best = best.better(Nearest { distance: dc, t: tc });
            let (te, de) = closest_on_segment(e, (0.0, 0.0), d);
            best = best.better(Nearest { distance: de, t: te });
        }
        best
    }
}

/// Distance from segment `a -> b` to polygon `poly` (0 when the segment touches it or lies
/// inside it) and the first point of the segment where that distance is reached.
#[must_use]
pub fn segment_to_polygon(a: Pt, b: Pt, poly: &Polygon<f64>) -> Nearest {
    let rel = Rel::new(poly, a);
    let d = sub(b, a);
    if rel.contains((0.0, 0.0)) {
        return Nearest { distance: 0.0, t: 0.0 };
    }
    // Outside at `a`: either the segment meets the boundary (first meeting point), or it stays
    // outside entirely (the end `b` cannot be inside without crossing the boundary).
    rel.boundary(d)
}

/// Signed clearance of segment `a -> b` inside polygon `poly`: the distance from the segment
/// to the polygon's boundary when the whole segment is inside, 0 when it touches or crosses
/// the boundary, and minus the distance of the farther-out end when an end is outside.
/// Returns the value and where on the segment it is reached.
#[must_use]
pub fn segment_inside_clearance(a: Pt, b: Pt, poly: &Polygon<f64>) -> Nearest {
    let rel = Rel::new(poly, a);
    let d = sub(b, a);
    let mut worst: Option<Nearest> = None;
    for (t, p) in [(0.0, (0.0, 0.0)), (1.0, d)] {
        if !rel.contains(p) {
            let out = rel.boundary_point_distance(p);
            let n = Nearest { distance: -out, t };
            worst = Some(match worst {
                Some(w) if w.distance <= n.distance => w,
                _ => n,
            });
        }
    }
    if let Some(w) = worst {
        return Nearest { distance: if w.distance == 0.0 { 0.0 } else { w.distance }, t: w.t };
    }
    rel.boundary(d)
}

impl Rel {
    fn boundary_point_distance(&self, p: Pt) -> f64 {
        self.edges().map(|(c, e)| closest_on_segment(p, c, e).1).fold(f64::INFINITY, f64::min)
    }
}

/// Axis-aligned bounds `(xmin, ymin, xmax, ymax)` of a polygon's exterior.
#[must_use]
pub fn bounds(poly: &Polygon<f64>) -> (f64, f64, f64, f64) {
    poly.exterior().coords().fold(
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
        |(a, b, c, d), p| (a.min(p.x), b.min(p.y), c.max(p.x), d.max(p.y)),
    )
}

/// A polygon from a ring of `[x, y]` points (closed or not), as sols write them.
#[must_use]
pub fn polygon_from_ring(ring: &[[f64; 2]]) -> Polygon<f64> {
    Polygon::new(LineString::from(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, s: f64) -> Polygon<f64> {
        polygon_from_ring(&[[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]])
    }

    #[test]
    fn distance_to_a_square() {
        let sq = square(10.0, 10.0, 4.0);
        // Passing below at y = 8: 2 m from the bottom edge, first reached at x = 10.
        let n = segment_to_polygon((0.0, 8.0), (20.0, 8.0), &sq);
        assert_eq!(n.distance, 2.0);
        assert!((n.point((0.0, 8.0), (20.0, 8.0)).0 - 10.0).abs() < 1e-12, "{n:?}");
        // Crossing: 0 at the entry point x = 10.
        let n = segment_to_polygon((0.0, 12.0), (20.0, 12.0), &sq);
        assert_eq!(n.distance, 0.0);
        assert!((n.t - 0.5).abs() < 1e-12);
        // Inside entirely.
        assert_eq!(segment_to_polygon((11.0, 11.0), (12.0, 12.0), &sq).distance, 0.0);
        // A point segment, at a corner distance.
        let n = segment_to_polygon((17.0, 18.0), (17.0, 18.0), &sq);
        assert!((n.distance - 5.0).abs() < 1e-12);
        // Along an edge (collinear overlap) touches.
        assert_eq!(segment_to_polygon((0.0, 10.0), (12.0, 10.0), &sq).distance, 0.0);
    }

    #[test]
    fn holes_are_outside() {
        let outer = square(0.0, 0.0, 10.0);
        let hole = square(4.0, 4.0, 2.0);
        let p = Polygon::new(outer.exterior().clone(), vec![hole.exterior().clone()]);
        let n = segment_to_polygon((5.0, 5.0), (5.2, 5.0), &p);
        assert!((n.distance - 0.8).abs() < 1e-12, "{n:?}");
        let c = segment_inside_clearance((5.0, 5.0), (5.2, 5.0), &p);
        assert!((c.distance + 1.0).abs() < 1e-12 && c.t == 0.0, "in the hole is outside: {c:?}");
    }

    #[test]
    fn clearance_inside_a_keep_in() {
        let k = square(0.0, 0.0, 100.0);
        let c = segment_inside_clearance((10.0, 50.0), (90.0, 50.0), &k);
        assert!((c.distance - 10.0).abs() < 1e-12);
        let c = segment_inside_clearance((10.0, 50.0), (103.0, 50.0), &k);
        assert!((c.distance + 3.0).abs() < 1e-12 && c.t == 1.0, "{c:?}");
        let c = segment_inside_clearance((10.0, 50.0), (100.0, 50.0), &k);
        assert_eq!(c.distance, 0.0);
        // Large map coordinates keep their precision.
        let k = square(8_142_406.0, -276_791.0, 300.0);
        let c = segment_inside_clearance((8_142_407.35, -276_700.0), (8_142_500.0, -276_700.0), &k);
        assert!((c.distance - 1.35).abs() < 1e-9, "{c:?}");
    }
}
