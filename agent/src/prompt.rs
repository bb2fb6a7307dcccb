//! Versioned prompt sets: `prompts/<version>/{manifest.toml, system.md, task.md}`.
//!
//! The task is a template (minijinja) filled with the sol's numbers and the rover's limits, so
//! a prompt version is text a person can read and diff, and the model never sees a number that
//! was not computed from the sol. The content hash of the manifest and every file it names goes
//! into each plan, so two plans are only compared as "same prompt" when the bytes were the same.

use std::path::{Path, PathBuf};

use breadcrumb_tools::terrain::{LoadedSol, RoverProfile};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a prompt set could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// A file is missing.
    #[error("{path}: prompt file not found", path = path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("{path}: {reason}", path = path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong (with line and column for TOML errors).
        reason: String,
    },
    /// The task template does not render.
    #[error("{path}: {reason}", path = path.display())]
    Template {
        /// The template file.
        path: PathBuf,
        /// What is wrong (minijinja names the line).
        reason: String,
    },
}

/// `manifest.toml` of a prompt set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The version's name (its directory name).
    pub name: String,
    /// What changed in this version and why.
    #[serde(default)]
    pub description: String,
    /// The system prompt file, relative to the manifest.
    pub system: PathBuf,
    /// The task template file, relative to the manifest.
    pub task: PathBuf,
}

/// A loaded prompt set.
#[derive(Debug, Clone)]
pub struct PromptSet {
    /// The manifest.
    pub manifest: Manifest,
    /// The directory it came from.
    pub dir: PathBuf,
    /// The system prompt.
    pub system: String,
    /// The task template source.
    pub task_template: String,
    /// `sha256:<hex>` over the manifest and every file it names.
    pub hash: String,
}

fn read(path: &Path) -> Result<String, PromptError> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PromptError::Missing { path: path.to_path_buf() },
        _ => PromptError::Io { path: path.to_path_buf(), source: e },
    })
}

/// What the task template can use.
#[derive(Debug, Clone, Serialize)]
pub struct TaskContext {
    /// The sol as written (`sol.id`, `sol.start.x`, `sol.goal.tolerance_m`, ...).
    pub sol: breadcrumb_tools::terrain::Sol,
    /// Straight-line start-to-goal distance, metres (one decimal).
    pub distance_m: f64,
    /// Hazard buffer (half width + margin), metres.
    pub buffer_m: f64,
    /// Keep-out zones by name.
    pub keep_out: Vec<KeepOutView>,
    /// The sol's notes (trimmed).
    pub notes: String,
    /// The rover's limits.
    pub rover: RoverView,
    /// The overview tile that accompanies the task.
    pub overview: OverviewView,
}

/// A keep-out zone as the template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct KeepOutView {
    /// Its name.
    pub name: String,
}

/// The rover's numbers as the template sees them.
#[derive(Debug, Clone, Serialize)]
pub struct RoverView {
    /// Profile name.
    pub name: String,
    /// Footprint length, metres.
    pub length_m: f64,
    /// Footprint width, metres.
    pub width_m: f64,
    /// Tilt limit, degrees.
    pub max_tilt_deg: f64,
    /// Step limit, metres.
    pub max_step_m: f64,
    /// Belly obstacle limit, metres.
    pub max_belly_obstacle_m: f64,
    /// Waypoint spacing limit, metres.
    pub max_waypoint_spacing_m: f64,
}

/// The overview tile's placement as the template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct OverviewView {
    /// Centre x, map metres.
    pub centre_x_m: f64,
    /// Centre y, map metres.
    pub centre_y_m: f64,
    /// Side, metres.
    pub size_m: f64,
    /// Metres per pixel.
    pub m_per_px: f64,
    /// The overview's `tile_id`: points may be given as pixels of it (`{"tile": id, "u": ..,
    /// "v": ..}`); `None` when the tile could not be drawn.
    pub tile_id: Option<String>,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl TaskContext {
    /// The context for `sol` driven by `rover`, with the overview tile's placement.
    #[must_use]
    pub fn new(sol: &LoadedSol, rover: &RoverProfile, overview: OverviewView) -> Self {
        let s = &sol.sol;
        TaskContext {
            sol: s.clone(),
            distance_m: round1(s.start_goal_distance_m()),
            buffer_m: (rover.hazard_buffer_m() * 100.0).round() / 100.0,
            keep_out: s.keep_out.iter().map(|k| KeepOutView { name: k.name.clone() }).collect(),
            notes: s.notes.trim().to_owned(),
            rover: RoverView {
                name: rover.name.clone(),
                length_m: 2.0 * rover.footprint.half_length_m,
                width_m: 2.0 * rover.footprint.half_width_m,
                max_tilt_deg: rover.limits.max_tilt_deg,
                max_step_m: rover.limits.max_step_m,
                max_belly_obstacle_m: rover.limits.max_belly_obstacle_m,
                max_waypoint_spacing_m: rover.limits.max_waypoint_spacing_m,
            },
            overview,
        }
    }
}

impl PromptSet {
    /// Loads the set in `dir` (the directory holding `manifest.toml`).
    pub fn load(dir: &Path) -> Result<PromptSet, PromptError> {
        let manifest_path = dir.join("manifest.toml");
        let manifest_text = read(&manifest_path)?;
        let manifest: Manifest =
            toml::from_str(&manifest_text).map_err(|e| PromptError::Manifest {
                path: manifest_path.clone(),
                reason: breadcrumb_tools::terrain::toml_error(&manifest_text, &e),
            })?;
        let system = read(&dir.join(&manifest.system))?;
        let task_template = read(&dir.join(&manifest.task))?;
        let mut h = Sha256::new();
        for (name, text) in [
            ("manifest.toml", manifest_text.as_str()),
            ("system", system.as_str()),
            ("task", task_template.as_str()),
        ] {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update((text.len() as u64).to_le_bytes());
            h.update(text.as_bytes());
        }
        let hash = format!("sha256:{:x}", h.finalize());
        Ok(PromptSet { manifest, dir: dir.to_path_buf(), system, task_template, hash })
    }

    /// Loads version `name` from the prompts directory `root` (`prompts/`).
    pub fn load_named(root: &Path, name: &str) -> Result<PromptSet, PromptError> {
        let dir = root.join(name);
        if !dir.is_dir() {
            let mut known: Vec<String> = std::fs::read_dir(root)
                .map(|rd| {
                    rd.filter_map(std::result::Result::ok)
                        .filter(|e| e.path().join("manifest.toml").is_file())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            known.sort();
            return Err(PromptError::Manifest {
                path: dir,
                reason: format!("no such prompt version; available: {}", known.join(", ")),
            });
        }
        Self::load(&dir)
    }

    /// The task text for `ctx` (a [`TaskContext`] for a sol's prompt; a campaign's strategic
    /// prompt has its own context). Strict: a name the template uses that the context lacks is an
    /// error naming the template line, never an empty string in a prompt.
    pub fn render_task<C: Serialize>(&self, ctx: &C) -> Result<String, PromptError> {
        let path = self.dir.join(&self.manifest.task);
        let err = |e: minijinja::Error| PromptError::Template {
            path: path.clone(),
            reason: match e.line() {
                Some(l) => format!("line {l}: {e}"),
                None => e.to_string(),
            },
        };
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template("task", &self.task_template).map_err(err)?;
        let tmpl = env.get_template("task").map_err(err)?;
        tmpl.render(ctx).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../prompts")
    }

    fn plains() -> (LoadedSol, RoverProfile) {
        let sols = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
        let sol = breadcrumb_tools::terrain::Sol::load(&sols.join("plains-02-keepout.toml"))
            .expect("sol");
        let rover = RoverProfile::load(&sol.rover_path).expect("rover");
        (sol, rover)
    }

    fn overview() -> OverviewView {
        OverviewView {
            centre_x_m: 1.0,
            centre_y_m: 2.0,
            size_m: 300.0,
            m_per_px: 0.29,
            tile_id: Some("t0123abcd".into()),
        }
    }

    #[test]
    fn v1_renders_every_number_of_the_sol() {
        let set = PromptSet::load_named(&root(), "v1").expect("v1");
        assert!(set.hash.starts_with("sha256:") && set.hash.len() == 71);
        let (sol, rover) = plains();
        let text = set.render_task(&TaskContext::new(&sol, &rover, overview())).expect("render");
        let s = &sol.sol;
        for needle in [
            format!("sol {}", s.id),
            format!("x = {}", s.start.x),
            format!("y = {}", s.goal.y),
            "tilt below 25".to_owned(),
            "at most 100".to_owned(),
            "1.85 m".to_owned(),
            s.keep_out[0].name.clone(),
            "0.29 m per pixel".to_owned(),
        ] {
            assert!(text.contains(&needle), "missing {needle:?} in:\n{text}");
        }
        assert!(set.system.contains("check_route") && set.system.contains("view_tile"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("manifest.toml"), "name = \"x\"\nsystem = 3\n").unwrap();
        let e = PromptSet::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("manifest.toml") && e.contains("line 2"), "{e}");
        std::fs::write(
            dir.path().join("manifest.toml"),
            "name = \"x\"\nsystem = \"s.md\"\ntask = \"t.md\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("s.md"), "sys").unwrap();
        let e = PromptSet::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("t.md") && e.contains("not found"), "{e}");
        std::fs::write(dir.path().join("t.md"), "ok\n{{ sol.id }}\n{{ no_such_thing }}\n").unwrap();
        let set = PromptSet::load(dir.path()).expect("loads");
        let (sol, rover) = plains();
        let e = set.render_task(&TaskContext::new(&sol, &rover, overview())).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let e = PromptSet::load_named(&root(), "v999").unwrap_err().to_string();
        assert!(e.contains("available: ") && e.contains("v1"), "{e}");
    }

    #[test]
    fn the_hash_changes_with_any_byte() {
        let dir = tempfile::tempdir().expect("tmp");
        for f in ["manifest.toml", "system.md", "task.md"] {
            std::fs::copy(root().join("v1").join(f), dir.path().join(f)).unwrap();
        }
        let a = PromptSet::load(dir.path()).unwrap().hash;
        assert_eq!(a, PromptSet::load_named(&root(), "v1").unwrap().hash);
        std::fs::write(dir.path().join("system.md"), "changed").unwrap();
        assert_ne!(a, PromptSet::load(dir.path()).unwrap().hash);
    }
}
