//! The team-wide inbox: every conversation of a team, newest activity first (`activity_at`, the
//! newest of the last message either way and the creation, computed by the database: migration
//! 0019), with the dashboard's filters.
//!
//! Rule: a page costs in proportion to its length, not to the team. Each filter walks an index
//! in list order (0019): the team's, the campaign's, the qualification's, or the partial ones of
//! the rare sides (paused, awaiting a reply), whose conditions the query writes literally so
//! that the planners can use them; the remaining filters are checked on the rows walked.
//! Pages follow a keyset cursor `(activity_at, id)`, so the thousandth page costs what the
//! first does. Only the team's own conversations are listed (an agency client's view of its
//! workspace agents goes through search, whose scope spans teams).

use outbound_core::conversation::Qualification;
use outbound_core::time::Millis;

use crate::StoreResult;
use crate::chats::{ChatSummary, SummaryRow};

/// Filters of the inbox; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxFilter {
    pub campaign_id: Option<String>,
    pub agent_id: Option<String>,
    pub status: Option<i64>,
    pub qualification: Option<Qualification>,
    /// Only conversations where the prospect has the last word.
    pub awaiting_reply: bool,
    /// Only conversations a person has taken over (paused).
    pub paused: bool,
}

/// A position in the inbox: the `(activity_at, id)` of the last row already seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxCursor {
    pub activity_at: Millis,
    pub id: String,
}

/// One conversation of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub chat: ChatSummary,
    pub campaign_id: String,
    pub campaign_name: String,
    pub activity_at: Millis,
    pub awaiting_reply: bool,
    /// The newest message, if any (its text, shortened by the caller).
    pub last_message: Option<String>,
}

impl InboxItem {
    /// The cursor of the page after this row.
    pub fn cursor(&self) -> InboxCursor {
        InboxCursor {
            activity_at: self.activity_at,
            id: self.chat.id.clone(),
        }
    }
}

#[async_trait::async_trait]
pub trait InboxStore {
    /// Up to `limit` conversations of `team` matching `filter`, newest activity first, after
    /// `after` when given.
    async fn inbox(
        &self,
        team: &str,
        filter: &InboxFilter,
        after: Option<&InboxCursor>,
        limit: i64,
    ) -> StoreResult<Vec<InboxItem>>;
}

#[derive(Debug, sqlx::FromRow)]
struct InboxRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    campaign_id: String,
    campaign_name: String,
    activity_at: Millis,
    awaiting_reply: bool,
    last_message: Option<String>,
}

impl TryFrom<InboxRow> for InboxItem {
    type Error = crate::StoreError;

    fn try_from(row: InboxRow) -> StoreResult<InboxItem> {
        Ok(InboxItem {
            chat: ChatSummary::try_from(row.summary)?,
            campaign_id: row.campaign_id,
            campaign_name: row.campaign_name,
            activity_at: row.activity_at,
            awaiting_reply: row.awaiting_reply,
            last_message: row.last_message,
        })
    }
}

/// The columns of a page's rows (`ch` the chat, `p` its prospect, `c` its campaign) beyond
/// the conversation summary's.
const ITEM_COLUMNS: &str = ", c.id AS campaign_id, c.name AS campaign_name, ch.activity_at, \
     ch.awaiting_reply, (SELECT m.content FROM messages m WHERE m.chat_id = ch.id \
     ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_message";

/// Writes the page's id query: the filters, the cursor and the order, on `chats` alone.
fn push_page_ids<Db: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<Db>,
    team: &str,
    filter: &InboxFilter,
    after: Option<&InboxCursor>,
    limit: i64,
) where
    i64: for<'t> sqlx::Encode<'t, Db> + sqlx::Type<Db>,
    String: for<'t> sqlx::Encode<'t, Db> + sqlx::Type<Db>,
{
    query
        .push("SELECT id FROM chats WHERE team_id = ")
        .push_bind(team.to_owned());
    if let Some(campaign) = &filter.campaign_id {
        query
            .push(" AND campaign_id = ")
            .push_bind(campaign.clone());
    }
    if let Some(agent) = &filter.agent_id {
        query
            .push(" AND campaign_id IN (SELECT id FROM campaigns WHERE team_id = ")
            .push_bind(team.to_owned())
            .push(" AND agent_id = ")
            .push_bind(agent.clone())
            .push(")");
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status);
    }
    if let Some(qualification) = filter.qualification {
        query
            .push(" AND qualification = ")
            .push_bind(qualification.as_str().to_owned());
    }
    // Literal conditions, so that the partial indexes of 0019 apply.
    if filter.awaiting_reply {
        query.push(" AND awaiting_reply");
    }
    if filter.paused {
        query.push(" AND paused");
    }
    if let Some(cursor) = after {
        query
            .push(" AND activity_at <= ")
            .push_bind(cursor.activity_at)
            .push(" AND (activity_at < ")
            .push_bind(cursor.activity_at)
            .push(" OR id < ")
            .push_bind(cursor.id.clone())
            .push(")");
    }
    query
        .push(" ORDER BY activity_at DESC, id DESC LIMIT ")
        .push_bind(limit);
}

macro_rules! impl_inbox_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl InboxStore for $store {
            async fn inbox(
                &self,
                team: &str,
                filter: &InboxFilter,
                after: Option<&InboxCursor>,
                limit: i64,
            ) -> StoreResult<Vec<InboxItem>> {
                // The page's ids first, from the indexes alone, then their columns.
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(concat!(
                    "SELECT ",
                    crate::chats::summary_columns!()
                ));
                query.push(ITEM_COLUMNS).push(
                    " FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
                         JOIN prospects p ON p.id = ch.prospect_id WHERE ch.id IN (",
                );
                push_page_ids(&mut query, team, filter, after, limit);
                query.push(") ORDER BY ch.activity_at DESC, ch.id DESC");
                query
                    .build_query_as::<InboxRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(InboxItem::try_from)
                    .collect()
            }
        }
    };
}

impl_inbox_store!(crate::sqlite::SqliteStore);
impl_inbox_store!(crate::postgres::PgStore);
