//! Prompts and their sections. An update reads, merges, validates and writes in one
//! transaction; a rejected update leaves the stored prompt as it was.

use outbound_core::ids::new_id;
use outbound_core::prompt::{FollowUp, PromptSections, PromptType, SectionsPatch};
use outbound_core::time::{Millis, now_millis};

use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: String,
    pub name: String,
    pub kind: PromptType,
    pub model: String,
    pub sections: PromptSections,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[async_trait::async_trait]
pub trait PromptStore {
    /// The team's prompts, newest first.
    async fn list_prompts(&self, team: &str) -> StoreResult<Vec<Prompt>>;
    async fn create_prompt(
        &self,
        team: &str,
        name: &str,
        kind: PromptType,
        model: &str,
    ) -> StoreResult<Prompt>;
    async fn get_prompt(&self, team: &str, id: &str) -> StoreResult<Prompt>;
    /// Merges `patch` into the stored sections; [`StoreError::Invalid`] when the result breaks
    /// a rule of [`PromptSections::merged`].
    async fn update_prompt(
        &self,
        team: &str,
        id: &str,
        patch: SectionsPatch,
    ) -> StoreResult<Prompt>;
}

#[derive(sqlx::FromRow)]
struct PromptRow {
    id: String,
    name: String,
    prompt_type: String,
    model: String,
    context: String,
    first_message: String,
    follow_ups: String,
    follow_up_enabled: bool,
    comment: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<PromptRow> for Prompt {
    type Error = StoreError;

    fn try_from(row: PromptRow) -> StoreResult<Prompt> {
        let kind = PromptType::from_request(&row.prompt_type)
            .ok_or_else(|| StoreError::Corrupt(format!("prompt type {}", row.prompt_type)))?;
        let follow_ups: Vec<FollowUp> = serde_json::from_str(&row.follow_ups)
            .map_err(|e| StoreError::Corrupt(format!("prompt follow-ups: {e}")))?;
        Ok(Prompt {
            id: row.id,
            name: row.name,
            kind,
            model: row.model,
            sections: PromptSections {
                context: row.context,
                first_message: row.first_message,
                follow_ups,
                follow_up_enabled: row.follow_up_enabled,
                comment: row.comment,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_PROMPT: &str = "SELECT id, name, prompt_type, model, context, first_message, \
     follow_ups, follow_up_enabled, comment, created_at, updated_at FROM prompts \
     WHERE team_id = $1 AND id = $2";

fn follow_ups_json(follow_ups: &[FollowUp]) -> String {
    serde_json::to_string(follow_ups).unwrap_or_else(|_| "[]".to_owned())
}

macro_rules! impl_prompt_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl PromptStore for $store {
            async fn list_prompts(&self, team: &str) -> StoreResult<Vec<Prompt>> {
                sqlx::query_as::<_, PromptRow>(
                    "SELECT id, name, prompt_type, model, context, first_message, follow_ups, \
                     follow_up_enabled, comment, created_at, updated_at FROM prompts \
                     WHERE team_id = $1 ORDER BY created_at DESC, id DESC",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(Prompt::try_from)
                .collect()
            }

            async fn create_prompt(
                &self,
                team: &str,
                name: &str,
                kind: PromptType,
                model: &str,
            ) -> StoreResult<Prompt> {
                let now = now_millis();
                let prompt = Prompt {
                    id: new_id(),
                    name: name.to_owned(),
                    kind,
                    model: model.to_owned(),
                    sections: PromptSections::default(),
                    created_at: now,
                    updated_at: now,
                };
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO prompts (id, team_id, name, prompt_type, model, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(&prompt.id)
                .bind(team)
                .bind(&prompt.name)
                .bind(kind.as_str())
                .bind(&prompt.model)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(prompt)
            }

            async fn get_prompt(&self, team: &str, id: &str) -> StoreResult<Prompt> {
                sqlx::query_as::<_, PromptRow>(SELECT_PROMPT)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn update_prompt(
                &self,
                team: &str,
                id: &str,
                patch: SectionsPatch,
            ) -> StoreResult<Prompt> {
                let mut tx = self.begin_write().await?;
                let mut prompt: Prompt = sqlx::query_as::<_, PromptRow>(SELECT_PROMPT)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()?;
                prompt.sections = prompt
                    .sections
                    .merged(prompt.kind, patch)
                    .map_err(StoreError::Invalid)?;
                prompt.updated_at = now_millis();
                let sections = &prompt.sections;
                sqlx::query(
                    "UPDATE prompts SET context = $3, first_message = $4, follow_ups = $5, \
                     follow_up_enabled = $6, comment = $7, updated_at = $8 \
                     WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(id)
                .bind(&sections.context)
                .bind(&sections.first_message)
                .bind(follow_ups_json(&sections.follow_ups))
                .bind(sections.follow_up_enabled)
                .bind(&sections.comment)
                .bind(prompt.updated_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(prompt)
            }
        }
    };
}

impl_prompt_store!(crate::sqlite::SqliteStore);
impl_prompt_store!(crate::postgres::PgStore);
