//! `breadcrumb eval report`: one self-contained HTML file showing how a run went (matrix summary,
//! every route drawn over each sol's terrain, a sortable table of attempts, every transcript).

use std::path::PathBuf;

use anyhow::bail;
use breadcrumb_evals::report;
use breadcrumb_evals::store::{RunKind, Store};
use clap::Args;

use super::ExitStatus;

/// Write the HTML report of a run: the matrix summary with 95% intervals, per sol one panel per
/// model and prompt with every attempt's route over the terrain (accepted, rejected, checker
/// violations), a sortable table of every attempt's scores, and every transcript step by step
/// with the tiles the model was shown.
///
/// The file is self-contained (styles, script and images inline, nothing fetched), so it can be
/// mailed or attached to a CI job. It is written atomically: a failure leaves no half-written
/// file. Runs still in progress can be reported; the header says how many attempts are done.
///
/// A campaign run (`eval campaign`) gets a page of its own: totals by model, then per campaign
/// each model's scores against the reference (reached, sols, length and cost ratios, first-
/// submit rate, tokens, USD), its overview.png (inlined, linked at full size) and its sols.
///
/// Example: breadcrumb eval report eval-20250101T000000Z-1a2b -o report.html
///
/// Example: breadcrumb eval report camp1 -o out/camp1.html
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run (`breadcrumb eval list` shows the ids).
    run: String,
    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The run store.
    #[arg(long, value_name = "PATH", default_value = "runs/breadcrumb.db")]
    db: PathBuf,
}

pub fn run(a: &ReportArgs) -> anyhow::Result<ExitStatus> {
    // Opening a missing store would create an empty one; say what is wrong instead.
    if !a.db.exists() {
        bail!(
            "{}: no run store here (run `breadcrumb eval run` first, or pass --db)",
            a.db.display()
        );
    }
    let store = Store::open(&a.db)?;
    let stats = report::write(&store, &a.run, &a.output)?;
    if stats.kind == RunKind::Campaign {
        outln!(
            "wrote {} ({:.1} MB): {} campaign(s), {} sol(s), {} overview image(s)",
            a.output.display(),
            stats.bytes as f64 / 1e6,
            stats.attempts,
            stats.sols,
            stats.images
        )?;
        return Ok(ExitStatus::Success);
    }
    outln!(
        "wrote {} ({:.1} MB): {} attempt(s), {} route(s) drawn, {} image(s)",
        a.output.display(),
        stats.bytes as f64 / 1e6,
        stats.attempts,
        stats.routes,
        stats.images
    )?;
    Ok(ExitStatus::Success)
}
