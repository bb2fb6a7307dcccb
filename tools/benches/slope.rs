//! Slope of a 4096 x 4096 Float32 GeoTIFF: `write_slope_raster` under criterion, and a
//! side-by-side timing against the real `gdaldem slope` binary on the same file.
//!
//! Run with `cargo bench -p breadcrumb-tools --bench slope`. Before criterion's own report it
//! prints lines like `gdaldem/ours speed ratio: 2.4` (gdaldem is single-threaded; ours uses
//! every core). gdaldem is timed twice: with its default output (uncompressed, striped) and
//! with the tiled DEFLATE output our product has.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use breadcrumb_tools::analysis::slope::write_slope_raster;
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{Dem, GeoTransform, Grid};
use criterion::{criterion_main, Criterion};

const SIZE: usize = 4096;

/// Rolling terrain with metre-scale detail, so compression and slopes look like a real DEM.
fn make_dem(path: &Path) {
    let t = GeoTransform { x0: 1.0e6, y0: 2.0e5, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(SIZE, SIZE, t, |x, y| {
        let (u, v) = (x - 1.0e6, 2.0e5 - y);
        let hash = ((u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (v as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
            >> 40;
        let noise = (hash as f64 / f64::from(1u32 << 24)) * 0.3;
        (-4450.0
            + 20.0 * (u / 300.0).sin() * (v / 410.0).cos()
            + 3.0 * (u / 37.0 + v / 53.0).sin()
            + noise) as f32
    });
    write_f32_geotiff(path, &g, "", -32767.0).expect("write bench DEM");
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn gdaldem(src: &Path, dst: &Path, extra: &[&str]) {
    let status = Command::new("gdaldem")
        .arg("slope")
        .arg("-q")
        .arg(src)
        .arg(dst)
        .args(extra)
        .status()
        .expect("gdaldem not found: install gdal-bin (the bench compares against it)");
    assert!(status.success(), "gdaldem slope failed: {status}");
}

fn bench_slope(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("dem4096.tif");
    make_dem(&src);
    let dem = Dem::open(&src).expect("open bench DEM");
    let ours_out = dir.path().join("ours.tif");
    let gd_out = dir.path().join("gdaldem.tif");

    // Interleaved, best of `runs` each, so background load hits both sides alike.
    let runs = 5;
    let (mut ours, mut plain, mut tiled) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        ours = ours.min(best_of(1, || {
            write_slope_raster(&dem, &ours_out).expect("write_slope_raster");
        }));
        plain = plain.min(best_of(1, || gdaldem(&src, &gd_out, &[])));
        tiled = tiled.min(best_of(1, || {
            gdaldem(
                &src,
                &gd_out,
                &["-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=3"],
            );
        }));
    }
    println!("slope {SIZE}x{SIZE} Float32 (best of {runs}):");
    println!("  ours (write_slope_raster, tiled ZSTD, all cores): {:.3} s", ours.as_secs_f64());
    println!("  gdaldem slope (default striped, uncompressed): {:.3} s", plain.as_secs_f64());
    println!("  gdaldem slope (tiled DEFLATE PREDICTOR=3): {:.3} s", tiled.as_secs_f64());
    println!(
        "  gdaldem/ours speed ratio: {:.2} (default output), {:.2} (compressed output)",
        plain.as_secs_f64() / ours.as_secs_f64(),
        tiled.as_secs_f64() / ours.as_secs_f64()
    );

    let mut group = c.benchmark_group("slope");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("write_slope_raster_4096", |b| {
        b.iter(|| write_slope_raster(&dem, &ours_out).expect("write_slope_raster"));
    });
    group.finish();
}

/// Private, so criterion's generated `pub fn benches` needs no doc comment.
mod harness {
    criterion::criterion_group!(benches, super::bench_slope);
}
criterion_main!(harness::benches);
