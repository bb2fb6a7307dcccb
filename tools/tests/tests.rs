//! Integration tests of breadcrumb-tools, one module per area (one test target, as ripgrep does).

use std::path::PathBuf;

mod analysis;
mod api;
mod bundle;
mod checker;
mod fixtures;
mod import;
mod planner;
mod sol_from_route;
mod tiles;
mod twin;
// Committed outputs (the tool schema file, verdict snapshots) checked against the code.
mod schema;
mod verdicts;

/// A directory of `../shared/realdata/`. Tests that need real Mars data fail loudly when it is
/// missing: they never skip.
#[must_use]
pub fn realdata(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(name);
    assert!(
        dir.is_dir(),
        "real Mars data missing: {} (clone the project beside shared/, as CI does)",
        dir.display()
    );
    dir
}
