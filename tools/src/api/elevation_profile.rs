//! `elevation_profile`: heights along a polyline, for judging climbs and descents.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{bounded, echo_into, r2, waypoints_on_map, PointM};
use super::{Tool, ToolCallError, ToolOutput, Toolbox};
use crate::geometry::polyline_length;

/// Ground elevation sampled along a polyline (bilinear between DEM cell centres), with the
/// total climb and descent. Use it to see how a route rises and falls between waypoints.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElevationProfileArgs {
    /// The polyline's vertices, map metres (2 to 1000 points).
    pub waypoints: Vec<PointM>,
    /// Distance between samples along the line, metres (default 2; coarsened automatically so
    /// that at most 500 samples are returned).
    #[serde(default)]
    pub step_m: Option<f64>,
}

/// One sample.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Distance along the polyline, metres.
    pub distance_m: f64,
    /// Map x, metres.
    pub x_m: f64,
    /// Map y, metres.
    pub y_m: f64,
    /// Elevation, metres (`null` where the DEM has no data).
    pub elevation_m: Option<f64>,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct ElevationProfileResult {
    /// Length of the polyline, metres.
    pub length_m: f64,
    /// The sample spacing used, metres.
    pub step_m: f64,
    /// Lowest elevation sampled, metres.
    pub min_elevation_m: Option<f64>,
    /// Highest elevation sampled, metres.
    pub max_elevation_m: Option<f64>,
    /// Sum of rises between consecutive samples, metres.
    pub total_climb_m: f64,
    /// Sum of drops between consecutive samples, metres.
    pub total_descent_m: f64,
    /// Samples where the DEM has no data (undriveable).
    pub no_data_samples: usize,
    /// The samples, from the first vertex to the last (vertices included).
    pub samples: Vec<Sample>,
}

/// The `elevation_profile` tool.
pub struct ElevationProfile;

/// Most samples returned.
pub const MAX_SAMPLES: usize = 500;

impl Tool for ElevationProfile {
    const NAME: &'static str = "elevation_profile";
    type Args = ElevationProfileArgs;

    fn run(toolbox: &Toolbox, a: ElevationProfileArgs) -> Result<ToolOutput, ToolCallError> {
        let pts = waypoints_on_map(toolbox, &a.waypoints, 2)?;
        let mut step = bounded("step_m", a.step_m, 2.0, 100.0)?;
        let length = polyline_length(&pts);
        // Vertices are always sampled, so leave room for them.
        let budget = MAX_SAMPLES.saturating_sub(pts.len()).max(1) as f64;
        if length / step > budget {
            step = length / budget;
        }
        let xs = pts.iter().map(|p| p.0);
        let ys = pts.iter().map(|p| p.1);
        let (xmin, xmax) =
            xs.fold((f64::INFINITY, f64::NEG_INFINITY), |a, v| (a.0.min(v), a.1.max(v)));
        let (ymin, ymax) =
            ys.fold((f64::INFINITY, f64::NEG_INFINITY), |a, v| (a.0.min(v), a.1.max(v)));
        let grid = toolbox.bundle().dem.window_around(xmin, ymin, xmax, ymax, 1)?;
        let mut samples = Vec::new();
        let mut along = 0.0;
        for (i, w) in pts.windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            let n = (len / step).ceil().max(1.0) as usize;
            let last = i + 2 == pts.len();
            for k in 0..n + usize::from(last) {
                let t = if len > 0.0 { (k as f64 / n as f64).min(1.0) } else { 0.0 };
                let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                samples.push(Sample {
                    distance_m: r2(along + t * len),
                    x_m: r2(x),
                    y_m: r2(y),
                    elevation_m: grid.bilinear(x, y).map(r2),
                });
            }
            along += len;
        }
        let heights: Vec<f64> = samples.iter().filter_map(|s| s.elevation_m).collect();
        let (mut climb, mut descent) = (0.0, 0.0);
        for w in heights.windows(2) {
            let d = w[1] - w[0];
            if d > 0.0 {
                climb += d;
            } else {
                descent -= d;
            }
        }
        let mut out = ToolOutput::json(&ElevationProfileResult {
            length_m: r2(length),
            step_m: r2(step),
            min_elevation_m: heights.iter().copied().reduce(f64::min),
            max_elevation_m: heights.iter().copied().reduce(f64::max),
            total_climb_m: r2(climb),
            total_descent_m: r2(descent),
            no_data_samples: samples.len() - heights.len(),
            samples,
        })?;
        echo_into(&mut out, &a.waypoints.iter().collect::<Vec<_>>(), &pts);
        Ok(out)
    }
}
