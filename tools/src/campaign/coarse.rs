//! The campaign's strategic route, searched on a coarse cost grid made from the DEM's
//! overviews: kilometres of terrain read as a few megabytes.
//!
//! Why not the strategic planner's aggregated grid ([`crate::planner::strategic`]): that grid
//! is made from the 1 m cost grid, whose cells each cost the checker's own footprint walk
//! (80-90 s per 4 km² on two cores); a 67 km² site would take half an hour before the first
//! sol. A campaign needs a *guide* across the map, not a proof: every sol is planned and
//! checked at full resolution from where the last one ended, in a corridor around this route,
//! and a sol that finds no safe route there stops the campaign with the checker's reasons.
//!
//! # The coarse grid
//!
//! The DEM is read once, averaged over blocks of `cell_m` ([`crate::terrain::Dem::read_decimated`],
//! which GDAL answers from a COG's overviews). Per coarse cell:
//! - **slope** by Horn's method (as `gdaldem slope`) on the coarse heights, for the cost, and
//!   the steepest slope on cells [`SLOPE_SUBCELLS`] times finer inside it (2 m for 8 m
//!   cells, also from an overview): over the rover's tilt threshold (`max_tilt -
//!   tilt_margin`) the cell is blocked (`tilt`). A slope over 8 m is gentler than the slopes
//!   inside it: a 6 m ridge with 45° flanks reads 15° there, 40° at 2 m. Slopes at 2 m are
//!   still gentler than at 1 m, so this blocks scarps and crater walls, not rough ground;
//! - **no data** anywhere in the block blocks the cell (`valid_data`);
//! - **mapped hazards** of blocking classes block every cell whose centre lies within the
//!   rover's hazard buffer of them (`hazards`): large ones (sand fields, craters, scarps,
//!   boulder fields) close the ground they cover; a lone rock closes one or two cells, which
//!   the route then passes beside;
//! - **mapped rocks** (hazards smaller than a cell) counted per cell: each adds `step_per_m`
//!   to the cost, and [`ROCK_FIELD`] of them block the cell (`step`);
//! - **cost per metre** as the fine model prices slope: `base + slope_per_m (slope /
//!   max_tilt)²`, plus the rocks.
//! - cells within a radius of places the campaign's sols could not reach (`avoid`) are
//!   blocked (`checker`): a detour the fine planner asked for.
//!
//! The search is the planner's A* ([`crate::planner::astar`]) on this grid, with the goal a
//! disc of the goal tolerance plus half a cell diagonal; its refusal names the walls
//! ([`crate::planner::diagnose`]).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::checker::rules::hazards::blocks;
use crate::checker::Pt;
use crate::cost::zones::{distance_to, Area};
use crate::cost::{Constraint, Constraints, CostGrid};
use crate::error::{Result, ToolsError};
use crate::geometry::polyline_length;
use crate::planner::diagnose::diagnose;
use crate::planner::{astar, Target};
use crate::terrain::{Bundle, Grid, RoverProfile};

/// Default side of a coarse cell, metres.
pub const DEFAULT_CELL_M: f64 = 8.0;

/// Rocks over the step limit in one coarse cell that make it a rock field the strategic route
/// goes around (the fine planner may still thread one; the strategic route should not count on it).
pub const ROCK_FIELD: u32 = 3;

/// A strategic route across the site.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoarseRoute {
    /// From the start to the goal through coarse cell centres (the start and the goal
    /// themselves at the ends), map metres.
    pub route: Vec<Pt>,
    /// Its length, metres.
    pub length_m: f64,
    /// Its cost on the coarse grid (metre-equivalents).
    pub cost: f64,
    /// Side of a coarse cell, metres.
    pub cell_m: f64,
    /// Columns and rows of the coarse grid.
    pub grid_size: (usize, usize),
    /// Share of coarse cells blocked.
    pub blocked_share: f64,
    /// Seconds: reading the overview, building the grid, searching.
    pub read_s: f64,
    /// Seconds building the grid.
    pub grid_s: f64,
    /// Seconds searching.
    pub search_s: f64,
}

/// The coarse cost grid of a whole bundle for `profile`, at cells of about `cell_m` (a whole
/// number of DEM cells). See the module docs.
pub fn coarse_grid(bundle: &Bundle, profile: &RoverProfile, cell_m: f64) -> Result<CostGrid> {
    let (heights, steepest) = read_levels(bundle, cell_m)?;
    grid_from_heights(&heights, &steepest, bundle, profile)
}

/// Sub-cells of a coarse cell along each side whose slopes are measured for its steepest
/// slope: a scarp narrower than a coarse cell averages away in the cell's heights (a 6 m
/// ridge with 45° flanks reads 15° over 8 m cells) but not in slopes a quarter as coarse.
pub const SLOPE_SUBCELLS: usize = 4;

/// The DEM averaged over coarse cells of about `cell_m` (a whole number of DEM cells), and
/// the steepest slope in each coarse cell measured on cells [`SLOPE_SUBCELLS`] times finer
/// (or the DEM's own). Both reads come from the DEM's overviews when it has them.
fn read_levels(bundle: &Bundle, cell_m: f64) -> Result<(Grid, Vec<f32>)> {
    let dem = &bundle.dem;
    let (dx, dy) = dem.transform().resolution();
    if !(cell_m.is_finite() && cell_m > 0.0) {
        return Err(ToolsError::Argument(format!("coarse cell of {cell_m} m must be positive")));
    }
    let factor = (cell_m / dx.min(dy)).round().max(1.0) as usize;
    let sub = (factor / SLOPE_SUBCELLS).max(1);
    let k = factor / sub;
    let factor = sub * k;
    let (w, h) = dem.size();
    let heights = dem.read_decimated(0, 0, w, h, factor)?;
    let fine = dem.read_decimated(0, 0, w, h, sub)?;
    let fine_slope = horn_slope_deg(&fine);
    let (cw, ch) = (heights.width, heights.height);
    let mut steepest = vec![f32::NAN; cw * ch];
    for r in 0..ch {
        for c in 0..cw {
            let mut m = f32::NEG_INFINITY;
            let mut unknown = false;
            for fr in r * k..((r + 1) * k).min(fine.height) {
                for fc in c * k..((c + 1) * k).min(fine.width) {
                    let v = fine_slope[fr * fine.width + fc];
                    if v.is_nan() {
                        unknown = true;
                    } else {
                        m = m.max(v);
                    }
                }
            }
            if !unknown && m.is_finite() {
                steepest[r * cw + c] = m;
            }
        }
    }
    Ok((heights, steepest))
}

/// The coarse grid over `heights` (see [`coarse_grid`]).
fn grid_from_heights(
    heights: &Grid,
    steepest: &[f32],
    bundle: &Bundle,
    profile: &RoverProfile,
) -> Result<CostGrid> {
    let (w, h) = (heights.width, heights.height);
    let t = heights.transform;
    let (cx, cy) = t.resolution();
    let slope = horn_slope_deg(heights);
    let lim = &profile.limits;
    let costs_w = &profile.costs;
    let tilt_th = lim.max_tilt_deg - costs_w.tilt_margin_deg;
    let area = Area { transform: t, width: w, height: h };
    let buffer = profile.hazard_buffer_m();
    let cell_area = cx * cy;
    let (mut large, mut small) = (Vec::new(), Vec::new());
    for hz in bundle.hazards.iter().filter(|hz| blocks(hz.class)) {
        for p in &hz.shape.0 {
            use geo::Area as _;
            if p.unsigned_area() >= cell_area {
                large.push(p);
            } else {
                small.push(p);
            }
        }
    }
    let mut near_large = vec![f32::INFINITY; w * h];
    distance_to(&area, &large, buffer, &mut near_large);
    // Small hazards (rocks) counted per cell by their centroid: a cell with a few rocks over
    // the step limit is slow going, one with many is a rock field the rover threads at best.
    let mut rocks = vec![0u32; w * h];
    for p in &small {
        use geo::Centroid as _;
        let Some(c) = p.centroid() else { continue };
        let (col, row) = t.to_cell(c.x(), c.y());
        if col >= 0.0 && row >= 0.0 && (col as usize) < w && (row as usize) < h {
            rocks[row as usize * w + col as usize] += 1;
        }
    }
    let mut cost = Vec::with_capacity(w * h);
    let mut why = Vec::with_capacity(w * h);
    for i in 0..w * h {
        let s = slope[i];
        let mut c = costs_w.base_per_m;
        let mut b = None;
        if s.is_nan() {
            b = Some(Constraint::ValidData);
        } else {
            let ratio = (f64::from(s) / lim.max_tilt_deg).clamp(0.0, 2.0);
            c += costs_w.slope_per_m * ratio * ratio;
            if f64::from(steepest[i]) > tilt_th || f64::from(s) > tilt_th {
                b = Some(Constraint::Tilt);
            }
            if steepest[i].is_nan() {
                b = Some(Constraint::ValidData);
            }
        }
        if f64::from(near_large[i]) <= buffer {
            b = b.or(Some(Constraint::Hazards));
        }
        c += costs_w.step_per_m * f64::from(rocks[i].min(ROCK_FIELD));
        if rocks[i] >= ROCK_FIELD {
            b = b.or(Some(Constraint::Step));
        }
        cost.push(c as f32);
        why.push(b);
    }
    let mut grid = CostGrid::from_costs(w, h, t, &cost)?;
    for (i, b) in why.into_iter().enumerate() {
        if let Some(b) = b {
            grid.block(i, b);
        }
    }
    Ok(grid)
}

/// Slope of every cell by Horn's 3x3 method, degrees; NaN where the cell or any neighbour is
/// unknown (edge cells use their own height for the missing neighbours, as `gdaldem -compute_edges`).
fn horn_slope_deg(g: &Grid) -> Vec<f32> {
    let (w, h) = (g.width, g.height);
    let (dx, dy) = g.transform.resolution();
    let at = |c: i64, r: i64| -> f64 {
        let c = c.clamp(0, w as i64 - 1) as usize;
        let r = r.clamp(0, h as i64 - 1) as usize;
        f64::from(g.data[r * w + c])
    };
    let mut out = vec![f32::NAN; w * h];
    for r in 0..h as i64 {
        for c in 0..w as i64 {
            let z = |dc: i64, dr: i64| at(c + dc, r + dr);
            let (a, b, cc) = (z(-1, -1), z(0, -1), z(1, -1));
            let (d, e, f) = (z(-1, 0), z(0, 0), z(1, 0));
            let (gg, hh, ii) = (z(-1, 1), z(0, 1), z(1, 1));
            let dzdx = ((cc + 2.0 * f + ii) - (a + 2.0 * d + gg)) / (8.0 * dx);
            let dzdy = ((gg + 2.0 * hh + ii) - (a + 2.0 * b + cc)) / (8.0 * dy);
            let v = dzdx.hypot(dzdy).atan().to_degrees();
            if v.is_finite() && e.is_finite() {
                out[r as usize * w + c as usize] = v as f32;
            }
        }
    }
    out
}

/// The coarse grid of a whole bundle, built once and searched as often as asked: the
/// strategic route ([`CoarseGrid::route`]) and the routes through a model's waypoints
/// ([`crate::campaign::waypoints::check_corridor`]) search the same cells.
#[derive(Debug, Clone)]
pub struct CoarseGrid {
    grid: CostGrid,
    extent: (f64, f64, f64, f64),
    /// Seconds reading the overviews.
    pub read_s: f64,
    /// Seconds building the grid.
    pub grid_s: f64,
}

impl CoarseGrid {
    /// Reads the DEM's overviews and builds the grid at cells of about `cell_m` (see the
    /// module docs).
    pub fn build(bundle: &Bundle, profile: &RoverProfile, cell_m: f64) -> Result<CoarseGrid> {
        let t0 = Instant::now();
        let (heights, steepest) = read_levels(bundle, cell_m)?;
        let read_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let grid = grid_from_heights(&heights, &steepest, bundle, profile)?;
        Ok(CoarseGrid {
            grid,
            extent: bundle.dem.extent(),
            read_s,
            grid_s: t1.elapsed().as_secs_f64(),
        })
    }

    /// Blocks (`checker`) every cell whose centre lies within a disc of `avoid` (centre,
    /// radius): a detour the fine planner asked for.
    pub fn avoid(&mut self, avoid: &[(Pt, f64)]) {
        let t = Instant::now();
        for &(p, r) in avoid {
            for i in 0..self.grid.len() {
                let c = self.grid.centre(i);
                if (c.0 - p.0).hypot(c.1 - p.1) <= r {
                    self.grid.block(i, Constraint::Checker);
                }
            }
        }
        self.grid_s += t.elapsed().as_secs_f64();
    }

    /// The grid itself.
    #[must_use]
    pub fn grid(&self) -> &CostGrid {
        &self.grid
    }

    /// The DEM's map extent `(xmin, ymin, xmax, ymax)`.
    #[must_use]
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        self.extent
    }

    /// Side of a cell, metres.
    #[must_use]
    pub fn cell_m(&self) -> f64 {
        self.grid.transform().resolution().0
    }

    /// A copy to search from `start` to within `tolerance_m` of `goal`: the rover stands on
    /// the start, and the fine planner judges the ground of the start and the goal, so their
    /// coarse cells (and the goal's disc) are never blocked there. Returns the copy, the start
    /// cell and the goal's target. Errors: off-map ends, or ends on no whole coarse cell.
    pub(crate) fn prepared(
        &self,
        start: Pt,
        goal: Pt,
        tolerance_m: f64,
    ) -> Result<(CostGrid, usize, Target)> {
        for (what, p) in [("start", start), ("goal", goal)] {
            crate::planner::strategic::off_map(what, p, self.extent)?;
        }
        let mut grid = self.grid.clone();
        let (Some(s), Some(g)) = (grid.cell_at(start), grid.cell_at(goal)) else {
            return Err(ToolsError::NoStrategicRoute {
                reason: "the start or the goal lies on no whole coarse cell of the DEM".into(),
                walls: vec![],
            });
        };
        let (bx, by) = grid.transform().resolution();
        let target = Target::disc(&grid, goal, tolerance_m + 0.5 * bx.hypot(by));
        let mut ends = target.cells().to_vec();
        ends.extend([s, g]);
        for c in ends {
            grid.unblock(c, Constraints::all());
        }
        Ok((grid, s, target))
    }

    /// The share of cells of `grid` blocked.
    pub(crate) fn blocked_share(grid: &CostGrid) -> f64 {
        grid.blocked().iter().filter(|b| !b.is_empty()).count() as f64 / grid.len() as f64
    }

    /// The strategic route from `start` to within `tolerance_m` of `goal`. Errors:
    /// [`ToolsError::OffMap`] for a start or goal off the DEM; [`ToolsError::NoStrategicRoute`]
    /// naming where the route is blocked.
    pub fn route(&self, start: Pt, goal: Pt, tolerance_m: f64) -> Result<CoarseRoute> {
        let t2 = Instant::now();
        let (grid, s, target) = self.prepared(start, goal, tolerance_m)?;
        let bx = self.cell_m();
        let Some(found) = astar(&grid, s, &target, Constraints::NONE) else {
            let d = diagnose(&grid, s, &target);
            return Err(ToolsError::NoStrategicRoute {
                reason: format!("at coarse scale ({bx:.0} m cells): {}", d.reason),
                walls: d.walls,
            });
        };
        let mut route = vec![start];
        route.extend(found.path.iter().skip(1).map(|&i| grid.centre(i)));
        if found.path.len() > 1 {
            route.pop();
        }
        route.push(goal);
        route.dedup();
        let length_m = polyline_length(&route);
        Ok(CoarseRoute {
            route,
            length_m,
            cost: found.cost,
            cell_m: bx,
            grid_size: (grid.width(), grid.height()),
            blocked_share: Self::blocked_share(&grid),
            read_s: self.read_s,
            grid_s: self.grid_s,
            search_s: t2.elapsed().as_secs_f64(),
        })
    }
}

/// The strategic route from `start` to within `tolerance_m` of `goal` over `bundle`, on
/// coarse cells of about `cell_m`, avoiding the discs `avoid` (centre, radius): a
/// [`CoarseGrid`] built and searched once. Errors: [`ToolsError::OffMap`] for a start or goal
/// off the DEM; [`ToolsError::NoStrategicRoute`] naming where the route is blocked.
pub fn coarse_route(
    bundle: &Bundle,
    profile: &RoverProfile,
    start: Pt,
    goal: Pt,
    tolerance_m: f64,
    cell_m: f64,
    avoid: &[(Pt, f64)],
) -> Result<CoarseRoute> {
    let extent = bundle.dem.extent();
    for (what, p) in [("start", start), ("goal", goal)] {
        crate::planner::strategic::off_map(what, p, extent)?;
    }
    let mut grid = CoarseGrid::build(bundle, profile, cell_m)?;
    grid.avoid(avoid);
    grid.route(start, goal, tolerance_m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    #[test]
    fn horn_slope_matches_a_plane() {
        // z = 0.1 x on 8 m cells: slope atan(0.1) everywhere, edges included.
        let t = GeoTransform { x0: 0.0, y0: 80.0, dx: 8.0, dy: -8.0 };
        let g = Grid::from_fn(10, 10, t, |x, _| (0.1 * x) as f32);
        let s = horn_slope_deg(&g);
        let want = 0.1f64.atan().to_degrees();
        for (i, v) in s.iter().enumerate() {
            let (c, _) = (i % 10, i / 10);
            if c == 0 || c == 9 {
                continue;
            }
            assert!((f64::from(*v) - want).abs() < 1e-3, "cell {i}: {v} vs {want}");
        }
        let mut holes = g.clone();
        holes.data[55] = f32::NAN;
        let s = horn_slope_deg(&holes);
        assert!(s[55].is_nan() && s[44].is_nan() && s[0].is_finite());
    }
}
