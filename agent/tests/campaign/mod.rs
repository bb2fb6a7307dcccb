//! A campaign's strategic conversation over real HTTP: the real `Campaign::plan_strategic`
//! drives the real `OpenAiProvider` (built from a `models.toml` entry, as the CLI builds it)
//! against a local Chat Completions server on 127.0.0.1 that answers from a script, and the
//! real `AnthropicProvider` against a local Messages server. The site is made here: 600 m square, flat, with a 6 m ridge (45°
//! flanks) across it at y = 300 whose only gap spans x 440..480. Start and goal lie on either
//! side of it, so a corridor must pass the gap.

mod detour;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use breadcrumb_agent::campaign::{Campaign, CampaignSpec, LoopSettings, StrategicSettings};
use breadcrumb_agent::models::{ModelEntry, ModelRegistry};
use breadcrumb_agent::prompt::PromptSet;
use breadcrumb_agent::provider::anthropic::{AnthropicConfig, AnthropicProvider};
use breadcrumb_agent::provider::Provider;
use breadcrumb_agent::session::SessionConfig;
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{GeoTransform, Grid};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ridge site (see the module docs) in `dir`.
fn site(dir: &Path) {
    let n = 600;
    let t = GeoTransform { x0: 0.0, y0: n as f64, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(n, n, t, |x, y| {
        if (440.0..480.0).contains(&x) {
            0.0
        } else {
            (6.0 - (y - 300.0).abs()).max(0.0) as f32
        }
    });
    write_f32_geotiff(&dir.join("dem.tif"), &g, "", -32767.0).unwrap();
    std::fs::write(dir.join("bundle.toml"), "name = \"ridge\"\n").unwrap();
    std::fs::write(dir.join("hazards.geojson"), r#"{"type":"FeatureCollection","features":[]}"#)
        .unwrap();
}

/// The scripted model: each request takes the next reply (then "I am done." text).
struct Script(Mutex<VecDeque<ResponseTemplate>>);

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let next = self.0.lock().unwrap().pop_front();
        next.unwrap_or_else(|| reply(99, &json!({"role": "assistant", "content": "I am done."})))
    }
}

/// A Chat Completions reply carrying `message`, 1000 tokens in and 100 out.
fn reply(n: usize, message: &Value) -> ResponseTemplate {
    let finish = if message["tool_calls"].is_array() { "tool_calls" } else { "stop" };
    ResponseTemplate::new(200).set_body_json(json!({
        "id": format!("chatcmpl-strat{n}"), "object": "chat.completion", "created": 1_730_000_000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    }))
}

/// A turn calling `strategic_waypoints` with `pts`.
fn corridor(n: usize, pts: &[(f64, f64)]) -> ResponseTemplate {
    let wps: Vec<Value> = pts.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect();
    let args = json!({ "waypoints": wps }).to_string();
    reply(
        n,
        &json!({"role": "assistant", "content": "Through the gap.", "tool_calls": [
            {"id": format!("call_{n}"), "type": "function",
             "function": {"name": "strategic_waypoints", "arguments": args}}]}),
    )
}

/// The ridge site under `tmp`, a campaign across it for the model `mock` at `server` (an
/// `anthropic` entry or an `openai` one), and the settings of its loop and of its strategic
/// conversation.
fn setup(
    tmp: &Path,
    server: &MockServer,
    anthropic: bool,
) -> (CampaignSpec, LoopSettings, StrategicSettings) {
    let site_dir = tmp.join("site");
    std::fs::create_dir(&site_dir).unwrap();
    site(&site_dir);
    let kind = if anthropic {
        "anthropic\"\napi_key_env = \"BREADCRUMB_TEST_NO_SUCH_KEY"
    } else {
        "openai"
    };
    let models = format!(
        "[models.mock]\nprovider = \"{kind}\"\nbase_url = \"{}/v1\"\nmodel = \"vision-model\"\n\
         input_usd_per_mtok = 2.5\noutput_usd_per_mtok = 10.0\n",
        server.uri()
    );
    let registry = ModelRegistry::parse(&models, Path::new("models.toml")).unwrap();
    let entry = registry.get("mock").unwrap().clone();
    let spec = CampaignSpec {
        site: site_dir,
        rover: root().join("fixtures/rovers/perseverance.toml"),
        start: [60.0, 60.0, 0.0],
        goal: [60.0, 540.0],
        goal_tolerance_m: 5.0,
        sol_budget_m: 300.0,
        model: "mock".into(),
        prompt: "v1".into(),
        coarse_cell_m: 8.0,
        corridor_m: 60.0,
        advance: 0.75,
        max_sols: 5,
    };
    let settings = loop_settings(entry);
    let strategic = StrategicSettings::load(&root().join("prompts")).unwrap();
    (spec, settings, strategic)
}

/// The loop settings of `entry` with the v1 prompt and 512 px tiles.
fn loop_settings(entry: ModelEntry) -> LoopSettings {
    LoopSettings {
        prompt: PromptSet::load_named(&root().join("prompts"), "v1").unwrap(),
        config: SessionConfig::for_model(&entry),
        entry,
        tile_px: 512,
    }
}

/// Opens a campaign from (60, 60) to (60, 540) for an `openai` model at `server`, asks it for a
/// corridor, and returns the record and the request bodies the server received.
async fn ask(
    replies: Vec<ResponseTemplate>,
) -> (breadcrumb_agent::campaign::CampaignRecord, Vec<Value>, tempfile::TempDir) {
    ask_over(false, replies).await
}

/// [`ask`] over the Chat Completions wire (`anthropic` false: the provider is built from the
/// models.toml entry) or the Messages wire (an `AnthropicProvider` made here, with a test key).
async fn ask_over(
    anthropic: bool,
    replies: Vec<ResponseTemplate>,
) -> (breadcrumb_agent::campaign::CampaignRecord, Vec<Value>, tempfile::TempDir) {
    let server = MockServer::start().await;
    let route = if anthropic { "/v1/messages" } else { "/v1/chat/completions" };
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(Script(Mutex::new(replies.into())))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let (spec, settings, strategic) = setup(tmp.path(), &server, anthropic);
    let provider: Option<Arc<dyn Provider>> = anthropic.then(|| {
        let config = AnthropicConfig {
            name: "mock".into(),
            base_url: server.uri(),
            model: "claude-test".into(),
            timeout: Duration::from_secs(10),
        };
        Arc::new(AnthropicProvider::new(&config, "sk-strat-test-SECRET".into()).unwrap()) as _
    });
    let out = tmp.path().join("campaign");
    let mut c = Campaign::open(&out, spec.clone()).unwrap();
    assert_eq!(c.record().strategic_source, "coarse-planner");
    c.plan_strategic_with(&settings, &strategic, provider).await.unwrap();
    let record = c.record().clone();
    // Resuming never asks again: no request reaches the server.
    let before = server.received_requests().await.unwrap().len();
    let mut again = Campaign::open(&out, spec).unwrap();
    again.plan_strategic(&settings, &strategic).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), before);
    assert_eq!(again.record().strategic_source, record.strategic_source);
    let bodies =
        server.received_requests().await.unwrap().iter().map(|r| r.body_json().unwrap()).collect();
    (record, bodies, tmp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_models_corridor_is_refused_in_the_wall_then_used_through_the_gap() {
    let wall = [(200.0, 300.0), (460.0, 350.0)];
    let gap = [(460.0, 250.0), (460.0, 350.0)];
    let (record, bodies, tmp) = ask(vec![corridor(1, &wall), corridor(2, &gap)]).await;
    assert_eq!(bodies.len(), 2);
    // The first request: the system prompt, the task with the overview as an image, the tool.
    let b = &bodies[0];
    assert_eq!(b["messages"][0]["role"], "system");
    let task = &b["messages"][1]["content"];
    assert!(task[0]["text"].as_str().unwrap().contains("x = 60.0, y = 540.0"), "{}", task[0]);
    let url = task[1]["image_url"]["url"].as_str().unwrap();
    let b64 = url.strip_prefix("data:image/jpeg;base64,").expect("a base64 JPEG data URL");
    let jpeg = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    let shown = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((shown.width(), shown.height()), (1024, 1024));
    assert_eq!(b["tools"].as_array().unwrap().len(), 1);
    let tool = &b["tools"][0]["function"];
    assert_eq!(tool["name"], "strategic_waypoints");
    assert_eq!(tool["parameters"]["required"], json!(["waypoints"]));
    // The second carries the refusal, naming waypoint 1 in the wall.
    let msgs = bodies[1]["messages"].as_array().unwrap();
    let result = msgs.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(result["tool_call_id"], "call_1");
    let answer: Value = serde_json::from_str(result["content"].as_str().unwrap()).unwrap();
    assert_eq!(answer["pass"], false);
    assert_eq!(answer["violations"][0]["waypoint"], 1);
    assert_eq!(answer["violations"][0]["rule"], "blocked_waypoint");
    // The campaign follows the model's corridor, through its waypoints.
    assert_eq!(record.strategic_source, "model");
    let m = record.strategic_model.as_ref().unwrap();
    assert!(m.used && m.attempts.len() == 2 && !m.attempts[0].pass && m.attempts[1].pass);
    assert!(m.reason.contains("attempt 2"), "{}", m.reason);
    assert_eq!(m.attempts[1].said, "Through the gap.");
    assert_eq!(m.attempts[1].waypoints, gap.to_vec());
    assert_eq!((m.turns, m.input_tokens, m.output_tokens), (2, 2000, 200));
    assert!((m.cost_usd - 2.0 * (1000.0 * 2.5 + 100.0 * 10.0) / 1e6).abs() < 1e-9);
    assert!((record.summary.cost_usd - m.cost_usd).abs() < 1e-12);
    for w in gap {
        let near = record.strategic.route.iter().any(|p| (p.0 - w.0).hypot(p.1 - w.1) < 6.0);
        assert!(near, "{w:?} is not on {:?}", record.strategic.route);
    }
    assert!(tmp.path().join("campaign/strategic-overview.png").exists());
    let saved = std::fs::read_to_string(tmp.path().join("campaign/campaign.json")).unwrap();
    assert!(saved.contains("\"strategic_source\": \"model\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_never_gives_a_feasible_corridor_leaves_the_coarse_planners_route() {
    let wall = [(200.0, 300.0)];
    let replies = (1..=4).map(|n| corridor(n, &wall)).collect();
    let (record, bodies, _tmp) = ask(replies).await;
    assert_eq!(bodies.len(), 4);
    assert_eq!(record.strategic_source, "coarse-planner");
    let m = record.strategic_model.as_ref().unwrap();
    assert!(!m.used && m.attempts.len() == 4 && m.attempts.iter().all(|a| !a.pass));
    assert!(m.reason.contains("no feasible corridor in 4 attempts"), "{}", m.reason);
    assert!(m.reason.contains("waypoint 1 at (200.0, 300.0)"), "{}", m.reason);
    assert!(m.cost_usd > 0.0 && record.summary.tokens == m.tokens());
    // A model that only talks is told to call the tool, and falls back too.
    let (record, bodies, _tmp) = ask(Vec::new()).await;
    assert_eq!(record.strategic_source, "coarse-planner");
    let last = bodies[1]["messages"].as_array().unwrap().last().unwrap().clone();
    assert!(last["content"].to_string().contains("strategic_waypoints"), "{last}");
    let m = record.strategic_model.unwrap();
    assert!(m.attempts.is_empty() && m.turns == 8, "{m:?}");
}

/// A Messages reply calling `strategic_waypoints` with `pts`.
fn tool_use(n: usize, pts: &[(f64, f64)]) -> ResponseTemplate {
    let wps: Vec<Value> = pts.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "id": format!("msg_strat{n}"), "type": "message", "role": "assistant",
        "model": "claude-test", "stop_reason": "tool_use", "stop_sequence": null,
        "content": [{"type": "text", "text": "Through the gap."},
                    {"type": "tool_use", "id": format!("toolu_{n}"), "name": "strategic_waypoints",
                     "input": {"waypoints": wps}}],
        "usage": {"input_tokens": 1000, "output_tokens": 100},
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messages_wire_carries_the_overview_the_tool_and_the_refusal() {
    let replies = vec![tool_use(1, &[(200.0, 300.0)]), tool_use(2, &[(460.0, 250.0)])];
    let (record, bodies, _tmp) = ask_over(true, replies).await;
    assert_eq!(bodies.len(), 2);
    let b = &bodies[0];
    assert!(b["system"].to_string().contains("strategic corridor"), "{}", b["system"]);
    let task = &b["messages"][0]["content"];
    assert_eq!(task[1]["type"], "image", "{task}");
    assert_eq!(task[1]["source"]["media_type"], "image/jpeg");
    assert_eq!(b["tools"][0]["name"], "strategic_waypoints");
    assert_eq!(b["tools"][0]["input_schema"]["required"], json!(["waypoints"]));
    let answer = bodies[1]["messages"][2]["content"][0].clone();
    assert_eq!(
        (answer["type"].as_str(), answer["tool_use_id"].as_str()),
        (Some("tool_result"), Some("toolu_1"))
    );
    assert!(answer.to_string().contains("blocked_waypoint"), "{answer}");
    assert_eq!(record.strategic_source, "model");
    assert!(record.strategic.route.contains(&(460.0, 250.0)), "{:?}", record.strategic.route);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_request_falls_back_and_the_next_run_asks_again() {
    let refused = || {
        ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "bad request",
            "type": "invalid_request_error", "param": null, "code": null}}))
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Script(Mutex::new(vec![refused()].into())))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let (spec, settings, strategic) = setup(tmp.path(), &server, false);
    let out = tmp.path().join("campaign");
    let mut c = Campaign::open(&out, spec.clone()).unwrap();
    c.plan_strategic(&settings, &strategic).await.unwrap();
    let m = c.record().strategic_model.clone().unwrap();
    assert_eq!(c.record().strategic_source, "coarse-planner");
    assert!(m.request_failed && m.reason.contains("request failed"), "{m:?}");
    // The next run asks again, and this time the model answers.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Script(Mutex::new(vec![corridor(1, &[(460.0, 250.0)])].into())))
        .mount(&server)
        .await;
    let mut again = Campaign::open(&out, spec).unwrap();
    again.plan_strategic(&settings, &strategic).await.unwrap();
    assert_eq!(again.record().strategic_source, "model");
    assert!(!again.record().strategic_model.as_ref().unwrap().request_failed);
}
