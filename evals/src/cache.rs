//! The response cache: a model's answer to an exact request, kept in the run store, so running
//! an unchanged suite again costs nothing and gives the same conversations.
//!
//! The key is the SHA-256 of the model entry's identity (name, provider, model id, endpoint)
//! and the request in its recorded form (`request_hash`: system prompt, every message with
//! images by content hash, tool schemas, sampling). Any change to the prompt, the tools, the
//! tiles or the sampling is a different key. Sampling at a temperature above zero would make
//! repeats of one request differ; that is why the runner uses the cache only when each cell
//! runs once (`--repeats 1`), unless told `--no-cache`.
//!
//! A cached answer keeps the usage the model reported when it was first asked, so an attempt's
//! tokens and USD are what the model costs, whether or not this run paid; the attempt's
//! `cached_responses` score says how many turns came from the cache.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use breadcrumb_agent::models::ModelEntry;
use breadcrumb_agent::provider::{
    ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind,
};
use breadcrumb_agent::session::record::{normalized, request_hash};
use sha2::{Digest, Sha256};

use crate::store::Store;

/// A provider answering from the store's cache where it can, asking `inner` (and caching the
/// answer) where it cannot.
#[derive(Debug)]
pub struct Cached {
    inner: Arc<dyn Provider>,
    store: Arc<Store>,
    scope: String,
    model: String,
    hits: AtomicU32,
}

impl Cached {
    /// `inner` (the provider of model `entry`) behind the cache in `store`.
    #[must_use]
    pub fn new(inner: Arc<dyn Provider>, entry: &ModelEntry, store: Arc<Store>) -> Cached {
        let scope = format!(
            "{}\n{}\n{}\n{}",
            entry.name,
            entry.provider.as_str(),
            entry.model,
            entry.base_url().unwrap_or_default()
        );
        Cached { inner, store, scope, model: entry.name.clone(), hits: AtomicU32::new(0) }
    }

    /// Requests answered from the cache so far.
    #[must_use]
    pub fn hits(&self) -> u32 {
        self.hits.load(Ordering::SeqCst)
    }

    /// The cache key of `request`.
    #[must_use]
    pub fn key(&self, request: &ModelRequest) -> String {
        let mut h = Sha256::new();
        h.update(self.scope.as_bytes());
        h.update(b"\n");
        h.update(request_hash(&normalized(request)).as_bytes());
        format!("{:x}", h.finalize())
    }

    fn store_error(&self, e: &crate::EvalError) -> ProviderError {
        ProviderError::BadResponse {
            provider: self.inner.kind(),
            endpoint: self.store.path().display().to_string(),
            detail: format!("response cache: {e}"),
        }
    }
}

#[async_trait::async_trait]
impl Provider for Cached {
    fn kind(&self) -> ProviderKind {
        self.inner.kind()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let key = self.key(request);
        let cached = self.store.cached_response(&key).map_err(|e| self.store_error(&e))?;
        if let Some(json) = cached {
            // A row that no longer parses (written by another version) is asked again.
            if let Ok(mut response) = serde_json::from_str::<ModelResponse>(&json) {
                self.hits.fetch_add(1, Ordering::SeqCst);
                response.latency = Duration::ZERO;
                return Ok(response);
            }
            tracing::warn!("response cache: entry {key} does not parse; asking the model");
        }
        let response = self.inner.complete(request).await?;
        match serde_json::to_string(&response) {
            Ok(json) => {
                self.store
                    .put_response(&key, &self.model, &json)
                    .map_err(|e| self.store_error(&e))?;
            }
            Err(e) => tracing::warn!("response cache: cannot serialise a response: {e}"),
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breadcrumb_agent::models::ModelRegistry;
    use breadcrumb_agent::provider::{Message, Sampling, StopReason, ToolCall, Usage};

    #[derive(Debug, Default)]
    struct Counting(AtomicU32);

    #[async_trait::async_trait]
    impl Provider for Counting {
        fn kind(&self) -> ProviderKind {
            ProviderKind::OpenAi
        }
        fn model(&self) -> &'static str {
            "counting"
        }
        async fn complete(&self, r: &ModelRequest) -> Result<ModelResponse, ProviderError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(ModelResponse {
                text: format!("answer {n} to {} message(s)", r.messages.len()),
                tool_calls: vec![ToolCall {
                    id: format!("c{n}"),
                    name: "submit_route".into(),
                    arguments: serde_json::json!({"waypoints": [{"x_m": -97.564_297_600_873_33, "y_m": 0.1}]}),
                }],
                usage: Some(Usage { input_tokens: 1200, output_tokens: 80, ..Usage::default() }),
                stop_reason: StopReason::ToolUse,
                latency: Duration::from_millis(5),
                model: Some("gpt-test".into()),
            })
        }
    }

    fn entry(name: &str) -> ModelEntry {
        let text = format!(
            "[models.{name}]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n\
             model = \"m\"\ninput_usd_per_mtok = 1.0\noutput_usd_per_mtok = 2.0\n"
        );
        let r = ModelRegistry::parse(&text, std::path::Path::new("models.toml")).unwrap();
        r.get(name).unwrap().clone()
    }

    fn request(text: &str) -> ModelRequest {
        ModelRequest {
            system: "plan a drive".into(),
            messages: vec![Message::user_text(text)],
            tools: Vec::new(),
            sampling: Sampling::default(),
        }
    }

    #[tokio::test]
    async fn an_exact_request_is_answered_once_and_then_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("c.db")).unwrap());
        let inner = Arc::new(Counting::default());
        let a =
            Cached::new(Arc::clone(&inner) as Arc<dyn Provider>, &entry("a"), Arc::clone(&store));
        let first = a.complete(&request("sol 1")).await.unwrap();
        let again = a.complete(&request("sol 1")).await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 1, "the second answer came from the cache");
        assert_eq!(a.hits(), 1);
        // The same answer, usage included (the model's cost is still reported), bit for bit
        // in its numbers; only the latency is the cache's.
        assert_eq!(again.latency, Duration::ZERO);
        assert_eq!(
            (&again.text, &again.tool_calls, again.usage),
            (&first.text, &first.tool_calls, first.usage)
        );
        // Another request, or the same request to another model, is asked anew.
        a.complete(&request("sol 2")).await.unwrap();
        let b =
            Cached::new(Arc::clone(&inner) as Arc<dyn Provider>, &entry("b"), Arc::clone(&store));
        b.complete(&request("sol 1")).await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 3);
        assert_eq!(b.hits(), 0);
        // The cache outlives the process: a new store on the same file still answers.
        drop((a, b));
        drop(store);
        let store = Arc::new(Store::open(&dir.path().join("c.db")).unwrap());
        let c = Cached::new(Arc::clone(&inner) as Arc<dyn Provider>, &entry("a"), store);
        c.complete(&request("sol 2")).await.unwrap();
        assert_eq!((inner.0.load(Ordering::SeqCst), c.hits()), (3, 1));
    }
}
