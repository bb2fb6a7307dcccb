//! What is under review and the edits made to it.
//!
//! A [`Context`] is everything that stays fixed while a plan is reviewed: the sol, its terrain
//! bundle, the rover profile, the run's own hazard marks and the plan as proposed. It answers
//! [`Context::evaluate`], which judges a list of waypoints with the same two gates as
//! `breadcrumb check` and `breadcrumb twin` (the checker with the run's marks enforced, as the
//! run's own checks and `breadcrumb verify` have them, and the twin driven from the sol's start
//! heading), so what the page shows is what those commands would say.
//!
//! A [`Review`] adds the one mutable thing: the current waypoints, the edit history (every edit
//! with its time, kept for the record an approval writes), undo and redo stacks, and a version
//! number that grows with every change, so that a second tab can tell it is behind. Edits are
//! applied under one lock, re-checked, then published: no tab ever sees waypoints with another
//! state's verdict.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use breadcrumb_tools::checker::plan::Provenance;
use breadcrumb_tools::checker::{blocking_hazards, Checker, Mission, Plan, Verdict};
use breadcrumb_tools::geometry::zones::ZoneIndex;
use breadcrumb_tools::perception::{marks_file, Mark};
use breadcrumb_tools::terrain::{Bundle, LoadedSol, RoverProfile, Sol};
use breadcrumb_tools::twin::{self, TwinVerdict};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ReviewError};

/// Most waypoints a plan under review may have. Real plans have tens; a thousand is already
/// far past any drive budget at the rover's waypoint spacing, and bounds the work one edit asks.
pub const MAX_WAYPOINTS: usize = 1000;

/// How far beyond the sol's area a waypoint may be put, metres. Dragging a point off the map
/// is a legitimate (failing) edit; a coordinate of 1e12 is a bug or an attack, refused early.
pub const MAX_OFFSET_M: f64 = 1000.0;

/// Samples of each telemetry series sent to the page (per-bucket extremes, so no peak is lost).
const PLOT_BUCKETS: usize = 600;

/// Points of each wheel track sent to the page.
const TRACK_POINTS: usize = 400;

/// A map point, metres (x east, y north).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Map x, metres east.
    pub x: f64,
    /// Map y, metres north.
    pub y: f64,
}

/// Everything fixed while a plan is reviewed.
pub struct Context {
    /// The sol (its file, bundle and rover resolved).
    pub sol: LoadedSol,
    /// The sol's terrain.
    pub bundle: Bundle,
    /// The rover profile the sol names.
    pub profile: RoverProfile,
    /// The run's hazard marks (`hazards.model.geojson`; none outside a run directory).
    pub marks: Vec<Mark>,
    /// Blocking site hazards and blocking marks, as the checker sees them.
    index: ZoneIndex,
    /// The plan as proposed.
    pub original: Plan,
    /// The run directory, or the directory of the plan file: where the approval is written.
    pub out_dir: PathBuf,
    /// The plan file reviewed.
    pub plan_path: PathBuf,
    /// The sol's area, map metres `(xmin, ymin, xmax, ymax)`: the keep-in's bounds (or start
    /// and goal) plus 100 m, clipped to the DEM. The map shows and tiles this, never the whole
    /// raster (a mosaic can be gigabytes).
    pub area: (f64, f64, f64, f64),
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("sol", &self.sol.sol.id)
            .field("bundle", &self.bundle.dir)
            .field("plan", &self.plan_path)
            .finish_non_exhaustive()
    }
}

/// A list of waypoints judged by both gates.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Both gates pass.
    pub pass: bool,
    /// The checker's verdict (as `breadcrumb check --json` prints it).
    pub verdict: Verdict,
    /// The twin's verdict (as `breadcrumb twin --json` prints it).
    pub twin: TwinVerdict,
    /// The twin's wheel tracks, thinned to a few hundred points each: a GeoJSON
    /// FeatureCollection of LineStrings.
    pub tracks: serde_json::Value,
    /// The twin's telemetry against distance, for the plot.
    pub telemetry: TelemetryPlot,
    /// How long both gates took on the server, milliseconds.
    pub server_ms: f64,
    /// The twin's drive sequence as XML (`None` when the plan could not be compiled).
    #[serde(skip)]
    pub sequence_xml: Option<String>,
}

/// Telemetry series against distance driven, each bucket of distance keeping its worst value
/// (highest tilt, lowest clearance, biggest wheel step), so a thinned plot still shows every
/// peak. `None` where the rover stood on unknown ground.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TelemetryPlot {
    /// Distance driven at the bucket's start, metres.
    pub distance_m: Vec<f64>,
    /// Chassis tilt from vertical, degrees.
    pub tilt_deg: Vec<Option<f64>>,
    /// Belly clearance, metres.
    pub clearance_m: Vec<Option<f64>>,
    /// Largest wheel height change between poses, metres.
    pub wheel_step_m: Vec<f64>,
    /// Where the rover was at the bucket's start, map x, metres (for the page's probe).
    pub x_m: Vec<f64>,
    /// Where the rover was at the bucket's start, map y, metres.
    pub y_m: Vec<f64>,
    /// The twin's tilt limit, degrees.
    pub tilt_limit_deg: Option<f64>,
    /// The twin's belly clearance limit, metres.
    pub clearance_limit_m: Option<f64>,
    /// The twin's wheel drop limit, metres.
    pub wheel_step_limit_m: Option<f64>,
}

impl Context {
    /// Opens the run dossier `dir` (as `breadcrumb propose` writes it): its `plan.json`, its
    /// copy of the sol (`sol.toml`, which names the bundle and the rover copied beside it) and
    /// its marks (`hazards.model.geojson`, when the run made any). Hashes are not compared
    /// here; that is `breadcrumb verify`'s job.
    pub fn open_run(dir: &Path) -> Result<Context> {
        let sol = dir.join("sol.toml");
        if !sol.is_file() {
            return Err(ReviewError::Missing {
                path: sol,
                what: "the run's copy of its sol (is this a `breadcrumb propose` run directory?)",
            });
        }
        let plan = dir.join("plan.json");
        if !plan.is_file() {
            return Err(ReviewError::Missing { path: plan, what: "the run's plan" });
        }
        let marks_path = dir.join(marks_file::FILE);
        let marks = match std::fs::read_to_string(&marks_path) {
            Ok(text) => marks_file::from_geojson(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ReviewError::io(marks_path, e)),
        };
        Context::open(&sol, &plan, marks, dir.to_path_buf())
    }

    /// Opens a plan file against a sol (`--sol SOL.toml PLAN.json`); the approval is written
    /// beside the plan.
    pub fn open_sol(sol: &Path, plan: &Path) -> Result<Context> {
        let dir = plan.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        Context::open(sol, plan, Vec::new(), dir)
    }

    fn open(sol: &Path, plan_path: &Path, marks: Vec<Mark>, out_dir: PathBuf) -> Result<Context> {
        let sol = Sol::load(sol)?;
        let original = Plan::load(plan_path)?;
        let profile = RoverProfile::load(&sol.rover_path)?;
        let bundle = Bundle::open(&sol.bundle_dir)?;
        let index = marks_file::index_with_marks(&blocking_hazards(&bundle.hazards), &marks);
        let extent = bundle.dem.extent();
        // The DEM's extent when the sol's area leaves nothing of it.
        let area = Mission::from_sol(&sol.sol).sol_area(extent).unwrap_or(extent);
        let ctx = Context {
            sol,
            bundle,
            profile,
            marks,
            index,
            original,
            out_dir,
            plan_path: plan_path.to_path_buf(),
            area,
        };
        if ctx.original.waypoints.len() > MAX_WAYPOINTS {
            return Err(ReviewError::BadRequest(format!(
                "{}: {} waypoints; a review takes at most {MAX_WAYPOINTS}",
                plan_path.display(),
                ctx.original.waypoints.len()
            )));
        }
        Ok(ctx)
    }

    /// The original plan's provenance, if it has one.
    #[must_use]
    pub fn provenance(&self) -> Option<&Provenance> {
        self.original.provenance.as_ref()
    }

    /// Judges `points` with the checker and the twin.
    pub fn evaluate(&self, points: &[(f64, f64)]) -> Result<Evaluation> {
        let t0 = Instant::now();
        let checker = Checker::with_hazard_index(&self.bundle.dem, &self.index, &self.profile);
        let verdict = checker.check(&Mission::from_sol(&self.sol.sol), points)?;
        let run = twin::run_on_dem(
            &self.profile,
            &self.bundle.dem,
            points,
            Some(self.sol.sol.start.heading_deg),
            &self.sol.sol.id,
        );
        let tracks = match (self.profile.kinematics.as_ref(), &run.sequence) {
            (Some(k), Some(_)) => {
                thin_tracks(&twin::telemetry::tracks_geojson(k, &run.telemetry), TRACK_POINTS)
            }
            _ => serde_json::json!({"type": "FeatureCollection", "features": []}),
        };
        let telemetry = plot(&run.telemetry, &run.verdict);
        Ok(Evaluation {
            pass: verdict.pass && run.verdict.pass,
            verdict,
            twin: run.verdict,
            tracks,
            telemetry,
            server_ms: t0.elapsed().as_secs_f64() * 1e3,
            sequence_xml: run.sequence.as_ref().map(twin::Sequence::to_xml),
        })
    }

    /// Refuses a coordinate that is not finite or lies more than [`MAX_OFFSET_M`] outside the
    /// sol's area, naming it.
    pub fn check_point(&self, what: &str, p: Point) -> Result<()> {
        let (x0, y0, x1, y1) = self.area;
        for (axis, v, lo, hi) in [("x", p.x, x0, x1), ("y", p.y, y0, y1)] {
            if !v.is_finite() {
                return Err(ReviewError::BadRequest(format!(
                    "{what}: {axis} = {v} is not a finite number of map metres"
                )));
            }
            if v < lo - MAX_OFFSET_M || v > hi + MAX_OFFSET_M {
                return Err(ReviewError::BadRequest(format!(
                    "{what}: {axis} = {v} m is more than {MAX_OFFSET_M} m outside the sol's area \
                     ({axis} {lo} to {hi} map metres)"
                )));
            }
        }
        Ok(())
    }
}

/// Keeps about `n` evenly spaced points of each LineString (always the first and the last),
/// rounded to the millimetre.
fn thin_tracks(geojson: &str, n: usize) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(geojson)
        .unwrap_or_else(|_| serde_json::json!({"type": "FeatureCollection", "features": []}));
    if let Some(features) = v.get_mut("features").and_then(serde_json::Value::as_array_mut) {
        for f in features {
            let Some(coords) =
                f.pointer_mut("/geometry/coordinates").and_then(serde_json::Value::as_array_mut)
            else {
                continue;
            };
            let len = coords.len();
            let step = len.div_ceil(n.max(1)).max(1);
            let kept: Vec<serde_json::Value> = coords
                .iter()
                .enumerate()
                .filter(|(i, _)| i % step == 0 || *i + 1 == len)
                .map(|(_, c)| {
                    let r = |i: usize| {
                        c.get(i)
                            .and_then(serde_json::Value::as_f64)
                            .map(|v| (v * 1e3).round() / 1e3)
                    };
                    serde_json::json!([r(0), r(1)])
                })
                .collect();
            *coords = kept;
        }
    }
    v
}

/// The telemetry in [`PLOT_BUCKETS`] buckets of distance, each keeping its worst values.
fn plot(t: &twin::Telemetry, v: &TwinVerdict) -> TelemetryPlot {
    let limit = |id: &str| v.rules.iter().find(|r| r.rule == id).map(|r| r.limit);
    let mut p = TelemetryPlot {
        tilt_limit_deg: limit("chassis_tilt"),
        clearance_limit_m: limit("belly_clearance"),
        wheel_step_limit_m: limit("wheel_drop"),
        ..TelemetryPlot::default()
    };
    let total = t.samples.last().map_or(0.0, |s| s.distance_m);
    let width = if total > 0.0 { total / PLOT_BUCKETS as f64 } else { 1.0 };
    let mut current: Option<usize> = None;
    for s in &t.samples {
        let b = ((s.distance_m / width).floor() as usize).min(PLOT_BUCKETS - 1);
        if current != Some(b) {
            current = Some(b);
            p.distance_m.push((b as f64 * width * 100.0).round() / 100.0);
            p.tilt_deg.push(None);
            p.clearance_m.push(None);
            p.wheel_step_m.push(0.0);
            p.x_m.push((s.pose.x * 100.0).round() / 100.0);
            p.y_m.push((s.pose.y * 100.0).round() / 100.0);
        }
        let i = p.distance_m.len() - 1;
        if let Some(state) = &s.state {
            let tilt = (state.tilt_deg * 1e3).round() / 1e3;
            let clear = (state.clearance_m * 1e4).round() / 1e4;
            p.tilt_deg[i] = Some(p.tilt_deg[i].map_or(tilt, |w: f64| w.max(tilt)));
            p.clearance_m[i] = Some(p.clearance_m[i].map_or(clear, |w: f64| w.min(clear)));
        }
        let dz = s.wheel_dz_m.iter().fold(0.0_f64, |m, d| m.max(d.abs()));
        p.wheel_step_m[i] = p.wheel_step_m[i].max((dz * 1e4).round() / 1e4);
    }
    p
}

/// One change to the waypoints, as the page POSTs it (`{"op": "move", "index": 3, "x": ..,
/// "y": ..}`). Indices count from 0, the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Move waypoint `index` to `(x, y)`.
    Move {
        /// The waypoint.
        index: usize,
        /// New map x, metres.
        x: f64,
        /// New map y, metres.
        y: f64,
    },
    /// Insert a waypoint at `(x, y)` so that it becomes number `index` (1 to the count: on the
    /// segment that ended at the old `index`, or after the last).
    Insert {
        /// Its number after the insertion.
        index: usize,
        /// Map x, metres.
        x: f64,
        /// Map y, metres.
        y: f64,
    },
    /// Delete waypoint `index` (at least two remain).
    Delete {
        /// The waypoint.
        index: usize,
    },
    /// Replace every waypoint.
    Replace {
        /// The new route.
        waypoints: Vec<Point>,
    },
    /// Undo the last edit not undone.
    Undo,
    /// Redo the last edit undone.
    Redo,
}

/// An edit as the history keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The version the edit made.
    pub version: u64,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// What.
    pub edit: Edit,
    /// Whether both gates passed after it.
    pub pass: bool,
}

/// A recorded approval, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    /// Who approved.
    pub reviewer: String,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The version approved.
    pub version: u64,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// The mutable part of a review.
#[derive(Debug)]
pub struct State {
    /// The current waypoints.
    pub waypoints: Vec<(f64, f64)>,
    /// Their evaluation.
    pub evaluation: Evaluation,
    /// Grows with every change (edit, undo, redo, approval).
    pub version: u64,
    /// Every edit in order, undos and redos included.
    pub history: Vec<HistoryEntry>,
    undo: Vec<Vec<(f64, f64)>>,
    redo: Vec<Vec<(f64, f64)>>,
    /// The last approval, if any.
    pub approved: Option<Approved>,
}

/// What the page is sent: the state, without the undo stacks.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    /// The state's version.
    pub version: u64,
    /// The current waypoints.
    pub waypoints: Vec<Point>,
    /// Their evaluation.
    pub evaluation: &'a Evaluation,
    /// The edit history.
    pub history: &'a [HistoryEntry],
    /// Whether there is an edit to undo.
    pub can_undo: bool,
    /// Whether there is an edit to redo.
    pub can_redo: bool,
    /// The last approval.
    pub approved: Option<&'a Approved>,
}

impl State {
    /// The page's view of this state.
    #[must_use]
    pub fn view(&self) -> View<'_> {
        View {
            version: self.version,
            waypoints: self.waypoints.iter().map(|&(x, y)| Point { x, y }).collect(),
            evaluation: &self.evaluation,
            history: &self.history,
            can_undo: !self.undo.is_empty(),
            can_redo: !self.redo.is_empty(),
            approved: self.approved.as_ref(),
        }
    }
}

/// A plan under review: its fixed context and its state behind one lock.
#[derive(Debug)]
pub struct Review {
    /// What stays fixed.
    pub ctx: Context,
    state: Mutex<State>,
}

/// Now, RFC 3339 UTC to the second.
#[must_use]
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Review {
    /// Starts a review of the context's plan (version 1, no edits), evaluating it once.
    pub fn new(ctx: Context) -> Result<Review> {
        let waypoints = ctx.original.points();
        let evaluation = ctx.evaluate(&waypoints)?;
        let state = State {
            waypoints,
            evaluation,
            version: 1,
            history: Vec::new(),
            undo: Vec::new(),
            redo: Vec::new(),
            approved: None,
        };
        Ok(Review { ctx, state: Mutex::new(state) })
    }

    /// The state, locked (a panic in another request does not lock the review forever).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current version.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// Applies `edit`, re-checks and records it; a malformed edit changes nothing and is a
    /// [`ReviewError::BadRequest`] saying what is wrong. With `base`, the version the editor
    /// saw: when the state has moved on since (another tab edited), the edit is refused with a
    /// [`ReviewError::Conflict`], since its waypoint indices may name other points now.
    pub fn apply(&self, edit: Edit, base: Option<u64>) -> Result<MutexGuard<'_, State>> {
        let mut st = self.lock();
        if let Some(b) = base {
            if b != st.version {
                return Err(ReviewError::Conflict(format!(
                    "the plan changed in another tab (version {} now, you saw {b}): look again \
                     and redo the edit",
                    st.version
                )));
            }
        }
        let before = st.waypoints.clone();
        let n = before.len();
        let out_of_range = |index: usize, max: usize| {
            ReviewError::BadRequest(format!(
                "waypoint index {index} is out of range: the plan has {n} waypoints (0 to {max})"
            ))
        };
        let after: Vec<(f64, f64)> = match &edit {
            Edit::Move { index, x, y } => {
                if *index >= n {
                    return Err(out_of_range(*index, n.saturating_sub(1)));
                }
                self.ctx.check_point(&format!("waypoint {index}"), Point { x: *x, y: *y })?;
                let mut w = before.clone();
                w[*index] = (*x, *y);
                w
            }
            Edit::Insert { index, x, y } => {
                if *index == 0 || *index > n {
                    return Err(ReviewError::BadRequest(format!(
                        "insert index {index} is out of range: use 1 to {n} (the start, \
                         waypoint 0, stays first)"
                    )));
                }
                if n + 1 > MAX_WAYPOINTS {
                    return Err(too_many(n + 1));
                }
                self.ctx.check_point("new waypoint", Point { x: *x, y: *y })?;
                let mut w = before.clone();
                w.insert(*index, (*x, *y));
                w
            }
            Edit::Delete { index } => {
                if *index >= n {
                    return Err(out_of_range(*index, n.saturating_sub(1)));
                }
                if n <= 2 {
                    return Err(ReviewError::BadRequest(
                        "a plan needs at least two waypoints: this one cannot be deleted".into(),
                    ));
                }
                let mut w = before.clone();
                w.remove(*index);
                w
            }
            Edit::Replace { waypoints } => {
                if waypoints.len() > MAX_WAYPOINTS {
                    return Err(too_many(waypoints.len()));
                }
                if waypoints.len() < 2 {
                    return Err(ReviewError::BadRequest(format!(
                        "a plan needs at least two waypoints, got {}",
                        waypoints.len()
                    )));
                }
                for (i, p) in waypoints.iter().enumerate() {
                    self.ctx.check_point(&format!("waypoints[{i}]"), *p)?;
                }
                waypoints.iter().map(|p| (p.x, p.y)).collect()
            }
            Edit::Undo => match st.undo.last() {
                Some(w) => w.clone(),
                None => return Err(ReviewError::BadRequest("nothing to undo".into())),
            },
            Edit::Redo => match st.redo.last() {
                Some(w) => w.clone(),
                None => return Err(ReviewError::BadRequest("nothing to redo".into())),
            },
        };
        let evaluation = self.ctx.evaluate(&after)?;
        match edit {
            Edit::Undo => {
                st.undo.pop();
                st.redo.push(before);
            }
            Edit::Redo => {
                st.redo.pop();
                st.undo.push(before);
            }
            _ => {
                st.undo.push(before);
                st.redo.clear();
            }
        }
        st.version += 1;
        let version = st.version;
        st.history.push(HistoryEntry { version, time: now(), edit, pass: evaluation.pass });
        st.waypoints = after;
        st.evaluation = evaluation;
        Ok(st)
    }
}

fn too_many(n: usize) -> ReviewError {
    ReviewError::BadRequest(format!(
        "{n} waypoints is too many: a review takes at most {MAX_WAYPOINTS}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_are_thinned_keeping_both_ends() {
        let coords: Vec<[f64; 2]> = (0..1000).map(|i| [f64::from(i), 0.123_456_7]).collect();
        let g = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": coords}}
        ]});
        let t = thin_tracks(&g.to_string(), 100);
        let c = t.pointer("/features/0/geometry/coordinates").unwrap().as_array().unwrap();
        assert!(c.len() <= 101 && c.len() >= 99, "{}", c.len());
        assert_eq!(c[0], serde_json::json!([0.0, 0.123]));
        assert_eq!(c.last().unwrap(), &serde_json::json!([999.0, 0.123]));
    }

    #[test]
    fn edits_parse_strictly() {
        let e: Edit = serde_json::from_str(r#"{"op":"move","index":2,"x":1.5,"y":-3}"#).unwrap();
        assert_eq!(e, Edit::Move { index: 2, x: 1.5, y: -3.0 });
        assert!(serde_json::from_str::<Edit>(r#"{"op":"move","index":2,"x":1}"#).is_err());
        assert!(serde_json::from_str::<Edit>(r#"{"op":"fly","index":2}"#).is_err());
        assert!(serde_json::from_str::<Edit>(r#"{"op":"move","index":2,"x":NaN,"y":1}"#).is_err());
        assert_eq!(serde_json::from_str::<Edit>(r#"{"op":"undo"}"#).unwrap(), Edit::Undo);
    }
}
