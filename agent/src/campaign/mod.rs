//! Campaigns: kilometres over many sols. The strategic route comes first
//! ([`breadcrumb_tools::campaign::coarse_route`], from the DEM's overviews); then, sol after
//! sol, the campaign picks a safe stop about a sol's budget along it, writes a sol (start: the
//! last sol's end pose; goal: the stop; keep-in: a corridor around the route's stretch) and
//! runs the normal loop on it (the model, the tools, the safety checker, the digital twin),
//! exactly as `breadcrumb propose` would. An accepted sol whose end pose is a safe stop hands
//! over to the next; anything else stops the campaign with the reason.
//!
//! Everything is written under the campaign's directory: `campaign.json` (rewritten after every
//! sol), `campaign.geojson`, `overview.png`, and `sols/sol-NN.toml` with its run dossier
//! `sols/sol-NN/`. Running again on the same directory resumes at the first sol not accepted;
//! a dossier left half-written by a crash is kept aside as `sol-NN.interrupted-K`.

mod record;
mod strategic;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use breadcrumb_tools::api::{Site, Toolbox};
use breadcrumb_tools::campaign::legs::{corridor, point_at, project, slice};
use breadcrumb_tools::campaign::overview::{render_overview, SolTrace};
use breadcrumb_tools::campaign::{coarse_route, SafeStopRules, StopJudge, StopVerdict};
use breadcrumb_tools::checker::walk::heading_of;
use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::terrain::{LoadedSol, RoverProfile, Sol};
use breadcrumb_tools::ToolsError;

pub use record::{write_atomic, CampaignRecord, CampaignSpec, SolRecord, SolStatus, Summary};
pub use strategic::{
    StrategicAttempt, StrategicRecord, StrategicSettings,
    DEFAULT_ATTEMPTS as DEFAULT_STRATEGIC_ATTEMPTS,
};

use crate::models::{build_provider, ModelEntry, OfflineContext};
use crate::prompt::PromptSet;
use crate::session::{RunReport, RunStatus, Session, SessionConfig};
use crate::transcript::RunWriter;

/// What can stop a campaign before or between sols (a sol's own refusal is not an error: it
/// is recorded, and the campaign stops with exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// Terrain, rover or planning.
    #[error(transparent)]
    Tools(#[from] ToolsError),
    /// The loop of one sol.
    #[error(transparent)]
    Agent(#[from] Box<crate::AgentError>),
    /// A file could not be read or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// Bad input or a state that cannot go on, in a sentence.
    #[error("{0}")]
    Bad(String),
    /// The terrain answers no: no safe stop within a sol's reach or at the goal.
    #[error("{0}")]
    NoSafeStop(String),
}

impl CampaignError {
    /// Whether this is the terrain's answer (the goal cannot be reached, or not in sols that
    /// end safely) rather than bad input or a failure: the CLI exits 1 for it, not 2.
    #[must_use]
    pub fn is_negative_answer(&self) -> bool {
        matches!(
            self,
            CampaignError::NoSafeStop(_)
                | CampaignError::Tools(
                    ToolsError::OffMap { .. } | ToolsError::NoStrategicRoute { .. }
                )
        )
    }
}

impl CampaignError {
    fn io(path: &Path, e: &std::io::Error) -> Self {
        CampaignError::Io { path: path.to_path_buf(), detail: e.to_string() }
    }
}

/// How each sol's loop runs: the model, its prompt and its run settings.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// The model entry.
    pub entry: ModelEntry,
    /// The prompt set.
    pub prompt: PromptSet,
    /// Budgets, revisions, retries.
    pub config: SessionConfig,
    /// Pixel side of the tiles the model sees.
    pub tile_px: u32,
}

/// A campaign's progress, for status lines.
pub type ProgressFn = Box<dyn Fn(&str) + Send + Sync>;

/// A campaign being run.
pub struct Campaign {
    dir: PathBuf,
    record: CampaignRecord,
    /// The site, opened once and shared by every sol's toolbox.
    site: Site,
    profile: RoverProfile,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Campaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Campaign").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// How far a sol's safe stop may lie from its target on the strategic route, metres, and the
/// spacing of the candidates searched.
const STOP_SEARCH_M: (f64, f64) = (20.0, 2.0);
/// The attempts at one sol: the share of the usual advance along the route, and of the usual
/// corridor width. A sol the loop refuses (often a rock field the coarse grid could not see)
/// is tried again towards a nearer stop in a wider corridor.
const ATTEMPTS: [(f64, f64); 3] = [(1.0, 1.0), (0.6, 1.5), (0.35, 2.0)];
/// Times the strategic route is planned again around the stops a sol could not reach.
const MAX_REPLANS: usize = 2;
/// Radius of the discs along a leg no sol could drive that the new strategic route avoids,
/// metres.
const AVOID_M: f64 = 20.0;
/// The first metres of such a leg stay open (the rover stands there).
const AVOID_FROM_M: f64 = 30.0;
/// The detour planned at full resolution when no sol could follow the strategic route may be
/// this many sol budgets long (it sets the size of its cost grid: 600 m square for 300 m).
const DETOUR_BUDGETS: f64 = 2.0;
/// The smallest sol budget, metres.
pub const MIN_SOL_BUDGET_M: f64 = 20.0;
/// Goal tolerance of an intermediate sol, metres: the route must end within it of the stop.
const STOP_TOLERANCE_M: f64 = 2.0;

impl Campaign {
    /// Opens (or resumes) the campaign in `dir` for `spec`: plans the strategic route unless
    /// `dir` holds a campaign already, which must have been asked the same.
    pub fn open(dir: &Path, spec: CampaignSpec) -> Result<Campaign, CampaignError> {
        validate(&spec)?;
        std::fs::create_dir_all(dir.join("sols")).map_err(|e| CampaignError::io(dir, &e))?;
        let site = Site::open(&spec.site)?;
        let profile = RoverProfile::load(&spec.rover)?;
        let rules = SafeStopRules::for_profile(&profile);
        let record = match CampaignRecord::load(dir)? {
            // The same campaign: everything asked but how many sols it may use.
            Some(old) if CampaignSpec { max_sols: spec.max_sols, ..old.spec.clone() } == spec => {
                CampaignRecord { spec, ..old }
            }
            Some(_) => {
                return Err(CampaignError::Bad(format!(
                    "{} holds another campaign (its campaign.json asked something else): give \
                     another --out, or delete it to start again",
                    dir.display()
                )))
            }
            None => {
                let (s, g) = ((spec.start[0], spec.start[1]), (spec.goal[0], spec.goal[1]));
                let strategic = coarse_route(
                    site.bundle(),
                    &profile,
                    s,
                    g,
                    spec.goal_tolerance_m,
                    spec.coarse_cell_m,
                    &[],
                )?;
                let mut r = CampaignRecord {
                    version: 1,
                    spec,
                    safe_stop_rules: rules,
                    strategic,
                    strategic_source: "coarse-planner".into(),
                    strategic_model: None,
                    earlier_strategic: Vec::new(),
                    sols: Vec::new(),
                    summary: Summary::default(),
                };
                r.summarise("running", "the strategic route is planned");
                r.save(dir)?;
                r
            }
        };
        Ok(Campaign { dir: dir.to_path_buf(), record, site, profile, progress: None })
    }

    /// Reports progress lines to `f`.
    #[must_use]
    pub fn with_progress(mut self, f: ProgressFn) -> Self {
        self.progress = Some(f);
        self
    }

    /// The record so far.
    #[must_use]
    pub fn record(&self) -> &CampaignRecord {
        &self.record
    }

    fn say(&self, msg: &str) {
        if let Some(f) = &self.progress {
            f(msg);
        }
    }

    /// Runs sols until the goal is reached, a sol fails, or `max_sols` is reached; then writes
    /// the overview picture. Returns the final record.
    pub async fn run(&mut self, settings: &LoopSettings) -> Result<&CampaignRecord, CampaignError> {
        // Resume: keep the accepted sols; a failed last sol is run again.
        while self.record.sols.last().is_some_and(|s| s.status != SolStatus::Accepted) {
            self.record.sols.pop();
        }
        let spec = self.record.spec.clone();
        let goal = (spec.goal[0], spec.goal[1]);
        // Before any driving: can the campaign end safely at all?
        self.goal_stop()?;
        let outcome = loop {
            let here = self.record.sols.last().and_then(|s| s.end).unwrap_or(spec.start);
            let at = (here[0], here[1]);
            if dist(at, goal) <= spec.goal_tolerance_m {
                break (
                    "reached",
                    format!("the goal is reached after {} sols", self.record.sols.len()),
                );
            }
            if self.record.sols.len() >= spec.max_sols {
                break (
                    "stopped",
                    format!(
                        "{} sols used (--max-sols) and the goal is {:.0} m away",
                        spec.max_sols,
                        dist(at, goal)
                    ),
                );
            }
            let number = self.record.sols.len() + 1;
            let mut earlier = Vec::new();
            let mut avoid = Vec::new();
            let mut sol_rec = None;
            for replan in 0..=MAX_REPLANS {
                // First a detour at full resolution (the coarse grid cannot see a rock field
                // that walls a stop off), then the coarse route around the refused stretch.
                let detour = if replan == 1 { self.fine_detour(here, &mut earlier)? } else { None };
                if let Some(msg) = detour {
                    self.say(&format!("sol {number}: {msg}"));
                } else if replan > 0 {
                    match self.replan(at, &avoid) {
                        Ok(()) => self.say(&format!(
                            "sol {number}: the strategic route is planned again from here, around \
                             the stops no sol reached ({:.2} km)",
                            self.record.strategic.length_m / 1000.0
                        )),
                        Err(e) if e.is_negative_answer() => {
                            earlier.push(format!("no detour at coarse scale: {e}"));
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
                let (rec, stops) =
                    self.attempt_sol(number, replan, here, settings, &mut earlier).await?;
                let done = rec.status == SolStatus::Accepted;
                sol_rec = Some(rec);
                if done {
                    break;
                }
                // Never around the goal itself: a detour must still end there.
                let goal_zone = spec.goal_tolerance_m + AVOID_M;
                avoid.extend(stops.into_iter().filter(|(p, _)| dist(*p, goal) > goal_zone));
            }
            let Some(mut sol_rec) = sol_rec else {
                return Err(CampaignError::Bad("no attempt was made".into()));
            };
            // Every refused attempt but the one this record is.
            let own = attempt_line(&sol_rec);
            earlier.retain(|e| *e != own);
            sol_rec.earlier_attempts = earlier;
            let accepted = sol_rec.status == SolStatus::Accepted;
            let reason = sol_rec.reason.clone();
            self.say(&format!("sol {number}: {:?}: {reason}", sol_rec.status));
            self.record.sols.push(sol_rec);
            self.record.summarise("running", &format!("sol {number} done"));
            self.record.save(&self.dir)?;
            if !accepted {
                break ("stopped", format!("sol {number} was not accepted: {reason}"));
            }
        };
        self.record.summarise(outcome.0, &outcome.1);
        self.record.save(&self.dir)?;
        self.write_overview()?;
        Ok(&self.record)
    }

    /// Tries sol `number` towards nearer stops in wider corridors ([`ATTEMPTS`]) until one is
    /// accepted; returns the last attempt's record and the discs covering the refused legs. Each
    /// refused attempt is added to `earlier` ([`attempt_line`]).
    async fn attempt_sol(
        &mut self,
        number: usize,
        replan: usize,
        here: [f64; 3],
        settings: &LoopSettings,
        earlier: &mut Vec<String>,
    ) -> Result<(SolRecord, Vec<(Pt, f64)>), CampaignError> {
        let at = (here[0], here[1]);
        let rules = self.record.safe_stop_rules;
        let mut stops = Vec::new();
        let mut last = None;
        for (k, &(reach, width)) in ATTEMPTS.iter().enumerate() {
            let leg = match self.next_leg(at, rules, reach, width) {
                Ok(l) => l,
                // A later attempt finding no stop ends the retries with the last refusal.
                Err(e) if last.is_some() && matches!(e, CampaignError::NoSafeStop(_)) => break,
                Err(e) => return Err(e),
            };
            let id = format!(
                "sol-{number:02}{}{}",
                if replan > 0 { format!("-r{replan}") } else { String::new() },
                if k > 0 { format!("-{}", k + 1) } else { String::new() }
            );
            self.say(&format!(
                "{id}: from ({:.0}, {:.0}) to a safe stop at ({:.0}, {:.0}), {:.0} m away",
                at.0,
                at.1,
                leg.stop.at.0,
                leg.stop.at.1,
                dist(at, leg.stop.at)
            ));
            let avoid = leg.avoid();
            let rec = self.run_sol(number, &id, here, leg, settings).await?;
            if rec.status == SolStatus::Accepted {
                return Ok((rec, stops));
            }
            self.say(&format!("{id}: {:?}: {}", rec.status, rec.reason));
            earlier.push(attempt_line(&rec));
            stops.extend(avoid);
            last = Some(rec);
        }
        let Some(last) = last else {
            return Err(CampaignError::Bad(format!("sol {number}: no attempt was made")));
        };
        Ok((last, stops))
    }

    /// Plans the strategic route again from `at`, around `avoid`; the old one is kept in
    /// [`CampaignRecord::earlier_strategic`].
    fn replan(&mut self, at: Pt, avoid: &[(Pt, f64)]) -> Result<(), CampaignError> {
        let spec = &self.record.spec;
        let route = coarse_route(
            self.site.bundle(),
            &self.profile,
            at,
            (spec.goal[0], spec.goal[1]),
            spec.goal_tolerance_m,
            spec.coarse_cell_m,
            avoid,
        )?;
        let old = std::mem::replace(&mut self.record.strategic, route);
        self.record.earlier_strategic.push(old);
        self.record.strategic_source = "coarse-planner".into();
        self.record.save(&self.dir)
    }

    /// A detour from `here` planned at full resolution (the cost model and the checker, as a
    /// sol is planned, with a box of [`DETOUR_BUDGETS`] sol budgets): towards the goal when it
    /// is that near, else towards the point a sol's advance along the strategic route. Where
    /// one exists, the strategic route becomes the detour followed by the rest of the old
    /// route, and the next sols stop along it; the old route is kept in
    /// [`CampaignRecord::earlier_strategic`]. `None` (with the planner's reason added to
    /// `earlier`) when there is none.
    fn fine_detour(
        &mut self,
        here: [f64; 3],
        earlier: &mut Vec<String>,
    ) -> Result<Option<String>, CampaignError> {
        use breadcrumb_tools::planner::{plan_mission, PlanOutcome, PlannerOptions};
        let spec = self.record.spec.clone();
        let at = (here[0], here[1]);
        let goal = (spec.goal[0], spec.goal[1]);
        let budget = DETOUR_BUDGETS * spec.sol_budget_m;
        let old = &self.record.strategic;
        let s0 = project(&old.route, at);
        let (target, tolerance, s_target) = if dist(at, goal) <= 0.5 * budget {
            (goal, spec.goal_tolerance_m, old.length_m)
        } else {
            let s1 = (s0 + spec.advance * spec.sol_budget_m).min(old.length_m);
            (point_at(&old.route, s1), STOP_TOLERANCE_M, s1)
        };
        let mission = breadcrumb_tools::checker::Mission {
            label: "campaign detour".into(),
            start: at,
            start_heading_deg: Some(here[2]),
            goal: target,
            goal_tolerance_m: tolerance,
            keep_in: None,
            keep_out: Vec::new(),
            drive_budget_m: budget,
        };
        let bundle = self.site.bundle();
        let outcome = plan_mission(
            &bundle.dem,
            &bundle.hazards,
            &self.profile,
            &mission,
            &PlannerOptions::default(),
        )?;
        let detour = match outcome {
            PlanOutcome::Route(r) => r,
            PlanOutcome::NoSafeRoute { reason, .. } => {
                earlier.push(format!("no detour at full resolution: {reason}"));
                return Ok(None);
            }
        };
        let mut route = detour.waypoints.clone();
        route.extend(slice(&old.route, s_target, old.length_m).into_iter().skip(1));
        route.dedup();
        let length_m = breadcrumb_tools::geometry::polyline_length(&route);
        let new = breadcrumb_tools::campaign::CoarseRoute { route, length_m, ..old.clone() };
        let old = std::mem::replace(&mut self.record.strategic, new);
        self.record.earlier_strategic.push(old);
        self.record.save(&self.dir)?;
        Ok(Some(format!(
            "a detour of {:.0} m planned at full resolution to ({:.0}, {:.0}); the strategic \
             route goes on from there",
            detour.length_m, target.0, target.1
        )))
    }

    /// The next sol's goal: a safe stop about `advance * sol_budget` along the strategic route
    /// from `at` (or near the goal when that is closer), searched back along the route until one
    /// is found.
    fn next_leg(
        &self,
        at: Pt,
        rules: SafeStopRules,
        reach_share: f64,
        width_share: f64,
    ) -> Result<Leg, CampaignError> {
        let spec = &self.record.spec;
        let route = &self.record.strategic.route;
        let total = self.record.strategic.length_m;
        let s0 = project(route, at);
        let reach = spec.advance * spec.sol_budget_m * reach_share;
        let width = spec.corridor_m * width_share;
        let goal = (spec.goal[0], spec.goal[1]);
        let judge = self.judge(candidate_rules(rules));
        // The last sol drives to the goal; a retry of it (a shorter reach) stops on the way
        // instead, so a goal beyond a detour longer than one sol's budget is reached in two.
        if reach_share >= 1.0 && total - s0 <= reach && dist(at, goal) <= reach {
            let stop = self.goal_stop()?;
            let keep = slice(route, s0, total);
            return Ok(Leg::new(at, stop, &keep, width));
        }
        // Back along the route in steps of the stop search's diameter, down to a quarter of
        // the budget: a sol shorter than that would not be worth a sol.
        let mut s1 = (s0 + reach).min(total);
        let floor = s0 + 0.25 * spec.sol_budget_m;
        while s1 >= floor {
            let target = self.snap(point_at(route, s1));
            let keep = slice(route, s0, s1);
            let ring = corridor(&[&keep[..], &[at]].concat(), width);
            let poly = polygon(&ring);
            let inside = |p: Pt| {
                use geo::Contains;
                dist(p, at) <= reach && poly.contains(&geo::Point::new(p.0, p.1))
            };
            if let Some(stop) = judge.find_near(target, STOP_SEARCH_M.0, STOP_SEARCH_M.1, inside)? {
                return Ok(Leg::new(at, stop, &keep, width));
            }
            s1 -= 2.0 * STOP_SEARCH_M.0;
        }
        Err(CampaignError::NoSafeStop(format!(
            "no safe stop within reach of ({:.1}, {:.1}) along the strategic route: a sol budget \
             of {:.0} m reaches no ground where the rover may stop (low tilt, clear of hazards and \
             sand); give a larger --sol-budget-m",
            at.0, at.1, spec.sol_budget_m
        )))
    }

    /// The safe stop nearest the goal within its tolerance (less the sol's own), or why there is
    /// none.
    fn goal_stop(&self) -> Result<StopVerdict, CampaignError> {
        let spec = &self.record.spec;
        let goal = (spec.goal[0], spec.goal[1]);
        let judge = self.judge(candidate_rules(self.record.safe_stop_rules));
        let radius = (spec.goal_tolerance_m - STOP_TOLERANCE_M).max(0.0);
        judge.find_near(goal, radius, 0.5, |_| true)?.ok_or_else(|| {
            CampaignError::NoSafeStop(format!(
                "no safe stop within {:.1} m of the goal ({:.1}, {:.1}): the rover could drive \
                 there but not stop there (low tilt at every heading, clear of hazards and \
                 sand); widen --goal-tolerance-m or move the goal",
                spec.goal_tolerance_m, goal.0, goal.1
            ))
        })
    }

    /// The safe-stop judge of this site and rover under `rules`.
    fn judge(&self, rules: SafeStopRules) -> StopJudge<'_> {
        StopJudge {
            source: &self.site.bundle().dem,
            hazards: self.site.blocking_hazards(),
            profile: &self.profile,
            rules,
        }
    }

    /// The centre of the DEM cell holding `p`: the planner's routes run through cell centres,
    /// so a stop there is a cell it can end on.
    fn snap(&self, p: Pt) -> Pt {
        let t = self.site.bundle().dem.transform();
        let (c, r) = t.to_cell(p.0, p.1);
        t.cell_center(c.floor() as i64, r.floor() as i64)
    }

    /// Writes the sol's TOML, runs the loop on it and judges where it ended.
    async fn run_sol(
        &self,
        number: usize,
        id: &str,
        start: [f64; 3],
        leg: Leg,
        settings: &LoopSettings,
    ) -> Result<SolRecord, CampaignError> {
        let spec = &self.record.spec;
        let id = id.to_owned();
        let sols_dir = self.dir.join("sols");
        let sol = Sol {
            id: id.clone(),
            bundle: spec.site.clone(),
            rover: spec.rover.clone(),
            drive_budget_m: spec.sol_budget_m,
            start: breadcrumb_tools::terrain::sol::Start {
                x: start[0],
                y: start[1],
                heading_deg: start[2],
            },
            goal: breadcrumb_tools::terrain::sol::Goal {
                x: leg.stop.at.0,
                y: leg.stop.at.1,
                tolerance_m: STOP_TOLERANCE_M,
            },
            keep_in: leg.keep_in.clone(),
            keep_out: Vec::new(),
            reference_route: Vec::new(),
            notes: format!(
                "campaign sol {number}: from the last end pose to a safe stop on the strategic \
                 route"
            ),
        };
        let sol_path = sols_dir.join(format!("{id}.toml"));
        let text = toml::to_string_pretty(&sol)
            .map_err(|e| CampaignError::Bad(format!("sol {id}: {e}")))?;
        write_atomic(&sol_path, text.as_bytes())?;
        let loaded = Sol::load(&sol_path)?;
        set_aside(&sols_dir, &id)?;
        let report = run_loop(&self.site, &loaded, &sols_dir, &id, settings).await?;
        Ok(self.sol_record(number, &id, start, leg.stop, &report))
    }

    fn sol_record(
        &self,
        number: usize,
        id: &str,
        start: [f64; 3],
        planned: StopVerdict,
        r: &RunReport,
    ) -> SolRecord {
        let waypoints = r.waypoints.clone().unwrap_or_default();
        let mut status = match r.status {
            RunStatus::Accepted => SolStatus::Accepted,
            RunStatus::Rejected => SolStatus::Rejected,
            RunStatus::Error => SolStatus::Error,
        };
        let mut reason = r.reason.clone();
        let (mut end, mut end_stop) = (None, None);
        if status == SolStatus::Accepted {
            let last = waypoints.last().copied().unwrap_or((start[0], start[1]));
            let heading = waypoints
                .windows(2)
                .rev()
                .find(|w| dist(w[0], w[1]) > 1e-6)
                .map_or(start[2], |w| heading_of(w[0], w[1]));
            end = Some([last.0, last.1, heading]);
            let judge = self.judge(self.record.safe_stop_rules);
            match judge.judge(last) {
                Ok(v) => {
                    if !v.safe {
                        status = SolStatus::UnsafeStop;
                        reason = format!("the end pose is no safe stop: {}", v.failures.join("; "));
                    }
                    end_stop = Some(v);
                }
                Err(e) => {
                    status = SolStatus::UnsafeStop;
                    reason = format!("the end pose could not be judged: {e}");
                }
            }
        }
        SolRecord {
            number,
            id: id.to_owned(),
            status,
            reason,
            start,
            planned_stop: planned,
            end,
            end_stop,
            length_m: r.verdict.as_ref().map(|v| v.summary.length_m),
            drive_s: r.twin.as_ref().map(|t| t.summary.duration_s),
            drive_window_s: r.twin.as_ref().map(|t| t.summary.drive_window_s),
            checker_pass: r.verdict.as_ref().map(|v| v.pass),
            twin_pass: r.twin.as_ref().map(|t| t.pass),
            waypoints,
            submits: r.submits,
            accepted_first_submit: r.accepted_first_submit,
            tokens: r.totals.input_tokens + r.totals.output_tokens,
            cost_usd: r.totals.cost_usd,
            elapsed_s: r.elapsed_s,
            run_dir: PathBuf::from("sols").join(id),
            earlier_attempts: Vec::new(),
        }
    }

    /// Draws `overview.png`.
    fn write_overview(&self) -> Result<(), CampaignError> {
        let r = &self.record;
        let sols: Vec<SolTrace> = r
            .sols
            .iter()
            .map(|s| SolTrace {
                number: s.number,
                waypoints: s.waypoints.clone(),
                accepted: s.status == SolStatus::Accepted,
            })
            .collect();
        let img = render_overview(
            self.site.bundle(),
            &r.strategic.route,
            &sols,
            (r.spec.start[0], r.spec.start[1]),
            (r.spec.goal[0], r.spec.goal[1]),
            1536,
        )?;
        let png = breadcrumb_tools::tiles::encode_png(&img)?;
        write_atomic(&self.dir.join("overview.png"), &png)
    }
}

/// One sol's goal and corridor.
struct Leg {
    stop: StopVerdict,
    keep_in: Vec<[f64; 2]>,
    /// The stretch of the strategic route it follows.
    route: Vec<Pt>,
}

impl Leg {
    fn new(at: Pt, stop: StopVerdict, route: &[Pt], half_width_m: f64) -> Leg {
        let mut pts = route.to_vec();
        pts.extend([at, stop.at]);
        Leg { keep_in: corridor(&pts, half_width_m), stop, route: route.to_vec() }
    }

    /// Discs covering the leg's stretch of the strategic route past its first
    /// [`AVOID_FROM_M`] and up to its stop: where a new strategic route must not go again
    /// when no sol could drive this one (the rover's own ground stays open).
    fn avoid(&self) -> Vec<(Pt, f64)> {
        let mut pts = self.route.clone();
        pts.push(self.stop.at);
        let len = breadcrumb_tools::geometry::polyline_length(&pts);
        let mut out = Vec::new();
        let mut s = AVOID_FROM_M;
        while s <= len {
            out.push((point_at(&pts, s), AVOID_M));
            s += AVOID_M;
        }
        out.push((self.stop.at, AVOID_M));
        out
    }
}

/// The rules a sol's planned stop is chosen by: the nominal ones with margins (3° of tilt, the
/// sol's goal tolerance of clearance, steps and belly at 0.7 of their limits), so that where
/// the fine route actually ends, within [`STOP_TOLERANCE_M`] of it, still passes the nominal
/// rules.
fn candidate_rules(rules: SafeStopRules) -> SafeStopRules {
    rules.tightened(3.0, STOP_TOLERANCE_M, 0.7)
}

/// How a refused attempt is listed in [`SolRecord::earlier_attempts`]: its run directory and
/// its reason (run directories are unique per attempt).
fn attempt_line(r: &SolRecord) -> String {
    format!("{}: {}", r.run_dir.display(), r.reason)
}

fn dist(a: Pt, b: Pt) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

fn polygon(ring: &[[f64; 2]]) -> geo::Polygon<f64> {
    geo::Polygon::new(
        geo::LineString::from(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()),
        vec![],
    )
}

/// Moves a dossier left by an interrupted run of sol `id` aside (never deletes it).
fn set_aside(sols_dir: &Path, id: &str) -> Result<(), CampaignError> {
    let dir = sols_dir.join(id);
    if !dir.exists() {
        return Ok(());
    }
    let mut k = 1;
    let mut to = sols_dir.join(format!("{id}.interrupted-{k}"));
    while to.exists() {
        k += 1;
        to = sols_dir.join(format!("{id}.interrupted-{k}"));
    }
    std::fs::rename(&dir, &to).map_err(|e| CampaignError::io(&dir, &e))
}

/// Runs the normal loop on one sol, as `breadcrumb propose` does.
async fn run_loop(
    site: &Site,
    sol: &LoadedSol,
    runs_dir: &Path,
    id: &str,
    s: &LoopSettings,
) -> Result<RunReport, CampaignError> {
    let agent = |e: crate::AgentError| CampaignError::Agent(Box::new(e));
    let toolbox = Arc::new(Toolbox::on_site(sol, site)?.with_tile_px(s.tile_px));
    let offline =
        OfflineContext { toolbox: Some(Arc::clone(&toolbox)), ..OfflineContext::new(sol) };
    let provider = build_provider(&s.entry, &offline).map_err(agent)?;
    let writer = RunWriter::create(runs_dir, id).map_err(|e| agent(e.into()))?;
    let session =
        Session::with_toolbox(sol, toolbox, provider, s.prompt.clone(), s.config.clone(), writer);
    session.run().await.map_err(|e| agent(e.into()))
}

fn validate(spec: &CampaignSpec) -> Result<(), CampaignError> {
    let finite = spec.start.iter().chain(&spec.goal).all(|v| v.is_finite());
    if !finite {
        return Err(CampaignError::Bad("--start and --goal must be finite numbers".into()));
    }
    let positive = [
        ("--sol-budget-m", spec.sol_budget_m),
        ("--goal-tolerance-m", spec.goal_tolerance_m),
        ("--coarse-cell-m", spec.coarse_cell_m),
        ("--corridor-m", spec.corridor_m),
    ];
    for (name, v) in positive {
        if !(v.is_finite() && v > 0.0) {
            return Err(CampaignError::Bad(format!("{name} must be a positive number, not {v}")));
        }
    }
    if spec.sol_budget_m < MIN_SOL_BUDGET_M {
        return Err(CampaignError::Bad(format!(
            "--sol-budget-m {} is too small for a sol to reach a safe stop: a sol needs at least \
             {MIN_SOL_BUDGET_M} m (a turn and a few rover lengths)",
            spec.sol_budget_m
        )));
    }
    if !(spec.advance > 0.0 && spec.advance <= 1.0) {
        return Err(CampaignError::Bad("the advance per sol must be in (0, 1]".into()));
    }
    if spec.max_sols == 0 {
        return Err(CampaignError::Bad("--max-sols must be at least 1".into()));
    }
    Ok(())
}
