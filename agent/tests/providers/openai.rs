//! The `openai` provider against Chat Completions servers of four shapes: OpenAI itself, vLLM,
//! Ollama's `/v1` compat layer and llama.cpp-server.

use std::time::Duration;

use breadcrumb_agent::provider::openai::{OpenAiConfig, OpenAiProvider};
use breadcrumb_agent::provider::{
    ErrorClass, Message, ModelRequest, Provider, ProviderError, StopReason, Usage,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{mid_drive_request, png_data_url};

const KEY: &str = "sk-test-0123456789-SECRET";

fn provider(server: &MockServer, key: Option<&str>, timeout: Duration) -> OpenAiProvider {
    let config = OpenAiConfig {
        name: "test-model".into(),
        base_url: format!("{}/v1/", server.uri()),
        model: "vision-model".into(),
        timeout,
    };
    OpenAiProvider::new(&config, key.map(str::to_owned)).unwrap()
}

/// Serves `reply` once to `POST /v1/chat/completions`, runs the mid-drive turn, and returns the
/// outcome with the JSON body and authorization header the server received.
async fn exchange(
    reply: ResponseTemplate,
    key: Option<&str>,
) -> (Result<breadcrumb_agent::provider::ModelResponse, ProviderError>, Value, Option<String>) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(reply)
        .expect(1)
        .mount(&server)
        .await;
    let outcome =
        provider(&server, key, Duration::from_secs(10)).complete(&mid_drive_request()).await;
    let requests = server.received_requests().await.unwrap();
    let body: Value = requests[0].body_json().unwrap();
    let auth = requests[0].headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
    (outcome, body, auth)
}

#[tokio::test]
async fn openai_parallel_tool_calls_and_the_request_on_the_wire() {
    let reply = json!({
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1_730_000_000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    {"id": "call_Xy1", "type": "function", "function": {"name": "view_tile",
                     "arguments": "{\"center_x_m\":30.5,\"center_y_m\":-12.0,\"size_m\":40}"}},
                    {"id": "call_Xy2", "type": "function", "function": {"name": "hazard_lookup",
                     "arguments": "{\"x_m\":30.5,\"y_m\":-12.0,\"radius_m\":10}"}}
                ],
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": "tool_calls"
        }],
        "usage": {
            "prompt_tokens": 2051, "completion_tokens": 64, "total_tokens": 2115,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_abc"
    });
    let (outcome, body, auth) =
        exchange(ResponseTemplate::new(200).set_body_json(reply), Some(KEY)).await;
    let response = outcome.unwrap();

    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.text, "");
    assert_eq!(response.tool_calls.len(), 2);
    assert_eq!(response.tool_calls[0].id, "call_Xy1");
    assert_eq!(response.tool_calls[0].arguments["center_x_m"], 30.5);
    assert_eq!(response.tool_calls[1].name, "hazard_lookup");
    assert_eq!(
        response.usage,
        Some(Usage { input_tokens: 2051, output_tokens: 64, ..Usage::default() })
    );
    assert_eq!(response.model.as_deref(), Some("gpt-4o-2024-08-06"));

    assert_eq!(auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(body["model"], "vision-model");
    assert_eq!(body["stream"], false);
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(body["parallel_tool_calls"], true);
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "view_tile");
    assert_eq!(body["tools"][0]["function"]["parameters"]["required"], json!(["size_m"]));

    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "tool", "user"]);
    // The task: text and the overview tile as a data-URL image part.
    assert_eq!(messages[1]["content"][0], json!({"type": "text", "text": "Drive to the goal."}));
    assert_eq!(messages[1]["content"][1]["type"], "image_url");
    assert_eq!(messages[1]["content"][1]["image_url"]["url"], png_data_url(1));
    // The model's own turn, arguments as JSON text.
    assert_eq!(messages[2]["content"], "Let me look closer.");
    assert_eq!(messages[2]["tool_calls"][1]["id"], "call_b");
    let args: Value = serde_json::from_str(
        messages[2]["tool_calls"][0]["function"]["arguments"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(args["size_m"], 50.0);
    // Tool messages carry text only; the tile follows in one user message after both.
    assert_eq!(messages[3]["tool_call_id"], "call_a");
    assert_eq!(messages[3]["content"], r#"{"footprint":{"min_x_m":-15.0}}"#);
    assert_eq!(messages[4]["tool_call_id"], "call_b");
    assert_eq!(messages[5]["content"][0]["text"], "Image returned by tool call call_a:");
    assert_eq!(messages[5]["content"][1]["image_url"]["url"], png_data_url(2));
    assert_eq!(messages[5]["content"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn vllm_shape() {
    let reply = json!({
        "id": "chatcmpl-9f8e", "object": "chat.completion", "created": 1_730_000_001,
        "model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "reasoning_content": null, "content": null,
                "tool_calls": [{"id": "chatcmpl-tool-5c1d", "type": "function",
                    "function": {"name": "view_tile",
                        "arguments": "{\"center_x_m\": 10.0, \"center_y_m\": 20.0, \"size_m\": 25}"}}]},
            "logprobs": null, "finish_reason": "tool_calls", "stop_reason": null
        }],
        "usage": {"prompt_tokens": 1234, "total_tokens": 1300, "completion_tokens": 66,
                  "prompt_tokens_details": null},
        "prompt_logprobs": null,
        "kv_transfer_params": null
    });
    let (outcome, _, _) = exchange(ResponseTemplate::new(200).set_body_json(reply), None).await;
    let response = outcome.unwrap();
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.tool_calls[0].id, "chatcmpl-tool-5c1d");
    assert_eq!(response.tool_calls[0].arguments["size_m"], 25);
    let usage = response.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.cached_input_tokens), (1234, 0), "details: null");
}

/// OpenAI's automatic prompt caching: `prompt_tokens_details.cached_tokens` is the part of
/// `prompt_tokens` read from the cache, priced at the cached rate.
#[tokio::test]
async fn openai_cached_tokens_are_parsed_and_priced() {
    let reply = json!({
        "id": "chatcmpl-Cache1", "object": "chat.completion", "created": 1_730_000_002,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Clear ahead.",
            "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5_000, "completion_tokens": 100, "total_tokens": 5_100,
                  "prompt_tokens_details": {"cached_tokens": 3_584, "audio_tokens": 0}}
    });
    let (outcome, body, _) =
        exchange(ResponseTemplate::new(200).set_body_json(reply), Some(KEY)).await;
    assert!(!body.to_string().contains("cache_control"), "nothing to mark on this API");
    let usage = outcome.unwrap().usage.unwrap();
    assert_eq!(
        usage,
        Usage {
            input_tokens: 5_000,
            output_tokens: 100,
            image_tokens: None,
            cached_input_tokens: 3_584,
            cache_write_tokens: 0,
        }
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let registry =
        breadcrumb_agent::models::ModelRegistry::load(&root.join("models.toml")).unwrap();
    let prices = registry.get("gpt-4o").unwrap().prices();
    assert_eq!((prices.input_usd_per_mtok, prices.cached_input_usd_per_mtok), (2.5, Some(1.25)));
    let usd = (1_416.0 * 2.5 + 3_584.0 * 1.25 + 100.0 * 10.0) / 1e6;
    assert!((prices.cost_usd(&usage) - usd).abs() < 1e-12, "{}", prices.cost_usd(&usage));
}

#[tokio::test]
async fn ollama_shape() {
    let reply = json!({
        "id": "chatcmpl-417", "object": "chat.completion", "created": 1_730_000_002,
        "model": "qwen2.5vl:7b", "system_fingerprint": "fp_ollama",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "",
                "tool_calls": [{"id": "call_k2j3h4", "index": 0, "type": "function",
                    "function": {"name": "slope_query", "arguments": "{\"x_m\":1,\"y_m\":2}"}}]},
            "finish_reason": "tool_calls"
        }],
        "usage": {"prompt_tokens": 500, "completion_tokens": 20, "total_tokens": 520}
    });
    let (outcome, _, auth) = exchange(ResponseTemplate::new(200).set_body_json(reply), None).await;
    let response = outcome.unwrap();
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.tool_calls[0].arguments, json!({"x_m": 1, "y_m": 2}));
    assert_eq!(response.usage.unwrap().output_tokens, 20);
    assert_eq!(auth.as_deref().map(str::trim), Some("Bearer"), "no key, no secret sent");
}

#[tokio::test]
async fn older_ollama_stop_with_tool_calls_and_no_ids() {
    let reply = json!({
        "model": "llava:13b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "",
            "tool_calls": [
                {"function": {"name": "view_tile", "arguments": {"size_m": 30}}},
                {"function": {"name": "slope_query", "arguments": ""}}
            ]}, "finish_reason": "stop"}]
    });
    let (outcome, _, _) = exchange(ResponseTemplate::new(200).set_body_json(reply), None).await;
    let response = outcome.unwrap();
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    let ids: Vec<&str> = response.tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["call_0", "call_1"]);
    assert_eq!(response.tool_calls[0].arguments, json!({"size_m": 30}));
    assert_eq!(response.tool_calls[1].arguments, json!({}));
    assert_eq!(response.usage, None);
}

/// llama.cpp-server: `timings`, no `usage`, and `finish_reason` missing, empty or unknown.
#[tokio::test]
async fn llama_cpp_shapes() {
    let cases = [
        (json!(null), StopReason::EndTurn),
        (json!(""), StopReason::EndTurn),
        (json!("eos_token_found"), StopReason::Other("eos_token_found".into())),
        (json!("length"), StopReason::MaxTokens),
    ];
    for (finish, expected) in cases {
        let mut choice = json!({"index": 0, "message": {"role": "assistant",
            "content": "I will drive north.", "tool_calls": null}});
        if !finish.is_null() {
            choice["finish_reason"] = finish;
        }
        let reply = json!({
            "choices": [choice],
            "created": 1_730_000_003, "model": "gpt-3.5-turbo", "system_fingerprint": "b4500-1d2e3f",
            "object": "chat.completion", "id": "chatcmpl-Zq",
            "timings": {"prompt_n": 812, "prompt_ms": 950.1, "prompt_per_second": 854.6,
                        "predicted_n": 6, "predicted_ms": 120.4}
        });
        let (outcome, _, _) = exchange(ResponseTemplate::new(200).set_body_json(reply), None).await;
        let response = outcome.unwrap();
        assert_eq!(response.text, "I will drive north.");
        assert!(response.tool_calls.is_empty());
        assert_eq!(response.stop_reason, expected);
        assert_eq!(response.usage, None);
    }
}

#[tokio::test]
async fn rate_limit_is_retryable_with_retry_after() {
    let reply = ResponseTemplate::new(429)
        .insert_header("retry-after", "7")
        .set_body_json(json!({"error": {"message": "Rate limit reached for gpt-4o",
            "type": "requests", "param": null, "code": "rate_limit_exceeded"}}));
    let (outcome, _, _) = exchange(reply, Some(KEY)).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable { retry_after: Some(Duration::from_secs(7)) });
    assert!(err.to_string().contains("HTTP 429"), "{err}");
    assert!(err.to_string().contains("Rate limit reached"), "{err}");
}

#[tokio::test]
async fn server_errors_are_retryable() {
    for status in [500, 502, 503, 529] {
        let reply = ResponseTemplate::new(status).set_body_string("upstream hiccup");
        let (outcome, _, _) = exchange(reply, None).await;
        let err = outcome.unwrap_err();
        assert!(err.is_retryable(), "{status}: {err}");
        assert!(err.to_string().contains("upstream hiccup"), "{err}");
    }
}

#[tokio::test]
async fn bad_key_is_fatal_and_never_shown() {
    // OpenAI echoes part of a bad key; a careless server might echo all of it.
    let reply = ResponseTemplate::new(401).set_body_json(json!({"error": {
        "message": format!("Incorrect API key provided: {KEY}."), "type": "invalid_request_error",
        "param": null, "code": "invalid_api_key"}}));
    let (outcome, _, auth) = exchange(reply, Some(KEY)).await;
    assert!(auth.unwrap().contains(KEY), "the key was sent");
    let err = outcome.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(matches!(err, ProviderError::Http { status: 401, .. }));
    assert!(!err.to_string().contains(KEY), "{err}");
    assert!(!format!("{err:?}").contains(KEY), "{err:?}");
    assert!(err.to_string().contains("[redacted]"), "{err}");
}

#[tokio::test]
async fn bad_request_is_fatal() {
    let reply =
        ResponseTemplate::new(400).set_body_json(json!({"error": "messages: image too big"}));
    let (outcome, _, _) = exchange(reply, None).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(err.to_string().contains("image too big"), "{err}");
}

#[tokio::test]
async fn unusable_bodies_are_fatal_not_panics() {
    for body in ["<html>502 from a proxy</html>", "{\"object\": \"list\"}", "{\"choices\": []}"] {
        let reply = ResponseTemplate::new(200).set_body_raw(body, "application/json");
        let (outcome, _, _) = exchange(reply, None).await;
        let err = outcome.unwrap_err();
        assert!(matches!(err, ProviderError::BadResponse { .. }), "{body}: {err}");
        assert_eq!(err.class(), ErrorClass::Fatal);
    }
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let slow = provider(&server, None, Duration::from_millis(300));
    let err = slow.complete(&mid_drive_request()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());

    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = OpenAiConfig {
        name: "gone".into(),
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "m".into(),
        timeout: Duration::from_secs(5),
    };
    let request = ModelRequest { messages: vec![Message::user_text("hi")], ..mid_drive_request() };
    let err = OpenAiProvider::new(&config, None).unwrap().complete(&request).await.unwrap_err();
    assert!(matches!(err, ProviderError::Connection { .. }), "{err}");
    assert!(err.is_retryable());
}

#[test]
fn keys_an_http_header_cannot_carry_are_refused_without_showing_them() {
    let config = OpenAiConfig {
        name: "m".into(),
        base_url: "http://127.0.0.1:1/v1".into(),
        model: "m".into(),
        timeout: Duration::from_secs(1),
    };
    let err = OpenAiProvider::new(&config, Some("sk-abc\n".into())).unwrap_err();
    assert!(!err.to_string().contains("sk-abc"), "{err}");
    let ok = OpenAiProvider::new(&config, Some(KEY.into())).unwrap();
    assert!(!format!("{ok:?}").contains(KEY));
}
