//! Distances from every cell centre to the zones the checker measures the centre path
//! against: blocking mapped hazards and keep-out zones (must be at least the hazard buffer
//! away) and the keep-in boundary (must be at least half the rover width inside). Computed
//! with the checker's own exact geometry ([`crate::geometry`]).

use geo::Polygon;

use crate::geometry::{bounds, segment_inside_clearance, segment_to_polygon};
use crate::terrain::GeoTransform;

/// The area being measured: its transform and size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Area {
    pub transform: GeoTransform,
    pub width: usize,
    pub height: usize,
}

impl Area {
    /// The cells whose centres may lie within `radius` of the box `(xmin, ymin, xmax, ymax)`:
    /// `(c0, r0, c1, r1)` inclusive, `None` when none.
    fn cells_near(
        &self,
        b: (f64, f64, f64, f64),
        radius: f64,
    ) -> Option<(usize, usize, usize, usize)> {
        let t = self.transform;
        let (ca, ra) = t.to_cell(b.0 - radius, b.3 + radius);
        let (cb, rb) = t.to_cell(b.2 + radius, b.1 - radius);
        let (c0, c1) = (ca.min(cb).floor().max(0.0), ca.max(cb).ceil());
        let (r0, r1) = (ra.min(rb).floor().max(0.0), ra.max(rb).ceil());
        if !(c0.is_finite() && c1.is_finite() && r0.is_finite() && r1.is_finite()) {
            return None;
        }
        let c1 = c1.min(self.width as f64 - 1.0);
        let r1 = r1.min(self.height as f64 - 1.0);
        (c0 <= c1 && r0 <= r1).then_some((c0 as usize, r0 as usize, c1 as usize, r1 as usize))
    }

    fn centre(&self, c: usize, r: usize) -> (f64, f64) {
        self.transform.cell_center(c as i64, r as i64)
    }
}

/// Lowers `out[i]` to the distance from cell `i`'s centre to the nearest of `polygons`, for
/// every cell within `radius` of one (cells farther keep their value).
pub(crate) fn distance_to(area: &Area, polygons: &[&Polygon<f64>], radius: f64, out: &mut [f32]) {
    for poly in polygons {
        let Some((c0, r0, c1, r1)) = area.cells_near(bounds(poly), radius) else { continue };
        for r in r0..=r1 {
            for c in c0..=c1 {
                let p = area.centre(c, r);
                let d = segment_to_polygon(p, p, poly).distance as f32;
                let slot = &mut out[r * area.width + c];
                if d < *slot {
                    *slot = d;
                }
            }
        }
    }
}

/// The distance of every cell centre inside the keep-in boundary (negative outside).
pub(crate) fn keep_in_margin(area: &Area, keep_in: &Polygon<f64>) -> Vec<f32> {
    let mut out = Vec::with_capacity(area.width * area.height);
    for r in 0..area.height {
        for c in 0..area.width {
            let p = area.centre(c, r);
            out.push(segment_inside_clearance(p, p, keep_in).distance as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::polygon_from_ring;

    #[test]
    fn distances_from_cell_centres() {
        let area = Area {
            transform: GeoTransform { x0: 0.0, y0: 10.0, dx: 1.0, dy: -1.0 },
            width: 10,
            height: 10,
        };
        let sq = polygon_from_ring(&[[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0]]);
        let mut d = vec![f32::INFINITY; 100];
        distance_to(&area, &[&sq], 2.0, &mut d);
        // Cell (4, 5) has its centre (4.5, 4.5): inside.
        assert_eq!(d[5 * 10 + 4], 0.0);
        // Cell (7, 5) centre (7.5, 4.5): 1.5 m east.
        assert!((d[5 * 10 + 7] - 1.5).abs() < 1e-6);
        assert!(d[0].is_infinite(), "far cells are not measured");
        let k = keep_in_margin(
            &area,
            &polygon_from_ring(&[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]),
        );
        assert!((k[0] - 0.5).abs() < 1e-6 && (k[55] - 4.5).abs() < 1e-6);
    }
}
