//! Any OpenAI-compatible Chat Completions server: OpenAI, vLLM, Ollama (`/v1`), llama.cpp-server.
//!
//! Requests go through `async-openai` with two of its escape hatches:
//! - `byot` ("bring your own types"): the body is our JSON (`request.rs`) and the reply is parsed
//!   with our lenient types (`response.rs`), because compatible servers send values the strict
//!   types reject.
//! - `middleware`: our own HTTP service replaces the crate's default one, which would retry 429
//!   and 5xx on its own (hiding them from the loop's budgets and transcript) and drop
//!   `Retry-After`. Ours sends once and turns every non-2xx status into a [`ProviderError::Http`]
//!   with the status, the server's message and its requested wait.

mod request;
mod response;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;

use super::http::{self, ApiKey};
use super::{ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind, SizeLimits};

/// Where and how to reach one model.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The model's name in `models.toml` (for error messages).
    pub name: String,
    /// API base including the version, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// The model id sent to the server.
    pub model: String,
    /// Whole-request timeout (vision turns on a local server can take minutes).
    pub timeout: Duration,
}

/// A Chat Completions model.
pub struct OpenAiProvider {
    client: async_openai::Client<OpenAIConfig>,
    model: String,
    endpoint: String,
    key: ApiKey,
    limits: SizeLimits,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("model", &self.model)
            .field("endpoint", &self.endpoint)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl OpenAiProvider {
    /// A provider for `config`, sending `api_key` as a bearer token (`None` for local servers
    /// that need none).
    ///
    /// Nothing is read from `OPENAI_*` environment variables: base URL, key, organisation and
    /// project are exactly what is given here.
    pub fn new(config: &OpenAiConfig, api_key: Option<String>) -> Result<Self, ProviderError> {
        let key = ApiKey::new(api_key.unwrap_or_default());
        // async-openai builds the header with `.parse().unwrap()`: check it first, so a key with
        // a stray newline is an error naming no key rather than a panic.
        http::key_header(&config.name, &format!("Bearer {}", key.expose()))?;
        let base = http::checked_base(&config.name, &config.base_url)?;
        let http_client = http::client(&config.name, config.timeout)?;
        let openai_config = OpenAIConfig::new()
            .with_api_base(base.clone())
            .with_api_key(key.expose())
            .with_org_id("")
            .with_project_id("");
        let client = async_openai::Client::build(http_client.clone(), openai_config)
            .with_http_service(SendOnce { client: http_client });
        Ok(OpenAiProvider {
            client,
            model: config.model.clone(),
            endpoint: format!("{base}/chat/completions"),
            key,
            limits: SizeLimits::OPENAI,
        })
    }

    /// The same provider holding requests to `limits` instead of OpenAI's published ones (a
    /// server with smaller limits; tests).
    #[must_use]
    pub fn with_size_limits(self, limits: SizeLimits) -> Self {
        OpenAiProvider { limits, ..self }
    }

    /// An `async-openai` failure as ours, with the key redacted from anything the server said.
    fn error(&self, err: OpenAIError) -> ProviderError {
        let provider = ProviderKind::OpenAi;
        let endpoint = http::display_endpoint(&self.endpoint);
        match err {
            OpenAIError::Boxed(boxed) => match boxed.downcast::<HttpStatus>() {
                Ok(status) => ProviderError::Http {
                    provider,
                    endpoint,
                    status: status.status,
                    retry_after: status.retry_after,
                    message: self.key.redact(&status.message),
                },
                Err(other) => match other.downcast::<reqwest::Error>() {
                    Ok(e) => http::from_reqwest(provider, &self.endpoint, *e),
                    Err(other) => ProviderError::Request {
                        provider,
                        endpoint,
                        detail: self.key.redact(&http::error_chain(other.as_ref())),
                    },
                },
            },
            OpenAIError::Reqwest(e) => http::from_reqwest(provider, &self.endpoint, e),
            OpenAIError::ApiError(api) => ProviderError::Http {
                provider,
                endpoint,
                status: api.status_code.as_u16(),
                retry_after: None,
                message: self.key.redact(&api.api_error.to_string()),
            },
            OpenAIError::JSONDeserialize(e, body) => http::undecodable(
                provider,
                &self.endpoint,
                "a chat completion",
                &e,
                &body,
                &self.key,
            ),
            OpenAIError::InvalidArgument(detail) => {
                ProviderError::Request { provider, endpoint, detail }
            }
            other => ProviderError::BadResponse {
                provider,
                endpoint,
                detail: self.key.redact(&other.to_string()),
            },
        }
    }
}

#[async_trait::async_trait]
impl Provider for OpenAiProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAi
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let body = request::chat_body(&self.model, request);
        self.limits.check(ProviderKind::OpenAi, request, &body)?;
        let started = Instant::now();
        let reply: response::ChatResponse =
            self.client.chat().create_byot(&body).await.map_err(|e| self.error(e))?;
        let latency = started.elapsed();
        let parsed = reply.into_parsed().map_err(|detail| ProviderError::BadResponse {
            provider: ProviderKind::OpenAi,
            endpoint: http::display_endpoint(&self.endpoint),
            detail: self.key.redact(&detail),
        })?;
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

/// A non-2xx reply, carried through `async-openai` as a boxed error and recovered by downcast.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status}: {message}")]
struct HttpStatus {
    status: u16,
    retry_after: Option<Duration>,
    message: String,
}

/// The HTTP service handed to `async-openai`: sends each request once; a non-2xx status becomes
/// an [`HttpStatus`] error with the server's message and `Retry-After`.
#[derive(Clone)]
struct SendOnce {
    client: reqwest::Client,
}

impl tower::Service<HttpRequestFactory> for SendOnce {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let client = self.client.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let reply = client.execute(request).await.map_err(OpenAIError::Reqwest)?;
            if reply.status().is_success() {
                return Ok(reply);
            }
            let status = reply.status().as_u16();
            let retry_after = http::retry_after(reply.headers());
            let message = match reply.bytes().await {
                Ok(body) => http::error_message(&body),
                Err(e) => format!("(body unreadable: {})", http::error_chain(&e.without_url())),
            };
            Err(OpenAIError::Boxed(Box::new(HttpStatus { status, retry_after, message })))
        })
    }
}
