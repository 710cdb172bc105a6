//! What a LinkedIn provider tells us between two checks (Unipile webhooks): which agent owns a
//! connected account, and "look at this person now".
//!
//! Rules:
//! - a provider event is a hint, never the truth: it only makes the conversation's `check`
//!   task due now, and the engine then reads LinkedIn through its connector as it always does
//!   (so a forged or replayed event can make us look, never make us record anything);
//! - a person is found by canonical profile URL or by LinkedIn's member id (stored with the
//!   profile the engine reads after an acceptance), only among the prospects of the agent's
//!   team and the campaigns of that agent;
//! - only conversations waiting on LinkedIn are woken (invitation sent, contacted, replied);
//!   a check that gave up (`done`) or failed is started again, a `running` one is left to its
//!   process, and a `cancelled` one (DNC, deletion, a manual verdict) stays cancelled;
//! - everything happens in one transaction.

use outbound_core::conversation::status;
use outbound_core::time::Millis;

use crate::StoreResult;
use crate::engine::{kind, task_id, task_status};

/// An agent connected to a provider account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountAgent {
    pub team_id: String,
    pub agent_id: String,
}

/// Who a provider event is about: a canonical profile URL and/or LinkedIn's member id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonRef<'a> {
    pub url: Option<&'a str>,
    pub provider_id: Option<&'a str>,
}

/// The conversation statuses whose next step comes from LinkedIn.
const WAITING_ON_LINKEDIN: [i64; 3] = [status::INVITATION_SENT, status::CONTACTED, status::REPLIED];

#[async_trait::async_trait]
pub trait IngressStore {
    /// The agents whose `provider_account_id` is `account_id` (one, unless a LinkedIn account
    /// was connected twice).
    async fn agents_of_account(&self, account_id: &str) -> StoreResult<Vec<AccountAgent>>;

    /// Makes the `check` of every conversation of `agent` with `person` due at `now`; returns
    /// how many were woken (0 when `person` names nobody).
    async fn wake_checks(
        &self,
        agent: &AccountAgent,
        person: PersonRef<'_>,
        now: Millis,
    ) -> StoreResult<u64>;
}

#[derive(sqlx::FromRow)]
struct WaitingChat {
    id: String,
    campaign_id: String,
}

macro_rules! impl_ingress_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl IngressStore for $store {
            async fn agents_of_account(&self, account_id: &str) -> StoreResult<Vec<AccountAgent>> {
                Ok(sqlx::query_as::<_, AccountAgent>(
                    "SELECT team_id, id AS agent_id FROM agents WHERE provider_account_id = $1 \
                     ORDER BY id",
                )
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn wake_checks(
                &self,
                agent: &AccountAgent,
                person: PersonRef<'_>,
                now: Millis,
            ) -> StoreResult<u64> {
                if person.url.is_none() && person.provider_id.is_none() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                    "SELECT ch.id, ch.campaign_id FROM chats ch \
                     JOIN prospects p ON p.id = ch.prospect_id \
                     JOIN campaigns c ON c.id = ch.campaign_id WHERE p.team_id = ",
                );
                query.push_bind(&agent.team_id).push(" AND (");
                let mut person_is = query.separated(" OR ");
                if let Some(url) = person.url {
                    person_is.push("p.url = ").push_bind_unseparated(url);
                }
                if let Some(provider_id) = person.provider_id {
                    person_is
                        .push("p.provider_id = ")
                        .push_bind_unseparated(provider_id);
                }
                query
                    .push(") AND c.agent_id = ")
                    .push_bind(&agent.agent_id)
                    .push(" AND ch.status IN (");
                let mut statuses = query.separated(", ");
                for code in WAITING_ON_LINKEDIN {
                    statuses.push_bind(code);
                }
                statuses.push_unseparated(")");
                let chats: Vec<WaitingChat> = query.build_query_as().fetch_all(&mut *tx).await?;
                let mut woken = 0;
                for chat in &chats {
                    woken += sqlx::query(
                        "INSERT INTO tasks (id, team_id, agent_id, campaign_id, chat_id, kind, \
                         status, due_at, attempts, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $8, $8) \
                         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                         due_at = CASE WHEN tasks.status = $7 AND tasks.due_at < excluded.due_at \
                         THEN tasks.due_at ELSE excluded.due_at END, \
                         attempts = CASE WHEN tasks.status = $7 THEN tasks.attempts ELSE 0 END, \
                         last_error = NULL, updated_at = excluded.updated_at \
                         WHERE tasks.status IN ($7, $9, $10)",
                    )
                    .bind(task_id(&chat.id, kind::CHECK))
                    .bind(&agent.team_id)
                    .bind(&agent.agent_id)
                    .bind(&chat.campaign_id)
                    .bind(&chat.id)
                    .bind(kind::CHECK)
                    .bind(task_status::PENDING)
                    .bind(now)
                    .bind(task_status::DONE)
                    .bind(task_status::FAILED)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                Ok(woken)
            }
        }
    };
}

impl_ingress_store!(crate::sqlite::SqliteStore);
impl_ingress_store!(crate::postgres::PgStore);
