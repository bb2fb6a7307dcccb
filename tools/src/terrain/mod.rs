//! Terrain: rasters read through GDAL windows, in-memory grids, bundles, hazards, sols and
//! rover profiles.

pub mod bundle;
pub mod dem;
pub mod grid;
pub mod hazards;
pub mod raster_io;
pub mod rover;
pub mod sol;

pub use bundle::Bundle;
pub use dem::Dem;
pub use grid::{GeoTransform, Grid};
pub use hazards::{Hazard, HazardClass};
pub use rover::RoverProfile;
pub use sol::{LoadedSol, Sol};

/// One line naming where a TOML file is wrong: `line L, column C: message`. Every loader of
/// a file people write (sols, rovers, bundles, prompts, models, suites) reports errors this way.
#[must_use]
pub fn toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim().replace('\n', " ");
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}
