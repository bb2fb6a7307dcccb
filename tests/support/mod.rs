//! What every command-line test does: run the built `breadcrumb` from the repository root and
//! read what it printed. Shared by the test files through `mod support;` (each uses a part).
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `breadcrumb ARGS` in the repository root and waits for it.
pub fn breadcrumb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_breadcrumb"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run breadcrumb")
}

/// What it printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What it printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
