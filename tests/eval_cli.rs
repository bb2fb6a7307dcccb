//! `breadcrumb eval compare` as CI meets it: two real (offline) eval runs into a temp store,
//! `reference` against `noisy`; the table, a `--fail-on` rule that trips (exit 1) and one that
//! does not (exit 0), and errors (exit 2) that name the bad run or rule.

use std::path::{Path, PathBuf};
use std::process::Output;

mod support;
use support::breadcrumb;

fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).to_string_lossy().into_owned()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `model` over the suite as run `id`; returns the (k, n) of the "first submit" column of
/// the runner's own end-of-run table, to check compare's rates against.
fn eval_run(dir: &Path, suite: &Path, model: &str, id: &str) -> (u32, u32) {
    let (db, runs) = (dir.join("db.sqlite"), dir.join("runs"));
    let o = breadcrumb(&[
        "eval",
        "run",
        "--suite",
        &suite.to_string_lossy(),
        "--models",
        model,
        "--repeats",
        "2",
        "--concurrency",
        "2",
        "--run-id",
        id,
        "--db",
        &db.to_string_lossy(),
        "--runs-dir",
        &runs.to_string_lossy(),
        "--models-file",
        &repo("models.toml"),
        "--prompts-dir",
        &repo("prompts"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let row = stdout.lines().find(|l| l.starts_with(model)).unwrap_or_else(|| panic!("{stdout}"));
    // Columns: accepted, first submit, as expected, each `k/n p% [lo-hi]`.
    let rates: Vec<(u32, u32)> = row
        .split_whitespace()
        .filter_map(|t| t.split_once('/'))
        .filter_map(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)))
        .collect();
    assert_eq!(rates.len(), 3, "{row}");
    rates[1]
}

#[test]
fn compare_reference_with_noisy_gates_on_first_submit_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let suite: PathBuf = dir.path().join("suite.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"compare-cli\"\n\n[[sol]]\npath = {:?}\nexpect = \"accepted\"\n\n\
             [[sol]]\npath = {:?}\nexpect = \"accepted\"\n",
            repo("fixtures/sols/plains-02-keepout.toml"),
            repo("fixtures/sols/crater-field-01.toml")
        ),
    )
    .unwrap();
    let (ref_first, ref_n) = eval_run(dir.path(), &suite, "reference", "run-ref");
    let (noisy_first, noisy_n) = eval_run(dir.path(), &suite, "noisy", "run-noisy");
    assert_eq!((ref_n, noisy_n), (4, 4), "2 sols x 2 repeats each");
    let db = dir.path().join("db.sqlite").to_string_lossy().into_owned();
    let cmp = |extra: &[&str]| {
        let mut args = vec!["eval", "compare", "run-ref", "run-noisy", "--db", &db];
        args.extend_from_slice(extra);
        breadcrumb(&args)
    };

    // The table: every metric, the per-sol lines.
    let o = cmp(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "4 pairs, paired by (sol, repeat), reference:v1 vs noisy:v1",
        "accepted_first_submit_rate",
        "cost_ratio",
        "wall_s",
        "plains-02-keepout",
        "crater-field-01",
    ] {
        assert!(table.contains(needle), "`{needle}` missing:\n{table}");
    }

    // The JSON agrees with what each run reported of itself.
    let o = cmp(&["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["pairs"], 4);
    let first = json["binary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "accepted_first_submit_rate")
        .unwrap();
    let (a_rate, b_rate) = (first["a_rate"].as_f64().unwrap(), first["b_rate"].as_f64().unwrap());
    assert!((a_rate - f64::from(ref_first) / 4.0).abs() < 1e-12, "{first}");
    assert!((b_rate - f64::from(noisy_first) / 4.0).abs() < 1e-12, "{first}");
    let delta = b_rate - a_rate;
    // The premise of the gate below: noisy's seeded rule-breaking waypoints cost it first-submit
    // acceptances the reference policy always gets.
    assert!(delta < -0.05, "noisy should pass on the first submission less often: {first}");

    // A rule the data breaks: exit 1, the rule named.
    let o = cmp(&["--fail-on", "accepted_first_submit_rate:-0.05"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("FAIL: accepted_first_submit_rate:-0.05 tripped"), "{out}");
    // A lenient one (no rate can drop by more than 1): exit 0.
    let o = cmp(&["--fail-on", "accepted_first_submit_rate:-1,cost_ratio:+10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("PASS"), "{}", text(&o));

    // Errors: exit 2 with one line naming the run or the rule.
    let o = breadcrumb(&["eval", "compare", "run-ref", "no-such-run", "--db", &db]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no run `no-such-run`") && err.lines().count() == 1, "{err}");
    let o = cmp(&["--fail-on", "accepted_rate:-0.05,acceptance:-0.1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`acceptance:-0.1`") && err.contains("accepted_rate, "), "{err}");
}
