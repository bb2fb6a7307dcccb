//! Impact craters: the size-frequency law, the simple-crater profile and its degradation.
//!
//! Size-frequency (ROVER.md 3b \[K1, K3\]): cumulative N(>D) = C D^-b. Diameters are drawn by
//! inverting the CDF of the power law truncated to `[d_min, d_max]`:
//! P(>D) = (D^-b - Dmax^-b) / (Dmin^-b - Dmax^-b).
//!
//! Profile (ROVER.md 3b, Melosh via \[K4\]; cavity exponent 1.75 from HiRISE DTMs \[K6\]), with
//! rho = r / R: inside, z = -d + (d + h_r) rho^1.75; outside, z = h_r rho^-3 (ejecta thinning as
//! r^-3), tapered smoothly to zero between rho = 2 and 3. Fresh: d = 0.196 D, h_r = 0.036 D.
//! Because the inner curve is below h_r inside the rim and the outer one below h_r outside it,
//! the profile is exactly `min(inner, outer)`; degradation replaces the min by a smooth min
//! (rounded rim), lowers d/D towards 0.05 and fills the floor with sand.

use rand::Rng;

use super::canvas::{smoothstep, Canvas};
use super::params::{CraterPopulation, CraterSpec};
use super::rng::{self, Stream};

/// Fresh depth/diameter (ROVER.md 3b).
pub const FRESH_DEPTH_RATIO: f64 = 0.196;
/// Fresh rim-height/diameter (ROVER.md 3b).
pub const FRESH_RIM_RATIO: f64 = 0.036;
/// Depth/diameter of a fully degraded crater (ROVER.md 3b: "to ~0.05 ?").
pub const DEGRADED_DEPTH_RATIO: f64 = 0.05;
/// Albedo of the dark sand that fills degraded crater floors.
const FILL_ALBEDO: f64 = 0.36;

/// A crater ready to paint.
#[derive(Debug, Clone, PartialEq)]
pub struct Crater {
    /// Centre, site-local m.
    pub x: f64,
    /// Centre, site-local m.
    pub y: f64,
    /// Rim diameter, m.
    pub diameter: f64,
    /// 0 (degraded) .. 1 (fresh).
    pub freshness: f64,
    /// Depth below the surroundings, m.
    pub depth: f64,
    /// Rim height above the surroundings, m.
    pub rim: f64,
    /// Whether ejecta blocks may be scattered around it.
    pub ejecta: bool,
    /// Hand-placed (true) or drawn from the population (false).
    pub placed: bool,
}

impl Crater {
    /// Builds a crater, deriving depth and rim height from freshness unless given.
    #[must_use]
    pub fn new(x: f64, y: f64, diameter: f64, freshness: f64) -> Self {
        let f = freshness.clamp(0.0, 1.0);
        Crater {
            x,
            y,
            diameter,
            freshness: f,
            depth: diameter
                * (DEGRADED_DEPTH_RATIO + (FRESH_DEPTH_RATIO - DEGRADED_DEPTH_RATIO) * f),
            rim: diameter * FRESH_RIM_RATIO * (0.25 + 0.75 * f),
            ejecta: true,
            placed: false,
        }
    }

    /// A hand-placed crater from its spec.
    #[must_use]
    pub fn from_spec(s: &CraterSpec) -> Self {
        let mut c = Crater::new(s.x_m, s.y_m, s.diameter_m, s.freshness);
        if let Some(d) = s.depth_ratio {
            c.depth = d * s.diameter_m;
        }
        if let Some(r) = s.rim_ratio {
            c.rim = r * s.diameter_m;
        }
        c.ejecta = s.ejecta;
        c.placed = true;
        c
    }

    /// Radius, m.
    #[must_use]
    pub fn radius(&self) -> f64 {
        self.diameter / 2.0
    }

    /// Height (m) relative to the pre-impact surface at normalised radius `rho`.
    #[must_use]
    pub fn height(&self, rho: f64) -> f64 {
        profile(rho, self.depth, self.rim, self.freshness)
    }
}

/// Polynomial smooth minimum with blend width `k` (height units); `min(a, b)` when `k` is 0.
fn smin(a: f64, b: f64, k: f64) -> f64 {
    if k <= 0.0 {
        return a.min(b);
    }
    let h = (0.5 + 0.5 * (b - a) / k).clamp(0.0, 1.0);
    b + (a - b) * h - k * h * (1.0 - h)
}

/// The crater profile at `rho = r / R` for depth `d`, rim height `h` and freshness `f` (see the
/// module docs). Zero for `rho >= 3`.
#[must_use]
pub fn profile(rho: f64, d: f64, h: f64, f: f64) -> f64 {
    if rho >= 3.0 {
        return 0.0;
    }
    let rho = rho.max(0.0);
    let inner = -d + (d + h) * rho.powf(1.75);
    let taper = 1.0 - smoothstep(2.0, 3.0, rho);
    let outer = h * taper / rho.max(0.05).powi(3);
    // Rim rounding: width in rho ~ w, converted to height units through the two wall gradients.
    let w = 0.01 + 0.4 * (1.0 - f).powf(1.5);
    let k = w * (1.75 * (d + h) + 3.0 * h);
    let z = smin(inner, outer, k);
    // Degraded floors are filled (flat, sand) up to a level that rises as the crater degrades.
    let fill = -d * (0.55 + 0.5 * f);
    let kf = 0.1 * d * (1.0 - f);
    // Smooth max via smooth min of negatives.
    -smin(-z, -fill, kf)
}

/// Draws the random population over the site extended by `1.5 * d_max` on every side (so
/// craters straddling the edge appear), `density * area` craters on average.
#[must_use]
pub fn sample_population(seed: u64, p: &CraterPopulation, extent: f64) -> Vec<Crater> {
    let mut rng = rng::stream(seed, Stream::Craters);
    let margin = 1.5 * p.d_max_m;
    let side = extent + 2.0 * margin;
    let mean = p.density_per_km2 * side * side / 1.0e6;
    let count = mean.floor() as usize + usize::from(rng.gen_range(0.0..1.0) < mean.fract());
    let (lo, hi) = (p.d_min_m.powf(-p.exponent_b), p.d_max_m.powf(-p.exponent_b));
    (0..count)
        .map(|_| {
            let u: f64 = rng.gen_range(0.0..1.0);
            // Inverse of the truncated power-law CDF.
            let d = (hi + u * (lo - hi)).powf(-1.0 / p.exponent_b);
            let x = rng.gen_range(-margin..extent + margin);
            let y = rng.gen_range(-margin..extent + margin);
            let fresh = rng.gen_range(0.0..1.0) < p.fresh_fraction;
            let f = if fresh { rng.gen_range(0.7..1.0) } else { rng.gen_range(0.0..0.7) };
            Crater::new(x, y, d.clamp(p.d_min_m, p.d_max_m), f)
        })
        .collect()
}

/// Adds the crater's relief to `canvas.z` over its bounding box (3 radii) only.
pub fn paint(canvas: &mut Canvas, c: &Crater) {
    let r = c.radius();
    let Some(w) = canvas.window(c.x - 3.0 * r, c.y - 3.0 * r, c.x + 3.0 * r, c.y + 3.0 * r) else {
        return;
    };
    for row in w.r0..w.r1 {
        for col in w.c0..w.c1 {
            let [x, y] = canvas.centre(col, row);
            let rho = ((x - c.x).powi(2) + (y - c.y).powi(2)).sqrt() / r;
            if rho < 3.0 {
                let i = canvas.idx(col, row);
                canvas.z[i] += c.height(rho) as f32;
            }
        }
    }
}

/// How much of a crater's floor is filled with sand: fully for degraded craters (freshness
/// below 0.2), not at all for fresh ones (above 0.75).
#[must_use]
pub fn fill_strength(freshness: f64) -> f64 {
    1.0 - smoothstep(0.2, 0.75, freshness)
}

/// Marks the sand fill of a degraded crater's floor: darker albedo and sand cover (which damps
/// the roughness painted afterwards and keeps rocks off the floor). Call before the relief.
pub fn paint_fill(canvas: &mut Canvas, c: &Crater) {
    let strength = fill_strength(c.freshness);
    if strength <= 0.0 {
        return;
    }
    let r = c.radius();
    let Some(w) = canvas.window(c.x - r, c.y - r, c.x + r, c.y + r) else {
        return;
    };
    for row in w.r0..w.r1 {
        for col in w.c0..w.c1 {
            let [x, y] = canvas.centre(col, row);
            let rho = ((x - c.x).powi(2) + (y - c.y).powi(2)).sqrt() / r;
            if rho < 0.85 {
                let t = strength * (1.0 - smoothstep(0.45, 0.85, rho));
                let i = canvas.idx(col, row);
                let a = f64::from(canvas.albedo[i]);
                canvas.albedo[i] = (a + (FILL_ALBEDO - a) * 0.5 * t) as f32;
                canvas.sand[i] = canvas.sand[i].max((0.75 * t) as f32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_profile_values() {
        let c = Crater::new(0.0, 0.0, 100.0, 1.0);
        assert!((c.depth - 19.6).abs() < 1e-9 && (c.rim - 3.6).abs() < 1e-9);
        let z0 = c.height(0.0);
        assert!((z0 + 19.6).abs() < 0.05, "floor {z0}");
        let z1 = c.height(1.0);
        assert!((z1 - 3.6).abs() < 0.2, "rim {z1}");
        assert_eq!(c.height(3.0), 0.0);
        assert!(c.height(2.99).abs() < 1e-3);
        // Ejecta thins as rho^-3 before the taper.
        let z15 = c.height(1.5);
        assert!((z15 - 3.6 / 3.375).abs() < 0.05, "rho 1.5 {z15}");
        // Inner wall near the rim is steep (> 30 deg): fresh craters wall off their floors.
        let slope = (c.height(0.95) - c.height(0.85)) / (0.1 * 50.0);
        assert!(slope.atan().to_degrees() > 30.0);
    }

    #[test]
    fn degraded_profile_is_shallow_and_rounded() {
        let c = Crater::new(0.0, 0.0, 100.0, 0.0);
        assert!((c.depth - 5.0).abs() < 1e-9);
        // Filled floor: flat and above -d.
        let z0 = c.height(0.0);
        assert!(z0 > -5.0 && z0 < -2.0, "floor {z0}");
        assert!((c.height(0.2) - z0).abs() < 0.3);
        // Rim lower than the sharp-rim value.
        assert!(c.height(1.0) < c.rim);
        let max_slope = (0..100)
            .map(|i| {
                let rho = f64::from(i) * 0.02;
                ((c.height(rho + 0.02) - c.height(rho)) / (0.02 * 50.0)).abs()
            })
            .fold(0.0, f64::max);
        assert!(max_slope.atan().to_degrees() < 15.0, "{max_slope}");
    }

    #[test]
    fn population_follows_the_power_law() {
        let p = CraterPopulation {
            density_per_km2: 4000.0,
            exponent_b: 2.5,
            d_min_m: 4.0,
            d_max_m: 400.0,
            fresh_fraction: 0.3,
            ejecta_rock_k: 0.0,
        };
        let cs = sample_population(9, &p, 1000.0);
        let n_of = |d: f64| cs.iter().filter(|c| c.diameter >= d).count() as f64;
        let n4 = n_of(4.0);
        let side: f64 = 1000.0 + 3.0 * 400.0;
        assert!((n4 / (4000.0 * side * side / 1e6) - 1.0).abs() < 0.02, "{n4}");
        for d in [8.0f64, 16.0] {
            let expected =
                ((d.powf(-2.5) - 400f64.powf(-2.5)) / (4f64.powf(-2.5) - 400f64.powf(-2.5))) * n4;
            let got = n_of(d);
            assert!((got / expected - 1.0).abs() < 0.1, "N(>{d}) {got} vs {expected}");
        }
        let fresh = cs.iter().filter(|c| c.freshness >= 0.7).count() as f64 / n4;
        assert!((fresh - 0.3).abs() < 0.02);
        // Repeatable.
        assert_eq!(cs, sample_population(9, &p, 1000.0));
    }
}
