//! The `reference` provider: an offline, deterministic policy that is **not a language model**.
//!
//! It plays an agent's part through the very same loop, tools and checker as a real model, so
//! the README's first command shows the whole machinery with no key and no network:
//!
//! 1. looks at the corridor (`view_tile`, slope layer) and asks `hazard_lookup` at the start and
//!    the goal; its perception is the baseline terrain classifier
//!    ([`breadcrumb_tools::perception::classify`]): it marks what the classifier finds in the
//!    sol's area with `mark_hazards`, as a model marks what it sees (blocking classes first,
//!    the largest first, at most one call's worth);
//! 2. takes the baseline planner's route ([`breadcrumb_tools::planner`]), planned with its own
//!    marks as keep-outs, and dry-runs it with `check_route` and `path_cost`;
//! 3. submits it with `submit_route` when the dry run passed.
//!
//! When the planner finds no safe route it says why, in text, and submits nothing. Its state is
//! read from the conversation itself (how many turns it has taken and what the tools
//! answered), so it is a pure function of the request, as a replayed model would be.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::Mission;
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
    /// The baseline planner's answer without marks, when known ahead (evals): used when the
    /// classifier finds nothing to mark.
    given: Option<Baseline>,
    /// The `mark_hazards` arguments of its perception (empty: nothing found), made once.
    marks: Arc<OnceLock<Vec<serde_json::Value>>>,
}

impl ReferenceProvider {
    /// The policy for `sol` (the planner runs on its second turn, once).
    #[must_use]
    pub fn new(sol: &LoadedSol) -> Self {
        ReferenceProvider {
            sol: sol.clone(),
            planned: Arc::new(OnceLock::new()),
            toolbox: None,
            given: None,
            marks: Arc::new(OnceLock::new()),
        }
    }

    /// The policy for `sol` with the baseline planner's answer already known (evals plan each
    /// sol once for all its attempts).
    #[must_use]
    pub fn with_baseline(sol: &LoadedSol, baseline: Baseline) -> Self {
        ReferenceProvider { given: Some(baseline), ..ReferenceProvider::new(sol) }
    }

    /// The same policy planning (when its marks need a plan of their own) on a run over
    /// `site`'s shared terrain and cost grid instead of opening the sol again.
    #[must_use]
    pub fn on_site(self, site: Arc<Toolbox>) -> Self {
        ReferenceProvider { toolbox: Some(site), ..self }
    }

    /// The policy for the toolbox's sol, planning (once, on its second turn) on the toolbox's
    /// cost grid; give the session the same toolbox.
    #[must_use]
    pub fn with_toolbox(toolbox: Arc<Toolbox>) -> Self {
        ReferenceProvider::new(&toolbox.sol().clone()).on_site(toolbox)
    }

    /// Its perception: `mark_hazards` arguments for what the classifier finds (made once).
    fn marks(&self) -> Vec<serde_json::Value> {
        self.marks
            .get_or_init(|| {
                let opened;
                let bundle = match &self.toolbox {
                    Some(t) => t.bundle(),
                    None => match breadcrumb_tools::terrain::Bundle::open(&self.sol.bundle_dir) {
                        Ok(b) => {
                            opened = b;
                            &opened
                        }
                        Err(e) => {
                            tracing::warn!("reference perception: terrain does not open: {e}");
                            return Vec::new();
                        }
                    },
                };
                let clear = match &self.toolbox {
                    Some(t) => t.profile().hazard_buffer_m(),
                    None => breadcrumb_tools::terrain::RoverProfile::load(&self.sol.rover_path)
                        .map_or(f64::INFINITY, |p| p.hazard_buffer_m()),
                };
                perceive(bundle, &Mission::from_sol(&self.sol.sol), clear + 1.0)
            })
            .clone()
    }

    /// The baseline planner's route with its own marks as keep-outs: on a fresh run over the
    /// same site with the very marks it sends (through the same tool, so the same validation),
    /// which is what the session's checker will hold the route to.
    fn plan(&self) -> Baseline {
        self.planned
            .get_or_init(|| {
                let marks = self.marks();
                if marks.is_empty() {
                    return match (&self.given, &self.toolbox) {
                        (Some(b), _) => b.clone(),
                        (None, Some(t)) => Baseline::plan_with(t),
                        (None, None) => Baseline::plan(&self.sol),
                    };
                }
                let run = match &self.toolbox {
                    Some(t) => t.fresh(),
                    None => match Toolbox::open(&self.sol) {
                        Ok(t) => t,
                        Err(e) => {
                            return Baseline::NoRoute(format!("the terrain does not open: {e}"))
                        }
                    },
                };
                if let Err(e) = run.call("mark_hazards", &json!({ "marks": marks })) {
                    tracing::warn!("reference perception: marks refused: {e}");
                }
                Baseline::plan_with(&run)
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
                    "Surveying the corridor: the slope layer over the whole drive, the \
                     hazards around the start and the goal, and marking what the terrain \
                     classifier finds."
                        .to_owned(),
                    {
                        let mut calls = vec![
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
                        ];
                        let marks = self.marks();
                        if !marks.is_empty() {
                            calls.push(call(
                            turn,
                            3,
                            "view_tile",
                            json!({"centre_x_m": cx, "centre_y_m": cy, "size_m": size, "layer": "classes"}),
                        ));
                            calls.push(call(turn, 4, "mark_hazards", json!({ "marks": marks })));
                        }
                        calls
                    },
                )
            }
            1 => {
                let sol = self.sol.clone();
                let planned = Arc::clone(&self.planned);
                let me = ReferenceProvider {
                    sol,
                    planned,
                    toolbox: self.toolbox.clone(),
                    given: self.given.clone(),
                    marks: Arc::clone(&self.marks),
                };
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

/// Confidence the reference policy gives its marks: the classifier has none of its own.
const MARK_CONFIDENCE: f64 = 0.7;

/// The classes the reference policy marks: those the classifier is shown to find against
/// ground truth. `sand_ripple` reaches area IoU 0.77 against the Gale label and keeps every
/// real drive clear (docs/perception.md). Rock and boulder fields are over-predicted on
/// synthetic terrain (area IoU under 0.07) and scarps are the checker's own tilt rule, so
/// marking them would only wall off ground the rover may drive; the policy leaves them to the
/// checker, as a careful driver would leave a classifier's known false alarms.
const MARKED_CLASSES: [breadcrumb_tools::terrain::HazardClass; 1] =
    [breadcrumb_tools::terrain::HazardClass::SandRipple];

/// The classifier's findings over the mission's area, of the [`MARKED_CLASSES`], as
/// `mark_hazards` arguments: the largest first, at most one call's worth. An outline that
/// cannot be a mark (too small once simplified, say) is left out, and so is one within
/// `clear_m` of the start or the goal: the rover stands on the one and the operators chose the
/// other, so a patch there is the classifier's false alarm, not a reason to refuse the sol.
#[must_use]
pub fn perceive(
    bundle: &breadcrumb_tools::terrain::Bundle,
    mission: &Mission,
    clear_m: f64,
) -> Vec<serde_json::Value> {
    use breadcrumb_tools::checker::rules::hazards::blocks;
    use geo::Area;
    let extent = bundle.dem.extent();
    let window = breadcrumb_tools::cost::mission_window(mission, extent);
    let map = match breadcrumb_tools::perception::classify::classify(bundle, window) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("reference perception: classifier failed: {e}");
            return Vec::new();
        }
    };
    let mut found: Vec<(bool, f64, breadcrumb_tools::terrain::HazardClass, geo::Polygon<f64>)> =
        map.to_hazards()
            .into_iter()
            .filter(|h| MARKED_CLASSES.contains(&h.class))
            .flat_map(|h| {
                let class = h.class;
                h.shape.0.into_iter().map(move |p| (!blocks(class), -p.unsigned_area(), class, p))
            })
            .collect();
    found.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
    found
        .iter()
        .filter(|(_, _, _, poly)| {
            [mission.start, mission.goal].iter().all(|&p| {
                breadcrumb_tools::geometry::segment_to_polygon(p, p, poly).distance > clear_m
            })
        })
        .filter_map(|(_, _, class, poly)| {
            let ring = breadcrumb_tools::perception::outline::mark_ring(poly, extent)?;
            Some(json!({
                "class": class.as_str(),
                "polygon": waypoints_json(&ring),
                "confidence": MARK_CONFIDENCE,
                "reason": format!(
                    "baseline terrain classifier: {} of {:.0} m²",
                    class.as_str().replace('_', " "),
                    poly.unsigned_area()
                ),
            }))
        })
        .take(breadcrumb_tools::api::mark_hazards::MAX_MARKS_PER_CALL)
        .collect()
}

/// The planner's refusal as the policy says it.
fn no_route(reason: &str) -> String {
    if reason.to_lowercase().starts_with("no safe route") {
        reason.to_owned()
    } else {
        format!("No safe route: {reason}")
    }
}
