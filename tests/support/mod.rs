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

/// Runs `breadcrumb ARGS` with its stdout a pipe whose reader is closed before the command
/// writes anything (what `breadcrumb ... | head -0` does), and waits for it.
pub fn breadcrumb_into_closed_pipe(args: &[&str]) -> Output {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_breadcrumb"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run breadcrumb");
    // Closed at once: the process is still starting up, so its first write meets no reader.
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for breadcrumb")
}
