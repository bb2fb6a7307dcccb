//! `breadcrumb sol ...`: make sols (planning problems) from real drives.

use std::path::PathBuf;

use anyhow::Context;
use breadcrumb_sites::sol_from_route::{
    sol_from_route, write_sol, FromRouteOptions, DEFAULT_CORRIDOR_M, DEFAULT_GOAL_TOLERANCE_M,
};
use breadcrumb_tools::checker::rover_path;
use clap::{Args, Subcommand};

use super::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum SolCommand {
    /// Write a sol from one real drive of a traverse GeoJSON (LineString features).
    ///
    /// --sol-id N selects the drive: the feature whose `sol` property is N when the features
    /// have `sol` properties (as NASA/JPL MMGIS traverses and ../shared/realdata drives do),
    /// otherwise the feature at index N (from 0). Start = the drive's first vertex, facing along
    /// its first segment; goal = its last vertex (within --goal-tolerance); keep-in = a corridor
    /// of --corridor metres around it, clipped to the DEM's valid data; drive budget = the
    /// larger of the rover profile's and 1.5 x the drive's length; reference route = the drive
    /// as driven. Drives in another CRS than the DEM's (named in the file's `crs` member, or
    /// lon/lat degrees) are reprojected. `bundle` and `rover` are written relative to the sol.
    ///
    /// Example: breadcrumb sol from-route --site ../shared/realdata/gale-marias-pass --route
    /// ../shared/realdata/gale-marias-pass/drives.geojson --sol-id 967 -o
    /// fixtures/sols/gale-967.toml
    FromRoute(FromRouteArgs),
}

#[derive(Debug, Args)]
pub struct FromRouteArgs {
    /// Terrain bundle directory the drive lies on.
    #[arg(long, value_name = "DIR")]
    site: PathBuf,
    /// GeoJSON file of drives (LineString features).
    #[arg(long, value_name = "DRIVES.geojson")]
    route: PathBuf,
    /// Which drive: its `sol` property, or its feature index when features have no `sol`.
    #[arg(long = "sol-id", value_name = "N")]
    sol_id: u64,
    /// Output sol TOML (its directory must exist).
    #[arg(short, long, value_name = "SOL.toml")]
    out: PathBuf,
    /// Rover profile: a name in fixtures/rovers/ (perseverance) or a path to a profile TOML.
    #[arg(long, value_name = "NAME", default_value = "perseverance")]
    rover: String,
    /// Half-width of the keep-in corridor around the drive, metres.
    #[arg(long, value_name = "M", default_value_t = DEFAULT_CORRIDOR_M)]
    corridor: f64,
    /// How close to the drive's end the plan must finish, metres.
    #[arg(long, value_name = "M", default_value_t = DEFAULT_GOAL_TOLERANCE_M)]
    goal_tolerance: f64,
    /// The sol's id (default: <site name>-sol-<N>).
    #[arg(long)]
    id: Option<String>,
    /// Replace an existing sol file.
    #[arg(long)]
    force: bool,
}

/// The fixtures directory: `./fixtures` when run from a checkout, else the one this binary was
/// built beside (as `check` resolves rover names).
fn fixtures_dir() -> PathBuf {
    let here = PathBuf::from("fixtures");
    if here.join("rovers").is_dir() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    }
}

pub fn run(cmd: SolCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        SolCommand::FromRoute(a) => from_route(&a),
    }
}

fn from_route(a: &FromRouteArgs) -> anyhow::Result<ExitStatus> {
    let rover = rover_path(&a.rover, &fixtures_dir());
    if !rover.is_file() {
        anyhow::bail!("rover {:?}: no such file, and no fixtures/rovers/{}.toml", a.rover, a.rover);
    }
    let opts = FromRouteOptions {
        corridor_m: a.corridor,
        goal_tolerance_m: a.goal_tolerance,
        id: a.id.clone(),
        ..FromRouteOptions::new(&a.site, &a.route, a.sol_id, rover, &a.out)
    };
    let (sol, drive) = sol_from_route(&opts)?;
    write_sol(&sol, &a.out, a.force)?;
    let length = drive.length_m();
    outln!(
        "sol {} from {} (feature {}): {length:.1} m, {} vertices -> {}",
        sol.id,
        a.route.display(),
        drive.index,
        drive.points.len(),
        a.out.display()
    )?;
    outln!(
        "start ({:.2}, {:.2}) heading {:.1} deg; goal ({:.2}, {:.2}) within {} m; budget {} m; \
         keep-in {} vertices",
        sol.start.x,
        sol.start.y,
        sol.start.heading_deg,
        sol.goal.x,
        sol.goal.y,
        sol.goal.tolerance_m,
        sol.drive_budget_m,
        sol.keep_in.len()
    )?;
    if !drive.reprojected_from.is_empty() {
        outln!("(drive reprojected from {} to the DEM's CRS)", drive.reprojected_from)?;
    }
    breadcrumb_tools::terrain::Sol::load(&a.out).context("re-reading the sol just written")?;
    Ok(ExitStatus::Success)
}
