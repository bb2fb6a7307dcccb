//! The footprint of a tile: which square of the map it shows and how map metres become pixels.
//!
//! Pixel `(i, j)` (column `i` from the left, row `j` from the top) covers map x in
//! `[min_x + i*m_per_px, min_x + (i+1)*m_per_px]` and map y in
//! `[max_y - (j+1)*m_per_px, max_y - j*m_per_px]`, so its centre is at `(i + 0.5, j + 0.5)` in
//! the continuous pixel coordinates [`Frame::to_px`] returns. Everything drawn on a tile goes
//! through this one mapping, which is what makes the grid labels true.

use serde::Serialize;

/// Where a tile lies on the map and its pixel size. North is up; x grows to the right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Frame {
    /// West edge, map metres.
    pub min_x_m: f64,
    /// South edge, map metres.
    pub min_y_m: f64,
    /// East edge, map metres.
    pub max_x_m: f64,
    /// North edge, map metres.
    pub max_y_m: f64,
    /// Ground size of one pixel, metres (the same along x and y).
    pub m_per_px: f64,
    /// Image width, pixels.
    pub width_px: u32,
    /// Image height, pixels.
    pub height_px: u32,
}

impl Frame {
    /// The square frame of side `size_m` centred on `(cx, cy)`, `px` pixels a side.
    #[must_use]
    pub fn square(cx: f64, cy: f64, size_m: f64, px: u32) -> Frame {
        let half = size_m / 2.0;
        Frame {
            min_x_m: cx - half,
            min_y_m: cy - half,
            max_x_m: cx + half,
            max_y_m: cy + half,
            m_per_px: size_m / f64::from(px.max(1)),
            width_px: px,
            height_px: px,
        }
    }

    /// Continuous pixel coordinates of a map point (pixel centres at `.5`).
    #[must_use]
    pub fn to_px(&self, x: f64, y: f64) -> (f64, f64) {
        ((x - self.min_x_m) / self.m_per_px, (self.max_y_m - y) / self.m_per_px)
    }

    /// Map coordinates of continuous pixel coordinates.
    #[must_use]
    pub fn to_map(&self, px: f64, py: f64) -> (f64, f64) {
        (self.min_x_m + px * self.m_per_px, self.max_y_m - py * self.m_per_px)
    }

    /// Width of the footprint, metres.
    #[must_use]
    pub fn width_m(&self) -> f64 {
        self.max_x_m - self.min_x_m
    }

    /// Height of the footprint, metres.
    #[must_use]
    pub fn height_m(&self) -> f64 {
        self.max_y_m - self.min_y_m
    }

    /// A short, deterministic name for the tile this frame describes: `t` and 8 hex digits of
    /// a 64-bit FNV-1a hash of the frame's exact numbers (edges, pixel size, pixel counts).
    /// The same footprint at the same pixel size always gets the same id, whichever call or
    /// run shows it, so a replayed or shared-toolbox run names its tiles identically.
    #[must_use]
    pub fn tile_id(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let words = [
            self.min_x_m.to_bits(),
            self.min_y_m.to_bits(),
            self.max_x_m.to_bits(),
            self.max_y_m.to_bits(),
            self.m_per_px.to_bits(),
            u64::from(self.width_px) << 32 | u64::from(self.height_px),
        ];
        for w in words {
            for b in w.to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("t{:08x}", (h >> 32) ^ (h & 0xffff_ffff))
    }

    /// Whether continuous pixel coordinates `(u, v)` lie on the image (edges included:
    /// `0 <= u <= width_px`, `0 <= v <= height_px`).
    #[must_use]
    pub fn contains_px(&self, u: f64, v: f64) -> bool {
        (0.0..=f64::from(self.width_px)).contains(&u)
            && (0.0..=f64::from(self.height_px)).contains(&v)
    }

    /// Whether the footprint and the rectangle `(xmin, ymin, xmax, ymax)` share any area.
    #[must_use]
    pub fn overlaps(&self, (xmin, ymin, xmax, ymax): (f64, f64, f64, f64)) -> bool {
        self.min_x_m < xmax && self.max_x_m > xmin && self.min_y_m < ymax && self.max_y_m > ymin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_and_centres_map_exactly() {
        let f = Frame::square(100.0, 200.0, 64.0, 128);
        assert_eq!((f.min_x_m, f.min_y_m, f.max_x_m, f.max_y_m), (68.0, 168.0, 132.0, 232.0));
        assert_eq!(f.m_per_px, 0.5);
        assert_eq!(f.to_px(68.0, 232.0), (0.0, 0.0));
        assert_eq!(f.to_px(132.0, 168.0), (128.0, 128.0));
        assert_eq!(f.to_px(100.0, 200.0), (64.0, 64.0));
        assert_eq!(f.to_map(0.5, 0.5), (68.25, 231.75));
    }

    #[test]
    fn tile_ids_are_short_and_follow_the_footprint() {
        let f = Frame::square(100.0, 200.0, 64.0, 128);
        let id = f.tile_id();
        assert_eq!(id.len(), 9);
        assert!(id.starts_with('t'));
        assert_eq!(id, Frame::square(100.0, 200.0, 64.0, 128).tile_id());
        assert_ne!(id, Frame::square(100.0, 200.0, 64.0, 256).tile_id());
        assert_ne!(id, Frame::square(100.5, 200.0, 64.0, 128).tile_id());
        assert!(
            f.contains_px(0.0, 128.0) && !f.contains_px(-0.01, 5.0) && !f.contains_px(5.0, 128.5)
        );
    }

    #[test]
    fn overlap_is_strict() {
        let f = Frame::square(0.0, 0.0, 10.0, 10);
        assert!(f.overlaps((4.0, 4.0, 20.0, 20.0)));
        assert!(!f.overlaps((5.0, -5.0, 20.0, 5.0)), "touching edges share no area");
    }
}
