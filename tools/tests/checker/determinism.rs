//! The same inputs give byte-identical verdict JSON: across runs, across rayon pools of one and
//! two threads, and through a JSON round trip.

use breadcrumb_tools::checker::plan::load_routes;
use breadcrumb_tools::checker::{check_sol, Checker, Mission, Plan, Pt, Verdict};
use breadcrumb_tools::terrain::{Bundle, Sol};

use super::common::{fixtures, perseverance, rough_site};
use crate::realdata;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

/// A long plan over the rough test site that breaks many rules in many segments.
fn busy_plan() -> Vec<Pt> {
    (0..60)
        .map(|i| {
            let a = f64::from(i) * 0.37;
            (100.0 + 70.0 * a.cos() * (1.0 + 0.1 * f64::from(i % 3)), 100.0 + 70.0 * a.sin())
        })
        .collect()
}

#[test]
fn verdicts_are_byte_identical_across_runs_and_thread_counts() {
    let site = rough_site(5);
    let p = perseverance();
    let pts = busy_plan();
    let mut m = Mission::for_route(&pts, &p);
    m.drive_budget_m = 2000.0;
    m.keep_out = vec![("zone".into(), super::common::square(90.0, 90.0, 20.0))];
    let run = |threads: usize| -> String {
        pool(threads).install(|| {
            Checker::new(&site.dem, &site.hazards, &p).check(&m, &pts).unwrap().to_json()
        })
    };
    let one = run(1);
    let v: Verdict = serde_json::from_str(&one).unwrap();
    assert!(
        !v.pass && v.violations.len() > 10 && v.failed_rules().len() >= 4,
        "{:?}",
        v.failed_rules()
    );
    for threads in [2, 1, 2] {
        assert_eq!(run(threads), one, "{threads} threads");
    }
    // Parsing and re-serialising the verdict reproduces it byte for byte.
    assert_eq!(v.to_json(), one);
}

#[test]
fn fixture_sols_and_gale_routes_are_deterministic() {
    let p = perseverance();
    // Every fixture sol, with the straight line from start to goal as its plan.
    let mut paths: Vec<_> = std::fs::read_dir(fixtures().join("sols"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let sol = Sol::load(path).unwrap();
        let s = &sol.sol;
        let plan = Plan::from_points(&[
            (s.start.x, s.start.y),
            (s.start.x.midpoint(s.goal.x), s.start.y.midpoint(s.goal.y)),
            (s.goal.x, s.goal.y),
        ]);
        let a = pool(1).install(|| check_sol(&sol, &plan).unwrap().to_json());
        let b = pool(2).install(|| check_sol(&sol, &plan).unwrap().to_json());
        assert_eq!(a, b, "{}", s.id);
    }
    let dir = realdata("gale-marias-pass");
    let bundle = Bundle::open(&dir).unwrap();
    let (routes, _) = load_routes(&dir.join("drives.geojson")).unwrap();
    let all = |threads: usize| -> Vec<String> {
        pool(threads).install(|| {
            let c = Checker::new(&bundle.dem, &[], &p);
            routes
                .iter()
                .map(|r| c.check(&Mission::for_route(&r.points, &p), &r.points).unwrap().to_json())
                .collect()
        })
    };
    assert_eq!(all(1), all(2));
}
