//! Calibration against the world: real Curiosity drives in Gale crater, planned by people and
//! driven safely, must pass with the Perseverance-like profile; routes across a steep real
//! HiRISE DTM must be refused on tilt.
//!
//! Findings (ROVER.md §2 limits, unchanged):
//! - All 22 Gale drives pass. Largest values seen over them: tilt 19.9° (sol 987, limit 25°),
//!   step 0.25 m (sol 991, limit 0.35 m), ground above the wheel plane 0.13 m (sol 1066, limit
//!   0.50 m); no no-data.
//! - The raw adjacent-cell difference (`Roughness::step_m`) would have rejected drives on
//!   slope alone: on a 1 m DEM every smooth slope steeper than ~19° (axis) or ~14° (diagonal)
//!   exceeds 0.35 m per cell. The step rule therefore takes the local slope out
//!   (`walk::pair_step`), which leaves slope to the tilt rule; see the printed comparison.

use breadcrumb_tools::analysis::footprint::Footprint;
use breadcrumb_tools::checker::plan::load_routes;
use breadcrumb_tools::checker::{Checker, Mission, Pt};
use breadcrumb_tools::terrain::{Bundle, Dem, Grid};

use super::common::perseverance;
use crate::realdata;

/// The largest raw adjacent-cell difference and the largest adjacent difference of residuals
/// from the footprint plane, sampling poses every 0.1 m along a route.
fn naive_steps(g: &Grid, pts: &[Pt]) -> (f64, f64) {
    let (mut raw, mut resid) = (0.0f64, 0.0f64);
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if len == 0.0 {
            continue;
        }
        let h = (b.0 - a.0).atan2(b.1 - a.1).to_degrees();
        let n = (len / 0.1).ceil() as usize;
        for k in 0..=n {
            let t = k as f64 / n as f64;
            let fp =
                Footprint::new(a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1), h, 1.5, 1.35).unwrap();
            let Some(cells) = fp.cells(g) else { continue };
            let Some(plane) = cells.plane() else { continue };
            raw = raw.max(cells.max_step());
            let s = cells.samples();
            for (i, p) in s.iter().enumerate() {
                for q in &s[i + 1..] {
                    let (de, dn) = (q.east_m - p.east_m, q.north_m - p.north_m);
                    if de.abs() < 1.5 && dn.abs() < 1.5 {
                        let rp = p.z - plane.at(p.east_m, p.north_m);
                        let rq = q.z - plane.at(q.east_m, q.north_m);
                        resid = resid.max((rp - rq).abs());
                    }
                }
            }
        }
    }
    (raw, resid)
}

#[test]
fn all_22_gale_drives_pass_with_the_perseverance_profile() {
    let dir = realdata("gale-marias-pass");
    let bundle = Bundle::open(&dir).unwrap();
    let grid = bundle.dem.read_all().unwrap();
    let profile = perseverance();
    let (routes, skipped) = load_routes(&dir.join("drives.geojson")).unwrap();
    assert_eq!((routes.len(), skipped), (22, 0));
    let checker = Checker::new(&bundle.dem, &bundle.hazards, &profile);
    let mut failed = Vec::new();
    let (mut tilt, mut step, mut belly, mut raw_max, mut raw_rejects) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0);
    println!(
        "Gale drives (limits: tilt {}°, step {} m, belly {} m)",
        profile.limits.max_tilt_deg, profile.limits.max_step_m, profile.limits.max_belly_obstacle_m
    );
    println!("     route  length  wpts    tilt   step  belly  poses | raw step  resid step");
    for r in &routes {
        let mission = Mission::for_route(&r.points, &profile);
        let v = checker.check(&mission, &r.points).unwrap();
        let s = &v.summary;
        let (raw, resid) = naive_steps(&grid, &r.points);
        println!(
            "{:>10} {:6.1} m {:4} {:6.2}° {:.3}  {:.3} {:6} | {:.3} m   {:.3} m  {}",
            r.label(),
            s.length_m,
            s.waypoints,
            s.max_tilt_deg.unwrap(),
            s.max_step_m.unwrap(),
            s.max_belly_obstacle_m.unwrap(),
            s.poses_evaluated,
            raw,
            resid,
            if v.pass { "pass".to_owned() } else { format!("FAIL {:?}", v.failed_rules()) }
        );
        tilt = tilt.max(s.max_tilt_deg.unwrap());
        step = step.max(s.max_step_m.unwrap());
        belly = belly.max(s.max_belly_obstacle_m.unwrap());
        raw_max = raw_max.max(raw);
        raw_rejects += usize::from(raw > profile.limits.max_step_m);
        if !v.pass {
            failed.push((r.label(), v.violations.clone()));
        }
    }
    println!(
        "max over the 22 drives: tilt {tilt:.2}°, step {step:.3} m, belly {belly:.3} m; the raw \
         adjacent difference reaches {raw_max:.3} m and would reject {raw_rejects} drives"
    );
    assert!(failed.is_empty(), "real drives rejected: {failed:#?}");
    assert!(tilt > 15.0 && tilt < profile.limits.max_tilt_deg, "{tilt}");
}

#[test]
fn routes_across_the_steep_hirise_crop_are_refused_on_tilt() {
    let dem = Dem::open(realdata("hirise-steep-crop").join("dem.tif")).unwrap();
    let (xmin, ymin, xmax, ymax) = dem.extent();
    assert_eq!((xmin, ymin), (0.0, 0.0));
    assert!((xmax - 70.7).abs() < 1e-9 && (ymax - 121.2).abs() < 1e-9);
    let profile = perseverance();
    let checker = Checker::new(&dem, &[], &profile);
    let routes: [(&str, Vec<Pt>); 5] = [
        ("south to north, x = 35", vec![(35.0, 5.0), (35.0, 60.0), (35.0, 116.0)]),
        ("west to east, y = 30", vec![(5.0, 30.0), (65.0, 30.0)]),
        ("west to east, y = 90", vec![(5.0, 90.0), (65.0, 90.0)]),
        ("south-west to north-east", vec![(5.0, 5.0), (35.0, 60.0), (65.0, 116.0)]),
        ("north-west to south-east", vec![(5.0, 116.0), (35.0, 60.0), (65.0, 5.0)]),
    ];
    println!("steep HiRISE crop (limit {}°):", profile.limits.max_tilt_deg);
    for (name, pts) in routes {
        let v = checker.check(&Mission::for_route(&pts, &profile), &pts).unwrap();
        let worst = v.violations.iter().find(|x| x.rule == "tilt").expect("tilt violation");
        println!(
            "  {name:<26} max tilt {:5.1}° at ({:.1}, {:.1}), {} of {} segments over the limit; failed {:?}",
            v.summary.max_tilt_deg.unwrap(),
            worst.x,
            worst.y,
            v.rules.iter().find(|r| r.rule == "tilt").unwrap().violations,
            v.summary.segments,
            v.failed_rules()
        );
        assert!(!v.pass && v.failed_rules().contains(&"tilt"), "{name}: {}", v.to_json());
        assert!(v.summary.max_tilt_deg.unwrap() > profile.limits.max_tilt_deg);
    }
}
