//! Corridors: the area within a distance of a polyline, as one polygon (a buffer), and its
//! clipping to where a DEM has data. Keep-in zones of sols made from real drives are corridors.
//!
//! geo 0.29 has no buffer, so the corridor is the union of a disc at every vertex and a
//! rectangle along every segment (the capsules that make up a buffer with round joins), each
//! disc a polygon *circumscribing* its circle so that the corridor is never narrower than asked.

use geo::{BooleanOps, BoundingRect, Contains, Coord, LineString, MultiPolygon, Point, Polygon};

use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::terrain::dem::Dem;

/// Sides of the polygon standing for each disc: the corridor is at most 1 / cos(pi / 32),
/// 0.5 %, wider than asked.
const DISC_SIDES: usize = 32;

/// The polygon of points within `half_width` of the polyline `points` (map metres). Holes (a
/// drive looping round an area wider than the corridor) are filled: a keep-in is one ring.
/// `None` for no points or a non-positive width.
#[must_use]
pub fn corridor(points: &[[f64; 2]], half_width: f64) -> Option<Polygon<f64>> {
    if points.is_empty() || !(half_width.is_finite() && half_width > 0.0) {
        return None;
    }
    let mut pieces: Vec<Polygon<f64>> = points.iter().map(|p| disc(*p, half_width)).collect();
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        if len > 1e-9 {
            let (nx, ny) = (-dy / len * half_width, dx / len * half_width);
            let ring = vec![
                [a[0] + nx, a[1] + ny],
                [b[0] + nx, b[1] + ny],
                [b[0] - nx, b[1] - ny],
                [a[0] - nx, a[1] - ny],
            ];
            pieces.push(polygon(&ring));
        }
    }
    let mut union = MultiPolygon::new(Vec::new());
    for p in &pieces {
        union = union.union(p);
    }
    // The pieces overlap along a connected line, so their union is one polygon.
    let largest = union.0.into_iter().max_by(|a, b| {
        use geo::Area;
        a.unsigned_area().total_cmp(&b.unsigned_area())
    })?;
    Some(Polygon::new(largest.exterior().clone(), Vec::new()))
}

/// A regular polygon circumscribing the circle of radius `r` around `c`.
fn disc(c: [f64; 2], r: f64) -> Polygon<f64> {
    let step = std::f64::consts::TAU / DISC_SIDES as f64;
    let rc = r / (step / 2.0).cos();
    let ring: Vec<[f64; 2]> = (0..DISC_SIDES)
        .map(|i| {
            let a = i as f64 * step;
            [c[0] + rc * a.cos(), c[1] + rc * a.sin()]
        })
        .collect();
    polygon(&ring)
}

/// A polygon from an open ring of points.
pub(crate) fn polygon(ring: &[[f64; 2]]) -> Polygon<f64> {
    let coords: Vec<Coord<f64>> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    Polygon::new(LineString::new(coords), Vec::new())
}

/// The rectangle of whole DEM cells holding data within `area`'s bounding box, as
/// `(xmin, ymin, xmax, ymax)`; `None` when none of them has data. Only the window under `area`
/// is read, so this stays cheap on a gigabyte mosaic.
pub fn valid_extent_under(dem: &Dem, area: &Polygon<f64>) -> Result<Option<[f64; 4]>> {
    let Some(bb) = area.bounding_rect() else { return Ok(None) };
    let grid = dem.window_around(bb.min().x, bb.min().y, bb.max().x, bb.max().y, 0)?;
    let (mut c0, mut c1, mut r0, mut r1) = (usize::MAX, 0, usize::MAX, 0);
    for r in 0..grid.height {
        for c in 0..grid.width {
            if !grid.data[r * grid.width + c].is_nan() {
                c0 = c0.min(c);
                c1 = c1.max(c + 1);
                r0 = r0.min(r);
                r1 = r1.max(r + 1);
            }
        }
    }
    if c0 == usize::MAX {
        return Ok(None);
    }
    let t = grid.transform;
    let (xa, xb) = (t.x0 + c0 as f64 * t.dx, t.x0 + c1 as f64 * t.dx);
    let (ya, yb) = (t.y0 + r0 as f64 * t.dy, t.y0 + r1 as f64 * t.dy);
    Ok(Some([xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb)]))
}

/// `corridor` clipped to the DEM's valid data under it: the part containing `anchor` (the
/// drive's start), else the largest part. An error when nothing of it has data.
pub fn clip_to_valid(dem: &Dem, corridor: &Polygon<f64>, anchor: [f64; 2]) -> Result<Polygon<f64>> {
    let no_data = || {
        ToolsError::Argument(format!(
            "the corridor around the drive has no valid DEM data under it ({})",
            dem.path().display()
        ))
    };
    let e = valid_extent_under(dem, corridor)?.ok_or_else(no_data)?;
    let rect = polygon(&[[e[0], e[1]], [e[2], e[1]], [e[2], e[3]], [e[0], e[3]]]);
    let parts = corridor.intersection(&rect);
    let start = Point::new(anchor[0], anchor[1]);
    let mut parts = parts.0;
    let pick = if let Some(i) = parts.iter().position(|p| p.contains(&start)) {
        i
    } else {
        use geo::Area;
        let i = (0..parts.len())
            .max_by(|&a, &b| parts[a].unsigned_area().total_cmp(&parts[b].unsigned_area()));
        i.ok_or_else(no_data)?
    };
    let p = parts.swap_remove(pick);
    Ok(Polygon::new(p.exterior().clone(), Vec::new()))
}

/// The open ring of a polygon's exterior (without the repeated closing point).
#[must_use]
pub fn open_ring(p: &Polygon<f64>) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = p.exterior().coords().map(|c| [c.x, c.y]).collect();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    ring
}

#[cfg(test)]
mod tests {
    use geo::{Area, Distance, Euclidean, LineString};

    use super::*;

    #[test]
    fn a_corridor_is_at_least_as_wide_as_asked_and_not_much_wider() {
        let line = [[0.0, 0.0], [50.0, 0.0], [50.0, 40.0], [10.0, 40.0]];
        let c = corridor(&line, 5.0).unwrap();
        let path = LineString::from(line.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>());
        for q in c.exterior().coords() {
            let d = Euclidean::distance(&Point::from(*q), &path);
            // i_overlay snaps to a fine integer grid: allow a micrometre.
            let widest = 5.0 / (std::f64::consts::PI / 32.0).cos() + 1e-6;
            assert!((5.0 - 1e-6..=widest).contains(&d), "{d}");
        }
        assert!(c.interiors().is_empty());
        // Length 130 m x 10 m plus the round ends, give or take the corners.
        let area = c.unsigned_area();
        assert!((1250.0..1450.0).contains(&area), "{area}");
    }

    #[test]
    fn a_single_point_gives_a_disc_and_nothing_gives_none() {
        let c = corridor(&[[3.0, 4.0]], 2.0).unwrap();
        assert!(c.contains(&Point::new(3.0, 5.9)));
        assert!(corridor(&[], 2.0).is_none());
        assert!(corridor(&[[0.0, 0.0]], 0.0).is_none());
    }
}
