//! Outcrop scarps: an elevation step along a polyline with bright, fractured bedrock on top.
//!
//! Why: the Jezero rim drives crossed bedrock benches and outcrop ledges (ROVER.md 5 \[A1\]: the
//! model marked bedrock and outcrops). A scarp is a smooth step
//! z += H/2 (1 + tanh(s / w)) of height H (1-4 m), s the signed distance from the foot line
//! (positive on the upper side) and `2w = face_width_m`, so the face's steepest slope is
//! atan(H / 2w) (> 30 deg for the presets: a wall no rover climbs, ROVER.md 2 max_tilt). Beyond
//! the polyline's ends the step dies out over `taper_m`. The upper side carries an outcrop band:
//! rough, fractured, brighter bedrock; blocks shed from the face gather as talus at its foot.

use rayon::prelude::*;

use super::canvas::{smoothstep, Canvas};
use super::geometry::{
    beyond_end, buffer_polyline, candidate_segments, line_frame_among, smooth_polyline, Point,
};
use super::params::{ScarpSpec, Side};
use super::rng::{perlin, Fbm};

/// Bedrock albedo (brighter than regolith in HiRISE RED images).
const BEDROCK_ALBEDO: f64 = 0.66;

fn side_sign(s: &ScarpSpec) -> f64 {
    match s.upper_side {
        Side::Left => 1.0,
        Side::Right => -1.0,
    }
}

/// The scarp's foot line as painted: the spec's points smoothed (Chaikin, 3 rounds).
#[must_use]
pub fn foot_line(spec: &ScarpSpec) -> Vec<Point> {
    smooth_polyline(&spec.points, 3)
}

/// Pixels per side of the blocks that share one list of candidate segments.
pub(super) const BLOCK: usize = 16;

/// Paints the step, the outcrop roughness and the bedrock albedo over the whole canvas (the
/// upper side is raised everywhere, not just near the line).
pub fn paint(canvas: &mut Canvas, spec: &ScarpSpec, seed: u64) {
    let line = foot_line(spec);
    let sign = side_sign(spec);
    let w = spec.face_width_m / 2.0;
    let ow = spec.outcrop_width_m;
    let texture = Fbm::new(seed ^ 0x5ca1, 3.0, 2.0 * canvas.cell, 0.7);
    let (n, cell, extent, row0) = (canvas.n, canvas.cell, canvas.extent, canvas.row0);
    // Whole-site blocks, as in `ripples::paint`: the far-field shortcut is decided per block.
    debug_assert_eq!(row0 % BLOCK, 0, "bands start on a {BLOCK}-row block boundary");
    let block_radius = BLOCK as f64 * cell * std::f64::consts::FRAC_1_SQRT_2;
    let band = BLOCK * n;
    // Beyond 12 half-widths tanh is 1 to 1e-10, and no bedrock is painted.
    let far = (12.0 * w).max(ow + 2.0 * w);
    canvas.z.par_chunks_mut(band).zip(canvas.albedo.par_chunks_mut(band)).enumerate().for_each(
        |(b, (zb, ab))| {
            let rows = zb.len() / n;
            for c0 in (0..n).step_by(BLOCK) {
                let c1 = (c0 + BLOCK).min(n);
                let centre = [
                    (c0 + c1) as f64 / 2.0 * cell,
                    extent - (row0 + b * BLOCK) as f64 * cell - rows as f64 / 2.0 * cell,
                ];
                let (dist, segs) = candidate_segments(&line, centre, block_radius);
                // Far from the foot line the step is flat (tanh saturated, no bedrock): only the
                // side (constant over a block the line does not cross) and the end taper vary.
                if dist - block_radius > far {
                    let upper = line_frame_among(&line, centre, &segs).offset * sign > 0.0;
                    if !upper {
                        continue;
                    }
                    for r in 0..rows {
                        let y = extent - ((row0 + b * BLOCK + r) as f64 + 0.5) * cell;
                        for col in c0..c1 {
                            let x = (col as f64 + 0.5) * cell;
                            let taper =
                                1.0 - smoothstep(0.0, spec.taper_m, beyond_end(&line, [x, y]));
                            zb[r * n + col] += (spec.height_m * taper) as f32;
                        }
                    }
                    continue;
                }
                for r in 0..rows {
                    let y = extent - ((row0 + b * BLOCK + r) as f64 + 0.5) * cell;
                    for col in c0..c1 {
                        let x = (col as f64 + 0.5) * cell;
                        let (dz, alb) =
                            scarp_at(spec, &line, &segs, [x, y], sign, w, ow, &texture, seed);
                        if dz != 0.0 {
                            zb[r * n + col] += dz as f32;
                        }
                        if let Some((bedrock, weight)) = alb {
                            let a = f64::from(ab[r * n + col]);
                            ab[r * n + col] = (a + (bedrock - a) * weight) as f32;
                        }
                    }
                }
            }
        },
    );
}

/// Height change and (bedrock albedo, weight) of the scarp at one point.
#[allow(clippy::too_many_arguments)]
fn scarp_at(
    spec: &ScarpSpec,
    line: &[Point],
    segs: &[usize],
    p: Point,
    sign: f64,
    w: f64,
    ow: f64,
    texture: &Fbm,
    seed: u64,
) -> (f64, Option<(f64, f64)>) {
    let [x, y] = p;
    let f = line_frame_among(line, p, segs);
    let s = f.offset * sign;
    let taper = 1.0 - smoothstep(0.0, spec.taper_m, f.beyond_end);
    if taper <= 0.0 {
        return (0.0, None);
    }
    let t = 0.5 * (1.0 + (s / w).tanh());
    let mut dz = spec.height_m * taper * t;
    if s < -2.0 * w || s > ow.max(2.0 * w) {
        return (dz, None);
    }
    // Bedrock weight: the face and the outcrop band above it, whose far edge wanders (never
    // beyond `outcrop_width_m`, so the hazard polygon contains it).
    let rock = if ow > 0.0 {
        let local =
            ow * (0.78 + 0.3 * perlin(seed ^ 0xed9e, x / (1.5 * ow), y / (1.5 * ow))).min(1.0);
        taper * smoothstep(-2.0 * w, 0.0, s) * (1.0 - smoothstep(0.75 * local, local, s))
    } else {
        taper * smoothstep(-2.0 * w, 0.0, s) * (1.0 - smoothstep(w, 2.0 * w, s))
    };
    if rock <= 0.0 {
        return (dz, None);
    }
    // Polygonal fractures where |noise| is small; blocky texture elsewhere.
    let c = perlin(seed ^ 0xc4ac, x / 5.0, y / 5.0).abs();
    let crack = 1.0 - smoothstep(0.0, 0.04, c);
    let tex = texture.at(x, y);
    dz += rock * (0.06 * tex - 0.12 * crack);
    // Layering: bright and dark strata every 0.4 m of height on the face.
    let strata = 0.05
        * (std::f64::consts::TAU * t * spec.height_m / 0.4).sin()
        * smoothstep(-2.0 * w, 0.0, s)
        * (1.0 - smoothstep(0.0, 2.0 * w, s));
    let bedrock = BEDROCK_ALBEDO + 0.05 * tex + strata - 0.25 * crack;
    (dz, Some((bedrock, rock)))
}

/// How far beyond each end of the foot line the step is still at least `min_step_m` high, m
/// (0 if the scarp is lower than that): the step is `H (1 - smoothstep(0, taper, e))` at `e`
/// metres beyond an end, solved here by bisection.
#[must_use]
pub fn step_reach(spec: &ScarpSpec, min_step_m: f64) -> f64 {
    if spec.height_m <= min_step_m || spec.taper_m <= 0.0 {
        return 0.0;
    }
    let step = |e: f64| spec.height_m * (1.0 - smoothstep(0.0, spec.taper_m, e));
    let (mut lo, mut hi) = (0.0, spec.taper_m);
    for _ in 0..50 {
        let mid = f64::midpoint(lo, hi);
        if step(mid) >= min_step_m {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The foot line extended straight beyond both ends (along the end segments' directions, as
/// the taper is measured) by `reach` metres.
#[must_use]
pub fn extended_foot_line(spec: &ScarpSpec, reach: f64) -> Vec<Point> {
    let mut line = foot_line(spec);
    let n = line.len();
    if reach <= 0.0 || n < 2 {
        return line;
    }
    let push = |from: Point, toward: Point| -> Point {
        let (dx, dy) = (from[0] - toward[0], from[1] - toward[1]);
        let len = dx.hypot(dy).max(1e-12);
        [from[0] + dx / len * reach, from[1] + dy / len * reach]
    };
    let head = push(line[0], line[1]);
    let tail = push(line[n - 1], line[n - 2]);
    line.insert(0, head);
    line.push(tail);
    line
}

/// The steep face as listed in the hazards: the foot line, extended over the end tapers as far
/// as the step is at least `min_step_m` high, buffered by 1.5 half-widths plus 0.5 m each side.
#[must_use]
pub fn listed_face_polygon(spec: &ScarpSpec, min_step_m: f64) -> Vec<Point> {
    let b = 0.75 * spec.face_width_m + 0.5;
    buffer_polyline(&extended_foot_line(spec, step_reach(spec, min_step_m)), b, b)
}

/// The outcrop band on the upper side, `outcrop_width_m` wide, along the same extended foot
/// line as [`listed_face_polygon`] (the bedrock fades with the step over the tapers); empty if
/// `outcrop_width_m` is 0.
#[must_use]
pub fn listed_outcrop_polygon(spec: &ScarpSpec, min_step_m: f64) -> Vec<Point> {
    if spec.outcrop_width_m <= 0.0 {
        return Vec::new();
    }
    let line = extended_foot_line(spec, step_reach(spec, min_step_m));
    match spec.upper_side {
        Side::Left => buffer_polyline(&line, spec.outcrop_width_m, 0.0),
        Side::Right => buffer_polyline(&line, 0.0, spec.outcrop_width_m),
    }
}

/// Width of the talus apron below the face, m.
#[must_use]
pub fn talus_width(spec: &ScarpSpec) -> f64 {
    (2.0 * spec.height_m).max(4.0) + spec.face_width_m / 2.0
}

/// The talus apron on the lower side, from just below the face to [`talus_width`].
#[must_use]
pub fn talus_polygon(spec: &ScarpSpec) -> Vec<Point> {
    let near = 0.15 * spec.face_width_m;
    let far = talus_width(spec);
    match spec.upper_side {
        Side::Left => buffer_polyline(&foot_line(spec), -near, far),
        Side::Right => buffer_polyline(&foot_line(spec), far, -near),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::geometry::contains;

    fn spec() -> ScarpSpec {
        ScarpSpec {
            points: vec![[0.0, 25.0], [50.0, 25.0]],
            height_m: 3.0,
            face_width_m: 2.0,
            upper_side: Side::Left,
            outcrop_width_m: 6.0,
            taper_m: 10.0,
            talus_k: 0.2,
        }
    }

    #[test]
    fn step_height_and_steep_face() {
        let s = spec();
        let mut c = Canvas::new(100, 0.5, 0.5);
        paint(&mut c, &s, 1);
        // Upper side (left of an eastward line = north) is raised by H far from the face.
        let north = c.z[c.idx(50, 10)]; // y = 44.75
        let south = c.z[c.idx(50, 90)]; // y = 4.75
        assert!((f64::from(north - south) - 3.0).abs() < 0.3, "{north} {south}");
        // Steepest slope across the face exceeds 30 degrees.
        let max = (40..60)
            .map(|row| f64::from(c.z[c.idx(30, row)] - c.z[c.idx(30, row + 1)]).abs() / 0.5)
            .fold(0.0, f64::max);
        assert!(max.atan().to_degrees() > 30.0, "{max}");
        // Listed with no reach beyond the ends (no step counts as high).
        assert!(contains(&listed_outcrop_polygon(&s, f64::INFINITY), [25.0, 28.0]));
        assert!(contains(&talus_polygon(&s), [25.0, 22.0]));
        assert!(contains(&listed_face_polygon(&s, f64::INFINITY), [25.0, 25.5]));
    }

    #[test]
    fn listed_face_reaches_over_the_taper_while_the_step_is_high() {
        let s = spec();
        let reach = step_reach(&s, 0.35);
        // 3 m dying out over 10 m: still 0.35 m high most of the way.
        assert!((6.0..10.0).contains(&reach), "{reach}");
        let h = s.height_m * (1.0 - smoothstep(0.0, s.taper_m, reach));
        assert!((h - 0.35).abs() < 1e-6, "{h}");
        // The painted step 1 m before the reach is steeper than 0.35 m and inside the listing.
        let mut c = Canvas::new(160, 0.5, 0.5);
        let mut far = s.clone();
        far.points = vec![[10.0, 40.0], [50.0, 40.0]];
        paint(&mut c, &far, 1);
        let x = 50.0 + reach - 1.0;
        let col = (x / 0.5) as usize;
        let up = c.z[c.idx(col, 2 * (80 - 44))];
        let down = c.z[c.idx(col, 2 * (80 - 36))];
        assert!(f64::from(up - down) > 0.35, "{up} {down}");
        assert!(contains(&listed_face_polygon(&far, 0.35), [x, 40.0]));
        assert!(!contains(&listed_face_polygon(&far, f64::INFINITY), [x, 40.0]));
        assert!(!contains(&listed_face_polygon(&far, 0.35), [50.0 + reach + 1.0, 40.0]));
        assert!(contains(&listed_outcrop_polygon(&far, 0.35), [x, 43.0]));
        // A scarp lower than the step limit reaches no further than its foot line.
        let mut low = s;
        low.height_m = 0.3;
        assert_eq!(step_reach(&low, 0.35), 0.0);
    }
}
