//! Headings of the 16 moves, the 8 axes they lie on (a footprint rectangle facing `θ` covers
//! the same cells as facing `θ + 180°`), and which axes a turn in place sweeps.
//!
//! The rover's footprint is a rectangle, so whether it fits between two rocks depends on
//! where it faces. The cost model records, per cell, on which axes the rover may stand
//! ([`super::CellTerrain`] masks); the search lets a move leave and enter a cell only along
//! an allowed axis, and a turn in place at a cell only sweep allowed axes.

use super::grid::MOVES;
use crate::terrain::GeoTransform;

/// Move geometry on one grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Headings {
    /// Heading of each move, degrees clockwise from north, `[0, 360)`.
    pub move_deg: [f64; 16],
    /// Axis (0..8) of each move.
    pub axis_of: [u8; 16],
    /// Heading of each axis, degrees in `[0, 180)`.
    pub axis_deg: [f64; 8],
    /// `sweep[a][b]`: the axes (bit mask) a turn from move `a`'s heading to move `b`'s sweeps,
    /// both ends included, turning the short way as the checker does (half a turn clockwise).
    pub sweep: [[u8; 16]; 16],
}

/// Tolerance for an axis lying on the edge of a swept arc, degrees.
const ARC_EPS_DEG: f64 = 1e-6;

impl Headings {
    /// The geometry of the moves on a grid placed by `t` (cells may be non-square).
    #[must_use]
    pub fn new(t: GeoTransform) -> Self {
        let (dx, dy) = t.resolution();
        let mut move_deg = [0.0; 16];
        for (k, m) in MOVES.iter().enumerate() {
            // Rows grow southwards.
            let (e, n) = (f64::from(m.dc) * dx, -f64::from(m.dr) * dy);
            move_deg[k] = e.atan2(n).to_degrees().rem_euclid(360.0);
        }
        let mut axis_deg = [0.0; 8];
        let mut axis_of = [0u8; 16];
        let mut count = 0usize;
        for k in 0..16 {
            let a = move_deg[k].rem_euclid(180.0);
            let found = axis_deg[..count].iter().position(|&d| {
                let diff = (d - a).rem_euclid(180.0);
                !(1e-9..=180.0 - 1e-9).contains(&diff)
            });
            axis_of[k] = if let Some(i) = found {
                i as u8
            } else {
                axis_deg[count] = a;
                count += 1;
                (count - 1) as u8
            };
        }
        let mut sweep = [[0u8; 16]; 16];
        for a in 0..16 {
            for b in 0..16 {
                sweep[a][b] = Self::arc_axes(&axis_deg, move_deg[a], move_deg[b]);
            }
        }
        Headings { move_deg, axis_of, axis_deg, sweep }
    }

    /// Axes met turning from `from_deg` to `to_deg` the short way (half a turn clockwise).
    #[must_use]
    pub fn arc_axes(axis_deg: &[f64; 8], from_deg: f64, to_deg: f64) -> u8 {
        let mut delta = (to_deg - from_deg).rem_euclid(360.0);
        if delta > 180.0 {
            delta -= 360.0;
        }
        let mut mask = 0u8;
        for (i, &ax) in axis_deg.iter().enumerate() {
            for h in [ax, ax + 180.0] {
                let d = if delta >= 0.0 {
                    (h - from_deg).rem_euclid(360.0)
                } else {
                    (from_deg - h).rem_euclid(360.0)
                };
                if d <= delta.abs() + ARC_EPS_DEG || d >= 360.0 - ARC_EPS_DEG {
                    mask |= 1 << i;
                }
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_moves_lie_on_eight_axes() {
        let h = Headings::new(GeoTransform { x0: 0.0, y0: 0.0, dx: 1.0, dy: -1.0 });
        assert_eq!(h.move_deg[0], 90.0, "east");
        assert_eq!(h.move_deg[1], 180.0, "south (rows grow south)");
        let mut axes: Vec<u8> = h.axis_of.to_vec();
        axes.sort_unstable();
        axes.dedup();
        assert_eq!(axes.len(), 8);
        assert_eq!(h.axis_of[0], h.axis_of[2], "east and west share an axis");
        // East to south sweeps east, the two knight axes between and the diagonal, and south.
        let m = h.sweep[0][1];
        assert_eq!(m.count_ones(), 5, "{m:08b}");
        assert_eq!(h.sweep[3][3], 1 << h.axis_of[3]);
    }
}
