//! Command-line types (clap derive) and dispatch. Each command lives in a module of its own and
//! returns an [`ExitStatus`].

#[macro_use]
pub mod out;

mod campaign;
mod check;
mod eval;
mod eval_campaign;
mod eval_compare;
mod eval_report;
mod model_args;
mod models;
mod plan;
mod propose;
mod render;
mod review;
mod show;
mod site;
mod sol;
mod tiles;
mod tools;
mod twin;
mod verify;

use clap::{Parser, Subcommand};

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command did what was asked (exit 0).
    Success,
    /// The command ran but the answer is negative, e.g. a plan failed the check (exit 1).
    Failure,
    /// Bad input or an error (exit 2).
    Error,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        match s {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Failure => std::process::ExitCode::from(1),
            ExitStatus::Error => std::process::ExitCode::from(2),
        }
    }
}

/// Plan Mars rover drives with a vision-language model; accept only what a deterministic safety
/// checker and a digital twin of the rover both pass.
///
/// Coordinates are map metres in the DEM's projected CRS (x east, y north); slopes and headings
/// in degrees (headings clockwise from north).
#[derive(Debug, Parser)]
#[command(name = "breadcrumb", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make, inspect and analyse terrain bundles (DEM + ortho image + hazards).
    #[command(subcommand)]
    Site(site::SiteCommand),
    Campaign(campaign::CampaignArgs),
    Check(check::CheckArgs),
    /// Regression evals over suites of sols: run a matrix of models and prompts, list runs,
    /// compare two runs (with a CI gate), write an HTML report.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    Models(models::ModelsArgs),
    Plan(plan::PlanArgs),
    Propose(propose::ProposeArgs),
    Show(show::ShowArgs),
    /// Make sols (planning problems), e.g. from real drives.
    #[command(subcommand)]
    Sol(sol::SolCommand),
    /// The tools a model can call: print their schemas, or call one by hand.
    #[command(subcommand)]
    Tools(tools::ToolsCommand),
    Tiles(tiles::TilesArgs),
    Render(render::RenderArgs),
    Review(review::ReviewArgs),
    Twin(twin::TwinArgs),
    Verify(verify::VerifyArgs),
}

/// Sets up `tracing` logs on stderr, filtered by `RUST_LOG` (default: warnings only).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Site(cmd) => site::run(cmd),
        Command::Campaign(args) => campaign::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Eval(cmd) => eval::run(cmd),
        Command::Models(args) => models::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Propose(args) => propose::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Sol(cmd) => sol::run(cmd),
        Command::Tools(cmd) => tools::run(cmd),
        Command::Tiles(args) => tiles::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Review(args) => review::run(&args),
        Command::Twin(args) => twin::run(&args),
        Command::Verify(args) => verify::run(&args),
    }
}
