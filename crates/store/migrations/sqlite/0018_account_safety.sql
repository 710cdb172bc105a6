-- Account safety: the warm-up of new agents (existing agents are not new: off), a monthly
-- invitation cap, the circuit breaker's count of rate limits in a row, and invitations
-- withdrawn after waiting too long.
ALTER TABLE agents ADD COLUMN warmup BOOLEAN NOT NULL DEFAULT FALSE;
-- The local day (YYYY-MM-DD) of the agent's first working day, and today's warm-up day (1-based).
ALTER TABLE agents ADD COLUMN warmup_started TEXT;
ALTER TABLE agents ADD COLUMN warmup_day BIGINT;
ALTER TABLE agents ADD COLUMN monthly_invitation_cap BIGINT NOT NULL DEFAULT 800;
ALTER TABLE agents ADD COLUMN rate_limited_streak BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN withdrawn_at BIGINT;
