-- The weekly digest: officials and heads opt in; one row per recipient and week records
-- that their digest was queued, so two server processes (or the command and the schedule)
-- never send it twice.
ALTER TABLE users ADD COLUMN digest_subscribed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE digest_deliveries (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    week_of DATE NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, week_of)
);
