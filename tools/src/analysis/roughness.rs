//! Roughness under a rover footprint: local relief, ground above the wheel plane, and step
//! height.
//!
//! Why three numbers: each answers a different way the rover can be hurt (ROVER.md §2).
//!
//! - **Step height** ([`Roughness::step_m`]): the largest elevation jump between two adjacent
//!   cells (8-neighbours) under the footprint. A wheel climbing or dropping more than this in
//!   one cell is what AutoNav's 0.35 m wheel-drop limit guards against. On a 1 m DEM a steep
//!   but smooth slope also produces a step (a 30° slope rises 0.58 m per cell, 0.82 m on the
//!   diagonal), which is deliberate: the checker cannot tell a ledge from a steep cell either.
//! - **Ground above the wheel plane** ([`Roughness::above_plane_m`]): the largest height of any
//!   cell above the least-squares plane fitted under the footprint (the same plane as
//!   [`super::tilt`]). The wheels settle roughly on that plane, so ground standing above it is
//!   the proxy for what the belly pan (≈0.6 m clearance) must clear.
//! - **Local relief** ([`Roughness::relief_m`]): highest minus lowest cell, a quick screen
//!   that mixes slope and roughness.
//!
//! Any no-data cell under the footprint makes the result `None`: unknown terrain is never
//! assumed flat.
//!
//! [`relief_grid`] is the cheap raster counterpart for maps and overlays: max - min over a
//! square window around every cell.

use rayon::prelude::*;
use serde::Serialize;

use super::footprint::Footprint;
use crate::error::{Result, ToolsError};
use crate::terrain::{Dem, Grid};

/// Roughness of the terrain under one footprint, metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Roughness {
    /// Highest minus lowest elevation under the footprint.
    pub relief_m: f64,
    /// Largest height of ground above the least-squares plane under the footprint (the
    /// belly-clearance proxy); 0 when no cell is above it.
    pub above_plane_m: f64,
    /// Largest absolute elevation difference between two 8-neighbour adjacent cells under the
    /// footprint (the step / wheel-drop proxy).
    pub step_m: f64,
    /// Cells under the footprint.
    pub cells: usize,
}

/// Roughness of `grid` under footprint `fp`; `None` when any cell under it is no-data or off
/// the grid, or when the cells are too few or collinear to fit a plane.
#[must_use]
pub fn roughness_on(grid: &Grid, fp: &Footprint) -> Option<Roughness> {
    let cells = fp.cells(grid)?;
    let plane = cells.plane()?;
    Some(Roughness {
        relief_m: cells.relief(),
        above_plane_m: cells.max_residual_above(&plane),
        step_m: cells.max_step(),
        cells: cells.len(),
    })
}

/// Roughness under a footprint centred at map `(x, y)` with heading `heading_deg` (clockwise
/// from north), `half_length_m` along and `half_width_m` across the heading. Cells are those
/// whose centres lie inside the rotated rectangle (as for tilt). `None` when any of them is
/// no-data or off the grid, when fewer than three non-collinear cells are covered, or when an
/// argument is not finite or not a positive size.
///
/// # Examples
///
/// ```
/// use breadcrumb_tools::analysis::roughness::footprint_roughness;
/// use breadcrumb_tools::terrain::{GeoTransform, Grid};
///
/// let t = GeoTransform { x0: 0.0, y0: 20.0, dx: 1.0, dy: -1.0 };
/// let mut dem = Grid::filled(20, 20, 0.0, t);
/// dem.set(10, 10, 0.4); // a 0.4 m rock in the cell centred at (10.5, 9.5)
/// let r = footprint_roughness(&dem, 10.5, 9.5, 0.0, 1.5, 1.35).unwrap();
/// assert_eq!(r.cells, 9);
/// assert!((r.step_m - 0.4).abs() < 1e-6 && (r.relief_m - 0.4).abs() < 1e-6);
/// // The fitted plane rises by 0.4 / 9 under the rock; the rest stands above it.
/// assert!((r.above_plane_m - 0.4 * 8.0 / 9.0).abs() < 1e-6);
/// ```
#[must_use]
pub fn footprint_roughness(
    grid: &Grid,
    x: f64,
    y: f64,
    heading_deg: f64,
    half_length_m: f64,
    half_width_m: f64,
) -> Option<Roughness> {
    let fp = Footprint::new(x, y, heading_deg, half_length_m, half_width_m).ok()?;
    roughness_on(grid, &fp)
}

/// [`roughness_on`] reading only the cells around the footprint from `dem`.
pub fn roughness_at(dem: &Dem, fp: &Footprint) -> Result<Option<Roughness>> {
    Ok(roughness_on(&fp.read_under(dem)?, fp))
}

/// Largest `radius_cells` accepted by [`relief_grid`].
pub const MAX_RELIEF_RADIUS: usize = 64;

/// Local relief (max - min, metres) over the `(2 * radius_cells + 1)²` square window centred
/// on every cell. A cell is NaN when its window touches no-data or leaves the grid, like
/// slope's no-data rule. Separable (a row pass then a column pass), O(cells x radius).
pub fn relief_grid(grid: &Grid, radius_cells: usize) -> Result<Grid> {
    if radius_cells > MAX_RELIEF_RADIUS {
        return Err(ToolsError::Argument(format!(
            "relief radius {radius_cells} cells exceeds {MAX_RELIEF_RADIUS}"
        )));
    }
    let (w, h, k) = (grid.width, grid.height, radius_cells);
    let mut lo = vec![f32::NAN; w * h];
    let mut hi = vec![f32::NAN; w * h];
    // Row pass: min and max over [c - k, c + k] of the same row.
    lo.par_chunks_mut(w.max(1)).zip(hi.par_chunks_mut(w.max(1))).enumerate().for_each(
        |(r, (lo_row, hi_row))| {
            let src = &grid.data[r * w..(r + 1) * w];
            for c in k..w.saturating_sub(k) {
                let win = &src[c - k..=c + k];
                if win.iter().any(|v| v.is_nan()) {
                    continue;
                }
                lo_row[c] = win.iter().copied().fold(f32::INFINITY, f32::min);
                hi_row[c] = win.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            }
        },
    );
    // Column pass over the row results; NaN anywhere in the column window propagates.
    let mut out = Grid::filled(w, h, f32::NAN, grid.transform);
    out.data.par_chunks_mut(w.max(1)).enumerate().for_each(|(r, row)| {
        if r < k || r + k >= h {
            return;
        }
        for (c, cell) in row.iter_mut().enumerate() {
            let mut mn = f32::INFINITY;
            let mut mx = f32::NEG_INFINITY;
            let mut ok = true;
            for rr in r - k..=r + k {
                let (a, b) = (lo[rr * w + c], hi[rr * w + c]);
                if a.is_nan() {
                    ok = false;
                    break;
                }
                mn = mn.min(a);
                mx = mx.max(b);
            }
            if ok {
                *cell = mx - mn;
            }
        }
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::raster_io::write_f32_geotiff;
    use crate::terrain::GeoTransform;

    fn t() -> GeoTransform {
        GeoTransform { x0: 0.0, y0: 20.0, dx: 1.0, dy: -1.0 }
    }

    #[test]
    fn a_tilted_plane_has_relief_and_steps_but_nothing_above_its_plane() {
        let g = Grid::from_fn(20, 20, t(), |x, y| (0.25 * x + 0.125 * y) as f32);
        let r = footprint_roughness(&g, 10.5, 10.5, 0.0, 1.5, 1.35).unwrap();
        assert_eq!(r.cells, 9); // 3 x 3 centres at heading 0
        assert!(r.above_plane_m < 1e-9, "{r:?}");
        assert!((r.step_m - 0.375).abs() < 1e-9, "diagonal step {r:?}");
        assert!((r.relief_m - (0.25 * 2.0 + 0.125 * 2.0)).abs() < 1e-9, "{r:?}");
    }

    #[test]
    fn a_rock_stands_above_the_plane_and_makes_a_step() {
        let mut g = Grid::from_fn(20, 20, t(), |x, _| (0.1 * x) as f32);
        let base = g.get(10, 10).unwrap();
        g.set(10, 10, base + 0.5);
        let r = footprint_roughness(&g, 10.5, 9.5, 45.0, 1.5, 1.35).unwrap();
        assert!(r.step_m > 0.5 && r.step_m < 0.65, "{r:?}");
        // The rock lifts the fitted plane a little; most of it still stands above.
        assert!(r.above_plane_m > 0.4 && r.above_plane_m < 0.5, "{r:?}");
    }

    #[test]
    fn nodata_under_the_footprint_is_unknown() {
        let mut g = Grid::filled(20, 20, 1.0, t());
        assert!(footprint_roughness(&g, 10.0, 10.0, 30.0, 1.5, 1.35).is_some());
        g.set(10, 9, f32::NAN); // centre (10.5, 10.5)
        assert!(footprint_roughness(&g, 10.0, 10.0, 30.0, 1.5, 1.35).is_none());
        assert!(footprint_roughness(&g, f64::INFINITY, 10.0, 30.0, 1.5, 1.35).is_none());
    }

    #[test]
    fn relief_grid_is_max_minus_min_with_nodata_rules() {
        let mut g = Grid::from_fn(9, 8, t(), |x, y| (x * 2.0 - y) as f32);
        let r1 = relief_grid(&g, 1).unwrap();
        // Interior: (x+1)*2 - (y-1) - ((x-1)*2 - (y+1)) = 4 + 2.
        assert!((r1.get(4, 4).unwrap() - 6.0).abs() < 1e-5);
        assert_eq!(r1.get(0, 4), None);
        assert_eq!(r1.get(4, 7), None);
        let r0 = relief_grid(&g, 0).unwrap();
        assert_eq!(r0.get(0, 0), Some(0.0));
        g.set(4, 4, f32::NAN);
        let r1 = relief_grid(&g, 1).unwrap();
        assert_eq!(r1.get(3, 3), None);
        assert_eq!(r1.get(5, 5), None);
        assert!(r1.get(6, 6).is_some());
        assert!(relief_grid(&g, 1000).is_err());
        let tiny = Grid::filled(1, 1, 0.0, t());
        assert_eq!(relief_grid(&tiny, 2).unwrap().valid_count(), 0);
    }

    #[test]
    fn roughness_at_reads_the_dem_window() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = Grid::from_fn(30, 30, t(), |x, y| (0.1 * x - 0.05 * y) as f32);
        g.set(12, 12, 3.0);
        let p = dir.path().join("dem.tif");
        write_f32_geotiff(&p, &g, "", -32767.0).unwrap();
        let dem = Dem::open(&p).unwrap();
        let fp = Footprint::new(12.5, 7.5, 20.0, 1.5, 1.35).unwrap();
        let got = roughness_at(&dem, &fp).unwrap();
        assert_eq!(got, roughness_on(&g, &fp));
        assert!(got.is_some());
    }
}
