//! What goes into a model turn and what comes out, in one shape for every provider.
//!
//! The loop builds a [`ModelRequest`] from the conversation so far; each provider converts it to
//! its wire format and converts the reply back into a [`ModelResponse`]. Nothing above the
//! providers ever sees a wire format, so a conversation can be replayed against another model.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One model turn: the whole conversation so far, the tools the model may call, and sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// System prompt (the rendered `prompts/<name>/system.md`). Empty means none.
    pub system: String,
    /// The conversation, oldest first; the last one is normally the user's.
    pub messages: Vec<Message>,
    /// The tools the model may call this turn.
    pub tools: Vec<ToolSpec>,
    /// Temperature and output budget.
    pub sampling: Sampling,
}

/// Sampling settings of a turn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Sampling temperature; `None` leaves the server's default.
    pub temperature: Option<f64>,
    /// Most tokens the model may write this turn (required by the Anthropic API).
    pub max_tokens: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { temperature: None, max_tokens: 4096 }
    }
}

/// Who said a message. Tool results travel in user messages, as in the Anthropic API; the
/// OpenAI provider splits them into `tool` messages on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The loop speaking for the operator: the task, tool results, checker verdicts.
    User,
    /// The model.
    Assistant,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said, in order.
    pub content: Vec<Content>,
}

impl Message {
    /// A user message with the given parts.
    #[must_use]
    pub fn user(content: Vec<Content>) -> Self {
        Message { role: Role::User, content }
    }

    /// A user message of plain text.
    #[must_use]
    pub fn user_text(text: impl Into<String>) -> Self {
        Message::user(vec![Content::text(text)])
    }

    /// An assistant message with the given parts (used to replay the model's own turns).
    #[must_use]
    pub fn assistant(content: Vec<Content>) -> Self {
        Message { role: Role::Assistant, content }
    }

    /// The assistant message that a response stands for: its text, then its tool calls. Put it
    /// in the history before the tool results that answer it.
    #[must_use]
    pub fn from_response(response: &ModelResponse) -> Self {
        let mut content = Vec::with_capacity(response.tool_calls.len() + 1);
        if !response.text.is_empty() {
            content.push(Content::text(response.text.clone()));
        }
        content.extend(response.tool_calls.iter().cloned().map(Content::ToolCall));
        Message::assistant(content)
    }
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image shown to the model (user messages only).
    Image(ImageData),
    /// A tool call the model made (assistant messages only).
    ToolCall(ToolCall),
    /// The result of one tool call (user messages only).
    ToolResult(ToolResult),
}

impl Content {
    /// A text part.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text { text: text.into() }
    }
}

/// An encoded image and its media type.
///
/// `Debug` prints only the media type and size, so logs stay readable. Serialised with the bytes
/// as base64 (transcripts store images by hash instead; see [`crate::transcript`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageData {
    /// Media type, e.g. `image/png`.
    pub media_type: String,
    /// The encoded image.
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

impl ImageData {
    /// A PNG image.
    #[must_use]
    pub fn png(data: Vec<u8>) -> Self {
        ImageData { media_type: "image/png".to_owned(), data }
    }

    /// A JPEG image (what the model is sent of a `view_tile`: a fifth of the PNG's bytes).
    #[must_use]
    pub fn jpeg(data: Vec<u8>) -> Self {
        ImageData { media_type: "image/jpeg".to_owned(), data }
    }

    /// Width and height in pixels, read from the PNG or JPEG header; `None` for anything else.
    /// Used to estimate image tokens before sending.
    #[must_use]
    pub fn dimensions(&self) -> Option<(u32, u32)> {
        png_dimensions(&self.data).or_else(|| jpeg_dimensions(&self.data))
    }

    /// The bytes as standard base64 (what both wire formats carry).
    #[must_use]
    pub fn base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.data)
    }
}

/// Width and height from a PNG's `IHDR` chunk.
fn png_dimensions(d: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if d.len() < 24 || &d[..8] != SIGNATURE || &d[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes([d[16], d[17], d[18], d[19]]);
    let height = u32::from_be_bytes([d[20], d[21], d[22], d[23]]);
    Some((width, height))
}

/// Width and height from a JPEG's start-of-frame segment: walk the segments after `SOI` to the
/// first `SOFn` (any of C0-CF but the DHT, JPG and DAC markers C4, C8, CC).
fn jpeg_dimensions(d: &[u8]) -> Option<(u32, u32)> {
    if d.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    loop {
        // Markers may be padded with fill bytes 0xFF.
        while *d.get(i)? == 0xFF && *d.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *d.get(i)? != 0xFF {
            return None;
        }
        let marker = *d.get(i + 1)?;
        let len = usize::from(u16::from_be_bytes([*d.get(i + 2)?, *d.get(i + 3)?]));
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let height = u16::from_be_bytes([*d.get(i + 5)?, *d.get(i + 6)?]);
            let width = u16::from_be_bytes([*d.get(i + 7)?, *d.get(i + 8)?]);
            return Some((u32::from(width), u32::from(height)));
        }
        // Start of scan or end of image before any frame header: not a usable JPEG.
        if marker == 0xDA || marker == 0xD9 || len < 2 {
            return None;
        }
        i += 2 + len;
    }
}

impl std::fmt::Debug for ImageData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageData")
            .field("media_type", &self.media_type)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// A call of one tool, as the model asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id, echoed in its [`ToolResult`]. Providers make one up (`call_<n>`) when a
    /// server sends none, so it is never empty.
    pub id: String,
    /// The tool's name (may name no tool: the tool layer answers that with an error).
    pub name: String,
    /// The arguments. When the model wrote text that is not JSON, this is that text as a JSON
    /// string, so the tool layer reports "expected an object" back to the model and a replay
    /// sends exactly what the model wrote.
    pub arguments: serde_json::Value,
}

/// What the model is told when its call goes back into the conversation with `{}` in place of
/// the arguments it wrote ([`ToolCall::echoed_arguments`]).
pub const ECHOED_AS_EMPTY: &str = "the arguments you wrote are not a JSON object, so this call \
    is kept in the conversation with {} as its arguments; call the tool again with a JSON object";

impl ToolCall {
    /// The arguments to send back when the call is echoed in the history: the model's own when
    /// they are a JSON object, else `{}`. Servers parse echoed arguments: vLLM's `json.loads`
    /// fails and Ollama answers 400 "invalid tool call arguments" on anything else, and the
    /// Messages API wants an object. The raw text stays in the transcript (`tool_call`).
    #[must_use]
    pub fn echoed_arguments(&self) -> serde_json::Value {
        if self.arguments.is_object() {
            self.arguments.clone()
        } else {
            serde_json::Value::Object(serde_json::Map::new())
        }
    }

    /// `error` (a tool's JSON error for this call) with a `note` saying that the call is echoed
    /// with `{}`, when it is.
    #[must_use]
    pub fn explain_echo(&self, mut error: serde_json::Value) -> serde_json::Value {
        if let (false, Some(obj)) = (self.arguments.is_object(), error.as_object_mut()) {
            obj.insert("note".into(), ECHOED_AS_EMPTY.into());
        }
        error
    }
}

/// The result of one tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The id of the [`ToolCall`] this answers.
    pub call_id: String,
    /// The result as JSON text (or a structured error the model can act on).
    pub content: String,
    /// Images the tool returned (`view_tile`), shown to the model with the result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageData>,
    /// Whether the call failed (bad arguments, unknown tool).
    #[serde(default)]
    pub is_error: bool,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, written for the model.
    pub description: String,
    /// JSON Schema of its arguments (an object schema).
    pub parameters: serde_json::Value,
}

/// What a model turn produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// The model's text (its reasoning or answer), parts joined with newlines; may be empty.
    pub text: String,
    /// The tools it wants called, in order (several when it calls in parallel).
    pub tool_calls: Vec<ToolCall>,
    /// Token counts, when the server reported them (llama.cpp and some proxies do not).
    pub usage: Option<Usage>,
    /// Why the model stopped, normalised across providers.
    pub stop_reason: StopReason,
    /// Wall time of the HTTP exchange.
    pub latency: Duration,
    /// The model id the server says answered, if it said.
    pub model: Option<String>,
}

/// Token counts of one turn.
///
/// `input_tokens` is everything the model read, on every API: for Anthropic the providers add
/// the cache reads and writes (which its API counts apart) so the total means the same as
/// OpenAI's `prompt_tokens`. The cache counts are parts of it, priced apart
/// ([`crate::provider::Prices::cost_usd`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read, images and cached prompt tokens included.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
    /// Of `input_tokens`, those spent on images, when the server says.
    pub image_tokens: Option<u64>,
    /// Of `input_tokens`, those read from the prompt cache (Anthropic
    /// `cache_read_input_tokens`, OpenAI `prompt_tokens_details.cached_tokens`).
    #[serde(default)]
    pub cached_input_tokens: u64,
    /// Of `input_tokens`, those written to the prompt cache (Anthropic
    /// `cache_creation_input_tokens`; OpenAI does not charge for writes).
    #[serde(default)]
    pub cache_write_tokens: u64,
}

/// Why a model stopped, normalised across providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It wants tools called.
    ToolUse,
    /// It ran out of output tokens mid-answer.
    MaxTokens,
    /// It refused, or a content filter stopped it.
    Refusal,
    /// Anything else, as the server spelled it.
    Other(String),
}

/// Serde for bytes as standard base64 text.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_dimensions_read_from_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(ImageData::png(png).dimensions(), Some((640, 480)));
        assert_eq!(ImageData::png(b"GIF89a".to_vec()).dimensions(), None);
    }

    #[test]
    fn jpeg_dimensions_read_from_the_frame_header() {
        // SOI, an APP0 segment, then SOF0 with height 480 and width 640.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03]);
        assert_eq!(ImageData::jpeg(jpeg.clone()).dimensions(), Some((640, 480)));
        // Cut off inside the frame header, or a scan before any frame: no size, no panic.
        for cut in 0..jpeg.len() - 1 {
            assert_eq!(ImageData::jpeg(jpeg[..cut].to_vec()).dimensions(), None, "{cut}");
        }
        let scan_first = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xC0];
        assert_eq!(ImageData::jpeg(scan_first.to_vec()).dimensions(), None);
    }

    #[test]
    fn malformed_arguments_are_echoed_as_an_empty_object_with_a_note() {
        let call = |arguments| ToolCall { id: "c".into(), name: "t".into(), arguments };
        let good = call(serde_json::json!({"x": 1}));
        assert_eq!(good.echoed_arguments(), serde_json::json!({"x": 1}));
        let error = serde_json::json!({"error": "invalid_arguments"});
        assert_eq!(good.explain_echo(error.clone()), error);
        for bad in [serde_json::json!("{\"x\": 1,"), serde_json::json!([1]), serde_json::json!(3)] {
            let bad = call(bad);
            assert_eq!(bad.echoed_arguments(), serde_json::json!({}));
            assert_eq!(bad.explain_echo(error.clone())["note"], ECHOED_AS_EMPTY);
        }
    }

    #[test]
    fn content_round_trips_through_json() {
        let message = Message::user(vec![
            Content::text("look"),
            Content::Image(ImageData::png(vec![1, 2, 3])),
            Content::ToolResult(ToolResult {
                call_id: "c1".into(),
                content: "{}".into(),
                images: vec![],
                is_error: false,
            }),
        ]);
        let json = serde_json::to_string(&message).unwrap();
        assert!(json.contains(r#""data":"AQID""#), "{json}");
        let back: Message = serde_json::from_str(&json).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn image_debug_hides_bytes() {
        let debug = format!("{:?}", ImageData::png(vec![0; 1000]));
        assert_eq!(debug, r#"ImageData { media_type: "image/png", bytes: 1000 }"#);
    }
}
