//! `start`: the first waypoint is where the rover is.
//!
//! **What it checks.** The distance from the first waypoint to the sol's start position is at
//! most the profile's `margins.start_tolerance_m`.
//!
//! **Why the rover cares.** A plan is a sequence of drive commands from where the rover stands;
//! a plan starting elsewhere describes a drive the rover cannot begin, and every other rule
//! would have judged the wrong ground.
//!
//! **Limit.** `margins.start_tolerance_m`, 1.0 m for the Perseverance-like profile (ours:
//! a metre is one DEM post, well within where the rover localises itself).

use super::{exceeds, violation, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "start";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.profile.margins.start_tolerance_m;
    let p = ctx.points[0];
    let s = ctx.mission.start;
    let d = (p.0 - s.0).hypot(p.1 - s.1);
    let mut violations = Vec::new();
    if exceeds(d, limit) {
        violations.push(violation(
            &RULE,
            ctx.segment_or_none(0),
            p,
            d,
            limit,
            format!(
                "first waypoint is {d:.2} m from the rover's start ({:.3}, {:.3}); it must be \
                 within {limit:.2} m",
                s.0, s.1
            ),
        ));
    }
    RuleOutcome { limit, worst: Some(d), violations }
}
