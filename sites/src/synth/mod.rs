//! Synthetic Mars sites built from published terrain models (see ROVER.md section 3).
//!
//! A site is generated on one fine height field at the ortho's pixel size (half the DEM cell),
//! then:
//! - the DEM is the 2x2 block average of that field (a DTM smooths like that: HiRISE DTM posts
//!   are about 4x the image pixel scale, ROVER.md 4 \[H2\]);
//! - the ortho renders the field under an afternoon sun, with albedo and cast shadows;
//! - `hazards.geojson` lists the features exactly where they were painted.
//!
//! Order of painting: regolith albedo, ripple fields and the sand fill of degraded craters (sand
//! mask), relief (plane + undulation + roughness, damped under sand), scarps, crater relief
//! (random population, then hand-placed), rocks (background, boulder fields, crater ejecta,
//! talus; none on sand). Every feature type draws from its own
//! random stream, so changing one leaves the others identical.
//!
//! ```no_run
//! use breadcrumb_sites::synth::{generate, write_site, SynthParams};
//! let params = SynthParams::preset("mixed", 42, 512, 1.0)?;
//! let site = generate(&params)?;
//! write_site(&site, &params, std::path::Path::new("fixtures/sites/synth-mixed"))?;
//! # Ok::<(), breadcrumb_tools::ToolsError>(())
//! ```

mod canvas;
mod craters;
pub mod geometry;
mod hazards;
pub mod manifest;
mod ortho;
pub mod params;
mod presets;
mod relief;
mod ripples;
mod rng;
mod rocks;
mod scarps;

use std::path::{Path, PathBuf};

use geojson::FeatureCollection;
use rand::Rng;
use serde::{Deserialize, Serialize};

pub use params::{
    BoulderFieldSpec, CraterPopulation, CraterSpec, HazardParams, ReliefParams, RenderParams,
    RippleFieldSpec, RockParams, ScarpSpec, Side, SynthParams,
};
pub use presets::{PRESETS, TRAVERSE_MIN_SIZE};

use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::terrain::grid::{GeoTransform, Grid};
use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff, CogWriter};
use canvas::Canvas;
use craters::Crater;
use gdal::spatial_ref::SpatialRef;
use geometry::{bounds, contains, polygon_area, Point};
use ortho::ShadowSweep;
use rng::Stream;
use rocks::{Rock, RockLaw, RockSource};

/// Name of the generator, written into `bundle.toml`.
pub const GENERATOR: &str = "breadcrumb-synth";
/// Version of the generator: the same parameters give byte-identical files within a version.
/// `synth-2`: `hazards.geojson` lists every hazard class painted (crater sand fills, talus
/// aprons, scarp faces and outcrops over their end tapers); the rasters are as in `synth-1`.
pub const GENERATOR_VERSION: &str = "synth-2";
/// No-data value of the DEM GeoTIFF.
pub const DEM_NODATA: f32 = -32767.0;
/// Mars 2000 sphere radius, m (IAU 2000).
pub const MARS_RADIUS_M: f64 = 3_396_190.0;

/// The ortho image: 8-bit grayscale, 0 = no-data, twice as fine as the DEM.
#[derive(Debug, Clone, PartialEq)]
pub struct Ortho {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Placement on the map (same CRS as the DEM).
    pub transform: GeoTransform,
    /// Row-major pixels, 1..=255.
    pub pixels: Vec<u8>,
}

/// Counts and ranges of a generated site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    /// Craters painted (random and placed, including those only partly on the site).
    pub craters: usize,
    /// Rocks painted.
    pub rocks: usize,
    /// Features in `hazards.geojson`.
    pub hazard_features: usize,
    /// Lowest DEM elevation, m.
    pub elevation_min_m: f64,
    /// Highest DEM elevation, m.
    pub elevation_max_m: f64,
}

/// A generated site, ready to write.
#[derive(Debug, Clone)]
pub struct SynthSite {
    /// Elevations, m (NaN = no-data, only inside `nodata_polygons`).
    pub dem: Grid,
    /// The orthoimage.
    pub ortho: Ortho,
    /// Ground-truth hazards in map metres.
    pub hazards: FeatureCollection,
    /// The CRS as WKT (Mars 2000 sphere, equidistant cylindrical).
    pub crs_wkt: String,
    /// The same CRS as a PROJ string.
    pub crs_proj4: String,
    /// Map coordinates of the site's south-west corner (site-local (0, 0)).
    pub origin: (f64, f64),
    /// Counts and ranges.
    pub summary: SiteSummary,
}

impl SynthSite {
    /// `hazards.geojson` exactly as [`write_site`] writes it (one feature per line).
    #[must_use]
    pub fn hazards_geojson(&self) -> String {
        hazards::to_json(&self.hazards)
    }

    /// Map coordinates of a site-local point (metres east and north of the south-west corner).
    #[must_use]
    pub fn to_map(&self, local: Point) -> (f64, f64) {
        (self.origin.0 + local[0], self.origin.1 + local[1])
    }
}

/// The site's CRS and south-west corner in map metres.
///
/// Mars 2000 sphere, equidistant cylindrical with true scale at the site's latitude and the
/// central meridian through the site, so map metres are true metres on the ground. The corner is
/// snapped to whole DEM cells.
#[must_use]
pub fn site_crs(p: &SynthParams) -> (String, (f64, f64)) {
    let proj4 = format!(
        "+proj=eqc +lat_ts={} +lat_0=0 +lon_0={} +x_0=0 +y_0=0 +R={} +units=m +no_defs",
        p.centre_lat_deg, p.centre_lon_deg, MARS_RADIUS_M
    );
    let half = p.extent_m() / 2.0;
    let yc = MARS_RADIUS_M * p.centre_lat_deg.to_radians();
    let snap = |v: f64| (v / p.res_m).round() * p.res_m;
    (proj4, (snap(-half), snap(yc - half)))
}

/// The site's CRS as WKT with its names: the same CRS as [`site_crs`]'s PROJ string, named as
/// the real HiRISE and CTX products of Mars name theirs (`Mars2000 Equidistant Cylindrical`, on
/// the `GCS_Mars_2000_Sphere` datum), so that `site info` and `gdalinfo` say what the ground is
/// instead of "unknown" (a PROJ string carries no names).
pub fn site_crs_wkt(p: &SynthParams) -> Result<String> {
    let (lat, lon) = (p.centre_lat_deg, p.centre_lon_deg);
    let wkt = format!(
        "PROJCS[\"Mars2000 Equidistant Cylindrical clon{lon} lat_ts{lat}\",\
         GEOGCS[\"GCS_Mars_2000_Sphere\",DATUM[\"Mars_2000_(Sphere)\",\
         SPHEROID[\"Mars_2000_Sphere_IAU_IAG\",{MARS_RADIUS_M},0]],\
         PRIMEM[\"Reference_Meridian\",0],UNIT[\"degree\",0.0174532925199433]],\
         PROJECTION[\"Equirectangular\"],PARAMETER[\"standard_parallel_1\",{lat}],\
         PARAMETER[\"central_meridian\",{lon}],PARAMETER[\"false_easting\",0],\
         PARAMETER[\"false_northing\",0],UNIT[\"metre\",1],\
         AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]]"
    );
    SpatialRef::from_wkt(&wkt)
        .and_then(|s| s.to_wkt())
        .map_err(|e| ToolsError::Argument(format!("site CRS at {lat} N, {lon} E: {e}")))
}

/// Which fine pixels are sand (weight at least 0.5), one bit each: all that rock placement needs
/// to know of the sand cover, for the whole site, while the fine field itself is only ever held
/// a band at a time (a 16384^2 field is 32 MB of bits against 1 GB of f32 weights).
#[derive(Debug, Clone)]
struct SandMask {
    n: usize,
    cell: f64,
    extent: f64,
    bits: Vec<u64>,
}

impl SandMask {
    fn new(n: usize, cell: f64) -> Self {
        SandMask { n, cell, extent: n as f64 * cell, bits: vec![0; (n * n).div_ceil(64)] }
    }

    /// Records the sand of a painted band.
    fn record(&mut self, c: &Canvas) {
        for (k, &w) in c.sand.iter().enumerate() {
            if w >= 0.5 {
                let i = c.row0 * c.n + k;
                self.bits[i / 64] |= 1 << (i % 64);
            }
        }
    }

    /// Whether the nearest pixel to a site-local point is sand (false off the site).
    fn sand_at(&self, p: Point) -> bool {
        let col = (p[0] / self.cell).floor();
        let row = ((self.extent - p[1]) / self.cell).floor();
        if col < 0.0 || row < 0.0 || col >= self.n as f64 || row >= self.n as f64 {
            return false;
        }
        let i = row as usize * self.n + col as usize;
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }
}

fn on_site(p: Point, extent: f64) -> bool {
    p[0] >= 0.0 && p[0] < extent && p[1] >= 0.0 && p[1] < extent
}

/// Uniform point in a polygon by rejection from its bounding box (`None` after 64 misses).
fn point_in(rng: &mut impl Rng, poly: &[Point]) -> Option<Point> {
    let (xmin, ymin, xmax, ymax) = bounds(poly);
    for _ in 0..64 {
        let p = [rng.gen_range(xmin..=xmax), rng.gen_range(ymin..=ymax)];
        if contains(poly, p) {
            return Some(p);
        }
    }
    None
}

/// Largest ejecta block of a crater of diameter `d` (m): ~0.29 D^0.66, a common empirical rule
/// for fresh simple craters (Moore 1971; not in ROVER.md, ?).
fn largest_block(d: f64) -> f64 {
    0.29 * d.powf(0.66)
}

/// Samples every rock population (see the module docs for the order).
fn sample_rocks(p: &SynthParams, sand: &SandMask, craters: &[(u64, Crater)]) -> Vec<Rock> {
    let extent = sand.extent;
    let r = &p.rocks;
    let ratio = (r.height_ratio_min, r.height_ratio_max);
    let field_bounds: Vec<_> = p.boulder_fields.iter().map(|b| bounds(&b.polygon)).collect();
    let in_field = |q: Point| {
        p.boulder_fields.iter().zip(&field_bounds).any(|(f, b)| {
            q[0] >= b.0 && q[0] <= b.2 && q[1] >= b.1 && q[1] <= b.3 && contains(&f.polygon, q)
        })
    };
    let free = |q: Point| on_site(q, extent) && !sand.sand_at(q);

    let mut all = Vec::new();
    let mut rng = rng::stream(p.seed, Stream::Rocks);
    let law = RockLaw { k: r.k_background, d_min: r.d_min_m, d_max: r.d_max_m, ratio };
    all.extend(rocks::sample(&mut rng, law, extent * extent, RockSource::Background, |g| {
        let q = [g.gen_range(0.0..extent), g.gen_range(0.0..extent)];
        (free(q) && !in_field(q)).then_some(q)
    }));

    for (i, b) in p.boulder_fields.iter().enumerate() {
        let mut rng = rng::substream(p.seed, Stream::BoulderFields, i as u64);
        let law =
            RockLaw { k: b.k, d_min: r.d_min_m, d_max: b.d_max_m.unwrap_or(r.d_max_m), ratio };
        let area = polygon_area(&b.polygon);
        // Thin the rocks near the outline so the field fades out instead of ending at a line.
        let feather = (0.3 * (area / std::f64::consts::PI).sqrt()).min(10.0);
        all.extend(rocks::sample(&mut rng, law, area, RockSource::BoulderField(i), |g| {
            let q = point_in(g, &b.polygon)?;
            let keep = canvas::smoothstep(0.0, feather, geometry::signed_depth(&b.polygon, q));
            (g.gen_range(0.0..1.0) < 0.15 + 0.85 * keep && free(q)).then_some(q)
        }));
    }

    let ejecta_k = p.crater_population.ejecta_rock_k;
    for (ci, (tag, c)) in craters.iter().enumerate() {
        let k = ejecta_k * canvas::smoothstep(0.6, 0.95, c.freshness);
        let d_max = largest_block(c.diameter).min(r.d_max_m);
        if !c.ejecta || k <= 0.0 || d_max <= r.d_min_m {
            continue;
        }
        let rad = c.radius();
        // Skip craters whose ejecta blanket (3 radii) misses the site.
        if c.x + 3.0 * rad < 0.0
            || c.y + 3.0 * rad < 0.0
            || c.x - 3.0 * rad > extent
            || c.y - 3.0 * rad > extent
        {
            continue;
        }
        let (r0, r1) = (0.85 * rad, 3.0 * rad);
        let area = std::f64::consts::PI * (r1 * r1 - r0 * r0);
        let mut rng = rng::substream(p.seed, Stream::Ejecta, *tag);
        let law = RockLaw { k, d_min: r.d_min_m, d_max, ratio };
        all.extend(rocks::sample(&mut rng, law, area, RockSource::Ejecta(ci), |g| {
            let dist = g.gen_range(r0 * r0..r1 * r1).sqrt();
            let theta = g.gen_range(0.0..std::f64::consts::TAU);
            // Block density thins outward as the ejecta thickness does (r^-3).
            let keep = (rad / dist).powi(3).min(1.0);
            let q = [c.x + dist * theta.cos(), c.y + dist * theta.sin()];
            (g.gen_range(0.0..1.0) < keep && free(q)).then_some(q)
        }));
    }

    for (i, s) in p.scarps.iter().enumerate() {
        if s.talus_k <= 0.0 {
            continue;
        }
        let poly = scarps::talus_polygon(s);
        let d_max = r.d_max_m.min((0.6 * s.height_m).max(1.5 * r.d_min_m));
        let mut rng = rng::substream(p.seed, Stream::Talus, i as u64);
        let law = RockLaw { k: s.talus_k, d_min: r.d_min_m, d_max, ratio };
        all.extend(rocks::sample(&mut rng, law, polygon_area(&poly), RockSource::Talus(i), |g| {
            point_in(g, &poly).filter(|&q| free(q))
        }));
    }
    all
}

/// How a site is generated and written; the defaults suit every size up to 8192 cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthOptions {
    /// DEM rows painted at once (rounded up to a multiple of 8: bands start on the painters'
    /// 16-row fine blocks). The files do not depend on it; memory grows with it (about
    /// 26 bytes per DEM cell of band width per row, 220 MB for 512 rows of an 8192-cell site).
    pub band_rows: usize,
    /// Rasters wider than this many pixels are written as Cloud Optimized GeoTIFFs with
    /// internal overviews; smaller ones as plain tiled GeoTIFFs, as before (so small sites,
    /// the committed fixtures among them, keep their bytes).
    pub overview_min_side: usize,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions { band_rows: 512, overview_min_side: 1024 }
    }
}

/// Where generated rows go: whole rows of the DEM (NaN = no-data) and of the ortho, bands in
/// any order.
trait RasterSink {
    fn dem_rows(&mut self, row0: usize, rows: Vec<f32>) -> Result<()>;
    fn ortho_rows(&mut self, row0: usize, rows: Vec<u8>) -> Result<()>;
}

/// Collects the rasters in memory, for [`generate`].
struct MemorySink {
    dem: Vec<f32>,
    dem_width: usize,
    ortho: Vec<u8>,
    ortho_width: usize,
}

impl RasterSink for MemorySink {
    fn dem_rows(&mut self, row0: usize, rows: Vec<f32>) -> Result<()> {
        let i = row0 * self.dem_width;
        self.dem[i..i + rows.len()].copy_from_slice(&rows);
        Ok(())
    }
    fn ortho_rows(&mut self, row0: usize, rows: Vec<u8>) -> Result<()> {
        let i = row0 * self.ortho_width;
        self.ortho[i..i + rows.len()].copy_from_slice(&rows);
        Ok(())
    }
}

/// Everything about a site that is decided once for the whole of it before painting: the
/// crater and rock lists (small next to the rasters) and the seeds.
struct Plan<'a> {
    p: &'a SynthParams,
    /// Fine pixels per side.
    n: usize,
    /// Fine pixel size, m.
    cell: f64,
    noise: u64,
    craters: Vec<(u64, Crater)>,
    rocks: Vec<Rock>,
}

impl Plan<'_> {
    /// Paints fine rows `row0 .. row0 + rows` (`row0` on a 16-row block boundary) in the order
    /// of the module docs; when not `full`, only what makes sand (the sand pass).
    fn paint(&self, row0: usize, rows: usize, full: bool) -> Canvas {
        let p = self.p;
        let noise = self.noise;
        let mut canvas = Canvas::band(self.n, self.cell, 0.5, row0, rows);
        let y_hi = canvas.y_of(0) + self.cell;
        let y_lo = canvas.y_of(rows - 1) - self.cell;
        if full {
            ortho::paint_base_albedo(&mut canvas, noise);
        }
        for (i, f) in p.ripple_fields.iter().enumerate() {
            ripples::paint(&mut canvas, f, rng::splitmix64(noise ^ (0x5a4d + i as u64)));
        }
        for (_, c) in &self.craters {
            craters::paint_fill(&mut canvas, c);
        }
        if !full {
            return canvas;
        }
        relief::paint(&mut canvas, p.seed, &p.relief);
        for (i, s) in p.scarps.iter().enumerate() {
            scarps::paint(&mut canvas, s, rng::splitmix64(noise ^ (0x5ca4 + i as u64)));
        }
        for (_, c) in &self.craters {
            craters::paint(&mut canvas, c);
        }
        let rock_seed = rng::splitmix64(p.seed ^ Stream::Rocks as u64);
        for r in &self.rocks {
            // A cheap test first: most rocks are nowhere near the band.
            let rad = r.diameter / 2.0;
            if r.y - rad <= y_hi && r.y + rad >= y_lo {
                rocks::paint(&mut canvas, r, rock_seed);
            }
        }
        canvas
    }
}

/// Fine rows of margin painted around a band: one row is needed (the ortho's shading takes the
/// slope across the band edge); a whole 16-row block keeps bands on block boundaries.
const MARGIN: usize = 16;

/// Generates a site from validated parameters.
pub fn generate(params: &SynthParams) -> Result<SynthSite> {
    generate_with(params, &SynthOptions::default())
}

/// [`generate`] with explicit options (the result does not depend on them).
pub fn generate_with(params: &SynthParams, opts: &SynthOptions) -> Result<SynthSite> {
    let size = params.size;
    let n = 2 * size;
    let mut sink = MemorySink {
        dem: vec![0.0; size * size],
        dem_width: size,
        ortho: vec![0; n * n],
        ortho_width: n,
    };
    let g = run(params, opts, &mut sink)?;
    let dem = Grid { width: size, height: size, data: sink.dem, transform: g.dem_transform };
    let ortho = Ortho { width: n, height: n, transform: g.ortho_transform, pixels: sink.ortho };
    Ok(SynthSite {
        dem,
        ortho,
        hazards: g.hazards,
        crs_wkt: g.crs_wkt,
        crs_proj4: g.crs_proj4,
        origin: g.origin,
        summary: g.summary,
    })
}

/// What [`run`] returns besides the rows it sent.
struct Generated {
    hazards: FeatureCollection,
    crs_wkt: String,
    crs_proj4: String,
    origin: (f64, f64),
    summary: SiteSummary,
    dem_transform: GeoTransform,
    ortho_transform: GeoTransform,
}

/// The transforms of a site's DEM and ortho.
fn transforms(p: &SynthParams, origin: (f64, f64)) -> (GeoTransform, GeoTransform) {
    let extent = 2.0 * p.size as f64 * (p.res_m / 2.0);
    let cell = p.res_m / 2.0;
    (
        GeoTransform { x0: origin.0, y0: origin.1 + extent, dx: p.res_m, dy: -p.res_m },
        GeoTransform { x0: origin.0, y0: origin.1 + extent, dx: cell, dy: -cell },
    )
}

/// Generates a site band by band into `sink`.
///
/// Three steps: (1) the crater list, then a first pass over bands painting only what makes sand
/// (ripple fields, crater fills) into a [`SandMask`]; (2) the rock lists, placed against that
/// mask; (3) a second pass painting each band in full (with a [`MARGIN`]) and turning it into
/// DEM rows (2x2 means) and ortho rows (shading with the cast shadows carried across bands by
/// [`ortho::ShadowSweep`], bands taken from the sun side). Every painter is a function of the
/// pixel's site position, so the rows do not depend on the band height.
fn run(params: &SynthParams, opts: &SynthOptions, sink: &mut dyn RasterSink) -> Result<Generated> {
    params.validate()?;
    let p = params;
    let (proj4, origin) = site_crs(p);
    let crs_wkt = site_crs_wkt(p)?;
    let n = 2 * p.size;
    let cell = p.res_m / 2.0;
    let extent = n as f64 * cell;
    let noise = rng::splitmix64(p.seed ^ Stream::Noise as u64);
    let (dem_transform, ortho_transform) = transforms(p, origin);

    // Random craters are tagged by index, placed ones from 2^32 up, so each crater's ejecta
    // stream stays the same when the other list changes.
    let mut craters: Vec<(u64, Crater)> =
        craters::sample_population(p.seed, &p.crater_population, extent)
            .into_iter()
            .enumerate()
            .map(|(i, c)| (i as u64, c))
            .collect();
    craters.extend(
        p.craters.iter().enumerate().map(|(i, s)| ((1u64 << 32) + i as u64, Crater::from_spec(s))),
    );
    let mut plan = Plan { p, n, cell, noise, craters, rocks: Vec::new() };

    let fine_band = 2 * opts.band_rows.max(1).next_multiple_of(8);
    let bands: Vec<(usize, usize)> =
        (0..n).step_by(fine_band).map(|f0| (f0, (f0 + fine_band).min(n))).collect();
    let mut sand = SandMask::new(n, cell);
    for &(f0, f1) in &bands {
        sand.record(&plan.paint(f0, f1 - f0, false));
    }
    plan.rocks = sample_rocks(p, &sand, &plan.craters);
    drop(sand);

    let r = &p.render;
    let mut sweep = ShadowSweep::new(n, cell, r.sun_azimuth_deg, r.sun_elevation_deg);
    let order: Vec<(usize, usize)> =
        if sweep.south_first() { bands.iter().rev().copied().collect() } else { bands.clone() };
    let grain = rng::splitmix64(p.seed ^ Stream::Grain as u64);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (f0, f1) in order {
        let c0 = f0.saturating_sub(MARGIN);
        let c1 = (f1 + MARGIN).min(n);
        let canvas = plan.paint(c0, c1 - c0, true);
        let z = &canvas.z[(f0 - c0) * n..(f1 - c0) * n];
        let lit = sweep.band(z, f0, f1);
        sink.ortho_rows(f0, ortho::render_rows(&canvas, &lit, f0, f1, r, grain))?;
        drop(lit);
        let dem = dem_rows(&canvas, p, f0 / 2, f1 / 2);
        for v in dem.iter().filter(|v| !v.is_nan()) {
            lo = lo.min(f64::from(*v));
            hi = hi.max(f64::from(*v));
        }
        sink.dem_rows(f0 / 2, dem)?;
    }

    let crater_list: Vec<Crater> = plan.craters.into_iter().map(|(_, c)| c).collect();
    let hazards = hazards::collect(&hazards::HazardInputs {
        params: p,
        craters: &crater_list,
        rocks: &plan.rocks,
        origin,
    });
    let summary = SiteSummary {
        craters: crater_list.len(),
        rocks: plan.rocks.len(),
        hazard_features: hazards.features.len(),
        elevation_min_m: (lo * 100.0).round() / 100.0,
        elevation_max_m: (hi * 100.0).round() / 100.0,
    };
    Ok(Generated {
        hazards,
        crs_wkt,
        crs_proj4: proj4,
        origin,
        summary,
        dem_transform,
        ortho_transform,
    })
}

/// DEM rows `d0 .. d1`: 2x2 block means of the fine field plus the base elevation; NaN inside
/// no-data polygons. `c` holds fine rows `2 d0 .. 2 d1`.
fn dem_rows(c: &Canvas, p: &SynthParams, d0: usize, d1: usize) -> Vec<f32> {
    let size = p.size;
    let mut data = Vec::with_capacity(size * (d1 - d0));
    for row in d0..d1 {
        let fr = 2 * row - c.row0;
        for col in 0..size {
            let fc = 2 * col;
            let sum = f64::from(c.z[c.idx(fc, fr)])
                + f64::from(c.z[c.idx(fc + 1, fr)])
                + f64::from(c.z[c.idx(fc, fr + 1)])
                + f64::from(c.z[c.idx(fc + 1, fr + 1)]);
            let local = [(col as f64 + 0.5) * p.res_m, c.extent - (row as f64 + 0.5) * p.res_m];
            let hole = p.nodata_polygons.iter().any(|poly| contains(poly, local));
            data.push(if hole { f32::NAN } else { (p.base_elevation_m + sum / 4.0) as f32 });
        }
    }
    data
}

/// Writes `dem.tif`, `ortho.tif`, `hazards.geojson` and `bundle.toml` into `out_dir` (created if
/// needed). Files are first written into a hidden staging directory inside `out_dir` and moved
/// into place only when all four exist, so a failure leaves no half-written product.
pub fn write_site(site: &SynthSite, params: &SynthParams, out_dir: &Path) -> Result<()> {
    staged(out_dir, |staging| {
        let at = |name: &str| -> PathBuf { staging.join(name) };
        write_f32_geotiff(&at(FILES[0]), &site.dem, &site.crs_wkt, DEM_NODATA)?;
        let o = &site.ortho;
        write_u8_geotiff(
            &at(FILES[1]),
            o.width,
            o.height,
            o.transform,
            &site.crs_wkt,
            o.pixels.clone(),
        )?;
        write_truth(&site.hazards, &site.summary, &site.crs_proj4, params, staging)
    })
}

/// Generates a site straight into `out_dir`, as [`write_site`] of [`generate`] would but without
/// holding its rasters in memory: bands go to the files as they are made. A raster wider than
/// `opts.overview_min_side` pixels is written as a Cloud Optimized GeoTIFF (tiled, DEFLATE,
/// internal AVERAGE overviews by halves down to 256 px) through GDAL's COG driver
/// ([`CogWriter`]); a smaller one is collected and written exactly as [`write_site`] writes it.
/// Atomic like [`write_site`].
pub fn synthesize(
    params: &SynthParams,
    out_dir: &Path,
    opts: &SynthOptions,
) -> Result<SiteSummary> {
    staged(out_dir, |staging| {
        let (size, n) = (params.size, 2 * params.size);
        let crs_wkt = site_crs_wkt(params)?;
        let (dem_t, ortho_t) = transforms(params, site_crs(params).1);
        let big = |side: usize| side > opts.overview_min_side;
        let mut sink = FileSink {
            dem: if big(size) {
                Out::Cog(CogWriter::create(
                    &staging.join(FILES[0]),
                    size,
                    size,
                    dem_t,
                    &crs_wkt,
                    Some(f64::from(DEM_NODATA)),
                )?)
            } else {
                Out::Memory(vec![0.0; size * size])
            },
            ortho: if big(n) {
                Out::Cog(CogWriter::create(
                    &staging.join(FILES[1]),
                    n,
                    n,
                    ortho_t,
                    &crs_wkt,
                    Some(0.0),
                )?)
            } else {
                Out::Memory(vec![0; n * n])
            },
            dem_width: size,
            ortho_width: n,
        };
        let g = run(params, opts, &mut sink)?;
        match sink.dem {
            Out::Cog(w) => w.finish()?,
            Out::Memory(data) => {
                let grid = Grid { width: size, height: size, data, transform: dem_t };
                write_f32_geotiff(&staging.join(FILES[0]), &grid, &crs_wkt, DEM_NODATA)?;
            }
        }
        match sink.ortho {
            Out::Cog(w) => w.finish()?,
            Out::Memory(px) => {
                write_u8_geotiff(&staging.join(FILES[1]), n, n, ortho_t, &crs_wkt, px)?;
            }
        }
        write_truth(&g.hazards, &g.summary, &g.crs_proj4, params, staging)?;
        Ok(g.summary)
    })
}

/// One raster on its way to a file: collected in memory, or streamed into a COG.
enum Out<T: gdal::raster::GdalType + Copy> {
    Memory(Vec<T>),
    Cog(CogWriter<T>),
}

impl<T: gdal::raster::GdalType + Copy> Out<T> {
    fn rows(&mut self, width: usize, row0: usize, rows: Vec<T>) -> Result<()> {
        match self {
            Out::Memory(v) => {
                v[row0 * width..row0 * width + rows.len()].copy_from_slice(&rows);
                Ok(())
            }
            Out::Cog(w) => w.write_rows(row0, rows),
        }
    }
}

struct FileSink {
    dem: Out<f32>,
    ortho: Out<u8>,
    dem_width: usize,
    ortho_width: usize,
}

impl RasterSink for FileSink {
    fn dem_rows(&mut self, row0: usize, mut rows: Vec<f32>) -> Result<()> {
        if matches!(self.dem, Out::Cog(_)) {
            for v in &mut rows {
                if v.is_nan() {
                    *v = DEM_NODATA;
                }
            }
        }
        self.dem.rows(self.dem_width, row0, rows)
    }
    fn ortho_rows(&mut self, row0: usize, rows: Vec<u8>) -> Result<()> {
        self.ortho.rows(self.ortho_width, row0, rows)
    }
}

/// Runs `write` into a fresh hidden staging directory inside `out_dir`, then moves the four
/// products into place; the staging directory is removed either way.
fn staged<R>(out_dir: &Path, write: impl FnOnce(&Path) -> Result<R>) -> Result<R> {
    std::fs::create_dir_all(out_dir).map_err(|e| ToolsError::io(out_dir, e))?;
    let staging = out_dir.join(format!(".synth-partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| ToolsError::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| ToolsError::io(&staging, e))?;
    let result = write(&staging).and_then(|r| {
        for f in FILES {
            let dest = out_dir.join(f);
            std::fs::rename(staging.join(f), &dest).map_err(|e| ToolsError::io(&dest, e))?;
        }
        Ok(r)
    });
    let cleanup = std::fs::remove_dir_all(&staging);
    let r = result?;
    cleanup.map_err(|e| ToolsError::io(&staging, e))?;
    Ok(r)
}

/// File names inside a bundle.
const FILES: [&str; 4] = ["dem.tif", "ortho.tif", "hazards.geojson", "bundle.toml"];

/// Writes `hazards.geojson` and `bundle.toml` into `dir`.
fn write_truth(
    hazards: &FeatureCollection,
    summary: &SiteSummary,
    crs_proj4: &str,
    params: &SynthParams,
    dir: &Path,
) -> Result<()> {
    let at = |name: &str| -> PathBuf { dir.join(name) };
    let geojson = hazards::to_json(hazards);
    std::fs::write(at(FILES[2]), geojson).map_err(|e| ToolsError::io(at(FILES[2]), e))?;
    let m = manifest::Manifest {
        name: params.bundle_name(),
        generator: GENERATOR.to_string(),
        generator_version: GENERATOR_VERSION.to_string(),
        seed: params.seed,
        preset: params.preset.clone(),
        provenance: manifest::PROVENANCE.to_string(),
        licence: manifest::LICENCE.to_string(),
        crs: format!(
            "Mars 2000 sphere (R = {MARS_RADIUS_M} m), equidistant cylindrical, true scale at \
             latitude {} (lat_ts), central meridian {} E; map metres are ground metres",
            params.centre_lat_deg, params.centre_lon_deg
        ),
        crs_proj4: crs_proj4.to_string(),
        dem: FILES[0].to_string(),
        ortho: FILES[1].to_string(),
        hazards: FILES[2].to_string(),
        summary: summary.clone(),
        params: params.clone(),
    };
    std::fs::write(at(FILES[3]), manifest::to_toml(&m)?)
        .map_err(|e| ToolsError::io(at(FILES[3]), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use breadcrumb_tools::analysis::slope::{slope_grid, summarize_slope};

    fn slope_stats(p: &SynthParams) -> (f64, f64) {
        let site = generate(p).unwrap();
        let s = summarize_slope(&slope_grid(&site.dem));
        (s.median_deg.unwrap(), s.p99_deg.unwrap())
    }

    #[test]
    fn same_params_give_byte_identical_files() {
        let p = SynthParams::preset("mixed", 5, 64, 1.0).unwrap();
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        write_site(&generate(&p).unwrap(), &p, a.path()).unwrap();
        write_site(&generate(&p).unwrap(), &p, b.path()).unwrap();
        for f in FILES {
            let x = std::fs::read(a.path().join(f)).unwrap();
            let y = std::fs::read(b.path().join(f)).unwrap();
            assert!(!x.is_empty());
            assert!(x == y, "{f} differs");
        }
        // Nothing but the four products is left behind.
        let left: Vec<_> = std::fs::read_dir(a.path()).unwrap().collect();
        assert_eq!(left.len(), 4);
    }

    /// The site does not depend on the band height: tiny bands (8 DEM rows, the painters'
    /// smallest) give bit-identical rasters and truth to one band over the whole site, for every
    /// preset and for suns from each side (the shadow sweep runs along rows or columns and
    /// carries its horizon across bands from the south or from the north).
    #[test]
    fn bands_give_the_same_site_as_one_canvas() {
        let whole = SynthOptions { band_rows: 1 << 20, ..SynthOptions::default() };
        let tiny = SynthOptions { band_rows: 8, ..SynthOptions::default() };
        let mut cases: Vec<SynthParams> =
            PRESETS.iter().map(|name| SynthParams::preset(name, 6, 72, 1.0).unwrap()).collect();
        for az in [0.0, 45.0, 90.0, 160.0, 200.0, 315.0] {
            let mut p = SynthParams::preset("mixed", 8, 64, 1.0).unwrap();
            p.render.sun_azimuth_deg = az;
            p.render.sun_elevation_deg = 20.0;
            cases.push(p);
        }
        // An odd size: the last band and the last 16-row block are short.
        cases.push(SynthParams::preset("crater-rim", 2, 37, 0.5).unwrap());
        for p in cases {
            let (a, b) = (generate_with(&p, &whole).unwrap(), generate_with(&p, &tiny).unwrap());
            let what = format!("{} at sun {}", p.preset, p.render.sun_azimuth_deg);
            let bits = |g: &Grid| g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert!(bits(&a.dem) == bits(&b.dem), "{what}: DEM differs");
            assert!(a.ortho.pixels == b.ortho.pixels, "{what}: ortho differs");
            assert_eq!(a.hazards_geojson(), b.hazards_geojson(), "{what}");
            assert_eq!(a.summary, b.summary, "{what}");
        }
    }

    /// Above the size threshold the rasters are COGs with internal overviews holding the same
    /// pixels; below it `synthesize` writes what `write_site` writes, byte for byte.
    #[test]
    fn large_rasters_get_overviews_and_the_same_pixels() {
        use gdal::Metadata;
        let p = SynthParams::preset("mixed", 3, 160, 1.0).unwrap();
        let opts = SynthOptions { band_rows: 24, overview_min_side: 200 };
        let dir = tempfile::tempdir().unwrap();
        let summary = synthesize(&p, dir.path(), &opts).unwrap();
        let site = generate(&p).unwrap();
        assert_eq!(summary, site.summary);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["bundle.toml", "dem.tif", "hazards.geojson", "ortho.tif"]);
        // The 160-cell DEM is under the threshold: plain, as write_site writes it.
        let plain = tempfile::tempdir().unwrap();
        write_site(&site, &p, plain.path()).unwrap();
        for f in ["dem.tif", "hazards.geojson", "bundle.toml"] {
            let same = std::fs::read(dir.path().join(f)).unwrap()
                == std::fs::read(plain.path().join(f)).unwrap();
            assert!(same, "{f} differs");
        }
        // The 320-pixel ortho is over it: a COG with overviews and the same pixels.
        let ds = gdal::Dataset::open(dir.path().join("ortho.tif")).unwrap();
        let band = ds.rasterband(1).unwrap();
        assert!(band.overview_count().unwrap() > 0);
        assert_eq!(band.block_size(), (256, 256));
        let px = band.read_as::<u8>((0, 0), (320, 320), (320, 320), None).unwrap();
        assert!(px.data() == site.ortho.pixels.as_slice());
        let md = ds.metadata_domain("IMAGE_STRUCTURE").unwrap_or_default().join(" ");
        assert!(md.contains("LAYOUT=COG") && md.contains("COMPRESSION=DEFLATE"), "{md}");
        // Both rasters over the threshold: the DEM too, no-data and all.
        // (COG overviews stop at one 256-pixel tile, so the DEM must be wider than that.)
        let mut q = SynthParams::preset("mixed", 3, 300, 1.0).unwrap();
        q.nodata_polygons.push(vec![[1.0, 1.0], [30.0, 1.0], [30.0, 30.0]]);
        let opts = SynthOptions { band_rows: 40, overview_min_side: 256 };
        let dir = tempfile::tempdir().unwrap();
        synthesize(&q, dir.path(), &opts).unwrap();
        let dem = breadcrumb_tools::terrain::Dem::open(dir.path().join("dem.tif")).unwrap();
        let want = generate(&q).unwrap().dem;
        let got = dem.read_all().unwrap();
        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert!(bits(&got.data) == bits(&want.data));
        let ds = gdal::Dataset::open(dir.path().join("dem.tif")).unwrap();
        assert!(ds.rasterband(1).unwrap().overview_count().unwrap() > 0);
        assert!(breadcrumb_tools::terrain::Bundle::open(dir.path()).is_ok());
    }

    #[test]
    fn bundle_toml_regenerates_the_site() {
        let mut p = SynthParams::preset("crater-rim", 9, 48, 1.0).unwrap();
        p.nodata_polygons.push(vec![[1.0, 1.0], [6.0, 1.0], [6.0, 6.0]]);
        let dir = tempfile::tempdir().unwrap();
        let site = generate(&p).unwrap();
        write_site(&site, &p, dir.path()).unwrap();
        let back = SynthParams::load(&dir.path().join("bundle.toml")).unwrap();
        assert_eq!(back, p);
        let text = std::fs::read_to_string(dir.path().join("bundle.toml")).unwrap();
        let m = manifest::from_toml(&text).unwrap();
        assert_eq!(m.generator, GENERATOR);
        assert_eq!(m.generator_version, GENERATOR_VERSION);
        assert_eq!(m.summary, site.summary);
        // The bundle opens with the terrain reader, hazards included.
        let bundle = breadcrumb_tools::terrain::Bundle::open(dir.path()).unwrap();
        assert_eq!(bundle.hazards.len(), site.hazards.features.len());
    }

    #[test]
    fn the_named_crs_is_the_proj_string_s_crs() {
        let p = SynthParams::preset("plains", 3, 32, 1.0).unwrap();
        let site = generate(&p).unwrap();
        assert!(
            site.crs_wkt
                .starts_with("PROJCS[\"Mars2000 Equidistant Cylindrical clon77.4 lat_ts18.4\""),
            "{}",
            site.crs_wkt
        );
        assert!(site.crs_wkt.contains("GCS_Mars_2000_Sphere"), "{}", site.crs_wkt);
        let named = SpatialRef::from_wkt(&site.crs_wkt).unwrap();
        let plain = SpatialRef::from_proj4(&site.crs_proj4).unwrap();
        assert!(breadcrumb_tools::terrain::bundle::same_crs(&named, &plain));
        assert_eq!(named.to_proj4().unwrap().trim(), plain.to_proj4().unwrap().trim());
    }

    #[test]
    fn dem_is_the_block_mean_and_the_ortho_twice_as_fine() {
        let p = SynthParams::preset("plains", 2, 32, 1.0).unwrap();
        let site = generate(&p).unwrap();
        assert_eq!((site.dem.width, site.dem.height), (32, 32));
        assert_eq!((site.ortho.width, site.ortho.height), (64, 64));
        assert_eq!(site.dem.transform.x0, site.ortho.transform.x0);
        assert_eq!(site.dem.transform.y0, site.ortho.transform.y0);
        assert_eq!(site.ortho.transform.dx * 2.0, site.dem.transform.dx);
        assert_eq!(site.dem.valid_count(), 32 * 32);
        assert!(site.ortho.pixels.iter().all(|&v| v >= 1));
        // Centre near the site's latitude: y = R * lat.
        let yc = site.dem.transform.y0 - 16.0;
        assert!((yc - MARS_RADIUS_M * 18.4f64.to_radians()).abs() < 1.0);
        // The DEM sits around the base elevation.
        let mean = site.dem.data.iter().map(|&v| f64::from(v)).sum::<f64>() / 1024.0;
        assert!((mean - p.base_elevation_m).abs() < 20.0, "{mean}");
    }

    #[test]
    fn nodata_polygons_make_holes_and_nothing_else_does() {
        let mut p = SynthParams::preset("plains", 2, 32, 1.0).unwrap();
        p.nodata_polygons.push(vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]);
        let site = generate(&p).unwrap();
        assert_eq!(site.dem.width * site.dem.height - site.dem.valid_count(), 100);
        // South-west corner: the last row, first column.
        assert!(site.dem.get(0, 31).is_none());
        assert!(site.dem.get(10, 31).is_some());
    }

    #[test]
    fn changing_rocks_leaves_craters_alone() {
        let p = SynthParams::preset("crater-field", 4, 96, 1.0).unwrap();
        let mut q = p.clone();
        q.rocks.k_background = 0.02;
        let craters = |s: &SynthSite| -> Vec<String> {
            s.hazards
                .features
                .iter()
                .filter(|f| f.property("class").and_then(|c| c.as_str()) == Some("crater"))
                .map(|f| serde_json::to_string(f).unwrap())
                .collect()
        };
        let (a, b) = (generate(&p).unwrap(), generate(&q).unwrap());
        assert!(!craters(&a).is_empty());
        assert_eq!(craters(&a), craters(&b));
        assert!(a.summary.rocks > b.summary.rocks);
    }

    #[test]
    fn a_placed_fresh_crater_is_walled_off() {
        let mut p = SynthParams::preset("plains", 3, 96, 1.0).unwrap();
        p.crater_population.density_per_km2 = 0.0;
        p.craters.push(CraterSpec {
            x_m: 48.0,
            y_m: 48.0,
            diameter_m: 30.0,
            freshness: 1.0,
            depth_ratio: None,
            rim_ratio: None,
            ejecta: true,
        });
        let site = generate(&p).unwrap();
        let slope = slope_grid(&site.dem);
        // Every ring of cells on the upper inner wall (r = 12..14 m) is steeper than 25 deg.
        let mut steep = 0;
        let mut total = 0;
        for row in 0..96 {
            for col in 0..96 {
                let (x, y) = (col as f64 + 0.5, 96.0 - (row as f64 + 0.5));
                let r = ((x - 48.0).powi(2) + (y - 48.0).powi(2)).sqrt();
                if (12.0..14.0).contains(&r) {
                    total += 1;
                    if slope.get(col, row).unwrap() > 25.0 {
                        steep += 1;
                    }
                }
            }
        }
        assert!(steep * 10 >= total * 9, "{steep}/{total} wall cells steeper than 25 deg");
        assert!(site
            .hazards
            .features
            .iter()
            .any(|f| { f.property("source").and_then(|c| c.as_str()) == Some("placed") }));
    }

    #[test]
    fn odd_sizes_and_resolutions_never_panic() {
        for name in PRESETS {
            for (size, res) in [(16, 0.25), (17, 5.0), (24, 20.0), (16, 100.0), (40, 0.1)] {
                // Either a site or a clear error, never a panic.
                if let Ok(p) = SynthParams::preset(name, 11, size, res) {
                    let site = generate(&p).unwrap();
                    assert_eq!(site.dem.width, size);
                }
            }
        }
    }

    #[test]
    fn plains_match_mars_slope_statistics() {
        for seed in [1, 2] {
            let p = SynthParams::preset("plains", seed, 256, 1.0).unwrap();
            let (median, p99) = slope_stats(&p);
            assert!((3.0..=7.0).contains(&median), "seed {seed}: median {median}");
            assert!((15.0..=30.0).contains(&p99), "seed {seed}: p99 {p99}");
        }
    }
}
