//! The crate's error: every way an agent entry point can fail, one enum.
//!
//! Each module keeps the error of what it owns (a provider's [`ProviderError`], a cassette's
//! [`ReplayError`], ...), precise enough to match on; [`AgentError`] is what a caller that
//! combines them (building a provider for a run, starting a session) gets, so the CLI and the
//! eval runner convert one type instead of five.

use crate::models::ModelsError;
use crate::prompt::PromptError;
use crate::provider::replay::ReplayError;
use crate::provider::ProviderError;
use crate::session::dossier::DossierError;
use crate::session::SessionError;
use crate::transcript::TranscriptError;

/// Why an agent entry point failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A provider could not be made or failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A `replay` entry was asked for without a recording to play.
    #[error("model `{model}` replays a recording: give one (`--cassette TRANSCRIPT`)")]
    NoCassette {
        /// The model's name in `models.toml`.
        model: String,
    },
    /// A recording could not be read.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// `models.toml` could not be read.
    #[error(transparent)]
    Models(#[from] ModelsError),
    /// A prompt set could not be loaded or rendered.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// A run could not start or keep its record.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A transcript could not be read or written.
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    /// A dossier could not be written or re-checked.
    #[error(transparent)]
    Dossier(#[from] DossierError),
}
