//! The safety checker: the deterministic judge of every plan, independent of any model and of
//! the planner's cost model. A plan passes only if no rule can find a fault with it.
//!
//! - [`plan`]: plan JSON (`{"waypoints": [{"x", "y"}, ...]}`) and GeoJSON routes.
//! - [`walk`]: the dense footprint walk, and why it cannot miss what a denser walk would find.
//! - [`rules`]: one file per rule, in the fixed order of [`rules::RULES`]: `start`, `goal`,
//!   `spacing`, `budget`, `tilt`, `step`, `clearance`, `keep_out`, `hazards`, `keep_in`,
//!   `valid_data`.
//! - [`verdict`]: the verdict JSON (deterministic, rounded, byte-identical across runs and
//!   thread counts).
//!
//! Inputs are a [`Mission`] (start, goal, zones and budget: from a sol, or from a route's own
//! ends), a [`RoverProfile`], an [`ElevationSource`] (a [`crate::terrain::Dem`] or an in-memory
//! grid) with the bundle's mapped hazards, and the waypoints.
//!
//! # Examples
//!
//! ```
//! use breadcrumb_tools::checker::{Checker, Mission, Plan};
//! use breadcrumb_tools::terrain::{GeoTransform, Grid, RoverProfile};
//!
//! let profile_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//!     .join("../fixtures/rovers/perseverance.toml");
//! let profile = RoverProfile::load(&profile_path).unwrap();
//! // A flat 100 m x 100 m site at 1 m.
//! let t = GeoTransform { x0: 0.0, y0: 100.0, dx: 1.0, dy: -1.0 };
//! let dem = Grid::filled(100, 100, -4000.0, t);
//! let checker = Checker::new(&dem, &[], &profile);
//! let plan = Plan::from_points(&[(10.0, 10.0), (60.0, 40.0), (90.0, 90.0)]);
//! let mission = Mission::for_route(&plan.points(), &profile);
//! let verdict = checker.check(&mission, &plan.points()).unwrap();
//! assert!(verdict.pass, "{}", verdict.to_json());
//! assert_eq!(verdict.summary.max_tilt_deg, Some(0.0));
//! ```

pub mod plan;
pub mod rules;
pub mod source;
pub mod verdict;
pub mod walk;

use std::path::Path;

use geo::Polygon;

pub use crate::geometry::Pt;
pub use plan::{Plan, RouteFeature, Waypoint};
pub use rules::{Rule, RuleOutcome, RULES};
pub use source::ElevationSource;
pub use verdict::{RuleSummary, Summary, Verdict, Violation, CHECKER_VERSION, RULE_SET_VERSION};

use self::rules::Ctx;
use self::verdict::MAX_LISTED_PER_RULE;
use self::walk::{walk_plan, Walker};
use crate::error::{Result, ToolsError};
use crate::geometry::{polygon_from_ring, Zone, ZoneIndex};
use crate::terrain::{Bundle, Hazard, LoadedSol, RoverProfile, Sol};

/// The terrain is not walked for a plan longer than this many drive budgets: it fails on
/// `budget` whatever the terrain, and walking kilometres would only make the answer slow.
pub const WALK_BUDGET_FACTOR: f64 = 4.0;

/// Plans within their budget but longer than this (a sol with an absurd budget) are refused
/// with an error rather than walked for minutes.
pub const MAX_WALK_M: f64 = 100_000.0;

/// What a plan must achieve and where it may go.
#[derive(Debug, Clone)]
pub struct Mission {
    /// The sol's id (or the route's label).
    pub label: String,
    /// Where the rover stands, map metres.
    pub start: Pt,
    /// Its heading there, when known (a sol gives it; a bare route does not).
    pub start_heading_deg: Option<f64>,
    /// Where the drive must end, map metres.
    pub goal: Pt,
    /// How close to `goal` the last waypoint must be, metres.
    pub goal_tolerance_m: f64,
    /// The polygon the rover must stay inside, if any.
    pub keep_in: Option<Polygon<f64>>,
    /// Named zones the rover must stay out of.
    pub keep_out: Vec<(String, Polygon<f64>)>,
    /// Maximum length of the drive, metres.
    pub drive_budget_m: f64,
}

impl Mission {
    /// The mission of a sol: its start pose, goal, keep-in, keep-outs and budget.
    #[must_use]
    pub fn from_sol(sol: &Sol) -> Self {
        Mission {
            label: sol.id.clone(),
            start: (sol.start.x, sol.start.y),
            start_heading_deg: Some(sol.start.heading_deg),
            goal: (sol.goal.x, sol.goal.y),
            goal_tolerance_m: sol.goal.tolerance_m,
            keep_in: Some(polygon_from_ring(&sol.keep_in)),
            keep_out: sol
                .keep_out
                .iter()
                .map(|k| (k.name.clone(), polygon_from_ring(&k.polygon)))
                .collect(),
            drive_budget_m: sol.drive_budget_m,
        }
    }

    /// The sol's area, map metres `(xmin, ymin, xmax, ymax)`: the keep-in's bounds (or start
    /// and goal with 150 m around them) plus 100 m, clipped to `extent` (the DEM's). `None`
    /// when that is empty. The area the tools index and classify for a sol, and the review
    /// page maps.
    #[must_use]
    pub fn sol_area(&self, extent: (f64, f64, f64, f64)) -> Option<(f64, f64, f64, f64)> {
        use geo::BoundingRect;
        let (x0, y0, x1, y1) = match self.keep_in.as_ref().and_then(BoundingRect::bounding_rect) {
            Some(b) => (b.min().x, b.min().y, b.max().x, b.max().y),
            None => (
                self.start.0.min(self.goal.0) - 150.0,
                self.start.1.min(self.goal.1) - 150.0,
                self.start.0.max(self.goal.0) + 150.0,
                self.start.1.max(self.goal.1) + 150.0,
            ),
        };
        let (ex0, ey0, ex1, ey1) = extent;
        let area = (
            (x0 - 100.0).max(ex0),
            (y0 - 100.0).max(ey0),
            (x1 + 100.0).min(ex1),
            (y1 + 100.0).min(ey1),
        );
        (area.0 < area.2 && area.1 < area.3).then_some(area)
    }

    /// The mission of a bare route (`check --route`): start at its first vertex (heading
    /// unknown: the rover starts facing along the first segment), goal at its last vertex, no
    /// keep-in polygon (the site's valid data is the keep-in, rule `valid_data`), no keep-out
    /// zones, and the profile's own drive budget. `points` must not be empty.
    #[must_use]
    pub fn for_route(points: &[Pt], profile: &RoverProfile) -> Self {
        let first = points.first().copied().unwrap_or((0.0, 0.0));
        let last = points.last().copied().unwrap_or(first);
        Mission {
            label: "route".into(),
            start: first,
            start_heading_deg: None,
            goal: last,
            goal_tolerance_m: profile.margins.start_tolerance_m.max(1e-3),
            keep_in: None,
            keep_out: Vec::new(),
            drive_budget_m: profile.limits.drive_budget_m,
        }
    }
}

/// The safety checker for one site and one rover.
pub struct Checker<'a> {
    source: &'a dyn ElevationSource,
    profile: &'a RoverProfile,
    hazards: HazardIndex<'a>,
}

/// The checker's R-tree of blocking hazards: its own, or one built once and shared (a
/// [`crate::api::Toolbox`] keeps one for every check of its sol).
enum HazardIndex<'a> {
    Own(ZoneIndex),
    Shared(&'a ZoneIndex),
    /// Shared by reference count: a toolbox whose index grows with a model's marks hands each
    /// checker the index of the moment, which later marks do not change under it.
    Counted(std::sync::Arc<ZoneIndex>),
}

impl HazardIndex<'_> {
    fn get(&self) -> &ZoneIndex {
        match self {
            HazardIndex::Own(index) => index,
            HazardIndex::Shared(index) => index,
            HazardIndex::Counted(index) => index,
        }
    }
}

/// The R-tree of the mapped `hazards` a checker tests routes against: only the classes that
/// [`rules::hazards::blocks`], one zone per polygon. Building it is the costly part of making
/// a checker, so code that checks many routes of one site builds it once
/// ([`Checker::with_hazard_index`]).
#[must_use]
pub fn blocking_hazards(hazards: &[Hazard]) -> ZoneIndex {
    let zones = hazards
        .iter()
        .filter(|h| rules::hazards::blocks(h.class))
        .flat_map(|h| {
            h.shape.0.iter().map(move |p| Zone {
                label: format!("{} #{}", h.class.as_str(), h.index),
                polygon: p.clone(),
            })
        })
        .collect();
    ZoneIndex::new(zones)
}

impl std::fmt::Debug for Checker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("rover", &self.profile.name)
            .field("hazards", &self.hazards.get().zones().len())
            .finish_non_exhaustive()
    }
}

impl<'a> Checker<'a> {
    /// A checker of plans over `source`, with the site's mapped `hazards` (only the classes
    /// that [`rules::hazards::blocks`] are kept), for the rover `profile`.
    #[must_use]
    pub fn new(
        source: &'a dyn ElevationSource,
        hazards: &[Hazard],
        profile: &'a RoverProfile,
    ) -> Self {
        Checker { source, profile, hazards: HazardIndex::Own(blocking_hazards(hazards)) }
    }

    /// A checker over `source` for `profile` with the [`blocking_hazards`] index built
    /// already: making it costs nothing, so a loop may make one per submission.
    #[must_use]
    pub fn with_hazard_index(
        source: &'a dyn ElevationSource,
        hazards: &'a ZoneIndex,
        profile: &'a RoverProfile,
    ) -> Self {
        Checker { source, profile, hazards: HazardIndex::Shared(hazards) }
    }

    /// Like [`Checker::with_hazard_index`] with an index held by reference count (a
    /// [`crate::api::Toolbox`]'s site hazards plus the model's blocking marks).
    #[must_use]
    pub fn with_counted_index(
        source: &'a dyn ElevationSource,
        hazards: std::sync::Arc<ZoneIndex>,
        profile: &'a RoverProfile,
    ) -> Self {
        Checker { source, profile, hazards: HazardIndex::Counted(hazards) }
    }

    /// The index of blocking hazards it checks against.
    #[must_use]
    pub fn hazard_index(&self) -> &ZoneIndex {
        self.hazards.get()
    }

    /// Checks waypoints `points` against `mission`. An error (not a verdict) for an empty plan,
    /// a non-finite coordinate, an invalid profile, a DEM the footprint cannot be walked on, a
    /// plan longer than [`MAX_WALK_M`] within its budget, or a failing DEM read.
    pub fn check(&self, mission: &Mission, points: &[Pt]) -> Result<Verdict> {
        self.profile.validate().map_err(|e| {
            ToolsError::Argument(format!("rover profile {}: {e}", self.profile.name))
        })?;
        if points.is_empty() {
            return Err(ToolsError::Argument("plan has no waypoints".into()));
        }
        if let Some((i, p)) =
            points.iter().enumerate().find(|(_, p)| !(p.0.is_finite() && p.1.is_finite()))
        {
            return Err(ToolsError::Argument(format!(
                "waypoint {i} ({}, {}) is not a finite map coordinate",
                p.0, p.1
            )));
        }
        check_mission(mission)?;
        let lengths: Vec<f64> =
            points.windows(2).map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1)).collect();
        let length_m: f64 = lengths.iter().sum();
        let budget = mission.drive_budget_m;
        let (terrain, note) = if rules::exceeds(length_m, WALK_BUDGET_FACTOR * budget) {
            let note = format!(
                "terrain not walked: the route ({length_m:.1} m) is more than {WALK_BUDGET_FACTOR} \
                 times the drive budget ({budget:.1} m) and fails on `budget` whatever the terrain"
            );
            (None, Some(note))
        } else if length_m > MAX_WALK_M {
            return Err(ToolsError::Argument(format!(
                "route of {length_m:.0} m is longer than the checker walks ({MAX_WALK_M} m)"
            )));
        } else {
            let walker = Walker::new(
                self.source,
                self.profile.footprint.half_length_m,
                self.profile.footprint.half_width_m,
            )?;
            (Some(walk_plan(&walker, points, mission.start_heading_deg)?), None)
        };
        let keep_out = ZoneIndex::new(
            mission
                .keep_out
                .iter()
                .map(|(name, p)| Zone { label: format!("keep-out \"{name}\""), polygon: p.clone() })
                .collect(),
        );
        let ctx = Ctx {
            points,
            lengths: &lengths,
            length_m,
            mission,
            profile: self.profile,
            terrain: terrain.as_ref(),
            hazards: self.hazards.get(),
            keep_out: &keep_out,
        };
        let outcomes: Vec<(Rule, RuleOutcome)> =
            RULES.iter().map(|r| (*r, (r.check)(&ctx))).collect();
        Ok(assemble(&ctx, &outcomes, terrain.as_ref(), note))
    }

    /// Checks a parsed plan (see [`Checker::check`]).
    pub fn check_plan(&self, mission: &Mission, plan: &Plan) -> Result<Verdict> {
        self.check(mission, &plan.points())
    }
}

fn check_mission(m: &Mission) -> Result<()> {
    let nums = [m.start.0, m.start.1, m.goal.0, m.goal.1];
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let ok = nums.iter().all(|v| v.is_finite())
        && positive(m.goal_tolerance_m)
        && positive(m.drive_budget_m)
        && m.start_heading_deg.is_none_or(f64::is_finite);
    if !ok {
        return Err(ToolsError::Argument(format!(
            "mission {}: start, goal, tolerance and budget must be finite and positive",
            m.label
        )));
    }
    Ok(())
}

fn assemble(
    ctx: &Ctx<'_>,
    outcomes: &[(Rule, RuleOutcome)],
    terrain: Option<&walk::PlanTerrain>,
    note: Option<String>,
) -> Verdict {
    let mut rules_out = Vec::with_capacity(outcomes.len());
    let mut violations = Vec::new();
    for (rule, o) in outcomes {
        rules_out.push(RuleSummary {
            rule: rule.id.to_owned(),
            unit: rule.unit.to_owned(),
            limit: o.limit,
            worst: o.worst,
            violations: o.violations.len(),
        });
        let mut vs = o.violations.clone();
        // Stable: segment order (plan-level `None` first), walk order within a segment.
        vs.sort_by_key(|v| v.segment.map_or(0, |s| s + 1));
        vs.truncate(MAX_LISTED_PER_RULE);
        violations.extend(vs);
    }
    let worst = |id: &str| outcomes.iter().find(|(r, _)| r.id == id).and_then(|(_, o)| o.worst);
    let summary = Summary {
        waypoints: ctx.points.len(),
        segments: ctx.lengths.len(),
        length_m: ctx.length_m,
        drive_budget_m: ctx.mission.drive_budget_m,
        terrain_walked: terrain.is_some(),
        terrain_note: note,
        poses_evaluated: terrain.map_or(0, walk::PlanTerrain::poses),
        max_tilt_deg: worst(rules::tilt::ID),
        max_step_m: worst(rules::step::ID),
        max_belly_obstacle_m: worst(rules::clearance::ID),
        min_hazard_clearance_m: worst(rules::hazards::ID),
        min_keep_out_clearance_m: worst(rules::keep_out::ID),
        min_keep_in_margin_m: worst(rules::keep_in::ID),
    };
    Verdict {
        pass: rules_out.iter().all(|r| r.violations == 0),
        rule_set_version: RULE_SET_VERSION.to_owned(),
        checker_version: CHECKER_VERSION.to_owned(),
        sol: ctx.mission.label.clone(),
        rover: ctx.profile.name.clone(),
        summary,
        rules: rules_out,
        violations,
    }
}

/// Checks `plan` against a loaded sol: opens its bundle and rover profile, then
/// [`Checker::check`].
pub fn check_sol(sol: &LoadedSol, plan: &Plan) -> Result<Verdict> {
    let bundle = Bundle::open(&sol.bundle_dir)?;
    let profile = RoverProfile::load(&sol.rover_path)?;
    check_sol_on(&bundle, &profile, &sol.sol, plan)
}

/// [`check_sol`] with the sol's bundle and rover profile already open (a caller that also
/// drives the plan in the twin opens them once).
pub fn check_sol_on(
    bundle: &Bundle,
    profile: &RoverProfile,
    sol: &crate::terrain::Sol,
    plan: &Plan,
) -> Result<Verdict> {
    let checker = Checker::new(&bundle.dem, &bundle.hazards, profile);
    checker.check(&Mission::from_sol(sol), &plan.points())
}

/// Like [`check_sol_on`] with a run's hazard marks enforced as well (its
/// `hazards.model.geojson`): the site's blocking hazards, then the blocking marks, as the
/// run's own checks had them. Marks only add refusals.
pub fn check_sol_with_marks(
    bundle: &Bundle,
    profile: &RoverProfile,
    sol: &crate::terrain::Sol,
    plan: &Plan,
    marks: &[crate::perception::Mark],
) -> Result<Verdict> {
    let index =
        crate::perception::marks_file::index_with_marks(&blocking_hazards(&bundle.hazards), marks);
    let checker = Checker::with_hazard_index(&bundle.dem, &index, profile);
    checker.check(&Mission::from_sol(sol), &plan.points())
}

/// Resolves a rover name to a profile file: an existing path is used as is; otherwise `NAME`
/// is looked up as `<fixtures>/rovers/NAME.toml`.
#[must_use]
pub fn rover_path(name: &str, fixtures: &Path) -> std::path::PathBuf {
    let p = Path::new(name);
    if p.is_file() {
        return p.to_path_buf();
    }
    fixtures.join("rovers").join(format!("{name}.toml"))
}
