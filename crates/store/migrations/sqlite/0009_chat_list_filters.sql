-- Filtered pages of a campaign's conversations (GET /prospects/campaign/{id}?status=|isPaused=|
-- hasResponded=) walk an index in list order (newest first) instead of sorting every match, so a
-- rare filter value in a campaign of a million chats stays one short index range. Paused and
-- answered chats are the rare ones: their indexes are partial (the list query writes those
-- conditions literally so that the planners can use them); the common `false` side walks
-- `chats_by_campaign`.
CREATE INDEX chats_by_campaign_status_time ON chats (campaign_id, status, created_at DESC, id DESC);
CREATE INDEX chats_by_campaign_paused ON chats (campaign_id, created_at DESC, id DESC) WHERE paused;
CREATE INDEX chats_by_campaign_responded ON chats (campaign_id, created_at DESC, id DESC)
    WHERE has_responded;
