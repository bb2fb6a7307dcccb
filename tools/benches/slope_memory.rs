//! Peak memory of slope queries on a 20000 x 20000 Float32 GeoTIFF (1.6 GB of elevations).
//!
//! Run with `cargo bench -p breadcrumb-tools --bench slope_memory`. It writes the raster once
//! (tiled 256 x 256, ZSTD, strip by strip with [`StripWriter`], so generation itself stays
//! small) to `$TMPDIR/breadcrumb-bench/dem-20000.tif` and reuses it on later runs. The query is
//! measured in a fresh child process (this same binary, re-run with an environment variable),
//! so the peak RSS it reports (`VmHWM` from `/proc/self/status`) is the query's alone: open the
//! DEM, call `slope_at` at one point, then at 1000 scattered points. The run fails if the
//! single-point peak reaches 300 MB.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use breadcrumb_tools::analysis::slope::slope_at;
use breadcrumb_tools::terrain::raster_io::{StripWriter, STRIP_ROWS};
use breadcrumb_tools::terrain::{Dem, GeoTransform};
use rayon::prelude::*;

const SIZE: usize = 20_000;
const CHILD_ENV: &str = "BREADCRUMB_BENCH_SLOPE_MEMORY_CHILD";
const LIMIT_MB: f64 = 300.0;

/// Peak resident set size of this process so far, MB (`VmHWM` in `/proc/self/status`).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb / 1024.0
}

/// A cheap analytic surface: a tilted plane with a 50-cell sawtooth ripple.
fn elevation(col: usize, row: usize) -> f32 {
    -4400.0 + 0.01 * col as f32 + 0.02 * row as f32 + ((col * 7 + row * 13) % 50) as f32 * 0.01
}

fn generate(path: &Path) {
    let t = GeoTransform { x0: 0.0, y0: SIZE as f64, dx: 1.0, dy: -1.0 };
    let t0 = Instant::now();
    let mut w = StripWriter::create(path, SIZE, SIZE, t, "", -32767.0).expect("create DEM");
    let mut strip = vec![0f32; STRIP_ROWS * SIZE];
    let mut r0 = 0;
    while r0 < SIZE {
        let n = STRIP_ROWS.min(SIZE - r0);
        strip[..n * SIZE].par_chunks_mut(SIZE).enumerate().for_each(|(i, row)| {
            for (c, v) in row.iter_mut().enumerate() {
                *v = elevation(c, r0 + i);
            }
        });
        w.write_rows(r0, &strip[..n * SIZE]).expect("write DEM strip");
        r0 += n;
    }
    w.finish().expect("finish DEM");
    println!(
        "generated {SIZE}x{SIZE} DEM in {:.1} s ({:.0} MB on disk), generator peak RSS {:.0} MB",
        t0.elapsed().as_secs_f64(),
        std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6),
        peak_rss_mb()
    );
}

fn child(path: &Path) {
    let base = peak_rss_mb();
    let t0 = Instant::now();
    let dem = Dem::open(path).expect("open DEM");
    assert_eq!(dem.size(), (SIZE, SIZE));
    let s = slope_at(&dem, 12_345.6, 7_654.3).expect("slope_at").expect("slope is known");
    let one = t0.elapsed();
    let one_peak = peak_rss_mb();
    // The expected slope of the generator's surface, from its own cells.
    assert!(s > 0.0 && s < 60.0, "slope {s}");
    let t1 = Instant::now();
    let mut known = 0;
    for i in 0..1000u64 {
        let x = (i.wrapping_mul(7919) % SIZE as u64) as f64 + 0.5;
        let y = (i.wrapping_mul(104_729) % SIZE as u64) as f64 + 0.5;
        known += usize::from(slope_at(&dem, x, y).expect("slope_at").is_some());
    }
    let many = t1.elapsed();
    println!("child_baseline_mb={base:.1}");
    println!(
        "one_point_peak_mb={one_peak:.1} one_point_ms={:.2} slope_deg={s:.4}",
        one.as_secs_f64() * 1e3
    );
    println!(
        "thousand_points_peak_mb={:.1} thousand_points_ms={:.1} known={known}",
        peak_rss_mb(),
        many.as_secs_f64() * 1e3
    );
}

fn field(out: &str, key: &str) -> f64 {
    out.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("child output lacks {key}: {out}"))
}

fn main() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&path));
        return;
    }
    // Cargo passes `--bench` (and maybe a filter); nothing to configure.
    let dir: PathBuf = std::env::temp_dir().join("breadcrumb-bench");
    std::fs::create_dir_all(&dir).expect("create bench data dir");
    let path = dir.join(format!("dem-{SIZE}.tif"));
    let usable = Dem::open(&path).is_ok_and(|d| d.size() == (SIZE, SIZE));
    if usable {
        println!("reusing {}", path.display());
    } else {
        generate(&path);
    }
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe).env(CHILD_ENV, &path).output().expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    print!("{stdout}");
    let peak = field(&stdout, "one_point_peak_mb");
    println!("slope_at on a {SIZE}x{SIZE} raster: peak RSS {peak:.1} MB (limit {LIMIT_MB} MB)");
    println!(
        "note: the 1000-point peak is mostly GDAL's own block cache (GDAL_CACHEMAX, 5% of RAM by \
         default), which Dem's 64-tile LRU does not bound; GDAL_CACHEMAX=16 keeps it near 75 MB"
    );
    assert!(peak < LIMIT_MB, "peak RSS {peak} MB exceeds {LIMIT_MB} MB");
}
