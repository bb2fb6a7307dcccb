//! The loop over the Messages API: the server's replies and the requests it must receive.

use std::sync::Arc;
use std::time::Duration;

use breadcrumb_agent::provider::anthropic::{AnthropicConfig, AnthropicProvider};
use breadcrumb_agent::provider::{Provider, SizeLimits};
use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

use super::{Args, Format, KEY};

pub fn provider(server: &MockServer, timeout: Duration) -> AnthropicProvider {
    let config = AnthropicConfig {
        name: "wire-test".into(),
        base_url: server.uri(),
        model: "claude-sonnet-4-5".into(),
        timeout,
    };
    AnthropicProvider::new(&config, KEY.into()).unwrap()
}

fn message(n: usize, content: &[Value], stop: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": format!("msg_wire{n}"),
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": {"input_tokens": 1000, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": 100, "service_tier": "standard"}
    }))
}

pub fn calls_reply(n: usize, calls: &[(&'static str, Args)]) -> ResponseTemplate {
    let mut content = vec![json!({"type": "text", "text": "Let me work on it."})];
    content.extend(calls.iter().enumerate().map(|(j, (name, args))| {
        // The API always sends an object; a string stands for a model (or proxy) that broke it.
        let input = match args {
            Args::Json(v) => v.clone(),
            Args::Raw(text) => Value::String((*text).to_owned()),
        };
        json!({"type": "tool_use", "id": format!("toolu_{n}_{j}"), "name": name, "input": input})
    }));
    message(n, &content, "tool_use")
}

pub fn text_reply(n: usize, text: &str) -> ResponseTemplate {
    message(n, &[json!({"type": "text", "text": text})], "end_turn")
}

pub fn error_reply(status: u16, message: &str) -> ResponseTemplate {
    let kind = match status {
        401 => "authentication_error",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        _ => "api_error",
    };
    ResponseTemplate::new(status)
        .set_body_json(json!({"type": "error", "error": {"type": kind, "message": message}}))
}

fn roles(body: &Value) -> Vec<&str> {
    body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect()
}

/// The base64 JPEG of an `image` block.
fn image_data(block: &Value) -> &str {
    assert_eq!(block["type"], "image", "{block}");
    assert_eq!(block["source"]["type"], "base64");
    assert_eq!(block["source"]["media_type"], "image/jpeg");
    block["source"]["data"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoom_query_fail_fix_accept() {
    let o = super::zoom_query_fail_fix_accept(Format::Anthropic).await;
    for r in &o.requests {
        assert_eq!(r.headers.get("anthropic-version").unwrap(), "2023-06-01");
        assert!(r.headers.get("authorization").is_none(), "the key goes in x-api-key only");
    }
    let b = &o.bodies;
    for body in b {
        assert_eq!(body["model"], "claude-sonnet-4-5");
        let system = &body["system"][0];
        assert!(!system["text"].as_str().unwrap().is_empty(), "the system prompt is top-level");
        assert_eq!(system["cache_control"]["type"], "ephemeral", "and a cache breakpoint");
        for tool in body["tools"].as_array().unwrap() {
            assert_eq!(tool["input_schema"]["type"], "object", "{tool}");
            assert!(!tool["description"].as_str().unwrap().is_empty());
        }
    }
    // Turn 1: the task with the overview tile.
    assert_eq!(roles(&b[0]), ["user"]);
    let task = b[0]["messages"][0]["content"].as_array().unwrap();
    assert_eq!((task.len(), &task[0]["type"]), (2, &json!("text")));
    assert_eq!(o.sent_png(image_data(&task[1])), o.overview_images()[0]);

    // Turn 2: the parallel calls as `tool_use` blocks; their results as `tool_result` blocks,
    // the zoomed tile inside the view_tile result.
    assert_eq!(roles(&b[1]), ["user", "assistant", "user"]);
    let m = b[1]["messages"].as_array().unwrap();
    assert_eq!(m[0], b[0]["messages"][0], "the task is resent unchanged");
    let uses: Vec<(&str, &str)> = m[1]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "tool_use")
        .map(|c| (c["id"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(uses, [("toolu_1_0", "view_tile"), ("toolu_1_1", "slope_query")]);
    assert_eq!(m[1]["content"][1]["input"]["size_m"], 80.0);
    let results = m[2]["content"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(
        (&results[0]["type"], &results[0]["tool_use_id"]),
        (&json!("tool_result"), &json!("toolu_1_0"))
    );
    let inner = results[0]["content"].as_array().unwrap();
    assert_eq!(inner.len(), 2);
    assert!(serde_json::from_str::<Value>(inner[0]["text"].as_str().unwrap()).is_ok());
    assert_eq!(o.sent_png(image_data(&inner[1])), o.tool_images("view_tile")[0]);
    assert_eq!(results[1]["tool_use_id"], "toolu_1_1");
    assert_eq!(results[1]["content"].as_array().unwrap().len(), 1, "no image for slope_query");
    assert!(results.iter().all(|r| r.get("is_error").is_none()));

    // Turn 3: the verdict in the submit_route result, then the revision prompt.
    assert_eq!(roles(&b[2]), ["user", "assistant", "user", "assistant", "user"]);
    let last = b[2]["messages"][4]["content"].as_array().unwrap();
    assert_eq!(
        (&last[0]["type"], &last[0]["tool_use_id"]),
        (&json!("tool_result"), &json!("toolu_2_0"))
    );
    let submitted: Value =
        serde_json::from_str(last[0]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(submitted["accepted"], false);
    assert!(submitted["verdict"]["violations"].to_string().contains("keep_out"), "{submitted}");
    assert_eq!(last[1]["type"], "text");
    let revise = last[1]["text"].as_str().unwrap();
    assert!(revise.contains("rejected") && revise.contains("Revisions left: 3"), "{revise}");

    // Turn 4: the dry run passed; the tile is still inside its tool_result.
    let m = b[3]["messages"].as_array().unwrap();
    assert_eq!(m.len(), 7);
    let checked: Value =
        serde_json::from_str(m[6]["content"][0]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(checked["pass"], true, "{checked}");
    assert_eq!(
        o.sent_png(image_data(&m[2]["content"][0]["content"][1])),
        o.tool_images("view_tile")[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_arguments_then_recovery() {
    let o = super::malformed_then_recovery(Format::Anthropic).await;
    let m = o.bodies[1]["messages"].as_array().unwrap();
    assert_eq!(roles(&o.bodies[1]), ["user", "assistant", "user"]);
    // The API wants `input` to be an object: the broken one goes back as `{}`.
    let uses: Vec<&Value> =
        m[1]["content"].as_array().unwrap().iter().filter(|c| c["type"] == "tool_use").collect();
    assert_eq!(uses.len(), 3);
    assert_eq!(uses[0]["input"], json!({}));
    let note: Value =
        serde_json::from_str(m[2]["content"][0]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert!(note["note"].as_str().unwrap().contains("{}"), "the model is told: {note}");
    assert_eq!(uses[2]["name"], "teleport");
    let results = m[2]["content"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let kinds: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r["is_error"], true, "{r}");
            let e: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
            e["error"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(kinds, ["invalid_arguments", "invalid_arguments", "unknown_tool"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_until_the_turn_budget() {
    let o = super::loops_until_the_turn_budget(Format::Anthropic).await;
    let lens: Vec<usize> =
        o.bodies.iter().map(|b| b["messages"].as_array().unwrap().len()).collect();
    assert_eq!(lens, [1, 3, 5, 7, 9]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried() {
    super::transient_faults_are_retried(Format::Anthropic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_body_is_retried() {
    let body = format!(
        r#"{{"id":"msg_cut","echo":"{KEY}","type":"message","role":"assistant","content":[{{"type":"tool_use","id":"toolu_x","name":"view_ti"#
    );
    super::truncated_body_is_retried(Format::Anthropic, body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_not_sent() {
    let tiny_images = |server: &MockServer| -> Arc<dyn Provider> {
        let limits = SizeLimits { image_bytes: 1000, ..SizeLimits::ANTHROPIC };
        Arc::new(provider(server, Duration::from_secs(30)).with_size_limits(limits))
    };
    super::oversized_requests_are_not_sent(Format::Anthropic, tiny_images).await;
    let tiny_requests = |server: &MockServer| -> Arc<dyn Provider> {
        let limits = SizeLimits { request_bytes: Some(10_000), ..SizeLimits::ANTHROPIC };
        Arc::new(provider(server, Duration::from_secs(30)).with_size_limits(limits))
    };
    super::oversized_requests_are_not_sent(Format::Anthropic, tiny_requests).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_and_exhausted() {
    super::fatal_and_exhausted(Format::Anthropic).await;
}
