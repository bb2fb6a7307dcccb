//! `check_route`: a dry run of the safety checker, so the model can critique its own draft.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{echo_into, finite_waypoints, PointM};
use super::{Tool, ToolCallError, ToolOutput, Toolbox};
use crate::checker::{Verdict, Violation};
use crate::twin::TwinVerdict;

/// Runs the safety checker and the digital twin on a draft route without submitting it: the
/// same rules, limits and verdicts the submitted route will face (checker: start and goal,
/// waypoint spacing, drive budget, tilt, steps, belly clearance, hazards, keep-out, keep-in,
/// known terrain; twin: the rocker-bogie rover driven over the terrain, its tilt, bogie and
/// differential angles, wheel drops, belly clearance and drive time). Returns pass or fail and
/// every violation with its segment, place, measured value and limit. Check before you submit,
/// and fix every violation it names.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRouteArgs {
    /// The route's waypoints in driving order, starting at the rover's position: map metres,
    /// or pixels or candidates of tiles you were shown (echoed back in metres as `resolved`).
    pub waypoints: Vec<PointM>,
}

/// A violation, compactly.
#[derive(Debug, Clone, Serialize)]
pub struct ViolationOut {
    /// The rule broken.
    pub rule: String,
    /// The twin's drive-sequence command (absent for the checker's violations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<usize>,
    /// The segment (waypoint i to i + 1), or null for the plan as a whole.
    pub segment: Option<usize>,
    /// Map x of the worst place, metres.
    pub x_m: f64,
    /// Map y of the worst place, metres.
    pub y_m: f64,
    /// What was measured there.
    pub measured: f64,
    /// The limit.
    pub limit: f64,
    /// Unit of measured and limit.
    pub unit: String,
    /// What is wrong, in words.
    pub message: String,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRouteResult {
    /// True when every rule passes: the route would be accepted.
    pub pass: bool,
    /// Route length, metres.
    pub length_m: f64,
    /// The drive budget, metres.
    pub drive_budget_m: f64,
    /// Largest tilt along the route, degrees.
    pub max_tilt_deg: Option<f64>,
    /// Smallest clearance from a blocking hazard, metres.
    pub min_hazard_clearance_m: Option<f64>,
    /// Violations, rule by rule (at most 100 per rule; `violation_count` is complete).
    pub violations: Vec<ViolationOut>,
    /// Total violations.
    pub violation_count: usize,
    /// The digital twin's answer on the same route (the second gate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twin: Option<TwinOut>,
}

/// Most twin violations a model is shown (the count stays complete).
pub const MAX_TWIN_VIOLATIONS_SHOWN: usize = 20;

/// The twin's verdict, compact: pass, margins, and what broke.
#[derive(Debug, Clone, Serialize)]
pub struct TwinOut {
    /// True when no twin limit broke.
    pub pass: bool,
    /// Drive time, seconds (2 decimals).
    pub duration_s: f64,
    /// The sol's drive window, seconds.
    pub drive_window_s: f64,
    /// Worst chassis tilt, degrees.
    pub max_tilt_deg: Option<f64>,
    /// Worst bogie angle, degrees.
    pub max_bogie_deg: Option<f64>,
    /// Worst differential angle, degrees.
    pub max_differential_deg: Option<f64>,
    /// Worst wheel drop between poses, metres.
    pub max_wheel_drop_m: Option<f64>,
    /// Smallest belly clearance (lower bound), metres.
    pub min_clearance_m: Option<f64>,
    /// The first violations.
    pub violations: Vec<ViolationOut>,
    /// All violations.
    pub violation_count: usize,
}

impl TwinOut {
    /// The compact form of `v`.
    #[must_use]
    pub fn from_verdict(v: &TwinVerdict) -> Self {
        let r2 = |x: f64| (x * 100.0).round() / 100.0;
        let worst = |id: &str| v.worst(id).map(|w| (w * 1e4).round() / 1e4);
        TwinOut {
            pass: v.pass,
            duration_s: r2(v.summary.duration_s),
            drive_window_s: v.summary.drive_window_s,
            max_tilt_deg: worst("chassis_tilt"),
            max_bogie_deg: worst("bogie"),
            max_differential_deg: worst("differential"),
            max_wheel_drop_m: worst("wheel_drop"),
            min_clearance_m: worst("belly_clearance"),
            violations: v
                .violations
                .iter()
                .take(MAX_TWIN_VIOLATIONS_SHOWN)
                .map(|x| ViolationOut {
                    rule: x.rule.clone(),
                    command: x.command,
                    segment: x.segment,
                    x_m: r2(x.x),
                    y_m: r2(x.y),
                    measured: (x.measured * 1e4).round() / 1e4,
                    limit: x.limit,
                    unit: x.unit.clone(),
                    message: x.message.clone(),
                })
                .collect(),
            violation_count: v.violation_count(),
        }
    }
}

impl CheckRouteResult {
    /// The compact form of a verdict.
    #[must_use]
    pub fn from_verdict(v: &Verdict) -> Self {
        let out = |x: &Violation| ViolationOut {
            rule: x.rule.clone(),
            command: None,
            segment: x.segment,
            x_m: (x.x * 100.0).round() / 100.0,
            y_m: (x.y * 100.0).round() / 100.0,
            measured: (x.measured * 1e4).round() / 1e4,
            limit: x.limit,
            unit: x.unit.clone(),
            message: x.message.clone(),
        };
        CheckRouteResult {
            pass: v.pass,
            length_m: (v.summary.length_m * 100.0).round() / 100.0,
            drive_budget_m: v.summary.drive_budget_m,
            max_tilt_deg: v.summary.max_tilt_deg.map(|t| (t * 100.0).round() / 100.0),
            min_hazard_clearance_m: v
                .summary
                .min_hazard_clearance_m
                .map(|t| (t * 100.0).round() / 100.0),
            violations: v.violations.iter().map(out).collect(),
            violation_count: v.violation_count(),
            twin: None,
        }
    }

    /// The checker's verdict and the twin's, together: `pass` only when both pass.
    #[must_use]
    pub fn with_twin(mut self, twin: &TwinVerdict) -> Self {
        self.pass = self.pass && twin.pass;
        self.twin = Some(TwinOut::from_verdict(twin));
        self
    }
}

/// The `check_route` tool.
pub struct CheckRoute;

impl Tool for CheckRoute {
    const NAME: &'static str = "check_route";
    type Args = CheckRouteArgs;

    fn run(toolbox: &Toolbox, a: CheckRouteArgs) -> Result<ToolOutput, ToolCallError> {
        let pts = finite_waypoints(toolbox, &a.waypoints)?;
        let verdict = toolbox.checker().check(toolbox.mission(), &pts)?;
        let twin = toolbox.twin(&pts);
        let mut out =
            ToolOutput::json(&CheckRouteResult::from_verdict(&verdict).with_twin(&twin.verdict))?;
        echo_into(&mut out, &a.waypoints.iter().collect::<Vec<_>>(), &pts);
        Ok(out)
    }
}
