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
use breadcrumb_tools::terrain::{Dem, RoverProfile};
use breadcrumb_tools::twin::{self, TwinVerdict};

fn profile() -> RoverProfile {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).unwrap()
}

/// Worst value and worst bound of `rule` in a verdict.
fn worst(v: &TwinVerdict, rule: &str) -> (f64, f64) {
    let r = v.rules.iter().find(|r| r.rule == rule).unwrap();
    (r.worst.unwrap_or(f64::NAN), r.worst_bound.unwrap_or(f64::NAN))
}

#[test]
fn real_curiosity_drives_pass_the_twin_and_the_steep_crop_fails() {
    let p = profile();
    let site = crate::realdata("gale-marias-pass");
    let grid = Dem::open(site.join("dem.tif")).unwrap().read_all().unwrap();
    let (routes, _) = load_routes(&site.join("drives.geojson")).unwrap();
    assert_eq!(routes.len(), 22);
    let started = std::time::Instant::now();
    let mut failed = Vec::new();
    let mut poses = 0;
    let rules = [
        "chassis_tilt",
        "bogie",
        "differential",
        "wheel_drop",
        "belly_clearance",
        "pitch_nominal",
        "roll_nominal",
    ];
    let mut all: Vec<(f64, f64)> = rules.iter().map(|_| (f64::NAN, f64::NAN)).collect();
    for r in &routes {
        let run = twin::run(&p, &grid, &r.points, None, &r.label());
        let v = &run.verdict;
        poses += v.summary.poses;
        let line: Vec<String> = rules
            .iter()
            .map(|id| {
                let (w, b) = worst(v, id);
                format!("{id} {w:.3}/{b:.3}")
            })
            .collect();
        println!(
            "{:>12} poses {:>5} cautions {:>3} {:?} {}",
            r.label(),
            v.summary.poses,
            v.cautions.len(),
            v.failed_rules(),
            line.join(" ")
        );
        for (a, id) in all.iter_mut().zip(rules) {
            let (w, b) = worst(v, id);
            let pick = |x: f64, y: f64| if id == "belly_clearance" { x.min(y) } else { x.max(y) };
            *a = (pick(a.0, w), pick(a.1, b));
        }
        if !v.pass {
            failed.push((r.label(), v.failed_rules().join(",")));
        }
        assert_eq!(v.summary.poses_unknown, 0, "{}", r.label());
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    println!("all 22 drives, worst value/bound: {:?}", rules.iter().zip(&all).collect::<Vec<_>>());
    println!("{poses} poses, {:.1} poses/ms (test profile)", poses as f64 / ms);
    assert!(failed.is_empty(), "real drives the twin refuses: {failed:?}");

    let steep = crate::realdata("hirise-steep-crop");
    let sg = Dem::open(steep.join("dem.tif")).unwrap().read_all().unwrap();
    let (x0, y1, x1, y0) =
        (sg.transform.x0, sg.transform.y0, sg.transform.x0 + 70.0, sg.transform.y0 - 120.0);
    let route = [(x0 + 10.0, y0 + 10.0), (x1 - 10.0, y1 - 10.0)];
    let run = twin::run(&p, &sg, &route, None, "steep");
    println!("steep crop: {:?}", run.verdict.failed_rules());
    assert!(!run.verdict.pass, "a route across the steep crop must break a twin limit");
    assert!(
        run.verdict.failed_rules().contains(&"chassis_tilt"),
        "{:?}",
        run.verdict.failed_rules()
    );
}

#[test]
fn the_toolbox_drives_a_route_once_and_answers_the_same_route_from_its_last_drive() {
    use breadcrumb_tools::api::Toolbox;
    use breadcrumb_tools::terrain::Sol;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let sol = Sol::load(&dir.join("sols/plains-01.toml")).unwrap();
    let toolbox = Toolbox::open(&sol).unwrap();
    let s = &sol.sol;
    let a = vec![(s.start.x, s.start.y), (s.start.x + 20.0, s.start.y + 5.0)];
    let b = vec![(s.start.x, s.start.y), (s.start.x + 5.0, s.start.y + 20.0)];
    let fresh = |pts: &[(f64, f64)]| {
        twin::run_on_dem(
            toolbox.profile(),
            &toolbox.bundle().dem,
            pts,
            Some(s.start.heading_deg),
            &s.id,
        )
    };
    let first = toolbox.twin(&a);
    assert_eq!(first, fresh(&a));
    assert_eq!(toolbox.twin(&a), first, "the same route again");
    let other = toolbox.twin(&b);
    assert_ne!(other.verdict.to_json(), first.verdict.to_json(), "another route is driven");
    assert_eq!(other, fresh(&b));
    assert_eq!(toolbox.twin(&a), first, "and the first again");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]
    /// Whatever the waypoints (NaN, infinities, huge, repeated, off the map) and the start
    /// heading, the twin answers with a verdict and never panics; the verdict is deterministic
    /// and fails whenever a pose had no ground under it.
    #[test]
    fn no_plan_makes_the_twin_panic(
        pts in proptest::collection::vec(
            (proptest::prelude::prop_oneof![
                -20.0..80.0f64, proptest::prelude::Just(f64::NAN),
                proptest::prelude::Just(f64::INFINITY), proptest::prelude::Just(1e9),
                proptest::prelude::Just(-1e12)],
             -20.0..80.0f64),
            0..6),
        heading in proptest::prelude::prop_oneof![0.0..720.0f64, proptest::prelude::Just(f64::NAN)],
    ) {
        use breadcrumb_tools::terrain::{GeoTransform, Grid};
        let p = profile();
        let t = GeoTransform { x0: 0.0, y0: 60.0, dx: 1.0, dy: -1.0 };
        let grid = Grid::from_fn(60, 60, t, |x, y| {
            if x > 45.0 && y > 45.0 { f32::NAN } else { (0.3 * (0.4 * x).sin() + 0.05 * y) as f32 }
        });
        let a = twin::run(&p, &grid, &pts, Some(heading), "prop");
        let b = twin::run(&p, &grid, &pts, Some(heading), "prop");
        proptest::prop_assert_eq!(a.verdict.to_json(), b.verdict.to_json());
        if a.verdict.summary.poses_unknown > 0 {
            proptest::prop_assert!(!a.verdict.pass);
        }
    }
}
