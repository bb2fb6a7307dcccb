//! The runner: every (sol, model, prompt, repeat) of a matrix through the agent loop, at most
//! `concurrency` at a time, each attempt scored and committed to the [`Store`] when it ends.
//! Resuming a run does only the attempts the store does not hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use breadcrumb_agent::models::{build_provider, ModelEntry, ModelRegistry};
use breadcrumb_agent::noisy::{Baseline, NoisyConfig, NoisyProvider};
use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::provider::{Provider, ProviderKind, Sampling};
use breadcrumb_agent::reference::ReferenceProvider;
use breadcrumb_agent::session::{Session, SessionConfig};
use breadcrumb_agent::transcript::RunWriter;
use breadcrumb_tools::cost::{cost_grid_for_sol, CostGrid};
use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannerOptions};
use tokio::sync::Semaphore;

use crate::error::{EvalError, Result};
use crate::score::{score_attempt, AttemptScores, CellSummary, ScoreInputs};
use crate::store::{AttemptKey, RunRecord, Store};
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
    /// Per (model, prompt) summaries over every stored attempt.
    pub cells: Vec<(String, String, CellSummary)>,
}

/// A fresh run id: `eval-<UTC stamp>-<4 hex>`.
#[must_use]
pub fn new_run_id() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now.chars().filter(char::is_ascii_alphanumeric).collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("eval-{stamp}-{:04x}", nanos & 0xffff)
}

/// Starts a new run of `matrix` (id `run_id`) and runs it to its end.
pub async fn run(
    store: Arc<Store>,
    cfg: &RunnerConfig,
    matrix: &Matrix,
    run_id: &str,
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
    let record = RunRecord {
        id: run_id.to_owned(),
        suite: matrix.suite.name.clone(),
        suite_path: matrix.suite.path.display().to_string(),
        models: matrix.models.clone(),
        prompts: matrix.prompts.clone(),
        repeats: matrix.repeats,
        planned,
        runs_dir: cfg.runs_dir.display().to_string(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        finished_at: None,
    };
    // Check everything that can be checked before the run is recorded.
    let _ = Prepared::load(cfg, &record)?;
    store.create_run(&record)?;
    execute(store, cfg, &record, &matrix.suite, on_event).await
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
    let suite = Suite::load(Path::new(&record.suite_path))?;
    let cfg = RunnerConfig { runs_dir: PathBuf::from(&record.runs_dir), ..cfg.clone() };
    execute(store, &cfg, &record, &suite, on_event).await
}

/// Models and prompts of a run, loaded.
struct Prepared {
    models: BTreeMap<String, ModelEntry>,
    prompts: BTreeMap<String, PromptSet>,
}

impl Prepared {
    fn load(cfg: &RunnerConfig, run: &RunRecord) -> Result<Prepared> {
        let registry = ModelRegistry::load(&cfg.models_file)?;
        let mut models = BTreeMap::new();
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
                    "model `{m}` replays a cassette; evals cannot run it"
                )));
            }
            models.insert(m.clone(), e.clone());
        }
        let mut prompts = BTreeMap::new();
        for p in &run.prompts {
            prompts.insert(p.clone(), PromptSet::load_named(&cfg.prompts_dir, p)?);
        }
        Ok(Prepared { models, prompts })
    }
}

/// What is known of a sol before its attempts: the baseline and the cost grid.
struct SolContext {
    entry: SuiteSol,
    baseline: Baseline,
    baseline_cost: Option<f64>,
    grid: Option<Arc<CostGrid>>,
}

fn prepare_sol(entry: SuiteSol) -> SolContext {
    let (baseline, baseline_cost) = match plan_sol(&entry.sol, &PlannerOptions::default()) {
        Ok(PlanOutcome::Route(r)) => (Baseline::Route(r.waypoints), Some(r.cost)),
        Ok(PlanOutcome::NoSafeRoute { reason, .. }) => (Baseline::NoRoute(reason), None),
        Err(e) => (Baseline::NoRoute(format!("the planner failed: {e}")), None),
    };
    let grid = match cost_grid_for_sol(&entry.sol) {
        Ok(g) => Some(Arc::new(g)),
        Err(e) => {
            tracing::warn!("sol {}: no cost grid, attempt costs unknown: {e}", entry.id());
            None
        }
    };
    SolContext { entry, baseline, baseline_cost, grid }
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
    on_event: EventFn,
) -> Result<RunOutcome> {
    let prepared = Arc::new(Prepared::load(cfg, run)?);
    let done = store.done(&run.id)?;
    let mut todo = Vec::new();
    for s in &suite.sols {
        for m in &run.models {
            for p in &run.prompts {
                for repeat in 0..run.repeats {
                    let key = AttemptKey {
                        run_id: run.id.clone(),
                        sol: s.id().to_owned(),
                        model: m.clone(),
                        prompt: p.clone(),
                        repeat,
                    };
                    if !done.contains(&key) {
                        todo.push(key);
                    }
                }
            }
        }
    }
    let skipped = u32::try_from(done.len()).unwrap_or(u32::MAX);
    on_event(&Event::Started {
        run_id: run.id.clone(),
        todo: u32::try_from(todo.len()).unwrap_or(u32::MAX),
        skipped,
    });
    let semaphore = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    // Baselines of the sols that still have attempts to run, planned in parallel.
    let mut contexts: BTreeMap<String, Arc<SolContext>> = BTreeMap::new();
    let mut preps = Vec::new();
    for s in suite.sols.iter().filter(|s| todo.iter().any(|k| k.sol == s.id())) {
        on_event(&Event::Preparing { sol: s.id().to_owned() });
        let (sem, entry) = (Arc::clone(&semaphore), s.clone());
        preps.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            tokio::task::spawn_blocking(move || prepare_sol(entry)).await
        }));
    }
    for p in preps {
        let ctx = p
            .await
            .map_err(|e| EvalError::Config(format!("preparing a sol failed: {e}")))?
            .map_err(|e| EvalError::Config(format!("preparing a sol failed: {e}")))?;
        contexts.insert(ctx.entry.id().to_owned(), Arc::new(ctx));
    }
    let run_dir = cfg.runs_dir.join(&run.id);
    let mut handles = Vec::with_capacity(todo.len());
    for key in todo {
        let ctx = Arc::clone(&contexts[&key.sol]);
        let (sem, store, prepared, on_event) = (
            Arc::clone(&semaphore),
            Arc::clone(&store),
            Arc::clone(&prepared),
            Arc::clone(&on_event),
        );
        let (run_dir, cfg) = (run_dir.clone(), cfg.clone());
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            match attempt(&key, &ctx, &prepared, &cfg, &run_dir).await {
                Ok((scores, transcript)) => match store.put_attempt(&key, &scores, &transcript) {
                    Ok(()) => {
                        on_event(&Event::Attempt { key, scores: Box::new(scores) });
                        true
                    }
                    Err(e) => {
                        on_event(&Event::Failed { key, error: e.to_string() });
                        false
                    }
                },
                Err(e) => {
                    on_event(&Event::Failed { key, error: e.to_string() });
                    false
                }
            }
        }));
    }
    let (mut ran, mut failed) = (0u32, 0u32);
    for h in handles {
        if h.await.unwrap_or(false) {
            ran += 1;
        } else {
            failed += 1;
        }
    }
    let cells = store.finish_run(run)?;
    let run = store.run(&run.id)?.unwrap_or_else(|| run.clone());
    Ok(RunOutcome { run, ran, skipped, failed, cells })
}

/// Runs one attempt; returns its scores and transcript path.
async fn attempt(
    key: &AttemptKey,
    ctx: &SolContext,
    prepared: &Prepared,
    cfg: &RunnerConfig,
    run_dir: &Path,
) -> Result<(AttemptScores, PathBuf)> {
    let entry = &prepared.models[&key.model];
    let sol = &ctx.entry.sol;
    let provider: Arc<dyn Provider> = match entry.provider {
        ProviderKind::Reference => Arc::new(ReferenceProvider::new(sol)),
        ProviderKind::Noisy => {
            let seed = fnv1a(&key.sol) ^ u64::from(key.repeat).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let ncfg = NoisyConfig { seed, ..NoisyConfig::default() };
            Arc::new(NoisyProvider::with_baseline(sol, ncfg, ctx.baseline.clone()))
        }
        _ => build_provider(entry)?,
    };
    let session_cfg = SessionConfig {
        model_name: entry.name.clone(),
        max_revisions: cfg.max_revisions,
        sampling: entry.sampling(Sampling::default()),
        prices: entry.prices(),
        image_rule: entry.image_tokens,
        jitter_seed: fnv1a(&format!("{}/{}/{}", key.sol, key.model, key.repeat)),
        ..SessionConfig::default()
    };
    let name = safe(&format!("{}__{}__{}__r{}", key.sol, key.model, key.prompt, key.repeat));
    // A directory without a stored attempt is what an interrupted run left: start it anew.
    let dir = run_dir.join(&name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|error| EvalError::Io { path: dir.clone(), error })?;
    }
    let writer = RunWriter::create(run_dir, &name).map_err(|e| EvalError::Session(e.into()))?;
    let session = Session::new(
        sol,
        provider,
        prepared.prompts[&key.prompt].clone(),
        session_cfg,
        writer,
        cfg.tile_px,
    )?;
    let report = session.run().await?;
    let route_cost = match (&ctx.grid, &report.waypoints) {
        (Some(g), Some(w)) => g.path_cost(w).ok().map(|c| c.total_cost),
        _ => None,
    };
    let s = &sol.sol;
    let inputs = ScoreInputs {
        goal: (s.goal.x, s.goal.y),
        expect: ctx.entry.expect,
        baseline_cost: ctx.baseline_cost,
        route_cost,
        reference: ctx.entry.reference_route.clone(),
    };
    Ok((score_attempt(&report, &inputs), report.dir.join("transcript.jsonl")))
}
