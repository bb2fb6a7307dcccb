//! Terrain analysis products, one per file:
//!
//! - [`slope`]: slope in degrees by Horn's method, cell for cell what `gdaldem slope` writes;
//!   whole grids, single points through the DEM cache, and streamed GeoTIFF products.
//! - [`footprint`]: the cells under a rotated rover footprint and the least-squares plane
//!   fitted to them, shared by roughness and tilt so both see the same ground.
//! - [`roughness`]: local relief, ground above the wheel plane (belly clearance) and step
//!   height under a footprint; a relief raster.
//! - [`tilt`]: rover pitch, roll and total tilt on the plane under its footprint.
//!
//! Every product treats no-data as unknown terrain: a footprint or window touching it gives
//! `None` (or a no-data cell), never a value computed as if the ground were flat.

pub mod footprint;
pub mod roughness;
pub mod slope;
pub mod tilt;

pub use footprint::{CellSample, Footprint, FootprintCells, Plane};
pub use roughness::{footprint_roughness, relief_grid, roughness_at, Roughness};
pub use slope::{slope_at, slope_grid, summarize_slope, write_slope_raster, SlopeSummary};
pub use tilt::{footprint_tilt, tilt_at, Tilt};
