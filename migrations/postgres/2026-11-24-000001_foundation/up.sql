-- Foundation: the area tree, accounts with their scope, volunteer assignments and the
-- refresh-token families behind sign-in. Ids are UUIDv7 as text; timestamps are UTC.
CREATE TABLE areas (
    id TEXT PRIMARY KEY NOT NULL,
    parent_id TEXT REFERENCES areas (id),
    kind TEXT NOT NULL CHECK (kind IN ('province', 'district', 'town', 'ward', 'neighbourhood')),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- '/<root id>/…/<own id>/': a subtree is every row whose path starts with its root's.
    path TEXT NOT NULL UNIQUE,
    official_adult_population BIGINT CHECK (official_adult_population >= 0),
    official_household_count BIGINT CHECK (official_household_count >= 0),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX areas_parent_id ON areas (parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'official', 'head', 'volunteer')),
    -- NULL only for a national administrator (scope: every area).
    area_id TEXT REFERENCES areas (id),
    password_hash TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (area_id IS NOT NULL OR role = 'admin')
);
CREATE INDEX users_area_id ON users (area_id);

CREATE TABLE volunteer_assignments (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area_id TEXT NOT NULL REFERENCES areas (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, area_id)
);
CREATE INDEX volunteer_assignments_area_id ON volunteer_assignments (area_id);

-- One family per sign-in (device session): every refresh token descending from a login.
CREATE TABLE refresh_families (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT,
    client_ip TEXT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX refresh_families_user_id ON refresh_families (user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    -- SHA-256 of the opaque token, hex: the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    spent_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
