//! The run store: SQLite with three tables, `runs`, `cells` (model x prompt of a run) and
//! `attempts` (keyed by run, sol, model, prompt, repeat; every score, the transcript's path).
//! Each attempt is its own transaction, committed when the attempt ends, so a killed run loses at
//! most the attempts in flight and `--resume` redoes only those.
//!
//! Campaign runs (`eval campaign`) are rows of `runs` too, of kind `campaign` ([`RunKind`]), so
//! ids stay unique and `eval list` shows both; their scores live in `campaigns` and
//! `campaign_sols` ([`campaign`]).

mod campaign;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::score::{summarize, AttemptScores, CellSummary};

pub use self::campaign::{CampaignSol, StoredCampaign};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    suite TEXT NOT NULL,
    suite_path TEXT NOT NULL,
    models TEXT NOT NULL,
    prompts TEXT NOT NULL,
    repeats INTEGER NOT NULL,
    planned INTEGER NOT NULL,
    runs_dir TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    evals_version TEXT NOT NULL,
    options TEXT,
    kind TEXT
);
CREATE TABLE IF NOT EXISTS cells (
    run_id TEXT NOT NULL REFERENCES runs(id),
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    summary TEXT,
    PRIMARY KEY (run_id, model, prompt)
);
CREATE TABLE IF NOT EXISTS attempts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    sol TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    status TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    accepted_first_submit INTEGER NOT NULL,
    expectation_met INTEGER,
    revisions INTEGER NOT NULL,
    goal_error_m REAL,
    route_length_m REAL,
    cost REAL,
    cost_ratio REAL,
    max_tilt_deg REAL,
    min_hazard_clearance_m REAL,
    frechet_m REAL,
    turns INTEGER NOT NULL,
    tool_calls INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    image_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    wall_s REAL NOT NULL,
    failure_reason TEXT,
    scores TEXT NOT NULL,
    transcript TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, sol, model, prompt, repeat)
);
CREATE TABLE IF NOT EXISTS campaigns (
    run_id TEXT NOT NULL REFERENCES runs(id),
    campaign TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    reached INTEGER NOT NULL,
    state TEXT NOT NULL,
    sols INTEGER NOT NULL,
    reference_sols INTEGER NOT NULL,
    sols_ratio REAL,
    km REAL NOT NULL,
    length_ratio REAL,
    drive_hours REAL NOT NULL,
    cost_ratio REAL,
    first_submit_rate REAL NOT NULL,
    tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    wall_s REAL NOT NULL,
    scores TEXT NOT NULL,
    dir TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, campaign, model, prompt)
);
CREATE TABLE IF NOT EXISTS campaign_sols (
    run_id TEXT NOT NULL,
    campaign TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    number INTEGER NOT NULL,
    sol TEXT NOT NULL,
    status TEXT NOT NULL,
    length_m REAL,
    drive_s REAL,
    submits INTEGER NOT NULL,
    accepted_first_submit INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, campaign, model, prompt, number),
    FOREIGN KEY (run_id, campaign, model, prompt)
        REFERENCES campaigns(run_id, campaign, model, prompt)
);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL
);
";

/// What identifies an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AttemptKey {
    /// The run.
    pub run_id: String,
    /// The sol's id.
    pub sol: String,
    /// The model's name.
    pub model: String,
    /// The prompt version.
    pub prompt: String,
    /// 0-based repeat.
    pub repeat: u32,
}

/// What a run holds: sol attempts (`eval run`) or campaigns (`eval campaign`). Compare and
/// report read each kind its own way and refuse to mix them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A matrix of sol attempts (`attempts` rows).
    #[default]
    Sol,
    /// A campaign suite (`campaigns` and `campaign_sols` rows).
    Campaign,
}

impl RunKind {
    /// As stored and printed: `sol`, `campaign`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Sol => "sol",
            RunKind::Campaign => "campaign",
        }
    }

    /// From the `kind` column (NULL, from stores older than campaign runs, is `sol`).
    fn from_column(s: Option<&str>) -> RunKind {
        if s == Some("campaign") {
            RunKind::Campaign
        } else {
            RunKind::Sol
        }
    }
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Suite name.
    pub suite: String,
    /// Suite file.
    pub suite_path: String,
    /// Models, in order.
    pub models: Vec<String>,
    /// Prompt versions, in order.
    pub prompts: Vec<String>,
    /// Repeats per (sol, model, prompt).
    pub repeats: u32,
    /// Attempts the matrix holds.
    pub planned: u32,
    /// Where transcripts are.
    pub runs_dir: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end, once every attempt is done.
    pub finished_at: Option<String>,
    /// How its attempts run (cache, record, replay); a resume runs the rest the same way.
    #[serde(default)]
    pub options: RunOptions,
    /// Sol attempts or campaigns.
    #[serde(default)]
    pub kind: RunKind,
}

/// How a run's attempts talk to their models.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Answer requests seen before from the response cache (the store's `responses` table).
    pub cache: bool,
    /// Copy each attempt's transcript to this directory as a cassette.
    pub record: Option<String>,
    /// Play every model's turns back from the cassettes in this directory.
    pub replay: Option<String>,
    /// Pixel side of the tiles its models see (set by the runner; a resume keeps it).
    #[serde(default)]
    pub tile_px: Option<u32>,
    /// Failed submissions each attempt may revise (set by the runner; a resume keeps it).
    #[serde(default)]
    pub max_revisions: Option<u32>,
}

/// An attempt as stored: key, scores, transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAttempt {
    /// Which attempt.
    pub key: AttemptKey,
    /// Its scores.
    pub scores: AttemptScores,
    /// Its `transcript.jsonl` (its directory holds `plan.json`, `verdict.json`, `images/`).
    pub transcript: PathBuf,
}

/// A line of `eval list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunListing {
    /// The run.
    pub run: RunRecord,
    /// Attempts stored (campaigns, for a campaign run).
    pub done: u32,
    /// Of those, accepted (campaigns that reached their goal, for a campaign run).
    pub accepted: u32,
}

/// The SQLite run store (safe to share between tasks).
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|error| EvalError::Io { path: dir.to_path_buf(), error })?;
        }
        let err = |e: rusqlite::Error| EvalError::Store {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        // Stores made before runs had options gain the column (NULL reads as the defaults).
        if conn.prepare("SELECT options FROM runs LIMIT 0").is_err() {
            conn.execute_batch("ALTER TABLE runs ADD COLUMN options TEXT").map_err(err)?;
        }
        // ... and the kind (NULL reads as a sol run, which is all such stores hold).
        if conn.prepare("SELECT kind FROM runs LIMIT 0").is_err() {
            conn.execute_batch("ALTER TABLE runs ADD COLUMN kind TEXT").map_err(err)?;
        }
        Ok(Store { path: path.to_path_buf(), conn: Mutex::new(conn) })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut conn)
            .map_err(|e| EvalError::Store { path: self.path.clone(), message: e.to_string() })
    }

    /// Records a new run and its cells.
    pub fn create_run(&self, run: &RunRecord) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO runs (id, suite, suite_path, models, prompts, repeats, planned, runs_dir,
                                   started_at, finished_at, evals_version, options, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11, ?12)",
                params![
                    run.id,
                    run.suite,
                    run.suite_path,
                    run.models.join(","),
                    run.prompts.join(","),
                    run.repeats,
                    run.planned,
                    run.runs_dir,
                    run.started_at,
                    crate::version(),
                    serde_json::to_string(&run.options).unwrap_or_default(),
                    run.kind.as_str(),
                ],
            )?;
            for m in &run.models {
                for p in &run.prompts {
                    tx.execute(
                        "INSERT INTO cells (run_id, model, prompt, summary) VALUES (?1, ?2, ?3, NULL)",
                        params![run.id, m, p],
                    )?;
                }
            }
            tx.commit()
        })
    }

    /// The run `id`, if stored.
    pub fn run(&self, id: &str) -> Result<Option<RunRecord>> {
        self.with(|c| {
            c.query_row(
                "SELECT id, suite, suite_path, models, prompts, repeats, planned, runs_dir,
                        started_at, finished_at, options, kind FROM runs WHERE id = ?1",
                params![id],
                row_to_run,
            )
            .optional()
        })
    }

    /// Every run, newest first, with its progress.
    pub fn list(&self) -> Result<Vec<RunListing>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT r.id, r.suite, r.suite_path, r.models, r.prompts, r.repeats, r.planned,
                        r.runs_dir, r.started_at, r.finished_at, r.options, r.kind,
                        CASE WHEN r.kind = 'campaign'
                             THEN (SELECT COUNT(*) FROM campaigns c WHERE c.run_id = r.id)
                             ELSE (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id) END,
                        CASE WHEN r.kind = 'campaign'
                             THEN (SELECT COUNT(*) FROM campaigns c
                                   WHERE c.run_id = r.id AND c.reached = 1)
                             ELSE (SELECT COUNT(*) FROM attempts a
                                   WHERE a.run_id = r.id AND a.accepted = 1) END
                 FROM runs r ORDER BY r.started_at DESC, r.id DESC",
            )?;
            let rows = st.query_map([], |row| {
                Ok(RunListing { run: row_to_run(row)?, done: row.get(12)?, accepted: row.get(13)? })
            })?;
            rows.collect()
        })
    }

    /// Keys of the attempts of `run_id` already stored.
    pub fn done(&self, run_id: &str) -> Result<std::collections::BTreeSet<AttemptKey>> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT sol, model, prompt, repeat FROM attempts WHERE run_id = ?1")?;
            let rows = st.query_map(params![run_id], |row| {
                Ok(AttemptKey {
                    run_id: run_id.to_owned(),
                    sol: row.get(0)?,
                    model: row.get(1)?,
                    prompt: row.get(2)?,
                    repeat: row.get(3)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Commits one finished attempt (its own transaction). A key stored already is an error,
    /// never a duplicate.
    pub fn put_attempt(
        &self,
        key: &AttemptKey,
        s: &AttemptScores,
        transcript: &Path,
    ) -> Result<()> {
        let scores = serde_json::to_string(s).unwrap_or_default();
        self.with(|c| {
            c.execute(
                "INSERT INTO attempts (run_id, sol, model, prompt, repeat, status, accepted,
                    accepted_first_submit, expectation_met, revisions, goal_error_m,
                    route_length_m, cost, cost_ratio, max_tilt_deg, min_hazard_clearance_m,
                    frechet_m, turns, tool_calls, input_tokens, output_tokens, image_tokens,
                    cost_usd, wall_s, failure_reason, scores, transcript, finished_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
                params![
                    key.run_id,
                    key.sol,
                    key.model,
                    key.prompt,
                    key.repeat,
                    s.status,
                    s.accepted,
                    s.accepted_first_submit,
                    s.expectation_met,
                    s.revisions,
                    s.goal_error_m,
                    s.route_length_m,
                    s.cost,
                    s.cost_ratio,
                    s.max_tilt_deg,
                    s.min_hazard_clearance_m,
                    s.frechet_m,
                    s.turns,
                    s.tool_calls,
                    s.input_tokens,
                    s.output_tokens,
                    s.image_tokens,
                    s.cost_usd,
                    s.wall_s,
                    s.failure_reason,
                    scores,
                    transcript.display().to_string(),
                    now(),
                ],
            )
            .map(|_| ())
        })
    }

    /// Every stored attempt of a run, in key order (sol, model, prompt, repeat): its key, its
    /// scores and its transcript's path. What `compare` pairs and `report` draws.
    pub fn attempts(&self, run_id: &str) -> Result<Vec<StoredAttempt>> {
        let rows: Vec<(String, String, String, u32, String, String)> = self.with(|c| {
            let mut st = c.prepare(
                "SELECT sol, model, prompt, repeat, scores, transcript FROM attempts
                 WHERE run_id = ?1 ORDER BY sol, model, prompt, repeat",
            )?;
            let rows = st.query_map(params![run_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(sol, model, prompt, repeat, scores, transcript)| {
                let scores = serde_json::from_str(&scores).map_err(|e| EvalError::Store {
                    path: self.path.clone(),
                    message: format!("stored scores do not parse: {e}"),
                })?;
                Ok(StoredAttempt {
                    key: AttemptKey { run_id: run_id.to_owned(), sol, model, prompt, repeat },
                    scores,
                    transcript: PathBuf::from(transcript),
                })
            })
            .collect()
    }

    /// The response cached under `key`, as stored JSON.
    pub fn cached_response(&self, key: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT response FROM responses WHERE key = ?1", params![key], |r| r.get(0))
                .optional()
        })
    }

    /// Caches `response` (JSON) under `key`; a key cached already keeps its first answer.
    pub fn put_response(&self, key: &str, model: &str, response: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO responses (key, model, response, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![key, model, response, now()],
            )
            .map(|_| ())
        })
    }

    /// Every stored attempt's scores of one cell, in key order.
    pub fn cell_attempts(
        &self,
        run_id: &str,
        model: &str,
        prompt: &str,
    ) -> Result<Vec<AttemptScores>> {
        let rows: Vec<String> = self.with(|c| {
            let mut st = c.prepare(
                "SELECT scores FROM attempts WHERE run_id = ?1 AND model = ?2 AND prompt = ?3
                 ORDER BY sol, repeat",
            )?;
            let rows = st.query_map(params![run_id, model, prompt], |r| r.get(0))?;
            rows.collect()
        })?;
        rows.iter()
            .map(|s| {
                serde_json::from_str(s).map_err(|e| EvalError::Store {
                    path: self.path.clone(),
                    message: format!("stored scores do not parse: {e}"),
                })
            })
            .collect()
    }

    /// Summarises every cell of a run from its stored attempts, stores the summaries and marks
    /// the run finished when all planned attempts are in.
    pub fn finish_run(&self, run: &RunRecord) -> Result<Vec<(String, String, CellSummary)>> {
        let mut out = Vec::new();
        for m in &run.models {
            for p in &run.prompts {
                let summary = summarize(&self.cell_attempts(&run.id, m, p)?);
                let json = serde_json::to_string(&summary).unwrap_or_default();
                self.with(|c| {
                    c.execute(
                        "UPDATE cells SET summary = ?4 WHERE run_id = ?1 AND model = ?2 AND prompt = ?3",
                        params![run.id, m, p, json],
                    )
                })?;
                out.push((m.clone(), p.clone(), summary));
            }
        }
        let done = u32::try_from(self.done(&run.id)?.len()).unwrap_or(u32::MAX);
        if done >= run.planned {
            self.with(|c| {
                c.execute("UPDATE runs SET finished_at = ?2 WHERE id = ?1", params![run.id, now()])
            })?;
        }
        Ok(out)
    }
}

fn row_to_run(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let split = |s: String| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect();
    Ok(RunRecord {
        id: row.get(0)?,
        suite: row.get(1)?,
        suite_path: row.get(2)?,
        models: split(row.get(3)?),
        prompts: split(row.get(4)?),
        repeats: row.get(5)?,
        planned: row.get(6)?,
        runs_dir: row.get(7)?,
        started_at: row.get(8)?,
        finished_at: row.get(9)?,
        options: row
            .get::<_, Option<String>>(10)?
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or_default(),
        kind: RunKind::from_column(row.get::<_, Option<String>>(11)?.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_keyed_and_never_duplicated() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sub/b.db")).unwrap();
        let run = RunRecord {
            id: "r1".into(),
            suite: "s".into(),
            suite_path: "s.toml".into(),
            models: vec!["a".into(), "b".into()],
            prompts: vec!["v1".into()],
            repeats: 1,
            planned: 2,
            runs_dir: "runs".into(),
            started_at: now(),
            finished_at: None,
            options: RunOptions::default(),
            kind: RunKind::Sol,
        };
        store.create_run(&run).unwrap();
        assert_eq!(store.run("r1").unwrap().unwrap(), run);
        let key = AttemptKey {
            run_id: "r1".into(),
            sol: "x".into(),
            model: "a".into(),
            prompt: "v1".into(),
            repeat: 0,
        };
        let s: AttemptScores = serde_json::from_value(serde_json::json!({
            "status": "accepted", "accepted": true, "accepted_first_submit": true,
            "expectation_met": null, "submits": 1, "revisions": 0, "goal_error_m": 0.0,
            "route_length_m": 10.0, "cost": null, "cost_ratio": null, "max_tilt_deg": null,
            "min_hazard_clearance_m": null, "frechet_m": null, "turns": 2, "tool_calls": 1,
            "tool_calls_by_tool": {}, "input_tokens": 0, "output_tokens": 0, "image_tokens": 0,
            "cost_usd": 0.0, "retries": 0, "wall_s": 1.0, "failure_reason": null
        }))
        .unwrap();
        store.put_attempt(&key, &s, Path::new("t.jsonl")).unwrap();
        assert!(store.put_attempt(&key, &s, Path::new("t.jsonl")).is_err());
        assert_eq!(store.done("r1").unwrap().len(), 1);
        let cells = store.finish_run(&run).unwrap();
        assert_eq!(cells[0].2.accepted.k, 1);
        assert_eq!(cells[1].2.attempts, 0);
        let list = store.list().unwrap();
        assert_eq!(
            (list[0].done, list[0].accepted, list[0].run.finished_at.is_none()),
            (1, 1, true)
        );
    }
}
