//! Loop overhead: what the agent loop itself costs per run, with the model and the tools taken
//! out.
//!
//! A zero-latency in-process scripted model drives a 10-turn run on fixture sol
//! `plains-02-keepout`: 20 tool calls, 6 of them `view_tile` (512-px tiles), ending in an
//! accepted `submit_route`. The wall time of `Session::run` minus the tools' own time is the
//! loop's overhead (building requests, pruning images, transcripts and image files, the
//! checker's verdict on submission, the dossier). The tools' time is taken two ways: the sum of
//! the `ms` of the transcript's `tool_result` events (plus the overview tile, which is not a
//! tool call), and the same calls timed directly through `Toolbox::call`, one after another.
//! (Calls of one turn run concurrently, so the transcript sum can exceed their wall time.)
//!
//! Target: overhead under 300 ms. Run: `cargo bench -p breadcrumb-agent --bench loop_overhead`
//! (`LOOP_OVERHEAD_RUNS=N` sets the measured runs, default 5).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::provider::{
    ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind, StopReason, ToolCall, Usage,
};
use breadcrumb_agent::session::{RunStatus, Session, SessionConfig};
use breadcrumb_agent::transcript::{read_transcript, RunWriter};
use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::{LoadedSol, Sol};
use serde_json::{json, Value};

const SOL: &str = "plains-02-keepout";
const TILE_PX: u32 = 512;
const TARGET_MS: f64 = 300.0;

/// Answers each turn from a script at once, with no I/O.
#[derive(Debug)]
struct Scripted {
    turns: Mutex<VecDeque<Vec<(String, Value)>>>,
    served: Mutex<u32>,
}

#[async_trait::async_trait]
impl Provider for Scripted {
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAi
    }

    fn model(&self) -> &'static str {
        "scripted"
    }

    async fn complete(&self, _request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let calls = self.turns.lock().unwrap().pop_front().unwrap_or_default();
        let turn = {
            let mut served = self.served.lock().unwrap();
            *served += 1;
            *served
        };
        let tool_calls: Vec<ToolCall> = calls
            .into_iter()
            .enumerate()
            .map(|(i, (name, arguments))| ToolCall { id: format!("c{turn}_{i}"), name, arguments })
            .collect();
        let stop_reason =
            if tool_calls.is_empty() { StopReason::EndTurn } else { StopReason::ToolUse };
        Ok(ModelResponse {
            text: "working".into(),
            tool_calls,
            usage: Some(Usage { input_tokens: 1000, output_tokens: 100, ..Usage::default() }),
            stop_reason,
            latency: Duration::ZERO,
            model: Some("scripted".into()),
        })
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wp(points: &[(f64, f64)]) -> Value {
    points.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect()
}

/// Ten turns of two calls each: six tiles, slope and hazard queries, a check, a submission.
fn script(s: &LoadedSol) -> Vec<Vec<(String, Value)>> {
    let good = match plan_sol(s, &PlannerOptions::default()).expect("planner runs") {
        PlanOutcome::Route(r) => r.waypoints,
        PlanOutcome::NoSafeRoute { reason, .. } => panic!("no route on {SOL}: {reason}"),
    };
    let (sx, sy, gx, gy) = (s.sol.start.x, s.sol.start.y, s.sol.goal.x, s.sol.goal.y);
    let at = |f: f64| (sx + (gx - sx) * f, sy + (gy - sy) * f);
    let tile = |f: f64, size: f64| {
        let (x, y) = at(f);
        ("view_tile".to_owned(), json!({"centre_x_m": x, "centre_y_m": y, "size_m": size}))
    };
    let slope = |f: f64| {
        let ((x, y), (tx, ty)) = (at(f), at(f + 0.1));
        ("slope_query".to_owned(), json!({"x_m": x, "y_m": y, "to_x_m": tx, "to_y_m": ty}))
    };
    let hazard = |f: f64| {
        let (x, y) = at(f);
        ("hazard_lookup".to_owned(), json!({"x_m": x, "y_m": y, "radius_m": 15.0}))
    };
    let route = wp(&good);
    vec![
        vec![tile(0.1, 80.0), slope(0.0)],
        vec![tile(0.3, 80.0), hazard(0.3)],
        vec![tile(0.5, 60.0), slope(0.4)],
        vec![tile(0.7, 80.0), hazard(0.5)],
        vec![tile(0.9, 80.0), slope(0.8)],
        vec![tile(0.45, 40.0), hazard(0.45)],
        vec![slope(0.2), hazard(0.7)],
        vec![slope(0.6), hazard(0.9)],
        vec![("check_route".to_owned(), json!({"waypoints": route})), hazard(0.1)],
        vec![
            ("check_route".to_owned(), json!({"waypoints": route})),
            ("submit_route".to_owned(), json!({"waypoints": route, "rationale": "around it"})),
        ],
    ]
}

struct Figures {
    setup: Duration,
    run: Duration,
    tools_transcript_ms: f64,
    overview_ms: f64,
    tools_direct_ms: f64,
    turns: u32,
    tool_calls: u32,
    tiles: usize,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn one_run(s: &LoadedSol, prompt: &PromptSet, runs: &Path, id: &str) -> Figures {
    let turns = script(s);
    let provider = Arc::new(Scripted { turns: Mutex::new(turns.clone().into()), served: 0.into() });
    let cfg = SessionConfig { model_name: "scripted".into(), ..SessionConfig::default() };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let t = Instant::now();
    let writer = RunWriter::create(runs, id).expect("run dir");
    let session = Session::new(s, provider, prompt.clone(), cfg, writer, TILE_PX).expect("session");
    let setup = t.elapsed();
    let t = Instant::now();
    let report = rt.block_on(session.run()).expect("run");
    let run = t.elapsed();
    assert_eq!(report.status, RunStatus::Accepted, "{}", report.reason);

    let (events, torn) = read_transcript(&report.dir.join("transcript.jsonl")).unwrap();
    assert!(torn.is_none());
    let results: Vec<&Value> = events.iter().filter(|e| e["event"] == "tool_result").collect();
    assert!(results.iter().all(|e| e["ok"] == true), "every scripted call succeeds");
    let tools_transcript_ms = results.iter().filter_map(|e| e["ms"].as_f64()).sum();
    let tiles = results.iter().filter(|e| e["name"] == "view_tile").count();

    // The same work through the toolbox directly, one call after another, on a fresh toolbox
    // (as the session had): the overview tile, then every scripted call.
    let toolbox = Toolbox::open(s).expect("toolbox").with_tile_px(TILE_PX);
    let view = breadcrumb_tools::tiles::corridor_overview(&s.sol);
    let overview = json!({"centre_x_m": view.centre_x, "centre_y_m": view.centre_y,
        "size_m": view.size_m, "layer": "ortho"});
    let t = Instant::now();
    toolbox.call("view_tile", &overview).expect("overview");
    let overview_ms = ms(t.elapsed());
    let t = Instant::now();
    for (name, args) in turns.iter().flatten() {
        toolbox.call(name, args).expect("tool call");
    }
    let tools_direct_ms = ms(t.elapsed());
    Figures {
        setup,
        run,
        tools_transcript_ms,
        overview_ms,
        tools_direct_ms,
        turns: report.totals.turns,
        tool_calls: report.totals.tool_calls,
        tiles,
    }
}

/// A figure of one run, in milliseconds.
type Measure<'a> = &'a dyn Fn(&Figures) -> f64;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once as a smoke test.
    let runs: usize = if std::env::args().any(|a| a == "--bench") {
        std::env::var("LOOP_OVERHEAD_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5)
    } else {
        1
    };
    let s = Sol::load(&root().join(format!("fixtures/sols/{SOL}.toml"))).expect("fixture sol");
    let prompt = PromptSet::load_named(&root().join("prompts"), "v1").expect("prompt v1");
    let tmp = tempfile::tempdir().unwrap();
    let _warm = one_run(&s, &prompt, tmp.path(), "warmup");
    let all: Vec<Figures> =
        (0..runs).map(|i| one_run(&s, &prompt, tmp.path(), &format!("run{i}"))).collect();
    let f = &all[0];
    println!(
        "loop_overhead: sol {SOL}, {} turns, {} tool calls, {} view_tile tiles ({TILE_PX} px), \
         {runs} measured run(s) after a warm-up",
        f.turns, f.tool_calls, f.tiles
    );
    let col = |g: Measure| {
        let v: Vec<f64> = all.iter().map(g).collect();
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        (min, median(v), max)
    };
    let rows: [(&str, Measure); 7] = [
        ("session setup (open terrain)", &|f| ms(f.setup)),
        ("run wall time", &|f| ms(f.run)),
        ("tools, transcript `ms` sum", &|f| f.tools_transcript_ms),
        ("overview tile (direct)", &|f| f.overview_ms),
        ("tools, direct sequential", &|f| f.tools_direct_ms),
        ("overhead = run - transcript tools - overview", &|f| {
            ms(f.run) - f.tools_transcript_ms - f.overview_ms
        }),
        ("overhead = run - direct (overview + tools)", &|f| {
            ms(f.run) - f.overview_ms - f.tools_direct_ms
        }),
    ];
    println!("{:<46} {:>9} {:>9} {:>9}", "ms", "min", "median", "max");
    for (name, g) in rows {
        let (min, med, max) = col(g);
        println!("{name:<46} {min:>9.1} {med:>9.1} {max:>9.1}");
    }
    let (_, overhead, _) = col(&|f| ms(f.run) - f.tools_transcript_ms - f.overview_ms);
    let verdict = if overhead < TARGET_MS { "within" } else { "OVER" };
    println!("median loop overhead {overhead:.1} ms: {verdict} the {TARGET_MS:.0} ms target");
}
