//! The furniture that lets a reader take positions off a tile: grid lines at round map
//! coordinates with their values written on them, a scale bar, a north arrow, a legend and a
//! caption saying what the layer is.

use ab_glyph::FontRef;

use super::draw::Canvas;
use super::frame::Frame;
use super::layers::{hazard_colour, slope_colour};
use super::text::{label, label_box, overlaps, Anchor, LabelBox, Style};
use crate::terrain::HazardClass;

/// Aim for this many grid lines across a tile at most (and about 4 at least: the round
/// intervals 1, 2, 5 × 10^k are 2–2.5× apart, so the count lands in roughly 3.6–9).
const MAX_LINES: f64 = 8.94;

/// The round interval (1, 2 or 5 × 10^k metres) for grid lines across `span_m` metres: the
/// smallest such value giving at most about nine lines.
#[must_use]
pub fn grid_interval(span_m: f64) -> f64 {
    nice_at_least(span_m / MAX_LINES)
}

/// The smallest 1, 2 or 5 × 10^k that is `>= v`.
fn nice_at_least(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let mut k = 10f64.powi(v.log10().floor() as i32 - 1);
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * k >= v * (1.0 - 1e-12) {
                return m * k;
            }
        }
        k *= 10.0;
    }
}

/// The largest 1, 2 or 5 × 10^k that is `<= v`.
fn nice_at_most(v: f64) -> f64 {
    let up = nice_at_least(v);
    if up <= v * (1.0 + 1e-12) {
        return up;
    }
    // The round value just below `up`: 10 → 5, 20 → 10, 50 → 20.
    let mantissa = up / 10f64.powf(up.log10().floor());
    if (mantissa - 5.0).abs() < 1e-6 {
        up * 0.4
    } else {
        up * 0.5
    }
}

/// Multiples of `step` strictly inside `(lo, hi)`.
#[must_use]
pub fn grid_values(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(step > 0.0 && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let first = (lo / step).floor() as i64 + 1;
    let last = (hi / step).ceil() as i64 - 1;
    (first..=last).map(|k| k as f64 * step).filter(|v| *v > lo && *v < hi).take(64).collect()
}

/// A coordinate written with as many decimals as the interval needs (none for 1 m and up).
#[must_use]
pub fn format_coord(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    let s = format!("{v:.decimals$}");
    // `-0` reads oddly on a map.
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_owned()
    } else {
        s
    }
}

/// Sizes that scale with the tile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    /// Label font height, pixels.
    pub font: f32,
    /// Pixels per "point" of line width and marker size (1.0 at 1024 px).
    pub unit: f64,
}

impl Scale {
    /// Sizes for an image whose short side is `px` pixels.
    pub fn for_px(px: u32) -> Scale {
        let unit = (f64::from(px) / 1024.0).clamp(0.6, 2.0);
        Scale { font: (16.0 * unit as f32).clamp(12.0, 28.0), unit }
    }

    /// A label style with white text on a dark box.
    pub fn label(&self) -> Style {
        Style { size: self.font, fg: [255, 255, 255], bg: [0, 0, 0], bg_alpha: 0.62 }
    }
}

/// Draws the grid lines (under the overlays); returns the interval.
pub(crate) fn grid_lines(canvas: &mut Canvas, frame: &Frame, scale: &Scale) -> f64 {
    let step = grid_interval(frame.width_m().max(frame.height_m()));
    let (w, h) = (f64::from(frame.width_px), f64::from(frame.height_px));
    let lines = grid_values(frame.min_x_m, frame.max_x_m, step)
        .into_iter()
        .map(|x| {
            let px = frame.to_px(x, 0.0).0;
            ((px, 0.0), (px, h))
        })
        .chain(grid_values(frame.min_y_m, frame.max_y_m, step).into_iter().map(|y| {
            let py = frame.to_px(0.0, y).1;
            ((0.0, py), (w, py))
        }))
        .collect::<Vec<_>>();
    // A dark halo under a light line keeps the grid visible on bright sand and dark rock.
    for &(a, b) in &lines {
        canvas.line(a, b, 3.0 * scale.unit, [0, 0, 0], 0.35);
    }
    for &(a, b) in &lines {
        canvas.line(a, b, 1.0 * scale.unit.max(1.0), [255, 255, 255], 0.75);
    }
    step
}

/// Writes each grid line's coordinate on it: x values along the top edge, y values along the
/// left edge. A label that would collide with one already placed is left out.
pub(crate) fn grid_labels(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    frame: &Frame,
    scale: &Scale,
    step: f64,
    placed: &mut Vec<LabelBox>,
) {
    let style = scale.label();
    let w = f64::from(frame.width_px);
    let margin = 3.0 * scale.unit;
    for y in grid_values(frame.min_y_m, frame.max_y_m, step) {
        let py = frame.to_px(0.0, y).1;
        let text = format!("y {}", format_coord(y, step));
        let b = label_box(font, &style, Anchor::Left, (margin, py), text.as_str());
        if b.1 < 0.0
            || b.3 > f64::from(frame.height_px)
            || placed.iter().any(|p| overlaps(*p, b, 2.0))
        {
            continue;
        }
        placed.push(label(canvas, font, &style, Anchor::Left, (margin, py), &text));
    }
    for x in grid_values(frame.min_x_m, frame.max_x_m, step) {
        let px = frame.to_px(x, 0.0).0;
        let text = format!("x {}", format_coord(x, step));
        let b = label_box(font, &style, Anchor::TopCentre, (px, margin), text.as_str());
        if b.0 < 0.0 || b.2 > w || placed.iter().any(|p| overlaps(*p, b, 2.0)) {
            continue;
        }
        placed.push(label(canvas, font, &style, Anchor::TopCentre, (px, margin), &text));
    }
}

/// A scale bar in the bottom-left corner: a round length of about a fifth of the tile, in
/// alternating black and white halves, with its length written above it.
pub(crate) fn scale_bar(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    frame: &Frame,
    scale: &Scale,
) -> LabelBox {
    let len_m = nice_at_most(frame.width_m() / 5.0);
    let len_px = len_m / frame.m_per_px;
    let u = scale.unit;
    let (x0, y1) = (12.0 * u, f64::from(frame.height_px) - 12.0 * u);
    let bar_h = 8.0 * u;
    let text = format!("{} m", format_coord(len_m, len_m));
    let style = scale.label();
    let tb = label_box(font, &style, Anchor::BottomLeft, (x0, y1 - bar_h - 4.0 * u), &text);
    let (bx0, by0, bx1, by1) =
        (x0 - 6.0 * u, tb.1 - 4.0 * u, (x0 + len_px).max(tb.2) + 6.0 * u, y1 + 6.0 * u);
    canvas.fill_rect(bx0, by0, bx1, by1, [0, 0, 0], 0.55);
    let half = len_px / 2.0;
    canvas.fill_rect(x0, y1 - bar_h, x0 + half, y1, [255, 255, 255], 1.0);
    canvas.fill_rect(x0 + half, y1 - bar_h, x0 + len_px, y1, [20, 20, 20], 1.0);
    canvas.line((x0, y1 - bar_h), (x0 + len_px, y1 - bar_h), 1.0, [255, 255, 255], 1.0);
    canvas.line((x0 + len_px, y1 - bar_h), (x0 + len_px, y1), 1.0, [255, 255, 255], 1.0);
    let style = Style { bg_alpha: 0.0, ..style };
    label(canvas, font, &style, Anchor::BottomLeft, (x0, y1 - bar_h - 4.0 * u), &text);
    (bx0, by0, bx1, by1)
}

/// A north arrow in the top-right corner, below the x labels (map north is straight up).
pub(crate) fn north_arrow(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    frame: &Frame,
    scale: &Scale,
) -> LabelBox {
    let u = scale.unit;
    let cx = f64::from(frame.width_px) - 30.0 * u;
    let top = 44.0 * u;
    let len = 34.0 * u;
    let bx =
        (cx - 18.0 * u, top - 6.0 * u, cx + 18.0 * u, top + len + f64::from(scale.font) + 12.0 * u);
    canvas.fill_rect(bx.0, bx.1, bx.2, bx.3, [0, 0, 0], 0.55);
    let tip = (cx, top);
    let left = (cx - 10.0 * u, top + len);
    let right = (cx + 10.0 * u, top + len);
    let notch = (cx, top + len * 0.72);
    canvas.fill_polygon(&[vec![tip, right, notch]], [255, 255, 255], 1.0);
    canvas.fill_polygon(&[vec![tip, notch, left]], [170, 170, 170], 1.0);
    canvas.ring(&[tip, right, notch, left], 1.0, [255, 255, 255], 1.0, None);
    let style = Style { bg_alpha: 0.0, ..scale.label() };
    label(canvas, font, &style, Anchor::TopCentre, (cx, top + len + 2.0 * u), "N");
    bx
}

/// A legend box in the bottom-right corner, above the caption: `entries` of colour and text.
pub(crate) fn legend(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    frame: &Frame,
    scale: &Scale,
    bottom: f64,
    title: &str,
    entries: &[([u8; 3], String)],
) -> Option<LabelBox> {
    if entries.is_empty() {
        return None;
    }
    let u = scale.unit;
    let style = Style { bg_alpha: 0.0, ..scale.label() };
    let line_h = f64::from(scale.font) * 1.35;
    let sw = f64::from(scale.font);
    let text_w = std::iter::once(title)
        .chain(entries.iter().map(|e| e.1.as_str()))
        .map(|t| super::text::measure(font, scale.font, t).0)
        .fold(0.0, f64::max);
    let box_w = text_w + sw + 18.0 * u;
    let box_h = line_h * (entries.len() as f64 + 1.0) + 8.0 * u;
    let x1 = f64::from(frame.width_px) - 8.0 * u;
    let (x0, y0) = (x1 - box_w, bottom - box_h);
    canvas.fill_rect(x0, y0, x1, bottom, [0, 0, 0], 0.62);
    label(canvas, font, &style, Anchor::TopLeft, (x0 + 2.0 * u, y0 + 2.0 * u), title);
    for (k, (colour, text)) in entries.iter().enumerate() {
        let y = y0 + 4.0 * u + line_h * (k as f64 + 1.0);
        canvas.fill_rect(
            x0 + 6.0 * u,
            y + 2.0 * u,
            x0 + 6.0 * u + sw,
            y + 2.0 * u + sw * 0.8,
            *colour,
            1.0,
        );
        label(canvas, font, &style, Anchor::TopLeft, (x0 + 8.0 * u + sw, y), text);
    }
    Some((x0, y0, x1, bottom))
}

/// The slope legend: a few ramp colours with their degrees.
pub(crate) fn slope_entries() -> Vec<([u8; 3], String)> {
    [0.0f32, 10.0, 15.0, 20.0, 25.0, 30.0]
        .into_iter()
        .map(|d| (slope_colour(d), if d >= 30.0 { "30°+".to_owned() } else { format!("{d:.0}°") }))
        .collect()
}

/// The hazard legend: the classes present, in their stable order.
pub(crate) fn hazard_entries(classes: &[HazardClass]) -> Vec<([u8; 3], String)> {
    HazardClass::ALL
        .into_iter()
        .filter(|c| classes.contains(c))
        .map(|c| (hazard_colour(c), c.as_str().replace('_', " ")))
        .collect()
}

/// One line along the bottom-right edge: what the picture is and how to read it.
pub(crate) fn caption(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    frame: &Frame,
    scale: &Scale,
    text: &str,
) -> LabelBox {
    let style = Style { size: scale.font * 0.85, ..scale.label() };
    let at = (
        f64::from(frame.width_px) - 4.0 * scale.unit,
        f64::from(frame.height_px) - 4.0 * scale.unit,
    );
    let b = label_box(font, &style, Anchor::BottomLeft, at, text);
    let dx = b.2 - b.0;
    label(canvas, font, &style, Anchor::BottomLeft, (at.0 - dx, at.1), text)
}

/// A line of text in a band `height` pixels tall across the top of the image (the overlay's
/// verdict).
pub(crate) fn headline(
    canvas: &mut Canvas,
    scale: &Scale,
    height: u32,
    text: &str,
    colour: [u8; 3],
) -> crate::error::Result<()> {
    let font = super::text::font()?;
    let style = Style { size: scale.font * 1.1, fg: colour, bg: [0, 0, 0], bg_alpha: 0.0 };
    label(canvas, font, &style, Anchor::Left, (8.0 * scale.unit, f64::from(height) / 2.0), text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_round_and_give_four_to_nine_lines() {
        for span in [7.0, 10.0, 50.0, 64.0, 100.0, 200.0, 310.0, 348.0, 1000.0, 4321.0, 20000.0] {
            let step = grid_interval(span);
            let mantissa = step / 10f64.powf(step.log10().floor());
            assert!([1.0, 2.0, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-9), "{span}: {step}");
            let n = span / step;
            assert!((3.5..=9.0).contains(&n), "{span} m: step {step} gives {n} lines");
        }
        assert_eq!(grid_interval(100.0), 20.0);
        assert_eq!(grid_interval(310.0), 50.0);
        assert_eq!(nice_at_most(62.0), 50.0);
        assert_eq!(nice_at_most(20.0), 20.0);
        assert_eq!(nice_at_most(0.3), 0.2);
    }

    #[test]
    fn grid_values_lie_strictly_inside() {
        assert_eq!(grid_values(-10.0, 45.0, 20.0), vec![0.0, 20.0, 40.0]);
        assert_eq!(grid_values(0.0, 40.0, 20.0), vec![20.0]);
        assert!(grid_values(0.0, 1.0, 0.0).is_empty());
    }

    #[test]
    fn coordinates_are_written_plainly() {
        assert_eq!(format_coord(8_142_500.0, 50.0), "8142500");
        assert_eq!(format_coord(-276_600.0, 50.0), "-276600");
        assert_eq!(format_coord(12.5, 0.5), "12.5");
        assert_eq!(format_coord(-0.0, 1.0), "0");
    }
}
