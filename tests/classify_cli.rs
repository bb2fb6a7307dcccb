//! `breadcrumb site classify`: files, determinism, errors, and the baseline classifier's scores
//! on the real Gale site (sand_ripple area IoU against the label drawn by eye; no real
//! Curiosity drive crosses a blocking class it maps).

mod support;

use std::path::{Path, PathBuf};

use breadcrumb_evals::perception::score;
use breadcrumb_tools::checker::plan::load_routes;
use breadcrumb_tools::checker::rules::hazards::blocks;
use breadcrumb_tools::geometry::segment_to_polygon;
use breadcrumb_tools::terrain::hazards::load_hazards;
use breadcrumb_tools::terrain::{Dem, HazardClass};
use support::{breadcrumb, stderr, stdout};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real Gale bundle; the test fails (never skips) when `../shared/realdata` is missing.
fn gale() -> PathBuf {
    let dir = repo().join("../shared/realdata/gale-marias-pass");
    assert!(
        dir.join("dem.tif").is_file(),
        "{}: the real Gale data is missing (../shared/realdata beside the repository)",
        dir.display()
    );
    dir
}

fn classify_into(bundle: &Path, out: &Path) -> std::process::Output {
    let o =
        breadcrumb(&["site", "classify", &bundle.to_string_lossy(), "-o", &out.to_string_lossy()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    o
}

#[test]
fn classify_writes_a_geotiff_and_geojson_the_same_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let site = repo().join("fixtures/sites/plains");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let o = classify_into(&site, &a);
    let text = stdout(&o);
    assert!(text.contains("classified") && text.contains("ground"), "{text}");
    classify_into(&site, &b);
    for f in ["classes.tif", "classes.tif.aux.xml", "classes.geojson"] {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert_eq!(x, y, "{f} differs between two runs");
    }
    // The GeoTIFF lies on the DEM's grid, in its CRS.
    let dem = Dem::open(site.join("dem.tif")).unwrap();
    let classes = Dem::open(a.join("classes.tif")).unwrap();
    assert_eq!(classes.size(), dem.size());
    assert_eq!(classes.transform(), dem.transform());
    assert_eq!(classes.crs_wkt(), dem.crs_wkt());
    assert_eq!(classes.nodata(), Some(0.0));
    // The GeoJSON reads back as hazards.
    let hz = load_hazards(&a.join("classes.geojson")).unwrap();
    assert!(hz.iter().all(|h| h.properties["source"] == "classifier"));
    // Nothing left behind but the three files.
    assert_eq!(std::fs::read_dir(&a).unwrap().count(), 3);
}

#[test]
fn classify_refuses_a_missing_bundle_in_one_line_with_exit_2() {
    let o = breadcrumb(&["site", "classify", "no/such/bundle", "-o", "/tmp/never-written"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("no/such/bundle") && e.contains("no such file"), "{e}");
}

#[test]
fn gale_sand_ripple_iou_reaches_the_target_and_no_real_drive_crosses_a_blocking_class() {
    let site = gale();
    let dir = tempfile::tempdir().unwrap();
    classify_into(&site, dir.path());
    let predicted = load_hazards(&dir.path().join("classes.geojson")).unwrap();
    let truth = load_hazards(&repo().join("fixtures/labels/gale-marias-pass.geojson")).unwrap();
    // Sand only: scoring every class rasterises each pair of outlines (35 outcrop patches),
    // minutes in a test build; the other classes' figures are in docs/perception.md.
    let sand_only = |h: &&breadcrumb_tools::terrain::Hazard| h.class == HazardClass::SandRipple;
    let truth: Vec<_> = truth.iter().filter(sand_only).cloned().collect();
    let sand_predicted: Vec<_> = predicted.iter().filter(sand_only).cloned().collect();
    let scores = score(&truth, &sand_predicted);
    for s in &scores {
        eprintln!(
            "gale {:<14} truth {:>2} predicted {:>3} matched {:>2} precision {:?} recall {:?} area IoU {:?}",
            s.class.as_str(),
            s.truth_objects,
            s.predicted_objects,
            s.matched,
            s.precision,
            s.recall,
            s.area_iou
        );
    }
    let sand = scores.iter().find(|s| s.class == HazardClass::SandRipple).unwrap();
    let iou = sand.area_iou.unwrap();
    assert!(iou >= 0.6, "sand_ripple area IoU {iou:.3} < 0.6");

    let (drives, _) = load_routes(&site.join("drives.geojson")).unwrap();
    assert_eq!(drives.len(), 22);
    let blocking: Vec<_> = predicted
        .iter()
        .filter(|h| blocks(h.class))
        .flat_map(|h| h.shape.0.iter().map(move |p| (h.class, p)))
        .collect();
    let mut crossings = Vec::new();
    for d in &drives {
        let nearest = d
            .points
            .windows(2)
            .flat_map(|s| {
                blocking.iter().map(move |(c, p)| (segment_to_polygon(s[0], s[1], p).distance, *c))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((dist, class)) = nearest {
            eprintln!(
                "drive {}: nearest blocking class {} at {dist:.2} m",
                d.label(),
                class.as_str()
            );
            if dist == 0.0 {
                crossings.push(format!("{} crosses {}", d.label(), class.as_str()));
            }
        }
    }
    assert!(crossings.is_empty(), "{crossings:?}");
}
