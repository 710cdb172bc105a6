//! Which language model writes for a prompt.
//!
//! Rule: a prompt names a model id; the id is looked up in the catalogue and its entry built
//! once (`outbound_llm::build_model`) and shared. An id that is not in the catalogue (a prompt
//! written against another catalogue) is served by the offline template model, with a warning,
//! rather than leaving its conversations unanswered; a catalogued model whose provider is not
//! configured is an error of the task, retried later.

use outbound_core::model::{ModelSpec, default_catalogue};
use outbound_llm::{LanguageModel, LlmError, ProviderSettings, TemplateModel, build_model};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The models of a catalogue, built on first use.
pub struct ModelRegistry {
    catalogue: Vec<ModelSpec>,
    providers: HashMap<String, ProviderSettings>,
    built: Mutex<HashMap<String, Arc<dyn LanguageModel>>>,
}

impl std::fmt::Debug for ModelRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRegistry")
            .field(
                "models",
                &self.catalogue.iter().map(|m| &m.id).collect::<Vec<_>>(),
            )
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ModelRegistry {
    pub fn new(catalogue: Vec<ModelSpec>, providers: HashMap<String, ProviderSettings>) -> Self {
        Self {
            catalogue,
            providers,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The default catalogue without providers: every prompt is written by the template model
    /// unless it names a local provider.
    pub fn offline() -> Self {
        Self::new(default_catalogue(), HashMap::new())
    }

    /// The model for the catalogue id `id`.
    pub fn model(&self, id: &str) -> Result<Arc<dyn LanguageModel>, LlmError> {
        if let Some(model) = self.built.lock().ok().and_then(|b| b.get(id).cloned()) {
            return Ok(model);
        }
        let model: Arc<dyn LanguageModel> = match self.catalogue.iter().find(|m| m.id == id) {
            Some(spec) => build_model(spec, &self.providers)?,
            None => {
                tracing::warn!(
                    model = id,
                    "model not in the catalogue: the template model writes instead"
                );
                Arc::new(TemplateModel)
            }
        };
        if let Ok(mut built) = self.built.lock() {
            built.insert(id.to_owned(), Arc::clone(&model));
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_and_unknown_ids_work_offline_and_are_built_once() {
        let registry = ModelRegistry::offline();
        let first = registry.model("template").unwrap();
        let again = registry.model("template").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(registry.model("no-such-model").is_ok());
        assert!(
            registry.model("model_gpt4").is_err(),
            "openai is not configured"
        );
    }
}
