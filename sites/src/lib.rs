//! # breadcrumb-sites
//!
//! Making the ground the rest of breadcrumb plans on. This crate sits above `breadcrumb-tools`
//! (terrain, analysis, checker) and below the command line: nothing in the terrain floor needs
//! to know how a site was made, so authoring lives in its own room.
//!
//! - [`synth`]: synthetic Mars sites from published crater, rock and bedform models.
//! - [`import`]: real terrain (any GDAL raster, local or by URL) into a bundle; the ortho
//!   warped into the DEM's CRS when they differ.
//! - [`sol_from_route`]: a sol from a real drive (start, goal, keep-in corridor, budget), with
//!   the drive as its reference route; [`corridor`] builds and clips the keep-in.
//!
//! Errors are [`breadcrumb_tools::ToolsError`]: the failures are the terrain floor's (a file
//! GDAL cannot read, a bad argument, an I/O error), named the same way.
#![deny(missing_docs)]

pub mod corridor;
pub mod import;
pub mod sol_from_route;
pub mod synth;
