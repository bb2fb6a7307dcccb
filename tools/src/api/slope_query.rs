//! `slope_query`: slope and rover tilt at a point or along a straight segment, measured exactly
//! as the safety checker measures them (the plane fitted under the rover's footprint).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{echo_into, query_points, r2, PointM};
use super::{Tool, ToolCallError, ToolOutput, Toolbox};
use crate::analysis::slope_at;
use crate::checker::walk::{heading_of, CellList, Ground, Pose, PoseSink, SegmentTerrain, Walker};

/// Slope and rover tilt at a point, or along the straight segment from (x_m, y_m) to
/// (to_x_m, to_y_m). Tilt is measured as the safety checker does: the plane fitted to the DEM
/// under the rover's footprint, with the rover heading along the segment. Returns the maximum
/// and mean tilt, where the maximum is, the largest step and belly obstacle, and the limits they
/// are checked against. Use it to test a stretch of route before you commit to it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlopeQueryArgs {
    /// Map x (east) of the point, or of the segment's start, metres (or give `at` instead).
    #[serde(default)]
    pub x_m: Option<f64>,
    /// Map y (north) of the point, or of the segment's start, metres (or give `at` instead).
    #[serde(default)]
    pub y_m: Option<f64>,
    /// The point, or the segment's start, as a pixel of a tile you were shown or a candidate
    /// ({"tile": .., "u": .., "v": ..} or {"tile": .., "candidate": n}), instead of x_m/y_m.
    #[serde(default)]
    #[schemars(with = "PointM")]
    pub at: Option<PointM>,
    /// Map x of the segment's end, metres (omit for a point query).
    #[serde(default)]
    pub to_x_m: Option<f64>,
    /// Map y of the segment's end, metres (omit for a point query).
    #[serde(default)]
    pub to_y_m: Option<f64>,
    /// The segment's end as a pixel of a tile or a candidate, instead of to_x_m/to_y_m.
    #[serde(default)]
    #[schemars(with = "PointM")]
    pub to: Option<PointM>,
    /// Rover heading for a point query, degrees clockwise from north (default 0). Ignored for
    /// a segment, where the rover faces along it.
    #[serde(default)]
    pub heading_deg: Option<f64>,
}

/// Where a worst value was measured.
#[derive(Debug, Clone, Serialize)]
pub struct AtM {
    /// The value.
    pub value: f64,
    /// Map x of the rover's centre there, metres.
    pub x_m: f64,
    /// Map y of the rover's centre there, metres.
    pub y_m: f64,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct SlopeQueryResult {
    /// `point` or `segment`.
    pub kind: &'static str,
    /// Segment length, metres (0 for a point).
    pub length_m: f64,
    /// DEM slope of the cell at the start point (Horn's method, as `gdaldem slope`), degrees.
    pub slope_at_start_deg: Option<f64>,
    /// Largest rover tilt (plane under the footprint), degrees, and where.
    pub max_tilt: Option<AtM>,
    /// Mean rover tilt over the evaluated poses, degrees.
    pub mean_tilt_deg: Option<f64>,
    /// Largest step between adjacent DEM cells under the rover, metres, and where.
    pub max_step: Option<AtM>,
    /// Largest ground height above the wheel plane (belly obstacle), metres, and where.
    pub max_belly_obstacle: Option<AtM>,
    /// Whether some poses stand on unknown ground (no-data), which the checker refuses.
    pub unknown_ground: bool,
    /// The checker's tilt limit, degrees.
    pub tilt_limit_deg: f64,
    /// The checker's step limit, metres.
    pub step_limit_m: f64,
    /// The checker's belly obstacle limit, metres.
    pub belly_limit_m: f64,
    /// Whether any measured value breaks its limit here.
    pub exceeds_limits: bool,
}

/// The `slope_query` tool.
pub struct SlopeQuery;

/// Keeps the worst of each measure and the mean tilt.
#[derive(Default)]
struct Sink {
    terrain: SegmentTerrain,
    tilt_sum: f64,
    known: usize,
}

impl PoseSink for Sink {
    fn pose(&mut self, pose: Pose, ground: &Ground, cells: &CellList<'_>) {
        if let Ground::Known { tilt_deg, .. } = *ground {
            self.tilt_sum += tilt_deg;
            self.known += 1;
        }
        self.terrain.pose(pose, ground, cells);
    }
}

/// Longest segment one query walks, metres.
pub const MAX_SEGMENT_M: f64 = 500.0;

impl Tool for SlopeQuery {
    const NAME: &'static str = "slope_query";
    type Args = SlopeQueryArgs;

    fn run(toolbox: &Toolbox, a: SlopeQueryArgs) -> Result<ToolOutput, ToolCallError> {
        let (start, end) =
            query_points(toolbox, a.x_m, a.y_m, a.at.as_ref(), a.to_x_m, a.to_y_m, a.to.as_ref())?;
        let length = end.map_or(0.0, |b| (b.0 - start.0).hypot(b.1 - start.1));
        if length > MAX_SEGMENT_M {
            return Err(ToolCallError::InvalidArguments {
                field: Some("to_x_m/to_y_m".into()),
                message: format!(
                    "segment is {length:.0} m; query at most {MAX_SEGMENT_M} m at a time"
                ),
            });
        }
        let heading = a.heading_deg.unwrap_or(0.0);
        if !heading.is_finite() {
            return Err(ToolCallError::InvalidArguments {
                field: Some("heading_deg".into()),
                message: "must be a finite number".into(),
            });
        }
        let p = toolbox.profile();
        let walker = Walker::new(
            &toolbox.bundle().dem,
            p.footprint.half_length_m,
            p.footprint.half_width_m,
        )?;
        let mut sink = Sink::default();
        match end {
            Some(b) if length > 0.0 => {
                walker.stand(start, heading_of(start, b), &mut sink)?;
                walker.segment(start, b, &mut sink)?;
            }
            _ => walker.stand(start, heading, &mut sink)?,
        }
        let t = &sink.terrain;
        let at = |e: &Option<crate::checker::walk::Extreme>| {
            e.map(|e| AtM { value: r2(e.value), x_m: r2(e.pose.x), y_m: r2(e.pose.y) })
        };
        let max_tilt = at(&t.tilt);
        let max_step = at(&t.step);
        let max_belly = at(&t.belly);
        let over = |v: &Option<AtM>, lim: f64| v.as_ref().is_some_and(|v| v.value > lim);
        let tilt_limit = p.limits.max_tilt_deg;
        let result = SlopeQueryResult {
            kind: if end.is_some() { "segment" } else { "point" },
            length_m: r2(length),
            slope_at_start_deg: slope_at(&toolbox.bundle().dem, start.0, start.1)?.map(r2),
            exceeds_limits: t.unknown.is_some()
                || over(&max_tilt, tilt_limit)
                || over(&max_step, p.limits.max_step_m)
                || over(&max_belly, p.limits.max_belly_obstacle_m),
            max_tilt,
            mean_tilt_deg: (sink.known > 0).then(|| r2(sink.tilt_sum / sink.known as f64)),
            max_step,
            max_belly_obstacle: max_belly,
            unknown_ground: t.unknown.is_some(),
            tilt_limit_deg: tilt_limit,
            step_limit_m: p.limits.max_step_m,
            belly_limit_m: p.limits.max_belly_obstacle_m,
        };
        if result.unknown_ground && end.is_none() {
            return Err(ToolCallError::NoData { x_m: start.0, y_m: start.1 });
        }
        let mut out = ToolOutput::json(&result)?;
        let given: Vec<&PointM> = [a.at.as_ref(), a.to.as_ref()].into_iter().flatten().collect();
        let resolved: Vec<_> = std::iter::once(start).chain(end).collect();
        echo_into(&mut out, &given, &resolved);
        Ok(out)
    }
}
