//! `breadcrumb tiles` and `breadcrumb render` as a user meets them: files written where the
//! output says, JSON sidecars with the footprint, exit codes and one-line errors.

use std::path::Path;

mod support;
use support::{breadcrumb, stdout};

#[test]
fn tiles_writes_the_overview_in_every_layer_with_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o =
        breadcrumb(&["tiles", "--sol", "fixtures/sols/plains-01.toml", "-o", out, "--px", "512"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    for layer in ["ortho", "slope", "hazards", "classes"] {
        let png = dir.path().join(format!("plains-01-overview-{layer}.png"));
        assert!(text.contains(&png.display().to_string()), "{text}");
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(png.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(json["layer"], layer);
        assert_eq!(json["width_px"], 512);
        let (min_x, max_x) = (json["min_x_m"].as_f64().unwrap(), json["max_x_m"].as_f64().unwrap());
        // plains-01 runs from x = -110 to x = 90.
        assert!(min_x < -110.0 && max_x > 90.0, "{json}");
        assert_eq!(json["m_per_px"].as_f64().unwrap(), (max_x - min_x) / 512.0);
    }
}

#[test]
fn tiles_takes_a_centre_and_refuses_one_off_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = ["tiles", "--sol", "fixtures/sols/plains-01.toml", "-o", out, "--layer", "slope"];
    let o = breadcrumb(
        &[&args[..], &["--centre", "-60,1090600", "--size-m", "50", "--px", "256"]].concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.path().join("plains-01--60_1090600_50m-slope.png").is_file());
    let o = breadcrumb(&[&args[..], &["--centre", "5000,5000", "--size-m", "50"]].concat());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wholly outside the DEM") && err.trim_end().lines().count() == 1, "{err}");
    let o = breadcrumb(&[&args[..], &["--centre", "0,0"]].concat());
    assert_eq!(o.status.code(), Some(2), "--centre without --size-m");
}

#[test]
fn render_checks_the_plan_and_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("straight.json");
    // Straight from start to goal across the crater field: fails.
    std::fs::write(&plan, r#"{"waypoints":[{"x":-120,"y":1090534},{"x":80,"y":1090714}]}"#)
        .unwrap();
    let o = breadcrumb(&[
        "render",
        "--sol",
        "fixtures/sols/crater-field-01.toml",
        plan.to_str().unwrap(),
        "--px",
        "384",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).starts_with("FAIL"), "{}", stdout(&o));
    let png = std::fs::read(Path::new(&plan.with_extension("png"))).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    for cmd in ["tiles", "render"] {
        let help = stdout(&breadcrumb(&[cmd, "--help"]));
        assert!(help.contains("Example: breadcrumb"), "{cmd} --help lacks an example:\n{help}");
    }
}
