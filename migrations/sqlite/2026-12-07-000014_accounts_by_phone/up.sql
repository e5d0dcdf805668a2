-- Volunteers without e-mail: an account is found by its e-mail or by its phone number
-- (normalised to digits, Vietnamese national form 0xxxxxxxxx), at least one of them.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
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
    digest_subscribed BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (area_id IS NOT NULL OR role = 'admin'),
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
INSERT INTO users_new (id, email, phone, name, role, area_id, password_hash, language, active,
                       version, created_at, updated_at, digest_subscribed)
SELECT id, email, NULL, name, role, area_id, password_hash, language, active,
       version, created_at, updated_at, digest_subscribed
  FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_area_id ON users (area_id);
COMMIT;
PRAGMA foreign_keys = ON;
