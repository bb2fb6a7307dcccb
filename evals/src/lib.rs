//! # breadcrumb-evals
//!
//! Regression runs over archived sols comparing prompts and models. It drives
//! [`breadcrumb_agent`] and reads [`breadcrumb_tools`]:
//!
//! - [`suite`]: suite files (which sols, what is expected of each);
//! - [`score`]: per-attempt scores and per-cell summaries (Wilson intervals, medians);
//! - [`store`]: the SQLite run store (runs, cells, attempts committed one by one);
//! - [`runner`]: the matrix runner (bounded concurrency, resume).
#![deny(missing_docs)]

pub mod error;
pub mod runner;
pub mod score;
pub mod store;
pub mod suite;

pub use error::{EvalError, Result};

/// Version of the evals crate (recorded in run metadata).
#[must_use]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
