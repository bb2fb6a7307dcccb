//! A model's hazard marks are enforced and can only add refusals: a mark across the only
//! passage turns an accepted route into a rejection (and leaves the planner no route), while no
//! mark, anywhere, turns a refused route into an accepted one.

use std::path::{Path, PathBuf};

use breadcrumb_tools::api::{Effect, ToolCallError, Toolbox};
use breadcrumb_tools::checker::{Pt, Verdict};
use breadcrumb_tools::perception::{validate, MarkInput, MarkShape};
use breadcrumb_tools::planner::{plan_on_grid, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::Sol;
use proptest::prelude::*;
use serde_json::json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The plains-01 sol: an easy drive the baseline planner solves.
fn plains() -> Toolbox {
    Toolbox::open(&Sol::load(&fixtures().join("sols/plains-01.toml")).unwrap()).unwrap()
}

fn plan(tb: &Toolbox) -> PlanOutcome {
    let grid = tb.cost_grid().unwrap();
    plan_on_grid(
        (*grid).clone(),
        &tb.bundle().dem,
        &tb.checker(),
        tb.profile(),
        tb.mission(),
        &PlannerOptions::default(),
    )
    .unwrap()
}

fn route(tb: &Toolbox) -> Vec<Pt> {
    match plan(tb) {
        PlanOutcome::Route(r) => r.waypoints,
        PlanOutcome::NoSafeRoute { reason, .. } => panic!("no route on plains-01: {reason}"),
    }
}

fn check(tb: &Toolbox, pts: &[Pt]) -> Verdict {
    tb.checker().check(tb.mission(), pts).unwrap()
}

fn wp(pts: &[Pt]) -> serde_json::Value {
    pts.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect()
}

/// A sand band across the keep-in from its west edge to its east edge, 30 m tall, between the
/// start's and the goal's latitudes: every route from start to goal must cross it.
fn wall() -> serde_json::Value {
    let (y0, y1) = (1_090_620.0, 1_090_650.0);
    json!({"marks": [{
        "class": "sand_ripple",
        "polygon": [
            {"x_m": -152.0, "y_m": y0}, {"x_m": 152.0, "y_m": y0},
            {"x_m": 152.0, "y_m": y1}, {"x_m": -152.0, "y_m": y1}
        ],
        "confidence": 0.9,
        "reason": "dark rippled sand band across the whole corridor"
    }]})
}

#[test]
fn a_mark_across_the_only_passage_turns_an_accepted_route_into_a_rejection() {
    let tb = plains();
    let pts = route(&tb);
    let before = check(&tb, &pts);
    assert!(before.pass, "the baseline route passes before any mark: {}", before.to_json());
    let dry = tb.call("check_route", &json!({"waypoints": wp(&pts)})).unwrap();
    assert_eq!(dry.result["pass"], true, "{}", dry.result);

    let out = tb.call("mark_hazards", &wall()).unwrap();
    assert_eq!(out.result["marked"][0]["id"], "m1");
    assert_eq!(out.result["marked"][0]["blocks"], true);
    assert!(matches!(out.effect, Some(Effect::Marked { ref marks }) if marks.len() == 1));

    let after = check(&tb, &pts);
    assert!(!after.pass, "the same route must fail once the sand is marked");
    let hazards: Vec<_> = after.violations.iter().filter(|v| v.rule == "hazards").collect();
    assert!(!hazards.is_empty(), "{}", after.to_json());
    assert!(
        hazards.iter().any(|v| v.message.contains("sand_ripple mark m1")),
        "violations name the mark: {}",
        after.to_json()
    );
    // The model's dry run and its submission path see the mark too.
    let dry = tb.call("check_route", &json!({"waypoints": wp(&pts)})).unwrap();
    assert_eq!(dry.result["pass"], false, "{}", dry.result);
    // And the planner, planning on the marked cost grid, finds no way through.
    assert!(
        matches!(plan(&tb), PlanOutcome::NoSafeRoute { .. }),
        "the mark closes the only passage, so no route"
    );
    // A new run over the same site starts without this run's marks.
    let next = tb.fresh();
    assert!(next.marks().is_empty());
    assert!(check(&next, &pts).pass);
}

#[test]
fn bad_marks_are_structured_errors_and_add_nothing() {
    let tb = plains();
    let good = json!({"class": "rock", "circle": {"centre": {"x_m": 0.0, "y_m": 1_090_600.0}, "radius_m": 1.0}, "confidence": 0.5, "reason": "a block"});
    let cases = [
        (
            json!({"class": "lava", "circle": {"centre": {"x_m": 0.0, "y_m": 1_090_600.0}, "radius_m": 1.0}, "confidence": 0.5, "reason": "x"}),
            "marks[1].class",
        ),
        (
            json!({"class": "rock", "polygon": [{"x_m": 0.0, "y_m": 1_090_600.0}, {"x_m": 10.0, "y_m": 1_090_610.0}, {"x_m": 10.0, "y_m": 1_090_600.0}, {"x_m": 0.0, "y_m": 1_090_610.0}], "confidence": 0.5, "reason": "bow tie"}),
            "marks[1].polygon",
        ),
        (
            json!({"class": "rock", "circle": {"centre": {"x_m": 9.0e9, "y_m": 1_090_600.0}, "radius_m": 1.0}, "confidence": 0.5, "reason": "far"}),
            "marks[1].circle",
        ),
        (
            json!({"class": "rock", "circle": {"centre": {"x_m": 0.0, "y_m": 1_090_600.0}, "radius_m": 1.0e4}, "confidence": 0.5, "reason": "huge"}),
            "marks[1].circle",
        ),
        (json!({"class": "rock", "confidence": 0.5, "reason": "no shape"}), "marks[1]"),
        (
            json!({"class": "rock", "circle": {"centre": {"x_m": 0.0, "y_m": 1_090_600.0}, "radius_m": 1.0}, "confidence": 1.5, "reason": "sure"}),
            "marks[1].confidence",
        ),
    ];
    for (bad, field) in cases {
        let e =
            tb.call("mark_hazards", &json!({"marks": [good.clone(), bad.clone()]})).unwrap_err();
        match &e {
            ToolCallError::InvalidArguments { field: Some(f), .. } => assert_eq!(f, field, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
        assert!(tb.marks().is_empty(), "a refused call adds none of its marks: {bad}");
    }
    let nan = r#"{"marks": [{"class": "rock", "circle": {"centre": {"x_m": NaN, "y_m": 0}, "radius_m": 1}, "confidence": 0.5, "reason": "x"}]}"#;
    assert!(tb.call_str("mark_hazards", nan).is_err());
    assert!(tb.call("mark_hazards", &json!({"marks": []})).is_err());
    assert!(tb.marks().is_empty());
}

fn arb_mark() -> impl Strategy<Value = MarkInput> {
    let classes = [
        "rock",
        "boulder_field",
        "sand_ripple",
        "outcrop",
        "scarp",
        "crater",
        "bedrock",
        "unknown",
    ];
    (0..classes.len(), -150.0..150.0f64, 1_090_505.0..1_090_800.0f64, 0.5..40.0f64, any::<bool>())
        .prop_map(move |(c, x, y, r, circle)| MarkInput {
            class: classes[c].into(),
            shape: if circle {
                MarkShape::Circle { centre: (x, y), radius_m: r }
            } else {
                MarkShape::Polygon(vec![(x, y), (x + r, y + 0.3 * r), (x + 0.2 * r, y + r)])
            },
            confidence: 0.5,
            reason: "random".into(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// No set of marks turns a failing route into a passing one, and no rule reports fewer
    /// violations with marks than without: marks only add refusals.
    #[test]
    fn no_mark_turns_a_rejection_into_an_acceptance(
        marks in proptest::collection::vec(arb_mark(), 1..6),
        bend in -80.0..80.0f64,
    ) {
        let base = plains();
        let s = base.mission().start;
        let g = base.mission().goal;
        // A route bent sideways by `bend`: some pass, most fail on something.
        let mid = (0.5 * (s.0 + g.0) + bend, 0.5 * (s.1 + g.1) - bend);
        let pts: Vec<Pt> = (0..=8).map(|i| {
            let t = f64::from(i) / 8.0;
            let (a, b) = if t < 0.5 { (s, mid) } else { (mid, g) };
            let u = if t < 0.5 { 2.0 * t } else { 2.0 * t - 1.0 };
            (a.0 + u * (b.0 - a.0), a.1 + u * (b.1 - a.1))
        }).collect();
        let without = check(&base, &pts);
        let tb = base.fresh();
        let valid: Vec<_> = marks.iter().filter_map(|m| validate(m, tb.extent()).ok()).collect();
        tb.add_marks(valid).unwrap();
        let with = check(&tb, &pts);
        prop_assert!(!with.pass || without.pass, "a mark made a failing route pass");
        for rule in &without.rules {
            let n = |v: &Verdict| v.violations.iter().filter(|x| x.rule == rule.rule).count();
            prop_assert!(n(&with) >= n(&without), "rule {} lost violations", rule.rule);
        }
    }
}
