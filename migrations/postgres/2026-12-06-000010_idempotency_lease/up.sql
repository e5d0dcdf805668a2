-- An Idempotency-Key's "in progress" mark is a lease held by one server node: renewed
-- while the request runs, free once it lapses, and released at once when the node that
-- held it starts again after a crash. A resend is never refused for longer than the first
-- request actually runs.
ALTER TABLE idempotency_keys ADD COLUMN lease_until TIMESTAMP;
-- The node ("host bind-address") whose request holds the lease.
ALTER TABLE idempotency_keys ADD COLUMN holder TEXT;
