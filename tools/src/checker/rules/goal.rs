//! `goal`: the last waypoint reaches the goal.
//!
//! **What it checks.** The distance from the final waypoint to the sol's goal is at most the
//! goal's `tolerance_m`.
//!
//! **Why the rover cares.** A drive that stops short leaves the sol's science target (or the
//! next sol's starting point) unreached; it is not a failure of safety but of the plan.
//!
//! **Limit.** The sol's `goal.tolerance_m` (set per sol by the planner of the sol). For a
//! route checked with `check --route` the goal is the route's own last vertex.

use super::{exceeds, violation, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "goal";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let ((gx, gy), limit) = (ctx.mission.goal, ctx.mission.goal_tolerance_m);
    let p = ctx.points[ctx.points.len() - 1];
    let d = (p.0 - gx).hypot(p.1 - gy);
    let mut violations = Vec::new();
    if exceeds(d, limit) {
        violations.push(violation(
            &RULE,
            ctx.segment_or_none(ctx.points.len().saturating_sub(2)),
            p,
            d,
            limit,
            format!(
                "last waypoint is {d:.2} m from the goal ({gx:.3}, {gy:.3}); it must be within \
                 {limit:.2} m"
            ),
        ));
    }
    RuleOutcome { limit, worst: Some(d), violations }
}
