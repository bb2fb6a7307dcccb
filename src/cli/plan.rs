//! `breadcrumb plan`: the baseline planner on a sol: the cost-optimal route, simplified into
//! waypoints the safety checker passes, written as plan JSON and GeoJSON; or a refusal that
//! says which constraint walls the goal off.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use breadcrumb_agent::session::dossier::{record_inputs, BundleManifest};
use breadcrumb_tools::checker::Plan;
use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannedRoute, PlannerOptions};
use breadcrumb_tools::render::{render_overlay, RenderOptions};
use breadcrumb_tools::terrain::{LoadedSol, RoverProfile, Sol};
use clap::Args;

use super::ExitStatus;

/// Plan a sol with the baseline planner and write the plan.
///
/// Searches the cheapest route on the cost model (slope, steps, belly clearance and mapped
/// hazards; infeasible wherever the safety checker could refuse the rover), simplifies it into
/// waypoints at most the rover's waypoint spacing apart, and verifies them with the checker.
/// Writes DIR/plan.json (the plan format `breadcrumb check` reads, with provenance and the
/// verdict), DIR/plan.geojson (the route as a LineString and its waypoints as Points) and
/// DIR/overlay.png (the route over the orbital image and the slope map).
/// Exit status: 0 a route was planned, 1 there is no safe route (the reason is printed),
/// 2 bad input.
///
/// Example: breadcrumb plan --sol fixtures/sols/plains-02-keepout.toml -o out/plains-02
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Sol TOML (start, goal, keep-in and keep-out zones, budget; names its bundle and rover).
    #[arg(long, value_name = "SOL.toml")]
    sol: PathBuf,
    /// Directory to write plan.json, plan.geojson and overlay.png into (created if missing).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: PathBuf,
}

pub fn run(a: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(&a.sol)?;
    let id = sol.sol.id.clone();
    let rover = RoverProfile::load(&sol.rover_path)?;
    let outcome =
        plan_sol(&sol, &PlannerOptions::default()).with_context(|| format!("planning sol {id}"))?;
    match outcome {
        PlanOutcome::Route(route) => {
            std::fs::create_dir_all(&a.out)
                .with_context(|| format!("creating {}", a.out.display()))?;
            let mut plan = route.to_plan(&id, &rover.name);
            stamp_hashes(&mut plan, &sol)?;
            let plan_json = serde_json::to_string_pretty(&plan)? + "\n";
            let geojson = serde_json::to_string_pretty(&route.to_geojson(&id))? + "\n";
            let plan_path = a.out.join("plan.json");
            let geojson_path = a.out.join("plan.geojson");
            write_atomic(&plan_path, &plan_json)?;
            write_atomic(&geojson_path, &geojson)?;
            let overlay_path = a.out.join("overlay.png");
            let png = render_overlay(
                &sol,
                &route.waypoints,
                Some(&route.verdict),
                &RenderOptions::default(),
            )
            .with_context(|| format!("drawing {}", overlay_path.display()))?;
            write_atomic_bytes(&overlay_path, &png)?;
            out!("{}", summary(&id, sol.sol.drive_budget_m, &route))?;
            outln!(
                "wrote {}, {} and {}",
                plan_path.display(),
                geojson_path.display(),
                overlay_path.display()
            )?;
            Ok(ExitStatus::Success)
        }
        PlanOutcome::NoSafeRoute { reason, .. } => {
            outln!("{id}: {reason}")?;
            Ok(ExitStatus::Failure)
        }
    }
}

/// Records the sol, rover profile and terrain bundle hashes in the plan's provenance, as a
/// run's dossier does, so `check` warns when the plan is later checked on another bundle.
fn stamp_hashes(plan: &mut Plan, sol: &LoadedSol) -> anyhow::Result<()> {
    let manifest = BundleManifest::of(&sol.bundle_dir)
        .with_context(|| format!("hashing the bundle {}", sol.bundle_dir.display()))?;
    let rover = std::fs::read(&sol.rover_path)
        .with_context(|| format!("reading {}", sol.rover_path.display()))?;
    if let Some(p) = plan.provenance.as_mut() {
        record_inputs(p, &sol.sol, Some(manifest), Some(&rover));
    }
    Ok(())
}

/// A short readable account of a route.
fn summary(id: &str, budget_m: f64, r: &PlannedRoute) -> String {
    let mut s = format!(
        "{id}: {} waypoints, {:.1} m of a {budget_m:.1} m budget, cost {:.1}; checker: {}\n",
        r.waypoints.len(),
        r.length_m,
        r.cost,
        if r.verdict.pass { "PASS" } else { "FAIL" }
    );
    let _ = writeln!(
        s,
        "  max tilt {}, max step {}, nearest hazard {}",
        opt(r.verdict.summary.max_tilt_deg, "°"),
        opt(r.verdict.summary.max_step_m, " m"),
        opt(r.verdict.summary.min_hazard_clearance_m, " m"),
    );
    s.push_str("     #            x              y\n");
    for (i, p) in r.waypoints.iter().enumerate() {
        let _ = writeln!(s, "  {i:4} {:12.3} {:14.3}", p.0, p.1);
    }
    s
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}{unit}"))
}

/// [`write_atomic`] for bytes.
pub(super) fn write_atomic_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("renaming {} to {}", tmp.display(), path.display())
    })
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees a half-written file.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomic_bytes(path, text.as_bytes())
}
