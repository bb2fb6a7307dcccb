//! Mapped hazards: polygons with a `class`, read from a bundle's `hazards.geojson`.

use std::path::Path;

use geo::{MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ToolsError};

/// What a mapped hazard is. The classes are the ones ARCHITECTURE.md names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardClass {
    /// A single rock taller than the rover can safely climb.
    Rock,
    /// A dense rock population.
    BoulderField,
    /// Sand ripples or megaripples (wheel sinkage and slip).
    SandRipple,
    /// Exposed bedrock, often sharp (wheel wear).
    Outcrop,
    /// A steep step or cliff.
    Scarp,
    /// A crater (steep walls, loose floor).
    Crater,
    /// Something mapped but not classified.
    Unknown,
}

impl HazardClass {
    /// All classes, in their stable order.
    pub const ALL: [HazardClass; 7] = [
        HazardClass::Rock,
        HazardClass::BoulderField,
        HazardClass::SandRipple,
        HazardClass::Outcrop,
        HazardClass::Scarp,
        HazardClass::Crater,
        HazardClass::Unknown,
    ];

    /// The snake_case name used in GeoJSON and verdicts.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            HazardClass::Rock => "rock",
            HazardClass::BoulderField => "boulder_field",
            HazardClass::SandRipple => "sand_ripple",
            HazardClass::Outcrop => "outcrop",
            HazardClass::Scarp => "scarp",
            HazardClass::Crater => "crater",
            HazardClass::Unknown => "unknown",
        }
    }

    /// Parses a class name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        HazardClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One mapped hazard.
#[derive(Debug, Clone)]
pub struct Hazard {
    /// Position in the file (stable identifier for verdicts).
    pub index: usize,
    /// What it is.
    pub class: HazardClass,
    /// Its outline in map metres.
    pub shape: MultiPolygon<f64>,
    /// The feature's other properties, kept for display.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// Reads `hazards.geojson`: a FeatureCollection of Polygon or MultiPolygon features, each with
/// a string `class` property naming a [`HazardClass`].
pub fn load_hazards(path: &Path) -> Result<Vec<Hazard>> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolsError::Missing { path: path.to_path_buf() },
        _ => ToolsError::io(path, e),
    })?;
    parse_hazards(&text, path)
}

/// Parses hazards from GeoJSON text; `origin` names the file in errors.
pub fn parse_hazards(text: &str, origin: &Path) -> Result<Vec<Hazard>> {
    let invalid = |reason: String| ToolsError::Invalid { path: origin.to_path_buf(), reason };
    let gj: geojson::GeoJson = text.parse().map_err(|e| invalid(format!("not GeoJSON: {e}")))?;
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        return Err(invalid("expected a FeatureCollection".into()));
    };
    let mut out = Vec::with_capacity(fc.features.len());
    for (index, f) in fc.features.into_iter().enumerate() {
        let props = f.properties.unwrap_or_default();
        let class_name = props
            .get("class")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid(format!("feature {index} has no string `class` property")))?;
        let class = HazardClass::parse(class_name).ok_or_else(|| {
            let names: Vec<_> = HazardClass::ALL.iter().map(|c| c.as_str()).collect();
            invalid(format!(
                "feature {index} has class {class_name:?}; expected one of {}",
                names.join(", ")
            ))
        })?;
        let geometry =
            f.geometry.ok_or_else(|| invalid(format!("feature {index} has no geometry")))?;
        let shape: MultiPolygon<f64> = match geometry.value {
            geojson::Value::Polygon(_) => {
                let p: Polygon<f64> = geometry
                    .value
                    .try_into()
                    .map_err(|e| invalid(format!("feature {index}: {e}")))?;
                MultiPolygon::new(vec![p])
            }
            geojson::Value::MultiPolygon(_) => {
                geometry.value.try_into().map_err(|e| invalid(format!("feature {index}: {e}")))?
            }
            _ => return Err(invalid(format!("feature {index} is not a Polygon or MultiPolygon"))),
        };
        let finite = shape.0.iter().all(|p| {
            p.exterior()
                .coords()
                .chain(p.interiors().iter().flat_map(geo::LineString::coords))
                .all(|c| c.x.is_finite() && c.y.is_finite())
        });
        if !finite || shape.0.iter().any(|p| p.exterior().0.len() < 4) {
            return Err(invalid(format!("feature {index} has a degenerate or non-finite polygon")));
        }
        out.push(Hazard { index, class, shape, properties: props });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_classes_and_refuses_unknown_ones() {
        let ok = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"class":"sand_ripple"},
           "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        let h = parse_hazards(ok, Path::new("h.geojson")).unwrap();
        assert_eq!(h[0].class, HazardClass::SandRipple);
        let bad = ok.replace("sand_ripple", "lava");
        let e = parse_hazards(&bad, Path::new("h.geojson")).unwrap_err().to_string();
        assert!(e.contains("h.geojson") && e.contains("lava"), "{e}");
    }
}
