//! The campaign's overview picture: the whole route over the orbital image, each sol's drive
//! in alternating colours with its number at its end, the strategic route dashed beneath
//! them, start and goal marked; labelled map grid and scale bar as on every tile.

use image::RgbImage;

use crate::checker::Pt;
use crate::cost::CostGrid;
use crate::error::Result;
use crate::terrain::Bundle;
use crate::tiles::annotate::{grid_labels, grid_lines, scale_bar, Scale};
use crate::tiles::draw::{Canvas, Colour};
use crate::tiles::frame::Frame;
use crate::tiles::request::Layer;
use crate::tiles::text::{font, label, label_box, overlaps, Anchor};

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
    draw(bundle, &frame, None, strategic, sols, start, goal, px)
}

/// The area a model is shown when it is asked for a strategic corridor, `px` pixels a side:
/// the square around the start and the goal with half their distance to spare on every side
/// (at least 200 m), kept on the DEM where the DEM is large enough. Cells of `blocked` that
/// the coarse grid blocks are shaded red, so the model sees the walls the tool will name. The
/// labelled map grid is what the model reads its waypoints' coordinates off. Returns the
/// picture and its footprint.
pub fn render_area(
    bundle: &Bundle,
    start: Pt,
    goal: Pt,
    blocked: Option<&CostGrid>,
    px: u32,
) -> Result<(RgbImage, Frame)> {
    let span = (start.0 - goal.0).abs().max((start.1 - goal.1).abs());
    let (ex0, ey0, ex1, ey1) = bundle.dem.extent();
    let side = (2.0 * span).max(span + 400.0).min((ex1 - ex0).max(ey1 - ey0)).max(100.0);
    let keep_on = |c: f64, lo: f64, hi: f64| {
        if hi - lo <= side {
            f64::midpoint(lo, hi)
        } else {
            c.clamp(lo + side / 2.0, hi - side / 2.0)
        }
    };
    let cx = keep_on(f64::midpoint(start.0, goal.0), ex0, ex1);
    let cy = keep_on(f64::midpoint(start.1, goal.1), ey0, ey1);
    let frame = Frame::square(cx, cy, side, px);
    let img = draw(bundle, &frame, blocked, &[], &[], start, goal, px)?;
    Ok((img, frame))
}

/// Draws the picture of `frame`: the image, blocked coarse cells, the grid, the strategic
/// route, the sols, the start and the goal, the labels and the scale bar.
#[allow(clippy::too_many_arguments)]
fn draw(
    bundle: &Bundle,
    frame: &Frame,
    blocked: Option<&CostGrid>,
    strategic: &[Pt],
    sols: &[SolTrace],
    start: Pt,
    goal: Pt,
    px: u32,
) -> Result<RgbImage> {
    let frame = *frame;
    let img = crate::tiles::render_base(bundle, &frame, Layer::Ortho, None, None)?;
    let mut canvas = Canvas::new(img);
    if let Some(g) = blocked {
        shade_blocked(&mut canvas, &frame, g);
    }
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
    // Start and goal first, then the sols from the last: where short sols crowd (near the
    // goal, around a detour) a label takes the first free side of its end (above, below,
    // right) and is left out when none is free, rather than printed over another.
    for (p, text, colour) in [(start, "start", [80, 255, 80]), (goal, "goal", [255, 60, 200])] {
        let c = to_px(&p);
        canvas.circle(c, 7.0 * u, 2.0 * u, colour, 1.0);
        let st = crate::tiles::text::Style { fg: colour, ..style };
        placed.push(label(&mut canvas, f, &st, Anchor::TopCentre, (c.0, c.1 + 9.0 * u), text));
    }
    for (at, n, colour) in labels.into_iter().rev() {
        let st = crate::tiles::text::Style { fg: colour, ..style };
        let text = n.to_string();
        let sides = [
            (Anchor::BottomCentre, (at.0, at.1 - 5.0 * u)),
            (Anchor::TopCentre, (at.0, at.1 + 5.0 * u)),
            (Anchor::Left, (at.0 + 6.0 * u, at.1)),
        ];
        let free = sides.into_iter().find(|&(anchor, p)| {
            let b = label_box(f, &st, anchor, p, &text);
            !placed.iter().any(|q| overlaps(*q, b, 1.0))
        });
        if let Some((anchor, p)) = free {
            placed.push(label(&mut canvas, f, &st, anchor, p, &text));
        }
    }
    grid_labels(&mut canvas, f, &frame, &scale, step, &mut placed);
    scale_bar(&mut canvas, f, &frame, &scale);
    Ok(canvas.img)
}

/// Shades every blocked cell of `grid` inside `frame` red, half transparent.
fn shade_blocked(canvas: &mut Canvas, frame: &Frame, grid: &CostGrid) {
    let t = grid.transform();
    let (dx, dy) = t.resolution();
    for (i, b) in grid.blocked().iter().enumerate() {
        if b.is_empty() {
            continue;
        }
        let c = grid.centre(i);
        if c.0 + dx < frame.min_x_m
            || c.0 - dx > frame.max_x_m
            || c.1 + dy < frame.min_y_m
            || c.1 - dy > frame.max_y_m
        {
            continue;
        }
        let a = frame.to_px(c.0 - dx / 2.0, c.1 + dy / 2.0);
        let z = frame.to_px(c.0 + dx / 2.0, c.1 - dy / 2.0);
        canvas.fill_rect(a.0, a.1, z.0, z.1, [230, 40, 40], 0.45);
    }
}
