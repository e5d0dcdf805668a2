-- What a head needs to see whose phone is stuck: when each device last pushed and pulled,
-- and how many changes it said were still waiting on it at its last pull.
ALTER TABLE devices ADD COLUMN last_push_at TIMESTAMP;
ALTER TABLE devices ADD COLUMN last_pull_at TIMESTAMP;
ALTER TABLE devices ADD COLUMN queued_items INTEGER;
ALTER TABLE devices ADD COLUMN queued_reported_at TIMESTAMP;
-- Devices that synced before this migration: their last push is their last stored mutation
-- (so their volunteers are not all flagged "never synced" on the day it is deployed).
UPDATE devices SET last_push_at =
  (SELECT MAX(received_at) FROM sync_mutations WHERE sync_mutations.device_id = devices.id);
