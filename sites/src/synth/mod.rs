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
pub use presets::PRESETS;

use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::terrain::grid::{GeoTransform, Grid};
use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff};
use canvas::Canvas;
use craters::Crater;
use gdal::spatial_ref::SpatialRef;
use geometry::{bounds, contains, polygon_area, Point};
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

/// Nearest-pixel sand weight at a site-local point (0 off the canvas).
fn sand_at(c: &Canvas, p: Point) -> f32 {
    let col = (p[0] / c.cell).floor();
    let row = ((c.extent - p[1]) / c.cell).floor();
    if col < 0.0 || row < 0.0 || col >= c.n as f64 || row >= c.n as f64 {
        return 0.0;
    }
    c.sand[c.idx(col as usize, row as usize)]
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
fn sample_rocks(p: &SynthParams, canvas: &Canvas, craters: &[(u64, Crater)]) -> Vec<Rock> {
    let extent = canvas.extent;
    let r = &p.rocks;
    let ratio = (r.height_ratio_min, r.height_ratio_max);
    let field_bounds: Vec<_> = p.boulder_fields.iter().map(|b| bounds(&b.polygon)).collect();
    let in_field = |q: Point| {
        p.boulder_fields.iter().zip(&field_bounds).any(|(f, b)| {
            q[0] >= b.0 && q[0] <= b.2 && q[1] >= b.1 && q[1] <= b.3 && contains(&f.polygon, q)
        })
    };
    let free = |q: Point| on_site(q, extent) && sand_at(canvas, q) < 0.5;

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

/// Generates a site from validated parameters.
pub fn generate(params: &SynthParams) -> Result<SynthSite> {
    params.validate()?;
    let p = params;
    let (proj4, origin) = site_crs(p);
    let crs_wkt = site_crs_wkt(p)?;
    let n = 2 * p.size;
    let cell = p.res_m / 2.0;
    let noise = rng::splitmix64(p.seed ^ Stream::Noise as u64);

    let mut canvas = Canvas::new(n, cell, 0.5);
    ortho::paint_base_albedo(&mut canvas, noise);
    for (i, f) in p.ripple_fields.iter().enumerate() {
        ripples::paint(&mut canvas, f, rng::splitmix64(noise ^ (0x5a4d + i as u64)));
    }
    // Random craters are tagged by index, placed ones from 2^32 up, so each crater's ejecta
    // stream stays the same when the other list changes.
    let mut craters: Vec<(u64, Crater)> =
        craters::sample_population(p.seed, &p.crater_population, canvas.extent)
            .into_iter()
            .enumerate()
            .map(|(i, c)| (i as u64, c))
            .collect();
    craters.extend(
        p.craters.iter().enumerate().map(|(i, s)| ((1u64 << 32) + i as u64, Crater::from_spec(s))),
    );
    for (_, c) in &craters {
        craters::paint_fill(&mut canvas, c);
    }
    relief::paint(&mut canvas, p.seed, &p.relief);
    for (i, s) in p.scarps.iter().enumerate() {
        scarps::paint(&mut canvas, s, rng::splitmix64(noise ^ (0x5ca4 + i as u64)));
    }
    for (_, c) in &craters {
        craters::paint(&mut canvas, c);
    }
    let rocks = sample_rocks(p, &canvas, &craters);
    let rock_seed = rng::splitmix64(p.seed ^ Stream::Rocks as u64);
    for r in &rocks {
        rocks::paint(&mut canvas, r, rock_seed);
    }

    let dem = dem_from_canvas(&canvas, p, origin);
    let pixels = ortho::render(&canvas, &p.render, rng::splitmix64(p.seed ^ Stream::Grain as u64));
    let ortho = Ortho {
        width: n,
        height: n,
        transform: GeoTransform { x0: origin.0, y0: origin.1 + canvas.extent, dx: cell, dy: -cell },
        pixels,
    };
    let crater_list: Vec<Crater> = craters.into_iter().map(|(_, c)| c).collect();
    let hazards = hazards::collect(&hazards::HazardInputs {
        params: p,
        craters: &crater_list,
        rocks: &rocks,
        origin,
    });
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in dem.data.iter().filter(|v| !v.is_nan()) {
        lo = lo.min(f64::from(*v));
        hi = hi.max(f64::from(*v));
    }
    let summary = SiteSummary {
        craters: crater_list.len(),
        rocks: rocks.len(),
        hazard_features: hazards.features.len(),
        elevation_min_m: (lo * 100.0).round() / 100.0,
        elevation_max_m: (hi * 100.0).round() / 100.0,
    };
    Ok(SynthSite { dem, ortho, hazards, crs_wkt, crs_proj4: proj4, origin, summary })
}

/// The DEM: 2x2 block means of the fine field plus the base elevation; NaN inside no-data
/// polygons.
fn dem_from_canvas(c: &Canvas, p: &SynthParams, origin: (f64, f64)) -> Grid {
    let size = p.size;
    let transform =
        GeoTransform { x0: origin.0, y0: origin.1 + c.extent, dx: p.res_m, dy: -p.res_m };
    let mut data = Vec::with_capacity(size * size);
    for row in 0..size {
        for col in 0..size {
            let (fc, fr) = (2 * col, 2 * row);
            let sum = f64::from(c.z[c.idx(fc, fr)])
                + f64::from(c.z[c.idx(fc + 1, fr)])
                + f64::from(c.z[c.idx(fc, fr + 1)])
                + f64::from(c.z[c.idx(fc + 1, fr + 1)]);
            let local = [(col as f64 + 0.5) * p.res_m, c.extent - (row as f64 + 0.5) * p.res_m];
            let hole = p.nodata_polygons.iter().any(|poly| contains(poly, local));
            data.push(if hole { f32::NAN } else { (p.base_elevation_m + sum / 4.0) as f32 });
        }
    }
    Grid { width: size, height: size, data, transform }
}

/// Writes `dem.tif`, `ortho.tif`, `hazards.geojson` and `bundle.toml` into `out_dir` (created if
/// needed). Files are first written into a hidden staging directory inside `out_dir` and moved
/// into place only when all four exist, so a failure leaves no half-written product.
pub fn write_site(site: &SynthSite, params: &SynthParams, out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir).map_err(|e| ToolsError::io(out_dir, e))?;
    let staging = out_dir.join(format!(".synth-partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| ToolsError::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| ToolsError::io(&staging, e))?;
    let result = write_all(site, params, out_dir, &staging);
    let cleanup = std::fs::remove_dir_all(&staging);
    result?;
    cleanup.map_err(|e| ToolsError::io(&staging, e))
}

/// File names inside a bundle.
const FILES: [&str; 4] = ["dem.tif", "ortho.tif", "hazards.geojson", "bundle.toml"];

fn write_all(site: &SynthSite, params: &SynthParams, out_dir: &Path, staging: &Path) -> Result<()> {
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
    let geojson = site.hazards_geojson();
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
        crs_proj4: site.crs_proj4.clone(),
        dem: FILES[0].to_string(),
        ortho: FILES[1].to_string(),
        hazards: FILES[2].to_string(),
        summary: site.summary.clone(),
        params: params.clone(),
    };
    std::fs::write(at(FILES[3]), manifest::to_toml(&m)?)
        .map_err(|e| ToolsError::io(at(FILES[3]), e))?;
    for f in FILES {
        let dest = out_dir.join(f);
        std::fs::rename(at(f), &dest).map_err(|e| ToolsError::io(&dest, e))?;
    }
    Ok(())
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
