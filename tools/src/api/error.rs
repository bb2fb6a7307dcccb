//! The structured error a tool call returns to the model.

use serde::Serialize;

/// Why a tool call failed, in a form a model can act on. Serialised as
/// `{"error": "<kind>", ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ToolCallError {
    /// No tool has this name.
    #[error("unknown tool `{name}`; the tools are: {}", known.join(", "))]
    UnknownTool {
        /// The name asked for (truncated).
        name: String,
        /// The tools there are.
        known: Vec<String>,
    },
    /// The arguments do not match the tool's schema.
    #[error("invalid arguments{}: {message}", field.as_ref().map(|f| format!(" at `{f}`")).unwrap_or_default())]
    InvalidArguments {
        /// Path of the offending field (`waypoints[2].x_m`), when one is to blame.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A coordinate lies outside the terrain model.
    #[error("`{field}` ({x_m}, {y_m}) is off the map; the map covers x {} to {} m, y {} to {} m", extent[0], extent[2], extent[1], extent[3])]
    OutOfMap {
        /// Which argument.
        field: String,
        /// Its x, map metres.
        x_m: f64,
        /// Its y, map metres.
        y_m: f64,
        /// The map's extent `[xmin, ymin, xmax, ymax]`, map metres.
        extent: [f64; 4],
    },
    /// The terrain under a point is unknown (no-data in the DEM).
    #[error("no elevation data at ({x_m}, {y_m}): the terrain there is unknown and undriveable")]
    NoData {
        /// Map x, metres.
        x_m: f64,
        /// Map y, metres.
        y_m: f64,
    },
    /// A point names a tile id no `view_tile` call of this run has returned.
    #[error("`{field}`: no tile `{tile}` has been shown; use the tile_id of a tile view_tile returned{}", if recent.is_empty() { String::new() } else { format!(" (latest: {})", recent.join(", ")) })]
    UnknownTile {
        /// Which argument.
        field: String,
        /// The id given (truncated).
        tile: String,
        /// The ids of the latest tiles shown, newest first (at most 8).
        recent: Vec<String>,
    },
    /// A pixel lies outside the tile it names.
    #[error("`{field}`: pixel (u {u}, v {v}) is off tile {tile}, whose pixels run u 0 to {width_px} (rightwards from the left edge) and v 0 to {height_px} (downwards from the top edge)")]
    OffTile {
        /// Which argument.
        field: String,
        /// The tile.
        tile: String,
        /// The u given.
        u: f64,
        /// The v given.
        v: f64,
        /// The tile's width, pixels.
        width_px: u32,
        /// The tile's height, pixels.
        height_px: u32,
    },
    /// A candidate number that the tile does not show.
    #[error("`{field}`: tile {tile} has no candidate {candidate}; {}", if numbers.is_empty() { "it has no safe candidates (view it with candidates: true to see them)".to_owned() } else { format!("its candidates are numbered {} to {}", numbers[0], numbers[numbers.len() - 1]) })]
    UnknownCandidate {
        /// Which argument.
        field: String,
        /// The tile.
        tile: String,
        /// The number given.
        candidate: u32,
        /// The candidates' numbers on that tile.
        numbers: Vec<u32>,
    },
    /// The tool ran but could not answer (a failing read, say).
    #[error("tool failed: {message}")]
    Failed {
        /// What went wrong.
        message: String,
    },
}

impl ToolCallError {
    /// The error as the JSON the model receives.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}));
        if let Some(obj) = v.as_object_mut() {
            obj.insert("summary".into(), self.to_string().into());
        }
        v
    }
}

impl From<crate::ToolsError> for ToolCallError {
    fn from(e: crate::ToolsError) -> Self {
        ToolCallError::Failed { message: e.to_string() }
    }
}
