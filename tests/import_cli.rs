//! `breadcrumb site import` and `breadcrumb sol from-route` as a user meets them: import the
//! real Gale data, make a sol of every real drive longer than 15 m, check each drive against
//! its sol with `breadcrumb check --sol`, and read the errors.

use std::path::{Path, PathBuf};
use std::process::Output;

use breadcrumb_tools::terrain::raster_io::{wkt_from_proj4, write_f32_geotiff};
use breadcrumb_tools::terrain::{GeoTransform, Grid};

mod support;
use support::{breadcrumb, stderr, stdout};

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// Asserts exit 2 with exactly one line on stderr containing `needle`.
fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "{needle:?} not in: {err}");
}

fn gale(file: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata/gale-marias-pass");
    assert!(dir.is_dir(), "real Mars data missing: {}", dir.display());
    dir.join(file).to_string_lossy().into_owned()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn import_and_from_route_explain_themselves_with_an_example() {
    for cmd in [["site", "import"], ["sol", "from-route"]] {
        let o = breadcrumb(&[cmd[0], cmd[1], "--help"]);
        assert_ok(&o);
        let text = stdout(&o);
        assert!(text.contains("Example: breadcrumb"), "{cmd:?} --help lacks an example:\n{text}");
    }
    let help = stdout(&breadcrumb(&["sol", "from-route", "--help"]));
    assert!(help.contains("`sol` property") && help.contains("index"), "{help}");
}

#[test]
fn gale_imports_and_every_long_drive_becomes_a_sol_it_passes() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("sites/gale");
    let o =
        breadcrumb(&["site", "import", &gale("dem.tif"), "--ortho", &gale("ortho.tif"), &s(&site)]);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("348 x 337 cells at 1 x 1 m"), "{out}");
    assert!(out.contains("ortho    696 x 674 px at 0.5 m"), "{out}");
    assert!(out.contains("ortho copied"), "{out}");
    assert_ok(&breadcrumb(&["site", "info", &s(&site)]));

    let o = breadcrumb(&["site", "import", &gale("dem.tif"), &s(&site)]);
    assert_one_line_error(&o, "directory is not empty; pass --force");
    assert!(site.join("ortho.tif").exists(), "the refused import left the bundle alone");

    let sols = dir.path().join("sols");
    std::fs::create_dir(&sols).unwrap();
    let text = std::fs::read_to_string(gale("drives.geojson")).unwrap();
    let drives: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut passed = 0;
    for f in drives["features"].as_array().unwrap() {
        if f["properties"]["length_m"].as_f64().unwrap() <= 15.0 {
            continue;
        }
        let n = f["properties"]["sol"].as_u64().unwrap().to_string();
        let sol = sols.join(format!("gale-{n}.toml"));
        let o = breadcrumb(&[
            "sol",
            "from-route",
            "--site",
            &s(&site),
            "--route",
            &gale("drives.geojson"),
            "--sol-id",
            &n,
            "-o",
            &s(&sol),
        ]);
        assert_ok(&o);
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&sol).unwrap()).unwrap();
        assert_eq!(table["bundle"].as_str(), Some("../sites/gale"), "relative to the sol");
        let waypoints: Vec<serde_json::Value> = table["reference_route"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| serde_json::json!({"x": p[0].as_float(), "y": p[1].as_float()}))
            .collect();
        let plan = sols.join(format!("drive-{n}.json"));
        std::fs::write(&plan, serde_json::json!({"waypoints": waypoints}).to_string()).unwrap();
        let o = breadcrumb(&["check", "--sol", &s(&sol), &s(&plan)]);
        assert_ok(&o);
        assert!(stdout(&o).contains("PASS"), "sol {n}: {}", stdout(&o));
        passed += 1;
    }
    assert_eq!(passed, 12);

    let o = breadcrumb(&[
        "sol",
        "from-route",
        "--site",
        &s(&site),
        "--route",
        &gale("drives.geojson"),
        "--sol-id",
        "5",
        "-o",
        &s(&sols.join("x.toml")),
    ]);
    assert_one_line_error(&o, "no drive with sol 5; the drives' sols are 962, 963");
    let o = breadcrumb(&[
        "sol",
        "from-route",
        "--site",
        &s(&site),
        "--route",
        &gale("drives.geojson"),
        "--sol-id",
        "967",
        "-o",
        &s(&sols.join("gale-967.toml")),
    ]);
    assert_one_line_error(&o, "already exists; pass --force");
}

#[test]
fn bad_inputs_give_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = s(&dir.path().join("out"));
    let o = breadcrumb(&["site", "import", "/nonexistent/dem.tif", &out]);
    assert_one_line_error(&o, "/nonexistent/dem.tif: no such file");

    // Nothing listens on port 1: GDAL's own warning must not add a second line.
    let o = breadcrumb(&["site", "import", "/vsicurl/http://127.0.0.1:1/dem.tif", &out]);
    assert_one_line_error(&o, "cannot read a raster from this URL");

    let o = breadcrumb(&["site", "import", &gale("drives.geojson"), &out]);
    assert_one_line_error(&o, "not a raster GDAL can read");

    let lonlat = dir.path().join("lonlat.tif");
    let t = GeoTransform { x0: 137.0, y0: -4.0, dx: 1e-4, dy: -1e-4 };
    let wkt = wkt_from_proj4("+proj=longlat +R=3396190 +no_defs").unwrap();
    write_f32_geotiff(&lonlat, &Grid::filled(10, 10, 1.0, t), &wkt, -32767.0).unwrap();
    let o = breadcrumb(&["site", "import", &s(&lonlat), &out]);
    assert_one_line_error(
        &o,
        "is geographic (longitude/latitude degrees); breadcrumb needs a projected CRS in metres",
    );

    let o =
        breadcrumb(&["site", "import", &gale("dem.tif"), "--ortho", "/nonexistent/o.jp2", &out]);
    assert_one_line_error(&o, "/nonexistent/o.jp2: no such file");
    assert!(!PathBuf::from(&out).exists(), "nothing written");
}
