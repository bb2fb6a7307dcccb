//! What the rover would meet standing on each cell: tilt and belly clearance at every heading,
//! and the steps and no-data within reach of its footprint.
//!
//! # Footprint inflation
//!
//! The planner's route runs through cell centres, and every point of it lies in a feasible
//! cell, so within half a cell diagonal `e` of a feasible cell's centre (see
//! [`super::grid`]). The rover's footprint there lies inside the disc of radius
//! `R = hypot(half_length, half_width) + e` around that centre, whatever its heading.
//!
//! - **No-data** is a maximum over cells under the footprint, so its maximum over the disc
//!   bounds every footprint inside it: a cell whose disc holds no unknown cell can never make
//!   the checker's `valid_data` rule fail on a route through it.
//! - **Tilt, belly clearance and step** are measured exactly as the checker does, with the
//!   checker's own walk ([`Walker::turn`]): the rover turning a half circle on the cell
//!   centre, so every distinct set of cells it stands on at any heading (which also covers
//!   every turn in place the checker will judge at a waypoint). Tilt and belly come from a
//!   plane fitted under the footprint, which is not monotone in the cells, and a step counts
//!   only when both its cells are under one footprint; so the disc's maximum would refuse
//!   far too much (on the plains fixture a third of the cells, the rover's own start among
//!   them, lie within `R` of a rock over the step limit). Between cell centres the rover may
//!   meet a slightly different set of cells; the profile's `costs.*_margin_*` absorb most of
//!   that, and the planner verifies every route with the checker and blocks what it refuses
//!   (see [`crate::planner`]).
//! - **Steps near the footprint** (the largest [`pair_step`] anywhere in the disc) do not make
//!   a cell infeasible, but raise its cost: a soft buffer that keeps routes off rocks by more
//!   than the footprint strictly needs.

use rayon::prelude::*;

use crate::checker::walk::{pair_step, SegmentTerrain, Walker};
use crate::error::Result;
use crate::terrain::Grid;

/// Per-cell measures over an area of a padded elevation window.
#[derive(Debug, Clone)]
pub(crate) struct TerrainMeasures {
    /// Largest tilt at any heading on the cell centre, degrees (NaN: unknown ground).
    pub tilt_deg: Vec<f32>,
    /// Largest ground height above the wheel plane at any heading, metres (NaN: unknown).
    pub belly_m: Vec<f32>,
    /// Largest step under the footprint at any heading on the cell centre, metres.
    pub step_m: Vec<f32>,
    /// Largest step (the checker's [`pair_step`]) anywhere within reach, metres.
    pub step_near_m: Vec<f32>,
    /// Whether a no-data or off-raster cell lies within reach, or the footprint is unknown.
    pub unknown: Vec<bool>,
    /// Per axis (bit set: within the threshold), the rover standing on the centre facing it:
    /// tilt, step and belly.
    pub axes: Vec<[u8; 3]>,
}

/// The thresholds a standing pose is judged against, the axes to judge it on, and the rover's
/// footprint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AxisJudge {
    /// Half the footprint length, metres.
    pub half_length_m: f64,
    /// Half the footprint width, metres.
    pub half_width_m: f64,
    /// The inflation radius `R` of the module docs, metres.
    pub reach_m: f64,
    /// Heading of each axis, degrees.
    pub axis_deg: [f64; 8],
    /// Tilt threshold, degrees.
    pub tilt_deg: f64,
    /// Step threshold, metres.
    pub step_m: f64,
    /// Belly threshold, metres.
    pub belly_m: f64,
}

/// Offsets `(dc, dr)` of the cells whose centres lie within `radius_m` of a cell centre.
fn disc(radius_m: f64, dx: f64, dy: f64) -> Vec<(i64, i64)> {
    let (rc, rr) = ((radius_m / dx).ceil() as i64, (radius_m / dy).ceil() as i64);
    let mut v = Vec::new();
    for dr in -rr..=rr {
        for dc in -rc..=rc {
            if (dc as f64 * dx).hypot(dr as f64 * dy) <= radius_m + 1e-9 {
                v.push((dc, dr));
            }
        }
    }
    v
}

/// The largest pair step from each cell of `g` to its east, south, south-east and south-west
/// neighbours (0 where no pair is known).
fn pair_steps(g: &Grid) -> Vec<f32> {
    let (w, h) = (g.width as i64, g.height as i64);
    let at = |c: i64, r: i64| g.get(c, r).map(f64::from);
    (0..h)
        .into_par_iter()
        .flat_map_iter(|r| {
            (0..w).map(move |c| {
                let mut best = 0f64;
                for (dc, dr) in [(1, 0), (0, 1), (1, 1), (-1, 1)] {
                    let z: [Option<f64>; 6] = std::array::from_fn(|k| {
                        let s = k as i64 - 2;
                        at(c + s * dc, r + s * dr)
                    });
                    let s = pair_step(&z);
                    if s.is_finite() {
                        best = best.max(s);
                    }
                }
                best as f32
            })
        })
        .collect()
}

/// Measures every cell of the `width x height` area whose top-left cell is `(pad, pad)` in
/// the elevation window `window` (which must extend `pad` cells beyond the area on every
/// side, NaN where there is no data), except those `skip` flags (row-major; empty: none).
/// A skipped cell reads NaN for every measure, is not unknown, and fails no axis: the caller
/// blocks it for its own reason, and no terrain constraint is claimed where none was measured.
pub(crate) fn measure(
    window: &Grid,
    pad: usize,
    width: usize,
    height: usize,
    judge: &AxisJudge,
    skip: &[bool],
) -> Result<TerrainMeasures> {
    let walker = Walker::new(window, judge.half_length_m, judge.half_width_m)?;
    let (dx, dy) = window.transform.resolution();
    let offsets = disc(judge.reach_m, dx, dy);
    let pairs = pair_steps(window);
    let ww = window.width as i64;
    let rows: Vec<Vec<([f32; 5], [u8; 3])>> = (0..height)
        .into_par_iter()
        .map(|r| -> Result<Vec<([f32; 5], [u8; 3])>> {
            let mut out = Vec::with_capacity(width);
            for c in 0..width {
                if skip.get(r * width + c).copied().unwrap_or(false) {
                    out.push(([f32::NAN, f32::NAN, f32::NAN, f32::NAN, 0.0], [u8::MAX; 3]));
                    continue;
                }
                let (wc, wr) = ((c + pad) as i64, (r + pad) as i64);
                let mut near = 0f32;
                let mut unknown = false;
                for &(oc, or) in &offsets {
                    let (x, y) = (wc + oc, wr + or);
                    if window.get(x, y).is_none() {
                        unknown = true;
                    } else {
                        near = near.max(pairs[(y * ww + x) as usize]);
                    }
                }
                let centre = window.transform.cell_center(wc, wr);
                let mut acc = SegmentTerrain::default();
                walker.turn(centre, 0.0, 180.0, &mut acc)?;
                let mut axes = [0u8; 3];
                for (a, &h) in judge.axis_deg.iter().enumerate() {
                    let mut one = SegmentTerrain::default();
                    walker.stand(centre, h, &mut one)?;
                    let ok = |e: Option<crate::checker::walk::Extreme>, limit: f64| {
                        one.unknown.is_none() && e.is_some_and(|e| e.value <= limit)
                    };
                    for (slot, (e, limit)) in axes.iter_mut().zip([
                        (one.tilt, judge.tilt_deg),
                        (one.step, judge.step_m),
                        (one.belly, judge.belly_m),
                    ]) {
                        if ok(e, limit) {
                            *slot |= 1 << a;
                        }
                    }
                }
                let tilt = acc.tilt.map_or(f32::NAN, |e| e.value as f32);
                let belly = acc.belly.map_or(f32::NAN, |e| e.value as f32);
                let step = acc.step.map_or(f32::NAN, |e| e.value as f32);
                unknown |= acc.unknown.is_some() || tilt.is_nan();
                out.push(([tilt, belly, step, near, if unknown { 1.0 } else { 0.0 }], axes));
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let n = width * height;
    let mut m = TerrainMeasures {
        tilt_deg: Vec::with_capacity(n),
        belly_m: Vec::with_capacity(n),
        step_m: Vec::with_capacity(n),
        step_near_m: Vec::with_capacity(n),
        unknown: Vec::with_capacity(n),
        axes: Vec::with_capacity(n),
    };
    for ([tilt, belly, step, near, unknown], axes) in rows.into_iter().flatten() {
        m.axes.push(axes);
        m.tilt_deg.push(tilt);
        m.belly_m.push(belly);
        m.step_m.push(step);
        m.step_near_m.push(near);
        m.unknown.push(unknown > 0.0);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    const JUDGE: AxisJudge = AxisJudge {
        half_length_m: 1.5,
        half_width_m: 1.35,
        reach_m: 2.73,
        axis_deg: [0.0, 90.0, 45.0, 135.0, 26.57, 63.43, 116.57, 153.43],
        tilt_deg: 23.0,
        step_m: 0.35,
        belly_m: 0.47,
    };

    fn window(f: impl FnMut(f64, f64) -> f32) -> Grid {
        Grid::from_fn(30, 30, GeoTransform { x0: 0.0, y0: 30.0, dx: 1.0, dy: -1.0 }, f)
    }

    #[test]
    fn a_plane_tilts_the_same_everywhere_and_has_no_steps() {
        let g = window(|x, y| (0.2 * x + 0.1 * y) as f32);
        let m = measure(&g, 5, 20, 20, &JUDGE, &[]).unwrap();
        let want = 0.2f64.hypot(0.1).atan().to_degrees() as f32;
        assert!(m.tilt_deg.iter().all(|t| (t - want).abs() < 1e-3), "{:?}", &m.tilt_deg[..3]);
        assert!(m.step_m.iter().chain(&m.step_near_m).all(|&s| s < 1e-4));
        assert!(m.unknown.iter().all(|u| !u));
    }

    #[test]
    fn a_rock_is_felt_within_reach_and_nodata_blocks_around_it() {
        let mut g = window(|_, _| 0.0);
        g.set(15, 15, 0.5);
        g.set(5, 24, f32::NAN);
        let m = measure(&g, 5, 20, 20, &JUDGE, &[]).unwrap();
        let at = |c: usize, r: usize| c - 5 + (r - 5) * 20;
        assert!((m.step_m[at(15, 15)] - 0.5).abs() < 1e-6);
        assert!((m.step_near_m[at(17, 16)] - 0.5).abs() < 1e-6, "within 2.73 m");
        assert!(m.step_near_m[at(19, 15)] < 1e-6, "4 m away");
        // 2.5 m east: the footprint reaches it only at headings near east-west (half-length
        // 1.5 m plus the cells' half width: a cell centre 2 m away is under the corner).
        assert!(m.step_m[at(18, 15)] < 1e-6 && m.step_m[at(16, 15)] > 0.4);
        // 2 m east of the rock the rover clears it facing north (half-width 1.35 m) but not
        // facing east (half-length 1.5 m... plus the rock cell's centre at 2 m: clear too);
        // 1 m east it is under the footprint whatever the heading.
        assert_eq!(m.axes[at(16, 15)][1], 0);
        assert_eq!(m.axes[at(17, 15)][1] & 1, 1, "facing north the rock is 2 m to the side");
        assert!(m.unknown[at(6, 23)] && !m.unknown[at(10, 15)]);
    }
}
