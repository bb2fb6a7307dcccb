//! A mock model behind an OpenAI-compatible Chat Completions server on 127.0.0.1, for runs of
//! the real runner over real HTTP with the real `openai` provider (configured from a
//! `models.toml` entry, as a user would).
//!
//! The model is the diligent one: on its first turn it checks the planner's route for the sol
//! with `check_route`, on its next it submits it. The server can answer every request after a
//! fixed latency (the network and the model's own time), and can fail a seeded share of
//! requests with 429 (`Retry-After: 0`) or 500, counting what it sent so a test can account for
//! every failure. A second model id on the same server ([`DOWN`]) fails every request. Used by
//! `tests/flaky_model.rs` and `benches/concurrency.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use breadcrumb_tools::planner::{plan_sol, PlanOutcome, PlannerOptions};
use breadcrumb_tools::terrain::Sol;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The model id (`model = ...` in `models.toml`) whose every request fails with 429 or 500.
pub const DOWN: &str = "mock-down";

/// How the server behaves.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// Delay of every answer.
    pub latency: Duration,
    /// Share of requests answered with 429 or 500 (half each, seeded).
    pub fault_rate: f64,
    /// Seed of the faults.
    pub seed: u64,
}

/// What the server answered, by kind.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests received.
    pub requests: AtomicU32,
    /// 200s with a tool call.
    pub ok: AtomicU32,
    /// 429s (with `Retry-After: 0`).
    pub too_many: AtomicU32,
    /// 500s.
    pub server_error: AtomicU32,
    /// When the first request came in.
    first_request: OnceLock<Instant>,
}

impl Counts {
    /// (requests, ok, 429s, 500s).
    pub fn get(&self) -> (u32, u32, u32, u32) {
        let g = |a: &AtomicU32| a.load(Ordering::SeqCst);
        (g(&self.requests), g(&self.ok), g(&self.too_many), g(&self.server_error))
    }

    /// When the first request came in (the bench times the attempts from there, leaving out
    /// the runner's baseline planning before them).
    #[allow(dead_code)] // the bench's; the test module shares this file
    pub fn first_request(&self) -> Option<Instant> {
        self.first_request.get().copied()
    }
}

/// The running server and what it has answered.
pub struct MockModel {
    /// The server (stops when dropped).
    pub server: MockServer,
    /// Its answers so far.
    pub counts: Arc<Counts>,
}

/// The planner's route for each sol file, by sol id, as `waypoints` arguments.
pub fn planned_routes(sol_files: &[PathBuf]) -> BTreeMap<String, Value> {
    std::thread::scope(|scope| {
        let planning: Vec<_> =
            sol_files.iter().map(|f| scope.spawn(move || planned_route(f))).collect();
        planning.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The sol's id and the planner's route for it, as `waypoints` arguments.
fn planned_route(f: &Path) -> (String, Value) {
    let sol = Sol::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    let route = match plan_sol(&sol, &PlannerOptions::default()).expect("the planner runs") {
        PlanOutcome::Route(r) => r.waypoints,
        PlanOutcome::NoSafeRoute { reason, .. } => {
            panic!("{}: the mock model needs a sol with a route: {reason}", sol.sol.id)
        }
    };
    let points: Value = route.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect();
    (sol.sol.id.clone(), points)
}

impl MockModel {
    /// Starts the server for the sols whose routes are given ([`planned_routes`]).
    pub async fn start(routes: BTreeMap<String, Value>, behaviour: Behaviour) -> MockModel {
        // No request recording: a long run would keep every body (tiles included) in memory.
        let server = MockServer::builder().disable_request_recording().start().await;
        let counts = Arc::new(Counts::default());
        let responder = Responder {
            routes,
            behaviour,
            rng: Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(behaviour.seed)),
            counts: Arc::clone(&counts),
        };
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(responder)
            .mount(&server)
            .await;
        MockModel { server, counts }
    }

    /// Writes a models file whose model `name` is this server's model and `name-down` the one
    /// that is down ([`DOWN`]), both provider `openai` with no key, as for a local server, and
    /// returns its path.
    pub fn models_file(&self, dir: &Path, name: &str) -> PathBuf {
        let entry = |name: &str, id: &str| {
            format!(
                "[models.{name}]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"{id}\"\n\
                 input_usd_per_mtok = 1.0\noutput_usd_per_mtok = 4.0\nimage_tokens = \"openai\"\n\
                 timeout_s = 60\n\n",
                self.server.uri()
            )
        };
        let body = entry(name, "mock-vision") + &entry(&format!("{name}-down"), DOWN);
        let p = dir.join("models.toml");
        std::fs::write(&p, body).unwrap();
        p
    }
}

struct Responder {
    routes: BTreeMap<String, Value>,
    behaviour: Behaviour,
    rng: Mutex<rand_chacha::ChaCha8Rng>,
    counts: Arc<Counts>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.counts.first_request.get_or_init(Instant::now);
        let n = self.counts.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let down = request.body_json::<Value>().is_ok_and(|b| b["model"] == DOWN);
        // The model that is down takes no draws (429 and 500 in turn), so the other one's
        // faults are the same seeded sequence however the two models' requests interleave.
        let fault = if down {
            Some(n % 2 == 0)
        } else {
            let mut rng = self.rng.lock().unwrap();
            rng.gen_bool(self.behaviour.fault_rate).then(|| rng.gen_bool(0.5))
        };
        let reply = match fault {
            Some(true) => {
                self.counts.too_many.fetch_add(1, Ordering::SeqCst);
                error(429, "Rate limit reached").insert_header("retry-after", "0")
            }
            Some(false) => {
                self.counts.server_error.fetch_add(1, Ordering::SeqCst);
                error(500, "Internal server error")
            }
            None => {
                self.counts.ok.fetch_add(1, Ordering::SeqCst);
                self.answer(n, request)
            }
        };
        reply.set_delay(self.behaviour.latency)
    }
}

impl Responder {
    /// The model's turn: `check_route` first, `submit_route` after.
    fn answer(&self, n: u32, request: &Request) -> ResponseTemplate {
        let body: Value = request.body_json().expect("a JSON request body");
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let Some(route) = task_sol(&messages).and_then(|id| self.routes.get(&id)) else {
            return error(400, "the mock model knows no route for this sol");
        };
        let turn = messages.iter().filter(|m| m["role"] == "assistant").count();
        let tool = if turn == 0 { "check_route" } else { "submit_route" };
        let arguments = json!({"waypoints": route}).to_string();
        ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("chatcmpl-mock{n}"),
            "object": "chat.completion",
            "created": 1_730_000_000,
            "model": "mock-vision",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"id": format!("call_{n}"), "type": "function",
                                "function": {"name": tool, "arguments": arguments}}]}}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280}
        }))
    }
}

/// The sol id of the task (`Plan the drive for sol ID.`) in the first user message.
fn task_sol(messages: &[Value]) -> Option<String> {
    let user = messages.iter().find(|m| m["role"] == "user")?;
    let text = match &user["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n")
        }
        _ => return None,
    };
    let line = text.lines().find_map(|l| l.trim().strip_prefix("Plan the drive for sol "))?;
    Some(line.trim_end_matches('.').to_owned())
}

fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {"message": message,
        "type": "requests", "param": null, "code": null}}))
}
