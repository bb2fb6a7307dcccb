//! From a searched cell path to waypoints: the dense polyline through the cell centres, and
//! its simplification into few waypoints that still pass the checker.

use crate::checker::{Checker, Mission, Pt, Verdict};
use crate::cost::CostGrid;
use crate::error::Result;

/// The polyline of a cell path: the exact start point, then the centres of the following
/// cells; straight runs of the same move merged into one segment, but never longer than
/// `spacing_m` (the checker's waypoint spacing).
#[must_use]
pub fn dense_polyline(grid: &CostGrid, path: &[usize], start: Pt, spacing_m: f64) -> Vec<Pt> {
    let mut pts = vec![start];
    if path.len() < 2 {
        if let Some(&only) = path.first() {
            let c = grid.centre(only);
            if c != start {
                pts.push(c);
            }
        }
        return pts;
    }
    let step = |k: usize| {
        let (a, b) = (grid.col_row(path[k]), grid.col_row(path[k + 1]));
        (b.0 as i64 - a.0 as i64, b.1 as i64 - a.1 as i64)
    };
    let n = path.len();
    for k in 1..n {
        let here = grid.centre(path[k]);
        if k == n - 1 {
            pts.push(here);
            break;
        }
        let turn = step(k) != step(k - 1);
        let from = pts[pts.len() - 1];
        let next = grid.centre(path[k + 1]);
        if turn || (next.0 - from.0).hypot(next.1 - from.1) > spacing_m {
            pts.push(here);
        }
    }
    pts
}

/// Per-segment costs of `dense` under `grid` (infinite where a segment leaves the feasible
/// cells, which the search never does).
fn segment_costs(grid: &CostGrid, dense: &[Pt]) -> Vec<f64> {
    dense
        .windows(2)
        .map(|w| grid.segment_cost(0, w[0], w[1]).map_or(f64::INFINITY, |s| s.cost))
        .collect()
}

/// Greedy simplification: from each kept vertex, the farthest later vertex reachable by one
/// straight segment that crosses only feasible cells, is at most `spacing_m` long, and costs
/// at most `1 + slack` times the stretch of the dense polyline it replaces. Returns the
/// indices of the kept vertices (first and last always kept).
#[must_use]
pub fn simplify(grid: &CostGrid, dense: &[Pt], spacing_m: f64, slack: f64) -> Vec<usize> {
    let n = dense.len();
    if n <= 2 {
        return (0..n).collect();
    }
    let seg = segment_costs(grid, dense);
    let mut kept = vec![0];
    let mut i = 0;
    while i < n - 1 {
        let mut best = i + 1;
        let mut stretch = 0.0;
        for j in i + 1..n {
            stretch += seg[j - 1];
            let (a, b) = (dense[i], dense[j]);
            if (b.0 - a.0).hypot(b.1 - a.1) > spacing_m {
                break;
            }
            if j == i + 1 {
                continue;
            }
            if let Some(c) = grid.line_cost(a, b) {
                if c <= stretch * (1.0 + slack) + 1e-9 {
                    best = j;
                }
            }
        }
        kept.push(best);
        i = best;
    }
    kept
}

/// The vertex strictly between `a` and `b` farthest from the chord `dense[a] -> dense[b]`.
fn farthest(dense: &[Pt], a: usize, b: usize) -> Option<usize> {
    let (p, q) = (dense[a], dense[b]);
    let (ux, uy) = (q.0 - p.0, q.1 - p.1);
    let len = ux.hypot(uy);
    (a + 1..b)
        .map(|k| {
            let (vx, vy) = (dense[k].0 - p.0, dense[k].1 - p.1);
            let d = if len > 0.0 { (ux * vy - uy * vx).abs() / len } else { vx.hypot(vy) };
            (k, d)
        })
        .fold(None, |best: Option<(usize, f64)>, (k, d)| match best {
            Some((_, bd)) if bd >= d => best,
            _ => Some((k, d)),
        })
        .map(|(k, _)| k)
}

/// What [`verify`] settled on.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The waypoints.
    pub points: Vec<Pt>,
    /// The checker's verdict on them.
    pub verdict: Verdict,
    /// Checker runs made.
    pub checks: usize,
}

/// Checks the simplified route `kept` (indices into `dense`, which has passed the checker);
/// where a segment fails, keeps the dense vertex farthest from it (or, for a segment with
/// none left, from the segment before it: the turn at its start depends on the heading it
/// arrives with), and checks again. Falls back to `dense` itself after `max_rounds` checks.
pub fn verify(
    checker: &Checker<'_>,
    mission: &Mission,
    dense: &[Pt],
    dense_verdict: &Verdict,
    mut kept: Vec<usize>,
    max_rounds: usize,
) -> Result<Verified> {
    let mut checks = 0;
    while checks < max_rounds {
        let points: Vec<Pt> = kept.iter().map(|&k| dense[k]).collect();
        let verdict = checker.check(mission, &points)?;
        checks += 1;
        if verdict.pass {
            return Ok(Verified { points, verdict, checks });
        }
        let mut add = Vec::new();
        for v in &verdict.violations {
            let Some(s) = v.segment.filter(|&s| s + 1 < kept.len()) else { continue };
            let pick = farthest(dense, kept[s], kept[s + 1])
                .or_else(|| (s > 0).then(|| farthest(dense, kept[s - 1], kept[s])).flatten());
            add.extend(pick);
        }
        if add.is_empty() {
            break;
        }
        kept.extend(add);
        kept.sort_unstable();
        kept.dedup();
    }
    Ok(Verified { points: dense.to_vec(), verdict: dense_verdict.clone(), checks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    fn grid(w: usize, h: usize) -> CostGrid {
        let t = GeoTransform { x0: 0.0, y0: h as f64, dx: 1.0, dy: -1.0 };
        CostGrid::from_costs(w, h, t, &vec![1.0; w * h]).unwrap()
    }

    #[test]
    fn straight_runs_merge_up_to_the_spacing() {
        let g = grid(300, 3);
        let path: Vec<usize> = (0..300).map(|c| 300 + c).collect();
        let pts = dense_polyline(&g, &path, g.centre(300), 100.0);
        let lens: Vec<f64> =
            pts.windows(2).map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1)).collect();
        assert!(lens.iter().all(|&l| l <= 100.0 + 1e-9), "{lens:?}");
        assert!((lens.iter().sum::<f64>() - 299.0).abs() < 1e-9);
        assert!(pts.len() <= 5, "{pts:?}");
        assert_eq!(*pts.last().unwrap(), g.centre(599));
    }

    #[test]
    fn simplification_keeps_spacing_and_ends() {
        let g = grid(250, 250);
        let dense: Vec<Pt> = (0..250).map(|k| g.centre(k * 250 + k)).collect();
        let kept = simplify(&g, &dense, 100.0, 0.0);
        assert_eq!(kept[0], 0);
        assert_eq!(*kept.last().unwrap(), 249);
        for w in kept.windows(2) {
            let (a, b) = (dense[w[0]], dense[w[1]]);
            assert!((b.0 - a.0).hypot(b.1 - a.1) <= 100.0);
        }
        assert!(kept.len() <= 5, "{kept:?}");
    }
}
