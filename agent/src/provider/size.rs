//! The size limits each API publishes for what one request carries, checked before sending:
//! an image or a request over them is refused by the server (Anthropic's edge answers 413
//! `request_too_large`, an oversized image is a 400), and the loop could not tell the model
//! anything useful. So the provider fails first, with an error naming the limit.
//!
//! Published figures (2025):
//! - Anthropic Messages API: 5 MB per image, measured on its base64 text (the API's own error
//!   reads "image exceeds 5 MB maximum: N bytes > 5242880 bytes"); 32 MB per request.
//! - OpenAI: 20 MB per image, and 50 MB of image bytes in one request (the vision guide's
//!   "Image input requirements"; no separate body limit is published). OpenAI-compatible
//!   servers (vLLM, Ollama, llama.cpp) are held to the same figures: theirs are looser or none.
//!
//! Megabytes are read the smaller way (10^6 bytes) where the API does not say, so a request
//! that passes here passes there.

use std::io::Write;

use super::{Content, ImageData, ModelRequest, ProviderError, ProviderKind};

/// How large what one request carries may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimits {
    /// Largest image, bytes (its base64 text when `image_as_base64`, else its encoded bytes).
    pub image_bytes: u64,
    /// Whether an image is measured as the base64 text the body carries (Anthropic).
    pub image_as_base64: bool,
    /// Most image bytes in one request, all images together, if the API limits them.
    pub images_per_request_bytes: Option<u64>,
    /// Largest request body (JSON), bytes, if the API limits it.
    pub request_bytes: Option<u64>,
    /// Whose limits these are, for messages.
    pub api: &'static str,
}

impl SizeLimits {
    /// The Anthropic Messages API: 5 MB (5 MiB of base64) per image, 32 MB per request.
    pub const ANTHROPIC: SizeLimits = SizeLimits {
        image_bytes: 5 * 1024 * 1024,
        image_as_base64: true,
        images_per_request_bytes: None,
        request_bytes: Some(32_000_000),
        api: "Anthropic Messages API",
    };

    /// OpenAI Chat Completions: 20 MB per image, 50 MB of images per request.
    pub const OPENAI: SizeLimits = SizeLimits {
        image_bytes: 20_000_000,
        image_as_base64: false,
        images_per_request_bytes: Some(50_000_000),
        request_bytes: None,
        api: "OpenAI API",
    };

    /// `Ok` when `request`, whose wire body is `body`, is within every limit; else the error
    /// that names the first limit passed. Nothing is sent in between.
    pub fn check(
        &self,
        provider: ProviderKind,
        request: &ModelRequest,
        body: &serde_json::Value,
    ) -> Result<(), ProviderError> {
        let too_large = |detail: String| Err(ProviderError::TooLarge { provider, detail });
        let images = images(request);
        let count = images.len();
        let mut total = 0u64;
        for (i, image) in images.iter().enumerate() {
            let bytes = image.data.len() as u64;
            total += bytes;
            let (size, measured) = if self.image_as_base64 {
                (bytes.div_ceil(3) * 4, " as base64")
            } else {
                (bytes, "")
            };
            if size > self.image_bytes {
                return too_large(format!(
                    "image {} of {count} ({}) is {}{measured}, over the {} limit of {} per image \
                     (use a smaller --tile-px)",
                    i + 1,
                    image.media_type,
                    megabytes(size),
                    self.api,
                    megabytes(self.image_bytes),
                ));
            }
        }
        if let Some(limit) = self.images_per_request_bytes.filter(|l| total > *l) {
            return too_large(format!(
                "its {count} images are {} together, over the {} limit of {} of images per \
                 request",
                megabytes(total),
                self.api,
                megabytes(limit),
            ));
        }
        if let Some(limit) = self.request_bytes {
            let size = json_len(body);
            if size > limit {
                return too_large(format!(
                    "the request body is {} ({count} images), over the {} limit of {} per \
                     request",
                    megabytes(size),
                    self.api,
                    megabytes(limit),
                ));
            }
        }
        Ok(())
    }
}

/// Every image a request carries, in order.
fn images(request: &ModelRequest) -> Vec<&ImageData> {
    let content = request.messages.iter().flat_map(|m| m.content.iter());
    content
        .flat_map(|c| match c {
            Content::Image(image) => std::slice::from_ref(image),
            Content::ToolResult(result) => result.images.as_slice(),
            Content::Text { .. } | Content::ToolCall(_) => &[],
        })
        .collect()
}

/// The length of `value` as compact JSON, counted without building the text.
fn json_len(value: &serde_json::Value) -> u64 {
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Bytes as `5.24 MB (5242880 bytes)`.
fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB ({bytes} bytes)", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::{Message, Sampling, ToolResult};

    fn request(image_sizes: &[usize]) -> ModelRequest {
        let images = image_sizes.iter().map(|n| ImageData::jpeg(vec![0; *n])).collect();
        ModelRequest {
            system: String::new(),
            messages: vec![
                Message::user(vec![
                    Content::text("task"),
                    Content::Image(ImageData::jpeg(vec![0; 10])),
                ]),
                Message::user(vec![Content::ToolResult(ToolResult {
                    call_id: "c".into(),
                    content: "{}".into(),
                    images,
                    is_error: false,
                })]),
            ],
            tools: vec![],
            sampling: Sampling::default(),
        }
    }

    fn detail(result: Result<(), ProviderError>) -> String {
        match result {
            Err(ProviderError::TooLarge { detail, .. }) => detail,
            other => panic!("not a size error: {other:?}"),
        }
    }

    #[test]
    fn anthropic_counts_base64_against_five_megabytes() {
        let body = json!({});
        let a = SizeLimits::ANTHROPIC;
        // 3 932 160 bytes are exactly 5 MiB of base64: the largest image that passes.
        assert!(a.check(ProviderKind::Anthropic, &request(&[3_932_160]), &body).is_ok());
        let e = detail(a.check(ProviderKind::Anthropic, &request(&[1, 3_932_161]), &body));
        assert!(
            e.starts_with("image 3 of 3 (image/jpeg) is 5.24 MB (5242884 bytes) as base64"),
            "{e}"
        );
        assert!(
            e.contains("Anthropic Messages API limit of 5.24 MB (5242880 bytes) per image"),
            "{e}"
        );
        // The whole body: 32 MB.
        let big = json!({"data": "x".repeat(32_000_000)});
        let e = detail(a.check(ProviderKind::Anthropic, &request(&[]), &big));
        assert!(e.contains("request body is 32.00 MB (32000011 bytes)"), "{e}");
        assert!(e.contains("limit of 32.00 MB (32000000 bytes) per request"), "{e}");
    }

    #[test]
    fn openai_limits_each_image_and_the_images_together() {
        let body = json!({});
        let o = SizeLimits::OPENAI;
        assert!(o.check(ProviderKind::OpenAi, &request(&[20_000_000]), &body).is_ok());
        let e = detail(o.check(ProviderKind::OpenAi, &request(&[20_000_001]), &body));
        assert!(e.contains("20.00 MB (20000001 bytes), over the OpenAI API limit"), "{e}");
        let e = detail(o.check(ProviderKind::OpenAi, &request(&[19_000_000; 3]), &body));
        assert!(e.contains("its 4 images are 57.00 MB"), "{e}");
        assert!(e.contains("50.00 MB (50000000 bytes) of images per request"), "{e}");
        // No published body limit: a large body of text alone passes.
        let big = json!({"data": "x".repeat(40_000_000)});
        assert!(o.check(ProviderKind::OpenAi, &request(&[]), &big).is_ok());
    }

    #[test]
    fn json_length_is_the_compact_text() {
        let v = json!({"a": [1, "é"], "b": null});
        assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len() as u64);
    }
}
