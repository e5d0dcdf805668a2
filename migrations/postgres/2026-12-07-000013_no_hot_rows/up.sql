-- No row that every writer of the server, a ward or a province must lock.
--
-- 1. The sync stamp comes from a sequence, not from one clock row locked until commit.
--    A sequence is not in commit order, so a transaction announces its stamp while it
--    runs: before drawing it, it takes a shared advisory lock (two-key form, class
--    0x5359xxxx) whose key is at most its stamp, held until it ends. A pull reads, before
--    taking its snapshot, the lowest such key and the sequence's last value; it serves
--    only stamps below both (`sync::feed::horizon`): whatever can still commit has a stamp
--    at or above that, so a cursor never passes a change that commits later. Shared locks
--    on distinct keys wait for nobody. (pg_dump keeps the sequence's value.)
CREATE SEQUENCE sync_stamps;
SELECT setval('sync_stamps', (SELECT value FROM sync_clock WHERE id = 1), true);
CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stamp BIGINT;
    announced BIGINT;
BEGIN
    stamp := NULLIF(current_setting('eid.sync_seq', true), '')::BIGINT;
    IF stamp IS NULL THEN
        SELECT last_value INTO announced FROM sync_stamps;
        PERFORM pg_advisory_xact_lock_shared(
            (1398341632 + (announced >> 32))::INTEGER,
            ((announced & 4294967295) - CASE WHEN (announced & 2147483648) <> 0 THEN 4294967296 ELSE 0 END)::INTEGER);
        stamp := nextval('sync_stamps');
        PERFORM set_config('eid.sync_seq', stamp::TEXT, true);
    END IF;
    NEW.sync_seq := stamp;
    RETURN NEW;
END
$$;

-- 2. Counter changes are appended, never updated in place by writers: each write
--    transaction inserts its deltas per neighbourhood, measure and day here (one
--    multi-row insert). A background fold moves them into `adoption_deltas` — the
--    neighbourhood's buckets and those of every area above — and deletes them, in one
--    transaction; only the fold writes `adoption_deltas`. A figure is its area's folded
--    buckets plus the rows here under its path, read in one statement.
CREATE TABLE adoption_delta_log (
    id BIGSERIAL PRIMARY KEY,
    area_path TEXT COLLATE "C" NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('adults', 'eid', 'signature', 'households', 'fibre')),
    day DATE NOT NULL,
    delta BIGINT NOT NULL
);
CREATE INDEX adoption_delta_log_area ON adoption_delta_log (area_path, day);

-- How many folds have run: part of the figures' ETag (a fold changes what the folded
-- buckets hold, and the log rows under an area only grow between folds).
CREATE TABLE adoption_fold_state (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO adoption_fold_state (id, generation) VALUES (1, 0);
