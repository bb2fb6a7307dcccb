//! `keep_out`: the route stays clear of the sol's keep-out zones.
//!
//! **What it checks.** The distance from the rover's centre path (every segment, exactly) to
//! each keep-out polygon of the sol is at least the hazard buffer: half the rover width plus
//! the hazard margin. Entering a zone is distance 0.
//!
//! **Why the rover cares.** Keep-out zones are where drivers have decided the rover must not go
//! (routine since MER, ROVER.md M1): hazards seen in rover images, sites to preserve, terrain
//! the orbital DEM cannot judge. The buffer keeps the body's side, not just its centre, out.
//! During a turn in place the wheels sweep a circle of radius
//! `hypot(wheelbase/2 + wheel Ø/2, track/2 + wheel width/2) = hypot(1.36, 1.25) ≈ 1.85 m`,
//! which the same buffer covers; the body corners (2.02 m) pass over the zone's edge at
//! belly height.
//!
//! **Limit.** `hazard_buffer_m()` = `footprint.half_width_m + margins.hazard_margin_m`,
//! 1.35 + 0.5 = 1.85 m for the Perseverance-like profile (0.5 m = 2 HiRISE pixels, ours).

use super::{zone_rule, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "keep_out";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    zone_rule(ctx, &RULE, ctx.keep_out, ctx.profile.hazard_buffer_m(), "keep-out zones")
}
