//! `breadcrumb render`: check a plan against a sol and draw the result: route, numbered
//! waypoints and violations over the image and the slope map, side by side.

use std::path::PathBuf;

use anyhow::Context;
use breadcrumb_tools::checker::{check_sol, Plan};
use breadcrumb_tools::render::{render_overlay, RenderOptions};
use breadcrumb_tools::terrain::Sol;
use clap::Args;

use super::ExitStatus;

/// Check a plan and draw its route and violations over the image and the slope map.
///
/// The PNG shows the route, its numbered waypoints (from 0, as in the plan), mapped hazard
/// outlines and every violation (red crosses labelled with rule and segment) over the orbital
/// image (left) and the slope map (right), under a line with the verdict.
///
/// The plan is JSON `{"waypoints": [{"x": .., "y": ..}, ...]}` in map metres. Exit status: 0
/// the plan passes, 1 it fails, 2 error.
///
/// Example: breadcrumb render --sol fixtures/sols/plains-01.toml plan.json -o plan.png
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Sol TOML (start, goal, zones, budget; names its bundle and rover).
    #[arg(long, value_name = "SOL.toml")]
    sol: PathBuf,
    /// Plan JSON to check and draw.
    #[arg(value_name = "PLAN.json")]
    plan: PathBuf,
    /// Output PNG (default: the plan's path with `.png`).
    #[arg(short, long, value_name = "OUT.png")]
    out: Option<PathBuf>,
    /// Side of each of the two panels, pixels (256 to 2048).
    #[arg(long, value_name = "N", default_value_t = RenderOptions::default().panel_px)]
    px: u32,
}

pub fn run(a: &RenderArgs) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(&a.sol)?;
    let plan = Plan::load(&a.plan)?;
    let verdict = check_sol(&sol, &plan)
        .with_context(|| format!("checking {} against sol {}", a.plan.display(), sol.sol.id))?;
    let opts = RenderOptions { panel_px: a.px, ..RenderOptions::default() };
    let png = render_overlay(&sol, &plan.points(), Some(&verdict), &opts)?;
    let out = a.out.clone().unwrap_or_else(|| a.plan.with_extension("png"));
    std::fs::write(&out, png).with_context(|| format!("writing {}", out.display()))?;
    if verdict.pass {
        outln!("PASS  {}", out.display())?;
        Ok(ExitStatus::Success)
    } else {
        outln!(
            "FAIL  {} violation(s): {}  {}",
            verdict.violation_count(),
            verdict.failed_rules().join(", "),
            out.display()
        )?;
        Ok(ExitStatus::Failure)
    }
}
