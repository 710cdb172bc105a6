//! OpenAI-compatible chat completions: OpenAI, Ollama (`/v1`), llama.cpp, vLLM, OpenRouter,
//! and the OpenAI-compatible endpoints of Gemini and xAI.
//!
//! Rules:
//! - `POST {base}/chat/completions` with `Authorization: Bearer <key>` when a key is set;
//!   `messages` are the system part, the history and the task; usage comes from
//!   `usage.prompt_tokens` / `usage.completion_tokens` (estimated from words when absent);
//! - a qualification asks for structured output (`response_format` `json_schema`, strict). A
//!   server that refuses it with a 400 naming `response_format` / `json_schema` is asked again
//!   with `{"type": "json_object"}`, then with no `response_format` at all, the schema being
//!   described in the prompt every time; the answer is validated either way;
//! - the same way, a 400 naming `max_tokens` switches to `max_completion_tokens` (newer OpenAI
//!   models) and a 400 naming `temperature` stops sending it. What was learnt is kept for the
//!   next calls of this client.

use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::http::{ClientConfig, Endpoint, Reply, mentions, rejection_error};
use crate::prompting::{
    GENERATION_TEMPERATURE, QUALIFICATION_MAX_TOKENS, QUALIFICATION_NAME,
    QUALIFICATION_TEMPERATURE, VerdictOutput, clean_message, generation_input_tokens,
    generation_task, parse_verdict_text, qualification_input_tokens, qualification_schema,
    qualification_task, system_or_default,
};
use crate::types::{
    ChatTurn, Generation, GenerationRequest, QualificationRequest, Role, TokenUsage, Verdict,
};
use crate::{LanguageModel, LlmError};

/// Path of chat completions below the base URL.
const CHAT_COMPLETIONS_PATH: &str = "/chat/completions";
/// At most this many request adaptations per call (one per [`Compat`] switch).
const MAX_ADAPTATIONS: usize = 4;

/// How a qualification asks for JSON, from the strictest to the most widely supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ResponseMode {
    /// `response_format: {type: "json_schema", json_schema: {…, strict: true}}`.
    JsonSchema = 0,
    /// `response_format: {type: "json_object"}`.
    JsonObject = 1,
    /// No `response_format`: the prompt describes the object.
    Prompt = 2,
}

impl ResponseMode {
    fn from_u8(value: u8) -> ResponseMode {
        match value {
            0 => ResponseMode::JsonSchema,
            1 => ResponseMode::JsonObject,
            _ => ResponseMode::Prompt,
        }
    }

    fn weaker(self) -> Option<ResponseMode> {
        match self {
            ResponseMode::JsonSchema => Some(ResponseMode::JsonObject),
            ResponseMode::JsonObject => Some(ResponseMode::Prompt),
            ResponseMode::Prompt => None,
        }
    }

    /// The `response_format` value, if any.
    fn response_format(self) -> Option<Value> {
        match self {
            ResponseMode::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": {
                    "name": QUALIFICATION_NAME,
                    "strict": true,
                    "schema": qualification_schema(),
                }
            })),
            ResponseMode::JsonObject => Some(json!({"type": "json_object"})),
            ResponseMode::Prompt => None,
        }
    }
}

/// What this server was found to accept; starts with the standard request.
#[derive(Debug)]
struct Compat {
    mode: AtomicU8,
    max_completion_tokens: AtomicBool,
    omit_temperature: AtomicBool,
}

impl Compat {
    fn new() -> Compat {
        Compat {
            mode: AtomicU8::new(ResponseMode::JsonSchema as u8),
            max_completion_tokens: AtomicBool::new(false),
            omit_temperature: AtomicBool::new(false),
        }
    }

    fn mode(&self) -> ResponseMode {
        ResponseMode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    /// Changes what a 400 with `body` complains about; false when nothing is left to change.
    fn adapt(&self, body: &str, structured: bool) -> bool {
        if structured
            && mentions(body, &["response_format", "json_schema", "json_object"])
            && let Some(weaker) = self.mode().weaker()
        {
            tracing::info!(mode = ?weaker, "model server refused the response format; falling back");
            self.mode.store(weaker as u8, Ordering::Relaxed);
            return true;
        }
        if mentions(body, &["max_tokens"]) && !self.max_completion_tokens.load(Ordering::Relaxed) {
            self.max_completion_tokens.store(true, Ordering::Relaxed);
            return true;
        }
        if mentions(body, &["temperature"]) && !self.omit_temperature.load(Ordering::Relaxed) {
            self.omit_temperature.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// A chat model of an OpenAI-compatible server.
pub struct OpenAiCompatible {
    endpoint: Endpoint,
    model: String,
    compat: Compat,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("model", &self.model)
            .field("compat", &self.compat)
            .finish_non_exhaustive()
    }
}

/// One chat completion call.
struct Call<'a> {
    messages: &'a [Value],
    max_tokens: u32,
    temperature: f64,
    structured: bool,
}

/// The text of a completion and the usage the server reported.
struct Completion {
    text: String,
    usage: Option<TokenUsage>,
}

impl OpenAiCompatible {
    /// A client of `config.model` at `config.base_url` (which ends in `/v1` for most servers).
    pub fn new(config: ClientConfig) -> Result<OpenAiCompatible, LlmError> {
        let url = format!("{}{CHAT_COMPLETIONS_PATH}", config.checked_base()?);
        let headers: Vec<(&'static str, String)> = config
            .api_key
            .iter()
            .map(|key| ("authorization", format!("Bearer {key}")))
            .collect();
        Ok(OpenAiCompatible {
            endpoint: Endpoint::new(url, &headers, &config)?,
            model: config.model,
            compat: Compat::new(),
        })
    }

    /// How qualifications currently ask for JSON (after any fallback).
    pub fn response_mode(&self) -> ResponseMode {
        self.compat.mode()
    }

    fn body(&self, call: &Call<'_>) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": call.messages,
            "stream": false,
        });
        let tokens_field = if self.compat.max_completion_tokens.load(Ordering::Relaxed) {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[tokens_field] = json!(call.max_tokens);
        if !self.compat.omit_temperature.load(Ordering::Relaxed) {
            body["temperature"] = json!(call.temperature);
        }
        if call.structured
            && let Some(format) = self.compat.mode().response_format()
        {
            body["response_format"] = format;
        }
        body
    }

    /// Runs `call`, adapting the request to what the server refuses.
    async fn complete(&self, call: &Call<'_>) -> Result<Completion, LlmError> {
        for _ in 0..=MAX_ADAPTATIONS {
            match self.endpoint.post_json(&self.body(call)).await? {
                Reply::Success(text) => return parse_completion(&text),
                Reply::Rejected { status, body } => {
                    if status == 400 && self.compat.adapt(&body, call.structured) {
                        continue;
                    }
                    return Err(rejection_error(status, &body));
                }
            }
        }
        Err(LlmError::Config(
            "the server kept refusing the request after every fallback".into(),
        ))
    }
}

/// A chat message object.
fn message(role: &str, content: &str) -> Value {
    json!({"role": role, "content": content})
}

/// The history as chat messages.
fn history_messages(history: &[ChatTurn]) -> impl Iterator<Item = Value> + '_ {
    history.iter().map(|turn| {
        let role = match turn.role {
            Role::Assistant => "assistant",
            Role::User => "user",
        };
        message(role, &turn.content)
    })
}

/// Text and usage from a chat completion body.
fn parse_completion(body: &str) -> Result<Completion, LlmError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| LlmError::BadResponse(format!("completion is not JSON: {e}")))?;
    let message = value
        .pointer("/choices/0/message")
        .ok_or_else(|| LlmError::BadResponse("completion without choices[0].message".into()))?;
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
        return Err(LlmError::BadResponse(format!(
            "the model refused: {refusal}"
        )));
    }
    let text = content_text(message.get("content")).ok_or_else(|| {
        let finish = value
            .pointer("/choices/0/finish_reason")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        LlmError::BadResponse(format!(
            "completion without content (finish_reason {finish})"
        ))
    })?;
    Ok(Completion {
        text,
        usage: usage_of(&value),
    })
}

/// `content` as a string, or the concatenated text parts of a content array.
fn content_text(content: Option<&Value>) -> Option<String> {
    match content? {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let text: String = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            Some(text)
        }
        _ => None,
    }
}

/// `usage.prompt_tokens` / `usage.completion_tokens`, when present.
fn usage_of(value: &Value) -> Option<TokenUsage> {
    let count = |name: &str| {
        value
            .pointer(&format!("/usage/{name}"))
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    Some(TokenUsage {
        input: count("prompt_tokens")?,
        output: count("completion_tokens")?,
    })
}

/// The reported usage, or an estimate from the words in and out.
fn usage_or_estimate(reported: Option<TokenUsage>, input_words: u32, output: &str) -> TokenUsage {
    reported.unwrap_or_else(|| TokenUsage {
        input: input_words,
        output: crate::prompting::estimate_tokens([output]),
    })
}

#[async_trait]
impl LanguageModel for OpenAiCompatible {
    async fn generate(&self, request: &GenerationRequest) -> Result<Generation, LlmError> {
        let messages: Vec<Value> =
            std::iter::once(message("system", system_or_default(&request.system)))
                .chain(history_messages(&request.history))
                .chain(std::iter::once(message("user", &generation_task(request))))
                .collect();
        let completion = self
            .complete(&Call {
                messages: &messages,
                max_tokens: request.effective_max_tokens(),
                temperature: GENERATION_TEMPERATURE,
                structured: false,
            })
            .await?;
        let text = clean_message(&completion.text)?;
        let usage = usage_or_estimate(completion.usage, generation_input_tokens(request), &text);
        Ok(Generation { text, usage })
    }

    async fn qualify(&self, request: &QualificationRequest) -> Result<Verdict, LlmError> {
        let messages = [
            message("system", system_or_default(&request.system)),
            message("user", &qualification_task(request, VerdictOutput::Json)),
        ];
        let completion = self
            .complete(&Call {
                messages: &messages,
                max_tokens: QUALIFICATION_MAX_TOKENS,
                temperature: QUALIFICATION_TEMPERATURE,
                structured: true,
            })
            .await?;
        let (score, reason) = parse_verdict_text(&completion.text)?;
        let usage = usage_or_estimate(
            completion.usage,
            qualification_input_tokens(request),
            &completion.text,
        );
        Ok(Verdict {
            score,
            reason,
            usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_are_parsed() {
        let body = r#"{"choices":[{"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
                       "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
        let completion = parse_completion(body).unwrap();
        assert_eq!(completion.text, "Hi");
        assert_eq!(
            completion.usage,
            Some(TokenUsage {
                input: 12,
                output: 3
            })
        );
        let parts = r#"{"choices":[{"message":{"content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]}}]}"#;
        let completion = parse_completion(parts).unwrap();
        assert_eq!(completion.text, "AB");
        assert_eq!(completion.usage, None);
    }

    #[test]
    fn unusable_completions_are_bad_responses() {
        for body in [
            "<html>",
            r#"{"choices":[]}"#,
            r#"{"choices":[{"message":{"content":null},"finish_reason":"length"}]}"#,
            r#"{"choices":[{"message":{"content":null,"refusal":"no"}}]}"#,
        ] {
            assert!(
                matches!(parse_completion(body), Err(LlmError::BadResponse(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn compat_falls_back_one_step_at_a_time() {
        let compat = Compat::new();
        assert!(compat.adapt("Invalid parameter: 'response_format'", true));
        assert_eq!(compat.mode(), ResponseMode::JsonObject);
        assert!(compat.adapt("json_object is not supported", true));
        assert_eq!(compat.mode(), ResponseMode::Prompt);
        assert!(!compat.adapt("response_format", true));
        assert!(!compat.adapt("response_format", false));
        assert!(compat.adapt(
            "'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            false
        ));
        assert!(!compat.adapt("max_tokens", false));
        assert!(compat.adapt("Unsupported value: 'temperature'", false));
        assert!(!compat.adapt("temperature", false));
        assert!(!compat.adapt("model not found", false));
    }
}
