-- Suspected duplicates: two resident records that may be the same person (same citizen-ID
-- hash in the ward, or same folded name and birth date in the neighbourhood), queued for
-- the neighbourhood head to merge or dismiss.
CREATE TABLE duplicate_pairs (
    id TEXT PRIMARY KEY NOT NULL,
    -- The lower and the higher of the two resident ids, so a pair is stored once.
    resident_a TEXT NOT NULL REFERENCES residents (id),
    resident_b TEXT NOT NULL REFERENCES residents (id),
    -- The neighbourhood path of the first resident's household, for scope filters.
    area_path TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('citizen_id', 'name_and_birth_date')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    survivor_id TEXT REFERENCES residents (id),
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    CHECK (resident_a < resident_b),
    UNIQUE (resident_a, resident_b)
);
CREATE INDEX duplicate_pairs_area_path ON duplicate_pairs (area_path);

-- Finding a possible second record of a person must not scan every resident.
CREATE INDEX residents_search_text_birth_date ON residents (search_text, birth_date);
