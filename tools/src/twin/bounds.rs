//! Conservative bounds on a pose, in the manner of JPL's ACE (Otsu et al., JFR 2020): what the
//! DEM cannot see is bounded rather than guessed.
//!
//! ACE bounds each wheel by the lowest and highest ground in a box around it because it does
//! not know where on the box the wheel touches; the twin places each wheel as a cylinder on
//! the surface ([`super::Ground::wheel_centre`]), so what it does not know is the DEM's own
//! error, and each wheel centre is an interval `[z - u, z + u]` for the stated vertical
//! uncertainty `u`. (Taking ACE's box instead gives bounds on clearance below zero on every
//! real Marias Pass drive with a 14 deg pitch: a bound that refuses real drives.) The linkage
//! is monotonic in each wheel's height, so each side's extreme rocker and bogie angles and pivot
//! heights occur at corners of the box of wheel heights: all 8 corners per side are solved, and
//! the sides combine (they are independent but for the differential) into bounds on pitch,
//! roll, tilt, the differential and the body's height. Clearance takes the lowest body the
//! bounds allow at the worst pitch and roll against the highest ground under each belly tile
//! plus `u`. Bounds are never tighter than the nominal values they bracket.

use super::kinematics::{belly_low, Attitude, BellyTile, Linkage};
use crate::terrain::rover::Kinematics;

/// Bounds on one pose. Angles in degrees, heights in metres; `[low, high]` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    /// Chassis pitch.
    pub pitch_deg: [f64; 2],
    /// Chassis roll.
    pub roll_deg: [f64; 2],
    /// Upper bound on chassis tilt.
    pub tilt_max_deg: f64,
    /// Differential angle (left rocker relative to the body).
    pub differential_deg: [f64; 2],
    /// Left and right bogie angle relative to its rocker.
    pub bogie_deg: [[f64; 2]; 2],
    /// Each wheel centre's height (order of [`super::PoseState::wheel_z_m`]).
    pub wheel_z_m: [[f64; 2]; 6],
    /// Lower bound on belly clearance.
    pub clearance_min_m: f64,
}

/// Bounds from each wheel centre's height interval (`lo`, `hi`, front-middle-rear left then
/// right), the middle wheels' cross-slope correction `c` of the nominal solve, and the belly
/// tiles with the highest ground under each.
pub(crate) fn of(
    k: &Kinematics,
    link: &Linkage,
    lo: &[f64; 6],
    hi: &[f64; 6],
    c: f64,
    tiles: &[BellyTile],
) -> Bounds {
    let u = k.dem_vertical_uncertainty_m.max(0.0);
    let [gl, bl, pl] = link.side_box(&lo[..3], &hi[..3], c);
    let [gr, br, pr] = link.side_box(&lo[3..], &hi[3..], -c);
    let pitch = [0.5 * (gl[0] + gr[0]), 0.5 * (gl[1] + gr[1])];
    let diff = [0.5 * (gl[0] - gr[1]), 0.5 * (gl[1] - gr[0])];
    // Roll from the pivots' height difference over the pivots' span, which shrinks with pitch:
    // the largest |pitch| gives the largest |roll|.
    let p_abs = pitch[0].abs().max(pitch[1].abs());
    let span = 2.0 * k.front_wheel[1] * p_abs.cos().max(1e-9);
    let roll_of = |dz: f64| (dz / span).clamp(-1.0, 1.0).asin();
    let roll = [roll_of(pl[0] - pr[1]), roll_of(pl[1] - pr[0])];
    let r_abs = roll[0].abs().max(roll[1].abs());
    let tilt = (p_abs.cos() * r_abs.cos()).clamp(-1.0, 1.0).acos();
    let zo_lo = 0.5 * (pl[0] + pr[0]);
    let attitudes = [
        Attitude::new(pitch[0], roll[0]),
        Attitude::new(pitch[0], roll[1]),
        Attitude::new(pitch[1], roll[0]),
        Attitude::new(pitch[1], roll[1]),
    ];
    let mut clearance = f64::INFINITY;
    for tile in tiles {
        let mut body = f64::INFINITY;
        for a in &attitudes {
            body = body.min(belly_low(k, zo_lo, a, tile));
        }
        clearance = clearance.min(body - tile.ground_m - u);
    }
    let deg = |v: [f64; 2]| [v[0].to_degrees(), v[1].to_degrees()];
    let mut wheel_z_m = [[0.0; 2]; 6];
    for (w, (l, h)) in wheel_z_m.iter_mut().zip(lo.iter().zip(hi)) {
        *w = [*l, *h];
    }
    Bounds {
        pitch_deg: deg(pitch),
        roll_deg: deg(roll),
        tilt_max_deg: tilt.to_degrees(),
        differential_deg: deg(diff),
        bogie_deg: [deg(bl), deg(br)],
        wheel_z_m,
        clearance_min_m: clearance,
    }
}
