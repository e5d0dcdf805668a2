DROP TABLE throttle_counters;
DROP TABLE password_resets;
DROP TABLE invitations;
DROP TABLE mail_outbox;
DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
