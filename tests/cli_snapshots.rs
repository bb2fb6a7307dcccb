//! What the command line prints, snapshotted (tests/snapshots/): `check`'s tables for a plan
//! that passes, one that fails and a routes file, `show` of a run, and `tools schema` against
//! the committed schema file. Paths and timings are masked in one place,
//! [`support::snapshot_filters`].

use std::path::{Path, PathBuf};

mod support;
use support::{breadcrumb, cli_snapshot, stderr, stdout};

const SOL: &str = "fixtures/sols/plains-02-keepout.toml";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn propose_then_check_and_show_print_what_they_printed_before() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let o = breadcrumb(&["propose", SOL, "--runs-dir", s(&runs), "--run-id", "snap"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let run = runs.join("snap");

    cli_snapshot!("check_pass", breadcrumb(&["check", "--sol", SOL, s(&run.join("plan.json"))]));
    cli_snapshot!("show", breadcrumb(&["show", s(&run)]));

    // The straight line: keep-out, rocks and spacing, each violation listed.
    let straight = tmp.path().join("straight.json");
    std::fs::write(
        &straight,
        r#"{"waypoints": [{"x": -130.0, "y": 1090664.0}, {"x": 110.0, "y": 1090634.0}]}"#,
    )
    .unwrap();
    cli_snapshot!("check_fail", breadcrumb(&["check", "--sol", SOL, s(&straight)]));
}

#[test]
fn check_prints_a_table_of_routes() {
    let tmp = tempfile::tempdir().unwrap();
    let routes = tmp.path().join("routes.geojson");
    let line = |name: &str, pts: &[(f64, f64)]| {
        serde_json::json!({"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "LineString",
                         "coordinates": pts.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>()}})
    };
    let fc = serde_json::json!({"type": "FeatureCollection", "features": [
        line("short", &[(-130.0, 1_090_664.0), (-125.0, 1_090_664.0), (-120.0, 1_090_664.0)]),
        line("across", &[(-130.0, 1_090_664.0), (110.0, 1_090_634.0)]),
    ]});
    std::fs::write(&routes, fc.to_string()).unwrap();
    let o = breadcrumb(&[
        "check",
        "--site",
        "fixtures/sites/plains",
        "--rover",
        "perseverance",
        "--route",
        s(&routes),
    ]);
    cli_snapshot!("check_routes", o);
}

#[test]
fn tools_schema_prints_the_committed_schema_file() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/schema/tools.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    let o = breadcrumb(&["tools", "schema"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o) == committed,
        "`breadcrumb tools schema` differs from {}: regenerate it with \
         `BREADCRUMB_UPDATE_SCHEMA=1 cargo test -p breadcrumb-tools --test tests schema`",
        path.display()
    );
}
