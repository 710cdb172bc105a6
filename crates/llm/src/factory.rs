//! From a catalogue entry to a ready model.
//!
//! Rules:
//! - provider `template` is the offline [`TemplateModel`], always available;
//! - any other provider is looked up by name in the configured providers; a well-known name
//!   (`openai`, `anthropic`, `gemini`, `xai`, `openrouter`, `ollama`, `llamacpp`, `vllm`) works
//!   without a `base_url` (its public or local default is used), and a local one
//!   (`ollama`, `llamacpp`, `vllm`) even without being configured at all;
//! - a provider's public endpoint needs an API key; a custom `base_url` (a self-hosted server)
//!   does not;
//! - `anthropic` speaks the Messages API, every other provider OpenAI-compatible chat
//!   completions, unless its settings say otherwise.
//!
//! Build a model once per catalogue entry and share the `Arc`: each network model holds its
//! own connection pool and what it learnt about its server.

use outbound_core::model::{ModelSpec, TEMPLATE_PROVIDER};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::http::{ClientConfig, RetryPolicy};
use crate::{Anthropic, LanguageModel, LlmError, OpenAiCompatible, TemplateModel};

/// Time allowed to one attempt of a provider call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Retries after a failed attempt (429, 5xx, timeout, connection error).
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// Which API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
}

impl ProviderKind {
    /// The API of a provider name: `anthropic` speaks the Messages API, others OpenAI's.
    pub fn for_name(name: &str) -> ProviderKind {
        match known(name) {
            Some(provider) => provider.kind,
            None => ProviderKind::OpenAi,
        }
    }
}

/// A provider whose defaults are built in.
struct KnownProvider {
    name: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    /// Whether its default endpoint is a public service that wants a key.
    public: bool,
}

/// Built-in provider defaults.
const KNOWN_PROVIDERS: [KnownProvider; 8] = [
    KnownProvider {
        name: "openai",
        kind: ProviderKind::OpenAi,
        base_url: "https://api.openai.com/v1",
        public: true,
    },
    KnownProvider {
        name: "anthropic",
        kind: ProviderKind::Anthropic,
        base_url: "https://api.anthropic.com",
        public: true,
    },
    KnownProvider {
        name: "gemini",
        kind: ProviderKind::OpenAi,
        base_url: "https://generativelanguage.googleapis.com/v1beta/openai",
        public: true,
    },
    KnownProvider {
        name: "xai",
        kind: ProviderKind::OpenAi,
        base_url: "https://api.x.ai/v1",
        public: true,
    },
    KnownProvider {
        name: "openrouter",
        kind: ProviderKind::OpenAi,
        base_url: "https://openrouter.ai/api/v1",
        public: true,
    },
    KnownProvider {
        name: "ollama",
        kind: ProviderKind::OpenAi,
        base_url: "http://127.0.0.1:11434/v1",
        public: false,
    },
    KnownProvider {
        name: "llamacpp",
        kind: ProviderKind::OpenAi,
        base_url: "http://127.0.0.1:8080/v1",
        public: false,
    },
    KnownProvider {
        name: "vllm",
        kind: ProviderKind::OpenAi,
        base_url: "http://127.0.0.1:8000/v1",
        public: false,
    },
];

fn known(name: &str) -> Option<&'static KnownProvider> {
    KNOWN_PROVIDERS.iter().find(|p| p.name == name)
}

/// The built-in base URL of a provider name, if it has one.
pub fn default_base_url(name: &str) -> Option<&'static str> {
    known(name).map(|p| p.base_url)
}

/// How to reach one configured provider.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    /// Unset: the provider's built-in default ([`default_base_url`]).
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    /// Time allowed to one attempt.
    pub timeout: Duration,
    /// Retries after a failed attempt.
    pub max_retries: u32,
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl ProviderSettings {
    /// Settings for the provider `name`: its API by name, no URL or key, default timeout and
    /// retries.
    pub fn for_name(name: &str) -> ProviderSettings {
        ProviderSettings {
            kind: ProviderKind::for_name(name),
            base_url: None,
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }

    /// With this base URL (blank counts as none).
    pub fn with_base_url(mut self, url: Option<String>) -> ProviderSettings {
        self.base_url = url.filter(|u| !u.trim().is_empty());
        self
    }

    /// With this API key (blank counts as none).
    pub fn with_api_key(mut self, key: Option<String>) -> ProviderSettings {
        self.api_key = key.filter(|k| !k.trim().is_empty());
        self
    }

    /// The client configuration of `model` at this provider named `name`.
    fn client_config(&self, name: &str, model: &str) -> Result<ClientConfig, LlmError> {
        let custom = self.base_url.as_deref().filter(|u| !u.trim().is_empty());
        let base_url = match custom.or_else(|| default_base_url(name)) {
            Some(url) => url.to_owned(),
            None => {
                return Err(LlmError::Config(format!(
                    "provider `{name}` has no base_url"
                )));
            }
        };
        let api_key = self.api_key.clone().filter(|k| !k.trim().is_empty());
        let public_default = custom.is_none() && known(name).is_some_and(|p| p.public);
        if public_default && api_key.is_none() {
            return Err(LlmError::Config(format!(
                "provider `{name}` needs an api_key"
            )));
        }
        Ok(ClientConfig {
            base_url,
            api_key,
            model: model.to_owned(),
            timeout: self.timeout,
            retry: RetryPolicy {
                max_retries: self.max_retries,
                ..RetryPolicy::default()
            },
        })
    }
}

/// The model that serves `spec`, with `providers` keyed by provider name.
pub fn build_model(
    spec: &ModelSpec,
    providers: &HashMap<String, ProviderSettings>,
) -> Result<Arc<dyn LanguageModel>, LlmError> {
    let name = spec.provider.as_str();
    if name == TEMPLATE_PROVIDER {
        return Ok(Arc::new(TemplateModel));
    }
    let settings = match providers.get(name) {
        Some(settings) => settings.clone(),
        None if known(name).is_some_and(|p| !p.public) => ProviderSettings::for_name(name),
        None => {
            return Err(LlmError::Config(format!(
                "model `{}` needs provider `{name}`, which is not configured",
                spec.id
            )));
        }
    };
    if spec.provider_model.trim().is_empty() {
        return Err(LlmError::Config(format!(
            "model `{}` has no provider_model",
            spec.id
        )));
    }
    let config = settings.client_config(name, &spec.provider_model)?;
    Ok(match settings.kind {
        ProviderKind::OpenAi => Arc::new(OpenAiCompatible::new(config)?),
        ProviderKind::Anthropic => Arc::new(Anthropic::new(config)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::model::default_catalogue;

    fn spec(provider: &str) -> ModelSpec {
        ModelSpec {
            provider: provider.to_owned(),
            provider_model: "some-model".to_owned(),
            ..default_catalogue()[0].clone()
        }
    }

    fn providers(pairs: &[(&str, ProviderSettings)]) -> HashMap<String, ProviderSettings> {
        pairs
            .iter()
            .map(|(name, s)| ((*name).to_owned(), s.clone()))
            .collect()
    }

    fn config_error(result: Result<Arc<dyn LanguageModel>, LlmError>) -> String {
        match result {
            Err(LlmError::Config(message)) => message,
            Err(other) => panic!("expected a configuration error, got {other:?}"),
            Ok(_) => panic!("expected a configuration error, got a model"),
        }
    }

    #[test]
    fn kinds_by_name() {
        assert_eq!(ProviderKind::for_name("anthropic"), ProviderKind::Anthropic);
        assert_eq!(ProviderKind::for_name("openai"), ProviderKind::OpenAi);
        assert_eq!(ProviderKind::for_name("my-vllm"), ProviderKind::OpenAi);
        assert_eq!(
            default_base_url("ollama"),
            Some("http://127.0.0.1:11434/v1")
        );
        assert_eq!(
            default_base_url("gemini"),
            Some("https://generativelanguage.googleapis.com/v1beta/openai")
        );
        assert_eq!(default_base_url("my-vllm"), None);
    }

    #[test]
    fn template_needs_nothing() {
        assert!(build_model(&spec("template"), &HashMap::new()).is_ok());
    }

    #[test]
    fn public_providers_need_a_key_unless_redirected() {
        let none = HashMap::new();
        assert!(config_error(build_model(&spec("openai"), &none)).contains("not configured"));
        let keyless = providers(&[("openai", ProviderSettings::for_name("openai"))]);
        assert!(config_error(build_model(&spec("openai"), &keyless)).contains("api_key"));
        let blank = ProviderSettings::for_name("openai").with_api_key(Some(" ".into()));
        assert_eq!(blank.api_key, None);
        let keyed = ProviderSettings::for_name("openai").with_api_key(Some("sk-x".into()));
        assert!(build_model(&spec("openai"), &providers(&[("openai", keyed)])).is_ok());
        let local = ProviderSettings::for_name("openai")
            .with_base_url(Some("http://127.0.0.1:9/v1".into()));
        assert!(build_model(&spec("openai"), &providers(&[("openai", local)])).is_ok());
    }

    #[test]
    fn local_providers_work_unconfigured() {
        assert!(build_model(&spec("ollama"), &HashMap::new()).is_ok());
    }

    #[test]
    fn unknown_providers_need_a_base_url() {
        let bare = providers(&[("mine", ProviderSettings::for_name("mine"))]);
        assert!(config_error(build_model(&spec("mine"), &bare)).contains("base_url"));
        let bad = ProviderSettings::for_name("mine").with_base_url(Some("ftp://x".into()));
        assert!(
            config_error(build_model(&spec("mine"), &providers(&[("mine", bad)]))).contains("http")
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let settings = ProviderSettings::for_name("xai").with_api_key(Some("xai-secret".into()));
        assert!(!format!("{settings:?}").contains("xai-secret"));
    }
}
