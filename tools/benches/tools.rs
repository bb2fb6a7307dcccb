//! The model's tool calls on a 1 m DEM once the area is cached: `slope_query` along 100 m,
//! `hazard_lookup` within 50 m, `path_cost` of 25 waypoints (target: median under 1 ms each);
//! and the one-off costs a run pays first: classifying the sol's area for `hazard_lookup`.
//! Perception: `mark_hazards` of three marks on a fresh run (validation and the checker's
//! index rebuilt with them; target under 10 ms), and a 512 px `view_tile` of the `classes`
//! layer against the same tile of the `ortho` layer (the classes layer's own cost is the
//! difference; target under 10 ms).
//!
//! Run with `cargo bench -p breadcrumb-tools --bench tools`. Uses the committed
//! `plains-02-keepout` sol (320 x 320 m at 1 m).

use std::path::PathBuf;

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::terrain::Sol;
use criterion::{criterion_main, Criterion};
use serde_json::json;

fn toolbox() -> Toolbox {
    let sol =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols/plains-02-keepout.toml");
    Toolbox::open(&Sol::load(&sol).expect("fixture sol")).expect("toolbox")
}

fn bench(c: &mut Criterion) {
    let tb = toolbox();
    let slope = json!({"x_m": -130.0, "y_m": 1_090_664.0, "to_x_m": -30.0, "to_y_m": 1_090_664.0});
    let hazards = json!({"x_m": -50.0, "y_m": 1_090_650.0, "radius_m": 50.0});
    // 25 waypoints, 10 m apart, zig-zagging east across the site.
    let waypoints: Vec<_> = (0..25)
        .map(|i| json!({"x_m": -130.0 + 10.0 * f64::from(i), "y_m": 1_090_700.0 + if i % 2 == 0 { 0.0 } else { 3.0 }}))
        .collect();
    let cost = json!({ "waypoints": waypoints });
    // Warm the tile cache and the cost grid: the target is for an area already cached.
    for (name, args) in [("slope_query", &slope), ("hazard_lookup", &hazards), ("path_cost", &cost)]
    {
        tb.call(name, args).expect("tool call");
    }
    let mut g = c.benchmark_group("tool_call");
    g.bench_function("slope_query_100m", |b| b.iter(|| tb.call("slope_query", &slope).unwrap()));
    g.bench_function("hazard_lookup_r50m", |b| {
        b.iter(|| tb.call("hazard_lookup", &hazards).unwrap());
    });
    g.bench_function("path_cost_25wp", |b| b.iter(|| tb.call("path_cost", &cost).unwrap()));
    let marks = json!({"marks": [
        {"class": "sand_ripple", "polygon": (0..12).map(|k| {
            let a = f64::from(k) * std::f64::consts::TAU / 12.0;
            json!({"x_m": -50.0 + 8.0 * a.cos(), "y_m": 1_090_650.0 + 5.0 * a.sin()})
        }).collect::<Vec<_>>(), "confidence": 0.8, "reason": "dark rippled sand"},
        {"class": "rock", "circle": {"centre": {"x_m": -20.0, "y_m": 1_090_700.0}, "radius_m": 1.2}, "confidence": 0.6, "reason": "a block"},
        {"class": "bedrock", "polygon": [{"x_m": 0.0, "y_m": 1_090_600.0}, {"x_m": 6.0, "y_m": 1_090_600.0}, {"x_m": 6.0, "y_m": 1_090_606.0}], "confidence": 0.5, "reason": "flat rock"}
    ]});
    g.bench_function("mark_hazards_3", |b| {
        b.iter_batched(
            || tb.fresh(),
            |run| run.call("mark_hazards", &marks).unwrap(),
            criterion::BatchSize::SmallInput,
        );
    });
    let tile = |layer: &str| json!({"centre_x_m": -50.0, "centre_y_m": 1_090_650.0, "size_m": 150.0, "layer": layer});
    let small = tb.fresh().with_tile_px(512);
    for layer in ["ortho", "classes"] {
        small.call("view_tile", &tile(layer)).expect("warm tile");
        g.bench_function(format!("view_tile_512px_{layer}"), |b| {
            b.iter(|| small.call("view_tile", &tile(layer)).unwrap());
        });
    }
    g.finish();
    let mut g = c.benchmark_group("first_call");
    g.sample_size(10);
    g.bench_function("terrain_hazard_index", |b| {
        b.iter(|| breadcrumb_tools::api::hazard_lookup::TerrainHazardIndex::for_sol(&tb).unwrap());
    });
    g.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
