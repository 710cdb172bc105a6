-- Campaigns, prospects (LinkedIn people, unique per team by normalised URL), chats (one
-- prospect in one campaign), messages, import jobs and agency workspaces.
-- A campaign's counters are kept equal to the sum of its chats' tallies by every write.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id),
    prompt_id TEXT NOT NULL REFERENCES prompts (id),
    qualification_automatic BIGINT NOT NULL,
    qualification_verification BIGINT NOT NULL,
    variables TEXT NOT NULL DEFAULT '{}',
    prevent_auto_start BOOLEAN NOT NULL DEFAULT FALSE,
    prospects_count BIGINT NOT NULL DEFAULT 0,
    answers_count BIGINT NOT NULL DEFAULT 0,
    messages_count BIGINT NOT NULL DEFAULT 0,
    qualified_count BIGINT NOT NULL DEFAULT 0,
    closed_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE INDEX campaigns_by_team ON campaigns (team_id, created_at DESC, id DESC);
CREATE INDEX campaigns_by_agent ON campaigns (agent_id);

CREATE TABLE prospects (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    headline TEXT,
    about TEXT,
    city TEXT,
    country TEXT,
    email TEXT,
    current_company_name TEXT,
    current_job_title TEXT,
    current_company_website TEXT,
    current_company_linkedin_url TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (team_id, url)
);

CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    prospect_id TEXT NOT NULL REFERENCES prospects (id) ON DELETE CASCADE,
    status BIGINT NOT NULL DEFAULT 0,
    qualification TEXT NOT NULL DEFAULT 'inProgress',
    score BIGINT,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    has_responded BOOLEAN NOT NULL DEFAULT FALSE,
    ongoing BOOLEAN NOT NULL DEFAULT FALSE,
    custom_data TEXT NOT NULL DEFAULT '',
    messages_sent BIGINT NOT NULL DEFAULT 0,
    last_message_at BIGINT,
    last_response_at BIGINT,
    qualified_at BIGINT,
    list_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (campaign_id, prospect_id)
);

CREATE INDEX chats_by_campaign ON chats (campaign_id, created_at DESC, id DESC);
CREATE INDEX chats_by_team ON chats (team_id, created_at DESC, id DESC);
CREATE INDEX chats_by_prospect ON chats (prospect_id);
CREATE INDEX chats_by_campaign_status ON chats (campaign_id, status);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX messages_by_chat ON messages (chat_id, created_at, id);
CREATE INDEX messages_by_campaign_time ON messages (campaign_id, created_at);
CREATE INDEX messages_by_team_time ON messages (team_id, created_at);

CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    source TEXT NOT NULL DEFAULT 'api',
    status TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    processed BIGINT NOT NULL DEFAULT 0,
    imported BIGINT NOT NULL DEFAULT 0,
    existing BIGINT NOT NULL DEFAULT 0,
    invalid BIGINT NOT NULL DEFAULT 0,
    skipped_dnc BIGINT NOT NULL DEFAULT 0,
    enrichment_failed BIGINT NOT NULL DEFAULT 0,
    current_index BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT,
    last_processed_at BIGINT,
    completed_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE INDEX imports_unfinished ON imports (created_at) WHERE status IN ('queued', 'processing');
CREATE INDEX imports_by_campaign ON imports (campaign_id);

CREATE TABLE import_rows (
    list_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    input_url TEXT NOT NULL,
    custom_data TEXT,
    ongoing BOOLEAN NOT NULL DEFAULT FALSE,
    linkedin_slug TEXT,
    status TEXT,
    prospect_id TEXT,
    chat_id TEXT,
    message TEXT,
    chat_created BOOLEAN NOT NULL DEFAULT FALSE,
    custom_data_saved BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (list_id, idx)
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    client_team_id TEXT NOT NULL REFERENCES teams (id),
    created_at BIGINT NOT NULL
);

CREATE INDEX workspaces_by_team ON workspaces (team_id, created_at DESC, id DESC);
CREATE INDEX workspaces_by_client_team ON workspaces (client_team_id);

CREATE TABLE workspace_members (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    user_id TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '["member"]',
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, email)
);

CREATE TABLE workspace_agents (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, agent_id)
);

CREATE INDEX workspace_agents_by_agent ON workspace_agents (agent_id);
