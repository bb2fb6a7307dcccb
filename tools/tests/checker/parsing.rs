//! Plan JSON, route GeoJSON and sol TOML parsing never panics, whatever the text; whatever
//! parses is then checked without panicking either.

use std::path::Path;

use breadcrumb_tools::checker::plan::routes_from_geojson;
use breadcrumb_tools::checker::{Checker, Mission, Plan};
use breadcrumb_tools::terrain::{Grid, Sol};
use proptest::prelude::*;

use super::common::{grid, perseverance};

const PLAN: &str = r#"{
  "waypoints": [
    {"x": 10.5, "y": 20.25, "note": "start"},
    {"x": 40, "y": 60},
    {"x": 70.125, "y": 75.5}
  ],
  "provenance": {"sol": "t-01", "model": "m", "tools": {"checker": "0.1.0"}},
  "verdict": null
}"#;

const SOL: &str = r#"id = "t-01"
bundle = "../sites/plains"
rover = "../rovers/perseverance.toml"
drive_budget_m = 300.0
keep_in = [[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]]
[start]
x = 10.0
y = 20.0
heading_deg = 45.0
[goal]
x = 70.0
y = 75.0
tolerance_m = 2.0
[[keep_out]]
name = "sand"
polygon = [[40.0, 40.0], [50.0, 40.0], [50.0, 50.0]]
"#;

fn site() -> Grid {
    grid(100, 1.0, |x, y| 0.05 * x + 0.02 * y)
}

/// Checks whatever parsed; the result may be a verdict or an error, never a panic.
fn check_points(points: &[(f64, f64)], mission: Option<Mission>) {
    let p = perseverance();
    let g = site();
    let mission = mission.unwrap_or_else(|| Mission::for_route(points, &p));
    let _ = Checker::new(&g, &[], &p).check(&mission, points);
}

/// `text` with edits applied at byte offsets (kept on char boundaries).
fn mutate(text: &str, edits: &[(usize, u8, char)]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for &(pos, kind, c) in edits {
        if s.is_empty() {
            s.push(c);
            continue;
        }
        let i = pos % s.len();
        match kind % 4 {
            0 => {
                s.remove(i);
            }
            1 => s.insert(i, c),
            2 => s[i] = c,
            _ => {
                // Duplicate a stretch (nesting, repeated keys).
                let j = (i + 1 + usize::from(c as u8 % 16)).min(s.len());
                let chunk: Vec<char> = s[i..j].to_vec();
                for (k, ch) in chunk.into_iter().enumerate() {
                    s.insert(j + k, ch);
                }
            }
        }
    }
    s.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, char)>> {
    let chars = prop_oneof![
        Just('{'),
        Just('}'),
        Just('['),
        Just(']'),
        Just('"'),
        Just(','),
        Just(':'),
        Just('-'),
        Just('e'),
        Just('9'),
        Just('.'),
        Just('\n'),
        Just('='),
        Just('#'),
        Just('\''),
        any::<char>()
    ];
    prop::collection::vec((any::<usize>(), any::<u8>(), chars), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_a_plan_or_an_error(text in ".{0,300}") {
        if let Ok(plan) = Plan::from_json(&text, "fuzz.json") {
            check_points(&plan.points(), None);
        }
        let _ = routes_from_geojson(&text, Path::new("fuzz.geojson"));
        let _ = Sol::from_toml(&text, Path::new("fuzz.toml"));
    }

    #[test]
    fn mutated_plans_parse_or_name_where_they_break(e in edits()) {
        let text = mutate(PLAN, &e);
        match Plan::from_json(&text, "fuzz.json") {
            Ok(plan) => check_points(&plan.points(), None),
            Err(err) => {
                let msg = err.to_string();
                prop_assert!(msg.starts_with("fuzz.json: "), "{msg}");
                prop_assert!(msg.contains("line ") || msg.contains("empty"), "{msg}");
            }
        }
    }

    #[test]
    fn mutated_sols_parse_or_error_and_check(e in edits()) {
        let text = mutate(SOL, &e);
        if let Ok(sol) = Sol::from_toml(&text, Path::new("fuzz.toml")) {
            check_points(&[(sol.start.x, sol.start.y), (sol.goal.x, sol.goal.y)], Some(Mission::from_sol(&sol)));
        }
    }

    #[test]
    fn numbers_of_any_size_give_a_verdict_or_an_error(
        pts in prop::collection::vec((prop::num::f64::ANY, prop::num::f64::ANY), 0..6),
        start_heading in prop::option::of(prop::num::f64::ANY),
    ) {
        let p = perseverance();
        let g = site();
        let mut m = Mission::for_route(&pts, &p);
        m.start_heading_deg = start_heading;
        let _ = Checker::new(&g, &[], &p).check(&m, &pts);
        let json = serde_json::json!({"waypoints": pts.iter().map(|(x, y)| serde_json::json!({"x": x, "y": y})).collect::<Vec<_>>()});
        if let Ok(plan) = Plan::from_json(&json.to_string(), "n.json") {
            check_points(&plan.points(), None);
        }
    }
}

#[test]
fn scale_extremes_parse() {
    // Exponents JSON allows but f64 cannot hold are errors naming the place.
    let e = Plan::from_json(r#"{"waypoints": [{"x": 1e400, "y": 0}]}"#, "big.json").unwrap_err();
    assert!(e.to_string().contains("line 1, column"), "{e}");
    let p = Plan::from_json(r#"{"waypoints": [{"x": 1e300, "y": -1e300}]}"#, "ok.json").unwrap();
    check_points(&p.points(), None);
}
