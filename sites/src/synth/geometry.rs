//! Plane geometry in site-local metres (x east, y north, from the site's south-west corner):
//! polygons for feature footprints and hazard outlines, and signed distances to polylines for
//! scarps.
//!
//! Polygons are plain vertex lists (`[x, y]`, not closed, either orientation) so that they read
//! naturally in `bundle.toml` and can be written by hand for fixture sites.

use breadcrumb_tools::geometry::point_segment_distance;
use rand::Rng;

/// A point in site-local metres: `[x east, y north]`.
pub type Point = [f64; 2];

/// Absolute area of a simple polygon (shoelace formula), m².
#[must_use]
pub fn polygon_area(poly: &[Point]) -> f64 {
    if poly.len() < 3 {
        return 0.0;
    }
    let mut twice = 0.0;
    for (i, a) in poly.iter().enumerate() {
        let b = poly[(i + 1) % poly.len()];
        twice += a[0] * b[1] - b[0] * a[1];
    }
    twice.abs() / 2.0
}

/// Axis-aligned bounds `(xmin, ymin, xmax, ymax)` of a point list.
#[must_use]
pub fn bounds(points: &[Point]) -> (f64, f64, f64, f64) {
    let mut b = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in points {
        b.0 = b.0.min(p[0]);
        b.1 = b.1.min(p[1]);
        b.2 = b.2.max(p[0]);
        b.3 = b.3.max(p[1]);
    }
    b
}

/// Even-odd point-in-polygon test.
#[must_use]
pub fn contains(poly: &[Point], p: Point) -> bool {
    let mut inside = false;
    let n = poly.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (poly[i], poly[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Distance from `p` to the segment `a`–`b`: the one point-to-segment distance of
/// [`breadcrumb_tools::geometry`], on site-local `[x, y]` points.
fn segment_distance(p: Point, a: Point, b: Point) -> f64 {
    point_segment_distance((p[0], p[1]), (a[0], a[1]), (b[0], b[1]))
}

/// Signed depth of `p` in a polygon: distance to the boundary, positive inside, negative outside.
/// Used to feather features (ripple amplitude fades in over the first metres of a field).
#[must_use]
pub fn signed_depth(poly: &[Point], p: Point) -> f64 {
    let n = poly.len();
    let mut d = f64::INFINITY;
    for i in 0..n {
        d = d.min(segment_distance(p, poly[i], poly[(i + 1) % n]));
    }
    if contains(poly, p) {
        d
    } else {
        -d
    }
}

/// Distance from `centre` to the polygon's boundary and the edges that can be nearest to some
/// point within `radius` of it (an edge farther than the nearest plus `2 * radius` never wins).
#[must_use]
pub fn boundary_candidates(poly: &[Point], centre: Point, radius: f64) -> (f64, Vec<usize>) {
    let n = poly.len();
    let d: Vec<f64> =
        (0..n).map(|i| segment_distance(centre, poly[i], poly[(i + 1) % n])).collect();
    let best = d.iter().copied().fold(f64::INFINITY, f64::min);
    (best, (0..n).filter(|&i| d[i] <= best + 2.0 * radius).collect())
}

/// [`signed_depth`] using only the boundary edges `edges` (from [`boundary_candidates`]) for the
/// distance; `inside` is the caller's containment test result.
#[must_use]
pub fn signed_depth_among(poly: &[Point], p: Point, edges: &[usize], inside: bool) -> f64 {
    let n = poly.len();
    let d = edges
        .iter()
        .map(|&i| segment_distance(p, poly[i], poly[(i + 1) % n]))
        .fold(f64::INFINITY, f64::min);
    if inside {
        d
    } else {
        -d
    }
}

/// A regular `n`-gon approximating an ellipse centred at `(cx, cy)` with semi-axes `a` (along
/// `azimuth_deg`, clockwise from north) and `b` (across it).
#[must_use]
pub fn ellipse_polygon(cx: f64, cy: f64, a: f64, b: f64, azimuth_deg: f64, n: usize) -> Vec<Point> {
    let n = n.max(3);
    let (s, c) = azimuth_deg.to_radians().sin_cos();
    // Unit vector along the major axis (east = sin az, north = cos az) and across it.
    let (ux, uy) = (s, c);
    let (vx, vy) = (c, -s);
    (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let (p, q) = (a * t.cos(), b * t.sin());
            [cx + p * ux + q * vx, cy + p * uy + q * vy]
        })
        .collect()
}

/// A regular `n`-gon inscribed in the circle of radius `r` around `(cx, cy)`.
#[must_use]
pub fn circle_polygon(cx: f64, cy: f64, r: f64, n: usize) -> Vec<Point> {
    ellipse_polygon(cx, cy, r, r, 0.0, n)
}

/// A rectangle of total width `width` whose centre line runs from `p0` to `p1` (e.g. a ripple
/// band lying across the straight line between a sol's start and goal).
#[must_use]
pub fn band_polygon(p0: Point, p1: Point, width: f64) -> Vec<Point> {
    let (ex, ey) = (p1[0] - p0[0], p1[1] - p0[1]);
    let len = (ex * ex + ey * ey).sqrt().max(1e-9);
    let (nx, ny) = (-ey / len * width / 2.0, ex / len * width / 2.0);
    vec![
        [p0[0] + nx, p0[1] + ny],
        [p0[0] - nx, p0[1] - ny],
        [p1[0] - nx, p1[1] - ny],
        [p1[0] + nx, p1[1] + ny],
    ]
}

/// An irregular, smooth "blob": an ellipse whose radius is modulated by a few random low-order
/// harmonics (relative amplitude `irregularity`, e.g. 0.2). Natural-looking field outlines for
/// presets.
pub fn blob_polygon(
    rng: &mut impl Rng,
    centre: Point,
    a: f64,
    b: f64,
    azimuth_deg: f64,
    irregularity: f64,
    n: usize,
) -> Vec<Point> {
    let harmonics: Vec<(f64, f64, f64)> = (2..=4)
        .map(|k| {
            (
                f64::from(k),
                rng.gen_range(0.3..1.0) * irregularity / f64::from(k - 1),
                rng.gen_range(0.0..std::f64::consts::TAU),
            )
        })
        .collect();
    let base = ellipse_polygon(0.0, 0.0, a, b, azimuth_deg, n);
    base.iter()
        .enumerate()
        .map(|(i, p)| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let f =
                1.0 + harmonics.iter().map(|(k, amp, ph)| amp * (k * t + ph).sin()).sum::<f64>();
            [centre[0] + p[0] * f, centre[1] + p[1] * f]
        })
        .collect()
}

/// Chaikin corner cutting, `iterations` times, keeping both end points: turns a hand-drawn
/// polyline into a smooth curve (scarps have no kinks).
#[must_use]
pub fn smooth_polyline(line: &[Point], iterations: usize) -> Vec<Point> {
    let mut cur = line.to_vec();
    for _ in 0..iterations {
        if cur.len() < 3 {
            break;
        }
        let mut next = Vec::with_capacity(2 * cur.len());
        next.push(cur[0]);
        for w in cur.windows(2) {
            let (a, b) = (w[0], w[1]);
            next.push([0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]]);
            next.push([0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]]);
        }
        next.push(cur[cur.len() - 1]);
        cur = next;
    }
    cur
}

/// Where a point lies relative to a polyline whose first and last segments are extended as rays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFrame {
    /// Signed distance from the (extended) line, positive on the left of the direction of
    /// travel.
    pub offset: f64,
    /// How far the point lies beyond the first or last vertex, measured along the end segment's
    /// direction (0 alongside the polyline); continuous everywhere.
    pub beyond_end: f64,
}

/// Signed distance and end overshoot of `p` relative to the polyline `line` (at least two points).
#[must_use]
pub fn line_frame(line: &[Point], p: Point) -> LineFrame {
    let all: Vec<usize> = (0..line.len().saturating_sub(1)).collect();
    line_frame_among(line, p, &all)
}

/// Distance from `p` to segment `i` of `line`, the end segments extended as rays.
fn extended_segment_distance(line: &[Point], i: usize, p: Point) -> f64 {
    let last = line.len().saturating_sub(2);
    let (a, b) = (line[i], line[i + 1]);
    let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
    let len2 = (ex * ex + ey * ey).max(1e-18);
    let lo = if i == 0 { f64::NEG_INFINITY } else { 0.0 };
    let hi = if i == last { f64::INFINITY } else { 1.0 };
    let t = (((p[0] - a[0]) * ex + (p[1] - a[1]) * ey) / len2).clamp(lo, hi);
    let (dx, dy) = (p[0] - a[0] - t * ex, p[1] - a[1] - t * ey);
    (dx * dx + dy * dy).sqrt()
}

/// The distance from `centre` to the (extended) polyline and the segments that can be nearest
/// to some point within `radius` of it: a segment farther than the nearest one plus
/// `2 * radius` never wins. Lets a raster loop test a few segments per block instead of all of
/// them per pixel.
#[must_use]
pub fn candidate_segments(line: &[Point], centre: Point, radius: f64) -> (f64, Vec<usize>) {
    let n = line.len().saturating_sub(1);
    let d: Vec<f64> = (0..n).map(|i| extended_segment_distance(line, i, centre)).collect();
    let best = d.iter().copied().fold(f64::INFINITY, f64::min);
    (best, (0..n).filter(|&i| d[i] <= best + 2.0 * radius).collect())
}

/// How far `p` lies beyond the polyline's first or last vertex, measured along the end
/// segment's direction (0 alongside the polyline). Continuous everywhere, unlike an overshoot
/// taken from the nearest segment, which jumps where the nearest segment changes.
#[must_use]
pub fn beyond_end(line: &[Point], p: Point) -> f64 {
    let along = |a: Point, b: Point, from: Point| {
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let len = (ex * ex + ey * ey).sqrt().max(1e-12);
        ((p[0] - from[0]) * ex + (p[1] - from[1]) * ey) / len
    };
    let n = line.len();
    let before = -along(line[0], line[1], line[0]);
    let after = along(line[n - 2], line[n - 1], line[n - 1]);
    before.max(after).max(0.0)
}

/// [`line_frame`] restricted to the segments `segments` (e.g. from [`candidate_segments`]).
#[must_use]
pub fn line_frame_among(line: &[Point], p: Point, segments: &[usize]) -> LineFrame {
    let last = line.len().saturating_sub(2);
    let mut offset = f64::INFINITY;
    let mut best_abs = f64::INFINITY;
    for &i in segments {
        let (a, b) = (line[i], line[i + 1]);
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let len2 = (ex * ex + ey * ey).max(1e-18);
        let lo = if i == 0 { f64::NEG_INFINITY } else { 0.0 };
        let hi = if i == last { f64::INFINITY } else { 1.0 };
        let t = (((p[0] - a[0]) * ex + (p[1] - a[1]) * ey) / len2).clamp(lo, hi);
        let (dx, dy) = (p[0] - a[0] - t * ex, p[1] - a[1] - t * ey);
        let dist = (dx * dx + dy * dy).sqrt();
        if dist < best_abs {
            best_abs = dist;
            let cross = ex * (p[1] - a[1]) - ey * (p[0] - a[0]);
            offset = dist.copysign(cross);
        }
    }
    LineFrame { offset, beyond_end: beyond_end(line, p) }
}

/// The polyline offset by `offset` metres to its left (negative: right), with mitred joints
/// (mitre length capped at 4x the offset).
#[must_use]
pub fn offset_polyline(line: &[Point], offset: f64) -> Vec<Point> {
    let n = line.len();
    let normal = |a: Point, b: Point| {
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let len = (ex * ex + ey * ey).sqrt().max(1e-12);
        (-ey / len, ex / len)
    };
    (0..n)
        .map(|i| {
            let (nx, ny) = if i == 0 {
                normal(line[0], line[1])
            } else if i == n - 1 {
                normal(line[n - 2], line[n - 1])
            } else {
                let (ax, ay) = normal(line[i - 1], line[i]);
                let (bx, by) = normal(line[i], line[i + 1]);
                let (mx, my) = (ax + bx, ay + by);
                let ml = (mx * mx + my * my).sqrt().max(1e-12);
                let (mx, my) = (mx / ml, my / ml);
                let scale = 1.0 / (mx * ax + my * ay).max(0.25);
                (mx * scale, my * scale)
            };
            [line[i][0] + nx * offset, line[i][1] + ny * offset]
        })
        .collect()
}

/// A polygon covering the strip from `right` metres right of the polyline to `left` metres left
/// of it (either may be zero, giving a one-sided band).
#[must_use]
pub fn buffer_polyline(line: &[Point], left: f64, right: f64) -> Vec<Point> {
    let mut poly = offset_polyline(line, left);
    let mut other = offset_polyline(line, -right);
    other.reverse();
    poly.extend(other);
    poly
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_contains_and_depth() {
        let sq = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert!((polygon_area(&sq) - 100.0).abs() < 1e-9);
        assert!(contains(&sq, [5.0, 5.0]));
        assert!(!contains(&sq, [11.0, 5.0]));
        assert!((signed_depth(&sq, [2.0, 5.0]) - 2.0).abs() < 1e-9);
        assert!((signed_depth(&sq, [13.0, 5.0]) + 3.0).abs() < 1e-9);
    }

    #[test]
    fn ellipse_area_and_orientation() {
        let e = ellipse_polygon(0.0, 0.0, 20.0, 5.0, 90.0, 256);
        assert!((polygon_area(&e) - std::f64::consts::PI * 100.0).abs() < 1.0);
        // Major axis along azimuth 90 = east.
        assert!(contains(&e, [19.0, 0.0]));
        assert!(!contains(&e, [0.0, 19.0]));
    }

    #[test]
    fn line_frame_sign_and_ends() {
        let line = vec![[0.0, 0.0], [10.0, 0.0], [20.0, 5.0]];
        let f = line_frame(&line, [5.0, 3.0]);
        assert!((f.offset - 3.0).abs() < 1e-9 && f.beyond_end == 0.0);
        let g = line_frame(&line, [5.0, -2.0]);
        assert!((g.offset + 2.0).abs() < 1e-9);
        let h = line_frame(&line, [-4.0, 1.0]);
        assert!((h.beyond_end - 4.0).abs() < 1e-9 && (h.offset - 1.0).abs() < 1e-9);
    }

    #[test]
    fn candidate_segments_give_the_same_frame() {
        let line = smooth_polyline(&[[0.0, 0.0], [10.0, 3.0], [20.0, -2.0], [30.0, 4.0]], 3);
        assert_eq!(line.first(), Some(&[0.0, 0.0]));
        assert_eq!(line.last(), Some(&[30.0, 4.0]));
        for cx in [-5.0, 3.0, 12.5, 29.0, 40.0] {
            for cy in [-6.0, 0.5, 7.0] {
                let (_, segs) = candidate_segments(&line, [cx, cy], 2.0);
                for (dx, dy) in [(0.0, 0.0), (1.4, -1.4), (-1.0, 1.2)] {
                    let p = [cx + dx, cy + dy];
                    assert_eq!(line_frame_among(&line, p, &segs), line_frame(&line, p));
                }
            }
        }
    }

    #[test]
    fn buffer_covers_the_line() {
        let line = vec![[0.0, 0.0], [10.0, 0.0], [20.0, 5.0]];
        let poly = buffer_polyline(&line, 2.0, 1.0);
        assert!(contains(&poly, [5.0, 1.5]));
        assert!(contains(&poly, [5.0, -0.5]));
        assert!(!contains(&poly, [5.0, -1.5]));
    }
}
