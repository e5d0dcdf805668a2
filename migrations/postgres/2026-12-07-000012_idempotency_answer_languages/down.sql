ALTER TABLE idempotency_keys DROP COLUMN localized_body;
