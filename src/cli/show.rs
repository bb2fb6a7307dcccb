//! `breadcrumb show RUN`: a run's story from its transcript — what the model asked, what the
//! tools answered, what the checker said, how it ended.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::bail;
use breadcrumb_agent::transcript::{read_events, Event, RunStatus};
use clap::Args;
use serde_json::Value;

use super::ExitStatus;

/// Summarise a recorded run: its outcome, then turn by turn the model's words, its tool calls
/// and the checker's verdicts.
///
/// RUN is a run directory, or a run id under --runs-dir. A run that crashed or was interrupted
/// is shown as far as its transcript goes and marked incomplete.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Run directory or run id.
    #[arg(value_name = "RUN")]
    run: PathBuf,
    /// Where runs are recorded (for a bare run id).
    #[arg(long, value_name = "DIR", default_value = "runs")]
    runs_dir: PathBuf,
}

/// A JSON value as one line of at most `n` characters (a string without its quotes).
fn short_json(v: &Value, n: usize) -> String {
    match v {
        Value::String(s) => short(s, n),
        other => short(&other.to_string(), n),
    }
}

/// `s` on one line, cut to `n` characters.
fn short(s: &str, n: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s
    }
}

/// The run directory a `RUN` argument names: the path itself when it is a directory, else a run
/// id under `runs_dir`. Shared by `show` and `verify`, which take runs the same way.
pub(crate) fn run_dir(
    run: &std::path::Path,
    runs_dir: &std::path::Path,
) -> anyhow::Result<PathBuf> {
    let dir = if run.is_dir() { run.to_path_buf() } else { runs_dir.join(run) };
    if !dir.is_dir() {
        bail!(
            "{}: no such run (give a run directory, or a run id under --runs-dir)",
            dir.display()
        );
    }
    Ok(dir)
}

pub fn run(a: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&a.run, &a.runs_dir)?;
    let status: Option<RunStatus> = std::fs::read_to_string(dir.join("status.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let (events, torn) = read_events(&dir.join("transcript.jsonl"))?;
    let mut out = String::new();
    let _ = writeln!(out, "run {}", dir.display());
    for r in &events {
        let line = match &r.event {
            Event::RunStarted {
                sol,
                model,
                provider,
                model_id,
                prompt,
                prompt_hash,
                checker_version,
                ..
            } => format!(
                "sol {sol} · model {model} ({provider} {model_id}) · prompt {prompt} {} · \
                 checker {checker_version}",
                short(prompt_hash, 19),
            ),
            Event::Overview { args, .. } => {
                format!("overview tile {}", short(&args.to_string(), 120))
            }
            Event::Response { turn, response, .. } => {
                let calls: Vec<&str> =
                    response.tool_calls.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "turn {turn} · model: {} {}",
                    short(&response.text, 160),
                    if calls.is_empty() {
                        String::new()
                    } else {
                        format!("→ {}", calls.join(", "))
                    }
                )
            }
            Event::ToolResult { name, ok: true, ms, .. } => format!("    {name} ok ({ms:.0} ms)"),
            Event::ToolResult { name, error, .. } => {
                let summary = error.as_ref().map_or(&Value::Null, |e| &e["summary"]);
                format!("    {name} error: {}", short_json(summary, 140))
            }
            Event::Marks { marks, .. } => {
                let blocking = marks.iter().filter(|m| m.blocks).count();
                let names: Vec<String> =
                    marks.iter().map(|m| format!("{} {}", m.id, m.marked_class)).collect();
                format!(
                    "    marked {} hazard(s), {blocking} blocking: {}",
                    marks.len(),
                    short(&names.join(", "), 140)
                )
            }
            Event::Verdict { submit, pass, verdict, .. } => format!(
                "    checker on submission {submit}: {} ({} violations)",
                if *pass { "PASS" } else { "FAIL" },
                verdict.violations.len()
            ),
            Event::TwinVerdict { submit, pass, verdict, .. } => format!(
                "    twin on submission {submit}: {} ({} violations; {} poses, drive {:.0} s of \
                 {:.0} s)",
                if *pass { "PASS" } else { "FAIL" },
                verdict.violation_count(),
                verdict.summary.poses,
                verdict.summary.duration_s,
                verdict.summary.drive_window_s
            ),
            Event::Retry { attempt, wait_ms, error, .. } => {
                format!("    retry {attempt} in {wait_ms} ms: {}", short(error, 120))
            }
            Event::Corrective { message, .. } => format!("    corrective: {}", short(message, 120)),
            Event::BudgetStop { reason } => format!("budget stop: {}", short(reason, 160)),
            Event::ProviderError { error, .. } => format!("provider error: {}", short(error, 160)),
            Event::RunEnded { status, reason, totals, elapsed_s, .. } => format!(
                "ended {} after {elapsed_s:.1} s: {} · {} turns, {} tool calls, ${:.4}",
                status.as_str(),
                short(reason, 160),
                totals.turns,
                totals.tool_calls,
                totals.cost_usd
            ),
            // Shown by the eval report, too detailed for this summary; events of a newer
            // version are skipped.
            Event::Request { .. } | Event::ToolCall { .. } | Event::Other(_) => continue,
        };
        let _ = writeln!(out, "{line}");
    }
    if let Some(t) = torn {
        let _ = writeln!(out, "(transcript ends in a torn line: {t})");
    }
    let state = status.as_ref().map_or("unknown", |s| s.status.as_str());
    if state == "running" {
        let _ = writeln!(out, "INCOMPLETE: the run did not end cleanly (crashed or interrupted)");
    }
    for f in ["plan.json", "plan.geojson", "verdict.json", "overlay.png"] {
        if dir.join(f).is_file() {
            let _ = writeln!(out, "  {}", dir.join(f).display());
        }
    }
    out!("{out}")?;
    Ok(match state {
        "accepted" => ExitStatus::Success,
        "rejected" | "running" => ExitStatus::Failure,
        _ => ExitStatus::Error,
    })
}
