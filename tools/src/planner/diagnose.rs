//! Why there is no safe route: which constraint walls the goal off.
//!
//! For every constraint present in the grid, the goal is searched for with *only* that
//! constraint enforced (all others relaxed): if it is still unreachable, that constraint alone
//! walls the goal off ("every route to the goal crosses tilt above 23°"). Where it does, a
//! search that lets the route cross it at a heavy penalty shows the least-bad crossing, and
//! the worst value met there. When no single constraint is enough, the constraints a
//! penalised route must cross are listed together.

use std::fmt::Write as _;

use super::search::{astar, Target};
use crate::cost::{CellTerrain, Constraint, Constraints, CostGrid};

/// Per-metre cost multiplier of a cell the penalised search crosses against a constraint.
const PENALTY: f32 = 1.0e4;

/// A refusal: the sentence and the constraints that wall the goal off.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// For people and models.
    pub reason: String,
    /// Constraints that alone wall the goal off (or, when none does, those a route must cross).
    pub walls: Vec<Constraint>,
}

/// What constraint `c` means, with the grid's thresholds.
fn describe(grid: &CostGrid, c: Constraint) -> String {
    let Some(th) = grid.thresholds() else { return c.id().to_owned() };
    match c {
        Constraint::Tilt => format!("tilt above {:.1}°", th.tilt_deg),
        Constraint::Step => format!("steps over {:.2} m (rocks or ledges)", th.step_m),
        Constraint::Clearance => format!("ground over {:.2} m high under the body", th.belly_m),
        Constraint::Hazards => format!("mapped hazards (or their {:.2} m buffer)", th.zone_m),
        Constraint::KeepOut => format!("keep-out zones (or their {:.2} m buffer)", th.zone_m),
        Constraint::KeepIn => "the keep-in boundary".into(),
        Constraint::ValidData => "DEM no-data".into(),
        Constraint::Checker => "places where the safety checker refused earlier routes".into(),
        Constraint::Impassable => "impassable cells".into(),
    }
}

/// The worst value of constraint `c`'s measure over `cells`, as a phrase.
fn worst(grid: &CostGrid, c: Constraint, cells: &[usize]) -> Option<String> {
    let t: Vec<CellTerrain> =
        cells.iter().filter_map(|&i| grid.terrain().get(i).copied()).collect();
    let max =
        |f: fn(&CellTerrain) -> f32| t.iter().map(f).filter(|v| v.is_finite()).reduce(f32::max);
    let min =
        |f: fn(&CellTerrain) -> f32| t.iter().map(f).filter(|v| v.is_finite()).reduce(f32::min);
    match c {
        Constraint::Tilt => max(|t| t.tilt_deg).map(|v| format!("tilts up to {v:.1}°")),
        Constraint::Step => max(|t| t.step_m).map(|v| format!("meets steps of {v:.2} m")),
        Constraint::Clearance => max(|t| t.belly_m).map(|v| format!("has {v:.2} m under the body")),
        Constraint::Hazards => {
            min(|t| t.hazard_m).map(|v| format!("comes within {:.2} m of a hazard", v.max(0.0)))
        }
        Constraint::KeepOut => min(|t| t.keep_out_m)
            .map(|v| format!("comes within {:.2} m of a keep-out zone", v.max(0.0))),
        Constraint::KeepIn => {
            min(|t| t.keep_in_m).map(|v| format!("comes {v:.2} m from the keep-in boundary"))
        }
        _ => None,
    }
}

/// The route crossing the constraints in `crossed` at the least penalty (everything else
/// relaxed), as cells.
fn penalised(
    grid: &CostGrid,
    start: usize,
    target: &Target,
    crossed: Constraints,
) -> Option<Vec<usize>> {
    let g = grid.remapped(|_, cost, b| {
        let hit = !b.without(Constraints::all().without(crossed)).is_empty();
        (if hit { cost * PENALTY } else { cost }, Constraints::NONE)
    });
    astar(&g, start, target, Constraints::all()).map(|r| r.path)
}

/// Why no route from `start` reaches `target` on `grid` (which the caller has established).
#[must_use]
pub fn diagnose(grid: &CostGrid, start: usize, target: &Target) -> Diagnosis {
    let present = grid.constraints_present();
    let mut parts = Vec::new();
    let mut walls = Vec::new();
    // The goal's own cells.
    let goal_cells = target.cells();
    let goal_blocked = goal_cells.iter().all(|&i| !grid.blocked()[i].is_empty());
    let mut goal_set = Constraints::all();
    if goal_blocked {
        // The constraints every goal cell has (each alone makes the goal unreachable).
        for &i in goal_cells {
            goal_set = grid.blocked()[i].intersect(goal_set);
        }
        let nearest = goal_cells.iter().copied().min_by(|&a, &b| {
            let (pa, pb) = (grid.centre(a), grid.centre(b));
            let da = (pa.0 - target.point.0).hypot(pa.1 - target.point.1);
            let db = (pb.0 - target.point.0).hypot(pb.1 - target.point.1);
            da.total_cmp(&db)
        });
        let what = nearest.map_or_else(
            || "it lies outside the planning area".to_owned(),
            |i| grid.reason(i).trim_start_matches("infeasible: ").to_owned(),
        );
        parts.push(format!("the goal cell itself is infeasible: {what}"));
        walls.extend(goal_set.iter());
    } else {
        goal_set = Constraints::NONE;
    }
    let mut crossing = Vec::new();
    for c in present.iter() {
        if goal_set.contains(c) {
            continue;
        }
        // Only `c` enforced (and the goal cell's own constraints relaxed, so that what is
        // found is a wall around the goal, not the goal itself).
        let relaxed = Constraints::all().without(Constraints::only(c));
        if astar(grid, start, target, relaxed).is_some() {
            continue;
        }
        walls.push(c);
        let mut s = format!("every route to the goal crosses {}", describe(grid, c));
        if let Some(path) = penalised(grid, start, target, Constraints::only(c)) {
            let hit: Vec<usize> =
                path.iter().copied().filter(|&i| grid.blocked()[i].contains(c)).collect();
            if let Some(&first) = hit.first() {
                let (x, y) = grid.centre(first);
                let _ = write!(s, " (the least-bad crossing, from ({x:.1}, {y:.1})");
                if let Some(w) = worst(grid, c, &hit) {
                    let _ = write!(s, ", {w}");
                }
                s.push(')');
            }
        }
        crossing.push(s);
    }
    parts.extend(crossing);
    if walls.is_empty() {
        // No single constraint: list what the least-bad route crosses.
        let crossed = penalised(grid, start, target, Constraints::all()).map_or(present, |p| {
            p.iter().fold(Constraints::NONE, |a, &i| a.union(grid.blocked()[i]))
        });
        walls.extend(crossed.iter());
        let names: Vec<String> = crossed.iter().map(|c| describe(grid, c)).collect();
        if names.is_empty() {
            // Every cell on the least-bad route is feasible: what stops it is the headings.
            parts.push(
                "no route keeps to the headings the rover may face: every cell on the least-bad \
                 route is passable, but tilt, steps or belly clearance allow some only along \
                 some axes, and no chain of allowed moves and turns joins them"
                    .to_owned(),
            );
        } else {
            parts.push(format!(
                "no single constraint walls the goal off, but every route crosses one of: {}",
                names.join("; ")
            ));
        }
    }
    Diagnosis { reason: parts.join("; "), walls }
}
