//! `breadcrumb campaign` as a user meets it, on the 320 m plains fixture with a small sol
//! budget (five sols): the goal reached with every sol accepted by the checker and the twin,
//! each sol starting where the last ended and ending on a safe stop, every dossier verifiable;
//! the files it writes; resuming after a stop and after a crash; bad input and answers of no.

use std::path::Path;

mod support;
use support::{breadcrumb, stderr, stdout};

const SITE: &str = "fixtures/sites/plains";

fn args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "campaign",
        "--site",
        SITE,
        "--start=-130,1090520,45",
        "--goal",
        "130,1090790",
        "--rover",
        "perseverance",
        "--sol-budget-m",
        "120",
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

/// `v` with `flag`'s value replaced by `value` (added when absent).
fn with<'a>(mut v: Vec<&'a str>, flag: &'a str, value: &'a str) -> Vec<&'a str> {
    if flag == "--start" {
        v.retain(|x| !x.starts_with("--start="));
    }
    match v.iter().position(|x| *x == flag) {
        Some(i) => v[i + 1] = value,
        None => v.extend([flag, value]),
    }
    v
}

fn record(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("campaign.json")).unwrap()).unwrap()
}

#[test]
fn a_campaign_reaches_the_goal_sol_by_sol_and_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let out = dir.to_string_lossy().into_owned();

    // Stopped after one sol (--max-sols 1): exit 1, one accepted sol on record.
    let o = breadcrumb(&args(&out, &["--max-sols", "1"]));
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let r = record(&dir);
    assert_eq!(r["summary"]["state"], "stopped", "{r}");
    assert_eq!(r["sols"].as_array().unwrap().len(), 1);
    assert_eq!(r["sols"][0]["status"], "accepted");
    let first = std::fs::read(dir.join("sols/sol-01/transcript.jsonl")).unwrap();
    // A crash while sol 2 was being driven left a half-written dossier behind.
    std::fs::create_dir_all(dir.join("sols/sol-02")).unwrap();
    std::fs::write(dir.join("sols/sol-02/transcript.jsonl"), "{\"half\":").unwrap();

    // The same command resumes at sol 2 and reaches the goal.
    let o = breadcrumb(&args(&out, &[]));
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    assert!(text.starts_with("REACHED"), "{text}");
    assert!(stderr(&o).contains("resuming after 1 accepted sols"), "{}", stderr(&o));
    assert_eq!(std::fs::read(dir.join("sols/sol-01/transcript.jsonl")).unwrap(), first);
    assert!(dir.join("sols/sol-02.interrupted-1/transcript.jsonl").exists());

    let r = record(&dir);
    let s = &r["summary"];
    assert_eq!(s["reached"], true, "{r}");
    assert_eq!(s["state"], "reached");
    let sols = r["sols"].as_array().unwrap();
    assert!(sols.len() >= 3, "{} sols", sols.len());
    assert_eq!(s["sols_accepted"].as_u64().unwrap() as usize, sols.len());
    let goal = (130.0, 1_090_790.0);
    let mut at = (-130.0, 1_090_520.0, 45.0);
    let mut km = 0.0;
    for sol in sols {
        assert_eq!(sol["status"], "accepted", "{sol}");
        assert_eq!(sol["checker_pass"], true);
        assert_eq!(sol["twin_pass"], true);
        assert!(sol["drive_s"].as_f64().unwrap() <= sol["drive_window_s"].as_f64().unwrap());
        let len = sol["length_m"].as_f64().unwrap();
        assert!(len <= 120.0 + 1e-9, "{len}");
        km += len / 1000.0;
        // It starts where the last one ended, and ends on a safe stop.
        let st = &sol["start"];
        assert_eq!((st[0].as_f64().unwrap(), st[1].as_f64().unwrap()), (at.0, at.1), "{sol}");
        assert_eq!(st[2].as_f64().unwrap(), at.2);
        let stop = &sol["end_stop"];
        assert_eq!(stop["safe"], true, "{stop}");
        assert!(stop["max_tilt_deg"].as_f64().unwrap() <= 15.0);
        let wps = sol["waypoints"].as_array().unwrap();
        for w in wps.windows(2) {
            let d = (w[1][0].as_f64().unwrap() - w[0][0].as_f64().unwrap())
                .hypot(w[1][1].as_f64().unwrap() - w[0][1].as_f64().unwrap());
            assert!(d <= 100.0 + 1e-9, "waypoints {d} m apart");
        }
        let e = &sol["end"];
        at = (e[0].as_f64().unwrap(), e[1].as_f64().unwrap(), e[2].as_f64().unwrap());
        // Its dossier re-checks to the same verdict.
        let run = dir.join(sol["run_dir"].as_str().unwrap());
        let v = breadcrumb(&["verify", &run.to_string_lossy()]);
        assert_eq!(v.status.code(), Some(0), "{}{}", stdout(&v), stderr(&v));
    }
    assert!((at.0 - goal.0).hypot(at.1 - goal.1) <= 5.0, "ends at {at:?}");
    assert!((s["km"].as_f64().unwrap() - km).abs() < 1e-9);
    assert!(s["drive_hours"].as_f64().unwrap() > 0.0);

    // The GeoJSON: the strategic route, each sol, each end, start and goal.
    let gj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("campaign.geojson")).unwrap())
            .unwrap();
    let kinds: Vec<&str> = gj["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "sol").count(), sols.len());
    assert_eq!(kinds.iter().filter(|k| **k == "sol_end").count(), sols.len());
    for k in ["strategic", "start", "goal"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    let png = std::fs::read(dir.join("overview.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let side = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    assert_eq!((side(16), side(20)), (1536, 1536));

    // Run again: nothing left to do, nothing rewritten but the record.
    let o = breadcrumb(&args(&out, &[]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(record(&dir)["sols"].as_array().unwrap().len(), sols.len());
    // Another campaign in the same directory is refused.
    let o = breadcrumb(&with(args(&out, &[]), "--sol-budget-m", "100"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds another campaign"), "{}", stderr(&o));
}

#[test]
fn goals_off_the_map_walled_off_or_unsafe_are_answers_of_no_and_bad_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = |n: &str| tmp.path().join(n).to_string_lossy().into_owned();
    // Off the map: exit 1, naming the goal and the map's extent.
    let o1 = out("a");
    let o = breadcrumb(&with(args(&o1, &[]), "--goal", "900,1090790"));
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("NO CAMPAIGN") && e.contains("goal") && e.contains("-160"), "{e}");
    // A goal inside a mapped keep-out hazard has no safe stop: exit 1, said before driving.
    let o2 = out("b");
    let hazards = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(SITE).join("hazards.geojson"),
    )
    .unwrap();
    let gj: serde_json::Value = serde_json::from_str(&hazards).unwrap();
    let rock = gj["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["class"] == "rock")
        .expect("a mapped rock");
    let c = &rock["geometry"]["coordinates"][0][0];
    let goal = format!("{},{}", c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let o = breadcrumb(&with(args(&o2, &["--goal-tolerance-m", "1"]), "--goal", &goal));
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("no safe stop within 1.0 m of the goal"), "{}", stderr(&o));
    assert!(!Path::new(&o2).join("sols/sol-01").exists(), "nothing was driven");
    // Bad input: exit 2, one line naming the value.
    for (flag, value, want) in [
        ("--start", "abc", "--start \"abc\""),
        ("--goal", "1,2,3", "--goal \"1,2,3\""),
        ("--sol-budget-m", "5", "too small"),
        ("--rover", "no-such-rover", "no-such-rover"),
    ] {
        let o3 = out("c");
        let o = breadcrumb(&with(args(&o3, &[]), flag, value));
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains(want), "{flag} {value}: {}", stderr(&o));
    }
    let o = breadcrumb(&["campaign", "--help"]);
    assert!(stdout(&o).contains("resumes at the first sol not accepted"), "{}", stdout(&o));
}
