//! The digital twin: a plan compiled to a drive sequence ([`sequence`]), driven pose by pose
//! ([`drive`]) by a kinematic rocker-bogie rover ([`kinematics`], with ACE-style [`bounds`])
//! over the DEM, and judged against the rover's limits ([`verdict`]). It knows nothing of
//! models; it is a second, independent gate beside [`crate::checker`]. Its telemetry is written
//! as CSV and wheel tracks as GeoJSON by [`telemetry`].
//!
//! Units: map metres, degrees, headings clockwise from north, seconds.

pub mod bounds;
pub mod drive;
pub mod kinematics;
pub mod plot;
pub mod sequence;
pub mod telemetry;
pub mod verdict;

pub use bounds::Bounds;
pub use drive::{drive, Sample, Telemetry};
pub use kinematics::{solve, Ground, PoseState};
pub use sequence::{compile, Command, CommandKind, Pose, Sequence, SequenceError};
pub use verdict::{judge, TwinRule, TwinSummary, TwinVerdict, TwinViolation, TWIN_VERSION};

use crate::terrain::rover::Kinematics;
use crate::terrain::{Grid, RoverProfile};

/// The committed Perseverance-like profile's kinematics, for the twin's unit tests.
#[cfg(test)]
pub(crate) fn test_kinematics() -> crate::terrain::rover::Kinematics {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).unwrap().kinematics.unwrap()
}

/// A plan driven in the twin: its sequence, the telemetry and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinRun {
    /// The compiled plan (`None` when it could not be compiled).
    pub sequence: Option<Sequence>,
    /// Every pose driven (empty when nothing could be driven).
    pub telemetry: Telemetry,
    /// The verdict.
    pub verdict: TwinVerdict,
}

/// The file a drive's verdict is kept in.
pub const VERDICT_FILE: &str = "twin.json";

impl TwinRun {
    /// A plan the twin could not drive at all: no sequence, no poses, a verdict failing on
    /// `drivable` with `why`.
    #[must_use]
    pub fn undrivable(sol: &str, rover: &str, why: &str) -> Self {
        TwinRun {
            sequence: None,
            telemetry: Telemetry {
                samples: Vec::new(),
                duration_s: 0.0,
                distance_m: 0.0,
                truncated: false,
            },
            verdict: TwinVerdict::undrivable(sol, rover, why),
        }
    }

    /// The files a drive is kept as, by name: `twin.json` (the verdict) always, and when it
    /// was driven with kinematics `k`, `telemetry.csv`, `tracks.geojson`, `sequence.xml` and
    /// `sequence.json`. What `breadcrumb twin -o` and a run's dossier both write (the plot,
    /// `twin.png`, is drawn by [`plot::plot_png`] where it is asked for).
    #[must_use]
    pub fn files(&self, k: Option<&Kinematics>) -> Vec<(&'static str, Vec<u8>)> {
        let mut files = vec![(VERDICT_FILE, self.verdict.to_json().into_bytes())];
        if let (Some(k), Some(seq)) = (k, &self.sequence) {
            let t = &self.telemetry;
            files.push(("telemetry.csv", telemetry::to_csv(t).into_bytes()));
            files.push(("tracks.geojson", telemetry::tracks_geojson(k, t).into_bytes()));
            files.push(("sequence.xml", seq.to_xml().into_bytes()));
            files.push(("sequence.json", seq.to_json().into_bytes()));
        }
        files
    }
}

/// Keep-in half-width the sequence gives AutoNav around each leg: the footprint's half-width
/// plus the hazard margin, the corridor the checker proved clear.
#[must_use]
pub fn keep_in_half_width(profile: &RoverProfile) -> f64 {
    profile.footprint.half_width_m + profile.margins.hazard_margin_m
}

/// Compiles `points` (starting at `start_heading_deg`, or along the first leg), drives them
/// over `grid` with the profile's kinematic rover and judges the drive. Never panics: a
/// profile without `[kinematics]` or a plan that cannot be compiled gives a failing verdict
/// on `drivable`.
#[must_use]
pub fn run(
    profile: &RoverProfile,
    grid: &Grid,
    points: &[(f64, f64)],
    start_heading_deg: Option<f64>,
    sol: &str,
) -> TwinRun {
    let Some(k) = profile.kinematics.as_ref() else {
        let why = format!("rover profile `{}` has no [kinematics] table", profile.name);
        return TwinRun::undrivable(sol, &profile.name, &why);
    };
    let seq = match compile(points, start_heading_deg, keep_in_half_width(profile)) {
        Ok(s) => s,
        Err(e) => return TwinRun::undrivable(sol, &profile.name, &e.to_string()),
    };
    let telemetry = drive(k, &Ground { grid }, &seq);
    let verdict = judge(k, &seq, &telemetry, sol, &profile.name);
    TwinRun { sequence: Some(seq), telemetry, verdict }
}

/// [`run`] over a DEM read in one window around the plan (the plan's bounding box plus 4 m and
/// 4 cells), never the whole raster. A plan whose window cannot be read (absurd coordinates)
/// is undrivable, not an error: the verdict fails.
#[must_use]
pub fn run_on_dem(
    profile: &RoverProfile,
    dem: &crate::terrain::Dem,
    points: &[(f64, f64)],
    start_heading_deg: Option<f64>,
    sol: &str,
) -> TwinRun {
    let (mut x0, mut y0, mut x1, mut y1) =
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    // The rover reaches 1.5 m from its centre and its wheels a little more: 4 m is ample.
    let reach = 4.0;
    let grid = if points.is_empty() {
        Ok(Grid::filled(1, 1, f32::NAN, dem.transform()))
    } else {
        dem.window_around(x0 - reach, y0 - reach, x1 + reach, y1 + reach, 4)
    };
    match grid {
        Ok(g) => run(profile, &g, points, start_heading_deg, sol),
        Err(e) => TwinRun::undrivable(sol, &profile.name, &format!("reading the DEM: {e}")),
    }
}
