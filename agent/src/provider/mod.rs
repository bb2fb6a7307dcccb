//! Model providers behind one trait.
//!
//! The loop speaks only [`ModelRequest`] / [`ModelResponse`]; each backend converts to and from
//! its wire format in its own module, so nothing above it sees JSON of any API:
//!
//! - [`openai`]: any OpenAI-compatible Chat Completions server (OpenAI, vLLM, Ollama,
//!   llama.cpp-server) through `async-openai`, parsed with lenient types of our own.
//! - [`anthropic`]: the Anthropic Messages API over `reqwest`.
//! - offline, no network: [`reference`] (the baseline planner acting as an agent), [`noisy`]
//!   (its seeded perturbations) and [`replay`] (cassette playback); [`baseline`] is the planner
//!   answer the first two share.
//!
//! Every kind is built by one function, [`crate::models::build_provider`].
//!
//! Providers never retry: they classify failures ([`ProviderError::class`]) and the loop decides,
//! honouring the server's `Retry-After`.

pub mod anthropic;
pub mod baseline;
mod cost;
mod error;
mod http;
pub mod limits;
pub mod noisy;
pub mod openai;
pub mod reference;
pub mod replay;
mod size;
mod types;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use cost::{ImageTokenRule, Prices};
pub use error::{ErrorClass, ProviderError, RETRYABLE_STATUSES};
pub use size::SizeLimits;
pub use types::{
    Content, ImageData, Message, ModelRequest, ModelResponse, Role, Sampling, StopReason, ToolCall,
    ToolResult, ToolSpec, Usage, ECHOED_AS_EMPTY,
};

/// A model behind some API: one call per turn.
///
/// Object-safe (`Box<dyn Provider>`, `Arc<dyn Provider>`); `Send + Sync` so concurrent attempts
/// can share one client.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// Which kind of backend this is (recorded in plan provenance).
    fn kind(&self) -> ProviderKind;

    /// The model id sent to the server (recorded in plan provenance).
    fn model(&self) -> &str;

    /// Runs one turn. Takes the request by reference so the loop can retry it unchanged.
    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError>;
}

/// The kinds of backend a `models.toml` entry can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible Chat Completions (OpenAI, vLLM, Ollama, llama.cpp-server).
    #[serde(rename = "openai")]
    OpenAi,
    /// The Anthropic Messages API.
    Anthropic,
    /// The deterministic reference policy (the planner, no model).
    Reference,
    /// Playback of recorded turns (cassettes).
    Replay,
    /// The seeded noisy policy (perturbed planner routes, no model; [`crate::provider::noisy`]).
    Noisy,
}

impl ProviderKind {
    /// The name used in `models.toml` and provenance.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Reference => "reference",
            ProviderKind::Replay => "replay",
            ProviderKind::Noisy => "noisy",
        }
    }

    /// Whether it talks to a server (quota, cost, a response cache); the others answer
    /// locally at once.
    #[must_use]
    pub fn is_network(self) -> bool {
        matches!(self, ProviderKind::OpenAi | ProviderKind::Anthropic)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
