//! `hazards`: the route stays clear of mapped hazards that block the rover.
//!
//! **What it checks.** The distance from the rover's centre path to every mapped hazard polygon
//! of a blocking class (see [`blocks`]) is at least the hazard buffer, as for keep-out zones.
//!
//! **Why the rover cares.** Mapped hazards are what orbital imagery shows and the DEM may
//! miss: rocks smaller than a DEM post, ripple fields whose sand the DEM sees as smooth.
//!
//! Which classes block (our decision):
//! - `rock`, `boulder_field`, `scarp`, `crater`: the rover must not drive into them.
//! - `sand_ripple`: blocks. Since 2014 MSL routes avoid ripple fields (ROVER.md N12);
//!   megaripple crossings sank wheels by up to ~30% of their diameter with up to 77% slip
//!   (E8). Their geometry can look benign to a 1 m DEM; the danger is the sand.
//! - `unknown`: blocks; a mapped but unclassified hazard is treated as the worst case.
//! - `outcrop`: allowed. Bedrock is the firm ground rovers drive on every sol (the Jezero rim
//!   drives of ROVER.md A1 cross it); its real dangers are geometric (ledges, steep faces),
//!   which the `step`, `tilt` and `clearance` rules judge from the DEM, and sharp-rock wear
//!   (N12), which is a route-cost matter for the planner rather than a safety refusal.
//!
//! **Limit.** `hazard_buffer_m()`, 1.85 m for the Perseverance-like profile (see `keep_out`).

use super::{zone_rule, Ctx, Rule, RuleOutcome};
use crate::terrain::HazardClass;

/// Stable ID.
pub const ID: &str = "hazards";

/// The rule.
pub const RULE: Rule = Rule { id: ID, unit: "m", check };

/// Whether a mapped hazard of class `class` blocks the rover (see the module docs).
#[must_use]
pub fn blocks(class: HazardClass) -> bool {
    match class {
        HazardClass::Rock
        | HazardClass::BoulderField
        | HazardClass::SandRipple
        | HazardClass::Scarp
        | HazardClass::Crater
        | HazardClass::Unknown => true,
        HazardClass::Outcrop => false,
    }
}

/// Runs the rule.
#[must_use]
pub fn check(ctx: &Ctx<'_>) -> RuleOutcome {
    zone_rule(ctx, &RULE, ctx.hazards, ctx.profile.hazard_buffer_m(), "hazards")
}
