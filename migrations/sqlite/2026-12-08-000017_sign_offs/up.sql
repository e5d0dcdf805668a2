-- Signed-off reporting periods ("chốt số liệu"): the figures an area's head or official
-- sent up for a month, frozen as they were read at signing, kept forever. A reopened
-- sign-off stays (with who reopened it, when and why); signing again makes a new row.
CREATE TABLE sign_offs (
  id TEXT PRIMARY KEY NOT NULL,
  area_id TEXT NOT NULL REFERENCES areas (id),
  area_path TEXT NOT NULL,
  -- The month signed for, `YYYY-MM`, and its last day (the day the figures are read on).
  period TEXT NOT NULL,
  period_end DATE NOT NULL,
  due_on DATE NOT NULL,
  -- The frozen figures (JSON): the area and each area directly below it on period_end.
  figures TEXT NOT NULL,
  note TEXT,
  signed_by TEXT NOT NULL REFERENCES users (id),
  signed_at TIMESTAMP NOT NULL,
  signed_on DATE NOT NULL,
  reopened_by TEXT REFERENCES users (id),
  reopened_at TIMESTAMP,
  reopen_reason TEXT
);
-- One standing sign-off per area and month; reopened ones are history.
CREATE UNIQUE INDEX sign_offs_standing ON sign_offs (area_id, period) WHERE reopened_at IS NULL;
CREATE INDEX sign_offs_by_area ON sign_offs (area_id, id);
