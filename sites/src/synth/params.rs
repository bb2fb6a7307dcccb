//! Everything needed to regenerate a synthetic site, serialised whole into `bundle.toml`.
//!
//! All lengths are metres; positions of hand-placed features are **site-local**: x east and y
//! north from the site's south-west corner, so a fixture can say "a crater at (300, 120)" without
//! knowing the map projection. Azimuths are degrees clockwise from north.

use serde::{Deserialize, Serialize};

use super::geometry::{polygon_area, Point};
use breadcrumb_tools::error::{Result, ToolsError};

/// Full parameter set of a synthetic site. Same parameters give byte-identical products.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthParams {
    /// Seed of every random stream (at most `i64::MAX`, the largest integer TOML can store).
    pub seed: u64,
    /// DEM cells per side; the site is `size * res_m` metres square (16..=8192).
    pub size: usize,
    /// DEM cell size in metres; the ortho is twice as fine (HiRISE DTM posts are about 4x the
    /// image pixel scale, ROVER.md \[H2\]).
    pub res_m: f64,
    /// Name of the preset these parameters came from (informational once built).
    pub preset: String,
    /// Bundle name written into `bundle.toml` (default `synth-<preset>-<seed>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Longitude of the site centre, degrees east (Mars 2000, planetocentric).
    pub centre_lon_deg: f64,
    /// Latitude of the site centre, degrees north; also the projection's true-scale latitude.
    pub centre_lat_deg: f64,
    /// Elevation of the site centre before features, metres (Mars datum; Jezero's floor is
    /// about -2500 m).
    pub base_elevation_m: f64,
    /// Regional slope and smooth undulation.
    pub relief: ReliefParams,
    /// The random crater population.
    pub crater_population: CraterPopulation,
    /// Background rocks.
    pub rocks: RockParams,
    /// How the ortho image is lit and rendered.
    pub render: RenderParams,
    /// Which features go into `hazards.geojson`.
    pub hazards: HazardParams,
    /// Hand-placed craters (added after the random population).
    #[serde(default)]
    pub craters: Vec<CraterSpec>,
    /// Patches of dense rocks.
    #[serde(default)]
    pub boulder_fields: Vec<BoulderFieldSpec>,
    /// Sand ripple fields (megaripples, TARs).
    #[serde(default)]
    pub ripple_fields: Vec<RippleFieldSpec>,
    /// Outcrop scarps: elevation steps along a polyline with bedrock on the upper side.
    #[serde(default)]
    pub scarps: Vec<ScarpSpec>,
    /// Polygons where the DEM has no data (simulated DTM gaps); empty = no holes.
    #[serde(default)]
    pub nodata_polygons: Vec<Vec<Point>>,
}

/// Regional slope plus smooth relief at all scales (ROVER.md 3d).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliefParams {
    /// Slope of the regional plane, degrees (0..=45).
    pub slope_deg: f64,
    /// Downhill direction of the regional plane, degrees clockwise from north.
    pub slope_azimuth_deg: f64,
    /// RMS slope of the long-wavelength undulation (sum of sinusoids), degrees.
    pub undulation_slope_deg: f64,
    /// Shortest undulation wavelength, m.
    pub undulation_wavelength_min_m: f64,
    /// Longest undulation wavelength, m.
    pub undulation_wavelength_max_m: f64,
    /// Number of undulation sinusoids (0 = none).
    pub undulation_waves: usize,
    /// RMS height of the metre-scale roughness (fBm), m.
    pub roughness_m: f64,
    /// Longest roughness wavelength, m (octaves halve down to the ortho's Nyquist limit).
    pub roughness_wavelength_m: f64,
    /// Hurst exponent of the roughness (0.5..1; Mars surfaces are typically 0.7-0.9).
    pub roughness_hurst: f64,
    /// Standard deviation of the log-amplitude of the roughness across the site: rough and
    /// smooth patches give the heavy slope tail real DEMs show (p99 well above 2.6x median).
    pub roughness_patchiness: f64,
    /// Size of those rough/smooth patches, m.
    pub patch_wavelength_m: f64,
}

/// Random craters: cumulative N(>D) = C * D^-b between `d_min_m` and `d_max_m` (ROVER.md 3b).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CraterPopulation {
    /// Craters with D >= `d_min_m` per km² (that is, C * d_min^-b).
    pub density_per_km2: f64,
    /// Cumulative exponent b: 2 for old, eroded surfaces (Hartmann isochrons \[K1\]) to about 3
    /// for young ones.
    pub exponent_b: f64,
    /// Smallest crater diameter, m.
    pub d_min_m: f64,
    /// Largest crater diameter, m.
    pub d_max_m: f64,
    /// Fraction of craters that are fresh (freshness 0.7..1; the rest are degraded, 0..0.7).
    pub fresh_fraction: f64,
    /// Rock abundance k of the ejecta blanket just outside a fully fresh rim (decays as r^-3).
    pub ejecta_rock_k: f64,
}

/// Background rocks: Golombek model F(D) = k exp(-q D), q = 1.79 + 0.152 / k (ROVER.md 3a).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RockParams {
    /// Total rock cover k of the background (HiRISE counts: 0-0.10 \[G4\]).
    pub k_background: f64,
    /// Smallest rock diameter generated, m (smaller rocks are invisible at 0.5 m/px).
    pub d_min_m: f64,
    /// Largest rock diameter, m.
    pub d_max_m: f64,
    /// Lowest height/diameter ratio (ROVER.md 3a: draw h/D in 0.25-0.5).
    pub height_ratio_min: f64,
    /// Highest height/diameter ratio.
    pub height_ratio_max: f64,
}

/// Lighting and image rendering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderParams {
    /// Sun azimuth, degrees clockwise from north (afternoon sun from the west: ~250).
    pub sun_azimuth_deg: f64,
    /// Sun elevation above the horizon, degrees.
    pub sun_elevation_deg: f64,
    /// Diffuse sky light as a fraction of direct sun on flat ground (shadows are not black).
    pub ambient: f64,
    /// Standard deviation of image grain, DN.
    pub grain_dn: f64,
}

/// Selection of ground-truth hazards written to `hazards.geojson`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HazardParams {
    /// Rocks at least this tall are listed individually (outside boulder fields), m. Default
    /// 0.35 m: the step a Perseverance-like rover cannot drive over (ROVER.md 2 max_step \[N7\]).
    pub rock_min_height_m: f64,
    /// Craters at least this wide are listed (their rim circle), m.
    pub crater_min_diameter_m: f64,
    /// Only craters at least this fresh are listed (degraded ones have gentle walls).
    pub crater_min_freshness: f64,
    /// Craters wider than this are landscape, not hazards (their slopes are in the DEM), m.
    pub crater_max_diameter_m: f64,
    /// Vertices of the polygon approximating a rock or crater circle.
    pub circle_vertices: usize,
}

/// A hand-placed crater.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CraterSpec {
    /// Centre, site-local x (east) in metres from the south-west corner; may lie off the site.
    pub x_m: f64,
    /// Centre, site-local y (north) in metres.
    pub y_m: f64,
    /// Rim-to-rim diameter, m.
    pub diameter_m: f64,
    /// 1 = fresh simple crater (d = 0.196 D, sharp rim, ejecta blocks); 0 = degraded (d = 0.05 D,
    /// rounded rim, sand-filled floor).
    pub freshness: f64,
    /// Overrides depth/diameter (otherwise from freshness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_ratio: Option<f64>,
    /// Overrides rim-height/diameter (otherwise from freshness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rim_ratio: Option<f64>,
    /// Whether a fresh crater scatters ejecta blocks around its rim.
    #[serde(default = "yes")]
    pub ejecta: bool,
}

fn yes() -> bool {
    true
}

/// A patch of dense rocks ("boulder field").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoulderFieldSpec {
    /// Outline, site-local metres.
    pub polygon: Vec<Point>,
    /// Rock cover k inside (rock fields 0.10-0.30, dense fields 0.30-0.90 \[G4\]).
    pub k: f64,
    /// Largest block, m (defaults to the background rocks' maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_max_m: Option<f64>,
}

/// A field of sand ripples: z += (H/2) sin(2 pi u / lambda), u along the wind (ROVER.md 3c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RippleFieldSpec {
    /// Outline, site-local metres (see `geometry::ellipse_polygon`, `band_polygon`).
    pub polygon: Vec<Point>,
    /// Crest spacing lambda, m (megaripples 5-10, TARs ~25).
    pub wavelength_m: f64,
    /// Crest-to-trough height H, m (megaripples 0.3-0.5, TARs ~1.3).
    pub height_m: f64,
    /// Wind direction, degrees clockwise from north; crests run across it.
    pub wind_azimuth_deg: f64,
    /// Distance over which the ripples fade in from the outline, m.
    pub feather_m: f64,
}

/// Which side of a scarp polyline (looking along it from its first point) is the upper side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Upper side on the left of the direction of travel.
    Left,
    /// Upper side on the right.
    Right,
}

/// An outcrop scarp: a smooth tanh step of `height_m` across the polyline, bedrock on top.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScarpSpec {
    /// The scarp's foot line, site-local metres (at least two points).
    pub points: Vec<Point>,
    /// Step height, m (1-4 m is typical).
    pub height_m: f64,
    /// Horizontal width of the face (2w in H/2 (1 + tanh(s/w))), m; the face's steepest slope is
    /// atan(H / face_width).
    pub face_width_m: f64,
    /// Which side is raised.
    pub upper_side: Side,
    /// Width of the bright, rough bedrock band on the upper side, m.
    pub outcrop_width_m: f64,
    /// Distance beyond each end over which the step dies out, m.
    pub taper_m: f64,
    /// Rock cover k of the talus apron at the foot (0 = none).
    pub talus_k: f64,
}

impl Default for ReliefParams {
    fn default() -> Self {
        ReliefParams {
            slope_deg: 2.0,
            slope_azimuth_deg: 90.0,
            undulation_slope_deg: 2.0,
            undulation_wavelength_min_m: 60.0,
            undulation_wavelength_max_m: 400.0,
            undulation_waves: 6,
            roughness_m: 0.22,
            roughness_wavelength_m: 8.0,
            roughness_hurst: 0.8,
            roughness_patchiness: 0.55,
            patch_wavelength_m: 120.0,
        }
    }
}

impl Default for CraterPopulation {
    fn default() -> Self {
        CraterPopulation {
            density_per_km2: 150.0,
            exponent_b: 2.3,
            d_min_m: 4.0,
            d_max_m: 60.0,
            fresh_fraction: 0.25,
            ejecta_rock_k: 0.3,
        }
    }
}

impl Default for RockParams {
    fn default() -> Self {
        RockParams {
            k_background: 0.05,
            d_min_m: 0.3,
            d_max_m: 3.0,
            height_ratio_min: 0.25,
            height_ratio_max: 0.5,
        }
    }
}

impl Default for RenderParams {
    fn default() -> Self {
        RenderParams {
            sun_azimuth_deg: 250.0,
            sun_elevation_deg: 35.0,
            ambient: 0.3,
            grain_dn: 2.0,
        }
    }
}

impl Default for HazardParams {
    fn default() -> Self {
        HazardParams {
            rock_min_height_m: 0.35,
            crater_min_diameter_m: 10.0,
            crater_min_freshness: 0.5,
            crater_max_diameter_m: 300.0,
            circle_vertices: 12,
        }
    }
}

/// Largest number of random craters or rocks a site may ask for (guards against a typo making a
/// run take hours).
const MAX_ITEMS: f64 = 20.0e6;

fn arg(msg: String) -> ToolsError {
    ToolsError::Argument(msg)
}

fn finite(name: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(arg(format!("{name} must be a finite number, got {v}")))
    }
}

fn in_range(name: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    finite(name, v)?;
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(arg(format!("{name} must be in {lo}..={hi}, got {v}")))
    }
}

fn positive(name: &str, v: f64) -> Result<()> {
    finite(name, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(arg(format!("{name} must be > 0, got {v}")))
    }
}

fn polygon_ok(name: &str, poly: &[Point]) -> Result<()> {
    if poly.len() < 3 {
        return Err(arg(format!("{name} needs at least 3 vertices, got {}", poly.len())));
    }
    if poly.len() > 10_000 {
        return Err(arg(format!("{name} has {} vertices (at most 10000)", poly.len())));
    }
    if poly.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
        return Err(arg(format!("{name} has a non-finite vertex")));
    }
    if polygon_area(poly) <= 0.0 {
        return Err(arg(format!("{name} has zero area")));
    }
    Ok(())
}

/// Expected rock count for cover `k` over `area` m² between `d_min` and `d_max` (used to refuse
/// absurd requests before generating).
fn expected_rocks(k: f64, d_min: f64, d_max: f64, area: f64) -> f64 {
    if k <= 0.0 {
        return 0.0;
    }
    let q = 1.79 + 0.152 / k;
    // Upper bound: all area between d_min and d_max in rocks of d_min.
    area * k * ((-q * d_min).exp() - (-q * d_max).exp())
        / (std::f64::consts::PI * d_min * d_min / 4.0)
}

impl SynthParams {
    /// Reads parameters from a TOML file: either a bare parameter set or a synthetic bundle's
    /// `bundle.toml`, whose `[params]` table is used. The result is validated.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolsError::Missing { path: path.to_path_buf() },
            _ => ToolsError::io(path, e),
        })?;
        Self::from_toml_str(&text)
            .map_err(|reason| ToolsError::Invalid { path: path.to_path_buf(), reason })
    }

    /// Parses parameters from TOML text (a bare parameter set or a table with `[params]`) and
    /// validates them; the error is a human-readable reason.
    pub fn from_toml_str(text: &str) -> std::result::Result<Self, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let value = match table.get("params") {
            Some(toml::Value::Table(t)) => toml::Value::Table(t.clone()),
            _ => toml::Value::Table(table),
        };
        let p: SynthParams = value.try_into().map_err(|e: toml::de::Error| {
            format!("bad synthetic site parameters: {}", e.message().trim())
        })?;
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }

    /// Site side length, metres.
    #[must_use]
    pub fn extent_m(&self) -> f64 {
        self.size as f64 * self.res_m
    }

    /// The bundle name: `name` if set, else `synth-<preset>-<seed>`.
    #[must_use]
    pub fn bundle_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("synth-{}-{}", self.preset, self.seed))
    }

    /// Checks every parameter, with a message naming the offending field.
    pub fn validate(&self) -> Result<()> {
        if self.seed > i64::MAX as u64 {
            return Err(arg(format!(
                "seed must be at most {} (TOML integers are signed 64-bit), got {}",
                i64::MAX,
                self.seed
            )));
        }
        if !(16..=8192).contains(&self.size) {
            return Err(arg(format!("size must be in 16..=8192 DEM cells, got {}", self.size)));
        }
        in_range("res_m", self.res_m, 0.01, 100.0)?;
        in_range("centre_lon_deg", self.centre_lon_deg, -360.0, 360.0)?;
        in_range("centre_lat_deg", self.centre_lat_deg, -85.0, 85.0)?;
        in_range("base_elevation_m", self.base_elevation_m, -12_000.0, 25_000.0)?;
        let fine = self.res_m / 2.0;
        let area = self.extent_m() * self.extent_m();

        let r = &self.relief;
        in_range("relief.slope_deg", r.slope_deg, 0.0, 45.0)?;
        finite("relief.slope_azimuth_deg", r.slope_azimuth_deg)?;
        in_range("relief.undulation_slope_deg", r.undulation_slope_deg, 0.0, 30.0)?;
        positive("relief.undulation_wavelength_min_m", r.undulation_wavelength_min_m)?;
        finite("relief.undulation_wavelength_max_m", r.undulation_wavelength_max_m)?;
        if r.undulation_wavelength_max_m < r.undulation_wavelength_min_m {
            return Err(arg(format!(
                "relief.undulation_wavelength_max_m ({}) must be >= \
                 undulation_wavelength_min_m ({})",
                r.undulation_wavelength_max_m, r.undulation_wavelength_min_m
            )));
        }
        if r.undulation_waves > 64 {
            return Err(arg(format!(
                "relief.undulation_waves must be at most 64, got {}",
                r.undulation_waves
            )));
        }
        in_range("relief.roughness_m", r.roughness_m, 0.0, 10.0)?;
        positive("relief.roughness_wavelength_m", r.roughness_wavelength_m)?;
        in_range("relief.roughness_hurst", r.roughness_hurst, 0.0, 1.0)?;
        in_range("relief.roughness_patchiness", r.roughness_patchiness, 0.0, 2.0)?;
        positive("relief.patch_wavelength_m", r.patch_wavelength_m)?;

        let c = &self.crater_population;
        in_range("crater_population.density_per_km2", c.density_per_km2, 0.0, 1.0e6)?;
        in_range("crater_population.exponent_b", c.exponent_b, 0.5, 5.0)?;
        positive("crater_population.d_min_m", c.d_min_m)?;
        finite("crater_population.d_max_m", c.d_max_m)?;
        if c.d_max_m < c.d_min_m {
            return Err(arg(format!(
                "crater_population.d_max_m ({}) must be >= d_min_m ({})",
                c.d_max_m, c.d_min_m
            )));
        }
        in_range("crater_population.fresh_fraction", c.fresh_fraction, 0.0, 1.0)?;
        in_range("crater_population.ejecta_rock_k", c.ejecta_rock_k, 0.0, 0.9)?;
        let margin = 1.5 * c.d_max_m;
        let crater_area = (self.extent_m() + 2.0 * margin).powi(2);
        if c.density_per_km2 * crater_area / 1.0e6 > MAX_ITEMS {
            return Err(arg(format!(
                "crater_population asks for about {:.0} craters (at most {MAX_ITEMS})",
                c.density_per_km2 * crater_area / 1.0e6
            )));
        }

        let k = &self.rocks;
        in_range("rocks.k_background", k.k_background, 0.0, 0.9)?;
        positive("rocks.d_min_m", k.d_min_m)?;
        finite("rocks.d_max_m", k.d_max_m)?;
        if k.d_max_m < k.d_min_m {
            return Err(arg(format!(
                "rocks.d_max_m ({}) must be >= d_min_m ({})",
                k.d_max_m, k.d_min_m
            )));
        }
        in_range("rocks.height_ratio_min", k.height_ratio_min, 0.01, 2.0)?;
        in_range("rocks.height_ratio_max", k.height_ratio_max, k.height_ratio_min, 2.0)?;
        if expected_rocks(k.k_background, k.d_min_m, k.d_max_m, area) > MAX_ITEMS {
            return Err(arg(format!(
                "rocks: k_background {} with d_min_m {} gives more than {MAX_ITEMS} rocks; \
                 raise d_min_m",
                k.k_background, k.d_min_m
            )));
        }

        let v = &self.render;
        finite("render.sun_azimuth_deg", v.sun_azimuth_deg)?;
        in_range("render.sun_elevation_deg", v.sun_elevation_deg, 1.0, 90.0)?;
        in_range("render.ambient", v.ambient, 0.0, 1.0)?;
        in_range("render.grain_dn", v.grain_dn, 0.0, 50.0)?;

        let h = &self.hazards;
        in_range("hazards.rock_min_height_m", h.rock_min_height_m, 0.0, 100.0)?;
        in_range("hazards.crater_min_diameter_m", h.crater_min_diameter_m, 0.0, 1.0e5)?;
        in_range("hazards.crater_min_freshness", h.crater_min_freshness, 0.0, 1.0)?;
        in_range("hazards.crater_max_diameter_m", h.crater_max_diameter_m, 0.0, 1.0e6)?;
        if !(6..=256).contains(&h.circle_vertices) {
            return Err(arg(format!(
                "hazards.circle_vertices must be in 6..=256, got {}",
                h.circle_vertices
            )));
        }

        for (i, s) in self.craters.iter().enumerate() {
            let n = format!("craters[{i}]");
            in_range(&format!("{n}.x_m"), s.x_m, -1.0e6, 1.0e6)?;
            in_range(&format!("{n}.y_m"), s.y_m, -1.0e6, 1.0e6)?;
            in_range(&format!("{n}.diameter_m"), s.diameter_m, 2.0 * fine, 1.0e5)?;
            in_range(&format!("{n}.freshness"), s.freshness, 0.0, 1.0)?;
            if let Some(d) = s.depth_ratio {
                in_range(&format!("{n}.depth_ratio"), d, 0.0, 0.5)?;
            }
            if let Some(d) = s.rim_ratio {
                in_range(&format!("{n}.rim_ratio"), d, 0.0, 0.2)?;
            }
        }
        for (i, b) in self.boulder_fields.iter().enumerate() {
            let n = format!("boulder_fields[{i}]");
            polygon_ok(&format!("{n}.polygon"), &b.polygon)?;
            in_range(&format!("{n}.k"), b.k, 0.0, 0.9)?;
            let d_max = b.d_max_m.unwrap_or(k.d_max_m);
            in_range(&format!("{n}.d_max_m"), d_max, k.d_min_m, 1000.0)?;
            if expected_rocks(b.k, k.d_min_m, d_max, polygon_area(&b.polygon)) > MAX_ITEMS {
                return Err(arg(format!("{n} asks for more than {MAX_ITEMS} rocks")));
            }
        }
        for (i, f) in self.ripple_fields.iter().enumerate() {
            let n = format!("ripple_fields[{i}]");
            polygon_ok(&format!("{n}.polygon"), &f.polygon)?;
            in_range(&format!("{n}.wavelength_m"), f.wavelength_m, 4.0 * fine, 1000.0)?;
            in_range(&format!("{n}.height_m"), f.height_m, 0.0, 20.0)?;
            finite(&format!("{n}.wind_azimuth_deg"), f.wind_azimuth_deg)?;
            in_range(&format!("{n}.feather_m"), f.feather_m, 0.0, 1000.0)?;
        }
        for (i, s) in self.scarps.iter().enumerate() {
            let n = format!("scarps[{i}]");
            if s.points.len() < 2 || s.points.len() > 10_000 {
                return Err(arg(format!(
                    "{n}.points needs 2..=10000 points, got {}",
                    s.points.len()
                )));
            }
            if s.points.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
                return Err(arg(format!("{n}.points has a non-finite point")));
            }
            if s.points.windows(2).any(|w| w[0] == w[1]) {
                return Err(arg(format!("{n}.points repeats a point")));
            }
            in_range(&format!("{n}.height_m"), s.height_m, 0.0, 100.0)?;
            in_range(&format!("{n}.face_width_m"), s.face_width_m, fine, 1000.0)?;
            in_range(&format!("{n}.outcrop_width_m"), s.outcrop_width_m, 0.0, 1000.0)?;
            in_range(&format!("{n}.taper_m"), s.taper_m, 1.0, 10_000.0)?;
            in_range(&format!("{n}.talus_k"), s.talus_k, 0.0, 0.9)?;
        }
        for (i, p) in self.nodata_polygons.iter().enumerate() {
            polygon_ok(&format!("nodata_polygons[{i}]"), p)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> SynthParams {
        SynthParams::preset("plains", 1, 64, 1.0).unwrap()
    }

    fn err(p: &SynthParams) -> String {
        p.validate().unwrap_err().to_string()
    }

    #[test]
    fn presets_validate() {
        base().validate().unwrap();
    }

    #[test]
    fn bare_toml_round_trips_and_errors_are_readable() {
        let p = SynthParams::preset("mixed", 8, 64, 1.0).unwrap();
        let text = toml::to_string(&p).unwrap();
        assert_eq!(SynthParams::from_toml_str(&text).unwrap(), p);
        let e = SynthParams::from_toml_str("seed = 1\nsize = 64\n").unwrap_err();
        assert!(e.contains("missing field"), "{e}");
        let bad = text.replace("size = 64", "size = 4");
        assert!(SynthParams::from_toml_str(&bad).unwrap_err().contains("size"));
        let unknown = format!("{text}\nwobble = 3\n");
        assert!(SynthParams::from_toml_str(&unknown).unwrap_err().contains("wobble"));
    }

    #[test]
    fn bad_values_are_named() {
        let mut p = base();
        p.size = 8;
        assert!(err(&p).contains("size"));
        let mut p = base();
        p.res_m = f64::NAN;
        assert!(err(&p).contains("res_m"));
        let mut p = base();
        p.res_m = -1.0;
        assert!(err(&p).contains("res_m"));
        let mut p = base();
        p.relief.slope_deg = 60.0;
        assert!(err(&p).contains("relief.slope_deg"));
        let mut p = base();
        p.crater_population.d_max_m = 1.0;
        assert!(err(&p).contains("d_max_m"));
        let mut p = base();
        p.seed = u64::MAX;
        assert!(err(&p).contains("seed"));
        let mut p = base();
        p.ripple_fields.push(RippleFieldSpec {
            polygon: vec![[0.0, 0.0], [1.0, 1.0]],
            wavelength_m: 6.0,
            height_m: 0.4,
            wind_azimuth_deg: 0.0,
            feather_m: 2.0,
        });
        assert!(err(&p).contains("ripple_fields[0].polygon"));
        let mut p = base();
        p.rocks.k_background = 0.5;
        p.rocks.d_min_m = 0.01;
        assert!(err(&p).contains("rocks"));
        let mut p = base();
        p.scarps.push(ScarpSpec {
            points: vec![[0.0, 0.0]],
            height_m: 2.0,
            face_width_m: 1.0,
            upper_side: Side::Left,
            outcrop_width_m: 5.0,
            taper_m: 10.0,
            talus_k: 0.0,
        });
        assert!(err(&p).contains("scarps[0].points"));
    }
}
