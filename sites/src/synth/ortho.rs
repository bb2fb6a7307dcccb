//! Rendering the fine height field as a HiRISE-like grayscale orthoimage.
//!
//! Brightness = albedo x (sky light + direct sun x Lambert x not-in-shadow), plus grain. Why each
//! part: HiRISE images (ROVER.md 4 \[H1, H2\]) are taken in the mid-afternoon, so relief shows as
//! shading and cast shadows; the eye (and a vision model) reads rocks as bright dots with a dark
//! shadow on the side away from the sun, crater interiors by the shadowed sunward wall, and
//! ripples by their crest stripes. Shadows are exact for the height field: a pixel is shadowed
//! when the terrain toward the sun rises above the sun ray, computed in one sweep with the
//! horizon recurrence H(p) = max(z(p), H(p + step toward sun) - step tan(elevation)).

use rayon::prelude::*;

use super::canvas::Canvas;
use super::params::RenderParams;
use super::rng::{hash_unit, Fbm};

/// Linear stretch, like a HiRISE RED product's: brightness `BLACK` maps to DN 1 and each unit
/// above it to `GAIN` DN (flat lit regolith of albedo 0.48 lands near DN 125, shadows near 20,
/// sunlit rock faces saturate).
const GAIN: f64 = 300.0;
/// Brightness mapped to the darkest valid DN.
const BLACK: f64 = 0.06;

/// Fills the albedo layer with dusty regolith: faint patches at 20-160 m and fine mottling.
pub fn paint_base_albedo(canvas: &mut Canvas, seed: u64) {
    let patches = Fbm::new(seed ^ 0xa1be, 160.0, 20.0, 0.7);
    let mottle = Fbm::new(seed ^ 0x3077, 3.0, 2.0 * canvas.cell, 0.5);
    let (n, cell, extent, row0) = (canvas.n, canvas.cell, canvas.extent, canvas.row0);
    canvas.albedo.par_chunks_mut(n).enumerate().for_each(|(row, line)| {
        let y = extent - ((row0 + row) as f64 + 0.5) * cell;
        let (mut patches, mut mottle) = (patches.sampler(), mottle.sampler());
        for (col, a) in line.iter_mut().enumerate() {
            let x = (col as f64 + 0.5) * cell;
            *a = (0.48 + 0.03 * patches.at(x, y) + 0.025 * mottle.at(x, y)).clamp(0.05, 1.0) as f32;
        }
    });
}

/// Fraction of direct sunlight reaching each pixel (1 lit, 0 in cast shadow) of a whole `n x n`
/// height field.
#[must_use]
#[cfg(test)]
pub fn sunlit_fraction(
    z: &[f32],
    n: usize,
    cell: f64,
    azimuth_deg: f64,
    elevation_deg: f64,
) -> Vec<f32> {
    let mut sweep = ShadowSweep::new(n, cell, azimuth_deg, elevation_deg);
    sweep.band(z, 0, n)
}

/// The cast-shadow sweep, run band by band.
///
/// The horizon recurrence runs along lines from the sun side: along rows when the sun is
/// nearer north or south than east or west ("row-major"), else along columns ("column-major"),
/// interpolating the previous line's horizon at one step toward the sun. Either way a pixel's
/// horizon depends only on pixels on its sun side, at most two rows further toward the sun per
/// step, so bands taken in [`ShadowSweep::south_first`] order, each handed the horizon of the
/// two rows next to it in the band before, give bit-identical results to one sweep over the
/// whole field: every horizon value is computed by the same operations from the same inputs.
#[derive(Debug, Clone)]
pub struct ShadowSweep {
    n: usize,
    col_major: bool,
    /// +1 when lines are taken in increasing order (the sun is on the low side), else -1.
    toward: isize,
    step_minor: f64,
    drop: f64,
    /// Horizon rows kept from the last band: (site row, horizon per column).
    carry: Vec<(usize, Vec<f64>)>,
}

impl ShadowSweep {
    /// A sweep over an `n x n` field of `cell`-metre pixels lit from `azimuth_deg` (clockwise
    /// from north) at `elevation_deg`.
    #[must_use]
    pub fn new(n: usize, cell: f64, azimuth_deg: f64, elevation_deg: f64) -> Self {
        let (sa, ca) = azimuth_deg.to_radians().sin_cos();
        // Toward the sun in raster axes: columns grow east, rows grow south.
        let (dc, dr) = (sa, -ca);
        let col_major = dc.abs() >= dr.abs();
        let (d_major, d_minor) = if col_major { (dc, dr) } else { (dr, dc) };
        let step_minor = d_minor / d_major.abs();
        let drop = elevation_deg.to_radians().tan() * cell * (1.0 + step_minor * step_minor).sqrt();
        let toward = if d_major > 0.0 { 1isize } else { -1isize };
        ShadowSweep { n, col_major, toward, step_minor, drop, carry: Vec::new() }
    }

    /// Whether bands must be swept from the south edge up (the sun is to the south, or due
    /// east or west); otherwise from the north edge down.
    #[must_use]
    pub fn south_first(&self) -> bool {
        if self.col_major {
            self.step_minor >= 0.0
        } else {
            self.toward > 0
        }
    }

    /// Sunlit fraction of site rows `r0 .. r1`, whose heights `z` holds (row-major). Bands must
    /// come in [`ShadowSweep::south_first`] order, each next to the one before.
    pub fn band(&mut self, z: &[f32], r0: usize, r1: usize) -> Vec<f32> {
        let n = self.n;
        debug_assert_eq!(z.len(), (r1 - r0) * n);
        let mut lit = vec![1.0f32; z.len()];
        // Lines from the sun side, so each line's sunward neighbour is already done.
        let order: Vec<usize> =
            if self.toward < 0 { (0..n).collect() } else { (0..n).rev().collect() };
        let s = self.step_minor;
        let drop = self.drop;
        // Horizon and shade of one pixel from the sunward line's horizon `prev(row)`.
        let shade = |zi: f64, pos: f64, prev: &dyn Fn(usize) -> f64, lit: &mut f32| -> f64 {
            if pos >= 0.0 && pos <= (n - 1) as f64 {
                let lo = pos.floor() as usize;
                let hi = (lo + 1).min(n - 1);
                let t = pos - lo as f64;
                let occ = prev(lo) + (prev(hi) - prev(lo)) * t - drop;
                if occ > zi {
                    // A few centimetres of penumbra keep shadow edges from aliasing.
                    let depth = ((occ - zi) / 0.03).min(1.0);
                    *lit = (1.0 - depth) as f32;
                    return occ;
                }
            }
            zi
        };
        if self.col_major {
            // Lines are columns; the band's rows plus up to two carried rows on either side.
            let e0 = r0.saturating_sub(2);
            let e1 = (r1 + 2).min(n);
            let mut prev = vec![0.0f64; e1 - e0];
            let mut cur = vec![0.0f64; e1 - e0];
            let keep: Vec<usize> = if self.south_first() {
                (r0..(r0 + 2).min(r1)).collect()
            } else {
                (r1.saturating_sub(2).max(r0)..r1).collect()
            };
            let mut next: Vec<(usize, Vec<f64>)> =
                keep.iter().map(|&r| (r, vec![0.0; n])).collect();
            // Columns are read from a transposed copy: walking a column of the row-major band
            // strides a whole row per pixel (a cache and TLB miss each), several times slower.
            let m = r1 - r0;
            let zt = transpose(z, n, m);
            let mut lit_t = vec![1.0f32; z.len()];
            let mut last: Option<usize> = None;
            for (k, &col) in order.iter().enumerate() {
                if let Some(pc) = last {
                    for (r, h) in &self.carry {
                        if (e0..e1).contains(r) && !(r0..r1).contains(r) {
                            prev[r - e0] = h[pc];
                        }
                    }
                }
                for row in r0..r1 {
                    let i = col * m + (row - r0);
                    let zi = f64::from(zt[i]);
                    cur[row - e0] = if k > 0 {
                        let p = &prev;
                        shade(zi, row as f64 + s, &|r| p[r - e0], &mut lit_t[i])
                    } else {
                        zi
                    };
                }
                std::mem::swap(&mut prev, &mut cur);
                for (r, h) in &mut next {
                    h[col] = prev[*r - e0];
                }
                last = Some(col);
            }
            self.carry = next;
            lit = transpose(&lit_t, m, n);
        } else {
            // Lines are rows: this band's rows in sun order, after the carried sunward row.
            let rows: Vec<usize> = order.iter().copied().filter(|r| (r0..r1).contains(r)).collect();
            let mut prev = self.carry.pop().map(|(_, h)| h);
            let mut cur = vec![0.0f64; n];
            for &row in &rows {
                for (col, h) in cur.iter_mut().enumerate() {
                    let i = (row - r0) * n + col;
                    let zi = f64::from(z[i]);
                    *h = match &prev {
                        Some(p) => shade(zi, col as f64 + s, &|c| p[c], &mut lit[i]),
                        None => zi,
                    };
                }
                let done = std::mem::replace(&mut cur, prev.take().unwrap_or_else(|| vec![0.0; n]));
                prev = Some(done);
            }
            if let Some(p) = prev {
                self.carry = vec![(rows.last().copied().unwrap_or(r0), p)];
            }
        }
        lit
    }
}

/// The transpose of a row-major `rows x cols` array (`cols x rows`), by cache-sized tiles.
fn transpose(a: &[f32], cols: usize, rows: usize) -> Vec<f32> {
    const T: usize = 64;
    let mut out = vec![0.0f32; a.len()];
    for r0 in (0..rows).step_by(T) {
        for c0 in (0..cols).step_by(T) {
            for r in r0..(r0 + T).min(rows) {
                for c in c0..(c0 + T).min(cols) {
                    out[c * rows + r] = a[r * cols + c];
                }
            }
        }
    }
    out
}

/// Renders the 8-bit ortho (1..=255; 0 is reserved for no-data) of a whole canvas.
#[must_use]
#[cfg(test)]
pub fn render(canvas: &Canvas, render: &RenderParams, seed: u64) -> Vec<u8> {
    let n = canvas.n;
    let lit = sunlit_fraction(
        &canvas.z,
        n,
        canvas.cell,
        render.sun_azimuth_deg,
        render.sun_elevation_deg,
    );
    render_rows(canvas, &lit, 0, n, render, seed)
}

/// Renders site rows `r0 .. r1` of the ortho from a canvas holding them and, where the site has
/// them, the rows just above and below (for the slope), with `lit` their sunlit fraction.
/// The grain is hashed from the site pixel index, so it does not depend on the band.
#[must_use]
pub fn render_rows(
    canvas: &Canvas,
    lit: &[f32],
    r0: usize,
    r1: usize,
    render: &RenderParams,
    seed: u64,
) -> Vec<u8> {
    let n = canvas.n;
    let cell = canvas.cell;
    let b0 = canvas.row0;
    debug_assert!(b0 <= r0.saturating_sub(1) && (r1 + 1).min(n) <= b0 + canvas.rows);
    let (sa, ca) = render.sun_azimuth_deg.to_radians().sin_cos();
    let (se, ce) = render.sun_elevation_deg.to_radians().sin_cos();
    let (sx, sy, sz) = (ce * sa, ce * ca, se);
    let amb = render.ambient;
    let z = &canvas.z;
    let mut out = vec![0u8; (r1 - r0) * n];
    out.par_chunks_mut(n).enumerate().for_each(|(k, line)| {
        let row = r0 + k;
        let up = row.saturating_sub(1);
        let down = (row + 1).min(n - 1);
        let (lrow, lup, ldown) = (row - b0, up - b0, down - b0);
        for (col, px) in line.iter_mut().enumerate() {
            let left = col.saturating_sub(1);
            let right = (col + 1).min(n - 1);
            let dzdx = f64::from(z[lrow * n + right] - z[lrow * n + left])
                / ((right - left) as f64 * cell);
            // Rows grow south, so north is up = row - 1.
            let dzdy =
                f64::from(z[lup * n + col] - z[ldown * n + col]) / ((down - up) as f64 * cell);
            let norm = (1.0 + dzdx * dzdx + dzdy * dzdy).sqrt();
            let lambert = ((-dzdx * sx - dzdy * sy + sz) / norm).max(0.0) / sz;
            let i = row * n + col;
            let li = lrow * n + col;
            let direct = lambert * f64::from(lit[k * n + col]);
            let brightness = f64::from(canvas.albedo[li]) * (amb + (1.0 - amb) * direct);
            let g = hash_unit(seed, i as u64, 1)
                + hash_unit(seed, i as u64, 2)
                + hash_unit(seed, i as u64, 3)
                - 1.5;
            let dn = 1.0 + (brightness - BLACK) * GAIN + 2.0 * g * render.grain_dn;
            *px = dn.round().clamp(1.0, 255.0) as u8;
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_casts_a_shadow_away_from_the_sun() {
        let n = 40;
        let mut z = vec![0.0f32; n * n];
        // A 2 m tall block at the centre (cols/rows 18..22).
        for r in 18..22 {
            for c in 18..22 {
                z[r * n + c] = 2.0;
            }
        }
        // Sun from the west (270), 45 deg: shadow 2 m = 4 px long to the east.
        let lit = sunlit_fraction(&z, n, 0.5, 270.0, 45.0);
        assert_eq!(lit[20 * n + 23], 0.0);
        assert_eq!(lit[20 * n + 24], 0.0);
        assert!(lit[20 * n + 27] > 0.99);
        assert!(lit[20 * n + 16] > 0.99, "west side lit");
        // Sun from the south (180): shadow to the north (smaller rows).
        let lit = sunlit_fraction(&z, n, 0.5, 180.0, 45.0);
        assert_eq!(lit[17 * n + 20], 0.0);
        assert!(lit[23 * n + 20] > 0.99);
    }

    #[test]
    fn render_uses_valid_dns_only() {
        let mut c = Canvas::new(32, 0.5, 0.5);
        c.z[16 * 32 + 16] = 1.0;
        let img = render(&c, &RenderParams::default(), 1);
        assert!(img.iter().all(|&v| v >= 1));
        // Flat lit regolith (albedo 0.5) sits mid-grey.
        assert!((115..145).contains(&img[2 * 32 + 2]), "{}", img[2 * 32 + 2]);
    }
}
