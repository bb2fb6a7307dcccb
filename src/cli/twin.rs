//! `breadcrumb twin`: drive a plan in the digital twin (the kinematic rocker-bogie rover over
//! the DEM) and judge it against the rover's limits, or every route of a GeoJSON file over a
//! site; optionally write the telemetry, wheel tracks, drive sequence and a plot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use breadcrumb_tools::checker::plan::RouteFeature as Route;
use breadcrumb_tools::checker::Plan;
use breadcrumb_tools::terrain::{Bundle, RoverProfile, Sol};
use breadcrumb_tools::twin::{self, TwinRun, TwinVerdict, TwinViolation};
use clap::Args;

use super::check::{load_site_routes, routes_json, status, truncate, SiteRoutes};
use super::plan::write_atomic_bytes;
use super::ExitStatus;

/// Drive a plan in the digital twin, or every route of a GeoJSON file over a site.
///
/// The plan is compiled into a drive sequence (turn in place, drive straight, per leg) and
/// driven pose by pose (every 0.1 m and 2 degrees) by the rover profile's `[kinematics]`
/// rocker-bogie over the DEM; the telemetry is judged against the profile's limits (tilt,
/// bogie, differential, wheel drop, belly clearance refuse; nominal pitch and roll caution;
/// unknown ground and the sol's drive window refuse). With --sol the rover starts at the
/// plan's first waypoint facing the sol's start heading; with --site, --rover and --route every
/// LineString is a route, starting along its first leg. A profile without `[kinematics]`
/// fails on `drivable`.
///
/// With -o DIR: DIR/twin.json (the verdict), telemetry.csv (one row per pose, one column per
/// channel, units in the header), tracks.geojson (each wheel's track), sequence.xml and
/// sequence.json, and with --plot twin.png; with --route, one subdirectory per route.
/// Exit status: 0 all pass, 1 something fails, 2 error.
///
/// Example: breadcrumb twin --sol fixtures/sols/plains-02-keepout.toml out/plan/plan.json -o
/// out/twin --plot
///
/// Example: breadcrumb twin --site ../shared/realdata/gale-marias-pass --rover perseverance
/// --route ../shared/realdata/gale-marias-pass/drives.geojson
#[derive(Debug, Args)]
pub struct TwinArgs {
    /// Sol TOML (names its bundle and rover; gives the start heading).
    #[arg(long, value_name = "SOL.toml")]
    sol: Option<PathBuf>,
    /// Plan JSON to drive (with --sol).
    #[arg(value_name = "PLAN.json")]
    plan: Option<PathBuf>,
    /// Terrain bundle directory (with --rover and --route).
    #[arg(long, value_name = "DIR")]
    site: Option<PathBuf>,
    /// Rover profile: a name in fixtures/rovers/ (perseverance) or a path to a profile TOML.
    #[arg(long, value_name = "NAME")]
    rover: Option<String>,
    /// GeoJSON file whose LineString features are driven as routes.
    #[arg(long, value_name = "ROUTES.geojson")]
    route: Option<PathBuf>,
    /// Print verdict JSON instead of a table (an array of verdicts with --route).
    #[arg(long)]
    json: bool,
    /// Directory to write the verdict, telemetry, tracks and sequence into (created if
    /// missing); without it nothing is written.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write twin.png: attitude, suspension, wheel step and belly clearance against
    /// distance driven, with the limits (needs -o).
    #[arg(long)]
    plot: bool,
}

pub fn run(a: &TwinArgs) -> anyhow::Result<ExitStatus> {
    if a.plot && a.out.is_none() {
        bail!("--plot writes DIR/twin.png: give -o DIR too");
    }
    let out = Output { dir: a.out.as_deref(), plot: a.plot, json: a.json };
    match (&a.sol, &a.plan, &a.site, &a.rover, &a.route) {
        (Some(sol), Some(plan), None, None, None) => twin_plan(sol, plan, &out),
        (None, None, Some(site), Some(rover), Some(route)) => twin_routes(site, rover, route, &out),
        _ => bail!(
            "give either --sol SOL.toml PLAN.json, or --site DIR --rover NAME --route \
             ROUTES.geojson (see `breadcrumb twin --help`)"
        ),
    }
}

/// What to write and print.
struct Output<'a> {
    dir: Option<&'a Path>,
    plot: bool,
    json: bool,
}

fn twin_plan(sol_path: &Path, plan_path: &Path, out: &Output<'_>) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(sol_path)?;
    let plan = Plan::load(plan_path)?;
    let profile = RoverProfile::load(&sol.rover_path)?;
    let bundle = Bundle::open(&sol.bundle_dir)?;
    let run = twin::run_on_dem(
        &profile,
        &bundle.dem,
        &plan.points(),
        Some(sol.sol.start.heading_deg),
        &sol.sol.id,
    );
    let written = match out.dir {
        Some(dir) => write_outputs(dir, &profile, &run, out.plot)?,
        None => Vec::new(),
    };
    let v = &run.verdict;
    if out.json {
        out!("{}", v.to_json())?;
    } else {
        out!("{}", table(v))?;
        wrote(&written)?;
    }
    Ok(status(v.pass))
}

fn twin_routes(
    site: &Path,
    rover: &str,
    routes_path: &Path,
    out: &Output<'_>,
) -> anyhow::Result<ExitStatus> {
    let SiteRoutes { bundle, profile, routes, skipped } =
        load_site_routes(site, rover, routes_path, "drive")?;
    let runs: Vec<TwinRun> = routes
        .iter()
        .map(|r| twin::run_on_dem(&profile, &bundle.dem, &r.points, None, &r.label()))
        .collect();
    let mut written = Vec::new();
    if let Some(dir) = out.dir {
        for (run, name) in runs.iter().zip(subdirs(&routes)) {
            written.extend(write_outputs(&dir.join(name), &profile, run, out.plot)?);
        }
    }
    let all_pass = runs.iter().all(|r| r.verdict.pass);
    if out.json {
        outln!("{}", routes_json(&routes, runs.iter().map(|r| &r.verdict))?)?;
        return Ok(status(all_pass));
    }
    outln!(
        "{}: {} routes over {} with rover {} (twin {})",
        routes_path.display(),
        routes.len(),
        bundle.name(),
        profile.name,
        twin::TWIN_VERSION
    )?;
    if skipped > 0 {
        outln!("({skipped} features that are not LineStrings skipped)")?;
    }
    out!("{}", routes_table(&routes, &runs))?;
    for (r, run) in routes.iter().zip(&runs).filter(|(_, run)| !run.verdict.pass) {
        outln!()?;
        outln!("{} (feature {}):", r.label(), r.index)?;
        out!("{}", violation_lines(&run.verdict.violations, run.verdict.violation_count()))?;
    }
    let values: usize = runs.iter().map(|r| r.verdict.summary.values_checked).sum();
    let limits = runs.iter().map(|r| r.verdict.summary.limits_checked).max().unwrap_or(0);
    outln!()?;
    outln!("{values} telemetry values checked against {limits} limits")?;
    wrote(&written)?;
    Ok(status(all_pass))
}

/// One directory name per route, from its label (`sol 962` -> `sol-962`), unique.
fn subdirs(routes: &[Route]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(routes.len());
    for r in routes {
        let mut slug: String = r
            .label()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        while slug.contains("--") {
            slug = slug.replace("--", "-");
        }
        let slug = slug.trim_matches('-').to_string();
        let mut name = if slug.is_empty() { format!("feature-{}", r.index) } else { slug };
        if names.contains(&name) {
            name = format!("{name}-feature-{}", r.index);
        }
        names.push(name);
    }
    names
}

/// Writes the run's files into `dir` (created if missing), each through a temporary file and
/// a rename. A run that could not be driven (no sequence) has only its verdict.
fn write_outputs(
    dir: &Path,
    profile: &RoverProfile,
    run: &TwinRun,
    plot: bool,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let k = profile.kinematics.as_ref();
    let mut files = run.files(k);
    if let (Some(k), true, Some(_)) = (k, plot, &run.sequence) {
        let png = twin::plot::plot_png(k, &run.telemetry, &run.verdict)
            .with_context(|| format!("drawing {}", dir.join("twin.png").display()))?;
        files.push(("twin.png", png));
    }
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = dir.join(name);
        write_atomic_bytes(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

fn wrote(paths: &[PathBuf]) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let dirs: Vec<&Path> = {
        let mut d: Vec<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
        d.dedup();
        d
    };
    if dirs.len() == 1 {
        let names: Vec<String> = paths
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        outln!("wrote {} into {}", names.join(", "), dirs[0].display())?;
    } else {
        outln!("wrote {} files into {} directories under {}", paths.len(), dirs.len(), {
            dirs[0].parent().map_or_else(String::new, |p| p.display().to_string())
        })?;
    }
    Ok(())
}

/// A value with its unit, as `check` writes them.
fn with_unit(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    match unit {
        "deg" => format!("{v:.3}°"),
        "m" => format!("{v:.3} m"),
        "s" => format!("{v:.0} s"),
        "poses" => format!("{v:.0} poses"),
        "" => format!("{v:.3}"),
        other => format!("{v:.3} {other}"),
    }
}

fn opt_unit(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".to_owned(), |v| with_unit(v, unit))
}

/// The readable form of one verdict: a line per rule, then the violations and cautions.
fn table(v: &TwinVerdict) -> String {
    let mut out = String::new();
    let s = &v.summary;
    let head = if v.pass {
        "PASS".to_owned()
    } else {
        format!("FAIL ({} violations)", v.violation_count())
    };
    let _ = writeln!(out, "{}: {head}   rover {}, twin {}", v.sol, v.rover, v.twin_version);
    let _ = writeln!(
        out,
        "drive {:.2} m in {} commands, {} poses ({} over unknown ground), {} of a {} window",
        s.distance_m,
        s.commands,
        s.poses,
        s.poses_unknown,
        with_unit(s.duration_s, "s"),
        with_unit(s.drive_window_s, "s"),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<16} {:<7} {:>14} {:>14} {:>14}  {:>10}  {:>10}",
        "rule", "kind", "worst", "worst bound", "limit", "violations", "bound over"
    );
    for r in &v.rules {
        let count = |n: usize| if n == 0 { "-".to_owned() } else { n.to_string() };
        let _ = writeln!(
            out,
            "  {:<16} {:<7} {:>14} {:>14} {:>14}  {:>10}  {:>10}",
            r.rule,
            if r.gate { "gate" } else { "caution" },
            opt_unit(r.worst, &r.unit),
            opt_unit(r.worst_bound, &r.unit),
            with_unit(r.limit, &r.unit),
            count(r.violations),
            count(r.bound_exceeded),
        );
    }
    if !v.violations.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "violations:");
        out.push_str(&violation_lines(&v.violations, v.violation_count()));
    }
    if !v.cautions.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "cautions (reported, not refused):");
        let total = v.rules.iter().filter(|r| !r.gate).map(|r| r.violations).sum();
        out.push_str(&violation_lines(&v.cautions, total));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} telemetry values checked against {} limits",
        s.values_checked, s.limits_checked
    );
    out
}

fn violation_lines(list: &[TwinViolation], total: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<16} {:>4} {:>4} {:>15} {:>15} {:>9} {:>14} {:>14}  message",
        "rule", "cmd", "seg", "x", "y", "at", "measured", "limit"
    );
    let idx = |v: Option<usize>| v.map_or_else(|| "-".to_owned(), |s| s.to_string());
    let coord = |v: f64| if v.is_finite() { format!("{v:.3}") } else { "-".into() };
    for x in list {
        let _ = writeln!(
            out,
            "  {:<16} {:>4} {:>4} {:>15} {:>15} {:>9} {:>14} {:>14}  {}",
            x.rule,
            idx(x.command),
            idx(x.segment),
            coord(x.x),
            coord(x.y),
            format!("{:.1} m", x.distance_m),
            with_unit(x.measured, &x.unit),
            with_unit(x.limit, &x.unit),
            x.message
        );
    }
    if list.len() < total {
        let _ = writeln!(out, "  ... {} more not listed", total - list.len());
    }
    out
}

/// One line per route: the worst of each gating channel and the outcome.
fn routes_table(routes: &[Route], runs: &[TwinRun]) -> String {
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:>4}  {:<16} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}  result",
        "#", "route", "length", "poses", "tilt", "bogie", "diff", "step", "belly lo", "cautions"
    );
    for (r, run) in routes.iter().zip(runs) {
        let v = &run.verdict;
        let worst = |id: &str, decimals: usize, unit: &str| {
            v.worst(id).map_or_else(|| "-".to_owned(), |w| format!("{w:.decimals$}{unit}"))
        };
        let _ = writeln!(
            out,
            "  {:>4}  {:<16} {:>7.1} m {:>6} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}  {}",
            r.index,
            truncate(&r.label(), 16),
            v.summary.distance_m,
            v.summary.poses,
            worst("chassis_tilt", 2, "°"),
            worst("bogie", 2, "°"),
            worst("differential", 2, "°"),
            worst("wheel_drop", 3, " m"),
            worst("belly_clearance", 3, " m"),
            v.cautions.len(),
            if v.pass {
                "pass".to_owned()
            } else {
                format!("FAIL {}", v.failed_rules().join(", "))
            }
        );
    }
    let passed = runs.iter().filter(|r| r.verdict.pass).count();
    let _ = writeln!(out);
    let _ = writeln!(out, "{passed} of {} pass", runs.len());
    out
}
