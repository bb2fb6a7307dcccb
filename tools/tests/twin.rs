//! The digital twin: its drive sequence validates against the committed XSD.

use std::path::PathBuf;
use std::process::Command;

use breadcrumb_tools::twin::compile;

#[test]
fn sequence_xml_validates_against_the_committed_schema() {
    let seq =
        compile(&[(0.0, 0.0), (3.0, 4.0), (3.0, 20.0), (-7.5, 20.0)], Some(270.0), 2.35).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sequence.xml");
    std::fs::write(&file, seq.to_xml()).unwrap();
    let xsd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/sequence.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint is required for this test (apt-get install libxml2-utils); not skipping");
    assert!(
        out.status.success(),
        "sequence.xml does not validate: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        seq.to_xml()
    );
    // Three turns and three drives, and the JSON reads back to the same sequence.
    assert_eq!(seq.commands.len(), 6);
    let back: breadcrumb_tools::twin::Sequence = serde_json::from_str(&seq.to_json()).unwrap();
    assert_eq!(back, seq);
}

use breadcrumb_tools::checker::plan::load_routes;
use breadcrumb_tools::terrain::rover::Kinematics;
use breadcrumb_tools::terrain::{Dem, Grid, RoverProfile};
use breadcrumb_tools::twin::{solve, Ground};

fn kinematics() -> Kinematics {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).unwrap().kinematics.unwrap()
}

/// Worst figures of one drive: |rocker|, |bogie|, |pitch|, |roll|, tilt (deg), wheel drop (m),
/// min clearance (m), poses, poses off the DEM.
#[derive(Debug, Default, Clone, Copy)]
struct Worst {
    rocker: f64,
    bogie: f64,
    pitch: f64,
    roll: f64,
    tilt: f64,
    drop: f64,
    clearance: f64,
    poses: usize,
    unknown: usize,
}

/// Drives `points` with poses every <= 0.1 m along each leg (turns in place every <= 2 deg).
fn drive(k: &Kinematics, grid: &Grid, points: &[(f64, f64)]) -> Worst {
    let g = Ground { grid };
    let mut w = Worst { clearance: f64::INFINITY, ..Worst::default() };
    let mut prev: Option<[f64; 6]> = None;
    let mut heading: Option<f64> = None;
    let mut visit = |x: f64, y: f64, h: f64, w: &mut Worst| {
        w.poses += 1;
        let Some(s) = solve(k, &g, x, y, h) else {
            w.unknown += 1;
            prev = None;
            return;
        };
        w.rocker = w.rocker.max(s.differential_deg.abs());
        w.bogie = w.bogie.max(s.bogie_deg[0].abs()).max(s.bogie_deg[1].abs());
        w.pitch = w.pitch.max(s.pitch_deg.abs());
        w.roll = w.roll.max(s.roll_deg.abs());
        w.tilt = w.tilt.max(s.tilt_deg);
        w.clearance = w.clearance.min(s.clearance_m);
        if let Some(p) = prev {
            for (a, b) in p.iter().zip(s.wheel_z_m) {
                w.drop = w.drop.max((a - b).abs());
            }
        }
        prev = Some(s.wheel_z_m);
    };
    for seg in points.windows(2) {
        let (dx, dy) = (seg[1].0 - seg[0].0, seg[1].1 - seg[0].1);
        let len = dx.hypot(dy);
        if len <= 0.0 {
            continue;
        }
        let h = dx.atan2(dy).to_degrees().rem_euclid(360.0);
        if let Some(h0) = heading {
            let delta = (h - h0 + 540.0).rem_euclid(360.0) - 180.0;
            let n = (delta.abs() / 2.0).ceil() as usize;
            for i in 1..=n {
                visit(seg[0].0, seg[0].1, h0 + delta * i as f64 / n as f64, &mut w);
            }
        }
        heading = Some(h);
        let n = (len / 0.1).ceil() as usize;
        for i in 0..=n {
            let t = i as f64 / n as f64;
            visit(seg[0].0 + t * dx, seg[0].1 + t * dy, h, &mut w);
        }
    }
    w
}

fn breaks(k: &Kinematics, w: &Worst) -> Vec<&'static str> {
    let l = &k.limits;
    let mut out = Vec::new();
    for (name, bad) in [
        ("differential", w.rocker > l.max_differential_deg),
        ("bogie", w.bogie > l.max_bogie_deg),
        ("pitch", w.pitch > l.max_pitch_deg),
        ("roll", w.roll > l.max_roll_deg),
        ("tilt", w.tilt > l.max_tilt_deg),
        ("wheel_drop", w.drop > l.max_wheel_drop_m),
        ("clearance", w.clearance < l.min_belly_clearance_m),
        ("valid_data", w.unknown > 0),
    ] {
        if bad {
            out.push(name);
        }
    }
    out
}

#[test]
fn real_curiosity_drives_and_the_steep_crop() {
    let k = kinematics();
    let site = crate::realdata("gale-marias-pass");
    let grid = Dem::open(site.join("dem.tif")).unwrap().read_all().unwrap();
    let (routes, _) = load_routes(&site.join("drives.geojson")).unwrap();
    assert_eq!(routes.len(), 22);
    let mut all = Worst { clearance: f64::INFINITY, ..Worst::default() };
    let started = std::time::Instant::now();
    let mut failed = Vec::new();
    for r in &routes {
        let w = drive(&k, &grid, &r.points);
        let b = breaks(&k, &w);
        println!("{:>12} poses {:>5} {w:.3?} {b:?}", r.label(), w.poses);
        if !b.is_empty() {
            failed.push((r.label(), b));
        }
        all.rocker = all.rocker.max(w.rocker);
        all.bogie = all.bogie.max(w.bogie);
        all.pitch = all.pitch.max(w.pitch);
        all.roll = all.roll.max(w.roll);
        all.tilt = all.tilt.max(w.tilt);
        all.drop = all.drop.max(w.drop);
        all.clearance = all.clearance.min(w.clearance);
        all.poses += w.poses;
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    println!("all 22 drives: {all:.3?}; {:.1} poses/ms", all.poses as f64 / ms);
    println!("drives breaking a twin limit: {failed:?}");

    let steep = crate::realdata("hirise-steep-crop");
    let sg = Dem::open(steep.join("dem.tif")).unwrap().read_all().unwrap();
    let (x0, y1, x1, y0) =
        (sg.transform.x0, sg.transform.y0, sg.transform.x0 + 70.0, sg.transform.y0 - 120.0);
    let route = [(x0 + 10.0, y0 + 10.0), (x1 - 10.0, y1 - 10.0)];
    let w = drive(&k, &sg, &route);
    println!("steep crop: {w:.3?} {:?}", breaks(&k, &w));
    assert!(
        !breaks(&k, &w).is_empty(),
        "a route across the steep crop must break a twin limit: {w:?}"
    );
    assert!(all.poses > 1000 && all.unknown == 0, "{all:?}");
}
