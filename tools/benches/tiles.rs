//! Tiles under criterion, on the crater-field fixture (1 m DEM, 0.5 m ortho, mapped hazards):
//! a 1024 px corridor overview with every overlay (sol zones, start and goal, a 6-waypoint
//! draft route, checker violations, grid, labels, scale bar, north arrow, legend), PNG-encoded.
//!
//! - `tile_1024_ortho_all_overlays`, `tile_1024_slope_all_overlays`,
//!   `tile_1024_hazards_all_overlays`: one tile each (target: median under 60 ms);
//! - `overlay_2x768`: the side-by-side overlay of a checked plan (two panels).
//!
//! Run with `cargo bench -p breadcrumb-tools --bench tiles`.

use std::path::Path;
use std::time::Duration;

use breadcrumb_tools::checker::{check_sol, Plan};
use breadcrumb_tools::render::{render_overlay_with, RenderOptions};
use breadcrumb_tools::terrain::{Bundle, Sol};
use breadcrumb_tools::tiles::{corridor_overview, render_tile, Layer, Overlays};
use criterion::{criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols/crater-field-01.toml");
    let sol = Sol::load(&path).expect("fixture sol");
    let bundle = Bundle::open(&sol.bundle_dir).expect("fixture bundle");
    let (s, g) = (&sol.sol.start, &sol.sol.goal);
    let route: Vec<(f64, f64)> = (0..6)
        .map(|i| {
            let t = f64::from(i) / 5.0;
            (s.x + (g.x - s.x) * t, s.y + (g.y - s.y) * t + 25.0 * (t * std::f64::consts::PI).sin())
        })
        .collect();
    let verdict = check_sol(&sol, &Plan::from_points(&route)).expect("check");
    let overlays = Overlays::sol(&sol.sol).with_route(&route).with_violations(&verdict.violations);
    let mut group = c.benchmark_group("tiles");
    group.sample_size(30).measurement_time(Duration::from_secs(8));
    for layer in Layer::ALL {
        let request = corridor_overview(&sol.sol).with_layer(layer).with_px(1024);
        group.bench_function(format!("tile_1024_{layer}_all_overlays"), |b| {
            b.iter(|| render_tile(&bundle, &request, &overlays).expect("tile").png.len());
        });
    }
    let opts = RenderOptions::default();
    group.bench_function("overlay_2x768", |b| {
        b.iter(|| {
            render_overlay_with(&bundle, &sol.sol, &route, Some(&verdict), &opts)
                .expect("overlay")
                .len()
        });
    });
    group.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
