//! # breadcrumb-evals
//!
//! Regression runs over archived sols comparing prompts and models. It drives
//! [`breadcrumb_agent`] and reads [`breadcrumb_tools`]; suites, runner, store and report arrive
//! with the evals issue.
#![deny(missing_docs)]

/// Version of the evals crate (recorded in run metadata).
#[must_use]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
