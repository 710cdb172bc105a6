-- Products (offerings) and prompts. Lists are newest first, per team.
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX products_by_team ON products (team_id, created_at DESC, id DESC);

CREATE TABLE prompts (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prompt_type TEXT NOT NULL,
    model TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '',
    first_message TEXT NOT NULL DEFAULT '',
    follow_ups TEXT NOT NULL DEFAULT '[]',
    follow_up_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX prompts_by_team ON prompts (team_id, created_at DESC, id DESC);
