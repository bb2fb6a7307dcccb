//! The picture under the overlays: the orbital image, the slope colour ramp or the hazard map,
//! with no-data and off-map areas painted as dark blue hatching so they can never be mistaken
//! for dark terrain.

use geo::{LineString, Polygon};
use image::{Rgb, RgbImage};

use super::draw::{Canvas, Colour, P};
use super::frame::Frame;
use super::request::Layer;
use super::sample::{sample, Product, Reduce};
use crate::error::{Result, ToolsError};
use crate::perception::classify::{classify, Class, ClassMap};
use crate::terrain::{Bundle, HazardClass};

/// Base colour of no-data and off-map pixels.
pub const NODATA: Colour = [22, 30, 88];
/// Colour of the hatching over no-data pixels.
pub const NODATA_HATCH: Colour = [70, 95, 185];

/// Slope ramp stops: degrees and colour. Green is easy going; yellow, orange and red approach
/// the rover's tilt limit (25° for the Perseverance profile); dark magenta is 30° and over.
pub const SLOPE_RAMP: [(f32, Colour); 6] = [
    (0.0, [28, 110, 56]),
    (8.0, [118, 186, 80]),
    (15.0, [240, 222, 74]),
    (20.0, [245, 148, 48]),
    (25.0, [214, 40, 36]),
    (30.0, [120, 16, 84]),
];

/// A base picture and what it was made from.
pub(crate) struct Base {
    /// The picture.
    pub canvas: Canvas,
    /// Share of pixels with no data (off the map or unknown terrain), `[0, 1]`.
    pub nodata_fraction: f64,
    /// What the picture shows (`ortho image`, `DEM hillshade`, `slope`).
    pub source: &'static str,
    /// The terrain classes painted (classes layer only), for the legend.
    pub classes: Vec<Class>,
}

/// Opacity of class colours over the faded image on the classes layer.
pub const CLASS_ALPHA: f64 = 0.5;

/// Draws the base picture of `layer` for `frame`; the classes layer paints `classes` (or, when
/// `None`, classifies the frame's window first).
pub(crate) fn base(
    bundle: &Bundle,
    frame: &Frame,
    layer: Layer,
    classes: Option<&ClassMap>,
) -> Result<Base> {
    base_stretched(bundle, frame, layer, classes, None)
}

/// [`base`] with the image's grey levels stretched between `stretch` (from
/// [`image_stretch`] over a larger frame) instead of the frame's own percentiles, so that
/// neighbouring tiles of a map share one contrast.
pub(crate) fn base_stretched(
    bundle: &Bundle,
    frame: &Frame,
    layer: Layer,
    classes: Option<&ClassMap>,
    stretch: Option<(f32, f32)>,
) -> Result<Base> {
    let image_base =
        |bundle: &Bundle, frame: &Frame, faded: bool| image_base(bundle, frame, faded, stretch);
    match layer {
        Layer::Ortho => image_base(bundle, frame, false),
        Layer::Slope => {
            let values = sample(&bundle.dem, frame, Product::Slope, Reduce::Max)?;
            Ok(paint(frame, &values, slope_colour, "DEM slope (degrees)"))
        }
        Layer::Hazards => {
            let mut base = image_base(bundle, frame, true)?;
            draw_hazards(&mut base.canvas, frame, bundle, true);
            base.source = "mapped hazards over the image";
            Ok(base)
        }
        Layer::Classes => {
            let mut base = image_base(bundle, frame, true)?;
            let own;
            let map = if let Some(m) = classes {
                m
            } else {
                let e = bundle.dem.extent();
                let window = (
                    frame.min_x_m.max(e.0),
                    frame.min_y_m.max(e.1),
                    frame.max_x_m.min(e.2),
                    frame.max_y_m.min(e.3),
                );
                check_classify_window(bundle, window)?;
                own = classify(bundle, window)?;
                &own
            };
            paint_classes(&mut base.canvas, frame, map);
            base.classes = classes_in(frame, map);
            base.source = "terrain classes (baseline classifier) over the image";
            Ok(base)
        }
    }
}

/// Most DEM cells the classes layer classifies on the fly for one tile: 2048², a 2 km square
/// of a 1 m DEM (about as much as a tile of 2048 px shows one cell a pixel).
pub const CLASSIFY_MAX_CELLS: f64 = 2048.0 * 2048.0;

/// Refuses to classify, for one tile, a window of more than [`CLASSIFY_MAX_CELLS`] DEM cells.
///
/// Why refuse and not classify decimated cells, as the other layers read coarse tiles: the
/// classifier finds rocks, ripples and scarps in the full-resolution DEM and image, with
/// windows tuned in metres to features of a few metres; on block means of 4 m it would find
/// nothing and paint a kilometre of ground as if it held no hazard, which is worse than no
/// picture. And classifying kilometres at full resolution for one picture would take minutes
/// and read the whole mosaic, which a coarse view must not. A class map computed beforehand
/// (the sol's, passed in [`Overlays::classes`](super::Overlays)) is painted at any size.
fn check_classify_window(bundle: &Bundle, window: (f64, f64, f64, f64)) -> Result<()> {
    let (cx, cy) = bundle.dem.transform().resolution();
    let cells = ((window.2 - window.0) / cx) * ((window.3 - window.1) / cy);
    if cells > CLASSIFY_MAX_CELLS {
        let side = CLASSIFY_MAX_CELLS.sqrt() * cx.max(cy);
        return Err(ToolsError::Argument(format!(
            "the classes layer classifies the DEM at full resolution, and this tile covers {} \
             cells of it (at most {} for one tile): ask for a classes tile of at most {side} m, \
             or use the ortho or slope layer for the wide view",
            cells.round(),
            CLASSIFY_MAX_CELLS
        )));
    }
    Ok(())
}

/// Blends each pixel whose centre lies on a hazard class of `map` with that class's colour.
fn paint_classes(canvas: &mut Canvas, frame: &Frame, map: &ClassMap) {
    let (w, h) = (frame.width_px, frame.height_px);
    let colours: Vec<Option<Colour>> = (0..=255u8)
        .map(|code| {
            Class::from_code(code).and_then(|c| {
                c.hazard().map(|_| {
                    let [r, g, b, _] = c.rgba();
                    [r, g, b]
                })
            })
        })
        .collect();
    let t = map.transform;
    // Column and row of the map under each pixel column and row (north-up both).
    let cols: Vec<i64> = (0..w)
        .map(|i| ((frame.to_map(f64::from(i) + 0.5, 0.0).0 - t.x0) / t.dx).floor() as i64)
        .collect();
    for j in 0..h {
        let y = frame.to_map(0.0, f64::from(j) + 0.5).1;
        let row = ((y - t.y0) / t.dy).floor() as i64;
        if row < 0 || row as usize >= map.height {
            continue;
        }
        let line = &map.codes[row as usize * map.width..(row as usize + 1) * map.width];
        for (i, &col) in cols.iter().enumerate() {
            if col < 0 || col as usize >= map.width {
                continue;
            }
            if let Some(colour) = colours[usize::from(line[col as usize])] {
                canvas.blend(i as i64, i64::from(j), colour, CLASS_ALPHA);
            }
        }
    }
}

/// The classes of `map` under the frame's pixels, in code order (for the legend).
#[must_use]
pub fn classes_in(frame: &Frame, map: &ClassMap) -> Vec<Class> {
    let (xmin, ymin, xmax, ymax) = map.extent();
    let t = map.transform;
    let (ca, ra) = t.to_cell(frame.min_x_m.max(xmin), frame.max_y_m.min(ymax));
    let (cb, rb) = t.to_cell(frame.max_x_m.min(xmax), frame.min_y_m.max(ymin));
    let (c0, c1) = (
        ca.min(cb).floor().max(0.0) as usize,
        (ca.max(cb).ceil().max(0.0) as usize).min(map.width),
    );
    let (r0, r1) = (
        ra.min(rb).floor().max(0.0) as usize,
        (ra.max(rb).ceil().max(0.0) as usize).min(map.height),
    );
    let mut seen = [false; 256];
    for r in r0..r1 {
        for &code in &map.codes[r * map.width + c0..r * map.width + c1.max(c0)] {
            seen[usize::from(code)] = true;
        }
    }
    Class::ALL.into_iter().filter(|c| c.hazard().is_some() && seen[usize::from(c.code())]).collect()
}

/// The image (or hillshade) in grey; `faded` towards mid-grey so coloured hazard fills stand
/// out (no-data keeps its own colours).
fn image_base(
    bundle: &Bundle,
    frame: &Frame,
    faded: bool,
    stretch: Option<(f32, f32)>,
) -> Result<Base> {
    let (values, source) = image_values(bundle, frame)?;
    let (lo, hi) = stretch.unwrap_or_else(|| stretch_bounds(&values));
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    Ok(paint(
        frame,
        &values,
        |v| {
            let g = if scale > 0.0 { ((v - lo) * scale).clamp(0.0, 255.0) } else { 128.0 };
            let g = if faded { g * 0.55 + 60.0 } else { g };
            // Non-negative, so adding 0.5 and truncating rounds (and is far cheaper).
            let g = (g + 0.5) as u8;
            [g, g, g]
        },
        source,
    ))
}

/// The grey values of the image (or, without one, the DEM's hillshade) over `frame`, and
/// which it was.
fn image_values(bundle: &Bundle, frame: &Frame) -> Result<(Vec<f32>, &'static str)> {
    Ok(match &bundle.ortho {
        Some(ortho) => (sample(ortho, frame, Product::Value, Reduce::Mean)?, "ortho image"),
        None => (sample(&bundle.dem, frame, Product::Hillshade, Reduce::Mean)?, "DEM hillshade"),
    })
}

/// The grey levels a tile of `frame` would stretch its image between (its 1st and 99th
/// percentiles); a map of many small tiles computes this once over its whole area and passes
/// it to every tile.
pub fn image_stretch(bundle: &Bundle, frame: &Frame) -> Result<(f32, f32)> {
    Ok(stretch_bounds(&image_values(bundle, frame)?.0))
}

/// The 1st and 99th percentiles of the valid values (from a fixed subsample, so the stretch
/// is cheap and deterministic): the image's contrast is stretched between them, since Mars
/// scenes often use a narrow band of grey levels.
fn stretch_bounds(values: &[f32]) -> (f32, f32) {
    let mut v: Vec<f32> = values.iter().step_by(4).copied().filter(|v| !v.is_nan()).collect();
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len();
    let (lo_i, hi_i) = (n / 100, (n - 1) - n / 100);
    let lo = *v.select_nth_unstable_by(lo_i, f32::total_cmp).1;
    let hi = *v.select_nth_unstable_by(hi_i, f32::total_cmp).1;
    (lo, hi)
}

/// Colours every pixel by `colour(value)`, hatching NaN.
fn paint(
    frame: &Frame,
    values: &[f32],
    colour: impl Fn(f32) -> Colour,
    source: &'static str,
) -> Base {
    let (w, h) = (frame.width_px, frame.height_px);
    let mut img = RgbImage::new(w, h);
    let mut nodata = 0usize;
    for (i, (v, px)) in values.iter().zip(img.pixels_mut()).enumerate() {
        *px = if v.is_nan() {
            nodata += 1;
            Rgb(nodata_colour(i as u32 % w, i as u32 / w))
        } else {
            Rgb(colour(*v))
        };
    }
    let total = (w as usize * h as usize).max(1);
    Base {
        canvas: Canvas::new(img),
        nodata_fraction: nodata as f64 / total as f64,
        source,
        classes: Vec::new(),
    }
}

/// Dark blue with diagonal hatching, 2 px lines every 12 px.
#[must_use]
pub fn nodata_colour(x: u32, y: u32) -> Colour {
    if (x + y) % 12 < 2 {
        NODATA_HATCH
    } else {
        NODATA
    }
}

/// The ramp colour of a slope in degrees.
#[must_use]
pub fn slope_colour(deg: f32) -> Colour {
    let last = SLOPE_RAMP.len() - 1;
    if deg <= SLOPE_RAMP[0].0 {
        return SLOPE_RAMP[0].1;
    }
    for k in 0..last {
        let ((d0, c0), (d1, c1)) = (SLOPE_RAMP[k], SLOPE_RAMP[k + 1]);
        if deg < d1 {
            let t = (deg - d0) / (d1 - d0);
            let mut out = [0u8; 3];
            for ((o, a), b) in out.iter_mut().zip(c0).zip(c1) {
                *o = (f32::from(a) + (f32::from(b) - f32::from(a)) * t + 0.5) as u8;
            }
            return out;
        }
    }
    SLOPE_RAMP[last].1
}

/// Fill colour of a hazard class on the hazards layer.
#[must_use]
pub fn hazard_colour(class: HazardClass) -> Colour {
    match class {
        HazardClass::Rock => [255, 40, 40],
        HazardClass::BoulderField => [255, 120, 30],
        HazardClass::SandRipple => [250, 220, 40],
        HazardClass::Outcrop => [200, 80, 255],
        HazardClass::Scarp => [255, 60, 200],
        HazardClass::Crater => [40, 200, 255],
        HazardClass::Unknown => [230, 230, 230],
    }
}

/// The pixel rings (outer, then holes) of a polygon.
pub(crate) fn polygon_px(frame: &Frame, poly: &Polygon<f64>) -> Vec<Vec<P>> {
    let ring =
        |ls: &LineString<f64>| -> Vec<P> { ls.0.iter().map(|c| frame.to_px(c.x, c.y)).collect() };
    std::iter::once(poly.exterior()).chain(poly.interiors()).map(ring).collect()
}

/// Outlines (and fills, with `fill`) every mapped hazard that touches the frame.
pub(crate) fn draw_hazards(canvas: &mut Canvas, frame: &Frame, bundle: &Bundle, fill: bool) {
    use geo::BoundingRect;
    for hazard in &bundle.hazards {
        let Some(r) = hazard.shape.bounding_rect() else { continue };
        if !frame.overlaps((r.min().x, r.min().y, r.max().x, r.max().y)) {
            continue;
        }
        let colour = hazard_colour(hazard.class);
        for poly in &hazard.shape.0 {
            let rings = polygon_px(frame, poly);
            if fill {
                canvas.fill_polygon(&rings, colour, 0.35);
            }
            for ring in &rings {
                canvas.ring(ring, 2.0, colour, 1.0, None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_ramp_is_continuous_and_clamped() {
        assert_eq!(slope_colour(-3.0), SLOPE_RAMP[0].1);
        assert_eq!(slope_colour(25.0), SLOPE_RAMP[4].1);
        assert_eq!(slope_colour(80.0), SLOPE_RAMP[5].1);
        let a = slope_colour(14.99);
        let b = slope_colour(15.0);
        assert!(a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 1), "{a:?} {b:?}");
    }

    #[test]
    fn stretch_ignores_nodata_and_outliers() {
        let mut v: Vec<f32> = (0..3000).map(|i| 100.0 + (i % 50) as f32).collect();
        v[0] = 0.0;
        v[3] = f32::NAN;
        let (lo, hi) = stretch_bounds(&v);
        assert!(lo >= 100.0 && hi <= 149.0, "{lo} {hi}");
        assert_eq!(stretch_bounds(&[f32::NAN]), (0.0, 0.0));
    }
}
