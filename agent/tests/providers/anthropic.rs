//! The `anthropic` provider against a mock Messages API.

use std::time::Duration;

use breadcrumb_agent::models::ModelRegistry;
use breadcrumb_agent::provider::anthropic::{AnthropicConfig, AnthropicProvider};
use breadcrumb_agent::provider::{
    ErrorClass, ModelResponse, Provider, ProviderError, StopReason, Usage,
};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{mid_drive_request, png};

const KEY: &str = "sk-ant-test-0123456789-SECRET";

/// Serves `reply` once to `POST /v1/messages` (only with the right headers), runs the mid-drive
/// turn, and returns the outcome with the JSON body the server received.
async fn exchange(reply: ResponseTemplate) -> (Result<ModelResponse, ProviderError>, Value) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .respond_with(reply)
        .expect(1)
        .mount(&server)
        .await;
    let config = AnthropicConfig {
        name: "claude-test".into(),
        base_url: server.uri(),
        model: "claude-sonnet-4-5".into(),
        timeout: Duration::from_secs(10),
    };
    let provider = AnthropicProvider::new(&config, KEY.into()).unwrap();
    assert!(!format!("{provider:?}").contains(KEY));
    let outcome = provider.complete(&mid_drive_request()).await;
    let requests = server.received_requests().await.unwrap();
    (outcome, requests[0].body_json().unwrap())
}

#[tokio::test]
async fn tool_use_turn_and_the_request_on_the_wire() {
    let reply = json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "text", "text": "The tile shows a ripple field; checking two spots."},
            {"type": "tool_use", "id": "toolu_01A", "name": "slope_query",
             "input": {"x_m": 12.0, "y_m": 30.0}},
            {"type": "tool_use", "id": "toolu_01B", "name": "hazard_lookup",
             "input": {"x_m": 12.0, "y_m": 30.0, "radius_m": 5.0}}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": null,
        "usage": {"input_tokens": 3120, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": 98, "service_tier": "standard"}
    });
    let (outcome, body) = exchange(ResponseTemplate::new(200).set_body_json(reply)).await;
    let response = outcome.unwrap();
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.text, "The tile shows a ripple field; checking two spots.");
    assert_eq!(response.tool_calls.len(), 2);
    assert_eq!(response.tool_calls[1].id, "toolu_01B");
    assert_eq!(response.tool_calls[1].arguments["radius_m"], 5.0);
    assert_eq!(
        response.usage,
        Some(Usage { input_tokens: 3120, output_tokens: 98, ..Usage::default() })
    );

    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "You plan rover drives.",
            "cache_control": {"type": "ephemeral"}}])
    );
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(body["tools"][0]["name"], "view_tile");
    assert_eq!(body["tools"][0]["input_schema"]["required"], json!(["size_m"]));
    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(
        messages[0]["content"][1],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png",
            "data": png(1).base64()}, "cache_control": {"type": "ephemeral"}})
    );
    assert_eq!(messages[1]["content"][1]["type"], "tool_use");
    assert_eq!(messages[1]["content"][1]["input"]["size_m"], 50.0);
    let result = &messages[2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], "call_a");
    assert_eq!(
        result["content"][0],
        json!({"type": "text",
        "text": r#"{"footprint":{"min_x_m":-15.0}}"#})
    );
    assert_eq!(result["content"][1]["type"], "image");
    assert_eq!(result["content"][1]["source"]["data"], png(2).base64());
    assert_eq!(messages[2]["content"][1]["tool_use_id"], "call_b");
    assert!(messages[2]["content"][1].get("is_error").is_none());
}

/// The `cache_control` markers of a body: where they are (as JSON pointers), in document order.
fn breakpoints(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("cache_control") {
                assert_eq!(map["cache_control"], json!({"type": "ephemeral"}), "at {at}");
                out.push(at.to_owned());
            }
            for (k, v) in map {
                breakpoints(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                breakpoints(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn prompt_caching_breakpoints_usage_and_cost() {
    let reply = json!({
        "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Looks clear."}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 412, "cache_creation_input_tokens": 1_588,
                  "cache_read_input_tokens": 6_000, "output_tokens": 200,
                  "cache_creation": {"ephemeral_5m_input_tokens": 1_588,
                                     "ephemeral_1h_input_tokens": 0}}
    });
    let (outcome, body) = exchange(ResponseTemplate::new(200).set_body_json(reply)).await;

    // Breakpoints: the last tool, the system block, the newest user turn's last block (the
    // second tool result) and the earlier user turn with an image (the task's overview).
    let mut marked = Vec::new();
    breakpoints(&body, "", &mut marked);
    marked.sort();
    assert_eq!(
        marked,
        ["/messages/0/content/1", "/messages/2/content/1", "/system/0", "/tools/1"],
        "{body:#}"
    );
    assert!(marked.len() <= 4, "the API takes at most four breakpoints");
    assert_eq!(body["messages"][2]["content"][1]["tool_use_id"], "call_b");
    assert_eq!(body["messages"][0]["content"][1]["type"], "image");

    // Cache reads and writes are counted in the input and kept apart for pricing.
    let usage = outcome.unwrap().usage.unwrap();
    assert_eq!(
        usage,
        Usage {
            input_tokens: 412 + 1_588 + 6_000,
            output_tokens: 200,
            image_tokens: None,
            cached_input_tokens: 6_000,
            cache_write_tokens: 1_588,
        }
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let registry = ModelRegistry::load(&root.join("models.toml")).unwrap();
    let prices = registry.get("claude-sonnet").unwrap().prices();
    assert_eq!(
        (
            prices.input_usd_per_mtok,
            prices.cached_input_usd_per_mtok,
            prices.cache_write_usd_per_mtok
        ),
        (3.0, Some(0.30), Some(3.75))
    );
    let usd = (412.0 * 3.0 + 1_588.0 * 3.75 + 6_000.0 * 0.30 + 200.0 * 15.0) / 1e6;
    assert!((prices.cost_usd(&usage) - usd).abs() < 1e-12, "{}", prices.cost_usd(&usage));
    let uncached = (8_000.0 * 3.0 + 200.0 * 15.0) / 1e6;
    assert!(prices.cost_usd(&usage) < uncached);
}

#[tokio::test]
async fn end_turn_and_max_tokens() {
    for (stop, expected) in
        [("end_turn", StopReason::EndTurn), ("max_tokens", StopReason::MaxTokens)]
    {
        let reply = json!({"type": "message", "role": "assistant", "content": [
            {"type": "text", "text": "Done."}], "stop_reason": stop,
            "usage": {"input_tokens": 1, "output_tokens": 2}});
        let (outcome, _) = exchange(ResponseTemplate::new(200).set_body_json(reply)).await;
        let response = outcome.unwrap();
        assert_eq!((response.text.as_str(), response.stop_reason), ("Done.", expected));
    }
}

fn api_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"type": "error", "error": {"type": kind, "message": message}}))
}

#[tokio::test]
async fn errors_are_classified() {
    let (outcome, _) = exchange(
        api_error(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit")
            .insert_header("retry-after", "12"),
    )
    .await;
    let err = outcome.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable { retry_after: Some(Duration::from_secs(12)) });
    assert!(err.to_string().contains("rate_limit_error"), "{err}");

    let (outcome, _) = exchange(api_error(529, "overloaded_error", "Overloaded")).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable { retry_after: None });
    assert!(err.to_string().contains("HTTP 529"), "{err}");

    let (outcome, _) = exchange(api_error(500, "api_error", "Internal server error")).await;
    assert!(outcome.unwrap_err().is_retryable());

    let (outcome, _) =
        exchange(api_error(401, "authentication_error", &format!("invalid x-api-key {KEY}"))).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(!err.to_string().contains(KEY) && !format!("{err:?}").contains(KEY), "{err:?}");

    let (outcome, _) = exchange(api_error(400, "invalid_request_error", "messages: bad")).await;
    assert_eq!(outcome.unwrap_err().class(), ErrorClass::Fatal);

    let (outcome, _) = exchange(ResponseTemplate::new(200).set_body_string("not json")).await;
    assert!(matches!(outcome.unwrap_err(), ProviderError::BadResponse { .. }));
}
