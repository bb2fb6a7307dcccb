//! The baseline planner's answer for a sol, as the offline policies use it.
//!
//! Planning a sol takes from a fraction of a second to tens of seconds (a debug build on a
//! large corridor), so evals plan each sol once and hand the answer to every attempt of the
//! `reference` and `noisy` policies instead of letting each attempt plan again.

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::cost::{Constraint, CostGrid};
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
    ///
    /// The planner answers to the safety checker only; the run must also pass the digital twin.
    /// So each route is driven in the twin, and where the twin refuses it (a rocker or bogie
    /// angle, a wheel drop, the belly clearance: things the checker's rigid footprint does not
    /// see), the cells within [`TWIN_AVOID_M`] of each violation are blocked and the planner
    /// asked again, up to [`TWIN_ROUNDS`] times. Blocking only removes ground, so this never
    /// makes a route the gates refuse pass; it only finds the route they accept.
    #[must_use]
    pub fn plan_with(toolbox: &Toolbox) -> Baseline {
        let mut grid = match toolbox.cost_grid() {
            Ok(g) => (*g).clone(),
            Err(e) => return Baseline::NoRoute(format!("the planner failed: {e}")),
        };
        let checker = toolbox.checker();
        let mut round = 0;
        // The last route the checker passed: when avoiding the twin's refusals leaves no
        // route, it is the planner's answer (the twin will refuse it, and say why).
        let mut last: Option<breadcrumb_tools::Result<PlanOutcome>> = None;
        loop {
            let outcome = plan_on_grid(
                grid.clone(),
                &toolbox.bundle().dem,
                &checker,
                toolbox.profile(),
                toolbox.mission(),
                &PlannerOptions::default(),
            );
            let Ok(PlanOutcome::Route(r)) = &outcome else {
                return Baseline::from_outcome(last.unwrap_or(outcome));
            };
            let drive = toolbox.twin(&r.waypoints);
            if drive.verdict.pass || round == TWIN_ROUNDS {
                return Baseline::from_outcome(outcome);
            }
            round += 1;
            let mut blocked = 0;
            // Only refusals with a place: the drive time is the whole route's.
            for v in drive.verdict.violations.iter().filter(|v| v.rule != "drive_time") {
                blocked += block_near(&mut grid, (v.x, v.y), TWIN_AVOID_M);
            }
            if blocked == 0 {
                return Baseline::from_outcome(outcome);
            }
            last = Some(outcome);
        }
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

/// Times the reference policy re-plans around the digital twin's refusals.
pub const TWIN_ROUNDS: usize = 6;
/// Radius around a twin violation the re-plan avoids, metres: the rover's half length, so the
/// footprint no longer covers the place.
pub const TWIN_AVOID_M: f64 = 2.5;

/// Blocks (as places the gates refused) the feasible cells of `grid` whose centres lie within
/// `radius_m` of `at`; returns how many were newly blocked.
fn block_near(grid: &mut CostGrid, at: Pt, radius_m: f64) -> usize {
    if !(at.0.is_finite() && at.1.is_finite()) {
        return 0;
    }
    let t = grid.transform();
    let (dx, dy) = t.resolution();
    let (c, r) = t.to_cell(at.0, at.1);
    let (rc, rr) = ((radius_m / dx).ceil() as i64 + 1, (radius_m / dy).ceil() as i64 + 1);
    let mut n = 0;
    for row in (r.floor() as i64 - rr)..=(r.floor() as i64 + rr) {
        for col in (c.floor() as i64 - rc)..=(c.floor() as i64 + rc) {
            let Some(i) = grid.index(col, row) else { continue };
            let p = grid.centre(i);
            if (p.0 - at.0).hypot(p.1 - at.1) <= radius_m && grid.blocked()[i].is_empty() {
                grid.block(i, Constraint::Checker);
                n += 1;
            }
        }
    }
    n
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
