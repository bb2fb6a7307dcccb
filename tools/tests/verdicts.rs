//! One verdict per fixture sol, snapshotted (tests/snapshots/): the checker's JSON for the
//! straight line from start to goal, the naive plan that scripts/demo also checks. It is
//! deterministic (no planner, no model in between) and it crosses what each sol was built
//! around (keep-outs, rocks, ripples, walls), so a change to any rule, limit, rounding or
//! fixture shows up as a diff of a committed `.snap` file. A mismatch fails the test; run
//! `INSTA_UPDATE=always cargo test -p breadcrumb-tools --test tests verdicts`, read the diff and
//! commit it when the change is meant.

use std::path::PathBuf;

use breadcrumb_tools::checker::{check_sol, Plan};
use breadcrumb_tools::terrain::Sol;

#[test]
fn the_straight_line_verdict_of_every_fixture_sol() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 7, "fixture sols: {paths:?}");
    for path in &paths {
        let sol = Sol::load(path).unwrap();
        let s = &sol.sol;
        let plan = Plan::from_points(&[(s.start.x, s.start.y), (s.goal.x, s.goal.y)]);
        let verdict = check_sol(&sol, &plan).unwrap();
        assert_eq!(verdict.sol, s.id);
        let mut settings = insta::Settings::clone_current();
        settings.set_description(format!(
            "the straight line from start to goal of fixtures/sols/{}.toml",
            s.id
        ));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(s.id.as_str(), verdict.to_json()));
    }
}
