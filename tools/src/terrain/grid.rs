//! An in-memory raster window: elevations (or any f32 product) with NaN for no-data, placed on
//! the map by a north-up geotransform. Analysis works on grids so that it never needs to know
//! whether the cells came from a GDAL window, a synthetic generator or a test builder.

/// A north-up affine placement of raster cells in map metres.
///
/// Cell `(col, row)` covers `[x0 + col*dx, x0 + (col+1)*dx]` east and
/// `[y0 + (row+1)*dy, y0 + row*dy]` north, with `dy < 0` for the usual north-up raster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform {
    /// Map x of the left edge of column 0.
    pub x0: f64,
    /// Map y of the top edge of row 0.
    pub y0: f64,
    /// Cell width in map metres (positive).
    pub dx: f64,
    /// Cell height in map metres (negative for north-up rasters).
    pub dy: f64,
}

impl GeoTransform {
    /// Builds a north-up transform from GDAL's six coefficients, or `None` when the raster is
    /// rotated or sheared or has a zero cell size.
    #[must_use]
    pub fn from_gdal(gt: [f64; 6]) -> Option<Self> {
        if gt[2] != 0.0 || gt[4] != 0.0 || gt[1] == 0.0 || gt[5] == 0.0 {
            return None;
        }
        if !gt.iter().all(|v| v.is_finite()) {
            return None;
        }
        Some(GeoTransform { x0: gt[0], y0: gt[3], dx: gt[1], dy: gt[5] })
    }

    /// GDAL's six coefficients.
    #[must_use]
    pub fn to_gdal(self) -> [f64; 6] {
        [self.x0, self.dx, 0.0, self.y0, 0.0, self.dy]
    }

    /// Fractional (col, row) of a map point; cell centres are at `.5`.
    #[must_use]
    pub fn to_cell(self, x: f64, y: f64) -> (f64, f64) {
        ((x - self.x0) / self.dx, (y - self.y0) / self.dy)
    }

    /// Map coordinates of the centre of cell `(col, row)`.
    #[must_use]
    pub fn cell_center(self, col: i64, row: i64) -> (f64, f64) {
        (self.x0 + (col as f64 + 0.5) * self.dx, self.y0 + (row as f64 + 0.5) * self.dy)
    }

    /// The transform of a window whose top-left cell is `(col, row)` of this one.
    #[must_use]
    pub fn shifted(self, col: i64, row: i64) -> Self {
        GeoTransform {
            x0: self.x0 + col as f64 * self.dx,
            y0: self.y0 + row as f64 * self.dy,
            ..self
        }
    }

    /// The cell size in metres along x and y (both positive).
    #[must_use]
    pub fn resolution(self) -> (f64, f64) {
        (self.dx.abs(), self.dy.abs())
    }
}

/// A rectangular block of f32 cells in row-major order, NaN meaning no-data (unknown terrain).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Row-major values, `width * height` long; NaN is no-data.
    pub data: Vec<f32>,
    /// Where the grid lies on the map.
    pub transform: GeoTransform,
}

impl Grid {
    /// A grid filled with `value`.
    #[must_use]
    pub fn filled(width: usize, height: usize, value: f32, transform: GeoTransform) -> Self {
        Grid { width, height, data: vec![value; width * height], transform }
    }

    /// Builds a grid by evaluating `f(x, y)` at every cell centre (map metres).
    pub fn from_fn(
        width: usize,
        height: usize,
        transform: GeoTransform,
        mut f: impl FnMut(f64, f64) -> f32,
    ) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for row in 0..height {
            for col in 0..width {
                let (x, y) = transform.cell_center(col as i64, row as i64);
                data.push(f(x, y));
            }
        }
        Grid { width, height, data, transform }
    }

    /// The value at `(col, row)`, `None` outside the grid or on no-data.
    #[must_use]
    pub fn get(&self, col: i64, row: i64) -> Option<f32> {
        if col < 0 || row < 0 || col as usize >= self.width || row as usize >= self.height {
            return None;
        }
        let v = self.data[row as usize * self.width + col as usize];
        (!v.is_nan()).then_some(v)
    }

    /// Sets the value at `(col, row)`; out-of-range writes are ignored.
    pub fn set(&mut self, col: usize, row: usize, value: f32) {
        if col < self.width && row < self.height {
            self.data[row * self.width + col] = value;
        }
    }

    /// Bilinear elevation at a map point from the four surrounding cell centres, `None` when any
    /// of them is no-data or off the grid (unknown terrain is never interpolated into).
    #[must_use]
    pub fn bilinear(&self, x: f64, y: f64) -> Option<f64> {
        let (c, r) = self.transform.to_cell(x, y);
        let (fc, fr) = (c - 0.5, r - 0.5);
        if !fc.is_finite() || !fr.is_finite() {
            return None;
        }
        let (c0, r0) = (fc.floor(), fr.floor());
        let (tx, ty) = (fc - c0, fr - r0);
        let (c0, r0) = (c0 as i64, r0 as i64);
        let z00 = f64::from(self.get(c0, r0)?);
        let z10 = f64::from(self.get(c0 + 1, r0)?);
        let z01 = f64::from(self.get(c0, r0 + 1)?);
        let z11 = f64::from(self.get(c0 + 1, r0 + 1)?);
        let top = z00 + (z10 - z00) * tx;
        let bottom = z01 + (z11 - z01) * tx;
        Some(top + (bottom - top) * ty)
    }

    /// Number of valid (non-NaN) cells.
    #[must_use]
    pub fn valid_count(&self) -> usize {
        self.data.iter().filter(|v| !v.is_nan()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt() -> GeoTransform {
        GeoTransform { x0: 100.0, y0: 200.0, dx: 1.0, dy: -1.0 }
    }

    #[test]
    fn cell_center_and_to_cell_are_inverse() {
        let t = gt();
        let (x, y) = t.cell_center(3, 7);
        assert_eq!((x, y), (103.5, 192.5));
        assert_eq!(t.to_cell(x, y), (3.5, 7.5));
    }

    #[test]
    fn rotated_transform_is_refused() {
        assert!(GeoTransform::from_gdal([0.0, 1.0, 0.1, 0.0, 0.0, -1.0]).is_none());
        assert!(GeoTransform::from_gdal([0.0, 1.0, 0.0, 0.0, 0.0, -1.0]).is_some());
    }

    #[test]
    fn bilinear_reproduces_a_plane_and_refuses_nodata() {
        let t = gt();
        let mut g = Grid::from_fn(10, 10, t, |x, y| (0.5 * x + 0.25 * y) as f32);
        let z = g.bilinear(104.2, 195.9).unwrap();
        assert!((z - (0.5 * 104.2 + 0.25 * 195.9)).abs() < 1e-3);
        g.set(4, 4, f32::NAN);
        assert!(g.bilinear(104.2, 195.9).is_none());
        assert!(g.bilinear(50.0, 50.0).is_none());
        assert!(g.bilinear(f64::NAN, 1.0).is_none());
    }
}
