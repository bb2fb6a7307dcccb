//! Resampling a raster onto a tile's pixels, read through [`Dem::window`] one horizontal strip
//! at a time so that a tile of a multi-gigabyte mosaic never holds more than a few million
//! cells.
//!
//! When a pixel is larger than a raster cell (zoomed out) it takes the mean (image, hillshade)
//! or the maximum (slope: a steep cell must not average away) of the cells whose centres fall
//! inside it; when smaller (zoomed in) it is bilinear between cell centres, falling back to the
//! nearest cell next to no-data. A pixel is no-data when fewer than half its cells are valid.
//!
//! # Coarse tiles read overviews
//!
//! When a pixel spans two raster cells or more, the raster is read through
//! [`Dem::decimated_around`] at the largest power-of-two factor not exceeding the pixel's size
//! in cells (a 3 km tile at 512 px, 5.9 m/px, reads a 1 m DEM by 4 and a 0.5 m ortho by 8),
//! and the pixels are computed from those block means as above. GDAL answers such a read from
//! the raster's overview of that factor when it has one (a COG's, or a GeoTIFF's internal
//! ones; powers of two are the levels `gdaladdo` and the COG driver build), so a kilometre-wide
//! tile touches an overview's few blocks, over `/vsicurl/` too, and never downloads or decodes
//! the full-resolution raster; the cells read stay within a strip's budget at any zoom.
//! Tiles whose pixels are finer than two cells read full-resolution windows exactly as before.

use rayon::prelude::*;

use super::frame::Frame;
use crate::analysis::slope::slope_grid;
use crate::error::Result;
use crate::terrain::{Dem, Grid};

/// Cells one strip window may hold (16 MB of f32).
const STRIP_CELLS: f64 = 4.0e6;

/// What is computed from the raster's cells before resampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Product {
    /// The cell values themselves (image brightness).
    Value,
    /// Slope in degrees by Horn's method, as the checker and `gdaldem slope` compute it.
    ///
    /// A coarse tile's slope is the slope at its own resolution: Horn's method over the
    /// decimated DEM (block means of [`decimation`] cells a side), not the steepest
    /// full-resolution cell under each pixel, so a boulder's flank that is steep over a metre
    /// shows only as steep as the ground is over a few metres. Why: the full-resolution slope
    /// of a kilometre-wide tile would read every cell of the DEM, which is what a coarse view
    /// must not do on a mission mosaic; rover-scale slope is for tiles zoomed in to pixels
    /// finer than two cells, which still take the steepest cell.
    Slope,
    /// Hillshade in `[0, 1]`, sun from the north-west at 45° (a stand-in for a missing image).
    Hillshade,
}

impl Product {
    fn pad(self) -> usize {
        match self {
            Product::Value => 1,
            Product::Slope | Product::Hillshade => 2,
        }
    }
}

/// How cells under a large pixel are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    /// Their mean.
    Mean,
    /// Their maximum.
    Max,
}

/// Samples `product` of `dem` at every pixel of `frame`: row-major, NaN for no-data and for
/// pixels off the raster.
pub(crate) fn sample(
    dem: &Dem,
    frame: &Frame,
    product: Product,
    reduce: Reduce,
) -> Result<Vec<f32>> {
    let (w, h) = (frame.width_px as usize, frame.height_px as usize);
    let mut out = vec![f32::NAN; w * h];
    let extent = dem.extent();
    if !frame.overlaps(extent) {
        return Ok(out);
    }
    let (cell_x, cell_y) = dem.transform().resolution();
    let mpp = frame.m_per_px;
    // Coarse tiles read (and compute slope and hillshade on) cells `factor` times coarser.
    let factor = decimation(mpp, cell_x.max(cell_y));
    let (cell_x, cell_y) = (cell_x * factor as f64, cell_y * factor as f64);
    // Only the part of the frame over the raster is read (plus the padding cells).
    let (pad_x, pad_y) = (cell_x * 3.0, cell_y * 3.0);
    let x_lo = frame.min_x_m.max(extent.0 - pad_x);
    let x_hi = frame.max_x_m.min(extent.2 + pad_x);
    let cols_per_strip = (x_hi - x_lo) / cell_x + 8.0;
    let rows_per_px = (mpp / cell_y).max(1.0);
    let strip_rows = ((STRIP_CELLS / cols_per_strip / rows_per_px).floor() as usize).clamp(1, h);
    let mut j0 = 0;
    while j0 < h {
        let j1 = (j0 + strip_rows).min(h);
        let y_hi = (frame.max_y_m - j0 as f64 * mpp).min(extent.3 + pad_y);
        let y_lo = (frame.max_y_m - j1 as f64 * mpp).max(extent.1 - pad_y);
        if y_lo < y_hi {
            let raw = if factor == 1 {
                dem.window_around(x_lo, y_lo, x_hi, y_hi, product.pad())?
            } else {
                dem.decimated_around(x_lo, y_lo, x_hi, y_hi, product.pad(), factor)?
            };
            let grid = match product {
                Product::Value => raw,
                Product::Slope => slope_grid(&raw),
                Product::Hillshade => hillshade(&raw),
            };
            let rows = &mut out[j0 * w..j1 * w];
            if mpp > cell_x.max(cell_y) * 1.000_001 {
                reduce_strip(&grid, frame, j0, rows, reduce);
            } else {
                bilinear_strip(&grid, frame, j0, rows);
            }
        }
        j0 = j1;
    }
    Ok(out)
}

/// The factor a tile whose pixels are `m_per_px` metres reads a raster of `cell` metres at:
/// the largest power of two not exceeding `m_per_px / cell`, so 1 (full resolution) while a
/// pixel spans fewer than two cells.
///
/// Why a power of two and not the largest whole factor: overviews come at powers of two, and a
/// read at exactly an overview's factor is that overview's cells as stored; a factor between
/// two levels would make GDAL resample the finer level and gain nothing in bytes read.
pub(crate) fn decimation(m_per_px: f64, cell: f64) -> usize {
    let ratio = m_per_px / cell;
    let mut factor = 1;
    // The tolerance keeps a pixel of exactly 4 cells (2048 m at 512 px on 1 m) at factor 4.
    while ratio.is_finite() && (2 * factor) as f64 <= ratio * (1.0 + 1e-9) && factor < 1 << 20 {
        factor *= 2;
    }
    factor
}

/// Cell index range `[lo, hi)` whose centres lie in `[a, b)` (fractional cell coordinates), at
/// least the one cell nearest the middle.
fn centre_range(a: f64, b: f64) -> (i64, i64) {
    let (a, b) = (a.min(b), a.max(b));
    let lo = (a - 0.5).ceil() as i64;
    let hi = (b - 0.5).ceil() as i64;
    if hi > lo {
        (lo, hi)
    } else {
        let mid = f64::midpoint(a, b).floor() as i64;
        (mid, mid + 1)
    }
}

fn value(grid: &Grid, c: i64, r: i64) -> f32 {
    if c < 0 || r < 0 || c as usize >= grid.width || r as usize >= grid.height {
        return f32::NAN;
    }
    grid.data[r as usize * grid.width + c as usize]
}

fn reduce_strip(grid: &Grid, frame: &Frame, j0: usize, rows: &mut [f32], reduce: Reduce) {
    let w = frame.width_px as usize;
    let t = grid.transform;
    let cols: Vec<(i64, i64)> = (0..w)
        .map(|i| {
            let (xa, _) = frame.to_map(i as f64, 0.0);
            let (xb, _) = frame.to_map(i as f64 + 1.0, 0.0);
            centre_range(t.to_cell(xa, 0.0).0, t.to_cell(xb, 0.0).0)
        })
        .collect();
    // Rows are independent, so they are computed in parallel; each pixel's value does not
    // depend on the split, so the output is the same on any number of threads.
    rows.par_chunks_mut(w).enumerate().for_each(|(dj, row)| {
        let j = (j0 + dj) as f64;
        let (_, ya) = frame.to_map(0.0, j);
        let (_, yb) = frame.to_map(0.0, j + 1.0);
        let (r_lo, r_hi) = centre_range(t.to_cell(0.0, ya).1, t.to_cell(0.0, yb).1);
        for (px, &(c_lo, c_hi)) in row.iter_mut().zip(&cols) {
            let (mut n, mut valid, mut sum, mut max) = (0u32, 0u32, 0f64, f32::NEG_INFINITY);
            for r in r_lo..r_hi {
                for c in c_lo..c_hi {
                    n += 1;
                    let v = value(grid, c, r);
                    if !v.is_nan() {
                        valid += 1;
                        sum += f64::from(v);
                        max = max.max(v);
                    }
                }
            }
            *px = if valid == 0 || valid * 2 < n {
                f32::NAN
            } else {
                match reduce {
                    Reduce::Mean => (sum / f64::from(valid)) as f32,
                    Reduce::Max => max,
                }
            };
        }
    });
}

fn bilinear_strip(grid: &Grid, frame: &Frame, j0: usize, rows: &mut [f32]) {
    let w = frame.width_px as usize;
    let t = grid.transform;
    // Per column: left neighbour column and weight; per row likewise.
    let cols: Vec<(i64, f32, i64)> = (0..w)
        .map(|i| {
            let (x, _) = frame.to_map(i as f64 + 0.5, 0.0);
            let fc = t.to_cell(x, 0.0).0;
            let c0 = (fc - 0.5).floor();
            (c0 as i64, (fc - 0.5 - c0) as f32, fc.floor() as i64)
        })
        .collect();
    let row_of = |r: i64| -> &[f32] {
        if r < 0 || r as usize >= grid.height {
            &[]
        } else {
            &grid.data[r as usize * grid.width..(r as usize + 1) * grid.width]
        }
    };
    let at = |row: &[f32], c: i64| -> f32 {
        usize::try_from(c).ok().and_then(|c| row.get(c)).copied().unwrap_or(f32::NAN)
    };
    rows.par_chunks_mut(w).enumerate().for_each(|(dj, row)| {
        let (_, y) = frame.to_map(0.0, (j0 + dj) as f64 + 0.5);
        let fr = t.to_cell(0.0, y).1;
        let r0f = (fr - 0.5).floor();
        let (r0, ty, rn) = (r0f as i64, (fr - 0.5 - r0f) as f32, fr.floor() as i64);
        let (above, below, nearest) = (row_of(r0), row_of(r0 + 1), row_of(rn));
        for (px, &(c0, tx, cn)) in row.iter_mut().zip(&cols) {
            let (z00, z10) = (at(above, c0), at(above, c0 + 1));
            let (z01, z11) = (at(below, c0), at(below, c0 + 1));
            let top = z00 + (z10 - z00) * tx;
            let bottom = z01 + (z11 - z01) * tx;
            let v = top + (bottom - top) * ty;
            *px = if v.is_nan() { at(nearest, cn) } else { v };
        }
    });
}

/// Hillshade in `[0, 1]` (Horn gradient, sun at azimuth 315°, altitude 45°); NaN where the
/// 3 × 3 window touches no-data and on the outer ring.
pub(crate) fn hillshade(grid: &Grid) -> Grid {
    let (w, h) = (grid.width, grid.height);
    let mut out = Grid::filled(w, h, f32::NAN, grid.transform);
    if w < 3 || h < 3 {
        return out;
    }
    let (dx, dy) = grid.transform.resolution();
    let (az, alt) = (315f64.to_radians(), 45f64.to_radians());
    let light = [az.sin() * alt.cos(), az.cos() * alt.cos(), alt.sin()];
    let z = |c: usize, r: usize| f64::from(grid.data[r * w + c]);
    for r in 1..h - 1 {
        for c in 1..w - 1 {
            let east = ((z(c + 1, r - 1) + 2.0 * z(c + 1, r) + z(c + 1, r + 1))
                - (z(c - 1, r - 1) + 2.0 * z(c - 1, r) + z(c - 1, r + 1)))
                / (8.0 * dx);
            let north = ((z(c - 1, r - 1) + 2.0 * z(c, r - 1) + z(c + 1, r - 1))
                - (z(c - 1, r + 1) + 2.0 * z(c, r + 1) + z(c + 1, r + 1)))
                / (8.0 * dy);
            let norm = (east * east + north * north + 1.0).sqrt();
            let shade = (-east * light[0] - north * light[1] + light[2]) / norm;
            if shade.is_finite() {
                out.data[r * w + c] = shade.clamp(0.0, 1.0) as f32;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    #[test]
    fn coarse_pixels_read_at_the_largest_power_of_two_below_their_size() {
        assert_eq!(decimation(0.3, 1.0), 1);
        assert_eq!(decimation(1.99, 1.0), 1, "under two cells a pixel reads full resolution");
        assert_eq!(decimation(2.0, 1.0), 2);
        assert_eq!(decimation(3000.0 / 512.0, 1.0), 4);
        assert_eq!(decimation(3000.0 / 512.0, 0.5), 8);
        assert_eq!(decimation(2048.0 / 512.0, 1.0), 4, "an exact power of two is kept");
        assert_eq!(decimation(1.0, 0.0), 1);
    }

    #[test]
    fn centre_ranges_cover_whole_pixels() {
        assert_eq!(centre_range(0.0, 2.0), (0, 2));
        assert_eq!(centre_range(0.4, 0.6), (0, 1), "a small span takes its nearest cell");
        assert_eq!(centre_range(2.0, 0.0), (0, 2), "order does not matter");
    }

    #[test]
    fn hillshade_lights_north_west_facing_slopes() {
        let t = GeoTransform { x0: 0.0, y0: 10.0, dx: 1.0, dy: -1.0 };
        // Rising to the east: faces west, away from a NW sun's east component.
        let east_up = hillshade(&Grid::from_fn(5, 5, t, |x, _| x as f32));
        let west_up = hillshade(&Grid::from_fn(5, 5, t, |x, _| -x as f32));
        let flat = hillshade(&Grid::from_fn(5, 5, t, |_, _| 1.0));
        let (a, b, f) =
            (east_up.get(2, 2).unwrap(), west_up.get(2, 2).unwrap(), flat.get(2, 2).unwrap());
        assert!(a > f && f > b, "{a} {f} {b}");
        assert!((f - 45f32.to_radians().sin()).abs() < 1e-6);
        assert_eq!(flat.get(0, 0), None);
    }
}
