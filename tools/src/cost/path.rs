//! The cost of any polyline under the cost model: the line integral of the per-metre cost,
//! walked exactly cell by cell (every cell the line passes through, with the length inside
//! it), and a per-segment breakdown naming the worst cell. The model-facing `path_cost` tool
//! wraps [`CostGrid::path_cost`].

use serde::Serialize;

use super::grid::CostGrid;
use crate::checker::Pt;
use crate::error::{Result, ToolsError};

/// A polyline crossing more cells than this is refused (a 100 km line at 1 m).
pub const MAX_CELLS_CROSSED: f64 = 1.0e6;

/// The worst cell a segment crosses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorstCell {
    /// Map x of the cell centre (of the point where the line leaves the grid, off it).
    pub x: f64,
    /// Map y of the cell centre.
    pub y: f64,
    /// Per-metre cost there (`null` in JSON when infeasible).
    pub cost_per_m: f64,
    /// Why it costs what it costs, or why it is infeasible.
    pub reason: String,
}

/// The cost of one segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentCost {
    /// Segment index (waypoint `i` to `i + 1`).
    pub index: usize,
    /// Cost (infinite, `null` in JSON, when it crosses an infeasible cell or leaves the grid).
    pub cost: f64,
    /// Length, metres.
    pub length_m: f64,
    /// Whether every cell it crosses is feasible.
    pub feasible: bool,
    /// The highest-cost cell it crosses (the first one on a tie).
    pub worst: Option<WorstCell>,
}

/// The cost of a polyline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathCost {
    /// Sum of the segments' costs (infinite, `null` in JSON, if any segment is infeasible).
    pub total_cost: f64,
    /// Length, metres.
    pub length_m: f64,
    /// Whether every segment is feasible.
    pub feasible: bool,
    /// One entry per segment.
    pub segments: Vec<SegmentCost>,
}

impl CostGrid {
    /// Visits every cell the segment `a -> b` passes through, in order, with the length of the
    /// segment inside it (metres; 0 for a cell only touched at a corner, which is visited all
    /// the same: the search's diagonal moves need those cells too). Cells off the grid come as
    /// `None`. The segment must be finite and cross at most [`MAX_CELLS_CROSSED`] cells.
    pub fn traverse(&self, a: Pt, b: Pt, mut visit: impl FnMut(Option<usize>, f64)) -> Result<()> {
        let t = self.transform();
        let (u0, v0) = t.to_cell(a.0, a.1);
        let (u1, v1) = t.to_cell(b.0, b.1);
        let (du, dv) = (u1 - u0, v1 - v0);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if ![u0, v0, u1, v1, len].iter().all(|v| v.is_finite()) {
            return Err(ToolsError::Argument(format!(
                "segment ({}, {}) -> ({}, {}) is not finite",
                a.0, a.1, b.0, b.1
            )));
        }
        if du.abs() + dv.abs() > MAX_CELLS_CROSSED {
            return Err(ToolsError::Argument(format!(
                "segment of {len:.0} m crosses more than {MAX_CELLS_CROSSED} cells"
            )));
        }
        let (mut c, mut r) = (u0.floor() as i64, v0.floor() as i64);
        let (end_c, end_r) = (u1.floor() as i64, v1.floor() as i64);
        let axis = |p0: f64, d: f64| -> (i64, f64, f64) {
            if d > 0.0 {
                (1, (p0.floor() + 1.0 - p0) / d, 1.0 / d)
            } else if d < 0.0 {
                (-1, (p0 - p0.floor()) / -d, 1.0 / -d)
            } else {
                (0, f64::INFINITY, f64::INFINITY)
            }
        };
        let (sc, mut tc, dtc) = axis(u0, du);
        let (sr, mut tr, dtr) = axis(v0, dv);
        let mut t_at = 0.0;
        let max_steps = (du.abs() + dv.abs()) as usize + 4;
        for _ in 0..max_steps {
            let next = tc.min(tr).min(1.0);
            visit(self.index(c, r), (next - t_at).max(0.0) * len);
            t_at = next;
            if next >= 1.0 || (c == end_c && r == end_r) {
                break;
            }
            if tc < tr {
                c += sc;
                tc += dtc;
            } else if tr < tc {
                r += sr;
                tr += dtr;
            } else {
                // Through a corner: both side cells are touched.
                visit(self.index(c + sc, r), 0.0);
                visit(self.index(c, r + sr), 0.0);
                c += sc;
                r += sr;
                tc += dtc;
                tr += dtr;
            }
        }
        Ok(())
    }

    /// The cost of segment `a -> b` (see [`CostGrid::path_cost`]).
    pub fn segment_cost(&self, index: usize, a: Pt, b: Pt) -> Result<SegmentCost> {
        let length_m = (b.0 - a.0).hypot(b.1 - a.1);
        let mut cost = 0.0;
        let mut worst: Option<(f64, Option<usize>)> = None;
        let mut off_at: Option<f64> = None;
        let mut along = 0.0;
        self.traverse(a, b, |cell, piece| {
            let c = cell.map_or(f64::INFINITY, |i| self.cost(i));
            if cell.is_none() && off_at.is_none() {
                off_at = Some(along);
            }
            along += piece;
            cost += if piece > 0.0 {
                c * piece
            } else if c.is_infinite() {
                f64::INFINITY
            } else {
                0.0
            };
            if worst.is_none_or(|(w, _)| c > w) {
                worst = Some((c, cell));
            }
        })?;
        let worst = worst.map(|(c, cell)| {
            if let Some(i) = cell {
                let (x, y) = self.centre(i);
                WorstCell { x, y, cost_per_m: c, reason: self.reason(i) }
            } else {
                let f = if length_m > 0.0 { off_at.unwrap_or(0.0) / length_m } else { 0.0 };
                WorstCell {
                    x: a.0 + f * (b.0 - a.0),
                    y: a.1 + f * (b.1 - a.1),
                    cost_per_m: f64::INFINITY,
                    reason: "outside the planning area".into(),
                }
            }
        });
        Ok(SegmentCost { index, cost, length_m, feasible: cost.is_finite(), worst })
    }

    /// The cost of the polyline `points` (map metres) under the cost model: per segment, the
    /// integral of the per-metre cost along it, its length and its worst cell. A polyline with
    /// one point has no segments and costs 0 if its cell is feasible. An empty or non-finite
    /// polyline is an error.
    pub fn path_cost(&self, points: &[Pt]) -> Result<PathCost> {
        if points.is_empty() {
            return Err(ToolsError::Argument("path has no points".into()));
        }
        if let Some((i, p)) =
            points.iter().enumerate().find(|(_, p)| !(p.0.is_finite() && p.1.is_finite()))
        {
            return Err(ToolsError::Argument(format!(
                "point {i} ({}, {}) is not a finite map coordinate",
                p.0, p.1
            )));
        }
        let segments = points
            .windows(2)
            .enumerate()
            .map(|(i, w)| self.segment_cost(i, w[0], w[1]))
            .collect::<Result<Vec<_>>>()?;
        let mut total_cost: f64 = segments.iter().map(|s| s.cost).sum();
        if segments.is_empty() && self.cell_at(points[0]).is_none_or(|i| self.cost(i).is_infinite())
        {
            total_cost = f64::INFINITY;
        }
        Ok(PathCost {
            total_cost,
            length_m: segments.iter().map(|s| s.length_m).sum(),
            feasible: total_cost.is_finite(),
            segments,
        })
    }

    /// Whether every cell the segment `a -> b` passes through (corners included) is feasible,
    /// and its cost; `None` when it is not feasible.
    pub(crate) fn line_cost(&self, a: Pt, b: Pt) -> Option<f64> {
        let s = self.segment_cost(0, a, b).ok()?;
        s.feasible.then_some(s.cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    fn grid(costs: &[f32], w: usize) -> CostGrid {
        let t = GeoTransform { x0: 100.0, y0: 200.0, dx: 2.0, dy: -2.0 };
        CostGrid::from_costs(w, costs.len() / w, t, costs).unwrap()
    }

    #[test]
    fn cost_is_the_line_integral() {
        // 4 x 1 cells of 2 m: costs 1, 2, 3, 4 per metre.
        let g = grid(&[1.0, 2.0, 3.0, 4.0], 4);
        // From the centre of cell 0 (101, 199) to the centre of cell 3 (107, 199).
        let p = g.path_cost(&[(101.0, 199.0), (107.0, 199.0)]).unwrap();
        assert!((p.total_cost - (1.0 + 2.0 * 2.0 + 2.0 * 3.0 + 4.0)).abs() < 1e-12, "{p:?}");
        assert!((p.length_m - 6.0).abs() < 1e-12);
        let w = p.segments[0].worst.as_ref().unwrap();
        assert_eq!((w.x, w.y, w.cost_per_m), (107.0, 199.0, 4.0));
        // A move's cost from the graph equals the integral along its line.
        let g = grid(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 3);
        for (k, m) in super::super::grid::MOVES.iter().enumerate() {
            let Some(c) = g.move_cost(4, k, super::super::Constraints::NONE) else { continue };
            let to = g.index(1 + i64::from(m.dc), 1 + i64::from(m.dr)).unwrap();
            let p = g.path_cost(&[g.centre(4), g.centre(to)]).unwrap();
            assert!((p.total_cost - c).abs() < 1e-9, "{m:?}: {} vs {c}", p.total_cost);
        }
    }

    #[test]
    fn infeasible_and_off_grid_are_infinite_and_named() {
        let g = grid(&[1.0, f32::INFINITY, 1.0], 3);
        let p = g.path_cost(&[(101.0, 199.0), (105.0, 199.0)]).unwrap();
        assert!(!p.feasible && p.total_cost.is_infinite());
        let w = p.segments[0].worst.as_ref().unwrap();
        assert_eq!((w.x, w.y), (103.0, 199.0));
        assert!(w.reason.contains("impassable"), "{}", w.reason);
        let p = g.path_cost(&[(101.0, 199.0), (101.0, 230.0)]).unwrap();
        let w = p.segments[0].worst.as_ref().unwrap();
        assert!(w.reason.contains("outside"), "{}", w.reason);
        assert!((w.y - 200.0).abs() < 1e-9, "leaves at the top edge: {w:?}");
        // JSON writes infinite costs as null.
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"total_cost\":null"), "{json}");
        assert!(g.path_cost(&[]).is_err());
        assert!(g.path_cost(&[(f64::NAN, 0.0)]).is_err());
        assert!(g.path_cost(&[(0.0, 0.0), (1e12, 0.0)]).is_err());
    }

    #[test]
    fn diagonal_lines_touch_both_corner_cells() {
        let g = grid(&[1.0, f32::INFINITY, 1.0, 1.0], 2);
        // (0,0) -> (1,1) through the corner touches (1,0), which is infeasible.
        assert!(g.line_cost(g.centre(0), g.centre(3)).is_none());
        assert!(g.line_cost(g.centre(0), g.centre(2)).is_some());
    }
}
