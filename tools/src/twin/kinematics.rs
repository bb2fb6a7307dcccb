//! The kinematic rover: a 6-wheel rocker-bogie with a differential, placed on the DEM in
//! closed form.
//!
//! # Model
//! Each wheel is a cylinder lowered onto the DEM's bilinear surface over its contact patch (a
//! rectangle `2 r` long along the heading and `wheel_width` wide, centred under the wheel's
//! nominal horizontal position): it rests on the highest ground under it, weighted by the
//! wheel's curvature ([`Ground::wheel_centre`]). An earlier version put the centre `r` above
//! the highest point of the patch, which on a slope lifts it by up to `r tan(slope)` more than
//! a real wheel and, since the four front/rear wheels face downhill or uphill differently,
//! read as articulation. The DEM's own error is bounded in [`super::bounds`].
//!
//! Each side is a planar linkage in the body's x-z plane. The bogie is rigid from the middle
//! to the rear wheel: its angle is `asin((z_M - z_R) / |MR|)`, and that places the bogie pivot.
//! The rocker is rigid from the front wheel to the bogie pivot: `asin((z_F - z_B) / |FB|)`
//! minus its nominal angle, which places the rocker pivot. The differential makes the body
//! pitch the mean of the two rockers' angles and each rocker's angle relative to the body
//! (the differential angle) equal and opposite; the body rolls by the height difference of
//! the two rocker pivots. Belly clearance is, over 30 tiles of the belly pan, the least of the
//! belly plane's lowest corner over a tile minus the highest ground under that tile.
//!
//! The middle wheels stand further out than the front and rear (y 1.1845 vs 1.0625 m), so on a
//! cross slope they sit higher or lower than the side's plane; their heights are moved to the
//! front/rear wheels' plane by the cross slope those wheels measure, which makes a plane give
//! no articulation at all.

use super::bounds::{self, Bounds};
use crate::terrain::rover::Kinematics;
use crate::terrain::Grid;

/// The DEM as the twin reads it: an in-memory window.
#[derive(Debug, Clone, Copy)]
pub struct Ground<'a> {
    /// The elevations.
    pub grid: &'a Grid,
}

impl Ground<'_> {
    /// Highest ground under the rectangle centred at `(x, y)`, `half_l` along the unit vector
    /// `(fx, fy)` and `half_w` across it: the DEM's bilinear surface sampled on a lattice at
    /// most 0.1 m apart over the rectangle, edges and corners included. `None` if any sample
    /// touches a no-data cell or leaves the grid (unknown ground is never assumed safe).
    ///
    /// Why not the highest cell touching the patch: on a 1 m DEM a 0.5 m patch touches cells
    /// whose centres lie up to 0.95 m away, so on a 20 degree slope each wheel is raised by
    /// anything from 0 to 0.35 m depending on where the cell lattice falls, and neighbouring
    /// wheels disagree; that read as false bogie angles of over 30 degrees on real drives. The
    /// surface itself is the DEM's estimate; its vertical error is bounded separately.
    #[must_use]
    pub fn max_in_rect(
        &self,
        c: (f64, f64),
        f: (f64, f64),
        half_l: f64,
        half_w: f64,
    ) -> Option<f64> {
        const STEP_M: f64 = 0.1;
        let (nl, nw) = (lattice(half_l, STEP_M), lattice(half_w, STEP_M));
        let mut best = f64::NEG_INFINITY;
        for i in 0..=nl {
            let along = -half_l + 2.0 * half_l * f64::from(i) / f64::from(nl);
            for j in 0..=nw {
                let across = -half_w + 2.0 * half_w * f64::from(j) / f64::from(nw);
                let x = c.0 + along * f.0 - across * f.1;
                let y = c.1 + along * f.1 + across * f.0;
                best = best.max(self.grid.bilinear(x, y)?);
            }
        }
        best.is_finite().then_some(best)
    }

    /// Height of the centre of a wheel of radius `r` and half-width `half_w` at `(x, y)` facing
    /// the unit vector `(fx, fy)`, lowered onto the DEM's bilinear surface: the wheel is a
    /// cylinder, so over each point of the ground under it (sampled at most 0.1 m apart, a
    /// patch `2 r` long) its centre must stand `sqrt(r^2 - d^2)` higher, `d` the point's
    /// distance along the heading; the centre rests at the largest of these. On a plane of
    /// slope `t` that is `r / cos t` above the ground under the centre, as it should be. `None`
    /// over unknown ground.
    #[must_use]
    pub fn wheel_centre(&self, c: (f64, f64), f: (f64, f64), r: f64, half_w: f64) -> Option<f64> {
        const STEP_M: f64 = 0.1;
        let (nl, nw) = (lattice(r, STEP_M), lattice(half_w, STEP_M));
        let mut best = f64::NEG_INFINITY;
        for i in 0..=nl {
            let along = -r + 2.0 * r * f64::from(i) / f64::from(nl);
            let lift = (r * r - along * along).max(0.0).sqrt();
            for j in 0..=nw {
                let across = -half_w + 2.0 * half_w * f64::from(j) / f64::from(nw);
                let x = c.0 + along * f.0 - across * f.1;
                let y = c.1 + along * f.1 + across * f.0;
                best = best.max(self.grid.bilinear(x, y)? + lift);
            }
        }
        best.is_finite().then_some(best)
    }
}

/// Intervals of a lattice over `[-half, half]` with points at most `step` apart (at least one).
fn lattice(half: f64, step: f64) -> u32 {
    let n = (2.0 * half / step).ceil();
    if n.is_finite() && n >= 1.0 {
        // Bounded: patch and belly sizes are metres, so this is a few dozen at most.
        n.min(1000.0) as u32
    } else {
        1
    }
}

/// The DEM's bilinear surface, read for many samples: the value of [`Grid::bilinear`], with
/// the transform hoisted and the grid's four bounds checks and two libm `floor` calls (the
/// baseline x86-64 target has no rounding instruction) replaced by one range check on the
/// fractional cell position: inside `[0, width - 1)` truncation is the floor. When the cell
/// sizes are powers of two (every real DEM here: 1 m, 0.5 m...), dividing by them and
/// multiplying by their reciprocals are the same exact operation, and the multiplication is
/// several times cheaper.
#[derive(Debug, Clone, Copy)]
struct Surface<'a> {
    grid: &'a Grid,
    data: &'a [f32],
    width: usize,
    x0: f64,
    y0: f64,
    dx: f64,
    dy: f64,
    /// Reciprocals of `dx` and `dy` (exact when `pow2`).
    ix: f64,
    iy: f64,
    /// Whether `dx` and `dy` are both powers of two.
    pow2: bool,
    /// `width - 1` and `height - 1`: a cell's top-left corner must lie below them.
    cols: f64,
    rows: f64,
}

impl<'a> Surface<'a> {
    fn new(grid: &'a Grid) -> Self {
        let t = grid.transform;
        let pow2 = |d: f64| {
            d.is_normal() && d.to_bits() & ((1u64 << 52) - 1) == 0 && (1.0 / d).is_normal()
        };
        Surface {
            grid,
            data: &grid.data,
            width: grid.width,
            x0: t.x0,
            y0: t.y0,
            dx: t.dx,
            dy: t.dy,
            ix: 1.0 / t.dx,
            iy: 1.0 / t.dy,
            pow2: pow2(t.dx) && pow2(t.dy),
            // A grid over 2^31 cells wide would not fit in memory; clamp anyway, so the i32
            // cast below can never saturate (samples beyond would read as unknown ground).
            cols: (grid.width as f64 - 1.0).min(f64::from(i32::MAX)),
            rows: (grid.height as f64 - 1.0).min(f64::from(i32::MAX)),
        }
    }

    /// [`Grid::bilinear`] at `(x, y)`, except NaN where it may say `None` (a no-data
    /// corner); `MUL` must be `self.pow2` (a constant, so each lattice loop is compiled once
    /// each way and never computes both).
    // Always: it is the inner loop of every lattice, and left to itself the compiler may stop
    // inlining it once it has several callers.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn at<const MUL: bool>(&self, x: f64, y: f64) -> Option<f64> {
        let (c, r) = if MUL {
            ((x - self.x0) * self.ix, (y - self.y0) * self.iy)
        } else {
            ((x - self.x0) / self.dx, (y - self.y0) / self.dy)
        };
        let (fc, fr) = (c - 0.5, r - 0.5);
        // The grid needs corners floor(fc) .. floor(fc) + 1 in 0 .. width (and so for rows):
        // exactly `0 <= fc < width - 1`, which NaN and infinities fail. There the cast
        // truncates, which is the floor; `cols` and `rows` are below 2^31, so it fits an i32,
        // whose cast is a third the cost of a usize's.
        if !(fc >= 0.0 && fr >= 0.0 && fc < self.cols && fr < self.rows) {
            return None;
        }
        let (ci, ri) = (fc as i32, fr as i32);
        let (tx, ty) = (fc - f64::from(ci), fr - f64::from(ri));
        let (w, i) = (self.width, ri as usize * self.width + ci as usize);
        // One bounds check for the four corners: the slice is `w + 2` long.
        let q = &self.data[i..i + w + 2];
        let (z00, z10, z01, z11) =
            (f64::from(q[0]), f64::from(q[1]), f64::from(q[w]), f64::from(q[w + 1]));
        let top = z00 + (z10 - z00) * tx;
        let bottom = z01 + (z11 - z01) * tx;
        // NaN when a corner is no-data (NaN propagates through every term) or from infinities
        // in the data, where the grid may answer `None` or NaN: the caller settles it.
        Some(top + (bottom - top) * ty)
    }
}

/// Most intervals per side of a [`Patch`]; larger lattices (absurd profiles) take the plain
/// [`Ground`] methods, which give the same values.
const PATCH_MAX: usize = 32;

/// The lattice of one contact patch or belly tile, which is the same for every wheel (or
/// tile) of a pose: the offsets along and across the heading, already multiplied by the
/// heading's components, and each row's cylinder lift. Every value is computed by the same
/// expression, in the same order, as in [`Ground::max_in_rect`] and [`Ground::wheel_centre`],
/// so samples land on the same points to the bit.
#[derive(Debug, Clone, Copy)]
struct Patch {
    /// Heading unit vector.
    f: (f64, f64),
    /// Rows along the heading: `along` and the cylinder lift (0 for a flat tile).
    along: [f64; PATCH_MAX + 1],
    lift: [f64; PATCH_MAX + 1],
    /// Columns across: `across * f.1` and `across * f.0`.
    af1: [f64; PATCH_MAX + 1],
    af0: [f64; PATCH_MAX + 1],
    nl: usize,
    nw: usize,
    /// The rectangle, for the plain method when a sample is NaN.
    half_l: f64,
    half_w: f64,
    cylinder: bool,
    /// How far the farthest sample is from the centre, `hypot(half_l, half_w)`.
    reach: f64,
}

impl Patch {
    /// The lattice of a rectangle `half_l` along `f` and `half_w` across, lifted as a cylinder
    /// of radius `half_l` when `cylinder`; `None` when it is larger than [`PATCH_MAX`].
    fn new(f: (f64, f64), half_l: f64, half_w: f64, cylinder: bool) -> Option<Self> {
        const STEP_M: f64 = 0.1;
        let (nl, nw) = (lattice(half_l, STEP_M), lattice(half_w, STEP_M));
        if nl as usize > PATCH_MAX || nw as usize > PATCH_MAX {
            return None;
        }
        let zero = [0.0; PATCH_MAX + 1];
        let mut p = Patch {
            f,
            along: zero,
            lift: zero,
            af1: zero,
            af0: zero,
            nl: nl as usize,
            nw: nw as usize,
            half_l,
            half_w,
            cylinder,
            reach: half_l.hypot(half_w),
        };
        for i in 0..=nl {
            let along = -half_l + 2.0 * half_l * f64::from(i) / f64::from(nl);
            p.along[i as usize] = along;
            if cylinder {
                p.lift[i as usize] = (half_l * half_l - along * along).max(0.0).sqrt();
            }
        }
        for j in 0..=nw {
            let across = -half_w + 2.0 * half_w * f64::from(j) / f64::from(nw);
            p.af1[j as usize] = across * f.1;
            p.af0[j as usize] = across * f.0;
        }
        Some(p)
    }

    /// Highest `ground + lift` over the patch centred at `c`; `None` over unknown ground.
    fn max_over(&self, s: &Surface<'_>, c: (f64, f64)) -> Option<f64> {
        if s.pow2 {
            self.max_over_as::<true>(s, c)
        } else {
            self.max_over_as::<false>(s, c)
        }
    }

    fn max_over_as<const MUL: bool>(&self, s: &Surface<'_>, c: (f64, f64)) -> Option<f64> {
        let mut best = f64::NEG_INFINITY;
        // NaN (a no-data corner, or infinities in the data) is rare: a running sum carries it
        // without a branch per sample and, if seen, the plain method gives its exact answer.
        let mut sum = 0.0;
        let (af1, af0) = (&self.af1[..=self.nw], &self.af0[..=self.nw]);
        for (&along, &lift) in self.along[..=self.nl].iter().zip(&self.lift[..=self.nl]) {
            let (a, b) = (c.0 + along * self.f.0, c.1 + along * self.f.1);
            for (&a1, &a0) in af1.iter().zip(af0) {
                let v = s.at::<MUL>(a - a1, b + a0)? + lift;
                sum += v;
                // `max` without its NaN handling (NaN compares false, and is caught above).
                best = if v > best { v } else { best };
            }
        }
        if sum.is_nan() {
            return self.plain(Ground { grid: s.grid }, c);
        }
        best.is_finite().then_some(best)
    }

    /// [`Self::max_over`], reusing the last pass's `peak` when the Lipschitz bound proves its
    /// sample is still the highest (then only that sample is taken, by the same expression, so
    /// the answer is the same to the bit), and recording the new one.
    fn max_over_again(
        &self,
        s: &Surface<'_>,
        c: (f64, f64),
        peak: &mut Option<Peak>,
    ) -> Option<f64> {
        if s.pow2 {
            self.max_over_again_as::<true>(s, c, peak)
        } else {
            self.max_over_again_as::<false>(s, c, peak)
        }
    }

    fn max_over_again_as<const MUL: bool>(
        &self,
        s: &Surface<'_>,
        c: (f64, f64),
        peak: &mut Option<Peak>,
    ) -> Option<f64> {
        if let Some(p) = *peak {
            if let Some(eps) = s.change_bound(p.c, c, self.reach) {
                if p.best - p.second > 2.0 * eps {
                    let (a, b) =
                        (c.0 + self.along[p.i] * self.f.0, c.1 + self.along[p.i] * self.f.1);
                    let v = s.at::<MUL>(a - self.af1[p.j], b + self.af0[p.j])? + self.lift[p.i];
                    if v.is_finite() {
                        *peak = Some(Peak { c, best: v, second: p.second + eps, ..p });
                        return Some(v);
                    }
                }
            }
        }
        *peak = None;
        let mut best = f64::NEG_INFINITY;
        let mut second = f64::NEG_INFINITY;
        let (mut bi, mut bj) = (0, 0);
        let mut sum = 0.0;
        let (af1, af0) = (&self.af1[..=self.nw], &self.af0[..=self.nw]);
        for (i, (&along, &lift)) in
            self.along[..=self.nl].iter().zip(&self.lift[..=self.nl]).enumerate()
        {
            let (a, b) = (c.0 + along * self.f.0, c.1 + along * self.f.1);
            for (j, (&a1, &a0)) in af1.iter().zip(af0).enumerate() {
                let v = s.at::<MUL>(a - a1, b + a0)? + lift;
                sum += v;
                let lower = if v > best { best } else { v };
                if v > best {
                    (best, bi, bj) = (v, i, j);
                }
                second = if lower > second { lower } else { second };
            }
        }
        if sum.is_nan() {
            return self.plain(Ground { grid: s.grid }, c);
        }
        if best.is_finite() {
            *peak = Some(Peak { c, best, i: bi, j: bj, second });
            Some(best)
        } else {
            None
        }
    }

    /// The same maximum by [`Ground`]'s plain methods.
    fn plain(&self, g: Ground<'_>, c: (f64, f64)) -> Option<f64> {
        if self.cylinder {
            g.wheel_centre(c, self.f, self.half_l, self.half_w)
        } else {
            g.max_in_rect(c, self.f, self.half_l, self.half_w)
        }
    }
}

/// What a full pass over a wheel's patch found: the highest sample and an upper bound on all
/// the others, so that after the wheel moves a little (the next pass of the fixed point) a
/// Lipschitz bound on the ground can prove the same sample is still the highest, and only it
/// is sampled again.
#[derive(Debug, Clone, Copy)]
struct Peak {
    /// Where the patch was centred.
    c: (f64, f64),
    /// The highest sample's value and its row and column in the lattice.
    best: f64,
    i: usize,
    j: usize,
    /// No other sample was higher than this.
    second: f64,
}

impl Surface<'_> {
    /// A bound on how much any sample of a patch reaching `reach` metres from its centre can
    /// change when the centre moves from `old` to `new`: the largest slope of the cells under
    /// both (from their corners, which bound a bilinear cell's gradient) times the move, plus
    /// the coordinates' and the arithmetic's rounding, generously. `None` when those cells are
    /// not all on the grid and finite (then every sample is taken again, and decides).
    fn change_bound(&self, old: (f64, f64), new: (f64, f64), reach: f64) -> Option<f64> {
        let d = (new.0 - old.0).abs().max((new.1 - old.1).abs());
        let m = reach + d + 1e-6;
        if !m.is_finite() {
            return None;
        }
        let cell = |x: f64, y: f64| ((x - self.x0) * self.ix - 0.5, (y - self.y0) * self.iy - 0.5);
        let (a, b) = (cell(new.0 - m, new.1 - m), cell(new.0 + m, new.1 + m));
        let (c_lo, c_hi) = (a.0.min(b.0), a.0.max(b.0));
        let (r_lo, r_hi) = (a.1.min(b.1), a.1.max(b.1));
        // Every point of the box lies in a cell whose corners are all on the grid.
        if !(c_lo >= 0.0 && r_lo >= 0.0 && c_hi < self.cols && r_hi < self.rows) {
            return None;
        }
        let (c0, c1, r0, r1) = (c_lo as usize, c_hi as usize, r_lo as usize, r_hi as usize);
        if (c1 - c0 + 1) * (r1 - r0 + 1) > 16 {
            return None;
        }
        let (mut lx, mut ly) = (0.0_f64, 0.0_f64);
        for row in r0..=r1 {
            for col in c0..=c1 {
                let i = row * self.width + col;
                let q = &self.data[i..i + self.width + 2];
                let (z00, z10) = (f64::from(q[0]), f64::from(q[1]));
                let (z01, z11) = (f64::from(q[self.width]), f64::from(q[self.width + 1]));
                if !(z00.is_finite() && z10.is_finite() && z01.is_finite() && z11.is_finite()) {
                    return None;
                }
                lx = lx.max((z10 - z00).abs()).max((z11 - z01).abs());
                ly = ly.max((z01 - z00).abs()).max((z11 - z10).abs());
            }
        }
        let slope = lx / self.dx.abs() + ly / self.dy.abs();
        // Each sample's coordinates round by a few ulp of the map coordinates (2e-9 m at 8e6
        // m), its value by a few ulp of the elevation (1e-12 m at 4 km): 1e-7 m and 1e-9 m.
        let bound = 1.01 * (slope * (d + 1e-7) + 1e-9);
        bound.is_finite().then_some(bound)
    }
}

/// The rover's state at one pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseState {
    /// Chassis pitch, degrees, nose up positive.
    pub pitch_deg: f64,
    /// Chassis roll, degrees, left side up positive.
    pub roll_deg: f64,
    /// Tilt of the body's up axis from vertical, degrees.
    pub tilt_deg: f64,
    /// Height of the rocker pivots' midpoint, metres (map elevation).
    pub height_m: f64,
    /// Left and right rocker angle relative to the body, degrees.
    pub rocker_deg: [f64; 2],
    /// Left and right bogie angle relative to its rocker, degrees.
    pub bogie_deg: [f64; 2],
    /// The differential angle (left rocker relative to the body), degrees.
    pub differential_deg: f64,
    /// Wheel centre heights: front, middle, rear left, then front, middle, rear right.
    pub wheel_z_m: [f64; 6],
    /// Smallest belly-pan clearance to the ground under it, metres.
    pub clearance_m: f64,
    /// Conservative bounds on the same quantities, for what the DEM cannot see.
    pub bounds: Bounds,
}

/// `asin` clamped to its domain, so a linkage asked to span more than its length stretches to
/// its limit rather than returning NaN.
fn asin_c(v: f64) -> f64 {
    v.clamp(-1.0, 1.0).asin()
}

/// One side's planar linkage, its fixed lengths and angles computed once per pose rather than
/// at each of the 24 times it is solved (4 passes and 16 bound corners).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Linkage {
    /// Middle-to-rear wheel length and angle.
    l_mr: f64,
    phi_b: f64,
    /// Bogie pivot from the rear wheel, body x and z.
    rb: (f64, f64),
    /// Front-wheel-to-bogie-pivot length and angle.
    l_fb: f64,
    phi_r: f64,
    /// Rocker pivot from the bogie pivot, body x and z.
    bp: (f64, f64),
}

impl Linkage {
    pub(crate) fn new(k: &Kinematics) -> Self {
        let (f, m, r, b, p) =
            (k.front_wheel, k.middle_wheel, k.rear_wheel, k.bogie_pivot, k.rocker_pivot);
        Linkage {
            l_mr: (m[0] - r[0]).hypot(m[2] - r[2]),
            phi_b: (m[2] - r[2]).atan2(m[0] - r[0]),
            rb: (b[0] - r[0], b[2] - r[2]),
            l_fb: (f[0] - b[0]).hypot(f[2] - b[2]),
            phi_r: (f[2] - b[2]).atan2(f[0] - b[0]),
            bp: (p[0] - b[0], p[2] - b[2]),
        }
    }

    /// The bogie's absolute angle and its pivot's height for middle and rear wheel centre
    /// heights `zm`, `zr`.
    fn bogie(&self, zm: f64, zr: f64) -> (f64, f64) {
        let gb = asin_c((zm - zr) / self.l_mr) - self.phi_b;
        (gb, zr + (self.rb.0 * gb.sin() + self.rb.1 * gb.cos()))
    }

    /// The rocker's absolute angle and its pivot's height for the front wheel at `zf` and the
    /// bogie pivot at `zb`.
    fn rocker(&self, zf: f64, zb: f64) -> (f64, f64) {
        let gr = asin_c((zf - zb) / self.l_fb) - self.phi_r;
        (gr, zb + (self.bp.0 * gr.sin() + self.bp.1 * gr.cos()))
    }

    /// One side: returns (rocker absolute angle, bogie relative angle, rocker pivot height).
    pub(crate) fn side(&self, zf: f64, zm: f64, zr: f64) -> (f64, f64, f64) {
        let (gb, zb) = self.bogie(zm, zr);
        let (gr, zp) = self.rocker(zf, zb);
        (gr, gb - gr, zp)
    }

    /// [`Self::side`] at the 8 corners of a box of wheel heights (`lo`, `hi`, front, middle,
    /// rear; `c` taken off the middle): low and high of each output. The bogie depends on the
    /// middle and rear wheels only, so it is solved at their 4 corners, not 8.
    pub(crate) fn side_box(&self, lo: &[f64], hi: &[f64], c: f64) -> [[f64; 2]; 3] {
        let mut out = [[f64::INFINITY, f64::NEG_INFINITY]; 3];
        for mr in 0..4u8 {
            let zm = if mr & 1 == 0 { lo[1] } else { hi[1] };
            let zr = if mr & 2 == 0 { lo[2] } else { hi[2] };
            let (gb, zb) = self.bogie(zm - c, zr);
            for zf in [lo[0], hi[0]] {
                let (gr, zp) = self.rocker(zf, zb);
                for (o, v) in out.iter_mut().zip([gr, gb - gr, zp]) {
                    o[0] = o[0].min(v);
                    o[1] = o[1].max(v);
                }
            }
        }
        out
    }
}

/// Passes of the pitch-and-roll iteration always made.
const PLAIN_PASSES: usize = 4;
/// Most passes on ground where the plain passes have not settled.
const MAX_PASSES: usize = 60;
/// Largest change of pitch or roll in a pass (radians, 0.06 deg) for the pose to be settled.
const SETTLED_RAD: f64 = 1e-3;

/// Places the rover at `(x, y)` facing `heading_deg` on `ground`; `None` when any wheel or
/// the belly pan touches unknown ground.
///
/// The wheels are placed by a fixed-point iteration (the body's attitude moves them, their
/// heights give the attitude): four passes, or fewer when a pass changes neither pitch nor
/// roll by more than [`CONVERGED_RAD`] (flat ground: one pass lands on the answer).
#[must_use]
pub fn solve(
    k: &Kinematics,
    ground: &Ground<'_>,
    x: f64,
    y: f64,
    heading_deg: f64,
) -> Option<PoseState> {
    let h = heading_deg.to_radians();
    let fwd = (h.sin(), h.cos());
    let left = (-h.cos(), h.sin());
    let at = |bx: f64, by: f64| (x + bx * fwd.0 + by * left.0, y + bx * fwd.1 + by * left.1);
    let surface = Surface::new(ground.grid);
    let r = k.wheel_radius_m;
    let wheel_patch = Patch::new(fwd, r, 0.5 * k.wheel_width_m, true);
    let mut peaks = [None; 6];
    let mut wheel = |n: usize, c: (f64, f64)| match &wheel_patch {
        Some(p) => p.max_over_again(&surface, c, &mut peaks[n]),
        None => ground.wheel_centre(c, fwd, r, 0.5 * k.wheel_width_m),
    };
    let link = Linkage::new(k);
    // The sides' planes are at the front/rear wheels' |y|; the middle wheels stand `dm`
    // further out, so a pitched and rolled body carries them `dm * sin(roll) * cos(pitch)`
    // higher (left) or lower (the height of body vector (0, dm, 0) under the rotation; an
    // earlier `dm * tan(roll)` read as 0.09 deg of bogie on a 15.6 deg plane and up to 0.5 deg
    // on real drives): take that out using the previous pass's pitch and roll.
    let y_side = k.front_wheel[1];
    let dm = k.middle_wheel[1] - y_side;
    let mut roll = 0.0_f64;
    let mut out = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut z = [0.0; 6];
    // ACE-style: each wheel centre is known to within the DEM's vertical uncertainty.
    let u = k.dem_vertical_uncertainty_m.max(0.0);
    let (mut zlo, mut zhi) = ([0.0; 6], [0.0; 6]);
    let mut pitch_prev = 0.0_f64;
    let mut c = 0.0;
    // Plain passes settle ordinary ground (0.003 deg left on a 15.6 deg plane). Where pass 4
    // still moves pitch or roll by over SETTLED_RAD, the passes go on, halving the step each
    // time it reverses: a drop across the rover made the plain passes flip between a 90 deg
    // roll (wheels where the flat body stands) and a level one (wheels pulled under the
    // centre), so the 4th pass reported a 3 deg tilt on a 44 deg consistent pose.
    let (mut relax, mut last) = (1.0_f64, (0.0, 0.0));
    for pass in 1..=MAX_PASSES {
        // Wheels stand where the tilted body puts them (previous pass's pitch p and roll r,
        // nose-up pitch then left-up roll): body (bx, by) lies at bx cos p - by sin p sin r
        // ahead and by cos r to the left (exact on a plane at convergence). Without the
        // `by sin p sin r` term a pitched and rolled body overstated its roll by ~2%.
        let (cp, cr) = (pitch_prev.cos(), roll.cos());
        let spr = pitch_prev.sin() * roll.sin();
        for (s, sign) in [(0usize, 1.0), (1, -1.0)] {
            for (i, w) in [k.front_wheel, k.middle_wheel, k.rear_wheel].iter().enumerate() {
                let c = at(w[0] * cp - sign * w[1] * spr, sign * w[1] * cr);
                let zc = wheel(s * 3 + i, c)? + (w[2] - r);
                z[s * 3 + i] = zc;
                zlo[s * 3 + i] = zc - u;
                zhi[s * 3 + i] = zc + u;
            }
        }
        c = dm * roll.sin() * cp;
        let (gl, bl, pl) = link.side(z[0], z[1] - c, z[2]);
        let (gr, br, pr) = link.side(z[3], z[4] + c, z[5]);
        let pitch = 0.5 * (gl + gr);
        let roll_new = asin_c((pl - pr) / (2.0 * y_side * pitch.cos()));
        out = (pitch, 0.5 * (gl - gr), bl, br, pl, pr, roll_new);
        let step = (pitch - pitch_prev, roll_new - roll);
        // A pass that moves nothing has reached the fixed point (flat ground: one pass).
        if step.0.abs().max(step.1.abs()) <= CONVERGED_RAD {
            break;
        }
        if pass >= PLAIN_PASSES {
            if step.0.abs().max(step.1.abs()) < SETTLED_RAD {
                break;
            }
            if step.0 * last.0 + step.1 * last.1 < 0.0 {
                relax = (0.5 * relax).max(1.0 / 64.0);
            }
        }
        last = step;
        pitch_prev += relax * step.0;
        roll += relax * step.1;
    }
    let (pitch, diff, bl, br, pl, pr, roll) = out;
    let tilt = (pitch.cos() * roll.cos()).clamp(-1.0, 1.0).acos();
    let zo = 0.5 * (pl + pr);
    // Clearance tile by tile: the belly pan cut into 0.3 m x 0.32 m tiles (6 x 5), each the
    // belly plane's lowest corner over the tile minus the highest ground under it.
    let attitude = Attitude::new(pitch, roll);
    let mut tiles = [BellyTile::default(); BELLY_TILES];
    let mut clearance = f64::INFINITY;
    let (_, _, thx, thy) = belly_tile(k, 0);
    let tile_patch = Patch::new(fwd, thx, thy, false);
    for (n, tile) in tiles.iter_mut().enumerate() {
        let (cx, cy, hx, hy) = belly_tile(k, n);
        let g = match &tile_patch {
            Some(p) => p.max_over(&surface, at(cx, cy))?,
            None => ground.max_in_rect(at(cx, cy), fwd, hx, hy)?,
        };
        *tile = BellyTile { cx, cy, hx, hy, ground_m: g };
        clearance = clearance.min(belly_low(k, zo, &attitude, tile) - g);
    }
    let bounds = bounds::of(k, &link, &zlo, &zhi, c, &tiles);
    Some(PoseState {
        pitch_deg: pitch.to_degrees(),
        roll_deg: roll.to_degrees(),
        tilt_deg: tilt.to_degrees(),
        height_m: zo,
        rocker_deg: [diff.to_degrees(), -diff.to_degrees()],
        bogie_deg: [bl.to_degrees(), br.to_degrees()],
        differential_deg: diff.to_degrees(),
        wheel_z_m: z,
        clearance_m: clearance,
        bounds,
    })
}

/// A pass of [`solve`] that moves neither pitch nor roll by more than this (radians) has
/// reached the fixed point: the next would move them by a few percent of it.
pub const CONVERGED_RAD: f64 = 1e-10;

/// Tiles of the belly pan: 6 along x by 5 across.
pub(crate) const BELLY_TILES: usize = 30;

/// One tile of the belly pan and the highest ground under it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BellyTile {
    /// Centre in body x and y, metres.
    pub cx: f64,
    pub cy: f64,
    /// Half-extents in body x and y, metres.
    pub hx: f64,
    pub hy: f64,
    /// Highest ground under the tile, metres.
    pub ground_m: f64,
}

/// Centre and half-extents (body frame) of belly tile `n`.
fn belly_tile(k: &Kinematics, n: usize) -> (f64, f64, f64, f64) {
    let (nx, ny) = (6usize, 5usize);
    let [bx0, bx1] = k.belly_x_m;
    let hw = k.belly_half_width_m;
    let (tx, ty) = ((bx1 - bx0) / nx as f64, 2.0 * hw / ny as f64);
    let (i, j) = (n / ny, n % ny);
    (bx0 + (i as f64 + 0.5) * tx, -hw + (j as f64 + 0.5) * ty, 0.5 * tx, 0.5 * ty)
}

/// Sines and cosines of a body attitude (pitch, roll), computed once for all belly tiles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attitude {
    sp: f64,
    cp: f64,
    sr: f64,
    cr: f64,
}

impl Attitude {
    pub(crate) fn new(pitch: f64, roll: f64) -> Self {
        Attitude { sp: pitch.sin(), cp: pitch.cos(), sr: roll.sin(), cr: roll.cos() }
    }
}

/// Lowest corner of the belly plane over `tile` for a body at rocker-pivot height `zo` with
/// attitude `a`.
pub(crate) fn belly_low(k: &Kinematics, zo: f64, a: &Attitude, tile: &BellyTile) -> f64 {
    let drop = k.rocker_pivot[2] - k.belly_height_m;
    let mut lowest = f64::INFINITY;
    for bx in [tile.cx - tile.hx, tile.cx + tile.hx] {
        for by in [tile.cy - tile.hy, tile.cy + tile.hy] {
            let zb = zo + (bx - k.rocker_pivot[0]) * a.sp + by * a.cp * a.sr - drop * a.cp * a.cr;
            lowest = lowest.min(zb);
        }
    }
    lowest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    use crate::twin::test_kinematics as kin;

    fn t() -> GeoTransform {
        GeoTransform { x0: 0.0, y0: 40.0, dx: 0.1, dy: -0.1 }
    }

    /// The straightforward solve as first written (every sample through [`Ground`], the
    /// linkage's constants and each belly corner's sines recomputed; the same passes), kept
    /// as the oracle for the optimised one.
    mod reference {
        use super::super::{
            asin_c, belly_tile, BellyTile, Ground, Kinematics, BELLY_TILES, CONVERGED_RAD,
            MAX_PASSES, PLAIN_PASSES, SETTLED_RAD,
        };

        fn rot_z(a: f64, v: (f64, f64)) -> f64 {
            v.0 * a.sin() + v.1 * a.cos()
        }

        fn side(k: &Kinematics, zf: f64, zm: f64, zr: f64) -> (f64, f64, f64) {
            let (f, m, r, b, p) =
                (k.front_wheel, k.middle_wheel, k.rear_wheel, k.bogie_pivot, k.rocker_pivot);
            let l_mr = (m[0] - r[0]).hypot(m[2] - r[2]);
            let phi_b = (m[2] - r[2]).atan2(m[0] - r[0]);
            let gb = asin_c((zm - zr) / l_mr) - phi_b;
            let zb = zr + rot_z(gb, (b[0] - r[0], b[2] - r[2]));
            let l_fb = (f[0] - b[0]).hypot(f[2] - b[2]);
            let phi_r = (f[2] - b[2]).atan2(f[0] - b[0]);
            let gr = asin_c((zf - zb) / l_fb) - phi_r;
            let zp = zb + rot_z(gr, (p[0] - b[0], p[2] - b[2]));
            (gr, gb - gr, zp)
        }

        fn belly_low(k: &Kinematics, zo: f64, pitch: f64, roll: f64, tile: &BellyTile) -> f64 {
            let drop = k.rocker_pivot[2] - k.belly_height_m;
            let mut lowest = f64::INFINITY;
            for bx in [tile.cx - tile.hx, tile.cx + tile.hx] {
                for by in [tile.cy - tile.hy, tile.cy + tile.hy] {
                    let zb =
                        zo + (bx - k.rocker_pivot[0]) * pitch.sin() + by * pitch.cos() * roll.sin()
                            - drop * pitch.cos() * roll.cos();
                    lowest = lowest.min(zb);
                }
            }
            lowest
        }

        fn side_box(k: &Kinematics, lo: &[f64], hi: &[f64], c: f64) -> [[f64; 2]; 3] {
            let mut out = [[f64::INFINITY, f64::NEG_INFINITY]; 3];
            for corner in 0..8u8 {
                let pick = |i: usize| if corner & (1 << i) == 0 { lo[i] } else { hi[i] };
                let (g, b, p) = side(k, pick(0), pick(1) - c, pick(2));
                for (o, v) in out.iter_mut().zip([g, b, p]) {
                    o[0] = o[0].min(v);
                    o[1] = o[1].max(v);
                }
            }
            out
        }

        /// Degrees: pitch, roll, tilt, diff, bogie l/r, then the bounds' pitch, roll, tilt,
        /// differential and bogies; metres: height, wheels, clearance, clearance bound.
        pub(super) fn solve(
            k: &Kinematics,
            ground: Ground<'_>,
            x: f64,
            y: f64,
            heading_deg: f64,
        ) -> Option<Vec<f64>> {
            let h = heading_deg.to_radians();
            let fwd = (h.sin(), h.cos());
            let left = (-h.cos(), h.sin());
            let at =
                |bx: f64, by: f64| (x + bx * fwd.0 + by * left.0, y + bx * fwd.1 + by * left.1);
            let y_side = k.front_wheel[1];
            let dm = k.middle_wheel[1] - y_side;
            let mut roll = 0.0_f64;
            let mut out = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            let mut z = [0.0; 6];
            let u = k.dem_vertical_uncertainty_m.max(0.0);
            let (mut zlo, mut zhi) = ([0.0; 6], [0.0; 6]);
            let mut pitch_prev = 0.0_f64;
            let mut c = 0.0;
            let (mut relax, mut last) = (1.0_f64, (0.0, 0.0));
            for pass in 1..=MAX_PASSES {
                let (cp, cr) = (pitch_prev.cos(), roll.cos());
                let spr = pitch_prev.sin() * roll.sin();
                for (s, sign) in [(0usize, 1.0), (1, -1.0)] {
                    for (i, w) in [k.front_wheel, k.middle_wheel, k.rear_wheel].iter().enumerate() {
                        let c = at(w[0] * cp - sign * w[1] * spr, sign * w[1] * cr);
                        let r = k.wheel_radius_m;
                        let zc =
                            ground.wheel_centre(c, fwd, r, 0.5 * k.wheel_width_m)? + (w[2] - r);
                        z[s * 3 + i] = zc;
                        zlo[s * 3 + i] = zc - u;
                        zhi[s * 3 + i] = zc + u;
                    }
                }
                c = dm * roll.sin() * cp;
                let (gl, bl, pl) = side(k, z[0], z[1] - c, z[2]);
                let (gr, br, pr) = side(k, z[3], z[4] + c, z[5]);
                let pitch = 0.5 * (gl + gr);
                let roll_new = asin_c((pl - pr) / (2.0 * y_side * pitch.cos()));
                out = (pitch, 0.5 * (gl - gr), bl, br, pl, pr, roll_new);
                let step = (pitch - pitch_prev, roll_new - roll);
                if step.0.abs().max(step.1.abs()) <= CONVERGED_RAD {
                    break;
                }
                if pass >= PLAIN_PASSES {
                    if step.0.abs().max(step.1.abs()) < SETTLED_RAD {
                        break;
                    }
                    if step.0 * last.0 + step.1 * last.1 < 0.0 {
                        relax = (0.5 * relax).max(1.0 / 64.0);
                    }
                }
                last = step;
                pitch_prev += relax * step.0;
                roll += relax * step.1;
            }
            let (pitch, diff, bl, br, pl, pr, roll) = out;
            let tilt = (pitch.cos() * roll.cos()).clamp(-1.0, 1.0).acos();
            let zo = 0.5 * (pl + pr);
            let mut tiles = [BellyTile::default(); BELLY_TILES];
            let mut clearance = f64::INFINITY;
            for (n, tile) in tiles.iter_mut().enumerate() {
                let (cx, cy, hx, hy) = belly_tile(k, n);
                let g = ground.max_in_rect(at(cx, cy), fwd, hx, hy)?;
                *tile = BellyTile { cx, cy, hx, hy, ground_m: g };
                clearance = clearance.min(belly_low(k, zo, pitch, roll, tile) - g);
            }
            // The bounds, as bounds::of first computed them.
            let [gl, bbl, bpl] = side_box(k, &zlo[..3], &zhi[..3], c);
            let [gr, bbr, bpr] = side_box(k, &zlo[3..], &zhi[3..], -c);
            let bp = [0.5 * (gl[0] + gr[0]), 0.5 * (gl[1] + gr[1])];
            let bd = [0.5 * (gl[0] - gr[1]), 0.5 * (gl[1] - gr[0])];
            let p_abs = bp[0].abs().max(bp[1].abs());
            let span = 2.0 * k.front_wheel[1] * p_abs.cos().max(1e-9);
            let roll_of = |dz: f64| (dz / span).clamp(-1.0, 1.0).asin();
            let br_ = [roll_of(bpl[0] - bpr[1]), roll_of(bpl[1] - bpr[0])];
            let r_abs = br_[0].abs().max(br_[1].abs());
            let btilt = (p_abs.cos() * r_abs.cos()).clamp(-1.0, 1.0).acos();
            let zo_lo = 0.5 * (bpl[0] + bpr[0]);
            let mut bclear = f64::INFINITY;
            for tile in &tiles {
                let mut body = f64::INFINITY;
                for p in bp {
                    for r in br_ {
                        body = body.min(belly_low(k, zo_lo, p, r, tile));
                    }
                }
                bclear = bclear.min(body - tile.ground_m - u);
            }
            let mut v = vec![pitch, roll, tilt, diff, bl, br];
            v.extend(bp.iter().chain(&br_).chain(&[btilt]).chain(&bd).chain(&bbl).chain(&bbr));
            for a in &mut v {
                *a = a.to_degrees();
            }
            v.extend([zo].iter().chain(&z).chain(&[clearance, bclear]));
            Some(v)
        }
    }

    /// The optimised solve's outputs in [`reference::solve`]'s order.
    fn flat(s: &PoseState) -> Vec<f64> {
        let b = &s.bounds;
        let mut v = vec![
            s.pitch_deg,
            s.roll_deg,
            s.tilt_deg,
            s.differential_deg,
            s.bogie_deg[0],
            s.bogie_deg[1],
        ];
        v.extend(
            b.pitch_deg
                .iter()
                .chain(&b.roll_deg)
                .chain(&[b.tilt_max_deg])
                .chain(&b.differential_deg)
                .chain(&b.bogie_deg[0])
                .chain(&b.bogie_deg[1]),
        );
        v.extend(
            [s.height_m].iter().chain(&s.wheel_z_m).chain(&[s.clearance_m, b.clearance_min_m]),
        );
        v
    }

    fn gale() -> Grid {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/realdata/gale-marias-pass/dem.tif");
        assert!(p.is_file(), "real Mars data missing: {} (not skipping)", p.display());
        crate::terrain::Dem::open(&p).unwrap().read_all().unwrap()
    }

    /// [`Surface::at`] the way [`Patch::max_over`] calls it.
    fn at(s: &Surface<'_>, x: f64, y: f64) -> Option<f64> {
        if s.pow2 {
            s.at::<true>(x, y)
        } else {
            s.at::<false>(x, y)
        }
    }

    #[test]
    fn the_surface_samples_the_grids_bilinear_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut grids = vec![gale()];
        assert!(Surface::new(&grids[0]).pow2, "the real DEM's 1 m cells multiply");
        // A grid whose cells are not a power of two (divides), with no-data holes and an
        // infinite cell.
        let odd = GeoTransform { x0: 3.0, y0: 17.0, dx: 0.3, dy: -0.3 };
        let mut g = Grid::from_fn(40, 40, odd, |x, y| (x * 0.7 - y * y * 0.01).sin() as f32);
        assert!(!Surface::new(&g).pow2);
        g.set(10, 10, f32::NAN);
        g.set(20, 5, f32::INFINITY);
        grids.push(g);
        for g in &grids {
            let s = Surface::new(g);
            let t = g.transform;
            let (w, h) = (g.width as f64 * t.dx, g.height as f64 * t.dy);
            for _ in 0..20_000 {
                // Up to a tenth beyond each edge, so some samples fall off the grid.
                let x = t.x0 + w * rng.gen_range(-0.1..1.1);
                let y = t.y0 + h * rng.gen_range(-0.1..1.1);
                let (a, b) = (at(&s, x, y), g.bilinear(x, y));
                match (a, b) {
                    // A no-data corner: NaN here, `None` from the grid.
                    (Some(a), None) if a.is_nan() => {}
                    _ => assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "({x}, {y})"),
                }
            }
            for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e300, 1e300, 3e15, -3e15] {
                assert_eq!(at(&s, v, t.y0), None);
                assert_eq!(at(&s, t.x0, v), None);
                assert_eq!(g.bilinear(v, t.y0), None);
            }
        }
        // Patches over both grids, the odd one's holes and infinities included: the same
        // answers as the plain methods.
        let mut agreed = [0usize; 2];
        for g in &grids {
            let (s, ground, t) = (Surface::new(g), Ground { grid: g }, g.transform);
            let (w, h) = (g.width as f64 * t.dx, g.height as f64 * t.dy);
            for n in 0..4000 {
                let c =
                    (t.x0 + w * rng.gen_range(-0.05..1.05), t.y0 + h * rng.gen_range(-0.05..1.05));
                let hd: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
                let f = (hd.sin(), hd.cos());
                let (hl, hw, cyl) =
                    if n % 2 == 0 { (0.2625, 0.2, true) } else { (0.15, 0.16, false) };
                let p = Patch::new(f, hl, hw, cyl).unwrap();
                let fast = p.max_over(&s, c);
                assert_eq!(fast.map(f64::to_bits), p.plain(ground, c).map(f64::to_bits), "{c:?}");
                agreed[usize::from(fast.is_some())] += 1;
            }
        }
        assert!(agreed[0] > 100 && agreed[1] > 1000, "{agreed:?}");
    }

    #[test]
    fn a_wheel_moved_a_little_keeps_its_peak_only_when_that_is_provably_the_answer() {
        use rand::{Rng, SeedableRng};
        let g = gale();
        let s = Surface::new(&g);
        let t = g.transform;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (mut reused, mut n) = (0, 0);
        for _ in 0..3000 {
            let c = (t.x0 + rng.gen_range(3.0..345.0), t.y0 - rng.gen_range(3.0..334.0));
            let hd: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
            let p = Patch::new((hd.sin(), hd.cos()), 0.2625, 0.2, true).unwrap();
            let mut peak = None;
            let first = p.max_over_again(&s, c, &mut peak);
            assert_eq!(first.map(f64::to_bits), p.max_over(&s, c).map(f64::to_bits));
            // Moves from a micrometre to 5 cm, as between passes of the fixed point.
            let step = 10f64.powf(rng.gen_range(-6.0..-1.3));
            let moved =
                (c.0 + step * rng.gen_range(-1.0..1.0), c.1 + step * rng.gen_range(-1.0..1.0));
            let before = peak;
            let again = p.max_over_again(&s, moved, &mut peak);
            assert_eq!(
                again.map(f64::to_bits),
                p.max_over(&s, moved).map(f64::to_bits),
                "{c:?} {moved:?}"
            );
            // A reused peak keeps its lattice point and widens its bound on the others.
            if let (Some(a), Some(b)) = (before, peak) {
                n += 1;
                if b.second > a.second && (b.i, b.j) == (a.i, a.j) {
                    reused += 1;
                }
            }
        }
        println!("{reused} of {n} moved wheels kept their peak (same point, wider bound)");
        assert!(reused > n / 4 && reused < n, "{reused} of {n}");
    }

    #[test]
    fn the_optimised_solve_matches_the_straightforward_one_on_the_real_dem() {
        use rand::{Rng, SeedableRng};
        let k = kin();
        let g = gale();
        let ground = Ground { grid: &g };
        let t = g.transform;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (mut worst, mut bitwise, mut some) = (0.0_f64, 0, 0);
        let n = 400;
        for i in 0..n {
            // Mostly inside; one in ten within 3 m of the north-west corner's edges, where
            // some wheel or tile is off the DEM (unknown ground must agree too).
            let (x, y) = if i % 10 == 0 {
                (t.x0 + rng.gen_range(0.0..3.0), t.y0 - rng.gen_range(0.0..30.0))
            } else {
                (
                    t.x0 + rng.gen_range(5.0..g.width as f64 - 5.0),
                    t.y0 - rng.gen_range(5.0..g.height as f64 - 5.0),
                )
            };
            let heading = rng.gen_range(0.0..360.0);
            let (fast, slow) =
                (solve(&k, &ground, x, y, heading), reference::solve(&k, ground, x, y, heading));
            assert_eq!(fast.is_some(), slow.is_some(), "({x}, {y}, {heading})");
            let (Some(fast), Some(slow)) = (fast, slow) else { continue };
            some += 1;
            let fv = flat(&fast);
            assert_eq!(fv.len(), slow.len());
            if fv.iter().zip(&slow).all(|(a, b)| a.to_bits() == b.to_bits()) {
                bitwise += 1;
            }
            for (j, (a, b)) in fv.iter().zip(&slow).enumerate() {
                worst = worst.max((a - b).abs());
                assert!((a - b).abs() <= 1e-9, "({x}, {y}, {heading}) value {j}: {a} vs {b}");
            }
        }
        println!(
            "{some} of {n} poses on known ground, {bitwise} identical to the bit, worst {worst:e}"
        );
        assert!(some > n * 8 / 10 && some < n, "{some}");
    }

    #[test]
    fn flat_ground_converges_in_one_pass_to_the_four_pass_answer() {
        let k = kin();
        let g = Grid::filled(400, 400, -10.0, t());
        let ground = Ground { grid: &g };
        for heading in [0.0, 37.0, 90.0, 211.0] {
            let fast = flat(&solve(&k, &ground, 20.0, 20.0, heading).unwrap());
            let slow = reference::solve(&k, ground, 20.0, 20.0, heading).unwrap();
            assert!(
                fast.iter().zip(&slow).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{fast:?} {slow:?}"
            );
        }
    }

    #[test]
    fn a_tilted_plane_tilts_the_chassis_by_the_planes_slope() {
        let k = kin();
        // 11.3 degrees, rising to the north-east, on a 1 m grid like the real DEMs: the bilinear
        // surface is exact on a plane, so nothing here is quantised by the cells.
        let slope: f64 = 0.2;
        let coarse = GeoTransform { x0: 0.0, y0: 40.0, dx: 1.0, dy: -1.0 };
        let g = Grid::from_fn(40, 40, coarse, |x, y| (slope * (x + y) / 2f64.sqrt()) as f32);
        let plane = slope.atan().to_degrees();
        for heading in [0.0, 45.0, 90.0, 150.0, 225.0, 300.0] {
            let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, heading).unwrap();
            assert!((s.tilt_deg - plane).abs() < 0.01, "heading {heading}: {s:?} vs {plane}");
        }
    }

    #[test]
    fn a_plane_gives_no_articulation_and_the_planes_own_pitch_and_roll() {
        let k = kin();
        // z = 0.25 (x - 20) - 0.125 (y - 20) on 1 m posts at half-integer centres: every post is
        // a multiple of 1/8, exact in f32, and bilinear is exact on a plane, so the only error
        // left is the solver's.
        let coarse = GeoTransform { x0: 0.0, y0: 40.0, dx: 1.0, dy: -1.0 };
        let (ax, ay) = (0.25, -0.125);
        let g = Grid::from_fn(40, 40, coarse, |x, y| (ax * (x - 20.0) + ay * (y - 20.0)) as f32);
        for heading in [0.0_f64, 30.0, 75.0, 140.0, 200.0, 290.0] {
            let h = heading.to_radians();
            // Slopes along the heading and to the left; the body's z axis is the plane's normal:
            // rot(p, r) z = (-cos r sin p, -sin r, cos r cos p) gives tan p = gf and
            // sin r = gl cos r cos p, i.e. tan r = gl cos p.
            let (gf, gl) = (ax * h.sin() + ay * h.cos(), -ax * h.cos() + ay * h.sin());
            let pitch = gf.atan();
            let roll = (gl * pitch.cos()).atan();
            let tilt = (1.0 / (1.0 + ax * ax + ay * ay).sqrt()).acos();
            let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, heading).unwrap();
            // The solver's 4 passes leave up to 0.003 deg here (6 passes: 4e-5, 8: 6e-7): the
            // wheels' horizontal positions come from the previous pass's pitch and roll. The
            // middle wheels' old `dm tan(roll)` correction left 0.086 deg of bogie.
            let tol = 0.005;
            assert!(s.differential_deg.abs() < tol, "heading {heading}: {s:?}");
            assert!(s.bogie_deg.iter().all(|b| b.abs() < tol), "heading {heading}: {s:?}");
            assert!((s.pitch_deg - pitch.to_degrees()).abs() < tol, "heading {heading}: {s:?}");
            assert!((s.roll_deg - roll.to_degrees()).abs() < tol, "heading {heading}: {s:?}");
            assert!((s.tilt_deg - tilt.to_degrees()).abs() < tol, "heading {heading}: {s:?}");
        }
    }

    #[test]
    fn a_block_under_one_rear_wheel_turns_its_bogie_and_the_differential_as_the_linkage_predicts() {
        let k = kin();
        let hgt = 0.2;
        // Rover at (20, 20) facing north: the left rear wheel stands at (18.9375, 18.925). A
        // block 0.8 m square under it (its patch is 0.525 x 0.4 m; the left middle wheel's
        // starts 0.81 m away) lifts that wheel alone; every other wheel stays on flat ground, so
        // every wheel height is exact whatever the body's tilt does to their positions.
        let g = Grid::from_fn(400, 400, t(), |x, y| {
            if (x - 18.9375).abs() < 0.4 && (y - 18.925).abs() < 0.4 {
                hgt as f32
            } else {
                0.0
            }
        });
        let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, 0.0).unwrap();
        // The prediction, link by link (angles nose-up from the body's nominal pose). On each
        // side the bogie turns about the rear wheel until the middle wheel reaches its height,
        // which in the side's plane is its ground height less what the rolled body lifts a
        // point `dm` further out (`+-dm sin(roll) cos(pitch)`, so even the right side, on flat
        // ground, articulates); the rocker turns about the bogie pivot until the front wheel
        // reaches its height. Roll couples the sides: a fixed point, solved here to 1e-15.
        let (f, m, r, b, p) =
            (k.front_wheel, k.middle_wheel, k.rear_wheel, k.bogie_pivot, k.rocker_pivot);
        let dm = m[1] - f[1];
        let turn = |v: (f64, f64), a: f64| v.0 * a.sin() + v.1 * a.cos();
        // (rocker rotation, bogie relative to it, rocker pivot height) of one side.
        let side = |zf: f64, zm: f64, zr: f64| {
            let beta = ((zm - zr) / (m[0] - r[0])).asin(); // M and R at the same body z
            let zb = zr + turn((b[0] - r[0], b[2] - r[2]), beta);
            let (fb, phi) = ((f[0] - b[0]).hypot(f[2] - b[2]), (f[2] - b[2]).atan2(f[0] - b[0]));
            let alpha = ((zf - zb) / fb).asin() - phi;
            (alpha, beta - alpha, zb + turn((p[0] - b[0], p[2] - b[2]), alpha))
        };
        let (mut pitch, mut roll) = (0.0_f64, 0.0_f64);
        let (mut diff, mut bogie) = (0.0, [0.0; 2]);
        for _ in 0..100 {
            let c = dm * roll.sin() * pitch.cos();
            let (al, bl, pl) = side(f[2], m[2] - c, r[2] + hgt);
            let (ar, br, pr) = side(f[2], m[2] + c, r[2]);
            (diff, bogie) = (0.5 * (al - ar), [bl, br]);
            pitch = 0.5 * (al + ar);
            roll = ((pl - pr) / (2.0 * f[1] * pitch.cos())).asin();
        }
        let deg = f64::to_degrees;
        let (want_diff, want_bogie) = (deg(diff), [deg(bogie[0]), deg(bogie[1])]);
        println!(
            "predicted: pitch {} roll {} bogie {want_bogie:?} differential {want_diff}",
            deg(pitch),
            deg(roll)
        );
        println!("twin: {s:?}");
        // Not 1e-6: the twin's middle-wheel correction uses the previous pass's roll, and its
        // passes stop after 4 here (each moves pitch and roll by < 1e-3 rad). Each pass shrinks
        // the roll error by q = 0.04 (the right side's rocker pivot moves by its bogie's share
        // of c = dm sin(roll) cos(pitch)); pass 4's bogie error is then at most
        // dm / |MR| * q^3 * roll = 0.11 * 6.4e-5 * 1.06 deg = 8e-6 deg, and roll's q^4 * 1.06 =
        // 3e-6 deg (measured: 9.5e-6 and 2.1e-6). The wheel heights themselves are exact: the
        // block is 0.2 m in f32, 3e-9 m off, 2e-7 deg of bogie.
        let tol = 2e-5;
        for i in 0..2 {
            assert!((s.bogie_deg[i] - want_bogie[i]).abs() < tol, "{s:?} vs {want_bogie:?}");
        }
        assert!((s.differential_deg - want_diff).abs() < tol, "{s:?} vs {want_diff}");
        assert!((s.pitch_deg - deg(pitch)).abs() < tol, "{s:?}");
        assert!((s.roll_deg - deg(roll)).abs() < tol, "{s:?}");
        // A real articulation, not a near-zero one that any answer would match.
        assert!(
            want_bogie[0] < -5.0 && want_diff < -1.0 && deg(roll) > 1.0,
            "{want_bogie:?} {want_diff}"
        );
    }

    #[test]
    fn flat_ground_gives_zero_angles_and_the_profiles_clearance() {
        let k = kin();
        let g = Grid::filled(400, 400, -10.0, t());
        for heading in [0.0, 37.0, 90.0, 211.0] {
            let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, heading).unwrap();
            for v in [
                s.pitch_deg,
                s.roll_deg,
                s.tilt_deg,
                s.differential_deg,
                s.bogie_deg[0],
                s.bogie_deg[1],
            ] {
                assert!(v.abs() < 1e-9, "{s:?}");
            }
            assert!((s.clearance_m - k.belly_height_m).abs() < 1e-9, "{s:?}");
        }
    }

    #[test]
    fn a_block_under_the_front_wheels_lifts_the_rockers_as_the_geometry_predicts() {
        let k = kin();
        let hgt = 0.25;
        // Rover at (20, 20) facing north: the front wheels are at (20 -+ 1.0625, 21.185). A
        // block under both (symmetric, so no roll) turns both rockers about their bogies.
        let g = Grid::from_fn(400, 400, t(), |x, y| {
            if (x - 20.0).abs() < 1.4 && (y - 21.185).abs() < 0.35 {
                hgt as f32
            } else {
                0.0
            }
        });
        let s = solve(&k, &Ground { grid: &g }, 20.0, 20.0, 0.0).unwrap();
        let (f, b) = (k.front_wheel, k.bogie_pivot);
        let l = (f[0] - b[0]).hypot(f[2] - b[2]);
        let rocker =
            (((f[2] + hgt - b[2]) / l).asin() - (f[2] - b[2]).atan2(f[0] - b[0])).to_degrees();
        assert!(s.differential_deg.abs() < 1e-9 && s.roll_deg.abs() < 1e-9, "{s:?}");
        assert!((s.pitch_deg - rocker).abs() < 1e-6, "{s:?} vs {rocker}");
        for bogie in s.bogie_deg {
            assert!((bogie + rocker).abs() < 1e-6, "{s:?}");
        }
        assert!(rocker > 5.0, "{rocker}");
    }
}
