//! `keep_in`: the rover's body stays inside the sol's keep-in polygon.
//!
//! **What it checks.** The rover's centre path, widened by half the rover width on each side,
//! lies inside the keep-in polygon: every segment is inside and at least
//! `footprint.half_width_m` from the boundary. The measured value is the smallest distance
//! from the centre path to the boundary (negative outside).
//!
//! **Why the rover cares.** Keep-in zones are the corridors drivers have reviewed; between
//! breadcrumbs AutoNav re-plans only inside them (ROVER.md A2). A plan that leaves its keep-in
//! drives ground nobody reviewed.
//!
//! **Limit.** `footprint.half_width_m`, 1.35 m (half the 2.7 m body width, ROVER.md N1). A sol
//! without a keep-in (`check --route`) has this rule pass trivially; the site's valid data is
//! the keep-in there (rule `valid_data`).

use super::{violation, Ctx, Rule, RuleOutcome};
use crate::geometry::segment_inside_clearance;

/// Stable ID.
pub const ID: &str = "keep_in";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = ctx.profile.footprint.half_width_m;
    let mut violations = Vec::new();
    let mut worst: Option<f64> = None;
    let Some(poly) = &ctx.mission.keep_in else {
        return RuleOutcome { limit, worst, violations };
    };
    for (seg, a, b) in ctx.stretches() {
        let n = segment_inside_clearance(a, b, poly);
        worst = Some(worst.map_or(n.distance, |w| w.min(n.distance)));
        if n.distance < limit {
            let message = if n.distance < 0.0 {
                format!("route leaves the keep-in zone by {:.2} m", -n.distance)
            } else if n.distance == 0.0 {
                "route crosses the keep-in boundary".to_owned()
            } else {
                format!(
                    "rover's side reaches {:.2} m past the keep-in boundary (centre path {:.2} m \
                     inside it, half-width {limit:.2} m)",
                    limit - n.distance,
                    n.distance
                )
            };
            violations.push(violation(&RULE, seg, n.point(a, b), n.distance, limit, message));
        }
    }
    RuleOutcome { limit, worst, violations }
}
