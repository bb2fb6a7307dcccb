//! `bundle.toml` of a synthetic site: identity, provenance, CRS note and the full parameter set,
//! so that `[params]` alone regenerates the site byte for byte.

use serde::{Deserialize, Serialize};

use super::params::SynthParams;
use super::SiteSummary;
use breadcrumb_tools::error::{Result, ToolsError};

/// Provenance written into every synthetic bundle.
pub const PROVENANCE: &str = "synthetic; models from ROVER.md section 3: rocks (Golombek \
    F(D) = k exp(-qD), 3a), craters (N(>D) = C D^-b, simple profile d = 0.196 D, h_r = 0.036 D, \
    3b), aeolian bedforms (3c), slopes tuned to 3d; no real data";

/// Licence of generated data: nothing third-party goes in, so it is dedicated to the public
/// domain.
pub const LICENCE: &str = "CC0-1.0";

/// The manifest as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Bundle name (`params.name`, default `synth-<preset>-<seed>`).
    pub name: String,
    /// Always "breadcrumb-synth".
    pub generator: String,
    /// Generator version; products differ only across versions.
    pub generator_version: String,
    /// The seed (also in `params`).
    pub seed: u64,
    /// The preset (also in `params`).
    pub preset: String,
    /// Where the data came from.
    pub provenance: String,
    /// Licence of the data.
    pub licence: String,
    /// A human-readable CRS note.
    pub crs: String,
    /// The CRS as a PROJ string (the rasters carry the same CRS as WKT).
    pub crs_proj4: String,
    /// DEM file name.
    pub dem: String,
    /// Ortho file name.
    pub ortho: String,
    /// Hazards file name.
    pub hazards: String,
    /// Counts and ranges, for people skimming the bundle.
    pub summary: SiteSummary,
    /// Every parameter needed to regenerate the site.
    pub params: SynthParams,
}

/// Renders the manifest as TOML.
pub fn to_toml(m: &Manifest) -> Result<String> {
    toml::to_string(m).map_err(|e| ToolsError::Argument(format!("cannot write bundle.toml: {e}")))
}

/// Parses a synthetic bundle's manifest (e.g. to regenerate it from `[params]`).
pub fn from_toml(text: &str) -> Result<Manifest> {
    toml::from_str(text)
        .map_err(|e| ToolsError::Argument(format!("bad synthetic bundle.toml: {e}")))
}
