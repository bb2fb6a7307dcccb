//! The dense walk: every distinct patch of ground the rover's footprint stands on while it drives
//! a plan, and what the terrain rules measure there.
//!
//! # Motion model
//!
//! The rover is the profile's footprint rectangle (`half_length` along the heading,
//! `half_width` across it). Along a segment it translates with the segment's heading. At a
//! waypoint where the heading changes it turns in place, the short way round, from the old
//! heading to the new one (at the first waypoint from the sol's start heading, when there is
//! one). Zero-length segments (duplicate waypoints) move nothing. A plan that never moves
//! stands at its first waypoint.
//!
//! # What is measured at a pose
//!
//! The ground under a pose is the set `S` of DEM cells whose *centres* lie inside or on the
//! footprint rectangle (within 1 nm), as in [`crate::analysis::footprint`]. From `S` alone:
//!
//! - **unknown**: any cell of `S` is no-data or off the raster, or `S` has fewer than three
//!   non-collinear cells (a DEM coarser than the rover): the pose cannot be judged;
//! - **tilt**: `atan |g|` of the least-squares plane `z = z0 + g·(e, n)` through `S` (pitch and
//!   roll for the message come from the heading, as in [`crate::analysis::tilt`]);
//! - **belly**: the largest height of a cell of `S` above that plane (ground standing up under
//!   the body when the wheels rest on the plane), as `Roughness::above_plane_m`;
//! - **step**: the largest [`pair_step`] over pairs of 8-adjacent cells both in `S`.
//!
//! Every measure is a function of `S` only (the plane's gradient does not depend on where the
//! footprint's centre is, only on which cells it covers).
//!
//! # Why this walk cannot miss what a denser walk would find
//!
//! Because every measure is a function of `S`, a walk misses nothing if it evaluates every set
//! `S` that occurs anywhere along the motion. It does exactly that; it does not sample.
//!
//! *Straight segments.* Let the segment start at `a` with unit direction `u` and length `L`,
//! and let the footprint centre be at `a + t·u`, `t ∈ [0, L]`. For a cell centre `c`, write
//! `s = (c − a)·u` (along) and `q = (c − a)·r` (across, `r ⟂ u`). The cell is under the
//! footprint iff `|q| ≤ hw` and `|s − t| ≤ hl`: the across offset does not change while
//! driving, so each cell is under the footprint for exactly one closed interval
//! `[s − hl, s + hl] ∩ [0, L]` of `t`, or never. Hence `S(t)` is piecewise constant: it can
//! only change at the interval ends ("events"). Between two consecutive events `S(t)` is
//! constant and equal to its value at the midpoint; at an event it is the closed-interval set.
//! The walk sorts all events and evaluates `S` at every event and at every midpoint (skipping
//! a set equal to the one just evaluated). Any `t` a denser walk could pick lies at an event
//! or strictly between two, so its `S(t)` — and therefore every measure — has been evaluated.
//! The "step" of the walk is thus variable and as fine as the geometry requires: on a 1 m DEM
//! with a 3 m footprint there are about six events per metre driven (three columns of cells,
//! each entering and leaving), i.e. evaluations every ~0.17 m on average, finer than half a
//! cell, and wherever two events are closer the walk is correspondingly finer.
//!
//! *Turns in place.* With the centre fixed at `p` and a cell at distance `ρ` and bearing `φ`
//! from it, the cell is under the footprint at heading `θ` iff `|ρ cos(θ − φ)| ≤ hl` and
//! `|ρ sin(θ − φ)| ≤ hw`. Membership can only change where one of these holds with equality,
//! i.e. at `θ = φ + ψ` for `ψ ∈ {±β, π ± β}` with `β = acos(hl/ρ)` or `asin(hw/ρ)`. The walk
//! evaluates every such critical heading inside the turn's arc and the midpoints between
//! them, by the same argument.
//!
//! `tests/checker/walk.rs` checks the claim against walks a hundred times denser (1 cm steps
//! and 0.05° turn steps): every set those walks meet is among the sets this walk evaluated.
//!
//! Long segments are walked in chunks of 64 cells so that only a small window of the DEM is
//! in memory at a time, whatever the length.

use rayon::prelude::*;

use super::source::ElevationSource;
use crate::analysis::footprint::fit_plane;
use crate::analysis::tilt::attitude_on_plane;
use crate::error::{Result, ToolsError};
use crate::geometry::Pt;
use crate::terrain::{GeoTransform, Grid};

/// Tolerance, metres, for a cell centre on the footprint boundary (as in `analysis::footprint`).
pub const BOUNDARY_EPS_M: f64 = 1e-9;

/// Tolerance used at the critical headings of a turn, where a cell centre lies on the boundary
/// up to rounding of the angle: a little wider so that the boundary cell is surely included.
const CRITICAL_EPS_M: f64 = 1e-7;

/// Cells of context read around every window: the step measure looks two cells beyond a pair.
const PAD: i64 = 3;

/// Long segments are walked in pieces of this many cells.
const CHUNK_CELLS: f64 = 64.0;

/// A footprint covering more cells than this (a DEM much finer than the rover) is refused.
pub const MAX_FOOTPRINT_CELLS: f64 = 4096.0;

/// The height a pair of adjacent cells steps by, once the local trend is taken out.
///
/// `z` holds six elevations along one grid line (east, south, or a diagonal), the pair being
/// `z[2] -> z[3]`: `z[0], z[1]` before it and `z[4], z[5]` after it (`None` for no-data or off
/// the raster). The trend is the median of the four neighbouring differences
/// `z[1]-z[0], z[2]-z[1], z[4]-z[3], z[5]-z[4]` that are known (0 when none is), and the step
/// is `|z[3] - z[2] - trend|`.
///
/// Why not the raw difference: on a 1 m DEM a smooth 20° slope already rises 0.36 m per cell
/// (0.51 m on the diagonal), over the 0.35 m wheel-drop limit, although the rover drives such
/// slopes (Curiosity reached 21°, ROVER.md U1); slope is the tilt rule's business.
///
/// Why not the difference of residuals from the plane fitted under the footprint: that plane
/// tilts to absorb part of any step it straddles. Across a footprint of four cells
/// `0, 0, H, H`, the plane rises `0.4·H` per cell and the residual difference across the ledge
/// is only `0.6·H`, so a 0.5 m ledge would measure 0.3 m and pass. Conversely a rock off the
/// footprint's centre tilts the plane toward itself and measures up to ~12% taller than it is.
///
/// The median of the neighbouring differences is the local slope along the line, unaffected by
/// one odd cell: on any plane the step is 0; a ledge of height `H` on any slope measures `H`
/// (its neighbours have the slope's differences); a one- or two-cell rock of height `h` on any
/// plane measures exactly `h` (only one of the four neighbouring differences sees it).
///
/// # Examples
///
/// ```
/// use breadcrumb_tools::checker::walk::pair_step;
///
/// // A 20° smooth slope (0.364 m per 1 m cell): no step.
/// let s = 20f64.to_radians().tan();
/// let slope: Vec<Option<f64>> = (0..6).map(|i| Some(i as f64 * s)).collect();
/// assert!(pair_step(&slope.try_into().unwrap()) < 1e-12);
/// // A 0.3 m rock on that slope.
/// let mut rock: Vec<Option<f64>> = (0..6).map(|i| Some(i as f64 * s)).collect();
/// rock[3] = rock[3].map(|z| z + 0.3);
/// assert!((pair_step(&rock.try_into().unwrap()) - 0.3).abs() < 1e-12);
/// ```
#[must_use]
pub fn pair_step(z: &[Option<f64>; 6]) -> f64 {
    let (Some(za), Some(zb)) = (z[2], z[3]) else {
        return f64::NAN;
    };
    let mut diffs = [0.0; 4];
    let mut n = 0;
    for (p, q) in [(0, 1), (1, 2), (3, 4), (4, 5)] {
        if let (Some(a), Some(b)) = (z[p], z[q]) {
            diffs[n] = b - a;
            n += 1;
        }
    }
    let d = &mut diffs[..n];
    d.sort_by(f64::total_cmp);
    let trend = match n {
        0 => 0.0,
        _ if n % 2 == 1 => d[n / 2],
        _ => 0.5 * (d[n / 2 - 1] + d[n / 2]),
    };
    (zb - za - trend).abs()
}

/// Why the ground under a pose cannot be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownReason {
    /// Some cells under the footprint are no-data or off the raster.
    NoData,
    /// Fewer than three non-collinear cells under the footprint: the DEM is too coarse.
    TooFewCells,
}

/// What the rover stands on at one pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ground {
    /// Every cell under the footprint is known.
    Known {
        /// Tilt from vertical of the plane under the footprint, degrees.
        tilt_deg: f64,
        /// Pitch along the heading (nose-up positive), degrees.
        pitch_deg: f64,
        /// Roll (right side up positive), degrees.
        roll_deg: f64,
        /// Largest step between adjacent cells under the footprint, metres ([`pair_step`]).
        step_m: f64,
        /// Largest height of ground above the plane under the footprint, metres.
        belly_m: f64,
        /// Cells under the footprint.
        cells: usize,
    },
    /// The ground cannot be judged.
    Unknown {
        /// Cells without a usable elevation: the no-data cells, or every cell when there are
        /// too few of them (at least 1).
        unusable: usize,
        /// Cells under the footprint.
        cells: usize,
        /// Why.
        reason: UnknownReason,
    },
}

/// One evaluated pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Map x of the footprint centre.
    pub x: f64,
    /// Map y of the footprint centre.
    pub y: f64,
    /// Heading, degrees clockwise from north.
    pub heading_deg: f64,
}

/// The cells under a pose, for diagnostics and tests (global `(col, row)` of the raster).
pub struct CellList<'a> {
    patch: &'a Patch,
    active: &'a [usize],
}

impl CellList<'_> {
    /// Global `(col, row)` of every cell under the footprint, sorted.
    #[must_use]
    pub fn to_vec(&self) -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = self
            .active
            .iter()
            .map(|&i| {
                let c = &self.patch.cands[i];
                (self.patch.col0 + c.gc as i64, self.patch.row0 + c.gr as i64)
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// Number of cells.
    #[must_use]
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether no cell centre is under the footprint.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

/// Receives every evaluated pose.
pub trait PoseSink {
    /// One pose and its ground; `cells` lists the cells under it on demand.
    fn pose(&mut self, pose: Pose, ground: &Ground, cells: &CellList<'_>);
}

/// The worst value of one measure over a stretch of the walk, and where it happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extreme {
    /// The value (degrees for tilt, metres for step and belly, cells for unknown ground).
    pub value: f64,
    /// Where.
    pub pose: Pose,
    /// Pitch at that pose, degrees (0 for unknown ground).
    pub pitch_deg: f64,
    /// Roll at that pose, degrees (0 for unknown ground).
    pub roll_deg: f64,
    /// Cells under the footprint there.
    pub cells: usize,
    /// For unknown ground, why.
    pub unknown: Option<UnknownReason>,
}

/// The worst of each terrain measure over one segment (its turn at the start included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentTerrain {
    /// Largest tilt.
    pub tilt: Option<Extreme>,
    /// Largest step.
    pub step: Option<Extreme>,
    /// Largest ground height above the wheel plane.
    pub belly: Option<Extreme>,
    /// Most unusable cells (only set where the ground is unknown).
    pub unknown: Option<Extreme>,
    /// Poses evaluated.
    pub poses: usize,
}

fn keep_max(slot: &mut Option<Extreme>, e: Extreme) {
    // Strictly greater: on a tie the first pose along the walk stays.
    if slot.is_none_or(|s| e.value > s.value) {
        *slot = Some(e);
    }
}

impl PoseSink for SegmentTerrain {
    fn pose(&mut self, pose: Pose, ground: &Ground, _cells: &CellList<'_>) {
        self.poses += 1;
        match *ground {
            Ground::Known { tilt_deg, pitch_deg, roll_deg, step_m, belly_m, cells } => {
                let e = |value| Extreme { value, pose, pitch_deg, roll_deg, cells, unknown: None };
                keep_max(&mut self.tilt, e(tilt_deg));
                keep_max(&mut self.step, e(step_m));
                keep_max(&mut self.belly, e(belly_m));
            }
            Ground::Unknown { unusable, cells, reason } => keep_max(
                &mut self.unknown,
                Extreme {
                    value: unusable as f64,
                    pose,
                    pitch_deg: 0.0,
                    roll_deg: 0.0,
                    cells,
                    unknown: Some(reason),
                },
            ),
        }
    }
}

/// A cell that may be under the footprint somewhere in a patch.
#[derive(Debug, Clone)]
struct Cand {
    /// Column and row in the patch window.
    gc: usize,
    gr: usize,
    /// Centre relative to the patch origin, metres east and north.
    e: f64,
    n: f64,
    /// Elevation (NaN: unknown).
    z: f64,
    /// Step to the east, south, south-east and south-west neighbours (NaN when the neighbour
    /// is not a candidate).
    pair: [f64; 4],
}

/// Neighbour offsets (column, row) for [`Cand::pair`]: every adjacent pair once.
const DIRS: [(i64, i64); 4] = [(1, 0), (0, 1), (1, 1), (-1, 1)];

/// A window of the DEM and the cells in it that the footprint may cover.
struct Patch {
    col0: i64,
    row0: i64,
    width: usize,
    cands: Vec<Cand>,
    /// Window cell -> candidate index + 1 (0: not a candidate).
    index: Vec<u32>,
}

impl Patch {
    fn neighbour(&self, c: &Cand, (dc, dr): (i64, i64)) -> Option<usize> {
        let (x, y) = (c.gc as i64 + dc, c.gr as i64 + dr);
        if x < 0 || y < 0 || x as usize >= self.width {
            return None;
        }
        let k = *self.index.get(y as usize * self.width + x as usize)?;
        (k > 0).then(|| k as usize - 1)
    }

    /// Measures the ground under the candidates `active` (flags in `on`).
    fn evaluate(&self, active: &[usize], on: &[bool], heading_deg: f64) -> Ground {
        let cells = active.len();
        let nodata = active.iter().filter(|&&i| self.cands[i].z.is_nan()).count();
        if nodata > 0 {
            return Ground::Unknown { unusable: nodata, cells, reason: UnknownReason::NoData };
        }
        let too_few =
            Ground::Unknown { unusable: cells.max(1), cells, reason: UnknownReason::TooFewCells };
        if cells < 3 {
            return too_few;
        }
        let Some(fit) = fit_plane(active.iter().map(|&i| {
            let c = &self.cands[i];
            (c.e, c.n, c.z)
        })) else {
            return too_few;
        };
        let mut belly = 0f64;
        let mut step = 0f64;
        for &i in active {
            let c = &self.cands[i];
            belly = belly.max(c.z - fit.at(c.e, c.n));
            for (d, &dir) in DIRS.iter().enumerate() {
                if let Some(j) = self.neighbour(c, dir) {
                    if on[j] {
                        step = step.max(c.pair[d]);
                    }
                }
            }
        }
        let (pitch_deg, roll_deg, tilt_deg) = attitude_on_plane(&fit.plane(), heading_deg);
        Ground::Known { tilt_deg, pitch_deg, roll_deg, step_m: step, belly_m: belly, cells }
    }
}

/// Walks footprints over an elevation source.
pub struct Walker<'a> {
    src: &'a dyn ElevationSource,
    t: GeoTransform,
    extent: (f64, f64, f64, f64),
    hl: f64,
    hw: f64,
    chunk_m: f64,
}

impl std::fmt::Debug for Walker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walker")
            .field("transform", &self.t)
            .field("half_length", &self.hl)
            .field("half_width", &self.hw)
            .finish_non_exhaustive()
    }
}

fn normalize_deg(h: f64) -> f64 {
    let h = h.rem_euclid(360.0);
    if h >= 360.0 {
        0.0
    } else {
        h
    }
}

/// Heading of the segment `a -> b`, degrees clockwise from north in `[0, 360)`.
#[must_use]
pub fn heading_of(a: Pt, b: Pt) -> f64 {
    normalize_deg((b.0 - a.0).atan2(b.1 - a.1).to_degrees())
}

impl<'a> Walker<'a> {
    /// A walker of a footprint `half_length_m` by `half_width_m` over `src`.
    pub fn new(
        src: &'a dyn ElevationSource,
        half_length_m: f64,
        half_width_m: f64,
    ) -> Result<Self> {
        let t = src.transform();
        let (dx, dy) = t.resolution();
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(half_length_m) || !positive(half_width_m) {
            return Err(ToolsError::Argument(format!(
                "footprint {half_length_m} x {half_width_m} m must be positive"
            )));
        }
        let cells = 4.0 * half_length_m * half_width_m / (dx * dy);
        if cells.is_nan() || cells > MAX_FOOTPRINT_CELLS {
            return Err(ToolsError::Argument(format!(
                "DEM cells of {dx} x {dy} m are too fine for the checker: the footprint would \
                 cover {cells:.0} cells (at most {MAX_FOOTPRINT_CELLS}); resample the DEM"
            )));
        }
        let (w, h) = src.size();
        let (xa, xb) = (t.x0, t.x0 + w as f64 * t.dx);
        let (ya, yb) = (t.y0, t.y0 + h as f64 * t.dy);
        Ok(Walker {
            src,
            t,
            extent: (xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb)),
            hl: half_length_m,
            hw: half_width_m,
            chunk_m: CHUNK_CELLS * dx.min(dy),
        })
    }

    /// Cells a footprint covers, roughly (for poses far off the raster).
    fn nominal_cells(&self) -> usize {
        let (dx, dy) = self.t.resolution();
        ((4.0 * self.hl * self.hw / (dx * dy)).round() as usize).max(1)
    }

    /// Reads the window covering `bbox` and keeps the cells for which `keep(e, n)` holds
    /// (offsets from `origin`). `None` when `bbox` lies entirely off the raster.
    fn patch(
        &self,
        bbox: (f64, f64, f64, f64),
        origin: Pt,
        keep: impl Fn(f64, f64) -> bool,
    ) -> Result<Option<Patch>> {
        let (dx, dy) = self.t.resolution();
        let (xmin, ymin, xmax, ymax) = self.extent;
        if !(bbox.2 >= xmin - dx
            && bbox.0 <= xmax + dx
            && bbox.3 >= ymin - dy
            && bbox.1 <= ymax + dy)
        {
            return Ok(None);
        }
        let (ca, ra) = self.t.to_cell(bbox.0, bbox.3);
        let (cb, rb) = self.t.to_cell(bbox.2, bbox.1);
        let c_lo = ca.min(cb).floor() as i64 - PAD;
        let c_hi = ca.max(cb).ceil() as i64 + PAD;
        let r_lo = ra.min(rb).floor() as i64 - PAD;
        let r_hi = ra.max(rb).ceil() as i64 + PAD;
        let (w, h) = ((c_hi - c_lo + 1) as usize, (r_hi - r_lo + 1) as usize);
        let grid: Grid = self.src.window(c_lo, r_lo, w, h)?;
        let mut cands = Vec::new();
        let mut index = vec![0u32; w * h];
        for r in PAD as usize..h - PAD as usize {
            for c in PAD as usize..w - PAD as usize {
                let (x, y) = self.t.cell_center(c_lo + c as i64, r_lo + r as i64);
                let (e, n) = (x - origin.0, y - origin.1);
                if !keep(e, n) {
                    continue;
                }
                index[r * w + c] = cands.len() as u32 + 1;
                let z = grid.data[r * w + c];
                cands.push(Cand {
                    gc: c,
                    gr: r,
                    e,
                    n,
                    z: if z.is_nan() { f64::NAN } else { f64::from(z) },
                    pair: [f64::NAN; 4],
                });
            }
        }
        let mut patch = Patch { col0: c_lo, row0: r_lo, width: w, cands, index };
        let at = |c: i64, r: i64| -> Option<f64> {
            if c < 0 || r < 0 || c as usize >= w || r as usize >= h {
                return None;
            }
            let v = grid.data[r as usize * w + c as usize];
            (!v.is_nan()).then(|| f64::from(v))
        };
        for i in 0..patch.cands.len() {
            let (gc, gr) = (patch.cands[i].gc as i64, patch.cands[i].gr as i64);
            for (d, &(dc, dr)) in DIRS.iter().enumerate() {
                if patch.neighbour(&patch.cands[i], (dc, dr)).is_none() {
                    continue;
                }
                let z: [Option<f64>; 6] =
                    std::array::from_fn(|k| at(gc + (k as i64 - 2) * dc, gr + (k as i64 - 2) * dr));
                patch.cands[i].pair[d] = pair_step(&z);
            }
        }
        Ok(Some(patch))
    }

    fn off_raster(&self, pose: Pose, sink: &mut dyn PoseSink) {
        let cells = self.nominal_cells();
        let empty = Patch { col0: 0, row0: 0, width: 0, cands: Vec::new(), index: Vec::new() };
        sink.pose(
            pose,
            &Ground::Unknown { unusable: cells, cells, reason: UnknownReason::NoData },
            &CellList { patch: &empty, active: &[] },
        );
    }

    /// Drives the footprint straight from `a` to `b` with the segment's heading, evaluating
    /// every distinct set of cells under it (see the module docs). Nothing happens for a
    /// zero-length segment.
    pub fn segment(&self, a: Pt, b: Pt, sink: &mut dyn PoseSink) -> Result<()> {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy);
        if len.is_nan() || len <= 0.0 {
            return Ok(());
        }
        if !len.is_finite() || len / self.chunk_m > 1e9 {
            return Err(ToolsError::Argument(format!("segment of {len} m is too long to walk")));
        }
        let u = (dx / len, dy / len);
        let heading = heading_of(a, b);
        let n = (len / self.chunk_m).ceil().max(1.0) as usize;
        for k in 0..n {
            let t0 = k as f64 * self.chunk_m;
            let t1 = if k + 1 == n { len } else { (k + 1) as f64 * self.chunk_m };
            let start = (a.0 + t0 * u.0, a.1 + t0 * u.1);
            self.straight(start, u, heading, t1 - t0, sink)?;
        }
        Ok(())
    }

    fn straight(&self, a: Pt, u: Pt, heading: f64, l: f64, sink: &mut dyn PoseSink) -> Result<()> {
        let r = (u.1, -u.0);
        let (hl, hw) = (self.hl + BOUNDARY_EPS_M, self.hw + BOUNDARY_EPS_M);
        let ex = hl * u.0.abs() + hw * u.1.abs();
        let ey = hl * u.1.abs() + hw * u.0.abs();
        let b = (a.0 + l * u.0, a.1 + l * u.1);
        let bbox = (a.0.min(b.0) - ex, a.1.min(b.1) - ey, a.0.max(b.0) + ex, a.1.max(b.1) + ey);
        let keep = |e: f64, n: f64| {
            let along = e * u.0 + n * u.1;
            let across = e * r.0 + n * r.1;
            across.abs() <= hw && along >= -hl && along <= l + hl
        };
        let pose_at = |t: f64| Pose { x: a.0 + t * u.0, y: a.1 + t * u.1, heading_deg: heading };
        let Some(patch) = self.patch(bbox, a, keep)? else {
            self.off_raster(pose_at(0.0), sink);
            return Ok(());
        };
        let m = patch.cands.len();
        let mut t_in = Vec::with_capacity(m);
        let mut t_out = Vec::with_capacity(m);
        for c in &patch.cands {
            let along = c.e * u.0 + c.n * u.1;
            t_in.push((along - hl).max(0.0));
            t_out.push((along + hl).min(l));
        }
        let mut enter: Vec<usize> = (0..m).collect();
        enter.sort_by(|&i, &j| t_in[i].total_cmp(&t_in[j]).then(i.cmp(&j)));
        let mut exit: Vec<usize> = (0..m).collect();
        exit.sort_by(|&i, &j| t_out[i].total_cmp(&t_out[j]).then(i.cmp(&j)));
        let mut events: Vec<f64> = t_in.iter().chain(&t_out).copied().collect();
        events.push(0.0);
        events.push(l);
        events.sort_by(f64::total_cmp);
        events.dedup();
        let mut on = vec![false; m];
        let mut active: Vec<usize> = Vec::with_capacity(32);
        let (mut ei, mut xi) = (0, 0);
        for (k, &t) in events.iter().enumerate() {
            let mut entered = false;
            while ei < m && t_in[enter[ei]] <= t {
                let i = enter[ei];
                on[i] = true;
                active.push(i);
                ei += 1;
                entered = true;
            }
            if entered || k == 0 {
                let g = patch.evaluate(&active, &on, heading);
                sink.pose(pose_at(t), &g, &CellList { patch: &patch, active: &active });
            }
            let mut left = false;
            while xi < m && t_out[exit[xi]] <= t {
                on[exit[xi]] = false;
                xi += 1;
                left = true;
            }
            if left {
                active.retain(|&i| on[i]);
                if let Some(&next) = events.get(k + 1) {
                    let mid = 0.5 * (t + next);
                    let g = patch.evaluate(&active, &on, heading);
                    sink.pose(pose_at(mid), &g, &CellList { patch: &patch, active: &active });
                }
            }
        }
        Ok(())
    }

    /// Turns the footprint in place at `p` from `from_deg` to `to_deg` the short way round
    /// (half a turn counts as clockwise), evaluating every distinct set of cells under it.
    pub fn turn(&self, p: Pt, from_deg: f64, to_deg: f64, sink: &mut dyn PoseSink) -> Result<()> {
        let mut delta = (to_deg - from_deg).rem_euclid(360.0);
        if delta > 180.0 {
            delta -= 360.0;
        }
        if delta.is_nan() || delta.abs() <= 1e-9 {
            return Ok(());
        }
        let radius = self.hl.hypot(self.hw) + CRITICAL_EPS_M;
        let bbox = (p.0 - radius, p.1 - radius, p.0 + radius, p.1 + radius);
        let Some(patch) = self.patch(bbox, p, |e, n| e.hypot(n) <= radius)? else {
            self.off_raster(Pose { x: p.0, y: p.1, heading_deg: normalize_deg(from_deg) }, sink);
            return Ok(());
        };
        let mut stops = vec![0.0, 1.0];
        for c in &patch.cands {
            let rho = c.e.hypot(c.n);
            if rho < 1e-12 {
                continue;
            }
            let phi = c.e.atan2(c.n).to_degrees();
            for half in [self.hl, self.hw] {
                let ratio = half / rho;
                if ratio >= 1.0 {
                    continue;
                }
                let beta = if half == self.hl { ratio.acos() } else { ratio.asin() }.to_degrees();
                for psi in [beta, -beta, 180.0 - beta, 180.0 + beta] {
                    let theta = phi + psi;
                    let d = if delta > 0.0 {
                        (theta - from_deg).rem_euclid(360.0)
                    } else {
                        (from_deg - theta).rem_euclid(360.0)
                    };
                    let s = d / delta.abs();
                    if s > 0.0 && s < 1.0 {
                        stops.push(s);
                    }
                }
            }
        }
        stops.sort_by(f64::total_cmp);
        stops.dedup();
        let mut on = vec![false; patch.cands.len()];
        let mut active = Vec::new();
        let mut last: Option<Vec<usize>> = None;
        let mut visit = |s: f64, eps: f64, sink: &mut dyn PoseSink| {
            let heading = from_deg + s * delta;
            let (sn, cs) = heading.to_radians().sin_cos();
            active.clear();
            for (i, c) in patch.cands.iter().enumerate() {
                let along = c.e * sn + c.n * cs;
                let across = c.e * cs - c.n * sn;
                on[i] = along.abs() <= self.hl + eps && across.abs() <= self.hw + eps;
                if on[i] {
                    active.push(i);
                }
            }
            if last.as_ref() != Some(&active) {
                let h = normalize_deg(heading);
                let g = patch.evaluate(&active, &on, h);
                let pose = Pose { x: p.0, y: p.1, heading_deg: h };
                sink.pose(pose, &g, &CellList { patch: &patch, active: &active });
                last = Some(active.clone());
            }
        };
        for (k, &s) in stops.iter().enumerate() {
            visit(s, CRITICAL_EPS_M, sink);
            if let Some(&next) = stops.get(k + 1) {
                visit(0.5 * (s + next), BOUNDARY_EPS_M, sink);
            }
        }
        Ok(())
    }

    /// Evaluates the footprint standing still at `p` with heading `heading_deg`.
    pub fn stand(&self, p: Pt, heading_deg: f64, sink: &mut dyn PoseSink) -> Result<()> {
        let radius = self.hl.hypot(self.hw) + BOUNDARY_EPS_M;
        let bbox = (p.0 - radius, p.1 - radius, p.0 + radius, p.1 + radius);
        let heading = normalize_deg(heading_deg);
        let (sn, cs) = heading.to_radians().sin_cos();
        let (hl, hw) = (self.hl + BOUNDARY_EPS_M, self.hw + BOUNDARY_EPS_M);
        let keep = |e: f64, n: f64| (e * sn + n * cs).abs() <= hl && (e * cs - n * sn).abs() <= hw;
        let pose = Pose { x: p.0, y: p.1, heading_deg: heading };
        let Some(patch) = self.patch(bbox, p, keep)? else {
            self.off_raster(pose, sink);
            return Ok(());
        };
        let active: Vec<usize> = (0..patch.cands.len()).collect();
        let on = vec![true; active.len()];
        let g = patch.evaluate(&active, &on, heading);
        sink.pose(pose, &g, &CellList { patch: &patch, active: &active });
        Ok(())
    }
}

/// The terrain along a whole plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanTerrain {
    /// One entry per segment (waypoint `i` to `i + 1`), the turn at waypoint `i` included.
    pub segments: Vec<SegmentTerrain>,
    /// For a plan that never moves (one waypoint, or all duplicates): the rover standing at its
    /// first waypoint.
    pub standing: Option<SegmentTerrain>,
}

impl PlanTerrain {
    /// Poses evaluated in all.
    #[must_use]
    pub fn poses(&self) -> usize {
        self.segments.iter().map(|s| s.poses).sum::<usize>()
            + self.standing.as_ref().map_or(0, |s| s.poses)
    }
}

/// Walks a whole plan: turn at each waypoint where the heading changes (at the first waypoint
/// from `start_heading_deg`, when given), then the segment. Segments are walked in parallel
/// (rayon); the result does not depend on the number of threads.
pub fn walk_plan(
    walker: &Walker<'_>,
    points: &[Pt],
    start_heading_deg: Option<f64>,
) -> Result<PlanTerrain> {
    let n = points.len();
    if n == 0 {
        return Ok(PlanTerrain::default());
    }
    // The heading the rover has when it arrives at each segment's first waypoint.
    let mut before: Vec<Option<f64>> = Vec::with_capacity(n.saturating_sub(1));
    let mut heading = start_heading_deg;
    let mut moves = false;
    for w in points.windows(2) {
        before.push(heading);
        if w[0] != w[1] {
            heading = Some(heading_of(w[0], w[1]));
            moves = true;
        }
    }
    let segments = (0..n - 1)
        .into_par_iter()
        .map(|i| -> Result<SegmentTerrain> {
            let mut acc = SegmentTerrain::default();
            let (a, b) = (points[i], points[i + 1]);
            if a == b {
                return Ok(acc);
            }
            let h = heading_of(a, b);
            if let Some(prev) = before[i] {
                walker.turn(a, prev, h, &mut acc)?;
            }
            walker.segment(a, b, &mut acc)?;
            Ok(acc)
        })
        .collect::<Result<Vec<_>>>()?;
    let standing = if moves {
        None
    } else {
        let mut acc = SegmentTerrain::default();
        walker.stand(points[0], start_heading_deg.unwrap_or(0.0), &mut acc)?;
        Some(acc)
    };
    Ok(PlanTerrain { segments, standing })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::footprint::Footprint;
    use crate::analysis::roughness::roughness_on;
    use crate::analysis::tilt::tilt_on;

    fn rough() -> Grid {
        let t = GeoTransform { x0: 1000.0, y0: 2000.0, dx: 1.0, dy: -1.0 };
        Grid::from_fn(60, 60, t, |x, y| {
            let h = ((x * 12.9898 + y * 78.233).sin() * 43758.5453).fract();
            (0.2 * x + 0.1 * y + 0.8 * (x / 5.0).sin() + 0.15 * h) as f32
        })
    }

    type Cells = Vec<(i64, i64)>;

    /// Records every pose with its cells.
    #[derive(Default)]
    struct Recorder(Vec<(Pose, Ground, Cells)>);

    impl PoseSink for Recorder {
        fn pose(&mut self, pose: Pose, ground: &Ground, cells: &CellList<'_>) {
            self.0.push((pose, *ground, cells.to_vec()));
        }
    }

    #[test]
    fn measures_agree_with_the_analysis_module_at_every_pose() {
        let g = rough();
        let w = Walker::new(&g, 1.5, 1.35).unwrap();
        let mut rec = Recorder::default();
        w.segment((1010.3, 1970.2), (1040.7, 1951.9), &mut rec).unwrap();
        w.turn((1030.2, 1960.1), 10.0, 170.0, &mut rec).unwrap();
        assert!(rec.0.len() > 150, "{}", rec.0.len());
        for (pose, ground, cells) in &rec.0 {
            let fp = Footprint::new(pose.x, pose.y, pose.heading_deg, 1.5, 1.35).unwrap();
            let Ground::Known { tilt_deg, pitch_deg, roll_deg, belly_m, cells: n, .. } = *ground
            else {
                panic!("all known: {ground:?}");
            };
            let Some(fc) = fp.cells(&g) else { continue };
            // At event poses a cell centre sits exactly on the boundary, where rounding may
            // differ; compare wherever the analysis module selects the same cells (almost
            // everywhere).
            let mut theirs: Vec<(i64, i64)> = fc
                .samples()
                .iter()
                .map(|s| {
                    let (c, r) = g.transform.to_cell(pose.x + s.east_m, pose.y + s.north_m);
                    (c.floor() as i64, r.floor() as i64)
                })
                .collect();
            theirs.sort_unstable();
            if &theirs != cells {
                continue;
            }
            assert_eq!(n, fc.len());
            let t = tilt_on(&g, &fp).unwrap();
            assert!((t.tilt_deg - tilt_deg).abs() < 1e-9, "{t:?} vs {tilt_deg}");
            assert!((t.pitch_deg - pitch_deg).abs() < 1e-9 && (t.roll_deg - roll_deg).abs() < 1e-9);
            let r = roughness_on(&g, &fp).unwrap();
            assert!((r.above_plane_m - belly_m).abs() < 1e-9, "{r:?} vs {belly_m}");
        }
    }

    #[test]
    fn straight_walk_changes_set_only_at_events() {
        let g = rough();
        let w = Walker::new(&g, 1.5, 1.35).unwrap();
        let mut rec = Recorder::default();
        w.segment((1010.0, 1970.0), (1030.0, 1970.0), &mut rec).unwrap();
        // Consecutive evaluated sets differ (the walk skips repeats) and poses advance.
        for pair in rec.0.windows(2) {
            assert_ne!(pair[0].2, pair[1].2);
            assert!(pair[1].0.x >= pair[0].0.x);
        }
        // East along y = 1970, a line of cell edges: only the rows centred at 1969.5 and
        // 1970.5 are within 1.35 m, so about 2 x 23 cells enter and leave.
        assert!(rec.0.len() >= 40 && rec.0.len() <= 100, "{}", rec.0.len());
    }

    #[test]
    fn off_raster_and_nodata_are_unknown() {
        let mut g = rough();
        let w = Walker::new(&g, 1.5, 1.35).unwrap();
        let mut acc = SegmentTerrain::default();
        w.segment((1e12, 1e12), (1e12 + 50.0, 1e12), &mut acc).unwrap();
        assert!(acc.unknown.is_some() && acc.tilt.is_none());
        g.set(30, 30, f32::NAN); // centre (1030.5, 1969.5)
        let w = Walker::new(&g, 1.5, 1.35).unwrap();
        let mut acc = SegmentTerrain::default();
        w.segment((1020.0, 1969.5), (1040.0, 1969.5), &mut acc).unwrap();
        let u = acc.unknown.unwrap();
        assert_eq!(u.value, 1.0);
        assert_eq!(u.unknown, Some(UnknownReason::NoData));
        assert!(acc.tilt.is_some(), "poses before the hole are judged");
        // Half off the raster at its west edge.
        let mut acc = SegmentTerrain::default();
        w.segment((1000.5, 1980.0), (1000.5, 1990.0), &mut acc).unwrap();
        assert!(acc.unknown.unwrap().value >= 3.0);
    }

    #[test]
    fn a_dem_coarser_than_the_rover_is_unknown_not_flat() {
        let t = GeoTransform { x0: 0.0, y0: 100.0, dx: 5.0, dy: -5.0 };
        let g = Grid::filled(20, 20, 0.0, t);
        let w = Walker::new(&g, 1.5, 1.35).unwrap();
        let mut acc = SegmentTerrain::default();
        w.segment((20.0, 50.0), (60.0, 50.0), &mut acc).unwrap();
        assert_eq!(acc.unknown.unwrap().unknown, Some(UnknownReason::TooFewCells));
        assert!(Walker::new(
            &Grid::filled(4, 4, 0.0, GeoTransform { dx: 0.01, dy: -0.01, ..t }),
            1.5,
            1.35
        )
        .is_err());
    }

    #[test]
    fn walk_plan_turns_between_segments_and_stands_when_not_moving() {
        let g = rough();
        let w = Walker::new(&g, 1.5, 1.35).unwrap();
        let pts = [(1010.0, 1970.0), (1020.0, 1970.0), (1020.0, 1970.0), (1020.0, 1960.0)];
        let pt = walk_plan(&w, &pts, Some(0.0)).unwrap();
        assert_eq!(pt.segments.len(), 3);
        assert!(pt.standing.is_none());
        assert_eq!(pt.segments[1].poses, 0, "duplicate waypoint: nothing to walk");
        assert!(pt.segments[0].poses > 0 && pt.segments[2].poses > 0);
        let one = walk_plan(&w, &[(1020.0, 1970.0)], None).unwrap();
        assert!(one.segments.is_empty());
        assert_eq!(one.standing.unwrap().poses, 1);
        assert_eq!(walk_plan(&w, &[], None).unwrap(), PlanTerrain::default());
    }
}
