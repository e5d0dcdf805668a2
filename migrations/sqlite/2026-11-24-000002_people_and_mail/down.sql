DROP TABLE throttle_counters;
DROP TABLE password_resets;
DROP TABLE invitations;
DROP TABLE mail_outbox;
DROP TRIGGER audit_log_is_append_only_delete;
DROP TRIGGER audit_log_is_append_only_update;
DROP TABLE audit_log;
