//! [`ModelRequest`] to a Messages API request body.
//!
//! Tool results become `tool_result` blocks whose content holds the JSON text and the images as
//! base64 `image` blocks, so the model sees a tile together with the call that made it. The API
//! wants `tool_result` blocks first in their user message and rejects empty text blocks and empty
//! messages; this module keeps to that.
//!
//! Prompt caching: `cache_control: {"type": "ephemeral"}` breakpoints mark the last tool
//! definition, the system prompt (sent as one text block), the last block of the newest user
//! turn, and the last block of the user turn before it that holds images or tool results, so each
//! turn reads the conversation up to the previous turn from the cache (prefixes are cached in
//! the order tools, system, messages). That is at most four breakpoints, the API's limit.

use serde_json::{json, Value};

use crate::provider::{Content, ImageData, Message, ModelRequest, Role};

/// The JSON body of `POST {base}/v1/messages` (non-streaming).
pub(super) fn messages_body(model: &str, request: &ModelRequest) -> Value {
    let mut messages: Vec<Value> = request
        .messages
        .iter()
        .filter_map(|m| {
            let blocks = blocks(m);
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            (!blocks.is_empty()).then(|| json!({"role": role, "content": blocks}))
        })
        .collect();
    mark_messages(&mut messages);
    let mut body = json!({
        "model": model,
        "max_tokens": request.sampling.max_tokens,
        "messages": messages,
    });
    if !request.system.is_empty() {
        body["system"] = json!([
            {"type": "text", "text": request.system, "cache_control": ephemeral()},
        ]);
    }
    if let Some(t) = request.sampling.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        let mut tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description, "input_schema": t.parameters})
            })
            .collect();
        if let Some(last) = tools.last_mut() {
            last["cache_control"] = ephemeral();
        }
        body["tools"] = Value::Array(tools);
    }
    body
}

/// A prompt-cache breakpoint (the default five-minute cache).
fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// Marks the last block of the newest user message (written to the cache now, read next turn)
/// and of the newest user message before it that holds images or tool results (written last
/// turn, read now; it also keeps the lookback, about 20 blocks, short). Text-only user
/// messages (correctives) are small and may sit between the two.
fn mark_messages(messages: &mut [Value]) {
    let is_user = |m: &Value| m["role"] == "user";
    let Some(newest) = messages.iter().rposition(is_user) else { return };
    let heavy = |m: &Value| {
        m["content"].as_array().is_some_and(|blocks| {
            blocks.iter().any(|b| matches!(b["type"].as_str(), Some("image" | "tool_result")))
        })
    };
    let earlier = messages[..newest].iter().rposition(|m| is_user(m) && heavy(m));
    for i in std::iter::once(newest).chain(earlier) {
        if let Some(last) = messages[i]["content"].as_array_mut().and_then(|b| b.last_mut()) {
            last["cache_control"] = ephemeral();
        }
    }
}

/// A message's content blocks: tool results first, then the rest in order.
fn blocks(message: &Message) -> Vec<Value> {
    let mut results = Vec::new();
    let mut rest = Vec::new();
    for content in &message.content {
        match content {
            Content::Text { text } if text.is_empty() => {}
            Content::Text { text } => rest.push(json!({"type": "text", "text": text})),
            Content::Image(image) => rest.push(image_block(image)),
            Content::ToolCall(call) => {
                // The API wants an object; a model's malformed arguments (kept as a string) are
                // not worth a rejected request.
                let input = call.echoed_arguments();
                rest.push(
                    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}),
                );
            }
            Content::ToolResult(result) => {
                let mut inner = Vec::with_capacity(result.images.len() + 1);
                if !result.content.is_empty() {
                    inner.push(json!({"type": "text", "text": result.content}));
                }
                inner.extend(result.images.iter().map(image_block));
                let mut block = json!({
                    "type": "tool_result",
                    "tool_use_id": result.call_id,
                    "content": inner,
                });
                if result.is_error {
                    block["is_error"] = json!(true);
                }
                results.push(block);
            }
        }
    }
    results.extend(rest);
    results
}

fn image_block(image: &ImageData) -> Value {
    json!({
        "type": "image",
        "source": {"type": "base64", "media_type": image.media_type, "data": image.base64()},
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::{Sampling, ToolCall, ToolResult, ToolSpec};

    #[test]
    fn tool_results_come_first_with_their_images() {
        let request = ModelRequest {
            system: String::new(),
            messages: vec![
                Message::assistant(vec![
                    Content::text(""),
                    Content::ToolCall(ToolCall {
                        id: "t1".into(),
                        name: "view_tile".into(),
                        arguments: json!("{bad"),
                    }),
                ]),
                Message::user(vec![
                    Content::text("here"),
                    Content::ToolResult(ToolResult {
                        call_id: "t1".into(),
                        content: "{}".into(),
                        images: vec![ImageData::png(vec![9])],
                        is_error: true,
                    }),
                ]),
                Message::user(vec![Content::text("")]),
            ],
            tools: vec![],
            sampling: Sampling::default(),
        };
        let body = messages_body("claude", &request);
        assert!(body.get("system").is_none() && body.get("tools").is_none());
        assert_eq!(breakpoints(&body), 1, "only the newest user turn");
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2, "the empty message is dropped");
        assert_eq!(
            messages[0]["content"],
            json!([{"type": "tool_use", "id": "t1",
            "name": "view_tile", "input": {}}])
        );
        let user = &messages[1]["content"];
        assert_eq!(user[0]["type"], "tool_result");
        assert_eq!(user[0]["is_error"], true);
        assert_eq!(user[0]["content"][1]["source"]["data"], "CQ==");
        assert_eq!(
            user[1],
            json!({"type": "text", "text": "here", "cache_control": {"type": "ephemeral"}})
        );
    }

    /// How many `cache_control` markers a body carries, anywhere.
    fn breakpoints(value: &Value) -> usize {
        match value {
            Value::Object(map) => {
                usize::from(map.contains_key("cache_control"))
                    + map.values().map(breakpoints).sum::<usize>()
            }
            Value::Array(items) => items.iter().map(breakpoints).sum(),
            _ => 0,
        }
    }

    #[test]
    fn cache_breakpoints_stay_within_the_limit() {
        let result = |id: &str| {
            Content::ToolResult(ToolResult {
                call_id: id.into(),
                content: "{}".into(),
                images: vec![],
                is_error: false,
            })
        };
        let call = |id: &str| {
            Content::ToolCall(ToolCall { id: id.into(), name: "t".into(), arguments: json!({}) })
        };
        let mut messages = vec![Message::user(vec![
            Content::text("task"),
            Content::Image(ImageData::png(vec![1])),
        ])];
        for turn in 0..6 {
            let id = format!("c{turn}");
            messages.push(Message::assistant(vec![call(&id)]));
            messages.push(Message::user(vec![result(&id)]));
        }
        messages.push(Message::assistant(vec![Content::text("thinking aloud")]));
        messages.push(Message::user_text("Call a tool."));
        let request = ModelRequest {
            system: "sys".into(),
            messages,
            tools: vec![
                ToolSpec { name: "a".into(), description: "A".into(), parameters: json!({}) },
                ToolSpec { name: "b".into(), description: "B".into(), parameters: json!({}) },
            ],
            sampling: Sampling::default(),
        };
        let body = messages_body("claude", &request);
        assert_eq!(breakpoints(&body), 4, "the API's limit");
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
        assert!(body["tools"][0].get("cache_control").is_none());
        assert_eq!(body["tools"][1]["cache_control"]["type"], "ephemeral");
        let messages = body["messages"].as_array().unwrap();
        let marked: Vec<usize> =
            (0..messages.len()).filter(|&i| breakpoints(&messages[i]) > 0).collect();
        // The corrective (newest) and the last tool results before it.
        assert_eq!(marked, [12, 14]);
        assert_eq!(messages[12]["content"][0]["tool_use_id"], "c5");
        assert!(messages[12]["content"][0]["cache_control"].is_object());
    }
}
