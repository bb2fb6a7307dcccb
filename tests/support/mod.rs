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

/// The regex filters (pattern, replacement) of [`cli_snapshot!`]: what changes from run to run
/// or machine to machine and is not what a CLI snapshot is about. The one list: a snapshot test
/// needing another mask adds it here.
#[must_use]
pub fn snapshot_filters() -> Vec<(String, String)> {
    let escape = |s: &str| {
        s.chars().fold(String::new(), |mut out, c| {
            if r"\.+*?()|[]{}^$#&-~".contains(c) {
                out.push('\\');
            }
            out.push(c);
            out
        })
    };
    let tmp = std::env::temp_dir();
    let tmp = escape(tmp.to_string_lossy().trim_end_matches('/'));
    vec![
        // tempfile's directories (`/tmp/.tmpAbC123`), then the checkout.
        (format!(r"{tmp}/\.tmp[0-9A-Za-z]+"), "[TEMP]".into()),
        (escape(env!("CARGO_MANIFEST_DIR")), "[REPO]".into()),
        // Timings.
        (r"\b\d+(\.\d+)? ms\b".into(), "[N] ms".into()),
        (r"\bafter \d+(\.\d+)? s\b".into(), "after [N] s".into()),
        // Content hashes (prompts, bundles, files) and creation times.
        (r"sha256:[0-9a-f]{6,}…?".into(), "sha256:[HASH]".into()),
        (r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b".into(), "[DATE]".into()),
    ]
}

/// What a CLI snapshot holds: the exit code, stdout and stderr.
#[must_use]
pub fn snapshot_text(o: &Output) -> String {
    format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        o.status.code().map_or_else(|| "signal".to_owned(), |c| c.to_string()),
        stdout(o),
        stderr(o)
    )
}

/// Snapshots a `breadcrumb` run (exit code, stdout, stderr) as `tests/snapshots/<file>__<name>
/// .snap`, masked by [`snapshot_filters`], as uv's `uv_snapshot!` does. A mismatch fails the
/// test (with `CI` set insta writes nothing; elsewhere it leaves a `.snap.new` beside the
/// snapshot); `INSTA_UPDATE=always cargo test ...` rewrites the snapshots, to review with
/// `git diff` and commit.
#[allow(unused_macros)]
macro_rules! cli_snapshot {
    ($name:expr, $output:expr) => {{
        let text = $crate::support::snapshot_text(&$output);
        let mut settings = insta::Settings::clone_current();
        for (pattern, replacement) in $crate::support::snapshot_filters() {
            settings.add_filter(&pattern, replacement);
        }
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!($name, text));
    }};
}
#[allow(unused_imports)]
pub(crate) use cli_snapshot;
