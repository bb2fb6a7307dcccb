//! `breadcrumb eval`: regression runs over a suite of sols, comparing models and prompts, stored
//! in SQLite.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use breadcrumb_evals::runner::{self, Event, Matrix, RunOutcome, RunnerConfig};
use breadcrumb_evals::score::{CellSummary, Rate};
use breadcrumb_evals::store::Store;
use breadcrumb_evals::suite::Suite;
use clap::{Args, Subcommand};

use super::ExitStatus;

/// Regression evals: run a matrix of models x prompts over a suite of sols, list past runs.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    Run(Box<RunArgs>),
    List(ListArgs),
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
    /// Failed submissions each attempt may revise.
    #[arg(long, default_value_t = 3)]
    max_revisions: u32,
    /// Pixel side of the tiles the model sees.
    #[arg(long, default_value_t = 1024)]
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
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let b = bar.clone();
    let usd = Arc::new(std::sync::Mutex::new(0.0f64));
    let on_event: runner::EventFn = Arc::new(move |e: &Event| match e {
        Event::Started { run_id, todo, skipped } => {
            b.set_length(u64::from(*todo));
            b.println(format!("run {run_id}: {todo} attempt(s) to run, {skipped} already stored"));
        }
        Event::Preparing { sol } => b.set_message(format!("planning the baseline of {sol}")),
        Event::Attempt { key, scores } => {
            let mut total = usd.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *total += scores.cost_usd;
            b.inc(1);
            b.set_message(format!(
                "${total:.4} · {} {} {} r{}: {}",
                key.sol, key.model, key.prompt, key.repeat, scores.status
            ));
        }
        Event::Failed { key, error } => {
            b.inc(1);
            b.println(format!(
                "attempt {} {} {} r{} failed: {error}",
                key.sol, key.model, key.prompt, key.repeat
            ));
        }
    });
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
        let id = runner::new_run_id();
        runtime.block_on(runner::run(store, &cfg, &matrix, &id, on_event))?
    };
    bar.finish_and_clear();
    print!("{}", report(&outcome, &a.db));
    Ok(if outcome.failed == 0 { ExitStatus::Success } else { ExitStatus::Error })
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
    let _ = writeln!(
        s,
        "{:<18} {:<6} {:>24} {:>24} {:>24} {:>10} {:>9} {:>9} {:>6} {:>8} {:>9}",
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
            "{m:<18} {p:<6} {:>24} {:>24} {:>24} {:>10} {:>9} {:>9} {:>6} {:>8} {:>9.4}",
            rate(accepted),
            rate(accepted_first_submit),
            rate(expectation_met),
            opt(c.median_cost_ratio, 3),
            opt(c.median_goal_error_m, 2),
            opt(c.median_frechet_m, 1),
            opt(c.median_turns, 0),
            opt(c.median_wall_s, 1),
            c.total_usd
        );
    }
    let _ = writeln!(s, "(medians; stored in {})", db.display());
    s
}

fn list(a: &ListArgs) -> anyhow::Result<ExitStatus> {
    if !a.db.exists() {
        println!("no runs yet ({} does not exist)", a.db.display());
        return Ok(ExitStatus::Success);
    }
    let store = Store::open(&a.db)?;
    let runs = store.list()?;
    if runs.is_empty() {
        println!("no runs in {}", a.db.display());
    }
    for r in runs {
        let state = if r.run.finished_at.is_some() { "done" } else { "incomplete" };
        println!(
            "{}  {}  suite {}  models {}  prompts {}  x{}  {}/{} attempts, {} accepted  {state}",
            r.run.id,
            r.run.started_at,
            r.run.suite,
            r.run.models.join(","),
            r.run.prompts.join(","),
            r.run.repeats,
            r.done,
            r.run.planned,
            r.accepted
        );
    }
    Ok(ExitStatus::Success)
}
