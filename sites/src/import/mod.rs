//! Importing real terrain into a bundle: a DEM, an optional ortho image and optional mapped
//! hazards, read in any format GDAL reads (GeoTIFF, HiRISE PDS3 `.IMG`, JP2, a COG by
//! `/vsicurl/` URL), written as the bundle layout [`breadcrumb_tools::terrain::Bundle::open`] reads.
//!
//! Every input is opened and checked before anything is written, and the bundle is written
//! into a hidden staging directory beside the output and renamed into place only when complete,
//! so a failure (a bad ortho, a full disk, an interrupted download) never leaves a half-written
//! bundle where a planner would open it.
//!
//! # Examples
//!
//! ```no_run
//! use breadcrumb_sites::import::{import_bundle, ImportOptions};
//!
//! let report = import_bundle(&ImportOptions {
//!     ortho: Some("ESP_042252_1930_RED.JP2".into()),
//!     ..ImportOptions::new("DTEEC_042252_1930_042753_1930_A01.IMG", "sites/marias")
//! })?;
//! println!("{} x {} DEM cells", report.dem.size.0, report.dem.size.1);
//! # Ok::<(), breadcrumb_tools::ToolsError>(())
//! ```

mod dem;
mod manifest;
mod ortho;
pub(crate) mod source;
mod staging;

use std::path::PathBuf;

pub use dem::{output_nodata, DemImport, FALLBACK_NODATA};
pub use manifest::IMPORT_VERSION;
pub use ortho::{aligned_grid, OrthoImport, OrthoMethod, RESOLUTION_SLACK};

use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::terrain::hazards::load_hazards;
use manifest::{ManifestParts, Origin};
use source::SourceRaster;
use staging::Staging;

/// What to import and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// The elevation model: a raster in a projected CRS in metres.
    pub dem: PathBuf,
    /// An orbital image of the same ground, in any CRS.
    pub ortho: Option<PathBuf>,
    /// Mapped hazards (GeoJSON polygons with a `class`, in the DEM's map metres).
    pub hazards: Option<PathBuf>,
    /// The bundle directory to write.
    pub out_dir: PathBuf,
    /// Replace an existing non-empty `out_dir`.
    pub force: bool,
    /// The bundle's name (default: the output directory's name).
    pub name: Option<String>,
}

impl ImportOptions {
    /// Options importing only `dem` into `out_dir`.
    #[must_use]
    pub fn new(dem: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        ImportOptions {
            dem: dem.into(),
            ortho: None,
            hazards: None,
            out_dir: out_dir.into(),
            force: false,
            name: None,
        }
    }
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The bundle directory.
    pub out_dir: PathBuf,
    /// The bundle's name.
    pub name: String,
    /// The DEM layer.
    pub dem: DemImport,
    /// The ortho layer, if one was given.
    pub ortho: Option<OrthoImport>,
    /// Number of hazard features copied (0 without hazards).
    pub hazards: usize,
}

/// Imports a DEM (and optionally an ortho image and hazards) into a new bundle directory.
///
/// Errors, each one line naming the file: a missing input; an input GDAL cannot read as a
/// raster; a raster without a geotransform or CRS, or rotated; a DEM in a geographic
/// (degrees) CRS or one not in metres; an ortho that does not overlap the DEM; invalid
/// hazards; an existing non-empty `out_dir` without `force`.
pub fn import_bundle(opts: &ImportOptions) -> Result<ImportReport> {
    let out = &opts.out_dir;
    let name = match &opts.name {
        Some(n) if !n.trim().is_empty() => n.trim().to_owned(),
        Some(_) => return Err(ToolsError::Argument("the bundle name must not be empty".into())),
        None => out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "imported".into()),
    };

    // Open and check everything first: errors about inputs come before any file is written.
    let dem_src = SourceRaster::open(&opts.dem)?;
    dem_src.require_projected_metres()?;
    let ortho_src = opts.ortho.as_deref().map(SourceRaster::open).transpose()?;
    let hazards = match &opts.hazards {
        Some(path) => Some((path, load_hazards(path)?.len())),
        None => None,
    };

    staging::check_target(out, opts.force)?;
    let staging = Staging::new(out)?;
    let dem = dem::write_dem(&dem_src, &staging.path().join("dem.tif"))?;
    let ortho = match &ortho_src {
        Some(src) => Some(ortho::write_ortho(
            src,
            &dem_src,
            &staging.path().join("ortho.tif"),
            &staging.path().join(".ortho.warp.tif"),
        )?),
        None => None,
    };
    let hazards_copied = match hazards {
        Some((path, n)) => {
            let to = staging.path().join("hazards.geojson");
            std::fs::copy(path, &to).map_err(|e| ToolsError::io(&to, e))?;
            Some((Origin::of(path), n))
        }
        None => None,
    };
    let hazard_count = hazards_copied.as_ref().map_or(0, |(_, n)| *n);
    let text = manifest::render(&ManifestParts {
        name: &name,
        dem_src: &dem_src,
        dem: &dem,
        ortho: ortho_src.as_ref().zip(ortho.as_ref()),
        hazards: hazards_copied,
    });
    let manifest_path = staging.path().join("bundle.toml");
    std::fs::write(&manifest_path, text).map_err(|e| ToolsError::io(&manifest_path, e))?;
    // Close the inputs before the rename: an input may live in the directory being replaced.
    drop(ortho_src);
    drop(dem_src);
    staging.commit(opts.force)?;
    Ok(ImportReport { out_dir: out.clone(), name, dem, ortho, hazards: hazard_count })
}
