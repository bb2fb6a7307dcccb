//! What a caller (the `view_tile` tool, the CLI, the prompt builder) asks for: a square of the
//! map, a layer and a pixel budget; and the checks that keep a model's request from costing
//! more than a tile is worth.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::frame::Frame;
use crate::error::{Result, ToolsError};

/// Default long side of a tile, pixels: legible labels at a token cost of about 1,400
/// (Anthropic) or 765 (OpenAI high detail).
pub const DEFAULT_PX: u32 = 1024;
/// Smallest tile side, pixels: below this the grid labels crowd out the terrain.
pub const MIN_PX: u32 = 256;
/// Largest tile side, pixels: providers downscale anything bigger anyway.
pub const MAX_PX: u32 = 2048;
/// Smallest tile side on the ground, metres (a few rover lengths).
pub const MIN_SIZE_M: f64 = 5.0;
/// Largest tile side on the ground, metres: bounds the raster cells one tile reads.
pub const MAX_SIZE_M: f64 = 20_000.0;

/// What a tile shows under its grid and markers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The orbital image (grayscale, contrast-stretched per tile); a hillshade of the DEM when
    /// the site has no image.
    #[default]
    Ortho,
    /// Slope in degrees, colour-ramped from green (flat) through yellow to red (30° and
    /// steeper); the steepest cell under each pixel, so steep spots never average away. A
    /// coarse tile (pixels of two DEM cells or more) shows the slope at its own resolution,
    /// computed on the DEM's block means, as it reads overviews and not the full resolution.
    Slope,
    /// The image dimmed, with mapped hazards filled and outlined by class.
    Hazards,
    /// The image dimmed, with the baseline classifier's terrain classes painted in their
    /// colours (those of `hazards` and of `classes.tif`).
    Classes,
}

impl Layer {
    /// Every layer, in a fixed order.
    pub const ALL: [Layer; 4] = [Layer::Ortho, Layer::Slope, Layer::Hazards, Layer::Classes];

    /// The snake_case name used in JSON, file names and the CLI.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Ortho => "ortho",
            Layer::Slope => "slope",
            Layer::Hazards => "hazards",
            Layer::Classes => "classes",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = ToolsError;

    fn from_str(s: &str) -> Result<Self> {
        Layer::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| {
            ToolsError::Argument(format!(
                "unknown layer {s:?}; expected ortho, slope, hazards or classes"
            ))
        })
    }
}

/// A square view of the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileRequest {
    /// Map x of the centre, metres.
    pub centre_x: f64,
    /// Map y of the centre, metres.
    pub centre_y: f64,
    /// Side of the square on the ground, metres.
    pub size_m: f64,
    /// What to show.
    pub layer: Layer,
    /// Side of the image, pixels (the tile is square, so this is also its long side).
    pub px: u32,
}

impl TileRequest {
    /// A request with the default pixel budget.
    #[must_use]
    pub fn new(centre_x: f64, centre_y: f64, size_m: f64, layer: Layer) -> Self {
        TileRequest { centre_x, centre_y, size_m, layer, px: DEFAULT_PX }
    }

    /// The same request with another pixel budget.
    #[must_use]
    pub fn with_px(self, px: u32) -> Self {
        TileRequest { px, ..self }
    }

    /// The same request showing another layer.
    #[must_use]
    pub fn with_layer(self, layer: Layer) -> Self {
        TileRequest { layer, ..self }
    }

    /// Checks the numbers and returns the tile's footprint.
    pub fn frame(&self) -> Result<Frame> {
        if !(self.centre_x.is_finite() && self.centre_y.is_finite()) {
            return Err(ToolsError::Argument(format!(
                "tile centre ({}, {}) must be finite map metres",
                self.centre_x, self.centre_y
            )));
        }
        if !(self.size_m.is_finite() && (MIN_SIZE_M..=MAX_SIZE_M).contains(&self.size_m)) {
            return Err(ToolsError::Argument(format!(
                "tile size {} m is out of range: use {MIN_SIZE_M} to {MAX_SIZE_M} m",
                self.size_m
            )));
        }
        if !(MIN_PX..=MAX_PX).contains(&self.px) {
            return Err(ToolsError::Argument(format!(
                "tile side {} px is out of range: use {MIN_PX} to {MAX_PX} px",
                self.px
            )));
        }
        Ok(Frame::square(self.centre_x, self.centre_y, self.size_m, self.px))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_round_trip_by_name() {
        for l in Layer::ALL {
            assert_eq!(l.as_str().parse::<Layer>().unwrap(), l);
            assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{l}\""));
        }
        let e = "contour".parse::<Layer>().unwrap_err().to_string();
        assert!(e.contains("contour") && e.contains("ortho, slope, hazards or classes"), "{e}");
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let ok = TileRequest::new(10.0, 20.0, 100.0, Layer::Ortho);
        assert_eq!(ok.frame().unwrap().m_per_px, 100.0 / 1024.0);
        let e = TileRequest { centre_x: f64::NAN, ..ok }.frame().unwrap_err().to_string();
        assert!(e.contains("finite"), "{e}");
        let e = TileRequest { size_m: 0.0, ..ok }.frame().unwrap_err().to_string();
        assert!(e.contains("size 0 m"), "{e}");
        let e = ok.with_px(10).frame().unwrap_err().to_string();
        assert!(e.contains("10 px"), "{e}");
    }
}
