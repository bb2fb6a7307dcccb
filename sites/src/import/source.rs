//! Opening and checking the rasters given to `site import`, so that every problem a user can
//! make (missing file, not a raster, no placement, no or the wrong kind of CRS) becomes one
//! line naming the file, before anything is written.

use std::path::{Path, PathBuf};

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::terrain::GeoTransform;

/// A raster input, opened by GDAL and checked to be north-up, placed and georeferenced.
pub(crate) struct SourceRaster {
    /// The path or GDAL virtual path (`/vsicurl/http://...`) as given.
    pub path: PathBuf,
    /// The open dataset.
    pub dataset: Dataset,
    /// Its CRS, with x = east (or longitude) first whatever the CRS's official axis order.
    pub srs: SpatialRef,
    /// Its placement.
    pub transform: GeoTransform,
    /// Columns and rows.
    pub size: (usize, usize),
    /// Band 1's no-data value, if any.
    pub nodata: Option<f64>,
    /// GDAL's short driver name (`GTiff`, `PDS`, `JP2OpenJPEG`, ...).
    pub driver: String,
}

impl SourceRaster {
    /// Opens `path` as a raster with a north-up geotransform and a CRS.
    pub fn open(path: &Path) -> Result<Self> {
        let virtual_path = is_virtual(path);
        if !virtual_path && !path.exists() {
            return Err(ToolsError::Missing { path: path.to_path_buf() });
        }
        if !virtual_path && path.is_dir() {
            return Err(invalid(path, "is a directory, not a raster file"));
        }
        // Raster drivers only: a GeoJSON or shapefile must not open as a 0-band "raster".
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY,
            ..DatasetOptions::default()
        };
        let dataset = Dataset::open_ex(path, options).map_err(|e| {
            let why = gdal_message(&e);
            let why =
                if why.is_empty() { "unknown format or corrupt file".to_owned() } else { why };
            if path.to_string_lossy().starts_with("/vsicurl/") {
                invalid(path, &format!("cannot read a raster from this URL ({why})"))
            } else {
                invalid(path, &format!("not a raster GDAL can read ({why})"))
            }
        })?;
        let (width, height) = dataset.raster_size();
        if dataset.raster_count() < 1 || width == 0 || height == 0 {
            return Err(invalid(path, "not a raster GDAL can read (no raster bands)"));
        }
        let gt = dataset
            .geo_transform()
            .map_err(|_| ToolsError::NoGeoTransform { path: path.to_path_buf() })?;
        if gt == [0.0, 1.0, 0.0, 0.0, 0.0, 1.0] {
            return Err(ToolsError::NoGeoTransform { path: path.to_path_buf() });
        }
        let transform = GeoTransform::from_gdal(gt)
            .ok_or(ToolsError::Rotated { path: path.to_path_buf(), transform: gt })?;
        let wkt = dataset.projection();
        if wkt.trim().is_empty() {
            return Err(invalid(
                path,
                "raster has no CRS (coordinate reference system), so it cannot be placed on \
                 Mars; assign one first (e.g. gdal_edit.py -a_srs)",
            ));
        }
        let mut srs = SpatialRef::from_wkt(&wkt)
            .map_err(|e| invalid(path, &format!("unreadable CRS ({})", gdal_message(&e))))?;
        srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let nodata =
            dataset.rasterband(1).map_err(|e| ToolsError::raster(path, &e))?.no_data_value();
        let driver = dataset.driver().short_name();
        Ok(SourceRaster {
            path: path.to_path_buf(),
            dataset,
            srs,
            transform,
            size: (width, height),
            nodata,
            driver,
        })
    }

    /// Refuses a CRS that is not projected in metres: breadcrumb measures slopes, distances
    /// and footprints in map metres, which degrees of longitude and latitude are not.
    pub fn require_projected_metres(&self) -> Result<()> {
        let name = crs_name(&self.srs);
        if self.srs.is_geographic() || !self.srs.is_projected() {
            return Err(invalid(
                &self.path,
                &format!(
                    "CRS {name:?} is geographic (longitude/latitude degrees); breadcrumb needs a \
                     projected CRS in metres: reproject it first, e.g. gdalwarp -t_srs \
                     '+proj=eqc +lat_ts=LAT +lon_0=LON +R=3396190 +units=m'"
                ),
            ));
        }
        let unit = self.srs.linear_units();
        if (unit - 1.0).abs() > 1e-9 {
            let unit_name = self.srs.linear_units_name().unwrap_or_else(|| "unknown".into());
            return Err(invalid(
                &self.path,
                &format!(
                    "CRS {name:?} has units of {unit_name} ({unit} m); breadcrumb needs a \
                     projected CRS in metres"
                ),
            ));
        }
        Ok(())
    }

    /// Map extent `(xmin, ymin, xmax, ymax)` in the raster's own CRS.
    pub fn extent(&self) -> [f64; 4] {
        let t = self.transform;
        let (w, h) = (self.size.0 as f64, self.size.1 as f64);
        let (xa, xb) = (t.x0, t.x0 + w * t.dx);
        let (ya, yb) = (t.y0, t.y0 + h * t.dy);
        [xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb)]
    }

    /// The CRS as a PROJ string (empty if PROJ cannot express it).
    pub fn proj4(&self) -> String {
        self.srs.to_proj4().map(|s| s.trim().to_owned()).unwrap_or_default()
    }

    /// The CRS's name.
    pub fn crs_name(&self) -> String {
        crs_name(&self.srs)
    }
}

/// True for GDAL virtual paths (`/vsicurl/`, `/vsizip/`, ...), which have no file to check.
pub(crate) fn is_virtual(path: &Path) -> bool {
    path.to_string_lossy().starts_with("/vsi")
}

pub(crate) use breadcrumb_tools::terrain::bundle::same_crs;

/// A transformation from `from` to `to`, both with x = east first.
pub(crate) fn transform_between(
    from: &SpatialRef,
    to: &SpatialRef,
    path: &Path,
) -> Result<CoordTransform> {
    CoordTransform::new(from, to).map_err(|e| {
        invalid(
            path,
            &format!(
                "cannot transform from CRS {:?} to {:?} ({})",
                crs_name(from),
                crs_name(to),
                gdal_message(&e)
            ),
        )
    })
}

/// The CRS's name, or its PROJ string when unnamed.
pub(crate) fn crs_name(srs: &SpatialRef) -> String {
    match srs.name() {
        Some(n) if !n.is_empty() && n != "unknown" => n,
        _ => srs.to_proj4().map_or_else(|_| "unknown".into(), |s| s.trim().to_owned()),
    }
}

/// GDAL's own message without the crate's wrapping, on one line.
pub(crate) fn gdal_message(e: &gdal::errors::GdalError) -> String {
    let msg = match e {
        gdal::errors::GdalError::CplError { msg, .. }
        | gdal::errors::GdalError::NullPointer { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    msg.trim().replace('\n', " ")
}

/// An [`ToolsError::Invalid`] for `path`.
pub(crate) fn invalid(path: &Path, reason: &str) -> ToolsError {
    ToolsError::Invalid { path: path.to_path_buf(), reason: reason.to_owned() }
}
