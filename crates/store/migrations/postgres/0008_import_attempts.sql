-- Import jobs count their consecutive failed batches. A batch that fails (a database error, a
-- lost race with a concurrent import of the same person) is rolled back and retried; a job whose
-- batches failed `MAX_ATTEMPTS` times in a row (crates/store/src/imports.rs) is marked `failed`
-- so that it cannot block the queue. A successful batch resets the count.
ALTER TABLE imports ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
