//! The Anthropic Messages API (`POST {base}/v1/messages`) over `reqwest` with rustls.
//!
//! Headers: `x-api-key`, `anthropic-version: 2023-06-01`. The system prompt is the top-level
//! `system`; tools are `{name, description, input_schema}`; tool results with their images go
//! back as `tool_result` blocks (`request.rs`). Replies are parsed leniently (`response.rs`).

mod request;
mod response;

use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use super::http::{self, ApiKey};
use super::{ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind, SizeLimits};

/// The API version this module speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Where and how to reach one model.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// The model's name in `models.toml` (for error messages).
    pub name: String,
    /// API base without the version path, e.g. `https://api.anthropic.com`; `/v1/messages` is
    /// appended.
    pub base_url: String,
    /// The model id sent to the server.
    pub model: String,
    /// Whole-request timeout.
    pub timeout: Duration,
}

/// A Claude model.
pub struct AnthropicProvider {
    client: reqwest::Client,
    model: String,
    endpoint: String,
    key: ApiKey,
    key_header: HeaderValue,
    limits: SizeLimits,
}

impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("model", &self.model)
            .field("endpoint", &self.endpoint)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl AnthropicProvider {
    /// A provider for `config` authenticating with `api_key`.
    pub fn new(config: &AnthropicConfig, api_key: String) -> Result<Self, ProviderError> {
        let key = ApiKey::new(api_key);
        let key_header = http::key_header(&config.name, key.expose())?;
        let base = http::checked_base(&config.name, &config.base_url)?;
        Ok(AnthropicProvider {
            client: http::client(&config.name, config.timeout)?,
            model: config.model.clone(),
            endpoint: format!("{base}/v1/messages"),
            key,
            key_header,
            limits: SizeLimits::ANTHROPIC,
        })
    }

    /// The same provider holding requests to `limits` instead of the API's published ones
    /// (tests).
    #[must_use]
    pub fn with_size_limits(self, limits: SizeLimits) -> Self {
        AnthropicProvider { limits, ..self }
    }

    fn bad_response(&self, detail: &str) -> ProviderError {
        ProviderError::BadResponse {
            provider: ProviderKind::Anthropic,
            endpoint: http::display_endpoint(&self.endpoint),
            detail: self.key.redact(detail),
        }
    }
}

#[async_trait::async_trait]
impl Provider for AnthropicProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let provider = ProviderKind::Anthropic;
        let body = request::messages_body(&self.model, request);
        self.limits.check(provider, request, &body)?;
        let started = Instant::now();
        let reply = self
            .client
            .post(&self.endpoint)
            .header("x-api-key", self.key_header.clone())
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(&body)
            .send()
            .await
            .map_err(|e| http::from_reqwest(provider, &self.endpoint, e))?;
        let status = reply.status();
        let retry_after = http::retry_after(reply.headers());
        let bytes =
            reply.bytes().await.map_err(|e| http::from_reqwest(provider, &self.endpoint, e))?;
        let latency = started.elapsed();
        if !status.is_success() {
            return Err(ProviderError::Http {
                provider,
                endpoint: http::display_endpoint(&self.endpoint),
                status: status.as_u16(),
                retry_after,
                message: self.key.redact(&http::error_message(&bytes)),
            });
        }
        let parsed: response::MessagesResponse = serde_json::from_slice(&bytes).map_err(|e| {
            let text = String::from_utf8_lossy(&bytes);
            http::undecodable(provider, &self.endpoint, "a Messages reply", &e, &text, &self.key)
        })?;
        let parsed = parsed.into_parsed().map_err(|detail| self.bad_response(&detail))?;
        Ok(ModelResponse {
            text: parsed.text,
            tool_calls: parsed.tool_calls,
            usage: parsed.usage,
            stop_reason: parsed.stop_reason,
            latency,
            model: parsed.model,
        })
    }
}
