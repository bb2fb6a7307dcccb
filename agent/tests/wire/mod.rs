//! The agent loop end to end over real HTTP: the real [`Session`] drives the real
//! `OpenAiProvider` / `AnthropicProvider` against a local server on 127.0.0.1 that speaks the
//! Chat Completions or the Messages wire format and answers from a script, turn by turn.
//!
//! The scenarios are written once here, over a [`Format`]; `openai.rs` and `anthropic.rs` hold
//! each format's replies, the assertions on the exact requests the server received, and the
//! tests themselves. Every run also checks that its transcript is complete, that `status.json`
//! says how it ended, and that the API key went out in the auth header only: never in a body,
//! a URL, another header, the report or any file of the run directory.

mod anthropic;
mod openai;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::provider::{Provider, ECHOED_AS_EMPTY};
use breadcrumb_agent::session::{
    Budgets, RetryPolicy, RunReport, RunStatus, Session, SessionConfig,
};
use breadcrumb_agent::transcript::{content_hash, read_transcript, RunWriter};
use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::{LoadedSol, Sol};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API key of every test: it must reach the server in the auth header and nowhere else.
pub const KEY: &str = "sk-wire-test-5f3a9c1e77-SECRET";

/// The seven tools every request must offer.
pub const TOOLS: [&str; 8] = [
    "view_tile",
    "slope_query",
    "hazard_lookup",
    "path_cost",
    "elevation_profile",
    "mark_hazards",
    "check_route",
    "submit_route",
];

/// The sol of every scenario: a keep-out zone sits on the straight line from start to goal.
const SOL: &str = "plains-02-keepout";

/// The arguments of a scripted tool call.
#[derive(Debug, Clone)]
pub enum Args {
    /// Well-formed JSON (possibly of the wrong shape for the tool).
    Json(Value),
    /// Text as the model wrote it, which need not be JSON.
    Raw(&'static str),
}

/// One scripted answer of the model's server.
#[derive(Debug, Clone)]
pub enum Turn {
    /// A 200 reply with these tool calls (run in parallel by the loop).
    Calls(Vec<(&'static str, Args)>),
    /// A 200 reply with text and no tool call.
    Text(&'static str),
    /// Whatever the server should answer instead (errors, delays, broken bodies).
    Http(ResponseTemplate),
}

/// A tool call with JSON arguments.
pub fn call(name: &'static str, args: Value) -> (&'static str, Args) {
    (name, Args::Json(args))
}

/// The two wire formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Chat Completions (`POST /v1/chat/completions`, `Authorization: Bearer`).
    OpenAi,
    /// Messages (`POST /v1/messages`, `x-api-key`).
    Anthropic,
}

impl Format {
    /// The path the provider posts to.
    fn path(self) -> &'static str {
        match self {
            Format::OpenAi => "/v1/chat/completions",
            Format::Anthropic => "/v1/messages",
        }
    }

    /// The provider under test, pointed at `server` with [`KEY`].
    fn provider(self, server: &MockServer, timeout: Duration) -> Arc<dyn Provider> {
        match self {
            Format::OpenAi => Arc::new(openai::provider(server, timeout)),
            Format::Anthropic => Arc::new(anthropic::provider(server, timeout)),
        }
    }

    /// A scripted turn as this format's HTTP reply; `n` numbers the turn (for unique ids).
    fn reply(self, n: usize, turn: &Turn) -> ResponseTemplate {
        match turn {
            Turn::Http(reply) => reply.clone(),
            Turn::Calls(calls) => match self {
                Format::OpenAi => openai::calls_reply(n, calls),
                Format::Anthropic => anthropic::calls_reply(n, calls),
            },
            Turn::Text(text) => match self {
                Format::OpenAi => openai::text_reply(n, text),
                Format::Anthropic => anthropic::text_reply(n, text),
            },
        }
    }

    /// An API error in this format's shape.
    pub fn error(self, status: u16, message: &str) -> ResponseTemplate {
        match self {
            Format::OpenAi => openai::error_reply(status, message),
            Format::Anthropic => anthropic::error_reply(status, message),
        }
    }

    /// The header that must carry the key, and its exact value.
    fn auth(self) -> (&'static str, String) {
        match self {
            Format::OpenAi => ("authorization", format!("Bearer {KEY}")),
            Format::Anthropic => ("x-api-key", KEY.to_owned()),
        }
    }

    /// The names of the tools a request body offers.
    fn tool_names(self, body: &Value) -> Vec<String> {
        let tools = body["tools"].as_array().cloned().unwrap_or_default();
        tools
            .iter()
            .map(|t| {
                let name = match self {
                    Format::OpenAi => &t["function"]["name"],
                    Format::Anthropic => &t["name"],
                };
                name.as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }
}

/// The server's script: each request takes the next reply; when the script is spent the model
/// says it is done (text only).
struct Script {
    format: Format,
    replies: Mutex<VecDeque<ResponseTemplate>>,
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(bad) = unparsable_echoed_arguments(self.format, request) {
            // What Ollama answers (and where vLLM's `json.loads` fails): the request is refused
            // before the model sees it, and no scripted turn is used up.
            return self.format.error(400, &format!("invalid tool call arguments: {bad}"));
        }
        let next = self.replies.lock().unwrap().pop_front();
        next.unwrap_or_else(|| self.format.reply(999, &Turn::Text("I am done.")))
    }
}

/// The first echoed tool call of a Chat Completions request whose `function.arguments` is not
/// the JSON text of an object, as strict servers check it.
fn unparsable_echoed_arguments(format: Format, request: &Request) -> Option<String> {
    if format != Format::OpenAi {
        return None;
    }
    let body: Value = request.body_json().ok()?;
    let messages = body["messages"].as_array()?;
    let calls = messages.iter().filter_map(|m| m["tool_calls"].as_array()).flatten();
    calls.map(|c| &c["function"]["arguments"]).find_map(|args| {
        let ok = args.as_str().and_then(|t| serde_json::from_str::<Value>(t).ok());
        (!ok.is_some_and(|v| v.is_object())).then(|| args.to_string())
    })
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sol() -> LoadedSol {
    Sol::load(&root().join(format!("fixtures/sols/{SOL}.toml"))).expect("fixture sol")
}

fn prompt() -> PromptSet {
    PromptSet::load_named(&root().join("prompts"), "v1").expect("prompt v1")
}

fn waypoints(points: &[(f64, f64)]) -> Value {
    points.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect()
}

/// A route the checker accepts (the planner's) and one it rejects (the straight line, through
/// the keep-out zone), as `waypoints` arguments. Planned once for all the tests (it takes
/// seconds).
fn routes() -> (Value, Value) {
    static ROUTES: OnceLock<(Value, Value)> = OnceLock::new();
    ROUTES
        .get_or_init(|| {
            let s = sol();
            let good = match plan_sol(&s, &PlannerOptions::default()).expect("planner runs") {
                PlanOutcome::Route(r) => r.waypoints,
                PlanOutcome::NoSafeRoute { reason, .. } => {
                    panic!("no route on {}: {reason}", s.sol.id)
                }
            };
            let straight = [(s.sol.start.x, s.sol.start.y), (s.sol.goal.x, s.sol.goal.y)];
            (waypoints(&good), waypoints(&straight))
        })
        .clone()
}

/// Small retry delays: the tests wait only for what the server asks (`Retry-After`).
fn config() -> SessionConfig {
    SessionConfig {
        model_name: "wire-test".into(),
        retry: RetryPolicy {
            max_retries: 4,
            base: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        ..SessionConfig::default()
    }
}

/// A finished run and everything the server saw.
pub struct Outcome {
    /// The loop's report.
    pub report: RunReport,
    /// Every request the server received, in order.
    pub requests: Vec<Request>,
    /// Their bodies as JSON.
    pub bodies: Vec<Value>,
    /// The transcript.
    pub events: Vec<Value>,
    _runs: tempfile::TempDir,
}

impl Outcome {
    /// The transcript's events of one kind.
    pub fn events_of(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == kind).collect()
    }

    /// The image hashes of the first `tool_result` event of tool `name`.
    pub fn tool_images(&self, name: &str) -> Vec<String> {
        let result = self.events_of("tool_result").into_iter().find(|e| e["name"] == name);
        let images = result.map(|e| e["images"].clone()).unwrap_or_default();
        serde_json::from_value(images).unwrap_or_default()
    }

    /// The image hashes of the overview sent with the task.
    pub fn overview_images(&self) -> Vec<String> {
        let overview = self.events_of("overview");
        serde_json::from_value(overview[0]["images"].clone()).unwrap()
    }
}

/// Runs the loop on the scenario sol against a server of `format` answering `turns`; checks
/// what every run must satisfy (complete transcript, final status, the key kept secret).
async fn drive(format: Format, turns: Vec<Turn>, cfg: SessionConfig, timeout: Duration) -> Outcome {
    let server = MockServer::start().await;
    let replies = turns.iter().enumerate().map(|(i, t)| format.reply(i + 1, t)).collect();
    Mock::given(method("POST"))
        .and(path(format.path()))
        .respond_with(Script { format, replies: Mutex::new(replies) })
        .mount(&server)
        .await;
    let runs = tempfile::tempdir().unwrap();
    let writer = RunWriter::create(runs.path(), "wire").unwrap();
    let session =
        Session::new(&sol(), format.provider(&server, timeout), prompt(), cfg, writer, 512)
            .expect("session");
    let report = session.run().await.expect("the run keeps its record");
    let requests = server.received_requests().await.unwrap();
    let bodies = requests
        .iter()
        .map(|r| r.body_json().unwrap_or_else(|e| panic!("request body is not JSON: {e}")))
        .collect();
    let (events, torn) = read_transcript(&report.dir.join("transcript.jsonl")).unwrap();
    assert!(torn.is_none(), "{torn:?}");
    let outcome = Outcome { report, requests, bodies, events, _runs: runs };
    assert_complete(&outcome);
    assert_key_in_auth_header_only(format, &outcome);
    assert_key_nowhere_in(&outcome.report.dir);
    outcome
}

/// `run_started` first, `run_ended` last with the report's status, `status.json` final.
fn assert_complete(o: &Outcome) {
    let kinds: Vec<&str> = o.events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_ended"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "run_ended").count(), 1);
    let status = o.report.status.as_str();
    assert_eq!(o.events.last().unwrap()["status"], status);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(o.report.dir.join("status.json")).unwrap())
            .unwrap();
    assert_eq!(file["status"], status, "{file}");
    assert_ne!(file["status"], "running");
    assert_eq!(file["reason"], o.report.reason.as_str());
    // Every request the loop logged reached the server (retries resend the same one).
    let logged = o.events_of("request").len();
    let retried = o.events_of("retry").len();
    assert_eq!(o.requests.len(), logged + retried, "requests on the wire vs. the transcript");
}

/// The key is in the auth header of every request, and in no body, URL or other header.
fn assert_key_in_auth_header_only(format: Format, o: &Outcome) {
    let (header, value) = format.auth();
    assert!(!o.requests.is_empty());
    for (i, r) in o.requests.iter().enumerate() {
        assert_eq!(r.method.as_str(), "POST");
        assert_eq!(r.url.path(), format.path());
        assert!(!r.url.as_str().contains(KEY), "request {i}: key in the URL");
        let auth: Vec<&str> =
            r.headers.get_all(header).iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(auth, [value.as_str()], "request {i}: {header}");
        for (name, v) in &r.headers {
            if name.as_str() != header {
                let v = String::from_utf8_lossy(v.as_bytes());
                assert!(!v.contains(KEY), "request {i}: key in header {name}");
            }
        }
        assert!(!contains(&r.body, KEY.as_bytes()), "request {i}: key in the body");
    }
    let report = format!("{:?}", o.report);
    assert!(!report.contains(KEY), "key in the report: {report}");
}

/// No file of the run directory holds the key.
fn assert_key_nowhere_in(dir: &Path) {
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap();
                assert!(!contains(&bytes, KEY.as_bytes()), "the key is in {}", p.display());
            }
        }
    }
    assert!(files >= 2, "transcript and status.json at least");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Outcome {
    /// An image the server received (base64): a JPEG whose exact bytes the transcript's request
    /// record names, showing the same picture as one of the PNGs the run stored for people.
    /// Returns that PNG's hash (as the transcript's `tool_result` and `overview` name it).
    pub fn sent_png(&self, base64_data: &str) -> String {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(base64_data).expect("base64");
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "not a JPEG");
        let sha = content_hash(&bytes);
        let recorded = self.events_of("request").iter().any(|e| e.to_string().contains(&sha));
        assert!(recorded, "the JPEG sent is not in the transcript's request record");
        let sent = image::load_from_memory(&bytes).expect("a JPEG that decodes").to_rgb8();
        let dir = self.report.dir.join("images");
        let mut stored = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let png = std::fs::read(&path).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());
            let hash = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert_eq!(hash, content_hash(&png), "stored under its hash");
            let img = image::load_from_memory(&png).unwrap().to_rgb8();
            if img.dimensions() == sent.dimensions() {
                stored.push((mean_abs_difference(&img, &sent), hash));
            }
        }
        stored.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (error, hash) = stored.into_iter().next().expect("a stored PNG of the same size");
        // JPEG at the model quality is within a few levels of the PNG on average (4-5 on a 512 px tile).
        assert!(error < 8.0, "the JPEG sent is not the stored tile: mean error {error:.1}");
        hash
    }
}

/// Mean absolute difference of two images' channels, in levels of 255.
fn mean_abs_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

// ---- The scenarios, once for both formats. ----

/// A model that zooms and queries (in parallel), submits the straight line (fails on keep-out),
/// checks the planner's route and submits it: accepted on the second submission.
async fn zoom_query_fail_fix_accept(format: Format) -> Outcome {
    let (good, straight) = routes();
    let turns = vec![
        Turn::Calls(vec![
            call(
                "view_tile",
                json!({"centre_x_m": -10.0, "centre_y_m": 1_090_650.0, "size_m": 80.0}),
            ),
            call(
                "slope_query",
                json!({"x_m": -130.0, "y_m": 1_090_664.0, "to_x_m": -100.0, "to_y_m": 1_090_660.0}),
            ),
        ]),
        Turn::Calls(vec![call("submit_route", json!({"waypoints": straight}))]),
        Turn::Calls(vec![call("check_route", json!({"waypoints": good}))]),
        Turn::Calls(vec![call(
            "submit_route",
            json!({"waypoints": good, "rationale": "around the keep-out zone"}),
        )]),
    ];
    let o = drive(format, turns, config(), TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert_eq!((r.submits, r.accepted_first_submit, r.totals.turns), (2, false, 4));
    assert_eq!(r.totals.retries, 0);
    let by_tool: BTreeMap<&str, u32> =
        r.tool_calls_by_tool.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        by_tool,
        BTreeMap::from([
            ("check_route", 1),
            ("slope_query", 1),
            ("submit_route", 2),
            ("view_tile", 1)
        ])
    );
    assert_eq!(o.requests.len(), 4);
    // Usage came from the server's replies.
    assert_eq!((r.totals.input_tokens, r.totals.output_tokens), (4000, 400));
    let verdicts = o.events_of("verdict");
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0]["pass"], false);
    assert!(verdicts[0]["verdict"].to_string().contains("keep_out"), "{}", verdicts[0]);
    assert_eq!(verdicts[1]["pass"], true);
    let results = o.events_of("tool_result");
    assert!(results.iter().all(|e| e["ok"] == true), "every tool call was well formed");
    assert_eq!(o.tool_images("view_tile").len(), 1);
    assert_eq!(o.overview_images().len(), 1);
    for f in ["plan.json", "plan.geojson", "verdict.json", "overlay.png"] {
        assert!(r.dir.join(f).is_file(), "{f} missing");
    }
    for (i, body) in o.bodies.iter().enumerate() {
        let mut names = format.tool_names(body);
        names.sort();
        let mut want = TOOLS.map(str::to_owned).to_vec();
        want.sort();
        assert_eq!(names, want, "request {i}: the tool schemas");
    }
    o
}

/// Arguments that are not JSON, of the wrong types, and an unknown tool: each answered with a
/// structured error; then a valid submission is accepted.
async fn malformed_then_recovery(format: Format) -> Outcome {
    let (good, _) = routes();
    let turns = vec![
        Turn::Calls(vec![
            ("check_route", Args::Raw("{\"waypoints\": [{\"x_m\": 1,")),
            call("slope_query", json!({"x_m": "west of the dune", "y_m": [1_090_664.0]})),
            call("teleport", json!({"to": "goal"})),
        ]),
        Turn::Calls(vec![call("submit_route", json!({"waypoints": good}))]),
    ];
    let o = drive(format, turns, config(), TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert_eq!((r.submits, r.totals.turns), (1, 2));
    assert_eq!(o.requests.len(), 2);
    let results = o.events_of("tool_result");
    let errors: Vec<(&str, &str)> = results
        .iter()
        .filter(|e| e["ok"] == false)
        .map(|e| (e["name"].as_str().unwrap(), e["error"]["error"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            ("check_route", "invalid_arguments"),
            ("slope_query", "invalid_arguments"),
            ("teleport", "unknown_tool")
        ]
    );
    let not_json = &results[0]["error"];
    assert!(not_json.to_string().contains("not valid JSON"), "{not_json}");
    // The model is told its call goes back with `{}`; the transcript keeps what it wrote.
    assert_eq!(not_json["note"], ECHOED_AS_EMPTY, "{not_json}");
    assert!(results[1]["error"].get("note").is_none(), "well-formed JSON is echoed as it was");
    let calls = o.events_of("tool_call");
    assert_eq!(calls[0]["arguments"], "{\"waypoints\": [{\"x_m\": 1,", "the raw text is kept");
    let known = serde_json::to_string(&results[2]["error"]).unwrap();
    assert!(TOOLS.iter().all(|t| known.contains(t)), "the unknown tool's error lists the tools");
    o
}

/// A model that never submits: the turn budget ends the run, rejected, with the reason.
async fn loops_until_the_turn_budget(format: Format) -> Outcome {
    let looping = (0..12)
        .map(|_| {
            Turn::Calls(vec![call("hazard_lookup", json!({"x_m": -130.0, "y_m": 1_090_664.0}))])
        })
        .collect();
    let cfg = SessionConfig { budgets: Budgets { max_turns: 5, ..Budgets::default() }, ..config() };
    let o = drive(format, looping, cfg, TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Rejected, "{}", r.reason);
    assert!(r.reason.contains("turn budget"), "{}", r.reason);
    assert_eq!((r.totals.turns, r.submits), (5, 0));
    assert_eq!(o.requests.len(), 5, "no request past the budget");
    assert_eq!(o.events_of("budget_stop").len(), 1);
    assert_eq!(r.tool_calls_by_tool["hazard_lookup"], 5);
    o
}

/// The provider timeout of the hung-reply scenario: short enough that the hung reply costs
/// little, long enough that a local reply on a busy 2-core machine is not cut off too.
const SHORT_TIMEOUT: Duration = Duration::from_millis(750);

/// The provider timeout of every other scenario.
const TIMEOUT: Duration = Duration::from_secs(30);

/// 429 with `Retry-After: 1`, then 500, then a reply that hangs past the provider timeout, then
/// a good answer: three retries, the `Retry-After` honoured, the same request resent each time,
/// accepted.
async fn transient_faults_are_retried(format: Format) -> Outcome {
    let (good, _) = routes();
    let hung = format.reply(0, &Turn::Text("too late")).set_delay(Duration::from_secs(5));
    let turns = vec![
        Turn::Http(format.error(429, "Rate limit reached").insert_header("retry-after", "1")),
        Turn::Http(format.error(500, "Internal server error")),
        Turn::Http(hung),
        Turn::Calls(vec![call("submit_route", json!({"waypoints": good}))]),
    ];
    let started = Instant::now();
    let o = drive(format, turns, config(), SHORT_TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert_eq!((r.totals.turns, r.totals.retries, r.submits), (1, 3, 1));
    assert_eq!(o.requests.len(), 4);
    assert!(o.bodies.iter().all(|b| *b == o.bodies[0]), "a retry resends the same request");
    let retries = o.events_of("retry");
    let errors: Vec<String> = retries.iter().map(|e| e["error"].to_string()).collect();
    assert!(errors[0].contains("HTTP 429") && errors[0].contains("Rate limit"), "{errors:?}");
    assert!(errors[1].contains("HTTP 500"), "{errors:?}");
    assert!(errors[2].contains("timed out"), "{errors:?}");
    let wait = |i: usize| retries[i]["wait_ms"].as_u64().unwrap();
    assert!(wait(0) >= 1000, "Retry-After: 1 honoured, waited {} ms", wait(0));
    assert!(wait(1) <= 20 && wait(2) <= 20, "backoff stays in the policy: {retries:?}");
    let hung_for = retries[2]["failed_after_ms"].as_u64().unwrap();
    assert!((700..4000).contains(&hung_for), "gave up on the hung reply after {hung_for} ms");
    // The wait really happened: the 500 came at least a second after the 429.
    let t = |i: usize| retries[i]["t_ms"].as_u64().unwrap();
    assert!(t(1) - t(0) >= 1000, "{} ms between the 429 and the 500", t(1) - t(0));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1700), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "did not wait out the hung reply: {elapsed:?}");
    assert_eq!(
        o.events.iter().filter_map(|e| e["event"].as_str()).collect::<Vec<_>>()[..5],
        ["run_started", "overview", "request", "retry", "retry"]
    );
    o
}

/// A 200 whose body is cut off mid-JSON (echoing the key, as a broken proxy might) is a
/// transient fault like a 5xx: the same request is sent again, and the run goes on; when every
/// reply is cut off the run ends as an error after the retries, and the key shows nowhere.
async fn truncated_body_is_retried(format: Format, body: String) {
    let (good, _) = routes();
    let cut =
        || Turn::Http(ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"));
    let turns = vec![cut(), Turn::Calls(vec![call("submit_route", json!({"waypoints": good}))])];
    let o = drive(format, turns, config(), TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Accepted, "{}", r.reason);
    assert_eq!((r.totals.turns, r.totals.retries, r.submits), (1, 1, 1));
    assert_eq!(o.requests.len(), 2);
    assert_eq!(o.bodies[0], o.bodies[1], "a retry resends the same request");
    let retries = o.events_of("retry");
    assert_eq!(retries.len(), 1);
    let error = retries[0]["error"].as_str().unwrap();
    assert!(error.contains("incomplete response"), "{error}");
    assert!(error.contains("[redacted]") && !error.contains(KEY), "{error}");

    let cfg = SessionConfig { retry: RetryPolicy { max_retries: 2, ..config().retry }, ..config() };
    let o = drive(format, (0..5).map(|_| cut()).collect(), cfg, TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Error, "{}", r.reason);
    assert!(r.reason.contains("after 2 retries"), "{}", r.reason);
    assert!(r.reason.contains("incomplete response"), "{}", r.reason);
    assert!(r.reason.contains("[redacted]"), "the echoed key is redacted: {}", r.reason);
    assert_eq!((r.totals.turns, r.totals.retries, r.submits), (0, 2, 0));
    assert_eq!(o.requests.len(), 3);
    let failed = o.events_of("provider_error");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["retryable"], true);
}

/// A request over the API's published size limits is never sent: the run ends at once as an
/// error that names the limit (not a 413 from the server). Limits are set tiny here; the
/// published ones are checked in `provider::size`.
async fn oversized_requests_are_not_sent(
    format: Format,
    make: fn(&MockServer) -> Arc<dyn Provider>,
) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format.path()))
        .respond_with(format.reply(1, &Turn::Text("I should never be asked.")))
        .mount(&server)
        .await;
    let runs = tempfile::tempdir().unwrap();
    let writer = RunWriter::create(runs.path(), "wire").unwrap();
    let session = Session::new(&sol(), make(&server), prompt(), config(), writer, 512).unwrap();
    let report = session.run().await.expect("the run keeps its record");
    assert_eq!(report.status, RunStatus::Error, "{}", report.reason);
    assert!(report.reason.contains("not sent"), "{}", report.reason);
    assert!(report.reason.contains("limit"), "{}", report.reason);
    assert_eq!(report.totals.retries, 0, "a size limit is not retried");
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing reached the server");
    let (events, _) = read_transcript(&report.dir.join("transcript.jsonl")).unwrap();
    let failed: Vec<&Value> = events.iter().filter(|e| e["event"] == "provider_error").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["retryable"], false);
}

/// 401 echoing the key: fatal at once, redacted; 503 forever: an error after the retries.
async fn fatal_and_exhausted(format: Format) {
    let bad_key = format.error(401, &format!("invalid api key: {KEY}"));
    let o = drive(format, vec![Turn::Http(bad_key)], config(), TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Error, "{}", r.reason);
    assert!(r.reason.contains("HTTP 401") && r.reason.contains("[redacted]"), "{}", r.reason);
    assert_eq!((o.requests.len(), r.totals.retries), (1, 0));

    let overloaded = (0..6).map(|_| Turn::Http(format.error(503, "overloaded"))).collect();
    let cfg = SessionConfig { retry: RetryPolicy { max_retries: 2, ..config().retry }, ..config() };
    let o = drive(format, overloaded, cfg, TIMEOUT).await;
    let r = &o.report;
    assert_eq!(r.status, RunStatus::Error, "{}", r.reason);
    assert!(r.reason.contains("after 2 retries") && r.reason.contains("503"), "{}", r.reason);
    assert_eq!((o.requests.len(), r.totals.retries, r.totals.turns), (3, 2, 0));
    assert_eq!(o.events_of("provider_error")[0]["retryable"], true);
}

/// The leak detector itself finds a key buried in a nested file.
#[test]
#[should_panic(expected = "the key is in")]
fn the_key_grep_finds_a_planted_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("images")).unwrap();
    std::fs::write(dir.path().join("status.json"), "{}").unwrap();
    std::fs::write(dir.path().join("images/x.png"), format!("\x00\x01{KEY}\x02")).unwrap();
    assert_key_nowhere_in(dir.path());
}
