//! The baseline planner's answer for a sol, as the offline policies use it.
//!
//! Planning a sol takes from a fraction of a second to tens of seconds (a debug build on a
//! large corridor), so evals plan each sol once and hand the answer to every attempt of the
//! `reference` and `noisy` policies instead of letting each attempt plan again.

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::planner::{plan_on_grid, plan_sol, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::LoadedSol;

/// The baseline planner's route for a sol, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// A route the checker passes.
    Route {
        /// The waypoints (the exact start first).
        waypoints: Vec<Pt>,
        /// Its length, metres.
        length_m: f64,
        /// Its traversal cost on the planner's cost model.
        cost: f64,
    },
    /// No safe route, and why.
    NoRoute(String),
}

impl Baseline {
    /// Plans `sol` with the baseline planner (a planner failure counts as no route).
    #[must_use]
    pub fn plan(sol: &LoadedSol) -> Baseline {
        Baseline::from_outcome(plan_sol(sol, &PlannerOptions::default()))
    }

    /// Plans the toolbox's sol on the toolbox's own cost grid (built once and kept there for
    /// `path_cost`), so a run that plans and then prices routes builds the grid once.
    #[must_use]
    pub fn plan_with(toolbox: &Toolbox) -> Baseline {
        let grid = match toolbox.cost_grid() {
            Ok(g) => (*g).clone(),
            Err(e) => return Baseline::NoRoute(format!("the planner failed: {e}")),
        };
        let checker = toolbox.checker();
        Baseline::from_outcome(plan_on_grid(
            grid,
            &toolbox.bundle().dem,
            &checker,
            toolbox.profile(),
            toolbox.mission(),
            &PlannerOptions::default(),
        ))
    }

    /// The baseline of a planner outcome (a planner failure counts as no route).
    #[must_use]
    pub fn from_outcome(outcome: breadcrumb_tools::Result<PlanOutcome>) -> Baseline {
        match outcome {
            Ok(PlanOutcome::Route(r)) => {
                Baseline::Route { waypoints: r.waypoints, length_m: r.length_m, cost: r.cost }
            }
            Ok(PlanOutcome::NoSafeRoute { reason, .. }) => Baseline::NoRoute(reason),
            Err(e) => Baseline::NoRoute(format!("the planner failed: {e}")),
        }
    }

    /// The route's waypoints, when there is one.
    #[must_use]
    pub fn waypoints(&self) -> Option<&[Pt]> {
        match self {
            Baseline::Route { waypoints, .. } => Some(waypoints),
            Baseline::NoRoute(_) => None,
        }
    }

    /// The route's cost, when there is one.
    #[must_use]
    pub fn cost(&self) -> Option<f64> {
        match self {
            Baseline::Route { cost, .. } => Some(*cost),
            Baseline::NoRoute(_) => None,
        }
    }
}

/// The offline policies' answer for a turn: their disclaimer and `text`, the tools they call,
/// no tokens, the stop reason their calls imply, and the time they took since `started`.
#[must_use]
pub fn offline_reply(
    model: &str,
    disclaimer: &str,
    text: &str,
    tool_calls: Vec<crate::provider::ToolCall>,
    started: std::time::Instant,
) -> crate::provider::ModelResponse {
    use crate::provider::{StopReason, Usage};
    let stop_reason = if tool_calls.is_empty() { StopReason::EndTurn } else { StopReason::ToolUse };
    crate::provider::ModelResponse {
        text: format!("{disclaimer} {text}"),
        tool_calls,
        usage: Some(Usage::default()),
        stop_reason,
        latency: started.elapsed(),
        model: Some(model.to_owned()),
    }
}

/// How many turns the model has taken in the conversation so far (its assistant messages):
/// the offline policies read their state from the request, like a replayed model.
#[must_use]
pub fn assistant_turns(request: &crate::provider::ModelRequest) -> usize {
    request.messages.iter().filter(|m| m.role == crate::provider::Role::Assistant).count()
}
