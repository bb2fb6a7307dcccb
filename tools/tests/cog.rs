//! Cloud-optimised GeoTIFFs read over HTTP: a bundle whose `bundle.toml` names its rasters by
//! `/vsicurl/` URL on a server on 127.0.0.1, the way a mission mosaic on object storage is read
//! (`/vsis3/` is the same code path in GDAL). A coarse tile reads the overviews (counted in
//! bytes served), equals the same tile from the local files, and a fine tile still reads the
//! full resolution.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use breadcrumb_tools::terrain::bundle::{raster_identity, virtual_rasters};
use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff};
use breadcrumb_tools::terrain::{Bundle, Dem, GeoTransform, Grid};
use breadcrumb_tools::tiles::{render_tile, Layer, Overlays, TileRequest};
use gdal::raster::RasterCreationOptions;
use gdal::{Dataset, DriverManager};

/// Side of the test rasters, cells (1 m DEM, 1 m image: 2 km).
const N: usize = 2048;
/// Their top-left corner, map metres.
const X0: f64 = 10_000.0;
const Y0: f64 = 50_000.0;

/// A server on 127.0.0.1 of a few files held in memory, with HTTP range support as GDAL's
/// `/vsicurl/` uses it (HEAD for the size, `Range: bytes=a-b` answered 206 with
/// `Content-Range`, `Accept-Ranges: bytes`), counting the body bytes it sends.
struct RangeServer {
    server: Arc<tiny_http::Server>,
    port: u16,
    served: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RangeServer {
    fn serve(files: HashMap<String, Vec<u8>>) -> RangeServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let served = Arc::new(AtomicUsize::new(0));
        let (s, count) = (Arc::clone(&server), Arc::clone(&served));
        let thread = std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let _ = req.as_reader().read_to_end(&mut Vec::new());
                let Some(bytes) = files.get(req.url().trim_start_matches('/')) else {
                    let _ = req.respond(tiny_http::Response::empty(404));
                    continue;
                };
                let get = req.method() == &tiny_http::Method::Get;
                let range = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Range"))
                    .map(|h| parse_range(h.value.as_str(), bytes.len()));
                let response = match range {
                    Some(Some((a, b))) => {
                        let cr = format!("bytes {a}-{b}/{}", bytes.len());
                        if get {
                            count.fetch_add(b + 1 - a, Ordering::SeqCst);
                        }
                        tiny_http::Response::from_data(bytes[a..=b].to_vec())
                            .with_status_code(206)
                            .with_header(
                                tiny_http::Header::from_bytes("Content-Range", cr).unwrap(),
                            )
                    }
                    Some(None) => {
                        let cr = format!("bytes */{}", bytes.len());
                        tiny_http::Response::from_data(Vec::new())
                            .with_status_code(416)
                            .with_header(
                                tiny_http::Header::from_bytes("Content-Range", cr).unwrap(),
                            )
                    }
                    None => {
                        if get {
                            count.fetch_add(bytes.len(), Ordering::SeqCst);
                        }
                        tiny_http::Response::from_data(bytes.clone())
                    }
                };
                let accept = tiny_http::Header::from_bytes("Accept-Ranges", "bytes").unwrap();
                // Never chunked (tiny_http's default above 32 KiB): GDAL sizes the file by its
                // Content-Length. tiny_http sends no body to a HEAD.
                let _ =
                    req.respond(response.with_header(accept).with_chunked_threshold(usize::MAX));
            }
        });
        RangeServer { server, port, served, thread: Some(thread) }
    }

    fn url(&self, name: &str) -> String {
        format!("/vsicurl/http://127.0.0.1:{}/{name}", self.port)
    }

    /// Body bytes sent so far.
    fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
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

/// `bytes=a-b` or `bytes=a-` within a file of `len` bytes, as inclusive offsets; `None` for a
/// range past the end or one this server does not speak (several ranges).
fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let a: usize = a.trim().parse().ok()?;
    let b: usize = if b.trim().is_empty() { len - 1 } else { b.trim().parse().ok()? };
    (a < len && a <= b).then(|| (a, b.min(len - 1)))
}

/// GDAL options for reading from the local server, for this test's thread (every read of a
/// tile happens on the calling thread): no directory listing, no retries, a short timeout, no
/// proxy from the environment (an empty `GDAL_HTTP_PROXY` makes curl ignore `http_proxy`),
/// and `.tif` the only extension GDAL fetches.
fn vsicurl_options() {
    for (k, v) in [
        ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
        ("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".tif"),
        ("GDAL_HTTP_PROXY", ""),
        ("GDAL_HTTP_MAX_RETRY", "0"),
        ("GDAL_HTTP_TIMEOUT", "20"),
    ] {
        gdal::config::set_thread_local_config_option(k, v).unwrap();
    }
}

/// Rolling hills with a crater-like bowl and centimetre roughness: smooth enough to compress
/// as real DEMs do, rough enough that a full-resolution read is megabytes.
fn elevation(c: usize, r: usize) -> f32 {
    let (x, y) = (c as f64, r as f64);
    let hills = 12.0 * (x / 90.0).sin() * (y / 130.0).cos() + 0.01 * x;
    let (dx, dy) = (x - 1300.0, y - 700.0);
    let d = (dx * dx + dy * dy).sqrt();
    let bowl = if d < 150.0 { -25.0 * (1.0 - (d / 150.0).powi(2)) } else { 0.0 };
    let h = (c.wrapping_mul(2_654_435_761) ^ r.wrapping_mul(40_503)) % 1000;
    let rough = (h as f64 / 1000.0 - 0.5) * 0.2;
    ((hills + bowl + rough) * 100.0).round() as f32 / 100.0
}

/// Writes the test DEM and image as COGs (256² blocks, DEFLATE, AVERAGE overviews by 2, 4
/// and 8) into `dir`, and the DEM once more without overviews (`dem_full.tif`), whose size is
/// the full-resolution band's compressed size.
fn write_cogs(dir: &Path) {
    let t = GeoTransform { x0: X0, y0: Y0, dx: 1.0, dy: -1.0 };
    let dem = Grid::from_fn(N, N, t, |x, y| elevation((x - X0) as usize, (Y0 - y) as usize));
    let plain = dir.join("dem_plain.tif");
    write_f32_geotiff(&plain, &dem, "", -32767.0).unwrap();
    // The image: brightness from the DEM's east-facing slopes and a dark band, 1..255.
    let pixels = (0..N * N)
        .map(|i| {
            let (c, r) = (i % N, i / N);
            let e = elevation((c + 1).min(N - 1), r) - elevation(c.saturating_sub(1), r);
            let band = if (400..460).contains(&c) { -60.0 } else { 0.0 };
            (128.0 + 40.0 * e + band).clamp(1.0, 255.0).round() as u8
        })
        .collect();
    let img_plain = dir.join("ortho_plain.tif");
    write_u8_geotiff(&img_plain, N, N, t, "", pixels).unwrap();
    let cog = DriverManager::get_driver_by_name("COG").unwrap();
    let copy = |src: &Path, dst: &str, extra: &[&str]| {
        let mut opts = vec!["BLOCKSIZE=256", "COMPRESS=DEFLATE", "RESAMPLING=AVERAGE"];
        opts.extend_from_slice(extra);
        Dataset::open(src)
            .unwrap()
            .create_copy(&cog, dir.join(dst), &RasterCreationOptions::from_iter(opts))
            .unwrap()
            .close()
            .unwrap();
    };
    copy(&plain, "dem.tif", &["PREDICTOR=YES"]);
    copy(&plain, "dem_full.tif", &["PREDICTOR=YES", "OVERVIEWS=NONE"]);
    copy(&img_plain, "ortho.tif", &[]);
    std::fs::remove_file(plain).unwrap();
    std::fs::remove_file(img_plain).unwrap();
}

/// The local bundle of COGs, written once per test process under Cargo's target temporary
/// directory (the tests share it: writing it is most of their time), and the size of the
/// full-resolution DEM band compressed.
fn cogs() -> &'static (PathBuf, usize) {
    static COGS: OnceLock<(PathBuf, usize)> = OnceLock::new();
    COGS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cog-bundle");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        write_cogs(&dir);
        let full = std::fs::metadata(dir.join("dem_full.tif")).unwrap().len() as usize;
        (dir, full)
    })
}

/// The local bundle, and a remote bundle (only `bundle.toml`, in a temporary directory)
/// naming the same COGs on a fresh server.
struct Setup {
    local: Bundle,
    server: RangeServer,
    remote_dir: tempfile::TempDir,
    full_size: usize,
}

fn setup() -> Setup {
    vsicurl_options();
    let (local_dir, full_size) = cogs();
    let files = ["dem.tif", "ortho.tif"]
        .map(|n| (n.to_owned(), std::fs::read(local_dir.join(n)).unwrap()))
        .into_iter()
        .collect();
    let server = RangeServer::serve(files);
    let remote_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        remote_dir.path().join("bundle.toml"),
        format!(
            "name = \"cog-test\"\ndem = \"{}\"\northo = \"{}\"\n",
            server.url("dem.tif"),
            server.url("ortho.tif")
        ),
    )
    .unwrap();
    let local = Bundle::open(local_dir).unwrap();
    Setup { local, server, remote_dir, full_size: *full_size }
}

#[test]
fn a_coarse_tile_over_http_reads_overviews_and_equals_the_local_one() {
    let started = std::time::Instant::now();
    let s = setup();
    let remote = Bundle::open(s.remote_dir.path()).unwrap();
    assert_eq!(remote.dem.path().to_string_lossy(), s.server.url("dem.tif"));
    assert!(remote.ortho.is_some(), "the ortho named by URL is opened");
    let at_open = s.server.served();
    // 3 km over the whole 2 km site at 512 px: 5.9 m a pixel, read by 4 (DEM and image).
    let centre = (X0 + N as f64 / 2.0, Y0 - N as f64 / 2.0);
    let mut out = Vec::new();
    for layer in [Layer::Ortho, Layer::Slope] {
        let req = TileRequest::new(centre.0, centre.1, 3000.0, layer).with_px(512);
        let before = s.server.served();
        let remote_tile = render_tile(&remote, &req, &Overlays::default()).unwrap();
        let read = s.server.served() - before;
        let local_tile = render_tile(&s.local, &req, &Overlays::default()).unwrap();
        assert!(remote_tile.png == local_tile.png, "{layer}: over HTTP as from the local file");
        assert_eq!(remote_tile.info, local_tile.info);
        assert!(remote_tile.info.nodata_fraction > 0.4 && remote_tile.info.nodata_fraction < 0.6);
        out.push((layer, read, remote_tile.png));
    }
    let total = s.server.served() - at_open;
    eprintln!(
        "coarse tiles: served {total} bytes ({:?}) after {at_open} at open; the full-resolution \
         DEM band alone is {} bytes compressed; {:.1} s",
        out.iter().map(|(l, n, _)| (l.as_str(), *n)).collect::<Vec<_>>(),
        s.full_size,
        started.elapsed().as_secs_f64()
    );
    assert!(
        total * 4 < s.full_size,
        "two coarse tiles read {total} bytes: overviews, not the {} bytes of full resolution",
        s.full_size
    );
    if let Ok(dir) = std::env::var("BREADCRUMB_COG_TILE_DIR") {
        for (layer, _, png) in &out {
            std::fs::write(Path::new(&dir).join(format!("cog-3km-{layer}.png")), png).unwrap();
        }
    }
}

#[test]
fn a_fine_tile_over_http_reads_the_full_resolution() {
    let s = setup();
    let remote = Bundle::open(s.remote_dir.path()).unwrap();
    // 200 m at 512 px: 0.39 m a pixel, finer than the cells, so full-resolution windows.
    let (cx, cy) = (X0 + 1300.0, Y0 - 700.0);
    for layer in [Layer::Ortho, Layer::Slope] {
        let req = TileRequest::new(cx, cy, 200.0, layer).with_px(512);
        let remote_tile = render_tile(&remote, &req, &Overlays::default()).unwrap();
        let local_tile = render_tile(&s.local, &req, &Overlays::default()).unwrap();
        assert!(remote_tile.png == local_tile.png, "{layer}: over HTTP as from the local file");
        assert_eq!(remote_tile.info.nodata_fraction, 0.0);
    }
    // The cells under it are the full-resolution values, exactly.
    let w = remote.dem.window(1200, 600, 200, 200).unwrap();
    for (r, c) in [(0, 0), (100, 100), (199, 57), (33, 180)] {
        let want = elevation(1200 + c, 600 + r);
        assert_eq!(w.get(c as i64, r as i64), Some(want), "cell ({c}, {r}) of the window");
    }
}

#[test]
fn a_decimated_read_over_http_reads_the_overview() {
    let s = setup();
    let dem = Dem::open(s.server.url("dem.tif")).unwrap();
    let before = s.server.served();
    // The whole DEM by 8: 256² cells, the third overview.
    let d = dem.read_decimated(0, 0, N, N, 8).unwrap();
    let read = s.server.served() - before;
    eprintln!("decimated read by 8: {read} bytes; full resolution {} bytes", s.full_size);
    assert_eq!((d.width, d.height), (N / 8, N / 8));
    assert!(read * 16 < s.full_size, "{read} bytes read: the overview, not the full raster");
    // Each overview cell is the mean of its 8 x 8 block.
    for (bc, br) in [(0, 0), (100, 87), (255, 255), (162, 87)] {
        let mut sum = 0.0;
        for r in br * 8..br * 8 + 8 {
            for c in bc * 8..bc * 8 + 8 {
                sum += f64::from(elevation(c, r));
            }
        }
        let got = f64::from(d.get(bc as i64, br as i64).unwrap());
        assert!((got - sum / 64.0).abs() < 1e-3, "block ({bc}, {br}): {got} vs {}", sum / 64.0);
    }
    // The local file's overview says the same.
    let local = s.local.dem.read_decimated(0, 0, N, N, 8).unwrap();
    assert_eq!(local.data, d.data);
}

#[test]
fn a_remote_raster_is_identified_from_its_header_not_its_bytes() {
    let s = setup();
    let named = virtual_rasters(s.remote_dir.path()).unwrap();
    let (dem_url, ortho_url) = (s.server.url("dem.tif"), s.server.url("ortho.tif"));
    assert_eq!(
        named,
        [("dem".to_owned(), dem_url.clone()), ("ortho".to_owned(), ortho_url.clone())]
    );
    let before = s.server.served();
    let id = raster_identity(&dem_url).unwrap();
    let read = s.server.served() - before;
    eprintln!("identity of the DEM: {read} bytes read; full resolution {} bytes", s.full_size);
    assert!(id.starts_with("layout-sha256:"), "{id}");
    assert!(read * 50 < s.full_size, "{read} bytes read: the header and block index only");
    assert_eq!(raster_identity(&dem_url).unwrap(), id, "the same raster, the same identity");
    assert_ne!(raster_identity(&ortho_url).unwrap(), id);
    assert!(virtual_rasters(cogs().0.as_path()).unwrap().is_empty(), "a local bundle has none");
}
