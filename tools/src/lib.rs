//! # breadcrumb-tools
//!
//! Everything deterministic in breadcrumb; it knows nothing of models or networks. Making
//! sites (synthesis, import, sols from real drives) is the `breadcrumb-sites` crate above it.
//!
//! - [`terrain`]: rasters read through GDAL in windows with an LRU tile cache ([`terrain::Dem`]),
//!   in-memory grids ([`terrain::Grid`]), terrain bundles, sols and rover profiles.
//! - [`analysis`]: slope by Horn's method (as `gdaldem slope`), roughness and step height,
//!   rover tilt from a plane fitted under the footprint.
//! - [`checker`]: the safety checker: every rule, a dense footprint walk, deterministic
//!   verdicts.
//! - [`geometry`]: map points, polyline length, point-to-segment and segment-to-polygon
//!   distances, and the R-tree zone index, one copy shared by every floor.
//! - [`cost`]: the planner's traversal cost grid (infinite where the checker could refuse),
//!   and the cost of any polyline.
//! - [`planner`]: the baseline planner: A* on the cost grid, simplified into waypoints that
//!   pass the checker, or a refusal naming the constraint that walls the goal off.
//! - [`tiles`]: PNG views of the map with labelled grid lines in map metres, for the model;
//!   [`render`]: a checked plan's route and violations over image and slope, side by side.
//!
//! - [`perception`]: hazards a model marks, validated before they become keep-outs.
//! - [`twin`]: the digital twin's drive sequence (`sequence.xml`, schema in `tools/schema/`).
//!
//! Units everywhere: map metres (x east, y north, the DEM's projected CRS), elevations in metres,
//! angles in degrees, headings clockwise from north.
#![deny(missing_docs)]

pub mod analysis;
pub mod api;
pub mod campaign;
pub mod checker;
pub mod cost;
pub mod error;
pub mod geometry;
pub mod perception;
pub mod planner;
pub mod render;
pub mod terrain;
pub mod tiles;
pub mod twin;

pub use error::{Result, ToolsError};
