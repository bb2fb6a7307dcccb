//! The cost grid: a traversal cost per metre for every cell of a sol's area, why a cell is
//! off limits, and the 16-connected graph the planner searches on it.
//!
//! # The graph
//!
//! Nodes are cell centres. From every cell there are 16 moves: the 4 orthogonal and 4 diagonal
//! neighbours and the 8 "knight" cells two over and one across. A move is allowed when both
//! ends and every cell the straight line between the centres passes through are feasible (for
//! a diagonal: the two cells beside the shared corner, since the line touches them). Its cost
//! is the line integral of the per-metre cost along it, which for these moves is exactly the
//! move's length times the mean of the cells it crosses (half of it in each end cell for
//! orthogonal and diagonal moves, a quarter in each of the four cells for knight moves); so a
//! route's cost from the search equals [`CostGrid::path_cost`] of the same polyline.
//!
//! Why 16 and not 8: 8-connected routes zigzag at 22.5° off the true direction (up to 8%
//! longer, and every zigzag vertex is a turn in place for the checker); knight moves cut that
//! to about 2.7%.

use super::constraint::{Constraint, Constraints};
use super::heading::Headings;
use crate::checker::Pt;
use crate::error::{Result, ToolsError};
use crate::terrain::GeoTransform;

/// One of the 16 moves: column and row offsets and the cells (relative offsets) the straight
/// line passes through besides its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// Column offset.
    pub dc: i32,
    /// Row offset.
    pub dr: i32,
    /// Cells beside or under the line that must be feasible.
    pub via: [(i32, i32); 2],
    /// Whether the `via` cells carry part of the move's cost (knight moves) or are only
    /// touched at a corner (diagonals). Orthogonal moves have no `via` cells (both entries are
    /// the destination itself).
    pub via_costs: bool,
}

const fn orth(dc: i32, dr: i32) -> Move {
    Move { dc, dr, via: [(dc, dr), (dc, dr)], via_costs: false }
}

const fn diag(dc: i32, dr: i32) -> Move {
    Move { dc, dr, via: [(dc, 0), (0, dr)], via_costs: false }
}

/// A knight move: two along one axis (`long` is that axis' offset) and one across.
const fn knight(dc: i32, dr: i32) -> Move {
    let via =
        if dc == 2 || dc == -2 { [(dc / 2, 0), (dc / 2, dr)] } else { [(0, dr / 2), (dc, dr / 2)] };
    Move { dc, dr, via, via_costs: true }
}

/// The 16 moves, in a fixed order (the search's tie-break).
pub const MOVES: [Move; 16] = [
    orth(1, 0),
    orth(0, 1),
    orth(-1, 0),
    orth(0, -1),
    diag(1, 1),
    diag(-1, 1),
    diag(-1, -1),
    diag(1, -1),
    knight(2, 1),
    knight(1, 2),
    knight(-1, 2),
    knight(-2, 1),
    knight(-2, -1),
    knight(-1, -2),
    knight(1, -2),
    knight(2, -1),
];

/// The cost of a move of `length_m` whose line crosses cells of per-metre costs `cells` in
/// equal parts. Shared by the search and [`CostGrid::move_cost`] so that both compute the same
/// float.
#[must_use]
#[inline]
pub fn move_weight(length_m: f64, cells: &[f32]) -> f64 {
    let sum: f64 = cells.iter().map(|&c| f64::from(c)).sum();
    length_m * sum / cells.len() as f64
}

/// What the cost model measured in one cell (NaN where it did not measure).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellTerrain {
    /// Largest tilt of the rover standing on the cell's centre at any heading, degrees.
    pub tilt_deg: f32,
    /// Largest step under the footprint at any heading on the cell centre, metres.
    pub step_m: f32,
    /// Largest step anywhere within reach of the footprint from the cell, metres (a cost
    /// term only).
    pub step_near_m: f32,
    /// Largest ground height above the wheel plane at any heading, metres.
    pub belly_m: f32,
    /// Distance from the cell centre to the nearest blocking mapped hazard, metres.
    pub hazard_m: f32,
    /// Distance from the cell centre to the nearest keep-out zone, metres.
    pub keep_out_m: f32,
    /// Distance from the cell centre inside the keep-in boundary (negative outside), metres.
    pub keep_in_m: f32,
    /// Whether the cell lies on a mapped hazard the rover may cross (outcrop).
    pub crossable_hazard: bool,
    /// Axes ([`Headings`]) on which the rover standing on the centre keeps within the tilt
    /// threshold (bit set: allowed).
    pub tilt_axes: u8,
    /// Axes on which no step over the threshold is under the footprint.
    pub step_axes: u8,
    /// Axes on which the ground under the body stays within the belly threshold.
    pub belly_axes: u8,
}

impl CellTerrain {
    /// The axes allowed once the constraints in `relaxed` are ignored.
    #[must_use]
    #[inline]
    pub fn axes(&self, relaxed: Constraints) -> u8 {
        let pick = |c: Constraint, m: u8| if relaxed.contains(c) { u8::MAX } else { m };
        pick(Constraint::Tilt, self.tilt_axes)
            & pick(Constraint::Step, self.step_axes)
            & pick(Constraint::Clearance, self.belly_axes)
    }
}

impl Default for CellTerrain {
    fn default() -> Self {
        CellTerrain {
            tilt_deg: f32::NAN,
            step_m: f32::NAN,
            step_near_m: f32::NAN,
            belly_m: f32::NAN,
            hazard_m: f32::INFINITY,
            keep_out_m: f32::INFINITY,
            keep_in_m: f32::INFINITY,
            crossable_hazard: false,
            tilt_axes: u8::MAX,
            step_axes: u8::MAX,
            belly_axes: u8::MAX,
        }
    }
}

/// The thresholds a cost grid was built with, for messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Tilt over which a cell is infeasible (the checker's limit less the planner's margin).
    pub tilt_deg: f64,
    /// Step over which a cell is infeasible.
    pub step_m: f64,
    /// Ground above the wheel plane over which a cell is infeasible.
    pub belly_m: f64,
    /// Clearance a cell centre needs from blocking hazards and keep-out zones (the checker's
    /// buffer plus half a cell diagonal).
    pub zone_m: f64,
    /// Margin a cell centre needs inside the keep-in (half the rover width plus half a cell
    /// diagonal).
    pub keep_in_m: f64,
}

/// A traversal cost per metre for every cell of an area, and why cells are infeasible.
#[derive(Debug, Clone)]
pub struct CostGrid {
    width: usize,
    height: usize,
    transform: GeoTransform,
    /// Per-metre cost; finite and positive everywhere (for an infeasible cell: what it would
    /// cost if allowed, used only when a diagnosis relaxes its constraints).
    cost: Vec<f32>,
    blocked: Vec<Constraints>,
    terrain: Vec<CellTerrain>,
    thresholds: Option<Thresholds>,
    headings: Headings,
}

/// Largest grid accepted, cells (a 16 km square at 1 m; 16 bytes a cell in a search without
/// heading masks).
pub const MAX_CELLS: usize = 1 << 28;

impl CostGrid {
    /// A grid from per-metre costs in row-major order: a finite cost must be positive; an
    /// infinite cost makes the cell infeasible ([`Constraint::Impassable`]). NaN, zero or
    /// negative costs and a wrong length are errors.
    pub fn from_costs(
        width: usize,
        height: usize,
        transform: GeoTransform,
        costs: &[f32],
    ) -> Result<Self> {
        let mut cost = Vec::with_capacity(costs.len());
        let mut blocked = Vec::with_capacity(costs.len());
        for (i, &c) in costs.iter().enumerate() {
            if c == f32::INFINITY {
                cost.push(1.0);
                blocked.push(Constraints::only(Constraint::Impassable));
            } else if c.is_finite() && c > 0.0 {
                cost.push(c);
                blocked.push(Constraints::NONE);
            } else {
                return Err(ToolsError::Argument(format!(
                    "cell {i} has cost {c}; costs must be positive or infinite"
                )));
            }
        }
        Self::from_parts(width, height, transform, cost, blocked, Vec::new(), None)
    }

    /// Assembles a grid (the builder's entry point); checks sizes.
    pub(crate) fn from_parts(
        width: usize,
        height: usize,
        transform: GeoTransform,
        cost: Vec<f32>,
        blocked: Vec<Constraints>,
        terrain: Vec<CellTerrain>,
        thresholds: Option<Thresholds>,
    ) -> Result<Self> {
        let n =
            width.checked_mul(height).filter(|&n| n > 0 && n <= MAX_CELLS).ok_or_else(|| {
                ToolsError::Argument(format!(
                    "cost grid of {width} x {height} cells: must be non-empty and at most \
                 {MAX_CELLS} cells"
                ))
            })?;
        let (dx, dy) = transform.resolution();
        if !(dx.is_finite() && dx > 0.0 && dy.is_finite() && dy > 0.0) {
            return Err(ToolsError::Argument(format!("cost grid cells of {dx} x {dy} m")));
        }
        if cost.len() != n || blocked.len() != n || !(terrain.is_empty() || terrain.len() == n) {
            return Err(ToolsError::Argument(format!(
                "cost grid of {width} x {height} cells needs {n} values, got {}",
                cost.len()
            )));
        }
        let headings = Headings::new(transform);
        Ok(CostGrid { width, height, transform, cost, blocked, terrain, thresholds, headings })
    }

    /// Columns.
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Rows.
    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of cells.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cost.len()
    }

    /// Always false (a grid has at least one cell); for clippy's `len` convention.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cost.is_empty()
    }

    /// Where the grid's cells lie on the map.
    #[must_use]
    pub fn transform(&self) -> GeoTransform {
        self.transform
    }

    /// The thresholds the grid was built with (`None` for a grid given as costs).
    #[must_use]
    pub fn thresholds(&self) -> Option<Thresholds> {
        self.thresholds
    }

    /// Per-metre costs, row-major (finite everywhere; see [`CostGrid::blocked`]).
    #[must_use]
    pub fn costs(&self) -> &[f32] {
        &self.cost
    }

    /// Why each cell is infeasible (empty set: feasible), row-major.
    #[must_use]
    pub fn blocked(&self) -> &[Constraints] {
        &self.blocked
    }

    /// What was measured in each cell (empty for a grid given as costs).
    #[must_use]
    pub fn terrain(&self) -> &[CellTerrain] {
        &self.terrain
    }

    /// Index of cell `(col, row)`, `None` off the grid.
    #[must_use]
    pub fn index(&self, col: i64, row: i64) -> Option<usize> {
        (col >= 0 && row >= 0 && (col as usize) < self.width && (row as usize) < self.height)
            .then(|| row as usize * self.width + col as usize)
    }

    /// `(col, row)` of index `i`.
    #[must_use]
    pub fn col_row(&self, i: usize) -> (usize, usize) {
        (i % self.width, i / self.width)
    }

    /// The cell containing map point `p`, `None` off the grid or for a non-finite point.
    #[must_use]
    pub fn cell_at(&self, p: Pt) -> Option<usize> {
        let (c, r) = self.transform.to_cell(p.0, p.1);
        if !(c.is_finite() && r.is_finite()) || c < 0.0 || r < 0.0 {
            return None;
        }
        self.index(c.floor() as i64, r.floor() as i64)
    }

    /// Map coordinates of cell `i`'s centre.
    #[must_use]
    pub fn centre(&self, i: usize) -> Pt {
        let (c, r) = self.col_row(i);
        self.transform.cell_center(c as i64, r as i64)
    }

    /// Per-metre cost of cell `i`: infinite when it is infeasible.
    #[must_use]
    pub fn cost(&self, i: usize) -> f64 {
        if self.blocked[i].is_empty() {
            f64::from(self.cost[i])
        } else {
            f64::INFINITY
        }
    }

    /// The geometry of the moves on this grid.
    #[must_use]
    pub fn headings(&self) -> &Headings {
        &self.headings
    }

    /// Whether cells carry heading masks (a grid built from terrain does; one given as costs
    /// does not, and every heading is allowed on it).
    #[must_use]
    pub fn has_axes(&self) -> bool {
        !self.terrain.is_empty()
    }

    /// The axes the rover may face on cell `i` once `relaxed` is ignored (all for a grid
    /// without masks).
    #[must_use]
    #[inline]
    pub fn axes(&self, i: usize, relaxed: Constraints) -> u8 {
        self.terrain.get(i).map_or(u8::MAX, |t| t.axes(relaxed))
    }

    /// Whether the cell is feasible once the constraints in `relaxed` are ignored: none of its
    /// constraints remain and the rover may face at least one axis there.
    #[must_use]
    #[inline]
    pub fn passable(&self, i: usize, relaxed: Constraints) -> bool {
        self.blocked[i].without(relaxed).is_empty() && self.axes(i, relaxed) != 0
    }

    /// Every constraint that restricts some cell (whole cells, or some headings on them).
    #[must_use]
    pub fn constraints_present(&self) -> Constraints {
        let mut s = self.blocked.iter().fold(Constraints::NONE, |a, &b| a.union(b));
        for t in &self.terrain {
            for (c, m) in [
                (Constraint::Tilt, t.tilt_axes),
                (Constraint::Step, t.step_axes),
                (Constraint::Clearance, t.belly_axes),
            ] {
                if m != u8::MAX {
                    s.insert(c);
                }
            }
        }
        s
    }

    /// Lowers cell `i`'s recorded distance to the nearest blocking hazard to `d` (for the
    /// planner's diagnosis of why a cell is blocked).
    pub(crate) fn lower_hazard_distance(&mut self, i: usize, d: f32) {
        if let Some(t) = self.terrain.get_mut(i) {
            t.hazard_m = t.hazard_m.min(d);
        }
    }

    /// Marks cell `i` infeasible for `why`.
    pub fn block(&mut self, i: usize, why: Constraint) {
        self.blocked[i].insert(why);
    }

    /// Clears the constraints in `which` from cell `i` (the planner frees the cell the rover
    /// already stands on from what the cost model only suspects there).
    pub fn unblock(&mut self, i: usize, which: Constraints) {
        self.blocked[i] = self.blocked[i].without(which);
        if let Some(t) = self.terrain.get_mut(i) {
            if which.contains(Constraint::Tilt) {
                t.tilt_axes = u8::MAX;
            }
            if which.contains(Constraint::Step) {
                t.step_axes = u8::MAX;
            }
            if which.contains(Constraint::Clearance) {
                t.belly_axes = u8::MAX;
            }
        }
    }

    /// Smallest finite per-metre cost of a feasible cell (the search's heuristic scale), or
    /// `None` when no cell is feasible.
    #[must_use]
    pub fn min_cost(&self, relaxed: Constraints) -> Option<f64> {
        self.cost
            .iter()
            .zip(&self.blocked)
            .filter(|(_, b)| b.without(relaxed).is_empty())
            .map(|(&c, _)| f64::from(c))
            .reduce(f64::min)
    }

    /// Length of move `m`, metres.
    #[must_use]
    pub fn move_length(&self, m: &Move) -> f64 {
        let (dx, dy) = self.transform.resolution();
        (f64::from(m.dc) * dx).hypot(f64::from(m.dr) * dy)
    }

    /// Cost of move `k` (index into [`MOVES`]) from cell `from` with the constraints in
    /// `relaxed` ignored, or `None` when it leaves the grid, touches an infeasible cell, or
    /// leaves or enters a cell along an axis the rover may not face there. The reference
    /// definition of the graph's moves; turns
    /// between moves are the search's business.
    #[must_use]
    pub fn move_cost(&self, from: usize, k: usize, relaxed: Constraints) -> Option<f64> {
        let m = &MOVES[k];
        let bit = 1u8 << self.headings.axis_of[k];
        let (c, r) = self.col_row(from);
        let at = |dc: i32, dr: i32, facing: bool| {
            self.index(c as i64 + i64::from(dc), r as i64 + i64::from(dr)).filter(|&j| {
                self.passable(j, relaxed) && (!facing || self.axes(j, relaxed) & bit != 0)
            })
        };
        if !self.passable(from, relaxed) || self.axes(from, relaxed) & bit == 0 {
            return None;
        }
        let to = at(m.dc, m.dr, true)?;
        let v0 = at(m.via[0].0, m.via[0].1, false)?;
        let v1 = at(m.via[1].0, m.via[1].1, false)?;
        let len = self.move_length(m);
        Some(if m.via_costs {
            move_weight(len, &[self.cost[from], self.cost[v0], self.cost[v1], self.cost[to]])
        } else {
            move_weight(len, &[self.cost[from], self.cost[to]])
        })
    }

    /// A copy with every cell's cost and constraints replaced by `f(i, cost, blocked)` (the
    /// planner's length-only and penalised variants).
    #[must_use]
    pub fn remapped(&self, f: impl Fn(usize, f32, Constraints) -> (f32, Constraints)) -> Self {
        let (cost, blocked) = (0..self.len()).map(|i| f(i, self.cost[i], self.blocked[i])).unzip();
        CostGrid { cost, blocked, ..self.clone() }
    }

    /// A sentence on cell `i`: why it is infeasible, or what its cost is made of.
    #[must_use]
    pub fn reason(&self, i: usize) -> String {
        let b = self.blocked[i];
        let t = self.terrain.get(i).copied().unwrap_or_default();
        let th = self.thresholds;
        if b.is_empty() {
            return match th {
                Some(th) if !self.terrain.is_empty() => {
                    let mut parts = vec![format!("tilt {:.1}°", t.tilt_deg)];
                    if f64::from(t.step_near_m) > 0.5 * th.step_m {
                        parts.push(format!("step {:.2} m nearby", t.step_near_m));
                    }
                    if f64::from(t.belly_m) > 0.5 * th.belly_m {
                        parts.push(format!("{:.2} m under the body", t.belly_m));
                    }
                    if t.crossable_hazard {
                        parts.push("mapped outcrop".into());
                    }
                    parts.join(", ")
                }
                _ => format!("cost {:.3} per metre", self.cost[i]),
            };
        }
        let parts: Vec<String> = b.iter().map(|c| describe_cell(c, &t, th)).collect();
        format!("infeasible: {}", parts.join("; "))
    }
}

/// What constraint `c` means at a cell with measures `t`.
fn describe_cell(c: Constraint, t: &CellTerrain, th: Option<Thresholds>) -> String {
    let Some(th) = th else {
        return c.id().to_owned();
    };
    match c {
        Constraint::Tilt => {
            format!("tilt {:.1}° (planner limit {:.1}°)", t.tilt_deg, th.tilt_deg)
        }
        Constraint::Step => {
            format!("step {:.2} m under the footprint (planner limit {:.2} m)", t.step_m, th.step_m)
        }
        Constraint::Clearance => format!(
            "ground {:.2} m above the wheel plane (planner limit {:.2} m)",
            t.belly_m, th.belly_m
        ),
        Constraint::Hazards => {
            format!("{:.2} m from a mapped hazard (needs {:.2} m)", t.hazard_m.max(0.0), th.zone_m)
        }
        Constraint::KeepOut => format!(
            "{:.2} m from a keep-out zone (needs {:.2} m)",
            t.keep_out_m.max(0.0),
            th.zone_m
        ),
        Constraint::KeepIn => {
            if t.keep_in_m < 0.0 {
                format!("{:.2} m outside the keep-in zone", -t.keep_in_m)
            } else {
                format!(
                    "{:.2} m inside the keep-in boundary (needs {:.2} m)",
                    t.keep_in_m, th.keep_in_m
                )
            }
        }
        Constraint::ValidData => "no DEM data within reach of the footprint".into(),
        Constraint::Checker => "the safety checker refused a route here".into(),
        Constraint::Impassable => "impassable".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> GeoTransform {
        GeoTransform { x0: 0.0, y0: 10.0, dx: 1.0, dy: -1.0 }
    }

    #[test]
    fn knight_moves_cross_the_two_cells_between() {
        let k = knight(2, 1);
        assert_eq!(k.via, [(1, 0), (1, 1)]);
        let k = knight(-1, -2);
        assert_eq!(k.via, [(0, -1), (-1, -1)]);
        for m in MOVES {
            let g = CostGrid::from_costs(1, 1, t(), &[1.0]).unwrap();
            assert!(
                (g.move_length(&m) - f64::from(m.dc * m.dc + m.dr * m.dr).sqrt()).abs() < 1e-12
            );
        }
    }

    #[test]
    fn moves_need_every_crossed_cell() {
        // 3 x 2: the knight move (0,0) -> (2,1) crosses (1,0) and (1,1).
        let inf = f32::INFINITY;
        let g = CostGrid::from_costs(3, 2, t(), &[1.0, 2.0, 1.0, 1.0, 4.0, 1.0]).unwrap();
        let km = MOVES.iter().position(|m| (m.dc, m.dr) == (2, 1)).unwrap();
        let c = g.move_cost(0, km, Constraints::NONE).unwrap();
        assert!((c - 5f64.sqrt() * (1.0 + 2.0 + 4.0 + 1.0) / 4.0).abs() < 1e-12);
        let g = CostGrid::from_costs(3, 2, t(), &[1.0, inf, 1.0, 1.0, 1.0, 1.0]).unwrap();
        assert!(g.move_cost(0, km, Constraints::NONE).is_none());
        assert!(g.move_cost(0, km, Constraints::only(Constraint::Impassable)).is_some());
        // The diagonal (0,0) -> (1,1) touches (1,0), which is infeasible.
        let dm = MOVES.iter().position(|m| (m.dc, m.dr) == (1, 1)).unwrap();
        assert!(g.move_cost(0, dm, Constraints::NONE).is_none());
        assert!(CostGrid::from_costs(2, 1, t(), &[1.0, f32::NAN]).is_err());
        assert!(CostGrid::from_costs(2, 1, t(), &[1.0, 0.0]).is_err());
        assert!(CostGrid::from_costs(2, 2, t(), &[1.0]).is_err());
    }
}
