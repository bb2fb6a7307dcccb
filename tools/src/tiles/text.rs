//! Text on tiles: DejaVu Sans Bold embedded in the binary (CI machines and containers have no
//! fonts installed), drawn with a dark box behind it so that labels stay legible over bright
//! sand and dark rock alike. The font's licence is `tools/assets/fonts/DejaVu-LICENSE.txt`.

use std::sync::OnceLock;

use ab_glyph::{FontRef, PxScale};
use imageproc::drawing::{draw_text_mut, text_size};

use super::draw::{Canvas, Colour};
use crate::error::{Result, ToolsError};

/// DejaVu Sans Bold (Bitstream Vera licence, DejaVu changes public domain).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The embedded font, parsed once.
pub(crate) fn font() -> Result<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or_else(|| ToolsError::Argument("the embedded tile font cannot be parsed".into()))
}

/// Where a label's box sits relative to its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The anchor is the box's top-left corner.
    TopLeft,
    /// The anchor is the middle of the box's top edge.
    TopCentre,
    /// The anchor is the box's bottom-left corner.
    BottomLeft,
    /// The anchor is the middle of the box's bottom edge.
    BottomCentre,
    /// The anchor is the box's centre.
    Centre,
    /// The anchor is the middle of the box's left edge.
    Left,
}

/// Style of a label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    /// Font height, pixels.
    pub size: f32,
    /// Text colour.
    pub fg: Colour,
    /// Box colour.
    pub bg: Colour,
    /// Box opacity (0 for no box).
    pub bg_alpha: f64,
}

/// A placed label's box in pixels: `(x0, y0, x1, y1)`.
pub(crate) type LabelBox = (f64, f64, f64, f64);

/// Width and height in pixels of `text` at `size`.
pub(crate) fn measure(font: &FontRef<'_>, size: f32, text: &str) -> (f64, f64) {
    let (w, _) = text_size(PxScale::from(size), font, text);
    (f64::from(w), f64::from(size))
}

/// The box a label would occupy, including padding.
pub(crate) fn label_box(
    font: &FontRef<'_>,
    style: &Style,
    anchor: Anchor,
    at: (f64, f64),
    text: &str,
) -> LabelBox {
    let (tw, th) = measure(font, style.size, text);
    let pad = (f64::from(style.size) * 0.25).round().max(2.0);
    let (bw, bh) = (tw + 2.0 * pad, th + pad);
    let (x0, y0) = match anchor {
        Anchor::TopLeft => (at.0, at.1),
        Anchor::TopCentre => (at.0 - bw / 2.0, at.1),
        Anchor::BottomLeft => (at.0, at.1 - bh),
        Anchor::BottomCentre => (at.0 - bw / 2.0, at.1 - bh),
        Anchor::Centre => (at.0 - bw / 2.0, at.1 - bh / 2.0),
        Anchor::Left => (at.0, at.1 - bh / 2.0),
    };
    (x0.round(), y0.round(), (x0 + bw).round(), (y0 + bh).round())
}

/// Draws a label and returns its box.
pub(crate) fn label(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    style: &Style,
    anchor: Anchor,
    at: (f64, f64),
    text: &str,
) -> LabelBox {
    let b = label_box(font, style, anchor, at, text);
    if style.bg_alpha > 0.0 {
        canvas.fill_rect(b.0, b.1, b.2, b.3, style.bg, style.bg_alpha);
    }
    let pad = (f64::from(style.size) * 0.25).round().max(2.0);
    // imageproc places the glyphs' ascent line at y, so the text's top sits about 10 % of the
    // size below it: shift up a little to centre the text in its box.
    let x = (b.0 + pad) as i32;
    let y = (b.1 + pad / 2.0 - f64::from(style.size) * 0.05) as i32;
    draw_text_mut(
        &mut canvas.img,
        image::Rgb(style.fg),
        x,
        y,
        PxScale::from(style.size),
        font,
        text,
    );
    b
}

/// Whether two boxes overlap (with `gap` pixels of clearance).
pub(crate) fn overlaps(a: LabelBox, b: LabelBox, gap: f64) -> bool {
    a.0 < b.2 + gap && b.0 < a.2 + gap && a.1 < b.3 + gap && b.1 < a.3 + gap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses_and_draws() {
        let f = font().unwrap();
        let (w, h) = measure(f, 16.0, "8142500");
        assert!(w > 40.0 && w < 100.0 && h == 16.0, "{w} x {h}");
        let mut c = super::super::draw::blank(100, 40, [0, 0, 0]);
        let style = Style { size: 16.0, fg: [255, 255, 255], bg: [0, 0, 0], bg_alpha: 0.0 };
        let b = label(&mut c, f, &style, Anchor::TopLeft, (2.0, 2.0), "123 m");
        assert!(c.img.pixels().any(|p| p.0[0] > 200), "text drew something");
        assert!(b.2 > b.0 && b.3 > b.1);
    }
}
