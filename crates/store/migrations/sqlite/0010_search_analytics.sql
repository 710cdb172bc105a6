-- Search (GET /prospects/search) and analytics over teams of a million conversations.
--
-- 1. `chat_counts`: how many chats each campaign has per (country, status, qualification,
--    paused, responded). Search totals without a text or city filter, and the status and
--    qualification breakdowns of analytics, are sums over these few rows instead of counts over
--    a million chats. Triggers on `chats` keep it exact in the writing transaction, whichever
--    module writes; rows that drop to zero stay (at most a few hundred per campaign) and go with
--    their campaign.
-- 2. `chats.city_key` / `chats.country_key`: the prospect's city and country, lowercased, copied
--    onto each of its chats by triggers, so that a location filter is one index range in list
--    order (newest first) and its total a sum over `chat_counts`.
-- 3. `prospect_search`: an FTS5 trigram index of `prospects.search_text`, so that `query=`
--    (a case-insensitive substring of name, headline or company, 3 characters or more) reads
--    the matching prospects instead of scanning them all. Its rowids are those of
--    `prospect_search_keys`, whose INTEGER PRIMARY KEY survives VACUUM (an implicit rowid of
--    `prospects` would not).
-- 4. Indexes that walk a filtered search in list order, and that bound analytics' time windows.

CREATE TABLE chat_counts (
    team_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    country_key TEXT NOT NULL,
    status BIGINT NOT NULL,
    qualification TEXT NOT NULL,
    paused BOOLEAN NOT NULL,
    has_responded BOOLEAN NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, country_key, status, qualification, paused, has_responded)
);

CREATE INDEX chat_counts_by_team ON chat_counts (team_id);

ALTER TABLE chats ADD COLUMN city_key TEXT;
ALTER TABLE chats ADD COLUMN country_key TEXT;

UPDATE chats SET
    city_key = (SELECT lower(p.city) FROM prospects p WHERE p.id = chats.prospect_id),
    country_key = (SELECT lower(p.country) FROM prospects p WHERE p.id = chats.prospect_id);

INSERT INTO chat_counts
    (team_id, campaign_id, country_key, status, qualification, paused, has_responded, n)
SELECT team_id, campaign_id, COALESCE(country_key, ''), status, qualification, paused,
       has_responded, COUNT(*)
FROM chats
GROUP BY team_id, campaign_id, COALESCE(country_key, ''), status, qualification, paused,
         has_responded;

-- A new chat is counted, then given its prospect's location (which moves the count through
-- `chats_count_update`), in this order.
CREATE TRIGGER chats_count_insert AFTER INSERT ON chats
BEGIN
    INSERT INTO chat_counts
        (team_id, campaign_id, country_key, status, qualification, paused, has_responded, n)
    VALUES (NEW.team_id, NEW.campaign_id, COALESCE(NEW.country_key, ''), NEW.status,
            NEW.qualification, NEW.paused, NEW.has_responded, 1)
    ON CONFLICT (campaign_id, country_key, status, qualification, paused, has_responded)
    DO UPDATE SET n = n + 1;
    UPDATE chats SET
        city_key = (SELECT lower(p.city) FROM prospects p WHERE p.id = NEW.prospect_id),
        country_key = (SELECT lower(p.country) FROM prospects p WHERE p.id = NEW.prospect_id)
    WHERE id = NEW.id
      AND EXISTS (SELECT 1 FROM prospects p WHERE p.id = NEW.prospect_id
                  AND (p.city IS NOT NULL OR p.country IS NOT NULL));
END;

CREATE TRIGGER chats_count_update
AFTER UPDATE OF campaign_id, country_key, status, qualification, paused, has_responded ON chats
WHEN OLD.campaign_id IS NOT NEW.campaign_id
  OR OLD.country_key IS NOT NEW.country_key
  OR OLD.status IS NOT NEW.status
  OR OLD.qualification IS NOT NEW.qualification
  OR OLD.paused IS NOT NEW.paused
  OR OLD.has_responded IS NOT NEW.has_responded
BEGIN
    UPDATE chat_counts SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND country_key = COALESCE(OLD.country_key, '')
      AND status = OLD.status AND qualification = OLD.qualification
      AND paused = OLD.paused AND has_responded = OLD.has_responded;
    INSERT INTO chat_counts
        (team_id, campaign_id, country_key, status, qualification, paused, has_responded, n)
    VALUES (NEW.team_id, NEW.campaign_id, COALESCE(NEW.country_key, ''), NEW.status,
            NEW.qualification, NEW.paused, NEW.has_responded, 1)
    ON CONFLICT (campaign_id, country_key, status, qualification, paused, has_responded)
    DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER chats_count_delete AFTER DELETE ON chats
BEGIN
    UPDATE chat_counts SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND country_key = COALESCE(OLD.country_key, '')
      AND status = OLD.status AND qualification = OLD.qualification
      AND paused = OLD.paused AND has_responded = OLD.has_responded;
END;

CREATE TRIGGER campaigns_counts_delete AFTER DELETE ON campaigns
BEGIN
    DELETE FROM chat_counts WHERE campaign_id = OLD.id;
END;

CREATE TRIGGER prospects_location_update AFTER UPDATE OF city, country ON prospects
WHEN OLD.city IS NOT NEW.city OR OLD.country IS NOT NEW.country
BEGIN
    UPDATE chats SET city_key = lower(NEW.city), country_key = lower(NEW.country)
    WHERE prospect_id = NEW.id;
END;

CREATE TABLE prospect_search_keys (
    id INTEGER PRIMARY KEY,
    prospect_id TEXT NOT NULL UNIQUE,
    team_id TEXT NOT NULL
);

CREATE VIRTUAL TABLE prospect_search USING fts5 (search_text, tokenize = 'trigram');

INSERT INTO prospect_search_keys (prospect_id, team_id) SELECT id, team_id FROM prospects;
INSERT INTO prospect_search (rowid, search_text)
SELECT k.id, p.search_text FROM prospect_search_keys k JOIN prospects p ON p.id = k.prospect_id;

CREATE TRIGGER prospects_search_insert AFTER INSERT ON prospects
BEGIN
    INSERT INTO prospect_search_keys (prospect_id, team_id) VALUES (NEW.id, NEW.team_id);
    INSERT INTO prospect_search (rowid, search_text) VALUES (last_insert_rowid(), NEW.search_text);
END;

CREATE TRIGGER prospects_search_update AFTER UPDATE OF search_text ON prospects
WHEN OLD.search_text IS NOT NEW.search_text
BEGIN
    UPDATE prospect_search SET search_text = NEW.search_text
    WHERE rowid = (SELECT k.id FROM prospect_search_keys k WHERE k.prospect_id = NEW.id);
END;

CREATE TRIGGER prospects_search_delete AFTER DELETE ON prospects
BEGIN
    DELETE FROM prospect_search
    WHERE rowid = (SELECT k.id FROM prospect_search_keys k WHERE k.prospect_id = OLD.id);
    DELETE FROM prospect_search_keys WHERE prospect_id = OLD.id;
END;

-- A text search reads the matches' conversations, their team and their list order from this
-- index alone (it replaces 0006's `chats_by_prospect`, of which it is an extension).
CREATE INDEX chats_by_prospect_time ON chats (prospect_id, created_at DESC, id DESC, team_id);
DROP INDEX chats_by_prospect;
-- Search pages walk one of these in list order; the partial ones hold only the rare rows.
CREATE INDEX chats_by_team_status ON chats (team_id, status, created_at DESC, id DESC);
CREATE INDEX chats_by_team_verdict ON chats (team_id, qualification, created_at DESC, id DESC)
    WHERE qualification <> 'inProgress';
CREATE INDEX chats_by_team_paused ON chats (team_id, created_at DESC, id DESC) WHERE paused;
CREATE INDEX chats_by_team_responded ON chats (team_id, created_at DESC, id DESC)
    WHERE has_responded;
CREATE INDEX chats_by_team_country ON chats (team_id, country_key, created_at DESC, id DESC)
    WHERE country_key IS NOT NULL;
CREATE INDEX chats_by_team_city ON chats (team_id, city_key, created_at DESC, id DESC)
    WHERE city_key IS NOT NULL;
-- Analytics' "qualified in this window / on this day".
CREATE INDEX chats_qualified_by_campaign ON chats (campaign_id, qualified_at)
    WHERE qualified_at IS NOT NULL;
CREATE INDEX chats_qualified_by_team ON chats (team_id, qualified_at)
    WHERE qualified_at IS NOT NULL;
-- `filters.available`: distinct cities and countries, read by skipping through these.
CREATE INDEX prospects_by_team_city ON prospects (team_id, city) WHERE city IS NOT NULL;
CREATE INDEX prospects_by_team_country ON prospects (team_id, country) WHERE country IS NOT NULL;
-- Messages per day and role within a window, read from the index alone. They replace the
-- narrower indexes of 0006, as 0009's list index replaces `chats_by_campaign_status`.
CREATE INDEX messages_by_campaign_time_role ON messages (campaign_id, created_at, role);
CREATE INDEX messages_by_team_time_role ON messages (team_id, created_at, role);
DROP INDEX messages_by_campaign_time;
DROP INDEX messages_by_team_time;
DROP INDEX chats_by_campaign_status;
