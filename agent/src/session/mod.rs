//! The agent loop: prompt + overview tile → model → tool calls → … → `submit_route` → safety
//! checker → violations back to the model (up to N revisions) → an accepted plan or a clean
//! rejection.
//!
//! Everything that happens is appended to the run's transcript as it happens
//! ([`crate::transcript`]). Malformed arguments and unknown tools are answered by the tool layer
//! with structured errors; text-only answers, refusals and truncated answers get a corrective
//! message; budgets (turns, tokens, USD, wall clock) end the run cleanly with the reason; failed
//! requests are retried with backoff ([`retry`]). Only the checker decides acceptance.

pub mod dossier;
pub mod record;
pub mod retry;
mod submit;

use std::sync::Arc;
use std::time::{Duration, Instant};

use breadcrumb_tools::api::{specs, Effect, ToolCallError, Toolbox};
use breadcrumb_tools::checker::{Pt, Verdict};
use breadcrumb_tools::terrain::LoadedSol;
use breadcrumb_tools::twin::{TwinRun, TwinVerdict};
use rand::SeedableRng;
use serde::Serialize;
use serde_json::json;

pub use self::dossier::bundle_hash;
pub use self::retry::RetryPolicy;
use crate::models::ModelEntry;
use crate::prompt::{OverviewView, PromptError, PromptSet, TaskContext};
use crate::provider::{
    Content, ImageData, ImageTokenRule, Message, ModelRequest, ModelResponse, Prices, Provider,
    Role, Sampling, StopReason, ToolCall, ToolResult, ToolSpec,
};
pub use crate::run::{Budgets, RunStatus, Totals};
use crate::transcript::{Event, RunWriter, TranscriptError};

/// Why a run could not start or its record could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The sol's terrain or rover could not be opened.
    #[error(transparent)]
    Tools(#[from] breadcrumb_tools::ToolsError),
    /// The prompt set could not be rendered.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// The transcript could not be written.
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The model's name in `models.toml` (recorded).
    pub model_name: String,
    /// Failed submissions the model may revise (default 3).
    pub max_revisions: u32,
    /// Limits of the run.
    pub budgets: Budgets,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Temperature and output tokens per turn.
    pub sampling: Sampling,
    /// The model's prices.
    pub prices: Prices,
    /// How the model's images are counted when the server does not say.
    pub image_rule: ImageTokenRule,
    /// Besides the overview, images of only this many latest tool results are re-sent; older
    /// ones are referred to by the footprint in their JSON result.
    pub keep_images: usize,
    /// Older tool images are dropped this many at a time, to keep the conversation's prefix
    /// stable for prompt caches ([`prune_images`]).
    pub prune_batch: usize,
    /// Consecutive turns without a tool call before the run ends as rejected.
    pub max_idle_turns: u32,
    /// Seed of the retry jitter (deterministic tests).
    pub jitter_seed: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            model_name: "reference".into(),
            max_revisions: 3,
            budgets: Budgets::default(),
            retry: RetryPolicy::default(),
            sampling: Sampling::default(),
            prices: Prices::default(),
            image_rule: ImageTokenRule::None,
            keep_images: 2,
            prune_batch: 4,
            max_idle_turns: 3,
            jitter_seed: 0,
        }
    }
}

impl SessionConfig {
    /// The settings `entry` fixes (its name, sampling, prices and image rule), the rest at
    /// their defaults: the one place a model entry becomes a run's settings.
    #[must_use]
    pub fn for_model(entry: &ModelEntry) -> Self {
        SessionConfig {
            model_name: entry.name.clone(),
            sampling: entry.sampling(Sampling::default()),
            prices: entry.prices(),
            image_rule: entry.image_tokens,
            ..SessionConfig::default()
        }
    }
}

/// The last judged submission: its waypoints, the checker's verdict and the twin's drive.
#[derive(Debug, Clone)]
struct Submitted {
    points: Vec<Pt>,
    verdict: Verdict,
    twin: TwinRun,
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run id.
    pub run_id: String,
    /// The run directory.
    pub dir: std::path::PathBuf,
    /// How it ended.
    pub status: RunStatus,
    /// Why, in a sentence.
    pub reason: String,
    /// Routes submitted.
    pub submits: u32,
    /// Whether the first submitted route was accepted.
    pub accepted_first_submit: bool,
    /// The last submitted route.
    pub waypoints: Option<Vec<Pt>>,
    /// The checker's verdict on it.
    pub verdict: Option<Verdict>,
    /// The digital twin's verdict on it.
    pub twin: Option<TwinVerdict>,
    /// The hazards the model marked, in the order it marked them.
    pub marks: Vec<breadcrumb_tools::perception::MarkRecord>,
    /// Turns, tool calls, tokens, cost, retries.
    pub totals: Totals,
    /// Tool calls by tool name.
    pub tool_calls_by_tool: std::collections::BTreeMap<String, u32>,
    /// Wall time, seconds.
    pub elapsed_s: f64,
}

/// A live view of a run, for status lines.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// Turns so far.
    pub turn: u32,
    /// Running totals.
    pub totals: Totals,
    /// Seconds since the start.
    pub elapsed_s: f64,
    /// What just happened.
    pub note: String,
}

/// How the loop answers one tool call of a turn.
enum Answer {
    /// The tool's result, as the model receives it.
    Done(ToolResult),
    /// A `submit_route` call: answered by the submission path ([`submit`]).
    Submitted {
        /// The call's id.
        call_id: String,
        /// The submitted route.
        waypoints: Vec<Pt>,
    },
}

/// Receives progress (a status line, a log).
pub type ProgressFn = Box<dyn Fn(&Progress) + Send + Sync>;

/// One run of the loop for one sol and one model.
pub struct Session {
    sol: LoadedSol,
    toolbox: Arc<Toolbox>,
    provider: Arc<dyn Provider>,
    prompt: PromptSet,
    cfg: SessionConfig,
    writer: RunWriter,
    progress: Option<ProgressFn>,
    started: Instant,
    totals: Totals,
    by_tool: std::collections::BTreeMap<String, u32>,
    rng: rand_chacha::ChaCha8Rng,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("sol", &self.sol.sol.id).finish_non_exhaustive()
    }
}

/// The tools as providers want them.
#[must_use]
pub fn tool_specs() -> Vec<ToolSpec> {
    specs()
        .into_iter()
        .map(|s| ToolSpec {
            name: s.name.to_owned(),
            description: s.description,
            parameters: s.input_schema,
        })
        .collect()
}

impl Session {
    /// Prepares a run: opens the sol's terrain (tiles `tile_px` a side); the writer's directory
    /// receives everything.
    pub fn new(
        sol: &LoadedSol,
        provider: Arc<dyn Provider>,
        prompt: PromptSet,
        cfg: SessionConfig,
        writer: RunWriter,
        tile_px: u32,
    ) -> Result<Session, SessionError> {
        let toolbox = Arc::new(Toolbox::open(sol)?.with_tile_px(tile_px));
        Ok(Session::with_toolbox(sol, toolbox, provider, prompt, cfg, writer))
    }

    /// Prepares a run over a toolbox already open for `sol` (evals share one per sol, so its
    /// cost grid is built once for every attempt).
    #[must_use]
    pub fn with_toolbox(
        sol: &LoadedSol,
        toolbox: Arc<Toolbox>,
        provider: Arc<dyn Provider>,
        prompt: PromptSet,
        cfg: SessionConfig,
        writer: RunWriter,
    ) -> Session {
        let rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.jitter_seed);
        Session {
            sol: sol.clone(),
            toolbox,
            provider,
            prompt,
            cfg,
            writer,
            progress: None,
            started: Instant::now(),
            totals: Totals::default(),
            by_tool: std::collections::BTreeMap::new(),
            rng,
        }
    }

    /// Sets a progress callback.
    #[must_use]
    pub fn with_progress(mut self, f: ProgressFn) -> Self {
        self.progress = Some(f);
        self
    }

    fn note(&self, note: impl Into<String>) {
        if let Some(f) = &self.progress {
            f(&Progress {
                turn: self.totals.turns,
                totals: self.totals,
                elapsed_s: self.started.elapsed().as_secs_f64(),
                note: note.into(),
            });
        }
    }

    /// The first user message: the task and the corridor overview tile.
    fn first_message(&mut self) -> Result<Message, SessionError> {
        let view = breadcrumb_tools::tiles::corridor_overview(&self.sol.sol);
        let (cx, cy, size) = (view.centre_x, view.centre_y, view.size_m);
        let args = json!({"centre_x_m": cx, "centre_y_m": cy, "size_m": size, "layer": "ortho"});
        let mut content = Vec::new();
        let mut overview = OverviewView {
            centre_x_m: cx,
            centre_y_m: cy,
            size_m: size,
            m_per_px: f64::NAN,
            tile_id: None,
        };
        let tile = self.toolbox.call("view_tile", &args);
        match &tile {
            Ok(out) => {
                overview.m_per_px = out.result["m_per_px"].as_f64().unwrap_or(f64::NAN);
                overview.size_m = out.result["size_m"].as_f64().unwrap_or(size);
                // `view_tile` registered the overview with the toolbox: the model may point
                // at its pixels by this id.
                overview.tile_id = out.result["tile_id"].as_str().map(str::to_owned);
            }
            Err(e) => tracing::warn!("overview tile unavailable: {e}"),
        }
        let ctx = TaskContext::new(&self.sol, self.toolbox.profile(), overview);
        let text = self.prompt.render_task(&ctx)?;
        content.push(Content::text(text));
        let mut hashes = Vec::new();
        if let Ok(out) = tile {
            for img in out.images {
                hashes.push(self.writer.image(&img.png)?);
                content.push(Content::Image(ImageData::jpeg(img.jpeg)));
            }
        }
        self.writer.event(Event::Overview { args, images: hashes })?;
        Ok(Message::user(content))
    }

    /// What is sent: the history with older tool images pruned (see [`prune_images`]).
    fn request(&self, history: &[Message]) -> ModelRequest {
        let mut messages: Vec<Message> = history.to_vec();
        prune_images(&mut messages, self.cfg.keep_images, self.cfg.prune_batch);
        ModelRequest {
            system: self.prompt.system.clone(),
            messages,
            tools: tool_specs(),
            sampling: self.cfg.sampling,
        }
    }

    /// One model turn with retries. `Err` carries the reason the run must end.
    async fn turn(&mut self, request: &ModelRequest) -> Result<ModelResponse, (RunStatus, String)> {
        let norm = record::normalized(request);
        let hash = record::request_hash(&norm);
        let turn = self.totals.turns + 1;
        let ev = |e: Result<(), TranscriptError>| e.map_err(|e| (RunStatus::Error, e.to_string()));
        ev(self.writer.event(Event::Request { turn, request_hash: hash, request: norm }))?;
        let mut attempt = 0u32;
        loop {
            let sent = Instant::now();
            let remaining = self.cfg.budgets.remaining(self.started);
            let call = self.provider.complete(request);
            let result = match remaining {
                Some(left) => match tokio::time::timeout(left, call).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err((
                            RunStatus::Rejected,
                            "wall-clock deadline reached while waiting for the model".into(),
                        ))
                    }
                },
                None => call.await,
            };
            match result {
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    let retryable = e.is_retryable();
                    attempt += 1;
                    if !retryable || attempt > self.cfg.retry.max_retries {
                        let why = if retryable {
                            format!("model request failed after {} retries: {e}", attempt - 1)
                        } else {
                            format!("model request failed: {e}")
                        };
                        ev(self.writer.event(Event::ProviderError {
                            turn,
                            error: e.to_string(),
                            retryable,
                        }))?;
                        return Err((RunStatus::Error, why));
                    }
                    let wait = self.cfg.retry.delay(attempt, e.retry_after(), &mut self.rng);
                    if let Some(left) = self.cfg.budgets.remaining(self.started) {
                        if wait >= left {
                            return Err((
                                RunStatus::Rejected,
                                format!("wall-clock deadline reached while retrying: {e}"),
                            ));
                        }
                    }
                    self.totals.retries += 1;
                    ev(self.writer.event(Event::Retry {
                        turn,
                        attempt,
                        error: e.to_string(),
                        wait_ms: wait.as_millis() as u64,
                        failed_after_ms: sent.elapsed().as_millis() as u64,
                    }))?;
                    self.note(format!("retry {attempt} in {:.1} s: {e}", wait.as_secs_f64()));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Runs the tool calls of a turn; answers in call order. `mark_hazards` calls run first,
    /// one after another in call order, so every other call of the turn (a `check_route`
    /// beside the marks, say) sees all of the turn's marks whatever the scheduling: the same
    /// conversation always gets the same answers. The other calls then run concurrently.
    async fn run_tools(
        &mut self,
        calls: &[ToolCall],
        turn: u32,
    ) -> Result<Vec<Answer>, SessionError> {
        type Outcome = (Result<breadcrumb_tools::api::ToolOutput, ToolCallError>, Duration);
        let spawn = |c: &ToolCall| {
            let tb = Arc::clone(&self.toolbox);
            let (name, args) = (c.name.clone(), c.arguments.clone());
            tokio::task::spawn_blocking(move || {
                let t = Instant::now();
                let out = match &args {
                    serde_json::Value::String(text) => tb.call_str(&name, text),
                    v => tb.call(&name, v),
                };
                (out, t.elapsed())
            })
        };
        let joined = |r: Result<Outcome, tokio::task::JoinError>| {
            r.unwrap_or_else(|e| {
                (
                    Err(ToolCallError::Failed { message: format!("tool task failed: {e}") }),
                    Duration::ZERO,
                )
            })
        };
        let is_mark = |c: &ToolCall| {
            c.name == <breadcrumb_tools::api::mark_hazards::MarkHazards as breadcrumb_tools::api::Tool>::NAME
        };
        let mut done: Vec<Option<Outcome>> = Vec::with_capacity(calls.len());
        for c in calls {
            done.push(if is_mark(c) { Some(joined(spawn(c).await)) } else { None });
        }
        let handles: Vec<_> = calls.iter().map(|c| (!is_mark(c)).then(|| spawn(c))).collect();
        let mut results = Vec::with_capacity(calls.len());
        for ((c, h), first) in calls.iter().zip(handles).zip(done) {
            let (out, took) = match (first, h) {
                (Some(o), _) => o,
                (None, Some(h)) => joined(h.await),
                (None, None) => unreachable!("every call is either a mark or spawned"),
            };
            *self.by_tool.entry(c.name.clone()).or_default() += 1;
            self.totals.tool_calls += 1;
            self.writer.event(Event::ToolCall {
                turn,
                id: c.id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            })?;
            let answer = match out {
                Ok(o) => {
                    let mut hashes = Vec::new();
                    let mut images = Vec::new();
                    for img in o.images {
                        hashes.push(self.writer.image(&img.png)?);
                        images.push(ImageData::jpeg(img.jpeg));
                    }
                    let content = serde_json::to_string(&o.result).unwrap_or_default();
                    self.writer.event(Event::ToolResult {
                        turn,
                        id: c.id.clone(),
                        name: c.name.clone(),
                        ok: true,
                        result: Some(o.result),
                        images: Some(hashes),
                        error: None,
                        ms: took.as_secs_f64() * 1e3,
                    })?;
                    let marks = match &o.effect {
                        Some(Effect::Marked { marks }) => Some(marks.clone()),
                        _ => None,
                    };
                    if let Some(marks) = marks {
                        self.writer.event(Event::Marks { turn, id: c.id.clone(), marks })?;
                    }
                    match o.effect {
                        // Answered by the submission path, with the verdict.
                        Some(Effect::Submit { waypoints }) => {
                            Answer::Submitted { call_id: c.id.clone(), waypoints }
                        }
                        None | Some(Effect::Marked { .. }) => Answer::Done(ToolResult {
                            call_id: c.id.clone(),
                            content,
                            images,
                            is_error: false,
                        }),
                    }
                }
                Err(e) => {
                    let j = c.explain_echo(e.to_json());
                    self.writer.event(Event::ToolResult {
                        turn,
                        id: c.id.clone(),
                        name: c.name.clone(),
                        ok: false,
                        result: None,
                        images: None,
                        error: Some(j.clone()),
                        ms: took.as_secs_f64() * 1e3,
                    })?;
                    Answer::Done(ToolResult {
                        call_id: c.id.clone(),
                        content: j.to_string(),
                        images: vec![],
                        is_error: true,
                    })
                }
            };
            results.push(answer);
        }
        Ok(results)
    }

    /// Runs the loop to its end. `Err` only when the run's own record cannot be written or its
    /// prompt cannot be rendered; everything else ends in a report.
    pub async fn run(mut self) -> Result<RunReport, SessionError> {
        self.started = Instant::now();
        let started = Event::RunStarted {
            run_id: self.writer.run_id().to_owned(),
            sol: self.sol.sol.id.clone(),
            model: self.cfg.model_name.clone(),
            provider: self.provider.kind().as_str().to_owned(),
            model_id: self.provider.model().to_owned(),
            prompt: self.prompt.manifest.name.clone(),
            prompt_hash: self.prompt.hash.clone(),
            checker_version: breadcrumb_tools::checker::CHECKER_VERSION.to_owned(),
            rule_set_version: breadcrumb_tools::checker::RULE_SET_VERSION.to_owned(),
            max_revisions: self.cfg.max_revisions,
            budgets: self.cfg.budgets,
        };
        self.writer.event(started)?;
        let mut history = vec![self.first_message()?];
        let mut submits = 0u32;
        let mut first_ok = false;
        let mut last: Option<Submitted> = None;
        let mut idle = 0u32;
        let (status, reason) = loop {
            if let Some(why) = self.cfg.budgets.exhausted(&self.totals, self.started) {
                self.writer.event(Event::BudgetStop { reason: why.clone() })?;
                break (RunStatus::Rejected, why);
            }
            let request = self.request(&history);
            let response = match self.turn(&request).await {
                Ok(r) => r,
                Err((status, why)) => break (status, why),
            };
            self.totals.turns += 1;
            let turn = self.totals.turns;
            let usage = response.usage.unwrap_or_default();
            let image_tokens = usage.image_tokens.unwrap_or_else(|| {
                request_images(&request).map(|(w, h)| self.cfg.image_rule.estimate(w, h)).sum()
            });
            let cost = self.cfg.prices.cost_usd(&usage);
            self.totals.add(&usage, image_tokens, cost);
            self.writer.event(Event::Response {
                turn,
                response: response.clone(),
                usage_reported: response.usage.is_some(),
                image_tokens,
                cost_usd: cost,
                latency_ms: response.latency.as_secs_f64() * 1e3,
            })?;
            self.note(format!("turn {turn}: {} tool call(s)", response.tool_calls.len()));
            history.push(Message::from_response(&response));
            if response.tool_calls.is_empty() {
                idle += 1;
                if idle >= self.cfg.max_idle_turns {
                    let said: String = response.text.chars().take(300).collect();
                    break (
                        RunStatus::Rejected,
                        format!("the model stopped without submitting a route: {said}"),
                    );
                }
                let corrective = match response.stop_reason {
                    StopReason::Refusal => "Your answer was stopped as a refusal. This is a \
                        route-planning task on orbital terrain data; please continue: plan the \
                        route with the tools and submit it with submit_route."
                        .to_owned(),
                    StopReason::MaxTokens => "Your answer was cut off at the output limit. Be \
                        brief and continue with tool calls."
                        .to_owned(),
                    _ => "No tool was called. Continue with tool calls: when your route passes \
                        check_route, call submit_route with it."
                        .to_owned(),
                };
                self.writer.event(Event::Corrective { turn, message: corrective.clone() })?;
                history.push(Message::user_text(corrective));
                continue;
            }
            idle = 0;
            let answers = self.run_tools(&response.tool_calls, turn).await?;
            let last_submit = answers.iter().rposition(|a| matches!(a, Answer::Submitted { .. }));
            let mut content = Vec::new();
            let mut outcome = None;
            for (i, answer) in answers.into_iter().enumerate() {
                let (call_id, waypoints) = match answer {
                    Answer::Done(result) => {
                        content.push(Content::ToolResult(result));
                        continue;
                    }
                    Answer::Submitted { call_id, waypoints } => (call_id, waypoints),
                };
                if Some(i) != last_submit {
                    content.push(Content::ToolResult(ToolResult {
                        call_id,
                        content: submit::ignored(),
                        images: vec![],
                        is_error: true,
                    }));
                    continue;
                }
                submits += 1;
                let j = submit::judge(&self.toolbox, &waypoints, submits, self.cfg.max_revisions);
                if let Some(v) = &j.verdict {
                    self.writer.event(Event::Verdict {
                        turn,
                        submit: submits,
                        pass: v.pass,
                        verdict: Box::new(v.clone()),
                    })?;
                }
                if let Some(t) = &j.twin {
                    self.writer.event(Event::TwinVerdict {
                        turn,
                        submit: submits,
                        pass: t.verdict.pass,
                        verdict: Box::new(t.verdict.clone()),
                    })?;
                }
                if let (Some(v), Some(t)) = (&j.verdict, &j.twin) {
                    first_ok = v.pass && t.verdict.pass && submits == 1;
                    last =
                        Some(Submitted { points: waypoints, verdict: v.clone(), twin: t.clone() });
                }
                content.push(Content::ToolResult(ToolResult {
                    call_id,
                    content: j.content,
                    images: vec![],
                    is_error: j.verdict.is_none(),
                }));
                outcome = Some(j.outcome);
            }
            match outcome {
                Some(submit::Outcome::Revise(text)) => content.push(Content::text(text)),
                Some(submit::Outcome::End(status, why)) => {
                    history.push(Message::user(content));
                    break (status, why);
                }
                None => {}
            }
            history.push(Message::user(content));
        };
        self.finish(status, &reason, submits, first_ok, last)
    }

    fn finish(
        self,
        status: RunStatus,
        reason: &str,
        submits: u32,
        first_ok: bool,
        last: Option<Submitted>,
    ) -> Result<RunReport, SessionError> {
        if let Some(sub) = &last {
            dossier::write(
                &self.writer,
                &self.sol,
                &self.toolbox,
                &sub.points,
                &sub.verdict,
                &sub.twin,
                &dossier::Source {
                    model: &self.cfg.model_name,
                    provider: self.provider.kind().as_str(),
                    model_id: self.provider.model(),
                    prompt: &self.prompt,
                },
            )?;
        }
        let report = RunReport {
            run_id: self.writer.run_id().to_owned(),
            dir: self.writer.dir().to_path_buf(),
            status,
            reason: reason.to_owned(),
            submits,
            accepted_first_submit: first_ok,
            waypoints: last.as_ref().map(|l| l.points.clone()),
            verdict: last.as_ref().map(|l| l.verdict.clone()),
            twin: last.map(|l| l.twin.verdict),
            marks: self.toolbox.mark_records(),
            totals: self.totals,
            tool_calls_by_tool: self.by_tool.clone(),
            elapsed_s: self.started.elapsed().as_secs_f64(),
        };
        let mut w = self.writer;
        w.event(Event::RunEnded {
            status,
            reason: reason.to_owned(),
            totals: report.totals,
            tool_calls_by_tool: report.tool_calls_by_tool.clone(),
            submits,
            elapsed_s: report.elapsed_s,
        })?;
        w.set_status(status.as_str(), Some(reason))?;
        Ok(report)
    }
}

/// Drops the images of older tool results from `messages` (the first message, with the
/// overview, is never touched), replacing each with a note that its footprint is in the
/// result's JSON. The newest `keep` tool images always stay; older ones are dropped `batch` at
/// a time, so between drops the conversation sent is the previous request plus new messages:
/// the prefix a provider's prompt cache holds stays byte-identical for `batch` images at a
/// time instead of changing at every new tile (which would re-bill everything after the
/// pruned image at full price, every turn). Dropped images stay dropped.
pub fn prune_images(messages: &mut [Message], keep: usize, batch: usize) {
    let with_images = messages
        .iter()
        .skip(1)
        .flat_map(|m| m.content.iter())
        .filter(|c| matches!(c, Content::ToolResult(r) if !r.images.is_empty()))
        .count();
    let over = with_images.saturating_sub(keep);
    let mut drop = over - over % batch.max(1);
    for m in messages.iter_mut().skip(1) {
        for c in &mut m.content {
            if drop == 0 {
                return;
            }
            if let Content::ToolResult(r) = c {
                if !r.images.is_empty() {
                    r.images.clear();
                    r.content.push_str(
                        "\n(image no longer attached, to save tokens: its footprint is above)",
                    );
                    drop -= 1;
                }
            }
        }
    }
}

/// Sizes of every image a request carries.
fn request_images(request: &ModelRequest) -> impl Iterator<Item = (u32, u32)> + '_ {
    request.messages.iter().filter(|m| m.role == Role::User).flat_map(|m| {
        m.content.iter().flat_map(|c| match c {
            Content::Image(img) => img.dimensions().into_iter().collect::<Vec<_>>(),
            Content::ToolResult(r) => r.images.iter().filter_map(ImageData::dimensions).collect(),
            _ => Vec::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ImageData, ToolResult};

    /// The overview, then `n` turns each returning one tile.
    fn history(n: usize) -> Vec<Message> {
        let mut h = vec![Message::user(vec![
            Content::text("task"),
            Content::Image(ImageData::png(vec![0])),
        ])];
        for i in 0..n {
            h.push(Message {
                role: Role::Assistant,
                content: vec![Content::text(format!("t{i}"))],
            });
            h.push(Message::user(vec![Content::ToolResult(ToolResult {
                call_id: format!("c{i}"),
                content: format!("{{\"tile\": {i}}}"),
                images: vec![ImageData::png(vec![1, u8::try_from(i).unwrap()])],
                is_error: false,
            })]));
        }
        h
    }

    fn attached(m: &[Message]) -> Vec<bool> {
        m.iter()
            .flat_map(|m| m.content.iter())
            .filter_map(|c| match c {
                Content::ToolResult(r) => Some(!r.images.is_empty()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn images_are_dropped_oldest_first_in_batches() {
        let (keep, batch) = (2, 4);
        let mut previous: Option<Vec<Message>> = None;
        let mut changed_prefix = 0;
        for n in 0..=14 {
            let mut m = history(n);
            prune_images(&mut m, keep, batch);
            let kept = attached(&m);
            let k = kept.iter().filter(|a| **a).count();
            // Between `keep` and `keep + batch - 1` newest images stay, the rest are gone.
            assert!(k == n || (keep..keep + batch).contains(&k), "{n} tiles: {k} kept");
            assert!(kept.iter().skip(n - k).all(|a| *a), "the newest stay: {kept:?}");
            // The overview is never touched.
            assert!(matches!(m[0].content[1], Content::Image(_)));
            // Each request extends the one before it, except when a batch is dropped.
            if let Some(p) = &previous {
                if m[..p.len()] != p[..] {
                    changed_prefix += 1;
                }
            }
            previous = Some(m);
        }
        // 14 tiles with 2 kept: the prefix changed at 3 drops (tiles 6, 10, 14), not 12.
        assert_eq!(changed_prefix, 3);
        // A batch of 1 is the old behaviour: exactly `keep` stay.
        let mut m = history(7);
        prune_images(&mut m, 2, 1);
        assert_eq!(attached(&m).iter().filter(|a| **a).count(), 2);
        let text = match &m[2].content[0] {
            Content::ToolResult(r) => r.content.clone(),
            _ => unreachable!(),
        };
        assert!(text.contains("no longer attached"), "{text}");
    }
}
