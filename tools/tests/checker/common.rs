//! Shared builders for the checker tests: the committed rover profile, analytic and rough test
//! terrains, missions and a one-call check.

use std::path::PathBuf;

use breadcrumb_tools::checker::{Checker, Mission, Pt, Verdict};
use breadcrumb_tools::geometry::polygon_from_ring;
use breadcrumb_tools::terrain::{Bundle, GeoTransform, Grid, Hazard, HazardClass, RoverProfile};
use geo::{MultiPolygon, Polygon};

/// The committed Perseverance-like profile.
pub fn perseverance() -> RoverProfile {
    let p = fixtures().join("rovers/perseverance.toml");
    RoverProfile::load(&p).expect("fixtures/rovers/perseverance.toml")
}

/// The repository's `fixtures/`.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A `size x size` grid of `res` metre cells with its south-west corner at the map origin,
/// elevations `f(x, y)` at cell centres.
pub fn grid(size: usize, res: f64, f: impl Fn(f64, f64) -> f64) -> Grid {
    let t = GeoTransform { x0: 0.0, y0: size as f64 * res, dx: res, dy: -res };
    Grid::from_fn(size, size, t, |x, y| f(x, y) as f32)
}

/// A square polygon.
pub fn square(x0: f64, y0: f64, side: f64) -> Polygon<f64> {
    polygon_from_ring(&[[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]])
}

/// A mapped hazard of `class` with outline `p`.
pub fn hazard(index: usize, class: HazardClass, p: Polygon<f64>) -> Hazard {
    Hazard { index, class, shape: MultiPolygon::new(vec![p]), properties: serde_json::Map::new() }
}

/// The mission of a bare route (start and goal at its ends, profile budget, no zones).
pub fn route_mission(points: &[Pt], profile: &RoverProfile) -> Mission {
    Mission::for_route(points, profile)
}

/// Checks `points` over `dem`.
pub fn check(
    dem: &Grid,
    hazards: &[Hazard],
    profile: &RoverProfile,
    mission: &Mission,
    points: &[Pt],
) -> Verdict {
    Checker::new(dem, hazards, profile).check(mission, points).expect("a verdict")
}

/// IDs of the failed rules.
pub fn failed(v: &Verdict) -> Vec<String> {
    v.failed_rules().into_iter().map(str::to_owned).collect()
}

/// A deterministic hash of a cell in [0, 1).
pub fn hash01(c: i64, r: i64, seed: u64) -> f64 {
    let mut h = (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (r as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ seed.wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 31;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^= h >> 32;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A site built in test code: every terrain feature the rules look at, at known places.
pub struct TestSite {
    /// Elevations (1 m cells, 200 x 200, NaN in a no-data hole).
    pub dem: Grid,
    /// Mapped hazards.
    pub hazards: Vec<Hazard>,
    /// A name for messages.
    pub name: String,
}

/// Rolling plains with a steep mound (to 35°), scattered rocks up to 0.6 m, two ledges, a
/// megaripple patch, DEM noise and a no-data hole; hazards mapped over some of them.
pub fn rough_site(seed: u64) -> TestSite {
    let n = 200;
    let dem = grid(n, 1.0, |x, y| {
        let (c, r) = (x.floor() as i64, y.floor() as i64);
        let mut z = -2550.0 + 0.06 * x + 0.03 * y + 1.5 * (x / 23.0).sin() * (y / 31.0).cos();
        // A steep mound (Gaussian, max slope ~35°) centred at (140, 60).
        let d2 = (x - 140.0).powi(2) + (y - 60.0).powi(2);
        z += 14.0 * (-d2 / (2.0 * 12.0 * 12.0)).exp();
        // Ledges: a 0.45 m step along x = 60 for y in [100, 160], 0.25 m along y = 40.
        if x > 60.0 && (100.0..160.0).contains(&y) {
            z += 0.45;
        }
        if y > 40.0 && (20.0..90.0).contains(&x) {
            z += 0.25;
        }
        // Megaripples (λ 6 m, H 0.8 m) in [100, 180] x [120, 180].
        if (100.0..180.0).contains(&x) && (120.0..180.0).contains(&y) {
            z += 0.4 * (2.0 * std::f64::consts::PI * (x + 0.3 * y) / 6.0).sin();
        }
        // Rocks: one cell raised 0.1-0.6 m on ~1.5% of cells.
        if hash01(c, r, seed) < 0.015 {
            z += 0.1 + 0.5 * hash01(c, r, seed + 1);
        }
        // DEM noise, 3 cm.
        z += 0.03 * (hash01(c, r, seed + 2) - 0.5);
        // A no-data hole.
        if (x - 40.0).powi(2) + (y - 150.0).powi(2) < 36.0 {
            return f64::NAN;
        }
        z
    });
    let hazards = vec![
        hazard(0, HazardClass::Rock, square(70.0, 70.0, 1.5)),
        hazard(1, HazardClass::SandRipple, square(100.0, 120.0, 80.0)),
        hazard(2, HazardClass::Outcrop, square(20.0, 20.0, 30.0)),
        hazard(3, HazardClass::BoulderField, square(160.0, 20.0, 15.0)),
        hazard(4, HazardClass::Crater, square(30.0, 95.0, 8.0)),
    ];
    TestSite { dem, hazards, name: format!("rough test site (seed {seed})") }
}

/// Every committed fixture site, as `(name, dem, hazards)`.
pub fn fixture_sites() -> Vec<TestSite> {
    let Ok(entries) = std::fs::read_dir(fixtures().join("sites")) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let b = Bundle::open(d).expect("fixture site opens");
            let name = b.name();
            TestSite { dem: b.dem.read_all().expect("fixture DEM"), hazards: b.hazards, name }
        })
        .collect()
}
