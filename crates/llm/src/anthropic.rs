//! Anthropic's Messages API.
//!
//! Rules:
//! - `POST {base}/v1/messages` (a base already ending in `/v1` is not doubled) with
//!   `x-api-key`, `anthropic-version: 2023-06-01`, `system`, `messages`, `max_tokens`;
//! - the history becomes alternating turns: consecutive turns of one role are joined, and a
//!   conversation that the agent opened starts with a short user turn, since the API wants the
//!   user to speak first; the task is the last user turn;
//! - the message is the concatenated `content[].text`; usage is `usage.input_tokens` /
//!   `usage.output_tokens`;
//! - a qualification forces the `qualification` tool (`tool_choice: {type: "tool"}`) whose
//!   `input_schema` is the verdict schema, and reads the `tool_use` block's `input` (a text
//!   answer holding the JSON object is accepted too);
//! - a 400 naming `temperature` stops sending it, for this client's next calls as well.

use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::http::{ClientConfig, Endpoint, Reply, mentions, rejection_error};
use crate::prompting::{
    GENERATION_TEMPERATURE, QUALIFICATION_MAX_TOKENS, QUALIFICATION_NAME,
    QUALIFICATION_TEMPERATURE, VerdictOutput, clean_message, estimate_tokens,
    generation_input_tokens, generation_task, parse_verdict_text, parse_verdict_value,
    qualification_input_tokens, qualification_schema, qualification_task, system_or_default,
};
use crate::types::{
    ChatTurn, Generation, GenerationRequest, QualificationRequest, Role, TokenUsage, Verdict,
};
use crate::{LanguageModel, LlmError};

/// The API version sent in `anthropic-version`.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Path of the Messages API below the base URL.
const MESSAGES_PATH: &str = "/v1/messages";
/// The user turn that opens a conversation the agent started.
const OPENING_TURN: &str = "(You started this LinkedIn conversation.)";
/// Description of the qualification tool.
const TOOL_DESCRIPTION: &str = "Record the qualification verdict of the conversation.";

/// A model served by Anthropic's Messages API.
pub struct Anthropic {
    endpoint: Endpoint,
    model: String,
    omit_temperature: AtomicBool,
}

impl std::fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anthropic")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// One Messages API call.
struct Call<'a> {
    system: &'a str,
    messages: Vec<Value>,
    max_tokens: u32,
    temperature: f64,
    /// Extra fields (tools) merged into the body.
    extra: Option<Value>,
}

impl Anthropic {
    /// A client of `config.model` at `config.base_url` (`https://api.anthropic.com`).
    pub fn new(config: ClientConfig) -> Result<Anthropic, LlmError> {
        let base = config.checked_base()?;
        let url = match base.strip_suffix("/v1") {
            Some(root) => format!("{root}{MESSAGES_PATH}"),
            None => format!("{base}{MESSAGES_PATH}"),
        };
        let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_owned())];
        if let Some(key) = &config.api_key {
            headers.push(("x-api-key", key.clone()));
        }
        Ok(Anthropic {
            endpoint: Endpoint::new(url, &headers, &config)?,
            model: config.model,
            omit_temperature: AtomicBool::new(false),
        })
    }

    fn body(&self, call: &Call<'_>) -> Value {
        let mut body = json!({
            "model": self.model,
            "max_tokens": call.max_tokens,
            "system": call.system,
            "messages": call.messages,
        });
        if !self.omit_temperature.load(Ordering::Relaxed) {
            body["temperature"] = json!(call.temperature);
        }
        if let (Some(target), Some(Value::Object(extra))) = (body.as_object_mut(), &call.extra) {
            target.extend(extra.clone());
        }
        body
    }

    /// Runs `call` and returns the response body as JSON.
    async fn send(&self, call: &Call<'_>) -> Result<Value, LlmError> {
        loop {
            match self.endpoint.post_json(&self.body(call)).await? {
                Reply::Success(text) => {
                    return serde_json::from_str(&text)
                        .map_err(|e| LlmError::BadResponse(format!("answer is not JSON: {e}")));
                }
                Reply::Rejected { status, body } => {
                    let temperature = !self.omit_temperature.load(Ordering::Relaxed);
                    if status == 400 && temperature && mentions(&body, &["temperature"]) {
                        self.omit_temperature.store(true, Ordering::Relaxed);
                        continue;
                    }
                    return Err(rejection_error(status, &body));
                }
            }
        }
    }
}

/// The history as alternating turns that start with the user, then `task` as a user turn.
fn turns(history: &[ChatTurn], task: String) -> Vec<Value> {
    let mut merged: Vec<(Role, String)> = Vec::new();
    if history.first().is_some_and(|t| t.role == Role::Assistant) {
        merged.push((Role::User, OPENING_TURN.to_owned()));
    }
    let all = history
        .iter()
        .map(|t| (t.role, t.content.clone()))
        .chain(std::iter::once((Role::User, task)));
    for (role, content) in all {
        match merged.last_mut() {
            Some((last, text)) if *last == role => {
                text.push_str("\n\n");
                text.push_str(&content);
            }
            _ => merged.push((role, content)),
        }
    }
    merged
        .into_iter()
        .map(|(role, content)| {
            let role = match role {
                Role::Assistant => "assistant",
                Role::User => "user",
            };
            json!({"role": role, "content": content})
        })
        .collect()
}

/// The text blocks of an answer, concatenated.
fn answer_text(value: &Value) -> Result<String, LlmError> {
    let blocks = value
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::BadResponse("answer without a content array".into()))?;
    Ok(blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect())
}

/// The `input` of the qualification `tool_use` block, if there is one.
fn tool_input(value: &Value) -> Option<&Value> {
    value
        .get("content")?
        .as_array()?
        .iter()
        .find(|b| {
            b.get("type").and_then(Value::as_str) == Some("tool_use")
                && b.get("name").and_then(Value::as_str) == Some(QUALIFICATION_NAME)
        })?
        .get("input")
}

/// `usage.input_tokens` / `usage.output_tokens`, when present.
fn usage_of(value: &Value) -> Option<TokenUsage> {
    let count = |name: &str| {
        value
            .pointer(&format!("/usage/{name}"))
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    Some(TokenUsage {
        input: count("input_tokens")?,
        output: count("output_tokens")?,
    })
}

#[async_trait]
impl LanguageModel for Anthropic {
    async fn generate(&self, request: &GenerationRequest) -> Result<Generation, LlmError> {
        let call = Call {
            system: system_or_default(&request.system),
            messages: turns(&request.history, generation_task(request)),
            max_tokens: request.effective_max_tokens(),
            temperature: GENERATION_TEMPERATURE,
            extra: None,
        };
        let answer = self.send(&call).await?;
        let text = clean_message(&answer_text(&answer)?)?;
        let usage = usage_of(&answer).unwrap_or_else(|| TokenUsage {
            input: generation_input_tokens(request),
            output: estimate_tokens([text.as_str()]),
        });
        Ok(Generation { text, usage })
    }

    async fn qualify(&self, request: &QualificationRequest) -> Result<Verdict, LlmError> {
        let tools = json!({
            "tools": [{
                "name": QUALIFICATION_NAME,
                "description": TOOL_DESCRIPTION,
                "input_schema": qualification_schema(),
            }],
            "tool_choice": {"type": "tool", "name": QUALIFICATION_NAME},
        });
        let call = Call {
            system: system_or_default(&request.system),
            messages: turns(&[], qualification_task(request, VerdictOutput::Tool)),
            max_tokens: QUALIFICATION_MAX_TOKENS,
            temperature: QUALIFICATION_TEMPERATURE,
            extra: Some(tools),
        };
        let answer = self.send(&call).await?;
        let (score, reason) = match tool_input(&answer) {
            Some(input) => parse_verdict_value(input)?,
            None => parse_verdict_text(&answer_text(&answer)?)?,
        };
        let usage = usage_of(&answer).unwrap_or_else(|| TokenUsage {
            input: qualification_input_tokens(request),
            output: estimate_tokens([reason.as_str()]),
        });
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
    fn turns_alternate_and_start_with_the_user() {
        let history = [
            ChatTurn::assistant("Hi Ada"),
            ChatTurn::assistant("Any thoughts?"),
            ChatTurn::user("Tell me more"),
        ];
        let turns = turns(&history, "TASK".into());
        assert_eq!(
            turns,
            vec![
                json!({"role": "user", "content": OPENING_TURN}),
                json!({"role": "assistant", "content": "Hi Ada\n\nAny thoughts?"}),
                json!({"role": "user", "content": "Tell me more\n\nTASK"}),
            ]
        );
    }

    #[test]
    fn answers_are_read() {
        let answer = json!({
            "content": [
                {"type": "text", "text": "Hello "},
                {"type": "tool_use", "name": "other", "input": {}},
                {"type": "text", "text": "Ada"},
            ],
            "usage": {"input_tokens": 9, "output_tokens": 2}
        });
        assert_eq!(answer_text(&answer).unwrap(), "Hello Ada");
        assert_eq!(
            usage_of(&answer),
            Some(TokenUsage {
                input: 9,
                output: 2
            })
        );
        assert!(tool_input(&answer).is_none());
        assert!(answer_text(&json!({"type": "error"})).is_err());
    }
}
