//! `site import`: real Gale data into a bundle, an ortho warped from another CRS, a HiRISE PDS3
//! `.IMG` DTM, a COG read over HTTP by `/vsicurl/` from a server on 127.0.0.1, and every
//! refusal with its message.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use breadcrumb_sites::import::{import_bundle, ImportOptions, OrthoMethod, FALLBACK_NODATA};
use breadcrumb_tools::terrain::raster_io::{wkt_from_proj4, write_f32_geotiff, write_u8_geotiff};
use breadcrumb_tools::terrain::{Bundle, Dem, GeoTransform, Grid};
use gdal::raster::{reproject, RasterCreationOptions};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::{Dataset, DriverManager, Metadata as _};

use crate::realdata;
use crate::support::write_pds3;

fn gale(file: &str) -> PathBuf {
    realdata("gale-marias-pass").join(file)
}

/// The error message of an import that must fail, after checking it left nothing behind.
fn import_error(opts: &ImportOptions) -> String {
    let e = import_bundle(opts).expect_err("import should fail").to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    if let Some(parent) = opts.out_dir.parent() {
        let leftovers: Vec<_> = std::fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".import-"))
            .collect();
        assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    }
    e
}

#[test]
fn gale_dem_and_ortho_import_onto_the_same_grid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gale");
    let report = import_bundle(&ImportOptions {
        ortho: Some(gale("ortho.tif")),
        ..ImportOptions::new(gale("dem.tif"), &out)
    })
    .unwrap();
    assert_eq!(report.name, "gale");
    let ortho = report.ortho.as_ref().unwrap();
    assert_eq!(ortho.method, OrthoMethod::Copied, "same CRS under another name: copied");

    let src = Bundle::open(realdata("gale-marias-pass")).unwrap();
    let b = Bundle::open(&out).unwrap();
    assert_eq!(b.name(), "gale");
    assert_eq!(b.dem.size(), (348, 337));
    assert_eq!(b.dem.transform(), src.dem.transform());
    assert_eq!(b.dem.nodata(), Some(-32767.0));
    assert_eq!(b.dem.read_all().unwrap().data, src.dem.read_all().unwrap().data);
    let (o, so) = (b.ortho.as_ref().unwrap(), src.ortho.as_ref().unwrap());
    assert_eq!(o.size(), (696, 674));
    assert_eq!(o.transform(), so.transform());
    let (a, z) = (o.read_all().unwrap().data, so.read_all().unwrap().data);
    assert!(a.iter().zip(&z).all(|(a, z)| a == z || (a.is_nan() && z.is_nan())), "pixels copied");

    // The DEM is written as the brief says: Float32, tiled, compressed.
    let ds = Dataset::open(out.join("dem.tif")).unwrap();
    let band = ds.rasterband(1).unwrap();
    assert_eq!(band.band_type(), gdal::raster::GdalDataType::Float32);
    assert_eq!(band.block_size(), (256, 256));
    let compression = ds.metadata_item("COMPRESSION", "IMAGE_STRUCTURE");
    assert_eq!(compression.as_deref(), Some("ZSTD"));

    // The manifest records where the layers came from, and nothing that changes between runs.
    let manifest = std::fs::read_to_string(out.join("bundle.toml")).unwrap();
    let t: toml::Table = toml::from_str(&manifest).unwrap();
    let dem_src = std::fs::canonicalize(gale("dem.tif")).unwrap();
    assert_eq!(t["source"]["dem"]["path"].as_str(), dem_src.to_str());
    assert_eq!(t["source"]["ortho"]["driver"].as_str(), Some("GTiff"));
    assert!(t["crs_proj4"].as_str().unwrap().contains("+proj=eqc"), "{manifest}");
    assert_eq!(t["layers"]["ortho"]["method"].as_str(), Some("copied"));

    // Deterministic: the same import again gives the same bytes.
    let again = dir.path().join("again");
    import_bundle(&ImportOptions {
        ortho: Some(gale("ortho.tif")),
        name: Some("gale".into()),
        ..ImportOptions::new(gale("dem.tif"), &again)
    })
    .unwrap();
    for f in ["bundle.toml", "dem.tif", "ortho.tif"] {
        let (x, y) = (std::fs::read(out.join(f)).unwrap(), std::fs::read(again.join(f)).unwrap());
        assert!(x == y, "{f} differs between two identical imports");
    }
}

/// Paints a bright square (10 x 10 px) inside a dark frame (4 px) with its top-left bright
/// pixel at `(col, row)`, and returns the square's centre in map metres.
fn paint_marker(
    pixels: &mut [u8],
    width: usize,
    t: GeoTransform,
    col: usize,
    row: usize,
) -> [f64; 2] {
    for r in row - 4..row + 14 {
        for c in col - 4..col + 14 {
            let bright = (col..col + 10).contains(&c) && (row..row + 10).contains(&r);
            pixels[r * width + c] = if bright { 255 } else { 1 };
        }
    }
    [t.x0 + (col as f64 + 5.0) * t.dx, t.y0 + (row as f64 + 5.0) * t.dy]
}

/// The centre of the bright pixels within 8 px of `near` (map metres), weighted by brightness
/// above mid-grey, so a square blurred by resampling keeps its centre.
fn marker_centre(ortho: &Dem, near: [f64; 2]) -> [f64; 2] {
    let t = ortho.transform();
    let (c, r) = t.to_cell(near[0], near[1]);
    let (c, r) = (c.floor() as i64, r.floor() as i64);
    let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for rr in r - 8..=r + 8 {
        for cc in c - 8..=c + 8 {
            let v = f64::from(ortho.cell(cc, rr).unwrap().unwrap_or(0.0));
            let w = (v - 128.0).max(0.0);
            let (x, y) = t.cell_center(cc, rr);
            sw += w;
            sx += w * x;
            sy += w * y;
        }
    }
    assert!(sw > 0.0, "no marker near {near:?}");
    [sx / sw, sy / sw]
}

/// Reprojects a raster into `proj4` at `res` metres with GDAL's warper (test data only).
fn warp_to(src: &Path, dst: &Path, proj4: &str, res: f64) {
    let src = Dataset::open(src).unwrap();
    let mut from = src.spatial_ref().unwrap();
    from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut to = SpatialRef::from_proj4(proj4).unwrap();
    to.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let gt = src.geo_transform().unwrap();
    let (w, h) = src.raster_size();
    let extent = [gt[0], gt[3] + h as f64 * gt[5], gt[0] + w as f64 * gt[1], gt[3]];
    let b = CoordTransform::new(&from, &to).unwrap().transform_bounds(&extent, 21).unwrap();
    let (dw, dh) = (((b[2] - b[0]) / res).ceil() as usize, ((b[3] - b[1]) / res).ceil() as usize);
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut out = driver.create_with_band_type::<u8, _>(dst, dw, dh, 1).unwrap();
    out.set_geo_transform(&[b[0], res, 0.0, b[3], 0.0, -res]).unwrap();
    out.set_spatial_ref(&to).unwrap();
    out.rasterband(1).unwrap().set_no_data_value(Some(0.0)).unwrap();
    reproject(&src, &out).unwrap();
}

#[test]
fn an_ortho_in_another_crs_is_warped_and_features_land_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    // The Gale ortho with two markers far apart, so that a shear or a shift would show.
    let ortho = Dataset::open(gale("ortho.tif")).unwrap();
    let (w, h) = ortho.raster_size();
    let t = GeoTransform::from_gdal(ortho.geo_transform().unwrap()).unwrap();
    let mut pixels =
        ortho.rasterband(1).unwrap().read_as::<u8>((0, 0), (w, h), (w, h), None).unwrap();
    let a = paint_marker(pixels.data_mut(), w, t, 200, 200);
    let b = paint_marker(pixels.data_mut(), w, t, 560, 540);
    let marked = dir.path().join("marked.tif");
    let (_, data) = pixels.into_shape_and_vec();
    write_u8_geotiff(&marked, w, h, t, &ortho.projection(), data).unwrap();

    // Sinusoidal centred 7.4 degrees west of the site: the image is sheared by ~0.6 degrees
    // and scaled relative to the DEM's equidistant cylindrical grid.
    let sinu = dir.path().join("ortho_sinu.tif");
    warp_to(&marked, &sinu, "+proj=sinu +lon_0=130 +R=3396190 +units=m +no_defs", 0.5);

    let out = dir.path().join("gale");
    let report = import_bundle(&ImportOptions {
        ortho: Some(sinu.clone()),
        ..ImportOptions::new(gale("dem.tif"), &out)
    })
    .unwrap();
    let o = report.ortho.unwrap();
    assert_eq!(o.method, OrthoMethod::Warped);
    assert!(o.source_proj4.contains("+proj=sinu"), "{}", o.source_proj4);

    let bundle = Bundle::open(&out).expect("the warped ortho is in the DEM's CRS");
    let warped = bundle.ortho.as_ref().unwrap();
    let (dem_t, wt) = (bundle.dem.transform(), warped.transform());
    assert_eq!(wt.resolution(), (0.5, 0.5), "the image's own 0.5 m, aligned to the DEM");
    assert_eq!(((wt.x0 - dem_t.x0) / 0.5).fract(), 0.0);
    assert_eq!(((wt.y0 - dem_t.y0) / 0.5).fract(), 0.0);
    let (xmin, ymin, xmax, ymax) = warped.extent();
    let (dxmin, dymin, dxmax, dymax) = bundle.dem.extent();
    assert!(xmin >= dxmin && ymin >= dymin && xmax <= dxmax && ymax <= dymax, "clipped to the DEM");

    for (name, want) in [("north-west marker", a), ("south-east marker", b)] {
        let got = marker_centre(warped, want);
        let off = (got[0] - want[0]).hypot(got[1] - want[1]);
        eprintln!("{name}: {off:.3} m from where it was painted");
        assert!(off < 0.5, "{name} landed {off:.2} m away (at {got:?}, painted at {want:?})");
    }

    // Away from the markers, the image matches the original (two bilinear resamplings blur
    // it a little, nothing more).
    let before = Dem::open(gale("ortho.tif")).unwrap().read_all().unwrap();
    let (mut n, mut sum_a, mut sum_b, mut sum_ab, mut sum_aa, mut sum_bb) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for r in 0..before.height {
        for c in 0..before.width {
            let (x, y) = before.transform.cell_center(c as i64, r as i64);
            let (Some(p), Some(q)) = (before.get(c as i64, r as i64), sample(warped, x, y)) else {
                continue;
            };
            let near = |m: [f64; 2]| (x - m[0]).abs() < 8.0 && (y - m[1]).abs() < 8.0;
            if near(a) || near(b) {
                continue;
            }
            let (p, q) = (f64::from(p), f64::from(q));
            n += 1.0;
            sum_a += p;
            sum_b += q;
            sum_ab += p * q;
            sum_aa += p * p;
            sum_bb += q * q;
        }
    }
    let cov = sum_ab / n - sum_a / n * sum_b / n;
    let corr =
        cov / ((sum_aa / n - (sum_a / n).powi(2)) * (sum_bb / n - (sum_b / n).powi(2))).sqrt();
    eprintln!("correlation with the original over {n} pixels: {corr:.4}");
    assert!(n > 400_000.0 && corr > 0.9, "{n} pixels, correlation {corr}");
}

fn sample(dem: &Dem, x: f64, y: f64) -> Option<f32> {
    let (c, r) = dem.transform().to_cell(x, y);
    dem.cell(c.floor() as i64, r.floor() as i64).unwrap()
}

#[test]
fn a_hirise_pds3_dtm_imports_with_its_missing_constant_as_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("DTEEC_TEST.IMG");
    let missing = f32::from_bits(0xFF7F_FFFB);
    write_pds3(&img, 300, 280, |c, r| {
        if (c, r) == (3, 4) {
            missing
        } else {
            r as f32 * 0.5 + c as f32 * 0.1
        }
    });
    let out = dir.path().join("sites/pds");
    let report = import_bundle(&ImportOptions::new(&img, &out)).unwrap();
    assert_eq!(report.dem.source_type, "Float32");
    assert_eq!(report.dem.nodata, missing, "HiRISE's MISSING_CONSTANT stays the no-data value");

    let src = Dem::open(&img).unwrap();
    let b = Bundle::open(&out).unwrap();
    assert_eq!(b.dem.size(), (300, 280));
    assert_eq!(b.dem.transform(), src.transform());
    assert_eq!(b.dem.nodata(), Some(f64::from(missing)));
    assert!(b.dem.crs_wkt().contains("Equirectangular"), "{}", b.dem.crs_wkt());
    assert_eq!(b.dem.cell(3, 4).unwrap(), None);
    assert_eq!(b.dem.cell(270, 260).unwrap(), Some(260.0 * 0.5 + 27.0));
    let t: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("bundle.toml")).unwrap()).unwrap();
    assert_eq!(t["source"]["dem"]["driver"].as_str(), Some("PDS"));
}

/// A static file server on 127.0.0.1 that honours `Range: bytes=a-b` (206 Partial Content), as
/// GDAL's `/vsicurl/` needs to read a COG a few tiles at a time. Counts the range requests.
struct RangeServer {
    server: Arc<tiny_http::Server>,
    port: u16,
    ranges: Arc<AtomicUsize>,
    whole: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RangeServer {
    fn serve(dir: PathBuf) -> RangeServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let (ranges, whole) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, rc, wc) = (Arc::clone(&server), Arc::clone(&ranges), Arc::clone(&whole));
        let thread = std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let _ = req.as_reader().read_to_end(&mut Vec::new());
                let name = req.url().trim_start_matches('/').to_owned();
                let file = (!name.contains("..")).then(|| dir.join(&name));
                let Some(bytes) = file.and_then(|f| std::fs::read(f).ok()) else {
                    let _ = req.respond(tiny_http::Response::empty(404));
                    continue;
                };
                let range = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Range"))
                    .and_then(|h| parse_range(h.value.as_str(), bytes.len()));
                let accept = tiny_http::Header::from_bytes("Accept-Ranges", "bytes").unwrap();
                let response = if let Some((a, b)) = range {
                    rc.fetch_add(1, Ordering::SeqCst);
                    let cr = format!("bytes {a}-{b}/{}", bytes.len());
                    tiny_http::Response::from_data(bytes[a..=b].to_vec())
                        .with_status_code(206)
                        .with_header(tiny_http::Header::from_bytes("Content-Range", cr).unwrap())
                } else {
                    if req.method() == &tiny_http::Method::Get {
                        wc.fetch_add(1, Ordering::SeqCst);
                    }
                    tiny_http::Response::from_data(bytes)
                };
                // Never chunked (tiny_http's default above 32 KiB): GDAL sizes the file by its
                // Content-Length.
                let _ =
                    req.respond(response.with_header(accept).with_chunked_threshold(usize::MAX));
            }
        });
        RangeServer { server, port, ranges, whole, thread: Some(thread) }
    }

    fn url(&self, name: &str) -> String {
        format!("/vsicurl/http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `bytes=a-b` or `bytes=a-` within a file of `len` bytes, as inclusive offsets.
fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
    let (a, b) = value.strip_prefix("bytes=")?.split_once('-')?;
    let a: usize = a.trim().parse().ok()?;
    let b: usize = if b.trim().is_empty() { len - 1 } else { b.trim().parse().ok()? };
    (a < len).then(|| (a, b.min(len - 1)))
}

/// GDAL options for reading from the local server, for this test's thread: no directory
/// listing, no retries, a short timeout (nothing here should ever wait on a network).
fn vsicurl_options() {
    for (k, v) in [
        ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
        ("GDAL_HTTP_MAX_RETRY", "0"),
        ("GDAL_HTTP_TIMEOUT", "20"),
    ] {
        // Thread-local: other tests of this binary run beside this one and must not see them.
        gdal::config::set_thread_local_config_option(k, v).unwrap();
    }
}

#[test]
fn a_cog_is_imported_over_http_range_requests() {
    vsicurl_options();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("www");
    std::fs::create_dir(&served).unwrap();
    let cog = DriverManager::get_driver_by_name("COG").unwrap();
    let options = RasterCreationOptions::from_iter(["BLOCKSIZE=128", "COMPRESS=DEFLATE"]);
    Dataset::open(gale("dem.tif"))
        .unwrap()
        .create_copy(&cog, served.join("gale_dem_cog.tif"), &options)
        .unwrap()
        .close()
        .unwrap();
    let server = RangeServer::serve(served);

    let out = dir.path().join("gale-cog");
    let url = server.url("gale_dem_cog.tif");
    import_bundle(&ImportOptions {
        ortho: Some(gale("ortho.tif")),
        ..ImportOptions::new(&url, &out)
    })
    .unwrap();
    let b = Bundle::open(&out).unwrap();
    let src = Dem::open(gale("dem.tif")).unwrap();
    assert_eq!(b.dem.transform(), src.transform());
    assert_eq!(b.dem.read_all().unwrap().data, src.read_all().unwrap().data);
    let t: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("bundle.toml")).unwrap()).unwrap();
    let recorded = t["source"]["dem"]["url"].as_str().unwrap();
    assert_eq!(format!("/vsicurl/{recorded}"), url);
    let (ranges, whole) =
        (server.ranges.load(Ordering::SeqCst), server.whole.load(Ordering::SeqCst));
    eprintln!("served {ranges} range requests, {whole} whole-file GETs");
    assert!(ranges > 0, "GDAL read the COG by ranges");
    assert_eq!(whole, 0, "never the whole file");

    // A URL with nothing behind it is one line naming the URL.
    let missing = server.url("nope.tif");
    let e = import_error(&ImportOptions::new(&missing, dir.path().join("x")));
    assert!(e.contains("nope.tif") && e.contains("cannot read a raster from this URL"), "{e}");
}

fn gale_crs() -> String {
    Dem::open(gale("dem.tif")).unwrap().crs_wkt().to_owned()
}

fn small_dem(path: &Path, wkt: &str) {
    let t = GeoTransform { x0: 8_142_406.0, y0: -276_455.0, dx: 1.0, dy: -1.0 };
    write_f32_geotiff(path, &Grid::from_fn(20, 20, t, |x, _| x as f32 * 1e-6), wkt, -32767.0)
        .unwrap();
}

#[test]
fn bad_inputs_are_refused_in_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");

    let e = import_error(&ImportOptions::new(d.join("nope.tif"), &out));
    assert!(e.contains("nope.tif: no such file"), "{e}");

    std::fs::write(d.join("notes.txt"), "not a raster").unwrap();
    let e = import_error(&ImportOptions::new(d.join("notes.txt"), &out));
    assert!(e.contains("notes.txt: not a raster GDAL can read"), "{e}");
    // A vector file GDAL can open is still not a raster.
    let e = import_error(&ImportOptions::new(gale("drives.geojson"), &out));
    assert!(e.contains("drives.geojson: not a raster GDAL can read"), "{e}");

    let no_gt = d.join("no_gt.tif");
    {
        let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
        let ds = driver.create_with_band_type::<f32, _>(&no_gt, 8, 8, 1).unwrap();
        ds.close().unwrap();
    }
    let e = import_error(&ImportOptions::new(&no_gt, &out));
    assert!(e.contains("no_gt.tif: raster has no geotransform"), "{e}");

    let no_crs = d.join("no_crs.tif");
    small_dem(&no_crs, "");
    let e = import_error(&ImportOptions::new(&no_crs, &out));
    assert!(e.contains("no_crs.tif: raster has no CRS"), "{e}");

    let geographic = d.join("lonlat.tif");
    small_dem(&geographic, &wkt_from_proj4("+proj=longlat +R=3396190 +no_defs").unwrap());
    let e = import_error(&ImportOptions::new(&geographic, &out));
    assert!(e.contains("lonlat.tif") && e.contains("is geographic"), "{e}");
    assert!(e.contains("needs a projected CRS in metres"), "{e}");

    let feet = d.join("feet.tif");
    small_dem(&feet, &wkt_from_proj4("+proj=eqc +R=3396190 +units=ft +no_defs").unwrap());
    let e = import_error(&ImportOptions::new(&feet, &out));
    assert!(e.contains("feet.tif") && e.contains("units of") && e.contains("metres"), "{e}");

    // An ortho 100 km away from the DEM.
    let far = d.join("far.tif");
    let t = GeoTransform { x0: 8_042_406.0, y0: -276_455.0, dx: 0.5, dy: -0.5 };
    write_u8_geotiff(&far, 16, 16, t, &gale_crs(), vec![9; 256]).unwrap();
    let e = import_error(&ImportOptions {
        ortho: Some(far),
        ..ImportOptions::new(gale("dem.tif"), &out)
    });
    assert!(e.contains("far.tif: ortho does not overlap the DEM"), "{e}");

    let e = import_error(&ImportOptions {
        hazards: Some(gale("drives.geojson")),
        ..ImportOptions::new(gale("dem.tif"), &out)
    });
    assert!(e.contains("drives.geojson") && e.contains("class"), "{e}");
    assert!(!out.exists(), "nothing written by failed imports");
}

#[test]
fn an_existing_bundle_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    std::fs::create_dir(&out).unwrap();
    import_bundle(&ImportOptions::new(gale("dem.tif"), &out)).expect("an empty directory is fine");
    let e = import_error(&ImportOptions::new(gale("dem.tif"), &out));
    assert!(e.contains("site: directory is not empty; pass --force"), "{e}");

    // A failing forced import leaves the old bundle as it was.
    std::fs::write(out.join("keep.txt"), "old").unwrap();
    let e = import_error(&ImportOptions {
        force: true,
        ortho: Some(dir.path().join("missing.jp2")),
        ..ImportOptions::new(gale("dem.tif"), &out)
    });
    assert!(e.contains("missing.jp2: no such file"), "{e}");
    assert!(out.join("keep.txt").exists());

    let report = import_bundle(&ImportOptions {
        force: true,
        ortho: Some(gale("ortho.tif")),
        ..ImportOptions::new(gale("dem.tif"), &out)
    })
    .unwrap();
    assert!(report.ortho.is_some());
    assert!(!out.join("keep.txt").exists(), "replaced whole");
    assert!(Bundle::open(&out).unwrap().ortho.is_some());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["site".to_owned()], "no staging or replaced directory left");
}

#[test]
fn an_integer_dem_without_nodata_becomes_float32_with_the_fallback_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("int16.tif");
    {
        let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver.create_with_band_type::<i16, _>(&src, 30, 20, 1).unwrap();
        ds.set_geo_transform(&[8_142_406.0, 2.0, 0.0, -276_455.0, 0.0, -2.0]).unwrap();
        ds.set_spatial_ref(&SpatialRef::from_wkt(&gale_crs()).unwrap()).unwrap();
        let values: Vec<i16> = (0..600).map(|i| -4500 + i as i16).collect();
        let mut buf = gdal::raster::Buffer::new((30, 20), values);
        ds.rasterband(1).unwrap().write((0, 0), (30, 20), &mut buf).unwrap();
    }
    let out = dir.path().join("int");
    let report = import_bundle(&ImportOptions::new(&src, &out)).unwrap();
    assert_eq!((report.dem.source_type.as_str(), report.dem.source_nodata), ("Int16", None));
    let b = Bundle::open(&out).unwrap();
    assert_eq!(b.dem.nodata(), Some(f64::from(FALLBACK_NODATA)));
    assert_eq!(b.dem.cell(29, 19).unwrap(), Some(-4500.0 + 599.0));
    assert_eq!(b.dem.transform().resolution(), (2.0, 2.0));
}
