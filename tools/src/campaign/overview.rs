//! The campaign's overview picture: the whole route over the orbital image, each sol's drive
//! in alternating colours with its number at its end, the strategic route dashed beneath
//! them, start and goal marked; labelled map grid and scale bar as on every tile.

use image::RgbImage;

use crate::checker::Pt;
use crate::error::Result;
use crate::terrain::Bundle;
use crate::tiles::annotate::{grid_labels, grid_lines, scale_bar, Scale};
use crate::tiles::draw::{Canvas, Colour};
use crate::tiles::frame::Frame;
use crate::tiles::request::Layer;
use crate::tiles::text::{font, label, Anchor};

/// The two colours sols alternate in (orange, cyan: both stand out on grey rock).
pub const SOL_COLOURS: [Colour; 2] = [[255, 140, 0], [0, 200, 255]];

/// One sol's drive on the overview.
#[derive(Debug, Clone)]
pub struct SolTrace {
    /// Its number (1-based).
    pub number: usize,
    /// Waypoints driven, map metres.
    pub waypoints: Vec<Pt>,
    /// Whether it was accepted (a refused sol is drawn red).
    pub accepted: bool,
}

/// Renders the overview, `px` pixels on its longer side: the square around every point of
/// `strategic` and the sols with a margin of a tenth.
pub fn render_overview(
    bundle: &Bundle,
    strategic: &[Pt],
    sols: &[SolTrace],
    start: Pt,
    goal: Pt,
    px: u32,
) -> Result<RgbImage> {
    let mut pts: Vec<Pt> = strategic.to_vec();
    pts.extend([start, goal]);
    for s in sols {
        pts.extend(s.waypoints.iter().copied());
    }
    let (mut x0, mut y0, mut x1, mut y1) =
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in pts.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        x0 = x0.min(p.0);
        y0 = y0.min(p.1);
        x1 = x1.max(p.0);
        y1 = y1.max(p.1);
    }
    let side = ((x1 - x0).max(y1 - y0) * 1.2).max(100.0);
    let frame = Frame::square(f64::midpoint(x0, x1), f64::midpoint(y0, y1), side, px);
    let img = crate::tiles::render_base(bundle, &frame, Layer::Ortho, None, None)?;
    let mut canvas = Canvas::new(img);
    let scale = Scale::for_px(px);
    let f = font()?;
    let step = grid_lines(&mut canvas, &frame, &scale);
    let u = scale.unit;
    let to_px = |p: &Pt| frame.to_px(p.0, p.1);
    // The strategic route: thin white dashes.
    let s_px: Vec<_> = strategic.iter().map(to_px).collect();
    for (k, w) in s_px.windows(2).enumerate() {
        if k % 2 == 0 {
            canvas.line(w[0], w[1], 1.5 * u, [255, 255, 255], 0.8);
        }
    }
    let mut labels = Vec::new();
    for s in sols {
        let colour = if s.accepted { SOL_COLOURS[(s.number + 1) % 2] } else { [230, 30, 30] };
        let line: Vec<_> = s.waypoints.iter().map(to_px).collect();
        canvas.polyline(&line, 3.0 * u, [0, 0, 0], 0.5);
        canvas.polyline(&line, 2.0 * u, colour, 1.0);
        if let Some(end) = line.last() {
            canvas.disc(*end, 3.5 * u, colour, 1.0);
            canvas.circle(*end, 3.5 * u, 1.0 * u, [0, 0, 0], 0.8);
            labels.push((*end, s.number, colour));
        }
    }
    let style = scale.label();
    let mut placed = Vec::new();
    for (at, n, colour) in labels {
        let st = crate::tiles::text::Style { fg: colour, ..style };
        placed.push(label(
            &mut canvas,
            f,
            &st,
            Anchor::BottomCentre,
            (at.0, at.1 - 5.0 * u),
            &n.to_string(),
        ));
    }
    for (p, text, colour) in [(start, "start", [80, 255, 80]), (goal, "goal", [255, 60, 200])] {
        let c = to_px(&p);
        canvas.circle(c, 7.0 * u, 2.0 * u, colour, 1.0);
        let st = crate::tiles::text::Style { fg: colour, ..style };
        placed.push(label(&mut canvas, f, &st, Anchor::TopCentre, (c.0, c.1 + 9.0 * u), text));
    }
    grid_labels(&mut canvas, f, &frame, &scale, step, &mut placed);
    scale_bar(&mut canvas, f, &frame, &scale);
    Ok(canvas.img)
}
