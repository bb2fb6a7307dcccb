//! `path_cost`: the cost of a polyline under the planner's cost model, segment by segment.

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::{echo_into, finite_waypoints, PointM};
use super::{Tool, ToolCallError, ToolOutput, Toolbox};

/// The cost of a route under the baseline planner's cost model: per metre, 1.0 on flat smooth
/// ground, more on slopes, rough or rocky ground and outcrop, infinite (null) where the rover
/// could break a safety rule. Returns the total, the length, and for every segment its cost,
/// whether it is feasible, and its worst cell (where and why). Compare alternative routes with
/// it: a lower total is easier driving; the baseline planner's optimum is the yardstick.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathCostArgs {
    /// The route's waypoints in driving order (1 to 1000): map metres, or pixels or candidates
    /// of tiles you were shown (echoed back in metres as `resolved`).
    pub waypoints: Vec<PointM>,
}

/// The `path_cost` tool.
pub struct PathCostTool;

impl Tool for PathCostTool {
    const NAME: &'static str = "path_cost";
    type Args = PathCostArgs;

    fn run(toolbox: &Toolbox, a: PathCostArgs) -> Result<ToolOutput, ToolCallError> {
        let pts = finite_waypoints(toolbox, &a.waypoints)?;
        let grid = toolbox.cost_grid()?;
        let cost = grid.path_cost(&pts)?;
        let mut out = ToolOutput::json(&cost)?;
        echo_into(&mut out, &a.waypoints.iter().collect::<Vec<_>>(), &pts);
        Ok(out)
    }
}
