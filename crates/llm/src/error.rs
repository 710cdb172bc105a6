//! The one error type of every model.
//!
//! Rule: [`LlmError::is_retryable`] tells the engine whether trying the same call later may
//! succeed (timeouts, rate limits, 5xx, connection errors) or whether something must change
//! first (configuration, a rejected request, an unusable answer).

use std::time::Duration;

/// Why a model call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the configured timeout.
    #[error("the language model did not answer in time")]
    Timeout,
    /// The provider is rate limiting; `retry_after` is its `Retry-After`, when it gave one.
    #[error("the language model provider is rate limiting{}", retry_after_suffix(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// The provider failed with this HTTP status (5xx).
    #[error("the language model provider failed with HTTP {0}")]
    Server(u16),
    /// The provider answered, but not with something usable.
    #[error("unusable answer from the language model: {0}")]
    BadResponse(String),
    /// The model cannot be used as configured (missing key, bad URL, rejected request).
    #[error("language model configuration: {0}")]
    Config(String),
    /// The provider could not be reached.
    #[error("could not reach the language model provider: {0}")]
    Transport(String),
}

fn retry_after_suffix(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (retry after {} s)", wait.as_secs_f64().ceil()),
        None => String::new(),
    }
}

impl LlmError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Timeout | LlmError::RateLimited { .. } | LlmError::Transport(_) => true,
            LlmError::Server(status) => *status >= 500,
            LlmError::BadResponse(_) | LlmError::Config(_) => false,
        }
    }

    /// How long the provider asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_errors() {
        assert!(LlmError::Timeout.is_retryable());
        assert!(LlmError::RateLimited { retry_after: None }.is_retryable());
        assert!(LlmError::Server(503).is_retryable());
        assert!(LlmError::Transport("refused".into()).is_retryable());
        assert!(!LlmError::Server(418).is_retryable());
        assert!(!LlmError::BadResponse("x".into()).is_retryable());
        assert!(!LlmError::Config("x".into()).is_retryable());
    }

    #[test]
    fn messages_mention_the_wait() {
        let err = LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            err.to_string(),
            "the language model provider is rate limiting (retry after 7 s)"
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    }
}
