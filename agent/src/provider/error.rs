//! Why a model turn failed, and whether trying again can help.
//!
//! The loop retries only what [`ProviderError::class`] calls retryable, waiting at least the
//! server's `Retry-After`. No variant ever holds an API key: providers build messages from the
//! server's reply with the key redacted, and endpoints are printed without their query string.

use std::time::Duration;

use super::ProviderKind;

/// A model turn that did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The server answered with an HTTP error status.
    #[error("{provider}: HTTP {status} from {endpoint}: {message}")]
    Http {
        /// Which provider was talking.
        provider: ProviderKind,
        /// The URL called (no query string).
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// How long the server asked us to wait (`Retry-After`, `retry-after-ms`).
        retry_after: Option<Duration>,
        /// The server's error message (trimmed, API key redacted).
        message: String,
    },
    /// The request or the response body took too long.
    #[error("{provider}: request to {endpoint} timed out")]
    Timeout {
        /// Which provider was talking.
        provider: ProviderKind,
        /// The URL called.
        endpoint: String,
    },
    /// The connection could not be made, or broke (refused, reset, TLS failure).
    #[error("{provider}: connection to {endpoint} failed: {detail}")]
    Connection {
        /// Which provider was talking.
        provider: ProviderKind,
        /// The URL called.
        endpoint: String,
        /// What the HTTP client said.
        detail: String,
    },
    /// The server answered 2xx but the body cannot be used (not JSON, no choices, an error
    /// object in place of a completion).
    #[error("{provider}: unusable response from {endpoint}: {detail}")]
    BadResponse {
        /// Which provider was talking.
        provider: ProviderKind,
        /// The URL called.
        endpoint: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The server answered 2xx but the body ends before its JSON does (a dropped connection,
    /// a proxy or load balancer cutting it short): a passing fault, retried like a 5xx.
    #[error("{provider}: incomplete response from {endpoint}: {detail}")]
    Incomplete {
        /// Which provider was talking.
        provider: ProviderKind,
        /// The URL called.
        endpoint: String,
        /// Where the body broke off, and how it starts.
        detail: String,
    },
    /// The request is over a size limit the API publishes (per image, per request), so it was
    /// not sent: the server would refuse it (a 413 from its proxy, or a 400).
    #[error("{provider}: request not sent: {detail}")]
    TooLarge {
        /// Which provider would have been called.
        provider: ProviderKind,
        /// What is too large, how large, and the limit it passes.
        detail: String,
    },
    /// The request could not be built or sent for a reason on our side.
    #[error("{provider}: cannot send the request to {endpoint}: {detail}")]
    Request {
        /// Which provider was talking.
        provider: ProviderKind,
        /// The URL to be called.
        endpoint: String,
        /// What went wrong.
        detail: String,
    },
    /// The model's API key variable is not set in the environment.
    #[error("model `{model}`: environment variable {var} (its API key) is not set")]
    MissingApiKey {
        /// The model's name in `models.toml`.
        model: String,
        /// The variable.
        var: String,
    },
    /// The model's API key variable holds something an HTTP header cannot carry (a stray
    /// newline, say). The value itself is never shown.
    #[error("model `{model}`: environment variable {var} holds characters an HTTP header cannot carry (a trailing newline?)")]
    InvalidApiKey {
        /// The model's name in `models.toml`.
        model: String,
        /// The variable.
        var: String,
    },
    /// The entry names a provider this build cannot make.
    #[error("model `{model}`: provider `{provider}` is not available in this build yet")]
    NotAvailable {
        /// The model's name in `models.toml`.
        model: String,
        /// The provider it asks for.
        provider: ProviderKind,
    },
    /// The entry cannot be turned into a working client (bad base URL, TLS set-up failed).
    #[error("model `{model}`: {detail}")]
    Config {
        /// The model's name in `models.toml`.
        model: String,
        /// What is wrong.
        detail: String,
    },
}

/// Whether a failed turn is worth trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A passing condition (rate limit, overload, server error, timeout, dropped connection,
    /// a reply cut off mid-body).
    Retryable {
        /// The server's requested wait, if it gave one; wait at least this long.
        retry_after: Option<Duration>,
    },
    /// Trying again will fail the same way (bad key, bad request, unusable response, a
    /// request over the API's size limits).
    Fatal,
}

/// HTTP statuses that mean "try again later": request timeout, rate limit, server errors,
/// gateway errors, and Anthropic's 529 "overloaded".
pub const RETRYABLE_STATUSES: [u16; 7] = [408, 429, 500, 502, 503, 504, 529];

impl ProviderError {
    /// Retryable or fatal, with the server's requested wait.
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            ProviderError::Http { status, retry_after, .. }
                if RETRYABLE_STATUSES.contains(status) =>
            {
                ErrorClass::Retryable { retry_after: *retry_after }
            }
            ProviderError::Timeout { .. }
            | ProviderError::Connection { .. }
            | ProviderError::Incomplete { .. } => ErrorClass::Retryable { retry_after: None },
            _ => ErrorClass::Fatal,
        }
    }

    /// Whether trying again can help.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self.class(), ErrorClass::Retryable { .. })
    }

    /// The wait the server asked for, if any (only on retryable errors).
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self.class() {
            ErrorClass::Retryable { retry_after } => retry_after,
            ErrorClass::Fatal => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, retry_after: Option<Duration>) -> ProviderError {
        ProviderError::Http {
            provider: ProviderKind::OpenAi,
            endpoint: "http://127.0.0.1/v1/chat/completions".into(),
            status,
            retry_after,
            message: "x".into(),
        }
    }

    #[test]
    fn statuses_are_classified() {
        let wait = Some(Duration::from_secs(3));
        assert_eq!(http(429, wait).class(), ErrorClass::Retryable { retry_after: wait });
        for status in [500, 502, 503, 529] {
            assert!(http(status, None).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 422] {
            assert_eq!(http(status, wait).class(), ErrorClass::Fatal, "{status}");
            assert_eq!(http(status, wait).retry_after(), None);
        }
    }

    #[test]
    fn a_cut_off_body_is_retried_and_an_oversized_request_is_not() {
        let endpoint = "http://127.0.0.1/v1/messages".to_owned();
        let provider = ProviderKind::Anthropic;
        let cut = ProviderError::Incomplete { provider, endpoint, detail: "x".into() };
        assert_eq!(cut.class(), ErrorClass::Retryable { retry_after: None });
        let big = ProviderError::TooLarge { provider, detail: "image 1 of 1".into() };
        assert_eq!(big.class(), ErrorClass::Fatal);
    }
}
