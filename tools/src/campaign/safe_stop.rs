//! Safe stops: where a sol may end and the rover spend the night.
//!
//! A sol's drive ends wherever the rover will sit until the next uplink (a sol or a weekend),
//! and the next sol starts with a turn in place there. What we require (ours; the reasons are
//! in `docs/campaign.md`):
//!
//! - **Low tilt at every heading** (at most [`SafeStopRules::max_tilt_deg`], 15° by default,
//!   and never more than the planner's own tilt threshold): the next sol's first move is a turn
//!   in place of any angle, and a parked rover must not creep: wheel slip on Mars grows
//!   quickly past 15-20° on loose ground (ROVER.md 3), and arm and mast work at the end of a
//!   drive want a level deck.
//! - **Known, steppable ground under the footprint at every heading**: no DEM no-data, no step
//!   or belly obstacle over the profile's limits (the same measures as the checker, through
//!   its own footprint walk).
//! - **Clear of every blocking hazard, sand included**, by the rover's hazard buffer plus
//!   [`SafeStopRules::extra_clearance_m`]: a rover parked next to a ripple field or a rock
//!   has no room to turn away from it, and sand is where rovers have been stuck overnight
//!   (Spirit at Troy, Opportunity at Purgatory).
//!
//! The judge ([`StopJudge::judge`]) is the checker's footprint walk turned a full circle on the point;
//! [`StopJudge::find_near`] searches a grid of candidates around a target, nearest first, for the
//! campaign to pick each sol's goal.

use serde::{Deserialize, Serialize};

use crate::checker::walk::{Ground, Pose, PoseSink, Walker};
use crate::checker::{ElevationSource, Pt};
use crate::error::Result;
use crate::geometry::ZoneIndex;
use crate::terrain::RoverProfile;

/// What a safe stop needs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SafeStopRules {
    /// Largest tilt at any heading, degrees.
    pub max_tilt_deg: f64,
    /// Largest step under the footprint, metres.
    pub max_step_m: f64,
    /// Largest ground height under the body, metres.
    pub max_belly_m: f64,
    /// Least distance from any blocking hazard (mapped or marked), metres.
    pub hazard_clearance_m: f64,
    /// Clearance beyond the hazard buffer, metres.
    pub extra_clearance_m: f64,
}

impl SafeStopRules {
    /// The rules for `profile`: 15° or the planner's tilt threshold, whichever is lower; the
    /// profile's step and belly limits less the planner's margins; the hazard buffer plus 1 m.
    #[must_use]
    pub fn for_profile(profile: &RoverProfile) -> Self {
        let lim = &profile.limits;
        let m = &profile.costs;
        let extra = 1.0;
        SafeStopRules {
            max_tilt_deg: 15f64.min(lim.max_tilt_deg - m.tilt_margin_deg),
            max_step_m: lim.max_step_m - m.step_margin_m,
            max_belly_m: lim.max_belly_obstacle_m - m.belly_margin_m,
            hazard_clearance_m: profile.hazard_buffer_m() + extra,
            extra_clearance_m: extra,
        }
    }

    /// The same rules tightened: `tilt_deg` less tilt, `clearance_m` more hazard clearance,
    /// steps and belly obstacles at most `share` of their limits. Candidates are chosen with
    /// such margins so that a route ending anywhere within its goal tolerance (the planner's
    /// cells are a metre apart) still stops safely, and so that the ground around the stop is
    /// open enough for the planner to arrive on it and leave it along any axis.
    #[must_use]
    pub fn tightened(self, tilt_deg: f64, clearance_m: f64, share: f64) -> Self {
        SafeStopRules {
            max_tilt_deg: self.max_tilt_deg - tilt_deg,
            max_step_m: self.max_step_m * share,
            max_belly_m: self.max_belly_m * share,
            hazard_clearance_m: self.hazard_clearance_m + clearance_m,
            ..self
        }
    }
}

/// The judgement of one stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopVerdict {
    /// Where, map metres.
    pub at: Pt,
    /// Whether every rule holds.
    pub safe: bool,
    /// Largest tilt at any heading, degrees (`None`: unknown ground).
    pub max_tilt_deg: Option<f64>,
    /// Largest step, metres.
    pub max_step_m: Option<f64>,
    /// Largest ground height under the body, metres.
    pub max_belly_m: Option<f64>,
    /// Distance to the nearest blocking hazard within reach (`None`: none within 50 m).
    pub nearest_hazard_m: Option<f64>,
    /// The rules that fail, in words (empty when safe).
    pub failures: Vec<String>,
}

/// The worst ground over every pose of a turn.
#[derive(Default)]
struct Worst {
    tilt: f64,
    step: f64,
    belly: f64,
    unknown: bool,
    poses: usize,
}

impl PoseSink for Worst {
    fn pose(&mut self, _: Pose, ground: &Ground, _: &crate::checker::walk::CellList<'_>) {
        self.poses += 1;
        match ground {
            Ground::Known { tilt_deg, step_m, belly_m, .. } => {
                self.tilt = self.tilt.max(*tilt_deg);
                self.step = self.step.max(*step_m);
                self.belly = self.belly.max(*belly_m);
            }
            Ground::Unknown { .. } => self.unknown = true,
        }
    }
}

/// What a stop is judged against: the terrain, the blocking hazards (mapped, and marked), the
/// rover and the rules.
#[derive(Clone, Copy)]
pub struct StopJudge<'a> {
    /// Elevations.
    pub source: &'a dyn ElevationSource,
    /// Blocking hazards.
    pub hazards: &'a ZoneIndex,
    /// The rover.
    pub profile: &'a RoverProfile,
    /// The rules.
    pub rules: SafeStopRules,
}

impl std::fmt::Debug for StopJudge<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopJudge").field("rules", &self.rules).finish_non_exhaustive()
    }
}

impl StopJudge<'_> {
    /// Judges a stop at `at` (see the module docs): the footprint turned a full circle there,
    /// and the distance to the nearest hazard.
    pub fn judge(&self, at: Pt) -> Result<StopVerdict> {
        let rules = &self.rules;
        let fp = &self.profile.footprint;
        let walker = Walker::new(self.source, fp.half_length_m, fp.half_width_m)?;
        let mut w = Worst::default();
        walker.turn(at, 0.0, 180.0, &mut w)?;
        walker.turn(at, 180.0, 360.0, &mut w)?;
        let nearest = self
            .hazards
            .near(at, at, 50.0)
            .iter()
            .map(|h| h.nearest.distance)
            .min_by(f64::total_cmp);
        let mut failures = Vec::new();
        let known = !w.unknown && w.poses > 0;
        if known {
            if w.tilt > rules.max_tilt_deg {
                failures.push(format!("tilts {:.1}° (at most {:.1}°)", w.tilt, rules.max_tilt_deg));
            }
            if w.step > rules.max_step_m {
                failures
                    .push(format!("a {:.2} m step (at most {:.2} m)", w.step, rules.max_step_m));
            }
            if w.belly > rules.max_belly_m {
                failures.push(format!(
                    "{:.2} m of ground under the body (at most {:.2} m)",
                    w.belly, rules.max_belly_m
                ));
            }
        } else {
            failures.push("the ground under the rover is not known at every heading".to_owned());
        }
        if let Some(d) = nearest.filter(|&d| d < rules.hazard_clearance_m) {
            failures.push(format!(
                "{d:.2} m from a hazard (at least {:.2} m)",
                rules.hazard_clearance_m
            ));
        }
        Ok(StopVerdict {
            at,
            safe: failures.is_empty(),
            max_tilt_deg: known.then_some(w.tilt),
            max_step_m: known.then_some(w.step),
            max_belly_m: known.then_some(w.belly),
            nearest_hazard_m: nearest,
            failures,
        })
    }

    /// The safe stop nearest `target` among the points of a `spacing_m` grid centred on it
    /// within `radius_m` for which `allowed` holds (e.g. inside the sol's keep-in); ties
    /// broken by position, so the answer is deterministic. `None` when no candidate is safe.
    pub fn find_near(
        &self,
        target: Pt,
        radius_m: f64,
        spacing_m: f64,
        allowed: impl Fn(Pt) -> bool,
    ) -> Result<Option<StopVerdict>> {
        if !(spacing_m > 0.0 && radius_m >= 0.0 && radius_m / spacing_m < 1000.0) {
            return Err(crate::error::ToolsError::Argument(format!(
                "safe-stop search of {radius_m} m at {spacing_m} m spacing"
            )));
        }
        let n = (radius_m / spacing_m).floor() as i64;
        let mut cands: Vec<(f64, i64, i64)> = Vec::new();
        for j in -n..=n {
            for i in -n..=n {
                let d = (i as f64 * spacing_m).hypot(j as f64 * spacing_m);
                if d <= radius_m + 1e-9 {
                    cands.push((d, j, i));
                }
            }
        }
        cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, j, i) in cands {
            let p = (target.0 + i as f64 * spacing_m, target.1 + j as f64 * spacing_m);
            if !allowed(p) {
                continue;
            }
            let v = self.judge(p)?;
            if v.safe {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }
}
