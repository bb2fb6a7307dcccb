//! Tiles and overlays: a feature at known map coordinates lands at the pixel the footprint
//! predicts, footprints and token estimates are exact, off-map requests are handled, output is
//! deterministic, and real Gale terrain renders.

use std::path::{Path, PathBuf};

use breadcrumb_tools::checker::{check_sol, Plan};
use breadcrumb_tools::render::{overlay_request, render_overlay, RenderOptions};
use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff};
use breadcrumb_tools::terrain::{Bundle, GeoTransform, Grid, Sol};
use breadcrumb_tools::tiles::layers::{NODATA, NODATA_HATCH};
use breadcrumb_tools::tiles::{
    corridor_overview, encode_jpeg, encode_png, render_image, render_tile, Layer, Overlays,
    TileRequest, MODEL_JPEG_QUALITY,
};
use image::RgbImage;

use crate::realdata;

/// DEM: 200 m square at 1 m from (1000, 5000) down to (1200, 4800), a gentle plane.
/// Ortho: the same area at 0.5 m, grey 100, with a dark stripe (x 1010–1014) and a bright
/// stripe (x 1064–1068) that pin the contrast stretch, and optionally a bright square at
/// x 1043–1053, y 4933–4941.
fn synthetic_bundle(dir: &Path, with_square: bool) -> PathBuf {
    let dem_t = GeoTransform { x0: 1000.0, y0: 5000.0, dx: 1.0, dy: -1.0 };
    let dem =
        Grid::from_fn(200, 200, dem_t, |x, y| (0.01 * (x - 1000.0) + 0.02 * (y - 4800.0)) as f32);
    write_f32_geotiff(&dir.join("dem.tif"), &dem, "", -32767.0).unwrap();
    let ortho_t = GeoTransform { x0: 1000.0, y0: 5000.0, dx: 0.5, dy: -0.5 };
    let ortho = Grid::from_fn(400, 400, ortho_t, |x, y| {
        if with_square && (1043.0..1053.0).contains(&x) && (4933.0..4941.0).contains(&y) {
            255.0
        } else if (1010.0..1014.0).contains(&x) {
            1.0
        } else if (1064.0..1068.0).contains(&x) {
            255.0
        } else {
            100.0
        }
    });
    let pixels = ortho.data.iter().map(|v| *v as u8).collect();
    write_u8_geotiff(&dir.join("ortho.tif"), 400, 400, ortho_t, "", pixels).unwrap();
    dir.to_path_buf()
}

fn decode(png: &[u8]) -> RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[test]
fn a_feature_lands_at_the_pixel_the_footprint_predicts() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let with = Bundle::open(synthetic_bundle(a.path(), true)).unwrap();
    let without = Bundle::open(synthetic_bundle(b.path(), false)).unwrap();
    // 64 m at 512 px: 0.125 m/px, x 1008..1072, y 4918..4982.
    let req = TileRequest::new(1040.0, 4950.0, 64.0, Layer::Ortho).with_px(512);
    let t1 = render_tile(&with, &req, &Overlays::default()).unwrap();
    let t2 = render_tile(&without, &req, &Overlays::default()).unwrap();
    let f = t1.info.frame;
    assert_eq!(
        (f.min_x_m, f.max_x_m, f.min_y_m, f.max_y_m, f.m_per_px),
        (1008.0, 1072.0, 4918.0, 4982.0, 0.125)
    );
    let (i1, i2) = (decode(&t1.png), decode(&t2.png));
    // Pixels that the square brightened by at least half its contrast.
    let diff =
        |x: u32, y: u32| i32::from(i1.get_pixel(x, y).0[0]) - i32::from(i2.get_pixel(x, y).0[0]);
    let max = (0..512)
        .flat_map(|y| (0..512).map(move |x| (x, y)))
        .map(|(x, y)| diff(x, y))
        .max()
        .unwrap();
    assert!(max > 100, "the square shows: {max}");
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..512 {
        for x in 0..512 {
            if diff(x, y) * 2 >= max {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
    }
    // Predicted from the footprint alone: pixels whose centres lie inside the square.
    let col = |x: f64| (x - f.min_x_m) / f.m_per_px - 0.5;
    let row = |y: f64| (f.max_y_m - y) / f.m_per_px - 0.5;
    let want = (
        col(1043.0).ceil() as u32,
        row(4941.0).ceil() as u32,
        col(1053.0).floor() as u32,
        row(4933.0).floor() as u32,
    );
    assert_eq!(
        (x0, y0, x1, y1),
        want,
        "square found at {:?}, footprint predicts {want:?}",
        (x0, y0, x1, y1)
    );
    assert_eq!(want, (280, 328, 359, 391));

    // The grid: 64 m gives lines every 10 m; x = 1040 is the boundary between columns 255 and
    // 256, so those two columns are lightened where the grey background (not a label) is.
    assert_eq!(t1.info.grid_interval_m, 10.0);
    let grey = |x: u32| i2.get_pixel(x, 300).0[0];
    assert!(
        grey(255) > grey(250) + 20 && grey(256) > grey(262) + 20,
        "{} {} {} {}",
        grey(250),
        grey(255),
        grey(256),
        grey(262)
    );
    // y = 4950 is the boundary between rows 255 and 256.
    let grey_row = |y: u32| i2.get_pixel(300, y).0[0];
    assert!(grey_row(255) > grey_row(250) + 20 && grey_row(256) > grey_row(262) + 20);
}

#[test]
fn footprint_scale_and_tokens_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::open(synthetic_bundle(dir.path(), false)).unwrap();
    let tile = render_tile(
        &bundle,
        &TileRequest::new(1100.0, 4900.0, 150.0, Layer::Slope),
        &Overlays::default(),
    )
    .unwrap();
    let i = &tile.info;
    assert_eq!(
        (i.frame.min_x_m, i.frame.min_y_m, i.frame.max_x_m, i.frame.max_y_m),
        (1025.0, 4825.0, 1175.0, 4975.0)
    );
    assert_eq!(i.frame.m_per_px, 150.0 / 1024.0);
    assert_eq!((i.frame.width_px, i.frame.height_px), (1024, 1024));
    assert_eq!((i.tokens.anthropic, i.tokens.openai_high), (1399, 765));
    let img = decode(&tile.png);
    assert_eq!(img.dimensions(), (1024, 1024));
    let json = serde_json::to_value(i).unwrap();
    for key in ["min_x_m", "max_y_m", "m_per_px", "width_px", "grid_interval_m", "nodata_fraction"]
    {
        assert!(json.get(key).is_some(), "sidecar field {key}: {json}");
    }
    assert_eq!(json["tokens"]["openai_high"], 765);
    assert_eq!(json["layer"], "slope");

    let small = render_tile(
        &bundle,
        &TileRequest::new(1100.0, 4900.0, 150.0, Layer::Ortho).with_px(512),
        &Overlays::default(),
    )
    .unwrap();
    assert_eq!((small.info.tokens.anthropic, small.info.tokens.openai_high), (350, 255));
    assert_eq!(small.info.frame.m_per_px, 150.0 / 512.0);
}

#[test]
fn off_map_areas_are_hatched_and_wholly_off_map_tiles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::open(synthetic_bundle(dir.path(), false)).unwrap();
    // Centred on the DEM's east edge: the east half is off the map.
    for layer in Layer::ALL {
        let tile = render_tile(
            &bundle,
            &TileRequest::new(1200.0, 4900.0, 100.0, layer).with_px(512),
            &Overlays::default(),
        )
        .unwrap();
        assert!(
            (tile.info.nodata_fraction - 0.5).abs() < 0.02,
            "{layer}: {}",
            tile.info.nodata_fraction
        );
        let img = decode(&tile.png);
        // Off-map pixels away from labels are the no-data blue, never black.
        let p = img.get_pixel(400, 300).0;
        assert!(p == NODATA || p == NODATA_HATCH, "{layer}: {p:?}");
    }
    let e = render_tile(
        &bundle,
        &TileRequest::new(5000.0, 4900.0, 100.0, Layer::Ortho),
        &Overlays::default(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("wholly outside the DEM") && msg.contains("x 1000 to 1200"), "{msg}");
    let e = render_tile(
        &bundle,
        &TileRequest::new(f64::NAN, 4900.0, 100.0, Layer::Ortho),
        &Overlays::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("finite"), "{e}");
}

#[test]
fn tiles_and_overlays_are_deterministic() {
    let sol = Sol::load(&fixtures().join("sols/plains-02-keepout.toml")).unwrap();
    let bundle = Bundle::open(&sol.bundle_dir).unwrap();
    let route = [(sol.sol.start.x, sol.sol.start.y), (sol.sol.goal.x, sol.sol.goal.y)];
    let overlays = Overlays::sol(&sol.sol).with_route(&route);
    for layer in Layer::ALL {
        let req = corridor_overview(&sol.sol).with_layer(layer).with_px(512);
        let a = render_tile(&bundle, &req, &overlays).unwrap();
        let b = render_tile(&bundle, &req, &overlays).unwrap();
        assert!(a.png == b.png, "{layer} tile differs between two renders");
    }
    let plan = Plan::from_points(&route);
    let verdict = check_sol(&sol, &plan).unwrap();
    let opts = RenderOptions { panel_px: 384, ..RenderOptions::default() };
    let a = render_overlay(&sol, &route, Some(&verdict), &opts).unwrap();
    let b = render_overlay(&sol, &route, Some(&verdict), &opts).unwrap();
    assert!(a == b, "overlay differs between two renders");
    let img = decode(&a);
    assert_eq!(img.width(), 2 * 384 + 8);
    assert!(img.height() > 384);
}

#[test]
fn the_corridor_overview_covers_start_and_goal_of_every_sol() {
    for entry in std::fs::read_dir(fixtures().join("sols")).unwrap() {
        let path = entry.unwrap().path();
        let sol = Sol::load(&path).unwrap().sol;
        let f = corridor_overview(&sol).frame().unwrap();
        for (x, y) in [(sol.start.x, sol.start.y), (sol.goal.x, sol.goal.y)] {
            assert!(
                x - f.min_x_m >= 15.0 && f.max_x_m - x >= 15.0,
                "{}: x {x} too near the edge",
                sol.id
            );
            assert!(
                y - f.min_y_m >= 15.0 && f.max_y_m - y >= 15.0,
                "{}: y {y} too near the edge",
                sol.id
            );
        }
        assert_eq!(f.width_m() % 10.0, 0.0, "{}: side {} is a whole 10 m", sol.id, f.width_m());
    }
}

#[test]
fn a_failed_plan_shows_its_violations() {
    let sol = Sol::load(&fixtures().join("sols/crater-field-01.toml")).unwrap();
    let route = [(sol.sol.start.x, sol.sol.start.y), (sol.sol.goal.x, sol.sol.goal.y)];
    let verdict = check_sol(&sol, &Plan::from_points(&route)).unwrap();
    assert!(!verdict.pass, "the straight line across the crater field fails");
    let opts = RenderOptions { panel_px: 512, ..RenderOptions::default() };
    let req = overlay_request(&sol.sol, &route, Some(&verdict), &opts);
    let f = req.frame().unwrap();
    for v in &verdict.violations {
        assert!(
            v.x > f.min_x_m && v.x < f.max_x_m && v.y > f.min_y_m && v.y < f.max_y_m,
            "{} off the overlay",
            v.rule
        );
    }
    let img = decode(&render_overlay(&sol, &route, Some(&verdict), &opts).unwrap());
    // Pure violation red is drawn somewhere in each panel.
    let red = |x0: u32, x1: u32| {
        (x0..x1).any(|x| (0..img.height()).any(|y| img.get_pixel(x, y).0 == [255, 20, 20]))
    };
    assert!(red(0, 512) && red(520, 1032));
}

#[test]
fn a_gale_tile_shows_real_terrain_inside_the_dem() {
    let bundle = Bundle::open(realdata("gale-marias-pass")).unwrap();
    let (xmin, ymin, xmax, ymax) = bundle.dem.extent();
    let (cx, cy) = (f64::midpoint(xmin, xmax), f64::midpoint(ymin, ymax));
    for layer in [Layer::Ortho, Layer::Slope] {
        let tile =
            render_tile(&bundle, &TileRequest::new(cx, cy, 200.0, layer), &Overlays::default())
                .unwrap();
        let f = tile.info.frame;
        assert!(
            f.min_x_m >= xmin && f.max_x_m <= xmax && f.min_y_m >= ymin && f.max_y_m <= ymax,
            "{f:?}"
        );
        // (A few ortho pixels in the middle are 0, HiRISE's no-data value.)
        assert!(tile.info.nodata_fraction < 0.001, "{layer}: the centre of Gale has data");
        assert_eq!(tile.info.grid_interval_m, 50.0);
        // Real terrain is not uniform: the middle of the image has a wide spread of values.
        let img = decode(&tile.png);
        let vals: Vec<f64> = (200..800)
            .step_by(7)
            .flat_map(|y| (200..800).step_by(7).map(move |x| (x, y)))
            .map(|(x, y)| f64::from(img.get_pixel(x, y).0[1]))
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let sd = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64).sqrt();
        assert!(sd > 15.0, "{layer}: image too uniform (sd {sd:.1})");
    }
    // The ortho's no-data strip on the west edge is drawn as no-data.
    let west = render_tile(
        &bundle,
        &TileRequest::new(xmin + 40.0, cy, 100.0, Layer::Ortho).with_px(512),
        &Overlays::default(),
    )
    .unwrap();
    assert!(west.info.nodata_fraction > 0.05, "{}", west.info.nodata_fraction);
    assert_eq!(west.info.source, "ortho image");
}

#[test]
fn model_jpeg_is_a_fraction_of_the_png_and_keeps_the_labels() {
    // 1024 px tiles of real Gale terrain, as a model is sent them.
    let bundle = Bundle::open(realdata("gale-marias-pass")).unwrap();
    let (xmin, ymin, xmax, ymax) = bundle.dem.extent();
    let (cx, cy) = (f64::midpoint(xmin, xmax), f64::midpoint(ymin, ymax));
    for layer in [Layer::Ortho, Layer::Slope, Layer::Hazards] {
        let request = TileRequest::new(cx, cy, 200.0, layer).with_px(1024);
        let (img, _) = render_image(&bundle, &request, &Overlays::default()).unwrap();
        assert_eq!(img.dimensions(), (1024, 1024));
        let png = encode_png(&img).unwrap();
        let jpeg = encode_jpeg(&img, MODEL_JPEG_QUALITY).unwrap();
        assert_eq!(jpeg, encode_jpeg(&img, MODEL_JPEG_QUALITY).unwrap(), "deterministic");
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "{layer}: a JPEG");
        let (kb, png_kb) = (jpeg.len() / 1000, png.len() / 1000);
        assert!((100..=500).contains(&kb), "{layer}: {kb} kB of JPEG (PNG {png_kb} kB)");
        assert!(jpeg.len() * 2 < png.len(), "{layer}: {kb} kB of JPEG vs {png_kb} kB of PNG");
        let back =
            image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), img.dimensions());
        // The grid labels are white text on dark boxes along the top edge (x values) and the
        // left edge (y values). Their text pixels are the pure white ones in those two margins
        // (about 1100 at 1024 px on every layer; elsewhere pure white is also bright ground on
        // the ortho, so the rest of the tile is no measure of the labels). Every digit keeps its
        // contrast when the JPEG is still bright where the text is, and the glyphs keep their
        // shape when the JPEG differs little from the PNG on and around them (ringing blurs
        // them into their dark boxes).
        let luma = |p: &image::Rgb<u8>| {
            0.299 * f64::from(p.0[0]) + 0.587 * f64::from(p.0[1]) + 0.114 * f64::from(p.0[2])
        };
        let in_margin = |x: u32, y: u32| y < 40 || x < 120;
        let text: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(x, y, p)| in_margin(*x, *y) && p.0 == [255, 255, 255])
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(text.len() > 800, "{layer}: grid labels drawn ({} text pixels)", text.len());
        let dimmed = text.iter().filter(|(x, y)| luma(back.get_pixel(*x, *y)) < 170.0).count();
        let share = dimmed as f64 / text.len() as f64;
        assert!(
            share < 0.03,
            "{layer}: {:.1} % of the label pixels lost their contrast",
            share * 100.0
        );
        let around: std::collections::BTreeSet<(u32, u32)> = text
            .iter()
            .flat_map(|&(x, y)| {
                (x.saturating_sub(2)..=x + 2)
                    .flat_map(move |nx| (y.saturating_sub(2)..=y + 2).map(move |ny| (nx, ny)))
            })
            .filter(|&(x, y)| x < img.width() && y < img.height())
            .collect();
        let glyph_error = around
            .iter()
            .map(|&(x, y)| (luma(img.get_pixel(x, y)) - luma(back.get_pixel(x, y))).abs())
            .sum::<f64>()
            / around.len() as f64;
        assert!(glyph_error < 8.0, "{layer}: mean error {glyph_error:.1} levels on the labels");
        let error: u64 =
            img.as_raw().iter().zip(back.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = error as f64 / img.as_raw().len() as f64;
        assert!(mean < 4.0, "{layer}: mean error {mean:.2} levels");
        eprintln!("{layer}: PNG {png_kb} kB, JPEG q{MODEL_JPEG_QUALITY} {kb} kB, mean error {mean:.2}, label text {} px, dimmed {:.2} %, error on labels {glyph_error:.2}", text.len(), share * 100.0);
    }
}

#[test]
fn a_wide_classes_tile_is_refused_and_a_wide_image_tile_is_not() {
    // 2100² cells of 1 m: more than the classes layer classifies for one tile.
    let dir = tempfile::tempdir().unwrap();
    let t = GeoTransform { x0: 0.0, y0: 2100.0, dx: 1.0, dy: -1.0 };
    let dem = Grid::from_fn(2100, 2100, t, |x, _| (0.05 * x) as f32);
    write_f32_geotiff(&dir.path().join("dem.tif"), &dem, "", -32767.0).unwrap();
    let b = Bundle::open(dir.path()).unwrap();
    let req = TileRequest::new(1050.0, 1050.0, 3000.0, Layer::Classes).with_px(512);
    let e = render_tile(&b, &req, &Overlays::default()).unwrap_err().to_string();
    assert!(
        e.contains("classes layer classifies the DEM at full resolution")
            && e.contains("at most 2048 m")
            && e.contains("ortho or slope layer"),
        "{e}"
    );
    // The same square as a hillshade (no image here) reads the DEM by 4 and renders.
    let tile = render_tile(&b, &req.with_layer(Layer::Ortho), &Overlays::default()).unwrap();
    assert_eq!(tile.info.source, "DEM hillshade");
    assert!((tile.info.nodata_fraction - (1.0 - 0.7f64.powi(2))).abs() < 0.01);
}
