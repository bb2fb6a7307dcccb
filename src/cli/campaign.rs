//! `breadcrumb campaign`: kilometres over many sols — a strategic route across the site, then
//! the normal loop sol after sol, each from where the last one ended to a safe stop.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use breadcrumb_agent::campaign::{
    Campaign, CampaignRecord, CampaignSpec, LoopSettings, SolStatus, StrategicSettings,
};
use breadcrumb_agent::session::{Budgets, SessionConfig};
use breadcrumb_tools::checker::rover_path;
use breadcrumb_tools::terrain::RoverProfile;
use clap::Args;
use sha2::{Digest, Sha256};

use super::check::fixtures_dir;
use super::model_args::{LoopArgs, ModelArgs};
use super::ExitStatus;

/// Drive kilometres: a campaign of sols from START to GOAL on one site.
///
/// First a strategic route across the site, searched on a coarse grid (8 m cells) read from the
/// DEM's overviews. With a language model (--model naming an openai or anthropic entry), the
/// model is first shown an overview of the whole area (strategic-overview.png: a labelled map
/// grid, start and goal, blocked coarse cells in red) and asked for a corridor through the
/// strategic_waypoints tool, which checks it at coarse scale and names what is wrong; its first
/// feasible corridor is the strategic route, else the coarse planner's route is kept and
/// campaign.json says why (strategic_source, strategic_model). Then, sol after sol: a safe stop (low tilt at every heading, clear of
/// hazards and sand) about three quarters of a sol's budget along the route is the sol's goal,
/// a corridor around that stretch its keep-in, the last sol's end pose its start; the model
/// plans it through the normal loop, and the safety checker and the digital twin must both
/// pass it, as with `propose`. An accepted sol whose end is a safe stop hands over to the next.
///
/// Output in --out: campaign.json (summary: sols, km, drive hours, per-sol verdicts; rewritten
/// after every sol), campaign.geojson (the route, every sol and its end; opens in QGIS),
/// overview.png (the sols in alternating colours over the image), strategic-overview.png (what a
/// language model was shown for its corridor), and sols/sol-NN.toml with its run dossier
/// sols/sol-NN/ (verify, show and review work on it). Run the same command again
/// after a crash: it resumes at the first sol not accepted.
///
/// Exit status: 0 goal reached; 1 the terrain says no (goal off the map or walled off at
/// coarse scale, no safe stop within a sol's reach, or a sol refused); 2 bad input or error.
///
/// Example: breadcrumb site synth --size 8192 --res 1.0 out/big && breadcrumb campaign --site
/// out/big --start=-2896,1087758,45 --goal 304,1091158 --rover perseverance
#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// Terrain bundle directory.
    #[arg(long, value_name = "DIR")]
    site: PathBuf,
    /// Start: map x,y in metres, and optionally the heading in degrees clockwise from north
    /// (default 0).
    #[arg(long, value_name = "X,Y[,HEADING]", allow_hyphen_values = true)]
    start: String,
    /// Goal: map x,y in metres.
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true)]
    goal: String,
    /// Rover profile: a name in fixtures/rovers/ (perseverance) or a path to a profile TOML.
    #[arg(long, value_name = "NAME")]
    rover: String,
    #[command(flatten)]
    model: ModelArgs,
    /// Most metres driven in one sol (default: the rover profile's drive budget).
    #[arg(long, value_name = "B")]
    sol_budget_m: Option<f64>,
    /// The campaign must end within this distance of the goal, metres.
    #[arg(long, default_value_t = 5.0)]
    goal_tolerance_m: f64,
    /// Side of the strategic grid's cells, metres.
    #[arg(long, default_value_t = breadcrumb_tools::campaign::DEFAULT_CELL_M)]
    coarse_cell_m: f64,
    /// Half-width of each sol's keep-in corridor around the strategic route, metres.
    #[arg(long, default_value_t = 60.0)]
    corridor_m: f64,
    /// Most sols before the campaign stops.
    #[arg(long, default_value_t = 60)]
    max_sols: usize,
    /// Where the campaign is written (default: runs/campaign-<site>-<model>-<hash of the
    /// arguments>, so the same command resumes the same campaign).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    limits: LoopArgs,
    /// Corridors a language model may submit before the campaign keeps the coarse planner's
    /// route (0: never ask the model for a corridor).
    #[arg(long, default_value_t = breadcrumb_agent::campaign::DEFAULT_STRATEGIC_ATTEMPTS)]
    strategic_attempts: u32,
    /// Print campaign.json at the end instead of a summary.
    #[arg(long)]
    json: bool,
}

/// `X,Y` or `X,Y,H` as numbers.
fn parse_point(flag: &str, text: &str, max: usize) -> anyhow::Result<Vec<f64>> {
    let v: Vec<f64> =
        text.split(',').map(|s| s.trim().parse::<f64>()).collect::<Result<_, _>>().with_context(
            || {
                format!(
                    "{flag} {text:?}: expected numbers X,Y{}",
                    if max == 3 { "[,HEADING]" } else { "" }
                )
            },
        )?;
    if v.len() < 2 || v.len() > max || !v.iter().all(|x| x.is_finite()) {
        bail!(
            "{flag} {text:?}: expected {} finite numbers separated by commas",
            if max == 3 { "two or three" } else { "two" }
        );
    }
    Ok(v)
}

pub fn run(a: &CampaignArgs) -> anyhow::Result<ExitStatus> {
    let start = parse_point("--start", &a.start, 3)?;
    let goal = parse_point("--goal", &a.goal, 2)?;
    if !a.site.join("bundle.toml").exists() && !a.site.join("dem.tif").exists() {
        bail!("{}: not a terrain bundle (no bundle.toml or dem.tif)", a.site.display());
    }
    let site = a.site.canonicalize().with_context(|| format!("{}", a.site.display()))?;
    let rover_file = rover_path(&a.rover, &fixtures_dir());
    let profile = RoverProfile::load(&rover_file).with_context(|| {
        format!("rover {:?} (no such file, and no fixtures/rovers/{}.toml)", a.rover, a.rover)
    })?;
    let rover = rover_file.canonicalize().with_context(|| format!("{}", rover_file.display()))?;
    let entry = &a.model.entry()?;
    let prompt = a.model.prompt_set()?;
    let spec = CampaignSpec {
        site,
        rover,
        start: [start[0], start[1], start.get(2).copied().unwrap_or(0.0)],
        goal: [goal[0], goal[1]],
        goal_tolerance_m: a.goal_tolerance_m,
        sol_budget_m: a.sol_budget_m.unwrap_or(profile.limits.drive_budget_m),
        model: entry.name.clone(),
        prompt: a.model.prompt.clone(),
        coarse_cell_m: a.coarse_cell_m,
        corridor_m: a.corridor_m,
        advance: 0.75,
        max_sols: a.max_sols,
    };
    let out = a.out.clone().unwrap_or_else(|| default_out(&spec));
    let settings = LoopSettings {
        entry: entry.clone(),
        prompt,
        config: SessionConfig {
            max_revisions: a.limits.max_revisions,
            budgets: Budgets {
                max_turns: a.limits.max_turns,
                max_cost_usd: Some(a.limits.max_cost_usd),
                deadline: Some(Duration::from_secs(900)),
                ..Budgets::default()
            },
            ..SessionConfig::for_model(entry)
        },
        tile_px: a.limits.tile_px,
    };
    let strategic = if entry.provider.is_network() && a.strategic_attempts > 0 {
        let mut s = StrategicSettings::load(&a.model.prompts_dir)?;
        s.max_attempts = a.strategic_attempts;
        s.max_turns = 2 * a.strategic_attempts;
        Some(s)
    } else {
        None
    };
    if !a.json {
        eprintln!("campaign in {}", out.display());
    }
    // Opening plans the strategic route (a few seconds on a large site), or reads the campaign
    // already in `out` to resume it.
    let campaign = match Campaign::open(&out, spec) {
        Ok(c) => c,
        Err(e) if e.is_negative_answer() => {
            eprintln!("NO CAMPAIGN: {e}");
            return Ok(ExitStatus::Failure);
        }
        Err(e) => return Err(e.into()),
    };
    let resumed = campaign.record().sols.iter().filter(|s| s.status == SolStatus::Accepted).count();
    if resumed > 0 && !a.json {
        eprintln!("resuming after {resumed} accepted sols");
    }
    let quiet = a.json;
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.enable_steady_tick(Duration::from_millis(120));
    let b = bar.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let mut campaign = campaign.with_progress(Box::new(move |m: &str| b.println(m)));
        if let Some(s) = &strategic {
            campaign.plan_strategic(&settings, s).await?;
        }
        campaign.run(&settings).await.cloned()
    });
    bar.finish_and_clear();
    let record = match result {
        Ok(r) => r,
        Err(e) if e.is_negative_answer() => {
            eprintln!("NO CAMPAIGN: {e}");
            return Ok(ExitStatus::Failure);
        }
        Err(e) => return Err(e.into()),
    };
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&record)?)?;
    } else {
        out!("{}", summary(&record, &out))?;
    }
    Ok(if record.summary.reached { ExitStatus::Success } else { ExitStatus::Failure })
}

/// The default campaign directory: the site, the model and a hash of what was asked.
fn default_out(spec: &CampaignSpec) -> PathBuf {
    let text = serde_json::to_string(spec).unwrap_or_default();
    let hash = Sha256::digest(text.as_bytes());
    let short = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]);
    let site = spec.site.file_name().map_or("site".into(), |n| n.to_string_lossy().into_owned());
    PathBuf::from("runs").join(format!("campaign-{site}-{}-{short:08x}", spec.model))
}

/// The readable end-of-campaign summary: one line per sol, then the totals.
fn summary(r: &CampaignRecord, out: &std::path::Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let m = &r.summary;
    let head = if m.reached { "REACHED" } else { "NOT REACHED" };
    let _ = writeln!(s, "{head}: {}", m.reason);
    let _ = writeln!(
        s,
        "strategic route {:.2} km ({} x {} cells of {:.0} m, {:.1}% blocked; read {:.2} s, grid {:.2} s, search {:.2} s)",
        r.strategic.length_m / 1000.0,
        r.strategic.grid_size.0,
        r.strategic.grid_size.1,
        r.strategic.cell_m,
        100.0 * r.strategic.blocked_share,
        r.strategic.read_s,
        r.strategic.grid_s,
        r.strategic.search_s
    );
    if let Some(m) = &r.strategic_model {
        let _ = writeln!(
            s,
            "the model's corridor {}: {} ({} corridors, {} tokens, ${:.4}); the strategic route \
             now is the {}'s",
            if m.used { "was used" } else { "was not used" },
            m.reason,
            m.attempts.len(),
            m.tokens(),
            m.cost_usd,
            r.strategic_source
        );
    }
    let _ = writeln!(s, "sol  status       length   drive   first  end tilt  hazard  checker twin");
    for x in &r.sols {
        let _ = writeln!(
            s,
            "{:>3}  {:<11} {:>6.1} m {:>5.2} h  {:<5}  {:>7}  {:>6}  {:<7} {}",
            x.number,
            format!("{:?}", x.status).to_lowercase(),
            x.length_m.unwrap_or(0.0),
            x.drive_s.unwrap_or(0.0) / 3600.0,
            if x.accepted_first_submit { "yes" } else { "no" },
            x.end_stop
                .as_ref()
                .and_then(|v| v.max_tilt_deg)
                .map_or("-".into(), |t| format!("{t:.1}°")),
            x.end_stop
                .as_ref()
                .and_then(|v| v.nearest_hazard_m)
                .map_or(">50 m".into(), |d| format!("{d:.1} m")),
            x.checker_pass.map_or("-", |p| if p { "pass" } else { "fail" }),
            x.twin_pass.map_or("-", |p| if p { "pass" } else { "fail" }),
        );
    }
    let _ = writeln!(
        s,
        "{} of {} sols accepted, {:.2} km driven in {:.1} h of driving, {:.0} m from the goal, ${:.4}",
        m.sols_accepted, m.sols_run, m.km, m.drive_hours, m.distance_to_goal_m, m.cost_usd
    );
    let _ = writeln!(
        s,
        "written: {0}/campaign.json, {0}/campaign.geojson, {0}/overview.png, {0}/sols/",
        out.display()
    );
    s
}
