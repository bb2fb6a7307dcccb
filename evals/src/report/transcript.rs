//! An attempt's transcript as steps people read in order: what the model was told, what it said,
//! the tools it called with their arguments and results, the tiles it was shown, its submissions
//! and the checker's verdicts.
//!
//! Requests carry the whole conversation again every turn; a step shows only what is new in
//! each (the first request's system prompt and task, later the text and images added since the
//! previous one, such as revision instructions), so nothing is repeated and nothing the model
//! saw is left out. Everything here is plain text: the page template escapes it, because model
//! output and tool results are not trusted to be HTML.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

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

fn num(v: &Value, digits: usize) -> String {
    v.as_f64().map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// The image hashes of one content item of a normalised request (`image` or `tool_result`).
fn content_images(c: &Value) -> Vec<String> {
    let one = |r: &Value| r.get("sha256").and_then(Value::as_str).map(str::to_owned);
    match c.get("type").and_then(Value::as_str) {
        Some("image") => c.get("image").and_then(one).into_iter().collect(),
        Some("tool_result") => c
            .get("images")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(one).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Builds the steps of one transcript; images go to `bank` (read from `dir/images/`).
#[must_use]
pub fn steps(events: &[Value], dir: &Path, bank: &mut ImageBank) -> Vec<Step> {
    let mut out = Vec::new();
    let mut messages_seen = 0usize;
    let mut shown_images: HashSet<String> = HashSet::new();
    let mut shown_texts: HashSet<String> = HashSet::new();
    let mut add_images = |hashes: &mut dyn Iterator<Item = String>, bank: &mut ImageBank| {
        let mut keys = Vec::new();
        for h in hashes {
            if shown_images.insert(h.clone()) {
                keys.extend(bank.transcript_image(dir, &h));
            }
        }
        keys
    };
    for e in events {
        let kind = e.get("event").and_then(Value::as_str).unwrap_or("");
        let at = e
            .get("t_ms")
            .and_then(Value::as_f64)
            .map_or_else(String::new, |ms| format!("+{:.2} s", ms / 1e3));
        let turn = e.get("turn").and_then(Value::as_u64);
        let mut step = Step { at, ..Step::default() };
        match kind {
            "run_started" => {
                step.kind = "start";
                step.label = format!(
                    "started: model {} ({} {}), prompt {}, sol {}",
                    s(&e["model"]),
                    s(&e["provider"]),
                    s(&e["model_id"]),
                    s(&e["prompt"]),
                    s(&e["sol"])
                );
                step.items = vec![
                    format!("max revisions {}", s(&e["max_revisions"])),
                    format!("budgets {}", s(&e["budgets"])),
                    format!(
                        "checker {} (rules v{})",
                        s(&e["checker_version"]),
                        s(&e["rule_set_version"])
                    ),
                ];
            }
            "overview" => {
                step.kind = "prompt";
                step.label = "corridor overview tile".into();
                step.code = Some(s(&e["args"]));
                let hashes = e["images"]
                    .as_array()
                    .map(|a| a.iter().map(s).collect::<Vec<_>>())
                    .unwrap_or_default();
                step.images = add_images(&mut hashes.into_iter(), bank);
            }
            "request" => {
                let req = &e["request"];
                let msgs = req["messages"].as_array().map_or(&[][..], Vec::as_slice);
                let new = msgs.get(messages_seen.min(msgs.len())..).unwrap_or(&[]);
                let first = messages_seen == 0;
                messages_seen = msgs.len();
                let mut texts = Vec::new();
                let mut hashes = Vec::new();
                for m in new.iter().filter(|m| m["role"] == "user") {
                    for c in m["content"].as_array().map_or(&[][..], Vec::as_slice) {
                        hashes.extend(content_images(c));
                        if c["type"] == "text" {
                            let t = s(&c["text"]);
                            if !shown_texts.contains(&t) {
                                texts.push(t);
                            }
                        }
                    }
                }
                step.kind = if first { "prompt" } else { "request" };
                step.label = format!(
                    "request, turn {} ({} message{})",
                    turn.unwrap_or(0),
                    msgs.len(),
                    if msgs.len() == 1 { "" } else { "s" }
                );
                if first {
                    step.folded = req.get("system").map(s).map(cut);
                }
                if !texts.is_empty() {
                    step.text = Some(cut(texts.join("\n\n")));
                }
                step.images = add_images(&mut hashes.into_iter(), bank);
            }
            "response" => {
                let r = &e["response"];
                let u = &r["usage"];
                step.kind = "model";
                step.label = format!(
                    "model, turn {}: {} tool call{}, stop {}",
                    turn.unwrap_or(0),
                    r["tool_calls"].as_array().map_or(0, Vec::len),
                    if r["tool_calls"].as_array().map_or(0, Vec::len) == 1 { "" } else { "s" },
                    s(&r["stop_reason"])
                );
                let text = s(&r["text"]);
                if !text.trim().is_empty() {
                    step.text = Some(cut(text));
                }
                step.items = vec![format!(
                    "tokens in {} / out {} / image {}, ${}, {} ms",
                    s(&u["input_tokens"]),
                    s(&u["output_tokens"]),
                    s(&e["image_tokens"]),
                    num(&e["cost_usd"], 4),
                    num(&e["latency_ms"], 0)
                )];
            }
            "tool_call" => {
                step.kind = "call";
                step.label = format!("call {} ({})", s(&e["name"]), s(&e["id"]));
                step.code = Some(pretty(&e["arguments"]));
            }
            "tool_result" => {
                let ok = e["ok"].as_bool().unwrap_or(false);
                step.kind = if ok { "result" } else { "error" };
                step.label = format!(
                    "{} {} ({}), {} ms",
                    if ok { "result of" } else { "error from" },
                    s(&e["name"]),
                    s(&e["id"]),
                    num(&e["ms"], 1)
                );
                step.code = Some(pretty(if ok { &e["result"] } else { &e["error"] }));
                let hashes = e["images"]
                    .as_array()
                    .map(|a| a.iter().map(s).collect::<Vec<_>>())
                    .unwrap_or_default();
                step.images = add_images(&mut hashes.into_iter(), bank);
            }
            "verdict" => {
                let v = &e["verdict"];
                let pass = e["pass"].as_bool().unwrap_or(false);
                step.kind = if pass { "verdict-pass" } else { "verdict-fail" };
                step.label = format!(
                    "checker verdict on submission {}: {} ({} m of {} m budget)",
                    s(&e["submit"]),
                    if pass { "PASS" } else { "FAIL" },
                    num(&v["summary"]["length_m"], 1),
                    num(&v["summary"]["drive_budget_m"], 0)
                );
                step.items = v["violations"]
                    .as_array()
                    .map(|vs| {
                        vs.iter()
                            .map(|x| {
                                format!(
                                    "{} (segment {}) at ({}, {}): {}",
                                    s(&x["rule"]),
                                    s(&x["segment"]),
                                    num(&x["x"], 2),
                                    num(&x["y"], 2),
                                    s(&x["message"])
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "corrective" => {
                let m = s(&e["message"]);
                shown_texts.insert(m.clone());
                step.kind = "note";
                step.label = "corrective message to the model".into();
                step.text = Some(m);
            }
            "budget_stop" | "provider_error" | "retry" => {
                step.kind = "note";
                step.label = kind.replace('_', " ");
                step.text =
                    Some(s(e.get("reason").or_else(|| e.get("error")).unwrap_or(&Value::Null)));
            }
            "run_ended" => {
                let t = &e["totals"];
                step.kind = "end";
                step.label =
                    format!("ended: {} after {} s", s(&e["status"]), num(&e["elapsed_s"], 2));
                step.text = Some(s(&e["reason"]));
                step.items = vec![format!(
                    "{} turn(s), {} tool call(s), {} submission(s), tokens in {} / out {}, ${}",
                    s(&t["turns"]),
                    s(&t["tool_calls"]),
                    s(&e["submits"]),
                    s(&t["input_tokens"]),
                    s(&t["output_tokens"]),
                    num(&t["cost_usd"], 4)
                )];
            }
            _ => {
                let mut rest = e.clone();
                if let Some(o) = rest.as_object_mut() {
                    for k in ["event", "seq", "t_ms"] {
                        o.remove(k);
                    }
                }
                step.kind = "other";
                step.label = if kind.is_empty() { "event".into() } else { kind.to_owned() };
                step.code = Some(pretty(&rest));
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
        let task = json!({"role": "user", "content": [
            {"type": "text", "text": "Plan the drive <b>now</b>"},
            {"type": "image", "image": {"sha256": img}}]});
        let events = vec![
            json!({"event": "run_started", "seq": 0, "t_ms": 0, "model": "m", "sol": "s"}),
            json!({"event": "overview", "seq": 1, "t_ms": 5, "images": [img], "args": {"size_m": 100}}),
            json!({"event": "request", "turn": 1, "request": {"system": "be safe", "messages": [task]}}),
            json!({"event": "response", "turn": 1, "response": {"text": "<script>alert(1)</script>",
                   "tool_calls": [{"name": "view_tile"}], "stop_reason": "tool_use", "usage": {}}}),
            json!({"event": "tool_call", "turn": 1, "name": "view_tile", "id": "c1", "arguments": {"size_m": 50}}),
            json!({"event": "tool_result", "turn": 1, "name": "view_tile", "id": "c1", "ok": true,
                   "result": {"layer": "slope"}, "images": [tile, "../../etc/passwd"]}),
            json!({"event": "corrective", "turn": 1, "message": "call a tool"}),
            json!({"event": "request", "turn": 2, "request": {"system": "be safe", "messages": [task,
                {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "call_id": "c1", "content": "{}", "images": [{"sha256": tile}]},
                    {"type": "text", "text": "call a tool"},
                    {"type": "text", "text": "The checker rejected the route: fix it."}]}]}}),
            json!({"event": "mystery", "seq": 9, "t_ms": 10, "payload": 1}),
        ];
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
