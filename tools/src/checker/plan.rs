//! Plans: the waypoints a model (or a person) proposes, read from JSON, and routes read from
//! GeoJSON LineStrings.
//!
//! A plan file needs only `{"waypoints": [{"x": .., "y": ..}, ...]}` in map metres. Everything
//! else is optional: `provenance` (which sol, model, prompt and tools produced it) and any
//! other field, which is kept (so a plan can be read and written back unchanged) but never
//! looked at by the checker. A malformed file is an error naming its line and column.
//!
//! # Examples
//!
//! ```
//! use breadcrumb_tools::checker::Plan;
//!
//! let plan = Plan::from_json(r#"{"waypoints": [{"x": 1, "y": 2}, {"x": 3.5, "y": 2}],
//!                                "note": "kept, ignored"}"#, "plan.json").unwrap();
//! assert_eq!(plan.waypoints.len(), 2);
//! assert_eq!(plan.extra["note"], "kept, ignored");
//!
//! let err = Plan::from_json("{\"waypoints\": [{\"x\": 1,}]}", "bad.json").unwrap_err();
//! assert!(err.to_string().starts_with("bad.json: line 1, column 24:"), "{err}");
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, ToolsError};

/// One waypoint ("breadcrumb") in map metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waypoint {
    /// Map x, metres east.
    pub x: f64,
    /// Map y, metres north.
    pub y: f64,
    /// Other fields of the waypoint (kept, ignored by the checker).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Waypoint {
    /// A waypoint with no extra fields.
    #[must_use]
    pub fn new(x: f64, y: f64) -> Self {
        Waypoint { x, y, extra: serde_json::Map::new() }
    }
}

/// Where a plan came from (ARCHITECTURE.md: sol, bundle hash, rover, model, provider, prompt
/// name and content hash, checker and tool versions, creation time). Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Sol identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sol: Option<String>,
    /// `sha256:<hex>` of the sol's content (the run dossier defines it precisely), so a plan
    /// names the problem it solves even when the sol file is reformatted or moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sol_hash: Option<String>,
    /// `sha256:<hex>` of the terrain bundle: SHA-256 of its `sha256sum` manifest (one
    /// `<hex>  <relative path>` line per file, sorted by path), made from `bundle_files`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_hash: Option<String>,
    /// The bundle's files by relative path (`/`-separated) with the `sha256:<hex>` of each:
    /// what `bundle_hash` is made of, so a changed bundle names the file that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_files: Option<BTreeMap<String, String>>,
    /// Rover profile name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rover: Option<String>,
    /// `sha256:<hex>` of the rover profile file's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rover_hash: Option<String>,
    /// Model that proposed the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Provider that served the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Prompt set name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Content hash of the prompt set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_hash: Option<String>,
    /// Version of the checker that judged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checker_version: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Anything else (tool versions, ...), kept as written.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A plan: waypoints, optional provenance, and any other fields kept as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The route, first waypoint at the start.
    pub waypoints: Vec<Waypoint>,
    /// Where the plan came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Unknown top-level fields (kept, ignored by the checker).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Plan {
    /// A plan from bare points.
    #[must_use]
    pub fn from_points(points: &[(f64, f64)]) -> Self {
        Plan {
            waypoints: points.iter().map(|&(x, y)| Waypoint::new(x, y)).collect(),
            provenance: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Parses a plan; `origin` names the file in errors. A syntax or type error names the line
    /// and column; a plan without waypoints is an error. Coordinates are checked by the checker,
    /// not here (JSON cannot carry NaN or infinities anyway).
    pub fn from_json(text: &str, origin: impl AsRef<Path>) -> Result<Plan> {
        let origin = origin.as_ref();
        let plan: Plan = serde_json::from_str(text).map_err(|e| ToolsError::Invalid {
            path: origin.to_path_buf(),
            reason: json_error(&e),
        })?;
        if plan.waypoints.is_empty() {
            return Err(ToolsError::Invalid {
                path: origin.to_path_buf(),
                reason: "`waypoints` is empty: a plan needs at least one waypoint".into(),
            });
        }
        Ok(plan)
    }

    /// Reads and parses a plan file.
    pub fn load(path: &Path) -> Result<Plan> {
        let text = read_text(path)?;
        Plan::from_json(&text, path)
    }

    /// The waypoints as `(x, y)` pairs.
    #[must_use]
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.waypoints.iter().map(|w| (w.x, w.y)).collect()
    }
}

/// One LineString of a GeoJSON file, to be checked as a route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteFeature {
    /// Position of the feature in the file's `features` array.
    pub index: usize,
    /// The feature's properties (shown beside its verdict).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Its vertices in map metres.
    pub points: Vec<(f64, f64)>,
}

impl RouteFeature {
    /// A short label: the `name`, `sol` or `id` property, else `feature N`.
    #[must_use]
    pub fn label(&self) -> String {
        for key in ["name", "sol", "id"] {
            match self.properties.get(key) {
                Some(serde_json::Value::String(s)) => return format!("{key} {s}"),
                Some(serde_json::Value::Number(n)) => return format!("{key} {n}"),
                _ => {}
            }
        }
        format!("feature {}", self.index)
    }
}

/// Routes from GeoJSON text: every LineString feature of a FeatureCollection (or a single
/// Feature), in file order. Features of other geometry types are skipped; the number skipped
/// is returned beside the routes. A LineString with a non-finite vertex or no vertex is an error.
pub fn routes_from_geojson(text: &str, origin: &Path) -> Result<(Vec<RouteFeature>, usize)> {
    let invalid = |reason: String| ToolsError::Invalid { path: origin.to_path_buf(), reason };
    // serde_json first, so that a syntax error names its line and column.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(json_error(&e)))?;
    let gj = geojson::GeoJson::from_json_value(value)
        .map_err(|e| invalid(format!("not GeoJSON: {e}")))?;
    let features = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            return Err(invalid("expected a Feature or FeatureCollection of LineStrings".into()))
        }
    };
    let mut routes = Vec::new();
    let mut skipped = 0;
    for (index, f) in features.into_iter().enumerate() {
        let Some(geojson::Value::LineString(coords)) = f.geometry.map(|g| g.value) else {
            skipped += 1;
            continue;
        };
        let mut points = Vec::with_capacity(coords.len());
        for (v, c) in coords.iter().enumerate() {
            match c.as_slice() {
                [x, y, ..] if x.is_finite() && y.is_finite() => points.push((*x, *y)),
                _ => {
                    return Err(invalid(format!(
                        "feature {index}: vertex {v} is not a finite x, y"
                    )))
                }
            }
        }
        if points.is_empty() {
            return Err(invalid(format!("feature {index}: LineString has no vertices")));
        }
        routes.push(RouteFeature { index, properties: f.properties.unwrap_or_default(), points });
    }
    Ok((routes, skipped))
}

/// Reads routes from a GeoJSON file (see [`routes_from_geojson`]).
pub fn load_routes(path: &Path) -> Result<(Vec<RouteFeature>, usize)> {
    let text = read_text(path)?;
    routes_from_geojson(&text, path)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolsError::Missing { path: path.to_path_buf() },
        _ => ToolsError::io(path, e),
    })
}

/// `line L, column C: message` for a serde_json error (its own text without the trailing
/// ` at line L column C`).
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    format!("line {}, column {}: {}", e.line(), e.column(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_kept_and_provenance_is_optional() {
        let text = r#"{
  "waypoints": [{"x": 1.5, "y": -2, "speed": "slow"}, {"x": 3, "y": 4}],
  "provenance": {"model": "m", "tools": {"checker": "0.1.0"}},
  "verdict": {"pass": true}
}"#;
        let p = Plan::from_json(text, "p.json").unwrap();
        assert_eq!(p.points(), vec![(1.5, -2.0), (3.0, 4.0)]);
        assert_eq!(p.waypoints[0].extra["speed"], "slow");
        let prov = p.provenance.as_ref().unwrap();
        assert_eq!(prov.model.as_deref(), Some("m"));
        assert!(prov.extra.contains_key("tools"));
        assert!(p.extra.contains_key("verdict"));
        // Round trip keeps everything.
        let again: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = "{\n  \"waypoints\": [\n    {\"x\": 1, \"y\": }\n  ]\n}";
        let e = Plan::from_json(text, "p.json").unwrap_err().to_string();
        assert!(e.starts_with("p.json: line 3, column 19: "), "{e}");
        let e = Plan::from_json(r#"{"waypoints": [{"x": "one", "y": 2}]}"#, "p.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1, column") && e.contains("invalid type"), "{e}");
        let e = Plan::from_json(r#"{"points": []}"#, "p.json").unwrap_err().to_string();
        assert!(e.contains("missing field `waypoints`"), "{e}");
        let e = Plan::from_json(r#"{"waypoints": []}"#, "p.json").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = Plan::from_json(r#"{"waypoints": [{"x": 1e999, "y": 0}]}"#, "p.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn routes_are_the_linestrings_of_a_feature_collection() {
        let text = r#"{"type": "FeatureCollection", "features": [
          {"type": "Feature", "properties": {"sol": 962},
           "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1, 5]]}},
          {"type": "Feature", "properties": null,
           "geometry": {"type": "Point", "coordinates": [0, 0]}},
          {"type": "Feature", "properties": {"name": "b"},
           "geometry": {"type": "LineString", "coordinates": [[2, 2], [3, 3]]}}]}"#;
        let (routes, skipped) = routes_from_geojson(text, Path::new("r.geojson")).unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].points, vec![(0.0, 0.0), (1.0, 1.0)]);
        assert_eq!(routes[0].label(), "sol 962");
        assert_eq!(routes[1].index, 2);
        assert_eq!(routes[1].label(), "name b");
        let e = routes_from_geojson("{\"type\": ", Path::new("r.geojson")).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
