//! Perception: what a model says it sees, as constraints the checker can enforce.
//!
//! - [`mark`]: a hazard a model marks (class, outline, confidence, reason), validated into a
//!   simple polygon on the map or refused with an error that says what to fix.

pub mod mark;

pub use mark::{validate, Mark, MarkClass, MarkError, MarkInput, MarkShape};
