//! The cost model and the baseline planner: the search is optimal (against a brute-force
//! Dijkstra that shares no search code), routes pass the checker on the fixture sols, and
//! refusals name what walls the goal off.

use std::path::PathBuf;

use breadcrumb_tools::checker::walk::{SegmentTerrain, Walker};
use breadcrumb_tools::checker::{check_sol, Checker, Mission, Plan, Pt};
use breadcrumb_tools::cost::{Constraint, Constraints, CostGrid};
use breadcrumb_tools::planner::{
    astar, plan_mission, plan_sol, PlanOutcome, PlannerOptions, Target,
};
use breadcrumb_tools::terrain::{Bundle, GeoTransform, Grid, LoadedSol, RoverProfile, Sol};
use proptest::prelude::*;

use crate::support::assert_sound;

fn sol(id: &str) -> LoadedSol {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/sols/{id}.toml"));
    Sol::load(&p).unwrap()
}

/// Brute-force Dijkstra over the 16-connected graph, written from the definition in
/// `cost::grid` and sharing no code with the planner: O(V^2), no heap, no heuristic.
fn dijkstra(w: usize, h: usize, costs: &[f32], start: usize, goal: usize) -> Option<f64> {
    let ok = |c: i64, r: i64| {
        c >= 0
            && r >= 0
            && (c as usize) < w
            && (r as usize) < h
            && costs[r as usize * w + c as usize].is_finite()
    };
    let cost = |c: i64, r: i64| f64::from(costs[r as usize * w + c as usize]);
    let n = w * h;
    let mut dist = vec![f64::INFINITY; n];
    let mut done = vec![false; n];
    dist[start] = 0.0;
    loop {
        let mut u = None;
        for i in 0..n {
            if !done[i] && dist[i].is_finite() && u.is_none_or(|j: usize| dist[i] < dist[j]) {
                u = Some(i);
            }
        }
        let u = u?;
        if u == goal {
            return Some(dist[u]);
        }
        done[u] = true;
        let (c, r) = ((u % w) as i64, (u / w) as i64);
        if !ok(c, r) {
            continue;
        }
        for dc in -2i64..=2 {
            for dr in -2i64..=2 {
                let (adc, adr) = (dc.abs(), dr.abs());
                let kind = match (adc, adr) {
                    (1, 0) | (0, 1) => 0,
                    (1, 1) => 1,
                    (2, 1) | (1, 2) => 2,
                    _ => continue,
                };
                if !ok(c + dc, r + dr) {
                    continue;
                }
                let len = ((dc * dc + dr * dr) as f64).sqrt();
                let step = match kind {
                    0 => len * (cost(c, r) + cost(c + dc, r + dr)) / 2.0,
                    1 => {
                        if !ok(c + dc, r) || !ok(c, r + dr) {
                            continue;
                        }
                        len * (cost(c, r) + cost(c + dc, r + dr)) / 2.0
                    }
                    _ => {
                        // The two cells the line between the centres crosses.
                        let (m1, m2) = if adc == 2 {
                            ((c + dc / 2, r), (c + dc / 2, r + dr))
                        } else {
                            ((c, r + dr / 2), (c + dc, r + dr / 2))
                        };
                        if !ok(m1.0, m1.1) || !ok(m2.0, m2.1) {
                            continue;
                        }
                        len * (cost(c, r)
                            + cost(m1.0, m1.1)
                            + cost(m2.0, m2.1)
                            + cost(c + dc, r + dr))
                            / 4.0
                    }
                };
                let v = ((r + dr) as usize) * w + (c + dc) as usize;
                if dist[u] + step < dist[v] {
                    dist[v] = dist[u] + step;
                }
            }
        }
    }
}

fn small_grid() -> impl Strategy<Value = (usize, usize, Vec<f32>, usize, usize)> {
    (1usize..=12, 1usize..=12).prop_flat_map(|(w, h)| {
        let cell =
            prop_oneof![4 => (1u32..100).prop_map(|c| c as f32 / 10.0), 1 => Just(f32::INFINITY)];
        (Just(w), Just(h), proptest::collection::vec(cell, w * h), 0..w * h, 0..w * h)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn astar_is_as_cheap_as_brute_force_dijkstra((w, h, costs, start, goal) in small_grid()) {
        let t = GeoTransform { x0: 0.0, y0: h as f64, dx: 1.0, dy: -1.0 };
        let grid = CostGrid::from_costs(w, h, t, &costs).unwrap();
        let found = astar(&grid, start, &Target::cell(&grid, goal), Constraints::NONE);
        let want = if costs[start].is_finite() { dijkstra(w, h, &costs, start, goal) } else { None };
        match (found, want) {
            (None, None) => {}
            (Some(r), Some(d)) => {
                prop_assert!((r.cost - d).abs() <= 1e-9 * d.max(1.0), "A* {} vs Dijkstra {d}", r.cost);
                prop_assert_eq!(r.path[0], start);
                prop_assert_eq!(*r.path.last().unwrap(), goal);
                // The path's own cost under the cost model is what the search reported.
                let pts: Vec<Pt> = r.path.iter().map(|&i| grid.centre(i)).collect();
                let pc = grid.path_cost(&pts).unwrap();
                prop_assert!((pc.total_cost - r.cost).abs() <= 1e-9 * d.max(1.0));
            }
            (a, b) => prop_assert!(false, "A* {a:?} vs Dijkstra {b:?}"),
        }
    }
}

#[test]
fn routes_pass_the_checker_on_the_sols_that_have_one() {
    for id in
        ["plains-01", "plains-02-keepout", "crater-field-01", "jezero-rim-1707", "jezero-rim-1709"]
    {
        let l = sol(id);
        match plan_sol(&l, &PlannerOptions::default()).unwrap() {
            PlanOutcome::Route(r) => {
                assert_sound(&l, &r);
                assert!(r.waypoints.len() < r.stats.dense_vertices, "{id}: simplified");
            }
            PlanOutcome::NoSafeRoute { reason, .. } => panic!("{id}: refused: {reason}"),
        }
    }
}

/// The heading closest to the goal's bearing at which the rover standing on the sol's start
/// passes the checker's step rule (the fixtures' own start headings of plains-01 and
/// jezero-rim-1709 do not).
fn sound_heading(l: &LoadedSol, b: &Bundle, p: &RoverProfile) -> Option<f64> {
    let w = Walker::new(&b.dem, p.footprint.half_length_m, p.footprint.half_width_m).unwrap();
    let s = &l.sol;
    let bearing = (s.goal.x - s.start.x).atan2(s.goal.y - s.start.y).to_degrees();
    let off = |h: f64| {
        let d = (h - bearing).rem_euclid(360.0);
        d.min(360.0 - d)
    };
    (0..72)
        .map(|i| f64::from(i) * 5.0)
        .filter(|&h| {
            let mut acc = SegmentTerrain::default();
            w.stand((s.start.x, s.start.y), h, &mut acc).unwrap();
            acc.unknown.is_none() && acc.step.is_some_and(|e| e.value <= p.limits.max_step_m)
        })
        .min_by(|&a, &b| off(a).total_cmp(&off(b)))
}

#[test]
fn a_start_pose_the_checker_refuses_is_named_and_a_sound_one_is_planned_from() {
    // The starts these two sols had first: the rover stood on a rock step there (the fixtures
    // were moved off it, by 1 and 1.4 m).
    for (id, x0, y0) in
        [("plains-01", -110.0, 1_090_554.0), ("jezero-rim-1709", 5.91, 1_092_410.93)]
    {
        let mut l = sol(id);
        l.sol.start.x = x0;
        l.sol.start.y = y0;
        // From there the checker refuses even 3 m straight ahead, and so must the planner.
        let h = l.sol.start.heading_deg.to_radians();
        let (x, y) = (l.sol.start.x, l.sol.start.y);
        let stub = Plan::from_points(&[(x, y), (x + 3.0 * h.sin(), y + 3.0 * h.cos())]);
        let v = check_sol(&l, &stub).unwrap();
        assert!(v.violations.iter().any(|v| v.rule == "step"), "{id}: {}", v.to_json());
        match plan_sol(&l, &PlannerOptions::default()).unwrap() {
            PlanOutcome::NoSafeRoute { reason, walls, .. } => {
                assert!(reason.contains("start pose") && reason.contains("step"), "{id}: {reason}");
                assert!(walls.contains(&Constraint::Step));
            }
            PlanOutcome::Route(_) => panic!("{id}: a route from a start the checker refuses"),
        }
        // From a sound heading on the same spot (where there is one: on jezero-rim-1709 the
        // rover stands on a step whichever way it faces) there is a route, and it passes.
        let b = Bundle::open(&l.bundle_dir).unwrap();
        let p = RoverProfile::load(&l.rover_path).unwrap();
        let Some(heading) = sound_heading(&l, &b, &p) else {
            assert_eq!(id, "jezero-rim-1709", "{id}: no sound heading at the start");
            continue;
        };
        let mut m = Mission::from_sol(&l.sol);
        m.start_heading_deg = Some(heading);
        match plan_mission(&b.dem, &b.hazards, &p, &m, &PlannerOptions::default()).unwrap() {
            PlanOutcome::Route(r) => {
                let v = Checker::new(&b.dem, &b.hazards, &p).check(&m, &r.waypoints).unwrap();
                assert!(v.pass && r.verdict.pass, "{id}: {}", v.to_json());
                assert!(r
                    .waypoints
                    .windows(2)
                    .all(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1) <= 100.0));
            }
            PlanOutcome::NoSafeRoute { reason, .. } => panic!("{id}: refused: {reason}"),
        }
    }
}

#[test]
fn the_walled_crater_is_refused_naming_tilt() {
    let l = sol("crater-field-02-walled");
    match plan_sol(&l, &PlannerOptions::default()).unwrap() {
        PlanOutcome::NoSafeRoute { reason, walls, .. } => {
            assert!(reason.contains("every route to the goal crosses tilt"), "{reason}");
            assert!(walls.contains(&Constraint::Tilt), "{walls:?}");
        }
        PlanOutcome::Route(r) => panic!("route into a walled crater: {:?}", r.waypoints),
    }
}

#[test]
fn a_ripple_band_across_the_map_is_refused_naming_hazards() {
    // ripple-slope-01: a megaripple band (sand_ripple, which blocks) crosses the whole map
    // between start and goal.
    let l = sol("ripple-slope-01");
    let v = check_sol(
        &l,
        &Plan::from_points(&[(l.sol.start.x, l.sol.start.y), (l.sol.goal.x, l.sol.goal.y)]),
    )
    .unwrap();
    assert!(v.violations.iter().any(|v| v.rule == "hazards"));
    match plan_sol(&l, &PlannerOptions::default()).unwrap() {
        PlanOutcome::NoSafeRoute { reason, walls, .. } => {
            assert!(reason.contains("every route to the goal crosses mapped hazards"), "{reason}");
            assert!(walls.contains(&Constraint::Hazards), "{walls:?}");
        }
        PlanOutcome::Route(r) => panic!("route across the ripple band: {:?}", r.waypoints),
    }
}

#[test]
fn long_drives_get_waypoints_within_the_spacing_and_pass() {
    // A gentle 600 m x 60 m ramp with a ridge of 0.5 m rocks across it and one gap.
    let t = GeoTransform { x0: 0.0, y0: 60.0, dx: 1.0, dy: -1.0 };
    let dem = Grid::from_fn(600, 60, t, |x, y| {
        let rock = (x - 300.5).abs() < 0.6 && !(40.0..=48.0).contains(&y) && (y as i64) % 2 == 0;
        (0.05 * x + if rock { 0.6 } else { 0.0 }) as f32
    });
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    let p = RoverProfile::load(&path).unwrap();
    let mut m = Mission::for_route(&[(10.0, 20.0), (590.0, 20.0)], &p);
    m.drive_budget_m = 700.0;
    m.goal_tolerance_m = 2.0;
    m.start_heading_deg = Some(90.0);
    match plan_mission(&dem, &[], &p, &m, &PlannerOptions::default()).unwrap() {
        PlanOutcome::Route(r) => {
            assert!(r.verdict.pass, "{}", r.verdict.to_json());
            let lens: Vec<f64> =
                r.waypoints.windows(2).map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1)).collect();
            assert!(lens.iter().all(|&l| l <= 100.0 + 1e-9), "{lens:?}");
            assert!(r.waypoints.len() >= 7, "600 m needs at least 6 legs: {:?}", r.waypoints);
            // Through the gap in the rock ridge.
            let crossing =
                r.waypoints.windows(2).find(|w| w[0].0 <= 300.5 && w[1].0 >= 300.5).unwrap();
            let f = (300.5 - crossing[0].0) / (crossing[1].0 - crossing[0].0);
            let y = crossing[0].1 + f * (crossing[1].1 - crossing[0].1);
            assert!((40.0..=48.0).contains(&y), "crosses the ridge at y = {y}");
        }
        PlanOutcome::NoSafeRoute { reason, .. } => panic!("{reason}"),
    }
}

#[test]
fn the_costs_section_is_optional_and_validated() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let committed = RoverProfile::load(&path).unwrap();
    let start = text.find("[costs]").unwrap();
    let end = text.find("[sources]").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.toml");
    std::fs::write(&p, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let without = RoverProfile::load(&p).unwrap();
    assert_eq!(without.costs, committed.costs, "the committed numbers are the defaults");
    std::fs::write(&p, text.replace("slope_per_m = 3.0", "slope_per_m = -1.0")).unwrap();
    let e = RoverProfile::load(&p).unwrap_err().to_string();
    assert!(e.contains("costs.slope_per_m"), "{e}");
    std::fs::write(&p, text.replace("tilt_margin_deg = 2.0", "tilt_margin_deg = 30.0")).unwrap();
    assert!(RoverProfile::load(&p).is_err(), "a margin over the limit leaves nothing feasible");
}
