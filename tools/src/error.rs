//! Errors of the `tools` crate: every variant says what failed and where.

use std::path::PathBuf;

/// A `Result` whose error is [`ToolsError`].
pub type Result<T, E = ToolsError> = std::result::Result<T, E>;

/// What can go wrong while reading terrain, analysing it or writing products.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolsError {
    /// A file the caller named does not exist.
    #[error("{path}: no such file")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// GDAL could not open or read a raster (corrupt file, unknown format, I/O error).
    #[error("{path}: cannot read raster: {detail}")]
    Raster {
        /// The raster file.
        path: PathBuf,
        /// GDAL's own message.
        detail: String,
    },
    /// The raster has no geotransform, so cells cannot be placed on the map.
    #[error("{path}: raster has no geotransform (cannot place its cells in map metres)")]
    NoGeoTransform {
        /// The raster file.
        path: PathBuf,
    },
    /// The raster is rotated or sheared; only north-up rasters are supported.
    #[error("{path}: raster is rotated or sheared (geotransform {transform:?}); only north-up rasters are supported")]
    Rotated {
        /// The raster file.
        path: PathBuf,
        /// The offending geotransform.
        transform: [f64; 6],
    },
    /// Two layers of a bundle are in different coordinate reference systems.
    #[error("{other}: CRS differs from the DEM's ({dem}); reproject it first (e.g. `breadcrumb site import`)")]
    CrsMismatch {
        /// The DEM file.
        dem: PathBuf,
        /// The layer whose CRS differs.
        other: PathBuf,
    },
    /// A file exists but its content is not what it should be.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A caller passed an argument that cannot be honoured.
    #[error("invalid argument: {0}")]
    Argument(String),
    /// A point a caller gave lies off the map.
    #[error("{what} ({x:.1}, {y:.1}) lies off the map: the DEM covers x {:.1}..{:.1}, y {:.1}..{:.1}", extent.0, extent.2, extent.1, extent.3)]
    OffMap {
        /// Which point (`start`, `goal`).
        what: String,
        /// Its map x, metres.
        x: f64,
        /// Its map y, metres.
        y: f64,
        /// The map extent `(xmin, ymin, xmax, ymax)`.
        extent: (f64, f64, f64, f64),
    },
    /// The strategic planner found no route: where it is blocked, and by what.
    #[error("no strategic route: {reason}")]
    NoStrategicRoute {
        /// Which constraint walls the goal off, and where, in a sentence.
        reason: String,
        /// The constraints named in `reason`.
        walls: Vec<crate::cost::Constraint>,
    },
    /// Writing an output failed.
    #[error("{path}: cannot write: {detail}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Plain I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ToolsError {
    /// Wraps a GDAL error that happened while reading `path`.
    #[must_use]
    pub fn raster(path: impl Into<PathBuf>, err: &gdal::errors::GdalError) -> Self {
        ToolsError::Raster { path: path.into(), detail: err.to_string() }
    }

    /// Wraps a GDAL error that happened while writing `path`.
    #[must_use]
    pub fn write(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        ToolsError::Write { path: path.into(), detail: err.to_string() }
    }

    /// Wraps an I/O error on `path`.
    #[must_use]
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ToolsError::Io { path: path.into(), source }
    }
}
