//! `breadcrumb propose`: the main job — a model plans a drive for a sol through the agent loop,
//! and the safety checker accepts or rejects it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use breadcrumb_agent::models::{build_provider, OfflineContext};
use breadcrumb_agent::provider::ProviderKind;
use breadcrumb_agent::session::{Budgets, RunReport, RunStatus, Session, SessionConfig};
use breadcrumb_agent::transcript::RunWriter;
use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::terrain::Sol;
use clap::Args;

use super::model_args::{LoopArgs, ModelArgs};
use super::ExitStatus;

/// Plan a drive for a sol with a model, through the agent loop and the safety checker.
///
/// The model sees the sol's corridor as tiles, calls the terrain tools, submits waypoints; the
/// safety checker judges every submission and sends violations back for revision. The run is
/// recorded in RUNS_DIR/<run-id>/ (transcript.jsonl, images/, plan.json, plan.geojson,
/// verdict.json, overlay.png, status.json, and sol.toml and rover.toml copies so that
/// `breadcrumb verify RUN_DIR` can re-check it). Exit status: 0 accepted, 1 rejected, 2 error.
///
/// The default model, `reference`, is the offline deterministic baseline planner acting as an
/// agent: not a language model, no key, no network.
///
/// Example: breadcrumb propose fixtures/sols/plains-01.toml
///
/// Example: ANTHROPIC_API_KEY=... breadcrumb propose fixtures/sols/jezero-rim-1707.toml --model
/// claude-sonnet --prompt v1
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The sol to plan (fixtures/sols/<id>.toml).
    #[arg(value_name = "SOL.toml")]
    sol: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Where runs are recorded.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    runs_dir: PathBuf,
    /// Run id (default: sol, model and time).
    #[arg(long)]
    run_id: Option<String>,
    /// For a `replay` model: the transcript (or run directory) whose model turns are replayed.
    #[arg(long, value_name = "TRANSCRIPT")]
    cassette: Option<PathBuf>,
    #[command(flatten)]
    limits: LoopArgs,
    /// Most input + output tokens.
    #[arg(long, default_value_t = 2_000_000)]
    max_tokens: u64,
    /// Wall-clock limit, seconds.
    #[arg(long, default_value_t = 900.0)]
    deadline_s: f64,
    /// Print the run report as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

fn run_id(sol: &str, model: &str) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now.chars().filter(char::is_ascii_alphanumeric).collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{sol}-{model}-{stamp}-{:04x}", nanos & 0xffff)
}

pub fn run(a: &ProposeArgs) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(&a.sol)?;
    let entry = &a.model.entry()?;
    let toolbox = Arc::new(
        Toolbox::open(&sol)
            .with_context(|| format!("opening the terrain of sol {}", sol.sol.id))?
            .with_tile_px(a.limits.tile_px),
    );
    let offline = OfflineContext {
        toolbox: Some(Arc::clone(&toolbox)),
        cassette: a.cassette.clone(),
        ..OfflineContext::new(&sol)
    };
    let provider = build_provider(entry, &offline)?;
    let prompt = a.model.prompt_set()?;
    if !(a.deadline_s.is_finite() && a.deadline_s > 0.0) {
        bail!("--deadline-s must be a positive number of seconds");
    }
    let cfg = SessionConfig {
        max_revisions: a.limits.max_revisions,
        budgets: Budgets {
            max_turns: a.limits.max_turns,
            max_tokens: Some(a.max_tokens),
            max_cost_usd: Some(a.limits.max_cost_usd),
            deadline: Some(Duration::from_secs_f64(a.deadline_s)),
        },
        ..SessionConfig::for_model(entry)
    };
    let id = a.run_id.clone().unwrap_or_else(|| run_id(&sol.sol.id, &entry.name));
    let writer = RunWriter::create(&a.runs_dir, &id)?;
    if entry.provider == ProviderKind::Reference && !a.json {
        eprintln!(
            "model `{}`: the reference policy, a deterministic baseline planner acting as an \
             agent; it is not a language model",
            entry.name
        );
    }
    let bar = status_bar(a.json);
    let session = Session::with_toolbox(&sol, toolbox, provider, prompt, cfg, writer);
    let b = bar.clone();
    let session = session.with_progress(Box::new(move |p| {
        b.set_message(format!(
            "turn {} · {} tool calls · {} tok · ${:.4} · {:.1} s · {}",
            p.turn,
            p.totals.tool_calls,
            p.totals.input_tokens + p.totals.output_tokens,
            p.totals.cost_usd,
            p.elapsed_s,
            p.note
        ));
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(session.run())?;
    bar.finish_and_clear();
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out!("{}", summary(&report))?;
    }
    Ok(match report.status {
        RunStatus::Accepted => ExitStatus::Success,
        RunStatus::Rejected => ExitStatus::Failure,
        RunStatus::Error => ExitStatus::Error,
    })
}

fn status_bar(hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The readable end-of-run summary.
pub fn summary(r: &RunReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let head = match r.status {
        RunStatus::Accepted => "ACCEPTED",
        RunStatus::Rejected => "REJECTED",
        RunStatus::Error => "ERROR",
    };
    let _ = writeln!(s, "{head}: {}", r.reason);
    if let (Some(w), Some(v)) = (&r.waypoints, &r.verdict) {
        let _ = writeln!(
            s,
            "last route: {} waypoints, {:.1} m, max tilt {}, checker {}",
            w.len(),
            v.summary.length_m,
            v.summary.max_tilt_deg.map_or("n/a".into(), |t| format!("{t:.1}°")),
            if v.pass { "pass" } else { "fail" }
        );
        for x in v.violations.iter().take(8) {
            let _ = writeln!(s, "  - {}: {}", x.rule, x.message);
        }
    }
    if let Some(t) = &r.twin {
        let worst = |id: &str| t.worst(id).map_or("n/a".into(), |w| format!("{w:.2}"));
        let _ = writeln!(
            s,
            "digital twin {}: drive {:.0} s of a {:.0} s window, max bogie {}°, max \
             differential {}°, min clearance {} m; {} values checked against {} limits",
            if t.pass { "pass" } else { "fail" },
            t.summary.duration_s,
            t.summary.drive_window_s,
            worst("bogie"),
            worst("differential"),
            worst("belly_clearance"),
            t.summary.values_checked,
            t.summary.limits_checked
        );
        for x in t.violations.iter().take(8) {
            let _ = writeln!(s, "  - twin {}: {}", x.rule, x.message);
        }
    }
    let t = &r.totals;
    let _ = writeln!(
        s,
        "{} turns, {} tool calls, {} submission(s), {} retries, {} input + {} output tokens, ${:.4}, {:.1} s",
        t.turns, t.tool_calls, r.submits, t.retries, t.input_tokens, t.output_tokens, t.cost_usd, r.elapsed_s
    );
    let _ = writeln!(s, "run recorded in {}", display(&r.dir));
    s
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
