//! A DEM (or any single-band raster) read through GDAL in windows, with a small LRU cache of
//! fixed-size tiles.
//!
//! Why tiles: local questions (the slope under a rover, the cells along a segment) touch a few
//! hundred cells, while real HiRISE mosaics are gigabytes. Every read goes through 256 x 256
//! tiles aligned to the raster origin; at most [`Dem::DEFAULT_CACHE_TILES`] are kept, so memory
//! stays bounded (64 tiles x 256 KiB = 16 MiB) whatever the raster's size.
//!
//! No-data cells (the band's no-data value, or NaN) come back as NaN: unknown terrain, never
//! flat terrain.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use gdal::Dataset;
use lru::LruCache;

use super::grid::{GeoTransform, Grid};
use crate::error::{Result, ToolsError};

/// GDAL's own block cache, MiB, unless the user sets `GDAL_CACHEMAX`.
///
/// GDAL keeps decoded blocks in a global cache of 5% of RAM by default, beneath our tile
/// cache, so our bound alone did not bound memory: 1,000 scattered reads of a 20000² raster
/// peaked at 312 MB, against 75 MB with this cap. Our own tiles already hold what is reused.
pub const GDAL_BLOCK_CACHE_MB: usize = 32;

/// Caps GDAL's block cache once per process, before the first raster is read or written, unless the user
/// has chosen a size with the `GDAL_CACHEMAX` environment variable.
pub fn bound_gdal_block_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("GDAL_CACHEMAX").is_none() {
            let _ =
                gdal::config::set_config_option("GDAL_CACHEMAX", &GDAL_BLOCK_CACHE_MB.to_string());
        }
    });
}

/// Most cells one window read may return (400 MB of f32): windows far larger than any local
/// question needs are refused instead of allocated.
const WINDOW_LIMIT_CELLS: f64 = 1.0e8;

/// Side of a cache tile, in cells.
pub const TILE: usize = 256;

/// One cached tile: `TILE * TILE` cells (short at the raster's right and bottom edges).
struct Tile {
    width: usize,
    data: Vec<f32>,
}

struct Inner {
    dataset: Dataset,
    cache: LruCache<(usize, usize), Arc<Tile>>,
}

/// A raster opened for windowed reading.
pub struct Dem {
    path: PathBuf,
    width: usize,
    height: usize,
    transform: GeoTransform,
    nodata: Option<f64>,
    crs_wkt: String,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Dem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dem")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("transform", &self.transform)
            .field("nodata", &self.nodata)
            .finish_non_exhaustive()
    }
}

impl Dem {
    /// Tiles kept in memory by default.
    pub const DEFAULT_CACHE_TILES: usize = 64;

    /// Opens a raster for reading (any GDAL format: GeoTIFF, PDS3 `.IMG`, JP2, COG, ...).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_cache(path, Self::DEFAULT_CACHE_TILES)
    }

    /// Opens a raster keeping at most `cache_tiles` tiles (at least one) in memory.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_tiles: usize) -> Result<Self> {
        bound_gdal_block_cache();
        let path = path.as_ref().to_path_buf();
        if !super::bundle::is_virtual(&path) && !path.exists() {
            return Err(ToolsError::Missing { path });
        }
        let dataset = Dataset::open(&path).map_err(|e| ToolsError::raster(&path, &e))?;
        let (width, height) = dataset.raster_size();
        if dataset.raster_count() < 1 || width == 0 || height == 0 {
            return Err(ToolsError::Invalid { path, reason: "raster has no cells".into() });
        }
        let gt = dataset
            .geo_transform()
            .map_err(|_| ToolsError::NoGeoTransform { path: path.clone() })?;
        if gt == [0.0, 1.0, 0.0, 0.0, 0.0, 1.0] {
            return Err(ToolsError::NoGeoTransform { path });
        }
        let transform = GeoTransform::from_gdal(gt)
            .ok_or(ToolsError::Rotated { path: path.clone(), transform: gt })?;
        let nodata =
            dataset.rasterband(1).map_err(|e| ToolsError::raster(&path, &e))?.no_data_value();
        let crs_wkt = dataset.projection();
        let cap = NonZeroUsize::new(cache_tiles.max(1)).unwrap_or(NonZeroUsize::MIN);
        Ok(Dem {
            path,
            width,
            height,
            transform,
            nodata,
            crs_wkt,
            inner: Mutex::new(Inner { dataset, cache: LruCache::new(cap) }),
        })
    }

    /// The file this raster was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Columns and rows.
    #[must_use]
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Placement on the map.
    #[must_use]
    pub fn transform(&self) -> GeoTransform {
        self.transform
    }

    /// The band's no-data value, if any.
    #[must_use]
    pub fn nodata(&self) -> Option<f64> {
        self.nodata
    }

    /// The CRS as WKT (empty when the raster has none).
    #[must_use]
    pub fn crs_wkt(&self) -> &str {
        &self.crs_wkt
    }

    /// Map extent `(xmin, ymin, xmax, ymax)`.
    #[must_use]
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let t = self.transform;
        let xa = t.x0;
        let xb = t.x0 + self.width as f64 * t.dx;
        let ya = t.y0;
        let yb = t.y0 + self.height as f64 * t.dy;
        (xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb))
    }

    /// Tiles currently cached (for tests and memory accounting).
    #[must_use]
    pub fn cached_tiles(&self) -> usize {
        self.lock().cache.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the cache inconsistent (tiles are
        // immutable and inserted whole), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn tile(&self, tx: usize, ty: usize) -> Result<Arc<Tile>> {
        let mut inner = self.lock();
        if let Some(t) = inner.cache.get(&(tx, ty)) {
            return Ok(Arc::clone(t));
        }
        let col0 = tx * TILE;
        let row0 = ty * TILE;
        let w = TILE.min(self.width - col0);
        let h = TILE.min(self.height - row0);
        let band = inner.dataset.rasterband(1).map_err(|e| ToolsError::raster(&self.path, &e))?;
        let mut data = vec![0f32; w * h];
        band.read_into_slice::<f32>(
            (col0 as isize, row0 as isize),
            (w, h),
            (w, h),
            &mut data,
            None,
        )
        .map_err(|e| ToolsError::raster(&self.path, &e))?;
        if let Some(nd) = self.nodata {
            let nd32 = nd as f32;
            for v in &mut data {
                if *v == nd32 || f64::from(*v) == nd {
                    *v = f32::NAN;
                }
            }
        }
        for v in &mut data {
            if !v.is_finite() {
                *v = f32::NAN;
            }
        }
        let tile = Arc::new(Tile { width: w, data });
        inner.cache.put((tx, ty), Arc::clone(&tile));
        Ok(tile)
    }

    /// The value of cell `(col, row)`: `Ok(None)` for no-data or a cell off the raster.
    pub fn cell(&self, col: i64, row: i64) -> Result<Option<f32>> {
        if col < 0 || row < 0 || col as usize >= self.width || row as usize >= self.height {
            return Ok(None);
        }
        let (col, row) = (col as usize, row as usize);
        let tile = self.tile(col / TILE, row / TILE)?;
        let v = tile.data[(row % TILE) * tile.width + col % TILE];
        Ok((!v.is_nan()).then_some(v))
    }

    /// Reads the window of `width x height` cells whose top-left cell is `(col0, row0)`.
    /// The window may extend past the raster: cells outside are NaN (unknown).
    pub fn window(&self, col0: i64, row0: i64, width: usize, height: usize) -> Result<Grid> {
        let mut grid = Grid::filled(width, height, f32::NAN, self.transform.shifted(col0, row0));
        let c_lo = col0.max(0);
        let r_lo = row0.max(0);
        let c_hi = (col0 + width as i64).min(self.width as i64);
        let r_hi = (row0 + height as i64).min(self.height as i64);
        if c_lo >= c_hi || r_lo >= r_hi {
            return Ok(grid);
        }
        let (c_lo, r_lo, c_hi, r_hi) = (c_lo as usize, r_lo as usize, c_hi as usize, r_hi as usize);
        for ty in r_lo / TILE..=(r_hi - 1) / TILE {
            for tx in c_lo / TILE..=(c_hi - 1) / TILE {
                let tile = self.tile(tx, ty)?;
                let tr0 = (ty * TILE).max(r_lo);
                let tr1 = (ty * TILE + TILE).min(r_hi);
                let tc0 = (tx * TILE).max(c_lo);
                let tc1 = (tx * TILE + TILE).min(c_hi);
                for r in tr0..tr1 {
                    let src = (r - ty * TILE) * tile.width;
                    let dst = (r as i64 - row0) as usize * width;
                    for c in tc0..tc1 {
                        grid.data[dst + (c as i64 - col0) as usize] =
                            tile.data[src + c - tx * TILE];
                    }
                }
            }
        }
        Ok(grid)
    }

    /// Reads the window of whole cells covering the map rectangle `[xmin, xmax] x [ymin, ymax]`
    /// plus `pad` cells on every side.
    pub fn window_around(
        &self,
        xmin: f64,
        ymin: f64,
        xmax: f64,
        ymax: f64,
        pad: usize,
    ) -> Result<Grid> {
        let (c0, r0, c1, r1) = self.cells_around(xmin, ymin, xmax, ymax)?;
        // Refuse windows far larger than any local question needs instead of allocating them.
        let (w, h) = (c1 - c0 + 2.0 * pad as f64, r1 - r0 + 2.0 * pad as f64);
        if w * h > WINDOW_LIMIT_CELLS {
            return Err(ToolsError::Argument(format!("window of {w} x {h} cells is too large")));
        }
        let pad = pad as i64;
        self.window(c0 as i64 - pad, r0 as i64 - pad, w.max(1.0) as usize, h.max(1.0) as usize)
    }

    /// [`Dem::window_around`] at `factor` times coarser cells, through
    /// [`Dem::read_decimated`]: the blocks of `factor x factor` cells, aligned to the raster's
    /// origin, that cover the map rectangle, plus `pad` blocks on every side.
    ///
    /// Why aligned to the origin: block `(i, j)` is then exactly cell `(i, j)` of an overview
    /// of that factor (GDAL's and a COG's overviews start at the raster's corner), so GDAL
    /// copies the overview's cells without resampling them, and two reads that share a block
    /// (the strips of one tile) see the same value for it.
    pub fn decimated_around(
        &self,
        xmin: f64,
        ymin: f64,
        xmax: f64,
        ymax: f64,
        pad: usize,
        factor: usize,
    ) -> Result<Grid> {
        if factor == 0 {
            return Err(ToolsError::Argument("decimation factor 0".into()));
        }
        let (c0, r0, c1, r1) = self.cells_around(xmin, ymin, xmax, ymax)?;
        let f = factor as f64;
        let (b0, b1) = ((c0 / f).floor() - pad as f64, (c1 / f).ceil() + pad as f64);
        let (a0, a1) = ((r0 / f).floor() - pad as f64, (r1 / f).ceil() + pad as f64);
        let (w, h) = ((b1 - b0).max(1.0), (a1 - a0).max(1.0));
        if w * h > WINDOW_LIMIT_CELLS {
            return Err(ToolsError::Argument(format!(
                "window of {w} x {h} cells (each {factor} x {factor} raster cells) is too large"
            )));
        }
        self.read_decimated(
            b0 as i64 * factor as i64,
            a0 as i64 * factor as i64,
            w as usize * factor,
            h as usize * factor,
            factor,
        )
    }

    /// The cell range `(c0, r0, c1, r1)` (whole cells, fractional bounds rounded outwards)
    /// covering a map rectangle, which must be finite and ordered.
    fn cells_around(
        &self,
        xmin: f64,
        ymin: f64,
        xmax: f64,
        ymax: f64,
    ) -> Result<(f64, f64, f64, f64)> {
        if ![xmin, ymin, xmax, ymax].iter().all(|v| v.is_finite()) || xmin > xmax || ymin > ymax {
            return Err(ToolsError::Argument(format!(
                "bad map rectangle [{xmin}, {xmax}] x [{ymin}, {ymax}]"
            )));
        }
        let (ca, ra) = self.transform.to_cell(xmin, ymax);
        let (cb, rb) = self.transform.to_cell(xmax, ymin);
        Ok((ca.min(cb).floor(), ra.min(rb).floor(), ca.max(cb).ceil(), ra.max(rb).ceil()))
    }

    /// Reads the window of `width x height` cells whose top-left cell is `(col0, row0)` at
    /// `factor` times coarser cells: each output cell is the mean of the valid cells of a
    /// `factor x factor` block (NaN when the block holds none). The output has
    /// `ceil(width / factor) x ceil(height / factor)` cells, each block read whole; blocks that
    /// reach past the raster's edge are NaN.
    ///
    /// Why through GDAL and not the tile cache: GDAL answers a read into a smaller buffer from
    /// the raster's overviews when it has them (a COG's, or a GeoTIFF's internal ones), so a
    /// kilometre-scale coarse read touches an overview's few blocks, locally or over
    /// `/vsicurl/`, and never the full-resolution raster. Without overviews GDAL reads the
    /// full resolution and averages it, with the same result up to the overview's rounding.
    pub fn read_decimated(
        &self,
        col0: i64,
        row0: i64,
        width: usize,
        height: usize,
        factor: usize,
    ) -> Result<Grid> {
        if factor == 0 || width == 0 || height == 0 {
            return Err(ToolsError::Argument(format!(
                "decimated read of {width} x {height} cells by {factor}: nothing to read"
            )));
        }
        let (ow, oh) = (width.div_ceil(factor), height.div_ceil(factor));
        let f = factor as f64;
        let t = self.transform.shifted(col0, row0);
        let transform = GeoTransform { dx: t.dx * f, dy: t.dy * f, ..t };
        let mut grid = Grid::filled(ow, oh, f32::NAN, transform);
        // Whole output cells that lie on the raster.
        let oc0 = ((-col0).max(0) as usize).div_ceil(factor);
        let or0 = ((-row0).max(0) as usize).div_ceil(factor);
        let oc1 = ((self.width as i64 - col0).max(0) as usize / factor).min(ow);
        let or1 = ((self.height as i64 - row0).max(0) as usize / factor).min(oh);
        if oc0 >= oc1 || or0 >= or1 {
            return Ok(grid);
        }
        let (bw, bh) = (oc1 - oc0, or1 - or0);
        let mut data = vec![0f32; bw * bh];
        {
            let inner = self.lock();
            let band =
                inner.dataset.rasterband(1).map_err(|e| ToolsError::raster(&self.path, &e))?;
            band.read_into_slice::<f32>(
                ((col0 + (oc0 * factor) as i64) as isize, (row0 + (or0 * factor) as i64) as isize),
                (bw * factor, bh * factor),
                (bw, bh),
                &mut data,
                Some(gdal::raster::ResampleAlg::Average),
            )
            .map_err(|e| ToolsError::raster(&self.path, &e))?;
        }
        for r in 0..bh {
            for c in 0..bw {
                let mut v = data[r * bw + c];
                if let Some(nd) = self.nodata {
                    if v == nd as f32 || f64::from(v) == nd {
                        v = f32::NAN;
                    }
                }
                if !v.is_finite() {
                    v = f32::NAN;
                }
                grid.data[(or0 + r) * ow + oc0 + c] = v;
            }
        }
        Ok(grid)
    }

    /// Reads the whole raster. Only for rasters known to be small (fixtures, synthetic sites);
    /// anything that must scale uses [`Dem::window`].
    pub fn read_all(&self) -> Result<Grid> {
        self.window(0, 0, self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::raster_io::write_f32_geotiff;

    fn write_test_dem(dir: &Path, w: usize, h: usize) -> PathBuf {
        let t = GeoTransform { x0: 1000.0, y0: 5000.0, dx: 2.0, dy: -2.0 };
        let mut g =
            Grid::from_fn(w, h, t, |x, y| ((x - 1000.0) * 0.1 + (5000.0 - y) * 0.01) as f32);
        g.set(5, 7, f32::NAN);
        let p = dir.join("dem.tif");
        write_f32_geotiff(&p, &g, "", -32767.0).unwrap();
        p
    }

    #[test]
    fn windows_match_cells_across_tile_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_test_dem(dir.path(), 600, 300);
        let dem = Dem::open_with_cache(&p, 2).unwrap();
        assert_eq!(dem.size(), (600, 300));
        let w = dem.window(250, 250, 20, 20).unwrap();
        for r in 0..20 {
            for c in 0..20 {
                let want = dem.cell(250 + c, 250 + r).unwrap();
                assert_eq!(w.get(c, r), want);
            }
        }
        assert!(dem.cached_tiles() <= 2, "cache must stay bounded");
        assert_eq!(dem.cell(5, 7).unwrap(), None, "no-data is unknown, not a value");
        assert_eq!(dem.cell(-1, 0).unwrap(), None);
        let off = dem.window(-5, -5, 10, 10).unwrap();
        assert_eq!(off.get(0, 0), None);
        assert!(off.get(6, 6).is_some());
    }

    #[test]
    fn decimated_reads_average_blocks_and_leave_the_off_raster_part_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_test_dem(dir.path(), 600, 300);
        let dem = Dem::open(&p).unwrap();
        // Block (10..14, 20..24) by 4, checked against the mean of its cells.
        let d = dem.read_decimated(-8, 20, 40, 9, 4).unwrap();
        assert_eq!((d.width, d.height), (10, 3));
        assert_eq!(d.transform.dx, 4.0 * dem.transform().dx);
        let mut sum = 0.0;
        for r in 20..24 {
            for c in 8..12 {
                sum += f64::from(dem.cell(c, r).unwrap().unwrap());
            }
        }
        let got = f64::from(d.get(4, 0).unwrap());
        assert!((got - sum / 16.0).abs() < 1e-3, "{got} vs {}", sum / 16.0);
        assert_eq!(d.get(0, 0), None, "blocks west of the raster are unknown");
        assert_eq!(d.get(1, 0), None);
        assert!(d.get(4, 2).is_some(), "a block cut by the window is read whole");
        let edge = dem.read_decimated(596, 0, 8, 4, 4).unwrap();
        assert!(edge.get(0, 0).is_some());
        assert_eq!(edge.get(1, 0), None, "a block past the raster's edge is unknown");
        assert!(dem.read_decimated(0, 0, 10, 10, 0).is_err());
    }

    #[test]
    fn decimated_windows_are_whole_origin_aligned_blocks_covering_the_rectangle() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_test_dem(dir.path(), 600, 300);
        let dem = Dem::open(&p).unwrap();
        // Cells 5.5..20.5 x 3.5..9.5 (2 m cells from (1000, 5000)), whole cells 5..21 x 3..10,
        // by 4 with one block of padding.
        let g = dem.decimated_around(1011.0, 4981.0, 1041.0, 4993.0, 1, 4).unwrap();
        // Blocks 1..6 by 0..3 cover cells 4..24 x 0..12; padded: blocks 0..7 by -1..4.
        assert_eq!((g.width, g.height), (7, 5));
        assert_eq!(g.transform, GeoTransform { x0: 1000.0, y0: 5008.0, dx: 8.0, dy: -8.0 });
        let same = dem.read_decimated(0, -4, 28, 20, 4).unwrap();
        assert_eq!(
            g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            same.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(g.get(0, 0), None, "the padding block north of the raster is unknown");
        assert!(g.get(2, 1).is_some());
        assert!(dem.decimated_around(1011.0, 4981.0, 1041.0, 4993.0, 1, 0).is_err());
    }

    #[test]
    fn missing_and_corrupt_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.tif");
        let e = Dem::open(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.tif") && e.contains("no such file"), "{e}");
        let corrupt = dir.path().join("corrupt.tif");
        std::fs::write(&corrupt, b"II*\0garbage that is not a tiff").unwrap();
        let e = Dem::open(&corrupt).unwrap_err().to_string();
        assert!(e.contains("corrupt.tif") && e.contains("cannot read raster"), "{e}");
    }
}
