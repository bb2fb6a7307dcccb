//! The `replay` provider: plays back the model turns of a recorded run (its
//! `transcript.jsonl`, the cassette) turn by turn, and fails loudly when the loop's requests
//! diverge from the recording — the error names the first difference.
//!
//! Any run can be re-driven this way, offline: a prompt, tool or checker change that alters
//! what the model would have been sent shows up as a named divergence instead of a silently
//! different conversation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::provider::{ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind};
use crate::session::record::{first_difference, normalized, request_hash};
use crate::transcript::{Event, Record};

/// Why a cassette could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] crate::transcript::TranscriptError),
    /// The file is not a usable recording.
    #[error("{path}: {reason}", path = path.display())]
    Invalid {
        /// The cassette.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// One recorded turn.
#[derive(Debug, Clone)]
struct Turn {
    hash: String,
    request: serde_json::Value,
    response: ModelResponse,
}

/// Plays back a recorded run.
#[derive(Debug)]
pub struct ReplayProvider {
    path: PathBuf,
    model_id: String,
    turns: Vec<Turn>,
    next: AtomicUsize,
}

impl ReplayProvider {
    /// Reads a cassette: a `transcript.jsonl`, or a run directory holding one.
    pub fn open(path: &Path) -> Result<ReplayProvider, ReplayError> {
        let file = if path.is_dir() { path.join("transcript.jsonl") } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&file).map_err(|error| ReplayError::Invalid {
            path: file.clone(),
            reason: format!("cannot read the cassette: {error}"),
        })?;
        let invalid = |reason: String| ReplayError::Invalid { path: file.clone(), reason };
        // Every line must parse: a recording with a damaged line in it is not a recording of
        // what the model said, and playing the rest back would be a different conversation.
        let mut model_id = String::from("replay");
        let mut pending: Option<(u32, String, serde_json::Value)> = None;
        let mut turns = Vec::new();
        for (i, text) in text.lines().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            let line = i + 1;
            let record: Record = serde_json::from_str(text).map_err(|e| {
                invalid(format!(
                    "line {line}: not a transcript event ({e}); the cassette is damaged"
                ))
            })?;
            match record.event {
                Event::RunStarted { model_id: m, .. } => model_id = m,
                Event::Request { turn, request_hash, request } => {
                    pending = Some((turn, request_hash, request));
                }
                Event::Response { turn, response, .. } => {
                    let Some((asked, hash, request)) = pending.take() else {
                        return Err(invalid(format!("line {line}: a response without a request")));
                    };
                    if turn != asked {
                        return Err(invalid(format!("line {line}: a response to another turn")));
                    }
                    turns.push(Turn { hash, request, response });
                }
                // A model turn whose line does not fit its event (no request hash, a response
                // that is not one) cannot be played back.
                ref other @ Event::Other(_) if matches!(other.name(), "request" | "response") => {
                    return Err(invalid(format!(
                        "line {line}: a `{}` event that does not read as one; the cassette is \
                         damaged",
                        other.name()
                    )));
                }
                _ => {}
            }
        }
        if turns.is_empty() {
            return Err(invalid("no recorded model turns".into()));
        }
        Ok(ReplayProvider { path: file, model_id, turns, next: AtomicUsize::new(0) })
    }

    /// Recorded turns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.turns.len()
    }

    /// Whether the recording has no turns (never: [`ReplayProvider::open`] refuses those).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    fn error(&self, detail: String) -> ProviderError {
        ProviderError::BadResponse {
            provider: ProviderKind::Replay,
            endpoint: self.path.display().to_string(),
            detail,
        }
    }
}

#[async_trait::async_trait]
impl Provider for ReplayProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Replay
    }

    fn model(&self) -> &str {
        &self.model_id
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        let Some(turn) = self.turns.get(i) else {
            return Err(self.error(format!(
                "the loop asked for turn {} but the recording has only {} turn(s)",
                i + 1,
                self.turns.len()
            )));
        };
        let live = normalized(request);
        if request_hash(&live) != turn.hash {
            let diff = first_difference(&turn.request, &live)
                .unwrap_or_else(|| "the recorded request hash does not match".into());
            return Err(self.error(format!(
                "request of turn {} diverges from the recording at {diff}",
                i + 1
            )));
        }
        let mut response = turn.response.clone();
        response.latency = Duration::ZERO;
        Ok(response)
    }
}
