//! The model catalogue as the API serves it: the configured entries and which providers are
//! configured. A model is `active` when its provider is (the offline `template` always is).

use outbound_core::model::{ModelSpec, TEMPLATE_PROVIDER};
use std::collections::HashSet;

/// The catalogue of one server.
#[derive(Debug, Clone)]
pub struct ModelCatalog {
    models: Vec<ModelSpec>,
    configured_providers: HashSet<String>,
}

impl ModelCatalog {
    /// `models` in the order they are listed; `configured_providers` are the names of the
    /// providers that have their connection settings.
    pub fn new(
        models: Vec<ModelSpec>,
        configured_providers: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            models,
            configured_providers: configured_providers.into_iter().collect(),
        }
    }

    /// Whether the provider of `model` can serve it.
    pub fn is_active(&self, model: &ModelSpec) -> bool {
        model.provider == TEMPLATE_PROVIDER || self.configured_providers.contains(&model.provider)
    }

    /// Every model, active or not.
    pub fn all(&self) -> &[ModelSpec] {
        &self.models
    }

    /// The model with this id.
    pub fn get(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::model::default_catalogue;

    #[test]
    fn only_template_is_active_without_providers() {
        let catalog = ModelCatalog::new(default_catalogue(), []);
        let active: Vec<&str> = catalog
            .all()
            .iter()
            .filter(|m| catalog.is_active(m))
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(active, ["template"]);
        let with_openai = ModelCatalog::new(default_catalogue(), ["openai".to_owned()]);
        assert!(with_openai.is_active(with_openai.get("model_gpt4").unwrap()));
        assert!(!with_openai.is_active(with_openai.get("model_claude3").unwrap()));
    }
}
