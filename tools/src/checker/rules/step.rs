//! `step`: no wheel climbs or drops more than the profile's step height.
//!
//! **What it checks.** At every pose of the walk, for every pair of 8-adjacent DEM cells both
//! under the footprint, the elevation difference *with the local slope taken out*
//! ([`crate::checker::walk::pair_step`]: the pair's difference minus the median of the four
//! neighbouring differences along the same grid line) is at most `limits.max_step_m`. A rock
//! or a ledge of height `h` measures `h` on any slope; a smooth slope measures 0 and is left
//! to the `tilt` rule.
//!
//! **Why the rover cares.** A wheel dropping off or climbing a ledge higher than about its
//! radius can damage the suspension or strand the rover; AutoNav itself refuses wheel drops
//! over 0.35 m. Measuring raw adjacent differences instead would reject every smooth slope
//! above ~19° on a 1 m DEM (0.35 m per cell), although real drives reach 21°; measuring against
//! the plane fitted under the footprint would let a 0.5 m ledge pass as 0.3 m (the plane tilts
//! to absorb it). See `pair_step` for both cases.
//!
//! **Limit.** `limits.max_step_m`, 0.35 m for the Perseverance-like profile: AutoNav's
//! wheel-drop limit (ROVER.md N7), 0.05 m under NASA's 0.40 m climbable rock (N2).

use super::{terrain_rule, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "step";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.profile.limits.max_step_m;
    terrain_rule(
        ctx,
        &RULE,
        limit,
        |s| s.step,
        |e| {
            format!(
                "a {:.2} m step (rock or ledge, local slope removed) under the footprint; wheels \
             may climb or drop at most {limit:.2} m",
                e.value
            )
        },
    )
}
