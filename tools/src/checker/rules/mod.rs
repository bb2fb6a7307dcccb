//! The rules, one per file (as ruff keeps its rules), each with a stable `ID`, a doc comment
//! saying what it checks, why the rover cares and where its limit comes from, and a `check`
//! function. [`RULES`] fixes their order, which is the order of violations in a verdict.

pub mod budget;
pub mod clearance;
pub mod goal;
pub mod hazards;
pub mod keep_in;
pub mod keep_out;
pub mod spacing;
pub mod start;
pub mod step;
pub mod tilt;
pub mod valid_data;

use super::verdict::Violation;
use super::walk::{Extreme, PlanTerrain, SegmentTerrain};
use super::Mission;
use crate::geometry::{Pt, ZoneIndex};
use crate::terrain::RoverProfile;

/// Everything a rule may look at.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The plan's waypoints, map metres (all finite, at least one).
    pub points: &'a [Pt],
    /// Length of each segment, metres.
    pub lengths: &'a [f64],
    /// Sum of `lengths`.
    pub length_m: f64,
    /// Start, goal, zones and budget.
    pub mission: &'a Mission,
    /// The rover's dimensions and limits.
    pub profile: &'a RoverProfile,
    /// The walked terrain; `None` when the walk was skipped (plan far over budget).
    pub terrain: Option<&'a PlanTerrain>,
    /// Mapped hazards that block the rover.
    pub hazards: &'a ZoneIndex,
    /// The sol's keep-out zones.
    pub keep_out: &'a ZoneIndex,
}

impl Ctx<'_> {
    /// Segment index for a violation at waypoint `i`'s segment, `None` for a plan with no
    /// segments.
    #[must_use]
    pub fn segment_or_none(&self, i: usize) -> Option<usize> {
        (!self.lengths.is_empty()).then(|| i.min(self.lengths.len() - 1))
    }

    /// The stretches a zone rule looks at: every segment `(Some(i), a, b)`, or for a plan
    /// with one waypoint the point itself `(None, p, p)`.
    #[must_use]
    pub fn stretches(&self) -> Vec<(Option<usize>, Pt, Pt)> {
        if self.points.len() < 2 {
            return vec![(None, self.points[0], self.points[0])];
        }
        self.points.windows(2).enumerate().map(|(i, w)| (Some(i), w[0], w[1])).collect()
    }

    /// The walked terrain per stretch: `(Some(i), segment)` for every segment, then
    /// `(None, standing)` for a plan that never moves. Empty when the terrain was not walked.
    #[must_use]
    pub fn walked(&self) -> Vec<(Option<usize>, &SegmentTerrain)> {
        let Some(t) = self.terrain else { return Vec::new() };
        let mut v: Vec<_> = t.segments.iter().enumerate().map(|(i, s)| (Some(i), s)).collect();
        if let Some(s) = &t.standing {
            v.push((None, s));
        }
        v
    }
}

/// What a rule found over the whole plan.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    /// The limit it enforced.
    pub limit: f64,
    /// The worst value measured (largest for upper limits, smallest for clearances).
    pub worst: Option<f64>,
    /// One violation per segment at most, in segment order.
    pub violations: Vec<Violation>,
}

/// A rule: its stable ID, the unit of its values, and its check.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable ID, used in verdicts.
    pub id: &'static str,
    /// Unit of measured values and limits.
    pub unit: &'static str,
    /// Runs the rule.
    pub check: fn(&Ctx<'_>) -> RuleOutcome,
}

/// Every rule, in verdict order: plan-level rules first, then terrain under the footprint,
/// then zones, then data coverage.
pub const RULES: [Rule; 11] = [
    start::RULE,
    goal::RULE,
    spacing::RULE,
    budget::RULE,
    tilt::RULE,
    step::RULE,
    clearance::RULE,
    keep_out::RULE,
    hazards::RULE,
    keep_in::RULE,
    valid_data::RULE,
];

/// Whether `value` breaks an upper `limit` (NaN always does).
#[must_use]
pub fn exceeds(value: f64, limit: f64) -> bool {
    value > limit || value.is_nan()
}

/// Builds a violation (helper shared by the rules).
#[must_use]
pub fn violation(
    rule: &Rule,
    segment: Option<usize>,
    at: Pt,
    measured: f64,
    limit: f64,
    message: String,
) -> Violation {
    Violation {
        rule: rule.id.to_owned(),
        segment,
        x: at.0,
        y: at.1,
        measured,
        limit,
        unit: rule.unit.to_owned(),
        message,
    }
}

/// A terrain rule's common shape: the worst of one measure per walked segment, a violation
/// where it exceeds `limit`.
pub(crate) fn terrain_rule(
    ctx: &Ctx<'_>,
    rule: &Rule,
    limit: f64,
    pick: impl Fn(&SegmentTerrain) -> Option<Extreme>,
    message: impl Fn(&Extreme) -> String,
) -> RuleOutcome {
    let mut worst: Option<f64> = None;
    let mut violations = Vec::new();
    for (seg, s) in ctx.walked() {
        let Some(e) = pick(s) else { continue };
        worst = Some(worst.map_or(e.value, |w| w.max(e.value)));
        if e.value > limit {
            violations.push(violation(
                rule,
                seg,
                (e.pose.x, e.pose.y),
                e.value,
                limit,
                message(&e),
            ));
        }
    }
    RuleOutcome { limit, worst, violations }
}

/// How far beyond the buffer zone rules look for the summary's nearest clearance, metres.
pub const CLEARANCE_SEARCH_M: f64 = 50.0;

/// The shared logic of `keep_out` and `hazards`: a violation on every stretch whose centre path
/// comes closer than `buffer` to a zone (the closest one is reported), and the smallest
/// clearance within [`CLEARANCE_SEARCH_M`].
pub(crate) fn zone_rule(
    ctx: &Ctx<'_>,
    rule: &Rule,
    index: &ZoneIndex,
    buffer: f64,
    what: &str,
) -> RuleOutcome {
    let mut worst: Option<f64> = None;
    let mut violations = Vec::new();
    if index.is_empty() {
        return RuleOutcome { limit: buffer, worst, violations };
    }
    for (seg, a, b) in ctx.stretches() {
        let hits = index.near(a, b, buffer + CLEARANCE_SEARCH_M);
        let Some(best) = hits.iter().copied().reduce(|x, y| {
            if y.nearest.distance < x.nearest.distance {
                y
            } else {
                x
            }
        }) else {
            continue;
        };
        worst = Some(worst.map_or(best.nearest.distance, |w| w.min(best.nearest.distance)));
        if best.nearest.distance < buffer {
            let others = hits.iter().filter(|h| h.nearest.distance < buffer).count() - 1;
            let at = best.nearest.point(a, b);
            let zone = &index.zones()[best.zone].label;
            let more =
                if others > 0 { format!(" (and {others} more {what})") } else { String::new() };
            let message = if best.nearest.distance == 0.0 {
                format!("route enters {zone}{more}; stay {buffer:.2} m from it")
            } else {
                format!(
                    "route passes {:.2} m from {zone}{more}; needs {buffer:.2} m (half the rover \
                     width plus margin)",
                    best.nearest.distance
                )
            };
            violations.push(violation(rule, seg, at, best.nearest.distance, buffer, message));
        }
    }
    RuleOutcome { limit: buffer, worst, violations }
}
