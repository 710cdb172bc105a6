-- Agents (LinkedIn accounts). The password is sealed with the master key, never stored plain.
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    login TEXT,
    country TEXT,
    avatar TEXT,
    password_sealed TEXT,
    working_days TEXT NOT NULL,
    working_start TEXT NOT NULL,
    working_stop TEXT NOT NULL,
    timezone_offset BIGINT NOT NULL,
    invitations_min BIGINT NOT NULL,
    invitations_max BIGINT NOT NULL,
    messages_min BIGINT NOT NULL,
    messages_max BIGINT NOT NULL,
    skip_in_network BOOLEAN NOT NULL DEFAULT FALSE,
    invitations_only BOOLEAN NOT NULL DEFAULT FALSE,
    alerts TEXT NOT NULL DEFAULT '[]',
    invitations_today BIGINT NOT NULL DEFAULT 0,
    messages_today BIGINT NOT NULL DEFAULT 0,
    invitations_target BIGINT NOT NULL,
    messages_target BIGINT NOT NULL,
    next_invitation BIGINT,
    next_message BIGINT,
    next_task BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX agents_by_team ON agents (team_id, created_at DESC, id DESC);
