//! `hazards.model.geojson`: a run's marks as a GeoJSON FeatureCollection that opens in QGIS,
//! and read back exactly, so `breadcrumb verify` re-checks a plan against the very keep-outs
//! the run enforced.
//!
//! One Polygon feature a mark, in the order the marks were made, with properties `id` (`m1`,
//! `m2`, ...), `class` (the class it is enforced and scored as), `marked_class` (what the
//! model said, `bedrock` included), `blocks`, `confidence`, `reason` and `area_m2`. Coordinates
//! are the marks' own `f64`s (serde_json writes the shortest text that reads back as the same
//! number), so a re-check builds the identical index.

use geo::{Area, LineString, Polygon};
use serde::{Deserialize, Serialize};

use super::mark::{Mark, MarkClass};
use crate::api::mark_id;
use crate::error::{Result, ToolsError};
use crate::geometry::{Zone, ZoneIndex};
use crate::terrain::Hazard;

/// The file's name in a run's dossier.
pub const FILE: &str = "hazards.model.geojson";

/// One mark as recorded (transcript event, dossier): id, class, outline and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkRecord {
    /// Its id in the run (`m1`, ...).
    pub id: String,
    /// The class the model gave.
    pub marked_class: String,
    /// The class it is enforced and scored as.
    pub class: String,
    /// Whether it is a keep-out.
    pub blocks: bool,
    /// The model's confidence, 0 to 1.
    pub confidence: f64,
    /// The model's reason.
    pub reason: String,
    /// Its area, square metres.
    pub area_m2: f64,
    /// The closed outline, map metres.
    pub ring: Vec<[f64; 2]>,
}

impl MarkRecord {
    /// The record of mark number `i` (from 0) of a run.
    #[must_use]
    pub fn of(i: usize, m: &Mark) -> Self {
        MarkRecord {
            id: mark_id(i),
            marked_class: m.class.as_str().to_owned(),
            class: m.class.hazard_class().as_str().to_owned(),
            blocks: m.class.blocks(),
            confidence: m.confidence,
            reason: m.reason.clone(),
            area_m2: m.polygon.unsigned_area(),
            ring: m.polygon.exterior().points().map(|p| [p.x(), p.y()]).collect(),
        }
    }
}

impl MarkRecord {
    /// The recorded mark as a mapped hazard (feature `index`), for scoring and drawing; `None`
    /// when its class is not one this version knows or its ring is not a polygon.
    #[must_use]
    pub fn to_hazard(&self, index: usize) -> Option<Hazard> {
        let class = crate::terrain::HazardClass::parse(&self.class)?;
        if self.ring.len() < 4 {
            return None;
        }
        let line: LineString<f64> = self.ring.iter().map(|p| (p[0], p[1])).collect();
        let mut properties = serde_json::Map::new();
        properties.insert("class".into(), self.class.clone().into());
        properties.insert("id".into(), self.id.clone().into());
        Some(Hazard {
            index,
            class,
            shape: geo::MultiPolygon::new(vec![Polygon::new(line, vec![])]),
            properties,
        })
    }
}

/// The checker's zones of the blocking marks among `marks` (mark `i` is `m{i+1}`), labelled
/// `"<class> mark m<k>"` so a violation names the mark.
#[must_use]
pub fn blocking_zones(marks: &[Mark]) -> Vec<Zone> {
    marks
        .iter()
        .enumerate()
        .filter(|(_, m)| m.class.blocks())
        .map(|(i, m)| Zone {
            label: format!("{} mark {}", m.class.as_str(), mark_id(i)),
            polygon: m.polygon.clone(),
        })
        .collect()
}

/// The index a check with marks uses: the site's blocking hazard zones, then the blocking
/// marks. Marks only ever add zones.
#[must_use]
pub fn index_with_marks(site: &ZoneIndex, marks: &[Mark]) -> ZoneIndex {
    let mut zones = site.zones().to_vec();
    zones.extend(blocking_zones(marks));
    ZoneIndex::new(zones)
}

/// The marks as mapped hazards (feature `i` for mark `i`), for scoring and drawing.
#[must_use]
pub fn as_hazards(marks: &[Mark]) -> Vec<Hazard> {
    marks.iter().enumerate().map(|(i, m)| m.to_hazard(i)).collect()
}

/// The marks as `hazards.model.geojson` text (always a FeatureCollection, empty without marks).
#[must_use]
pub fn to_geojson(marks: &[Mark]) -> String {
    let features: Vec<serde_json::Value> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let r = MarkRecord::of(i, m);
            serde_json::json!({
                "type": "Feature",
                "id": r.id,
                "properties": {
                    "id": r.id,
                    "class": r.class,
                    "marked_class": r.marked_class,
                    "blocks": r.blocks,
                    "confidence": r.confidence,
                    "reason": r.reason,
                    "area_m2": (r.area_m2 * 100.0).round() / 100.0,
                    "source": "model",
                },
                "geometry": {"type": "Polygon", "coordinates": [r.ring]},
            })
        })
        .collect();
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    serde_json::to_string_pretty(&fc).unwrap_or_default() + "\n"
}

/// Reads `hazards.model.geojson` text back into marks, in file order. Refuses a feature that
/// is not a mark this version wrote (no polygon ring, unknown class), naming it.
pub fn from_geojson(text: &str) -> Result<Vec<Mark>> {
    let bad = |what: String| ToolsError::Argument(format!("{FILE}: {what}"));
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let features = v
        .get("features")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("not a FeatureCollection".into()))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let props = f.get("properties").cloned().unwrap_or_default();
            let name = props.get("marked_class").and_then(serde_json::Value::as_str);
            let class = name
                .and_then(MarkClass::parse)
                .ok_or_else(|| bad(format!("feature {i}: no known marked_class")))?;
            let ring: Vec<[f64; 2]> = f
                .pointer("/geometry/coordinates/0")
                .cloned()
                .and_then(|c| serde_json::from_value(c).ok())
                .ok_or_else(|| bad(format!("feature {i}: no polygon ring")))?;
            if ring.len() < 4 {
                return Err(bad(format!("feature {i}: ring of {} points", ring.len())));
            }
            let line: LineString<f64> = ring.iter().map(|p| (p[0], p[1])).collect();
            Ok(Mark {
                class,
                polygon: Polygon::new(line, vec![]),
                confidence: props
                    .get("confidence")
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(0.0),
                reason: props
                    .get("reason")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::{validate, MarkInput, MarkShape};

    fn mark(class: &str, x: f64) -> Mark {
        let input = MarkInput {
            class: class.into(),
            shape: MarkShape::Polygon(vec![
                (x, 0.1),
                (x + 3.3, 0.2),
                (x + 3.1, 4.7),
                (x + 0.05, 1.0 / 3.0),
            ]),
            confidence: 0.7,
            reason: "dark ripples".into(),
        };
        validate(&input, (-100.0, -100.0, 100.0, 100.0)).unwrap()
    }

    /// Marks written and read back are the same marks, bit for bit, and the same index.
    #[test]
    fn marks_round_trip_exactly_through_the_file() {
        let marks = vec![mark("sand_ripple", 0.1), mark("bedrock", 10.0), mark("rock", -20.0)];
        let text = to_geojson(&marks);
        let back = from_geojson(&text).unwrap();
        assert_eq!(back, marks);
        let zones = blocking_zones(&back);
        let labels: Vec<&str> = zones.iter().map(|z| z.label.as_str()).collect();
        assert_eq!(labels, ["sand_ripple mark m1", "rock mark m3"]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["features"][1]["properties"]["class"], "outcrop");
        assert_eq!(v["features"][1]["properties"]["blocks"], false);
    }

    #[test]
    fn an_empty_run_writes_an_empty_collection_and_junk_is_refused() {
        assert!(from_geojson(&to_geojson(&[])).unwrap().is_empty());
        assert!(from_geojson("[]").is_err());
        assert!(from_geojson(r#"{"features":[{"properties":{"marked_class":"lava"}}]}"#).is_err());
        assert!(from_geojson(r#"{"features":[{"properties":{"marked_class":"rock"}}]}"#).is_err());
    }
}
