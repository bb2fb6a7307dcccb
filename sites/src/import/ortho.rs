//! The imported ortho image: copied as it is when it shares the DEM's CRS, otherwise warped
//! into the DEM's CRS on a grid aligned with the DEM's cells at (about) the image's own, usually
//! finer, resolution.
//!
//! Why aligned: a whole number of image pixels per DEM cell, sharing its corners, lets tiles
//! and overlays put the two layers together without another resampling. Why clipped to the
//! DEM: a bundle's image is only ever looked at over its terrain, and a whole HiRISE image is
//! 20 times larger than the area a DEM crop covers.

use std::path::Path;

use gdal::raster::{reproject, GdalDataType, GdalType, RasterCreationOptions};
use gdal::{Dataset, DriverManager};

use super::source::{gdal_message, invalid, same_crs, transform_between, SourceRaster};
use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::terrain::GeoTransform;

/// How the ortho got into the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrthoMethod {
    /// Same CRS as the DEM: pixels copied unchanged (recompressed as a tiled GeoTIFF).
    Copied,
    /// Different CRS: reprojected into the DEM's CRS with GDAL's warper, bilinear resampling.
    Warped,
}

impl OrthoMethod {
    /// The word written in `bundle.toml`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OrthoMethod::Copied => "copied",
            OrthoMethod::Warped => "warped (bilinear)",
        }
    }
}

/// What was written for the ortho image.
#[derive(Debug, Clone, PartialEq)]
pub struct OrthoImport {
    /// Copied or warped.
    pub method: OrthoMethod,
    /// The source's columns and rows.
    pub source_size: (usize, usize),
    /// The written image's columns and rows.
    pub size: (usize, usize),
    /// The written image's placement (in the DEM's CRS).
    pub transform: GeoTransform,
    /// The source's CRS as a PROJ string.
    pub source_proj4: String,
}

/// GeoTIFF creation options of the written image: tiled and DEFLATE-compressed like every
/// product, BigTIFF when a whole HiRISE image might pass 4 GB.
fn creation_options(band_type: GdalDataType) -> RasterCreationOptions {
    let predictor = if band_type.is_floating() { "PREDICTOR=3" } else { "PREDICTOR=2" };
    RasterCreationOptions::from_iter([
        "TILED=YES",
        "BLOCKXSIZE=256",
        "BLOCKYSIZE=256",
        "COMPRESS=DEFLATE",
        predictor,
        "BIGTIFF=IF_SAFER",
    ])
}

/// Writes `src` as `dst` in `dem`'s CRS; `scratch` is a file name in the staging directory
/// for the uncompressed warp output.
pub(crate) fn write_ortho(
    src: &SourceRaster,
    dem: &SourceRaster,
    dst: &Path,
    scratch: &Path,
) -> Result<OrthoImport> {
    let band_type = src.dataset.rasterband(1).map_err(|e| ToolsError::raster(&src.path, &e))?;
    let band_type = band_type.band_type();
    let same = same_crs(&src.srs, &dem.srs);
    let footprint = footprint_in_dem_crs(src, dem, same)?;
    let dem_extent = dem.extent();
    let overlap = [
        footprint[0].max(dem_extent[0]),
        footprint[1].max(dem_extent[1]),
        footprint[2].min(dem_extent[2]),
        footprint[3].min(dem_extent[3]),
    ];
    if !(overlap[0] < overlap[2] && overlap[1] < overlap[3]) {
        return Err(invalid(
            &src.path,
            &format!(
                "ortho does not overlap the DEM {}: in the DEM's CRS it covers x {:.1} .. {:.1}, \
                 y {:.1} .. {:.1}; the DEM covers x {:.1} .. {:.1}, y {:.1} .. {:.1}",
                dem.path.display(),
                footprint[0],
                footprint[2],
                footprint[1],
                footprint[3],
                dem_extent[0],
                dem_extent[2],
                dem_extent[1],
                dem_extent[3]
            ),
        ));
    }
    let gtiff =
        DriverManager::get_driver_by_name("GTiff").map_err(|e| ToolsError::write(dst, e))?;
    let options = creation_options(band_type);
    let source_proj4 = src.proj4();
    if same {
        copy_dataset(&src.dataset, &gtiff, dst, &options)?;
        return Ok(OrthoImport {
            method: OrthoMethod::Copied,
            source_size: src.size,
            size: src.size,
            transform: src.transform,
            source_proj4,
        });
    }
    let resolution = resolution_in_dem_crs(src, dem)?;
    let (transform, size) = aligned_grid(dem.transform, dem.size, overlap, resolution);
    {
        let warped = create_like(src, band_type, scratch, size, transform, dem)?;
        reproject(&src.dataset, &warped).map_err(|e| {
            ToolsError::write(dst, format!("warping {}: {}", src.path.display(), gdal_message(&e)))
        })?;
        copy_dataset(&warped, &gtiff, dst, &options)?;
    }
    let _ = std::fs::remove_file(scratch);
    Ok(OrthoImport {
        method: OrthoMethod::Warped,
        source_size: src.size,
        size,
        transform,
        source_proj4,
    })
}

/// Copies `ds` into a new GeoTIFF `dst` and closes it (so a failing flush is an error).
fn copy_dataset(
    ds: &Dataset,
    driver: &gdal::Driver,
    dst: &Path,
    options: &RasterCreationOptions,
) -> Result<()> {
    let copy = ds
        .create_copy(driver, dst, options)
        .map_err(|e| ToolsError::write(dst, gdal_message(&e)))?;
    copy.close().map_err(|e| ToolsError::write(dst, gdal_message(&e)))
}

/// The source image's extent in the DEM's CRS `(xmin, ymin, xmax, ymax)`, with edges densified
/// so that curved edges of a reprojected image are bounded.
fn footprint_in_dem_crs(src: &SourceRaster, dem: &SourceRaster, same: bool) -> Result<[f64; 4]> {
    let e = src.extent();
    if same {
        return Ok(e);
    }
    let ct = transform_between(&src.srs, &dem.srs, &src.path)?;
    ct.transform_bounds(&e, 21).map_err(|err| {
        invalid(
            &src.path,
            &format!(
                "cannot place the ortho in the DEM's CRS ({}): its corners do not transform",
                gdal_message(&err)
            ),
        )
    })
}

/// The source's pixel size measured in the DEM's CRS at the image centre (the smaller of the
/// two axes, so that no detail is lost).
fn resolution_in_dem_crs(src: &SourceRaster, dem: &SourceRaster) -> Result<f64> {
    let ct = transform_between(&src.srs, &dem.srs, &src.path)?;
    let t = src.transform;
    let (cx, cy) = (t.x0 + t.dx * src.size.0 as f64 / 2.0, t.y0 + t.dy * src.size.1 as f64 / 2.0);
    let mut xs = [cx, cx + t.dx, cx];
    let mut ys = [cy, cy, cy + t.dy];
    ct.transform_coords(&mut xs, &mut ys, &mut []).map_err(|e| {
        invalid(&src.path, &format!("the ortho's centre does not transform ({})", gdal_message(&e)))
    })?;
    let rx = (xs[1] - xs[0]).hypot(ys[1] - ys[0]);
    let ry = (xs[2] - xs[0]).hypot(ys[2] - ys[0]);
    let r = rx.min(ry);
    if r.is_finite() && r > 0.0 {
        Ok(r)
    } else {
        Err(invalid(&src.path, "the ortho's pixel size in the DEM's CRS is not a positive number"))
    }
}

/// How much coarser than the source an aligned pixel may be: a 0.499 m image over a 1 m DEM
/// gets 0.5 m pixels (2 per cell), not 0.333 m ones that would inflate it by 2.25 for nothing.
pub const RESOLUTION_SLACK: f64 = 1.05;

/// A grid aligned with the DEM's cells covering `area` (clamped to the DEM): `k` pixels per
/// DEM cell when the image is finer (the smallest whole `k` giving pixels at most
/// [`RESOLUTION_SLACK`] times `resolution`), or a whole number of DEM cells per pixel when it
/// is coarser.
#[must_use]
pub fn aligned_grid(
    dem: GeoTransform,
    dem_size: (usize, usize),
    area: [f64; 4],
    resolution: f64,
) -> (GeoTransform, (usize, usize)) {
    let scale = |cell: f64| -> f64 {
        let target = resolution * RESOLUTION_SLACK;
        let ratio = cell.abs() / target;
        if ratio > 1.0 {
            1.0 / (ratio - 1e-9).ceil()
        } else {
            (1.0 / ratio + 1e-9).floor().max(1.0)
        }
    };
    let (sx, sy) = (scale(dem.dx), scale(dem.dy));
    let (px, py) = (dem.dx * sx, dem.dy * sy);
    let max_cols = (dem_size.0 as f64 / sx).ceil();
    let max_rows = (dem_size.1 as f64 / sy).ceil();
    // Fractional pixel indices of the area's edges, snapped outwards, clamped to the DEM.
    let (ca, cb) = ((area[0] - dem.x0) / px, (area[2] - dem.x0) / px);
    let (ra, rb) = ((area[3] - dem.y0) / py, (area[1] - dem.y0) / py);
    let snap_lo = |v: f64| (v + 1e-9).floor();
    let snap_hi = |v: f64| (v - 1e-9).ceil();
    let c0 = snap_lo(ca.min(cb)).clamp(0.0, max_cols);
    let c1 = snap_hi(ca.max(cb)).clamp(0.0, max_cols);
    let r0 = snap_lo(ra.min(rb)).clamp(0.0, max_rows);
    let r1 = snap_hi(ra.max(rb)).clamp(0.0, max_rows);
    let transform = GeoTransform { x0: dem.x0 + c0 * px, y0: dem.y0 + r0 * py, dx: px, dy: py };
    (transform, (((c1 - c0) as usize).max(1), ((r1 - r0) as usize).max(1)))
}

/// Creates the uncompressed warp target `path` with `src`'s band count and type, placed by
/// `transform` in the DEM's CRS. No-data is the source's, or 0 (integer) / NaN (float) when it
/// has none, so that ground the image does not cover reads as no-data.
fn create_like(
    src: &SourceRaster,
    band_type: GdalDataType,
    path: &Path,
    size: (usize, usize),
    transform: GeoTransform,
    dem: &SourceRaster,
) -> Result<Dataset> {
    fn create<T: GdalType>(
        path: &Path,
        size: (usize, usize),
        bands: usize,
    ) -> gdal::errors::Result<Dataset> {
        let driver = DriverManager::get_driver_by_name("GTiff")?;
        let options = RasterCreationOptions::from_iter(["TILED=YES", "BIGTIFF=IF_SAFER"]);
        driver.create_with_band_type_with_options::<T, _>(path, size.0, size.1, bands, &options)
    }
    let bands = src.dataset.raster_count();
    let created = match band_type {
        GdalDataType::UInt8 => create::<u8>(path, size, bands),
        GdalDataType::UInt16 => create::<u16>(path, size, bands),
        GdalDataType::Int16 => create::<i16>(path, size, bands),
        GdalDataType::UInt32 => create::<u32>(path, size, bands),
        GdalDataType::Int32 => create::<i32>(path, size, bands),
        GdalDataType::Float32 => create::<f32>(path, size, bands),
        GdalDataType::Float64 => create::<f64>(path, size, bands),
        other => {
            return Err(invalid(
                &src.path,
                &format!("ortho bands of type {} cannot be warped", other.name()),
            ))
        }
    };
    let nodata = src.nodata.unwrap_or(if band_type.is_floating() { f64::NAN } else { 0.0 });
    let setup = |mut ds: Dataset| -> gdal::errors::Result<Dataset> {
        ds.set_geo_transform(&transform.to_gdal())?;
        ds.set_projection(&dem.dataset.projection())?;
        for b in 1..=bands {
            ds.rasterband(b)?.set_no_data_value(Some(nodata))?;
        }
        Ok(ds)
    };
    created.and_then(setup).map_err(|e| ToolsError::write(path, gdal_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEM: GeoTransform = GeoTransform { x0: 1000.0, y0: 500.0, dx: 1.0, dy: -1.0 };

    #[test]
    fn finer_images_get_whole_pixels_per_cell_aligned_with_the_dem() {
        let (t, size) = aligned_grid(DEM, (100, 50), [990.0, 400.0, 1200.0, 600.0], 0.5);
        assert_eq!(t, GeoTransform { x0: 1000.0, y0: 500.0, dx: 0.5, dy: -0.5 });
        assert_eq!(size, (200, 100), "clipped to the DEM");
        // 0.3 m pixels: 4 per cell (0.25 m); 0.499 m pixels: 2 per cell.
        let (t, _) = aligned_grid(DEM, (100, 50), [1010.2, 460.3, 1020.7, 470.1], 0.3);
        assert_eq!((t.dx, t.dy), (0.25, -0.25));
        assert_eq!((t.x0, t.y0), (1010.0, 470.25), "snapped outwards onto the aligned grid");
        let (t, _) = aligned_grid(DEM, (100, 50), [1010.2, 460.3, 1020.7, 470.1], 0.499);
        assert_eq!((t.dx, t.dy), (0.5, -0.5));
    }

    #[test]
    fn coarser_images_get_whole_cells_per_pixel() {
        let (t, size) = aligned_grid(DEM, (100, 50), [1000.0, 450.0, 1100.0, 500.0], 2.0);
        assert_eq!((t.dx, t.dy), (2.0, -2.0));
        assert_eq!(size, (50, 25));
        let (t, _) = aligned_grid(DEM, (100, 50), [1000.0, 450.0, 1100.0, 500.0], 1.99);
        assert_eq!((t.dx, t.dy), (2.0, -2.0));
    }
}
