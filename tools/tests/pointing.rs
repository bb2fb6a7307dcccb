//! Pointing in pixels: a point given as a pixel of a tile the model was shown resolves to the
//! map point under that pixel (a drawn feature found in the image resolves to its map position
//! within half a pixel, at every tile size), exactly as the same point in metres; unknown
//! tiles, pixels off a tile and unknown candidates are structured errors; Set-of-Mark
//! candidates are safe places and resolve to what the tile lists.

use std::path::{Path, PathBuf};

use breadcrumb_tools::api::{resolve_point, Effect, PointM, ToolCallError, Toolbox};
use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff};
use breadcrumb_tools::terrain::{GeoTransform, Grid, Sol};
use breadcrumb_tools::tiles::Frame;
use serde_json::{json, Value};

/// The bright square's map rectangle (x0, y0, x1, y1).
const SQUARE: (f64, f64, f64, f64) = (1043.0, 4933.0, 1053.0, 4941.0);

/// A 200 m site at 1 m (DEM, a gentle plane) and 0.5 m (ortho, grey 100 with a bright square
/// at [`SQUARE`] when `with_square`, and two stripes that pin the contrast stretch), and a sol
/// whose start and goal lie far from the square; returns the sol's path.
fn site(dir: &Path, with_square: bool) -> PathBuf {
    let b = dir.join("site");
    std::fs::create_dir_all(&b).unwrap();
    let dem_t = GeoTransform { x0: 1000.0, y0: 5000.0, dx: 1.0, dy: -1.0 };
    let dem =
        Grid::from_fn(200, 200, dem_t, |x, y| (0.01 * (x - 1000.0) + 0.02 * (y - 4800.0)) as f32);
    write_f32_geotiff(&b.join("dem.tif"), &dem, "", -32767.0).unwrap();
    let ortho_t = GeoTransform { x0: 1000.0, y0: 5000.0, dx: 0.5, dy: -0.5 };
    let (sx0, sy0, sx1, sy1) = SQUARE;
    let ortho = Grid::from_fn(400, 400, ortho_t, |x, y| {
        if with_square && (sx0..sx1).contains(&x) && (sy0..sy1).contains(&y) {
            255.0
        } else if (1004.0..1006.0).contains(&x) {
            1.0
        } else if (1194.0..1196.0).contains(&x) {
            255.0
        } else {
            100.0
        }
    });
    let pixels = ortho.data.iter().map(|v| *v as u8).collect();
    write_u8_geotiff(&b.join("ortho.tif"), 400, 400, ortho_t, "", pixels).unwrap();
    let rover = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    let sol = format!(
        r#"id = "pointing"
bundle = "site"
rover = "{}"
drive_budget_m = 400.0
keep_in = [[1000.0, 4800.0], [1200.0, 4800.0], [1200.0, 5000.0], [1000.0, 5000.0]]
[start]
x = 1020.0
y = 4820.0
heading_deg = 90.0
[goal]
x = 1180.0
y = 4820.0
tolerance_m = 2.0
"#,
        rover.display()
    );
    std::fs::write(dir.join("sol.toml"), sol).unwrap();
    dir.join("sol.toml")
}

fn open(sol: &Path, px: u32) -> Toolbox {
    Toolbox::open(&Sol::load(sol).unwrap()).unwrap().with_tile_px(px)
}

fn frame_of(r: &Value) -> Frame {
    let f = |k: &str| r[k].as_f64().unwrap();
    Frame {
        min_x_m: f("min_x_m"),
        min_y_m: f("min_y_m"),
        max_x_m: f("max_x_m"),
        max_y_m: f("max_y_m"),
        m_per_px: f("m_per_px"),
        width_px: r["width_px"].as_u64().unwrap() as u32,
        height_px: r["height_px"].as_u64().unwrap() as u32,
    }
}

fn rgb(png: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
}

fn pixel(tile: &str, u: f64, v: f64) -> PointM {
    PointM::Pixel { tile: tile.to_owned(), u, v }
}

/// The square, found in the image (pixels it brightened by at least half its contrast; the
/// same tile without it is the reference), resolves through its tile's pixels to its map
/// centre within half a pixel, at every tile size and for tiles placed off the grid.
#[test]
fn a_drawn_feature_s_pixels_resolve_to_its_map_position_at_every_tile_size() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (with, without) = (site(a.path(), true), site(b.path(), false));
    let (cx, cy) = (0.5 * (SQUARE.0 + SQUARE.2), 0.5 * (SQUARE.1 + SQUARE.3));
    let mut report = Vec::new();
    for px in [256u32, 384, 512, 768, 1024, 1536, 2048] {
        let (t1, t2) = (open(&with, px), open(&without, px));
        for (centre, size) in
            [((1040.0, 4950.0), 64.0), ((1047.3, 4931.9), 41.7), ((1100.0, 4900.0), 200.0)]
        {
            let args = json!({"centre_x_m": centre.0, "centre_y_m": centre.1, "size_m": size});
            let (o1, o2) =
                (t1.call("view_tile", &args).unwrap(), t2.call("view_tile", &args).unwrap());
            let id = o1.result["tile_id"].as_str().unwrap().to_owned();
            assert_eq!(id, o2.result["tile_id"], "the id is the footprint's, whichever toolbox");
            let f = frame_of(&o1.result);
            let (i1, i2) = (rgb(&o1.images[0].png), rgb(&o2.images[0].png));
            let diff = |x: u32, y: u32| {
                i32::from(i1.get_pixel(x, y).0[0]) - i32::from(i2.get_pixel(x, y).0[0])
            };
            let max = (0..px)
                .flat_map(|y| (0..px).map(move |x| (x, y)))
                .map(|(x, y)| diff(x, y))
                .max()
                .unwrap();
            assert!(max > 60, "{px} px, {size} m: the square shows ({max})");
            let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
            for y in 0..px {
                for x in 0..px {
                    if diff(x, y) * 2 >= max {
                        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                    }
                }
            }
            // The square's centre in continuous pixel coordinates: halfway between its first
            // pixel's left (top) edge and its last pixel's right (bottom) edge.
            let (u, v) = (0.5 * f64::from(x0 + x1 + 1), 0.5 * f64::from(y0 + y1 + 1));
            let (x, y) = resolve_point(&t1, "p", &pixel(&id, u, v)).unwrap();
            let err_px = ((x - cx) / f.m_per_px).abs().max(((y - cy) / f.m_per_px).abs());
            report.push(format!("{px} px {size} m: {err_px:.3} px ({:.4} m)", err_px * f.m_per_px));
            assert!(err_px <= 0.5 + 1e-9, "{px} px, {size} m: off by {err_px} px");
            // And every pixel maps back and forth exactly.
            for (u, v) in [(0.0, 0.0), (0.5, 0.5), (f64::from(px), f64::from(px)), (123.25, 77.5)] {
                let (x, y) = resolve_point(&t1, "p", &pixel(&id, u, v)).unwrap();
                let (bu, bv) = f.to_px(x, y);
                assert!((bu - u).abs() < 1e-6 && (bv - v).abs() < 1e-6, "{u} {v} -> {bu} {bv}");
            }
        }
    }
    println!("pixel -> map error of the square's centre:\n{}", report.join("\n"));
}

#[test]
fn unknown_tiles_pixels_off_a_tile_and_unknown_candidates_are_structured_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tb = open(&site(dir.path(), false), 512);
    let r = tb
        .call("view_tile", &json!({"centre_x_m": 1100.0, "centre_y_m": 4900.0, "size_m": 50.0}))
        .unwrap()
        .result;
    let id = r["tile_id"].as_str().unwrap();
    let wp = |p: Value| json!({"waypoints": [{"x_m": 1020.0, "y_m": 4820.0}, p]});
    match tb.call("check_route", &wp(json!({"tile": "t00000000", "u": 3.0, "v": 4.0}))) {
        Err(ToolCallError::UnknownTile { field, tile, recent }) => {
            assert_eq!((field.as_str(), tile.as_str()), ("waypoints[1]", "t00000000"));
            assert_eq!(recent, [id.to_owned()], "the latest tiles are named");
        }
        e => panic!("{e:?}"),
    }
    for (u, v) in [(-0.1, 10.0), (10.0, 512.5), (600.0, 3.0)] {
        match tb.call("path_cost", &wp(json!({"tile": id, "u": u, "v": v}))) {
            Err(ToolCallError::OffTile { field, width_px, height_px, .. }) => {
                assert_eq!((field.as_str(), width_px, height_px), ("waypoints[1]", 512, 512));
            }
            e => panic!("({u}, {v}): {e:?}"),
        }
    }
    match tb.call("submit_route", &wp(json!({"tile": id, "candidate": 999}))) {
        Err(ToolCallError::UnknownCandidate { field, candidate, numbers, .. }) => {
            assert_eq!((field.as_str(), candidate), ("waypoints[1]", 999));
            assert!(!numbers.is_empty() && numbers[0] == 1, "{numbers:?}");
        }
        e => panic!("{e:?}"),
    }
    match tb.call("slope_query", &json!({"at": {"tile": id, "u": 1.0}})) {
        Err(ToolCallError::InvalidArguments { field, message }) => {
            assert_eq!(field.as_deref(), Some("at"));
            assert!(message.contains("\"tile\"") && message.contains("got tile, u"), "{message}");
        }
        e => panic!("{e:?}"),
    }
    match tb.call(
        "hazard_lookup",
        &json!({"x_m": 1100.0, "y_m": 4900.0, "at": {"x_m": 1.0, "y_m": 2.0}}),
    ) {
        Err(ToolCallError::InvalidArguments { field, .. }) => {
            assert_eq!(field.as_deref(), Some("at"));
        }
        e => panic!("{e:?}"),
    }
    match tb.call("hazard_lookup", &json!({"radius_m": 5.0})) {
        Err(ToolCallError::InvalidArguments { field, .. }) => {
            assert_eq!(field.as_deref(), Some("x_m/y_m"));
        }
        e => panic!("{e:?}"),
    }
    match tb.call(
        "elevation_profile",
        &json!({"waypoints": [{"tile": id, "u": f64::MAX, "v": 1.0}, {"x_m": 1.0, "y_m": 2.0}]}),
    ) {
        Err(ToolCallError::OffTile { .. }) => {}
        e => panic!("{e:?}"),
    }
    // Every error reads as one line the model can act on.
    let e = tb.call("check_route", &wp(json!({"tile": id, "u": 900.0, "v": 3.0}))).unwrap_err();
    assert!(e.to_string().contains("u 0 to 512"), "{e}");
    assert_eq!(e.to_json()["error"], "off_tile");
}

/// The same route, once in metres and once as pixels of the overview: the same verdict, the
/// same cost, the same submission, and the pixels echoed back in metres.
#[test]
fn a_route_given_in_pixels_is_checked_as_the_same_route_in_metres() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
    let sol = Sol::load(&fixtures.join("plains-02-keepout.toml")).unwrap();
    let tb = Toolbox::open(&sol).unwrap().with_tile_px(768);
    let ov = breadcrumb_tools::tiles::corridor_overview(&sol.sol);
    let r = tb
        .call(
            "view_tile",
            &json!({"centre_x_m": ov.centre_x, "centre_y_m": ov.centre_y, "size_m": ov.size_m}),
        )
        .unwrap()
        .result;
    let id = r["tile_id"].as_str().unwrap();
    let f = frame_of(&r);
    let (s, g) = (&sol.sol.start, &sol.sol.goal);
    // Points chosen as pixels (as a model would), their map points computed from the frame.
    let uv = [f.to_px(s.x, s.y), (301.5, 402.25), (520.0, 380.75), f.to_px(g.x, g.y)];
    let pts: Vec<(f64, f64)> = uv.iter().map(|&(u, v)| f.to_map(u, v)).collect();
    let metres: Vec<Value> = pts.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect();
    let pixels: Vec<Value> = uv.iter().map(|p| json!({"tile": id, "u": p.0, "v": p.1})).collect();
    for tool in ["check_route", "path_cost", "elevation_profile"] {
        let m = tb.call(tool, &json!({ "waypoints": metres })).unwrap().result;
        let mut p = tb.call(tool, &json!({ "waypoints": pixels })).unwrap().result;
        let echo = p.as_object_mut().unwrap().remove("resolved").unwrap();
        assert_eq!(m, p, "{tool}: the pixel route is the metre route");
        assert!(m.get("resolved").is_none(), "{tool}: nothing to echo for metres");
        for (e, q) in echo.as_array().unwrap().iter().zip(&pts) {
            assert!((e["x_m"].as_f64().unwrap() - q.0).abs() <= 5e-4, "{e}");
            assert!((e["y_m"].as_f64().unwrap() - q.1).abs() <= 5e-4, "{e}");
        }
    }
    let m = tb.call("submit_route", &json!({ "waypoints": metres })).unwrap().effect;
    let p = tb.call("submit_route", &json!({ "waypoints": pixels })).unwrap().effect;
    assert_eq!(m, p);
    assert_eq!(m, Some(Effect::Submit { waypoints: pts.clone() }));
    // A point query by pixel answers as by metres.
    let (a, b) = (pts[1], pts[2]);
    for tool in ["slope_query", "hazard_lookup"] {
        let m = tb
            .call(tool, &json!({"x_m": a.0, "y_m": a.1, "to_x_m": b.0, "to_y_m": b.1}))
            .unwrap()
            .result;
        let mut p = tb.call(tool, &json!({"at": pixels[1], "to": pixels[2]})).unwrap().result;
        assert_eq!(
            p.as_object_mut().unwrap().remove("resolved").unwrap().as_array().unwrap().len(),
            2
        );
        assert_eq!(m, p, "{tool}");
    }
}

/// Candidates: drawn when asked for, listed with their map point and pixel, each a place the
/// rover may stand (outside every keep-out and blocking hazard by the buffer), and naming one
/// resolves to the point listed.
#[test]
fn candidates_are_safe_numbered_and_resolve_to_the_points_listed() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
    let sol = Sol::load(&fixtures.join("plains-02-keepout.toml")).unwrap();
    let tb = Toolbox::open(&sol).unwrap().with_tile_px(1024);
    let ov = breadcrumb_tools::tiles::corridor_overview(&sol.sol);
    let args = json!({"centre_x_m": ov.centre_x, "centre_y_m": ov.centre_y, "size_m": ov.size_m,
                      "candidates": true});
    let out = tb.call("view_tile", &args).unwrap();
    if let Some(dir) = std::env::var_os("BREADCRUMB_SAVE_TILES") {
        std::fs::write(Path::new(&dir).join("candidates.png"), &out.images[0].png).unwrap();
    }
    let r = &out.result;
    let id = r["tile_id"].as_str().unwrap();
    let f = frame_of(r);
    let cands = r["candidates"].as_array().unwrap();
    assert!(cands.len() >= 20 && cands.len() <= 64, "{}", cands.len());
    let buffer = tb.profile().hazard_buffer_m();
    for (i, c) in cands.iter().enumerate() {
        assert_eq!(c["candidate"].as_u64().unwrap() as usize, i + 1, "numbered from 1 in order");
        let (x, y) = (c["x_m"].as_f64().unwrap(), c["y_m"].as_f64().unwrap());
        let (u, v) = f.to_px(x, y);
        assert!(
            (u - c["u"].as_f64().unwrap()).abs() < 0.02
                && (v - c["v"].as_f64().unwrap()).abs() < 0.02
        );
        let got = resolve_point(
            &tb,
            "p",
            &PointM::Candidate { tile: id.into(), candidate: i as u32 + 1 },
        );
        assert_eq!(got.unwrap(), (x, y));
        let h = tb
            .call(
                "hazard_lookup",
                &json!({"at": {"tile": id, "candidate": i + 1}, "radius_m": 5.0}),
            )
            .unwrap()
            .result;
        for k in h["keep_out"].as_array().unwrap() {
            assert!(k["distance_m"].as_f64().unwrap() >= buffer, "candidate {} near {k}", i + 1);
        }
        for m in h["mapped"].as_array().unwrap() {
            if m["blocking"] == true {
                assert!(
                    m["distance_m"].as_f64().unwrap() >= buffer,
                    "candidate {} near {m}",
                    i + 1
                );
            }
        }
        let s = tb
            .call("slope_query", &json!({"at": {"tile": id, "candidate": i + 1}}))
            .unwrap()
            .result;
        assert!(s["max_tilt"]["value"].as_f64().unwrap() < s["tilt_limit_deg"].as_f64().unwrap());
    }
    // The same tile without candidates has the same id, and its candidates still resolve.
    let plain = json!({"centre_x_m": ov.centre_x, "centre_y_m": ov.centre_y, "size_m": ov.size_m});
    let again = tb.call("view_tile", &plain).unwrap().result;
    assert_eq!(again["tile_id"], id);
    assert!(again.get("candidates").is_none());
}
