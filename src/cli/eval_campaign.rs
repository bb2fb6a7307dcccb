//! `breadcrumb eval campaign`: a suite of kilometre-scale campaigns, each run by the reference
//! policy and by every model asked, scored against the reference's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use breadcrumb_agent::campaign::{write_atomic, LoopSettings, StrategicSettings};
use breadcrumb_agent::models::ModelRegistry;
use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::session::{Budgets, SessionConfig};
use breadcrumb_evals::campaign::{run_suite, CampaignScore, CampaignSuite, Places};
use breadcrumb_evals::runner::new_run_id_named;
use breadcrumb_evals::store::{CampaignSol, RunKind, RunOptions, RunRecord, Store};
use clap::Args;

use super::check::fixtures_dir;
use super::ExitStatus;

/// Run a campaign suite: every campaign by the reference policy and by each model, scored.
///
/// Scores per campaign and model: reached; sols used against the reference's; km driven and
/// hours of driving in the twin against the reference's (the length and cost ratios); the
/// share of sols accepted on their first submission; tokens and USD. Each campaign is written
/// to OUT/<campaign>/<model>-<prompt>/ (as `breadcrumb campaign` writes it, and resumed from
/// there when run again) and the scores to OUT/scores.json. Synthetic sites are generated once
/// into --sites-cache.
///
/// The run is also stored in the run store (--db) under --run-id, each campaign committed with
/// its sols as soon as it is scored, so `eval list`, `eval compare` and `eval report` read it
/// like a sol run. The same --run-id again continues that run: each campaign resumes from its
/// directory and its stored scores are replaced.
///
/// Example: breadcrumb eval campaign --suite campaign-ci --models reference --run-id camp1
///
/// Example: breadcrumb eval report camp1 -o out/camp1.html
#[derive(Debug, Args)]
pub struct CampaignEvalArgs {
    /// Campaign suite name (evals/suites/NAME.toml) or a suite file.
    #[arg(long)]
    suite: String,
    /// Comma-separated model names from the models file (the reference always runs too).
    #[arg(long, value_delimiter = ',', default_value = "reference")]
    models: Vec<String>,
    /// Prompt version.
    #[arg(long, default_value = "v1")]
    prompt: String,
    /// Where the campaigns and scores.json go (default: runs/eval-campaign-<suite>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Where generated sites are kept.
    #[arg(long, value_name = "DIR", default_value = "runs/sites")]
    sites_cache: PathBuf,
    /// Where suites live.
    #[arg(long, value_name = "DIR", default_value = "evals/suites")]
    suites_dir: PathBuf,
    /// The models file.
    #[arg(long, value_name = "FILE", default_value = "models.toml")]
    models_file: PathBuf,
    /// Where prompt versions live.
    #[arg(long, value_name = "DIR", default_value = "prompts")]
    prompts_dir: PathBuf,
    /// Most USD each sol may spend.
    #[arg(long, default_value_t = 5.0)]
    max_cost_usd: f64,
    /// Print the scores as JSON.
    #[arg(long)]
    json: bool,
    /// Id of the run in the store (default: campaign-<UTC time>-<4 hex>); an id stored already
    /// continues that run (same suite, models and prompt).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// The run store.
    #[arg(long, value_name = "PATH", default_value = "runs/breadcrumb.db")]
    db: PathBuf,
}

pub fn run(a: &CampaignEvalArgs) -> anyhow::Result<ExitStatus> {
    let suite = CampaignSuite::find(&a.suites_dir, &a.suite)?;
    let registry = ModelRegistry::load(&a.models_file)?;
    for m in &a.models {
        if registry.get(m).is_none() {
            bail!("{}: no model named `{m}`", a.models_file.display());
        }
    }
    let prompt = PromptSet::load_named(&a.prompts_dir, &a.prompt)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/eval-campaign-{}", suite.name)));
    std::fs::create_dir_all(&out).with_context(|| format!("{}", out.display()))?;
    let store = Store::open(&a.db)?;
    let run = open_run(&store, a, &suite, &out)?;
    let settings_for = |model: &str| -> breadcrumb_evals::error::Result<LoopSettings> {
        let entry = registry.get(model).ok_or_else(|| {
            breadcrumb_evals::error::EvalError::Config(format!("no model named `{model}`"))
        })?;
        Ok(LoopSettings {
            entry: entry.clone(),
            prompt: prompt.clone(),
            config: SessionConfig {
                budgets: Budgets {
                    max_cost_usd: Some(a.max_cost_usd),
                    deadline: Some(Duration::from_secs(900)),
                    ..Budgets::default()
                },
                ..SessionConfig::for_model(entry)
            },
            tile_px: 1024,
        })
    };
    let quiet = a.json;
    let progress = |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let fixtures = fixtures_dir();
    // A language model is asked for its corridor first, as `breadcrumb campaign` asks it.
    let network = a.models.iter().any(|m| registry.get(m).is_some_and(|e| e.provider.is_network()));
    let strategic = if network { Some(StrategicSettings::load(&a.prompts_dir)?) } else { None };
    let places = Places {
        out: &out,
        sites: &a.sites_cache,
        fixtures: &fixtures,
        strategic: strategic.as_ref(),
    };
    let on_scored =
        |score: &CampaignScore, sols: &[CampaignSol]| store.put_campaign(&run.id, score, sols);
    let scores = runtime.block_on(run_suite(
        &suite,
        &a.models,
        &a.prompt,
        &places,
        &settings_for,
        &progress,
        &on_scored,
    ))?;
    store.finish_campaign_run(&run.id, run.planned)?;
    let text = serde_json::to_string_pretty(&scores)?;
    write_atomic(&out.join("scores.json"), text.as_bytes())?;
    if a.json {
        outln!("{text}")?;
    } else {
        out!("{}", table(&scores, &out))?;
        outln!("run {} in {}", run.id, a.db.display())?;
    }
    Ok(ExitStatus::Success)
}

/// The run this invocation stores into: `--run-id` when the store holds it (a campaign run of
/// the same suite, models and prompt, continued), else a new one recorded now.
fn open_run(
    store: &Store,
    a: &CampaignEvalArgs,
    suite: &CampaignSuite,
    out: &Path,
) -> anyhow::Result<RunRecord> {
    let mut models: Vec<String> = Vec::new();
    for m in &a.models {
        if !models.contains(m) {
            models.push(m.clone());
        }
    }
    let id = a.run_id.clone().unwrap_or_else(|| new_run_id_named("campaign"));
    if let Some(old) = store.run(&id)? {
        if old.kind != RunKind::Campaign {
            bail!("run `{id}` in {} is a sol run; pick another --run-id", a.db.display());
        }
        if old.suite != suite.name || old.models != models || old.prompts != [a.prompt.clone()] {
            bail!(
                "run `{id}` in {} is suite {} with models {} and prompt {}; continue it with \
                 those, or pick another --run-id",
                a.db.display(),
                old.suite,
                old.models.join(","),
                old.prompts.join(",")
            );
        }
        return Ok(old);
    }
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let suite_path = {
        let as_path = Path::new(&a.suite);
        if as_path.is_file() {
            as_path.to_path_buf()
        } else {
            a.suites_dir.join(format!("{}.toml", a.suite))
        }
    };
    let run = RunRecord {
        id,
        suite: suite.name.clone(),
        suite_path: absolute(&suite_path).display().to_string(),
        planned: u32::try_from(suite.campaign.len() * models.len()).unwrap_or(u32::MAX),
        models,
        prompts: vec![a.prompt.clone()],
        repeats: 1,
        runs_dir: absolute(out).display().to_string(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        finished_at: None,
        options: RunOptions::default(),
        kind: RunKind::Campaign,
    };
    store.create_run(&run)?;
    Ok(run)
}

fn table(scores: &[CampaignScore], out: &std::path::Path) -> String {
    use std::fmt::Write;
    let r = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "campaign         model       reached  sols (ref)  km (ratio)     drive h (ratio)  first   USD"
    );
    for c in scores {
        let _ = writeln!(
            s,
            "{:<16} {:<11} {:<8} {:>3} ({:>3})   {:>5.2} ({:>5})  {:>6.1} ({:>5})    {:>4.0}%  {:.4}",
            c.campaign,
            c.model,
            if c.reached { "yes" } else { "no" },
            c.sols,
            c.reference_sols,
            c.km,
            r(c.length_ratio),
            c.drive_hours,
            r(c.cost_ratio),
            100.0 * c.first_submit_rate,
            c.cost_usd
        );
    }
    let _ = writeln!(s, "scores: {}/scores.json", out.display());
    s
}
