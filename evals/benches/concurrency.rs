//! How well the runner overlaps attempts: 100 attempts of a model that answers every request
//! after 50 ms (a mock Chat Completions server on 127.0.0.1, the real `openai` provider), 16 at
//! a time, against the ideal.
//!
//! The ideal is the model's time spread perfectly over the 16 slots
//! (`attempts x requests per attempt x 50 ms / 16`) plus the attempts' own work (tiles, checker,
//! dossier, scoring, transcripts, commits), measured by the same 100 attempts against the same
//! server answering at once. Both phases are timed from the first model request to the run's
//! end, so the baseline planning the runner does before any attempt is left out of both.
//! Target: under 1.3x the ideal.
//!
//! Run: `cargo bench -p breadcrumb-evals --bench concurrency` (prints; asserts nothing, so a busy
//! machine cannot fail a build).

#[path = "../tests/support/mock_openai.rs"]
mod mock_openai;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use breadcrumb_evals::runner::{self, Event, Matrix, RunnerConfig};
use breadcrumb_evals::store::Store;
use breadcrumb_evals::suite::Suite;
use mock_openai::{planned_routes, Behaviour, MockModel};
use serde_json::Value;

const SOLS: [&str; 2] = ["plains-01", "plains-02-keepout"];
const ATTEMPTS: u32 = 100;
const CONCURRENCY: usize = 16;
const LATENCY: Duration = Duration::from_millis(50);
/// Runs of each kind; the medians are reported.
const ROUNDS: usize = 3;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One timed run.
struct Timing {
    /// From the runner's start to its end.
    total: Duration,
    /// From the first model request to the end: the attempts.
    attempts: Duration,
    /// Model requests per attempt.
    requests_per_attempt: f64,
}

fn run_once(
    rt: &tokio::runtime::Runtime,
    suite_file: &Path,
    routes: &std::collections::BTreeMap<String, Value>,
    latency: Duration,
) -> Timing {
    let dir = tempfile::tempdir().unwrap();
    let behaviour = Behaviour { latency, fault_rate: 0.0, seed: 0 };
    let mock = rt.block_on(MockModel::start(routes.clone(), behaviour));
    let cfg = RunnerConfig {
        models_file: mock.models_file(dir.path(), "mock"),
        prompts_dir: repo().join("prompts"),
        runs_dir: dir.path().join("runs"),
        concurrency: CONCURRENCY,
        tile_px: 256,
        ..RunnerConfig::default()
    };
    let matrix = Matrix {
        suite: Suite::load(suite_file).unwrap(),
        models: vec!["mock".into()],
        prompts: vec!["v1".into()],
        repeats: ATTEMPTS / SOLS.len() as u32,
    };
    let store = Arc::new(Store::open(&dir.path().join("bench.db")).unwrap());
    let on_event: runner::EventFn = Arc::new(|e: &Event| {
        if let Event::Failed { key, error } = e {
            eprintln!("attempt {key:?} failed: {error}");
        }
    });
    let start = Instant::now();
    let out = rt.block_on(runner::run(store, &cfg, &matrix, "bench", on_event)).unwrap();
    let end = Instant::now();
    assert_eq!((out.ran, out.failed), (ATTEMPTS, 0), "every attempt ran");
    let (requests, ..) = mock.counts.get();
    let first = mock.counts.first_request().expect("the model was asked");
    Timing {
        total: end - start,
        attempts: end - first,
        requests_per_attempt: f64::from(requests) / f64::from(ATTEMPTS),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let files: Vec<PathBuf> =
        SOLS.iter().map(|s| repo().join(format!("fixtures/sols/{s}.toml"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let suite_file = dir.path().join("bench.toml");
    let body: String = std::iter::once("name = \"bench\"\n".to_owned())
        .chain(files.iter().map(|f| format!("\n[[sol]]\npath = \"{}\"\n", f.display())))
        .collect();
    std::fs::write(&suite_file, body).unwrap();
    let routes = planned_routes(&files);
    // The runtime `breadcrumb eval run` builds: one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let (mut zero, mut slow, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut rpa = 0.0;
    for round in 0..ROUNDS {
        let z = run_once(&rt, &suite_file, &routes, Duration::ZERO);
        let s = run_once(&rt, &suite_file, &routes, LATENCY);
        eprintln!(
            "round {round}: zero latency {:.3} s ({:.3} s with planning), 50 ms {:.3} s \
             ({:.3} s with planning)",
            z.attempts.as_secs_f64(),
            z.total.as_secs_f64(),
            s.attempts.as_secs_f64(),
            s.total.as_secs_f64()
        );
        rpa = s.requests_per_attempt;
        zero.push(z.attempts);
        slow.push(s.attempts);
        totals.push(s.total);
    }
    let (own, wall, total) = (median(zero), median(slow), median(totals));
    let model = LATENCY.mul_f64(f64::from(ATTEMPTS) * rpa / CONCURRENCY as f64);
    let ideal = model + own;
    let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
    println!(
        "concurrency: {ATTEMPTS} attempts, {CONCURRENCY} at once, {rpa:.2} requests/attempt, \
         {} ms per request, {} cores (medians of {ROUNDS})",
        LATENCY.as_millis(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    println!(
        "  wall time of the attempts:     {:.3} s ({:.3} s with baseline planning)",
        wall.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "  ideal: {ATTEMPTS} x {rpa:.2} x {} ms / {CONCURRENCY} = {:.3} s, + own work {:.3} s \
         (same attempts at zero latency) = {:.3} s",
        LATENCY.as_millis(),
        model.as_secs_f64(),
        own.as_secs_f64(),
        ideal.as_secs_f64()
    );
    println!(
        "  ratio: {ratio:.2}x the ideal (target < 1.3: {})",
        if ratio < 1.3 { "met" } else { "MISSED" }
    );
}
