-- Offline sync: devices, mutation results, assignment periods, field versions, conflicts,
-- and the sync clock that stamps every synced row.

-- Devices: a phone's id belongs to the user who first synced with it. `last_seq` is the
-- last mutation number of the device the server has taken (applied, conflict or rejected),
-- stored in the same transaction as the changes.
CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    app_version TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX devices_user_id ON devices (user_id);

-- The result of every mutation taken, so a resend learns what happened the first time and
-- a create sent again under a new number is recognised by its payload.
CREATE TABLE sync_mutations (
    device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    entity TEXT NOT NULL,
    op TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    -- SHA-256 of the mutation's entity, op, id and data.
    payload_hash TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('applied', 'conflict', 'rejected')),
    -- The problem code for conflict and rejected.
    problem_code TEXT,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX sync_mutations_entity_id ON sync_mutations (entity_id);

-- When each volunteer was assigned to each neighbourhood: a visit made while assigned is
-- accepted after the assignment ended, and an ended period is the tombstone that tells the
-- phone to drop the neighbourhood's households (`removed: unassigned`).
CREATE TABLE assignment_periods (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area_id TEXT NOT NULL REFERENCES areas (id),
    assigned_at TIMESTAMP NOT NULL,
    unassigned_at TIMESTAMP,
    sync_seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX assignment_periods_user ON assignment_periods (user_id, area_id);
INSERT INTO assignment_periods (id, user_id, area_id, assigned_at)
    SELECT user_id || '/' || area_id, user_id, area_id, created_at FROM volunteer_assignments;

-- The version at which each editable field last changed: an offline edit based on an older
-- version wins a field only if nobody changed that field since (kept by triggers below, so
-- every writer — API, import, erasure, merge — keeps it).
CREATE TABLE field_versions (
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (entity_id, field)
);

-- Edits from phones that met a newer value on the server: both values, for the head.
CREATE TABLE sync_conflicts (
    id TEXT PRIMARY KEY NOT NULL,
    area_id TEXT NOT NULL REFERENCES areas (id),
    area_path TEXT NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    entity TEXT NOT NULL CHECK (entity IN ('household', 'resident')),
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    -- JSON values.
    server_value TEXT NOT NULL,
    phone_value TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    server_version INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    recorded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution TEXT CHECK (resolution IN ('keep_server', 'take_phone', 'edit')),
    resolved_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    resolved_at TIMESTAMP
);
CREATE INDEX sync_conflicts_area ON sync_conflicts (area_path, created_at);
CREATE INDEX sync_conflicts_entity ON sync_conflicts (entity_id);

-- The sync clock: every change to a synced row takes the next value (one per transaction
-- on PostgreSQL) while holding this row's lock until commit, so values are handed out in
-- commit order and a pull can never pass a change that commits later with a smaller value.
CREATE TABLE sync_clock (
    id INTEGER PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO sync_clock (id, value) VALUES (1, 1);

ALTER TABLE households ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
UPDATE households SET sync_seq = 1;
ALTER TABLE residents ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
UPDATE residents SET sync_seq = 1;
ALTER TABLE visits ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
UPDATE visits SET sync_seq = 1;
ALTER TABLE status_events ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
UPDATE status_events SET sync_seq = 1;
UPDATE assignment_periods SET sync_seq = 1;
CREATE INDEX households_sync ON households (area_id, sync_seq);
CREATE INDEX residents_sync ON residents (sync_seq);
CREATE INDEX visits_sync ON visits (sync_seq);
CREATE INDEX status_events_sync ON status_events (sync_seq);
CREATE TRIGGER households_sync_insert AFTER INSERT ON households BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE households SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER households_sync_update AFTER UPDATE ON households WHEN NEW.sync_seq = OLD.sync_seq BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE households SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER residents_sync_insert AFTER INSERT ON residents BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE residents SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER residents_sync_update AFTER UPDATE ON residents WHEN NEW.sync_seq = OLD.sync_seq BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE residents SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER visits_sync_insert AFTER INSERT ON visits BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE visits SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER visits_sync_update AFTER UPDATE ON visits WHEN NEW.sync_seq = OLD.sync_seq BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE visits SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER status_events_sync_insert AFTER INSERT ON status_events BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE status_events SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER status_events_sync_update AFTER UPDATE ON status_events WHEN NEW.sync_seq = OLD.sync_seq BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE status_events SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER assignment_periods_sync_insert AFTER INSERT ON assignment_periods BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE assignment_periods SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER assignment_periods_sync_update AFTER UPDATE ON assignment_periods WHEN NEW.sync_seq = OLD.sync_seq BEGIN
    UPDATE sync_clock SET value = value + 1 WHERE id = 1;
    UPDATE assignment_periods SET sync_seq = (SELECT value FROM sync_clock WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER households_field_versions AFTER UPDATE ON households WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'address', NEW.version WHERE NEW.address IS NOT OLD.address
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'head_name', NEW.version WHERE NEW.head_name IS NOT OLD.head_name
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'phone', NEW.version WHERE NEW.phone IS NOT OLD.phone
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'code', NEW.version WHERE NEW.code IS NOT OLD.code
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER residents_field_versions AFTER UPDATE ON residents WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'full_name', NEW.version WHERE NEW.full_name IS NOT OLD.full_name
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'birth_date', NEW.version WHERE NEW.birth_year IS NOT OLD.birth_year OR NEW.birth_month IS NOT OLD.birth_month OR NEW.birth_day IS NOT OLD.birth_day
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'sex', NEW.version WHERE NEW.sex IS NOT OLD.sex
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'relation_to_head', NEW.version WHERE NEW.relation_to_head IS NOT OLD.relation_to_head
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'presence', NEW.version WHERE NEW.presence IS NOT OLD.presence OR NEW.presence_since IS NOT OLD.presence_since
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'consent', NEW.version WHERE NEW.consent IS NOT OLD.consent
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
    INSERT INTO field_versions (entity_id, field, version)
        SELECT NEW.id, 'citizen_id', NEW.version WHERE NEW.citizen_id_hash IS NOT OLD.citizen_id_hash
        ON CONFLICT (entity_id, field) DO UPDATE SET version = excluded.version;
END;
