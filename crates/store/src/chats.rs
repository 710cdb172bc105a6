//! Conversations ("chats": one prospect in one campaign), their messages and the prospects
//! behind them.
//!
//! Rules:
//! - every change of a chat applies `ChatTally::of(after).minus(ChatTally::of(before))` to its
//!   campaign's counters in the same transaction (`apply_tally`), so a campaign's `stats`
//!   always equal what its chats say; deleting a chat applies its negated tally;
//! - reads use `readable_campaign!` so that the client team of an agency workspace sees the
//!   chats of the agents assigned to it; writes filter on the owning team alone;
//! - a chat's row is read for update (PostgreSQL `FOR UPDATE`; SQLite holds the write lock)
//!   before a change that depends on its state, so concurrent changes never lose a delta;
//! - deleting a prospect deletes its chats, their messages, the webhook events they caused and
//!   those events' deliveries (whose bodies carry the person's data), in one transaction;
//! - a manual verdict writes its webhook event to the outbox in the same transaction, and only
//!   when the verdict changed something;
//! - lists are newest first by `(created_at, id)`; a cursor is the last `(created_at, id)` of a
//!   page, so rows inserted meanwhile (always newer) never shift later pages.

use outbound_core::conversation::{ChatTally, Qualification, status};
use outbound_core::events::EventType;
use outbound_core::ids::new_id;
use outbound_core::review::Author;
use outbound_core::time::{Millis, iso8601};
use serde_json::json;

use crate::{StoreError, StoreResult, readable_campaign};

/// A person to put into a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub name: String,
    /// Normalised (`https://linkedin.com/in/<slug>`).
    pub url: String,
    pub slug: String,
    pub custom_data: String,
    pub ongoing: bool,
    /// The import that brought the person in.
    pub list_id: Option<String>,
}

/// What adding a person to a campaign did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A new chat (and, if the person was new to the team, a new prospect).
    Created {
        prospect_id: String,
        chat_id: String,
    },
    /// The person already has a chat in this campaign; nothing changed.
    Existing {
        prospect_id: String,
        chat_id: String,
    },
}

/// The lowercased text that `GET /prospects/search?query=` looks in.
pub fn search_text(name: &str, headline: Option<&str>, company: Option<&str>) -> String {
    [Some(name), headline, company]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The tally of a new chat.
pub fn new_chat_tally(ongoing: bool) -> ChatTally {
    ChatTally::of(initial_status(ongoing), Qualification::InProgress, false, 0)
}

/// A conversation imported as `ongoing` is already running: it starts as contacted.
pub fn initial_status(ongoing: bool) -> i64 {
    if ongoing {
        status::CONTACTED
    } else {
        status::NOT_STARTED
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The agent (the AI, or a human operator through LinkedIn).
    Assistant,
    /// The prospect.
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Assistant => "assistant",
            Role::User => "user",
        }
    }

    /// The role stored as `value`, if any.
    pub fn parse(value: &str) -> Option<Role> {
        [Role::Assistant, Role::User]
            .into_iter()
            .find(|role| role.as_str() == value)
    }
}

/// The state of a chat that its tally depends on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TallyRow {
    pub campaign_id: String,
    pub status: i64,
    pub qualification: String,
    pub has_responded: bool,
    pub messages_sent: i64,
}

impl TallyRow {
    pub(crate) fn tally(&self) -> ChatTally {
        let qualification =
            Qualification::parse(&self.qualification).unwrap_or(Qualification::InProgress);
        ChatTally::of(
            self.status,
            qualification,
            self.has_responded,
            self.messages_sent,
        )
    }
}

/// The status after a message: the agent's first message makes a chat `contacted`, a
/// prospect's message makes it `replied`; finished chats keep their status.
pub fn status_after_message(current: i64, role: Role) -> i64 {
    if status::is_finished(current) {
        return current;
    }
    match role {
        Role::Assistant if current < status::CONTACTED => status::CONTACTED,
        Role::User => status::REPLIED,
        Role::Assistant => current,
    }
}

/// The profile of a prospect as enrichment finds it; `None` clears a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProspectProfile {
    pub headline: Option<String>,
    pub about: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub current_company_name: Option<String>,
    pub current_job_title: Option<String>,
    pub current_company_website: Option<String>,
    pub current_company_linkedin_url: Option<String>,
    /// LinkedIn's member id (`ACo…`); `None` keeps the stored one.
    pub provider_id: Option<String>,
}

/// The person behind a conversation, as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProspectCard {
    pub id: String,
    pub name: String,
    pub url: String,
    pub headline: Option<String>,
    pub current_company_name: Option<String>,
    pub current_job_title: Option<String>,
    pub current_company_website: Option<String>,
    pub current_company_linkedin_url: Option<String>,
}

/// A conversation as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    pub id: String,
    pub status: i64,
    pub qualification: Qualification,
    pub paused: bool,
    pub last_message_at: Option<Millis>,
    pub created_at: Millis,
    pub prospect: ProspectCard,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub author: Author,
    pub content: String,
    pub created_at: Millis,
    /// The model and prompt that wrote an AI message.
    pub model: Option<String>,
    pub prompt_id: Option<String>,
}

/// A conversation with its campaign, the full profile and every message, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatDetails {
    pub summary: ChatSummary,
    pub custom_data: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub city: Option<String>,
    pub country: Option<String>,
    pub about: Option<String>,
    /// The AI's last verdict: its score and one-line reason.
    pub score: Option<i64>,
    pub score_reason: Option<String>,
    pub messages: Vec<ChatMessage>,
}

/// Filters of a campaign's conversation list; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatFilter {
    pub status: Option<i64>,
    pub paused: Option<bool>,
    pub has_responded: Option<bool>,
}

/// A position in a newest-first list: the `(created_at, id)` of the last row already seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCursor {
    pub created_at: Millis,
    pub id: String,
}

/// Which page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatPage {
    /// Skip this many rows.
    Offset(i64),
    /// The rows after (older than) this one.
    After(ChatCursor),
}

/// A manual verdict on a conversation. Both end the AI's work on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `qualified`, status 5, event `prospect.qualified`.
    Qualified,
    /// `unqualified`, status 6, event `prospect.unqualified`.
    Unqualified,
}

impl Verdict {
    pub fn qualification(self) -> Qualification {
        match self {
            Verdict::Qualified => Qualification::Qualified,
            Verdict::Unqualified => Qualification::Unqualified,
        }
    }

    pub fn status(self) -> i64 {
        match self {
            Verdict::Qualified => status::QUALIFIED,
            Verdict::Unqualified => status::UNQUALIFIED,
        }
    }

    pub fn event(self) -> EventType {
        match self {
            Verdict::Qualified => EventType::Qualified,
            Verdict::Unqualified => EventType::Unqualified,
        }
    }
}

/// Who gave a verdict, as the event's `qualifiedBy` says.
pub const QUALIFIED_BY_HAND: &str = "manual";

/// A campaign's counters after a deletion.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CountersAfter {
    pub campaign_id: String,
    pub prospects_count: i64,
    pub messages_count: i64,
    pub qualified_count: i64,
}

/// What deleting one prospect removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProspectDeleted {
    pub prospect_id: String,
    pub prospect_name: String,
    /// The campaign of the prospect's first chat (by creation); `None` when it had no chat.
    pub campaign: Option<(String, String)>,
    pub chats: i64,
    pub messages: i64,
    /// The engine's tasks of its conversations.
    pub tasks: i64,
    pub webhook_events: i64,
}

/// Why one prospect of a deletion was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// No such prospect in the team (or already deleted earlier in the same request).
    NotFound,
    /// A conversation of the prospect is neither paused nor finished.
    Active,
    /// The prospect has no chat in the campaign the request named.
    CampaignMismatch,
}

/// A single deletion: what went, and the counters of the reported campaign afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProspectDeletion {
    pub deleted: ProspectDeleted,
    pub counters: Option<CountersAfter>,
}

/// A bulk deletion: one outcome per requested id, in request order, and the counters of the
/// guard campaign (or, without one, of the first deleted prospect's campaign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkDeletion {
    pub items: Vec<(String, Result<ProspectDeleted, DeleteRefusal>)>,
    pub counters: Option<CountersAfter>,
}

/// The list columns; chat alias `ch`, prospect alias `p`.
macro_rules! summary_columns {
    () => {
        "ch.id, ch.status, ch.qualification, ch.paused, ch.last_message_at, ch.created_at, \
         p.id AS prospect_id, p.name, p.url, p.headline, p.current_company_name, \
         p.current_job_title, p.current_company_website, p.current_company_linkedin_url"
    };
}
pub(crate) use summary_columns;

/// The columns of [`summary_columns!`], read back as a [`ChatSummary`] (the inbox reads them too).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SummaryRow {
    id: String,
    status: i64,
    qualification: String,
    paused: bool,
    last_message_at: Option<Millis>,
    created_at: Millis,
    prospect_id: String,
    name: String,
    url: String,
    headline: Option<String>,
    current_company_name: Option<String>,
    current_job_title: Option<String>,
    current_company_website: Option<String>,
    current_company_linkedin_url: Option<String>,
}

impl TryFrom<SummaryRow> for ChatSummary {
    type Error = StoreError;

    fn try_from(row: SummaryRow) -> StoreResult<ChatSummary> {
        let qualification = Qualification::parse(&row.qualification)
            .ok_or_else(|| StoreError::Corrupt(format!("qualification {}", row.qualification)))?;
        Ok(ChatSummary {
            id: row.id,
            status: row.status,
            qualification,
            paused: row.paused,
            last_message_at: row.last_message_at,
            created_at: row.created_at,
            prospect: ProspectCard {
                id: row.prospect_id,
                name: row.name,
                url: row.url,
                headline: row.headline,
                current_company_name: row.current_company_name,
                current_job_title: row.current_job_title,
                current_company_website: row.current_company_website,
                current_company_linkedin_url: row.current_company_linkedin_url,
            },
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DetailsRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    owner_team: String,
    custom_data: String,
    campaign_id: String,
    campaign_name: String,
    city: Option<String>,
    country: Option<String>,
    about: Option<String>,
    score: Option<i64>,
    score_reason: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct MessageRow {
    role: String,
    author: Option<String>,
    content: String,
    created_at: Millis,
    model: Option<String>,
    prompt_id: Option<String>,
}

/// Who wrote a stored message: the prospect, else the recorded author (the AI for the agent's
/// messages stored before authors were).
pub fn author_of(role: Role, author: Option<&str>) -> Author {
    match role {
        Role::User => Author::Prospect,
        Role::Assistant => author.and_then(Author::parse).unwrap_or(Author::Ai),
    }
}

impl TryFrom<MessageRow> for ChatMessage {
    type Error = StoreError;

    fn try_from(row: MessageRow) -> StoreResult<ChatMessage> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| StoreError::Corrupt(format!("role {}", row.role)))?;
        Ok(ChatMessage {
            author: author_of(role, row.author.as_deref()),
            role,
            content: row.content,
            created_at: row.created_at,
            model: row.model,
            prompt_id: row.prompt_id,
        })
    }
}

/// A chat about to be judged.
#[derive(Debug, sqlx::FromRow)]
struct JudgedRow {
    #[sqlx(flatten)]
    tally: TallyRow,
    prospect_id: String,
    agent_id: String,
}

/// A chat about to be deleted with its prospect.
#[derive(Debug, sqlx::FromRow)]
struct DoomedChatRow {
    #[sqlx(flatten)]
    tally: TallyRow,
    paused: bool,
    campaign_name: String,
}

impl DoomedChatRow {
    /// Paused or finished: nothing is running that a deletion would cut off.
    fn is_idle(&self) -> bool {
        self.paused || status::is_finished(self.tally.status)
    }
}

#[async_trait::async_trait]
pub trait ChatStore {
    /// Records a message of `chat_id` sent or received at `at`, updating the chat (status,
    /// last message, responded) and its campaign's counters; returns the message id.
    async fn append_message(
        &self,
        team: &str,
        chat_id: &str,
        role: Role,
        content: &str,
        at: Millis,
    ) -> StoreResult<String>;

    /// Puts a person into a campaign of the team (creating the prospect if the team has none
    /// with that URL), unless the person already has a chat there.
    async fn add_to_campaign(
        &self,
        team: &str,
        campaign_id: &str,
        person: NewConversation,
        now: Millis,
    ) -> StoreResult<Added>;

    /// Replaces the enriched profile of a prospect of `team` (and its search text).
    async fn set_prospect_profile(
        &self,
        team: &str,
        prospect_id: &str,
        profile: &ProspectProfile,
        now: Millis,
    ) -> StoreResult<()>;

    /// One page (at most `limit` rows) of the conversations of a campaign readable by `team`,
    /// newest first, in one query joining the prospects. `NotFound` when the campaign is not
    /// readable by `team`.
    async fn list_campaign_chats(
        &self,
        team: &str,
        campaign_id: &str,
        filter: &ChatFilter,
        page: &ChatPage,
        limit: i64,
    ) -> StoreResult<Vec<ChatSummary>>;

    /// A conversation readable by `team` with its messages, oldest first.
    async fn get_chat(&self, team: &str, chat_id: &str) -> StoreResult<ChatDetails>;

    /// Stores the `customData` of a chat of `team` (the caller truncates it).
    async fn set_chat_custom_data(
        &self,
        team: &str,
        chat_id: &str,
        custom_data: &str,
        now: Millis,
    ) -> StoreResult<()>;

    /// Pauses or resumes a chat of `team`; doing it twice changes nothing more.
    async fn set_chat_paused(
        &self,
        team: &str,
        chat_id: &str,
        paused: bool,
        now: Millis,
    ) -> StoreResult<()>;

    /// A person of `team` takes over a conversation: `text` is queued for the engine to send
    /// through the agent at once (as a person's message), the AI pauses on the conversation
    /// and its open draft is superseded, in one transaction. Returns the message's id (also
    /// its ledger id, so it is sent at most once). [`StoreError::ProspectOnDnc`] when the
    /// prospect is on the team's Do-Not-Contact list.
    async fn queue_person_message(
        &self,
        team: &str,
        chat_id: &str,
        text: &str,
        now: Millis,
    ) -> StoreResult<String>;

    /// Gives a chat of `team` a manual verdict: qualification, status, campaign counters and
    /// the webhook event, in one transaction. Returns whether anything changed (a repeated
    /// verdict changes nothing and writes no event).
    async fn judge_chat(
        &self,
        team: &str,
        chat_id: &str,
        verdict: Verdict,
        now: Millis,
    ) -> StoreResult<bool>;

    /// Deletes a prospect of `team` with its chats, their messages and their webhook events.
    /// `ProspectActive` when one of its chats is neither paused nor finished.
    async fn delete_prospect(&self, team: &str, prospect_id: &str)
    -> StoreResult<ProspectDeletion>;

    /// Deletes each prospect that can be deleted, in one transaction; with `campaign`, only
    /// prospects that have a chat in it (`NotFound` when the team has no such campaign).
    async fn delete_prospects(
        &self,
        team: &str,
        prospect_ids: &[String],
        campaign: Option<&str>,
    ) -> StoreResult<BulkDeletion>;
}

/// `impl_chat_store!(Store, "<lock of chats aliased ch>", "<lock of one row>", "<share lock>")`:
/// PostgreSQL locks the rows it reads before changing them (and a prospect it attaches a chat
/// to, so that a concurrent deletion waits or is seen); SQLite's write lock already serialises.
macro_rules! impl_chat_store {
    ($store:ty, $lock_chats:literal, $lock_row:literal, $share_row:literal) => {
        impl $store {
            /// Adds `delta` to the counters of `campaign_id`, inside the caller's transaction.
            pub(crate) async fn apply_tally(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                campaign_id: &str,
                delta: ChatTally,
            ) -> StoreResult<()> {
                if delta.is_zero() {
                    return Ok(());
                }
                sqlx::query(
                    "UPDATE campaigns SET prospects_count = prospects_count + $2, \
                     answers_count = answers_count + $3, messages_count = messages_count + $4, \
                     qualified_count = qualified_count + $5, closed_count = closed_count + $6 \
                     WHERE id = $1",
                )
                .bind(campaign_id)
                .bind(delta.prospects)
                .bind(delta.answers)
                .bind(delta.messages)
                .bind(delta.qualified)
                .bind(delta.closed)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// [`ChatStore::add_to_campaign`] inside the caller's transaction (imports batch
            /// many rows into one transaction). The campaign must belong to `team`.
            pub(crate) async fn add_to_campaign_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                campaign_id: &str,
                person: &NewConversation,
                now: Millis,
            ) -> StoreResult<Added> {
                let prospect_id: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT id FROM prospects WHERE team_id = $1 AND url = $2",
                    $share_row
                ))
                .bind(team)
                .bind(&person.url)
                .fetch_optional(&mut **tx)
                .await?;
                let prospect_id = match prospect_id {
                    Some(id) => id,
                    None => {
                        let id = new_id();
                        sqlx::query(
                            "INSERT INTO prospects (id, team_id, url, slug, name, search_text, \
                             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                        )
                        .bind(&id)
                        .bind(team)
                        .bind(&person.url)
                        .bind(&person.slug)
                        .bind(&person.name)
                        .bind(search_text(&person.name, None, None))
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                        id
                    }
                };
                let existing: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM chats WHERE campaign_id = $1 AND prospect_id = $2",
                )
                .bind(campaign_id)
                .bind(&prospect_id)
                .fetch_optional(&mut **tx)
                .await?;
                if let Some(chat_id) = existing {
                    return Ok(Added::Existing { prospect_id, chat_id });
                }
                let chat_id = new_id();
                sqlx::query(
                    "INSERT INTO chats (id, team_id, campaign_id, prospect_id, status, ongoing, \
                     custom_data, list_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                )
                .bind(&chat_id)
                .bind(team)
                .bind(campaign_id)
                .bind(&prospect_id)
                .bind(initial_status(person.ongoing))
                .bind(person.ongoing)
                .bind(&person.custom_data)
                .bind(&person.list_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Self::apply_tally(tx, campaign_id, new_chat_tally(person.ongoing)).await?;
                Ok(Added::Created { prospect_id, chat_id })
            }

            /// Deletes one prospect of `team` inside the caller's transaction, or says why not
            /// (writing nothing then).
            async fn delete_prospect_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                prospect_id: &str,
                campaign: Option<&str>,
            ) -> StoreResult<Result<ProspectDeleted, DeleteRefusal>> {
                let name: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT name FROM prospects WHERE team_id = $1 AND id = $2",
                    $lock_row
                ))
                .bind(team)
                .bind(prospect_id)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(prospect_name) = name else {
                    return Ok(Err(DeleteRefusal::NotFound));
                };
                let chats = sqlx::query_as::<_, DoomedChatRow>(concat!(
                    "SELECT ch.campaign_id, ch.status, ch.qualification, ch.has_responded, \
                     ch.messages_sent, ch.paused, c.name AS campaign_name FROM chats ch \
                     JOIN campaigns c ON c.id = ch.campaign_id \
                     WHERE ch.team_id = $1 AND ch.prospect_id = $2 ORDER BY ch.created_at, ch.id",
                    $lock_chats
                ))
                .bind(team)
                .bind(prospect_id)
                .fetch_all(&mut **tx)
                .await?;
                if campaign.is_some_and(|id| !chats.iter().any(|c| c.tally.campaign_id == id)) {
                    return Ok(Err(DeleteRefusal::CampaignMismatch));
                }
                if !chats.iter().all(DoomedChatRow::is_idle) {
                    return Ok(Err(DeleteRefusal::Active));
                }
                // Every statement deletes the rows of the person (`$1` team, `$2` prospect).
                let mut rows_of_person = async |sql: &'static str| -> StoreResult<i64> {
                    let done = sqlx::query(sql)
                        .bind(team)
                        .bind(prospect_id)
                        .execute(&mut **tx)
                        .await?;
                    Ok(count(done.rows_affected()))
                };
                let messages = rows_of_person(
                    "DELETE FROM messages WHERE team_id = $1 AND chat_id IN \
                     (SELECT id FROM chats WHERE team_id = $1 AND prospect_id = $2)",
                )
                .await?;
                // The deliveries of those events go too: their bodies carry the person's data.
                rows_of_person(
                    "DELETE FROM webhook_deliveries WHERE team_id = $1 AND event_id IN \
                     (SELECT id FROM events WHERE team_id = $1 AND chat_id IN \
                     (SELECT id FROM chats WHERE team_id = $1 AND prospect_id = $2))",
                )
                .await?;
                let webhook_events = rows_of_person(
                    "DELETE FROM events WHERE team_id = $1 AND chat_id IN \
                     (SELECT id FROM chats WHERE team_id = $1 AND prospect_id = $2)",
                )
                .await?;
                // The engine's tasks of those conversations (idle, so none is running).
                let tasks = rows_of_person(
                    "DELETE FROM tasks WHERE team_id = $1 AND chat_id IN \
                     (SELECT id FROM chats WHERE team_id = $1 AND prospect_id = $2)",
                )
                .await?;
                let deleted_chats =
                    rows_of_person("DELETE FROM chats WHERE team_id = $1 AND prospect_id = $2")
                        .await?;
                for chat in &chats {
                    Self::apply_tally(tx, &chat.tally.campaign_id, chat.tally.tally().negated())
                        .await?;
                }
                sqlx::query("DELETE FROM prospects WHERE team_id = $1 AND id = $2")
                    .bind(team)
                    .bind(prospect_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(Ok(ProspectDeleted {
                    prospect_id: prospect_id.to_owned(),
                    prospect_name,
                    campaign: chats
                        .first()
                        .map(|c| (c.tally.campaign_id.clone(), c.campaign_name.clone())),
                    chats: deleted_chats,
                    messages,
                    tasks,
                    webhook_events,
                }))
            }

            /// The counters of a campaign of `team`, inside the caller's transaction.
            async fn campaign_counters_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                campaign_id: &str,
            ) -> StoreResult<Option<CountersAfter>> {
                Ok(sqlx::query_as::<_, CountersAfter>(
                    "SELECT id AS campaign_id, prospects_count, messages_count, qualified_count \
                     FROM campaigns WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(campaign_id)
                .fetch_optional(&mut **tx)
                .await?)
            }
        }

        #[async_trait::async_trait]
        impl ChatStore for $store {
            async fn append_message(
                &self,
                team: &str,
                chat_id: &str,
                role: Role,
                content: &str,
                at: Millis,
            ) -> StoreResult<String> {
                let mut tx = self.begin_write().await?;
                let before = sqlx::query_as::<_, TallyRow>(concat!(
                    "SELECT ch.campaign_id, ch.status, ch.qualification, ch.has_responded, \
                     ch.messages_sent FROM chats ch WHERE ch.team_id = $1 AND ch.id = $2",
                    $lock_chats
                ))
                .bind(team)
                .bind(chat_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(crate::StoreError::NotFound)?;
                let mut after = before.clone();
                after.status = status_after_message(before.status, role);
                match role {
                    Role::Assistant => after.messages_sent += 1,
                    Role::User => after.has_responded = true,
                }
                let id = new_id();
                sqlx::query(
                    "INSERT INTO messages (id, team_id, chat_id, campaign_id, role, content, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(team)
                .bind(chat_id)
                .bind(&before.campaign_id)
                .bind(role.as_str())
                .bind(content)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let responded_at = (role == Role::User).then_some(at);
                sqlx::query(
                    "UPDATE chats SET status = $3, messages_sent = $4, has_responded = $5, \
                     last_message_at = $6, last_response_at = COALESCE($7, last_response_at), \
                     updated_at = $6 WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(chat_id)
                .bind(after.status)
                .bind(after.messages_sent)
                .bind(after.has_responded)
                .bind(at)
                .bind(responded_at)
                .execute(&mut *tx)
                .await?;
                Self::apply_tally(&mut tx, &before.campaign_id, after.tally().minus(before.tally())).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn add_to_campaign(
                &self,
                team: &str,
                campaign_id: &str,
                person: NewConversation,
                now: Millis,
            ) -> StoreResult<Added> {
                let mut tx = self.begin_write().await?;
                let owned: Option<String> =
                    sqlx::query_scalar("SELECT id FROM campaigns WHERE team_id = $1 AND id = $2")
                        .bind(team)
                        .bind(campaign_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if owned.is_none() {
                    return Err(crate::StoreError::NotFound);
                }
                let added = Self::add_to_campaign_in(&mut tx, team, campaign_id, &person, now).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn set_prospect_profile(
                &self,
                team: &str,
                prospect_id: &str,
                profile: &ProspectProfile,
                now: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let name: String =
                    sqlx::query_scalar("SELECT name FROM prospects WHERE team_id = $1 AND id = $2")
                        .bind(team)
                        .bind(prospect_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                let text = search_text(
                    &name,
                    profile.headline.as_deref(),
                    profile.current_company_name.as_deref(),
                );
                sqlx::query(
                    "UPDATE prospects SET headline = $3, about = $4, city = $5, country = $6, \
                     email = $7, current_company_name = $8, current_job_title = $9, \
                     current_company_website = $10, current_company_linkedin_url = $11, \
                     search_text = $12, updated_at = $13, provider_id = COALESCE($14, provider_id) \
                     WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(prospect_id)
                .bind(&profile.headline)
                .bind(&profile.about)
                .bind(&profile.city)
                .bind(&profile.country)
                .bind(&profile.email)
                .bind(&profile.current_company_name)
                .bind(&profile.current_job_title)
                .bind(&profile.current_company_website)
                .bind(&profile.current_company_linkedin_url)
                .bind(text)
                .bind(now)
                .bind(&profile.provider_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_campaign_chats(
                &self,
                team: &str,
                campaign_id: &str,
                filter: &ChatFilter,
                page: &ChatPage,
                limit: i64,
            ) -> StoreResult<Vec<ChatSummary>> {
                let owner: String = sqlx::query_scalar(concat!(
                    "SELECT c.team_id FROM campaigns c WHERE c.id = $2 AND ",
                    readable_campaign!()
                ))
                .bind(team)
                .bind(campaign_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                // The page's ids first, from the campaign's indexes alone (no row is read for
                // the conversations an `offset` skips), then their columns.
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(concat!(
                    "SELECT ",
                    summary_columns!(),
                    " FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
                     JOIN prospects p ON p.id = ch.prospect_id WHERE c.team_id = "
                ));
                // Scoped through the campaign's owner (not `ch.team_id`, which would offer the
                // planners the team-wide indexes instead of the campaign's).
                query
                    .push_bind(owner)
                    .push(" AND ch.id IN (SELECT id FROM chats WHERE campaign_id = ")
                    .push_bind(campaign_id);
                if let Some(code) = filter.status {
                    query.push(" AND status = ").push_bind(code);
                }
                // Literal conditions, so that the partial indexes of 0009 apply.
                match filter.paused {
                    Some(true) => query.push(" AND paused"),
                    Some(false) => query.push(" AND NOT paused"),
                    None => &mut query,
                };
                match filter.has_responded {
                    Some(true) => query.push(" AND has_responded"),
                    Some(false) => query.push(" AND NOT has_responded"),
                    None => &mut query,
                };
                if let ChatPage::After(cursor) = page {
                    query
                        .push(" AND created_at <= ")
                        .push_bind(cursor.created_at)
                        .push(" AND (created_at, id) < (")
                        .push_bind(cursor.created_at)
                        .push(", ")
                        .push_bind(cursor.id.clone())
                        .push(")");
                }
                query.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit);
                if let ChatPage::Offset(offset) = page {
                    query.push(" OFFSET ").push_bind(*offset);
                }
                query.push(") ORDER BY ch.created_at DESC, ch.id DESC");
                query
                    .build_query_as::<SummaryRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(ChatSummary::try_from)
                    .collect()
            }

            async fn get_chat(&self, team: &str, chat_id: &str) -> StoreResult<ChatDetails> {
                let row = sqlx::query_as::<_, DetailsRow>(concat!(
                    "SELECT ",
                    summary_columns!(),
                    ", c.team_id AS owner_team, ch.custom_data, c.id AS campaign_id, \
                     c.name AS campaign_name, p.city, p.country, p.about, ch.score, \
                     ch.score_reason \
                     FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
                     JOIN prospects p ON p.id = ch.prospect_id WHERE ch.id = $2 AND ",
                    readable_campaign!()
                ))
                .bind(team)
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                let messages = sqlx::query_as::<_, MessageRow>(
                    "SELECT role, author, content, created_at, model, prompt_id FROM messages \
                     WHERE team_id = $1 AND chat_id = $2 ORDER BY created_at, id",
                )
                .bind(&row.owner_team)
                .bind(chat_id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(ChatMessage::try_from)
                .collect::<StoreResult<Vec<_>>>()?;
                Ok(ChatDetails {
                    summary: ChatSummary::try_from(row.summary)?,
                    custom_data: row.custom_data,
                    campaign_id: row.campaign_id,
                    campaign_name: row.campaign_name,
                    city: row.city,
                    country: row.country,
                    about: row.about,
                    score: row.score,
                    score_reason: row.score_reason,
                    messages,
                })
            }

            async fn set_chat_custom_data(
                &self,
                team: &str,
                chat_id: &str,
                custom_data: &str,
                now: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE chats SET custom_data = $3, updated_at = $4 \
                     WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(chat_id)
                .bind(custom_data)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_chat_paused(
                &self,
                team: &str,
                chat_id: &str,
                paused: bool,
                now: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE chats SET paused = $3, updated_at = $4, \
                     resumed_at = CASE WHEN $3 THEN resumed_at ELSE $4 END \
                     WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(chat_id)
                .bind(paused)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                if paused {
                    // A paused conversation sends nothing: its draft is moot, and written
                    // again after the resume.
                    Self::supersede_draft_in(&mut tx, chat_id, true, now).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn queue_person_message(
                &self,
                team: &str,
                chat_id: &str,
                text: &str,
                now: Millis,
            ) -> StoreResult<String> {
                #[derive(sqlx::FromRow)]
                struct TakenOver {
                    campaign_id: String,
                    agent_id: String,
                    on_dnc: bool,
                }
                let mut tx = self.begin_write().await?;
                let chat = sqlx::query_as::<_, TakenOver>(concat!(
                    "SELECT ch.campaign_id, c.agent_id, EXISTS (SELECT 1 FROM dnc_entries d \
                     WHERE d.team_id = ch.team_id AND d.url = p.url) AS on_dnc FROM chats ch \
                     JOIN campaigns c ON c.id = ch.campaign_id \
                     JOIN prospects p ON p.id = ch.prospect_id \
                     WHERE ch.team_id = $1 AND ch.id = $2",
                    $lock_chats
                ))
                .bind(team)
                .bind(chat_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                if chat.on_dnc {
                    return Err(StoreError::ProspectOnDnc);
                }
                Self::supersede_draft_in(&mut tx, chat_id, false, now).await?;
                sqlx::query(
                    "UPDATE chats SET paused = TRUE, next_message_at = NULL, \
                     next_message_kind = NULL, updated_at = $2 WHERE id = $1",
                )
                .bind(chat_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let id = new_id();
                let payload = json!({ "id": id, "text": text }).to_string();
                sqlx::query(
                    "INSERT INTO tasks (id, team_id, agent_id, campaign_id, chat_id, kind, status, \
                     due_at, attempts, payload, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 0, $8, $7, $7)",
                )
                .bind(crate::engine::task_id(&id, crate::engine::kind::MANUAL_MESSAGE))
                .bind(team)
                .bind(&chat.agent_id)
                .bind(&chat.campaign_id)
                .bind(chat_id)
                .bind(crate::engine::kind::MANUAL_MESSAGE)
                .bind(now)
                .bind(payload)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn judge_chat(
                &self,
                team: &str,
                chat_id: &str,
                verdict: Verdict,
                now: Millis,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let before = sqlx::query_as::<_, JudgedRow>(concat!(
                    "SELECT ch.campaign_id, ch.status, ch.qualification, ch.has_responded, \
                     ch.messages_sent, ch.prospect_id, c.agent_id FROM chats ch \
                     JOIN campaigns c ON c.id = ch.campaign_id \
                     WHERE ch.team_id = $1 AND ch.id = $2",
                    $lock_chats
                ))
                .bind(team)
                .bind(chat_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let qualification = verdict.qualification();
                if before.tally.status == verdict.status()
                    && before.tally.qualification == qualification.as_str()
                {
                    return Ok(false);
                }
                let mut after = before.tally.clone();
                after.status = verdict.status();
                after.qualification = qualification.as_str().to_owned();
                let qualified_at = (verdict == Verdict::Qualified).then_some(now);
                sqlx::query(
                    "UPDATE chats SET status = $3, qualification = $4, qualified_at = $5, \
                     updated_at = $6 WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(chat_id)
                .bind(after.status)
                .bind(&after.qualification)
                .bind(qualified_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let campaign_id = &before.tally.campaign_id;
                Self::apply_tally(&mut tx, campaign_id, after.tally().minus(before.tally.tally()))
                    .await?;
                let data = json!({
                    "agentId": before.agent_id,
                    "campaignId": campaign_id,
                    "chatId": chat_id,
                    "prospectId": before.prospect_id,
                    "qualification": qualification.as_str(),
                    "qualifiedBy": QUALIFIED_BY_HAND,
                    "timestamp": iso8601(now),
                });
                Self::insert_event(
                    &mut tx,
                    team,
                    verdict.event().as_str(),
                    &data,
                    Some(campaign_id),
                    Some(chat_id),
                )
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_prospect(
                &self,
                team: &str,
                prospect_id: &str,
            ) -> StoreResult<ProspectDeletion> {
                let mut tx = self.begin_write().await?;
                let deleted = match Self::delete_prospect_in(&mut tx, team, prospect_id, None).await? {
                    Ok(deleted) => deleted,
                    Err(DeleteRefusal::Active) => return Err(StoreError::ProspectActive),
                    Err(DeleteRefusal::NotFound | DeleteRefusal::CampaignMismatch) => {
                        return Err(StoreError::NotFound);
                    }
                };
                let counters = match &deleted.campaign {
                    Some((campaign_id, _)) => {
                        Self::campaign_counters_in(&mut tx, team, campaign_id).await?
                    }
                    None => None,
                };
                tx.commit().await?;
                Ok(ProspectDeletion { deleted, counters })
            }

            async fn delete_prospects(
                &self,
                team: &str,
                prospect_ids: &[String],
                campaign: Option<&str>,
            ) -> StoreResult<BulkDeletion> {
                let mut tx = self.begin_write().await?;
                if let Some(campaign_id) = campaign {
                    if Self::campaign_counters_in(&mut tx, team, campaign_id).await?.is_none() {
                        return Err(StoreError::NotFound);
                    }
                }
                let mut items = Vec::with_capacity(prospect_ids.len());
                for id in prospect_ids {
                    let outcome = Self::delete_prospect_in(&mut tx, team, id, campaign).await?;
                    items.push((id.clone(), outcome));
                }
                let reported = campaign.map(str::to_owned).or_else(|| {
                    items.iter().find_map(|(_, outcome)| {
                        outcome.as_ref().ok().and_then(|d| d.campaign.as_ref()).map(|(id, _)| id.clone())
                    })
                });
                let counters = match reported {
                    Some(campaign_id) => Self::campaign_counters_in(&mut tx, team, &campaign_id).await?,
                    None => None,
                };
                tx.commit().await?;
                Ok(BulkDeletion { items, counters })
            }
        }
    };
}

/// A row count as the API reports it.
fn count(rows: u64) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

impl_chat_store!(crate::sqlite::SqliteStore, "", "", "");
impl_chat_store!(
    crate::postgres::PgStore,
    " FOR UPDATE OF ch",
    " FOR UPDATE",
    " FOR SHARE"
);
