//! `breadcrumb show RUN`: a run's story from its transcript — what the model asked, what the
//! tools answered, what the checker said, how it ended.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::bail;
use breadcrumb_agent::transcript::{read_transcript, RunStatus};
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

fn short(v: &Value, n: usize) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = s.replace('\n', " ");
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s
    }
}

pub fn run(a: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let dir = if a.run.is_dir() { a.run.clone() } else { a.runs_dir.join(&a.run) };
    if !dir.is_dir() {
        bail!(
            "{}: no such run (give a run directory, or a run id under --runs-dir)",
            dir.display()
        );
    }
    let status: Option<RunStatus> = std::fs::read_to_string(dir.join("status.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let (events, torn) = read_transcript(&dir.join("transcript.jsonl"))?;
    let mut out = String::new();
    let _ = writeln!(out, "run {}", dir.display());
    for e in &events {
        let kind = e["event"].as_str().unwrap_or("?");
        let line = match kind {
            "run_started" => format!(
                "sol {} · model {} ({} {}) · prompt {} {} · checker {}",
                e["sol"].as_str().unwrap_or("?"),
                e["model"].as_str().unwrap_or("?"),
                e["provider"].as_str().unwrap_or("?"),
                e["model_id"].as_str().unwrap_or("?"),
                e["prompt"].as_str().unwrap_or("?"),
                short(&e["prompt_hash"], 19),
                e["checker_version"].as_str().unwrap_or("?"),
            ),
            "overview" => format!("overview tile {}", short(&e["args"], 120)),
            "response" => {
                let r = &e["response"];
                let calls: Vec<String> = r["tool_calls"]
                    .as_array()
                    .map(|c| {
                        c.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect()
                    })
                    .unwrap_or_default();
                format!(
                    "turn {} · model: {} {}",
                    e["turn"],
                    short(&r["text"], 160),
                    if calls.is_empty() {
                        String::new()
                    } else {
                        format!("→ {}", calls.join(", "))
                    }
                )
            }
            "tool_result" => {
                if e["ok"] == Value::Bool(true) {
                    format!(
                        "    {} ok ({:.0} ms)",
                        e["name"].as_str().unwrap_or("?"),
                        e["ms"].as_f64().unwrap_or(0.0)
                    )
                } else {
                    format!(
                        "    {} error: {}",
                        e["name"].as_str().unwrap_or("?"),
                        short(&e["error"]["summary"], 140)
                    )
                }
            }
            "verdict" => format!(
                "    checker on submission {}: {} ({} violations)",
                e["submit"],
                if e["pass"] == Value::Bool(true) { "PASS" } else { "FAIL" },
                e["verdict"]["violations"].as_array().map_or(0, Vec::len)
            ),
            "retry" => format!(
                "    retry {} in {} ms: {}",
                e["attempt"],
                e["wait_ms"],
                short(&e["error"], 120)
            ),
            "corrective" => format!("    corrective: {}", short(&e["message"], 120)),
            "budget_stop" => format!("budget stop: {}", short(&e["reason"], 160)),
            "provider_error" => format!("provider error: {}", short(&e["error"], 160)),
            "run_ended" => format!(
                "ended {} after {:.1} s: {} · {} turns, {} tool calls, ${:.4}",
                e["status"].as_str().unwrap_or("?"),
                e["elapsed_s"].as_f64().unwrap_or(0.0),
                short(&e["reason"], 160),
                e["totals"]["turns"],
                e["totals"]["tool_calls"],
                e["totals"]["cost_usd"].as_f64().unwrap_or(0.0)
            ),
            _ => continue,
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
