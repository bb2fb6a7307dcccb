//! Chat Completions replies, parsed leniently.
//!
//! `async-openai`'s own response types are exact to OpenAI's spec, and compatible servers stray
//! from it: llama.cpp-server adds `timings` and may leave `finish_reason` empty or odd, Ollama
//! has sent `finish_reason: "stop"` with tool calls and omitted ids, vLLM adds
//! `reasoning_content` and `stop_reason`, proxies drop `usage`, and `content` is often `null`.
//! Every field here is optional, unknown fields are ignored, and anything whose type varies is
//! read as a `serde_json::Value`.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use crate::provider::{StopReason, ToolCall, Usage};

/// The reply body. Only what we use is named.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChatResponse {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    model: Option<Value>,
    /// Some servers and proxies answer 200 with an error object.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    finish_reason: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
    #[serde(default)]
    refusal: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    function: Option<WireFunction>,
}

#[derive(Debug, Default, Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    arguments: Option<Value>,
}

pub(super) use crate::provider::http::Parsed;

impl ChatResponse {
    /// The first choice as our types, or why there is nothing usable.
    pub(super) fn into_parsed(self) -> Result<Parsed, String> {
        let usage = self.usage.as_ref().and_then(usage);
        let model = self.model.as_ref().and_then(Value::as_str).map(str::to_owned);
        let Some(choice) = self.choices.and_then(|c| c.into_iter().next()) else {
            return Err(match self.error {
                Some(error) => format!("error object in place of a completion: {}", short(&error)),
                None => "no choices in the reply".to_owned(),
            });
        };
        let message = choice.message.unwrap_or_default();
        let mut text = content_text(message.content.as_ref());
        let tool_calls = tool_calls(message.tool_calls.unwrap_or_default());
        let refusal = message.refusal.as_ref().and_then(Value::as_str).unwrap_or_default();
        let finish = choice.finish_reason.as_ref().and_then(Value::as_str).unwrap_or_default();
        let mut stop_reason = stop_reason(finish, !tool_calls.is_empty());
        if !refusal.is_empty() {
            if text.is_empty() {
                refusal.clone_into(&mut text);
            }
            if tool_calls.is_empty() {
                stop_reason = StopReason::Refusal;
            }
        }
        Ok(Parsed { text, tool_calls, usage, stop_reason, model })
    }
}

/// `content` as text: a string, an array of parts (text parts joined), or nothing.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.as_str().or_else(|| p.get("text").and_then(Value::as_str)))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Tool calls with ids made unique and present, and arguments parsed when they are JSON text.
fn tool_calls(wire: Vec<WireToolCall>) -> Vec<ToolCall> {
    let mut seen = HashSet::new();
    wire.into_iter()
        .enumerate()
        .map(|(i, call)| {
            let function = call.function.unwrap_or_default();
            let mut id = call
                .id
                .as_ref()
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map_or_else(|| format!("call_{i}"), str::to_owned);
            while !seen.insert(id.clone()) {
                id = format!("{id}_{i}");
            }
            let name = function.name.as_ref().and_then(Value::as_str).unwrap_or_default();
            ToolCall { id, name: name.to_owned(), arguments: arguments(function.arguments) }
        })
        .collect()
}

/// Arguments as JSON: OpenAI sends JSON text, Ollama's native shape an object; empty means
/// `{}`; text that is not JSON stays a string so the tool layer can tell the model.
fn arguments(raw: Option<Value>) -> Value {
    match raw {
        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Value::Object(serde_json::Map::new())
        }
        Some(Value::String(text)) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        Some(other) => other,
    }
}

/// `finish_reason` normalised. Missing, empty or `stop` with tool calls present counts as a
/// tool-use stop: servers disagree on which they send, and the calls are what matter.
fn stop_reason(finish: &str, has_tool_calls: bool) -> StopReason {
    let reason = match finish.trim().to_ascii_lowercase().as_str() {
        "" | "stop" | "eos" | "end_turn" | "stop_sequence" => StopReason::EndTurn,
        "tool_calls" | "function_call" | "tool_use" => StopReason::ToolUse,
        "length" | "max_tokens" => StopReason::MaxTokens,
        "content_filter" | "refusal" | "safety" => StopReason::Refusal,
        _ => StopReason::Other(finish.to_owned()),
    };
    if has_tool_calls && reason == StopReason::EndTurn {
        StopReason::ToolUse
    } else {
        reason
    }
}

/// `usage` if it has token counts (`prompt_tokens`, `completion_tokens`), with the cached part
/// of the prompt when the server says.
fn usage(raw: &Value) -> Option<Usage> {
    let count = |v: Option<&Value>| {
        let v = v?;
        v.as_u64().or_else(|| v.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
    };
    let input = count(raw.get("prompt_tokens"));
    let output = count(raw.get("completion_tokens"));
    if input.is_none() && output.is_none() {
        return None;
    }
    let details = raw.get("prompt_tokens_details");
    let image_tokens = count(details.and_then(|d| d.get("image_tokens")));
    // Automatic prompt caching (OpenAI): reads are part of `prompt_tokens`. Absent on most
    // compatible servers; never more than the prompt.
    let cached = count(details.and_then(|d| d.get("cached_tokens"))).unwrap_or(0);
    let input = input.unwrap_or(0);
    Some(Usage {
        input_tokens: input,
        output_tokens: output.unwrap_or(0),
        image_tokens,
        cached_input_tokens: cached.min(input),
        cache_write_tokens: 0,
    })
}

/// A value for an error message, trimmed.
fn short(value: &Value) -> String {
    let message = value.get("message").and_then(Value::as_str);
    crate::provider::http::truncate(&message.map_or_else(|| value.to_string(), str::to_owned), 300)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: &Value) -> Result<Parsed, String> {
        serde_json::from_value::<ChatResponse>(body.clone()).unwrap().into_parsed()
    }

    #[test]
    fn finish_reasons_normalise() {
        assert_eq!(stop_reason("stop", false), StopReason::EndTurn);
        assert_eq!(stop_reason("stop", true), StopReason::ToolUse);
        assert_eq!(stop_reason("", true), StopReason::ToolUse);
        assert_eq!(stop_reason("length", true), StopReason::MaxTokens);
        assert_eq!(stop_reason("content_filter", false), StopReason::Refusal);
        assert_eq!(stop_reason("abort", false), StopReason::Other("abort".into()));
    }

    #[test]
    fn arguments_in_every_shape() {
        assert_eq!(arguments(Some(json!(r#"{"a":1}"#))), json!({"a": 1}));
        assert_eq!(arguments(Some(json!({"a": 1}))), json!({"a": 1}));
        assert_eq!(arguments(Some(json!(""))), json!({}));
        assert_eq!(arguments(None), json!({}));
        assert_eq!(arguments(Some(json!("{oops"))), json!("{oops"));
    }

    #[test]
    fn missing_and_duplicate_ids_are_made_up() {
        let parsed = parse(&json!({"choices": [{"message": {"tool_calls": [
            {"function": {"name": "a", "arguments": "{}"}},
            {"id": "x", "function": {"name": "b"}},
            {"id": "x", "function": {"name": "c"}},
        ]}}]}))
        .unwrap();
        let ids: Vec<_> = parsed.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["call_0", "x", "x_2"]);
        assert_eq!(parsed.stop_reason, StopReason::ToolUse);
        assert_eq!(parsed.usage, None);
    }

    #[test]
    fn refusals_and_errors() {
        let parsed = parse(&json!({"choices": [{"message": {"content": null, "refusal": "no"},
            "finish_reason": "stop"}]}))
        .unwrap();
        assert_eq!((parsed.text.as_str(), parsed.stop_reason), ("no", StopReason::Refusal));
        let err = parse(&json!({"error": {"message": "context too long"}})).unwrap_err();
        assert!(err.contains("context too long"), "{err}");
        assert_eq!(parse(&json!({"choices": []})).unwrap_err(), "no choices in the reply");
    }

    #[test]
    fn content_as_parts() {
        let parsed = parse(&json!({"choices": [{"message": {"content": [
            {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}],
            "usage": {"prompt_tokens": 10.0, "completion_tokens": 2,
                      "prompt_tokens_details": {"image_tokens": 7, "cached_tokens": 4}}}))
        .unwrap();
        assert_eq!(parsed.text, "a\nb");
        assert_eq!(
            parsed.usage,
            Some(Usage {
                input_tokens: 10,
                output_tokens: 2,
                image_tokens: Some(7),
                cached_input_tokens: 4,
                cache_write_tokens: 0
            })
        );
        let odd = |details: Value| {
            let body = json!({"choices": [{"message": {"content": "x"}}], "usage":
                {"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details": details}});
            parse(&body).unwrap().usage.unwrap().cached_input_tokens
        };
        assert_eq!(odd(json!(null)), 0);
        assert_eq!(odd(json!({"cached_tokens": "many"})), 0);
        assert_eq!(odd(json!({"cached_tokens": 99})), 10, "capped at the prompt");
    }
}
