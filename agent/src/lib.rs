//! # breadcrumb-agent
//!
//! The agent loop: model providers, prompts, transcripts and plan dossiers. It drives the
//! deterministic [`breadcrumb_tools`] and never computes terrain itself. Campaigns
//! ([`campaign`]) chain the loop over many sols.
#![deny(missing_docs)]

pub mod campaign;
pub mod error;
pub mod models;
pub mod prompt;
pub mod provider;
pub mod run;
pub mod session;
pub mod transcript;

pub use error::AgentError;

/// Version of the tools crate this agent was built with (recorded in plan provenance).
#[must_use]
pub fn tools_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
