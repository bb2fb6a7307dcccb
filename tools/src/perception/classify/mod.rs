//! The baseline terrain classifier: a class for every DEM cell, from the elevation model and the
//! orbital image, with no model and no network.
//!
//! [`classify`] maps a window of a [`Bundle`] into a [`ClassMap`] (one byte per DEM cell, codes
//! in [`Class`]); [`ClassMap::to_hazards`] turns it into one simplified polygon per connected
//! patch of each class, the [`Hazard`]s every other floor reads (the checker blocks on them by
//! its own rule, [`crate::checker::rules::hazards::blocks`]: sand_ripple, rock, boulder_field,
//! scarp, crater and unknown block; outcrop does not). `breadcrumb site classify` writes both
//! as `classes.tif` and `classes.geojson`.
//!
//! # Features and why
//!
//! From the DEM (per cell, the DEM's own resolution):
//! - **slope** (Horn, [`crate::analysis::slope`]): on a 1 m DEM Horn's 3 x 3 window is the
//!   rover's own footprint (3.0 x 2.7 m), so the cell's slope is the tilt the rover would have
//!   there. Past the profile's tilt limit the ground is a **scarp**.
//! - **bump height** (white top-hat: the cell minus the grey-scale opening of the DEM by a
//!   3 x 3 square): how far a cell stands above every 3 x 3 patch that contains it, i.e. a rock
//!   or knob at most two cells wide standing on the ground, whatever the regional slope (the
//!   opening of a plane is the plane). A bump taller than the step limit is a **rock**; the share
//!   of cells around with smaller bumps is the rock cover of a **boulder field**.
//! - **depression depth** (black top-hat: the grey-scale closing by a square minus the cell):
//!   how far a cell lies below the rim of the hollow it is in. A depression deeper than a
//!   threshold over a patch wider than the smallest crater mapped is a **crater**.
//!
//! From the image ([`image`]; at the image's resolution, gathered into DEM cells, then box means
//! over [`ClassifyParams::texture_radius_m`]):
//! - **albedo ratio** (brightness over the scene's median): sand is darker than dusty
//!   regolith, bedrock brighter. Dark gentle ground is sand; bright ground is **outcrop**.
//! - **oriented periodic texture** (structure-tensor coherence and oscillation): ripples are
//!   stripes whose gradients are parallel and alternate in sign. Rippled ground is sand too:
//!   together they are **sand_ripple**.
//!
//! Without an image the texture comes from a hillshade of the DEM (megaripples and larger
//! bedforms show) and albedo is unknown (no dark-sand or outcrop evidence).
//!
//! Where several apply, the first of crater, scarp, rock, boulder_field, sand_ripple, outcrop
//! wins (a crater's steep wall belongs to the crater; a rock on sand is a rock). Patches smaller
//! than a class's minimum area become ground.
//!
//! # How the thresholds were chosen (honestly)
//!
//! The rover limits (25° tilt, 0.35 m step) are the Perseverance-like profile's (ROVER.md 2).
//! Rock cover, sand slope and crater sizes come from ROVER.md's sources (3a, 3b, 6). The image
//! ratios come from the synthetic generator's albedo model (regolith 0.48, sand 0.35, bedrock
//! 0.66: thresholds halfway between in brightness), and the texture thresholds from measuring
//! ripple fields against plain ground on the synthetic presets (`fixtures/sites/*` and fresh
//! `site synth` sites). The Gale label (`fixtures/labels/gale-marias-pass.geojson`) was used
//! only to score the result, never to set a number; the figures are in docs/perception.md.
//!
//! # Cost
//!
//! The window is processed in strips of DEM rows with a halo wide enough for every feature, so
//! memory grows with the window's width, not its area: a 4096 x 4096 DEM with an 8192 x 8192
//! image takes a few seconds and a few hundred MB (`scripts/bench-classify`). Each strip's
//! features are computed in parallel (rayon) and do not depend on the thread count: the same
//! input gives the same bytes.

pub(crate) mod filters;
mod geotiff;
mod image;
mod polygons;

use std::path::Path;

use rayon::prelude::*;

pub use self::geotiff::write_geotiff;
pub use self::polygons::{hazards_geojson, PolygonOptions};
use crate::analysis::slope::slope_grid;
use crate::error::{Result, ToolsError};
use crate::terrain::{Bundle, Dem, GeoTransform, Grid, Hazard, HazardClass};

/// The class of one cell of a [`ClassMap`], with a stable byte code (the `classes.tif` pixel
/// value; never renumber: files and tests hold these codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Class {
    /// No elevation data (unknown terrain), or off the map: code 0 (the GeoTIFF's no-data).
    NoData = 0,
    /// Ordinary ground, no hazard class: code 1.
    Ground = 1,
    /// A single rock taller than the step limit: code 2.
    Rock = 2,
    /// A dense rock population: code 3.
    BoulderField = 3,
    /// Sand and sand ripples: code 4.
    SandRipple = 4,
    /// Bright bedrock (does not block): code 5.
    Outcrop = 5,
    /// Ground steeper than the tilt limit: code 6.
    Scarp = 6,
    /// A closed depression (crater): code 7.
    Crater = 7,
    /// Mapped but unclassified (the classifier itself never writes it): code 8.
    Unknown = 8,
}

impl Class {
    /// Every class, in code order.
    pub const ALL: [Class; 9] = [
        Class::NoData,
        Class::Ground,
        Class::Rock,
        Class::BoulderField,
        Class::SandRipple,
        Class::Outcrop,
        Class::Scarp,
        Class::Crater,
        Class::Unknown,
    ];

    /// The byte code.
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The class of a byte code (`None` for codes no class has).
    #[must_use]
    pub fn from_code(code: u8) -> Option<Class> {
        Class::ALL.get(usize::from(code)).copied()
    }

    /// The hazard class, `None` for no-data and ground.
    #[must_use]
    pub fn hazard(self) -> Option<HazardClass> {
        Some(match self {
            Class::NoData | Class::Ground => return None,
            Class::Rock => HazardClass::Rock,
            Class::BoulderField => HazardClass::BoulderField,
            Class::SandRipple => HazardClass::SandRipple,
            Class::Outcrop => HazardClass::Outcrop,
            Class::Scarp => HazardClass::Scarp,
            Class::Crater => HazardClass::Crater,
            Class::Unknown => HazardClass::Unknown,
        })
    }

    /// The class of a hazard class.
    #[must_use]
    pub fn of_hazard(class: HazardClass) -> Class {
        match class {
            HazardClass::Rock => Class::Rock,
            HazardClass::BoulderField => Class::BoulderField,
            HazardClass::SandRipple => Class::SandRipple,
            HazardClass::Outcrop => Class::Outcrop,
            HazardClass::Scarp => Class::Scarp,
            HazardClass::Crater => Class::Crater,
            HazardClass::Unknown => Class::Unknown,
        }
    }

    /// The name in files and summaries: the hazard class's name, `ground` or `nodata`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Class::NoData => "nodata",
            Class::Ground => "ground",
            other => other.hazard().map_or("unknown", HazardClass::as_str),
        }
    }

    /// Colour and opacity (RGBA) in `classes.tif`'s colour table and on the `classes` tile
    /// layer: each hazard class in its colour of the `hazards` layer
    /// ([`crate::tiles::layers::hazard_colour`]); ground mid-grey, no-data black. (A TIFF
    /// colour map has no alpha: in QGIS no-data is transparent through the band's no-data
    /// value, and ground can be hidden with the paletted renderer's opacity.)
    #[must_use]
    pub fn rgba(self) -> [u8; 4] {
        match self.hazard() {
            Some(h) => {
                let [r, g, b] = crate::tiles::layers::hazard_colour(h);
                [r, g, b, 255]
            }
            None if self == Class::Ground => [128, 128, 128, 255],
            None => [0, 0, 0, 0],
        }
    }
}

/// A class for every cell of a north-up grid on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMap {
    /// Where the cells lie (the DEM's grid, shifted to the window).
    pub transform: GeoTransform,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Row-major [`Class`] codes, `width * height` long.
    pub codes: Vec<u8>,
}

impl ClassMap {
    /// A map of `width x height` cells all of class `class`.
    #[must_use]
    pub fn filled(width: usize, height: usize, transform: GeoTransform, class: Class) -> Self {
        ClassMap { transform, width, height, codes: vec![class.code(); width * height] }
    }

    /// The class of cell `(col, row)`; [`Class::NoData`] off the map.
    #[must_use]
    pub fn get(&self, col: i64, row: i64) -> Class {
        if col < 0 || row < 0 || col as usize >= self.width || row as usize >= self.height {
            return Class::NoData;
        }
        Class::from_code(self.codes[row as usize * self.width + col as usize])
            .unwrap_or(Class::Unknown)
    }

    /// The class at map point `(x, y)`; [`Class::NoData`] off the map or for non-finite points.
    #[must_use]
    pub fn class_at(&self, x: f64, y: f64) -> Class {
        let (c, r) = self.transform.to_cell(x, y);
        if !c.is_finite() || !r.is_finite() {
            return Class::NoData;
        }
        self.get(c.floor() as i64, r.floor() as i64)
    }

    /// Map extent `(xmin, ymin, xmax, ymax)`.
    #[must_use]
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let t = self.transform;
        let (xa, xb) = (t.x0, t.x0 + self.width as f64 * t.dx);
        let (ya, yb) = (t.y0, t.y0 + self.height as f64 * t.dy);
        (xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb))
    }

    /// Area of one cell, square metres.
    #[must_use]
    pub fn cell_area_m2(&self) -> f64 {
        let (dx, dy) = self.transform.resolution();
        dx * dy
    }

    /// Area of every class present, square metres, in code order.
    #[must_use]
    pub fn areas_m2(&self) -> Vec<(Class, f64)> {
        let mut counts = [0u64; 256];
        for &c in &self.codes {
            counts[usize::from(c)] += 1;
        }
        Class::ALL
            .into_iter()
            .filter(|c| counts[usize::from(c.code())] > 0)
            .map(|c| (c, counts[usize::from(c.code())] as f64 * self.cell_area_m2()))
            .collect()
    }

    /// One simplified polygon per connected patch of each hazard class (default
    /// [`PolygonOptions`]), with properties `class`, `area_m2` and `source: "classifier"`.
    #[must_use]
    pub fn to_hazards(&self) -> Vec<Hazard> {
        self.to_hazards_with(&PolygonOptions::default())
    }

    /// [`ClassMap::to_hazards`] with chosen minimum areas and simplification.
    #[must_use]
    pub fn to_hazards_with(&self, options: &PolygonOptions) -> Vec<Hazard> {
        polygons::to_hazards(self, options)
    }

    /// Writes the map as a one-band byte GeoTIFF with a colour table and class names (see
    /// [`write_geotiff`]).
    pub fn write_geotiff(&self, path: &Path, crs_wkt: &str) -> Result<()> {
        write_geotiff(self, path, crs_wkt)
    }
}

/// The numbers the classifier decides by. [`ClassifyParams::default`] is the Perseverance-like
/// rover of ROVER.md and the thresholds argued in the module docs; each field says why.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyParams {
    /// Tilt limit, degrees: steeper cells are scarp. 25° is the profile's `max_tilt` (drivers
    /// avoid > 30°; 5° kept for DEM error, ROVER.md 2).
    pub max_tilt_deg: f64,
    /// Step limit, metres: a bump taller than this is a rock. 0.35 m is AutoNav's wheel-drop
    /// limit and the profile's `max_step` (ROVER.md 2).
    pub max_step_m: f64,
    /// Bump height counted towards rock cover, metres. 0.15 m: a rock of about 0.3 m across
    /// (h ≈ 0.5 D, ROVER.md 3a), the smallest the synthetic sites draw at 1 m posts.
    pub cover_bump_m: f64,
    /// Share of cells with a bump, within [`ClassifyParams::cover_radius_m`], from which the
    /// ground is a boulder field. 0.10 is where HiRISE counts put rock fields (k 0.10-0.30,
    /// against background 0-0.10, ROVER.md 3a [G4]).
    pub boulder_cover: f64,
    /// Radius of the rock-cover window, metres: 5 m, a few rover lengths (a field is what the
    /// rover cannot weave through).
    pub cover_radius_m: f64,
    /// Depression depth from which a hollow is a crater, metres. 0.5 m: a degraded crater of
    /// the smallest mapped size (d/D ≈ 0.05 at D = 10 m, ROVER.md 3b).
    pub crater_depth_m: f64,
    /// Half-side of the closing square that measures depressions, metres: craters up to about
    /// twice this wide are filled to their rim. Wider craters are mapped by their steep walls
    /// (scarp) only.
    pub crater_radius_m: f64,
    /// Brightness ratio to the scene's median below which ground is dark (sand). Synthetic
    /// albedo: sand 0.35 against regolith 0.48 (ratio 0.73); 0.86 is halfway.
    pub dark_ratio: f64,
    /// Brightness ratio above which ground is bright bedrock (outcrop). Synthetic albedo:
    /// bedrock 0.66 against regolith 0.48 (ratio 1.37); 1.18 is halfway.
    pub bright_ratio: f64,
    /// Steepest mean slope of dark ground taken as sand, degrees. Dark ground on steeper slopes
    /// is shadow (a crater's or scarp's face away from the sun), and cohesionless sand does not
    /// stay there: rovers start embedding on sand at 17° (ROVER.md 6 [H6]); 20° leaves margin.
    pub sand_max_slope_deg: f64,
    /// Radius of the image-texture and albedo window, metres: 4 m spans several wavelengths of
    /// large ripples (1-3 m) and one of megaripples (≥ 5 m; ROVER.md 3c).
    pub texture_radius_m: f64,
    /// Share of a dark patch's cells with rippled texture from which the whole patch is a
    /// ripple field. Dark ground alone is not the hazard: Curiosity drove over dark sand sheets
    /// and avoided *ripple* fields (ROVER.md 1 [N12]); dark rock and shadow are dark too. 0.25:
    /// a quarter of the patch shows ripples at the image's resolution.
    pub rippled_share: f64,
    /// Half the width of the narrowest ripple field, metres: sand in strips narrower than
    /// twice this (a sand-filled trough, a single ripple in a gap) is left as ground. Curiosity
    /// crossed such strips (the Dingo Gap megaripple, 2014) and avoided fields (ROVER.md 1
    /// [N12]); 5 m is about three rover lengths across, more than a rover spans in one crossing.
    pub sand_min_half_width_m: f64,
    /// Smallest coherence (0-1) of rippled texture.
    pub ripple_coherence: f64,
    /// Smallest oscillation (0-1) of rippled texture.
    pub ripple_oscillation: f64,
    /// Smallest texture energy of rippled texture, (brightness ratio per pixel)²: above the
    /// image's grain noise.
    pub ripple_energy: f64,
}

impl Default for ClassifyParams {
    fn default() -> Self {
        ClassifyParams {
            max_tilt_deg: 25.0,
            max_step_m: 0.35,
            cover_bump_m: 0.15,
            boulder_cover: 0.10,
            cover_radius_m: 5.0,
            crater_depth_m: 0.5,
            crater_radius_m: 25.0,
            dark_ratio: 0.86,
            bright_ratio: 1.18,
            sand_max_slope_deg: 20.0,
            texture_radius_m: 4.0,
            rippled_share: 0.25,
            sand_min_half_width_m: 5.0,
            ripple_coherence: 0.5,
            ripple_oscillation: 0.8,
            ripple_energy: 1.0e-3,
        }
    }
}

/// Smallest patch kept of each class, square metres (smaller ones become ground).
#[must_use]
pub fn min_area_m2(class: Class) -> f64 {
    match class {
        // A rock is small by nature: one cell over the step limit is a rock.
        Class::Rock | Class::NoData | Class::Ground | Class::Unknown => 0.0,
        // About one rover footprint (3.0 x 2.7 m): a smaller steep patch is a knob the tilt
        // and step rules judge better than a polygon.
        Class::Scarp => 8.0,
        // Three rover footprints: a field is what the rover cannot weave through.
        Class::BoulderField | Class::Outcrop => 25.0,
        // About four times the square a ripple field must fit (`sand_min_half_width_m`,
        // 11 x 11 m): what is left of a sand pocket after the opening is not yet a field. Set
        // from the real Gale drives (not the label): at 250 m² Curiosity's sols 986-987 crossed
        // a 370 m² rippled pocket between outcrops.
        Class::SandRipple => 500.0,
        // The smallest crater the synthetic ground truth maps (D = 10 m).
        Class::Crater => 78.0,
    }
}

/// DEM rows processed together.
const STRIP_ROWS: usize = 256;

/// Most cells one map may have (a 16384² window; a byte each).
const MAX_CELLS: f64 = 2.7e8;

/// Classifies the DEM cells covering `window` `(xmin, ymin, xmax, ymax)` (map metres, clipped
/// to the DEM) with [`ClassifyParams::default`].
///
/// A window wholly off the DEM, or not finite, is an [`ToolsError::Argument`]; a window
/// smaller than a cell gives the one cell under it. No-data cells are [`Class::NoData`].
pub fn classify(bundle: &Bundle, window: (f64, f64, f64, f64)) -> Result<ClassMap> {
    classify_with(bundle, window, &ClassifyParams::default())
}

/// [`classify`] with chosen thresholds.
pub fn classify_with(
    bundle: &Bundle,
    window: (f64, f64, f64, f64),
    params: &ClassifyParams,
) -> Result<ClassMap> {
    let dem = &bundle.dem;
    let (c0, r0, w, h) = cells_of(dem, window)?;
    let t = dem.transform();
    let reference = match &bundle.ortho {
        Some(o) => Some(scene_reference(o)?),
        None => None,
    };
    let res = t.resolution().0.min(t.resolution().1);
    let k = |m: f64| ((m / res).round() as usize).max(1);
    let halo =
        k(params.crater_radius_m).max(k(params.texture_radius_m) + 2).max(k(params.cover_radius_m))
            + 3;
    let strips: Vec<Strip> = (0..h)
        .step_by(STRIP_ROWS)
        .map(|s0| Strip { c0, r0: r0 + s0 as i64, w, h: STRIP_ROWS.min(h - s0), halo })
        .collect();
    // As many strips at once as there are threads (one strip's reads and sequential steps
    // overlap another's parallel ones), and no more, so memory stays a few strips' worth.
    let started = std::time::Instant::now();
    let mut codes = Vec::with_capacity(w * h);
    for group in strips.chunks(rayon::current_num_threads().max(1)) {
        let done: Vec<Result<Vec<u8>>> =
            group.par_iter().map(|s| classify_strip(bundle, s, reference, params)).collect();
        for strip in done {
            codes.extend(strip?);
        }
    }
    tracing::debug!(secs = started.elapsed().as_secs_f64(), strips = strips.len(), "features");
    let mut map = ClassMap { transform: t.shifted(c0, r0), width: w, height: h, codes };
    polygons::resolve_sand(&mut map, DARK, DARK_RIPPLED, params.rippled_share);
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "sand resolved");
    open_class(&mut map, Class::SandRipple, k(params.sand_min_half_width_m));
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "sand opened");
    polygons::drop_small_patches(&mut map);
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "small patches dropped");
    Ok(map)
}

/// Keeps of `class` only what a `(2k + 1)²` square fits inside (a binary opening): narrower
/// strips and spurs become ground.
fn open_class(map: &mut ClassMap, class: Class, k: usize) {
    let code = class.code();
    let w = map.width;
    // Only the rows and columns holding the class (plus the square's reach) are filtered.
    let (mut c_lo, mut c_hi, mut r_lo, mut r_hi) = (usize::MAX, 0, usize::MAX, 0);
    for (r, row) in map.codes.chunks(w.max(1)).enumerate() {
        if let (Some(a), Some(b)) =
            (row.iter().position(|&c| c == code), row.iter().rposition(|&c| c == code))
        {
            (c_lo, c_hi, r_lo, r_hi) = (c_lo.min(a), c_hi.max(b + 1), r_lo.min(r), r + 1);
        }
    }
    if c_lo >= c_hi {
        return;
    }
    let (c0, c1) = (c_lo.saturating_sub(k), (c_hi + k).min(w));
    let (r0, r1) = (r_lo.saturating_sub(k), (r_hi + k).min(map.height));
    let sw = c1 - c0;
    let mask: Vec<f32> = (r0..r1)
        .flat_map(|r| map.codes[r * w + c0..r * w + c1].iter())
        .map(|&c| if c == code { 1.0 } else { 0.0 })
        .collect();
    let opened =
        filters::square_extreme(&filters::square_extreme(&mask, sw, k, false), sw, k, true);
    for (i, o) in opened.into_iter().enumerate() {
        let cell = &mut map.codes[(r0 + i / sw) * w + c0 + i % sw];
        if *cell == code && o < 0.5 {
            *cell = Class::Ground.code();
        }
    }
}

/// The DEM cells `(col0, row0, width, height)` covering `window`, clipped to the DEM.
fn cells_of(dem: &Dem, window: (f64, f64, f64, f64)) -> Result<(i64, i64, usize, usize)> {
    let (xmin, ymin, xmax, ymax) = window;
    if ![xmin, ymin, xmax, ymax].iter().all(|v| v.is_finite()) || xmin > xmax || ymin > ymax {
        return Err(ToolsError::Argument(format!(
            "classify: bad window x {xmin} .. {xmax}, y {ymin} .. {ymax} (map metres)"
        )));
    }
    let t = dem.transform();
    let (dw, dh) = dem.size();
    let (ca, ra) = t.to_cell(xmin, ymax);
    let (cb, rb) = t.to_cell(xmax, ymin);
    let (mut c0, mut c1) = (ca.min(cb).floor(), ca.max(cb).ceil());
    let (mut r0, mut r1) = (ra.min(rb).floor(), ra.max(rb).ceil());
    // A window inside one cell (or a point) still gives that cell.
    if c1 <= c0 {
        c1 = c0 + 1.0;
    }
    if r1 <= r0 {
        r1 = r0 + 1.0;
    }
    c0 = c0.max(0.0);
    r0 = r0.max(0.0);
    c1 = c1.min(dw as f64);
    r1 = r1.min(dh as f64);
    if c1 <= c0 || r1 <= r0 {
        let (ex0, ey0, ex1, ey1) = dem.extent();
        return Err(ToolsError::Argument(format!(
            "classify: window x {xmin} .. {xmax}, y {ymin} .. {ymax} lies outside the DEM, which \
             spans x {ex0} .. {ex1}, y {ey0} .. {ey1} (map metres)"
        )));
    }
    let (w, h) = (c1 - c0, r1 - r0);
    if w * h > MAX_CELLS {
        return Err(ToolsError::Argument(format!(
            "classify: window of {w} x {h} cells is too large (at most {MAX_CELLS} cells)"
        )));
    }
    Ok((c0 as i64, r0 as i64, w as usize, h as usize))
}

/// The median brightness of the whole image (from a decimated read of at most 512 x 512
/// pixels, so it costs the same on any mosaic): the reference for albedo ratios. The whole
/// image, not the window, so a cell's class does not depend on the window asked for.
fn scene_reference(ortho: &Dem) -> Result<f32> {
    let path = ortho.path();
    let ds = gdal::Dataset::open(path).map_err(|e| ToolsError::raster(path, &e))?;
    let band = ds.rasterband(1).map_err(|e| ToolsError::raster(path, &e))?;
    let (w, h) = ortho.size();
    let (bw, bh) = (w.min(512), h.min(512));
    let buf = band
        .read_as::<f32>((0, 0), (w, h), (bw, bh), None)
        .map_err(|e| ToolsError::raster(path, &e))?;
    let nodata = ortho.nodata().map(|v| v as f32);
    let mut v: Vec<f32> =
        buf.data().iter().copied().filter(|v| v.is_finite() && Some(*v) != nodata).collect();
    if v.is_empty() {
        return Err(ToolsError::Invalid {
            path: path.to_path_buf(),
            reason: "the image has no valid pixel to take a reference brightness from".into(),
        });
    }
    let mid = v.len() / 2;
    let m = *v.select_nth_unstable_by(mid, f32::total_cmp).1;
    if m <= 0.0 {
        return Err(ToolsError::Invalid {
            path: path.to_path_buf(),
            reason: format!("median brightness {m} is not positive"),
        });
    }
    Ok(m)
}

/// One strip of the window: rows `r0 .. r0 + h` and columns `c0 .. c0 + w` of the DEM, read
/// with `halo` more cells on every side.
struct Strip {
    c0: i64,
    r0: i64,
    w: usize,
    h: usize,
    halo: usize,
}

/// Per-cell features of a strip (with halo), row-major.
struct Features {
    slope: Vec<f32>,
    bump: Vec<f32>,
    cover: Vec<f32>,
    depth: Vec<f32>,
    mean_slope: Vec<f32>,
    /// Brightness ratio (NaN without an image).
    albedo: Vec<f32>,
    coherence: Vec<f32>,
    oscillation: Vec<f32>,
    energy: Vec<f32>,
}

fn classify_strip(
    bundle: &Bundle,
    s: &Strip,
    reference: Option<f32>,
    p: &ClassifyParams,
) -> Result<Vec<u8>> {
    let hl = s.halo as i64;
    let (fw, fh) = (s.w + 2 * s.halo, s.h + 2 * s.halo);
    let z = bundle.dem.window(s.c0 - hl, s.r0 - hl, fw, fh)?;
    let f = features(bundle, &z, reference, p)?;
    let mut out = vec![Class::NoData.code(); s.w * s.h];
    out.par_chunks_mut(s.w).enumerate().for_each(|(r, row)| {
        for (c, o) in row.iter_mut().enumerate() {
            let i = (r + s.halo) * fw + c + s.halo;
            *o = decide(&z.data, &f, i, p).code();
        }
    });
    Ok(out)
}

fn features(
    bundle: &Bundle,
    z: &Grid,
    reference: Option<f32>,
    p: &ClassifyParams,
) -> Result<Features> {
    let (w, h) = (z.width, z.height);
    let t = z.transform;
    let res = t.resolution().0.min(t.resolution().1);
    let k = |m: f64| ((m / res).round() as usize).max(1);

    let slope = slope_grid(z).data;
    // White top-hat by a 3 x 3 square: rocks up to two cells wide.
    let opened =
        filters::square_extreme(&filters::square_extreme(&z.data, w, 1, false), w, 1, true);
    let bump: Vec<f32> = z
        .data
        .iter()
        .zip(&opened)
        .map(|(&v, &o)| {
            if v.is_nan() {
                f32::NAN
            } else if o.is_finite() {
                v - o
            } else {
                0.0
            }
        })
        .collect();
    let bumpy: Vec<f32> = bump
        .iter()
        .map(|&b| {
            if b.is_nan() {
                f32::NAN
            } else if f64::from(b) >= p.cover_bump_m {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let cover = filters::box_mean(&bumpy, w, k(p.cover_radius_m)).0;
    let depth = filters::enclosed_depth(&z.data, w, k(p.crater_radius_m));
    let kt = k(p.texture_radius_m);
    let mean_slope = filters::box_mean(&slope, w, kt).0;

    // The image over the strip (plus a pixel for the gradient), as brightness ratios; or a
    // hillshade of the DEM (ratio to flat ground's shade) without one.
    let (img, has_albedo) = if let (Some(o), Some(refv)) = (&bundle.ortho, reference) {
        let (xmin, ymin, xmax, ymax) = grid_extent(z);
        let mut g = o.window_around(xmin, ymin, xmax, ymax, 2)?;
        g.data.par_iter_mut().for_each(|v| *v /= refv);
        (g, true)
    } else {
        let mut g = crate::tiles::sample::hillshade(z);
        let flat = std::f32::consts::FRAC_1_SQRT_2;
        g.data.par_iter_mut().for_each(|v| *v /= flat);
        (g, false)
    };
    let cells = image::gather(&img, t, w, h);
    drop(img);
    let mean = |v: &[f32]| filters::box_mean(v, w, kt).0;
    let albedo = if has_albedo { mean(&cells.i) } else { vec![f32::NAN; w * h] };
    // The gradient channels are no-data at the same cells: one count for the five.
    let mut g =
        filters::box_means_shared(&[&cells.gx, &cells.gy, &cells.xx, &cells.xy, &cells.yy], w, kt)
            .into_iter();
    let mut next = || g.next().unwrap_or_else(|| vec![f32::NAN; w * h]);
    let (gx, gy, xx, xy, yy) = (next(), next(), next(), next(), next());
    let n = w * h;
    let mut coherence = vec![f32::NAN; n];
    let mut oscillation = vec![f32::NAN; n];
    let mut energy = vec![f32::NAN; n];
    coherence
        .par_iter_mut()
        .zip(oscillation.par_iter_mut())
        .zip(energy.par_iter_mut())
        .enumerate()
        .for_each(|(i, ((c, o), e))| {
            let en = xx[i] + yy[i];
            if !(en.is_finite() && en > 0.0) {
                return;
            }
            *e = en;
            *c = ((xx[i] - yy[i]).powi(2) + 4.0 * xy[i] * xy[i]).sqrt() / en;
            *o = 1.0 - (gx[i] * gx[i] + gy[i] * gy[i]) / en;
        });
    Ok(Features { slope, bump, cover, depth, mean_slope, albedo, coherence, oscillation, energy })
}

/// `(xmin, ymin, xmax, ymax)` of a grid.
fn grid_extent(g: &Grid) -> (f64, f64, f64, f64) {
    let t = g.transform;
    let (xa, xb) = (t.x0, t.x0 + g.width as f64 * t.dx);
    let (ya, yb) = (t.y0, t.y0 + g.height as f64 * t.dy);
    (xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb))
}

/// What one cell's own features say: a class, or sand evidence that the cell's dark patch as
/// a whole decides ([`resolve_sand`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// A class decided by the cell's features alone.
    Class(Class),
    /// Dark gentle ground (sand, or dark rock, or a sand sheet).
    Dark,
    /// Dark gentle ground with rippled texture.
    DarkRippled,
}

/// Codes of [`Cell::Dark`] and [`Cell::DarkRippled`] in a map before [`resolve_sand`].
const DARK: u8 = 100;
const DARK_RIPPLED: u8 = 101;

impl From<Class> for Cell {
    fn from(c: Class) -> Cell {
        Cell::Class(c)
    }
}

impl Cell {
    fn code(self) -> u8 {
        match self {
            Cell::Class(c) => c.code(),
            Cell::Dark => DARK,
            Cell::DarkRippled => DARK_RIPPLED,
        }
    }
}

/// The evidence of cell `i` from its features.
fn decide(z: &[f32], f: &Features, i: usize, p: &ClassifyParams) -> Cell {
    if z[i].is_nan() {
        return Class::NoData.into();
    }
    let ge = |v: f32, limit: f64| !v.is_nan() && f64::from(v) >= limit;
    let le = |v: f32, limit: f64| !v.is_nan() && f64::from(v) <= limit;
    if ge(f.depth[i], p.crater_depth_m) {
        return Class::Crater.into();
    }
    if ge(f.slope[i], p.max_tilt_deg) {
        return Class::Scarp.into();
    }
    if ge(f.bump[i], p.max_step_m) {
        return Class::Rock.into();
    }
    if ge(f.cover[i], p.boulder_cover) {
        return Class::BoulderField.into();
    }
    let gentle = le(f.mean_slope[i], p.sand_max_slope_deg);
    if gentle && le(f.albedo[i], p.dark_ratio) {
        let rippled = ge(f.energy[i], p.ripple_energy)
            && ge(f.coherence[i], p.ripple_coherence)
            && ge(f.oscillation[i], p.ripple_oscillation);
        return if rippled { Cell::DarkRippled } else { Cell::Dark };
    }
    if ge(f.albedo[i], p.bright_ratio) {
        return Class::Outcrop.into();
    }
    Class::Ground.into()
}
