//! `strategic_waypoints`: the campaign's one tool for a model, and its feasibility check at
//! coarse scale.
//!
//! With a language model, a campaign first shows it an overview of the whole area and asks
//! for a strategic corridor: a few waypoints from the start to the goal. This module checks
//! them on the same coarse grid the coarse planner searches ([`CoarseGrid`]): each waypoint
//! must lie on the map and on a cell that is not blocked, and each leg (the start to the first
//! waypoint, waypoint to waypoint, the last one to the goal) is searched by the planner's A*,
//! so the corridor follows the model's waypoints but never crosses a blocked coarse cell. The
//! answer is the route through them, or violations that say where and why, as the checker's
//! refusals do.
//!
//! The tool is not in the per-sol registry ([`crate::api`]): a sol's model plans one drive,
//! and a corridor means nothing there. The corridor is only guidance: every sol along it is
//! still planned at full resolution and judged by the checker and the twin.

use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::coarse::{CoarseGrid, CoarseRoute};
use crate::api::ToolSpec;
use crate::checker::Pt;
use crate::cost::{Constraint, Constraints};
use crate::geometry::polyline_length;
use crate::planner::diagnose::diagnose;
use crate::planner::{astar, Target};

/// The tool's name.
pub const TOOL_NAME: &str = "strategic_waypoints";

/// Most waypoints in one corridor (a campaign of kilometres needs tens at most).
pub const MAX_STRATEGIC_WAYPOINTS: usize = 40;

/// Proposes the campaign's strategic corridor: waypoints in map metres, in driving order,
/// between the start and the goal (give neither). The corridor is checked at coarse scale on
/// the cells the overview shows: every waypoint must lie on the map and on passable ground
/// (not too steep, clear of mapped hazards and rock fields, with elevation data), and each leg
/// is routed around blocked cells from one waypoint to the next. The answer is either the
/// route through your waypoints with its length (the campaign then follows it, sol after sol),
/// or the violations: which waypoint or leg, where, and why. Move the waypoints they name and
/// call again.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategicWaypointsArgs {
    /// Waypoints between the start and the goal, in driving order, in map metres read off the
    /// overview's grid labels: a few hundred metres apart, on open ground, steering around
    /// what you see in the way.
    #[schemars(length(min = 1, max = 40))]
    pub waypoints: Vec<MapPoint>,
}

/// A point in map metres.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapPoint {
    /// Map x (east), metres, as labelled on the overview's grid.
    pub x_m: f64,
    /// Map y (north), metres, as labelled on the overview's grid.
    pub y_m: f64,
}

/// The tool's spec (name, description, JSON Schema), as providers want it.
#[must_use]
pub fn spec() -> ToolSpec {
    crate::api::spec_for::<StrategicWaypointsArgs>(TOOL_NAME)
}

/// Reads the model's arguments (a JSON object, or the text it wrote). `Err` is the structured
/// error the model is answered with: the field and what is wrong.
pub fn parse_args(raw: &Value) -> Result<StrategicWaypointsArgs, Value> {
    let owned;
    let v = match raw {
        Value::String(text) => {
            owned = serde_json::from_str::<Value>(text).map_err(|e| {
                json!({"error": "invalid_arguments", "field": null,
                       "message": format!("the arguments are not JSON: {e}")})
            })?;
            &owned
        }
        v => v,
    };
    let args: StrategicWaypointsArgs = serde_path_to_error::deserialize(v).map_err(|e| {
        let field = e.path().to_string();
        json!({"error": "invalid_arguments", "field": if field == "." { None } else { Some(field) },
               "message": e.into_inner().to_string()})
    })?;
    if args.waypoints.is_empty() || args.waypoints.len() > MAX_STRATEGIC_WAYPOINTS {
        return Err(json!({"error": "invalid_arguments", "field": "waypoints",
            "message": format!("give 1 to {MAX_STRATEGIC_WAYPOINTS} waypoints, not {}",
                               args.waypoints.len())}));
    }
    Ok(args)
}

/// One thing wrong with a corridor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorridorViolation {
    /// `off_map`, `blocked_waypoint` or `walled_off`.
    pub rule: String,
    /// The waypoint (1-based), for a waypoint's violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<usize>,
    /// The leg (1-based: leg 1 runs from the start to waypoint 1), for a leg's violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg: Option<usize>,
    /// Map x of the place, metres (a leg's: where it starts).
    pub x_m: f64,
    /// Map y of the place, metres.
    pub y_m: f64,
    /// The constraints that block it (`tilt`, `hazards`, `step`, `valid_data`, `checker`).
    pub walls: Vec<String>,
    /// What is wrong, in words.
    pub message: String,
}

/// The answer to a corridor.
#[derive(Debug, Clone)]
pub enum CorridorCheck {
    /// Feasible at coarse scale: the route through the waypoints.
    Feasible(CoarseRoute),
    /// Not: every violation found.
    Refused(Vec<CorridorViolation>),
}

impl CorridorCheck {
    /// Whether the corridor is feasible.
    #[must_use]
    pub fn pass(&self) -> bool {
        matches!(self, CorridorCheck::Feasible(_))
    }

    /// The tool's result as the model reads it: the route's length and a sample of its
    /// vertices, or the violations.
    #[must_use]
    pub fn to_json(&self) -> Value {
        match self {
            CorridorCheck::Feasible(r) => {
                let step = r.route.len().div_ceil(24).max(1);
                let mut sample: Vec<Pt> = r.route.iter().step_by(step).copied().collect();
                if sample.last() != r.route.last() {
                    sample.extend(r.route.last());
                }
                json!({
                    "pass": true,
                    "length_m": round1(r.length_m),
                    "cell_m": r.cell_m,
                    "route_sample": sample.iter().map(|p| [round1(p.0), round1(p.1)]).collect::<Vec<_>>(),
                    "message": format!(
                        "feasible at coarse scale: the route through your waypoints is {:.2} km \
                         long and becomes the campaign's strategic route; every sol along it is \
                         still planned at full resolution and checked",
                        r.length_m / 1000.0
                    ),
                })
            }
            CorridorCheck::Refused(v) => json!({
                "pass": false,
                "violations": v,
                "message": format!(
                    "refused: {} violation{}; move the waypoints named and call \
                     strategic_waypoints again",
                    v.len(),
                    if v.len() == 1 { "" } else { "s" }
                ),
            }),
        }
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// What blocked coarse constraint `c` means, in words.
fn describe(c: Constraint) -> &'static str {
    match c {
        Constraint::Tilt => {
            "slopes steeper than the rover may tilt (measured at 2 m inside the cell)"
        }
        Constraint::Hazards => {
            "within the hazard buffer of a mapped blocking hazard (sand, crater, scarp or boulder \
             field)"
        }
        Constraint::Step => "a rock field (several mapped rocks over the step limit)",
        Constraint::ValidData => "no elevation data",
        Constraint::Checker => "a place where the campaign's sols could not drive",
        _ => "impassable",
    }
}

/// Checks the corridor from `start` through `waypoints` (in order) to within `tolerance_m` of
/// `goal` on `grid`. Deterministic: the same grid and points give the same answer. Errors only
/// for the start or the goal themselves (off the map), as [`CoarseGrid::route`].
pub fn check_corridor(
    grid: &CoarseGrid,
    start: Pt,
    waypoints: &[Pt],
    goal: Pt,
    tolerance_m: f64,
) -> crate::error::Result<CorridorCheck> {
    let t0 = Instant::now();
    let (g, s, goal_target) = grid.prepared(start, goal, tolerance_m)?;
    let ext = grid.extent();
    let cell_m = grid.cell_m();
    let mut violations = Vec::new();
    // Each waypoint's cell, or `None` when it is off the map or blocked.
    let mut cells = Vec::with_capacity(waypoints.len());
    for (k, &p) in waypoints.iter().enumerate() {
        let n = k + 1;
        let on_map = p.0.is_finite()
            && p.1.is_finite()
            && (ext.0..=ext.2).contains(&p.0)
            && (ext.1..=ext.3).contains(&p.1);
        let cell = if on_map { g.cell_at(p) } else { None };
        let Some(i) = cell else {
            violations.push(CorridorViolation {
                rule: "off_map".into(),
                waypoint: Some(n),
                leg: None,
                x_m: p.0,
                y_m: p.1,
                walls: vec!["valid_data".into()],
                message: format!(
                    "waypoint {n} at ({:.1}, {:.1}) is off the map: x runs {:.0} to {:.0}, y {:.0} \
                     to {:.0}",
                    p.0, p.1, ext.0, ext.2, ext.1, ext.3
                ),
            });
            cells.push(None);
            continue;
        };
        let blocked = g.blocked()[i];
        if blocked.is_empty() {
            cells.push(Some(i));
            continue;
        }
        let walls: Vec<Constraint> = blocked.iter().collect();
        let why: Vec<&str> = walls.iter().map(|&c| describe(c)).collect();
        violations.push(CorridorViolation {
            rule: "blocked_waypoint".into(),
            waypoint: Some(n),
            leg: None,
            x_m: p.0,
            y_m: p.1,
            walls: walls.iter().map(|c| c.id().to_owned()).collect(),
            message: format!(
                "waypoint {n} at ({:.1}, {:.1}) lies on a blocked {cell_m:.0} m cell: {}",
                p.0,
                p.1,
                why.join("; ")
            ),
        });
        cells.push(None);
    }
    // The legs between points that are themselves fine.
    let name = |k: usize| {
        if k == 0 {
            "the start".to_owned()
        } else if k > waypoints.len() {
            "the goal".to_owned()
        } else {
            format!("waypoint {k}")
        }
    };
    let mut ends: Vec<(Option<usize>, Pt)> = vec![(Some(s), start)];
    ends.extend(cells.iter().zip(waypoints).map(|(c, &p)| (*c, p)));
    let mut route = vec![start];
    let mut cost = 0.0;
    for leg in 1..=waypoints.len() + 1 {
        let (from, from_p) = ends[leg - 1];
        let last = leg == waypoints.len() + 1;
        let target = if last {
            goal_target.clone()
        } else {
            match ends[leg].0 {
                Some(i) => Target::cell(&g, i),
                None => continue,
            }
        };
        let Some(from) = from else { continue };
        if let Some(found) = astar(&g, from, &target, Constraints::NONE) {
            cost += found.cost;
            route.extend(found.path.iter().skip(1).map(|&i| g.centre(i)));
            // The leg ends on the waypoint itself (or the goal), not its cell's centre.
            if found.path.len() > 1 {
                route.pop();
            }
            route.push(if last { goal } else { ends[leg].1 });
        } else {
            let d = diagnose(&g, from, &target);
            let to = if last { goal } else { ends[leg].1 };
            violations.push(CorridorViolation {
                rule: "walled_off".into(),
                waypoint: None,
                leg: Some(leg),
                x_m: from_p.0,
                y_m: from_p.1,
                walls: d.walls.iter().map(|c| c.id().to_owned()).collect(),
                message: format!(
                    "leg {leg} from {} ({:.1}, {:.1}) to {} ({:.1}, {:.1}) is walled off at \
                         coarse scale ({cell_m:.0} m cells): {}",
                    name(leg - 1),
                    from_p.0,
                    from_p.1,
                    name(leg),
                    to.0,
                    to.1,
                    d.reason
                ),
            });
        }
    }
    if !violations.is_empty() {
        return Ok(CorridorCheck::Refused(violations));
    }
    route.dedup();
    Ok(CorridorCheck::Feasible(CoarseRoute {
        length_m: polyline_length(&route),
        route,
        cost,
        cell_m,
        grid_size: (g.width(), g.height()),
        blocked_share: CoarseGrid::blocked_share(&g),
        read_s: grid.read_s,
        grid_s: grid.grid_s,
        search_s: t0.elapsed().as_secs_f64(),
    }))
}
