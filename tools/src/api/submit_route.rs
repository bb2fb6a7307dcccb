//! `submit_route`: the model's final answer. The loop takes the waypoints, ends the turn and
//! runs the real safety check; the tool itself only validates the shape.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{echo_into, finite_waypoints, PointM};
use super::{Effect, Tool, ToolCallError, ToolOutput, Toolbox};

/// Submits the final route. It is then checked by the safety checker: if it passes it is the
/// plan; if it fails you receive the violations and may revise and submit again (a limited
/// number of times). Check with `check_route` first.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRouteArgs {
    /// The route's waypoints in driving order: the first at the rover's start, the last within
    /// the goal tolerance, consecutive waypoints no farther apart than the spacing limit. Map
    /// metres, or pixels or candidates of tiles you were shown (echoed back in metres as
    /// `resolved`; the plan keeps the metres).
    pub waypoints: Vec<PointM>,
    /// Why this route: the hazards it avoids and the choices made (kept with the plan).
    #[serde(default)]
    pub rationale: Option<String>,
}

/// The acknowledgement.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitRouteResult {
    /// Always true: the route was received and goes to the safety checker.
    pub submitted: bool,
    /// Waypoints received.
    pub waypoints: usize,
}

/// The `submit_route` tool.
pub struct SubmitRoute;

impl Tool for SubmitRoute {
    const NAME: &'static str = "submit_route";
    type Args = SubmitRouteArgs;

    fn run(toolbox: &Toolbox, a: SubmitRouteArgs) -> Result<ToolOutput, ToolCallError> {
        let pts = finite_waypoints(toolbox, &a.waypoints)?;
        let mut out =
            ToolOutput::json(&SubmitRouteResult { submitted: true, waypoints: pts.len() })?;
        echo_into(&mut out, &a.waypoints.iter().collect::<Vec<_>>(), &pts);
        out.effect = Some(Effect::Submit { waypoints: pts });
        Ok(out)
    }
}
