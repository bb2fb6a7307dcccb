//! HTTP plumbing both providers share: the client, API keys that never print, `Retry-After`,
//! error messages out of error bodies, and HTTP-client failures turned into [`ProviderError`]s.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::{ProviderError, ProviderKind};

/// Longest server error message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// An API key. `Debug` and `Display` print `[redacted]`; only the request builders read it.
#[derive(Clone, Default)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from the environment.
    pub(crate) fn new(key: String) -> Self {
        ApiKey(key)
    }

    /// The key itself, for the one header that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced (servers sometimes echo it back).
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "[none]" } else { "[redacted]" })
    }
}

/// The HTTP client of one provider: rustls, a whole-request timeout, a short connect timeout,
/// no proxy discovery from the environment beyond reqwest's defaults.
pub(crate) fn client(model: &str, timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .build()
        .map_err(|e| ProviderError::Config {
            model: model.to_owned(),
            detail: format!("cannot set up the HTTP client: {}", error_chain(&e.without_url())),
        })
}

/// `url` without its query string or credentials, for messages.
pub(crate) fn display_endpoint(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                let host = authority.rsplit('@').next().unwrap_or(authority);
                format!("{scheme}://{host}/{path}")
            }
            None => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
        },
        None => no_query.to_owned(),
    }
}

/// The wait a server asked for: `retry-after-ms` (OpenAI), else `Retry-After` as seconds
/// (possibly fractional) or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The human part of an error body: `error.message` (OpenAI, Anthropic, vLLM), `error` as a
/// string (Ollama), `message` or `detail`; else the body's text. Trimmed to a few hundred
/// characters.
pub(crate) fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| {
        let error = v.get("error");
        let kind = error.and_then(|e| e.get("type")).and_then(serde_json::Value::as_str);
        let message = error
            .and_then(|e| e.get("message"))
            .or(error.filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(serde_json::Value::as_str)?;
        Some(match kind {
            Some(kind) => format!("{kind}: {message}"),
            None => message.to_owned(),
        })
    });
    let message = from_json.unwrap_or_else(|| text.trim().to_owned());
    let message = if message.is_empty() { "(empty body)".to_owned() } else { message };
    truncate(&message.replace('\n', " "), MAX_MESSAGE_CHARS)
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A reqwest failure as a [`ProviderError`]: timeouts and connection failures are retryable,
/// a body that broke off is a connection failure, the rest are ours to fix.
pub(crate) fn from_reqwest(
    provider: ProviderKind,
    endpoint: &str,
    err: reqwest::Error,
) -> ProviderError {
    let endpoint = display_endpoint(endpoint);
    let err = err.without_url();
    if err.is_timeout() {
        ProviderError::Timeout { provider, endpoint }
    } else if err.is_connect() || err.is_request() || err.is_body() {
        ProviderError::Connection { provider, endpoint, detail: error_chain(&err) }
    } else if err.is_decode() {
        ProviderError::BadResponse { provider, endpoint, detail: error_chain(&err) }
    } else {
        ProviderError::Request { provider, endpoint, detail: error_chain(&err) }
    }
}

/// A 2xx body that is not the JSON expected (`what`, e.g. "a chat completion"): when the
/// JSON ends early the body was cut off on the way (a dropped connection, a proxy), which is
/// [`ProviderError::Incomplete`] and retried; anything else is [`ProviderError::BadResponse`].
/// The key is redacted from the start of the body quoted.
pub(crate) fn undecodable(
    provider: ProviderKind,
    endpoint: &str,
    what: &str,
    err: &serde_json::Error,
    body: &str,
    key: &ApiKey,
) -> ProviderError {
    let start = truncate(&key.redact(body), 200);
    let endpoint = display_endpoint(endpoint);
    if err.is_eof() {
        let detail = format!(
            "the body breaks off after {} bytes, inside {what} ({err}); it starts {start:?}",
            body.len()
        );
        ProviderError::Incomplete { provider, endpoint, detail }
    } else {
        let detail = format!("not {what} ({err}); body starts {start:?}");
        ProviderError::BadResponse { provider, endpoint, detail }
    }
}

/// An error and its causes joined with `: ` (reqwest hides the useful part in the sources).
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past means now");
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
    }

    #[test]
    fn error_messages_from_known_bodies() {
        let openai = br#"{"error":{"message":"Rate limit reached","type":"requests","code":null}}"#;
        assert_eq!(error_message(openai), "requests: Rate limit reached");
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_message(anthropic), "overloaded_error: Overloaded");
        assert_eq!(error_message(br#"{"error":"model not found"}"#), "model not found");
        assert_eq!(error_message(br#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(error_message(b"<html>bad gateway</html>\n"), "<html>bad gateway</html>");
        assert_eq!(error_message(b""), "(empty body)");
        assert_eq!(error_message("é".repeat(600).as_bytes()).chars().count(), 501);
    }

    #[test]
    fn a_body_cut_off_is_incomplete_and_other_garbage_is_bad() {
        let key = ApiKey::new("sk-secret-123".into());
        let classify = |body: &str| {
            let err = serde_json::from_str::<serde_json::Value>(body).unwrap_err();
            undecodable(ProviderKind::OpenAi, "http://h/v1", "a reply", &err, body, &key)
        };
        for cut in [r#"{"id":"sk-secret-123","choices":[{"mess"#, "", "  "] {
            let e = classify(cut);
            assert!(matches!(e, ProviderError::Incomplete { .. }), "{cut:?}: {e:?}");
            assert!(e.is_retryable());
            assert!(!e.to_string().contains("sk-secret-123"), "{e}");
        }
        for garbage in ["<html>bad gateway</html>", r#"{"a": 1} trailing"#] {
            let e = classify(garbage);
            assert!(matches!(e, ProviderError::BadResponse { .. }), "{garbage:?}: {e:?}");
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn keys_never_print() {
        let key = ApiKey::new("sk-secret-123".into());
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(key.redact("bad key sk-secret-123!"), "bad key [redacted]!");
    }

    #[test]
    fn endpoints_lose_query_and_credentials() {
        assert_eq!(
            display_endpoint("https://user:pw@api.example.com/v1/x?key=abc"),
            "https://api.example.com/v1/x"
        );
        assert_eq!(display_endpoint("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}

/// The parts of a reply both providers return, parsed leniently, before latency is added.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) text: String,
    pub(crate) tool_calls: Vec<super::ToolCall>,
    pub(crate) usage: Option<super::Usage>,
    pub(crate) stop_reason: super::StopReason,
    pub(crate) model: Option<String>,
}

/// `base_url` without trailing slashes, refused unless it is http(s).
pub(crate) fn checked_base(model: &str, base_url: &str) -> Result<String, ProviderError> {
    let base = base_url.trim_end_matches('/').to_owned();
    if base.starts_with("http://") || base.starts_with("https://") {
        Ok(base)
    } else {
        Err(ProviderError::Config {
            model: model.to_owned(),
            detail: format!("base_url `{base}` is not an http(s) URL"),
        })
    }
}

/// `value` as a sensitive header value (an API key), refused with an error that names no key
/// when it holds characters a header cannot carry (a stray newline from a pasted key).
pub(crate) fn key_header(
    model: &str,
    value: &str,
) -> Result<reqwest::header::HeaderValue, ProviderError> {
    let mut h =
        reqwest::header::HeaderValue::from_str(value).map_err(|_| ProviderError::Config {
            model: model.to_owned(),
            detail: "the API key holds characters an HTTP header cannot carry".to_owned(),
        })?;
    h.set_sensitive(true);
    Ok(h)
}
