//! The fine raster every feature paints into: heights and albedo at the ortho's pixel size
//! (half the DEM cell).
//!
//! Why one fine field: the ortho must show features smaller than a DEM post (a 1 m rock is two
//! pixels at 0.5 m/px, ROVER.md \[H1, H2\]), and a DTM is smoother than the image it came from, so
//! the DEM is derived from this field by 2x2 block averaging rather than painted separately.

use super::geometry::Point;

/// Fine height and albedo layers over a horizontal band of the square site (or all of it), row
/// 0 at the north edge.
///
/// Why bands: a large site's fine field does not fit in memory (an 8192-cell DEM at 1 m makes a
/// 16384^2 field, 3 GB for its three layers), so it is painted band by band. Every painter works
/// from pixel positions in site coordinates ([`Canvas::centre`], [`Canvas::window`]), never from
/// its neighbours, so a pixel gets exactly the same value whatever band it is painted in.
#[derive(Debug, Clone)]
pub struct Canvas {
    /// Pixels per side of the whole site (and per row of the band).
    pub n: usize,
    /// Site row of the band's first row (0 for the whole site).
    pub row0: usize,
    /// Rows held (`n` for the whole site).
    pub rows: usize,
    /// Pixel size, m.
    pub cell: f64,
    /// Site side length, m (`n * cell`).
    pub extent: f64,
    /// Heights relative to the site's base elevation, m (row-major, band rows only).
    pub z: Vec<f32>,
    /// Surface albedo in 0..1 (row-major).
    pub albedo: Vec<f32>,
    /// Sand cover weight 0..1 (ripple fields), used to bury rocks and damp roughness.
    pub sand: Vec<f32>,
}

/// An inclusive-exclusive pixel window `[c0, c1) x [r0, r1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub c0: usize,
    /// One past the last column.
    pub c1: usize,
    /// First row.
    pub r0: usize,
    /// One past the last row.
    pub r1: usize,
}

impl Canvas {
    /// A flat canvas of `n x n` pixels of `cell` metres, albedo `albedo`.
    #[must_use]
    #[cfg(test)]
    pub fn new(n: usize, cell: f64, albedo: f32) -> Self {
        Canvas::band(n, cell, albedo, 0, n)
    }

    /// Rows `row0 .. row0 + rows` of an `n x n` site of `cell`-metre pixels, albedo `albedo`.
    #[must_use]
    pub fn band(n: usize, cell: f64, albedo: f32, row0: usize, rows: usize) -> Self {
        Canvas {
            n,
            row0,
            rows,
            cell,
            extent: n as f64 * cell,
            z: vec![0.0; n * rows],
            albedo: vec![albedo; n * rows],
            sand: vec![0.0; n * rows],
        }
    }

    /// Site-local coordinates of the centre of pixel `(col, row)` (`row` counted in the band).
    #[must_use]
    pub fn centre(&self, col: usize, row: usize) -> Point {
        [(col as f64 + 0.5) * self.cell, self.y_of(row)]
    }

    /// Site-local northing of the centres of band row `row`.
    #[must_use]
    pub fn y_of(&self, row: usize) -> f64 {
        self.extent - ((self.row0 + row) as f64 + 0.5) * self.cell
    }

    /// Pixels whose centres may fall within the site-local box, or `None` if it misses the band;
    /// rows are counted in the band (the site's window cut to the band's rows).
    #[must_use]
    pub fn window(&self, xmin: f64, ymin: f64, xmax: f64, ymax: f64) -> Option<Window> {
        if !(xmin.is_finite() && ymin.is_finite() && xmax.is_finite() && ymax.is_finite()) {
            return None;
        }
        let n = self.n as f64;
        let c0 = (xmin / self.cell - 0.5).floor().max(0.0);
        let c1 = (xmax / self.cell + 0.5).ceil().min(n);
        let r0 = ((self.extent - ymax) / self.cell - 0.5).floor().max(0.0);
        let r1 = ((self.extent - ymin) / self.cell + 0.5).ceil().min(n);
        if c0 >= c1 || r0 >= r1 {
            return None;
        }
        let r0 = (r0 as usize).max(self.row0);
        let r1 = (r1 as usize).min(self.row0 + self.rows);
        if r0 >= r1 {
            return None;
        }
        Some(Window { c0: c0 as usize, c1: c1 as usize, r0: r0 - self.row0, r1: r1 - self.row0 })
    }

    /// Row-major index of `(col, row)` (`row` counted in the band).
    #[must_use]
    pub fn idx(&self, col: usize, row: usize) -> usize {
        row * self.n + col
    }
}

/// Hermite smoothstep from 0 at `e0` to 1 at `e1`.
#[must_use]
pub fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_clamped_and_covers_the_box() {
        let c = Canvas::new(100, 0.5, 0.5);
        let w = c.window(10.0, 10.0, 12.0, 12.0).unwrap();
        let [x0, y0] = c.centre(w.c0, w.r1 - 1);
        let [x1, y1] = c.centre(w.c1 - 1, w.r0);
        assert!(x0 <= 10.0 && y0 <= 10.0 && x1 >= 12.0 && y1 >= 12.0);
        assert!(c.window(-10.0, -10.0, -5.0, -5.0).is_none());
        let all = c.window(-1e9, -1e9, 1e9, 1e9).unwrap();
        assert_eq!(all, Window { c0: 0, c1: 100, r0: 0, r1: 100 });
    }
}
