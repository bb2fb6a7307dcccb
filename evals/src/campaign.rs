//! Campaign evals: suites of kilometre-scale campaigns (`evals/suites/<name>.toml` with
//! `[[campaign]]` entries), run for each model against the reference policy's campaign on the
//! same ground, and scored.
//!
//! Scores per campaign and model: reached, sols used and their ratio to the reference's, km
//! driven and the ratio, hours of driving in the twin and the ratio (the cost of the route:
//! the twin's drive time is what a sol's window spends), the share of sols accepted on their
//! first submission, tokens and USD. A synthetic site named by a suite is generated once into
//! the cache directory and reused.

use std::path::{Path, PathBuf};
use std::time::Instant;

use breadcrumb_agent::campaign::{
    Campaign, CampaignRecord, CampaignSpec, LoopSettings, SolRecord, StrategicSettings, Summary,
};
use breadcrumb_sites::synth::{synthesize, SynthOptions, SynthParams};
use breadcrumb_tools::terrain::RoverProfile;
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::store::CampaignSol;

/// A synthetic site a suite names: generated from these on first use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthSite {
    /// Preset (`mixed`, `traverse`, ...).
    pub preset: String,
    /// Seed.
    pub seed: u64,
    /// DEM cells a side.
    pub size: usize,
    /// DEM cell size, metres.
    #[serde(default = "one")]
    pub res: f64,
}

fn one() -> f64 {
    1.0
}

fn five() -> f64 {
    5.0
}

/// One campaign of a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignCase {
    /// Identifier within the suite.
    pub id: String,
    /// The synthetic site it runs on.
    pub synth: SynthSite,
    /// Start x, y and heading.
    pub start: [f64; 3],
    /// Goal x, y.
    pub goal: [f64; 2],
    /// Rover profile name in `fixtures/rovers/`.
    pub rover: String,
    /// Metres a sol (default: the rover's drive budget).
    #[serde(default)]
    pub sol_budget_m: Option<f64>,
    /// How close to the goal is reached, metres.
    #[serde(default = "five")]
    pub goal_tolerance_m: f64,
    /// Most sols.
    #[serde(default = "max_sols")]
    pub max_sols: usize,
}

fn max_sols() -> usize {
    60
}

/// A campaign suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSuite {
    /// Its name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The campaigns.
    pub campaign: Vec<CampaignCase>,
}

impl CampaignSuite {
    /// `suites_dir/NAME.toml`, or NAME as a file path.
    pub fn find(suites_dir: &Path, name: &str) -> Result<CampaignSuite> {
        let as_path = Path::new(name);
        let path = if as_path.is_file() {
            as_path.to_path_buf()
        } else {
            suites_dir.join(format!("{name}.toml"))
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|error| EvalError::Io { path: path.clone(), error })?;
        let suite: CampaignSuite = toml::from_str(&text)
            .map_err(|e| EvalError::Config(format!("{}: {e}", path.display())))?;
        if suite.campaign.is_empty() {
            return Err(EvalError::Config(format!("{}: no [[campaign]] entries", path.display())));
        }
        Ok(suite)
    }
}

/// One campaign's scores for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignScore {
    /// The campaign's id.
    pub campaign: String,
    /// The model.
    pub model: String,
    /// The prompt version.
    pub prompt: String,
    /// The goal was reached.
    pub reached: bool,
    /// How it ended (`reached`, `stopped`).
    pub state: String,
    /// Why.
    pub reason: String,
    /// Sols run.
    pub sols: usize,
    /// Sols the reference policy ran on the same campaign.
    pub reference_sols: usize,
    /// `sols / reference_sols` (`None` unless both reached the goal).
    pub sols_ratio: Option<f64>,
    /// Km driven.
    pub km: f64,
    /// `km / reference km` (`None` unless both reached the goal).
    pub length_ratio: Option<f64>,
    /// Hours of driving in the twin.
    pub drive_hours: f64,
    /// `drive_hours / reference drive_hours`: the route's cost in sols' drive windows (`None`
    /// unless both reached the goal).
    pub cost_ratio: Option<f64>,
    /// Share of sols accepted on their first submission.
    pub first_submit_rate: f64,
    /// Tokens spent.
    pub tokens: u64,
    /// USD spent.
    pub cost_usd: f64,
    /// Wall time of the campaign, seconds.
    pub wall_s: f64,
    /// Who made the strategic route it followed first: `model` (the model's corridor) or
    /// `coarse-planner`.
    #[serde(default)]
    pub strategic_source: String,
    /// Its directory.
    pub dir: PathBuf,
}

/// Where suites' synthetic sites are generated and kept.
#[must_use]
pub fn site_dir(cache: &Path, s: &SynthSite) -> PathBuf {
    cache.join(format!("{}-{}-{}-{}", s.preset, s.seed, s.size, s.res))
}

/// Generates the case's site into `cache` unless it is there already.
pub fn prepare_site(cache: &Path, s: &SynthSite) -> Result<PathBuf> {
    let dir = site_dir(cache, s);
    if dir.join("bundle.toml").exists() && dir.join("dem.tif").exists() {
        return Ok(dir);
    }
    let params = SynthParams::preset(&s.preset, s.seed, s.size, s.res)?;
    synthesize(&params, &dir, &SynthOptions::default())?;
    Ok(dir)
}

/// Where a suite's campaigns go, where its sites are kept, where its rovers are found.
#[derive(Debug, Clone, Copy)]
pub struct Places<'a> {
    /// Campaign directories: `<out>/<campaign>/<model>-<prompt>/`.
    pub out: &'a Path,
    /// Generated sites.
    pub sites: &'a Path,
    /// The fixtures directory (rovers in `rovers/`).
    pub fixtures: &'a Path,
    /// How a language model is asked for its corridor before the first sol, as `breadcrumb
    /// campaign` asks it (`None`: never; the offline policies are never asked anyway).
    pub strategic: Option<&'a StrategicSettings>,
}

/// How to run one model's campaigns: its loop settings, given the model name.
pub type SettingsFor<'a> = dyn Fn(&str) -> Result<LoopSettings> + 'a;

/// What hears each campaign as soon as it is scored, with its sols (the CLI commits it to the
/// run store there, so a killed suite keeps every campaign scored before it). An error stops
/// the suite.
pub type OnScored<'a> = dyn Fn(&CampaignScore, &[CampaignSol]) -> Result<()> + 'a;

/// A campaign's sol as the store keeps it.
impl From<&SolRecord> for CampaignSol {
    fn from(s: &SolRecord) -> CampaignSol {
        let status = serde_json::to_value(s.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        CampaignSol {
            number: s.number,
            id: s.id.clone(),
            status,
            reason: s.reason.clone(),
            length_m: s.length_m,
            drive_s: s.drive_s,
            submits: s.submits,
            accepted_first_submit: s.accepted_first_submit,
            end_safe: s.end_stop.as_ref().map(|v| v.safe),
            tokens: s.tokens,
            cost_usd: s.cost_usd,
            wall_s: s.elapsed_s,
            retries: s.earlier_attempts.len(),
        }
    }
}

/// Runs every campaign of `suite` with the reference policy and each of `models`, under
/// `out_dir/<campaign>/<model>-<prompt>/`, and scores them; campaigns already complete there
/// are resumed (so a second run costs nothing). Rovers are named in `fixtures_dir/rovers/`.
/// `progress` hears a line per campaign; `on_scored` each score as soon as its campaign and the
/// reference's on the same ground are done.
pub async fn run_suite(
    suite: &CampaignSuite,
    models: &[String],
    prompt: &str,
    places: &Places<'_>,
    settings_for: &SettingsFor<'_>,
    progress: &(dyn Fn(&str) + Sync),
    on_scored: &OnScored<'_>,
) -> Result<Vec<CampaignScore>> {
    let (out_dir, sites_cache, fixtures_dir) = (places.out, places.sites, places.fixtures);
    let mut scores = Vec::new();
    for case in &suite.campaign {
        let site = prepare_site(sites_cache, &case.synth)?;
        let rover = breadcrumb_tools::checker::rover_path(&case.rover, fixtures_dir);
        let profile = RoverProfile::load(&rover)?;
        let spec_for = |model: &str| -> Result<CampaignSpec> {
            Ok(CampaignSpec {
                site: site
                    .canonicalize()
                    .map_err(|error| EvalError::Io { path: site.clone(), error })?,
                rover: rover
                    .canonicalize()
                    .map_err(|error| EvalError::Io { path: rover.clone(), error })?,
                start: case.start,
                goal: case.goal,
                goal_tolerance_m: case.goal_tolerance_m,
                sol_budget_m: case.sol_budget_m.unwrap_or(profile.limits.drive_budget_m),
                model: model.to_owned(),
                prompt: prompt.to_owned(),
                coarse_cell_m: breadcrumb_tools::campaign::DEFAULT_CELL_M,
                corridor_m: 60.0,
                advance: 0.75,
                max_sols: case.max_sols,
            })
        };
        let mut runs: Vec<(String, CampaignRecord, f64, PathBuf)> = Vec::new();
        let mut names = vec!["reference".to_owned()];
        names.extend(models.iter().filter(|m| *m != "reference").cloned());
        for model in &names {
            let dir = out_dir.join(&case.id).join(format!("{model}-{prompt}"));
            let settings = settings_for(model)?;
            let t = Instant::now();
            let mut c = Campaign::open(&dir, spec_for(model)?).map_err(|e| campaign_err(&e))?;
            if let Some(s) = places.strategic {
                c.plan_strategic(&settings, s).await.map_err(|e| campaign_err(&e))?;
            }
            let record = c.run(&settings).await.map_err(|e| campaign_err(&e))?.clone();
            let wall = t.elapsed().as_secs_f64();
            progress(&format!(
                "{} · {model}: {} in {} sols, {:.2} km, {:.1} s",
                case.id, record.summary.state, record.summary.sols_run, record.summary.km, wall
            ));
            runs.push((model.clone(), record, wall, dir));
        }
        let reference = runs[0].1.summary.clone();
        for (model, record, wall, dir) in &runs {
            if model == "reference" && !models.iter().any(|m| m == "reference") {
                continue;
            }
            let m = &record.summary;
            let [sols_ratio, length_ratio, cost_ratio] = ratios(m, &reference);
            let score = CampaignScore {
                campaign: case.id.clone(),
                model: model.clone(),
                prompt: prompt.to_owned(),
                reached: m.reached,
                state: m.state.clone(),
                reason: m.reason.clone(),
                sols: m.sols_run,
                reference_sols: reference.sols_run,
                sols_ratio,
                km: m.km,
                length_ratio,
                drive_hours: m.drive_hours,
                cost_ratio,
                first_submit_rate: m.first_submit_rate,
                tokens: m.tokens,
                cost_usd: m.cost_usd,
                wall_s: *wall,
                strategic_source: record.strategic_source.clone(),
                dir: dir.clone(),
            };
            let sols: Vec<CampaignSol> = record.sols.iter().map(CampaignSol::from).collect();
            on_scored(&score, &sols)?;
            scores.push(score);
        }
    }
    Ok(scores)
}

fn campaign_err(e: &breadcrumb_agent::campaign::CampaignError) -> EvalError {
    EvalError::Campaign(e.to_string())
}

/// Sols, km and drive hours of `m` against the reference's, each only when both campaigns
/// reached the goal: one that stopped short drove a shorter way, and its ratio would read as a
/// saving.
fn ratios(m: &Summary, reference: &Summary) -> [Option<f64>; 3] {
    let ratio = |a: f64, b: f64| (b > 0.0 && reference.reached && m.reached).then(|| a / b);
    [
        ratio(m.sols_run as f64, reference.sols_run as f64),
        ratio(m.km, reference.km),
        ratio(m.drive_hours, reference.drive_hours),
    ]
}

#[cfg(test)]
mod ratio_tests {
    use super::*;

    #[test]
    fn ratios_only_between_campaigns_that_both_reached() {
        let run = |reached, sols_run, km, drive_hours| Summary {
            reached,
            sols_run,
            km,
            drive_hours,
            ..Summary::default()
        };
        let reference = run(true, 10, 2.0, 20.0);
        assert_eq!(
            ratios(&run(true, 12, 2.5, 30.0), &reference),
            [Some(1.2), Some(1.25), Some(1.5)]
        );
        // Stopped short after less driving: no ratio, not a saving.
        assert_eq!(ratios(&run(false, 6, 1.2, 12.0), &reference), [None; 3]);
        assert_eq!(ratios(&run(true, 12, 2.5, 30.0), &run(false, 6, 1.2, 12.0)), [None; 3]);
    }
}

/// Campaign scores, sols and runs made by hand, for the store's, compare's and report's tests.
#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;

    use super::CampaignScore;
    use crate::store::{CampaignSol, RunKind, RunOptions, RunRecord};

    /// A scored campaign: 8 sols (as the reference), `km` driven, length ratio `km / 2`.
    pub(crate) fn score(campaign: &str, model: &str, reached: bool, km: f64) -> CampaignScore {
        CampaignScore {
            campaign: campaign.into(),
            model: model.into(),
            prompt: "v1".into(),
            reached,
            state: if reached { "reached" } else { "stopped" }.into(),
            reason: "why".into(),
            sols: 8,
            reference_sols: 8,
            sols_ratio: Some(1.0),
            km,
            length_ratio: Some(km / 2.0),
            drive_hours: 1.5,
            cost_ratio: Some(1.0),
            first_submit_rate: 0.75,
            tokens: 10,
            cost_usd: 0.01,
            wall_s: 3.0,
            strategic_source: "coarse-planner".into(),
            dir: PathBuf::from("c").join(campaign).join(model),
        }
    }

    /// An accepted 250 m sol.
    pub(crate) fn sol(number: usize) -> CampaignSol {
        CampaignSol {
            number,
            id: format!("sol-{number:02}"),
            status: "accepted".into(),
            reason: "ok".into(),
            length_m: Some(250.0),
            drive_s: Some(600.0),
            submits: 1,
            accepted_first_submit: true,
            end_safe: Some(true),
            tokens: 0,
            cost_usd: 0.0,
            wall_s: 1.0,
            retries: 0,
        }
    }

    /// A campaign run of the reference, two campaigns planned.
    pub(crate) fn run(id: &str) -> RunRecord {
        RunRecord {
            id: id.into(),
            suite: "campaign-ci".into(),
            suite_path: "campaign-ci.toml".into(),
            models: vec!["reference".into()],
            prompts: vec!["v1".into()],
            repeats: 1,
            planned: 2,
            runs_dir: "out".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            options: RunOptions::default(),
            kind: RunKind::Campaign,
        }
    }
}
