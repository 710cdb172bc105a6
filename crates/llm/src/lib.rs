//! Language models of Outbound, behind one trait.
//!
//! Rule: the engine talks only to [`LanguageModel`]. It hands over text that is already
//! rendered (prompt variables are filled in by `outbound_core::prompt::render`, never here) and
//! gets back a message or a qualification [`Verdict`] with the tokens it cost. Three
//! implementations exist:
//! - [`OpenAiCompatible`]: chat completions of OpenAI, Ollama (`/v1`), llama.cpp, vLLM,
//!   OpenRouter, Gemini's and xAI's OpenAI-compatible endpoints;
//! - [`Anthropic`]: the Messages API;
//! - [`TemplateModel`]: the offline default, deterministic and without network.
//!
//! [`build_model`] picks one for a catalogue entry. Network providers share one policy
//! ([`RetryPolicy`]): a timeout per attempt, retries with exponential backoff and jitter on 429,
//! 5xx, timeouts and connection errors, honouring `Retry-After`.

mod anthropic;
mod error;
mod factory;
mod http;
mod intent;
mod openai;
mod prompting;
mod template;
mod types;

pub use anthropic::{ANTHROPIC_VERSION, Anthropic};
pub use error::LlmError;
pub use factory::{
    DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ProviderKind, ProviderSettings, build_model,
    default_base_url,
};
pub use http::{ClientConfig, RetryPolicy};
pub use intent::{Intent, classify_intent};
pub use openai::{OpenAiCompatible, ResponseMode};
pub use prompting::{MAX_REASON_CHARS, MAX_SCORE, QUALIFICATION_NAME, qualification_schema};
pub use template::{
    SCORE_INTERESTED, SCORE_NO_REPLY, SCORE_NOT_INTERESTED, SCORE_NOT_NOW, SCORE_OPT_OUT,
    SCORE_QUESTION, SCORE_UNCLEAR, TemplateModel,
};
pub use types::{
    ChatTurn, DEFAULT_MAX_TOKENS, Generation, GenerationRequest, INVITATION_NOTE_MAX_CHARS,
    Purpose, QualificationRequest, Role, TokenUsage, Verdict,
};

use async_trait::async_trait;

/// A language model that writes the agent's messages and qualifies prospects.
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// Writes the message that `request.purpose` asks for.
    async fn generate(&self, request: &GenerationRequest) -> Result<Generation, LlmError>;

    /// Scores the conversation in `request.history` against `request.criteria`.
    async fn qualify(&self, request: &QualificationRequest) -> Result<Verdict, LlmError>;
}
