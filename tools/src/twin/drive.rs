//! Driving a sequence: the rover is placed on the DEM at every pose of every command (every
//! <= 0.1 m of driving, every <= 2 degrees of turning in place), with the time each pose is
//! reached at the profile's drive speed and turn rate. Poses are solved in parallel (rayon);
//! each is independent, so the telemetry is the same for any number of threads.

use rayon::prelude::*;

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
    // First every pose (cheap), then the rover at each pose, in parallel: each pose is solved
    // on its own, so the states, collected in pose order, do not depend on the thread count;
    // then the changes between consecutive poses, in order.
    out.truncated = !poses(seq, speed, rate, &mut out.samples);
    let states: Vec<Option<PoseState>> = out
        .samples
        .par_iter()
        .with_min_len(64)
        .map(|s| solve(k, ground, s.pose.x, s.pose.y, s.pose.heading_deg))
        .collect();
    let mut prev: Option<PoseState> = None;
    for (s, state) in out.samples.iter_mut().zip(states) {
        s.state = state;
        if let (Some(a), Some(b)) = (prev, state) {
            let mut bound = 0.0_f64;
            for (i, d) in s.wheel_dz_m.iter_mut().enumerate() {
                *d = b.wheel_z_m[i] - a.wheel_z_m[i];
                let (pa, pb) = (a.bounds.wheel_z_m[i], b.bounds.wheel_z_m[i]);
                bound = bound.max(pb[1] - pa[0]).max(pa[1] - pb[0]);
            }
            s.wheel_dz_bound_m = bound;
        }
        prev = state;
    }
    out
}

/// Appends every pose of `seq` (without state) to `out`; false when it stopped at
/// [`MAX_POSES`].
fn poses(seq: &Sequence, speed: f64, rate: f64, out: &mut Vec<Sample>) -> bool {
    let push = |out: &mut Vec<Sample>, command, segment, pose: Pose, dist: f64, time: f64| {
        if out.len() >= MAX_POSES {
            return false;
        }
        out.push(Sample {
            command,
            segment,
            pose,
            distance_m: dist,
            time_s: time,
            state: None,
            wheel_dz_m: [0.0; 6],
            wheel_dz_bound_m: 0.0,
        });
        true
    };
    let mut pose = seq.start;
    let (mut dist, mut time) = (0.0, 0.0);
    if !push(out, None, None, pose, dist, time) {
        return false;
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
                    if !push(out, cmd, seg, p, dist, t) {
                        return false;
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
                    if !push(out, cmd, seg, p, dist + f * d, time + f * d / speed) {
                        return false;
                    }
                }
                dist += d;
                time += d / speed;
            }
        }
        pose = c.end;
    }
    true
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
    fn the_telemetry_is_the_same_on_one_thread_and_on_many() {
        let k = kin();
        let t = GeoTransform { x0: 0.0, y0: 100.0, dx: 1.0, dy: -1.0 };
        // Rough ground, so every pose differs.
        let g = Grid::from_fn(100, 100, t, |x, y| {
            (0.3 * (0.7 * x).sin() * (0.5 * y).cos() + 0.05 * x) as f32
        });
        let seq = compile(&[(20.0, 20.0), (30.0, 60.0), (70.0, 50.0)], Some(10.0), 2.35).unwrap();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| drive(&k, &Ground { grid: &g }, &seq))
        };
        let one = on(1);
        assert!(one.samples.len() > 800 && one.samples.iter().all(|s| s.state.is_some()));
        for threads in [2, 3, 8] {
            assert_eq!(on(threads), one, "{threads} threads");
        }
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
