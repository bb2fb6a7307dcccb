//! Map metres to panel pixels. Every panel of a sol shows the same square of the map, so that
//! routes of different models and prompts can be compared by eye; the square is the corridor
//! overview the model was shown, grown when a route or a violation lies outside it, because a
//! route clipped at the panel's edge would hide exactly the attempts worth looking at.

use std::fmt::Write as _;

use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::tiles::request::{MAX_SIZE_M, MIN_SIZE_M};
use breadcrumb_tools::tiles::{Frame, Layer, TileRequest};

/// Pixel side of a panel's background image (panels are drawn about half as wide, so this stays
/// sharp on high-density screens).
pub const PANEL_PX: u32 = 640;

/// Share of the square's side left free around the outermost point.
const MARGIN: f64 = 0.05;

/// The square every panel of a sol shows: `overview` (the corridor overview, when the sol could
/// be loaded) grown to hold every finite point of `points` with a margin, centred on what it
/// must hold. `None` when there is nothing to show at all.
#[must_use]
pub fn panel_request(overview: Option<&TileRequest>, points: &[Pt]) -> Option<TileRequest> {
    let mut bounds: Option<(f64, f64, f64, f64)> = overview.map(|o| {
        let h = o.size_m / 2.0;
        (o.centre_x - h, o.centre_y - h, o.centre_x + h, o.centre_y + h)
    });
    let mut grew = false;
    for &(x, y) in points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        bounds = Some(match bounds {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => {
                grew |= x < x0 || y < y0 || x > x1 || y > y1;
                (x0.min(x), y0.min(y), x1.max(x), y1.max(y))
            }
        });
    }
    let (x0, y0, x1, y1) = bounds?;
    if let (Some(o), false) = (overview, grew) {
        return Some(o.with_px(PANEL_PX).with_layer(Layer::Ortho));
    }
    let extent = (x1 - x0).max(y1 - y0);
    let side = (extent / (1.0 - 2.0 * MARGIN)).clamp(MIN_SIZE_M.max(20.0), MAX_SIZE_M);
    Some(
        TileRequest::new(f64::midpoint(x0, x1), f64::midpoint(y0, y1), side, Layer::Ortho)
            .with_px(PANEL_PX),
    )
}

/// A map point in the panel's pixel coordinates (the SVG's user units: `viewBox="0 0 W H"`,
/// x to the right, y down, so map north is up).
#[must_use]
pub fn to_px(frame: &Frame, p: Pt) -> (f64, f64) {
    frame.to_px(p.0, p.1)
}

/// A length in map metres as panel pixels.
#[must_use]
pub fn len_px(frame: &Frame, metres: f64) -> f64 {
    metres / frame.m_per_px
}

/// The `points` attribute of an SVG polyline through `pts` (pixel coordinates to a tenth of a
/// pixel; non-finite points are left out rather than breaking the whole line).
#[must_use]
pub fn svg_points(frame: &Frame, pts: &[Pt]) -> String {
    let mut out = String::with_capacity(pts.len() * 14);
    for &p in pts.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        let (x, y) = to_px(frame, p);
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{x:.1},{y:.1}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_and_north_map_to_the_right_pixels() {
        let req = TileRequest::new(100.0, 1000.0, 64.0, Layer::Ortho).with_px(256);
        let f = req.frame().unwrap();
        // North-west corner is the top-left pixel, south-east the bottom-right.
        assert_eq!(to_px(&f, (68.0, 1032.0)), (0.0, 0.0));
        assert_eq!(to_px(&f, (132.0, 968.0)), (256.0, 256.0));
        // Going north moves up the picture (smaller y), east moves right.
        let (cx, cy) = to_px(&f, (100.0, 1000.0));
        let (nx, ny) = to_px(&f, (100.0, 1010.0));
        let (ex, _) = to_px(&f, (110.0, 1000.0));
        assert!(ny < cy && (nx - cx).abs() < 1e-12 && ex > cx);
        assert_eq!(len_px(&f, 32.0), 128.0);
        assert_eq!(
            svg_points(&f, &[(68.0, 1032.0), (f64::NAN, 0.0), (100.0, 1000.0)]),
            "0.0,0.0 128.0,128.0"
        );
        assert_eq!(svg_points(&f, &[]), "");
    }

    #[test]
    fn the_panel_keeps_the_overview_unless_something_lies_outside() {
        let ov = TileRequest::new(0.0, 0.0, 100.0, Layer::Ortho);
        let same = panel_request(Some(&ov), &[(10.0, -20.0), (49.0, 49.0)]).unwrap();
        assert_eq!(
            (same.centre_x, same.centre_y, same.size_m, same.px),
            (0.0, 0.0, 100.0, PANEL_PX)
        );

        // A waypoint far east: the square grows to hold it with a margin and stays square.
        let grown = panel_request(Some(&ov), &[(200.0, 0.0)]).unwrap();
        let f = grown.frame().unwrap();
        assert!(f.min_x_m < -50.0 && f.max_x_m > 200.0, "{f:?}");
        assert!(f.min_y_m <= -50.0 && f.max_y_m >= 50.0, "{f:?}");
        let (x, _) = to_px(&f, (200.0, 0.0));
        assert!(x > 0.0 && x < f64::from(PANEL_PX), "{x}");

        // Without a sol, the points alone decide; a single point still gets a usable square.
        let lone = panel_request(None, &[(5.0, 5.0)]).unwrap();
        assert_eq!((lone.centre_x, lone.centre_y), (5.0, 5.0));
        assert!(lone.size_m >= 20.0);
        assert!(panel_request(None, &[(f64::NAN, 1.0)]).is_none());
    }
}
