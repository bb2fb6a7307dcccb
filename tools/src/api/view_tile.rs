//! `view_tile`: how the model looks and zooms — an image of a square of the map with labelled
//! grid lines in map metres, and the exact footprint of that image.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{finite_waypoints, on_map, resolved_echo, PointM, ResolvedPoint};
use super::candidates::{candidates_for, Candidate};
use super::{Tool, ToolCallError, ToolImage, ToolOutput, Toolbox};
use crate::tiles::{
    encode_jpeg, encode_png, render_image, Layer, Overlays, TileInfo, TileRequest, DEFAULT_PX,
    MODEL_JPEG_QUALITY,
};

/// What the tile shows.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TileLayer {
    /// The orbital image (default): rocks, ripples, outcrop, crater rims as a camera sees them.
    #[default]
    Ortho,
    /// Slope of the elevation model, colour-ramped (degrees; steep ground stands out).
    Slope,
    /// Mapped hazards outlined and coloured by class.
    Hazards,
    /// Terrain classes from the baseline classifier (sand ripples, rocks, boulder fields,
    /// outcrop, scarps, craters) painted over the dimmed image, with a legend. A deterministic
    /// guess from the elevation model and image, not ground truth: look at the ortho layer too.
    Classes,
}

/// An image of a square area of the map, centred at (centre_x_m, centre_y_m) and size_m on a
/// side: the orbital image, the slope map, the mapped hazards or the classifier's terrain
/// classes, with grid lines labelled in map
/// metres (x along the top and bottom, y along the sides), a scale bar, a north arrow, the start
/// (S) and goal (G), the keep-in and keep-out outlines, the hazards you marked (violet, with
/// their ids), and optionally your draft route. This is
/// how you look closer: a smaller size_m shows more detail. The result gives the exact map
/// footprint and metres per pixel of the image, and its `tile_id`: any later point argument
/// may then be a pixel of this image, {"tile": tile_id, "u": .., "v": ..} (u rightwards from
/// the left edge, v downwards from the top edge), instead of map metres. With
/// `candidates: true` the image also shows numbered blue marks on safe places where the rover
/// can stand, listed in the result; name one as {"tile": tile_id, "candidate": n}.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewTileArgs {
    /// Map x (east) of the tile's centre, metres.
    pub centre_x_m: f64,
    /// Map y (north) of the tile's centre, metres.
    pub centre_y_m: f64,
    /// Side of the square on the ground, metres (5 to 5000). A wide tile shows the terrain
    /// at its own coarse resolution (slope averaged over its pixels); zoom in to judge rocks
    /// and slopes at rover scale.
    pub size_m: f64,
    /// Which layer to show (default ortho).
    #[serde(default)]
    pub layer: TileLayer,
    /// A draft route to draw over the tile, waypoints in driving order (map metres, or pixels
    /// or candidates of a tile already shown).
    #[serde(default)]
    pub route: Option<Vec<PointM>>,
    /// Draw and list numbered candidates: safe places in this tile where the rover can stand
    /// (no blocking hazard or keep-out zone within the buffer, slope, steps and clearance
    /// within limits, inside keep-in). Default false.
    #[serde(default)]
    pub candidates: Option<bool>,
}

/// The answer: the tile's footprint and scale, its id, and its candidates when asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ViewTileResult {
    /// The id to give with pixel (`u`, `v`) or `candidate` points on this tile.
    pub tile_id: String,
    /// Footprint, scale, grid and token estimate.
    #[serde(flatten)]
    pub info: TileInfo,
    /// The numbered candidates drawn (when asked for): number, map metres and pixel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<Candidate>>,
    /// The route's waypoints in map metres, when some were given as pixels or candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<ResolvedPoint>>,
}

/// The `view_tile` tool.
pub struct ViewTile;

/// Largest tile side a model may ask for, metres (a wider view would only blur the terrain).
///
/// Why 5 km: a drive's context on a mission mosaic spans kilometres (a 3 km view of the
/// approach to a waypoint), and a coarse tile costs about what a fine one does: it reads the
/// rasters' overviews at its own resolution, in strips of bounded size, never the full
/// resolution (see `tiles::sample`). The classes layer refuses on-the-fly classification of
/// more than [`crate::tiles::layers::CLASSIFY_MAX_CELLS`] cells instead.
pub const MAX_TILE_M: f64 = 5000.0;

impl Tool for ViewTile {
    const NAME: &'static str = "view_tile";
    type Args = ViewTileArgs;

    fn run(toolbox: &Toolbox, a: ViewTileArgs) -> Result<ToolOutput, ToolCallError> {
        on_map(toolbox, "centre_x_m/centre_y_m", a.centre_x_m, a.centre_y_m)?;
        if !(a.size_m.is_finite() && (5.0..=MAX_TILE_M).contains(&a.size_m)) {
            return Err(ToolCallError::InvalidArguments {
                field: Some("size_m".into()),
                message: format!("must be between 5 and {MAX_TILE_M} metres, got {}", a.size_m),
            });
        }
        let route = match &a.route {
            Some(r) => finite_waypoints(toolbox, r)?,
            None => Vec::new(),
        };
        let resolved =
            a.route.as_ref().and_then(|r| resolved_echo(&r.iter().collect::<Vec<_>>(), &route));
        let layer = match a.layer {
            TileLayer::Ortho => Layer::Ortho,
            TileLayer::Slope => Layer::Slope,
            TileLayer::Hazards => Layer::Hazards,
            TileLayer::Classes => Layer::Classes,
        };
        let request = TileRequest::new(a.centre_x_m, a.centre_y_m, a.size_m, layer)
            .with_px(toolbox.tile_px().unwrap_or(DEFAULT_PX));
        let candidates = if a.candidates.unwrap_or(false) {
            Some(candidates_for(toolbox, &request.frame()?)?)
        } else {
            None
        };
        let spots: Vec<(u32, (f64, f64))> =
            candidates.iter().flatten().map(|c| (c.candidate, (c.x_m, c.y_m))).collect();
        let marks = toolbox.mark_records();
        let mut overlays = Overlays::sol(&toolbox.sol().sol)
            .with_route(&route)
            .with_candidates(&spots)
            .with_model_marks(&marks);
        if layer == Layer::Classes {
            // The sol's cached map when it covers the tile (every later call costs only the
            // painting); a tile reaching past it is classified on its own.
            let frame = request.frame()?;
            if let Some(map) = toolbox.class_map().filter(|m| {
                let (x0, y0, x1, y1) = m.extent();
                let e = toolbox.extent();
                frame.min_x_m.max(e.0) >= x0
                    && frame.min_y_m.max(e.1) >= y0
                    && frame.max_x_m.min(e.2) <= x1
                    && frame.max_y_m.min(e.3) <= y1
            }) {
                overlays = overlays.with_classes(map);
            }
        }
        let (img, info) = render_image(toolbox.bundle(), &request, &overlays)?;
        let (width, height) = (info.frame.width_px, info.frame.height_px);
        let tile_id = toolbox.register_tile(info.frame);
        let mut out = ToolOutput::json(&ViewTileResult { tile_id, info, candidates, resolved })?;
        out.images.push(ToolImage {
            png: encode_png(&img)?,
            jpeg: encode_jpeg(&img, MODEL_JPEG_QUALITY)?,
            width,
            height,
        });
        Ok(out)
    }
}
