//! `breadcrumb check`: run the safety checker on a plan for a sol, or on every route of a
//! GeoJSON file over a site.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use breadcrumb_agent::session::dossier::{describe_changes, BundleManifest};
use breadcrumb_tools::checker::plan::{load_routes, RouteFeature};
use breadcrumb_tools::checker::{check_sol, rover_path, Checker, Mission, Plan, Verdict};
use breadcrumb_tools::terrain::{Bundle, LoadedSol, RoverProfile, Sol};
use clap::Args;

use super::ExitStatus;

/// Check a plan against a sol, or every route of a GeoJSON file against a site.
///
/// With --sol: the plan's waypoints (JSON `{"waypoints": [{"x": .., "y": ..}, ...]}`, map
/// metres) are checked against the sol's start, goal, keep-in and keep-out zones, drive budget,
/// terrain bundle and rover profile. With --site, --rover and --route: every LineString of the
/// GeoJSON file is a route from its first to its last vertex; the keep-in is the site's valid
/// data and the limits are the profile's. Exit status: 0 all pass, 1 something fails, 2 error.
///
/// Example: breadcrumb check --sol fixtures/sols/plains-01.toml plan.json
///
/// Example: breadcrumb check --site ../shared/realdata/gale-marias-pass --rover perseverance
/// --route ../shared/realdata/gale-marias-pass/drives.geojson
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Sol TOML (start, goal, keep-in and keep-out zones, budget; names its bundle and rover).
    #[arg(long, value_name = "SOL.toml")]
    sol: Option<PathBuf>,
    /// Plan JSON to check against --sol.
    #[arg(value_name = "PLAN.json")]
    plan: Option<PathBuf>,
    /// Terrain bundle directory (with --rover and --route).
    #[arg(long, value_name = "DIR")]
    site: Option<PathBuf>,
    /// Rover profile: a name in fixtures/rovers/ (perseverance) or a path to a profile TOML.
    #[arg(long, value_name = "NAME")]
    rover: Option<String>,
    /// GeoJSON file whose LineString features are checked as routes.
    #[arg(long, value_name = "ROUTES.geojson")]
    route: Option<PathBuf>,
    /// Print verdict JSON instead of a table (an array of verdicts with --route).
    #[arg(long)]
    json: bool,
}

pub fn run(a: &CheckArgs) -> anyhow::Result<ExitStatus> {
    match (&a.sol, &a.plan, &a.site, &a.rover, &a.route) {
        (Some(sol), Some(plan), None, None, None) => check_plan(sol, plan, a.json),
        (None, None, Some(site), Some(rover), Some(route)) => {
            check_routes(site, rover, route, a.json)
        }
        _ => bail!(
            "give either --sol SOL.toml PLAN.json, or --site DIR --rover NAME --route \
             ROUTES.geojson (see `breadcrumb check --help`)"
        ),
    }
}

pub(super) fn status(pass: bool) -> ExitStatus {
    if pass {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

fn check_plan(sol_path: &Path, plan_path: &Path, json: bool) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(sol_path)?;
    let plan = Plan::load(plan_path)?;
    if let Some(warning) = other_bundle(&plan, &sol) {
        eprintln!("warning: {}: {warning}", plan_path.display());
    }
    let verdict = check_sol(&sol, &plan)
        .with_context(|| format!("checking {} against sol {}", plan_path.display(), sol.sol.id))?;
    if json {
        out!("{}", verdict.to_json())?;
    } else {
        out!("{}", table(&verdict))?;
    }
    Ok(status(verdict.pass))
}

/// When the plan's provenance names a bundle hash and the sol's bundle has another, what
/// differs (the verdict is still given: it is the verdict on the terrain as it is now).
fn other_bundle(plan: &Plan, sol: &LoadedSol) -> Option<String> {
    let prov = plan.provenance.as_ref()?;
    let recorded = prov.bundle_hash.as_ref()?;
    let dir = sol.bundle_dir.display();
    let now = match BundleManifest::of(&sol.bundle_dir) {
        Ok(m) => m,
        Err(e) => {
            return Some(format!(
                "its provenance names bundle {recorded}, and bundle {dir} cannot be hashed: {e}"
            ))
        }
    };
    let hash = now.hash();
    if hash == *recorded {
        return None;
    }
    let changes = prov
        .bundle_files
        .as_ref()
        .map(|files| BundleManifest { files: files.clone() }.changes(&now))
        .filter(|c| !c.is_empty())
        .map_or_else(String::new, |c| format!(" ({})", describe_changes(&c)));
    Some(format!(
        "its provenance names bundle {recorded}, but bundle {dir} is now {hash}{changes}: the \
         plan was made on other terrain"
    ))
}

/// The fixtures directory: `./fixtures` when run from a checkout, else the one this binary was
/// built beside.
pub(super) fn fixtures_dir() -> PathBuf {
    let here = PathBuf::from("fixtures");
    if here.join("rovers").is_dir() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    }
}

/// A site, a rover profile and the LineStrings of a GeoJSON file, as `check --route` and
/// `twin --route` read them; `verb` says what is done to the routes, for the error when there
/// are none.
pub(super) struct SiteRoutes {
    pub bundle: Bundle,
    pub profile: RoverProfile,
    pub routes: Vec<RouteFeature>,
    /// Features that are not LineStrings.
    pub skipped: usize,
}

pub(super) fn load_site_routes(
    site: &Path,
    rover: &str,
    routes_path: &Path,
    verb: &str,
) -> anyhow::Result<SiteRoutes> {
    let bundle = Bundle::open(site)?;
    let profile_path = rover_path(rover, &fixtures_dir());
    let profile = RoverProfile::load(&profile_path).with_context(|| {
        format!("rover {rover:?} (no such file, and no fixtures/rovers/{rover}.toml)")
    })?;
    let (routes, skipped) = load_routes(routes_path)?;
    if routes.is_empty() {
        bail!("{}: no LineString features to {verb}", routes_path.display());
    }
    Ok(SiteRoutes { bundle, profile, routes, skipped })
}

/// The `--json` answer of a `--route` run: one object per route with its feature index, label,
/// properties and verdict.
pub(super) fn routes_json<'a, T: serde::Serialize + 'a>(
    routes: &[RouteFeature],
    verdicts: impl Iterator<Item = &'a T>,
) -> anyhow::Result<String> {
    let items: Vec<serde_json::Value> = routes
        .iter()
        .zip(verdicts)
        .map(|(r, v)| {
            serde_json::json!({
                "feature": r.index,
                "label": r.label(),
                "properties": r.properties,
                "verdict": v,
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&items)?)
}

fn check_routes(
    site: &Path,
    rover: &str,
    routes_path: &Path,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    let SiteRoutes { bundle, profile, routes, skipped } =
        load_site_routes(site, rover, routes_path, "check")?;
    let checker = Checker::new(&bundle.dem, &bundle.hazards, &profile);
    let mut verdicts = Vec::with_capacity(routes.len());
    for r in &routes {
        let mut mission = Mission::for_route(&r.points, &profile);
        mission.label = r.label();
        let v = checker
            .check(&mission, &r.points)
            .with_context(|| format!("checking {} of {}", r.label(), routes_path.display()))?;
        verdicts.push(v);
    }
    let all_pass = verdicts.iter().all(|v| v.pass);
    if json {
        outln!("{}", routes_json(&routes, verdicts.iter())?)?;
        return Ok(status(all_pass));
    }
    let passed = verdicts.iter().filter(|v| v.pass).count();
    outln!(
        "{}: {} routes over {} with rover {} (rule set {}, checker {})",
        routes_path.display(),
        routes.len(),
        bundle.name(),
        profile.name,
        breadcrumb_tools::checker::RULE_SET_VERSION,
        breadcrumb_tools::checker::CHECKER_VERSION,
    )?;
    if skipped > 0 {
        outln!("({skipped} features that are not LineStrings skipped)")?;
    }
    outln!()?;
    outln!(
        "  {:>4}  {:<16} {:>9} {:>5} {:>9} {:>9} {:>10}  result",
        "#",
        "route",
        "length",
        "wpts",
        "tilt",
        "step",
        "belly"
    )?;
    for (r, v) in routes.iter().zip(&verdicts) {
        let s = &v.summary;
        outln!(
            "  {:>4}  {:<16} {:>7.1} m {:>5} {:>9} {:>9} {:>10}  {}",
            r.index,
            truncate(&r.label(), 16),
            s.length_m,
            s.waypoints,
            opt(s.max_tilt_deg, "°", 2),
            opt(s.max_step_m, " m", 3),
            opt(s.max_belly_obstacle_m, " m", 3),
            if v.pass {
                "pass".to_owned()
            } else {
                format!("FAIL {}", v.failed_rules().join(", "))
            }
        )?;
    }
    outln!()?;
    outln!("{passed} of {} pass", verdicts.len())?;
    for (r, v) in routes.iter().zip(&verdicts).filter(|(_, v)| !v.pass) {
        outln!()?;
        outln!("{} (feature {}):", r.label(), r.index)?;
        out!("{}", violation_lines(v))?;
    }
    Ok(status(all_pass))
}

pub(super) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn opt(v: Option<f64>, unit: &str, decimals: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}{unit}"))
}

/// A value with its unit: degrees and metres to the millimetre, cell counts whole.
fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "deg" => format!("{v:.3}°"),
        "m" => format!("{v:.3} m"),
        "cells" => format!("{v:.0} cells"),
        other => format!("{v:.3} {other}"),
    }
}

/// The readable form of a verdict.
fn table(v: &Verdict) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let s = &v.summary;
    let head = if v.pass {
        "PASS".to_owned()
    } else {
        format!("FAIL ({} violations)", v.violation_count())
    };
    let _ = writeln!(
        out,
        "{}: {head}   rover {}, rule set {}, checker {}",
        v.sol, v.rover, v.rule_set_version, v.checker_version
    );
    let _ = writeln!(
        out,
        "route {:.2} m of a {:.2} m budget, {} waypoints, {} footprint poses walked",
        s.length_m, s.drive_budget_m, s.waypoints, s.poses_evaluated
    );
    if let Some(note) = &s.terrain_note {
        let _ = writeln!(out, "{note}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  {:<11} {:>14} {:>14}  violations", "rule", "worst", "limit");
    for r in &v.rules {
        let worst = r.worst.map_or_else(|| "-".to_owned(), |w| with_unit(w, &r.unit));
        let _ = writeln!(
            out,
            "  {:<11} {:>14} {:>14}  {}",
            r.rule,
            worst,
            with_unit(r.limit, &r.unit),
            if r.violations == 0 { "-".to_owned() } else { r.violations.to_string() }
        );
    }
    if !v.pass {
        let _ = writeln!(out);
        out.push_str(&violation_lines(v));
    }
    out
}

fn violation_lines(v: &Verdict) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<11} {:>5} {:>15} {:>15} {:>12} {:>12}  message",
        "rule", "seg", "x", "y", "measured", "limit"
    );
    for x in &v.violations {
        let _ = writeln!(
            out,
            "  {:<11} {:>5} {:>15.3} {:>15.3} {:>12} {:>12}  {}",
            x.rule,
            x.segment.map_or_else(|| "-".to_owned(), |s| s.to_string()),
            x.x,
            x.y,
            with_unit(x.measured, &x.unit),
            with_unit(x.limit, &x.unit),
            x.message
        );
    }
    let listed = v.violations.len();
    let total = v.violation_count();
    if listed < total {
        let _ = writeln!(out, "  ... {} more not listed", total - listed);
    }
    out
}
