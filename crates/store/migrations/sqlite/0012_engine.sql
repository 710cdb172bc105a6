-- The outreach engine.
--
-- 1. `tasks`: durable work with a due time. Ids are deterministic (`<agent or chat id>:<kind>`)
--    so that one task of a kind exists per owner; a recurring task is rescheduled in place.
--    A claimed task is `running` until `lease_until` (wall clock); a task whose process died is
--    claimed again after its lease. Slot tasks with nothing to do wait `parked` at the far
--    future due time 253402300799000 (9999-12-31) until new work pulls them forward.
-- 2. `sends`: the at-most-once ledger. A send is recorded `sending` (and committed) before the
--    connector call, with its id as the idempotency key, then settled `sent` or `failed`; a
--    `sending` row whose lease ran out is reconciled through the connector, never resent.
-- 3. `agent_actions`: every invitation and message an agent sent, for the weekly cap and the
--    auditor; `agent_days`: the targets drawn for each local day of an agent.
-- 4. New columns on agents (IANA zone, LinkedIn account id, the local day the usage counters
--    belong to, the weekly invitation cap) and on chats (the conversation's engine state).
ALTER TABLE agents ADD COLUMN timezone_name TEXT;
ALTER TABLE agents ADD COLUMN provider_account_id TEXT;
ALTER TABLE agents ADD COLUMN usage_day TEXT;
ALTER TABLE agents ADD COLUMN day_ends_at BIGINT;
ALTER TABLE agents ADD COLUMN weekly_invitation_cap BIGINT NOT NULL DEFAULT 100;
ALTER TABLE agents ADD COLUMN last_invitation_at BIGINT;
ALTER TABLE agents ADD COLUMN last_message_action_at BIGINT;

ALTER TABLE chats ADD COLUMN invited_at BIGINT;
ALTER TABLE chats ADD COLUMN accepted_at BIGINT;
ALTER TABLE chats ADD COLUMN enriched_at BIGINT;
ALTER TABLE chats ADD COLUMN next_message_at BIGINT;
ALTER TABLE chats ADD COLUMN next_message_kind TEXT;
ALTER TABLE chats ADD COLUMN followups_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN replies_seen_at BIGINT;

-- The message slot of an agent looks for its due messages campaign by campaign.
CREATE INDEX chats_next_message ON chats (campaign_id, next_message_at)
    WHERE next_message_at IS NOT NULL;
-- Ongoing conversations that the engine has not started watching yet.
CREATE INDEX chats_ongoing_unwatched ON chats (created_at) WHERE ongoing AND replies_seen_at IS NULL;

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id TEXT REFERENCES agents (id) ON DELETE CASCADE,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE CASCADE,
    chat_id TEXT REFERENCES chats (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    due_at BIGINT NOT NULL,
    not_before BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT,
    last_error TEXT,
    payload TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX tasks_due ON tasks (due_at, id) WHERE status = 'pending';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE status = 'running';
CREATE INDEX tasks_parked ON tasks (kind) WHERE due_at = 253402300799000;
CREATE INDEX tasks_by_chat ON tasks (chat_id) WHERE chat_id IS NOT NULL;
CREATE INDEX tasks_by_agent ON tasks (agent_id);
CREATE INDEX tasks_by_campaign ON tasks (campaign_id) WHERE campaign_id IS NOT NULL;

CREATE TABLE sends (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    restore_at BIGINT,
    restore_kind TEXT,
    lease_until BIGINT NOT NULL,
    provider_id TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);

CREATE INDEX sends_unsettled ON sends (lease_until) WHERE status = 'sending';
CREATE INDEX sends_by_chat ON sends (chat_id);
CREATE INDEX sends_by_agent ON sends (agent_id);

CREATE TABLE agent_actions (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    chat_id TEXT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX agent_actions_by_agent ON agent_actions (agent_id, kind, at);

CREATE TABLE agent_days (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    invitations_target BIGINT NOT NULL,
    messages_target BIGINT NOT NULL,
    PRIMARY KEY (agent_id, day)
);
