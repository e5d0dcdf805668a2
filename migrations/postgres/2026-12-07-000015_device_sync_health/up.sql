-- What a head needs to see whose phone is stuck: when each device last pushed and pulled,
-- and how many changes it said were still waiting on it at its last pull.
ALTER TABLE devices ADD COLUMN last_push_at TIMESTAMP;
ALTER TABLE devices ADD COLUMN last_pull_at TIMESTAMP;
ALTER TABLE devices ADD COLUMN queued_items INTEGER;
ALTER TABLE devices ADD COLUMN queued_reported_at TIMESTAMP;
