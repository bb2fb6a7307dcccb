//! Perception: what a model says it sees, as constraints the checker can enforce.
//!
//! - [`mark`]: a hazard a model marks (class, outline, confidence, reason), validated into a
//!   simple polygon on the map or refused with an error that says what to fix.
//! - [`classify`]: the baseline terrain classifier: a class for every DEM cell from the DEM and
//!   the orbital image, and polygons of its patches as hazards.

pub mod classify;
pub mod mark;

pub use classify::{classify, classify_with, Class, ClassMap, ClassifyParams, PolygonOptions};
pub use mark::{validate, Mark, MarkClass, MarkError, MarkInput, MarkShape};
