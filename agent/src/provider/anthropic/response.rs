//! Messages API replies, parsed leniently: unknown block types (`thinking`, server tools) are
//! skipped, every field is optional, and an unknown `stop_reason` is kept as it was spelled.

use serde::Deserialize;
use serde_json::Value;

use crate::provider::{StopReason, ToolCall, Usage};

/// The reply body. Only what we use is named.
#[derive(Debug, Default, Deserialize)]
pub(super) struct MessagesResponse {
    #[serde(default)]
    content: Option<Vec<Value>>,
    #[serde(default)]
    stop_reason: Option<Value>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    model: Option<Value>,
    #[serde(default, rename = "type")]
    kind: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

pub(super) use crate::provider::http::Parsed;

impl MessagesResponse {
    /// Our types, or why the reply is unusable.
    pub(super) fn into_parsed(self) -> Result<Parsed, String> {
        if self.kind.as_ref().and_then(Value::as_str) == Some("error") || self.error.is_some() {
            let error = self.error.unwrap_or(Value::Null);
            let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
            return Err(format!("error object in place of a message: {message}"));
        }
        let Some(content) = self.content else {
            return Err("no content in the reply".to_owned());
        };
        let mut texts = Vec::new();
        let mut tool_calls = Vec::new();
        for block in &content {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    if let Some(text) = block.get("text").and_then(Value::as_str) {
                        texts.push(text.to_owned());
                    }
                }
                Some("tool_use") => {
                    let field = |name| block.get(name).and_then(Value::as_str).unwrap_or_default();
                    let id = match field("id") {
                        "" => format!("toolu_{}", tool_calls.len()),
                        id => id.to_owned(),
                    };
                    let arguments = match block.get("input") {
                        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
                        Some(input) => input.clone(),
                    };
                    tool_calls.push(ToolCall { id, name: field("name").to_owned(), arguments });
                }
                _ => {}
            }
        }
        let stop = self.stop_reason.as_ref().and_then(Value::as_str).unwrap_or_default();
        let stop_reason = match stop {
            "" if !tool_calls.is_empty() => StopReason::ToolUse,
            "end_turn" | "" => StopReason::EndTurn,
            "tool_use" => StopReason::ToolUse,
            "max_tokens" => StopReason::MaxTokens,
            "refusal" => StopReason::Refusal,
            other => StopReason::Other(other.to_owned()),
        };
        Ok(Parsed {
            text: texts.join("\n"),
            tool_calls,
            usage: self.usage.as_ref().and_then(usage),
            stop_reason,
            model: self.model.as_ref().and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// `usage`. The API counts cache writes and reads apart from `input_tokens`; ours includes
/// them (all of it was read by the model) and keeps each count for pricing.
fn usage(raw: &Value) -> Option<Usage> {
    let count = |name| raw.get(name).and_then(Value::as_u64);
    let input = count("input_tokens");
    let output = count("output_tokens");
    if input.is_none() && output.is_none() {
        return None;
    }
    let written = count("cache_creation_input_tokens").unwrap_or(0);
    let read = count("cache_read_input_tokens").unwrap_or(0);
    Some(Usage {
        input_tokens: input.unwrap_or(0) + written + read,
        output_tokens: output.unwrap_or(0),
        image_tokens: None,
        cached_input_tokens: read,
        cache_write_tokens: written,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: &Value) -> Result<Parsed, String> {
        serde_json::from_value::<MessagesResponse>(body.clone()).unwrap().into_parsed()
    }

    #[test]
    fn blocks_and_stop_reasons() {
        let parsed = parse(&json!({
            "content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "ok"},
                        {"type": "tool_use", "id": "toolu_1", "name": "view_tile",
                         "input": {"x": 1}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 5, "output_tokens": 6, "cache_read_input_tokens": 10,
                      "cache_creation_input_tokens": 3}
        }))
        .unwrap();
        assert_eq!(parsed.text, "ok");
        assert_eq!(parsed.tool_calls[0].arguments, json!({"x": 1}));
        assert_eq!(parsed.stop_reason, StopReason::ToolUse);
        let usage = parsed.usage.unwrap();
        assert_eq!(
            (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens),
            (18, 10, 3)
        );
        let parsed = parse(&json!({"content": [], "stop_reason": "pause_turn"})).unwrap();
        assert_eq!(parsed.stop_reason, StopReason::Other("pause_turn".into()));
        assert_eq!(
            parse(&json!({"content": [], "stop_reason": "refusal"})).unwrap().stop_reason,
            StopReason::Refusal
        );
    }

    #[test]
    fn error_bodies_are_refused() {
        let err = parse(&json!({"type": "error", "error": {"type": "api_error",
            "message": "boom"}}))
        .unwrap_err();
        assert!(err.contains("boom"), "{err}");
        assert!(parse(&json!({"id": "x"})).is_err());
    }
}
