//! `breadcrumb eval`: regression runs over a suite of sols, comparing models and prompts, stored
//! in SQLite.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{bail, Context};
use breadcrumb_evals::runner::{self, Event, Matrix, RunOutcome, RunnerConfig};
use breadcrumb_evals::score::CellSummary;
use breadcrumb_evals::stats::Rate;
use breadcrumb_evals::store::{RunKind, RunOptions, Store};
use breadcrumb_evals::suite::Suite;
use clap::{Args, Subcommand};

use super::ExitStatus;

/// Regression evals: run a matrix of models x prompts over a suite of sols, list past runs,
/// compare two runs or cells (exit 1 on a regression), and report a run as one HTML page.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    Run(Box<RunArgs>),
    List(ListArgs),
    Compare(super::eval_compare::CompareArgs),
    Report(super::eval_report::ReportArgs),
    Campaign(super::eval_campaign::CampaignEvalArgs),
}

/// Run a suite over models x prompts x repeats; every attempt is scored and committed to the
/// store when it ends.
///
/// Example: breadcrumb eval run --suite smoke --models reference,noisy --repeats 2
///
/// Example: breadcrumb eval run --resume eval-20250101T000000Z-1a2b
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite name (evals/suites/NAME.toml) or a suite file.
    #[arg(long, required_unless_present = "resume")]
    suite: Option<String>,
    /// Comma-separated model names from the models file.
    #[arg(long, value_delimiter = ',', default_value = "reference")]
    models: Vec<String>,
    /// Comma-separated prompt versions.
    #[arg(long, value_delimiter = ',', default_value = "v1")]
    prompts: Vec<String>,
    /// Attempts per (sol, model, prompt).
    #[arg(long, default_value_t = 1)]
    repeats: u32,
    /// Attempts running at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Resume run RUN: do only the attempts the store does not hold.
    #[arg(long, value_name = "RUN", conflicts_with = "suite")]
    resume: Option<String>,
    /// Ask the models every time: do not answer repeated requests from the response cache.
    /// (The cache is used only when --repeats is 1: repeats exist to sample the model anew.)
    #[arg(long, conflicts_with = "resume")]
    no_cache: bool,
    /// Save each attempt's transcript in DIR as a cassette (DIR/<sol>__<model>__<prompt>__rN.jsonl),
    /// to replay the run later offline with --replay DIR.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["replay", "resume"])]
    record: Option<PathBuf>,
    /// Play every model's turns back from the cassettes in DIR (recorded with --record): no
    /// network, no keys; a request that differs from the recording fails, naming where.
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    replay: Option<PathBuf>,
    /// Id of the new run (default: eval-<UTC time>-<4 hex>); scripts pick one to --resume it.
    #[arg(long, value_name = "ID", conflicts_with = "resume")]
    run_id: Option<String>,
    /// The run store.
    #[arg(long, value_name = "PATH", default_value = "runs/breadcrumb.db")]
    db: PathBuf,
    /// Where transcripts are recorded.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    runs_dir: PathBuf,
    /// Where named suites live.
    #[arg(long, value_name = "DIR", default_value = "evals/suites")]
    suites_dir: PathBuf,
    /// The models file.
    #[arg(long, value_name = "FILE", default_value = "models.toml")]
    models_file: PathBuf,
    /// Where prompt versions live.
    #[arg(long, value_name = "DIR", default_value = "prompts")]
    prompts_dir: PathBuf,
    /// Failed submissions each attempt may revise (a resumed run keeps its own).
    #[arg(long, default_value_t = 3, conflicts_with = "resume")]
    max_revisions: u32,
    /// Pixel side of the tiles the model sees (a resumed run keeps its own).
    #[arg(long, default_value_t = 1024, conflicts_with = "resume")]
    tile_px: u32,
}

/// List the runs in the store, newest first.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The run store.
    #[arg(long, value_name = "PATH", default_value = "runs/breadcrumb.db")]
    db: PathBuf,
}

pub fn run(cmd: EvalCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        EvalCommand::Run(a) => run_matrix(&a),
        EvalCommand::List(a) => list(&a),
        EvalCommand::Compare(a) => super::eval_compare::run(&a),
        EvalCommand::Report(a) => super::eval_report::run(&a),
        EvalCommand::Campaign(a) => super::eval_campaign::run(&a),
    }
}

fn run_matrix(a: &RunArgs) -> anyhow::Result<ExitStatus> {
    if a.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let store = Arc::new(Store::open(&a.db)?);
    let cfg = RunnerConfig {
        models_file: a.models_file.clone(),
        prompts_dir: a.prompts_dir.clone(),
        runs_dir: a.runs_dir.clone(),
        concurrency: a.concurrency,
        tile_px: a.tile_px,
        max_revisions: a.max_revisions,
    };
    let progress = Progress::new();
    let on_event: runner::EventFn = {
        let p = progress.clone();
        Arc::new(move |e: &Event| p.on(e))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = if let Some(id) = &a.resume {
        runtime.block_on(runner::resume(store, &cfg, id, on_event))?
    } else {
        let Some(name) = &a.suite else { bail!("give --suite or --resume") };
        let matrix = Matrix {
            suite: Suite::find(&a.suites_dir, name)?,
            models: a.models.clone(),
            prompts: a.prompts.clone(),
            repeats: a.repeats,
        };
        let id = match &a.run_id {
            Some(id) if id.trim().is_empty() || id.contains(['/', '\\']) => {
                bail!("--run-id `{id}` must be non-empty and hold no path separators")
            }
            Some(id) => id.clone(),
            None => runner::new_run_id(),
        };
        let options = RunOptions {
            cache: a.repeats == 1 && !a.no_cache && a.replay.is_none(),
            record: a.record.as_ref().map(|d| absolute(d)),
            replay: a.replay.as_ref().map(|d| absolute(d)),
            ..RunOptions::default()
        };
        runtime.block_on(runner::run_with(store, &cfg, &matrix, &id, options, on_event))?
    };
    progress.finish();
    out!("{}", report(&outcome, &a.db))?;
    Ok(if outcome.failed == 0 { ExitStatus::Success } else { ExitStatus::Error })
}

/// Per (model, prompt): its bar and its running cost in USD.
type CellBars = BTreeMap<(String, String), (indicatif::ProgressBar, f64)>;

/// The progress display: a bar for the whole run (ETA, running cost) and one per matrix cell.
#[derive(Clone)]
struct Progress {
    multi: indicatif::MultiProgress,
    total: indicatif::ProgressBar,
    cells: Arc<Mutex<CellBars>>,
    usd: Arc<Mutex<f64>>,
}

impl Progress {
    fn new() -> Progress {
        let multi = indicatif::MultiProgress::new();
        let total = multi.add(indicatif::ProgressBar::new(0));
        total.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        total.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress {
            multi,
            total,
            cells: Arc::new(Mutex::new(BTreeMap::new())),
            usd: Arc::new(Mutex::new(0.0)),
        }
    }

    fn on(&self, e: &Event) {
        match e {
            Event::Started { run_id, todo, skipped, cells } => {
                self.total.set_length(u64::from(*todo));
                let _ = self.multi.println(format!(
                    "run {run_id}: {todo} attempt(s) to run, {skipped} already stored"
                ));
                let style = indicatif::ProgressStyle::with_template(
                    "  {prefix:<28} {bar:20} {pos}/{len} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                let mut map = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
                for (m, p, n) in cells {
                    let bar = self.multi.add(indicatif::ProgressBar::new(u64::from(*n)));
                    bar.set_style(style.clone());
                    bar.set_prefix(format!("{m} · {p}"));
                    map.insert((m.clone(), p.clone()), (bar, 0.0));
                }
            }
            Event::Preparing { sol } => {
                self.total.set_message(format!("planning the baseline of {sol}"));
            }
            Event::Attempt { key, scores, .. } => {
                let mut usd = self.usd.lock().unwrap_or_else(PoisonError::into_inner);
                *usd += scores.cost_usd;
                self.total.inc(1);
                self.total.set_message(format!(
                    "${usd:.4} · {} {} {} r{}: {}",
                    key.sol, key.model, key.prompt, key.repeat, scores.status
                ));
                let mut map = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some((bar, cell_usd)) = map.get_mut(&(key.model.clone(), key.prompt.clone()))
                {
                    *cell_usd += scores.cost_usd;
                    bar.inc(1);
                    bar.set_message(format!("${cell_usd:.4}"));
                }
            }
            Event::Failed { key, error } => {
                self.total.inc(1);
                if let Some((bar, _)) = self
                    .cells
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&(key.model.clone(), key.prompt.clone()))
                {
                    bar.inc(1);
                }
                let _ = self.multi.println(format!(
                    "attempt {} {} {} r{} failed: {error}",
                    key.sol, key.model, key.prompt, key.repeat
                ));
            }
        }
    }

    fn finish(&self) {
        for (bar, _) in self.cells.lock().unwrap_or_else(PoisonError::into_inner).values() {
            bar.finish_and_clear();
        }
        self.total.finish_and_clear();
    }
}

/// `p` as an absolute path (stored with the run, so a resume from elsewhere finds it).
fn absolute(p: &std::path::Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

fn rate(r: &Rate) -> String {
    format!("{}/{} {:.0}% [{:.0}-{:.0}]", r.k, r.n, r.p * 100.0, r.lo * 100.0, r.hi * 100.0)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// The end-of-run table: one line per cell.
fn report(o: &RunOutcome, db: &std::path::Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "run {} (suite {}): {} attempt(s) run, {} already stored, {} failed",
        o.run.id, o.run.suite, o.ran, o.skipped, o.failed
    );
    let mut how = Vec::new();
    if o.run.options.cache && o.cached_responses > 0 {
        how.push(format!("{} model turn(s) answered from the response cache", o.cached_responses));
    }
    if let Some(d) = &o.run.options.record {
        how.push(format!("cassettes recorded in {d}"));
    }
    if let Some(d) = &o.run.options.replay {
        how.push(format!("replayed from the cassettes in {d}"));
    }
    if !how.is_empty() {
        let _ = writeln!(s, "({})", how.join("; "));
    }
    let _ = writeln!(
        s,
        "{:<18} {:<6} {:>24} {:>24} {:>24} {:>20} {:>9} {:>9} {:>6} {:>8} {:>9}",
        "model",
        "prompt",
        "accepted (95% CI)",
        "first submit",
        "as expected",
        "cost ratio",
        "goal err",
        "frechet",
        "turns",
        "wall s",
        "usd"
    );
    for (m, p, c) in &o.cells {
        let CellSummary { accepted, accepted_first_submit, expectation_met, .. } = c;
        let _ = writeln!(
            s,
            "{m:<18} {p:<6} {:>24} {:>24} {:>24} {:>20} {:>9} {:>9} {:>6} {:>8} {:>9.4}",
            rate(accepted),
            rate(accepted_first_submit),
            rate(expectation_met),
            c.spreads.cost_ratio.map_or_else(
                || "-".into(),
                |q| format!("{:.3} [{:.3}-{:.3}]", q.median, q.p25, q.p75)
            ),
            opt(c.median_goal_error_m, 2),
            opt(c.median_frechet_m, 1),
            opt(c.median_turns, 0),
            opt(c.median_wall_s, 1),
            c.total_usd
        );
    }
    let _ = writeln!(
        s,
        "(medians; cost ratio with its interquartile range; `eval report` has every spread; \
         stored in {})",
        db.display()
    );
    s
}

fn list(a: &ListArgs) -> anyhow::Result<ExitStatus> {
    if !a.db.exists() {
        outln!("no runs yet ({} does not exist)", a.db.display())?;
        return Ok(ExitStatus::Success);
    }
    let store = Store::open(&a.db)?;
    let runs = store.list()?;
    if runs.is_empty() {
        outln!("no runs in {}", a.db.display())?;
    }
    for r in runs {
        let state = if r.run.finished_at.is_some() { "done" } else { "incomplete" };
        let (what, good) = match r.run.kind {
            RunKind::Sol => ("attempts", "accepted"),
            RunKind::Campaign => ("campaigns", "reached"),
        };
        outln!(
            "{}  {}  suite {}  models {}  prompts {}  x{}  {}/{} {what}, {} {good}  {state}",
            r.run.id,
            r.run.started_at,
            r.run.suite,
            r.run.models.join(","),
            r.run.prompts.join(","),
            r.run.repeats,
            r.done,
            r.run.planned,
            r.accepted
        )?;
    }
    Ok(ExitStatus::Success)
}
