//! How long `eval report` takes and how big its file is for about a hundred attempts, and how
//! long headless Chromium takes to load it. Targets: under 5 s to build, under 20 MB.
//!
//! Runs the smoke suite × reference,noisy × 10 repeats (100 attempts, offline, about a minute)
//! into a temporary store once, then builds the report three times and prints the figures:
//!
//! ```text
//! cargo run --release -p breadcrumb-evals --example report_bench [REPEATS]
//! ```

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use breadcrumb_evals::report;
use breadcrumb_evals::runner::{self, Matrix, RunnerConfig};
use breadcrumb_evals::store::Store;
use breadcrumb_evals::suite::Suite;

/// Seconds headless Chromium takes to load `page` and run its scripts (`--dump-dom` returns
/// after the load event) and the DOM it dumped, or `None` without Chromium.
fn chromium_load_s(page: &Path) -> Option<(f64, String)> {
    let bin = Path::new("/usr/bin/chromium");
    if !bin.is_file() {
        return None;
    }
    let profile = tempfile::tempdir().ok()?;
    let t = Instant::now();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .ok()?;
    Some((t.elapsed().as_secs_f64(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repeats: u32 = std::env::args().nth(1).map_or(Ok(10), |s| s.parse())?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir()?;
    let store = Arc::new(Store::open(&tmp.path().join("bench.db"))?);
    let cfg = RunnerConfig {
        models_file: repo.join("models.toml"),
        prompts_dir: repo.join("prompts"),
        runs_dir: tmp.path().join("runs"),
        concurrency: 2,
        ..RunnerConfig::default()
    };
    let matrix = Matrix {
        suite: Suite::find(&repo.join("evals/suites"), "smoke")?,
        models: vec!["reference".into(), "noisy".into()],
        prompts: vec!["v1".into()],
        repeats,
    };
    let run_id = runner::new_run_id();
    let t = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(runner::run(
        Arc::clone(&store),
        &cfg,
        &matrix,
        &run_id,
        Arc::new(|_| {}),
    ))?;
    println!(
        "eval run: {} attempts in {:.1} s ({} failed)",
        outcome.ran,
        t.elapsed().as_secs_f64(),
        outcome.failed
    );

    let out = tmp.path().join("report.html");
    let mut times = Vec::new();
    let mut stats = None;
    for _ in 0..3 {
        let t = Instant::now();
        stats = Some(report::write(&store, &run_id, &out)?);
        times.push(t.elapsed().as_secs_f64());
    }
    let stats = stats.ok_or("no report")?;
    times.sort_by(f64::total_cmp);
    println!(
        "report: {} attempts, {} routes, {} distinct images; {:.2} MB",
        stats.attempts,
        stats.routes,
        stats.images,
        stats.bytes as f64 / 1e6
    );
    println!(
        "build time: best {:.2} s, worst {:.2} s of 3 (target < 5 s, < 20 MB)",
        times[0], times[2]
    );
    match chromium_load_s(&out) {
        Some((s, dom)) => {
            if !dom.contains("data-routes-rendered") {
                eprintln!("warning: the report's script did not run to its end in Chromium");
            }
            // Chromium's own start-up, measured on an empty page, is subtracted.
            let blank = tmp.path().join("blank.html");
            std::fs::write(&blank, "<!doctype html><body></body>")?;
            let base = chromium_load_s(&blank).map_or(0.0, |(s, _)| s);
            println!(
                "chromium: {s:.2} s to load and script the report ({base:.2} s for an empty \
                 page, so about {:.2} s for the report itself)",
                (s - base).max(0.0)
            );
        }
        None => println!("chromium: not installed (scripts/setup --browser)"),
    }
    Ok(())
}
