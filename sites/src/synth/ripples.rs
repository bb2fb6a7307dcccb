//! Sand ripple fields: megaripples and transverse aeolian ridges (TARs).
//!
//! Shape (ROVER.md 3c \[E4-E7\]): z += (H/2) sin(2 pi u / lambda), u the distance along the wind,
//! so crests run across it; crest lines meander gently (real crests are never ruler-straight).
//! Amplitude fades in over `feather_m` from the field's outline. Sand is darker than dusty
//! regolith in HiRISE images, and ripple crests (coarser, dust-coated grains) are brighter than
//! troughs. Since 2014 MSL routes avoid ripple fields \[N12\]: megaripple crossings gave sinkage
//! up to ~30 % of wheel diameter and slip up to 77 % \[E8\].

use rayon::prelude::*;

use super::canvas::{smoothstep, Canvas};
use super::geometry::{boundary_candidates, bounds, contains, signed_depth_among, Point};
use super::params::RippleFieldSpec;
use super::rng::{hash_unit, perlin};

/// Albedo of ripple troughs.
const SAND_ALBEDO: f64 = 0.35;
/// Extra albedo at ripple crests.
const CREST_BRIGHTENING: f64 = 0.09;

/// Feather weight: 0 outside the outline, rising to 1 over `feather_m` inside it. The fade-in
/// edge wanders (noise of `seed`) so fields do not look cut out, but never leaves the outline.
#[must_use]
#[cfg(test)]
pub fn weight(spec: &RippleFieldSpec, p: Point, seed: u64) -> f64 {
    weight_at_depth(spec, p, super::geometry::signed_depth(&spec.polygon, p), seed)
}

/// Depth inside the outline beyond which the weight is 1 whatever the edge noise (2-D gradient
/// noise stays within +-0.71, so the edge recedes at most 0.6 * 1.41 feather widths).
fn full_weight_depth(spec: &RippleFieldSpec) -> f64 {
    1.85 * spec.feather_m
}

fn weight_at_depth(spec: &RippleFieldSpec, p: Point, depth: f64, seed: u64) -> f64 {
    if depth <= 0.0 {
        return 0.0;
    }
    let f = spec.feather_m;
    if f <= 0.0 {
        return 1.0;
    }
    let wander = 0.6 * f * (perlin(seed ^ 0xed6e, p[0] / (2.0 * f), p[1] / (2.0 * f)) + 0.7);
    smoothstep(0.0, f, depth - wander)
}

/// The bedform class a wavelength belongs to (ROVER.md 3c): large wind ripples up to ~3 m,
/// megaripples to ~15 m, TARs beyond.
#[must_use]
pub fn bedform(wavelength_m: f64) -> &'static str {
    if wavelength_m <= 3.0 {
        "large_ripple"
    } else if wavelength_m < 15.0 {
        "megaripple"
    } else {
        "tar"
    }
}

/// Pixels per side of the blocks classified together (wholly outside, wholly inside, or on the
/// feathered edge, where only nearby outline edges are measured).
pub(super) const BLOCK: usize = 16;

/// Paints the field: ripples into `z`, sand albedo, and the sand-cover weight.
pub fn paint(canvas: &mut Canvas, spec: &RippleFieldSpec, seed: u64) {
    let (xmin, ymin, xmax, ymax) = bounds(&spec.polygon);
    let Some(win) = canvas.window(xmin, ymin, xmax, ymax) else {
        return;
    };
    let (sa, ca) = spec.wind_azimuth_deg.to_radians().sin_cos();
    let lambda = spec.wavelength_m;
    let phase0 = hash_unit(seed, 1, 0) * std::f64::consts::TAU;
    let psi = hash_unit(seed, 2, 0) * std::f64::consts::TAU;
    let meander_len = lambda * (4.0 + 3.0 * hash_unit(seed, 3, 0));
    let (n, cell, extent, row0) = (canvas.n, canvas.cell, canvas.extent, canvas.row0);
    // Blocks are whole-site blocks (a band starts on a block boundary), so the per-block
    // shortcuts below decide the same way whatever band a pixel is painted in.
    debug_assert_eq!(row0 % BLOCK, 0, "bands start on a {BLOCK}-row block boundary");
    let radius = BLOCK as f64 * cell * std::f64::consts::FRAC_1_SQRT_2;
    let full = full_weight_depth(spec);
    let poly = &spec.polygon;
    let band = BLOCK * n;
    let Canvas { z, albedo, sand, .. } = canvas;
    z.par_chunks_mut(band)
        .zip(albedo.par_chunks_mut(band))
        .zip(sand.par_chunks_mut(band))
        .enumerate()
        .for_each(|(b, ((zb, ab), sb))| {
            let rows = zb.len() / n;
            let (r0, r1) = (b * BLOCK, b * BLOCK + rows);
            if r1 <= win.r0 || r0 >= win.r1 {
                return;
            }
            for c0 in (win.c0 - win.c0 % BLOCK..win.c1).step_by(BLOCK) {
                let c1 = (c0 + BLOCK).min(n);
                let centre = [
                    (c0 + c1) as f64 / 2.0 * cell,
                    extent - ((row0 + r0) as f64 + rows as f64 / 2.0) * cell,
                ];
                let (d_centre, edges) = boundary_candidates(poly, centre, radius);
                // A block the outline does not cross lies wholly on the centre's side.
                let uniform = d_centre > radius;
                let centre_inside = contains(poly, centre);
                if uniform && !centre_inside {
                    continue;
                }
                let solid = uniform && d_centre - radius >= full;
                for r in 0..rows {
                    for col in c0..c1 {
                        let p = [
                            (col as f64 + 0.5) * cell,
                            extent - ((row0 + r0 + r) as f64 + 0.5) * cell,
                        ];
                        let wt = if solid {
                            1.0
                        } else {
                            let inside = if uniform { centre_inside } else { contains(poly, p) };
                            let depth = signed_depth_among(poly, p, &edges, inside);
                            weight_at_depth(spec, p, depth, seed)
                        };
                        if wt <= 0.0 {
                            continue;
                        }
                        let [x, y] = p;
                        let u = x * sa + y * ca;
                        let v = x * ca - y * sa;
                        // Meandering crests: shift u by a slow function of the position along
                        // the crest.
                        let meander = 0.05
                            * lambda
                            * (std::f64::consts::TAU * v / meander_len + psi).sin()
                            + 0.45 * lambda * perlin(seed, x / (4.0 * lambda), y / (4.0 * lambda));
                        let phase = std::f64::consts::TAU * (u + meander) / lambda + phase0;
                        let s = phase.sin();
                        let i = r * n + col;
                        zb[i] += (wt * spec.height_m / 2.0 * s) as f32;
                        let crest = f64::midpoint(1.0, s).powi(4);
                        let sand_albedo = SAND_ALBEDO + CREST_BRIGHTENING * crest;
                        let a = f64::from(ab[i]);
                        ab[i] = (a + (sand_albedo - a) * wt) as f32;
                        sb[i] = sb[i].max(wt as f32);
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::geometry::ellipse_polygon;

    #[test]
    fn ripples_have_the_requested_height_and_spacing() {
        let spec = RippleFieldSpec {
            polygon: ellipse_polygon(50.0, 50.0, 45.0, 45.0, 0.0, 64),
            wavelength_m: 8.0,
            height_m: 0.4,
            wind_azimuth_deg: 90.0,
            feather_m: 3.0,
        };
        let mut c = Canvas::new(200, 0.5, 0.5);
        paint(&mut c, &spec, 3);
        // Centre row: heights span about H.
        let row = 100;
        let line: Vec<f32> = (60..140).map(|col| c.z[c.idx(col, row)]).collect();
        let max = line.iter().copied().fold(f32::MIN, f32::max);
        let min = line.iter().copied().fold(f32::MAX, f32::min);
        assert!(((max - min) - 0.4).abs() < 0.03, "{}", max - min);
        // Count up-crossings along the wind over 40 m: about 5 wavelengths.
        let ups = line.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((4..=6).contains(&ups), "{ups}");
        // Outside the outline nothing changes.
        assert_eq!(c.z[c.idx(2, 2)], 0.0);
        assert!(c.sand[c.idx(100, 100)] > 0.99);
        assert_eq!(bedform(6.0), "megaripple");
        // The blockwise painter agrees with the point-wise weight everywhere.
        for row in (0..200).step_by(7) {
            for col in (0..200).step_by(5) {
                let w = weight(&spec, c.centre(col, row), 3) as f32;
                assert_eq!(c.sand[c.idx(col, row)], w, "{col} {row}");
            }
        }
        assert_eq!(bedform(25.0), "tar");
    }
}
