-- LinkedIn's member id of a prospect (`ACo…`), stored with the profile the engine reads after an
-- acceptance: provider webhooks (Unipile's new messages) may name a person by it alone.
ALTER TABLE prospects ADD COLUMN provider_id TEXT;
CREATE INDEX prospects_by_provider_id ON prospects (team_id, provider_id)
    WHERE provider_id IS NOT NULL;
