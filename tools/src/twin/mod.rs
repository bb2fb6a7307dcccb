//! The digital twin: a plan compiled to a drive sequence ([`sequence`]) that a kinematic
//! rocker-bogie rover will drive over the DEM. It knows nothing of models; it is meant as a
//! second, independent gate beside [`crate::checker`].
//!
//! Units: map metres, degrees, headings clockwise from north, seconds.

pub mod kinematics;
pub mod sequence;

pub use kinematics::{solve, Ground, PoseState};
pub use sequence::{compile, Command, CommandKind, Pose, Sequence, SequenceError};
