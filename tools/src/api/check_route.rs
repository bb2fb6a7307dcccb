//! `check_route`: a dry run of the safety checker, so the model can critique its own draft.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{finite_waypoints, PointM};
use super::{Tool, ToolCallError, ToolOutput, Toolbox};
use crate::checker::{Verdict, Violation};

/// Runs the safety checker on a draft route without submitting it: the same rules, limits
/// and verdict the submitted route will face (start and goal, waypoint spacing, drive budget,
/// tilt, steps, belly clearance, hazards, keep-out, keep-in, known terrain). Returns pass or
/// fail and every violation with its segment, place, measured value and limit. Check before you
/// submit, and fix every violation it names.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRouteArgs {
    /// The route's waypoints in driving order, map metres, starting at the rover's position.
    pub waypoints: Vec<PointM>,
}

/// A violation, compactly.
#[derive(Debug, Clone, Serialize)]
pub struct ViolationOut {
    /// The rule broken.
    pub rule: String,
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
}

impl CheckRouteResult {
    /// The compact form of a verdict.
    #[must_use]
    pub fn from_verdict(v: &Verdict) -> Self {
        let out = |x: &Violation| ViolationOut {
            rule: x.rule.clone(),
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
        }
    }
}

/// The `check_route` tool.
pub struct CheckRoute;

impl Tool for CheckRoute {
    const NAME: &'static str = "check_route";
    type Args = CheckRouteArgs;

    fn run(toolbox: &Toolbox, a: CheckRouteArgs) -> Result<ToolOutput, ToolCallError> {
        let pts = finite_waypoints(&a.waypoints)?;
        let verdict = toolbox.checker().check(toolbox.mission(), &pts)?;
        ToolOutput::json(&CheckRouteResult::from_verdict(&verdict))
    }
}
