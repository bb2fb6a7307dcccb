//! Set-of-Mark candidates: numbered points on a tile where the rover can stand, so that a
//! model can name a point ("candidate 7 of tile t1a2b3c4d") instead of reading coordinates.
//!
//! A tile's candidates are the points of a regular lattice, [`PER_SIDE`] x [`PER_SIDE`] pixel
//! positions at `((i + 0.5) W / n, (j + 0.5) H / n)`, that fall on a cell of the planner's cost
//! grid ([`Toolbox::cost_grid`]) which is feasible for every rule the grid enforces: no
//! blocking mapped hazard or keep-out zone within the hazard buffer, inside keep-in by half the
//! rover's width, known ground under the footprint, and tilt, step and belly clearance under
//! the limits (with the planner's margins) for at least one heading. Points outside the sol's
//! planning area (the cost grid's extent) are never candidates. They are numbered from 1 in
//! reading order (rows top to bottom, left to right in a row).
//!
//! Candidates are a pure function of the tile's footprint and the sol, so naming one resolves
//! the same way in every run (a replay, or another attempt sharing the toolbox). A candidate is
//! a place the rover may stand, not a route: the segments between them are for the checker.

use serde::Serialize;

use super::args::r3;
use super::{ToolCallError, Toolbox};
use crate::cost::Constraints;
use crate::tiles::Frame;

/// Lattice positions per tile side (at most `PER_SIDE`² candidates).
pub const PER_SIDE: u32 = 8;

/// One numbered candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Candidate {
    /// Its number on the tile (from 1).
    pub candidate: u32,
    /// Map x (east), metres (to the millimetre; naming the candidate resolves to exactly this).
    pub x_m: f64,
    /// Map y (north), metres (to the millimetre).
    pub y_m: f64,
    /// Pixels from the tile's left edge.
    pub u: f64,
    /// Pixels from the tile's top edge.
    pub v: f64,
}

/// The candidates of the tile with footprint `frame` (see the module docs).
pub fn candidates_for(toolbox: &Toolbox, frame: &Frame) -> Result<Vec<Candidate>, ToolCallError> {
    let grid = toolbox.cost_grid()?;
    let n = f64::from(PER_SIDE);
    let (w, h) = (f64::from(frame.width_px), f64::from(frame.height_px));
    let mut out = Vec::new();
    for j in 0..PER_SIDE {
        for i in 0..PER_SIDE {
            let u = (f64::from(i) + 0.5) * w / n;
            let v = (f64::from(j) + 0.5) * h / n;
            let (x, y) = frame.to_map(u, v);
            let Some(cell) = grid.cell_at((x, y)) else {
                continue;
            };
            if !grid.passable(cell, Constraints::NONE) {
                continue;
            }
            let candidate = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
            out.push(Candidate { candidate, x_m: r3(x), y_m: r3(y), u, v });
        }
    }
    Ok(out)
}
