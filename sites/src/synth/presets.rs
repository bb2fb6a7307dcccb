//! Named parameter sets: realistic starting points whose hand features are laid out from the
//! seed (the layout stream), scaled to the site's size.
//!
//! - `mixed`: a bit of everything (gentle regional slope, craters, rocks, a fresh crater with a
//!   boulder field, a megaripple field, an outcrop scarp), one per quadrant.
//! - `plains`: smooth, sparsely cratered and rocky, tuned to the 1 m slope statistics of ROVER.md
//!   3d (median 3-7 deg, p99 20-25 deg).
//! - `crater-field`: dense craters (b = 2.7), rock cover 0.10, a large fresh crater with a
//!   boulder field on its ejecta, a second fresh crater and a degraded ghost crater.
//! - `ripple-slope`: a 8-12 deg regional slope crossed by a megaripple band and a TAR field.
//! - `crater-rim`: a large degraded crater's rim crossing the site (like Jezero's eastern rim:
//!   crater to the west, crest, gentler outer flank to the east), with bedrock benches
//!   (scarps) on the inner wall, boulders on the crest and a ripple field on the flank.
//! - `traverse`: a kilometre-scale site for multi-sol campaigns (the default from 4096 cells up,
//!   see [`traverse`] for the map).

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::geometry::{blob_polygon, Point};
use super::params::{
    BoulderFieldSpec, CraterPopulation, CraterSpec, HazardParams, ReliefParams, RenderParams,
    RippleFieldSpec, RockParams, ScarpSpec, Side, SynthParams,
};
use super::rng::{self, Stream};
use breadcrumb_tools::error::{Result, ToolsError};

/// Names accepted by [`SynthParams::preset`].
pub const PRESETS: [&str; 6] =
    ["mixed", "plains", "crater-field", "ripple-slope", "crater-rim", "traverse"];

/// DEM sizes (cells) from which `site synth` picks `traverse` when no preset is named.
pub const TRAVERSE_MIN_SIZE: usize = 4096;

/// Jezero crater (Perseverance's site), the default location: 77.4 E, 18.4 N.
const JEZERO: (f64, f64) = (77.4, 18.4);

/// Metre-scale roughness tuned (with the crater population of `plains`) to 1 m slopes of median
/// ~5 deg and p99 ~22 deg (ROVER.md 3d).
fn base_relief() -> ReliefParams {
    ReliefParams::default()
}

/// Smallest crater worth drawing at this resolution: 4 m or two DEM cells.
fn crater_d_min(res: f64) -> f64 {
    (2.0 * res).max(4.0)
}

/// Smallest rock worth drawing: 0.3 m at 1 m DEM posts, scaling with coarser ones.
fn rock_d_min(res: f64) -> f64 {
    0.3 * res.max(1.0)
}

/// A bedform wavelength no shorter than four ortho pixels (two DEM cells).
fn wavelength(res: f64, lambda: f64) -> f64 {
    lambda.max(2.0 * res)
}

fn jitter(rng: &mut ChaCha8Rng, p: Point, amount: f64) -> Point {
    [p[0] + rng.gen_range(-amount..=amount), p[1] + rng.gen_range(-amount..=amount)]
}

/// A gently wandering polyline of `n` points, `length` long, through `centre` at `azimuth_deg`.
fn wavy_line(
    rng: &mut ChaCha8Rng,
    centre: Point,
    length: f64,
    azimuth_deg: f64,
    n: usize,
) -> Vec<Point> {
    let (s, c) = azimuth_deg.to_radians().sin_cos();
    (0..n)
        .map(|i| {
            let t = (i as f64 / (n - 1) as f64 - 0.5) * length;
            let off = rng.gen_range(-0.04..0.04) * length;
            [centre[0] + t * s + off * c, centre[1] + t * c - off * s]
        })
        .collect()
}

/// Points along a circular arc, counter-clockwise from `a0` to `a1` (radians, from east), each
/// moved radially by up to `wobble` metres so that the arc looks eroded rather than drawn.
fn arc(
    rng: &mut ChaCha8Rng,
    centre: Point,
    r: f64,
    a0: f64,
    a1: f64,
    n: usize,
    wobble: f64,
) -> Vec<Point> {
    (0..n)
        .map(|i| {
            let a = a0 + (a1 - a0) * i as f64 / (n - 1) as f64;
            let rr = r + rng.gen_range(-1.0..=1.0) * wobble;
            [centre[0] + rr * a.cos(), centre[1] + rr * a.sin()]
        })
        .collect()
}

/// A band of mean width `width` along `p0`-`p1` whose centre line meanders and whose width
/// swells and narrows (a natural sand stringer rather than a ruled strip).
fn wavy_band(rng: &mut ChaCha8Rng, p0: Point, p1: Point, width: f64, n: usize) -> Vec<Point> {
    let (ex, ey) = (p1[0] - p0[0], p1[1] - p0[1]);
    let len = (ex * ex + ey * ey).sqrt().max(1e-9);
    let (nx, ny) = (-ey / len, ex / len);
    let waves: Vec<(f64, f64, f64)> = (0..3)
        .map(|k| {
            (
                f64::from(k + 1) * rng.gen_range(1.0..2.0),
                rng.gen_range(0.0..std::f64::consts::TAU),
                rng.gen_range(0.0..std::f64::consts::TAU),
            )
        })
        .collect();
    let mut left = Vec::with_capacity(n);
    let mut right = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / (n - 1) as f64;
        let (mut shift, mut swell) = (0.0, 0.0);
        for (k, (f, ph1, ph2)) in waves.iter().enumerate() {
            let amp = 1.0 / (k as f64 + 1.0);
            shift += amp * (std::f64::consts::TAU * f * t + ph1).sin();
            swell += amp * (std::f64::consts::TAU * f * t + ph2).sin();
        }
        let c = [
            p0[0] + t * ex + nx * 0.25 * width * shift,
            p0[1] + t * ey + ny * 0.25 * width * shift,
        ];
        let hw = width / 2.0 * (1.0 + 0.2 * swell);
        left.push([c[0] + nx * hw, c[1] + ny * hw]);
        right.push([c[0] - nx * hw, c[1] - ny * hw]);
    }
    right.reverse();
    left.extend(right);
    left
}

impl SynthParams {
    /// A named preset for `seed`, `size` DEM cells of `res_m` metres. Unknown names are an
    /// [`ToolsError::Argument`] listing the valid ones; the result is validated.
    pub fn preset(name: &str, seed: u64, size: usize, res_m: f64) -> Result<Self> {
        let mut p = SynthParams {
            seed,
            size,
            res_m,
            preset: name.to_string(),
            name: None,
            centre_lon_deg: JEZERO.0,
            centre_lat_deg: JEZERO.1,
            base_elevation_m: -2550.0,
            relief: base_relief(),
            crater_population: CraterPopulation::default(),
            rocks: RockParams::default(),
            render: RenderParams::default(),
            hazards: HazardParams::default(),
            craters: Vec::new(),
            boulder_fields: Vec::new(),
            ripple_fields: Vec::new(),
            scarps: Vec::new(),
            nodata_polygons: Vec::new(),
        };
        // Sizes must be sane before deriving layouts from them.
        if !(16..=8192).contains(&size) || !res_m.is_finite() || res_m <= 0.0 {
            p.validate()?;
        }
        p.crater_population.d_min_m = crater_d_min(res_m);
        p.rocks.d_min_m = rock_d_min(res_m);
        p.rocks.d_max_m = p.rocks.d_max_m.max(2.0 * p.rocks.d_min_m);
        let mut rng = rng::stream(seed, Stream::Layout);
        match name {
            "mixed" => mixed(&mut p, &mut rng),
            "plains" => plains(&mut p, &mut rng),
            "crater-field" => crater_field(&mut p, &mut rng),
            "ripple-slope" => ripple_slope(&mut p, &mut rng),
            "crater-rim" => crater_rim(&mut p, &mut rng),
            "traverse" => traverse(&mut p, &mut rng),
            _ => {
                return Err(ToolsError::Argument(format!(
                    "unknown synthetic preset {name:?}; valid presets: {}",
                    PRESETS.join(", ")
                )))
            }
        }
        tidy(&mut p);
        p.validate()?;
        Ok(p)
    }
}

fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn r2_points(points: &mut [Point]) {
    for q in points {
        *q = [r2(q[0]), r2(q[1])];
    }
}

/// Rounds the drawn values to centimetres and hundredths of a degree, so that `bundle.toml`
/// reads like something a person wrote (the rounded values are what is generated from).
fn tidy(p: &mut SynthParams) {
    p.relief.slope_deg = r2(p.relief.slope_deg);
    p.relief.slope_azimuth_deg = r2(p.relief.slope_azimuth_deg);
    for c in &mut p.craters {
        c.x_m = r2(c.x_m);
        c.y_m = r2(c.y_m);
        c.diameter_m = r2(c.diameter_m);
    }
    for b in &mut p.boulder_fields {
        r2_points(&mut b.polygon);
        b.k = r2(b.k);
    }
    for f in &mut p.ripple_fields {
        r2_points(&mut f.polygon);
        f.wavelength_m = r2(f.wavelength_m);
        f.height_m = r2(f.height_m);
        f.wind_azimuth_deg = r2(f.wind_azimuth_deg.rem_euclid(360.0));
        f.feather_m = r2(f.feather_m);
    }
    for s in &mut p.scarps {
        r2_points(&mut s.points);
        s.height_m = r2(s.height_m);
        s.face_width_m = r2(s.face_width_m);
        s.outcrop_width_m = r2(s.outcrop_width_m);
        s.taper_m = r2(s.taper_m);
    }
}

/// Crater diameter range of the random population: up to `frac` of the site, at most `cap`.
fn crater_d_max(p: &SynthParams, frac: f64, cap: f64) -> f64 {
    let d_min = p.crater_population.d_min_m;
    (p.extent_m() * frac).min(cap).max(2.0 * d_min)
}

fn plains(p: &mut SynthParams, rng: &mut ChaCha8Rng) {
    p.relief.slope_deg = rng.gen_range(0.5..2.0);
    p.relief.slope_azimuth_deg = rng.gen_range(0.0..360.0);
    p.crater_population.density_per_km2 = 120.0;
    p.crater_population.exponent_b = 2.0;
    p.crater_population.d_max_m = crater_d_max(p, 0.12, 50.0);
    p.crater_population.fresh_fraction = 0.15;
    p.rocks.k_background = 0.03;
}

fn mixed(p: &mut SynthParams, rng: &mut ChaCha8Rng) {
    let l = p.extent_m();
    let res = p.res_m;
    p.relief.slope_deg = rng.gen_range(2.0..5.0);
    p.relief.slope_azimuth_deg = rng.gen_range(0.0..360.0);
    p.crater_population.density_per_km2 = 400.0;
    p.crater_population.exponent_b = 2.4;
    p.crater_population.d_max_m = crater_d_max(p, 0.15, 60.0);
    p.crater_population.fresh_fraction = 0.3;
    p.rocks.k_background = 0.05;

    let mut quads =
        [[0.25 * l, 0.25 * l], [0.75 * l, 0.25 * l], [0.25 * l, 0.75 * l], [0.75 * l, 0.75 * l]];
    quads.shuffle(rng);
    // Quadrant 0: a megaripple field.
    let wind = rng.gen_range(0.0..360.0);
    let centre = jitter(rng, quads[0], 0.04 * l);
    let lambda = wavelength(res, rng.gen_range(5.0..9.0));
    p.ripple_fields.push(RippleFieldSpec {
        polygon: blob_polygon(rng, centre, 0.19 * l, 0.1 * l, wind + 90.0, 0.2, 40),
        wavelength_m: lambda,
        height_m: rng.gen_range(0.3..0.5),
        wind_azimuth_deg: wind,
        feather_m: (1.2 * lambda).max(4.0),
    });
    // Quadrant 1: a fresh crater with a boulder field on its ejecta.
    let centre = jitter(rng, quads[1], 0.05 * l);
    let d = (0.09 * l).min(45.0).max(8.0_f64.max(4.0 * res));
    p.craters.push(crater(centre, d, 0.95, true));
    let dir = rng.gen_range(0.0..std::f64::consts::TAU);
    let field_centre = [centre[0] + 0.9 * d * dir.cos(), centre[1] + 0.9 * d * dir.sin()];
    let az = rng.gen_range(0.0..180.0);
    p.boulder_fields.push(BoulderFieldSpec {
        polygon: blob_polygon(rng, field_centre, 0.8 * d, 0.5 * d, az, 0.25, 32),
        k: 0.35,
        d_max_m: None,
    });
    // Quadrant 2: an outcrop scarp.
    let height = rng.gen_range(1.5..3.0);
    let az = rng.gen_range(0.0..180.0);
    p.scarps.push(ScarpSpec {
        points: wavy_line(rng, quads[2], 0.42 * l, az, 7),
        height_m: height,
        face_width_m: (0.6 * height).max(res),
        upper_side: if rng.gen_bool(0.5) { Side::Left } else { Side::Right },
        outcrop_width_m: (0.04 * l).clamp(3.0, 20.0),
        taper_m: (0.08 * l).clamp(6.0, 40.0),
        talus_k: 0.15,
    });
    // Quadrant 3: a smaller, older crater.
    let centre = jitter(rng, quads[3], 0.08 * l);
    p.craters.push(crater(centre, (0.12 * l).min(60.0).max(8.0_f64.max(4.0 * res)), 0.35, false));
}

/// A placed crater with the population's default depth and rim ratios.
fn crater(centre: [f64; 2], diameter_m: f64, freshness: f64, ejecta: bool) -> CraterSpec {
    CraterSpec {
        x_m: centre[0],
        y_m: centre[1],
        diameter_m,
        freshness,
        depth_ratio: None,
        rim_ratio: None,
        ejecta,
    }
}

fn crater_field(p: &mut SynthParams, rng: &mut ChaCha8Rng) {
    let l = p.extent_m();
    let res = p.res_m;
    p.relief.slope_deg = rng.gen_range(1.0..3.0);
    p.relief.slope_azimuth_deg = rng.gen_range(0.0..360.0);
    p.crater_population.density_per_km2 = 900.0;
    p.crater_population.exponent_b = 2.7;
    p.crater_population.d_max_m = crater_d_max(p, 0.2, 80.0);
    p.crater_population.fresh_fraction = 0.45;
    p.crater_population.ejecta_rock_k = 0.35;
    p.rocks.k_background = 0.055;

    let dmin_placed = 8.0_f64.max(4.0 * res);
    // A degraded ghost crater.
    let c0 = [rng.gen_range(0.3..0.7) * l, rng.gen_range(0.3..0.7) * l];
    p.craters.push(crater(c0, (0.35 * l).max(dmin_placed), 0.08, false));
    // A large fresh crater with a boulder field on its ejecta blanket.
    let c1 = [rng.gen_range(0.2..0.8) * l, rng.gen_range(0.2..0.8) * l];
    let d1 = (0.15 * l).min(80.0).max(dmin_placed);
    p.craters.push(crater(c1, d1, 0.97, true));
    let dir = rng.gen_range(0.0..std::f64::consts::TAU);
    let az = rng.gen_range(0.0..180.0);
    p.boulder_fields.push(BoulderFieldSpec {
        polygon: blob_polygon(
            rng,
            [c1[0] + 0.8 * d1 * dir.cos(), c1[1] + 0.8 * d1 * dir.sin()],
            0.9 * d1,
            0.55 * d1,
            az,
            0.25,
            36,
        ),
        k: 0.45,
        d_max_m: None,
    });
    // A second, smaller fresh crater.
    let c2 = [rng.gen_range(0.15..0.85) * l, rng.gen_range(0.15..0.85) * l];
    p.craters.push(crater(c2, (0.07 * l).min(40.0).max(dmin_placed), 0.9, true));
}

fn ripple_slope(p: &mut SynthParams, rng: &mut ChaCha8Rng) {
    let l = p.extent_m();
    let res = p.res_m;
    p.relief.slope_deg = rng.gen_range(8.0..12.0);
    p.relief.slope_azimuth_deg = rng.gen_range(0.0..360.0);
    p.relief.undulation_slope_deg = 1.5;
    p.crater_population.density_per_km2 = 80.0;
    p.crater_population.exponent_b = 2.2;
    p.crater_population.d_max_m = crater_d_max(p, 0.1, 40.0);
    p.crater_population.fresh_fraction = 0.2;
    p.rocks.k_background = 0.04;
    let wind = rng.gen_range(0.0..360.0);

    // A megaripple band right across the site.
    let across: f64 = wind + 90.0 + rng.gen_range(-20.0..20.0);
    let (s, c) = (across.to_radians().sin(), across.to_radians().cos());
    let mid = [rng.gen_range(0.35..0.65) * l, rng.gen_range(0.35..0.65) * l];
    let lambda = wavelength(res, rng.gen_range(5.0..10.0));
    p.ripple_fields.push(RippleFieldSpec {
        polygon: wavy_band(
            rng,
            [mid[0] - 0.8 * l * s, mid[1] - 0.8 * l * c],
            [mid[0] + 0.8 * l * s, mid[1] + 0.8 * l * c],
            0.14 * l,
            48,
        ),
        wavelength_m: lambda,
        height_m: rng.gen_range(0.3..0.5),
        wind_azimuth_deg: wind + rng.gen_range(-10.0..10.0),
        feather_m: (1.2 * lambda).max(4.0),
    });
    // A TAR field to one side of the band.
    let side = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
    let (ws, wc) = (wind.to_radians().sin(), wind.to_radians().cos());
    let tar_centre = [
        (mid[0] + side * 0.3 * l * ws).clamp(0.15 * l, 0.85 * l),
        (mid[1] + side * 0.3 * l * wc).clamp(0.15 * l, 0.85 * l),
    ];
    let lambda = wavelength(res, rng.gen_range(22.0..28.0));
    p.ripple_fields.push(RippleFieldSpec {
        polygon: blob_polygon(rng, tar_centre, 0.24 * l, 0.13 * l, across, 0.2, 40),
        wavelength_m: lambda,
        height_m: rng.gen_range(1.1..1.4),
        wind_azimuth_deg: wind + rng.gen_range(-10.0..10.0),
        feather_m: (0.5 * lambda).max(6.0),
    });
    // A small megaripple patch on the other side.
    let patch = [
        (mid[0] - side * 0.3 * l * ws).clamp(0.12 * l, 0.88 * l),
        (mid[1] - side * 0.3 * l * wc).clamp(0.12 * l, 0.88 * l),
    ];
    let lambda = wavelength(res, rng.gen_range(4.0..7.0));
    p.ripple_fields.push(RippleFieldSpec {
        polygon: blob_polygon(rng, patch, 0.1 * l, 0.06 * l, across, 0.25, 28),
        wavelength_m: lambda,
        height_m: rng.gen_range(0.25..0.4),
        wind_azimuth_deg: wind + rng.gen_range(-10.0..10.0),
        feather_m: (1.2 * lambda).max(4.0),
    });
}

/// A site for kilometre-scale campaigns: mostly plains a rover can cross, with regions of each
/// terrain type laid across the map so that a 4-5 km drive between the south-west and
/// north-east quarters has to weave around them. Positions are fractions of the side `L`
/// (x east, y north from the south-west corner), jittered by the seed:
///
/// - everywhere: gently sloping (1-2 deg) plains with the `plains` roughness, sparse random
///   craters up to ~80 m (a fifth of them fresh, with ejecta rocks) and rock cover k = 0.035;
/// - centre, around (0.5, 0.45) L: a large degraded crater (0.1 L, at most 900 m across) with
///   gentle walls and a sand-filled floor;
/// - south-east, around (0.75, 0.25) L: a crater field of ~30 placed craters (33-120 m at
///   8 km), fresh and degraded, one with a boulder field on its ejecta;
/// - north-west, around (0.25, 0.72) L: a fresh crater (0.03 L, at most 250 m) with a boulder
///   field on its ejecta blanket;
/// - along the anti-diagonal, at (0.15, 0.85), (0.4, 0.6), (0.65, 0.35) and (0.9, 0.1) L: four
///   ripple fields (three megaripple fields and one of TARs), gaps of ~0.2 L between them;
/// - north-east, x ~ 0.62 L from y 0.5 L to the north edge: a 2.5-4 m scarp (plateau to the
///   east) in two segments with a ~0.05 L gap, its ends and the gap ramped by the end taper;
/// - south-west, y ~ 0.42 L from the west edge to x 0.4 L: a 1.5-3 m scarp (plateau to the
///   north) with a gap at x ~ 0.2 L;
/// - three small boulder fields at (0.35, 0.3), (0.82, 0.55) and (0.55, 0.85) L.
///
/// The corners' quarters around (0.15, 0.15) and (0.85, 0.85) L are left as open plains for
/// starts and goals. Away from crater walls and scarp faces the 1 m slopes are those of
/// `plains` (median ~5 deg, p99 ~22 deg).
fn traverse(p: &mut SynthParams, rng: &mut ChaCha8Rng) {
    let l = p.extent_m();
    let res = p.res_m;
    p.relief.slope_deg = rng.gen_range(1.0..2.0);
    p.relief.slope_azimuth_deg = rng.gen_range(0.0..360.0);
    p.crater_population.density_per_km2 = 120.0;
    p.crater_population.exponent_b = 2.2;
    p.crater_population.d_max_m = crater_d_max(p, 0.012, 80.0);
    p.crater_population.fresh_fraction = 0.2;
    p.rocks.k_background = 0.035;
    let dmin_placed = 8.0_f64.max(4.0 * res);
    // Fewer placed craters on small sites, where 30 would cover everything.
    let scale = (l / 4096.0).min(1.0);

    // The degraded crater in the middle.
    let c = jitter(rng, [0.5 * l, 0.45 * l], 0.04 * l);
    p.craters.push(crater(c, (0.1 * l).min(900.0).max(dmin_placed), 0.05, false));

    // The crater field in the south-east.
    let field = jitter(rng, [0.75 * l, 0.25 * l], 0.03 * l);
    let count = (30.0 * scale).ceil().max(3.0) as usize;
    let (dlo, dhi) = (dmin_placed.max(0.004 * l), dmin_placed.max(0.015 * l));
    for i in 0..count {
        let r = 0.1 * l * rng.gen_range(0.0f64..1.0).sqrt();
        let a = rng.gen_range(0.0..std::f64::consts::TAU);
        let d = (dlo.ln() + rng.gen_range(0.0..1.0) * (dhi.ln() - dlo.ln())).exp();
        let fresh = if i == 0 { 0.95 } else { rng.gen_range(0.0..1.0) };
        let at = [field[0] + r * a.cos(), field[1] + r * a.sin()];
        p.craters.push(crater(at, d, fresh, true));
        if i == 0 {
            let dir = rng.gen_range(0.0..std::f64::consts::TAU);
            let az = rng.gen_range(0.0..180.0);
            p.boulder_fields.push(BoulderFieldSpec {
                polygon: blob_polygon(
                    rng,
                    [at[0] + 0.9 * d * dir.cos(), at[1] + 0.9 * d * dir.sin()],
                    0.8 * d,
                    0.5 * d,
                    az,
                    0.25,
                    32,
                ),
                k: 0.4,
                d_max_m: None,
            });
        }
    }

    // The fresh crater with its boulder field in the north-west.
    let c = jitter(rng, [0.25 * l, 0.72 * l], 0.03 * l);
    let d = (0.03 * l).min(250.0).max(dmin_placed);
    p.craters.push(crater(c, d, 0.95, true));
    let dir = rng.gen_range(0.0..std::f64::consts::TAU);
    let az = rng.gen_range(0.0..180.0);
    p.boulder_fields.push(BoulderFieldSpec {
        polygon: blob_polygon(
            rng,
            [c[0] + 0.9 * d * dir.cos(), c[1] + 0.9 * d * dir.sin()],
            0.9 * d,
            0.5 * d,
            az,
            0.25,
            36,
        ),
        k: 0.45,
        d_max_m: None,
    });

    // Ripple fields along the anti-diagonal, elongated along it, one of them of TARs.
    let tar = rng.gen_range(0..4);
    for (i, t) in [0.15, 0.4, 0.65, 0.9].into_iter().enumerate() {
        let centre = jitter(rng, [t * l, (1.0 - t) * l], 0.02 * l);
        let wind = rng.gen_range(30.0..60.0);
        let (lambda, height, feather) = if i == tar {
            let lambda = wavelength(res, rng.gen_range(20.0..28.0));
            (lambda, rng.gen_range(1.0..1.3), (0.5 * lambda).max(6.0))
        } else {
            let lambda = wavelength(res, rng.gen_range(5.0..9.0));
            (lambda, rng.gen_range(0.3..0.5), (1.2 * lambda).max(4.0))
        };
        p.ripple_fields.push(RippleFieldSpec {
            polygon: blob_polygon(rng, centre, 0.07 * l, 0.035 * l, 135.0, 0.25, 40),
            wavelength_m: lambda,
            height_m: height,
            wind_azimuth_deg: wind,
            feather_m: feather,
        });
    }

    // Two scarps, each in two segments with a ramped gap between them.
    let taper = (0.012 * l).clamp(6.0, 100.0);
    let mut scarp = |rng: &mut ChaCha8Rng, a: Point, b: Point, height: f64, side: Side| {
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let mid = [f64::midpoint(a[0], b[0]), f64::midpoint(a[1], b[1])];
        let az = (b[0] - a[0]).atan2(b[1] - a[1]).to_degrees();
        p.scarps.push(ScarpSpec {
            points: wavy_line(rng, mid, len, az, 7),
            height_m: height,
            face_width_m: (0.6 * height).max(res),
            upper_side: side,
            outcrop_width_m: (0.003 * l).clamp(3.0, 15.0),
            taper_m: taper,
            talus_k: 0.15,
        });
    };
    let h = rng.gen_range(2.5..4.0);
    let x = rng.gen_range(0.6..0.64) * l;
    let gap = rng.gen_range(0.68..0.76) * l;
    // Northward lines have the east on their right.
    scarp(rng, [x, 0.5 * l], [x, gap - 0.025 * l], h, Side::Right);
    scarp(rng, [x, gap + 0.025 * l], [x, 0.99 * l], h, Side::Right);
    let h = rng.gen_range(1.5..3.0);
    let y = rng.gen_range(0.4..0.44) * l;
    let gap = rng.gen_range(0.17..0.23) * l;
    // Eastward lines have the north on their left.
    scarp(rng, [0.01 * l, y], [gap - 0.025 * l, y], h, Side::Left);
    scarp(rng, [gap + 0.025 * l, y], [0.4 * l, y], h, Side::Left);

    // Small boulder fields.
    for c in [[0.35, 0.3], [0.82, 0.55], [0.55, 0.85]] {
        let centre = jitter(rng, [c[0] * l, c[1] * l], 0.02 * l);
        let az = rng.gen_range(0.0..180.0);
        p.boulder_fields.push(BoulderFieldSpec {
            polygon: blob_polygon(rng, centre, 0.025 * l, 0.015 * l, az, 0.25, 28),
            k: rng.gen_range(0.3..0.45),
            d_max_m: None,
        });
    }
}

fn crater_rim(p: &mut SynthParams, rng: &mut ChaCha8Rng) {
    let l = p.extent_m();
    let res = p.res_m;
    p.base_elevation_m = -2250.0;
    p.relief.slope_deg = 0.0;
    p.relief.undulation_slope_deg = 1.5;
    p.relief.roughness_m *= 1.2;
    p.crater_population.density_per_km2 = 150.0;
    p.crater_population.exponent_b = 2.2;
    p.crater_population.d_max_m = crater_d_max(p, 0.1, 40.0);
    p.crater_population.fresh_fraction = 0.25;
    p.rocks.k_background = 0.06;

    // The big crater: centre to the west, off-site, so the rim crest runs roughly north-south
    // at 40-50 % of the width, bowing east.
    let big_d = 2.6 * l;
    let big_r = big_d / 2.0;
    let crest_x = rng.gen_range(0.4..0.5) * l;
    let centre = [crest_x - big_r, rng.gen_range(0.4..0.6) * l];
    p.craters.push(CraterSpec {
        x_m: centre[0],
        y_m: centre[1],
        diameter_m: big_d,
        freshness: 0.35,
        depth_ratio: Some(0.07),
        rim_ratio: Some(0.018),
        ejecta: false,
    });
    // Angular half-span of the site as seen from the centre (with margin).
    let span = ((0.75 * l) / big_r).min(0.99).asin();
    // Bedrock benches on the inner wall: arcs at 93 % and 86 % of the radius, raised outward
    // (the rim side). Counter-clockwise arcs have the centre on the left, so the outer side is
    // the right.
    for (frac, h) in [(0.93, rng.gen_range(1.5..3.0)), (0.86, rng.gen_range(1.0..2.5))] {
        let a_mid = rng.gen_range(-0.15..0.15) * span;
        let half = rng.gen_range(0.35..0.6) * span;
        p.scarps.push(ScarpSpec {
            points: arc(rng, centre, frac * big_r, a_mid - half, a_mid + half, 12, 0.008 * l),
            height_m: h,
            face_width_m: (0.6 * h).max(res),
            upper_side: Side::Right,
            outcrop_width_m: (0.03 * l).clamp(3.0, 15.0),
            taper_m: (0.06 * l).clamp(6.0, 30.0),
            talus_k: 0.2,
        });
    }
    // Outcrop along the crest itself: a low ledge just inside it.
    p.scarps.push(ScarpSpec {
        points: arc(rng, centre, 0.985 * big_r, -0.9 * span, 0.9 * span, 16, 0.006 * l),
        height_m: rng.gen_range(0.8..1.4),
        face_width_m: res.max(0.8),
        upper_side: Side::Right,
        outcrop_width_m: (0.035 * l).clamp(3.0, 18.0),
        taper_m: (0.06 * l).clamp(6.0, 30.0),
        talus_k: 0.1,
    });
    // Boulder patches on the crest, within the site's middle 70 % north-south.
    for _ in 0..2 {
        let y = rng.gen_range(0.15..0.85) * l;
        let a = ((y - centre[1]) / big_r).clamp(-0.99, 0.99).asin();
        let c = [centre[0] + 1.005 * big_r * a.cos(), centre[1] + 1.005 * big_r * a.sin()];
        let az = rng.gen_range(0.0..180.0);
        p.boulder_fields.push(BoulderFieldSpec {
            polygon: blob_polygon(rng, c, 0.06 * l, 0.035 * l, az, 0.25, 28),
            k: rng.gen_range(0.3..0.45),
            d_max_m: None,
        });
    }
    // A megaripple field in a low on the outer flank.
    let lambda = wavelength(res, rng.gen_range(5.0..8.0));
    let wind = rng.gen_range(30.0..150.0);
    let centre = [rng.gen_range(0.75..0.85) * l, rng.gen_range(0.25..0.75) * l];
    p.ripple_fields.push(RippleFieldSpec {
        polygon: blob_polygon(rng, centre, 0.12 * l, 0.07 * l, wind + 90.0, 0.2, 32),
        wavelength_m: lambda,
        height_m: rng.gen_range(0.3..0.45),
        wind_azimuth_deg: wind,
        feather_m: (1.2 * lambda).max(4.0),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_and_validates_at_several_sizes() {
        for name in PRESETS {
            for (size, res) in [(16, 1.0), (64, 1.0), (512, 1.0), (256, 0.5), (128, 2.0)] {
                let p = SynthParams::preset(name, 3, size, res)
                    .unwrap_or_else(|e| panic!("{name} {size} {res}: {e}"));
                assert_eq!(p.preset, name);
            }
        }
    }

    #[test]
    fn unknown_preset_lists_valid_names() {
        let e = SynthParams::preset("moon", 1, 64, 1.0).unwrap_err().to_string();
        assert!(e.contains("moon") && e.contains("crater-rim") && e.contains("plains"), "{e}");
        let e = SynthParams::preset("plains", 1, 4, 1.0).unwrap_err().to_string();
        assert!(e.contains("size"), "{e}");
        let e = SynthParams::preset("plains", 1, 64, f64::INFINITY).unwrap_err().to_string();
        assert!(e.contains("res_m"), "{e}");
    }

    #[test]
    fn presets_depend_on_the_seed() {
        let a = SynthParams::preset("mixed", 1, 128, 1.0).unwrap();
        let b = SynthParams::preset("mixed", 2, 128, 1.0).unwrap();
        assert_ne!(a.craters, b.craters);
        assert_eq!(a, SynthParams::preset("mixed", 1, 128, 1.0).unwrap());
    }
}
