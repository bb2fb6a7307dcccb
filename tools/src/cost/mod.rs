//! The planner's traversal cost model: a cost per metre for every DEM cell of a sol's area,
//! infinite where the safety checker would (or might) refuse the rover.
//!
//! - [`grid`]: the [`CostGrid`] and the 16-connected graph the planner searches on it.
//! - [`heading`]: the 8 axes of the 16 moves; which headings the rover may face on a cell.
//! - [`constraint`]: why a cell is infeasible, one flag per checker rule ([`Constraint`]).
//! - [`terrain`]: tilt, belly clearance, steps and no-data within reach of the footprint,
//!   measured with the checker's own walk (footprint inflation).
//! - [`zones`]: distances to mapped hazards, keep-out zones and the keep-in boundary.
//! - [`build`]: [`build_cost_grid`] for a mission, [`cost_grid_for_sol`] for a sol file.
//! - [`path`]: [`CostGrid::path_cost`], the cost of any polyline with a per-segment breakdown.
//!
//! # The model
//!
//! A feasible cell costs, per metre driven (weights from the profile's `[costs]`,
//! [`crate::terrain::rover::CostWeights`]):
//!
//! `base + slope·(tilt/max_tilt)² + step·(step/max_step) + belly·(belly/max_belly)
//!  + crossable_hazard·[on mapped outcrop]`
//!
//! where tilt and belly are the worst over every heading of the rover standing on the cell,
//! and step the worst within reach of its footprint. A cell is infeasible (infinite cost) when
//! the rover there could break the checker's `tilt`, `step`, `clearance`, `hazards`,
//! `keep_out`, `keep_in` or `valid_data` rule: see [`terrain`] for the footprint inflation and
//! [`grid::Thresholds`] for the limits with the planner's margins. The checker stays the judge:
//! the planner checks every route it proposes.

pub mod build;
pub mod constraint;
pub mod grid;
pub mod heading;
pub mod path;
pub mod terrain;
pub mod zones;

pub use build::{build_cost_grid, mission_area, mission_window};
pub use constraint::{Constraint, Constraints};
pub use grid::{CellTerrain, CostGrid, Move, Thresholds, MOVES};
pub use heading::Headings;
pub use path::{PathCost, SegmentCost, WorstCell};

use crate::checker::Mission;
use crate::error::Result;
use crate::terrain::{Bundle, LoadedSol, RoverProfile};

/// The cost grid of a sol: opens its bundle and rover profile and calls [`build_cost_grid`].
pub fn cost_grid_for_sol(sol: &LoadedSol) -> Result<CostGrid> {
    let bundle = Bundle::open(&sol.bundle_dir)?;
    let profile = RoverProfile::load(&sol.rover_path)?;
    build_cost_grid(&bundle.dem, &bundle.hazards, &Mission::from_sol(&sol.sol), &profile)
}
