//! `breadcrumb verify`: a run's dossier re-checks itself (exit 0 when the verdict is
//! byte-identical, 1 when it differs, 2 when a copy or the bundle changed), and `breadcrumb
//! check` warns when a plan was made on another bundle.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

mod support;
use support::{breadcrumb, stderr, stdout};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sha256_file(path: &Path) -> String {
    format!("sha256:{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

fn provenance(run: &Path) -> Value {
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("plan.json")).unwrap()).unwrap();
    plan["provenance"].clone()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A temporary copy of the plains site, the plains-02-keepout sol pointed at it (as
/// scripts/demo does), and a `propose` run of the reference policy on it.
struct Proposed {
    _tmp: tempfile::TempDir,
    site: PathBuf,
    run: PathBuf,
}

fn propose_on_a_copy_of_plains() -> Proposed {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir(&site).unwrap();
    for e in std::fs::read_dir(repo().join("fixtures/sites/plains")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), site.join(e.file_name())).unwrap();
    }
    let rover = repo().join("fixtures/rovers/perseverance.toml");
    let sol: String = std::fs::read_to_string(repo().join("fixtures/sols/plains-02-keepout.toml"))
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("bundle =") {
                "bundle = \"site\"".to_owned()
            } else if l.starts_with("rover =") {
                format!("rover = {:?}", s(&rover))
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let sol_path = tmp.path().join("sol.toml");
    std::fs::write(&sol_path, sol).unwrap();
    let runs = tmp.path().join("runs");
    let o = breadcrumb(&["propose", s(&sol_path), "--runs-dir", s(&runs), "--run-id", "v"]);
    assert_eq!(o.status.code(), Some(0), "propose: {}{}", stdout(&o), stderr(&o));
    Proposed { run: runs.join("v"), site, _tmp: tmp }
}

#[test]
fn a_propose_run_verifies_and_a_changed_verdict_copy_or_bundle_does_not() {
    let p = propose_on_a_copy_of_plains();
    let run = s(&p.run);
    for f in ["plan.json", "verdict.json", "sol.toml", "rover.toml"] {
        assert!(p.run.join(f).is_file(), "{f} missing from the dossier");
    }
    let prov = provenance(&p.run);
    let bundle_hash = prov["bundle_hash"].as_str().unwrap().to_owned();
    let dem_hash = prov["bundle_files"]["dem.tif"].as_str().unwrap().to_owned();
    assert_eq!(dem_hash, sha256_file(&p.site.join("dem.tif")), "per-file hashes are SHA-256");
    assert_eq!(
        prov["rover_hash"].as_str().unwrap(),
        sha256_file(&repo().join("fixtures/rovers/perseverance.toml"))
    );
    assert!(prov["sol_hash"].as_str().unwrap().starts_with("sha256:"));

    // Untouched: the same verdict, byte for byte.
    let o = breadcrumb(&["verify", run]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("verdict PASS: byte-identical to verdict.json"), "{out}");
    assert!(out.contains("plains-02-keepout") && out.contains(&bundle_hash), "{out}");
    // The dossier's sol copy is a sol `check` can use, and it names the same bundle: no warning.
    let o =
        breadcrumb(&["check", "--sol", &format!("{run}/sol.toml"), &format!("{run}/plan.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));

    // An edited verdict.json: exit 1, and where it differs.
    let verdict = p.run.join("verdict.json");
    let recorded = std::fs::read_to_string(&verdict).unwrap();
    std::fs::write(&verdict, recorded.replacen("\"pass\": true", "\"pass\": false", 1)).unwrap();
    let o = breadcrumb(&["verify", run]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("DIFFERS from verdict.json"), "{out}");
    assert!(out.contains("verdict.json:   \"pass\": false,"), "{out}");
    std::fs::write(&verdict, &recorded).unwrap();
    assert_eq!(breadcrumb(&["verify", run]).status.code(), Some(0));

    // An edited copy of the rover profile or the sol: exit 2, naming the file and both hashes.
    let rover = p.run.join("rover.toml");
    let text = std::fs::read_to_string(&rover).unwrap();
    std::fs::write(&rover, format!("{text}\n# edited\n")).unwrap();
    let o = breadcrumb(&["verify", run]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("rover.toml changed since the run"), "{err}");
    assert!(err.contains(prov["rover_hash"].as_str().unwrap()), "{err}");
    assert!(err.contains(&sha256_file(&rover)), "{err}");
    std::fs::write(&rover, &text).unwrap();
    let sol = p.run.join("sol.toml");
    let text = std::fs::read_to_string(&sol).unwrap();
    std::fs::write(&sol, text.replacen("tolerance_m = 2.0", "tolerance_m = 20.0", 1)).unwrap();
    let o = breadcrumb(&["verify", run]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sol.toml changed since the run"), "{}", stderr(&o));
    std::fs::write(&sol, &text).unwrap();
    assert_eq!(breadcrumb(&["verify", run]).status.code(), Some(0));

    // One byte of the bundle's DEM changed: exit 2, naming dem.tif and both of its hashes.
    let dem = p.site.join("dem.tif");
    let mut bytes = std::fs::read(&dem).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&dem, &bytes).unwrap();
    let now = sha256_file(&dem);
    let o = breadcrumb(&["verify", run]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(&format!("dem.tif was {dem_hash}, is now {now}")), "{err}");
    assert!(err.contains(&bundle_hash), "{err}");
    // `check` still checks, and warns that the plan was made on other terrain.
    let o =
        breadcrumb(&["check", "--sol", &format!("{run}/sol.toml"), &format!("{run}/plan.json")]);
    let err = stderr(&o);
    assert!(err.starts_with("warning: ") && err.contains(&bundle_hash), "{err}");
    assert!(err.contains(&format!("dem.tif was {dem_hash}, is now {now}")), "{err}");

    // The bundle gone: exit 2, naming where it should be.
    std::fs::rename(&p.site, p.site.with_extension("gone")).unwrap();
    let o = breadcrumb(&["verify", run]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{} is missing", p.site.display())), "{}", stderr(&o));
}

#[test]
fn check_warns_when_the_plan_names_another_bundle_and_still_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("plan.json");
    let other = format!("sha256:{}", "0".repeat(64));
    // The straight line of plains-02-keepout (it crosses the keep-out: a FAIL, exit 1).
    let text = serde_json::json!({
        "waypoints": [{"x": -130.0, "y": 1_090_664.0}, {"x": 110.0, "y": 1_090_634.0}],
        "provenance": {"sol": "plains-02-keepout", "bundle_hash": other},
    });
    std::fs::write(&plan, text.to_string()).unwrap();
    let o = breadcrumb(&["check", "--sol", "fixtures/sols/plains-02-keepout.toml", s(&plan)]);
    assert_eq!(o.status.code(), Some(1), "the verdict is unchanged by the warning");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("warning: {}: its provenance names bundle {other}", s(&plan))));
    assert!(err.contains("sites/plains is now sha256:"), "{err}");
    assert!(stdout(&o).contains("FAIL"), "{}", stdout(&o));
    // Without a bundle hash in the provenance there is nothing to compare: no warning.
    std::fs::write(&plan, r#"{"waypoints": [{"x": -130.0, "y": 1090664.0}]}"#).unwrap();
    let o = breadcrumb(&["check", "--sol", "fixtures/sols/plains-02-keepout.toml", s(&plan)]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn verify_explains_itself_and_refuses_what_it_cannot_check() {
    let o = breadcrumb(&["verify", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for needle in ["byte-identical", "sol.toml", "rover.toml", "sha256sum", "Exit status: 0"] {
        assert!(help.contains(needle), "{needle:?} not in:\n{help}");
    }
    assert!(help.contains("Example: breadcrumb verify runs/"), "{help}");
    assert!(stdout(&breadcrumb(&["--help"])).contains("verify"));

    let o = breadcrumb(&["verify", "/nonexistent/run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/run: no such run"), "{}", stderr(&o));
    // A plan from before self-verifying dossiers: refused, saying what is missing.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("plan.json"),
        r#"{"waypoints": [{"x": 0, "y": 0}], "provenance": {"bundle_hash": "sha256:00"}}"#,
    )
    .unwrap();
    let o = breadcrumb(&["verify", s(tmp.path())]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("provenance has no `sol_hash`") && err.contains("plan.json"), "{err}");
}
