-- Search (GET /prospects/search) and analytics over teams of a million conversations.
--
-- 1. `chat_counts`: how many chats each campaign has per (country, status, qualification,
--    paused, responded). Search totals without a text or city filter, and the status and
--    qualification breakdowns of analytics, are sums over these few rows instead of counts over
--    a million chats. Statement triggers on `chats` keep it exact in the writing transaction,
--    whichever module writes, taking the rows' locks in key order; rows that drop to zero stay
--    (at most a few hundred per campaign) and go with their campaign.
-- 2. `chats.city_key` / `chats.country_key`: the prospect's city and country, lowercased, copied
--    onto each of its chats by triggers, so that a location filter is one index range in list
--    order (newest first) and its total a sum over `chat_counts`.
-- 3. A pg_trgm GIN index of `prospects.search_text`, so that `query=` (a case-insensitive
--    substring of name, headline or company, 3 characters or more) reads the matching prospects
--    instead of scanning them all.
-- 4. Indexes that walk a filtered search in list order, and that bound analytics' time windows.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

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

ALTER TABLE chats ADD COLUMN city_key TEXT, ADD COLUMN country_key TEXT;

UPDATE chats SET city_key = lower(p.city), country_key = lower(p.country)
FROM prospects p
WHERE p.id = chats.prospect_id AND (p.city IS NOT NULL OR p.country IS NOT NULL);

INSERT INTO chat_counts
    (team_id, campaign_id, country_key, status, qualification, paused, has_responded, n)
SELECT team_id, campaign_id, COALESCE(country_key, ''), status, qualification, paused,
       has_responded, COUNT(*)
FROM chats
GROUP BY team_id, campaign_id, COALESCE(country_key, ''), status, qualification, paused,
         has_responded;

CREATE FUNCTION chats_location_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT lower(p.city), lower(p.country) INTO NEW.city_key, NEW.country_key
    FROM prospects p WHERE p.id = NEW.prospect_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER chats_location_fill BEFORE INSERT ON chats
FOR EACH ROW EXECUTE FUNCTION chats_location_fill();

-- Adds the net change of an UPDATE's or DELETE's rows to their buckets, in key order.
CREATE FUNCTION chat_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE chat_counts cc SET n = cc.n - d.k
        FROM (SELECT campaign_id, COALESCE(country_key, '') AS country_key, status,
                     qualification, paused, has_responded, COUNT(*) AS k
              FROM old_rows
              GROUP BY 1, 2, 3, 4, 5, 6) d
        WHERE cc.campaign_id = d.campaign_id AND cc.country_key = d.country_key
          AND cc.status = d.status AND cc.qualification = d.qualification
          AND cc.paused = d.paused AND cc.has_responded = d.has_responded;
        RETURN NULL;
    END IF;
    INSERT INTO chat_counts
        (team_id, campaign_id, country_key, status, qualification, paused, has_responded, n)
    SELECT team_id, campaign_id, country_key, status, qualification, paused, has_responded,
           SUM(k)
    FROM (
        SELECT team_id, campaign_id, COALESCE(country_key, '') AS country_key, status,
               qualification, paused, has_responded, 1 AS k
        FROM new_rows
        UNION ALL
        SELECT team_id, campaign_id, COALESCE(country_key, ''), status, qualification,
               paused, has_responded, -1
        FROM old_rows
    ) changes
    GROUP BY team_id, campaign_id, country_key, status, qualification, paused, has_responded
    HAVING SUM(k) <> 0
    ORDER BY campaign_id, country_key, status, qualification, paused, has_responded
    ON CONFLICT (campaign_id, country_key, status, qualification, paused, has_responded)
    DO UPDATE SET n = chat_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

-- An INSERT trigger has no OLD table: this one gives it an empty one.
CREATE FUNCTION chat_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chat_counts
        (team_id, campaign_id, country_key, status, qualification, paused, has_responded, n)
    SELECT team_id, campaign_id, COALESCE(country_key, ''), status, qualification, paused,
           has_responded, COUNT(*)
    FROM new_rows
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 2, 3, 4, 5, 6, 7
    ON CONFLICT (campaign_id, country_key, status, qualification, paused, has_responded)
    DO UPDATE SET n = chat_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER chat_counts_insert AFTER INSERT ON chats
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION chat_counts_insert();

CREATE TRIGGER chat_counts_update AFTER UPDATE ON chats
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION chat_counts_apply();

CREATE TRIGGER chat_counts_delete AFTER DELETE ON chats
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION chat_counts_apply();

CREATE FUNCTION campaigns_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM chat_counts WHERE campaign_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER campaigns_counts_delete AFTER DELETE ON campaigns
FOR EACH ROW EXECUTE FUNCTION campaigns_counts_delete();

CREATE FUNCTION prospects_location_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats SET city_key = lower(NEW.city), country_key = lower(NEW.country)
    WHERE prospect_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER prospects_location_sync AFTER UPDATE OF city, country ON prospects
FOR EACH ROW
WHEN (OLD.city IS DISTINCT FROM NEW.city OR OLD.country IS DISTINCT FROM NEW.country)
EXECUTE FUNCTION prospects_location_sync();

CREATE INDEX prospects_search_trgm ON prospects USING gin (search_text gin_trgm_ops);

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
