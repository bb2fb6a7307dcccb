//! The events of a transcript, typed: one variant per thing the loop records, written by the
//! session and read back by `show`, the eval report and the `replay` provider by matching on
//! them, never by string keys.
//!
//! The JSON of a line is `{"seq", "t_ms", "event": <name>, ...fields}` with the fields of the
//! variant, keys in sorted order ([`super::RunWriter`] writes the [`Record`] as a JSON value,
//! whose maps are sorted), exactly as transcripts were written before the events were typed:
//! `fixtures/transcripts/v1/` holds one of those and the tests load every line of it into a
//! known variant.
//!
//! # Adding an event
//!
//! The twin and perception events to come are added the same way as every event here: a
//! variant with its fields (snake_case name = the `event` tag), its name in [`Event::NAMES`],
//! and a sample in the round-trip test below. The readers match without a catch-all for the
//! known variants on purpose, so the compiler names every reader that has to decide how to
//! show the new event. Fields added to an existing event later must be `#[serde(default)]`, so
//! older transcripts still load into their variant.
//!
//! Transcripts written by a newer version (an event this version does not know) still load:
//! such a line becomes [`Event::Other`] with its fields untouched, and readers show it as a
//! generic event or skip it.

use std::collections::BTreeMap;

use breadcrumb_tools::checker::Verdict;
use breadcrumb_tools::perception::MarkRecord;
use breadcrumb_tools::twin::TwinVerdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::ModelResponse;
use crate::run::{Budgets, RunStatus, Totals};

/// One line of `transcript.jsonl`: where it is in the run and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the transcript, from 0.
    #[serde(default)]
    pub seq: u64,
    /// Milliseconds since the run started.
    #[serde(default)]
    pub t_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl Record {
    /// The record as its line of `transcript.jsonl` (no newline). Written through a JSON value,
    /// whose maps keep their keys sorted, so the line is byte for byte what the untyped writer
    /// wrote before the events were typed.
    #[must_use]
    pub fn to_line(&self) -> String {
        serde_json::to_value(self)
            .and_then(|v| serde_json::to_string(&v))
            .unwrap_or_else(|_| "{}".into())
    }
}

/// What happened, one variant per kind of line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The first event: what runs, with which model, prompt, checker and limits.
    RunStarted {
        /// The run id.
        run_id: String,
        /// The sol's id.
        sol: String,
        /// The model's name in `models.toml`.
        model: String,
        /// The provider kind (`openai`, `anthropic`, `reference`, ...).
        provider: String,
        /// The model id sent to the server.
        model_id: String,
        /// The prompt version.
        prompt: String,
        /// The prompt set's content hash.
        prompt_hash: String,
        /// The checker's version.
        checker_version: String,
        /// The rule set's version.
        rule_set_version: String,
        /// Failed submissions the model may revise.
        max_revisions: u32,
        /// Limits of the run.
        budgets: Budgets,
    },
    /// The corridor overview tile sent with the task.
    Overview {
        /// The `view_tile` arguments it was drawn with.
        args: Value,
        /// Content hashes of its images (`images/<hash>.png`).
        images: Vec<String>,
    },
    /// A request about to be sent (before any retries).
    Request {
        /// The turn it asks for.
        turn: u32,
        /// `sha256:<hex>` of `request` ([`crate::session::record::request_hash`]).
        request_hash: String,
        /// The request in its recorded form, images by hash
        /// ([`crate::session::record::normalized`]).
        request: Value,
    },
    /// What the model answered, with the turn's usage and cost.
    Response {
        /// The turn.
        turn: u32,
        /// The answer as the provider normalised it.
        response: ModelResponse,
        /// Whether the server reported token counts (else they are zero).
        usage_reported: bool,
        /// Image tokens of the request, reported or estimated.
        image_tokens: u64,
        /// USD of the turn.
        cost_usd: f64,
        /// Wall time of the exchange, milliseconds.
        latency_ms: f64,
    },
    /// A request failed for good (not retryable, or retries exhausted).
    ProviderError {
        /// The turn.
        turn: u32,
        /// The error.
        error: String,
        /// Whether it was a retryable failure whose retries ran out.
        retryable: bool,
    },
    /// A request failed and is sent again after a wait.
    Retry {
        /// The turn.
        turn: u32,
        /// Which retry this is, from 1.
        attempt: u32,
        /// Why the request failed.
        error: String,
        /// The wait before the retry, milliseconds.
        wait_ms: u64,
        /// How long the failed request took, milliseconds.
        failed_after_ms: u64,
    },
    /// A tool call the model asked for, as it wrote it.
    ToolCall {
        /// The turn.
        turn: u32,
        /// The call's id.
        id: String,
        /// The tool's name (may name no tool).
        name: String,
        /// The arguments (a JSON string when the model's text was not JSON).
        arguments: Value,
    },
    /// What a tool call answered.
    ToolResult {
        /// The turn.
        turn: u32,
        /// The call's id.
        id: String,
        /// The tool's name.
        name: String,
        /// Whether the call succeeded.
        ok: bool,
        /// The tool's JSON result, when it succeeded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        /// Content hashes of its images, when it succeeded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        images: Option<Vec<String>>,
        /// The structured error the model was sent, when it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
        /// How long the call took, milliseconds.
        ms: f64,
    },
    /// Hazards the model marked with `mark_hazards` (after that call's `tool_result`): from
    /// now on the blocking ones are keep-outs of the run.
    Marks {
        /// The turn.
        turn: u32,
        /// The `mark_hazards` call's id.
        id: String,
        /// The marks it made, with their ids in the run.
        marks: Vec<MarkRecord>,
    },
    /// The safety checker's verdict on a submitted route.
    Verdict {
        /// The turn.
        turn: u32,
        /// Which submission, from 1.
        submit: u32,
        /// Whether the route passed.
        pass: bool,
        /// The whole verdict (boxed: it is by far the largest event).
        verdict: Box<Verdict>,
    },
    /// The digital twin's verdict on the same submitted route (the second gate).
    TwinVerdict {
        /// The turn.
        turn: u32,
        /// Which submission, from 1.
        submit: u32,
        /// Whether the twin passed it.
        pass: bool,
        /// The whole verdict.
        verdict: Box<TwinVerdict>,
    },
    /// A message sent to a model that answered without calling a tool.
    Corrective {
        /// The turn.
        turn: u32,
        /// The message.
        message: String,
    },
    /// A budget ran out before the next turn.
    BudgetStop {
        /// Which, in a sentence.
        reason: String,
    },
    /// The last event of a run that ended cleanly.
    RunEnded {
        /// How it ended.
        status: RunStatus,
        /// Why, in a sentence.
        reason: String,
        /// Turns, tool calls, tokens, cost, retries.
        totals: Totals,
        /// Tool calls by tool name.
        tool_calls_by_tool: BTreeMap<String, u32>,
        /// Routes submitted.
        submits: u32,
        /// Wall time, seconds.
        elapsed_s: f64,
    },
    /// An event this version does not know (written by a newer one), or a line whose fields do
    /// not fit its event: every field as written, `event` included.
    #[serde(untagged)]
    Other(serde_json::Map<String, Value>),
}

impl Event {
    /// The `event` tags of the known variants.
    pub const NAMES: &'static [&'static str] = &[
        "run_started",
        "overview",
        "request",
        "response",
        "provider_error",
        "retry",
        "tool_call",
        "tool_result",
        "marks",
        "verdict",
        "twin_verdict",
        "corrective",
        "budget_stop",
        "run_ended",
    ];

    /// The event's `event` tag (for [`Event::Other`], whatever its line says, or "").
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::Overview { .. } => "overview",
            Event::Request { .. } => "request",
            Event::Response { .. } => "response",
            Event::ProviderError { .. } => "provider_error",
            Event::Retry { .. } => "retry",
            Event::ToolCall { .. } => "tool_call",
            Event::ToolResult { .. } => "tool_result",
            Event::Marks { .. } => "marks",
            Event::Verdict { .. } => "verdict",
            Event::TwinVerdict { .. } => "twin_verdict",
            Event::Corrective { .. } => "corrective",
            Event::BudgetStop { .. } => "budget_stop",
            Event::RunEnded { .. } => "run_ended",
            Event::Other(fields) => fields.get("event").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// Whether this is a line this version could not read as its event: an unknown event, or
    /// a known one whose fields do not fit (a damaged line).
    #[must_use]
    pub fn is_other(&self) -> bool {
        matches!(self, Event::Other(_))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::provider::{StopReason, ToolCall, Usage};

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/transcripts/v1/transcript.jsonl")
    }

    /// A transcript written by the untyped writer (before the events were typed) loads line by
    /// line into known events, and each writes back as the very same bytes.
    #[test]
    fn a_v1_transcript_loads_into_known_events_and_writes_back_the_same_bytes() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let mut names = std::collections::BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let record: Record = serde_json::from_str(line).unwrap();
            assert!(!record.event.is_other(), "line {}: {line:.200}", i + 1);
            assert_eq!(record.seq, i as u64);
            assert_eq!(record.to_line(), line, "line {}", i + 1);
            names.insert(record.event.name().to_owned());
        }
        // The reference policy's accepted run: every event of a run without trouble.
        for name in [
            "run_started",
            "overview",
            "request",
            "response",
            "tool_call",
            "tool_result",
            "verdict",
            "run_ended",
        ] {
            assert!(names.contains(name), "no {name} in the fixture: {names:?}");
        }
    }

    /// A real twin verdict (a short drive on flat ground), read back from its JSON so its
    /// numbers are the rounded ones a transcript holds.
    fn twin_verdict() -> TwinVerdict {
        use breadcrumb_tools::terrain::{GeoTransform, Grid, RoverProfile};
        let p =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
        let profile = RoverProfile::load(&p).unwrap();
        let t = GeoTransform { x0: 0.0, y0: 40.0, dx: 1.0, dy: -1.0 };
        let grid = Grid::filled(40, 40, 0.0, t);
        let run =
            breadcrumb_tools::twin::run(&profile, &grid, &[(20.0, 10.0), (20.0, 25.0)], None, "s");
        assert!(run.verdict.pass);
        serde_json::from_str(&run.verdict.to_json()).unwrap()
    }

    fn samples() -> Vec<Event> {
        let verdict: Verdict = serde_json::from_value(json!({
            "pass": false, "rule_set_version": "1", "checker_version": "1", "sol": "s",
            "rover": "r",
            "summary": {"waypoints": 2, "segments": 1, "length_m": 20.0, "drive_budget_m": 100.0,
                        "terrain_walked": true, "poses_evaluated": 10, "max_tilt_deg": 3.0,
                        "max_step_m": null, "max_belly_obstacle_m": null,
                        "min_hazard_clearance_m": 2.0, "min_keep_out_clearance_m": null,
                        "min_keep_in_margin_m": null},
            "rules": [], "violations": []
        }))
        .unwrap();
        let response = ModelResponse {
            text: "t".into(),
            tool_calls: vec![ToolCall {
                id: "c1".into(),
                name: "view_tile".into(),
                arguments: json!({}),
            }],
            usage: Some(Usage::default()),
            stop_reason: StopReason::ToolUse,
            latency: std::time::Duration::from_millis(5),
            model: None,
        };
        vec![
            Event::RunStarted {
                run_id: "r".into(),
                sol: "s".into(),
                model: "m".into(),
                provider: "openai".into(),
                model_id: "m1".into(),
                prompt: "v1".into(),
                prompt_hash: "sha256:p".into(),
                checker_version: "1".into(),
                rule_set_version: "1".into(),
                max_revisions: 3,
                budgets: Budgets::default(),
            },
            Event::Overview { args: json!({"size_m": 100.0}), images: vec!["ab".into()] },
            Event::Request { turn: 1, request_hash: "sha256:1".into(), request: json!({}) },
            Event::Response {
                turn: 1,
                response,
                usage_reported: true,
                image_tokens: 0,
                cost_usd: 0.5,
                latency_ms: 5.0,
            },
            Event::ProviderError { turn: 1, error: "401".into(), retryable: false },
            Event::Retry {
                turn: 1,
                attempt: 1,
                error: "500".into(),
                wait_ms: 10,
                failed_after_ms: 2,
            },
            Event::ToolCall {
                turn: 1,
                id: "c1".into(),
                name: "x".into(),
                arguments: json!("{bad"),
            },
            Event::ToolResult {
                turn: 1,
                id: "c1".into(),
                name: "x".into(),
                ok: false,
                result: None,
                images: None,
                error: Some(json!({"error": "unknown_tool"})),
                ms: 0.5,
            },
            Event::Marks {
                turn: 1,
                id: "c2".into(),
                marks: vec![MarkRecord {
                    id: "m1".into(),
                    marked_class: "bedrock".into(),
                    class: "outcrop".into(),
                    blocks: false,
                    confidence: 0.5,
                    reason: "bright flat rock".into(),
                    area_m2: 0.5,
                    ring: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                }],
            },
            Event::Verdict { turn: 1, submit: 1, pass: false, verdict: Box::new(verdict) },
            Event::TwinVerdict {
                turn: 1,
                submit: 1,
                pass: true,
                verdict: Box::new(twin_verdict()),
            },
            Event::Corrective { turn: 2, message: "call a tool".into() },
            Event::BudgetStop { reason: "turn budget reached (2 turns)".into() },
            Event::RunEnded {
                status: RunStatus::Rejected,
                reason: "no".into(),
                totals: Totals::default(),
                tool_calls_by_tool: BTreeMap::from([("x".to_owned(), 1)]),
                submits: 1,
                elapsed_s: 1.5,
            },
        ]
    }

    #[test]
    fn every_event_round_trips_under_its_name() {
        let samples = samples();
        let names: Vec<&str> = samples.iter().map(Event::name).collect();
        assert_eq!(names, Event::NAMES, "one sample per variant, in NAMES order");
        for (seq, event) in samples.into_iter().enumerate() {
            let record = Record { seq: seq as u64, t_ms: 7, event };
            let line = record.to_line();
            let value: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(value["event"], record.event.name(), "{line}");
            let back: Record = serde_json::from_str(&line).unwrap();
            assert_eq!(back, record, "{line}");
        }
    }

    /// Events of a newer version, and known events whose fields do not fit, load as `Other`
    /// and write back unchanged.
    #[test]
    fn unknown_events_load_and_write_back_unchanged() {
        for line in [
            r#"{"event":"twin_step","pose":[1.0,2.0],"seq":4,"t_ms":12}"#,
            r#"{"event":"request","seq":5,"t_ms":13,"turn":1}"#,
        ] {
            let record: Record = serde_json::from_str(line).unwrap();
            assert!(record.event.is_other(), "{line}");
            assert_eq!(record.seq, if line.contains("twin") { 4 } else { 5 });
            assert_eq!(record.to_line(), line);
        }
        let twin: Record =
            serde_json::from_str(r#"{"event":"twin_step","seq":0,"t_ms":0}"#).unwrap();
        assert_eq!(twin.event.name(), "twin_step");
    }
}
