-- The household register: households, their residents, door-to-door visits and the dated
-- status events (e-ID, signature, broadband) from which every current status and every
-- "as of" figure is derived. Ids are UUIDv7 text and may come from a phone.

CREATE TABLE households (
    id TEXT PRIMARY KEY NOT NULL,
    -- The neighbourhood, and its materialised path for scope filters (paths never change).
    area_id TEXT NOT NULL REFERENCES areas (id),
    area_path TEXT NOT NULL,
    -- The household's code in the official register, when known (import matches on it).
    code TEXT,
    address TEXT NOT NULL,
    head_name TEXT NOT NULL,
    phone TEXT,
    -- Lower-case, diacritics removed ("đ" → "d"): what search matches against.
    search_text TEXT NOT NULL,
    -- Current broadband status, derived from the household's broadband events.
    broadband TEXT NOT NULL DEFAULT 'unknown' CHECK (broadband IN ('yes', 'no', 'unknown')),
    last_visited_on DATE,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- A deleted household stays as a tombstone so phones learn of the deletion.
    deleted_at TIMESTAMP,
    deleted_by TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX households_area_path ON households (area_path);
CREATE UNIQUE INDEX households_area_code ON households (area_id, code);

CREATE TABLE residents (
    id TEXT PRIMARY KEY NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    -- NULL once the person's data has been erased.
    full_name TEXT,
    search_text TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    birth_month INTEGER CHECK (birth_month BETWEEN 1 AND 12),
    birth_day INTEGER CHECK (birth_day BETWEEN 1 AND 31),
    -- The birth date used for "adult at D": unknown parts count as the middle of the
    -- period (1 July; the 15th), and then `birth_date_estimated` is set.
    birth_date DATE NOT NULL,
    birth_date_estimated BOOLEAN NOT NULL,
    -- 18th birthday (from `birth_date`): adult on and after this date.
    adult_on DATE NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female', 'unspecified')),
    relation_to_head TEXT NOT NULL CHECK (relation_to_head IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'sibling', 'other')),
    presence TEXT NOT NULL DEFAULT 'present' CHECK (presence IN ('present', 'moved_away', 'deceased')),
    -- Out of the population from this date (moved away or deceased).
    presence_since DATE,
    consent BOOLEAN NOT NULL DEFAULT FALSE,
    consent_recorded_at TIMESTAMP,
    -- HMAC-SHA256 of the 12-digit citizen ID with the server key, and its last 4 digits.
    citizen_id_hash TEXT,
    citizen_id_last4 TEXT,
    -- Current statuses, derived from the resident's events in the same transaction.
    eid_level TEXT NOT NULL DEFAULT 'none' CHECK (eid_level IN ('none', 'level1', 'level2_pending', 'level2')),
    signature TEXT NOT NULL DEFAULT 'none' CHECK (signature IN ('none', 'electronic', 'digital')),
    signature_expires_on DATE,
    erased_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    deleted_by TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX residents_household_id ON residents (household_id);
CREATE INDEX residents_citizen_id_hash ON residents (citizen_id_hash);

CREATE TABLE visits (
    id TEXT PRIMARY KEY NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    volunteer_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    visited_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('helped', 'already_done', 'not_home', 'refused', 'moved_away')),
    notes TEXT,
    received_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    voided_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    void_reason TEXT
);
CREATE INDEX visits_household_id ON visits (household_id);

-- Append-only facts: a wrong one is fixed by a void or by a newer event, never edited.
CREATE TABLE status_events (
    id TEXT PRIMARY KEY NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    -- NULL for household broadband events.
    resident_id TEXT REFERENCES residents (id),
    kind TEXT NOT NULL CHECK (kind IN ('eid', 'signature', 'broadband')),
    value TEXT NOT NULL,
    -- The date it became true.
    effective_on DATE NOT NULL,
    -- Digital signature certificates: validity.
    issued_on DATE,
    expires_on DATE,
    -- A head's or official's correction of the e-ID level (overrides "highest observed").
    correction BOOLEAN NOT NULL DEFAULT FALSE,
    visit_id TEXT REFERENCES visits (id),
    recorded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    received_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    CHECK ((kind = 'broadband') = (resident_id IS NULL))
);
CREATE INDEX status_events_resident_id ON status_events (resident_id);
CREATE INDEX status_events_household_id ON status_events (household_id);
CREATE INDEX status_events_visit_id ON status_events (visit_id);
