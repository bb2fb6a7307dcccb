//! The model providers against local mock servers (wiremock on 127.0.0.1).

mod anthropic;
mod openai;

use breadcrumb_agent::provider::{
    Content, ImageData, Message, ModelRequest, Sampling, ToolCall, ToolResult, ToolSpec,
};
use serde_json::json;

/// A tiny "PNG" (header only: providers pass bytes through untouched).
pub fn png(tag: u8) -> ImageData {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.push(tag);
    ImageData::png(bytes)
}

/// The data URL `png(tag)` becomes on the OpenAI wire.
pub fn png_data_url(tag: u8) -> String {
    format!("data:image/png;base64,{}", png(tag).base64())
}

/// A conversation in the middle of a drive: the task with an overview tile, the model's two
/// parallel tool calls, and their results (the first with a tile image).
pub fn mid_drive_request() -> ModelRequest {
    ModelRequest {
        system: "You plan rover drives.".into(),
        messages: vec![
            Message::user(vec![Content::text("Drive to the goal."), Content::Image(png(1))]),
            Message::assistant(vec![
                Content::text("Let me look closer."),
                Content::ToolCall(ToolCall {
                    id: "call_a".into(),
                    name: "view_tile".into(),
                    arguments: json!({"center_x_m": 10.0, "center_y_m": 20.0, "size_m": 50.0}),
                }),
                Content::ToolCall(ToolCall {
                    id: "call_b".into(),
                    name: "slope_query".into(),
                    arguments: json!({"x_m": 10.0, "y_m": 20.0}),
                }),
            ]),
            Message::user(vec![
                Content::ToolResult(ToolResult {
                    call_id: "call_a".into(),
                    content: r#"{"footprint":{"min_x_m":-15.0}}"#.into(),
                    images: vec![png(2)],
                    is_error: false,
                }),
                Content::ToolResult(ToolResult {
                    call_id: "call_b".into(),
                    content: r#"{"max_slope_deg":4.2}"#.into(),
                    images: vec![],
                    is_error: false,
                }),
            ]),
        ],
        tools: vec![
            ToolSpec {
                name: "view_tile".into(),
                description: "An image of a square area.".into(),
                parameters: json!({"type": "object", "properties": {"size_m": {"type": "number"}},
                    "required": ["size_m"]}),
            },
            ToolSpec {
                name: "slope_query".into(),
                description: "Slope at a point.".into(),
                parameters: json!({"type": "object", "properties": {"x_m": {"type": "number"}}}),
            },
        ],
        sampling: Sampling { temperature: Some(0.25), max_tokens: 1024 },
    }
}
