DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
DROP TABLE volunteer_assignments;
DROP TABLE users;
DROP TABLE areas;
