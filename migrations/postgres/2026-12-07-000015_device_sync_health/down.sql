ALTER TABLE devices DROP COLUMN queued_reported_at;
ALTER TABLE devices DROP COLUMN queued_items;
ALTER TABLE devices DROP COLUMN last_pull_at;
ALTER TABLE devices DROP COLUMN last_push_at;
