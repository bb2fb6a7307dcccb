//! Rover pitch and roll from the least-squares plane under its footprint.
//!
//! Why a plane and not the slope raster: the rover's six wheels rest on the terrain under its
//! whole 3 x 2.7 m body, not on one 1 m cell. A plane fitted to every cell centre under the
//! footprint averages single-cell DEM noise (tens of cm on HiRISE DTMs) the way the
//! rocker-bogie averages the ground; Horn's slope of one cell would both over- and
//! under-state the tilt the rover feels. The checker's tilt rule (ROVER.md: 25°, 30° hard)
//! compares [`Tilt::tilt_deg`] with its limit.
//!
//! Convention. With the plane `z = a + gx * east + gy * north`, heading `h` clockwise from
//! north, forward unit vector `f = (sin h, cos h)` and right unit vector `r = (cos h, -sin h)`
//! (east, north): `g_f = g·f` is the rise per metre driven forward and `g_r = g·r` the rise
//! per metre to the rover's right. Then
//!
//! - `pitch = atan(g_f)`, **positive nose-up** (driving uphill);
//! - `roll = atan(g_r / sqrt(1 + g_f²))`, **positive when the right side is higher**;
//! - `tilt = atan(|g|)`, the angle between the body's up axis and the vertical.
//!
//! These are Tait–Bryan angles (yaw = heading, then pitch about the lateral axis, then roll
//! about the pitched longitudinal axis), so `cos(tilt) = cos(pitch) · cos(roll)` exactly and
//! `sin(roll) = g_r / sqrt(1 + |g|²)`.

use serde::Serialize;

use super::footprint::{Footprint, Plane};
use crate::error::Result;
use crate::terrain::{Dem, Grid};

/// The attitude of a rover standing on the plane fitted under its footprint, degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tilt {
    /// Nose-up positive: the rover drives uphill.
    pub pitch_deg: f64,
    /// Right-side-up positive: the ground rises to the rover's right.
    pub roll_deg: f64,
    /// Total tilt from vertical, `atan(|gradient|)`; always >= 0.
    pub tilt_deg: f64,
    /// Cells the plane was fitted to.
    pub cells: usize,
}

/// Pitch, roll and tilt (degrees) of a rover with heading `heading_deg` on `plane`.
#[must_use]
pub fn attitude_on_plane(plane: &Plane, heading_deg: f64) -> (f64, f64, f64) {
    let (s, c) = heading_deg.to_radians().sin_cos();
    let g_f = plane.gx * s + plane.gy * c;
    let g_r = plane.gx * c - plane.gy * s;
    let pitch = g_f.atan();
    let roll = (g_r / (1.0 + g_f * g_f).sqrt()).atan();
    let tilt = plane.gx.hypot(plane.gy).atan();
    (pitch.to_degrees(), roll.to_degrees(), tilt.to_degrees())
}

/// Tilt of a rover standing on `grid` with footprint `fp`; `None` when a cell under it is
/// no-data or off the grid, or when the cells under it are fewer than three or collinear.
#[must_use]
pub fn tilt_on(grid: &Grid, fp: &Footprint) -> Option<Tilt> {
    let cells = fp.cells(grid)?;
    let plane = cells.plane()?;
    let (pitch_deg, roll_deg, tilt_deg) = attitude_on_plane(&plane, fp.heading_deg);
    Some(Tilt { pitch_deg, roll_deg, tilt_deg, cells: cells.len() })
}

/// Tilt of a rover centred at map `(x, y)` with heading `heading_deg` (clockwise from north)
/// and a footprint of `half_length_m` along by `half_width_m` across the heading.
///
/// Cells whose centres lie inside the rotated rectangle are fitted with a least-squares plane;
/// `None` when any of them is no-data or off the grid (unknown terrain is never assumed
/// flat), when fewer than three non-collinear cells are under the footprint, or when an
/// argument is not finite or not a positive size.
///
/// # Examples
///
/// ```
/// use breadcrumb_tools::analysis::tilt::footprint_tilt;
/// use breadcrumb_tools::terrain::{GeoTransform, Grid};
///
/// // Ground rising 1 m per metre northward: 45° of pitch driving north, 45° of roll
/// // (left side up) driving east.
/// let t = GeoTransform { x0: 0.0, y0: 20.0, dx: 1.0, dy: -1.0 };
/// let dem = Grid::from_fn(20, 20, t, |_x, y| y as f32);
/// let north = footprint_tilt(&dem, 10.0, 10.0, 0.0, 1.5, 1.35).unwrap();
/// assert!((north.pitch_deg - 45.0).abs() < 1e-9 && north.roll_deg.abs() < 1e-9);
/// let east = footprint_tilt(&dem, 10.0, 10.0, 90.0, 1.5, 1.35).unwrap();
/// assert!(east.pitch_deg.abs() < 1e-9 && (east.roll_deg + 45.0).abs() < 1e-9);
/// ```
#[must_use]
pub fn footprint_tilt(
    grid: &Grid,
    x: f64,
    y: f64,
    heading_deg: f64,
    half_length_m: f64,
    half_width_m: f64,
) -> Option<Tilt> {
    let fp = Footprint::new(x, y, heading_deg, half_length_m, half_width_m).ok()?;
    tilt_on(grid, &fp)
}

/// [`tilt_on`] reading only the cells around the footprint from `dem` (through its tile cache).
pub fn tilt_at(dem: &Dem, fp: &Footprint) -> Result<Option<Tilt>> {
    Ok(tilt_on(&fp.read_under(dem)?, fp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::raster_io::write_f32_geotiff;
    use crate::terrain::GeoTransform;

    /// A plane through z = 0 at map (16, 16) on 1 m cells. Cell centres are at half-integers,
    /// so with dyadic gradients every elevation is exact in f32 and the fit is exact.
    fn plane(gx: f64, gy: f64) -> Grid {
        let t = GeoTransform { x0: 0.0, y0: 32.0, dx: 1.0, dy: -1.0 };
        Grid::from_fn(32, 32, t, |x, y| (gx * (x - 16.0) + gy * (y - 16.0)) as f32)
    }

    fn analytic(gx: f64, gy: f64, h: f64) -> (f64, f64, f64) {
        let (s, c) = h.to_radians().sin_cos();
        let gf = gx * s + gy * c;
        let gr = gx * c - gy * s;
        let pitch = gf.atan().to_degrees();
        let roll = (gr / (1.0 + gf * gf).sqrt()).atan().to_degrees();
        (pitch, roll, gx.hypot(gy).atan().to_degrees())
    }

    #[test]
    fn pitch_and_roll_match_analytic_planes_at_many_headings() {
        for (gx, gy) in [(0.25, 0.0), (0.0, 0.5), (0.375, -0.25), (-0.5, 0.125), (0.75, 0.625)] {
            let g = plane(gx, gy);
            for h in [0.0, 45.0, 90.0, 137.0, 270.0, -30.0, 400.0] {
                let got = footprint_tilt(&g, 16.3, 15.8, h, 1.5, 1.35).unwrap();
                let (p, r, t) = analytic(gx, gy, h);
                assert!((got.pitch_deg - p).abs() < 1e-6, "g=({gx},{gy}) h={h}: {got:?} vs {p}");
                assert!((got.roll_deg - r).abs() < 1e-6, "g=({gx},{gy}) h={h}: {got:?} vs {r}");
                assert!((got.tilt_deg - t).abs() < 1e-6, "g=({gx},{gy}) h={h}: {got:?} vs {t}");
                let lhs = got.tilt_deg.to_radians().cos();
                let rhs = got.pitch_deg.to_radians().cos() * got.roll_deg.to_radians().cos();
                assert!((lhs - rhs).abs() < 1e-12);
                assert!(got.cells >= 6, "{got:?}");
            }
        }
    }

    #[test]
    fn signs_follow_the_documented_convention() {
        // Ground rises to the east.
        let g = plane(0.5, 0.0);
        let east = footprint_tilt(&g, 16.0, 16.0, 90.0, 1.5, 1.35).unwrap();
        assert!(east.pitch_deg > 26.0 && east.roll_deg.abs() < 1e-9, "uphill is nose-up");
        let west = footprint_tilt(&g, 16.0, 16.0, 270.0, 1.5, 1.35).unwrap();
        assert!(west.pitch_deg < -26.0, "downhill is nose-down");
        let north = footprint_tilt(&g, 16.0, 16.0, 0.0, 1.5, 1.35).unwrap();
        assert!(north.roll_deg > 26.0, "ground rising to the right is right-side-up");
        let south = footprint_tilt(&g, 16.0, 16.0, 180.0, 1.5, 1.35).unwrap();
        assert!(south.roll_deg < -26.0);
    }

    #[test]
    fn noisy_plane_is_close() {
        let t = GeoTransform { x0: 8_142_406.0, y0: -276_455.0, dx: 1.0, dy: -1.0 };
        let g = Grid::from_fn(40, 40, t, |x, y| {
            (-4450.0 + 0.3 * (x - 8_142_426.0) - 0.1 * (y + 276_475.0)) as f32
        });
        let got = footprint_tilt(&g, 8_142_426.2, -276_474.7, 137.0, 1.5, 1.35).unwrap();
        let (p, r, _) = analytic(0.3, -0.1, 137.0);
        // f32 elevations near -4450 m carry ~0.2 mm rounding: far below any limit.
        assert!((got.pitch_deg - p).abs() < 0.05 && (got.roll_deg - r).abs() < 0.05, "{got:?}");
    }

    #[test]
    fn flat_ground_is_level_and_nodata_is_unknown() {
        let mut g = plane(0.0, 0.0);
        let flat = footprint_tilt(&g, 16.0, 16.0, 137.0, 1.5, 1.35).unwrap();
        assert_eq!((flat.pitch_deg, flat.roll_deg, flat.tilt_deg), (0.0, 0.0, 0.0));
        g.set(16, 16, f32::NAN); // centre (16.5, 15.5)
        assert!(footprint_tilt(&g, 16.0, 16.0, 137.0, 1.5, 1.35).is_none());
        assert!(footprint_tilt(&g, 5.0, 5.0, 0.0, 1.5, 1.35).is_some());
        assert!(footprint_tilt(&g, 0.5, 5.0, 0.0, 1.5, 1.35).is_none(), "off the grid");
        assert!(footprint_tilt(&g, f64::NAN, 5.0, 0.0, 1.5, 1.35).is_none());
        assert!(footprint_tilt(&g, 5.0, 5.0, 0.0, -1.5, 1.35).is_none());
        assert!(footprint_tilt(&g, 5.5, 5.5, 0.0, 0.2, 0.2).is_none(), "one cell: no plane");
    }

    #[test]
    fn tilt_at_reads_the_dem_window() {
        let dir = tempfile::tempdir().unwrap();
        let g = plane(0.25, -0.125);
        let p = dir.path().join("dem.tif");
        write_f32_geotiff(&p, &g, "", -32767.0).unwrap();
        let dem = Dem::open(&p).unwrap();
        let fp = Footprint::new(16.3, 15.8, 137.0, 1.5, 1.35).unwrap();
        assert_eq!(tilt_at(&dem, &fp).unwrap(), tilt_on(&g, &fp));
        let off = Footprint::new(-100.0, 15.8, 137.0, 1.5, 1.35).unwrap();
        assert_eq!(tilt_at(&dem, &off).unwrap(), None);
    }
}
