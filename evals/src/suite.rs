//! Suites: which sols an eval runs and what is expected of each.
//!
//! ```toml
//! name = "smoke"
//! description = "Fast synthetic sols."
//!
//! [[sol]]
//! path = "../../fixtures/sols/plains-01.toml"   # relative to the suite file
//! expect = "accepted"                           # accepted | rejected (optional)
//! # reference_route = [[x, y], ...]             # optional; default: the sol's reference_route
//! ```
//!
//! Every error names the suite file and the line of the offending entry.

use std::path::{Path, PathBuf};

use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::terrain::{LoadedSol, Sol};
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// What a sol's right outcome is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// A safe route exists: the plan should be accepted.
    Accepted,
    /// No safe route exists: the right answer is a refusal.
    Rejected,
}

impl Expect {
    /// As written in suites and the store.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Accepted => "accepted",
            Expect::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    sol: Vec<toml::Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: String,
    expect: Option<Expect>,
    reference_route: Option<Vec<[f64; 2]>>,
}

/// One sol of a suite.
#[derive(Debug, Clone)]
pub struct SuiteSol {
    /// The sol, loaded.
    pub sol: LoadedSol,
    /// Its expected outcome, if the suite says.
    pub expect: Option<Expect>,
    /// The route to compare attempts with: the suite's, else the sol's own, else none.
    pub reference_route: Option<Vec<Pt>>,
    /// 1-based line of the entry in the suite file.
    pub line: usize,
}

impl SuiteSol {
    /// The sol's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.sol.sol.id
    }
}

/// A suite: a named list of sols with expectations.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite's name (default: the file stem).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The suite file.
    pub path: PathBuf,
    /// Its sols, in file order.
    pub sols: Vec<SuiteSol>,
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

impl Suite {
    /// Finds a suite by name (`DIR/NAME.toml`) or takes `name` as a path when it is a file.
    pub fn find(suites_dir: &Path, name: &str) -> Result<Suite> {
        let as_path = Path::new(name);
        if as_path.is_file() {
            return Suite::load(as_path);
        }
        Suite::load(&suites_dir.join(format!("{name}.toml")))
    }

    /// Reads and checks a suite file and loads its sols.
    pub fn load(path: &Path) -> Result<Suite> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| EvalError::Io { path: path.to_path_buf(), error })?;
        Suite::parse(&text, path)
    }

    /// Parses suite text; sol paths resolve against `path`'s directory.
    pub fn parse(text: &str, path: &Path) -> Result<Suite> {
        let err = |line: usize, message: String| EvalError::Suite {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawSuite = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            err(line, e.message().trim().replace('\n', " "))
        })?;
        if raw.sol.is_empty() {
            return Err(err(1, "the suite lists no sols ([[sol]] tables)".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut sols: Vec<SuiteSol> = Vec::with_capacity(raw.sol.len());
        for spanned in raw.sol {
            let line = line_of(text, spanned.span().start);
            let entry = spanned.into_inner();
            let sol_path = base.join(&entry.path);
            let sol = Sol::load(&sol_path)
                .map_err(|e| err(line, format!("sol `{}`: {e}", entry.path)))?;
            if let Some(prev) = sols.iter().find(|s| s.id() == sol.sol.id) {
                return Err(err(
                    line,
                    format!("sol `{}` is listed twice (first at line {})", sol.sol.id, prev.line),
                ));
            }
            let reference = entry
                .reference_route
                .or_else(|| {
                    (!sol.sol.reference_route.is_empty()).then(|| sol.sol.reference_route.clone())
                })
                .map(|r| r.into_iter().map(|p| (p[0], p[1])).collect::<Vec<Pt>>());
            if let Some(r) = &reference {
                if r.len() < 2 || r.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
                    return Err(err(line, "reference_route needs at least 2 finite points".into()));
                }
            }
            sols.push(SuiteSol { sol, expect: entry.expect, reference_route: reference, line });
        }
        let name = raw.name.unwrap_or_else(|| {
            path.file_stem().map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned())
        });
        Ok(Suite { name, description: raw.description, path: path.to_path_buf(), sols })
    }
}
