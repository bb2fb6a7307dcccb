//! The runner: every (sol, model, prompt, repeat) of a matrix through the agent loop, at most
//! `concurrency` at a time, each attempt scored and committed to the [`Store`] when it ends.
//! Resuming a run does only the attempts the store does not hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use breadcrumb_agent::models::{build_provider, ModelEntry, ModelRegistry, OfflineContext};
use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::provider::baseline::Baseline;
use breadcrumb_agent::provider::limits::{Limiter, RateLimited};
use breadcrumb_agent::provider::replay::ReplayProvider;
use breadcrumb_agent::provider::{Provider, ProviderKind};
use breadcrumb_agent::session::{Session, SessionConfig};
use breadcrumb_agent::transcript::RunWriter;
use breadcrumb_agent::AgentError;
use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::terrain::Hazard;
use tokio::sync::Semaphore;

use crate::cache::Cached;
use crate::error::{EvalError, Result};
use crate::score::{score_attempt, AttemptScores, CellSummary, ScoreInputs};
use crate::store::{AttemptKey, RunOptions, RunRecord, Store};
use crate::suite::{Suite, SuiteSol};

/// Where things are and how each attempt runs.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// `models.toml`.
    pub models_file: PathBuf,
    /// Where prompt versions live.
    pub prompts_dir: PathBuf,
    /// Where transcripts go (`RUNS_DIR/<run>/<attempt>/`).
    pub runs_dir: PathBuf,
    /// Attempts at once.
    pub concurrency: usize,
    /// Pixel side of tiles.
    pub tile_px: u32,
    /// Revisions each attempt may make.
    pub max_revisions: u32,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            models_file: "models.toml".into(),
            prompts_dir: "prompts".into(),
            runs_dir: "runs".into(),
            concurrency: 4,
            tile_px: 1024,
            max_revisions: 3,
        }
    }
}

/// A new run's matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The suite.
    pub suite: Suite,
    /// Model names (`models.toml`).
    pub models: Vec<String>,
    /// Prompt versions.
    pub prompts: Vec<String>,
    /// Repeats of every (sol, model, prompt).
    pub repeats: u32,
}

/// What the runner reports as it goes.
#[derive(Debug, Clone)]
pub enum Event {
    /// The matrix is known: `todo` attempts to run, `skipped` already stored.
    Started {
        /// The run id.
        run_id: String,
        /// Attempts to run now.
        todo: u32,
        /// Attempts already in the store (resume).
        skipped: u32,
        /// Per (model, prompt) cell, in matrix order: attempts to run now.
        cells: Vec<(String, String, u32)>,
    },
    /// Sols are being planned for baselines.
    Preparing {
        /// The sol's id.
        sol: String,
    },
    /// An attempt ended and was committed.
    Attempt {
        /// Which.
        key: AttemptKey,
        /// Its scores.
        scores: Box<AttemptScores>,
        /// Its model turns the response cache answered.
        cached_responses: u32,
    },
    /// An attempt could not run or its record could not be kept (not stored; resume retries it).
    Failed {
        /// Which.
        key: AttemptKey,
        /// Why.
        error: String,
    },
}

/// Receives [`Event`]s (a progress bar, a log).
pub type EventFn = Arc<dyn Fn(&Event) + Send + Sync>;

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run as stored.
    pub run: RunRecord,
    /// Attempts run now and committed.
    pub ran: u32,
    /// Attempts already stored (resume).
    pub skipped: u32,
    /// Attempts that failed to run (not stored).
    pub failed: u32,
    /// Model turns of this session's attempts answered by the response cache.
    pub cached_responses: u32,
    /// Per (model, prompt) summaries over every stored attempt.
    pub cells: Vec<(String, String, CellSummary)>,
}

/// A fresh run id: `eval-<UTC stamp>-<4 hex>`.
#[must_use]
pub fn new_run_id() -> String {
    new_run_id_named("eval")
}

/// A fresh run id `<prefix>-<UTC stamp>-<4 hex>` (`campaign-...` for campaign runs).
#[must_use]
pub fn new_run_id_named(prefix: &str) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now.chars().filter(char::is_ascii_alphanumeric).collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{stamp}-{:04x}", nanos & 0xffff)
}

/// Starts a new run of `matrix` (id `run_id`) and runs it to its end, with no cache, recording
/// or replay (see [`run_with`]).
pub async fn run(
    store: Arc<Store>,
    cfg: &RunnerConfig,
    matrix: &Matrix,
    run_id: &str,
    on_event: EventFn,
) -> Result<RunOutcome> {
    run_with(store, cfg, matrix, run_id, RunOptions::default(), on_event).await
}

/// Starts a new run of `matrix` (id `run_id`) whose attempts use the response cache, record
/// cassettes or replay them as `options` say, and runs it to its end. The options are stored
/// with the run, so a resume goes on the same way.
pub async fn run_with(
    store: Arc<Store>,
    cfg: &RunnerConfig,
    matrix: &Matrix,
    run_id: &str,
    options: RunOptions,
    on_event: EventFn,
) -> Result<RunOutcome> {
    if matrix.models.is_empty() || matrix.prompts.is_empty() || matrix.repeats == 0 {
        return Err(EvalError::Config(
            "the matrix is empty: give models, prompts and repeats >= 1".into(),
        ));
    }
    if store.run(run_id)?.is_some() {
        return Err(EvalError::Config(format!("run `{run_id}` exists already; --resume it")));
    }
    let planned =
        u32::try_from(matrix.suite.sols.len() * matrix.models.len() * matrix.prompts.len())
            .unwrap_or(u32::MAX)
            .saturating_mul(matrix.repeats);
    // Stored absolute, so `--resume` and `report` work from any directory.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let record = RunRecord {
        id: run_id.to_owned(),
        suite: matrix.suite.name.clone(),
        suite_path: absolute(&matrix.suite.path).display().to_string(),
        models: matrix.models.clone(),
        prompts: matrix.prompts.clone(),
        repeats: matrix.repeats,
        planned,
        runs_dir: absolute(&cfg.runs_dir).display().to_string(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        finished_at: None,
        options: RunOptions {
            tile_px: Some(cfg.tile_px),
            max_revisions: Some(cfg.max_revisions),
            ..options
        },
        kind: crate::store::RunKind::Sol,
    };
    // Check everything that can be checked before the run is recorded.
    let prepared = Prepared::load(cfg, &record)?;
    if let Some(dir) = &record.options.replay {
        check_cassettes(Path::new(dir), &record, &matrix.suite)?;
    }
    store.create_run(&record)?;
    execute(store, cfg, &record, &matrix.suite, prepared, on_event).await
}

/// Resumes run `run_id`: runs the attempts the store does not hold (same suite file, models,
/// prompts, repeats; transcripts under the run's own runs dir).
pub async fn resume(
    store: Arc<Store>,
    cfg: &RunnerConfig,
    run_id: &str,
    on_event: EventFn,
) -> Result<RunOutcome> {
    let Some(record) = store.run(run_id)? else {
        return Err(EvalError::Config(format!(
            "{}: no run `{run_id}` to resume",
            store.path().display()
        )));
    };
    if record.kind == crate::store::RunKind::Campaign {
        return Err(EvalError::Config(format!(
            "run `{run_id}` is a campaign run: run `breadcrumb eval campaign --run-id {run_id}` \
             with its suite again to resume it"
        )));
    }
    let suite = Suite::load(Path::new(&record.suite_path))?;
    if let Some(dir) = &record.options.replay {
        check_cassettes(Path::new(dir), &record, &suite)?;
    }
    let cfg = RunnerConfig {
        runs_dir: PathBuf::from(&record.runs_dir),
        tile_px: record.options.tile_px.unwrap_or(cfg.tile_px),
        max_revisions: record.options.max_revisions.unwrap_or(cfg.max_revisions),
        ..cfg.clone()
    };
    let prepared = Prepared::load(&cfg, &record)?;
    execute(store, &cfg, &record, &suite, prepared, on_event).await
}

/// Models and prompts of a run, loaded.
struct Prepared {
    models: BTreeMap<String, ModelEntry>,
    prompts: BTreeMap<String, PromptSet>,
    /// One limiter per rate-limited model, shared by all its attempts.
    limiters: BTreeMap<String, Arc<Limiter>>,
}

impl Prepared {
    fn load(cfg: &RunnerConfig, run: &RunRecord) -> Result<Prepared> {
        let registry = ModelRegistry::load(&cfg.models_file)?;
        let mut models = BTreeMap::new();
        let mut limiters = BTreeMap::new();
        for m in &run.models {
            let Some(e) = registry.get(m) else {
                let names: Vec<&str> = registry.entries().iter().map(|e| e.name.as_str()).collect();
                return Err(EvalError::Config(format!(
                    "{}: no model named `{m}`; known: {}",
                    cfg.models_file.display(),
                    names.join(", ")
                )));
            };
            if e.provider == ProviderKind::Replay {
                return Err(EvalError::Config(format!(
                    "model `{m}` replays a cassette; evals cannot run it (record a run with \
                     --record DIR, then replay it with --replay DIR)"
                )));
            }
            let limits = e.rate_limits();
            if limits.is_limited() {
                limiters.insert(m.clone(), Arc::new(Limiter::new(limits, e.image_tokens)));
            }
            models.insert(m.clone(), e.clone());
        }
        let mut prompts = BTreeMap::new();
        for p in &run.prompts {
            prompts.insert(p.clone(), PromptSet::load_named(&cfg.prompts_dir, p)?);
        }
        Ok(Prepared { models, prompts, limiters })
    }
}

/// What is known of a sol before its attempts: its open toolbox (terrain, rover, and the cost
/// grid, built once and shared by every attempt's `path_cost` and by the scoring) and the
/// baseline planner's answer (handed to the offline policies instead of planning again).
struct SolContext {
    entry: SuiteSol,
    toolbox: Option<Arc<Toolbox>>,
    baseline: Baseline,
    /// Ground truth perception is scored against (`None`: the sol has none).
    truth: Option<Arc<Vec<Hazard>>>,
    /// The baseline classifier over the sol's area, scored against the truth once.
    classifier: Option<Arc<crate::perception::ClassifierScores>>,
}

fn prepare_sol(entry: SuiteSol, tile_px: u32) -> SolContext {
    match Toolbox::open(&entry.sol) {
        Ok(t) => {
            let toolbox = Arc::new(t.with_tile_px(tile_px));
            let baseline = Baseline::plan_with(&toolbox);
            let truth = ground_truth(&entry, &toolbox);
            let classifier = truth.as_ref().and_then(|t| {
                classifier_outlines(&toolbox)
                    .map(|c| Arc::new(crate::perception::score_classifier(t, &c)))
            });
            SolContext { entry, toolbox: Some(toolbox), baseline, truth, classifier }
        }
        Err(e) => {
            // The attempts will fail to open it too, and say so in their records.
            tracing::warn!("sol {}: terrain does not open: {e}", entry.id());
            let baseline = Baseline::NoRoute(format!("the terrain does not open: {e}"));
            SolContext { entry, toolbox: None, baseline, truth: None, classifier: None }
        }
    }
}

/// The baseline classifier's outlines over the sol's area (the yardstick a model's marks are
/// read against); `None`, logged, when it fails.
fn classifier_outlines(toolbox: &Toolbox) -> Option<Vec<Hazard>> {
    let window = breadcrumb_tools::cost::mission_window(toolbox.mission(), toolbox.extent());
    breadcrumb_tools::perception::classify::classify(toolbox.bundle(), window)
        .inspect_err(|e| tracing::warn!("sol {}: classifier failed: {e}", toolbox.sol().sol.id))
        .ok()
        .map(|m| m.to_hazards())
}

/// The sol's ground truth: the suite's truth file, else the bundle's own mapped hazards (when
/// it has any). A truth file that does not load is logged and perception goes unscored.
fn ground_truth(entry: &SuiteSol, toolbox: &Toolbox) -> Option<Arc<Vec<Hazard>>> {
    let Some(path) = &entry.truth else {
        let h = &toolbox.bundle().hazards;
        return (!h.is_empty()).then(|| Arc::new(h.clone()));
    };
    breadcrumb_tools::terrain::hazards::load_hazards(path)
        .inspect_err(|e| tracing::warn!("sol {}: ground truth not loaded: {e}", entry.id()))
        .ok()
        .map(Arc::new)
}

/// A stable 64-bit FNV-1a hash (seeds of the noisy policy).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect()
}

async fn execute(
    store: Arc<Store>,
    cfg: &RunnerConfig,
    run: &RunRecord,
    suite: &Suite,
    prepared: Prepared,
    on_event: EventFn,
) -> Result<RunOutcome> {
    let prepared = Arc::new(prepared);
    let done = store.done(&run.id)?;
    let todo: Vec<AttemptKey> =
        matrix_keys(run, suite).into_iter().filter(|k| !done.contains(k)).collect();
    let skipped = u32::try_from(done.len()).unwrap_or(u32::MAX);
    let mut cells = Vec::new();
    for m in &run.models {
        for p in &run.prompts {
            let n = todo.iter().filter(|k| &k.model == m && &k.prompt == p).count();
            cells.push((m.clone(), p.clone(), u32::try_from(n).unwrap_or(u32::MAX)));
        }
    }
    on_event(&Event::Started {
        run_id: run.id.clone(),
        todo: u32::try_from(todo.len()).unwrap_or(u32::MAX),
        skipped,
        cells,
    });
    let semaphore = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    // Baselines of the sols that still have attempts to run, planned in parallel.
    let mut contexts: BTreeMap<String, Arc<SolContext>> = BTreeMap::new();
    let mut preps = Vec::new();
    for s in suite.sols.iter().filter(|s| todo.iter().any(|k| k.sol == s.id())) {
        on_event(&Event::Preparing { sol: s.id().to_owned() });
        let (sem, entry, tile_px) = (Arc::clone(&semaphore), s.clone(), cfg.tile_px);
        preps.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            tokio::task::spawn_blocking(move || prepare_sol(entry, tile_px)).await
        }));
    }
    for p in preps {
        let ctx = p
            .await
            .map_err(|e| EvalError::Config(format!("preparing a sol failed: {e}")))?
            .map_err(|e| EvalError::Config(format!("preparing a sol failed: {e}")))?;
        contexts.insert(ctx.entry.id().to_owned(), Arc::new(ctx));
    }
    let run_dir = PathBuf::from(&run.runs_dir).join(&run.id);
    let mut handles = Vec::with_capacity(todo.len());
    for key in todo {
        let ctx = Arc::clone(&contexts[&key.sol]);
        let (sem, store, prepared, on_event) = (
            Arc::clone(&semaphore),
            Arc::clone(&store),
            Arc::clone(&prepared),
            Arc::clone(&on_event),
        );
        let (run_dir, cfg, run) = (run_dir.clone(), cfg.clone(), run.clone());
        let which = key.clone();
        handles.push((
            which,
            tokio::spawn(async move {
                let _permit = sem.acquire_owned().await;
                match attempt(&key, &ctx, &prepared, &cfg, &run, &store, &run_dir).await {
                    Ok((scores, transcript, hits)) => {
                        match store.put_attempt(&key, &scores, &transcript) {
                            Ok(()) => {
                                on_event(&Event::Attempt {
                                    key,
                                    scores: Box::new(scores),
                                    cached_responses: hits,
                                });
                                Some(hits)
                            }
                            Err(e) => {
                                on_event(&Event::Failed { key, error: e.to_string() });
                                None
                            }
                        }
                    }
                    Err(e) => {
                        on_event(&Event::Failed { key, error: e.to_string() });
                        None
                    }
                }
            }),
        ));
    }
    let (mut ran, mut failed, mut cached_responses) = (0u32, 0u32, 0u32);
    for (key, h) in handles {
        match h.await {
            Ok(Some(hits)) => {
                ran += 1;
                cached_responses += hits;
            }
            Ok(None) => failed += 1,
            Err(e) => {
                // A panic inside an attempt: not stored (a resume retries it), but said.
                on_event(&Event::Failed { key, error: format!("the attempt panicked: {e}") });
                failed += 1;
            }
        }
    }
    let cells = store.finish_run(run)?;
    let run = store.run(&run.id)?.unwrap_or_else(|| run.clone());
    Ok(RunOutcome { run, ran, skipped, failed, cached_responses, cells })
}

/// The cassette of an attempt in a record/replay directory.
#[must_use]
pub fn cassette_path(dir: &Path, key: &AttemptKey) -> PathBuf {
    dir.join(format!("{}.jsonl", attempt_name(key)))
}

/// The attempt's directory name under the run's directory (and its cassette's stem).
fn attempt_name(key: &AttemptKey) -> String {
    safe(&format!("{}__{}__{}__r{}", key.sol, key.model, key.prompt, key.repeat))
}

/// Every cassette a replayed run needs exists and reads as a recording, checked before the
/// run starts: the error names the file, and the line of a damaged one.
fn check_cassettes(dir: &Path, run: &RunRecord, suite: &Suite) -> Result<()> {
    for key in matrix_keys(run, suite) {
        ReplayProvider::open(&cassette_path(dir, &key))
            .map_err(|e| EvalError::Config(format!("--replay: {e}")))?;
    }
    Ok(())
}

/// Every attempt of a run's matrix, in order: sol, model, prompt, repeat.
fn matrix_keys(run: &RunRecord, suite: &Suite) -> Vec<AttemptKey> {
    let mut keys = Vec::new();
    for s in &suite.sols {
        for m in &run.models {
            for p in &run.prompts {
                for repeat in 0..run.repeats {
                    keys.push(AttemptKey {
                        run_id: run.id.clone(),
                        sol: s.id().to_owned(),
                        model: m.clone(),
                        prompt: p.clone(),
                        repeat,
                    });
                }
            }
        }
    }
    keys
}

/// The attempt's response cache, when it has one (read for its hits after the attempt).
type CacheHandle = Option<Arc<Cached>>;

/// The provider of one attempt: the offline policies with the sol's baseline, a cassette when
/// replaying, else the model's client behind its rate limiter and, when the run caches, the
/// response cache (in front of the limiter, so answers from the cache take no quota). Returns
/// the cache too, to read its hits after the attempt.
fn attempt_provider(
    key: &AttemptKey,
    ctx: &SolContext,
    prepared: &Prepared,
    run: &RunRecord,
    store: &Arc<Store>,
) -> Result<(Arc<dyn Provider>, CacheHandle)> {
    let entry = &prepared.models[&key.model];
    let replay = run.options.replay.as_deref().map(|dir| cassette_path(Path::new(dir), key));
    let offline = OfflineContext {
        baseline: Some(ctx.baseline.clone()),
        // The reference policy plans its marked runs over the sol's shared terrain and grid.
        toolbox: ctx.toolbox.clone(),
        cassette: replay.clone(),
        replay_always: replay.is_some(),
        seed: fnv1a(&key.sol) ^ u64::from(key.repeat).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ..OfflineContext::new(&ctx.entry.sol)
    };
    let provider = build_provider(entry, &offline).map_err(|e| match e {
        AgentError::Replay(e) => EvalError::Config(format!("--replay: {e}")),
        e => e.into(),
    })?;
    // Offline policies and recordings answer at once and cost nothing: no quota, no cache.
    if replay.is_some() || !entry.provider.is_network() {
        return Ok((provider, None));
    }
    let provider: Arc<dyn Provider> = match prepared.limiters.get(&key.model) {
        Some(l) => Arc::new(RateLimited::new(provider, Arc::clone(l))),
        None => provider,
    };
    if run.options.cache {
        let cached = Arc::new(Cached::new(provider, entry, Arc::clone(store)));
        return Ok((Arc::clone(&cached) as Arc<dyn Provider>, Some(cached)));
    }
    Ok((provider, None))
}

/// Copies an attempt's transcript to the record directory as its cassette, atomically (a
/// temporary file renamed into place), so a kill never leaves half a cassette.
fn record_cassette(dir: &Path, key: &AttemptKey, transcript: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|error| EvalError::Io { path: dir.to_path_buf(), error })?;
    let to = cassette_path(dir, key);
    let tmp = to.with_extension("jsonl.part");
    std::fs::copy(transcript, &tmp).map_err(|error| EvalError::Io { path: tmp.clone(), error })?;
    std::fs::rename(&tmp, &to).map_err(|error| EvalError::Io { path: to.clone(), error })
}

/// Runs one attempt; returns its scores, its transcript's path and how many of its model
/// turns the response cache answered.
async fn attempt(
    key: &AttemptKey,
    ctx: &SolContext,
    prepared: &Prepared,
    cfg: &RunnerConfig,
    run: &RunRecord,
    store: &Arc<Store>,
    run_dir: &Path,
) -> Result<(AttemptScores, PathBuf, u32)> {
    let entry = &prepared.models[&key.model];
    let sol = &ctx.entry.sol;
    let (provider, cache) = attempt_provider(key, ctx, prepared, run, store)?;
    let session_cfg = SessionConfig {
        max_revisions: cfg.max_revisions,
        jitter_seed: fnv1a(&format!("{}/{}/{}", key.sol, key.model, key.repeat)),
        ..SessionConfig::for_model(entry)
    };
    let name = attempt_name(key);
    // A directory without a stored attempt is what an interrupted run left: start it anew.
    let dir = run_dir.join(&name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|error| EvalError::Io { path: dir.clone(), error })?;
    }
    let writer = RunWriter::create(run_dir, &name).map_err(|e| EvalError::Session(e.into()))?;
    // Each attempt gets its own toolbox over the sol's shared terrain and cost grid: the
    // marks a model makes bind its own run only.
    let toolbox = match &ctx.toolbox {
        Some(t) => Arc::new(t.fresh()),
        None => Arc::new(Toolbox::open(sol).map_err(|e| EvalError::Session(e.into()))?),
    };
    let session = Session::with_toolbox(
        sol,
        Arc::clone(&toolbox),
        provider,
        prepared.prompts[&key.prompt].clone(),
        session_cfg,
        writer,
    );
    let report = session.run().await?;
    // Priced on the site's cost model without the attempt's marks, so every attempt at the
    // sol is priced alike.
    let route_cost = match (toolbox.site_cost_grid(), &report.waypoints) {
        (Ok(g), Some(w)) => g.path_cost(w).ok().map(|c| c.total_cost),
        _ => None,
    };
    let s = &sol.sol;
    let inputs = ScoreInputs {
        goal: (s.goal.x, s.goal.y),
        expect: ctx.entry.expect,
        baseline_cost: ctx.baseline.cost(),
        route_cost,
        reference: ctx.entry.reference_route.clone(),
        truth: ctx.truth.clone(),
        classifier: ctx.classifier.clone(),
    };
    let transcript = report.dir.join("transcript.jsonl");
    if let Some(dir) = &run.options.record {
        record_cassette(Path::new(dir), key, &transcript)?;
    }
    let hits = cache.map_or(0, |c| c.hits());
    Ok((score_attempt(&report, &inputs), transcript, hits))
}
