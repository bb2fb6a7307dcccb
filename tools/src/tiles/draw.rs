//! Anti-aliased drawing primitives on an RGB image, written for map overlays: every shape
//! takes continuous pixel coordinates (from [`super::frame::Frame::to_px`]), is clipped to the
//! image before any work is done (a keep-in polygon kilometres off the tile costs nothing), and
//! never panics on degenerate input (repeated points, empty rings, NaN).
//!
//! Coverage is computed from the exact distance of each pixel centre to the shape, so lines
//! and rings look the same at any angle and the output is deterministic.

use image::{Rgb, RgbImage};

/// An RGB colour.
pub type Colour = [u8; 3];

/// A point in continuous pixel coordinates.
pub type P = (f64, f64);

/// An RGB image being drawn on.
pub struct Canvas {
    /// The pixels.
    pub img: RgbImage,
}

impl Canvas {
    /// Wraps an image.
    #[must_use]
    pub fn new(img: RgbImage) -> Self {
        Canvas { img }
    }

    /// Width and height in pixels as floats.
    fn size(&self) -> (f64, f64) {
        (f64::from(self.img.width()), f64::from(self.img.height()))
    }

    /// Blends `colour` over pixel `(x, y)` with opacity `alpha` in `[0, 1]`; off-image is
    /// ignored.
    pub fn blend(&mut self, x: i64, y: i64, colour: Colour, alpha: f64) {
        if x < 0 || y < 0 || x >= i64::from(self.img.width()) || y >= i64::from(self.img.height()) {
            return;
        }
        let a = alpha.clamp(0.0, 1.0);
        if a <= 0.0 {
            return;
        }
        let p = self.img.get_pixel_mut(x as u32, y as u32);
        for (dst, &src) in p.0.iter_mut().zip(&colour) {
            // Both terms are in [0, 255], so adding 0.5 and truncating rounds.
            *dst = (f64::from(*dst) * (1.0 - a) + f64::from(src) * a + 0.5) as u8;
        }
    }

    /// Fills the pixels whose centres lie in `[x0, x1) × [y0, y1)`.
    pub fn fill_rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, colour: Colour, alpha: f64) {
        let Some((c0, r0, c1, r1)) = self.clip_box(x0, y0, x1, y1, 0.0) else { return };
        for y in r0..r1 {
            for x in c0..c1 {
                let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
                if cx >= x0 && cx < x1 && cy >= y0 && cy < y1 {
                    self.blend(x, y, colour, alpha);
                }
            }
        }
    }

    /// The pixel index box covering `[x0, x1] × [y0, y1]` grown by `grow`, clipped to the
    /// image; `None` when nothing of it is on the image or a bound is not finite.
    fn clip_box(
        &self,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        grow: f64,
    ) -> Option<(i64, i64, i64, i64)> {
        if ![x0, y0, x1, y1, grow].iter().all(|v| v.is_finite()) {
            return None;
        }
        let (w, h) = self.size();
        let c0 = (x0.min(x1) - grow).floor().max(0.0);
        let r0 = (y0.min(y1) - grow).floor().max(0.0);
        let c1 = (x0.max(x1) + grow).ceil().min(w);
        let r1 = (y0.max(y1) + grow).ceil().min(h);
        (c0 < c1 && r0 < r1).then_some((c0 as i64, r0 as i64, c1 as i64, r1 as i64))
    }

    /// A straight segment `width` pixels wide with round caps.
    pub fn line(&mut self, a: P, b: P, width: f64, colour: Colour, alpha: f64) {
        let Some((a, b)) = clip_segment(a, b, self.size(), width + 2.0) else { return };
        let half = width / 2.0;
        let reach = half + 1.0;
        let Some((c0, r0, c1, r1)) = self.clip_box(a.0, a.1, b.0, b.1, reach) else {
            return;
        };
        let (vx, vy) = (b.0 - a.0, b.1 - a.1);
        let len2 = vx * vx + vy * vy;
        for y in r0..r1 {
            let py = y as f64 + 0.5;
            // Only the columns near the part of the segment within `reach` rows of this one:
            // a long diagonal line visits a band, not its whole bounding box.
            let (xa, xb) = if vy.abs() < 1e-12 {
                (a.0.min(b.0), a.0.max(b.0))
            } else {
                let ta = ((py - reach - a.1) / vy).clamp(0.0, 1.0);
                let tb = ((py + reach - a.1) / vy).clamp(0.0, 1.0);
                let (xa, xb) = (a.0 + ta * vx, a.0 + tb * vx);
                (xa.min(xb), xa.max(xb))
            };
            let xs = ((xa - reach).floor() as i64).max(c0);
            let xe = ((xb + reach).ceil() as i64).min(c1);
            for x in xs..xe {
                let px = x as f64 + 0.5;
                let t = if len2 > 0.0 {
                    (((px - a.0) * vx + (py - a.1) * vy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (dx, dy) = (px - (a.0 + t * vx), py - (a.1 + t * vy));
                let d2 = dx * dx + dy * dy;
                if d2 >= (half + 0.5) * (half + 0.5) {
                    continue;
                }
                let cover = (half + 0.5 - d2.sqrt()).clamp(0.0, 1.0);
                self.blend(x, y, colour, alpha * cover);
            }
        }
    }

    /// Connected segments.
    pub fn polyline(&mut self, pts: &[P], width: f64, colour: Colour, alpha: f64) {
        if pts.len() == 1 {
            self.line(pts[0], pts[0], width, colour, alpha);
        }
        for s in pts.windows(2) {
            self.line(s[0], s[1], width, colour, alpha);
        }
    }

    /// A closed ring's outline, dashed when `dash` is given as `(on, off)` pixel lengths.
    pub fn ring(
        &mut self,
        pts: &[P],
        width: f64,
        colour: Colour,
        alpha: f64,
        dash: Option<(f64, f64)>,
    ) {
        if pts.is_empty() {
            return;
        }
        let mut closed = pts.to_vec();
        closed.push(pts[0]);
        match dash {
            None => self.polyline(&closed, width, colour, alpha),
            Some((on, off)) => {
                self.dashed(&closed, width, colour, alpha, on.max(1.0), off.max(1.0));
            }
        }
    }

    fn dashed(&mut self, pts: &[P], width: f64, colour: Colour, alpha: f64, on: f64, off: f64) {
        let (w, h) = self.size();
        let mut phase = 0.0; // distance along the current on+off period
        for s in pts.windows(2) {
            let (a, b) = (s[0], s[1]);
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            if !len.is_finite() || len == 0.0 {
                continue;
            }
            // Segments far off the image are skipped whole (keeping the phase roughly right).
            if clip_segment(a, b, (w, h), width + 2.0).is_none() || len > 1.0e6 {
                phase = (phase + len) % (on + off);
                continue;
            }
            let mut t = 0.0;
            while t < len {
                let in_on = phase < on;
                let step = if in_on { on - phase } else { on + off - phase }.min(len - t);
                if in_on {
                    let p = |u: f64| (a.0 + (b.0 - a.0) * u / len, a.1 + (b.1 - a.1) * u / len);
                    self.line(p(t), p(t + step), width, colour, alpha);
                }
                t += step;
                phase = (phase + step) % (on + off);
            }
        }
    }

    /// A filled disc.
    pub fn disc(&mut self, c: P, r: f64, colour: Colour, alpha: f64) {
        let Some((c0, r0, c1, r1)) = self.clip_box(c.0, c.1, c.0, c.1, r + 1.0) else { return };
        for y in r0..r1 {
            for x in c0..c1 {
                let d = (x as f64 + 0.5 - c.0).hypot(y as f64 + 0.5 - c.1);
                let cover = (r + 0.5 - d).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.blend(x, y, colour, alpha * cover);
                }
            }
        }
    }

    /// A circle outline `width` pixels wide.
    pub fn circle(&mut self, c: P, r: f64, width: f64, colour: Colour, alpha: f64) {
        let half = width / 2.0;
        let Some((c0, r0, c1, r1)) = self.clip_box(c.0, c.1, c.0, c.1, r + half + 1.0) else {
            return;
        };
        // A circle much larger than the image: only its pixels near the rim are visited anyway,
        // but skip it when the image lies wholly inside or outside the ring band.
        for y in r0..r1 {
            for x in c0..c1 {
                let d = ((x as f64 + 0.5 - c.0).hypot(y as f64 + 0.5 - c.1) - r).abs();
                let cover = (half + 0.5 - d).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.blend(x, y, colour, alpha * cover);
                }
            }
        }
    }

    /// Fills the polygon made of `rings` (outer ring and holes, even-odd rule) at pixel
    /// centres.
    pub fn fill_polygon(&mut self, rings: &[Vec<P>], colour: Colour, alpha: f64) {
        let pts = rings.iter().flatten();
        let (mut x0, mut y0, mut x1, mut y1) =
            (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for p in pts {
            x0 = x0.min(p.0);
            y0 = y0.min(p.1);
            x1 = x1.max(p.0);
            y1 = y1.max(p.1);
        }
        let Some((c0, r0, c1, r1)) = self.clip_box(x0, y0, x1, y1, 0.0) else { return };
        let mut xs: Vec<f64> = Vec::new();
        for y in r0..r1 {
            let py = y as f64 + 0.5;
            xs.clear();
            for ring in rings {
                let n = ring.len();
                for i in 0..n {
                    let (a, b) = (ring[i], ring[(i + 1) % n]);
                    if (a.1 <= py) != (b.1 <= py) {
                        xs.push(a.0 + (py - a.1) / (b.1 - a.1) * (b.0 - a.0));
                    }
                }
            }
            xs.sort_by(f64::total_cmp);
            for span in xs.chunks_exact(2) {
                let start = (span[0] - 0.5).ceil().max(c0 as f64) as i64;
                let end = ((span[1] - 0.5).ceil().min(c1 as f64)) as i64;
                for x in start..end {
                    self.blend(x, y, colour, alpha);
                }
            }
        }
    }
}

/// Clips segment `a`–`b` to the image grown by `margin` pixels (Liang–Barsky); `None` when it
/// misses the image or is not finite.
fn clip_segment(a: P, b: P, (w, h): (f64, f64), margin: f64) -> Option<(P, P)> {
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return None;
    }
    let (xmin, ymin, xmax, ymax) = (-margin, -margin, w + margin, h + margin);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - xmin), (dx, xmax - a.0), (-dy, a.1 - ymin), (dy, ymax - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some(((a.0 + t0 * dx, a.1 + t0 * dy), (a.0 + t1 * dx, a.1 + t1 * dy)))
}

/// A blank canvas of one colour.
#[must_use]
pub fn blank(width: u32, height: u32, colour: Colour) -> Canvas {
    Canvas::new(RgbImage::from_pixel(width, height, Rgb(colour)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cover_their_pixels_and_clip() {
        let mut c = blank(20, 20, [0, 0, 0]);
        c.line((2.5, 10.5), (17.5, 10.5), 1.0, [255, 255, 255], 1.0);
        assert_eq!(c.img.get_pixel(10, 10).0, [255, 255, 255]);
        assert_eq!(c.img.get_pixel(10, 12).0, [0, 0, 0]);
        // Far off, huge and NaN segments neither panic nor draw.
        c.line((-1e12, -5.0), (1e12, -5.0), 2.0, [255, 0, 0], 1.0);
        c.line((f64::NAN, 0.0), (5.0, 5.0), 2.0, [255, 0, 0], 1.0);
        assert!(c.img.pixels().all(|p| p.0[1] == p.0[0]), "nothing red drawn");
    }

    #[test]
    fn polygons_fill_inside_only_and_tolerate_closed_rings() {
        let mut c = blank(20, 20, [0, 0, 0]);
        let square = vec![(5.0, 5.0), (15.0, 5.0), (15.0, 15.0), (5.0, 15.0), (5.0, 5.0)];
        c.fill_polygon(std::slice::from_ref(&square), [0, 255, 0], 1.0);
        assert_eq!(c.img.get_pixel(5, 5).0, [0, 255, 0]);
        assert_eq!(c.img.get_pixel(14, 14).0, [0, 255, 0]);
        assert_eq!(c.img.get_pixel(15, 10).0, [0, 0, 0]);
        assert_eq!(c.img.get_pixel(4, 10).0, [0, 0, 0]);
        let filled = c.img.pixels().filter(|p| p.0[1] == 255).count();
        assert_eq!(filled, 100);
        c.ring(&square, 1.0, [255, 0, 0], 1.0, Some((3.0, 2.0)));
        c.ring(&[], 1.0, [255, 0, 0], 1.0, None);
        c.fill_polygon(&[vec![]], [255, 0, 0], 1.0);
    }

    #[test]
    fn clipping_keeps_the_visible_part() {
        let (a, b) = clip_segment((-10.0, 5.0), (30.0, 5.0), (20.0, 20.0), 0.0).unwrap();
        assert_eq!((a, b), ((0.0, 5.0), (20.0, 5.0)));
        assert!(clip_segment((-10.0, -5.0), (30.0, -5.0), (20.0, 20.0), 0.0).is_none());
    }
}
