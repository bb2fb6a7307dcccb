//! The one place a [`Provider`] is made: [`build_provider`] turns a `models.toml` entry, plus
//! what the offline kinds need ([`OfflineContext`]), into a provider of any kind. `propose` and
//! the eval runner both call it, so a new backend is added here and nowhere else.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::terrain::LoadedSol;

use super::{ModelEntry, DEFAULT_TIMEOUT_S};
use crate::error::AgentError;
use crate::provider::anthropic::{AnthropicConfig, AnthropicProvider};
use crate::provider::baseline::Baseline;
use crate::provider::noisy::{NoisyConfig, NoisyProvider};
use crate::provider::openai::{OpenAiConfig, OpenAiProvider};
use crate::provider::reference::ReferenceProvider;
use crate::provider::replay::ReplayProvider;
use crate::provider::{Provider, ProviderError, ProviderKind};

/// What the offline kinds need besides their entry: the sol they plan, and optionally a
/// baseline already planned, the session's toolbox, a recording and a seed. The network kinds
/// ignore it, except for [`OfflineContext::replay_always`].
#[derive(Debug, Clone)]
pub struct OfflineContext<'a> {
    /// The sol of the run (the reference and noisy policies plan it).
    pub sol: &'a LoadedSol,
    /// The baseline planner's answer for the sol, when it is known already (evals plan each sol
    /// once for all its attempts); wins over [`OfflineContext::toolbox`].
    pub baseline: Option<Baseline>,
    /// The session's toolbox: the reference policy then plans on its cost grid, the one the
    /// session's `path_cost` uses, so the grid is built once per run.
    pub toolbox: Option<Arc<Toolbox>>,
    /// The recording a `replay` entry plays.
    pub cassette: Option<PathBuf>,
    /// Play [`OfflineContext::cassette`] whatever the entry's kind (an eval run with
    /// `--replay`: every model of the matrix answers from its recording).
    pub replay_always: bool,
    /// Seed of the noisy policy's choices.
    pub seed: u64,
}

impl<'a> OfflineContext<'a> {
    /// A context for `sol` with nothing known ahead, no recording and seed 0.
    #[must_use]
    pub fn new(sol: &'a LoadedSol) -> Self {
        OfflineContext {
            sol,
            baseline: None,
            toolbox: None,
            cassette: None,
            replay_always: false,
            seed: 0,
        }
    }
}

/// A provider for `entry`. Network kinds read their key from the environment now (a missing or
/// unusable key is an error naming the variable, never the value); offline kinds are made from
/// `ctx`; a `replay` entry without a cassette is an error that says how to give one.
pub fn build_provider(
    entry: &ModelEntry,
    ctx: &OfflineContext<'_>,
) -> Result<Arc<dyn Provider>, AgentError> {
    let kind = if ctx.replay_always { ProviderKind::Replay } else { entry.provider };
    Ok(match kind {
        ProviderKind::OpenAi | ProviderKind::Anthropic => build_network_provider(entry)?,
        ProviderKind::Reference => Arc::new(match (&ctx.baseline, &ctx.toolbox) {
            (Some(b), Some(t)) => {
                ReferenceProvider::with_baseline(ctx.sol, b.clone()).on_site(Arc::clone(t))
            }
            (Some(b), None) => ReferenceProvider::with_baseline(ctx.sol, b.clone()),
            (None, Some(t)) => ReferenceProvider::with_toolbox(Arc::clone(t)),
            (None, None) => ReferenceProvider::new(ctx.sol),
        }),
        ProviderKind::Noisy => {
            let cfg = NoisyConfig { seed: ctx.seed, ..NoisyConfig::default() };
            Arc::new(match &ctx.baseline {
                Some(b) => NoisyProvider::with_baseline(ctx.sol, cfg, b.clone()),
                None => NoisyProvider::new(ctx.sol, cfg),
            })
        }
        ProviderKind::Replay => {
            let Some(path) = &ctx.cassette else {
                return Err(AgentError::NoCassette { model: entry.name.clone() });
            };
            Arc::new(ReplayProvider::open(path)?)
        }
    })
}

/// A provider for a network `entry` (`openai`, `anthropic`), which needs no sol: a campaign's
/// strategic conversation happens before any sol exists. Offline kinds are an error here.
pub fn build_network_provider(entry: &ModelEntry) -> Result<Arc<dyn Provider>, AgentError> {
    let timeout = Duration::from_secs(entry.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S));
    let base_url = entry.base_url().unwrap_or_default().to_owned();
    Ok(match entry.provider {
        ProviderKind::OpenAi => {
            let config = OpenAiConfig {
                name: entry.name.clone(),
                base_url,
                model: entry.model.clone(),
                timeout,
            };
            Arc::new(OpenAiProvider::new(&config, entry.api_key()?)?)
        }
        ProviderKind::Anthropic => {
            let config = AnthropicConfig {
                name: entry.name.clone(),
                base_url,
                model: entry.model.clone(),
                timeout,
            };
            let key = entry.api_key()?.ok_or_else(|| ProviderError::Config {
                model: entry.name.clone(),
                detail: "provider `anthropic` needs `api_key_env`".to_owned(),
            })?;
            Arc::new(AnthropicProvider::new(&config, key)?)
        }
        kind => {
            return Err(ProviderError::Config {
                model: entry.name.clone(),
                detail: format!("provider `{kind}` answers offline, not over the network"),
            }
            .into())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelRegistry;

    /// One entry of each offline kind (added to the registry tests' two network entries).
    const OFFLINE: &str = r#"
[models.c-reference]
provider = "reference"
model = "reference"
input_usd_per_mtok = 0.0
output_usd_per_mtok = 0.0

[models.d-replay]
provider = "replay"
model = "recorded"
input_usd_per_mtok = 0.0
output_usd_per_mtok = 0.0
"#;

    fn models() -> String {
        format!("{}{OFFLINE}", crate::models::tests::GOOD)
    }

    fn sol() -> LoadedSol {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
        breadcrumb_tools::terrain::Sol::load(&root.join("plains-01.toml")).unwrap()
    }

    #[test]
    fn every_kind_is_built_here_and_keys_are_never_shown() {
        let registry =
            ModelRegistry::parse(&models(), std::path::Path::new("models.toml")).unwrap();
        let sol = sol();
        let ctx = OfflineContext::new(&sol);
        let err = build_provider(registry.get("a-claude").unwrap(), &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "model `a-claude`: environment variable BREADCRUMB_TEST_NO_SUCH_KEY (its API key) is not set"
        );
        let local = build_provider(registry.get("b-local").unwrap(), &ctx).unwrap();
        assert_eq!((local.kind(), local.model()), (ProviderKind::OpenAi, "qwen2.5vl:7b"));
        let reference = build_provider(registry.get("c-reference").unwrap(), &ctx).unwrap();
        assert_eq!(reference.kind(), ProviderKind::Reference);
        let mut noisy = registry.get("c-reference").unwrap().clone();
        noisy.provider = ProviderKind::Noisy;
        assert_eq!(build_provider(&noisy, &ctx).unwrap().kind(), ProviderKind::Noisy);
        let err = build_provider(registry.get("d-replay").unwrap(), &ctx).unwrap_err();
        assert!(matches!(err, AgentError::NoCassette { ref model } if model == "d-replay"));
        assert!(err.to_string().contains("--cassette"), "{err}");
    }

    #[test]
    fn replay_always_plays_the_cassette_for_any_kind() {
        let registry =
            ModelRegistry::parse(&models(), std::path::Path::new("models.toml")).unwrap();
        let sol = sol();
        let cassette = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/transcripts/v1/transcript.jsonl");
        let ctx = OfflineContext {
            cassette: Some(cassette),
            replay_always: true,
            ..OfflineContext::new(&sol)
        };
        // The network entry is never contacted nor asked for its key: it replays.
        let p = build_provider(registry.get("a-claude").unwrap(), &ctx).unwrap();
        assert_eq!(p.kind(), ProviderKind::Replay);
    }
}
