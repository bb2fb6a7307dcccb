//! The strategic planner on a synthetic site with the real cost model (heading masks,
//! footprint inflation): near the full-resolution optimum, only on cells the full-resolution
//! model allows, and clear refusals. The 2 km sites are in the planner bench (the test
//! profile keeps these to about 0.25 km²).

use std::path::PathBuf;

use breadcrumb_tools::checker::{Mission, Pt};
use breadcrumb_tools::cost::{build_cost_grid, Constraint, Constraints, MOVES};
use breadcrumb_tools::planner::{
    aggregate, astar, plan_strategic, plan_strategic_on_grids, CoarseCost, StrategicOptions, Target,
};
use breadcrumb_tools::terrain::RoverProfile;
use breadcrumb_tools::ToolsError;
use geo::{LineString, Polygon};

use super::synthetic::{feasible_near, synthetic_dem};

fn rover() -> RoverProfile {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).unwrap()
}

fn mission(start: Pt, goal: Pt, n: usize) -> Mission {
    Mission {
        label: "strategic".into(),
        start,
        start_heading_deg: None,
        goal,
        goal_tolerance_m: 1.0,
        keep_in: None,
        keep_out: Vec::new(),
        drive_budget_m: 4.0 * n as f64,
    }
}

#[test]
fn refined_routes_are_within_5_percent_of_the_optimum_on_allowed_cells() {
    let n = 480;
    let dem = synthetic_dem(n, 15);
    let profile = rover();
    let m = mission((10.0, 10.0), (470.0, 470.0), n);
    let fine = build_cost_grid(&dem, &[], &m, &profile).unwrap();
    assert!(fine.has_axes());
    let blocked = fine.blocked().iter().filter(|b| !b.is_empty()).count();
    assert!(blocked > fine.len() / 50, "the site has obstacles ({blocked} blocked cells)");
    let coarse = aggregate(&fine, 8.0, CoarseCost::Mean).unwrap();
    let opts = StrategicOptions::default();
    let pairs = [
        ((10.0, 10.0), (470.0, 470.0)),
        ((470.0, 15.0), (12.0, 460.0)),
        ((240.0, 5.0), (250.0, 475.0)),
        ((5.0, 300.0), (475.0, 120.0)),
    ];
    for (a, b) in pairs {
        let (s, e) = (feasible_near(&fine, a, 40), feasible_near(&fine, b, 40));
        let r = plan_strategic_on_grids(&fine, &coarse, s, e, 1.0, &opts).unwrap();
        let start = fine.cell_at(s).unwrap();
        let best = astar(&fine, start, &Target::disc(&fine, e, 1.0), Constraints::NONE).unwrap();
        assert!(
            r.cost >= best.cost - 1e-6 && r.cost <= 1.05 * best.cost,
            "{s:?} -> {e:?}: strategic {:.1}, optimum {:.1}",
            r.cost,
            best.cost
        );
        assert!(r.stats.corridor_cells < fine.len() / 2, "{:?}", r.stats);
        // Every cell on feasible ground, every step a move the full-resolution graph allows,
        // and the route's cost re-added from those moves.
        let mut cost = 0.0;
        for w in r.cells.windows(2) {
            assert!(
                fine.passable(w[0], Constraints::NONE) && fine.passable(w[1], Constraints::NONE)
            );
            let ((c0, r0), (c1, r1)) = (fine.col_row(w[0]), fine.col_row(w[1]));
            let d = (c1 as i32 - c0 as i32, r1 as i32 - r0 as i32);
            let k = MOVES.iter().position(|m| (m.dc, m.dr) == d).expect("a move of the graph");
            cost += fine.move_cost(w[0], k, Constraints::NONE).expect("an allowed move");
        }
        assert!((cost - r.cost).abs() <= 1e-6 * r.cost, "{cost} vs {}", r.cost);
        let centres: Vec<Pt> = r.cells.iter().map(|&i| fine.centre(i)).collect();
        let pc = fine.path_cost(&centres).unwrap();
        assert!((pc.total_cost - r.cost).abs() <= 1e-6 * r.cost, "{} vs {}", pc.total_cost, r.cost);
    }
}

#[test]
fn a_goal_walled_off_or_off_the_map_is_refused_clearly() {
    let n = 320;
    let dem = synthetic_dem(n, 3);
    let profile = rover();
    let ring = |r: f64| -> LineString<f64> {
        (0..=48)
            .map(|k| {
                let a = std::f64::consts::TAU * f64::from(k) / 48.0;
                (200.0 + r * a.cos(), 200.0 + r * a.sin())
            })
            .collect()
    };
    let mut m = mission((20.0, 20.0), (200.0, 200.0), n);
    m.keep_out = vec![("moat".into(), Polygon::new(ring(70.0), vec![ring(40.0)]))];
    let e = plan_strategic(&dem, &[], &profile, &m, &StrategicOptions::default()).unwrap_err();
    let msg = e.to_string();
    match e {
        ToolsError::NoStrategicRoute { walls, .. } => {
            assert!(walls.contains(&Constraint::KeepOut), "{msg}");
        }
        other => panic!("{other}"),
    }
    assert!(msg.contains("at coarse scale") && msg.contains("keep-out"), "{msg}");

    let m = mission((20.0, 20.0), (200.0, 900.0), n);
    let e = plan_strategic(&dem, &[], &profile, &m, &StrategicOptions::default()).unwrap_err();
    assert!(matches!(e, ToolsError::OffMap { .. }), "{e}");
    assert!(e.to_string().starts_with("goal (200.0, 900.0) lies off the map"), "{e}");
}
