//! The cells under a rover footprint and the least-squares plane fitted to them, shared by
//! [`super::roughness`] and [`super::tilt`] so that both products see exactly the same cells.
//!
//! Why one place: the checker compares tilt, step and clearance limits at the same pose. If
//! roughness and tilt chose their cells differently (one by centre, one by overlap), a pose
//! could pass one rule on terrain the other never looked at.
//!
//! A footprint is a rectangle centred at map `(x, y)`, `half_length` along the heading
//! (clockwise from north) and `half_width` across it. A cell belongs to it when the cell's
//! *centre* lies inside or on the rectangle (within 1 nm, so that headings such as 90° whose
//! sine and cosine are not exact select the same cells as 0°). If any such cell is no-data,
//! or lies off the grid, the footprint is unknown terrain and every product is `None`:
//! unknown terrain is never assumed flat.

use crate::error::{Result, ToolsError};
use crate::terrain::{Dem, Grid};

/// Tolerance, metres, for a cell centre lying on the footprint's boundary.
const BOUNDARY_EPS_M: f64 = 1e-9;

/// Largest footprint half-length or half-width accepted, metres. Rovers are a few metres;
/// this only stops absurd requests from iterating billions of cells.
pub const MAX_HALF_EXTENT_M: f64 = 1000.0;

/// Footprints whose bounding box covers more cells than this are refused (`None`).
pub const MAX_FOOTPRINT_CELLS: usize = 1 << 22;

/// A rover-sized rectangle on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Map x (east) of the centre, metres.
    pub x: f64,
    /// Map y (north) of the centre, metres.
    pub y: f64,
    /// Heading of the long axis, degrees clockwise from north.
    pub heading_deg: f64,
    /// Half the length along the heading, metres.
    pub half_length_m: f64,
    /// Half the width across the heading, metres.
    pub half_width_m: f64,
}

impl Footprint {
    /// A footprint centred at `(x, y)`; every number must be finite and both half-extents in
    /// `(0, MAX_HALF_EXTENT_M]`.
    pub fn new(
        x: f64,
        y: f64,
        heading_deg: f64,
        half_length_m: f64,
        half_width_m: f64,
    ) -> Result<Self> {
        if ![x, y, heading_deg, half_length_m, half_width_m].iter().all(|v| v.is_finite()) {
            return Err(ToolsError::Argument(format!(
                "footprint at ({x}, {y}) heading {heading_deg} size {half_length_m} x \
                 {half_width_m}: every number must be finite"
            )));
        }
        for (name, v) in [("half_length_m", half_length_m), ("half_width_m", half_width_m)] {
            if v <= 0.0 || v > MAX_HALF_EXTENT_M {
                return Err(ToolsError::Argument(format!(
                    "footprint {name} = {v} m must be in (0, {MAX_HALF_EXTENT_M}]"
                )));
            }
        }
        Ok(Footprint { x, y, heading_deg, half_length_m, half_width_m })
    }

    /// Unit vectors (east, north) pointing forward along the heading and to the rover's right.
    #[must_use]
    pub fn axes(&self) -> ((f64, f64), (f64, f64)) {
        let (s, c) = self.heading_deg.to_radians().sin_cos();
        ((s, c), (c, -s))
    }

    /// Whether map point `(px, py)` lies inside or on the rectangle.
    #[must_use]
    pub fn contains(&self, px: f64, py: f64) -> bool {
        let ((fx, fy), (rx, ry)) = self.axes();
        let (ex, ny) = (px - self.x, py - self.y);
        let along = ex * fx + ny * fy;
        let across = ex * rx + ny * ry;
        along.abs() <= self.half_length_m + BOUNDARY_EPS_M
            && across.abs() <= self.half_width_m + BOUNDARY_EPS_M
    }

    /// Map bounding box `(xmin, ymin, xmax, ymax)` of the rotated rectangle.
    #[must_use]
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let ((fx, fy), _) = self.axes();
        let ex = self.half_length_m * fx.abs() + self.half_width_m * fy.abs();
        let ey = self.half_length_m * fy.abs() + self.half_width_m * fx.abs();
        (self.x - ex, self.y - ey, self.x + ex, self.y + ey)
    }

    /// The DEM window under the footprint's bounding box plus one cell, read through the
    /// DEM's tile cache: all that any per-footprint measure needs.
    pub fn read_under(&self, dem: &Dem) -> Result<Grid> {
        let (xmin, ymin, xmax, ymax) = self.bounds();
        dem.window_around(xmin, ymin, xmax, ymax, 1)
    }

    /// The cells of `grid` under the footprint, or `None` when any of them is no-data or off
    /// the grid (unknown terrain), when none is, or when the footprint's bounding box covers
    /// more than [`MAX_FOOTPRINT_CELLS`] cells.
    #[must_use]
    pub fn cells(&self, grid: &Grid) -> Option<FootprintCells> {
        let t = grid.transform;
        let (xmin, ymin, xmax, ymax) = self.bounds();
        // Fractional cell coordinates of the box; a cell (c, r) has its centre at c + 0.5.
        let (ca, ra) = t.to_cell(xmin, ymax);
        let (cb, rb) = t.to_cell(xmax, ymin);
        let c_lo = (ca.min(cb) - 0.5).floor() - 1.0;
        let c_hi = (ca.max(cb) - 0.5).ceil() + 1.0;
        let r_lo = (ra.min(rb) - 0.5).floor() - 1.0;
        let r_hi = (ra.max(rb) - 0.5).ceil() + 1.0;
        if ![c_lo, c_hi, r_lo, r_hi].iter().all(|v| v.is_finite()) {
            return None;
        }
        let (bw, bh) = (c_hi - c_lo + 1.0, r_hi - r_lo + 1.0);
        if bw * bh > MAX_FOOTPRINT_CELLS as f64 {
            return None;
        }
        let (c_lo, r_lo, bw, bh) = (c_lo as i64, r_lo as i64, bw as usize, bh as usize);
        let mut mask = vec![f32::NAN; bw * bh];
        let mut samples = Vec::new();
        for j in 0..bh {
            for i in 0..bw {
                let (c, r) = (c_lo + i as i64, r_lo + j as i64);
                let (px, py) = t.cell_center(c, r);
                if !self.contains(px, py) {
                    continue;
                }
                // Off-grid or no-data under the rover: unknown terrain.
                let z = grid.get(c, r)?;
                mask[j * bw + i] = z;
                samples.push(CellSample {
                    east_m: px - self.x,
                    north_m: py - self.y,
                    z: f64::from(z),
                });
            }
        }
        if samples.is_empty() {
            return None;
        }
        Some(FootprintCells { samples, mask, mask_width: bw })
    }
}

/// One cell under a footprint: its centre relative to the footprint centre, and elevation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellSample {
    /// East offset of the cell centre from the footprint centre, metres.
    pub east_m: f64,
    /// North offset of the cell centre from the footprint centre, metres.
    pub north_m: f64,
    /// Elevation, metres.
    pub z: f64,
}

/// A plane `z = z0 + gx * east + gy * north` in coordinates relative to the footprint centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plane {
    /// Elevation of the plane under the footprint centre, metres.
    pub z0: f64,
    /// Rise per metre east.
    pub gx: f64,
    /// Rise per metre north.
    pub gy: f64,
}

impl Plane {
    /// Elevation of the plane at an offset from the footprint centre.
    #[must_use]
    pub fn at(&self, east_m: f64, north_m: f64) -> f64 {
        self.z0 + self.gx * east_m + self.gy * north_m
    }
}

/// A least-squares plane through points, kept in centred form (the centroid and the gradient)
/// so that residuals can be taken about the centroid, which is better conditioned than about
/// the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneFit {
    /// Centroid of the points: east, north, elevation.
    pub mean: (f64, f64, f64),
    /// Rise per metre east.
    pub gx: f64,
    /// Rise per metre north.
    pub gy: f64,
}

impl PlaneFit {
    /// Height of the fitted plane at (east, north).
    #[must_use]
    pub fn at(&self, east_m: f64, north_m: f64) -> f64 {
        self.mean.2 + self.gx * (east_m - self.mean.0) + self.gy * (north_m - self.mean.1)
    }

    /// The same plane as `z0 + gx·east + gy·north`.
    #[must_use]
    pub fn plane(&self) -> Plane {
        let (me, mn, mz) = self.mean;
        Plane { z0: mz - self.gx * me - self.gy * mn, gx: self.gx, gy: self.gy }
    }
}

/// Least-squares plane `z = f(east, north)` through `points`; `None` when there are fewer than
/// three or they are collinear (a footprint narrower than a cell). One implementation serves
/// [`FootprintCells::plane`] and the checker's walk, so analysis and checker measure tilt
/// identically.
pub fn fit_plane<I>(points: I) -> Option<PlaneFit>
where
    I: Iterator<Item = (f64, f64, f64)> + Clone,
{
    let (mut n, mut mx, mut my, mut mz) = (0usize, 0.0, 0.0, 0.0);
    for (x, y, z) in points.clone() {
        n += 1;
        mx += x;
        my += y;
        mz += z;
    }
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let (mx, my, mz) = (mx / nf, my / nf, mz / nf);
    let (mut sxx, mut sxy, mut syy, mut sxz, mut syz) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (x, y, z) in points {
        let (x, y, z) = (x - mx, y - my, z - mz);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        sxz += x * z;
        syz += y * z;
    }
    let det = sxx * syy - sxy * sxy;
    // Collinear centres give det = 0 up to rounding; compare with the scale of the terms.
    if det.is_nan() || det <= 1e-9 * sxx * syy {
        return None;
    }
    let gx = (syy * sxz - sxy * syz) / det;
    let gy = (sxx * syz - sxy * sxz) / det;
    Some(PlaneFit { mean: (mx, my, mz), gx, gy })
}

/// The valid cells under a footprint (all of them are valid, or there would be none).
#[derive(Debug, Clone, PartialEq)]
pub struct FootprintCells {
    samples: Vec<CellSample>,
    /// Elevations over the footprint's bounding box, NaN outside the footprint.
    mask: Vec<f32>,
    mask_width: usize,
}

impl FootprintCells {
    /// The cells, in row-major order of the grid.
    #[must_use]
    pub fn samples(&self) -> &[CellSample] {
        &self.samples
    }

    /// Number of cells.
    #[must_use]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Always false: an empty footprint is `None` (kept for clippy's `len` convention).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Least-squares plane through the cell centres, `None` when the cells are fewer than
    /// three or collinear (a footprint narrower than a cell).
    #[must_use]
    pub fn plane(&self) -> Option<Plane> {
        fit_plane(self.samples.iter().map(|s| (s.east_m, s.north_m, s.z))).map(|f| f.plane())
    }

    /// Highest minus lowest elevation, metres.
    #[must_use]
    pub fn relief(&self) -> f64 {
        let (lo, hi) = self
            .samples
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| (lo.min(s.z), hi.max(s.z)));
        hi - lo
    }

    /// Largest height of ground above `plane`, metres (0 when nothing is above it).
    #[must_use]
    pub fn max_residual_above(&self, plane: &Plane) -> f64 {
        self.samples.iter().map(|s| s.z - plane.at(s.east_m, s.north_m)).fold(0.0, f64::max)
    }

    /// Largest absolute elevation difference between two 8-neighbour adjacent cells that are
    /// both under the footprint, metres (0 for a single cell).
    #[must_use]
    pub fn max_step(&self) -> f64 {
        let w = self.mask_width;
        let h = self.mask.len() / w;
        let mut best = 0f64;
        for r in 0..h {
            for c in 0..w {
                let z = self.mask[r * w + c];
                if z.is_nan() {
                    continue;
                }
                // East, south-west, south and south-east: every adjacent pair once.
                let mut pair = |cc: usize, rr: usize| {
                    let o = self.mask[rr * w + cc];
                    if !o.is_nan() {
                        best = best.max((f64::from(z) - f64::from(o)).abs());
                    }
                };
                if c + 1 < w {
                    pair(c + 1, r);
                }
                if r + 1 < h {
                    if c > 0 {
                        pair(c - 1, r + 1);
                    }
                    pair(c, r + 1);
                    if c + 1 < w {
                        pair(c + 1, r + 1);
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    fn grid() -> Grid {
        let t = GeoTransform { x0: 0.0, y0: 20.0, dx: 1.0, dy: -1.0 };
        Grid::from_fn(20, 20, t, |x, y| (0.25 * x - 0.5 * y) as f32)
    }

    #[test]
    fn bad_numbers_are_errors() {
        assert!(Footprint::new(f64::NAN, 0.0, 0.0, 1.0, 1.0).is_err());
        assert!(Footprint::new(0.0, 0.0, f64::INFINITY, 1.0, 1.0).is_err());
        assert!(Footprint::new(0.0, 0.0, 0.0, 0.0, 1.0).is_err());
        assert!(Footprint::new(0.0, 0.0, 0.0, 1.0, -1.0).is_err());
        assert!(Footprint::new(0.0, 0.0, 0.0, 1.0, 1e6).is_err());
        assert!(Footprint::new(0.0, 0.0, 0.0, 1.5, 1.35).is_ok());
    }

    #[test]
    fn cell_selection_by_centre_is_symmetric_under_quarter_turns() {
        let g = grid();
        // Centred on a cell centre: 3 x 5 cells at heading 0 (long axis north-south).
        let f0 = Footprint::new(10.5, 10.5, 0.0, 2.0, 1.0).unwrap();
        let f90 = Footprint::new(10.5, 10.5, 90.0, 2.0, 1.0).unwrap();
        let f270 = Footprint::new(10.5, 10.5, 270.0, 2.0, 1.0).unwrap();
        assert_eq!(f0.cells(&g).unwrap().len(), 15);
        assert_eq!(f90.cells(&g).unwrap().len(), 15);
        assert_eq!(f270.cells(&g).unwrap().len(), 15);
        let b = f0.bounds();
        assert!((b.0 - 9.5).abs() < 1e-12 && (b.3 - 12.5).abs() < 1e-12, "{b:?}");
    }

    #[test]
    fn plane_fit_is_exact_on_a_plane() {
        let g = grid();
        let f = Footprint::new(7.3, 12.9, 33.0, 1.5, 1.35).unwrap();
        let cells = f.cells(&g).unwrap();
        let p = cells.plane().unwrap();
        assert!((p.gx - 0.25).abs() < 1e-12 && (p.gy + 0.5).abs() < 1e-12, "{p:?}");
        assert!((p.z0 - (0.25 * 7.3 - 0.5 * 12.9)).abs() < 1e-9);
        assert!(cells.max_residual_above(&p) < 1e-9);
        // Adjacent cells differ by at most 0.25 + 0.5 (diagonal).
        assert!((cells.max_step() - 0.75).abs() < 1e-9);
    }

    #[test]
    fn nodata_or_off_grid_under_the_footprint_is_unknown() {
        let mut g = grid();
        let f = Footprint::new(10.5, 10.5, 0.0, 2.0, 1.0).unwrap();
        assert!(f.cells(&g).is_some());
        g.set(11, 8, f32::NAN); // centre (11.5, 11.5): inside
        assert!(f.cells(&g).is_none());
        // The column of centres at x = -0.5 is 0.9 m from the centre line: inside, off the grid.
        let edge = Footprint::new(0.4, 10.5, 0.0, 2.0, 1.0).unwrap();
        assert!(edge.cells(&grid()).is_none(), "part of it is off the grid");
    }

    #[test]
    fn collinear_cells_have_no_plane() {
        let g = grid();
        // 0.2 m wide: one column of centres.
        let f = Footprint::new(10.5, 10.5, 0.0, 2.0, 0.1).unwrap();
        let cells = f.cells(&g).unwrap();
        assert_eq!(cells.len(), 5);
        assert!(cells.plane().is_none());
    }
}
