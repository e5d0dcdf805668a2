-- Idempotency keys: a creating POST sent again with the same `Idempotency-Key` (a phone
-- that lost the answer) gets the stored answer instead of creating twice. Kept in the
-- database so every API node sees them.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request is refused.
    request_hash TEXT NOT NULL,
    -- NULL while the first request is still being answered.
    status INTEGER,
    content_type TEXT,
    response_body TEXT,
    -- JSON object of the headers worth replaying (Location, ETag).
    response_headers TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
