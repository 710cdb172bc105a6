//! The language-model catalogue: which model ids exist, what they cost, who serves them.
//!
//! A model is `active` when the provider it names is configured; the offline `template` model
//! needs no provider and is always active. Kakiyo's eight model ids and the legacy aliases
//! (`model_gpt4`, `model_claude3`, `model_gpt35`) are in the default catalogue.

use serde::{Deserialize, Serialize};

/// The provider name of the offline model, which needs no configuration.
pub const TEMPLATE_PROVIDER: &str = "template";
/// The id of the offline model.
pub const TEMPLATE_MODEL_ID: &str = "template";

/// Prices per million tokens, in US dollars; opaque numbers to clients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    pub input: f64,
    pub output: f64,
    pub cached: Option<f64>,
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub id: String,
    pub name: String,
    pub pricing: Pricing,
    /// The configured provider that serves this model (`template` for the offline model).
    pub provider: String,
    /// The model name the provider knows it by.
    pub provider_model: String,
}

fn spec(
    id: &str,
    name: &str,
    (input, output, cached): (f64, f64, Option<f64>),
    provider: &str,
    provider_model: &str,
) -> ModelSpec {
    ModelSpec {
        id: id.to_owned(),
        name: name.to_owned(),
        pricing: Pricing {
            input,
            output,
            cached,
        },
        provider: provider.to_owned(),
        provider_model: provider_model.to_owned(),
    }
}

/// The catalogue used when the configuration names none.
pub fn default_catalogue() -> Vec<ModelSpec> {
    vec![
        spec(
            TEMPLATE_MODEL_ID,
            "Offline template model",
            (0.0, 0.0, Some(0.0)),
            TEMPLATE_PROVIDER,
            TEMPLATE_MODEL_ID,
        ),
        spec(
            "67fcab2e0032f8b20363",
            "Claude 4 Sonnet",
            (3.0, 15.0, Some(3.75)),
            "anthropic",
            "claude-sonnet-4-0",
        ),
        spec(
            "67fccf2900258424236f",
            "Claude OPUS 4.1",
            (15.0, 75.0, Some(7.5)),
            "anthropic",
            "claude-opus-4-1",
        ),
        spec(
            "680321e500318611796d",
            "Gemini 2.5 Flash",
            (0.3, 2.5, Some(0.15)),
            "gemini",
            "gemini-2.5-flash",
        ),
        spec(
            "682c0dfc0036ded6b90b",
            "Gemini 2.5 Pro",
            (1.25, 10.0, None),
            "gemini",
            "gemini-2.5-pro",
        ),
        spec(
            "680321aa001300a6673d",
            "GPT 4.1",
            (2.0, 8.0, Some(0.5)),
            "openai",
            "gpt-4.1",
        ),
        spec(
            "689f6adb001e16e22378",
            "GPT 5",
            (1.25, 10.0, Some(3.0)),
            "openai",
            "gpt-5",
        ),
        spec(
            "680321c8001e2f527d82",
            "GPT 5 Mini",
            (0.25, 2.0, Some(0.1)),
            "openai",
            "gpt-5-mini",
        ),
        spec(
            "689f1e61000b7da834bf",
            "Grok 4",
            (3.0, 15.0, None),
            "xai",
            "grok-4",
        ),
        spec(
            "model_gpt4",
            "GPT-4 (legacy alias)",
            (2.0, 8.0, Some(0.5)),
            "openai",
            "gpt-4.1",
        ),
        spec(
            "model_claude3",
            "Claude 3 (legacy alias)",
            (3.0, 15.0, Some(3.75)),
            "anthropic",
            "claude-sonnet-4-0",
        ),
        spec(
            "model_gpt35",
            "GPT-3.5 (legacy alias)",
            (0.25, 2.0, Some(0.1)),
            "openai",
            "gpt-5-mini",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalogue_has_template_kakiyo_ids_and_aliases() {
        let ids: Vec<String> = default_catalogue().into_iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), 12);
        for id in [
            "template",
            "67fcab2e0032f8b20363",
            "689f1e61000b7da834bf",
            "model_gpt4",
            "model_claude3",
            "model_gpt35",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id}");
        }
    }
}
