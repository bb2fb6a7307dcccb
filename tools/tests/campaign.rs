//! The campaign's deterministic pieces on terrain made in the test: the strategic route on the
//! coarse grid (through the gap of a wall, refused when the wall is whole, off-map ends named),
//! the model's strategic corridor checked on the same grid (through the gap it passes, a
//! waypoint in the wall or off the map is named, a walled-off leg is named), and the safe-stop
//! judge (tilt, hazards, unknown ground) with its nearest-first search.

use std::path::Path;

use breadcrumb_tools::campaign::overview::render_area;
use breadcrumb_tools::campaign::waypoints::{parse_args, spec, TOOL_NAME};
use breadcrumb_tools::campaign::{
    check_corridor, coarse_route, CoarseGrid, CorridorCheck, SafeStopRules, StopJudge,
};
use breadcrumb_tools::checker::blocking_hazards;
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{Bundle, GeoTransform, Grid, RoverProfile};
use breadcrumb_tools::ToolsError;

fn profile() -> RoverProfile {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).unwrap()
}

/// A 600 x 600 m bundle of 1 m cells, origin (0, 0) south-west: flat, with a 6 m high ridge
/// (45° flanks) along y = 300 whose gap, when `gap` is set, spans x 440..480; and a sand
/// patch (a mapped blocking hazard) at x 100..140, y 100..140.
fn bundle(dir: &Path, gap: bool) -> Bundle {
    let n = 600;
    let t = GeoTransform { x0: 0.0, y0: n as f64, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(n, n, t, |x, y| {
        let d = (y - 300.0).abs();
        let ridge = (6.0 - d).max(0.0);
        if gap && (440.0..480.0).contains(&x) {
            0.0
        } else {
            ridge as f32
        }
    });
    write_f32_geotiff(&dir.join("dem.tif"), &g, "", -32767.0).unwrap();
    std::fs::write(dir.join("bundle.toml"), "name = \"wall\"\n").unwrap();
    std::fs::write(
        dir.join("hazards.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"class":"sand_ripple"},
            "geometry":{"type":"Polygon","coordinates":[[[100,100],[140,100],[140,140],[100,140],[100,100]]]}}]}"#,
    )
    .unwrap();
    Bundle::open(dir).unwrap()
}

#[test]
fn the_strategic_route_finds_the_gap_and_a_whole_wall_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle(dir.path(), true);
    let p = profile();
    let r = coarse_route(&b, &p, (60.0, 60.0), (60.0, 540.0), 5.0, 8.0, &[]).unwrap();
    assert_eq!(r.route.first(), Some(&(60.0, 60.0)));
    assert_eq!(r.route.last(), Some(&(60.0, 540.0)));
    // It crosses y = 300 only in the gap.
    let crossing = r.route.windows(2).find(|w| (w[0].1 - 300.0) * (w[1].1 - 300.0) <= 0.0).unwrap();
    let x = 0.5 * (crossing[0].0 + crossing[1].0);
    assert!((436.0..484.0).contains(&x), "crosses the ridge at x {x}: {:?}", r.route);
    assert!(r.length_m > 2.0 * 400f64.hypot(240.0), "{}", r.length_m);
    // The sand patch is kept out of: no route vertex within it.
    assert!(
        r.route.iter().all(|q| !(96.0..144.0).contains(&q.0) || !(96.0..144.0).contains(&q.1)),
        "{:?}",
        r.route
    );
    // The same ends avoiding the gap: no route, and the refusal names the tilt wall.
    let e = coarse_route(&b, &p, (60.0, 60.0), (60.0, 540.0), 5.0, 8.0, &[((460.0, 300.0), 30.0)])
        .unwrap_err();
    assert!(matches!(e, ToolsError::NoStrategicRoute { .. }), "{e}");
    let dir2 = tempfile::tempdir().unwrap();
    let whole = bundle(dir2.path(), false);
    let e = coarse_route(&whole, &p, (60.0, 60.0), (60.0, 540.0), 5.0, 8.0, &[]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ToolsError::NoStrategicRoute { .. }) && msg.contains("tilt"), "{msg}");
    let e = coarse_route(&b, &p, (60.0, 60.0), (60.0, 900.0), 5.0, 8.0, &[]).unwrap_err();
    assert!(matches!(e, ToolsError::OffMap { .. }) && e.to_string().contains("goal"), "{e}");
}

#[test]
fn safe_stops_need_low_tilt_known_ground_and_room_from_hazards() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle(dir.path(), true);
    let p = profile();
    let hazards = blocking_hazards(&b.hazards);
    let judge = StopJudge {
        source: &b.dem,
        hazards: &hazards,
        profile: &p,
        rules: SafeStopRules::for_profile(&p),
    };
    let flat = judge.judge((300.5, 200.5)).unwrap();
    assert!(flat.safe, "{flat:?}");
    assert!(flat.max_tilt_deg.unwrap() < 0.1);
    // On the ridge's 45° flank.
    let steep = judge.judge((300.5, 297.5)).unwrap();
    assert!(!steep.safe && steep.failures.iter().any(|f| f.contains("tilts")), "{steep:?}");
    // Beside the sand patch (1 m from its edge).
    let sand = judge.judge((141.0, 120.0)).unwrap();
    assert!(!sand.safe && sand.failures.iter().any(|f| f.contains("hazard")), "{sand:?}");
    // Half off the map: unknown ground.
    let edge = judge.judge((0.5, 200.0)).unwrap();
    assert!(!edge.safe && edge.max_tilt_deg.is_none(), "{edge:?}");
    // The nearest safe candidate to a point on the flank lies off the flank, the same each time,
    // and the `allowed` filter is honoured.
    let a = judge.find_near((300.5, 298.5), 20.0, 2.0, |_| true).unwrap().unwrap();
    let again = judge.find_near((300.5, 298.5), 20.0, 2.0, |_| true).unwrap().unwrap();
    assert_eq!(a, again);
    assert!(a.safe && (a.at.1 - 300.0).abs() > 6.0, "{a:?}");
    let south = judge.find_near((300.5, 298.5), 20.0, 2.0, |q| q.1 < 300.0).unwrap().unwrap();
    assert!(south.at.1 < 294.0, "{south:?}");
    assert!(judge.find_near((300.5, 300.5), 2.0, 1.0, |_| true).unwrap().is_none());
}

#[test]
fn a_models_corridor_is_routed_through_its_waypoints_or_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle(dir.path(), true);
    let p = profile();
    let grid = CoarseGrid::build(&b, &p, 8.0).unwrap();
    let (s, g) = ((60.0, 60.0), (60.0, 540.0));
    // The grid built once answers the coarse planner as `coarse_route` does.
    let planned = grid.route(s, g, 5.0).unwrap();
    assert_eq!(planned.route, coarse_route(&b, &p, s, g, 5.0, 8.0, &[]).unwrap().route);
    // Through the gap: feasible, through both waypoints, crossing y = 300 only in the gap.
    let through = [(460.0, 250.0), (460.0, 350.0)];
    let CorridorCheck::Feasible(r) = check_corridor(&grid, s, &through, g, 5.0).unwrap() else {
        panic!("the corridor through the gap is refused")
    };
    assert_eq!(r.route.first(), Some(&s));
    assert_eq!(r.route.last(), Some(&g));
    for w in through {
        assert!(r.route.contains(&w), "{w:?} not on {:?}", r.route);
    }
    for w in r.route.windows(2).filter(|w| (w[0].1 - 300.0) * (w[1].1 - 300.0) <= 0.0) {
        let x = 0.5 * (w[0].0 + w[1].0);
        assert!((436.0..484.0).contains(&x), "crosses the ridge at x {x}");
    }
    assert!((r.length_m - planned.length_m).abs() < 0.15 * planned.length_m, "{}", r.length_m);
    // Deterministic: the same answer again.
    let CorridorCheck::Feasible(again) = check_corridor(&grid, s, &through, g, 5.0).unwrap() else {
        panic!("refused the second time")
    };
    assert_eq!((again.route, again.cost), (r.route.clone(), r.cost));
    // A waypoint on the ridge is refused by number and place; one off the map too.
    let bad = [(200.0, 300.0), (460.0, 350.0), (700.0, 450.0)];
    let CorridorCheck::Refused(v) = check_corridor(&grid, s, &bad, g, 5.0).unwrap() else {
        panic!("a waypoint on the ridge passed")
    };
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!((v[0].rule.as_str(), v[0].waypoint), ("blocked_waypoint", Some(1)));
    assert!(v[0].walls.contains(&"tilt".to_owned()), "{v:?}");
    assert!(v[0].message.contains("waypoint 1 at (200.0, 300.0)"), "{}", v[0].message);
    assert_eq!((v[1].rule.as_str(), v[1].waypoint), ("off_map", Some(3)));
    let answer = CorridorCheck::Refused(v).to_json();
    assert_eq!(answer["pass"], false);
    assert_eq!(answer["violations"][0]["waypoint"], 1);
    // With the ridge whole, the leg across it is walled off and named.
    let dir2 = tempfile::tempdir().unwrap();
    let whole = CoarseGrid::build(&bundle(dir2.path(), false), &p, 8.0).unwrap();
    let CorridorCheck::Refused(v) = check_corridor(&whole, s, &[(60.0, 250.0)], g, 5.0).unwrap()
    else {
        panic!("a corridor across a whole ridge passed")
    };
    assert_eq!((v[0].rule.as_str(), v[0].leg), ("walled_off", Some(2)), "{v:?}");
    assert!(v[0].message.contains("from waypoint 1") && v[0].message.contains("the goal"), "{v:?}");
}

#[test]
fn the_corridor_tool_has_a_schema_and_answers_bad_arguments_with_the_field() {
    let t = spec();
    assert_eq!(t.name, TOOL_NAME);
    assert!(t.description.contains("corridor"), "{}", t.description);
    let items = &t.input_schema["properties"]["waypoints"];
    assert_eq!(items["type"], "array");
    assert_eq!(items["items"]["required"], serde_json::json!(["x_m", "y_m"]));
    assert_eq!(t.input_schema["required"], serde_json::json!(["waypoints"]));
    let ok = parse_args(&serde_json::json!({"waypoints": [{"x_m": 1.0, "y_m": 2.0}]})).unwrap();
    assert_eq!(ok.waypoints[0].y_m, 2.0);
    let text = serde_json::json!("{\"waypoints\": [{\"x_m\": 1, \"y_m\": 2}]}");
    assert_eq!(parse_args(&text).unwrap().waypoints.len(), 1);
    let e = parse_args(&serde_json::json!({"waypoints": [{"x": 1.0}]})).unwrap_err();
    assert_eq!(e["error"], "invalid_arguments");
    assert!(e["field"].as_str().unwrap().starts_with("waypoints[0]"), "{e}");
    let e = parse_args(&serde_json::json!({"waypoints": []})).unwrap_err();
    assert_eq!(e["field"], "waypoints");
}

#[test]
fn the_area_a_model_is_shown_holds_the_start_and_the_goal_on_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle(dir.path(), true);
    let grid = CoarseGrid::build(&b, &profile(), 8.0).unwrap();
    // 200 m apart: 200 m to spare on each side would leave the 600 m map, so the whole map.
    let (img, f) = render_area(&b, (200.0, 250.0), (300.0, 450.0), Some(grid.grid()), 256).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    assert_eq!((f.min_x_m, f.min_y_m, f.max_x_m, f.max_y_m), (0.0, 0.0, 600.0, 600.0));
    // Close together: the square around them, with 200 m to spare, kept on the map.
    let (_, f) = render_area(&b, (60.0, 60.0), (100.0, 80.0), None, 256).unwrap();
    assert_eq!((f.min_x_m, f.min_y_m, f.max_x_m - f.min_x_m), (0.0, 0.0, 440.0));
    // The blocked cells (the sand patch and its buffer, the ridge) are shaded red; open ground
    // is not.
    let (img, f) = render_area(&b, (60.0, 60.0), (60.0, 540.0), Some(grid.grid()), 600).unwrap();
    let px = |x: f64, y: f64| {
        let p = f.to_px(x, y);
        *img.get_pixel(p.0 as u32, p.1 as u32)
    };
    let (sand, ridge, open) = (px(121.0, 121.0), px(311.0, 301.0), px(311.0, 211.0));
    assert!(sand[0] > sand[1] + 60 && ridge[0] > ridge[1] + 25, "{sand:?} {ridge:?}");
    assert_eq!((open[0], open[1]), (open[1], open[2]), "{open:?}");
}
