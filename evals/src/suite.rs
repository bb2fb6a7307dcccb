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
//! Sols can also be built at load time from real drives (the `gale` suite): a `[[drive]]`
//! picks one drive of a traverse GeoJSON by its `sol` property and becomes a sol whose start and
//! goal are the drive's ends, whose keep-in is a corridor around it and whose reference route
//! is the drive as driven (see `breadcrumb_sites::sol_from_route`). The terrain and the
//! drives are read where they lie (`../shared/realdata/`), never copied into the repository:
//!
//! ```toml
//! [drives]                                   # defaults for every [[drive]]; relative to this file
//! site = "../../../shared/realdata/gale-marias-pass"
//! route = "../../../shared/realdata/gale-marias-pass/drives.geojson"
//! rover = "../../fixtures/rovers/perseverance.toml"
//!
//! [[drive]]
//! sol = 967                                  # the feature whose `sol` property is 967
//! expect = "accepted"                        # optional; site/route/rover/corridor_m override
//! ```
//!
//! Perception is scored against ground truth: by default the bundle's own `hazards.geojson`
//! (exact for synthetic sites); a `truth = "path.geojson"` key on a `[[sol]]`, a `[[drive]]` or
//! `[drives]` names another file instead (the Gale label drawn by eye, used only for scoring).
//!
//! Every error names the suite file and the line of the offending entry.

use std::path::{Path, PathBuf};

use breadcrumb_sites::sol_from_route::{sol_from_route, FromRouteOptions};
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
    drives: Option<RawDrive>,
    #[serde(default)]
    drive: Vec<toml::Spanned<RawDrive>>,
}

/// A `[[drive]]` entry, or the `[drives]` defaults (then `sol` and `expect` are not allowed).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrive {
    site: Option<String>,
    route: Option<String>,
    rover: Option<String>,
    corridor_m: Option<f64>,
    truth: Option<String>,
    sol: Option<u64>,
    expect: Option<Expect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: String,
    expect: Option<Expect>,
    reference_route: Option<Vec<[f64; 2]>>,
    truth: Option<String>,
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
    /// The ground truth perception is scored against (`None`: the bundle's
    /// `hazards.geojson`, when it has one).
    pub truth: Option<PathBuf>,
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
        if raw.sol.is_empty() && raw.drive.is_empty() {
            return Err(err(1, "the suite lists no sols ([[sol]] or [[drive]] tables)".into()));
        }
        if let Some(d) = &raw.drives {
            if d.sol.is_some() || d.expect.is_some() {
                let at = text.find("[drives]").unwrap_or(0);
                return Err(err(
                    line_of(text, at),
                    "[drives] holds defaults (site, route, rover, corridor_m, truth); `sol` and \
                     `expect` belong in each [[drive]]"
                        .into(),
                ));
            }
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
            let truth = truth_path(entry.truth.as_ref(), None, base).map_err(|m| err(line, m))?;
            sols.push(SuiteSol {
                sol,
                expect: entry.expect,
                reference_route: reference,
                truth,
                line,
            });
        }
        let defaults = raw.drives.unwrap_or_default();
        for spanned in raw.drive {
            let line = line_of(text, spanned.span().start);
            let entry = spanned.into_inner();
            let sol = drive_sol(&entry, &defaults, base, path).map_err(|m| err(line, m))?;
            if let Some(prev) = sols.iter().find(|s| s.id() == sol.sol.id) {
                return Err(err(
                    line,
                    format!("sol `{}` is listed twice (first at line {})", sol.sol.id, prev.line),
                ));
            }
            let reference = (sol.sol.reference_route.len() >= 2)
                .then(|| sol.sol.reference_route.iter().map(|p| (p[0], p[1])).collect());
            let truth = truth_path(entry.truth.as_ref(), defaults.truth.as_ref(), base)
                .map_err(|m| err(line, m))?;
            sols.push(SuiteSol {
                sol,
                expect: entry.expect,
                reference_route: reference,
                truth,
                line,
            });
        }
        let name = raw.name.unwrap_or_else(|| {
            path.file_stem().map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned())
        });
        Ok(Suite { name, description: raw.description, path: path.to_path_buf(), sols })
    }
}

/// The entry's ground-truth file (its own, else the default), which must exist.
fn truth_path(
    own: Option<&String>,
    default: Option<&String>,
    base: &Path,
) -> std::result::Result<Option<PathBuf>, String> {
    let Some(p) = own.or(default).map(|p| base.join(p)) else { return Ok(None) };
    if p.is_file() {
        Ok(Some(p))
    } else {
        Err(format!("truth `{}` does not exist", p.display()))
    }
}

/// Builds the sol of a `[[drive]]` entry (its fields over the `[drives]` defaults), in memory:
/// nothing is written. The sol's `path` is the suite file, as there is no sol file.
fn drive_sol(
    entry: &RawDrive,
    defaults: &RawDrive,
    base: &Path,
    suite_path: &Path,
) -> std::result::Result<LoadedSol, String> {
    let pick = |own: &Option<String>, def: &Option<String>, what: &str| {
        own.as_ref()
            .or(def.as_ref())
            .map(|p| base.join(p))
            .ok_or_else(|| format!("[[drive]] needs `{what}` (here or in [drives])"))
    };
    let site = pick(&entry.site, &defaults.site, "site")?;
    let route = pick(&entry.route, &defaults.route, "route")?;
    let rover = pick(&entry.rover, &defaults.rover, "rover")?;
    let Some(n) = entry.sol else {
        return Err("[[drive]] needs `sol`, the drive's `sol` property in the route file".into());
    };
    for (what, p) in [("site", &site), ("route", &route), ("rover", &rover)] {
        if !p.exists() {
            return Err(format!(
                "{what} `{}` does not exist{}",
                p.display(),
                if p.components().any(|c| c.as_os_str() == "shared") {
                    " (the real data lives in ../shared/realdata beside the repository)"
                } else {
                    ""
                }
            ));
        }
    }
    let out = base.join(format!("drive-{n}.toml"));
    let mut opts = FromRouteOptions::new(&site, &route, n, &rover, &out);
    if let Some(c) = entry.corridor_m.or(defaults.corridor_m) {
        opts.corridor_m = c;
    }
    let (sol, _drive) = sol_from_route(&opts).map_err(|e| format!("drive sol {n}: {e}"))?;
    Ok(LoadedSol { sol, path: suite_path.to_path_buf(), bundle_dir: site, rover_path: rover })
}
