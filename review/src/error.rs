//! What can go wrong opening a review or answering its requests.

use std::path::PathBuf;

/// A review error. Each variant says what failed and where; [`ReviewError::status`] is the HTTP
/// status a request that failed with it is answered with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// Reading the sol, plan, bundle or rover, or checking the plan, failed.
    #[error(transparent)]
    Tools(#[from] breadcrumb_tools::ToolsError),
    /// A file of the run could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A run directory lacks a file a review needs.
    #[error("{path} is missing: {what}")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
    },
    /// An edit or approval the server refuses as malformed (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// An approval while a gate fails, or of a state that has moved on (HTTP 409).
    #[error("{0}")]
    Conflict(String),
}

impl ReviewError {
    /// The HTTP status for this error: 400 for a malformed request, 409 for a refused
    /// approval, 500 for everything else.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            ReviewError::BadRequest(_) => 400,
            ReviewError::Conflict(_) => 409,
            _ => 500,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReviewError::Io { path: path.into(), source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ReviewError> = std::result::Result<T, E>;
