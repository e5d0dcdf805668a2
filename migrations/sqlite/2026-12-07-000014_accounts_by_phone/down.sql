-- Back to e-mail only: an account known only by its phone gets a placeholder address that
-- cannot receive mail (nothing is deleted, so nothing that refers to it breaks).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_old (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'official', 'head', 'volunteer')),
    area_id TEXT REFERENCES areas (id),
    password_hash TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    digest_subscribed BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (area_id IS NOT NULL OR role = 'admin')
);
INSERT INTO users_old (id, email, name, role, area_id, password_hash, language, active,
                       version, created_at, updated_at, digest_subscribed)
SELECT id, COALESCE(email, phone || '@phone.invalid'), name, role, area_id, password_hash,
       language, active, version, created_at, updated_at, digest_subscribed
  FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE INDEX users_area_id ON users (area_id);
COMMIT;
PRAGMA foreign_keys = ON;
