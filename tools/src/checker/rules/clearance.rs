//! `clearance`: nothing under the body stands higher than the belly can clear.
//!
//! **What it checks.** At every pose of the walk, the largest height of a DEM cell under the
//! footprint above the least-squares plane through those cells (the plane the wheels rest on,
//! the same one the `tilt` rule uses; `Roughness::above_plane_m` in the analysis module) is at
//! most `limits.max_belly_obstacle_m`.
//!
//! **Why the rover cares.** The belly pan sits about 0.6 m above the wheel plane; a rock or a
//! ripple crest under the body higher than that high-centres the rover (and scrapes the
//! instruments mounted underneath). Wheel-sized rocks are the `step` rule's; this rule catches
//! broad humps (a megaripple crest between the wheels) that have no single sharp step.
//!
//! **Limit.** `limits.max_belly_obstacle_m`, 0.50 m for the Perseverance-like profile: MSL's
//! ≈0.60 m belly clearance (ROVER.md N6) minus a 0.10 m margin (ours).

use super::{terrain_rule, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "clearance";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.profile.limits.max_belly_obstacle_m;
    terrain_rule(
        ctx,
        &RULE,
        limit,
        |s| s.belly,
        |e| {
            format!(
            "ground stands {:.2} m above the wheel plane under the body; belly clearance allows \
             {limit:.2} m",
            e.value
        )
        },
    )
}
