//! `build_model` picks the provider of a catalogue entry.

use outbound_core::model::{ModelSpec, default_catalogue};
use outbound_llm::{
    ChatTurn, GenerationRequest, ProviderKind, ProviderSettings, Purpose, QualificationRequest,
    build_model,
};
use serde_json::json;
use std::collections::HashMap;

use crate::mock::{MockServer, Scripted};
use crate::openai::generation_request;

fn spec(id: &str) -> ModelSpec {
    default_catalogue()
        .into_iter()
        .find(|m| m.id == id)
        .expect("a catalogue id")
}

#[tokio::test]
async fn the_template_model_is_built_for_template() {
    let model = build_model(&spec("template"), &HashMap::new()).unwrap();
    let request = GenerationRequest {
        purpose: Purpose::FirstMessage,
        instruction: "Hi Ada!".into(),
        ..generation_request()
    };
    assert_eq!(model.generate(&request).await.unwrap().text, "Hi Ada!");
    let verdict = model
        .qualify(&QualificationRequest {
            system: String::new(),
            criteria: String::new(),
            history: vec![ChatTurn::user("Sounds great, let's talk")],
        })
        .await
        .unwrap();
    assert_eq!(verdict.score, 85);
}

#[tokio::test]
async fn anthropic_entries_speak_the_messages_api() {
    let answer = json!({"content": [{"type": "text", "text": "Hello"}],
                        "usage": {"input_tokens": 1, "output_tokens": 1}});
    let mock = MockServer::start(vec![Scripted::json(200, answer)]).await;
    let settings = ProviderSettings::for_name("anthropic")
        .with_base_url(Some(mock.base.clone()))
        .with_api_key(Some("sk-ant".into()));
    assert_eq!(settings.kind, ProviderKind::Anthropic);
    let providers = HashMap::from([("anthropic".to_owned(), settings)]);
    let model = build_model(&spec("67fcab2e0032f8b20363"), &providers).unwrap();
    assert_eq!(
        model.generate(&generation_request()).await.unwrap().text,
        "Hello"
    );
    let request = &mock.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.body["model"], "claude-sonnet-4-0");
}

#[tokio::test]
async fn other_entries_speak_chat_completions() {
    let answer = json!({"choices": [{"message": {"content": "Hello"}}]});
    let mock = MockServer::start(vec![Scripted::json(200, answer)]).await;
    let settings =
        ProviderSettings::for_name("openai").with_base_url(Some(format!("{}/v1", mock.base)));
    let providers = HashMap::from([("openai".to_owned(), settings)]);
    let model = build_model(&spec("689f6adb001e16e22378"), &providers).unwrap();
    let generation = model.generate(&generation_request()).await.unwrap();
    assert_eq!(generation.text, "Hello");
    assert!(
        generation.usage.input > 0,
        "usage is estimated when the server gives none"
    );
    let request = &mock.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.body["model"], "gpt-5");
}
