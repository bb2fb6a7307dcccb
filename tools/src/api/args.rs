//! Argument pieces shared by several tools, and their validation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ToolCallError, Toolbox};
use crate::checker::Pt;

/// Most waypoints a tool accepts in one call (a drive has tens; thousands mean a mistake).
pub const MAX_WAYPOINTS: usize = 1000;

/// A point on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PointM {
    /// Map x (east), metres, as labelled on the tile grid.
    pub x_m: f64,
    /// Map y (north), metres, as labelled on the tile grid.
    pub y_m: f64,
}

impl PointM {
    /// As a checker point.
    #[must_use]
    pub fn pt(self) -> Pt {
        (self.x_m, self.y_m)
    }
}

/// Checks that `(x, y)` is finite and on the DEM; `field` names the argument in the error.
pub fn on_map(toolbox: &Toolbox, field: &str, x: f64, y: f64) -> Result<Pt, ToolCallError> {
    if !(x.is_finite() && y.is_finite()) {
        return Err(ToolCallError::InvalidArguments {
            field: Some(field.to_owned()),
            message: "coordinates must be finite numbers".into(),
        });
    }
    let (xmin, ymin, xmax, ymax) = toolbox.extent();
    if x < xmin || x > xmax || y < ymin || y > ymax {
        return Err(ToolCallError::OutOfMap {
            field: field.to_owned(),
            x_m: x,
            y_m: y,
            extent: [xmin, ymin, xmax, ymax],
        });
    }
    Ok((x, y))
}

/// The optional end of a point-or-segment query (`to_x_m`, `to_y_m`): both or neither, on the
/// map.
pub fn segment_end(
    toolbox: &Toolbox,
    to_x: Option<f64>,
    to_y: Option<f64>,
) -> Result<Option<Pt>, ToolCallError> {
    match (to_x, to_y) {
        (None, None) => Ok(None),
        (Some(x), Some(y)) => on_map(toolbox, "to_x_m/to_y_m", x, y).map(Some),
        _ => Err(ToolCallError::InvalidArguments {
            field: Some("to_x_m/to_y_m".into()),
            message: "give both to_x_m and to_y_m for a segment, or neither".into(),
        }),
    }
}

/// Validates a waypoint list: between `min` and [`MAX_WAYPOINTS`] points, each on the map.
pub fn waypoints_on_map(
    toolbox: &Toolbox,
    waypoints: &[PointM],
    min: usize,
) -> Result<Vec<Pt>, ToolCallError> {
    if waypoints.len() < min || waypoints.len() > MAX_WAYPOINTS {
        return Err(ToolCallError::InvalidArguments {
            field: Some("waypoints".into()),
            message: format!(
                "expected {min} to {MAX_WAYPOINTS} waypoints, got {}",
                waypoints.len()
            ),
        });
    }
    waypoints
        .iter()
        .enumerate()
        .map(|(i, p)| on_map(toolbox, &format!("waypoints[{i}]"), p.x_m, p.y_m))
        .collect()
}

/// Checks that waypoint coordinates are finite (without requiring them on the map: the checker
/// judges a route that leaves the map, it does not refuse to look at it).
pub fn finite_waypoints(waypoints: &[PointM]) -> Result<Vec<Pt>, ToolCallError> {
    if waypoints.is_empty() || waypoints.len() > MAX_WAYPOINTS {
        return Err(ToolCallError::InvalidArguments {
            field: Some("waypoints".into()),
            message: format!("expected 1 to {MAX_WAYPOINTS} waypoints, got {}", waypoints.len()),
        });
    }
    waypoints
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if p.x_m.is_finite() && p.y_m.is_finite() {
                Ok(p.pt())
            } else {
                Err(ToolCallError::InvalidArguments {
                    field: Some(format!("waypoints[{i}]")),
                    message: "coordinates must be finite numbers".into(),
                })
            }
        })
        .collect()
}

/// A positive, finite number no larger than `max`, or the default when absent.
pub fn bounded(
    field: &str,
    value: Option<f64>,
    default: f64,
    max: f64,
) -> Result<f64, ToolCallError> {
    let v = value.unwrap_or(default);
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(v)
    } else {
        Err(ToolCallError::InvalidArguments {
            field: Some(field.to_owned()),
            message: format!("must be a number above 0 and at most {max}, got {v}"),
        })
    }
}

/// Rounds for compact results (centimetres for coordinates, 0.01 for measures).
#[must_use]
pub fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
