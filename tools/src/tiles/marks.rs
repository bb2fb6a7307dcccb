//! What the planner cares about, drawn over the terrain: keep-in and keep-out zones, the start
//! pose and goal, a draft route with numbered waypoints, and the checker's violations.
//!
//! Waypoints are numbered from 0, as in the plan's `waypoints` array; the checker's segment
//! `i` runs from waypoint `i` to `i + 1`.

use ab_glyph::FontRef;

use super::annotate::Scale;
use super::draw::{Canvas, Colour, P};
use super::frame::Frame;
use super::text::{label, label_box, overlaps, Anchor, LabelBox, Style};
use crate::checker::Violation;
use crate::terrain::Sol;

/// Keep-in outline (dashed).
pub const KEEP_IN: Colour = [0, 230, 255];
/// Keep-out outline and fill.
pub const KEEP_OUT: Colour = [255, 80, 0];
/// Start marker.
pub const START: Colour = [40, 230, 90];
/// Goal marker.
pub const GOAL: Colour = [255, 60, 255];
/// Route line.
pub const ROUTE: Colour = [255, 228, 0];
/// The model's own hazard marks (`mark_hazards`): violet, a colour no layer uses.
pub const MODEL_MARK: Colour = [190, 90, 255];
/// Violation marker.
pub const VIOLATION: Colour = [255, 20, 20];

/// Most violation labels drawn on one tile (markers are always drawn).
const MAX_VIOLATION_LABELS: usize = 40;

/// A label waiting to be placed once every shape is drawn, so that no line is drawn over it.
pub(crate) struct Pending {
    /// Its style.
    pub style: Style,
    /// The point it names, pixels.
    pub at: P,
    /// Distance from the point to the label, pixels (`None`: centred on the point).
    pub gap: Option<f64>,
    /// The text.
    pub text: String,
}

/// Places each pending label next to its point (right, left, above, below, in that order of
/// preference) where it collides with nothing placed yet; a label that collides wherever it
/// goes is still drawn at its first on-image choice (a waypoint number matters more than
/// tidiness), except centred zone names, which are left out.
pub(crate) fn place_all(
    canvas: &mut Canvas,
    font: &FontRef<'_>,
    pending: &[Pending],
    placed: &mut Vec<LabelBox>,
) {
    let (w, h) = (f64::from(canvas.img.width()), f64::from(canvas.img.height()));
    let fits = |b: LabelBox| b.0 >= 0.0 && b.1 >= 0.0 && b.2 <= w && b.3 <= h;
    for p in pending {
        let (style, at, text) = (&p.style, p.at, p.text.as_str());
        let Some(gap) = p.gap else {
            let b = label_box(font, style, Anchor::Centre, at, text);
            if fits(b) && !placed.iter().any(|q| overlaps(*q, b, 1.0)) {
                placed.push(label(canvas, font, style, Anchor::Centre, at, text));
            }
            continue;
        };
        let choices = [
            (Anchor::Left, (at.0 + gap, at.1)),
            (Anchor::Left, (at.0 - gap - label_width(font, style, text), at.1)),
            (Anchor::BottomCentre, (at.0, at.1 - gap)),
            (Anchor::TopCentre, (at.0, at.1 + gap)),
        ];
        let pick = choices
            .iter()
            .find(|(a, q)| {
                let b = label_box(font, style, *a, *q, text);
                fits(b) && !placed.iter().any(|r| overlaps(*r, b, 1.0))
            })
            .or_else(|| choices.iter().find(|(a, q)| fits(label_box(font, style, *a, *q, text))))
            .unwrap_or(&choices[0]);
        placed.push(label(canvas, font, style, pick.0, pick.1, text));
    }
}

fn label_width(font: &FontRef<'_>, style: &Style, text: &str) -> f64 {
    let b = label_box(font, style, Anchor::TopLeft, (0.0, 0.0), text);
    b.2 - b.0
}

fn ring_px(frame: &Frame, ring: &[[f64; 2]]) -> Vec<P> {
    ring.iter().map(|p| frame.to_px(p[0], p[1])).collect()
}

/// Keep-in (dashed cyan) and keep-out zones (orange, lightly filled, named).
pub(crate) fn zones(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    sol: &Sol,
    labels: &mut Vec<Pending>,
) {
    let u = scale.unit;
    let keep_in = ring_px(frame, &sol.keep_in);
    canvas.ring(&keep_in, 4.0 * u, [0, 0, 0], 0.45, Some((14.0 * u, 8.0 * u)));
    canvas.ring(&keep_in, 2.0 * u, KEEP_IN, 1.0, Some((14.0 * u, 8.0 * u)));
    let style = Style { size: scale.font * 0.9, fg: KEEP_OUT, ..scale.label() };
    for zone in &sol.keep_out {
        let ring = ring_px(frame, &zone.polygon);
        canvas.fill_polygon(std::slice::from_ref(&ring), KEEP_OUT, 0.18);
        canvas.ring(&ring, 4.5 * u, [0, 0, 0], 0.45, None);
        canvas.ring(&ring, 2.5 * u, KEEP_OUT, 1.0, None);
        // The name goes at the zone's centre when that is on the tile.
        if let Some(c) = centre_on_tile(frame, &ring) {
            labels.push(Pending {
                style,
                at: c,
                gap: None,
                text: format!("keep out: {}", zone.name),
            });
        }
    }
}

/// The model's marks: blocking ones filled faintly and outlined dashed, the others dotted,
/// each labelled with its id at its centre when that is on the tile.
pub(crate) fn model_marks(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    marks: &[crate::perception::MarkRecord],
    labels: &mut Vec<Pending>,
) {
    let u = scale.unit;
    let style = Style { size: scale.font * 0.85, fg: MODEL_MARK, ..scale.label() };
    for m in marks {
        let ring: Vec<P> = m.ring.iter().map(|p| frame.to_px(p[0], p[1])).collect();
        let dash = if m.blocks { (10.0 * u, 5.0 * u) } else { (3.0 * u, 5.0 * u) };
        if m.blocks {
            canvas.fill_polygon(std::slice::from_ref(&ring), MODEL_MARK, 0.22);
        }
        canvas.ring(&ring, 4.0 * u, [0, 0, 0], 0.45, Some(dash));
        canvas.ring(&ring, 2.0 * u, MODEL_MARK, 1.0, Some(dash));
        // The ring is closed: its last vertex repeats the first.
        if let Some(c) = centre_on_tile(frame, &ring[..ring.len().saturating_sub(1)]) {
            labels.push(Pending {
                style,
                at: c,
                gap: None,
                text: format!("{} {}", m.id, m.marked_class),
            });
        }
    }
}

/// The mean of `points` (pixels), when it lies inside the tile: where a zone's or a mark's
/// name is placed.
fn centre_on_tile(frame: &Frame, points: &[P]) -> Option<P> {
    let n = points.len().max(1) as f64;
    let c =
        (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    (c.0 > 0.0 && c.1 > 0.0 && c.0 < f64::from(frame.width_px) && c.1 < f64::from(frame.height_px))
        .then_some(c)
}

/// The start (green disc with a heading tick) and the goal (magenta circle of the goal
/// tolerance, at least a few pixels, with a cross at its centre), each labelled.
pub(crate) fn start_goal(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    sol: &Sol,
    labels: &mut Vec<Pending>,
) {
    let u = scale.unit;
    let s = frame.to_px(sol.start.x, sol.start.y);
    let heading = sol.start.heading_deg.to_radians();
    let tip = (s.0 + 30.0 * u * heading.sin(), s.1 - 30.0 * u * heading.cos());
    canvas.line(s, tip, 5.0 * u, [0, 0, 0], 0.6);
    canvas.line(s, tip, 2.5 * u, START, 1.0);
    canvas.disc(s, 9.0 * u, [0, 0, 0], 0.7);
    canvas.disc(s, 7.0 * u, START, 1.0);
    canvas.disc(s, 2.0 * u, [0, 0, 0], 1.0);

    let g = frame.to_px(sol.goal.x, sol.goal.y);
    let r = (sol.goal.tolerance_m / frame.m_per_px).max(8.0 * u);
    canvas.circle(g, r, 5.0 * u, [0, 0, 0], 0.6);
    canvas.circle(g, r, 2.5 * u, GOAL, 1.0);
    let arm = r.min(14.0 * u).max(8.0 * u);
    for (a, b) in [((g.0 - arm, g.1), (g.0 + arm, g.1)), ((g.0, g.1 - arm), (g.0, g.1 + arm))] {
        canvas.line(a, b, 4.0 * u, [0, 0, 0], 0.6);
        canvas.line(a, b, 2.0 * u, GOAL, 1.0);
    }
    let style = Style { fg: START, ..scale.label() };
    labels.push(Pending { style, at: s, gap: Some(14.0 * u), text: "START".into() });
    let style = Style { fg: GOAL, ..scale.label() };
    labels.push(Pending { style, at: g, gap: Some(r + 6.0 * u), text: "GOAL".into() });
}

/// A draft route: a yellow line with a dark edge, and each waypoint's number in a disc.
pub(crate) fn route(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    pts: &[(f64, f64)],
    labels: &mut Vec<Pending>,
) {
    let u = scale.unit;
    let px: Vec<P> = pts.iter().map(|&(x, y)| frame.to_px(x, y)).collect();
    canvas.polyline(&px, 6.0 * u, [0, 0, 0], 0.55);
    canvas.polyline(&px, 3.0 * u, ROUTE, 1.0);
    let style = Style { size: scale.font * 0.85, fg: [0, 0, 0], bg: ROUTE, bg_alpha: 0.92 };
    for (i, p) in px.iter().enumerate() {
        canvas.disc(*p, 5.0 * u, [0, 0, 0], 0.9);
        canvas.disc(*p, 3.5 * u, ROUTE, 1.0);
        if p.0 >= 0.0
            && p.1 >= 0.0
            && p.0 < f64::from(frame.width_px)
            && p.1 < f64::from(frame.height_px)
        {
            labels.push(Pending { style, at: *p, gap: Some(8.0 * u), text: i.to_string() });
        }
    }
}

/// Set-of-Mark candidate marker and label box.
pub const CANDIDATE: Colour = [0, 120, 255];

/// Set-of-Mark candidates: a small white-rimmed blue disc on each point where the rover can
/// stand, and its number in a blue box beside it (white text: unlike the waypoints' black on
/// yellow, so the two are never confused).
pub(crate) fn candidates(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    found: &[(u32, (f64, f64))],
    labels: &mut Vec<Pending>,
) {
    let u = scale.unit;
    let style = Style { fg: [255, 255, 255], bg: CANDIDATE, bg_alpha: 0.9, ..scale.label() };
    for &(n, (x, y)) in found {
        let p = frame.to_px(x, y);
        canvas.disc(p, 6.5 * u, [0, 0, 0], 0.8);
        canvas.disc(p, 5.0 * u, [255, 255, 255], 1.0);
        canvas.disc(p, 3.2 * u, CANDIDATE, 1.0);
        labels.push(Pending { style, at: p, gap: Some(8.0 * u), text: n.to_string() });
    }
}

/// Colour of the twin's wheel tracks.
pub const WHEEL_TRACK: Colour = [0, 230, 255];

/// The twin's predicted wheel tracks: one thin line per wheel (the route's line stays visible
/// between them; at overlay scale the two sides are a few pixels either side of it).
pub(crate) fn wheel_tracks(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    tracks: &[Vec<(f64, f64)>],
) {
    let u = scale.unit;
    for t in tracks {
        let px: Vec<P> = t.iter().map(|&(x, y)| frame.to_px(x, y)).collect();
        canvas.polyline(&px, 1.2 * u, WHEEL_TRACK, 0.9);
    }
}

/// The checker's violations: a red cross in a ring at each one's worst place, labelled with
/// the rule and segment. Violations at the same pixel share one label.
pub(crate) fn violations(
    canvas: &mut Canvas,
    frame: &Frame,
    scale: &Scale,
    found: &[Violation],
    labels: &mut Vec<Pending>,
) {
    let u = scale.unit;
    // Group by place (to the pixel) and segment, in the verdict's stable order.
    let mut groups: Vec<(P, Option<usize>, Vec<&str>)> = Vec::new();
    for v in found {
        if !(v.x.is_finite() && v.y.is_finite()) {
            continue;
        }
        let p = frame.to_px(v.x, v.y);
        let key = (p.0.round(), p.1.round());
        match groups
            .iter_mut()
            .find(|g| (g.0 .0.round(), g.0 .1.round()) == key && g.1 == v.segment)
        {
            Some(g) => {
                if !g.2.contains(&v.rule.as_str()) {
                    g.2.push(&v.rule);
                }
            }
            None => groups.push((p, v.segment, vec![v.rule.as_str()])),
        }
    }
    let arm = 9.0 * u;
    for (p, _, _) in &groups {
        canvas.circle(*p, arm + 3.0 * u, 5.0 * u, [255, 255, 255], 0.8);
        canvas.circle(*p, arm + 3.0 * u, 2.5 * u, VIOLATION, 1.0);
        for (a, b) in [
            ((p.0 - arm, p.1 - arm), (p.0 + arm, p.1 + arm)),
            ((p.0 - arm, p.1 + arm), (p.0 + arm, p.1 - arm)),
        ] {
            canvas.line(a, b, 3.5 * u, VIOLATION, 1.0);
        }
    }
    let style = Style { fg: [255, 255, 255], bg: [190, 0, 0], bg_alpha: 0.9, ..scale.label() };
    for (p, seg, rules) in groups.iter().take(MAX_VIOLATION_LABELS) {
        let on = p.0 >= 0.0
            && p.1 >= 0.0
            && p.0 < f64::from(frame.width_px)
            && p.1 < f64::from(frame.height_px);
        if !on {
            continue;
        }
        let text = match seg {
            Some(s) => format!("{} (seg {s})", rules.join(", ")),
            None => rules.join(", "),
        };
        labels.push(Pending { style, at: *p, gap: Some(arm + 8.0 * u), text });
    }
}
