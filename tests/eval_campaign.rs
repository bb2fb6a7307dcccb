//! The campaign suite CI runs: `eval campaign --suite campaign-ci`, one 2 km campaign on a
//! synthetic 2 km site made at test time, by the reference policy. Every sol accepted by the
//! checker and the twin, the goal reached, the scores written and stored in the run store; run
//! again (as a second stored run), it resumes the finished campaign instead of driving it again.
//! The two stored runs then feed `eval list`, `eval compare` and `eval report`, so the one
//! campaign drive CI pays for tests them all.

mod support;
use support::{breadcrumb, stderr, stdout};

#[test]
fn the_ci_campaign_suite_reaches_its_goal_and_scores_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let sites = tmp.path().join("sites");
    let db = tmp.path().join("b.db");
    let (out_s, sites_s, db_s) = (
        out.to_string_lossy().into_owned(),
        sites.to_string_lossy().into_owned(),
        db.to_string_lossy().into_owned(),
    );
    let run = |run_id: &str| {
        breadcrumb(&[
            "eval",
            "campaign",
            "--suite",
            "campaign-ci",
            "--models",
            "reference",
            "--out",
            &out_s,
            "--sites-cache",
            &sites_s,
            "--db",
            &db_s,
            "--run-id",
            run_id,
            "--json",
        ])
    };
    let o = run("c1");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let scores: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scores.json")).unwrap()).unwrap();
    assert_eq!(scores, on_disk);
    let s = &scores[0];
    assert_eq!(s["campaign"], "mixed-2km");
    assert_eq!(s["model"], "reference");
    assert_eq!(s["reached"], true, "{s}");
    assert!(s["km"].as_f64().unwrap() >= 2.0, "{s}");
    assert!(s["sols"].as_u64().unwrap() >= 7, "{s}");
    assert_eq!(s["sols_ratio"], 1.0);
    assert_eq!(s["length_ratio"], 1.0);
    assert_eq!(s["cost_ratio"], 1.0);
    let dir = std::path::Path::new(s["dir"].as_str().unwrap());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("campaign.json")).unwrap()).unwrap();
    for sol in record["sols"].as_array().unwrap() {
        assert_eq!(sol["status"], "accepted", "{sol}");
        assert_eq!(sol["checker_pass"], true);
        assert_eq!(sol["twin_pass"], true);
        assert_eq!(sol["end_stop"]["safe"], true);
    }
    assert!(sites.join("mixed-7-2048-1/dem.tif").exists());

    // Again: the finished campaign is resumed, not driven again.
    let before = std::fs::read_dir(dir.join("sols")).unwrap().count();
    let o = run("c2");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let again: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(again[0]["sols"], s["sols"]);
    assert!(again[0]["wall_s"].as_f64().unwrap() < s["wall_s"].as_f64().unwrap());
    assert_eq!(std::fs::read_dir(dir.join("sols")).unwrap().count(), before);

    // The same --run-id continues its run, only with the same suite, models and prompt.
    let o = breadcrumb(&[
        "eval",
        "campaign",
        "--suite",
        "campaign-ci",
        "--models",
        "reference,noisy",
        "--out",
        &out_s,
        "--sites-cache",
        &sites_s,
        "--db",
        &db_s,
        "--run-id",
        "c2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("run `c2`") && stderr(&o).contains("models reference"),
        "{}",
        stderr(&o)
    );

    let o = run("c2");
    assert_eq!(o.status.code(), Some(0), "continued: {}", stderr(&o));

    // Both runs are in the store, finished, as campaign runs (c2 continued, not doubled).
    let o = breadcrumb(&["eval", "list", "--db", &db_s]);
    let list = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{list}{}", stderr(&o));
    for id in ["c1", "c2"] {
        let line = list.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("{list}"));
        assert!(
            line.contains("suite campaign-ci") && line.contains("1/1 campaigns, 1 reached  done"),
            "{line}"
        );
    }
    // A campaign run is not resumed as a sol run.
    let o = breadcrumb(&["eval", "run", "--resume", "c1", "--db", &db_s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a campaign run"), "{}", stderr(&o));

    compare_the_two_runs(&db_s, s);
    report_the_first_run(tmp.path(), &db_s, dir);
    a_sol_run_does_not_compare_with_a_campaign_run(tmp.path(), &db_s);
}

/// The run against its resumed self: one pair, the same on every score but wall time, and
/// honest that one campaign allows no verdict.
fn compare_the_two_runs(db: &str, first: &serde_json::Value) {
    let o = breadcrumb(&["eval", "compare", "c1", "c2", "--db", db, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let c: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(c["kind"], "campaign");
    assert_eq!(c["pairs"], 1);
    assert_eq!(c["pairing"]["by"], "across_cells", "one cell a side");
    assert_eq!(
        (c["reached"]["both"].as_u64(), c["reached"]["a_rate"].as_f64()),
        (Some(1), Some(1.0))
    );
    assert_eq!(c["reached"]["verdict"], "the same on all 1 campaign(s)");
    let metric = |name: &str| {
        c["continuous"].as_array().unwrap().iter().find(|d| d["metric"] == name).cloned().unwrap()
    };
    for name in ["sols", "length_ratio", "cost_ratio", "km", "first_submit_rate"] {
        let d = metric(name);
        assert_eq!(d["delta"], 0.0, "{d}");
        assert_eq!(d["verdict"], "the same on all 1 campaign(s)", "{d}");
    }
    assert_eq!(metric("sols")["a_mean"].as_f64(), first["sols"].as_f64());
    let wall = metric("wall_s");
    assert!(wall["delta"].as_f64().unwrap() < 0.0, "the resumed run is faster: {wall}");
    assert!(wall["verdict"].as_str().unwrap().starts_with("n = 1: too few campaigns"), "{wall}");
    assert!(wall["ci"].is_null() && wall["p_value"].is_null(), "{wall}");
    assert_eq!(c["per_campaign"][0]["campaign"], "mixed-2km");

    // The tables say the same; one cell of each run compares across runs.
    let o = breadcrumb(&["eval", "compare", "c1:reference:v1", "c2:reference:v1", "--db", db]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    assert!(text.contains("1 pairs, paired by campaign, reference:v1 vs reference:v1"), "{text}");
    assert!(text.contains("too few campaigns for a verdict"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("mixed-2km") && l.contains("yes/yes")), "{text}");
    // --fail-on gates sol runs only.
    let o =
        breadcrumb(&["eval", "compare", "c1", "c2", "--db", db, "--fail-on", "cost_ratio:+0.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--fail-on gates sol runs"), "{}", stderr(&o));
}

/// The report of a campaign run: the campaign's section, its scores and sols, its overview.
fn report_the_first_run(tmp: &std::path::Path, db: &str, campaign_dir: &std::path::Path) {
    let html_path = tmp.join("report.html");
    let o = breadcrumb(&["eval", "report", "c1", "--db", db, "-o", &html_path.to_string_lossy()]);
    let said = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{said}{}", stderr(&o));
    assert!(said.contains("1 campaign(s)") && said.contains("1 overview image(s)"), "{said}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<h2 id=\"campaign-mixed-2km\">mixed-2km</h2>"));
    assert!(html.contains("2.06 km apart"), "the suite's campaign described");
    assert!(html.contains("<td class=\"yes\">yes</td>"), "reached");
    let sols = std::fs::read_dir(campaign_dir.join("sols"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .count();
    assert!(sols >= 7);
    assert!(html.matches("<tr class=\"sol accepted\">").count() >= 7, "a row per sol");
    assert_eq!(html.matches("class=\"overview\" data-img=").count(), 1);
    assert!(html.contains("data:image/jpeg;base64,"), "the overview inlined");
    assert!(!html.contains("class=\"notes\""), "nothing missing: {html:.2000}");
}

/// A sol run (one quick sol) and a campaign run do not compare: exit 2, saying why.
fn a_sol_run_does_not_compare_with_a_campaign_run(tmp: &std::path::Path, db: &str) {
    let suite = tmp.join("one-sol.toml");
    let sol = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sols/plains-01.toml");
    std::fs::write(
        &suite,
        format!("name = \"one-sol\"\n\n[[sol]]\npath = {:?}\n", sol.to_string_lossy()),
    )
    .unwrap();
    let runs = tmp.join("runs").to_string_lossy().into_owned();
    let o = breadcrumb(&[
        "eval",
        "run",
        "--suite",
        &suite.to_string_lossy(),
        "--run-id",
        "s1",
        "--db",
        db,
        "--runs-dir",
        &runs,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = breadcrumb(&["eval", "compare", "s1", "c1", "--db", db]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("`s1` is a sol run and `c1` is a campaign run"), "{e}");
}
