-- The dashboard: sign-in sessions, and the team-wide inbox.
--
-- A session is an opaque id in a cookie; only its SHA-256 is stored. It belongs to the API key
-- it was opened with, so revoking the key (or deleting the team) ends it.
CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    api_key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_by_key ON dashboard_sessions (api_key_id);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires_at);

-- The inbox lists a team's conversations by their last activity (the newest of the last message
-- either way and the creation), newest first. Both are computed by the database from the
-- columns every writer already keeps, so no writer can forget them (PostgreSQL stores them).
ALTER TABLE chats ADD COLUMN activity_at BIGINT GENERATED ALWAYS AS (
    GREATEST(created_at, last_message_at, last_response_at)
) STORED;
-- The prospect has the last word: their latest message is not older than ours.
ALTER TABLE chats ADD COLUMN awaiting_reply BOOLEAN GENERATED ALWAYS AS (
    last_response_at IS NOT NULL AND (last_message_at IS NULL OR last_response_at >= last_message_at)
) STORED;

CREATE INDEX chats_inbox ON chats (team_id, activity_at DESC, id DESC);
CREATE INDEX chats_inbox_by_campaign ON chats (campaign_id, activity_at DESC, id DESC);
CREATE INDEX chats_inbox_by_qualification ON chats (team_id, qualification, activity_at DESC, id DESC);
-- The rare sides of the inbox's filters (the list query writes these conditions literally).
CREATE INDEX chats_inbox_awaiting ON chats (team_id, activity_at DESC, id DESC) WHERE awaiting_reply;
CREATE INDEX chats_inbox_paused ON chats (team_id, activity_at DESC, id DESC) WHERE paused;

-- The dashboard's 30-day activity chart: per team and UTC day (days since 1970-01-01), the
-- invitations sent, the agent's messages and the prospects' replies, kept by statement triggers
-- in the writing transaction (whichever module writes), so the chart reads 30 rows instead of
-- counting a month of messages. Counts are history: deleting a prospect does not lower them.
CREATE TABLE team_activity_days (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    invitations BIGINT NOT NULL DEFAULT 0,
    messages BIGINT NOT NULL DEFAULT 0,
    replies BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, day)
);

INSERT INTO team_activity_days (team_id, day, invitations, messages, replies)
SELECT team_id, day, SUM(invitations), SUM(messages), SUM(replies) FROM (
    SELECT team_id, created_at / 86400000 AS day, 0 AS invitations,
           SUM(CASE WHEN role = 'user' THEN 0 ELSE 1 END) AS messages,
           SUM(CASE WHEN role = 'user' THEN 1 ELSE 0 END) AS replies
    FROM messages GROUP BY team_id, created_at / 86400000
    UNION ALL
    SELECT team_id, at / 86400000, COUNT(*), 0, 0
    FROM agent_actions WHERE kind = 'invitation' GROUP BY team_id, at / 86400000
) counted GROUP BY team_id, day;

-- Rows in key order, so that concurrent statements lock the day rows in one order.
CREATE FUNCTION messages_count_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO team_activity_days AS d (team_id, day, messages, replies)
    SELECT team_id, created_at / 86400000,
           SUM(CASE WHEN role = 'user' THEN 0 ELSE 1 END),
           SUM(CASE WHEN role = 'user' THEN 1 ELSE 0 END)
    FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (team_id, day) DO UPDATE SET
        messages = d.messages + EXCLUDED.messages, replies = d.replies + EXCLUDED.replies;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_count_day AFTER INSERT ON messages
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION messages_count_day();

CREATE FUNCTION invitations_count_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO team_activity_days AS d (team_id, day, invitations)
    SELECT team_id, at / 86400000, COUNT(*)
    FROM new_rows WHERE kind = 'invitation' GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (team_id, day) DO UPDATE SET invitations = d.invitations + EXCLUDED.invitations;
    RETURN NULL;
END
$$;

CREATE TRIGGER invitations_count_day AFTER INSERT ON agent_actions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION invitations_count_day();

-- When a key last authenticated a request (recorded at most once a minute), for the keys page.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
