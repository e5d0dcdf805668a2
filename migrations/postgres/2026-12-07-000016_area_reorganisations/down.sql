DROP TABLE household_locations;
DROP TABLE area_changes;
DROP TABLE reorganisations;
ALTER TABLE areas DROP COLUMN succeeded_by;
ALTER TABLE areas DROP COLUMN ended_on;
