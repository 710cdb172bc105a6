//! `Anthropic` against the mock server.

use outbound_llm::{
    ANTHROPIC_VERSION, Anthropic, ClientConfig, LanguageModel, LlmError, TokenUsage,
};
use serde_json::{Value, json};

use crate::mock::{MockServer, Scripted};
use crate::openai::{fast_retry, generation_request, qualification_request};

fn client(base: String, max_retries: u32) -> Anthropic {
    let config = ClientConfig::new(base, "claude-sonnet-4-0")
        .api_key("sk-ant-test")
        .retry(fast_retry(max_retries));
    Anthropic::new(config).expect("a valid configuration")
}

fn message(content: Value) -> Value {
    json!({
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-0",
        "content": content,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 30, "output_tokens": 5}
    })
}

fn tool_use(input: Value) -> Scripted {
    Scripted::json(
        200,
        message(json!([{
            "type": "tool_use",
            "id": "toolu_1",
            "name": "qualification",
            "input": input
        }])),
    )
}

#[tokio::test]
async fn generation_request_shape_and_usage() {
    let answer = message(json!([{"type": "text", "text": "It starts at 99 USD."}]));
    let mock = MockServer::start(vec![Scripted::json(200, answer)]).await;
    let generation = client(mock.base.clone(), 0)
        .generate(&generation_request())
        .await
        .unwrap();
    assert_eq!(generation.text, "It starts at 99 USD.");
    assert_eq!(
        generation.usage,
        TokenUsage {
            input: 30,
            output: 5
        }
    );

    let request = &mock.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(request.header("anthropic-version"), Some(ANTHROPIC_VERSION));
    assert_eq!(request.header("authorization"), None);
    let body = &request.body;
    assert_eq!(body["model"], "claude-sonnet-4-0");
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["system"], "You write for Acme Leads.");
    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(messages[1]["content"], "Hi Ada, want more leads?");
    let last = messages[2]["content"].as_str().unwrap();
    assert!(last.starts_with("What does it cost?"));
    assert!(last.contains("Keep it under 50 words."));
}

#[tokio::test]
async fn a_base_ending_in_v1_is_not_doubled() {
    let answer = message(json!([{"type": "text", "text": "Hi"}]));
    let mock = MockServer::start(vec![Scripted::json(200, answer)]).await;
    client(format!("{}/v1/", mock.base), 0)
        .generate(&generation_request())
        .await
        .unwrap();
    assert_eq!(mock.requests()[0].path, "/v1/messages");
}

#[tokio::test]
async fn qualification_forces_the_tool_and_reads_its_input() {
    let mock = MockServer::start(vec![tool_use(
        json!({"score": 91, "reason": "Wants a call"}),
    )])
    .await;
    let verdict = client(mock.base.clone(), 0)
        .qualify(&qualification_request())
        .await
        .unwrap();
    assert_eq!(verdict.score, 91);
    assert_eq!(verdict.reason, "Wants a call");
    assert_eq!(
        verdict.usage,
        TokenUsage {
            input: 30,
            output: 5
        }
    );

    let body = &mock.requests()[0].body;
    let tool = &body["tools"][0];
    assert_eq!(tool["name"], "qualification");
    assert_eq!(tool["input_schema"]["type"], "object");
    assert_eq!(
        tool["input_schema"]["properties"]["score"]["type"],
        "integer"
    );
    assert_eq!(tool["input_schema"]["required"], json!(["score", "reason"]));
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "qualification"})
    );
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("Prospect: Yes, let's book a call")
    );
}

#[tokio::test]
async fn bad_tool_input_is_a_bad_response() {
    for input in [
        json!({"score": 150, "reason": "x"}),
        json!({"score": 50}),
        json!("fifty"),
    ] {
        let mock = MockServer::start(vec![tool_use(input)]).await;
        let err = client(mock.base.clone(), 0)
            .qualify(&qualification_request())
            .await
            .unwrap_err();
        assert!(matches!(err, LlmError::BadResponse(_)), "{err:?}");
    }
    let text_only = message(json!([{"type": "text", "text": "I cannot say."}]));
    let mock = MockServer::start(vec![Scripted::json(200, text_only)]).await;
    let err = client(mock.base.clone(), 0)
        .qualify(&qualification_request())
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::BadResponse(_)), "{err:?}");
}

#[tokio::test]
async fn overloaded_is_retried() {
    let overloaded =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    let mock = MockServer::start(vec![
        Scripted::json(529, overloaded),
        Scripted::json(429, json!({})).header("retry-after", "0"),
        tool_use(json!({"score": 40, "reason": "Not now"})),
    ])
    .await;
    let verdict = client(mock.base.clone(), 3)
        .qualify(&qualification_request())
        .await
        .unwrap();
    assert_eq!(verdict.score, 40);
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn server_errors_give_up_after_the_retries() {
    let mock = MockServer::start(vec![Scripted::text(500, "{}")]).await;
    let err = client(mock.base.clone(), 1)
        .generate(&generation_request())
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Server(500));
    assert_eq!(mock.requests().len(), 2);
}
