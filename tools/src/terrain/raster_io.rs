//! Writing rasters as GeoTIFF through GDAL, atomically: a product is written beside its final
//! name and renamed into place only once GDAL has closed it, so a failure never leaves a
//! half-written file where a user (or QGIS) would open it.

use std::path::{Path, PathBuf};

use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::DriverManager;

use super::grid::{GeoTransform, Grid};
use crate::error::{Result, ToolsError};

/// GeoTIFF creation options used for every product: tiled (so later windowed reads touch only
/// what they need) and DEFLATE-compressed. No timestamps are written, so the same pixels give
/// byte-identical files.
fn creation_options(predictor: &str) -> RasterCreationOptions {
    RasterCreationOptions::from_iter([
        "TILED=YES",
        "BLOCKXSIZE=256",
        "BLOCKYSIZE=256",
        "COMPRESS=DEFLATE",
        &format!("PREDICTOR={predictor}"),
    ])
}

/// Temporary sibling path for an atomic write.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Writes one band of `T` with optional no-data into `path` atomically.
#[expect(clippy::too_many_arguments, reason = "private helper mirroring GDAL's create call")]
fn write_band<T: GdalType + Copy>(
    path: &Path,
    width: usize,
    height: usize,
    transform: GeoTransform,
    crs_wkt: &str,
    nodata: Option<f64>,
    mut data: Vec<T>,
    predictor: &str,
) -> Result<()> {
    if width == 0 || height == 0 || data.len() != width * height {
        return Err(ToolsError::Argument(format!(
            "raster {}x{} does not match {} values",
            width,
            height,
            data.len()
        )));
    }
    let tmp = temp_path(path);
    let result = (|| -> std::result::Result<(), gdal::errors::GdalError> {
        let driver = DriverManager::get_driver_by_name("GTiff")?;
        let mut ds = driver.create_with_band_type_with_options::<T, _>(
            &tmp,
            width,
            height,
            1,
            &creation_options(predictor),
        )?;
        ds.set_geo_transform(&transform.to_gdal())?;
        if !crs_wkt.is_empty() {
            ds.set_spatial_ref(&SpatialRef::from_wkt(crs_wkt)?)?;
        }
        {
            let mut band = ds.rasterband(1)?;
            band.set_no_data_value(nodata)?;
            let mut buf = Buffer::new((width, height), std::mem::take(&mut data));
            band.write((0, 0), (width, height), &mut buf)?;
        }
        ds.close()
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| ToolsError::io(path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(ToolsError::write(path, e))
        }
    }
}

/// Writes a float grid as a Float32 GeoTIFF; NaN cells are stored as `nodata`.
pub fn write_f32_geotiff(path: &Path, grid: &Grid, crs_wkt: &str, nodata: f32) -> Result<()> {
    let data: Vec<f32> = grid.data.iter().map(|&v| if v.is_nan() { nodata } else { v }).collect();
    write_band(
        path,
        grid.width,
        grid.height,
        grid.transform,
        crs_wkt,
        Some(f64::from(nodata)),
        data,
        "3",
    )
}

/// Writes an 8-bit grayscale image as a GeoTIFF, with 0 as no-data (as HiRISE products do).
pub fn write_u8_geotiff(
    path: &Path,
    width: usize,
    height: usize,
    transform: GeoTransform,
    crs_wkt: &str,
    pixels: Vec<u8>,
) -> Result<()> {
    write_band(path, width, height, transform, crs_wkt, Some(0.0), pixels, "2")
}

/// The WKT of a PROJ definition such as `+proj=eqc +R=3396190 +units=m`.
pub fn wkt_from_proj4(proj4: &str) -> Result<String> {
    SpatialRef::from_proj4(proj4)
        .and_then(|s| s.to_wkt())
        .map_err(|e| ToolsError::Argument(format!("bad CRS definition {proj4:?}: {e}")))
}

/// GeoTIFF creation options for large products written strip by strip: tiled 256 x 256 like
/// every product, ZSTD at level 1 without predictor, compressed on all CPUs by GDAL's worker
/// threads. Measured on 4096 x 4096 slope rasters: DEFLATE level 1 gives files of the same
/// size (about half of uncompressed) at four times the CPU cost, and the floating-point
/// predictor makes slope files larger, not smaller. ZSTD GeoTIFFs are read by GDAL >= 2.3
/// (QGIS included).
const STRIP_CREATION_OPTIONS: [&str; 6] = [
    "TILED=YES",
    "BLOCKXSIZE=256",
    "BLOCKYSIZE=256",
    "COMPRESS=ZSTD",
    "ZSTD_LEVEL=1",
    "NUM_THREADS=ALL_CPUS",
];

/// Rows per strip that [`StripWriter`] callers should write at once: one row of 256 x 256 tiles,
/// so each tile is complete (and compressed exactly once) when its strip is flushed.
pub const STRIP_ROWS: usize = 256;

/// Writes a Float32 GeoTIFF strip by strip, so products of rasters far larger than memory can
/// be written with bounded memory; atomic like [`write_f32_geotiff`]: pixels go to a hidden
/// sibling (`.NAME.partial`) that is renamed into place by [`StripWriter::finish`] and deleted
/// if the writer is dropped unfinished (an error part-way leaves no half-written product).
pub struct StripWriter {
    path: PathBuf,
    tmp: PathBuf,
    dataset: Option<gdal::Dataset>,
    width: usize,
    height: usize,
    nodata: f32,
    scratch: Vec<f32>,
}

impl std::fmt::Debug for StripWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripWriter")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl StripWriter {
    /// Creates the hidden temporary file for a `width x height` Float32 raster placed by
    /// `transform` in `crs_wkt` (empty: no CRS), whose no-data value is `nodata`.
    pub fn create(
        path: &Path,
        width: usize,
        height: usize,
        transform: GeoTransform,
        crs_wkt: &str,
        nodata: f32,
    ) -> Result<Self> {
        if width == 0 || height == 0 || width > i32::MAX as usize || height > i32::MAX as usize {
            return Err(ToolsError::Argument(format!("cannot write a {width}x{height} raster")));
        }
        let tmp = temp_path(path);
        let created = (|| -> std::result::Result<gdal::Dataset, gdal::errors::GdalError> {
            let driver = DriverManager::get_driver_by_name("GTiff")?;
            let mut ds = driver.create_with_band_type_with_options::<f32, _>(
                &tmp,
                width,
                height,
                1,
                &RasterCreationOptions::from_iter(STRIP_CREATION_OPTIONS),
            )?;
            ds.set_geo_transform(&transform.to_gdal())?;
            if !crs_wkt.is_empty() {
                ds.set_spatial_ref(&SpatialRef::from_wkt(crs_wkt)?)?;
            }
            ds.rasterband(1)?.set_no_data_value(Some(f64::from(nodata)))?;
            Ok(ds)
        })();
        match created {
            Ok(ds) => Ok(StripWriter {
                path: path.to_path_buf(),
                tmp,
                dataset: Some(ds),
                width,
                height,
                nodata,
                scratch: Vec::new(),
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(ToolsError::write(path, e))
            }
        }
    }

    /// Writes whole rows starting at `row0`; `rows.len()` must be a multiple of the width.
    /// NaN cells are stored as the no-data value. GDAL's cache is flushed afterwards, so at
    /// most one strip of pixels is held in memory.
    pub fn write_rows(&mut self, row0: usize, rows: &[f32]) -> Result<()> {
        let mut data = std::mem::take(&mut self.scratch);
        data.clear();
        data.extend_from_slice(rows);
        self.scratch = self.write_rows_owned(row0, data)?;
        Ok(())
    }

    /// [`StripWriter::write_rows`] without a copy: takes the rows by value (NaN is replaced
    /// by the no-data value in place) and hands the buffer back for reuse.
    pub fn write_rows_owned(&mut self, row0: usize, mut rows: Vec<f32>) -> Result<Vec<f32>> {
        let n = rows.len() / self.width;
        if rows.len() % self.width != 0 || row0 + n > self.height {
            return Err(ToolsError::Argument(format!(
                "{} values at row {row0} do not fit a {}x{} raster",
                rows.len(),
                self.width,
                self.height
            )));
        }
        if n == 0 {
            return Ok(rows);
        }
        let nodata = self.nodata;
        for v in &mut rows {
            if v.is_nan() {
                *v = nodata;
            }
        }
        let Some(ds) = self.dataset.as_mut() else {
            return Err(ToolsError::write(&self.path, "writer already finished"));
        };
        let width = self.width;
        let result = (|| -> std::result::Result<Vec<f32>, gdal::errors::GdalError> {
            let mut buf = Buffer::new((width, n), rows);
            ds.rasterband(1)?.write((0, row0 as isize), (width, n), &mut buf)?;
            ds.flush_cache()?;
            Ok(buf.into_shape_and_vec().1)
        })();
        result.map_err(|e| ToolsError::write(&self.path, e))
    }

    /// Closes the file and renames it into place.
    pub fn finish(mut self) -> Result<()> {
        let Some(ds) = self.dataset.take() else {
            return Err(ToolsError::write(&self.path, "writer already finished"));
        };
        match ds.close() {
            Ok(()) => std::fs::rename(&self.tmp, &self.path).map_err(|e| {
                let _ = std::fs::remove_file(&self.tmp);
                ToolsError::io(&self.path, e)
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                Err(ToolsError::write(&self.path, e))
            }
        }
    }
}

impl Drop for StripWriter {
    fn drop(&mut self) {
        if let Some(ds) = self.dataset.take() {
            drop(ds);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Creation options of a Cloud Optimized GeoTIFF ([`CogWriter`]): 256 x 256 DEFLATE tiles with
/// the predictor suited to the type (horizontal differencing for integers, floating-point for
/// floats) and internal overviews halving down to one tile, averaged. DEFLATE level 1: on an
/// 8192^2 DEM it takes 4.6 s of CPU against 8.0 s at the default level 6 for a file 1% larger.
const COG_CREATION_OPTIONS: [&str; 7] = [
    "BLOCKSIZE=256",
    "COMPRESS=DEFLATE",
    "LEVEL=1",
    "PREDICTOR=YES",
    "OVERVIEWS=IGNORE_EXISTING",
    "OVERVIEW_RESAMPLING=AVERAGE",
    "NUM_THREADS=ALL_CPUS",
];

/// Writes a large single-band raster as a Cloud Optimized GeoTIFF (COG) with internal
/// overviews, in bounded memory, with rows arriving in any order.
///
/// Why this way: GDAL's COG driver can only copy a whole dataset (its layout puts overviews
/// before full-resolution tiles), so rows first go into a plain tiled, uncompressed scratch
/// GeoTIFF beside the product (GDAL's cache is flushed after every write, so only one strip is
/// in memory), and [`CogWriter::finish`] copies it with the COG driver, which computes the
/// overviews (AVERAGE) from the scratch file block by block, then deletes it. Atomic like
/// [`StripWriter`]: the COG is written to a hidden sibling and renamed into place; an error or
/// a drop before `finish` removes both hidden files.
pub struct CogWriter<T: GdalType + Copy> {
    path: PathBuf,
    scratch: PathBuf,
    dataset: Option<gdal::Dataset>,
    width: usize,
    height: usize,
    _type: std::marker::PhantomData<T>,
}

impl<T: GdalType + Copy> std::fmt::Debug for CogWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CogWriter")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl<T: GdalType + Copy> CogWriter<T> {
    /// Starts a `width x height` raster placed by `transform` in `crs_wkt` (empty: no CRS)
    /// with no-data value `nodata`.
    pub fn create(
        path: &Path,
        width: usize,
        height: usize,
        transform: GeoTransform,
        crs_wkt: &str,
        nodata: Option<f64>,
    ) -> Result<Self> {
        if width == 0 || height == 0 || width > i32::MAX as usize || height > i32::MAX as usize {
            return Err(ToolsError::Argument(format!("cannot write a {width}x{height} raster")));
        }
        super::dem::bound_gdal_block_cache();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let scratch = path.with_file_name(format!(".{name}.scratch.tif"));
        let created = (|| -> std::result::Result<gdal::Dataset, gdal::errors::GdalError> {
            let driver = DriverManager::get_driver_by_name("GTiff")?;
            let mut ds = driver.create_with_band_type_with_options::<T, _>(
                &scratch,
                width,
                height,
                1,
                &RasterCreationOptions::from_iter([
                    "TILED=YES",
                    "BLOCKXSIZE=256",
                    "BLOCKYSIZE=256",
                    "COMPRESS=NONE",
                    "BIGTIFF=IF_SAFER",
                ]),
            )?;
            ds.set_geo_transform(&transform.to_gdal())?;
            if !crs_wkt.is_empty() {
                ds.set_spatial_ref(&SpatialRef::from_wkt(crs_wkt)?)?;
            }
            ds.rasterband(1)?.set_no_data_value(nodata)?;
            Ok(ds)
        })();
        match created {
            Ok(ds) => Ok(CogWriter {
                path: path.to_path_buf(),
                scratch,
                dataset: Some(ds),
                width,
                height,
                _type: std::marker::PhantomData,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&scratch);
                Err(ToolsError::write(path, e))
            }
        }
    }

    /// Writes whole rows starting at `row0` (`rows.len()` a multiple of the width); rows may
    /// come in any order, best in whole 256-row tile strips.
    pub fn write_rows(&mut self, row0: usize, rows: Vec<T>) -> Result<()> {
        let n = rows.len() / self.width;
        if rows.len() % self.width != 0 || row0 + n > self.height {
            return Err(ToolsError::Argument(format!(
                "{} values at row {row0} do not fit a {}x{} raster",
                rows.len(),
                self.width,
                self.height
            )));
        }
        let Some(ds) = self.dataset.as_mut() else {
            return Err(ToolsError::write(&self.path, "writer already finished"));
        };
        if n == 0 {
            return Ok(());
        }
        let width = self.width;
        (|| -> std::result::Result<(), gdal::errors::GdalError> {
            let mut buf = Buffer::new((width, n), rows);
            ds.rasterband(1)?.write((0, row0 as isize), (width, n), &mut buf)?;
            ds.flush_cache()
        })()
        .map_err(|e| ToolsError::write(&self.path, e))
    }

    /// Copies the scratch file into the COG at the final path and removes the scratch file.
    pub fn finish(mut self) -> Result<()> {
        let Some(ds) = self.dataset.take() else {
            return Err(ToolsError::write(&self.path, "writer already finished"));
        };
        let tmp = temp_path(&self.path);
        let result = (|| -> std::result::Result<(), gdal::errors::GdalError> {
            ds.close()?;
            let src = gdal::Dataset::open(&self.scratch)?;
            let driver = DriverManager::get_driver_by_name("COG")?;
            let cog = src.create_copy(
                &driver,
                &tmp,
                &RasterCreationOptions::from_iter(COG_CREATION_OPTIONS),
            )?;
            cog.close()
        })();
        let _ = std::fs::remove_file(&self.scratch);
        match result {
            Ok(()) => std::fs::rename(&tmp, &self.path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                ToolsError::io(&self.path, e)
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(ToolsError::write(&self.path, e))
            }
        }
    }
}

impl<T: GdalType + Copy> Drop for CogWriter<T> {
    fn drop(&mut self) {
        if let Some(ds) = self.dataset.take() {
            drop(ds);
            let _ = std::fs::remove_file(&self.scratch);
        }
    }
}

/// Reads a single-band raster in blocks of whole rows, as f32 with no-data (the band's value,
/// NaN or infinities) turned into NaN exactly as [`crate::terrain::Dem`] does. Made for
/// streaming passes over rasters too large for memory: GeoTIFFs are opened with GDAL's
/// multi-threaded block decoding, and [`RowReader::release_cache`] drops decoded blocks once
/// they have been consumed.
pub struct RowReader {
    path: PathBuf,
    dataset: gdal::Dataset,
    width: usize,
    height: usize,
    block_height: usize,
    nodata: Option<f64>,
}

impl std::fmt::Debug for RowReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReader")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl RowReader {
    /// Opens band 1 of `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let is_virtual = path.to_string_lossy().starts_with("/vsi");
        if !is_virtual && !path.exists() {
            return Err(ToolsError::Missing { path: path.to_path_buf() });
        }
        let mut dataset = gdal::Dataset::open(path).map_err(|e| ToolsError::raster(path, &e))?;
        if dataset.driver().short_name() == "GTiff" {
            // Only GTiff knows NUM_THREADS; other drivers would warn about the option.
            let options = gdal::DatasetOptions {
                open_options: Some(&["NUM_THREADS=ALL_CPUS"]),
                ..gdal::DatasetOptions::default()
            };
            if let Ok(ds) = gdal::Dataset::open_ex(path, options) {
                dataset = ds;
            }
        }
        let (width, height) = dataset.raster_size();
        let band = dataset.rasterband(1).map_err(|e| ToolsError::raster(path, &e))?;
        let block_height = band.block_size().1.max(1);
        let nodata = band.no_data_value();
        Ok(RowReader { path: path.to_path_buf(), dataset, width, height, block_height, nodata })
    }

    /// Columns and rows.
    #[must_use]
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Rows per block in the file (1 for scanline formats); reads aligned to it decode each
    /// block once.
    #[must_use]
    pub fn block_height(&self) -> usize {
        self.block_height
    }

    /// Reads rows `row0 .. row0 + out.len() / width` into `out` (which must hold whole rows).
    pub fn read_rows(&self, row0: usize, out: &mut [f32]) -> Result<()> {
        let n = out.len() / self.width.max(1);
        if out.len() % self.width.max(1) != 0 || row0 + n > self.height {
            return Err(ToolsError::Argument(format!(
                "{} values at row {row0} do not fit a {}x{} raster",
                out.len(),
                self.width,
                self.height
            )));
        }
        if n == 0 {
            return Ok(());
        }
        let band = self.dataset.rasterband(1).map_err(|e| ToolsError::raster(&self.path, &e))?;
        band.read_into_slice::<f32>(
            (0, row0 as isize),
            (self.width, n),
            (self.width, n),
            out,
            None,
        )
        .map_err(|e| ToolsError::raster(&self.path, &e))?;
        let nd = self.nodata;
        let nd32 = nd.map(|v| v as f32);
        for v in out.iter_mut() {
            let is_nodata = match (nd, nd32) {
                (Some(nd), Some(nd32)) => *v == nd32 || f64::from(*v) == nd,
                _ => false,
            };
            if is_nodata || !v.is_finite() {
                *v = f32::NAN;
            }
        }
        Ok(())
    }

    /// Drops GDAL's cached blocks of this raster (they are re-read if needed again).
    pub fn release_cache(&mut self) -> Result<()> {
        self.dataset.flush_cache().map_err(|e| ToolsError::raster(&self.path, &e))
    }
}

/// Sends GDAL's own messages to `tracing` (target `gdal`: warnings at info, errors at debug)
/// instead of stderr. Why: a command's error must be one line, and GDAL would print its own
/// `Warning 1: HTTP response code ...` beside it; the failure itself still comes back as a
/// [`ToolsError`](crate::ToolsError) naming the file. Process-wide: the command-line calls it once.
pub fn gdal_messages_to_tracing() {
    gdal::config::set_error_handler(|class, number, message| match class {
        gdal::errors::CplErrType::Warning => {
            tracing::info!(target: "gdal", "GDAL warning {number}: {message}");
        }
        gdal::errors::CplErrType::Debug | gdal::errors::CplErrType::None => {
            tracing::trace!(target: "gdal", "GDAL {number}: {message}");
        }
        _ => tracing::debug!(target: "gdal", "GDAL error {number}: {message}"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows in any order make a COG with overviews and the same pixels; an unfinished writer
    /// leaves nothing behind.
    #[test]
    fn cog_writer_makes_overviews_from_rows_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.tif");
        let (w, h) = (600, 520);
        let t = GeoTransform { x0: 0.0, y0: 520.0, dx: 1.0, dy: -1.0 };
        let px: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8 + 1).collect();
        let mut cog = CogWriter::<u8>::create(&path, w, h, t, "", Some(0.0)).unwrap();
        for r0 in [256, 0, 512] {
            let r1 = (r0 + 256).min(h);
            cog.write_rows(r0, px[r0 * w..r1 * w].to_vec()).unwrap();
        }
        cog.finish().unwrap();
        let ds = gdal::Dataset::open(&path).unwrap();
        let band = ds.rasterband(1).unwrap();
        assert!(band.overview_count().unwrap() >= 1);
        let back = band.read_as::<u8>((0, 0), (w, h), (w, h), None).unwrap();
        assert!(back.data() == px.as_slice());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the product is left");

        let other = dir.path().join("dropped.tif");
        let mut cog = CogWriter::<f32>::create(&other, 300, 300, t, "", None).unwrap();
        cog.write_rows(0, vec![1.0; 300 * 10]).unwrap();
        drop(cog);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
