//! Map tiles of the sol's area for the page, rendered on demand by the tools' tile code
//! ([`breadcrumb_tools::tiles::render_base`]): one 256-pixel PNG per layer, zoom level and tile
//! index, each read through a window of just its own footprint, never the whole raster.
//!
//! The scheme is the one Leaflet's `L.CRS.Simple` tiles with, given a transformation from map
//! metres to pixels: zoom 0 shows the whole area in one tile ([`Scheme::m_per_px0`] metres a
//! pixel), every zoom level halves that, and tile `(i, j)` of zoom `z` (column from the west,
//! row from the north) covers map x from `x0 + 256·i·m` to `x0 + 256·(i+1)·m` and y from
//! `y0 − 256·(j+1)·m` to `y0 − 256·j·m`, with `m = m_per_px0 / 2^z` and `(x0, y0)` the area's
//! north-west corner. The page is sent the same numbers ([`Scheme`]), so its tiles and its
//! vector marks line up to the pixel.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use breadcrumb_tools::perception::classify::{classify, ClassMap};
use breadcrumb_tools::terrain::Bundle;
use breadcrumb_tools::tiles::layers::image_stretch;
use breadcrumb_tools::tiles::{encode_png, render_base, Frame, Layer};
use serde::Serialize;

use crate::error::{Result, ReviewError};

/// Side of a tile, pixels.
pub const TILE_PX: u32 = 256;

/// Tiles kept rendered: up to ~200 kB each (a 256-pixel tile of grainy orbital image barely
/// compresses), so about 50 MB at most; a tile rendered again costs a few milliseconds.
const CACHE_TILES: usize = 256;

/// How the sol's area is cut into tiles; sent to the page as is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scheme {
    /// West edge of the area, map metres.
    pub x0: f64,
    /// North edge of the area, map metres.
    pub y0: f64,
    /// East edge of the area, map metres.
    pub x1: f64,
    /// South edge of the area, map metres.
    pub y1: f64,
    /// Metres per pixel at zoom 0 (the whole area in one tile).
    pub m_per_px0: f64,
    /// The deepest zoom served: about four screen pixels per raster cell.
    pub max_zoom: u8,
    /// Tile side, pixels.
    pub tile_px: u32,
}

impl Scheme {
    /// The scheme of `area` (`xmin, ymin, xmax, ymax`) over rasters whose finest cell is
    /// `cell_m` metres.
    #[must_use]
    pub fn new(area: (f64, f64, f64, f64), cell_m: f64) -> Scheme {
        let (x0, y0, x1, y1) = area;
        let side = (x1 - x0).max(y1 - y0).max(1.0);
        let m_per_px0 = side / f64::from(TILE_PX);
        let finest = (cell_m.abs().max(0.01)) / 4.0;
        let max_zoom = (m_per_px0 / finest).log2().ceil().clamp(0.0, 20.0) as u8;
        Scheme { x0, y0: y1, x1, y1: y0, m_per_px0, max_zoom, tile_px: TILE_PX }
    }

    /// The footprint of tile `(z, i, j)`, or `None` when it is beyond the deepest zoom or
    /// wholly outside the area.
    #[must_use]
    pub fn frame(&self, z: u8, i: u32, j: u32) -> Option<Frame> {
        if z > self.max_zoom {
            return None;
        }
        let m = self.m_per_px0 / f64::from(1u32 << z);
        let side = m * f64::from(TILE_PX);
        let min_x = self.x0 + f64::from(i) * side;
        let max_y = self.y0 - f64::from(j) * side;
        if min_x >= self.x1 || max_y <= self.y1 {
            return None;
        }
        Some(Frame {
            min_x_m: min_x,
            min_y_m: max_y - side,
            max_x_m: min_x + side,
            max_y_m: max_y,
            m_per_px: m,
            width_px: TILE_PX,
            height_px: TILE_PX,
        })
    }
}

/// Rendered tiles by layer, zoom, column and row.
type Cache = lru::LruCache<(Layer, u8, u32, u32), Arc<Vec<u8>>>;

/// Renders and caches the tiles of one review.
pub struct Tiles {
    /// The scheme.
    pub scheme: Scheme,
    area: (f64, f64, f64, f64),
    classes: OnceLock<Option<ClassMap>>,
    stretch: OnceLock<Option<(f32, f32)>>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Tiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiles").field("scheme", &self.scheme).finish_non_exhaustive()
    }
}

impl Tiles {
    /// Tiles of `area` over `bundle`.
    #[must_use]
    pub fn new(bundle: &Bundle, area: (f64, f64, f64, f64)) -> Tiles {
        let cell = |t: breadcrumb_tools::terrain::GeoTransform| t.dx.abs().min(t.dy.abs());
        let mut cell_m = cell(bundle.dem.transform());
        if let Some(o) = &bundle.ortho {
            cell_m = cell_m.min(cell(o.transform()));
        }
        Tiles {
            scheme: Scheme::new(area, cell_m),
            area,
            classes: OnceLock::new(),
            stretch: OnceLock::new(),
            cache: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(CACHE_TILES).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The PNG of tile `(z, i, j)` of `layer`; `Ok(None)` for a tile outside the scheme.
    pub fn png(
        &self,
        bundle: &Bundle,
        layer: Layer,
        z: u8,
        i: u32,
        j: u32,
    ) -> Result<Option<Arc<Vec<u8>>>> {
        let key = (layer, z, i, j);
        if let Some(hit) = self.lock().get(&key) {
            return Ok(Some(Arc::clone(hit)));
        }
        let Some(frame) = self.scheme.frame(z, i, j) else {
            return Ok(None);
        };
        // The classes layer paints one class map of the whole area, made on first use, so
        // that neighbouring tiles agree at their edges.
        let classes = if layer == Layer::Classes {
            self.classes.get_or_init(|| classify(bundle, self.area).ok()).as_ref()
        } else {
            None
        };
        // One contrast for the whole map: the image's grey levels over the area (1024 px).
        let stretch = *self.stretch.get_or_init(|| {
            let f = self.scheme.frame(0, 0, 0)?;
            let fine = Frame { m_per_px: f.m_per_px / 4.0, width_px: 1024, height_px: 1024, ..f };
            image_stretch(bundle, &fine).ok()
        });
        let img = render_base(bundle, &frame, layer, classes, stretch)?;
        let png = Arc::new(encode_png(&img).map_err(ReviewError::Tools)?);
        self.lock().put(key, Arc::clone(&png));
        Ok(Some(png))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_area_and_halve_with_zoom() {
        let s = Scheme::new((100.0, 2000.0, 612.0, 2256.0), 1.0);
        assert_eq!(s.m_per_px0, 2.0);
        assert_eq!(s.max_zoom, 3);
        let f = s.frame(0, 0, 0).unwrap();
        assert_eq!((f.min_x_m, f.max_x_m, f.max_y_m, f.min_y_m), (100.0, 612.0, 2256.0, 1744.0));
        let f = s.frame(1, 1, 0).unwrap();
        assert_eq!((f.min_x_m, f.max_x_m, f.m_per_px), (356.0, 612.0, 1.0));
        // South of the area's 256 m of height there is nothing at zoom 1.
        assert!(s.frame(1, 0, 1).is_none());
        assert!(s.frame(1, 2, 0).is_none());
        assert!(s.frame(4, 0, 0).is_none());
    }
}
