//! The digital twin under criterion, on the real 1 m Gale (Marias Pass) DEM:
//!
//! - `run_250m_25wp`: the whole `twin::run` (compile, drive, bounds, verdict) of a 250 m plan
//!   of 25 waypoints 10.4 m apart, zig-zagging east across the DEM with a 60 degree turn at
//!   every waypoint: 2,500 driving poses and 690 turning poses (target: median under
//!   20 ms);
//! - `run_250m_25wp_1_thread`: the same in a one-thread pool (the poses are solved in
//!   parallel; this is one core's speed);
//! - `run_on_dem_250m_25wp`: the same through `twin::run_on_dem`, which also reads the DEM
//!   window around the plan (what a gate in `propose` pays);
//! - `solve_per_pose`: one `kinematics::solve`, cycling through the plan's poses.
//!
//! Run with `cargo bench -p breadcrumb-tools --bench twin`. Before criterion's report it prints
//! the plan's verdict and the poses per millisecond of a plain timed loop.

use std::path::PathBuf;
use std::time::Instant;

use breadcrumb_tools::terrain::{Dem, RoverProfile};
use breadcrumb_tools::twin::{self, Ground};
use criterion::{criterion_main, Criterion};

fn profile() -> RoverProfile {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).expect("perseverance profile")
}

/// The real DEM; panics (never skips) when the shared data is not beside the repository.
fn dem() -> Dem {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/realdata/gale-marias-pass/dem.tif");
    assert!(
        p.is_file(),
        "real Mars data missing: {} (clone the project beside shared/, as CI does)",
        p.display()
    );
    Dem::open(&p).expect("open the Gale DEM")
}

/// 25 waypoints, 250 m: 24 legs of 250/24 m alternating between headings 60 and 120 degrees,
/// starting 64 m inside the DEM's west edge and 130 m below its north edge, beside the real
/// drives (which are about row 160): it passes, with a worst tilt of 18 degrees.
fn zigzag(dem: &Dem) -> Vec<(f64, f64)> {
    let t = dem.transform();
    let (x0, ymid) = (t.x0 + 64.0, t.y0 + t.dy * 130.0);
    let leg = 250.0 / 24.0;
    let mut pts = vec![(x0, ymid + 2.5)];
    for i in 0..24 {
        let h = if i % 2 == 0 { 120.0_f64 } else { 60.0 }.to_radians();
        let last = *pts.last().expect("a start");
        pts.push((last.0 + leg * h.sin(), last.1 + leg * h.cos()));
    }
    pts
}

/// Nanoseconds the whole process (every thread: the twin solves poses on rayon's pool) has
/// spent on a CPU (Linux, `utime + stime` of /proc/self/stat at the usual 100 ticks a second),
/// so a figure taken on a busy machine can be told apart from one that waited for a core.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((utime + stime) * 10_000_000)
}

fn bench(c: &mut Criterion) {
    let p = profile();
    let k = p.kinematics.clone().expect("profile has [kinematics]");
    let dem = dem();
    let pts = zigzag(&dem);
    let run = twin::run_on_dem(&p, &dem, &pts, None, "bench");
    let v = &run.verdict;
    assert_eq!(v.summary.poses_unknown, 0, "the bench plan must stay on known ground");
    assert!(v.pass, "the bench plan should pass: {:?}", v.violations);
    assert!((v.summary.distance_m - 250.0).abs() < 1e-6, "{}", v.summary.distance_m);
    let (xs, ys): (Vec<f64>, Vec<f64>) = pts.iter().copied().unzip();
    let reach = 4.0;
    let fold = |v: &[f64], f: fn(f64, f64) -> f64, s: f64| v.iter().copied().fold(s, f);
    let grid = dem
        .window_around(
            fold(&xs, f64::min, f64::INFINITY) - reach,
            fold(&ys, f64::min, f64::INFINITY) - reach,
            fold(&xs, f64::max, f64::NEG_INFINITY) + reach,
            fold(&ys, f64::max, f64::NEG_INFINITY) + reach,
            4,
        )
        .expect("DEM window");
    assert_eq!(twin::run(&p, &grid, &pts, None, "bench"), run, "window differs from run_on_dem");
    let worst: Vec<String> =
        v.rules.iter().map(|r| format!("{} {:.2}", r.rule, r.worst.unwrap_or(f64::NAN))).collect();
    println!(
        "run_250m_25wp: {} poses, {} commands, pass {}, {} violations, {} cautions; worst: {}",
        v.summary.poses,
        v.summary.commands,
        v.pass,
        v.violations.len(),
        v.cautions.len(),
        worst.join(", ")
    );
    let reps = 20;
    let (started, cpu0) = (Instant::now(), cpu_ns());
    for _ in 0..reps {
        std::hint::black_box(twin::run(&p, &grid, &pts, None, "bench"));
    }
    let ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(reps);
    let cpu_ms = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => format!("{:.2}", (b - a) as f64 / 1e6 / f64::from(reps)),
        _ => "n/a".to_owned(),
    };
    println!(
        "run_250m_25wp: {ms:.2} ms wall ({cpu_ms} ms CPU over all threads) per run, {:.0} \
         poses/ms wall (mean of {reps}; {} threads; load average {})",
        v.summary.poses as f64 / ms,
        rayon::current_num_threads(),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );

    let poses: Vec<_> = run.telemetry.samples.iter().map(|s| s.pose).collect();
    let ground = Ground { grid: &grid };
    let (started, cpu0) = (Instant::now(), cpu_ns());
    for q in poses.iter().cycle().take(10 * poses.len()) {
        std::hint::black_box(twin::solve(&k, &ground, q.x, q.y, q.heading_deg));
    }
    let n = (10 * poses.len()) as f64;
    let us = started.elapsed().as_secs_f64() * 1e6 / n;
    let cpu_us = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => format!("{:.2}", (b - a) as f64 / 1e3 / n),
        _ => "n/a".to_owned(),
    };
    println!("solve_per_pose: {us:.2} us wall ({cpu_us} us CPU) per pose");
    let mut g = c.benchmark_group("twin");
    g.bench_function("run_250m_25wp", |b| b.iter(|| twin::run(&p, &grid, &pts, None, "bench")));
    // The same on one thread: what a core does, and what the gate costs where the pool is busy.
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a 1-thread pool");
    g.bench_function("run_250m_25wp_1_thread", |b| {
        b.iter(|| one.install(|| twin::run(&p, &grid, &pts, None, "bench")));
    });
    g.bench_function("run_on_dem_250m_25wp", |b| {
        b.iter(|| twin::run_on_dem(&p, &dem, &pts, None, "bench"));
    });
    let mut i = 0;
    g.bench_function("solve_per_pose", |b| {
        b.iter(|| {
            let q = poses[i % poses.len()];
            i += 1;
            twin::solve(&k, &ground, q.x, q.y, q.heading_deg)
        });
    });
    g.finish();
}

/// Private, so criterion's generated `pub fn benches` needs no doc comment.
mod harness {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(harness::benches);
