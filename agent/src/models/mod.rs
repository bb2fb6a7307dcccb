//! The models registry: `models.toml` names each model the loop can drive, how to reach it and
//! what it costs; [`build_provider`] turns an entry into a provider of any kind.
//!
//! ```toml
//! [models.claude-sonnet]
//! provider = "anthropic"                  # openai | anthropic | reference | replay
//! base_url = "https://api.anthropic.com"  # optional; each provider has a default
//! api_key_env = "ANTHROPIC_API_KEY"       # the variable holding the key, never the key
//! model = "claude-sonnet-4-5"
//! input_usd_per_mtok = 3.0
//! output_usd_per_mtok = 15.0
//! cached_input_usd_per_mtok = 0.3         # optional; cache reads (default: see ModelEntry)
//! cache_write_usd_per_mtok = 3.75         # optional; cache writes (Anthropic)
//! image_tokens = "anthropic"              # anthropic | openai | none
//! temperature = 0.2                       # optional
//! max_tokens = 8192                       # optional
//! timeout_s = 300                         # optional
//! ```
//!
//! A name with a dot must be quoted: `[models."ollama-qwen2.5vl"]`.

mod build;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::provider::{ImageTokenRule, Prices, ProviderError, ProviderKind, Sampling};
pub use build::{build_network_provider, build_provider, OfflineContext};

/// Default base URL of the OpenAI API.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Default base URL of the Anthropic API.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// Default whole-request timeout, in seconds: a vision turn on a local server can be slow.
pub const DEFAULT_TIMEOUT_S: u64 = 300;

/// `models.toml` that cannot be read or is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelsError {
    /// The file cannot be read. (The I/O error is in the message, not a `source`, so a printed
    /// error chain names it once.)
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file is not valid TOML or an entry is wrong; `reason` starts with `line L`.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where and what.
        reason: String,
    },
}

/// One model of the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// The name it is known by (`--model NAME`), the table's key.
    #[serde(skip)]
    pub name: String,
    /// Which backend speaks to it.
    pub provider: ProviderKind,
    /// API base; `None` takes the provider's default.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Environment variable holding the API key; `None` for servers that need no key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The model id sent to the server.
    pub model: String,
    /// USD per million input tokens.
    pub input_usd_per_mtok: f64,
    /// USD per million output tokens.
    pub output_usd_per_mtok: f64,
    /// USD per million input tokens read from the prompt cache; if absent, 10% of the input
    /// price for `anthropic`, 50% for `openai`, the input price otherwise.
    #[serde(default)]
    pub cached_input_usd_per_mtok: Option<f64>,
    /// USD per million input tokens written to the prompt cache; if absent, 125% of the input
    /// price for `anthropic` (5-minute cache), the input price otherwise.
    #[serde(default)]
    pub cache_write_usd_per_mtok: Option<f64>,
    /// How its images are counted.
    #[serde(default)]
    pub image_tokens: ImageTokenRule,
    /// Sampling temperature; `None` leaves the server's default.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Most output tokens per turn; `None` takes the loop's default.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Whole-request timeout in seconds ([`DEFAULT_TIMEOUT_S`] if absent).
    #[serde(default)]
    pub timeout_s: Option<u64>,
    /// Requests per minute the provider allows this account; shared by every attempt of an
    /// eval (`None`: no limit).
    #[serde(default)]
    pub rpm: Option<u32>,
    /// Input tokens per minute (estimated before sending; `None`: no limit).
    #[serde(default)]
    pub tpm: Option<u32>,
    /// Line of `models.toml` where the entry starts (for messages).
    #[serde(skip)]
    pub line: usize,
}

/// Whether a model's API key is in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// The entry names no key variable.
    NotNeeded,
    /// The variable is set and not empty.
    Set,
    /// The variable is unset or empty.
    Missing,
}

impl ModelEntry {
    /// Its rate limits (`rpm`, `tpm`).
    #[must_use]
    pub fn rate_limits(&self) -> crate::provider::limits::RateLimits {
        use std::num::NonZeroU32;
        crate::provider::limits::RateLimits {
            rpm: self.rpm.and_then(NonZeroU32::new),
            tpm: self.tpm.and_then(NonZeroU32::new),
        }
    }

    /// Its prices, with the provider's usual cache ratios where the entry gives none.
    #[must_use]
    pub fn prices(&self) -> Prices {
        let input = self.input_usd_per_mtok;
        let (read, write) = match self.provider {
            ProviderKind::Anthropic => (Some(input * 0.1), Some(input * 1.25)),
            ProviderKind::OpenAi => (Some(input * 0.5), None),
            ProviderKind::Reference | ProviderKind::Replay | ProviderKind::Noisy => (None, None),
        };
        Prices {
            input_usd_per_mtok: input,
            output_usd_per_mtok: self.output_usd_per_mtok,
            cached_input_usd_per_mtok: self.cached_input_usd_per_mtok.or(read),
            cache_write_usd_per_mtok: self.cache_write_usd_per_mtok.or(write),
        }
    }

    /// Sampling for a turn: the entry's temperature and max tokens over `defaults`.
    #[must_use]
    pub fn sampling(&self, defaults: Sampling) -> Sampling {
        Sampling {
            temperature: self.temperature.or(defaults.temperature),
            max_tokens: self.max_tokens.unwrap_or(defaults.max_tokens),
        }
    }

    /// The base URL to call: the entry's, else the provider's default.
    #[must_use]
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref().or(match self.provider {
            ProviderKind::OpenAi => Some(OPENAI_BASE_URL),
            ProviderKind::Anthropic => Some(ANTHROPIC_BASE_URL),
            ProviderKind::Reference | ProviderKind::Replay | ProviderKind::Noisy => None,
        })
    }

    /// Whether its key variable is set (the value is never returned).
    #[must_use]
    pub fn key_state(&self) -> KeyState {
        match &self.api_key_env {
            None => KeyState::NotNeeded,
            Some(var) => match std::env::var_os(var) {
                Some(v) if !v.is_empty() => KeyState::Set,
                _ => KeyState::Missing,
            },
        }
    }

    /// The key from the environment: `Ok(None)` when none is needed.
    pub(crate) fn api_key(&self) -> Result<Option<String>, ProviderError> {
        let Some(var) = &self.api_key_env else { return Ok(None) };
        match std::env::var(var) {
            Ok(key) if !key.is_empty() => Ok(Some(key)),
            Ok(_) | Err(std::env::VarError::NotPresent) => {
                Err(ProviderError::MissingApiKey { model: self.name.clone(), var: var.clone() })
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(ProviderError::InvalidApiKey { model: self.name.clone(), var: var.clone() })
            }
        }
    }

    /// What is wrong with the entry, if anything.
    fn problem(&self) -> Option<String> {
        let price_ok = |p: f64| p.is_finite() && p >= 0.0;
        if self.model.trim().is_empty() {
            return Some("`model` is empty".to_owned());
        }
        let cache_ok = [self.cached_input_usd_per_mtok, self.cache_write_usd_per_mtok]
            .into_iter()
            .flatten()
            .all(price_ok);
        if !price_ok(self.input_usd_per_mtok) || !price_ok(self.output_usd_per_mtok) || !cache_ok {
            return Some("prices must be finite and not negative".to_owned());
        }
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) {
                return Some(format!("temperature {t} is outside 0..=2"));
            }
        }
        if self.max_tokens == Some(0) {
            return Some("max_tokens must be at least 1".to_owned());
        }
        if self.rpm == Some(0) || self.tpm == Some(0) {
            return Some("rpm and tpm must be at least 1 (leave them out for no limit)".to_owned());
        }
        if self.timeout_s == Some(0) {
            return Some("timeout_s must be at least 1".to_owned());
        }
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Some(format!("base_url `{url}` is not an http(s) URL"));
            }
        }
        if let Some(var) = &self.api_key_env {
            if var.is_empty() || var.contains(['=', '\0']) {
                return Some(format!("api_key_env `{var}` is not a variable name"));
            }
        }
        if self.provider == ProviderKind::Anthropic && self.api_key_env.is_none() {
            return Some("provider `anthropic` needs `api_key_env`".to_owned());
        }
        None
    }
}

/// The models of one `models.toml`, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRegistry {
    path: PathBuf,
    entries: Vec<ModelEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsFile {
    #[serde(default)]
    models: BTreeMap<String, toml::Spanned<ModelEntry>>,
}

impl ModelRegistry {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, ModelsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ModelsError::Io { path: path.to_owned(), error })?;
        Self::parse(&text, path)
    }

    /// Parses `text` as the content of `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ModelsError> {
        let invalid = |reason: String| ModelsError::Invalid { path: path.to_owned(), reason };
        let file: ModelsFile = toml::from_str(text)
            .map_err(|e| invalid(breadcrumb_tools::terrain::toml_error(text, &e)))?;
        let mut entries = Vec::with_capacity(file.models.len());
        for (name, spanned) in file.models {
            let line = line_of(text, spanned.span().start);
            let mut entry = spanned.into_inner();
            entry.name = name;
            entry.line = line;
            if let Some(problem) = entry.problem() {
                return Err(invalid(format!("line {line}: model `{}`: {problem}", entry.name)));
            }
            entries.push(entry);
        }
        Ok(ModelRegistry { path: path.to_owned(), entries })
    }

    /// The file it was read from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All entries, sorted by name.
    #[must_use]
    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    /// The entry called `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&ModelEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two entries, one of each network kind (also read by the builder's tests).
    pub(super) const GOOD: &str = r#"
[models.b-local]
provider = "openai"
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5vl:7b"
input_usd_per_mtok = 0.0
output_usd_per_mtok = 0.0

[models.a-claude]
provider = "anthropic"
api_key_env = "BREADCRUMB_TEST_NO_SUCH_KEY"
model = "claude-x"
input_usd_per_mtok = 3.0
output_usd_per_mtok = 15.0
image_tokens = "anthropic"
max_tokens = 1000
"#;

    fn parse(text: &str) -> Result<ModelRegistry, String> {
        ModelRegistry::parse(text, Path::new("models.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn entries_sorted_with_lines_and_defaults() {
        let registry = parse(GOOD).unwrap();
        let names: Vec<_> = registry.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a-claude", "b-local"]);
        let claude = registry.get("a-claude").unwrap();
        assert_eq!(claude.line, 9);
        assert_eq!(claude.base_url(), Some(ANTHROPIC_BASE_URL));
        assert_eq!(claude.key_state(), KeyState::Missing);
        assert_eq!(claude.sampling(Sampling::default()).max_tokens, 1000);
        let local = registry.get("b-local").unwrap();
        assert_eq!((local.line, local.image_tokens), (2, ImageTokenRule::None));
        assert_eq!(local.key_state(), KeyState::NotNeeded);
    }

    #[test]
    fn cache_prices_given_or_defaulted_by_provider() {
        let registry = parse(GOOD).unwrap();
        let claude = registry.get("a-claude").unwrap().prices();
        assert_eq!(claude.cached_input_usd_per_mtok, Some(3.0 * 0.1));
        assert_eq!(claude.cache_write_usd_per_mtok, Some(3.0 * 1.25));
        let mut local = registry.get("b-local").unwrap().clone();
        local.input_usd_per_mtok = 2.5;
        assert_eq!(local.prices().cached_input_usd_per_mtok, Some(1.25));
        assert_eq!(local.prices().cache_write_usd_per_mtok, None);
        let given = GOOD.replace(
            "output_usd_per_mtok = 15.0",
            "output_usd_per_mtok = 15.0\ncached_input_usd_per_mtok = 0.5\ncache_write_usd_per_mtok = 4.0",
        );
        let claude = parse(&given).unwrap().get("a-claude").unwrap().prices();
        assert_eq!(
            (claude.cached_input_usd_per_mtok, claude.cache_write_usd_per_mtok),
            (Some(0.5), Some(4.0))
        );
        let bad = GOOD.replace(
            "output_usd_per_mtok = 15.0",
            "output_usd_per_mtok = 15.0\ncached_input_usd_per_mtok = -0.5",
        );
        assert!(parse(&bad).unwrap_err().contains("prices must be finite"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = parse(&GOOD.replace("max_tokens = 1000", "max_tokns = 1000")).unwrap_err();
        assert!(
            err.starts_with("models.toml: line 16, column 1: unknown field `max_tokns`"),
            "{err}"
        );
        let err = parse(&GOOD.replace("output_usd_per_mtok = 15.0", "output_usd_per_mtok = -1.0"))
            .unwrap_err();
        assert_eq!(
            err,
            "models.toml: line 9: model `a-claude`: prices must be finite and not negative"
        );
        let err = parse(&GOOD.replace("\"anthropic\"\napi", "\"gemini\"\napi")).unwrap_err();
        assert!(err.contains("line 10") && err.contains("gemini"), "{err}");
    }
}
