//! Webhooks, the event outbox and deliveries.
//!
//! - [`WebhookStore::record_event`] (and, in later resources, the same insert inside their own
//!   transactions) writes an event; nothing is delivered from inside a request.
//! - [`WebhookStore::fan_out_events`] turns each undispatched event into one delivery per active
//!   webhook of its team subscribed to it (or to `*`), with the exact body bytes, in one
//!   transaction.
//! - [`WebhookStore::claim_deliveries`] leases due deliveries (PostgreSQL: `SKIP LOCKED`); a
//!   delivery whose worker died is claimed again when its lease runs out, so delivery is
//!   at-least-once across restarts. [`WebhookStore::finish_delivery`] records the outcome and
//!   keeps the webhook's counters and its disabling rule.

use std::collections::HashMap;

use outbound_core::events::{delivery_body, is_subscribed};
use outbound_core::ids::new_id;
use outbound_core::time::{Millis, iso8601, now_millis};
use serde_json::Value;

use crate::{StoreError, StoreResult};

/// Delivery statuses.
pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub success_count: i64,
    pub failure_count: i64,
    pub last_success: Option<Millis>,
    pub last_failure: Option<Millis>,
    pub created_at: Millis,
}

/// A new webhook; the secret arrives sealed.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    pub secret_sealed: Option<String>,
    pub events: Vec<String>,
}

/// Changes to a webhook; `None` keeps the value. `secret_sealed: Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub secret_sealed: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: Option<String>,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub response_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// A leased delivery with what is needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub secret_sealed: Option<String>,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub created_at: Millis,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Succeeded { response_code: i64 },
    /// Failed; `retry_at` is the next attempt, or `None` when the schedule is exhausted.
    Failed {
        response_code: Option<i64>,
        error: String,
        retry_at: Option<Millis>,
    },
    /// 410 Gone: the receiver asks us to stop; the webhook is disabled at once.
    Gone,
}

#[async_trait::async_trait]
pub trait WebhookStore {
    /// The team's webhooks, newest first.
    async fn list_webhooks(&self, team: &str) -> StoreResult<Vec<Webhook>>;
    async fn get_webhook(&self, team: &str, id: &str) -> StoreResult<Webhook>;
    async fn create_webhook(&self, team: &str, new: NewWebhook) -> StoreResult<Webhook>;
    /// Applies `patch`; `active: true` also resets the failure tracking.
    async fn update_webhook(
        &self,
        team: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> StoreResult<Webhook>;
    async fn delete_webhook(&self, team: &str, id: &str) -> StoreResult<Webhook>;
    /// Writes an event to the outbox.
    async fn record_event(&self, team: &str, event_type: &str, data: &Value)
    -> StoreResult<String>;
    /// Queues a test delivery of `data` to every active webhook of the team subscribed to
    /// `event_type`, and returns those webhooks (empty: nothing queued).
    async fn queue_test_deliveries(
        &self,
        team: &str,
        event_type: &str,
        data: &Value,
    ) -> StoreResult<Vec<Webhook>>;
    /// Fans out up to `limit` undispatched events; returns how many events it handled.
    async fn fan_out_events(&self, limit: i64) -> StoreResult<usize>;
    /// Leases up to `limit` deliveries due at `now` until `lease_until`.
    async fn claim_deliveries(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Records an attempt; a webhook is disabled after `disable_after` consecutive events that
    /// exhausted their retries.
    async fn finish_delivery(
        &self,
        id: &str,
        outcome: AttemptOutcome,
        at: Millis,
        disable_after: i64,
    ) -> StoreResult<()>;
    /// A page of a webhook's deliveries, newest first.
    async fn list_deliveries(
        &self,
        team: &str,
        webhook: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<Delivery>>;
    /// Queues a finished delivery for another attempt now; a pending one is left as it is.
    async fn retry_delivery(
        &self,
        team: &str,
        webhook: &str,
        delivery: &str,
    ) -> StoreResult<Delivery>;
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: String,
    team_id: String,
    name: String,
    url: String,
    events: String,
    active: bool,
    success_count: i64,
    failure_count: i64,
    last_success: Option<i64>,
    last_failure: Option<i64>,
    created_at: i64,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;

    fn try_from(row: WebhookRow) -> StoreResult<Webhook> {
        Ok(Webhook {
            events: serde_json::from_str(&row.events)
                .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
            id: row.id,
            team_id: row.team_id,
            name: row.name,
            url: row.url,
            active: row.active,
            success_count: row.success_count,
            failure_count: row.failure_count,
            last_success: row.last_success,
            last_failure: row.last_failure,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    team_id: String,
    event_type: String,
    data: String,
    occurred_at: i64,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: String,
    webhook_id: String,
    body: String,
    attempts: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    url: String,
    secret_sealed: Option<String>,
}

macro_rules! select_webhooks {
    () => {
        "SELECT id, team_id, name, url, events, active, success_count, failure_count, \
         last_success, last_failure, created_at FROM webhooks"
    };
}

macro_rules! select_deliveries {
    () => {
        "SELECT id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, \
         last_attempt_at, response_code, last_error, created_at FROM webhook_deliveries"
    };
}

const SELECT_WEBHOOK: &str = concat!(select_webhooks!(), " WHERE team_id = $1 AND id = $2");
const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, team_id, webhook_id, event_id, \
     event_type, body, status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)";

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

fn rows_to_webhooks(rows: Vec<WebhookRow>) -> StoreResult<Vec<Webhook>> {
    rows.into_iter().map(Webhook::try_from).collect()
}

/// `impl_webhook_store!(Store, "<locking suffix for events>", "<locking suffix for deliveries>")`:
/// PostgreSQL skips rows other workers hold; SQLite's single writer needs nothing.
macro_rules! impl_webhook_store {
    ($store:ty, $lock_events:literal, $lock_deliveries:literal) => {
        impl $store {
            /// Writes an event to the outbox inside the caller's transaction.
            pub(crate) async fn insert_event(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                event_type: &str,
                data: &Value,
                campaign_id: Option<&str>,
                chat_id: Option<&str>,
            ) -> StoreResult<String> {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO events (id, team_id, event_type, data, occurred_at, campaign_id, \
                     chat_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(team)
                .bind(event_type)
                .bind(data.to_string())
                .bind(now_millis())
                .bind(campaign_id)
                .bind(chat_id)
                .execute(&mut **tx)
                .await?;
                Ok(id)
            }

            async fn webhook_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Webhook> {
                sqlx::query_as::<_, WebhookRow>(SELECT_WEBHOOK)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn active_webhooks_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
            ) -> StoreResult<Vec<Webhook>> {
                rows_to_webhooks(
                    sqlx::query_as::<_, WebhookRow>(concat!(
                        select_webhooks!(),
                        " WHERE team_id = $1 AND active ORDER BY created_at, id"
                    ))
                    .bind(team)
                    .fetch_all(&mut **tx)
                    .await?,
                )
            }

            async fn insert_delivery(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                webhook: &Webhook,
                event_id: Option<&str>,
                event_type: &str,
                body: &str,
                now: Millis,
            ) -> StoreResult<()> {
                sqlx::query(INSERT_DELIVERY)
                    .bind(new_id())
                    .bind(&webhook.team_id)
                    .bind(&webhook.id)
                    .bind(event_id)
                    .bind(event_type)
                    .bind(body)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl WebhookStore for $store {
            async fn list_webhooks(&self, team: &str) -> StoreResult<Vec<Webhook>> {
                rows_to_webhooks(
                    sqlx::query_as::<_, WebhookRow>(concat!(
                        select_webhooks!(),
                        " WHERE team_id = $1 ORDER BY created_at DESC, id DESC"
                    ))
                    .bind(team)
                    .fetch_all(&self.pool)
                    .await?,
                )
            }

            async fn get_webhook(&self, team: &str, id: &str) -> StoreResult<Webhook> {
                sqlx::query_as::<_, WebhookRow>(SELECT_WEBHOOK)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn create_webhook(&self, team: &str, new: NewWebhook) -> StoreResult<Webhook> {
                let mut tx = self.begin_write().await?;
                let id = new_id();
                let now = now_millis();
                sqlx::query(
                    "INSERT INTO webhooks (id, team_id, name, url, secret_sealed, events, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                )
                .bind(&id)
                .bind(team)
                .bind(&new.name)
                .bind(&new.url)
                .bind(&new.secret_sealed)
                .bind(events_json(&new.events))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let webhook = Self::webhook_in(&mut tx, team, &id).await?;
                tx.commit().await?;
                Ok(webhook)
            }

            async fn update_webhook(
                &self,
                team: &str,
                id: &str,
                patch: WebhookPatch,
            ) -> StoreResult<Webhook> {
                let mut tx = self.begin_write().await?;
                let current = Self::webhook_in(&mut tx, team, id).await?;
                let reenabled = patch.active == Some(true);
                sqlx::query(
                    "UPDATE webhooks SET name = $3, url = $4, events = $5, active = $6, \
                     updated_at = $7 WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(id)
                .bind(patch.name.as_ref().unwrap_or(&current.name))
                .bind(patch.url.as_ref().unwrap_or(&current.url))
                .bind(events_json(patch.events.as_ref().unwrap_or(&current.events)))
                .bind(patch.active.unwrap_or(current.active))
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                if let Some(secret) = &patch.secret_sealed {
                    sqlx::query("UPDATE webhooks SET secret_sealed = $3 WHERE team_id = $1 AND id = $2")
                        .bind(team)
                        .bind(id)
                        .bind(secret)
                        .execute(&mut *tx)
                        .await?;
                }
                if reenabled {
                    sqlx::query(
                        "UPDATE webhooks SET failure_count = 0, exhausted_streak = 0, \
                         last_failure = NULL WHERE team_id = $1 AND id = $2",
                    )
                    .bind(team)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                let webhook = Self::webhook_in(&mut tx, team, id).await?;
                tx.commit().await?;
                Ok(webhook)
            }

            async fn delete_webhook(&self, team: &str, id: &str) -> StoreResult<Webhook> {
                let mut tx = self.begin_write().await?;
                let webhook = Self::webhook_in(&mut tx, team, id).await?;
                sqlx::query("DELETE FROM webhook_deliveries WHERE team_id = $1 AND webhook_id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM webhooks WHERE team_id = $1 AND id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(webhook)
            }

            async fn record_event(
                &self,
                team: &str,
                event_type: &str,
                data: &Value,
            ) -> StoreResult<String> {
                let mut tx = self.begin_write().await?;
                let id = Self::insert_event(&mut tx, team, event_type, data, None, None).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn queue_test_deliveries(
                &self,
                team: &str,
                event_type: &str,
                data: &Value,
            ) -> StoreResult<Vec<Webhook>> {
                let mut tx = self.begin_write().await?;
                let now = now_millis();
                let body = delivery_body(event_type, team, &iso8601(now), data);
                let targets: Vec<Webhook> = Self::active_webhooks_in(&mut tx, team)
                    .await?
                    .into_iter()
                    .filter(|w| is_subscribed(&w.events, event_type))
                    .collect();
                for webhook in &targets {
                    Self::insert_delivery(&mut tx, webhook, None, event_type, &body, now).await?;
                }
                tx.commit().await?;
                Ok(targets)
            }

            async fn fan_out_events(&self, limit: i64) -> StoreResult<usize> {
                let mut tx = self.begin_write().await?;
                let events = sqlx::query_as::<_, EventRow>(concat!(
                    "SELECT id, team_id, event_type, data, occurred_at FROM events \
                     WHERE dispatched_at IS NULL ORDER BY id LIMIT $1",
                    $lock_events
                ))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                let now = now_millis();
                let mut webhooks_of_team: Option<(String, Vec<Webhook>)> = None;
                for event in &events {
                    if webhooks_of_team.as_ref().is_none_or(|(team, _)| *team != event.team_id) {
                        let webhooks = Self::active_webhooks_in(&mut tx, &event.team_id).await?;
                        webhooks_of_team = Some((event.team_id.clone(), webhooks));
                    }
                    let webhooks = webhooks_of_team.as_ref().map(|(_, w)| w.as_slice()).unwrap_or_default();
                    let data: Value = serde_json::from_str(&event.data)
                        .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?;
                    let body = delivery_body(
                        &event.event_type,
                        &event.team_id,
                        &iso8601(event.occurred_at),
                        &data,
                    );
                    for webhook in webhooks.iter().filter(|w| is_subscribed(&w.events, &event.event_type)) {
                        Self::insert_delivery(&mut tx, webhook, Some(&event.id), &event.event_type, &body, now)
                            .await?;
                    }
                    sqlx::query("UPDATE events SET dispatched_at = $2 WHERE id = $1")
                        .bind(&event.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(events.len())
            }

            async fn claim_deliveries(
                &self,
                now: Millis,
                lease_until: Millis,
                limit: i64,
            ) -> StoreResult<Vec<ClaimedDelivery>> {
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query_as::<_, ClaimRow>(concat!(
                    "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id IN (\
                     SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                     WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.active \
                     ORDER BY d.next_attempt_at LIMIT $3",
                    $lock_deliveries,
                    ") RETURNING id, webhook_id, body, attempts, created_at"
                ))
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                let mut claimed = Vec::with_capacity(rows.len());
                // A team has few webhooks: each target is read once per claim.
                let mut targets: HashMap<String, TargetRow> = HashMap::new();
                for row in rows {
                    if !targets.contains_key(&row.webhook_id) {
                        let target = sqlx::query_as::<_, TargetRow>(
                            "SELECT url, secret_sealed FROM webhooks WHERE id = $1",
                        )
                        .bind(&row.webhook_id)
                        .fetch_one(&mut *tx)
                        .await?;
                        targets.insert(row.webhook_id.clone(), target);
                    }
                    let target = &targets[&row.webhook_id];
                    claimed.push(ClaimedDelivery {
                        id: row.id,
                        url: target.url.clone(),
                        secret_sealed: target.secret_sealed.clone(),
                        webhook_id: row.webhook_id,
                        body: row.body,
                        attempts: row.attempts,
                        created_at: row.created_at,
                    });
                }
                tx.commit().await?;
                Ok(claimed)
            }

            async fn finish_delivery(
                &self,
                id: &str,
                outcome: AttemptOutcome,
                at: Millis,
                disable_after: i64,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let webhook_id: Option<String> = sqlx::query_scalar(
                    "SELECT webhook_id FROM webhook_deliveries WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(webhook_id) = webhook_id else {
                    return Ok(());
                };
                let (status, code, error, next) = match &outcome {
                    AttemptOutcome::Succeeded { response_code } => {
                        (SUCCEEDED, Some(*response_code), None, None)
                    }
                    AttemptOutcome::Failed { response_code, error, retry_at } => (
                        if retry_at.is_some() { PENDING } else { FAILED },
                        *response_code,
                        Some(error.clone()),
                        *retry_at,
                    ),
                    AttemptOutcome::Gone => (FAILED, Some(410), Some("410 Gone: webhook disabled".to_owned()), None),
                };
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, \
                     last_attempt_at = $3, response_code = $4, last_error = $5, next_attempt_at = $6 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(status)
                .bind(at)
                .bind(code)
                .bind(error)
                .bind(next)
                .execute(&mut *tx)
                .await?;
                let exhausted = matches!(outcome, AttemptOutcome::Failed { retry_at: None, .. });
                let webhook_update = match outcome {
                    AttemptOutcome::Succeeded { .. } => {
                        "UPDATE webhooks SET success_count = success_count + 1, last_success = $2, \
                         exhausted_streak = 0 WHERE id = $1"
                    }
                    AttemptOutcome::Failed { retry_at: Some(_), .. } => {
                        "UPDATE webhooks SET failure_count = failure_count + 1, last_failure = $2 \
                         WHERE id = $1"
                    }
                    AttemptOutcome::Failed { retry_at: None, .. } => {
                        "UPDATE webhooks SET failure_count = failure_count + 1, last_failure = $2, \
                         exhausted_streak = exhausted_streak + 1, \
                         active = (active AND exhausted_streak + 1 < $3) WHERE id = $1"
                    }
                    AttemptOutcome::Gone => {
                        "UPDATE webhooks SET failure_count = failure_count + 1, last_failure = $2, \
                         active = FALSE WHERE id = $1"
                    }
                };
                let mut query = sqlx::query(webhook_update).bind(&webhook_id).bind(at);
                if exhausted {
                    query = query.bind(disable_after);
                }
                query.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_deliveries(
                &self,
                team: &str,
                webhook: &str,
                limit: i64,
                offset: i64,
            ) -> StoreResult<Vec<Delivery>> {
                Ok(sqlx::query_as::<_, Delivery>(concat!(
                    select_deliveries!(),
                    " WHERE team_id = $1 AND webhook_id = $2 ORDER BY created_at DESC, id DESC \
                     LIMIT $3 OFFSET $4"
                ))
                .bind(team)
                .bind(webhook)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn retry_delivery(
                &self,
                team: &str,
                webhook: &str,
                delivery: &str,
            ) -> StoreResult<Delivery> {
                let mut tx = self.begin_write().await?;
                // A pending delivery is already queued (and may be in flight): leave it alone,
                // so that a retry request can never cause a second concurrent send.
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4 \
                     WHERE team_id = $1 AND webhook_id = $2 AND id = $3 AND status <> 'pending'",
                )
                .bind(team)
                .bind(webhook)
                .bind(delivery)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                let row = sqlx::query_as::<_, Delivery>(concat!(
                    select_deliveries!(),
                    " WHERE team_id = $1 AND webhook_id = $2 AND id = $3"
                ))
                .bind(team)
                .bind(webhook)
                .bind(delivery)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                tx.commit().await?;
                Ok(row)
            }
        }
    };
}

impl_webhook_store!(crate::sqlite::SqliteStore, "", "");
impl_webhook_store!(
    crate::postgres::PgStore,
    " FOR UPDATE SKIP LOCKED",
    " FOR UPDATE OF d SKIP LOCKED"
);
