//! Integration tests of breadcrumb-sites, one module per area (one test target, as in tools).

// The helpers the tools tests use (real data, a PDS3 writer, planned-route soundness): one
// copy, included by path.
#[path = "../../tools/tests/support.rs"]
mod support;

mod import;
mod sol_from_route;
mod synth;

pub use support::realdata;
