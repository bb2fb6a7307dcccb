//! Regional relief: a tilted plane, long-wavelength undulation and metre-scale roughness.
//!
//! Why three parts: the plane sets the site's overall grade (the rover's pitch on a long drive),
//! the undulation gives the gentle swells seen in HiRISE DTMs at 100 m scale, and the roughness
//! (fractional Brownian motion with a patchy amplitude) gives the 1 m slope distribution: real
//! DEMs have a median of a few degrees and a heavy tail (Gale at 1 m: median 6.8, p99 23.5,
//! ROVER.md 3d \[R1\]). A Gaussian surface alone would give p99 = 2.6 x median; patchiness (rough
//! and smooth areas) widens the tail as on Mars.

use rand::Rng;
use rayon::prelude::*;

use super::canvas::Canvas;
use super::params::ReliefParams;
use super::rng::{self, Fbm, Stream};

/// One undulation sinusoid: `amp * sin(kx x + ky y + phase)`.
#[derive(Debug, Clone, Copy)]
struct Wave {
    amp: f64,
    kx: f64,
    ky: f64,
    phase: f64,
}

/// Draws the undulation waves. Each wave gets an equal share of the target RMS slope: a sinusoid
/// `a sin(k.x)` has RMS gradient `a |k| / sqrt(2)`, so `a = S sqrt(2) / (|k| sqrt(N))` makes the
/// sum's RMS slope `S = tan(undulation_slope_deg)`.
fn waves(seed: u64, r: &ReliefParams) -> Vec<Wave> {
    let mut rng = rng::stream(seed, Stream::Relief);
    let n = r.undulation_waves;
    let s = r.undulation_slope_deg.to_radians().tan();
    (0..n)
        .map(|_| {
            let (lmin, lmax) = (r.undulation_wavelength_min_m, r.undulation_wavelength_max_m);
            let lambda = if lmax > lmin {
                (lmin.ln() + rng.gen_range(0.0..1.0) * (lmax.ln() - lmin.ln())).exp()
            } else {
                lmin
            };
            let theta = rng.gen_range(0.0..std::f64::consts::TAU);
            let phase = rng.gen_range(0.0..std::f64::consts::TAU);
            let k = std::f64::consts::TAU / lambda;
            let amp = s * std::f64::consts::SQRT_2 / (k * (n as f64).sqrt());
            Wave { amp, kx: k * theta.cos(), ky: k * theta.sin(), phase }
        })
        .collect()
}

/// Paints plane + undulation + roughness into `canvas.z` (heights relative to the site's base
/// elevation at the centre). Roughness is damped under sand (`canvas.sand`) since ripple fields
/// bury the rough substrate; call after the sand mask is set.
pub fn paint(canvas: &mut Canvas, seed: u64, r: &ReliefParams) {
    let waves = waves(seed, r);
    let noise_seed = rng::splitmix64(seed ^ Stream::Noise as u64);
    let rough =
        Fbm::new(noise_seed ^ 1, r.roughness_wavelength_m, 3.0 * canvas.cell, r.roughness_hurst);
    let patches = Fbm::new(noise_seed ^ 2, r.patch_wavelength_m, r.patch_wavelength_m / 4.0, 0.5);
    let tan = r.slope_deg.to_radians().tan();
    let (sa, ca) = r.slope_azimuth_deg.to_radians().sin_cos();
    let half = canvas.extent / 2.0;
    let sigma = r.roughness_patchiness;
    let (n, cell, extent, row0) = (canvas.n, canvas.cell, canvas.extent, canvas.row0);
    let sand = &canvas.sand;
    canvas.z.par_chunks_mut(n).enumerate().for_each(|(row, line)| {
        let y = extent - ((row0 + row) as f64 + 0.5) * cell;
        let (mut rough, mut patches) = (rough.sampler(), patches.sampler());
        for (col, z) in line.iter_mut().enumerate() {
            let x = (col as f64 + 0.5) * cell;
            let (dx, dy) = (x - half, y - half);
            // Downhill along the azimuth: elevation falls with distance along (sin az, cos az).
            let mut h = -tan * (dx * sa + dy * ca);
            for w in &waves {
                h += w.amp * (w.kx * x + w.ky * y + w.phase).sin();
            }
            if r.roughness_m > 0.0 {
                // exp(sigma g - sigma^2) has unit mean square for unit-variance Gaussian g.
                let envelope = (sigma * patches.at(x, y) - sigma * sigma).exp();
                let damp = 1.0 - 0.8 * f64::from(sand[row * n + col]);
                h += r.roughness_m * envelope * damp * rough.at(x, y);
            }
            *z += h as f32;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_has_the_requested_slope_and_direction() {
        let r = ReliefParams {
            slope_deg: 10.0,
            slope_azimuth_deg: 90.0,
            undulation_waves: 0,
            roughness_m: 0.0,
            ..ReliefParams::default()
        };
        let mut c = Canvas::new(64, 1.0, 0.5);
        paint(&mut c, 1, &r);
        // Downhill to the east: the west column is higher.
        let west = c.z[c.idx(0, 32)];
        let east = c.z[c.idx(63, 32)];
        let slope = f64::from(west - east) / 63.0;
        assert!((slope - 10f64.to_radians().tan()).abs() < 1e-4, "{slope}");
        // Zero at the centre.
        assert!(f64::from(c.z[c.idx(32, 32)]).abs() < 0.2);
    }

    #[test]
    fn undulation_rms_slope_is_close_to_target() {
        let r = ReliefParams {
            slope_deg: 0.0,
            undulation_slope_deg: 3.0,
            undulation_waves: 12,
            undulation_wavelength_min_m: 40.0,
            undulation_wavelength_max_m: 80.0,
            roughness_m: 0.0,
            ..ReliefParams::default()
        };
        let mut c = Canvas::new(400, 1.0, 0.5);
        paint(&mut c, 5, &r);
        let mut sum = 0.0;
        let mut cnt = 0.0;
        for row in 1..399 {
            for col in 1..399 {
                let gx = f64::from(c.z[c.idx(col + 1, row)] - c.z[c.idx(col - 1, row)]) / 2.0;
                let gy = f64::from(c.z[c.idx(col, row + 1)] - c.z[c.idx(col, row - 1)]) / 2.0;
                sum += gx * gx + gy * gy;
                cnt += 1.0;
            }
        }
        let rms = (sum / cnt).sqrt().atan().to_degrees();
        assert!((rms - 3.0).abs() < 1.0, "rms slope {rms}");
    }
}
