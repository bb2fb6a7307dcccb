//! An attempt's transcript as steps people read in order: what the model was told, what it said,
//! the tools it called with their arguments and results, the tiles it was shown, its submissions
//! and the checker's verdicts.
//!
//! Requests carry the whole conversation again every turn; a step shows only what is new in
//! each (the first request's system prompt and task, later the text added since the previous
//! one, such as revision instructions), so nothing is repeated and nothing the model saw is left
//! out. A request's images are not shown with it: they are the JPEG copies of the tiles the
//! overview and the tool results show (the transcript keeps each tile once, as the PNG it was
//! drawn as; a request names the JPEG by the hash of its own bytes, which has no file). Everything here is plain text: the page template escapes it, because model
//! output and tool results are not trusted to be HTML.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use breadcrumb_agent::transcript::{Event, Record};
use serde::Serialize;
use serde_json::Value;

use super::images::ImageBank;

/// Longest JSON or text block shown in full, characters; longer ones are cut with a note.
const MAX_BLOCK: usize = 6000;

/// One step of a transcript.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Step {
    /// What kind of step (a CSS class): `start`, `prompt`, `request`, `model`, `call`, `result`,
    /// `error`, `verdict-pass`, `verdict-fail`, `note`, `end`, `other`.
    pub kind: &'static str,
    /// A one-line heading.
    pub label: String,
    /// Time since the attempt started, e.g. `+1.25 s`.
    pub at: String,
    /// Prose (the model's words, a corrective message).
    pub text: Option<String>,
    /// A long text shown folded (the system prompt).
    pub folded: Option<String>,
    /// Pretty JSON or other preformatted text (arguments, results).
    pub code: Option<String>,
    /// Short lines (violations, totals).
    pub items: Vec<String>,
    /// Keys of images in the report's image bank.
    pub images: Vec<String>,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn cut(text: String) -> String {
    let n = text.chars().count();
    if n <= MAX_BLOCK {
        return text;
    }
    let mut out: String = text.chars().take(MAX_BLOCK).collect();
    let _ = write!(out, "\n… ({} more characters in transcript.jsonl)", n - MAX_BLOCK);
    out
}

fn pretty(v: &Value) -> String {
    cut(serde_json::to_string_pretty(v).unwrap_or_default())
}

/// `x` with `digits` decimals, "-" when it is not a number (a non-finite value is written as
/// `null` and read back as NaN).
fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "-".into()
    }
}

/// The request's user content added since the previous request (texts not shown already), and
/// how many messages it holds.
struct NewContent {
    texts: Vec<String>,
    messages: usize,
}

fn new_content(req: &Value, seen: usize, shown_texts: &HashSet<String>) -> NewContent {
    let msgs = req["messages"].as_array().map_or(&[][..], Vec::as_slice);
    let new = msgs.get(seen.min(msgs.len())..).unwrap_or(&[]);
    let mut texts = Vec::new();
    for m in new.iter().filter(|m| m["role"] == "user") {
        for c in m["content"].as_array().map_or(&[][..], Vec::as_slice) {
            if c["type"] == "text" {
                let t = s(&c["text"]);
                if !shown_texts.contains(&t) {
                    texts.push(t);
                }
            }
        }
    }
    NewContent { texts, messages: msgs.len() }
}

/// One violation of a verdict, on one line.
fn violation_line(x: &breadcrumb_tools::checker::Violation) -> String {
    format!(
        "{} (segment {}) at ({}, {}): {}",
        x.rule,
        x.segment.map_or_else(String::new, |s| s.to_string()),
        num(x.x, 2),
        num(x.y, 2),
        x.message
    )
}

/// Builds the steps of one transcript; images go to `bank` (read from `dir/images/`).
#[must_use]
pub fn steps(events: &[Record], dir: &Path, bank: &mut ImageBank) -> Vec<Step> {
    let mut out = Vec::new();
    let mut messages_seen = 0usize;
    let mut shown_images: HashSet<String> = HashSet::new();
    let mut shown_texts: HashSet<String> = HashSet::new();
    let mut add_images = |hashes: &[String], bank: &mut ImageBank| {
        let mut keys = Vec::new();
        for h in hashes {
            if shown_images.insert(h.clone()) {
                keys.extend(bank.transcript_image(dir, h));
            }
        }
        keys
    };
    for r in events {
        let at = format!("+{:.2} s", r.t_ms as f64 / 1e3);
        let mut step = Step { at, ..Step::default() };
        match &r.event {
            Event::RunStarted {
                model,
                provider,
                model_id,
                prompt,
                sol,
                max_revisions,
                budgets,
                checker_version,
                rule_set_version,
                ..
            } => {
                step.kind = "start";
                step.label = format!(
                    "started: model {model} ({provider} {model_id}), prompt {prompt}, sol {sol}"
                );
                step.items = vec![
                    format!("max revisions {max_revisions}"),
                    // As a JSON value: keys sorted, as the transcript line has them.
                    format!("budgets {}", s(&serde_json::to_value(budgets).unwrap_or_default())),
                    format!("checker {checker_version} (rules v{rule_set_version})"),
                ];
            }
            Event::Overview { args, images } => {
                step.kind = "prompt";
                step.label = "corridor overview tile".into();
                step.code = Some(s(args));
                step.images = add_images(images, bank);
            }
            Event::Request { turn, request, .. } => {
                let first = messages_seen == 0;
                let new = new_content(request, messages_seen, &shown_texts);
                messages_seen = new.messages;
                let n = new.messages;
                step.kind = if first { "prompt" } else { "request" };
                step.label =
                    format!("request, turn {turn} ({n} message{})", if n == 1 { "" } else { "s" });
                if first {
                    step.folded = request.get("system").map(s).map(cut);
                }
                if !new.texts.is_empty() {
                    step.text = Some(cut(new.texts.join("\n\n")));
                }
            }
            Event::Response { turn, response, image_tokens, cost_usd, latency_ms, .. } => {
                let calls = response.tool_calls.len();
                // Blank, not 0, when the server reported no usage.
                let tokens = |f: fn(&breadcrumb_agent::provider::Usage) -> u64| {
                    response.usage.as_ref().map_or_else(String::new, |u| f(u).to_string())
                };
                step.kind = "model";
                step.label = format!(
                    "model, turn {turn}: {calls} tool call{}, stop {}",
                    if calls == 1 { "" } else { "s" },
                    s(&serde_json::to_value(&response.stop_reason).unwrap_or_default())
                );
                if !response.text.trim().is_empty() {
                    step.text = Some(cut(response.text.clone()));
                }
                step.items = vec![format!(
                    "tokens in {} / out {} / image {image_tokens}, ${}, {} ms",
                    tokens(|u| u.input_tokens),
                    tokens(|u| u.output_tokens),
                    num(*cost_usd, 4),
                    num(*latency_ms, 0)
                )];
            }
            Event::ToolCall { name, id, arguments, .. } => {
                step.kind = "call";
                step.label = format!("call {name} ({id})");
                step.code = Some(pretty(arguments));
            }
            Event::ToolResult { name, id, ok, result, images, error, ms, .. } => {
                step.kind = if *ok { "result" } else { "error" };
                step.label = format!(
                    "{} {name} ({id}), {} ms",
                    if *ok { "result of" } else { "error from" },
                    num(*ms, 1)
                );
                let shown = if *ok { result } else { error };
                step.code = Some(pretty(shown.as_ref().unwrap_or(&Value::Null)));
                step.images = add_images(images.as_deref().unwrap_or_default(), bank);
            }
            Event::Marks { marks, .. } => {
                step.kind = "note";
                step.label = format!(
                    "the model marked {} hazard(s), {} blocking (keep-outs from now on)",
                    marks.len(),
                    marks.iter().filter(|m| m.blocks).count()
                );
                step.items = marks
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {}{} ({} m², confidence {}): {}",
                            m.id,
                            m.marked_class,
                            if m.blocks { ", blocking" } else { "" },
                            num(m.area_m2, 1),
                            num(m.confidence, 2),
                            m.reason
                        )
                    })
                    .collect();
            }
            Event::Verdict { submit, pass, verdict, .. } => {
                step.kind = if *pass { "verdict-pass" } else { "verdict-fail" };
                step.label = format!(
                    "checker verdict on submission {submit}: {} ({} m of {} m budget)",
                    if *pass { "PASS" } else { "FAIL" },
                    num(verdict.summary.length_m, 1),
                    num(verdict.summary.drive_budget_m, 0)
                );
                step.items = verdict.violations.iter().map(violation_line).collect();
            }
            Event::TwinVerdict { submit, pass, verdict, .. } => {
                step.kind = if *pass { "verdict-pass" } else { "verdict-fail" };
                let sm = &verdict.summary;
                step.label = format!(
                    "digital twin verdict on submission {submit}: {} ({} poses, {} values \
                     checked against {} limits, drive {} s of a {} s window)",
                    if *pass { "PASS" } else { "FAIL" },
                    sm.poses,
                    sm.values_checked,
                    sm.limits_checked,
                    num(sm.duration_s, 0),
                    num(sm.drive_window_s, 0)
                );
                step.items = verdict.violations.iter().map(|v| v.message.clone()).collect();
            }
            Event::Corrective { message, .. } => {
                shown_texts.insert(message.clone());
                step.kind = "note";
                step.label = "corrective message to the model".into();
                step.text = Some(message.clone());
            }
            Event::BudgetStop { reason: text }
            | Event::ProviderError { error: text, .. }
            | Event::Retry { error: text, .. } => {
                step.kind = "note";
                step.label = r.event.name().replace('_', " ");
                step.text = Some(text.clone());
            }
            Event::RunEnded { status, reason, totals: t, submits, elapsed_s, .. } => {
                step.kind = "end";
                step.label = format!("ended: {} after {} s", status.as_str(), num(*elapsed_s, 2));
                step.text = Some(reason.clone());
                step.items = vec![format!(
                    "{} turn(s), {} tool call(s), {submits} submission(s), tokens in {} / out {}, \
                     ${}",
                    t.turns,
                    t.tool_calls,
                    t.input_tokens,
                    t.output_tokens,
                    num(t.cost_usd, 4)
                )];
            }
            Event::Other(fields) => {
                let mut rest = fields.clone();
                rest.remove("event");
                let kind = r.event.name();
                step.kind = "other";
                step.label = if kind.is_empty() { "event".into() } else { kind.to_owned() };
                step.code = Some(pretty(&Value::Object(rest)));
            }
        }
        out.push(step);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_show_new_things_once() {
        let img = "a".repeat(64);
        let tile = "b".repeat(64);
        // Requests name the JPEGs the model was sent, by their own hashes (no file has them).
        let (img_jpeg, tile_jpeg) = ("c".repeat(64), "d".repeat(64));
        let task = json!({"role": "user", "content": [
            {"type": "text", "text": "Plan the drive <b>now</b>"},
            {"type": "image", "image": {"sha256": img_jpeg}}]});
        let budgets = json!({"max_turns": 30, "max_tokens": null, "max_cost_usd": null,
            "deadline": null});
        let events = vec![
            json!({"event": "run_started", "seq": 0, "t_ms": 0, "model": "m", "sol": "s",
                   "run_id": "r", "provider": "openai", "model_id": "m1", "prompt": "v1",
                   "prompt_hash": "sha256:p", "checker_version": "1", "rule_set_version": "1",
                   "max_revisions": 3, "budgets": budgets}),
            json!({"event": "overview", "seq": 1, "t_ms": 5, "images": [img], "args": {"size_m": 100}}),
            json!({"event": "request", "turn": 1, "request_hash": "sha256:1",
                   "request": {"system": "be safe", "messages": [task]}}),
            json!({"event": "response", "turn": 1, "response": {"text": "<script>alert(1)</script>",
                   "tool_calls": [{"id": "c1", "name": "view_tile", "arguments": {}}],
                   "stop_reason": "tool_use", "usage": null, "latency": {"secs": 0, "nanos": 0},
                   "model": null},
                   "usage_reported": false, "image_tokens": 0, "cost_usd": 0.0, "latency_ms": 1.0}),
            json!({"event": "tool_call", "turn": 1, "name": "view_tile", "id": "c1", "arguments": {"size_m": 50}}),
            json!({"event": "tool_result", "turn": 1, "name": "view_tile", "id": "c1", "ok": true,
                   "result": {"layer": "slope"}, "images": [tile, "../../etc/passwd"], "ms": 2.0}),
            json!({"event": "corrective", "turn": 1, "message": "call a tool"}),
            json!({"event": "request", "turn": 2, "request_hash": "sha256:2",
                   "request": {"system": "be safe", "messages": [task,
                {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "call_id": "c1", "content": "{}", "images": [{"sha256": tile_jpeg}]},
                    {"type": "text", "text": "call a tool"},
                    {"type": "text", "text": "The checker rejected the route: fix it."}]}]}}),
            json!({"event": "mystery", "seq": 9, "t_ms": 10, "payload": 1}),
        ];
        let events: Vec<Record> =
            events.into_iter().map(|e| serde_json::from_value(e).unwrap()).collect();
        // Every event but the last is one of the known ones.
        let other: Vec<bool> = events.iter().map(|r| r.event.is_other()).collect();
        assert_eq!(other, [false, false, false, false, false, false, false, false, true]);
        let mut bank = ImageBank::new();
        let st = steps(&events, Path::new("/x"), &mut bank);
        let kinds: Vec<&str> = st.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            ["start", "prompt", "prompt", "model", "call", "result", "note", "request", "other"]
        );
        // The overview image is shown with the overview, not again with the request.
        assert_eq!(st[1].images, std::slice::from_ref(&img));
        assert!(st[2].images.is_empty());
        assert_eq!(st[2].folded.as_deref(), Some("be safe"));
        // Model text stays plain text here; escaping is the template's job.
        assert_eq!(st[3].text.as_deref(), Some("<script>alert(1)</script>"));
        // The tile once, the bad name never.
        assert_eq!(st[5].images, std::slice::from_ref(&tile));
        assert_eq!(bank.len(), 2);
        // The second request shows only what is new and not shown already.
        assert_eq!(st[7].text.as_deref(), Some("The checker rejected the route: fix it."));
        assert!(st[7].images.is_empty());
        assert!(st[7].folded.is_none());
        assert!(st[8].code.as_deref().unwrap().contains("payload"));
        assert_eq!(st[8].at, "+0.01 s");
    }

    #[test]
    fn long_blocks_are_cut_with_a_note() {
        let long = "x".repeat(MAX_BLOCK + 10);
        let c = cut(long);
        assert!(c.ends_with("(10 more characters in transcript.jsonl)"), "{}", &c[c.len() - 60..]);
    }
}
