//! The agent loop driven by scripted in-process models: revision after a rejected route,
//! recovery from malformed arguments, budgets, retries, the reference policy end to end, and
//! replay of a recorded run. (The HTTP wire formats are tested against mock servers in the
//! provider tests.)

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::provider::reference::ReferenceProvider;
use breadcrumb_agent::provider::replay::ReplayProvider;
use breadcrumb_agent::provider::{
    Content, ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind, StopReason,
    ToolCall, Usage,
};
use breadcrumb_agent::session::{
    Budgets, RetryPolicy, RunReport, RunStatus, Session, SessionConfig,
};
use breadcrumb_agent::transcript::{read_events, Event, Record, RunWriter};
use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::{LoadedSol, Sol};
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sol(id: &str) -> LoadedSol {
    Sol::load(&root().join(format!("fixtures/sols/{id}.toml"))).expect("fixture sol")
}

fn prompt() -> PromptSet {
    PromptSet::load_named(&root().join("prompts"), "v1").expect("prompt v1")
}

/// One scripted turn: a response, or an error.
enum Step {
    Calls(Vec<(&'static str, Value)>),
    Text(&'static str, StopReason),
    Fail(ProviderError),
}

/// A model that answers from a script and records every request it got.
#[derive(Debug, Default)]
struct Scripted {
    steps: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<ModelRequest>>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Step")
    }
}

impl Scripted {
    fn new(steps: Vec<Step>) -> Arc<Self> {
        Arc::new(Scripted { steps: Mutex::new(steps.into()), seen: Mutex::default() })
    }
}

#[async_trait::async_trait]
impl Provider for Scripted {
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAi
    }
    fn model(&self) -> &'static str {
        "scripted"
    }
    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        self.seen.lock().unwrap().push(request.clone());
        let step = self.steps.lock().unwrap().pop_front();
        let usage = Some(Usage { input_tokens: 1000, output_tokens: 100, ..Usage::default() });
        let (text, tool_calls, stop_reason) = match step {
            None => ("I am done.".to_owned(), vec![], StopReason::EndTurn),
            Some(Step::Fail(e)) => return Err(e),
            Some(Step::Text(t, stop)) => (t.to_owned(), vec![], stop),
            Some(Step::Calls(calls)) => (
                "working".to_owned(),
                calls
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, arguments))| ToolCall {
                        id: format!("c{}_{i}", self.seen.lock().unwrap().len()),
                        name: name.to_owned(),
                        arguments,
                    })
                    .collect(),
                StopReason::ToolUse,
            ),
        };
        Ok(ModelResponse {
            text,
            tool_calls,
            usage,
            stop_reason,
            latency: Duration::from_millis(1),
            model: Some("scripted".into()),
        })
    }
}

fn wp(points: &[(f64, f64)]) -> Value {
    points.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect()
}

fn planned(s: &LoadedSol) -> Vec<(f64, f64)> {
    match plan_sol(s, &PlannerOptions::default()).expect("planner runs") {
        PlanOutcome::Route(r) => r.waypoints,
        PlanOutcome::NoSafeRoute { reason, .. } => panic!("no route on {}: {reason}", s.sol.id),
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        model_name: "scripted".into(),
        retry: RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        prices: breadcrumb_agent::provider::Prices {
            input_usd_per_mtok: 3.0,
            output_usd_per_mtok: 15.0,
            ..breadcrumb_agent::provider::Prices::default()
        },
        ..SessionConfig::default()
    }
}

fn run(
    s: &LoadedSol,
    provider: Arc<dyn Provider>,
    cfg: SessionConfig,
    runs: &Path,
    id: &str,
) -> RunReport {
    let writer = RunWriter::create(runs, id).expect("run dir");
    let session = Session::new(s, provider, prompt(), cfg, writer, 512).expect("session");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(session.run()).expect("run")
}

fn events(dir: &Path) -> Vec<Record> {
    let (events, torn) = read_events(&dir.join("transcript.jsonl")).unwrap();
    assert!(torn.is_none());
    assert!(events.iter().all(|r| !r.event.is_other()), "every event the loop writes is known");
    events
}

#[test]
fn a_rejected_route_is_revised_and_the_fix_accepted() {
    let s = sol("plains-02-keepout");
    let good = planned(&s);
    let straight = [(s.sol.start.x, s.sol.start.y), (s.sol.goal.x, s.sol.goal.y)];
    let model = Scripted::new(vec![
        Step::Calls(vec![
            ("view_tile", json!({"centre_x_m": -10.0, "centre_y_m": 1_090_650.0, "size_m": 80.0})),
            (
                "slope_query",
                json!({"x_m": -130.0, "y_m": 1_090_664.0, "to_x_m": -100.0, "to_y_m": 1_090_660.0}),
            ),
        ]),
        Step::Calls(vec![("submit_route", json!({"waypoints": wp(&straight)}))]),
        Step::Calls(vec![("check_route", json!({"waypoints": wp(&good)}))]),
        Step::Calls(vec![(
            "submit_route",
            json!({"waypoints": wp(&good), "rationale": "around the sand"}),
        )]),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&s, model.clone(), config(), tmp.path(), "revise");
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert_eq!((r.submits, r.accepted_first_submit, r.totals.turns), (2, false, 4));
    assert_eq!(r.tool_calls_by_tool["submit_route"], 2);
    assert!((r.totals.cost_usd - 4.0 * (0.003 + 0.0015)).abs() < 1e-9, "{}", r.totals.cost_usd);
    // The model was told why: the third request carries the verdict of the first submission.
    let seen = model.seen.lock().unwrap();
    let third = serde_json::to_string(&seen[2].messages).unwrap();
    assert!(third.contains("keep_out") && third.contains("Revisions left: 3"), "{third}");
    // The overview went with the task, the zoom came back as an image.
    assert!(matches!(seen[0].messages[0].content.last(), Some(Content::Image(_))));
    // Transcript and dossier.
    let ev = events(&r.dir);
    let kinds: Vec<&str> = ev.iter().map(|r| r.event.name()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "verdict").count(), 2);
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"run_ended"));
    for f in ["plan.json", "plan.geojson", "verdict.json", "overlay.png", "status.json"] {
        assert!(r.dir.join(f).is_file(), "{f} missing");
    }
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(r.dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["provenance"]["prompt_hash"], prompt().hash.as_str());
    assert!(plan["provenance"]["bundle_hash"].as_str().unwrap().starts_with("sha256:"));
    let status = std::fs::read_to_string(r.dir.join("status.json")).unwrap();
    assert!(status.contains("accepted"));
}

#[test]
fn malformed_arguments_and_text_answers_get_corrections_not_crashes() {
    let s = sol("plains-02-keepout");
    let good = planned(&s);
    let model = Scripted::new(vec![
        Step::Calls(vec![
            ("slope_query", json!({"x": 1})),
            ("teleport", json!({})),
            ("check_route", Value::String("{not json".into())),
        ]),
        Step::Text("I think the route is fine.", StopReason::EndTurn),
        Step::Text("", StopReason::Refusal),
        Step::Calls(vec![("submit_route", json!({"waypoints": wp(&good)}))]),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&s, model.clone(), config(), tmp.path(), "malformed");
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    let ev = events(&r.dir);
    let errors: Vec<&Value> = ev
        .iter()
        .filter_map(|r| match &r.event {
            Event::ToolResult { ok: false, error, .. } => error.as_ref(),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0]["error"], "invalid_arguments");
    assert_eq!(errors[1]["error"], "unknown_tool");
    assert_eq!(ev.iter().filter(|r| matches!(r.event, Event::Corrective { .. })).count(), 2);
    let seen = model.seen.lock().unwrap();
    assert!(serde_json::to_string(&seen[3].messages).unwrap().contains("refusal"));
}

#[test]
fn budgets_end_runs_cleanly_with_the_reason() {
    let s = sol("plains-02-keepout");
    let looping: Vec<Step> = (0..50)
        .map(|_| Step::Calls(vec![("hazard_lookup", json!({"x_m": -130.0, "y_m": 1_090_664.0}))]))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SessionConfig { budgets: Budgets { max_turns: 4, ..Budgets::default() }, ..config() };
    let r = run(&s, Scripted::new(looping), cfg, tmp.path(), "turns");
    assert_eq!(r.status, RunStatus::Rejected);
    assert!(r.reason.contains("turn budget"), "{}", r.reason);
    assert_eq!(r.totals.turns, 4);
    let looping: Vec<Step> = (0..50)
        .map(|_| Step::Calls(vec![("hazard_lookup", json!({"x_m": -130.0, "y_m": 1_090_664.0}))]))
        .collect();
    let cfg = SessionConfig {
        budgets: Budgets { max_cost_usd: Some(0.01), ..Budgets::default() },
        ..config()
    };
    let r = run(&s, Scripted::new(looping), cfg, tmp.path(), "cost");
    assert!(r.reason.contains("cost budget"), "{}", r.reason);
    assert_eq!(r.totals.turns, 3, "3 turns of $0.0045 pass $0.01");
    assert!(std::fs::read_to_string(r.dir.join("status.json")).unwrap().contains("rejected"));
}

fn http(status: u16, retry_after: Option<Duration>) -> ProviderError {
    ProviderError::Http {
        provider: ProviderKind::OpenAi,
        endpoint: "http://127.0.0.1/v1/chat/completions".into(),
        status,
        retry_after,
        message: "scripted failure".into(),
    }
}

#[test]
fn transient_failures_are_retried_and_fatal_ones_end_the_run() {
    let s = sol("plains-02-keepout");
    let good = planned(&s);
    let model = Scripted::new(vec![
        Step::Fail(http(429, Some(Duration::from_millis(30)))),
        Step::Fail(http(500, None)),
        Step::Calls(vec![("submit_route", json!({"waypoints": wp(&good)}))]),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&s, model, config(), tmp.path(), "retry");
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert_eq!(r.totals.retries, 2);
    let ev = events(&r.dir);
    let waits: Vec<u64> = ev
        .iter()
        .filter_map(|r| match r.event {
            Event::Retry { wait_ms, .. } => Some(wait_ms),
            _ => None,
        })
        .collect();
    assert!(waits[0] >= 30, "Retry-After honoured: {waits:?}");
    let model = Scripted::new(vec![Step::Fail(http(401, None))]);
    let r = run(&s, model, config(), tmp.path(), "fatal");
    assert_eq!(r.status, RunStatus::Error);
    assert!(r.reason.contains("401"), "{}", r.reason);
}

#[test]
fn the_reference_policy_is_accepted_and_its_run_replays_exactly() {
    let s = sol("plains-02-keepout");
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&s, Arc::new(ReferenceProvider::new(&s)), config(), tmp.path(), "ref");
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert!(r.accepted_first_submit);
    // Re-driven from its own transcript: the same requests, the same outcome.
    let replay = Arc::new(ReplayProvider::open(&r.dir).unwrap());
    let again = run(&s, replay, config(), tmp.path(), "replayed");
    assert_eq!(again.status, RunStatus::Accepted, "{}", again.reason);
    assert_eq!(again.waypoints, r.waypoints);
    // A different prompt diverges, and the error says where.
    let replay = Arc::new(ReplayProvider::open(&r.dir).unwrap());
    let mut p = prompt();
    p.system.push_str("\nOne more rule.");
    let writer = RunWriter::create(tmp.path(), "diverged").unwrap();
    let session = Session::new(&s, replay, p, config(), writer, 512).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let d = rt.block_on(session.run()).unwrap();
    assert_eq!(d.status, RunStatus::Error);
    assert!(d.reason.contains("diverges") && d.reason.contains("system"), "{}", d.reason);
}

#[test]
fn the_reference_policy_explains_a_walled_goal() {
    let s = sol("crater-field-02-walled");
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&s, Arc::new(ReferenceProvider::new(&s)), config(), tmp.path(), "walled");
    assert_eq!(r.status, RunStatus::Rejected);
    assert!(r.reason.to_lowercase().contains("no safe route"), "{}", r.reason);
    assert_eq!(r.submits, 0);
}

/// The model's marks bind at once and for good: a rock marked on the planned route in the same
/// turn as a dry run makes that dry run fail (marks run first), the submission is refused
/// naming the mark, the transcript records the marks, the dossier keeps them in
/// `hazards.model.geojson`, and a re-check from the dossier gives the same verdict and refuses
/// a marks file that was edited or deleted.
#[test]
fn marks_are_enforced_recorded_and_re_checked_from_the_dossier() {
    let s = sol("plains-01");
    let good = planned(&s);
    let mid = good[good.len() / 2];
    let rock = json!({"marks": [{
        "class": "rock",
        "circle": {"centre": {"x_m": mid.0, "y_m": mid.1}, "radius_m": 1.5},
        "confidence": 0.8,
        "reason": "a bright block on the route"
    }, {
        "class": "bedrock",
        "polygon": [
            {"x_m": good[0].0 + 5.0, "y_m": good[0].1 - 5.0},
            {"x_m": good[0].0 + 9.0, "y_m": good[0].1 - 5.0},
            {"x_m": good[0].0 + 9.0, "y_m": good[0].1 - 1.0}
        ],
        "confidence": 0.6,
        "reason": "flat bright rock"
    }]});
    let model = Scripted::new(vec![
        Step::Calls(vec![("check_route", json!({"waypoints": wp(&good)})), ("mark_hazards", rock)]),
        Step::Calls(vec![("submit_route", json!({"waypoints": wp(&good)}))]),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SessionConfig { max_revisions: 0, ..config() };
    let r = run(&s, model.clone(), cfg, tmp.path(), "marks");
    assert_eq!(r.status, RunStatus::Rejected, "{}", r.reason);
    let v = r.verdict.as_ref().unwrap();
    assert!(
        v.violations.iter().any(|x| x.rule == "hazards" && x.message.contains("rock mark m1")),
        "{}",
        v.to_json()
    );
    assert!(!v.violations.iter().any(|x| x.message.contains("m2")), "bedrock does not block");
    // The dry run beside the mark already saw it.
    let ev = events(&r.dir);
    let dry = ev
        .iter()
        .find_map(|e| match &e.event {
            Event::ToolResult { name, result: Some(res), .. } if name == "check_route" => {
                Some(res.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(dry["pass"], false, "{dry}");
    let names: Vec<&str> = ev.iter().map(|e| e.event.name()).collect();
    let marks_at = names.iter().position(|n| *n == "marks").expect("a marks event");
    assert_eq!(names[marks_at - 1], "tool_result");
    match &ev[marks_at].event {
        Event::Marks { marks, .. } => {
            let ids: Vec<(&str, bool)> = marks.iter().map(|m| (m.id.as_str(), m.blocks)).collect();
            assert_eq!(ids, [("m1", true), ("m2", false)]);
        }
        other => panic!("{other:?}"),
    }
    // The dossier: the marks as GeoJSON, and a re-check with them gives the same bytes.
    let file = r.dir.join("hazards.model.geojson");
    let text = std::fs::read_to_string(&file).unwrap();
    let gj: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(gj["features"].as_array().unwrap().len(), 2);
    assert_eq!(gj["features"][0]["properties"]["class"], "rock");
    assert_eq!(gj["features"][1]["properties"]["marked_class"], "bedrock");
    let again = breadcrumb_agent::session::dossier::recheck(&r.dir, None).unwrap();
    assert!(again.identical(), "{}\n{}", again.recorded, again.now);
    assert!(!again.pass);
    // Editing or deleting the marks must not let the plan pass a re-check.
    std::fs::write(&file, text.replace("\"rock\"", "\"outcrop\"")).unwrap();
    let e = breadcrumb_agent::session::dossier::recheck(&r.dir, None).unwrap_err();
    assert!(e.to_string().contains("changed since the run"), "{e}");
    std::fs::remove_file(&file).unwrap();
    assert!(breadcrumb_agent::session::dossier::recheck(&r.dir, None).is_err());
}
