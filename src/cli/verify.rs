//! `breadcrumb verify RUN_DIR`: re-check a run's plan from its dossier alone and say whether
//! the checker still gives the verdict the run recorded, byte for byte.

use std::path::PathBuf;

use breadcrumb_agent::session::dossier::{
    bytes_sha256, recheck, Recheck, ROVER_FILE, SOL_FILE, TWIN_FILE,
};
use breadcrumb_tools::checker::CHECKER_VERSION;
use clap::Args;

use super::ExitStatus;

/// Re-check a run's plan from its dossier and compare the verdict with the recorded one.
///
/// A run directory (RUN_DIR, or a run id under --runs-dir) holds plan.json, verdict.json and
/// copies of the sol (sol.toml, whose `bundle` is the absolute path of the terrain bundle)
/// and the rover profile (rover.toml). plan.json's provenance records the SHA-256 of the sol,
/// the rover profile and the bundle. verify checks that the copies and the bundle still have
/// those hashes, runs the safety checker and the digital twin on the plan again, and says
/// whether the new verdicts are byte-identical to verdict.json and twin.json.
///
/// The bundle hash is SHA-256 of the bundle's `sha256sum` manifest (one `<hex>  <path>` line
/// per file, paths relative to the bundle, sorted bytewise), so `cd BUNDLE && find -L . -type f
/// -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum` prints the same hex.
///
/// Exit status: 0 both verdicts are byte-identical, 1 one differs, 2 error (a dossier file missing
/// or changed, the bundle missing or changed: the message names the file and both hashes).
///
/// Example: breadcrumb verify runs/plains-02-keepout-reference-20261202T081502Z-3f2a
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Run directory or run id.
    #[arg(value_name = "RUN_DIR")]
    run: PathBuf,
    /// Where runs are recorded (for a bare run id).
    #[arg(long, value_name = "DIR", default_value = "runs")]
    runs_dir: PathBuf,
    /// Re-check against the bundle in DIR instead of the one sol.toml names (its hash must
    /// still match), e.g. when the dossier was copied to another machine.
    #[arg(long, value_name = "DIR")]
    bundle: Option<PathBuf>,
}

pub fn run(a: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let dir = super::show::run_dir(&a.run, &a.runs_dir)?;
    let r = recheck(&dir, a.bundle.as_deref())?;
    out!("{}", report(&dir.display().to_string(), &r))?;
    Ok(if r.identical() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// What verify prints: what was re-checked against, then the comparison.
fn report(dir: &str, r: &Recheck) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{dir}: plan.json re-checked from the dossier");
    let _ = writeln!(out, "  sol     {} ({SOL_FILE}, {})", r.sol_id, r.sol_hash);
    let _ = writeln!(out, "  rover   {} ({ROVER_FILE}, {})", r.rover, r.rover_hash);
    let _ = writeln!(
        out,
        "  bundle  {} ({} files, {})",
        r.bundle_dir.display(),
        r.bundle_files,
        r.bundle_hash
    );
    let then = r.checker_then.as_deref().unwrap_or("unknown");
    let _ = writeln!(out, "  checker {then} then, {CHECKER_VERSION} now");
    compare(&mut out, "verdict", "verdict.json", r.pass, &r.recorded, &r.now);
    if let Some(t) = &r.twin_recorded {
        compare(&mut out, "twin", TWIN_FILE, r.twin_pass, t, &r.twin_now);
    } else {
        let result = if r.twin_pass { "PASS" } else { "FAIL" };
        let _ = writeln!(
            out,
            "twin    {result}: the dossier has no {TWIN_FILE} (it predates the twin), so nothing \
             to compare"
        );
    }
    out
}

/// One verdict against its recorded file: identical, or where they first differ.
fn compare(out: &mut String, what: &str, file: &str, pass: bool, recorded: &str, now: &str) {
    use std::fmt::Write as _;
    let result = if pass { "PASS" } else { "FAIL" };
    if recorded == now {
        let _ = writeln!(
            out,
            "{what:<7} {result}: byte-identical to {file} ({})",
            bytes_sha256(recorded.as_bytes())
        );
        return;
    }
    let _ = writeln!(
        out,
        "{what:<7} {result}: DIFFERS from {file} (recorded {}, now {})",
        bytes_sha256(recorded.as_bytes()),
        bytes_sha256(now.as_bytes())
    );
    let (a, b): (Vec<&str>, Vec<&str>) = (recorded.lines().collect(), now.lines().collect());
    let Some(line) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) else {
        let _ = writeln!(
            out,
            "the lines are the same: they differ in line endings or the last newline"
        );
        return;
    };
    let _ = writeln!(out, "first difference at line {}:", line + 1);
    let _ = writeln!(out, "  {file}: {}", a.get(line).copied().unwrap_or("(end of file)"));
    let _ = writeln!(out, "  now: {}", b.get(line).copied().unwrap_or("(end of file)"));
}
