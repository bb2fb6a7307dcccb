//! An eval of a flaky model: a Chat Completions server on 127.0.0.1 that fails a seeded fifth of
//! its requests with 429 (`Retry-After: 0`) or 500, driven through the real runner, session and
//! `openai` provider. Nothing may be lost: every attempt is stored, and every failure the server
//! sent is accounted for, either as a retry in an attempt's scores or as the reason an attempt
//! ended in error once its retries ran out. So that the second kind occurs too, a model that is
//! down (every request fails) is run at the same time, into the same store.

#[path = "support/mock_openai.rs"]
mod mock_openai;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use breadcrumb_agent::session::RetryPolicy;
use breadcrumb_agent::transcript::read_transcript;
use breadcrumb_evals::runner::{self, Event, Matrix, RunnerConfig};
use breadcrumb_evals::store::Store;
use breadcrumb_evals::suite::Suite;
use mock_openai::{planned_routes, Behaviour, MockModel};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const SOLS: [&str; 2] = ["plains-01", "plains-02-keepout"];
const REPEATS: u32 = 12;

#[test]
fn a_flaky_model_loses_no_attempt_and_every_failure_is_accounted_for() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> =
        SOLS.iter().map(|s| repo().join(format!("fixtures/sols/{s}.toml"))).collect();
    let suite_file = dir.path().join("flaky.toml");
    let body: String = std::iter::once("name = \"flaky\"\n".to_owned())
        .chain(files.iter().map(|f| format!("\n[[sol]]\npath = \"{}\"\n", f.display())))
        .collect();
    std::fs::write(&suite_file, body).unwrap();
    let routes = planned_routes(&files);

    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // With this seed the flaky model's 48 answers come with 11 faults (6 x 429, 5 x 500).
    let behaviour = Behaviour { latency: std::time::Duration::ZERO, fault_rate: 0.2, seed: 7 };
    let mock = rt.block_on(MockModel::start(routes, behaviour));
    let cfg = RunnerConfig {
        models_file: mock.models_file(dir.path(), "flaky"),
        prompts_dir: repo().join("prompts"),
        runs_dir: dir.path().join("runs"),
        concurrency: 4,
        tile_px: 256,
        ..RunnerConfig::default()
    };
    let suite = Suite::load(&suite_file).unwrap();
    let matrix = |model: &str, repeats| Matrix {
        suite: suite.clone(),
        models: vec![model.into()],
        prompts: vec!["v1".into()],
        repeats,
    };
    let store = Arc::new(Store::open(&dir.path().join("evals.db")).unwrap());
    let failed = Arc::new(Mutex::new(Vec::new()));
    let f = Arc::clone(&failed);
    let on_event: runner::EventFn = Arc::new(move |e: &Event| {
        if let Event::Failed { key, error } = e {
            f.lock().unwrap().push(format!("{key:?}: {error}"));
        }
    });
    let (flaky, down) = (matrix("flaky", REPEATS), matrix("flaky-down", 1));
    let (out, out_down) = rt.block_on(async {
        tokio::join!(
            runner::run(Arc::clone(&store), &cfg, &flaky, "flaky", Arc::clone(&on_event)),
            runner::run(Arc::clone(&store), &cfg, &down, "down", Arc::clone(&on_event)),
        )
    });
    let (out, out_down) = (out.unwrap(), out_down.unwrap());

    // Every attempt ran and was stored; the runs are finished.
    assert_eq!(*failed.lock().unwrap(), Vec::<String>::new(), "attempts that were not stored");
    let planned = SOLS.len() * REPEATS as usize;
    assert_eq!((out.ran as usize, out.failed), (planned, 0));
    assert_eq!((out_down.ran as usize, out_down.failed), (SOLS.len(), 0));
    assert!(out.run.finished_at.is_some() && out_down.run.finished_at.is_some());
    let mut attempts = store.attempts("flaky").unwrap();
    assert_eq!(attempts.len(), planned);
    let down_attempts = store.attempts("down").unwrap();
    assert_eq!(down_attempts.len(), SOLS.len());
    for a in &down_attempts {
        assert_eq!(a.scores.status, "error", "{:?}", a.key);
        let why = a.scores.failure_reason.as_deref().unwrap_or_default();
        let most = RetryPolicy::default().max_retries;
        assert!(why.contains(&format!("after {most} retries")), "{why}");
    }
    // The flaky model's own faults happened: its attempts retried.
    let flaky_retries: u32 = attempts.iter().map(|a| a.scores.retries).sum();
    assert!(flaky_retries > 0, "the flaky model never failed");
    attempts.extend(down_attempts);

    // Failures happened, of both kinds.
    let (requests, ok, too_many, server_error) = mock.counts.get();
    let faults = too_many + server_error;
    assert!(too_many > 0 && server_error > 0, "429s {too_many}, 500s {server_error}");
    assert_eq!(requests, ok + faults);

    // Each failure is a retry in some attempt's scores, or ended an attempt whose retries ran
    // out (status `error`, the HTTP status in its reason).
    let retries: u32 = attempts.iter().map(|a| a.scores.retries).sum();
    let gave_up: Vec<_> = attempts.iter().filter(|a| a.scores.status == "error").collect();
    for a in &gave_up {
        let why = a.scores.failure_reason.as_deref().unwrap_or_default();
        assert!(
            why.contains("retries") && (why.contains("429") || why.contains("500")),
            "{:?}: {why}",
            a.key
        );
    }
    let gave_up = u32::try_from(gave_up.len()).unwrap();
    assert!(gave_up >= 2, "the down model's attempts gave up");
    assert_eq!(faults, retries + gave_up, "faults sent vs. retries + attempts that gave up");

    // The transcripts agree with the scores and with the server: each retry is logged, and
    // every request the server received is a logged request or a logged retry of one.
    let (mut logged, mut turns) = (0u32, 0u32);
    for a in &attempts {
        let (events, torn) = read_transcript(&a.transcript).unwrap();
        assert!(torn.is_none(), "{torn:?}");
        let count = |kind: &str| {
            u32::try_from(events.iter().filter(|e| e["event"] == kind).count()).unwrap()
        };
        assert_eq!(count("retry"), a.scores.retries, "{:?}", a.key);
        logged += count("request") + count("retry");
        turns += a.scores.turns;
        if a.scores.status != "error" {
            assert!(a.scores.accepted && a.scores.submits == 1, "{:?}: {:?}", a.key, a.scores);
            assert_eq!((a.scores.turns, a.scores.tool_calls), (2, 2), "{:?}", a.key);
        }
    }
    assert_eq!(requests, logged, "requests received vs. logged in the transcripts");
    assert_eq!(ok, turns, "every 200 is one model turn");
    eprintln!(
        "flaky + down runs: {} attempts, {requests} requests: {ok} ok, {too_many} x 429, \
         {server_error} x 500; {retries} retries recorded, {gave_up} attempt(s) gave up; {:.1} s",
        attempts.len(),
        started.elapsed().as_secs_f64()
    );
}

/// With the response cache on (as for `--repeats 1`), running an unchanged suite again asks
/// the model nothing: every turn is answered from the store, and the attempts end the same.
#[test]
fn an_unchanged_suite_is_answered_from_the_cache() {
    use breadcrumb_evals::store::RunOptions;
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> =
        SOLS.iter().map(|s| repo().join(format!("fixtures/sols/{s}.toml"))).collect();
    let suite_file = dir.path().join("cached.toml");
    let body: Vec<String> =
        files.iter().map(|f| format!("[[sol]]\npath = \"{}\"\n", f.display())).collect();
    let body = body.join("\n");
    std::fs::write(&suite_file, body).unwrap();
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let behaviour = Behaviour { latency: std::time::Duration::ZERO, fault_rate: 0.0, seed: 1 };
    let mock = rt.block_on(MockModel::start(planned_routes(&files), behaviour));
    let cfg = RunnerConfig {
        models_file: mock.models_file(dir.path(), "m"),
        prompts_dir: repo().join("prompts"),
        runs_dir: dir.path().join("runs"),
        concurrency: 2,
        tile_px: 256,
        ..RunnerConfig::default()
    };
    let matrix = Matrix {
        suite: Suite::load(&suite_file).unwrap(),
        models: vec!["m".into()],
        prompts: vec!["v1".into()],
        repeats: 1,
    };
    let store = Arc::new(Store::open(&dir.path().join("evals.db")).unwrap());
    let quiet: runner::EventFn = Arc::new(|_: &Event| {});
    let cached = RunOptions { cache: true, ..RunOptions::default() };
    let run = |id: &str| {
        rt.block_on(runner::run_with(
            Arc::clone(&store),
            &cfg,
            &matrix,
            id,
            cached.clone(),
            Arc::clone(&quiet),
        ))
        .unwrap()
    };
    let first = run("first");
    let (asked, ..) = mock.counts.get();
    assert_eq!((first.ran, first.cached_responses), (2, 0));
    assert_eq!(asked, 4, "two turns per attempt");
    let second = run("second");
    assert_eq!(mock.counts.get().0, asked, "the second run asked the model nothing");
    assert_eq!((second.ran, second.cached_responses), (2, 4));
    let (a, b) = (store.attempts("first").unwrap(), store.attempts("second").unwrap());
    for (x, y) in a.iter().zip(&b) {
        let (s, t) = (&x.scores, &y.scores);
        assert!(s.accepted, "{:?}", x.key);
        assert_eq!(
            (&s.status, s.turns, s.route_length_m, s.input_tokens, s.cost_usd),
            (&t.status, t.turns, t.route_length_m, t.input_tokens, t.cost_usd),
            "{:?}",
            x.key
        );
    }
    // Without the cache the model is asked again.
    let third =
        rt.block_on(runner::run(Arc::clone(&store), &cfg, &matrix, "third", quiet)).unwrap();
    assert_eq!((third.ran, third.cached_responses), (2, 0));
    assert_eq!(mock.counts.get().0, asked + 4);
}
