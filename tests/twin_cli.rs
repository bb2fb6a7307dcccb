//! `breadcrumb twin` as a user meets it: the real Curiosity drives pass the digital twin and a
//! route across the steep HiRISE crop fails; a plan driven for a sol writes its verdict,
//! telemetry, wheel tracks, sequence and plot; bad input is one line and exit 2.

use std::path::{Path, PathBuf};

mod support;
use support::{breadcrumb, stderr, stdout};

fn realdata(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name);
    assert!(dir.is_dir(), "real Mars data missing: {}", dir.display());
    dir.to_string_lossy().into_owned()
}

fn sol(id: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("fixtures/sols/{id}.toml"))
        .to_string_lossy()
        .into_owned()
}

/// A GeoJSON file of one LineString per route.
fn routes_file(dir: &Path, routes: &[&[(f64, f64)]]) -> String {
    let features: Vec<serde_json::Value> = routes
        .iter()
        .enumerate()
        .map(|(i, pts)| {
            let coords: Vec<[f64; 2]> = pts.iter().map(|&(x, y)| [x, y]).collect();
            serde_json::json!({
                "type": "Feature",
                "properties": {"name": format!("route {i}")},
                "geometry": {"type": "LineString", "coordinates": coords},
            })
        })
        .collect();
    let path = dir.join("routes.geojson");
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(&path, fc.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn the_real_gale_drives_pass_the_twin_and_the_steep_crop_fails() {
    let gale = realdata("gale-marias-pass");
    let drives = format!("{gale}/drives.geojson");
    let args = ["twin", "--site", &gale, "--rover", "perseverance", "--route", &drives];
    let o = breadcrumb(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("22 of 22 pass"), "{text}");
    assert!(text.contains("telemetry values checked against 10 limits"), "{text}");
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let o = breadcrumb(&json_args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let items = v.as_array().expect("an array of verdicts");
    assert_eq!(items.len(), 22);
    assert!(items.iter().all(|i| i["verdict"]["pass"] == true), "{v}");
    assert_eq!(items[0]["label"], "sol 962");

    // Across the steep crop (local frame, 70 x 120 cells of 1.01 m): refused on tilt.
    let dir = tempfile::tempdir().unwrap();
    let routes = routes_file(dir.path(), &[&[(10.0, 11.2), (60.0, 111.2)]]);
    let crop = realdata("hirise-steep-crop");
    let out = dir.path().join("out");
    let o = breadcrumb(&[
        "twin",
        "--site",
        &crop,
        "--rover",
        "perseverance",
        "--route",
        &routes,
        "-o",
        &s(&out),
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    assert!(text.contains("0 of 1 pass") && text.contains("FAIL chassis_tilt"), "{text}");
    // One subdirectory per route, named after its label (`name route 0`).
    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("name-route-0/twin.json")).unwrap())
            .unwrap();
    assert_eq!(verdict["pass"], false);
    assert!(out.join("name-route-0/telemetry.csv").is_file());
}

/// The PNG's width and height from its IHDR chunk, after checking the signature, that IHDR
/// comes first and that the file ends with an IEND chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND", "ends with IEND");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn a_plan_driven_for_a_sol_writes_verdict_telemetry_tracks_sequence_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    // From the sol's start, 40 m east-south-east in two legs, with a turn between.
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"waypoints": [{"x": -130, "y": 1090664}, {"x": -110, "y": 1090661},
                          {"x": -92, "y": 1090650}]}"#,
    )
    .unwrap();
    let (sol, plan) = (sol("plains-02-keepout"), s(&plan));
    let out = dir.path().join("twin");
    let o = breadcrumb(&["twin", "--sol", &sol, &plan, "-o", &s(&out), "--plot"]);
    let text = stdout(&o);
    let code = o.status.code();
    assert!(code == Some(0) || code == Some(1), "{text}{}", stderr(&o));
    assert!(text.contains("chassis_tilt") && text.contains("telemetry values checked"), "{text}");
    assert!(text.contains("wrote twin.json, telemetry.csv"), "{text}");

    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("twin.json")).unwrap()).unwrap();
    assert_eq!(code == Some(0), verdict["pass"] == true, "exit code and verdict agree");
    assert_eq!(verdict["sol"], "plains-02-keepout");
    let poses = verdict["summary"]["poses"].as_u64().unwrap() as usize;
    // 20.2 m and 21.1 m at most 0.1 m apart, the turn at most 2 deg apart, the start pose.
    assert!(poses > 400, "{poses}");

    let csv = std::fs::read_to_string(out.join("telemetry.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert_eq!(lines.count(), poses, "one row per pose");
    let cols: Vec<&str> = header.split(',').collect();
    assert_eq!(&cols[..3], ["pose", "command", "segment"]);
    for c in &cols[3..] {
        assert!(c.ends_with("_m") || c.ends_with("_deg") || c.ends_with("_s"), "no unit: {c}");
    }
    for c in ["tilt_deg", "bogie_left_deg", "wheel_rr_dz_m", "clearance_min_m", "tilt_max_deg"] {
        assert!(cols.contains(&c), "{c} missing from {header}");
    }

    let tracks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tracks.geojson")).unwrap())
            .unwrap();
    let features = tracks["features"].as_array().unwrap();
    assert_eq!(features.len(), 6);
    assert_eq!(features[0]["properties"]["wheel"], "left_front");
    let line = features[0]["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(line.len(), poses);

    let seq: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sequence.json")).unwrap()).unwrap();
    assert_eq!(seq["commands"].as_array().unwrap().len(), 4, "turn, drive, turn, drive");
    assert_eq!(seq["start"]["heading_deg"], 97.1, "the sol's start heading");
    let xml = std::fs::read_to_string(out.join("sequence.xml")).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");

    let png = std::fs::read(out.join("twin.png")).unwrap();
    let (w, h) = png_size(&png);
    assert!(w >= 1000 && h >= 1000, "{w} x {h}");

    // Only the six files, no temporary ones left behind.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected = [
        "sequence.json",
        "sequence.xml",
        "telemetry.csv",
        "tracks.geojson",
        "twin.json",
        "twin.png",
    ];
    assert_eq!(names, expected);

    // --json prints the verdict written as twin.json, and the same drive the same bytes.
    let o = breadcrumb(&["twin", "--sol", &sol, &plan, "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(out.join("twin.json")).unwrap()
    );
    let again = dir.path().join("again");
    breadcrumb(&["twin", "--sol", &sol, &plan, "-o", &s(&again)]);
    assert_eq!(std::fs::read(again.join("telemetry.csv")).unwrap(), csv.as_bytes());
    assert!(!again.join("twin.png").exists(), "no plot without --plot");
}

fn assert_one_line_error(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "{needle:?} not in: {err}");
}

#[test]
fn bad_input_is_one_line_and_exit_2_and_a_profile_without_kinematics_fails_on_drivable() {
    let h = breadcrumb(&["twin", "--help"]);
    assert!(stdout(&h).contains("Example: breadcrumb twin"), "{}", stdout(&h));
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"waypoints": [{"x": -130, "y": 1090664}, {"x": -120, "y": 1090664}]}"#,
    )
    .unwrap();
    let plan = s(&plan);
    let sol = sol("plains-02-keepout");
    assert_one_line_error(
        &breadcrumb(&["twin", "--sol", "/nonexistent/sol.toml", &plan]),
        "sol.toml",
    );
    assert_one_line_error(&breadcrumb(&["twin", "--sol", &sol, "/nonexistent/p.json"]), "p.json");
    assert_one_line_error(&breadcrumb(&["twin", "--sol", &sol]), "--sol SOL.toml PLAN.json");
    assert_one_line_error(&breadcrumb(&["twin", "--sol", &sol, &plan, "--plot"]), "-o DIR");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"waypoints\": [\n  {\"x\": 1, \"y\": }\n]}").unwrap();
    assert_one_line_error(&breadcrumb(&["twin", "--sol", &sol, &s(&bad)]), "line 2, column 17");

    // The profile without its [kinematics] tables: a failing verdict, not a crash.
    let profile =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/rovers/perseverance.toml");
    let text = std::fs::read_to_string(profile).unwrap();
    let start = text.find("[kinematics]").unwrap();
    let end = text.find("[sources]").unwrap();
    let stripped = format!("{}{}", &text[..start], &text[end..]);
    assert!(!stripped.contains("kinematics"));
    let rover = dir.path().join("no-kinematics.toml");
    std::fs::write(&rover, stripped).unwrap();
    let routes = routes_file(dir.path(), &[&[(10.0, 11.2), (12.0, 20.0)]]);
    let crop = realdata("hirise-steep-crop");
    let out = dir.path().join("out");
    let o = breadcrumb(&[
        "twin",
        "--site",
        &crop,
        "--rover",
        &s(&rover),
        "--route",
        &routes,
        "-o",
        &s(&out),
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    assert!(text.contains("FAIL drivable") && text.contains("no [kinematics] table"), "{text}");
    // Only the verdict is written: there is nothing driven to write.
    let names: Vec<String> = std::fs::read_dir(out.join("name-route-0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["twin.json"]);
}
