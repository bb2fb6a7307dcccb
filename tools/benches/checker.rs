//! The safety checker under criterion, on a 1 m DEM read through GDAL (a 1024 x 1024 Float32
//! GeoTIFF with rolling relief, metre-scale detail and rocks):
//!
//! - `route_250m_25wp`: a 250 m route of 25 waypoints (target: median under 2 ms);
//! - `waypoints_100k_over_budget`: 100 000 waypoints 1 m apart (100 km: fails on budget,
//!   terrain not walked);
//! - `waypoints_100k_walked`: 100 000 waypoints along 250 m, zigzagging by a millimetre so that
//!   every waypoint is a turn; walked in full (target: under 2 s).
//!
//! Run with `cargo bench -p breadcrumb-tools --bench checker`. Before criterion's report it
//! prints the peak resident memory before and after one walked 100 000-waypoint check.

use std::path::Path;
use std::time::Duration;

use breadcrumb_tools::checker::{Checker, Mission, Pt};
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{Dem, GeoTransform, Grid, RoverProfile};
use criterion::{criterion_main, Criterion};

const SIZE: usize = 1024;
const X0: f64 = 1.0e6;
const Y0: f64 = 2.0e5;

fn make_dem(path: &Path) {
    let t = GeoTransform { x0: X0, y0: Y0, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(SIZE, SIZE, t, |x, y| {
        let (u, v) = (x - X0, Y0 - y);
        let hash = ((u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (v as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
            >> 40;
        let h = hash as f64 / f64::from(1u32 << 24);
        let rock = if h > 0.99 { 0.2 } else { 0.0 };
        (-4450.0
            + 8.0 * (u / 90.0).sin() * (v / 130.0).cos()
            + 1.0 * (u / 17.0 + v / 23.0).sin()
            + 0.05 * h
            + rock) as f32
    });
    write_f32_geotiff(path, &g, "", -32767.0).expect("write bench DEM");
}

fn profile() -> RoverProfile {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).expect("perseverance profile")
}

/// 25 waypoints, 250 m, wandering east-north-east.
fn route_250m() -> Vec<Pt> {
    let mut pts = vec![(X0 + 200.0, Y0 - 600.0)];
    for i in 0..24 {
        let h = (60.0 + 25.0 * (f64::from(i) * 1.7).sin()).to_radians();
        let last = *pts.last().unwrap();
        let leg = 250.0 / 24.0;
        pts.push((last.0 + leg * h.sin(), last.1 + leg * h.cos()));
    }
    pts
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dem.tif");
    make_dem(&path);
    let dem = Dem::open(&path).expect("open bench DEM");
    let p = profile();
    let checker = Checker::new(&dem, &[], &p);

    let route = route_250m();
    let m = Mission::for_route(&route, &p);
    let v = checker.check(&m, &route).expect("verdict");
    assert!(v.summary.terrain_walked && (v.summary.length_m - 250.0).abs() < 1e-6);
    println!(
        "route_250m_25wp: {} poses, max tilt {:.1}°, pass {}",
        v.summary.poses_evaluated,
        v.summary.max_tilt_deg.unwrap_or(f64::NAN),
        v.pass
    );
    let mut g = c.benchmark_group("checker");
    g.bench_function("route_250m_25wp", |b| b.iter(|| checker.check(&m, &route).expect("verdict")));

    let line: Vec<Pt> = (0..100_000).map(|i| (X0 + 10.0, Y0 - 500.0 + f64::from(i))).collect();
    let ml = Mission::for_route(&line, &p);
    let zig: Vec<Pt> = (0..100_000)
        .map(|i| {
            (X0 + 300.0 + f64::from(i) * 0.0025, Y0 - 300.0 + if i % 2 == 0 { 0.0 } else { 0.001 })
        })
        .collect();
    let mz = Mission::for_route(&zig, &p);
    let before = peak_rss_kib();
    let v = checker.check(&mz, &zig).expect("verdict");
    if let (Some(a), Some(b)) = (before, peak_rss_kib()) {
        println!(
            "waypoints_100k_walked: peak resident memory {:.1} MiB -> {:.1} MiB",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        );
    }
    assert!(v.summary.terrain_walked);
    println!(
        "waypoints_100k_walked: {} poses, {} bytes of verdict",
        v.summary.poses_evaluated,
        v.to_json().len()
    );
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("waypoints_100k_over_budget", |b| {
        b.iter(|| checker.check(&ml, &line).expect("verdict"));
    });
    g.bench_function("waypoints_100k_walked", |b| {
        b.iter(|| checker.check(&mz, &zig).expect("verdict"));
    });
    g.finish();
}

/// Private, so criterion's generated `pub fn benches` needs no doc comment.
mod harness {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(harness::benches);
