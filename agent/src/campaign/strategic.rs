//! The model's strategic corridor: before the first sol, a campaign with a language model shows
//! it one overview of the whole area (a labelled map grid, the start and the goal, the cells the
//! coarse grid blocks shaded red) and offers it one tool, `strategic_waypoints`
//! ([`breadcrumb_tools::campaign::waypoints`]). The model calls it with a few waypoints; the
//! tool routes the corridor through them on the coarse grid and answers with the route or the
//! violations, which go back to the model as the tool's result; the model may revise a few
//! times. The first feasible corridor becomes the strategic route.
//!
//! When the model never gives one (violations every time, no tool call, a failed request, a
//! budget spent), the campaign keeps the coarse planner's route and records why. Either way
//! the conversation (each attempt's waypoints and answer, tokens, USD) goes into
//! `campaign.json` as `strategic_model`, so resuming never asks again (unless the conversation
//! ended on a failed request and no sol has been accepted yet: then the next run asks anew).
//!
//! Why it is safe: the corridor is only where the sols aim. Every sol along it is still planned
//! at full resolution and judged by the checker and the twin, exactly as along the coarse
//! planner's route; nothing here can turn a refusal into an acceptance.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use breadcrumb_tools::campaign::overview::render_area;
use breadcrumb_tools::campaign::waypoints::{
    self, parse_args, CorridorCheck, CorridorViolation, MAX_STRATEGIC_WAYPOINTS,
};
use breadcrumb_tools::campaign::{check_corridor, CoarseGrid, CoarseRoute};
use breadcrumb_tools::checker::Pt;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{write_atomic, Campaign, CampaignError, LoopSettings, SolStatus};
use crate::models::build_network_provider;
use crate::prompt::{PromptError, PromptSet};
use crate::provider::{
    Content, ImageData, Message, ModelRequest, ModelResponse, Provider, ToolResult, ToolSpec,
};
use crate::session::SessionConfig;

/// What `strategic_source` says when the model's corridor is the strategic route.
pub const SOURCE_MODEL: &str = "model";

/// Default corridors the model may submit before the campaign falls back ("a few").
pub const DEFAULT_ATTEMPTS: u32 = 4;

/// How the strategic conversation runs.
#[derive(Debug, Clone)]
pub struct StrategicSettings {
    /// The strategic prompt (`prompts/strategic/v1`).
    pub prompt: PromptSet,
    /// Corridors the model may submit; 0 never asks.
    pub max_attempts: u32,
    /// Model turns at most (a turn without a tool call counts too).
    pub max_turns: u32,
    /// Pixel side of the overview the model is shown.
    pub overview_px: u32,
}

impl StrategicSettings {
    /// The strategic prompt of `prompts_dir` (`<prompts_dir>/strategic/v1`) with the default
    /// bounds: [`DEFAULT_ATTEMPTS`] corridors in at most twice as many turns, a 1024 px overview.
    pub fn load(prompts_dir: &Path) -> Result<StrategicSettings, PromptError> {
        Ok(StrategicSettings {
            prompt: PromptSet::load(&prompts_dir.join("strategic").join("v1"))?,
            max_attempts: DEFAULT_ATTEMPTS,
            max_turns: 2 * DEFAULT_ATTEMPTS,
            overview_px: 1024,
        })
    }
}

/// One corridor the model submitted, and the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategicAttempt {
    /// The model turn it came in (1-based).
    pub turn: u32,
    /// Its waypoints, map metres (empty when the arguments could not be read).
    pub waypoints: Vec<Pt>,
    /// Feasible at coarse scale.
    pub pass: bool,
    /// The route's length through them, metres (feasible ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_m: Option<f64>,
    /// What was wrong (refused ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<CorridorViolation>,
    /// Arguments that could not be read, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the model wrote in the turn, beside its call (its reasons, when it gives them).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub said: String,
}

/// The strategic conversation, as `campaign.json` keeps it (`strategic_model`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StrategicRecord {
    /// The model's name in models.toml.
    pub model: String,
    /// The strategic prompt's hash.
    pub prompt_hash: String,
    /// Whether the model's corridor became the strategic route.
    pub used: bool,
    /// Why (which attempt was used, or why the coarse planner's route was kept).
    pub reason: String,
    /// Every corridor submitted, in order.
    pub attempts: Vec<StrategicAttempt>,
    /// Model turns.
    pub turns: u32,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// USD spent.
    pub cost_usd: f64,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// The overview shown, relative to the campaign's directory.
    pub overview: String,
    /// The conversation ended on a failed request (the server, not the model, answered no):
    /// resuming before any sol is accepted asks again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request_failed: bool,
}

impl StrategicRecord {
    /// Input plus output tokens.
    #[must_use]
    pub fn tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// What the strategic task template can use.
#[derive(Debug, Serialize)]
struct TaskView {
    rover: RoverView,
    start: XY,
    goal: GoalView,
    distance_m: f64,
    sol_budget_m: f64,
    cell_m: f64,
    max_waypoints: usize,
    max_attempts: u32,
    area: AreaView,
}

#[derive(Debug, Serialize)]
struct RoverView {
    name: String,
}

#[derive(Debug, Serialize)]
struct XY {
    x: f64,
    y: f64,
}

#[derive(Debug, Serialize)]
struct GoalView {
    x: f64,
    y: f64,
    tolerance_m: f64,
}

#[derive(Debug, Serialize)]
struct AreaView {
    size_m: f64,
    min_x: f64,
    max_x: f64,
    min_y: f64,
    max_y: f64,
    m_per_px: f64,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl Campaign {
    /// Asks the model for a strategic corridor, once per campaign, before the first sol; the
    /// CLI calls it between [`Campaign::open`] and [`Campaign::run`]. It asks only a network
    /// model (the reference, noisy and replay policies keep the coarse planner's route, so
    /// their outputs are unchanged), only before any sol is accepted, and never again once
    /// `strategic_model` is recorded (resuming), unless it ended on a failed request. A feasible corridor replaces the strategic
    /// route (`strategic_source: "model"`); otherwise the coarse planner's route stays and
    /// the record says why. Errors: the model's provider could not be made (a missing API
    /// key), the overview or the prompt could not be made, or the record not written; a model
    /// that answers badly, or a request that fails, is a fallback, not an error.
    pub async fn plan_strategic(
        &mut self,
        settings: &LoopSettings,
        strategic: &StrategicSettings,
    ) -> Result<(), CampaignError> {
        self.plan_strategic_with(settings, strategic, None).await
    }

    /// [`Campaign::plan_strategic`] asking `provider` when given (a provider built elsewhere,
    /// as tests build one), else the one `settings.entry` names.
    pub async fn plan_strategic_with(
        &mut self,
        settings: &LoopSettings,
        strategic: &StrategicSettings,
        provider: Option<Arc<dyn Provider>>,
    ) -> Result<(), CampaignError> {
        let asked = self.record.strategic_model.as_ref().is_some_and(|m| !m.request_failed);
        let driven = self.record.sols.iter().any(|s| s.status == SolStatus::Accepted);
        if asked || driven || !settings.entry.provider.is_network() || strategic.max_attempts == 0 {
            return Ok(());
        }
        self.say(&format!("asking {} for a strategic corridor", settings.entry.name));
        let spec = self.record.spec.clone();
        let grid = CoarseGrid::build(self.site.bundle(), &self.profile, spec.coarse_cell_m)?;
        let (start, goal) = ((spec.start[0], spec.start[1]), (spec.goal[0], spec.goal[1]));
        let (img, frame) =
            render_area(self.site.bundle(), start, goal, Some(grid.grid()), strategic.overview_px)?;
        let png = breadcrumb_tools::tiles::encode_png(&img)?;
        // The model is sent the JPEG, as every tile: a 1024 px PNG of the image is 2-3 MB,
        // near the Messages API's 5 MB limit; the JPEG is a fifth of it.
        let jpeg = breadcrumb_tools::tiles::encode_jpeg(
            &img,
            breadcrumb_tools::tiles::MODEL_JPEG_QUALITY,
        )?;
        let overview = "strategic-overview.png";
        write_atomic(&self.dir.join(overview), &png)?;
        let view = TaskView {
            rover: RoverView { name: self.profile.name.clone() },
            start: XY { x: start.0, y: start.1 },
            goal: GoalView { x: goal.0, y: goal.1, tolerance_m: spec.goal_tolerance_m },
            distance_m: round1((goal.0 - start.0).hypot(goal.1 - start.1)),
            sol_budget_m: spec.sol_budget_m,
            cell_m: grid.cell_m(),
            max_waypoints: MAX_STRATEGIC_WAYPOINTS,
            max_attempts: strategic.max_attempts,
            area: AreaView {
                size_m: round1(frame.max_x_m - frame.min_x_m),
                min_x: round1(frame.min_x_m),
                max_x: round1(frame.max_x_m),
                min_y: round1(frame.min_y_m),
                max_y: round1(frame.max_y_m),
                m_per_px: (frame.m_per_px * 100.0).round() / 100.0,
            },
        };
        let text = strategic
            .prompt
            .render_task(&view)
            .map_err(|e| CampaignError::Bad(format!("strategic prompt: {e}")))?;
        let first = Message::user(vec![Content::text(text), Content::Image(ImageData::jpeg(jpeg))]);
        let mut rec = StrategicRecord {
            model: settings.entry.name.clone(),
            prompt_hash: strategic.prompt.hash.clone(),
            overview: overview.into(),
            ..StrategicRecord::default()
        };
        // A model that cannot be built (a missing key) is the user's to fix, as in a sol: an
        // error, and nothing recorded, so the next run asks.
        let provider = match provider {
            Some(p) => p,
            None => build_network_provider(&settings.entry)
                .map_err(|e| CampaignError::Agent(Box::new(e)))?,
        };
        let ask = Conversation {
            provider: provider.as_ref(),
            cfg: &settings.config,
            settings: strategic,
            grid: &grid,
            ends: (start, goal, spec.goal_tolerance_m),
        };
        let route = ask.run(first, &mut rec).await?;
        rec.used = route.is_some();
        match route {
            Some(r) => {
                self.say(&format!(
                    "the strategic route is the model's corridor ({:.2} km): {}",
                    r.length_m / 1000.0,
                    rec.reason
                ));
                self.record.strategic = r;
                self.record.strategic_source = SOURCE_MODEL.into();
            }
            None => {
                self.say(&format!(
                    "the strategic route stays the coarse planner's: {}",
                    rec.reason
                ));
            }
        }
        self.record.strategic_model = Some(rec);
        self.record.summarise("running", "the strategic route is planned");
        self.record.save(&self.dir)
    }
}

/// One strategic conversation.
struct Conversation<'a> {
    provider: &'a dyn Provider,
    cfg: &'a SessionConfig,
    settings: &'a StrategicSettings,
    grid: &'a CoarseGrid,
    /// Start, goal and the goal's tolerance.
    ends: (Pt, Pt, f64),
}

impl Conversation<'_> {
    /// Runs the conversation from `first`; returns the first feasible corridor's route, and
    /// fills `rec` (attempts, tokens, USD, and why it ended).
    async fn run(
        &self,
        first: Message,
        rec: &mut StrategicRecord,
    ) -> Result<Option<CoarseRoute>, CampaignError> {
        let started = Instant::now();
        let spec = waypoints::spec();
        let tools = vec![ToolSpec {
            name: spec.name.to_owned(),
            description: spec.description,
            parameters: spec.input_schema,
        }];
        let mut history = vec![first];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.cfg.jitter_seed);
        let mut found = None;
        let max = self.settings.max_attempts;
        rec.reason = format!("no feasible corridor in {} model turns", self.settings.max_turns);
        for turn in 1..=self.settings.max_turns {
            if let Some(why) = self.over_budget(rec, started) {
                rec.reason = why;
                break;
            }
            let request = ModelRequest {
                system: self.settings.prompt.system.clone(),
                messages: history.clone(),
                tools: tools.clone(),
                sampling: self.cfg.sampling,
            };
            let response = match self.complete(&request, &mut rng, started).await {
                Ok(r) => r,
                Err(why) => {
                    rec.reason = why;
                    rec.request_failed = true;
                    break;
                }
            };
            rec.turns = turn;
            if let Some(u) = &response.usage {
                rec.input_tokens += u.input_tokens;
                rec.output_tokens += u.output_tokens;
                rec.cost_usd += self.cfg.prices.cost_usd(u);
            }
            history.push(Message::from_response(&response));
            if response.tool_calls.is_empty() {
                history.push(Message::user_text(format!(
                    "Call `{}` with your corridor's waypoints (map metres read off the \
                     overview's grid labels); text alone does not plan the campaign.",
                    waypoints::TOOL_NAME
                )));
                continue;
            }
            let mut results = Vec::new();
            for call in &response.tool_calls {
                let used = rec.attempts.len() as u32;
                let (content, is_error) = if found.is_some() {
                    (
                        json!({"error": "not_checked", "message": "an earlier call of this turn \
                        gave a feasible corridor; it is the strategic route"}),
                        true,
                    )
                } else if call.name != waypoints::TOOL_NAME {
                    (
                        json!({"error": "unknown_tool", "message": format!(
                        "there is no tool `{}` here; call `{}`", call.name, waypoints::TOOL_NAME)}),
                        true,
                    )
                } else if used >= max {
                    (
                        json!({"error": "no_attempts_left", "message": format!(
                        "all {max} attempts are used")}),
                        true,
                    )
                } else {
                    let (answer, route) = self.check(turn, &call.arguments, &response.text, rec)?;
                    found = found.or(route);
                    answer
                };
                let content = if is_error { call.explain_echo(content) } else { content };
                results.push(Content::ToolResult(ToolResult {
                    call_id: call.id.clone(),
                    content: content.to_string(),
                    images: Vec::new(),
                    is_error,
                }));
            }
            history.push(Message::user(results));
            if let Some(n) = rec.attempts.iter().position(|a| a.pass) {
                rec.reason = format!(
                    "the model's corridor of attempt {} of {} is feasible at coarse scale",
                    n + 1,
                    rec.attempts.len()
                );
                break;
            }
            if rec.attempts.len() as u32 >= max {
                rec.reason = format!(
                    "no feasible corridor in {max} attempts: the last was refused: {}",
                    rec.attempts.last().map_or(String::new(), refusal)
                );
                break;
            }
        }
        rec.elapsed_s = started.elapsed().as_secs_f64();
        Ok(found)
    }

    /// Checks one call's corridor; returns the tool's answer (and whether it is an error) and
    /// the route when feasible, and records the attempt.
    fn check(
        &self,
        turn: u32,
        raw: &serde_json::Value,
        said: &str,
        rec: &mut StrategicRecord,
    ) -> Result<((serde_json::Value, bool), Option<CoarseRoute>), CampaignError> {
        let args = match parse_args(raw) {
            Ok(a) => a,
            Err(e) => {
                rec.attempts.push(StrategicAttempt {
                    turn,
                    waypoints: Vec::new(),
                    pass: false,
                    length_m: None,
                    violations: Vec::new(),
                    error: Some(e["message"].as_str().unwrap_or_default().to_owned()),
                    said: said.to_owned(),
                });
                return Ok(((e, true), None));
            }
        };
        let pts: Vec<Pt> = args.waypoints.iter().map(|p| (p.x_m, p.y_m)).collect();
        let (start, goal, tol) = self.ends;
        let check = check_corridor(self.grid, start, &pts, goal, tol)?;
        let answer = check.to_json();
        let (route, attempt) = match check {
            CorridorCheck::Feasible(r) => {
                let a = StrategicAttempt {
                    turn,
                    waypoints: pts,
                    pass: true,
                    length_m: Some(r.length_m),
                    violations: Vec::new(),
                    error: None,
                    said: said.to_owned(),
                };
                (Some(r), a)
            }
            CorridorCheck::Refused(v) => (
                None,
                StrategicAttempt {
                    turn,
                    waypoints: pts,
                    pass: false,
                    length_m: None,
                    violations: v,
                    error: None,
                    said: said.to_owned(),
                },
            ),
        };
        rec.attempts.push(attempt);
        Ok(((answer, false), route))
    }

    /// Why the conversation must stop before another turn, if it must: the session's budgets
    /// (tokens, USD, wall clock) bound it as they bound a sol.
    fn over_budget(&self, rec: &StrategicRecord, started: Instant) -> Option<String> {
        let b = &self.cfg.budgets;
        if b.max_tokens.is_some_and(|m| rec.tokens() >= m) {
            return Some(format!("the token budget ({}) is spent", rec.tokens()));
        }
        if b.max_cost_usd.is_some_and(|m| rec.cost_usd >= m) {
            return Some(format!("the USD budget is spent (${:.4})", rec.cost_usd));
        }
        if b.remaining(started).is_some_and(|left| left.is_zero()) {
            return Some("the wall-clock deadline is reached".into());
        }
        None
    }

    /// One model turn, retried as the session retries (backoff with jitter, the server's
    /// `Retry-After`, never past the deadline). `Err` is why the conversation ends.
    async fn complete(
        &self,
        request: &ModelRequest,
        rng: &mut rand_chacha::ChaCha8Rng,
        started: Instant,
    ) -> Result<ModelResponse, String> {
        let mut attempt = 0u32;
        loop {
            let call = self.provider.complete(request);
            let result = match self.cfg.budgets.remaining(started) {
                Some(left) => tokio::time::timeout(left, call)
                    .await
                    .map_err(|_| "the wall-clock deadline was reached waiting for the model")?,
                None => call.await,
            };
            let e = match result {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            attempt += 1;
            if !e.is_retryable() {
                return Err(format!("the model request failed: {e}"));
            }
            if attempt > self.cfg.retry.max_retries {
                return Err(format!("the model request failed after {} retries: {e}", attempt - 1));
            }
            let wait = self.cfg.retry.delay(attempt, e.retry_after(), rng);
            if self.cfg.budgets.remaining(started).is_some_and(|left| wait >= left) {
                return Err(format!("the wall-clock deadline was reached while retrying: {e}"));
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// An attempt's refusal in a sentence.
fn refusal(a: &StrategicAttempt) -> String {
    match &a.error {
        Some(e) => e.clone(),
        None => a.violations.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join("; "),
    }
}
