//! [`ModelRequest`] to a Chat Completions request body.
//!
//! The trap this module exists for: a `tool` message carries text only. So each tool result goes
//! back as its JSON text in a `tool` message, and the images of all the results of one turn
//! follow in a single `user` message right after the last `tool` message, each image labelled
//! with the call it came from. Sending images inside `tool` messages is rejected by OpenAI and
//! silently dropped by most compatible servers.

use serde_json::{json, Value};

use crate::provider::{Content, ImageData, Message, ModelRequest, Role};

/// The JSON body of `POST {base}/chat/completions` (non-streaming).
pub(super) fn chat_body(model: &str, request: &ModelRequest) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        match message.role {
            Role::User => push_user(&mut messages, message),
            Role::Assistant => push_assistant(&mut messages, message),
        }
    }
    let mut body = json!({
        "model": model,
        "messages": messages,
        // `max_tokens` rather than `max_completion_tokens`: vLLM, Ollama and llama.cpp read it,
        // and OpenAI still honours it for the vision chat models.
        "max_tokens": request.sampling.max_tokens,
        "stream": false,
    });
    if let Some(t) = request.sampling.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
        body["tool_choice"] = json!("auto");
        // Only with tools: OpenAI rejects `parallel_tool_calls` on a request without them.
        body["parallel_tool_calls"] = json!(true);
    }
    body
}

/// A user message: its tool results as `tool` messages, then one `user` message with the
/// results' images and the message's own text and images (if there are any).
fn push_user(out: &mut Vec<Value>, message: &Message) {
    let mut parts = Vec::new();
    for content in &message.content {
        if let Content::ToolResult(result) = content {
            out.push(json!({
                "role": "tool",
                "tool_call_id": result.call_id,
                "content": result.content,
            }));
            if !result.images.is_empty() {
                let label = match result.images.len() {
                    1 => format!("Image returned by tool call {}:", result.call_id),
                    n => format!("{n} images returned by tool call {}:", result.call_id),
                };
                parts.push(text_part(&label));
                parts.extend(result.images.iter().map(image_part));
            }
        }
    }
    for content in &message.content {
        match content {
            Content::Text { text } => parts.push(text_part(text)),
            Content::Image(image) => parts.push(image_part(image)),
            // A user cannot call tools; results were sent above.
            Content::ToolCall(_) | Content::ToolResult(_) => {}
        }
    }
    match parts.as_slice() {
        [] => {}
        // Plain text as a string: the most widely understood form.
        [only] if only["type"] == "text" => {
            out.push(json!({"role": "user", "content": only["text"]}));
        }
        _ => out.push(json!({"role": "user", "content": parts})),
    }
}

/// An assistant message: its text, and its tool calls with arguments as JSON text.
fn push_assistant(out: &mut Vec<Value>, message: &Message) {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for content in &message.content {
        match content {
            Content::Text { text } => texts.push(text.as_str()),
            Content::ToolCall(call) => {
                // JSON text of an object, never what the model wrote when it was not one:
                // servers parse it (see `ToolCall::echoed_arguments`).
                let arguments = call.echoed_arguments().to_string();
                calls.push(json!({
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": arguments},
                }));
            }
            // Chat Completions has no images or tool results in assistant messages.
            Content::Image(_) | Content::ToolResult(_) => {}
        }
    }
    let text = texts.join("\n");
    let mut message = json!({"role": "assistant"});
    message["content"] =
        if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) };
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    out.push(message);
}

fn text_part(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// An image as a base64 data URL; `detail: high` so the grid labels of a tile stay legible and
/// the token cost is predictable.
fn image_part(image: &ImageData) -> Value {
    json!({
        "type": "image_url",
        "image_url": {
            "url": format!("data:{};base64,{}", image.media_type, image.base64()),
            "detail": "high",
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::{Sampling, ToolCall, ToolResult, ToolSpec};

    fn result(id: &str, images: usize) -> Content {
        Content::ToolResult(ToolResult {
            call_id: id.into(),
            content: format!(r#"{{"id":"{id}"}}"#),
            images: (0..images).map(|_| ImageData::png(vec![1, 2, 3])).collect(),
            is_error: false,
        })
    }

    #[test]
    fn tool_images_follow_all_tool_messages_in_one_user_message() {
        let request = ModelRequest {
            system: "sys".into(),
            messages: vec![
                Message::user_text("plan"),
                Message::assistant(vec![
                    Content::text("looking"),
                    Content::ToolCall(ToolCall {
                        id: "a".into(),
                        name: "view_tile".into(),
                        arguments: json!({"x": 1}),
                    }),
                    Content::ToolCall(ToolCall {
                        id: "b".into(),
                        name: "slope_query".into(),
                        arguments: json!("{not json"),
                    }),
                ]),
                Message::user(vec![result("a", 1), result("b", 0)]),
            ],
            tools: vec![ToolSpec {
                name: "view_tile".into(),
                description: "see".into(),
                parameters: json!({"type": "object"}),
            }],
            sampling: Sampling { temperature: Some(0.5), max_tokens: 100 },
        };
        let body = chat_body("m", &request);
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "tool", "tool", "user"]);
        let m = &body["messages"];
        assert_eq!(m[1]["content"], "plan");
        assert_eq!(m[2]["tool_calls"][0]["function"]["arguments"], r#"{"x":1}"#);
        assert_eq!(
            m[2]["tool_calls"][1]["function"]["arguments"], "{}",
            "valid JSON, not the text"
        );
        assert_eq!(m[3]["content"], r#"{"id":"a"}"#);
        assert_eq!(m[5]["content"][0]["text"], "Image returned by tool call a:");
        assert_eq!(m[5]["content"][1]["image_url"]["url"], "data:image/png;base64,AQID");
        assert_eq!(body["temperature"], 0.5);
        assert_eq!(body["parallel_tool_calls"], true);
    }

    #[test]
    fn no_tools_means_no_parallel_flag() {
        let request = ModelRequest {
            system: String::new(),
            messages: vec![Message::user_text("hi")],
            tools: vec![],
            sampling: Sampling::default(),
        };
        let body = chat_body("m", &request);
        assert!(body.get("parallel_tool_calls").is_none());
        assert!(body.get("temperature").is_none());
        assert_eq!(body["messages"].as_array().unwrap().len(), 1, "no empty system message");
    }
}
