//! The deterministic pieces of a campaign: kilometres driven over many sols.
//!
//! A campaign ([`crate`] users: `breadcrumb campaign` in the agent crate) takes a start and a
//! goal kilometres apart on one site. Its strategic route comes from a coarse grid read from
//! the DEM's overviews ([`coarse`]); it is cut into sols ([`legs`]), each ending on a safe
//! stop ([`safe_stop`]) about a sol's drive budget along the route; each sol is then planned
//! by the normal loop from where the last one ended, checked by the safety checker and driven
//! in the digital twin. With a language model, the strategic route may instead come from the
//! model's own corridor, checked at coarse scale by [`waypoints`]. [`overview`] draws the
//! whole campaign on one picture, and the area the model is shown.

pub mod coarse;
pub mod legs;
pub mod overview;
pub mod safe_stop;
pub mod waypoints;

pub use coarse::{coarse_grid, coarse_route, CoarseGrid, CoarseRoute, DEFAULT_CELL_M};
pub use safe_stop::{SafeStopRules, StopJudge, StopVerdict};
pub use waypoints::{check_corridor, CorridorCheck, CorridorViolation};
