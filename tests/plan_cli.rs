//! `breadcrumb plan` as a user meets it: a plan the checker passes, written as plan JSON and
//! GeoJSON; a refusal with its reason and exit 1; bad input with exit 2.

use std::path::Path;

mod support;
use support::breadcrumb;

fn sol(id: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("fixtures/sols/{id}.toml"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn plans_a_sol_and_the_checker_passes_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let out_s = out.to_string_lossy().into_owned();
    let o = breadcrumb(&["plan", "--sol", &sol("plains-02-keepout"), "-o", &out_s]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("plains-02-keepout:") && stdout.contains("PASS"), "{stdout}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["provenance"]["model"], "baseline-planner");
    assert_eq!(plan["provenance"]["sol"], "plains-02-keepout");
    assert!(plan["provenance"]["checker_version"].is_string());
    // The hashes a dossier records, so `check` can tell a plan made on another bundle.
    for field in ["sol_hash", "bundle_hash", "rover_hash"] {
        let h = plan["provenance"][field].as_str().unwrap_or_default();
        assert!(h.starts_with("sha256:") && h.len() == 71, "{field}: {h:?}");
    }
    assert!(plan["provenance"]["bundle_files"]["dem.tif"].is_string(), "{plan}");
    assert_eq!(plan["verdict"]["pass"], true);
    let n = plan["waypoints"].as_array().unwrap().len();
    assert!(n >= 3);
    let gj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.geojson")).unwrap()).unwrap();
    let features = gj["features"].as_array().unwrap();
    assert_eq!(features[0]["geometry"]["type"], "LineString");
    assert_eq!(features.len(), n + 1, "the line and one point per waypoint");
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let png = std::fs::read(out.join("overlay.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG", "overlay.png is a PNG");
    // The checker, run on its own, agrees.
    let plan_path = out.join("plan.json").to_string_lossy().into_owned();
    let c = breadcrumb(&["check", "--sol", &sol("plains-02-keepout"), &plan_path]);
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stdout));
}

#[test]
fn no_safe_route_prints_the_reason_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p").to_string_lossy().into_owned();
    let o = breadcrumb(&["plan", "--sol", &sol("crater-field-02-walled"), "-o", &out]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("no safe route") && stdout.contains("tilt"), "{stdout}");
    assert!(!dir.path().join("p/plan.json").exists(), "no plan written for a refusal");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let o = breadcrumb(&["plan", "--sol", "/nonexistent/sol.toml", "-o", "/tmp/x"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("sol.toml"), "{err}");
    let h = breadcrumb(&["plan", "--help"]);
    assert!(String::from_utf8_lossy(&h.stdout).contains("Example: breadcrumb plan"));
}
