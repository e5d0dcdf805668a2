-- The map moves: wards and neighbourhoods are merged, split, renamed, moved and dissolved
-- by dated reorganisations. An area that stopped existing keeps its row (its figures stay
-- readable for the days it existed) with the day it ended.
ALTER TABLE areas ADD COLUMN ended_on DATE;
-- The area its households and users went to when it ended (merge; dissolve: the parent).
ALTER TABLE areas ADD COLUMN succeeded_by TEXT;

CREATE TABLE reorganisations (
  id TEXT PRIMARY KEY NOT NULL,
  effective_on DATE NOT NULL,
  -- scheduled | applied | cancelled | failed
  status TEXT NOT NULL,
  title TEXT NOT NULL,
  -- The nearest area above everything the plan names: who may see it.
  area_path TEXT NOT NULL,
  -- The steps as submitted (JSON), and what applying them did (JSON).
  plan TEXT NOT NULL,
  summary TEXT,
  failure TEXT,
  created_by TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  applied_at TIMESTAMP,
  cancelled_at TIMESTAMP,
  cancelled_by TEXT,
  cancel_reason TEXT,
  version INTEGER NOT NULL
);
CREATE INDEX reorganisations_by_status ON reorganisations (status, effective_on);

-- What happened to an area, and when: formed, merged into, split into, renamed, moved,
-- dissolved. `other_area_id` is the area on the other side (successor or predecessor).
CREATE TABLE area_changes (
  id TEXT PRIMARY KEY NOT NULL,
  reorganisation_id TEXT NOT NULL REFERENCES reorganisations (id),
  area_id TEXT NOT NULL REFERENCES areas (id),
  change TEXT NOT NULL,
  other_area_id TEXT REFERENCES areas (id),
  old_name TEXT,
  new_name TEXT,
  old_parent_id TEXT,
  new_parent_id TEXT,
  effective_on DATE NOT NULL
);
CREATE INDEX area_changes_by_area ON area_changes (area_id, effective_on);
CREATE INDEX area_changes_by_reorganisation ON area_changes (reorganisation_id);

-- Where a household was before a reorganisation re-homed it: its area path on the days
-- [from_on, until_on). An area that ended is counted from these rows for the days it
-- existed; a live area counts its current households over all days.
CREATE TABLE household_locations (
  household_id TEXT NOT NULL,
  area_path TEXT NOT NULL,
  from_on DATE NOT NULL,
  until_on DATE NOT NULL,
  reorganisation_id TEXT NOT NULL REFERENCES reorganisations (id),
  PRIMARY KEY (household_id, until_on)
);
