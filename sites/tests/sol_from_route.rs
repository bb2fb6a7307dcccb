//! Sols from real drives: every Gale drive longer than 15 m becomes a sol whose own driven
//! route passes the checker; drives in lon/lat or another projection are reprojected first.

use std::path::{Path, PathBuf};

use breadcrumb_sites::sol_from_route::{sol_from_route, write_sol, FromRouteOptions};
use breadcrumb_tools::checker::plan::load_routes;
use breadcrumb_tools::checker::{check_sol, Plan, Pt};
use breadcrumb_tools::cost::cost_grid_for_sol;
use breadcrumb_tools::geometry::polyline_length;
use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::{Dem, Sol};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo::{Contains, Point};

use crate::realdata;
use crate::support::assert_sound;

fn gale() -> PathBuf {
    realdata("gale-marias-pass")
}

fn rover() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml")
}

fn polygon(ring: &[[f64; 2]]) -> geo::Polygon<f64> {
    geo::Polygon::new(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>().into(), vec![])
}

#[test]
fn every_gale_drive_longer_than_15_m_is_a_sol_its_own_route_passes() {
    let drives = gale().join("drives.geojson");
    let (routes, _) = load_routes(&drives).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sols = dir.path().join("fixtures/sols");
    std::fs::create_dir_all(&sols).unwrap();
    let mut checked = Vec::new();
    for r in &routes {
        let length = polyline_length(&r.points);
        if length <= 15.0 {
            continue;
        }
        let sol_number = r.properties["sol"].as_u64().unwrap();
        let out = sols.join(format!("gale-{sol_number}.toml"));
        let opts = FromRouteOptions::new(gale(), &drives, sol_number, rover(), &out);
        let (sol, drive) = sol_from_route(&opts).unwrap();
        assert_eq!(drive.index, r.index);
        assert!(drive.reprojected_from.is_empty(), "drives.geojson is in the DEM's CRS");
        write_sol(&sol, &out, false).unwrap();

        let loaded = Sol::load(&out).unwrap();
        assert_eq!(loaded.sol, sol);
        assert_eq!(loaded.sol.id, format!("gale-marias-pass-sol-{sol_number}"));
        assert!(sol.bundle.is_relative() && sol.rover.is_relative());
        let same = |a: &Path, b: &Path| {
            std::fs::canonicalize(a).unwrap() == std::fs::canonicalize(b).unwrap()
        };
        assert!(same(&loaded.bundle_dir, &gale()), "{}", loaded.bundle_dir.display());
        assert!(same(&loaded.rover_path, &rover()));
        let first = r.points[0];
        let last = r.points[r.points.len() - 1];
        assert!((sol.start.x - first.0).abs() < 1e-3 && (sol.start.y - first.1).abs() < 1e-3);
        assert!((sol.goal.x - last.0).abs() < 1e-3 && (sol.goal.y - last.1).abs() < 1e-3);
        assert_eq!(sol.goal.tolerance_m, 2.0);
        assert_eq!(sol.drive_budget_m, ((1.5 * length).max(300.0) * 10.0).round() / 10.0);
        assert_eq!(sol.reference_route.len(), r.points.len());
        let keep_in = polygon(&sol.keep_in);
        assert!(sol.reference_route.iter().all(|p| keep_in.contains(&Point::new(p[0], p[1]))));
        assert!(sol.notes.contains(&format!("sol {sol_number}")), "{}", sol.notes);

        let plan = Plan::from_points(
            &sol.reference_route.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>(),
        );
        let verdict = check_sol(&loaded, &plan).unwrap();
        assert!(
            verdict.pass,
            "sol {sol_number}: its own driven route fails {:?}",
            verdict.failed_rules()
        );
        checked.push(sol_number);
    }
    assert_eq!(checked.len(), 12, "the 12 Gale drives longer than 15 m: {checked:?}");
}

/// The Gale drives written as a new GeoJSON in `crs` (None: lon/lat degrees without a `crs`
/// member, as RFC 7946 and MMGIS traverses have them).
fn drives_in(crs: Option<&str>, path: &Path) -> Vec<Vec<[f64; 2]>> {
    let dem = Dem::open(gale().join("dem.tif")).unwrap();
    let mut from = SpatialRef::from_wkt(dem.crs_wkt()).unwrap();
    from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut to = match crs {
        Some(def) => SpatialRef::from_proj4(def).unwrap(),
        None => from.geog_cs().unwrap(),
    };
    to.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let ct = CoordTransform::new(&from, &to).unwrap();
    let (routes, _) = load_routes(&gale().join("drives.geojson")).unwrap();
    let mut originals = Vec::new();
    let features: Vec<serde_json::Value> = routes
        .iter()
        .map(|r| {
            let mut xs: Vec<f64> = r.points.iter().map(|p| p.0).collect();
            let mut ys: Vec<f64> = r.points.iter().map(|p| p.1).collect();
            ct.transform_coords(&mut xs, &mut ys, &mut []).unwrap();
            originals.push(r.points.iter().map(|p| [p.0, p.1]).collect());
            let coords: Vec<[f64; 2]> = xs.into_iter().zip(ys).map(|(x, y)| [x, y]).collect();
            serde_json::json!({"type": "Feature", "properties": r.properties,
                               "geometry": {"type": "LineString", "coordinates": coords}})
        })
        .collect();
    let mut fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    if let Some(def) = crs {
        fc["crs"] = serde_json::json!({"type": "name", "properties": {"name": def}});
    }
    std::fs::write(path, serde_json::to_string(&fc).unwrap()).unwrap();
    originals
}

#[test]
fn drives_in_lon_lat_or_another_projection_are_reprojected_onto_the_dem() {
    let dir = tempfile::tempdir().unwrap();
    for (crs, file) in [
        (None, "lonlat.geojson"),
        (Some("+proj=sinu +lon_0=130 +R=3396190 +units=m +no_defs"), "sinu.geojson"),
    ] {
        let path = dir.path().join(file);
        let originals = drives_in(crs, &path);
        let out = dir.path().join(format!("{file}.toml"));
        let (sol, drive) =
            sol_from_route(&FromRouteOptions::new(gale(), &path, 967, rover(), &out)).unwrap();
        assert!(!drive.reprojected_from.is_empty(), "{file}: not reprojected");
        assert!(sol.notes.contains("reprojected from"), "{}", sol.notes);
        let want = &originals[drive.index];
        assert_eq!(sol.reference_route.len(), want.len());
        for (p, q) in sol.reference_route.iter().zip(want) {
            let off = (p[0] - q[0]).hypot(p[1] - q[1]);
            assert!(off < 0.01, "{file}: vertex {p:?} is {off} m from {q:?}");
        }
    }
}

#[test]
fn bad_selections_and_drives_off_the_dem_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let drives = gale().join("drives.geojson");
    let out = dir.path().join("s.toml");
    let err = |opts: &FromRouteOptions| sol_from_route(opts).unwrap_err().to_string();

    let e = err(&FromRouteOptions::new(gale(), &drives, 5, rover(), &out));
    assert!(e.contains("no drive with sol 5") && e.contains("962, 963"), "{e}");

    // Without `sol` properties, N is the feature index.
    let bare = dir.path().join("bare.geojson");
    std::fs::write(
        &bare,
        r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
            "geometry": {"type": "LineString",
                         "coordinates": [[8142600, -276600], [8142620, -276610]]}}]}"#,
    )
    .unwrap();
    let (sol, _) = sol_from_route(&FromRouteOptions::new(gale(), &bare, 0, rover(), &out)).unwrap();
    assert_eq!(sol.id, "gale-marias-pass-drive-0");
    assert_eq!(sol.start.heading_deg, 116.57, "east-south-east");
    let e = err(&FromRouteOptions::new(gale(), &bare, 1, rover(), &out));
    assert!(e.contains("no LineString feature at index 1"), "{e}");

    let far = dir.path().join("far.geojson");
    std::fs::write(&far, std::fs::read_to_string(&bare).unwrap().replace("81426", "81526"))
        .unwrap();
    let e = err(&FromRouteOptions::new(gale(), &far, 0, rover(), &out));
    assert!(e.contains("no valid DEM data"), "{e}");

    let e =
        err(&FromRouteOptions::new(gale(), &drives, 967, rover(), dir.path().join("no/s.toml")));
    assert!(e.contains("directory does not exist"), "{e}");

    let e = err(&FromRouteOptions {
        corridor_m: -1.0,
        ..FromRouteOptions::new(gale(), &drives, 967, rover(), &out)
    });
    assert!(e.contains("corridor must be a positive number"), "{e}");

    let (sol, _) =
        sol_from_route(&FromRouteOptions::new(gale(), &drives, 967, rover(), &out)).unwrap();
    write_sol(&sol, &out, false).unwrap();
    let e = write_sol(&sol, &out, false).unwrap_err().to_string();
    assert!(e.contains("already exists; pass --force"), "{e}");
    write_sol(&sol, &out, true).unwrap();
}

/// The planner on real terrain: a checker-passing route between the start and end of every
/// real Curiosity drive longer than 15 m on the Gale HiRISE DEM, no costlier under the cost
/// model than the drive the rover actually made (the planner's cost is the optimum).
#[test]
fn the_planner_routes_every_real_gale_drive_no_costlier_than_the_rover_drove() {
    let gale = gale();
    let drives = gale.join("drives.geojson");
    let rover = rover();
    let (routes, _) = load_routes(&drives).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut planned = 0;
    for r in &routes {
        if polyline_length(&r.points) <= 15.0 {
            continue;
        }
        let n = r.properties["sol"].as_u64().unwrap();
        let out = dir.path().join(format!("gale-{n}.toml"));
        let (sol, _) =
            sol_from_route(&FromRouteOptions::new(gale.clone(), &drives, n, rover.clone(), &out))
                .unwrap();
        write_sol(&sol, &out, false).unwrap();
        let l = Sol::load(&out).unwrap();
        let route = match plan_sol(&l, &PlannerOptions::default()).unwrap() {
            PlanOutcome::Route(r) => r,
            PlanOutcome::NoSafeRoute { reason, .. } => panic!("sol {n}: refused: {reason}"),
        };
        assert_sound(&l, &route);
        let grid = cost_grid_for_sol(&l).unwrap();
        let real: Vec<Pt> = l.sol.reference_route.iter().map(|p| (p[0], p[1])).collect();
        let real_cost = grid.path_cost(&real).unwrap().total_cost;
        assert!(
            route.cost <= real_cost + 1e-6,
            "sol {n}: planned cost {} above the real drive's {real_cost}",
            route.cost
        );
        planned += 1;
    }
    assert_eq!(planned, 12);
}
