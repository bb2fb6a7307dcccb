//! Perception: what a model says it sees, as constraints the checker can enforce.
//!
//! - [`mark`]: a hazard a model marks (class, outline, confidence, reason), validated into a
//!   simple polygon on the map or refused with an error that says what to fix.
//! - [`classify`]: the baseline terrain classifier: a class for every DEM cell from the DEM and
//!   the orbital image, and polygons of its patches as hazards.
//! - [`marks_file`]: a run's marks as `hazards.model.geojson`, read back exactly for
//!   re-checks, and the checker zones they add.
//! - [`outline`]: a mapped outline reduced to one a mark may have (the reference policy marks
//!   what the classifier finds).

pub mod classify;
pub mod mark;
pub mod marks_file;
pub mod outline;

pub use classify::{classify, classify_with, Class, ClassMap, ClassifyParams, PolygonOptions};
pub use mark::{validate, Mark, MarkClass, MarkError, MarkInput, MarkShape};
pub use marks_file::MarkRecord;
