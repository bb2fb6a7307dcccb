//! Integration tests of breadcrumb-tools, one module per area (one test target, as ripgrep does).

mod analysis;
mod api;
mod bundle;
mod campaign;
mod checker;
mod classify;
mod cog;
mod fixtures;
mod marks;
mod planner;
mod pointing;
mod strategic;
pub mod support;
mod synthetic;
mod tiles;
mod twin;
mod twin_mutations;
mod twin_oracle;
mod twin_step;
// Committed outputs (the tool schema file, verdict snapshots) checked against the code.
mod schema;
mod verdicts;

pub use support::realdata;
