//! Per-model rate limits: requests per minute and (estimated) input tokens per minute, shared
//! by every conversation that uses the model, so an eval running 16 attempts at once stays under
//! the provider's quota instead of collecting 429s.
//!
//! The limiter wraps a provider ([`RateLimited`]); each request (retries included) first waits
//! for one request cell and for as many token cells as the request is estimated to carry. The
//! estimate is made before sending, since the limit must hold before the server counts: text is
//! counted at 4 characters a token (the usual rule of thumb for English and JSON), images by the
//! model's [`ImageTokenRule`]. A request estimated above the whole per-minute budget waits for a
//! full budget rather than forever.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::cost::ImageTokenRule;
use super::{Content, ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind};

/// A model's limits, as `models.toml` gives them (`rpm`, `tpm`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per minute.
    pub rpm: Option<NonZeroU32>,
    /// Input tokens per minute (estimated before sending).
    pub tpm: Option<NonZeroU32>,
}

impl RateLimits {
    /// Whether any limit is set.
    #[must_use]
    pub fn is_limited(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some()
    }
}

/// The shared state of one model's limits.
pub struct Limiter {
    limits: RateLimits,
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<DefaultDirectRateLimiter>,
    image_rule: ImageTokenRule,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Limiter {
    /// A limiter for `limits`; images are estimated with `image_rule`.
    #[must_use]
    pub fn new(limits: RateLimits, image_rule: ImageTokenRule) -> Limiter {
        Limiter {
            limits,
            requests: limits.rpm.map(|n| RateLimiter::direct(Quota::per_minute(n))),
            tokens: limits.tpm.map(|n| RateLimiter::direct(Quota::per_minute(n))),
            image_rule,
        }
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Waits until `request` may be sent.
    pub async fn acquire(&self, request: &ModelRequest) {
        if let Some(r) = &self.requests {
            r.until_ready().await;
        }
        if let (Some(t), Some(tpm)) = (&self.tokens, self.limits.tpm) {
            let want =
                estimate_input_tokens(request, self.image_rule).clamp(1, u64::from(tpm.get()));
            let n = NonZeroU32::new(u32::try_from(want).unwrap_or(tpm.get())).unwrap_or(tpm);
            // Cannot fail: `n` is at most the burst size (the whole minute's budget).
            let _ = t.until_n_ready(n).await;
        }
    }
}

/// Input tokens `request` is expected to cost: its text at 4 characters a token, its images by
/// `rule`.
#[must_use]
pub fn estimate_input_tokens(request: &ModelRequest, rule: ImageTokenRule) -> u64 {
    let mut chars = request.system.len();
    let mut images = 0u64;
    for m in &request.messages {
        for c in &m.content {
            match c {
                Content::Image(img) => {
                    images += img.dimensions().map_or(0, |(w, h)| rule.estimate(w, h));
                }
                Content::ToolResult(r) => {
                    chars += r.content.len();
                    images += r
                        .images
                        .iter()
                        .filter_map(super::ImageData::dimensions)
                        .map(|(w, h)| rule.estimate(w, h))
                        .sum::<u64>();
                }
                other => chars += serde_json::to_string(other).map_or(0, |s| s.len()),
            }
        }
    }
    chars += request
        .tools
        .iter()
        .map(|t| t.description.len() + t.parameters.to_string().len())
        .sum::<usize>();
    (chars as u64).div_ceil(4) + images
}

/// A provider whose requests wait for their model's [`Limiter`].
#[derive(Debug)]
pub struct RateLimited {
    inner: Arc<dyn Provider>,
    limiter: Arc<Limiter>,
}

impl RateLimited {
    /// `inner`, limited by `limiter` (share one limiter between every provider of a model).
    #[must_use]
    pub fn new(inner: Arc<dyn Provider>, limiter: Arc<Limiter>) -> RateLimited {
        RateLimited { inner, limiter }
    }
}

#[async_trait::async_trait]
impl Provider for RateLimited {
    fn kind(&self) -> ProviderKind {
        self.inner.kind()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        self.limiter.acquire(request).await;
        self.inner.complete(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Message, Sampling, StopReason};

    fn request(text: &str) -> ModelRequest {
        ModelRequest {
            system: String::new(),
            messages: vec![Message::user_text(text)],
            tools: Vec::new(),
            sampling: Sampling::default(),
        }
    }

    #[derive(Debug, Default)]
    struct Echo(std::sync::atomic::AtomicU32);

    #[async_trait::async_trait]
    impl Provider for Echo {
        fn kind(&self) -> ProviderKind {
            ProviderKind::OpenAi
        }
        fn model(&self) -> &'static str {
            "echo"
        }
        async fn complete(&self, _r: &ModelRequest) -> Result<ModelResponse, ProviderError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(ModelResponse {
                text: "ok".into(),
                tool_calls: vec![],
                usage: None,
                stop_reason: StopReason::EndTurn,
                latency: std::time::Duration::ZERO,
                model: None,
            })
        }
    }

    #[test]
    fn text_is_four_characters_a_token() {
        // The message serialises as {"type":"text","text":"..."}: 400 characters of text
        // plus the JSON around it.
        let n = estimate_input_tokens(&request(&"x".repeat(400)), ImageTokenRule::None);
        assert!((100..=110).contains(&n), "{n}");
        assert!(estimate_input_tokens(&request(""), ImageTokenRule::None) < 10);
    }

    #[tokio::test]
    async fn the_request_after_the_minutes_quota_waits() {
        let limits = RateLimits { rpm: NonZeroU32::new(2), tpm: None };
        let limiter = Arc::new(Limiter::new(limits, ImageTokenRule::None));
        let inner = Arc::new(Echo::default());
        let p = RateLimited::new(Arc::clone(&inner) as Arc<dyn Provider>, limiter);
        let r = request("hello");
        p.complete(&r).await.unwrap();
        p.complete(&r).await.unwrap();
        // The third would have to wait 30 s for the next cell of a 2-a-minute quota.
        let third = tokio::time::timeout(std::time::Duration::from_millis(200), p.complete(&r));
        assert!(third.await.is_err(), "the third request went through at once");
        assert_eq!(inner.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn tokens_per_minute_hold_back_a_large_request() {
        // 1000 tokens a minute; each request is about 260 tokens: three pass, the fourth waits.
        let limits = RateLimits { rpm: None, tpm: NonZeroU32::new(1000) };
        let limiter = Arc::new(Limiter::new(limits, ImageTokenRule::None));
        let inner = Arc::new(Echo::default());
        let p = RateLimited::new(Arc::clone(&inner) as Arc<dyn Provider>, limiter);
        let r = request(&"y".repeat(1000));
        for _ in 0..3 {
            p.complete(&r).await.unwrap();
        }
        let fourth = tokio::time::timeout(std::time::Duration::from_millis(200), p.complete(&r));
        assert!(fourth.await.is_err(), "the fourth request went through at once");
        assert_eq!(inner.0.load(std::sync::atomic::Ordering::SeqCst), 3);
        // A request estimated above the whole budget waits for a full minute's budget rather
        // than forever: the limiter clamps it (checked without waiting a minute: it is
        // accepted by a fresh limiter at once).
        let fresh = Limiter::new(limits, ImageTokenRule::None);
        let huge = request(&"z".repeat(40_000));
        tokio::time::timeout(std::time::Duration::from_secs(1), fresh.acquire(&huge))
            .await
            .expect("a request over the budget passes a fresh limiter");
    }
}
