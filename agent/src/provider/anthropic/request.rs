//! [`ModelRequest`] to a Messages API request body.
//!
//! Tool results become `tool_result` blocks whose content holds the JSON text and the images as
//! base64 `image` blocks, so the model sees a tile together with the call that made it. The API
//! wants `tool_result` blocks first in their user message and rejects empty text blocks and empty
//! messages; this module keeps to that.

use serde_json::{json, Value};

use crate::provider::{Content, ImageData, Message, ModelRequest, Role};

/// The JSON body of `POST {base}/v1/messages` (non-streaming).
pub(super) fn messages_body(model: &str, request: &ModelRequest) -> Value {
    let messages: Vec<Value> = request
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
    let mut body = json!({
        "model": model,
        "max_tokens": request.sampling.max_tokens,
        "messages": messages,
    });
    if !request.system.is_empty() {
        body["system"] = json!(request.system);
    }
    if let Some(t) = request.sampling.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description, "input_schema": t.parameters})
            })
            .collect();
    }
    body
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
                let input =
                    if call.arguments.is_object() { call.arguments.clone() } else { json!({}) };
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
    use crate::provider::{Sampling, ToolCall, ToolResult};

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
        assert_eq!(user[1], json!({"type": "text", "text": "here"}));
    }
}
