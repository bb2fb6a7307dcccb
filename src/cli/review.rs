//! `breadcrumb review`: serve a plan for review in the browser (see `breadcrumb_review`).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use breadcrumb_review::session::{Context, Review};
use breadcrumb_review::Server;
use clap::Args;

use super::ExitStatus;

/// Review a plan in the browser: inspect it over the terrain, edit it with the checker and the
/// twin answering, and approve it with a record.
///
/// Serves one page on 127.0.0.1 (a free port, or --port) and prints its URL with a random
/// session token; every request needs the token. The page shows the sol's orbital image with
/// slope, mapped-hazard and terrain-class layers, the run's model marks, the route with numbered
/// waypoints, the checker's and the twin's violations where they occur, the twin's wheel tracks
/// and its telemetry along the drive. Drag a waypoint, click the route to insert one,
/// right-click one to delete it; every edit is re-checked by the same checker and twin as
/// `breadcrumb check` and `breadcrumb twin` (the run's hazard marks enforced). Approve (a name
/// and a note; only when both gates pass) writes plan.reviewed.json (the route, the original
/// provenance, every edit with its time, the reviewer, both verdicts) and
/// sequence.reviewed.xml beside the run, or beside PLAN.json with --sol. Ctrl-C stops the
/// server (an approval being written finishes first).
///
/// Example: breadcrumb review out/demo/runs/demo
///
/// Example: breadcrumb review --sol fixtures/sols/plains-02-keepout.toml plan.json --port 8700
/// --open
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// A run directory written by `breadcrumb propose` (plan.json, sol.toml, hazard marks), or
    /// with --sol a plan JSON file.
    #[arg(value_name = "RUN_DIR|PLAN.json")]
    target: PathBuf,
    /// Sol TOML the plan file is for (then the positional argument is PLAN.json).
    #[arg(long, value_name = "SOL.toml")]
    sol: Option<PathBuf>,
    /// Port on 127.0.0.1 (default: a free one).
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Open the page in a browser (xdg-open, else chromium).
    #[arg(long)]
    open: bool,
}

pub fn run(a: &ReviewArgs) -> anyhow::Result<ExitStatus> {
    let opened = if let Some(sol) = &a.sol {
        if a.target.is_dir() {
            bail!("with --sol, give a plan JSON file, not the directory {}", a.target.display());
        }
        Context::open_sol(sol, &a.target)
    } else {
        if !a.target.is_dir() {
            bail!(
                "{} is not a run directory: give a `breadcrumb propose` run directory, or --sol \
                 SOL.toml PLAN.json",
                a.target.display()
            );
        }
        Context::open_run(&a.target)
    };
    let ctx = opened.with_context(|| format!("opening {} for review", a.target.display()))?;
    let review = Review::new(ctx).context("checking the plan")?;
    let server = Server::bind(review, a.port).context("binding 127.0.0.1")?;
    let url = server.url();
    {
        let r = server.review();
        let st = r.lock();
        let e = &st.evaluation;
        outln!(
            "reviewing {} (sol {}): checker {}, twin {}; approval writes into {}",
            r.ctx.plan_path.display(),
            r.ctx.sol.sol.id,
            if e.verdict.pass { "pass" } else { "FAIL" },
            if e.twin.pass { "pass" } else { "FAIL" },
            r.ctx.out_dir.display()
        )?;
    }
    outln!("open {url}")?;
    outln!("(Ctrl-C stops the server)")?;
    if a.open {
        open_browser(&url);
    }
    server.run_until_ctrl_c()?;
    outln!("review server stopped")?;
    Ok(ExitStatus::Success)
}

/// Starts a browser on `url` without waiting for it: `xdg-open`, else `chromium`; says so when
/// neither starts (the URL is printed anyway).
fn open_browser(url: &str) {
    for program in ["xdg-open", "chromium"] {
        if std::process::Command::new(program)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
        {
            return;
        }
    }
    eprintln!("warning: could not start a browser (xdg-open, chromium): open the URL yourself");
}
