-- Counter changes are appended, never updated in place by writers: each write
-- transaction inserts its deltas per neighbourhood, measure and day here (one multi-row
-- insert). A background fold moves them into `adoption_deltas` — the neighbourhood's
-- buckets and those of every area above — and deletes them, in one transaction. A figure
-- is its area's folded buckets plus the rows here under its path, read in one statement.
-- (SQLite has one writer anyway; the sync clock stays as it is, since its stamps are
-- handed out in commit order by construction. The design is the PostgreSQL one.)
CREATE TABLE adoption_delta_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    area_path TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('adults', 'eid', 'signature', 'households', 'fibre')),
    day DATE NOT NULL,
    delta BIGINT NOT NULL
);
CREATE INDEX adoption_delta_log_area ON adoption_delta_log (area_path, day);

CREATE TABLE adoption_fold_state (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO adoption_fold_state (id, generation) VALUES (1, 0);
