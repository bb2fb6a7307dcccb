//! Run directories and transcripts: `runs/<run-id>/transcript.jsonl`, written as the run goes.
//!
//! One JSON object per line, flushed after every event, so a crash or Ctrl-C leaves a readable
//! transcript up to the last event. Each line is a [`Record`] of one typed [`Event`]
//! ([`event`] says how the JSON looks and how events are added). Images are stored once each under `images/<sha256>.png` and
//! referenced by hash. `status.json` says `running` from the first event and is rewritten only
//! when the run ends cleanly, so a run that died is visibly incomplete. Nothing here ever sees an
//! API key: events carry what the loop sent and received, never HTTP headers.

pub mod event;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::event::{Event, Record};

/// Why a transcript could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}", path = path.display())]
pub struct TranscriptError {
    /// The file.
    pub path: PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TranscriptError + '_ {
    move |source| TranscriptError { path: path.to_path_buf(), source }
}

/// How a run stands, in `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// `running` (also what a crashed run is left as), `accepted`, `rejected` or `error`.
    pub status: String,
    /// Why it ended (budget, revisions exhausted, provider error), when it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The run's id.
    pub run_id: String,
}

/// A run directory being written.
#[derive(Debug)]
pub struct RunWriter {
    dir: PathBuf,
    run_id: String,
    file: std::io::BufWriter<std::fs::File>,
    started: Instant,
    seq: u64,
}

/// Short hex SHA-256 of bytes (content address of an image).
#[must_use]
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl RunWriter {
    /// Creates `runs_dir/<run_id>/` with an empty transcript and `status.json` = running.
    /// Refuses an existing run directory rather than mixing two runs in one transcript.
    pub fn create(runs_dir: &Path, run_id: &str) -> Result<RunWriter, TranscriptError> {
        let dir = runs_dir.join(run_id);
        std::fs::create_dir_all(runs_dir).map_err(io_err(runs_dir))?;
        std::fs::create_dir(&dir).map_err(io_err(&dir))?;
        let path = dir.join("transcript.jsonl");
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let w = RunWriter {
            dir,
            run_id: run_id.to_owned(),
            file: std::io::BufWriter::new(file),
            started: Instant::now(),
            seq: 0,
        };
        w.set_status("running", None)?;
        Ok(w)
    }

    /// The run directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run id.
    #[must_use]
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Appends one event (`{"seq", "t_ms", "event": name, ...fields}`) and flushes it to disk.
    pub fn event(&mut self, event: Event) -> Result<(), TranscriptError> {
        let record =
            Record { seq: self.seq, t_ms: self.started.elapsed().as_millis() as u64, event };
        self.seq += 1;
        let path = self.dir.join("transcript.jsonl");
        let line = record.to_line();
        writeln!(self.file, "{line}").map_err(io_err(&path))?;
        self.file.flush().map_err(io_err(&path))
    }

    /// Stores an image once under `images/<hash>.png`; returns its hash.
    pub fn image(&self, png: &[u8]) -> Result<String, TranscriptError> {
        let hash = content_hash(png);
        let dir = self.dir.join("images");
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(format!("{hash}.png"));
        if !path.exists() {
            write_atomic(&path, png)?;
        }
        Ok(hash)
    }

    /// Writes a file of the run (plan.json, verdict.json, ...) atomically.
    pub fn file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, TranscriptError> {
        let path = self.dir.join(name);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Rewrites `status.json`.
    pub fn set_status(&self, status: &str, reason: Option<&str>) -> Result<(), TranscriptError> {
        let s = RunStatus {
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            run_id: self.run_id.clone(),
        };
        let text = serde_json::to_string_pretty(&s).unwrap_or_default() + "\n";
        write_atomic(&self.dir.join("status.json"), text.as_bytes())
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so a reader
/// never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TranscriptError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Reads a transcript back: every complete line as JSON (a torn last line from a crash is
/// skipped and reported in the second value). For the events typed, see [`read_events`].
pub fn read_transcript(
    path: &Path,
) -> Result<(Vec<serde_json::Value>, Option<String>), TranscriptError> {
    read_lines(path)
}

/// Reads a transcript back as typed records (events this version does not know become
/// [`Event::Other`]); a torn last line from a crash is skipped and reported in the second
/// value.
pub fn read_events(path: &Path) -> Result<(Vec<Record>, Option<String>), TranscriptError> {
    read_lines(path)
}

fn read_lines<T: DeserializeOwned>(
    path: &Path,
) -> Result<(Vec<T>, Option<String>), TranscriptError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut events = Vec::new();
    let mut torn = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(v) => events.push(v),
            Err(e) => torn = Some(format!("line {}: {e}", i + 1)),
        }
    }
    Ok((events, torn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_flushed_lines_and_images_are_stored_once() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = RunWriter::create(tmp.path(), "r1").unwrap();
        let request =
            Event::Request { turn: 1, request_hash: "sha256:0".into(), request: json!({}) };
        w.event(request.clone()).unwrap();
        let h1 = w.image(b"png-bytes").unwrap();
        let h2 = w.image(b"png-bytes").unwrap();
        assert_eq!(h1, h2);
        assert_eq!(std::fs::read_dir(w.dir().join("images")).unwrap().count(), 1);
        // Readable before the writer is dropped: every event is on disk already.
        let (events, torn) = read_transcript(&w.dir().join("transcript.jsonl")).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["event"], "request");
        assert_eq!(events[0]["turn"], 1);
        let (records, _) = read_events(&w.dir().join("transcript.jsonl")).unwrap();
        assert_eq!((records[0].seq, &records[0].event), (0, &request));
        assert!(torn.is_none());
        let status: RunStatus =
            serde_json::from_str(&std::fs::read_to_string(w.dir().join("status.json")).unwrap())
                .unwrap();
        assert_eq!(status.status, "running");
        assert!(RunWriter::create(tmp.path(), "r1").is_err(), "a run id is used once");
    }

    #[test]
    fn a_torn_last_line_is_reported_not_fatal() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("t.jsonl");
        std::fs::write(&p, "{\"event\":\"a\"}\n{\"event\":\"b\"\n").unwrap();
        let (events, torn) = read_transcript(&p).unwrap();
        assert_eq!(events.len(), 1);
        assert!(torn.unwrap().contains("line 2"));
        // Typed, the unknown event `a` still loads, as an event of its own.
        let (records, torn) = read_events(&p).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].event.name(), records[0].event.is_other()), ("a", true));
        assert!(torn.unwrap().contains("line 2"));
    }
}
