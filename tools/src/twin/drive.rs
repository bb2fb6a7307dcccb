//! Driving a sequence: the rover is placed on the DEM at every pose of every command (every
//! <= 0.1 m of driving, every <= 2 degrees of turning in place), with the time each pose is
//! reached at the profile's drive speed and turn rate.

use super::kinematics::{solve, Ground, PoseState};
use super::sequence::{CommandKind, Pose, Sequence};
use crate::terrain::rover::Kinematics;

/// Largest distance between driving poses, metres.
pub const DRIVE_STEP_M: f64 = 0.1;
/// Largest heading change between poses of a turn in place, degrees.
pub const TURN_STEP_DEG: f64 = 2.0;
/// Most poses one sequence is driven for (a 20 km drive); beyond it the drive stops and the
/// verdict says so, so an absurd plan costs bounded time and memory.
pub const MAX_POSES: usize = 200_000;

/// One pose of the drive and the rover's state there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Command index (`None` for the start pose, before any command).
    pub command: Option<usize>,
    /// Plan segment of that command.
    pub segment: Option<usize>,
    /// Where the rover is.
    pub pose: Pose,
    /// Distance driven so far, metres (turns add none).
    pub distance_m: f64,
    /// Time since the start, seconds.
    pub time_s: f64,
    /// The rover's state; `None` where any wheel or the belly pan is over unknown ground.
    pub state: Option<PoseState>,
    /// Signed change of each wheel centre's height since the previous pose, metres (0 at the
    /// start and after unknown ground).
    pub wheel_dz_m: [f64; 6],
    /// Upper bound on any wheel's height change since the previous pose, from the bounds of
    /// both poses, metres (0 where `wheel_dz_m` is 0 for want of a previous pose).
    pub wheel_dz_bound_m: f64,
}

/// A driven sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Telemetry {
    /// Every pose in order.
    pub samples: Vec<Sample>,
    /// Time the whole sequence takes, seconds (from the commands, even if cut short).
    pub duration_s: f64,
    /// Distance the whole sequence drives, metres.
    pub distance_m: f64,
    /// True when the drive stopped at [`MAX_POSES`].
    pub truncated: bool,
}

/// Number of equal steps of at most `step` over `len` (at least 1; bounded by `MAX_POSES`).
fn steps(len: f64, step: f64) -> usize {
    let n = (len.abs() / step).ceil();
    if n.is_finite() && n >= 1.0 {
        // Capped, so a huge length cannot overflow; the caller stops at MAX_POSES anyway.
        n.min(MAX_POSES as f64) as usize
    } else {
        1
    }
}

/// Drives `seq` over `ground` with the rover `k`. Never panics: a pose over unknown ground has
/// no state, and an over-long sequence is cut at [`MAX_POSES`].
#[must_use]
pub fn drive(k: &Kinematics, ground: &Ground<'_>, seq: &Sequence) -> Telemetry {
    let speed = k.drive_speed_m_per_h / 3600.0;
    let rate = k.turn_rate_deg_per_s;
    let mut duration_s = 0.0;
    let mut distance_m = 0.0;
    for c in &seq.commands {
        match c.kind {
            CommandKind::Turn { delta_deg, .. } => duration_s += delta_deg.abs() / rate,
            CommandKind::Drive { distance_m: d } => {
                duration_s += d / speed;
                distance_m += d;
            }
        }
    }
    let mut out = Telemetry { samples: Vec::new(), duration_s, distance_m, truncated: false };
    let push = |out: &mut Telemetry, command, segment, pose: Pose, dist: f64, time: f64| {
        if out.samples.len() >= MAX_POSES {
            out.truncated = true;
            return false;
        }
        let state = solve(k, ground, pose.x, pose.y, pose.heading_deg);
        let prev = out.samples.last().and_then(|s| s.state);
        let (mut dz, mut bound) = ([0.0; 6], 0.0_f64);
        if let (Some(a), Some(b)) = (prev, state) {
            for (i, d) in dz.iter_mut().enumerate() {
                *d = b.wheel_z_m[i] - a.wheel_z_m[i];
                let (pa, pb) = (a.bounds.wheel_z_m[i], b.bounds.wheel_z_m[i]);
                bound = bound.max(pb[1] - pa[0]).max(pa[1] - pb[0]);
            }
        }
        out.samples.push(Sample {
            command,
            segment,
            pose,
            distance_m: dist,
            time_s: time,
            state,
            wheel_dz_m: dz,
            wheel_dz_bound_m: bound,
        });
        true
    };
    let mut pose = seq.start;
    let (mut dist, mut time) = (0.0, 0.0);
    if !push(&mut out, None, None, pose, dist, time) {
        return out;
    }
    for c in &seq.commands {
        let (cmd, seg) = (Some(c.index), Some(c.segment));
        match c.kind {
            CommandKind::Turn { delta_deg, .. } => {
                let n = steps(delta_deg, TURN_STEP_DEG);
                let h0 = pose.heading_deg;
                for i in 1..=n {
                    let f = i as f64 / n as f64;
                    let h = if i == n { c.end.heading_deg } else { h0 + delta_deg * f };
                    let p = Pose { heading_deg: h.rem_euclid(360.0), ..pose };
                    let t = time + delta_deg.abs() * f / rate;
                    if !push(&mut out, cmd, seg, p, dist, t) {
                        return out;
                    }
                }
                time += delta_deg.abs() / rate;
            }
            CommandKind::Drive { distance_m: d } => {
                let n = steps(d, DRIVE_STEP_M);
                let (dx, dy) = (c.end.x - pose.x, c.end.y - pose.y);
                for i in 1..=n {
                    let f = i as f64 / n as f64;
                    let p = Pose { x: pose.x + f * dx, y: pose.y + f * dy, ..pose };
                    if !push(&mut out, cmd, seg, p, dist + f * d, time + f * d / speed) {
                        return out;
                    }
                }
                dist += d;
                time += d / speed;
            }
        }
        pose = c.end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::{GeoTransform, Grid};
    use crate::twin::compile;

    use crate::twin::test_kinematics as kin;

    #[test]
    fn poses_are_at_most_a_tenth_of_a_metre_and_two_degrees_apart_and_time_adds_up() {
        let k = kin();
        let g = Grid::filled(100, 100, 0.0, GeoTransform { x0: 0.0, y0: 100.0, dx: 1.0, dy: -1.0 });
        let seq = compile(&[(20.0, 20.0), (20.0, 30.0), (35.0, 30.0)], Some(0.0), 2.35).unwrap();
        let t = drive(&k, &Ground { grid: &g }, &seq);
        // 10 m (100 poses), a 90 degree turn (45 poses), 15 m (150 poses), and the start.
        assert_eq!(t.samples.len(), 1 + 100 + 45 + 150);
        for w in t.samples.windows(2) {
            let (a, b) = (w[0].pose, w[1].pose);
            assert!((b.x - a.x).hypot(b.y - a.y) <= DRIVE_STEP_M + 1e-9);
            let dh = (b.heading_deg - a.heading_deg + 540.0).rem_euclid(360.0) - 180.0;
            assert!(dh.abs() <= TURN_STEP_DEG + 1e-9, "{a:?} {b:?}");
            assert!(w[1].time_s > w[0].time_s);
        }
        let expected = 25.0 / (k.drive_speed_m_per_h / 3600.0) + 90.0 / k.turn_rate_deg_per_s;
        assert!((t.duration_s - expected).abs() < 1e-9);
        let last = t.samples.last().unwrap();
        assert!((last.time_s - expected).abs() < 1e-6 && (last.distance_m - 25.0).abs() < 1e-9);
        assert!(t.samples.iter().all(|s| s.state.is_some()) && !t.truncated);
    }

    #[test]
    fn a_plan_off_the_dem_has_poses_without_state_and_no_panic() {
        let k = kin();
        let g = Grid::filled(10, 10, 0.0, GeoTransform { x0: 0.0, y0: 10.0, dx: 1.0, dy: -1.0 });
        let seq = compile(&[(5.0, 5.0), (5.0, 50.0)], None, 2.35).unwrap();
        let t = drive(&k, &Ground { grid: &g }, &seq);
        assert!(t.samples[0].state.is_some() && t.samples.last().unwrap().state.is_none());
        assert!(t.samples.iter().filter(|s| s.state.is_none()).all(|s| s.wheel_dz_m == [0.0; 6]));
        let huge = compile(&[(5.0, 5.0), (5.0, 1e12)], None, 2.35).unwrap();
        let t = drive(&k, &Ground { grid: &g }, &huge);
        assert!(t.truncated && t.samples.len() == MAX_POSES);
    }
}
