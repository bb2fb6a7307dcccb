//! The `reference` provider: an offline, deterministic policy that is **not a language model**.
//!
//! It plays an agent's part through the very same loop, tools and checker as a real model, so
//! the README's first command shows the whole machinery with no key and no network:
//!
//! 1. looks at the corridor (`view_tile`, slope layer) and asks `hazard_lookup` at the start and
//!    the goal;
//! 2. takes the baseline planner's route ([`breadcrumb_tools::planner`]) and dry-runs it with
//!    `check_route` and `path_cost`;
//! 3. submits it with `submit_route` when the dry run passed.
//!
//! When the planner finds no safe route it says why, in text, and submits nothing. Its state is
//! read from the conversation itself (how many turns it has taken and what the tools
//! answered), so it is a pure function of the request, as a replayed model would be.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::terrain::LoadedSol;
use serde_json::json;

use crate::provider::baseline::Baseline;
use crate::provider::{
    Content, ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind, ToolCall,
};

/// Says what this provider is, in every turn's text.
pub const DISCLAIMER: &str =
    "[reference policy: deterministic baseline planner, not a language model]";

/// The reference policy for one sol.
#[derive(Debug)]
pub struct ReferenceProvider {
    sol: LoadedSol,
    planned: Arc<OnceLock<Baseline>>,
    /// When set, the planner plans on this toolbox's cost grid, the one the session's
    /// `path_cost` uses, so the grid is built once per run instead of twice.
    toolbox: Option<Arc<Toolbox>>,
}

impl ReferenceProvider {
    /// The policy for `sol` (the planner runs on its second turn, once).
    #[must_use]
    pub fn new(sol: &LoadedSol) -> Self {
        ReferenceProvider { sol: sol.clone(), planned: Arc::new(OnceLock::new()), toolbox: None }
    }

    /// The policy for `sol` with the baseline planner's answer already known (evals plan each
    /// sol once for all its attempts).
    #[must_use]
    pub fn with_baseline(sol: &LoadedSol, baseline: Baseline) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(baseline);
        ReferenceProvider { sol: sol.clone(), planned: Arc::new(cell), toolbox: None }
    }

    /// The policy for the toolbox's sol, planning (once, on its second turn) on the toolbox's
    /// cost grid; give the session the same toolbox.
    #[must_use]
    pub fn with_toolbox(toolbox: Arc<Toolbox>) -> Self {
        ReferenceProvider {
            sol: toolbox.sol().clone(),
            planned: Arc::new(OnceLock::new()),
            toolbox: Some(toolbox),
        }
    }

    fn plan(&self) -> Baseline {
        self.planned
            .get_or_init(|| match &self.toolbox {
                Some(t) => Baseline::plan_with(t),
                None => Baseline::plan(&self.sol),
            })
            .clone()
    }
}

fn call(turn: usize, i: usize, name: &str, arguments: serde_json::Value) -> ToolCall {
    ToolCall { id: format!("ref_{turn}_{i}"), name: name.to_owned(), arguments }
}

fn waypoints_json(w: &[(f64, f64)]) -> serde_json::Value {
    w.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect()
}

/// Whether the latest `check_route` result in the conversation passed.
fn last_check_passed(request: &ModelRequest) -> bool {
    let mut check_ids = Vec::new();
    for m in &request.messages {
        for c in &m.content {
            if let Content::ToolCall(tc) = c {
                if tc.name == "check_route" {
                    check_ids.push(tc.id.clone());
                }
            }
        }
    }
    let Some(id) = check_ids.last() else { return false };
    request.messages.iter().rev().flat_map(|m| m.content.iter()).any(|c| match c {
        Content::ToolResult(r) if &r.call_id == id && !r.is_error => {
            serde_json::from_str::<serde_json::Value>(&r.content)
                .is_ok_and(|v| v["pass"] == json!(true))
        }
        _ => false,
    })
}

#[async_trait::async_trait]
impl Provider for ReferenceProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Reference
    }

    fn model(&self) -> &'static str {
        "reference"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let started = Instant::now();
        let turn = crate::provider::baseline::assistant_turns(request);
        let s = &self.sol.sol;
        let (text, tool_calls) = match turn {
            0 => {
                let (cx, cy) =
                    (f64::midpoint(s.start.x, s.goal.x), f64::midpoint(s.start.y, s.goal.y));
                let size = (s.start_goal_distance_m() + 40.0).max(60.0);
                (
                    "Surveying the corridor: the slope layer over the whole drive, and the \
                     hazards around the start and the goal."
                        .to_owned(),
                    vec![
                        call(
                            turn,
                            0,
                            "view_tile",
                            json!({"centre_x_m": cx, "centre_y_m": cy, "size_m": size, "layer": "slope"}),
                        ),
                        call(
                            turn,
                            1,
                            "hazard_lookup",
                            json!({"x_m": s.start.x, "y_m": s.start.y, "radius_m": 25.0}),
                        ),
                        call(
                            turn,
                            2,
                            "hazard_lookup",
                            json!({"x_m": s.goal.x, "y_m": s.goal.y, "radius_m": 25.0}),
                        ),
                    ],
                )
            }
            1 => {
                let sol = self.sol.clone();
                let planned = Arc::clone(&self.planned);
                let me = ReferenceProvider { sol, planned, toolbox: self.toolbox.clone() };
                let plan = tokio::task::spawn_blocking(move || me.plan()).await.map_err(|e| {
                    ProviderError::BadResponse {
                        provider: ProviderKind::Reference,
                        endpoint: "local".into(),
                        detail: format!("planner task failed: {e}"),
                    }
                })?;
                match plan {
                    Baseline::Route { waypoints, length_m, cost } => (
                        format!(
                            "The baseline planner's optimal route has {} waypoints, {length_m:.1} m, \
                             cost {cost:.1}. Dry-running it through the checker.",
                            waypoints.len()
                        ),
                        vec![
                            call(turn, 0, "check_route", json!({"waypoints": waypoints_json(&waypoints)})),
                            call(turn, 1, "path_cost", json!({"waypoints": waypoints_json(&waypoints)})),
                        ],
                    ),
                    Baseline::NoRoute(reason) => (no_route(&reason), vec![]),
                }
            }
            2 => match self.plan() {
                Baseline::Route { waypoints, length_m, .. } if last_check_passed(request) => (
                    "check_route passed; submitting.".to_owned(),
                    vec![call(
                        turn,
                        0,
                        "submit_route",
                        json!({
                            "waypoints": waypoints_json(&waypoints),
                            "rationale": format!(
                                "The cost-optimal route of the baseline planner ({length_m:.1} m), \
                                 simplified to waypoints the safety checker passes."
                            ),
                        }),
                    )],
                ),
                Baseline::Route { .. } => {
                    ("The dry run failed; I have no better route.".to_owned(), vec![])
                }
                Baseline::NoRoute(reason) => (no_route(&reason), vec![]),
            },
            _ => match self.planned.get() {
                Some(Baseline::NoRoute(reason)) => (no_route(reason), vec![]),
                _ => ("I have nothing further to offer.".to_owned(), vec![]),
            },
        };
        Ok(crate::provider::baseline::offline_reply(
            "reference",
            DISCLAIMER,
            &text,
            tool_calls,
            started,
        ))
    }
}

/// The planner's refusal as the policy says it.
fn no_route(reason: &str) -> String {
    if reason.to_lowercase().starts_with("no safe route") {
        reason.to_owned()
    } else {
        format!("No safe route: {reason}")
    }
}
