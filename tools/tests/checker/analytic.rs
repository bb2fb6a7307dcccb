//! Analytic terrains: each rule fires exactly at its limit. Just under the limit passes, just
//! over it fails, and only the rule under test fires.

use std::f64::consts::PI;

use breadcrumb_tools::analysis::roughness::footprint_roughness;
use breadcrumb_tools::checker::{Mission, Pt, Verdict};
use breadcrumb_tools::terrain::{Grid, Hazard, HazardClass, RoverProfile};

use super::common::{check, failed, grid, hazard, perseverance, route_mission, square};

/// Level ground. Elevations stay near 0 in analytic tests: f32 cells near -2550 m carry
/// 0.24 mm of rounding, enough to blur a limit tested to the millimetre.
fn flat() -> Grid {
    grid(120, 1.0, |_, _| 0.0)
}

/// Asserts `under` passes and `over` fails on `rule` alone.
fn at_limit(rule: &str, under: &Verdict, over: &Verdict) {
    assert!(under.pass, "{rule}: just under the limit must pass: {}", under.to_json());
    assert_eq!(failed(over), vec![rule.to_owned()], "{rule}: {}", over.to_json());
    assert_eq!(over.violations[0].rule, rule);
}

fn run(
    dem: &Grid,
    hazards: &[Hazard],
    profile: &RoverProfile,
    mission: &Mission,
    pts: &[Pt],
) -> Verdict {
    check(dem, hazards, profile, mission, pts)
}

fn route(dem: &Grid, profile: &RoverProfile, pts: &[Pt]) -> Verdict {
    run(dem, &[], profile, &route_mission(pts, profile), pts)
}

#[test]
fn tilt_fires_exactly_at_the_limit_on_a_plane() {
    let p = perseverance();
    let limit = p.limits.max_tilt_deg;
    // The plane rises northward; routes in several headings see the same tilt.
    let plane = |deg: f64| grid(120, 1.0, move |_, y| deg.to_radians().tan() * (y - 60.0));
    let routes: [&[Pt]; 3] = [
        &[(20.3, 60.2), (90.7, 60.2)],
        &[(60.1, 20.4), (60.1, 95.0)],
        &[(25.0, 30.0), (85.0, 90.0), (30.0, 90.5)],
    ];
    for pts in routes {
        let under = route(&plane(limit - 0.01), &p, pts);
        let over = route(&plane(limit + 0.01), &p, pts);
        at_limit("tilt", &under, &over);
        let seen = over.summary.max_tilt_deg.unwrap();
        assert!((seen - (limit + 0.01)).abs() < 1e-3, "measured {seen}");
        assert!((over.violations[0].measured - seen).abs() < 1e-9);
    }
}

#[test]
fn a_rock_fires_the_step_rule_at_its_height_on_any_slope() {
    let p = perseverance();
    let limit = p.limits.max_step_m;
    for slope_deg in [0.0_f64, 12.0, 20.0] {
        let g = slope_deg.to_radians().tan();
        let site = |h: f64| {
            let mut dem = grid(120, 1.0, |_, y| g * y);
            let z = dem.get(60, 60).unwrap(); // centre (60.5, 59.5)
            dem.set(60, 60, z + h as f32);
            dem
        };
        // East across the rock, and diagonally over it.
        for pts in [[(40.2, 59.7), (80.9, 59.3)], [(45.0, 45.0), (75.0, 74.6)]] {
            let under = route(&site(limit - 0.002), &p, &pts);
            let over = route(&site(limit + 0.002), &p, &pts);
            at_limit("step", &under, &over);
            let seen = over.summary.max_step_m.unwrap();
            assert!((seen - (limit + 0.002)).abs() < 1e-4, "slope {slope_deg}°: {seen}");
        }
    }
}

#[test]
fn smooth_slopes_are_the_tilt_rules_business_not_the_step_rules() {
    // The calibration trap: on a 1 m DEM a smooth 22° slope rises 0.40 m per cell (0.57 m on
    // the diagonal), over the 0.35 m step limit, yet real rovers drive such slopes.
    let p = perseverance();
    let g = 22f64.to_radians().tan();
    let dem = grid(120, 1.0, |x, y| g * (0.6 * x + 0.8 * y));
    let raw = footprint_roughness(&dem, 60.0, 60.0, 30.0, 1.5, 1.35).unwrap();
    assert!(raw.step_m > 0.35, "raw adjacent difference {}", raw.step_m);
    let v = route(&dem, &p, &[(30.0, 40.0), (90.0, 80.0)]);
    assert!(v.pass, "{}", v.to_json());
    assert!(v.summary.max_step_m.unwrap() < 1e-3);
    assert!((v.summary.max_tilt_deg.unwrap() - 22.0).abs() < 1e-3);
}

#[test]
fn a_ledge_measures_its_full_height() {
    // The plane under the footprint would absorb 40% of a ledge; the step rule must not.
    let p = perseverance();
    for (h, pass) in [(0.34, true), (0.36, false), (0.5, false)] {
        let dem = grid(120, 1.0, move |x, y| 0.1 * y + if x > 60.0 { h } else { 0.0 });
        let v = route(&dem, &p, &[(40.0, 50.3), (80.0, 50.3)]);
        assert_eq!(v.pass, pass, "ledge {h}: {}", v.to_json());
        assert!((v.summary.max_step_m.unwrap() - h).abs() < 1e-4, "{:?}", v.summary.max_step_m);
    }
}

#[test]
fn a_ripple_under_the_belly_fires_the_clearance_rule_at_its_amplitude() {
    // Crests run east-west (wavelength 8 m); the rover drives east along a crest at a row of
    // cell centres, so its footprint always covers the crest row and one row either side
    // (|across| <= 1.35 m). The plane through those cells is level at their mean, and the
    // crest stands (2A/3)(1 - cos(2π/8)) above it: the clearance limit is reached at
    // A* = 0.5 / ((2/3)(1 - cos(π/4))) = 2.5607 m (a 5 m transverse aeolian ridge).
    let p = perseverance();
    let limit = p.limits.max_belly_obstacle_m;
    let k = (2.0 / 3.0) * (1.0 - (2.0 * PI / 8.0).cos());
    let a_star = limit / k;
    let crest_y = 60.5;
    let ripple = |a: f64| grid(120, 1.0, move |_, y| a * (2.0 * PI * (y - crest_y) / 8.0).cos());
    let pts = [(30.0, crest_y), (90.0, crest_y)];
    let under = route(&ripple(a_star * 0.999), &p, &pts);
    let over = route(&ripple(a_star * 1.001), &p, &pts);
    at_limit("clearance", &under, &over);
    let seen = over.summary.max_belly_obstacle_m.unwrap();
    assert!((seen - k * a_star * 1.001).abs() < 1e-4, "{seen}");
    // The same ripple is no step (0.086 A) and no tilt (level along the crest).
    assert!(over.summary.max_step_m.unwrap() < p.limits.max_step_m);
    assert!(over.summary.max_tilt_deg.unwrap() < 1e-3);
}

#[test]
fn a_keep_out_square_fires_at_the_buffer() {
    let p = perseverance();
    let buffer = p.hazard_buffer_m();
    let dem = flat();
    let zone = square(50.0, 40.0, 10.0);
    let mission = |pts: &[Pt]| {
        let mut m = route_mission(pts, &p);
        m.keep_out = vec![("square".into(), zone.clone())];
        m
    };
    // Passing above the square's top edge (y = 50) at buffer ± 1 mm.
    for side in [1.0, -1.0] {
        let y = |d: f64| if side > 0.0 { 50.0 + d } else { 40.0 - d };
        let under: [Pt; 2] = [(20.0, y(buffer + 0.001)), (90.0, y(buffer + 0.001))];
        let over: [Pt; 2] = [(20.0, y(buffer - 0.001)), (90.0, y(buffer - 0.001))];
        at_limit(
            "keep_out",
            &run(&dem, &[], &p, &mission(&under), &under),
            &run(&dem, &[], &p, &mission(&over), &over),
        );
    }
    // Straight through it: distance 0, located where the route enters.
    let through: [Pt; 2] = [(20.0, 45.0), (90.0, 45.0)];
    let v = run(&dem, &[], &p, &mission(&through), &through);
    assert_eq!((v.violations[0].measured, v.violations[0].x), (0.0, 50.0));
}

#[test]
fn hazards_fire_at_the_buffer_and_outcrop_is_allowed() {
    let p = perseverance();
    let buffer = p.hazard_buffer_m();
    let dem = flat();
    let rock = [hazard(0, HazardClass::Rock, square(60.0, 60.0, 1.0))];
    let under: [Pt; 2] = [(60.5, 20.0), (60.5, 60.0 - buffer - 0.001)];
    let over: [Pt; 2] = [(60.5, 20.0), (60.5, 60.0 - buffer + 0.001)];
    at_limit(
        "hazards",
        &run(&dem, &rock, &p, &route_mission(&under, &p), &under),
        &run(&dem, &rock, &p, &route_mission(&over, &p), &over),
    );
    for class in [
        HazardClass::BoulderField,
        HazardClass::SandRipple,
        HazardClass::Scarp,
        HazardClass::Crater,
        HazardClass::Unknown,
    ] {
        let h = [hazard(7, class, square(40.0, 40.0, 20.0))];
        let pts: [Pt; 2] = [(20.0, 50.0), (90.0, 50.0)];
        let v = run(&dem, &h, &p, &route_mission(&pts, &p), &pts);
        assert_eq!(failed(&v), vec!["hazards"], "{class:?}");
        assert!(v.violations[0].message.contains(class.as_str()), "{}", v.violations[0].message);
    }
    let outcrop = [hazard(0, HazardClass::Outcrop, square(40.0, 40.0, 20.0))];
    let pts: [Pt; 2] = [(20.0, 50.0), (90.0, 50.0)];
    assert!(run(&dem, &outcrop, &p, &route_mission(&pts, &p), &pts).pass, "outcrop is drivable");
}

#[test]
fn spacing_fires_past_the_maximum() {
    let p = perseverance();
    let dem = grid(300, 1.0, |_, _| 0.0);
    let max = p.limits.max_waypoint_spacing_m;
    let under = route(&dem, &p, &[(50.0, 50.0), (50.0 + max - 0.001, 50.0)]);
    let over = route(&dem, &p, &[(50.0, 50.0), (50.0 + max + 0.001, 50.0)]);
    at_limit("spacing", &under, &over);
}

#[test]
fn budget_fires_past_the_drive_budget_where_it_runs_out() {
    let p = perseverance();
    let dem = grid(300, 1.0, |_, _| 0.0);
    let budget = p.limits.drive_budget_m;
    let zigzag = |total: f64| -> Vec<Pt> {
        // Around a square of side total / 4 (75 m legs, under the 100 m spacing).
        let leg = total / 4.0;
        vec![
            (50.0, 50.0),
            (50.0 + leg, 50.0),
            (50.0 + leg, 50.0 + leg),
            (50.0, 50.0 + leg),
            (50.0, 50.0),
        ]
    };
    let under = route(&dem, &p, &zigzag(budget - 0.004));
    let over = route(&dem, &p, &zigzag(budget + 0.004));
    at_limit("budget", &under, &over);
    // Placed at the end of the route, where the budget runs out (within the last segment).
    let v = &over.violations[0];
    assert_eq!(v.segment, Some(3));
    assert!((v.x - 50.0).abs() < 1e-9 && (v.y - (50.0 + 0.004)).abs() < 1e-3, "{v:?}");
}

#[test]
fn start_and_goal_fire_past_their_tolerances() {
    let p = perseverance();
    let dem = flat();
    let tol = p.margins.start_tolerance_m;
    let mission = |start: Pt| {
        let mut m = route_mission(&[start], &p);
        m.start = (30.0, 30.0);
        m.goal = (80.0, 80.0);
        m.goal_tolerance_m = 2.0;
        m
    };
    let under: [Pt; 2] = [(30.0 + tol - 0.001, 30.0), (80.0, 80.0)];
    let over: [Pt; 2] = [(30.0 + tol + 0.001, 30.0), (80.0, 80.0)];
    at_limit(
        "start",
        &run(&dem, &[], &p, &mission(under[0]), &under),
        &run(&dem, &[], &p, &mission(over[0]), &over),
    );
    let under: [Pt; 2] = [(30.0, 30.0), (80.0, 82.0 - 0.001)];
    let over: [Pt; 2] = [(30.0, 30.0), (80.0, 82.0 + 0.001)];
    at_limit(
        "goal",
        &run(&dem, &[], &p, &mission(under[0]), &under),
        &run(&dem, &[], &p, &mission(over[0]), &over),
    );
}

#[test]
fn keep_in_fires_when_the_side_of_the_rover_would_leave() {
    let p = perseverance();
    let hw = p.footprint.half_width_m;
    let dem = flat();
    let mission = |pts: &[Pt]| {
        let mut m = route_mission(pts, &p);
        m.keep_in = Some(square(10.0, 10.0, 90.0));
        m
    };
    let under: [Pt; 2] = [(30.0, 10.0 + hw + 0.001), (80.0, 10.0 + hw + 0.001)];
    let over: [Pt; 2] = [(30.0, 10.0 + hw - 0.001), (80.0, 10.0 + hw - 0.001)];
    at_limit(
        "keep_in",
        &run(&dem, &[], &p, &mission(&under), &under),
        &run(&dem, &[], &p, &mission(&over), &over),
    );
    // Leaving it: negative margin at the far end.
    let out: [Pt; 2] = [(30.0, 50.0), (105.0, 50.0)];
    let v = run(&dem, &[], &p, &mission(&out), &out);
    assert!((v.violations[0].measured + 5.0).abs() < 1e-9, "{:?}", v.violations[0]);
}

#[test]
fn one_nodata_cell_under_the_footprint_is_unknown_terrain() {
    let p = perseverance();
    let hw = p.footprint.half_width_m;
    let mut dem = flat();
    dem.set(50, 59, f32::NAN); // centre (50.5, 60.5)
                               // East along y = 60.5 - d: the hole's centre is d across from the centre line.
    let under: [Pt; 2] = [(30.0, 60.5 - (hw + 0.001)), (80.0, 60.5 - (hw + 0.001))];
    let over: [Pt; 2] = [(30.0, 60.5 - (hw - 0.001)), (80.0, 60.5 - (hw - 0.001))];
    let (u, o) = (route(&dem, &p, &under), route(&dem, &p, &over));
    at_limit("valid_data", &u, &o);
    assert_eq!(o.violations[0].measured, 1.0);
    // Driving off the edge of the map.
    let off = route(&dem, &p, &[(100.0, 60.0), (125.0, 60.0)]);
    assert_eq!(failed(&off), vec!["valid_data"]);
}
