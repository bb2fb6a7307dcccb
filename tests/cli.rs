//! The `breadcrumb` binary as a user meets it: help, errors on bad input, the site commands.

use std::path::Path;
use std::process::Output;

mod support;
use support::{breadcrumb, breadcrumb_into_closed_pipe, stderr, stdout};

/// Asserts the command failed with exit 2 and exactly one line on stderr mentioning `needle`.
fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "{needle:?} not in: {err}");
}

fn realdata(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name);
    assert!(dir.is_dir(), "real Mars data missing: {}", dir.display());
    dir.to_string_lossy().into_owned()
}

#[test]
fn every_command_explains_itself_with_an_example() {
    for cmd in [
        vec!["site", "synth"],
        vec!["site", "slope"],
        vec!["site", "info"],
        vec!["site", "classify"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let o = breadcrumb(&args);
        assert!(o.status.success(), "{cmd:?} --help failed");
        let text = stdout(&o);
        assert!(text.contains("Example: breadcrumb"), "{cmd:?} --help lacks an example:\n{text}");
    }
    let o = breadcrumb(&["--help"]);
    assert!(stdout(&o).contains("site"));
}

#[test]
fn bad_numbers_and_paths_give_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s").to_string_lossy().into_owned();
    // clap's own usage errors are several lines; ours must be one. Check values we parse.
    let o = breadcrumb(&["site", "synth", "--size", "5", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--size"), "{}", stderr(&o));
    let o = breadcrumb(&["site", "synth", "--res=-1", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("positive number of metres"), "{}", stderr(&o));
    let o = breadcrumb(&["site", "synth", "--preset", "lunar", &out]);
    assert_one_line_error(&o, "lunar");

    let o = breadcrumb(&["site", "slope", "/nonexistent/dem.tif", "-o", "x.tif"]);
    assert_one_line_error(&o, "/nonexistent/dem.tif: no such file");
    let o = breadcrumb(&["site", "info", "/nonexistent/site"]);
    assert_one_line_error(&o, "/nonexistent/site: no such file");
    let bogus = dir.path().join("bogus.tif");
    std::fs::write(&bogus, "not a raster").unwrap();
    let o = breadcrumb(&["site", "slope", &bogus.to_string_lossy(), "-o", &out]);
    assert_one_line_error(&o, "bogus.tif: cannot read raster");
}

#[test]
fn synth_is_deterministic_and_slope_writes_a_raster() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for out in [&a, &b] {
        let o =
            breadcrumb(&["site", "synth", "--seed", "11", "--size", "128", &out.to_string_lossy()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in ["dem.tif", "ortho.tif", "hazards.geojson", "bundle.toml"] {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between two runs with the same seed");
    }
    // A second synth into the same place is refused without --force.
    let o = breadcrumb(&["site", "synth", "--seed", "11", "--size", "128", &a.to_string_lossy()]);
    assert_one_line_error(&o, "--force");

    let slope = dir.path().join("slope.tif");
    let dem = a.join("dem.tif");
    let o = breadcrumb(&["site", "slope", &dem.to_string_lossy(), "-o", &slope.to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(slope.is_file());
    let o = breadcrumb(&["site", "info", "--json", &a.to_string_lossy()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dem"]["width"], 128);
    assert_eq!(v["ortho"]["width"], 256, "the ortho is twice as fine as the DEM");
}

/// A synthetic site's CRS has a name, as the real Gale DEM's has: Mars 2000 equidistant
/// cylindrical, not "unknown".
#[test]
fn info_names_the_crs_of_a_synthetic_site() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("s");
    let site = site.to_string_lossy();
    let o = breadcrumb(&["site", "synth", "--seed", "7", "--size", "256", "--res", "1.0", &site]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = breadcrumb(&["site", "info", &site]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("CRS Mars2000 Equidistant Cylindrical clon"), "{text}");
    assert!(!text.contains("unknown"), "{text}");
    let o = breadcrumb(&["site", "info", "--json", &site]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let crs = v["dem"]["crs"].as_str().unwrap();
    assert!(crs.starts_with("Mars2000 Equidistant Cylindrical clon"), "{crs}");
    // The real Gale DEM's CRS reads the same way.
    let o = breadcrumb(&["site", "info", "--json", &realdata("gale-marias-pass")]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["dem"]["crs"].as_str().unwrap().starts_with("Mars2000 Equidistant Cylindrical"));
}

#[test]
fn info_summarises_the_real_gale_bundle() {
    let o = breadcrumb(&["site", "info", &realdata("gale-marias-pass")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("348 x 337 cells at 1 x 1 m"), "{text}");
    assert!(text.contains("696 x 674 px at 0.5 m"), "{text}");
}

/// A GeoJSON file of LineStrings in `dir`.
fn routes_file(dir: &Path, routes: &[&[(f64, f64)]]) -> String {
    let features: Vec<String> = routes
        .iter()
        .map(|r| {
            let coords: Vec<String> = r.iter().map(|(x, y)| format!("[{x}, {y}]")).collect();
            format!(
                r#"{{"type": "Feature", "properties": {{}}, "geometry": {{"type": "LineString", "coordinates": [{}]}}}}"#,
                coords.join(", ")
            )
        })
        .collect();
    let path = dir.join("routes.geojson");
    std::fs::write(
        &path,
        format!(r#"{{"type": "FeatureCollection", "features": [{}]}}"#, features.join(",\n")),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn check_passes_the_real_gale_drives_and_refuses_the_steep_crop() {
    let o = breadcrumb(&["check", "--help"]);
    assert!(
        o.status.success() && stdout(&o).contains("Example: breadcrumb check"),
        "{}",
        stdout(&o)
    );
    let gale = realdata("gale-marias-pass");
    let drives = format!("{gale}/drives.geojson");
    let o = breadcrumb(&["check", "--site", &gale, "--rover", "perseverance", "--route", &drives]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("22 of 22 pass"), "{}", stdout(&o));
    let o = breadcrumb(&[
        "check",
        "--site",
        &gale,
        "--rover",
        "perseverance",
        "--route",
        &drives,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(22));
    assert_eq!(v[0]["verdict"]["pass"], true);
    // Across the steep HiRISE crop (local frame): refused on tilt, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let routes = routes_file(dir.path(), &[&[(35.0, 5.0), (35.0, 60.0), (35.0, 116.0)]]);
    let crop = realdata("hirise-steep-crop");
    let o = breadcrumb(&["check", "--site", &crop, "--rover", "perseverance", "--route", &routes]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("FAIL tilt"), "{}", stdout(&o));
}

#[test]
fn check_a_plan_against_a_sol_and_name_bad_plans() {
    let dir = tempfile::tempdir().unwrap();
    let sol = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sols/plains-02-keepout.toml");
    let sol = sol.to_string_lossy().into_owned();
    // Straight through the keep-out zone.
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"waypoints": [{"x": -130, "y": 1090664}, {"x": -50, "y": 1090654},
                          {"x": 30, "y": 1090644}, {"x": 110, "y": 1090634}]}"#,
    )
    .unwrap();
    let plan = plan.to_string_lossy().into_owned();
    let o = breadcrumb(&["check", "--sol", &sol, &plan]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("keep_out"), "{}", stdout(&o));
    let o = breadcrumb(&["check", "--sol", &sol, &plan, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON verdict");
    assert_eq!(v["pass"], false);
    assert!(v["violations"].as_array().unwrap().iter().any(|x| x["rule"] == "keep_out"));
    // The same inputs give the same bytes.
    assert_eq!(breadcrumb(&["check", "--sol", &sol, &plan, "--json"]).stdout, o.stdout);
    // A malformed plan: one line naming the line and column, exit 2.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"waypoints\": [\n  {\"x\": 1, \"y\": }\n]}").unwrap();
    let o = breadcrumb(&["check", "--sol", &sol, &bad.to_string_lossy()]);
    assert_one_line_error(&o, "line 2, column 17");
    let o = breadcrumb(&["check", "--sol", &sol]);
    assert_one_line_error(&o, "--sol SOL.toml PLAN.json");
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    // `breadcrumb tools schema | head -1`: the reader goes away and the next write fails with
    // a broken pipe, which must be neither a panic, nor an error message, nor a failure.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"waypoints": [{"x": -130, "y": 1090664}, {"x": 110, "y": 1090634}]}"#,
    )
    .unwrap();
    let plan = plan.to_string_lossy().into_owned();
    let commands: [&[&str]; 5] = [
        &["tools", "schema"],
        &["models"],
        &["site", "info", "fixtures/sites/plains"],
        &["site", "info", "--json", "fixtures/sites/plains"],
        // A failed check (exit 1 when read) prints its table to no one.
        &["check", "--sol", "fixtures/sols/plains-02-keepout.toml", &plan],
    ];
    for args in commands {
        let o = breadcrumb_into_closed_pipe(args);
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert_eq!(err, "", "{args:?} said something on stderr");
        assert_eq!(o.status.code(), Some(0), "{args:?}: exit status");
    }
}
