-- People and mail: the audit log, the mail outbox, invitation and password-reset tokens,
-- and the counters that throttle password guessing.

-- Append-only: rows are never updated or deleted (enforced by the triggers below).
-- No foreign keys, so the trail outlives the rows it describes.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    area_id TEXT,
    client_ip TEXT,
    -- A small JSON object of what changed; never passwords, tokens or citizen IDs.
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_area_id ON audit_log (area_id);
CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

-- Messages are written here in the transaction of the action that causes them and
-- delivered by the background sender; nothing is lost when SMTP is down.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- Emptied once delivered: bodies may carry single-use links.
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A sender claims a message until this time, so two nodes never send it twice at once.
    claimed_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- SHA-256 of the single-use token, hex.
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    replaced_at TIMESTAMP
);
CREATE INDEX invitations_user_id ON invitations (user_id);

CREATE TABLE password_resets (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user_id ON password_resets (user_id);

-- Failed attempts per key ('login-account:<e-mail>', 'login-ip:<ip>', …) in a window.
CREATE TABLE throttle_counters (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
