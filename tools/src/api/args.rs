//! Argument pieces shared by several tools, and their validation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ToolCallError, Toolbox};
use crate::checker::Pt;

/// Most waypoints a tool accepts in one call (a drive has tens; thousands mean a mistake).
pub const MAX_WAYPOINTS: usize = 1000;

/// A point on the map, given in one of three ways (see the schema's three shapes).
///
/// - `{"x_m": .., "y_m": ..}`: map metres.
/// - `{"tile": "<id>", "u": .., "v": ..}`: a pixel of a tile `view_tile` showed, `u` from 0
///   at its left edge rightwards, `v` from 0 at its top edge downwards, fractions allowed;
///   converted exactly with that tile's footprint ([`crate::tiles::Frame::to_map`]).
/// - `{"tile": "<id>", "candidate": n}`: the safe candidate numbered `n` that `view_tile`
///   drew on that tile when asked for `candidates`.
///
/// Resolve it with [`resolve_point`]; results echo the map metres it resolved to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PointM {
    /// Map metres.
    Map {
        /// Map x (east), metres.
        x_m: f64,
        /// Map y (north), metres.
        y_m: f64,
    },
    /// A pixel of a tile the model was shown.
    Pixel {
        /// The tile's `tile_id`.
        tile: String,
        /// Pixels rightwards from the tile's left edge.
        u: f64,
        /// Pixels downwards from the tile's top edge.
        v: f64,
    },
    /// A numbered safe candidate drawn on a tile.
    Candidate {
        /// The tile's `tile_id`.
        tile: String,
        /// The candidate's number on that tile.
        candidate: u32,
    },
}

impl PointM {
    /// A point in map metres.
    #[must_use]
    pub fn map(x_m: f64, y_m: f64) -> PointM {
        PointM::Map { x_m, y_m }
    }

    /// Whether the point was given in map metres (not as a pixel or candidate).
    #[must_use]
    pub fn is_map(&self) -> bool {
        matches!(self, PointM::Map { .. })
    }
}

/// Every field a point may have, as sent; [`PointM`] is made from it with one clear message
/// when the combination is wrong (an untagged enum would only say "did not match any variant").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    x_m: Option<f64>,
    y_m: Option<f64>,
    tile: Option<String>,
    u: Option<f64>,
    v: Option<f64>,
    candidate: Option<u32>,
}

impl<'de> Deserialize<'de> for PointM {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawPoint::deserialize(d)?;
        match r {
            RawPoint {
                x_m: Some(x_m),
                y_m: Some(y_m),
                tile: None,
                u: None,
                v: None,
                candidate: None,
            } => Ok(PointM::Map { x_m, y_m }),
            RawPoint {
                x_m: None,
                y_m: None,
                tile: Some(tile),
                u: Some(u),
                v: Some(v),
                candidate: None,
            } => Ok(PointM::Pixel { tile, u, v }),
            RawPoint {
                x_m: None,
                y_m: None,
                tile: Some(tile),
                u: None,
                v: None,
                candidate: Some(candidate),
            } => Ok(PointM::Candidate { tile, candidate }),
            r => {
                let given: Vec<&str> = [
                    ("x_m", r.x_m.is_some()),
                    ("y_m", r.y_m.is_some()),
                    ("tile", r.tile.is_some()),
                    ("u", r.u.is_some()),
                    ("v", r.v.is_some()),
                    ("candidate", r.candidate.is_some()),
                ]
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect();
                Err(serde::de::Error::custom(format!(
                    "a point is {{\"x_m\": .., \"y_m\": ..}} (map metres), or {{\"tile\": \"<tile_id>\", \
                     \"u\": .., \"v\": ..}} (a pixel of a tile you were shown), or {{\"tile\": \
                     \"<tile_id>\", \"candidate\": <number>}} (a candidate drawn on a tile); got \
                     {}",
                    if given.is_empty() { "no fields".to_owned() } else { given.join(", ") }
                )))
            }
        }
    }
}

/// A point in map metres.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // only its schema is used
struct MapPointSchema {
    /// Map x (east), metres, as labelled on the tile grid.
    x_m: f64,
    /// Map y (north), metres, as labelled on the tile grid.
    y_m: f64,
}

/// A pixel of a tile you were shown, instead of map metres: converted exactly with that
/// tile's footprint.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // only its schema is used
struct PixelPointSchema {
    /// The `tile_id` of a tile `view_tile` returned (the overview's is in the task).
    tile: String,
    /// Pixels from the tile's left edge, rightwards (0 to its width_px; fractions allowed).
    u: f64,
    /// Pixels from the tile's top edge, downwards (0 to its height_px; fractions allowed).
    v: f64,
}

/// A numbered safe candidate that `view_tile` drew on a tile (ask for them with
/// `candidates: true`), instead of map metres.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // only its schema is used
struct CandidatePointSchema {
    /// The `tile_id` of the tile the candidate was drawn on.
    tile: String,
    /// The candidate's number, as drawn on the tile.
    #[schemars(range(min = 1))]
    candidate: u32,
}

/// A point on the map: map metres {x_m, y_m}, or a pixel of a tile you were shown {tile, u,
/// v}, or a numbered candidate drawn on a tile {tile, candidate}.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only its schema is used
enum PointSchema {
    Map(MapPointSchema),
    Pixel(PixelPointSchema),
    Candidate(CandidatePointSchema),
}

impl JsonSchema for PointM {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PointM".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        PointSchema::json_schema(generator)
    }
}

/// Resolves a point argument to map metres: metres as given, a pixel through its tile's
/// footprint, a candidate to the point it marks. `field` names the argument in errors: a
/// non-finite number, an unknown tile id, a pixel off its tile or an unknown candidate number
/// is a [`ToolCallError`] the model can act on. The point need not be on the map (callers that
/// need that check it, see [`waypoints_on_map`]).
pub fn resolve_point(toolbox: &Toolbox, field: &str, p: &PointM) -> Result<Pt, ToolCallError> {
    let finite = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(ToolCallError::InvalidArguments {
                field: Some(field.to_owned()),
                message: "coordinates must be finite numbers".into(),
            })
        }
    };
    match p {
        PointM::Map { x_m, y_m } => {
            finite(x_m.is_finite() && y_m.is_finite())?;
            Ok((*x_m, *y_m))
        }
        PointM::Pixel { tile, u, v } => {
            finite(u.is_finite() && v.is_finite())?;
            let frame = toolbox.shown_tile(field, tile)?;
            if !frame.contains_px(*u, *v) {
                return Err(ToolCallError::OffTile {
                    field: field.to_owned(),
                    tile: tile.clone(),
                    u: *u,
                    v: *v,
                    width_px: frame.width_px,
                    height_px: frame.height_px,
                });
            }
            Ok(frame.to_map(*u, *v))
        }
        PointM::Candidate { tile, candidate } => {
            let found = toolbox.tile_candidates(field, tile)?;
            found.iter().find(|c| c.candidate == *candidate).map(|c| (c.x_m, c.y_m)).ok_or_else(
                || ToolCallError::UnknownCandidate {
                    field: field.to_owned(),
                    tile: tile.clone(),
                    candidate: *candidate,
                    numbers: found.iter().map(|c| c.candidate).collect(),
                },
            )
        }
    }
}

/// The echo of resolved points: every point argument of a call, in order, in map metres
/// (millimetres), or `None` when all were given in metres (the result then stays as it was).
#[must_use]
pub fn resolved_echo(given: &[&PointM], resolved: &[Pt]) -> Option<Vec<ResolvedPoint>> {
    if given.iter().all(|p| p.is_map()) {
        return None;
    }
    Some(resolved.iter().map(|&(x, y)| ResolvedPoint { x_m: r3(x), y_m: r3(y) }).collect())
}

/// A point argument as resolved to map metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ResolvedPoint {
    /// Map x (east), metres.
    pub x_m: f64,
    /// Map y (north), metres.
    pub y_m: f64,
}

/// Adds `"resolved": [...]` to an object result when some point was given as a pixel or a
/// candidate (see [`resolved_echo`]).
pub fn echo_into(out: &mut super::ToolOutput, given: &[&PointM], resolved: &[Pt]) {
    if let (Some(echo), Some(obj)) = (resolved_echo(given, resolved), out.result.as_object_mut()) {
        obj.insert("resolved".into(), serde_json::to_value(echo).unwrap_or_default());
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

/// Validates a waypoint list: between `min` and [`MAX_WAYPOINTS`] points, each resolved
/// ([`resolve_point`]) and on the map.
pub fn waypoints_on_map(
    toolbox: &Toolbox,
    waypoints: &[PointM],
    min: usize,
) -> Result<Vec<Pt>, ToolCallError> {
    count(waypoints, min)?;
    waypoints
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let field = format!("waypoints[{i}]");
            let (x, y) = resolve_point(toolbox, &field, p)?;
            on_map(toolbox, &field, x, y)
        })
        .collect()
}

/// Resolves a waypoint list ([`resolve_point`]: finite, tiles and candidates known) without
/// requiring it on the map: the checker judges a route that leaves the map, it does not
/// refuse to look at it.
pub fn finite_waypoints(toolbox: &Toolbox, waypoints: &[PointM]) -> Result<Vec<Pt>, ToolCallError> {
    count(waypoints, 1)?;
    waypoints
        .iter()
        .enumerate()
        .map(|(i, p)| resolve_point(toolbox, &format!("waypoints[{i}]"), p))
        .collect()
}

fn count(waypoints: &[PointM], min: usize) -> Result<(), ToolCallError> {
    if waypoints.len() < min || waypoints.len() > MAX_WAYPOINTS {
        return Err(ToolCallError::InvalidArguments {
            field: Some("waypoints".into()),
            message: format!(
                "expected {min} to {MAX_WAYPOINTS} waypoints, got {}",
                waypoints.len()
            ),
        });
    }
    Ok(())
}

/// The point of a point-or-segment query and its optional end, each given as flat map metres
/// (`x_m`/`y_m`, `to_x_m`/`to_y_m`) or as a point object (`at`, `to`: metres, a pixel or a
/// candidate), resolved and on the map. Returns the start, the end, and the point objects
/// given (for [`echo_into`]).
#[allow(clippy::too_many_arguments)]
pub fn query_points(
    toolbox: &Toolbox,
    x: Option<f64>,
    y: Option<f64>,
    at: Option<&PointM>,
    to_x: Option<f64>,
    to_y: Option<f64>,
    to: Option<&PointM>,
) -> Result<(Pt, Option<Pt>), ToolCallError> {
    let start = match (x, y, at) {
        (Some(x), Some(y), None) => on_map(toolbox, "x_m/y_m", x, y)?,
        (None, None, Some(p)) => {
            let (x, y) = resolve_point(toolbox, "at", p)?;
            on_map(toolbox, "at", x, y)?
        }
        (_, _, Some(_)) => {
            return Err(ToolCallError::InvalidArguments {
                field: Some("at".into()),
                message: "give the point either as x_m and y_m or as `at`, not both".into(),
            })
        }
        _ => {
            return Err(ToolCallError::InvalidArguments {
                field: Some("x_m/y_m".into()),
                message: "give the point as x_m and y_m (map metres), or as `at` ({\"tile\", \
                          \"u\", \"v\"} or {\"tile\", \"candidate\"})"
                    .into(),
            })
        }
    };
    let end = match (to_x, to_y, to) {
        (None, None, Some(p)) => {
            let (x, y) = resolve_point(toolbox, "to", p)?;
            Some(on_map(toolbox, "to", x, y)?)
        }
        (_, _, Some(_)) => {
            return Err(ToolCallError::InvalidArguments {
                field: Some("to".into()),
                message: "give the segment's end either as to_x_m and to_y_m or as `to`, not both"
                    .into(),
            })
        }
        (tx, ty, None) => segment_end(toolbox, tx, ty)?,
    };
    Ok((start, end))
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

/// Rounds to millimetres.
#[must_use]
pub fn r3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Rounds for compact results (centimetres for coordinates, 0.01 for measures).
#[must_use]
pub fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
