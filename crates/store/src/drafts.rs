//! Drafts: the AI messages of review-mode campaigns that wait for a person (see
//! `outbound_core::review` for the rules a draft follows).
//!
//! Rules of the storage:
//! - a conversation has at most one open draft (`pending` or `approved`), named by
//!   `chats.draft_id`; while it is pending the conversation has no planned message, so the engine
//!   writes nothing more for it; approving plans the message at once (and wakes the agent's
//!   message slot), and the engine sends the approved text, at most once, through the send
//!   ledger (`sends.draft_id`);
//! - every decision is one transaction on the draft row read under the write lock: only a
//!   `pending` draft can be approved or rejected ([`StoreError::DraftNotPending`] otherwise);
//! - a draft whose conversation changed meanwhile is superseded in the same transaction as the
//!   change (a pause, the DNC list, a person's message; a new reply in the engine's
//!   settlement);
//! - drafts are the owner team's only: every other team gets `NotFound`.

use outbound_core::events::EventType;
use outbound_core::ids::new_id;
use outbound_core::review::{DraftKind, DraftStatus};
use outbound_core::time::{Millis, iso8601};
use serde_json::json;

use crate::chats::{ChatCursor, ChatPage, Role};
use crate::{StoreError, StoreResult};

/// Messages of the conversation shown with a draft, newest last.
pub const CONTEXT_MESSAGES: i64 = 5;

/// A draft with its prospect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub team_id: String,
    pub chat_id: String,
    pub campaign_id: String,
    pub agent_id: String,
    pub kind: DraftKind,
    /// What the AI wrote.
    pub text: String,
    /// What the person approved instead, if they edited it.
    pub edited_text: Option<String>,
    pub status: DraftStatus,
    pub model: Option<String>,
    pub prompt_id: Option<String>,
    /// Why a person rejected it.
    pub reason: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub decided_at: Option<Millis>,
    pub sent_at: Option<Millis>,
    pub prospect_name: String,
    pub prospect_url: String,
}

impl Draft {
    /// The text that is (or would be) sent: the person's edit, else the AI's.
    pub fn final_text(&self) -> &str {
        self.edited_text.as_deref().unwrap_or(&self.text)
    }
}

/// One message of a draft's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextMessage {
    pub chat_id: String,
    pub role: Role,
    pub author: Option<String>,
    pub content: String,
    pub created_at: Millis,
}

/// Filters of the draft list; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftFilter {
    pub campaign_id: Option<String>,
    pub agent_id: Option<String>,
    pub status: Option<DraftStatus>,
}

/// What a rejection does to the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRejection {
    /// The AI's work on the conversation pauses until a person resumes it.
    Pause,
    /// The AI writes a new draft.
    Regenerate,
}

/// A draft the engine writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraft {
    pub id: String,
    pub team_id: String,
    pub chat_id: String,
    pub campaign_id: String,
    pub agent_id: String,
    pub prospect_id: String,
    pub kind: DraftKind,
    pub text: String,
    pub model: Option<String>,
    pub prompt_id: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, sqlx::FromRow)]
struct DraftRow {
    id: String,
    team_id: String,
    chat_id: String,
    campaign_id: String,
    agent_id: String,
    kind: String,
    text: String,
    edited_text: Option<String>,
    status: String,
    model: Option<String>,
    prompt_id: Option<String>,
    reason: Option<String>,
    created_at: i64,
    expires_at: i64,
    decided_at: Option<i64>,
    sent_at: Option<i64>,
    prospect_name: String,
    prospect_url: String,
}

impl TryFrom<DraftRow> for Draft {
    type Error = StoreError;

    fn try_from(row: DraftRow) -> StoreResult<Draft> {
        Ok(Draft {
            kind: DraftKind::parse(&row.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("draft kind {}", row.kind)))?,
            status: DraftStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("draft status {}", row.status)))?,
            id: row.id,
            team_id: row.team_id,
            chat_id: row.chat_id,
            campaign_id: row.campaign_id,
            agent_id: row.agent_id,
            text: row.text,
            edited_text: row.edited_text,
            model: row.model,
            prompt_id: row.prompt_id,
            reason: row.reason,
            created_at: row.created_at,
            expires_at: row.expires_at,
            decided_at: row.decided_at,
            sent_at: row.sent_at,
            prospect_name: row.prospect_name,
            prospect_url: row.prospect_url,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ContextRow {
    chat_id: String,
    role: String,
    author: Option<String>,
    content: String,
    created_at: i64,
}

impl TryFrom<ContextRow> for ContextMessage {
    type Error = StoreError;

    fn try_from(row: ContextRow) -> StoreResult<ContextMessage> {
        Ok(ContextMessage {
            role: Role::parse(&row.role)
                .ok_or_else(|| StoreError::Corrupt(format!("role {}", row.role)))?,
            chat_id: row.chat_id,
            author: row.author,
            content: row.content,
            created_at: row.created_at,
        })
    }
}

/// `SELECT <draft columns> FROM drafts d JOIN chats ch JOIN prospects p`, for `concat!` with a
/// `WHERE` clause.
macro_rules! select_drafts {
    () => {
        "SELECT d.id, d.team_id, d.chat_id, d.campaign_id, d.agent_id, d.kind, d.text, \
         d.edited_text, d.status, d.model, d.prompt_id, d.reason, d.created_at, d.expires_at, \
         d.decided_at, d.sent_at, p.name AS prospect_name, p.url AS prospect_url \
         FROM drafts d JOIN chats ch ON ch.id = d.chat_id JOIN prospects p ON p.id = ch.prospect_id"
    };
}

/// Filters `$2` campaign, `$3` agent, `$4` status (each `NULL`: any) of team `$1`.
macro_rules! draft_filters {
    () => {
        " WHERE d.team_id = $1 AND ($2 IS NULL OR d.campaign_id = $2) \
         AND ($3 IS NULL OR d.agent_id = $3) AND ($4 IS NULL OR d.status = $4)"
    };
}

const LIST_FIRST: &str = concat!(
    select_drafts!(),
    draft_filters!(),
    " ORDER BY d.created_at DESC, d.id DESC LIMIT $5 OFFSET $6"
);
/// `$6`, `$7`: the `created_at` and `id` of the last draft already seen.
const LIST_AFTER: &str = concat!(
    select_drafts!(),
    draft_filters!(),
    " AND (d.created_at < $6 OR (d.created_at = $6 AND d.id < $7)) \
     ORDER BY d.created_at DESC, d.id DESC LIMIT $5"
);
const SELECT_OWNED: &str = concat!(select_drafts!(), " WHERE d.team_id = $1 AND d.id = $2");
/// The last `$3` messages of each conversation `$2..` of team `$1` is prepended by the caller.
const CONTEXT: &str = "SELECT chat_id, role, author, content, created_at FROM (SELECT m.chat_id, \
     m.role, m.author, m.content, m.created_at, m.id, ROW_NUMBER() OVER (PARTITION BY m.chat_id \
     ORDER BY m.created_at DESC, m.id DESC) AS n FROM messages m WHERE m.team_id = ";
const SUPERSEDE: &str = "UPDATE drafts SET status = 'superseded', decided_at = $2 \
     WHERE chat_id = $1 AND status IN ('pending', 'approved') RETURNING kind";

/// The message kind the engine stores for a draft's kind (`chats.next_message_kind`).
pub(crate) fn message_kind_of(kind: DraftKind) -> crate::engine::MessageKind {
    use crate::engine::MessageKind;
    match kind {
        DraftKind::FirstMessage => MessageKind::First,
        DraftKind::FollowUp => MessageKind::FollowUp,
        DraftKind::Reply => MessageKind::Reply,
    }
}

/// The data of a draft event.
fn draft_event_data(draft: &NewDraftEvent<'_>, at: Millis) -> serde_json::Value {
    json!({
        "draftId": draft.id,
        "agentId": draft.agent_id,
        "campaignId": draft.campaign_id,
        "chatId": draft.chat_id,
        "prospectId": draft.prospect_id,
        "kind": draft.kind.as_str(),
        "text": draft.text,
        "expiresAt": iso8601(draft.expires_at),
        "timestamp": iso8601(at),
    })
}

/// What a draft event names.
pub(crate) struct NewDraftEvent<'a> {
    pub id: &'a str,
    pub agent_id: &'a str,
    pub campaign_id: &'a str,
    pub chat_id: &'a str,
    pub prospect_id: &'a str,
    pub kind: DraftKind,
    pub text: &'a str,
    pub expires_at: Millis,
}

#[async_trait::async_trait]
pub trait DraftStore {
    /// One page (at most `limit`) of the team's drafts, newest first.
    async fn list_drafts(
        &self,
        team: &str,
        filter: &DraftFilter,
        page: &ChatPage,
        limit: i64,
    ) -> StoreResult<Vec<Draft>>;

    /// A draft of the team.
    async fn get_draft(&self, team: &str, id: &str) -> StoreResult<Draft>;

    /// The last [`CONTEXT_MESSAGES`] messages of each of the team's conversations `chat_ids`,
    /// by conversation, oldest first.
    async fn draft_context(
        &self,
        team: &str,
        chat_ids: &[String],
    ) -> StoreResult<Vec<ContextMessage>>;

    /// Approves a pending draft of the team (sending `edited` instead of the AI's text when
    /// given): the message is planned at `now`.
    async fn approve_draft(
        &self,
        team: &str,
        id: &str,
        edited: Option<&str>,
        now: Millis,
    ) -> StoreResult<Draft>;

    /// Rejects a pending draft of the team; the conversation pauses or gets a new draft.
    async fn reject_draft(
        &self,
        team: &str,
        id: &str,
        reason: Option<&str>,
        then: AfterRejection,
        now: Millis,
    ) -> StoreResult<Draft>;

    /// Expires up to `limit` pending drafts whose time ran out before `now` (event
    /// `draft.expired` each); returns how many.
    async fn expire_drafts(&self, now: Millis, limit: i64) -> StoreResult<u64>;

    /// Drafts by id, of any team (for the engine).
    async fn drafts_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Draft>>;
}

/// `impl_draft_store!(Store, "<lock of one row>", "<greatest>")`.
macro_rules! impl_draft_store {
    ($store:ty, $lock_row:literal, $greatest:literal) => {
        impl $store {
            /// Supersedes the open draft of `chat` (a change a person made), inside the
            /// caller's transaction. With `replan`, the message it held stays planned at `now`
            /// so the AI writes again once the conversation may be contacted.
            pub(crate) async fn supersede_draft_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                chat: &str,
                replan: bool,
                now: Millis,
            ) -> StoreResult<()> {
                let kinds: Vec<String> = sqlx::query_scalar(SUPERSEDE)
                    .bind(chat)
                    .bind(now)
                    .fetch_all(&mut **tx)
                    .await?;
                let Some(kind) = kinds.first().and_then(|k| DraftKind::parse(k)) else {
                    return Ok(());
                };
                let kind = replan.then(|| message_kind_of(kind).as_str());
                sqlx::query(
                    "UPDATE chats SET draft_id = NULL, \
                     next_message_at = CASE WHEN $2 IS NULL THEN next_message_at \
                     ELSE COALESCE(next_message_at, $3) END, \
                     next_message_kind = CASE WHEN $2 IS NULL THEN next_message_kind \
                     ELSE COALESCE(next_message_kind, $2) END WHERE id = $1",
                )
                .bind(chat)
                .bind(kind)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Inserts drafts the engine wrote and their `draft.created` events.
            pub(crate) async fn insert_drafts_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                drafts: &[NewDraft],
            ) -> StoreResult<()> {
                for draft in drafts {
                    sqlx::query(
                        "INSERT INTO drafts (id, team_id, chat_id, campaign_id, agent_id, kind, \
                         text, status, model, prompt_id, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11)",
                    )
                    .bind(&draft.id)
                    .bind(&draft.team_id)
                    .bind(&draft.chat_id)
                    .bind(&draft.campaign_id)
                    .bind(&draft.agent_id)
                    .bind(draft.kind.as_str())
                    .bind(&draft.text)
                    .bind(&draft.model)
                    .bind(&draft.prompt_id)
                    .bind(draft.created_at)
                    .bind(draft.expires_at)
                    .execute(&mut **tx)
                    .await?;
                    let event = NewDraftEvent {
                        id: &draft.id,
                        agent_id: &draft.agent_id,
                        campaign_id: &draft.campaign_id,
                        chat_id: &draft.chat_id,
                        prospect_id: &draft.prospect_id,
                        kind: draft.kind,
                        text: &draft.text,
                        expires_at: draft.expires_at,
                    };
                    Self::insert_draft_event_in(
                        tx,
                        &draft.team_id,
                        EventType::DraftCreated,
                        &event,
                        draft.created_at,
                    )
                    .await?;
                }
                Ok(())
            }

            async fn insert_draft_event_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                event: EventType,
                draft: &NewDraftEvent<'_>,
                at: Millis,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO events (id, team_id, event_type, data, occurred_at, campaign_id, \
                     chat_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_id())
                .bind(team)
                .bind(event.as_str())
                .bind(draft_event_data(draft, at).to_string())
                .bind(at)
                .bind(draft.campaign_id)
                .bind(draft.chat_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// The pending draft `id` of `team`, locked; `NotFound` or `DraftNotPending`.
            async fn pending_draft_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Draft> {
                let draft: Draft = sqlx::query_as::<_, DraftRow>(concat!(
                    select_drafts!(),
                    " WHERE d.team_id = $1 AND d.id = $2",
                    $lock_row
                ))
                .bind(team)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound)?
                .try_into()?;
                if draft.status != DraftStatus::Pending {
                    return Err(StoreError::DraftNotPending(draft.status));
                }
                Ok(draft)
            }

            /// Brings the agent's message slot forward to `at` (not before its spread).
            async fn pull_message_slot_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                agent: &str,
                at: Millis,
            ) -> StoreResult<()> {
                sqlx::query(concat!(
                    "UPDATE tasks SET due_at = ",
                    $greatest,
                    "(COALESCE(not_before, 0), $2), \
                     updated_at = $2 WHERE id = $1 AND status = 'pending' \
                     AND due_at > ",
                    $greatest,
                    "(COALESCE(not_before, 0), $2)"
                ))
                .bind(crate::engine::task_id(
                    agent,
                    crate::engine::kind::MESSAGE_SLOT,
                ))
                .bind(at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn owned_draft_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Draft> {
                sqlx::query_as::<_, DraftRow>(SELECT_OWNED)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }
        }

        #[async_trait::async_trait]
        impl DraftStore for $store {
            async fn list_drafts(
                &self,
                team: &str,
                filter: &DraftFilter,
                page: &ChatPage,
                limit: i64,
            ) -> StoreResult<Vec<Draft>> {
                let status = filter.status.map(DraftStatus::as_str);
                let rows: Vec<DraftRow> = match page {
                    ChatPage::Offset(offset) => {
                        sqlx::query_as(LIST_FIRST)
                            .bind(team)
                            .bind(&filter.campaign_id)
                            .bind(&filter.agent_id)
                            .bind(status)
                            .bind(limit)
                            .bind(offset)
                            .fetch_all(&self.pool)
                            .await?
                    }
                    ChatPage::After(ChatCursor { created_at, id }) => {
                        sqlx::query_as(LIST_AFTER)
                            .bind(team)
                            .bind(&filter.campaign_id)
                            .bind(&filter.agent_id)
                            .bind(status)
                            .bind(limit)
                            .bind(created_at)
                            .bind(id)
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                rows.into_iter().map(Draft::try_from).collect()
            }

            async fn get_draft(&self, team: &str, id: &str) -> StoreResult<Draft> {
                sqlx::query_as::<_, DraftRow>(SELECT_OWNED)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn draft_context(
                &self,
                team: &str,
                chat_ids: &[String],
            ) -> StoreResult<Vec<ContextMessage>> {
                if chat_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(CONTEXT);
                query.push_bind(team.to_owned()).push(" AND m.chat_id IN (");
                let mut list = query.separated(", ");
                for id in chat_ids {
                    list.push_bind(id.clone());
                }
                list.push_unseparated(")) recent WHERE n <= ");
                query
                    .push_bind(CONTEXT_MESSAGES)
                    .push(" ORDER BY chat_id, created_at, id");
                let rows: Vec<ContextRow> = query.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(ContextMessage::try_from).collect()
            }

            async fn approve_draft(
                &self,
                team: &str,
                id: &str,
                edited: Option<&str>,
                now: Millis,
            ) -> StoreResult<Draft> {
                let mut tx = self.begin_write().await?;
                let draft = Self::pending_draft_in(&mut tx, team, id).await?;
                sqlx::query(
                    "UPDATE drafts SET status = 'approved', edited_text = $2, decided_at = $3 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(edited)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE chats SET next_message_at = $2, next_message_kind = $3, \
                     updated_at = $2 WHERE id = $1 AND draft_id = $4",
                )
                .bind(&draft.chat_id)
                .bind(now)
                .bind(message_kind_of(draft.kind).as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Self::pull_message_slot_in(&mut tx, &draft.agent_id, now).await?;
                let approved = Self::owned_draft_in(&mut tx, team, id).await?;
                tx.commit().await?;
                Ok(approved)
            }

            async fn reject_draft(
                &self,
                team: &str,
                id: &str,
                reason: Option<&str>,
                then: AfterRejection,
                now: Millis,
            ) -> StoreResult<Draft> {
                let mut tx = self.begin_write().await?;
                let draft = Self::pending_draft_in(&mut tx, team, id).await?;
                sqlx::query(
                    "UPDATE drafts SET status = 'rejected', reason = $2, decided_at = $3 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(reason)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                match then {
                    AfterRejection::Pause => {
                        sqlx::query(
                            "UPDATE chats SET draft_id = NULL, paused = TRUE, updated_at = $2 \
                             WHERE id = $1",
                        )
                        .bind(&draft.chat_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    AfterRejection::Regenerate => {
                        sqlx::query(
                            "UPDATE chats SET draft_id = NULL, next_message_at = $2, \
                             next_message_kind = $3, updated_at = $2 WHERE id = $1",
                        )
                        .bind(&draft.chat_id)
                        .bind(now)
                        .bind(message_kind_of(draft.kind).as_str())
                        .execute(&mut *tx)
                        .await?;
                        Self::pull_message_slot_in(&mut tx, &draft.agent_id, now).await?;
                    }
                }
                let rejected = Self::owned_draft_in(&mut tx, team, id).await?;
                tx.commit().await?;
                Ok(rejected)
            }

            async fn expire_drafts(&self, now: Millis, limit: i64) -> StoreResult<u64> {
                #[derive(sqlx::FromRow)]
                struct Expiring {
                    id: String,
                    team_id: String,
                    chat_id: String,
                    campaign_id: String,
                    agent_id: String,
                    prospect_id: String,
                    kind: String,
                    text: String,
                    expires_at: i64,
                }
                let mut tx = self.begin_write().await?;
                let due: Vec<Expiring> = sqlx::query_as(
                    "SELECT d.id, d.team_id, d.chat_id, d.campaign_id, d.agent_id, \
                     ch.prospect_id, d.kind, d.text, d.expires_at FROM drafts d \
                     JOIN chats ch ON ch.id = d.chat_id \
                     WHERE d.status = 'pending' AND d.expires_at <= $1 \
                     ORDER BY d.expires_at, d.id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                let mut expired = 0;
                for draft in &due {
                    let changed = sqlx::query(
                        "UPDATE drafts SET status = 'expired', decided_at = $2 \
                         WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(&draft.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        // Decided meanwhile (a concurrent approval or rejection won).
                        continue;
                    }
                    expired += 1;
                    sqlx::query("UPDATE chats SET draft_id = NULL WHERE id = $1 AND draft_id = $2")
                        .bind(&draft.chat_id)
                        .bind(&draft.id)
                        .execute(&mut *tx)
                        .await?;
                    let kind = DraftKind::parse(&draft.kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("draft kind {}", draft.kind)))?;
                    let event = NewDraftEvent {
                        id: &draft.id,
                        agent_id: &draft.agent_id,
                        campaign_id: &draft.campaign_id,
                        chat_id: &draft.chat_id,
                        prospect_id: &draft.prospect_id,
                        kind,
                        text: &draft.text,
                        expires_at: draft.expires_at,
                    };
                    Self::insert_draft_event_in(
                        &mut tx,
                        &draft.team_id,
                        EventType::DraftExpired,
                        &event,
                        now,
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(expired)
            }

            async fn drafts_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Draft>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(concat!(
                    select_drafts!(),
                    " WHERE d.id IN ("
                ));
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(id.clone());
                }
                list.push_unseparated(")");
                let rows: Vec<DraftRow> =
                    query.build_query_as().fetch_all(self.engine_pool()).await?;
                rows.into_iter().map(Draft::try_from).collect()
            }
        }
    };
}

impl_draft_store!(crate::sqlite::SqliteStore, "", "MAX");
impl_draft_store!(crate::postgres::PgStore, " FOR UPDATE OF d", "GREATEST");
