-- Human in the loop: a campaign's review mode, the drafts waiting for a person, who wrote each
-- message (and with which model and prompt), and why the AI judged a conversation as it did.
ALTER TABLE campaigns ADD COLUMN review_mode TEXT NOT NULL DEFAULT 'off';

-- The open draft of a conversation (pending or approved): while one is pending the conversation
-- has no planned message; an approved one is what its next send says.
ALTER TABLE chats ADD COLUMN draft_id TEXT;
ALTER TABLE chats ADD COLUMN score_reason TEXT;
-- When a person last resumed the AI on the conversation (after a take-over).
ALTER TABLE chats ADD COLUMN resumed_at BIGINT;

-- `ai` or `person` for the agent's messages (NULL before this migration: the AI), NULL for the
-- prospect's.
ALTER TABLE messages ADD COLUMN author TEXT;
ALTER TABLE messages ADD COLUMN model TEXT;
ALTER TABLE messages ADD COLUMN prompt_id TEXT;

ALTER TABLE sends ADD COLUMN draft_id TEXT;
ALTER TABLE sends ADD COLUMN author TEXT NOT NULL DEFAULT 'ai';
ALTER TABLE sends ADD COLUMN model TEXT;
ALTER TABLE sends ADD COLUMN prompt_id TEXT;

CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    edited_text TEXT,
    status TEXT NOT NULL,
    model TEXT,
    prompt_id TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    sent_at BIGINT
);

CREATE INDEX drafts_newest_first ON drafts (team_id, created_at DESC, id DESC);
CREATE INDEX drafts_by_chat ON drafts (chat_id);
CREATE INDEX drafts_pending_expiry ON drafts (expires_at) WHERE status = 'pending';
