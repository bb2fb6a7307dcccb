//! A planned route as the files `breadcrumb plan` writes: the plan JSON the checker reads
//! (waypoints, provenance, verdict) and a GeoJSON FeatureCollection (the route as a
//! LineString, each waypoint as a Point).

use serde_json::{json, Map, Value};

use super::PlannedRoute;
use crate::checker::plan::Provenance;
use crate::checker::{Plan, CHECKER_VERSION, RULE_SET_VERSION};

/// The name the baseline planner signs its plans with (`provenance.model`).
pub const PLANNER_MODEL: &str = "baseline-planner";

/// Rounds a coordinate to the millimetre (as verdicts do), so files are byte-stable.
fn mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

impl PlannedRoute {
    /// The plan file for sol `sol_id` and rover `rover`: waypoints (to the millimetre),
    /// provenance (`model` = [`PLANNER_MODEL`], checker and rule-set versions), the verdict,
    /// and a `planner` object with cost, length and search numbers. No creation time, so the
    /// same inputs give the same bytes.
    #[must_use]
    pub fn to_plan(&self, sol_id: &str, rover: &str) -> Plan {
        let pts: Vec<(f64, f64)> = self.waypoints.iter().map(|p| (mm(p.0), mm(p.1))).collect();
        let mut plan = Plan::from_points(&pts);
        let mut extra = Map::new();
        extra.insert(
            "tools".into(),
            json!({"breadcrumb-tools": CHECKER_VERSION, "rule_set": RULE_SET_VERSION}),
        );
        plan.provenance = Some(Provenance {
            sol: Some(sol_id.to_owned()),
            rover: Some(rover.to_owned()),
            model: Some(PLANNER_MODEL.to_owned()),
            provider: Some("breadcrumb".to_owned()),
            checker_version: Some(CHECKER_VERSION.to_owned()),
            extra,
            ..Provenance::default()
        });
        plan.extra.insert(
            "planner".into(),
            json!({
                "cost": (self.cost * 1e4).round() / 1e4,
                "length_m": (self.length_m * 1e4).round() / 1e4,
                "stats": self.stats,
            }),
        );
        plan.extra.insert(
            "verdict".into(),
            serde_json::from_str(&self.verdict.to_json()).unwrap_or(Value::Null),
        );
        plan
    }

    /// The route as GeoJSON: one LineString feature (`name` = the sol, `kind` = `route`,
    /// cost and length) and one Point feature per waypoint (`kind` = `waypoint`, `index`).
    #[must_use]
    pub fn to_geojson(&self, sol_id: &str) -> geojson::FeatureCollection {
        let props = |v: Value| match v {
            Value::Object(m) => Some(m),
            _ => None,
        };
        let line: Vec<Vec<f64>> = self.waypoints.iter().map(|p| vec![mm(p.0), mm(p.1)]).collect();
        let mut features = vec![geojson::Feature {
            geometry: Some(geojson::Geometry::new(geojson::Value::LineString(line))),
            properties: props(json!({
                "name": sol_id,
                "kind": "route",
                "model": PLANNER_MODEL,
                "cost": (self.cost * 1e4).round() / 1e4,
                "length_m": (self.length_m * 1e4).round() / 1e4,
                "pass": self.verdict.pass,
            })),
            ..geojson::Feature::default()
        }];
        for (i, p) in self.waypoints.iter().enumerate() {
            features.push(geojson::Feature {
                geometry: Some(geojson::Geometry::new(geojson::Value::Point(vec![
                    mm(p.0),
                    mm(p.1),
                ]))),
                properties: props(json!({"kind": "waypoint", "index": i})),
                ..geojson::Feature::default()
            });
        }
        geojson::FeatureCollection { bbox: None, features, foreign_members: None }
    }
}
