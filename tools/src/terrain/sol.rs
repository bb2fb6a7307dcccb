//! Sols: one planning problem — a terrain bundle, a start, a goal, keep-in and keep-out zones,
//! a rover profile and a drive budget — read from `fixtures/sols/<id>.toml`.
//!
//! Paths inside a sol (`bundle`, `rover`) are relative to the sol file, so a sol can be moved
//! together with the fixtures it names.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, ToolsError};

/// Where the drive starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    /// Map x, metres east.
    pub x: f64,
    /// Map y, metres north.
    pub y: f64,
    /// Heading, degrees clockwise from north.
    pub heading_deg: f64,
}

/// Where the drive must end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// Map x, metres east.
    pub x: f64,
    /// Map y, metres north.
    pub y: f64,
    /// The final waypoint must lie within this distance of the goal, metres.
    pub tolerance_m: f64,
}

/// A named keep-out polygon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepOut {
    /// Why the zone exists (shown in violations).
    pub name: String,
    /// Polygon ring in map metres (closing point optional).
    pub polygon: Vec<[f64; 2]>,
}

/// A planning problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sol {
    /// Identifier, e.g. `plains-01`.
    pub id: String,
    /// Terrain bundle directory, relative to the sol file.
    pub bundle: PathBuf,
    /// Rover profile TOML, relative to the sol file.
    pub rover: PathBuf,
    /// Drive budget for this sol, metres.
    pub drive_budget_m: f64,
    /// Start pose.
    pub start: Start,
    /// Goal.
    pub goal: Goal,
    /// The polygon the whole drive must stay inside (map metres).
    pub keep_in: Vec<[f64; 2]>,
    /// Zones the rover must stay out of.
    #[serde(default)]
    pub keep_out: Vec<KeepOut>,
    /// A human-planned or actually driven path, for comparison (map metres).
    #[serde(default)]
    pub reference_route: Vec<[f64; 2]>,
    /// What makes this sol interesting.
    #[serde(default)]
    pub notes: String,
}

/// A sol with its paths resolved against the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSol {
    /// The sol as written.
    pub sol: Sol,
    /// The sol file.
    pub path: PathBuf,
    /// The bundle directory, resolved.
    pub bundle_dir: PathBuf,
    /// The rover profile file, resolved.
    pub rover_path: PathBuf,
}

impl Sol {
    /// Parses a sol from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Sol> {
        let sol: Sol = toml::from_str(text).map_err(|e| ToolsError::Invalid {
            path: origin.to_path_buf(),
            reason: super::toml_error(text, &e),
        })?;
        sol.validate()
            .map_err(|reason| ToolsError::Invalid { path: origin.to_path_buf(), reason })?;
        Ok(sol)
    }

    /// Reads, validates and resolves a sol file.
    pub fn load(path: &Path) -> Result<LoadedSol> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolsError::Missing { path: path.to_path_buf() },
            _ => ToolsError::io(path, e),
        })?;
        let sol = Sol::from_toml(&text, path)?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Ok(LoadedSol {
            bundle_dir: base.join(&sol.bundle),
            rover_path: base.join(&sol.rover),
            path: path.to_path_buf(),
            sol,
        })
    }

    /// Straight-line distance from start to goal, metres.
    #[must_use]
    pub fn start_goal_distance_m(&self) -> f64 {
        (self.goal.x - self.start.x).hypot(self.goal.y - self.start.y)
    }

    /// Checks the numbers are usable. Where the start or goal lies relative to the terrain is
    /// not checked here: that is the safety checker's business and gives a verdict, not an error.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("id must not be empty".into());
        }
        let finite = [
            ("start.x", self.start.x),
            ("start.y", self.start.y),
            ("start.heading_deg", self.start.heading_deg),
            ("goal.x", self.goal.x),
            ("goal.y", self.goal.y),
        ];
        for (name, v) in finite {
            if !v.is_finite() {
                return Err(format!("{name} must be a finite number, got {v}"));
            }
        }
        if !(self.goal.tolerance_m.is_finite() && self.goal.tolerance_m > 0.0) {
            return Err(format!(
                "goal.tolerance_m must be positive, got {}",
                self.goal.tolerance_m
            ));
        }
        if !(self.drive_budget_m.is_finite() && self.drive_budget_m > 0.0) {
            return Err(format!("drive_budget_m must be positive, got {}", self.drive_budget_m));
        }
        check_ring("keep_in", &self.keep_in)?;
        for (i, k) in self.keep_out.iter().enumerate() {
            check_ring(&format!("keep_out[{i}] ({})", k.name), &k.polygon)?;
        }
        if let Some(p) = self.reference_route.iter().find(|p| !p.iter().all(|v| v.is_finite())) {
            return Err(format!("reference_route has a non-finite point {p:?}"));
        }
        Ok(())
    }
}

fn check_ring(name: &str, ring: &[[f64; 2]]) -> std::result::Result<(), String> {
    let distinct = {
        let mut pts: Vec<[f64; 2]> = ring.to_vec();
        pts.dedup();
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        pts.len()
    };
    if distinct < 3 {
        return Err(format!("{name} needs at least 3 distinct points, got {distinct}"));
    }
    if let Some(p) = ring.iter().find(|p| !p.iter().all(|v| v.is_finite())) {
        return Err(format!("{name} has a non-finite point {p:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "t-01"
bundle = "../sites/plains"
rover = "../rovers/perseverance.toml"
drive_budget_m = 300.0
keep_in = [[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]]
[start]
x = 10.0
y = 10.0
heading_deg = 45.0
[goal]
x = 90.0
y = 90.0
tolerance_m = 2.0
"#;

    #[test]
    fn parses_a_good_sol() {
        let s = Sol::from_toml(GOOD, Path::new("t.toml")).unwrap();
        assert!((s.start_goal_distance_m() - 80.0 * 2f64.sqrt()).abs() < 1e-9);
        assert!(s.keep_out.is_empty());
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = GOOD.replace("x = 10.0", "x = \"ten\"");
        let e = Sol::from_toml(&bad, Path::new("bad.toml")).unwrap_err().to_string();
        assert!(e.starts_with("bad.toml: line 8, column 5"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
        let bad = GOOD.replace("tolerance_m = 2.0", "tolerance_m = -1.0");
        let e = Sol::from_toml(&bad, Path::new("bad.toml")).unwrap_err().to_string();
        assert!(e.contains("goal.tolerance_m"), "{e}");
        let bad = GOOD.replace("[start]", "colour = 3\n[start]");
        let e = Sol::from_toml(&bad, Path::new("bad.toml")).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn degenerate_keep_in_is_refused() {
        let bad = GOOD.replace(
            "[[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]]",
            "[[0.0, 0.0], [100.0, 0.0], [0.0, 0.0]]",
        );
        let e = Sol::from_toml(&bad, Path::new("s.toml")).unwrap_err().to_string();
        assert!(e.contains("keep_in needs at least 3"), "{e}");
    }
}
