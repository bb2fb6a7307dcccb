//! `valid_data`: the rover only drives where the DEM knows the ground.
//!
//! **What it checks.** At every pose of the walk, every DEM cell under the footprint has an
//! elevation (no no-data cell, nothing off the raster), and there are at least three
//! non-collinear cells to fit the wheel plane (a DEM coarser than the rover cannot judge it).
//! The measured value is the number of unusable cells under the footprint at the worst pose.
//!
//! **Why the rover cares.** No-data is unknown terrain, not flat terrain: a gap in a HiRISE DTM
//! is often a shadow or a steep face where stereo matching failed. No other rule can vouch
//! for ground it cannot see, so the checker refuses to pass it. For `check --route` this rule
//! is the keep-in: the site's valid data.
//!
//! **Limit.** 0 unusable cells (no tolerance).

use super::{violation, Ctx, Rule, RuleOutcome};
use crate::checker::walk::UnknownReason;

/// Stable ID.
pub const ID: &str = "valid_data";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "cells", check };

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    let limit = 0.0;
    let mut violations = Vec::new();
    let mut worst: Option<f64> = ctx.terrain.map(|_| 0.0);
    for (seg, s) in ctx.walked() {
        let Some(e) = s.unknown else { continue };
        worst = Some(worst.map_or(e.value, |w| w.max(e.value)));
        let message = match e.unknown {
            Some(UnknownReason::TooFewCells) => format!(
                "only {} DEM cells under the footprint: the DEM is too coarse to judge the ground",
                e.cells
            ),
            _ => format!(
                "{} of the {} DEM cells under the footprint have no data (or lie off the map): \
                 unknown terrain",
                e.value, e.cells
            ),
        };
        violations.push(violation(&RULE, seg, (e.pose.x, e.pose.y), e.value, limit, message));
    }
    RuleOutcome { limit, worst, violations }
}
