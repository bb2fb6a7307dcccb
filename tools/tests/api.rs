//! The model-facing tool API: schemas, dispatch, structured errors, and tool answers checked
//! against analytic terrain and against the checker itself.

use std::path::Path;

use breadcrumb_tools::api::{names, specs, Effect, ToolCallError, Toolbox};
use breadcrumb_tools::checker::{check_sol, Plan};
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{GeoTransform, Grid, LoadedSol, Sol};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Writes a bundle with `dem` and a sol over it (start (20, 50), goal (80, 50), keep-in the
/// whole map) into `dir`, and loads the sol.
fn site(dir: &Path, dem: &Grid) -> LoadedSol {
    let bundle = dir.join("site");
    std::fs::create_dir_all(&bundle).unwrap();
    write_f32_geotiff(&bundle.join("dem.tif"), dem, "", -32768.0).unwrap();
    let rover = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    let sol = format!(
        r#"id = "api-test"
bundle = "site"
rover = "{}"
drive_budget_m = 300.0
keep_in = [[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]]
keep_out = [{{ name = "box", polygon = [[45.0, 70.0], [55.0, 70.0], [55.0, 80.0], [45.0, 80.0]] }}]
[start]
x = 20.0
y = 50.0
heading_deg = 90.0
[goal]
x = 80.0
y = 50.0
tolerance_m = 2.0
"#,
        rover.display()
    );
    let path = dir.join("sol.toml");
    std::fs::write(&path, sol).unwrap();
    Sol::load(&path).unwrap()
}

/// 100 x 100 m at 1 m, elevation `f(x, y)`.
fn dem(f: impl Fn(f64, f64) -> f64) -> Grid {
    let t = GeoTransform { x0: 0.0, y0: 100.0, dx: 1.0, dy: -1.0 };
    Grid::from_fn(100, 100, t, |x, y| f(x, y) as f32)
}

fn plane(deg: f64) -> Grid {
    let g = deg.to_radians().tan();
    dem(move |_, y| g * y)
}

fn toolbox(dir: &Path, grid: &Grid) -> Toolbox {
    Toolbox::open(&site(dir, grid)).unwrap()
}

#[test]
fn every_tool_has_a_described_closed_schema_with_units_in_its_names() {
    let all = specs();
    assert_eq!(
        names(),
        [
            "view_tile",
            "slope_query",
            "hazard_lookup",
            "path_cost",
            "elevation_profile",
            "mark_hazards",
            "check_route",
            "submit_route"
        ]
    );
    for s in &all {
        assert!(s.description.len() > 80, "{}: description too thin", s.name);
        let schema = &s.input_schema;
        assert_eq!(schema["type"], "object", "{}", s.name);
        assert_eq!(schema["additionalProperties"], false, "{}", s.name);
        assert!(schema.get("$schema").is_none() && schema.get("$defs").is_none(), "{}", s.name);
        let props = schema["properties"].as_object().unwrap();
        for (field, p) in props {
            assert!(p.get("description").is_some(), "{}.{field} has no description", s.name);
            let numeric = p["type"] == "number"
                || p["type"].as_array().is_some_and(|t| t.contains(&json!("number")));
            assert!(
                !numeric || field.ends_with("_m") || field.ends_with("_deg"),
                "{}.{field}: a number without its unit in its name",
                s.name
            );
        }
    }
}

#[test]
fn slope_query_measures_the_tilt_of_a_plane_as_the_checker_does() {
    let dir = tempfile::tempdir().unwrap();
    let tb = toolbox(dir.path(), &plane(12.0));
    let out = tb
        .call("slope_query", &json!({"x_m": 30.0, "y_m": 40.0, "to_x_m": 60.0, "to_y_m": 40.0}))
        .unwrap();
    let r = out.result;
    assert_eq!(r["kind"], "segment");
    assert!((r["max_tilt"]["value"].as_f64().unwrap() - 12.0).abs() < 0.01, "{r}");
    assert!((r["mean_tilt_deg"].as_f64().unwrap() - 12.0).abs() < 0.01, "{r}");
    assert!((r["slope_at_start_deg"].as_f64().unwrap() - 12.0).abs() < 0.01, "{r}");
    assert!(r["max_step"]["value"].as_f64().unwrap() < 1e-3, "{r}");
    assert_eq!(r["exceeds_limits"], false);
    assert_eq!(r["length_m"], 30.0);
    // Over the limit on a steeper plane.
    let steep = toolbox(tempfile::tempdir().unwrap().path(), &plane(27.0));
    let r = steep.call("slope_query", &json!({"x_m": 50.0, "y_m": 50.0})).unwrap().result;
    assert_eq!(r["kind"], "point");
    assert!((r["max_tilt"]["value"].as_f64().unwrap() - 27.0).abs() < 0.01, "{r}");
    assert_eq!(r["exceeds_limits"], true);
}

#[test]
fn hazard_lookup_finds_a_rock_the_dem_shows_and_the_keep_out_zone() {
    let dir = tempfile::tempdir().unwrap();
    // A 0.5 m rock (one cell) at (40.5, 60.5) on flat ground.
    let tb = toolbox(dir.path(), &dem(|x, y| if x == 40.5 && y == 60.5 { 0.5 } else { 0.0 }));
    let r = tb
        .call("hazard_lookup", &json!({"x_m": 30.0, "y_m": 60.0, "to_x_m": 50.0, "to_y_m": 60.0}))
        .unwrap()
        .result;
    let terrain = r["terrain"].as_array().unwrap();
    assert_eq!(r["terrain_total"], 1, "{r}");
    assert_eq!(terrain[0]["kind"], "step");
    assert_eq!((terrain[0]["x_m"].as_f64(), terrain[0]["y_m"].as_f64()), (Some(40.5), Some(60.5)));
    assert!((terrain[0]["value"].as_f64().unwrap() - 0.5).abs() < 1e-6);
    let ko = r["keep_out"].as_array().unwrap();
    assert_eq!(ko.len(), 1);
    assert_eq!(ko[0]["name"], "box");
    assert!((ko[0]["distance_m"].as_f64().unwrap() - 10.0).abs() < 1e-9, "{r}");
    assert_eq!(r["buffer_m"], 1.85);
}

#[test]
fn elevation_profile_follows_a_plane() {
    let dir = tempfile::tempdir().unwrap();
    let tb = toolbox(dir.path(), &plane(10.0));
    let r = tb
        .call(
            "elevation_profile",
            &json!({"waypoints": [{"x_m": 50.0, "y_m": 20.0}, {"x_m": 50.0, "y_m": 80.0}], "step_m": 5.0}),
        )
        .unwrap()
        .result;
    let samples = r["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 13);
    let rise = 60.0 * 10f64.to_radians().tan();
    assert!((r["total_climb_m"].as_f64().unwrap() - rise).abs() < 0.02, "{r}");
    assert_eq!(r["total_descent_m"], 0.0);
    assert_eq!(samples[12]["distance_m"], 60.0);
}

#[test]
fn check_route_is_the_checker_and_submit_route_hands_back_the_waypoints() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
    let sol = Sol::load(&fixtures.join("plains-02-keepout.toml")).unwrap();
    let tb = Toolbox::open(&sol).unwrap();
    let (s, g) = (&sol.sol.start, &sol.sol.goal);
    let pts = [(s.x, s.y), (f64::midpoint(s.x, g.x), f64::midpoint(s.y, g.y)), (g.x, g.y)];
    let wp: Vec<Value> = pts.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect();
    let r = tb.call("check_route", &json!({ "waypoints": wp })).unwrap().result;
    let verdict = check_sol(&sol, &Plan::from_points(&pts)).unwrap();
    assert_eq!(r["pass"], verdict.pass);
    assert_eq!(r["violation_count"].as_u64().unwrap() as usize, verdict.violation_count());
    assert!(!verdict.pass, "the straight line crosses the keep-out");
    assert!(r["violations"].as_array().unwrap().iter().any(|v| v["rule"] == "keep_out"));
    let out = tb.call("submit_route", &json!({ "waypoints": wp, "rationale": "test" })).unwrap();
    assert_eq!(out.effect, Some(Effect::Submit { waypoints: pts.to_vec() }));
    assert_eq!(out.result["waypoints"], 3);
}

#[test]
fn every_checker_of_a_toolbox_shares_the_hazard_index_built_when_it_opened() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
    let sol = Sol::load(&fixtures.join("plains-02-keepout.toml")).unwrap();
    let tb = Toolbox::open(&sol).unwrap();
    let (a, b) = (tb.checker(), tb.checker());
    assert!(!a.hazard_index().zones().is_empty(), "the sol maps a keep-out");
    assert!(std::ptr::eq(a.hazard_index(), b.hazard_index()), "one index per sol, not per check");
}

#[test]
fn bad_calls_get_structured_errors_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let tb = toolbox(dir.path(), &dem(|x, y| if x > 70.0 && y > 70.0 { f64::NAN } else { 0.0 }));
    let err = |name: &str, args: Value| tb.call(name, &args).unwrap_err();
    assert!(matches!(err("fly", json!({})), ToolCallError::UnknownTool { .. }));
    match err(
        "check_route",
        json!({"waypoints": [{"x_m": 1.0, "y_m": 2.0}, {"x_m": "no", "y_m": 3.0}]}),
    ) {
        ToolCallError::InvalidArguments { field, .. } => {
            assert_eq!(field.as_deref(), Some("waypoints[1].x_m"));
        }
        e => panic!("{e}"),
    }
    match err("slope_query", json!({"x_m": 1.0, "y_m": 2.0, "colour": "red"})) {
        ToolCallError::InvalidArguments { message, .. } => assert!(message.contains("colour")),
        e => panic!("{e}"),
    }
    match err("slope_query", json!({"x_m": 1.0})) {
        ToolCallError::InvalidArguments { message, .. } => assert!(message.contains("y_m")),
        e => panic!("{e}"),
    }
    match err("slope_query", json!({"x_m": 500.0, "y_m": 50.0})) {
        ToolCallError::OutOfMap { extent, .. } => assert_eq!(extent, [0.0, 0.0, 100.0, 100.0]),
        e => panic!("{e}"),
    }
    assert!(matches!(
        err("slope_query", json!({"x_m": 90.0, "y_m": 90.0})),
        ToolCallError::NoData { .. }
    ));
    match err("hazard_lookup", json!({"x_m": 50.0, "y_m": 50.0, "radius_m": -3.0})) {
        ToolCallError::InvalidArguments { field, .. } => {
            assert_eq!(field.as_deref(), Some("radius_m"));
        }
        e => panic!("{e}"),
    }
    assert!(matches!(
        tb.call_str("check_route", "{\"waypoints\": [").unwrap_err(),
        ToolCallError::InvalidArguments { field: None, .. }
    ));
    // The JSON the model receives carries the kind, the fields and a sentence.
    let j = err("slope_query", json!({"x_m": 500.0, "y_m": 50.0})).to_json();
    assert_eq!(j["error"], "out_of_map");
    assert!(j["summary"].as_str().unwrap().contains("off the map"));
}

/// Arbitrary JSON values, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(|v| json!(v)),
        (-1e3..1e3f64).prop_map(|v| json!(v)),
        (0.0..100.0f64).prop_map(|v| json!(v)),
        "[a-z_]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("x_m".to_owned()),
                        Just("y_m".to_owned()),
                        Just("to_x_m".to_owned()),
                        Just("to_y_m".to_owned()),
                        Just("waypoints".to_owned()),
                        Just("radius_m".to_owned()),
                        Just("step_m".to_owned()),
                        "[a-z]{1,6}".prop_map(|s| s),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    /// Whatever a model sends, every tool answers with a result or a structured error.
    #[test]
    fn no_arguments_make_a_tool_panic(args in any_json(), tool in 0usize..7) {
        thread_local! {
            static TB: (tempfile::TempDir, Toolbox) = {
                let dir = tempfile::tempdir().unwrap();
                let tb = toolbox(dir.path(), &dem(|x, y| if x > 70.0 && y > 70.0 { f64::NAN } else { 0.02 * x }));
                (dir, tb)
            };
        }
        TB.with(|(_, tb)| {
            let name = names()[tool];
            let _ = tb.call(name, &args);
        });
    }
}

#[test]
fn path_cost_on_flat_ground_is_the_length_and_infinite_through_a_keep_out() {
    let dir = tempfile::tempdir().unwrap();
    let tb = toolbox(dir.path(), &dem(|_, _| 0.0));
    let wp =
        json!([{"x_m": 20.0, "y_m": 50.0}, {"x_m": 40.0, "y_m": 50.0}, {"x_m": 40.0, "y_m": 60.0}]);
    let r = tb.call("path_cost", &json!({ "waypoints": wp })).unwrap().result;
    assert_eq!(r["feasible"], true, "{r}");
    assert!((r["total_cost"].as_f64().unwrap() - 30.0).abs() < 1e-6, "{r}");
    assert_eq!(r["segments"].as_array().unwrap().len(), 2);
    // Through the keep-out box (45..55, 70..80): infeasible, total null, worst cell named.
    let wp = json!([{"x_m": 30.0, "y_m": 75.0}, {"x_m": 70.0, "y_m": 75.0}]);
    let r = tb.call("path_cost", &json!({ "waypoints": wp })).unwrap().result;
    assert_eq!(r["feasible"], false, "{r}");
    assert!(r["total_cost"].is_null(), "{r}");
    assert!(r["segments"][0]["worst"]["reason"].as_str().unwrap().contains("keep"), "{r}");
}

#[test]
fn view_tile_returns_a_png_and_its_exact_footprint() {
    let dir = tempfile::tempdir().unwrap();
    let tb = toolbox(dir.path(), &plane(5.0)).with_tile_px(512);
    let args = json!({"centre_x_m": 50.0, "centre_y_m": 40.0, "size_m": 30.0, "layer": "slope",
                      "route": [{"x_m": 40.0, "y_m": 40.0}, {"x_m": 60.0, "y_m": 45.0}]});
    let out = tb.call("view_tile", &args).unwrap();
    let r = &out.result;
    assert_eq!((r["min_x_m"].as_f64(), r["max_x_m"].as_f64()), (Some(35.0), Some(65.0)), "{r}");
    assert_eq!((r["min_y_m"].as_f64(), r["max_y_m"].as_f64()), (Some(25.0), Some(55.0)), "{r}");
    assert!((r["m_per_px"].as_f64().unwrap() - 30.0 / 512.0).abs() < 1e-12, "{r}");
    assert_eq!(out.images.len(), 1);
    assert_eq!((out.images[0].width, out.images[0].height), (512, 512));
    assert_eq!(&out.images[0].png[1..4], b"PNG");
    assert_eq!(&out.images[0].jpeg[..3], [0xFF, 0xD8, 0xFF], "and a JPEG for the model");
    let e = tb.call("view_tile", &json!({"centre_x_m": 50.0, "centre_y_m": 40.0, "size_m": 0.0}));
    assert!(
        matches!(e, Err(ToolCallError::InvalidArguments { field: Some(f), .. }) if f == "size_m")
    );
    // A 3 km view is allowed (coarse tiles read overviews); 6 km is past the limit.
    let wide = json!({"centre_x_m": 50.0, "centre_y_m": 40.0, "size_m": 3000.0, "layer": "slope"});
    let r = tb.call("view_tile", &wide).unwrap().result;
    assert_eq!(r["size_m"].as_f64(), Some(3000.0), "{r}");
    let e =
        tb.call("view_tile", &json!({"centre_x_m": 50.0, "centre_y_m": 40.0, "size_m": 6000.0}));
    assert!(
        matches!(e, Err(ToolCallError::InvalidArguments { field: Some(f), .. }) if f == "size_m")
    );
    let e = tb.call(
        "view_tile",
        &json!({"centre_x_m": 50.0, "centre_y_m": 40.0, "size_m": 9.0, "layer": "infrared"}),
    );
    assert!(matches!(e, Err(ToolCallError::InvalidArguments { .. })));
}
