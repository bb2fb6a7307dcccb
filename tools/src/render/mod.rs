//! The overlay picture of a checked plan: the route, its numbered waypoints and the checker's
//! violations over the orbital image (left) and the slope map (right), side by side under a
//! one-line verdict, in one PNG. People read it to see why a plan failed; the loop can show it
//! to the model with the violations when asking for a revision.
//!
//! Mapped hazards are outlined in their class colours on both panels. Both panels are ordinary
//! tiles ([`crate::tiles`]) of the same footprint, so they carry the
//! same labelled grid and the same drawing code; this module only chooses the footprint and
//! lays the panels out.

use image::{Rgb, RgbImage};

use crate::checker::{Verdict, Violation};
use crate::error::Result;
use crate::terrain::{Bundle, LoadedSol, Sol};
use crate::tiles::annotate::Scale;
use crate::tiles::draw::Canvas;
use crate::tiles::request::{MAX_PX, MAX_SIZE_M, MIN_PX, MIN_SIZE_M};
use crate::tiles::{encode_png, render_image, Layer, Overlays, TileRequest};
use crate::twin::TwinVerdict;

/// Gap between the panels, pixels.
const GAP_PX: u32 = 8;

/// How the overlay is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Side of each of the two square panels, pixels.
    pub panel_px: u32,
    /// Least ground margin around the route, start, goal and violations, metres.
    pub margin_m: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { panel_px: 768, margin_m: 15.0 }
    }
}

/// The square the overlay shows: everything worth seeing (start, goal, waypoints and the
/// violations' places) with a margin of a tenth of its extent, at least
/// [`RenderOptions::margin_m`], its side rounded up to a whole 10 m.
#[must_use]
pub fn overlay_request(
    sol: &Sol,
    waypoints: &[(f64, f64)],
    verdict: Option<&Verdict>,
    opts: &RenderOptions,
) -> TileRequest {
    let mut pts = vec![(sol.start.x, sol.start.y), (sol.goal.x, sol.goal.y)];
    pts.extend(waypoints.iter().copied());
    if let Some(v) = verdict {
        pts.extend(v.violations.iter().map(|v| (v.x, v.y)));
    }
    let (mut x0, mut y0, mut x1, mut y1) =
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (x, y) in pts.into_iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let extent = (x1 - x0).max(y1 - y0);
    let margin = (0.1 * extent).max(opts.margin_m.max(0.0)) + sol.goal.tolerance_m;
    let side = (((extent + 2.0 * margin) / 10.0).ceil() * 10.0).clamp(MIN_SIZE_M, MAX_SIZE_M);
    TileRequest::new(f64::midpoint(x0, x1), f64::midpoint(y0, y1), side, Layer::Ortho)
        .with_px(opts.panel_px.clamp(MIN_PX, MAX_PX))
}

/// Renders the overlay for a sol file's plan: opens the sol's bundle, then
/// [`render_overlay_with`].
pub fn render_overlay(
    sol: &LoadedSol,
    waypoints: &[(f64, f64)],
    verdict: Option<&Verdict>,
    opts: &RenderOptions,
) -> Result<Vec<u8>> {
    let bundle = Bundle::open(&sol.bundle_dir)?;
    render_overlay_with(&bundle, &sol.sol, waypoints, verdict, opts)
}

/// Renders the overlay over an open bundle: image and slope panels side by side under a line
/// saying pass or fail and which rules broke. PNG bytes.
pub fn render_overlay_with(
    bundle: &Bundle,
    sol: &Sol,
    waypoints: &[(f64, f64)],
    verdict: Option<&Verdict>,
    opts: &RenderOptions,
) -> Result<Vec<u8>> {
    render_overlay_twin(bundle, sol, waypoints, verdict, None, &[], opts)
}

/// What the digital twin adds to an overlay: its verdict (violations drawn as crosses labelled
/// `twin:<rule>`, and PASS/FAIL in the headline) and the predicted wheel tracks.
#[derive(Debug, Clone, Copy)]
pub struct TwinOverlay<'a> {
    /// The twin's verdict.
    pub verdict: &'a TwinVerdict,
    /// The six wheel tracks, map metres ([`crate::twin::telemetry::wheel_tracks`]).
    pub tracks: &'a [Vec<(f64, f64)>],
}

/// [`render_overlay_with`] with the twin's wheel tracks and violations drawn too, and the
/// model's hazard marks (violet outlines with their ids, as on the tiles the model saw), so
/// the dossier's picture shows what the route was kept away from.
pub fn render_overlay_twin(
    bundle: &Bundle,
    sol: &Sol,
    waypoints: &[(f64, f64)],
    verdict: Option<&Verdict>,
    twin: Option<&TwinOverlay<'_>>,
    model_marks: &[crate::perception::MarkRecord],
    opts: &RenderOptions,
) -> Result<Vec<u8>> {
    let request = overlay_request(sol, waypoints, verdict, opts);
    let mut violations: Vec<Violation> = verdict.map_or_else(Vec::new, |v| v.violations.clone());
    if let Some(t) = twin {
        violations.extend(t.verdict.violations.iter().map(|v| Violation {
            rule: format!("twin:{}", v.rule),
            segment: v.segment,
            x: v.x,
            y: v.y,
            measured: v.measured,
            limit: v.limit,
            unit: v.unit.clone(),
            message: v.message.clone(),
        }));
    }
    let tracks = twin.map_or(&[][..], |t| t.tracks);
    let overlays = Overlays::sol(sol)
        .with_route(waypoints)
        .with_violations(&violations)
        .with_hazard_outlines()
        .with_model_marks(model_marks)
        .with_wheel_tracks(tracks);
    let (left, _) = render_image(bundle, &request, &overlays)?;
    let (right, _) = render_image(bundle, &request.with_layer(Layer::Slope), &overlays)?;

    let scale = Scale::for_px(request.px);
    let header = (f64::from(scale.font) * 2.2).round() as u32;
    let (pw, ph) = (left.width(), left.height());
    let mut out = RgbImage::from_pixel(2 * pw + GAP_PX, ph + header, Rgb([32, 32, 36]));
    image::imageops::replace(&mut out, &left, 0, i64::from(header));
    image::imageops::replace(&mut out, &right, i64::from(pw + GAP_PX), i64::from(header));
    let mut canvas = Canvas::new(out);
    let (mut text, mut colour) = headline(sol, waypoints, verdict);
    if let Some(t) = twin {
        let v = t.verdict;
        if v.pass {
            text.push_str("  | twin PASS (wheel tracks in cyan)");
        } else {
            text = format!("{text}  | twin FAIL ({})", v.failed_rules().join(", "));
            colour = [255, 90, 80];
        }
    }
    crate::tiles::annotate::headline(&mut canvas, &scale, header, &text, colour)?;
    encode_png(&canvas.img)
}

/// The verdict in one line and its colour.
fn headline(sol: &Sol, waypoints: &[(f64, f64)], verdict: Option<&Verdict>) -> (String, [u8; 3]) {
    let n = waypoints.len();
    match verdict {
        None => (format!("{}: {n} waypoints, not checked", sol.id), [230, 230, 230]),
        Some(v) if v.pass => (
            format!(
                "{}: PASS  {n} waypoints, {:.1} m (budget {:.0} m)",
                sol.id, v.summary.length_m, v.summary.drive_budget_m
            ),
            [90, 230, 110],
        ),
        Some(v) => (
            format!(
                "{}: FAIL  {} violation{} ({})  {n} waypoints, {:.1} m",
                sol.id,
                v.violation_count(),
                if v.violation_count() == 1 { "" } else { "s" },
                v.failed_rules().join(", "),
                v.summary.length_m
            ),
            [255, 90, 80],
        ),
    }
}
