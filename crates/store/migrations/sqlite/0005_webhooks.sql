-- Webhooks, the event outbox and webhook deliveries.
-- Events are written in the transaction that caused them; a dispatcher fans each one out into
-- one delivery per subscribed webhook; deliveries keep the exact body bytes so every retry
-- sends the same thing.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_sealed TEXT,
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    success_count BIGINT NOT NULL DEFAULT 0,
    failure_count BIGINT NOT NULL DEFAULT 0,
    last_success BIGINT,
    last_failure BIGINT,
    exhausted_streak BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX webhooks_by_team ON webhooks (team_id, created_at DESC, id DESC);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    data TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    campaign_id TEXT,
    chat_id TEXT,
    dispatched_at BIGINT
);

CREATE INDEX events_to_dispatch ON events (id) WHERE dispatched_at IS NULL;
CREATE INDEX events_by_campaign ON events (campaign_id);
CREATE INDEX events_by_chat ON events (chat_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    response_code BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
