//! The safety checker: analytic terrains at each rule's limit, an independent brute-force
//! oracle over thousands of random routes, a mutation corpus, parser fuzzing, determinism, and
//! calibration against real Curiosity drives in Gale crater.

mod analytic;
mod calibration;
mod common;
mod determinism;
mod hostile;
mod mutation;
mod oracle;
mod parsing;
mod walk;
