//! Tiles a model can read: square views of the map with labelled grid lines in map metres, so
//! that a vision-language model can take coordinates off the picture and send them back.
//!
//! A tile shows one [`Layer`] (the orbital image, a slope colour ramp or the mapped hazards) of
//! the square a [`TileRequest`] names (centre and side in map metres), resampled to its pixel
//! budget (1024 px a side by default) through windowed raster reads, never the whole raster.
//! Over it go grid lines every 1, 2 or 5 × 10^k metres with their values written on them, a
//! scale bar, a north arrow, the sol's start, goal, keep-in and keep-out zones, optionally a
//! draft route with numbered waypoints and the checker's violations, and a legend. No-data and
//! off-map areas are dark blue hatching, never black that could pass for shadow.
//!
//! The [`TileInfo`] that comes with each PNG says exactly which map rectangle it shows, its
//! metres per pixel and what it costs in image tokens ([`tokens`]), so that the caller can tell
//! the model "this image spans x 100–300, y 50–250" in words as well as in pixels.
//!
//! Output is deterministic: the same request over the same data gives the same PNG bytes.
//!
//! # Examples
//!
//! ```no_run
//! use breadcrumb_tools::terrain::{Bundle, Sol};
//! use breadcrumb_tools::tiles::{corridor_overview, render_tile, Overlays};
//!
//! let sol = Sol::load("fixtures/sols/plains-01.toml".as_ref())?;
//! let bundle = Bundle::open(&sol.bundle_dir)?;
//! let tile = render_tile(&bundle, &corridor_overview(&sol.sol), &Overlays::sol(&sol.sol))?;
//! std::fs::write("overview.png", &tile.png)?;
//! println!("{}", serde_json::to_string(&tile.info)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod annotate;
pub mod draw;
pub mod frame;
pub mod layers;
pub mod marks;
pub mod request;
pub(crate) mod sample;
pub(crate) mod text;
pub mod tokens;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use serde::Serialize;

use self::annotate::Scale;
pub use self::frame::Frame;
use self::marks::Pending;
pub use self::request::{Layer, TileRequest, DEFAULT_PX};
pub use self::tokens::TokenEstimate;
use crate::checker::Violation;
use crate::error::{Result, ToolsError};
use crate::perception::classify::ClassMap;
use crate::terrain::{Bundle, HazardClass, Sol};

/// What is drawn over the terrain besides the grid, scale bar and north arrow.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overlays<'a> {
    /// The sol whose start, goal, keep-in and keep-out zones are drawn.
    pub sol: Option<&'a Sol>,
    /// A draft route (map metres), drawn with waypoints numbered from 0.
    pub route: &'a [(f64, f64)],
    /// Checker violations, drawn as red crosses labelled with rule and segment.
    pub violations: &'a [Violation],
    /// Outline the mapped hazards on every layer, not only on [`Layer::Hazards`] (the overlay
    /// renderer does, so a `hazards` violation shows what it is about).
    pub hazard_outlines: bool,
    /// The digital twin's predicted wheel tracks (map metres), drawn as thin cyan lines over
    /// the route, as JPL's own map of the AI drive showed them.
    pub wheel_tracks: &'a [Vec<(f64, f64)>],
    /// Hazards the model marked in this run (`mark_hazards`), drawn in violet with their ids
    /// (`m1`, ...): dashed and filled when they block, dotted when they only record ground.
    pub model_marks: &'a [crate::perception::MarkRecord],
    /// Set-of-Mark candidates: numbered points where the rover can stand (number, map metres).
    pub candidates: &'a [(u32, (f64, f64))],
    /// The terrain classes the [`Layer::Classes`] layer paints (a cached map of the sol's
    /// area); `None` classifies the tile's own window on the fly.
    pub classes: Option<&'a ClassMap>,
}

impl<'a> Overlays<'a> {
    /// Just the sol's start, goal and zones.
    #[must_use]
    pub fn sol(sol: &'a Sol) -> Self {
        Overlays { sol: Some(sol), ..Overlays::default() }
    }

    /// The same overlays with a draft route.
    #[must_use]
    pub fn with_route(self, route: &'a [(f64, f64)]) -> Self {
        Overlays { route, ..self }
    }

    /// The same overlays with the twin's wheel tracks.
    #[must_use]
    pub fn with_wheel_tracks(self, wheel_tracks: &'a [Vec<(f64, f64)>]) -> Self {
        Overlays { wheel_tracks, ..self }
    }

    /// The same overlays with the model's marks.
    #[must_use]
    pub fn with_model_marks(self, model_marks: &'a [crate::perception::MarkRecord]) -> Self {
        Overlays { model_marks, ..self }
    }

    /// The same overlays with numbered candidate points.
    #[must_use]
    pub fn with_candidates(self, candidates: &'a [(u32, (f64, f64))]) -> Self {
        Overlays { candidates, ..self }
    }

    /// The same overlays with a class map for the classes layer.
    #[must_use]
    pub fn with_classes(self, classes: &'a ClassMap) -> Self {
        Overlays { classes: Some(classes), ..self }
    }

    /// The same overlays with mapped hazards outlined on every layer.
    #[must_use]
    pub fn with_hazard_outlines(self) -> Self {
        Overlays { hazard_outlines: true, ..self }
    }

    /// The same overlays with checker violations.
    #[must_use]
    pub fn with_violations(self, violations: &'a [Violation]) -> Self {
        Overlays { violations, ..self }
    }
}

/// Everything a caller needs to know about a tile besides its pixels. Field names carry their
/// units, as in every tool result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TileInfo {
    /// The layer shown.
    pub layer: Layer,
    /// What the picture was made from (`ortho image`, `DEM hillshade`, ...).
    pub source: &'static str,
    /// Map x of the centre, metres.
    pub centre_x_m: f64,
    /// Map y of the centre, metres.
    pub centre_y_m: f64,
    /// Side of the square on the ground, metres.
    pub size_m: f64,
    /// The exact footprint and pixel size.
    #[serde(flatten)]
    pub frame: Frame,
    /// Spacing of the labelled grid lines, metres.
    pub grid_interval_m: f64,
    /// Share of pixels with no data (off the map or unknown terrain), 0 to 1.
    pub nodata_fraction: f64,
    /// Estimated image tokens.
    pub tokens: TokenEstimate,
}

/// A rendered tile.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// PNG bytes (8-bit RGB).
    pub png: Vec<u8>,
    /// Footprint, scale and cost.
    pub info: TileInfo,
}

/// Renders one tile as a PNG.
///
/// A square that lies wholly outside the DEM is an error naming the DEM's extent; one that
/// overlaps it partly shows the rest as no-data hatching.
pub fn render_tile(
    bundle: &Bundle,
    request: &TileRequest,
    overlays: &Overlays<'_>,
) -> Result<Tile> {
    let (img, info) = render_image(bundle, request, overlays)?;
    Ok(Tile { png: encode_png(&img)?, info })
}

/// Renders one tile as an image (for composing several, as the overlay renderer does).
pub fn render_image(
    bundle: &Bundle,
    request: &TileRequest,
    overlays: &Overlays<'_>,
) -> Result<(RgbImage, TileInfo)> {
    let frame = request.frame()?;
    let extent = bundle.dem.extent();
    if !frame.overlaps(extent) {
        return Err(ToolsError::Argument(format!(
            "tile centred at ({}, {}) with side {} m lies wholly outside the DEM, which spans \
             x {} to {} and y {} to {} (map metres)",
            request.centre_x,
            request.centre_y,
            request.size_m,
            extent.0,
            extent.2,
            extent.1,
            extent.3
        )));
    }
    let font = text::font()?;
    let scale = Scale::for_px(frame.width_px.min(frame.height_px));
    let base = layers::base(bundle, &frame, request.layer, overlays.classes)?;
    let mut canvas = base.canvas;

    // Shapes first, then the furniture and grid labels, then the marks' labels where they fit,
    // so that no line is ever drawn across a label.
    if overlays.hazard_outlines && request.layer != Layer::Hazards {
        layers::draw_hazards(&mut canvas, &frame, bundle, false);
    }
    let step = annotate::grid_lines(&mut canvas, &frame, &scale);
    let mut pending: Vec<Pending> = Vec::new();
    if let Some(sol) = overlays.sol {
        marks::zones(&mut canvas, &frame, &scale, sol, &mut pending);
    }
    if !overlays.model_marks.is_empty() {
        marks::model_marks(&mut canvas, &frame, &scale, overlays.model_marks, &mut pending);
    }
    if !overlays.route.is_empty() {
        marks::route(&mut canvas, &frame, &scale, overlays.route, &mut pending);
    }
    if !overlays.wheel_tracks.is_empty() {
        marks::wheel_tracks(&mut canvas, &frame, &scale, overlays.wheel_tracks);
    }
    if !overlays.candidates.is_empty() {
        marks::candidates(&mut canvas, &frame, &scale, overlays.candidates, &mut pending);
    }
    if let Some(sol) = overlays.sol {
        marks::start_goal(&mut canvas, &frame, &scale, sol, &mut pending);
    }
    if !overlays.violations.is_empty() {
        marks::violations(&mut canvas, &frame, &scale, overlays.violations, &mut pending);
    }
    // Label priority: start and goal, violations, waypoint numbers, zone names.
    pending.sort_by_key(|p| match p.text.as_str() {
        "START" | "GOAL" => 0,
        _ if p.style.bg == [190, 0, 0] => 1,
        _ if p.gap.is_some() => 2,
        _ => 3,
    });

    let mut placed = Vec::new();
    placed.push(annotate::north_arrow(&mut canvas, font, &frame, &scale));
    placed.push(annotate::scale_bar(&mut canvas, font, &frame, &scale));
    let caption = format!(
        "{} | grid {} m | map metres, x east, y north",
        request.layer,
        annotate::format_coord(step, step)
    );
    let cap = annotate::caption(&mut canvas, font, &frame, &scale, &caption);
    placed.push(cap);
    let legend = match request.layer {
        Layer::Ortho => None,
        Layer::Slope => annotate::legend(
            &mut canvas,
            font,
            &frame,
            &scale,
            cap.1 - 4.0,
            "slope",
            &annotate::slope_entries(),
        ),
        Layer::Hazards => {
            let mut entries = annotate::hazard_entries(&hazard_classes_in(bundle, &frame));
            if entries.is_empty() {
                entries.push(([90, 90, 90], "none here".into()));
            }
            annotate::legend(
                &mut canvas,
                font,
                &frame,
                &scale,
                cap.1 - 4.0,
                "mapped hazards",
                &entries,
            )
        }
        Layer::Classes => {
            let mut entries: Vec<([u8; 3], String)> = base
                .classes
                .iter()
                .map(|c| {
                    let [r, g, b, _] = c.rgba();
                    ([r, g, b], c.name().replace('_', " "))
                })
                .collect();
            if entries.is_empty() {
                entries.push(([90, 90, 90], "none here".into()));
            }
            annotate::legend(
                &mut canvas,
                font,
                &frame,
                &scale,
                cap.1 - 4.0,
                "terrain classes",
                &entries,
            )
        }
    };
    placed.extend(legend);
    annotate::grid_labels(&mut canvas, font, &frame, &scale, step, &mut placed);
    marks::place_all(&mut canvas, font, &pending, &mut placed);

    let info = TileInfo {
        layer: request.layer,
        source: base.source,
        centre_x_m: request.centre_x,
        centre_y_m: request.centre_y,
        size_m: request.size_m,
        frame,
        grid_interval_m: step,
        nodata_fraction: (base.nodata_fraction * 1e4).round() / 1e4,
        tokens: TokenEstimate::for_image(frame.width_px, frame.height_px),
    };
    Ok((canvas.img, info))
}

/// The bare picture of `layer` over `frame`: no grid, labels, legend or marks, only the image,
/// slope ramp, hazard fills or class colours (and the no-data hatching). A map viewer that draws
/// its own marks over the terrain tiles it with this (`breadcrumb review`), one small frame per
/// tile and zoom level, so nothing reads more of a raster than the tile shows. The classes
/// layer paints `classes` (or, when `None`, classifies the frame's window first). The image's
/// grey levels are stretched between `stretch` when given ([`layers::image_stretch`] of the
/// whole map), else between the frame's own percentiles; tiles of one map want the former, or
/// each would have its own contrast.
pub fn render_base(
    bundle: &Bundle,
    frame: &Frame,
    layer: Layer,
    classes: Option<&ClassMap>,
    stretch: Option<(f32, f32)>,
) -> Result<RgbImage> {
    Ok(layers::base_stretched(bundle, frame, layer, classes, stretch)?.canvas.img)
}

/// The hazard classes with a mapped outline touching the frame.
fn hazard_classes_in(bundle: &Bundle, frame: &Frame) -> Vec<HazardClass> {
    use geo::BoundingRect;
    let mut classes: Vec<HazardClass> = bundle
        .hazards
        .iter()
        .filter(|h| {
            h.shape
                .bounding_rect()
                .is_some_and(|r| frame.overlaps((r.min().x, r.min().y, r.max().x, r.max().y)))
        })
        .map(|h| h.class)
        .collect();
    classes.sort();
    classes.dedup();
    classes
}

/// Encodes an RGB image as PNG with fast compression (a 1024² tile in a few milliseconds; the
/// bytes are a few hundred kB either way, well under providers' 5 MB image limit).
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .map_err(|e| ToolsError::Argument(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

/// JPEG quality of the images models are sent. A 1024 px Gale tile is 125-180 kB at this
/// quality instead of 1-2.6 MB of PNG, and the grid labels, scale bar and waypoint numbers
/// stay sharp enough to read (checked by eye on ortho, slope and hazard tiles; the test
/// `model_jpeg_is_a_fraction_of_the_png_and_keeps_the_labels` measures the grid labels' text
/// pixels and the error around them: 3.7-3.9 levels at q85, 13.8 at q25).
pub const MODEL_JPEG_QUALITY: u8 = 85;

/// Encodes an RGB image as baseline JPEG at `quality` (1-100); deterministic, like the PNG.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .map_err(|e| ToolsError::Argument(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

/// Smallest side of a corridor overview, metres.
pub const OVERVIEW_MIN_SIZE_M: f64 = 40.0;

/// The corridor overview of a sol, shown in the first prompt: a square centred between start
/// and goal that covers both with a margin of a fifth of their distance (at least 15 m) on
/// every side, its side rounded up to a whole 10 m. Ortho layer, default pixel budget.
#[must_use]
pub fn corridor_overview(sol: &Sol) -> TileRequest {
    let (sx, sy, gx, gy) = (sol.start.x, sol.start.y, sol.goal.x, sol.goal.y);
    let margin = (0.2 * sol.start_goal_distance_m()).max(15.0) + sol.goal.tolerance_m;
    let side = (sx - gx).abs().max((sy - gy).abs()) + 2.0 * margin;
    let side = ((side / 10.0).ceil() * 10.0).clamp(OVERVIEW_MIN_SIZE_M, request::MAX_SIZE_M);
    TileRequest::new(f64::midpoint(sx, gx), f64::midpoint(sy, gy), side, Layer::Ortho)
}
