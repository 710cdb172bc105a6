-- The outreach engine writes less per task.
--
-- 1. `task_claims`: on SQLite, the engine claims a batch of due tasks with ONE row here (the
--    claimed task ids mapped to their due times, as a JSON object, and the claim's lease on the
--    wall clock) instead of rewriting every task `running`; the tasks stay `pending`, other
--    claims skip them, and the batch's settlement deletes the row in its transaction. A claim
--    whose lease ran out counts an attempt for each of its tasks and is deleted by the planner.
--    PostgreSQL keeps marking tasks `running` under `FOR UPDATE SKIP LOCKED` (several workers)
--    and leaves this table empty; it exists on both backends so that their schemas stay alike.
-- 2. `tasks_parked` goes: the parked slots are found through `tasks_due` (pending tasks by due
--    time, the far-future parked time included), and every reschedule paid for its upkeep.
CREATE TABLE task_claims (
    id TEXT PRIMARY KEY,
    tasks TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

DROP INDEX tasks_parked;
