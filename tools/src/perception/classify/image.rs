//! Image features on the DEM's grid: brightness and oriented texture of the orbital image,
//! computed at the image's own resolution and gathered into the DEM cells under it.
//!
//! Per image pixel: brightness `I` divided by the scene's median brightness (so the numbers are
//! ratios, whatever the camera's gain and the product's stretch), and Sobel's gradient
//! `g = (gx, gy)` of that ratio. Per DEM cell: the means of `I`, `g` and of the structure
//! tensor `g gᵀ` (`gx²`, `gx gy`, `gy²`) over the pixels whose centres fall in the cell. A DEM
//! cell with no pixel centre in it (an image coarser than the DEM) takes the pixel under its
//! centre. Box means of these over a few metres ([`super::ClassifyParams::texture_radius_m`])
//! then give, per cell:
//!
//! - **albedo ratio** `mean I`: sand is darker than dusty regolith, bedrock brighter;
//! - **texture energy** `E = mean gx² + mean gy²`;
//! - **coherence** `sqrt((Jxx - Jyy)² + 4 Jxy²) / E` in `[0, 1]`: 1 when every gradient in the
//!   window is parallel (stripes), 0 for isotropic texture (regolith grain, rocks);
//! - **oscillation** `1 - |mean g|² / E` in `[0, 1]`: 1 when gradients cancel (crests and
//!   troughs alternate: ripples), 0 for a single edge or a shading ramp (a scarp, a crater wall).
//!
//! A window of ripples is coherent *and* oscillating; a scarp's face is coherent but not
//! oscillating; rough regolith oscillates but is not coherent.

use rayon::prelude::*;

use crate::terrain::{GeoTransform, Grid};

/// Per-cell means of the image over one strip of DEM cells (row-major, NaN where no pixel).
pub(crate) struct CellImage {
    /// Mean brightness ratio.
    pub i: Vec<f32>,
    /// Mean x gradient.
    pub gx: Vec<f32>,
    /// Mean y gradient.
    pub gy: Vec<f32>,
    /// Mean gx².
    pub xx: Vec<f32>,
    /// Mean gx gy.
    pub xy: Vec<f32>,
    /// Mean gy².
    pub yy: Vec<f32>,
}

/// Sobel gradient of `img` at `(c, r)` (brightness ratio per pixel), `None` next to no-data
/// or at the image's edge.
#[inline]
fn sobel(img: &Grid, c: usize, r: usize) -> Option<(f32, f32)> {
    let w = img.width;
    if c == 0 || r == 0 || c + 1 >= w || r + 1 >= img.height {
        return None;
    }
    let z = |dc: usize, dr: usize| img.data[(r + dr - 1) * w + c + dc - 1];
    let (a, b, cc) = (z(0, 0), z(1, 0), z(2, 0));
    let (d, f) = (z(0, 1), z(2, 1));
    let (g, h, i) = (z(0, 2), z(1, 2), z(2, 2));
    let gx = ((cc + 2.0 * f + i) - (a + 2.0 * d + g)) / 8.0;
    // Rows grow south; y is north.
    let gy = ((a + 2.0 * b + cc) - (g + 2.0 * h + i)) / 8.0;
    (gx.is_finite() && gy.is_finite()).then_some((gx, gy))
}

/// Gathers `img` (values already brightness ratios) into the cells of a `w x h` DEM strip placed
/// by `cells`.
pub(crate) fn gather(img: &Grid, cells: GeoTransform, w: usize, h: usize) -> CellImage {
    let it = img.transform;
    // DEM cell of every image column and row (by pixel centre), or None off the strip.
    let col_of: Vec<Option<usize>> = (0..img.width)
        .map(|c| {
            let x = it.x0 + (c as f64 + 0.5) * it.dx;
            let fc = ((x - cells.x0) / cells.dx).floor();
            (fc >= 0.0 && fc < w as f64).then_some(fc as usize)
        })
        .collect();
    let row_of = |r: usize| -> Option<usize> {
        let y = it.y0 + (r as f64 + 0.5) * it.dy;
        let fr = ((y - cells.y0) / cells.dy).floor();
        (fr >= 0.0 && fr < h as f64).then_some(fr as usize)
    };
    // Image rows of each DEM row (contiguous: both grids are north-up).
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); h];
    for r in 0..img.height {
        if let Some(dr) = row_of(r) {
            rows_of[dr].push(r);
        }
    }
    let n = w * h;
    let mut out = CellImage {
        i: vec![f32::NAN; n],
        gx: vec![f32::NAN; n],
        gy: vec![f32::NAN; n],
        xx: vec![f32::NAN; n],
        xy: vec![f32::NAN; n],
        yy: vec![f32::NAN; n],
    };
    let CellImage { i, gx, gy, xx, xy, yy } = &mut out;
    i.par_chunks_mut(w)
        .zip(gx.par_chunks_mut(w))
        .zip(gy.par_chunks_mut(w))
        .zip(xx.par_chunks_mut(w))
        .zip(xy.par_chunks_mut(w))
        .zip(yy.par_chunks_mut(w))
        .enumerate()
        .for_each(|(dr, (((((ri, rgx), rgy), rxx), rxy), ryy))| {
            // Sums per cell: n_i, i, n_g, gx, gy, xx, xy, yy.
            let mut acc = vec![[0f64; 8]; w];
            for &r in &rows_of[dr] {
                for (c, dc) in col_of.iter().enumerate() {
                    let Some(dc) = *dc else { continue };
                    let v = img.data[r * img.width + c];
                    if v.is_nan() {
                        continue;
                    }
                    let a = &mut acc[dc];
                    a[0] += 1.0;
                    a[1] += f64::from(v);
                    if let Some((x, y)) = sobel(img, c, r) {
                        let (x, y) = (f64::from(x), f64::from(y));
                        a[2] += 1.0;
                        a[3] += x;
                        a[4] += y;
                        a[5] += x * x;
                        a[6] += x * y;
                        a[7] += y * y;
                    }
                }
            }
            for c in 0..w {
                let a = acc[c];
                if a[0] > 0.0 {
                    ri[c] = (a[1] / a[0]) as f32;
                }
                if a[2] > 0.0 {
                    rgx[c] = (a[3] / a[2]) as f32;
                    rgy[c] = (a[4] / a[2]) as f32;
                    rxx[c] = (a[5] / a[2]) as f32;
                    rxy[c] = (a[6] / a[2]) as f32;
                    ryy[c] = (a[7] / a[2]) as f32;
                } else if a[0] == 0.0 {
                    // No pixel centre in this cell (a coarse image): the pixel under the centre.
                    let (x, y) = cells.cell_center(c as i64, dr as i64);
                    let (pc, pr) = it.to_cell(x, y);
                    let (pc, pr) = (pc.floor(), pr.floor());
                    if pc < 0.0 || pr < 0.0 {
                        continue;
                    }
                    let (pc, pr) = (pc as usize, pr as usize);
                    if pc >= img.width || pr >= img.height {
                        continue;
                    }
                    let v = img.data[pr * img.width + pc];
                    if !v.is_nan() {
                        ri[c] = v;
                    }
                    if let Some((x, y)) = sobel(img, pc, pr) {
                        rgx[c] = x;
                        rgy[c] = y;
                        rxx[c] = x * x;
                        rxy[c] = x * y;
                        ryy[c] = y * y;
                    }
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_gather_into_the_cells_under_them() {
        // A 0.5 m image of a ramp in x over a 1 m DEM grid: 2 x 2 pixels a cell.
        let it = GeoTransform { x0: 0.0, y0: 10.0, dx: 0.5, dy: -0.5 };
        let img = Grid::from_fn(20, 20, it, |x, _| (x * 0.1) as f32);
        let cells = GeoTransform { x0: 0.0, y0: 10.0, dx: 1.0, dy: -1.0 };
        let g = gather(&img, cells, 10, 10);
        // Cell 3 spans x 3..4: pixel centres 3.25 and 3.75, mean 3.5 -> 0.35.
        assert!((g.i[5 * 10 + 3] - 0.35).abs() < 1e-6);
        // Gradient per pixel: 0.05 a pixel east, nothing north.
        assert!((g.gx[5 * 10 + 3] - 0.05).abs() < 1e-6);
        assert!(g.gy[5 * 10 + 3].abs() < 1e-6);
        // A coarse image (2 m pixels) still gives every cell a value.
        let coarse = GeoTransform { x0: 0.0, y0: 10.0, dx: 2.0, dy: -2.0 };
        let img = Grid::from_fn(5, 5, coarse, |_, _| 1.0);
        let g = gather(&img, cells, 10, 10);
        assert!(g.i.iter().all(|v| (*v - 1.0).abs() < 1e-6));
    }
}
