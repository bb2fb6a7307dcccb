//! What can go wrong in an eval: a bad suite, a store that cannot be opened, a run that cannot
//! start.

use std::path::PathBuf;

/// An eval error; every variant names the file it is about where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file cannot be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A suite file is wrong at a line.
    #[error("{path}: line {line}: {message}")]
    Suite {
        /// The suite file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The run store failed.
    #[error("{path}: {message}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The requested run is wrong (unknown model, unknown run to resume, ...).
    #[error("{0}")]
    Config(String),
    /// `models.toml` is wrong.
    #[error(transparent)]
    Models(#[from] breadcrumb_agent::models::ModelsError),
    /// A prompt set is wrong.
    #[error(transparent)]
    Prompt(#[from] breadcrumb_agent::prompt::PromptError),
    /// A provider cannot be built.
    #[error(transparent)]
    Provider(#[from] breadcrumb_agent::provider::ProviderError),
    /// A sol, its terrain or its planning failed.
    #[error(transparent)]
    Tools(#[from] breadcrumb_tools::ToolsError),
    /// A session could not start or keep its record.
    #[error(transparent)]
    Session(#[from] breadcrumb_agent::session::SessionError),
    /// Another agent failure (a provider that cannot be built, a missing recording).
    #[error(transparent)]
    Agent(#[from] breadcrumb_agent::AgentError),
    /// A campaign could not go on (its reason in a sentence).
    #[error("{0}")]
    Campaign(String),
}

/// Result of the evals crate.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
