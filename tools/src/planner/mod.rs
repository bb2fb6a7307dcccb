//! The baseline planner: the cost-optimal route on the cost grid ([`crate::cost`]), turned
//! into few waypoints that pass the safety checker, or a refusal saying which constraint
//! walls the goal off. Evals compare model routes against it ("cost ratio to the baseline
//! optimum").
//!
//! 1. **Search** ([`search`]): A* over the 16-connected graph, from the start cell to any
//!    feasible cell within the goal tolerance.
//! 2. **Dense route** ([`route::dense_polyline`]): the exact start point, then cell centres;
//!    straight runs merged up to the waypoint spacing. The checker judges it; where it refuses
//!    (the cost model measures tilt at cell centres, the checker between them too), the cells
//!    around each violation are blocked ([`Constraint::Checker`]) and the search runs again.
//!    A route over the drive budget is searched again for length alone.
//! 3. **Simplification** ([`route::simplify`], [`route::verify`]): greedy straight shortcuts
//!    over feasible cells within the spacing limit, verified by the checker; a failing
//!    shortcut gets back the dense vertex farthest from it until it passes (the dense route
//!    itself passed, so this ends).
//! 4. **Refusal** ([`diagnose`]): when no route exists, which constraint walls the goal off.
//!
//! [`strategic`] plans kilometre-scale routes coarse to fine (a coarse grid, then this search
//! in a corridor around the coarse route).
//!
//! [`output`] turns a route into the plan JSON and GeoJSON that `breadcrumb plan` writes.

pub mod diagnose;
pub mod output;
pub mod route;
pub mod search;
pub mod strategic;

use serde::Serialize;

pub use diagnose::Diagnosis;
pub use output::PLANNER_MODEL;
pub use search::{astar, astar_from, astar_within, Region, SearchResult, Target, ALL_MOVES};
pub use strategic::{
    aggregate, plan_strategic, plan_strategic_on_grids, CoarseCost, CoarseGrid, StrategicOptions,
    StrategicRoute,
};

use crate::checker::walk::{heading_of, SegmentTerrain, Walker};
use crate::checker::{rules, Checker, ElevationSource, Mission, Pt, Verdict};
use crate::cost::{build_cost_grid, Constraint, Constraints, CostGrid, MOVES};
use crate::error::{Result, ToolsError};
use crate::geometry::polyline_length;
use crate::terrain::{Bundle, Hazard, LoadedSol, RoverProfile};

/// Knobs of the planner (defaults suit 1 m DEMs and Perseverance-like rovers).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannerOptions {
    /// How many times the search may run again after the checker refused its dense route.
    pub repair_rounds: usize,
    /// Radius of the disc of cells blocked around each violation the checker reports, metres.
    pub repair_radius_m: f64,
    /// A straight shortcut is taken when it costs at most `1 + simplify_slack` times the
    /// stretch it replaces.
    pub simplify_slack: f64,
    /// Checker runs allowed while refining the simplified route.
    pub verify_rounds: usize,
}

impl Default for PlannerOptions {
    fn default() -> Self {
        PlannerOptions {
            repair_rounds: 24,
            repair_radius_m: 2.0,
            simplify_slack: 0.02,
            verify_rounds: 64,
        }
    }
}

/// Numbers about one planning run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanStats {
    /// Cells in the cost grid.
    pub grid_cells: usize,
    /// Feasible cells before any repair.
    pub feasible_cells: usize,
    /// Searches run.
    pub searches: usize,
    /// Cells expanded over all searches.
    pub expanded: usize,
    /// Times the checker refused a dense route and cells were blocked.
    pub repairs: usize,
    /// Vertices of the dense route.
    pub dense_vertices: usize,
    /// Checker runs while simplifying.
    pub verify_checks: usize,
    /// Whether the route was searched for length alone (the cheapest one was over budget).
    pub length_only: bool,
}

/// A planned route.
#[derive(Debug, Clone)]
pub struct PlannedRoute {
    /// The waypoints, map metres: the exact start first.
    pub waypoints: Vec<Pt>,
    /// Cost under the cost model ([`CostGrid::path_cost`] of the waypoints).
    pub cost: f64,
    /// Length, metres.
    pub length_m: f64,
    /// The checker's verdict on the waypoints (always a pass).
    pub verdict: Verdict,
    /// How it was found.
    pub stats: PlanStats,
}

/// What the planner concluded.
#[derive(Debug, Clone)]
pub enum PlanOutcome {
    /// A route that passes the checker.
    Route(Box<PlannedRoute>),
    /// No route the checker would pass exists on the cost model.
    NoSafeRoute {
        /// Which constraint walls the goal off, in a sentence.
        reason: String,
        /// The constraints named in `reason`.
        walls: Vec<Constraint>,
        /// How far the planner got.
        stats: PlanStats,
    },
}

/// Plans a sol: opens its bundle and rover profile, builds the cost grid and plans on it.
pub fn plan_sol(sol: &LoadedSol, opts: &PlannerOptions) -> Result<PlanOutcome> {
    let bundle = Bundle::open(&sol.bundle_dir)?;
    let profile = RoverProfile::load(&sol.rover_path)?;
    plan_mission(&bundle.dem, &bundle.hazards, &profile, &Mission::from_sol(&sol.sol), opts)
}

/// Plans `mission` over `source` with the site's mapped `hazards` for `profile`.
pub fn plan_mission(
    source: &dyn ElevationSource,
    hazards: &[Hazard],
    profile: &RoverProfile,
    mission: &Mission,
    opts: &PlannerOptions,
) -> Result<PlanOutcome> {
    let grid = build_cost_grid(source, hazards, mission, profile)?;
    let checker = Checker::new(source, hazards, profile);
    plan_on_grid(grid, source, &checker, profile, mission, opts)
}

/// Checker rules whose violations the planner repairs by blocking cells (the others are about
/// the plan as a whole: start, goal, spacing and budget are the planner's own doing).
const TERRAIN_RULES: [&str; 7] = [
    rules::tilt::ID,
    rules::step::ID,
    rules::clearance::ID,
    rules::keep_out::ID,
    rules::hazards::ID,
    rules::keep_in::ID,
    rules::valid_data::ID,
];

/// Constraints the planner lifts from the start cell (see [`plan_on_grid`]).
const STANDING: Constraints = Constraints::NONE
    .with(Constraint::Tilt)
    .with(Constraint::Step)
    .with(Constraint::Clearance)
    .with(Constraint::ValidData);

/// What is wrong with the ground under the rover at a pose, judged against the profile's
/// limits (the checker's, not the planner's thresholds): the phrases and the constraints.
fn pose_faults(acc: &SegmentTerrain, profile: &RoverProfile) -> (Vec<String>, Vec<Constraint>) {
    let lim = &profile.limits;
    let mut why = Vec::new();
    let mut walls = Vec::new();
    if acc.unknown.is_some() {
        why.push("no DEM data under the footprint".to_owned());
        walls.push(Constraint::ValidData);
    }
    if let Some(e) = acc.tilt.filter(|e| e.value > lim.max_tilt_deg) {
        why.push(format!("tilt {:.1}° (limit {:.1}°)", e.value, lim.max_tilt_deg));
        walls.push(Constraint::Tilt);
    }
    if let Some(e) = acc.step.filter(|e| e.value > lim.max_step_m) {
        why.push(format!(
            "a {:.2} m step under the footprint (limit {:.2} m)",
            e.value, lim.max_step_m
        ));
        walls.push(Constraint::Step);
    }
    if let Some(e) = acc.belly.filter(|e| e.value > lim.max_belly_obstacle_m) {
        why.push(format!(
            "ground {:.2} m above the wheel plane (limit {:.2} m)",
            e.value, lim.max_belly_obstacle_m
        ));
        walls.push(Constraint::Clearance);
    }
    (why, walls)
}

/// The rover at its start pose, before it moves.
struct StartPose {
    /// The first moves it can turn to from its start heading (bit `k` for `MOVES[k]`): the
    /// checker's own walk of the turn in place at the exact start point, judged against the
    /// profile's limits. All moves when the mission has no start heading.
    first: u16,
    /// When the rover already breaks a limit standing at its start heading (every plan then
    /// fails the checker): why, and the constraints.
    fault: Option<(String, Vec<Constraint>)>,
}

fn start_pose(
    grid: &CostGrid,
    source: &dyn ElevationSource,
    profile: &RoverProfile,
    mission: &Mission,
    start: usize,
) -> Result<StartPose> {
    let Some(h0) = mission.start_heading_deg else {
        return Ok(StartPose { first: ALL_MOVES, fault: None });
    };
    let walker =
        Walker::new(source, profile.footprint.half_length_m, profile.footprint.half_width_m)?;
    let mut standing = SegmentTerrain::default();
    walker.stand(mission.start, h0, &mut standing)?;
    let (why, walls) = pose_faults(&standing, profile);
    let fault = (!why.is_empty()).then(|| {
        (
            format!(
                "the rover's start pose already breaks the checker's limits: {} at heading \
                 {h0:.1}°, so no plan from this start can pass",
                why.join(", ")
            ),
            walls,
        )
    });
    let (c, r) = grid.col_row(start);
    let mut first = 0u16;
    for (k, m) in MOVES.iter().enumerate() {
        let Some(to) = grid.index(c as i64 + i64::from(m.dc), r as i64 + i64::from(m.dr)) else {
            continue;
        };
        let mut acc = SegmentTerrain::default();
        walker.turn(mission.start, h0, heading_of(mission.start, grid.centre(to)), &mut acc)?;
        if pose_faults(&acc, profile).0.is_empty() {
            first |= 1 << k;
        }
    }
    Ok(StartPose { first, fault })
}

/// Plans on a cost grid already built for `mission` over `source` (see the module docs).
pub fn plan_on_grid(
    mut grid: CostGrid,
    source: &dyn ElevationSource,
    checker: &Checker<'_>,
    profile: &RoverProfile,
    mission: &Mission,
    opts: &PlannerOptions,
) -> Result<PlanOutcome> {
    let spacing = profile.limits.max_waypoint_spacing_m;
    let mut stats = PlanStats {
        grid_cells: grid.len(),
        feasible_cells: grid.blocked().iter().filter(|b| b.is_empty()).count(),
        ..PlanStats::default()
    };
    let refuse = |reason: String, walls: Vec<Constraint>, stats: PlanStats| {
        Ok(PlanOutcome::NoSafeRoute { reason, walls, stats })
    };
    let Some(start) = grid.cell_at(mission.start) else {
        return refuse("the start lies outside the DEM".into(), vec![Constraint::ValidData], stats);
    };
    // The rover already stands on the start cell: what the cost model suspects there at some
    // heading (terrain measures) is for the checker to judge on the route actually driven.
    // Zones are not: a start inside a hazard buffer fails the checker whatever the route.
    grid.unblock(start, STANDING);
    if !grid.passable(start, Constraints::NONE) {
        let walls = grid.blocked()[start].iter().collect();
        return refuse(format!("the start cell itself is {}", grid.reason(start)), walls, stats);
    }
    let target = Target::disc(&grid, mission.goal, mission.goal_tolerance_m);
    if target.cells().is_empty() {
        return refuse(
            format!(
                "no DEM cell centre lies within the goal tolerance ({:.2} m) of the goal inside \
                 the planning area",
                mission.goal_tolerance_m
            ),
            Vec::new(),
            stats,
        );
    }
    let pose = start_pose(&grid, source, profile, mission, start)?;
    if let Some((why, mut walls)) = pose.fault {
        // Say so, and whether the goal would be reachable from a sound start.
        let rest = if astar(&grid, start, &target, Constraints::NONE).is_some() {
            "the cost model finds a route from there otherwise".to_owned()
        } else {
            let d = diagnose::diagnose(&grid, start, &target);
            walls.extend(d.walls.iter().filter(|c| !walls.contains(c)).collect::<Vec<_>>());
            format!("beyond that, {}", d.reason)
        };
        return refuse(format!("no safe route: {why}; {rest}"), walls, stats);
    }
    let mut first = pose.first;
    let reach = profile.footprint.half_length_m.hypot(profile.footprint.half_width_m)
        + grid.transform().resolution().0.hypot(grid.transform().resolution().1);
    let mut length_only = false;
    for round in 0..=opts.repair_rounds {
        if first == 0 {
            return refuse(
                "no safe route: the rover cannot turn from its start heading toward any \
                 neighbouring cell (or leave toward it) without breaking a terrain limit"
                    .into(),
                vec![Constraint::Checker],
                stats,
            );
        }
        let searched = if length_only {
            let base = profile.costs.base_per_m as f32;
            let uniform = grid.remapped(|_, _, b| (base, b));
            astar_from(&uniform, start, first, &target, Constraints::NONE)
        } else {
            astar_from(&grid, start, first, &target, Constraints::NONE)
        };
        stats.searches += 1;
        let Some(found) = searched else {
            let d = diagnose::diagnose(&grid, start, &target);
            return refuse(format!("no safe route: {}", d.reason), d.walls, stats);
        };
        stats.expanded += found.expanded;
        let dense = route::dense_polyline(&grid, &found.path, mission.start, spacing);
        let length = polyline_length(&dense);
        if rules::exceeds(length, mission.drive_budget_m) {
            if length_only {
                return refuse(
                    format!(
                        "no safe route within the drive budget: the shortest route the cost model \
                         allows is {length:.1} m; the budget is {:.1} m",
                        mission.drive_budget_m
                    ),
                    Vec::new(),
                    stats,
                );
            }
            length_only = true;
            stats.length_only = true;
            continue;
        }
        let verdict = checker.check(mission, &dense)?;
        if !verdict.pass {
            let repairable: Vec<_> = verdict
                .violations
                .iter()
                .filter(|v| TERRAIN_RULES.contains(&v.rule.as_str()))
                .collect();
            if repairable.is_empty() || round == opts.repair_rounds {
                let first =
                    verdict.violations.first().map_or_else(String::new, |v| v.message.clone());
                return refuse(
                    format!(
                        "the checker refused every route the cost model proposed ({} repairs); \
                         last: {first}",
                        stats.repairs
                    ),
                    vec![Constraint::Checker],
                    stats,
                );
            }
            for v in repairable {
                let near_start = (v.x - mission.start.0).hypot(v.y - mission.start.1) <= reach;
                if v.segment == Some(0) && near_start && found.path.len() > 1 {
                    // The turn at the start or the first metres: leave in another direction.
                    let (a, b) = (grid.col_row(found.path[0]), grid.col_row(found.path[1]));
                    let d = (b.0 as i32 - a.0 as i32, b.1 as i32 - a.1 as i32);
                    if let Some(k) = MOVES.iter().position(|m| (m.dc, m.dr) == d) {
                        first &= !(1u16 << k);
                    }
                } else {
                    block_disc(&mut grid, (v.x, v.y), opts.repair_radius_m, start);
                }
            }
            stats.repairs += 1;
            continue;
        }
        stats.dense_vertices = dense.len();
        let kept = route::simplify(&grid, &dense, spacing, opts.simplify_slack);
        let done = route::verify(checker, mission, &dense, &verdict, kept, opts.verify_rounds)?;
        stats.verify_checks = done.checks;
        let cost = grid.path_cost(&done.points)?;
        return Ok(PlanOutcome::Route(Box::new(PlannedRoute {
            length_m: cost.length_m,
            cost: cost.total_cost,
            waypoints: done.points,
            verdict: done.verdict,
            stats,
        })));
    }
    Err(ToolsError::Argument("planner ran out of rounds".into()))
}

/// Blocks ([`Constraint::Checker`]) every cell whose centre lies within `radius` of `p`,
/// except the start cell (blocking it would only turn a clear refusal into a confusing one).
fn block_disc(grid: &mut CostGrid, p: Pt, radius: f64, start: usize) {
    let t = grid.transform();
    let (dx, dy) = t.resolution();
    let (u, v) = t.to_cell(p.0, p.1);
    if !(u.is_finite() && v.is_finite()) {
        return;
    }
    let (rc, rr) = ((radius / dx).ceil() as i64 + 1, (radius / dy).ceil() as i64 + 1);
    let (cu, cv) = (u.floor() as i64, v.floor() as i64);
    let mut hit = false;
    for r in cv - rr..=cv + rr {
        for c in cu - rc..=cu + rc {
            let Some(i) = grid.index(c, r) else { continue };
            let q = grid.centre(i);
            if i != start && (q.0 - p.0).hypot(q.1 - p.1) <= radius {
                grid.block(i, Constraint::Checker);
                hit = true;
            }
        }
    }
    if !hit {
        if let Some(i) = grid.cell_at(p).filter(|&i| i != start) {
            grid.block(i, Constraint::Checker);
        }
    }
}
