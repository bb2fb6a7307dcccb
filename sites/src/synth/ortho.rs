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
    let (n, cell, extent) = (canvas.n, canvas.cell, canvas.extent);
    canvas.albedo.par_chunks_mut(n).enumerate().for_each(|(row, line)| {
        let y = extent - (row as f64 + 0.5) * cell;
        for (col, a) in line.iter_mut().enumerate() {
            let x = (col as f64 + 0.5) * cell;
            *a = (0.48 + 0.03 * patches.at(x, y) + 0.025 * mottle.at(x, y)).clamp(0.05, 1.0) as f32;
        }
    });
}

/// Fraction of direct sunlight reaching each pixel (1 lit, 0 in cast shadow).
#[must_use]
pub fn sunlit_fraction(
    z: &[f32],
    n: usize,
    cell: f64,
    azimuth_deg: f64,
    elevation_deg: f64,
) -> Vec<f32> {
    let (sa, ca) = azimuth_deg.to_radians().sin_cos();
    // Toward the sun in raster axes: columns grow east, rows grow south.
    let (dc, dr) = (sa, -ca);
    let col_major = dc.abs() >= dr.abs();
    let (d_major, d_minor) = if col_major { (dc, dr) } else { (dr, dc) };
    let step_minor = d_minor / d_major.abs();
    let drop = elevation_deg.to_radians().tan() * cell * (1.0 + step_minor * step_minor).sqrt();
    let toward = if d_major > 0.0 { 1isize } else { -1isize };
    let index = |major: usize, minor: usize| {
        if col_major {
            minor * n + major
        } else {
            major * n + minor
        }
    };
    let mut lit = vec![1.0f32; n * n];
    let mut prev = vec![0.0f64; n];
    let mut cur = vec![0.0f64; n];
    // Start on the sun side so each line's sunward neighbour is already done.
    let order: Vec<usize> = if toward < 0 { (0..n).collect() } else { (0..n).rev().collect() };
    for (k, &major) in order.iter().enumerate() {
        for minor in 0..n {
            let zi = f64::from(z[index(major, minor)]);
            let mut horizon = zi;
            if k > 0 {
                let pos = minor as f64 + step_minor;
                if pos >= 0.0 && pos <= (n - 1) as f64 {
                    let lo = pos.floor() as usize;
                    let hi = (lo + 1).min(n - 1);
                    let t = pos - lo as f64;
                    let occ = prev[lo] + (prev[hi] - prev[lo]) * t - drop;
                    if occ > zi {
                        horizon = occ;
                        // A few centimetres of penumbra keep shadow edges from aliasing.
                        let depth = ((occ - zi) / 0.03).min(1.0);
                        lit[index(major, minor)] = (1.0 - depth) as f32;
                    }
                }
            }
            cur[minor] = horizon;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    lit
}

/// Renders the 8-bit ortho (1..=255; 0 is reserved for no-data).
#[must_use]
pub fn render(canvas: &Canvas, render: &RenderParams, seed: u64) -> Vec<u8> {
    let n = canvas.n;
    let cell = canvas.cell;
    let lit = sunlit_fraction(&canvas.z, n, cell, render.sun_azimuth_deg, render.sun_elevation_deg);
    let (sa, ca) = render.sun_azimuth_deg.to_radians().sin_cos();
    let (se, ce) = render.sun_elevation_deg.to_radians().sin_cos();
    let (sx, sy, sz) = (ce * sa, ce * ca, se);
    let amb = render.ambient;
    let z = &canvas.z;
    let mut out = vec![0u8; n * n];
    out.par_chunks_mut(n).enumerate().for_each(|(row, line)| {
        let up = row.saturating_sub(1);
        let down = (row + 1).min(n - 1);
        for (col, px) in line.iter_mut().enumerate() {
            let left = col.saturating_sub(1);
            let right = (col + 1).min(n - 1);
            let dzdx =
                f64::from(z[row * n + right] - z[row * n + left]) / ((right - left) as f64 * cell);
            // Rows grow south, so north is up = row - 1.
            let dzdy = f64::from(z[up * n + col] - z[down * n + col]) / ((down - up) as f64 * cell);
            let norm = (1.0 + dzdx * dzdx + dzdy * dzdy).sqrt();
            let lambert = ((-dzdx * sx - dzdy * sy + sz) / norm).max(0.0) / sz;
            let i = row * n + col;
            let direct = lambert * f64::from(lit[i]);
            let brightness = f64::from(canvas.albedo[i]) * (amb + (1.0 - amb) * direct);
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
