//! `budget`: the drive fits in the sol's drive budget.
//!
//! **What it checks.** The length along the waypoints is at most the drive budget. The violation
//! is placed where the budget runs out.
//!
//! **Why the rover cares.** A sol has a fixed time and energy allotment for driving; a plan
//! longer than the budget ends somewhere nobody planned the rover to stop, with the remaining
//! path unvisited by the drivers' review.
//!
//! **Limit.** The sol's `drive_budget_m`; for `check --route`, the profile's
//! `limits.drive_budget_m` (300 m for the Perseverance-like profile: AI-planned sols of 210 and
//! 246 m, human sols of 217-260 m, record 411.7 m; ROVER.md A1, R2, N9).

use super::{exceeds, violation, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "budget";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.mission.drive_budget_m;
    let total = ctx.length_m;
    let mut violations = Vec::new();
    if exceeds(total, limit) {
        // Where the budget runs out: the first segment that takes the sum past it.
        let mut before = 0.0;
        let mut place = (None, ctx.points[ctx.points.len() - 1]);
        for (i, &len) in ctx.lengths.iter().enumerate() {
            if before + len > limit {
                let f = if len > 0.0 { ((limit - before) / len).clamp(0.0, 1.0) } else { 0.0 };
                let (a, b) = (ctx.points[i], ctx.points[i + 1]);
                place = (Some(i), (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1)));
                break;
            }
            before += len;
        }
        violations.push(violation(
            &RULE,
            place.0,
            place.1,
            total,
            limit,
            format!(
                "route is {total:.2} m long; the drive budget is {limit:.2} m (it runs out here)"
            ),
        ));
    }
    RuleOutcome { limit, worst: Some(total), violations }
}
