//! The strategic planner: coarse to fine, for routes of kilometres.
//!
//! A full-resolution search over a kilometre-scale area holds 17 search states for every 1 m
//! cell (the cell and the move that entered it, [`super::search`]): about 900 MB for 4 km².
//! The strategic planner searches a coarse grid first (cells of
//! [`StrategicOptions::coarse_cell_m`], 8 m by default, 64 times fewer cells and no heading
//! states), then runs the same 1 m search ([`astar_within`]) only in a corridor of fine cells
//! around the coarse route, widened and retried when the corridor holds no route.
//!
//! # The coarse grid ([`aggregate`])
//!
//! Each coarse cell covers a block of `k x k` fine cells (`k` = coarse cell / fine cell). Two
//! coarse graphs are made from the fine cost grid:
//!
//! - **Conservative** (the guide). A block is blocked unless one 4-connected
//!   component of its feasible fine cells touches all four sides of the block: the coarse
//!   graph moves from block to block through their sides, so a block whose usable ground does
//!   not join its sides cannot be crossed whatever direction the coarse route takes through
//!   it. 4-connectivity is the strict reading of the fine graph (a fine diagonal or knight
//!   move also needs the cells beside it feasible, so it never slips between two blocked
//!   cells that touch at a corner). Its per-metre cost is the mean of the block's feasible
//!   fine costs times `1 + blocked fraction` ([`CoarseCost::Mean`]; the fine route through a
//!   partly blocked block pays a detour), or the largest feasible fine cost
//!   ([`CoarseCost::Max`], at least every fine cell's). The mean is the default: with the
//!   maximum one rough cell prices the whole block, and the coarse route then leaves good
//!   ground for a rock, which the corridor cannot undo.
//! - **Optimistic** (the judge of "unreachable", and the finder of narrow passes). A block is blocked only
//!   when none of its fine cells is feasible. Every fine route visits a chain of blocks, each
//!   with a feasible cell, consecutive ones adjacent (a fine move spans at most two cells, so
//!   at most one block boundary per axis, with its side cells feasible): so the optimistic
//!   coarse graph has a route whenever the fine graph does, and "no optimistic coarse route"
//!   proves "no fine route". Its refusal names where the route is blocked with
//!   [`super::diagnose`] on the coarse grid.
//!
//! Both graphs are searched (a coarse search is cheap: 64 times fewer cells, one state a
//! cell). The blocks of the start and the goal are never blocked on the conservative graph
//! (the fine search judges them).
//!
//! # Refinement
//!
//! The fine search runs on the full-resolution cost grid, in the region of fine cells whose
//! block lies within `corridor_m` (in whole blocks) of a block of either coarse route. Because it
//! is the planner's own search on the full-resolution grid, the refined route only ever uses
//! cells and moves the full-resolution cost model allows (tested, not assumed). Each failed
//! corridor is doubled, up to [`StrategicOptions::widenings`] times; then the whole grid is
//! searched when it has at most [`StrategicOptions::max_whole_cells`] cells. A route is always
//! found or refused in a bounded number of searches.
//!
//! # The seam for overviews
//!
//! [`plan_strategic_on_grids`] takes the coarse grid as a [`CoarseGrid`] and maps fine cells to
//! coarse ones through map coordinates, not block indices: a coarse grid built by
//! [`crate::cost::build_cost_grid`] from a decimated read of the DEM (GDAL's `read_as` with a
//! smaller buffer, which uses a COG's overviews) plugs in there without aggregating a fine
//! grid. Such a grid measures terrain at its own resolution (a rock smaller than a coarse cell
//! is invisible to it), so it is a guide, not conservative; the fine search still decides
//! what is feasible. Today [`plan_strategic`] builds the fine grid over the whole mission area
//! and aggregates it; building the fine grid only over the corridor is what a 67 km² site
//! needs.

use std::time::Instant;

use serde::Serialize;

use super::diagnose::diagnose;
use super::route::dense_polyline;
use super::search::{astar, astar_within, Region, Target, ALL_MOVES};
use crate::checker::{ElevationSource, Mission, Pt};
use crate::cost::{build_cost_grid, Constraint, Constraints, CostGrid};
use crate::error::{Result, ToolsError};
use crate::geometry::polyline_length;
use crate::perception::classify::filters::square_extreme;
use crate::terrain::{GeoTransform, Hazard, RoverProfile};

/// How a coarse cell's per-metre cost is made from its fine cells' (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CoarseCost {
    /// Mean of the feasible fine costs times `1 + blocked fraction`.
    Mean,
    /// The largest feasible fine cost.
    Max,
}

/// Knobs of the strategic planner.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategicOptions {
    /// Side of a coarse cell, metres (rounded to a whole number of fine cells, at least 2).
    pub coarse_cell_m: f64,
    /// Half-width of the first corridor around the coarse route, metres (rounded up to whole
    /// coarse cells).
    pub corridor_m: f64,
    /// Times a corridor that holds no route is doubled before the whole grid is searched.
    pub widenings: usize,
    /// Largest fine grid searched whole when every corridor failed, cells (beyond it the
    /// planner refuses instead).
    pub max_whole_cells: usize,
    /// How coarse costs are aggregated.
    pub coarse_cost: CoarseCost,
}

impl Default for StrategicOptions {
    fn default() -> Self {
        StrategicOptions {
            coarse_cell_m: 8.0,
            corridor_m: 24.0,
            widenings: 4,
            max_whole_cells: 1 << 20,
            coarse_cost: CoarseCost::Mean,
        }
    }
}

/// The coarse level: the conservative grid and, when made by aggregation, the
/// optimistic one (see the module docs).
#[derive(Debug, Clone)]
pub struct CoarseGrid {
    /// The guide.
    pub conservative: CostGrid,
    /// Same geometry; its refusal is the planner's (without it, the conservative grid's is).
    pub optimistic: Option<CostGrid>,
}

/// Which coarse graph a coarse route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CoarseGraph {
    /// The conservative graph had a route.
    Conservative,
    /// Only the optimistic graph had one.
    Optimistic,
}

/// Wall-clock times of one strategic plan, seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StrategicTimings {
    /// Building the full-resolution cost grid (0 when it was given).
    pub fine_grid_s: f64,
    /// Aggregating the coarse grids (0 when given).
    pub coarse_grid_s: f64,
    /// The coarse searches.
    pub coarse_search_s: f64,
    /// The corridor searches (and the whole-grid one, if it came to that).
    pub refine_s: f64,
    /// Everything.
    pub total_s: f64,
}

/// Numbers about one strategic plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StrategicStats {
    /// Cells of the fine grid.
    pub fine_cells: usize,
    /// Cells of the coarse grid.
    pub coarse_cells: usize,
    /// Coarse cells expanded.
    pub coarse_expanded: usize,
    /// Fine searches run (corridors, then the whole grid).
    pub fine_searches: usize,
    /// Cells of the corridor that held the route (the grid's when searched whole).
    pub corridor_cells: usize,
    /// Fine cells expanded over all fine searches.
    pub fine_expanded: usize,
}

/// A strategic route.
#[derive(Debug, Clone)]
pub struct StrategicRoute {
    /// The route, map metres: the exact start, then fine cell centres (straight runs merged).
    pub route: Vec<Pt>,
    /// The fine cells of the route, indices into the full-resolution grid.
    pub cells: Vec<usize>,
    /// Its cost under the full-resolution cost model (the sum of its moves' costs, as
    /// [`CostGrid::path_cost`] of the cell centres).
    pub cost: f64,
    /// Length of `route`, metres.
    pub length_m: f64,
    /// The coarse route that guided it: coarse cell centres, map metres.
    pub coarse_path: Vec<Pt>,
    /// Cost of the coarse route on the coarse grid.
    pub coarse_cost: f64,
    /// Which coarse graph `coarse_path` came from (the corridor also followed the
    /// optimistic route when both had one).
    pub coarse_graph: CoarseGraph,
    /// Half-width of the corridor that held the route, metres (infinite: the whole grid).
    pub corridor_m: f64,
    /// How it was found.
    pub stats: StrategicStats,
    /// How long it took.
    pub timings: StrategicTimings,
}

/// Plans a strategic route for `mission` (start, goal and tolerance, keep-in and keep-outs;
/// its drive budget bounds the area searched, as for every cost grid: [`crate::cost::mission_area`])
/// over `source` with the site's `hazards` for `profile`: builds the full-resolution cost grid,
/// aggregates it ([`aggregate`]) and plans on both ([`plan_strategic_on_grids`]).
pub fn plan_strategic(
    source: &dyn ElevationSource,
    hazards: &[Hazard],
    profile: &RoverProfile,
    mission: &Mission,
    opts: &StrategicOptions,
) -> Result<StrategicRoute> {
    let t0 = Instant::now();
    let t = source.transform();
    let (w, h) = source.size();
    let extent = {
        let (xa, ya) = t.cell_center(0, 0);
        let (xb, yb) = t.cell_center(w as i64 - 1, h as i64 - 1);
        let (hx, hy) = (0.5 * t.dx.abs(), 0.5 * t.dy.abs());
        (xa.min(xb) - hx, ya.min(yb) - hy, xa.max(xb) + hx, ya.max(yb) + hy)
    };
    for (what, p) in [("start", mission.start), ("goal", mission.goal)] {
        off_map(what, p, extent)?;
    }
    let fine = build_cost_grid(source, hazards, mission, profile)?;
    let fine_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let coarse = aggregate(&fine, opts.coarse_cell_m, opts.coarse_cost)?;
    let coarse_s = t1.elapsed().as_secs_f64();
    let mut route = plan_strategic_on_grids(
        &fine,
        &coarse,
        mission.start,
        mission.goal,
        mission.goal_tolerance_m,
        opts,
    )?;
    route.timings.fine_grid_s = fine_s;
    route.timings.coarse_grid_s = coarse_s;
    route.timings.total_s = t0.elapsed().as_secs_f64();
    Ok(route)
}

/// An error when `p` lies outside `extent` `(xmin, ymin, xmax, ymax)`.
pub(crate) fn off_map(what: &str, p: Pt, extent: (f64, f64, f64, f64)) -> Result<()> {
    let inside = p.0.is_finite()
        && p.1.is_finite()
        && p.0 >= extent.0
        && p.0 <= extent.2
        && p.1 >= extent.1
        && p.1 <= extent.3;
    if inside {
        Ok(())
    } else {
        Err(ToolsError::OffMap { what: what.to_owned(), x: p.0, y: p.1, extent })
    }
}

/// The map extent of a grid `(xmin, ymin, xmax, ymax)`.
fn grid_extent(g: &CostGrid) -> (f64, f64, f64, f64) {
    let t = g.transform();
    let (xa, ya) = (t.x0, t.y0);
    let (xb, yb) = (t.x0 + t.dx * g.width() as f64, t.y0 + t.dy * g.height() as f64);
    (xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb))
}

/// What one block of fine cells holds.
struct Block {
    feasible: usize,
    total: usize,
    sum: f64,
    max: f32,
    /// Constraints of its blocked cells.
    walls: Constraints,
    /// Whether one 4-connected component of feasible cells touches all four sides.
    spans: bool,
}

/// Measures the block of fine cells `[c0, c1) x [r0, r1)`; `feasible` says which fine cells
/// the fine search could enter at all.
fn block(fine: &CostGrid, feasible: &[bool], c0: usize, r0: usize, c1: usize, r1: usize) -> Block {
    let w = fine.width();
    let (bw, bh) = (c1 - c0, r1 - r0);
    let mut b = Block {
        feasible: 0,
        total: bw * bh,
        sum: 0.0,
        max: 0.0,
        walls: Constraints::NONE,
        spans: false,
    };
    for r in r0..r1 {
        for c in c0..c1 {
            let i = r * w + c;
            if feasible[i] {
                b.feasible += 1;
                let v = fine.costs()[i];
                b.sum += f64::from(v);
                b.max = b.max.max(v);
            } else {
                b.walls = b.walls.union(fine.blocked()[i]);
            }
        }
    }
    if b.feasible == b.total {
        b.spans = true;
        return b;
    }
    // Components of the feasible cells, and the sides each touches.
    let mut seen = vec![false; bw * bh];
    let mut stack = Vec::new();
    for s in 0..bw * bh {
        if seen[s] || !feasible[(r0 + s / bw) * w + c0 + s % bw] {
            continue;
        }
        seen[s] = true;
        stack.push(s);
        let mut sides = 0u8;
        while let Some(q) = stack.pop() {
            let (x, y) = (q % bw, q / bw);
            sides |= u8::from(x == 0)
                | u8::from(x + 1 == bw) << 1
                | u8::from(y == 0) << 2
                | u8::from(y + 1 == bh) << 3;
            let mut visit = |nx: usize, ny: usize| {
                let n = ny * bw + nx;
                if !seen[n] && feasible[(r0 + ny) * w + c0 + nx] {
                    seen[n] = true;
                    stack.push(n);
                }
            };
            if x > 0 {
                visit(x - 1, y);
            }
            if x + 1 < bw {
                visit(x + 1, y);
            }
            if y > 0 {
                visit(x, y - 1);
            }
            if y + 1 < bh {
                visit(x, y + 1);
            }
        }
        if sides == 0b1111 {
            b.spans = true;
            return b;
        }
    }
    b
}

/// The coarse grids of `fine` at cells of about `cell_m` metres (see the module docs for how
/// costs and blocks are aggregated and why the conservative grid is conservative).
pub fn aggregate(fine: &CostGrid, cell_m: f64, how: CoarseCost) -> Result<CoarseGrid> {
    let t = fine.transform();
    let (dx, dy) = t.resolution();
    if !(cell_m.is_finite() && cell_m > 0.0) {
        return Err(ToolsError::Argument(format!("coarse cell of {cell_m} m")));
    }
    let k = ((cell_m / dx.max(dy)).round() as usize).max(2);
    let (w, h) = (fine.width(), fine.height());
    let (cw, ch) = (w.div_ceil(k), h.div_ceil(k));
    let feasible: Vec<bool> = (0..fine.len())
        .map(|i| fine.blocked()[i].is_empty() && fine.axes(i, Constraints::NONE) != 0)
        .collect();
    let n = cw * ch;
    let (mut cons_cost, mut cons_blocked) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut opt_cost, mut opt_blocked) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for br in 0..ch {
        for bc in 0..cw {
            let (c0, r0) = (bc * k, br * k);
            let b = block(fine, &feasible, c0, r0, (c0 + k).min(w), (r0 + k).min(h));
            let mean = if b.feasible > 0 { b.sum / b.feasible as f64 } else { 1.0 };
            let blocked_frac = 1.0 - b.feasible as f64 / b.total as f64;
            let cost = match how {
                CoarseCost::Mean => mean * (1.0 + blocked_frac),
                CoarseCost::Max => {
                    if b.feasible > 0 {
                        f64::from(b.max)
                    } else {
                        1.0
                    }
                }
            };
            // A block with no wall recorded yet unusable (heading masks empty everywhere)
            // still needs a reason.
            let walls =
                if b.walls.is_empty() { Constraints::only(Constraint::Tilt) } else { b.walls };
            cons_cost.push(cost as f32);
            cons_blocked.push(if b.spans { Constraints::NONE } else { walls });
            opt_cost.push(mean as f32);
            opt_blocked.push(if b.feasible > 0 { Constraints::NONE } else { walls });
        }
    }
    let ct = GeoTransform { x0: t.x0, y0: t.y0, dx: t.dx * k as f64, dy: t.dy * k as f64 };
    let th = fine.thresholds();
    let conservative = CostGrid::from_parts(cw, ch, ct, cons_cost, cons_blocked, Vec::new(), th)?;
    let optimistic = CostGrid::from_parts(cw, ch, ct, opt_cost, opt_blocked, Vec::new(), th)?;
    Ok(CoarseGrid { conservative, optimistic: Some(optimistic) })
}

/// Plans from `start` to within `tolerance_m` of `goal` on the full-resolution grid `fine`,
/// guided by `coarse` (see the module docs). The start cell must be feasible on `fine` (the
/// per-sol planner, not this one, judges a rover already standing on difficult ground); the
/// rover's start heading is not constrained (each sol's plan turns it).
///
/// Errors: [`ToolsError::OffMap`] for a start or goal off the fine grid,
/// [`ToolsError::NoStrategicRoute`] naming where the route is blocked when none exists.
pub fn plan_strategic_on_grids(
    fine: &CostGrid,
    coarse: &CoarseGrid,
    start: Pt,
    goal: Pt,
    tolerance_m: f64,
    opts: &StrategicOptions,
) -> Result<StrategicRoute> {
    let t0 = Instant::now();
    let extent = grid_extent(fine);
    off_map("start", start, extent)?;
    off_map("goal", goal, extent)?;
    let refuse = |reason: String, walls: Vec<Constraint>| {
        Err(ToolsError::NoStrategicRoute { reason, walls })
    };
    let (Some(s), Some(_)) = (fine.cell_at(start), fine.cell_at(goal)) else {
        return refuse("the start or the goal lies on no cell of the planning area".into(), vec![]);
    };
    if !fine.passable(s, Constraints::NONE) || fine.axes(s, Constraints::NONE) == 0 {
        let walls = fine.blocked()[s].iter().collect();
        return refuse(format!("the start cell itself is {}", fine.reason(s)), walls);
    }
    let target = Target::disc(fine, goal, tolerance_m);
    let mut stats = StrategicStats {
        fine_cells: fine.len(),
        coarse_cells: coarse.conservative.len(),
        ..StrategicStats::default()
    };

    // The coarse routes: on the conservative graph, and on the optimistic one, which also
    // judges "unreachable" (see the module docs). The corridor follows both: the
    // conservative route is the one most likely to hold a fine route, the optimistic one
    // finds the narrow passes the conservative graph closes (on a 300 m site a pass it
    // closed cost the refined route 5%).
    let tc = Instant::now();
    if let Some(o) = &coarse.optimistic {
        if (o.width(), o.height(), o.transform())
            != (
                coarse.conservative.width(),
                coarse.conservative.height(),
                coarse.conservative.transform(),
            )
        {
            return Err(ToolsError::Argument(
                "the conservative and optimistic coarse grids differ in geometry".into(),
            ));
        }
    }
    let mut routes = Vec::new();
    let mut refusal = None;
    for (which, grid) in [
        (CoarseGraph::Conservative, Some(&coarse.conservative)),
        (CoarseGraph::Optimistic, coarse.optimistic.as_ref()),
    ] {
        let Some(grid) = grid else { continue };
        let mut g = grid.clone();
        let (Some(cs), Some(cg)) = (g.cell_at(start), g.cell_at(goal)) else {
            return refuse("the coarse grid does not cover the start and the goal".into(), vec![]);
        };
        // Every block holding a point within the tolerance of the goal (its centre is within
        // the tolerance plus half a block diagonal), so a fine target cell is never in a
        // block the coarse search cannot end on.
        let (bx, by) = g.transform().resolution();
        let ctarget = Target::disc(&g, goal, tolerance_m + 0.5 * bx.hypot(by));
        if which == CoarseGraph::Conservative {
            let mut cells = ctarget.cells().to_vec();
            cells.extend([cs, cg]);
            for c in cells {
                g.unblock(c, Constraints::all());
            }
        }
        if let Some(r) = astar(&g, cs, &ctarget, Constraints::NONE) {
            stats.coarse_expanded += r.expanded;
            routes.push((which, r));
        } else {
            // On the optimistic graph this proves there is no fine route; its refusal
            // replaces the conservative graph's.
            let d = diagnose(&g, cs, &ctarget);
            refusal = Some((format!("at coarse scale: {}", d.reason), d.walls));
        }
    }
    let Some((graph, croute)) = routes.first().cloned() else {
        let (reason, walls) = refusal.unwrap_or_else(|| ("no coarse grid".into(), vec![]));
        return refuse(reason, walls);
    };
    let cgrid = &coarse.conservative;
    let coarse_search_s = tc.elapsed().as_secs_f64();

    // Refinement in widening corridors.
    let tr = Instant::now();
    let (cw, ch) = (cgrid.width(), cgrid.height());
    let on_path = {
        let mut m = vec![false; cgrid.len()];
        for (_, r) in &routes {
            for &i in &r.path {
                m[i] = true;
            }
        }
        m
    };
    let cell_m = cgrid.transform().resolution().0.min(cgrid.transform().resolution().1);
    let mut rad = (opts.corridor_m / cell_m).ceil().max(1.0) as usize;
    let ct = cgrid.transform();
    let ft = fine.transform();
    // The coarse cell of every fine column and row (through map coordinates: see the seam).
    let coarse_col: Vec<i64> = (0..fine.width())
        .map(|c| ct.to_cell(ft.cell_center(c as i64, 0).0, ct.y0).0.floor() as i64)
        .collect();
    let coarse_row: Vec<i64> = (0..fine.height())
        .map(|r| ct.to_cell(ct.x0, ft.cell_center(0, r as i64).1).1.floor() as i64)
        .collect();
    let mut result = None;
    for attempt in 0..=opts.widenings {
        let near = dilate(&on_path, cw, rad);
        let inside = |c: usize, r: usize| {
            let (cc, cr) = (coarse_col[c], coarse_row[r]);
            cc >= 0
                && cr >= 0
                && (cc as usize) < cw
                && (cr as usize) < ch
                && near[cr as usize * cw + cc as usize]
        };
        let Some(region) = Region::from_fn(fine, inside) else { break };
        stats.fine_searches += 1;
        let r = astar_within(fine, s, ALL_MOVES, &target, Constraints::NONE, &region);
        if let Some(r) = r {
            stats.fine_expanded += r.expanded;
            stats.corridor_cells = region.count();
            result = Some((r, rad as f64 * cell_m));
            break;
        }
        let whole = rad >= cw.max(ch);
        if whole || attempt == opts.widenings {
            break;
        }
        rad *= 2;
    }
    if result.is_none() {
        if fine.len() > opts.max_whole_cells {
            return refuse(
                format!(
                    "no route within {:.0} m of the coarse route, and the area ({} cells) is too \
                     large to search whole",
                    rad as f64 * cell_m,
                    fine.len()
                ),
                vec![],
            );
        }
        stats.fine_searches += 1;
        let Some(r) = astar(fine, s, &target, Constraints::NONE) else {
            let d = diagnose(fine, s, &target);
            return refuse(d.reason, d.walls);
        };
        stats.fine_expanded += r.expanded;
        stats.corridor_cells = fine.len();
        result = Some((r, f64::INFINITY));
    }
    let Some((r, corridor_m)) = result else { unreachable!("set above or returned") };
    let refine_s = tr.elapsed().as_secs_f64();
    let route = dense_polyline(fine, &r.path, start, f64::INFINITY);
    let length_m = polyline_length(&route);
    Ok(StrategicRoute {
        route,
        cells: r.path,
        cost: r.cost,
        length_m,
        coarse_path: croute.path.iter().map(|&i| cgrid.centre(i)).collect(),
        coarse_cost: croute.cost,
        coarse_graph: graph,
        corridor_m,
        stats,
        timings: StrategicTimings {
            coarse_search_s,
            refine_s,
            total_s: t0.elapsed().as_secs_f64(),
            ..StrategicTimings::default()
        },
    })
}

/// `mask` (a `w`-wide grid) dilated by `rad` cells (Chebyshev distance): the maximum over the
/// `(2 rad + 1)²` square, by the classifier's running-window filter.
fn dilate(mask: &[bool], w: usize, rad: usize) -> Vec<bool> {
    let values: Vec<f32> = mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect();
    square_extreme(&values, w, rad, true).into_iter().map(|v| v > 0.5).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(w: usize, h: usize, costs: &[f32]) -> CostGrid {
        let t = GeoTransform { x0: 0.0, y0: h as f64, dx: 1.0, dy: -1.0 };
        CostGrid::from_costs(w, h, t, costs).unwrap()
    }

    /// Rolling costs with walls that leave gaps: a grid where the coarse route matters.
    fn terrain(n: usize) -> CostGrid {
        let mut c = Vec::with_capacity(n * n);
        for r in 0..n {
            for col in 0..n {
                let (x, y) = (col as f64, r as f64);
                let v = 1.0 + 0.5 * ((x / 13.0).sin() * (y / 17.0).cos() + 1.0);
                // Walls across the map every 40 columns, each with a gap somewhere else.
                let gap = (col * 7) % (n - 12);
                let wall = col % 40 == 20 && !(gap..gap + 6).contains(&r);
                c.push(if wall { f32::INFINITY } else { v as f32 });
            }
        }
        grid(n, n, &c)
    }

    #[test]
    fn dilation_is_chebyshev() {
        let mut m = vec![false; 49];
        m[3 * 7 + 3] = true;
        let d = dilate(&m, 7, 2);
        for r in 0..7 {
            for c in 0..7 {
                assert_eq!(d[r * 7 + c], c.abs_diff(3) <= 2 && r.abs_diff(3) <= 2, "{c} {r}");
            }
        }
    }

    #[test]
    fn a_block_spans_only_when_one_component_touches_every_side() {
        let inf = f32::INFINITY;
        // A wall across the middle row of a 4 x 4 block: two components, neither spans.
        let mut c = vec![1.0; 16];
        for x in 0..4 {
            c[2 * 4 + x] = inf;
        }
        let g = grid(4, 4, &c);
        let f: Vec<bool> = g.blocked().iter().map(|b| b.is_empty()).collect();
        assert!(!block(&g, &f, 0, 0, 4, 4).spans);
        // A rock in the middle: the ring around it spans.
        let mut c = vec![1.0; 16];
        c[5] = inf;
        c[6] = inf;
        let g = grid(4, 4, &c);
        let f: Vec<bool> = g.blocked().iter().map(|b| b.is_empty()).collect();
        let b = block(&g, &f, 0, 0, 4, 4);
        assert!(b.spans && b.feasible == 14 && b.walls.contains(Constraint::Impassable));
    }

    #[test]
    fn the_refined_route_is_near_the_optimum_and_on_feasible_cells() {
        let g = terrain(240);
        let coarse = aggregate(&g, 8.0, CoarseCost::Mean).unwrap();
        for (s, e) in [((3.5, 236.5), (236.5, 3.5)), ((3.5, 3.5), (200.5, 230.5))] {
            let r = plan_strategic_on_grids(&g, &coarse, s, e, 0.5, &StrategicOptions::default())
                .unwrap();
            let start = g.cell_at(s).unwrap();
            let full = astar(&g, start, &Target::disc(&g, e, 0.5), Constraints::NONE).unwrap();
            assert!(
                r.cost >= full.cost - 1e-9 && r.cost <= 1.05 * full.cost,
                "{} vs {}",
                r.cost,
                full.cost
            );
            assert!(r.cells.iter().all(|&i| g.passable(i, Constraints::NONE)));
            assert!(r.stats.corridor_cells < g.len());
        }
    }

    #[test]
    fn a_coarse_grid_made_elsewhere_plugs_in_through_map_coordinates() {
        // The seam for overviews: a coarse grid of 6 m cells whose origin is not a fine cell
        // corner, knowing nothing of the walls (as a decimated read would miss thin ones).
        let g = terrain(240);
        let t = GeoTransform { x0: -3.0, y0: 245.0, dx: 6.0, dy: -6.0 };
        let c = CostGrid::from_costs(42, 42, t, &[1.0; 42 * 42]).unwrap();
        let coarse = CoarseGrid { conservative: c, optimistic: None };
        let (s, e) = ((3.5, 236.5), (236.5, 3.5));
        let r =
            plan_strategic_on_grids(&g, &coarse, s, e, 0.5, &StrategicOptions::default()).unwrap();
        let best =
            astar(&g, g.cell_at(s).unwrap(), &Target::disc(&g, e, 0.5), Constraints::NONE).unwrap();
        assert!(r.cost >= best.cost - 1e-9 && r.cost <= 1.05 * best.cost, "{}", r.cost);
        assert!(r.cells.iter().all(|&i| g.passable(i, Constraints::NONE)));
        assert_eq!(r.coarse_graph, CoarseGraph::Conservative);
    }

    #[test]
    fn a_walled_goal_is_refused_at_coarse_scale_and_off_map_is_named() {
        let n = 64;
        let mut c = vec![1.0f32; n * n];
        for r in 20..44 {
            for col in 20..44 {
                if r == 20 || r == 43 || col == 20 || col == 43 {
                    c[r * n + col] = f32::INFINITY;
                }
            }
        }
        let g = grid(n, n, &c);
        let coarse = aggregate(&g, 8.0, CoarseCost::Mean).unwrap();
        let o = StrategicOptions::default();
        let e =
            plan_strategic_on_grids(&g, &coarse, (2.5, 2.5), (32.5, 32.5), 0.5, &o).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ToolsError::NoStrategicRoute { .. }), "{msg}");
        assert!(msg.contains("impassable"), "{msg}");
        let e =
            plan_strategic_on_grids(&g, &coarse, (2.5, 2.5), (99.0, 32.5), 0.5, &o).unwrap_err();
        assert!(matches!(e, ToolsError::OffMap { .. }), "{e}");
        assert!(e.to_string().contains("goal (99.0, 32.5)"), "{e}");
    }
}
