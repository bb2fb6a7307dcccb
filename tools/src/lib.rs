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
//! - [`import`]: real terrain (any GDAL raster, local or by URL) into a bundle; the ortho
//!   warped into the DEM's CRS when they differ.
//! - [`cost`]: the planner's traversal cost grid (infinite where the checker could refuse),
//!   and the cost of any polyline.
//! - [`planner`]: the baseline planner: A* on the cost grid, simplified into waypoints that
//!   pass the checker, or a refusal naming the constraint that walls the goal off.
//! - [`synth`]: synthetic Mars sites from published crater, rock and bedform models.
//! - [`tiles`]: PNG views of the map with labelled grid lines in map metres, for the model;
//!   [`render`]: a checked plan's route and violations over image and slope, side by side.
//!
//! - [`twin`]: the digital twin's drive sequence (`sequence.xml`, schema in `tools/schema/`).
//!
//! Units everywhere: map metres (x east, y north, the DEM's projected CRS), elevations in metres,
//! angles in degrees, headings clockwise from north.
#![deny(missing_docs)]

pub mod analysis;
pub mod api;
pub mod checker;
pub mod cost;
pub mod error;
pub mod import;
pub mod planner;
pub mod render;
pub mod synth;
pub mod terrain;
pub mod tiles;
pub mod twin;

pub use error::{Result, ToolsError};
