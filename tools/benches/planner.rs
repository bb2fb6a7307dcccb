//! The planner's search under criterion, on synthetic cost grids at 1 m: rolling per-metre
//! costs between 1 and 5 with infeasible blobs (a fifth of the area), corner to corner.
//!
//! - `astar_1km`: 1000 x 1000 cells (1 M; target under 0.5 s);
//! - `pathfinding_astar_1km`: the `pathfinding` crate's `astar` on the same graph (moves and
//!   costs from `CostGrid::move_cost`, the reference definition) and heuristic; the bench
//!   prints the speed ratio and asserts both find the same cost;
//! - a 4000 x 4000 grid (16 M cells; target under 10 s and 1 GB) searched once in a child
//!   process, which reports its time and peak resident memory (`VmHWM`).
//!
//! - the strategic planner against the full search on a 2 km x 2 km synthetic site at 1 m
//!   (`tests/synthetic.rs`, the real cost model with heading masks), seeded start/goal pairs:
//!   time, cost ratio and peak memory of each, each in its own child process.
//!
//! Run with `cargo bench -p breadcrumb-tools --bench planner` (set `BREADCRUMB_BENCH_SITE_M`
//! to change the strategic site's side, metres, and `BREADCRUMB_BENCH_STRATEGIC_ONLY=1` for the
//! strategic comparison alone).

use std::ops::Add;
use std::process::Command;
use std::time::{Duration, Instant};

use breadcrumb_tools::checker::{Mission, Pt};
use breadcrumb_tools::cost::{build_cost_grid, Constraints, CostGrid, MOVES};
use breadcrumb_tools::planner::{
    aggregate, astar, plan_strategic_on_grids, CoarseCost, StrategicOptions, Target,
};
use breadcrumb_tools::terrain::{GeoTransform, RoverProfile};
use criterion::{criterion_main, Criterion};

#[path = "../tests/synthetic.rs"]
mod synthetic;

const CHILD_ENV: &str = "BREADCRUMB_BENCH_PLANNER_CHILD";

/// A deterministic synthetic cost grid of `n x n` 1 m cells.
fn grid(n: usize) -> CostGrid {
    let hash = |c: u64, r: u64| {
        let h = c.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ r.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        (h >> 40) as f64 / f64::from(1u32 << 24)
    };
    let mut costs = Vec::with_capacity(n * n);
    for r in 0..n {
        for c in 0..n {
            let (x, y) = (c as f64, r as f64);
            let rolling = (x / 37.0).sin() * (y / 53.0).cos() + 0.5 * (x / 11.0 + y / 17.0).sin();
            let blob = (x / 23.0).sin() * (y / 29.0).sin() + 0.3 * (x / 7.0 - y / 9.0).cos();
            let open_corner = c < 20 && r < 20 || c + 20 >= n && r + 20 >= n;
            costs.push(if blob > 0.55 && !open_corner {
                f32::INFINITY
            } else {
                (1.0 + 1.5 * (rolling + 1.5) + 0.5 * hash(c as u64, r as u64)) as f32
            });
        }
    }
    let t = GeoTransform { x0: 0.0, y0: n as f64, dx: 1.0, dy: -1.0 };
    CostGrid::from_costs(n, n, t, &costs).expect("bench grid")
}

/// A cost that `pathfinding` can order.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cost(f64);

impl Eq for Cost {}

impl PartialOrd for Cost {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Cost {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost(self.0 + o.0)
    }
}

impl num_traits::Zero for Cost {
    fn zero() -> Self {
        Cost(0.0)
    }
    fn is_zero(&self) -> bool {
        self.0 == 0.0
    }
}

/// The same search with `pathfinding::prelude::astar`.
fn theirs(g: &CostGrid, start: usize, goal: usize) -> Option<f64> {
    let cmin = g.min_cost(Constraints::NONE).unwrap_or(0.0);
    let gp = g.centre(goal);
    let w = g.width() as i64;
    pathfinding::prelude::astar(
        &start,
        |&u| {
            let (c, r) = ((u as i64) % w, (u as i64) / w);
            (0..MOVES.len())
                .filter_map(move |k| {
                    let cost = g.move_cost(u, k, Constraints::NONE)?;
                    let v = g.index(c + i64::from(MOVES[k].dc), r + i64::from(MOVES[k].dr))?;
                    Some((v, Cost(cost)))
                })
                .collect::<Vec<_>>()
        },
        |&u| {
            let p = g.centre(u);
            // The same expression as ours (sqrt, not hypot).
            let (ex, ey) = (p.0 - gp.0, p.1 - gp.1);
            Cost((ex * ex + ey * ey).sqrt() * cmin)
        },
        |&u| u == goal,
    )
    .map(|(_, c)| c.0)
}

fn ends(n: usize) -> (usize, usize) {
    (5 * n + 5, (n - 6) * n + n - 6)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The 4 km search, in this process (run as the child).
fn child_4km() {
    let n = 4000;
    let t0 = Instant::now();
    let g = grid(n);
    let built = t0.elapsed().as_secs_f64();
    let (s, e) = ends(n);
    let t1 = Instant::now();
    let r = astar(&g, s, &Target::cell(&g, e), Constraints::NONE).expect("a route");
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "4000 x 4000 (16 M cells): grid built in {built:.1} s; search {secs:.2} s (target < 10 s), \
         {} cells expanded, cost {:.1}, {} path cells; peak RSS {:.0} MB (target < 1024 MB)",
        r.expanded,
        r.cost,
        r.path.len(),
        peak_rss_mb()
    );
}

/// Side of the strategic bench site, cells of 1 m.
fn site_n() -> usize {
    std::env::var("BREADCRUMB_BENCH_SITE_M").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

/// The strategic bench site's cost grid (the real cost model), and how long it took.
fn site_grid(n: usize) -> (CostGrid, f64) {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/rovers/perseverance.toml");
    let profile = RoverProfile::load(&p).expect("rover");
    let dem = synthetic::synthetic_dem(n, 15);
    let nf = n as f64;
    let m = Mission {
        label: "bench".into(),
        start: (0.5 * nf, 0.5 * nf),
        start_heading_deg: None,
        goal: (0.5 * nf, 0.5 * nf),
        goal_tolerance_m: 1.0,
        keep_in: None,
        keep_out: Vec::new(),
        drive_budget_m: 4.0 * nf,
    };
    let t0 = Instant::now();
    let g = build_cost_grid(&dem, &[], &m, &profile).expect("cost grid");
    (g, t0.elapsed().as_secs_f64())
}

/// Seeded start/goal pairs across the site, moved to the nearest feasible cells.
fn site_pairs(g: &CostGrid, n: usize) -> Vec<(Pt, Pt)> {
    let nf = n as f64;
    let raw = [
        ((0.02, 0.02), (0.98, 0.98)),
        ((0.97, 0.05), (0.04, 0.95)),
        ((0.5, 0.01), (0.45, 0.99)),
        ((0.01, 0.6), (0.99, 0.3)),
    ];
    let near = |p: (f64, f64)| synthetic::feasible_near(g, (p.0 * nf, p.1 * nf), 60);
    raw.iter().map(|&(a, b)| (near(a), near(b))).collect()
}

/// Strategic plans on the site (run as a child, so its peak memory is its own); prints one
/// line per pair with its cost, for the parent to compare.
fn child_strategic(n: usize, how: CoarseCost) {
    let (g, built) = site_grid(n);
    let t0 = Instant::now();
    let coarse = aggregate(&g, 8.0, how).expect("coarse");
    let agg = t0.elapsed().as_secs_f64();
    println!("grid {built:.2} s, aggregate {agg:.3} s");
    let opts = StrategicOptions { coarse_cost: how, ..StrategicOptions::default() };
    for (s, e) in site_pairs(&g, n) {
        let t = Instant::now();
        let r = plan_strategic_on_grids(&g, &coarse, s, e, 1.0, &opts).expect("a strategic route");
        println!(
            "pair {:.0},{:.0}->{:.0},{:.0} cost {:.3} secs {:.3} corridor_m {} corridor_cells {} \
             graph {:?}",
            s.0,
            s.1,
            e.0,
            e.1,
            r.cost,
            t.elapsed().as_secs_f64(),
            r.corridor_m,
            r.stats.corridor_cells,
            r.coarse_graph
        );
    }
    println!("peak_rss_mb {:.0}", peak_rss_mb());
}

/// Full-resolution searches on the site (run as a child).
fn child_full(n: usize) {
    let (g, built) = site_grid(n);
    println!("grid {built:.2} s");
    for (s, e) in site_pairs(&g, n) {
        let t = Instant::now();
        let start = g.cell_at(s).expect("start");
        let r = astar(&g, start, &Target::disc(&g, e, 1.0), Constraints::NONE).expect("a route");
        println!(
            "pair {:.0},{:.0}->{:.0},{:.0} cost {:.3} secs {:.3}",
            s.0,
            s.1,
            e.0,
            e.1,
            r.cost,
            t.elapsed().as_secs_f64()
        );
    }
    println!("peak_rss_mb {:.0}", peak_rss_mb());
}

/// Runs this bench as a child in `mode`; its stdout.
fn child(mode: &str) -> String {
    let exe = std::env::current_exe().expect("bench executable");
    match Command::new(exe).env(CHILD_ENV, mode).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => format!("child {mode} failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => format!("child {mode} failed to start: {e}"),
    }
}

/// `(cost, secs)` of each `pair` line of a child's output.
fn pairs_of(out: &str) -> Vec<(f64, f64)> {
    out.lines()
        .filter(|l| l.starts_with("pair "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let at = |k: &str| w.iter().position(|x| *x == k).and_then(|i| w[i + 1].parse().ok());
            (at("cost").unwrap_or(f64::NAN), at("secs").unwrap_or(f64::NAN))
        })
        .collect()
}

/// The strategic planner against the full search on the 2 km site.
fn report_strategic() {
    let n = site_n();
    println!("strategic vs full search, {n} x {n} m synthetic site at 1 m, 8 m coarse cells:");
    let full = child("full");
    print!("full search:\n{full}");
    let full_p = pairs_of(&full);
    for (mode, name) in [("strategic", "mean"), ("strategic-max", "max")] {
        let out = child(mode);
        print!("strategic ({name} coarse costs):\n{out}");
        for (k, (a, b)) in pairs_of(&out).iter().zip(&full_p).enumerate() {
            println!(
                "  pair {k}: cost ratio {:.4}, {:.1}x faster ({:.2} s vs {:.2} s)",
                a.0 / b.0,
                b.1 / a.1,
                a.1,
                b.1
            );
        }
    }
}

fn report() {
    let n = 1000;
    let g = grid(n);
    let (s, e) = ends(n);
    let target = Target::cell(&g, e);
    let t0 = Instant::now();
    let ours = astar(&g, s, &target, Constraints::NONE).expect("a route");
    let t_ours = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let them = theirs(&g, s, e).expect("a route");
    let t_them = t1.elapsed().as_secs_f64();
    assert!((ours.cost - them).abs() <= 1e-9 * them, "ours {} vs pathfinding {them}", ours.cost);
    println!(
        "1000 x 1000 (1 M cells): ours {t_ours:.3} s ({} expanded), pathfinding::astar {t_them:.3} s, \
         same cost {:.3}; ours is {:.1}x faster",
        ours.expanded,
        ours.cost,
        t_them / t_ours
    );
    let exe = std::env::current_exe().expect("bench executable");
    match Command::new(exe).env(CHILD_ENV, "1").output() {
        Ok(o) => print!("{}", String::from_utf8_lossy(&o.stdout)),
        Err(e) => println!("4 km child failed to start: {e}"),
    }
}

fn benches() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("full") => return child_full(site_n()),
        Ok("strategic") => return child_strategic(site_n(), CoarseCost::Mean),
        Ok("strategic-max") => return child_strategic(site_n(), CoarseCost::Max),
        Ok(_) => return child_4km(),
        Err(_) => {}
    }
    if std::env::var_os("BREADCRUMB_BENCH_STRATEGIC_ONLY").is_some() {
        report_strategic();
        return;
    }
    report();
    report_strategic();
    let n = 1000;
    let g = grid(n);
    let (s, e) = ends(n);
    let target = Target::cell(&g, e);
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    c.bench_function("astar_1km", |b| {
        b.iter(|| astar(&g, s, &target, Constraints::NONE).map(|r| r.cost));
    });
    c.bench_function("pathfinding_astar_1km", |b| b.iter(|| theirs(&g, s, e)));
}

criterion_main!(benches);
