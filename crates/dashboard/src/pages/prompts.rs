//! Prompts: the words the AI writes in — the list, a form to add one (name, type, model), and
//! the editor of its sections (context, first message, up to three follow-ups with their delays)
//! with the variables it uses checked.
//!
//! Rule: the name follows `PROMPT_NAME_LEN`, the model must be in the server's catalogue, and
//! the sections are saved by `update_prompt`, whose merge (`PromptSections::merged`) applies
//! every rule of `PUT /v1/prompts/{id}` and refuses the whole change on any problem.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use outbound_core::prompt::{
    FOLLOW_UP_DELAY_DAYS, FollowUp, MAX_FOLLOW_UPS, PROMPT_NAME_LEN, PromptType, SYSTEM_VARIABLES,
    SectionsPatch, custom_variables,
};
use outbound_core::time::now_millis;
use outbound_core::validation::{FieldError, Problems};
use outbound_store::StoreError;
use outbound_store::prompts::Prompt;
use serde::Deserialize;
use std::collections::HashMap;

use super::{done, form_status};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Choice, Chrome, PageError, Section, ago, render_status, url_escape};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/prompts", get(list).post(create))
        .route("/prompts/{id}", get(editor).post(save))
}

struct PromptRow {
    id: String,
    name: String,
    kind: &'static str,
    model: String,
    updated: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct NewPromptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    model: String,
}

#[derive(Template)]
#[template(path = "prompts.html")]
struct PromptsPage {
    chrome: Chrome,
    prompts: Vec<PromptRow>,
    models: Vec<Choice>,
    form: NewPromptForm,
    problems: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

fn model_choices(state: &AppState) -> Vec<Choice> {
    state
        .settings
        .models
        .iter()
        .map(|m| Choice::new(m.id.clone(), m.name.clone()))
        .collect()
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    notice: Option<&str>,
    form: NewPromptForm,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let now = now_millis();
    let prompts = state
        .store
        .list_prompts(signed.team())
        .await?
        .into_iter()
        .map(|p| PromptRow {
            kind: p.kind.as_str(),
            updated: ago(p.updated_at, now),
            id: p.id,
            name: p.name,
            model: p.model,
        })
        .collect();
    let status = form_status(!problems.is_empty());
    let page = PromptsPage {
        chrome: Chrome::new(signed, Section::Prompts, "Prompts").with_notice(notice),
        prompts,
        models: model_choices(state),
        form,
        problems,
    };
    Ok(render_status(status, &page))
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    list_page(
        &state,
        &signed,
        query.done.as_deref(),
        NewPromptForm::default(),
        Vec::new(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<NewPromptForm>,
) -> Result<Response, PageError> {
    let mut problems = Problems::new();
    let name = form.name.trim();
    problems.check_len("name", name, PROMPT_NAME_LEN.0, PROMPT_NAME_LEN.1);
    let kind = PromptType::from_request(&form.kind);
    if kind.is_none() {
        problems.add("type", "The type must be one of Messages, Comment");
    }
    if !state.settings.models.iter().any(|m| m.id == form.model) {
        problems.add("model", "Unknown model");
    }
    let checked = problems.into_result();
    // An unknown type is among the problems, so a refusal always says why.
    let (Ok(()), Some(kind)) = (&checked, kind) else {
        let problems = checked.err().unwrap_or_default();
        return list_page(&state, &signed, None, form, problems).await;
    };
    let prompt = state
        .store
        .create_prompt(signed.team(), name, kind, &form.model)
        .await?;
    Ok(done(
        &format!("/app/prompts/{}", url_escape(&prompt.id)),
        "prompt-created",
    )
    .into_response())
}

/// The editor's fields.
#[derive(Debug, Default, Clone)]
struct SectionsForm {
    context: String,
    first_message: String,
    follow_up_enabled: bool,
    /// Exactly [`MAX_FOLLOW_UPS`] slots: text and delay (days), blank when unused.
    follow_ups: Vec<(String, String)>,
}

impl SectionsForm {
    fn of(prompt: &Prompt) -> SectionsForm {
        let sections = &prompt.sections;
        let mut follow_ups: Vec<(String, String)> = sections
            .follow_ups
            .iter()
            .map(|f| (f.prompt.clone(), f.delay.to_string()))
            .collect();
        follow_ups.resize(MAX_FOLLOW_UPS, (String::new(), String::new()));
        SectionsForm {
            context: sections.context.clone(),
            first_message: sections.first_message.clone(),
            follow_up_enabled: sections.follow_up_enabled,
            follow_ups,
        }
    }

    /// The form as posted.
    fn posted(fields: &HashMap<String, String>) -> SectionsForm {
        let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
        SectionsForm {
            context: field("context"),
            first_message: field("first_message"),
            follow_up_enabled: fields.contains_key("follow_up_enabled"),
            follow_ups: (0..MAX_FOLLOW_UPS)
                .map(|i| {
                    (
                        field(&format!("follow_up_{i}")),
                        field(&format!("delay_{i}")),
                    )
                })
                .collect(),
        }
    }

    /// The change it asks for, or the problems of its follow-up delays.
    fn patch(&self) -> Result<SectionsPatch, Vec<FieldError>> {
        let mut problems = Problems::new();
        let mut follow_ups = Vec::new();
        for (i, (text, delay)) in self.follow_ups.iter().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            match delay.trim().parse::<i64>() {
                Ok(delay) => follow_ups.push(FollowUp {
                    prompt: text.trim().to_owned(),
                    delay,
                }),
                Err(_) => problems.add(
                    format!("followUps[{i}].delay"),
                    format!(
                        "Give the delay in days, {} to {}",
                        FOLLOW_UP_DELAY_DAYS.0, FOLLOW_UP_DELAY_DAYS.1
                    ),
                ),
            }
        }
        problems.into_result().map(|()| SectionsPatch {
            context: Some(self.context.clone()),
            first_message: Some(self.first_message.clone()),
            follow_ups: Some(follow_ups),
            follow_up_enabled: Some(self.follow_up_enabled),
            comment: None,
        })
    }
}

#[derive(Template)]
#[template(path = "prompt.html")]
struct EditorPage {
    chrome: Chrome,
    id: String,
    name: String,
    kind: &'static str,
    model: String,
    form: SectionsForm,
    custom: Vec<String>,
    system: Vec<&'static str>,
    missing: Vec<&'static str>,
    problems: Vec<FieldError>,
}

async fn editor_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    notice: Option<&str>,
    form: Option<SectionsForm>,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let prompt = state.store.get_prompt(signed.team(), id).await?;
    let status = form_status(!problems.is_empty());
    let page = EditorPage {
        chrome: Chrome::new(signed, Section::Prompts, prompt.name.clone()).with_notice(notice),
        form: form.unwrap_or_else(|| SectionsForm::of(&prompt)),
        custom: custom_variables(&prompt.sections).into_iter().collect(),
        system: SYSTEM_VARIABLES.to_vec(),
        missing: prompt.sections.missing_mandatory_variables(),
        id: prompt.id,
        name: prompt.name,
        kind: prompt.kind.as_str(),
        model: prompt.model,
        problems,
    };
    Ok(render_status(status, &page))
}

async fn editor(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    editor_page(
        &state,
        &signed,
        &id,
        query.done.as_deref(),
        None,
        Vec::new(),
    )
    .await
}

async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let form = SectionsForm::posted(&fields);
    let patch = match form.patch() {
        Ok(patch) => patch,
        Err(problems) => {
            return editor_page(&state, &signed, &id, None, Some(form), problems).await;
        }
    };
    match state.store.update_prompt(signed.team(), &id, patch).await {
        Ok(_) => {
            Ok(done(&format!("/app/prompts/{}", url_escape(&id)), "prompt-saved").into_response())
        }
        Err(StoreError::Invalid(problems)) => {
            editor_page(&state, &signed, &id, None, Some(form), problems).await
        }
        Err(error) => Err(error.into()),
    }
}
