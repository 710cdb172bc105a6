-- The Do-Not-Contact list: one normalised LinkedIn URL per team at most once.
CREATE TABLE dnc_entries (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (team_id, url)
);

CREATE INDEX dnc_entries_by_team ON dnc_entries (team_id, created_at DESC, id DESC);
