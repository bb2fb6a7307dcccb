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

    // Both runs are in the store, finished, as campaign runs.
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
}
