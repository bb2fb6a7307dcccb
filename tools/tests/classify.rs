//! The baseline terrain classifier: analytic cases, bad input, determinism, the classes tile
//! layer and its cost.

use std::path::{Path, PathBuf};
use std::time::Instant;

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::perception::classify::{classify, hazards_geojson, Class};
use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff};
use breadcrumb_tools::terrain::{Bundle, GeoTransform, Grid, HazardClass, Sol};
use breadcrumb_tools::tiles::{render_image, Layer, Overlays, TileRequest};

const SIDE: usize = 120;

fn dem_t() -> GeoTransform {
    GeoTransform { x0: 1000.0, y0: 2000.0, dx: 1.0, dy: -1.0 }
}

/// A bundle of `dem(x, y)` (1 m cells) and, when given, a 0.5 m ortho of `ortho(x, y)` (DN).
fn bundle(
    dir: &Path,
    dem: impl FnMut(f64, f64) -> f32,
    ortho: Option<&dyn Fn(f64, f64) -> f64>,
) -> PathBuf {
    let b = dir.join("site");
    std::fs::create_dir_all(&b).unwrap();
    let grid = Grid::from_fn(SIDE, SIDE, dem_t(), dem);
    write_f32_geotiff(&b.join("dem.tif"), &grid, "", -32768.0).unwrap();
    if let Some(f) = ortho {
        let t = GeoTransform { dx: 0.5, dy: -0.5, ..dem_t() };
        let px: Vec<u8> = (0..2 * SIDE * 2 * SIDE)
            .map(|i| {
                let (x, y) = t.cell_center((i % (2 * SIDE)) as i64, (i / (2 * SIDE)) as i64);
                f(x, y).round().clamp(1.0, 255.0) as u8
            })
            .collect();
        write_u8_geotiff(&b.join("ortho.tif"), 2 * SIDE, 2 * SIDE, t, "", px).unwrap();
    }
    b
}

fn whole(b: &Bundle) -> (f64, f64, f64, f64) {
    b.dem.extent()
}

fn share(map: &breadcrumb_tools::perception::ClassMap, class: Class) -> f64 {
    let area = map.areas_m2().into_iter().find(|(c, _)| *c == class).map_or(0.0, |(_, a)| a);
    area / (map.width * map.height) as f64 / map.cell_area_m2()
}

/// Ground-like grain: a deterministic hash of the pixel, a few DN either way.
fn grain(x: f64, y: f64) -> f64 {
    let h = ((x * 7919.0 + y * 104_729.0).sin() * 43_758.545).fract();
    4.0 * (h - 0.5)
}

#[test]
fn a_flat_plane_is_ground_and_a_plane_steeper_than_the_tilt_limit_is_scarp() {
    let dir = tempfile::tempdir().unwrap();
    let flat = Bundle::open(bundle(dir.path(), |_, _| -2500.0, Some(&|x, y| 120.0 + grain(x, y))))
        .unwrap();
    let map = classify(&flat, whole(&flat)).unwrap();
    assert_eq!((map.width, map.height), (SIDE, SIDE));
    assert!(share(&map, Class::Ground) > 0.99, "{:?}", map.areas_m2());
    assert!(map.to_hazards().is_empty());

    let dir = tempfile::tempdir().unwrap();
    // 30 degrees, past the 25 degree tilt limit.
    let steep = 30f64.to_radians().tan();
    let b = Bundle::open(bundle(dir.path(), |x, _| (x * steep) as f32, None)).unwrap();
    let map = classify(&b, whole(&b)).unwrap();
    let blocking = map
        .codes
        .iter()
        .filter(|&&c| {
            Class::from_code(c)
                .and_then(Class::hazard)
                .is_some_and(breadcrumb_tools::checker::rules::hazards::blocks)
        })
        .count();
    // Every cell with a slope (all but the outer ring) blocks, as a scarp.
    assert!(blocking >= (SIDE - 2) * (SIDE - 2), "{blocking} {:?}", map.areas_m2());
    assert_eq!(map.class_at(1060.5, 1940.5), Class::Scarp);
    // 20 degrees is under the limit: ground.
    let dir = tempfile::tempdir().unwrap();
    let gentle = 20f64.to_radians().tan();
    let b = Bundle::open(bundle(dir.path(), |x, _| (x * gentle) as f32, None)).unwrap();
    let map = classify(&b, whole(&b)).unwrap();
    assert!(share(&map, Class::Ground) > 0.99, "{:?}", map.areas_m2());
}

/// Megaripples (6 m wavelength, 0.4 m high, crests north-south) in the west half, in the DEM
/// and as dark sand with bright crests in the image; plain regolith in the east.
fn ripple_site(dir: &Path) -> Bundle {
    let lambda = 6.0;
    let in_field = |x: f64| x < 1060.0;
    let dem = move |x: f64, _y: f64| {
        if in_field(x) {
            (0.2 * (std::f64::consts::TAU * x / lambda).sin()) as f32
        } else {
            0.0
        }
    };
    let ortho = move |x: f64, y: f64| {
        if in_field(x) {
            let s = (std::f64::consts::TAU * x / lambda).sin();
            88.0 + 25.0 * s + grain(x, y)
        } else {
            127.0 + 3.0 * grain(x, y)
        }
    };
    Bundle::open(bundle(dir, dem, Some(&ortho))).unwrap()
}

#[test]
fn a_periodic_ripple_field_in_the_image_and_dem_is_sand_ripple() {
    let dir = tempfile::tempdir().unwrap();
    let b = ripple_site(dir.path());
    let map = classify(&b, whole(&b)).unwrap();
    // Well inside the field and well outside it.
    assert_eq!(map.class_at(1030.2, 1940.7), Class::SandRipple, "{:?}", map.areas_m2());
    assert_eq!(map.class_at(1095.5, 1940.5), Class::Ground);
    let sand: Vec<_> =
        map.to_hazards().into_iter().filter(|h| h.class == HazardClass::SandRipple).collect();
    assert_eq!(sand.len(), 1, "one field, one polygon");
    let area = sand[0].properties["area_m2"].as_f64().unwrap();
    assert!((5000.0..=7300.0).contains(&area), "{area}");
    assert_eq!(sand[0].properties["source"], "classifier");
}

#[test]
fn the_same_input_gives_the_same_classes_and_polygons_and_a_window_agrees_with_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let b = ripple_site(dir.path());
    let a = classify(&b, whole(&b)).unwrap();
    let again = classify(&b, whole(&b)).unwrap();
    assert_eq!(a, again);
    assert_eq!(hazards_geojson(&a.to_hazards()), hazards_geojson(&again.to_hazards()));
    // A GeoTIFF of it holds exactly the codes, byte for byte on a rewrite.
    let (p1, p2) = (dir.path().join("a.tif"), dir.path().join("b.tif"));
    a.write_geotiff(&p1, "").unwrap();
    again.write_geotiff(&p2, "").unwrap();
    assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
    // A window inside the site gives the same classes where the patches are whole in it.
    let part = classify(&b, (1010.0, 1890.0, 1110.0, 1990.0)).unwrap();
    assert_eq!((part.width, part.height), (100, 100));
    assert_eq!(part.class_at(1030.2, 1940.7), a.class_at(1030.2, 1940.7));
    assert_eq!(part.class_at(1095.5, 1940.5), a.class_at(1095.5, 1940.5));
}

#[test]
fn nodata_no_ortho_tiny_and_off_map_windows_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Holes of NaN and a NaN quadrant, no ortho.
    let b = Bundle::open(bundle(
        dir.path(),
        |x, y| {
            if (x > 1080.0 && y > 1960.0) || ((x as i64 + y as i64) % 17 == 0) {
                f32::NAN
            } else {
                ((x * 0.37).sin() * 0.3) as f32
            }
        },
        None,
    ))
    .unwrap();
    let map = classify(&b, whole(&b)).unwrap();
    assert_eq!(map.class_at(1100.5, 1990.5), Class::NoData);
    assert_eq!(map.class_at(f64::NAN, 0.0), Class::NoData);
    assert_eq!(map.class_at(0.0, 0.0), Class::NoData, "off the map");
    let _ = map.to_hazards();
    // A window smaller than a cell gives that cell; a point too.
    let tiny = classify(&b, (1010.2, 1950.2, 1010.4, 1950.3)).unwrap();
    assert_eq!((tiny.width, tiny.height), (1, 1));
    let point = classify(&b, (1010.5, 1950.5, 1010.5, 1950.5)).unwrap();
    assert_eq!((point.width, point.height), (1, 1));
    // Off the map, reversed or not finite: a clear error.
    let e = classify(&b, (0.0, 0.0, 10.0, 10.0)).unwrap_err().to_string();
    assert!(e.contains("outside the DEM"), "{e}");
    assert!(classify(&b, (1050.0, 1950.0, 1010.0, 1990.0)).is_err());
    assert!(classify(&b, (f64::NAN, 1950.0, 1010.0, 1990.0)).is_err());
    assert!(classify(&b, (f64::NEG_INFINITY, 1950.0, 1010.0, 1990.0)).is_err());
    // A wholly no-data DEM is all no-data.
    let dir = tempfile::tempdir().unwrap();
    let b = Bundle::open(bundle(dir.path(), |_, _| f32::NAN, Some(&|_, _| 100.0))).unwrap();
    let map = classify(&b, whole(&b)).unwrap();
    assert!(map.codes.iter().all(|&c| c == Class::NoData.code()));
    assert!(map.to_hazards().is_empty());
}

#[test]
fn the_classes_layer_paints_the_classifier_and_costs_little_after_the_first_call() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sol = Sol::load(&root.join("fixtures/sols/ripple-slope-01.toml")).unwrap();
    let tb = Toolbox::open(&sol).unwrap();
    let s = &sol.sol;
    let args = serde_json::json!({
        "centre_x_m": f64::midpoint(s.start.x, s.goal.x),
        "centre_y_m": f64::midpoint(s.start.y, s.goal.y),
        "size_m": 120.0,
        "layer": "classes",
    });
    let first = tb.call("view_tile", &args).unwrap();
    assert_eq!(first.result["layer"], "classes");
    assert!(first.result["source"].as_str().unwrap().contains("classifier"));
    assert!(tb.class_map().is_some(), "the sol's map is cached");
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let again = tb.call("view_tile", &args).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(again.images[0].png, first.images[0].png, "deterministic");
    }
    // The painting itself; the whole call also draws the grid, labels and encodes PNG + JPEG.
    eprintln!("view_tile classes after the first call: {:.1} ms", best * 1e3);
    let bundle = tb.bundle();
    let map = tb.class_map().unwrap();
    let request = TileRequest::new(s.start.x, s.start.y, 120.0, Layer::Classes).with_px(1024);
    let t = Instant::now();
    let _ = render_image(bundle, &request, &Overlays::default().with_classes(map)).unwrap();
    eprintln!("render_image classes (cached map): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
}
