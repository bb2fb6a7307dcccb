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
//! Run with `cargo bench -p breadcrumb-tools --bench planner`.

use std::ops::Add;
use std::process::Command;
use std::time::{Duration, Instant};

use breadcrumb_tools::cost::{Constraints, CostGrid, MOVES};
use breadcrumb_tools::planner::{astar, Target};
use breadcrumb_tools::terrain::GeoTransform;
use criterion::{criterion_main, Criterion};

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
            Cost((p.0 - gp.0).hypot(p.1 - gp.1) * cmin)
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
    if std::env::var_os(CHILD_ENV).is_some() {
        child_4km();
        return;
    }
    report();
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
