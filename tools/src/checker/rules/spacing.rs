//! `spacing`: consecutive waypoints are at most the profile's maximum spacing apart.
//!
//! **What it checks.** Every segment's length is at most `limits.max_waypoint_spacing_m`.
//!
//! **Why the rover cares.** Between breadcrumbs the rover drives on its own (AutoNav), re-planning
//! only inside the drivers' keep-in zones from a 30 x 30 m onboard map; waypoints far apart
//! hand it stretches nobody has looked at closely, and a long straight segment on an orbital
//! DEM is where an unseen hazard hides.
//!
//! **Limit.** `limits.max_waypoint_spacing_m`, 100 m for the Perseverance-like profile: drivers
//! lay breadcrumbs "usually ≤ 100 m apart" (ROVER.md A1).

use super::{exceeds, violation, Ctx, Rule, RuleOutcome};

/// Stable ID.
pub const ID: &str = "spacing";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.profile.limits.max_waypoint_spacing_m;
    let mut violations = Vec::new();
    let mut worst: Option<f64> = None;
    for (i, &len) in ctx.lengths.iter().enumerate() {
        worst = Some(worst.map_or(len, |w| w.max(len)));
        if exceeds(len, limit) {
            violations.push(violation(
                &RULE,
                Some(i),
                ctx.points[i + 1],
                len,
                limit,
                format!(
                    "waypoints {i} and {} are {len:.2} m apart; at most {limit:.2} m (add a \
                     waypoint between them)",
                    i + 1
                ),
            ));
        }
    }
    RuleOutcome { limit, worst, violations }
}
