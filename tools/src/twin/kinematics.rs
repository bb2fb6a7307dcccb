//! The kinematic rover: a 6-wheel rocker-bogie with a differential, placed on the DEM in
//! closed form.
//!
//! # Model
//! Each wheel is a cylinder lowered onto the DEM's bilinear surface over its contact patch (a
//! rectangle `2 r` long along the heading and `wheel_width` wide, centred under the wheel's
//! nominal horizontal position): it rests on the highest ground under it, weighted by the
//! wheel's curvature ([`Ground::wheel_centre`]). An earlier version put the centre `r` above
//! the highest point of the patch, which on a slope lifts it by up to `r tan(slope)` more than
//! a real wheel and, since the four front/rear wheels face downhill or uphill differently,
//! read as articulation. The DEM's own error is bounded in [`super::bounds`].
//!
//! Each side is a planar linkage in the body's x-z plane. The bogie is rigid from the middle
//! to the rear wheel: its angle is `asin((z_M - z_R) / |MR|)`, and that places the bogie pivot.
//! The rocker is rigid from the front wheel to the bogie pivot: `asin((z_F - z_B) / |FB|)`
//! minus its nominal angle, which places the rocker pivot. The differential makes the body
//! pitch the mean of the two rockers' angles and each rocker's angle relative to the body
//! (the differential angle) equal and opposite; the body rolls by the height difference of
//! the two rocker pivots. Belly clearance is, over 30 tiles of the belly pan, the least of the
//! belly plane's lowest corner over a tile minus the highest ground under that tile.
//!
//! The middle wheels stand further out than the front and rear (y 1.1845 vs 1.0625 m), so on a
//! cross slope they sit higher or lower than the side's plane; their heights are moved to the
//! front/rear wheels' plane by the cross slope those wheels measure, which makes a plane give
//! no articulation at all.

use super::bounds::{self, Bounds};
use crate::terrain::rover::Kinematics;
use crate::terrain::Grid;

/// The DEM as the twin reads it: an in-memory window.
#[derive(Debug, Clone, Copy)]
pub struct Ground<'a> {
    /// The elevations.
    pub grid: &'a Grid,
}

impl Ground<'_> {
    /// Highest ground under the rectangle centred at `(x, y)`, `half_l` along the unit vector
    /// `(fx, fy)` and `half_w` across it: the DEM's bilinear surface sampled on a lattice at
    /// most 0.1 m apart over the rectangle, edges and corners included. `None` if any sample
    /// touches a no-data cell or leaves the grid (unknown ground is never assumed safe).
    ///
    /// Why not the highest cell touching the patch: on a 1 m DEM a 0.5 m patch touches cells
    /// whose centres lie up to 0.95 m away, so on a 20 degree slope each wheel is raised by
    /// anything from 0 to 0.35 m depending on where the cell lattice falls, and neighbouring
    /// wheels disagree; that read as false bogie angles of over 30 degrees on real drives. The
    /// surface itself is the DEM's estimate; its vertical error is bounded separately.
    #[must_use]
    pub fn max_in_rect(
        &self,
        c: (f64, f64),
        f: (f64, f64),
        half_l: f64,
        half_w: f64,
    ) -> Option<f64> {
        const STEP_M: f64 = 0.1;
        let (nl, nw) = (lattice(half_l, STEP_M), lattice(half_w, STEP_M));
        let mut best = f64::NEG_INFINITY;
        for i in 0..=nl {
            let along = -half_l + 2.0 * half_l * f64::from(i) / f64::from(nl);
            for j in 0..=nw {
                let across = -half_w + 2.0 * half_w * f64::from(j) / f64::from(nw);
                let x = c.0 + along * f.0 - across * f.1;
                let y = c.1 + along * f.1 + across * f.0;
                best = best.max(self.grid.bilinear(x, y)?);
            }
        }
        best.is_finite().then_some(best)
    }

    /// Height of the centre of a wheel of radius `r` and half-width `half_w` at `(x, y)` facing
    /// the unit vector `(fx, fy)`, lowered onto the DEM's bilinear surface: the wheel is a
    /// cylinder, so over each point of the ground under it (sampled at most 0.1 m apart, a
    /// patch `2 r` long) its centre must stand `sqrt(r^2 - d^2)` higher, `d` the point's
    /// distance along the heading; the centre rests at the largest of these. On a plane of
    /// slope `t` that is `r / cos t` above the ground under the centre, as it should be. `None`
    /// over unknown ground.
    #[must_use]
    pub fn wheel_centre(&self, c: (f64, f64), f: (f64, f64), r: f64, half_w: f64) -> Option<f64> {
        const STEP_M: f64 = 0.1;
        let (nl, nw) = (lattice(r, STEP_M), lattice(half_w, STEP_M));
        let mut best = f64::NEG_INFINITY;
        for i in 0..=nl {
            let along = -r + 2.0 * r * f64::from(i) / f64::from(nl);
            let lift = (r * r - along * along).max(0.0).sqrt();
            for j in 0..=nw {
                let across = -half_w + 2.0 * half_w * f64::from(j) / f64::from(nw);
                let x = c.0 + along * f.0 - across * f.1;
                let y = c.1 + along * f.1 + across * f.0;
                best = best.max(self.grid.bilinear(x, y)? + lift);
            }
        }
        best.is_finite().then_some(best)
    }
}

/// Intervals of a lattice over `[-half, half]` with points at most `step` apart (at least one).
fn lattice(half: f64, step: f64) -> u32 {
    let n = (2.0 * half / step).ceil();
    if n.is_finite() && n >= 1.0 {
        // Bounded: patch and belly sizes are metres, so this is a few dozen at most.
        n.min(1000.0) as u32
    } else {
        1
    }
}

/// The rover's state at one pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseState {
    /// Chassis pitch, degrees, nose up positive.
    pub pitch_deg: f64,
    /// Chassis roll, degrees, left side up positive.
    pub roll_deg: f64,
    /// Tilt of the body's up axis from vertical, degrees.
    pub tilt_deg: f64,
    /// Height of the rocker pivots' midpoint, metres (map elevation).
    pub height_m: f64,
    /// Left and right rocker angle relative to the body, degrees.
    pub rocker_deg: [f64; 2],
    /// Left and right bogie angle relative to its rocker, degrees.
    pub bogie_deg: [f64; 2],
    /// The differential angle (left rocker relative to the body), degrees.
    pub differential_deg: f64,
    /// Wheel centre heights: front, middle, rear left, then front, middle, rear right.
    pub wheel_z_m: [f64; 6],
    /// Smallest belly-pan clearance to the ground under it, metres.
    pub clearance_m: f64,
    /// Conservative bounds on the same quantities, for what the DEM cannot see.
    pub bounds: Bounds,
}

/// Rotated height offset of body vector `(vx, vz)` by angle `a` (radians) in the x-z plane.
fn rot_z(a: f64, v: (f64, f64)) -> f64 {
    v.0 * a.sin() + v.1 * a.cos()
}

/// `asin` clamped to its domain, so a linkage asked to span more than its length stretches to
/// its limit rather than returning NaN.
fn asin_c(v: f64) -> f64 {
    v.clamp(-1.0, 1.0).asin()
}

/// One side: returns (rocker absolute angle, bogie relative angle, rocker pivot height).
pub(crate) fn side(k: &Kinematics, zf: f64, zm: f64, zr: f64) -> (f64, f64, f64) {
    let (f, m, r, b, p) =
        (k.front_wheel, k.middle_wheel, k.rear_wheel, k.bogie_pivot, k.rocker_pivot);
    let l_mr = (m[0] - r[0]).hypot(m[2] - r[2]);
    let phi_b = (m[2] - r[2]).atan2(m[0] - r[0]);
    let gb = asin_c((zm - zr) / l_mr) - phi_b;
    let zb = zr + rot_z(gb, (b[0] - r[0], b[2] - r[2]));
    let l_fb = (f[0] - b[0]).hypot(f[2] - b[2]);
    let phi_r = (f[2] - b[2]).atan2(f[0] - b[0]);
    let gr = asin_c((zf - zb) / l_fb) - phi_r;
    let zp = zb + rot_z(gr, (p[0] - b[0], p[2] - b[2]));
    (gr, gb - gr, zp)
}

/// Passes of the pitch-and-roll iteration always made.
const PLAIN_PASSES: usize = 4;
/// Most passes on ground where the plain passes have not settled.
const MAX_PASSES: usize = 60;
/// Largest change of pitch or roll in a pass (radians, 0.06 deg) for the pose to be settled.
const SETTLED_RAD: f64 = 1e-3;

/// Places the rover at `(x, y)` facing `heading_deg` on `ground`; `None` when any wheel or
/// the belly pan touches unknown ground.
#[must_use]
pub fn solve(
    k: &Kinematics,
    ground: &Ground<'_>,
    x: f64,
    y: f64,
    heading_deg: f64,
) -> Option<PoseState> {
    let h = heading_deg.to_radians();
    let fwd = (h.sin(), h.cos());
    let left = (-h.cos(), h.sin());
    let at = |bx: f64, by: f64| (x + bx * fwd.0 + by * left.0, y + bx * fwd.1 + by * left.1);
    // The sides' planes are at the front/rear wheels' |y|; the middle wheels stand `dm`
    // further out, so a pitched and rolled body carries them `dm * sin(roll) * cos(pitch)`
    // higher (left) or lower (the height of body vector (0, dm, 0) under the rotation; an
    // earlier `dm * tan(roll)` read as 0.09 deg of bogie on a 15.6 deg plane and up to 0.5 deg
    // on real drives): take that out using the previous pass's pitch and roll.
    let y_side = k.front_wheel[1];
    let dm = k.middle_wheel[1] - y_side;
    let mut roll = 0.0_f64;
    let mut out = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut z = [0.0; 6];
    // ACE-style: each wheel centre is known to within the DEM's vertical uncertainty.
    let u = k.dem_vertical_uncertainty_m.max(0.0);
    let (mut zlo, mut zhi) = ([0.0; 6], [0.0; 6]);
    let mut pitch_prev = 0.0_f64;
    let mut c = 0.0;
    // Plain passes settle ordinary ground (0.003 deg left on a 15.6 deg plane). Where pass 4
    // still moves pitch or roll by over SETTLED_RAD, the passes go on, halving the step each
    // time it reverses: a drop across the rover made the plain passes flip between a 90 deg
    // roll (wheels where the flat body stands) and a level one (wheels pulled under the
    // centre), so the 4th pass reported a 3 deg tilt on a 44 deg consistent pose.
    let (mut relax, mut last) = (1.0_f64, (0.0, 0.0));
    for pass in 1..=MAX_PASSES {
        // Wheels stand where the tilted body puts them (previous pass's pitch p and roll r,
        // nose-up pitch then left-up roll): body (bx, by) lies at bx cos p - by sin p sin r
        // ahead and by cos r to the left (exact on a plane at convergence). Without the
        // `by sin p sin r` term a pitched and rolled body overstated its roll by ~2%.
        let (cp, cr) = (pitch_prev.cos(), roll.cos());
        let spr = pitch_prev.sin() * roll.sin();
        for (s, sign) in [(0usize, 1.0), (1, -1.0)] {
            for (i, w) in [k.front_wheel, k.middle_wheel, k.rear_wheel].iter().enumerate() {
                let c = at(w[0] * cp - sign * w[1] * spr, sign * w[1] * cr);
                let r = k.wheel_radius_m;
                let zc = ground.wheel_centre(c, fwd, r, 0.5 * k.wheel_width_m)? + (w[2] - r);
                z[s * 3 + i] = zc;
                zlo[s * 3 + i] = zc - u;
                zhi[s * 3 + i] = zc + u;
            }
        }
        c = dm * roll.sin() * cp;
        let (gl, bl, pl) = side(k, z[0], z[1] - c, z[2]);
        let (gr, br, pr) = side(k, z[3], z[4] + c, z[5]);
        let pitch = 0.5 * (gl + gr);
        let roll_new = asin_c((pl - pr) / (2.0 * y_side * pitch.cos()));
        out = (pitch, 0.5 * (gl - gr), bl, br, pl, pr, roll_new);
        let step = (pitch - pitch_prev, roll_new - roll);
        if pass >= PLAIN_PASSES {
            if step.0.abs().max(step.1.abs()) < SETTLED_RAD {
                break;
            }
            if step.0 * last.0 + step.1 * last.1 < 0.0 {
                relax = (0.5 * relax).max(1.0 / 64.0);
            }
        }
        last = step;
        pitch_prev += relax * step.0;
        roll += relax * step.1;
    }
    let (pitch, diff, bl, br, pl, pr, roll) = out;
    let tilt = (pitch.cos() * roll.cos()).clamp(-1.0, 1.0).acos();
    let zo = 0.5 * (pl + pr);
    // Clearance tile by tile: the belly pan cut into 0.3 m x 0.32 m tiles (6 x 5), each the
    // belly plane's lowest corner over the tile minus the highest ground under it.
    let mut tiles = [BellyTile::default(); BELLY_TILES];
    let mut clearance = f64::INFINITY;
    for (n, tile) in tiles.iter_mut().enumerate() {
        let (cx, cy, hx, hy) = belly_tile(k, n);
        let g = ground.max_in_rect(at(cx, cy), fwd, hx, hy)?;
        *tile = BellyTile { cx, cy, hx, hy, ground_m: g };
        clearance = clearance.min(belly_low(k, zo, pitch, roll, tile) - g);
    }
    let bounds = bounds::of(k, &zlo, &zhi, c, &tiles);
    Some(PoseState {
        pitch_deg: pitch.to_degrees(),
        roll_deg: roll.to_degrees(),
        tilt_deg: tilt.to_degrees(),
        height_m: zo,
        rocker_deg: [diff.to_degrees(), -diff.to_degrees()],
        bogie_deg: [bl.to_degrees(), br.to_degrees()],
        differential_deg: diff.to_degrees(),
        wheel_z_m: z,
        clearance_m: clearance,
        bounds,
    })
}

/// Tiles of the belly pan: 6 along x by 5 across.
pub(crate) const BELLY_TILES: usize = 30;

/// One tile of the belly pan and the highest ground under it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BellyTile {
    /// Centre in body x and y, metres.
    pub cx: f64,
    pub cy: f64,
    /// Half-extents in body x and y, metres.
    pub hx: f64,
    pub hy: f64,
    /// Highest ground under the tile, metres.
    pub ground_m: f64,
}

/// Centre and half-extents (body frame) of belly tile `n`.
fn belly_tile(k: &Kinematics, n: usize) -> (f64, f64, f64, f64) {
    let (nx, ny) = (6usize, 5usize);
    let [bx0, bx1] = k.belly_x_m;
    let hw = k.belly_half_width_m;
    let (tx, ty) = ((bx1 - bx0) / nx as f64, 2.0 * hw / ny as f64);
    let (i, j) = (n / ny, n % ny);
    (bx0 + (i as f64 + 0.5) * tx, -hw + (j as f64 + 0.5) * ty, 0.5 * tx, 0.5 * ty)
}

/// Lowest corner of the belly plane over `tile` for a body at rocker-pivot height `zo`,
/// pitched and rolled by `pitch`, `roll` (radians).
pub(crate) fn belly_low(k: &Kinematics, zo: f64, pitch: f64, roll: f64, tile: &BellyTile) -> f64 {
    let drop = k.rocker_pivot[2] - k.belly_height_m;
    let mut lowest = f64::INFINITY;
    for bx in [tile.cx - tile.hx, tile.cx + tile.hx] {
        for by in [tile.cy - tile.hy, tile.cy + tile.hy] {
            let zb = zo + (bx - k.rocker_pivot[0]) * pitch.sin() + by * pitch.cos() * roll.sin()
                - drop * pitch.cos() * roll.cos();
            lowest = lowest.min(zb);
        }
    }
    lowest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    fn kin() -> Kinematics {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/rovers/perseverance.toml");
        crate::terrain::RoverProfile::load(&p).unwrap().kinematics.unwrap()
    }

    fn t() -> GeoTransform {
        GeoTransform { x0: 0.0, y0: 40.0, dx: 0.1, dy: -0.1 }
    }

    #[test]
    fn a_tilted_plane_tilts_the_chassis_by_the_planes_slope() {
        let k = kin();
        // 11.3 degrees, rising to the north-east, on a 1 m grid like the real DEMs: the bilinear
        // surface is exact on a plane, so nothing here is quantised by the cells.
        let slope: f64 = 0.2;
        let coarse = GeoTransform { x0: 0.0, y0: 40.0, dx: 1.0, dy: -1.0 };
        let g = Grid::from_fn(40, 40, coarse, |x, y| (slope * (x + y) / 2f64.sqrt()) as f32);
        let plane = slope.atan().to_degrees();
        for heading in [0.0, 45.0, 90.0, 150.0, 225.0, 300.0] {
            let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, heading).unwrap();
            assert!((s.tilt_deg - plane).abs() < 0.01, "heading {heading}: {s:?} vs {plane}");
        }
    }

    #[test]
    fn a_plane_gives_no_articulation_and_the_planes_own_pitch_and_roll() {
        let k = kin();
        // z = 0.25 (x - 20) - 0.125 (y - 20) on 1 m posts at half-integer centres: every post is
        // a multiple of 1/8, exact in f32, and bilinear is exact on a plane, so the only error
        // left is the solver's.
        let coarse = GeoTransform { x0: 0.0, y0: 40.0, dx: 1.0, dy: -1.0 };
        let (ax, ay) = (0.25, -0.125);
        let g = Grid::from_fn(40, 40, coarse, |x, y| (ax * (x - 20.0) + ay * (y - 20.0)) as f32);
        for heading in [0.0_f64, 30.0, 75.0, 140.0, 200.0, 290.0] {
            let h = heading.to_radians();
            // Slopes along the heading and to the left; the body's z axis is the plane's normal:
            // rot(p, r) z = (-cos r sin p, -sin r, cos r cos p) gives tan p = gf and
            // sin r = gl cos r cos p, i.e. tan r = gl cos p.
            let (gf, gl) = (ax * h.sin() + ay * h.cos(), -ax * h.cos() + ay * h.sin());
            let pitch = gf.atan();
            let roll = (gl * pitch.cos()).atan();
            let tilt = (1.0 / (1.0 + ax * ax + ay * ay).sqrt()).acos();
            let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, heading).unwrap();
            // The solver's 4 passes leave up to 0.003 deg here (6 passes: 4e-5, 8: 6e-7): the
            // wheels' horizontal positions come from the previous pass's pitch and roll. The
            // middle wheels' old `dm tan(roll)` correction left 0.086 deg of bogie.
            let tol = 0.005;
            assert!(s.differential_deg.abs() < tol, "heading {heading}: {s:?}");
            assert!(s.bogie_deg.iter().all(|b| b.abs() < tol), "heading {heading}: {s:?}");
            assert!((s.pitch_deg - pitch.to_degrees()).abs() < tol, "heading {heading}: {s:?}");
            assert!((s.roll_deg - roll.to_degrees()).abs() < tol, "heading {heading}: {s:?}");
            assert!((s.tilt_deg - tilt.to_degrees()).abs() < tol, "heading {heading}: {s:?}");
        }
    }

    #[test]
    fn a_block_under_one_rear_wheel_turns_its_bogie_and_the_differential_as_the_linkage_predicts() {
        let k = kin();
        let hgt = 0.2;
        // Rover at (20, 20) facing north: the left rear wheel stands at (18.9375, 18.925). A
        // block 0.8 m square under it (its patch is 0.525 x 0.4 m; the left middle wheel's
        // starts 0.81 m away) lifts that wheel alone; every other wheel stays on flat ground, so
        // every wheel height is exact whatever the body's tilt does to their positions.
        let g = Grid::from_fn(400, 400, t(), |x, y| {
            if (x - 18.9375).abs() < 0.4 && (y - 18.925).abs() < 0.4 {
                hgt as f32
            } else {
                0.0
            }
        });
        let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, 0.0).unwrap();
        // The prediction, link by link (angles nose-up from the body's nominal pose). On each
        // side the bogie turns about the rear wheel until the middle wheel reaches its height,
        // which in the side's plane is its ground height less what the rolled body lifts a
        // point `dm` further out (`+-dm sin(roll) cos(pitch)`, so even the right side, on flat
        // ground, articulates); the rocker turns about the bogie pivot until the front wheel
        // reaches its height. Roll couples the sides: a fixed point, solved here to 1e-15.
        let (f, m, r, b, p) =
            (k.front_wheel, k.middle_wheel, k.rear_wheel, k.bogie_pivot, k.rocker_pivot);
        let dm = m[1] - f[1];
        let turn = |v: (f64, f64), a: f64| v.0 * a.sin() + v.1 * a.cos();
        // (rocker rotation, bogie relative to it, rocker pivot height) of one side.
        let side = |zf: f64, zm: f64, zr: f64| {
            let beta = ((zm - zr) / (m[0] - r[0])).asin(); // M and R at the same body z
            let zb = zr + turn((b[0] - r[0], b[2] - r[2]), beta);
            let (fb, phi) = ((f[0] - b[0]).hypot(f[2] - b[2]), (f[2] - b[2]).atan2(f[0] - b[0]));
            let alpha = ((zf - zb) / fb).asin() - phi;
            (alpha, beta - alpha, zb + turn((p[0] - b[0], p[2] - b[2]), alpha))
        };
        let (mut pitch, mut roll) = (0.0_f64, 0.0_f64);
        let (mut diff, mut bogie) = (0.0, [0.0; 2]);
        for _ in 0..100 {
            let c = dm * roll.sin() * pitch.cos();
            let (al, bl, pl) = side(f[2], m[2] - c, r[2] + hgt);
            let (ar, br, pr) = side(f[2], m[2] + c, r[2]);
            (diff, bogie) = (0.5 * (al - ar), [bl, br]);
            pitch = 0.5 * (al + ar);
            roll = ((pl - pr) / (2.0 * f[1] * pitch.cos())).asin();
        }
        let deg = f64::to_degrees;
        let (want_diff, want_bogie) = (deg(diff), [deg(bogie[0]), deg(bogie[1])]);
        println!(
            "predicted: pitch {} roll {} bogie {want_bogie:?} differential {want_diff}",
            deg(pitch),
            deg(roll)
        );
        println!("twin: {s:?}");
        // Not 1e-6: the twin's middle-wheel correction uses the previous pass's roll, and its
        // passes stop after 4 here (each moves pitch and roll by < 1e-3 rad). Each pass shrinks
        // the roll error by q = 0.04 (the right side's rocker pivot moves by its bogie's share
        // of c = dm sin(roll) cos(pitch)); pass 4's bogie error is then at most
        // dm / |MR| * q^3 * roll = 0.11 * 6.4e-5 * 1.06 deg = 8e-6 deg, and roll's q^4 * 1.06 =
        // 3e-6 deg (measured: 9.5e-6 and 2.1e-6). The wheel heights themselves are exact: the
        // block is 0.2 m in f32, 3e-9 m off, 2e-7 deg of bogie.
        let tol = 2e-5;
        for i in 0..2 {
            assert!((s.bogie_deg[i] - want_bogie[i]).abs() < tol, "{s:?} vs {want_bogie:?}");
        }
        assert!((s.differential_deg - want_diff).abs() < tol, "{s:?} vs {want_diff}");
        assert!((s.pitch_deg - deg(pitch)).abs() < tol, "{s:?}");
        assert!((s.roll_deg - deg(roll)).abs() < tol, "{s:?}");
        // A real articulation, not a near-zero one that any answer would match.
        assert!(
            want_bogie[0] < -5.0 && want_diff < -1.0 && deg(roll) > 1.0,
            "{want_bogie:?} {want_diff}"
        );
    }

    #[test]
    fn flat_ground_gives_zero_angles_and_the_profiles_clearance() {
        let k = kin();
        let g = Grid::filled(400, 400, -10.0, t());
        for heading in [0.0, 37.0, 90.0, 211.0] {
            let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, heading).unwrap();
            for v in [
                s.pitch_deg,
                s.roll_deg,
                s.tilt_deg,
                s.differential_deg,
                s.bogie_deg[0],
                s.bogie_deg[1],
            ] {
                assert!(v.abs() < 1e-9, "{s:?}");
            }
            assert!((s.clearance_m - k.belly_height_m).abs() < 1e-9, "{s:?}");
        }
    }

    #[test]
    fn a_block_under_the_front_wheels_lifts_the_rockers_as_the_geometry_predicts() {
        let k = kin();
        let hgt = 0.25;
        // Rover at (20, 20) facing north: the front wheels are at (20 -+ 1.0625, 21.185). A
        // block under both (symmetric, so no roll) turns both rockers about their bogies.
        let g = Grid::from_fn(400, 400, t(), |x, y| {
            if (x - 20.0).abs() < 1.4 && (y - 21.185).abs() < 0.35 {
                hgt as f32
            } else {
                0.0
            }
        });
        let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, 0.0).unwrap();
        let (f, b) = (k.front_wheel, k.bogie_pivot);
        let l = (f[0] - b[0]).hypot(f[2] - b[2]);
        let rocker =
            (((f[2] + hgt - b[2]) / l).asin() - (f[2] - b[2]).atan2(f[0] - b[0])).to_degrees();
        assert!(s.differential_deg.abs() < 1e-9 && s.roll_deg.abs() < 1e-9, "{s:?}");
        assert!((s.pitch_deg - rocker).abs() < 1e-6, "{s:?} vs {rocker}");
        for bogie in s.bogie_deg {
            assert!((bogie + rocker).abs() < 1e-6, "{s:?}");
        }
        assert!(rocker > 5.0, "{rocker}");
    }
}
