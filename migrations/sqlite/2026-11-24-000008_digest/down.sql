DROP TABLE digest_deliveries;
ALTER TABLE users DROP COLUMN digest_subscribed;
