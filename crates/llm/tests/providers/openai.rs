//! `OpenAiCompatible` against the mock server.

use outbound_llm::{
    ChatTurn, ClientConfig, GenerationRequest, LanguageModel, LlmError, OpenAiCompatible, Purpose,
    QualificationRequest, ResponseMode, RetryPolicy, TokenUsage,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::mock::{MockServer, Scripted};

/// Retries that keep tests fast.
pub fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
    }
}

fn client(mock: &MockServer, max_retries: u32) -> OpenAiCompatible {
    let config = ClientConfig::new(format!("{}/v1", mock.base), "llama3.1:8b")
        .api_key("sk-test")
        .retry(fast_retry(max_retries));
    OpenAiCompatible::new(config).expect("a valid configuration")
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "llama3.1:8b",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    })
}

pub fn generation_request() -> GenerationRequest {
    GenerationRequest {
        purpose: Purpose::Reply,
        system: "You write for Acme Leads.".into(),
        instruction: "Keep it under 50 words.".into(),
        history: vec![
            ChatTurn::assistant("Hi Ada, want more leads?"),
            ChatTurn::user("What does it cost?"),
        ],
        prospect_name: "Ada Lovelace".into(),
        offering: "Acme Leads finds prospects.".into(),
        max_tokens: 300,
    }
}

pub fn qualification_request() -> QualificationRequest {
    QualificationRequest {
        system: "You write for Acme Leads.".into(),
        criteria: "Head of sales at a B2B company".into(),
        history: vec![
            ChatTurn::assistant("Hi Ada, want more leads?"),
            ChatTurn::user("Yes, let's book a call"),
        ],
    }
}

fn verdict(score: Value) -> Scripted {
    let content = json!({"score": score, "reason": "Asked for a call"}).to_string();
    Scripted::json(200, completion(&content))
}

#[tokio::test]
async fn generation_request_shape_and_usage() {
    let mock = MockServer::start(vec![Scripted::json(
        200,
        completion("\"It starts at 99 USD.\""),
    )])
    .await;
    let generation = client(&mock, 0)
        .generate(&generation_request())
        .await
        .unwrap();
    assert_eq!(generation.text, "It starts at 99 USD.");
    assert_eq!(
        generation.usage,
        TokenUsage {
            input: 42,
            output: 7
        }
    );

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    assert!(
        request
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = &request.body;
    assert_eq!(body["model"], "llama3.1:8b");
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["stream"], false);
    assert!(body["temperature"].is_number());
    assert!(body.get("response_format").is_none());
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(
        messages[0],
        json!({"role": "system", "content": "You write for Acme Leads."})
    );
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": "Hi Ada, want more leads?"})
    );
    assert_eq!(
        messages[2],
        json!({"role": "user", "content": "What does it cost?"})
    );
    assert_eq!(messages[3]["role"], "user");
    let task = messages[3]["content"].as_str().unwrap();
    assert!(task.contains("reply to the latest message of Ada Lovelace"));
    assert!(task.contains("Keep it under 50 words."));
}

#[tokio::test]
async fn no_key_no_authorization_header() {
    let mock = MockServer::start(vec![Scripted::json(200, completion("Hi"))]).await;
    let config = ClientConfig::new(format!("{}/v1/", mock.base), "m").retry(fast_retry(0));
    let model = OpenAiCompatible::new(config).unwrap();
    model.generate(&generation_request()).await.unwrap();
    let request = &mock.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), None);
}

#[tokio::test]
async fn qualification_uses_a_strict_json_schema() {
    let mock = MockServer::start(vec![verdict(json!(82))]).await;
    let model = client(&mock, 0);
    let verdict = model.qualify(&qualification_request()).await.unwrap();
    assert_eq!(verdict.score, 82);
    assert_eq!(verdict.reason, "Asked for a call");
    assert_eq!(
        verdict.usage,
        TokenUsage {
            input: 42,
            output: 7
        }
    );

    let body = &mock.requests()[0].body;
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "qualification");
    assert_eq!(format["json_schema"]["strict"], true);
    let schema = &format["json_schema"]["schema"];
    assert_eq!(schema["properties"]["score"]["type"], "integer");
    assert_eq!(schema["properties"]["score"]["minimum"], 0);
    assert_eq!(schema["properties"]["score"]["maximum"], 100);
    assert_eq!(schema["properties"]["reason"]["type"], "string");
    assert_eq!(schema["required"], json!(["score", "reason"]));
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        2,
        "the conversation goes in as a transcript"
    );
    let task = messages[1]["content"].as_str().unwrap();
    assert!(task.contains("Prospect: Yes, let's book a call"));
    assert!(task.contains("Head of sales at a B2B company"));
    assert!(task.contains("JSON"));
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let mock = MockServer::start(vec![
        Scripted::json(429, json!({"error": {"message": "slow down"}})).header("retry-after", "1"),
        Scripted::json(200, completion("Hi")),
    ])
    .await;
    let started = Instant::now();
    let generation = client(&mock, 3)
        .generate(&generation_request())
        .await
        .unwrap();
    assert_eq!(generation.text, "Hi");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn rate_limit_beyond_the_longest_wait_is_handed_back() {
    let mock = MockServer::start(vec![
        Scripted::json(429, json!({})).header("retry-after", "120"),
    ])
    .await;
    let err = client(&mock, 3)
        .generate(&generation_request())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(err.is_retryable());
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn rate_limit_until_retries_run_out() {
    let mock = MockServer::start(vec![Scripted::json(429, json!({}))]).await;
    let err = client(&mock, 2)
        .qualify(&qualification_request())
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::RateLimited { retry_after: None });
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn server_errors_are_retried_then_given_up() {
    let mock = MockServer::start(vec![Scripted::text(500, "boom")]).await;
    let err = client(&mock, 2)
        .generate(&generation_request())
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Server(500));
    assert!(err.is_retryable());
    assert_eq!(mock.requests().len(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_server_error_then_success() {
    let mock = MockServer::start(vec![
        Scripted::text(503, "overloaded"),
        Scripted::json(200, completion("Hi")),
    ])
    .await;
    let generation = client(&mock, 1)
        .generate(&generation_request())
        .await
        .unwrap();
    assert_eq!(generation.text, "Hi");
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn slow_servers_time_out() {
    let mock = MockServer::start(vec![
        Scripted::json(200, completion("late")).delayed(Duration::from_secs(3)),
    ])
    .await;
    let config = ClientConfig::new(format!("{}/v1", mock.base), "m")
        .timeout(Duration::from_millis(200))
        .retry(fast_retry(1));
    let started = Instant::now();
    let err = OpenAiCompatible::new(config)
        .unwrap()
        .generate(&generation_request())
        .await
        .unwrap_err();
    assert_eq!(err, LlmError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(mock.requests().len(), 2, "a timeout is retried");
}

#[tokio::test]
async fn malformed_verdicts_are_bad_responses() {
    for answer in [
        Scripted::json(200, completion("They seem keen, I'd say 80.")),
        verdict(json!(150)),
        verdict(json!("high")),
        Scripted::json(200, completion("{\"score\": 80}")),
        Scripted::text(200, "<html>oops</html>"),
        Scripted::json(200, json!({"choices": []})),
    ] {
        let mock = MockServer::start(vec![answer]).await;
        let err = client(&mock, 3)
            .qualify(&qualification_request())
            .await
            .unwrap_err();
        assert!(matches!(err, LlmError::BadResponse(_)), "{err:?}");
        assert!(!err.is_retryable());
        assert_eq!(mock.requests().len(), 1, "a bad answer is not retried");
    }
}

#[tokio::test]
async fn empty_messages_are_bad_responses() {
    let mock = MockServer::start(vec![Scripted::json(200, completion("  "))]).await;
    let err = client(&mock, 0)
        .generate(&generation_request())
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::BadResponse(_)), "{err:?}");
}

#[tokio::test]
async fn refused_json_schema_falls_back_to_json_mode() {
    let refusal = json!({"error": {
        "message": "Either \"json_schema\" or \"grammar\" can be specified, but not both",
        "type": "invalid_request_error"
    }});
    let mock = MockServer::start(vec![
        Scripted::json(400, refusal),
        verdict(json!(64)),
        verdict(json!(70)),
    ])
    .await;
    let model = client(&mock, 0);
    assert_eq!(model.response_mode(), ResponseMode::JsonSchema);
    let verdict = model.qualify(&qualification_request()).await.unwrap();
    assert_eq!(verdict.score, 64);
    assert_eq!(model.response_mode(), ResponseMode::JsonObject);

    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body["response_format"]["type"], "json_schema");
    assert_eq!(
        requests[1].body["response_format"],
        json!({"type": "json_object"})
    );
    let task = requests[1].body["messages"][1]["content"].as_str().unwrap();
    assert!(
        task.contains("\"score\": <integer from 0 to 100>"),
        "{task}"
    );

    // What was learnt is kept: the next call goes straight to JSON mode.
    assert_eq!(
        model.qualify(&qualification_request()).await.unwrap().score,
        70
    );
    assert_eq!(
        mock.requests()[2].body["response_format"]["type"],
        "json_object"
    );
}

#[tokio::test]
async fn refused_json_mode_falls_back_to_the_prompt() {
    let mock = MockServer::start(vec![
        Scripted::json(
            400,
            json!({"error": {"message": "response_format is not supported"}}),
        ),
        Scripted::json(
            400,
            json!({"error": {"message": "unknown field response_format"}}),
        ),
        verdict(json!(12)),
    ])
    .await;
    let model = client(&mock, 0);
    assert_eq!(
        model.qualify(&qualification_request()).await.unwrap().score,
        12
    );
    assert_eq!(model.response_mode(), ResponseMode::Prompt);
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[2].body.get("response_format").is_none());
}

#[tokio::test]
async fn refused_max_tokens_switches_to_max_completion_tokens() {
    let mock = MockServer::start(vec![
        Scripted::json(400, json!({"error": {"message":
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."}})),
        Scripted::json(200, completion("Hi")),
    ])
    .await;
    client(&mock, 0)
        .generate(&generation_request())
        .await
        .unwrap();
    let requests = mock.requests();
    assert_eq!(requests[0].body["max_tokens"], 300);
    assert!(requests[1].body.get("max_tokens").is_none());
    assert_eq!(requests[1].body["max_completion_tokens"], 300);
}

#[tokio::test]
async fn other_refusals_are_configuration_errors() {
    let mock = MockServer::start(vec![Scripted::json(
        401,
        json!({"error": {"message": "Incorrect API key"}}),
    )])
    .await;
    let err = client(&mock, 3)
        .generate(&generation_request())
        .await
        .unwrap_err();
    let LlmError::Config(message) = &err else {
        panic!("expected a configuration error, got {err:?}");
    };
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("Incorrect API key"), "{message}");
    assert!(!message.contains("sk-test"));
    assert_eq!(mock.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn unreachable_servers_are_transport_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = ClientConfig::new(format!("http://{addr}/v1"), "m").retry(fast_retry(1));
    let err = OpenAiCompatible::new(config)
        .unwrap()
        .generate(&generation_request())
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Transport(_)), "{err:?}");
}
