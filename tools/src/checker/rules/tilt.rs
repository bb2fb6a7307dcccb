//! `tilt`: the rover never tilts more than the profile allows.
//!
//! **What it checks.** At every pose of the walk (every distinct set of DEM cells under the
//! footprint, see [`crate::checker::walk`]) the tilt of the least-squares plane through those
//! cells, `atan |gradient|`, is at most `limits.max_tilt_deg`. Tilt is the angle between the
//! rover's up axis and the vertical, whatever the heading; pitch (along the heading) and roll
//! (across it) at the worst pose are given in the message.
//!
//! **Why the rover cares.** The rocker-bogie survives 45° but drivers avoid more than 30°
//! (tip-over margin, slip, sensors). The plane under the whole 3 x 2.7 m body is what the six
//! wheels rest on; one 1 m DEM cell's slope both over- and under-states it.
//!
//! **Limit.** `limits.max_tilt_deg`, 25° for the Perseverance-like profile: the drivers' 30°
//! (ROVER.md N3) minus 5° for the error of a 1 m HiRISE DEM (H2). Real MSL drives reached
//! 21° (U1), which must pass: see the Gale calibration test.

use super::{terrain_rule, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "tilt";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "deg", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.profile.limits.max_tilt_deg;
    terrain_rule(
        ctx,
        &RULE,
        limit,
        |s| s.tilt,
        |e| {
            format!(
            "rover tilts {:.2}° (pitch {:.1}°, roll {:.1}°, heading {:.1}°) on the plane under \
             its footprint; limit {limit:.2}°",
            e.value, e.pitch_deg, e.roll_deg, e.pose.heading_deg
        )
        },
    )
}
