-- Sales Navigator imports (`POST /v1/prospects/sales-navigator`): a saved search of a campaign,
-- run by a worker through the LinkedIn connector, whose people become one ordinary import job
-- (`list_id`). Status: queued → running → completed | failed; a run that fails for a reason
-- that may pass goes back to `queued` until `not_before`. `run_id` names the current run (a new
-- one per claim); `lease_until` is when a running claim is taken to be dead. A search URL is
-- saved once per campaign.
CREATE TABLE sales_navigator_sources (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    search_url TEXT NOT NULL,
    requested_count BIGINT NOT NULL,
    status TEXT NOT NULL,
    run_id TEXT,
    list_id TEXT,
    found_count BIGINT,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT,
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT
);

CREATE UNIQUE INDEX sales_navigator_search ON sales_navigator_sources (campaign_id, search_url);
CREATE INDEX sales_navigator_active_by_team ON sales_navigator_sources (team_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX sales_navigator_unfinished ON sales_navigator_sources (created_at, id)
    WHERE status IN ('queued', 'running');
