//! Rover profiles: the dimensions and limits the safety checker enforces, read from
//! `fixtures/rovers/<name>.toml`. Every number carries its source in the TOML (see ROVER.md).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, ToolsError};

/// Body and wheel dimensions, metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    /// Body length, arm excluded.
    pub length_m: f64,
    /// Body width.
    pub width_m: f64,
    /// Height.
    pub height_m: f64,
    /// Wheel diameter.
    pub wheel_diameter_m: f64,
    /// Front-to-rear axle distance.
    pub wheelbase_m: f64,
    /// Distance between left and right wheel centres.
    pub track_m: f64,
    /// Belly-pan clearance above the wheel plane.
    pub belly_clearance_m: f64,
}

/// The rectangle under the rover that analysis samples, metres from the rover centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Footprint {
    /// Half of the length along the heading.
    pub half_length_m: f64,
    /// Half of the width across the heading.
    pub half_width_m: f64,
}

/// Limits the checker enforces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Tilt the checker accepts (the drivers' limit minus a margin for DEM error), degrees.
    pub max_tilt_deg: f64,
    /// Drivers' hard limit, degrees (informational; `max_tilt_deg` is enforced).
    pub hard_tilt_deg: f64,
    /// Largest step / rock height a wheel may climb, metres.
    pub max_step_m: f64,
    /// Largest height of ground above the wheel plane under the body, metres.
    pub max_belly_obstacle_m: f64,
    /// Largest distance between consecutive waypoints, metres.
    pub max_waypoint_spacing_m: f64,
    /// Default drive budget per sol, metres.
    pub drive_budget_m: f64,
}

/// Safety margins, metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Margins {
    /// Added to half the rover width around mapped hazards and keep-out zones.
    pub hazard_margin_m: f64,
    /// How far the first waypoint may be from the sol's start.
    pub start_tolerance_m: f64,
}

/// Weights and margins of the planner's traversal cost model (`crate::cost`), the optional
/// `[costs]` section of a profile. The checker never reads them: they shape which safe route
/// the baseline planner prefers, not which routes are safe.
///
/// The cost of a cell is per metre driven, `base_per_m` on flat smooth ground, so a route's
/// cost reads as "equivalent flat metres". Each term below adds to it in proportion to how
/// close the ground comes to the checker's limit there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostWeights {
    /// Cost of one metre of flat, smooth ground (1.0: costs are equivalent flat metres).
    pub base_per_m: f64,
    /// Extra cost per metre at the tilt limit, scaled by `(tilt / max_tilt)^2` (3.0, ours):
    /// gentle slopes cost almost nothing, slopes near the limit cost four times flat ground,
    /// since slip grows steeply with slope (ROVER.md E8) and drivers avoid them.
    pub slope_per_m: f64,
    /// Extra cost per metre at the step limit, scaled linearly by `step / max_step` where
    /// `step` is the largest step within reach of the footprint (1.0, ours): rocky ground
    /// wears wheels, and a route that keeps off rocks by more than the footprint needs leaves
    /// room for DEM error.
    pub step_per_m: f64,
    /// Extra cost per metre when ground under the body reaches the belly limit, linear
    /// (1.0, ours).
    pub belly_per_m: f64,
    /// Extra cost per metre on mapped hazards of a class the checker lets the rover cross
    /// (`outcrop`: sharp bedrock punctures wheels, ROVER.md N12), 0.5 (ours).
    pub crossable_hazard_per_m: f64,
    /// Planner-only margin under `limits.max_tilt_deg`, degrees (2.0, ours): the cost model
    /// measures the rover at cell centres; between them it may tilt a little more.
    pub tilt_margin_deg: f64,
    /// Planner-only margin under `limits.max_belly_obstacle_m`, metres (0.03, ours), for the
    /// same reason.
    pub belly_margin_m: f64,
    /// Planner-only margin under `limits.max_step_m`, metres (0.0: a step's height does not
    /// change between cell centres, only whether it lies under the footprint, which a margin
    /// cannot help with; steps near the footprint already raise the cost).
    pub step_margin_m: f64,
}

impl Default for CostWeights {
    fn default() -> Self {
        CostWeights {
            base_per_m: 1.0,
            slope_per_m: 3.0,
            step_per_m: 1.0,
            belly_per_m: 1.0,
            crossable_hazard_per_m: 0.5,
            tilt_margin_deg: 2.0,
            belly_margin_m: 0.03,
            step_margin_m: 0.0,
        }
    }
}

/// Limits the digital twin (`crate::twin`) enforces on the articulated rover, the optional
/// `[kinematics.limits]` table. Sources are in the profile's comments (ROVER.md section 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwinLimits {
    /// Largest bogie articulation relative to its rocker, degrees.
    pub max_bogie_deg: f64,
    /// Largest differential (rocker relative to the body) angle, degrees.
    pub max_differential_deg: f64,
    /// Nominal chassis pitch, degrees: exceeding it is a caution, not a refusal (real drives
    /// exceed it; the refusal on attitude is `max_tilt_deg`).
    pub nominal_pitch_deg: f64,
    /// Nominal chassis roll, degrees: a caution, as `nominal_pitch_deg`.
    pub nominal_roll_deg: f64,
    /// Largest chassis tilt (angle of the body's up axis from vertical), degrees.
    pub max_tilt_deg: f64,
    /// Largest drop (or climb) of any wheel between two consecutive poses, metres.
    pub max_wheel_drop_m: f64,
    /// Smallest belly-pan clearance to the ground under it, metres.
    pub min_belly_clearance_m: f64,
}

/// The articulated rover of the digital twin: a 6-wheel rocker-bogie with a differential, the
/// optional `[kinematics]` table. Body frame x forward, y left, z up; positions `[x, y, z]` of
/// the left side (the right side mirrors y), heights above flat ground under the wheels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kinematics {
    /// Wheel radius, metres.
    pub wheel_radius_m: f64,
    /// Wheel width, metres (the contact patch is `2 * radius` long and this wide).
    pub wheel_width_m: f64,
    /// Front wheel centre (carried by the rocker).
    pub front_wheel: [f64; 3],
    /// Middle wheel centre (carried by the bogie).
    pub middle_wheel: [f64; 3],
    /// Rear wheel centre (carried by the bogie).
    pub rear_wheel: [f64; 3],
    /// Rocker pivot on the body.
    pub rocker_pivot: [f64; 3],
    /// Bogie pivot on the rocker.
    pub bogie_pivot: [f64; 3],
    /// Differential pivot on the body (vertical axis, y = 0).
    pub differential_pivot: [f64; 3],
    /// Height of the belly pan's lowest plane above flat ground, metres.
    pub belly_height_m: f64,
    /// Fore-aft extent of the belly pan, `[rear, front]` in body x, metres.
    pub belly_x_m: [f64; 2],
    /// Half-width of the belly pan, metres.
    pub belly_half_width_m: f64,
    /// Driving speed, metres per hour.
    pub drive_speed_m_per_h: f64,
    /// Turn-in-place rate, degrees per second.
    pub turn_rate_deg_per_s: f64,
    /// The sol's drive window, seconds.
    pub drive_window_s: f64,
    /// Vertical uncertainty of the DEM between nearby posts, metres (ACE-style bounds).
    pub dem_vertical_uncertainty_m: f64,
    /// Limits the twin enforces.
    pub limits: TwinLimits,
}

impl Kinematics {
    /// Checks that every number is finite and the geometry is a rocker-bogie.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let l = &self.limits;
        for (name, v) in [
            ("kinematics.wheel_radius_m", self.wheel_radius_m),
            ("kinematics.wheel_width_m", self.wheel_width_m),
            ("kinematics.belly_height_m", self.belly_height_m),
            ("kinematics.belly_half_width_m", self.belly_half_width_m),
            ("kinematics.drive_speed_m_per_h", self.drive_speed_m_per_h),
            ("kinematics.turn_rate_deg_per_s", self.turn_rate_deg_per_s),
            ("kinematics.drive_window_s", self.drive_window_s),
            ("kinematics.limits.max_bogie_deg", l.max_bogie_deg),
            ("kinematics.limits.max_differential_deg", l.max_differential_deg),
            ("kinematics.limits.nominal_pitch_deg", l.nominal_pitch_deg),
            ("kinematics.limits.nominal_roll_deg", l.nominal_roll_deg),
            ("kinematics.limits.max_tilt_deg", l.max_tilt_deg),
            ("kinematics.limits.max_wheel_drop_m", l.max_wheel_drop_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, got {v}"));
            }
        }
        for (name, v) in [
            ("kinematics.dem_vertical_uncertainty_m", self.dem_vertical_uncertainty_m),
            ("kinematics.limits.min_belly_clearance_m", l.min_belly_clearance_m),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be zero or positive, got {v}"));
            }
        }
        let parts = [
            ("front_wheel", self.front_wheel),
            ("middle_wheel", self.middle_wheel),
            ("rear_wheel", self.rear_wheel),
            ("rocker_pivot", self.rocker_pivot),
            ("bogie_pivot", self.bogie_pivot),
            ("differential_pivot", self.differential_pivot),
        ];
        for (name, p) in parts {
            if !p.iter().all(|v| v.is_finite()) {
                return Err(format!("kinematics.{name} must be three finite numbers"));
            }
        }
        let (f, m, r, b) = (self.front_wheel, self.middle_wheel, self.rear_wheel, self.bogie_pivot);
        if !(f[0] > b[0] && m[0] > r[0] && m[0] > b[0] - 1e-9 && b[0] > r[0]) {
            return Err("kinematics: need front wheel ahead of the bogie pivot, middle wheel ahead of it and rear wheel behind it".into());
        }
        let [x0, x1] = self.belly_x_m;
        if !(x0.is_finite() && x1.is_finite() && x0 < x1) {
            return Err(format!(
                "kinematics.belly_x_m must be [rear, front] with rear < front, got {x0}, {x1}"
            ));
        }
        Ok(())
    }
}

/// A rover profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoverProfile {
    /// Short name (`perseverance`).
    pub name: String,
    /// What this profile is and where its numbers come from.
    pub description: String,
    /// Body and wheels.
    pub dimensions: Dimensions,
    /// Footprint sampled under the rover.
    pub footprint: Footprint,
    /// Enforced limits.
    pub limits: Limits,
    /// Safety margins.
    pub margins: Margins,
    /// Weights of the planner's cost model (optional: defaults documented on [`CostWeights`]).
    #[serde(default)]
    pub costs: CostWeights,
    /// The articulated rover of the digital twin (optional: profiles written before the twin
    /// still load; the twin refuses a profile without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinematics: Option<Kinematics>,
    /// Source of each number, keyed by field (free text, kept for people).
    #[serde(default)]
    pub sources: toml::Table,
}

impl RoverProfile {
    /// Reads and validates a profile from a TOML file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolsError::Missing { path: path.to_path_buf() },
            _ => ToolsError::io(path, e),
        })?;
        let profile: RoverProfile = toml::from_str(&text).map_err(|e| ToolsError::Invalid {
            path: path.to_path_buf(),
            reason: crate::terrain::toml_error(&text, &e),
        })?;
        profile
            .validate()
            .map_err(|reason| ToolsError::Invalid { path: path.to_path_buf(), reason })?;
        Ok(profile)
    }

    /// Hazard buffer: half the rover width plus the hazard margin (ROVER.md: 1.85 m).
    #[must_use]
    pub fn hazard_buffer_m(&self) -> f64 {
        self.footprint.half_width_m + self.margins.hazard_margin_m
    }

    /// Checks that every number is finite and in a sensible range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("dimensions.length_m", self.dimensions.length_m),
            ("dimensions.width_m", self.dimensions.width_m),
            ("dimensions.wheel_diameter_m", self.dimensions.wheel_diameter_m),
            ("dimensions.belly_clearance_m", self.dimensions.belly_clearance_m),
            ("footprint.half_length_m", self.footprint.half_length_m),
            ("footprint.half_width_m", self.footprint.half_width_m),
            ("limits.max_step_m", self.limits.max_step_m),
            ("limits.max_belly_obstacle_m", self.limits.max_belly_obstacle_m),
            ("limits.max_waypoint_spacing_m", self.limits.max_waypoint_spacing_m),
            ("limits.drive_budget_m", self.limits.drive_budget_m),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, got {v}"));
            }
        }
        let non_negative = [
            ("margins.hazard_margin_m", self.margins.hazard_margin_m),
            ("margins.start_tolerance_m", self.margins.start_tolerance_m),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be zero or positive, got {v}"));
            }
        }
        for (name, v) in [
            ("limits.max_tilt_deg", self.limits.max_tilt_deg),
            ("limits.hard_tilt_deg", self.limits.hard_tilt_deg),
        ] {
            if !(v.is_finite() && v > 0.0 && v < 90.0) {
                return Err(format!("{name} must be between 0 and 90 degrees, got {v}"));
            }
        }
        let c = &self.costs;
        if !(c.base_per_m.is_finite() && c.base_per_m > 0.0) {
            return Err(format!(
                "costs.base_per_m must be a positive number, got {}",
                c.base_per_m
            ));
        }
        for (name, v, below) in [
            ("costs.slope_per_m", c.slope_per_m, f64::INFINITY),
            ("costs.step_per_m", c.step_per_m, f64::INFINITY),
            ("costs.belly_per_m", c.belly_per_m, f64::INFINITY),
            ("costs.crossable_hazard_per_m", c.crossable_hazard_per_m, f64::INFINITY),
            ("costs.tilt_margin_deg", c.tilt_margin_deg, self.limits.max_tilt_deg),
            ("costs.belly_margin_m", c.belly_margin_m, self.limits.max_belly_obstacle_m),
            ("costs.step_margin_m", c.step_margin_m, self.limits.max_step_m),
        ] {
            if !(v.is_finite() && v >= 0.0 && v < below) {
                return Err(format!(
                    "{name} must be zero or positive (and under its limit {below}), got {v}"
                ));
            }
        }
        if let Some(k) = &self.kinematics {
            k.validate()?;
        }
        if self.limits.max_tilt_deg > self.limits.hard_tilt_deg {
            return Err(format!(
                "limits.max_tilt_deg ({}) exceeds limits.hard_tilt_deg ({})",
                self.limits.max_tilt_deg, self.limits.hard_tilt_deg
            ));
        }
        Ok(())
    }
}
