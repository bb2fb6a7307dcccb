//! Hostile input: non-finite and huge coordinates, empty and one-point plans, duplicates,
//! 100 000 waypoints, a goal off the map. Always a verdict or a clear error, never a panic or
//! a hang, and verdicts stay small.

use std::time::Instant;

use breadcrumb_tools::checker::{check_sol, Checker, Mission, Plan, Pt};
use breadcrumb_tools::terrain::Sol;

use super::common::{failed, fixtures, grid, perseverance};

#[test]
fn non_finite_and_empty_plans_are_clear_errors() {
    let p = perseverance();
    let g = grid(100, 1.0, |_, _| 0.0);
    let c = Checker::new(&g, &[], &p);
    let m = Mission::for_route(&[(10.0, 10.0)], &p);
    for (pts, want) in [
        (vec![(10.0, 10.0), (f64::NAN, 5.0)], "waypoint 1"),
        (vec![(f64::INFINITY, 10.0)], "waypoint 0"),
        (vec![(10.0, f64::NEG_INFINITY)], "not a finite"),
        (vec![], "no waypoints"),
    ] {
        let e = c.check(&m, &pts).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    let mut bad = p.clone();
    bad.limits.max_tilt_deg = -1.0;
    let e = Checker::new(&g, &[], &bad).check(&m, &[(10.0, 10.0)]).unwrap_err().to_string();
    assert!(e.contains("max_tilt_deg"), "{e}");
}

#[test]
fn huge_coordinates_give_a_verdict() {
    let p = perseverance();
    let g = grid(100, 1.0, |_, _| 0.0);
    let c = Checker::new(&g, &[], &p);
    // Beyond any budget: not walked, fails on budget (and the far start).
    let pts = [(-1.5e308, 10.0), (1.5e308, 10.0)];
    let v = c.check(&Mission::for_route(&pts, &p), &pts).unwrap();
    assert!(!v.pass && failed(&v).contains(&"budget".to_owned()) && !v.summary.terrain_walked);
    assert!(v.to_json().contains("\"length_m\": null"), "infinite length is null: {}", v.to_json());
    // Far off the map but a short drive: walked, unknown terrain.
    let pts = [(1e15, 1e15), (1e15 + 20.0, 1e15)];
    let v = c.check(&Mission::for_route(&pts, &p), &pts).unwrap();
    assert_eq!(failed(&v), vec!["valid_data"]);
    let pts = [(-1e9, 5.0), (-1e9, 5.0)];
    let v = c.check(&Mission::for_route(&pts, &p), &pts).unwrap();
    assert_eq!(failed(&v), vec!["valid_data"]);
}

#[test]
fn one_point_and_duplicate_plans_are_judged() {
    let p = perseverance();
    let g = grid(100, 1.0, |x, _| 0.1 * x);
    let c = Checker::new(&g, &[], &p);
    let one = [(50.0, 50.0)];
    let v = c.check(&Mission::for_route(&one, &p), &one).unwrap();
    assert!(v.pass, "{}", v.to_json());
    assert_eq!((v.summary.segments, v.summary.poses_evaluated), (0, 1));
    let mut m = Mission::for_route(&one, &p);
    m.goal = (80.0, 50.0);
    let v = c.check(&m, &one).unwrap();
    assert_eq!(failed(&v), vec!["goal"]);
    assert_eq!(v.violations[0].segment, None);
    let plain = [(20.0, 20.0), (60.0, 30.0), (70.0, 70.0)];
    let dup = [
        (20.0, 20.0),
        (20.0, 20.0),
        (60.0, 30.0),
        (60.0, 30.0),
        (60.0, 30.0),
        (70.0, 70.0),
        (70.0, 70.0),
    ];
    let a = c.check(&Mission::for_route(&plain, &p), &plain).unwrap();
    let b = c.check(&Mission::for_route(&dup, &p), &dup).unwrap();
    assert!(a.pass && b.pass);
    assert_eq!(a.summary.max_tilt_deg, b.summary.max_tilt_deg);
    assert_eq!(a.summary.poses_evaluated, b.summary.poses_evaluated);
}

#[test]
fn a_hundred_thousand_waypoints_give_a_small_verdict_quickly() {
    let p = perseverance();
    let g = grid(400, 1.0, |x, y| 0.05 * x + 0.5 * (y / 7.0).sin());
    let c = Checker::new(&g, &[], &p);
    // 100 km of 1 m steps: far over budget, not walked.
    let line: Vec<Pt> = (0..100_000).map(|i| (50.0 + f64::from(i), 50.0)).collect();
    let t0 = Instant::now();
    let v = c.check(&Mission::for_route(&line, &p), &line).unwrap();
    let t_line = t0.elapsed();
    assert!(!v.pass && !v.summary.terrain_walked && failed(&v).contains(&"budget".to_owned()));
    // 250 m east in 2.5 mm steps, zigzagging by a millimetre (269 m along the waypoints):
    // every waypoint a 44° turn, all walked.
    let zig: Vec<Pt> = (0..100_000)
        .map(|i| (50.0 + f64::from(i) * 0.0025, 200.0 + if i % 2 == 0 { 0.0 } else { 0.001 }))
        .collect();
    let t0 = Instant::now();
    let v = c.check(&Mission::for_route(&zig, &p), &zig).unwrap();
    let t_zig = t0.elapsed();
    assert!(v.summary.terrain_walked, "{:?}", v.summary);
    assert!(v.pass, "{:?}", v.failed_rules());
    // 100 000 segments each over the spacing limit: the count is complete, the list short.
    let wide: Vec<Pt> = (0..100_000).map(|i| (50.0 + 150.0 * f64::from(i % 2), 50.0)).collect();
    let mut m = Mission::for_route(&wide, &p);
    m.drive_budget_m = 1e12;
    let e = c.check(&m, &wide).unwrap_err().to_string();
    assert!(e.contains("longer than the checker walks"), "{e}");
    m.drive_budget_m = 300.0;
    let v = c.check(&m, &wide).unwrap();
    let spacing = v.rules.iter().find(|r| r.rule == "spacing").unwrap();
    assert_eq!(spacing.violations, 99_999);
    let json = v.to_json();
    assert!(json.len() < 100_000, "verdict of {} bytes", json.len());
    println!("100 000 waypoints: {t_line:?} (over budget, not walked), {t_zig:?} (250 m walked, every waypoint a turn); verdict {} bytes", json.len());
    // Generous bounds for unoptimised test builds; the bench gives the real figures.
    assert!(t_line.as_secs_f64() < 5.0 && t_zig.as_secs_f64() < 30.0);
}

#[test]
fn a_sol_whose_goal_is_off_the_map_gets_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixtures();
    let text = format!(
        r#"id = "off-map"
bundle = "{}"
rover = "{}"
drive_budget_m = 300.0
keep_in = [[-1e6, -1e7], [1e6, -1e7], [1e6, 1e7], [-1e6, 1e7]]
[start]
x = 0.0
y = 1090660.0
heading_deg = 90.0
[goal]
x = 5000.0
y = 1090660.0
tolerance_m = 2.0
"#,
        fx.join("sites/plains").display(),
        fx.join("rovers/perseverance.toml").display()
    );
    let path = dir.path().join("off-map.toml");
    std::fs::write(&path, text).unwrap();
    let sol = Sol::load(&path).unwrap();
    // Towards the goal until the budget: over the edge of the map.
    let plan = Plan::from_points(&[
        (0.0, 1_090_660.0),
        (90.0, 1_090_660.0),
        (180.0, 1_090_660.0),
        (270.0, 1_090_660.0),
    ]);
    let v = check_sol(&sol, &plan).unwrap();
    let f = failed(&v);
    assert!(f.contains(&"goal".to_owned()) && f.contains(&"valid_data".to_owned()), "{f:?}");
    // Straight at the goal: over budget, spacing, goal.
    let plan = Plan::from_points(&[(0.0, 1_090_660.0), (5000.0, 1_090_660.0)]);
    let v = check_sol(&sol, &plan).unwrap();
    assert!(
        failed(&v).contains(&"spacing".to_owned()) && failed(&v).contains(&"budget".to_owned())
    );
}
