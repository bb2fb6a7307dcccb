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

/// The cost grid does not measure the cells its keep-in blocks (a campaign's corridor is about
/// half its bounding box): they are blocked on `keep_in` and claim no terrain constraint, and
/// every other cell is exactly what the grid without the keep-in says.
#[test]
fn cells_the_keep_in_blocks_are_not_measured_and_the_rest_is_unchanged() {
    let n = 120;
    let dem = synthetic_dem(n, 15);
    let profile = rover();
    let free = mission((10.0, 10.0), (110.0, 110.0), n);
    // A diamond whose bounding box is the whole map, so both grids cover the same cells.
    let diamond = Polygon::new(
        LineString::from(vec![(60.0, 0.0), (120.0, 60.0), (60.0, 120.0), (0.0, 60.0), (60.0, 0.0)]),
        vec![],
    );
    let fenced = Mission { keep_in: Some(diamond), ..free.clone() };
    let a = build_cost_grid(&dem, &[], &free, &profile).unwrap();
    let b = build_cost_grid(&dem, &[], &fenced, &profile).unwrap();
    assert_eq!((a.width(), a.len()), (b.width(), b.len()));
    let terrain =
        [Constraint::Tilt, Constraint::Step, Constraint::Clearance, Constraint::ValidData];
    let (mut outside, mut inside) = (0, 0);
    for i in 0..b.len() {
        let (ta, tb) = (a.terrain()[i], b.terrain()[i]);
        if b.blocked()[i].contains(Constraint::KeepIn) {
            outside += 1;
            assert!(terrain.iter().all(|&c| !b.blocked()[i].contains(c)), "cell {i}");
            assert!(tb.tilt_deg.is_nan() && tb.belly_m.is_nan() && tb.step_m.is_nan());
        } else {
            inside += 1;
            assert_eq!(a.blocked()[i], b.blocked()[i], "cell {i}");
            assert_eq!(a.costs()[i].to_bits(), b.costs()[i].to_bits(), "cell {i}");
            assert_eq!(CellTerrainBits::of(ta), CellTerrainBits::of(tb), "cell {i}");
        }
    }
    assert!(outside > b.len() / 4 && inside > b.len() / 4, "{outside} outside, {inside} inside");
}

/// A cell's measures as bits (NaN equals NaN), the keep-in distance left out.
#[derive(Debug, PartialEq)]
struct CellTerrainBits([u32; 6], [u8; 3]);

impl CellTerrainBits {
    fn of(t: breadcrumb_tools::cost::CellTerrain) -> Self {
        CellTerrainBits(
            [t.tilt_deg, t.step_m, t.step_near_m, t.belly_m, t.hazard_m, t.keep_out_m]
                .map(f32::to_bits),
            [t.tilt_axes, t.step_axes, t.belly_axes],
        )
    }
}
