//! What a campaign writes: `campaign.json` (the spec, the strategic route, one record per
//! sol, the summary) and `campaign.geojson` (the route, the sols and their ends, for QGIS).
//!
//! `campaign.json` is rewritten atomically (temporary file, then rename) after every sol, so a
//! crash leaves the last complete state, which is what resuming reads.

use std::path::{Path, PathBuf};

use breadcrumb_tools::campaign::{CoarseRoute, SafeStopRules, StopVerdict};
use breadcrumb_tools::checker::Pt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::CampaignError;

/// What the campaign was asked: resuming requires the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSpec {
    /// Terrain bundle directory (absolute).
    pub site: PathBuf,
    /// Rover profile TOML (absolute).
    pub rover: PathBuf,
    /// Start x, y (map metres) and heading (degrees clockwise from north).
    pub start: [f64; 3],
    /// Goal x, y, map metres.
    pub goal: [f64; 2],
    /// How close to the goal the campaign must end, metres.
    pub goal_tolerance_m: f64,
    /// Most metres driven in one sol.
    pub sol_budget_m: f64,
    /// The model's name in models.toml.
    pub model: String,
    /// The prompt version.
    pub prompt: String,
    /// Side of the strategic grid's cells, metres.
    pub coarse_cell_m: f64,
    /// Half-width of each sol's corridor around the strategic route, metres.
    pub corridor_m: f64,
    /// Share of the sol budget the strategic route advances per sol.
    pub advance: f64,
    /// Most sols.
    pub max_sols: usize,
}

/// How a sol ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolStatus {
    /// Accepted by the checker and the twin, and ended on a safe stop.
    Accepted,
    /// The loop refused every route (the checker, the twin or the model's budgets).
    Rejected,
    /// Accepted, but the end pose failed the safe-stop rules.
    UnsafeStop,
    /// The run failed with an error.
    Error,
}

/// One sol of the campaign.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SolRecord {
    /// 1-based.
    pub number: usize,
    /// The sol's id (its run directory's name under `sols/`).
    pub id: String,
    /// How it ended.
    pub status: SolStatus,
    /// Why, in a sentence (the run's reason).
    pub reason: String,
    /// Start pose: x, y, heading.
    pub start: [f64; 3],
    /// The safe stop chosen as the sol's goal, as judged before the drive.
    pub planned_stop: StopVerdict,
    /// The end pose driven: x, y, heading (accepted sols).
    pub end: Option<[f64; 3]>,
    /// The end pose judged as a stop (accepted sols).
    pub end_stop: Option<StopVerdict>,
    /// Waypoints of the last submitted route, map metres.
    pub waypoints: Vec<Pt>,
    /// Length driven, metres.
    pub length_m: Option<f64>,
    /// The twin's drive time, seconds.
    pub drive_s: Option<f64>,
    /// The twin's drive window, seconds.
    pub drive_window_s: Option<f64>,
    /// The checker passed the last route.
    pub checker_pass: Option<bool>,
    /// The twin passed it.
    pub twin_pass: Option<bool>,
    /// Routes submitted.
    pub submits: u32,
    /// The first one was accepted.
    pub accepted_first_submit: bool,
    /// Input plus output tokens.
    pub tokens: u64,
    /// USD spent.
    pub cost_usd: f64,
    /// Wall time of the loop, seconds.
    pub elapsed_s: f64,
    /// The run directory, relative to the campaign's.
    pub run_dir: PathBuf,
    /// Earlier attempts at this sol the loop refused: their run directories and reasons.
    #[serde(default)]
    pub earlier_attempts: Vec<String>,
}

/// The campaign's totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// `running`, `reached`, `stopped` (a sol failed) or `error`.
    pub state: String,
    /// Why, in a sentence.
    pub reason: String,
    /// Whether the goal was reached.
    pub reached: bool,
    /// Sols accepted.
    pub sols_accepted: usize,
    /// Sols run (accepted or not).
    pub sols_run: usize,
    /// Kilometres driven (accepted sols).
    pub km: f64,
    /// Hours of driving in the twin (accepted sols).
    pub drive_hours: f64,
    /// Length of the strategic route, km.
    pub strategic_km: f64,
    /// Distance left to the goal from the last end pose, metres.
    pub distance_to_goal_m: f64,
    /// Share of sols accepted on their first submission.
    pub first_submit_rate: f64,
    /// Tokens spent (the sols', and the strategic conversation's).
    pub tokens: u64,
    /// USD spent (the sols', and the strategic conversation's).
    pub cost_usd: f64,
}

/// `campaign.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignRecord {
    /// Format version.
    pub version: u32,
    /// What was asked.
    pub spec: CampaignSpec,
    /// The safe-stop rules every sol's end was judged by.
    pub safe_stop_rules: SafeStopRules,
    /// The strategic route.
    pub strategic: CoarseRoute,
    /// Who made the strategic route: `coarse-planner`, or `model` (the model's corridor,
    /// checked at coarse scale; a route planned again around refused stretches is the coarse
    /// planner's again).
    pub strategic_source: String,
    /// The model's strategic conversation, when a model was asked for a corridor: its
    /// attempts, whether one was used and why, tokens and USD (also in the summary's totals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategic_model: Option<super::StrategicRecord>,
    /// Strategic routes planned earlier, each replaced when a sol could reach no stop on it
    /// (the newer one starts where that sol started).
    #[serde(default)]
    pub earlier_strategic: Vec<CoarseRoute>,
    /// The sols, in order.
    pub sols: Vec<SolRecord>,
    /// Totals.
    pub summary: Summary,
}

impl CampaignRecord {
    /// Reads `campaign.json` from `dir`, if there is one.
    pub fn load(dir: &Path) -> Result<Option<CampaignRecord>, CampaignError> {
        let p = dir.join("campaign.json");
        if !p.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&p).map_err(|e| CampaignError::io(&p, &e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CampaignError::Bad(format!("{}: not a campaign record: {e}", p.display())))
    }

    /// Writes `campaign.json` and `campaign.geojson` into `dir`, each atomically.
    pub fn save(&self, dir: &Path) -> Result<(), CampaignError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CampaignError::Bad(format!("campaign record: {e}")))?;
        write_atomic(&dir.join("campaign.json"), text.as_bytes())?;
        let gj = serde_json::to_string_pretty(&self.geojson())
            .map_err(|e| CampaignError::Bad(format!("campaign GeoJSON: {e}")))?;
        write_atomic(&dir.join("campaign.geojson"), gj.as_bytes())
    }

    /// Recomputes the summary from the sols.
    pub fn summarise(&mut self, state: &str, reason: &str) {
        let ok: Vec<&SolRecord> =
            self.sols.iter().filter(|s| s.status == SolStatus::Accepted).collect();
        let end = ok
            .last()
            .and_then(|s| s.end)
            .map_or((self.spec.start[0], self.spec.start[1]), |e| (e[0], e[1]));
        let dist = (end.0 - self.spec.goal[0]).hypot(end.1 - self.spec.goal[1]);
        let run = self.sols.len();
        self.summary = Summary {
            state: state.to_owned(),
            reason: reason.to_owned(),
            reached: dist <= self.spec.goal_tolerance_m,
            sols_accepted: ok.len(),
            sols_run: run,
            km: ok.iter().filter_map(|s| s.length_m).sum::<f64>() / 1000.0,
            drive_hours: ok.iter().filter_map(|s| s.drive_s).sum::<f64>() / 3600.0,
            strategic_km: self.strategic.length_m / 1000.0,
            distance_to_goal_m: dist,
            first_submit_rate: if run == 0 {
                0.0
            } else {
                self.sols.iter().filter(|s| s.accepted_first_submit).count() as f64 / run as f64
            },
            tokens: self.sols.iter().map(|s| s.tokens).sum::<u64>()
                + self.strategic_model.as_ref().map_or(0, super::StrategicRecord::tokens),
            cost_usd: self.sols.iter().map(|s| s.cost_usd).sum::<f64>()
                + self.strategic_model.as_ref().map_or(0.0, |m| m.cost_usd),
        };
    }

    /// The campaign as GeoJSON in map metres (the site's CRS, as every GeoJSON breadcrumb
    /// writes): the strategic route, each sol's route, each sol's end, the start and the goal.
    #[must_use]
    pub fn geojson(&self) -> Value {
        let line = |pts: &[Pt]| pts.iter().map(|p| json!([mm(p.0), mm(p.1)])).collect::<Vec<_>>();
        let mut features = vec![json!({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line(&self.strategic.route)},
            "properties": {"kind": "strategic", "length_m": mm(self.strategic.length_m),
                            "cell_m": self.strategic.cell_m, "source": self.strategic_source},
        })];
        for s in &self.sols {
            if s.waypoints.len() >= 2 {
                features.push(json!({
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": line(&s.waypoints)},
                    "properties": {"kind": "sol", "sol": s.number, "id": s.id,
                                    "status": s.status, "length_m": s.length_m.map(mm),
                                    "drive_s": s.drive_s.map(mm)},
                }));
            }
            if let (Some(e), Some(stop)) = (s.end, &s.end_stop) {
                features.push(json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [mm(e[0]), mm(e[1])]},
                    "properties": {"kind": "sol_end", "sol": s.number, "heading_deg": mm(e[2]),
                                    "safe": stop.safe, "max_tilt_deg": stop.max_tilt_deg.map(mm),
                                    "nearest_hazard_m": stop.nearest_hazard_m.map(mm)},
                }));
            }
        }
        let sp = &self.spec;
        for (kind, x, y) in [("start", sp.start[0], sp.start[1]), ("goal", sp.goal[0], sp.goal[1])]
        {
            features.push(json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [mm(x), mm(y)]},
                "properties": {"kind": kind},
            }));
        }
        json!({"type": "FeatureCollection", "features": features})
    }
}

/// Rounds to the millimetre (stable, readable JSON).
fn mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// readers see the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CampaignError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| CampaignError::io(&tmp, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| CampaignError::io(path, &e))
}
