//! The twin's telemetry as a picture: four stacked panels against distance driven, attitude
//! (pitch, roll, tilt), suspension (bogies, differential), wheel step (largest |dz| between
//! poses and its bound) and belly clearance (nominal and lower bound), each with the rover's
//! limits as dashed lines (red: refuses, orange: cautions), the verdict's violations as red
//! ticks at the distance they occur and poses over unknown ground shaded grey.
//!
//! Drawn with the tiles' own primitives and embedded font ([`crate::tiles::draw`]), so it needs
//! no plotting crate and no installed fonts, and the same drive gives the same PNG bytes.

use ab_glyph::FontRef;
use image::{imageops, Rgb};

use super::drive::Telemetry;
use super::verdict::TwinVerdict;
use crate::error::Result;
use crate::terrain::rover::Kinematics;
use crate::tiles::draw::{blank, Canvas, Colour, P};
use crate::tiles::text::{font, label, measure, Anchor, Style};

/// Image width, pixels.
pub const WIDTH: u32 = 1400;
/// Height of one panel's plotting area, pixels.
const PANEL_H: f64 = 230.0;
/// Space above each panel for its title and legend, pixels.
const PANEL_TOP: f64 = 44.0;
/// Space below each panel for its tick labels, pixels.
const PANEL_BOTTOM: f64 = 30.0;
/// Left margin (y tick labels and the rotated axis label), pixels.
const LEFT: f64 = 120.0;
/// Right margin, pixels.
const RIGHT: f64 = 30.0;
/// Band at the top for the figure's title, pixels.
const HEADER: f64 = 64.0;
/// Band at the bottom for the x axis label, pixels.
const FOOTER: f64 = 46.0;

const WHITE: Colour = [255, 255, 255];
const INK: Colour = [30, 30, 30];
const GRID: Colour = [225, 225, 225];
const UNKNOWN: Colour = [200, 200, 200];
/// Limits that refuse a plan.
const GATE: Colour = [220, 20, 20];
/// Limits that only caution.
const CAUTION: Colour = [240, 140, 0];
const BLUE: Colour = [31, 119, 180];
const GREEN: Colour = [44, 160, 44];
const PURPLE: Colour = [148, 103, 189];
const GREY: Colour = [120, 120, 120];

/// One line of a panel: a value per pose (`None` breaks the line).
struct Series {
    name: &'static str,
    colour: Colour,
    values: Vec<Option<f64>>,
    /// Drawn thin and lighter: a bound, not the value.
    faint: bool,
}

/// A horizontal limit line.
struct Limit {
    value: f64,
    text: String,
    gate: bool,
}

/// A limit on a signed angle, drawn at `+value` and `-value`.
fn both_ways(name: &str, value: f64, gate: bool) -> [Limit; 2] {
    [
        Limit { value, text: format!("{name} +{value}"), gate },
        Limit { value: -value, text: format!("{name} -{value}"), gate },
    ]
}

/// One panel: what it shows and which verdict rules belong to it.
struct Panel {
    title: &'static str,
    unit: &'static str,
    series: Vec<Series>,
    limits: Vec<Limit>,
    rules: &'static [&'static str],
    /// Cut the value axis at [`CLIP_FACTOR`] times the largest limit.
    clip: bool,
}

/// How far past its largest limit an angle panel's axis reaches.
const CLIP_FACTOR: f64 = 3.0;

/// 1, 2 or 5 times a power of ten, about `span / 6`, and the ticks it puts on `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(mag);
    let mut out = Vec::new();
    let mut v = (lo / step).ceil() * step;
    while v <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

/// A tick label with as many decimals as the tick step needs.
fn tick_text(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    format!("{v:.decimals$}")
}

/// Maps data to pixels within one panel.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    d0: f64,
    d1: f64,
    v0: f64,
    v1: f64,
}

impl Frame {
    fn px(&self, d: f64, v: f64) -> P {
        (
            self.x0 + (d - self.d0) / (self.d1 - self.d0) * (self.x1 - self.x0),
            self.y1 - (v - self.v0) / (self.v1 - self.v0) * (self.y1 - self.y0),
        )
    }
}

/// A dashed horizontal line from `x0` to `x1` at `y`.
fn dashed_h(c: &mut Canvas, x0: f64, x1: f64, y: f64, colour: Colour) {
    let (on, off) = (10.0, 6.0);
    let mut x = x0;
    while x < x1 {
        c.line((x, y), ((x + on).min(x1), y), 2.0, colour, 1.0);
        x += on + off;
    }
}

/// Text turned a quarter turn anticlockwise (reading upwards), centred on `at`.
fn vertical_text(c: &mut Canvas, f: &FontRef<'_>, size: f32, at: P, text: &str) {
    let (w, h) = measure(f, size, text);
    let mut tmp = blank(w.ceil() as u32 + 8, h.ceil() as u32 + 8, WHITE);
    let style = Style { size, fg: INK, bg: WHITE, bg_alpha: 0.0 };
    label(&mut tmp, f, &style, Anchor::TopLeft, (0.0, 0.0), text);
    let r = imageops::rotate270(&tmp.img);
    let (ox, oy) = (at.0 - f64::from(r.width()) / 2.0, at.1 - f64::from(r.height()) / 2.0);
    for (x, y, p) in r.enumerate_pixels() {
        if p.0 != WHITE {
            let (px, py) = (ox as i64 + i64::from(x), oy as i64 + i64::from(y));
            if px >= 0 && py >= 0 && px < i64::from(c.img.width()) && py < i64::from(c.img.height())
            {
                c.img.put_pixel(px as u32, py as u32, Rgb(p.0));
            }
        }
    }
}

/// Value range of a panel: its data and its limits, padded by 8 % (1 unit when flat). Angle
/// panels are cut at [`CLIP_FACTOR`] times their largest limit, so that a linkage folded to
/// 200 degrees on a cliff does not squash the limits into one line; the panel says so.
/// Returns the range and whether anything was cut.
fn value_range(p: &Panel) -> ((f64, f64), bool) {
    let vals = p.series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let all = vals.chain(p.limits.iter().map(|l| l.value)).filter(|v| v.is_finite());
    let (mut lo, mut hi) =
        all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return ((0.0, 1.0), false);
    }
    let mut cut = false;
    if p.clip {
        let cap = CLIP_FACTOR * p.limits.iter().fold(0.0_f64, |m, l| m.max(l.value.abs()));
        if cap > 0.0 && (lo < -cap || hi > cap) {
            (lo, hi, cut) = (lo.max(-cap), hi.min(cap), true);
        }
    }
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 1.0 };
    ((lo - pad, hi + pad), cut)
}

/// Draws one panel with its top-left corner of the plotting area at `top`.
#[allow(clippy::too_many_arguments)]
fn draw_panel(
    c: &mut Canvas,
    f: &FontRef<'_>,
    p: &Panel,
    top: f64,
    dist: &[f64],
    unknown: &[bool],
    d_range: (f64, f64),
    marks: &[f64],
) {
    let ((v0, v1), cut) = value_range(p);
    let fr = Frame {
        x0: LEFT,
        x1: f64::from(WIDTH) - RIGHT,
        y0: top,
        y1: top + PANEL_H,
        d0: d_range.0,
        d1: d_range.1,
        v0,
        v1,
    };
    let small = Style { size: 15.0, fg: INK, bg: WHITE, bg_alpha: 0.0 };
    let title = Style { size: 19.0, ..small };
    // Unknown ground: one grey band behind everything per run of unknown poses, from its first
    // pose to the pose after it (one rectangle per run: overlapping ones would stripe).
    let mut i = 0;
    while i < unknown.len() {
        if !unknown[i] {
            i += 1;
            continue;
        }
        let first = i;
        while i < unknown.len() && unknown[i] {
            i += 1;
        }
        let end = dist.get(i).copied().unwrap_or(dist[i - 1]);
        let (a, b) = (fr.px(dist[first], v0).0, fr.px(end, v0).0);
        let (a, b) = (a.min(b), a.max(b).max(a.min(b) + 2.0));
        c.fill_rect(a, fr.y0, b, fr.y1, UNKNOWN, 0.6);
    }
    // Grid and tick labels.
    let yt = ticks(v0, v1);
    let ystep = if yt.len() > 1 { yt[1] - yt[0] } else { 1.0 };
    for &v in &yt {
        let (_, y) = fr.px(d_range.0, v);
        c.line((fr.x0, y), (fr.x1, y), 1.0, GRID, 1.0);
        let text = tick_text(v, ystep);
        label(c, f, &small, Anchor::Left, (fr.x0 - 4.0 - label_w(f, 15.0, &text), y), &text);
    }
    let xt = ticks(d_range.0, d_range.1);
    let xstep = if xt.len() > 1 { xt[1] - xt[0] } else { 1.0 };
    for &d in &xt {
        let (x, _) = fr.px(d, v0);
        c.line((x, fr.y0), (x, fr.y1), 1.0, GRID, 1.0);
        label(c, f, &small, Anchor::TopCentre, (x, fr.y1 + 3.0), &tick_text(d, xstep));
    }
    // Violations: red ticks along the top and bottom of the panel.
    for &d in marks {
        let (x, _) = fr.px(d, v0);
        c.line((x, fr.y0), (x, fr.y1), 1.0, GATE, 0.25);
        c.line((x, fr.y0), (x, fr.y0 + 12.0), 3.0, GATE, 1.0);
        c.line((x, fr.y1 - 12.0), (x, fr.y1), 3.0, GATE, 1.0);
    }
    // The series, faint ones (bounds) first so the values sit on top.
    let mut order: Vec<&Series> = p.series.iter().collect();
    order.sort_by_key(|s| !s.faint);
    for s in order {
        let (w, a) = if s.faint { (1.5, 0.7) } else { (2.0, 1.0) };
        let mut run: Vec<P> = Vec::new();
        for (i, v) in s.values.iter().enumerate() {
            // Clamped to the axis: a line past it would be drawn over the next panel.
            if let Some(v) = v.filter(|v| v.is_finite()) {
                run.push(fr.px(dist[i], v.clamp(v0, v1)));
            } else {
                c.polyline(&run, w, s.colour, a);
                run.clear();
            }
        }
        c.polyline(&run, w, s.colour, a);
    }
    // Limits, labelled at the right end just above the line; a label that would overlap one
    // already placed moves left of it.
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    for l in &p.limits {
        let (_, y) = fr.px(d_range.0, l.value);
        let colour = if l.gate { GATE } else { CAUTION };
        dashed_h(c, fr.x0, fr.x1, y, colour);
        let st = Style { size: 14.0, fg: colour, bg: WHITE, bg_alpha: 0.8 };
        let w = label_w(f, 14.0, &l.text);
        let mut x = fr.x1 - w - 6.0;
        while let Some(b) = placed.iter().find(|b| {
            let bx = (x, y - 22.0, x + w, y - 2.0);
            bx.0 < b.2 + 4.0 && b.0 < bx.2 + 4.0 && bx.1 < b.3 && b.1 < bx.3
        }) {
            x = b.0 - w - 12.0;
        }
        placed.push((x, y - 22.0, x + w, y - 2.0));
        label(c, f, &st, Anchor::BottomLeft, (x, y - 2.0), &l.text);
    }
    // Frame, title with unit, legend.
    for (a, b) in [
        ((fr.x0, fr.y0), (fr.x1, fr.y0)),
        ((fr.x1, fr.y0), (fr.x1, fr.y1)),
        ((fr.x1, fr.y1), (fr.x0, fr.y1)),
        ((fr.x0, fr.y1), (fr.x0, fr.y0)),
    ] {
        c.line(a, b, 1.0, INK, 1.0);
    }
    let heading = format!("{} ({})", p.title, p.unit);
    label(c, f, &title, Anchor::BottomLeft, (fr.x0, fr.y0 - 8.0), &heading);
    vertical_text(c, f, 16.0, (26.0, 0.5 * (fr.y0 + fr.y1)), p.unit);
    if cut {
        let note = Style { size: 13.0, fg: GREY, bg: WHITE, bg_alpha: 0.8 };
        let text =
            format!("axis cut at {CLIP_FACTOR}x the largest limit: values beyond sit on the edge");
        let w = label_w(f, 13.0, &text);
        label(c, f, &note, Anchor::BottomLeft, (fr.x1 - w, fr.y0 - 8.0), &text);
    }
    let mut x = fr.x0 + label_w(f, 19.0, &heading) + 40.0;
    let mut legend: Vec<(String, Colour, bool)> =
        p.series.iter().map(|s| (s.name.to_string(), s.colour, false)).collect();
    if p.limits.iter().any(|l| l.gate) {
        legend.push(("limit (refuses)".into(), GATE, true));
    }
    if p.limits.iter().any(|l| !l.gate) {
        legend.push(("limit (caution)".into(), CAUTION, true));
    }
    let y = fr.y0 - 18.0;
    for (name, colour, dashed) in legend {
        if dashed {
            dashed_h(c, x, x + 28.0, y, colour);
        } else {
            c.line((x, y), (x + 28.0, y), 3.0, colour, 1.0);
        }
        label(c, f, &small, Anchor::Left, (x + 32.0, y), &name);
        x += 32.0 + label_w(f, 15.0, &name) + 26.0;
    }
}

/// Width of a label's box (text plus padding), pixels.
fn label_w(f: &FontRef<'_>, size: f32, text: &str) -> f64 {
    measure(f, size, text).0 + 2.0 * (f64::from(size) * 0.25).round().max(2.0)
}

/// The four panels' data from the telemetry and the rover's limits.
fn panels(k: &Kinematics, t: &Telemetry) -> Vec<Panel> {
    let l = &k.limits;
    let st = |g: fn(&super::PoseState) -> f64| -> Vec<Option<f64>> {
        t.samples.iter().map(|s| s.state.as_ref().map(g)).collect()
    };
    let mut known_before = false;
    let (mut step, mut step_bound) = (Vec::new(), Vec::new());
    for s in &t.samples {
        let has = s.state.is_some() && known_before;
        step.push(has.then(|| s.wheel_dz_m.iter().fold(0.0_f64, |m, v| m.max(v.abs()))));
        step_bound.push(has.then_some(s.wheel_dz_bound_m));
        known_before = s.state.is_some();
    }
    let series = |name, colour, values| Series { name, colour, values, faint: false };
    let bound = |name, colour, values| Series { name, colour, values, faint: true };
    vec![
        Panel {
            title: "Attitude",
            unit: "deg",
            series: vec![
                series("pitch", BLUE, st(|p| p.pitch_deg)),
                series("roll", GREEN, st(|p| p.roll_deg)),
                series("tilt", INK, st(|p| p.tilt_deg)),
            ],
            limits: std::iter::once(Limit {
                value: l.max_tilt_deg,
                text: format!("tilt {}", l.max_tilt_deg),
                gate: true,
            })
            .chain(both_ways("pitch/roll", l.nominal_pitch_deg.max(l.nominal_roll_deg), false))
            .collect(),
            rules: &["chassis_tilt", "pitch_nominal", "roll_nominal"],
            clip: true,
        },
        Panel {
            title: "Suspension",
            unit: "deg",
            series: vec![
                series("bogie left", BLUE, st(|p| p.bogie_deg[0])),
                series("bogie right", GREEN, st(|p| p.bogie_deg[1])),
                series("differential", PURPLE, st(|p| p.differential_deg)),
            ],
            limits: both_ways("bogie", l.max_bogie_deg, true)
                .into_iter()
                .chain(both_ways("differential", l.max_differential_deg, true))
                .collect(),
            rules: &["bogie", "differential"],
            clip: true,
        },
        Panel {
            title: "Wheel step between poses",
            unit: "m",
            series: vec![
                bound("bound on |dz|", GREY, step_bound),
                series("largest |dz|", INK, step),
            ],
            limits: vec![Limit {
                value: l.max_wheel_drop_m,
                text: format!("wheel drop {}", l.max_wheel_drop_m),
                gate: true,
            }],
            rules: &["wheel_drop"],
            clip: false,
        },
        Panel {
            title: "Belly clearance",
            unit: "m",
            series: vec![
                series("clearance", INK, st(|p| p.clearance_m)),
                bound("lower bound", BLUE, st(|p| p.bounds.clearance_min_m)),
            ],
            limits: vec![Limit {
                value: l.min_belly_clearance_m,
                text: format!("min {}", l.min_belly_clearance_m),
                gate: true,
            }],
            rules: &["belly_clearance"],
            clip: false,
        },
    ]
}

/// Height of the whole figure, pixels.
#[must_use]
pub fn height() -> u32 {
    (HEADER + 4.0 * (PANEL_TOP + PANEL_H + PANEL_BOTTOM) + FOOTER) as u32
}

/// The figure as an RGB image.
pub fn plot_image(k: &Kinematics, t: &Telemetry, verdict: &TwinVerdict) -> Result<image::RgbImage> {
    let f = font()?;
    let mut c = blank(WIDTH, height(), WHITE);
    let dist: Vec<f64> = t.samples.iter().map(|s| s.distance_m).collect();
    let unknown: Vec<bool> = t.samples.iter().map(|s| s.state.is_none()).collect();
    let dmax = dist.iter().copied().fold(0.0_f64, f64::max);
    let d_range = (0.0, if dmax > 0.0 { dmax } else { 1.0 });
    let outcome = if verdict.pass { "PASS" } else { "FAIL" };
    let head = format!(
        "Twin drive: {} on {}: {outcome}   {} poses, {:.1} m, {:.0} s",
        verdict.rover,
        verdict.sol,
        verdict.summary.poses,
        verdict.summary.distance_m,
        verdict.summary.duration_s
    );
    let hs =
        Style { size: 24.0, fg: if verdict.pass { INK } else { GATE }, bg: WHITE, bg_alpha: 0.0 };
    label(&mut c, f, &hs, Anchor::Left, (LEFT - 6.0, HEADER * 0.45), &head);
    let sub = "red dashed: limits that refuse   orange: cautions   red ticks: worst pose of each violation   grey: unknown ground";
    let ss = Style { size: 14.0, fg: GREY, bg: WHITE, bg_alpha: 0.0 };
    label(&mut c, f, &ss, Anchor::Left, (LEFT - 6.0, HEADER * 0.85), sub);
    for (i, p) in panels(k, t).iter().enumerate() {
        let top = HEADER + PANEL_TOP + i as f64 * (PANEL_TOP + PANEL_H + PANEL_BOTTOM);
        let marks: Vec<f64> = verdict
            .violations
            .iter()
            .filter(|v| p.rules.contains(&v.rule.as_str()) && v.distance_m.is_finite())
            .map(|v| v.distance_m)
            .collect();
        draw_panel(&mut c, f, p, top, &dist, &unknown, d_range, &marks);
    }
    let xs = Style { size: 17.0, fg: INK, bg: WHITE, bg_alpha: 0.0 };
    let centre = 0.5 * (LEFT + f64::from(WIDTH) - RIGHT);
    label(
        &mut c,
        f,
        &xs,
        Anchor::BottomCentre,
        (centre, f64::from(height()) - 8.0),
        "distance driven (m)",
    );
    Ok(c.img)
}

/// The figure as PNG bytes (see the module documentation for what it shows).
pub fn plot_png(k: &Kinematics, t: &Telemetry, verdict: &TwinVerdict) -> Result<Vec<u8>> {
    crate::tiles::encode_png(&plot_image(k, t, verdict)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::{GeoTransform, Grid};
    use crate::twin::{compile, drive, judge, Ground};

    use crate::twin::test_kinematics as kin;

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        assert_eq!(ticks(0.0, 112.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t: Vec<String> = ticks(-0.05, 0.4).iter().map(|v| tick_text(*v, 0.1)).collect();
        assert_eq!(t, ["0.0", "0.1", "0.2", "0.3", "0.4"]);
        assert_eq!(ticks(3.0, 3.0), vec![3.0]);
    }

    /// Pixels of exactly `colour` in the image.
    fn count(img: &image::RgbImage, colour: Colour) -> usize {
        img.pixels().filter(|p| p.0 == colour).count()
    }

    #[test]
    fn a_drive_plots_to_a_png_with_its_limits_and_the_same_bytes_each_time() {
        let k = kin();
        // A 12 m drive north over a 4 m high, 2 m wide ridge: the rover climbs and drops.
        let tr = GeoTransform { x0: 0.0, y0: 60.0, dx: 0.5, dy: -0.5 };
        let g = Grid::from_fn(120, 120, tr, |_, y| if (y - 30.0).abs() < 1.0 { 0.4 } else { 0.0 });
        let seq = compile(&[(30.0, 24.0), (30.0, 36.0)], Some(0.0), 2.35).unwrap();
        let t = drive(&k, &Ground { grid: &g }, &seq);
        let v = judge(&k, &seq, &t, "ridge", "perseverance");
        let png = plot_png(&k, &t, &v).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (WIDTH, height()));
        // Limit lines of both kinds, the values' colours and no line outside the figure.
        for colour in [GATE, CAUTION, BLUE, GREEN, PURPLE, INK] {
            assert!(count(&img, colour) > 100, "{colour:?}: {}", count(&img, colour));
        }
        assert_eq!(png, plot_png(&k, &t, &v).unwrap());
        // A flat drive draws the same limits but different values.
        let flat = Grid::filled(120, 120, 0.0, tr);
        let tf = drive(&k, &Ground { grid: &flat }, &seq);
        let vf = judge(&k, &seq, &tf, "flat", "perseverance");
        assert_ne!(plot_png(&k, &tf, &vf).unwrap(), png);
    }

    #[test]
    fn poses_over_unknown_ground_are_shaded_and_nothing_panics() {
        let k = kin();
        let tr = GeoTransform { x0: 0.0, y0: 20.0, dx: 1.0, dy: -1.0 };
        let g = Grid::filled(20, 20, 0.0, tr);
        let seq = compile(&[(10.0, 5.0), (10.0, 40.0)], Some(0.0), 2.35).unwrap();
        let t = drive(&k, &Ground { grid: &g }, &seq);
        let v = judge(&k, &seq, &t, "off", "perseverance");
        let img = plot_image(&k, &t, &v).unwrap();
        // The grey is blended over white at 0.6: 255 - 0.6 * 55 = 222.
        assert!(img.pixels().filter(|p| p.0 == [222, 222, 222]).count() > 10_000);
        let empty =
            Telemetry { samples: Vec::new(), duration_s: 0.0, distance_m: 0.0, truncated: false };
        let u = TwinVerdict::undrivable("none", "perseverance", "no plan");
        assert!(plot_png(&k, &empty, &u).is_ok());
    }
}
