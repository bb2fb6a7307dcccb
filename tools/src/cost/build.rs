//! Builds the cost grid of a mission: reads the elevation window of its area once, measures
//! every cell ([`super::terrain`]), measures the zones ([`super::zones`]) and turns both into
//! a per-metre cost and the constraints that make a cell infeasible.

use super::constraint::{Constraint, Constraints};
use super::grid::{CellTerrain, CostGrid, Thresholds};
use super::heading::Headings;
use super::terrain::{measure, AxisJudge};
use super::zones::{distance_to, keep_in_margin, Area};
use crate::checker::rules::hazards::blocks;
use crate::checker::{ElevationSource, Mission};
use crate::error::{Result, ToolsError};
use crate::terrain::{Hazard, RoverProfile};

/// The map rectangle `(xmin, ymin, xmax, ymax)` a mission's route can lie in: the keep-in's
/// bounding box (when there is one) intersected with the box around start and goal that any
/// route within the drive budget stays in (every point `p` of such a route has
/// `|p - start| + |p - goal| <= budget`, so lies within `budget / 2` of their midpoint).
#[must_use]
pub fn mission_area(mission: &Mission) -> (f64, f64, f64, f64) {
    let (s, g) = (mission.start, mission.goal);
    let mid = (0.5 * (s.0 + g.0), 0.5 * (s.1 + g.1));
    let half = 0.5 * mission.drive_budget_m + mission.goal_tolerance_m;
    let mut b = (mid.0 - half, mid.1 - half, mid.0 + half, mid.1 + half);
    if let Some(k) = &mission.keep_in {
        let kb = crate::geometry::bounds(k);
        b = (b.0.max(kb.0), b.1.max(kb.1), b.2.min(kb.2), b.3.min(kb.3));
    }
    b
}

/// [`mission_area`] clipped to a map `extent` `(xmin, ymin, xmax, ymax)` (the DEM's): the
/// window the classifier maps for a sol (the reference policy's perception, and the evals'
/// yardstick).
#[must_use]
pub fn mission_window(mission: &Mission, extent: (f64, f64, f64, f64)) -> (f64, f64, f64, f64) {
    let a = mission_area(mission);
    (a.0.max(extent.0), a.1.max(extent.1), a.2.min(extent.2), a.3.min(extent.3))
}

/// The cost grid of `mission` over `source` for `profile`, with the site's mapped `hazards`:
/// one cell per DEM cell of [`mission_area`] (clipped to the DEM). See the module docs of
/// [`crate::cost`] for the model.
pub fn build_cost_grid(
    source: &dyn ElevationSource,
    hazards: &[Hazard],
    mission: &Mission,
    profile: &RoverProfile,
) -> Result<CostGrid> {
    profile
        .validate()
        .map_err(|e| ToolsError::Argument(format!("rover profile {}: {e}", profile.name)))?;
    let t = source.transform();
    let (dx, dy) = t.resolution();
    let (sw, sh) = source.size();
    let (xmin, ymin, xmax, ymax) = mission_area(mission);
    if ![xmin, ymin, xmax, ymax].iter().all(|v| v.is_finite()) || xmin > xmax || ymin > ymax {
        return Err(ToolsError::Argument(format!(
            "mission {}: its area (keep-in and budget around start and goal) is empty",
            mission.label
        )));
    }
    let (ca, ra) = t.to_cell(xmin, ymax);
    let (cb, rb) = t.to_cell(xmax, ymin);
    let c0 = ca.min(cb).floor().max(0.0);
    let r0 = ra.min(rb).floor().max(0.0);
    let c1 = ca.max(cb).ceil().min(sw as f64);
    let r1 = ra.max(rb).ceil().min(sh as f64);
    if !(c1 - c0 >= 1.0 && r1 - r0 >= 1.0) {
        return Err(ToolsError::Argument(format!(
            "mission {}: its area does not overlap the DEM",
            mission.label
        )));
    }
    let (width, height) = ((c1 - c0) as usize, (r1 - r0) as usize);
    if width.saturating_mul(height) > super::grid::MAX_CELLS {
        return Err(ToolsError::Argument(format!(
            "mission {}: area of {width} x {height} cells is too large to plan on",
            mission.label
        )));
    }
    let (c0, r0) = (c0 as i64, r0 as i64);
    let area = Area { transform: t.shifted(c0, r0), width, height };

    let fp = &profile.footprint;
    let half_cell = 0.5 * dx.hypot(dy);
    let reach = fp.half_length_m.hypot(fp.half_width_m) + half_cell;
    let pad = (reach / dx.min(dy)).ceil() as usize + 3;
    let window =
        source.window(c0 - pad as i64, r0 - pad as i64, width + 2 * pad, height + 2 * pad)?;
    let th = Thresholds {
        tilt_deg: profile.limits.max_tilt_deg - profile.costs.tilt_margin_deg,
        step_m: profile.limits.max_step_m - profile.costs.step_margin_m,
        belly_m: profile.limits.max_belly_obstacle_m - profile.costs.belly_margin_m,
        zone_m: profile.hazard_buffer_m() + half_cell,
        keep_in_m: fp.half_width_m + half_cell,
    };
    let judge = AxisJudge {
        half_length_m: fp.half_length_m,
        half_width_m: fp.half_width_m,
        reach_m: reach,
        axis_deg: Headings::new(area.transform).axis_deg,
        tilt_deg: th.tilt_deg,
        step_m: th.step_m,
        belly_m: th.belly_m,
    };
    let n = width * height;
    let keep_in_m = mission
        .keep_in
        .as_ref()
        .map_or_else(|| vec![f32::INFINITY; n], |k| keep_in_margin(&area, k));
    // The cells the keep-in blocks are not measured: no route may enter them, and a campaign's
    // corridor is about half of its bounding box, so this halves the footprint walks of a sol.
    let outside: Vec<bool> = keep_in_m.iter().map(|&d| f64::from(d) < th.keep_in_m).collect();
    let m = measure(&window, pad, width, height, &judge, &outside)?;
    let mut hazard_m = vec![f32::INFINITY; n];
    let mut crossable = vec![f32::INFINITY; n];
    let blocking: Vec<_> =
        hazards.iter().filter(|h| blocks(h.class)).flat_map(|h| h.shape.0.iter()).collect();
    let other: Vec<_> =
        hazards.iter().filter(|h| !blocks(h.class)).flat_map(|h| h.shape.0.iter()).collect();
    distance_to(&area, &blocking, th.zone_m + half_cell, &mut hazard_m);
    distance_to(&area, &other, 0.0, &mut crossable);
    let mut keep_out_m = vec![f32::INFINITY; n];
    let zones: Vec<_> = mission.keep_out.iter().map(|(_, p)| p).collect();
    distance_to(&area, &zones, th.zone_m + half_cell, &mut keep_out_m);

    let w = &profile.costs;
    let lim = &profile.limits;
    let mut cost = Vec::with_capacity(n);
    let mut blocked = Vec::with_capacity(n);
    let mut terrain = Vec::with_capacity(n);
    for i in 0..n {
        let cell = CellTerrain {
            tilt_deg: m.tilt_deg[i],
            step_m: m.step_m[i],
            step_near_m: m.step_near_m[i],
            belly_m: m.belly_m[i],
            hazard_m: hazard_m[i],
            keep_out_m: keep_out_m[i],
            keep_in_m: keep_in_m[i],
            crossable_hazard: crossable[i] <= 0.0,
            tilt_axes: m.axes[i][0],
            step_axes: m.axes[i][1],
            belly_axes: m.axes[i][2],
        };
        let mut b = Constraints::NONE;
        let (tilt, belly) = (f64::from(cell.tilt_deg), f64::from(cell.belly_m));
        if m.unknown[i] {
            b.insert(Constraint::ValidData);
        }
        // A terrain constraint blocks the whole cell when it fails on every axis; failing on
        // some, it only restricts the headings (see `heading`). A cell outside the keep-in
        // was not measured (NaN, every axis open): it is blocked on `keep_in` alone.
        for (c, mask) in [
            (Constraint::Tilt, cell.tilt_axes),
            (Constraint::Step, cell.step_axes),
            (Constraint::Clearance, cell.belly_axes),
        ] {
            if mask == 0 {
                b.insert(c);
            }
        }
        if f64::from(cell.hazard_m) < th.zone_m {
            b.insert(Constraint::Hazards);
        }
        if f64::from(cell.keep_out_m) < th.zone_m {
            b.insert(Constraint::KeepOut);
        }
        if f64::from(cell.keep_in_m) < th.keep_in_m {
            b.insert(Constraint::KeepIn);
        }
        // Unknown measures cost as if at the limit (only relaxed diagnoses ever use them).
        let ratio =
            |v: f64, limit: f64| if v.is_finite() { (v / limit).clamp(0.0, 2.0) } else { 1.0 };
        let c = w.base_per_m
            + w.slope_per_m * ratio(tilt, lim.max_tilt_deg).powi(2)
            + w.step_per_m * ratio(f64::from(cell.step_near_m), lim.max_step_m)
            + w.belly_per_m * ratio(belly, lim.max_belly_obstacle_m)
            + if cell.crossable_hazard { w.crossable_hazard_per_m } else { 0.0 };
        cost.push(c as f32);
        blocked.push(b);
        terrain.push(cell);
    }
    CostGrid::from_parts(width, height, area.transform, cost, blocked, terrain, Some(th))
}

impl CostGrid {
    /// The same grid with `polygons` (a model's blocking hazard marks) as further blocking
    /// hazards: every cell whose centre is closer to one than the grid's hazard clearance is
    /// blocked on `hazards`, exactly as a mapped hazard would block it. Costs and every other
    /// constraint are unchanged, so the copy only ever blocks more. A grid without thresholds
    /// (made from raw costs) has no clearance to apply and is returned unchanged.
    #[must_use]
    pub fn with_keep_outs(&self, polygons: &[&geo::Polygon<f64>]) -> CostGrid {
        let mut grid = self.clone();
        let Some(th) = self.thresholds() else { return grid };
        let t = self.transform();
        let (dx, dy) = t.resolution();
        let half_cell = 0.5 * dx.hypot(dy);
        let area = Area { transform: t, width: self.width(), height: self.height() };
        let mut near = vec![f32::INFINITY; self.len()];
        distance_to(&area, polygons, th.zone_m + half_cell, &mut near);
        for (i, d) in near.into_iter().enumerate() {
            if f64::from(d) < th.zone_m {
                grid.block(i, Constraint::Hazards);
                grid.lower_hazard_distance(i, d);
            }
        }
        grid
    }
}
