//! # breadcrumb-evals
//!
//! Regression runs over archived sols comparing prompts and models. It drives
//! [`breadcrumb_agent`] and reads [`breadcrumb_tools`]:
//!
//! - [`suite`]: suite files (which sols, what is expected of each);
//! - [`score`]: per-attempt scores and per-cell summaries;
//! - [`stats`]: Wilson intervals, medians and quartiles, McNemar's exact test, the paired
//!   bootstrap;
//! - [`store`]: the SQLite run store (runs, cells, attempts committed one by one; campaign runs'
//!   campaigns and sols);
//! - [`campaign`]: campaign suites, run by the reference and each model and scored against the
//!   reference's;
//! - [`runner`]: the matrix runner (bounded concurrency, per-model rate limits, resume);
//! - [`cache`]: the response cache keyed by the exact request.
//! - [`compare`]: two runs or cells compared pair by pair (McNemar, paired bootstrap, CI gates);
//!   campaign runs campaign by campaign.
//! - [`perception`]: marks and classifier polygons scored against ground truth (per-class object
//!   precision and recall at IoU 0.3, area IoU, route length near blocking hazards).
//! - [`report`]: the self-contained HTML report of a run (matrix, routes per sol, transcripts;
//!   for a campaign run, each campaign's scores, overview and sols).
#![deny(missing_docs)]

pub mod cache;
pub mod campaign;
pub mod compare;
pub mod error;
pub mod perception;
pub mod report;
pub mod runner;
pub mod score;
pub mod stats;
pub mod store;
pub mod suite;

pub use error::{EvalError, Result};

/// Version of the evals crate (recorded in run metadata).
#[must_use]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
