//! # breadcrumb-tools
//!
//! Everything deterministic in breadcrumb; it knows nothing of models or networks.
//!
//! - [`terrain`]: rasters read through GDAL in windows with an LRU tile cache ([`terrain::Dem`]),
//!   in-memory grids ([`terrain::Grid`]), terrain bundles, sols and rover profiles.
//! - [`analysis`]: slope by Horn's method (as `gdaldem slope`), roughness and step height,
//!   rover tilt from a plane fitted under the footprint.
//! - [`checker`]: the safety checker: every rule, a dense footprint walk, deterministic
//!   verdicts.
//! - [`synth`]: synthetic Mars sites from published crater, rock and bedform models.
//!
//! Units everywhere: map metres (x east, y north, the DEM's projected CRS), elevations in metres,
//! angles in degrees, headings clockwise from north.
#![deny(missing_docs)]

pub mod analysis;
pub mod checker;
pub mod error;
pub mod synth;
pub mod terrain;

pub use error::{Result, ToolsError};
