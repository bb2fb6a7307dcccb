//! Where the checker reads elevations from: a [`Dem`] (GDAL windows through its tile cache) or
//! an in-memory [`Grid`] (synthetic and analytic terrain in tests and benches). The checker only
//! ever asks for small windows around the rover, so a mosaic of any size works.

use crate::error::Result;
use crate::terrain::{Dem, GeoTransform, Grid};

/// A north-up elevation raster the checker can read windows of. Cells outside the raster and
/// no-data cells come back as NaN (unknown terrain).
pub trait ElevationSource: Sync {
    /// Placement of the raster's cells on the map.
    fn transform(&self) -> GeoTransform;

    /// Columns and rows.
    fn size(&self) -> (usize, usize);

    /// The window of `width x height` cells whose top-left cell is `(col0, row0)`; cells off
    /// the raster are NaN.
    fn window(&self, col0: i64, row0: i64, width: usize, height: usize) -> Result<Grid>;
}

impl ElevationSource for Dem {
    fn transform(&self) -> GeoTransform {
        Dem::transform(self)
    }

    fn size(&self) -> (usize, usize) {
        Dem::size(self)
    }

    fn window(&self, col0: i64, row0: i64, width: usize, height: usize) -> Result<Grid> {
        Dem::window(self, col0, row0, width, height)
    }
}

impl ElevationSource for Grid {
    fn transform(&self) -> GeoTransform {
        self.transform
    }

    fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn window(&self, col0: i64, row0: i64, width: usize, height: usize) -> Result<Grid> {
        let mut out = Grid::filled(width, height, f32::NAN, self.transform.shifted(col0, row0));
        for r in 0..height {
            for c in 0..width {
                if let Some(v) = self.get(col0 + c as i64, row0 + r as i64) {
                    out.data[r * width + c] = v;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_windows_are_nan_off_the_grid() {
        let t = GeoTransform { x0: 0.0, y0: 10.0, dx: 1.0, dy: -1.0 };
        let g = Grid::from_fn(10, 10, t, |x, y| (x + 100.0 * y) as f32);
        let w = ElevationSource::window(&g, -1, 8, 3, 3).unwrap();
        assert_eq!(w.get(0, 0), None);
        assert_eq!(w.get(1, 0), g.get(0, 8));
        assert_eq!(w.get(2, 1), g.get(1, 9));
        assert_eq!(w.get(1, 2), None);
        assert_eq!(w.transform, t.shifted(-1, 8));
    }
}
