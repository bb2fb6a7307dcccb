//! The walk's claim (see `checker::walk`): every set of cells under the footprint that a much
//! denser walk meets was evaluated by the checker's walk. Dense walks here take 1 cm steps and
//! 0.05° turn steps, with their own cell selection.

use std::collections::HashSet;

use breadcrumb_tools::checker::walk::{CellList, Ground, Pose, PoseSink, Walker};
use breadcrumb_tools::terrain::Grid;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::common::rough_site;

#[derive(Default)]
struct Sets {
    sets: HashSet<Vec<(i64, i64)>>,
    poses: usize,
}

impl PoseSink for Sets {
    fn pose(&mut self, _pose: Pose, _ground: &Ground, cells: &CellList<'_>) {
        self.sets.insert(cells.to_vec());
        self.poses += 1;
    }
}

const HL: f64 = 1.5;
const HW: f64 = 1.35;

/// Cells whose centres lie in the footprint at `(x, y, heading)`, by brute force.
fn dense_cells(g: &Grid, x: f64, y: f64, heading_deg: f64) -> Vec<(i64, i64)> {
    let t = g.transform;
    let (s, c) = heading_deg.to_radians().sin_cos();
    let (c0, r0) =
        (((x - 3.0 - t.x0) / t.dx).floor() as i64, ((y + 3.0 - t.y0) / t.dy).floor() as i64);
    let mut out = Vec::new();
    for row in r0..r0 + 8 {
        for col in c0..c0 + 8 {
            let cx = t.x0 + (col as f64 + 0.5) * t.dx - x;
            let cy = t.y0 + (row as f64 + 0.5) * t.dy - y;
            let along = cx * s + cy * c;
            let across = cx * c - cy * s;
            if along.abs() <= HL + 1e-9 && across.abs() <= HW + 1e-9 {
                out.push((col, row));
            }
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn a_hundred_times_denser_walk_meets_no_set_the_walk_missed() {
    let site = rough_site(3);
    let g = &site.dem;
    let walker = Walker::new(g, HL, HW).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(20_260_601);
    let (mut dense_poses, mut walk_poses, mut metres) = (0usize, 0usize, 0.0);
    for _ in 0..150 {
        let a = (rng.gen_range(20.0..180.0), rng.gen_range(20.0..180.0));
        let len: f64 = rng.gen_range(0.3..25.0);
        let h: f64 = rng.gen_range(0.0..360.0);
        let b = (a.0 + len * h.to_radians().sin(), a.1 + len * h.to_radians().cos());
        let mut sets = Sets::default();
        walker.segment(a, b, &mut sets).unwrap();
        let heading = (b.0 - a.0).atan2(b.1 - a.1).to_degrees();
        let steps = (len / 0.01).ceil() as usize;
        for k in 0..=steps {
            let t = (k as f64 * 0.01).min(len) / len;
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            let cells = dense_cells(g, x, y, heading);
            assert!(
                sets.sets.contains(&cells),
                "segment {a:?} -> {b:?}: the set at t = {t} ({x}, {y}) was never evaluated"
            );
        }
        dense_poses += steps + 1;
        walk_poses += sets.poses;
        metres += len;
    }
    // The walk evaluates far fewer poses than the dense one, and still more often than every
    // half cell on average.
    let per_m = walk_poses as f64 / metres;
    println!("straight: {walk_poses} walk poses vs {dense_poses} dense over {metres:.0} m ({per_m:.1} per m)");
    assert!(per_m > 2.0 && walk_poses * 10 < dense_poses, "{per_m}");
}

#[test]
fn a_denser_turn_meets_no_set_the_turn_missed() {
    let site = rough_site(4);
    let g = &site.dem;
    let walker = Walker::new(g, HL, HW).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..150 {
        let p = (rng.gen_range(20.0..180.0), rng.gen_range(20.0..180.0));
        let from: f64 = rng.gen_range(-360.0..360.0);
        let to: f64 = rng.gen_range(-360.0..360.0);
        let mut sets = Sets::default();
        walker.turn(p, from, to, &mut sets).unwrap();
        let mut delta = (to - from).rem_euclid(360.0);
        if delta > 180.0 {
            delta -= 360.0;
        }
        let steps = (delta.abs() / 0.05).ceil() as usize;
        for k in 0..=steps {
            let h = from + delta * (k as f64 / steps.max(1) as f64);
            let cells = dense_cells(g, p.0, p.1, h);
            assert!(sets.sets.contains(&cells), "turn at {p:?} {from} -> {to}: heading {h} missed");
        }
    }
}
