//! The loop over Chat Completions: the server's replies and the requests it must receive.

use std::sync::Arc;
use std::time::Duration;

use breadcrumb_agent::provider::openai::{OpenAiConfig, OpenAiProvider};
use breadcrumb_agent::provider::{Provider, SizeLimits};
use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

use super::{Args, Format, KEY};

pub fn provider(server: &MockServer, timeout: Duration) -> OpenAiProvider {
    let config = OpenAiConfig {
        name: "wire-test".into(),
        base_url: format!("{}/v1", server.uri()),
        model: "vision-model".into(),
        timeout,
    };
    OpenAiProvider::new(&config, Some(KEY.into())).unwrap()
}

/// The id of tool call `j` of turn `n`.
fn call_id(n: usize, j: usize) -> String {
    format!("call_{n}_{j}")
}

fn completion(n: usize, message: &Value, finish: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": format!("chatcmpl-wire{n}"),
        "object": "chat.completion",
        "created": 1_730_000_000 + n,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}},
        "service_tier": "default",
        "system_fingerprint": "fp_wire"
    }))
}

pub fn calls_reply(n: usize, calls: &[(&'static str, Args)]) -> ResponseTemplate {
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(j, (name, args))| {
            let arguments = match args {
                Args::Json(v) => v.to_string(),
                Args::Raw(text) => (*text).to_owned(),
            };
            json!({"id": call_id(n, j), "type": "function",
                   "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    let message = json!({"role": "assistant", "content": null, "tool_calls": tool_calls,
                         "refusal": null, "annotations": []});
    completion(n, &message, "tool_calls")
}

pub fn text_reply(n: usize, text: &str) -> ResponseTemplate {
    let message = json!({"role": "assistant", "content": text, "refusal": null});
    completion(n, &message, "stop")
}

pub fn error_reply(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {"message": message,
        "type": "requests", "param": null, "code": null}}))
}

fn roles(body: &Value) -> Vec<&str> {
    body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect()
}

/// The base64 JPEG of an `image_url` part (a data URL).
fn data_url(part: &Value) -> &str {
    assert_eq!(part["type"], "image_url", "{part}");
    let url = part["image_url"]["url"].as_str().unwrap();
    url.strip_prefix("data:image/jpeg;base64,").expect("a base64 JPEG data URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoom_query_fail_fix_accept() {
    let o = super::zoom_query_fail_fix_accept(Format::OpenAi).await;
    let b = &o.bodies;
    for body in b {
        assert_eq!(body["model"], "vision-model");
        assert_eq!(body["stream"], false);
        assert_eq!(body["tool_choice"], "auto");
        assert_eq!(body["parallel_tool_calls"], true);
        for tool in body["tools"].as_array().unwrap() {
            assert_eq!(tool["type"], "function");
            assert_eq!(tool["function"]["parameters"]["type"], "object", "{tool}");
            assert!(!tool["function"]["description"].as_str().unwrap().is_empty());
        }
        assert_eq!(body["messages"][0]["role"], "system");
    }
    // Turn 1: the task with the overview tile as a data URL.
    assert_eq!(roles(&b[0]), ["system", "user"]);
    let task = b[0]["messages"][1]["content"].as_array().unwrap();
    assert_eq!(task[0]["type"], "text");
    assert!(!task[0]["text"].as_str().unwrap().is_empty());
    assert_eq!(task.len(), 2);
    assert_eq!(o.sent_png(data_url(&task[1])), o.overview_images()[0]);
    assert_eq!(task[1]["image_url"]["detail"], "high");

    // Turn 2: both parallel calls went back as one assistant message, the results as `tool`
    // messages (text only), and the zoomed tile in a `user` message after them.
    assert_eq!(roles(&b[1]), ["system", "user", "assistant", "tool", "tool", "user"]);
    let m = b[1]["messages"].as_array().unwrap();
    assert_eq!(m[1], b[0]["messages"][1], "the task is resent unchanged");
    let calls = m[2]["tool_calls"].as_array().unwrap();
    let names: Vec<&str> = calls.iter().map(|c| c["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["view_tile", "slope_query"]);
    assert_eq!(m[2]["content"], Value::Null);
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["size_m"], 80.0);
    assert_eq!(
        (m[3]["tool_call_id"].as_str(), m[4]["tool_call_id"].as_str()),
        (Some("call_1_0"), Some("call_1_1"))
    );
    for tool in &m[3..5] {
        let content = tool["content"].as_str().expect("tool content is text");
        assert!(serde_json::from_str::<Value>(content).is_ok(), "{content}");
        assert!(!content.contains("base64"), "no image inside a tool message");
    }
    let view = m[5]["content"].as_array().unwrap();
    assert_eq!(view.len(), 2);
    assert_eq!(view[0]["text"], "Image returned by tool call call_1_0:");
    assert_eq!(o.sent_png(data_url(&view[1])), o.tool_images("view_tile")[0]);

    // Turn 3: the checker's verdict on the straight line, and the revision prompt.
    let m = b[2]["messages"].as_array().unwrap();
    assert_eq!(roles(&b[2])[6..], ["assistant", "tool", "user"]);
    assert_eq!(m[7]["tool_call_id"], "call_2_0");
    let submitted: Value = serde_json::from_str(m[7]["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        (submitted["submitted"].as_bool(), submitted["accepted"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(submitted["verdict"]["violations"].to_string().contains("keep_out"), "{submitted}");
    let revise = m[8]["content"].as_str().unwrap();
    assert!(revise.contains("rejected") && revise.contains("Revisions left: 3"), "{revise}");

    // Turn 4: the dry run passed; the zoomed tile is still attached (within `keep_images`).
    let m = b[3]["messages"].as_array().unwrap();
    assert_eq!(m.len(), 11);
    assert_eq!(m[10]["role"], "tool");
    let checked: Value = serde_json::from_str(m[10]["content"].as_str().unwrap()).unwrap();
    assert_eq!(checked["pass"], true, "{checked}");
    assert_eq!(o.sent_png(data_url(&m[5]["content"][1])), o.tool_images("view_tile")[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_arguments_then_recovery() {
    let o = super::malformed_then_recovery(Format::OpenAi).await;
    let m = o.bodies[1]["messages"].as_array().unwrap();
    assert_eq!(roles(&o.bodies[1]), ["system", "user", "assistant", "tool", "tool", "tool"]);
    // What the model wrote is not JSON: the call goes back with `{}` (strict servers parse
    // echoed arguments), and its tool message says so.
    assert_eq!(m[2]["tool_calls"][0]["function"]["arguments"], "{}");
    let echoed = m[2]["tool_calls"][1]["function"]["arguments"].as_str().unwrap();
    let echoed: Value = serde_json::from_str(echoed).unwrap();
    assert_eq!(echoed, json!({"x_m": "west of the dune", "y_m": [1_090_664.0]}), "JSON goes back");
    let errors: Vec<Value> = m[3..6]
        .iter()
        .map(|t| serde_json::from_str(t["content"].as_str().unwrap()).unwrap())
        .collect();
    let kinds: Vec<&str> = errors.iter().map(|e| e["error"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["invalid_arguments", "invalid_arguments", "unknown_tool"]);
    assert!(errors[1].to_string().contains("x_m"), "the bad field is named: {}", errors[1]);
    assert!(errors[0]["note"].as_str().unwrap().contains("{}"), "{}", errors[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_until_the_turn_budget() {
    let o = super::loops_until_the_turn_budget(Format::OpenAi).await;
    // Each request carries the whole conversation so far: 2 + 2 messages per turn.
    let lens: Vec<usize> =
        o.bodies.iter().map(|b| b["messages"].as_array().unwrap().len()).collect();
    assert_eq!(lens, [2, 4, 6, 8, 10]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried() {
    super::transient_faults_are_retried(Format::OpenAi).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_body_is_retried() {
    let body = format!(
        r#"{{"id":"chatcmpl-cut","echo":"{KEY}","object":"chat.completion","choices":[{{"index":0,"message":{{"role":"assist"#
    );
    super::truncated_body_is_retried(Format::OpenAi, body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_not_sent() {
    let tiny_images = |server: &MockServer| -> Arc<dyn Provider> {
        let limits = SizeLimits { image_bytes: 1000, ..SizeLimits::OPENAI };
        Arc::new(provider(server, Duration::from_secs(30)).with_size_limits(limits))
    };
    super::oversized_requests_are_not_sent(Format::OpenAi, tiny_images).await;
    let tiny_requests = |server: &MockServer| -> Arc<dyn Provider> {
        let limits = SizeLimits { request_bytes: Some(10_000), ..SizeLimits::OPENAI };
        Arc::new(provider(server, Duration::from_secs(30)).with_size_limits(limits))
    };
    super::oversized_requests_are_not_sent(Format::OpenAi, tiny_requests).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_and_exhausted() {
    super::fatal_and_exhausted(Format::OpenAi).await;
}
